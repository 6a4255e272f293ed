/**
 * Named network namespaces as the kernel and iproute2 keep them: the files in /run/netns, the
 * processes inside one (found by comparing /proc/<pid>/ns/net with the namespace file, the way
 * `ip netns pids` does, but for many namespaces in one scan), and the sweep that ends those
 * processes (SIGTERM, grace, SIGKILL) and deletes the namespaces. Async for normal teardown,
 * sync for signal and exit handlers.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ipBatch, ipBatchSync } from './ip.js';
import { sleep, sleepSync } from './wait.js';

export const NETNS_DIR = '/run/netns';

export interface SweepOptions {
  /** SIGTERM → SIGKILL grace. */
  readonly graceMs: number;
  readonly dir?: string;
}

export interface SweepResult {
  /** Processes that were found in the namespaces and signalled. */
  readonly pids: readonly number[];
  /** Namespaces that still exist afterwards (should be none). */
  readonly remaining: readonly string[];
}

const POLL_MS = 10;
const KILL_WAIT_MS = 1_000; // 1 s for SIGKILLed processes to disappear

/** Names of all named namespaces. */
export function listNetns(dir = NETNS_DIR): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function nsId(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** Identity (device:inode) of a named namespace, or undefined when it does not exist. */
export function netnsId(name: string, dir = NETNS_DIR): string | undefined {
  return nsId(join(dir, name));
}

/** Identity of the network namespace process `pid` is in. */
export function pidNetnsId(pid: number): string | undefined {
  return nsId(`/proc/${pid}/ns/net`);
}

/** The processes inside each of the named namespaces, from one scan of /proc. */
export function pidsInNetns(names: readonly string[], dir = NETNS_DIR): Map<string, number[]> {
  const byId = new Map<string, string>();
  const result = new Map<string, number[]>();
  for (const name of names) {
    const id = netnsId(name, dir);
    result.set(name, []);
    if (id !== undefined) byId.set(id, name);
  }
  if (byId.size === 0) return result;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const name = byId.get(pidNetnsId(pid) ?? '');
    if (name !== undefined) result.get(name)!.push(pid);
  }
  return result;
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

async function waitGone(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = performance.now() + ms;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && performance.now() < deadline) {
    await sleep(POLL_MS);
    alive = alive.filter(isRunning);
  }
  return alive;
}

function waitGoneSync(pids: readonly number[], ms: number): number[] {
  const deadline = performance.now() + ms;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && performance.now() < deadline) {
    sleepSync(POLL_MS);
    alive = alive.filter(isRunning);
  }
  return alive;
}

function deleteLines(names: readonly string[], dir: string): string[] {
  const present = new Set(listNetns(dir));
  return names.filter((n) => present.has(n)).map((n) => `netns del ${n}`);
}

/** Ends every process inside the namespaces (TERM, grace, KILL) and deletes the namespaces. */
export async function sweepNetns(names: readonly string[], opts: SweepOptions): Promise<SweepResult> {
  const dir = opts.dir ?? NETNS_DIR;
  const pids = [...pidsInNetns(names, dir).values()].flat();
  if (pids.length > 0) {
    signalAll(pids, 'SIGTERM');
    const survivors = await waitGone(pids, opts.graceMs);
    signalAll(survivors, 'SIGKILL');
    await waitGone(survivors, KILL_WAIT_MS);
  }
  await ipBatch(deleteLines(names, dir), { force: true });
  const left = new Set(listNetns(dir));
  return { pids, remaining: names.filter((n) => left.has(n)) };
}

/** The same, blocking; for signal and exit handlers. */
export function sweepNetnsSync(names: readonly string[], opts: SweepOptions): SweepResult {
  const dir = opts.dir ?? NETNS_DIR;
  const pids = [...pidsInNetns(names, dir).values()].flat();
  if (pids.length > 0) {
    signalAll(pids, 'SIGTERM');
    const survivors = waitGoneSync(pids, opts.graceMs);
    signalAll(survivors, 'SIGKILL');
    waitGoneSync(survivors, KILL_WAIT_MS);
  }
  ipBatchSync(deleteLines(names, dir), { force: true });
  const left = new Set(listNetns(dir));
  return { pids, remaining: names.filter((n) => left.has(n)) };
}


/**
 * How a command enters a namespace. 'namespace' (`ip netns exec`) also mounts a /sys of the
 * namespace, so /sys/class/net shows its interfaces — but that hides the host's /sys/fs/bpf.
 * 'host' (`nsenter --net`) changes only the network namespace and keeps the host's /sys,
 * /sys/fs/bpf included: for daemons that pin BPF objects.
 */
export type SysfsView = 'namespace' | 'host';

/** The command line that runs `argv` inside the namespace `ns` (the same pid runs `argv`). */
export function inNetns(ns: string, argv: readonly string[], sysfs: SysfsView = 'namespace', dir = NETNS_DIR): { cmd: string; args: string[] } {
  return sysfs === 'host'
    ? { cmd: 'nsenter', args: [`--net=${join(dir, ns)}`, '--', ...argv] }
    : { cmd: 'ip', args: ['netns', 'exec', ns, ...argv] };
}
