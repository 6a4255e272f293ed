import assert from 'node:assert/strict';
import { test } from 'vitest';
import { rankPlacement } from './ranking.js';
import type { PlacedInfo } from './ranking.js';

const O = { budget: 300, maxKeys: 10, hysteresis: 0.25, minDwellMs: 0, minReads: 1, now: 1000 };
const placed = (entries: [string, number, Partial<PlacedInfo>?][]): Map<string, PlacedInfo> => new Map(entries.map(([k, size, p]) => [k, { size, placedAt: 0, pinned: false, ...p }]));

test('the hottest keys that fit the budget; a smaller colder key fills what is left', () => {
  const d = rankPlacement([{ key: 'a', score: 100, size: 200 }, { key: 'b', score: 90, size: 200 }, { key: 'c', score: 10, size: 100 }], new Map(), O);
  assert.deepEqual(d, { place: ['a', 'c'], evict: [], used: 300 });
});

test('hysteresis: a candidate must beat a placed key by 25 %', () => {
  const p = placed([['a', 200]]);
  assert.deepEqual(rankPlacement([{ key: 'a', score: 100, size: 200 }, { key: 'b', score: 120, size: 200 }], p, O), { place: [], evict: [], used: 200 }, '120 < 125: a stays');
  assert.deepEqual(rankPlacement([{ key: 'a', score: 100, size: 200 }, { key: 'b', score: 130, size: 200 }], p, O), { place: ['b'], evict: ['a'], used: 200 }, '130 > 125: b replaces a');
});

test('dwell time and pins keep a key whatever its heat; cold keys leave', () => {
  const p = placed([['young', 200, { placedAt: 900 }], ['pinned', 50, { pinned: true }], ['cold', 50]]);
  const d = rankPlacement([{ key: 'hot', score: 1000, size: 200 }], p, { ...O, minDwellMs: 500 });
  assert.deepEqual(d, { place: [], evict: ['cold'], used: 250 }, 'young (dwelling) and pinned stay, cold (0 reads) leaves, hot does not fit');
  const later = rankPlacement([{ key: 'hot', score: 1000, size: 200 }], p, { ...O, minDwellMs: 500, now: 2000 });
  assert.deepEqual(later, { place: ['hot'], evict: ['young', 'cold'], used: 250 }, 'both cold (0 reads): reverse key order');
});

test('the key limit, minReads, and determinism on equal scores', () => {
  const c = [{ key: 'x', score: 5, size: 10 }, { key: 'w', score: 5, size: 10 }, { key: 'v', score: 5, size: 10 }, { key: 'u', score: 0.5, size: 10 }];
  assert.deepEqual(rankPlacement(c, new Map(), { ...O, maxKeys: 2 }).place, ['v', 'w']);
  assert.deepEqual(rankPlacement(c, new Map(), O).place, ['v', 'w', 'x'], 'u is under minReads');
});
