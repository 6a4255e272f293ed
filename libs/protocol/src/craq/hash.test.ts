import { test } from 'vitest';
import assert from 'node:assert/strict';
import { craqKey, craqKeyCheck, craqKeyId, murmur3 } from './hash.js';

test('FNV-1a 64 matches the published vectors', () => {
  assert.equal(craqKeyId(''), 0xcbf29ce484222325n);
  assert.equal(craqKeyId('a'), 0xaf63dc4c8601ec8cn);
  assert.equal(craqKeyId('foobar'), 0x85944171f73967e8n);
});

test('murmur3 x86_32 matches the reference vectors (every tail length)', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  assert.equal(murmur3(enc(''), 0), 0);
  assert.equal(murmur3(enc(''), 1), 0x514e28b7);
  assert.equal(murmur3(enc('test'), 0), 0xba6bd213);
  assert.equal(murmur3(enc('Hello, world!'), 0x9747b28c), 0x24884cba);
  assert.equal(murmur3(enc('The quick brown fox jumps over the lazy dog'), 0), 0x2e4ff723);
  assert.equal(murmur3(Uint8Array.of(0x21, 0x43, 0x65), 0), 0x7e4a8634);
  assert.equal(murmur3(Uint8Array.of(0x21, 0x43), 0), 0xa0f7b07a);
  assert.equal(murmur3(Uint8Array.of(0x21), 0), 0x72661cf4);
});

test('a key and its bytes hash alike; key_check uses seed 0x6e6163', () => {
  const key = '/registry/leases/kube-node-lease/node-1';
  assert.deepEqual(craqKey(key), craqKey(new TextEncoder().encode(key)));
  assert.equal(craqKeyCheck(key), murmur3(new TextEncoder().encode(key), 0x6e6163));
  assert.notEqual(craqKeyCheck(key), murmur3(new TextEncoder().encode(key), 0));
});
