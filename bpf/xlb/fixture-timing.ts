/**
 * Per-packet cost of the xlb fixtures in BPF_PROG_TEST_RUN, for the benchmark's performance
 * mode and for a quick look (root):
 *
 *   node --import tsx bpf/xlb/fixture-timing.ts [runs]      # runs per fixture, default 2000
 *
 * The kernel repeats a program on the same buffer, so a rewritten packet would be processed in
 * its rewritten form from the second repetition on (an IPIP packet is then no longer for the
 * VIP). Each sample is therefore one test run (repeat = 1) of the original packet, timed by the
 * kernel; the figure is the median over `runs` samples. The first run of a fixture creates its
 * flow, the rest hit the connection table: the median is the cost of a packet of a known flow.
 * Samples include the test-run timer's own overhead (tens of ns), as Katran's figures do.
 */
import { pathToFileURL } from 'node:url';
import { xlbFixtures } from './fixtures.js';
import type { XlbFixture } from './fixtures.js';
import { worldEntries, xlbWorld } from './test-world.js';
import { XlbObject, pinThreadToCpu } from './xlb-harness.js';

export interface FixtureTiming {
  readonly description: string;
  readonly verdict: string;
  readonly medianNs: number;
  readonly p10Ns: number;
  readonly p90Ns: number;
}

/** Times one fixture: `runs` single test runs, after one warm-up run. */
export function timeFixture(xlb: XlbObject, f: XlbFixture, runs: number): FixtureTiming {
  const first = xlb.run(f.input);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(xlb.run(f.input).durationNs);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { description: f.description, verdict: first.verdict, medianNs: at(0.5), p10Ns: at(0.1), p90Ns: at(0.9) };
}

/** Loads xlb.bpf.o with the test world and times every fixture (thread pinned to CPU 0). */
export function timeFixtures(runs: number): FixtureTiming[] {
  const unpin = pinThreadToCpu(0);
  const xlb = XlbObject.load('balancer');
  try {
    const world = xlbWorld();
    xlb.install(worldEntries(world, xlb.maglevSize));
    return xlbFixtures(world).map((f) => timeFixture(xlb, f, runs));
  } finally {
    xlb.close();
    unpin();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.argv[2] ?? 2000);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`fixture-timing: runs: expected a whole number >= 1, got ${process.argv[2]}`);
    process.exit(2);
  }
  for (const t of timeFixtures(runs)) {
    console.log(`${String(t.medianNs).padStart(6)} ns  (p10 ${t.p10Ns}, p90 ${t.p90Ns})  ${t.verdict.padEnd(4)}  ${t.description}`);
  }
}
