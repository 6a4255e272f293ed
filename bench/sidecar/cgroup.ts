/**
 * The cgroups of the sidecar benchmark's lanes: every subject (direct, NGINX, user-space proxy,
 * kernel path) of every endpoint set gets one, `nso-bench-<pid>-<lane>`, holding its load client,
 * its proxy and its own echo upstream, so that all subjects run in the same arrangement; the
 * kernel path needs it (the daemon's sockops is attached to its lane's cgroup: the client's and
 * upstream's sockets must be in it), the others get an equivalent one with nothing attached.
 * Processes enter a lane's cgroup by being started while this process is in it (`within`);
 * the grpc-js load client runs in this process, so it enters the lane for the point. Earlier
 * runs' empty `nso-bench-*` cgroups are removed. Without root there are no cgroups: `within`
 * just runs.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root, removeStaleCgroups } from '@netaccel/bpf';

const PREFIX = 'nso-bench-';

export interface BenchCgroups {
  /** The lane's cgroup directory (made on first use); undefined without root. */
  path(lane: string): string | undefined;
  /** Runs `fn` with this process in the lane's cgroup (children started meanwhile stay there), then moves back. */
  within<T>(lane: string, fn: () => Promise<T>): Promise<T>;
  /** Removes the lanes' cgroups (those still holding an exiting child are left to the next run). */
  remove(): void;
}

export function benchCgroups(): BenchCgroups {
  if (process.getuid?.() !== 0) {
    return { path: () => undefined, within: (_lane, fn) => fn(), remove: () => {} };
  }
  const root = cgroup2Root();
  removeStaleCgroups(PREFIX, root);
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  const home = join(root, (line ?? '0::/').slice(3));
  const made = new Map<string, string>();
  const path = (lane: string): string => {
    let p = made.get(lane);
    if (p === undefined) {
      p = join(root, `${PREFIX}${process.pid}-${lane}`);
      mkdirSync(p, { recursive: true });
      made.set(lane, p);
    }
    return p;
  };
  return {
    path,
    within: async (lane, fn) => {
      writeFileSync(join(path(lane), 'cgroup.procs'), String(process.pid));
      try {
        return await fn();
      } finally {
        writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
      }
    },
    remove: () => {
      for (const p of made.values()) {
        try {
          rmdirSync(p);
        } catch {
          // a child still exiting: the next run removes it
        }
      }
    },
  };
}
