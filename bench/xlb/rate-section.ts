/**
 * Section 2: packets per second forwarded by the balancer node, the way the XDP paper set
 * Katran against IPVS: a UDP flood to a VIP, through the balancer, to backends that count and
 * drop in XDP; each xlb mode against iptables DNAT on the same node, same topology, same run.
 *
 * Topology (@netaccel/labs' xlbBenchTopology, the rig around it in rig.ts), all frames 60
 * bytes, `flows` UDP source ports:
 * - Generator: xlb-gen in the client namespace, BPF_PROG_TEST_RUN with
 *   BPF_F_TEST_XDP_LIVE_FRAMES on client:eth0 — the kernel makes xdp_frames from one template
 *   and transmits them in 64-frame batches; xdp_gen rewrites every frame's headers and cycles
 *   the UDP source port.
 * - Switch (sw): xdp_switch redirects by destination MAC between its ports, so frames stay
 *   xdp_frames from generator to sink; broadcast and unknown MACs go to the Linux bridge.
 * - Balancer (lb:eth0): xlb (native XDP) for the xlb modes. Baseline `iptables-dnat`: xdp_empty
 *   (frames redirected into a veth land only where the receiving end has NAPI, which an XDP
 *   program gives it) then the kernel: conntrack, DNAT (kube-proxy's rules, dnat.ts), routing
 *   back out of eth0. Floor `xdp-bounce`: xdp_bounce, which only rewrites the MACs and sends
 *   the frame on — the cheapest forwarder possible, the limit of this rig.
 * - Backends: xdp_sink counts and drops.
 *
 * Two measurements per mode and round, back to back:
 * - inline: every receive runs in the softirq of whoever sent (the generator's syscall drives
 *   the whole chain, closed loop, nothing lost). `packets_per_s` = packets counted at the
 *   backends / generator run time; `balancer_packets_per_s` = the balancer's own count (xlb
 *   vip_stats; eth0 tx_packets for DNAT; xdp_bounce's counter). On 2 shared CPUs this is the
 *   throughput of the whole chain, generator and sinks included.
 * - threaded: lb:eth0's receive processing moves into a NAPI kernel thread pinned to the last
 *   CPU, sw:p1's (the balancer's output) into another on CPU 0, the generator pinned to CPU 0,
 *   so the balancer's thread is charged with the balancer's work only (receive, XDP or stack,
 *   transmit into the next veth). `packets_per_cpu_s` = packets the balancer forwarded / its
 *   thread's CPU time (schedstat): the balancer's capacity per core, which other tenants of the
 *   machine do not change the way they change wall-clock rates.
 * - account (rate-account.ts): a third run, inline again, with BPF_ENABLE_STATS on: the chain's
 *   CPU per packet (the generator thread's schedstat, ksoftirqd's), each group of programs' run
 *   time, every CPU's time by state (/proc/stat); then per round, against xdp-bounce of the same
 *   round, the rig's cost, the balancer's part of the chain and `packets_per_balancer_cpu_s`;
 *   `packets_per_chain_cpu_s` is the wall clock of a chain that had a CPU to itself (its ratio
 *   to DNAT is the one the rig allows: (rig + DNAT) / (rig + xlb)), `chain_cpus` the share of a
 *   CPU it did have and `other_work_cpus` what the rest of the machine used meanwhile.
 * Modes run in turn inside each round (order rotated per round) after a warm-up; figures are
 * medians over rounds.
 */
import { cpus } from 'node:os';
import { BpfObject, enableRunTimeStats } from '@netaccel/bpf';
import type { BpfMap, BpfProgram } from '@netaccel/bpf';
import { buildPacket, toHex, udp } from '@netaccel/protocol';
import { decodeStats } from '@netaccel/bpf-programs/xlb';
import { XlbObject } from '@netaccel/bpf-programs/xlb/testing';
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { installDnat, removeDnat } from './dnat.js';
import type { XlbBenchOptions } from './options.js';
import type { BenchTools } from './tools.js';
import { XLB_BENCH_BACKENDS as BACKEND_NODES, XLB_BENCH_NET as NET, XLB_BENCH_PORT as SW_PORT, XLB_BENCH_VIP as VIP } from '@netaccel/labs';
import { balancerAccount, chainAccount } from './rate-account.js';
import type { AccountRun, BalancerAccount, ChainAccount } from './rate-account.js';
import { Pins, attachXdpPinned, cpuDelta, cpuTimes, ifaceOf, newLab, pinTask, softirqThreadsNs, taskCpuNs, threadedNapi } from './rig.js';
import { FLOOD_PORT, XDP_MODES, programXlb, vipIndex } from './xlb-setup.js';
import type { XdpMode } from './xlb-setup.js';

type RateMode = XdpMode | 'dnat' | 'bounce';
export const RATE_SUBJECT: Readonly<Record<RateMode, string>> = {
  'l2-dsr': 'xlb-l2dsr',
  ipip: 'xlb-ipip',
  gue: 'xlb-gue',
  nat: 'xlb-nat',
  dnat: 'iptables-dnat',
  bounce: 'xdp-bounce',
};
const SPORT_BASE = 10_000;
const FRAME_PAYLOAD = 18; // bytes: a 60-byte frame, the Ethernet minimum without FCS

const mpps = (pps: number): string => (pps / 1e6).toFixed(3);
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const u32 = (v: number) => Buffer.from(Uint32Array.of(v).buffer);

/** Packets (first u64 of the value) of a per-CPU array entry, summed over CPUs. */
function sumPackets(map: BpfMap, key: number): number {
  return Number((map.lookupPerCpu(u32(key)) ?? []).reduce((s, v) => s + Buffer.from(v).readBigUInt64LE(0), 0n));
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.replaceAll(':', ''), 'hex');
}

interface Sample {
  /** inline: packets counted at the backends per second, total and by backend */
  backendPps: number;
  perBackend: number[];
  /** inline: packets the balancer counted per second; frames the generator offered */
  balancerPps: number;
  sentPps: number;
  /** threaded: packets the balancer forwarded per second of its NAPI thread's CPU time */
  perCpuPps: number;
  /** threaded: share of the run the balancer's thread was on a CPU */
  lbBusy: number;
  /** account: inline with BPF run-time stats */
  account: AccountRun;
}

/** What xlb-gen prints. */
interface GenResult {
  frames: number;
  seconds: number;
  cpu_ns: number;
  prog_run_ns: number;
  prog_runs: number;
}

const runNs = (progs: readonly BpfProgram[]): number => progs.reduce((s, p) => s + Number(p.info().runTimeNs), 0);

export async function rateSection(ctx: BenchContext, opts: XlbBenchOptions, tools: BenchTools, log: (msg: string) => void): Promise<void> {
  const lab = newLab('rate');
  const pins = new Pins();
  const objects: { close(): void }[] = [];
  const loadProgs = () => {
    const o = BpfObject.openFile(tools.progs);
    objects.push(o);
    o.load();
    return o;
  };
  try {
    await lab.up();
    const sw = loadProgs();
    const bounce = loadProgs();
    const sinks = BACKEND_NODES.map(loadProgs);
    const portSink = loadProgs();
    const xlb = XlbObject.load('balancer');
    objects.push(xlb);

    const mac = {
      client: (await ifaceOf(lab, 'client', 'eth0')).mac,
      lb: (await ifaceOf(lab, 'lb', 'eth0')).mac,
      be: await Promise.all(BACKEND_NODES.map(async (n) => (await ifaceOf(lab, n, 'eth0')).mac)),
    };
    // the switch's forwarding table: MAC -> sw port
    const fdb = sw.map('fdb');
    const learn = async (m: string, node: keyof typeof SW_PORT) => fdb.update(Buffer.concat([macBytes(m), Buffer.alloc(2)]), u32((await ifaceOf(lab, 'sw', SW_PORT[node])).ifindex));
    await learn(mac.client, 'client');
    await learn(mac.lb, 'lb');
    for (const [i, n] of BACKEND_NODES.entries()) await learn(mac.be[i]!, n);
    mac.be.forEach((m, i) => bounce.map('bounce_macs').update(u32(i), Buffer.concat([macBytes(m), macBytes(mac.lb)])));

    const swPin = pins.pin(sw.program('xdp_switch'), 'switch');
    const portSinkPin = pins.pin(portSink.program('xdp_sink'), 'port-sink');
    for (const port of Object.values(SW_PORT)) await attachXdpPinned(lab, 'sw', port, swPin);
    for (const [i, n] of BACKEND_NODES.entries()) await attachXdpPinned(lab, n, 'eth0', pins.pin(sinks[i]!.program('xdp_sink'), `sink-${n}`));
    const lbPins = { xlb: pins.pin(xlb.prog, 'xlb'), empty: pins.pin(sw.program('xdp_empty'), 'empty'), bounce: pins.pin(bounce.program('xdp_bounce'), 'bounce') };
    let lbProg: keyof typeof lbPins = 'empty';
    await attachXdpPinned(lab, 'lb', 'eth0', lbPins.empty);
    const setLb = async (want: keyof typeof lbPins) => {
      if (lbProg === want) return;
      await attachXdpPinned(lab, 'lb', 'eth0', lbPins[want]);
      lbProg = want;
    };
    programXlb(xlb, mac.lb, mac.be);

    // neighbours for the kernel path (DNAT), and a check that the segment works
    for (const be of NET.backends) {
      if (!(await lab.ping('lb', be, { count: 1 })).ok) throw new Error(`rate: lb cannot reach backend ${be}`);
    }

    const lbCpu = cpus().length - 1;
    /** The threaded arrangement on or off; returns the balancer thread's pid when on. */
    const setThreaded = async (on: boolean): Promise<number> => {
      if (!on) {
        await lab.exec('sw', ['sh', '-c', `echo 0 > /sys/class/net/${SW_PORT.lb}/threaded`]);
        await lab.exec('lb', ['sh', '-c', 'echo 0 > /sys/class/net/eth0/threaded']);
        await attachXdpPinned(lab, 'sw', SW_PORT.lb, swPin);
        return 0;
      }
      await attachXdpPinned(lab, 'sw', SW_PORT.lb, portSinkPin);
      pinTask(await threadedNapi(lab, 'sw', SW_PORT.lb), 0);
      const pid = await threadedNapi(lab, 'lb', 'eth0');
      pinTask(pid, lbCpu);
      return pid;
    };

    const frame = (dst: string) =>
      toHex(buildPacket(udp({ src: NET.client, dst, sport: SPORT_BASE, dport: FLOOD_PORT, checksum: 0, payload: Buffer.alloc(FRAME_PAYLOAD, 0x78), eth: { src: mac.client, dst: mac.lb } })));
    const destination = (m: RateMode) => (m === 'dnat' ? VIP.dnat : m === 'bounce' ? VIP['l2-dsr'] : VIP[m]);

    const balancerCount = async (m: RateMode): Promise<number> => {
      if (m === 'dnat') return (await lab.counters('lb', 'eth0')).tx_packets;
      if (m === 'bounce') return sumPackets(bounce.map('stats'), 0);
      return Number(decodeStats(xlb.map('vip_stats').lookupPerCpu(u32(vipIndex(m, 'udp'))) ?? []).packets);
    };

    const flood = async (m: RateMode, seconds: number, pinCpu?: number): Promise<GenResult> => {
      const pin = pinCpu === undefined ? [] : ['taskset', '-c', String(pinCpu)];
      const argv = [...pin, tools.gen, tools.progs, 'eth0', frame(destination(m)), String(seconds), String(opts.flows), String(SPORT_BASE)];
      const r = await lab.exec('client', argv, { timeoutMs: seconds * 1000 + 30_000 });
      await sleep(50); // frames still in rings
      return JSON.parse(r.stdout.trim()) as GenResult;
    };

    const balancerProg = (m: RateMode): BpfProgram => (m === 'dnat' ? sw.program('xdp_empty') : m === 'bounce' ? bounce.program('xdp_bounce') : xlb.prog);
    /** The inline chain again, with BPF run-time stats on only for this run (rate-account.ts). */
    const account = async (m: RateMode, seconds: number): Promise<AccountRun> => {
      const progs = { switch: [sw.program('xdp_switch')], balancer: [balancerProg(m)], sinks: sinks.map((x) => x.program('xdp_sink')) };
      const handle = enableRunTimeStats();
      try {
        const p0 = { switch: runNs(progs.switch), balancer: runNs(progs.balancer), sinks: runNs(progs.sinks) };
        const softirqd0 = softirqThreadsNs();
        const cpu0 = cpuTimes();
        const g = await flood(m, seconds);
        const machine = cpuDelta(cpu0, cpuTimes());
        return {
          cpus: cpus().length,
          packets: g.frames,
          seconds: g.seconds,
          generatorCpuNs: g.cpu_ns,
          softirqdNs: softirqThreadsNs() - softirqd0,
          progNs: { generator: g.prog_run_ns, switch: runNs(progs.switch) - p0.switch, balancer: runNs(progs.balancer) - p0.balancer, sinks: runNs(progs.sinks) - p0.sinks },
          machine,
        };
      } finally {
        handle.close();
      }
    };

    const once = async (m: RateMode, seconds: number): Promise<Sample> => {
      await setLb(m === 'dnat' ? 'empty' : m === 'bounce' ? 'bounce' : 'xlb');
      if (m === 'dnat') await installDnat(lab, 'udp', FLOOD_PORT);
      try {
        const before = sinks.map((x) => sumPackets(x.map('stats'), 0));
        const lb0 = await balancerCount(m);
        const g = await flood(m, seconds);
        const perBackend = sinks.map((x, i) => (sumPackets(x.map('stats'), 0) - before[i]!) / g.seconds);
        const balancerPps = ((await balancerCount(m)) - lb0) / g.seconds;
        const acc = await account(m, seconds);
        const pid = await setThreaded(true);
        try {
          const lb1 = await balancerCount(m);
          const cpu1 = taskCpuNs(pid);
          const t = await flood(m, seconds, 0);
          const lbCpuS = (taskCpuNs(pid) - cpu1) / 1e9;
          const forwarded = (await balancerCount(m)) - lb1;
          if (forwarded <= 0 || lbCpuS <= 0) throw new Error(`rate: ${RATE_SUBJECT[m]}: the balancer forwarded ${forwarded} packets in ${lbCpuS} CPU-s`);
          return { backendPps: perBackend.reduce((a, b) => a + b, 0), perBackend, balancerPps, sentPps: g.frames / g.seconds, perCpuPps: forwarded / lbCpuS, lbBusy: lbCpuS / t.seconds, account: acc };
        } finally {
          await setThreaded(false);
        }
      } finally {
        if (m === 'dnat') await removeDnat(lab);
      }
    };

    const modes: RateMode[] = [...XDP_MODES, 'dnat', 'bounce'];
    // warm-up (not in quick mode): every path once, short
    if (!opts.quick) for (const m of modes) await once(m, Math.min(0.3, opts.floodSeconds));
    const samples = new Map<RateMode, Sample[]>(modes.map((m) => [m, []]));
    const chains = new Map<RateMode, ChainAccount[]>(modes.map((m) => [m, []]));
    const balancers = new Map<RateMode, BalancerAccount[]>(modes.map((m) => [m, []]));
    for (let round = 0; round < opts.rounds; round++) {
      for (const m of modes.map((_, i) => modes[(i + round) % modes.length]!)) {
        const x = await once(m, opts.floodSeconds);
        samples.get(m)!.push(x);
        const c = chainAccount(x.account);
        chains.get(m)!.push(c);
        log(
          `rate: round ${round + 1} ${RATE_SUBJECT[m]}: inline ${mpps(x.backendPps)} Mpps at the backends (${x.perBackend.map(mpps).join(' + ')}), ` +
            `${mpps(x.balancerPps)} at the balancer, offered ${mpps(x.sentPps)}; threaded ${mpps(x.perCpuPps)} Mpps per balancer CPU-s (thread busy ${(x.lbBusy * 100).toFixed(0)}%); ` +
            `account: chain ${c.chainNs.toFixed(0)} ns/pkt (programs: gen ${c.generatorProgNs.toFixed(0)}, switch ${c.switchProgNs.toFixed(0)}, balancer ${c.balancerProgNs.toFixed(0)}, ` +
            `sinks ${c.sinksProgNs.toFixed(0)}; kernel ${c.kernelNs.toFixed(0)}) on ${c.chainCpus.toFixed(2)} CPU, other work ${c.otherCpus.toFixed(2)} CPU`,
        );
      }
      // the balancer's part of each chain, against this round's rig (xdp-bounce)
      const bounce = chains.get('bounce')!.at(-1)!;
      for (const m of modes) balancers.get(m)!.push(balancerAccount(chains.get(m)!.at(-1)!, bounce));
    }
    for (const m of modes) {
      const list = samples.get(m)!;
      const med = (f: (x: Sample) => number) => Math.round(stats(list.map(f)).median);
      ctx.figure(RATE_SUBJECT[m], 'packets_per_s', med((x) => x.backendPps), 'pkt/s');
      ctx.figure(RATE_SUBJECT[m], 'balancer_packets_per_s', med((x) => x.balancerPps), 'pkt/s');
      ctx.figure(RATE_SUBJECT[m], 'packets_per_cpu_s', med((x) => x.perCpuPps), 'pkt/cpu-s');
    }
    // the CPU account (rate-account.ts): medians over rounds
    const medOf = <T>(list: T[], f: (x: T) => number) => stats(list.map(f)).median;
    const round1 = (v: number, digits = 0) => Number(v.toFixed(digits));
    for (const m of modes) {
      const c = chains.get(m)!;
      const b = balancers.get(m)!;
      const s0 = RATE_SUBJECT[m];
      ctx.figure(s0, 'chain_ns_per_packet', round1(medOf(c, (x) => x.chainNs)), 'ns');
      // the wall clock of a chain that had one CPU to itself (1e9 / chain_ns_per_packet)
      ctx.figure(s0, 'packets_per_chain_cpu_s', Math.round(medOf(c, (x) => 1e9 / x.chainNs)), 'pkt/cpu-s');
      ctx.figure(s0, 'generator_prog_ns_per_packet', round1(medOf(c, (x) => x.generatorProgNs)), 'ns');
      ctx.figure(s0, 'switch_prog_ns_per_packet', round1(medOf(c, (x) => x.switchProgNs)), 'ns');
      ctx.figure(s0, 'balancer_prog_ns_per_packet', round1(medOf(c, (x) => x.balancerProgNs)), 'ns');
      ctx.figure(s0, 'sinks_prog_ns_per_packet', round1(medOf(c, (x) => x.sinksProgNs)), 'ns');
      ctx.figure(s0, 'kernel_ns_per_packet', round1(medOf(c, (x) => x.kernelNs)), 'ns');
      ctx.figure(s0, 'chain_cpus', round1(medOf(c, (x) => x.chainCpus), 3), 'CPUs');
      ctx.figure(s0, 'other_work_cpus', round1(medOf(c, (x) => x.otherCpus), 3), 'CPUs');
      ctx.figure(s0, 'machine_softirq_share', round1(medOf(c, (x) => x.machineSoftirq), 3), 'fraction');
      if (m === 'bounce') {
        ctx.figure('rig', 'rig_ns_per_packet', round1(medOf(b, (x) => x.rigNs)), 'ns');
        continue;
      }
      ctx.figure(s0, 'balancer_ns_per_packet', round1(medOf(b, (x) => x.balancerNs)), 'ns');
      ctx.figure(s0, 'balancer_share_of_chain', round1(medOf(b, (x) => x.balancerShare), 3), 'fraction');
      ctx.figure(s0, 'packets_per_balancer_cpu_s', Math.round(medOf(b, (x) => x.packetsPerBalancerCpuS)), 'pkt/cpu-s');
    }
    for (const metric of ['packets_per_cpu_s', 'packets_per_balancer_cpu_s', 'packets_per_chain_cpu_s', 'packets_per_s']) {
      for (const m of XDP_MODES) ctx.compare(metric, RATE_SUBJECT[m], RATE_SUBJECT.dnat, '>= 3');
    }
  } finally {
    for (const o of objects.reverse()) o.close();
    await lab.down();
    pins.close();
  }
}
