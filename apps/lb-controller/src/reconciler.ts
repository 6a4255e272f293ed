/**
 * The reconciler: turns the desired state, the backends' health, operator drains and
 * least-connection weights into data-plane writes, and keeps the view the Balancer API, the
 * metrics and the announcements read.
 *
 * A state is checked against the loaded data plane (VIPs, backends, table size, NAT sources,
 * next hops) before anything is written: a state that does not fit is refused whole and the
 * running tables stay. Applying then goes in three phases so that no packet meets a table that
 * names a backend record not yet written or already withdrawn:
 *   1. backend records that gain (new, recovered, draining flag set) are written;
 *   2. each changed VIP gets its new Maglev table in the spare slot and one flip (table-switch);
 *   3. records that lose (removed backends, failed ones) are invalidated, removed VIPs deleted,
 *      and their indexes freed (FIFO, so an index is reused as late as possible).
 * Changes arriving while a pass runs are coalesced into the next pass.
 *
 * Backend records: VALID when the backend is healthy (or unchecked) — a failed backend's record
 * is invalid, so its connection-table entries miss and its flows are rescheduled (its
 * connections are lost anyway; the IPVS analogue is expire_nodest_conn=1); DRAINING when the
 * state or an operator drains it. A table holds the backends that are healthy, not draining and
 * of weight > 0; an unchecked backend ('unknown') enters after its first successful check.
 */
import { XLB_BACKEND_F, XLB_VIP_F } from '@netaccel/bpf-programs/xlb';
import type { Backend, VipKey, XlbConfig } from '@netaccel/bpf-programs/xlb';
import type { Logger } from '@netaccel/telemetry';
import type { DataPlane } from './data-plane.js';
import type { BackendSpec, DesiredState, ServiceSpec } from './desired-state.js';
import { EMPTY_STATE } from './desired-state.js';
import { NA_ERR_LB_CAPACITY, NA_ERR_LB_STATE_INVALID } from './errors.js';
import { IndexPool } from './index-pool.js';
import { findAdoptable, sameBackend, tableDigest } from './adoption.js';
import type { AdoptionStore, BackendRecord, FoundBackend, FoundVip, VipRecord } from './adoption.js';
import { buildMaglevTable, mapTable } from './maglev.js';
import { TableSwitcher } from './table-switch.js';
import type { PreparedSwitch } from './table-switch.js';

const SWEEP_DELAY_MS = 2000; // 2 s after the first pass of an adopting start

export type HealthState = 'unknown' | 'healthy' | 'unhealthy' | 'disabled';

/** Reserved backend index: never valid; empty table entries point to it. */
export const NO_BACKEND_INDEX = 0;

export interface ReconcilerOptions {
  readonly dataPlane: DataPlane;
  /** Written to `xlb_config`: local MAC, NAT sources. */
  readonly config: XlbConfig;
  /** MAC of the router for backends without a MAC (IPIP, GUE, NAT); nexthop 0. */
  readonly gatewayMac?: string;
  readonly quiesceMs?: number;
  /** Called after every pass with what it did (metrics, announcements). */
  readonly onApplied?: (r: ApplyReport) => void;
  readonly log?: Logger;
  /** Where the record of what was applied is kept for the next controller (adoption.ts); none: a restart rewrites the tables. */
  readonly adoption?: AdoptionStore;
  /** After an adopting start, the wait before the backends map is read in full (default 2 s: the daemon serves first). */
  readonly sweepDelayMs?: number;
}

export interface AppliedBackend {
  readonly key: string;
  spec: BackendSpec;
  readonly index: number;
  health: HealthState;
  lastError: string;
  healthChangedAt: Date;
  /** Drained by the operator (Balancer.Drain), on top of spec.draining. */
  drainOverride: boolean | undefined;
  /** Weight in the table (least-connection may differ from spec.weight). */
  effectiveWeight: number;
  inTable: boolean;
  /** The record as last written (undefined: not yet). */
  written: string | undefined;
}

export interface AppliedService {
  spec: ServiceSpec;
  readonly vipIndex: number;
  readonly backends: Map<string, AppliedBackend>;
  /** Identity of the last table built (eligible backends, weights and their data-plane indexes). */
  tableKey: string;
  /** The table of `tableKey` (undefined: none built yet, or adopted). */
  table?: Uint32Array | undefined;
  /**
   * The table before the current one: a change back to it (a backend that flaps, a removal
   * undone) takes it as it is, without a Maglev build (the spare slot holds it: nothing written).
   */
  previous?: { readonly key: string; readonly table: Uint32Array } | undefined;
  metaKey: string;
  /** Adopted VIP: the digest the record vouches for in its live slot, until its first table is built. */
  adoptedDigest?: string | undefined;
}

export interface ApplyReport {
  readonly durationMs: number;
  /** Time from the oldest change this pass applied to its end. */
  readonly latencyMs: number;
  /** Tables switched in (built, or reused as they were: see tablesReused). */
  readonly tablesBuilt: number;
  /** Of tablesBuilt, the VIPs' previous tables taken again without a build. */
  readonly tablesReused: number;
  readonly entriesWritten: number;
  readonly services: number;
}

export function backendKey(serviceId: string, b: { address: string; port: number }): string {
  return `${serviceId}|${b.address}:${b.port}`;
}

export function vipKeyOf(s: ServiceSpec): VipKey {
  return { address: s.vip, port: s.port, protocol: s.protocol };
}

export function isDraining(b: AppliedBackend): boolean {
  return b.drainOverride ?? b.spec.draining;
}

export function isEligible(b: AppliedBackend): boolean {
  return (b.health === 'healthy' || b.health === 'disabled') && !isDraining(b) && b.spec.weight > 0;
}

export class Reconciler {
  readonly #dp: DataPlane;
  readonly #opts: ReconcilerOptions;
  readonly #switcher: TableSwitcher;
  readonly services = new Map<string, AppliedService>();
  #vipPool: IndexPool;
  #backendPool: IndexPool;
  /** VIPs found in the data plane at start, by service id: index and active slot. */
  #adopted = new Map<string, FoundVip>();
  /** Recorded backends found at start, by key, until the desired state claims them. */
  #adoptedBackends = new Map<string, FoundBackend>();
  #staleBackends: number[] = [];
  /** With a record, the backends map is read in full after the first pass (stale records), not before. */
  #sweepPending = false;
  #sweeping: Promise<void> | undefined;
  #sweepWait: (() => void) | undefined;
  #adoptedDataPlane = false;
  #desired: DesiredState = EMPTY_STATE;
  #health = new Map<string, { state: HealthState; error: string; at: Date }>();
  #drains = new Map<string, boolean>();
  #weights = new Map<string, number>();
  #dirtySince: number | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #lastError: unknown;
  tablesBuilt = 0;
  passes = 0;

  constructor(opts: ReconcilerOptions) {
    this.#dp = opts.dataPlane;
    this.#opts = opts;
    this.#switcher = new TableSwitcher(opts.dataPlane, opts.quiesceMs);
    this.#vipPool = new IndexPool(0, opts.dataPlane.info.maxVips);
    this.#backendPool = new IndexPool(1, opts.dataPlane.info.maxBackends);
  }

  get desired(): DesiredState {
    return this.#desired;
  }

  /** The last pass's error, if it failed (retried on the next change). */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Writes the run-time config and next hop, and adopts what a previous controller left (adoption.ts). */
  async init(): Promise<void> {
    await this.#dp.writeConfig(this.#opts.config);
    if (this.#opts.gatewayMac !== undefined) await this.#dp.writeNexthop(0, { mac: this.#opts.gatewayMac, flags: 1 });
    const found = await findAdoptable(this.#dp, this.#opts.adoption);
    const taken = new Set<number>();
    for (const [id, v] of found.vips) {
      this.#adopted.set(id, v);
      taken.add(v.vipIndex);
    }
    this.#vipPool = new IndexPool(0, this.#dp.info.maxVips, taken);
    for (const i of taken) this.#vipPool.takeExact(i);
    // Without a record every valid backend record is stale (invalidated by the first pass); with
    // one, the recorded backends keep their indexes and the whole backends map (4,095 records
    // streamed by the loader: ~1 s under load) is read after the first pass, off the restart path.
    const inUse = new Set(found.recorded ? [] : await this.#dp.validBackends());
    this.#sweepPending = found.recorded;
    for (const [key, b] of found.backends) {
      this.#adoptedBackends.set(key, b);
      inUse.delete(b.index);
      // in the table and its record intact: healthy until its first check says otherwise
      if (b.inTable && b.record !== undefined && (b.record.flags & XLB_BACKEND_F.VALID) !== 0) this.#health.set(key, { state: 'healthy', error: '', at: new Date() });
    }
    this.#staleBackends = [...inUse];
    this.#adoptedDataPlane = found.vips.size > 0 || inUse.size > 0 || found.backends.size > 0;
    this.#backendPool = new IndexPool(1, this.#dp.info.maxBackends, new Set([...inUse, ...[...found.backends.values()].map((b) => b.index)]));
    for (const i of inUse) this.#backendPool.takeExact(i);
    for (const b of found.backends.values()) this.#backendPool.takeExact(b.index);
    if (this.#adoptedDataPlane) {
      const vouched = [...found.vips.values()].filter((v) => v.digest !== undefined).length;
      this.#opts.log?.info({ vips: found.vips.size, vouched, backends: found.backends.size, stale: inUse.size, recorded: found.recorded }, 'adopting the data plane a previous controller left');
    }
  }

  /**
   * Checks a state against the data plane and the controller's configuration; throws
   * NA_ERR_LB_STATE_INVALID / NA_ERR_LB_CAPACITY without changing anything.
   */
  check(state: DesiredState, source = 'desired state'): void {
    const info = this.#dp.info;
    const problems: string[] = [];
    if (state.services.length > info.maxVips) {
      throw NA_ERR_LB_CAPACITY(`${source}: ${state.services.length} services, the data plane holds ${info.maxVips} VIPs (XLB_MAX_VIPS)`);
    }
    const backends = state.services.reduce((n, s) => n + s.backends.length, 0);
    if (backends > info.maxBackends - 1) {
      throw NA_ERR_LB_CAPACITY(`${source}: ${backends} backends, the data plane holds ${info.maxBackends - 1} (XLB_MAX_BACKENDS - 1)`);
    }
    state.services.forEach((s, i) => {
      if (s.tableSize > info.maglevSize) problems.push(`services[${i}].tableSize: expected at most ${info.maglevSize} (XLB_MAGLEV_SIZE of the loaded data plane), got ${s.tableSize}`);
      if (s.mode === 'nat') {
        const family = s.vip.includes(':') ? 6 : 4;
        if ((family === 4 ? this.#opts.config.natSourceV4 : this.#opts.config.natSourceV6) === undefined) {
          problems.push(`services[${i}].mode: nat needs dataPlane.natSourceV${family} in the controller's configuration, got "nat"`);
        }
      }
      s.backends.forEach((b, j) => {
        if (b.mac === undefined && this.#opts.gatewayMac === undefined) {
          problems.push(`services[${i}].backends[${j}].mac: expected a MAC address (or dataPlane.gatewayMac in the controller's configuration), got nothing`);
        }
      });
    });
    if (problems.length > 0) throw NA_ERR_LB_STATE_INVALID.with({ details: { source, issues: problems } }, source, problems.join('\n'));
  }

  /** Replaces the desired state (after check()) and schedules a pass. */
  setDesired(state: DesiredState, source?: string): void {
    this.check(state, source);
    this.#desired = state;
    this.schedule();
  }

  /** The health the reconciler holds for a backend (from the checks, or adopted after a restart). */
  healthOf(key: string): HealthState | undefined {
    return this.#health.get(key)?.state;
  }

  setHealth(key: string, state: HealthState, error = ''): void {
    const prev = this.#health.get(key);
    if (prev && prev.state === state && prev.error === error) return;
    this.#health.set(key, { state, error, at: prev?.state === state ? prev.at : new Date() });
    if (prev?.state !== state) this.schedule();
    else this.#copyHealth(key);
  }

  /** Operator drain (true), undrain (false) or back to the state's flag (undefined). */
  setDrain(key: string, drain: boolean | undefined): void {
    if (drain === undefined) this.#drains.delete(key);
    else this.#drains.set(key, drain);
    this.schedule();
  }

  /** Least-connection weights by backend key (absent: the spec's weight). */
  setWeights(weights: ReadonlyMap<string, number>): void {
    this.#weights = new Map(weights);
    this.schedule();
  }

  /** Runs a pass soon; concurrent requests are coalesced. Resolves when the state is applied. */
  schedule(): Promise<void> {
    this.#dirtySince ??= performance.now();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Shutdown: background work that has not started yet (the post-adoption read) is dropped. */
  stopBackground(): void {
    this.#sweepWait?.();
  }

  /** Resolves once every scheduled pass is done (applied or failed); background work may still run. */
  async applied(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Resolves once every scheduled change is applied (or failed), background slot copies and the post-adoption read included. */
  async settled(): Promise<void> {
    while (this.#running || this.#sweeping) {
      while (this.#running) await this.#running;
      if (this.#sweeping) await this.#sweeping;
    }
    await this.#switcher.idle();
  }

  /** Entries written into spare slots in the background (see TableSwitcher). */
  get backgroundEntriesWritten(): number {
    return this.#switcher.filledEntries;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const since = this.#dirtySince ?? performance.now();
      this.#dirtySince = undefined;
      try {
        await this.#pass(since);
        this.#lastError = undefined;
        this.#saveRecord();
        if (this.#sweepPending) {
          this.#sweepPending = false;
          this.#sweeping = this.#sweep().finally(() => {
            this.#sweeping = undefined;
          });
        }
      } catch (err) {
        this.#lastError = err;
        this.#opts.log?.error({ err }, 'applying the desired state failed; retried on the next change');
      }
    } while (this.#again);
  }

  #copyHealth(key: string): void {
    const h = this.#health.get(key);
    for (const s of this.services.values()) {
      const b = s.backends.get(key);
      if (b && h) {
        b.health = h.state;
        b.lastError = h.error;
        b.healthChangedAt = h.at;
      }
    }
  }

  #record(s: ServiceSpec, b: AppliedBackend): Backend {
    const valid = b.health !== 'unhealthy';
    const flags = (valid ? XLB_BACKEND_F.VALID : 0) | (b.spec.mac !== undefined ? XLB_BACKEND_F.ON_LINK : 0) | (isDraining(b) ? XLB_BACKEND_F.DRAINING : 0);
    return { address: b.spec.address, mac: b.spec.mac ?? '00:00:00:00:00:00', port: s.mode === 'nat' ? b.spec.port : 0, flags, nexthop: 0 };
  }

  async #pass(since: number): Promise<void> {
    const t0 = performance.now();
    this.passes++;
    const dp = this.#dp;
    const state = this.#desired;
    const wanted = new Map(state.services.map((s) => [s.id, s] as const));
    const losing: { index: number; record: Backend | undefined }[] = [];
    const gaining: { index: number; backend: Backend }[] = [];
    let tablesBuilt = 0;
    let tablesReused = 0;
    let entriesWritten = 0;
    const resets: Promise<void>[] = [];
    const dpRecords = new Map<string, Backend>();

    // services: new ones get an index (adopted from the data plane when it has the VIP)
    for (const spec of state.services) {
      let svc = this.services.get(spec.id);
      if (!svc) {
        const adopted = this.#adopted.get(spec.id);
        const vipIndex = adopted ? adopted.vipIndex : this.#vipPool.take();
        if (adopted) this.#adopted.delete(spec.id);
        else if (this.#vipPool.reused(vipIndex) || this.#adoptedDataPlane) resets.push(dp.resetStats('vip_stats', vipIndex));
        // an adopted VIP's meta is what the data plane has; its table is known if the record vouches for it
        svc = { spec, vipIndex, backends: new Map(), tableKey: '', metaKey: adopted?.metaKey ?? '', adoptedDigest: adopted?.digest };
        this.services.set(spec.id, svc);
        if (adopted) this.#switcher.adopt(vipIndex, adopted.activeSlot);
      }
      svc.spec = spec;
      const keep = new Set<string>();
      for (const b of spec.backends) {
        const key = backendKey(spec.id, b);
        keep.add(key);
        let ab = svc.backends.get(key);
        if (!ab) {
          const found = this.#adoptedBackends.get(key);
          this.#adoptedBackends.delete(key);
          const index = found ? found.index : this.#backendPool.take();
          if (found) {
            this.#backendPool.markUsed(index);
            if (found.record !== undefined) dpRecords.set(key, found.record);
          } else if (this.#backendPool.reused(index) || this.#adoptedDataPlane) resets.push(dp.resetStats('backend_stats', index));
          const h = this.#health.get(key);
          ab = {
            key, spec: b, index, health: h?.state ?? (spec.healthCheck.type === 'none' ? 'disabled' : 'unknown'), lastError: h?.error ?? '',
            healthChangedAt: h?.at ?? new Date(), drainOverride: undefined, effectiveWeight: b.weight, inTable: false, written: undefined,
          };
          svc.backends.set(key, ab);
        }
        ab.spec = b;
        const h = this.#health.get(key);
        if (spec.healthCheck.type === 'none') ab.health = 'disabled';
        else if (h) {
          ab.health = h.state === 'disabled' ? 'unknown' : h.state;
          ab.lastError = h.error;
          ab.healthChangedAt = h.at;
        } else if (ab.health === 'disabled') ab.health = 'unknown';
        ab.drainOverride = this.#drains.get(key);
        const lc = spec.scheduler === 'lc' || spec.scheduler === 'wlc' ? this.#weights.get(key) : undefined;
        ab.effectiveWeight = ab.spec.weight === 0 ? 0 : (lc ?? ab.spec.weight);
      }
      for (const [key, ab] of svc.backends) {
        if (!keep.has(key)) {
          svc.backends.delete(key);
          losing.push({ index: ab.index, record: undefined });
        }
      }
      // phase 1: records that gain
      for (const ab of svc.backends.values()) {
        const rec = this.#record(spec, ab);
        const text = JSON.stringify(rec);
        if (text === ab.written) continue;
        const inMap = dpRecords.get(ab.key);
        if (inMap !== undefined && sameBackend(inMap, rec)) {
          ab.written = text; // adopted: the map already holds this record
          continue;
        }
        if ((rec.flags & XLB_BACKEND_F.VALID) === 0 && ab.written !== undefined) losing.push({ index: ab.index, record: rec });
        else gaining.push({ index: ab.index, backend: rec });
        ab.written = text;
      }
    }

    // phase 2: stats resets, new records and the spare slots' tables are written concurrently
    // (nothing names a new index or reads a spare slot yet), then each VIP flips once all are in
    // place: the stats rows of new indexes are zero before a table or a VIP names them
    const zeroed = Promise.allSettled(resets);
    const records = dp.writeBackends(gaining);
    const prepared: Promise<PreparedSwitch>[] = [];
    const built: { svc: AppliedService; tableKey: string; metaKey: string; table: Uint32Array }[] = [];
    for (const svc of this.services.values()) {
      if (!wanted.has(svc.spec.id)) continue;
      const spec = svc.spec;
      const eligible = [...svc.backends.values()].filter(isEligible);
      for (const b of svc.backends.values()) b.inTable = false;
      // the indexes too: a backend removed and added again may come back at another index
      const tableKey = `${spec.tableSize}|${eligible.map((b) => `${b.key}*${b.effectiveWeight}@${b.index}`).sort().join(',')}`;
      const flags = spec.flags.hashSourceOnly ? XLB_VIP_F.HASH_SRC_ONLY : 0;
      const metaKey = `${flags}|${spec.mode}|${spec.tableSize}`;
      for (const b of eligible) b.inTable = b.effectiveWeight > 0;
      if (tableKey === svc.tableKey && metaKey === svc.metaKey) continue;
      let table: Uint32Array;
      // the same backends at the same indexes make the same table: the previous one (or the
      // current one, when only the meta changed) is taken as it is
      const known = svc.adoptedDigest !== undefined ? undefined : svc.previous?.key === tableKey ? svc.previous.table : svc.tableKey === tableKey ? svc.table : undefined;
      if (known !== undefined) {
        table = known;
        tablesReused++;
      } else {
        const byName = new Map(eligible.map((b) => [b.key, b] as const));
        const t = buildMaglevTable(eligible.map((b) => ({ name: b.key.slice(b.key.indexOf('|') + 1), weight: b.effectiveWeight })), spec.tableSize);
        const indexOf = (mb: { name: string }): number => byName.get(`${spec.id}|${mb.name}`)!.index;
        table = mapTable(t, indexOf, NO_BACKEND_INDEX);
      }
      if (svc.adoptedDigest !== undefined) {
        // adopted: the live slot keeps its table when it is the one wanted (nothing written), else the spare slot gets it (the repair)
        if (tableDigest(table) === svc.adoptedDigest) this.#switcher.known(svc.vipIndex, table);
        svc.adoptedDigest = undefined;
      }
      tablesBuilt++;
      prepared.push(this.#switcher.prepare(vipKeyOf(spec), { vipIndex: svc.vipIndex, flags, tableSize: spec.tableSize, mode: spec.mode }, table, metaKey !== svc.metaKey));
      built.push({ svc, tableKey, metaKey, table });
    }
    const ready = await Promise.allSettled(prepared);
    await records;
    for (const r of await zeroed) if (r.status === 'rejected') throw r.reason;
    for (const r of ready) if (r.status === 'rejected') throw r.reason;
    const flips = await Promise.all(ready.map((r) => this.#switcher.commit((r as PromiseFulfilledResult<PreparedSwitch>).value)));
    for (const f of flips) entriesWritten += f.written;
    // only now is the table current (a failed pass leaves the keys, so the next pass retries)
    for (const b of built) {
      if (b.svc.table !== undefined && b.svc.tableKey !== b.tableKey) b.svc.previous = { key: b.svc.tableKey, table: b.svc.table };
      b.svc.table = b.table;
      b.svc.tableKey = b.tableKey;
      b.svc.metaKey = b.metaKey;
    }

    // phase 3: what loses, removed VIPs, adopted leftovers
    for (const [id, svc] of this.services) {
      if (wanted.has(id)) continue;
      await this.#switcher.remove(vipKeyOf(svc.spec), svc.vipIndex);
      for (const ab of svc.backends.values()) losing.push({ index: ab.index, record: undefined });
      this.services.delete(id);
      this.#vipPool.give(svc.vipIndex);
    }
    for (const [id, a] of this.#adopted) {
      await dp.deleteVip(a.key);
      this.#vipPool.give(a.vipIndex);
      this.#adopted.delete(id);
    }
    const invalid: Backend = { address: '0.0.0.0', mac: '00:00:00:00:00:00', port: 0, flags: 0, nexthop: 0 };
    for (const b of this.#adoptedBackends.values()) this.#staleBackends.push(b.index); // recorded, no longer wanted
    this.#adoptedBackends.clear();
    const stale = this.#staleBackends.splice(0);
    await dp.writeBackends([...losing.map((l) => ({ index: l.index, backend: l.record ?? invalid })), ...stale.map((index) => ({ index, backend: invalid }))]);
    for (const l of losing) if (l.record === undefined) this.#backendPool.give(l.index);
    for (const i of stale) this.#backendPool.give(i);
    this.tablesBuilt += tablesBuilt;
    const end = performance.now();
    const report: ApplyReport = { durationMs: end - t0, latencyMs: end - since, tablesBuilt, tablesReused, entriesWritten, services: this.services.size };
    this.#opts.log?.debug({ ...report }, 'desired state applied');
    this.#opts.onApplied?.(report);
  }

  /** The record of what the data plane holds now, for the next controller (adoption.ts). */
  #saveRecord(): void {
    const store = this.#opts.adoption;
    if (!store) return;
    const vips: VipRecord[] = [];
    const backends: BackendRecord[] = [];
    for (const svc of this.services.values()) {
      const st = this.#switcher.state(svc.vipIndex);
      const live = st?.installed ? st.slots[st.active] : undefined;
      if (st && live) vips.push({ id: svc.spec.id, vipIndex: svc.vipIndex, activeSlot: st.active, metaKey: svc.metaKey, digest: tableDigest(live) });
      for (const ab of svc.backends.values()) if (ab.written !== undefined) backends.push({ key: ab.key, index: ab.index, inTable: ab.inTable });
    }
    try {
      store.save({ format: 1, savedAt: new Date().toISOString(), dataPlane: this.#dp.describe, vips, backends });
    } catch (err) {
      this.#opts.log?.warn({ err }, 'adoption record not saved; a restarted controller rewrites the tables');
    }
  }

  /** After an adopting start: valid backend records that no backend of ours names are invalidated. */
  async #sweep(): Promise<void> {
    const go = await new Promise<boolean>((r) => {
      const timer = setTimeout(() => r(true), this.#opts.sweepDelayMs ?? SWEEP_DELAY_MS);
      this.#sweepWait = () => {
        clearTimeout(timer);
        r(false);
      };
    });
    this.#sweepWait = undefined;
    if (!go) return;
    try {
      const valid = await this.#dp.validBackends();
      const owned = new Set<number>();
      for (const svc of this.services.values()) for (const ab of svc.backends.values()) owned.add(ab.index);
      for (const b of this.#adoptedBackends.values()) owned.add(b.index);
      const stale = valid.filter((i) => !owned.has(i) && this.#backendPool.takeExact(i));
      if (stale.length === 0) return;
      this.#opts.log?.info({ backends: stale.length }, 'invalidating backend records no backend names');
      this.#staleBackends.push(...stale);
      await this.schedule();
    } catch (err) {
      this.#opts.log?.warn({ err }, 'reading the backends map after adoption failed; stale records stay until the next start');
    }
  }
}
