import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchContext, goalDirection, isStrict, missedGoals, parseGoal, renderResult, stats, writeResult } from './harness.js';

test('compare computes subject/baseline and judges the goal', () => {
  const ctx = new BenchContext('demo');
  ctx.figure('xlb', 'packets_per_s', 3000, 'pkt/s');
  ctx.figure('iptables-dnat', 'packets_per_s', 1000, 'pkt/s');
  ctx.figure('xlb', 'latency_p50', 65, 'us');
  ctx.figure('nginx', 'latency_p50', 100, 'us');
  assert.deepEqual(ctx.compare('packets_per_s', 'xlb', 'iptables-dnat', '>= 3'), {
    metric: 'packets_per_s', subject: 'xlb', baseline: 'iptables-dnat', ratio: 3, goal: '>= 3', met: true,
  });
  assert.equal(ctx.compare('latency_p50', 'xlb', 'nginx', '<= 0.6').met, false);
  assert.equal(ctx.comparisons.length, 2);
});

test('the goal is judged on the ratio as recorded, so the JSON agrees with its own met', () => {
  const ctx = new BenchContext('demo');
  ctx.figure('xlb', 'rps', 9496, 'req/s');
  ctx.figure('ceiling', 'rps', 10000, 'req/s');
  const c = ctx.compare('rps', 'xlb', 'ceiling', '>= 0.95');
  assert.equal(c.ratio, 0.95);
  assert.equal(c.met, parseGoal(c.goal)(c.ratio));
  assert.equal(c.met, true);
});

test('compare refuses missing figures, unit mismatches and zero baselines', () => {
  const ctx = new BenchContext('demo');
  ctx.figure('a', 'm', 1, 'ns');
  ctx.figure('b', 'm', 0, 'ns');
  ctx.figure('c', 'm', 2, 'us');
  assert.throws(() => ctx.compare('m', 'a', 'zzz', '>= 1'), /no figure zzz\/m/);
  assert.throws(() => ctx.compare('m', 'a', 'b', '>= 1'), /baseline b measured 0/);
  assert.throws(() => ctx.compare('m', 'a', 'c', '>= 1'), /units differ/);
  assert.throws(() => ctx.figure('a', 'n', Number.NaN, 'ns'), /not a finite number/);
});

test('goals parse and malformed goals are rejected', () => {
  assert.equal(parseGoal('>= 1.5')(1.5), true);
  assert.equal(parseGoal('> 1.5')(1.5), false);
  assert.equal(parseGoal('<=0.65')(0.6), true);
  assert.equal(parseGoal('< 1')(1), false);
  assert.throws(() => parseGoal('about 2'), /goal: expected/);
});

test('result has the ARCHITECTURE.md shape and is written as JSON', () => {
  const ctx = new BenchContext('shape');
  ctx.figure('s', 'requests_per_s', 41200, 'req/s');
  ctx.figure('b', 'requests_per_s', 25432, 'req/s');
  ctx.compare('requests_per_s', 's', 'b', '>= 1.5');
  const r = ctx.result(new Date('2026-11-21T12:00:00.123Z'));
  assert.equal(r.when, '2026-11-21T12:00:00Z');
  assert.equal(r.comparisons[0]!.ratio, 1.62);
  assert.equal(r.comparisons[0]!.met, true);
  assert.ok(r.host.cpus >= 1 && r.host.kernel.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  try {
    const path = writeResult(r, dir);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const text = renderResult(r);
  assert.match(text, /requests_per_s\s+s\s+b\s+1\.620\s+>= 1\.5\s+yes/);
});

test('stats gives median and spread', () => {
  assert.deepEqual(stats([5, 1, 3]), { median: 3, min: 1, max: 5, p99: 5 });
  assert.equal(stats([1, 2, 3, 4]).median, 2.5);
  assert.throws(() => stats([]), /no samples/);
});

test('the table says which way is better; a missed goal is named with its direction; --strict or BENCH_STRICT=1', () => {
  const ctx = new BenchContext('dir');
  ctx.figure('xlb', 'packets_per_s', 2000, 'pkt/s');
  ctx.figure('iptables', 'packets_per_s', 1000, 'pkt/s');
  ctx.figure('xlb', 'latency_p50', 50, 'us');
  ctx.figure('nginx', 'latency_p50', 100, 'us');
  ctx.compare('packets_per_s', 'xlb', 'iptables', '>= 3');
  ctx.compare('latency_p50', 'xlb', 'nginx', '<= 0.6');
  const r = ctx.result(new Date('2026-11-21T12:00:00Z'));
  assert.deepEqual([goalDirection('>= 3'), goalDirection('< 1')], ['higher', 'lower']);
  assert.deepEqual(missedGoals(r).map((c) => c.metric), ['packets_per_s']);
  const text = renderResult(r);
  assert.match(text, /^metric\s+subject\s+baseline\s+ratio\s+goal\s+met\s+better$/m);
  assert.match(text, /^packets_per_s\s+xlb\s+iptables\s+2\.000\s+>= 3\s+NO\s+higher ratio$/m);
  assert.match(text, /^latency_p50\s+xlb\s+nginx\s+0\.500\s+<= 0\.6\s+yes\s+lower ratio$/m);
  assert.ok(text.endsWith('missed: packets_per_s of xlb against iptables: ratio 2.000, goal >= 3 (a higher ratio is better)\n(BENCH_STRICT=1 make bench, or bench/run.ts --strict, fails on a missed goal)'), text);
  assert.equal(isStrict(['xlb', '--strict'], {}), true);
  assert.equal(isStrict([], { BENCH_STRICT: '1' }), true);
  assert.equal(isStrict(['xlb'], { BENCH_STRICT: '0' }), false);
});
