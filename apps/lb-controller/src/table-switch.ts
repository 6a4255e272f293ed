/**
 * Atomic table switches. Each VIP has two table slots in `maglev_tables`; the data plane reads
 * the one `xlb_vip_meta.active_slot` names. A new table is written into the spare slot — only
 * the positions where it differs from what that slot already holds (the table before the active
 * one), or all of it when the slot's content is unknown — and then one `vips` update flips
 * `active_slot`. A packet therefore reads either the old complete table or the new complete
 * table, never a mix.
 *
 * The slot that just stopped being active may still be read by packets that looked up the VIP
 * before the flip; it is rewritten no sooner than `quiesceMs` after the flip (an RCU grace
 * period for XDP on the host is well below a millisecond; the default 5 ms leaves margin).
 */
import type { VipKey, VipMeta } from '@netaccel/bpf-programs/xlb';
import type { DataPlane } from './data-plane.js';
import { diffTables } from './maglev.js';

export interface SlotState {
  /** What each slot holds in the data plane; undefined: unknown (write it whole). */
  readonly slots: [Uint32Array | undefined, Uint32Array | undefined];
  active: 0 | 1;
  /** performance.now() of the last flip. */
  flippedAt: number;
  /** The VIP exists in `vips`. */
  installed: boolean;
  /** The background write that copies the active table into a spare slot of unknown content. */
  filling?: Promise<void>;
}

export interface SwitchResult {
  /** Entries written into the spare slot. */
  readonly written: number;
  /** The VIP's meta was written (new VIP, flip or meta change). */
  readonly flipped: boolean;
  readonly slot: 0 | 1;
}

export const QUIESCE_DEFAULT_MS = 5;

export interface PreparedSwitch {
  readonly key: VipKey;
  readonly meta: Omit<VipMeta, 'activeSlot'>;
  readonly table: Uint32Array;
  /** The slot to make active. */
  readonly slot: 0 | 1;
  readonly written: number;
  /** Whether the meta must be written (a new slot, or only the meta changed). */
  readonly flip: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function equal(a: Uint32Array | undefined, b: Uint32Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class TableSwitcher {
  readonly #dp: DataPlane;
  readonly #quiesceMs: number;
  readonly #state = new Map<number, SlotState>();
  #filled = 0;

  constructor(dp: DataPlane, quiesceMs = QUIESCE_DEFAULT_MS) {
    this.#dp = dp;
    this.#quiesceMs = quiesceMs;
  }

  /** The table the data plane reads for a VIP index, as this switcher wrote it. */
  activeTable(vipIndex: number): Uint32Array | undefined {
    const s = this.#state.get(vipIndex);
    return s?.slots[s.active];
  }

  state(vipIndex: number): Readonly<SlotState> | undefined {
    return this.#state.get(vipIndex);
  }

  /**
   * Makes `table` the VIP's table with `meta` (its vipIndex, flags, tableSize, mode; activeSlot
   * is chosen here). Installs the VIP when it is new: slot 0 first, then the `vips` entry.
   */
  async apply(key: VipKey, meta: Omit<VipMeta, 'activeSlot'>, table: Uint32Array, metaChanged: boolean): Promise<SwitchResult> {
    return this.commit(await this.prepare(key, meta, table, metaChanged));
  }

  /**
   * First half of a switch: writes the table into the spare slot (nothing the data plane reads
   * yet). Switches of several VIPs, and backend records, may be prepared concurrently; each
   * `commit` then flips one VIP.
   */
  async prepare(key: VipKey, meta: Omit<VipMeta, 'activeSlot'>, table: Uint32Array, metaChanged: boolean): Promise<PreparedSwitch> {
    let s = this.#state.get(meta.vipIndex);
    if (!s) {
      s = { slots: [undefined, undefined], active: 0, flippedAt: -Infinity, installed: false };
      this.#state.set(meta.vipIndex, s);
    }
    if (s.filling) await s.filling; // the spare slot is the target: its background copy first
    if (s.installed && equal(s.slots[s.active], table)) {
      return { key, meta, table, slot: s.active, written: 0, flip: metaChanged };
    }
    const target: 0 | 1 = s.installed ? (s.active === 0 ? 1 : 0) : 0;
    const wait = s.flippedAt + this.#quiesceMs - performance.now();
    if (wait > 0) await sleep(wait);
    const before = s.slots[target];
    s.slots[target] = undefined; // unknown while being written (a failed write leaves it so)
    let written = 0;
    if (before === table) {
      // the slot holds this very table (a VIP's previous table taken again): nothing to write
    } else if (before && before.length === table.length) {
      const positions = diffTables(before, table);
      const values = Uint32Array.from(positions, (p) => table[p]!);
      await this.#dp.writeTableSlot(meta.vipIndex, target, values, positions);
      written = positions.length;
    } else {
      await this.#dp.writeTableSlot(meta.vipIndex, target, table);
      written = table.length;
    }
    s.slots[target] = table;
    return { key, meta, table, slot: target, written, flip: true };
  }

  /** Second half: one `vips` update makes the prepared slot active (or installs the VIP). */
  async commit(p: PreparedSwitch): Promise<SwitchResult> {
    const s = this.#state.get(p.meta.vipIndex)!;
    if (!p.flip) return { written: 0, flipped: false, slot: s.active };
    const full: VipMeta = { ...p.meta, activeSlot: p.slot };
    if (s.installed) await this.#dp.flipSlot(p.key, full);
    else await this.#dp.writeVip(p.key, full);
    const written = p.written;
    const changed = !s.installed || s.active !== p.slot;
    s.installed = true;
    s.active = p.slot;
    if (changed) s.flippedAt = performance.now();
    // A spare slot of unknown content (new or adopted VIP) gets the same table once it rests, so
    // that the next switch writes only differences (the first change would otherwise write a
    // whole table, ~1 s for 65537 entries through the loader). The copy runs in the background:
    // the switch is complete without it (a restarted controller announces its VIPs that much
    // sooner), and the next switch or removal of this VIP waits for it.
    const spare: 0 | 1 = p.slot === 0 ? 1 : 0;
    if (s.slots[spare] === undefined && s.filling === undefined) s.filling = this.#fill(s, p.meta.vipIndex, spare, p.table);
    return { written, flipped: true, slot: p.slot };
  }

  async #fill(s: SlotState, vipIndex: number, spare: 0 | 1, table: Uint32Array): Promise<void> {
    try {
      await sleep(this.#quiesceMs);
      await this.#dp.writeTableSlot(vipIndex, spare, table);
      s.slots[spare] = table;
      this.#filled += table.length;
    } catch {
      // left unknown: the next switch into this slot writes it whole
    } finally {
      s.filling = undefined;
    }
  }

  /** Entries written by background copies into spare slots, since the switcher was made. */
  get filledEntries(): number {
    return this.#filled;
  }

  /** Resolves once no background copy is running. */
  async idle(): Promise<void> {
    for (const s of this.#state.values()) if (s.filling) await s.filling;
  }

  /** Takes over a VIP found in the data plane: installed, `active` read by packets, contents unknown. */
  adopt(vipIndex: number, active: 0 | 1): void {
    this.#state.set(vipIndex, { slots: [undefined, undefined], active, flippedAt: performance.now(), installed: true });
  }

  /** An adopted VIP's live slot holds `table` (the controller's record vouches for it). */
  known(vipIndex: number, table: Uint32Array): void {
    const s = this.#state.get(vipIndex);
    if (s?.installed) s.slots[s.active] = table;
  }

  /** Removes a VIP from `vips`; its slots become unknown (the index may be given to another VIP). */
  async remove(key: VipKey, vipIndex: number): Promise<void> {
    const s = this.#state.get(vipIndex);
    if (s?.filling) await s.filling;
    if (s?.installed) await this.#dp.deleteVip(key);
    this.#state.delete(vipIndex);
  }
}
