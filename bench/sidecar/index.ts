/**
 * Sidecar benchmark: unary gRPC calls (small = 64 B and 4 KiB messages, echoed back) at
 * concurrencies 1, 8 and 32 on one connection, through four subjects measured in the same run
 * and interleaved point by point: direct (client to the echo upstream), NGINX `grpc_pass`
 * (Debian's nginx, one worker, upstream keepalive), sidecar-offload's user-space proxy (its
 * built daemon, one process, access log on) and, as root, the same daemon with its kernel path
 * (`kernel.via: direct`: each client connection spliced in the kernel, bpf/sidecar SPLICE mode).
 *
 * Two endpoint sets, each with every subject: `native` (the primary one: grpc-load, a C
 * closed-loop client on libnghttp2 like ghz, against grpc-echo, a C echo server; native.ts) and
 * `grpcjs` (the closed-loop client of load.ts on @grpc/grpc-js against the sidecar's grpc-js
 * echo service), whose endpoints cost ~0.5 ms per call on this machine and hide the proxies' own
 * cost. Every (set, subject) lane has the same arrangement: its own echo upstream process, its
 * own proxy process, and as root its own cgroup holding them and the load client (cgroup.ts; the
 * kernel path's sockops is attached to its lane's). Per point: p50 / p99 latency and calls/s.
 * Comparisons per set: each proxy against NGINX (p50 ratio, calls/s ratio) and against direct;
 * the kernel path's goals are the issue's (≤ 0.5x NGINX p50, ≥ 1.5x its calls/s, ≤ 1.1x direct
 * p50). The kernel lanes' daemons must report (metrics) that the kernel carried the calls; each
 * proxy's CPU time per call over the points (its process, with NGINX's worker).
 *
 * As root a fifth lane, `sidecar-redirect`, has the client call the echo upstream directly with
 * only the bare sockmap redirect in between (bpf/sidecar redirect_probe.bpf.o: sockops and an
 * sk_msg program that redirects every send to the peer's receive queue, no parsing, no
 * telemetry): the kernel path's extra cost over direct splits into the redirect's (redirect /
 * direct) and ours (kernel / redirect).
 *
 * Run: make bench NAME=sidecar (node --import tsx bench/run.ts sidecar). SIDECAR_BENCH_SECONDS
 * (default 3) sets the measured time per point; SIDECAR_BENCH_SETS (default native,grpcjs)
 * which endpoint sets run; SIDECAR_BENCH_BPF_STATS=1 (root) the BPF lanes' sk_msg programs' ns
 * per run and per call (bpf-cost.ts; their verifier instructions are always recorded);
 * SIDECAR_BENCH_REDIRECT_VERDICT=1 the bare redirect with a pass-through sk_skb verdict on its
 * sockhash too (as the kernel path's SPLICE sockets have); SIDECAR_BENCH_KERNEL_OBJECT another sidecar.bpf.o for the kernel lane (an experiment's variant;
 * default the built one); SIDECAR_BENCH_CPU_DMA_LATENCY (default 0 as root, or off) whether
 * /dev/cpu_dma_latency is held at 0 µs for the run (wakeup.ts: idle CPUs poll rather than halt,
 * which on this VM removes a ~50 µs wake-up from every call of a quiet machine).
 */
import { RedirectProbe } from '@netaccel/bpf-programs/sidecar/testing';
import type { Benchmark, BenchContext } from '../lib/harness.js';
import { bpfStats, laneProgram, programCost, wantedBpfStats } from './bpf-cost.js';
import { benchCgroups } from './cgroup.js';
import type { LoadSummary } from './load.js';
import { grpcJsClosedLoop } from './load.js';
import { buildNative, nativeClosedLoop, startNativeEcho } from './native.js';
import type { NativeTools } from './native.js';
import type { Proc } from './procs.js';
import { cpuSeconds, startEcho, startNginx, startSidecar } from './procs.js';
import { holdCpuDmaLatency, wantedCpuDmaLatency } from './wakeup.js';

const SIZES = [
  { name: 'small', bytes: 64 },
  { name: '4k', bytes: 4096 },
] as const;
const CONCURRENCY = [1, 8, 32] as const;
const WARMUP_MS = 500;
const SETS = ['native', 'grpcjs'] as const;
type SetName = (typeof SETS)[number];
const SUBJECTS = ['direct', 'sidecar-redirect', 'nginx', 'sidecar-user', 'sidecar-kernel'] as const;
/** Subjects with BPF programs: root only. */
const KERNEL_SUBJECTS: readonly SubjectName[] = ['sidecar-redirect', 'sidecar-kernel'];
type SubjectName = (typeof SUBJECTS)[number];

interface Lane {
  readonly set: SetName;
  readonly subject: SubjectName;
  /** Where the load client calls. */
  readonly port: number;
  /** The lane's proxy (none for direct and the bare redirect). */
  readonly proxy?: Proc;
  /** The bare redirect's programs (sidecar-redirect only). */
  readonly probe?: RedirectProbe;
  /** Calls the lane's client completed and measured (all points). */
  calls: number;
  /** Calls it completed in the warm-ups (all points). */
  warmupCalls: number;
  /** The proxy's CPU time (s) when the points began. */
  cpuAtStart: number;
}

function setsWanted(): SetName[] {
  const raw = process.env.SIDECAR_BENCH_SETS ?? SETS.join(',');
  const wanted = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const w of wanted) if (!(SETS as readonly string[]).includes(w)) throw new Error(`SIDECAR_BENCH_SETS: expected names among ${SETS.join(', ')}, got ${JSON.stringify(w)}`);
  if (wanted.length === 0) throw new Error('SIDECAR_BENCH_SETS: expected at least one set');
  return wanted as SetName[];
}

/** The proxy's CPU time per call over the points (what the proxy process itself spends on a call). */
function proxyCpu(ctx: BenchContext, lane: Lane): void {
  if (lane.proxy?.pid === undefined || lane.calls === 0) return;
  const us = ((cpuSeconds(lane.proxy.pid) - lane.cpuAtStart) * 1e6) / (lane.calls + lane.warmupCalls);
  console.log(`  ${lane.set}-${lane.subject}: its proxy process used ${us.toFixed(1)} µs CPU per call`);
  ctx.figure(`${lane.set}-${lane.subject}`, 'proxy_cpu_per_call', us, 'us');
}

/** The kernel lane's daemon carried its calls: its kernel counters cover every call the client completed. */
async function checkKernelCarried(ctx: BenchContext, lane: Lane): Promise<void> {
  const text = await lane.proxy!.metrics!();
  const sum = (re: RegExp): number => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  const carried = sum(/^netaccel_sidecar_kernel_requests\{[^}]*\} (\d+)/gm);
  const user = sum(/^netaccel_sidecar_calls_total\{[^}]*\} (\d+)/gm);
  const name = `${lane.set}-sidecar-kernel`;
  console.log(`  ${name}: ${carried} calls carried by the kernel (the client completed ${lane.calls} measured, ${lane.warmupCalls} in warm-ups), ${user} by its user-space path`);
  ctx.figure(name, 'kernel_carried_calls', carried, 'calls');
  ctx.figure(name, 'user_path_calls', user, 'calls');
  if (carried < lane.calls + lane.warmupCalls) throw new Error(`${name}: the kernel carried ${carried} calls, fewer than the ${lane.calls + lane.warmupCalls} the client completed (connections not spliced?)`);
}

/** The bare redirect lane redirected its sends: counts in the JSON; fails when it redirected none. */
function checkRedirected(ctx: BenchContext, lane: Lane): void {
  const s = lane.probe!.stats();
  const name = `${lane.set}-sidecar-redirect`;
  console.log(`  ${name}: ${s.redirected.sends} sends redirected (${s.redirected.bytes} bytes), ${s.passed.sends} passed to TCP; the client completed ${lane.calls} measured calls, ${lane.warmupCalls} in warm-ups`);
  ctx.figure(name, 'redirected_sends', Number(s.redirected.sends), 'sends');
  ctx.figure(name, 'passed_sends', Number(s.passed.sends), 'sends');
  if (s.redirected.sends === 0n) throw new Error(`${name}: no send was redirected (sockops not attached to the lane's cgroup?)`);
}

/** The sk_msg program of a BPF lane: verifier instructions, and its run-time cost when stats are on. */
function bpfCost(ctx: BenchContext, lane: Lane, cgroup: string): void {
  const name = lane.subject === 'sidecar-kernel' ? 'sidecar_msg' : 'redirect_msg';
  const subject = `${lane.set}-${lane.subject}`;
  const info = laneProgram(cgroup, name);
  if (!info) {
    console.log(`  ${subject}: ${name} not found beside the lane's sockops program: no BPF figures`);
    return;
  }
  const c = programCost(info, lane.calls + lane.warmupCalls);
  ctx.figure(subject, `${name}_verified_insns`, c.verifiedInstructions, 'insns');
  if (c.nsPerRun === undefined || c.nsPerCall === undefined) return;
  ctx.figure(subject, `${name}_ns_per_run`, c.nsPerRun, 'ns');
  ctx.figure(subject, `${name}_ns_per_call`, c.nsPerCall, 'ns');
  ctx.figure(subject, `${name}_runs_per_call`, c.runs / (lane.calls + lane.warmupCalls), 'runs');
  console.log(`  ${subject}: ${name} ${c.verifiedInstructions} verified insns, ${c.runs} runs, ${c.nsPerRun.toFixed(0)} ns per run, ${c.nsPerCall.toFixed(0)} ns per call`);
}

function compareAll(ctx: BenchContext, set: SetName, point: string, kernel: boolean): void {
  const s = (subject: SubjectName): string => `${set}-${subject}-${point}`;
  // the user-space proxy against NGINX (the paper's baseline) and each proxy's cost over direct
  ctx.compare('p50_latency', s('sidecar-user'), s('nginx'), '<= 1');
  ctx.compare('calls_per_s', s('sidecar-user'), s('nginx'), '>= 1');
  ctx.compare('p50_latency', s('nginx'), s('direct'), '<= 2');
  ctx.compare('p50_latency', s('sidecar-user'), s('direct'), '<= 2');
  if (!kernel) return;
  // the bare sockmap redirect against direct (what sockmap costs by itself), and the kernel path
  // against it (what our parsing and telemetry add): no goal of the issue, the split of the last
  ctx.compare('p50_latency', s('sidecar-redirect'), s('direct'), '<= 1.1');
  ctx.compare('calls_per_s', s('sidecar-redirect'), s('direct'), '>= 0.9');
  ctx.compare('p50_latency', s('sidecar-kernel'), s('sidecar-redirect'), '<= 1.1');
  ctx.compare('calls_per_s', s('sidecar-kernel'), s('sidecar-redirect'), '>= 0.9');
  // the issue's goals for the kernel path
  ctx.compare('p50_latency', s('sidecar-kernel'), s('nginx'), '<= 0.5');
  ctx.compare('calls_per_s', s('sidecar-kernel'), s('nginx'), '>= 1.5');
  ctx.compare('p50_latency', s('sidecar-kernel'), s('direct'), '<= 1.1');
  ctx.compare('calls_per_s', s('sidecar-kernel'), s('direct'), '>= 0.9');
}

const bench: Benchmark = {
  name: 'sidecar',
  description: 'unary gRPC through NGINX grpc_pass, the user-space sidecar and its kernel path against direct calls, native (C, libnghttp2) and grpc-js endpoints (p50/p99, calls/s)',
  needsRoot: false,
  async run(ctx) {
    const durationMs = Number(process.env.SIDECAR_BENCH_SECONDS ?? '3') * 1000;
    const sets = setsWanted();
    const tools: NativeTools | undefined = sets.includes('native') ? buildNative() : undefined;
    const kernel = process.getuid?.() === 0;
    if (!kernel) console.log('  not root: the kernel path and the bare redirect are left out of this run (and no lane has a cgroup)');
    const wakeup = holdCpuDmaLatency(wantedCpuDmaLatency());
    console.log(`  cpuidle ${wakeup.cpuidleDriver}/${wakeup.cpuidleGovernor}; /dev/cpu_dma_latency ${wakeup.heldUs === undefined ? 'left alone' : `held at ${wakeup.heldUs} µs for the run`}`);
    ctx.figure('machine', 'cpu_dma_latency_held', wakeup.heldUs === undefined ? 0 : 1, 'bool');
    const redirectVerdict = process.env.SIDECAR_BENCH_REDIRECT_VERDICT === '1';
    if (kernel) {
      console.log(`  bare redirect: sk_msg${redirectVerdict ? ' and a pass-through sk_skb verdict (SIDECAR_BENCH_REDIRECT_VERDICT=1)' : ' only'}`);
      ctx.figure('machine', 'redirect_verdict_attached', redirectVerdict ? 1 : 0, 'bool');
    }
    const stats = bpfStats(wantedBpfStats());
    if (stats.enabled) console.log('  BPF run-time stats on for the run (SIDECAR_BENCH_BPF_STATS=1)');
    const cgroups = benchCgroups();
    const procs: Proc[] = [];
    const lanes: Lane[] = [];
    try {
      for (const set of sets) {
        for (const subject of SUBJECTS) {
          if (KERNEL_SUBJECTS.includes(subject) && !kernel) continue;
          const laneName = `${set}-${subject}`;
          // the lane's processes are started inside its cgroup
          const lane = await cgroups.within(laneName, async (): Promise<Lane> => {
            const echo = set === 'native' ? await startNativeEcho(tools!) : await startEcho();
            procs.push(echo);
            if (subject === 'direct') return { set, subject, port: echo.port, calls: 0, warmupCalls: 0, cpuAtStart: 0 };
            if (subject === 'sidecar-redirect') {
              const probe = RedirectProbe.attach(cgroups.path(laneName)!, echo.port, { verdict: redirectVerdict });
              procs.push({ port: echo.port, stop: () => Promise.resolve(probe.close()) });
              return { set, subject, port: echo.port, probe, calls: 0, warmupCalls: 0, cpuAtStart: 0 };
            }
            const proxy =
              subject === 'nginx'
                ? await startNginx(echo.port)
                : await startSidecar(echo.port, subject === 'sidecar-kernel' ? { cgroup: cgroups.path(laneName)!, object: process.env.SIDECAR_BENCH_KERNEL_OBJECT ?? '' } : undefined);
            procs.push(proxy);
            return { set, subject, port: proxy.port, proxy, calls: 0, warmupCalls: 0, cpuAtStart: 0 };
          });
          lanes.push(lane);
        }
      }
      for (const lane of lanes) if (lane.proxy?.pid !== undefined) lane.cpuAtStart = cpuSeconds(lane.proxy.pid);
      for (const size of SIZES) {
        for (const c of CONCURRENCY) {
          const point = `${size.name}-c${c}`;
          for (const lane of lanes) {
            const address = `127.0.0.1:${lane.port}`;
            const r: LoadSummary = await cgroups.within(`${lane.set}-${lane.subject}`, () =>
              lane.set === 'native' ? nativeClosedLoop(tools!, address, size.bytes, c, WARMUP_MS, durationMs) : grpcJsClosedLoop(address, size.bytes, c, WARMUP_MS, durationMs),
            );
            const subject = `${lane.set}-${lane.subject}-${point}`;
            if (r.errors > 0) throw new Error(`${subject}: ${r.errors} calls failed${r.firstError === '' ? '' : ` (first: ${r.firstError})`}`);
            lane.calls += r.calls;
            lane.warmupCalls += r.warmupCalls;
            ctx.figure(subject, 'p50_latency', r.p50, 'ms');
            ctx.figure(subject, 'p99_latency', r.p99, 'ms');
            ctx.figure(subject, 'calls_per_s', r.calls / r.seconds, 'calls/s');
            console.log(`  ${subject.padEnd(34)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${(r.calls / r.seconds).toFixed(0)} calls/s`);
          }
          for (const set of sets) compareAll(ctx, set, point, kernel);
        }
      }
      for (const lane of lanes) proxyCpu(ctx, lane);
      for (const lane of lanes) if (KERNEL_SUBJECTS.includes(lane.subject)) bpfCost(ctx, lane, cgroups.path(`${lane.set}-${lane.subject}`)!);
      for (const lane of lanes) if (lane.subject === 'sidecar-kernel') await checkKernelCarried(ctx, lane);
      for (const lane of lanes) if (lane.subject === 'sidecar-redirect') checkRedirected(ctx, lane);
    } finally {
      for (const p of procs.reverse()) await p.stop();
      cgroups.remove();
      stats.close();
      wakeup.release();
    }
  },
};

export default bench;
