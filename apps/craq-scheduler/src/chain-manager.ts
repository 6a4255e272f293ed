/**
 * The chain's membership at run time: liveness probes (BFD-like: a probe every `probeIntervalMs`,
 * a node that misses `multiplier` in a row is taken out), reconfiguration on failure, and a node
 * that answers again (`multiplier` probes in a row) joining back at the tail by state copy. The
 * decisions are chain.ts's; this module runs their steps through each node's NodeDataPlane,
 * under the scheduler's one mutex, so that no placement or eviction interleaves with them.
 *
 * A probe is a NetCRAQ READ of key id 0 (never placed) to the node's UDP port: any reply
 * (NOT_PLACED) proves the node's data plane and its agent are answering.
 *
 * With a `store` (chain-store.ts, `membership.via: paxos`) the configuration is agreed with the
 * other schedulers of the chain first: a transition is proposed as a compare-and-set from the
 * version this scheduler holds and its steps run only when it won; when another scheduler's
 * change won, that one is adopted instead (its proposer runs its steps). Every committed
 * configuration, this scheduler's or another's, is adopted in log order (`watch`), so the
 * schedulers hold the same chain at the same version. A join whose steps fail is undone by
 * proposing the node's removal. Only the active scheduler (`active`: the one whose replica leads
 * the group) probes on the timer: the steps need its placed keys (hold, drain, repair).
 *
 * Lost chain messages (no node failure) are repaired on a second timer: every
 * `lostMessageMs / 2` the head's keys are read, and a key dirty without progress for
 * `lostMessageMs` is repaired (lost-messages.ts: bound, lost ACK vs lost PROPAGATE).
 */
import type { CommittedValue, CraqTransport, Endpoint, NodeDataPlane } from '@netaccel/craq';
import type { Logger } from '@netaccel/telemetry';
import { craq } from '@netaccel/protocol';
import { initialChain, joinMember, removeMember } from './chain.js';
import type { ChainState, Member, Step, Transition } from './chain.js';
import type { ChainStore, StoredChain } from './chain-store.js';
import { NA_ERR_CRAQD_DRAIN_TIMEOUT } from './errors.js';
import { StaleDirtyTracker, repairAfterReconfiguration, repairLostMessage } from './lost-messages.js';
import type { LostMessageStats } from './lost-messages.js';
import type { Mutex } from './mutex.js';

export type Probe = (endpoint: Endpoint, timeoutMs: number) => Promise<boolean>;

/** The UDP probe: READ of key id 0, any NetCRAQ reply counts. */
export function udpProbe(transport: CraqTransport): Probe {
  return async (endpoint, timeoutMs) => {
    const reqId = transport.nextRequestId();
    const reply = await transport.request(endpoint, { op: craq.CraqOp.READ, status: 0, flags: 0, reqId, keyId: 0n, keyCheck: 0, epoch: 0, version: 0n, value: new Uint8Array(0) }, timeoutMs);
    return reply !== undefined;
  };
}

export interface Liveness {
  alive: boolean;
  missed: number;
  answered: number;
}

export interface ChainManagerOptions {
  readonly nodes: readonly NodeDataPlane[];
  readonly mutex: Mutex;
  readonly log: Logger;
  readonly probe: Probe;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly multiplier: number;
  readonly drainTimeoutMs: number;
  /** The placed keys' ids (hold, drain, resume for a join). */
  readonly placedKeyIds: () => bigint[];
  /** Whether the head may take writes of a key now (resume after a join). */
  readonly writable: (keyId: bigint) => boolean;
  /** A dirty version installed as committed by a repair (it goes to etcd like a tail commit). */
  readonly onRepair?: (c: CommittedValue) => void;
  /** The tail changed (the commit stream moves to it). */
  readonly onTail: (tail: NodeDataPlane | undefined) => void;
  /** A reconfiguration happened (`peer`: another scheduler's, adopted from the store). */
  readonly onChange?: (why: ChangeReason, state: ChainState) => void;
  /** Where the configuration is agreed with the other schedulers (none: this one decides alone). */
  readonly store?: ChainStore;
  /** Whether the timer's probe rounds run now (membership.via: paxos: only the active scheduler probes). */
  readonly active?: () => boolean;
  /** A key dirty at the head without progress this long has lost a chain message and is repaired (default 500 ms). */
  readonly lostMessageMs?: number;
}

/** The last reconfiguration's duration and each step's, in ms (where the time goes). */
export interface ReconfigurationTiming {
  readonly why: ChangeReason;
  readonly totalMs: number;
  readonly steps: readonly { readonly step: string; readonly ms: number }[];
}

export type ChangeReason = 'failure' | 'join' | 'initial' | 'peer';

export class ChainManager {
  readonly #o: ChainManagerOptions;
  readonly #nodes = new Map<string, NodeDataPlane>();
  readonly liveness = new Map<string, Liveness>();
  #state: ChainState = { epoch: 0, members: [], removed: [], lastChange: 'not started' };
  #timer: NodeJS.Timeout | undefined;
  /** Nodes whose probe is out (and acted on). */
  readonly #probing = new Set<string>();
  /** The store's version of #state (0: nothing stored yet, or no store). */
  #version = 0;
  #unwatch: (() => void) | undefined;
  #retry: NodeJS.Timeout | undefined;
  #scanTimer: NodeJS.Timeout | undefined;
  #scanning = false;
  /** Versions resent by the last resend-dirty step (none: repair-dirty need not wait for them). */
  #resent = 0;
  readonly #stale: StaleDirtyTracker;
  readonly lostMessages: LostMessageStats = { scans: 0, stale: 0, acks: 0, writes: 0, afterReconfiguration: 0, failed: 0 };
  lastReconfiguration: ReconfigurationTiming | undefined;

  constructor(o: ChainManagerOptions) {
    this.#o = o;
    this.#stale = new StaleDirtyTracker(o.lostMessageMs ?? 500);
    for (const n of o.nodes) {
      this.#nodes.set(n.name, n);
      this.liveness.set(n.name, { alive: true, missed: 0, answered: 0 });
    }
  }

  get state(): ChainState {
    return this.#state;
  }

  node(name: string): NodeDataPlane | undefined {
    return this.#nodes.get(name);
  }

  /** The store's version of the chain this scheduler holds (0 without a store). */
  get version(): number {
    return this.#version;
  }

  /** The members' data planes, head first (a member this scheduler has no data plane for is left out). */
  members(): NodeDataPlane[] {
    return this.#state.members.flatMap((m) => this.#nodes.get(m.name) ?? []);
  }

  head(): NodeDataPlane | undefined {
    return this.members()[0];
  }

  tail(): NodeDataPlane | undefined {
    const m = this.members();
    return m[m.length - 1];
  }

  /**
   * Configures the chain of every configured node, in order (epoch 1). With a store: adopts the
   * committed chain when there is one, else proposes the first (one scheduler's wins), and
   * adopts every later committed change. A group that does not answer yet (fewer than f + 1
   * schedulers up) is asked again every `probeIntervalMs` in the background: until then the chain
   * is empty and nothing is probed.
   */
  async init(): Promise<void> {
    const members: Member[] = this.#o.nodes.map((n) => ({ name: n.name, endpoint: n.endpoint }));
    const store = this.#o.store;
    if (store === undefined) {
      await this.#o.mutex.run(() => this.#apply(initialChain(members), 'initial'));
      return;
    }
    this.#unwatch ??= store.watch((stored) => void this.#o.mutex.run(async () => this.#adopt(stored)).catch((err: unknown) => this.#o.log.error({ err }, 'could not adopt a committed chain')));
    const agree = (): Promise<void> =>
      this.#o.mutex.run(async () => {
        if (this.#version > 0) return; // adopted from the log meanwhile
        const stored = await store.read();
        if (stored !== null) this.#adopt(stored);
        else await this.#apply(initialChain(members), 'initial');
      });
    const retry = (err: unknown): void => {
      if (this.#unwatch === undefined) return; // closed
      this.#o.log.warn({ err }, "the schedulers' Paxos group did not answer: asking again");
      this.#retry = setTimeout(() => void agree().catch(retry), this.#o.probeIntervalMs);
    };
    await agree().catch(retry);
  }

  /** Takes a node out of the chain now (a failure seen elsewhere, or tests). */
  fail(name: string, why = 'failed'): Promise<void> {
    return this.#o.mutex.run(() => this.#apply(removeMember(this.#state, name, why), 'failure'));
  }

  /** A configured node joins at the tail by state copy. */
  join(name: string): Promise<void> {
    const n = this.#nodes.get(name);
    if (n === undefined) return Promise.resolve();
    return this.#o.mutex.run(() => this.#apply(joinMember(this.#state, { name, endpoint: n.endpoint }), 'join'));
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => {
      // a reconfiguration that fails (a step, or the schedulers' group not answering) is tried
      // again at the next round: the node still misses its probes
      if (this.#o.active?.() !== false) void this.probeOnce().catch((err: unknown) => this.#o.log.error({ err }, 'reconfiguration failed'));
    }, this.#o.probeIntervalMs);
    this.#timer.unref();
    this.#scanTimer = setInterval(() => {
      if (this.#o.active?.() !== false) void this.scanLostMessages();
    }, Math.max(5, Math.floor(this.#stale.afterMs / 2)));
    this.#scanTimer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#scanTimer !== undefined) clearInterval(this.#scanTimer);
    this.#timer = undefined;
    this.#scanTimer = undefined;
  }

  /**
   * One scan for lost chain messages: the head's keys (one dump), and a repair of every placed
   * key dirty there without progress for `lostMessageMs` (under the mutex). Returns the keys
   * repaired. A failure is counted and logged; the next scan tries again.
   */
  async scanLostMessages(): Promise<number> {
    if (this.#scanning) return 0;
    this.#scanning = true;
    try {
      const members = this.members();
      const head = members[0];
      if (head === undefined || members.length < 2) return 0;
      const keys = await head.getMany(this.#o.placedKeyIds());
      this.lostMessages.scans++;
      const stale = this.#stale.observe(keys, Date.now());
      if (stale.length === 0) return 0;
      this.lostMessages.stale += stale.length;
      return await this.#o.mutex.run(async () => {
        // the chain may have changed while waiting for the mutex: its own repair ran then
        if (this.head() !== head) return 0;
        let n = 0;
        for (const s of stale) {
          const r = await repairLostMessage(this.members(), s.keyId, s.clean, { log: this.#o.log, writable: this.#o.writable, ...(this.#o.onRepair ? { onRepair: this.#o.onRepair } : {}), stats: this.lostMessages });
          if (r !== 'none') n++;
        }
        return n;
      });
    } catch (err) {
      this.lostMessages.failed++;
      this.#o.log.warn({ err }, 'scan for lost chain messages failed: trying again at the next scan');
      return 0;
    } finally {
      this.#scanning = false;
    }
  }

  /** Stops the probes and no longer follows the store's changes. */
  close(): void {
    this.stop();
    this.#unwatch?.();
    this.#unwatch = undefined;
    clearTimeout(this.#retry);
  }

  /**
   * One round of probes; failures and returns are acted on. Each node is probed and acted on on
   * its own: a node whose probe of an earlier round is still out is skipped, so a slow answer
   * from a live node (a loaded loader) does not hold back the count of a dead node's misses.
   */
  async probeOnce(): Promise<void> {
    if (this.#o.store !== undefined && this.#version === 0) return; // no agreed chain yet
    const names = [...this.#nodes.keys()].filter((n) => !this.#probing.has(n));
    for (const n of names) this.#probing.add(n);
    await Promise.all(names.map(async (name) => {
      try {
        const ok = await this.#o.probe(this.#nodes.get(name)!.endpoint, this.#o.probeTimeoutMs).catch(() => false);
        await this.#heard(name, ok);
      } finally {
        this.#probing.delete(name);
      }
    }));
  }

  async #heard(name: string, ok: boolean): Promise<void> {
    const l = this.liveness.get(name)!;
    const member = this.#state.members.some((m) => m.name === name);
    if (ok) {
      l.missed = 0;
      l.answered++;
      if (!member && l.answered === 1 && this.#state.removed.some((m) => m.name === name)) {
        // a node out of the chain that answers again holds values it no longer gets updates
        // for: it forgets them at once (clients with an old view get NOT_PLACED, not old data)
        const node = this.#nodes.get(name)!;
        await this.#o.mutex.run(async () => {
          for (const k of await node.keys()) await node.remove(k.keyId);
        }).catch((err: unknown) => this.#o.log.warn({ err, node: name }, 'could not clear a returning node'));
      }
      if (!member && l.answered >= this.#o.multiplier) {
        l.alive = true;
        this.#o.log.info({ node: name }, 'chain node answers again: joining at the tail');
        await this.join(name).catch((err: unknown) => this.#o.log.error({ err, node: name }, 'join failed'));
      }
      return;
    }
    l.answered = 0;
    l.missed++;
    if (member && l.missed >= this.#o.multiplier) {
      l.alive = false;
      this.#o.log.warn({ node: name, missed: l.missed }, 'chain node missed its probes: taking it out of the chain');
      await this.fail(name, `failed (${l.missed} probes missed)`);
    }
  }

  /** A committed configuration newer than the one held: taken as it is (its proposer ran the steps). */
  #adopt(stored: StoredChain): void {
    if (stored.version <= this.#version) return;
    const tailBefore = this.tail();
    this.#version = stored.version;
    this.#state = stored.state;
    for (const m of stored.state.members) {
      if (!this.#nodes.has(m.name)) this.#o.log.warn({ node: m.name }, 'the agreed chain has a node this scheduler has no data plane for (chain.nodes differ between schedulers)');
    }
    const tail = this.tail();
    if (tail !== tailBefore) this.#o.onTail(tail);
    this.#stale.clear();
    this.#o.log.info({ epoch: stored.state.epoch, version: stored.version, members: stored.state.members.map((m) => m.name) }, `agreed chain: ${stored.state.lastChange}`);
    this.#o.onChange?.('peer', stored.state);
  }

  async #apply(t: Transition, why: ChangeReason): Promise<void> {
    if (t.steps.length === 0 && t.next === this.#state) return;
    const store = this.#o.store;
    if (store !== undefined) {
      const r = await store.propose(this.#version, t.next);
      if (!r.applied) {
        // another scheduler changed the chain first: what won stands, and its proposer runs the steps
        if (r.stored !== null) this.#adopt(r.stored);
        return;
      }
      this.#version = r.stored?.version ?? this.#version + 1;
    }
    const tailBefore = this.tail();
    const started = performance.now();
    const timings: { step: string; ms: number }[] = [];
    this.#resent = 0;
    try {
      for (const s of t.steps) {
        const at = performance.now();
        await this.#step(s, t);
        timings.push({ step: `${s.kind} ${'node' in s ? s.node : `${s.from}->${s.to}`}`, ms: Math.round((performance.now() - at) * 10) / 10 });
      }
    } catch (err) {
      // a join that could not drain or copy: writes resume, the chain stays as it was
      if (why === 'join') await this.#resume().catch(() => undefined);
      if (store !== undefined) {
        // the change is agreed already: a failed join is undone by agreeing on the node's removal
        this.#state = t.next;
        const joined = t.next.members[t.next.members.length - 1];
        if (why === 'join' && joined !== undefined) await this.#apply(removeMember(this.#state, joined.name, 'could not join'), 'failure').catch(() => undefined);
      }
      throw err;
    }
    this.#state = t.next;
    this.#stale.clear();
    const tail = this.tail();
    if (tail !== tailBefore) this.#o.onTail(tail);
    this.lastReconfiguration = { why, totalMs: Math.round((performance.now() - started) * 10) / 10, steps: timings };
    this.#o.log.info({ epoch: t.next.epoch, members: t.next.members.map((m) => m.name), ms: this.lastReconfiguration.totalMs, steps: timings }, t.next.lastChange);
    this.#o.onChange?.(why, t.next);
  }

  async #step(s: Step, t: Transition): Promise<void> {
    const node = (name: string): NodeDataPlane => this.#nodes.get(name)!;
    switch (s.kind) {
      case 'configure':
        return node(s.node).configure(s.config);
      case 'resend-dirty':
        this.#resent += await node(s.node).resendDirty();
        return;
      case 'repair-dirty':
        await this.repairDirty(t.next.members.map((m) => node(m.name)));
        return;
      case 'commit-dirty':
        // the new tail's commits go to etcd: the commit stream moves before it commits
        this.#o.onTail(node(s.node));
        await node(s.node).commitDirty();
        return;
      case 'hold-writes':
        for (const id of this.#o.placedKeyIds()) await node(s.node).setWritable(id, false);
        return;
      case 'drain':
        return this.drain(node(s.node), this.#o.placedKeyIds());
      case 'wipe':
        for (const k of await node(s.node).keys()) await node(s.node).remove(k.keyId);
        return;
      case 'copy':
        for (const k of await node(s.from).keys()) await node(s.to).install(k, true);
        return;
      case 'resume-writes':
        void t;
        return this.#resume();
    }
  }

  async #resume(): Promise<void> {
    const head = this.#nodes.get(this.#state.members[0]?.name ?? '') ?? this.head();
    if (head === undefined) return;
    for (const id of this.#o.placedKeyIds()) await head.setWritable(id, this.#o.writable(id));
  }

  /**
   * After a reconfiguration: every placed key still dirty at one of `members` (head first) is
   * committed at the highest version held (lost-messages.ts `repairAfterReconfiguration`).
   */
  repairDirty(members: readonly NodeDataPlane[]): Promise<number> {
    return repairAfterReconfiguration(members, {
      log: this.#o.log,
      writable: this.#o.writable,
      ...(this.#o.onRepair ? { onRepair: this.#o.onRepair } : {}),
      stats: this.lostMessages,
      placedKeyIds: this.#o.placedKeyIds(),
      waitMs: this.#resent > 0 ? Math.min(this.#o.drainTimeoutMs, 1000) : 0,
    });
  }

  /** Waits until `node` holds no dirty version of these keys (writes held before). */
  async drain(node: NodeDataPlane, keyIds: readonly bigint[]): Promise<void> {
    const deadline = Date.now() + this.#o.drainTimeoutMs;
    for (;;) {
      let dirty = 0;
      let first: bigint | undefined;
      for (const id of keyIds) {
        const d = (await node.get(id))?.dirty ?? 0;
        if (d > 0) first ??= id;
        dirty += d;
      }
      if (dirty === 0) return;
      if (Date.now() > deadline) throw NA_ERR_CRAQD_DRAIN_TIMEOUT(`id ${String(first)}`, dirty, this.#o.drainTimeoutMs);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
