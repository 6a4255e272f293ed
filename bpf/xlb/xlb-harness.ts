/**
 * Loads xlb's objects with libs/bpf for the BPF tests (and the benchmark): set globals, load,
 * install map entries, run packets with BPF_PROG_TEST_RUN, read the per-CPU counters.
 * Nothing is pinned or attached; close() releases everything.
 *
 * The connection table is one LRU hash shared by all CPUs; the per-CPU counters are summed.
 * Tests that send a flow twice still pin their thread to one CPU (pinThreadToCpu), so that the
 * per-CPU counters they read and the LRU's per-CPU free lists behave the same on every run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '@netaccel/bpf';
import type { BpfMap, BpfProgram, GlobalValue } from '@netaccel/bpf';
import { XLB_OBJECTS } from './constants.js';
import { conntrackKey, decodeCounter, decodeStats, encodeU32 } from './codec.js';
import type { Counter, FlowKey, Stats } from './codec.js';
import { XLB_DROP_MAX } from './drop-reasons.js';
import { XDP_VERDICT } from './fixtures.js';
import type { XdpVerdictName } from './fixtures.js';
import type { MapEntrySpec } from './test-world.js';

/** The folder that holds bpf/package.json, from the sources (xlb/) and from the build (dist/xlb/) alike. */
function packageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** bpf/: the objects are under its build/ (XLB_OBJECTS' paths). */
export const BPF_DIR = packageDir(dirname(fileURLToPath(import.meta.url)));

/** Path of a built object; throws with the make command when it is missing. */
export function objectPath(which: keyof typeof XLB_OBJECTS): string {
  const path = join(BPF_DIR, XLB_OBJECTS[which].path);
  if (!statSync(path, { throwIfNoEntry: false })) throw new Error(`${path} is missing: run make -C bpf`);
  return path;
}

export interface RunResult {
  readonly verdict: XdpVerdictName | `retval ${number}`;
  readonly retval: number;
  readonly data: Buffer;
  readonly durationNs: number;
}

function verdictName(retval: number): XdpVerdictName | `retval ${number}` {
  const e = Object.entries(XDP_VERDICT).find(([, v]) => v === retval);
  return e ? (e[0] as XdpVerdictName) : `retval ${retval}`;
}

/** Sums a per-CPU array's values at `index` with `decode`. */
function perCpu<T>(map: BpfMap, index: number, decode: (v: readonly Buffer[]) => T): T {
  const values = map.lookupPerCpu(encodeU32(index));
  if (!values) throw new RangeError(`${map.name}[${index}]: no such entry`);
  return decode(values);
}

export class XlbObject {
  readonly obj: BpfObject;
  readonly prog: BpfProgram;

  private constructor(obj: BpfObject, program: string) {
    this.obj = obj;
    this.prog = obj.program(program);
  }

  /**
   * Opens and loads an object with `globals` set before load, and maps resized by `maxEntries`
   * (as the lb-controller's mapSizes does, e.g. { conntrack: 1 << 20 }).
   */
  static load(which: keyof typeof XLB_OBJECTS, globals: Readonly<Record<string, GlobalValue>> = {}, maxEntries: Readonly<Record<string, number>> = {}): XlbObject {
    return XlbObject.loadFile(objectPath(which), XLB_OBJECTS[which].program, globals, maxEntries);
  }

  /**
   * load() from an object file elsewhere: e.g. an earlier build of xlb.bpf.o that the benchmark
   * measures beside this one (A/B in the same run).
   */
  static loadFile(path: string, program: string, globals: Readonly<Record<string, GlobalValue>> = {}, maxEntries: Readonly<Record<string, number>> = {}): XlbObject {
    const obj = BpfObject.openFile(path);
    try {
      for (const [name, value] of Object.entries(globals)) obj.setGlobal(name, value);
      for (const [name, n] of Object.entries(maxEntries)) obj.setMaxEntries(name, n);
      obj.load();
      return new XlbObject(obj, program);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  map(name: string): BpfMap {
    return this.obj.map(name);
  }

  /** Entries per Maglev table slot (XLB_MAGLEV_SIZE of this build). */
  get maglevSize(): number {
    return this.map('maglev_tables').maxEntries / (2 * this.map('vip_stats').maxEntries);
  }

  /** A flow's connection-table entry (raw xlb_ct_value) from conntrack_v4 (IPv4) or conntrack (IPv6). */
  ctLookup(f: FlowKey): Buffer | undefined {
    const { map, key } = conntrackKey(f);
    return this.map(map).lookup(key);
  }

  ctUpdate(f: FlowKey, value: Uint8Array): void {
    const { map, key } = conntrackKey(f);
    this.map(map).update(key, value);
  }

  /** Deletes a flow's connection-table entry; false when it had none. */
  ctDelete(f: FlowKey): boolean {
    const { map, key } = conntrackKey(f);
    return this.map(map).delete(key);
  }

  install(entries: readonly MapEntrySpec[]): void {
    for (const e of entries) this.map(e.map).update(e.key, e.value);
  }

  run(packet: Uint8Array, opts: { repeat?: number; ctx?: Uint8Array } = {}): RunResult {
    const r = this.prog.testRun({ data: packet, repeat: opts.repeat ?? 1, ...(opts.ctx ? { ctx: opts.ctx } : {}) });
    return { verdict: verdictName(r.retval), retval: r.retval, data: r.data, durationNs: r.durationNs };
  }

  /** drop_stats summed over CPUs, by reason value (every reason, zero ones included). */
  drops(): Map<number, Counter> {
    const out = new Map<number, Counter>();
    for (let i = 1; i < XLB_DROP_MAX; i++) out.set(i, perCpu(this.map('drop_stats'), i, decodeCounter));
    return out;
  }

  /** A per-CPU xlb_stats row (vip_stats or backend_stats) summed over CPUs. */
  stats(map: 'vip_stats' | 'backend_stats', index: number): Stats {
    return perCpu(this.map(map), index, decodeStats);
  }

  /** A per-CPU xlb_counter row summed over CPUs. */
  counter(map: string, index: number): Counter {
    return perCpu(this.map(map), index, decodeCounter);
  }

  close(): void {
    this.obj.close();
  }
}

/**
 * Pins the calling thread (Node's main thread, which makes the test-run syscalls) to `cpu`;
 * returns a function restoring the previous affinity.
 */
export function pinThreadToCpu(cpu = 0): () => void {
  const pid = String(process.pid);
  const before = execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }).trim().split(/\s+/).pop() ?? '';
  execFileSync('taskset', ['-p', '-c', String(cpu), pid], { stdio: 'ignore' });
  return () => {
    if (/^[0-9a-f,]+$/i.test(before)) execFileSync('taskset', ['-p', before, pid], { stdio: 'ignore' });
  };
}
