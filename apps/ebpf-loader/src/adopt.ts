/**
 * Start-up: adopt what is pinned and reconcile it with the state file. Nothing here detaches a
 * working program: the data plane keeps forwarding while a loader restarts.
 *
 * - Each recorded object's pins are reopened and checked against the recorded kernel ids.
 *   A `pending` object (the loader died while loading it) is adopted when all its pins are there,
 *   otherwise its partial pins are removed — it was never acknowledged.
 * - Each attachment is checked against the kernel (the XDP link and bpf_xdp_query, the tc filter
 *   by priority/handle, the sockmap's attached programs, the cgroup link). A `pending` one is
 *   adopted when the kernel has it, otherwise undone.
 * - Records that do not match (pins gone after a reboot, an interface or cgroup removed, a link
 *   replaced by someone else) are dropped from the state and reported as dangling, with the reason.
 * - Pins under the pin root that no record names are reported as orphans and left alone.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupUnverified, verifyAttachment } from './detach.js';
import { openObjectPins } from './objects.js';
import type { LoadedObject, Registry } from './registry.js';
import type { StateData } from './state.js';

export interface Dangling {
  readonly kind: 'object' | 'attachment';
  readonly id: string;
  readonly reason: string;
}

export interface AdoptReport {
  readonly objects: string[];
  readonly attachments: string[];
  /** Pending records (a change interrupted by a crash) that were found complete and adopted. */
  readonly settled: string[];
  readonly dangling: Dangling[];
  /** Pins under the pin root that no record names (left in place). */
  readonly orphanPins: string[];
  readonly durationMs: number;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Fills `reg` from `state` as described above and writes the reconciled state. */
export function adopt(reg: Registry, state: StateData): AdoptReport {
  const t0 = Date.now();
  const report = { objects: [] as string[], attachments: [] as string[], settled: [] as string[], dangling: [] as Dangling[], orphanPins: [] as string[] };

  for (const record of state.objects) {
    const o: LoadedObject = { record, programs: new Map(), maps: new Map() };
    const problem = openObjectPins(reg, o);
    if (problem === undefined) {
      if (record.status === 'pending') {
        record.status = 'active';
        report.settled.push(record.id);
      }
      reg.objects.set(record.id, o);
      report.objects.push(record.id);
      continue;
    }
    if (record.status === 'pending') rmSync(record.pinDir, { recursive: true, force: true });
    report.dangling.push({ kind: 'object', id: record.id, reason: problem });
  }

  for (const a of state.attachments) {
    const objectId = a.programId.split('/')[0]!;
    const sockmapObject = a.sockmapId?.split('/')[0];
    let reason: string | undefined;
    if (!reg.objects.has(objectId)) reason = `its object ${objectId} is not loaded`;
    else if (sockmapObject !== undefined && !reg.objects.has(sockmapObject)) reason = `the object of its sockmap ${a.sockmapId} is not loaded`;
    else reason = verifyAttachment(reg, a);
    if (reason === undefined) {
      if (a.status === 'pending') {
        a.status = 'active';
        report.settled.push(a.linkId);
      }
      reg.attachments.set(a.linkId, a);
      report.attachments.push(a.linkId);
      continue;
    }
    cleanupUnverified(reg, a, a.status === 'pending');
    report.dangling.push({ kind: 'attachment', id: a.linkId, reason });
  }

  const objectsDir = join(reg.pinRoot, 'objects');
  for (const name of listDir(objectsDir)) if (!reg.objects.has(name)) report.orphanPins.push(join(objectsDir, name));
  const linksDir = join(reg.pinRoot, 'links');
  const linkPins = new Set([...reg.attachments.values()].map((a) => a.pinPath).filter((p) => p !== undefined));
  for (const name of listDir(linksDir)) if (!linkPins.has(join(linksDir, name))) report.orphanPins.push(join(linksDir, name));

  reg.persist();
  const result: AdoptReport = { ...report, durationMs: Date.now() - t0 };
  for (const d of result.dangling) reg.log.warn({ kind: d.kind, id: d.id, reason: d.reason }, 'dangling record dropped');
  if (result.orphanPins.length > 0) reg.log.warn({ pins: result.orphanPins }, 'pins that no record names (left in place)');
  reg.log.info(
    { objects: result.objects.length, attachments: result.attachments.length, settled: result.settled, dangling: result.dangling.length, durationMs: result.durationMs },
    'adopted pinned objects and attachments',
  );
  return result;
}
