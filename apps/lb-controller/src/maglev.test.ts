import { test } from 'vitest';
import assert from 'node:assert/strict';
import { MAGLEV_DEFAULT_SIZE, MAGLEV_EMPTY, buildMaglevTable, diffTables, isPrime, mapTable, permutationOf } from './maglev.js';
import type { MaglevBackend } from './maglev.js';

const names = (n: number, prefix = '10.0'): MaglevBackend[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${prefix}.${i >> 8}.${i & 0xff}:8080`, weight: 1 }));

/** Entries that changed owner, not counting those of `removed` (whose entries must move). */
function movedBeyond(before: ReturnType<typeof buildMaglevTable>, after: ReturnType<typeof buildMaglevTable>, removed?: string): number {
  let moved = 0;
  for (let p = 0; p < before.entries.length; p++) {
    const a = before.backends[before.entries[p]!]!.name;
    const b = after.backends[after.entries[p]!]!.name;
    if (a !== b && a !== removed) moved++;
  }
  return moved;
}

test('permutations: offset < M, skip in 1..M-1, and a full permutation for a prime M', () => {
  const m = 13;
  for (const b of names(20)) {
    const { offset, skip } = permutationOf(b.name, m);
    assert.ok(offset >= 0 && offset < m && skip >= 1 && skip < m);
    const seen = new Set(Array.from({ length: m }, (_, j) => (offset + j * skip) % m));
    assert.equal(seen.size, m);
  }
  assert.ok(isPrime(65537) && isPrime(13) && !isPrime(65535) && !isPrime(1) && !isPrime(4));
});

test('every position is filled, with backends only; deterministic and independent of input order', () => {
  const bs = names(37);
  const a = buildMaglevTable(bs, 1009);
  const b = buildMaglevTable([...bs].reverse(), 1009);
  assert.deepEqual(a.entries, b.entries);
  assert.ok(a.entries.every((e) => e < 37));
  assert.equal(a.counts.reduce((s, c) => s + c, 0), 1009);
});

test('removing one of N backends moves at most 1/N + 1% of the table beyond its own entries', () => {
  for (const n of [5, 10, 50, 100]) {
    const all = names(n);
    const before = buildMaglevTable(all, MAGLEV_DEFAULT_SIZE);
    for (const victim of [0, Math.floor(n / 2), n - 1]) {
      const gone = all[victim]!.name;
      const after = buildMaglevTable(all.filter((b) => b.name !== gone), MAGLEV_DEFAULT_SIZE);
      const moved = movedBeyond(before, after, gone);
      const bound = (1 / n + 0.01) * MAGLEV_DEFAULT_SIZE;
      assert.ok(moved <= bound, `N=${n}, removing ${gone}: ${moved} entries moved, bound ${bound.toFixed(0)}`);
      // the removed backend has no entry left, and every one of its entries found a new owner
      assert.ok(after.backends.every((b) => b.name !== gone));
    }
  }
});

test('adding a backend moves at most 1/(N+1) + 1% of the table', () => {
  const all = names(21);
  const before = buildMaglevTable(all.slice(0, 20), MAGLEV_DEFAULT_SIZE);
  const after = buildMaglevTable(all, MAGLEV_DEFAULT_SIZE);
  const moved = movedBeyond(before, after);
  assert.ok(moved <= (1 / 21 + 0.01) * MAGLEV_DEFAULT_SIZE, `${moved} moved`);
});

test('balance: with M >= 100·N the most and least loaded backends differ by under 1% of M', () => {
  for (const [n, m] of [[4, 401], [10, 1009], [100, 10007], [655, 65537]] as const) {
    assert.ok(m >= 100 * n);
    const t = buildMaglevTable(names(n), m);
    const max = Math.max(...t.counts);
    const min = Math.min(...t.counts);
    assert.ok(max - min < 0.01 * m, `N=${n} M=${m}: max ${max} min ${min}`);
  }
});

test('weights: each backend gets its weight share of the table within 1%', () => {
  const bs: MaglevBackend[] = [1, 2, 3, 5, 8, 13, 100, 250].map((w, i) => ({ name: `b${i}`, weight: w }));
  const total = bs.reduce((s, b) => s + b.weight, 0);
  const t = buildMaglevTable(bs, MAGLEV_DEFAULT_SIZE);
  t.backends.forEach((b, i) => {
    const want = (MAGLEV_DEFAULT_SIZE * b.weight) / total;
    const got = t.counts[i]!;
    assert.ok(Math.abs(got - want) / want < 0.01, `${b.name} weight ${b.weight}: ${got} entries, expected ${want.toFixed(1)}`);
  });
});

test('weight 0 takes no entries; no weight at all leaves the table empty', () => {
  const t = buildMaglevTable([{ name: 'a', weight: 0 }, { name: 'b', weight: 3 }], 13);
  assert.equal(t.counts[0], 0);
  assert.ok(t.entries.every((e) => e === 1));
  const empty = buildMaglevTable([{ name: 'a', weight: 0 }], 13);
  assert.ok(empty.entries.every((e) => e === MAGLEV_EMPTY));
  assert.ok(buildMaglevTable([], 13).entries.every((e) => e === MAGLEV_EMPTY));
});

test('bad input names the field', () => {
  assert.throws(() => buildMaglevTable([], 65536), /tableSize: expected a prime, got 65536/);
  assert.throws(() => buildMaglevTable([{ name: 'a', weight: 70000 }], 13), /backends\["a"\]\.weight: expected an integer 0\.\.65535, got 70000/);
  assert.throws(() => buildMaglevTable([{ name: 'a', weight: 1 }, { name: 'a', weight: 2 }], 13), /"a" is given twice/);
});

test('diffTables and mapTable', () => {
  const t1 = buildMaglevTable(names(3), 13);
  const t2 = buildMaglevTable(names(4), 13);
  const a = mapTable(t1, (b) => 100 + Number(b.name.split('.')[3]!.split(':')[0]), 0);
  const b = mapTable(t2, (x) => 100 + Number(x.name.split('.')[3]!.split(':')[0]), 0);
  const d = diffTables(a, b);
  for (let p = 0; p < 13; p++) assert.equal(d.includes(p), a[p] !== b[p]);
  assert.ok(mapTable(buildMaglevTable([], 13), () => 5, 7).every((e) => e === 7));
  assert.throws(() => diffTables(new Uint32Array(3), new Uint32Array(4)), /sizes differ/);
});

test('build time at 65537 entries (the paper: 1.8 ms); printed, bounded loosely for a shared machine', () => {
  for (const n of [100, 1000]) {
    const bs = names(n);
    buildMaglevTable(bs, MAGLEV_DEFAULT_SIZE); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      buildMaglevTable(bs, MAGLEV_DEFAULT_SIZE);
      runs.push(performance.now() - t0);
    }
    runs.sort((x, y) => x - y);
    console.log(`maglev build M=${MAGLEV_DEFAULT_SIZE} N=${n}: median ${runs[2]!.toFixed(2)} ms (min ${runs[0]!.toFixed(2)})`);
    assert.ok(runs[0]! < 50, `fastest of 5: ${runs[0]} ms`); // the fastest run: the machine is shared
  }
});
