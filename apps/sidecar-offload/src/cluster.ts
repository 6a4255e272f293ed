/**
 * Upstream clusters: several h2c endpoints, one multiplexed HTTP/2 session per endpoint, picked
 * round robin or by fewest calls in flight. Health is passive: consecutive connection failures
 * eject an endpoint for `ejectFor`, after which it is tried again; a call whose connection
 * attempt fails moves on to the next endpoint before any of its bytes were read, so a dead
 * endpoint costs a call nothing but the attempt. A session that receives GOAWAY takes no new
 * calls (its calls in flight finish on it) and the next call opens a fresh one.
 */
import http2 from 'node:http2';
import net from 'node:net';
import type { ClientHttp2Session } from 'node:http2';
import type { Logger } from '@netaccel/telemetry';
import { errorMessage } from '@netaccel/errors';
import type { ClusterConfig } from './config.js';
import { NA_ERR_SIDECARD_NO_HEALTHY_ENDPOINT, NA_ERR_SIDECARD_UPSTREAM_CONNECT } from './errors.js';

export interface ClusterSettings {
  /** Per-stream receive window of upstream sessions, bytes. */
  readonly initialWindowSize: number;
}

export class Endpoint {
  active = 0;
  calls = 0;
  failures = 0;
  ejectedUntil = 0;
  connectFailuresTotal = 0;
  private session: ClientHttp2Session | undefined;
  private connecting: Promise<ClientHttp2Session> | undefined;
  private readonly sessions = new Set<ClientHttp2Session>();

  constructor(
    readonly cluster: string,
    readonly host: string,
    readonly port: number,
  ) {}

  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  healthy(now: number): boolean {
    return this.ejectedUntil <= now;
  }

  /** The endpoint's connected session, when it has one usable now. */
  ready(): ClientHttp2Session | undefined {
    const s = this.session;
    return s !== undefined && !s.closed && !s.destroyed ? s : undefined;
  }

  /** The endpoint's session, connected; opens one when there is none usable. */
  session$(cfg: Pick<ClusterConfig, 'connectTimeout' | 'ejectAfter' | 'ejectFor'>, settings: ClusterSettings, log: Logger): Promise<ClientHttp2Session> {
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) return Promise.resolve(s);
    this.connecting ??= this.connect(cfg, settings, log).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private connect(cfg: Pick<ClusterConfig, 'connectTimeout' | 'ejectAfter' | 'ejectFor'>, settings: ClusterSettings, log: Logger): Promise<ClientHttp2Session> {
    return new Promise((resolve, reject) => {
      const s = http2.connect(`http://${this.address}`, {
        settings: { initialWindowSize: settings.initialWindowSize, enablePush: false },
        createConnection: () => net.connect({ host: this.host, port: this.port, noDelay: true }),
      });
      let connected = false;
      const timer = setTimeout(() => s.destroy(new Error(`no connection within ${cfg.connectTimeout} ms`)), cfg.connectTimeout);
      const detach = (): void => {
        if (this.session === s) this.session = undefined;
        this.sessions.delete(s);
      };
      s.once('connect', () => {
        clearTimeout(timer);
        connected = true;
        this.failures = 0;
        this.session = s;
        this.sessions.add(s);
        // a bigger connection window than the 64 KiB default, so many streams share the link
        s.setLocalWindowSize(Math.max(settings.initialWindowSize * 4, 65_535));
        resolve(s);
      });
      s.on('error', (err) => {
        clearTimeout(timer);
        if (!connected) {
          this.failures += 1;
          this.connectFailuresTotal += 1;
          if (this.failures >= cfg.ejectAfter) {
            this.ejectedUntil = Date.now() + cfg.ejectFor;
            log.warn({ cluster: this.cluster, endpoint: this.address, failures: this.failures, ejectForMs: cfg.ejectFor }, 'upstream endpoint ejected');
          }
          reject(NA_ERR_SIDECARD_UPSTREAM_CONNECT.with({ cause: err }, this.cluster, this.address, errorMessage(err)));
        } else {
          log.debug({ cluster: this.cluster, endpoint: this.address, err }, 'upstream session error');
        }
        detach();
      });
      s.on('goaway', () => {
        // no new calls on it; it closes once its calls in flight are done
        if (this.session === s) this.session = undefined;
        if (!s.closed) s.close();
      });
      s.on('close', () => {
        clearTimeout(timer);
        detach();
        reject(NA_ERR_SIDECARD_UPSTREAM_CONNECT(this.cluster, this.address, 'closed while connecting'));
      });
    });
  }

  /** Closes every session: GOAWAY, their calls finish; `force` destroys them. */
  close(force = false): void {
    for (const s of this.sessions) {
      if (force) s.destroy();
      else s.close();
    }
    this.sessions.clear();
    this.session = undefined;
  }
}

/** The endpoint a call goes to and its connected session. */
export interface Picked {
  readonly endpoint: Endpoint;
  readonly session: ClientHttp2Session;
}

export class Cluster {
  private endpoints: Endpoint[] = [];
  private next = 0;

  constructor(
    public config: ClusterConfig,
    private readonly settings: ClusterSettings,
    private readonly log: Logger,
  ) {
    this.update(config);
  }

  get name(): string {
    return this.config.name;
  }

  get members(): readonly Endpoint[] {
    return this.endpoints;
  }

  /** Takes a new configuration; endpoints that stay keep their sessions and counters. */
  update(config: ClusterConfig): void {
    const old = new Map(this.endpoints.map((e) => [e.address, e]));
    this.config = config;
    this.endpoints = config.endpoints.map((a) => {
      const e = new Endpoint(config.name, a.host, a.port);
      return old.get(e.address) ?? e;
    });
    const kept = new Set(this.endpoints);
    for (const e of old.values()) if (!kept.has(e)) e.close();
  }

  /** Healthy endpoints in the order the balancing tries them for one call. */
  private order(now: number): Endpoint[] {
    const all = this.endpoints;
    let healthy = 0;
    for (const e of all) if (e.healthy(now)) healthy++;
    if (healthy === 0) return [];
    const start = this.next++ % healthy;
    // the healthy ones rotated by `start`, in one array
    const rotated = new Array<Endpoint>(healthy);
    let h = 0;
    for (const e of all) {
      if (!e.healthy(now)) continue;
      rotated[(h - start + healthy) % healthy] = e;
      h++;
    }
    if (this.config.balancing === 'least-requests') rotated.sort((a, b) => a.active - b.active); // stable: ties keep the rotation
    return rotated;
  }

  /** The endpoint a new spliced connection goes to (the balancing's next healthy one), if any. */
  endpointFor(): Endpoint | undefined {
    const e = this.order(Date.now())[0];
    if (e !== undefined) e.calls += 1;
    return e;
  }

  /**
   * An endpoint with a connected session for one call; connection failures move on to the next
   * endpoint. Synchronous when the balancing's first choice is connected (the common case: no
   * promise, no microtask); else a promise. Throws (or rejects with)
   * NA_ERR_SIDECARD_NO_HEALTHY_ENDPOINT or the last connection error.
   */
  pick(): Picked | Promise<Picked> {
    const order = this.order(Date.now());
    if (order.length === 0) throw NA_ERR_SIDECARD_NO_HEALTHY_ENDPOINT(this.name, this.endpoints.length);
    const first = order[0]!;
    const session = first.ready();
    if (session !== undefined) return { endpoint: first, session };
    return this.connectInOrder(order);
  }

  private async connectInOrder(order: readonly Endpoint[]): Promise<Picked> {
    let last: unknown;
    for (const endpoint of order) {
      try {
        const session = await endpoint.session$(this.config, this.settings, this.log);
        return { endpoint, session };
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  close(force = false): void {
    for (const e of this.endpoints) e.close(force);
  }
}
