/**
 * ReplicatedConfig: one member of a group that keeps a configuration (config-machine.ts) — its
 * replica of the group (UDP, view change, recovery: replica.ts) and a client of the group for
 * proposals and linearizable reads. Each member sees every committed change, its own and the
 * others', in log order (`watch`), so the members cannot disagree on a configuration version.
 *
 *   const cfg = await ReplicatedConfig.start({ replicas, self: 1 });
 *   cfg.watch('chain', (now) => apply(JSON.parse(now.value)));
 *   await cfg.update('chain', (cur) => JSON.stringify(next(cur)));  // CAS, retried on conflict
 *   if (cfg.leaseHeld()) act();  // the one member acting alone (the leader, under its lease)
 *
 * Lease (lease.ts): while its replica leads, a member submits a read of LEASE_KEY every
 * leaseMs / 4 (an idle group acknowledges nothing otherwise), so the lease is renewed while a
 * quorum answers and runs out leaseMs after the last acknowledged op when it does not: a leader
 * cut off from the others stops acting (leaseHeld false, leaseRead goes through the group)
 * before any other member's lease can begin.
 */
import type { Logger } from '@netaccel/errors';
import { PaxosClient } from './client.js';
import { ConfigClient, ConfigStateMachine } from './config-machine.js';
import type { SetOutcome, Versioned } from './config-machine.js';
import { NA_ERR_PAXOS_CONFIG_CONFLICT } from './errors.js';
import type { ReplicaOptions } from './options.js';
import { PaxosReplica } from './replica.js';
import type { Peer, Transport } from './transport.js';

export interface ReplicatedConfigOptions {
  readonly replicas: readonly Peer[];
  readonly self: number;
  /** `recover` after a restart without state (the others hold the configuration). */
  readonly start?: 'fresh' | 'recover';
  readonly logger?: Logger;
  /** Timing of the replica (heartbeatMs, viewChangeTimeoutMs, retransmitMs, lease), its checkpoints (checkpointEvery, logRetain) and client table (clientRetainOps, maxClients). */
  readonly replica?: Partial<Pick<ReplicaOptions, 'heartbeatMs' | 'viewChangeTimeoutMs' | 'retransmitMs' | 'leaseMs' | 'clockDrift' | 'checkpointEvery' | 'logRetain' | 'clientRetainOps' | 'maxClients'>>;
  /** The client's deadline per operation (ms; default 5000) and re-send interval (default 100). */
  readonly timeoutMs?: number;
  readonly retryMs?: number;
  /** The replica's socket (default: UDP on replicas[self]). */
  readonly transport?: Transport;
}

/** What `update` decides from the current value: the next value, or undefined to change nothing. */
export type ConfigUpdate = (current: Versioned | null) => string | undefined;

/** The key the lease renewals read (never set). */
export const LEASE_KEY = '\u0000lease';

export class ReplicatedConfig {
  readonly #client: ConfigClient;
  #closed = false;
  #renewing = false;
  #renewTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly replica: PaxosReplica,
    readonly machine: ConfigStateMachine,
    client: ConfigClient,
  ) {
    this.#client = client;
    const every = Math.max(5, Math.floor(replica.options.leaseMs / 4));
    this.#renewTimer = setInterval(() => this.#renew(), every);
    this.#renewTimer.unref();
  }

  /** While this member's replica leads: one read through the group at a time renews the lease. */
  #renew(): void {
    if (this.#closed || this.#renewing || !this.replica.snapshot().isLeader) return;
    this.#renewing = true;
    void this.#client
      .read(LEASE_KEY)
      .catch(() => undefined)
      .finally(() => {
        this.#renewing = false;
      });
  }

  /** Whether this member may act alone now: its replica leads and holds the leader's lease. */
  leaseHeld(): boolean {
    if (this.#closed) return false;
    return this.replica.lease().held;
  }

  /**
   * A linearizable read: this member's copy when it holds the lease (no write can commit
   * without its replica, and none of another view can before the lease runs out), else a read
   * through the group.
   */
  async leaseRead(key: string): Promise<Versioned | null> {
    if (this.leaseHeld()) return this.local(key) ?? null;
    return this.read(key);
  }

  /** This member's copies of the keys under `prefix` (current after a linearizable read). */
  entries(prefix: string): [string, Versioned][] {
    return this.machine.entries(prefix);
  }

  static async start(o: ReplicatedConfigOptions): Promise<ReplicatedConfig> {
    const machine = new ConfigStateMachine();
    const replica = await PaxosReplica.start({ replicas: o.replicas, self: o.self, stateMachine: machine, ...(o.start ? { start: o.start } : {}), ...(o.logger ? { logger: o.logger } : {}), ...(o.transport ? { transport: o.transport } : {}), ...o.replica });
    try {
      const client = await PaxosClient.create({ replicas: o.replicas, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}), ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}) });
      return new ReplicatedConfig(replica, machine, new ConfigClient(client));
    } catch (err) {
      await replica.close();
      throw err;
    }
  }

  /** This member's copy of `key`: what its replica has executed (may lag the group by a heartbeat). */
  local(key: string): Versioned | undefined {
    return this.machine.peek(key);
  }

  /**
   * The committed value of `key` (a linearizable read through the group). A read refused because
   * the client's session expired (its row evicted: client.ts) is sent again under the new one.
   */
  async read(key: string): Promise<Versioned | null> {
    try {
      return await this.#client.read(key);
    } catch (err) {
      if ((err as { code?: string }).code !== 'NA_ERR_PAXOS_SESSION_EXPIRED') throw err;
      return this.#client.read(key);
    }
  }

  /** One compare-and-set: `value` when `key` is at `expectedVersion` (0: absent). */
  propose(key: string, expectedVersion: number, value: string): Promise<SetOutcome> {
    return this.#client.set(key, expectedVersion, value);
  }

  /**
   * Reads `key`, asks `decide` for the next value and proposes it; when another member changed it
   * first, decides again on what won. Returns the committed value after the change (or the
   * current one when `decide` changes nothing). A proposal whose reply was lost (timeout) is
   * resolved by reading: the value is there at the next version, or it is decided again. A
   * proposal refused because the client's session expired (NA_ERR_PAXOS_SESSION_EXPIRED) is
   * proposed again when the value did not change meanwhile.
   */
  async update(key: string, decide: ConfigUpdate, maxAttempts = 8): Promise<{ readonly changed: boolean; readonly now: Versioned | null }> {
    let cur = await this.read(key);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const next = decide(cur);
      if (next === undefined) return { changed: false, now: cur };
      const expected = cur?.version ?? 0;
      let out: SetOutcome;
      try {
        out = await this.propose(key, expected, next);
      } catch (err) {
        const seen = await this.read(key);
        if (seen !== null && seen.version === expected + 1 && seen.value === next) return { changed: true, now: seen };
        if (seen?.version === cur?.version) {
          // refused, not executed, and never executed later (the group's row holds its id now): propose again
          if ((err as { code?: string }).code === 'NA_ERR_PAXOS_SESSION_EXPIRED') continue;
          throw err;
        }
        cur = seen;
        continue;
      }
      if (out.applied) return { changed: true, now: { version: out.version, value: out.value } };
      cur = out.version === 0 ? null : { version: out.version, value: out.value };
    }
    throw NA_ERR_PAXOS_CONFIG_CONFLICT(key, maxAttempts, cur?.version ?? 0);
  }

  /** Calls `fn` after every committed change of `key` this member's replica executes. */
  watch(key: string, fn: (now: Versioned) => void): () => void {
    return this.machine.onChange((k, now) => {
      if (k === key) fn(now);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renewTimer);
    await this.#client.close();
    await this.replica.close();
  }
}
