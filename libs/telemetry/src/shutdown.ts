/**
 * Graceful shutdown for daemons. On SIGINT or SIGTERM the handlers run one after the other in
 * reverse registration order (what was started last stops first: the telemetry server before
 * the BGP speaker before the BPF maps), the outcome is logged, and the process exits with 0 —
 * or with 1 when a handler failed or the whole shutdown outlived `timeoutMs`. A second signal
 * during shutdown exits at once with 1.
 *
 *   const shutdown = onShutdown(log, [
 *     { name: 'bpf', run: () => maps.close() },
 *     { name: 'telemetry', run: () => server.close() },
 *   ], { timeoutMs: 15_000 });
 *
 * Tests inject `exit` and `signals` (any EventEmitter) instead of killing their own process.
 */
import process from 'node:process';
import { errorMessage } from '@netaccel/errors';
import { telemetryErrors } from './errors.js';
import { childLogger } from './logger.js';
import type { Logger } from './logger.js';
import { describe, failOption, fn, integerIn, join, nonEmptyString, optional, record } from './validate.js';

const { NA_ERR_TELEMETRY_SHUTDOWN_HANDLER_FAILED, NA_ERR_TELEMETRY_SHUTDOWN_TIMEOUT } = telemetryErrors;

/** Work to do at shutdown. `signal` fires when the shutdown deadline passes. */
export type ShutdownFn = (signal: AbortSignal) => unknown;

/** A named handler, or a function (named after the function). */
export type ShutdownHandler = ShutdownFn | { readonly name: string; readonly run: ShutdownFn };

/** Where signals come from: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  /** The budget for all handlers together, in ms. */
  timeoutMs?: number;
  /** The signals that start the shutdown. */
  signals?: readonly NodeJS.Signals[];
  /** Where the signals come from. */
  signalSource?: SignalSource;
  /** Ends the process; `process.exit` unless a test injects its own. */
  exit?: (code: number) => void;
}

export interface ResolvedShutdownOptions {
  readonly timeoutMs: number;
  readonly signals: readonly NodeJS.Signals[];
}

export interface ShutdownController {
  /** Registers one more handler; it will run before those registered earlier. */
  add(handler: ShutdownHandler): void;
  /**
   * Shuts down now (after a fatal error, say), as a signal would; resolves to the exit code after
   * `exit` was called. Calling it again returns the same promise.
   */
  shutdown(reason: string): Promise<number>;
  /** Stops listening for the signals. */
  dispose(): void;
}

const DEFAULTS = Object.freeze({
  timeoutMs: 10_000, // 10 s, well inside Kubernetes' default 30 s termination grace period
  signals: Object.freeze(['SIGINT', 'SIGTERM']) as readonly NodeJS.Signals[],
});

const MAX_TIMEOUT_MS = 10 * 60_000; // 10 min

interface Named {
  readonly name: string;
  readonly run: ShutdownFn;
}

export function onShutdown(
  log: Logger,
  handlers: readonly ShutdownHandler[] = [],
  options: ShutdownOptions = {},
): ShutdownController {
  const o = record(options, '', ['timeoutMs', 'signals', 'signalSource', 'exit']);
  const resolved: ResolvedShutdownOptions = Object.freeze({
    timeoutMs: optional(o.timeoutMs, DEFAULTS.timeoutMs, (v) => integerIn(v, 1, MAX_TIMEOUT_MS, 'timeoutMs')),
    signals: optional(o.signals, DEFAULTS.signals, (v) => {
      if (!Array.isArray(v) || v.length === 0) {
        throw failOption('signals', `expected a non-empty array of signal names, got ${describe(v)}`);
      }
      return Object.freeze(v.map((s: unknown, i) => nonEmptyString(s, join('signals', i)) as NodeJS.Signals));
    }),
  });
  const source = optional<SignalSource>(o.signalSource, process, (v) => {
    const s = v as Partial<SignalSource> | null;
    if (typeof s?.on !== 'function' || typeof s.off !== 'function') {
      throw failOption('signalSource', `expected an event emitter, got ${describe(v)}`);
    }
    return v as SignalSource;
  });
  const exitProcess = optional<(code: number) => void>(o.exit, (code) => process.exit(code), (v) => fn(v, 'exit'));
  let exited = false;
  const exit = (code: number): void => {
    if (exited) return;
    exited = true;
    exitProcess(code);
  };
  const slog = childLogger(log, 'shutdown');

  if (!Array.isArray(handlers)) throw failOption('handlers', `expected an array, got ${describe(handlers)}`);
  const registered: Named[] = handlers.map((h, i) => named(h, join('handlers', i)));
  let running: Promise<number> | undefined;

  const run = async (reason: string): Promise<number> => {
    const started = performance.now();
    slog.info({ reason, handlers: registered.length }, 'shutting down');
    const code = await runHandlers([...registered].reverse(), resolved.timeoutMs, slog);
    const durationMs = Math.round(performance.now() - started);
    if (code === 0) slog.info({ reason, durationMs }, 'shutdown complete');
    else slog.error({ reason, durationMs, exitCode: code }, 'shutdown finished with errors');
    dispose();
    exit(code);
    return code;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running !== undefined) {
      slog.warn({ signal }, 'second signal during shutdown: exiting now');
      dispose();
      exit(1);
      return;
    }
    void shutdown(signal);
  };
  const shutdown = (reason: string): Promise<number> => {
    running ??= run(reason);
    return running;
  };
  const dispose = (): void => {
    for (const s of resolved.signals) source.off(s, onSignal);
  };

  for (const s of resolved.signals) source.on(s, onSignal);
  return {
    add: (handler) => {
      registered.push(named(handler, join('handlers', registered.length)));
    },
    shutdown,
    dispose,
  };
}

/**
 * Runs the handlers in order until all are done or the deadline passes. A failing handler is
 * logged and the rest still run. Resolves to the exit code.
 */
async function runHandlers(handlers: readonly Named[], timeoutMs: number, log: Logger): Promise<number> {
  const controller = new AbortController();
  let current: string | undefined;
  const work = async (): Promise<number> => {
    let code = 0;
    for (const h of handlers) {
      if (controller.signal.aborted) break;
      current = h.name;
      const started = performance.now();
      try {
        await h.run(controller.signal);
        log.debug({ handler: h.name, durationMs: Math.round(performance.now() - started) }, 'shutdown handler done');
      } catch (cause) {
        if (controller.signal.aborted) break;
        code = 1;
        const err = NA_ERR_TELEMETRY_SHUTDOWN_HANDLER_FAILED.with({ cause }, h.name, errorMessage(cause));
        log.error({ err, handler: h.name }, 'shutdown handler failed');
      }
    }
    return code;
  };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([work(), expired]);
    if (outcome !== 'timeout') return outcome;
  } finally {
    clearTimeout(timer);
  }
  const err = NA_ERR_TELEMETRY_SHUTDOWN_TIMEOUT.with({ details: { handler: current } }, timeoutMs);
  controller.abort(err);
  log.error({ err, handler: current }, 'shutdown timed out');
  return 1;
}

function named(handler: ShutdownHandler, path: string): Named {
  if (typeof handler === 'function') {
    return { name: handler.name === '' ? path : handler.name, run: handler };
  }
  const h = record(handler, path, ['name', 'run']);
  return { name: nonEmptyString(h.name, join(path, 'name')), run: fn<ShutdownFn>(h.run, join(path, 'run')) };
}
