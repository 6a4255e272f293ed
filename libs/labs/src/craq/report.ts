/**
 * What a run of the CRAQ scenario answers, and writes as craq-report.json beside its logs.
 */
import type { PhaseFigures, SecondPoint } from '../paxos/figures.js';

/** A change of the scheduler's placement or chain, as the scenario saw it (polled every 100 ms). */
export interface PlacementChange {
  /** ms since the clients' measurement started. */
  readonly atMs: number;
  readonly placementEpoch: string;
  readonly chainEpoch: number;
  /** The chain, head first. */
  readonly chain: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly placed: number;
}

/** Per phase: how the client's reads were served (deltas of its counters). */
export interface ServedBy {
  readonly phase: string;
  readonly chainReads: number;
  readonly etcdReads: number;
  readonly chainWrites: number;
  readonly etcdWrites: number;
  readonly retries: number;
  readonly errors: number;
}

export interface CraqReport {
  readonly scenario: 'craq';
  readonly runId: string;
  readonly startedAt: string;
  readonly quick: boolean;
  readonly keys: number;
  readonly zipf: number;
  readonly clients: number;
  readonly writeRatio: number;
  /** Where each part runs. */
  readonly layout: string;
  readonly logDir: string;
  readonly files: { readonly svg: string; readonly json: string; readonly history: string };
  readonly steps: readonly { readonly title: string; readonly ms: number }[];
  /** Reads only, per phase. */
  readonly reads: readonly PhaseFigures[];
  /** Every operation (reads and writes), per phase. */
  readonly all: readonly PhaseFigures[];
  readonly servedBy: readonly ServedBy[];
  readonly placement: {
    /** The hottest keys placed at the end, in the order the scheduler lists them. */
    readonly keys: readonly string[];
    /** ms from the scheduler's start to the first key placed. */
    readonly firstPlacedMs: number;
    /** ms from the scheduler's start to the placement settled (the budget full or no change for 1 s). */
    readonly settledMs: number;
    /** The workload's share of draws the placed keys get (Zipf), in %. */
    readonly expectedSharePct: number;
    readonly changes: readonly PlacementChange[];
  };
  readonly failure: {
    readonly killed: string;
    readonly chainBefore: readonly string[];
    readonly chainAfter: readonly string[];
    readonly lastChange: string;
    /** ms from the kill to the scheduler's chain without the node. */
    readonly reconfiguredMs: number;
    /** The client's retries and errors from the kill to the end. */
    readonly retries: number;
    readonly errors: number;
  };
  readonly client: { readonly ops: number; readonly errors: number; readonly errorSamples: readonly string[] };
  readonly linearizability: {
    readonly outcome: string;
    /** Operations on the keys ever placed (the load's writes included). */
    readonly operations: number;
    readonly unknown: number;
    readonly keys: number;
    readonly checkMs: number;
    readonly counterexample?: string;
  };
  readonly chart: { readonly points: readonly SecondPoint[]; readonly events: readonly { atMs: number; label: string }[]; readonly placed: readonly { fromMs: number; toMs: number }[]; readonly durationMs: number };
}
