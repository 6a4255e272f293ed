/**
 * The placement in the schedulers' Paxos group (`membership.via: paxos`): which keys are in the
 * chain, their key ids, and the placement epoch, so that the scheduler taking over as the active
 * one adopts them (placer.ts `adopt`) instead of starting empty.
 *
 * One record per key, beside the chain's configuration in the same ReplicatedConfig:
 *   `<membership.paxos.key>/placement/<key>` → {"s":state,"id":"<key id>","c":key check,"e":"<epoch>","p":1 when pinned}
 * with state `placing` (recorded before the etcd marker is created and the value loaded), `placed`
 * (installed on every member and watched), `evicting` (recorded before writes are held) and `out`
 * (left the chain: the record stays, a later placement reuses it). `e` is the placement epoch the
 * change made. The epoch a new active scheduler starts from is kept under
 * `<membership.paxos.key>/placement-epoch`: max(stored, every record's, its own) + 1, stored
 * before it serves, so the epoch clients see only grows across takeovers.
 *
 * Only the active scheduler (the lease holder) writes records; it reads them from its own copy
 * after a linearizable read (`load`), which as the group's leader is current.
 */
import type { Logger } from '@netaccel/errors';
import type { ReplicatedConfig, Versioned } from '@netaccel/paxos';
import { NA_ERR_CRAQD_MEMBERSHIP_INVALID } from './errors.js';

export type PlacementState = 'placing' | 'placed' | 'evicting' | 'out';

export interface PlacementRecord {
  readonly state: PlacementState;
  readonly keyId: bigint;
  readonly keyCheck: number;
  /** The placement epoch this change made. */
  readonly epoch: bigint;
  /** Pinned (Craq Pin): a takeover keeps the pin. */
  readonly pinned?: boolean;
}

/** Where the placement is agreed (absent with `membership.via: local`: this scheduler alone). */
export interface PlacementStore {
  /** Records a key's state (compare-and-set on its version; only the active scheduler writes). */
  record(key: string, r: PlacementRecord): Promise<void>;
  /** Every record (after a linearizable read of the group). */
  load(): Promise<Map<string, PlacementRecord>>;
  /** The epoch a new active scheduler starts from: max(stored, `floor`) + 1, stored first. */
  takeEpoch(floor: bigint): Promise<bigint>;
}

const STATES: readonly PlacementState[] = ['placing', 'placed', 'evicting', 'out'];
const DIGITS = /^\d{1,20}$/;

export function encodeRecord(r: PlacementRecord): string {
  return JSON.stringify({ s: r.state, id: String(r.keyId), c: r.keyCheck, e: String(r.epoch), ...(r.pinned === true ? { p: 1 } : {}) });
}

/** Decodes a stored record; NA_ERR_CRAQD_MEMBERSHIP_INVALID names the field. */
export function decodeRecord(at: string, value: string): PlacementRecord {
  const bad = (what: string): Error => NA_ERR_CRAQD_MEMBERSHIP_INVALID(at, what);
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw bad('not JSON');
  }
  const o = v as { s?: unknown; id?: unknown; c?: unknown; e?: unknown; p?: unknown };
  if (typeof o !== 'object' || o === null) throw bad('not an object');
  if (!STATES.includes(o.s as PlacementState)) throw bad(`s: expected one of ${STATES.join(', ')}, got ${JSON.stringify(o.s)}`);
  if (typeof o.id !== 'string' || !DIGITS.test(o.id) || BigInt(o.id) >= 1n << 64n) throw bad(`id: expected a 64-bit key id as decimal text, got ${JSON.stringify(o.id)}`);
  if (typeof o.c !== 'number' || !Number.isInteger(o.c) || o.c < 0 || o.c > 0xffffffff) throw bad(`c: expected a 32-bit key check, got ${JSON.stringify(o.c)}`);
  if (typeof o.e !== 'string' || !DIGITS.test(o.e)) throw bad(`e: expected an epoch as decimal text, got ${JSON.stringify(o.e)}`);
  if (o.p !== undefined && o.p !== 1) throw bad(`p: expected 1 (pinned) or nothing, got ${JSON.stringify(o.p)}`);
  return { state: o.s as PlacementState, keyId: BigInt(o.id), keyCheck: o.c, epoch: BigInt(o.e), ...(o.p === 1 ? { pinned: true } : {}) };
}

/** The placement in a ReplicatedConfig (the chain store's), under `<base>/placement/`. */
export class PaxosPlacementStore implements PlacementStore {
  readonly #prefix: string;
  readonly #epochKey: string;

  constructor(
    private readonly config: ReplicatedConfig,
    base: string,
    private readonly log: Logger,
  ) {
    this.#prefix = `${base}/placement/`;
    this.#epochKey = `${base}/placement-epoch`;
  }

  async record(key: string, r: PlacementRecord): Promise<void> {
    const at = this.#prefix + key;
    const value = encodeRecord(r);
    // the active scheduler is the leader: its copy is current, one round trip in the common case
    const cur = this.config.local(at);
    try {
      const out = await this.config.propose(at, cur?.version ?? 0, value);
      if (out.applied || out.value === value) return;
    } catch {
      // no answer in time: the update below reads what the group holds and decides again
    }
    await this.config.update(at, (now) => (now?.value === value ? undefined : value));
  }

  async load(): Promise<Map<string, PlacementRecord>> {
    await this.config.read(this.#epochKey); // a linearizable read: this member's copy is current after it
    const out = new Map<string, PlacementRecord>();
    for (const [at, v] of this.config.entries(this.#prefix)) {
      try {
        out.set(at.slice(this.#prefix.length), decodeRecord(at, v.value));
      } catch (err) {
        this.log.error({ err, at }, 'a placement record does not decode: ignored (its key is treated as not placed)');
      }
    }
    return out;
  }

  async takeEpoch(floor: bigint): Promise<bigint> {
    const parse = (v: Versioned | null): bigint => (v !== null && DIGITS.test(v.value) ? BigInt(v.value) : 0n);
    const r = await this.config.update(this.#epochKey, (cur) => {
      const stored = parse(cur);
      return String((stored > floor ? stored : floor) + 1n);
    });
    return parse(r.now);
  }
}
