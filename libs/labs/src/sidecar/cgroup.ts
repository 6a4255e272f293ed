/**
 * The sidecar scenario's cgroup v2 directory (`scl-<run>` under the cgroup2 mount): the workloads
 * and the daemon enter it before they exec, so the kernel path's sockops (attached to it by the
 * daemon) sees their sockets. Apart from processes.ts so that what needs no libbpf binding (the
 * configuration, its unit test) does not load @netaccel/bpf.
 */
import { mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root } from '@netaccel/bpf';
import { SIDECAR_LAB_PREFIX } from './topology.js';

/** The run's cgroup v2 directory. */
export const runCgroup = (runId: string): string => join(cgroup2Root(), `${SIDECAR_LAB_PREFIX}-${runId}`);

/** Removes the empty `scl-*` cgroups earlier runs left (a busy one is left alone), then makes this run's. */
export function makeRunCgroup(runId: string): string {
  removeStaleCgroups();
  const path = runCgroup(runId);
  mkdirSync(path, { recursive: true });
  return path;
}

export function removeStaleCgroups(): void {
  const root = cgroup2Root();
  for (const name of readdirSync(root)) {
    if (!name.startsWith(`${SIDECAR_LAB_PREFIX}-`)) continue;
    try {
      if (readFileSync(join(root, name, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(join(root, name));
    } catch {
      // gone already, or busy
    }
  }
}

/** `argv`, run after its shell entered `cgroup` (the pid stays: the shell execs it). Spawn it with sysfs 'host'. */
export const inCgroup = (cgroup: string, argv: readonly string[]): string[] => ['sh', '-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', join(cgroup, 'cgroup.procs'), ...argv];

