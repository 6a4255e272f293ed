/**
 * NetCRAQ wire format v1 (/work/helpers/craq-wire.md, bpf/craq/craq_kern_user.h): constants
 * shared with the XDP program. UDP, one message per datagram, big-endian, a 40-byte header, the
 * value, and for chain-internal messages a 28-byte client-address trailer at a 4-byte boundary.
 */

export const CRAQ_MAGIC = 0x4e43; // "NC"
export const CRAQ_WIRE_VERSION = 1;
/** Bytes of the fixed header. */
export const CRAQ_HEADER_LEN = 40;
/** Largest value carried, bytes (etcd values of hot keys: 100 B .. 1 KB; larger keys stay in etcd). */
export const CRAQ_MAX_VALUE = 1024;
/** Bytes of the client-address trailer (flag CLIENT). */
export const CRAQ_TRAILER_LEN = 28;
/** Default UDP port of every chain node. */
export const CRAQ_DEFAULT_PORT = 7480;
/** Seed of the 32-bit key_check hash (murmur3 x86_32). */
export const CRAQ_KEY_CHECK_SEED = 0x6e6163;

/** Operations. Replies to client operations set bit 0x80. */
export const CraqOp = {
  READ: 1,
  WRITE: 2,
  DELETE: 3,
  PROPAGATE: 4,
  ACK: 5,
  VERSION_QUERY: 6,
  VERSION_REPLY: 7,
  READ_REPLY: 0x81,
  WRITE_REPLY: 0x82,
  DELETE_REPLY: 0x83,
} as const;
export type CraqOpName = keyof typeof CraqOp;
export type CraqOpCode = (typeof CraqOp)[CraqOpName];

/** Reply statuses (requests carry 0). */
export const CraqStatus = {
  OK: 0,
  NOT_FOUND: 1,
  NOT_PLACED: 2,
  NOT_HEAD: 3,
  RETRY: 4,
  BAD_REQUEST: 5,
} as const;
export type CraqStatusName = keyof typeof CraqStatus;
export type CraqStatusCode = (typeof CraqStatus)[CraqStatusName];

/** Header flags. */
export const CraqFlag = {
  /** The reply was answered by the tail or after a version query to the tail. */
  FROM_TAIL: 0x01,
  /** A client-address trailer follows the (4-byte padded) value: chain-internal messages. */
  CLIENT: 0x02,
  /** PROPAGATE/ACK of a DELETE: the version is a tombstone. */
  TOMBSTONE: 0x04,
} as const;
export const CRAQ_FLAGS_MASK = 0x07;

const OP_NAMES = new Map<number, CraqOpName>(Object.entries(CraqOp).map(([k, v]) => [v, k as CraqOpName]));
const STATUS_NAMES = new Map<number, CraqStatusName>(Object.entries(CraqStatus).map(([k, v]) => [v, k as CraqStatusName]));

export function isCraqOp(op: number): op is CraqOpCode {
  return OP_NAMES.has(op);
}
export function craqOpName(op: number): string {
  return OP_NAMES.get(op) ?? `OP_${op}`;
}
export function isCraqStatus(status: number): status is CraqStatusCode {
  return STATUS_NAMES.has(status);
}
export function craqStatusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `STATUS_${status}`;
}

/** Ops that may carry a value; every other op has value_len 0. */
export const CRAQ_OPS_WITH_VALUE: ReadonlySet<number> = new Set([CraqOp.WRITE, CraqOp.PROPAGATE, CraqOp.READ_REPLY]);
/** Ops that always carry the client-address trailer. READ may carry it (NetChain forwarding). */
export const CRAQ_OPS_WITH_TRAILER: ReadonlySet<number> = new Set([
  CraqOp.PROPAGATE,
  CraqOp.ACK,
  CraqOp.VERSION_QUERY,
  CraqOp.VERSION_REPLY,
]);

/** The value's length rounded up to 4: where the trailer starts, after CRAQ_HEADER_LEN. */
export function craqPad4(n: number): number {
  return (n + 3) & ~3;
}
