/**
 * The sidecar's data path assembled from a configuration: clusters, listeners, per-method
 * telemetry, the etcd key counter and the kernel path. The daemon (daemon.ts) runs it on the
 * daemon host; tests and benchmarks start it directly (`/testing`). `reconfigure()` applies a new
 * configuration's policies, routes and clusters without touching connections or calls in flight
 * (calls keep the policy and route they started with); listeners' addresses take effect at the
 * next start.
 */
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { Logger, Metrics } from '@netaccel/telemetry';
import { childLogger } from '@netaccel/telemetry';
import { Cluster } from './cluster.js';
import type { SidecarConfig } from './config.js';
import type { HeatStore } from './etcd-heat.js';
import { ETCD_PUT, ETCD_RANGE, EtcdHeat } from './etcd-heat.js';
import type { KernelPath } from './offload.js';
import { KERNEL_PATH_NOT_LOADED, userSpaceOnly } from './offload.js';
import { compilePolicy, compileRoutes, matchRoute } from './policy.js';
import type { CompiledPolicy, CompiledRoute } from './policy.js';
import type { ListenerMetrics } from './proxy.js';
import { ProxyListener, listenerMetrics } from './proxy.js';
import { redisHeatStore } from './redis-store.js';
import { CallStats } from './stats.js';

export interface SidecarOptions {
  readonly config: SidecarConfig;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The kernel fast path; default none (every connection in user space). */
  readonly kernel?: KernelPath;
  /** Where etcd key counts go; default Redis at etcdHeat.redis. */
  readonly heatStore?: HeatStore;
}

function compileAll(config: SidecarConfig): Map<string, { policy: CompiledPolicy; routes: readonly CompiledRoute[] }> {
  const defaults = { timeout: config.sidecar.timeout, maxTimeout: config.sidecar.maxTimeout };
  return new Map(config.sidecar.listeners.map((l) => [l.name, { policy: compilePolicy(l.name, l.policy), routes: compileRoutes(l.routes, defaults) }]));
}

export class SidecarProxy {
  readonly listeners: ProxyListener[] = [];
  readonly clusters = new Map<string, Cluster>();
  readonly stats: CallStats;
  readonly heat: EtcdHeat | undefined;
  readonly kernel: KernelPath;
  private readonly listenerMetrics: ListenerMetrics;
  private readonly log: Logger;
  private config: SidecarConfig;

  private constructor(opts: SidecarOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.kernel = opts.kernel ?? userSpaceOnly;
    const c = opts.config;
    this.stats = new CallStats(opts.metrics, childLogger(opts.log, 'access'), { maxMethods: c.sidecar.maxMethods, accessLog: c.sidecar.accessLog });
    this.heat = c.etcdHeat.enabled ? new EtcdHeat(c.etcdHeat, opts.heatStore ?? redisHeatStore(c.etcdHeat.redis), opts.metrics, childLogger(opts.log, 'etcd-heat')) : undefined;
    this.listenerMetrics = listenerMetrics(opts.metrics, () => this.listeners);
    const clusters = this.clusters;
    opts.metrics.gauge({
      name: 'sidecar_upstream_healthy',
      help: '1 while the upstream endpoint is not ejected',
      labelNames: ['cluster', 'endpoint'],
      collect() {
        this.reset();
        const now = Date.now();
        for (const k of clusters.values()) for (const e of k.members) this.set({ cluster: k.name, endpoint: e.address }, e.healthy(now) ? 1 : 0);
      },
    });
    opts.metrics.gauge({
      name: 'sidecar_upstream_connect_failures',
      help: 'Failed connection attempts to the upstream endpoint since start',
      labelNames: ['cluster', 'endpoint'],
      collect() {
        this.reset();
        for (const k of clusters.values()) for (const e of k.members) this.set({ cluster: k.name, endpoint: e.address }, e.connectFailuresTotal);
      },
    });
  }

  static async start(opts: SidecarOptions): Promise<SidecarProxy> {
    const p = new SidecarProxy(opts);
    try {
      await p.boot();
    } catch (err) {
      await p.close(0);
      throw err;
    }
    return p;
  }

  private async boot(): Promise<void> {
    const c = this.config;
    const clog = childLogger(this.log, 'cluster');
    for (const k of c.sidecar.clusters) this.clusters.set(k.name, new Cluster(k, { initialWindowSize: c.sidecar.initialWindowSize }, clog));
    const compiled = compileAll(c);
    const plog = childLogger(this.log, 'proxy');
    for (const l of c.sidecar.listeners) {
      const { policy, routes } = compiled.get(l.name)!;
      const listener = new ProxyListener(
        { name: l.name, direction: l.direction, host: l.listen.host, port: l.listen.port, maxConcurrentStreams: c.sidecar.maxConcurrentStreams, idleTimeout: c.sidecar.idleTimeout, initialWindowSize: c.sidecar.initialWindowSize },
        policy,
        routes,
        { clusters: this.clusters, stats: this.stats, heat: this.heat, kernel: this.kernel, log: plog, metrics: this.listenerMetrics },
      );
      await listener.listen();
      this.listeners.push(listener);
    }
    await this.kernel.applyPolicies(this.listeners.map((l) => l.currentPolicy));
    await this.applySplice();
    this.heat?.start();
  }

  /** Why a listener's connections cannot be spliced in the kernel, or the one cluster they go to. */
  private spliceTarget(l: ProxyListener): { cluster: Cluster } | { reason: string } {
    const k = this.kernel.splice;
    if (k === undefined) return { reason: KERNEL_PATH_NOT_LOADED };
    const refused = k.refusal(l.name);
    if (refused !== undefined) return { reason: refused };
    const host = l.settings.host;
    if (isIP(host) === 0 || host === '0.0.0.0' || host === '::') return { reason: `listener ${l.name} listens on ${host}: a spliced listener needs one IP address (the kernel matches its clients' sockets by it)` };
    // etcd key counting reads the Range/Put messages in user space: a listener that may carry them stays there
    if (this.heat !== undefined && [ETCD_RANGE, ETCD_PUT].some((m) => matchRoute(l.currentRoutes, m) !== undefined)) {
      return { reason: `listener ${l.name} may carry etcd Range/Put calls, whose keys etcdHeat counts in user space` };
    }
    const names = [...new Set(l.currentRoutes.map((r) => r.cluster))];
    if (names.length !== 1) return { reason: `the routes of listener ${l.name} go to ${names.length} clusters: a spliced connection has one upstream` };
    const cluster = this.clusters.get(names[0]!);
    if (cluster === undefined) return { reason: `cluster ${names[0]} is not configured` };
    const named = cluster.members.find((e) => isIP(e.host) === 0);
    if (named !== undefined) return { reason: `endpoint ${named.address} of cluster ${cluster.name} is not an IP address (the kernel matches the upstream's sockets by it)` };
    return { cluster };
  }

  /** Offload rules and splicing per listener, after the kernel took the policies. */
  private async applySplice(): Promise<void> {
    const k = this.kernel.splice;
    for (const l of this.listeners) {
      const t = this.spliceTarget(l);
      // through the loader, the rules are in the kernel before new connections are spliced
      if (k !== undefined) await k.offload(l.name, { host: l.settings.host, port: l.port }, 'cluster' in t ? t.cluster.members.map((e) => ({ host: e.host, port: e.port })) : []);
      if ('reason' in t && k !== undefined) this.log.info({ component: 'kernel', listener: l.name }, `connections not spliced: ${t.reason}`);
      l.setSplice(t);
    }
  }

  listener(name: string): ProxyListener | undefined {
    return this.listeners.find((l) => l.name === name);
  }

  /** Applies a new (validated) configuration: everything is compiled before anything changes. */
  async reconfigure(next: SidecarConfig): Promise<void> {
    const compiled = compileAll(next);
    const prev = this.config;
    const listen = (c: SidecarConfig) => c.sidecar.listeners.map((l) => [l.name, l.direction, l.listen]);
    const fixed = (c: SidecarConfig) => [c.sidecar.maxConcurrentStreams, c.sidecar.idleTimeout, c.sidecar.initialWindowSize, c.sidecar.maxMethods, c.sidecar.accessLog, c.etcdHeat];
    if (!isDeepStrictEqual(listen(next), listen(prev)) || !isDeepStrictEqual(fixed(next), fixed(prev))) {
      this.log.warn({ component: 'config' }, 'listeners, connection settings and etcdHeat changed: they take effect at the next start');
    }
    for (const k of next.sidecar.clusters) {
      const have = this.clusters.get(k.name);
      if (have === undefined) this.clusters.set(k.name, new Cluster(k, { initialWindowSize: prev.sidecar.initialWindowSize }, childLogger(this.log, 'cluster')));
      else have.update(k);
    }
    for (const l of this.listeners) {
      const c = compiled.get(l.name);
      // a listener dropped from the configuration keeps serving until the next start; with no route left it answers UNIMPLEMENTED
      if (c !== undefined) l.update(c.policy, c.routes);
      else l.update(l.currentPolicy, []);
    }
    const wanted = new Set(next.sidecar.clusters.map((k) => k.name));
    for (const [name, k] of this.clusters) {
      if (!wanted.has(name)) {
        this.clusters.delete(name);
        k.close();
      }
    }
    await this.kernel.applyPolicies(this.listeners.map((l) => l.currentPolicy));
    await this.applySplice();
    this.config = next;
    this.log.info({ component: 'config', listeners: next.sidecar.listeners.length, clusters: next.sidecar.clusters.length }, 'configuration applied');
  }

  get currentConfig(): SidecarConfig {
    return this.config;
  }

  /** Graceful shutdown: listeners drain (GOAWAY) up to `drainMs`, then upstream sessions close, counts flush. */
  async close(drainMs = this.config.sidecar.drainTimeout): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close(drainMs)));
    for (const k of this.clusters.values()) k.close();
    await this.heat?.close();
    await this.kernel.close();
  }
}
