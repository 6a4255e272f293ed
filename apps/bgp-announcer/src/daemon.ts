/**
 * bgp-announcer on the daemon host (@netaccel/daemon): BGP listeners, the speaker with its peers
 * and static routes, BFD, the Announcer gRPC service and the telemetry server, started in that
 * order and stopped in the reverse one (the speaker's Cease, or nothing on a graceful restart,
 * leaves before the listeners close). `reconfigure()` applies a new configuration (peers added,
 * removed or changed; static routes replaced) without touching sessions whose settings did not
 * change; the host calls it on SIGHUP and refuses the configuration whole when it throws.
 */
import { isDeepStrictEqual } from 'node:util';
import { packageVersion } from '@netaccel/daemon';
import type { DaemonApp, DaemonHost, DaemonSpec } from '@netaccel/daemon';
import type { Logger, Metrics, TelemetryServer } from '@netaccel/telemetry';
import { childLogger } from '@netaccel/telemetry';
import type { RpcServer } from '@netaccel/rpc';
import { AnnouncerService, rpcService } from '@netaccel/rpc';
import { BfdManager } from './bfd/manager.js';
import { bgpAnnouncerConfig } from './config.js';
import type { BgpAnnouncerConfig } from './config.js';
import { registerMetrics } from './metrics.js';
import type { PeerSettings } from './peer-config.js';
import { allPeerSettings } from './peer-config.js';
import { parseRoute } from './routes.js';
import { announcerHandlers, peerMessage } from './service.js';
import { Speaker } from './speaker.js';
import { TcpDialer, TcpListener } from './tcp.js';
import type { Clock, Random } from './timers.js';
import { realClock } from './timers.js';

/** The version of this app: its package.json's. */
export const VERSION = packageVersion(import.meta.url);

export interface AnnouncerOptions {
  readonly clock?: Clock;
  readonly random?: Random;
}

/** bgp-announcer for runDaemon: `await runDaemon(bgpAnnouncer())`. */
export function bgpAnnouncer(opts: AnnouncerOptions = {}): DaemonSpec<typeof bgpAnnouncerConfig, Announcer> {
  return {
    name: 'bgp-announcer',
    version: VERSION,
    config: bgpAnnouncerConfig,
    start: (host) => Announcer.start(host, opts),
    running: (a) => ({ peers: a.speaker.peers.size }),
  };
}

function staticRoutes(config: BgpAnnouncerConfig): ReturnType<typeof parseRoute>[] {
  return config.bgp.announce.map((r, i) => parseRoute(r, 'config', `bgp.announce[${i}]`));
}

export class Announcer implements DaemonApp {
  readonly speaker: Speaker;
  readonly metrics: Metrics;
  readonly bfd: BfdManager;
  private readonly listeners: TcpListener[] = [];
  private rpc: RpcServer | undefined;
  private telemetry: TelemetryServer | undefined;
  private settings = new Map<string, PeerSettings>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private config: BgpAnnouncerConfig;
  /** SIGUSR2: stop without NOTIFICATION so that peers keep the routes (RFC 4724). */
  private graceful = false;

  private constructor(private readonly host: DaemonHost<typeof bgpAnnouncerConfig>, opts: AnnouncerOptions) {
    this.config = host.config;
    this.log = host.log;
    this.clock = opts.clock ?? realClock();
    const random = opts.random ?? Math.random;
    this.speaker = new Speaker({ clock: this.clock, random, dialer: new TcpDialer(), log: host.logger('bgp-fsm') });
    this.metrics = host.metrics;
    registerMetrics(this.metrics, this.speaker);
    this.bfd = new BfdManager(this.speaker, { clock: this.clock, random, log: host.logger('bfd') });
  }

  /** The telemetry server. */
  get telemetryServer(): TelemetryServer | undefined {
    return this.telemetry;
  }

  /** Validates the configuration's semantics, binds everything and starts the peers, on the host. */
  static async start(host: DaemonHost<typeof bgpAnnouncerConfig>, opts: AnnouncerOptions = {}): Promise<Announcer> {
    const a = new Announcer(host, opts);
    await a.boot();
    return a;
  }

  /** The service manager's status line. */
  status(): string {
    return `${this.speaker.peers.size} peers`;
  }

  private async boot(): Promise<void> {
    const host = this.host;
    const settings = allPeerSettings(this.config);
    const routes = staticRoutes(this.config);
    host.onClose('bgp listeners', () => Promise.all(this.listeners.map((l) => l.close())));
    for (const l of this.config.bgp.listen) {
      const listener = new TcpListener(l.host, l.port, (conn) => this.speaker.accept(conn));
      const bound = await listener.listen();
      this.listeners.push(listener);
      this.log.info({ component: 'bgp', listen: `${bound.host}:${bound.port}` }, 'listening for BGP');
    }
    host.onClose('speaker', async () => {
      this.bfd.stopAll();
      this.speaker.stop('bgp-announcer shutting down', this.graceful);
      // let the NOTIFICATIONs leave before the listeners and the process go
      await new Promise((r) => setTimeout(r, 50));
    });
    for (const s of settings) this.addPeer(s);
    this.speaker.replaceSource('config', routes);
    this.speaker.start();
    this.rpc = await host.serveGrpc({
      address: this.config.grpc.socket,
      shutdownTimeoutMs: 2000,
      services: [rpcService(AnnouncerService, announcerHandlers(this.speaker, this.clock, childLogger(this.log, 'api')))],
    });
    ({ server: this.telemetry } = await host.serveTelemetry({
      listen: this.config.telemetry.listen,
      readiness: {
        config: () => true,
        grpc: () => (this.rpc !== undefined && this.rpc.health.getStatus(AnnouncerService) === 'SERVING' ? true : { ready: false, message: 'gRPC not serving' }),
      },
      status: () => ({
        routerId: this.config.bgp.routerId,
        localAs: this.config.bgp.localAs,
        routes: this.speaker.routeCount,
        peers: [...this.speaker.peers.values()].map((e) => {
          const m = peerMessage(e, this.clock);
          return { address: m.address, asn: m.asn, state: e.peer.state, bfd: e.bfdState ?? null, uptimeSeconds: m.uptimeSeconds, prefixesSent: m.prefixesSent, prefixesReceived: m.prefixesReceived, lastError: m.lastError };
        }),
      }),
    }));
    // Parsing and validating a large configuration (10,000 routes) keeps the event loop busy for
    // hundreds of milliseconds, longer on a loaded host: every established peer gets a KEEPALIVE
    // first, so its hold timer starts afresh instead of expiring during the reload.
    host.beforeReload(() => this.speaker.keepaliveAll());
    host.onReload((next) => this.reconfigure(next));
    host.onSignal('SIGUSR2', () => {
      this.graceful = true;
      void host.shutdown('graceful restart');
    });
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

  /**
   * Applies a new (schema-validated) configuration; a semantic problem throws before anything
   * changed, and the host refuses the configuration whole.
   */
  reconfigure(next: BgpAnnouncerConfig): void {
    const settings = allPeerSettings(next, { restarted: false });
    const routes = staticRoutes(next);
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
    this.log.info({ component: 'config', peers: settings.length, routes: routes.length }, 'configuration applied');
  }
}
