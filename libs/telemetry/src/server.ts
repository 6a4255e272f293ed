/**
 * The telemetry server every daemon runs: fastify with
 *
 *   GET /healthz    200 {"status":"ok"} while the process lives (liveness)
 *   GET /readyz     200 when every readiness check passes, 503 with the failing checks otherwise
 *   GET /metrics    the daemon's metrics in Prometheus text format
 *   GET /v1/status  the daemon's status as JSON, from its status provider
 *
 * `buildTelemetryServer()` builds it without listening (tests use `server.app.inject()`);
 * `listen()` binds the configured address and reports it (port 0 picks a free port); `close()`
 * stops accepting, lets in-flight requests finish and, after `closeTimeoutMs`, cuts them.
 * Daemons may add their own routes to `server.app` before `listen()`.
 */
import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import process from 'node:process';
import { errorMessage } from '@netaccel/errors';
import { withDeadline } from './deadline.js';
import { telemetryErrors } from './errors.js';
import { errorReply } from './http-errors.js';
import {
  boundAddress,
  clearStaleSocket,
  describeListen,
  isUnix,
  listenError,
  resolveListenOptions,
} from './listen-address.js';
import type { BoundAddress, ListenOptions } from './listen-address.js';
import { childLogger } from './logger.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { registerHttpMetrics } from './http-metrics.js';
import { MAX_CHECK_TIMEOUT_MS, Readiness } from './readiness.js';
import type { CheckReport, ReadinessCheck } from './readiness.js';
import { describe, failOption, fn, integerIn, isPlainObject, optional, record } from './validate.js';

const {
  NA_ERR_TELEMETRY_ALREADY_LISTENING,
  NA_ERR_TELEMETRY_CLOSE_TIMEOUT,
  NA_ERR_TELEMETRY_ROUTE_NOT_FOUND,
  NA_ERR_TELEMETRY_SERVER_CLOSED,
  NA_ERR_TELEMETRY_STATUS_FAILED,
  NA_ERR_TELEMETRY_STATUS_TIMEOUT,
} = telemetryErrors;

/** Returns the daemon's status for `/v1/status`; `signal` fires when `statusTimeoutMs` expires. */
export type StatusProvider = (signal: AbortSignal) => object | Promise<object>;

export interface TelemetryServerOptions {
  /** The daemon's logger; the server logs through a child with `component: 'telemetry-http'`. */
  log: Logger;
  metrics: Metrics;
  listen: ListenOptions;
  /** The status provider; without one `/v1/status` answers app, version, pid and uptime. */
  status?: StatusProvider;
  /** Readiness checks registered from the start; more can be added with `server.readiness.add`. */
  readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** Timeout of a readiness check registered without its own, in ms. */
  readinessTimeoutMs?: number;
  /** How long the status provider may take, in ms. */
  statusTimeoutMs?: number;
  /** How long `close()` lets in-flight requests finish before cutting their connections, in ms. */
  closeTimeoutMs?: number;
}

export interface ResolvedTelemetryServerOptions {
  readonly listen: ListenOptions;
  readonly readinessTimeoutMs: number;
  readonly statusTimeoutMs: number;
  readonly closeTimeoutMs: number;
}

const DEFAULTS = Object.freeze({
  readinessTimeoutMs: 1_000, // 1 s per check
  statusTimeoutMs: 5_000, // 5 s
  closeTimeoutMs: 10_000, // 10 s, well inside Kubernetes' default 30 s termination grace period
});

const SERVER = Object.freeze({
  keepAliveTimeout: 5_000, // 5 s: scrapers reconnect cheaply; idle sockets do not linger
  requestTimeout: 30_000, // 30 s to receive a whole request
  bodyLimit: 64 * 1024, // 64 KiB: the telemetry routes take no bodies
});

const MAX_TIMEOUT_MS = 10 * 60_000; // 10 min

const KNOWN_OPTIONS = [
  'log',
  'metrics',
  'listen',
  'status',
  'readiness',
  'readinessTimeoutMs',
  'statusTimeoutMs',
  'closeTimeoutMs',
] as const;

export interface CloseResult {
  /** True when in-flight requests outlived `closeTimeoutMs` and their connections were cut. */
  readonly forced: boolean;
  readonly durationMs: number;
}

export interface TelemetryServer {
  /** The fastify instance, for `inject()` in tests and for daemon-specific routes. */
  readonly app: FastifyInstance;
  /** The readiness checks behind `/readyz`; add and remove them at any time. */
  readonly readiness: Readiness;
  readonly options: ResolvedTelemetryServerOptions;
  /**
   * Binds the configured address and resolves to it. Throws NA_ERR_TELEMETRY_LISTEN_* when the
   * address cannot be bound, NA_ERR_TELEMETRY_ALREADY_LISTENING or NA_ERR_TELEMETRY_SERVER_CLOSED.
   */
  listen(): Promise<BoundAddress>;
  /** The bound address while listening. */
  address(): BoundAddress | undefined;
  /** Graceful shutdown; calling it again returns the same promise. */
  close(): Promise<CloseResult>;
}

/** Builds the telemetry server without listening. Throws on bad options. */
export function buildTelemetryServer(options: TelemetryServerOptions): TelemetryServer {
  const o = record(options, '', KNOWN_OPTIONS);
  const log = requireLogger(o.log);
  const metrics = requireMetrics(o.metrics);
  const resolved: ResolvedTelemetryServerOptions = Object.freeze({
    listen: resolveListenOptions(o.listen),
    readinessTimeoutMs: timeout(o.readinessTimeoutMs, DEFAULTS.readinessTimeoutMs, 'readinessTimeoutMs', MAX_CHECK_TIMEOUT_MS),
    statusTimeoutMs: timeout(o.statusTimeoutMs, DEFAULTS.statusTimeoutMs, 'statusTimeoutMs'),
    closeTimeoutMs: timeout(o.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 'closeTimeoutMs'),
  });
  const status = optional<StatusProvider>(o.status, defaultStatus(metrics), (v) => fn<StatusProvider>(v, 'status'));
  const httpLog = childLogger(log, 'telemetry-http');
  const readiness = new Readiness({ defaultTimeoutMs: resolved.readinessTimeoutMs, log: childLogger(log, 'readiness') });
  if (o.readiness !== undefined) {
    if (!isPlainObject(o.readiness)) {
      throw failOption('readiness', `expected an object of named checks, got ${describe(o.readiness)}`);
    }
    for (const [name, check] of Object.entries(o.readiness)) readiness.add(name, check as ReadinessCheck);
  }

  const app = fastify({
    // The base logger type keeps FastifyInstance's default generics for the routes daemons add;
    // a daemon's Logger is a pino logger.
    loggerInstance: httpLog as unknown as FastifyBaseLogger,
    logController: new DebugLogController(),
    keepAliveTimeout: SERVER.keepAliveTimeout,
    requestTimeout: SERVER.requestTimeout,
    bodyLimit: SERVER.bodyLimit,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  registerHttpMetrics(app, metrics);
  // Once closing, answers end their connection: a keep-alive socket would otherwise stay open
  // after its in-flight request and hold close() until the keep-alive timeout.
  const lifecycle: Lifecycle = { closing: false };
  app.addHook('onSend', async (_request, reply, payload) => {
    if (lifecycle.closing) reply.header('connection', 'close');
    return payload;
  });
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = errorReply(err, request.method, routePath(request));
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ err }, 'request rejected');
    return reply.code(body.statusCode).header('cache-control', 'no-store').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body = errorReply(NA_ERR_TELEMETRY_ROUTE_NOT_FOUND(request.method, routePath(request)), request.method, request.url);
    return reply.code(404).send(body);
  });

  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', async (_request, reply) => {
    const report = await readiness.run();
    reply.header('cache-control', 'no-store');
    if (report.ready) return { status: 'ready', checks: report.checks };
    const failing = report.checks.filter((c) => !c.ready).map(failure);
    return reply.code(503).send({ status: 'not ready', failing, checks: report.checks });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
  });

  app.get('/v1/status', async (_request, reply) => {
    let body: unknown;
    try {
      body = await withDeadline(status, resolved.statusTimeoutMs, () => NA_ERR_TELEMETRY_STATUS_TIMEOUT(resolved.statusTimeoutMs));
    } catch (err) {
      if (NA_ERR_TELEMETRY_STATUS_TIMEOUT.is(err)) throw err;
      throw NA_ERR_TELEMETRY_STATUS_FAILED.with({ cause: err }, errorMessage(err));
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw NA_ERR_TELEMETRY_STATUS_FAILED(`expected an object, got ${describe(body)}`);
    }
    return reply.header('cache-control', 'no-store').send(body);
  });

  return new Server(app, readiness, resolved, log, lifecycle);
}

interface Lifecycle {
  closing: boolean;
}

type State = 'built' | 'listening' | 'open' | 'closing';

class Server implements TelemetryServer {
  readonly app: FastifyInstance;
  readonly readiness: Readiness;
  readonly options: ResolvedTelemetryServerOptions;
  readonly #log: Logger;
  readonly #lifecycle: Lifecycle;
  #state: State = 'built';
  #bound: BoundAddress | undefined;
  #closed: Promise<CloseResult> | undefined;

  constructor(
    app: FastifyInstance,
    readiness: Readiness,
    options: ResolvedTelemetryServerOptions,
    log: Logger,
    lifecycle: Lifecycle,
  ) {
    this.#lifecycle = lifecycle;
    this.app = app;
    this.readiness = readiness;
    this.options = options;
    this.#log = childLogger(log, 'telemetry');
  }

  async listen(): Promise<BoundAddress> {
    const listen = this.options.listen;
    if (this.#state === 'closing') throw NA_ERR_TELEMETRY_SERVER_CLOSED();
    if (this.#state !== 'built') throw NA_ERR_TELEMETRY_ALREADY_LISTENING(describeListen(listen));
    this.#state = 'listening';
    try {
      if (isUnix(listen)) {
        await clearStaleSocket(listen.path);
        await this.app.listen({ path: listen.path, listenTextResolver });
      } else {
        await this.app.listen({ host: listen.host, port: listen.port, listenTextResolver });
      }
    } catch (err) {
      if ((this.#state as State) === 'closing') throw NA_ERR_TELEMETRY_SERVER_CLOSED.with({ cause: err });
      // A failed listen leaves the server as built: the caller may retry or close it.
      this.#state = 'built';
      throw isListenError(err) ? err : listenError(err, listen);
    }
    if ((this.#state as State) === 'closing') throw NA_ERR_TELEMETRY_SERVER_CLOSED();
    this.#state = 'open';
    this.#bound = boundAddress(this.app.server.address());
    return this.#bound!;
  }

  address(): BoundAddress | undefined {
    return this.#bound;
  }

  close(): Promise<CloseResult> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<CloseResult> {
    this.#state = 'closing';
    this.#lifecycle.closing = true;
    const started = performance.now();
    const closing = this.app.close();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), this.options.closeTimeoutMs);
    });
    let forced: boolean;
    try {
      forced = await Promise.race([closing.then(() => false), expired]);
    } finally {
      clearTimeout(timer);
    }
    if (forced) {
      const err = NA_ERR_TELEMETRY_CLOSE_TIMEOUT(this.options.closeTimeoutMs);
      this.#log.warn({ err }, 'cutting connections with requests still in flight');
      this.app.server.closeAllConnections();
      await closing;
    }
    this.#bound = undefined;
    const durationMs = Math.round(performance.now() - started);
    this.#log.info({ forced, durationMs }, 'telemetry server closed');
    return Object.freeze({ forced, durationMs });
  }
}

/** Logs fastify's per-request lines at debug instead of info. */
class DebugLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'route not found');
  }
}

const listenTextResolver = (address: string): string => `telemetry server listening at ${address}`;

function isListenError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('NA_ERR_TELEMETRY_LISTEN_');
}

function routePath(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q === -1 ? request.url : request.url.slice(0, q);
}

function failure({ name, message, code }: CheckReport): { name: string; message: string; code?: string } {
  return code === undefined ? { name, message: message ?? 'not ready' } : { name, message: message ?? 'not ready', code };
}

function defaultStatus(metrics: Metrics): StatusProvider {
  return () => ({ app: metrics.app, version: metrics.version, pid: process.pid, uptimeSeconds: process.uptime() });
}

function timeout(value: unknown, fallback: number, path: string, max = MAX_TIMEOUT_MS): number {
  return optional(value, fallback, (v) => integerIn(v, 1, max, path));
}

function requireLogger(value: unknown): Logger {
  const candidate = value as { child?: unknown; info?: unknown } | null | undefined;
  if (typeof candidate?.child !== 'function' || typeof candidate.info !== 'function') {
    throw failOption('log', `expected a pino logger, got ${describe(value)}`);
  }
  return value as Logger;
}

function requireMetrics(value: unknown): Metrics {
  const registry = (value as { registry?: unknown } | null)?.registry;
  if (typeof value !== 'object' || value === null || typeof registry !== 'object' || registry === null) {
    throw failOption('metrics', `expected the result of createMetrics(), got ${describe(value)}`);
  }
  return value as Metrics;
}
