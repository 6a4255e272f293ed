/**
 * The decoded form of every message of the Paxos/VR wire format v1. u64 fields are bigints,
 * u32 fields numbers; byte strings are Buffers that share memory with the input on decode.
 */
import type { PaxosType, ReplyStatus } from './constants.js';

/** The 32-byte common header. */
export interface PaxosHeader {
  readonly type: PaxosType;
  readonly sender: number;
  readonly flags: number;
  readonly view: number;
  readonly bodyLen: number;
  readonly op: bigint;
  readonly commit: bigint;
}

/** One client request inside a log entry. */
export interface ClientRequest {
  readonly clientId: bigint;
  readonly requestId: bigint;
  readonly payload: Buffer;
}

/** A log entry carried by NEW_STATE: the op number, the view that proposed it, and its PREPARE body. */
export interface StateEntry {
  readonly op: bigint;
  readonly view: number;
  readonly body: Buffer;
}

export interface RequestMessage {
  readonly type: typeof PaxosType.Request;
  /** The view the client believes current (a hint; replicas do not check it). */
  readonly view: number;
  readonly clientId: bigint;
  readonly requestId: bigint;
  readonly payload: Buffer;
}

export interface ReplyMessage {
  readonly type: typeof PaxosType.Reply;
  readonly sender: number;
  readonly view: number;
  readonly clientId: bigint;
  readonly requestId: bigint;
  readonly status: ReplyStatus;
  /** OK: the state machine's result; NOT_LEADER: one byte, the leader's index; ERROR: a message. */
  readonly result: Buffer;
}

export interface PrepareMessage {
  readonly type: typeof PaxosType.Prepare;
  readonly sender: number;
  readonly view: number;
  readonly op: bigint;
  readonly commit: bigint;
  /** The requests of the entry (a batch). */
  readonly requests: readonly ClientRequest[];
}

export interface PrepareOkMessage {
  readonly type: typeof PaxosType.PrepareOk;
  readonly sender: number;
  readonly view: number;
  /** The follower's last op in order: it has every op <= this one. */
  readonly op: bigint;
  /** PaxosFlag.Fast and/or PaxosFlag.Quorum, set by the BPF programs. */
  readonly flags: number;
}

export interface CommitMessage {
  readonly type: typeof PaxosType.Commit;
  readonly sender: number;
  readonly view: number;
  readonly commit: bigint;
}

export interface StartViewChangeMessage {
  readonly type: typeof PaxosType.StartViewChange;
  readonly sender: number;
  /** The new view. */
  readonly view: number;
}

export interface DoViewChangeMessage {
  readonly type: typeof PaxosType.DoViewChange;
  readonly sender: number;
  readonly view: number;
  /** The sender's last op and commit number. */
  readonly op: bigint;
  readonly commit: bigint;
  /** The last view in which the sender's status was normal (< view). */
  readonly lastNormalView: number;
}

export interface StartViewMessage {
  readonly type: typeof PaxosType.StartView;
  readonly sender: number;
  readonly view: number;
  /** The new leader's last op and commit number; followers fetch what they miss with GET_STATE. */
  readonly op: bigint;
  readonly commit: bigint;
}

export interface GetStateMessage {
  readonly type: typeof PaxosType.GetState;
  readonly sender: number;
  /** The view the requester is fetching in: only a replica in that view answers. */
  readonly view: number;
  /** The requester's last op: it wants the entries after it. */
  readonly op: bigint;
}

export interface NewStateMessage {
  readonly type: typeof PaxosType.NewState;
  readonly sender: number;
  readonly view: number;
  /** The responder's last op and commit number. */
  readonly op: bigint;
  readonly commit: bigint;
  /** Consecutive entries after the op asked for (as many as fit in one datagram). */
  readonly entries: readonly StateEntry[];
}

export interface RecoveryMessage {
  readonly type: typeof PaxosType.Recovery;
  readonly sender: number;
  readonly nonce: bigint;
}

export interface RecoveryResponseMessage {
  readonly type: typeof PaxosType.RecoveryResponse;
  readonly sender: number;
  readonly view: number;
  /** The responder's last op and commit number (the recovering replica uses the leader's). */
  readonly op: bigint;
  readonly commit: bigint;
  readonly nonce: bigint;
}

/**
 * One chunk of a replica's checkpoint (state transfer below its first retained log entry): the
 * checkpoint of op `op` is `total` bytes with CRC-32 `checksum`; this chunk is bytes
 * [offset, offset + data.length). Every chunk of one checkpoint carries the same op, total and
 * checksum; the receiver checks both once it holds every byte.
 */
export interface CheckpointMessage {
  readonly type: typeof PaxosType.Checkpoint;
  readonly sender: number;
  readonly view: number;
  /** The op number the checkpoint covers (every op up to it executed). */
  readonly op: bigint;
  readonly total: number;
  readonly checksum: number;
  readonly offset: number;
  readonly data: Buffer;
}

/** Asks for the chunks of the checkpoint of `op` from byte `offset` (a window of them answers). */
export interface GetCheckpointMessage {
  readonly type: typeof PaxosType.GetCheckpoint;
  readonly sender: number;
  readonly view: number;
  readonly op: bigint;
  readonly offset: number;
}

export type PaxosMessage =
  | RequestMessage
  | ReplyMessage
  | PrepareMessage
  | PrepareOkMessage
  | CommitMessage
  | StartViewChangeMessage
  | DoViewChangeMessage
  | StartViewMessage
  | GetStateMessage
  | NewStateMessage
  | RecoveryMessage
  | RecoveryResponseMessage
  | CheckpointMessage
  | GetCheckpointMessage;

export type PaxosMessageOf<T extends PaxosType> = Extract<PaxosMessage, { type: T }>;
