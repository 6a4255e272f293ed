/**
 * The packet-rate section's CPU account (issue 12, item 3): where the CPU time of the inline
 * chain goes, per mode, so that the wall-clock ratio to DNAT can be read against the balancer's
 * own cost.
 *
 * In the inline arrangement the whole chain — generator, switch, balancer, switch again, sink —
 * runs in the generator's context (its syscall and the softirqs its transmits raise), one CPU at
 * a time, closed loop. So per packet:
 *
 *   chain = generator + switch + balancer + sink + the kernel between them (frames, veths, NAPI)
 *   wall-clock pkt/s ≈ chain CPU share / chain,  and  xlb / DNAT = (rig + DNAT) / (rig + xlb)
 *   (when both chains get the same share of a CPU)
 *
 * where rig is everything but the balancer. A ratio of balancers is diluted by the rig's cost:
 * with rig = 1,000 ns, xlb = 200 ns and DNAT = 2,600 ns the balancers differ 13x and the wall
 * clock 3x. The account measures each term, in runs of their own (BPF_ENABLE_STATS on, which adds
 * its own ~2 clock reads per program run; the wall-clock figures come from runs without it):
 *
 * - chain: the generator thread's time on a CPU (xlb-gen, /proc/thread-self/schedstat) plus the
 *   ksoftirqd threads' (work deferred out of its context), per packet sent;
 * - the BPF programs' own run time (generator, switch, balancer, sinks), per packet;
 * - the rig: chain of xdp-bounce (a balancer that only rewrites MACs) minus xdp_bounce's own run
 *   time; the balancer in the chain: chain − rig, all its kernel work included (for DNAT:
 *   receive, conntrack, NAT, routing, transmit; for xlb: its program and its XDP_TX);
 * - the machine: every CPU's time by state over the run (/proc/stat), the share the chain had of
 *   it and how busy the other CPU was (the machine is shared: other tenants, the sinks' softirqs).
 */

/** What one account run measured (deltas over the run). */
export interface AccountRun {
  /** CPUs of the machine. */
  readonly cpus: number;
  /** Frames the generator sent. */
  readonly packets: number;
  /** The run's wall time, s. */
  readonly seconds: number;
  /** The generator thread's CPU time, ns (the inline chain in its context). */
  readonly generatorCpuNs: number;
  /** ksoftirqd threads' CPU time, ns. */
  readonly softirqdNs: number;
  /** BPF run time per program group, ns. */
  readonly progNs: { readonly generator: number; readonly switch: number; readonly balancer: number; readonly sinks: number };
  /** All CPUs' time by state over the run, s (cpuDelta of rig.ts). */
  readonly machine: { readonly user: number; readonly system: number; readonly softirq: number; readonly irq: number; readonly idle: number; readonly steal: number };
}

/** Per-packet CPU of one run and the shares of its parts. */
export interface ChainAccount {
  /** CPU of the whole chain per packet, ns. */
  readonly chainNs: number;
  /** Per packet, ns: each group of BPF programs, and the kernel around them (chain − programs). */
  readonly generatorProgNs: number;
  readonly switchProgNs: number;
  readonly balancerProgNs: number;
  readonly sinksProgNs: number;
  readonly kernelNs: number;
  /** Chain CPU / wall time: how much of one CPU the chain had (1 = a whole CPU). */
  readonly chainCpus: number;
  /** Busy share of all CPUs over the run (1 = every CPU busy), and its softirq part. */
  readonly machineBusy: number;
  readonly machineSoftirq: number;
  /** CPUs busy with something else than the chain (machine busy CPUs − chainCpus), in CPUs. */
  readonly otherCpus: number;
}

/** The account of one run; throws on a run without packets or time. */
export function chainAccount(run: AccountRun): ChainAccount {
  if (!(run.packets > 0) || !(run.seconds > 0)) throw new Error(`rate account: a run of ${run.packets} packets in ${run.seconds} s`);
  const per = (ns: number) => ns / run.packets;
  const chainNs = per(run.generatorCpuNs + run.softirqdNs);
  const progs = run.progNs.generator + run.progNs.switch + run.progNs.balancer + run.progNs.sinks;
  const m = run.machine;
  const total = m.user + m.system + m.softirq + m.irq + m.idle + m.steal;
  const busy = total - m.idle;
  const chainCpus = (run.generatorCpuNs + run.softirqdNs) / 1e9 / run.seconds;
  return {
    chainNs,
    generatorProgNs: per(run.progNs.generator),
    switchProgNs: per(run.progNs.switch),
    balancerProgNs: per(run.progNs.balancer),
    sinksProgNs: per(run.progNs.sinks),
    kernelNs: chainNs - per(progs),
    chainCpus,
    machineBusy: total > 0 ? busy / total : 0,
    machineSoftirq: total > 0 ? m.softirq / total : 0,
    otherCpus: Math.max(0, (total > 0 ? (busy / total) * run.cpus : 0) - chainCpus),
  };
}

/** The balancer's part of a chain, against the rig measured with xdp-bounce in the same round. */
export interface BalancerAccount {
  /** Everything but the balancer, per packet, ns: bounce's chain minus xdp_bounce's own run time. */
  readonly rigNs: number;
  /** The balancer in the chain, per packet, ns (chain − rig). */
  readonly balancerNs: number;
  /** Packets per second of CPU spent by the balancer (1e9 / balancerNs). */
  readonly packetsPerBalancerCpuS: number;
  /** Share of the chain's CPU that is the balancer's. */
  readonly balancerShare: number;
}

export function balancerAccount(mode: ChainAccount, bounce: ChainAccount): BalancerAccount {
  const rigNs = bounce.chainNs - bounce.balancerProgNs;
  // a balancer cannot cost less than its own program: the floor guards a noisy rig figure
  const balancerNs = Math.max(mode.chainNs - rigNs, mode.balancerProgNs, 1);
  return { rigNs, balancerNs, packetsPerBalancerCpuS: 1e9 / balancerNs, balancerShare: balancerNs / mode.chainNs };
}
