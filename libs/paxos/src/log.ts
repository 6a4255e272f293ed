/**
 * The replica's log and client table, in memory. Op numbers are absolute: the log holds the
 * entries firstOp..lastOp, each tagged with the view whose leader proposed it. Every
 * `checkpointEvery` executed ops the replica checkpoints (snapshot.ts: its state machine and
 * this client table at op N) and drops the entries up to N - `logRetain` (a follower that lags
 * by fewer still catches up by entries); one that needs older ones gets the checkpoint, then
 * the entries after it (recovery.ts). So the log holds at most about logRetain +
 * checkpointEvery + maxPipeline entries (<= 1352 bytes each), whatever the group's age.
 */
import { paxos } from '@netaccel/protocol';

type ClientRequest = paxos.ClientRequest;
const EMPTY = Buffer.alloc(0);

export interface LogEntry {
  readonly op: bigint;
  /** The view whose leader proposed the entry. */
  readonly view: number;
  /** The PREPARE body, as sent and received. */
  readonly body: Buffer;
  readonly requests: readonly ClientRequest[];
}

export class ReplicaLog {
  private entries: LogEntry[] = [];
  /** The op before the first entry held (0, or the last op dropped by a checkpoint). */
  private base = 0n;
  /**
   * base + entries.length, kept with every change: read several times per message (a getter
   * computing it allocated two BigInts per read on the leader's per-request path).
   */
  private last = 0n;

  /** The op number of the first entry held (lastOp + 1 when empty). */
  get firstOp(): bigint {
    return this.base + 1n;
  }

  /** The op number of the last entry (base when empty: 0 for a new log). */
  get lastOp(): bigint {
    return this.last;
  }

  /** Entries held. */
  get length(): number {
    return this.entries.length;
  }

  get(op: bigint): LogEntry | undefined {
    return op > this.base ? this.entries[Number(op - this.base) - 1] : undefined;
  }

  /** Appends the entry for op lastOp + 1; decodes `requests` from the body when not given. */
  append(view: number, body: Buffer, requests?: readonly ClientRequest[]): LogEntry {
    const entry: LogEntry = { op: this.last + 1n, view, body, requests: requests ?? paxos.decodeEntry(body) };
    this.entries.push(entry);
    this.last = entry.op;
    return entry;
  }

  /** Drops every entry after `op` (below the first entry held: every entry, and the log continues after op). */
  truncate(op: bigint): void {
    if (op < this.base) this.reset(op);
    else if (op < this.last) {
      this.entries.length = Number(op - this.base);
      this.last = op;
    }
  }

  /** Empties the log: the next entry is op + 1 (a checkpoint of op was installed). */
  reset(op: bigint): void {
    this.entries = [];
    this.base = op;
    this.last = op;
  }

  /** Drops the entries up to `op` (a checkpoint covers them); returns how many. */
  dropThrough(op: bigint): number {
    const to = op < this.lastOp ? op : this.lastOp;
    if (to <= this.base) return 0;
    const n = Number(to - this.base);
    this.entries = this.entries.slice(n);
    this.base = to;
    return n;
  }

  /** Entries after `op`, at most `limit` (none when op + 1 was dropped). */
  after(op: bigint, limit: number): LogEntry[] {
    if (op < this.base) return [];
    const i = Number(op - this.base);
    return this.entries.slice(i, i + limit);
  }
}

export interface CachedReply {
  readonly requestId: bigint;
  readonly status: number;
  readonly result: Buffer;
  /** The op of the log entry that executed the request (the row's age, for eviction). */
  readonly op: bigint;
}

/**
 * Client sessions (Raft's, Ongaro's thesis §6.3): a client first registers — a REQUEST flagged
 * REGISTER, request id SESSION_REGISTER (2^63), no op, executed through the log like any
 * request — and the log assigns its session's client id (`sessionIdOf`: the op of the entry
 * and the registration's place in it), which the reply carries. The session numbers its
 * requests from SESSION_FIRST (the session bit set): every one of them claims the registration
 * before it, so a replica that has no row for their client (never registered, or its row was
 * evicted) refuses them SESSION_EXPIRED, never executes them — a session's first request
 * included. A registration executed twice (its reply lost and its row evicted during the
 * retries) only makes a second, unused session: a row, which eviction bounds (and registering
 * under a session's id, from 2^63, is malformed on the wire: no session comes back). Ids without the
 * bit (clients that number their own requests, e.g. bench/paxos' generator) are executed when
 * their client is unknown, as before: such a client is not protected after eviction.
 */
export const SESSION_BIT = 1n << 63n;
/** The request id of a registration (libs/protocol PAXOS_REGISTER_ID): below every request of the session. */
export const SESSION_REGISTER: bigint = paxos.PAXOS_REGISTER_ID;
export const SESSION_FIRST = SESSION_BIT | 1n;

/** Whether a request of a client the table does not know must be refused (unregistered, or its row was evicted). */
export function sessionExpired(requestId: bigint): boolean {
  return requestId > SESSION_REGISTER;
}

/**
 * The client id of the session registered by the request at `index` of op `op`'s entry: the
 * session bit, then op and index (an entry holds at most 75 requests: index < 256). Unique for
 * ops below 2^55 (decades at millions of ops per second); every replica assigns the same.
 */
export function sessionIdOf(op: bigint, index: number): bigint {
  return SESSION_BIT | (((op << 8n) | BigInt(index & 0xff)) & (SESSION_BIT - 1n));
}

export interface ClientTableBounds {
  /** Rows whose op is more than this many ops below the op executed are dropped. */
  readonly retainOps: number;
  /** At most this many rows: beyond it the oldest (by op, then client id) are dropped. */
  readonly maxClients: number;
}

/**
 * The latest executed request of each client and its reply (at-most-once execution), bounded:
 * after every executed op `evict(op)` drops the rows of clients whose last request is more than
 * `retainOps` ops old, then the oldest rows beyond `maxClients`. Both depend only on the log
 * (the op of each row's request), so every replica evicts the same rows at the same op, and a
 * checkpoint carries the bounded table (with each row's op). The map's order is by op: a row
 * set moves to the end, a checkpoint's rows come by (op, client id); ties of one op are
 * evicted by client id, whichever order they were inserted in.
 */
export class ClientTable {
  private readonly table = new Map<bigint, CachedReply>();
  private readonly retainOps: bigint;
  private readonly maxClients: number;

  constructor(bounds: ClientTableBounds = { retainOps: Number.MAX_SAFE_INTEGER, maxClients: Number.MAX_SAFE_INTEGER }) {
    this.retainOps = BigInt(bounds.retainOps);
    this.maxClients = bounds.maxClients;
  }

  get(clientId: bigint): CachedReply | undefined {
    return this.table.get(clientId);
  }

  /** Records a client's executed request (its op is the newest: the row moves to the end). `known`: the caller saw a row. */
  set(clientId: bigint, reply: CachedReply, known = true): void {
    if (known) this.table.delete(clientId);
    this.table.set(clientId, reply);
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Executes a registration at op `op`: a row for the new session `sessionId` (its latest
   * request the registration, so its requests from SESSION_FIRST are new ones). Returns the
   * registering client's reply (request id SESSION_REGISTER, result the session id, u64) for
   * the caller to record under that client's id.
   */
  register(sessionId: bigint, op: bigint): CachedReply {
    this.set(sessionId, { requestId: SESSION_REGISTER, status: paxos.ReplyStatus.Ok, result: EMPTY, op }, this.table.has(sessionId));
    const result = Buffer.allocUnsafe(8);
    result.writeBigUInt64BE(sessionId, 0);
    return { requestId: SESSION_REGISTER, status: paxos.ReplyStatus.Ok, result, op };
  }

  /** Drops the rows the bounds exclude after op `op` was executed (each told to `onEvict`); returns how many. */
  evict(op: bigint, onEvict?: (clientId: bigint) => void): number {
    let dropped = 0;
    const floor = op - this.retainOps;
    for (const [id, row] of this.table) {
      if (row.op >= floor) break;
      this.table.delete(id);
      onEvict?.(id);
      dropped++;
    }
    while (this.table.size > this.maxClients) {
      // the oldest op's rows are at the front; of those, the lowest client ids go first
      const oldest = this.table.values().next().value!.op;
      const group: bigint[] = [];
      for (const [id, row] of this.table) {
        if (row.op !== oldest) break;
        group.push(id);
      }
      group.sort(byId);
      const victims = group.slice(0, this.table.size - this.maxClients);
      for (const id of victims) {
        this.table.delete(id);
        onEvict?.(id);
      }
      dropped += victims.length;
    }
    return dropped;
  }

  /** Every client and its reply, by op then client id (a checkpoint's deterministic order). */
  entries(): Array<[bigint, CachedReply]> {
    return [...this.table].sort(([a, x], [b, y]) => (x.op !== y.op ? (x.op < y.op ? -1 : 1) : byId(a, b)));
  }

  /** Replaces the table with a checkpoint's (rows by op, then client id). */
  replace(rows: ReadonlyArray<readonly [bigint, CachedReply]>): void {
    this.table.clear();
    for (const [id, c] of rows) this.table.set(id, c);
  }
}

function byId(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
