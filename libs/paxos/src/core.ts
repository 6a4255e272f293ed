/**
 * The replica's state (Viewstamped Replication, Liskov & Cowling 2012) and the actions every
 * protocol module shares: sending, executing committed entries, replying to clients, publishing
 * the state to the offload. The protocol steps live in normal.ts, view-change.ts and recovery.ts.
 */
import type { Logger } from '@netaccel/errors';
import { paxos } from '@netaccel/protocol';
import { LeaderLease } from './lease.js';
import { ClientTable, ReplicaLog, SESSION_REGISTER, sessionExpired, sessionIdOf } from './log.js';
import type { CachedReply, LogEntry } from './log.js';
import { newCounters } from './metrics.js';
import type { CountHook, PaxosCounterName, PaxosCounters } from './metrics.js';
import type { PublishedState, ReplicaOffload, ReplicaStatus } from './offload.js';
import type { ResolvedReplicaOptions } from './options.js';
import { RetransmitTimeout } from './rto.js';
import { encodeCheckpoint } from './snapshot.js';
import type { Checkpoint, CheckpointAssembly, CheckpointImage } from './snapshot.js';
import type { StateMachine } from './state-machine.js';
import type { Peer, Transport } from './transport.js';

type PaxosMessage = paxos.PaxosMessage;
type ClientRequest = paxos.ClientRequest;
const { PaxosType, ReplyStatus } = paxos;
const EMPTY = Buffer.alloc(0);

/**
 * A fetch of log entries with GET_STATE from one replica. 'catch-up' (a follower's gap) and
 * 'recovery' append what they receive. 'sync' (a follower adopting a newer view) and
 * 'view-change' (a new leader adopting the best log) must not lose what the replica acknowledged
 * before the replacement is complete: they collect the entries after `base` (the commit number)
 * aside and replace the log's suffix only when they have everything up to `target`.
 */
export interface Fetch {
  readonly purpose: 'catch-up' | 'sync' | 'view-change' | 'recovery';
  readonly from: number;
  /** Fetch at least up to this op. */
  target: bigint;
  /** The commit number to adopt when done. */
  commit: bigint;
  /**
   * sync and view-change: entries after `base` collected aside (the commit number, or the op of
   * a checkpoint received for them).
   */
  base: bigint;
  readonly buffer: Array<{ view: number; body: Buffer }>;
  /** sync and view-change: a checkpoint received (the entries needed were below the responder's log), installed at completion. */
  checkpoint: { readonly image: CheckpointImage; readonly cp: Checkpoint } | null;
  /** A checkpoint being received in chunks (GET_CHECKPOINT asks for the rest). */
  assembly: CheckpointAssembly | null;
  askedAt: number;
  /** Whether an answer came (catch-up and sync raise `target` to the first answer's op only). */
  answered: boolean;
}

export interface DoViewChangeInfo {
  readonly lastNormalView: number;
  readonly op: bigint;
  readonly commit: bigint;
}

export class ReplicaCore {
  // --- VR state --------------------------------------------------------------------------------
  view = 0;
  status: ReplicaStatus = 'normal';
  lastNormalView = 0;
  readonly log = new ReplicaLog();
  commit = 0n;
  executed = 0n;
  readonly clients: ClientTable;
  /** The newest checkpoint (taken here every checkpointEvery executed ops, or installed). */
  checkpoint: Checkpoint | null = null;
  /** The executed op at which the next checkpoint is taken. */
  private nextCheckpoint: bigint;

  // --- leader ----------------------------------------------------------------------------------
  /** Highest op each replica acknowledged in this view. */
  acked: bigint[];
  /** When each uncommitted op was last sent, for retransmission. */
  readonly sentAt = new Map<bigint, number>();
  /** Uncommitted ops re-sent at least once (Karn's rule: their commit latency is no sample). */
  readonly resent = new Set<bigint>();
  /** The PREPAREs' retransmission timeout, adapted to the commit latency (rto.ts). */
  readonly rto: RetransmitTimeout;
  /** Requests waiting for a log entry. */
  queue: ClientRequest[] = [];
  /** Latest request id of each client queued or in the log and not executed yet. */
  readonly inFlight = new Map<bigint, bigint>();
  /** Where each client was last heard from (replies go there): dropped with its row, at most 2 x maxClients (normal.ts onRequest). */
  readonly clientAddr = new Map<bigint, Peer>();
  /** When a PREPARE, COMMIT or START_VIEW last went to every follower (the heartbeat's clock). */
  lastBroadcastAt = 0;

  // --- follower --------------------------------------------------------------------------------
  lastLeaderContact = 0;
  /** PREPAREs that arrived ahead of a gap (reordering), by op. */
  readonly ahead = new Map<bigint, { view: number; body: Buffer }>();
  fetch: Fetch | null = null;

  // --- view change -----------------------------------------------------------------------------
  readonly startViewChanges = new Set<number>();
  readonly doViewChanges = new Map<number, DoViewChangeInfo>();
  doViewChangeSent = false;
  viewChangeAt = 0;
  lastViewChangeSend = 0;

  // --- recovery --------------------------------------------------------------------------------
  nonce = 0n;
  readonly recoveryResponses = new Map<number, { view: number; op: bigint; commit: bigint }>();
  /** When the current recovery attempt made progress last, and when RECOVERY was last sent. */
  recoveryAt = 0;
  recoverySentAt = 0;

  /** The leader's lease (lease.ts): PREPAREs' first sends and their acknowledgements. */
  readonly lease: LeaderLease;

  readonly counters: PaxosCounters = newCounters();
  /** A client's row was evicted: its reply address goes too. */
  private readonly forgetClient = (clientId: bigint): void => void this.clientAddr.delete(clientId);
  private published: PublishedState | undefined;

  constructor(
    readonly opts: ResolvedReplicaOptions,
    readonly sm: StateMachine,
    readonly transport: Transport,
    readonly offload: ReplicaOffload | undefined,
    readonly logger: Logger,
    private readonly onCount: CountHook | undefined,
    readonly now: () => number,
  ) {
    this.acked = new Array<bigint>(opts.n).fill(0n);
    this.clients = new ClientTable({ retainOps: opts.clientRetainOps, maxClients: opts.maxClients });
    this.nextCheckpoint = BigInt(opts.checkpointEvery);
    this.lease = new LeaderLease(opts.n, opts.f, opts.self, opts.leaseMs, opts.clockDrift);
    this.rto = new RetransmitTimeout(opts.retransmitMs, opts.retransmitMaxMs);
  }

  get self(): number {
    return this.opts.self;
  }

  leaderOf(view: number): number {
    return view % this.opts.n;
  }

  get leader(): number {
    return this.leaderOf(this.view);
  }

  isLeader(): boolean {
    return this.status === 'normal' && this.leader === this.self;
  }

  count(name: PaxosCounterName, delta = 1): void {
    this.counters[name] += delta;
    this.onCount?.(name, delta);
  }

  // --- sending ---------------------------------------------------------------------------------

  send(to: number, m: PaxosMessage): void {
    this.transport.send(paxos.encodePaxos(m), this.opts.replicas[to]!);
  }

  /** Sends the same bytes to every other replica. */
  broadcast(m: PaxosMessage): void {
    const bytes = paxos.encodePaxos(m);
    for (let i = 0; i < this.opts.n; i++) if (i !== this.self) this.transport.send(bytes, this.opts.replicas[i]!);
  }

  sendPrepareOk(): void {
    if (this.log.lastOp === 0n || this.status !== 'normal' || this.isLeader()) return;
    this.send(this.leader, { type: PaxosType.PrepareOk, sender: this.self, view: this.view, op: this.log.lastOp, flags: 0 });
    this.count('prepare_oks_sent');
  }

  reply(clientId: bigint, requestId: bigint, status: number, result: Buffer, to?: Peer): void {
    const peer = to ?? this.clientAddr.get(clientId);
    if (peer === undefined) return;
    this.transport.send(paxos.encodeReply(this.self, this.view, clientId, requestId, status, result), peer);
    this.count('replies_sent');
  }

  // --- log and execution -----------------------------------------------------------------------

  /** Appends the next entry; the leader tracks its requests as in flight. */
  append(view: number, body: Buffer, requests?: readonly ClientRequest[]): LogEntry {
    const e = this.log.append(view, body, requests);
    if (this.isLeader()) {
      for (const r of e.requests) this.inFlight.set(r.clientId, r.requestId);
      // a new op of this view: no replica can hold it before now (the lease's evidence, lease.ts)
      this.lease.sent(this.view, e.op, this.now());
    }
    this.acked[this.self] = this.log.lastOp;
    return e;
  }

  /** Raises the commit number to `op` (bounded by the log) and executes. */
  commitTo(op: bigint): boolean {
    const to = op < this.log.lastOp ? op : this.log.lastOp;
    if (to <= this.commit) return false;
    this.count('ops_committed', Number(to - this.commit));
    // one commit latency per commit step: the newest op's, sent once (Karn's rule)
    const at = this.sentAt.get(to);
    if (at !== undefined) {
      if (this.resent.size === 0 || !this.resent.has(to)) this.rto.sample(this.now() - at);
      for (let o = this.commit + 1n; o <= to; o++) this.sentAt.delete(o);
      if (this.resent.size > 0) for (const o of this.resent) if (o <= to) this.resent.delete(o);
    }
    this.commit = to;
    this.execute();
    return true;
  }

  /** Executes committed entries in order; the leader replies to their clients. */
  execute(): void {
    while (this.executed < this.commit) {
      const e = this.log.get(this.executed + 1n)!;
      for (const r of e.requests) this.executeRequest(r, e.op);
      this.executed++;
      const evicted = this.clients.evict(this.executed, this.forgetClient);
      if (evicted > 0) this.count('clients_evicted', evicted);
      if (this.executed >= this.nextCheckpoint) this.takeCheckpoint();
    }
  }

  // --- checkpoints (log.ts, snapshot.ts) ----------------------------------------------------------

  private scheduleCheckpoint(): void {
    const every = BigInt(this.opts.checkpointEvery);
    this.nextCheckpoint = (this.executed / every + 1n) * every;
  }

  /** Checkpoints the state at the executed op and drops the log up to it minus logRetain. */
  private takeCheckpoint(): void {
    this.checkpoint = encodeCheckpoint(this.executed, this.clients, this.sm.snapshot());
    this.count('checkpoints_taken');
    this.scheduleCheckpoint();
    const dropped = this.log.dropThrough(this.executed - BigInt(this.opts.logRetain));
    if (dropped > 0) this.count('log_entries_truncated', dropped);
  }

  /**
   * Installs a checkpoint received from another replica (committed state up to its op, above
   * everything this replica executed): the state machine and client table are replaced, the
   * log continues after its op. Throws (changing nothing) when the state machine refuses the bytes.
   */
  installCheckpoint(image: CheckpointImage, cp: Checkpoint): void {
    this.sm.restore(image.machine);
    this.clients.replace(image.clients);
    this.log.reset(image.op);
    this.checkpoint = cp;
    for (const op of this.sentAt.keys()) if (op <= image.op) this.sentAt.delete(op);
    this.executed = image.op;
    if (image.op > this.commit) this.commit = image.op;
    this.acked[this.self] = this.log.lastOp;
    this.scheduleCheckpoint();
    this.count('checkpoints_installed');
    this.logger.info({ op: image.op, bytes: cp.bytes.length }, 'paxos checkpoint installed');
  }

  private executeRequest(r: ClientRequest, op: bigint): void {
    const last = this.clients.get(r.clientId);
    if (last !== undefined && r.requestId <= last.requestId) return; // executed already: at most once
    let cached: CachedReply;
    if ((last === undefined || last.status === ReplyStatus.SessionExpired) && sessionExpired(r.requestId)) {
      // An unknown client claiming earlier requests: its row was evicted, so this may be a retry
      // of a request executed before. Refused, not executed; the row remembers the refusal, and
      // the session stays refused (a late copy of an older request must not revive it).
      cached = { requestId: r.requestId, status: ReplyStatus.SessionExpired, result: EMPTY, op };
      this.count('requests_session_expired');
    } else if (r.requestId === SESSION_REGISTER) {
      // a session's registration (log.ts): a new session row, its id from the op and the place in the entry
      cached = this.clients.register(sessionIdOf(op, this.log.get(op)!.requests.indexOf(r)), op);
      this.count('sessions_registered');
    } else {
      const out = this.sm.apply(r.payload);
      cached = out.ok
        ? { requestId: r.requestId, status: ReplyStatus.Ok, result: out.result, op }
        : { requestId: r.requestId, status: ReplyStatus.Error, result: Buffer.from(out.error), op };
      this.count('requests_executed');
    }
    this.clients.set(r.clientId, cached, last !== undefined);
    if (this.inFlight.get(r.clientId) === r.requestId) this.inFlight.delete(r.clientId);
    if (this.isLeader()) this.reply(r.clientId, r.requestId, cached.status, cached.result);
  }

  // --- offload ---------------------------------------------------------------------------------

  /** Whether the log is being replaced by the one of a newer view (see Fetch). */
  get syncing(): boolean {
    return this.fetch !== null && (this.fetch.purpose === 'sync' || this.fetch.purpose === 'view-change');
  }

  state(): PublishedState {
    // While the log is replaced, the kernel must not acknowledge PREPAREs for it.
    const status = this.status === 'normal' && this.syncing ? 'view-change' : this.status;
    return { view: this.view, status, self: this.self, leader: this.leader, n: this.opts.n, lastOp: this.log.lastOp, commit: this.commit };
  }

  /** Publishes the state to the offload when it changed since the last publish (or `force`). */
  publish(force = false): void {
    if (this.offload === undefined) return;
    const s = this.state();
    const p = this.published;
    if (!force && p !== undefined && p.view === s.view && p.status === s.status && p.lastOp === s.lastOp && p.commit === s.commit) return;
    this.offload.publish(s);
    this.published = s;
  }

  /**
   * Takes the entries the kernel fast-acked and appends those that continue the log in the last
   * normal view (a view change drains after publishing its status, so an entry acknowledged in
   * the old view is in the log the replica reports).
   */
  drain(): void {
    // The kernel fast-acks only at followers: a leader has nothing to drain (and saves a map read).
    if (this.offload === undefined || this.status === 'recovering' || this.isLeader()) return;
    const drained = this.offload.drain(this.log.lastOp);
    if (drained.length === 0) return;
    for (const d of drained) {
      if (d.op !== this.log.lastOp + 1n || d.view !== this.lastNormalView) {
        this.count('drained_discarded');
        continue;
      }
      let requests: readonly ClientRequest[];
      try {
        requests = paxos.decodeEntry(d.body);
      } catch {
        this.count('drained_discarded');
        continue;
      }
      this.append(d.view, d.body, requests);
      this.count('drained_entries');
      if (this.status === 'normal' && d.view === this.view && !this.syncing) {
        this.lastLeaderContact = this.now();
        this.commitTo(d.commit);
      }
    }
  }
}
