// The bounded client table in a group of 3 over UDP on loopback, with churning clients (each a
// new random id, as every bench/lab client and craq-scheduler restart): every replica keeps the
// same rows (compared row by row, also one restarted empty and recovered from a checkpoint), checkpoints carry the bounded table (identical bytes on
// every replica), a client that keeps sending keeps its row, and an evicted client's next
// request fails with NA_ERR_PAXOS_SESSION_EXPIRED without executing, then works as a new session.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeCheckpoint } from './snapshot.js';
import { TestCluster } from './testing/cluster.js';

const MAX_CLIENTS = 6;

test('3 replicas, 30 churning clients: identical bounded tables and checkpoints; a live client keeps its row; an evicted one gets SESSION_EXPIRED', async (t) => {
  const c = await TestCluster.start({ n: 3, seed: 15, replica: { maxClients: MAX_CLIENTS, clientRetainOps: 40, checkpointEvery: 16, logRetain: 4 } });
  t.onTestFinished(() => c.close());
  const live = await c.client();
  const evicted = await c.client();
  await evicted.put('a', '1');
  await evicted.put('a', '2');
  const evictedId = evicted.client.clientId;
  for (let i = 0; i < 30; i++) {
    const churn = await c.client();
    await churn.put(`c${i}`, String(i));
    await churn.close();
    await live.put('live', String(i)); // never refused: it sends after every newcomer
  }
  await c.waitFor('convergence', () => c.converged());
  const tables = c.members.map((m) => m!.replica.clientTable().map(([id, r]) => [id, r.requestId, r.op, r.status]));
  assert.equal(tables[0]!.length, MAX_CLIENTS);
  assert.deepEqual(tables[1], tables[0], 'replica 1 evicted the same clients at the same ops');
  assert.deepEqual(tables[2], tables[0], 'replica 2 too');
  const ids = tables[0]!.map(([id]) => id);
  assert.ok(ids.includes(live.client.clientId), 'the live client kept its row');
  assert.ok(!ids.includes(evictedId), 'the idle client was evicted');
  const evictions = c.members.map((m) => m!.replica.counters().clients_evicted);
  assert.ok(evictions[0]! >= 30 - MAX_CLIENTS + 2, `evictions ${evictions.join(',')}`);
  assert.deepEqual(evictions, [evictions[0], evictions[0], evictions[0]]);

  // Checkpoints (every 16 ops, > 60 ops so far): the bounded table, the same bytes everywhere.
  const cps = c.members.map((m) => m!.replica.latestCheckpoint()!);
  assert.ok(cps[0]!.op >= 48n);
  for (const cp of cps) {
    assert.equal(cp.op, cps[0]!.op);
    assert.deepEqual(cp.bytes, cps[0]!.bytes);
  }
  const image = decodeCheckpoint(cps[0]!.bytes);
  assert.ok(image.clients.length <= MAX_CLIENTS);
  assert.ok(image.clients.every(([, r]) => r.op <= image.op));

  // Replica 2 restarted empty while the others went on past two more checkpoints: it recovers
  // from a checkpoint (its table restored in (op, client id) order) and then evicts as they do.
  await c.stop(2);
  for (let i = 30; i < 50; i++) {
    const churn = await c.client();
    await churn.put(`c${i}`, String(i));
    await churn.close();
    await live.put('live', String(i));
  }
  await c.restart(2);
  await c.waitFor('convergence after recovery', () => c.converged());
  assert.ok(c.member(2).replica.counters().checkpoints_installed >= 1, 'recovered from a checkpoint');
  const after = c.members.map((m) => m!.replica.clientTable().map(([id, r]) => [id, r.requestId, r.op, r.status]));
  assert.deepEqual(after[2], after[0]);
  assert.deepEqual(after[1], after[0]);

  // The evicted client's next request (its third: it claims the two before) is refused, not executed.
  await assert.rejects(evicted.put('a', '3'), (err: unknown) => (err as { code?: string }).code === 'NA_ERR_PAXOS_SESSION_EXPIRED');
  assert.notEqual(evicted.client.clientId, evictedId, 'a new session under a new client id');
  assert.equal(await live.get('a'), '2');
  await evicted.put('a', '4');
  assert.equal(await live.get('a'), '4');
  await c.waitFor('convergence', () => c.converged());
  for (const m of c.members.slice(0, 2)) assert.equal(m!.replica.counters().requests_session_expired, 1);
  const final = c.members.map((m) => m!.replica.clientTable().map(([id, r]) => [id, r.requestId, r.op, r.status]));
  assert.deepEqual(final[1], final[0]);
  assert.deepEqual(final[2], final[0]);
  assert.equal(c.failures.length, 0);
});
