/**
 * Closed-loop key-value clients for tests and benchmarks: each client runs get / put / delete /
 * cas on a few keys, one operation at a time, recording every operation in a HistoryRecorder
 * (unique values, so a read names the write it saw; a timeout is an unknown outcome).
 */
import type { HistoryRecorder } from '@netaccel/linearizability';
import { seededRandom } from '@netaccel/protocol';
import { NA_ERR_PAXOS_CLOSED, NA_ERR_PAXOS_TIMEOUT } from '../errors.js';
import type { KvClient } from '../kv.js';

export interface WorkloadOptions {
  readonly keys: readonly string[];
  /** Operations per client; the client also stops when `until()` says so. */
  readonly ops: number;
  readonly seed: number;
  readonly until?: () => boolean;
  /** Share of reads (the rest is put / delete / cas). */
  readonly readShare?: number;
}

export interface WorkloadResult {
  ok: number;
  unknown: number;
  /** The client was closed under the loop (the run was torn down). */
  closed: boolean;
  latenciesMs: number[];
}

/** Runs one client's loop; never throws for a timed-out operation (it is recorded as unknown). */
export async function runKvClient(kv: KvClient, name: string, rec: HistoryRecorder | null, opts: WorkloadOptions): Promise<WorkloadResult> {
  const rand = seededRandom(opts.seed);
  const out: WorkloadResult = { ok: 0, unknown: 0, closed: false, latenciesMs: [] };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const readShare = opts.readShare ?? 0.4;
  for (let i = 0; i < opts.ops && !(opts.until?.() ?? false) && !out.closed; i++) {
    const key = pick(opts.keys);
    const value = `${name}-${i}`;
    const x = rand();
    const started = performance.now();
    if (x < readShare) {
      const p = rec?.begin({ kind: 'read', key });
      await settle(kv.get(key), (v) => p && rec!.ok(p, v), () => p && rec!.unknown(p), out);
    } else if (x < readShare + (1 - readShare) * 0.6) {
      const p = rec?.begin({ kind: 'write', key, value });
      await settle(kv.put(key, value), () => p && rec!.ok(p), () => p && rec!.unknown(p), out);
    } else if (x < readShare + (1 - readShare) * 0.75) {
      const p = rec?.begin({ kind: 'delete', key });
      await settle(kv.delete(key), (existed) => p && rec!.ok(p, existed), () => p && rec!.unknown(p), out);
    } else {
      const expected = rand() < 0.3 ? null : `${pick(['c0', 'c1', 'c2', 'c3'])}-${Math.floor(rand() * Math.max(1, i))}`;
      const p = rec?.begin({ kind: 'cas', key, expected, value });
      await settle(kv.cas(key, expected, value), (swapped) => p && rec!.ok(p, swapped), () => p && rec!.unknown(p), out);
    }
    out.latenciesMs.push(performance.now() - started);
  }
  return out;
}

async function settle<T>(op: Promise<T>, ok: (v: T) => unknown, unknown: () => unknown, out: WorkloadResult): Promise<void> {
  try {
    ok(await op);
    out.ok++;
  } catch (err) {
    if (NA_ERR_PAXOS_CLOSED.is(err)) out.closed = true;
    else if (!NA_ERR_PAXOS_TIMEOUT.is(err)) throw err;
    unknown();
    out.unknown++;
  }
}
