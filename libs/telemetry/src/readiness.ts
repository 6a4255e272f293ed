/**
 * Readiness checks behind `GET /readyz`. A daemon registers a check per dependency
 * (`bpf-maps`, `bgp-sessions`, …) and removes it when the dependency goes away; the daemon is
 * ready when every check passes. Checks run concurrently, each with a timeout, so one that hangs
 * makes the daemon not ready instead of hanging the probe.
 *
 * A check passes when it returns `true`, nothing, or `{ ready: true }`; it fails when it returns
 * `false` or `{ ready: false, message }`, throws, or does not answer in time.
 */
import { errorMessage, isNetaccelError } from '@netaccel/errors';
import type { Logger } from './logger.js';
import { withDeadline } from './deadline.js';
import { telemetryErrors } from './errors.js';
import { fn, integerIn, nonEmptyString, optional, record } from './validate.js';

const { NA_ERR_TELEMETRY_READINESS_CHECK_DUPLICATE, NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT } = telemetryErrors;

export type ReadinessResult = boolean | void | { readonly ready: boolean; readonly message?: string };

/** A readiness check. `signal` fires when the check's timeout expires. */
export type ReadinessCheck = (signal: AbortSignal) => ReadinessResult | Promise<ReadinessResult>;

export interface ReadinessCheckOptions {
  /** How long the check may take before it counts as failed; the registry's default when absent. */
  timeoutMs?: number;
}

export interface CheckReport {
  readonly name: string;
  readonly ready: boolean;
  /** Why the check failed. */
  readonly message?: string;
  /** The error code when the check threw a NetaccelError or timed out. */
  readonly code?: string;
  readonly durationMs: number;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** Every check, in registration order. */
  readonly checks: readonly CheckReport[];
}

export interface ReadinessOptions {
  /** Timeout of a check registered without its own. */
  defaultTimeoutMs?: number;
  /** Where readiness changes are logged (ready → not ready and back). */
  log?: Logger;
}

export const MAX_CHECK_TIMEOUT_MS = 60_000; // 1 min: probes give up long before

const DEFAULTS = Object.freeze({
  defaultTimeoutMs: 1_000, // 1 s; keep it below the probe's own timeout so a hung check answers 503
});

interface Entry {
  readonly check: ReadinessCheck;
  readonly timeoutMs: number;
}

export class Readiness {
  readonly #checks = new Map<string, Entry>();
  readonly #defaultTimeoutMs: number;
  readonly #log: Logger | undefined;
  #lastReady: boolean | undefined;

  constructor(options: ReadinessOptions = {}) {
    const o = record(options, '', ['defaultTimeoutMs', 'log']);
    this.#defaultTimeoutMs = optional(o.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs, (v) =>
      integerIn(v, 1, MAX_CHECK_TIMEOUT_MS, 'defaultTimeoutMs'),
    );
    this.#log = o.log as Logger | undefined;
  }

  /**
   * Registers a check under a unique name and returns a function that removes it.
   * Throws NA_ERR_TELEMETRY_READINESS_CHECK_DUPLICATE when the name is taken.
   */
  add(name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}): () => void {
    nonEmptyString(name, 'readiness.name');
    fn(check, `readiness.${name}`);
    const o = record(options, `readiness.${name}`, ['timeoutMs']);
    const timeoutMs = optional(o.timeoutMs, this.#defaultTimeoutMs, (v) =>
      integerIn(v, 1, MAX_CHECK_TIMEOUT_MS, `readiness.${name}.timeoutMs`),
    );
    if (this.#checks.has(name)) throw NA_ERR_TELEMETRY_READINESS_CHECK_DUPLICATE(name);
    const entry: Entry = { check, timeoutMs };
    this.#checks.set(name, entry);
    return () => {
      // Only remove our own entry: the name may have been re-registered since.
      if (this.#checks.get(name) === entry) this.#checks.delete(name);
    };
  }

  /** Removes a check; false when there was none of that name. */
  remove(name: string): boolean {
    return this.#checks.delete(name);
  }

  has(name: string): boolean {
    return this.#checks.has(name);
  }

  names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Runs every check concurrently. With no checks the daemon is ready. */
  async run(): Promise<ReadinessReport> {
    const entries = [...this.#checks.entries()];
    const checks = await Promise.all(entries.map(([name, entry]) => runCheck(name, entry)));
    const report: ReadinessReport = { ready: checks.every((c) => c.ready), checks };
    this.#logChange(report);
    return report;
  }

  #logChange(report: ReadinessReport): void {
    if (report.ready === this.#lastReady) return;
    this.#lastReady = report.ready;
    if (this.#log === undefined) return;
    if (report.ready) {
      this.#log.info({ checks: report.checks.map((c) => c.name) }, 'ready');
    } else {
      const failing = report.checks.filter((c) => !c.ready).map(({ name, message, code }) => ({ name, message, code }));
      this.#log.warn({ failing }, 'not ready');
    }
  }
}

async function runCheck(name: string, entry: Entry): Promise<CheckReport> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
  try {
    const result = await withDeadline(entry.check, entry.timeoutMs, () =>
      NA_ERR_TELEMETRY_READINESS_CHECK_TIMEOUT(name, entry.timeoutMs),
    );
    if (result === undefined || result === true) return { name, ready: true, durationMs: elapsed() };
    if (result === false) return { name, ready: false, message: 'not ready', durationMs: elapsed() };
    if (typeof result === 'object' && result !== null && typeof result.ready === 'boolean') {
      const message = result.ready ? undefined : (result.message ?? 'not ready');
      return { name, ready: result.ready, ...(message === undefined ? {} : { message }), durationMs: elapsed() };
    }
    return { name, ready: false, message: 'check returned an unexpected value', durationMs: elapsed() };
  } catch (err) {
    return {
      name,
      ready: false,
      message: errorMessage(err),
      ...(isNetaccelError(err) ? { code: err.code } : {}),
      durationMs: elapsed(),
    };
  }
}
