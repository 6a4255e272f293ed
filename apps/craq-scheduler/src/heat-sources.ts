/**
 * Where heat comes from: (a) the chain nodes' per-key counters (NodeDataPlane.counters: the BPF
 * maps of bpf/craq through the loader, or the reference node), turned into reads per window; (b)
 * etcd's Prometheus endpoint, the cluster's overall read and write rates
 * (`etcd_mvcc_range_total`, `etcd_mvcc_put_total` + `etcd_mvcc_delete_total`); (c) per-key reads
 * reported by clients and proxies into Redis sorted sets (@netaccel/craq `readHeat`), shared by
 * every scheduler and node.
 */
import type { Redis } from 'ioredis';
import type { NodeDataPlane } from '@netaccel/craq';
import { NA_ERR_CRAQD_HEAT_SOURCE } from './errors.js';

/** Sums of the named counters over all their label sets in a Prometheus text exposition. */
export function promCounters(text: string, names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || !out.has(m[1]!)) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out.set(m[1]!, out.get(m[1]!)! + v);
  }
  return out;
}

export interface EtcdRates {
  readonly readsPerSecond: number;
  readonly writesPerSecond: number;
}

/** Rates between consecutive scrapes of etcd's /metrics. */
export class EtcdMetrics {
  #last: { at: number; reads: number; writes: number } | undefined;
  rates: EtcdRates = { readsPerSecond: 0, writesPerSecond: 0 };

  constructor(private readonly url: string, private readonly timeoutMs: number) {}

  async sample(now = Date.now()): Promise<EtcdRates> {
    let text: string;
    try {
      const r = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      text = await r.text();
    } catch (err) {
      throw NA_ERR_CRAQD_HEAT_SOURCE.with({ cause: err }, `etcd metrics ${this.url}`, (err as Error).message);
    }
    const c = promCounters(text, ['etcd_mvcc_range_total', 'etcd_mvcc_put_total', 'etcd_mvcc_delete_total']);
    const reads = c.get('etcd_mvcc_range_total')!;
    const writes = c.get('etcd_mvcc_put_total')! + c.get('etcd_mvcc_delete_total')!;
    const last = this.#last;
    this.#last = { at: now, reads, writes };
    if (last !== undefined && now > last.at) {
      const s = (now - last.at) / 1000;
      this.rates = { readsPerSecond: Math.max(0, reads - last.reads) / s, writesPerSecond: Math.max(0, writes - last.writes) / s };
    }
    return this.rates;
  }
}

interface Sample {
  readonly at: number;
  readonly reads: Map<bigint, number>;
  readonly writes: Map<bigint, number>;
}

/**
 * The data plane's per-key counters as reads and writes over a sliding window: each sample is
 * the increase since the previous one, summed over the chain's nodes (a counter that went back,
 * as after a re-install, counts from 0).
 */
export class DataPlaneHeat {
  readonly #last = new Map<string, Map<bigint, { reads: bigint; writes: bigint }>>();
  readonly #samples: Sample[] = [];

  constructor(private readonly windowMs: number) {}

  async sample(nodes: readonly NodeDataPlane[], now = Date.now()): Promise<void> {
    const reads = new Map<bigint, number>();
    const writes = new Map<bigint, number>();
    for (const n of nodes) {
      const prev = this.#last.get(n.name) ?? new Map<bigint, { reads: bigint; writes: bigint }>();
      const cur = new Map<bigint, { reads: bigint; writes: bigint }>();
      for (const c of await n.counters()) {
        cur.set(c.keyId, { reads: c.reads, writes: c.writes });
        const p = prev.get(c.keyId);
        const dr = p === undefined || c.reads < p.reads ? c.reads : c.reads - p.reads;
        const dw = p === undefined || c.writes < p.writes ? c.writes : c.writes - p.writes;
        reads.set(c.keyId, (reads.get(c.keyId) ?? 0) + Number(dr));
        if (n === nodes[0]) writes.set(c.keyId, (writes.get(c.keyId) ?? 0) + Number(dw)); // the head sees every write once
      }
      this.#last.set(n.name, cur);
    }
    this.#samples.push({ at: now, reads, writes });
    while (this.#samples.length > 0 && this.#samples[0]!.at <= now - this.windowMs) this.#samples.shift();
  }

  /** Reads (or writes) of a key id over the window. */
  sum(keyId: bigint, what: 'reads' | 'writes' = 'reads'): number {
    let n = 0;
    for (const s of this.#samples) n += s[what].get(keyId) ?? 0;
    return n;
  }
}

/**
 * Cumulative per-key counts kept by others in Redis sorted sets (sidecar-offload adds every etcd
 * Range it proxies to `netaccel:craq:heat:reads`): the hottest `limit` members of each set are
 * read every round and their increases summed over the window. The first round only takes the
 * baseline (what was counted before this scheduler started is not heat now); a key that enters
 * the top `limit` later counts from 0.
 */
export class CumulativeHeat {
  #last: Map<string, number> | undefined;
  readonly #samples: { at: number; reads: Map<string, number> }[] = [];

  constructor(private readonly windowMs: number) {}

  async sample(redis: Redis, sets: readonly string[], limit: number, now = Date.now()): Promise<void> {
    const cur = new Map<string, number>();
    for (const set of sets) {
      const flat = await redis.zrange(set, 0, limit - 1, 'REV', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2) cur.set(flat[i]!, (cur.get(flat[i]!) ?? 0) + Number(flat[i + 1]));
    }
    const last = this.#last;
    this.#last = cur;
    if (last === undefined) return;
    const reads = new Map<string, number>();
    for (const [k, n] of cur) {
      const d = n - (last.get(k) ?? 0);
      if (d > 0) reads.set(k, d);
    }
    this.#samples.push({ at: now, reads });
    while (this.#samples.length > 0 && this.#samples[0]!.at <= now - this.windowMs) this.#samples.shift();
  }

  /** Keys with increases in the window. */
  keys(): Set<string> {
    const out = new Set<string>();
    for (const s of this.#samples) for (const k of s.reads.keys()) out.add(k);
    return out;
  }

  sum(key: string): number {
    let n = 0;
    for (const s of this.#samples) n += s.reads.get(key) ?? 0;
    return n;
  }
}
