/**
 * A token bucket: `rate` tokens per second up to `burst`; rate 0 means no limit. Used to pace
 * UPDATE messages per peer.
 */
import type { Clock } from './timers.js';

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly clock: Clock,
    readonly rate: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  get unlimited(): boolean {
    return this.rate <= 0;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
  }

  /** Takes one token if there is one. */
  take(): boolean {
    if (this.unlimited) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token. */
  waitMs(): number {
    if (this.unlimited) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}
