/** A fake clock for deterministic tests of the FSM and BFD: time moves only with `advance()`. */
import type { Clock, TimerHandle } from '../timers.js';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private t = 0;
  private nextId = 1;
  private pending: Pending[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.t + Math.max(0, ms), fn });
    return { id };
  }

  /** Pending input is delivered synchronously in tests, so nothing is waiting: run at once. */
  afterPendingInput(fn: () => void): void {
    fn();
  }

  clearTimeout(h: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== h.id);
  }

  /** Timers armed. */
  get armed(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let first: Pending | undefined;
      for (const p of this.pending) if (p.at <= end && (first === undefined || p.at < first.at || (p.at === first.at && p.id < first.id))) first = p;
      if (first === undefined) break;
      this.pending = this.pending.filter((p) => p !== first);
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
}
