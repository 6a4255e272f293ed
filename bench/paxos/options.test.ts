import { test } from 'vitest';
import assert from 'node:assert/strict';
import { CONFIG_NAMES, FULL_DEFAULTS, OFFLOAD_BITS, QUICK_DEFAULTS, benchOptions, median, pacedRates, percentile, roundOrder, softirqUsOf, summarize } from './options.js';

test('the full table by default, the quick one with PAXOS_BENCH_QUICK=1, single variables override either', () => {
  const f = benchOptions({});
  assert.equal(f.quick, false);
  assert.deepEqual([f.sizes, f.clients, f.rounds], [FULL_DEFAULTS.sizes, FULL_DEFAULTS.clients, FULL_DEFAULTS.rounds]);
  const q = benchOptions({ PAXOS_BENCH_QUICK: '1' });
  assert.deepEqual([q.quick, q.sizes, q.seconds], [true, QUICK_DEFAULTS.sizes, QUICK_DEFAULTS.seconds]);
  const o = benchOptions({ PAXOS_BENCH_QUICK: '1', PAXOS_BENCH_SIZES: '5', PAXOS_BENCH_CLIENTS: '2, 8', PAXOS_BENCH_SECONDS: '0.5', PAXOS_BENCH_CONFIGS: 'none,all' });
  assert.deepEqual([o.sizes, o.clients, o.seconds, o.configs], [[5], [2, 8], 0.5, ['none', 'all']]);
  assert.deepEqual([f.unbatched, q.unbatched], [[7], []], 'the full run also measures 7 replicas unbatched');
  assert.deepEqual([benchOptions({ PAXOS_BENCH_UNBATCHED: '0' }).unbatched, benchOptions({ PAXOS_BENCH_QUICK: '1', PAXOS_BENCH_UNBATCHED: '3,5' }).unbatched], [[], [3, 5]]);
  assert.throws(() => benchOptions({ PAXOS_BENCH_UNBATCHED: '1' }), /^Error: PAXOS_BENCH_UNBATCHED: expected integers 3\.\.15/);
});

test("the paper's setting alone: PAXOS_BENCH_SIZES=0 keeps only the unbatched groups, whose configurations are their own", () => {
  const p = benchOptions({ PAXOS_BENCH_SIZES: '0' });
  assert.deepEqual([p.sizes, p.unbatched, p.unbatchedConfigs], [[], [7], ['none', 'all']]);
  const e = benchOptions({ PAXOS_BENCH_SIZES: '0', PAXOS_BENCH_UNBATCHED_CONFIGS: 'none,broadcast,fast-ack,quorum,all', PAXOS_BENCH_CONFIGS: 'none' });
  assert.deepEqual([e.unbatchedConfigs, e.configs, e.pacedConfigs], [['none', 'broadcast', 'fast-ack', 'quorum', 'all'], ['none'], ['none', 'all']]);
  assert.throws(() => benchOptions({ PAXOS_BENCH_SIZES: '0', PAXOS_BENCH_UNBATCHED: '0' }), /no group to measure/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_UNBATCHED_CONFIGS: 'all' }), /^Error: PAXOS_BENCH_UNBATCHED_CONFIGS: must include none/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_UNBATCHED: '4' }), /^Error: PAXOS_BENCH_UNBATCHED: a group has an odd number/);
});

test('bad variables are refused with the variable named', () => {
  assert.throws(() => benchOptions({ PAXOS_BENCH_QUICK: 'yes' }), /^Error: PAXOS_BENCH_QUICK: expected 0 or 1/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_THREADED_NAPI: 'on' }), /^Error: PAXOS_BENCH_THREADED_NAPI: expected 0 or 1/);
  assert.deepEqual([benchOptions({}).threadedNapi, benchOptions({ PAXOS_BENCH_THREADED_NAPI: '1' }).threadedNapi], [false, true]);
  assert.throws(() => benchOptions({ PAXOS_BENCH_SIZES: '3,4' }), /^Error: PAXOS_BENCH_SIZES: a group has an odd number/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_SIZES: '3,x' }), /^Error: PAXOS_BENCH_SIZES: expected integers/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_CLIENTS: '0' }), /^Error: PAXOS_BENCH_CLIENTS: expected integers 1\.\.512/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_SECONDS: '-1' }), /^Error: PAXOS_BENCH_SECONDS: expected a positive number/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_ROUNDS: '1.5' }), /^Error: PAXOS_BENCH_ROUNDS: expected a positive integer/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_CONFIGS: 'none,turbo' }), /^Error: PAXOS_BENCH_CONFIGS: unknown turbo/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_CONFIGS: 'all' }), /must include none/);
});

test('the configurations are the ELECTRODE_OFF bits: none, each alone, all three', () => {
  assert.deepEqual(CONFIG_NAMES, ['none', 'broadcast', 'fast-ack', 'quorum', 'all']);
  assert.equal(OFFLOAD_BITS.broadcast | OFFLOAD_BITS['fast-ack'] | OFFLOAD_BITS.quorum, OFFLOAD_BITS.all);
});

test('roundOrder rotates by one per round, every item once', () => {
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
  assert.deepEqual(roundOrder([], 3), []);
});

test('median and nearest-rank percentile', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no samples/);
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100
  assert.equal(percentile(xs, 0.5), 50);
  assert.equal(percentile(xs, 0.99), 99);
  assert.equal(percentile(xs, 1), 100);
  assert.equal(percentile([], 0.99), 0);
});

test('summarize takes medians over rounds, CPU per operation, and sums view changes', () => {
  const s = summarize([
    { ops: 1000, seconds: 1, p50Ms: 2, p99Ms: 10, replicaCpuUs: 400_000, softirqUs: 20_000, viewChanges: 0 },
    { ops: 3000, seconds: 2, p50Ms: 3, p99Ms: 30, replicaCpuUs: 900_000, softirqUs: 30_000, viewChanges: 1 },
    { ops: 0, seconds: 1, p50Ms: 0, p99Ms: 0, replicaCpuUs: 5_000, softirqUs: 1_000, viewChanges: 2 },
  ]);
  assert.deepEqual(s, { opsPerS: 1000, p50Ms: 2, p99Ms: 10, cpuUsPerOp: 300, softirqUsPerOp: 10, viewChanges: 3, rounds: 3 });
  assert.throws(() => summarize([]), /no rounds/);
});

test('softirqUsOf sums the softirq column of the per-CPU lines of /proc/stat', () => {
  const stat = ['cpu  10 0 10 100 0 0 99 0 0 0', 'cpu0 5 0 5 50 0 0 40 0 0 0', 'cpu1 5 0 5 50 0 0 59 0 0 0', 'intr 1 2 3', 'ctxt 7'].join('\n');
  assert.equal(softirqUsOf(stat), 99 * 10_000);
  assert.equal(softirqUsOf(stat, 1000), 99 * 1000);
  assert.throws(() => softirqUsOf('cpu0 1 2 3'), /no softirq column/);
});

test('paced points: loads in percent of the peak of none, the clients and configurations; rates rounded, a bad peak refused', () => {
  const f = benchOptions({});
  assert.deepEqual([f.loads, f.pacedSeconds, f.pacedClients, f.pacedConfigs], [[50, 80, 100], 3, 512, ['none', 'all']]);
  assert.equal(benchOptions({ PAXOS_BENCH_PACED_SECONDS: '0.5' }).pacedSeconds, 0.5);
  assert.deepEqual(benchOptions({ PAXOS_BENCH_LOADS: '0' }).loads, []);
  const o = benchOptions({ PAXOS_BENCH_LOADS: '25,120', PAXOS_BENCH_PACED_CLIENTS: '64', PAXOS_BENCH_CONFIGS: 'none,quorum', PAXOS_BENCH_PACED_CONFIGS: 'none,quorum,all', PAXOS_BENCH_UNBATCHED: '0' });
  assert.deepEqual([o.loads, o.pacedClients, o.pacedConfigs], [[25, 120], 64, ['none', 'quorum']], 'only configurations this run measures');
  const u = benchOptions({ PAXOS_BENCH_CONFIGS: 'none,quorum', PAXOS_BENCH_PACED_CONFIGS: 'none,quorum,all' });
  assert.deepEqual(u.pacedConfigs, ['none', 'quorum', 'all'], 'all: measured by the unbatched group');
  assert.throws(() => benchOptions({ PAXOS_BENCH_LOADS: '50,300' }), /^Error: PAXOS_BENCH_LOADS: expected integers 1\.\.200/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_PACED_CLIENTS: '5000' }), /^Error: PAXOS_BENCH_PACED_CLIENTS: at most 4096/);
  assert.throws(() => benchOptions({ PAXOS_BENCH_PACED_CONFIGS: 'all' }), /^Error: PAXOS_BENCH_PACED_CONFIGS: must include none/);
  assert.deepEqual(pacedRates(8451, [50, 80, 100]), [{ load: 50, rate: 4226 }, { load: 80, rate: 6761 }, { load: 100, rate: 8451 }]);
  assert.deepEqual(pacedRates(1, [10]), [{ load: 10, rate: 1 }], 'at least 1 op/s');
  assert.throws(() => pacedRates(0, [50]), /expected a measured throughput > 0/);
  assert.throws(() => pacedRates(Number.NaN, [50]), /expected a measured throughput > 0/);
});
