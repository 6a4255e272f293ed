/**
 * Lost chain messages repaired in bounded time, without a node failure (issue 14), and the
 * dirty versions a reconfiguration leaves (`repairAfterReconfiguration`). bpf/craq does
 * not retransmit: a lost PROPAGATE leaves a version dirty at every node before the loss, a lost
 * ACK leaves it dirty at every node before the loss although the tail committed it. Either way
 * the head holds it dirty (it is the first to store a version and the last to clean it), and
 * after CRAQ_MAX_DIRTY such losses on a key the head answers that key's writes RETRY.
 *
 * The scheduler watches the head (one dump of `craq_keys` per scan, every `afterMs / 2`): a key
 * whose clean version has not moved for `afterMs` while versions are dirty has lost a message
 * (a healthy chain cleans a version in one round trip). Its repair, as CRAQ's nodes do with the
 * tail's committed version, with the key's writes held at the head:
 *
 *   lost ACK       the tail has committed every version any node holds: each node before it
 *                  takes the tail's committed value and version, clean (it was written to etcd
 *                  from the tail's commit stream already).
 *   lost PROPAGATE a node holds a version the tail never saw: the highest one held is installed
 *                  as the committed state on every node, tail first, and handed to `onRepair`
 *                  (etcd), as after a reconfiguration. Its write was never acknowledged (the
 *                  client timed out or was answered RETRY): its outcome was unknown, so
 *                  committing it now is linearizable.
 *
 * Bound: a version dirty at the head since t is clean on every node by t + 1.5 x `afterMs` plus
 * the repair's round trips (a few map reads and writes per key), plus the time a placement
 * round or a reconfiguration holds the scheduler's mutex. Writes of the key are held (RETRY)
 * only during its repair.
 */
import type { CommittedValue, KeyState, NodeDataPlane, RequestRecord } from '@netaccel/craq';
import type { Logger } from '@netaccel/telemetry';

export interface LostMessageStats {
  /** Scans of the head's keys. */
  scans: number;
  /** Keys found dirty without progress for the bound. */
  stale: number;
  /** Repairs of lost ACKs (the tail had committed: nodes before it marked clean). */
  acks: number;
  /** Repairs of lost PROPAGATEs (the highest held version committed everywhere, written back). */
  writes: number;
  /** Keys still dirty after a reconfiguration, committed by its repair-dirty step. */
  afterReconfiguration: number;
  /** Scans or repairs that failed (a node's data plane did not answer); tried again at the next scan. */
  failed: number;
}

/** Which dirty keys at the head have made no progress for `afterMs`. */
export class StaleDirtyTracker {
  readonly #since = new Map<bigint, { clean: bigint; at: number }>();

  constructor(readonly afterMs: number) {}

  /** The head's keys at `now`: the ids dirty with the same clean version since `afterMs` or longer. */
  observe(head: readonly KeyState[], now: number): { keyId: bigint; clean: bigint }[] {
    const out: { keyId: bigint; clean: bigint }[] = [];
    const seen = new Set<bigint>();
    for (const k of head) {
      if (k.dirty <= 0) continue;
      seen.add(k.keyId);
      const s = this.#since.get(k.keyId);
      if (s === undefined || s.clean !== k.version) this.#since.set(k.keyId, { clean: k.version, at: now });
      else if (now - s.at >= this.afterMs) out.push({ keyId: k.keyId, clean: k.version });
    }
    for (const id of [...this.#since.keys()]) if (!seen.has(id)) this.#since.delete(id);
    return out;
  }

  /** Forgets everything (the chain changed: its repair-dirty step ran). */
  clear(): void {
    this.#since.clear();
  }
}

/**
 * The highest version any of `members` holds of a key, clean or dirty, with its value (asked in
 * parallel), and the requests of every version up to it that any member holds: installed with it
 * on every member, so that a retry of one of those writes is answered, not applied again, by
 * whichever node is head (at-most-once, bpf/craq craq_key.reqs).
 */
export async function highestHeld(members: readonly NodeDataPlane[], keyId: bigint): Promise<CommittedValue | undefined> {
  let top: CommittedValue | undefined;
  const requests = new Map<bigint, RequestRecord>();
  for (const l of await Promise.all(members.map((n) => n.latest(keyId)))) {
    if (l === undefined) continue;
    if (top === undefined || l.version > top.version) top = l;
    for (const r of l.requests ?? []) requests.set(r.reqId, r);
  }
  if (top === undefined) return undefined;
  const upTo = top.version;
  return { ...top, requests: [...requests.values()].filter((r) => r.version <= upTo) };
}

/**
 * Installs `top` as the committed state on every member, tail first (a node never holds a
 * version clean before the nodes after it); the head (first), last, with `headWritable`.
 */
export async function commitEverywhere(members: readonly NodeDataPlane[], top: CommittedValue, headWritable = false): Promise<void> {
  for (const n of [...members].reverse()) await n.install(top, n === members[0] ? headWritable : true);
}

export interface RepairDeps {
  readonly log: Logger;
  readonly writable: (keyId: bigint) => boolean;
  readonly onRepair?: (c: CommittedValue) => void;
  readonly stats: LostMessageStats;
}

/**
 * Repairs one key found stale at `clean` (members head first, at least two). Returns what was
 * repaired: 'ack', 'write', or 'none' when the key made progress meanwhile (or is gone).
 */
export async function repairLostMessage(members: readonly NodeDataPlane[], keyId: bigint, clean: bigint, d: RepairDeps): Promise<'ack' | 'write' | 'none'> {
  const head = members[0]!;
  const tail = members[members.length - 1]!;
  await head.setWritable(keyId, false);
  try {
    const h = await head.get(keyId);
    if (h === undefined || h.dirty === 0 || h.version !== clean) return 'none';
    const t = await tail.get(keyId);
    if (t === undefined) return 'none';
    const top = await highestHeld(members, keyId);
    if (top === undefined) return 'none';
    if (top.version <= t.version) {
      const committed: CommittedValue = { keyId, keyCheck: t.keyCheck, version: t.version, value: t.value };
      for (const n of members.slice(0, -1).reverse()) {
        const s = n === head ? h : await n.get(keyId);
        if (s !== undefined && (s.version < t.version || s.dirty > 0)) await n.install(committed, n !== head);
      }
      d.stats.acks++;
      d.log.warn({ keyId: String(keyId), version: String(t.version), node: head.name }, 'lost ACK repaired: the tail had committed the version, the nodes before it marked it clean');
      return 'ack';
    }
    await commitEverywhere(members, top);
    d.onRepair?.(top);
    d.stats.writes++;
    d.log.warn({ keyId: String(keyId), version: String(top.version), tailVersion: String(t.version) }, 'lost PROPAGATE repaired: the highest version held committed on every node and written back');
    return 'write';
  } finally {
    await head.setWritable(keyId, d.writable(keyId)).catch(() => undefined);
  }
}

/**
 * After a reconfiguration: every placed key still dirty at one of `members` (head first) gets,
 * with its writes held at the head, the highest version any of them holds installed as the
 * committed state on every member (tail first), handed to `onRepair` (etcd); the head's install
 * ends the hold. Messages of the old epoch are dropped by every node, so nothing dirty from
 * before it commits by itself: only when versions were resent (`waitMs` > 0) are they given that
 * long to commit first. One batch lookup per member finds the dirty keys; keys are repaired in
 * parallel (each one's steps in order). Returns how many keys were repaired.
 */
export async function repairAfterReconfiguration(members: readonly NodeDataPlane[], d: RepairDeps & { readonly placedKeyIds: readonly bigint[]; readonly waitMs: number }): Promise<number> {
  const head = members[0];
  if (head === undefined) return 0;
  const dirtyIds = async (among: readonly bigint[]): Promise<bigint[]> => {
    const states = await Promise.all(members.map((n) => n.getMany(among)));
    return [...new Set(states.flat().filter((k) => k.dirty > 0).map((k) => k.keyId))];
  };
  const held = await dirtyIds(d.placedKeyIds);
  if (held.length === 0) return 0;
  await Promise.all(held.map((id) => head.setWritable(id, false)));
  const open = new Set(held);
  try {
    let ids = held;
    const deadline = Date.now() + d.waitMs;
    while (ids.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      ids = await dirtyIds(ids);
    }
    // a key that committed meanwhile is repaired to its committed version (the same value again):
    // writes are held, so the highest version held is the newest there is
    const done = await Promise.all(ids.map(async (id) => {
      const top = await highestHeld(members, id);
      if (top === undefined) return false;
      await commitEverywhere(members, top, d.writable(id));
      open.delete(id);
      d.onRepair?.(top);
      d.stats.afterReconfiguration++;
      d.log.warn({ keyId: String(id), version: String(top.version) }, 'dirty versions left by a reconfiguration: the highest one installed as committed on every node');
      return true;
    }));
    return done.filter(Boolean).length;
  } finally {
    await Promise.all([...open].map((id) => head.setWritable(id, d.writable(id)).catch(() => undefined)));
  }
}
