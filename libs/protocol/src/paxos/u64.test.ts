// readU64 / writeU64 (header.ts): the per-request path's u64 reads and writes, checked against
// Buffer's own BigInt codec on edge values and on interleaved ids whose high halves share a slot
// of the high-half cache.
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readU64, writeU64 } from './header.js';

const EDGES = [0n, 1n, 0xffn, 0x7fffffffn, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 0x1234n << 32n, (0x1234n << 32n) | 0xffffffffn, (1n << 63n) + 7n, (1n << 64n) - 1n];

test('writeU64 writes what writeBigUInt64BE writes, readU64 reads it back (edges, at an offset)', () => {
  for (const v of EDGES) {
    const ours = Buffer.alloc(13, 0xaa);
    const node = Buffer.alloc(13, 0xaa);
    writeU64(ours, v, 3);
    node.writeBigUInt64BE(v, 3);
    assert.deepEqual(ours, node, `0x${v.toString(16)}`);
    assert.equal(readU64(ours, 3), v);
  }
});

test('readU64 with high halves that share a cache slot, interleaved: every value exact', () => {
  // hi & 3 is the slot: 4, 8 and 12 share slot 0; 5 is slot 1
  const his = [4n, 8n, 4n, 12n, 5n, 4n, 5n, 8n];
  const buf = Buffer.alloc(8);
  for (let k = 0; k < 64; k++) {
    const v = (his[k % his.length]! << 32n) | BigInt((k * 2654435761) >>> 0);
    buf.writeBigUInt64BE(v, 0);
    assert.equal(readU64(buf, 0), v, `k ${k}`);
  }
  buf.writeBigUInt64BE(8n << 32n, 0);
  assert.equal(readU64(buf, 0), 8n << 32n, 'a zero low half');
});

test('writeU64 refuses what writeBigUInt64BE refuses (negative, above 2^64 - 1)', () => {
  const out = Buffer.alloc(8);
  assert.throws(() => writeU64(out, -1n, 0), RangeError);
  assert.throws(() => writeU64(out, 1n << 64n, 0), RangeError);
});
