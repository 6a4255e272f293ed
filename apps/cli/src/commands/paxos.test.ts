/**
 * `netaccel paxos status` against the Paxos service of real replicas: a group of three over UDP on
 * 127.0.0.1 (@netaccel/paxos/testing's TestCluster) with its FakeOffload — the user-space model of
 * the Electrode programs, counting its fast acks, clones and filtered PrepareOKs — standing in for
 * the kernel maps (the BPF counters themselves are read by ElectrodeOffload.counters(), covered in
 * bpf/electrode), each replica's status served on its own socket as the lab's runner does.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paxosStatusService, statusSource } from '@netaccel/paxos';
import type { OffloadStatusSource } from '@netaccel/paxos';
import { FAKE_OFFLOAD, TEST_TIMING, TestCluster } from '@netaccel/paxos/testing';
import type { FakeOffload } from '@netaccel/paxos/testing';
import { createRpcServer } from '@netaccel/rpc';
import { runCliCaptured } from '../capture.js';
import { paxosGroup } from './paxos.js';

/** The FakeOffload's counts under el_stats / el_reasons names. */
function counted(fake: FakeOffload): OffloadStatusSource {
  return {
    offloads: () => fake.offloads,
    counters: () => ({
      stats: { BCAST_CLONES: BigInt(fake.stats.clones), FAST_ACKS: BigInt(fake.stats.fastAcks), ACKS_FILTERED: BigInt(fake.stats.quorumDropped), QUORUMS: BigInt(fake.stats.quorumPassed), PASSED: BigInt(fake.stats.passedUp) },
      reasons: new Map([['ELECTRODE_R_RING_FULL', { packets: BigInt(fake.stats.ringFull), bytes: 0n }]]),
    }),
  };
}

test('paxos status | group: leader and follower of a live group, --json envelope, an unreachable socket, the view change after the leader stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pxs-cli-'));
  const cluster = await TestCluster.start({ n: 3, offloads: FAKE_OFFLOAD.all, replica: { ...TEST_TIMING, viewChangeTimeoutMs: 1500 } /* a loaded machine's stall must not change the view the test reads */ });
  const servers = await Promise.all(
    [0, 1].map((i) => {
      const m = cluster.member(i);
      const read = statusSource({ replica: m.replica, service: 'kv', offload: counted(m.offload!), reasons: [{ name: 'ELECTRODE_R_RING_FULL', verdict: 'pass', description: 'the log ring slot of op still holds an undrained entry' }] });
      return createRpcServer({ address: join(dir, `paxos-r${i}.sock`), services: [paxosStatusService(read)] });
    }),
  );
  t.onTestFinished(async () => {
    for (const s of servers) await s.shutdown({ timeoutMs: 500 });
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kv = await cluster.client();
  for (let i = 0; i < 20; i++) await kv.put(`k${i}`, `v${i}`);
  await cluster.waitFor('the followers executed every put', () => [1, 2].every((i) => cluster.member(i).replica.snapshot().executed >= cluster.member(0).replica.snapshot().commit));
  const run = (i: number, ...argv: string[]) => runCliCaptured(['paxos', 'status', '--socket', join(dir, `paxos-r${i}.sock`), ...argv], [paxosGroup]);

  const leader = await run(0);
  assert.equal(leader.code, 0, leader.err);
  assert.match(leader.out, /^replica 0 of 3 \(kv\): view 0, normal, leader, up \d+\.\d s$/m);
  assert.match(leader.out, /^offloads: broadcast on, fast ack on, quorum on \(bits 7\)$/m);
  assert.match(leader.out, /^copies cloned to followers\s+[1-9]\d*$/m);
  assert.match(leader.out, /^prepares_sent\s+[1-9]\d*$/m);

  const follower = await run(1, '--json');
  assert.equal(follower.code, 0, follower.err);
  const doc = JSON.parse(follower.out) as { replica: { self: number; view: number; status: string; leader: number; isLeader: boolean; commit: string; executed: string; replicas: unknown[]; counters: Record<string, number>; offloads: { bits: number; fastAck: boolean; stats: Record<string, number>; reasons: { name: string; verdict: string }[] } } };
  const r = doc.replica;
  assert.deepEqual([r.self, r.view, r.status, r.leader, r.isLeader, r.replicas.length], [1, 0, 'normal', 0, false, 3]);
  assert.ok(BigInt(r.executed) >= 20n, `executed ${r.executed}`);
  assert.equal(r.offloads.bits, 7);
  assert.ok(r.offloads.stats.FAST_ACKS! > 0, 'the follower fast-acked Prepares');
  assert.deepEqual(r.offloads.reasons.map((x) => [x.name, x.verdict]), [['ELECTRODE_R_RING_FULL', 'pass']]);
  assert.equal(typeof r.counters.prepare_oks_sent, 'number');

  const both = await runCliCaptured(['paxos', 'group', join(dir, 'paxos-r0.sock'), join(dir, 'paxos-r1.sock'), join(dir, 'nobody.sock')], [paxosGroup]);
  assert.equal(both.code, 0, both.err);
  const rows = both.out.trimEnd().split('\n');
  assert.match(rows[0]!, /^REPLICA\s+VIEW\s+STATUS\s+LEADER\s+OP\s+COMMIT\s+OFFLOADS\s+CLONES\s+FAST ACKS\s+ACKS FILTERED\s+PASSED UP$/);
  assert.match(rows[1]!, /^0\/3\s+0\s+normal\s+self\s+\d+\s+\d+\s+broadcast\+fast-ack\+quorum\s+[1-9]\d*\s/);
  assert.match(rows[2]!, /^1\/3\s+0\s+normal\s+0\s+\d+\s+\d+\s+broadcast\+fast-ack\+quorum\s+\d+\s+[1-9]\d*\s/);
  assert.match(rows[3]!, /nobody\.sock\s+-\s+unreachable\s/);
  assert.match(both.err, /nobody\.sock: no such socket/);
  const none = await runCliCaptured(['paxos', 'group', join(dir, 'nobody.sock'), '--json'], [paxosGroup]);
  assert.equal(none.code, 1, 'nothing reachable is an error');
  assert.match(none.err, /NA_ERR_CLI_SOCKET_MISSING/);

  await cluster.stop(0);
  await cluster.waitFor('replica 1 leads view 1', () => cluster.member(1).replica.snapshot().view === 1 && cluster.member(1).replica.snapshot().status === 'normal');
  const after = await run(1);
  assert.equal(after.code, 0, after.err);
  assert.match(after.out, /^replica 1 of 3 \(kv\): view 1, normal, leader, up/m);

  const gone = await run(0);
  assert.notEqual(gone.code, 0, 'a stopped replica answers UNAVAILABLE');
  assert.match(gone.err, /NA_ERR_PAXOS_CLOSED|closed/);
});
