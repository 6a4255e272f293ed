/**
 * The offload integration contract (/work/helpers/paxos-wire.md, "Offload integration contract"):
 * libs/paxos calls it, `@netaccel/bpf-programs/electrode` implements it, so this library never
 * depends on BPF. Everything is optional: a replica without an offload is plain user-space VR.
 */

export type ReplicaStatus = 'normal' | 'view-change' | 'recovering';

/** What the replica publishes whenever view, status, leader, last op or commit number change. */
export interface PublishedState {
  readonly view: number;
  readonly status: ReplicaStatus;
  readonly self: number;
  readonly leader: number;
  readonly n: number;
  readonly lastOp: bigint;
  readonly commit: bigint;
}

/** A Prepare the kernel fast-acked and did not pass up. */
export interface DrainedEntry {
  readonly op: bigint;
  readonly view: number;
  readonly commit: bigint;
  /** The PREPARE body (one log entry). */
  readonly body: Buffer;
}

export interface ReplicaOffload {
  /** Called at start and whenever view, status, leader, last op or commit change. */
  publish(state: PublishedState): void;
  /** Follower: Prepares the kernel fast-acked and did not pass up, in op order, op > afterOp. */
  drain(afterOp: bigint): DrainedEntry[];
  /**
   * Leader: true when the kernel clones each PREPARE to every follower, so the replica sends it
   * once, to the first follower (the lowest index that is not the leader's). Absent: false.
   */
  broadcasting?(): boolean;
  close(): Promise<void>;
}
