/**
 * What the sk_msg program of a BPF lane (the kernel path's `sidecar_msg`, the bare redirect's
 * `redirect_msg`) cost over the run: verifier instructions always, and with
 * SIDECAR_BENCH_BPF_STATS=1 (root) the kernel's run-time stats, enabled through a
 * BPF_ENABLE_STATS descriptor held for the run (released by closing it; the sysctl
 * kernel.bpf_stats_enabled is left alone): ns per run, and per call its client completed.
 * Off by default: the stats add two clock reads to every run of every BPF program on the machine.
 *
 * The program is found from the lane's cgroup: the sockops program attached there (the lane's
 * own), then the program of the wanted name loaded with it (ids near the sockops program's, the
 * same load time within a second), since its sockhash is the loading process's.
 */
import { enableRunTimeStats, programInfoById, queryCgroup } from '@netaccel/bpf';
import type { ProgramInfo, RunTimeStats } from '@netaccel/bpf';

/** Ids either side of the sockops program searched for its sibling. */
const SIBLING_IDS = 16;
const SAME_LOAD_NS = 1_000_000_000n;

/** SIDECAR_BENCH_BPF_STATS: '1' enables run-time stats (root only), '0' or unset leaves them off. */
export function wantedBpfStats(env: NodeJS.ProcessEnv = process.env, root = process.getuid?.() === 0): boolean {
  const raw = (env.SIDECAR_BENCH_BPF_STATS ?? '0').trim();
  if (raw !== '0' && raw !== '1') throw new Error(`SIDECAR_BENCH_BPF_STATS: expected 0 or 1, got ${JSON.stringify(raw)}`);
  if (raw === '1' && !root) throw new Error('SIDECAR_BENCH_BPF_STATS=1 needs root');
  return raw === '1';
}

/** Run-time stats on until close() (a no-op when not wanted). */
export function bpfStats(wanted: boolean): RunTimeStats & { readonly enabled: boolean } {
  if (!wanted) return { enabled: false, close: () => {} };
  const s = enableRunTimeStats();
  return { enabled: true, close: () => s.close() };
}

function infoOrUndefined(id: number): ProgramInfo | undefined {
  try {
    return programInfoById(id);
  } catch {
    return undefined;
  }
}

/** The program named `name` loaded with the sockops program attached to `cgroup`; undefined when not found. */
export function laneProgram(cgroup: string, name: string): ProgramInfo | undefined {
  const [sockopsId] = queryCgroup(cgroup, 'cgroup_sock_ops').programIds;
  if (sockopsId === undefined) return undefined;
  const sockops = infoOrUndefined(sockopsId);
  if (!sockops) return undefined;
  for (let d = 1; d <= SIBLING_IDS; d++) {
    for (const id of [sockopsId + d, sockopsId - d]) {
      if (id <= 0) continue;
      const p = infoOrUndefined(id);
      if (!p || p.name !== name) continue;
      const apart = p.loadTime > sockops.loadTime ? p.loadTime - sockops.loadTime : sockops.loadTime - p.loadTime;
      if (apart < SAME_LOAD_NS) return p;
    }
  }
  return undefined;
}

export interface ProgramCost {
  readonly name: string;
  readonly verifiedInstructions: number;
  readonly runs: number;
  readonly nsPerRun: number | undefined;
  readonly nsPerCall: number | undefined;
}

/** The program's cost per run and per call (`calls` its lane's client completed), from its info. */
export function programCost(p: ProgramInfo, calls: number): ProgramCost {
  const runs = Number(p.runCount);
  const ns = Number(p.runTimeNs);
  return {
    name: p.name,
    verifiedInstructions: p.verifiedInstructions,
    runs,
    nsPerRun: runs > 0 ? ns / runs : undefined,
    nsPerCall: runs > 0 && calls > 0 ? ns / calls : undefined,
  };
}
