/**
 * What a daemon needs of its BPF program's maps, whatever carries the calls: raw keys and values
 * (in the layout of the program's shared `*_kern_user.h` header, encoded by the program's codec
 * in `@netaccel/bpf-programs/<name>`) by map name. Two carriers: `LoaderDataPlane` through
 * ebpf-loader's Loader API (production: the loader owns every BPF object of a host) and
 * `InProcessDataPlane` with libbpf in this process (tests, hosts without the loader).
 */
import { NA_ERR_DATAPLANE_INVALID } from './errors.js';

/** A BPF program as a daemon uses it: the object, the program it attaches, the maps it reads and writes. */
export interface ProgramDescriptor<M extends string = string> {
  /** Short name for messages ("xlb", "craq"). */
  readonly name: string;
  /** The program attached to an interface (XDP) when the options name one. */
  readonly program: string;
  /** Every map the daemon uses: checked to exist when the data plane opens. */
  readonly maps: readonly M[];
}

export interface MapGeometry {
  readonly keySize: number;
  /** Per CPU for per-CPU maps. */
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly perCpu: boolean;
}

/** Load-time global values, encoded from the object's BTF (sizes, signedness, ranges checked there). */
export type GlobalValues = Readonly<Record<string, number | bigint | boolean | Uint8Array>>;

export interface OpenOptions {
  /** Interface to attach the descriptor's program to (XDP); none: loaded only. */
  readonly iface?: string;
  readonly xdpMode?: 'native' | 'generic';
  /** `const volatile` globals by name, set before load. */
  readonly globals?: GlobalValues;
  /** max_entries by map name, set before load. */
  readonly mapSizes?: Readonly<Record<string, number>>;
}

export interface MapAccess<M extends string = string> {
  /** Where the maps live, for logs ("in-process", "ebpf-loader unix:///run/netaccel/ebpf-loader.sock"). */
  readonly describe: string;
  geometry(map: M): MapGeometry;
  /** One entry; for per-CPU maps the value is written to every CPU. */
  update(map: M, key: Buffer, value: Buffer): Promise<void>;
  /** Many entries (one BPF_MAP_UPDATE_BATCH where the map type has it). */
  updateBatch(map: M, keys: readonly Buffer[], values: readonly Buffer[]): Promise<void>;
  /**
   * `count` entries already packed back to back (keys of keySize bytes, values of valueSize
   * bytes): a table of 65,537 entries is two buffers, one call and one syscall, no per-entry copy.
   */
  updatePacked(map: M, count: number, keys: Buffer, values: Buffer): Promise<void>;
  /** Removes a key; absent keys are not an error. */
  delete(map: M, key: Buffer): Promise<void>;
  /** A non-per-CPU entry's value; undefined when absent. */
  lookup(map: M, key: Buffer): Promise<Buffer | undefined>;
  /** A per-CPU entry's values (CPU 0 first); undefined when absent. */
  lookupPerCpu(map: M, key: Buffer): Promise<Buffer[] | undefined>;
  /** Every entry of a map that is not per-CPU. */
  dump(map: M): AsyncIterable<{ key: Buffer; value: Buffer }>;
  /** Every entry of a per-CPU map. */
  dumpPerCpu(map: M): AsyncIterable<{ key: Buffer; values: Buffer[] }>;
  /** True while the descriptor's program is attached where it was asked to be. */
  attached(): Promise<boolean>;
  close(): Promise<void>;
}

/** Packs parallel key and value lists back to back, checking every size against the map. */
export function packEntries(map: string, geometry: MapGeometry, keys: readonly Buffer[], values: readonly Buffer[]): { keys: Buffer; values: Buffer } {
  if (keys.length !== values.length) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: ${keys.length} keys but ${values.length} values`);
  const k = Buffer.alloc(keys.length * geometry.keySize);
  const v = Buffer.alloc(values.length * geometry.valueSize);
  keys.forEach((key, i) => {
    if (key.length !== geometry.keySize) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: keys[${i}] has ${key.length} bytes, expected ${geometry.keySize}`);
    k.set(key, i * geometry.keySize);
  });
  values.forEach((value, i) => {
    if (value.length !== geometry.valueSize) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: values[${i}] has ${value.length} bytes, expected ${geometry.valueSize}`);
    v.set(value, i * geometry.valueSize);
  });
  return { keys: k, values: v };
}

/** Checks a packed batch against the map before anything is sent or written. */
export function checkPacked(map: string, geometry: MapGeometry, count: number, keys: Uint8Array, values: Uint8Array): void {
  if (!Number.isInteger(count) || count < 0) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: count: expected an integer >= 0, got ${count}`);
  if (keys.length !== count * geometry.keySize) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: keys: expected ${count} × ${geometry.keySize} bytes, got ${keys.length}`);
  if (values.length !== count * geometry.valueSize) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: values: expected ${count} × ${geometry.valueSize} bytes, got ${values.length}`);
}
