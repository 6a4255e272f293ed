/**
 * The reconciler's VIP and backend indexes: handed out lowest first, returned at the back, so
 * that an index (and the stats row and connection-table entries that name it) is reused as late
 * as possible.
 */
import { NA_ERR_LB_CAPACITY } from './errors.js';

/** Indexes handed out lowest first, returned at the back (reused as late as possible). */
export class IndexPool {
  readonly #free: number[];
  /** Indexes handed out at least once (their stats rows may hold counts). */
  readonly #used = new Set<number>();
  constructor(from: number, to: number, taken: ReadonlySet<number> = new Set()) {
    this.#free = [];
    for (let i = from; i < to; i++) if (!taken.has(i)) this.#free.push(i);
    for (const i of taken) if (i >= from && i < to) this.#free.push(i);
  }
  get available(): number {
    return this.#free.length;
  }
  take(): number {
    const i = this.#free.shift();
    if (i === undefined) throw NA_ERR_LB_CAPACITY('no free index');
    return i;
  }
  /** True when the index was handed out before (by this pool or a previous controller). */
  reused(i: number): boolean {
    const was = this.#used.has(i);
    this.#used.add(i);
    return was;
  }
  markUsed(i: number): void {
    this.#used.add(i);
  }
  /** Takes a given index; false when it was not free. */
  takeExact(i: number): boolean {
    const at = this.#free.indexOf(i);
    if (at >= 0) this.#free.splice(at, 1);
    return at >= 0;
  }
  give(i: number): void {
    this.#free.push(i);
  }
}
