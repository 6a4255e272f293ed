/**
 * The scaling run's figures, from counters read at the start and the end of each step's
 * measurement window (pure: the unit test feeds it counters). Per balancer: its share of the new
 * flows (one per request), packets, the run time of its XDP program per packet and per request,
 * and requests per CPU-second of that program; per step: how even the split is (busiest /
 * quietest, coefficient of variation) and the per-request cost against the one-balancer step's.
 *
 * The thesis' claim is capacity linear in the balancers (780K req/s with 4). Here every balancer,
 * wrk and nginx share 2 CPUs, so the total cannot grow with N; what can be shown is that a
 * balancer's cost per request stays flat and the split stays even as N grows, which is what
 * makes N balancers on N machines carry N times one's load.
 */

/** A balancer's counters at one moment (cumulative). */
export interface BalancerCounters {
  /** Packets to the VIP (XDP). */
  readonly packets: number;
  /** Connection-table misses on the VIP: one per request (a connection per request). */
  readonly newFlows: number;
  /** Runs of its BPF programs, and their time (BPF_ENABLE_STATS), ns. */
  readonly runCount: number;
  readonly runTimeNs: number;
}

export interface BalancerFigures {
  readonly balancer: string;
  readonly flows: number;
  readonly packets: number;
  /** Of the step's flows, 0..1. */
  readonly share: number;
  readonly xdpRuns: number;
  readonly xdpNs: number;
  readonly nsPerPacket: number;
  readonly nsPerRequest: number;
  /** Requests the balancer carries per second of its XDP program's CPU time. */
  readonly requestsPerCpuSecond: number;
}

export interface ScalingStep {
  /** How many balancers carried the VIP (the router's ECMP set). */
  readonly balancers: number;
  /** The measurement window, ms. */
  readonly windowMs: number;
  /** The router's next hops for the VIP during the step. */
  readonly nexthops: readonly string[];
  readonly perBalancer: readonly BalancerFigures[];
  /** Flows in the window, all balancers, and per second. */
  readonly flows: number;
  readonly flowsPerSecond: number;
  /** wrk over the whole step: responses, per second, errors. */
  readonly wrk: { readonly requests: number; readonly rps: number; readonly errors: number };
  /** The step's XDP ns over its flows (the mean balancer's cost per request). */
  readonly nsPerRequest: number;
  readonly nsPerPacket: number;
  readonly requestsPerCpuSecond: number;
  /** nsPerRequest / the one-balancer step's (the first step's when it has no such step). */
  readonly costRatio: number;
  /** Busiest / quietest balancer's flows (1 = even), and the coefficient of variation of the shares. */
  readonly maxMin: number;
  readonly cv: number;
}

/** A step's window: the counters of each balancer at its start and its end. */
export interface StepWindow {
  readonly balancers: number;
  readonly windowMs: number;
  readonly nexthops: readonly string[];
  readonly before: ReadonlyMap<string, BalancerCounters>;
  readonly after: ReadonlyMap<string, BalancerCounters>;
  readonly wrk: { readonly requests: number; readonly rps: number; readonly errors: number };
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Per-balancer figures of one window (the balancers in `after`'s order that carried the VIP). */
export function balancerFigures(w: StepWindow): BalancerFigures[] {
  const rows = [...w.after].map(([lb, b]) => {
    const a = w.before.get(lb) ?? ZERO;
    return { lb, flows: b.newFlows - a.newFlows, packets: b.packets - a.packets, runs: b.runCount - a.runCount, ns: b.runTimeNs - a.runTimeNs };
  });
  const total = rows.reduce((s, r) => s + r.flows, 0);
  return rows.map((r) => ({
    balancer: r.lb,
    flows: r.flows,
    packets: r.packets,
    share: ratio(r.flows, total),
    xdpRuns: r.runs,
    xdpNs: r.ns,
    nsPerPacket: ratio(r.ns, r.runs),
    nsPerRequest: ratio(r.ns, r.flows),
    requestsPerCpuSecond: ratio(r.flows, r.ns / 1e9),
  }));
}

/** Busiest / quietest, and the coefficient of variation (population) of the values. */
export function evenness(values: readonly number[]): { maxMin: number; cv: number } {
  if (values.length === 0) return { maxMin: 0, cv: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  const min = Math.min(...values);
  return { maxMin: min === 0 ? Number.POSITIVE_INFINITY : Math.max(...values) / min, cv: ratio(sd, mean) };
}

const ZERO: BalancerCounters = { packets: 0, newFlows: 0, runCount: 0, runTimeNs: 0 };

/**
 * The windows of the same balancer count as one (several rounds, e.g. 1 2 3 4 4 3 2 1 so that a
 * drift of the machine's load falls on every count alike): each balancer's deltas summed, the
 * windows' lengths and wrk's requests summed, wrk's rate weighted by the window. In the order of
 * each count's first window.
 */
export function mergeWindows(windows: readonly StepWindow[]): StepWindow[] {
  const byCount = new Map<number, StepWindow[]>();
  for (const w of windows) byCount.set(w.balancers, [...(byCount.get(w.balancers) ?? []), w]);
  return [...byCount.values()].map((ws) => {
    if (ws.length === 1) return ws[0]!;
    const after = new Map<string, BalancerCounters>();
    for (const w of ws) {
      for (const [lb, b] of w.after) {
        const a = w.before.get(lb) ?? ZERO;
        const sum = after.get(lb) ?? ZERO;
        after.set(lb, { packets: sum.packets + b.packets - a.packets, newFlows: sum.newFlows + b.newFlows - a.newFlows, runCount: sum.runCount + b.runCount - a.runCount, runTimeNs: sum.runTimeNs + b.runTimeNs - a.runTimeNs });
      }
    }
    const windowMs = ws.reduce((x, w) => x + w.windowMs, 0);
    return {
      balancers: ws[0]!.balancers,
      windowMs,
      nexthops: ws[0]!.nexthops,
      before: new Map(),
      after,
      wrk: {
        requests: ws.reduce((x, w) => x + w.wrk.requests, 0),
        rps: ws.reduce((x, w) => x + w.wrk.rps * w.windowMs, 0) / Math.max(1, windowMs),
        errors: ws.reduce((x, w) => x + w.wrk.errors, 0),
      },
    };
  });
}

/**
 * Every step's figures (windows of the same count merged: mergeWindows); the cost ratio against
 * the step with one balancer (else the first).
 */
export function scalingSteps(all: readonly StepWindow[]): ScalingStep[] {
  const windows = mergeWindows(all);
  const steps = windows.map((w) => {
    const per = balancerFigures(w);
    const flows = per.reduce((s, r) => s + r.flows, 0);
    const ns = per.reduce((s, r) => s + r.xdpNs, 0);
    const runs = per.reduce((s, r) => s + r.xdpRuns, 0);
    return {
      balancers: w.balancers,
      windowMs: w.windowMs,
      nexthops: w.nexthops,
      perBalancer: per,
      flows,
      flowsPerSecond: ratio(flows * 1000, w.windowMs),
      wrk: w.wrk,
      nsPerRequest: ratio(ns, flows),
      nsPerPacket: ratio(ns, runs),
      requestsPerCpuSecond: ratio(flows, ns / 1e9),
      ...evenness(per.map((r) => r.flows)),
    };
  });
  const base = steps.find((s) => s.balancers === 1) ?? steps[0];
  return steps.map((s) => ({ ...s, costRatio: base === undefined ? 0 : ratio(s.nsPerRequest, base.nsPerRequest) }));
}

/** Goals the report states: cost per request within 10 % of one balancer's, a split within 25 %. */
export const COST_GOAL = 1.1;
export const SPLIT_GOAL = 1.25;

/** The one-balancer step's cost and the worst ratio to it over a series. */
function costOf(steps: readonly ScalingStep[]): { base: ScalingStep; worst: number; most: number } | undefined {
  const base = steps.find((s) => s.balancers === 1) ?? steps[0];
  if (base === undefined) return undefined;
  return { base, worst: Math.max(...steps.map((s) => s.costRatio)), most: Math.max(...steps.map((s) => s.balancers)) };
}

/**
 * The plain-words conclusion of a run, as the report and the CLI print it. The cost is judged on
 * the paced series when there is one (every balancer at about the same rate, as N machines under
 * N times the load are), else on the same-load series.
 */
export function verdict(steps: readonly ScalingStep[], paced?: readonly ScalingStep[]): string {
  const same = costOf(steps);
  if (same === undefined) return 'no step ran';
  const judged = paced !== undefined && paced.length > 0 ? costOf(paced)! : same;
  const worstSplit = Math.max(...[...steps, ...(paced ?? [])].filter((s) => s.balancers > 1).map((s) => s.maxMin), 1);
  const flat = judged.worst <= COST_GOAL;
  const even = worstSplit <= SPLIT_GOAL;
  // a balancer's capacity: at the busiest it ran here (one balancer taking the whole load)
  const perCpu = Math.round(same.base.requestsPerCpuSecond);
  const costLine = (c: NonNullable<ReturnType<typeof costOf>>): string => `${c.base.nsPerRequest.toFixed(0)} ns with 1 balancer, at most ${c.worst.toFixed(2)}× that with up to ${c.most}`;
  const out = [`Per-balancer XDP cost per request, the same total load: ${costLine(same)}${judged === same ? ` (goal <= ${COST_GOAL}×): ${flat ? 'flat' : 'NOT flat'}` : ''}.`];
  if (judged !== same) {
    if (same.worst > COST_GOAL) out.push('Under the same total load each of N balancers runs 1/N as often, and a program run rarely finds its code and maps out of the caches on every packet.');
    out.push(
      `Paced to about the same rate per balancer (as N machines under N times the load): ${costLine(judged)} (goal <= ${COST_GOAL}×): ${flat ? 'flat' : 'NOT flat'}; the total served, by balancers: ${paced!.map((s) => `${s.balancers}: ${Math.round(s.wrk.rps)}`).join(', ')} req/s.`,
    );
  }
  out.push(`Split of the flows: busiest / quietest balancer at most ${worstSplit.toFixed(2)} (goal <= ${SPLIT_GOAL}): ${even ? 'even' : 'NOT even'}.`);
  out.push(
    flat && even
      ? `So capacity is linear in the balancers: one carries about ${perCpu.toLocaleString('en-US')} requests per CPU-second of its XDP program when it is busy, and N balancers on N CPUs carry N times that.`
      : 'So this run does not show linear capacity: the cost or the split above moved as balancers were added.',
  );
  out.push(`The total here cannot grow: ${same.most} balancers, wrk and nginx share this machine's CPUs (${steps.map((s) => `${s.balancers}: ${Math.round(s.wrk.rps)} req/s`).join(', ')}).`);
  return out.join(' ');
}
