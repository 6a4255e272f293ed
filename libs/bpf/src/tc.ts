/**
 * TC (clsact, direct-action cls_bpf filters) through libbpf's netlink calls: bpf_tc_hook_create,
 * bpf_tc_attach, bpf_tc_query, bpf_tc_detach. A filter is named by its interface, direction
 * (ingress / egress), priority (1..65535, lower runs first) and handle; several programs may sit
 * on one hook at different priorities. Like netlink XDP, a filter outlives the process that made
 * it until it is deleted, so a restarted loader finds it by (priority, handle).
 *
 * Attaching where a filter with the same priority and handle exists fails with
 * NA_ERR_BPF_HOOK_BUSY naming the program there, unless `replace` is set: then the kernel swaps the
 * program atomically (NLM_F_REPLACE), so no packet sees an empty hook.
 */
import koffi from 'koffi';
import { ERRNO, normalizeErrno } from './errno.js';
import { NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID, NA_ERR_BPF_NO_IFACE, errnoDetails, syscallError } from './errors.js';
import { resolveIfindex } from './link.js';
import { withLibbpfLog } from './log.js';
import type { Logger } from '@netaccel/errors';
import { BpfTcHook, BpfTcOpts, native } from './native.js';
import type { TcHookValue, TcOptsValue } from './native.js';
import { BPF_PROG_TYPE, programInfoByFd } from './program.js';

export type TcDirection = 'ingress' | 'egress';

/** BPF_TC_INGRESS, BPF_TC_EGRESS of libbpf.h. */
const ATTACH_POINT: Readonly<Record<TcDirection, number>> = Object.freeze({ ingress: 1, egress: 2 });
const BPF_TC_F_REPLACE = 1;

export interface TcAttachOptions {
  /** ingress (default) or egress. */
  direction?: TcDirection;
  /** 1..65535, lower runs first; 0 or absent lets the kernel choose. */
  priority?: number;
  /** 1..0xffffffff; 0 or absent lets the kernel choose. */
  handle?: number;
  /** Replace the program of the filter at (priority, handle) atomically instead of failing. */
  replace?: boolean;
  logger?: Logger;
}

/** One filter: where it is. */
export interface TcFilterId {
  direction: TcDirection;
  priority: number;
  handle: number;
}

export class TcAttachment {
  readonly iface: string | number;
  readonly ifindex: number;
  readonly direction: TcDirection;
  readonly priority: number;
  readonly handle: number;
  readonly programId: number;

  /** Internal: attachTc builds attachments. */
  constructor(iface: string | number, ifindex: number, filter: TcFilterId, programId: number) {
    this.iface = iface;
    this.ifindex = ifindex;
    this.direction = filter.direction;
    this.priority = filter.priority;
    this.handle = filter.handle;
    this.programId = programId;
  }

  /** Deletes the filter if it still runs our program; false when it is gone or holds another. */
  detach(): boolean {
    return detachTc(this.ifindex, { direction: this.direction, priority: this.priority, handle: this.handle, expectedProgramId: this.programId });
  }
}

function direction(d: TcDirection | undefined): TcDirection {
  const v = d ?? 'ingress';
  if (v !== 'ingress' && v !== 'egress') throw NA_ERR_BPF_INVALID(`direction: expected ingress or egress, got ${JSON.stringify(v)}`);
  return v;
}

function checkRange(path: string, v: number | undefined, max: number, allowZero: boolean): number {
  const n = v ?? 0;
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > max) throw NA_ERR_BPF_INVALID(`${path}: expected an integer ${allowZero ? 0 : 1}..${max}, got ${String(v)}`);
  return n;
}

function hook(ifindex: number, d: TcDirection): TcHookValue {
  return { sz: HOOK_SIZE, ifindex, attach_point: ATTACH_POINT[d], parent: 0, _pad: 0 };
}

function opts(fields: Partial<TcOptsValue>): TcOptsValue {
  return { sz: OPTS_SIZE, prog_fd: 0, flags: 0, prog_id: 0, handle: 0, priority: 0, _pad: 0, ...fields };
}

function tcError(op: string, iface: string | number, err: number, extra: Record<string, unknown> = {}): Error {
  const errno = normalizeErrno(err);
  if (errno === ERRNO.ENODEV) return NA_ERR_BPF_NO_IFACE.with({ details: errnoDetails(op, errno, extra) }, String(iface));
  return syscallError(op, errno, extra);
}

/** Creates the clsact qdisc on `iface` unless it is there (it holds both directions). */
export function ensureClsact(iface: string | number, logger?: Logger): number {
  const ifindex = resolveIfindex(iface);
  const { value: err } = withLibbpfLog(logger, () => native().bpf_tc_hook_create(hook(ifindex, 'ingress')));
  if (err < 0 && normalizeErrno(err) !== ERRNO.EEXIST) throw tcError(`bpf_tc_hook_create(${String(iface)})`, iface, err, { ifindex });
  return ifindex;
}

/**
 * The id of the program of the filter at (direction, priority, handle) on `iface`, 0 when there
 * is no such filter.
 */
export function queryTc(iface: string | number, filter: TcFilterId): number {
  const ifindex = resolveIfindex(iface);
  const d = direction(filter.direction);
  const priority = checkRange('priority', filter.priority, 0xffff, false);
  const handle = checkRange('handle', filter.handle, 0xffffffff, false);
  const o = opts({ priority, handle });
  const err = native().bpf_tc_query(hook(ifindex, d), o);
  if (err >= 0) return o.prog_id;
  const errno = normalizeErrno(err);
  // No filter there, or no clsact qdisc at all (EINVAL from the kernel's lookup of the block).
  if (errno === ERRNO.ENOENT || errno === ERRNO.EINVAL) return 0;
  throw tcError(`bpf_tc_query(${String(iface)}, ${d})`, iface, errno, { ifindex, priority, handle });
}

/**
 * Attaches `prog` (a sched_cls program) as a direct-action filter on `iface`. Creates the clsact
 * qdisc when needed. The answer has the priority and handle the kernel used.
 */
export function attachTc(iface: string | number, prog: { readonly fd: number }, options: TcAttachOptions = {}): TcAttachment {
  const d = direction(options.direction);
  const priority = checkRange('priority', options.priority, 0xffff, true);
  const handle = checkRange('handle', options.handle, 0xffffffff, true);
  if (options.replace && (priority === 0 || handle === 0)) throw NA_ERR_BPF_INVALID('replace: needs the priority and handle of the filter to replace');
  const info = programInfoByFd(prog.fd, 'program');
  if (info.type !== BPF_PROG_TYPE.sched_cls && info.type !== BPF_PROG_TYPE.sched_act) {
    throw NA_ERR_BPF_INVALID.with({ details: { program: info.name, programType: info.typeName } }, `program: tc needs a sched_cls program, ${info.name} is ${info.typeName}`);
  }
  const ifindex = ensureClsact(iface, options.logger);
  const o = opts({ prog_fd: prog.fd, flags: options.replace ? BPF_TC_F_REPLACE : 0, priority, handle });
  const n = native();
  const { value: err, messages } = withLibbpfLog(options.logger, () => n.bpf_tc_attach(hook(ifindex, d), o));
  if (err < 0) {
    const errno = normalizeErrno(err);
    const extra = { ifindex, direction: d, priority, handle, program: info.name, libbpf: messages.map((m) => m.text) };
    if (errno === ERRNO.EEXIST) {
      const current = queryTc(ifindex, { direction: d, priority, handle });
      throw NA_ERR_BPF_HOOK_BUSY.with(
        { details: errnoDetails('bpf_tc_attach', errno, { ...extra, attachedProgramId: current }) },
        `tc ${d} filter priority ${priority} handle ${handle} of ${String(iface)}`, current,
      );
    }
    throw tcError(`bpf_tc_attach(${String(iface)}, ${d})`, iface, errno, extra);
  }
  return new TcAttachment(iface, ifindex, { direction: d, priority: o.priority, handle: o.handle }, o.prog_id || info.id);
}

/**
 * Deletes the filter at (direction, priority, handle) — with `expectedProgramId`, only if that
 * program is the one there. False when there was no such filter (or another program's).
 */
export function detachTc(iface: string | number, filter: TcFilterId & { expectedProgramId?: number }): boolean {
  let ifindex: number;
  try {
    ifindex = resolveIfindex(iface);
  } catch (err) {
    if (NA_ERR_BPF_NO_IFACE.is(err)) return false; // the interface, and its filters, are gone
    throw err;
  }
  const current = queryTc(ifindex, filter);
  if (current === 0) return false;
  if (filter.expectedProgramId !== undefined && current !== filter.expectedProgramId) return false;
  const d = direction(filter.direction);
  const err = native().bpf_tc_detach(hook(ifindex, d), opts({ priority: filter.priority, handle: filter.handle }));
  if (err >= 0) return true;
  if (normalizeErrno(err) === ERRNO.ENOENT) return false;
  throw tcError(`bpf_tc_detach(${String(iface)}, ${d})`, iface, err, { ifindex, ...filter });
}

/** Removes the clsact qdisc of `iface` with every filter of both directions (tests, cleanup). */
export function destroyClsact(iface: string | number): void {
  const ifindex = resolveIfindex(iface);
  const h = { ...hook(ifindex, 'ingress'), attach_point: ATTACH_POINT.ingress | ATTACH_POINT.egress };
  const err = native().bpf_tc_hook_destroy(h);
  if (err < 0 && normalizeErrno(err) !== ERRNO.ENOENT && normalizeErrno(err) !== ERRNO.EINVAL) throw tcError(`bpf_tc_hook_destroy(${String(iface)})`, iface, err, { ifindex });
}

const HOOK_SIZE = koffi.sizeof(BpfTcHook);
const OPTS_SIZE = koffi.sizeof(BpfTcOpts);
