import assert from 'node:assert/strict';
import { test } from 'vitest';
import { SIDECAR_LAYOUTS, decodeConfig, decodeStream, encodeConfig, nextConfig } from './codec.js';
import { compilePolicy } from './policy.js';
import { SIDECAR_ACTION } from './constants.js';
import { huffmanEncode } from './huffman.js';

/** A streams value as the kernel writes it: method 3, flags, and grpc-timeout's bytes as on the wire. */
function streamValue(flags: number, timeout: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(SIDECAR_LAYOUTS.stream.size);
  b.writeBigUInt64LE(123n, 0);
  b.writeUInt32LE(3, 8);
  b.writeUInt32LE(flags, 12);
  timeout.copy(b, 16);
  b.writeUInt32LE(timeout.length, 28);
  return b;
}

test('streams values: the grpc-timeout the kernel kept, plain or Huffman-coded, read back as text; none without the flag', () => {
  assert.deepEqual(decodeStream(streamValue(0)), { startNs: 123n, method: 3, responded: false, timeout: undefined });
  assert.equal(decodeStream(streamValue(2, Buffer.from('250m'))).timeout, '250m');
  for (const v of ['1S', '99999999m', '30000000u', '5H', '7n']) {
    const huff = huffmanEncode(v);
    assert.ok(huff.length < v.length || v.length <= 2, `${v} is shorter Huffman-coded`);
    assert.equal(decodeStream(streamValue(2 | 4, huff)).timeout, v, v);
  }
  assert.equal(decodeStream(streamValue(1 | 2, Buffer.from('10S'))).responded, true);
  // a length the kernel never writes (longer than the value field): no timeout
  const bad = streamValue(2, Buffer.from('1S'));
  bad.writeUInt32LE(13, 28);
  assert.equal(decodeStream(bad).timeout, undefined);
});

test('sidecar_cfg: each policy write takes the generation after the one in the map (never 0, wrapping), keeping its default action', () => {
  const deny = compilePolicy({ methods: {}, defaultAction: 'deny' }).config;
  assert.deepEqual(decodeConfig(deny), { defaultAction: SIDECAR_ACTION.DENY, generation: 0 }, 'compilePolicy leaves the generation to the writer');
  assert.deepEqual(decodeConfig(nextConfig(deny, undefined)), { defaultAction: SIDECAR_ACTION.DENY, generation: 1 });
  assert.deepEqual(decodeConfig(nextConfig(deny, encodeConfig(SIDECAR_ACTION.ALLOW, 41))), { defaultAction: SIDECAR_ACTION.DENY, generation: 42 });
  assert.equal(decodeConfig(nextConfig(deny, encodeConfig(SIDECAR_ACTION.ALLOW, 0xffff_ffff))).generation, 1, 'wraps past 0 (0 caches nothing)');
  assert.throws(() => encodeConfig(SIDECAR_ACTION.ALLOW, -1), /config.generation/);
  assert.throws(() => decodeConfig(Buffer.alloc(4)), /sidecar_config: expected 8 bytes/);
});
