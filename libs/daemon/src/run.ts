/**
 * A daemon's whole main.ts: `await runDaemon(spec)`. It reads `--config <file>` (`-c`), opens
 * the configuration (file and `NETACCEL_<APP>_*` environment), makes the root logger at the
 * configured level, logs the configuration (secrets redacted), starts the daemon on a
 * DaemonHost, logs `<name> running` and tells the service manager READY=1 with the daemon's status
 * line. SIGINT / SIGTERM shut it down (STOPPING=1, close hooks in reverse order, exit 0, or 1 when
 * a hook failed or the shutdown outlived its budget); SIGHUP reloads the configuration (refused
 * whole on any error, the running one stays). A configuration that cannot be loaded, or a start
 * that fails (what it started is stopped first), ends the process with exit code 1.
 *
 *   // apps/bgp-announcer/src/main.ts
 *   await runDaemon(bgpAnnouncer());
 */
import { parseArgs } from 'node:util';
import { ConfigStore, redact } from '@netaccel/config';
import type { ConfigDefinition } from '@netaccel/config';
import { errorMessage, isNetaccelError } from '@netaccel/errors';
import { LOG_LEVELS, createLogger, onShutdown } from '@netaccel/telemetry';
import type { DestinationStream, LogLevel, Metrics, ShutdownController, SignalSource } from '@netaccel/telemetry';
import { NA_ERR_DAEMON_OPTIONS_INVALID } from './errors.js';
import { DaemonHost } from './host.js';
import type { DaemonApp } from './host.js';

/** What a daemon is: its name, version, configuration and how it starts on a host. */
export interface DaemonSpec<D extends ConfigDefinition, A extends DaemonApp> {
  readonly name: string;
  /** `packageVersion(import.meta.url)` of the app. */
  readonly version: string;
  /** Its configuration definition (`defineConfig`); it has a `logLevel` field. */
  readonly config: D;
  /** Starts the daemon's parts through the host; see DaemonHost. */
  start(host: DaemonHost<D>): Promise<A> | A;
  /** Fields of the `<name> running` log line. */
  running?(app: A, host: DaemonHost<D>): Record<string, unknown>;
}

export interface RunOptions {
  /** The command-line arguments. Default `process.argv.slice(2)`. */
  readonly argv?: readonly string[];
  /** The environment (configuration overrides, `$NOTIFY_SOCKET`). Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where signals come from. Default `process`. */
  readonly signals?: SignalSource;
  /** Ends the process after a shutdown. Default `process.exit`. */
  readonly exit?: (code: number) => void;
  /** The budget of a shutdown, in ms. Default 10 s (onShutdown's). */
  readonly shutdownTimeoutMs?: number;
  /** Where log lines go (tests). Default stdout. */
  readonly logDestination?: DestinationStream;
  /** Where a configuration that cannot be loaded is reported. Default stderr. */
  readonly stderr?: { write(text: string): unknown };
  /** Tests: a metrics registry made elsewhere. */
  readonly metrics?: Metrics;
}

export interface RunningDaemon<D extends ConfigDefinition, A extends DaemonApp> {
  readonly host: DaemonHost<D>;
  readonly app: A;
  /** The process's shutdown (what SIGTERM starts). */
  readonly shutdown: ShutdownController;
}

const USAGE = '--config <file> (-c): the YAML configuration; without it, defaults and NETACCEL_<APP>_* variables';

/**
 * Runs a daemon until a signal stops it. Resolves once it serves (with the host and the app), or
 * to undefined when it could not start (the reason logged, `process.exitCode` 1).
 */
export async function runDaemon<D extends ConfigDefinition, A extends DaemonApp>(spec: DaemonSpec<D, A>, options: RunOptions = {}): Promise<RunningDaemon<D, A> | undefined> {
  const env = options.env ?? process.env;
  const stderr = options.stderr ?? process.stderr;
  let store: ConfigStore<D>;
  try {
    const file = configFile(options.argv ?? process.argv.slice(2));
    store = await ConfigStore.open(spec.config, { ...(file === undefined ? {} : { file }), env });
  } catch (err) {
    const code = isNetaccelError(err) ? `${err.code}: ` : '';
    stderr.write(`${spec.name}: cannot load the configuration: ${code}${errorMessage(err)}\n`);
    process.exitCode = 1;
    return undefined;
  }
  const root = createLogger({ name: spec.name, level: logLevelOf(store.current), ...(options.logDestination === undefined ? {} : { destination: options.logDestination }) });
  root.info({ config: redact(store.current as object) }, 'configuration loaded');
  const signals = options.signals ?? process;
  const host = new DaemonHost({ name: spec.name, version: spec.version, store, log: root, env, signals, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) });
  const shutdown = onShutdown(root, [{ name: spec.name, run: (signal) => host.close('shutdown', signal) }], {
    signalSource: signals,
    ...(options.exit === undefined ? {} : { exit: options.exit }),
    ...(options.shutdownTimeoutMs === undefined ? {} : { timeoutMs: options.shutdownTimeoutMs }),
  });
  host.setShutdown((reason) => shutdown.shutdown(reason));
  let started = false;
  const onHangup = (): void => {
    if (!started) {
      root.warn({ component: 'config' }, 'configuration reload ignored: still starting');
      return;
    }
    void host.reload().then((outcome) => {
      const level = logLevelOf(host.config);
      if (outcome.accepted && root.level !== level) root.level = level;
    });
  };
  signals.on('SIGHUP', onHangup);
  host.onClose('reload signal', () => void signals.off('SIGHUP', onHangup));
  let app: A;
  try {
    app = await host.start((h) => spec.start(h));
  } catch (err) {
    shutdown.dispose();
    root.fatal({ err }, `${spec.name} cannot start`);
    process.exitCode = 1;
    return undefined;
  }
  started = true;
  root.info({ version: spec.version, ...spec.running?.(app, host) }, `${spec.name} running`);
  host.ready();
  return { host, app, shutdown };
}

function configFile(argv: readonly string[]): string | undefined {
  let values: { config?: string | undefined };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { config: { type: 'string', short: 'c' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw NA_ERR_DAEMON_OPTIONS_INVALID.with({ cause: err }, 'arguments', `${errorMessage(err)}; usage: ${USAGE}`);
  }
  return values.config;
}

function logLevelOf(config: unknown): LogLevel {
  const level = (config as { logLevel?: unknown }).logLevel;
  return (LOG_LEVELS as readonly unknown[]).includes(level) ? (level as LogLevel) : 'info';
}
