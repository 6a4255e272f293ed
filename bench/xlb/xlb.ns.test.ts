/**
 * End to end (root): the xlb benchmark in quick mode, every section on real namespaces. Checks
 * that every expected figure and comparison is there with a finite positive value and that the
 * result is written as JSON (to a temporary folder). Goals are not asserted: a benchmark is not a
 * timed test, and this machine is shared.
 */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listNetns } from '@netaccel/netlab';
import { BenchContext, parseGoal, writeResult } from '../lib/harness.js';
import { runXlbBench } from './index.js';
import { findKatran } from './katran.js';
import { benchOptions } from './options.js';

const FAMILIES = ['v4', 'v6'];
const TESTRUN_V4 = ['ipip', 'l2dsr', 'gue', 'nat'].flatMap((m) => [`xlb-${m}-ct-hit-v4`, `xlb-${m}-new-flow-v4`]);
const TESTRUN_PATHS = [...TESTRUN_V4, 'xlb-l2dsr-ct-hit-v6', 'xlb-l2dsr-new-flow-v6', ...['nat-reply', 'pass'].flatMap((p) => FAMILIES.map((f) => `xlb-${p}-${f}`))];
const XLB_MODES = ['xlb-l2dsr', 'xlb-ipip', 'xlb-gue', 'xlb-nat'];
// Katran runs beside xlb when the anchors folder is there (../shared/anchors or NETACCEL_ANCHORS)
const ANCHOR = findKatran();
const KATRAN_PATHS = ANCHOR.dir ? ['katran-ipip-ct-hit-v4', 'katran-ipip-new-flow-v4'] : [];
const ANCHOR_SUBJECT = ANCHOR.dir ? `katran-anchor (${ANCHOR.commit.slice(0, 7)}, ${ANCHOR.dir})` : `katran-anchor (absent: ${ANCHOR.anchors}/katran; NETACCEL_ANCHORS)`;
const MAGLEV_PAPER = 'maglev-paper (stated, not measured)';

const EXPECTED_FIGURES: [string, string, string][] = [
  ['xdp-empty', 'test_run_ns', 'ns'],
  [ANCHOR_SUBJECT, 'measured', 'bool'],
  ...[...KATRAN_PATHS, ...(ANCHOR.dir ? TESTRUN_V4 : [])].map((s): [string, string, string] => [s, 'vs_katran_same_round', 'x']),
  ...[...KATRAN_PATHS, ...TESTRUN_PATHS].flatMap((s): [string, string, string][] => [[s, 'ns_per_packet', 'ns'], [s, 'test_run_ns', 'ns']]),
  ...[...XLB_MODES, 'iptables-dnat', 'xdp-bounce'].flatMap((s): [string, string, string][] => [
    [s, 'packets_per_s', 'pkt/s'],
    [s, 'balancer_packets_per_s', 'pkt/s'],
    [s, 'packets_per_cpu_s', 'pkt/cpu-s'],
    ...['chain', 'generator_prog', 'switch_prog', 'balancer_prog', 'sinks_prog', 'kernel'].map((p): [string, string, string] => [s, `${p}_ns_per_packet`, 'ns']),
    [s, 'packets_per_chain_cpu_s', 'pkt/cpu-s'],
    [s, 'chain_cpus', 'CPUs'],
    [s, 'other_work_cpus', 'CPUs'],
    [s, 'machine_softirq_share', 'fraction'],
  ]),
  // the rate section's CPU account: the balancer's part of the chain, against the rig (xdp-bounce)
  ...[...XLB_MODES, 'iptables-dnat'].flatMap((s): [string, string, string][] => [
    [s, 'balancer_ns_per_packet', 'ns'],
    [s, 'balancer_share_of_chain', 'fraction'],
    [s, 'packets_per_balancer_cpu_s', 'pkt/cpu-s'],
  ]),
  ['rig', 'rig_ns_per_packet', 'ns'],
  ...['ceiling', ...XLB_MODES, 'iptables-dnat', 'nginx-stream'].flatMap((s): [string, string, string][] => [
    [s, 'requests_per_s_keepalive', 'req/s'],
    [s, 'requests_per_s_close', 'req/s'],
    [s, 'requests_per_cpu_s_keepalive', 'req/cpu-s'],
    [s, 'requests_per_cpu_s_close', 'req/cpu-s'],
    ...['keepalive', 'close'].flatMap((l): [string, string, string][] => [
      [s, `cpu_us_per_request_${l}`, 'µs'],
      [s, `bpf_us_per_request_${l}`, 'µs'],
      ...(s === 'ceiling' ? [] : [[s, `extra_cpu_us_per_request_${l}`, 'µs'] as [string, string, string]]),
    ]),
  ]),
  ...['100', '1000'].flatMap((n): [string, string, string][] => [
    [`maglev-build-${n}`, 'build_time_65537', 'ms'],
    [`maglev-build-${n}`, 'build_time_65537_min', 'ms'],
  ]),
  [MAGLEV_PAPER, 'build_time_65537', 'ms'],
  ['table-write-packed', 'table_write_65537', 'ms'],
  ['table-write-per-entry (previous)', 'table_write_65537', 'ms'],
  ...['lb-controller-etcd-watch-loader', 'lb-controller-etcd-watch', 'poller-1s'].flatMap((s): [string, string, string][] => [
    [s, 'apply_latency_p50', 'ms'],
    [s, 'apply_latency_p99', 'ms'],
  ]),
  ['lb-controller-etcd-watch', 'put_to_event_p50', 'ms'],
  ['lb-controller-etcd-watch', 'put_to_event_p99', 'ms'],
  ['goal (stated)', 'apply_latency_p99', 'ms'],
  ['least-conn-update', 'update_cost_median', 'ms'],
  ['least-conn-update', 'per_packet_extra_cost', 'ns'],
];

const EXPECTED_COMPARISONS: [string, string, string][] = [
  ...(ANCHOR.dir ? TESTRUN_V4.map((s): [string, string, string] => ['vs_katran_same_round', s, s.includes('ct-hit') ? KATRAN_PATHS[0]! : KATRAN_PATHS[1]!]) : []),
  ...['packets_per_cpu_s', 'packets_per_balancer_cpu_s', 'packets_per_chain_cpu_s', 'packets_per_s'].flatMap((m) => XLB_MODES.map((s): [string, string, string] => [m, s, 'iptables-dnat'])),
  ...['requests_per_s_keepalive', 'requests_per_s_close', 'requests_per_cpu_s_keepalive', 'requests_per_cpu_s_close'].flatMap((m) =>
    [...XLB_MODES, 'iptables-dnat', 'nginx-stream'].map((s): [string, string, string] => [m, s, 'ceiling']),
  ),
  ['build_time_65537', 'maglev-build-100', MAGLEV_PAPER],
  ['build_time_65537', 'maglev-build-1000', MAGLEV_PAPER],
  ['table_write_65537', 'table-write-packed', 'table-write-per-entry (previous)'],
  ...['lb-controller-etcd-watch-loader', 'lb-controller-etcd-watch'].flatMap((s): [string, string, string][] => [
    ['apply_latency_p99', s, 'goal (stated)'],
    ['apply_latency_p99', s, 'poller-1s'],
  ]),
];

test('xlb benchmark, quick mode: every figure and comparison, finite and positive, written as JSON', { timeout: 240_000 }, async () => {
  const before = new Set(listNetns());
  const ctx = new BenchContext('xlb');
  const lines: string[] = [];
  await runXlbBench(ctx, benchOptions({ XLB_BENCH_QUICK: '1' }), (m) => lines.push(m));
  const result = ctx.result();

  for (const [subject, metric, unit] of EXPECTED_FIGURES) {
    const f = result.figures.filter((x) => x.subject === subject && x.metric === metric);
    assert.equal(f.length, 1, `one figure ${subject}/${metric}`);
    assert.equal(f[0]!.unit, unit, `${subject}/${metric} unit`);
    // least-conn runs in the control plane: its per-packet extra cost is zero by construction
    // what the rest of the machine did meanwhile may be nothing
    const zeroAllowed = metric === 'per_packet_extra_cost' || (metric === 'measured' && !ANCHOR.dir) || metric === 'other_work_cpus' || metric === 'machine_softirq_share';
    // a subject's CPU per request above the ceiling's can come out below it in a noisy round
    const floor = metric.startsWith('extra_cpu_us_per_request') ? -Infinity : zeroAllowed ? 0 : Number.MIN_VALUE;
    assert.ok(Number.isFinite(f[0]!.value) && f[0]!.value >= floor, `${subject}/${metric} = ${f[0]!.value}`);
  }
  assert.equal(result.figures.length, EXPECTED_FIGURES.length, 'no unexpected figures');
  for (const [metric, subject, baseline] of EXPECTED_COMPARISONS) {
    const c = result.comparisons.filter((x) => x.metric === metric && x.subject === subject && x.baseline === baseline);
    assert.equal(c.length, 1, `one comparison ${metric} ${subject} vs ${baseline}`);
    assert.ok(Number.isFinite(c[0]!.ratio) && c[0]!.ratio > 0, `${metric} ${subject} ratio ${c[0]!.ratio}`);
    assert.equal(c[0]!.met, parseGoal(c[0]!.goal)(c[0]!.ratio), `${metric} ${subject}: met follows the goal`);
  }
  assert.equal(result.comparisons.length, EXPECTED_COMPARISONS.length, 'no unexpected comparisons');
  assert.ok(lines.some((l) => l.startsWith('rate: ')) && lines.some((l) => l.startsWith('e2e: ')), 'progress was reported');

  const dir = mkdtempSync(join(tmpdir(), 'xlb-bench-'));
  try {
    const path = writeResult(result, dir);
    assert.equal(path, join(dir, 'xlb.json'));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // everything built was torn down
  assert.deepEqual(listNetns().filter((n) => !before.has(n) && n.startsWith('xlbbench-')), []);
});
