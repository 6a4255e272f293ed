/**
 * What the scheduler programs on one chain node, and what it reads back: the node's role and
 * neighbours, the placed keys (committed value and version), per-key counters and the tail's
 * stream of commits. The XDP node (bpf/craq, through ebpf-loader) and the user-space reference
 * node (`@netaccel/craq/testing`) both implement it; the scheduler sees only this interface.
 */
import type { ChainRole } from './placement.js';

export interface Endpoint {
  /** Canonical IPv4 or IPv6 text. */
  readonly address: string;
  readonly port: number;
}

/** A node's place in the chain at one epoch. */
export interface NodeConfig {
  readonly epoch: number;
  readonly role: ChainRole;
  /** The predecessor (absent at the head). */
  readonly prev?: Endpoint;
  /** The successor (absent at the tail). */
  readonly next?: Endpoint;
  /** The tail: where version queries go. */
  readonly tail: Endpoint;
}

/** A client request (its `req_id`) that created a version of a key. */
export interface RequestRecord {
  readonly reqId: bigint;
  readonly version: bigint;
}

/** A committed value: `value` null is a tombstone (a committed DELETE). */
export interface CommittedValue {
  readonly keyId: bigint;
  readonly keyCheck: number;
  readonly version: bigint;
  readonly value: Uint8Array | null;
  /**
   * The requests of versions up to `version` that a node holds (`latest`), for at-most-once
   * WRITE/DELETE: `install` records them on the node before the value, so that a client's retry
   * of a write a repair committed is answered, not applied again, by whichever node is head.
   */
  readonly requests?: readonly RequestRecord[];
}

export interface KeyState extends CommittedValue {
  /** Dirty (propagated, not yet acknowledged) versions held. */
  readonly dirty: number;
  /** False while the head answers RETRY to writes of this key (placement, eviction, join). */
  readonly writable: boolean;
}

export interface KeyCounters {
  readonly keyId: bigint;
  /** Reads answered by this node since the key was installed. */
  readonly reads: bigint;
  /** Writes this node took part in (head: accepted; others: propagated). */
  readonly writes: bigint;
}

export interface NodeDataPlane {
  /** The node's name in the chain (configuration). */
  readonly name: string;
  /** Where the node's NetCRAQ port listens. */
  readonly endpoint: Endpoint;
  /** Sets the node's role, neighbours and epoch (one map write: the config map). */
  configure(config: NodeConfig): Promise<void>;
  /** Installs a key clean at `version` (placement, state copy, an etcd write from outside, a repair), recording `value.requests` first. */
  install(value: CommittedValue, writable: boolean): Promise<void>;
  /** Removes a key: the node answers NOT_PLACED for it afterwards. */
  remove(keyId: bigint): Promise<void>;
  /** Lets the head take writes of a key, or answer RETRY. */
  setWritable(keyId: bigint, writable: boolean): Promise<void>;
  get(keyId: bigint): Promise<KeyState | undefined>;
  /** The states of those of `keyIds` the node holds, in one round trip where the node allows (scans, reconfiguration). */
  getMany(keyIds: readonly bigint[]): Promise<KeyState[]>;
  /** The highest version the node holds of a key, clean or dirty, with its value and the requests of the versions held (repairs). */
  latest(keyId: bigint): Promise<CommittedValue | undefined>;
  keys(): Promise<KeyState[]>;
  counters(): Promise<KeyCounters[]>;
  /** The tail's commits, in commit order (the `craq_commits` ring buffer); returns an unsubscribe. */
  onCommit(listener: (c: CommittedValue) => void): () => void;
  /** After a new successor: PROPAGATE every dirty version again, oldest first. Returns how many. */
  resendDirty(): Promise<number>;
  /** After becoming tail: commit every dirty version (answering the clients, ACKing up). Returns how many. */
  commitDirty(): Promise<number>;
  close(): Promise<void>;
}
