/**
 * The repository's one seeded pseudo-random generator, mulberry32 (Tommy Ettinger's 32-bit
 * generator: one 32-bit state word, a Weyl step and an avalanche): reproducible decisions in
 * tests, fuzzers, fault injection, benchmarks and jitter. Not for anything secret.
 *
 *   const rand = seededRandom(7);   // () => [0, 1), the same sequence for the same seed
 *   const rng = new Rng(7);         // the same sequence, with int / pick / bytes on top
 */

/** A source of uniform numbers in [0, 1): Math.random, or seededRandom in tests. */
export type Random = () => number;

/** mulberry32 from `seed` (taken as an unsigned 32-bit integer): uniform numbers in [0, 1). */
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

/** seededRandom's sequence with integer, choice and byte helpers (the BGP fuzzer's input source). */
export class Rng {
  /** Uniform in [0, 1): the next number of seededRandom(seed). */
  readonly next: Random;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `n` uniform bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}
