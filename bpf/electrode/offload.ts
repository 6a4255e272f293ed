/**
 * ElectrodeOffload: the `ReplicaOffload` of libs/paxos (/work/helpers/paxos-wire.md, "Offload
 * integration contract") over the maps of one loaded electrode.bpf.o. Structurally typed: the
 * interface is restated here (ReplicaOffloadContract) so that this package does not depend on
 * libs/paxos.
 *
 * publish(state) writes electrode_state. The offload switches are not part of the replica's
 * state: the first publish writes the constructor's `offloads`, later ones keep whatever the
 * map holds (an operator may switch them at run time with setOffloads). last_op never moves
 * backwards within one view in normal status: the follower's fast-ack may have logged entries
 * user space has not drained yet, and writing an older last_op would make the kernel log them
 * again (harmless, drain skips them, but wasted). A fast-ack that lands between publish's read
 * and its write is overwritten; the next Prepare is then passed up as a gap, user space drains
 * first and loses nothing. To keep that window rare (and save a syscall), publish writes nothing
 * when what the kernel uses is unchanged: the same view, status, self, leader, n and last_op (the
 * kernel's, when ahead), and at a follower whatever the commit number (no program reads a
 * follower's; the map's lags until the next write). Under load a follower drains and commits
 * continually; writing each new commit number raced with the fast-ack's last_op and sent
 * Prepares up as gaps (the 3-replica namespace test: 125 gaps against 58 fast acks at one
 * follower before, none after).
 *
 * broadcasting() answers from the bits last read or written (publish reads the map each time,
 * setOffloads writes it), so the leader's every PREPARE costs no map read.
 *
 * drain(afterOp) reads the ring from afterOp + 1 on, in op order, while each slot is FULL and
 * tagged with the expected op, and writes every slot it returns back FREE (one batch update
 * for all of them); it stops at the
 * first op the ring does not hold (that op was passed up, or is being written). A FULL slot at
 * that point tagged with an op at or below afterOp is a leftover (logged twice, see above) and
 * is freed too.
 *
 * Shared memory (the default): electrode_state and el_log are BPF_F_MMAPABLE arrays, mapped into
 * this process when the binding is made (mapped.ts: MappedState, MappedRing); publish, drain,
 * state, setOffloads and offloads then read and write memory, no syscall, with the same rules
 * as above and one race fewer: publish advances last_op with a compare-and-swap, so a fast-ack
 * landing between its read and its write is kept, not overwritten (the gap above cannot
 * happen), and a follower's commit number is written as well (no program reads it, and the
 * store does not touch last_op). Each map falls back to the syscalls above when it cannot be
 * mapped (a map without the flag, an mmap error: `mapped()` says which path each uses), or when
 * the option `mmap` is false (default: the environment's NETACCEL_ELECTRODE_MMAP, `0` = off, for
 * A/B runs). close() unmaps.
 */
import { isMmapable } from '@netaccel/bpf';
import type { BpfMap } from '@netaccel/bpf';
import { FREE_LOG_ENTRY, decodeCounter, decodeLogEntry, decodeState, decodeU64Sum, encodeReplica, encodeState, encodeU32 } from './codec.js';
import type { Counter, ElectrodeState, ReplicaConfig } from './codec.js';
import { ELECTRODE_OFF, ELECTRODE_SLOT, ELECTRODE_STAT } from './constants.js';
import type { ElectrodeStatName, ElectrodeStatusName } from './constants.js';
import { MappedRing, MappedState } from './mapped.js';
import { ELECTRODE_REASONS } from './reasons.js';

/** libs/paxos' ReplicaStatus. */
export type ReplicaStatus = ElectrodeStatusName;

/** What libs/paxos publishes (ReplicaOffload.publish's argument). */
export interface PublishedState {
  readonly view: number;
  readonly status: ReplicaStatus;
  readonly self: number;
  readonly leader: number;
  readonly n: number;
  readonly lastOp: bigint;
  readonly commit: bigint;
}

/** One fast-acked Prepare (ReplicaOffload.drain's elements). */
export interface DrainedEntry {
  readonly op: bigint;
  readonly view: number;
  readonly commit: bigint;
  readonly body: Buffer;
}

/** libs/paxos' ReplicaOffload, restated (structural typing keeps the two in step). */
export interface ReplicaOffloadContract {
  publish(state: PublishedState): void;
  drain(afterOp: bigint): DrainedEntry[];
  close(): Promise<void>;
}

/** The maps of one electrode.bpf.o the binding uses. */
export interface ElectrodeMaps {
  readonly state: BpfMap;
  readonly config: BpfMap;
  readonly log: BpfMap;
  readonly stats: BpfMap;
  readonly reasons: BpfMap;
}

export interface ElectrodeOffloadOptions {
  /** ELECTRODE_OFF bits written by the first publish (default: all three). */
  readonly offloads?: number;
  /** Run when close() is called (e.g. detach and close the object). */
  readonly onClose?: () => void | Promise<void>;
  /**
   * Map electrode_state and el_log into this process when they are BPF_F_MMAPABLE (no syscall
   * on the hot path); false: the map syscalls. Default: NETACCEL_ELECTRODE_MMAP !== '0'.
   */
  readonly mmap?: boolean;
}

/** Which path each shared map uses (ElectrodeOffload.mapped()). */
export interface MappedPaths {
  readonly state: boolean;
  readonly log: boolean;
  /** Why a map that was to be mapped is not (the error's message), if one is not. */
  readonly error?: string;
}

/** The default of ElectrodeOffloadOptions.mmap: NETACCEL_ELECTRODE_MMAP, `0` = off. */
export function mmapDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NETACCEL_ELECTRODE_MMAP !== '0';
}

/** Counters of the three offloads, summed over CPUs. */
export interface ElectrodeCounters {
  readonly stats: Readonly<Record<ElectrodeStatName, bigint>>;
  /** By reason name (ELECTRODE_R_*), every reason (zeros included). */
  readonly reasons: ReadonlyMap<string, Counter>;
}

const ZERO = encodeU32(0);

export class ElectrodeOffload implements ReplicaOffloadContract {
  readonly #maps: ElectrodeMaps;
  readonly #initialOffloads: number;
  readonly #onClose: (() => void | Promise<void>) | undefined;
  #published = false;
  #closed = false;
  /** The ELECTRODE_OFF bits as last read from or written to the map. */
  #bits: number;
  readonly #state: MappedState | undefined;
  readonly #ring: MappedRing | undefined;
  readonly #mapError: string | undefined;

  constructor(maps: ElectrodeMaps, opts: ElectrodeOffloadOptions = {}) {
    const off = opts.offloads ?? ELECTRODE_OFF.ALL;
    if (!Number.isInteger(off) || off < 0 || off > ELECTRODE_OFF.ALL) throw new RangeError(`offloads: expected ELECTRODE_OFF bits 0..7, got ${String(off)}`);
    this.#maps = maps;
    this.#initialOffloads = off;
    this.#bits = off;
    this.#onClose = opts.onClose;
    let error: string | undefined;
    const tryMap = <T>(map: BpfMap, open: (m: BpfMap) => T): T | undefined => {
      if (!(opts.mmap ?? mmapDefault()) || !isMmapable(map)) return undefined;
      try {
        return open(map);
      } catch (err) {
        error ??= err instanceof Error ? err.message : String(err);
        return undefined;
      }
    };
    this.#state = tryMap(maps.state, (m) => MappedState.open(m));
    this.#ring = tryMap(maps.log, (m) => MappedRing.open(m));
    this.#mapError = error;
  }

  /** Whether electrode_state and el_log are read and written as memory (else by syscalls). */
  mapped(): MappedPaths {
    return { state: this.#state !== undefined, log: this.#ring !== undefined, ...(this.#mapError !== undefined ? { error: this.#mapError } : {}) };
  }

  /** Entries of the log ring (ELECTRODE_RING_SIZE of the object's build). */
  get ringSize(): number {
    return this.#maps.log.maxEntries;
  }

  /** The state as the kernel holds it now (undefined before anything was published). */
  state(): ElectrodeState | undefined {
    this.#open();
    if (this.#state) return this.#state.read();
    const v = this.#maps.state.lookup(ZERO);
    if (!v || v.every((b) => b === 0)) return undefined;
    return decodeState(v);
  }

  publish(s: PublishedState): void {
    this.#open();
    checkPublished(s);
    const cur = this.#published ? this.state() : undefined;
    if (this.#state) {
      const offloads = cur ? cur.offloads : this.#initialOffloads;
      this.#bits = offloads;
      this.#state.publish(s, cur, cur ? undefined : offloads);
      this.#published = true;
      return;
    }
    let lastOp = s.lastOp;
    if (cur && cur.view === s.view && cur.status === 'normal' && s.status === 'normal' && cur.lastOp > lastOp) lastOp = cur.lastOp;
    const offloads = cur ? cur.offloads : this.#initialOffloads;
    this.#bits = offloads;
    if (cur && sameForKernel(cur, s, lastOp)) return;
    this.#maps.state.update(ZERO, encodeState({ ...s, lastOp, offloads }));
    this.#published = true;
  }

  drain(afterOp: bigint): DrainedEntry[] {
    this.#open();
    if (typeof afterOp !== 'bigint' || afterOp < 0n) throw new RangeError(`afterOp: expected a bigint >= 0, got ${String(afterOp)}`);
    if (this.#ring) return this.#ring.drain(afterOp);
    const ring = BigInt(this.ringSize);
    const out: DrainedEntry[] = [];
    const freed: (readonly [Buffer, Buffer])[] = [];
    for (let op = afterOp + 1n; out.length < this.ringSize; op++) {
      const key = encodeU32(Number(op % ring));
      const raw = this.#maps.log.lookup(key);
      if (!raw) break;
      const e = decodeLogEntry(raw);
      if (e.state === ELECTRODE_SLOT.FULL && e.op === op) {
        out.push({ op: e.op, view: e.view, commit: e.commit, body: e.body });
        freed.push([key, FREE_LOG_ENTRY]);
        continue;
      }
      if (e.state === ELECTRODE_SLOT.FULL && e.op <= afterOp) freed.push([key, FREE_LOG_ENTRY]);
      break;
    }
    // every slot returned (and a leftover) back FREE in one syscall
    this.#maps.log.updateBatch(freed);
    return out;
  }

  /** Writes the group's configuration: replica i at el_config[i]; the other entries invalid. */
  configure(replicas: readonly ReplicaConfig[]): void {
    this.#open();
    const max = this.#maps.config.maxEntries;
    if (replicas.length < 1 || replicas.length > max) throw new RangeError(`replicas: expected 1..${max} replicas, got ${replicas.length}`);
    const port = replicas[0]!.port;
    replicas.forEach((r, i) => {
      if (r.port !== port) throw new RangeError(`replicas[${i}].port: every replica of a group uses one port (${port}), got ${r.port}`);
    });
    const encoded = replicas.map((r, i) => encodeReplica(r, `replicas[${i}]`));
    for (let i = 0; i < max; i++) this.#maps.config.update(encodeU32(i), encoded[i] ?? Buffer.alloc(this.#maps.config.valueSize));
  }

  /** Switches the offloads (ELECTRODE_OFF bits) at run time; state published stays. */
  setOffloads(bits: number): void {
    this.#open();
    if (!Number.isInteger(bits) || bits < 0 || bits > ELECTRODE_OFF.ALL) throw new RangeError(`offloads: expected ELECTRODE_OFF bits 0..7, got ${String(bits)}`);
    const cur = this.state();
    if (!cur) throw new RangeError('offloads: publish the replica state first');
    if (this.#state) this.#state.setOffloads(bits);
    else this.#maps.state.update(ZERO, encodeState({ ...cur, offloads: bits }));
    this.#bits = bits;
  }

  /** The ELECTRODE_OFF bits in force (the constructor's until the first publish). */
  offloads(): number {
    const bits = this.state()?.offloads ?? this.#initialOffloads;
    this.#bits = bits;
    return bits;
  }

  /**
   * Leader: whether the kernel broadcasts Prepares (send each once, to the first follower, the
   * lowest index that is not the leader's) or user space must send one to every follower.
   */
  broadcasting(): boolean {
    return (this.#bits & ELECTRODE_OFF.BROADCAST) !== 0;
  }

  counters(): ElectrodeCounters {
    this.#open();
    const stats = {} as Record<ElectrodeStatName, bigint>;
    for (const [name, i] of Object.entries(ELECTRODE_STAT) as [ElectrodeStatName, number][]) {
      const v = this.#maps.stats.lookupPerCpu(encodeU32(i));
      stats[name] = v ? decodeU64Sum(v) : 0n;
    }
    const reasons = new Map<string, Counter>();
    for (const r of ELECTRODE_REASONS) {
      const v = this.#maps.reasons.lookupPerCpu(encodeU32(r.value));
      reasons.set(r.name, v ? decodeCounter(v) : { packets: 0n, bytes: 0n });
    }
    return { stats, reasons };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // unmapped before anything else: no method reaches the memory once closed (#open)
    this.#state?.close();
    this.#ring?.close();
    await this.#onClose?.();
  }

  #open(): void {
    if (this.#closed) throw new RangeError('ElectrodeOffload: closed');
  }
}

/** Whether writing `s` (with the kernel's `lastOp`) would change nothing a program reads. */
function sameForKernel(cur: ElectrodeState, s: PublishedState, lastOp: bigint): boolean {
  if (cur.view !== s.view || cur.status !== s.status || cur.self !== s.self || cur.leader !== s.leader || cur.n !== s.n || cur.lastOp !== lastOp) return false;
  return s.self !== s.leader || cur.commit === s.commit;
}

function checkPublished(s: PublishedState): void {
  const int = (path: string, v: unknown, max: number, min = 0): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`state.${path}: expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  };
  int('n', s.n, 31, 1);
  int('self', s.self, s.n - 1);
  int('leader', s.leader, s.n - 1);
  int('view', s.view, 0xffffffff);
  if (typeof s.lastOp !== 'bigint' || s.lastOp < 0n) throw new RangeError(`state.lastOp: expected a bigint >= 0, got ${String(s.lastOp)}`);
  if (typeof s.commit !== 'bigint' || s.commit < 0n) throw new RangeError(`state.commit: expected a bigint >= 0, got ${String(s.commit)}`);
}
