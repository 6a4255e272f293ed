/**
 * Health checks run by the controller: TCP connect, or HTTP GET with an expected status; one
 * loop per backend, every `interval`, each attempt bounded by `timeout`. The first result
 * decides at once (an unchecked backend takes no flows until it has answered once), unless the
 * controller already holds the backend healthy (adopted after a restart: it was in the table and
 * its record is intact; or a check whose spec changed): that one starts healthy. After that a
 * healthy backend turns unhealthy after `fall` consecutive failures and an unhealthy one healthy
 * after `rise` consecutive successes. A failed backend is therefore out of rotation within
 * interval × fall (+ timeout) of its failure.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheckSpec } from './desired-state.js';

export interface HealthTarget {
  /** Backend key (reconciler.backendKey). */
  readonly key: string;
  readonly address: string;
  /** The port checked: healthCheck.port, else the backend's port, else the service's. */
  readonly port: number;
  readonly spec: HealthCheckSpec;
}

export type CheckResult = { ok: true } | { ok: false; error: string };

/** One TCP connect: ok once the handshake completes. */
export function checkTcp(address: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    const done = (r: CheckResult) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: `connect timeout after ${timeoutMs} ms` }), timeoutMs);
    s.once('connect', () => done({ ok: true }));
    s.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: `connect ${err.code ?? err.message}` }));
  });
}

/** One HTTP GET: ok when the status is `expect`. */
export function checkHttp(address: string, port: number, path: string, expect: number, timeoutMs: number, host?: string): Promise<CheckResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = request({ host: address, port, path, method: 'GET', agent: false, headers: { host: host ?? (address.includes(':') ? `[${address}]` : address), 'user-agent': 'netaccel-lb-controller' } }, (res) => {
      res.resume();
      done(res.statusCode === expect ? { ok: true } : { ok: false, error: `HTTP ${res.statusCode ?? '?'} (expected ${expect})` });
    });
    const timer = setTimeout(() => done({ ok: false, error: `HTTP timeout after ${timeoutMs} ms` }), timeoutMs);
    req.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: `HTTP ${err.code ?? err.message}` }));
    req.end();
  });
}

export function runCheck(t: HealthTarget): Promise<CheckResult> {
  if (t.spec.type === 'http') return checkHttp(t.address, t.port, t.spec.path, t.spec.expectStatus, t.spec.timeoutMs, t.spec.host);
  return checkTcp(t.address, t.port, t.spec.timeoutMs);
}

export interface HealthCheckerOptions {
  /** A backend's state changed (or its first result arrived). */
  onChange(key: string, healthy: boolean, error: string): void;
  /** Every result, for metrics. */
  onResult?(key: string, result: CheckResult, durationMs: number): void;
}

interface Loop {
  target: HealthTarget;
  healthy: boolean | undefined;
  streak: number;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
  lastError: string;
}

export class HealthChecker {
  readonly #opts: HealthCheckerOptions;
  readonly #loops = new Map<string, Loop>();

  constructor(opts: HealthCheckerOptions) {
    this.#opts = opts;
  }

  /**
   * Starts loops for new targets, stops those no longer given, restarts changed ones. A new loop
   * whose backend `healthyNow` says is healthy starts healthy (`fall` failures to turn it).
   */
  setTargets(targets: readonly HealthTarget[], healthyNow: (key: string) => boolean = () => false): void {
    const want = new Map(targets.filter((t) => t.spec.type !== 'none').map((t) => [t.key, t] as const));
    for (const [key, loop] of this.#loops) {
      const t = want.get(key);
      if (!t || JSON.stringify(t) !== JSON.stringify(loop.target)) {
        loop.stopped = true;
        clearTimeout(loop.timer);
        this.#loops.delete(key);
      }
    }
    for (const [key, t] of want) {
      if (this.#loops.has(key)) continue;
      const loop: Loop = { target: t, healthy: healthyNow(key) ? true : undefined, streak: 0, timer: undefined, stopped: false, lastError: '' };
      this.#loops.set(key, loop);
      void this.#tick(loop);
    }
  }

  /** The current view: healthy, unhealthy or undefined (no result yet). */
  state(key: string): boolean | undefined {
    return this.#loops.get(key)?.healthy;
  }

  async #tick(loop: Loop): Promise<void> {
    if (loop.stopped) return;
    const t0 = performance.now();
    const r = await runCheck(loop.target);
    if (loop.stopped) return;
    this.#opts.onResult?.(loop.target.key, r, performance.now() - t0);
    const { rise, fall } = loop.target.spec;
    if (loop.healthy === undefined) {
      loop.healthy = r.ok;
      loop.streak = 0;
      loop.lastError = r.ok ? '' : r.error;
      this.#opts.onChange(loop.target.key, r.ok, loop.lastError);
    } else if (r.ok === loop.healthy) {
      loop.streak = 0;
      if (!r.ok && r.error !== loop.lastError) {
        loop.lastError = r.error;
        this.#opts.onChange(loop.target.key, false, r.error);
      }
    } else if (++loop.streak >= (r.ok ? rise : fall)) {
      loop.healthy = r.ok;
      loop.streak = 0;
      loop.lastError = r.ok ? '' : r.error;
      this.#opts.onChange(loop.target.key, r.ok, loop.lastError);
    }
    loop.timer = setTimeout(() => void this.#tick(loop), Math.max(0, loop.target.spec.intervalMs - (performance.now() - t0)));
  }

  close(): void {
    for (const loop of this.#loops.values()) {
      loop.stopped = true;
      clearTimeout(loop.timer);
    }
    this.#loops.clear();
  }
}
