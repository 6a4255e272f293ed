/** Unit: the scaling run's figures from counters, its verdict, its text and page. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { costChartSvg, shareChartSvg } from './chart.js';
import { balancerFigures, evenness, scalingSteps, verdict } from './figures.js';
import type { BalancerCounters, StepWindow } from './figures.js';
import { scalingHtml, scalingText } from './report.js';
import type { ScalingReport } from './report.js';

const c = (newFlows: number, packets: number, runCount: number, runTimeNs: number): BalancerCounters => ({ newFlows, packets, runCount, runTimeNs });

/** A window where balancer i of n got flows[i] requests at nsPerReq ns each, 6 packets per request. */
function window(n: number, flows: readonly number[], nsPerReq: number, rps = 1000): StepWindow {
  const lbs = ['lb1', 'lb2', 'lb3', 'lb4'].slice(0, n);
  const before = new Map(lbs.map((lb, i) => [lb, c(100 * i, 600 * i, 700 * i, 1000 * i)]));
  const after = new Map(lbs.map((lb, i) => [lb, c(100 * i + flows[i]!, 600 * i + 6 * flows[i]!, 700 * i + 6 * flows[i]!, 1000 * i + nsPerReq * flows[i]!)]));
  return { balancers: n, windowMs: 2000, nexthops: lbs.map((_, i) => `10.0.0.${11 + i}`), before, after, wrk: { requests: flows.reduce((s, x) => s + x, 0), rps, errors: 0 } };
}

test('per balancer: deltas between the readings, share of the flows, ns per packet and per request, requests per CPU-second', () => {
  const f = balancerFigures(window(2, [300, 100], 1200));
  assert.deepEqual(f.map((b) => [b.balancer, b.flows, b.packets, b.share, b.xdpRuns, b.xdpNs]), [
    ['lb1', 300, 1800, 0.75, 1800, 360_000],
    ['lb2', 100, 600, 0.25, 600, 120_000],
  ]);
  assert.deepEqual(f.map((b) => [b.nsPerPacket, b.nsPerRequest, Math.round(b.requestsPerCpuSecond)]), [
    [200, 1200, 833_333],
    [200, 1200, 833_333],
  ]);
  // a balancer that served nothing: zeros, not NaN or Infinity
  const idle = balancerFigures(window(2, [10, 0], 1000))[1]!;
  assert.deepEqual([idle.share, idle.nsPerPacket, idle.nsPerRequest, idle.requestsPerCpuSecond], [0, 0, 0, 0]);
});

test('evenness: busiest / quietest and the coefficient of variation; one that got nothing is infinitely uneven', () => {
  assert.deepEqual(evenness([100, 100, 100]), { maxMin: 1, cv: 0 });
  const e = evenness([90, 110]);
  assert.equal(e.maxMin, 110 / 90);
  assert.ok(Math.abs(e.cv - 0.1) < 1e-12);
  assert.equal(evenness([5, 0]).maxMin, Number.POSITIVE_INFINITY);
});

test('steps: the cost ratio is against the one-balancer step wherever it ran; the verdict says flat and even, or not, plainly', () => {
  const flat = scalingSteps([window(1, [400], 1000, 900), window(2, [200, 210], 1020, 880), window(4, [100, 105, 98, 102], 1050, 870)]);
  assert.deepEqual(flat.map((s) => [s.balancers, s.flows, s.nsPerRequest, s.costRatio]), [
    [1, 400, 1000, 1],
    [2, 410, 1020, 1.02],
    [4, 405, 1050, 1.05],
  ]);
  assert.equal(flat[0]!.flowsPerSecond, 200);
  const v = verdict(flat);
  assert.match(v, /1000 ns with 1 balancer, at most 1\.05× that with up to 4 \(goal <= 1\.1×\): flat\./);
  assert.match(v, /busiest \/ quietest balancer at most 1\.07 \(goal <= 1\.25\): even\./);
  assert.match(v, /So capacity is linear in the balancers: one carries about 1,000,000 requests per CPU-second of its XDP program when it is busy/);
  assert.match(v, /1: 900 req\/s, 2: 880 req\/s, 4: 870 req\/s/);

  const worse = scalingSteps([window(2, [200, 100], 1000), window(1, [300], 800)]);
  assert.deepEqual(worse.map((s) => s.costRatio), [1.25, 1]);
  const w = verdict(worse);
  assert.match(w, /NOT flat/);
  assert.match(w, /at most 2\.00 \(goal <= 1\.25\): NOT even/);
  assert.match(w, /does not show linear capacity/);
});

test('rounds: windows of the same count are one step, their deltas summed (not the last round\'s alone)', () => {
  const steps = scalingSteps([window(1, [400], 1000, 900), window(2, [200, 200], 1100, 800), window(2, [100, 140], 1300, 600), window(1, [200], 1400, 500)]);
  assert.deepEqual(steps.map((s) => [s.balancers, s.flows, s.windowMs, s.wrk.requests]), [
    [1, 600, 4000, 600],
    [2, 640, 4000, 640],
  ]);
  assert.deepEqual(steps[1]!.perBalancer.map((b) => [b.balancer, b.flows, b.packets, b.xdpNs]), [
    ['lb1', 300, 1800, 200 * 1100 + 100 * 1300],
    ['lb2', 340, 2040, 200 * 1100 + 140 * 1300],
  ]);
  assert.equal(steps[0]!.nsPerRequest, (400 * 1000 + 200 * 1400) / 600);
  assert.equal(steps[0]!.wrk.rps, 700);
  assert.equal(steps[1]!.maxMin, 340 / 300);
});

test('with a paced series the cost is judged on it, and the same-load rise is explained, not hidden', () => {
  const same = scalingSteps([window(1, [400], 700, 2400), window(4, [100, 105, 98, 102], 1100, 1900)]);
  const paced = scalingSteps([window(1, [100], 1000), window(4, [100, 104, 99, 101], 1040)]);
  const v = verdict(same, paced);
  assert.match(v, /the same total load: 700 ns with 1 balancer, at most 1\.57× that with up to 4\./);
  assert.match(v, /runs 1\/N as often.*Paced to about the same rate per balancer .*: 1000 ns with 1 balancer, at most 1\.04× that with up to 4 \(goal <= 1\.1×\): flat;/);
  assert.match(v, /flat; the total served, by balancers: 1: 1000, 4: 1000 req\/s\./);
  assert.match(v, /capacity is linear in the balancers: one carries about 1,428,571 requests per CPU-second/);
  // the same-load rise explained only when there is one
  assert.doesNotMatch(verdict(paced, paced), /1\/N as often/);
  assert.match(verdict(same, scalingSteps([window(1, [100], 1000), window(4, [100, 104, 99, 101], 1300)])), /at most 1\.30× that with up to 4 \(goal <= 1\.1×\): NOT flat;.*does not show linear capacity/);
});

test('text and page: a row per step and per balancer, both charts with a bar per balancer per step and their reference lines', () => {
  const steps = scalingSteps([window(1, [400], 1000), window(3, [130, 140, 135], 1010)]);
  const r: ScalingReport = {
    runId: 'r1<x>',
    startedAt: '2026-12-07T00:00:00.000Z',
    quick: true,
    mode: 'l2dsr',
    logDir: '/tmp/x',
    html: '/tmp/x/scaling.html',
    load: { url: 'http://10.1.1.1:80/', threads: 2, connections: 32, holdMs: 2000, warmupMs: 500 },
    steps,
    verdict: verdict(steps),
    stepTimes: [{ title: 'build', ms: 1500 }],
  };
  const text = scalingText(r);
  assert.match(text, /^\s+1\s+1,000\s+0\s+400\s+167\s+1000\s+1\.00×\s+1,000,000\s+-\s+-$/m);
  assert.match(text, /^\s+3\s+lb2\s+34\.6%\s+140\s+840\s+168\s+1010\s+990,099$/m);
  const html = scalingHtml(r);
  assert.ok(html.includes('r1&lt;x&gt;') && !html.includes('r1<x>'));
  assert.equal((shareChartSvg(steps).match(/class="bar"/g) ?? []).length, 4);
  assert.equal((shareChartSvg(steps).match(/class="mark"/g) ?? []).length, 2, 'the even share of each step');
  assert.equal((costChartSvg(steps).match(/class="reference"/g) ?? []).length, 2, 'one balancer\'s cost and the goal');
  assert.match(html, /<svg id="scaling-share-chart"[\s\S]*<svg id="scaling-cost-chart"/);
});
