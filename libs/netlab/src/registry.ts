/**
 * Ownership records of runs: `<stateDir>/<prefix>/<runId>.json` says which process (pid and its
 * start time from /proc/<pid>/stat, so a reused pid is not mistaken for the owner) created which
 * namespaces. A record is published before the first namespace exists, and removed after the last
 * one is gone, so a namespace carrying the prefix without a live record belongs to nobody.
 * `findStale` is the pure decision over a snapshot; the sweep itself lives in teardown.ts.
 */
import { linkSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import { NA_ERR_NETLAB_REGISTRY_FAILED } from './errors.js';
import { isRunId, parseNsName } from './names.js';

export interface RunRecord {
  readonly version: 1;
  readonly runId: string;
  readonly prefix: string;
  /** The lab's spec name. */
  readonly name: string;
  readonly pid: number;
  /** Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat. */
  readonly pidStart: string;
  readonly createdAt: string;
  readonly namespaces: readonly string[];
  readonly logDir: string;
  /**
   * Set by `Lab.keep()`: the owner handed the run over and may exit; the run counts as alive
   * (never stale) until `removeRun()` takes it down.
   */
  readonly kept?: boolean;
}

/** What staleness needs to know about processes; `procfs` reads /proc, tests pass a fake. */
export interface ProcTable {
  /** Start time of a live (non-zombie) process, undefined when there is none with that pid. */
  startTime(pid: number): string | undefined;
}

export interface RecordEntry {
  readonly runId: string;
  readonly file: string;
  /** undefined when the file cannot be parsed. */
  readonly record: RunRecord | undefined;
}

export interface StaleRun {
  readonly runId: string;
  /** Namespaces to sweep: those of the record and those found by name. */
  readonly namespaces: readonly string[];
  /** The record file to remove, when there is one. */
  readonly file: string | undefined;
  readonly reason: 'owner-dead' | 'pid-reused' | 'corrupt-record' | 'no-record';
}

/** State and start time from the text of /proc/<pid>/stat (comm may contain spaces and parens). */
export function parseStat(text: string): { state: string; startTime: string } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/); // fields[0] is field 3 (state)
  const state = fields[0];
  const startTime = fields[19]; // field 22
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return { state, startTime };
}

export const procfs: ProcTable = Object.freeze({
  startTime(pid: number): string | undefined {
    try {
      const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      return stat === undefined || stat.state === 'Z' || stat.state === 'X' ? undefined : stat.startTime;
    } catch {
      return undefined;
    }
  },
});

export function registryDir(stateDir: string, prefix: string): string {
  return join(stateDir, prefix);
}

export function recordFile(stateDir: string, prefix: string, runId: string): string {
  return join(registryDir(stateDir, prefix), `${runId}.json`);
}

/**
 * Publishes a record atomically and exclusively (written to a temporary file, then hard-linked to
 * its name): false when a record with this run id exists already, so the caller picks another id.
 */
export function publishRecord(stateDir: string, record: RunRecord): boolean {
  const dir = registryDir(stateDir, record.prefix);
  const file = recordFile(stateDir, record.prefix, record.runId);
  const tmp = join(dir, `.${record.runId}.${process.pid}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw NA_ERR_NETLAB_REGISTRY_FAILED.with({ cause: err }, record.runId, dir, errorMessage(err));
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // not written
    }
  }
}

/** Replaces the record of a published run (atomic rename), e.g. to mark it kept. */
export function rewriteRecord(stateDir: string, record: RunRecord): void {
  const dir = registryDir(stateDir, record.prefix);
  const file = recordFile(stateDir, record.prefix, record.runId);
  const tmp = join(dir, `.${record.runId}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    throw NA_ERR_NETLAB_REGISTRY_FAILED.with({ cause: err }, record.runId, dir, errorMessage(err));
  }
}

export function removeRecord(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

function parseRecord(text: string, runId: string): RunRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<RunRecord>;
    const ok = r.version === 1 && r.runId === runId && typeof r.pid === 'number' && typeof r.pidStart === 'string' &&
      Array.isArray(r.namespaces) && r.namespaces.every((n) => typeof n === 'string') && (r.kept === undefined || typeof r.kept === 'boolean');
    return ok ? (r as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Every record of a prefix; unreadable or malformed files come back with `record: undefined`. */
export function readRecords(stateDir: string, prefix: string): RecordEntry[] {
  const dir = registryDir(stateDir, prefix);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const entries: RecordEntry[] = [];
  for (const name of names) {
    const runId = name.replace(/\.json$/, '');
    if (!name.endsWith('.json') || !isRunId(runId)) continue;
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // removed in between: its run just ended
    }
    entries.push({ runId, file, record: parseRecord(text, runId) });
  }
  return entries;
}

/** 'alive', or why the owner of the record is not. A kept run counts as alive. */
export function ownerState(record: RunRecord, procs: ProcTable): 'alive' | 'owner-dead' | 'pid-reused' {
  if (record.kept === true) return 'alive';
  const start = procs.startTime(record.pid);
  if (start === undefined) return 'owner-dead';
  return start === record.pidStart ? 'alive' : 'pid-reused';
}

/**
 * Decides which runs are stale from a snapshot: the namespaces that exist (listed BEFORE the
 * records were read — a live run publishes its record before it creates namespaces, so every
 * namespace in the list has its record in `records` unless it is orphaned) and the records.
 * Runs with a live owner are never returned; names that do not parse as `<prefix>-<runId>-<node>`
 * are never touched.
 */
export function findStale(prefix: string, namespaces: readonly string[], records: readonly RecordEntry[], procs: ProcTable): StaleRun[] {
  const byRun = new Map<string, string[]>();
  for (const ns of namespaces) {
    const parsed = parseNsName(prefix, ns);
    if (parsed === undefined) continue;
    byRun.set(parsed.runId, [...(byRun.get(parsed.runId) ?? []), ns]);
  }
  const stale: StaleRun[] = [];
  const decided = new Set<string>();
  for (const entry of records) {
    decided.add(entry.runId);
    const state = entry.record === undefined ? 'corrupt-record' : ownerState(entry.record, procs);
    if (state === 'alive') continue;
    const own = (entry.record?.namespaces ?? []).filter((n) => parseNsName(prefix, n)?.runId === entry.runId);
    const found = byRun.get(entry.runId) ?? [];
    stale.push({ runId: entry.runId, namespaces: [...new Set([...own, ...found])].sort(), file: entry.file, reason: state });
  }
  for (const [runId, found] of byRun) {
    if (!decided.has(runId)) stale.push({ runId, namespaces: found.sort(), file: undefined, reason: 'no-record' });
  }
  return stale;
}
