/**
 * Maglev consistent hashing (Eisenbud et al., NSDI'16, §3.4), weighted.
 *
 * Each backend has a permutation of the table's positions, `offset + j·skip (mod M)`, with
 * offset and skip from two hashes of its name (jhash with two seeds over the UTF-8 bytes), M a
 * prime so that every skip in 1..M-1 visits every position. The fill loop gives the backends
 * turns; on its turn a backend takes the next position of its permutation that is still free.
 *
 * Weights: turns are proportional to weight. Each backend keeps an integer credit; every round
 * adds its weight, and it takes one turn per `maxWeight` of credit (Katran's and Envoy's weighted
 * variants do the same in floating point). Equal weights are exactly the paper's round-robin,
 * so the counts of any two backends differ by at most one entry; unequal weights are followed to
 * within about one entry each.
 *
 * Deterministic: the table depends on the set of (name, weight) only, never on input order
 * (backends are sorted by name first), so every balancer of a cluster computes the same table
 * and ECMP may send a flow's packets to any of them.
 */
import { jhash } from '@netaccel/protocol';

/** Default table size: the paper's and Katran's prime. */
export const MAGLEV_DEFAULT_SIZE = 65537;
/** Seeds of the two hashes of a backend's name (offset and skip). */
export const MAGLEV_SEEDS = Object.freeze({ offset: 0x6d61676c, skip: 0x65763031 });
/** Largest weight a backend may have. */
export const MAGLEV_MAX_WEIGHT = 65535;

export interface MaglevBackend {
  /** Stable identity of the backend ("10.0.1.5:8080"); the permutation follows from it. */
  readonly name: string;
  /** Relative weight 0..65535; 0 takes no entries. */
  readonly weight: number;
}

export interface MaglevTable {
  /** Entry per position: an index into `backends`, or MAGLEV_EMPTY when no backend has weight. */
  readonly entries: Uint32Array;
  /** The backends in the order `entries` refers to them (sorted by name). */
  readonly backends: readonly MaglevBackend[];
  /** Entries per backend, by index into `backends`. */
  readonly counts: Uint32Array;
}

/** Entry value of a table without backends. */
export const MAGLEV_EMPTY = 0xffffffff;

/** True when n is prime (trial division; table sizes are at most a few million). */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

const encoder = new TextEncoder();

/** Offset and skip of a backend's permutation in a table of size m. */
export function permutationOf(name: string, m: number): { offset: number; skip: number } {
  const bytes = encoder.encode(name);
  const offset = jhash(bytes, MAGLEV_SEEDS.offset) % m;
  const skip = m === 1 ? 1 : (jhash(bytes, MAGLEV_SEEDS.skip) % (m - 1)) + 1;
  return { offset, skip };
}

function checkInput(backends: readonly MaglevBackend[], m: number): MaglevBackend[] {
  if (!isPrime(m)) throw new RangeError(`tableSize: expected a prime, got ${m}`);
  const sorted = [...backends].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const b = sorted[i]!;
    if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAGLEV_MAX_WEIGHT) {
      throw new RangeError(`backends[${JSON.stringify(b.name)}].weight: expected an integer 0..${MAGLEV_MAX_WEIGHT}, got ${b.weight}`);
    }
    if (i > 0 && sorted[i - 1]!.name === b.name) throw new RangeError(`backends: ${JSON.stringify(b.name)} is given twice`);
  }
  return sorted;
}

/**
 * Builds the lookup table of size `m` (a prime) for `backends`. Backends of weight 0 take no
 * entries; with no weight at all every entry is MAGLEV_EMPTY.
 */
export function buildMaglevTable(backends: readonly MaglevBackend[], m: number = MAGLEV_DEFAULT_SIZE): MaglevTable {
  const sorted = checkInput(backends, m);
  const n = sorted.length;
  const entries = new Uint32Array(m).fill(MAGLEV_EMPTY);
  const counts = new Uint32Array(n);
  const active: number[] = [];
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const w = sorted[i]!.weight;
    if (w > 0) active.push(i);
    if (w > maxWeight) maxWeight = w;
  }
  if (active.length === 0) return { entries, backends: sorted, counts };

  const k = active.length;
  const pos = new Int32Array(k); // next position of each active backend's permutation
  const skip = new Int32Array(k);
  const weight = new Int32Array(k);
  const credit = new Int32Array(k);
  const owner = new Uint32Array(k);
  for (let j = 0; j < k; j++) {
    const b = sorted[active[j]!]!;
    const p = permutationOf(b.name, m);
    pos[j] = p.offset;
    skip[j] = p.skip;
    weight[j] = b.weight;
    owner[j] = active[j]!;
  }
  const empty = MAGLEV_EMPTY;
  let filled = 0;
  for (;;) {
    for (let j = 0; j < k; j++) {
      let c = credit[j]! + weight[j]!;
      if (c < maxWeight) {
        credit[j] = c;
        continue;
      }
      let p = pos[j]!;
      const s = skip[j]!;
      const b = owner[j]!;
      do {
        c -= maxWeight;
        // the next free position of backend j's permutation
        while (entries[p] !== empty) {
          p += s;
          if (p >= m) p -= m;
        }
        entries[p] = b;
        counts[b]!++;
        p += s;
        if (p >= m) p -= m;
        if (++filled === m) return { entries, backends: sorted, counts };
      } while (c >= maxWeight);
      credit[j] = c;
      pos[j] = p;
    }
  }
}

/** Positions where two tables of the same size differ. */
export function diffTables(before: Uint32Array, after: Uint32Array): Uint32Array {
  if (before.length !== after.length) throw new RangeError(`table: sizes differ (${before.length} and ${after.length})`);
  const out: number[] = [];
  for (let i = 0; i < after.length; i++) if (before[i] !== after[i]) out.push(i);
  return Uint32Array.from(out);
}

/**
 * Maps a table of indexes into `table.backends` to other numbers (the data plane's backend
 * indexes); MAGLEV_EMPTY becomes `empty`.
 */
export function mapTable(table: MaglevTable, indexOf: (b: MaglevBackend) => number, empty: number): Uint32Array {
  const lookup = table.backends.map(indexOf);
  const out = new Uint32Array(table.entries.length);
  for (let i = 0; i < out.length; i++) {
    const e = table.entries[i]!;
    out[i] = e === MAGLEV_EMPTY ? empty : lookup[e]!;
  }
  return out;
}
