/**
 * A program's maps through ebpf-loader's gRPC Loader API (ARCHITECTURE.md: the loader owns every
 * BPF object of a host). Opening loads the object (idempotent: the loader answers the object it
 * already has for the same file, globals and map sizes, so a restarted daemon re-adopts the
 * running data plane), attaches the descriptor's program unless it is already attached there,
 * and resolves the map ids. Globals travel as typed values and the loader encodes them from the
 * object's BTF. Tables travel packed (two byte strings per call). Closing leaves the program
 * attached and the maps pinned: the data plane keeps forwarding while the daemon restarts.
 */
import { LoaderClient, createRpcClient, loaderV1, parseAddress } from '@netaccel/rpc';
import type { RpcClient } from '@netaccel/rpc';
import type { GlobalValues, MapAccess, MapGeometry, OpenOptions, ProgramDescriptor } from './access.js';
import { checkPacked, packEntries } from './access.js';
import { NA_ERR_DATAPLANE_INVALID, NA_ERR_DATAPLANE_OBJECT, NA_ERR_DATAPLANE_OP } from './errors.js';

export interface LoaderOpenOptions extends OpenOptions {
  /** The loader's socket or host:port. */
  readonly address: string;
  /** The object as the loader should find it (inside its allowed directory). */
  readonly objectPath: string;
  /** Who asks, recorded by the loader ("lb-controller"). */
  readonly owner: string;
  /** Per-call deadline, ms (default 10 s; loading 60 s). */
  readonly deadlineMs?: number;
}

/** Bytes of keys and values per packed call: under gRPC's default 4 MiB message limit. */
const PACKED_CALL_BYTES = 3 * 1024 * 1024;
/** Keys per MapLookupBatch call (the loader's limit). */
const LOOKUP_BATCH_KEYS = 4096;

/** Where one of the object's programs goes (sockmap and cgroup hooks; XDP is the descriptor's `iface`). */
export type LoaderAttachPoint<M extends string = string> =
  | { readonly mode: 'sk-skb-stream-parser' | 'sk-skb-stream-verdict' | 'sk-skb-verdict' | 'sk-msg-verdict'; readonly map: M }
  | { readonly mode: 'sockops'; readonly cgroup: string };

const UPDATE_FLAGS = Object.freeze({ any: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_ANY, exist: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_EXIST, noexist: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_NOEXIST });

const POINT_MODES: Readonly<Record<LoaderAttachPoint['mode'], loaderV1.AttachMode>> = Object.freeze({
  'sk-skb-stream-parser': loaderV1.AttachMode.ATTACH_MODE_SK_SKB_STREAM_PARSER,
  'sk-skb-stream-verdict': loaderV1.AttachMode.ATTACH_MODE_SK_SKB_STREAM_VERDICT,
  'sk-skb-verdict': loaderV1.AttachMode.ATTACH_MODE_SK_SKB_VERDICT,
  'sk-msg-verdict': loaderV1.AttachMode.ATTACH_MODE_SK_MSG_VERDICT,
  sockops: loaderV1.AttachMode.ATTACH_MODE_SOCKOPS,
});

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const kindOf = (err: unknown): string | undefined => (err instanceof Error ? (err as { kind?: string }).kind : undefined);

function failed(what: string, err: unknown): Error {
  return NA_ERR_DATAPLANE_OP.with({ cause: err }, `${what} (ebpf-loader)`, message(err));
}

/** Typed globals for LoadObject. */
export function typedGlobals(globals: GlobalValues): Record<string, loaderV1.GlobalValue> {
  const out: Record<string, loaderV1.GlobalValue> = {};
  for (const [name, v] of Object.entries(globals)) {
    let value: loaderV1.GlobalValue['value'];
    if (typeof v === 'boolean') value = { $case: 'boolean', value: v };
    else if (v instanceof Uint8Array) value = { $case: 'raw', value: Buffer.from(v) };
    else {
      if (typeof v === 'number' && !Number.isInteger(v)) throw NA_ERR_DATAPLANE_INVALID(`globals.${name}: expected an integer, got ${v}`);
      const b = BigInt(v);
      value = b < 0n ? { $case: 'signed', value: b } : { $case: 'unsigned', value: b };
    }
    out[name] = loaderV1.GlobalValue.create({ value });
  }
  return out;
}

export class LoaderDataPlane<M extends string = string> implements MapAccess<M> {
  readonly describe: string;
  readonly descriptor: ProgramDescriptor<M>;
  readonly #client: RpcClient<typeof loaderV1.LoaderService>;
  readonly #maps: ReadonlyMap<string, loaderV1.MapInfo>;
  readonly #program: loaderV1.ProgramInfo;
  readonly #iface: string | undefined;

  private constructor(descriptor: ProgramDescriptor<M>, address: string, client: RpcClient<typeof loaderV1.LoaderService>, maps: ReadonlyMap<string, loaderV1.MapInfo>, program: loaderV1.ProgramInfo, iface: string | undefined) {
    this.descriptor = descriptor;
    this.describe = `ebpf-loader ${address}`;
    this.#client = client;
    this.#maps = maps;
    this.#program = program;
    this.#iface = iface;
  }

  /** The loader's id of the object. */
  get objectId(): string {
    return this.#program.objectId;
  }

  static async open<M extends string>(descriptor: ProgramDescriptor<M>, opts: LoaderOpenOptions): Promise<LoaderDataPlane<M>> {
    // the loader is local: its unary calls (every map write) take @netaccel/rpc's lean HTTP/2
    // transport on a Unix socket (about half grpc-js's client CPU per call); streams stay on grpc-js
    const unaryTransport = parseAddress(opts.address, { field: 'address' }).kind === 'unix' ? 'http2' : 'grpc-js';
    const client = createRpcClient(LoaderClient, { address: opts.address, deadlineMs: opts.deadlineMs ?? 10_000, unaryTransport });
    try {
      let loaded: loaderV1.LoadObjectResponse;
      try {
        loaded = await client.loadObject(
          loaderV1.LoadObjectRequest.create({ path: opts.objectPath, owner: opts.owner, typedGlobals: typedGlobals(opts.globals ?? {}), mapSizes: { ...opts.mapSizes } }),
          { deadlineMs: 60_000 },
        );
      } catch (err) {
        throw failed(`load ${opts.objectPath}`, err);
      }
      const object = loaded.object;
      const program = object?.programs.find((p) => p.name === descriptor.program);
      if (!object || !program) throw NA_ERR_DATAPLANE_OBJECT(opts.objectPath, `the loader's object has no program ${descriptor.program}`);
      const maps = new Map(object.maps.map((m) => [m.name, m] as const));
      for (const name of descriptor.maps) {
        if (!maps.has(name)) throw NA_ERR_DATAPLANE_OBJECT(opts.objectPath, `the loader's object has no map ${name} (the ${descriptor.name} descriptor needs it)`);
      }
      if (opts.iface !== undefined) {
        const iface = opts.iface;
        const already = program.attachPoints.some((p) => p.target?.$case === 'iface' && p.target.value.name === iface);
        if (!already) {
          const mode = opts.xdpMode === 'generic' ? loaderV1.AttachMode.ATTACH_MODE_XDP_GENERIC : loaderV1.AttachMode.ATTACH_MODE_XDP_NATIVE;
          try {
            await client.attach(loaderV1.AttachRequest.create({
              programId: program.id,
              point: loaderV1.AttachPoint.create({ mode, target: { $case: 'iface', value: loaderV1.Interface.create({ name: iface }) } }),
              replace: true,
            }));
          } catch (err) {
            throw failed(`attach ${program.id} to ${iface}`, err);
          }
        }
      }
      return new LoaderDataPlane(descriptor, opts.address, client, maps, program, opts.iface);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  #info(map: M): loaderV1.MapInfo {
    const m = this.#maps.get(map);
    if (!m || !this.descriptor.maps.includes(map)) throw NA_ERR_DATAPLANE_INVALID(`map ${map}: not in the ${this.descriptor.name} descriptor (it has ${this.descriptor.maps.join(', ')})`);
    return m;
  }

  geometry(map: M): MapGeometry {
    const m = this.#info(map);
    return { keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, perCpu: m.perCpu };
  }

  /** `flag` `exist` writes only over an entry that is there (BPF_EXIST), `noexist` only a new one. */
  async update(map: M, key: Buffer, value: Buffer, flag: 'any' | 'exist' | 'noexist' = 'any'): Promise<void> {
    const mapId = this.#info(map).id;
    try {
      await this.#client.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId, entry: { key, value, perCpuValues: [] }, flag: UPDATE_FLAGS[flag] }));
    } catch (err) {
      throw failed(`update ${map}`, err);
    }
  }

  async updateBatch(map: M, keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    const packed = packEntries(map, this.geometry(map), keys, values);
    await this.updatePacked(map, keys.length, packed.keys, packed.values);
  }

  async updatePacked(map: M, count: number, keys: Buffer, values: Buffer): Promise<void> {
    const info = this.#info(map);
    checkPacked(map, this.geometry(map), count, keys, values);
    const per = Math.max(1, Math.floor(PACKED_CALL_BYTES / (info.keySize + info.valueSize)));
    for (let at = 0; at < count; at += per) {
      const n = Math.min(per, count - at);
      const packed = loaderV1.PackedEntries.create({
        count: n,
        keys: keys.subarray(at * info.keySize, (at + n) * info.keySize),
        values: values.subarray(at * info.valueSize, (at + n) * info.valueSize),
      });
      try {
        await this.#client.mapUpdateBatch(loaderV1.MapUpdateBatchRequest.create({ mapId: info.id, packed, flag: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_ANY }));
      } catch (err) {
        throw failed(`batch update ${map}`, err);
      }
    }
  }

  async delete(map: M, key: Buffer): Promise<void> {
    const mapId = this.#info(map).id;
    try {
      await this.#client.mapDelete(loaderV1.MapDeleteRequest.create({ mapId, key }));
    } catch (err) {
      if (kindOf(err) === 'not-found') return;
      throw failed(`delete ${map}`, err);
    }
  }

  async lookup(map: M, key: Buffer): Promise<Buffer | undefined> {
    const mapId = this.#info(map).id;
    try {
      const r = await this.#client.mapLookup(loaderV1.MapLookupRequest.create({ mapId, key }));
      return r.entry?.value;
    } catch (err) {
      if (kindOf(err) === 'not-found') return undefined;
      throw failed(`lookup ${map}`, err);
    }
  }

  async lookupPerCpu(map: M, key: Buffer): Promise<Buffer[] | undefined> {
    const mapId = this.#info(map).id;
    try {
      const r = await this.#client.mapLookup(loaderV1.MapLookupRequest.create({ mapId, key }));
      return r.entry?.perCpuValues ?? [];
    } catch (err) {
      if (kindOf(err) === 'not-found') return undefined;
      throw failed(`lookup ${map}`, err);
    }
  }

  /**
   * The entries of many keys in one call per 4096 (MapLookupBatch), aligned with `keys`
   * (undefined: absent). Values of a per-CPU map are its CPUs' values, CPU 0 first.
   */
  async lookupMany(map: M, keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    return (await this.#lookupMany(map, keys)).map((e) => e?.value);
  }

  async lookupManyPerCpu(map: M, keys: readonly Buffer[]): Promise<(Buffer[] | undefined)[]> {
    return (await this.#lookupMany(map, keys)).map((e) => e?.perCpuValues);
  }

  async #lookupMany(map: M, keys: readonly Buffer[]): Promise<(loaderV1.MapEntry | undefined)[]> {
    const mapId = this.#info(map).id;
    const out: (loaderV1.MapEntry | undefined)[] = [];
    for (let at = 0; at < keys.length; at += LOOKUP_BATCH_KEYS) {
      const part = keys.slice(at, at + LOOKUP_BATCH_KEYS);
      let r: loaderV1.MapLookupBatchResponse;
      try {
        r = await this.#client.mapLookupBatch(loaderV1.MapLookupBatchRequest.create({ mapId, keys: [...part] }));
      } catch (err) {
        throw failed(`batch lookup ${map}`, err);
      }
      // present keys come back in the order asked: walk both lists once
      let j = 0;
      for (const k of part) {
        const e = r.entries[j];
        if (e !== undefined && e.key.equals(k)) {
          out.push(e);
          j++;
        } else {
          out.push(undefined);
        }
      }
    }
    return out;
  }

  /**
   * Attaches one of the object's programs to a sockmap / sockhash of the descriptor or to a
   * cgroup, unless it is attached there already (a restarted daemon finds it so); answers the
   * attachment's link id.
   */
  async attachProgram(program: string, point: LoaderAttachPoint<M>): Promise<string> {
    const mode = POINT_MODES[point.mode];
    const target: loaderV1.AttachPoint['target'] = 'map' in point ? { $case: 'sockmapId', value: this.#info(point.map).id } : { $case: 'cgroupPath', value: point.cgroup };
    const where = 'map' in point ? `map ${point.map}` : `cgroup ${point.cgroup}`;
    try {
      const listed = await this.#client.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: this.#program.objectId }));
      const p = listed.programs.find((x) => x.name === program);
      if (!p) throw NA_ERR_DATAPLANE_INVALID(`program ${program}: not in the loader's object ${this.#program.objectId}`);
      const there = p.attachPoints.find((a) => a.mode === mode && a.target?.$case === target.$case && a.target.value === target.value);
      if (there) return there.linkId;
      const r = await this.#client.attach(loaderV1.AttachRequest.create({ programId: p.id, point: loaderV1.AttachPoint.create({ mode, target }) }));
      return r.point?.linkId ?? '';
    } catch (err) {
      if (NA_ERR_DATAPLANE_INVALID.is(err)) throw err;
      throw failed(`attach ${program} (${point.mode}) to ${where}`, err);
    }
  }

  /** Removes an attachment made by `attachProgram`; one that is gone already is not an error. */
  async detach(linkId: string): Promise<void> {
    try {
      await this.#client.detach(loaderV1.DetachRequest.create({ linkId }));
    } catch (err) {
      if (kindOf(err) === 'not-found') return;
      throw failed(`detach ${linkId}`, err);
    }
  }

  async *dump(map: M): AsyncIterable<{ key: Buffer; value: Buffer }> {
    const mapId = this.#info(map).id;
    try {
      for await (const e of this.#client.mapDump(loaderV1.MapDumpRequest.create({ mapId }), { deadlineMs: 30_000 })) yield { key: e.key, value: e.value };
    } catch (err) {
      throw failed(`dump ${map}`, err);
    }
  }

  async *dumpPerCpu(map: M): AsyncIterable<{ key: Buffer; values: Buffer[] }> {
    const mapId = this.#info(map).id;
    try {
      for await (const e of this.#client.mapDump(loaderV1.MapDumpRequest.create({ mapId }), { deadlineMs: 30_000 })) yield { key: e.key, values: e.perCpuValues };
    } catch (err) {
      throw failed(`dump ${map}`, err);
    }
  }

  async attached(): Promise<boolean> {
    if (this.#iface === undefined) return false;
    try {
      const r = await this.#client.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: this.#program.objectId }));
      const p = r.programs.find((x) => x.id === this.#program.id);
      return p?.attachPoints.some((a) => a.target?.$case === 'iface' && a.target.value.name === this.#iface) ?? false;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}
