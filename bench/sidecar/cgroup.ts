/**
 * The cgroup of the kernel path's workloads in the sidecar benchmark: the load client (this
 * process) and the kernel subject's echo upstream (started from it once inside, so that its
 * sockets are too) must be in the cgroup the daemon's sockops is attached to. Earlier runs'
 * empty `nso-bench-*` cgroups are removed; `leave()` moves this process back and removes it.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root, removeStaleCgroups } from '@netaccel/bpf';

const PREFIX = 'nso-bench-';

export interface BenchCgroup {
  readonly path: string;
  leave(): void;
}

export function enterCgroup(): BenchCgroup {
  const root = cgroup2Root();
  removeStaleCgroups(PREFIX, root);
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  const home = join(root, (line ?? '0::/').slice(3));
  const path = join(root, `${PREFIX}${process.pid}`);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'cgroup.procs'), String(process.pid));
  return {
    path,
    leave: () => {
      writeFileSync(join(home, 'cgroup.procs'), String(process.pid));
      try {
        rmdirSync(path);
      } catch {
        // a child still exiting: the next run removes it
      }
    },
  };
}
