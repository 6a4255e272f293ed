/**
 * xlb benchmark (issue 4): the XDP balancer's data plane against Katran's published per-packet
 * cost, against iptables DNAT (kube-proxy) and nginx, and against plain routing.
 *
 *   node --import tsx bench/run.ts xlb          (= make bench NAME=xlb; root)
 *   XLB_BENCH_QUICK=1 …                         a smoke run of a few seconds per section
 *
 * Sections (each file's header gives its method):
 *   1. testrun-section.ts  ns/packet in BPF_PROG_TEST_RUN (repeat=1 calls, net of the empty
 *                          program): connection-table hit and new flow in every mode vs Katran
 *                          itself (katran.ts: built from the anchors folder when present), NAT
 *                          reply, pass, IPv6
 *   2. rate-section.ts     UDP flood (live XDP frames) through the balancer node to counting
 *                          backends: every xlb mode vs iptables DNAT
 *   3. e2e-section.ts      wrk through client → balancer → nginx backends: every xlb mode,
 *                          iptables DNAT and nginx stream, as fractions of the routed ceiling
 * The benchmark programs xlb's maps itself through @netaccel/bpf (xlb-setup.ts); the
 * lb-controller is not involved. Sizes and durations: options.ts (environment variables).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { BenchContext, Benchmark } from '../lib/harness.js';
import { controlPlaneSection } from './control-plane.js';
import { e2eSection } from './e2e-section.js';
import { STREAM_MODULE } from './nginx.js';
import { benchOptions } from './options.js';
import type { XlbBenchOptions } from './options.js';
import { rateSection } from './rate-section.js';
import { testRunSection } from './testrun-section.js';
import { buildTools } from './tools.js';

const COMMANDS = ['clang', 'gcc', 'ip', 'tc', 'ethtool', 'taskset', 'iptables-restore', 'nft', 'wrk', 'nginx'];

/** Fails before anything is built when a tool the sections need is missing. */
export function preflight(opts: XlbBenchOptions): void {
  const missing = COMMANDS.filter((c) => {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (opts.sections.includes('e2e') && !existsSync(STREAM_MODULE)) missing.push(`${STREAM_MODULE} (apt-get install libnginx-mod-stream)`);
  if (missing.length > 0) throw new Error(`xlb bench: missing ${missing.join(', ')}`);
}

/** Runs the selected sections into `ctx`. `log` gets one line per measurement. */
export async function runXlbBench(ctx: BenchContext, opts: XlbBenchOptions = benchOptions(), log: (msg: string) => void = (m) => console.error(`bench: xlb: ${m}`)): Promise<void> {
  preflight(opts);
  const tools = buildTools();
  const sections = [
    ['testrun', testRunSection],
    ['rate', rateSection],
    ['e2e', e2eSection],
    ['control', (c: BenchContext, o: XlbBenchOptions) => controlPlaneSection(c, { quick: o.quick })],
  ] as const;
  for (const [name, section] of sections) {
    if (!opts.sections.includes(name)) continue;
    const t0 = performance.now();
    await section(ctx, opts, tools, log);
    log(`${name}: section done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

const bench: Benchmark = {
  name: 'xlb',
  description:
    'XDP balancer xlb, its maps programmed directly through @netaccel/bpf (no controller). ' +
    '(1) ns/packet in BPF_PROG_TEST_RUN (CT hit and new flow in every mode, NAT reply, pass; v4+v6): repeat=1 calls, per-round medians net of the empty XDP program, ' +
    'interleaved rounds; vs Katran itself (its default IPIP build from the anchors folder, NETACCEL_ANCHORS, default ../shared/anchors; said so when absent), same loop, same packets. ' +
    '(2) UDP flood from BPF_F_TEST_XDP_LIVE_FRAMES through the balancer node to backends counting in XDP: pkt/s end to end, and pkt/s per CPU-second ' +
    'of the balancer\'s own NAPI thread; each xlb mode vs iptables DNAT (xdp-bounce: the rig\'s limit, a forwarder that only swaps MACs). ' +
    '(3) wrk (keep-alive; connection per request) through client-balancer-2 nginx backends: xlb modes, iptables DNAT, nginx stream, as fractions of plain ECMP routing, ' +
    'in req/s and in req per CPU-second of wrk+nginx (kernel work included: it runs in the senders\' softirq). ' +
    'Interleaved rounds, medians. ' +
    '(4) control plane (lb-controller): Maglev table build for 65537 entries x 100 and x 1,000 backends vs the paper\'s stated 1.8 ms; ' +
    'etcd endpoint change until the data plane is updated, through ebpf-loader and in process, vs a 1 s poller in the same run; a 65,537-entry table slot written through the loader packed vs one MapEntry per key (the previous path), same run. ' +
    'Methods: bench/xlb/*-section.ts, bench/xlb/control-plane.ts',
  needsRoot: true,
  async run(ctx: BenchContext): Promise<void> {
    await runXlbBench(ctx);
  },
};

export default bench;
