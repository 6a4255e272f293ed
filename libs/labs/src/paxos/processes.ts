/**
 * The processes of the Paxos scenario: the replica and client runners this package ships
 * (replica-runner.ts, client-runner.ts, started with node; from the sources through tsx), their
 * JSON lines, and a replica's report asked with SIGUSR1. Light on purpose (netlab only): exported
 * alone as `@netaccel/labs/paxos/processes` for bpf/electrode's namespace test and bench/paxos,
 * which run the same replica runner.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@netaccel/netlab';
import type { LabProcess } from '@netaccel/netlab';
import type { KernelStats } from './figures.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCES = fileURLToPath(import.meta.url).endsWith('.ts');

/** The repository (or installed tree) root: the runners' working directory. */
export const RUNNER_CWD = resolve(HERE, '..', '..', '..', '..');

/**
 * V8 flags of every replica runner (the lab's, bench/paxos's, bpf/electrode's namespace test): a
 * 64 MiB young generation. A replica allocates per request (decoded message, ids, client-table
 * entries, reply) and V8's default 16 MiB semi-space made it scavenge so often that garbage
 * collection was a third of the leader's samples (perf); bench/paxos measured at 7 replicas, 256
 * clients, two A/B pairs at load 11-15: replica CPU per op none 148/145 -> 124/113 µs, all
 * 92.7/72.9 -> 62.8/50.5 µs.
 */
export const REPLICA_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=64']);

/** The argv that starts a runner of this directory (a replica runner with REPLICA_NODE_FLAGS). */
export function runnerArgv(name: 'replica-runner' | 'client-runner', args: readonly string[]): string[] {
  const file = join(HERE, `${name}${FROM_SOURCES ? '.ts' : '.js'}`);
  return [process.execPath, ...(name === 'replica-runner' ? REPLICA_NODE_FLAGS : []), ...(FROM_SOURCES ? ['--import', 'tsx'] : []), file, ...args];
}

export type Line = Record<string, unknown> & { at?: number };

/** The JSON lines a process printed (other output skipped). */
export function jsonLines(p: LabProcess): Line[] {
  const out: Line[] = [];
  for (const l of p.output().split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Line);
    } catch {
      // a line being written
    }
  }
  return out;
}

export interface ReplicaState {
  readonly view: number;
  readonly status: string;
  readonly leader: number;
}

export interface ReplicaReport {
  readonly at: number;
  readonly report: number;
  readonly final: boolean;
  readonly snapshot: { view: number; status: string; leader: number; executed: string; commit: string; lastOp: string };
  /** The replica's log extent and newest checkpoint (libs/paxos logStats; op numbers as strings). */
  readonly log?: { firstOp: string; lastOp: string; entries: number; checkpointOp: string; checkpointBytes: number };
  /** libs/paxos' counters of the replica. */
  readonly counters: Record<string, number>;
  /** User + system CPU time of the process so far (µs). */
  readonly cpuUs: number;
  /** Context switches of the process so far (voluntary + involuntary): its wake-ups. */
  readonly wakeups: number;
  readonly kernel: { stats: KernelStats; reasons: Record<string, { packets: string; bytes: string }> };
}

/** The replica's view/status/leader changes, in order. */
export const stateLines = (p: LabProcess): (ReplicaState & { at: number })[] =>
  jsonLines(p).flatMap((l) => (l.state !== undefined ? [{ ...(l.state as ReplicaState), at: Number(l.at) }] : []));

/** The replica's last known view, status and leader. */
export const lastState = (p: LabProcess): ReplicaState | undefined => stateLines(p).at(-1);

/** The offloads the replica last reported switched to (its start's included). */
export const lastOffloads = (p: LabProcess): number | undefined => {
  const l = jsonLines(p).filter((x) => x.offloads !== undefined).at(-1);
  return l === undefined ? undefined : Number(l.offloads);
};

/** Asks a replica for a report (SIGUSR1) and waits for it. */
export async function askReport(p: LabProcess): Promise<ReplicaReport> {
  const count = (): number => jsonLines(p).filter((l) => l.report !== undefined).length;
  const seen = count();
  p.kill('SIGUSR1');
  await waitFor(() => count() > seen, { timeoutMs: 10_000, what: `a report of ${p.name}` });
  return jsonLines(p).filter((l) => l.report !== undefined).at(-1) as unknown as ReplicaReport;
}

/** The clients' acknowledged operations so far. */
export const clientOk = (p: LabProcess): number => Math.max(0, ...jsonLines(p).map((l) => Number(l.ok ?? 0)));
