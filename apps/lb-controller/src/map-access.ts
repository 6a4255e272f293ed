/**
 * How the controller reaches the balancer's maps: raw keys and values by map name. Two
 * implementations: `LoaderMaps` (loader-maps.ts) through ebpf-loader's gRPC `Loader` service —
 * production — and `DirectMaps` here, which loads `xlb.bpf.o` in this process with
 * @netaccel/bpf (real maps, real kernel) for tests and for hosts without the loader.
 */
import { BpfObject, attachXdp } from '@netaccel/bpf';
import type { BpfMap, XdpAttachment, XdpMode } from '@netaccel/bpf';
import { XLB_OBJECTS } from '@netaccel/bpf-programs/xlb';
import { NA_ERR_LB_DATAPLANE, NA_ERR_LB_OBJECT } from './errors.js';

/** The maps of xlb.bpf.o the controller uses. */
export type XlbMapName =
  | 'vips'
  | 'maglev_tables'
  | 'backends'
  | 'nexthops'
  | 'xlb_config'
  | 'vip_stats'
  | 'backend_stats'
  | 'drop_stats'
  | 'conntrack';

export interface MapGeometry {
  readonly maxEntries: number;
  readonly perCpu: boolean;
}

export interface MapAccess {
  /** Where the maps live, for logs ("in-process", "loader unix:///run/netaccel/ebpf-loader.sock"). */
  readonly describe: string;
  geometry(map: XlbMapName): MapGeometry;
  /** One entry; for per-CPU maps the value is written to every CPU. */
  update(map: XlbMapName, key: Buffer, value: Buffer): Promise<void>;
  /** Many entries of a non-per-CPU array or hash (BPF_MAP_UPDATE_BATCH where possible). */
  updateBatch(map: XlbMapName, keys: readonly Buffer[], values: readonly Buffer[]): Promise<void>;
  delete(map: XlbMapName, key: Buffer): Promise<void>;
  /** A per-CPU entry's values (CPU 0 first); undefined when absent. */
  lookupPerCpu(map: XlbMapName, key: Buffer): Promise<Buffer[] | undefined>;
  /** Every entry of a map that is not per-CPU. */
  dump(map: XlbMapName): AsyncIterable<{ key: Buffer; value: Buffer }>;
  /** Every entry of a per-CPU map. */
  dumpPerCpu(map: XlbMapName): AsyncIterable<{ key: Buffer; values: Buffer[] }>;
  /** True while the XDP program is attached where it was asked to be. */
  attached(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DirectMapsOptions {
  /** xlb.bpf.o */
  readonly objectPath: string;
  /** Interface to attach `xlb_xdp` to; none: loaded only (tests). */
  readonly iface?: string;
  readonly xdpMode?: XdpMode;
  /** Load-time globals (`.rodata`) by name. */
  readonly globals?: Readonly<Record<string, number | bigint | Uint8Array>>;
  /** max_entries by map name (conntrack, nat_rev, …), set before load. */
  readonly mapSizes?: Readonly<Record<string, number>>;
}

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw NA_ERR_LB_DATAPLANE.with({ cause: err }, what, err instanceof Error ? err.message : String(err));
  }
}

/** xlb.bpf.o loaded in this process. */
export class DirectMaps implements MapAccess {
  readonly describe = 'in-process';
  readonly #obj: BpfObject;
  readonly #maps = new Map<string, BpfMap>();
  #link: XdpAttachment | undefined;

  private constructor(obj: BpfObject) {
    this.#obj = obj;
  }

  static open(opts: DirectMapsOptions): DirectMaps {
    let obj: BpfObject;
    try {
      obj = BpfObject.openFile(opts.objectPath);
    } catch (err) {
      throw NA_ERR_LB_OBJECT.with({ cause: err }, opts.objectPath, err instanceof Error ? err.message : String(err));
    }
    const dm = new DirectMaps(obj);
    try {
      for (const [name, value] of Object.entries(opts.globals ?? {})) obj.setGlobal(name, value);
      for (const [name, n] of Object.entries(opts.mapSizes ?? {})) {
        try {
          obj.setMaxEntries(name, n);
        } catch (err) {
          throw NA_ERR_LB_OBJECT.with({ cause: err }, opts.objectPath, `mapSizes.${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      wrap('load', () => obj.load());
      if (opts.iface !== undefined) {
        const prog = obj.program(XLB_OBJECTS.balancer.program);
        dm.#link = wrap(`attach to ${opts.iface}`, () => attachXdp(opts.iface!, prog, { mode: opts.xdpMode ?? 'native' }));
      }
      return dm;
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  #map(name: XlbMapName): BpfMap {
    let m = this.#maps.get(name);
    if (!m) {
      m = this.#obj.map(name);
      this.#maps.set(name, m);
    }
    return m;
  }

  /** The loaded object (tests run packets through its program). */
  get object(): BpfObject {
    return this.#obj;
  }

  geometry(map: XlbMapName): MapGeometry {
    const m = this.#map(map);
    return { maxEntries: m.maxEntries, perCpu: m.perCpu };
  }

  async update(map: XlbMapName, key: Buffer, value: Buffer): Promise<void> {
    const m = this.#map(map);
    wrap(`update ${map}`, () => (m.perCpu ? m.updatePerCpu(key, value) : m.update(key, value)));
  }

  async updateBatch(map: XlbMapName, keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    const m = this.#map(map);
    wrap(`batch update ${map}`, () => m.updateBatch(keys.map((k, i) => [k, values[i]!] as const)));
  }

  async delete(map: XlbMapName, key: Buffer): Promise<void> {
    const m = this.#map(map);
    wrap(`delete ${map}`, () => m.delete(key));
  }

  async lookupPerCpu(map: XlbMapName, key: Buffer): Promise<Buffer[] | undefined> {
    const m = this.#map(map);
    return wrap(`lookup ${map}`, () => m.lookupPerCpu(key));
  }

  async *dump(map: XlbMapName): AsyncIterable<{ key: Buffer; value: Buffer }> {
    const m = this.#map(map);
    const entries = wrap(`dump ${map}`, () => m.lookupBatch(1024));
    for (const [key, value] of entries) yield { key, value };
  }

  async *dumpPerCpu(map: XlbMapName): AsyncIterable<{ key: Buffer; values: Buffer[] }> {
    const m = this.#map(map);
    const entries = wrap(`dump ${map}`, () => m.lookupBatch(1024));
    for (const [key, all] of entries) yield { key, values: m.splitPerCpu(all) };
  }

  async attached(): Promise<boolean> {
    return this.#link !== undefined && !this.#link.detached;
  }

  async close(): Promise<void> {
    this.#link?.detach();
    this.#link = undefined;
    this.#obj.close();
  }
}
