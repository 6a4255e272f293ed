/**
 * bpffs, where pinned programs and maps live. The kernel does not always mount it at
 * /sys/fs/bpf; `ensureBpffs` mounts it when it is not there (idempotent; needs root).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { NA_ERR_BPF_PERM, NA_ERR_BPF_SYSCALL } from './errors.js';

export const BPFFS_DEFAULT = '/sys/fs/bpf';

/** True when a bpf filesystem is mounted exactly at `path` (per /proc/self/mounts). */
export function isBpffsMounted(path: string = BPFFS_DEFAULT, mounts?: string): boolean {
  const text = mounts ?? readFileSync('/proc/self/mounts', 'utf8');
  return text.split('\n').some((line) => {
    const [, mountPoint, fsType] = line.split(' ');
    return mountPoint === path && fsType === 'bpf';
  });
}

/** Mounts bpffs at `path` unless it is mounted there already. */
export function ensureBpffs(path: string = BPFFS_DEFAULT): void {
  if (isBpffsMounted(path)) return;
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    if (process.getuid?.() !== 0) throw NA_ERR_BPF_PERM.with({ cause: err, details: { path, stderr } }, `mount bpffs at ${path}`, stderr || 'not root');
    throw NA_ERR_BPF_SYSCALL.with({ cause: err, details: { path, stderr } }, `mount -t bpf bpf ${path}`, stderr || String(err));
  }
}
