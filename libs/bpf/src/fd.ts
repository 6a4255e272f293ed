/**
 * A file descriptor this package opened and must close exactly once (pinned objects, created
 * maps, stats). Descriptors that belong to a libbpf object are closed by bpf_object__close.
 */
import { readlinkSync } from 'node:fs';
import { ERRNO, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_STATE, errnoDetails, syscallError } from './errors.js';
import { native } from './native.js';

export class OwnedFd {
  #fd: number;
  readonly what: string;

  constructor(fd: number, what: string) {
    this.#fd = fd;
    this.what = what;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The descriptor; NA_ERR_BPF_STATE once closed. */
  get fd(): number {
    if (this.#fd < 0) throw NA_ERR_BPF_STATE(this.what, 'use it', 'closed');
    return this.#fd;
  }

  /** Closes the descriptor; later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    native().close(fd);
  }
}

export type BpfFdKind = 'prog' | 'map' | 'link' | 'btf' | 'other';

/**
 * What kind of BPF object a descriptor refers to, from its /proc link (`anon_inode:bpf-prog`,
 * `anon_inode:bpf-map`, …). bpf_obj_get_info_by_fd cannot tell: it answers for any kind.
 */
export function bpfFdKind(fd: number): BpfFdKind {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return 'other';
  }
  const m = /^anon_inode:bpf[-_](prog|map|link|btf)$/.exec(target);
  return (m?.[1] as BpfFdKind | undefined) ?? 'other';
}

/** bpf_obj_get with typed errors (shared by pinned maps and programs). */
export function objGet(path: string): number {
  const fd = native().bpf_obj_get(path);
  if (fd >= 0) return fd;
  if (normalizeErrno(fd) === ERRNO.ENOENT) {
    throw NA_ERR_BPF_NOT_FOUND.with({ details: errnoDetails('bpf_obj_get', fd, { path }) }, `pinned object ${path}`);
  }
  throw syscallError(`bpf_obj_get(${path})`, fd, { path });
}
