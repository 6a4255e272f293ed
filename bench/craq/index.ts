/**
 * NetCRAQ benchmark (issue 14). Sections, in order (CRAQ_BENCH_SECTIONS=testrun,rate,e2e):
 *   testrun  cost per operation of craq_node by role and mode, BPF_PROG_TEST_RUN (testrun-section.ts)
 *   rate     the poster's figures 2 and 3 on XDP chains of four and three nodes (this file and
 *            mixed-section.ts, on the rig of rig.ts)
 *   e2e      placement latency through the real craq-scheduler, and reads of the hot keys through
 *            @netaccel/craq vs etcd3 on a real etcd cluster (e2e-section.ts; the lab's chain of three)
 *
 *   node --import tsx bench/run.ts craq        (= make bench NAME=craq; root)
 *   CRAQ_BENCH_SECONDS=2 CRAQ_BENCH_ROUNDS=5   duration of one measurement, rounds (medians)
 *   CRAQ_BENCH_MIXED_ROUNDS=3                   rounds of the mixed workloads (18 cases)
 *   CRAQ_BENCH_E2E_SECONDS=2 CRAQ_BENCH_E2E_ROUNDS=2 CRAQ_BENCH_E2E_CONCURRENCY=16 CRAQ_BENCH_E2E_NICE=-5
 *
 * Figure 2 (rate section): maximum clean-read rate at each node vs its distance from the tail,
 * NetCRAQ (every node answers a clean read) against NetChain (chain replication: reads travel to
 * the tail and only the tail answers), on a chain of four (the poster's setup: queries 3 hops from
 * the tail; subjects `*-chain4-d3` (head) .. `*-chain4-d0` (tail)) and, for comparison, a chain of
 * three (`*-chain3-d2` .. `-d0`) on the same rig, in one run, cases interleaved.
 * `reads_per_s` = replies counted at the client / generator run time (`path_ns_per_read` its
 * inverse; `rig-switch-loop` the same without a chain node: generator → switch → sink);
 * `reads_per_path_cpu_s` = replies / the CPU time of the whole path (craq-gen's thread, in whose
 * softirq every hop runs, plus the ksoftirqd threads): the rig's capacity per CPU, which other
 * tenants' share of the 2 CPUs does not move (`path_cpu_ns_per_read` its inverse).
 * `reads_per_node_cpu_s` = replies / the time the kernel's run-time stats (bpf_enable_stats)
 * charge to the chain's craq_node programs, from one more run per case with the stats on (they
 * read the clock twice per program run, every program: the other runs have them off): the
 * chain's read capacity per core of program time, without the generator, switch, sink and veth
 * costs that both modes share; `node_runs_per_read` / `switch_runs_per_read` count the program
 * runs a read costs.
 *
 * Figure 3 (mixed-section.ts): 0/25/50/75/100 % writes at the head of the chain of four.
 *
 * What bounds the figures: on veths every receive runs in the softirq of whoever transmitted,
 * so the generator's CPU carries the whole path (generator, switch hops, nodes, sink), closed
 * loop; the figure is 1 / (CPU time of one read's whole path), on 2 CPUs shared with other
 * tenants. A NetChain read at the head of four costs four node programs and five switch
 * traversals, a NetCRAQ read one and two; generator and sink cost the same in both.
 */
import { execFileSync } from 'node:child_process';
import type { BenchContext, Benchmark } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { runCraqE2e } from './e2e-section.js';
import { runCraqMixed } from './mixed-section.js';
import { CraqRig } from './rig.js';
import type { ChainLength } from './rig.js';
import { distanceName, readGoal, runCraqTestRun } from './testrun-section.js';
import { buildCraqTools } from './tools.js';

/**
 * craq-gen's batch for figure 2's read-only runs: 64 frames amortise the batch's own cost (a read
 * the rig loses is only not counted); the mixed runs keep 16, under which nothing is lost.
 */
const READ_BATCH = 64;
/** Chain lengths of figure 2: four (the poster's: queries 3 hops from the tail), then three. */
const LENGTHS: readonly ChainLength[] = [4, 3];

interface ReadCase {
  readonly length: ChainLength;
  readonly netchain: boolean;
  /** The node the reads are sent to (0 = head); -1: the rig without a chain node. */
  readonly i: number;
  readonly subject: string;
}

/** Figure 2: clean-read rate at each node of chains of four and three, both modes (see the header). */
async function runCraqReads(ctx: BenchContext, rig: CraqRig, o: { seconds: number; rounds: number }): Promise<void> {
  const cases: ReadCase[] = LENGTHS.flatMap((length) =>
    [false, true].flatMap((netchain) => Array.from({ length }, (_, i) => ({ length, netchain, i, subject: `${netchain ? 'netchain' : 'netcraq'}-${distanceName(length, i)}` }))),
  );
  const LOOP: ReadCase = { length: 4, netchain: false, i: -1, subject: 'rig-switch-loop' };
  const gen = (c: ReadCase, seconds: number, timed = false) =>
    rig.generate({ length: c.length, netchain: c.netchain, hexes: [c.i < 0 ? rig.loopHex() : rig.readHex(c.i)], label: c.i < 0 ? 'rig loop (no chain node)' : `reads at n${c.i + 1}${timed ? ' (run-time stats on)' : ''}`, seconds, timed, batch: READ_BATCH });
  // warm-up, and a check that both modes answer at every node
  for (const c of cases) if ((await gen(c, 0.25)).ok <= 0) throw new Error(`craq bench: no replies (${c.subject})`);
  const samples = new Map<string, number[]>();
  const perCpu = new Map<string, number[]>();
  const withLoop = [...cases, LOOP];
  for (let round = 0; round < o.rounds; round++) {
    const order = [...withLoop.slice(round % withLoop.length), ...withLoop.slice(0, round % withLoop.length)];
    for (const c of order) {
      const r = await gen(c, o.seconds);
      samples.set(c.subject, [...(samples.get(c.subject) ?? []), (r.ok + r.other) / r.seconds]);
      perCpu.set(c.subject, [...(perCpu.get(c.subject) ?? []), (r.ok + r.other) / r.cpuSeconds]);
    }
  }
  for (const c of withLoop) {
    const v = Math.round(stats(samples.get(c.subject)!).median);
    ctx.figure(c.subject, 'reads_per_s', v, 'reads/s');
    ctx.figure(c.subject, 'path_ns_per_read', Math.round(1e9 / v), 'ns');
    const p = Math.round(stats(perCpu.get(c.subject)!).median);
    ctx.figure(c.subject, 'reads_per_path_cpu_s', p, 'reads/s');
    ctx.figure(c.subject, 'path_cpu_ns_per_read', Math.round(1e9 / p), 'ns');
  }
  // the nodes' program time: one more run of each case with the kernel's run-time stats on
  for (const c of cases) {
    const r = await gen(c, o.seconds, true);
    const reads = r.ok + r.other;
    ctx.figure(c.subject, 'reads_per_node_cpu_s', Math.round(reads / (r.nodeNs / 1e9)), 'reads/s');
    ctx.figure(c.subject, 'node_ns_per_read', Math.round(r.nodeNs / reads), 'ns');
    ctx.figure(c.subject, 'node_runs_per_read', Math.round((r.nodeRuns / reads) * 100) / 100, 'runs');
    ctx.figure(c.subject, 'switch_runs_per_read', Math.round((r.switchRuns / reads) * 100) / 100, 'runs');
  }
  for (const metric of ['reads_per_s', 'reads_per_path_cpu_s', 'reads_per_node_cpu_s']) {
    for (const length of LENGTHS) {
      for (let i = 0; i < length; i++) ctx.compare(metric, `netcraq-${distanceName(length, i)}`, `netchain-${distanceName(length, i)}`, readGoal(length, i));
    }
  }
  // NetCRAQ unaffected by the distance to the tail: its head against its tail
  for (const length of LENGTHS) ctx.compare('reads_per_s', `netcraq-${distanceName(length, 0)}`, `netcraq-${distanceName(length, length - 1)}`, '>= 0.9');
}

export async function runCraqRate(ctx: BenchContext, log: (m: string) => void = (m) => console.error(`bench: craq: ${m}`)): Promise<void> {
  const n = (name: string, d: number): number => Number(process.env[name] ?? d);
  const seconds = n('CRAQ_BENCH_SECONDS', 2);
  const rig = new CraqRig(buildCraqTools(), log);
  try {
    await rig.up();
    await runCraqReads(ctx, rig, { seconds, rounds: n('CRAQ_BENCH_ROUNDS', 5) });
    await runCraqMixed(ctx, rig, { seconds, rounds: n('CRAQ_BENCH_MIXED_ROUNDS', 3) }, log);
    log(`clean reads answered per node over the run: ${rig.readsAnswered().join(', ')}`);
    ctx.figure('rig', 'runs_with_run_time_stats_held_elsewhere', rig.statsHeldElsewhere, 'runs');
  } finally {
    await rig.down();
  }
}

const bench: Benchmark = {
  name: 'craq',
  description:
    'NetCRAQ (bpf/craq) clean-read rate per node vs distance from the tail on XDP chains of 4 (the poster\'s: queries 3 hops from the tail) and 3 nodes, against NetChain mode of the same program, same run, and mixed 0-100% writes at the head of the chain of 4: ' +
    'live-frame READ flood (craq-gen, BPF_F_TEST_XDP_LIVE_FRAMES) from a client namespace through an XDP switch; replies counted in XDP at the client; medians over interleaved rounds. ' +
    'Bound: one read\'s whole path runs in the generator\'s softirq on 2 shared CPUs. ' +
    'Also: craq_node ns per operation by role (BPF_PROG_TEST_RUN); placement latency through the real craq-scheduler (heat in Redis); end to end reads of the placed keys via @netaccel/craq vs etcd3 (serializable, linearizable) on a 3-member etcd. Method: bench/craq/index.ts, README.md',
  needsRoot: true,
  async run(ctx: BenchContext): Promise<void> {
    execFileSync('sh', ['-c', 'command -v clang && command -v gcc && command -v etcd && command -v redis-server'], { stdio: 'ignore' });
    const sections = (process.env.CRAQ_BENCH_SECTIONS ?? 'testrun,rate,e2e').split(',');
    const log = (m: string): void => console.error(`bench: craq: ${m}`);
    const n = (name: string, d: number): number => Number(process.env[name] ?? d);
    const run: Record<string, () => Promise<void>> = {
      testrun: () => runCraqTestRun(ctx, buildCraqTools().progs, { repeat: 10_000, rounds: 40 }, log),
      rate: () => runCraqRate(ctx, log),
      e2e: () => runCraqE2e(ctx, { seconds: n('CRAQ_BENCH_E2E_SECONDS', 2), rounds: n('CRAQ_BENCH_E2E_ROUNDS', 2), concurrency: n('CRAQ_BENCH_E2E_CONCURRENCY', 16), hotKeys: 4, pinKeys: 2 }, log),
    };
    // a section that fails is logged and recorded (`section-<name>` failed = 1) and the others
    // still run and are written; the run fails only when every section did
    const failed: string[] = [];
    for (const name of sections) {
      const f = run[name];
      if (!f) throw new Error(`CRAQ_BENCH_SECTIONS: unknown section ${JSON.stringify(name)} (testrun, rate, e2e)`);
      try {
        await f();
      } catch (err) {
        failed.push(name);
        log(`section ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        ctx.figure(`section-${name}`, 'failed', 1, 'bool');
      }
    }
    if (failed.length === sections.length) throw new Error(`craq bench: every section failed (${failed.join(', ')})`);
  },
};

export default bench;
