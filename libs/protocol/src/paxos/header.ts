/**
 * The 32-byte common header: decoding with every check that does not need the body's type
 * (length, magic, version, type, body_len, sender, flags), and encoding.
 */
import {
  PAXOS_CLIENT_SENDER,
  PAXOS_HDR,
  PAXOS_HEADER_LEN,
  PAXOS_MAGIC,
  PAXOS_MAX_MSG,
  PAXOS_MAX_REPLICAS,
  PAXOS_VERSION,
  PaxosFlag,
  PaxosType,
  isPaxosType,
  paxosTypeName,
} from './constants.js';
import {
  NA_ERR_PAXOSWIRE_BAD_FLAGS,
  NA_ERR_PAXOSWIRE_BAD_LENGTH,
  NA_ERR_PAXOSWIRE_BAD_MAGIC,
  NA_ERR_PAXOSWIRE_BAD_SENDER,
  NA_ERR_PAXOSWIRE_BAD_TYPE,
  NA_ERR_PAXOSWIRE_BAD_VERSION,
  NA_ERR_PAXOSWIRE_TOO_LARGE,
  NA_ERR_PAXOSWIRE_TRUNCATED,
} from './errors.js';
import type { PaxosHeader } from './model.js';

const U64_MAX = (1n << 64n) - 1n;

/** A Buffer view of `bytes` without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes and checks the header of the datagram `bytes` (the whole UDP payload). Throws a typed
 * NA_ERR_PAXOSWIRE_* error whose details carry `type` once the type octet was read.
 */
export function decodePaxosHeader(bytes: Uint8Array): PaxosHeader {
  const buf = asBuffer(bytes);
  if (buf.length < PAXOS_HEADER_LEN) throw NA_ERR_PAXOSWIRE_TRUNCATED('header', PAXOS_HEADER_LEN, buf.length);
  if (buf.length > PAXOS_MAX_MSG) throw NA_ERR_PAXOSWIRE_TOO_LARGE('message', buf.length, PAXOS_MAX_MSG);
  const magic = buf.readUInt32BE(PAXOS_HDR.magic);
  if (magic !== PAXOS_MAGIC) throw NA_ERR_PAXOSWIRE_BAD_MAGIC(magic.toString(16).padStart(8, '0'));
  const version = buf[PAXOS_HDR.version]!;
  if (version !== PAXOS_VERSION) throw NA_ERR_PAXOSWIRE_BAD_VERSION(version);
  const type = buf[PAXOS_HDR.type]!;
  if (!isPaxosType(type)) throw NA_ERR_PAXOSWIRE_BAD_TYPE.with({ details: { type } }, type);
  const details = { details: { type } };
  const bodyLen = buf.readUInt32BE(PAXOS_HDR.bodyLen);
  if (bodyLen !== buf.length - PAXOS_HEADER_LEN) {
    throw NA_ERR_PAXOSWIRE_BAD_LENGTH.with(details, 'header.body_len', `${bodyLen} but the datagram carries ${buf.length - PAXOS_HEADER_LEN} bytes after the header`);
  }
  const sender = buf[PAXOS_HDR.sender]!;
  if (type === PaxosType.Request) {
    if (sender !== PAXOS_CLIENT_SENDER) throw NA_ERR_PAXOSWIRE_BAD_SENDER.with(details, `${sender} on a REQUEST, expected 255 (a client)`);
  } else if (sender >= PAXOS_MAX_REPLICAS) {
    throw NA_ERR_PAXOSWIRE_BAD_SENDER.with(details, `${sender} on a ${paxosTypeName(type)}, expected a replica index 0..${PAXOS_MAX_REPLICAS - 1}`);
  }
  const flags = buf[PAXOS_HDR.flags]!;
  const allowed = type === PaxosType.PrepareOk ? PaxosFlag.Fast | PaxosFlag.Quorum : type === PaxosType.Request ? PaxosFlag.Register : 0;
  if ((flags & ~allowed) !== 0) {
    throw NA_ERR_PAXOSWIRE_BAD_FLAGS.with(details, `0x${flags.toString(16)} on a ${paxosTypeName(type)}, allowed 0x${allowed.toString(16)}`);
  }
  return {
    type,
    sender,
    flags,
    view: buf.readUInt32BE(PAXOS_HDR.view),
    bodyLen,
    op: readU64(buf, PAXOS_HDR.op),
    commit: readU64(buf, PAXOS_HDR.commit),
  };
}

/** Fields of a header to encode; body_len is the body's length. */
export interface HeaderFields {
  readonly type: PaxosType;
  readonly sender: number;
  readonly flags?: number;
  readonly view: number;
  readonly op?: bigint;
  readonly commit?: bigint;
}

/** Writes the header into the first 32 bytes of `out` (whose length is the whole message). */
export function writePaxosHeader(out: Buffer, h: HeaderFields): void {
  out.writeUInt32BE(PAXOS_MAGIC, PAXOS_HDR.magic);
  out[PAXOS_HDR.version] = PAXOS_VERSION;
  out[PAXOS_HDR.type] = h.type;
  out[PAXOS_HDR.sender] = h.sender;
  out[PAXOS_HDR.flags] = h.flags ?? 0;
  out.writeUInt32BE(h.view >>> 0, PAXOS_HDR.view);
  out.writeUInt32BE(out.length - PAXOS_HEADER_LEN, PAXOS_HDR.bodyLen);
  writeU64(out, h.op ?? 0n, PAXOS_HDR.op);
  writeU64(out, h.commit ?? 0n, PAXOS_HDR.commit);
}

/**
 * The high halves (`hi << 32n`) of the u64s read last, by `hi & 3`: a client's id and its request
 * ids each keep one high half for long (a random base; a sequence), so a read of one allocates the
 * result and its low half instead of four BigInts.
 */
const highHi = [-1, -1, -1, -1];
const highBig = [0n, 0n, 0n, 0n];

/**
 * Reads a big-endian u64 at `at` (checked by the caller) with fewer BigInt allocations than
 * Buffer.readBigUInt64BE on the per-request path: 0 is the constant 0n, a value below 2^32 one
 * BigInt, a high half seen just before is reused.
 */
export function readU64(buf: Buffer, at: number): bigint {
  const hi = buf.readUInt32BE(at);
  const lo = buf.readUInt32BE(at + 4);
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo);
  const k = hi & 3;
  if (highHi[k] !== hi) {
    highHi[k] = hi;
    highBig[k] = BigInt(hi) << 32n;
  }
  return lo === 0 ? highBig[k]! : highBig[k]! | BigInt(lo);
}

/** Writes a u64 (checked by the caller) big-endian at `at`; 0 and values below 2^32 without BigInt arithmetic. */
export function writeU64(out: Buffer, v: bigint, at: number): void {
  if (v <= 0xffffffffn) {
    out.writeUInt32BE(0, at);
    out.writeUInt32BE(v === 0n ? 0 : Number(v), at + 4);
  } else out.writeBigUInt64BE(v, at);
}

/** True when `v` is an integer in 0..2^64-1. */
export function isU64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
}

/** True when `v` is an integer in 0..2^32-1. */
export function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}
