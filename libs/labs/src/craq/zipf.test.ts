import { test } from 'vitest';
import assert from 'node:assert/strict';
import { seededRandom } from '@netaccel/paxos';
import { zipfHeadShare, zipfSampler } from './zipf.js';

test('zipf 0.99 over 2000 ranks: rank 0 drawn most, the draws follow the head share, all in range', () => {
  const n = 2000;
  const draw = zipfSampler(n, 0.99, seededRandom(7));
  const counts = new Array<number>(n).fill(0);
  const draws = 50_000;
  for (let i = 0; i < draws; i++) counts[draw()]!++;
  assert.equal(counts.reduce((a, b) => a + b, 0), draws);
  assert.ok(counts[0]! > counts[1]! && counts[1]! > counts[10]!, `rank 0 > rank 1 > rank 10: ${counts.slice(0, 11).join(',')}`);
  const top64 = counts.slice(0, 64).reduce((a, b) => a + b, 0) / draws;
  const expected = zipfHeadShare(n, 0.99, 64);
  assert.ok(Math.abs(top64 - expected) < 0.02, `top-64 share ${top64} vs ${expected}`);
  assert.ok(expected > 0.5 && expected < 0.7, `zipf 0.99: the top 64 of 2000 carry about 58 %: ${expected}`);
});

test('zipf: s = 0 is uniform; bad n or s refused', () => {
  assert.equal(zipfHeadShare(100, 0, 10), 0.1);
  assert.throws(() => zipfSampler(0, 0.99, Math.random), /n ≥ 1/);
  assert.throws(() => zipfSampler(10, Number.NaN, Math.random), /s ≥ 0/);
});
