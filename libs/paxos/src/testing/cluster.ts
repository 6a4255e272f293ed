/**
 * An in-process replica group over real UDP sockets (127.0.0.1 or ::1, one port each), with a
 * fault-injection wrapper around every replica's socket and, optionally, a FakeOffload between
 * them: start, stop and restart replicas (a restarted replica has lost everything and recovers),
 * make key-value clients, wait for conditions. For tests and the benchmark.
 */
import type { Logger } from '@netaccel/errors';
import { PaxosClient } from '../client.js';
import { FaultyTransport } from '../faults.js';
import type { FaultOptions } from '../faults.js';
import { KvClient, KvStateMachine } from '../kv.js';
import type { ReplicaOptions } from '../options.js';
import { PaxosReplica } from '../replica.js';
import type { Peer } from '../transport.js';
import { udpTransport } from '../transport.js';
import { FakeOffload } from './fake-offload.js';

export interface ClusterOptions {
  readonly n: number;
  /** 127.0.0.1 (default) or ::1. */
  readonly host?: string;
  /** Seed of the fault injection (each replica's generator is seeded from it). */
  readonly seed?: number;
  readonly faults?: Omit<FaultOptions, 'seed'>;
  /** Put a FakeOffload (these offload bits) between each replica and its socket. */
  readonly offloads?: number;
  readonly ringSize?: number;
  /** Timing and batching options of every replica. */
  readonly replica?: Partial<Pick<ReplicaOptions, 'heartbeatMs' | 'viewChangeTimeoutMs' | 'retransmitMs' | 'drainIntervalMs' | 'maxBatch' | 'maxPipeline' | 'stateChunkEntries' | 'checkpointEvery' | 'logRetain' | 'leaseMs' | 'clientRetainOps' | 'maxClients'>>;
}

export const TEST_TIMING = { heartbeatMs: 20, viewChangeTimeoutMs: 250, retransmitMs: 30, drainIntervalMs: 2 } as const;

interface Member {
  replica: PaxosReplica;
  kv: KvStateMachine;
  faults: FaultyTransport;
  offload: FakeOffload | undefined;
}

export class TestCluster {
  readonly members: Array<Member | null>;
  private readonly clients: KvClient[] = [];
  private generation = 0;
  /** What the replicas logged at error level (a step that threw): tests expect none. */
  readonly failures: unknown[] = [];
  private readonly logger: Logger;

  private constructor(
    readonly opts: ClusterOptions,
    readonly peers: readonly Peer[],
  ) {
    this.members = peers.map(() => null);
    const noop = (): void => undefined;
    const logger: Logger = {
      trace: noop,
      debug: noop,
      info: noop,
      warn: noop,
      error: (obj: object, msg: string) => void this.failures.push({ ...obj, msg }),
      fatal: (obj: object, msg: string) => void this.failures.push({ ...obj, msg }),
      child: () => logger,
      isLevelEnabled: (level: string) => level === 'error' || level === 'fatal',
    };
    this.logger = logger;
  }

  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const host = opts.host ?? '127.0.0.1';
    const sockets = await Promise.all(Array.from({ length: opts.n }, () => udpTransport({ address: host, port: 0 })));
    const cluster = new TestCluster(opts, sockets.map((s) => s.local));
    try {
      for (let i = 0; i < opts.n; i++) await cluster.launch(i, 'fresh', sockets[i]!);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  private async launch(i: number, start: 'fresh' | 'recover', socket?: Awaited<ReturnType<typeof udpTransport>>): Promise<void> {
    const bound = socket ?? (await udpTransport({ address: this.peers[i]!.address, port: this.peers[i]!.port }));
    const faults = new FaultyTransport(bound, { seed: (this.opts.seed ?? 1) * 131 + i * 7 + this.generation++, ...this.opts.faults });
    const offload = this.opts.offloads === undefined ? undefined : new FakeOffload(faults, this.peers, { offloads: this.opts.offloads, ...(this.opts.ringSize === undefined ? {} : { ringSize: this.opts.ringSize }) });
    const kv = new KvStateMachine();
    const replica = await PaxosReplica.start({
      replicas: this.peers,
      self: i,
      stateMachine: kv,
      start,
      transport: offload ?? faults,
      logger: this.logger,
      ...(offload === undefined ? {} : { offload }),
      ...TEST_TIMING,
      ...this.opts.replica,
    });
    this.members[i] = { replica, kv, faults, offload };
  }

  member(i: number): Member {
    const m = this.members[i];
    if (m === null || m === undefined) throw new Error(`replica ${i} is stopped`);
    return m;
  }

  /** Stops replica i (its socket closes: like kill -9 of a process without disk). */
  async stop(i: number): Promise<void> {
    const m = this.members[i];
    this.members[i] = null;
    await m?.replica.close();
  }

  /** Starts replica i again with nothing: it recovers before it takes part. */
  async restart(i: number): Promise<void> {
    if (this.members[i] !== null) await this.stop(i);
    await this.launch(i, 'recover');
  }

  /** The index of the replica that is leader in normal status in the highest view, if any. */
  leader(): number | undefined {
    let best: { i: number; view: number } | undefined;
    this.members.forEach((m, i) => {
      const s = m?.replica.snapshot();
      if (s?.isLeader === true && (best === undefined || s.view > best.view)) best = { i, view: s.view };
    });
    return best?.i;
  }

  async client(opts: { retryMs?: number; timeoutMs?: number } = {}): Promise<KvClient> {
    const c = new KvClient(await PaxosClient.create({ replicas: this.peers, retryMs: opts.retryMs ?? 60, timeoutMs: opts.timeoutMs ?? 4000 }));
    this.clients.push(c);
    return c;
  }

  /** Waits until `pred` holds (checked every 5 ms); throws with `what` after `timeoutMs`. */
  async waitFor(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!pred()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.describe())}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Every running replica has executed everything up to the highest commit number. */
  converged(): boolean {
    const snaps = this.members.filter((m) => m !== null).map((m) => m.replica.snapshot());
    const top = snaps.reduce((c, s) => (s.commit > c ? s.commit : c), 0n);
    return snaps.every((s) => s.status === 'normal' && s.executed === top && s.view === snaps[0]!.view);
  }

  describe(): unknown {
    return this.members.map((m, i) => {
      if (m === null) return { i, stopped: true };
      const s = m.replica.snapshot();
      return { i, view: s.view, status: s.status, lastOp: String(s.lastOp), commit: String(s.commit), executed: String(s.executed) };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.members.map((m, i) => (m === null ? undefined : this.stop(i))));
  }
}
