/**
 * XDP attachment through libbpf's netlink calls (bpf_xdp_attach / bpf_xdp_detach /
 * bpf_xdp_query): native (driver) or generic (skb) mode, never silently replacing a program that
 * is there (XDP_FLAGS_UPDATE_IF_NOEXIST -> NA_ERR_BPF_BUSY), atomic replacement of a known
 * program (XDP_FLAGS_REPLACE with old_prog_fd), and detach that removes only our program.
 *
 * An attachment outlives the process (netlink XDP is not an fd-based link): that is what lets a
 * restarted loader adopt it. XdpAttachment holds no descriptor; detach() looks the program up by
 * id for the atomic compare-and-detach.
 */
import koffi from 'koffi';
import { ERRNO, describeErrno, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_BUSY, NA_ERR_BPF_INVALID, NA_ERR_BPF_NO_IFACE, errnoDetails, syscallError } from './errors.js';
import { withLibbpfLog } from './log.js';
import type { Logger } from '@netaccel/errors';
import { BpfXdpAttachOpts, BpfXdpQueryOpts, native } from './native.js';
import { programInfoByFd } from './program.js';

/** XDP_FLAGS_* of linux/if_link.h. */
export const XDP_FLAGS = Object.freeze({ UPDATE_IF_NOEXIST: 1, SKB_MODE: 2, DRV_MODE: 4, HW_MODE: 8, REPLACE: 16 } as const);

export type XdpMode = 'native' | 'generic' | 'offload';
const MODE_FLAGS: Readonly<Record<XdpMode, number>> = Object.freeze({
  native: XDP_FLAGS.DRV_MODE,
  generic: XDP_FLAGS.SKB_MODE,
  offload: XDP_FLAGS.HW_MODE,
});
/** XDP_ATTACHED_* of linux/if_link.h. */
const ATTACHED = ['none', 'native', 'generic', 'offload', 'multi'] as const;
export type XdpAttachedMode = (typeof ATTACHED)[number];

export interface XdpAttachOptions {
  /** native (driver, default), generic (skb) or offload (NIC). */
  mode?: XdpMode;
  /** Replace exactly this program (its fd) atomically; without it an attached program is an error. */
  replace?: { readonly fd: number };
  logger?: Logger;
}

export interface XdpQuery {
  readonly ifindex: number;
  readonly mode: XdpAttachedMode;
  /** The single attached program's id (0 when none or several). */
  readonly programId: number;
  readonly nativeProgramId: number;
  readonly genericProgramId: number;
  readonly offloadProgramId: number;
}

/** An interface index from a name or a number; NA_ERR_BPF_NO_IFACE when there is none. */
export function resolveIfindex(iface: string | number): number {
  if (typeof iface === 'number') {
    if (!Number.isInteger(iface) || iface < 1) throw NA_ERR_BPF_INVALID(`iface: expected an interface name or index >= 1, got ${iface}`);
    return iface;
  }
  if (typeof iface !== 'string' || iface === '' || iface.length > 15) {
    throw NA_ERR_BPF_INVALID(`iface: expected an interface name of 1..15 characters, got ${JSON.stringify(iface)}`);
  }
  const index = native().if_nametoindex(iface);
  if (index === 0) throw NA_ERR_BPF_NO_IFACE(iface);
  return index;
}

/**
 * An interface by name or index, both resolved: `{ ifindex, name }`. Given both, they must name the
 * same interface (NA_ERR_BPF_INVALID otherwise); NA_ERR_BPF_NO_IFACE when there is none.
 */
export function resolveIface(iface: { name?: string; ifindex?: number }): { ifindex: number; name: string } {
  const byName = iface.name !== undefined && iface.name !== '' ? resolveIfindex(iface.name) : undefined;
  if (iface.ifindex !== undefined && iface.ifindex !== 0) {
    const index = resolveIfindex(iface.ifindex);
    const name = native().if_indextoname(index);
    if (name === null) throw NA_ERR_BPF_NO_IFACE(`with index ${index}`);
    if (byName !== undefined && byName !== index) {
      throw NA_ERR_BPF_INVALID(`iface: name ${iface.name} is interface ${byName}, but ifindex ${index} is ${name}`);
    }
    return { ifindex: index, name };
  }
  if (byName === undefined) throw NA_ERR_BPF_INVALID('iface: expected an interface name or index');
  return { ifindex: byName, name: iface.name! };
}

function modeFlags(mode: XdpMode | undefined): number {
  const m = mode ?? 'native';
  const flags = MODE_FLAGS[m];
  if (flags === undefined) throw NA_ERR_BPF_INVALID(`mode: expected native, generic or offload, got ${JSON.stringify(m)}`);
  return flags;
}

/** What is attached to `iface` in each mode (bpf_xdp_query). */
export function queryXdp(iface: string | number): XdpQuery {
  const ifindex = resolveIfindex(iface);
  const opts = { sz: QUERY_OPTS_SIZE, prog_id: 0, drv_prog_id: 0, hw_prog_id: 0, skb_prog_id: 0, attach_mode: 0 };
  const err = native().bpf_xdp_query(ifindex, 0, opts);
  if (err < 0) throw ifaceError(`bpf_xdp_query(${String(iface)})`, iface, err);
  return {
    ifindex,
    mode: ATTACHED[opts.attach_mode] ?? 'multi',
    programId: opts.prog_id,
    nativeProgramId: opts.drv_prog_id,
    genericProgramId: opts.skb_prog_id,
    offloadProgramId: opts.hw_prog_id,
  };
}

/** The id of the program attached to `iface` in `mode` (0 when none): bpf_xdp_query_id. */
export function xdpProgramId(iface: string | number, mode: XdpMode = 'native'): number {
  const ifindex = resolveIfindex(iface);
  const id: [number] = [0];
  const err = native().bpf_xdp_query_id(ifindex, modeFlags(mode), id);
  if (err < 0) throw ifaceError(`bpf_xdp_query_id(${String(iface)})`, iface, err);
  return id[0];
}

export class XdpAttachment {
  readonly ifindex: number;
  readonly iface: string | number;
  readonly mode: XdpMode;
  readonly programId: number;
  #detached = false;

  /** Internal: attachXdp builds attachments. */
  constructor(iface: string | number, ifindex: number, mode: XdpMode, programId: number) {
    this.iface = iface;
    this.ifindex = ifindex;
    this.mode = mode;
    this.programId = programId;
  }

  get detached(): boolean {
    return this.#detached;
  }

  /**
   * Detaches our program if it is still the one attached (atomic: XDP_FLAGS_REPLACE with the
   * program as old_prog_fd). Returns false when something else is attached now or the interface
   * is gone. Idempotent.
   */
  detach(): boolean {
    if (this.#detached) return false;
    const n = native();
    const fd = n.bpf_prog_get_fd_by_id(this.programId);
    if (fd < 0) {
      this.#detached = true; // the program is gone, so it is attached nowhere
      return false;
    }
    try {
      const err = n.bpf_xdp_detach(this.ifindex, MODE_FLAGS[this.mode] | XDP_FLAGS.REPLACE, { sz: ATTACH_OPTS_SIZE, old_prog_fd: fd });
      this.#detached = true;
      if (err >= 0) return true;
      const errno = normalizeErrno(err);
      if (errno === ERRNO.EEXIST || errno === ERRNO.ENODEV || errno === ERRNO.ENOENT) return false;
      this.#detached = false;
      throw syscallError(`bpf_xdp_detach(${String(this.iface)})`, errno, { ifindex: this.ifindex, mode: this.mode });
    } finally {
      n.close(fd);
    }
  }
}

/**
 * Attaches `prog` to `iface`. Without `replace`, fails with NA_ERR_BPF_BUSY if any program is
 * attached in that mode (or the other mode: the kernel allows one of native and generic).
 */
export function attachXdp(iface: string | number, prog: { readonly fd: number }, opts: XdpAttachOptions = {}): XdpAttachment {
  const ifindex = resolveIfindex(iface);
  const mode = opts.mode ?? 'native';
  let flags = modeFlags(mode);
  const progFd = prog.fd;
  const programId = programInfoByFd(progFd, 'XDP program').id;
  let attachOpts = null;
  if (opts.replace) {
    flags |= XDP_FLAGS.REPLACE;
    attachOpts = { sz: ATTACH_OPTS_SIZE, old_prog_fd: opts.replace.fd };
  } else {
    flags |= XDP_FLAGS.UPDATE_IF_NOEXIST;
  }
  const n = native();
  const { value: err, messages } = withLibbpfLog(opts.logger, () => n.bpf_xdp_attach(ifindex, progFd, flags, attachOpts));
  if (err < 0) {
    const errno = normalizeErrno(err);
    const kernel = messages.map((m) => m.text);
    if (errno === ERRNO.EBUSY || errno === ERRNO.EEXIST) {
      let current = 0;
      try {
        current = queryXdp(ifindex).programId;
      } catch {
        // the BUSY error is the one to report
      }
      throw NA_ERR_BPF_BUSY.with(
        { details: errnoDetails('bpf_xdp_attach', errno, { ifindex, mode, attachedProgramId: current, replace: Boolean(opts.replace), libbpf: kernel }) },
        String(iface), current,
      );
    }
    throw ifaceError(`bpf_xdp_attach(${String(iface)}, ${mode})`, iface, errno, { ifindex, mode, libbpf: kernel });
  }
  return new XdpAttachment(iface, ifindex, mode, programId);
}

/** Detaches whatever is attached to `iface` in `mode` (or only `expected`, atomically). */
export function detachXdp(iface: string | number, opts: { mode?: XdpMode; expected?: { readonly fd: number } } = {}): void {
  const ifindex = resolveIfindex(iface);
  let flags = modeFlags(opts.mode);
  let detachOpts = null;
  if (opts.expected) {
    flags |= XDP_FLAGS.REPLACE;
    detachOpts = { sz: ATTACH_OPTS_SIZE, old_prog_fd: opts.expected.fd };
  }
  const err = native().bpf_xdp_detach(ifindex, flags, detachOpts);
  if (err >= 0) return;
  const errno = normalizeErrno(err);
  if (errno === ERRNO.EEXIST) {
    throw NA_ERR_BPF_BUSY.with({ details: errnoDetails('bpf_xdp_detach', errno, { ifindex }) }, String(iface), queryXdp(ifindex).programId);
  }
  throw ifaceError(`bpf_xdp_detach(${String(iface)})`, iface, errno, { ifindex });
}

function ifaceError(op: string, iface: string | number, err: number, extra: Record<string, unknown> = {}): Error {
  const errno = normalizeErrno(err);
  if (errno === ERRNO.ENODEV) return NA_ERR_BPF_NO_IFACE.with({ details: errnoDetails(op, errno, extra) }, String(iface));
  if (errno === ERRNO.EOPNOTSUPP || errno === ERRNO.ENOTSUPP) {
    return NA_ERR_BPF_INVALID.with({ details: errnoDetails(op, errno, extra) }, `${op}: ${describeErrno(errno)} (does the driver support this XDP mode?)`);
  }
  return syscallError(op, errno, extra);
}

const ATTACH_OPTS_SIZE = koffi.sizeof(BpfXdpAttachOpts);
const QUERY_OPTS_SIZE = koffi.sizeof(BpfXdpQueryOpts);
