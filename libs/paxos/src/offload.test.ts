// The offload integration points end to end: a FakeOffload that follows the contract of
// /work/helpers/paxos-wire.md (fast-ack ring, quorum bitset, broadcast clones) between every
// replica and its real UDP socket; offloads switched mid-run; the leader stopped.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { HistoryRecorder } from '@netaccel/linearizability';
import { TestCluster } from './testing/cluster.js';
import { FAKE_OFFLOAD } from './testing/fake-offload.js';
import { checkClusterEnd } from './testing/end-check.js';
import { runKvClient } from './testing/workload.js';

const KEYS = ['a', 'b', 'c'];

test('all three offloads on, switched off and on mid-run, with loss and reordering, then the leader stopped', async (t) => {
  const c = await TestCluster.start({ n: 3, seed: 21, offloads: FAKE_OFFLOAD.all, faults: { drop: 0.02, reorder: 0.05 } });
  t.onTestFinished(() => c.close());
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2].map(() => c.client()));
  let stop = false;
  const run = Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 2000, seed: 500 + i, until: () => stop })));
  const commitOf = (i: number): bigint => c.member(i).replica.snapshot().commit;
  await c.waitFor('progress with all offloads', () => commitOf(0) >= 40n);
  const set = (bits: number): void => c.members.forEach((m) => m && (m.offload!.offloads = bits));
  set(0);
  let at = commitOf(0);
  await c.waitFor('progress with none', () => commitOf(0) >= at + 30n);
  set(FAKE_OFFLOAD.fastAck);
  at = commitOf(0);
  await c.waitFor('progress with fast-ack alone', () => commitOf(0) >= at + 30n);
  set(FAKE_OFFLOAD.all);
  at = commitOf(0);
  await c.waitFor('progress with all again', () => commitOf(0) >= at + 30n);
  const before = { ...c.member(0).offload!.stats };
  const followerCounters = c.member(1).replica.counters();
  await c.stop(0);
  await c.waitFor('a new leader', () => c.leader() === 1, 10_000);
  at = commitOf(1);
  await c.waitFor('progress in the new view with the offloads', () => commitOf(1) >= at + 30n);
  stop = true;
  await run;
  await checkClusterEnd(c, rec, KEYS);
  assert.ok(before.clones > 0 && before.quorumPassed > 0 && before.quorumDropped >= 0, JSON.stringify(before));
  assert.ok(c.member(2).offload!.stats.fastAcks > 0);
  assert.ok(followerCounters.drained_entries > 0, JSON.stringify(followerCounters));
  assert.ok(c.member(1).replica.counters().prepare_oks_quorum > 0);
});

test('a small ring fills: the fast-ack falls back to user space and nothing is lost', async (t) => {
  const c = await TestCluster.start({ n: 3, seed: 22, offloads: FAKE_OFFLOAD.fastAck, ringSize: 1, replica: { drainIntervalMs: 50, maxBatch: 1 } });
  t.onTestFinished(() => c.close());
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2, 3, 4, 5].map(() => c.client()));
  await Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 40, seed: 600 + i })));
  await checkClusterEnd(c, rec, KEYS);
  const stats = [1, 2].map((i) => c.member(i).offload!.stats);
  assert.ok(stats.some((s) => s.ringFull > 0), JSON.stringify(stats));
  assert.ok(stats.some((s) => s.fastAcks > 0), JSON.stringify(stats));
});
