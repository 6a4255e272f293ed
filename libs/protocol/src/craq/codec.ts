/**
 * Encode and decode NetCRAQ messages (wire format v1, bpf/craq/craq_kern_user.h `struct craq_hdr`
 * and `struct craq_trailer`). Decoding is strict: a message is the header, exactly value_len
 * bytes of value and, when flag CLIENT is set, zero padding to a 4-byte boundary and the 28-byte
 * client-address trailer; anything else is a typed error (`NA_ERR_CRAQWIRE_*`), never a guess.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../ip/address.js';
import { formatMac, parseMac } from '../packet/mac.js';
import {
  CRAQ_FLAGS_MASK,
  CRAQ_HEADER_LEN,
  CRAQ_MAGIC,
  CRAQ_MAX_VALUE,
  CRAQ_OPS_WITH_TRAILER,
  CRAQ_OPS_WITH_VALUE,
  CRAQ_TRAILER_LEN,
  CRAQ_WIRE_VERSION,
  CraqFlag,
  CraqOp,
  craqOpName,
  craqPad4,
  isCraqOp,
  isCraqStatus,
} from './constants.js';
import type { CraqOpCode, CraqStatusCode } from './constants.js';
import {
  NA_ERR_CRAQWIRE_BAD_FLAGS,
  NA_ERR_CRAQWIRE_BAD_LENGTH,
  NA_ERR_CRAQWIRE_BAD_MAGIC,
  NA_ERR_CRAQWIRE_BAD_STATUS,
  NA_ERR_CRAQWIRE_BAD_TRAILER,
  NA_ERR_CRAQWIRE_BAD_VERSION,
  NA_ERR_CRAQWIRE_INVALID_MESSAGE,
  NA_ERR_CRAQWIRE_TRUNCATED,
  NA_ERR_CRAQWIRE_UNEXPECTED_VALUE,
  NA_ERR_CRAQWIRE_UNKNOWN_OP,
  NA_ERR_CRAQWIRE_VALUE_TOO_LARGE,
} from './errors.js';

/** The client a chain-internal message answers in the end (the trailer). */
export interface CraqClientAddress {
  readonly family: 4 | 6;
  /** Canonical IPv4 or IPv6 text. */
  readonly address: string;
  readonly port: number;
  /** The L2 source address the request arrived from (the client's or its router's). */
  readonly mac: string;
}

export interface CraqMessage {
  readonly op: CraqOpCode;
  readonly status: CraqStatusCode;
  /** CraqFlag bits. CLIENT is set exactly when `client` is present (encode sets it). */
  readonly flags: number;
  readonly reqId: bigint;
  readonly keyId: bigint;
  readonly keyCheck: number;
  readonly epoch: number;
  readonly version: bigint;
  readonly value: Uint8Array;
  readonly client?: CraqClientAddress;
}

/** A message to encode: omitted fields are 0 / empty. */
export type CraqMessageInit = Pick<CraqMessage, 'op'> & Partial<Omit<CraqMessage, 'op'>>;

const U64_MAX = 0xffffffffffffffffn;

function invalid(field: string, why: string): never {
  throw NA_ERR_CRAQWIRE_INVALID_MESSAGE.with({ details: { field } }, `${field}: ${why}`);
}

function checkUint(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) invalid(field, `expected an integer 0..${max}, got ${String(v)}`);
}

function checkU64(field: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) invalid(field, `expected a bigint 0..2^64-1, got ${String(v)}`);
}

/** Total bytes of a message with this value length, with or without the trailer. */
export function craqMessageLength(valueLen: number, withTrailer: boolean): number {
  return withTrailer ? CRAQ_HEADER_LEN + craqPad4(valueLen) + CRAQ_TRAILER_LEN : CRAQ_HEADER_LEN + valueLen;
}

function encodeTrailer(out: Uint8Array, off: number, c: CraqClientAddress): void {
  if (c.family !== 4 && c.family !== 6) invalid('client.family', `expected 4 or 6, got ${String(c.family)}`);
  checkUint('client.port', c.port, 0xffff);
  const addr = c.family === 4 ? parseIPv4(c.address, 'client.address') : parseIPv6(c.address, 'client.address');
  const mac = parseMac(c.mac, 'client.mac');
  out[off] = c.family;
  out[off + 2] = c.port >>> 8;
  out[off + 3] = c.port & 0xff;
  out.set(addr, off + 4);
  out.set(mac, off + 20);
}

/** Encodes a message. Throws NA_ERR_CRAQWIRE_INVALID_MESSAGE on a field out of range. */
export function encodeCraq(init: CraqMessageInit): Uint8Array {
  const m = { status: 0, flags: 0, reqId: 0n, keyId: 0n, keyCheck: 0, epoch: 0, version: 0n, value: new Uint8Array(0), ...init };
  if (!isCraqOp(m.op)) invalid('op', `${String(m.op)} is not a known operation`);
  if (!isCraqStatus(m.status)) invalid('status', `${String(m.status)} is not a known status`);
  checkUint('flags', m.flags, CRAQ_FLAGS_MASK);
  checkUint('keyCheck', m.keyCheck, 0xffffffff);
  checkUint('epoch', m.epoch, 0xffffffff);
  checkU64('reqId', m.reqId);
  checkU64('keyId', m.keyId);
  checkU64('version', m.version);
  if (!(m.value instanceof Uint8Array)) invalid('value', 'expected a Uint8Array');
  if (m.value.length > CRAQ_MAX_VALUE) invalid('value', `${m.value.length} bytes exceed CRAQ_MAX_VALUE (${CRAQ_MAX_VALUE})`);
  if (m.value.length > 0 && !CRAQ_OPS_WITH_VALUE.has(m.op)) invalid('value', `${craqOpName(m.op)} carries no value`);
  const withTrailer = m.client !== undefined;
  if (CRAQ_OPS_WITH_TRAILER.has(m.op) && !withTrailer) invalid('client', `${craqOpName(m.op)} needs the client address`);
  if (withTrailer && !CRAQ_OPS_WITH_TRAILER.has(m.op) && m.op !== CraqOp.READ) invalid('client', `${craqOpName(m.op)} carries no client address`);
  const flags = withTrailer ? m.flags | CraqFlag.CLIENT : m.flags & ~CraqFlag.CLIENT;
  const out = new Uint8Array(craqMessageLength(m.value.length, withTrailer));
  const dv = new DataView(out.buffer);
  dv.setUint16(0, CRAQ_MAGIC);
  out[2] = CRAQ_WIRE_VERSION;
  out[3] = m.op;
  out[4] = m.status;
  out[5] = flags;
  dv.setUint16(6, m.value.length);
  dv.setBigUint64(8, m.reqId);
  dv.setBigUint64(16, m.keyId);
  dv.setUint32(24, m.keyCheck);
  dv.setUint32(28, m.epoch);
  dv.setBigUint64(32, m.version);
  out.set(m.value, CRAQ_HEADER_LEN);
  if (m.client !== undefined) encodeTrailer(out, CRAQ_HEADER_LEN + craqPad4(m.value.length), m.client);
  return out;
}

function decodeTrailer(b: Uint8Array, off: number): CraqClientAddress {
  const family = b[off]!;
  const bad = (why: string): never => {
    throw NA_ERR_CRAQWIRE_BAD_TRAILER.with({ details: { layer: 'craq', offset: off, field: 'trailer' } }, off, why);
  };
  if (family !== 4 && family !== 6) bad(`family ${family} is not 4 or 6`);
  if (b[off + 1] !== 0 || b[off + 26] !== 0 || b[off + 27] !== 0) bad('reserved bytes are not zero');
  if (family === 4 && b.subarray(off + 8, off + 20).some((x) => x !== 0)) bad('an IPv4 address with bytes after its fourth');
  return {
    family: family as 4 | 6,
    address: family === 4 ? formatIPv4(b, off + 4) : formatIPv6(b, off + 4),
    port: (b[off + 2]! << 8) | b[off + 3]!,
    mac: formatMac(b, off + 20),
  };
}

/** Decodes one datagram's payload. Throws a typed NA_ERR_CRAQWIRE_* error on anything malformed. */
export function decodeCraq(bytes: Uint8Array): CraqMessage {
  const at = (offset: number, field: string): { details: Record<string, unknown> } => ({ details: { layer: 'craq', offset, field } });
  if (bytes.length < CRAQ_HEADER_LEN) {
    throw NA_ERR_CRAQWIRE_TRUNCATED.with(at(0, 'header'), 'header', 0, CRAQ_HEADER_LEN, bytes.length);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint16(0);
  if (magic !== CRAQ_MAGIC) throw NA_ERR_CRAQWIRE_BAD_MAGIC.with(at(0, 'magic'), magic.toString(16));
  if (bytes[2] !== CRAQ_WIRE_VERSION) throw NA_ERR_CRAQWIRE_BAD_VERSION.with(at(2, 'version'), bytes[2]);
  const op = bytes[3]!;
  if (!isCraqOp(op)) throw NA_ERR_CRAQWIRE_UNKNOWN_OP.with(at(3, 'op'), op);
  const status = bytes[4]!;
  if (!isCraqStatus(status)) throw NA_ERR_CRAQWIRE_BAD_STATUS.with(at(4, 'status'), `${status} is not a known status`);
  if (op < 0x80 && status !== 0) throw NA_ERR_CRAQWIRE_BAD_STATUS.with(at(4, 'status'), `${craqOpName(op)} is a request, status must be 0, got ${status}`);
  const flags = bytes[5]!;
  if ((flags & ~CRAQ_FLAGS_MASK) !== 0) throw NA_ERR_CRAQWIRE_BAD_FLAGS.with(at(5, 'flags'), `unknown bits 0x${flags.toString(16)}`);
  const withTrailer = (flags & CraqFlag.CLIENT) !== 0;
  if (withTrailer !== CRAQ_OPS_WITH_TRAILER.has(op) && !(op === CraqOp.READ && withTrailer)) {
    throw NA_ERR_CRAQWIRE_BAD_FLAGS.with(at(5, 'flags'), `CLIENT is ${withTrailer ? 'set' : 'clear'} on ${craqOpName(op)}`);
  }
  const valueLen = dv.getUint16(6);
  if (valueLen > CRAQ_MAX_VALUE) throw NA_ERR_CRAQWIRE_VALUE_TOO_LARGE.with(at(6, 'value_len'), valueLen, CRAQ_MAX_VALUE);
  if (valueLen > 0 && !CRAQ_OPS_WITH_VALUE.has(op)) throw NA_ERR_CRAQWIRE_UNEXPECTED_VALUE.with(at(6, 'value_len'), craqOpName(op), valueLen);
  const total = craqMessageLength(valueLen, withTrailer);
  if (bytes.length < total) {
    throw NA_ERR_CRAQWIRE_TRUNCATED.with(at(CRAQ_HEADER_LEN, 'value'), withTrailer ? 'value and trailer' : 'value', CRAQ_HEADER_LEN, total - CRAQ_HEADER_LEN, bytes.length - CRAQ_HEADER_LEN);
  }
  if (bytes.length !== total) throw NA_ERR_CRAQWIRE_BAD_LENGTH.with(at(6, 'value_len'), bytes.length, total);
  const trailerAt = CRAQ_HEADER_LEN + craqPad4(valueLen);
  if (withTrailer && bytes.subarray(CRAQ_HEADER_LEN + valueLen, trailerAt).some((x) => x !== 0)) {
    throw NA_ERR_CRAQWIRE_BAD_TRAILER.with(at(CRAQ_HEADER_LEN + valueLen, 'padding'), CRAQ_HEADER_LEN + valueLen, 'padding before the trailer is not zero');
  }
  const msg: CraqMessage = {
    op,
    status,
    flags,
    reqId: dv.getBigUint64(8),
    keyId: dv.getBigUint64(16),
    keyCheck: dv.getUint32(24),
    epoch: dv.getUint32(28),
    version: dv.getBigUint64(32),
    value: bytes.slice(CRAQ_HEADER_LEN, CRAQ_HEADER_LEN + valueLen),
  };
  return withTrailer ? { ...msg, client: decodeTrailer(bytes, trailerAt) } : msg;
}
