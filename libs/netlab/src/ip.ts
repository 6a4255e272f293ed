/**
 * Thin wrappers around iproute2's `ip`: one command, its JSON output (`ip -j`), and batches
 * (`ip -batch -`) — the fast path, one process for many changes. A failed batch names the line
 * that failed, so the error reads `… line 3 "route add …": Error: Nexthop has invalid gateway.`
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runCommand, runCommandSync } from './command.js';
import type { RunResult } from './command.js';
import { NA_ERR_NETLAB_IP_FAILED } from './errors.js';

export interface IpOptions {
  /** Run inside this named namespace (`ip -n <ns>`). */
  readonly ns?: string;
  readonly timeoutMs?: number;
}

export interface BatchOptions extends IpOptions {
  /** Go on after a failing line (`ip -force`); the result then reports the failure without throwing. */
  readonly force?: boolean;
  /** Hold this lock file (flock(1)) while the batch runs. */
  readonly lockFile?: string;
  /** Aborting kills the batch. */
  readonly signal?: AbortSignal;
}

const IP_TIMEOUT_MS = 30_000; // 30 s for one ip invocation

function nsArgs(ns: string | undefined): string[] {
  return ns === undefined ? [] : ['-n', ns];
}

function commandText(args: readonly string[]): string {
  return ['ip', ...args].join(' ');
}

function stderrText(stderr: string): string {
  const text = stderr.split('\n').filter((l) => l.trim() !== '' && !/^Command failed /.test(l)).join('; ');
  return text === '' ? '(no output on stderr)' : text;
}

/** Runs `ip [-n ns] args…` and returns stdout; throws NA_ERR_NETLAB_IP_FAILED on a non-zero exit. */
export async function ip(args: readonly string[], opts: IpOptions = {}): Promise<string> {
  const full = [...nsArgs(opts.ns), ...args];
  const r = await runCommand('ip', full, { timeoutMs: opts.timeoutMs ?? IP_TIMEOUT_MS });
  if (r.code !== 0) {
    throw NA_ERR_NETLAB_IP_FAILED.with({ details: { args: full, stderr: r.stderr } }, commandText(full), stderrText(r.stderr));
  }
  return r.stdout;
}

/** Runs `ip -j [-n ns] args…` and parses the JSON it prints. */
export async function ipJson<T = unknown>(args: readonly string[], opts: IpOptions = {}): Promise<T> {
  const out = await ip(['-j', ...args], opts);
  return (out.trim() === '' ? [] : JSON.parse(out)) as T;
}

/** The line of a batch that `ip` reports as failed (`Command failed -:3`), 0-based. */
export function failedBatchLine(stderr: string, lines: readonly string[]): { index: number; text: string } | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  if (m?.[1] === undefined) return undefined;
  const index = Number(m[1]) - 1;
  return { index, text: lines[index] ?? '?' };
}

let flockPath: string | null | undefined;

function findFlock(): string | null {
  if (flockPath !== undefined) return flockPath;
  flockPath = null;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir, 'flock'), constants.X_OK);
      flockPath = join(dir, 'flock');
      break;
    } catch {
      // not in this folder
    }
  }
  return flockPath;
}

function batchCommand(opts: BatchOptions): { cmd: string; args: string[] } {
  const ipArgs = [...(opts.force === true ? ['-force'] : []), ...nsArgs(opts.ns), '-batch', '-'];
  const flock = opts.lockFile === undefined ? null : findFlock();
  if (flock === null || opts.lockFile === undefined) return { cmd: 'ip', args: ipArgs };
  return { cmd: flock, args: [opts.lockFile, 'ip', ...ipArgs] };
}

function batchError(r: RunResult, lines: readonly string[], opts: BatchOptions): Error {
  const args = [...nsArgs(opts.ns), '-batch', '-'];
  const failed = failedBatchLine(r.stderr, lines);
  const where = failed === undefined ? '' : `line ${failed.index + 1} ${JSON.stringify(failed.text)}: `;
  const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? IP_TIMEOUT_MS} ms` : stderrText(r.stderr);
  return NA_ERR_NETLAB_IP_FAILED.with(
    { details: { args, line: failed?.index, stderr: r.stderr } },
    commandText(args),
    `${where}${why}`,
  );
}

/**
 * Runs the lines through one `ip -batch -`. Without `force` the first failing line stops the batch
 * and the promise rejects naming it; with `force` every line runs and the result is returned.
 */
export async function ipBatch(lines: readonly string[], opts: BatchOptions = {}): Promise<RunResult> {
  if (lines.length === 0) return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 0 };
  const { cmd, args } = batchCommand(opts);
  const r = await runCommand(cmd, args, { input: `${lines.join('\n')}\n`, timeoutMs: opts.timeoutMs ?? IP_TIMEOUT_MS, signal: opts.signal });
  if (r.code !== 0 && opts.force !== true) throw batchError(r, lines, opts);
  return r;
}

/** The same, blocking and never throwing; for teardown in signal and exit handlers. */
export function ipBatchSync(lines: readonly string[], opts: BatchOptions = {}): RunResult {
  if (lines.length === 0) return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 0 };
  const { cmd, args } = batchCommand(opts);
  return runCommandSync(cmd, args, { input: `${lines.join('\n')}\n`, timeoutMs: opts.timeoutMs ?? IP_TIMEOUT_MS });
}
