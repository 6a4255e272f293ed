/**
 * Map reads and writes for the Loader API, on raw bytes in the layout of the shared
 * `*_kern_user.h` header. Sizes are checked before the syscall (NA_ERR_BPF_KEY_SIZE /
 * NA_ERR_BPF_VALUE_SIZE name the map and both sizes); per-CPU maps answer one value per possible
 * CPU and take either one value for every CPU or one per CPU.
 */
import { BPF_MAP_TYPE, NA_ERR_BPF_VALUE_SIZE } from '@netaccel/bpf';
import type { UpdateFlag } from '@netaccel/bpf';
import { NA_ERR_LOADER_INVALID_REQUEST, NA_ERR_LOADER_KEY_NOT_FOUND } from './errors.js';
import type { MapRef } from './registry.js';

export interface Entry {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly perCpuValues: Buffer[];
}

/** Map types whose BPF_MAP_UPDATE_BATCH the kernel implements. */
const BATCHABLE = new Set<number>([
  BPF_MAP_TYPE.hash, BPF_MAP_TYPE.array, BPF_MAP_TYPE.percpu_hash, BPF_MAP_TYPE.percpu_array, BPF_MAP_TYPE.lru_hash, BPF_MAP_TYPE.lru_percpu_hash,
]);

function keyText(key: Uint8Array): string {
  return `0x${Buffer.from(key).toString('hex') || '(empty)'}`;
}

function entryOf(ref: MapRef, key: Buffer): Entry | undefined {
  if (ref.map.perCpu) {
    const values = ref.map.lookupPerCpu(key);
    return values ? { key, value: Buffer.alloc(0), perCpuValues: values } : undefined;
  }
  const value = ref.map.lookup(key);
  return value ? { key, value, perCpuValues: [] } : undefined;
}

export function lookup(ref: MapRef, key: Buffer): Entry {
  const e = entryOf(ref, key);
  if (!e) throw NA_ERR_LOADER_KEY_NOT_FOUND.with({ details: { mapId: ref.id, key: Buffer.from(key).toString('hex') } }, ref.id, keyText(key));
  return e;
}

/** Keys one MapLookupBatch may ask for. */
export const MAX_LOOKUP_BATCH = 4096;

/**
 * The entries of many keys of one map, present ones only, in the order asked (one lookup per key
 * in this process: what the batch saves is the client's round trips). Every key's size is checked
 * before the first lookup.
 */
export function lookupBatch(ref: MapRef, keys: readonly Buffer[]): Entry[] {
  if (keys.length > MAX_LOOKUP_BATCH) throw NA_ERR_LOADER_INVALID_REQUEST(`keys: expected at most ${MAX_LOOKUP_BATCH} keys, got ${keys.length}`);
  keys.forEach((k, i) => {
    if (k.length !== ref.map.keySize) throw NA_ERR_LOADER_INVALID_REQUEST(`keys[${i}]: expected ${ref.map.keySize} bytes for map ${ref.id}, got ${k.length}`);
  });
  const out: Entry[] = [];
  for (const key of keys) {
    const e = entryOf(ref, key);
    if (e) out.push(e);
  }
  return out;
}

/** One value for a per-CPU map: `value` for every CPU, or `perCpuValues` one per CPU. */
function perCpuValue(ref: MapRef, entry: { value: Buffer; perCpuValues: Buffer[] }, path: string): Buffer | Buffer[] {
  if (entry.perCpuValues.length > 0 && entry.value.length > 0) throw NA_ERR_LOADER_INVALID_REQUEST(`${path}: give value or perCpuValues for a per-CPU map, not both`);
  if (entry.perCpuValues.length === 0) return entry.value;
  if (entry.perCpuValues.length !== ref.map.cpus) {
    throw NA_ERR_BPF_VALUE_SIZE.with(
      { details: { map: ref.record.name, values: entry.perCpuValues.length, cpus: ref.map.cpus } },
      ref.record.name, entry.perCpuValues.length * ref.map.valueSize, ref.map.cpus * ref.map.valueSize,
    );
  }
  entry.perCpuValues.forEach((v, cpu) => {
    if (v.length !== ref.map.valueSize) {
      throw NA_ERR_BPF_VALUE_SIZE.with({ details: { map: ref.record.name, cpu } }, `${ref.record.name} (CPU ${cpu})`, v.length, ref.map.valueSize);
    }
  });
  return entry.perCpuValues;
}

export function update(ref: MapRef, entry: { key: Buffer; value: Buffer; perCpuValues: Buffer[] }, flag: UpdateFlag): void {
  if (ref.map.perCpu) {
    ref.map.updatePerCpu(entry.key, perCpuValue(ref, entry, 'entry'), flag);
    return;
  }
  if (entry.perCpuValues.length > 0) throw NA_ERR_LOADER_INVALID_REQUEST(`entry.perCpuValues: map ${ref.id} is not per-CPU; give value`);
  ref.map.update(entry.key, entry.value, flag);
}

export function remove(ref: MapRef, key: Buffer): void {
  if (!ref.map.delete(key)) throw NA_ERR_LOADER_KEY_NOT_FOUND.with({ details: { mapId: ref.id, key: Buffer.from(key).toString('hex') } }, ref.id, keyText(key));
}

/** Entries in the kernel's order, after `startAfter` when given, at most `limit` (0: all). */
export function* dump(ref: MapRef, limit: number, startAfter: Buffer | undefined, signal?: AbortSignal): Generator<Entry, void, undefined> {
  let n = 0;
  for (const key of ref.map.keys(startAfter)) {
    if (signal?.aborted) return;
    const e = entryOf(ref, key);
    if (!e) continue; // deleted meanwhile
    yield e;
    if (limit > 0 && ++n >= limit) return;
  }
}

/**
 * Writes many entries: one BPF_MAP_UPDATE_BATCH when the map type has it and the flag is `any`,
 * one update per entry otherwise. Answers the number written; an error carries `details.updated`.
 */
export function updateBatch(ref: MapRef, entries: readonly { key: Buffer; value: Buffer; perCpuValues: Buffer[] }[], flag: UpdateFlag): number {
  if (entries.length === 0) return 0;
  if (flag === 'any' && BATCHABLE.has(ref.record.type)) {
    const packed = entries.map((e, i): [Buffer, Buffer] => {
      if (!ref.map.perCpu) {
        if (e.perCpuValues.length > 0) throw NA_ERR_LOADER_INVALID_REQUEST(`entries[${i}].perCpuValues: map ${ref.id} is not per-CPU; give value`);
        return [e.key, e.value];
      }
      const v = perCpuValue(ref, e, `entries[${i}]`);
      return [e.key, Array.isArray(v) ? Buffer.concat(v.map((x) => padded(x, ref.map.perCpuStride))) : v];
    });
    try {
      ref.map.updateBatch(packed);
    } catch (err) {
      const applied = (err as { details?: { applied?: number } }).details?.applied ?? 0;
      throw withUpdated(err, applied);
    }
    return entries.length;
  }
  let done = 0;
  try {
    for (const e of entries) {
      update(ref, e, flag);
      done++;
    }
  } catch (err) {
    throw withUpdated(err, done);
  }
  return done;
}

function padded(v: Buffer, stride: number): Buffer {
  if (v.length >= stride) return v;
  return Buffer.concat([v, Buffer.alloc(stride - v.length)]);
}

/** The same error with `details.updated` added (errors are frozen, so a copy). */
function withUpdated(err: unknown, updated: number): unknown {
  const e = err as { details?: Record<string, unknown>; code?: string } | undefined;
  if (e && e.details && typeof e.code === 'string') Object.defineProperty(err, 'details', { value: Object.freeze({ ...e.details, updated }) });
  return err;
}

/**
 * Writes `count` entries given back to back (PackedEntries): one BPF_MAP_UPDATE_BATCH on the
 * request's own bytes when the map type has it, else one update per entry. Flag `any` only (the
 * kernel's batches take no other). Sizes are checked before anything is written.
 */
export function updatePacked(ref: MapRef, packed: { count: number; keys: Buffer; values: Buffer }, flag: UpdateFlag): number {
  const { count, keys, values } = packed;
  const m = ref.map;
  if (flag !== 'any') throw NA_ERR_LOADER_INVALID_REQUEST(`flag: packed entries are written with ANY only (the kernel's batch update takes no other flag), got ${flag}`);
  if (keys.length !== count * m.keySize) {
    throw NA_ERR_LOADER_INVALID_REQUEST(`packed.keys: expected ${count} keys of ${m.keySize} bytes (${count * m.keySize} bytes) for map ${ref.id}, got ${keys.length} bytes`);
  }
  const slots = m.perCpu ? m.perCpuStride * m.cpus : m.valueSize;
  if (values.length !== count * m.valueSize && values.length !== count * slots) {
    const want = m.perCpu ? `${count * m.valueSize} (one value for every CPU) or ${count * slots} (every CPU's slot)` : `${count * m.valueSize}`;
    throw NA_ERR_LOADER_INVALID_REQUEST(`packed.values: expected ${want} bytes for ${count} values of map ${ref.id}, got ${values.length}`);
  }
  if (count === 0) return 0;
  if (BATCHABLE.has(ref.record.type)) {
    try {
      m.updateBatchPacked(count, keys, values);
    } catch (err) {
      throw withUpdated(err, (err as { details?: { applied?: number } }).details?.applied ?? 0);
    }
    return count;
  }
  const size = values.length / count;
  let done = 0;
  try {
    for (let i = 0; i < count; i++) {
      const key = keys.subarray(i * m.keySize, (i + 1) * m.keySize);
      const value = values.subarray(i * size, (i + 1) * size);
      if (m.perCpu) m.updatePerCpu(key, size === m.valueSize ? value : m.splitPerCpu(value), flag);
      else m.update(key, value, flag);
      done++;
    }
  } catch (err) {
    throw withUpdated(err, done);
  }
  return done;
}
