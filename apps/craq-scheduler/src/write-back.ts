/**
 * Commits from the chain's tail written through to etcd, behind: the tail's commit stream
 * (NodeDataPlane.onCommit, the `craq_commits` ring buffer) fills a queue coalesced per key (the
 * latest committed version wins), flushed every `flushIntervalMs`. The bound: while etcd
 * answers, a commit reaches etcd within flushIntervalMs plus one etcd round trip; at most
 * `maxPending` keys wait — beyond that the scheduler holds writes at the head (RETRY) until
 * the queue is back under half (`onPressure`). A failed put stays queued and is retried at the
 * next flush. `flushKey` writes one key now (eviction).
 */
import type { Logger } from '@netaccel/telemetry';
import type { CommittedValue } from '@netaccel/craq';

export interface WriteTarget {
  /** Writes `c` to etcd; resolves with the etcd revision of the write. */
  write(c: CommittedValue): Promise<bigint>;
  /** The key was written (revision) at `version`. */
  written(c: CommittedValue, revision: bigint): void;
  /** Whether the key id is placed (commits of other keys are counted and dropped). */
  known(keyId: bigint): boolean;
}

export interface WriteBackStats {
  written: number;
  failed: number;
  unknown: number;
  coalesced: number;
}

export class WriteBack {
  readonly stats: WriteBackStats = { written: 0, failed: 0, unknown: 0, coalesced: 0 };
  readonly #pending = new Map<bigint, CommittedValue>();
  readonly #inflight = new Map<bigint, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #pressure = false;

  constructor(
    private readonly target: WriteTarget,
    private readonly o: { readonly flushIntervalMs: number; readonly maxPending: number; readonly log: Logger; readonly onPressure: (on: boolean) => void },
  ) {}

  get pending(): number {
    return this.#pending.size;
  }

  get pressure(): boolean {
    return this.#pressure;
  }

  pendingFor(keyId: bigint): number {
    return this.#pending.has(keyId) ? 1 : 0;
  }

  /** A commit from the tail. */
  commit(c: CommittedValue): void {
    if (!this.target.known(c.keyId)) {
      this.stats.unknown++;
      return;
    }
    const prev = this.#pending.get(c.keyId);
    if (prev !== undefined) {
      if (prev.version >= c.version) return;
      this.stats.coalesced++;
    }
    this.#pending.set(c.keyId, c);
    if (!this.#pressure && this.#pending.size > this.o.maxPending) {
      this.#pressure = true;
      this.o.log.warn({ pending: this.#pending.size }, 'write-back behind: holding writes at the head');
      this.o.onPressure(true);
    }
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => void this.flush(), this.o.flushIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Writes every pending key (one put per key, concurrently). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending.keys()].map((id) => this.flushKey(id).catch(() => undefined)));
    if (this.#pressure && this.#pending.size <= this.o.maxPending / 2) {
      this.#pressure = false;
      this.o.log.info({ pending: this.#pending.size }, 'write-back caught up: writes resume');
      this.o.onPressure(false);
    }
  }

  /** Writes one key's pending commit now; resolves when etcd has it (or nothing was pending). */
  async flushKey(keyId: bigint): Promise<void> {
    for (;;) {
      const running = this.#inflight.get(keyId);
      if (running !== undefined) {
        await running.catch(() => undefined);
        continue;
      }
      const c = this.#pending.get(keyId);
      if (c === undefined) return;
      const p = (async () => {
        try {
          const revision = await this.target.write(c);
          if (this.#pending.get(keyId) === c) this.#pending.delete(keyId);
          this.target.written(c, revision);
          this.stats.written++;
        } catch (err) {
          this.stats.failed++;
          this.o.log.warn({ err, keyId: String(keyId), version: String(c.version) }, 'write-back to etcd failed: retried at the next flush');
          throw err;
        } finally {
          this.#inflight.delete(keyId);
        }
      })();
      this.#inflight.set(keyId, p);
      await p;
      if (this.#pending.get(keyId) === undefined) return;
    }
  }

  /** Resolves once no write of this key is in flight (the watch waits for it). */
  async settled(keyId: bigint): Promise<void> {
    await this.#inflight.get(keyId)?.catch(() => undefined);
  }

  /** Forgets a key (evicted). */
  drop(keyId: bigint): void {
    this.#pending.delete(keyId);
  }
}
