/**
 * The Paxos scenario's report: a typed record of the run (`netaccel lab --scenario paxos --json`
 * and paxos-report.json in the run's log folder) and its chart (paxos-chart.svg beside it). The
 * text for people is the front end's (apps/cli).
 */
import type { OffloadCounters, PhaseFigures, SecondPoint } from './figures.js';

export interface ViewChange {
  /** ms since the clients started. */
  readonly atMs: number;
  readonly replica: number;
  readonly view: number;
  readonly status: string;
  readonly leader: number;
}

export interface PaxosReport {
  readonly scenario: 'paxos';
  readonly runId: string;
  readonly startedAt: string;
  readonly quick: boolean;
  readonly replicas: number;
  readonly clients: number;
  readonly keys: number;
  readonly logDir: string;
  /** The chart and this record as files. */
  readonly files: { readonly svg: string; readonly json: string; readonly history: string };
  readonly steps: readonly { readonly title: string; readonly ms: number }[];
  /** Client throughput and latency per phase (ms since the clients started). */
  readonly phases: readonly PhaseFigures[];
  /** The kernel counters of each offload per phase, over all replicas. */
  readonly counters: readonly OffloadCounters[];
  /** Every view, status or leader change a replica reported after the clients started. */
  readonly views: readonly ViewChange[];
  readonly failover: {
    readonly killed: number;
    /** The view it led when killed (0 unless a view change happened before). */
    readonly killedView: number;
    readonly newView: number;
    readonly newLeader: number;
    /** kill -9 → the first replica normal in the new view. */
    readonly viewChangeMs: number;
    /** kill -9 → the first operation acknowledged after the new view. */
    readonly serviceBackMs: number;
    /** The killed replica's process started (loading the object included) → normal in the current view; null when not restarted. */
    readonly rejoinMs: number | null;
    /** Of which the recovery protocol and state transfer: its first report (recovering) → normal. */
    readonly recoveryMs: number | null;
  };
  readonly linearizability: {
    readonly outcome: 'linearizable' | 'not-linearizable' | 'inconclusive';
    readonly operations: number;
    readonly unknown: number;
    readonly keys: number;
    readonly checkMs: number;
    readonly counterexample?: string;
  };
  readonly chart: {
    readonly points: readonly SecondPoint[];
    readonly events: readonly { readonly atMs: number; readonly label: string }[];
    readonly offloadsOn: readonly { readonly fromMs: number; readonly toMs: number }[];
    readonly durationMs: number;
  };
}
