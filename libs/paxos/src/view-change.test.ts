// Unit tests of the view change, state transfer, recovery and offload steps (one replica, a
// recording transport).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { paxos } from '@netaccel/protocol';
import type { DrainedEntry, PublishedState, ReplicaOffload } from './offload.js';
import { body, prepare, put, single } from './testing/steps-harness.js';

const { PaxosType, PaxosFlag } = paxos;

test('the new leader: START_VIEW_CHANGE from f others → its own DO_VIEW_CHANGE; f + 1 of them → START_VIEW', async (t) => {
  const { replica, from, sent } = await single(1, t);
  await from(2, { type: PaxosType.StartViewChange, sender: 2, view: 1 });
  assert.deepEqual(sent(), [0, 2].map((to) => ({ to, m: { type: PaxosType.StartViewChange, sender: 1, view: 1 } })));
  assert.equal(replica.snapshot().status, 'view-change');
  await from(2, { type: PaxosType.DoViewChange, sender: 2, view: 1, op: 0n, commit: 0n, lastNormalView: 0 });
  assert.deepEqual(sent(), [0, 2].map((to) => ({ to, m: { type: PaxosType.StartView, sender: 1, view: 1, op: 0n, commit: 0n } })));
  const s = replica.snapshot();
  assert.deepEqual([s.view, s.status, s.isLeader, s.lastNormalView], [1, 'normal', true, 1]);
});

test('onStateChange: told after the step that changed view, status or leader, once each, not for PREPAREs', async (t) => {
  const told: string[] = [];
  const { from } = await single(1, t, { onStateChange: (s) => told.push(`${s.view}/${s.status}/${s.leader}`) });
  await from(0, prepare(1n, 0n, [put('a', '1', 1n)]));
  assert.deepEqual(told, [], 'the state at start and a PREPARE: nothing');
  await from(2, { type: PaxosType.StartViewChange, sender: 2, view: 1 });
  await from(2, { type: PaxosType.StartViewChange, sender: 2, view: 1 });
  assert.deepEqual(told, ['1/view-change/1']);
  await from(2, { type: PaxosType.DoViewChange, sender: 2, view: 1, op: 1n, commit: 0n, lastNormalView: 0 });
  assert.deepEqual(told, ['1/view-change/1', '1/normal/1']);
});

test('the new leader takes the best log (last normal view, then op), fetched after its commit, and the highest commit', async (t) => {
  const { replica, kv, from, sent } = await single(1, t);
  await from(0, prepare(1n, 0n, [put('a', '1', 1n)]));
  sent();
  await from(2, { type: PaxosType.StartViewChange, sender: 2, view: 1 });
  sent();
  await from(2, { type: PaxosType.DoViewChange, sender: 2, view: 1, op: 3n, commit: 2n, lastNormalView: 0 });
  assert.deepEqual(sent(), [{ to: 2, m: { type: PaxosType.GetState, sender: 1, view: 1, op: 0n } }]);
  assert.equal(replica.snapshot().lastOp, 1n, 'our log stays until the best one is complete');
  await from(2, { type: PaxosType.NewState, sender: 2, view: 1, op: 3n, commit: 2n, entries: [
    { op: 1n, view: 0, body: body([put('a', '1', 1n)]) },
    { op: 2n, view: 0, body: body([put('b', '2', 2n)]) },
  ] });
  assert.deepEqual(sent(), [{ to: 2, m: { type: PaxosType.GetState, sender: 1, view: 1, op: 2n } }]);
  await from(2, { type: PaxosType.NewState, sender: 2, view: 1, op: 3n, commit: 2n, entries: [{ op: 3n, view: 0, body: body([put('c', '3', 3n)]) }] });
  assert.deepEqual(sent(), [0, 2].map((to) => ({ to, m: { type: PaxosType.StartView, sender: 1, view: 1, op: 3n, commit: 2n } })));
  const s = replica.snapshot();
  assert.deepEqual([s.status, s.lastOp, s.commit, s.executed], ['normal', 3n, 2n, 2n]);
  assert.deepEqual(kv.entries(), [['a', '1'], ['b', '2']]);
});

test('a follower behind adopts the new view: its acknowledged log stays until the leader\'s is fetched, then PREPARE_OK', async (t) => {
  const { replica, from, sent } = await single(2, t);
  await from(0, prepare(1n, 0n, [put('a', '1', 1n)]));
  await from(0, prepare(2n, 0n, [put('x', 'old', 2n)]));
  sent();
  await from(1, { type: PaxosType.StartView, sender: 1, view: 1, op: 2n, commit: 1n });
  assert.deepEqual(sent(), [{ to: 1, m: { type: PaxosType.GetState, sender: 2, view: 1, op: 0n } }]);
  let s = replica.snapshot();
  assert.deepEqual([s.view, s.lastNormalView, s.lastOp], [1, 0, 2n], 'until then the last normal view and log are the acknowledged ones');
  // A PREPARE of the new view meanwhile waits.
  await from(1, prepare(3n, 1n, [put('d', '4', 4n)], 1));
  assert.deepEqual(sent(), []);
  await from(1, { type: PaxosType.NewState, sender: 1, view: 1, op: 2n, commit: 1n, entries: [
    { op: 1n, view: 0, body: body([put('a', '1', 1n)]) },
    { op: 2n, view: 1, body: body([put('y', 'new', 3n)]) },
  ] });
  assert.deepEqual(sent(), [{ to: 1, m: { type: PaxosType.PrepareOk, sender: 2, view: 1, op: 3n, flags: 0 } }]);
  s = replica.snapshot();
  assert.deepEqual([s.status, s.lastNormalView, s.lastOp, s.commit], ['normal', 1, 3n, 1n]);
});

test('a replica in normal status answers RECOVERY; GET_STATE of another view is not answered', async (t) => {
  const { from, sent } = await single(0, t);
  await from(2, { type: PaxosType.Recovery, sender: 2, nonce: 42n });
  assert.deepEqual(sent(), [{ to: 2, m: { type: PaxosType.RecoveryResponse, sender: 0, view: 0, op: 0n, commit: 0n, nonce: 42n } }]);
  await from(2, { type: PaxosType.GetState, sender: 2, view: 3, op: 0n });
  assert.deepEqual(sent(), []);
});

test('recovery: RECOVERY to all, f + 1 answers with the nonce incl. the leader\'s, the leader\'s log fetched, then normal', async (t) => {
  const { replica, kv, from, sent } = await single(2, t, { start: 'recover' });
  const out = sent();
  assert.deepEqual(out.map((s) => [s.to, s.m.type]), [[0, PaxosType.Recovery], [1, PaxosType.Recovery]]);
  const nonce = (out[0]!.m as paxos.RecoveryMessage).nonce;
  assert.equal(replica.snapshot().status, 'recovering');
  // Recovering: no answer to a PREPARE, none to a RECOVERY of another replica.
  await from(0, prepare(1n, 0n, [put('a', '1', 1n)]));
  await from(1, { type: PaxosType.Recovery, sender: 1, nonce: 5n });
  assert.deepEqual(sent(), []);
  await from(1, { type: PaxosType.RecoveryResponse, sender: 1, view: 3, op: 1n, commit: 1n, nonce: nonce + 1n }); // wrong nonce
  await from(1, { type: PaxosType.RecoveryResponse, sender: 1, view: 3, op: 1n, commit: 1n, nonce });
  assert.deepEqual(sent(), [], 'f + 1 answers, but not the one of view 3\'s leader (replica 0)');
  await from(0, { type: PaxosType.RecoveryResponse, sender: 0, view: 3, op: 2n, commit: 2n, nonce });
  assert.deepEqual(sent(), [{ to: 0, m: { type: PaxosType.GetState, sender: 2, view: 3, op: 0n } }]);
  await from(0, { type: PaxosType.NewState, sender: 0, view: 3, op: 2n, commit: 2n, entries: [
    { op: 1n, view: 0, body: body([put('a', '1', 1n)]) },
    { op: 2n, view: 3, body: body([put('a', '2', 2n)]) },
  ] });
  assert.deepEqual(sent(), [{ to: 0, m: { type: PaxosType.PrepareOk, sender: 2, view: 3, op: 2n, flags: 0 } }]);
  const s = replica.snapshot();
  assert.deepEqual([s.status, s.view, s.executed], ['normal', 3, 2n]);
  assert.equal(kv.peek('a'), '2');
  assert.equal(replica.counters().recoveries_completed, 1);
});

/** An offload that records calls in one event list shared with the transport, and hands out entries. */
function recordingOffload(events: string[], opts: { broadcasting?: boolean } = {}) {
  const ring: DrainedEntry[] = [];
  const published: PublishedState[] = [];
  const calls = { drains: 0 };
  const offload: ReplicaOffload = {
    publish(s) {
      published.push(s);
      events.push(`publish ${s.status} v${s.view} op${s.lastOp} c${s.commit}`);
    },
    drain(afterOp) {
      calls.drains++;
      const out = ring.filter((e) => e.op > afterOp);
      ring.length = 0;
      if (out.length > 0) events.push(`drain ${out.map((e) => e.op).join(',')}`);
      return out;
    },
    broadcasting: () => opts.broadcasting ?? false,
    close: async () => undefined,
  };
  return { offload, ring, published, calls };
}

test('offload, follower: drained entries are appended before a passed-up message is processed; state published', async (t) => {
  const events: string[] = [];
  const { offload, ring, published } = recordingOffload(events);
  const { replica, kv, from, sent } = await single(1, t, { offload });
  assert.deepEqual(published[0], { view: 0, status: 'normal', self: 1, leader: 0, n: 3, lastOp: 0n, commit: 0n });
  ring.push({ op: 1n, view: 0, commit: 0n, body: body([put('a', '1', 1n)]) }, { op: 2n, view: 0, commit: 1n, body: body([put('b', '2', 2n)]) });
  // The kernel acknowledged ops 1 and 2; op 3 is passed up (e.g. the ring was full).
  await from(0, prepare(3n, 2n, [put('c', '3', 3n)]));
  assert.deepEqual(sent(), [{ to: 0, m: { type: PaxosType.PrepareOk, sender: 1, view: 0, op: 3n, flags: 0 } }]);
  assert.deepEqual(kv.entries(), [['a', '1'], ['b', '2']]);
  assert.equal(replica.counters().drained_entries, 2);
  assert.deepEqual(events, ['publish normal v0 op0 c0', 'drain 1,2', 'publish normal v0 op3 c2']);
  // An entry of another view, or not the next op, is not appended.
  ring.push({ op: 5n, view: 0, commit: 2n, body: body([put('e', '5', 5n)]) });
  await from(0, { type: PaxosType.Commit, sender: 0, view: 0, commit: 3n });
  assert.equal(replica.snapshot().lastOp, 3n);
  assert.equal(replica.counters().drained_discarded, 1);
});

test('offload, view change: the status is published, then drained, then START_VIEW_CHANGE sent (no fast-acked entry left out)', async (t) => {
  const events: string[] = [];
  const { offload, ring } = recordingOffload(events);
  const { replica, transport, from } = await single(2, t, { offload });
  const send = transport.send.bind(transport);
  transport.send = (data, to) => {
    events.push(`send ${paxos.paxosTypeName(data[5]!)}`);
    send(data, to);
  };
  events.length = 0;
  const sneaky = { op: 1n, view: 0, commit: 0n, body: body([put('a', '1', 1n)]) };
  // The kernel logs op 1 after the drain that precedes the message, before the status is published.
  const drain = offload.drain.bind(offload);
  let calls = 0;
  offload.drain = (after) => {
    if (calls++ === 1) ring.push(sneaky);
    return drain(after);
  };
  await from(1, { type: PaxosType.StartViewChange, sender: 1, view: 1 });
  assert.deepEqual(events.slice(0, 4), ['publish view-change v1 op0 c0', 'drain 1', 'send START_VIEW_CHANGE', 'send START_VIEW_CHANGE']);
  // f = 1 START_VIEW_CHANGE from another: DO_VIEW_CHANGE to the new leader (1) reports op 1.
  const dvc = transport.sent.map((s) => s.message).find((m) => m.type === PaxosType.DoViewChange) as paxos.DoViewChangeMessage;
  assert.deepEqual(dvc, { type: PaxosType.DoViewChange, sender: 2, view: 1, op: 1n, commit: 0n, lastNormalView: 0 });
  assert.equal(replica.snapshot().lastOp, 1n);
});

test('offload, leader: PREPAREs go once to the first follower when the kernel broadcasts; QUORUM commits', async (t) => {
  const events: string[] = [];
  const { offload, calls } = recordingOffload(events, { broadcasting: true });
  const { replica, transport, from, sent } = await single(0, t, { offload });
  transport.deliver(paxos.encodePaxos({ type: PaxosType.Request, view: 0, clientId: 1n, requestId: 1n, payload: Buffer.from('x') }), { address: '127.0.0.1', port: 9000 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent().map((s) => [s.to, s.m.type]), [[1, PaxosType.Prepare]]);
  await from(2, { type: PaxosType.PrepareOk, sender: 2, view: 0, op: 1n, flags: PaxosFlag.Fast | PaxosFlag.Quorum });
  assert.equal(replica.snapshot().commit, 1n);
  assert.ok(events.includes('publish normal v0 op1 c1'), events.join('\n'));
  assert.equal(calls.drains, 0, 'a leader does not drain');
});
