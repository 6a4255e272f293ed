/**
 * Section 1: cost per packet in BPF_PROG_TEST_RUN, xlb against Katran itself in the same run
 * (issue 12), IPv4 in every xlb mode (Katran's default build has IPIP only), and xlb's IPv6,
 * NAT-reply and pass paths beside.
 *
 * One method for every program, Katran's own perf tester's (and the anchor's, RESULTS.md):
 * - every call is BPF_PROG_TEST_RUN with repeat=1 on a fresh packet. Never repeat > 1: the kernel
 *   reruns the buffer the program left behind, so an encapsulating balancer sees its own output
 *   from the second repetition on (Katran then passes it at ~40 ns).
 * - per path and round: `singleRuns` calls; the figure of the round is the median of the kernel's
 *   per-call durations (ktime around one run: the timer, bh disabling and the cold caches after
 *   the syscall are in it). Within a round the paths take turns in blocks of BLOCK (100) calls,
 *   so that every path meets the same load of the machine's other tenants: with each path's
 *   calls in one batch of seconds, a busy second fell on one path only (per-round ratios
 *   spread 0.3-2.0 at load average 22).
 * - the floor is xdp_empty (returns XDP_PASS) measured the same way in the same round;
 *   `ns_per_packet` = median over rounds of (path's median - floor's median) of each round, i.e.
 *   the program net of the harness. `test_run_ns` is the raw median (median over rounds).
 * - rounds interleave every path and the floor, the order rotated each round, so the load of the
 *   other tenants of this machine falls on all of them alike: the ratio xlb / Katran is the fair
 *   figure, the absolute nanoseconds move with the load (±25 % between runs here). The goal's
 *   ratio (`vs_katran_same_round`) is paired: xlb's net over Katran's net of the same round,
 *   median over rounds.
 * - the calling thread is pinned to CPU 0; every call's verdict is checked (a path that gave
 *   another verdict measured another path: the section fails).
 * Paths: `ct-hit` = an ACK of an established flow, the same one every call (connection-table
 * hit); `new-flow` = a SYN from a new source address and port every call (table pick +
 * connection-table insert, + NAT binding in NAT mode). The packets are the anchor's: 64 bytes,
 * Ethernet + IPv4 + TCP + 10 bytes, built by one function for both balancers.
 * Katran (katran.ts) is built and run when the anchors folder has it; when it does not, the
 * section logs so and records `katran-anchor` measured = 0 and no comparison. Flow tables:
 * Katran's per-CPU LRU and xlb's conntrack both hold `katranLru` entries (Katran's control
 * plane's default; xlb's through mapSizes.conntrack), so that neither evicts during the run.
 * `XLB_BENCH_TESTRUN_ONLY` (a regular expression) limits the paths, for development; the floor
 * and Katran always run. `XLB_BENCH_XLB_BEFORE` (an earlier build's xlb.bpf.o) measures that
 * build beside this one in the same rounds (subjects `before:xlb-…`, figure
 * `vs_before_same_round`): A/B of a data-plane change.
 */
import { BpfObject } from '@netaccel/bpf';
import type { BpfProgram } from '@netaccel/bpf';
import { TCP_FLAGS, buildPacket, tcp } from '@netaccel/protocol';
import { CLIENT, MAC, NAT_SOURCE, objectPath, pinThreadToCpu, worldBackend, worldEntries, worldVip, XlbObject, xlbWorld } from '@netaccel/bpf-programs/xlb/testing';
import type { XlbWorld } from '@netaccel/bpf-programs/xlb/testing';
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { buildKatran, findKatran, KatranRig } from './katran.js';
import type { XlbBenchOptions } from './options.js';
import type { BenchTools } from './tools.js';

export const FLOOR = 'xdp-empty';
export const GOAL_VS_KATRAN = '<= 0.8';
/** Median over rounds of (xlb's net / Katran's net) of each round: the goal's ratio. */
export const RATIO_METRIC = 'vs_katran_same_round';
export const KATRAN_SUBJECT = { hit: 'katran-ipip-ct-hit-v4', newFlow: 'katran-ipip-new-flow-v4' } as const;
/** xlb's modes in the section (Katran's counterpart is its IPIP for every one). */
export const TESTRUN_MODES = ['ipip', 'l2dsr', 'gue', 'nat'] as const;

const XDP = { PASS: 2, TX: 3 } as const;
/** An earlier xlb.bpf.o to measure beside this build (A/B), for development; subjects `before:…`. */
const BEFORE_ENV = 'XLB_BENCH_XLB_BEFORE';
const BEFORE_PREFIX = 'before:';
const ROUTER = { src: MAC.router, dst: MAC.lb };
const PAYLOAD = 'katran tst'; // 10 bytes: 64-byte frames, as the anchor's
/**
 * NAT new flows per round at most: each holds its NAT port (of 64,512, probed linearly from a
 * hashed start, XLB_NAT_PROBES tries) for the SYN timeout, and past ~15 % of the ports a rare
 * SYN finds all its candidates live and is dropped (as it should be).
 */
const NAT_NEW_FLOWS_PER_ROUND = 1000;

interface Case {
  readonly subject: string;
  readonly prog: BpfProgram;
  readonly verdict: number;
  readonly runs: number;
  /** The packet of the i-th call of a round. */
  packet(i: number): Uint8Array;
  /** Before each block of calls, outside the timed calls. */
  before?(): void;
}

const pkt = (src: string, dst: string, sport: number, flags: number, eth = ROUTER): Uint8Array =>
  buildPacket(tcp({ src, dst, sport, dport: 80, flags, payload: PAYLOAD, eth }));

/**
 * New flows' SYNs, numbered per path (each path of each program sees the same sources whatever
 * else runs: an A/B build beside changes nothing). Source of the n-th: 100.64.0.0/10 + n/256, port 1024 + n%256 (the anchor's
 * generator).
 */
type SynSource = (dst: string, family: 4 | 6) => Uint8Array;
function newFlowSyns(): SynSource {
  let n = 0;
  return (dst, family) => newFlowSyn(n++, dst, family);
}
function newFlowSyn(n: number, dst: string, family: 4 | 6): Uint8Array {
  const host = 0x400000 + (n >>> 8);
  const src = family === 4 ? `100.${64 + (host >>> 16)}.${(host >>> 8) & 255}.${host & 255}` : `2001:db8:f::${(host >>> 16).toString(16)}:${(host & 0xffff).toString(16)}`;
  return pkt(src, dst, 1024 + (n & 255), TCP_FLAGS.SYN);
}

function xlbCases(xlb: XlbObject, world: XlbWorld, runs: number, prefix = ''): Case[] {
  const prog = xlb.prog;
  const out: Case[] = [];
  const name = { ipip: 'ipip', l2dsr: 'l2', gue: 'gue', nat: 'nat' } as const;
  const families = [[4, TESTRUN_MODES], [6, ['l2dsr']]] as const;
  for (const [family, modes] of families) {
    const v = family === 4 ? 'v4' : 'v6';
    const client = family === 4 ? CLIENT.v4 : CLIENT.v6;
    for (const mode of modes) {
      const vip = worldVip(world, `${name[mode]}-${v}`).key.address;
      const open = xlb.run(pkt(client, vip, 30000, TCP_FLAGS.SYN));
      if (open.verdict !== 'TX') throw new Error(`testrun: xlb ${mode}-${v}: the flow's SYN gave ${open.verdict}`);
      const hit = pkt(client, vip, 30000, TCP_FLAGS.ACK);
      const syn = newFlowSyns();
      out.push({ subject: `${prefix}xlb-${mode}-ct-hit-${v}`, prog, verdict: XDP.TX, runs, packet: () => hit });
      out.push({ subject: `${prefix}xlb-${mode}-new-flow-${v}`, prog, verdict: XDP.TX, runs: mode === 'nat' ? Math.min(runs, NAT_NEW_FLOWS_PER_ROUND) : runs, packet: () => syn(vip, family) });
    }
    // NAT reply: the SYN binds a NAT port (read from its output); the backend's SYN-ACK comes back
    const nat = worldVip(world, `nat-${v}`);
    const fwd = xlb.run(pkt(client, nat.key.address, 30001, TCP_FLAGS.SYN));
    if (fwd.verdict !== 'TX') throw new Error(`testrun: NAT ${v} SYN: expected TX, got ${fwd.verdict}`);
    const natPort = fwd.data.readUInt16BE(14 + (family === 4 ? 20 : 40));
    const be = worldBackend(world, nat.table[0]!);
    const reply = buildPacket(
      tcp({ src: be.address, dst: family === 4 ? NAT_SOURCE.v4 : NAT_SOURCE.v6, sport: be.port, dport: natPort, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK, payload: PAYLOAD, eth: { src: MAC.backend(nat.table[0]!), dst: MAC.lb } }),
    );
    out.push({ subject: `${prefix}xlb-nat-reply-${v}`, prog, verdict: XDP.TX, runs, packet: () => reply });
    const other = pkt(client, family === 4 ? '10.9.9.9' : '2001:db8:9::9', 30002, TCP_FLAGS.ACK);
    out.push({ subject: `${prefix}xlb-pass-${v}`, prog, verdict: XDP.PASS, runs, packet: () => other });
  }
  return out;
}

function katranCases(k: KatranRig, runs: number): Case[] {
  const vip = '10.1.1.1';
  const hit = pkt('192.168.10.10', vip, 31337, TCP_FLAGS.ACK);
  const syn = newFlowSyns();
  const open = k.prog.testRun({ data: hit });
  if (open.retval !== XDP.TX || open.data.length !== hit.length + 20) throw new Error(`katran: the first ACK gave verdict ${open.retval}, ${open.data.length} bytes (expected TX, IPIP)`);
  return [
    { subject: KATRAN_SUBJECT.hit, prog: k.prog, verdict: XDP.TX, runs, packet: () => hit },
    { subject: KATRAN_SUBJECT.newFlow, prog: k.prog, verdict: XDP.TX, runs, packet: () => syn(vip, 4), before: () => k.resetConnRate() },
  ];
}

/** `entries` for each connection table the object has (`conntrack`, and `conntrack_v4` since IPv4 flows have their own). */
function flowTableSizes(object: string, entries: number): Record<string, number> {
  const obj = BpfObject.openFile(object);
  try {
    const names = new Set(obj.maps().map((m) => m.name));
    return Object.fromEntries(['conntrack', 'conntrack_v4'].filter((n) => names.has(n)).map((n) => [n, entries]));
  } finally {
    obj.close();
  }
}

/** Calls of one path in a row before the next path's turn (see the header: blocks interleave). */
export const BLOCK = 100;

/**
 * One round: every case's `runs` calls in blocks of BLOCK, the cases taking turns block by block
 * in `order`, so that the load of the machine falls on all of them alike within the round. Returns
 * each case's median of the kernel's per-call durations. Throws on a wrong verdict.
 */
function runRound(order: readonly Case[]): Map<string, number> {
  const state = order.map((c) => ({ c, packets: Array.from({ length: c.runs }, (_, i) => c.packet(i)), ns: [] as number[], next: 0, bad: 0, last: 0 }));
  for (let left = state.length; left > 0; ) {
    left = 0;
    for (const s of state) {
      if (s.next >= s.c.runs) continue;
      s.c.before?.();
      const end = Math.min(s.c.runs, s.next + BLOCK);
      for (; s.next < end; s.next++) {
        const r = s.c.prog.testRun({ data: s.packets[s.next]! });
        s.ns.push(r.durationNs);
        if (r.retval !== s.c.verdict) {
          s.bad++;
          s.last = r.retval;
        }
      }
      if (s.next < s.c.runs) left++;
    }
  }
  const out = new Map<string, number>();
  for (const s of state) {
    if (s.bad > 0) throw new Error(`testrun: ${s.c.subject}: ${s.bad} of ${s.c.runs} calls gave verdict ${s.last}, expected ${s.c.verdict}`);
    out.set(s.c.subject, stats(s.ns).median);
  }
  return out;
}

export async function testRunSection(ctx: BenchContext, opts: XlbBenchOptions, tools: BenchTools, log: (msg: string) => void): Promise<void> {
  const unpin = pinThreadToCpu(0);
  const progs = BpfObject.openFile(tools.progs);
  const anchor = findKatran();
  let xlb: XlbObject | undefined;
  let before: XlbObject | undefined;
  let katran: KatranRig | undefined;
  try {
    progs.load();
    const empty = progs.program('xdp_empty');
    // the same flow-table size as Katran's LRU of this CPU (the lb-controller's mapSizes.conntrack):
    // neither balancer's new flows evict in the run
    xlb = XlbObject.load('balancer', {}, flowTableSizes(objectPath('balancer'), opts.katranLru));
    const world = xlbWorld();
    xlb.install(worldEntries(world, xlb.maglevSize));
    const runs = opts.singleRuns;
    const floorPkt = pkt(CLIENT.v4, '10.9.9.9', 30002, TCP_FLAGS.ACK);
    const cases: Case[] = [{ subject: FLOOR, prog: empty, verdict: XDP.PASS, runs, packet: () => floorPkt }];
    if (anchor.dir) {
      katran = KatranRig.load(buildKatran(anchor.dir), { vip: '10.1.1.1', port: 80, lruEntries: opts.katranLru });
      cases.push(...katranCases(katran, runs));
      log(`testrun: katran ${anchor.commit.slice(0, 7)} from ${anchor.dir} (default build: IPIP), ${opts.katranLru} LRU entries per CPU`);
    } else {
      log(`testrun: katran NOT measured: no ${anchor.anchors}/katran (set NETACCEL_ANCHORS to the anchors folder); xlb alone, no comparison`);
    }
    ctx.figure(anchor.dir ? `katran-anchor (${anchor.commit.slice(0, 7)}, ${anchor.dir})` : `katran-anchor (absent: ${anchor.anchors}/katran; NETACCEL_ANCHORS)`, 'measured', anchor.dir ? 1 : 0, 'bool');
    const only = process.env.XLB_BENCH_TESTRUN_ONLY ? new RegExp(process.env.XLB_BENCH_TESTRUN_ONLY) : undefined;
    cases.push(...xlbCases(xlb, world, runs).filter((c) => !only || only.test(c.subject)));
    const beforePath = process.env[BEFORE_ENV];
    if (beforePath) {
      // A/B in the same run: an earlier build of xlb.bpf.o, same world, same rounds
      before = XlbObject.loadFile(beforePath, 'xlb_xdp', {}, flowTableSizes(beforePath, opts.katranLru));
      before.install(worldEntries(world, before.maglevSize));
      cases.push(...xlbCases(before, world, runs, BEFORE_PREFIX).filter((c) => !only || only.test(c.subject.slice(BEFORE_PREFIX.length))));
      log(`testrun: A/B: ${BEFORE_PREFIX}* subjects are ${beforePath}`);
    }

    const raw = new Map<string, number[]>(cases.map((c) => [c.subject, []]));
    const net = new Map<string, number[]>(cases.map((c) => [c.subject, []]));
    for (let round = 0; round < opts.testRunRounds; round++) {
      const order = cases.map((_, i) => cases[(i + round) % cases.length]!);
      const medians = runRound(order);
      const floor = medians.get(FLOOR)!;
      for (const [subject, m] of medians) {
        raw.get(subject)!.push(m);
        net.get(subject)!.push(m - floor);
      }
    }

    for (const c of cases) {
      const r = stats(raw.get(c.subject)!).median;
      ctx.figure(c.subject, 'test_run_ns', r, 'ns');
      if (c.subject === FLOOR) continue;
      // a zero baseline has no ratio; a program cheaper than the 10 ns timer step reads as 1
      const n = Math.max(1, stats(net.get(c.subject)!).median);
      ctx.figure(c.subject, 'ns_per_packet', n, 'ns');
      const per = net.get(c.subject)!.map((x) => x.toFixed(0)).join(' ');
      log(`testrun: ${c.subject}: ${n.toFixed(0)} ns/packet net of the floor (raw ${r.toFixed(0)} ns; rounds ${per})`);
    }
    if (katran) {
      // The goal's ratio is paired by round: xlb's net over Katran's net of the same round, median
      // over rounds (the load moves between rounds; within one, both met the same). Katran's own
      // figure is 1 by construction.
      for (const k of Object.values(KATRAN_SUBJECT)) ctx.figure(k, RATIO_METRIC, 1, 'x');
      for (const c of cases) {
        const path = /^(?:before:)?xlb-[a-z0-9]+-(ct-hit|new-flow)-v4$/.exec(c.subject)?.[1];
        if (!path) continue;
        const base = path === 'ct-hit' ? KATRAN_SUBJECT.hit : KATRAN_SUBJECT.newFlow;
        const mine = net.get(c.subject)!;
        const theirs = net.get(base)!;
        const ratios = mine.map((x, r) => Math.max(1, x) / Math.max(1, theirs[r]!));
        ctx.figure(c.subject, RATIO_METRIC, stats(ratios).median, 'x');
        log(`testrun: ${c.subject} / ${base}: ${stats(ratios).median.toFixed(3)} (per round ${ratios.map((x) => x.toFixed(2)).join(' ')})`);
        ctx.compare(RATIO_METRIC, c.subject, base, GOAL_VS_KATRAN);
      }
    }
    if (before) {
      // A/B: this build's net over the earlier build's net of the same round, median over rounds
      for (const c of cases) {
        if (c.subject === FLOOR || c.subject.startsWith(BEFORE_PREFIX) || !net.has(BEFORE_PREFIX + c.subject)) continue;
        const theirs = net.get(BEFORE_PREFIX + c.subject)!;
        const ratios = net.get(c.subject)!.map((x, r) => Math.max(1, x) / Math.max(1, theirs[r]!));
        ctx.figure(c.subject, 'vs_before_same_round', stats(ratios).median, 'x');
        log(`testrun: A/B ${c.subject} / ${BEFORE_PREFIX}${c.subject}: ${stats(ratios).median.toFixed(3)}`);
      }
    }
  } finally {
    before?.close();
    katran?.close();
    xlb?.close();
    progs.close();
    unpin();
  }
}
