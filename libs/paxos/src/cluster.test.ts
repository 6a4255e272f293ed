// Replica groups in this process over real UDP sockets on loopback, with seeded fault injection
// around every socket: concurrent key-value clients, the leader stopped and restarted empty, the
// history checked for linearizability (including final reads: no acknowledged write lost).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { HistoryRecorder } from '@netaccel/linearizability';
import { paxos } from '@netaccel/protocol';
import { TestCluster } from './testing/cluster.js';
import type { ClusterOptions } from './testing/cluster.js';
import { checkClusterEnd } from './testing/end-check.js';
import { runKvClient } from './testing/workload.js';

const KEYS = ['k0', 'k1', 'k2', 'k3'];

async function cluster(t: { onTestFinished(fn: () => unknown): void }, opts: ClusterOptions): Promise<TestCluster> {
  const c = await TestCluster.start(opts);
  t.onTestFinished(() => c.close());
  return c;
}

test('3 replicas, 4 concurrent clients: every operation completes and the history is linearizable', async (t) => {
  const c = await cluster(t, { n: 3, seed: 1 });
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2, 3].map(() => c.client()));
  const results = await Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 60, seed: 100 + i })));
  assert.deepEqual(results.map((r) => r.ok), [60, 60, 60, 60]);
  await checkClusterEnd(c, rec, KEYS);
  const leader = c.member(0).replica.counters();
  assert.equal(leader.requests_executed, 4 * 60 + KEYS.length);
  assert.ok(leader.ops_committed < leader.requests_executed, 'concurrent requests were batched into fewer entries');
});

test('5 replicas under loss, duplication, reordering and delay; leader stopped, view change, leader restarted empty and recovered', async (t) => {
  const c = await cluster(t, { n: 5, seed: 7, faults: { drop: 0.05, duplicate: 0.05, reorder: 0.1, delayMs: [0, 2] } });
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2, 3].map(() => c.client()));
  let phase = 0;
  // Operations each client has started (`until` is asked before each one, one at a time).
  const started = clients.map(() => 0);
  const until = (i: number) => (): boolean => ((started[i] = started[i]! + 1), phase === 3);
  const run = Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 1000, seed: 200 + i, until: until(i) })));
  await c.waitFor('some progress in view 0', () => c.member(0).replica.snapshot().commit >= 20n);
  await c.stop(0);
  phase = 1;
  await c.waitFor('a new leader', () => (c.leader() ?? 0) !== 0, 10_000);
  const newLeader = c.leader()!;
  const committed = c.member(newLeader).replica.snapshot().commit;
  await c.waitFor('progress in the new view', () => c.member(newLeader).replica.snapshot().commit >= committed + 20n);
  await c.restart(0);
  phase = 2;
  await c.waitFor('the old leader recovered', () => c.member(0).replica.snapshot().status === 'normal', 10_000);
  const recovered = c.member(0).replica.snapshot();
  await c.waitFor('the recovered replica executing new operations', () => c.member(0).replica.snapshot().executed > recovered.executed + 10n);
  // Every client is live after the failover and the recovery: each completes 5 more operations
  // (a client whose re-sends backed off while the leader was down may be a second behind the others).
  const atRecovery = [...started];
  await c.waitFor('every client completing operations after the recovery', () => started.every((n, i) => n - atRecovery[i]! > 5), 10_000);
  phase = 3;
  const results = await run;
  assert.ok(results.every((r) => r.ok > 5), JSON.stringify(results.map((r) => [r.ok, r.unknown])));
  await checkClusterEnd(c, rec, KEYS);
  assert.equal(c.member(0).replica.counters().recoveries_completed, 1);
  assert.ok(c.member(newLeader).replica.counters().views_started >= 1);
  const faults = c.members.map((m) => m!.faults.stats);
  assert.ok(faults.reduce((s, f) => s + f.dropped, 0) > 0 && faults.reduce((s, f) => s + f.duplicated, 0) > 0 && faults.reduce((s, f) => s + f.reordered, 0) > 0);
});

test('the next leader lags (its PREPAREs and state transfers lost) when the leader stops: the new view takes the longest log of the others', async (t) => {
  const c = await cluster(t, { n: 5, seed: 11 });
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1, 2].map(() => c.client()));
  let stop = false;
  const run = Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 1000, seed: 400 + i, until: () => stop })));
  await c.waitFor('some progress', () => c.member(0).replica.snapshot().commit >= 10n);
  // Replica 1 still hears the heartbeats (no view change), but no entries.
  const toOne = c.peers[1]!;
  const lossy = (data: Buffer, to: { port: number }): boolean => to.port === toOne.port && (data[5] === paxos.PaxosType.Prepare || data[5] === paxos.PaxosType.NewState);
  c.member(0).faults.setFaults({ dropIf: lossy });
  await c.waitFor('replica 1 to lag', () => c.member(0).replica.snapshot().commit >= c.member(1).replica.snapshot().lastOp + 20n);
  await c.stop(0);
  const lagging = c.member(1).replica.snapshot().lastOp;
  // Replica 1 leads view 1 (unless that view change is slow and view 2's leader takes over).
  await c.waitFor('a new leader', () => (c.leader() ?? 0) !== 0, 10_000);
  const leader = c.leader()!;
  await c.waitFor('progress in the new view', () => c.member(leader).replica.snapshot().commit >= lagging + 40n);
  stop = true;
  await run;
  await checkClusterEnd(c, rec, KEYS);
  if (leader === 1) assert.ok(c.member(1).replica.counters().state_entries_received > 0, 'the new leader fetched the longer log');
});

test('a follower cut off from the group lags, then catches up by state transfer', async (t) => {
  const c = await cluster(t, { n: 3, seed: 3 });
  const kv = await c.client();
  for (const m of c.members) if (m !== c.members[2]) m!.faults.block(c.peers[2]!);
  c.member(2).faults.block(c.peers[0]!);
  c.member(2).faults.block(c.peers[1]!);
  const rec = new HistoryRecorder();
  await runKvClient(kv, 'c0', rec, { keys: KEYS, ops: 40, seed: 5 });
  assert.equal(c.member(2).replica.snapshot().lastOp, 0n);
  for (const m of c.members) for (const p of c.peers) m!.faults.unblock(p);
  await checkClusterEnd(c, rec, KEYS);
  assert.ok(c.member(2).replica.counters().state_entries_received > 0);
});

test('IPv6 on ::1: a group of 3 with a client', async (t) => {
  const c = await cluster(t, { n: 3, host: '::1', seed: 9 });
  const rec = new HistoryRecorder();
  const clients = await Promise.all([0, 1].map(() => c.client()));
  await Promise.all(clients.map((kv, i) => runKvClient(kv, `c${i}`, rec, { keys: KEYS, ops: 30, seed: 300 + i })));
  await checkClusterEnd(c, rec, KEYS);
  assert.equal(c.peers[0]!.address, '::1');
});
