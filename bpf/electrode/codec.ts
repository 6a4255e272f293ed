/**
 * Codecs for every struct the Electrode offloads share with user space (electrode_kern_user.h):
 * map values to and from Buffers. Addresses and ports are network order as in the header; every
 * other integer is host order (little-endian: x86-64 and arm64). ELECTRODE_LAYOUTS states each
 * struct's size and member offsets; btf-layout.bpf.test.ts checks them against the compiled
 * object.
 *
 * Addresses are text ('10.0.0.1', '2001:db8::1'); the family follows from the text. Bad input
 * throws a RangeError whose message starts with the field path.
 */
import { formatIp, formatMac, parseIp, parseMac } from '@netaccel/protocol';
import { ELECTRODE_MAX_BODY, ELECTRODE_REPLICA_F, ELECTRODE_STATUS } from './constants.js';
import type { ElectrodeStatusName } from './constants.js';

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly members: Readonly<Record<string, number>>;
}

/** Size and member offsets of each shared struct (C names). */
export const ELECTRODE_LAYOUTS = Object.freeze({
  paxosHdr: {
    name: 'paxos_hdr',
    size: 32,
    members: { magic: 0, version: 4, type: 5, sender: 6, flags: 7, view: 8, body_len: 12, op: 16, commit: 24 },
  },
  state: {
    name: 'electrode_state',
    size: 32,
    members: { view: 0, status: 4, self: 5, leader: 6, n: 7, last_op: 8, commit: 16, offloads: 24, pad: 28 },
  },
  replica: { name: 'electrode_replica', size: 32, members: { addr: 0, port: 16, family: 18, flags: 19, mac: 20, pad: 26, ifindex: 28 } },
  logEntry: {
    name: 'electrode_log_entry',
    size: 32 + ELECTRODE_MAX_BODY,
    members: { state: 0, view: 4, op: 8, commit: 16, len: 24, pad: 28, body: 32 },
  },
  quorumSlot: { name: 'electrode_quorum_slot', size: 24, members: { lock: 0, view: 4, op: 8, acks: 16, done: 20 } },
  counter: { name: 'electrode_counter', size: 16, members: { packets: 0, bytes: 8 } },
} as const satisfies Record<string, StructLayout>);

const L = ELECTRODE_LAYOUTS;

// --- field helpers ----------------------------------------------------------------------------

function uint(path: string, v: unknown, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${path}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

const U64_MAX = (1n << 64n) - 1n;

function u64(path: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new RangeError(`${path}: expected a bigint 0..2^64-1, got ${String(v)}`);
  return v;
}

function check(buf: Uint8Array, layout: StructLayout): Buffer {
  if (buf.length !== layout.size) throw new RangeError(`${layout.name}: expected ${layout.size} bytes, got ${buf.length}`);
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A u32 map key (host order). */
export function encodeU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(uint('key', v, 0xffffffff));
  return b;
}

// --- electrode_state --------------------------------------------------------------------------

/** The replica state the programs read (libs/paxos' publish() plus the offload switches). */
export interface ElectrodeState {
  readonly view: number;
  readonly status: ElectrodeStatusName;
  readonly self: number;
  readonly leader: number;
  readonly n: number;
  readonly lastOp: bigint;
  readonly commit: bigint;
  /** ELECTRODE_OFF_* bits. */
  readonly offloads: number;
}

export function encodeState(s: ElectrodeState): Buffer {
  const b = Buffer.alloc(L.state.size);
  const status = ELECTRODE_STATUS[s.status];
  if (status === undefined) throw new RangeError(`electrode_state.status: expected normal, view-change or recovering, got ${JSON.stringify(s.status)}`);
  b.writeUInt32LE(uint('electrode_state.view', s.view, 0xffffffff), L.state.members.view);
  b.writeUInt8(status, L.state.members.status);
  b.writeUInt8(uint('electrode_state.self', s.self, 30), L.state.members.self);
  b.writeUInt8(uint('electrode_state.leader', s.leader, 30), L.state.members.leader);
  b.writeUInt8(uint('electrode_state.n', s.n, 31, 1), L.state.members.n);
  b.writeBigUInt64LE(u64('electrode_state.lastOp', s.lastOp), L.state.members.last_op);
  b.writeBigUInt64LE(u64('electrode_state.commit', s.commit), L.state.members.commit);
  b.writeUInt32LE(uint('electrode_state.offloads', s.offloads, 0x7), L.state.members.offloads);
  return b;
}

export function decodeState(buf: Uint8Array): ElectrodeState {
  const b = check(buf, L.state);
  const code = b.readUInt8(L.state.members.status);
  const status = (Object.entries(ELECTRODE_STATUS).find(([, v]) => v === code)?.[0] ?? undefined) as ElectrodeStatusName | undefined;
  if (!status) throw new RangeError(`electrode_state.status: expected 0..2, got ${code}`);
  return {
    view: b.readUInt32LE(L.state.members.view),
    status,
    self: b.readUInt8(L.state.members.self),
    leader: b.readUInt8(L.state.members.leader),
    n: b.readUInt8(L.state.members.n),
    lastOp: b.readBigUInt64LE(L.state.members.last_op),
    commit: b.readBigUInt64LE(L.state.members.commit),
    offloads: b.readUInt32LE(L.state.members.offloads),
  };
}

// --- electrode_replica ------------------------------------------------------------------------

/** How to reach one replica (el_config[i]). */
export interface ReplicaConfig {
  /** IPv4 or IPv6 address. */
  readonly address: string;
  /** UDP port (the same for all replicas of a group). */
  readonly port: number;
  readonly mac: string;
  /** This host's interface towards the replica (the broadcast copies leave through it); 0 if unknown. */
  readonly ifindex: number;
}

export function encodeReplica(r: ReplicaConfig, path = 'replica'): Buffer {
  const b = Buffer.alloc(L.replica.size);
  const addr = parseIp(r.address, `${path}.address`);
  b.set(addr, L.replica.members.addr);
  b.writeUInt16BE(uint(`${path}.port`, r.port, 0xffff, 1), L.replica.members.port);
  b.writeUInt8(addr.length === 4 ? 4 : 6, L.replica.members.family);
  b.writeUInt8(ELECTRODE_REPLICA_F.VALID, L.replica.members.flags);
  b.set(parseMac(r.mac, `${path}.mac`), L.replica.members.mac);
  b.writeUInt32LE(uint(`${path}.ifindex`, r.ifindex, 0xffffffff), L.replica.members.ifindex);
  return b;
}

/** The replica, or undefined for an entry without the VALID flag. */
export function decodeReplica(buf: Uint8Array): ReplicaConfig | undefined {
  const b = check(buf, L.replica);
  if (!(b.readUInt8(L.replica.members.flags) & ELECTRODE_REPLICA_F.VALID)) return undefined;
  const family = b.readUInt8(L.replica.members.family);
  const a = L.replica.members.addr;
  return {
    address: formatIp(b.subarray(a, a + (family === 4 ? 4 : 16))),
    port: b.readUInt16BE(L.replica.members.port),
    mac: formatMac(b, L.replica.members.mac),
    ifindex: b.readUInt32LE(L.replica.members.ifindex),
  };
}

// --- electrode_log_entry ----------------------------------------------------------------------

/** A ring slot: its state word, and the Prepare it holds when FULL. */
export interface LogEntry {
  /** ELECTRODE_SLOT value. */
  readonly state: number;
  readonly view: number;
  readonly op: bigint;
  readonly commit: bigint;
  /** The Prepare's body (after the 32-byte header). */
  readonly body: Buffer;
}

export function encodeLogEntry(e: LogEntry): Buffer {
  const b = Buffer.alloc(L.logEntry.size);
  if (e.body.length > ELECTRODE_MAX_BODY) throw new RangeError(`electrode_log_entry.body: at most ${ELECTRODE_MAX_BODY} bytes, got ${e.body.length}`);
  b.writeUInt32LE(uint('electrode_log_entry.state', e.state, 2), L.logEntry.members.state);
  b.writeUInt32LE(uint('electrode_log_entry.view', e.view, 0xffffffff), L.logEntry.members.view);
  b.writeBigUInt64LE(u64('electrode_log_entry.op', e.op), L.logEntry.members.op);
  b.writeBigUInt64LE(u64('electrode_log_entry.commit', e.commit), L.logEntry.members.commit);
  b.writeUInt32LE(e.body.length, L.logEntry.members.len);
  b.set(e.body, L.logEntry.members.body);
  return b;
}

/** Decodes a slot; a length beyond the body area is refused (the entry is not trusted). */
export function decodeLogEntry(buf: Uint8Array): LogEntry {
  const b = check(buf, L.logEntry);
  const len = b.readUInt32LE(L.logEntry.members.len);
  if (len > ELECTRODE_MAX_BODY) throw new RangeError(`electrode_log_entry.len: at most ${ELECTRODE_MAX_BODY}, got ${len}`);
  const at = L.logEntry.members.body;
  return {
    state: b.readUInt32LE(L.logEntry.members.state),
    view: b.readUInt32LE(L.logEntry.members.view),
    op: b.readBigUInt64LE(L.logEntry.members.op),
    commit: b.readBigUInt64LE(L.logEntry.members.commit),
    body: Buffer.from(b.subarray(at, at + len)),
  };
}

/** A FREE slot (what drain writes back). */
export const FREE_LOG_ENTRY: Buffer = Buffer.alloc(L.logEntry.size);

// --- electrode_quorum_slot --------------------------------------------------------------------

export interface QuorumSlot {
  readonly view: number;
  readonly op: bigint;
  /** Bit i: replica i acknowledged op. */
  readonly acks: number;
  readonly done: boolean;
}

export function encodeQuorumSlot(q: QuorumSlot): Buffer {
  const b = Buffer.alloc(L.quorumSlot.size);
  b.writeUInt32LE(uint('electrode_quorum_slot.view', q.view, 0xffffffff), L.quorumSlot.members.view);
  b.writeBigUInt64LE(u64('electrode_quorum_slot.op', q.op), L.quorumSlot.members.op);
  b.writeUInt32LE(uint('electrode_quorum_slot.acks', q.acks, 0x7fffffff), L.quorumSlot.members.acks);
  b.writeUInt32LE(q.done ? 1 : 0, L.quorumSlot.members.done);
  return b;
}

export function decodeQuorumSlot(buf: Uint8Array): QuorumSlot {
  const b = check(buf, L.quorumSlot);
  return {
    view: b.readUInt32LE(L.quorumSlot.members.view),
    op: b.readBigUInt64LE(L.quorumSlot.members.op),
    acks: b.readUInt32LE(L.quorumSlot.members.acks),
    done: b.readUInt32LE(L.quorumSlot.members.done) !== 0,
  };
}

// --- counters ---------------------------------------------------------------------------------

export interface Counter {
  readonly packets: bigint;
  readonly bytes: bigint;
}

/** Sums a per-CPU electrode_counter's values. */
export function decodeCounter(perCpu: readonly Uint8Array[]): Counter {
  let packets = 0n;
  let bytes = 0n;
  for (const v of perCpu) {
    const b = check(v, L.counter);
    packets += b.readBigUInt64LE(0);
    bytes += b.readBigUInt64LE(8);
  }
  return { packets, bytes };
}

/** Sums a per-CPU __u64's values. */
export function decodeU64Sum(perCpu: readonly Uint8Array[]): bigint {
  let sum = 0n;
  for (const v of perCpu) sum += Buffer.from(v.buffer, v.byteOffset, v.byteLength).readBigUInt64LE(0);
  return sum;
}
