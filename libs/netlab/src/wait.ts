/**
 * Waiting: `waitFor` polls a condition until it holds or a deadline passes (then a typed error
 * says what was awaited and the last error or value), and sleeps for async and sync code.
 */
import { errorMessage } from '@netaccel/errors';
import { describe } from './check.js';
import { NA_ERR_NETLAB_WAIT_TIMEOUT } from './errors.js';

export interface WaitForOptions {
  /** Give up after this long. Default 5 s. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 50 ms. */
  readonly intervalMs?: number;
  /** What is awaited, for the error message ("route 10.9.0.0/24 in router"); a function is asked at the end. */
  readonly what?: string | (() => string);
}

export const WAIT_DEFAULTS = Object.freeze({
  timeoutMs: 5_000, // 5 s
  intervalMs: 50, // 50 ms
});

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `p`'s value, or undefined when it takes longer than `ms`; the timer never outlives the call. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread; only for signal and exit handlers, where the event loop no longer runs. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Calls `fn` until it returns a truthy value (which is returned) or the timeout passes. A throw
 * counts as "not yet"; the last error becomes the cause of NA_ERR_NETLAB_WAIT_TIMEOUT.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? WAIT_DEFAULTS.timeoutMs;
  const intervalMs = opts.intervalMs ?? WAIT_DEFAULTS.intervalMs;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  let failed = false;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      lastValue = value;
      failed = false;
    } catch (err) {
      lastError = err;
      failed = true;
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  const what = (typeof opts.what === 'function' ? opts.what() : opts.what) ?? 'a condition';
  const last = failed ? `; last error: ${errorMessage(lastError)}` : `; last value: ${describe(lastValue)}`;
  throw NA_ERR_NETLAB_WAIT_TIMEOUT.with({ cause: failed ? lastError : undefined, details: { what, timeoutMs } }, timeoutMs, what, last);
}
