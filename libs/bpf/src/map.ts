/**
 * BPF maps: lookup, update, delete, iteration and batch operations on raw bytes, per-CPU values
 * included. Key and value sizes are checked here before the syscall (NA_ERR_BPF_KEY_SIZE /
 * NA_ERR_BPF_VALUE_SIZE); codecs for the bytes live with the programs that define the structs.
 *
 * A per-CPU map stores one value per possible CPU, each rounded up to 8 bytes
 * (`libbpf_num_possible_cpus()` values); `lookupPerCpu` returns them as one Buffer per CPU.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { ERRNO, normalizeErrno } from './errno.js';
import {
  NA_ERR_BPF_EXISTS, NA_ERR_BPF_INVALID, NA_ERR_BPF_KEY_SIZE, NA_ERR_BPF_MAP_FULL, NA_ERR_BPF_NOT_FOUND,
  NA_ERR_BPF_VALUE_SIZE, errnoDetails, syscallError,
} from './errors.js';
import { OwnedFd, bpfFdKind, objGet } from './fd.js';
import { native } from './native.js';

/** Map types by libbpf name (enum bpf_map_type). */
export const BPF_MAP_TYPE = Object.freeze({
  hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6, stack_trace: 7,
  cgroup_array: 8, lru_hash: 9, lru_percpu_hash: 10, lpm_trie: 11, array_of_maps: 12, hash_of_maps: 13,
  devmap: 14, sockmap: 15, cpumap: 16, xskmap: 17, sockhash: 18, cgroup_storage: 19, reuseport_sockarray: 20,
  percpu_cgroup_storage: 21, queue: 22, stack: 23, sk_storage: 24, devmap_hash: 25, struct_ops: 26, ringbuf: 27,
  inode_storage: 28, task_storage: 29, bloom_filter: 30, user_ringbuf: 31, cgrp_storage: 32,
} as const);
export type MapTypeName = keyof typeof BPF_MAP_TYPE;

const PER_CPU = new Set<number>([BPF_MAP_TYPE.percpu_hash, BPF_MAP_TYPE.percpu_array, BPF_MAP_TYPE.lru_percpu_hash, BPF_MAP_TYPE.percpu_cgroup_storage]);
const ARRAY_LIKE = new Set<number>([BPF_MAP_TYPE.array, BPF_MAP_TYPE.percpu_array, BPF_MAP_TYPE.prog_array, BPF_MAP_TYPE.perf_event_array, BPF_MAP_TYPE.cgroup_array, BPF_MAP_TYPE.array_of_maps, BPF_MAP_TYPE.devmap, BPF_MAP_TYPE.cpumap, BPF_MAP_TYPE.xskmap, BPF_MAP_TYPE.sockmap]);

/** BPF_ANY, BPF_NOEXIST, BPF_EXIST. */
export const UPDATE_FLAGS = Object.freeze({ any: 0, noexist: 1, exist: 2 } as const);
export type UpdateFlag = keyof typeof UPDATE_FLAGS;

export interface MapMeta {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

export interface MapInfo extends MapMeta {
  readonly id: number;
  readonly typeName: string;
  readonly btfId: number;
}

export interface CreateMapSpec {
  type: MapTypeName;
  /** Up to 15 characters (BPF_OBJ_NAME_LEN - 1). */
  name?: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** map_flags (BPF_F_*, e.g. BPF_F_MMAPABLE of mmap.ts); default 0. */
  flags?: number;
}

/** A map value: one Buffer, or for per-CPU maps one Buffer per possible CPU. */
export type MapEntry = readonly [key: Buffer, value: Buffer];
export type PerCpuMapEntry = readonly [key: Buffer, values: Buffer[]];

/** Where a BpfMap gets its descriptor: its libbpf object (after load) or one it owns. */
export interface MapFdSource {
  fd(): number;
  close(): void;
}

const MAP_INFO_SIZE = 88; // sizeof(struct bpf_map_info), linux/bpf.h

/** Decodes struct bpf_map_info (uapi: type 0, id 4, key_size 8, value_size 12, max_entries 16, map_flags 20, name 24, btf_id 64). */
export function decodeMapInfo(buf: Uint8Array): Omit<MapInfo, 'typeName'> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const nameBytes = buf.subarray(24, 40);
  const nul = nameBytes.indexOf(0);
  return {
    type: v.getUint32(0, true),
    id: v.getUint32(4, true),
    keySize: v.getUint32(8, true),
    valueSize: v.getUint32(12, true),
    maxEntries: v.getUint32(16, true),
    flags: v.getUint32(20, true),
    name: Buffer.from(nameBytes.subarray(0, nul < 0 ? 16 : nul)).toString('utf8'),
    btfId: v.getUint32(64, true),
  };
}

const MAP_CREATE_OPTS_SIZE = 48; // sizeof(struct bpf_map_create_opts), libbpf 1.1

/** struct bpf_map_create_opts with map_flags (at 28) set and everything else zero. */
function mapCreateOpts(flags: number): Buffer {
  const b = Buffer.alloc(MAP_CREATE_OPTS_SIZE);
  b.writeBigUInt64LE(BigInt(MAP_CREATE_OPTS_SIZE), 0); // sz
  b.writeUInt32LE(flags, 28);
  return b;
}

/** Possible CPUs (libbpf_num_possible_cpus): the number of values per key of a per-CPU map. */
export function possibleCpus(): number {
  return native().possibleCpus;
}

/** Kernel info of the map behind `fd` (bpf_obj_get_info_by_fd). */
export function mapInfoByFd(fd: number, what: string): MapInfo {
  const n = native();
  const buf = Buffer.alloc(MAP_INFO_SIZE);
  const err = n.bpf_obj_get_info_by_fd(fd, buf, [MAP_INFO_SIZE]);
  if (err < 0) throw syscallError(`bpf_obj_get_info_by_fd(${what})`, err);
  const info = decodeMapInfo(buf);
  return { ...info, typeName: n.libbpf_bpf_map_type_str(info.type) ?? `type ${info.type}` };
}

export class BpfMap implements MapMeta {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** True for per-CPU maps: use lookupPerCpu / updatePerCpu. */
  readonly perCpu: boolean;
  /** Values per key of a per-CPU map (libbpf_num_possible_cpus()); 1 otherwise. */
  readonly cpus: number;
  /** Bytes of one per-CPU slot (value size rounded up to 8). */
  readonly perCpuStride: number;
  readonly #source: MapFdSource;

  /** Internal: BpfObject and the static constructors build maps. */
  constructor(meta: MapMeta, source: MapFdSource) {
    this.name = meta.name;
    this.type = meta.type;
    this.keySize = meta.keySize;
    this.valueSize = meta.valueSize;
    this.maxEntries = meta.maxEntries;
    this.flags = meta.flags;
    this.perCpu = PER_CPU.has(meta.type);
    this.cpus = this.perCpu ? native().possibleCpus : 1;
    this.perCpuStride = Math.ceil(meta.valueSize / 8) * 8;
    this.#source = source;
  }

  /** Opens a pinned map (bpf_obj_get); close it when done. */
  static openPinned(path: string): BpfMap {
    const owned = new OwnedFd(objGet(path), `pinned map ${path}`);
    try {
      const kind = bpfFdKind(owned.fd);
      if (kind !== 'map') throw NA_ERR_BPF_INVALID.with({ details: { path, kind } }, `${path}: the pinned object is a ${kind}, not a map`);
      const info = mapInfoByFd(owned.fd, path);
      return new BpfMap(info, { fd: () => owned.fd, close: () => owned.close() });
    } catch (err) {
      owned.close();
      throw err;
    }
  }

  /** Creates a map outside any object (bpf_map_create); close it when done. */
  static create(spec: CreateMapSpec): BpfMap {
    const type = BPF_MAP_TYPE[spec.type];
    if (type === undefined) throw NA_ERR_BPF_INVALID(`type: expected one of ${Object.keys(BPF_MAP_TYPE).join(', ')}, got ${JSON.stringify(spec.type)}`);
    for (const field of ['keySize', 'valueSize', 'maxEntries'] as const) {
      const v = spec[field];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw NA_ERR_BPF_INVALID(`${field}: expected an integer 0..4294967295, got ${v}`);
    }
    const name = spec.name ?? '';
    if (name.length > 15 || !/^[A-Za-z0-9_.]*$/.test(name)) throw NA_ERR_BPF_INVALID(`name: expected up to 15 characters [A-Za-z0-9_.], got ${JSON.stringify(name)}`);
    const flags = spec.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw NA_ERR_BPF_INVALID(`flags: expected an integer 0..4294967295, got ${flags}`);
    const fd = native().bpf_map_create(type, name === '' ? null : name, spec.keySize, spec.valueSize, spec.maxEntries, flags === 0 ? null : mapCreateOpts(flags));
    if (fd < 0) throw syscallError(`bpf_map_create(${spec.type}${name === '' ? '' : ` ${name}`})`, fd, { spec });
    const owned = new OwnedFd(fd, `map ${name}`);
    return new BpfMap({ name, type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags }, {
      fd: () => owned.fd,
      close: () => owned.close(),
    });
  }

  /** The map's descriptor; NA_ERR_BPF_STATE before its object is loaded or after close. */
  get fd(): number {
    return this.#source.fd();
  }

  /** Closes a descriptor this map owns (pinned, created); a no-op for maps of a BpfObject. */
  close(): void {
    this.#source.close();
  }

  info(): MapInfo {
    return mapInfoByFd(this.fd, this.name);
  }

  /** The value of `key`, or undefined when absent. Not for per-CPU maps. */
  lookup(key: Uint8Array): Buffer | undefined {
    this.#requirePerCpu(false, 'lookup');
    const value = Buffer.alloc(this.valueSize);
    return this.#lookupInto(key, value) ? value : undefined;
  }

  /** One value per possible CPU, or undefined when `key` is absent. Per-CPU maps only. */
  lookupPerCpu(key: Uint8Array): Buffer[] | undefined {
    this.#requirePerCpu(true, 'lookupPerCpu');
    const all = Buffer.alloc(this.perCpuStride * this.cpus);
    return this.#lookupInto(key, all) ? this.#splitPerCpu(all) : undefined;
  }

  /** Sets `key` to `value`; `flag` noexist fails with NA_ERR_BPF_EXISTS, exist with NOT_FOUND. */
  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlag = 'any'): void {
    this.#requirePerCpu(false, 'update');
    this.#checkValue(value);
    this.#update(key, value, flag);
  }

  /** Sets every CPU's value: one value per possible CPU, or a single value for all of them. */
  updatePerCpu(key: Uint8Array, values: Uint8Array | readonly Uint8Array[], flag: UpdateFlag = 'any'): void {
    this.#requirePerCpu(true, 'updatePerCpu');
    this.#update(key, this.#packPerCpu(values), flag);
  }

  /** Deletes `key`; false when it was not there. */
  delete(key: Uint8Array): boolean {
    this.#checkKey(key);
    const err = native().bpf_map_delete_elem(this.fd, key);
    if (err >= 0) return true;
    if (normalizeErrno(err) === ERRNO.ENOENT) return false;
    throw syscallError(`bpf_map_delete_elem(${this.name})`, err, { map: this.name });
  }

  /**
   * Every key, in the kernel's order (bpf_map_get_next_key); with `startAfter`, the keys after
   * that one (to resume a limited dump; a key no longer in a hash map restarts from the first).
   */
  *keys(startAfter?: Uint8Array): Generator<Buffer, void, undefined> {
    const n = native();
    if (startAfter !== undefined) this.#checkKey(startAfter);
    let prev: Buffer | null = startAfter === undefined ? null : Buffer.from(startAfter);
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      const err = n.bpf_map_get_next_key(this.fd, prev, next);
      if (err < 0) {
        if (normalizeErrno(err) === ERRNO.ENOENT) return;
        throw syscallError(`bpf_map_get_next_key(${this.name})`, err, { map: this.name });
      }
      yield next;
      prev = next;
    }
  }

  /** Every [key, value]; keys deleted while iterating are skipped. Not for per-CPU maps. */
  *entries(): Generator<MapEntry, void, undefined> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value) yield [key, value];
    }
  }

  /** Every [key, per-CPU values]. Per-CPU maps only. */
  *entriesPerCpu(): Generator<PerCpuMapEntry, void, undefined> {
    for (const key of this.keys()) {
      const values = this.lookupPerCpu(key);
      if (values) yield [key, values];
    }
  }

  /**
   * Every entry through BPF_MAP_LOOKUP_BATCH, `batchSize` per syscall. Values of per-CPU maps
   * come back as one Buffer holding `cpus` slots of `perCpuStride` bytes (split with splitPerCpu).
   */
  lookupBatch(batchSize = 256): MapEntry[] {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw NA_ERR_BPF_INVALID(`batchSize: expected an integer >= 1, got ${batchSize}`);
    const n = native();
    const valueBytes = this.perCpu ? this.perCpuStride * this.cpus : this.valueSize;
    const tokenSize = Math.max(this.keySize, 8);
    const out: MapEntry[] = [];
    let inBatch: Buffer | null = null;
    for (;;) {
      const outBatch = Buffer.alloc(tokenSize);
      const keys = Buffer.alloc(this.keySize * batchSize);
      const values = Buffer.alloc(valueBytes * batchSize);
      const count: [number] = [batchSize];
      const err = n.bpf_map_lookup_batch(this.fd, inBatch, outBatch, keys, values, count, { sz: 24, elem_flags: 0, flags: 0 });
      const done = err < 0 && normalizeErrno(err) === ERRNO.ENOENT;
      if (err < 0 && !done) throw syscallError(`bpf_map_lookup_batch(${this.name})`, err, { map: this.name });
      for (let i = 0; i < count[0]; i++) {
        out.push([
          Buffer.from(keys.subarray(i * this.keySize, (i + 1) * this.keySize)),
          Buffer.from(values.subarray(i * valueBytes, (i + 1) * valueBytes)),
        ]);
      }
      if (done) return out;
      inBatch = outBatch;
    }
  }

  /**
   * Writes all `entries` with BPF_MAP_UPDATE_BATCH in one syscall (the kernel takes no
   * noexist/exist flags for batches: it is always BPF_ANY). For per-CPU maps each value is one
   * Buffer for all CPUs or `cpus` slots (as lookupBatch returns them). On failure the error's
   * `details.applied` says how many entries were written.
   */
  updateBatch(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): void {
    if (entries.length === 0) return;
    const valueBytes = this.perCpu ? this.perCpuStride * this.cpus : this.valueSize;
    const keys = Buffer.alloc(this.keySize * entries.length);
    const values = Buffer.alloc(valueBytes * entries.length);
    entries.forEach(([k, v], i) => {
      this.#checkKey(k);
      keys.set(k, i * this.keySize);
      if (!this.perCpu) this.#checkValue(v);
      const packed = this.perCpu && v.length !== valueBytes ? this.#packPerCpu(v) : v;
      values.set(packed, i * valueBytes);
    });
    this.#batch(keys, values, entries.length);
  }

  /**
   * updateBatch for entries already packed back to back, as BPF_MAP_UPDATE_BATCH takes them:
   * `count` keys of keySize bytes in `keys`, and in `values` either `count` values of valueSize
   * bytes, or for a per-CPU map `count` × cpus slots of perCpuStride bytes, or `count` values of
   * valueSize bytes each written to every CPU. No per-entry copies: a 65,537-entry table is one
   * syscall on the caller's buffers. On failure `details.applied` says how many were written.
   */
  updateBatchPacked(count: number, keys: Uint8Array, values: Uint8Array): void {
    if (!Number.isInteger(count) || count < 0) throw NA_ERR_BPF_INVALID(`count: expected an integer >= 0, got ${count}`);
    if (!(keys instanceof Uint8Array) || !(values instanceof Uint8Array)) throw NA_ERR_BPF_INVALID(`map ${this.name}: keys and values must be Buffers or Uint8Arrays`);
    if (keys.length !== count * this.keySize) throw NA_ERR_BPF_KEY_SIZE(this.name, keys.length, count * this.keySize);
    if (count === 0) {
      if (values.length !== 0) throw NA_ERR_BPF_VALUE_SIZE(this.name, values.length, 0);
      return;
    }
    if (!this.perCpu) {
      if (values.length !== count * this.valueSize) throw NA_ERR_BPF_VALUE_SIZE(this.name, values.length, count * this.valueSize);
      this.#batch(keys, values, count);
      return;
    }
    const slots = this.perCpuStride * this.cpus;
    if (values.length === count * slots) {
      this.#batch(keys, values, count);
      return;
    }
    if (values.length !== count * this.valueSize) throw NA_ERR_BPF_VALUE_SIZE(this.name, values.length, count * slots);
    const all = Buffer.alloc(count * slots);
    for (let i = 0; i < count; i++) {
      const v = values.subarray(i * this.valueSize, (i + 1) * this.valueSize);
      for (let cpu = 0; cpu < this.cpus; cpu++) all.set(v, i * slots + cpu * this.perCpuStride);
    }
    this.#batch(keys, all, count);
  }

  #batch(keys: Uint8Array, values: Uint8Array, requested: number): void {
    const count: [number] = [requested];
    const err = native().bpf_map_update_batch(this.fd, keys, values, count, { sz: 24, elem_flags: 0, flags: 0 });
    if (err < 0) throw this.#updateError(err, 'any', { applied: count[0], requested });
  }

  /** Splits a per-CPU value buffer (`cpus` slots of perCpuStride bytes) into per-CPU values. */
  splitPerCpu(all: Uint8Array): Buffer[] {
    return this.#splitPerCpu(all);
  }

  /** Pins the map at `path` on bpffs (parents created). */
  pin(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const err = native().bpf_obj_pin(this.fd, path);
    if (err < 0) throw syscallError(`bpf_obj_pin(${this.name}, ${path})`, err, { path });
  }

  /** Removes the pin at `path` (the map lives on while something else holds it). */
  unpin(path: string): void {
    rmSync(path, { force: true });
  }

  #lookupInto(key: Uint8Array, value: Buffer): boolean {
    this.#checkKey(key);
    const err = native().bpf_map_lookup_elem(this.fd, key, value);
    if (err >= 0) return true;
    if (normalizeErrno(err) === ERRNO.ENOENT) return false;
    throw syscallError(`bpf_map_lookup_elem(${this.name})`, err, { map: this.name });
  }

  #update(key: Uint8Array, value: Uint8Array, flag: UpdateFlag): void {
    this.#checkKey(key);
    const flags = UPDATE_FLAGS[flag];
    if (flags === undefined) throw NA_ERR_BPF_INVALID(`flag: expected any, noexist or exist, got ${JSON.stringify(flag)}`);
    const err = native().bpf_map_update_elem(this.fd, key, value, flags);
    if (err < 0) throw this.#updateError(err, flag, {});
  }

  #updateError(err: number, flag: UpdateFlag, extra: Record<string, unknown>): Error {
    const n = normalizeErrno(err);
    const details = errnoDetails(`update ${this.name}`, n, { map: this.name, flag, ...extra });
    if (n === ERRNO.EEXIST) return NA_ERR_BPF_EXISTS.with({ details }, this.name);
    if (n === ERRNO.ENOENT && flag === 'exist') return NA_ERR_BPF_NOT_FOUND.with({ details }, `map ${this.name}: key`);
    if (n === ERRNO.E2BIG && ARRAY_LIKE.has(this.type)) {
      return NA_ERR_BPF_INVALID.with({ details }, `map ${this.name}: index out of range 0..${this.maxEntries - 1}`);
    }
    if (n === ERRNO.E2BIG) return NA_ERR_BPF_MAP_FULL.with({ details }, this.name, this.maxEntries);
    return syscallError(`bpf_map_update_elem(${this.name})`, n, details);
  }

  #checkKey(key: Uint8Array): void {
    if (!(key instanceof Uint8Array)) throw NA_ERR_BPF_INVALID(`map ${this.name}: key must be a Buffer or Uint8Array`);
    if (key.length !== this.keySize) throw NA_ERR_BPF_KEY_SIZE(this.name, key.length, this.keySize);
  }

  #checkValue(value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw NA_ERR_BPF_INVALID(`map ${this.name}: value must be a Buffer or Uint8Array`);
    if (value.length !== this.valueSize) throw NA_ERR_BPF_VALUE_SIZE(this.name, value.length, this.valueSize);
  }

  #requirePerCpu(want: boolean, op: string): void {
    if (this.perCpu !== want) {
      throw NA_ERR_BPF_INVALID(want
        ? `map ${this.name}: ${op} is for per-CPU maps, this one is not: use ${op.replace('PerCpu', '')}`
        : `map ${this.name}: it is per-CPU, use ${op}PerCpu`);
    }
  }

  #packPerCpu(values: Uint8Array | readonly Uint8Array[]): Buffer {
    const list = values instanceof Uint8Array ? Array.from({ length: this.cpus }, () => values) : values;
    if (list.length !== this.cpus) {
      throw NA_ERR_BPF_VALUE_SIZE.with(
        { details: { map: this.name, values: list.length, cpus: this.cpus } },
        this.name, list.length * this.valueSize, this.cpus * this.valueSize,
      );
    }
    const all = Buffer.alloc(this.perCpuStride * this.cpus);
    list.forEach((v, cpu) => {
      this.#checkValue(v);
      all.set(v, cpu * this.perCpuStride);
    });
    return all;
  }

  #splitPerCpu(all: Uint8Array): Buffer[] {
    return Array.from({ length: this.cpus }, (_, cpu) => Buffer.from(all.subarray(cpu * this.perCpuStride, cpu * this.perCpuStride + this.valueSize)));
  }
}
