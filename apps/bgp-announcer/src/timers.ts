/**
 * Time for the FSM and BFD: a `Clock` (the real one, or a fake one in tests so that every
 * transition is deterministic), one-shot `Timer`s that restart cleanly, and the jitter of
 * RFC 4271 §10 (ConnectRetryTimer and KeepaliveTimer times 0.75..1.0), drawn from a `Random`
 * (Math.random, or @netaccel/protocol's seededRandom in tests and benchmarks).
 */
import type { Random } from '@netaccel/protocol';

export type { Random } from '@netaccel/protocol';

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /**
   * Runs `fn` once the input that is already waiting has been handled. Node runs due timers
   * before it polls sockets, so after the event loop was blocked a timer can fire while the
   * messages that would have restarted it sit unread; deferring with setImmediate lets them in.
   */
  afterPendingInput(fn: () => void): void;
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
    afterPendingInput(fn) {
      setImmediate(fn);
    },
  };
}

/** RFC 4271 §10: a timer value times a random factor uniformly distributed in 0.75..1.0. */
export function jitter(ms: number, random: Random): number {
  return Math.round(ms * (0.75 + 0.25 * random()));
}

/** A named one-shot timer that can be (re)started and stopped; `running` tells whether it is armed. */
export class Timer {
  private handle: TimerHandle | undefined;
  private deadline = 0;
  /** Bumped by every start and stop, so a deferred expiry knows whether it still stands. */
  private generation = 0;

  /**
   * With `drainInput`, an expiry is confirmed only after the input already waiting has been
   * handled (`Clock.afterPendingInput`): a liveness timer (BGP HoldTimer, BFD detection time)
   * must not declare a peer dead for messages that arrived while the process was busy.
   */
  constructor(
    private readonly clock: Clock,
    private readonly onExpire: () => void,
    private readonly opts: { drainInput?: boolean } = {},
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
    const generation = this.generation;
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      if (!this.opts.drainInput) {
        this.onExpire();
        return;
      }
      this.clock.afterPendingInput(() => {
        if (this.generation === generation) this.onExpire();
      });
    }, ms);
  }

  stop(): void {
    this.generation++;
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
