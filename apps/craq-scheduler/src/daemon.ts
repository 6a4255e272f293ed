/**
 * craq-scheduler on the daemon host (@netaccel/daemon): the chain nodes' data planes, etcd,
 * Redis, the chain manager (configured, then probed), the placer with its write-back, the
 * ranking rounds, the Craq gRPC service and the telemetry server, started in that order and
 * stopped in the reverse one. A reload applies the placement, heat and write-back settings; the
 * chain, etcd, sockets and listen addresses take effect at the next start.
 *
 * The data plane: `dataPlane.via: loader` is bpf/craq through each node's ebpf-loader
 * (loader-node.ts: libs/dataplane + WatchRingBuffer, liveness asked of the loaders); tests may
 * give user-space reference nodes (@netaccel/craq/testing) as `dataPlanes`.
 *
 * The chain's configuration: `membership.via: local` decides it here alone; `membership.via:
 * paxos` agrees on it with the other schedulers of the chain in a Paxos group (chain-store.ts),
 * whose replica this daemon runs and serves beside Craq (netaccel.paxos.v1.Paxos: `netaccel paxos
 * status --socket <grpc.socket>`; paxos_* metrics). There the placement is kept in the group
 * too (placement-store.ts) and one scheduler acts, the lease holder (active-role.ts), which takes
 * the placement over before it acts; with `local` the placement starts empty and stale markers
 * are retired at start (placer.ts `adopt`).
 */
import { isDeepStrictEqual } from 'node:util';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { CraqTransport } from '@netaccel/craq';
import type { NodeDataPlane } from '@netaccel/craq';
import { packageVersion } from '@netaccel/daemon';
import { isNetaccelError } from '@netaccel/errors';
import type { DaemonApp, DaemonHost, DaemonSpec } from '@netaccel/daemon';
import { CraqService, rpcService } from '@netaccel/rpc';
import type { RpcServer } from '@netaccel/rpc';
import type { TelemetryServer } from '@netaccel/telemetry';
import { ActiveRole } from './active-role.js';
import { ChainManager, udpProbe } from './chain-manager.js';
import { PaxosChainStore } from './chain-store.js';
import type { Probe } from './chain-manager.js';
import { craqSchedulerConfig } from './config.js';
import type { CraqSchedulerConfig } from './config.js';
import { NA_ERR_CRAQD_CONFIG_INVALID, NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE } from './errors.js';
import { registerMetrics } from './metrics.js';
import { Mutex } from './mutex.js';
import { Placer } from './placer.js';
import { PaxosPlacementStore } from './placement-store.js';
import { Scheduler } from './scheduler.js';
import { loaderProbe, openLoaderNodes } from './loader-node.js';
import { craqHandlers } from './service.js';

/** The version of this app: its package.json's. */
export const VERSION = packageVersion(import.meta.url);

export interface CraqSchedulerOptions {
  /** The chain nodes' data planes, in `chain.nodes` order (matched by name). */
  readonly dataPlanes?: (config: CraqSchedulerConfig) => Promise<NodeDataPlane[]> | NodeDataPlane[];
  /** Liveness probe (default: the NetCRAQ UDP probe). */
  readonly probe?: Probe;
  /** Start the periodic probes, rounds and flushes (default true; tests drive them by hand). */
  readonly timers?: boolean;
}

/** craq-scheduler for runDaemon: `await runDaemon(craqScheduler())`. */
export function craqScheduler(opts: CraqSchedulerOptions = {}): DaemonSpec<typeof craqSchedulerConfig, CraqDaemon> {
  return {
    name: 'craq-scheduler',
    version: VERSION,
    config: craqSchedulerConfig,
    start: (host) => CraqDaemon.start(host, opts),
    running: (d) => ({ nodes: d.chain.state.members.length, epoch: d.chain.state.epoch }),
  };
}

export class CraqDaemon implements DaemonApp {
  chain!: ChainManager;
  /** `membership.via: paxos`: the chain's configuration in the schedulers' Paxos group. */
  store: PaxosChainStore | undefined;
  /** `membership.via: paxos`: whether this scheduler is the one that acts (the lease holder). */
  role: ActiveRole | undefined;
  placer!: Placer;
  scheduler!: Scheduler;
  etcd!: Etcd3;
  redis: Redis | undefined;
  #rpc: RpcServer | undefined;
  #telemetry: TelemetryServer | undefined;
  #config: CraqSchedulerConfig;
  #unsubscribe: (() => void) | undefined;

  private constructor(private readonly host: DaemonHost<typeof craqSchedulerConfig>, private readonly opts: CraqSchedulerOptions) {
    this.#config = host.config;
  }

  static async start(host: DaemonHost<typeof craqSchedulerConfig>, opts: CraqSchedulerOptions = {}): Promise<CraqDaemon> {
    const d = new CraqDaemon(host, opts);
    await d.#boot();
    return d;
  }

  /**
   * Whether this scheduler probes and places on its timers: always with `membership.via: local`;
   * with `paxos` only while its replica leads the group (the others follow the agreed chain and
   * one of them takes over at the next view).
   */
  get active(): boolean {
    return this.store === undefined || this.role?.active === true;
  }

  get telemetryServer(): TelemetryServer | undefined {
    return this.#telemetry;
  }

  status(): string {
    return `chain of ${this.chain.state.members.length} at epoch ${this.chain.state.epoch}, ${this.placer.entries.size} keys placed`;
  }

  async #boot(): Promise<void> {
    const host = this.host;
    const c = this.#config;
    if (c.chain.nodes.length === 0) throw NA_ERR_CRAQD_CONFIG_INVALID('chain.nodes: expected at least one node, got none');
    let probe = this.opts.probe;
    let planes: NodeDataPlane[];
    if (this.opts.dataPlanes !== undefined) planes = await this.opts.dataPlanes(c);
    else if (c.dataPlane.via === 'loader') {
      const nodes = await openLoaderNodes(c, host.logger('dataplane')).catch((err: unknown) => {
        if (isNetaccelError(err) && err.code === NA_ERR_CRAQD_CONFIG_INVALID.code) throw err;
        throw NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE.with({ cause: err }, c.dataPlane.via, err instanceof Error ? err.message : String(err));
      });
      planes = nodes;
      probe ??= loaderProbe(nodes);
    } else throw NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE(c.dataPlane.via, 'reference nodes are given by the caller (@netaccel/craq/testing)');
    host.onClose('data planes', () => Promise.all(planes.map((p) => p.close())));
    const byName = new Map(planes.map((p) => [p.name, p]));
    const ordered = c.chain.nodes.map((n, i) => {
      const p = byName.get(n.name);
      if (p === undefined) throw NA_ERR_CRAQD_DATAPLANE_UNAVAILABLE(c.dataPlane.via, `chain.nodes[${i}] (${n.name}) has no data plane`);
      return p;
    });

    this.etcd = new Etcd3({ hosts: [...c.etcd.endpoints] });
    host.onClose('etcd', () => this.etcd.close());
    if (c.redis.url !== '') {
      const redis = new Redis(c.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      this.redis = redis;
      host.onClose('redis', () => redis.disconnect());
      await redis.connect().catch((err: unknown) => host.logger('heat').warn({ err, url: c.redis.url }, 'Redis not reachable yet: reported heat is missing until it is'));
    }

    const mutex = new Mutex();
    const transport = new CraqTransport();
    host.onClose('probe socket', () => transport.close());
    const m: { metrics?: ReturnType<typeof registerMetrics> } = {}; // registered once the parts exist
    if (c.membership.via === 'paxos') {
      const p = c.membership.paxos;
      const store = await PaxosChainStore.start({ self: p.self, replicas: p.replicas, key: p.key, heartbeatMs: p.heartbeat, viewChangeTimeoutMs: p.viewChangeTimeout, timeoutMs: p.timeout, leaseMs: p.lease, clockDrift: p.clockDrift, log: host.logger('membership') });
      this.store = store;
      host.onClose('paxos replica', () => store.close());
      store.registerMetrics(host.metrics);
    }
    this.chain = new ChainManager({
      nodes: ordered,
      mutex,
      log: host.logger('chain'),
      probe: probe ?? udpProbe(transport),
      probeIntervalMs: c.chain.probeInterval,
      probeTimeoutMs: c.chain.probeTimeout,
      multiplier: c.chain.probeMultiplier,
      drainTimeoutMs: c.chain.drainTimeout,
      lostMessageMs: c.chain.lostMessageAfter,
      placedKeyIds: () => this.placer.placedKeyIds(),
      writable: (id) => this.placer.writable(id),
      onRepair: (c) => this.placer.commit(c),
      onTail: (tail) => {
        this.#unsubscribe?.();
        this.#unsubscribe = tail?.onCommit((commit) => this.placer.commit(commit));
      },
      onChange: (why, state) => {
        m.metrics?.reconfigurations.inc({ reason: why });
        if (state.members.length === 0) void this.placer.dropAll();
      },
      ...(this.store !== undefined ? { store: this.store, active: () => this.active } : {}),
    });
    this.placer = new Placer({
      etcd: this.etcd,
      chain: this.chain,
      mutex,
      log: host.logger('placer'),
      perKeyOverhead: c.placement.perKeyOverhead,
      limits: () => this.#config.placement,
      flushIntervalMs: c.writeBack.flushInterval,
      maxPending: c.writeBack.maxPending,
      ...(this.store !== undefined ? { store: new PaxosPlacementStore(this.store.config, c.membership.paxos.key, host.logger('placement')) } : {}),
    });
    this.scheduler = new Scheduler({ config: c, etcd: this.etcd, redis: this.redis, chain: this.chain, placer: this.placer, log: host.logger('scheduler'), onSourceError: (source) => m.metrics?.sourceErrors.inc({ source }), active: () => this.active });
    m.metrics = registerMetrics(host.metrics, { chain: this.chain, placer: this.placer, scheduler: this.scheduler, budget: c.placement.budget, active: () => this.active });

    await this.chain.init();
    if (this.store !== undefined) {
      const store = this.store;
      const role = new ActiveRole({ leaseHeld: () => store.leads(), takeOver: () => this.placer.adopt(), standDown: () => this.placer.standDown(), checkMs: Math.max(10, Math.floor(c.membership.paxos.lease / 4)), log: host.logger('membership') });
      this.role = role;
      role.start(); // always: the role follows the lease whether the other timers run or not
      host.onClose('active role', () => role.stop());
    } else {
      // the placement starts empty: markers left by an earlier run are retired (etcd down: logged, the daemon starts)
      await this.placer.adopt().catch((err: unknown) => host.logger('placer').warn({ err }, 'stale placement markers could not be retired'));
    }
    host.onClose('placer', async () => {
      this.#unsubscribe?.();
      await this.placer.close();
    });
    if (this.opts.timers !== false) {
      this.placer.writeBack.start();
      this.chain.start();
      this.scheduler.start();
    }
    host.onClose('timers', () => {
      this.scheduler.stop();
      this.chain.close();
      this.placer.writeBack.stop();
    });

    this.#rpc = await host.serveGrpc({
      address: c.grpc.socket,
      shutdownTimeoutMs: 2000,
      services: [rpcService(CraqService, craqHandlers({ chain: this.chain, placer: this.placer, scheduler: this.scheduler, budgetBytes: c.placement.budget }, host.logger('api'))), ...(this.store !== undefined ? [this.store.service()] : [])],
    });
    ({ server: this.#telemetry } = await host.serveTelemetry({
      listen: c.telemetry.listen,
      readiness: {
        config: () => true,
        chain: () => (this.chain.state.members.length > 0 ? true : { ready: false, message: 'no live chain node' }),
        grpc: () => (this.#rpc !== undefined && this.#rpc.health.getStatus(CraqService) === 'SERVING' ? true : { ready: false, message: 'gRPC not serving' }),
      },
      status: () => ({
        membership: this.#membershipStatus(),
        chain: { epoch: this.chain.state.epoch, members: this.chain.state.members.map((m) => m.name), removed: this.chain.state.removed.map((m) => m.name), lastChange: this.chain.state.lastChange },
        placement: { epoch: String(this.placer.epoch), keys: this.placer.entries.size, usedBytes: this.placer.usedBytes(), budgetBytes: this.#config.placement.budget },
        writeBack: { pending: this.placer.writeBack.pending, ...this.placer.writeBack.stats },
        etcd: this.scheduler.etcdRates,
      }),
    }));
    host.onReload((next) => this.reconfigure(next));
  }

  /** Who keeps the chain's configuration, at which version; the Paxos replica's view and leader. */
  #membershipStatus(): object {
    const via = this.#config.membership.via;
    if (this.store === undefined) return { via, version: this.chain.version, active: true };
    try {
      const p = this.store.status();
      const role = { lease: this.store.leads(), takeovers: this.role?.takeovers ?? 0, standDowns: this.role?.standDowns ?? 0 };
      return { via, version: this.chain.version, active: this.active, ...role, paxos: { self: p.self, view: p.view, status: p.status, leader: p.leader, commit: String(p.commit) } };
    } catch {
      return { via, version: this.chain.version, active: false, paxos: 'closed' };
    }
  }

  /** Applies the settings a reload may change; the others wait for the next start. */
  reconfigure(next: CraqSchedulerConfig): void {
    const later = (['etcd', 'chain', 'membership', 'dataPlane', 'grpc', 'telemetry'] as const).filter((k) => !isDeepStrictEqual(next[k], this.#config[k]));
    if (later.length > 0) this.host.logger('config').warn({ fields: later }, 'these settings take effect at the next start');
    this.scheduler.setConfig({ ...next, etcd: this.#config.etcd, chain: this.#config.chain });
    this.#config = next;
  }
}
