/**
 * The three programs' decisions as pure functions of (state, configuration, frame), for the
 * fixtures (each BPF_PROG_TEST_RUN result is compared with these) and for reading what the
 * kernel will do with a message. Mirrors electrode_parsing.h, electrode_fast_ack.h,
 * electrode_quorum.h and electrode_broadcast.h step by step; nothing here touches a map.
 */
import { parseIp } from '@netaccel/protocol';
import type { ElectrodeState, QuorumSlot, ReplicaConfig } from './codec.js';
import { ELECTRODE_MAX_BODY, ELECTRODE_OFF, PAXOS_MSG, PAXOS_WIRE } from './constants.js';
import type { ElectrodeReasonName } from './reasons.js';

/** A Paxos message found in a frame (offsets from the frame's start). */
export interface FrameMessage {
  readonly family: 4 | 6;
  readonly ipOptions: boolean;
  readonly dstAddr: Buffer;
  readonly dport: number;
  readonly type: number;
  readonly sender: number;
  readonly flags: number;
  readonly view: number;
  readonly op: bigint;
  readonly commit: bigint;
  readonly body: Buffer;
}

export type ParseOutcome = { readonly kind: 'not-mine' } | { readonly kind: 'malformed' } | { readonly kind: 'message'; readonly msg: FrameMessage };

const VLAN_TPIDS = new Set([0x8100, 0x88a8]);
const MAX_VLANS = 2; // NETACCEL_MAX_VLAN_DEPTH

/** el_parse: the Paxos message to UDP `port` in `frame`, a malformed one, or none. */
export function parseFrame(frame: Uint8Array, port: number): ParseOutcome {
  const f = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const NOT: ParseOutcome = { kind: 'not-mine' };
  if (f.length < 14) return NOT;
  let at = 14;
  let type = f.readUInt16BE(12);
  for (let i = 0; i < MAX_VLANS && VLAN_TPIDS.has(type); i++) {
    if (f.length < at + 4) return NOT;
    type = f.readUInt16BE(at + 2);
    at += 4;
  }
  let family: 4 | 6;
  let ipOptions = false;
  let dstAddr: Buffer;
  if (type === 0x0800) {
    if (f.length < at + 20) return NOT;
    const ihl = f[at]! & 0xf;
    if (f[at]! >> 4 !== 4 || ihl < 5 || f.length < at + ihl * 4) return NOT;
    if (f[at + 9] !== 17) return NOT;
    family = 4;
    ipOptions = ihl !== 5;
    dstAddr = f.subarray(at + 16, at + 20);
    const frag = f.readUInt16BE(at + 6);
    at += ihl * 4;
    if (frag & 0x3fff) {
      if (frag & 0x1fff) return NOT;
      return f.length >= at + 8 && f.readUInt16BE(at + 2) === port ? { kind: 'malformed' } : NOT;
    }
  } else if (type === 0x86dd) {
    if (f.length < at + 40 || f[at]! >> 4 !== 6 || f[at + 6] !== 17) return NOT;
    family = 6;
    dstAddr = f.subarray(at + 24, at + 40);
    at += 40;
  } else {
    return NOT;
  }
  if (f.length < at + 8 || f.readUInt16BE(at + 2) !== port) return NOT;
  const udpLen = f.readUInt16BE(at + 4);
  at += 8;
  const MAL: ParseOutcome = { kind: 'malformed' };
  if (f.length < at + PAXOS_WIRE.headerLen) return MAL;
  if (f.readUInt32BE(at) !== PAXOS_WIRE.magic || f[at + 4] !== PAXOS_WIRE.version) return MAL;
  if (udpLen < 8 + PAXOS_WIRE.headerLen || udpLen > 8 + PAXOS_WIRE.maxMsg) return MAL;
  const bodyLen = udpLen - 8 - PAXOS_WIRE.headerLen;
  if (f.readUInt32BE(at + 12) !== bodyLen) return MAL;
  const bodyAt = at + PAXOS_WIRE.headerLen;
  if (f.length < bodyAt + bodyLen) return MAL;
  return {
    kind: 'message',
    msg: {
      family,
      ipOptions,
      dstAddr: Buffer.from(dstAddr),
      dport: port,
      type: f[at + 5]!,
      sender: f[at + 6]!,
      flags: f[at + 7]!,
      view: f.readUInt32BE(at + 8),
      op: f.readBigUInt64BE(at + 16),
      commit: f.readBigUInt64BE(at + 24),
      body: Buffer.from(f.subarray(bodyAt, bodyAt + bodyLen)),
    },
  };
}

/** el_type_reason: undefined for Prepare and PrepareOK. */
export function typeReason(type: number): ElectrodeReasonName | undefined {
  if (type === PAXOS_MSG.PREPARE || type === PAXOS_MSG.PREPARE_OK) return undefined;
  if (type === 0 || type > PAXOS_MSG.TYPE_MAX) return 'UNKNOWN_TYPE';
  return 'OTHER_TYPE';
}

// --- fast-ack ---------------------------------------------------------------------------------

export interface FastAckDecision {
  readonly verdict: 'tx' | 'pass';
  readonly reason?: ElectrodeReasonName;
  /** The entry logged in the ring (verdict tx). */
  readonly logged?: { readonly op: bigint; readonly view: number; readonly commit: bigint; readonly body: Buffer };
  /** last_op after the message. */
  readonly lastOp: bigint;
}

/**
 * el_fast_ack_check + el_log_prepare for a parsed Prepare; `slotFree(op)` says whether the
 * ring slot of op is FREE.
 */
export function fastAckDecision(st: ElectrodeState, m: FrameMessage, slotFree: (op: bigint) => boolean): FastAckDecision {
  const pass = (reason: ElectrodeReasonName): FastAckDecision => ({ verdict: 'pass', reason, lastOp: st.lastOp });
  if (!(st.offloads & ELECTRODE_OFF.FAST_ACK)) return pass('OFFLOAD_OFF');
  if (st.status !== 'normal') return pass('NOT_NORMAL');
  if (st.self === st.leader) return pass('ROLE');
  if (m.view < st.view) return pass('OLD_VIEW');
  if (m.view > st.view) return pass('NEW_VIEW');
  if (m.sender !== st.leader) return pass('BAD_SENDER');
  if (m.op <= st.lastOp) return pass('OLD_OP');
  if (m.op !== st.lastOp + 1n) return pass('GAP');
  if (m.body.length > ELECTRODE_MAX_BODY) return pass('TOO_BIG');
  if (m.ipOptions) return pass('MALFORMED');
  if (!slotFree(m.op)) return pass('RING_FULL');
  return { verdict: 'tx', logged: { op: m.op, view: m.view, commit: m.commit, body: m.body }, lastOp: m.op };
}

// --- quorum wait ------------------------------------------------------------------------------

export interface QuorumDecision {
  readonly verdict: 'pass' | 'drop';
  /** Set for every outcome but "counted, quorum not complete yet" and "completed". */
  readonly reason?: ElectrodeReasonName;
  /** The PrepareOK completed op's quorum (passed up with QUORUM). */
  readonly quorum: boolean;
  /** op's slot after the message (unchanged when not counted). */
  readonly slot?: QuorumSlot;
}

/** The quorum program on a parsed message: by its type unless a PrepareOK, then el_quorum_check + el_quorum_count; `slot` is op's slot before it. */
export function quorumDecision(st: ElectrodeState, m: FrameMessage, slot: QuorumSlot | undefined): QuorumDecision {
  const no = (verdict: 'pass' | 'drop', reason: ElectrodeReasonName): QuorumDecision => ({ verdict, reason, quorum: false, ...(slot ? { slot } : {}) });
  // the quorum wait takes PREPARE_OKs only; any other type (a COMMIT, a CHECKPOINT) goes up by its type
  if (m.type !== PAXOS_MSG.PREPARE_OK) return { verdict: 'pass', reason: typeReason(m.type) ?? 'OTHER_TYPE', quorum: false };
  if (!(st.offloads & ELECTRODE_OFF.QUORUM)) return no('pass', 'OFFLOAD_OFF');
  if (st.status !== 'normal') return no('pass', 'NOT_NORMAL');
  if (st.self !== st.leader) return no('pass', 'ROLE');
  if (m.body.length !== 0) return no('pass', 'MALFORMED');
  if (m.view < st.view) return no('pass', 'OLD_VIEW');
  if (m.view > st.view) return no('pass', 'NEW_VIEW');
  if (m.sender >= st.n || m.sender >= 31 || m.sender === st.self) return no('pass', 'BAD_SENDER');
  if (m.op <= st.commit) return no('drop', 'ACK_COMMITTED');
  if (m.op > st.lastOp) return no('pass', 'ACK_FUTURE');
  const cur = slot ?? { view: 0, op: 0n, acks: 0, done: false };
  if (cur.view === m.view && cur.op > m.op) return no('pass', 'ACK_WINDOW');
  const base = cur.view !== m.view || cur.op !== m.op ? { view: m.view, op: m.op, acks: 0, done: false } : cur;
  if (base.done) return { verdict: 'drop', reason: 'ACK_QUORUM_DONE', quorum: false, slot: base };
  const bit = 1 << m.sender;
  if (base.acks & bit) return { verdict: 'drop', reason: 'ACK_DUPLICATE', quorum: false, slot: base };
  const acks = (base.acks | bit) >>> 0;
  const f = Math.floor((st.n - 1) / 2);
  const done = popcount(acks) >= f;
  return { verdict: done ? 'pass' : 'drop', quorum: done, slot: { view: m.view, op: m.op, acks, done } };
}

function popcount(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x; x >>>= 1) n += x & 1;
  return n;
}

// --- broadcast --------------------------------------------------------------------------------

export interface BroadcastDecision {
  /** The frame is the leader's message to the first follower (the program looks at it). */
  readonly mine: boolean;
  /** Why it was not broadcast (mine, not broadcast). */
  readonly reason?: ElectrodeReasonName;
  /** Replica indexes a copy is cloned to, in order (the original goes on to the first follower). */
  readonly copies: readonly number[];
  /** Replicas that get no copy: invalid configuration or the other address family. */
  readonly errors: readonly number[];
}

/** The first follower: the lowest index that is not the leader's. */
export function firstFollower(st: ElectrodeState): number {
  return st.leader === 0 ? 1 : 0;
}

/** el_broadcast for a frame leaving the leader; `config[i]` is replica i (undefined: invalid). */
export function broadcastDecision(st: ElectrodeState, config: readonly (ReplicaConfig | undefined)[], frame: Uint8Array): BroadcastDecision {
  const none: BroadcastDecision = { mine: false, copies: [], errors: [] };
  const first = config[firstFollower(st)];
  if (!first) return none;
  const parsed = parseFrame(frame, first.port);
  if (parsed.kind === 'not-mine') return none;
  const firstAddr = Buffer.from(parseIp(first.address));
  // a malformed frame still has its addresses: read them the way the parser found them
  const dst = parsed.kind === 'message' ? parsed.msg.dstAddr : malformedDst(frame);
  if (!dst || !dst.equals(firstAddr)) return none;
  if (parsed.kind === 'malformed') return { mine: true, reason: 'MALFORMED', copies: [], errors: [] };
  const m = parsed.msg;
  const mine = (reason: ElectrodeReasonName): BroadcastDecision => ({ mine: true, reason, copies: [], errors: [] });
  if (m.type !== PAXOS_MSG.PREPARE) return mine(typeReason(m.type) ?? 'OTHER_TYPE');
  if (!(st.offloads & ELECTRODE_OFF.BROADCAST)) return mine('OFFLOAD_OFF');
  if (st.status !== 'normal') return mine('NOT_NORMAL');
  if (st.self !== st.leader) return mine('ROLE');
  if (m.sender !== st.self) return mine('BAD_SENDER');
  const copies: number[] = [];
  const errors: number[] = [];
  for (let i = 0; i < Math.min(st.n, 31); i++) {
    if (i === firstFollower(st) || i === st.self) continue;
    const r = config[i];
    const fam = r ? (parseIp(r.address).length === 4 ? 4 : 6) : 0;
    if (!r || fam !== m.family) errors.push(i);
    else copies.push(i);
  }
  return { mine: true, copies, errors };
}

/** Destination address of an untagged IPv4/IPv6 frame (for malformed messages). */
function malformedDst(frame: Uint8Array): Buffer | undefined {
  const f = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (f.length < 14) return undefined;
  const type = f.readUInt16BE(12);
  if (type === 0x0800 && f.length >= 34) return Buffer.from(f.subarray(30, 34));
  if (type === 0x86dd && f.length >= 54) return Buffer.from(f.subarray(38, 54));
  return undefined;
}
