/**
 * The Loader gRPC service (libs/rpc/proto/netaccel/loader/v1/loader.proto) on top of `Loader`:
 * requests are validated field by field (errors start with the field path), changes go through
 * the audit trail, answers are built from the records (views.ts).
 */
import { possibleCpus } from '@netaccel/bpf';
import type { GlobalValue, UpdateFlag } from '@netaccel/bpf';
import { LoaderService, loaderV1, rpcService } from '@netaccel/rpc';
import type { ServiceRegistration } from '@netaccel/rpc';
import { modeOfProto } from './attach-mode.js';
import type { Audit } from './audit.js';
import { NA_ERR_LOADER_INVALID_REQUEST } from './errors.js';
import type { Loader } from './loader.js';
import { dump, lookup, lookupBatch, remove, update, updateBatch, updatePacked } from './maps.js';
import { RingBuffers } from './ring-buffer.js';
import { attachPointOf, mapInfosOf, objectInfoOf, programInfosOf } from './views.js';

const FLAGS: Readonly<Record<number, UpdateFlag>> = Object.freeze({
  [loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_ANY]: 'any',
  [loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_NOEXIST]: 'noexist',
  [loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_EXIST]: 'exist',
});

function flagOf(flag: loaderV1.MapUpdateFlag): UpdateFlag {
  const f = FLAGS[flag];
  if (f === undefined) throw NA_ERR_LOADER_INVALID_REQUEST(`flag: expected MAP_UPDATE_FLAG_ANY, _NOEXIST or _EXIST, got ${flag}`);
  return f;
}

function required(value: string, path: string, what: string): string {
  if (value === '') throw NA_ERR_LOADER_INVALID_REQUEST(`${path}: expected ${what}`);
  return value;
}

function entryOf(e: loaderV1.MapEntry | undefined, path: string): { key: Buffer; value: Buffer; perCpuValues: Buffer[] } {
  if (!e) throw NA_ERR_LOADER_INVALID_REQUEST(`${path}: expected a map entry (key and value)`);
  return { key: e.key, value: e.value, perCpuValues: e.perCpuValues };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Typed globals of a LoadObject request as libbpf values; a value without a case is refused. */
function typedGlobalsOf(typed: { [name: string]: loaderV1.GlobalValue }): Record<string, GlobalValue> {
  const out: Record<string, GlobalValue> = {};
  for (const [name, g] of Object.entries(typed)) {
    const v = g.value;
    if (v === undefined) throw NA_ERR_LOADER_INVALID_REQUEST(`typedGlobals.${name}: give unsigned, signed, boolean or raw`);
    out[name] = v.value;
  }
  return out;
}

/** The Loader service of `loader`, auditing every change (and every ring buffer watch) through `audit`. */
export function loaderService(loader: Loader, audit: Audit, rings: RingBuffers = new RingBuffers()): ServiceRegistration<typeof LoaderService> {
  const reg = loader.reg;
  const shaOfProgram = (id: string) => reg.objects.get(id.split('/')[0]!)?.record.sha256;

  return rpcService(LoaderService, {
    loadObject: async (req, ctx) => {
      const result = audit.run(
        ctx, 'load-object',
        (r) => ({ path: req.path, owner: req.owner, globals: r?.object.record.globals ?? Object.fromEntries(Object.entries(req.globals).map(([k, v]) => [k, hex(v)])), mapSizes: req.mapSizes, objectId: r?.object.record.id, objectSha256: r?.object.record.sha256, alreadyLoaded: r?.alreadyLoaded }),
        () => loader.load({ path: req.path, owner: req.owner, globals: req.globals, typedGlobals: typedGlobalsOf(req.typedGlobals), mapSizes: req.mapSizes, expectedSha256: req.expectedSha256 }),
      );
      return loaderV1.LoadObjectResponse.create({ object: objectInfoOf(loader, result.object), alreadyLoaded: result.alreadyLoaded });
    },

    unloadObject: async (req, ctx) => {
      const id = required(req.objectId, 'objectId', 'the id of a loaded object');
      const sha = reg.objects.get(id)?.record.sha256;
      const detached = audit.run(ctx, 'unload-object', (r) => ({ objectId: id, objectSha256: sha, force: req.force, detached: r }), () => loader.unload(id, req.force));
      return loaderV1.UnloadObjectResponse.create({ detachedLinkIds: detached });
    },

    listObjects: async (req) => loaderV1.ListObjectsResponse.create({
      objects: [...reg.objects.values()].filter((o) => req.owner === '' || o.record.owner === req.owner).map((o) => objectInfoOf(loader, o)),
    }),

    listPrograms: async (req) => {
      const objects = req.objectId === '' ? [...reg.objects.values()] : [reg.object(req.objectId)];
      return loaderV1.ListProgramsResponse.create({ programs: objects.flatMap((o) => programInfosOf(loader, o)) });
    },

    attach: async (req, ctx) => {
      const programId = required(req.programId, 'programId', 'the id of a program (<object id>/<program>)');
      if (!req.point) throw NA_ERR_LOADER_INVALID_REQUEST('point: expected where to attach (mode and target)');
      const mode = modeOfProto(req.point.mode);
      const t = req.point.target;
      const result = audit.run(
        ctx, 'attach',
        (r) => ({ programId, objectSha256: shaOfProgram(programId), mode: mode.name, target: t?.value, priority: r?.record.priority ?? req.point?.priority, replace: req.replace, linkId: r?.record.linkId, replaced: r?.replaced }),
        () => loader.attach({
          programId,
          mode,
          iface: t?.$case === 'iface' ? { name: t.value.name, ifindex: t.value.ifindex } : undefined,
          cgroupPath: t?.$case === 'cgroupPath' ? t.value : undefined,
          sockmapId: t?.$case === 'sockmapId' ? t.value : undefined,
          priority: req.point!.priority,
          replace: req.replace,
        }),
      );
      return loaderV1.AttachResponse.create({ point: attachPointOf(result.record) });
    },

    detach: async (req, ctx) => {
      const linkId = required(req.linkId, 'linkId', 'the id of an attachment');
      const a = reg.attachments.get(linkId);
      audit.run(ctx, 'detach', () => ({ linkId, programId: a?.programId, objectSha256: a ? shaOfProgram(a.programId) : undefined, mode: a?.mode }), () => loader.detach(linkId));
      return loaderV1.DetachResponse.create();
    },

    listMaps: async (req) => {
      const objects = req.objectId === '' ? [...reg.objects.values()] : [reg.object(req.objectId)];
      return loaderV1.ListMapsResponse.create({ maps: objects.flatMap((o) => mapInfosOf(loader, o)), possibleCpus: possibleCpus() });
    },

    mapLookup: async (req) => {
      const ref = reg.map(required(req.mapId, 'mapId', 'the id of a map (<object id>/<map>)'));
      return loaderV1.MapLookupResponse.create({ entry: loaderV1.MapEntry.create(lookup(ref, req.key)) });
    },

    mapLookupBatch: async (req) => {
      const ref = reg.map(required(req.mapId, 'mapId', 'the id of a map (<object id>/<map>)'));
      return loaderV1.MapLookupBatchResponse.create({ entries: lookupBatch(ref, req.keys).map((e) => loaderV1.MapEntry.create(e)) });
    },

    mapUpdate: async (req, ctx) => {
      const mapId = required(req.mapId, 'mapId', 'the id of a map (<object id>/<map>)');
      const entry = entryOf(req.entry, 'entry');
      const flag = flagOf(req.flag);
      audit.run(ctx, 'map-update', () => ({ mapId, objectSha256: shaOfProgram(mapId), key: hex(entry.key), flag }), () => update(reg.map(mapId), entry, flag));
      return loaderV1.MapUpdateResponse.create();
    },

    mapDelete: async (req, ctx) => {
      const mapId = required(req.mapId, 'mapId', 'the id of a map (<object id>/<map>)');
      audit.run(ctx, 'map-delete', () => ({ mapId, objectSha256: shaOfProgram(mapId), key: hex(req.key) }), () => remove(reg.map(mapId), req.key));
      return loaderV1.MapDeleteResponse.create();
    },

    mapDump: async function* (req, ctx) {
      const ref = reg.map(required(req.mapId, 'mapId', 'the id of a map (<object id>/<map>)'));
      const startAfter = req.startAfter.length > 0 ? req.startAfter : undefined;
      for (const e of dump(ref, req.limit, startAfter, ctx.signal)) yield loaderV1.MapEntry.create(e);
    },

    mapUpdateBatch: async (req, ctx) => {
      const mapId = required(req.mapId, 'mapId', 'the id of a map (<object id>/<map>)');
      const flag = flagOf(req.flag);
      if (req.packed !== undefined) {
        const packed = req.packed;
        if (req.entries.length > 0) throw NA_ERR_LOADER_INVALID_REQUEST('packed: give entries or packed, not both');
        const n = audit.run(
          ctx, 'map-update-batch',
          (r) => ({ mapId, objectSha256: shaOfProgram(mapId), entries: packed.count, packed: true, updated: r, flag }),
          () => updatePacked(reg.map(mapId), packed, flag),
        );
        return loaderV1.MapUpdateBatchResponse.create({ updated: n });
      }
      const entries = req.entries.map((e, i) => entryOf(e, `entries[${i}]`));
      const updated = audit.run(
        ctx, 'map-update-batch',
        (n) => ({ mapId, objectSha256: shaOfProgram(mapId), entries: entries.length, updated: n, flag }),
        () => updateBatch(reg.map(mapId), entries, flag),
      );
      return loaderV1.MapUpdateBatchResponse.create({ updated });
    },

    testRun: async (req) => {
      const ref = reg.program(required(req.programId, 'programId', 'the id of a program (<object id>/<program>)'));
      const r = ref.prog.testRun({
        data: req.dataIn,
        ctx: req.ctxIn.length > 0 ? req.ctxIn : undefined,
        repeat: req.repeat === 0 ? 1 : req.repeat,
        dataOutSize: req.dataSizeOut === 0 ? undefined : req.dataSizeOut,
        flags: req.flags,
      });
      return loaderV1.TestRunResponse.create({ retval: r.retval >>> 0, dataOut: r.data, ctxOut: r.ctx ?? Buffer.alloc(0), durationNs: BigInt(r.durationNs) });
    },

    watchRingBuffer: (req, ctx) => {
      const mapId = required(req.mapId, 'mapId', 'the id of a ring buffer map (<object id>/<map>)');
      const q = audit.run(ctx, 'watch-ring-buffer', () => ({ mapId, objectSha256: shaOfProgram(mapId) }), () => rings.watch(reg.map(mapId), ctx.signal));
      return q;
    },

    programStats: async (req) => {
      const refs = req.programId === '' ? reg.programIds().map((id) => reg.program(id)) : [reg.program(req.programId)];
      const stats = refs.map((ref) => {
        const info = ref.prog.info();
        return loaderV1.ProgramStat.create({ programId: ref.id, name: ref.record.name, runCount: info.runCount, runTimeNs: info.runTimeNs, recursionMisses: info.recursionMisses });
      });
      return loaderV1.ProgramStatsResponse.create({ stats, statsEnabled: loader.statsEnabled });
    },
  });
}
