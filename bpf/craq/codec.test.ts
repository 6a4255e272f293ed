import { test } from 'vitest';
import assert from 'node:assert/strict';
import { CRAQ_LAYOUTS, CRAQ_REQ_RING, NO_PEER, decodeCommit, decodeConfig, decodeKeyEntry, encodeConfig, encodeKeyEntry, keyEntrySize, placedKey, requestsHeld, ringOf, slotChecksum, withRequests } from './codec.js';
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

test('a key entry keeps its request ring: one record per version % CRAQ_REQ_RING, the newer version wins, request id 0 not recorded', () => {
  const k = withRequests(placedKey(0xdeadbeef, 12n, Uint8Array.of(1)), [{ reqId: 7n, version: 3n }, { reqId: 0n, version: 4n }, { reqId: 8n, version: 12n }]);
  assert.deepEqual(k.requests, [{ reqId: 7n, version: 3n }, { reqId: 8n, version: 12n }]);
  const b = encodeKeyEntry(k);
  assert.equal(b.length, keyEntrySize());
  assert.equal(b.readBigUInt64LE(CRAQ_LAYOUTS.key.members.reqs + 16 * 12), 8n, 'reqs[12 % 64].req_id');
  assert.deepEqual(decodeKeyEntry(b), k);
  const later = withRequests(k, [{ reqId: 9n, version: 3n + BigInt(CRAQ_REQ_RING) }]);
  assert.deepEqual(later.requests, [{ reqId: 8n, version: 12n }, { reqId: 9n, version: 67n }], 'version 67 replaces version 3 (the same index)');
  assert.equal(ringOf([{ reqId: 9n, version: 67n }], [{ reqId: 7n, version: 3n }]).length, 1, 'an older version does not replace a newer one');
  assert.deepEqual(requestsHeld({ ...k, slots: k.slots.map((s) => (s === undefined ? s : { ...s, reqId: 5n })) }), [{ reqId: 7n, version: 3n }, { reqId: 5n, version: 12n }], 'the ring and the slots, the slot last for version 12');
});
