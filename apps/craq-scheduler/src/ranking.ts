/**
 * Which keys should be in the chain: the most-read keys whose total size fits the device's
 * memory budget and key limit, with hysteresis so that keys of about equal heat do not flap.
 * A pure function of the scores, sizes and what is placed now; placer.ts carries it out.
 *
 * Hysteresis: a placed key competes with its score times (1 + hysteresis), so a candidate must be
 * hotter than it by that fraction to take its place; a key placed less than `minDwellMs` ago, and
 * a pinned key, is kept whatever its score. Keys below `minReads` are not placed (and placed ones
 * below it leave once their dwell time is over).
 */

export interface Candidate {
  readonly key: string;
  /** Reads over the ranking window. */
  readonly score: number;
  /** Bytes it takes in the data plane (key + value + overhead). */
  readonly size: number;
}

export interface PlacedInfo {
  readonly size: number;
  readonly placedAt: number;
  readonly pinned: boolean;
}

export interface RankingOptions {
  readonly budget: number;
  readonly maxKeys: number;
  readonly hysteresis: number;
  readonly minDwellMs: number;
  readonly minReads: number;
  readonly now: number;
}

export interface RankingDecision {
  /** Keys to place, hottest first. */
  readonly place: readonly string[];
  /** Keys to evict, coldest first. */
  readonly evict: readonly string[];
  /** Bytes the chosen set takes. */
  readonly used: number;
}

interface Entry {
  readonly key: string;
  readonly size: number;
  readonly score: number;
  readonly rank: number;
  readonly placed: boolean;
}

export function rankPlacement(candidates: readonly Candidate[], placed: ReadonlyMap<string, PlacedInfo>, o: RankingOptions): RankingDecision {
  const scores = new Map<string, Candidate>();
  for (const c of candidates) scores.set(c.key, c);
  const entries: Entry[] = [];
  for (const [key, p] of placed) {
    const score = scores.get(key)?.score ?? 0;
    const keep = p.pinned || o.now - p.placedAt < o.minDwellMs;
    const rank = keep ? Number.POSITIVE_INFINITY : score < o.minReads ? -1 : score * (1 + o.hysteresis);
    entries.push({ key, size: p.size, score, rank, placed: true });
  }
  for (const c of candidates) {
    if (placed.has(c.key) || c.score < o.minReads || c.score <= 0) continue;
    entries.push({ key: c.key, size: c.size, score: c.score, rank: c.score, placed: false });
  }
  // hottest first; equal ranks: placed keys first (no churn), then by key for determinism
  entries.sort((a, b) => b.rank - a.rank || Number(b.placed) - Number(a.placed) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const chosen = new Set<string>();
  let used = 0;
  for (const e of entries) {
    if (e.rank < 0) continue;
    if (chosen.size >= o.maxKeys) break;
    const forced = e.rank === Number.POSITIVE_INFINITY;
    if (!forced && used + e.size > o.budget) continue; // a smaller, colder key may still fit
    chosen.add(e.key);
    used += e.size;
  }
  const place = entries.filter((e) => !e.placed && chosen.has(e.key)).map((e) => e.key);
  const evict = entries.filter((e) => e.placed && !chosen.has(e.key)).map((e) => e.key).reverse();
  return { place, evict, used };
}
