/**
 * One ranking round: heat from the three sources, scores per key, the ranking decision
 * (ranking.ts), then evictions (room first) and placements (placer.ts). Rounds never overlap; a
 * heat source that fails is logged and counted and the round goes on with the others.
 */
import type { Redis } from 'ioredis';
import { readHeat } from '@netaccel/craq';
import { craq } from '@netaccel/protocol';
import type { Etcd3 } from 'etcd3';
import type { Logger } from '@netaccel/telemetry';
import type { ChainManager } from './chain-manager.js';
import type { CraqSchedulerConfig } from './config.js';
import { CumulativeHeat, DataPlaneHeat, EtcdMetrics } from './heat-sources.js';
import type { EtcdRates } from './heat-sources.js';
import type { Placer } from './placer.js';
import { rankPlacement } from './ranking.js';
import type { Candidate, PlacedInfo } from './ranking.js';

export interface KeyHeat {
  readonly key: string;
  readonly reported: number;
  readonly dataPlaneReads: number;
  readonly dataPlaneWrites: number;
  readonly score: number;
  readonly size: number | undefined;
}

export interface RoundResult {
  readonly placed: string[];
  readonly evicted: string[];
  readonly failed: string[];
}

export interface SchedulerOptions {
  readonly config: CraqSchedulerConfig;
  readonly etcd: Etcd3;
  readonly redis: Redis | undefined;
  readonly chain: ChainManager;
  readonly placer: Placer;
  readonly log: Logger;
  readonly now?: () => number;
  readonly onSourceError?: (source: string) => void;
  /** Whether the timer's rounds run now (membership.via: paxos: only the active scheduler places). */
  readonly active?: () => boolean;
}

export class Scheduler {
  #o: SchedulerOptions;
  readonly #dp: DataPlaneHeat;
  readonly #cumulative: CumulativeHeat;
  readonly #etcdMetrics: EtcdMetrics | undefined;
  /** Value sizes of candidates not placed (bytes), from etcd. */
  readonly #sizes = new Map<string, number | null>();
  #heat = new Map<string, KeyHeat>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RoundResult> | undefined;
  rounds = 0;

  constructor(o: SchedulerOptions) {
    this.#o = o;
    const c = o.config;
    this.#dp = new DataPlaneHeat(c.redis.bucket * c.redis.buckets);
    this.#cumulative = new CumulativeHeat(c.redis.bucket * c.redis.buckets);
    this.#etcdMetrics = c.etcd.metricsUrl === '' ? undefined : new EtcdMetrics(c.etcd.metricsUrl, c.etcd.timeout);
  }

  /** A reloaded configuration: the placement and heat settings of the next round. */
  setConfig(next: CraqSchedulerConfig): void {
    this.#o = { ...this.#o, config: next };
  }

  get etcdRates(): EtcdRates {
    return this.#etcdMetrics?.rates ?? { readsPerSecond: 0, writesPerSecond: 0 };
  }

  /** The last round's heat, hottest first. */
  heat(): KeyHeat[] {
    return [...this.#heat.values()].sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1));
  }

  heatOf(key: string): KeyHeat | undefined {
    return this.#heat.get(key);
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => {
      if (this.#o.active?.() === false) return;
      void this.round().catch((err: unknown) => this.#o.log.error({ err }, 'placement round failed'));
    }, this.#o.config.placement.interval);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round now (a round in progress is joined). */
  round(): Promise<RoundResult> {
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #eligible(key: string): boolean {
    return this.#o.config.etcd.prefixes.some((p) => key.startsWith(p));
  }

  async #round(): Promise<RoundResult> {
    const c = this.#o.config;
    const now = (this.#o.now ?? Date.now)();
    const reported = new Map<string, number>();
    if (this.#o.redis !== undefined) {
      try {
        for (const [k, n] of await readHeat(this.#o.redis, { now, bucketMs: c.redis.bucket, buckets: c.redis.buckets, limit: c.placement.candidates })) {
          if (this.#eligible(k)) reported.set(k, n);
        }
      } catch (err) {
        this.#sourceError('redis', err);
      }
      if (c.redis.counterSets.length > 0) {
        try {
          await this.#cumulative.sample(this.#o.redis, c.redis.counterSets, c.placement.candidates, now);
          for (const k of this.#cumulative.keys()) if (this.#eligible(k)) reported.set(k, (reported.get(k) ?? 0) + this.#cumulative.sum(k));
        } catch (err) {
          this.#sourceError('redis-counters', err);
        }
      }
    }
    try {
      await this.#dp.sample(this.#o.chain.members(), now);
    } catch (err) {
      this.#sourceError('data-plane', err);
    }
    if (this.#etcdMetrics !== undefined) await this.#etcdMetrics.sample(now).catch((err: unknown) => this.#sourceError('etcd-metrics', err));

    const heat = new Map<string, KeyHeat>();
    const candidates: Candidate[] = [];
    const keys = new Set([...reported.keys(), ...this.#o.placer.entries.keys()]);
    for (const key of keys) {
      const placed = this.#o.placer.entries.get(key);
      const keyId = placed?.keyId ?? craq.craqKeyId(key);
      const dataPlaneReads = this.#dp.sum(keyId);
      const r = reported.get(key) ?? 0;
      const score = r + dataPlaneReads;
      let size = placed?.size;
      if (size === undefined && score >= c.placement.minReads && score > 0) size = await this.#sizeOf(key);
      heat.set(key, { key, reported: r, dataPlaneReads, dataPlaneWrites: this.#dp.sum(keyId, 'writes'), score, size });
      if (size !== undefined) candidates.push({ key, score, size });
    }
    this.#heat = heat;

    const placedInfo = new Map<string, PlacedInfo>();
    for (const [k, e] of this.#o.placer.entries) placedInfo.set(k, { size: e.size, placedAt: e.placedAt, pinned: e.pinned });
    const d = rankPlacement(candidates, placedInfo, {
      budget: c.placement.budget,
      maxKeys: c.placement.maxKeys,
      hysteresis: c.placement.hysteresis,
      minDwellMs: c.placement.minDwell,
      minReads: c.placement.minReads,
      now,
    });
    const out: RoundResult = { placed: [], evicted: [], failed: [] };
    for (const k of d.evict) {
      try {
        if (await this.#o.placer.evict(k)) out.evicted.push(k);
      } catch (err) {
        out.failed.push(k);
        this.#o.log.warn({ err, key: k }, 'eviction failed: the key stays placed');
      }
    }
    for (const k of d.place) {
      try {
        await this.#o.placer.place(k);
        out.placed.push(k);
      } catch (err) {
        out.failed.push(k);
        this.#sizes.delete(k);
        this.#o.log.warn({ err, key: k }, 'placement failed');
      }
    }
    this.rounds++;
    if (out.placed.length + out.evicted.length > 0) this.#o.log.info({ placed: out.placed.length, evicted: out.evicted.length, used: this.#o.placer.usedBytes() }, 'placement round');
    return out;
  }

  /** Size of a candidate from etcd (cached; undefined when it cannot be placed). */
  async #sizeOf(key: string): Promise<number | undefined> {
    if (!this.#sizes.has(key)) {
      try {
        const v = await this.#o.etcd.get(key).buffer();
        this.#sizes.set(key, v !== null && v.length > craq.CRAQ_MAX_VALUE ? null : this.#o.placer.sizeOf(key, v?.length ?? 0));
      } catch (err) {
        this.#sourceError('etcd', err);
        return undefined;
      }
      if (this.#sizes.size > 4 * this.#o.config.placement.candidates) this.#sizes.delete(this.#sizes.keys().next().value!);
    }
    return this.#sizes.get(key) ?? undefined;
  }

  #sourceError(source: string, err: unknown): void {
    this.#o.onSourceError?.(source);
    this.#o.log.warn({ err, source }, 'heat source failed: this round goes on without it');
  }
}
