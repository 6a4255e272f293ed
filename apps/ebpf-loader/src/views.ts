/**
 * The loader's records as Loader API messages: ObjectInfo, ProgramInfo (with the kernel's run
 * count and time), MapInfo and AttachPoint.
 */
import { loaderV1 } from '@netaccel/rpc';
import { MODES, protoProgramType } from './attach-mode.js';
import type { Loader } from './loader.js';
import { memberId } from './registry.js';
import type { LoadedObject } from './registry.js';
import type { AttachmentRecord } from './state.js';

export function attachPointOf(a: AttachmentRecord): loaderV1.AttachPoint {
  const mode = MODES[a.mode];
  let target: loaderV1.AttachPoint['target'];
  if (a.iface) target = { $case: 'iface', value: loaderV1.Interface.create({ name: a.iface.name, ifindex: a.iface.ifindex }) };
  else if (a.cgroup) target = { $case: 'cgroupPath', value: a.cgroup.path };
  else if (a.sockmapId) target = { $case: 'sockmapId', value: a.sockmapId };
  return loaderV1.AttachPoint.create({
    linkId: a.linkId,
    mode: mode.proto,
    target,
    priority: a.priority ?? 0,
    pinPath: a.pinPath ?? '',
    programId: a.programId,
  });
}

export function programInfosOf(loader: Loader, o: LoadedObject): loaderV1.ProgramInfo[] {
  const statsEnabled = loader.statsEnabled;
  return o.record.programs.map((p) => {
    const id = memberId(o.record.id, p.name);
    let runCount = 0n;
    let runTimeNs = 0n;
    const prog = o.programs.get(p.name);
    if (prog) {
      const info = prog.info();
      runCount = info.runCount;
      runTimeNs = info.runTimeNs;
    }
    return loaderV1.ProgramInfo.create({
      id,
      kernelId: p.kernelId,
      name: p.name,
      type: protoProgramType(p.typeName),
      typeName: p.typeName,
      section: p.section,
      objectId: o.record.id,
      objectSha256: o.record.sha256,
      attachPoints: loader.reg.attachmentsOfProgram(id).map(attachPointOf),
      runCount,
      runTimeNs,
      statsEnabled,
      pinPath: loader.reg.programPin(o.record.id, p.name),
    });
  });
}

export function mapInfosOf(loader: Loader, o: LoadedObject): loaderV1.MapInfo[] {
  return o.record.maps.map((m) => loaderV1.MapInfo.create({
    id: memberId(o.record.id, m.name),
    kernelId: m.kernelId,
    name: m.name,
    typeName: m.typeName,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    mapFlags: m.flags,
    perCpu: o.maps.get(m.name)?.perCpu ?? false,
    objectId: o.record.id,
    pinPath: loader.reg.mapPin(o.record.id, m.name),
  }));
}

export function objectInfoOf(loader: Loader, o: LoadedObject): loaderV1.ObjectInfo {
  return loaderV1.ObjectInfo.create({
    id: o.record.id,
    path: o.record.path,
    sha256: o.record.sha256,
    programs: programInfosOf(loader, o),
    maps: mapInfosOf(loader, o),
    owner: o.record.owner,
    loadedAt: new Date(o.record.loadedAt),
    pinPath: o.record.pinDir,
  });
}
