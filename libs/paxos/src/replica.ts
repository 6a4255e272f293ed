/**
 * A Viewstamped Replication replica over UDP: the socket, the timers, the dispatch of decoded
 * messages to the protocol modules (normal.ts, view-change.ts, recovery.ts) and the offload
 * integration points: drain before a passed-up message (but a PREPARE that continues the log)
 * and on a timer, publish after every state change. Malformed datagrams and messages from an address that is not the named
 * replica's are counted and dropped; the replica never throws on input.
 */
import { performance } from 'node:perf_hooks';
import { paxos } from '@netaccel/protocol';
import { ReplicaCore } from './core.js';
import { NA_ERR_PAXOS_CLOSED } from './errors.js';
import type { LeaseState } from './lease.js';
import type { PaxosCounters } from './metrics.js';
import type { CachedReply } from './log.js';
import type { Checkpoint } from './snapshot.js';
import { appendAhead, flush, leaderTick, onCommit, onPrepare, onPrepareOk, onRequest } from './normal.js';
import type { ReplicaStatus } from './offload.js';
import { resolveReplicaOptions } from './options.js';
import type { ReplicaOptions, ResolvedReplicaOptions } from './options.js';
import { fetchTick, onCheckpoint, onGetCheckpoint, onGetState, onNewState, onRecovery, onRecoveryResponse, recoveryTick, startRecovery } from './recovery.js';
import type { FetchDone } from './recovery.js';
import type { Peer, Transport } from './transport.js';
import { peerKey, udpTransport } from './transport.js';
import { adoptView, onDoViewChange, onStartView, onStartViewChange, viewChangeFetched, viewChangeTick } from './view-change.js';

/**
 * The replica's own socket's buffers (the kernel caps them at net.core.rmem_max / wmem_max): the
 * default 208 KiB overflowed at the leader when a few hundred clients' requests and the
 * followers' PREPARE_OKs arrived in one burst (bench/paxos, 7 replicas, 256 clients: ~14,000
 * datagrams dropped in a run, each a client stalled until its retry).
 */
const SOCKET_BUFFER_BYTES = 4 << 20;

const { PaxosType } = paxos;

export interface ReplicaSnapshot {
  readonly self: number;
  readonly n: number;
  readonly view: number;
  readonly status: ReplicaStatus;
  readonly leader: number;
  readonly isLeader: boolean;
  readonly lastNormalView: number;
  readonly lastOp: bigint;
  readonly commit: bigint;
  readonly executed: bigint;
  readonly clients: number;
}

const fetchDone: FetchDone = {
  viewChangeFetched,
  caughtUp(r, commit) {
    if (r.lastNormalView !== r.view) {
      r.lastNormalView = r.view;
      r.count('views_started');
    }
    appendAhead(r);
    r.commitTo(commit);
    r.sendPrepareOk();
  },
};

export class PaxosReplica {
  private readonly core: ReplicaCore;
  private readonly peers: string[];
  private readonly timers: NodeJS.Timeout[] = [];
  private pumpScheduled = false;
  private closed = false;
  private readonly onStateChange: ReplicaOptions['onStateChange'];
  /** view, status and leader as last reported to onStateChange. */
  private reported = { view: 0, status: 'normal' as ReplicaStatus, leader: 0 };

  private constructor(
    readonly options: ResolvedReplicaOptions,
    opts: ReplicaOptions,
    transport: Transport,
  ) {
    const log = options.logger.child({ component: 'paxos-replica', replica: options.self });
    this.core = new ReplicaCore(options, opts.stateMachine, transport, opts.offload, log, opts.onCount, () => performance.now());
    this.peers = options.replicas.map(peerKey);
    this.onStateChange = opts.onStateChange;
    transport.onMessage((data, from) => this.receive(data, from));
  }

  /** Validates the options, binds the socket (unless one is given) and starts the replica. */
  static async start(opts: ReplicaOptions): Promise<PaxosReplica> {
    const options = resolveReplicaOptions(opts);
    const transport = opts.transport ?? (await udpTransport({ ...options.replicas[options.self]!, bufferBytes: SOCKET_BUFFER_BYTES }));
    const replica = new PaxosReplica(options, opts, transport);
    replica.begin();
    return replica;
  }

  private begin(): void {
    const r = this.core;
    const o = this.options;
    r.lastLeaderContact = r.now();
    if (o.start === 'recover') startRecovery(r);
    else r.publish(true);
    this.reported = { view: r.view, status: r.status, leader: r.leader };
    const tickMs = Math.max(1, Math.floor(Math.min(o.heartbeatMs, o.retransmitMs) / 2));
    this.timers.push(setInterval(() => this.guard(() => this.tick()), tickMs));
    if (r.offload !== undefined) this.timers.push(setInterval(() => this.guard(() => r.drain()), o.drainIntervalMs));
  }

  private tick(): void {
    const r = this.core;
    if (r.status === 'recovering') recoveryTick(r);
    else {
      if (r.isLeader()) leaderTick(r);
      viewChangeTick(r);
    }
    fetchTick(r);
  }

  /** Runs a step, then flushes batches and the published state (commit notices ride on PREPAREs). */
  private guard(step: () => void): void {
    if (this.closed) return;
    try {
      step();
    } catch (err) {
      this.core.logger.error({ err }, 'paxos replica step failed');
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.closed) return;
      const r = this.core;
      try {
        if (r.queue.length > 0) flush(r);
        r.publish();
        if (this.onStateChange !== undefined) this.reportState();
      } catch (err) {
        r.logger.error({ err }, 'paxos replica pump failed');
      }
    });
  }

  /** onStateChange, when view, status or leader differ from what it was last told. */
  private reportState(): void {
    const r = this.core;
    const was = this.reported;
    if (was.view === r.view && was.status === r.status && was.leader === r.leader) return;
    this.reported = { view: r.view, status: r.status, leader: r.leader };
    this.onStateChange!({ ...this.reported });
  }

  /** One datagram from the socket (public for tests that deliver bytes directly). */
  receive(data: Buffer, from: Peer): void {
    // guard()'s work without a closure per datagram
    if (this.closed) return;
    try {
      this.dispatch(data, from);
    } catch (err) {
      this.core.logger.error({ err }, 'paxos replica step failed');
    }
    this.schedulePump();
  }

  private dispatch(data: Buffer, from: Peer): void {
    const r = this.core;
    let m: paxos.PaxosMessage;
    try {
      m = paxos.decodePaxos(data);
    } catch {
      r.count('messages_malformed');
      return;
    }
    if (m.type === PaxosType.Reply) {
      r.count('messages_stale');
      return;
    }
    if (m.type !== PaxosType.Request && (m.sender >= this.options.n || !this.isPeer(m.sender, from) || m.sender === r.self)) {
      r.count('messages_forged');
      return;
    }
    // The kernel logs fast-acked PREPAREs in op order after the log, so a PREPARE of this view
    // that continues the log has none before it to drain: the follower's common case (every
    // PREPARE without the fast-ack) costs no map read.
    if (m.type !== PaxosType.Prepare || m.view !== r.view || r.status !== 'normal' || m.op !== r.log.lastOp + 1n) r.drain();
    switch (m.type) {
      case PaxosType.Request:
        onRequest(r, m, from);
        return;
      case PaxosType.Prepare:
      case PaxosType.Commit:
      case PaxosType.StartView:
        this.fromLeader(m, data);
        return;
      case PaxosType.PrepareOk:
        onPrepareOk(r, m);
        return;
      case PaxosType.GetState:
        onGetState(r, m);
        return;
      case PaxosType.NewState:
        onNewState(r, m, fetchDone);
        return;
      case PaxosType.Recovery:
        onRecovery(r, m);
        return;
      case PaxosType.RecoveryResponse:
        onRecoveryResponse(r, m);
        return;
      case PaxosType.GetCheckpoint:
        onGetCheckpoint(r, m);
        return;
      case PaxosType.Checkpoint:
        onCheckpoint(r, m, fetchDone);
        return;
    }
    if (r.status === 'recovering') return;
    if (m.type === PaxosType.StartViewChange) onStartViewChange(r, m);
    else if (m.type === PaxosType.DoViewChange) onDoViewChange(r, m);
  }

  /** Whether `from` is replica i's address (as configured: no parse; else canonical, as peerKey compares). */
  private isPeer(i: number, from: Peer): boolean {
    const p = this.options.replicas[i]!;
    return (p.address === from.address && p.port === from.port) || this.peers[i] === peerKey(from);
  }

  private fromLeader(m: paxos.PrepareMessage | paxos.CommitMessage | paxos.StartViewMessage, data: Buffer): void {
    const r = this.core;
    if (m.sender !== r.leaderOf(m.view) || r.status === 'recovering' || m.view < r.view) {
      r.count('messages_stale');
      return;
    }
    if (m.type === PaxosType.StartView) {
      onStartView(r, m);
      return;
    }
    if (m.view > r.view || r.status === 'view-change') {
      const target = m.type === PaxosType.Prepare ? m.op - 1n : m.commit;
      adoptView(r, m.view, target, m.commit);
    }
    if (r.syncing) {
      r.lastLeaderContact = r.now();
      if (m.type === PaxosType.Prepare && r.ahead.size < 1024) r.ahead.set(m.op, { view: m.view, body: data.subarray(paxos.PAXOS_HEADER_LEN) });
      return;
    }
    if (m.type === PaxosType.Prepare) onPrepare(r, m, data.subarray(paxos.PAXOS_HEADER_LEN));
    else onCommit(r, m);
  }

  /** The replica's state now. */
  snapshot(): ReplicaSnapshot {
    const r = this.core;
    return {
      self: r.self,
      n: this.options.n,
      view: r.view,
      status: r.status,
      leader: r.leader,
      isLeader: r.isLeader(),
      lastNormalView: r.lastNormalView,
      lastOp: r.log.lastOp,
      commit: r.commit,
      executed: r.executed,
      clients: r.clients.size,
    };
  }

  /**
   * The leader's lease now (lease.ts): held while this replica leads its view in normal status,
   * waited out its predecessor's lease, and a quorum acknowledged a PREPARE first sent less than
   * leaseMs ago. An idle group renews nothing: the caller keeps ops flowing (ReplicatedConfig).
   */
  lease(): LeaseState {
    const r = this.core;
    return r.lease.state(r.view, r.isLeader(), r.now());
  }

  /**
   * The log's extent and the newest checkpoint (log.ts): entries held firstOp..lastOp, and the op
   * of the checkpoint below them (0: none yet).
   */
  logStats(): { firstOp: bigint; lastOp: bigint; entries: number; checkpointOp: bigint; checkpointBytes: number } {
    const r = this.core;
    return { firstOp: r.log.firstOp, lastOp: r.log.lastOp, entries: r.log.length, checkpointOp: r.checkpoint?.op ?? 0n, checkpointBytes: r.checkpoint?.bytes.length ?? 0 };
  }

  /** The client table's rows by op, then client id (log.ts ClientTable): what a checkpoint taken now would carry. */
  clientTable(): Array<[bigint, CachedReply]> {
    return this.core.clients.entries();
  }

  /** The newest checkpoint (snapshot.ts; decodeCheckpoint reads its bytes), or null. */
  latestCheckpoint(): Checkpoint | null {
    return this.core.checkpoint;
  }

  /** The counters (a copy). */
  counters(): Readonly<PaxosCounters> {
    return { ...this.core.counters };
  }

  /** The local address of the socket. */
  get local(): Peer {
    return this.core.transport.local;
  }

  /** Stops the timers, closes the socket and the offload. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.core.transport.close();
    await this.core.offload?.close();
  }

  /** Throws NA_ERR_PAXOS_CLOSED when closed (for callers that hold a replica). */
  assertOpen(): void {
    if (this.closed) throw NA_ERR_PAXOS_CLOSED(`replica ${this.options.self}`);
  }
}
