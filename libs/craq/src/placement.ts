/**
 * The placement view: which etcd keys are in the NetCRAQ chain (with the key ids the chain knows
 * them by) and the chain itself (nodes head first, roles, epoch), refreshed from the scheduler.
 * A client asks the chain only for keys this view says are placed; a key the chain answers
 * NOT_PLACED for is marked stale here until the next refresh, so the client goes to etcd.
 *
 *   const view = new PlacementView(grpcPlacementSource({ address: '/run/netaccel/craq-scheduler.sock' }));
 *   await view.refresh();
 *   view.start(1000); // refresh every second
 *   view.lookup('/registry/leases/kube-node-lease/n1'); // PlacedKey | undefined
 */
import type { Logger } from '@netaccel/errors';
import { errorMessage, silentLogger } from '@netaccel/errors';
import { NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE } from './errors.js';

export type ChainRole = 'head' | 'middle' | 'tail' | 'single';

export interface ChainNode {
  readonly name: string;
  /** The node's NetCRAQ UDP address ("192.0.2.1", "2001:db8::1"). */
  readonly address: string;
  readonly port: number;
  readonly role: ChainRole;
  readonly alive: boolean;
}

export interface ChainView {
  /** The chain configuration epoch (header `epoch`). */
  readonly epoch: number;
  /** Head first, tail last. */
  readonly nodes: readonly ChainNode[];
}

export interface PlacedKey {
  readonly key: string;
  /** FNV-1a 64 of the key's bytes: the header's key_id. */
  readonly keyId: bigint;
  /** The second hash: the header's key_check. */
  readonly keyCheck: number;
}

export interface Placement {
  /** Bumped by the scheduler whenever a key is placed or evicted. */
  readonly epoch: bigint;
  readonly chain: ChainView;
  readonly keys: readonly PlacedKey[];
}

/** Where a placement comes from: the scheduler's gRPC `Craq.GetPlacement`, or a fixed one in tests. */
export interface PlacementSource {
  fetch(signal?: AbortSignal): Promise<Placement>;
  close?(): void;
}

/** A source that always returns the placement it is given (tests, static setups). */
export function staticPlacementSource(get: () => Placement): PlacementSource {
  return { fetch: () => Promise.resolve(get()) };
}

/** The chain's head (writes), or undefined when the chain is empty. */
export function headOf(chain: ChainView): ChainNode | undefined {
  return chain.nodes[0];
}

/** The chain's tail, or undefined when the chain is empty. */
export function tailOf(chain: ChainView): ChainNode | undefined {
  return chain.nodes[chain.nodes.length - 1];
}

export type ReadNodeChoice = 'nearest' | 'round-robin' | 'head' | 'tail';

const EMPTY: Placement = Object.freeze({ epoch: 0n, chain: Object.freeze({ epoch: 0, nodes: [] }), keys: [] });

export class PlacementView {
  #placement: Placement = EMPTY;
  #byKey = new Map<string, PlacedKey>();
  /** Keys the chain said NOT_PLACED for since the last refresh, with the epoch they were seen at. */
  readonly #stale = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #lastError: unknown;
  readonly #log: Logger;

  constructor(readonly source: PlacementSource, log: Logger = silentLogger) {
    this.#log = log;
  }

  get placement(): Placement {
    return this.#placement;
  }

  get chain(): ChainView {
    return this.#placement.chain;
  }

  /** The error of the last refresh that failed (cleared by one that succeeds). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** The placed key, unless the view does not know it or the chain said it is not placed. */
  lookup(key: string): PlacedKey | undefined {
    if (this.#stale.has(key)) return undefined;
    return this.#byKey.get(key);
  }

  /** The chain answered NOT_PLACED: use etcd for this key until the next refresh says otherwise. */
  markNotPlaced(key: string): void {
    if (this.#byKey.has(key)) this.#stale.add(key);
  }

  /** Replaces the view (refresh, or tests). */
  apply(p: Placement): void {
    if (p.epoch < this.#placement.epoch && p.chain.epoch <= this.#placement.chain.epoch) return; // an older answer overtaken
    this.#placement = p;
    this.#byKey = new Map(p.keys.map((k) => [k.key, k]));
    this.#stale.clear();
  }

  /** Fetches the placement now; concurrent calls share one fetch. */
  refresh(signal?: AbortSignal): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        this.apply(await this.source.fetch(signal));
        this.#lastError = undefined;
      } catch (err) {
        this.#lastError = err;
        throw NA_ERR_CRAQCLIENT_PLACEMENT_UNAVAILABLE.with({ cause: err }, errorMessage(err));
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Refreshes every `intervalMs` until `stop()`; failures are logged and the old view stays. */
  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.#log.warn({ err }, 'placement refresh failed: keeping the previous view'));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stop();
    this.source.close?.();
  }
}
