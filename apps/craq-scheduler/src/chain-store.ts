/**
 * Where the chain's configuration (members head to tail, so the roles, the epoch, the nodes
 * removed, the last change) is agreed when several schedulers keep one chain — CRAQ kept it in
 * ZooKeeper; `membership.via: paxos` keeps it in a Paxos group of the chain nodes' schedulers
 * (@netaccel/paxos ReplicatedConfig: each scheduler runs one replica). A reconfiguration is a
 * compare-and-set from the version the scheduler holds: of two schedulers that decide at once,
 * one wins and the other adopts what won (chain-manager.ts), so no two schedulers ever act on
 * different chains at the same version. `membership.via: local` has no store: the one
 * scheduler decides alone, as before.
 *
 * Stored as compact JSON under `membership.paxos.key`: {"e":epoch,"m":[[name,address,port],…],
 * "r":[…removed, at most 8],"c":lastChange}; one operation fits a packet (1332 bytes) for a
 * chain of up to 16 nodes.
 */
import type { Logger } from '@netaccel/errors';
import { ReplicatedConfig, paxosStatusService, registerPaxosMetrics, statusSource } from '@netaccel/paxos';
import type { PaxosMetricsSink, PaxosStatus, Transport, Versioned } from '@netaccel/paxos';
import type { ServiceRegistration } from '@netaccel/rpc';
import type { ChainState, Member } from './chain.js';
import { NA_ERR_CRAQD_MEMBERSHIP_INVALID } from './errors.js';

/** A committed configuration and its version in the store (1 for the first). */
export interface StoredChain {
  readonly version: number;
  readonly state: ChainState;
}

export interface ChainStore {
  /** The committed configuration (a read through the group), or null before the first. */
  read(): Promise<StoredChain | null>;
  /** `next` if the store is still at `version` (0: empty); else what won, unchanged. */
  propose(version: number, next: ChainState): Promise<{ readonly applied: boolean; readonly stored: StoredChain | null }>;
  /** Every committed configuration, in order, as this scheduler's replica executes it. */
  watch(fn: (s: StoredChain) => void): () => void;
  close(): Promise<void>;
}

const MAX_REMOVED = 8;

type Row = [string, string, number];

export function encodeChain(s: ChainState): string {
  const row = (m: Member): Row => [m.name, m.endpoint.address, m.endpoint.port];
  return JSON.stringify({ e: s.epoch, m: s.members.map(row), r: s.removed.slice(0, MAX_REMOVED).map(row), c: s.lastChange });
}

/** Decodes a stored configuration; NA_ERR_CRAQD_MEMBERSHIP_INVALID names what is wrong. */
export function decodeChain(key: string, value: string): ChainState {
  const bad = (what: string): Error => NA_ERR_CRAQD_MEMBERSHIP_INVALID(key, what);
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw bad('not JSON');
  }
  const o = v as { e?: unknown; m?: unknown; r?: unknown; c?: unknown };
  if (typeof o !== 'object' || o === null) throw bad('not an object');
  if (typeof o.e !== 'number' || !Number.isInteger(o.e) || o.e < 0) throw bad(`e: expected an epoch, got ${JSON.stringify(o.e)}`);
  const rows = (x: unknown, field: string): Member[] => {
    if (!Array.isArray(x)) throw bad(`${field}: expected an array`);
    return x.map((r: unknown, i) => {
      if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'string' || typeof r[1] !== 'string' || typeof r[2] !== 'number') throw bad(`${field}[${i}]: expected [name, address, port]`);
      return { name: r[0], endpoint: { address: r[1], port: r[2] } };
    });
  };
  return { epoch: o.e, members: rows(o.m, 'm'), removed: rows(o.r, 'r'), lastChange: typeof o.c === 'string' ? o.c : '' };
}

export interface PaxosChainStoreOptions {
  readonly self: number;
  readonly replicas: readonly { readonly address: string; readonly port: number }[];
  readonly key: string;
  readonly heartbeatMs: number;
  readonly viewChangeTimeoutMs: number;
  /** The leader's lease and the clock-rate bound it assumes (see @netaccel/paxos lease.ts). */
  readonly leaseMs?: number;
  readonly clockDrift?: number;
  /** Deadline of one proposal or read through the group. */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** The replica's socket (default: UDP on replicas[self]; tests bind port 0 first). */
  readonly transport?: Transport;
}

/** The chain's configuration in a Paxos group; this scheduler runs one of its replicas. */
export class PaxosChainStore implements ChainStore {
  readonly #key: string;
  readonly #log: Logger;
  readonly status: () => PaxosStatus;

  private constructor(
    readonly config: ReplicatedConfig,
    o: PaxosChainStoreOptions,
  ) {
    this.#key = o.key;
    this.#log = o.log;
    this.status = statusSource({ replica: config.replica, service: 'craq-chain' });
  }

  static async start(o: PaxosChainStoreOptions): Promise<PaxosChainStore> {
    const config = await ReplicatedConfig.start({
      replicas: o.replicas,
      self: o.self,
      logger: o.log,
      replica: {
        heartbeatMs: o.heartbeatMs,
        viewChangeTimeoutMs: o.viewChangeTimeoutMs,
        retransmitMs: Math.max(10, Math.floor(o.heartbeatMs * 1.5)),
        ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
        ...(o.clockDrift !== undefined ? { clockDrift: o.clockDrift } : {}),
      },
      timeoutMs: o.timeoutMs,
      retryMs: Math.max(20, o.heartbeatMs * 2),
      ...(o.transport !== undefined ? { transport: o.transport } : {}),
    });
    return new PaxosChainStore(config, o);
  }

  #stored(v: Versioned | null): StoredChain | null {
    return v === null ? null : { version: v.version, state: decodeChain(this.#key, v.value) };
  }

  async read(): Promise<StoredChain | null> {
    return this.#stored(await this.config.read(this.#key));
  }

  async propose(version: number, next: ChainState): Promise<{ applied: boolean; stored: StoredChain | null }> {
    const value = encodeChain(next);
    try {
      const out = await this.config.propose(this.#key, version, value);
      return { applied: out.applied, stored: this.#stored(out.version === 0 ? null : out) };
    } catch (err) {
      // no answer in time: the proposal may or may not be committed; the group's value says which
      const seen = await this.config.read(this.#key);
      if (seen !== null && seen.version === version + 1 && seen.value === value) return { applied: true, stored: this.#stored(seen) };
      if (seen !== null && seen.version > version) return { applied: false, stored: this.#stored(seen) };
      throw err;
    }
  }

  watch(fn: (s: StoredChain) => void): () => void {
    return this.config.watch(this.#key, (now) => {
      let s: StoredChain | null;
      try {
        s = this.#stored(now);
      } catch (err) {
        this.#log.error({ err, version: now.version }, 'a committed chain configuration does not decode: ignored');
        return;
      }
      if (s !== null) fn(s);
    });
  }

  /**
   * True while this scheduler's replica leads the group and holds the leader's lease (the one
   * scheduler that may act: a leader cut off from a quorum stops when its lease runs out).
   */
  leads(): boolean {
    return this.config.leaseHeld();
  }

  /** The Paxos service (netaccel paxos status) of this scheduler's replica. */
  service(): ServiceRegistration<ReturnType<typeof paxosStatusService>['definition']> {
    return paxosStatusService(this.status);
  }

  /** paxos_* metrics of this scheduler's replica on the daemon's registry. */
  registerMetrics(metrics: PaxosMetricsSink): void {
    registerPaxosMetrics(metrics, () => this.status());
  }

  close(): Promise<void> {
    return this.config.close();
  }
}
