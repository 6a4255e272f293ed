/**
 * cgroup v2 for cgroup programs (sock_ops, cgroup_skb, connect4/6): where the unified hierarchy
 * is mounted (`/sys/fs/cgroup` on a pure v2 host, `/sys/fs/cgroup/unified` on a hybrid one), a
 * cgroup path resolved and checked against it, its id (the cgroup directory's inode number, which
 * is what bpf_link_info and bpftool report) and a descriptor of its directory for the syscalls.
 */
import { closeSync, constants, openSync, readFileSync, readdirSync, realpathSync, rmdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND } from './errors.js';

/** Mount points of cgroup2 file systems, from /proc/self/mounts (or `mounts` text), in order. */
export function cgroup2Mounts(mounts?: string): string[] {
  const text = mounts ?? readFileSync('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'cgroup2' && f[1] !== undefined)
    .map((f) => f[1]!.replace(/\\040/g, ' '));
}

/** The first cgroup2 mount; NA_ERR_BPF_NOT_FOUND when there is none. */
export function cgroup2Root(mounts?: string): string {
  const first = cgroup2Mounts(mounts)[0];
  if (first === undefined) throw NA_ERR_BPF_NOT_FOUND('a cgroup2 (unified hierarchy) mount in /proc/self/mounts');
  return first;
}

/**
 * Removes the empty cgroups whose names start with `prefix` directly under `root` (the first
 * cgroup2 mount by default): what earlier runs of a test or benchmark left behind. A cgroup that
 * still has processes, or is gone or busy meanwhile, is left alone. Returns the names removed.
 */
export function removeStaleCgroups(prefix: string, root: string = cgroup2Root()): string[] {
  if (prefix === '' || prefix.includes('/')) throw NA_ERR_BPF_INVALID(`cgroup: expected a non-empty name prefix without '/', got ${JSON.stringify(prefix)}`);
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith(prefix)) continue;
    try {
      if (readFileSync(join(root, name, 'cgroup.procs'), 'utf8').trim() !== '') continue;
      rmdirSync(join(root, name));
      removed.push(name);
    } catch {
      // gone already, busy, or not a cgroup: left alone
    }
  }
  return removed;
}

/**
 * A cgroup path made absolute and checked: an absolute path must lie inside a cgroup2 mount; a
 * relative one is taken under the first mount (`netaccel/app` → `/sys/fs/cgroup/unified/netaccel/app`).
 * Symlinks are resolved first; the directory must exist.
 */
export function resolveCgroupPath(path: string, mounts?: string): string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw NA_ERR_BPF_INVALID(`cgroup: expected a cgroup path, got ${JSON.stringify(path)}`);
  }
  const roots = cgroup2Mounts(mounts);
  if (roots.length === 0) throw NA_ERR_BPF_NOT_FOUND('a cgroup2 (unified hierarchy) mount in /proc/self/mounts');
  const wanted = isAbsolute(path) ? resolve(path) : resolve(roots[0]!, path);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw NA_ERR_BPF_NOT_FOUND.with({ details: { path, resolved: wanted } }, `cgroup ${wanted}`);
  }
  const inside = roots.some((r) => {
    const rel = relative(r, real);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
  if (!inside) {
    throw NA_ERR_BPF_INVALID.with({ details: { path, resolved: real, cgroup2: roots } }, `cgroup: ${real} is not inside a cgroup2 mount (${roots.join(', ')})`);
  }
  if (!statSync(real).isDirectory()) throw NA_ERR_BPF_INVALID(`cgroup: ${real} is not a directory`);
  return real;
}

/** The cgroup id of a cgroup2 directory: its inode number (what bpf_link_info.cgroup_id holds). */
export function cgroupId(path: string): bigint {
  try {
    return statSync(path, { bigint: true }).ino;
  } catch {
    throw NA_ERR_BPF_NOT_FOUND(`cgroup ${path}`);
  }
}

/** Runs `fn` with a read-only descriptor of the cgroup directory, closed afterwards. */
export function withCgroupFd<T>(path: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    throw NA_ERR_BPF_NOT_FOUND(`cgroup ${path}`);
  }
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

