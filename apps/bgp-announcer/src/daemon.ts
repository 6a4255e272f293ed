/**
 * The daemon assembled: speaker, BGP listeners, BFD, the Announcer gRPC server and the telemetry
 * server; `reconfigure()` applies a new configuration (peers added, removed or changed; static
 * routes replaced) without touching sessions whose settings did not change.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger, Metrics, TelemetryServer } from '@netaccel/telemetry';
import { buildTelemetryServer, childLogger, createMetrics } from '@netaccel/telemetry';
import type { RpcServer } from '@netaccel/rpc';
import { AnnouncerService, createRpcServer, rpcService } from '@netaccel/rpc';
import { BfdManager } from './bfd/manager.js';
import type { BgpAnnouncerConfig } from './config.js';
import type { AnnouncerMetrics } from './metrics.js';
import { registerMetrics } from './metrics.js';
import type { PeerSettings } from './peer-config.js';
import { allPeerSettings } from './peer-config.js';
import { parseRoute } from './routes.js';
import { announcerHandlers, peerMessage } from './service.js';
import { Speaker } from './speaker.js';
import { TcpDialer, TcpListener } from './tcp.js';
import type { Clock, Random } from './timers.js';
import { realClock } from './timers.js';

export const VERSION = '0.1.0';

export interface DaemonOptions {
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Serve gRPC and telemetry (the daemon); false for tests that only need BGP. */
  readonly serve?: boolean;
}

function staticRoutes(config: BgpAnnouncerConfig): ReturnType<typeof parseRoute>[] {
  return config.bgp.announce.map((r, i) => parseRoute(r, 'config', `bgp.announce[${i}]`));
}

export class Daemon {
  readonly speaker: Speaker;
  readonly metrics: Metrics;
  readonly bfd: BfdManager;
  private readonly listeners: TcpListener[] = [];
  private rpc: RpcServer | undefined;
  private telemetry: TelemetryServer | undefined;
  private settings = new Map<string, PeerSettings>();
  private readonly counters: AnnouncerMetrics;
  private readonly log: Logger;
  private readonly clock: Clock;

  private constructor(
    private config: BgpAnnouncerConfig,
    private readonly opts: DaemonOptions,
  ) {
    this.log = opts.log;
    this.clock = opts.clock ?? realClock();
    const random = opts.random ?? Math.random;
    this.speaker = new Speaker({ clock: this.clock, random, dialer: new TcpDialer(), log: childLogger(opts.log, 'bgp-fsm') });
    this.metrics = createMetrics({ app: 'bgp-announcer', version: VERSION });
    this.counters = registerMetrics(this.metrics, this.speaker);
    this.bfd = new BfdManager(this.speaker, { clock: this.clock, random, log: childLogger(opts.log, 'bfd') });
  }

  /** The telemetry server (undefined without `serve`). */
  get telemetryServer(): TelemetryServer | undefined {
    return this.telemetry;
  }

  /** Validates the configuration's semantics, binds everything and starts the peers. */
  static async start(config: BgpAnnouncerConfig, opts: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(config, opts);
    try {
      await d.boot();
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  private async boot(): Promise<void> {
    const settings = allPeerSettings(this.config);
    const routes = staticRoutes(this.config);
    for (const l of this.config.bgp.listen) {
      const listener = new TcpListener(l.host, l.port, (conn) => this.speaker.accept(conn));
      const bound = await listener.listen();
      this.listeners.push(listener);
      this.log.info({ component: 'bgp', listen: `${bound.host}:${bound.port}` }, 'listening for BGP');
    }
    for (const s of settings) this.addPeer(s);
    this.speaker.replaceSource('config', routes);
    this.speaker.start();
    if (this.opts.serve !== false) await this.serve();
  }

  private addPeer(s: PeerSettings): void {
    for (const l of this.listeners) if (s.password !== undefined) l.setPassword(s.address, s.password);
    this.settings.set(s.address, s);
    this.speaker.addPeer(s);
    if (s.bfd !== undefined) this.bfd.add(s);
  }

  private removePeer(address: string, reason: string): void {
    const s = this.settings.get(address);
    this.bfd.remove(address);
    this.speaker.removePeer(address, reason);
    if (s?.password !== undefined) for (const l of this.listeners) l.setPassword(address, undefined);
    this.settings.delete(address);
  }

  private async serve(): Promise<void> {
    this.rpc = await createRpcServer({
      address: this.config.grpc.socket,
      log: this.log,
      services: [rpcService(AnnouncerService, announcerHandlers(this.speaker, this.clock, childLogger(this.log, 'api')))],
    });
    this.telemetry = buildTelemetryServer({
      log: this.log,
      metrics: this.metrics,
      listen: this.config.telemetry.listen,
      readiness: {
        config: () => true,
        grpc: () => (this.rpc !== undefined && this.rpc.health.getStatus(AnnouncerService) === 'SERVING' ? true : { ready: false, message: 'gRPC not serving' }),
      },
      status: () => ({
        app: 'bgp-announcer',
        version: VERSION,
        routerId: this.config.bgp.routerId,
        localAs: this.config.bgp.localAs,
        routes: this.speaker.routes().length,
        peers: [...this.speaker.peers.values()].map((e) => {
          const m = peerMessage(e, this.clock);
          return { address: m.address, asn: m.asn, state: e.peer.state, bfd: e.bfdState ?? null, uptimeSeconds: m.uptimeSeconds, prefixesSent: m.prefixesSent, prefixesReceived: m.prefixesReceived, lastError: m.lastError };
        }),
      }),
    });
    const bound = await this.telemetry.listen();
    this.log.info({ component: 'telemetry', address: bound }, 'telemetry listening');
  }

  /** Applies a new (already validated) configuration; a semantic problem refuses it whole. */
  reconfigure(next: BgpAnnouncerConfig): void {
    let settings: PeerSettings[];
    let routes: ReturnType<typeof parseRoute>[];
    try {
      settings = allPeerSettings(next, { restarted: false });
      routes = staticRoutes(next);
    } catch (err) {
      this.counters.reload('refused');
      throw err;
    }
    if (!isDeepStrictEqual(next.bgp.listen, this.config.bgp.listen) || !isDeepStrictEqual(next.grpc, this.config.grpc) || !isDeepStrictEqual(next.telemetry, this.config.telemetry)) {
      this.log.warn({ component: 'config' }, 'listen addresses changed: they take effect at the next start');
    }
    const wanted = new Map(settings.map((s) => [s.address, s]));
    for (const a of [...this.settings.keys()]) {
      const w = wanted.get(a);
      const old = this.settings.get(a)!;
      // the R bit is not part of the comparison: it only matters on the first OPEN
      if (w === undefined) this.removePeer(a, 'peer deconfigured');
      else if (!isDeepStrictEqual({ ...w, gracefulRestart: w.gracefulRestart?.restartTime }, { ...old, gracefulRestart: old.gracefulRestart?.restartTime })) {
        this.removePeer(a, 'peer reconfigured');
      }
    }
    for (const s of settings) if (!this.settings.has(s.address)) this.addPeer(s);
    this.speaker.replaceSource('config', routes);
    this.config = next;
    this.counters.reload('ok');
    this.log.info({ component: 'config', peers: settings.length, routes: routes.length }, 'configuration applied');
  }

  /**
   * Called before the configuration store re-reads the file: parsing and validating a large
   * configuration (10,000 routes) keeps the event loop busy for hundreds of milliseconds, longer
   * on a loaded host, so every established peer gets a KEEPALIVE first and its hold timer starts
   * afresh instead of expiring during the reload.
   */
  beforeReload(): void {
    this.speaker.keepaliveAll();
  }

  /** Counts a reload that the configuration store refused. */
  reloadRefused(): void {
    this.counters.reload('refused');
  }

  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.bfd.stopAll();
    this.speaker.stop('bgp-announcer shutting down', opts.graceful ?? false);
    await this.rpc?.shutdown({ timeoutMs: 2000 });
    await this.telemetry?.close();
    // let the NOTIFICATIONs leave before the listeners and the process go
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all(this.listeners.map((l) => l.close()));
  }
}
