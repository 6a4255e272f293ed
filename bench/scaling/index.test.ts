import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { ScalingStep } from '@netaccel/labs';
import { BenchContext } from '../lib/harness.js';
import { recordSeries } from './index.js';

function balancer(name: string, flows: number, runs: number, ns: number): ScalingStep['perBalancer'][number] {
  return { balancer: name, flows, packets: runs, share: 0.5, xdpRuns: runs, xdpNs: ns, nsPerPacket: ns / runs, nsPerRequest: ns / flows, requestsPerCpuSecond: flows / (ns / 1e9) };
}

function step(balancers: number, windowMs: number, per: ScalingStep['perBalancer']): ScalingStep {
  const flows = per.reduce((x, b) => x + b.flows, 0);
  const ns = per.reduce((x, b) => x + b.xdpNs, 0);
  const runs = per.reduce((x, b) => x + b.xdpRuns, 0);
  return {
    balancers, windowMs, nexthops: [], perBalancer: per, flows, flowsPerSecond: (flows * 1000) / windowMs,
    wrk: { requests: flows, rps: (flows * 1000) / windowMs, errors: 0 },
    nsPerRequest: ns / flows, nsPerPacket: ns / runs, requestsPerCpuSecond: flows / (ns / 1e9), costRatio: 1, maxMin: 1, cv: 0,
  };
}

test('a series records runs per request and each balancer\'s run rate beside the cost', () => {
  const ctx = new BenchContext('scaling');
  // one balancer: 1,000 flows, 5,150 runs in 2 s; two: 1,000 flows, 5,020 runs in all, in 4 s
  recordSeries(ctx, 'same', [step(1, 2000, [balancer('lb1', 1000, 5150, 4_635_000)]), step(2, 4000, [balancer('lb1', 500, 2510, 2_678_000), balancer('lb2', 500, 2510, 2_678_000)])]);
  const value = (subject: string, metric: string): number | undefined => ctx.figures.find((f) => f.subject === subject && f.metric === metric)?.value;
  assert.equal(value('same-n1', 'xdp_runs_per_request'), 5.15);
  assert.equal(value('same-n1', 'xdp_runs_per_balancer_s'), 2575);
  assert.equal(value('same-n2', 'xdp_runs_per_request'), 5.02);
  assert.equal(value('same-n2', 'xdp_runs_per_balancer_s'), 628); // 2,510 runs / 4 s each
  assert.equal(value('same-n2', 'xdp_ns_per_packet'), 1067);
});
