/**
 * Array maps created with BPF_F_MMAPABLE, mapped into this process (mmap on the map's
 * descriptor, MAP_SHARED): user space reads and writes the values as plain memory, no syscall,
 * while the programs read and write the same bytes. Element i sits at i * stride, stride = the
 * value size rounded up to 8 (the kernel's array layout); the mapping covers the whole array.
 *
 * The caller owns the memory protocol: which side writes which bytes and in which order (plain
 * loads and stores here; use Atomics on typed arrays over `buffer` where an order matters, e.g. a
 * state word written after the body it guards). The mapping keeps the map alive after its
 * descriptor is closed; close() unmaps it, after which every view taken from it is invalid:
 * touching one crashes the process, so keep the views private and drop them on close.
 */
import { NA_ERR_BPF_INVALID, syscallError } from './errors.js';
import { BPF_MAP_TYPE } from './map.js';
import type { BpfMap } from './map.js';
import { native } from './native.js';
import type { Ptr } from './native.js';

/** BPF_F_MMAPABLE (uapi linux/bpf.h): an array map user space may mmap. */
export const BPF_F_MMAPABLE = 0x400;

const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x1;

/** Whether `map` is an array map created with BPF_F_MMAPABLE (what mapArray accepts). */
export function isMmapable(map: Pick<BpfMap, 'type' | 'flags'>): boolean {
  return map.type === BPF_MAP_TYPE.array && (map.flags & BPF_F_MMAPABLE) !== 0;
}

/** One BPF_F_MMAPABLE array map mapped read-write into this process. */
export class MappedArray {
  /** The whole array (maxEntries * stride bytes), live: no copy either way. */
  readonly bytes: Uint8Array;
  /** The same bytes as 32- and 64-bit words (for Atomics; the stride keeps them aligned). */
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
  /** Bytes from one element to the next (value size rounded up to 8). */
  readonly stride: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly #ptr: Ptr;
  readonly #length: number;
  #closed = false;

  private constructor(ptr: Ptr, length: number, map: BpfMap, stride: number) {
    this.#ptr = ptr;
    this.#length = length;
    this.stride = stride;
    this.valueSize = map.valueSize;
    this.maxEntries = map.maxEntries;
    this.bytes = native().view(ptr, stride * map.maxEntries);
    this.u32 = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length / 4);
    this.u64 = new BigUint64Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length / 8);
  }

  /**
   * Maps `map` (an array created with BPF_F_MMAPABLE; NA_ERR_BPF_INVALID otherwise, or the
   * mmap's errno as NA_ERR_BPF_SYSCALL / NA_ERR_BPF_PERM).
   */
  static map(map: BpfMap): MappedArray {
    if (!isMmapable(map)) {
      throw NA_ERR_BPF_INVALID.with({ details: { map: map.name, type: map.type, flags: map.flags } }, `map ${map.name}: only an array map created with BPF_F_MMAPABLE can be mapped (type ${map.type}, flags 0x${map.flags.toString(16)})`);
    }
    const n = native();
    const stride = Math.ceil(map.valueSize / 8) * 8;
    const length = Math.ceil((stride * map.maxEntries) / n.pageSize) * n.pageSize;
    const ptr = n.mmap(length, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd, 0);
    if (ptr === null) throw syscallError(`mmap(map ${map.name})`, -n.errno(), { length });
    return new MappedArray(ptr, length, map, stride);
  }

  /** Byte offset of element i. */
  offset(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.maxEntries) throw new RangeError(`index: expected 0..${this.maxEntries - 1}, got ${String(i)}`);
    return i * this.stride;
  }

  /** A live view of element i's value (valueSize bytes). */
  value(i: number): Uint8Array {
    const at = this.offset(i);
    return this.bytes.subarray(at, at + this.valueSize);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Unmaps (idempotent). Every view of the mapping is invalid afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const n = native();
    if (n.munmap(this.#ptr, this.#length) < 0) throw syscallError('munmap', -n.errno(), { length: this.#length });
  }
}
