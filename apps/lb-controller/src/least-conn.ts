/**
 * Least connection for new flows (IPVS `lc` / `wlc`), done in the control plane: every
 * `intervalMs` the controller counts the live flows per backend in the data plane's connection
 * table (entries not expired and not closing) and re-weights the VIP's Maglev table so that new
 * flows go preferably to the backends with the fewest flows per unit of weight.
 *
 *   load_i = active_i / w_i,  L = Σ active / Σ w
 *   w'_i   = w_i · clamp((L + c) / (load_i + c), 1/skew, skew),   c = max(1, L / 10) smoothing
 *
 * The result is scaled to integers (the largest 1000) and only applied when some weight moved by
 * more than `hysteresis` (default 10%), so steady traffic does not rebuild tables. Existing flows
 * never move: the connection table pins them; only the split of new flows changes.
 *
 * Per-packet cost: none — the data plane runs the same Maglev lookup; the cost is the periodic
 * connection-table read and a table rebuild (measured by the benchmark and exported as metrics).
 * Backends per VIP are bounded by the table's resolution, tableSize / 100 (655 at 65537), the
 * same bound that keeps Maglev within 1% (desired-state.ts refuses more).
 */

export interface LcBackend {
  readonly key: string;
  /** The configured weight (> 0). */
  readonly weight: number;
  /** Live flows in the connection table. */
  readonly active: number;
}

export interface LcOptions {
  /** Largest factor a backend's weight is raised or lowered by. */
  readonly skew?: number;
  /** Relative change of any weight below which the previous weights stay. */
  readonly hysteresis?: number;
}

export const LC_DEFAULTS = Object.freeze({
  intervalMs: 1000, // 1 s between connection-table reads
  skew: 8,
  hysteresis: 0.1, // 10 %
  scale: 1000, // largest effective weight
});

/** Effective weights for one VIP's backends (weight-0 backends are left out). */
export function leastConnWeights(backends: readonly LcBackend[], opts: LcOptions = {}): Map<string, number> {
  const skew = opts.skew ?? LC_DEFAULTS.skew;
  const live = backends.filter((b) => b.weight > 0);
  const out = new Map<string, number>();
  if (live.length === 0) return out;
  const totalW = live.reduce((s, b) => s + b.weight, 0);
  const totalA = live.reduce((s, b) => s + b.active, 0);
  const mean = totalA / totalW;
  const c = Math.max(1, mean / 10);
  const raw = live.map((b) => {
    const f = (mean + c) / (b.active / b.weight + c);
    return b.weight * Math.min(skew, Math.max(1 / skew, f));
  });
  const max = Math.max(...raw);
  live.forEach((b, i) => out.set(b.key, Math.max(1, Math.round((raw[i]! / max) * LC_DEFAULTS.scale))));
  return out;
}

/** True when `next` differs from `prev` by more than `hysteresis` for some backend (or in keys). */
export function weightsMoved(prev: ReadonlyMap<string, number> | undefined, next: ReadonlyMap<string, number>, hysteresis = LC_DEFAULTS.hysteresis): boolean {
  if (!prev || prev.size !== next.size) return true;
  for (const [k, v] of next) {
    const p = prev.get(k);
    if (p === undefined || Math.abs(v - p) / p > hysteresis) return true;
  }
  return false;
}
