/**
 * Katran-style fixtures of the XDP offloads: {name, the replica's state, what the ring or the
 * bitsets hold before, the frame, the expected verdict and reason}. The BPF tests run each
 * through BPF_PROG_TEST_RUN and compare the result with the expectation and with the model's
 * decision (model.ts); the quorum fixtures are sequences whose bitset state carries over.
 */
import { paxos } from '@netaccel/protocol';
import type { ElectrodeState } from './codec.js';
import { ELECTRODE_MAX_BODY, ELECTRODE_OFF, PAXOS_MSG } from './constants.js';
import { checkpointChunk, commit, getCheckpoint, paxosFrame, prepare, prepareOk, rawMessage, testGroup } from './frames.js';
import type { ElectrodeReasonName } from './reasons.js';

export type XdpVerdictName = 'ABORTED' | 'DROP' | 'PASS' | 'TX';
export const XDP_VERDICT = Object.freeze({ ABORTED: 0, DROP: 1, PASS: 2, TX: 3 } as const);

export interface ElectrodeFixture {
  readonly name: string;
  readonly state: ElectrodeState;
  readonly frame: Buffer;
  readonly verdict: XdpVerdictName;
  /** The reason counted; undefined: none (handled, or not a Paxos message at all). */
  readonly reason?: ElectrodeReasonName;
  /** Fast-ack: a FULL entry of this op is in the ring before (ring-full cases). */
  readonly ringHolds?: bigint;
}

/** Follower 1 of a group whose leader is 0, view 5, last op 10. */
export const FOLLOWER: ElectrodeState = Object.freeze({ view: 5, status: 'normal', self: 1, leader: 0, n: 3, lastOp: 10n, commit: 8n, offloads: ELECTRODE_OFF.ALL });

/** Fast-ack fixtures (electrode_fast_ack), in IPv4 unless named otherwise. */
export function fastAckFixtures(ringSize: number): ElectrodeFixture[] {
  const [l4, f4] = testGroup(4);
  const [l6, f6] = testGroup(6);
  const to = (payload: Buffer, v6 = false) => (v6 ? paxosFrame(l6!, f6!, payload) : paxosFrame(l4!, f4!, payload));
  const p = (op: bigint, over: { view?: number; sender?: number } = {}) => prepare({ sender: over.sender ?? 0, view: over.view ?? 5, op, commit: 9n, requests: 2 });
  const st = (over: Partial<ElectrodeState>): ElectrodeState => ({ ...FOLLOWER, ...over });
  return [
    { name: 'Prepare in order: logged, PrepareOK sent back', state: FOLLOWER, frame: to(p(11n)), verdict: 'TX' },
    { name: 'Prepare in order, IPv6', state: FOLLOWER, frame: to(p(11n), true), verdict: 'TX' },
    { name: 'Prepare with an empty body', state: FOLLOWER, frame: to(rawMessage({ type: PAXOS_MSG.PREPARE, sender: 0, view: 5, op: 11n, commit: 9n })), verdict: 'TX' },
    {
      name: 'Prepare with the largest body a ring entry holds',
      state: FOLLOWER,
      frame: to(rawMessage({ type: PAXOS_MSG.PREPARE, sender: 0, view: 5, op: 11n, commit: 9n, body: Buffer.alloc(ELECTRODE_MAX_BODY, 0xa5) })),
      verdict: 'TX',
    },
    { name: 'Prepare with a gap (op 13 after 10)', state: FOLLOWER, frame: to(p(13n)), verdict: 'PASS', reason: 'GAP' },
    { name: 'Prepare retransmitted (op 10 again)', state: FOLLOWER, frame: to(p(10n)), verdict: 'PASS', reason: 'OLD_OP' },
    { name: 'Prepare of an old view', state: FOLLOWER, frame: to(p(11n, { view: 4 })), verdict: 'PASS', reason: 'OLD_VIEW' },
    { name: 'Prepare of a newer view', state: FOLLOWER, frame: to(p(11n, { view: 6 })), verdict: 'PASS', reason: 'NEW_VIEW' },
    { name: 'Prepare when its ring slot is still full', state: FOLLOWER, frame: to(p(11n)), verdict: 'PASS', reason: 'RING_FULL', ringHolds: 11n - BigInt(ringSize) },
    { name: 'Prepare with the fast-ack off', state: st({ offloads: ELECTRODE_OFF.BROADCAST | ELECTRODE_OFF.QUORUM }), frame: to(p(11n)), verdict: 'PASS', reason: 'OFFLOAD_OFF' },
    { name: 'Prepare during a view change', state: st({ status: 'view-change' }), frame: to(p(11n)), verdict: 'PASS', reason: 'NOT_NORMAL' },
    { name: 'Prepare to the leader itself', state: st({ self: 0 }), frame: to(p(11n)), verdict: 'PASS', reason: 'ROLE' },
    { name: 'Prepare from a replica that is not the leader', state: FOLLOWER, frame: to(p(11n, { sender: 2 })), verdict: 'PASS', reason: 'BAD_SENDER' },
    { name: 'truncated header (20 of 32 bytes)', state: FOLLOWER, frame: to(p(11n).subarray(0, 20)), verdict: 'PASS', reason: 'MALFORMED' },
    { name: 'bad magic', state: FOLLOWER, frame: to(rawMessage({ magic: 0x12345678, type: PAXOS_MSG.PREPARE, sender: 0, view: 5, op: 11n })), verdict: 'PASS', reason: 'MALFORMED' },
    { name: 'bad version', state: FOLLOWER, frame: to(rawMessage({ version: 2, type: PAXOS_MSG.PREPARE, sender: 0, view: 5, op: 11n })), verdict: 'PASS', reason: 'MALFORMED' },
    {
      name: 'body_len beyond the payload',
      state: FOLLOWER,
      frame: to(rawMessage({ type: PAXOS_MSG.PREPARE, sender: 0, view: 5, op: 11n, bodyLen: 100, body: Buffer.alloc(10) })),
      verdict: 'PASS',
      reason: 'MALFORMED',
    },
    { name: 'unknown type 42', state: FOLLOWER, frame: to(rawMessage({ type: 42, sender: 0, view: 5, op: 11n })), verdict: 'PASS', reason: 'UNKNOWN_TYPE' },
    { name: 'type 0', state: FOLLOWER, frame: to(rawMessage({ type: 0, sender: 0, view: 5, op: 11n })), verdict: 'PASS', reason: 'UNKNOWN_TYPE' },
    { name: 'COMMIT is left to user space', state: FOLLOWER, frame: to(commit({ sender: 0, view: 5, commit: 10n })), verdict: 'PASS', reason: 'OTHER_TYPE' },
    // state transfer (CHECKPOINT 13 / GET_CHECKPOINT 14): user space only, whatever the view or op
    { name: 'CHECKPOINT chunk of the largest size is left to user space', state: FOLLOWER, frame: to(checkpointChunk({ sender: 0, view: 5, op: 4096n, offset: 1354 })), verdict: 'PASS', reason: 'OTHER_TYPE' },
    { name: 'CHECKPOINT chunk, IPv6, from follower 2 of a newer view', state: FOLLOWER, frame: to(checkpointChunk({ sender: 2, view: 6, op: 11n, size: 100, total: 5000 }), true), verdict: 'PASS', reason: 'OTHER_TYPE' },
    { name: 'CHECKPOINT chunk while the fast-ack is off', state: st({ offloads: ELECTRODE_OFF.BROADCAST | ELECTRODE_OFF.QUORUM }), frame: to(checkpointChunk({ sender: 0, view: 5, op: 4096n, size: 10 })), verdict: 'PASS', reason: 'OTHER_TYPE' },
    { name: 'GET_CHECKPOINT is left to user space', state: FOLLOWER, frame: to(getCheckpoint({ sender: 0, view: 5, op: 4096n, offset: 1354 })), verdict: 'PASS', reason: 'OTHER_TYPE' },
    { name: 'GET_CHECKPOINT of an op past the last one, during a view change', state: st({ status: 'view-change' }), frame: to(getCheckpoint({ sender: 2, view: 5, op: 11n, offset: 0 })), verdict: 'PASS', reason: 'OTHER_TYPE' },
    {
      name: 'CHECKPOINT whose body_len runs past the payload',
      state: FOLLOWER,
      frame: to(rawMessage({ type: paxos.PaxosType.Checkpoint, sender: 0, view: 5, op: 4096n, bodyLen: 1368, body: Buffer.alloc(100) })),
      verdict: 'PASS',
      reason: 'MALFORMED',
    },
    { name: 'UDP to another port: not a Paxos message', state: FOLLOWER, frame: paxosFrame(l4!, { ...f4!, port: 7471 }, p(11n)), verdict: 'PASS' },
  ];
}

/** The leader (replica 0) of five, view 5, last op 20, commit 15: f = 2. */
export const LEADER: ElectrodeState = Object.freeze({ view: 5, status: 'normal', self: 0, leader: 0, n: 5, lastOp: 20n, commit: 15n, offloads: ELECTRODE_OFF.ALL });

/** Quorum-wait fixtures (electrode_quorum), run in order on one set of maps. */
export function quorumFixtures(): ElectrodeFixture[] {
  const g = testGroup(4, 0, 5);
  const g6 = testGroup(6, 0, 5);
  const ack = (from: number, op: bigint, over: { view?: number; checksum?: number; v6?: boolean; body?: boolean } = {}) => {
    const grp = over.v6 ? g6 : g;
    const payload = over.body
      ? rawMessage({ type: PAXOS_MSG.PREPARE_OK, sender: from, view: over.view ?? 5, op, body: Buffer.alloc(4) })
      : prepareOk({ sender: from, view: over.view ?? 5, op, flags: 1 });
    return paxosFrame(grp[Math.min(from, 4)]!, grp[0]!, payload, over.checksum !== undefined ? { checksum: over.checksum } : {});
  };
  const st = (over: Partial<ElectrodeState>): ElectrodeState => ({ ...LEADER, ...over });
  return [
    { name: 'first PrepareOK for op 17: counted, dropped', state: LEADER, frame: ack(1, 17n), verdict: 'DROP' },
    { name: 'the same sender again: duplicate, not counted twice', state: LEADER, frame: ack(1, 17n), verdict: 'DROP', reason: 'ACK_DUPLICATE' },
    { name: 'second sender completes the quorum: passed with QUORUM', state: LEADER, frame: ack(2, 17n), verdict: 'PASS' },
    { name: 'a third sender after the quorum: late, dropped', state: LEADER, frame: ack(3, 17n), verdict: 'DROP', reason: 'ACK_QUORUM_DONE' },
    { name: 'PrepareOK for an op already committed', state: LEADER, frame: ack(1, 15n), verdict: 'DROP', reason: 'ACK_COMMITTED' },
    { name: 'PrepareOK of an old view', state: LEADER, frame: ack(1, 18n, { view: 4 }), verdict: 'PASS', reason: 'OLD_VIEW' },
    { name: 'PrepareOK of a newer view', state: LEADER, frame: ack(1, 18n, { view: 6 }), verdict: 'PASS', reason: 'NEW_VIEW' },
    { name: 'PrepareOK for an op the leader has not sent', state: LEADER, frame: ack(1, 21n), verdict: 'PASS', reason: 'ACK_FUTURE' },
    { name: 'PrepareOK from the leader itself (forged)', state: LEADER, frame: ack(0, 18n), verdict: 'PASS', reason: 'BAD_SENDER' },
    { name: 'PrepareOK from index 7 of a group of 5 (forged)', state: LEADER, frame: paxosFrame(g[1]!, g[0]!, prepareOk({ sender: 7, view: 5, op: 18n })), verdict: 'PASS', reason: 'BAD_SENDER' },
    { name: 'PrepareOK with a body', state: LEADER, frame: ack(1, 18n, { body: true }), verdict: 'PASS', reason: 'MALFORMED' },
    { name: 'quorum wait off', state: st({ offloads: ELECTRODE_OFF.FAST_ACK }), frame: ack(1, 18n), verdict: 'PASS', reason: 'OFFLOAD_OFF' },
    { name: 'PrepareOK to a follower', state: st({ self: 1 }), frame: ack(2, 18n), verdict: 'PASS', reason: 'ROLE' },
    { name: 'PrepareOK while recovering', state: st({ status: 'recovering' }), frame: ack(1, 18n), verdict: 'PASS', reason: 'NOT_NORMAL' },
    { name: 'op 18, IPv4 without UDP checksum: first sender counted', state: LEADER, frame: ack(3, 18n, { checksum: 0 }), verdict: 'DROP' },
    { name: 'op 18, IPv4 without UDP checksum: completes, checksum stays 0', state: LEADER, frame: ack(4, 18n, { checksum: 0 }), verdict: 'PASS' },
    { name: 'op 19 in a group of 3 (f = 1): one PrepareOK completes, IPv6', state: st({ n: 3 }), frame: ack(2, 19n, { v6: true }), verdict: 'PASS' },
    { name: 'op 19 in a group of 3: the other follower is late', state: st({ n: 3 }), frame: ack(1, 19n, { v6: true }), verdict: 'DROP', reason: 'ACK_QUORUM_DONE' },
    // state transfer reaching the leader (it lags behind the best log after a view change, or
    // serves its checkpoint): passed up, no bitset touched (op 17 is a slot of the sequence)
    { name: 'CHECKPOINT chunk of op 17 at the leader: left to user space', state: LEADER, frame: paxosFrame(g[1]!, g[0]!, checkpointChunk({ sender: 1, view: 5, op: 17n, offset: 1354 })), verdict: 'PASS', reason: 'OTHER_TYPE' },
    { name: 'GET_CHECKPOINT of op 18 at the leader, IPv6: left to user space', state: LEADER, frame: paxosFrame(g6[2]!, g6[0]!, getCheckpoint({ sender: 2, view: 5, op: 18n, offset: 0 })), verdict: 'PASS', reason: 'OTHER_TYPE' },
  ];
}
