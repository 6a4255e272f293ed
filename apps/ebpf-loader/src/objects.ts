/**
 * Loading and unloading objects. A load reads the file once (inside the object directory), checks
 * its sha256, answers the object already loaded when the same bytes, globals and map sizes are,
 * journals a `pending` record, opens the bytes with libbpf, sets the globals and map sizes, loads (a verifier rejection
 * comes back with the tail of the verifier's log), pins every program and map under the object's
 * pin directory, closes the libbpf object and reopens the pins — the same path a restarted loader
 * takes — and marks the record `active`. Any failure removes every pin made and the record:
 * nothing partial is left behind.
 */
import { rmSync } from 'node:fs';
import { BpfMap, BpfObject, BpfProgram, NA_ERR_BPF_INVALID, NA_ERR_BPF_NOT_FOUND, NA_ERR_BPF_VERIFIER, codecName, mapBtfTypes, verifierSummary } from '@netaccel/bpf';
import type { Btf, GlobalValue } from '@netaccel/bpf';
import type { NetaccelError } from '@netaccel/errors';
import { NA_ERR_LOADER_GLOBAL, NA_ERR_LOADER_INVALID_REQUEST, NA_ERR_LOADER_MAP_SIZE, NA_ERR_LOADER_OBJECT_IN_USE, NA_ERR_LOADER_SHA256_MISMATCH, NA_ERR_LOADER_VERIFIER } from './errors.js';
import { canonicalGlobals, canonicalMapSizes, objectId, readObject } from './object-source.js';
import type { LoadedObject, Registry } from './registry.js';
import type { MapRecord, ObjectRecord } from './state.js';

export interface LoadRequest {
  readonly path: string;
  readonly owner: string;
  readonly globals: Readonly<Record<string, Uint8Array>>;
  /** Globals as typed values, encoded from the object's BTF here (a name in one of the two only). */
  readonly typedGlobals?: Readonly<Record<string, GlobalValue>>;
  /** max_entries by map name, set before load. */
  readonly mapSizes?: Readonly<Record<string, number>>;
  readonly expectedSha256: string;
}

export interface LoadResult {
  readonly object: LoadedObject;
  readonly alreadyLoaded: boolean;
}

/** Error details travel in gRPC metadata of at most 4 KiB: the verifier log is cut to fit. */
const MAX_DETAILS_JSON = 3800;

function verifierError(err: NetaccelError): NetaccelError {
  const log = typeof err.details.log === 'string' ? err.details.log : '';
  const program = String(err.details.program ?? '?');
  const object = String(err.details.object ?? '?');
  let keep = log.length;
  let details: Record<string, unknown>;
  for (;;) {
    details = { program, object, log: log.slice(log.length - keep), logBytes: log.length, truncated: keep < log.length };
    if (JSON.stringify(details).length <= MAX_DETAILS_JSON || keep === 0) break;
    keep = Math.max(0, keep - Math.max(64, JSON.stringify(details).length - MAX_DETAILS_JSON));
  }
  return NA_ERR_LOADER_VERIFIER.with({ cause: err, details }, program, object, verifierSummary(log));
}

function applyGlobals(obj: BpfObject, globals: Readonly<Record<string, Uint8Array>>): void {
  const known = obj.globals();
  for (const [name, bytes] of Object.entries(globals)) {
    const g = known.find((k) => k.name === name);
    if (!g) {
      throw NA_ERR_LOADER_GLOBAL.with(
        { details: { global: name, globals: known.map((k) => k.name) } },
        `globals.${name}: no such global in ${obj.name} (it has ${known.map((k) => k.name).join(', ') || 'none'})`,
      );
    }
    if (bytes.length !== g.size) {
      throw NA_ERR_LOADER_GLOBAL.with({ details: { global: name, size: g.size, got: bytes.length } }, `globals.${name}: expected ${g.size} bytes (${g.type}), got ${bytes.length}`);
    }
    obj.setGlobalBytes(name, bytes);
  }
}

/**
 * Raw globals plus the typed ones encoded from the object's BTF (sizes, signedness and ranges
 * checked there), before the object's identity is computed: the same values give the same object
 * whether a client sent bytes or numbers.
 */
function resolveGlobals(src: { bytes: Buffer; name: string }, req: LoadRequest): Readonly<Record<string, Uint8Array>> {
  const typed = Object.entries(req.typedGlobals ?? {});
  if (typed.length === 0) return req.globals;
  const out: Record<string, Uint8Array> = { ...req.globals };
  const obj = BpfObject.openBuffer(src.bytes, { name: src.name });
  try {
    const known = obj.globals();
    for (const [name, value] of typed) {
      if (name in req.globals) throw NA_ERR_LOADER_INVALID_REQUEST(`typedGlobals.${name}: also given in globals; give each global once`);
      if (!known.some((k) => k.name === name)) {
        throw NA_ERR_LOADER_GLOBAL.with(
          { details: { global: name, globals: known.map((k) => k.name) } },
          `typedGlobals.${name}: no such global in ${obj.name} (it has ${known.map((k) => k.name).join(', ') || 'none'})`,
        );
      }
      try {
        out[name] = obj.encodeGlobalValue(name, value);
      } catch (err) {
        if (!NA_ERR_BPF_INVALID.is(err)) throw err;
        throw NA_ERR_LOADER_GLOBAL.with({ cause: err, details: { global: name } }, `typed${err.message.replace(/^globals\./, 'Globals.')}`);
      }
    }
  } finally {
    obj.close();
  }
  return out;
}

function applyMapSizes(obj: BpfObject, sizes: Readonly<Record<string, number>>): void {
  for (const [name, n] of Object.entries(sizes)) {
    try {
      obj.setMaxEntries(name, n);
    } catch (err) {
      if (NA_ERR_BPF_NOT_FOUND.is(err)) {
        const maps = Array.isArray(err.details.maps) ? (err.details.maps as string[]) : [];
        throw NA_ERR_LOADER_MAP_SIZE.with({ cause: err, details: { map: name, maps } }, `mapSizes.${name}: no such map in ${obj.name} (it has ${maps.join(', ') || 'none'})`);
      }
      if (NA_ERR_BPF_INVALID.is(err)) throw NA_ERR_LOADER_MAP_SIZE.with({ cause: err, details: { map: name, maxEntries: n } }, `mapSizes.${name}: expected 1..4294967295 entries, got ${n}`);
      throw err;
    }
  }
}

function mapRecordOf(map: BpfMap, btf: Btf | undefined): MapRecord {
  const info = map.info();
  const types = btf ? mapBtfTypes(btf, map.name) : { key: undefined, value: undefined };
  return {
    name: map.name,
    kernelId: info.id,
    type: info.type,
    typeName: info.typeName,
    keySize: info.keySize,
    valueSize: info.valueSize,
    maxEntries: info.maxEntries,
    flags: info.flags,
    keyType: btf && types.key !== undefined ? codecName(btf, types.key) : '',
    valueType: btf && types.value !== undefined ? codecName(btf, types.value) : '',
  };
}

/**
 * Opens the pins of an object's programs and maps into `o` and checks that they are the kernel
 * objects the record names. Answers why not (and holds nothing) when they are not.
 */
export function openObjectPins(reg: Registry, o: LoadedObject): string | undefined {
  const id = o.record.id;
  try {
    for (const p of o.record.programs) {
      const prog = BpfProgram.openPinned(reg.programPin(id, p.name));
      o.programs.set(p.name, prog);
      const kernelId = prog.info().id;
      if (kernelId !== p.kernelId) return fail(`the pin of program ${p.name} holds kernel program ${kernelId}, the record says ${p.kernelId}`);
    }
    for (const m of o.record.maps) {
      const map = BpfMap.openPinned(reg.mapPin(id, m.name));
      o.maps.set(m.name, map);
      const kernelId = map.info().id;
      if (kernelId !== m.kernelId) return fail(`the pin of map ${m.name} holds kernel map ${kernelId}, the record says ${m.kernelId}`);
    }
    return undefined;
  } catch (err) {
    return fail((err as Error).message);
  }

  function fail(reason: string): string {
    reg.closeObject(o);
    return reason;
  }
}

/** Loads an object (or answers the identical one already loaded). */
export function loadObject(reg: Registry, objectDir: string, req: LoadRequest): LoadResult {
  const expected = req.expectedSha256.trim().toLowerCase();
  if (expected !== '' && !/^[0-9a-f]{64}$/.test(expected)) {
    throw NA_ERR_LOADER_INVALID_REQUEST(`expectedSha256: expected 64 hex digits, got ${JSON.stringify(req.expectedSha256)}`);
  }
  const src = readObject(objectDir, req.path);
  if (expected !== '' && expected !== src.sha256) throw NA_ERR_LOADER_SHA256_MISMATCH(req.path, src.sha256, expected);
  const rawGlobals = resolveGlobals(src, req);
  const globals = canonicalGlobals(rawGlobals);
  const mapSizes = canonicalMapSizes(req.mapSizes ?? {});
  const id = objectId(src.name, src.sha256, globals, mapSizes);
  const existing = reg.objects.get(id);
  if (existing) return { object: existing, alreadyLoaded: true };

  const record: ObjectRecord = {
    id, name: src.name, path: src.path, sha256: src.sha256, globals, ...(Object.keys(mapSizes).length > 0 ? { mapSizes } : {}), owner: req.owner, loadedAt: new Date().toISOString(),
    pinDir: reg.objectPinDir(id), status: 'pending', programs: [], maps: [],
  };
  const loaded: LoadedObject = { record, programs: new Map(), maps: new Map() };
  const log = reg.log.child({ object: id });
  reg.objects.set(id, loaded);
  let obj: BpfObject | undefined;
  try {
    reg.persist();
    obj = BpfObject.openBuffer(src.bytes, { name: src.name, logger: log });
    applyGlobals(obj, rawGlobals);
    applyMapSizes(obj, mapSizes);
    try {
      obj.load();
    } catch (err) {
      if (NA_ERR_BPF_VERIFIER.is(err)) {
        log.warn({ program: err.details.program, verifierLog: err.details.log }, 'the verifier rejected a program');
        throw verifierError(err);
      }
      throw err;
    }
    let btf: Btf | undefined;
    try {
      btf = obj.btf();
    } catch {
      btf = undefined; // an object without BTF has no typed views
    }
    for (const prog of obj.programs()) {
      prog.pin(reg.programPin(id, prog.name));
      const info = prog.info();
      record.programs.push({ name: prog.name, section: prog.section, type: prog.type, typeName: prog.typeName, kernelId: info.id, tag: info.tag });
    }
    for (const map of obj.maps()) {
      map.pin(reg.mapPin(id, map.name));
      record.maps.push(mapRecordOf(map, btf));
    }
    obj.close();
    obj = undefined;
    const problem = openObjectPins(reg, loaded);
    if (problem !== undefined) throw NA_ERR_LOADER_INVALID_REQUEST(`object ${id}: its pins changed while it was loaded: ${problem}`);
    record.status = 'active';
    reg.persist();
    log.info({ path: src.path, sha256: src.sha256, programs: record.programs.length, maps: record.maps.length }, 'object loaded and pinned');
    return { object: loaded, alreadyLoaded: false };
  } catch (err) {
    obj?.close();
    reg.closeObject(loaded);
    rmSync(record.pinDir, { recursive: true, force: true });
    reg.objects.delete(id);
    try {
      reg.persist();
    } catch (persistErr) {
      log.error({ err: persistErr }, 'cannot write the state file after a failed load');
    }
    throw err;
  }
}

/**
 * Unloads an object: refuses while attachments use it (its programs, or programs on its
 * sockmaps) unless `force`, in which case `detach` removes them first. Answers the link ids detached.
 */
export function unloadObject(reg: Registry, id: string, force: boolean, detach: (linkId: string) => void): string[] {
  const o = reg.object(id);
  const used = reg.attachmentsOfObject(id);
  if (used.length > 0 && !force) {
    throw NA_ERR_LOADER_OBJECT_IN_USE.with({ details: { objectId: id, linkIds: used.map((a) => a.linkId) } }, id, used.map((a) => `${a.linkId}: ${a.mode}`).join(', '));
  }
  const detached: string[] = [];
  for (const a of used) {
    detach(a.linkId);
    detached.push(a.linkId);
  }
  reg.closeObject(o);
  rmSync(o.record.pinDir, { recursive: true, force: true });
  reg.objects.delete(id);
  reg.persist();
  reg.log.info({ object: id, detached }, 'object unloaded and unpinned');
  return detached;
}
