/**
 * Detaching, and checking that a recorded attachment is what the kernel has. Both work from the
 * record alone (plus the program and map descriptors), so they serve a running loader and one
 * that has just started and adopts what it finds.
 */
import { rmSync } from 'node:fs';
import {
  BpfLink, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_NO_IFACE, detachFromSockmap, detachTc, queryTc, querySockmap, queryXdp, resolveIface,
} from '@netaccel/bpf';
import { MODES, sockmapAttachType } from './attach-mode.js';
import type { Registry } from './registry.js';
import type { AttachmentRecord } from './state.js';

/** Detaches a pinned link's program and removes the pin; a missing pin means nothing to do. */
function detachPinnedLink(pinPath: string | undefined): void {
  if (!pinPath) return;
  let link: BpfLink;
  try {
    link = BpfLink.openPinned(pinPath);
  } catch (err) {
    if (NA_ERR_BPF_NOT_FOUND.is(err)) return;
    throw err;
  }
  try {
    link.detach();
  } finally {
    link.close();
  }
  rmSync(pinPath, { force: true });
}

/** Removes one attachment from the kernel and from the records; answers the record. */
export function detach(reg: Registry, linkId: string): AttachmentRecord {
  const a = reg.attachment(linkId);
  const mode = MODES[a.mode];
  switch (mode.kind) {
    case 'xdp': case 'cgroup':
      detachPinnedLink(a.pinPath);
      break;
    case 'tc':
      detachTc(a.iface!.ifindex, { direction: mode.tcDirection!, priority: a.priority!, handle: a.handle!, expectedProgramId: a.kernelProgramId });
      break;
    case 'sockmap': {
      const map = reg.objects.has(a.sockmapId!.split('/')[0]!) ? reg.map(a.sockmapId!).map : undefined;
      const prog = reg.program(a.programId).prog;
      if (map) detachFromSockmap(map, prog, sockmapAttachType(mode));
      break;
    }
  }
  reg.attachments.delete(linkId);
  reg.persist();
  reg.log.info({ linkId, mode: a.mode, programId: a.programId }, 'detached');
  return a;
}

function linkState(pinPath: string | undefined): { programId: number; ifindex: number | undefined; cgroupId: bigint | undefined } | string {
  if (!pinPath) return 'the record has no link pin';
  let link: BpfLink;
  try {
    link = BpfLink.openPinned(pinPath);
  } catch (err) {
    if (NA_ERR_BPF_NOT_FOUND.is(err)) return `its link pin ${pinPath} is gone`;
    return `its link pin ${pinPath} cannot be opened: ${(err as Error).message}`;
  }
  try {
    const info = link.info();
    return { programId: info.programId, ifindex: info.ifindex, cgroupId: info.cgroupId };
  } finally {
    link.close();
  }
}

/**
 * Whether the kernel has the attachment as recorded: undefined when it does, otherwise why not.
 * Refreshes the recorded interface name when the index now has another one.
 */
export function verifyAttachment(reg: Registry, a: AttachmentRecord): string | undefined {
  const mode = MODES[a.mode];
  try {
    switch (mode.kind) {
      case 'xdp': {
        const state = linkState(a.pinPath);
        if (typeof state === 'string') return state;
        if (!state.ifindex) return `interface ${a.iface?.name} is gone (its link is defunct)`;
        if (state.ifindex !== a.iface?.ifindex) return `its link is on interface ${state.ifindex}, the record says ${a.iface?.ifindex}`;
        if (state.programId !== a.kernelProgramId) return `its link runs program ${state.programId}, the record says ${a.kernelProgramId}`;
        const q = queryXdp(state.ifindex);
        const attached = q.programId || q.nativeProgramId || q.genericProgramId;
        if (attached !== a.kernelProgramId) return `interface ${a.iface.name} runs XDP program ${attached}, not ${a.kernelProgramId}`;
        a.iface.name = resolveIface({ ifindex: state.ifindex }).name;
        return undefined;
      }
      case 'tc': {
        const id = queryTc(a.iface!.ifindex, { direction: mode.tcDirection!, priority: a.priority!, handle: a.handle! });
        if (id === 0) return `no tc ${mode.tcDirection} filter at priority ${a.priority} on ${a.iface!.name}`;
        if (id !== a.kernelProgramId) return `the tc filter at priority ${a.priority} on ${a.iface!.name} runs program ${id}, not ${a.kernelProgramId}`;
        a.iface!.name = resolveIface({ ifindex: a.iface!.ifindex }).name;
        return undefined;
      }
      case 'sockmap': {
        const map = reg.map(a.sockmapId!).map;
        const ids = querySockmap(map, sockmapAttachType(mode));
        return ids.includes(a.kernelProgramId) ? undefined : `map ${a.sockmapId} has ${ids.length > 0 ? `program ${ids.join(', ')}` : 'no program'} as ${a.mode}`;
      }
      case 'cgroup': {
        const state = linkState(a.pinPath);
        if (typeof state === 'string') return state;
        if (state.programId !== a.kernelProgramId) return `its link runs program ${state.programId}, the record says ${a.kernelProgramId}`;
        if (String(state.cgroupId ?? 0n) !== a.cgroup?.id) return `its link is on cgroup ${state.cgroupId ?? 0n}, not ${a.cgroup?.path} (${a.cgroup?.id}): the cgroup is gone`;
        return undefined;
      }
    }
  } catch (err) {
    if (NA_ERR_BPF_NO_IFACE.is(err)) return `interface ${a.iface?.name} (index ${a.iface?.ifindex}) is gone`;
    return (err as Error).message;
  }
}

/**
 * Undoes whatever is left of an attachment that is not what the record says (after a crash in the
 * middle of an attach, or when its interface or cgroup went away): a link pin is removed only when
 * the link no longer runs our program on its hook — one that still does is reported, not cut.
 */
export function cleanupUnverified(reg: Registry, a: AttachmentRecord, pending: boolean): void {
  if (!a.pinPath) return;
  const state = linkState(a.pinPath);
  if (typeof state === 'string') return;
  const defunct = state.programId === 0 || (MODES[a.mode].kind === 'xdp' && !state.ifindex);
  if (pending || defunct) rmSync(a.pinPath, { force: true });
  else reg.log.warn({ linkId: a.linkId, pinPath: a.pinPath }, 'a link pin that does not match its record is left in place');
}
