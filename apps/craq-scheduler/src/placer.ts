/**
 * Placement and eviction of keys, safe under concurrent writes, with etcd as the source of truth.
 *
 * Place: the key is read from etcd at revision R (value and size checked), installed clean at
 * version R on every member (tail first, head last, so a write taken by the head finds the key
 * everywhere after it), and watched from R + 1. A write that reaches etcd from elsewhere (a client
 * whose placement view is old, a tool) arrives on the watch and is installed in the chain as a
 * new committed version (external-writes.ts): writes are held at the head (RETRY), the head drained, the value
 * installed at the tail's version + 1 everywhere, writes resumed. Our own write-backs are told
 * apart by their revisions (the watch waits for a write-back in flight before it decides).
 *
 * Evict: writes held at the head, the head drained (every accepted write committed), the key's
 * pending commit written to etcd, then the tail's last committed version compared with what etcd
 * has and written if newer; only then is the key removed from the nodes (clients get NOT_PLACED
 * and go to etcd, which has the last committed value) and the watch cancelled.
 *
 * Placement marker (`placedMarkerKey`, libs/craq marker.ts): created in the same etcd transaction
 * that reads the value loaded (revision R), deleted after the key left the nodes at eviction. A
 * libs/craq client whose view lags cannot write or read the key in etcd meanwhile (its etcd path
 * is conditioned on the marker's absence), so no etcd write of a libs/craq client races the load.
 * Raw etcd writers that bypass libs/craq still go through the watch path above (not linearizable
 * for them while the watch delivers).
 *
 * The placement epoch is bumped at every place and evict; clients refresh their view from it.
 *
 * With a `store` (placement-store.ts, `membership.via: paxos`) each key's state is recorded in
 * the schedulers' group (placing / placed / evicting / out); the scheduler taking over adopts it
 * (`adopt`: placed keys taken with the tail's unwritten value written to etcd, leftovers and
 * stale markers retired by placement-takeover.ts, the epoch moved on) and one whose lease ran out
 * stands down (`standDown`: watches cancelled, write-backs dropped, steps in flight stop).
 * README.md "Several schedulers" has the whole story.
 */
import type { IKeyValue } from 'etcd3';
import type { CommittedValue, NodeDataPlane } from '@netaccel/craq';
import { placedMarkerKey } from '@netaccel/craq';
import { craq } from '@netaccel/protocol';
import { NA_ERR_CRAQD_CHAIN_EMPTY, NA_ERR_CRAQD_ETCD_FAILED, NA_ERR_CRAQD_NOT_ACTIVE, NA_ERR_CRAQD_OVER_BUDGET, NA_ERR_CRAQD_VALUE_TOO_LARGE } from './errors.js';
import { onWatchEvent } from './external-writes.js';
import type { Adoption, PlacedEntry, PlacerOptions } from './placed-entry.js';
import type { PlacementRecord } from './placement-store.js';
import { etcdStep, markedKeys, retireKey, sameValue } from './placement-takeover.js';
import type { RetireDeps } from './placement-takeover.js';
import { WriteBack } from './write-back.js';

export class Placer {
  readonly entries = new Map<string, PlacedEntry>();
  readonly #byId = new Map<bigint, PlacedEntry>();
  readonly writeBack: WriteBack;
  readonly #o: PlacerOptions;
  /** Starts at the start time in µs, so that it only grows across restarts (clients keep the newest view). */
  #epoch: bigint;
  #pressure = false;
  /** Bumped at every adopt and standDown: a step of an older term goes no further. */
  #term = 0;

  constructor(o: PlacerOptions) {
    this.#o = o;
    this.#epoch = BigInt((o.now ?? Date.now)()) * 1000n;
    this.writeBack = new WriteBack(
      {
        write: (c) => this.#writeToEtcd(c),
        written: (c, rev) => this.#written(c, rev),
        known: (id) => this.#byId.has(id),
      },
      { flushIntervalMs: o.flushIntervalMs, maxPending: o.maxPending, log: o.log, onPressure: (on) => void this.#setPressure(on) },
    );
  }

  get epoch(): bigint {
    return this.#epoch;
  }

  byId(keyId: bigint): PlacedEntry | undefined {
    return this.#byId.get(keyId);
  }

  placedKeyIds(): bigint[] {
    return [...this.#byId.keys()];
  }

  /** Whether the head may take writes of this key now. */
  writable(keyId: bigint): boolean {
    return !this.#pressure && this.#byId.get(keyId)?.state === 'placed';
  }

  usedBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.size;
    return n;
  }

  /** The tail's commit stream. */
  commit(c: CommittedValue): void {
    const e = this.#byId.get(c.keyId);
    if (e !== undefined && c.version > e.version) e.version = c.version;
    this.writeBack.commit(c);
  }

  /** Bytes a key takes in the data plane. */
  sizeOf(key: string, valueLen: number): number {
    return Buffer.byteLength(key) + valueLen + this.#o.perKeyOverhead;
  }

  /** Places a key (no-op when placed; `pinned` pins it). */
  place(key: string, pinned = false): Promise<PlacedEntry> {
    return this.#o.mutex.run(async () => {
      const have = this.entries.get(key);
      if (have !== undefined) {
        if (pinned && !have.pinned) {
          have.pinned = true;
          await this.#record(key, { state: 'placed', keyId: have.keyId, keyCheck: have.keyCheck, epoch: this.#epoch, pinned }).catch((err: unknown) => this.#o.log.warn({ err, key }, 'the pin could not be recorded in the group'));
        }
        return have;
      }
      const members = this.#o.chain.members();
      if (members.length === 0) throw NA_ERR_CRAQD_CHAIN_EMPTY(`cannot place ${key}`);
      const term = this.#term;
      const { keyId, keyCheck } = craq.craqKey(key);
      // recorded before the marker exists, so a scheduler taking over knows the marker is ours
      await this.#record(key, { state: 'placing', keyId, keyCheck, epoch: this.#epoch, pinned });
      this.#current(term, key);
      // one transaction: the placement marker put and the value read at the same revision R; from
      // then on a libs/craq client's etcd path refuses the key (it goes to the chain)
      const marker = placedMarkerKey(key);
      const etcd = this.#o.etcd;
      const res = await this.#etcd('place', key, () => {
        // the same operations whether a marker is left from an earlier run or not
        const ops = () => [etcd.put(marker).value(String(this.#epoch + 1n)), etcd.get(key)] as const;
        return etcd.if(marker, 'Create', '==', 0).then(...ops()).else(...ops()).commit();
      });
      const unmark = async (): Promise<void> => {
        await etcd.delete().key(marker).exec().catch(() => undefined);
        await this.#record(key, { state: 'out', keyId, keyCheck, epoch: this.#epoch }).catch(() => undefined);
      };
      const kv = res.responses[1]?.response_range.kvs[0];
      const value = kv === undefined ? null : kv.value;
      const size = this.sizeOf(key, value?.length ?? 0);
      const { budget, maxKeys } = this.#o.limits();
      if (value !== null && value.length > craq.CRAQ_MAX_VALUE) {
        await unmark();
        throw NA_ERR_CRAQD_VALUE_TOO_LARGE(key, value.length, craq.CRAQ_MAX_VALUE);
      }
      if (this.usedBytes() + size > budget || this.entries.size >= maxKeys) {
        await unmark();
        throw NA_ERR_CRAQD_OVER_BUDGET(key, size, budget - this.usedBytes(), maxKeys);
      }
      const revision = BigInt(res.header.revision);
      this.#current(term, key); // stood down meanwhile: the next active scheduler retires the marker
      const e: PlacedEntry = {
        key, keyId, keyCheck, size, placedAt: (this.#o.now ?? Date.now)(), pinned, state: 'placing',
        version: revision, writtenVersion: revision, etcdRevision: revision, own: new Set(), watcher: undefined, externalWrites: 0,
      };
      try {
        for (const n of [...members].reverse()) await n.install({ keyId, keyCheck, version: revision, value }, true);
      } catch (err) {
        for (const n of members) await n.remove(keyId).catch(() => undefined);
        await unmark();
        throw err;
      }
      this.entries.set(key, e);
      this.#byId.set(keyId, e);
      try {
        e.watcher = await this.#etcd('watch', key, () => this.#o.etcd.watch().key(key).startRevision(String(revision + 1n)).create());
      } catch (err) {
        for (const n of members) await n.remove(keyId);
        this.entries.delete(key);
        this.#byId.delete(keyId);
        await unmark();
        throw err;
      }
      e.watcher.on('put', (kv) => void this.#external(e, kv, kv.value));
      e.watcher.on('delete', (kv) => void this.#external(e, kv, null));
      e.state = 'placed';
      if (this.#pressure) await members[0]!.setWritable(keyId, false);
      // a failure leaves the record at `placing`: the head holds the key, so the next active
      // scheduler adopts it as placed all the same
      await this.#record(key, { state: 'placed', keyId, keyCheck, epoch: this.#epoch + 1n, pinned }).catch((err: unknown) => this.#o.log.warn({ err, key }, 'the placement could not be recorded in the group'));
      this.#bump();
      this.#o.log.info({ key, keyId: String(keyId), revision: String(revision), size: e.size }, 'key placed');
      return e;
    });
  }

  /** Evicts a key: its last committed value is in etcd before it leaves the chain. */
  evict(key: string): Promise<boolean> {
    return this.#o.mutex.run(async () => {
      const e = this.entries.get(key);
      if (e === undefined) return false;
      const head = this.#o.chain.head();
      const term = this.#term;
      await this.#record(key, { state: 'evicting', keyId: e.keyId, keyCheck: e.keyCheck, epoch: this.#epoch });
      e.state = 'evicting';
      try {
        this.#current(term, key);
        if (head !== undefined) {
          await head.setWritable(e.keyId, false);
          await this.#o.chain.drain(head, [e.keyId]);
        }
        await this.writeBack.flushKey(e.keyId);
        const tail = this.#o.chain.tail();
        const last = tail === undefined ? undefined : await tail.get(e.keyId);
        if (last !== undefined && last.version > e.writtenVersion) {
          const rev = await this.#writeToEtcd(last);
          this.#written(last, rev);
        }
      } catch (err) {
        e.state = 'placed';
        if (head !== undefined && term === this.#term) await head.setWritable(e.keyId, this.writable(e.keyId)).catch(() => undefined);
        throw err;
      }
      for (const n of this.#o.chain.members()) await n.remove(e.keyId);
      // etcd has the last committed value and no node answers for the key: libs/craq clients may
      // use etcd for it again (until then their etcd path sees the marker and retries)
      await this.#etcd('unmark', key, () => this.#o.etcd.delete().key(placedMarkerKey(key)).exec()).catch((err: unknown) => this.#o.log.error({ err, key }, 'the placement marker could not be deleted: libs/craq clients cannot use etcd for this key'));
      await e.watcher?.cancel().catch(() => undefined);
      this.writeBack.drop(e.keyId);
      this.entries.delete(key);
      this.#byId.delete(e.keyId);
      // a failure leaves `evicting`: the next active scheduler finishes the eviction
      await this.#record(key, { state: 'out', keyId: e.keyId, keyCheck: e.keyCheck, epoch: this.#epoch + 1n }).catch((err: unknown) => this.#o.log.warn({ err, key }, 'the eviction could not be recorded in the group'));
      this.#bump();
      this.#o.log.info({ key, version: String(e.version), revision: String(e.etcdRevision) }, 'key evicted');
      return true;
    });
  }

  /**
   * The chain lost every node: nothing is placed any more (what the last nodes committed and
   * etcd had not yet is lost with them: the write-behind bound). Watches cancelled, epoch bumped.
   */
  async dropAll(): Promise<number> {
    return this.#o.mutex.run(async () => {
      await this.writeBack.flush(); // what the scheduler received is committed: etcd gets it first
      const n = this.entries.size;
      for (const e of this.entries.values()) {
        await e.watcher?.cancel().catch(() => undefined);
        this.writeBack.drop(e.keyId);
        await this.#o.etcd.delete().key(placedMarkerKey(e.key)).exec().catch(() => undefined);
        await this.#record(e.key, { state: 'out', keyId: e.keyId, keyCheck: e.keyCheck, epoch: this.#epoch + 1n }).catch(() => undefined);
      }
      this.entries.clear();
      this.#byId.clear();
      if (n > 0) {
        this.#bump();
        this.#o.log.error({ keys: n }, 'no chain node left: every key goes back to etcd');
      }
      return n;
    });
  }

  /** Stops the watches (the chain keeps its keys: a restarted scheduler places them again). */
  async close(): Promise<void> {
    this.writeBack.stop();
    await this.writeBack.flush();
    await Promise.all([...this.entries.values()].map((e) => e.watcher?.cancel().catch(() => undefined)));
  }

  /**
   * Takes over the placement (the scheduler became the active one; `membership.via: local` at
   * start): what the group recorded is adopted or retired (see the header), markers of keys not
   * in it retired, and the epoch moved past every one clients may have seen.
   */
  adopt(): Promise<Adoption> {
    return this.#o.mutex.run(async () => {
      this.#forget();
      const term = this.#term;
      const records = this.#o.store === undefined ? new Map<string, PlacementRecord>() : await this.#o.store.load();
      const head = this.#o.chain.head();
      const adopted: string[] = [];
      const retired: string[] = [];
      let floor = this.#epoch;
      for (const [key, r] of records) {
        if (r.epoch > floor) floor = r.epoch;
        if (r.state === 'out') continue;
        this.#current(term, key);
        const held = head !== undefined && (await head.get(r.keyId)) !== undefined;
        if (held && (r.state === 'placed' || r.state === 'placing')) {
          await this.#adoptKey(key, r);
          adopted.push(key);
        } else {
          // placing before the head had it: no write was taken, etcd has the value; evicting: finish it
          await retireKey(this.#retireDeps(), key, r.keyId, r.keyCheck, held, `recorded ${r.state}`);
          retired.push(key);
        }
      }
      for (const key of await markedKeys(this.#o.etcd)) {
        if (this.entries.has(key) || retired.includes(key)) continue;
        this.#current(term, key);
        const { keyId, keyCheck } = craq.craqKey(key);
        await retireKey(this.#retireDeps(), key, keyId, keyCheck, true, 'stale marker');
        retired.push(key);
      }
      this.#epoch = this.#o.store === undefined ? floor : await this.#o.store.takeEpoch(floor);
      this.#o.onChange?.();
      this.#o.log.info({ adopted: adopted.length, retired: retired.length, epoch: String(this.#epoch) }, 'placement adopted');
      return { adopted, retired, epoch: this.#epoch };
    });
  }

  /**
   * This scheduler is no longer the active one (its lease ran out): it forgets the placement at
   * once, without the mutex (a step in flight goes no further), and writes nothing back any more.
   */
  standDown(): void {
    const n = this.entries.size;
    this.#forget();
    this.#o.log.warn({ keys: n }, 'not the active scheduler any more: the placement is left to the next one');
  }

  #forget(): void {
    this.#term++;
    for (const e of this.entries.values()) {
      void e.watcher?.cancel().catch(() => undefined);
      this.writeBack.drop(e.keyId);
    }
    this.entries.clear();
    this.#byId.clear();
  }

  /** Throws NA_ERR_CRAQD_NOT_ACTIVE when the scheduler stood down (or took over again) since `term`. */
  #current(term: number, key: string): void {
    if (term !== this.#term) throw NA_ERR_CRAQD_NOT_ACTIVE(key);
  }

  async #record(key: string, r: PlacementRecord): Promise<void> {
    await this.#o.store?.record(key, r);
  }

  /** A key the previous active scheduler placed: its tail's committed value is what etcd must have. */
  async #adoptKey(key: string, r: PlacementRecord): Promise<void> {
    const members = this.#o.chain.members();
    const head = members[0]!;
    const tail = members[members.length - 1]!;
    const last = await tail.get(r.keyId);
    const value = last?.value ?? null;
    const got = await this.#etcd('read', key, () => this.#o.etcd.get(key).exec());
    const have = got.kvs[0]?.value ?? null;
    const e: PlacedEntry = {
      key, keyId: r.keyId, keyCheck: r.keyCheck, size: this.sizeOf(key, value?.length ?? 0), placedAt: (this.#o.now ?? Date.now)(), pinned: r.pinned === true, state: 'placed',
      version: last?.version ?? 0n, writtenVersion: last?.version ?? 0n, etcdRevision: BigInt(got.header.revision), own: new Set(), watcher: undefined, externalWrites: 0,
    };
    this.entries.set(key, e);
    this.#byId.set(r.keyId, e);
    if (last !== undefined && !sameValue(value, have)) {
      // committed in the chain, not written back by the previous scheduler
      const rev = await this.#writeToEtcd(last);
      this.#written(last, rev);
      this.#o.log.warn({ key, version: String(last.version) }, 'adopted key: its committed value was not in etcd yet: written');
    }
    e.watcher = await this.#etcd('watch', key, () => this.#o.etcd.watch().key(key).startRevision(String(e.etcdRevision + 1n)).create());
    e.watcher.on('put', (kv) => void this.#external(e, kv, kv.value));
    e.watcher.on('delete', (kv) => void this.#external(e, kv, null));
    await head.setWritable(r.keyId, this.writable(r.keyId));
    if (r.state !== 'placed') await this.#record(key, { ...r, state: 'placed' });
  }

  #retireDeps(): RetireDeps {
    return { etcd: this.#o.etcd, chain: this.#o.chain, log: this.#o.log, record: (key, r) => this.#record(key, { ...r, epoch: this.#epoch }) };
  }

  #bump(): void {
    this.#epoch++;
    this.#o.onChange?.();
  }

  async #setPressure(on: boolean): Promise<void> {
    this.#pressure = on;
    const head = this.#o.chain.head();
    if (head === undefined) return;
    for (const id of this.placedKeyIds()) await head.setWritable(id, this.writable(id)).catch(() => undefined);
  }

  async #writeToEtcd(c: CommittedValue): Promise<bigint> {
    const e = this.#byId.get(c.keyId);
    if (e === undefined) throw NA_ERR_CRAQD_ETCD_FAILED('write-back', `id ${String(c.keyId)}`, 'the key is not placed');
    if (c.value === null) {
      const r = await this.#etcd('delete', e.key, () => this.#o.etcd.delete().key(e.key).exec());
      return BigInt(r.header.revision);
    }
    const r = await this.#etcd('put', e.key, () => this.#o.etcd.put(e.key).value(Buffer.from(c.value!)).exec());
    return BigInt(r.header.revision);
  }

  #written(c: CommittedValue, revision: bigint): void {
    const e = this.#byId.get(c.keyId);
    if (e === undefined) return;
    e.own.add(String(revision));
    if (c.version > e.writtenVersion) e.writtenVersion = c.version;
    if (revision > e.etcdRevision) e.etcdRevision = revision;
  }

  /** A watch event of a placed key: ours (a write-back) or a write from outside the chain (external-writes.ts). */
  #external(e: PlacedEntry, kv: IKeyValue, value: Buffer | null): Promise<void> {
    return onWatchEvent({
      chain: this.#o.chain,
      mutex: this.#o.mutex,
      log: this.#o.log,
      writeBack: this.writeBack,
      current: (x) => this.entries.get(x.key) === x && x.state === 'placed',
      evict: (key) => this.evict(key),
      writable: (id) => this.writable(id),
      sizeOf: (key, len) => this.sizeOf(key, len),
    }, e, kv, value);
  }

  #etcd<T>(what: string, key: string, fn: () => Promise<T>): Promise<T> {
    return etcdStep(what, key, fn);
  }
}

export type { Adoption, NodeDataPlane, PlacedEntry, PlacerOptions };
