import { test } from 'vitest';
import assert from 'node:assert/strict';
import { NO_PEER, decodeCommit, decodeConfig, decodeKeyEntry, encodeConfig, encodeKeyEntry, keyEntrySize, placedKey, slotChecksum } from './codec.js';
import { chainConfig } from './fixtures.js';

test('config round-trips for every role and mode', () => {
  for (const role of ['head', 'middle', 'tail', 'single'] as const) {
    for (const netchain of [false, true]) {
      const c = chainConfig(role, { netchain });
      assert.deepEqual(decodeConfig(encodeConfig(c)), c);
    }
  }
  assert.deepEqual(decodeConfig(encodeConfig({ ...chainConfig('head'), succ: NO_PEER })).succ, NO_PEER);
});

test('a key entry round-trips; a slot must hold its own version', () => {
  const k = placedKey(0xdeadbeef, 12n, Uint8Array.of(1, 2, 3));
  const b = encodeKeyEntry(k);
  assert.equal(b.length, keyEntrySize());
  assert.deepEqual(decodeKeyEntry(b), k);
  const held = placedKey(0xdeadbeef, 12n, Uint8Array.of(1, 2, 3), { hold: true });
  assert.equal(encodeKeyEntry(held).readUInt32LE(4), 1);
  assert.deepEqual(decodeKeyEntry(encodeKeyEntry(held)), held);
  const slots = [...k.slots];
  slots[0] = { version: 12n, value: Uint8Array.of(9), tombstone: false };
  assert.throws(() => encodeKeyEntry({ ...k, slots }), /belongs in slot 2/);
  assert.throws(() => encodeKeyEntry(placedKey(1, 1n, new Uint8Array(1025))), /exceed 1024/);
});

test('the slot checksum is the folded little-endian word sum (odd lengths padded)', () => {
  assert.equal(slotChecksum(Uint8Array.of(0x01, 0x02)), 0x0201);
  assert.equal(slotChecksum(Uint8Array.of(0xff, 0xff, 0x01)), 0x0001);
  assert.equal(slotChecksum(new Uint8Array(0)), 0);
});

test('a commit record decodes', () => {
  const b = Buffer.alloc(1056);
  b.writeBigUInt64LE(77n, 0);
  b.writeBigUInt64LE(5n, 8);
  b.writeUInt32LE(9, 16);
  b.writeUInt32LE(3, 20);
  b.writeUInt16LE(2, 24);
  b[26] = 1;
  b[32] = 0xaa;
  b[33] = 0xbb;
  assert.deepEqual(decodeCommit(b), { keyId: 77n, version: 5n, keyCheck: 9, epoch: 3, tombstone: true, value: Uint8Array.of(0xaa, 0xbb) });
});
