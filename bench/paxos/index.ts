/**
 * Paxos (Viewstamped Replication, libs/paxos) with the Electrode offloads (bpf/electrode, issue
 * 15): throughput, median and p99 latency and CPU per committed operation of a key-value group of
 * 3, 5 and 7 replicas, at several counts of closed-loop clients (load-latency curves), with no
 * offload, each offload alone (broadcast, fast-ack, quorum) and all three, in one run.
 *
 *   node --import tsx bench/run.ts paxos        (= make bench NAME=paxos; root: namespaces, BPF)
 *   PAXOS_BENCH_QUICK=1                          a smoke run (< 60 s); options.ts has every variable
 *
 * Rig (rig.ts, namespaces npb-*): each replica is its own Node process (@netaccel/labs' Paxos
 * replica runner, which the lab and bpf/electrode's namespace test run too) in its own namespace, with electrode_xdp and electrode_broadcast attached to its eth0 for the whole run;
 * the clients (ns-clients.ts: paxos-gen, a C closed-loop generator, per point; Node KvClients only
 * for the read-back) run in a namespace of their own; all on one bridge. A
 * configuration is a value of the offloads bits every replica's electrode_state holds, switched
 * at run time: `none` is the programs attached and switched off (the contract's baseline: every
 * message passes up). Per group, rounds run every (clients, configuration) point with the
 * configurations' order rotated each round; figures are medians over rounds.
 *
 * Figures, subject `n<replicas>-<config>-c<clients>`: `ops_per_s` = puts acknowledged inside the
 * measurement window / window; `latency_p50_ms`, `latency_p99_ms` of those puts;
 * `cpu_us_per_op` = CPU time (user + system, from process.cpuUsage) of the n replica processes
 * over the point / operations answered over the point (warm-up and read-back included) — the
 * system time includes the softirq work the kernel ran in their context (sends on veth run the
 * receiver's path inline); `softirq_us_per_op` = the machine's softirq time (/proc/stat, all
 * CPUs, other tenants included) over the point / the same operations; `leader_cpu_us_per_op`,
 * `follower_cpu_us_per_op` (the mean follower's), `leader_wakeups_per_op`,
 * `follower_wakeups_per_op` (context switches: how often the process woke) say who saturates;
 * `clients_cpu_us_per_op` is the load generator's share (paxos-gen's CPU time per put it saw
 * answered), `clients_syscalls_per_op` its socket calls (sendmmsg + recvmmsg) per put. `n<r>-<config>-at-none-peak`
 * `latency_p99_ms`: the configuration's p99 at the throughput where `none` peaked, read off its
 * load-latency curve (p99 at the same load, not the same client count). Per `n<r>-<config>`:
 * `view_changes` (any > 0 means some points ran across a view change), `points_linearizable` /
 * `points_not_linearizable` (each point's history — every put, then a read of every key — is
 * checked with @netaccel/linearizability), `requests_per_entry` (the leader's batching: client
 * requests executed / log entries committed), `prepares_retransmitted` (a Prepare or its
 * PrepareOK lost or late), and the kernel's work per operation (BCAST_CLONES,
 * FAST_ACKS, QUORUMS, ACKS_FILTERED summed over replicas), which shows each offload ran.
 *
 * What bounds the figures: the replicas, the clients and every packet's kernel path share this
 * machine's 2 CPUs (with other tenants), so throughput is 1 / (CPU time of one committed request
 * over every process); there is no idle NIC or core to hide behind. The offloads remove kernel
 * crossings and wake-ups (the leader's n - 1 sends of each Prepare, the followers' receive + send
 * of PrepareOK, the leader's receive of all but one PrepareOK per op), which is what this machine
 * charges for; but the leader batches ~12 requests per log entry, and the per-request work
 * nobody offloads (the leader's receive and reply, every replica's execution in Node, the
 * clients) is most of what is left. README.md has the measured breakdown.
 */
import type { BenchContext, Benchmark } from '../lib/harness.js';
import { OFFLOAD_BITS, benchOptions, median, p99AtLoad, roundOrder, summarize } from './options.js';
import type { ConfigName, RoleTotals, RoundPoint } from './options.js';
import { PaxosRig, softirqNow } from './rig.js';
import type { Group, ReplicaReport } from './rig.js';

const KERNEL_STATS = ['BCAST_CLONES', 'FAST_ACKS', 'QUORUMS', 'ACKS_FILTERED'] as const;
const log = (m: string) => console.error(`bench: paxos: ${m}`);

interface ConfigTotals {
  viewChanges: number;
  linOk: number;
  linBad: number;
  ops: number;
  entries: number;
  requests: number;
  retransmits: number;
  kernel: Record<(typeof KERNEL_STATS)[number], number>;
}

const sum = (rs: ReplicaReport[], f: (r: ReplicaReport) => number) => rs.reduce((s, r) => s + f(r), 0);

/** The leader's and the mean follower's CPU time and wake-ups between two reports, scaled by `k`. */
function roleTotals(before: ReplicaReport[], after: ReplicaReport[], lead: number, k: number): RoleTotals {
  const d = (f: (r: ReplicaReport) => number, i: number) => f(after[i]!) - f(before[i]!);
  const followers = after.map((_, i) => i).filter((i) => i !== lead);
  const mean = (f: (r: ReplicaReport) => number) => (followers.reduce((s, i) => s + d(f, i), 0) / Math.max(1, followers.length)) * k;
  return {
    leaderCpuUs: d((r) => r.cpuUs, lead) * k,
    followerCpuUs: mean((r) => r.cpuUs),
    leaderWakeups: d((r) => r.wakeups, lead) * k,
    followerWakeups: mean((r) => r.wakeups),
  };
}

type Curve = { opsPerS: number; p99Ms: number }[];

/**
 * One group measured: `n<n>` (the library's batching) or `n<n>-b1` (one request per log entry,
 * none and all only). The issue's goals apply to n7 (batched).
 */
interface Section {
  readonly label: string;
  readonly n: number;
  readonly maxBatch?: number;
  readonly configs: readonly ConfigName[];
}

const sectionsOf = (opts: ReturnType<typeof benchOptions>): Section[] => [
  ...opts.sizes.map((n) => ({ label: `n${n}`, n, configs: opts.configs })),
  ...opts.unbatched.map((n) => ({ label: `n${n}-b1`, n, maxBatch: 1, configs: opts.configs.filter((c) => c === 'none' || c === 'all') })),
];

async function runGroup(ctx: BenchContext, group: Group, opts: ReturnType<typeof benchOptions>, section: Section): Promise<Map<ConfigName, Curve>> {
  const { label, configs } = section;
  // get the replicas' and the clients' code hot in every configuration (not recorded): a fresh
  // group measured cold favours whichever configuration runs later
  // (measured: without it the first ~3 s of a fresh group run at half speed whatever the offloads)
  for (const [i, config] of [...configs, ...configs].entries()) {
    await group.setOffloads(OFFLOAD_BITS[config]);
    const warm = await group.runPoint(`${label}-warm${i}-${config}`, Math.max(...opts.clients), 0, opts.quick ? 500 : 1000);
    if (warm.lin !== 'linearizable') log(`${label} warm-up ${config}: history ${warm.lin}${warm.counterexample ? `\n${warm.counterexample}` : ''}`);
  }
  const points = new Map<string, RoundPoint[]>();
  const clientCpu = new Map<string, number[]>(); // the clients' CPU per operation answered, by point
  const clientSys = new Map<string, number[]>(); // the generator's socket calls per put answered, by point
  const totals = new Map<ConfigName, ConfigTotals>(configs.map((c) => [c, { viewChanges: 0, linOk: 0, linBad: 0, ops: 0, entries: 0, requests: 0, retransmits: 0, kernel: { BCAST_CLONES: 0, FAST_ACKS: 0, QUORUMS: 0, ACKS_FILTERED: 0 } }]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const [ci, clients] of opts.clients.entries()) {
      for (const config of roundOrder(configs, round + ci)) {
        const tag = `${label}-${config}-c${clients}-r${round}`;
        const before = await group.setOffloads(OFFLOAD_BITS[config]);
        const soft0 = softirqNow();
        const c = await group.runPoint(tag, clients, opts.warmupMs, opts.seconds * 1000);
        const soft1 = softirqNow();
        const after = await group.setOffloads(OFFLOAD_BITS[config]);
        const vc = sum(after, (r) => r.counters.view_changes_started ?? 0) - sum(before, (r) => r.counters.view_changes_started ?? 0);
        const views = new Set(after.map((r) => `${r.snapshot.view}/${r.snapshot.status}`));
        const t = totals.get(config)!;
        t.viewChanges += vc;
        t.ops += c.acked;
        if (c.lin === 'linearizable') t.linOk++;
        else {
          t.linBad++;
          log(`${tag}: history ${c.lin}${c.counterexample ? `\n${c.counterexample}` : ''}`);
        }
        const lead = after[0]!.snapshot.leader;
        const sameLeader = after.every((r) => r.snapshot.leader === lead) && before.every((r) => r.snapshot.leader === lead);
        if (sameLeader) {
          t.entries += (after[lead]!.counters.ops_committed ?? 0) - (before[lead]!.counters.ops_committed ?? 0);
          t.requests += (after[lead]!.counters.requests_executed ?? 0) - (before[lead]!.counters.requests_executed ?? 0);
        }
        t.retransmits += sum(after, (r) => r.counters.prepares_retransmitted ?? 0) - sum(before, (r) => r.counters.prepares_retransmitted ?? 0);
        for (const k of KERNEL_STATS) t.kernel[k] += sum(after, (r) => Number(r.kernel.stats[k] ?? 0)) - sum(before, (r) => Number(r.kernel.stats[k] ?? 0));
        if (vc > 0 || views.size > 1) log(`${tag}: ${vc} view change(s) started during the point; replicas now at ${[...views].join(', ')}`);
        if (c.unknown > 0) log(`${tag}: ${c.unknown} put(s) timed out (outcome unknown)`);
        const key = `${config}|${clients}`;
        if (!points.has(key)) points.set(key, []);
        if (!clientCpu.has(key)) clientCpu.set(key, []);
        // the generator's CPU per put it saw answered (the read-back's Node clients are not in it)
        clientCpu.get(key)!.push(c.cpuUs / Math.max(1, c.gen?.acked ?? c.acked));
        if (c.gen) {
          if (!clientSys.has(key)) clientSys.set(key, []);
          clientSys.get(key)!.push((c.gen.sendCalls + c.gen.recvCalls) / Math.max(1, c.gen.acked));
        }
        points.get(key)!.push({
          ops: c.ops,
          seconds: c.seconds,
          p50Ms: c.p50Ms,
          p99Ms: c.p99Ms,
          // per operation answered over the whole point (warm-up and read-back included)
          replicaCpuUs: ((sum(after, (r) => r.cpuUs) - sum(before, (r) => r.cpuUs)) * c.ops) / Math.max(1, c.acked),
          softirqUs: ((soft1 - soft0) * c.ops) / Math.max(1, c.acked),
          viewChanges: vc,
          ...(sameLeader ? { roles: roleTotals(before, after, lead, c.ops / Math.max(1, c.acked)) } : {}),
        });
        log(`${tag}: ${Math.round(c.ops / c.seconds)} op/s, p50 ${c.p50Ms.toFixed(2)} ms, p99 ${c.p99Ms.toFixed(2)} ms, ${c.lin}`);
      }
    }
  }
  const curves = new Map<ConfigName, Curve>();
  for (const config of configs) {
    let peak = 0;
    const curve: Curve = [];
    curves.set(config, curve);
    for (const clients of opts.clients) {
      const s = summarize(points.get(`${config}|${clients}`)!);
      curve.push({ opsPerS: s.opsPerS, p99Ms: s.p99Ms });
      const subject = `${label}-${config}-c${clients}`;
      ctx.figure(subject, 'ops_per_s', s.opsPerS, 'op/s');
      ctx.figure(subject, 'latency_p50_ms', s.p50Ms, 'ms');
      ctx.figure(subject, 'latency_p99_ms', s.p99Ms, 'ms');
      ctx.figure(subject, 'cpu_us_per_op', s.cpuUsPerOp, 'us');
      ctx.figure(subject, 'softirq_us_per_op', s.softirqUsPerOp, 'us');
      if (s.roles) {
        ctx.figure(subject, 'leader_cpu_us_per_op', s.roles.leaderCpuUs, 'us');
        ctx.figure(subject, 'follower_cpu_us_per_op', s.roles.followerCpuUs, 'us');
        ctx.figure(subject, 'leader_wakeups_per_op', s.roles.leaderWakeups, 'count');
        ctx.figure(subject, 'follower_wakeups_per_op', s.roles.followerWakeups, 'count');
      }
      ctx.figure(subject, 'clients_cpu_us_per_op', Math.round(median(clientCpu.get(`${config}|${clients}`)!) * 10) / 10, 'us');
      const sys = clientSys.get(`${config}|${clients}`);
      if (sys) ctx.figure(subject, 'clients_syscalls_per_op', Math.round(median(sys) * 100) / 100, 'count');
      if (s.viewChanges > 0) ctx.figure(subject, 'view_changes', s.viewChanges, 'count');
      peak = Math.max(peak, s.opsPerS);
    }
    ctx.figure(`${label}-${config}-peak`, 'ops_per_s', peak, 'op/s');
    const t = totals.get(config)!;
    ctx.figure(`${label}-${config}`, 'view_changes', t.viewChanges, 'count');
    ctx.figure(`${label}-${config}`, 'points_linearizable', t.linOk, 'count');
    ctx.figure(`${label}-${config}`, 'points_not_linearizable', t.linBad, 'count');
    ctx.figure(`${label}-${config}`, 'requests_per_entry', Math.round((t.requests / Math.max(1, t.entries)) * 100) / 100, 'req');
    ctx.figure(`${label}-${config}`, 'prepares_retransmitted', t.retransmits, 'count');
    for (const k of KERNEL_STATS) ctx.figure(`${label}-${config}`, `${k.toLowerCase()}_per_op`, Math.round((t.kernel[k] / Math.max(1, t.ops)) * 1000) / 1000, 'count');
  }
  return curves;
}

/** Ratios against `none` of the same group, measured in this run (the issue's goals at 7). */
function compareAll(ctx: BenchContext, opts: ReturnType<typeof benchOptions>, curves: Map<string, Map<ConfigName, Curve>>): void {
  const top = Math.max(...opts.clients);
  for (const { label, n, maxBatch, configs } of sectionsOf(opts)) {
    const goals = n === 7 && maxBatch === undefined;
    // p99 at the same load: none's peak throughput, read off each configuration's curve
    const none = curves.get(label)?.get('none');
    const nonePeak = none && none.length > 0 ? none.reduce((a, b) => (b.opsPerS > a.opsPerS ? b : a)) : undefined;
    if (nonePeak) ctx.figure(`${label}-none-at-none-peak`, 'latency_p99_ms', nonePeak.p99Ms, 'ms');
    for (const config of configs.filter((c) => c !== 'none')) {
      const at = nonePeak ? p99AtLoad(curves.get(label)!.get(config)!, nonePeak.opsPerS) : undefined;
      if (at !== undefined) {
        ctx.figure(`${label}-${config}-at-none-peak`, 'latency_p99_ms', at, 'ms');
        ctx.compare('latency_p99_ms', `${label}-${config}-at-none-peak`, `${label}-none-at-none-peak`, goals && config === 'all' ? '<= 0.6' : '<= 1');
      } else if (nonePeak) log(`${label} ${config}: its curve never carried none's peak load (${nonePeak.opsPerS} op/s): no p99 at the same load`);
      const goalT = goals && config === 'all' ? '>= 2.3' : '>= 1';
      const goalL = goals && config === 'all' ? '<= 0.6' : '<= 1';
      ctx.compare('ops_per_s', `${label}-${config}-peak`, `${label}-none-peak`, goalT);
      const counts = config === 'all' ? opts.clients : [top];
      for (const c of counts) ctx.compare('latency_p99_ms', `${label}-${config}-c${c}`, `${label}-none-c${c}`, goalL);
      ctx.compare('cpu_us_per_op', `${label}-${config}-c${top}`, `${label}-none-c${top}`, '<= 1');
    }
  }
}

const opts = benchOptions();

const benchmark: Benchmark = {
  name: 'paxos',
  description:
    `VR key-value groups of ${opts.sizes.join('/')} replicas in namespaces with the Electrode offloads (${opts.configs.join(', ')}), ` +
    `${opts.unbatched.length > 0 ? `and unbatched (none, all) at ${opts.unbatched.join('/')}, ` : ''}${opts.clients.join('/')} closed-loop clients, ${opts.seconds} s per point, ${opts.rounds} interleaved round(s)${opts.quick ? ' (quick)' : ''}. ` +
    'Bound: replicas, clients and the packets\' kernel path share 2 CPUs; the offloads save kernel crossings, which is what this machine charges for',
  needsRoot: true,
  async run(ctx: BenchContext): Promise<void> {
    const rig = await PaxosRig.up();
    const curves = new Map<string, Map<ConfigName, Curve>>();
    try {
      for (const section of sectionsOf(opts)) {
        const t0 = Date.now();
        const group = await rig.startGroup(section.n, opts.viewChangeMs, section.maxBatch);
        log(`${section.label}: group started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        try {
          curves.set(section.label, await runGroup(ctx, group, opts, section));
        } finally {
          await group.stop();
        }
      }
    } finally {
      await rig.down();
    }
    compareAll(ctx, opts, curves);
  },
};

export default benchmark;
