/**
 * A Zipf sampler over ranks 0..n-1 (rank r drawn with probability ∝ 1/(r+1)^s): the cumulative
 * distribution once, then a binary search per draw. The workload's key popularity (s ≈ 0.99, the
 * skew of YCSB and of the NetCache/NetChain evaluations).
 */
export function zipfSampler(n: number, s: number, rand: () => number): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: expected n ≥ 1, got ${n}`);
  if (!(s >= 0)) throw new RangeError(`zipf: expected s ≥ 0, got ${s}`);
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cdf[r] = sum += 1 / (r + 1) ** s;
  for (let r = 0; r < n; r++) cdf[r]! /= sum;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** The share of draws the `k` most popular ranks get (what placing them can serve). */
export function zipfHeadShare(n: number, s: number, k: number): number {
  let head = 0;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const w = 1 / (r + 1) ** s;
    sum += w;
    if (r < k) head += w;
  }
  return head / sum;
}
