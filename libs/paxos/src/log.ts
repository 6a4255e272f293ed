/**
 * The replica's log and client table, in memory. The log keeps every entry from op 1 (no
 * checkpoints yet: a restarted replica rebuilds its state machine by replaying the whole log it
 * fetches), each tagged with the view whose leader proposed it.
 */
import { paxos } from '@netaccel/protocol';

type ClientRequest = paxos.ClientRequest;

export interface LogEntry {
  readonly op: bigint;
  /** The view whose leader proposed the entry. */
  readonly view: number;
  /** The PREPARE body, as sent and received. */
  readonly body: Buffer;
  readonly requests: readonly ClientRequest[];
}

export class ReplicaLog {
  private readonly entries: LogEntry[] = [];

  /** The op number of the last entry (0: empty). */
  get lastOp(): bigint {
    return BigInt(this.entries.length);
  }

  get(op: bigint): LogEntry | undefined {
    return op >= 1n ? this.entries[Number(op) - 1] : undefined;
  }

  /** Appends the entry for op lastOp + 1; decodes `requests` from the body when not given. */
  append(view: number, body: Buffer, requests?: readonly ClientRequest[]): LogEntry {
    const entry: LogEntry = { op: this.lastOp + 1n, view, body, requests: requests ?? paxos.decodeEntry(body) };
    this.entries.push(entry);
    return entry;
  }

  /** Drops every entry after `op`. */
  truncate(op: bigint): void {
    if (op < this.lastOp) this.entries.length = Number(op);
  }

  /** Entries after `op`, at most `limit`. */
  after(op: bigint, limit: number): LogEntry[] {
    return this.entries.slice(Number(op), Number(op) + limit);
  }
}

export interface CachedReply {
  readonly requestId: bigint;
  readonly status: number;
  readonly result: Buffer;
}

/** The latest executed request of each client and its reply (at-most-once execution). */
export class ClientTable {
  private readonly table = new Map<bigint, CachedReply>();

  get(clientId: bigint): CachedReply | undefined {
    return this.table.get(clientId);
  }

  set(clientId: bigint, reply: CachedReply): void {
    this.table.set(clientId, reply);
  }

  get size(): number {
    return this.table.size;
  }
}
