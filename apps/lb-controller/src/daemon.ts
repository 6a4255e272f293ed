/**
 * lb-controller on the daemon host (@netaccel/daemon): the data plane (through ebpf-loader, or
 * in this process), the reconciler, the desired-state source, health checks, least-connection
 * re-weighting, VIP announcements, the Balancer gRPC service and the telemetry server, started in
 * that order and stopped in the reverse one (timers, servers, the source, then the VIPs withdrawn
 * and the data plane closed; the data plane keeps forwarding). main.ts is runDaemon(lbController()).
 */
import { resolve } from 'node:path';
import { XLB_BALANCER } from '@netaccel/bpf-programs/xlb';
import type { XlbMapName } from '@netaccel/bpf-programs/xlb';
import { errorMessage } from '@netaccel/errors';
import { packageVersion } from '@netaccel/daemon';
import type { DaemonApp, DaemonHost, DaemonSpec } from '@netaccel/daemon';
import { InProcessDataPlane, LoaderDataPlane } from '@netaccel/dataplane';
import type { MapAccess } from '@netaccel/dataplane';
import { BalancerService, rpcService } from '@netaccel/rpc';
import type { RpcServer } from '@netaccel/rpc';
import { childLogger } from '@netaccel/telemetry';
import type { Logger, Metrics, TelemetryServer } from '@netaccel/telemetry';
import { FileAdoptionStore } from './adoption.js';
import { waitForLoader } from './loader-wait.js';
import { Announcements, announcerClient, vipPrefix } from './announcements.js';
import type { AnnouncerLike } from './announcements.js';
import { balancerHandlers } from './balancer-service.js';
import { lbControllerConfig } from './config.js';
import type { LbControllerConfig } from './config.js';
import { XlbDataPlane } from './data-plane.js';
import type { DataPlane } from './data-plane.js';
import type { DesiredState } from './desired-state.js';
import { HealthChecker } from './health.js';
import type { HealthTarget } from './health.js';
import { leastConnWeights, weightsMoved } from './least-conn.js';
import { lbMetrics } from './metrics.js';
import type { LbMetrics } from './metrics.js';
import { Reconciler, backendKey } from './reconciler.js';
import { FileSource } from './sources/file-source.js';
import type { StateSource } from './sources/source.js';

/** The version of this app: its package.json's. */
export const VERSION = packageVersion(import.meta.url);

export interface ControllerDeps {
  /** Tests: a data plane made elsewhere instead of the configured one. */
  readonly dataPlane?: DataPlane;
  /** Tests: an announcer instead of the gRPC client. */
  readonly announcer?: AnnouncerLike;
}

/** lb-controller for runDaemon: `await runDaemon(lbController())`. */
export function lbController(deps: ControllerDeps = {}): DaemonSpec<typeof lbControllerConfig, Controller> {
  return {
    name: 'lb-controller',
    version: VERSION,
    config: lbControllerConfig,
    start: (host) => Controller.start(host, deps),
    running: (c, host) => ({ services: c.reconciler.services.size, grpc: host.config.grpc.socket }),
  };
}

const TICK_MS = 1000; // announcements and attachment re-checked every second

async function openDataPlane(config: LbControllerConfig): Promise<DataPlane> {
  const dpc = config.dataPlane;
  const globals = { ...dpc.globals };
  // `conntrack` sizes both connection tables: IPv6 flows' (conntrack) and IPv4 flows' (conntrack_v4)
  const mapSizes = dpc.mapSizes.conntrack === undefined ? dpc.mapSizes : { ...dpc.mapSizes, conntrack_v4: dpc.mapSizes.conntrack };
  const opts = { xdpMode: dpc.xdpMode, globals, mapSizes, ...(dpc.interface === undefined ? {} : { iface: dpc.interface }) };
  const maps: MapAccess<XlbMapName> = dpc.via === 'loader'
    ? await LoaderDataPlane.open(XLB_BALANCER, { address: dpc.loaderSocket, objectPath: dpc.object, owner: 'lb-controller', ...opts })
    : InProcessDataPlane.open(XLB_BALANCER, resolve(dpc.object), opts);
  return new XlbDataPlane(maps, {
    ...(globals.ct_tcp_syn_timeout_ms === undefined ? {} : { 'tcp-syn': globals.ct_tcp_syn_timeout_ms }),
    ...(globals.ct_tcp_timeout_ms === undefined ? {} : { 'tcp-established': globals.ct_tcp_timeout_ms }),
    ...(globals.ct_udp_timeout_ms === undefined ? {} : { udp: globals.ct_udp_timeout_ms }),
  });
}

export class Controller implements DaemonApp {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly lb: LbMetrics;
  readonly dataPlane: DataPlane;
  readonly reconciler: Reconciler;
  readonly health: HealthChecker;
  readonly announcements: Announcements | undefined;
  source: StateSource | undefined;
  grpc: RpcServer | undefined;
  telemetry: TelemetryServer | undefined;
  readonly #config: LbControllerConfig;
  #attached = false;
  /** The last desired state refused since one was accepted: shown in /v1/status (and `netaccel lab status`). */
  lastRefused: { at: string; origin: string; code: string | undefined; error: string } | undefined;
  #tick: NodeJS.Timeout | undefined;
  #lc: NodeJS.Timeout | undefined;
  #lcWeights = new Map<string, ReadonlyMap<string, number>>();
  #stopped = false;

  private constructor(host: DaemonHost<typeof lbControllerConfig>, deps: ControllerDeps, dp: DataPlane) {
    const config = host.config;
    this.#config = config;
    this.log = host.log;
    this.metrics = host.metrics;
    this.dataPlane = dp;
    this.lb = lbMetrics(this.metrics, { reconciler: () => this.reconciler, dataPlane: () => this.dataPlane });
    const dpc = config.dataPlane;
    this.reconciler = new Reconciler({
      dataPlane: dp,
      config: {
        ...(dpc.localMac === undefined ? {} : { localMac: dpc.localMac }),
        ...(dpc.natSourceV4 === undefined ? {} : { natSourceV4: dpc.natSourceV4 }),
        ...(dpc.natSourceV6 === undefined ? {} : { natSourceV6: dpc.natSourceV6 }),
        ...(dpc.natSourceCount === 1 ? {} : { natSourceCount: dpc.natSourceCount }),
      },
      ...(dpc.gatewayMac === undefined ? {} : { gatewayMac: dpc.gatewayMac }),
      quiesceMs: dpc.quiesce,
      ...(dpc.adoptionFile === '' ? {} : { adoption: new FileAdoptionStore(dpc.adoptionFile, host.logger('adoption')) }),
      log: host.logger('reconciler'),
      onApplied: (r) => {
        this.lb.tableBuilds.inc(r.tablesBuilt);
        this.lb.applyDuration.observe(r.durationMs / 1000);
        this.lb.applyLatency.observe(r.latencyMs / 1000);
        this.log.info({ component: 'reconciler', ...r }, 'data plane updated');
        void this.#announce();
      },
    });
    this.health = new HealthChecker({
      onChange: (key, healthy, error) => {
        this.log.info({ component: 'health', backend: key, healthy, error }, healthy ? 'backend healthy' : 'backend unhealthy');
        this.reconciler.setHealth(key, healthy ? 'healthy' : 'unhealthy', error);
      },
      onResult: (_key, r) => this.lb.healthChecks.inc({ result: r.ok ? 'ok' : 'failed' }),
    });
    const ann = config.announcer;
    if (ann.enabled || deps.announcer) {
      this.announcements = new Announcements({
        announcer: deps.announcer ?? announcerClient(ann.socket),
        nextHop: ann.nextHop,
        log: host.logger('announcements'),
        onChange: (prefix, on) => this.lb.announced.set({ prefix }, on ? 1 : 0),
      });
    }
  }

  /** Starts the controller's parts on the host, each with its close hook (see the file's comment). */
  static async start(host: DaemonHost<typeof lbControllerConfig>, deps: ControllerDeps = {}): Promise<Controller> {
    const config = host.config;
    const announcer = config.announcer.enabled && !deps.announcer ? announcerClient(config.announcer.socket) : deps.announcer;
    // started beside the loader (and the announcer): wait for the loader's socket, then connect to
    // the announcer while the data plane is opened and verified
    if (!deps.dataPlane && config.dataPlane.via === 'loader') await waitForLoader(config.dataPlane.loaderSocket, config.dataPlane.loaderWait);
    announcer?.connect?.();
    const dp = deps.dataPlane ?? (await openDataPlane(config));
    host.onClose('data plane', () => dp.close());
    const d = new Controller(host, { ...deps, ...(announcer === undefined ? {} : { announcer }) }, dp);
    host.onClose('withdraw', async () => {
      d.#stopped = true;
      d.health.close();
      d.reconciler.stopBackground();
      await d.reconciler.settled();
      await d.announcements?.withdrawAll();
    });
    await d.reconciler.init();
    d.#attached = await dp.attached();
    d.log.info({ dataPlane: dp.describe, attached: d.#attached, ...dp.info }, 'data plane ready');
    d.source = await d.#makeSource(config);
    host.onClose('source', () => d.source?.close());
    await d.source.start({
      state: (s, origin) => d.#onState(s, origin),
      problem: (kind, err) => {
        d.lb.sourceProblems.inc({ source: d.source?.kind ?? 'unknown', kind });
        if (kind === 'state') d.#refused(err, config.source.kind === 'file' ? (config.source.file ?? 'file') : config.source.kind); // logged by the source
      },
    });
    // ready once the first pass is applied: the spare slots' background copies and the read of the
    // backends map after an adoption go on while it serves
    await d.reconciler.applied();
    d.grpc = await host.serveGrpc({
      address: config.grpc.socket,
      shutdownTimeoutMs: 2000,
      services: [rpcService(BalancerService, balancerHandlers({ reconciler: d.reconciler, dataPlane: dp, announced: (vip) => d.announcements?.announced.has(vipPrefix(vip)) ?? false, lastRefused: () => d.lastRefused }))],
    });
    ({ server: d.telemetry } = await host.serveTelemetry({
      listen: config.telemetry.listen,
      status: () => ({
        dataPlane: dp.describe,
        attached: d.#attached,
        services: d.reconciler.services.size,
        passes: d.reconciler.passes,
        tablesBuilt: d.reconciler.tablesBuilt,
        announced: [...(d.announcements?.announced ?? [])],
        ...(d.lastRefused === undefined ? {} : { lastRefused: d.lastRefused }),
      }),
      readiness: { 'data-plane': () => d.reconciler.lastError === undefined },
    }));
    d.#tick = setInterval(() => void d.#onTick(), TICK_MS);
    d.#lc = setInterval(() => void d.#leastConn(), config.leastConn.interval);
    host.onClose('timers', () => {
      d.#stopped = true;
      clearInterval(d.#tick);
      clearInterval(d.#lc);
    });
    return d;
  }

  /** The service manager's status line: ready once the tables are written and the socket serves. */
  status(): string {
    return `${this.reconciler.services.size} services; ${this.dataPlane.describe}; serving ${this.#config.grpc.socket}`;
  }

  /** The etcd and Kubernetes clients are loaded only when configured (they cost ~1 s of start-up). */
  async #makeSource(config: LbControllerConfig): Promise<StateSource> {
    const s = config.source;
    const log = childLogger(this.log, `source-${s.kind}`);
    if (s.kind === 'etcd') {
      const { EtcdSource } = await import('./sources/etcd-source.js');
      return new EtcdSource({ endpoints: s.etcd!.endpoints, prefix: s.etcd!.prefix, retryMs: s.etcd!.retry, log });
    }
    if (s.kind === 'kubernetes') {
      const { K8sSource } = await import('./sources/k8s-source.js');
      const k = s.kubernetes;
      return new K8sSource({ log, ...(k?.kubeconfig === undefined ? {} : { kubeconfig: k.kubeconfig }), ...(k?.server === undefined ? {} : { server: k.server }), ...(k ? { retryMs: k.retry } : {}) });
    }
    return new FileSource({ file: s.file!, log });
  }

  /** Counts a refused desired state and keeps it for /v1/status until one is accepted. */
  #refused(err: unknown, origin: string): void {
    this.lb.statesRefused.inc();
    this.lb.stateUpdates.inc({ result: 'refused' });
    this.lastRefused = { at: new Date().toISOString(), origin, code: (err as { code?: string }).code, error: errorMessage(err) };
  }

  #onState(state: DesiredState, origin: string): void {
    try {
      this.reconciler.setDesired(state, origin);
    } catch (err) {
      const e = err as { code?: string; details?: { issues?: unknown } };
      // One compact warn line, as the file source and bgp-announcer log a refusal: code and problems, no stack.
      this.log.warn({ component: 'reconciler', origin, code: e.code, problems: e.details?.issues ?? errorMessage(err) }, 'desired state refused; the running tables stay');
      this.#refused(err, origin);
      return;
    }
    this.lb.stateUpdates.inc({ result: 'accepted' });
    this.lastRefused = undefined;
    const targets: HealthTarget[] = [];
    for (const s of state.services) {
      for (const b of s.backends) {
        targets.push({ key: backendKey(s.id, b), address: b.address, port: s.healthCheck.port ?? (b.port || s.port), spec: s.healthCheck });
      }
    }
    this.health.setTargets(targets, (key) => this.reconciler.healthOf(key) === 'healthy');
    this.log.info({ component: 'reconciler', origin, services: state.services.length }, 'desired state accepted');
  }

  async #onTick(): Promise<void> {
    this.#attached = await this.dataPlane.attached();
    await this.#announce();
  }

  async #announce(): Promise<void> {
    if (!this.announcements || this.#stopped) return;
    const wanted = new Set<string>();
    if (this.#attached) {
      for (const svc of this.reconciler.services.values()) {
        if (svc.spec.flags.announce && [...svc.backends.values()].some((b) => b.inTable)) wanted.add(vipPrefix(svc.spec.vip));
      }
    }
    await this.announcements.update(wanted);
  }

  /** Least connection: reads the connection table and re-weights lc / wlc services. */
  async #leastConn(): Promise<void> {
    const lcServices = [...this.reconciler.services.values()].filter((s) => s.spec.scheduler === 'lc' || s.spec.scheduler === 'wlc');
    if (lcServices.length === 0 || this.#stopped) return;
    const t0 = performance.now();
    const flows = await this.dataPlane.activeFlows(process.hrtime.bigint());
    let moved = false;
    const all = new Map<string, number>();
    for (const svc of lcServices) {
      const w = leastConnWeights([...svc.backends.values()].map((b) => ({ key: b.key, weight: b.spec.weight, active: flows.get(b.index) ?? 0 })));
      if (weightsMoved(this.#lcWeights.get(svc.spec.id), w)) {
        this.#lcWeights.set(svc.spec.id, w);
        moved = true;
      }
      for (const [k, v] of this.#lcWeights.get(svc.spec.id) ?? w) all.set(k, v);
    }
    if (moved) this.reconciler.setWeights(all);
    this.lb.lcReads.observe((performance.now() - t0) / 1000);
  }
}
