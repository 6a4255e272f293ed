/**
 * The daemon host: what every netaccel daemon is made of, in one place. A daemon's `start(host)`
 * takes its configuration, loggers and metrics from the host and starts its parts through it;
 * each part registers how it stops, and the host stops them in reverse order (what started last
 * stops first, as fastify's `register` / `onClose`). A start that fails undoes what was started.
 *
 *   const host = new DaemonHost({ name: 'bgp-announcer', version, store, log });
 *   const app = await host.start(async (h) => {
 *     const speaker = new Speaker({ log: h.logger('bgp-fsm'), ... });
 *     h.onClose('speaker', () => speaker.stop());
 *     await h.serveGrpc({ address: h.config.grpc.socket, services: [rpcService(AnnouncerService, handlers)] });
 *     await h.serveTelemetry({ listen: h.config.telemetry.listen, status: () => ({ peers: ... }) });
 *     h.onReload((next) => reconfigure(next));
 *     return { status: () => `${speaker.peers.size} peers` };
 *   });
 *   host.ready(); // READY=1, STATUS=<app.status()>
 *   await host.reload(); // RELOADING=1 … READY=1; a refused configuration keeps the running one
 *   await host.close('SIGTERM'); // STOPPING=1, then the close hooks in reverse order
 *
 * `runDaemon` (run.ts) wraps this for a daemon's main.ts: arguments, configuration file, logger,
 * signals (SIGINT/SIGTERM shut down, SIGHUP reloads) and the exit code.
 */
import { issueLine } from '@netaccel/config';
import type { ConfigDefinition, ConfigIssue, ConfigOf, ConfigStore, ReloadResult } from '@netaccel/config';
import { errorMessage } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { createRpcServer } from '@netaccel/rpc';
import type { RpcServer, RpcServerOptions, ServiceDefinitionLike } from '@netaccel/rpc';
import { buildTelemetryServer, childLogger, createMetrics, monotonicUsec, serviceManager } from '@netaccel/telemetry';
import type { BoundAddress, ListenOptions, Metrics, ReadinessCheck, ServiceManager, SignalSource, TelemetryServer } from '@netaccel/telemetry';
import { NA_ERR_DAEMON_CLOSED, NA_ERR_DAEMON_CLOSE_FAILED, NA_ERR_DAEMON_OPTIONS_INVALID, NA_ERR_DAEMON_RELOAD_UNSUPPORTED } from './errors.js';

/** Stops one part; `signal` aborts when the shutdown deadline passes. */
export type CloseHook = (signal: AbortSignal) => unknown;

/**
 * Puts a changed configuration into effect. It throws to refuse it (the running configuration and
 * state stay), so it checks everything before it changes anything.
 */
export type ReloadHook<C> = (next: C, prev: C, changed: readonly string[]) => void | Promise<void>;

/** What a daemon's `start(host)` returns: at least its status line for the service manager. */
export interface DaemonApp {
  /** The `STATUS=` text (`systemctl status`): once ready and after every reload. */
  status(): string;
}

export interface DaemonHostOptions<D extends ConfigDefinition> {
  /** The daemon's name: `app` of the logs and metrics, `/v1/status`'s `app`. */
  readonly name: string;
  /** Its version (`packageVersion(import.meta.url)`): the `version` label of `build_info`. */
  readonly version: string;
  /** The running configuration and its reloads. */
  readonly store: ConfigStore<D>;
  /** The root logger. */
  readonly log: Logger;
  /** Where `$NOTIFY_SOCKET` is read (sd_notify). Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Tests: a registry made elsewhere instead of `createMetrics({ app: name, version })`. */
  readonly metrics?: Metrics;
  /** Where `onSignal` listens. Default `process`. */
  readonly signals?: SignalSource;
}

export interface TelemetryOptions {
  readonly listen: ListenOptions;
  /** The daemon's part of `/v1/status`; the host puts `app`, `version` and `pid` before it. */
  readonly status?: (signal: AbortSignal) => object | Promise<object>;
  /** Readiness checks behind `/readyz`. */
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>;
}

/** createRpcServer's options without `log` (the host's). */
export type GrpcOptions<D extends readonly ServiceDefinitionLike[]> = Omit<RpcServerOptions<D>, 'log'>;

export interface ReloadOutcome {
  /** True when the configuration was taken (or nothing changed). */
  readonly accepted: boolean;
  /** The paths that changed (accepted), or would have (refused after reading). */
  readonly changed: readonly string[];
  /** Why it was refused. */
  readonly error?: unknown;
}

interface Hook {
  readonly name: string;
  readonly run: CloseHook;
}

/** How many changed paths a reload's log line lists (a configuration can hold 10,000 routes). */
const LOGGED_PATHS = 20;

export class DaemonHost<D extends ConfigDefinition> {
  readonly name: string;
  readonly version: string;
  readonly store: ConfigStore<D>;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly serviceManager: ServiceManager;
  readonly #closeHooks: Hook[] = [];
  readonly #reloadHooks: ReloadHook<ConfigOf<D>>[] = [];
  readonly #beforeReload: (() => void)[] = [];
  readonly #signals: SignalSource;
  readonly #signalListeners: { signal: NodeJS.Signals; listener: (signal: NodeJS.Signals) => void }[] = [];
  readonly #reloads;
  #app: DaemonApp | undefined;
  #closing: Promise<void> | undefined;
  #lastReloadRefused = false;
  #shutdown: ((reason: string) => Promise<unknown>) | undefined;

  constructor(options: DaemonHostOptions<D>) {
    if (typeof options.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(options.name)) {
      throw NA_ERR_DAEMON_OPTIONS_INVALID('name', `expected a daemon name like "bgp-announcer", got ${JSON.stringify(options.name)}`);
    }
    if (typeof options.version !== 'string' || options.version === '') throw NA_ERR_DAEMON_OPTIONS_INVALID('version', 'expected a non-empty string');
    this.name = options.name;
    this.version = options.version;
    this.store = options.store;
    this.log = options.log;
    this.metrics = options.metrics ?? createMetrics({ app: options.name, version: options.version });
    this.serviceManager = serviceManager(options.env ?? process.env, childLogger(options.log, 'service-manager'));
    this.#signals = options.signals ?? process;
    this.#reloads = this.metrics.counter({ name: 'config_reloads_total', help: 'Configuration reloads by result: ok (accepted, changed or not) or refused', labelNames: ['result'] });
    for (const result of ['ok', 'refused']) this.#reloads.inc({ result }, 0); // both series from the start
  }

  /** The running configuration. */
  get config(): ConfigOf<D> {
    return this.store.current;
  }

  /** The logger of one module: `{ component }` on every line. */
  logger(component: string): Logger {
    return childLogger(this.log, component);
  }

  /** True once `close()` began. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Registers how a part stops; hooks run in reverse order of registration. */
  onClose(name: string, hook: CloseHook): void {
    if (this.#closing !== undefined) throw NA_ERR_DAEMON_CLOSED(this.name, `close hook ${name} registered during shutdown`);
    this.#closeHooks.push({ name, run: hook });
  }

  /** Registers a reload hook (in order; the first that throws refuses the configuration). */
  onReload(hook: ReloadHook<ConfigOf<D>>): void {
    this.#reloadHooks.push(hook);
  }

  /** Runs before the configuration file is read again (long reads: keep peers' timers fed). */
  beforeReload(hook: () => void): void {
    this.#beforeReload.push(hook);
  }

  /** Listens for a signal (SIGUSR2: graceful restart) until the host closes. */
  onSignal(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): void {
    this.#signals.on(signal, listener);
    this.#signalListeners.push({ signal, listener });
  }

  /**
   * Starts the daemon: `build(host)` starts its parts through the host. When it throws, what it
   * started is stopped (close hooks in reverse order) and its error is thrown.
   */
  async start<A extends DaemonApp>(build: (host: this) => Promise<A> | A): Promise<A> {
    if (this.#closing !== undefined) throw NA_ERR_DAEMON_CLOSED(this.name, 'start after close');
    try {
      const app = await build(this);
      this.#app = app;
      return app;
    } catch (err) {
      await this.close('start failed').catch(() => undefined); // each failed hook is logged
      throw err;
    }
  }

  /** Binds the telemetry server (/healthz, /readyz, /metrics, /v1/status); stopped at close. */
  async serveTelemetry(options: TelemetryOptions): Promise<{ server: TelemetryServer; address: BoundAddress }> {
    this.#open('telemetry server');
    const provider = options.status;
    const server = buildTelemetryServer({
      log: this.log,
      metrics: this.metrics,
      listen: options.listen,
      status: async (signal) => ({ app: this.name, version: this.version, pid: process.pid, ...(provider === undefined ? {} : await provider(signal)) }),
      ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
    });
    const address = await server.listen();
    this.onClose('telemetry', () => server.close());
    this.log.info({ component: 'telemetry', address }, 'telemetry listening');
    return { server, address };
  }

  /**
   * Serves gRPC services (`rpcService(Definition, handlers)` each) on one server; stopped at
   * close (graceful, `shutdownTimeoutMs`).
   */
  async serveGrpc<const S extends readonly ServiceDefinitionLike[]>(options: GrpcOptions<S>): Promise<RpcServer> {
    this.#open('gRPC server');
    const server = await createRpcServer<S>({ ...options, log: this.log });
    this.onClose('grpc', () => server.shutdown());
    return server;
  }

  /** Sends fields to the service manager (sd_notify); false without one or when it failed. */
  notify(fields: Readonly<Record<string, string>>): boolean {
    return this.serviceManager.notify(fields);
  }

  /** READY=1 with the app's status line: call once the daemon serves. */
  ready(): void {
    this.notify({ READY: '1', STATUS: this.#status() });
  }

  /**
   * Reads the configuration again and puts it into effect through the reload hooks; a
   * configuration with any problem (the file, the schema, or a hook that refuses it) is refused
   * whole, the running configuration and state stay. Tells the service manager RELOADING=1 …
   * READY=1 around it. Never rejects: the outcome says what happened.
   */
  async reload(): Promise<ReloadOutcome> {
    if (this.#closing !== undefined) return { accepted: false, changed: [], error: NA_ERR_DAEMON_CLOSED(this.name, 'reload during shutdown') };
    const clog = this.logger('config');
    let changedPaths: readonly string[] = [];
    try {
      for (const h of this.#beforeReload) h();
    } catch (err) {
      clog.warn({ err }, 'before-reload hook failed');
    }
    this.notify({ RELOADING: '1', MONOTONIC_USEC: monotonicUsec(), STATUS: 'reloading the configuration' });
    let result: ReloadResult<ConfigOf<D>>;
    try {
      result = await this.store.reload({
        apply: async (next, prev, changed) => {
          changedPaths = changed;
          if (this.#reloadHooks.length === 0) throw NA_ERR_DAEMON_RELOAD_UNSUPPORTED(this.name, changed.slice(0, LOGGED_PATHS).join(', '));
          for (const h of this.#reloadHooks) await h(next, prev, changed);
        },
      });
    } catch (error) {
      this.#reloads.inc({ result: 'refused' });
      this.#lastReloadRefused = true;
      // One compact line, as lb-controller logs a refused desired state: the code and the problems, no stack.
      // Each problem as its one line (`bgp.holdTime: expected 0 or 3..65535, got 1 (at file:3:5)`).
      const e = error as { code?: string; details?: { issues?: unknown } };
      const issues = Array.isArray(e.details?.issues) ? (e.details.issues as ConfigIssue[]).map(issueLine) : undefined;
      clog.warn({ code: e.code, problems: issues ?? errorMessage(error) }, 'configuration reload refused; the running configuration stays');
      this.notify({ READY: '1', STATUS: this.#status() });
      return { accepted: false, changed: changedPaths, error };
    }
    this.#reloads.inc({ result: 'ok' });
    this.#lastReloadRefused = false;
    // The changed paths, not the configurations: those can hold 10,000 routes and secrets.
    clog.info({ changed: result.changed.length, paths: result.changed.slice(0, LOGGED_PATHS) }, 'configuration reloaded');
    this.notify({ READY: '1', STATUS: this.#status() });
    return { accepted: true, changed: result.changed };
  }

  /**
   * Asks for the daemon's shutdown: under `runDaemon` the process's shutdown (hooks, then exit),
   * otherwise `close(reason)`.
   */
  shutdown(reason: string): Promise<unknown> {
    return this.#shutdown !== undefined ? this.#shutdown(reason) : this.close(reason);
  }

  /** runDaemon: where `shutdown()` goes. */
  setShutdown(fn: (reason: string) => Promise<unknown>): void {
    this.#shutdown = fn;
  }

  /**
   * STOPPING=1, then every close hook in reverse order of registration, each waited for; a hook
   * that fails is logged and the others still run, then it rejects with
   * NA_ERR_DAEMON_CLOSE_FAILED. Calling it again returns the same promise.
   */
  close(reason = 'close', signal: AbortSignal = new AbortController().signal): Promise<void> {
    this.#closing ??= this.#runClose(reason, signal);
    return this.#closing;
  }

  async #runClose(reason: string, signal: AbortSignal): Promise<void> {
    this.notify({ STOPPING: '1' });
    for (const { signal: s, listener } of this.#signalListeners.splice(0)) this.#signals.off(s, listener);
    const failed: string[] = [];
    for (const hook of [...this.#closeHooks].reverse()) {
      try {
        await hook.run(signal);
      } catch (err) {
        failed.push(hook.name);
        this.log.error({ component: 'daemon', err, hook: hook.name, reason }, 'close hook failed');
      }
    }
    this.store.close();
    if (failed.length > 0) throw NA_ERR_DAEMON_CLOSE_FAILED.with({ details: { hooks: failed } }, this.name, failed.join(', '));
  }

  #open(what: string): void {
    if (this.#closing !== undefined) throw NA_ERR_DAEMON_CLOSED(this.name, `${what} started during shutdown`);
  }

  #status(): string {
    let text: string;
    try {
      text = this.#app?.status() ?? 'running';
    } catch (err) {
      text = `status unavailable: ${errorMessage(err)}`;
    }
    return this.#lastReloadRefused ? `${text}; the last reload was refused (see the journal)` : text;
  }
}
