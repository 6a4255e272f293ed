// Seeded chaos on a group of 5 over real UDP: loss, duplication, reordering and delay all along,
// and a sequence of failures — replicas stopped and restarted empty (at most two down at once,
// the leader often among them), a replica cut off and healed — while clients keep writing. The
// history must stay linearizable and every replica must end with the same store. Once without
// offloads, once with the fake offloads, once with them and checkpoints every 16 ops.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { HistoryRecorder, checkHistory } from '@netaccel/linearizability';
import { seededRandom } from '@netaccel/protocol';
import { TestCluster } from './testing/cluster.js';
import { FAKE_OFFLOAD } from './testing/fake-offload.js';
import { runKvClient } from './testing/workload.js';

const KEYS = ['x', 'y', 'z'];
const SEED = Number(process.env.PAXOS_CHAOS_SEED ?? 31);

// The third run checkpoints every 16 ops and keeps 4 entries below: restarted and cut-off
// replicas come back through checkpoints (state transfer, recovery, view changes).
const CHECKPOINTS = { checkpointEvery: 16, logRetain: 4 } as const;
const RUNS = [
  ['without offloads', undefined, SEED, undefined],
  ['with the three offloads (fake)', FAKE_OFFLOAD.all, SEED + 1000, undefined],
  ['with the three offloads (fake) and a checkpoint every 16 ops', FAKE_OFFLOAD.all, SEED + 2000, CHECKPOINTS],
] as const;

for (const [name, offloads, seed, replica] of RUNS) test(`chaos ${name}: 6 failures on a group of 5 under faults, the history linearizable (seed ${seed})`, async (t) => {
  const c = await TestCluster.start({ n: 5, seed, faults: { drop: 0.03, duplicate: 0.03, reorder: 0.05, delayMs: [0, 1] }, ...(offloads === undefined ? {} : { offloads }), ...(replica === undefined ? {} : { replica }) });
  t.onTestFinished(() => c.close());
  const rand = seededRandom(seed);
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2].map(() => c.client({ timeoutMs: 3000 })));
  let stop = false;
  const run = Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 100_000, seed: seed * 10 + i, until: () => stop })));
  const progress = async (what: string): Promise<void> => {
    await c.waitFor(`${what}: a leader`, () => c.leader() !== undefined, 15_000);
    const l = c.leader()!;
    const at = c.member(l).replica.snapshot().commit;
    await c.waitFor(`${what}: progress`, () => c.leader() !== undefined && c.member(c.leader()!).replica.snapshot().commit >= at + 15n, 15_000);
  };
  await progress('start');
  for (let round = 0; round < 6; round++) {
    const leader = c.leader()!;
    const kind = rand();
    if (kind < 0.5) {
      // The leader and maybe one more stopped, then restarted empty.
      const victims = [leader];
      if (rand() < 0.5) victims.push((leader + 1 + Math.floor(rand() * 4)) % 5);
      for (const v of victims) await c.stop(v);
      await progress(`round ${round}: ${victims.join(',')} stopped`);
      for (const v of victims) await c.restart(v);
      await c.waitFor(`round ${round}: recovered`, () => victims.every((v) => c.member(v).replica.snapshot().status !== 'recovering'), 15_000);
    } else {
      // One replica (the leader half of the time) cut off from everyone, then healed.
      const v = rand() < 0.5 ? leader : Math.floor(rand() * 5);
      for (let i = 0; i < 5; i++) {
        if (i === v) continue;
        c.member(i).faults.block(c.peers[v]!);
        c.member(v).faults.block(c.peers[i]!);
      }
      await progress(`round ${round}: ${v} cut off`);
      for (let i = 0; i < 5; i++) for (const p of c.peers) c.member(i).faults.unblock(p);
    }
    await progress(`round ${round}: after`);
  }
  stop = true;
  const results = await run;
  const reader = await c.client({ timeoutMs: 8000 });
  for (const key of KEYS) {
    const p = rec.begin({ kind: 'read', key });
    rec.ok(p, await reader.get(key));
  }
  await c.waitFor('the group to converge', () => c.converged(), 15_000);
  const result = checkHistory(rec.history());
  assert.equal(result.outcome, 'linearizable', result.counterexample?.explanation);
  assert.deepEqual(c.failures, [], 'no replica step threw');
  const stores = c.members.map((m) => JSON.stringify(m!.kv.entries()));
  assert.equal(new Set(stores).size, 1, stores.join('\n'));
  assert.ok(results.reduce((s, r) => s + r.ok, 0) > 100, JSON.stringify(results.map((r) => [r.ok, r.unknown])));
  if (replica !== undefined) {
    // Every replica holds a checkpoint (taken, or installed when it came back) and a bounded log.
    for (const m of c.members) {
      const s = m!.replica.logStats();
      const executed = m!.replica.snapshot().executed;
      assert.ok(s.checkpointOp > 0n && s.entries <= replica.logRetain + replica.checkpointEvery + Number(s.lastOp - executed), JSON.stringify(s, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
    assert.ok(c.members.some((m) => m!.replica.counters().checkpoints_installed > 0), 'a replica came back through a checkpoint');
  }
});
