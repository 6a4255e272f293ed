/**
 * Codecs of the NetCRAQ node's map structs (craq_kern_user.h): craq_config, craq_key with its
 * version slots, craq_commit (ring buffer records) and craq_counter. Offsets are checked
 * against the compiled object's BTF (craq-layout.bpf.test.ts). Host byte order is little-endian
 * (x86-64, arm64); addresses and ports are network order as in the C structs.
 */
import { formatIPv4, formatIPv6, formatMac, parseIPv4, parseIPv6, parseMac } from '@netaccel/protocol';

export const CRAQ_MAX_VALUE = 1024;
/** CRAQ_MAX_DIRTY of the default build; a build with another value has a larger craq_key. */
export const CRAQ_DEFAULT_MAX_DIRTY = 4;
/** CRAQ_REQ_RING (craq_consts.h): request records per key, craq_key.reqs. The codecs assume the default. */
export const CRAQ_REQ_RING = 64;

export const CRAQ_ROLE = Object.freeze({ HEAD: 0x1, TAIL: 0x2 } as const);
export const CRAQ_CFG = Object.freeze({ ENABLED: 0x1, NETCHAIN: 0x2 } as const);
export const CRAQ_SLOT = Object.freeze({ VALID: 0x1, TOMBSTONE: 0x2 } as const);
/** craq_key.flags: HOLD = the head answers every WRITE/DELETE of the key RETRY. */
export const CRAQ_KEY_F = Object.freeze({ HOLD: 0x1 } as const);

/** Byte sizes and member offsets (checked against BTF). */
export const CRAQ_LAYOUTS = Object.freeze({
  peer: { name: 'craq_peer', size: 28, members: { ip6: 0, ip4: 16, mac: 20, port: 26 } },
  config: { name: 'craq_config', size: 128, members: { flags: 0, role: 4, epoch: 8, port: 12, pad: 14, self: 16, pred: 44, succ: 72, tail: 100 } },
  slot: { name: 'craq_slot', size: 1056, members: { version: 0, csum: 8, len: 12, flags: 14, pad: 15, req_id: 16, value: 24 } },
  key: { name: 'craq_key', size: 48 + 1056 * (CRAQ_DEFAULT_MAX_DIRTY + 1) + 16 * CRAQ_REQ_RING, members: { key_check: 0, flags: 4, clean_version: 8, last_version: 16, reads: 24, writes: 32, dirty_full: 40, slots: 48, reqs: 48 + 1056 * (CRAQ_DEFAULT_MAX_DIRTY + 1) } },
  commit: { name: 'craq_commit', size: 1056, members: { key_id: 0, version: 8, key_check: 16, epoch: 20, value_len: 24, tombstone: 26, pad: 27, value: 32 } },
  counter: { name: 'craq_counter', size: 16, members: { packets: 0, bytes: 8 } },
  reqRec: { name: 'craq_req_rec', size: 16, members: { req_id: 0, version: 8 } },
  hdr: { name: 'craq_hdr', size: 40, members: { magic: 0, version: 2, op: 3, status: 4, flags: 5, value_len: 6, req_id: 8, key_id: 16, key_check: 24, epoch: 28, ver: 32 } },
  trailer: { name: 'craq_trailer', size: 28, members: { family: 0, pad: 1, port: 2, addr: 4, mac: 20, pad2: 26 } },
} as const);

/** A chain node's addresses as the config map holds them. */
export interface CraqPeer {
  readonly ip4: string;
  readonly ip6: string;
  readonly mac: string;
  readonly port: number;
}

export interface CraqConfig {
  readonly enabled: boolean;
  /** Chain replication (NetChain): only the tail answers reads and writes (no ACK up the chain). */
  readonly netchain: boolean;
  readonly head: boolean;
  readonly tail: boolean;
  readonly epoch: number;
  /** UDP port served (0: CRAQ_DEFAULT_PORT). */
  readonly port: number;
  readonly self: CraqPeer;
  readonly pred: CraqPeer;
  readonly succ: CraqPeer;
  readonly tail_: CraqPeer;
}

export interface CraqSlot {
  readonly version: bigint;
  readonly value: Uint8Array;
  readonly tombstone: boolean;
  /** The request (craq_hdr.req_id) that wrote this version; absent = 0 (installed by the scheduler, or a request without an id). */
  readonly reqId?: bigint;
}

export interface CraqKeyEntry {
  readonly keyCheck: number;
  readonly cleanVersion: bigint;
  readonly lastVersion: bigint;
  readonly reads: bigint;
  readonly writes: bigint;
  readonly dirtyFull: bigint;
  /** CRAQ_KEY_F.HOLD: writes of the key are answered RETRY at the head (the scheduler's hold). */
  readonly hold: boolean;
  /** slots[v % slots.length] holds version v; undefined = empty. */
  readonly slots: readonly (CraqSlot | undefined)[];
  /**
   * craq_key.reqs: the requests that created the key's last CRAQ_REQ_RING versions (at most
   * once), oldest first; absent when none. A read-modify-write of the entry keeps them.
   */
  readonly requests?: readonly CraqRequestRecord[];
}

export interface CraqCommit {
  readonly keyId: bigint;
  readonly version: bigint;
  readonly keyCheck: number;
  readonly epoch: number;
  readonly tombstone: boolean;
  readonly value: Uint8Array;
}

const SLOT_VALUE = CRAQ_LAYOUTS.slot.members.value;

export const NO_PEER: CraqPeer = Object.freeze({ ip4: '0.0.0.0', ip6: '::', mac: '00:00:00:00:00:00', port: 0 });

function encodePeer(b: Buffer, off: number, p: CraqPeer): void {
  b.set(parseIPv6(p.ip6, 'peer.ip6'), off);
  b.set(parseIPv4(p.ip4, 'peer.ip4'), off + 16);
  b.set(parseMac(p.mac, 'peer.mac'), off + 20);
  b.writeUInt16BE(p.port, off + 26);
}

function decodePeer(b: Uint8Array, off: number): CraqPeer {
  return { ip6: formatIPv6(b, off), ip4: formatIPv4(b, off + 16), mac: formatMac(b, off + 20), port: (b[off + 26]! << 8) | b[off + 27]! };
}

export function encodeConfig(c: CraqConfig): Buffer {
  const b = Buffer.alloc(CRAQ_LAYOUTS.config.size);
  b.writeUInt32LE((c.enabled ? CRAQ_CFG.ENABLED : 0) | (c.netchain ? CRAQ_CFG.NETCHAIN : 0), 0);
  b.writeUInt32LE((c.head ? CRAQ_ROLE.HEAD : 0) | (c.tail ? CRAQ_ROLE.TAIL : 0), 4);
  b.writeUInt32LE(c.epoch >>> 0, 8);
  b.writeUInt16BE(c.port, 12);
  encodePeer(b, 16, c.self);
  encodePeer(b, 44, c.pred);
  encodePeer(b, 72, c.succ);
  encodePeer(b, 100, c.tail_);
  return b;
}

export function decodeConfig(raw: Uint8Array): CraqConfig {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const flags = b.readUInt32LE(0);
  const role = b.readUInt32LE(4);
  return {
    enabled: (flags & CRAQ_CFG.ENABLED) !== 0,
    netchain: (flags & CRAQ_CFG.NETCHAIN) !== 0,
    head: (role & CRAQ_ROLE.HEAD) !== 0,
    tail: (role & CRAQ_ROLE.TAIL) !== 0,
    epoch: b.readUInt32LE(8),
    port: b.readUInt16BE(12),
    self: decodePeer(b, 16),
    pred: decodePeer(b, 44),
    succ: decodePeer(b, 72),
    tail_: decodePeer(b, 100),
  };
}

/**
 * The slot checksum the XDP program keeps: the one's-complement sum of the value as 16-bit
 * words loaded little-endian (bpf_csum_diff's order on this host), folded to 16 bits.
 */
export function slotChecksum(value: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < value.length; i += 2) sum += value[i]! | ((value[i + 1] ?? 0) << 8);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

const REQS_BYTES = CRAQ_LAYOUTS.reqRec.size * CRAQ_REQ_RING;

/** Key entry size for a build with `maxDirty` (CRAQ_MAX_DIRTY). */
export function keyEntrySize(maxDirty = CRAQ_DEFAULT_MAX_DIRTY): number {
  return 48 + CRAQ_LAYOUTS.slot.size * (maxDirty + 1) + REQS_BYTES;
}

/** Slots (CRAQ_MAX_DIRTY + 1) of a key entry of `bytes` bytes. */
export function slotsOf(bytes: number): number {
  return (bytes - 48 - REQS_BYTES) / CRAQ_LAYOUTS.slot.size;
}

function compareVersions(a: CraqRequestRecord, b: CraqRequestRecord): number {
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

/**
 * The ring a key entry holds after recording `records` over `old` as the program would (each in
 * reqs[version % CRAQ_REQ_RING], a newer version replacing an older one there; request id 0 not
 * recorded), oldest first.
 */
export function ringOf(old: readonly CraqRequestRecord[], records: readonly CraqRequestRecord[]): CraqRequestRecord[] {
  const ring = new Map<number, CraqRequestRecord>();
  for (const r of [...old, ...records]) {
    if (r.reqId === 0n) continue;
    const i = Number(r.version % BigInt(CRAQ_REQ_RING));
    const at = ring.get(i);
    if (at === undefined || at.version <= r.version) ring.set(i, r);
  }
  return [...ring.values()].sort(compareVersions);
}

/** `k` with `records` added to its request ring (ringOf). */
export function withRequests(k: CraqKeyEntry, records: readonly CraqRequestRecord[]): CraqKeyEntry {
  const { requests: old, ...rest } = k;
  const ring = ringOf(old ?? [], records);
  return ring.length === 0 ? rest : { ...rest, requests: ring };
}

export function encodeKeyEntry(k: CraqKeyEntry): Buffer {
  const n = k.slots.length;
  const b = Buffer.alloc(48 + CRAQ_LAYOUTS.slot.size * n + REQS_BYTES);
  b.writeUInt32LE(k.keyCheck >>> 0, 0);
  b.writeUInt32LE(k.hold ? CRAQ_KEY_F.HOLD : 0, 4);
  b.writeBigUInt64LE(k.cleanVersion, 8);
  b.writeBigUInt64LE(k.lastVersion, 16);
  b.writeBigUInt64LE(k.reads, 24);
  b.writeBigUInt64LE(k.writes, 32);
  b.writeBigUInt64LE(k.dirtyFull, 40);
  k.slots.forEach((s, i) => {
    if (s === undefined) return;
    if (s.value.length > CRAQ_MAX_VALUE) throw new RangeError(`slots[${i}].value: ${s.value.length} bytes exceed ${CRAQ_MAX_VALUE}`);
    if (Number(s.version % BigInt(n)) !== i) throw new RangeError(`slots[${i}]: version ${s.version} belongs in slot ${s.version % BigInt(n)}`);
    const off = 48 + CRAQ_LAYOUTS.slot.size * i;
    b.writeBigUInt64LE(s.version, off);
    b.writeUInt32LE(slotChecksum(s.value), off + 8);
    b.writeUInt16LE(s.value.length, off + 12);
    b[off + 14] = CRAQ_SLOT.VALID | (s.tombstone ? CRAQ_SLOT.TOMBSTONE : 0);
    b.writeBigUInt64LE(s.reqId ?? 0n, off + 16);
    b.set(s.value, off + SLOT_VALUE);
  });
  const reqs = 48 + CRAQ_LAYOUTS.slot.size * n;
  for (const r of ringOf([], k.requests ?? [])) {
    const off = reqs + CRAQ_LAYOUTS.reqRec.size * Number(r.version % BigInt(CRAQ_REQ_RING));
    b.writeBigUInt64LE(r.reqId, off);
    b.writeBigUInt64LE(r.version, off + 8);
  }
  return b;
}

export function decodeKeyEntry(raw: Uint8Array): CraqKeyEntry {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = slotsOf(b.length);
  const slots: (CraqSlot | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const off = 48 + CRAQ_LAYOUTS.slot.size * i;
    const flags = b[off + 14]!;
    if ((flags & CRAQ_SLOT.VALID) === 0) {
      slots.push(undefined);
      continue;
    }
    const len = b.readUInt16LE(off + 12);
    const reqId = b.readBigUInt64LE(off + 16);
    slots.push({ version: b.readBigUInt64LE(off), value: Uint8Array.from(b.subarray(off + SLOT_VALUE, off + SLOT_VALUE + len)), tombstone: (flags & CRAQ_SLOT.TOMBSTONE) !== 0, ...(reqId === 0n ? {} : { reqId }) });
  }
  const requests: CraqRequestRecord[] = [];
  for (let i = 0, off = 48 + CRAQ_LAYOUTS.slot.size * n; i < CRAQ_REQ_RING; i++, off += CRAQ_LAYOUTS.reqRec.size) {
    const reqId = b.readBigUInt64LE(off);
    if (reqId !== 0n) requests.push({ reqId, version: b.readBigUInt64LE(off + 8) });
  }
  requests.sort(compareVersions);
  return {
    keyCheck: b.readUInt32LE(0),
    cleanVersion: b.readBigUInt64LE(8),
    lastVersion: b.readBigUInt64LE(16),
    reads: b.readBigUInt64LE(24),
    writes: b.readBigUInt64LE(32),
    dirtyFull: b.readBigUInt64LE(40),
    hold: (b.readUInt32LE(4) & CRAQ_KEY_F.HOLD) !== 0,
    slots,
    ...(requests.length === 0 ? {} : { requests }),
  };
}

/** A new key placed with its committed value at `version` (0 and no value: placed, no value). */
export function placedKey(keyCheck: number, version: bigint, value: Uint8Array | undefined, opts: { tombstone?: boolean; maxDirty?: number; hold?: boolean } = {}): CraqKeyEntry {
  const n = (opts.maxDirty ?? CRAQ_DEFAULT_MAX_DIRTY) + 1;
  const slots: (CraqSlot | undefined)[] = Array.from({ length: n }, () => undefined);
  if (value !== undefined) slots[Number(version % BigInt(n))] = { version, value, tombstone: opts.tombstone ?? false };
  return { keyCheck, cleanVersion: version, lastVersion: version, reads: 0n, writes: 0n, dirtyFull: 0n, hold: opts.hold ?? false, slots };
}

/** A request that created a version (craq_key.reqs: what a repair copies to every node). */
export interface CraqRequestRecord {
  readonly reqId: bigint;
  readonly version: bigint;
}

/**
 * The requests an entry knows (its request ring and the slots' request ids, those with an id, up
 * to lastVersion), oldest first: what the scheduler's repair copies into the entry of every node
 * it installs a version on, so that whichever node is head later knows those requests.
 */
export function requestsHeld(k: CraqKeyEntry): CraqRequestRecord[] {
  const slots: CraqRequestRecord[] = [];
  for (const s of k.slots) if (s !== undefined && s.reqId !== undefined) slots.push({ reqId: s.reqId, version: s.version });
  return ringOf(k.requests ?? [], slots).filter((r) => r.version <= k.lastVersion);
}

/** The craq_keys map key: the key id in host (little-endian) order. */
export function encodeKeyId(keyId: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(keyId);
  return b;
}

export function decodeCommit(raw: Uint8Array): CraqCommit {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const len = b.readUInt16LE(24);
  return {
    keyId: b.readBigUInt64LE(0),
    version: b.readBigUInt64LE(8),
    keyCheck: b.readUInt32LE(16),
    epoch: b.readUInt32LE(20),
    tombstone: b[26] !== 0,
    value: Uint8Array.from(b.subarray(32, 32 + Math.min(len, CRAQ_MAX_VALUE))),
  };
}

export interface CraqCounter {
  readonly packets: bigint;
  readonly bytes: bigint;
}

/** Sums per-CPU craq_counter values. */
export function sumCounters(values: readonly Uint8Array[]): CraqCounter {
  let packets = 0n;
  let bytes = 0n;
  for (const v of values) {
    const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    packets += b.readBigUInt64LE(0);
    bytes += b.readBigUInt64LE(8);
  }
  return { packets, bytes };
}

export function encodeU32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
