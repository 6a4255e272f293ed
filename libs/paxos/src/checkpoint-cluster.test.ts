// Checkpoints in groups over real UDP on loopback: an idle configuration group with leases runs
// long enough to truncate many times and its log stays bounded (and a member restarted empty
// recovers from a checkpoint, its watcher told the value set long before); a KV replica killed,
// the others' logs truncated past it, restarted empty: it recovers from a multi-chunk checkpoint
// under loss and reordering, the history stays linearizable; the next leader lags behind the
// others' checkpoint when the leader stops: the view change hands it the checkpoint.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { HistoryRecorder } from '@netaccel/linearizability';
import { paxos } from '@netaccel/protocol';
import { ReplicatedConfig } from './config-store.js';
import { TEST_TIMING, TestCluster } from './testing/cluster.js';
import { checkClusterEnd } from './testing/end-check.js';
import { runKvClient } from './testing/workload.js';
import { udpTransport } from './transport.js';

const KEYS = ['k0', 'k1', 'k2', 'k3'];
const CHECKPOINTS = { checkpointEvery: 32, logRetain: 8 } as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('an idle configuration group with leases truncates its log again and again: the log stays bounded; a member restarted empty recovers from a checkpoint', async (t) => {
  const sockets = await Promise.all([0, 1, 2].map(() => udpTransport({ address: '127.0.0.1', port: 0 })));
  const replicas = sockets.map((s) => s.local);
  const replica = { ...TEST_TIMING, leaseMs: 40, ...CHECKPOINTS }; // a renewal (one log entry) every 10 ms
  const members = await Promise.all(sockets.map((transport, self) => ReplicatedConfig.start({ replicas, self, transport, replica, timeoutMs: 4000, retryMs: 50 })));
  t.onTestFinished(async () => {
    for (const m of members) await m.close();
  });
  await members[0]!.update('chain', () => 'n1,n2,n3');
  const bound = CHECKPOINTS.logRetain + CHECKPOINTS.checkpointEvery + 16;
  let longest = 0;
  await until('six checkpoints at every member', () => {
    for (const m of members) longest = Math.max(longest, m.replica.logStats().entries);
    return members.every((m) => m.replica.counters().checkpoints_taken >= 6);
  }, 20_000);
  for (const m of members) {
    const s = m.replica.logStats();
    assert.ok(s.lastOp >= 6n * 32n && s.firstOp > s.lastOp - BigInt(bound), JSON.stringify(s, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    assert.ok(m.replica.counters().log_entries_truncated >= 5 * 32);
  }
  assert.ok(longest <= bound, `the longest log seen, ${longest} entries, within ${bound}`);

  // Member 2 restarted without state: 'chain' was set below every log, it comes with the checkpoint.
  const leader = members.findIndex((m) => m.replica.snapshot().isLeader);
  const victim = leader === 2 ? 1 : 2;
  await members[victim]!.close();
  const transport = await udpTransport(replicas[victim]!);
  const back = await ReplicatedConfig.start({ replicas, self: victim, transport, start: 'recover', replica, timeoutMs: 4000, retryMs: 50 });
  members[victim] = back;
  const seen: string[] = [];
  back.watch('chain', (now) => seen.push(`${now.version}:${now.value}`));
  await until('the restarted member recovered', () => back.replica.snapshot().status === 'normal' && back.replica.snapshot().executed > 32n);
  assert.equal(back.replica.counters().checkpoints_installed, 1);
  assert.deepEqual(seen, ['1:n1,n2,n3']);
  assert.deepEqual(back.local('chain'), { version: 1, value: 'n1,n2,n3' });
  await members[leader]!.update('chain', (cur) => `${cur?.value ?? ''},n4`);
  await until('the restarted member executed version 2', () => back.local('chain')?.version === 2);
});

test('a replica killed while the others truncate past it recovers from a multi-chunk checkpoint under loss and reordering; the history stays linearizable', async (t) => {
  const c = await TestCluster.start({ n: 3, seed: 21, faults: { drop: 0.03, duplicate: 0.03, reorder: 0.1, delayMs: [0, 2] }, replica: CHECKPOINTS });
  t.onTestFinished(() => c.close());
  // ~30 KB of state: a checkpoint of ~23 chunks, three windows.
  const bulk = await c.client();
  for (let i = 0; i < 30; i++) await bulk.put(`bulk${i}`, String(i).repeat(1000 / String(i).length));
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2].map(() => c.client()));
  let stop = false;
  const run = Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 5000, seed: 600 + i, until: () => stop })));
  await c.waitFor('some progress', () => c.member(0).replica.snapshot().commit >= 40n);
  await c.stop(2);
  const at = c.member(0).replica.snapshot().lastOp;
  await c.waitFor('the others truncated past the stopped replica', () => [0, 1].every((i) => c.member(i).replica.logStats().firstOp > at + 1n), 20_000);
  await c.restart(2);
  await c.waitFor('the restarted replica recovered', () => c.member(2).replica.snapshot().status === 'normal', 10_000);
  const recovered = c.member(2).replica.snapshot();
  await c.waitFor('it executes new operations', () => c.member(2).replica.snapshot().executed > recovered.executed + 10n);
  stop = true;
  const results = await run;
  assert.ok(results.every((r) => r.ok > 10), JSON.stringify(results.map((r) => [r.ok, r.unknown])));
  await checkClusterEnd(c, rec, KEYS);
  const r2 = c.member(2).replica.counters();
  assert.equal(r2.recoveries_completed, 1);
  assert.ok(r2.checkpoints_installed >= 1 && r2.checkpoint_chunks_received >= 23, JSON.stringify(r2));
  assert.equal(c.member(2).kv.peek('bulk29'), '29'.repeat(500));
  const faults = c.members.map((m) => m!.faults.stats);
  assert.ok(faults.reduce((s, f) => s + f.dropped, 0) > 0 && faults.reduce((s, f) => s + f.reordered, 0) > 0);
});

test('view change: the next leader lags behind the others\' checkpoint when the leader stops; it takes the checkpoint with the best log', async (t) => {
  const c = await TestCluster.start({ n: 3, seed: 23, replica: CHECKPOINTS });
  t.onTestFinished(() => c.close());
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1].map(() => c.client()));
  let stop = false;
  const run = Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 5000, seed: 700 + i, until: () => stop })));
  await c.waitFor('some progress', () => c.member(0).replica.snapshot().commit >= 10n);
  // Replica 1 (view 1's leader) hears the heartbeats, but no entries and no state.
  const toOne = c.peers[1]!;
  const starve = new Set<number>([paxos.PaxosType.Prepare, paxos.PaxosType.NewState, paxos.PaxosType.Checkpoint]);
  c.member(0).faults.setFaults({ dropIf: (data, to) => to.port === toOne.port && starve.has(data[5]!) });
  await c.waitFor('replica 2 truncated past replica 1', () => c.member(2).replica.logStats().firstOp > c.member(1).replica.snapshot().lastOp + 1n, 20_000);
  const lagging = c.member(1).replica.snapshot();
  await c.stop(0);
  await c.waitFor('a new leader', () => (c.leader() ?? 0) !== 0, 10_000);
  const leader = c.leader()!;
  await c.waitFor('progress in the new view', () => c.member(leader).replica.snapshot().commit >= lagging.lastOp + 80n, 10_000);
  stop = true;
  await run;
  await checkClusterEnd(c, rec, KEYS);
  assert.equal(leader, 1, 'view 1 completed: its leader was the lagging replica');
  assert.ok(c.member(1).replica.counters().checkpoints_installed >= 1);
  assert.ok(c.member(1).replica.logStats().firstOp > lagging.lastOp + 1n);
});
