// The commit notice (VR's normal case): the commit number rides on the next PREPARE, a COMMIT
// goes out only after a heartbeat interval without PREPAREs. Counted at the leader: none under
// steady load (heartbeat longer than the run), heartbeats continue when idle (and keep the
// followers from changing views); followers learn every commit either way, with the fast-ack
// offload from the drained entries' commit numbers.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import { encodeKvOp } from './kv.js';
import { TestCluster } from './testing/cluster.js';
import { FAKE_OFFLOAD } from './testing/fake-offload.js';
import { CLIENT, single, turn } from './testing/steps-harness.js';
import { runKvClient } from './testing/workload.js';

const { PaxosType } = paxos;
const KEYS = ['a', 'b', 'c', 'd'];

const request = (transport: { deliver(data: Buffer, from: typeof CLIENT): void }, requestId: bigint, key: string): void =>
  transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId: 1n, requestId, payload: encodeKvOp({ kind: 'put', key, value: 'v' }) }), CLIENT);

test('leader step: no COMMIT when the commit advances; the next PREPARE carries the commit number', async (t) => {
  const { from, transport, sent } = await single(0, t); // heartbeat 60 s: no timer sends
  request(transport, 1n, 'a');
  await turn();
  await from(1, { type: PaxosType.PrepareOk, sender: 1, view: 0, op: 1n, flags: 0 }); // commits op 1
  assert.deepEqual(sent().map((s) => s.m.type), [PaxosType.Prepare, PaxosType.Prepare, PaxosType.Reply]);
  request(transport, 2n, 'b');
  await turn();
  const prepares = sent().map((s) => [s.to, s.m.type, (s.m as paxos.PrepareMessage).op, (s.m as paxos.PrepareMessage).commit]);
  assert.deepEqual(prepares, [[1, PaxosType.Prepare, 2n, 1n], [2, PaxosType.Prepare, 2n, 1n]], 'PREPARE of op 2 carries commit 1 to both followers');
  await from(2, { type: PaxosType.PrepareOk, sender: 2, view: 0, op: 2n, flags: 0 });
  assert.deepEqual(sent().map((s) => s.m.type), [PaxosType.Reply]);
});

test('leader step: idle, it sends COMMIT with the last commit number every heartbeat interval', async (t) => {
  const { from, transport, sent } = await single(0, t, { heartbeatMs: 30 });
  request(transport, 1n, 'a');
  await turn();
  await from(1, { type: PaxosType.PrepareOk, sender: 1, view: 0, op: 1n, flags: 0 });
  const commits: Array<{ to: number | 'client'; m: paxos.PaxosMessage }> = [];
  for (let waited = 0; commits.length < 4 && waited < 5000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
    commits.push(...sent().filter((s) => s.m.type === PaxosType.Commit && s.m.commit === 1n));
  }
  assert.deepEqual(commits.slice(0, 4).map((s) => [s.to, s.m]), [1, 2, 1, 2].map((to) => [to, { type: PaxosType.Commit, sender: 0, view: 0, commit: 1n }]));
});

for (const [name, offloads] of [['no offload', undefined], ['all offloads (fast-ack drains)', FAKE_OFFLOAD.all]] as const) {
  test(`steady load, ${name}: no COMMIT while PREPAREs flow; followers learn the commits from the PREPAREs`, async (t) => {
    // A heartbeat far longer than the run: any COMMIT would be a commit notice.
    const c = await TestCluster.start({ n: 3, seed: 31, ...(offloads === undefined ? {} : { offloads }), replica: { heartbeatMs: 30_000, viewChangeTimeoutMs: 60_000 } });
    t.onTestFinished(() => c.close());
    const clients = await Promise.all(Array.from({ length: 8 }, () => c.client()));
    await clients[0]!.put('warm', 'up');
    const leader = c.member(0).replica;
    const before = leader.counters();
    const results = await Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, null, { keys: KEYS, ops: 40, seed: 700 + i })));
    assert.deepEqual(results.map((r) => r.ok), new Array<number>(8).fill(40));
    // Every operation so far is committed; one more request's PREPARE carries that commit number.
    const committed = leader.snapshot().commit;
    await clients[0]!.put('last', 'one');
    await c.waitFor('the followers to learn the commit carried by the last PREPARE', () => [1, 2].every((i) => c.member(i).replica.snapshot().executed >= committed));
    const after = leader.counters();
    assert.ok(after.prepares_sent - before.prepares_sent >= 10, JSON.stringify(after));
    assert.equal(after.commits_sent - before.commits_sent, 0, 'no COMMIT under steady load');
    if (offloads !== undefined) {
      // The followers' user space saw (almost) no PREPARE: the commit numbers came with the drained entries.
      for (const i of [1, 2]) assert.ok(c.member(i).replica.counters().drained_entries > 0, JSON.stringify(c.member(i).replica.counters()));
    }
  });
}

test('idle leader: COMMIT heartbeats continue, followers learn the last commit and start no view change', async (t) => {
  const c = await TestCluster.start({ n: 3, seed: 32, offloads: FAKE_OFFLOAD.all }); // heartbeat 20 ms, view change after 250 ms
  t.onTestFinished(() => c.close());
  const clients = await Promise.all([0, 1, 2].map(() => c.client()));
  await Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, null, { keys: KEYS, ops: 20, seed: 800 + i })));
  const leader = c.member(0).replica;
  const top = leader.snapshot().commit;
  const sent = leader.counters().commits_sent;
  // 20 heartbeats take at least 400 ms: longer than the view change timeout.
  await c.waitFor('20 heartbeats', () => leader.counters().commits_sent >= sent + 20);
  await c.waitFor('the followers to execute the last commit', () => [1, 2].every((i) => c.member(i).replica.snapshot().executed === top));
  for (const i of [0, 1, 2]) {
    const s = c.member(i).replica.snapshot();
    assert.equal(s.view, 0);
    assert.equal(s.status, 'normal');
    assert.equal(c.member(i).replica.counters().view_changes_started, 0);
  }
  assert.deepEqual(c.failures, []);
});
