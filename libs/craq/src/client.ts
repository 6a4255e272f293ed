/**
 * The NetCRAQ client: get/put/delete of one key. A key the placement view says is placed goes
 * to the chain over UDP (reads to the chosen node, writes to the head), with a timeout per
 * attempt and retries with exponential backoff; NOT_HEAD refreshes the view and retries at the
 * new head, RETRY backs off and retries, NOT_PLACED marks the key not placed and sends the
 * operation to etcd. Keys not placed go to etcd (`etcd3`). Reads answered by etcd are counted
 * for the scheduler's heat (HeatReporter, Redis) when a reporter is given.
 *
 * The etcd path of a key the view says is not placed is one transaction conditioned on the key's
 * placement marker being absent (marker.ts); when it exists the view is refreshed and the
 * operation tried again (chain or etcd), for up to `markerWaitMs`.
 *
 * A read of a placed key is never answered from etcd after the chain did not answer: etcd may
 * not have the chain's last commits yet (write-behind), so that would break linearizability.
 *
 * A write is executed at most once: every attempt carries the same request id, which the chain's
 * head recognises (bpf/craq: the request ids of a key's last versions, craq_key.reqs). etcd does not know chain request ids, so a write
 * with an attempt the chain never answered (it may have been applied) is not sent to etcd when
 * the key then leaves the chain: it fails with NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN instead of
 * risking a second execution there.
 */
import type { Etcd3 } from 'etcd3';
import { craq } from '@netaccel/protocol';
import type { Logger } from '@netaccel/errors';
import { silentLogger } from '@netaccel/errors';
import {
  NA_ERR_CRAQCLIENT_BAD_REQUEST,
  NA_ERR_CRAQCLIENT_NO_NODES,
  NA_ERR_CRAQCLIENT_OPTIONS_INVALID,
  NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN,
  NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED,
  NA_ERR_CRAQCLIENT_TIMEOUT,
  NA_ERR_CRAQCLIENT_VALUE_TOO_LARGE,
} from './errors.js';
import type { HeatReporter } from './heat.js';
import { getIfUnplaced, writeIfUnplaced } from './marker.js';
import { headOf, tailOf } from './placement.js';
import type { ChainNode, PlacedKey, PlacementView, ReadNodeChoice } from './placement.js';
import { CraqTransport } from './transport.js';

export interface CraqClientOptions {
  readonly view: PlacementView;
  readonly etcd: Etcd3;
  /** Which node reads go to. Default 'nearest' (the node named `nearestNode`, else round robin). */
  readonly readFrom?: ReadNodeChoice;
  /** The chain node nearest to this client (its name), for readFrom 'nearest'. */
  readonly nearestNode?: string;
  /** Per attempt, ms. Default 200. */
  readonly timeoutMs?: number;
  /** Attempts per operation (first included). Default 5. */
  readonly attempts?: number;
  /** First backoff, ms; doubles per attempt up to maxBackoffMs, with ±50% jitter. Default 10. */
  readonly backoffMs?: number;
  /** Default 500. */
  readonly maxBackoffMs?: number;
  /** How long an operation waits for the view to catch up with a placement marker in etcd, ms. Default 5000. */
  readonly markerWaitMs?: number;
  readonly reporter?: HeatReporter;
  readonly log?: Logger;
}

/** How the last operation was served (tests and metrics); `node`: where the last attempt was sent. */
export type ServedBy = { readonly via: 'chain'; readonly node: string; readonly version: bigint; readonly attempts: number } | { readonly via: 'etcd' };

export interface ClientCounters {
  chainReads: number;
  chainWrites: number;
  etcdReads: number;
  etcdWrites: number;
  retries: number;
  notPlaced: number;
  /** etcd operations refused because the key's placement marker exists (the view lagged). */
  markerRetries: number;
}

const DEFAULTS = Object.freeze({
  readFrom: 'nearest' as ReadNodeChoice,
  timeoutMs: 200, // ms per attempt
  attempts: 5,
  backoffMs: 10, // ms, doubled per attempt
  maxBackoffMs: 500, // ms
  markerWaitMs: 5000, // ms: a placement's view reaches every client within a few refreshes
});

type Outcome = { kind: 'done'; reply: craq.CraqMessage; node: ChainNode; attempts: number } | { kind: 'not-placed' };

export class CraqClient {
  readonly counters: ClientCounters = { chainReads: 0, chainWrites: 0, etcdReads: 0, etcdWrites: 0, retries: 0, notPlaced: 0, markerRetries: 0 };
  readonly view: PlacementView;
  readonly etcd: Etcd3;
  readonly #transport = new CraqTransport();
  readonly #o: typeof DEFAULTS & { nearestNode: string | undefined };
  readonly #reporter: HeatReporter | undefined;
  readonly #log: Logger;
  #rr = 0;
  #last: ServedBy = { via: 'etcd' };

  constructor(opts: CraqClientOptions) {
    this.view = opts.view;
    this.etcd = opts.etcd;
    this.#reporter = opts.reporter;
    this.#log = opts.log ?? silentLogger;
    const o = { ...DEFAULTS, ...strip(opts), nearestNode: opts.nearestNode };
    for (const f of ['timeoutMs', 'attempts', 'backoffMs', 'maxBackoffMs', 'markerWaitMs'] as const) {
      if (!Number.isInteger(o[f]) || o[f] < (f === 'backoffMs' ? 0 : 1)) throw NA_ERR_CRAQCLIENT_OPTIONS_INVALID(f, `expected a positive integer, got ${String(o[f])}`);
    }
    if (!['nearest', 'round-robin', 'head', 'tail'].includes(o.readFrom)) throw NA_ERR_CRAQCLIENT_OPTIONS_INVALID('readFrom', `expected nearest, round-robin, head or tail, got ${String(o.readFrom)}`);
    this.#o = Object.freeze(o);
  }

  /** How the last completed operation was served. */
  get lastServedBy(): ServedBy {
    return this.#last;
  }

  /** The value, or null when the key does not exist (or was deleted). */
  async get(key: string): Promise<Buffer | null> {
    const since = Date.now();
    let marked: PlacedKey | undefined;
    for (let round = 0; ; round++) {
      const placed = this.view.lookup(key) ?? marked;
      if (placed !== undefined) {
        const out = await this.#chain('get', key, placed, craq.craqReadRequest({ key, reqId: 0n }), (attempt) => this.#readNode(key, attempt), placed === marked);
        if (out.kind === 'done') {
          this.counters.chainReads++;
          this.#last = { via: 'chain', node: out.node.name, version: out.reply.version, attempts: out.attempts };
          return out.reply.status === craq.CraqStatus.OK ? Buffer.from(out.reply.value) : null;
        }
      }
      const r = await getIfUnplaced(this.etcd, key);
      if (!r.placed) {
        this.counters.etcdReads++;
        this.#reporter?.record(key);
        this.#last = { via: 'etcd' };
        return r.result;
      }
      marked = await this.#markerSeen('get', key, round, since);
    }
  }

  /** Writes a value: committed in the chain (answered by the tail) or in etcd. */
  async put(key: string, value: string | Buffer): Promise<void> {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    await this.#writeOp('put', key, bytes);
  }

  /** Deletes a key: a tombstone committed in the chain, or an etcd delete. */
  async delete(key: string): Promise<void> {
    await this.#writeOp('delete', key, null);
  }

  async #writeOp(what: 'put' | 'delete', key: string, bytes: Buffer | null): Promise<void> {
    const since = Date.now();
    let marked: PlacedKey | undefined;
    for (let round = 0; ; round++) {
      const placed = this.view.lookup(key) ?? marked;
      if (placed !== undefined) {
        if (bytes !== null && bytes.length > craq.CRAQ_MAX_VALUE) throw NA_ERR_CRAQCLIENT_VALUE_TOO_LARGE(key, bytes.length, craq.CRAQ_MAX_VALUE);
        const req = bytes === null ? craq.craqDeleteRequest({ key, reqId: 0n }) : craq.craqWriteRequest({ key, reqId: 0n, value: bytes });
        if (await this.#write(what, key, placed, req, placed === marked)) return;
      }
      const r = await writeIfUnplaced(this.etcd, key, bytes);
      if (!r.placed) {
        this.counters.etcdWrites++;
        this.#last = { via: 'etcd' };
        return;
      }
      marked = await this.#markerSeen(what, key, round, since);
    }
  }

  /**
   * etcd has the key's placement marker but the view says not placed (the view lags a placement,
   * or the key is being evicted): refresh the view and back off, then try again (chain or etcd),
   * for up to `markerWaitMs` since the operation started.
   */
  async #markerSeen(what: string, key: string, round: number, since: number): Promise<PlacedKey | undefined> {
    this.counters.markerRetries++;
    if (Date.now() - since >= this.#o.markerWaitMs) throw NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED(what, key, `placed in etcd (marker) but not in the placement view for ${this.#o.markerWaitMs} ms`, round + 1);
    await this.view.refresh().catch((err: unknown) => this.#log.warn({ err }, 'placement refresh after a placement marker failed'));
    const delay = Math.round(Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** Math.min(round, 16)) * (0.5 + Math.random()));
    await new Promise((r) => setTimeout(r, delay));
    // the marker says the key is placed (or being placed or evicted): the chain is asked even
    // while the view does not list the key yet (its id and check are the key's hashes); the
    // chain answers NOT_PLACED until the key is on the nodes, and then the marker is asked again
    return this.view.chain.nodes.length > 0 ? { key, ...craq.craqKey(key) } : undefined;
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #write(what: string, key: string, placed: PlacedKey, req: craq.CraqMessage, byMarker: boolean): Promise<boolean> {
    const out = await this.#chain(what, key, placed, req, () => headOf(this.view.chain), byMarker);
    if (out.kind !== 'done') return false;
    this.counters.chainWrites++;
    this.#last = { via: 'chain', node: out.node.name, version: out.reply.version, attempts: out.attempts };
    return true;
  }

  #readNode(_key: string, attempt: number): ChainNode | undefined {
    const nodes = this.view.chain.nodes.filter((n) => n.alive);
    if (nodes.length === 0) return undefined;
    const choice = this.#o.readFrom;
    if (choice === 'head') return headOf(this.view.chain);
    if (choice === 'tail') return tailOf(this.view.chain);
    if (choice === 'nearest' && attempt === 0) {
      const near = nodes.find((n) => n.name === this.#o.nearestNode);
      if (near !== undefined) return near;
    }
    // round robin, and every retry moves on to the next node
    return nodes[this.#rr++ % nodes.length];
  }

  /** One operation against the chain with retries; 'not-placed' sends it to etcd. */
  async #chain(what: string, key: string, placed: PlacedKey, template: craq.CraqMessage, pick: (attempt: number) => ChainNode | undefined, byMarker = false): Promise<Outcome> {
    let lastStatus = 'no reply';
    let waited = 0;
    // attempts of a write the chain never answered: each may have been applied
    let unanswered = 0;
    const notPlaced = (): Outcome => {
      if (what !== 'get' && unanswered > 0) throw NA_ERR_CRAQCLIENT_OUTCOME_UNKNOWN(what, key, unanswered);
      return this.#notPlaced(key);
    };
    // one request id for every attempt: a late reply to an earlier attempt answers the operation
    const reqId = this.#transport.nextRequestId();
    for (let attempt = 0; attempt < this.#o.attempts; attempt++) {
      if (attempt > 0) {
        this.counters.retries++;
        const base = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (attempt - 1));
        const delay = Math.round(base * (0.5 + Math.random()));
        waited += delay;
        await new Promise((r) => setTimeout(r, delay));
      }
      const current = this.view.lookup(key) ?? (byMarker ? placed : undefined);
      if (current === undefined || current.keyId !== placed.keyId) return notPlaced();
      const node = pick(attempt);
      if (node === undefined) throw NA_ERR_CRAQCLIENT_NO_NODES(key, what === 'get' ? 'live' : 'head');
      const req: craq.CraqMessage = { ...template, reqId, epoch: this.view.chain.epoch };
      const reply = await this.#transport.request(node, req, this.#o.timeoutMs);
      waited += this.#o.timeoutMs;
      if (reply === undefined) {
        lastStatus = 'no reply';
        unanswered++;
        continue;
      }
      const S = craq.CraqStatus;
      switch (reply.status) {
        case S.OK:
        case S.NOT_FOUND:
          return { kind: 'done', reply, node, attempts: attempt + 1 };
        case S.NOT_PLACED:
          this.view.markNotPlaced(key);
          return notPlaced();
        case S.NOT_HEAD:
          lastStatus = 'NOT_HEAD';
          await this.view.refresh().catch((err: unknown) => this.#log.warn({ err }, 'placement refresh after NOT_HEAD failed'));
          continue;
        case S.RETRY:
          lastStatus = 'RETRY';
          continue;
        default:
          throw NA_ERR_CRAQCLIENT_BAD_REQUEST(what, key, node.name);
      }
    }
    if (lastStatus === 'no reply') throw NA_ERR_CRAQCLIENT_TIMEOUT(what, key, this.#o.attempts, waited);
    throw NA_ERR_CRAQCLIENT_RETRIES_EXHAUSTED(what, key, lastStatus, this.#o.attempts);
  }

  #notPlaced(_key: string): Outcome {
    this.counters.notPlaced++;
    return { kind: 'not-placed' };
  }
}

function strip(o: CraqClientOptions): Partial<typeof DEFAULTS> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(DEFAULTS)) {
    const v = (o as unknown as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as Partial<typeof DEFAULTS>;
}
