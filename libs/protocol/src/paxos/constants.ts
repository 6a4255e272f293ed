/**
 * Constants of the netaccel Paxos/VR wire format v1 (docs: ./README.md; the same numbers are in
 * bpf/electrode/electrode_kern_user.h). UDP, one message per datagram, big-endian integers.
 */

/** "NAPX". */
export const PAXOS_MAGIC = 0x4e415058;
export const PAXOS_VERSION = 1;
/** Default UDP port of a replica group. */
export const PAXOS_DEFAULT_PORT = 7470;
/** Bytes of the common header. */
export const PAXOS_HEADER_LEN = 32;
/** Largest UDP payload of one message: one packet per message in a 1500-byte MTU (IPv4 and IPv6). */
export const PAXOS_MAX_MSG = 1400;
/** Largest body. */
export const PAXOS_MAX_BODY = PAXOS_MAX_MSG - PAXOS_HEADER_LEN;
/** Bytes NEW_STATE spends around one entry (op u64, view u32, len u16), and its count u16. */
export const PAXOS_STATE_ENTRY_OVERHEAD = 14;
/**
 * Largest log entry (a PREPARE body): small enough that NEW_STATE can carry any entry alone
 * (1400 - 32 - 2 - 14 = 1352).
 */
export const PAXOS_MAX_ENTRY = PAXOS_MAX_BODY - 2 - PAXOS_STATE_ENTRY_OVERHEAD;
/** Bytes around one request inside an entry: client_id u64, request_id u64, op_len u16. */
export const PAXOS_REQUEST_OVERHEAD = 18;
/** Largest client operation: it fits alone in an entry (1352 - 2 - 18 = 1332). */
export const PAXOS_MAX_OP = PAXOS_MAX_ENTRY - 2 - PAXOS_REQUEST_OVERHEAD;
/** Bytes of a CHECKPOINT body around its chunk: total_len u32, checksum u32, offset u32, len u16. */
export const PAXOS_CHECKPOINT_CHUNK_OVERHEAD = 14;
/** Largest chunk of a checkpoint in one CHECKPOINT (1400 - 32 - 14 = 1354). */
export const PAXOS_MAX_CHUNK = PAXOS_MAX_BODY - PAXOS_CHECKPOINT_CHUNK_OVERHEAD;
/** Largest checkpoint (total_len) a receiver accepts: 64 MiB. */
export const PAXOS_MAX_CHECKPOINT = 64 << 20;
/** `sender` of a client's message. */
export const PAXOS_CLIENT_SENDER = 0xff;
/** Replica indices are 0..30 (the leader's quorum bitset is 32 bits wide). */
export const PAXOS_MAX_REPLICAS = 31;

/** Byte offsets of the header fields (struct paxos_hdr). */
export const PAXOS_HDR = {
  magic: 0,
  version: 4,
  type: 5,
  sender: 6,
  flags: 7,
  view: 8,
  bodyLen: 12,
  op: 16,
  commit: 24,
} as const;

export const PaxosType = {
  Request: 1,
  Reply: 2,
  Prepare: 3,
  PrepareOk: 4,
  Commit: 5,
  StartViewChange: 6,
  DoViewChange: 7,
  StartView: 8,
  GetState: 9,
  NewState: 10,
  Recovery: 11,
  RecoveryResponse: 12,
  Checkpoint: 13,
  GetCheckpoint: 14,
} as const;
export type PaxosType = (typeof PaxosType)[keyof typeof PaxosType];

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'REQUEST',
  2: 'REPLY',
  3: 'PREPARE',
  4: 'PREPARE_OK',
  5: 'COMMIT',
  6: 'START_VIEW_CHANGE',
  7: 'DO_VIEW_CHANGE',
  8: 'START_VIEW',
  9: 'GET_STATE',
  10: 'NEW_STATE',
  11: 'RECOVERY',
  12: 'RECOVERY_RESPONSE',
  13: 'CHECKPOINT',
  14: 'GET_CHECKPOINT',
};

export function paxosTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

export function isPaxosType(type: number): type is PaxosType {
  return TYPE_NAMES[type] !== undefined;
}

export const PaxosFlag = {
  /** Set by the follower's XDP fast-ack on a PREPARE_OK it generated. */
  Fast: 0x01,
  /** Set by the leader's XDP quorum program on the PREPARE_OK that completes the quorum. */
  Quorum: 0x02,
  /**
   * On a REQUEST: a client session's registration (libs/paxos client sessions): request_id is
   * PAXOS_REGISTER_ID and the op is empty; it is executed through the log like any request and
   * the reply's result is the session's client id (u64). Set exactly when request_id is
   * PAXOS_REGISTER_ID (anything else is refused by the decoder).
   */
  Register: 0x04,
} as const;

/**
 * request_id of a session registration (2^63): in a log entry, a request with this id is a
 * registration (its op must be empty), so the entry carries no flag of its own.
 */
export const PAXOS_REGISTER_ID = 1n << 63n;

export const ReplyStatus = {
  Ok: 0,
  /** The replica is not the leader; the result is one byte, the leader's index. */
  NotLeader: 1,
  /** The state machine refused the operation; the result is its message. */
  Error: 2,
  /**
   * Not executed: the client's row of the replica's client table was evicted (libs/paxos
   * ClientTable) and the request claims earlier ones, so it may be a retry of an executed one.
   * The result is empty.
   */
  SessionExpired: 3,
} as const;
export type ReplyStatus = (typeof ReplyStatus)[keyof typeof ReplyStatus];
