/**
 * Replica options: validated once, defaults in one table with units, the result frozen.
 */
import { isLogger, silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { ipFamily, paxos } from '@netaccel/protocol';
import { NA_ERR_PAXOS_INVALID_OPTIONS } from './errors.js';
import type { CountHook } from './metrics.js';
import type { ReplicaOffload, ReplicaStatus } from './offload.js';
import type { StateMachine } from './state-machine.js';
import type { Peer, Transport } from './transport.js';

export interface ReplicaOptions {
  /** The group: replica i's address and UDP port; n = 2f + 1 (odd, 1..31), one IP family. */
  readonly replicas: readonly Peer[];
  /** This replica's index in `replicas`. */
  readonly self: number;
  readonly stateMachine: StateMachine;
  /**
   * 'fresh': a new group, every replica starts normal in view 0. 'recover': this replica lost its
   * state (restarted without disk) and must rejoin with the recovery protocol before it answers.
   */
  readonly start?: 'fresh' | 'recover';
  /** The socket; default a UDP socket bound to replicas[self]. */
  readonly transport?: Transport;
  readonly offload?: ReplicaOffload;
  readonly logger?: Logger;
  /** Called on every counter increment (the daemon's Prometheus bridge). */
  readonly onCount?: CountHook;
  /**
   * Called after the step in which view, status or leader changed (not for the state at start):
   * a runner that reports them needs no timer.
   */
  readonly onStateChange?: (state: { view: number; status: ReplicaStatus; leader: number }) => void;
  readonly heartbeatMs?: number;
  readonly viewChangeTimeoutMs?: number;
  readonly retransmitMs?: number;
  /** The most the leader's PREPARE retransmission timeout adapts up to (rto.ts: from retransmitMs, by the commit latency). */
  readonly retransmitMaxMs?: number;
  readonly drainIntervalMs?: number;
  readonly maxBatch?: number;
  readonly maxPipeline?: number;
  readonly stateChunkEntries?: number;
  /** The leader's lease (lease.ts): how long a quorum's acknowledgement lets it act alone. */
  readonly leaseMs?: number;
  /** A checkpoint (state machine + client table) every this many executed ops (log.ts, snapshot.ts). */
  readonly checkpointEvery?: number;
  /** Log entries kept below a checkpoint's op, so a follower lagging by fewer catches up by entries. */
  readonly logRetain?: number;
  /** Bound on the difference of two replicas' clock rates (0.1: 10 %), for the lease. */
  readonly clockDrift?: number;
  /** A client's row in the client table is dropped this many ops after its last executed request (log.ts ClientTable). */
  readonly clientRetainOps?: number;
  /** The client table holds at most this many clients; beyond, the oldest (by op of their last request) are dropped. */
  readonly maxClients?: number;
}

const DEFAULTS = {
  start: 'fresh',
  heartbeatMs: 50, // the leader's COMMIT when it sent nothing else for this long
  viewChangeTimeoutMs: 400, // a follower that heard nothing from the leader for this long starts a view change
  retransmitMs: 60, // unacknowledged PREPAREs, GET_STATE, view change and recovery messages are re-sent after this
  retransmitMaxMs: 1000, // the PREPAREs' timeout adapts to the measured commit latency (rto.ts), retransmitMs..this
  drainIntervalMs: 25, // with an offload: how often the follower drains fast-acked entries (in batches; the kernel acknowledges meanwhile; = the tick, so both share a wake-up)
  maxBatch: 64, // client requests per log entry (also bounded by PAXOS_MAX_ENTRY bytes)
  maxPipeline: 128, // uncommitted log entries the leader keeps in flight
  stateChunkEntries: 64, // entries per NEW_STATE (also bounded by PAXOS_MAX_MSG bytes)
  leaseMs: 400, // the leader's lease after the first send of an op a quorum acknowledged
  clockDrift: 0.1, // clock rates differ by at most 10 % (a new leader waits leaseMs x 1.1 first)
  checkpointEvery: 4096, // executed ops between checkpoints
  logRetain: 1024, // entries kept below a checkpoint's op
  clientRetainOps: 1 << 20, // ops a client's row outlives its last executed request (~36 h of craq-scheduler's idle lease renewals at 8 ops/s)
  maxClients: 4096, // rows of the client table (bench/paxos: hundreds of clients; each row keeps one reply, <= 1.3 KB)
} as const;

export interface ResolvedReplicaOptions {
  readonly replicas: readonly Peer[];
  readonly self: number;
  readonly n: number;
  readonly f: number;
  readonly start: 'fresh' | 'recover';
  readonly logger: Logger;
  readonly heartbeatMs: number;
  readonly viewChangeTimeoutMs: number;
  readonly retransmitMs: number;
  readonly retransmitMaxMs: number;
  readonly drainIntervalMs: number;
  readonly maxBatch: number;
  readonly maxPipeline: number;
  readonly stateChunkEntries: number;
  readonly leaseMs: number;
  readonly clockDrift: number;
  readonly checkpointEvery: number;
  readonly logRetain: number;
  readonly clientRetainOps: number;
  readonly maxClients: number;
}

function int(opts: ReplicaOptions, name: Exclude<keyof typeof DEFAULTS & keyof ReplicaOptions, 'clockDrift'>, min: number, max: number): number {
  const v = opts[name] ?? DEFAULTS[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw NA_ERR_PAXOS_INVALID_OPTIONS(name, `expected an integer ${min}..${max}, got ${String(v)}`);
  return v;
}

export function resolveReplicaOptions(opts: ReplicaOptions): ResolvedReplicaOptions {
  const { replicas } = opts;
  if (!Array.isArray(replicas) || replicas.length < 1 || replicas.length > paxos.PAXOS_MAX_REPLICAS || replicas.length % 2 === 0) {
    throw NA_ERR_PAXOS_INVALID_OPTIONS('replicas', `expected an odd number of replicas 1..${paxos.PAXOS_MAX_REPLICAS} (n = 2f + 1), got ${Array.isArray(replicas) ? replicas.length : typeof replicas}`);
  }
  let family: number | undefined;
  replicas.forEach((r, i) => {
    const fam = typeof r?.address === 'string' ? ipFamily(r.address) : undefined;
    if (fam === undefined) throw NA_ERR_PAXOS_INVALID_OPTIONS(`replicas[${i}].address`, `expected an IPv4 or IPv6 address, got ${JSON.stringify(r?.address)}`);
    if (family !== undefined && fam !== family) throw NA_ERR_PAXOS_INVALID_OPTIONS(`replicas[${i}].address`, `expected IPv${family} like replicas[0], got ${r.address}`);
    family = fam;
    if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw NA_ERR_PAXOS_INVALID_OPTIONS(`replicas[${i}].port`, `expected 1..65535, got ${String(r.port)}`);
  });
  if (!Number.isInteger(opts.self) || opts.self < 0 || opts.self >= replicas.length) throw NA_ERR_PAXOS_INVALID_OPTIONS('self', `expected 0..${replicas.length - 1}, got ${String(opts.self)}`);
  const sm = opts.stateMachine as Partial<StateMachine> | undefined;
  if (typeof sm?.apply !== 'function' || typeof sm.snapshot !== 'function' || typeof sm.restore !== 'function') {
    throw NA_ERR_PAXOS_INVALID_OPTIONS('stateMachine', 'expected an object with apply(op), snapshot() and restore(bytes)');
  }
  const start = opts.start ?? DEFAULTS.start;
  if (start !== 'fresh' && start !== 'recover') throw NA_ERR_PAXOS_INVALID_OPTIONS('start', `expected 'fresh' or 'recover', got ${String(start)}`);
  if (opts.logger !== undefined && !isLogger(opts.logger)) throw NA_ERR_PAXOS_INVALID_OPTIONS('logger', 'expected a Logger');
  const resolved: ResolvedReplicaOptions = {
    replicas: Object.freeze(replicas.map((r) => Object.freeze({ address: r.address, port: r.port }))),
    self: opts.self,
    n: replicas.length,
    f: (replicas.length - 1) / 2,
    start,
    logger: opts.logger ?? silentLogger,
    heartbeatMs: int(opts, 'heartbeatMs', 1, 60_000),
    viewChangeTimeoutMs: int(opts, 'viewChangeTimeoutMs', 2, 600_000),
    retransmitMs: int(opts, 'retransmitMs', 1, 60_000),
    // by default at least retransmitMs (a test's slow timers raise both)
    retransmitMaxMs: opts.retransmitMaxMs === undefined ? Math.max(DEFAULTS.retransmitMaxMs, int(opts, 'retransmitMs', 1, 60_000)) : int(opts, 'retransmitMaxMs', 1, 600_000),
    drainIntervalMs: int(opts, 'drainIntervalMs', 1, 10_000),
    maxBatch: int(opts, 'maxBatch', 1, 4096),
    maxPipeline: int(opts, 'maxPipeline', 1, 1 << 20),
    stateChunkEntries: int(opts, 'stateChunkEntries', 1, 4096),
    leaseMs: int(opts, 'leaseMs', 1, 600_000),
    checkpointEvery: int(opts, 'checkpointEvery', 1, 1 << 24),
    logRetain: int(opts, 'logRetain', 0, 1 << 24),
    clientRetainOps: int(opts, 'clientRetainOps', 1, 2 ** 40),
    maxClients: int(opts, 'maxClients', 1, 1 << 24),
    clockDrift: opts.clockDrift ?? DEFAULTS.clockDrift,
  };
  if (typeof resolved.clockDrift !== 'number' || !(resolved.clockDrift >= 0 && resolved.clockDrift <= 1)) throw NA_ERR_PAXOS_INVALID_OPTIONS('clockDrift', `expected a number 0..1, got ${String(opts.clockDrift)}`);
  if (resolved.retransmitMaxMs < resolved.retransmitMs) {
    throw NA_ERR_PAXOS_INVALID_OPTIONS('retransmitMaxMs', `expected at least retransmitMs (${resolved.retransmitMs}), got ${resolved.retransmitMaxMs}`);
  }
  if (resolved.viewChangeTimeoutMs <= resolved.heartbeatMs) {
    throw NA_ERR_PAXOS_INVALID_OPTIONS('viewChangeTimeoutMs', `expected more than heartbeatMs (${resolved.heartbeatMs}), got ${resolved.viewChangeTimeoutMs}`);
  }
  return Object.freeze(resolved);
}
