/**
 * One measured point of the paxos benchmark (closed loop or paced): switch the group's offloads,
 * run the clients, and turn the replicas' reports before and after into a RoundPoint (CPU per
 * operation, per role), the generator's own cost, and the configuration's totals (view changes,
 * linearizability, batching, retransmissions, the kernel's per-offload work).
 */
import type { ConfigName, RoleTotals, RoundPoint } from './options.js';
import { OFFLOAD_BITS } from './options.js';
import { napiCpuUsNow, softirqNow } from './rig.js';
import type { ClientReport, Group, ReplicaReport } from './rig.js';

export const KERNEL_STATS = ['BCAST_CLONES', 'FAST_ACKS', 'QUORUMS', 'ACKS_FILTERED'] as const;
export const log = (m: string): void => console.error(`bench: paxos: ${m}`);

export interface ConfigTotals {
  viewChanges: number;
  linOk: number;
  linBad: number;
  ops: number;
  entries: number;
  requests: number;
  retransmits: number;
  kernel: Record<(typeof KERNEL_STATS)[number], number>;
}

export const emptyTotals = (): ConfigTotals => ({ viewChanges: 0, linOk: 0, linBad: 0, ops: 0, entries: 0, requests: 0, retransmits: 0, kernel: { BCAST_CLONES: 0, FAST_ACKS: 0, QUORUMS: 0, ACKS_FILTERED: 0 } });

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

/** A point measured: the round's figures, the generator's CPU and socket calls per put, its report. */
export interface Measured {
  readonly point: RoundPoint;
  /** The leader's main thread (schedstat) during the window: fraction of it on a CPU, and runnable but waiting for one. */
  readonly leaderSched: { readonly busy: number; readonly runqWait: number } | undefined;
  readonly clientCpuUsPerOp: number;
  readonly clientSyscallsPerOp: number | undefined;
  readonly report: ClientReport;
}

/**
 * Runs one point of `config` and adds to `t`. `rate` (op/s): paced, `ops` is then the load the
 * group carried inside the window (answers in it) and the latencies run from each put's arrival.
 */
export async function measurePoint(group: Group, config: ConfigName, t: ConfigTotals, tag: string, clients: number, warmupMs: number, ms: number, rate?: number): Promise<Measured> {
  const before = await group.setOffloads(OFFLOAD_BITS[config]);
  // the softirq work: the machine's softirq time plus the threaded NAPI pollers' (the same work in a kthread)
  const soft0 = softirqNow() + napiCpuUsNow();
  const sched0 = group.schedstat();
  const c = await group.runPoint(tag, clients, warmupMs, ms, rate);
  const sched1 = group.schedstat();
  const soft1 = softirqNow() + napiCpuUsNow();
  const after = await group.setOffloads(OFFLOAD_BITS[config]);
  const vc = sum(after, (r) => r.counters.view_changes_started ?? 0) - sum(before, (r) => r.counters.view_changes_started ?? 0);
  const views = new Set(after.map((r) => `${r.snapshot.view}/${r.snapshot.status}`));
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
  const retransmitted = sum(after, (r) => r.counters.prepares_retransmitted ?? 0) - sum(before, (r) => r.counters.prepares_retransmitted ?? 0);
  t.retransmits += retransmitted;
  for (const k of KERNEL_STATS) t.kernel[k] += sum(after, (r) => Number(r.kernel.stats[k] ?? 0)) - sum(before, (r) => Number(r.kernel.stats[k] ?? 0));
  if (vc > 0 || views.size > 1) log(`${tag}: ${vc} view change(s) started during the point; replicas now at ${[...views].join(', ')}`);
  if (c.unknown > 0) log(`${tag}: ${c.unknown} put(s) timed out (outcome unknown)`);
  if (rate !== undefined && c.gen === undefined) throw new Error(`paxos bench: ${tag}: a paced point without the generator's report`);
  // paced: the load carried is the answers inside the window; closed loop: the puts sent and answered in it
  const ops = rate !== undefined ? c.gen!.completed : c.ops;
  const acked = Math.max(1, c.acked);
  const point: RoundPoint = {
    ops,
    seconds: c.seconds,
    p50Ms: c.p50Ms,
    p99Ms: c.p99Ms,
    // per operation answered over the whole point (warm-up and read-back included)
    replicaCpuUs: ((sum(after, (r) => r.cpuUs) - sum(before, (r) => r.cpuUs)) * ops) / acked,
    softirqUs: ((soft1 - soft0) * ops) / acked,
    viewChanges: vc,
    ...(sameLeader ? { roles: roleTotals(before, after, lead, ops / acked) } : {}),
  };
  const paced = rate !== undefined ? `, offered ${Math.round(rate)} op/s, backlog <= ${c.gen!.maxBacklog}, generator late p99 ${c.gen!.genLateP99Ms} ms${c.gen!.realtime === 1 ? ' (realtime)' : ''}${c.gen!.unstarted > 0 ? `, ${c.gen!.unstarted} unstarted` : ''}` : '';
  const resent =
    (c.gen !== undefined && c.gen.retransmits > 0 ? `, ${c.gen.retransmits} put(s) re-sent by the generator` : '') +
    (retransmitted > 0 ? `, ${retransmitted} PREPARE(s) re-sent by the leader` : '');
  log(`${tag}: ${Math.round(ops / c.seconds)} op/s, p50 ${c.p50Ms.toFixed(2)} ms, p99 ${c.p99Ms.toFixed(2)} ms${paced}${resent}, ${c.lin}`);
  // the leader's event loop during the window: per op over the whole point (warm-up and read-back
  // included, as the CPU figures) times the window's rate: the share of the window it ran, and
  // waited runnable for a CPU (the rest it slept: nothing to do)
  const [s0, s1] = [sched0[lead], sched1[lead]];
  const perWindow = (ns: number) => Math.max(0, ns / acked) * (ops / c.seconds) * 1e-9;
  const leaderSched = sameLeader && s0 && s1 && c.seconds > 0 ? { busy: perWindow(s1.runNs - s0.runNs), runqWait: perWindow(s1.waitNs - s0.waitNs) } : undefined;
  return {
    point,
    leaderSched,
    // the generator's CPU per put it saw answered (the read-back's Node clients are not in it)
    clientCpuUsPerOp: c.cpuUs / Math.max(1, c.gen?.acked ?? c.acked),
    clientSyscallsPerOp: c.gen ? (c.gen.sendCalls + c.gen.recvCalls) / Math.max(1, c.gen.acked) : undefined,
    report: c,
  };
}
