/**
 * Guaranteed teardown. Every lab that is (being) built registers here; on process `exit` and on
 * SIGINT / SIGTERM / SIGHUP each one is torn down synchronously (spawnSync of `ip -batch`, blocking
 * waits), then the signal is re-raised so the process ends with the status the signal implies —
 * unless someone else also listens for it, in which case it is theirs to handle. What a SIGKILL
 * leaves behind is removed by `cleanStale()` of the next run.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import { silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';
import { parseRunDirName } from './names.js';
import { NETNS_DIR, listNetns, sweepNetns } from './netns.js';
import { LAB_DEFAULTS, defaultLogDir } from './options.js';
import { NA_ERR_NETLAB_BAD_STATE, NA_ERR_NETLAB_DOWN_FAILED } from './errors.js';
import { findStale, ownerState, procfs, readRecords, removeRecord } from './registry.js';
import type { ProcTable, RunRecord, StaleRun } from './registry.js';

/** Something that can tear itself down without the event loop. */
export interface SyncTeardown {
  readonly label: string;
  downSync(reason: string): void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const live = new Set<SyncTeardown>();
const withSignals = new Set<SyncTeardown>();
let exitInstalled = false;
let signalsInstalled = false;

function downAll(reason: string): void {
  for (const t of [...live]) {
    try {
      t.downSync(reason);
    } catch (err) {
      process.stderr.write(`netlab: teardown of ${t.label} on ${reason} failed: ${errorMessage(err)}\n`);
    }
    live.delete(t);
    withSignals.delete(t);
  }
}

function onExit(): void {
  downAll('exit');
}

function onSignal(signal: NodeJS.Signals): void {
  downAll(signal);
  uninstallSignals();
  // Nobody else handles it: end the process the way the signal would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const handlers = new Map<NodeJS.Signals, () => void>(SIGNALS.map((s) => [s, () => onSignal(s)]));

function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const [signal, handler] of handlers) process.on(signal, handler);
}

function uninstallSignals(): void {
  if (!signalsInstalled) return;
  signalsInstalled = false;
  for (const [signal, handler] of handlers) process.removeListener(signal, handler);
}

/** Tears `t` down on process exit, and on SIGINT/SIGTERM/SIGHUP when `signals` is true. */
export function registerTeardown(t: SyncTeardown, signals: boolean): void {
  live.add(t);
  if (!exitInstalled) {
    exitInstalled = true;
    process.on('exit', onExit);
  }
  if (signals) {
    withSignals.add(t);
    installSignals();
  }
}

/** Forgets `t` (it is down); the signal handlers go away with the last lab that wanted them. */
export function unregisterTeardown(t: SyncTeardown): void {
  live.delete(t);
  withSignals.delete(t);
  if (withSignals.size === 0) uninstallSignals();
}

/** Labs of this process that are registered now (for tests and diagnostics). */
export function liveTeardowns(): readonly string[] {
  return [...live].map((t) => t.label);
}

export interface CleanStaleOptions {
  readonly prefix?: string;
  readonly stateDir?: string;
  readonly logDir?: string;
  readonly killGraceMs?: number;
  readonly logRetentionMs?: number;
  readonly log?: Logger;
  /** Process table used to decide whether owners live; /proc by default. */
  readonly procs?: ProcTable;
  readonly netnsDir?: string;
}

export interface CleanStaleReport {
  readonly runs: readonly StaleRun[];
  /** Namespaces deleted. */
  readonly namespaces: readonly string[];
  /** Processes found inside them and ended. */
  readonly pids: readonly number[];
  /** Log folders of finished runs removed for age. */
  readonly logDirs: readonly string[];
}

/**
 * Removes what runs with a dead owner left behind: their processes, namespaces and records, and
 * namespaces with the prefix that no record claims. Never touches a run whose owner is alive
 * (other test processes run in parallel). Safe to call concurrently from several processes.
 */
export async function cleanStale(opts: CleanStaleOptions = {}): Promise<CleanStaleReport> {
  const prefix = opts.prefix ?? LAB_DEFAULTS.prefix;
  const stateDir = opts.stateDir ?? LAB_DEFAULTS.stateDir;
  const procs = opts.procs ?? procfs;
  const netnsDir = opts.netnsDir ?? NETNS_DIR;
  const log = (opts.log ?? silentLogger).child({ component: 'netlab-teardown' });
  // Namespaces first, records second: see findStale.
  const namespaces = listNetns(netnsDir);
  const records = readRecords(stateDir, prefix);
  const runs = findStale(prefix, namespaces, records, procs);
  const swept: string[] = [];
  const pids: number[] = [];
  for (const run of runs) {
    const r = await sweepNetns(run.namespaces, { graceMs: opts.killGraceMs ?? LAB_DEFAULTS.killGraceMs, dir: netnsDir });
    pids.push(...r.pids);
    swept.push(...run.namespaces.filter((n) => !r.remaining.includes(n)));
    if (r.remaining.length === 0 && run.file !== undefined) removeRecord(run.file);
    log.info({ runId: run.runId, reason: run.reason, namespaces: run.namespaces, pids: r.pids, remaining: r.remaining }, 'removed stale run');
  }
  const liveRuns = new Set(records.filter((e) => e.record !== undefined && ownerState(e.record, procs) === 'alive').map((e) => e.runId));
  const logDirs = pruneLogs(opts.logDir ?? defaultLogDir(), prefix, liveRuns, opts.logRetentionMs ?? LAB_DEFAULTS.logRetentionMs);
  return { runs, namespaces: swept, pids, logDirs };
}

function pruneLogs(logDir: string, prefix: string, liveRuns: ReadonlySet<string>, retentionMs: number): string[] {
  let entries: string[];
  try {
    entries = readdirSync(logDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const cutoff = Date.now() - retentionMs;
  for (const name of entries) {
    const runId = parseRunDirName(prefix, name);
    if (runId === undefined || liveRuns.has(runId)) continue;
    const dir = join(logDir, name);
    try {
      if (statSync(dir).mtimeMs >= cutoff) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // removed by someone else
    }
  }
  return removed;
}

export interface RemoveRunOptions {
  readonly prefix?: string;
  readonly stateDir?: string;
  readonly killGraceMs?: number;
  readonly procs?: ProcTable;
  readonly netnsDir?: string;
}

export interface RemovedRun {
  readonly runId: string;
  readonly namespaces: readonly string[];
  readonly pids: readonly number[];
}

/**
 * Takes down a run whose owner is gone or that was kept (`Lab.keep()`): its processes, its
 * namespaces and its record. A run whose owner process is alive and did not keep it is refused
 * (NA_ERR_NETLAB_BAD_STATE): it is that process's to end.
 */
export async function removeRun(runId: string, opts: RemoveRunOptions = {}): Promise<RemovedRun> {
  const prefix = opts.prefix ?? LAB_DEFAULTS.prefix;
  const stateDir = opts.stateDir ?? LAB_DEFAULTS.stateDir;
  const procs = opts.procs ?? procfs;
  const netnsDir = opts.netnsDir ?? NETNS_DIR;
  const entry = readRecords(stateDir, prefix).find((e) => e.runId === runId);
  if (entry?.record !== undefined && entry.record.kept !== true && ownerState(entry.record, procs) === 'alive') {
    throw NA_ERR_NETLAB_BAD_STATE(`${prefix}-${runId}`, `owned by the running process ${entry.record.pid}`, 'removeRun()', 'kept or without a live owner');
  }
  const found = listNetns(netnsDir).filter((n) => n.startsWith(`${prefix}-${runId}-`));
  const namespaces = [...new Set([...(entry?.record?.namespaces ?? []), ...found])].filter((n) => found.includes(n)).sort();
  const r = await sweepNetns(namespaces, { graceMs: opts.killGraceMs ?? LAB_DEFAULTS.killGraceMs, dir: netnsDir });
  if (r.remaining.length > 0) throw NA_ERR_NETLAB_DOWN_FAILED(`${prefix}-${runId}`, runId, r.remaining.join(', '));
  if (entry !== undefined) removeRecord(entry.file);
  return { runId, namespaces, pids: r.pids };
}

/** Runs of a prefix that were kept (`Lab.keep()`), oldest first. */
export function keptRuns(opts: { prefix?: string; stateDir?: string } = {}): RunRecord[] {
  return readRecords(opts.stateDir ?? LAB_DEFAULTS.stateDir, opts.prefix ?? LAB_DEFAULTS.prefix)
    .map((e) => e.record)
    .filter((r): r is RunRecord => r?.kept === true)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
