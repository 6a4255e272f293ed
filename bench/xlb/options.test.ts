import { test } from 'vitest';
import assert from 'node:assert/strict';
import { FULL_DEFAULTS, QUICK_DEFAULTS, SECTIONS, benchOptions } from './options.js';

test('defaults: the full table, every section', () => {
  const o = benchOptions({});
  assert.equal(o.quick, false);
  assert.deepEqual(o.sections, [...SECTIONS]);
  assert.equal(o.rounds, FULL_DEFAULTS.rounds);
  assert.equal(o.wrkSeconds, FULL_DEFAULTS.wrkSeconds);
  assert.ok(Object.isFrozen(o));
});

test('XLB_BENCH_QUICK=1 takes the quick table; single variables override either', () => {
  const q = benchOptions({ XLB_BENCH_QUICK: '1' });
  assert.equal(q.quick, true);
  assert.equal(q.floodSeconds, QUICK_DEFAULTS.floodSeconds);
  assert.equal(q.singleRuns, QUICK_DEFAULTS.singleRuns);
  const o = benchOptions({ XLB_BENCH_QUICK: '1', XLB_BENCH_ROUNDS: '4', XLB_BENCH_FLOOD_SECONDS: '0.25', XLB_BENCH_SECTIONS: 'rate, testrun' });
  assert.equal(o.rounds, 4);
  assert.equal(o.floodSeconds, 0.25);
  assert.deepEqual(o.sections, ['rate', 'testrun']);
});

test('malformed values are refused, naming the variable', () => {
  assert.throws(() => benchOptions({ XLB_BENCH_QUICK: 'yes' }), /^Error: XLB_BENCH_QUICK: expected 0 or 1/);
  assert.throws(() => benchOptions({ XLB_BENCH_ROUNDS: '0' }), /^Error: XLB_BENCH_ROUNDS: expected an integer 1\.\.20, got "0"/);
  assert.throws(() => benchOptions({ XLB_BENCH_WRK_SECONDS: '1.5' }), /^Error: XLB_BENCH_WRK_SECONDS: expected an integer/);
  assert.throws(() => benchOptions({ XLB_BENCH_FLOOD_SECONDS: 'abc' }), /^Error: XLB_BENCH_FLOOD_SECONDS: expected a number/);
  assert.throws(() => benchOptions({ XLB_BENCH_SECTIONS: 'rate,bogus' }), /^Error: XLB_BENCH_SECTIONS: expected a comma list of testrun, rate, e2e, control, got "bogus"/);
});
