/**
 * Time for the FSM and BFD: a `Clock` (the real one, or a fake one in tests so that every
 * transition is deterministic), one-shot `Timer`s that restart cleanly, and the jitter of
 * RFC 4271 §10 (ConnectRetryTimer and KeepaliveTimer times 0.75..1.0).
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock: performance.now() and unref'd Node timers. */
export function realClock(): Clock {
  const handles = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      const id = next++;
      const t = setTimeout(() => {
        handles.delete(id);
        fn();
      }, Math.max(0, ms));
      t.unref();
      handles.set(id, t);
      return { id };
    },
    clearTimeout(h) {
      const t = handles.get(h.id);
      if (t !== undefined) clearTimeout(t);
      handles.delete(h.id);
    },
  };
}

/** A source of uniform numbers in [0, 1): Math.random, or a seeded one in tests. */
export type Random = () => number;

/** RFC 4271 §10: a timer value times a random factor uniformly distributed in 0.75..1.0. */
export function jitter(ms: number, random: Random): number {
  return Math.round(ms * (0.75 + 0.25 * random()));
}

/** A seeded generator (mulberry32) for reproducible jitter in tests and benchmarks. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A named one-shot timer that can be (re)started and stopped; `running` tells whether it is armed. */
export class Timer {
  private handle: TimerHandle | undefined;
  private deadline = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: () => void,
  ) {}

  get running(): boolean {
    return this.handle !== undefined;
  }

  /** Milliseconds until expiry, or undefined when stopped. */
  get remaining(): number | undefined {
    return this.handle === undefined ? undefined : Math.max(0, this.deadline - this.clock.now());
  }

  /** (Re)starts the timer; 0 or less stops it (a hold time of 0 runs no timer). */
  start(ms: number): void {
    this.stop();
    if (!(ms > 0)) return;
    this.deadline = this.clock.now() + ms;
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.onExpire();
    }, ms);
  }

  stop(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
