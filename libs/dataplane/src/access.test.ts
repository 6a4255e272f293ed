import { test } from 'vitest';
import assert from 'node:assert/strict';
import { checkPacked, packEntries } from './access.js';
import { NA_ERR_DATAPLANE_INVALID } from './errors.js';
import { typedGlobals } from './loader.js';

const geometry = { keySize: 2, valueSize: 3, maxEntries: 10, perCpu: false };

test('packEntries lays keys and values back to back and names the entry of the wrong size', () => {
  const p = packEntries('m', geometry, [Buffer.from([1, 2]), Buffer.from([3, 4])], [Buffer.from([5, 6, 7]), Buffer.from([8, 9, 10])]);
  assert.deepEqual(p.keys, Buffer.from([1, 2, 3, 4]));
  assert.deepEqual(p.values, Buffer.from([5, 6, 7, 8, 9, 10]));
  assert.throws(() => packEntries('m', geometry, [Buffer.from([1])], [Buffer.alloc(3)]), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && e.message === 'map m: keys[0] has 1 bytes, expected 2');
  assert.throws(() => packEntries('m', geometry, [Buffer.alloc(2)], []), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && e.message === 'map m: 1 keys but 0 values');
});

test('checkPacked refuses counts and byte lengths that do not fit the map', () => {
  checkPacked('m', geometry, 2, Buffer.alloc(4), Buffer.alloc(6));
  checkPacked('m', geometry, 0, Buffer.alloc(0), Buffer.alloc(0));
  assert.throws(() => checkPacked('m', geometry, 1.5, Buffer.alloc(3), Buffer.alloc(4)), /count: expected an integer >= 0, got 1.5/);
  assert.throws(() => checkPacked('m', geometry, 2, Buffer.alloc(4), Buffer.alloc(5)), /values: expected 2 × 3 bytes, got 5/);
});

test('typedGlobals: integers by sign, booleans, raw bytes; a fraction refused', () => {
  const g = typedGlobals({ port: 4789, delta: -2, big: 2n ** 63n, on: true, addr: new Uint8Array([1, 2]) });
  assert.deepEqual(
    Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v.value])),
    {
      port: { $case: 'unsigned', value: 4789n },
      delta: { $case: 'signed', value: -2n },
      big: { $case: 'unsigned', value: 2n ** 63n },
      on: { $case: 'boolean', value: true },
      addr: { $case: 'raw', value: Buffer.from([1, 2]) },
    },
  );
  assert.throws(() => typedGlobals({ x: 0.5 }), (e: unknown) => NA_ERR_DATAPLANE_INVALID.is(e) && e.message === 'globals.x: expected an integer, got 0.5');
});
