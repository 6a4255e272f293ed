/**
 * electrode_state and el_log as memory: both are BPF_F_MMAPABLE arrays (electrode_maps.h), which
 * ElectrodeOffload maps into the replica (MappedArray of @netaccel/bpf) so that its hot path —
 * the follower's drain, every replica's publish — makes no syscall. offload.ts falls back to the
 * map syscalls when mapping fails (an object built without the flag, a map the loader made
 * otherwise, NETACCEL_ELECTRODE_MMAP=0).
 *
 * Memory order. The programs run on other CPUs at the same time; every access whose order
 * matters is an Atomics operation (sequentially consistent; on x86-64 a plain load, an xchg or
 * a lock cmpxchg), which also keeps the JavaScript compiler from reordering or merging them.
 *
 * The ring (el_log, slot = op % size): the fast-ack (el_log_prepare) claims a FREE slot with a
 * compare-and-swap FREE -> WRITING, copies the body, writes view, op, commit and len, and only
 * then sets the state word FULL with an atomic exchange (a full barrier for the CPU and the
 * compiler). drain() loads the state word first; FULL means every other member is complete. It
 * then reads the tag (op), view, commit and len, copies the body out (the slot is reused after
 * it is freed), re-checks the state word and the tag (only user space turns a FULL slot FREE, so
 * they cannot change; a slot that did is not returned and the drain stops there), and frees the
 * slot with an atomic store of FREE, after its last read of the slot.
 *
 * The state (electrode_state): user space alone writes view, status, self, leader, n, commit
 * and offloads; last_op is written by both (the follower's fast-ack advances it with a
 * compare-and-swap last -> op). publish() keeps the binding's invariants (offload.ts) with
 * memory instead of a whole-value update:
 * - same view, status, roles and n (the common case): last_op advances with a compare-and-swap
 *   loop in normal status (never backwards: a fast-ack that lands meanwhile makes the CAS fail
 *   and is kept; the syscall path could overwrite it), is stored as is otherwise (no program
 *   writes it then), and commit is stored when it changed (no program writes it);
 * - anything else changes: status is first set to view-change (every offload then passes up,
 *   so no program acts on a half-written state), the members are written, and the new status
 *   is stored last.
 * A program that read status normal just before the pause may still complete its
 * compare-and-swap on last_op; it then logs an entry of the old view, which drain hands to the
 * replica and the replica discards (as with the syscall path).
 */
import { MappedArray } from '@netaccel/bpf';
import type { BpfMap } from '@netaccel/bpf';
import { ELECTRODE_LAYOUTS } from './codec.js';
import type { ElectrodeState } from './codec.js';
import { ELECTRODE_MAX_BODY, ELECTRODE_SLOT, ELECTRODE_STATUS } from './constants.js';
import type { ElectrodeStatusName } from './constants.js';

const S = ELECTRODE_LAYOUTS.state.members;
const E = ELECTRODE_LAYOUTS.logEntry.members;
const STATUS_NAMES = new Map<number, ElectrodeStatusName>(Object.entries(ELECTRODE_STATUS).map(([k, v]) => [v, k as ElectrodeStatusName]));

/** The members publish() writes (the replica's PublishedState): the state without the switches. */
export type StateWrite = Omit<ElectrodeState, 'offloads'>;

/** One drained ring entry (offload.ts's DrainedEntry). */
export interface RingEntry {
  readonly op: bigint;
  readonly view: number;
  readonly commit: bigint;
  readonly body: Buffer;
}

function sizeCheck(map: BpfMap, want: number, name: string): void {
  if (map.valueSize !== want) throw new RangeError(`${name}: expected ${want}-byte values, the map has ${map.valueSize}`);
}

/** electrode_state[0] as memory. */
export class MappedState {
  readonly #m: MappedArray;
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #u64: BigUint64Array;

  private constructor(m: MappedArray) {
    this.#m = m;
    this.#u8 = m.bytes;
    this.#u32 = m.u32;
    this.#u64 = m.u64;
  }

  /** Maps the state map (throws when it cannot be mapped). */
  static open(map: BpfMap): MappedState {
    sizeCheck(map, ELECTRODE_LAYOUTS.state.size, 'electrode_state');
    return new MappedState(MappedArray.map(map));
  }

  /** The state now, or undefined while it is all zero (nothing published). */
  read(): ElectrodeState | undefined {
    const u32 = this.#u32;
    const lastOp = Atomics.load(this.#u64, S.last_op / 8);
    if (u32.every((w) => w === 0)) return undefined;
    const code = Atomics.load(this.#u8, S.status);
    const status = STATUS_NAMES.get(code);
    if (status === undefined) throw new RangeError(`electrode_state.status: expected 0..2, got ${code}`);
    return {
      view: Atomics.load(u32, S.view / 4),
      status,
      self: this.#u8[S.self]!,
      leader: this.#u8[S.leader]!,
      n: this.#u8[S.n]!,
      lastOp,
      commit: Atomics.load(this.#u64, S.commit / 8),
      offloads: Atomics.load(u32, S.offloads / 4),
    };
  }

  /** Writes `s` (the rules in this file's comment); `offloads` only when given (the first publish). */
  publish(s: StateWrite, cur: ElectrodeState | undefined, offloads: number | undefined): void {
    const u64 = this.#u64;
    if (cur && offloads === undefined && cur.view === s.view && cur.status === s.status && cur.self === s.self && cur.leader === s.leader && cur.n === s.n) {
      if (s.status === 'normal') this.advanceLastOp(s.lastOp);
      else Atomics.store(u64, S.last_op / 8, s.lastOp);
      if (cur.commit !== s.commit) Atomics.store(u64, S.commit / 8, s.commit);
      return;
    }
    const u8 = this.#u8;
    Atomics.store(u8, S.status, ELECTRODE_STATUS['view-change']); // hold the programs off
    const kernel = Atomics.load(u64, S.last_op / 8);
    const keep = cur !== undefined && cur.view === s.view && cur.status === 'normal' && s.status === 'normal' && kernel > s.lastOp;
    Atomics.store(this.#u32, S.view / 4, s.view);
    Atomics.store(u8, S.self, s.self);
    Atomics.store(u8, S.leader, s.leader);
    Atomics.store(u8, S.n, s.n);
    Atomics.store(u64, S.last_op / 8, keep ? kernel : s.lastOp);
    Atomics.store(u64, S.commit / 8, s.commit);
    if (offloads !== undefined) Atomics.store(this.#u32, S.offloads / 4, offloads);
    Atomics.store(u8, S.status, ELECTRODE_STATUS[s.status]); // last
  }

  /** last_op := op unless it is at or beyond op already (compare-and-swap: never backwards). */
  advanceLastOp(op: bigint): void {
    const u64 = this.#u64;
    for (;;) {
      const cur = Atomics.load(u64, S.last_op / 8);
      if (cur >= op || Atomics.compareExchange(u64, S.last_op / 8, cur, op) === cur) return;
    }
  }

  setOffloads(bits: number): void {
    Atomics.store(this.#u32, S.offloads / 4, bits);
  }

  close(): void {
    this.#m.close();
  }
}

/** el_log as memory: the follower's drain. */
export class MappedRing {
  readonly size: number;
  readonly #m: MappedArray;
  readonly #bytes: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #u64: BigUint64Array;
  readonly #ring: bigint;
  /** Words of one slot: stride / 4 and stride / 8. */
  readonly #w32: number;
  readonly #w64: number;

  private constructor(m: MappedArray) {
    this.#m = m;
    this.size = m.maxEntries;
    this.#ring = BigInt(m.maxEntries);
    this.#bytes = m.bytes;
    this.#u32 = m.u32;
    this.#u64 = m.u64;
    this.#w32 = m.stride / 4;
    this.#w64 = m.stride / 8;
  }

  /** Maps the ring (throws when it cannot be mapped). */
  static open(map: BpfMap): MappedRing {
    sizeCheck(map, ELECTRODE_LAYOUTS.logEntry.size, 'el_log');
    return new MappedRing(MappedArray.map(map));
  }

  /**
   * The entries from afterOp + 1 on, in op order, while each slot is FULL and tagged with the
   * expected op; each is freed once copied. A FULL slot tagged at or below afterOp where the run
   * stops is a leftover and is freed too.
   */
  drain(afterOp: bigint): RingEntry[] {
    const out: RingEntry[] = [];
    const u32 = this.#u32;
    const u64 = this.#u64;
    for (let op = afterOp + 1n; out.length < this.size; op++) {
      const slot = Number(op % this.#ring);
      const w = slot * this.#w32;
      const d = slot * this.#w64;
      if (Atomics.load(u32, w + E.state / 4) !== ELECTRODE_SLOT.FULL) break;
      const tag = Atomics.load(u64, d + E.op / 8);
      if (tag !== op) {
        if (tag <= afterOp) Atomics.store(u32, w + E.state / 4, ELECTRODE_SLOT.FREE);
        break;
      }
      const len = Atomics.load(u32, w + E.len / 4);
      if (len > ELECTRODE_MAX_BODY) throw new RangeError(`electrode_log_entry.len: at most ${ELECTRODE_MAX_BODY}, got ${len}`);
      const view = Atomics.load(u32, w + E.view / 4);
      const commit = Atomics.load(u64, d + E.commit / 8);
      const at = slot * this.#w32 * 4 + E.body;
      const body = Buffer.allocUnsafe(len);
      body.set(this.#bytes.subarray(at, at + len));
      // only user space frees a FULL slot: unchanged, unless something else wrote the map
      if (Atomics.load(u32, w + E.state / 4) !== ELECTRODE_SLOT.FULL || Atomics.load(u64, d + E.op / 8) !== op) break;
      out.push({ op, view, commit, body });
      Atomics.store(u32, w + E.state / 4, ELECTRODE_SLOT.FREE);
    }
    return out;
  }

  close(): void {
    this.#m.close();
  }
}
