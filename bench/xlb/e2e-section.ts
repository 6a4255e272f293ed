/**
 * Section 3: HTTP end to end with wrk, client → balancer → two nginx backends, for each xlb
 * mode and the baselines, each as a fraction of the ceiling measured in the same run:
 *
 * | subject | the balancer node | backends |
 * |---|---|---|
 * | `ceiling` | plain router: an ECMP route (L4 hash) for 10.100.0.9 to both backends, no translation | address on lo, reply direct |
 * | `xlb-l2dsr`, `xlb-ipip`, `xlb-gue` | xlb on eth0 (native XDP) | VIP on lo (ARP hidden); xlb_decap on TC ingress opens IPIP/GUE; reply direct |
 * | `xlb-nat` | xlb on eth0 | nothing; replies to the NAT source come back through xlb |
 * | `iptables-dnat` | iptables DNAT, random per connection (kube-proxy's rules), conntrack | route to the client via the balancer |
 * | `nginx-stream` | nginx `stream` proxy, 2 workers | plain |
 *
 * Two kinds of load: HTTP/1.1 keep-alive, and a new connection per request
 * (`Connection: close`). Two figures each: wrk's requests/s, and requests per CPU-second taken
 * by wrk and every nginx (backends and proxy) together — on veths all packet processing runs in
 * the softirq of the process that sent, so the path's kernel work is counted in there; this
 * figure does not move with what other tenants of the machine run the way wall-clock rates do
 * (work the kernel defers to ksoftirqd is not counted). Modes run in turn within each round,
 * in an order rotated per round, after a warm-up of every mode; figures are medians over
 * rounds. xlb is detached from the
 * balancer while the baselines and the ceiling run, so the kernel path pays no XDP. sw:p1 (the
 * balancer's switch port) carries xdp_empty throughout: XDP_TX frames land on a veth end only
 * when it has NAPI; every subject pays for it alike. Transmit checksum offload is off on every
 * node (see below), also for every subject.
 *
 * The account (issue 12, item 3): on 2 CPUs that wrk and the nginx processes keep busy, the wall
 * clock of a subject against the ceiling follows its CPU per request, so per subject and load the
 * section also records `cpu_us_per_request_<load>` (1e6 / requests per CPU-second),
 * `extra_cpu_us_per_request_<load>` (that minus the ceiling's of the same round) and
 * `bpf_us_per_request_<load>`: xlb's and xlb_decap's own run time per request (BPF_ENABLE_STATS,
 * held through the section: ~2 clock reads per program run, paid by every subject on the
 * backends' TC hook, where xlb_decap runs for all of them).
 */
import { BpfObject, enableRunTimeStats } from '@netaccel/bpf';
import type { Lab, LabProcess } from '@netaccel/netlab';
import { XlbObject } from '@netaccel/bpf-programs/xlb/testing';
import type { BenchContext } from '../lib/harness.js';
import { stats } from '../lib/harness.js';
import { installDnat, removeDnat } from './dnat.js';
import { backendConf, startNginx, streamProxyConf } from './nginx.js';
import type { XlbBenchOptions } from './options.js';
import type { BenchTools } from './tools.js';
import { XLB_BENCH_BACKENDS as BACKEND_NODES, XLB_BENCH_NET as NET, XLB_BENCH_PORT as SW_PORT, XLB_BENCH_VIP as VIP, completeChecksums } from '@netaccel/labs';
import { Pins, attachTcIngressPinned, attachXdpPinned, childrenCpuS, detachXdp, ifaceOf, newLab, treeCpuNs } from './rig.js';
import { HTTP_PORT, XDP_MODES, programDecap, programXlb } from './xlb-setup.js';
import type { XdpMode } from './xlb-setup.js';
import { parseWrk, wrkProblem } from './wrk.js';

export const E2E_MODES = ['ceiling', 'l2-dsr', 'ipip', 'gue', 'nat', 'dnat', 'nginx'] as const;
export type E2eMode = (typeof E2E_MODES)[number];
export const E2E_SUBJECT: Readonly<Record<E2eMode, string>> = {
  ceiling: 'ceiling',
  'l2-dsr': 'xlb-l2dsr',
  ipip: 'xlb-ipip',
  gue: 'xlb-gue',
  nat: 'xlb-nat',
  dnat: 'iptables-dnat',
  nginx: 'nginx-stream',
};
export const LOADS = { keepalive: 'requests_per_s_keepalive', close: 'requests_per_s_close' } as const;
export const CPU_LOADS = { keepalive: 'requests_per_cpu_s_keepalive', close: 'requests_per_cpu_s_close' } as const;
export type Load = keyof typeof LOADS;

interface Sample {
  /** wrk's requests/s */
  rps: number;
  /** requests per second of CPU time taken by wrk and all nginx processes (packet processing
   *  in the kernel runs in the softirq of the sending process, so it is in there too) */
  perCpu: number;
  /** xlb's and xlb_decap's run time per request, µs (BPF_ENABLE_STATS) */
  bpfUs: number;
}
/**
 * One goal against the ceiling for every subject: the project's goal, at least 0.95 of plain routing
 * (iptables DNAT was measured at about 0.81 here before). The baselines are held to it too, so
 * the table says who reaches it.
 */
const GOAL = '>= 0.95';

function isXdp(m: E2eMode): m is XdpMode {
  return (XDP_MODES as readonly string[]).includes(m);
}

function target(m: E2eMode): string {
  return m === 'ceiling' ? VIP.ceiling : VIP[m];
}

/** Routes the backends' replies to the client through the balancer (DNAT needs it) or not. */
async function repliesViaBalancer(lab: Lab, on: boolean): Promise<void> {
  for (const n of BACKEND_NODES) {
    await lab.exec(n, on ? ['ip', 'route', 'replace', `${NET.client}/32`, 'via', NET.lb] : ['ip', 'route', 'del', `${NET.client}/32`], { check: on });
  }
}

export async function e2eSection(ctx: BenchContext, opts: XlbBenchOptions, tools: BenchTools, log: (msg: string) => void): Promise<void> {
  const lab = newLab('e2e');
  const pins = new Pins();
  const objects: { close(): void }[] = [];
  try {
    await lab.up();
    const progs = BpfObject.openFile(tools.progs);
    objects.push(progs);
    progs.load();
    const xlb = XlbObject.load('balancer');
    objects.push(xlb);
    const decap = XlbObject.load('decap');
    objects.push(decap);

    // Checksums in software everywhere: a veth passes CHECKSUM_PARTIAL packets on unfinished,
    // and a frame XDP sends on (XDP_TX) loses the skb that said so, reaching the backend (or,
    // for NAT replies, the client) with a bad TCP checksum. The same for every subject.
    await completeChecksums(lab, ['client', 'lb', ...BACKEND_NODES]);

    const lbMac = (await ifaceOf(lab, 'lb', 'eth0')).mac;
    const beMacs = await Promise.all(BACKEND_NODES.map(async (n) => (await ifaceOf(lab, n, 'eth0')).mac));
    programXlb(xlb, lbMac, beMacs);
    programDecap(decap);
    const xlbPin = pins.pin(xlb.prog, 'xlb');
    await attachXdpPinned(lab, 'sw', SW_PORT.lb, pins.pin(progs.program('xdp_empty'), 'empty'));
    const decapPin = pins.pin(decap.prog, 'decap');
    for (const n of BACKEND_NODES) await attachTcIngressPinned(lab, n, 'eth0', decapPin);

    const nginx: LabProcess[] = [];
    for (const [i, n] of BACKEND_NODES.entries()) nginx.push(await startNginx(lab, n, `nginx-${n}`, (dir) => backendConf(dir, n), `${NET.backends[i]}:${HTTP_PORT}`));
    nginx.push(await startNginx(lab, 'lb', 'nginx-stream', (dir) => streamProxyConf(dir, `${VIP.nginx}:${HTTP_PORT}`, NET.backends.map((b) => `${b}:${HTTP_PORT}`)), `${VIP.nginx}:${HTTP_PORT}`));
    const nginxCpuNs = () => nginx.reduce((sum, p) => sum + treeCpuNs(p.pid), 0);
    const bpfRunNs = () => Number(xlb.prog.info().runTimeNs) + Number(decap.prog.info().runTimeNs);
    const runTimeStats = enableRunTimeStats();
    objects.push(runTimeStats);

    let xlbOn = false;
    const setXlb = async (on: boolean) => {
      if (on === xlbOn) return;
      if (on) await attachXdpPinned(lab, 'lb', 'eth0', xlbPin);
      else await detachXdp(lab, 'lb', 'eth0');
      xlbOn = on;
    };

    /** One wrk run: requests/s, and requests per CPU-second of wrk and every nginx together. */
    const wrk = async (m: E2eMode, load: Load, seconds: number): Promise<Sample> => {
      const close = load === 'close' ? ['-H', 'Connection: close'] : [];
      const args = ['-t', String(opts.wrkThreads), '-c', String(opts.wrkConnections), '-d', `${seconds}s`, '--timeout', '2s', ...close, `http://${target(m)}:${HTTP_PORT}/`];
      const nginx0 = nginxCpuNs();
      const bpf0 = bpfRunNs();
      // the shell reports its reaped child's (wrk's) CPU time: cutime + cstime of its own stat
      const out = (await lab.exec('client', ['sh', '-c', 'wrk "$@" && cat /proc/$$/stat', 'sh', ...args], { timeoutMs: seconds * 1000 + 30_000 })).stdout.trimEnd();
      const nginxS = (nginxCpuNs() - nginx0) / 1e9;
      const bpfNs = bpfRunNs() - bpf0;
      const cut = out.lastIndexOf('\n');
      const r = parseWrk(out.slice(0, cut));
      const problem = wrkProblem(r);
      if (problem) throw new Error(`e2e: ${E2E_SUBJECT[m]} (${load}): ${problem}`);
      const cpuS = childrenCpuS(out.slice(cut + 1)) + nginxS;
      return { rps: r.requestsPerS, perCpu: r.requests / cpuS, bpfUs: bpfNs / 1e3 / r.requests };
    };

    /** Runs both loads against one mode, its configuration in place only meanwhile. */
    const runMode = async (m: E2eMode, seconds: number): Promise<Record<Load, Sample>> => {
      await setXlb(isXdp(m));
      if (m === 'dnat') {
        await installDnat(lab, 'tcp', HTTP_PORT);
        await repliesViaBalancer(lab, true);
      }
      try {
        return { keepalive: await wrk(m, 'keepalive', seconds), close: await wrk(m, 'close', seconds) };
      } finally {
        if (m === 'dnat') {
          await repliesViaBalancer(lab, false);
          await removeDnat(lab);
        }
      }
    };

    // warm-up (not in quick mode): caches, ARP, the bridge's FDB, nf_conntrack's first use
    if (!opts.quick) for (const m of E2E_MODES) await runMode(m, 1);
    const samples = new Map<E2eMode, Record<Load, Sample>[]>(E2E_MODES.map((m) => [m, []]));
    for (let round = 0; round < opts.e2eRounds; round++) {
      const order = E2E_MODES.map((_, i) => E2E_MODES[(i + round) % E2E_MODES.length]!);
      for (const m of order) {
        const r = await runMode(m, opts.wrkSeconds);
        samples.get(m)!.push(r);
        log(
          `e2e: round ${round + 1} ${E2E_SUBJECT[m]}: keep-alive ${r.keepalive.rps.toFixed(0)} req/s (${r.keepalive.perCpu.toFixed(0)} per CPU-s, BPF ${r.keepalive.bpfUs.toFixed(2)} µs/req), ` +
            `connection per request ${r.close.rps.toFixed(0)} req/s (${r.close.perCpu.toFixed(0)} per CPU-s, BPF ${r.close.bpfUs.toFixed(2)} µs/req)`,
        );
      }
    }
    await setXlb(false);
    const natExhausted = xlb.drops().get(9)?.packets ?? 0n;
    if (natExhausted > 0n) log(`e2e: xlb dropped ${natExhausted} packets for NAT_PORTS_EXHAUSTED`);

    for (const load of Object.keys(LOADS) as Load[]) {
      const med = (m: E2eMode, f: (x: Sample) => number) => Math.round(stats(samples.get(m)!.map((r) => f(r[load]))).median);
      for (const m of E2E_MODES) ctx.figure(E2E_SUBJECT[m], LOADS[load], med(m, (x) => x.rps), 'req/s');
      for (const m of E2E_MODES) ctx.figure(E2E_SUBJECT[m], CPU_LOADS[load], med(m, (x) => x.perCpu), 'req/cpu-s');
      // the account: CPU per request, what it adds to the ceiling's (same round), and the BPF part of it
      const medOf = (m: E2eMode, f: (x: Sample, round: number) => number, digits: number) => Number(stats(samples.get(m)!.map((r, i) => f(r[load], i))).median.toFixed(digits));
      const ceilingUs = (round: number) => 1e6 / samples.get('ceiling')![round]![load].perCpu;
      for (const m of E2E_MODES) {
        ctx.figure(E2E_SUBJECT[m], `cpu_us_per_request_${load}`, medOf(m, (x) => 1e6 / x.perCpu, 2), 'µs');
        ctx.figure(E2E_SUBJECT[m], `bpf_us_per_request_${load}`, medOf(m, (x) => x.bpfUs, 3), 'µs');
        if (m !== 'ceiling') ctx.figure(E2E_SUBJECT[m], `extra_cpu_us_per_request_${load}`, medOf(m, (x, i) => 1e6 / x.perCpu - ceilingUs(i), 2), 'µs');
      }
    }
    for (const metric of [...Object.values(LOADS), ...Object.values(CPU_LOADS)]) {
      for (const m of E2E_MODES) if (m !== 'ceiling') ctx.compare(metric, E2E_SUBJECT[m], E2E_SUBJECT.ceiling, GOAL);
    }
  } finally {
    for (const o of objects.reverse()) o.close();
    await lab.down();
    pins.close();
  }
}
