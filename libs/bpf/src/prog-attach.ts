/**
 * BPF_PROG_ATTACH / BPF_PROG_DETACH / BPF_PROG_QUERY: attachments that belong to a target object
 * rather than to a descriptor of their own.
 *
 * - sk_skb (stream parser / verdict) and sk_msg programs on a sockmap or sockhash: the program
 *   stays attached as long as the map lives (pin the map to keep it). The kernel silently
 *   replaces a program of the same attach type, so `attachToSockmap` asks first and refuses with
 *   NA_ERR_BPF_HOOK_BUSY unless `replace` is set.
 * - cgroup programs the classic way (BPF_F_ALLOW_MULTI by default): they stay attached until
 *   detached or the cgroup is removed. bpf-link.ts has the bpf_link way.
 */
import koffi from 'koffi';
import { ATTACH_FLAGS, attachTypeNumber, checkProgramFits } from './attach-type.js';
import type { AttachTypeName, CgroupAttachType, SockmapAttachType } from './attach-type.js';
import { resolveCgroupPath, withCgroupFd } from './cgroup.js';
import { ERRNO, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID, errnoDetails, syscallError } from './errors.js';
import { BPF_MAP_TYPE, mapInfoByFd } from './map.js';
import { BpfProgAttachOpts, BpfProgQueryOpts, native } from './native.js';
import { programInfoByFd } from './program.js';

export interface AttachedPrograms {
  /** Ids of the programs attached, in the kernel's order. */
  readonly programIds: number[];
  /** BPF_F_ALLOW_* flags of the attachment (cgroups). */
  readonly attachFlags: number;
}

/** Room for program ids in one query; the kernel answers ENOSPC with the real count beyond it. */
const QUERY_ROOM = 64;

/** BPF_PROG_QUERY of attach type `type` on `targetFd` (a cgroup or map descriptor). */
export function queryAttached(targetFd: number, type: AttachTypeName, what: string): AttachedPrograms {
  const n = native();
  let room = QUERY_ROOM;
  for (;;) {
    const ids = n.alloc(room * 4);
    try {
      const o = { sz: QUERY_OPTS_SIZE, query_flags: 0, attach_flags: 0, prog_ids: ids, prog_cnt: room, prog_attach_flags: null };
      const err = n.bpf_prog_query_opts(targetFd, attachTypeNumber(type), o);
      if (err < 0) {
        if (normalizeErrno(err) === ERRNO.ENOSPC && o.prog_cnt > room) {
          room = o.prog_cnt;
          continue;
        }
        throw syscallError(`bpf_prog_query(${what}, ${type})`, err, { type });
      }
      const view = Buffer.from(n.view(ids, o.prog_cnt * 4));
      const programIds = Array.from({ length: o.prog_cnt }, (_, i) => view.readUInt32LE(i * 4));
      return { programIds, attachFlags: o.attach_flags };
    } finally {
      n.free(ids);
    }
  }
}

function checkFits(prog: { readonly fd: number }, type: AttachTypeName): { id: number; name: string } {
  const info = programInfoByFd(prog.fd, 'program');
  checkProgramFits(type, info.type, info.name);
  return info;
}

function attach(progFd: number, targetFd: number, type: AttachTypeName, flags: number, replaceFd: number): number {
  return native().bpf_prog_attach_opts(progFd, targetFd, attachTypeNumber(type), { sz: ATTACH_OPTS_SIZE, flags, replace_prog_fd: replaceFd });
}

function checkSockmap(map: { readonly fd: number; readonly name: string }): void {
  const info = mapInfoByFd(map.fd, map.name);
  if (info.type !== BPF_MAP_TYPE.sockmap && info.type !== BPF_MAP_TYPE.sockhash) {
    throw NA_ERR_BPF_INVALID.with({ details: { map: map.name, mapType: info.typeName } }, `map ${map.name}: sk_skb and sk_msg programs attach to a sockmap or sockhash, this is a ${info.typeName}`);
  }
}

/** The programs attached to a sockmap / sockhash as `type`. */
export function querySockmap(map: { readonly fd: number; readonly name: string }, type: SockmapAttachType): number[] {
  return queryAttached(map.fd, type, `map ${map.name}`).programIds;
}

/**
 * Attaches an sk_skb or sk_msg program to a sockmap / sockhash. NA_ERR_BPF_HOOK_BUSY when another
 * program is attached there as `type`, unless `replace` is set (the swap is one pointer exchange
 * in the kernel). Attaching the program that is there already is a no-op.
 */
export function attachToSockmap(map: { readonly fd: number; readonly name: string }, prog: { readonly fd: number }, type: SockmapAttachType, opts: { replace?: boolean } = {}): void {
  const info = checkFits(prog, type);
  checkSockmap(map);
  const current = querySockmap(map, type)[0] ?? 0;
  if (current === info.id) return;
  if (current !== 0 && !opts.replace) {
    throw NA_ERR_BPF_HOOK_BUSY.with({ details: { map: map.name, type, attachedProgramId: current } }, `${type} of map ${map.name}`, current);
  }
  const err = attach(prog.fd, map.fd, type, 0, 0);
  if (err < 0) throw syscallError(`bpf_prog_attach(${info.name}, map ${map.name}, ${type})`, err, { map: map.name, type });
}

/** Detaches `prog` from a sockmap / sockhash; false when it was not attached there. */
export function detachFromSockmap(map: { readonly fd: number; readonly name: string }, prog: { readonly fd: number }, type: SockmapAttachType): boolean {
  const err = native().bpf_prog_detach2(prog.fd, map.fd, attachTypeNumber(type));
  if (err >= 0) return true;
  if (normalizeErrno(err) === ERRNO.ENOENT) return false;
  throw syscallError(`bpf_prog_detach(map ${map.name}, ${type})`, err, { map: map.name, type });
}

export type CgroupAttachMode = 'multi' | 'override' | 'exclusive';

/**
 * Attaches a cgroup program with BPF_PROG_ATTACH: `multi` (default: programs of several owners
 * run in attach order), `override` or `exclusive`. With `replace`, that program (attached in
 * multi mode) is swapped for `prog` in place.
 */
export function attachCgroup(
  cgroup: string,
  prog: { readonly fd: number },
  type: CgroupAttachType,
  opts: { mode?: CgroupAttachMode; replace?: { readonly fd: number } } = {},
): void {
  const info = checkFits(prog, type);
  const path = resolveCgroupPath(cgroup);
  const mode = opts.mode ?? 'multi';
  let flags = mode === 'multi' ? ATTACH_FLAGS.ALLOW_MULTI : mode === 'override' ? ATTACH_FLAGS.ALLOW_OVERRIDE : 0;
  if (opts.replace) {
    if (mode !== 'multi') throw NA_ERR_BPF_INVALID('replace: only in multi mode');
    flags |= ATTACH_FLAGS.REPLACE;
  }
  withCgroupFd(path, (fd) => {
    const err = attach(prog.fd, fd, type, flags, opts.replace?.fd ?? 0);
    if (err >= 0) return;
    const errno = normalizeErrno(err);
    if (errno === ERRNO.EPERM && mode !== 'multi') {
      const current = queryAttached(fd, type, `cgroup ${path}`).programIds[0] ?? 0;
      throw NA_ERR_BPF_HOOK_BUSY.with({ details: errnoDetails('bpf_prog_attach', errno, { cgroup: path, type, attachedProgramId: current }) }, `${type} of cgroup ${path}`, current);
    }
    throw syscallError(`bpf_prog_attach(${info.name}, cgroup ${path}, ${type})`, errno, { cgroup: path, type });
  });
}

/** Detaches `prog` from a cgroup (BPF_PROG_DETACH); false when it was not attached there. */
export function detachCgroup(cgroup: string, prog: { readonly fd: number }, type: CgroupAttachType): boolean {
  const path = resolveCgroupPath(cgroup);
  return withCgroupFd(path, (fd) => {
    const err = native().bpf_prog_detach2(prog.fd, fd, attachTypeNumber(type));
    if (err >= 0) return true;
    if (normalizeErrno(err) === ERRNO.ENOENT) return false;
    throw syscallError(`bpf_prog_detach(cgroup ${path}, ${type})`, err, { cgroup: path, type });
  });
}

/** The programs attached to a cgroup as `type` (both ways: BPF_PROG_ATTACH and bpf_link). */
export function queryCgroup(cgroup: string, type: CgroupAttachType): AttachedPrograms {
  const path = resolveCgroupPath(cgroup);
  return withCgroupFd(path, (fd) => queryAttached(fd, type, `cgroup ${path}`));
}

const ATTACH_OPTS_SIZE = koffi.sizeof(BpfProgAttachOpts);
const QUERY_OPTS_SIZE = koffi.sizeof(BpfProgQueryOpts);
