/**
 * Desired state from an etcd prefix: one key per service (`<prefix><name>`), its value the
 * service in YAML or JSON (the schema of one `services[]` entry). The source reads the prefix at
 * a revision, then watches from the next revision, so no change between the read and the watch
 * is lost. After a disconnect (etcd restarted, network) the watch resumes at the revision it
 * reached, and once connected again the prefix is read again and compared, so the state is
 * complete whatever the stream missed (also after a compaction, which cancels the watch: then
 * the source starts over from a fresh read).
 *
 * A malformed record is skipped with a logged NA_ERR_LB_ETCD_RECORD and a `problem` event (the
 * metric); the other services are still applied. A malformed update of a record that was good
 * is refused the same way and its last good version stays applied. A record defining a VIP that an older record
 * (lower create revision) already defines is refused the same way.
 */
import { Etcd3 } from 'etcd3';
import type { IKeyValue, Watcher } from 'etcd3';
import { noop } from 'cockatiel';
import { mergeServices, parseService } from '../desired-state.js';
import type { ServiceSpec } from '../desired-state.js';
import { NA_ERR_LB_ETCD_RECORD, NA_ERR_LB_ETCD_UNAVAILABLE } from '../errors.js';
import type { Logger } from '@netaccel/telemetry';
import type { SourceEvents, StateSource } from './source.js';

export interface EtcdSourceOptions {
  readonly endpoints: readonly string[];
  /** Key prefix of the service records, e.g. `/netaccel/lb/services/`. */
  readonly prefix: string;
  /** Delay between reconnection attempts, ms. */
  readonly retryMs?: number;
  readonly dialTimeoutMs?: number;
  readonly log: Logger;
}

/** The same delay before every watch reconnection (etcd3's backoff interface). */
function constantBackoff(ms: number): { duration: number; next(): ReturnType<typeof constantBackoff> } {
  const b = { duration: ms, next: () => b };
  return b;
}

interface Rec {
  readonly key: string;
  readonly createRevision: bigint;
  readonly value: string;
  readonly service?: ServiceSpec;
}

export class EtcdSource implements StateSource {
  readonly kind = 'etcd';
  readonly #opts: EtcdSourceOptions;
  readonly #client: Etcd3;
  #records = new Map<string, Rec>();
  #watcher: Watcher | undefined;
  #events: SourceEvents | undefined;
  #closed = false;
  #resyncing: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** Revision of the last read or event applied. */
  revision = 0n;

  constructor(opts: EtcdSourceOptions) {
    this.#opts = opts;
    const retryMs = opts.retryMs ?? 500;
    this.#client = new Etcd3({
      hosts: [...opts.endpoints],
      dialTimeout: opts.dialTimeoutMs ?? 2000,
      faultHandling: {
        // no retries or breaker around calls: the source retries whole resyncs itself
        host: () => noop,
        global: noop,
        watchBackoff: constantBackoff(retryMs),
      },
    });
  }

  async start(events: SourceEvents): Promise<void> {
    this.#events = events;
    await this.#sync();
  }

  /** Reads the prefix, publishes the state, and (re)starts the watch after its revision. */
  async #sync(): Promise<void> {
    const res = await this.#client.getAll().prefix(this.#opts.prefix).exec();
    const revision = BigInt(res.header.revision);
    const next = new Map<string, Rec>();
    for (const kv of res.kvs) next.set(kv.key.toString(), this.#parse(kv, this.#records.get(kv.key.toString())));
    this.#records = next;
    this.revision = revision;
    this.#publish(`etcd ${this.#opts.prefix}@${revision}`);
    await this.#watch(revision + 1n);
  }

  async #watch(from: bigint): Promise<void> {
    const old = this.#watcher;
    this.#watcher = undefined;
    if (old) await old.cancel().catch(() => undefined);
    if (this.#closed) return;
    const w = await this.#client.watch().prefix(this.#opts.prefix).startRevision(from.toString()).create();
    this.#watcher = w;
    let lost = false;
    w.on('put', (kv) => this.#change(kv, false));
    w.on('delete', (kv) => this.#change(kv, true));
    w.on('disconnected', (err: unknown) => {
      if (lost) return;
      lost = true;
      this.#opts.log.warn({ err: NA_ERR_LB_ETCD_UNAVAILABLE.with({ cause: err }, this.#opts.endpoints.join(','), 'watch disconnected, reconnecting') }, 'etcd watch lost');
      this.#events?.problem('connection', err);
    });
    w.on('connected', () => {
      if (!lost) return;
      lost = false;
      this.#opts.log.info({ revision: this.revision.toString() }, 'etcd watch reconnected; reading the prefix again');
      this.#resync();
    });
    w.on('error', (err: unknown) => {
      this.#opts.log.warn({ err }, 'etcd watch cancelled (compaction?); starting over from a fresh read');
      this.#resync();
    });
  }

  /** A full read and a new watch, retried until it works. */
  #resync(): void {
    if (this.#closed || this.#resyncing) return;
    this.#resyncing = this.#sync()
      .catch((err: unknown) => {
        this.#opts.log.warn({ err: NA_ERR_LB_ETCD_UNAVAILABLE.with({ cause: err }, this.#opts.endpoints.join(','), String(err)) }, 'etcd resync failed; retrying');
        this.#events?.problem('connection', err);
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => this.#resync(), this.#opts.retryMs ?? 500);
      })
      .finally(() => {
        this.#resyncing = undefined;
      });
  }

  #parse(kv: IKeyValue, prev: Rec | undefined): Rec {
    const key = kv.key.toString();
    const value = kv.value.toString();
    if (prev && prev.value === value) return prev;
    const rec = { key, createRevision: BigInt(kv.create_revision), value };
    try {
      return { ...rec, service: parseService(value, `etcd:${key}`) };
    } catch (err) {
      const e = NA_ERR_LB_ETCD_RECORD.with({ cause: err, details: { key } }, key, err instanceof Error ? err.message : String(err));
      // a bad update of a good record is refused: its last good version stays applied
      const kept = prev?.service;
      this.#opts.log.error({ err: e, key, kept: kept !== undefined }, kept ? 'malformed etcd record refused; its last good version stays' : 'malformed etcd record skipped; the other services are applied');
      this.#events?.problem('record', e);
      return kept ? { ...rec, service: kept } : rec;
    }
  }

  #change(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    const rev = BigInt(kv.mod_revision);
    if (rev > this.revision) this.revision = rev;
    if (deleted) this.#records.delete(key);
    else this.#records.set(key, this.#parse(kv, this.#records.get(key)));
    this.#publish(`etcd ${key}@${rev}`);
  }

  #publish(origin: string): void {
    const ordered = [...this.#records.values()]
      .filter((r) => r.service !== undefined)
      .sort((a, b) => (a.createRevision < b.createRevision ? -1 : a.createRevision > b.createRevision ? 1 : a.key < b.key ? -1 : 1));
    const { state, conflicts } = mergeServices(ordered.map((r) => ({ source: r.key, service: r.service! })));
    for (const c of conflicts) {
      const e = NA_ERR_LB_ETCD_RECORD.with({ details: { key: c.source } }, c.source, c.message);
      this.#opts.log.error({ err: e, key: c.source }, 'etcd record refused; the other services are applied');
      this.#events?.problem('record', e);
    }
    this.#events?.state(state, origin);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#watcher?.cancel().catch(() => undefined);
    this.#client.close();
  }
}
