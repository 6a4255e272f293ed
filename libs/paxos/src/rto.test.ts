import { test } from 'vitest';
import assert from 'node:assert/strict';
import { RetransmitTimeout } from './rto.js';

test('retransmitMs until a sample, then srtt + 4 x rttvar (RFC 6298), within [retransmitMs, retransmitMaxMs]', () => {
  const t = new RetransmitTimeout(60, 1000);
  assert.equal(t.ms, 60);
  t.sample(100); // srtt 100, rttvar 50
  assert.equal(t.ms, 300);
  t.sample(100); // rttvar 0.75 * 50 = 37.5
  assert.equal(t.ms, 250);
  for (let i = 0; i < 200; i++) t.sample(2);
  assert.equal(t.ms, 60, 'a fast group: never below retransmitMs');
  for (let i = 0; i < 200; i++) t.sample(5000);
  assert.equal(t.ms, 1000, 'a slow group: never above retransmitMaxMs');
  t.sample(Number.NaN);
  t.sample(-1);
  assert.equal(t.ms, 1000, 'no sample from nonsense');
});

test('each timeout that re-sent doubles the timeout up to retransmitMaxMs; a sample ends the back-off', () => {
  const t = new RetransmitTimeout(60, 1000);
  const seen = [t.ms];
  for (let i = 0; i < 6; i++) {
    t.timedOut();
    seen.push(t.ms);
  }
  assert.deepEqual(seen, [60, 120, 240, 480, 960, 1000, 1000]);
  t.sample(40); // srtt 40, rttvar 20: 120
  assert.equal(t.ms, 120);
  t.timedOut();
  assert.equal(t.ms, 240);
});

test('bounds are checked', () => {
  assert.throws(() => new RetransmitTimeout(0, 10), RangeError);
  assert.throws(() => new RetransmitTimeout(20, 10), /expected 0 < min <= max, got 20, 10/);
});
