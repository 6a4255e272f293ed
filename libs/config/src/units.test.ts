import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from './units.js';

test('parseDuration reads units and compound durations into milliseconds', () => {
  const cases: [string | number, number][] = [
    ['90s', 90_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1_500],
    ['0.1s', 100],
    ['0.25m', 15_000],
    ['0', 0],
    ['0s', 0],
    [0, 0],
    [250, 250],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, `parseDuration(${JSON.stringify(input)})`);
});

test('parseDuration refuses what is not a whole number of milliseconds', () => {
  for (const input of ['', '90', '1.5ms', '0.0001s', '90 s', ' 90s', 'ten s', '1s1m', '1s1s', '-5s', '5x', 's', '1e3ms', -1, 1.5, NaN, Infinity]) {
    assert.equal(parseDuration(input), undefined, `parseDuration(${JSON.stringify(input)})`);
  }
  assert.equal(parseDuration(`${Number.MAX_SAFE_INTEGER}d`), undefined, 'beyond MAX_SAFE_INTEGER');
});

test('formatDuration writes the compound form', () => {
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(1_500), '1s500ms');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(86_400_000 + 1), '1d1ms');
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(0.5), RangeError);
});

test('property: formatDuration and parseDuration round-trip every whole millisecond count', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (ms) => parseDuration(formatDuration(ms)) === ms),
    { numRuns: 2000 },
  );
});

test('property: n<unit> parses to n times the unit', () => {
  const units: [string, number][] = [['ms', 1], ['s', 1_000], ['m', 60_000], ['h', 3_600_000], ['d', 86_400_000]];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...units), (n, [unit, size]) => parseDuration(`${n}${unit}`) === n * size),
  );
});

test('parseByteSize reads SI and IEC units, case-insensitively', () => {
  const cases: [string | number, number][] = [
    [4096, 4096],
    ['512', 512],
    ['512B', 512],
    ['64KiB', 65_536],
    ['64kib', 65_536],
    ['64Ki', 65_536],
    ['1MiB', 1_048_576],
    ['1.5KiB', 1_536],
    ['4Gi', 4 * 2 ** 30],
    ['1TiB', 2 ** 40],
    ['1kB', 1_000],
    ['1KB', 1_000],
    ['1.5MB', 1_500_000],
    ['2 GB', 2e9],
    ['1.1MB', 1_100_000],
  ];
  for (const [input, bytes] of cases) assert.equal(parseByteSize(input), bytes, `parseByteSize(${JSON.stringify(input)})`);
});

test('parseByteSize refuses fractions of a byte and unknown units', () => {
  for (const input of ['', 'KiB', '1.5B', '1.0001KB', '1 KiB ', '1  KiB', '1XB', '-1KiB', '1e3', -1, 0.5]) {
    assert.equal(parseByteSize(input), undefined, `parseByteSize(${JSON.stringify(input)})`);
  }
});

test('property: formatByteSize and parseByteSize round-trip', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => parseByteSize(formatByteSize(n)) === n), { numRuns: 2000 });
  assert.equal(formatByteSize(1_048_576), '1MiB');
  assert.equal(formatByteSize(2_000), '2kB');
  assert.equal(formatByteSize(1_536), '1536B');
  assert.equal(formatByteSize(0), '0B');
});
