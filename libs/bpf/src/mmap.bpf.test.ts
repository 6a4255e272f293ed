/**
 * BPF layer: BPF_F_MMAPABLE array maps mapped into the process (MappedArray): what the map
 * syscalls write is in the mapping at i * stride, what is stored in the mapping is what they
 * read, the mapping outlives the map's descriptor, and maps that cannot be mapped are refused.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NA_ERR_BPF_INVALID } from './errors.js';
import { BpfMap } from './map.js';
import { BPF_F_MMAPABLE, MappedArray, isMmapable } from './mmap.js';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A 12-byte value (stride 16) whose bytes say which entry and which writer. */
function value(i: number, writer: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(i, 0);
  b.writeUInt32LE(writer, 4);
  b.writeUInt32LE(i * 7 + writer, 8);
  return b;
}

test('a mmapable array: syscall writes are seen in memory at i * stride, memory writes by lookups', (t) => {
  // 300 entries * 16 bytes: more than one page, the last page partly used
  const map = BpfMap.create({ type: 'array', name: 'na_mmap_test', keySize: 4, valueSize: 12, maxEntries: 300, flags: BPF_F_MMAPABLE });
  t.onTestFinished(() => map.close());
  assert.equal(map.flags, BPF_F_MMAPABLE);
  assert.equal(isMmapable(map), true);
  const m = MappedArray.map(map);
  t.onTestFinished(() => m.close());
  assert.equal(m.stride, 16);
  assert.equal(m.bytes.length, 16 * 300);
  assert.deepEqual(Buffer.from(m.value(299)), Buffer.alloc(12)); // a new array is zeroed

  for (const i of [0, 1, 255, 256, 299]) map.update(u32(i), value(i, 1));
  for (const i of [0, 1, 255, 256, 299]) {
    assert.deepEqual(Buffer.from(m.value(i)), value(i, 1));
    assert.deepEqual(Buffer.from(m.bytes.subarray(i * 16, i * 16 + 12)), value(i, 1));
  }
  assert.deepEqual(Buffer.from(m.value(2)), Buffer.alloc(12)); // neighbours untouched

  for (const i of [3, 128, 298]) m.value(i).set(value(i, 2));
  for (const i of [3, 128, 298]) assert.deepEqual(map.lookup(u32(i)), value(i, 2));
  assert.deepEqual(map.lookup(u32(299)), value(299, 1));

  assert.throws(() => m.value(300), RangeError);
  assert.throws(() => m.offset(-1), RangeError);
});

test('the mapping keeps the map alive after its descriptor is closed; close() is idempotent', () => {
  const map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: BPF_F_MMAPABLE });
  const m = MappedArray.map(map);
  try {
    map.update(u32(1), Buffer.from('abcdefgh'));
    map.close();
    assert.equal(Buffer.from(m.value(1)).toString(), 'abcdefgh');
    m.value(2).set(Buffer.from('12345678'));
    assert.equal(Buffer.from(m.value(2)).toString(), '12345678');
  } finally {
    m.close();
  }
  assert.equal(m.closed, true);
  m.close();
});

test('a map without BPF_F_MMAPABLE, or not an array, is refused with NA_ERR_BPF_INVALID', (t) => {
  const plain = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
  t.onTestFinished(() => plain.close());
  const hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
  t.onTestFinished(() => hash.close());
  for (const map of [plain, hash]) {
    assert.equal(isMmapable(map), false);
    assert.throws(() => MappedArray.map(map), (err: unknown) => NA_ERR_BPF_INVALID.is(err));
  }
  assert.throws(() => BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: -1 }), (err: unknown) => NA_ERR_BPF_INVALID.is(err));
});
