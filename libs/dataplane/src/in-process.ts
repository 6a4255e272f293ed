/**
 * A program's object loaded in this process with libbpf (real maps, real kernel): for tests and
 * for hosts without ebpf-loader. Closing detaches the program and frees the object.
 */
import { BpfObject, attachXdp } from '@netaccel/bpf';
import type { BpfMap, XdpAttachment } from '@netaccel/bpf';
import type { MapAccess, MapGeometry, OpenOptions, ProgramDescriptor } from './access.js';
import { checkPacked, packEntries } from './access.js';
import { NA_ERR_DATAPLANE_INVALID, NA_ERR_DATAPLANE_OBJECT, NA_ERR_DATAPLANE_OP } from './errors.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw NA_ERR_DATAPLANE_OP.with({ cause: err }, what, message(err));
  }
}

export class InProcessDataPlane<M extends string = string> implements MapAccess<M> {
  readonly describe = 'in-process';
  readonly descriptor: ProgramDescriptor<M>;
  readonly #obj: BpfObject;
  readonly #maps = new Map<string, BpfMap>();
  #link: XdpAttachment | undefined;

  private constructor(descriptor: ProgramDescriptor<M>, obj: BpfObject) {
    this.descriptor = descriptor;
    this.#obj = obj;
  }

  /** Opens `objectPath`, sets globals and map sizes, loads, checks the descriptor's maps, attaches when asked. */
  static open<M extends string>(descriptor: ProgramDescriptor<M>, objectPath: string, opts: OpenOptions = {}): InProcessDataPlane<M> {
    let obj: BpfObject;
    try {
      obj = BpfObject.openFile(objectPath);
    } catch (err) {
      throw NA_ERR_DATAPLANE_OBJECT.with({ cause: err }, objectPath, message(err));
    }
    const dp = new InProcessDataPlane(descriptor, obj);
    try {
      for (const [name, value] of Object.entries(opts.globals ?? {})) {
        try {
          obj.setGlobal(name, value);
        } catch (err) {
          throw NA_ERR_DATAPLANE_OBJECT.with({ cause: err }, objectPath, message(err));
        }
      }
      for (const [name, n] of Object.entries(opts.mapSizes ?? {})) {
        try {
          obj.setMaxEntries(name, n);
        } catch (err) {
          throw NA_ERR_DATAPLANE_OBJECT.with({ cause: err }, objectPath, `mapSizes.${name}: ${message(err)}`);
        }
      }
      wrap(`load ${objectPath}`, () => obj.load());
      for (const name of descriptor.maps) {
        try {
          dp.#maps.set(name, obj.map(name));
        } catch {
          throw NA_ERR_DATAPLANE_OBJECT(objectPath, `no map ${name} (the ${descriptor.name} descriptor needs it)`);
        }
      }
      if (opts.iface !== undefined) {
        const iface = opts.iface;
        let prog;
        try {
          prog = obj.program(descriptor.program);
        } catch {
          throw NA_ERR_DATAPLANE_OBJECT(objectPath, `no program ${descriptor.program}`);
        }
        dp.#link = wrap(`attach ${descriptor.program} to ${iface}`, () => attachXdp(iface, prog, { mode: opts.xdpMode ?? 'native' }));
      }
      return dp;
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  #map(name: M): BpfMap {
    const m = this.#maps.get(name);
    if (!m) throw NA_ERR_DATAPLANE_INVALID(`map ${name}: not in the ${this.descriptor.name} descriptor (it has ${this.descriptor.maps.join(', ')})`);
    return m;
  }

  /** The loaded object (tests run packets through its programs). */
  get object(): BpfObject {
    return this.#obj;
  }

  geometry(map: M): MapGeometry {
    const m = this.#map(map);
    return { keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, perCpu: m.perCpu };
  }

  async update(map: M, key: Buffer, value: Buffer): Promise<void> {
    const m = this.#map(map);
    wrap(`update ${map}`, () => (m.perCpu ? m.updatePerCpu(key, value) : m.update(key, value)));
  }

  async updateBatch(map: M, keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    const packed = packEntries(map, this.geometry(map), keys, values);
    await this.updatePacked(map, keys.length, packed.keys, packed.values);
  }

  async updatePacked(map: M, count: number, keys: Buffer, values: Buffer): Promise<void> {
    const m = this.#map(map);
    checkPacked(map, this.geometry(map), count, keys, values);
    wrap(`batch update ${map}`, () => m.updateBatchPacked(count, keys, values));
  }

  async delete(map: M, key: Buffer): Promise<void> {
    const m = this.#map(map);
    wrap(`delete ${map}`, () => m.delete(key));
  }

  async lookup(map: M, key: Buffer): Promise<Buffer | undefined> {
    const m = this.#map(map);
    return wrap(`lookup ${map}`, () => m.lookup(key));
  }

  async lookupPerCpu(map: M, key: Buffer): Promise<Buffer[] | undefined> {
    const m = this.#map(map);
    return wrap(`lookup ${map}`, () => m.lookupPerCpu(key));
  }

  async *dump(map: M): AsyncIterable<{ key: Buffer; value: Buffer }> {
    const m = this.#map(map);
    const entries = wrap(`dump ${map}`, () => m.lookupBatch(1024));
    for (const [key, value] of entries) yield { key, value };
  }

  async *dumpPerCpu(map: M): AsyncIterable<{ key: Buffer; values: Buffer[] }> {
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
