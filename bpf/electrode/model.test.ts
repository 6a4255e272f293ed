/**
 * Unit: the model of the programs' decisions (model.ts) against the fixtures' expectations,
 * without a kernel (the BPF tests compare the programs with the same model), plus the parser's
 * and the broadcast's edge cases.
 */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { QuorumSlot } from './codec.js';
import { ELECTRODE_OFF } from './constants.js';
import { FOLLOWER, LEADER, fastAckFixtures, quorumFixtures } from './fixtures.js';
import { TEST_PORT, commit, paxosFrame, prepare, prepareOk, testGroup } from './frames.js';
import { broadcastDecision, fastAckDecision, firstFollower, parseFrame, quorumDecision, typeReason } from './model.js';

describe('model', () => {
  test('fast-ack fixtures: the model decides what each fixture expects', () => {
    for (const f of fastAckFixtures(512)) {
      const p = parseFrame(f.frame, TEST_PORT);
      const got =
        p.kind === 'not-mine'
          ? { verdict: 'PASS' }
          : p.kind === 'malformed'
            ? { verdict: 'PASS', reason: 'MALFORMED' }
            : typeReason(p.msg.type)
              ? { verdict: 'PASS', reason: typeReason(p.msg.type) }
              : ((d) => ({ verdict: d.verdict.toUpperCase(), ...(d.reason ? { reason: d.reason } : {}) }))(fastAckDecision(f.state, p.msg, () => f.ringHolds === undefined));
      assert.deepEqual(got, { verdict: f.verdict, ...(f.reason ? { reason: f.reason } : {}) }, f.name);
    }
  });

  test('quorum fixtures in sequence: bitsets carried over, each op completes once', () => {
    const slots = new Map<bigint, QuorumSlot>();
    let quorums = 0;
    for (const f of quorumFixtures()) {
      const p = parseFrame(f.frame, TEST_PORT);
      assert.equal(p.kind, 'message', f.name);
      if (p.kind !== 'message') continue;
      const d = quorumDecision(f.state, p.msg, slots.get(p.msg.op));
      if (d.slot && (d.reason === undefined || d.reason === 'ACK_DUPLICATE' || d.reason === 'ACK_QUORUM_DONE')) slots.set(p.msg.op, d.slot);
      if (d.quorum) quorums++;
      assert.deepEqual({ verdict: d.verdict.toUpperCase(), reason: d.reason }, { verdict: f.verdict, reason: f.reason }, f.name);
    }
    assert.equal(quorums, 3);
    assert.deepEqual(slots.get(17n), { view: 5, op: 17n, acks: 0b110, done: true });
  });

  test('a newer op in the same slot: the older PrepareOK is passed up (window exceeded)', () => {
    const g = testGroup(4, 0, 5);
    const p = parseFrame(paxosFrame(g[1]!, g[0]!, prepareOk({ sender: 1, view: 5, op: 17n })), TEST_PORT);
    assert.equal(p.kind, 'message');
    if (p.kind !== 'message') return;
    const newer = { view: 5, op: 17n + 1024n, acks: 0b100, done: false };
    assert.deepEqual(quorumDecision({ ...LEADER, lastOp: 2000n }, p.msg, newer), { verdict: 'pass', reason: 'ACK_WINDOW', quorum: false, slot: newer });
    const older = { view: 4, op: 17n + 1024n, acks: 0b100, done: true };
    assert.deepEqual(quorumDecision({ ...LEADER, lastOp: 2000n }, p.msg, older).slot, { view: 5, op: 17n, acks: 0b10, done: false }, 'a slot of another view is taken over');
  });

  test('the parser: a payload shorter than the header to the port is malformed, another port is not ours', () => {
    const [l, f] = testGroup(4);
    assert.equal(parseFrame(paxosFrame(l!, f!, Buffer.alloc(0)), TEST_PORT).kind, 'malformed');
    assert.equal(parseFrame(paxosFrame(l!, f!, Buffer.from('NAPX')), TEST_PORT).kind, 'malformed');
    assert.equal(parseFrame(paxosFrame(l!, f!, prepare({ sender: 0, view: 5, op: 1n, commit: 0n })), TEST_PORT + 1).kind, 'not-mine');
    assert.equal(parseFrame(Buffer.alloc(10), TEST_PORT).kind, 'not-mine');
  });

  test('broadcast: the first follower, copies to the others, the rest untouched', () => {
    const g = testGroup(4, 7, 5);
    const st = { ...LEADER };
    assert.equal(firstFollower(st), 1);
    assert.equal(firstFollower({ ...st, leader: 3 }), 0);
    const pr = prepare({ sender: 0, view: 5, op: 19n, commit: 15n });
    assert.deepEqual(broadcastDecision(st, g, paxosFrame(g[0]!, g[1]!, pr)), { mine: true, copies: [2, 3, 4], errors: [] });
    assert.deepEqual(broadcastDecision(st, g, paxosFrame(g[0]!, g[3]!, pr)), { mine: false, copies: [], errors: [] });
    assert.deepEqual(broadcastDecision({ ...st, offloads: ELECTRODE_OFF.QUORUM }, g, paxosFrame(g[0]!, g[1]!, pr)).reason, 'OFFLOAD_OFF');
    assert.deepEqual(broadcastDecision(st, g, paxosFrame(g[0]!, g[1]!, commit({ sender: 0, view: 5, commit: 15n }))).reason, 'OTHER_TYPE');
    assert.deepEqual(broadcastDecision(st, [g[0], g[1], undefined, g[3], g[4]], paxosFrame(g[0]!, g[1]!, pr)), { mine: true, copies: [3, 4], errors: [2] });
    assert.deepEqual(broadcastDecision(st, [g[0], undefined], paxosFrame(g[0]!, g[1]!, pr)), { mine: false, copies: [], errors: [] }, 'no first follower configured');
  });

  test('fast-ack decisions carry the entry and the new last op', () => {
    const [l, f] = testGroup(6);
    const p = parseFrame(paxosFrame(l!, f!, prepare({ sender: 0, view: 5, op: 11n, commit: 9n })), TEST_PORT);
    assert.equal(p.kind, 'message');
    if (p.kind !== 'message') return;
    const d = fastAckDecision(FOLLOWER, p.msg, () => true);
    assert.equal(d.verdict, 'tx');
    assert.equal(d.lastOp, 11n);
    assert.deepEqual([d.logged?.op, d.logged?.view, d.logged?.commit], [11n, 5, 9n]);
    assert.equal(fastAckDecision(FOLLOWER, p.msg, () => false).reason, 'RING_FULL');
  });
});
