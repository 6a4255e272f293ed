/**
 * Per-key read counts shared through Redis: clients and proxies that see etcd reads add them to
 * one sorted set per time bucket (`ncc:heat:<bucket start ms>`, member = the etcd key, score =
 * reads), every scheduler reads the sum of the last buckets. Buckets expire on their own.
 *
 *   const reporter = new HeatReporter(new Redis(url));
 *   reporter.record('/registry/leases/n1'); // counted in memory
 *   await reporter.flush(); // one pipeline of ZINCRBY + PEXPIRE (also every flushMs)
 *   await readHeat(redis, { now: Date.now(), bucketMs: 10_000, buckets: 6, limit: 1000 });
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@netaccel/errors';
import { silentLogger } from '@netaccel/errors';
import { NA_ERR_CRAQCLIENT_OPTIONS_INVALID } from './errors.js';

/** The Redis key prefix of every NetCRAQ key. */
export const HEAT_PREFIX = 'ncc:heat:';

/** The sorted set of the bucket that holds `now`. */
export function heatBucketKey(now: number, bucketMs: number): string {
  return `${HEAT_PREFIX}${Math.floor(now / bucketMs) * bucketMs}`;
}

export interface HeatReporterOptions {
  /** Width of one bucket, ms. Default 10 s. */
  readonly bucketMs?: number;
  /** How long a bucket lives in Redis, ms. Default 10 min. */
  readonly retainMs?: number;
  /** Flush every this many ms; 0: only on flush(). Default 1 s. */
  readonly flushMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

export class HeatReporter {
  readonly #redis: Redis;
  readonly #bucketMs: number;
  readonly #retainMs: number;
  readonly #now: () => number;
  readonly #log: Logger;
  #counts = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, opts: HeatReporterOptions = {}) {
    this.#redis = redis;
    this.#bucketMs = positive('bucketMs', opts.bucketMs ?? 10_000);
    this.#retainMs = positive('retainMs', opts.retainMs ?? 600_000);
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log ?? silentLogger;
    const flushMs = opts.flushMs ?? 1000;
    if (flushMs > 0) {
      this.#timer = setInterval(() => void this.flush().catch((err: unknown) => this.#log.warn({ err }, 'heat report to Redis failed: counts kept for the next flush')), flushMs);
      this.#timer.unref();
    }
  }

  /** Counts `n` reads of `key` (sent at the next flush). */
  record(key: string, n = 1): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + n);
  }

  /** Reads of `key` not yet sent. */
  pending(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Sends the counts so far; on failure they stay for the next flush. */
  async flush(): Promise<number> {
    if (this.#counts.size === 0) return 0;
    const counts = this.#counts;
    this.#counts = new Map();
    const bucket = heatBucketKey(this.#now(), this.#bucketMs);
    const p = this.#redis.pipeline();
    for (const [key, n] of counts) p.zincrby(bucket, n, key);
    p.pexpire(bucket, this.#retainMs);
    try {
      const results = (await p.exec()) ?? [];
      const failed = results.find(([err]) => err !== null);
      if (failed !== undefined) throw failed[0];
    } catch (err) {
      for (const [key, n] of counts) this.record(key, n);
      throw err;
    }
    return counts.size;
  }

  /** Stops the timer and flushes once (errors are logged). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush().catch((err: unknown) => this.#log.warn({ err }, 'last heat report to Redis failed'));
  }
}

export interface ReadHeatOptions {
  readonly now: number;
  readonly bucketMs: number;
  /** How many buckets (the current one included) make the window. */
  readonly buckets: number;
  /** The hottest this many keys. */
  readonly limit: number;
}

/** The hottest keys over the window: [key, reads] hottest first. */
export async function readHeat(redis: Redis, o: ReadHeatOptions): Promise<[string, number][]> {
  const keys: string[] = [];
  for (let i = 0; i < o.buckets; i++) keys.push(heatBucketKey(o.now - i * o.bucketMs, o.bucketMs));
  const tmp = `${HEAT_PREFIX}window:${process.pid}:${Math.random().toString(36).slice(2)}`;
  const res = await redis
    .multi()
    .zunionstore(tmp, keys.length, ...keys)
    .zrange(tmp, 0, o.limit - 1, 'REV', 'WITHSCORES')
    .del(tmp)
    .exec();
  const range = res?.[1];
  if (range === undefined) return [];
  if (range[0] !== null) throw range[0];
  const flat = range[1] as string[];
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

function positive(field: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw NA_ERR_CRAQCLIENT_OPTIONS_INVALID(field, `expected a positive number of ms, got ${String(v)}`);
  return v;
}
