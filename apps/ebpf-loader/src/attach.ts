/**
 * Attaching programs, one way per kind of hook, each surviving the loader:
 *
 * - XDP: a bpf_link (BPF_XDP) pinned at links/<id>. The pin keeps the program attached when the
 *   loader exits or is killed; an occupied interface is refused naming the program that holds it
 *   (ours: its loader id and attachment; anybody else's: its kernel name and id). `replace` swaps
 *   our program atomically (BPF_LINK_UPDATE), never someone else's.
 * - TC: a clsact direct-action filter at (priority, handle 1), which outlives the process; the
 *   loader picks the lowest free priority when the request gives none.
 * - sockmap: BPF_PROG_ATTACH with the sockmap's descriptor (attached while the pinned map lives).
 *   The sk_skb verdict comes in two modes, behind a stream parser (`sk-skb-stream-verdict`) or
 *   skb by skb (`sk-skb-verdict`, no strparser); a map holds one of them, the other is refused.
 * - cgroup: a bpf_link with the cgroup's descriptor, pinned; several coexist on one cgroup.
 *
 * The record is journalled `pending` before the kernel is touched and `active` after; a failure
 * undoes what was done and removes the record.
 */
import { rmSync } from 'node:fs';
import {
  BpfLink, NA_ERR_BPF_BUSY, NA_ERR_BPF_HOOK_BUSY, NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_NO_IFACE, attachCgroupLink, attachTc,
  attachToSockmap, attachXdpLink, cgroupId, programInfoById, queryTc, querySockmap, queryXdp, resolveCgroupPath, resolveIface,
} from '@netaccel/bpf';
import { loaderV1 } from '@netaccel/rpc';
import { MODES, cgroupAttachType, sockmapAttachType } from './attach-mode.js';
import type { ModeSpec } from './attach-mode.js';
import { NA_ERR_LOADER_BAD_ATTACH, NA_ERR_LOADER_HOOK_TAKEN, NA_ERR_LOADER_NO_CGROUP, NA_ERR_LOADER_NO_IFACE } from './errors.js';
import type { ProgramRef, Registry } from './registry.js';
import type { AttachmentRecord } from './state.js';

/** The handle of every tc filter the loader makes; filters differ by priority. */
export const TC_HANDLE = 1;

export interface AttachRequest {
  readonly programId: string;
  readonly mode: ModeSpec;
  readonly iface?: { readonly name: string; readonly ifindex: number };
  readonly cgroupPath?: string;
  readonly sockmapId?: string;
  /** TC only: 0 lets the loader choose. */
  readonly priority: number;
  readonly replace: boolean;
}

export interface AttachResult {
  readonly record: AttachmentRecord;
  /** The program id that `replace` took the place of. */
  readonly replaced: string | undefined;
}

/** Who holds a hook, for error messages: our program with its attachment, or a foreign one. */
export function describeHolder(reg: Registry, kernelProgramId: number, holder?: AttachmentRecord): string {
  if (kernelProgramId === 0) return 'programs in another mode';
  const ours = reg.programByKernelId(kernelProgramId);
  if (ours) return `program ${ours.id} (kernel id ${kernelProgramId}${holder ? `, attachment ${holder.linkId}` : ''})`;
  try {
    const info = programInfoById(kernelProgramId);
    return `program ${info.name} (kernel id ${kernelProgramId}, ${info.typeName}), not managed by the loader`;
  } catch {
    return `program with kernel id ${kernelProgramId}, not managed by the loader`;
  }
}

function protoName(mode: ModeSpec): string {
  return loaderV1.attachModeToJSON(mode.proto);
}

function resolveTarget(iface: AttachRequest['iface'], mode: ModeSpec): { ifindex: number; name: string } {
  if (!iface || (iface.name === '' && iface.ifindex === 0)) throw NA_ERR_LOADER_BAD_ATTACH(`point.iface: ${protoName(mode)} needs an interface (name or ifindex)`);
  try {
    return resolveIface(iface);
  } catch (err) {
    if (NA_ERR_BPF_NO_IFACE.is(err)) throw NA_ERR_LOADER_NO_IFACE.with({ cause: err }, iface.name !== '' ? iface.name : `with index ${iface.ifindex}`);
    if (NA_ERR_BPF_INVALID.is(err)) throw NA_ERR_LOADER_BAD_ATTACH.with({ cause: err }, `point.${err.message}`);
    throw err;
  }
}

/** Writes a new record as pending, runs `attach`, and marks it active; undoes all on failure. */
function journalled(reg: Registry, record: AttachmentRecord, attach: () => void): AttachResult {
  reg.attachments.set(record.linkId, record);
  try {
    reg.persist();
    attach();
    record.status = 'active';
    reg.persist();
    return { record, replaced: undefined };
  } catch (err) {
    if (record.pinPath) rmSync(record.pinPath, { force: true });
    reg.attachments.delete(record.linkId);
    try {
      reg.persist();
    } catch (persistErr) {
      reg.log.error({ err: persistErr }, 'cannot write the state file after a failed attach');
    }
    throw err;
  }
}

function newRecord(reg: Registry, ref: ProgramRef, mode: ModeSpec, extra: Partial<AttachmentRecord>): AttachmentRecord {
  const linkId = reg.newLinkId();
  return {
    linkId, programId: ref.id, kernelProgramId: ref.record.kernelId, mode: mode.name, createdAt: new Date().toISOString(), status: 'pending', ...extra,
  };
}

function swapped(reg: Registry, holder: AttachmentRecord, ref: ProgramRef): AttachResult {
  const previous = holder.programId;
  holder.programId = ref.id;
  holder.kernelProgramId = ref.record.kernelId;
  reg.persist();
  return { record: holder, replaced: previous };
}

/**
 * Replaces the program behind a pinned BPF link (XDP, cgroup) in place: the link is updated with
 * the old program as `expected`, so a program swapped behind the registry's back fails the update
 * instead of being replaced. The same program again changes nothing.
 */
function relinked(reg: Registry, holder: AttachmentRecord, ref: ProgramRef): AttachResult {
  if (holder.programId === ref.id) return { record: holder, replaced: undefined };
  const old = reg.program(holder.programId);
  const link = BpfLink.openPinned(holder.pinPath!);
  try {
    link.update(ref.prog, { expected: old.prog });
  } finally {
    link.close();
  }
  return swapped(reg, holder, ref);
}

function attachXdpMode(reg: Registry, ref: ProgramRef, mode: ModeSpec, req: AttachRequest): AttachResult {
  const { ifindex, name } = resolveTarget(req.iface, mode);
  const q = queryXdp(ifindex);
  const holder = [...reg.attachments.values()].find((a) => MODES[a.mode].kind === 'xdp' && a.iface?.ifindex === ifindex);
  if (q.mode !== 'none') {
    const current = q.programId || q.nativeProgramId || q.genericProgramId;
    if (!req.replace || !holder || holder.kernelProgramId !== current) {
      throw NA_ERR_LOADER_HOOK_TAKEN.with(
        { details: { iface: name, ifindex, attachedProgramId: current, linkId: holder?.linkId } },
        `interface ${name} (XDP)`, describeHolder(reg, current, holder),
      );
    }
    if (holder.mode !== mode.name) {
      throw NA_ERR_LOADER_BAD_ATTACH(`replace: ${name} has ${holder.mode} (attachment ${holder.linkId}), the request asks for ${mode.name}; detach it to change the mode`);
    }
    return relinked(reg, holder, ref);
  }
  const record = newRecord(reg, ref, mode, { iface: { name, ifindex } });
  record.pinPath = reg.linkPin(record.linkId);
  try {
    return journalled(reg, record, () => {
      const link = attachXdpLink(ifindex, ref.prog, { mode: mode.xdpMode });
      try {
        link.pin(record.pinPath!);
      } finally {
        link.close(); // the pin holds it now (or, if pinning failed, closing detaches it)
      }
    });
  } catch (err) {
    if (NA_ERR_BPF_BUSY.is(err)) {
      const current = Number(err.details.attachedProgramId ?? 0);
      throw NA_ERR_LOADER_HOOK_TAKEN.with({ cause: err, details: { iface: name, ifindex, attachedProgramId: current } }, `interface ${name} (XDP)`, describeHolder(reg, current));
    }
    throw err;
  }
}

function freePriority(reg: Registry, ifindex: number, mode: ModeSpec): number {
  for (let p = 1; p <= 0xffff; p++) {
    const ours = [...reg.attachments.values()].some((a) => a.mode === mode.name && a.iface?.ifindex === ifindex && a.priority === p);
    if (!ours && queryTc(ifindex, { direction: mode.tcDirection!, priority: p, handle: TC_HANDLE }) === 0) return p;
  }
  throw NA_ERR_LOADER_BAD_ATTACH(`point.priority: no free tc ${mode.tcDirection} priority left`);
}

function attachTcMode(reg: Registry, ref: ProgramRef, mode: ModeSpec, req: AttachRequest): AttachResult {
  const { ifindex, name } = resolveTarget(req.iface, mode);
  const direction = mode.tcDirection!;
  if (!Number.isInteger(req.priority) || req.priority < 0 || req.priority > 0xffff) throw NA_ERR_LOADER_BAD_ATTACH(`point.priority: expected 0..65535, got ${req.priority}`);
  const ours = [...reg.attachments.values()].filter((a) => a.mode === mode.name && a.iface?.ifindex === ifindex);
  let priority = req.priority;
  if (priority === 0 && req.replace && ours.length > 1) {
    throw NA_ERR_LOADER_BAD_ATTACH(`point.priority: ${name} has ${ours.length} tc ${direction} programs of the loader (priorities ${ours.map((a) => a.priority).join(', ')}); give the one to replace`);
  }
  if (priority === 0) priority = req.replace && ours.length === 1 ? ours[0]!.priority! : freePriority(reg, ifindex, mode);
  const current = queryTc(ifindex, { direction, priority, handle: TC_HANDLE });
  const holder = ours.find((a) => a.priority === priority);
  const hook = `tc ${direction} priority ${priority} of ${name}`;
  if (holder && current === 0) {
    reg.log.warn({ linkId: holder.linkId, hook }, 'a recorded tc filter is gone; dropping its record');
    reg.attachments.delete(holder.linkId);
    reg.persist();
  } else if (current !== 0) {
    if (!req.replace || !holder || holder.kernelProgramId !== current) {
      throw NA_ERR_LOADER_HOOK_TAKEN.with({ details: { iface: name, ifindex, direction, priority, attachedProgramId: current } }, hook, describeHolder(reg, current, holder));
    }
    if (holder.programId === ref.id) return { record: holder, replaced: undefined };
    attachTc(ifindex, ref.prog, { direction, priority, handle: TC_HANDLE, replace: true, logger: reg.log });
    return swapped(reg, holder, ref);
  }
  const record = newRecord(reg, ref, mode, { iface: { name, ifindex }, priority, handle: TC_HANDLE });
  try {
    return journalled(reg, record, () => {
      attachTc(ifindex, ref.prog, { direction, priority, handle: TC_HANDLE, logger: reg.log });
    });
  } catch (err) {
    if (NA_ERR_BPF_HOOK_BUSY.is(err)) {
      const now = Number(err.details.attachedProgramId ?? 0);
      throw NA_ERR_LOADER_HOOK_TAKEN.with({ cause: err, details: { iface: name, ifindex, direction, priority, attachedProgramId: now } }, hook, describeHolder(reg, now));
    }
    throw err;
  }
}

/** The kernel keeps one sk_skb verdict per map: the stream verdict (behind a parser) or the skb one. */
const ONE_VERDICT: Partial<Record<ModeSpec['name'], ModeSpec['name']>> = Object.freeze({ 'sk-skb-verdict': 'sk-skb-stream-verdict', 'sk-skb-stream-verdict': 'sk-skb-verdict' });

function attachSockmapMode(reg: Registry, ref: ProgramRef, mode: ModeSpec, req: AttachRequest): AttachResult {
  if (!req.sockmapId) throw NA_ERR_LOADER_BAD_ATTACH(`point.sockmapId: ${protoName(mode)} needs the id of a sockmap or sockhash`);
  const mref = reg.map(req.sockmapId);
  if (mref.record.typeName !== 'sockmap' && mref.record.typeName !== 'sockhash') {
    throw NA_ERR_LOADER_BAD_ATTACH(`point.sockmapId: map ${mref.id} is a ${mref.record.typeName}; ${protoName(mode)} needs a sockmap or sockhash`);
  }
  const type = sockmapAttachType(mode);
  const other = ONE_VERDICT[mode.name];
  const otherHeld = other === undefined ? 0 : (querySockmap(mref.map, sockmapAttachType(MODES[other]))[0] ?? 0);
  if (otherHeld !== 0) {
    const holder = [...reg.attachments.values()].find((a) => a.mode === other && a.sockmapId === mref.id);
    throw NA_ERR_LOADER_HOOK_TAKEN.with(
      { details: { mapId: mref.id, mode: other, attachedProgramId: otherHeld } },
      `the sk_skb verdict of map ${mref.id} (as ${other}; a map has one verdict, with or without a stream parser)`, describeHolder(reg, otherHeld, holder),
    );
  }
  const current = querySockmap(mref.map, type)[0] ?? 0;
  const holder = [...reg.attachments.values()].find((a) => a.mode === mode.name && a.sockmapId === mref.id);
  const hook = `${mode.name} of map ${mref.id}`;
  if (current !== 0) {
    if (holder && holder.programId === ref.id && current === ref.record.kernelId) return { record: holder, replaced: undefined };
    if (!req.replace || !holder || holder.kernelProgramId !== current) {
      throw NA_ERR_LOADER_HOOK_TAKEN.with({ details: { mapId: mref.id, attachedProgramId: current } }, hook, describeHolder(reg, current, holder));
    }
    attachToSockmap(mref.map, ref.prog, type, { replace: true });
    return swapped(reg, holder, ref);
  }
  if (holder) {
    reg.attachments.delete(holder.linkId); // recorded, but the kernel has nothing there any more
    reg.persist();
  }
  return journalled(reg, newRecord(reg, ref, mode, { sockmapId: mref.id }), () => attachToSockmap(mref.map, ref.prog, type));
}

function attachCgroupMode(reg: Registry, ref: ProgramRef, mode: ModeSpec, req: AttachRequest): AttachResult {
  if (!req.cgroupPath) throw NA_ERR_LOADER_BAD_ATTACH(`point.cgroupPath: ${protoName(mode)} needs a cgroup path`);
  let path: string;
  try {
    path = resolveCgroupPath(req.cgroupPath);
  } catch (err) {
    if (NA_ERR_BPF_NOT_FOUND.is(err)) throw NA_ERR_LOADER_NO_CGROUP.with({ cause: err }, req.cgroupPath);
    if (NA_ERR_BPF_INVALID.is(err)) throw NA_ERR_LOADER_BAD_ATTACH.with({ cause: err }, `point.${err.message}`);
    throw err;
  }
  const type = cgroupAttachType(mode);
  if (req.replace) {
    const holders = [...reg.attachments.values()].filter((a) => a.mode === mode.name && a.cgroup?.path === path);
    if (holders.length > 1) throw NA_ERR_LOADER_BAD_ATTACH(`replace: cgroup ${path} has ${holders.length} ${mode.name} attachments (${holders.map((a) => a.linkId).join(', ')}); detach the one to change`);
    const holder = holders[0];
    if (holder) {
      return relinked(reg, holder, ref);
    }
  }
  const record = newRecord(reg, ref, mode, { cgroup: { path, id: String(cgroupId(path)) } });
  record.pinPath = reg.linkPin(record.linkId);
  return journalled(reg, record, () => {
    const link = attachCgroupLink(path, ref.prog, type, { logger: reg.log });
    try {
      link.pin(record.pinPath!);
    } finally {
      link.close();
    }
  });
}

/** Attaches a program as the request says; see the module comment. */
export function attach(reg: Registry, req: AttachRequest): AttachResult {
  const ref = reg.program(req.programId);
  const mode = req.mode;
  if (ref.record.typeName !== mode.programType) {
    throw NA_ERR_LOADER_BAD_ATTACH.with(
      { details: { programId: ref.id, programType: ref.record.typeName, mode: mode.name } },
      `program ${ref.id} is ${ref.record.typeName}; ${protoName(mode)} needs a ${mode.programType} program`,
    );
  }
  switch (mode.kind) {
    case 'xdp':
      return attachXdpMode(reg, ref, mode, req);
    case 'tc':
      return attachTcMode(reg, ref, mode, req);
    case 'sockmap':
      return attachSockmapMode(reg, ref, mode, req);
    case 'cgroup':
      return attachCgroupMode(reg, ref, mode, req);
  }
}
