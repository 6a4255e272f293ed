/**
 * What the loader holds in memory: each object with descriptors of its pinned programs and maps,
 * and each attachment; the bpffs layout of the pins; lookups by loader id and by kernel id; and
 * `persist()`, which writes the records to the state file. The kernel objects themselves live in
 * bpffs: a descriptor here is a convenience, never what keeps a program alive or attached.
 *
 *   <pinRoot>/objects/<object id>/progs/<program>    pinned programs
 *   <pinRoot>/objects/<object id>/maps/<map>         pinned maps (bpffs refuses `.` in names, so the
 *                                                    internal `<obj>.rodata` is pinned as `<obj>__rodata`)
 *   <pinRoot>/links/<link id>                        pinned bpf_links (XDP and cgroup attachments)
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BpfMap, BpfProgram } from '@netaccel/bpf';
import type { Logger } from '@netaccel/telemetry';
import { NA_ERR_LOADER_LINK_NOT_FOUND, NA_ERR_LOADER_MAP_NOT_FOUND, NA_ERR_LOADER_OBJECT_NOT_FOUND, NA_ERR_LOADER_PROGRAM_NOT_FOUND } from './errors.js';
import type { AttachmentRecord, MapRecord, ObjectRecord, ProgramRecord, StateStore } from './state.js';

export interface LoadedObject {
  record: ObjectRecord;
  /** Descriptors of the pinned programs, by program name. */
  readonly programs: Map<string, BpfProgram>;
  /** Descriptors of the pinned maps, by map name. */
  readonly maps: Map<string, BpfMap>;
}

export interface ProgramRef {
  readonly id: string;
  readonly object: LoadedObject;
  readonly record: ProgramRecord;
  readonly prog: BpfProgram;
}

export interface MapRef {
  readonly id: string;
  readonly object: LoadedObject;
  readonly record: MapRecord;
  readonly map: BpfMap;
}

/** A name bpffs accepts: it refuses `.` (kept for its own files), so `a.rodata` becomes `a__rodata`. */
export function pinName(name: string): string {
  return name.replace(/\./g, '__');
}

/** `<object id>/<name>`: object ids never contain `/`. */
export function memberId(objectId: string, name: string): string {
  return `${objectId}/${name}`;
}

function splitMemberId(id: string): [string, string] | undefined {
  const i = id.indexOf('/');
  return i <= 0 || i === id.length - 1 ? undefined : [id.slice(0, i), id.slice(i + 1)];
}

function listed(ids: string[]): string {
  if (ids.length === 0) return 'none';
  return ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 8).join(', ')} and ${ids.length - 8} more`;
}

export class Registry {
  readonly objects = new Map<string, LoadedObject>();
  readonly attachments = new Map<string, AttachmentRecord>();
  readonly store: StateStore;
  readonly pinRoot: string;
  readonly log: Logger;

  constructor(store: StateStore, pinRoot: string, log: Logger) {
    this.store = store;
    this.pinRoot = pinRoot;
    this.log = log;
  }

  objectPinDir(objectId: string): string {
    return join(this.pinRoot, 'objects', objectId);
  }

  programPin(objectId: string, name: string): string {
    return join(this.objectPinDir(objectId), 'progs', name);
  }

  mapPin(objectId: string, name: string): string {
    return join(this.objectPinDir(objectId), 'maps', pinName(name));
  }

  linkPin(linkId: string): string {
    return join(this.pinRoot, 'links', linkId);
  }

  /** A fresh attachment id: `l-` and 8 hex digits, unused so far. */
  newLinkId(): string {
    for (;;) {
      const id = `l-${randomBytes(4).toString('hex')}`;
      if (!this.attachments.has(id)) return id;
    }
  }

  /** Writes every record to the state file (atomically). */
  persist(): void {
    this.store.save({
      version: 1,
      objects: [...this.objects.values()].map((o) => o.record),
      attachments: [...this.attachments.values()],
    });
  }

  object(id: string): LoadedObject {
    const o = this.objects.get(id);
    if (!o) throw NA_ERR_LOADER_OBJECT_NOT_FOUND.with({ details: { objectId: id } }, `no object ${id} (the loader has ${listed([...this.objects.keys()])})`);
    return o;
  }

  program(id: string): ProgramRef {
    const parts = splitMemberId(id);
    const object = parts ? this.objects.get(parts[0]) : undefined;
    const record = object?.record.programs.find((p) => p.name === parts![1]);
    const prog = record ? object!.programs.get(record.name) : undefined;
    if (!object || !record || !prog) throw NA_ERR_LOADER_PROGRAM_NOT_FOUND.with({ details: { programId: id } }, id || '""', listed(this.programIds()));
    return { id, object, record, prog };
  }

  map(id: string): MapRef {
    const parts = splitMemberId(id);
    const object = parts ? this.objects.get(parts[0]) : undefined;
    const record = object?.record.maps.find((m) => m.name === parts![1]);
    const map = record ? object!.maps.get(record.name) : undefined;
    if (!object || !record || !map) throw NA_ERR_LOADER_MAP_NOT_FOUND.with({ details: { mapId: id } }, id || '""', listed(this.mapIds()));
    return { id, object, record, map };
  }

  attachment(linkId: string): AttachmentRecord {
    const a = this.attachments.get(linkId);
    if (!a) throw NA_ERR_LOADER_LINK_NOT_FOUND.with({ details: { linkId } }, linkId || '""');
    return a;
  }

  programIds(): string[] {
    return [...this.objects.values()].flatMap((o) => o.record.programs.map((p) => memberId(o.record.id, p.name)));
  }

  mapIds(): string[] {
    return [...this.objects.values()].flatMap((o) => o.record.maps.map((m) => memberId(o.record.id, m.name)));
  }

  /** The loader's program with kernel id `kernelId`, if it is one of ours. */
  programByKernelId(kernelId: number): ProgramRef | undefined {
    for (const o of this.objects.values()) {
      const record = o.record.programs.find((p) => p.kernelId === kernelId);
      const prog = record ? o.programs.get(record.name) : undefined;
      if (record && prog) return { id: memberId(o.record.id, record.name), object: o, record, prog };
    }
    return undefined;
  }

  /** Active or pending attachments of a program. */
  attachmentsOfProgram(programId: string): AttachmentRecord[] {
    return [...this.attachments.values()].filter((a) => a.programId === programId);
  }

  /** Attachments that use the object: of its programs, or on its sockmaps. */
  attachmentsOfObject(objectId: string): AttachmentRecord[] {
    const prefix = `${objectId}/`;
    return [...this.attachments.values()].filter((a) => a.programId.startsWith(prefix) || (a.sockmapId?.startsWith(prefix) ?? false));
  }

  /** Closes this process's descriptors of an object (its pins stay). */
  closeObject(o: LoadedObject): void {
    for (const p of o.programs.values()) p.close();
    for (const m of o.maps.values()) m.close();
    o.programs.clear();
    o.maps.clear();
  }

  /** Closes every descriptor; nothing is detached or unpinned. */
  close(): void {
    for (const o of this.objects.values()) this.closeObject(o);
  }
}
