/**
 * etcd key access counting for the craq-scheduler. Range and Put requests that pass through the
 * sidecar (`/etcdserverpb.KV/Range`, `/etcdserverpb.KV/Put`) have their key, field 1 of the
 * request message, read from the gRPC message as it streams by (however the message is split
 * across DATA frames; only its first `maxKeyBytes` bytes are kept), and per-key counts are
 * batched into two Redis sorted sets, one ZINCRBY per key and flush:
 *
 *   netaccel:craq:heat:reads    member = the key's bytes, score += Range requests for it
 *   netaccel:craq:heat:writes   member = the key's bytes, score += Put requests for it
 *
 * A request is counted when its message has passed the sidecar towards etcd, whatever etcd
 * answers; a Range with a range_end counts its start key. Compressed messages and keys longer
 * than `maxKeyBytes` are not counted (`sidecar_etcd_keys_uncounted_total`). When Redis is down
 * the counts stay for the next flush, up to `maxPendingKeys` distinct keys per operation; keys
 * beyond that are dropped and counted.
 */
import type { Logger, Metrics } from '@netaccel/telemetry';
import { errorMessage } from '@netaccel/errors';
import type { EtcdHeatConfig } from './config.js';
import { NA_ERR_SIDECARD_HEAT_FLUSH } from './errors.js';
import type { FramedMessage } from './grpc-wire.js';
import { protobufBytesField } from './grpc-wire.js';

export const ETCD_RANGE = '/etcdserverpb.KV/Range';
export const ETCD_PUT = '/etcdserverpb.KV/Put';

export type HeatOp = 'reads' | 'writes';

/** The operation a method path counts as, if any. */
export function heatOpOf(path: string): HeatOp | undefined {
  return path === ETCD_RANGE ? 'reads' : path === ETCD_PUT ? 'writes' : undefined;
}

/** Where the counts go: ZINCRBY of each (set, member, increment), in one round trip. */
export interface HeatStore {
  zincrby(entries: readonly { set: string; member: Buffer; by: number }[]): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  readonly key: Buffer;
  n: number;
}

export class EtcdHeat {
  private pending: Record<HeatOp, Map<string, Pending>> = { reads: new Map(), writes: new Map() };
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly counted;
  private readonly uncounted;
  private readonly dropped;
  private readonly flushes;

  constructor(
    private readonly cfg: EtcdHeatConfig,
    private readonly store: HeatStore,
    metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.counted = metrics.counter({ name: 'sidecar_etcd_key_accesses_total', help: 'etcd Range (reads) and Put (writes) requests whose key was counted', labelNames: ['op'] });
    this.uncounted = metrics.counter({ name: 'sidecar_etcd_keys_uncounted_total', help: 'etcd Range/Put requests whose key was not counted, by reason', labelNames: ['reason'] });
    this.dropped = metrics.counter({ name: 'sidecar_etcd_heat_dropped_total', help: 'Key counts dropped because maxPendingKeys distinct keys were waiting for Redis', labelNames: ['op'] });
    this.flushes = metrics.counter({ name: 'sidecar_etcd_heat_flushes_total', help: 'Flushes of key counts to Redis by result', labelNames: ['result'] });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.cfg.flushInterval);
    this.timer.unref();
  }

  /** The capture length a framer needs to find keys up to maxKeyBytes: tag + 5-byte length + key. */
  get captureBytes(): number {
    return this.cfg.maxKeyBytes + 6;
  }

  /** Counts one request message of `op`. */
  message(op: HeatOp, m: FramedMessage): void {
    if (m.compressed) {
      this.uncounted.inc({ reason: 'compressed' });
      return;
    }
    const key = protobufBytesField(m.head, 1);
    if (key === undefined || key.length > this.cfg.maxKeyBytes) {
      this.uncounted.inc({ reason: m.length > m.head.length ? 'key too long' : 'no key' });
      return;
    }
    this.record(op, key);
  }

  record(op: HeatOp, key: Buffer, n = 1): void {
    const map = this.pending[op];
    const id = key.toString('latin1');
    const p = map.get(id);
    if (p !== undefined) p.n += n;
    else if (map.size < this.cfg.maxPendingKeys) map.set(id, { key: Buffer.from(key), n });
    else {
      this.dropped.inc({ op }, n);
      return;
    }
    this.counted.inc({ op }, n);
  }

  /** Distinct keys waiting for the next flush. */
  get pendingKeys(): number {
    return this.pending.reads.size + this.pending.writes.size;
  }

  /** Writes what is pending (one flush at a time); on failure the counts stay for the next one. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const batch = this.pending;
    if (batch.reads.size + batch.writes.size === 0) return;
    this.pending = { reads: new Map(), writes: new Map() };
    const entries = [
      ...[...batch.reads.values()].map((p) => ({ set: this.cfg.readsKey, member: p.key, by: p.n })),
      ...[...batch.writes.values()].map((p) => ({ set: this.cfg.writesKey, member: p.key, by: p.n })),
    ];
    try {
      await this.store.zincrby(entries);
      this.flushes.inc({ result: 'ok' });
    } catch (err) {
      this.flushes.inc({ result: 'failed' });
      // put the counts back in front of what arrived meanwhile
      for (const op of ['reads', 'writes'] as const) {
        const newer = this.pending[op];
        this.pending[op] = batch[op];
        for (const p of newer.values()) this.mergeBack(op, p);
      }
      this.log.warn({ err: NA_ERR_SIDECARD_HEAT_FLUSH(this.pendingKeys, errorMessage(err)) }, 'etcd key counts not flushed');
    }
  }

  private mergeBack(op: HeatOp, p: Pending): void {
    const map = this.pending[op];
    const id = p.key.toString('latin1');
    const q = map.get(id);
    if (q !== undefined) q.n += p.n;
    else if (map.size < this.cfg.maxPendingKeys) map.set(id, p);
    else this.dropped.inc({ op }, p.n);
  }

  /** Stops the timer and flushes once more. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
    await this.store.close();
  }
}
