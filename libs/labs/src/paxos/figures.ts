/**
 * The Paxos scenario's figures, computed from what its processes recorded: the clients' history
 * (every operation with its invocation and completion time) gives throughput and p99 per second
 * and per phase; the replicas' reports at the phase boundaries give the kernel counters of each
 * offload per phase. Pure functions: the scenario feeds them, a unit test checks them.
 */
import type { CheckResult, RegisterOp } from '@netaccel/linearizability';

/** The kernel counters of one replica (el_stats, summed over CPUs), by name. */
export type KernelStats = Readonly<Record<string, string | number | bigint>>;

/** One set of counter reads: the live replicas' kernel stats at one instant. */
export interface CounterSample {
  readonly at: number;
  /** By replica index; a replica that was down is absent. */
  readonly stats: ReadonlyMap<number, KernelStats>;
}

export interface PhaseBound {
  readonly name: string;
  /** Epoch ms. */
  readonly from: number;
  readonly to: number;
}

export interface PhaseFigures {
  readonly name: string;
  /** ms since the clients started. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Operations completed in the phase (acknowledged). */
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Operations invoked in the phase whose outcome stayed unknown (timed out). */
  readonly unknown: number;
}

/** Per offload, over all replicas: what its kernel counters moved by during a phase. */
export interface OffloadCounters {
  readonly phase: string;
  /** Offload bits on during the phase (ELECTRODE_OFF). */
  readonly offloads: number;
  readonly broadcast: { readonly prepares: number; readonly clones: number; readonly errors: number };
  readonly fastAck: { readonly acks: number };
  readonly quorum: { readonly quorums: number; readonly filtered: number };
  /** Messages the XDP program passed up to user space (every mode). */
  readonly passed: number;
}

export interface SecondPoint {
  /** End of the one-second bucket, ms since the clients started. */
  readonly atMs: number;
  readonly opsPerSec: number;
  /** p99 of the operations completed in the bucket (0 when none). */
  readonly p99Ms: number;
}

/** The q-quantile (nearest rank) of `xs`; 0 for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const completed = (h: readonly RegisterOp[], from: number, to: number): RegisterOp[] => h.filter((op) => op.complete !== null && op.complete > from && op.complete <= to);
const latency = (op: RegisterOp): number => op.complete! - op.invoke;
const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

/** Throughput and p99 of every whole second from `t0` to `t1` (epoch ms). */
export function perSecond(history: readonly RegisterOp[], t0: number, t1: number): SecondPoint[] {
  const out: SecondPoint[] = [];
  for (let s = t0; s + 1000 <= t1 + 1; s += 1000) {
    const ops = completed(history, s, s + 1000);
    out.push({ atMs: s + 1000 - t0, opsPerSec: ops.length, p99Ms: round(quantile(ops.map(latency), 0.99)) });
  }
  return out;
}

/** Throughput, p50 and p99 per phase. */
export function phaseFigures(history: readonly RegisterOp[], phases: readonly PhaseBound[], t0: number): PhaseFigures[] {
  return phases.map((p) => {
    const ops = completed(history, p.from, p.to);
    const lat = ops.map(latency);
    const secs = Math.max(p.to - p.from, 1) / 1000;
    return {
      name: p.name,
      fromMs: Math.round(p.from - t0),
      toMs: Math.round(p.to - t0),
      ops: ops.length,
      opsPerSec: round(ops.length / secs, 1),
      p50Ms: round(quantile(lat, 0.5)),
      p99Ms: round(quantile(lat, 0.99)),
      unknown: history.filter((op) => op.complete === null && op.invoke > p.from && op.invoke <= p.to).length,
    };
  });
}

const num = (s: KernelStats | undefined, name: string): number => Number(s?.[name] ?? 0);

/**
 * What each offload's counters moved by between consecutive samples, summed over the replicas
 * of the later sample (a replica absent from the earlier one started from zero: a restarted
 * replica loads a fresh object).
 */
export function counterDeltas(samples: readonly CounterSample[], phases: readonly { readonly name: string; readonly offloads: number }[]): OffloadCounters[] {
  return phases.map((p, i) => {
    const a = samples[i]!;
    const b = samples[i + 1]!;
    const d = (name: string): number => [...b.stats].reduce((sum, [r, s]) => sum + num(s, name) - num(a.stats.get(r), name), 0);
    return {
      phase: p.name,
      offloads: p.offloads,
      broadcast: { prepares: d('BCAST_PREPARES'), clones: d('BCAST_CLONES'), errors: d('BCAST_ERRORS') },
      fastAck: { acks: d('FAST_ACKS') },
      quorum: { quorums: d('QUORUMS'), filtered: d('ACKS_FILTERED') },
      passed: d('PASSED'),
    };
  });
}

/** Why the counters of a phase contradict its offload bits (moved while off, still while on). */
export function counterFaults(c: OffloadCounters, bits: OffloadBits): string[] {
  const faults: string[] = [];
  const check = (name: string, on: boolean, moved: number): void => {
    if (on && moved === 0) faults.push(`${c.phase}: ${name} was on and its counters did not move`);
    if (!on && moved !== 0) faults.push(`${c.phase}: ${name} was off and its counters moved by ${moved}`);
  };
  check('the broadcast', (c.offloads & bits.broadcast) !== 0, c.broadcast.prepares + c.broadcast.clones);
  check('the fast acknowledgement', (c.offloads & bits.fastAck) !== 0, c.fastAck.acks);
  check('the quorum wait', (c.offloads & bits.quorum) !== 0, c.quorum.quorums + c.quorum.filtered);
  return faults;
}

/** ELECTRODE_OFF's bits, as counterFaults and runFaults take them. */
export interface OffloadBits {
  readonly broadcast: number;
  readonly fastAck: number;
  readonly quorum: number;
}

/**
 * What fails a run: a history that is not linearizable (an acknowledged write lost, a stale or
 * invented read), or counters that contradict the offloads' switches. Empty when the run holds.
 */
export function runFaults(lin: Pick<CheckResult, 'ok' | 'outcome' | 'counterexample'>, counters: readonly OffloadCounters[], bits: OffloadBits): string[] {
  const faults: string[] = [];
  if (!lin.ok) faults.push(`the clients' history is not linearizable (${lin.outcome})${lin.counterexample !== undefined ? `:\n${lin.counterexample.explanation}` : ''}`);
  const moved = counters.flatMap((c) => counterFaults(c, bits));
  if (moved.length > 0) faults.push(`the offloads' kernel counters do not follow their switches: ${moved.join('; ')}`);
  return faults;
}
