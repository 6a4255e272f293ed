import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeMapInfo } from './map.js';
import { decodeProgramInfo } from './program.js';

// struct bpf_map_info / bpf_prog_info are uapi (linux/bpf.h): fixed offsets, little-endian here.
test('decodeMapInfo reads struct bpf_map_info', () => {
  const b = Buffer.alloc(88);
  b.writeUInt32LE(6, 0);
  b.writeUInt32LE(77, 4);
  b.writeUInt32LE(4, 8);
  b.writeUInt32LE(16, 12);
  b.writeUInt32LE(5, 16);
  b.writeUInt32LE(1024, 20);
  b.write('verdict_stats', 24);
  b.writeUInt32LE(9, 64);
  assert.deepEqual(decodeMapInfo(b), { type: 6, id: 77, keySize: 4, valueSize: 16, maxEntries: 5, flags: 1024, name: 'verdict_stats', btfId: 9 });
});

test('decodeProgramInfo reads struct bpf_prog_info', () => {
  const b = Buffer.alloc(232);
  b.writeUInt32LE(6, 0);
  b.writeUInt32LE(171, 4);
  Buffer.from('7e367aaa9e851e17', 'hex').copy(b, 8);
  b.writeUInt32LE(888, 16);
  b.writeUInt32LE(1520, 20);
  b.writeBigUInt64LE(123n, 40);
  b.write('selftest_xdp', 64);
  b.writeUInt32LE(103, 128);
  b.writeBigUInt64LE(5000n, 192);
  b.writeBigUInt64LE(10n, 200);
  b.writeBigUInt64LE(2n, 208);
  b.writeUInt32LE(501, 216);
  assert.deepEqual(decodeProgramInfo(b), {
    type: 6, id: 171, tag: '7e367aaa9e851e17', jitedBytes: 888, xlatedBytes: 1520, loadTime: 123n, name: 'selftest_xdp',
    btfId: 103, runTimeNs: 5000n, runCount: 10n, recursionMisses: 2n, verifiedInstructions: 501,
  });
});
