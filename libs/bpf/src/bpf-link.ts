/**
 * bpf_link: an attachment that is a kernel object with its own descriptor (BPF_LINK_CREATE).
 * The program stays attached while anything holds the link: a descriptor, or a pin on bpffs. A
 * pinned link therefore survives the process that made it — even `kill -9` — and is the cleanest
 * way for a loader to guarantee that a crash never detaches a program. Links of XDP (BPF_XDP on an
 * interface index) and of cgroups (with the cgroup directory's descriptor) are made here;
 * `update()` swaps the program atomically (BPF_LINK_UPDATE, optionally only if the expected one
 * is attached) and `detach()` cuts the attachment while the link object lives on (defunct) until
 * its last holder lets go.
 *
 * A link cannot replace a program attached another way: an XDP program attached over netlink
 * makes BPF_LINK_CREATE fail with NA_ERR_BPF_BUSY (and the other way round).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import koffi from 'koffi';
import { ATTACH_FLAGS, LINK_TYPES, attachTypeNumber, checkProgramFits } from './attach-type.js';
import type { AttachTypeName, CgroupAttachType } from './attach-type.js';
import { resolveCgroupPath, withCgroupFd } from './cgroup.js';
import { ERRNO, describeErrno, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_BUSY, NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_NO_IFACE, errnoDetails, syscallError } from './errors.js';
import { OwnedFd, bpfFdKind, objGet } from './fd.js';
import { XDP_FLAGS, queryXdp, resolveIfindex } from './link.js';
import type { XdpMode } from './link.js';
import { withLibbpfLog } from './log.js';
import type { Logger } from '@netaccel/errors';
import { BpfLinkCreateOpts, BpfLinkUpdateOpts, native } from './native.js';
import { programInfoByFd } from './program.js';

export interface LinkInfo {
  readonly id: number;
  readonly type: number;
  /** `xdp`, `cgroup`, `tcx`, … (enum bpf_link_type). */
  readonly typeName: string;
  /** The attached program's id; 0 when the link has been detached. */
  readonly programId: number;
  /** XDP and tcx links: the interface; 0 once it is gone or the link was detached (defunct). */
  readonly ifindex: number | undefined;
  /** cgroup links: the cgroup's id (its directory's inode number); 0 once detached. */
  readonly cgroupId: bigint | undefined;
  /** cgroup, tcx, netns and sockmap links: enum bpf_attach_type. */
  readonly attachType: number | undefined;
  /** sockmap links: the map's id. */
  readonly mapId: number | undefined;
}

/**
 * Bytes of struct bpf_link_info we hand the kernel, zeroed: 48 in Linux 6.1's uapi, more in later
 * kernels; the kernel fills what it knows and accepts a larger buffer whose tail is zero.
 */
const LINK_INFO_SIZE = 128;

/** Decodes struct bpf_link_info: type 0, id 4, prog_id 8, the per-type union from offset 16. */
export function decodeLinkInfo(buf: Uint8Array): Omit<LinkInfo, 'typeName'> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = v.getUint32(0, true);
  const name = LINK_TYPES[type];
  const base = { type, id: v.getUint32(4, true), programId: v.getUint32(8, true) };
  const none = { ifindex: undefined, cgroupId: undefined, attachType: undefined, mapId: undefined };
  switch (name) {
    case 'xdp':
      return { ...base, ...none, ifindex: v.getUint32(16, true) };
    case 'cgroup':
      return { ...base, ...none, cgroupId: v.getBigUint64(16, true), attachType: v.getUint32(24, true) };
    case 'tcx': case 'netkit':
      return { ...base, ...none, ifindex: v.getUint32(16, true), attachType: v.getUint32(20, true) };
    case 'netns':
      return { ...base, ...none, attachType: v.getUint32(20, true) };
    case 'sockmap':
      return { ...base, ...none, mapId: v.getUint32(16, true), attachType: v.getUint32(20, true) };
    default:
      return { ...base, ...none };
  }
}

/** Kernel info of the link behind `fd`. */
export function linkInfoByFd(fd: number, what: string): LinkInfo {
  const buf = Buffer.alloc(LINK_INFO_SIZE);
  const err = native().bpf_obj_get_info_by_fd(fd, buf, [LINK_INFO_SIZE]);
  if (err < 0) throw syscallError(`bpf_obj_get_info_by_fd(${what})`, err);
  const info = decodeLinkInfo(buf);
  return { ...info, typeName: LINK_TYPES[info.type] ?? `link type ${info.type}` };
}

export class BpfLink {
  readonly #owned: OwnedFd;
  readonly what: string;

  /** Internal: the attach functions and the static constructors build links. */
  constructor(fd: number, what: string) {
    this.#owned = new OwnedFd(fd, what);
    this.what = what;
  }

  /** Opens a pinned link (bpf_obj_get); close it when done — the pin keeps the link. */
  static openPinned(path: string): BpfLink {
    const fd = objGet(path);
    const kind = bpfFdKind(fd);
    if (kind !== 'link') {
      native().close(fd);
      throw NA_ERR_BPF_INVALID.with({ details: { path, kind } }, `${path}: the pinned object is a ${kind}, not a link`);
    }
    return new BpfLink(fd, `pinned link ${path}`);
  }

  /** Opens a link by kernel id (bpf_link_get_fd_by_id); NA_ERR_BPF_NOT_FOUND when there is none. */
  static fromId(id: number): BpfLink {
    const fd = native().bpf_link_get_fd_by_id(id);
    if (fd < 0) {
      if (normalizeErrno(fd) === ERRNO.ENOENT) throw NA_ERR_BPF_NOT_FOUND.with({ details: errnoDetails('bpf_link_get_fd_by_id', fd, { id }) }, `link id ${id}`);
      throw syscallError(`bpf_link_get_fd_by_id(${id})`, fd, { id });
    }
    return new BpfLink(fd, `link id ${id}`);
  }

  get fd(): number {
    return this.#owned.fd;
  }

  get closed(): boolean {
    return this.#owned.closed;
  }

  info(): LinkInfo {
    return linkInfoByFd(this.fd, this.what);
  }

  /** Pins the link at `path` on bpffs (parents created): from now on it outlives this process. */
  pin(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const err = native().bpf_obj_pin(this.fd, path);
    if (err < 0) throw syscallError(`bpf_obj_pin(${this.what}, ${path})`, err, { path });
  }

  /** Removes the pin at `path`; the program stays attached while a descriptor holds the link. */
  unpin(path: string): void {
    rmSync(path, { force: true });
  }

  /**
   * Attaches `prog` in place of the current program, atomically (BPF_LINK_UPDATE). With
   * `expected`, only if that program is the one attached now (else NA_ERR_BPF_HOOK_BUSY).
   */
  update(prog: { readonly fd: number }, opts: { expected?: { readonly fd: number } } = {}): void {
    const n = native();
    const err = n.bpf_link_update(this.fd, prog.fd, {
      sz: UPDATE_OPTS_SIZE,
      flags: opts.expected ? ATTACH_FLAGS.REPLACE : 0,
      old_prog_fd: opts.expected ? opts.expected.fd : 0,
    });
    if (err >= 0) return;
    const errno = normalizeErrno(err);
    if (errno === ERRNO.EPERM && opts.expected) {
      let current = 0;
      try {
        current = this.info().programId;
      } catch {
        // the mismatch is the error to report
      }
      throw NA_ERR_BPF_HOOK_BUSY.with({ details: errnoDetails('bpf_link_update', errno, { link: this.what }) }, this.what, current);
    }
    if (errno === ERRNO.ENOLINK) throw NA_ERR_BPF_NOT_FOUND.with({ details: errnoDetails('bpf_link_update', errno) }, `${this.what}: its hook (the link is defunct)`);
    throw syscallError(`bpf_link_update(${this.what})`, errno);
  }

  /**
   * Detaches the program (BPF_LINK_DETACH). The link object stays, defunct, until its pins and
   * descriptors are gone. A link that is defunct already is not an error.
   */
  detach(): void {
    const err = native().bpf_link_detach(this.fd);
    if (err >= 0 || normalizeErrno(err) === ERRNO.ENOLINK) return;
    throw syscallError(`bpf_link_detach(${this.what})`, err);
  }

  /** Closes this descriptor (idempotent); a pinned link stays attached. */
  close(): void {
    this.#owned.close();
  }
}

/** BPF_LINK_CREATE of `prog` on `targetFd` (an interface index for XDP, a cgroup's descriptor …). */
export function createLink(
  prog: { readonly fd: number },
  targetFd: number,
  type: AttachTypeName,
  opts: { flags?: number; what: string; logger?: Logger },
): BpfLink {
  const attachType = attachTypeNumber(type);
  const info = programInfoByFd(prog.fd, 'program');
  checkProgramFits(type, info.type, info.name);
  const n = native();
  const { value: fd, messages } = withLibbpfLog(opts.logger, () => n.bpf_link_create(prog.fd, targetFd, attachType, {
    sz: CREATE_OPTS_SIZE,
    flags: opts.flags ?? 0,
    iter_info: null,
    iter_info_len: 0,
    target_btf_id: 0,
    union_: [0n, 0n, 0n, 0n],
  }));
  if (fd < 0) {
    throw syscallError(`bpf_link_create(${info.name}, ${opts.what}, ${type})`, fd, { program: info.name, libbpf: messages.map((m) => m.text) });
  }
  return new BpfLink(fd, `${type} link of ${info.name} on ${opts.what}`);
}

/**
 * Attaches an XDP program to `iface` through a bpf_link (native or generic mode). Pin the link
 * to keep the program attached after this process: an unpinned link detaches when its last
 * descriptor closes. NA_ERR_BPF_BUSY when any XDP program is attached to the interface already.
 */
export function attachXdpLink(iface: string | number, prog: { readonly fd: number }, opts: { mode?: XdpMode; logger?: Logger } = {}): BpfLink {
  const ifindex = resolveIfindex(iface);
  const mode = opts.mode ?? 'native';
  if (mode !== 'native' && mode !== 'generic') throw NA_ERR_BPF_INVALID(`mode: expected native or generic for an XDP link, got ${JSON.stringify(mode)}`);
  const flags = mode === 'native' ? XDP_FLAGS.DRV_MODE : XDP_FLAGS.SKB_MODE;
  try {
    return createLink(prog, ifindex, 'xdp', { flags, what: `${String(iface)} (${mode})`, logger: opts.logger });
  } catch (err) {
    const errno = (err as { details?: { errno?: unknown } }).details?.errno;
    if (errno === ERRNO.EBUSY || errno === ERRNO.EEXIST) {
      let current = 0;
      try {
        current = queryXdp(ifindex).programId;
      } catch {
        // the BUSY error is the one to report
      }
      throw NA_ERR_BPF_BUSY.with({ cause: err, details: errnoDetails('bpf_link_create', errno, { ifindex, mode, attachedProgramId: current }) }, String(iface), current);
    }
    if (errno === ERRNO.ENODEV) throw NA_ERR_BPF_NO_IFACE.with({ cause: err }, String(iface));
    if (errno === ERRNO.EOPNOTSUPP || errno === ERRNO.ENOTSUPP) {
      throw NA_ERR_BPF_INVALID.with({ cause: err }, `bpf_link_create(${String(iface)}, ${mode}): ${describeErrno(errno)} (does the driver support this XDP mode?)`);
    }
    throw err;
  }
}

/**
 * Attaches a cgroup program (sock_ops, cgroup_skb, connect4/6 …) to the cgroup at `cgroup` through a
 * bpf_link (several links of one type coexist on a cgroup and run in order of attachment).
 */
export function attachCgroupLink(cgroup: string, prog: { readonly fd: number }, type: CgroupAttachType, opts: { logger?: Logger } = {}): BpfLink {
  const path = resolveCgroupPath(cgroup);
  return withCgroupFd(path, (fd) => createLink(prog, fd, type, { what: `cgroup ${path}`, logger: opts.logger }));
}

const CREATE_OPTS_SIZE = koffi.sizeof(BpfLinkCreateOpts);
const UPDATE_OPTS_SIZE = koffi.sizeof(BpfLinkUpdateOpts);
