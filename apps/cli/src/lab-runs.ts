/**
 * The folders earlier lab runs leave (logs, configurations, report: `<logDir>/<prefix>-<runId>/`,
 * kept after a run for post-mortems): `netaccel lab down` says where they are, keeps the last
 * few and, with `--purge`, removes them all. A run still in progress is never touched.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Earlier runs' folders kept by `lab down` (the newest ones). */
export const KEEP_RUNS = 5;

export interface RunDir {
  runId: string;
  dir: string;
  mtimeMs: number;
  bytes: number;
}

/** Where netlab writes run folders: $NETLAB_LOG_DIR, else <tmp>/netaccel-netlab (netlab's default). */
export function labLogParent(env: NodeJS.ProcessEnv = process.env): string {
  const d = env.NETLAB_LOG_DIR;
  return d !== undefined && isAbsolute(d) ? d : join(tmpdir(), 'netaccel-netlab');
}

function sizeOf(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, e) => n + sizeOf(join(path, e)), 0);
}

/** The run folders of `prefix` under `parent`, newest first. */
export function runDirs(parent: string, prefix: string): RunDir[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(`${prefix}-`))
    .map((n) => ({ name: n, st: statSync(join(parent, n), { throwIfNoEntry: false }) }))
    .filter((x) => x.st?.isDirectory() === true)
    .map((x) => ({ runId: x.name.slice(prefix.length + 1), dir: join(parent, x.name), mtimeMs: x.st!.mtimeMs, bytes: sizeOf(join(parent, x.name)) }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/** Removes all but the newest `keep` run folders, never those of `busy` runs; returns what went and what stays. */
export function pruneRunDirs(parent: string, prefix: string, keep: number, busy: ReadonlySet<string>): { removed: RunDir[]; kept: RunDir[] } {
  const all = runDirs(parent, prefix);
  const removed: RunDir[] = [];
  const kept: RunDir[] = [];
  for (const r of all) {
    if (busy.has(r.runId) || kept.length < keep) kept.push(r);
    else {
      rmSync(r.dir, { recursive: true, force: true });
      removed.push(r);
    }
  }
  return { removed, kept };
}

/** `12.3 MB`, `512 kB`, `900 B`. */
export function sizeText(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${Math.round(bytes / 1e3)} kB` : `${bytes} B`;
}

/** What `lab down` says about the run folders after pruning. */
export function runsText(parent: string, r: { removed: RunDir[]; kept: RunDir[] }, purge: boolean): string {
  const freed = sizeText(r.removed.reduce((n, x) => n + x.bytes, 0));
  const gone = r.removed.length === 0 ? '' : `removed ${r.removed.length} earlier run folder${r.removed.length === 1 ? '' : 's'} (${freed}); `;
  if (r.kept.length === 0) return `${gone}no run folders left in ${parent}`;
  const newest = r.kept[0]!;
  return `${gone}logs stay in ${newest.dir}; ${r.kept.length} run folder${r.kept.length === 1 ? '' : 's'} kept in ${parent} (${sizeText(r.kept.reduce((n, x) => n + x.bytes, 0))}${purge ? ', runs in progress' : `, the last ${KEEP_RUNS}`}; netaccel lab down --purge removes them)`;
}
