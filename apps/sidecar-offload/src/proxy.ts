/**
 * A listener of the sidecar: an h2c server whose every stream is a proxied call (call.ts). Each
 * client connection is tracked (its streams, and whether the kernel path carries it); a
 * connection that sends what is not HTTP/2 (garbage, a truncated or malformed frame) is closed by
 * the HTTP/2 layer with GOAWAY and only that connection is affected. `close()` is the graceful
 * shutdown: the listening socket closes, every connection gets GOAWAY and its calls in flight
 * finish (a spliced connection too: taken back from the kernel at a frame boundary, then GOAWAY);
 * those still running after the drain timeout are reset.
 */
import http2 from 'node:http2';
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger, Metrics } from '@netaccel/telemetry';
import { errorMessage } from '@netaccel/errors';
import { reverseSockKey } from '@netaccel/bpf-programs/sidecar';
import type { CallConnection, CallEnv } from './call.js';
import { proxyCall } from './call.js';
import type { Cluster } from './cluster.js';
import { NA_ERR_SIDECARD_BAD_REQUEST, NA_ERR_SIDECARD_LISTEN_FAILED } from './errors.js';
import type { EtcdHeat } from './etcd-heat.js';
import type { KernelPath, OffloadState } from './offload.js';
import { KERNEL_PATH_NOT_LOADED } from './offload.js';
import type { CompiledPolicy, CompiledRoute } from './policy.js';
import { SplicedConnection, keyOf } from './splice.js';
import type { CallStats } from './stats.js';

/** Whether the listener's connections are spliced in the kernel: the one cluster they go to, or why not. */
export type SpliceTarget = { readonly cluster: Cluster } | { readonly reason: string };

export interface ListenerSettings {
  readonly name: string;
  readonly direction: 'inbound' | 'outbound';
  readonly host: string;
  readonly port: number;
  readonly maxConcurrentStreams: number;
  /** ms without a call after which a client connection is closed. */
  readonly idleTimeout: number;
  /** Per-stream receive window, bytes. */
  readonly initialWindowSize: number;
}

/** What listeners share: clusters, telemetry, the etcd counter, the kernel path. */
export interface ListenerShared {
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly stats: CallStats;
  readonly heat: EtcdHeat | undefined;
  readonly kernel: KernelPath;
  readonly log: Logger;
  readonly metrics: ListenerMetrics;
}

export interface ConnectionInfo extends CallConnection {
  readonly id: number;
  readonly listener: string;
  readonly session: ServerHttp2Session;
}

export interface ConnectionView {
  readonly id: number;
  readonly listener: string;
  readonly remote: string;
  readonly activeStreams: number;
  readonly streams: number;
  readonly offload: OffloadState;
}

export interface ListenerMetrics {
  readonly connections: { inc(labels: { listener: string }): void };
  readonly malformed: { inc(labels: { listener: string }): void };
}

export function listenerMetrics(metrics: Metrics, listeners: () => readonly ProxyListener[]): ListenerMetrics {
  metrics.gauge({
    name: 'sidecar_open_connections',
    help: 'Client connections open now by listener',
    labelNames: ['listener'],
    collect() {
      this.reset();
      for (const l of listeners()) this.set({ listener: l.name }, l.connectionCount);
    },
  });
  metrics.gauge({
    name: 'sidecar_active_calls',
    help: 'Calls in flight by listener',
    labelNames: ['listener'],
    collect() {
      this.reset();
      for (const l of listeners()) this.set({ listener: l.name }, l.activeCalls);
    },
  });
  return {
    connections: metrics.counter({ name: 'sidecar_connections_total', help: 'Client connections accepted by listener', labelNames: ['listener'] }),
    malformed: metrics.counter({ name: 'sidecar_connection_errors_total', help: 'Client connections closed because of a protocol error (not HTTP/2, malformed or truncated frames)', labelNames: ['listener'] }),
  };
}

let nextConnectionId = 1;

export class ProxyListener {
  private server: Http2Server | undefined;
  /** With a kernel path that splices: the listening socket, which hands each connection to a splice or to `server`. */
  private front: Server | undefined;
  private readonly conns = new Map<ServerHttp2Session, ConnectionInfo>();
  private readonly spliced = new Set<SplicedConnection>();
  private splice: SpliceTarget = { reason: KERNEL_PATH_NOT_LOADED };
  /** Client sockets (by remote address) the proxy could not splice, and why. */
  private readonly declined = new Map<string, string>();
  private policy: CompiledPolicy;
  private routes: readonly CompiledRoute[];
  private bound: { host: string; port: number } | undefined;
  private readonly log: Logger;
  /** What every call of the listener gets: made once per policy / routes, not per call. */
  private callEnv: CallEnv;

  constructor(
    readonly settings: ListenerSettings,
    policy: CompiledPolicy,
    routes: readonly CompiledRoute[],
    private readonly shared: ListenerShared,
  ) {
    this.policy = policy;
    this.routes = routes;
    this.log = shared.log;
    this.callEnv = this.makeCallEnv();
  }

  private makeCallEnv(): CallEnv {
    return {
      listener: this.settings.name,
      direction: this.settings.direction,
      policy: this.policy,
      routes: this.routes,
      clusters: this.shared.clusters,
      stats: this.shared.stats,
      heat: this.shared.heat,
      log: this.log,
    };
  }

  get name(): string {
    return this.settings.name;
  }

  /** "127.0.0.1:15001" once listening. */
  get address(): string {
    const b = this.bound ?? { host: this.settings.host, port: this.settings.port };
    return b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`;
  }

  get port(): number {
    return this.bound?.port ?? this.settings.port;
  }

  get currentPolicy(): CompiledPolicy {
    return this.policy;
  }

  get currentRoutes(): readonly CompiledRoute[] {
    return this.routes;
  }

  get connectionCount(): number {
    return this.conns.size + this.spliced.size;
  }

  /** Calls in flight the proxy sees (a spliced connection's calls carried by the kernel are not seen). */
  get activeCalls(): number {
    let n = 0;
    for (const c of this.conns.values()) n += c.active;
    for (const c of this.spliced) n += c.active;
    return n;
  }

  /** The connections spliced in the kernel now. */
  splicedConnections(): SplicedConnection[] {
    return [...this.spliced];
  }

  /** Whether new connections are spliced in the kernel (set after the kernel took the policies). */
  setSplice(target: SpliceTarget): void {
    this.splice = target;
  }

  get spliceTarget(): SpliceTarget {
    return this.splice;
  }

  /** Takes a new policy and routes; calls in flight keep what they started with. */
  update(policy: CompiledPolicy, routes: readonly CompiledRoute[]): void {
    this.policy = policy;
    this.routes = routes;
    this.callEnv = this.makeCallEnv();
  }

  async listen(): Promise<void> {
    const s = this.settings;
    const server = http2.createServer({
      settings: { maxConcurrentStreams: s.maxConcurrentStreams, initialWindowSize: s.initialWindowSize, enablePush: false },
    });
    // gRPC frames are small and latency-bound: no Nagle delay (the raw socket, before HTTP/2 owns it)
    server.on('connection', (socket: Socket) => socket.setNoDelay(true));
    server.on('session', (session) => this.accept(session));
    server.on('stream', (stream, headers) => this.stream(stream, headers));
    server.on('sessionError', (err) => this.log.debug({ listener: s.name, err }, 'client connection error'));
    // with a kernel path that splices, a plain TCP listener decides per connection
    const listening: Server = this.shared.kernel.splice === undefined ? server : createTcpServer((socket) => this.connection(socket));
    await new Promise<void>((resolve, reject) => {
      listening.once('error', (err) => reject(NA_ERR_SIDECARD_LISTEN_FAILED.with({ cause: err }, s.name, `${s.host}:${s.port}`, errorMessage(err))));
      listening.listen(s.port, s.host, () => resolve());
    });
    listening.on('error', (err) => this.log.error({ listener: s.name, err }, 'listener error'));
    const a = listening.address() as AddressInfo;
    this.bound = { host: a.address, port: a.port };
    this.server = server;
    if (listening !== server) this.front = listening;
    this.log.info({ listener: s.name, direction: s.direction, listen: this.address }, 'listening for gRPC');
  }

  /** A client connection on the front listener: spliced in the kernel, or given to the HTTP/2 server. */
  private connection(socket: Socket): void {
    const server = this.server;
    const kernel = this.shared.kernel.splice;
    const target = this.splice;
    const cluster = 'cluster' in target ? target.cluster : undefined;
    const endpoint = cluster?.endpointFor();
    if (server === undefined || kernel === undefined || cluster === undefined || endpoint === undefined) {
      if (cluster !== undefined) this.decline(socket, 'no healthy endpoint to splice to');
      server?.emit('connection', socket);
      return;
    }
    socket.setNoDelay(true);
    socket.pause(); // its first bytes stay queued until the upstream socket exists
    const env = {
      listener: this.name,
      direction: this.settings.direction,
      policy: () => this.policy,
      routes: () => this.routes,
      stats: this.shared.stats,
      kernel,
      log: this.log,
      connectTimeout: cluster.config.connectTimeout,
    };
    this.shared.metrics.connections.inc({ listener: this.name });
    SplicedConnection.open(env, socket, endpoint).then(
      (sc) => {
        this.spliced.add(sc);
        void sc.done.then(() => this.spliced.delete(sc));
      },
      (err: unknown) => {
        this.log.warn({ listener: this.name, err: errorMessage(err) }, 'connection not spliced: served in user space');
        this.decline(socket, errorMessage(err));
        if (!socket.destroyed) server.emit('connection', socket);
      },
    );
  }

  /** The kernel stops judging a client socket the proxy terminates itself (its calls are counted once, here). */
  private decline(socket: Socket, why: string): void {
    const key = reverseSockKey(keyOf(socket));
    this.shared.kernel.splice?.decline(key);
    this.declined.set(`${socket.remoteAddress}:${socket.remotePort}`, `not spliced: ${why}`);
    socket.once('close', () => this.declined.delete(`${socket.remoteAddress}:${socket.remotePort}`));
  }

  private accept(session: ServerHttp2Session): void {
    const sock = session.socket;
    const remote = sock.remoteFamily === 'IPv6' ? `[${sock.remoteAddress}]:${sock.remotePort}` : `${sock.remoteAddress}:${sock.remotePort}`;
    const info: ConnectionInfo = { id: nextConnectionId++, listener: this.name, session, remote, active: 0, streams: 0, idleSince: performance.now() };
    this.conns.set(session, info);
    // Idle connections close: a healthy client gets GOAWAY and reconnects when it needs to; one the
    // HTTP/2 layer refused (Node answers a protocol error with GOAWAY but keeps the socket until
    // the peer closes it) is reset, so that it holds nothing.
    const idle = setInterval(() => {
      if (info.active > 0 || performance.now() - info.idleSince < this.settings.idleTimeout) return;
      clearInterval(idle);
      if (!session.closed) session.close();
      setTimeout(() => session.destroy(), 1000).unref();
    }, Math.min(this.settings.idleTimeout, 60_000));
    idle.unref();
    this.shared.metrics.connections.inc({ listener: this.name });
    session.on('error', (err) => {
      this.shared.metrics.malformed.inc({ listener: this.name });
      this.log.info({ listener: this.name, remote, err }, 'client connection closed on a protocol error');
    });
    session.on('close', () => {
      clearInterval(idle);
      this.conns.delete(session);
    });
    session.on('connect', () => session.setLocalWindowSize(Math.max(this.settings.initialWindowSize * 4, 65_535)));
  }

  private stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const info = this.conns.get(stream.session as ServerHttp2Session);
    const contentType = headers['content-type'] ?? '';
    if (info === undefined || headers[':method'] !== 'POST' || !contentType.startsWith('application/grpc')) {
      // not gRPC: HTTP 415 as the gRPC spec says, no call recorded
      this.log.debug({ listener: this.name, err: NA_ERR_SIDECARD_BAD_REQUEST(`${headers[':method'] ?? '?'} ${headers[':path'] ?? '?'} ${contentType}`) }, 'not a gRPC request');
      stream.on('error', () => {});
      if (!stream.destroyed) stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    proxyCall(this.callEnv, info, stream, headers);
  }

  connections(): ConnectionView[] {
    const terminated = [...this.conns.values()].map((c) => {
      const sock = c.session.socket;
      const key = { listener: this.name, remoteAddress: sock?.remoteAddress ?? '', remotePort: sock?.remotePort ?? 0, localAddress: sock?.localAddress ?? '', localPort: sock?.localPort ?? 0 };
      const declined = this.declined.get(`${key.remoteAddress}:${key.remotePort}`);
      const reason = declined ?? ('reason' in this.splice && this.shared.kernel.splice !== undefined ? `not spliced: ${this.splice.reason}` : undefined);
      const offload = reason !== undefined ? { offloaded: false, reason } : this.shared.kernel.state(key);
      return { id: c.id, listener: this.name, remote: c.remote, activeStreams: c.active, streams: c.streams, offload };
    });
    const kernel = this.shared.kernel.splice;
    const spliced = [...this.spliced].map((c) => ({
      id: c.id,
      listener: this.name,
      remote: c.remote,
      activeStreams: c.active,
      streams: c.streams,
      offload: kernel?.spliceState(c.clientSide) ?? { offloaded: false, reason: KERNEL_PATH_NOT_LOADED },
    }));
    return [...terminated, ...spliced];
  }

  /** Graceful: stop accepting, GOAWAY to every connection, wait for their calls up to `drainMs`, then reset the rest. */
  async close(drainMs: number): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const listening = this.front ?? server;
    this.front = undefined;
    // a front listener's close waits for every connection it accepted, spliced or not
    const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
    for (const session of this.conns.keys()) if (!session.closed) session.close();
    // a spliced connection is taken back from the kernel, then gets GOAWAY (splice.ts goAway)
    for (const c of this.spliced) void c.goAway();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), drainMs)))]);
    clearTimeout(timer);
    if (!drained) {
      this.log.warn({ listener: this.name, connections: this.conns.size, activeCalls: this.activeCalls }, 'drain timeout: resetting the calls still in flight');
      for (const session of this.conns.keys()) session.destroy();
      for (const c of this.spliced) c.close();
      await closed;
    }
    await Promise.all([...this.spliced].map((c) => c.done));
  }
}
