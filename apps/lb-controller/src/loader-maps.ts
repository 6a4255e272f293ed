/**
 * MapAccess through ebpf-loader's gRPC `Loader` service (ARCHITECTURE.md: every BPF operation of the
 * controller goes through the loader). Opening loads `xlb.bpf.o` (idempotent: the loader answers
 * the object it already has for the same file and globals, so a restarted controller re-adopts
 * the running data plane), attaches `xlb_xdp` to the interface unless it is already attached
 * there, and resolves the map ids. Closing leaves the program attached and the maps pinned: the
 * data plane keeps forwarding while the controller restarts.
 */
import { LoaderClient, createRpcClient, loaderV1 } from '@netaccel/rpc';
import type { RpcClient } from '@netaccel/rpc';
import { XLB_OBJECTS } from '@netaccel/bpf-programs/xlb';
import { NA_ERR_LB_DATAPLANE, NA_ERR_LB_OBJECT } from './errors.js';
import type { MapAccess, MapGeometry, XlbMapName } from './map-access.js';

/** Sizes (bytes) of xlb.bpf.o's numeric load-time globals, for encoding them for LoadObject. */
export const XLB_GLOBAL_SIZES: Readonly<Record<string, 1 | 2 | 4>> = Object.freeze({
  features: 4,
  gue_port: 2,
  encap_src_v4: 4,
  encap_src_v4_len: 1,
  encap_src_v6_len: 1,
  encap_mtu: 2,
  nat_port_min: 2,
  nat_port_max: 2,
  nat_tcp_time_wait_ms: 4,
  ct_tcp_syn_timeout_ms: 4,
  ct_tcp_timeout_ms: 4,
  ct_tcp_closing_timeout_ms: 4,
  ct_udp_timeout_ms: 4,
});

/** A global's bytes in its variable's layout (host order, little-endian). */
export function encodeGlobal(name: string, value: number): Buffer {
  const size = XLB_GLOBAL_SIZES[name];
  if (size === undefined) throw NA_ERR_LB_OBJECT(XLB_OBJECTS.balancer.path, `globals.${name}: unknown global (known: ${Object.keys(XLB_GLOBAL_SIZES).join(', ')})`);
  const max = 2 ** (8 * size) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) throw NA_ERR_LB_OBJECT(XLB_OBJECTS.balancer.path, `globals.${name}: expected an integer 0..${max}, got ${value}`);
  const b = Buffer.alloc(size);
  b.writeUIntLE(value, 0, size);
  return b;
}

export interface LoaderMapsOptions {
  /** The loader's socket or host:port. */
  readonly address: string;
  /** xlb.bpf.o as the loader should find it (inside its allowed directory). */
  readonly objectPath: string;
  /** Interface to attach xlb_xdp to; none: load only. */
  readonly iface?: string;
  readonly xdpMode?: 'native' | 'generic';
  readonly globals?: Readonly<Record<string, number>>;
  /** max_entries by map name (conntrack, nat_rev, …), set by the loader before load. */
  readonly mapSizes?: Readonly<Record<string, number>>;
  /** Per-call deadline, ms. */
  readonly deadlineMs?: number;
  readonly owner?: string;
}

/** Largest number of entries per MapUpdateBatch call (≈ 14 bytes each on the wire). */
const BATCH_CHUNK = 32_768;

function failed(what: string, err: unknown): Error {
  return NA_ERR_LB_DATAPLANE.with({ cause: err }, `${what} (ebpf-loader)`, err instanceof Error ? err.message : String(err));
}

export class LoaderMaps implements MapAccess {
  readonly describe: string;
  readonly #client: RpcClient<typeof loaderV1.LoaderService>;
  readonly #maps: ReadonlyMap<string, loaderV1.MapInfo>;
  readonly #program: loaderV1.ProgramInfo;
  readonly #iface: string | undefined;

  private constructor(address: string, client: RpcClient<typeof loaderV1.LoaderService>, maps: ReadonlyMap<string, loaderV1.MapInfo>, program: loaderV1.ProgramInfo, iface: string | undefined) {
    this.describe = `ebpf-loader ${address}`;
    this.#client = client;
    this.#maps = maps;
    this.#program = program;
    this.#iface = iface;
  }

  /** The loader's object of this data plane. */
  get objectId(): string {
    return this.#program.objectId;
  }

  static async open(opts: LoaderMapsOptions): Promise<LoaderMaps> {
    const client = createRpcClient(LoaderClient, { address: opts.address, deadlineMs: opts.deadlineMs ?? 10_000 });
    try {
      const globals: Record<string, Buffer> = {};
      for (const [name, value] of Object.entries(opts.globals ?? {})) globals[name] = encodeGlobal(name, value);
      let loaded: loaderV1.LoadObjectResponse;
      try {
        loaded = await client.loadObject(loaderV1.LoadObjectRequest.create({ path: opts.objectPath, owner: opts.owner ?? 'lb-controller', globals, mapSizes: { ...opts.mapSizes } }), { deadlineMs: 60_000 });
      } catch (err) {
        throw failed(`load ${opts.objectPath}`, err);
      }
      const object = loaded.object;
      const program = object?.programs.find((p) => p.name === XLB_OBJECTS.balancer.program);
      if (!object || !program) throw NA_ERR_LB_OBJECT(opts.objectPath, `the loader's object has no program ${XLB_OBJECTS.balancer.program}`);
      const maps = new Map(object.maps.map((m) => [m.name, m] as const));
      for (const name of ['vips', 'maglev_tables', 'backends', 'nexthops', 'xlb_config', 'vip_stats', 'backend_stats', 'drop_stats', 'conntrack']) {
        if (!maps.has(name)) throw NA_ERR_LB_OBJECT(opts.objectPath, `the loader's object has no map ${name}`);
      }
      if (opts.iface !== undefined) {
        const already = program.attachPoints.some((p) => p.target?.$case === 'iface' && p.target.value.name === opts.iface);
        if (!already) {
          const mode = opts.xdpMode === 'generic' ? loaderV1.AttachMode.ATTACH_MODE_XDP_GENERIC : loaderV1.AttachMode.ATTACH_MODE_XDP_NATIVE;
          try {
            await client.attach(
              loaderV1.AttachRequest.create({
                programId: program.id,
                point: loaderV1.AttachPoint.create({ mode, target: { $case: 'iface', value: loaderV1.Interface.create({ name: opts.iface }) } }),
                replace: true,
              }),
            );
          } catch (err) {
            throw failed(`attach ${program.id} to ${opts.iface}`, err);
          }
        }
      }
      return new LoaderMaps(opts.address, client, maps, program, opts.iface);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  #id(map: XlbMapName): string {
    return this.#maps.get(map)!.id;
  }

  geometry(map: XlbMapName): MapGeometry {
    const m = this.#maps.get(map)!;
    return { maxEntries: m.maxEntries, perCpu: m.perCpu };
  }

  async update(map: XlbMapName, key: Buffer, value: Buffer): Promise<void> {
    try {
      await this.#client.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId: this.#id(map), entry: { key, value, perCpuValues: [] }, flag: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_ANY }));
    } catch (err) {
      throw failed(`update ${map}`, err);
    }
  }

  async updateBatch(map: XlbMapName, keys: readonly Buffer[], values: readonly Buffer[]): Promise<void> {
    for (let at = 0; at < keys.length; at += BATCH_CHUNK) {
      const entries = keys.slice(at, at + BATCH_CHUNK).map((key, i) => loaderV1.MapEntry.create({ key, value: values[at + i]! }));
      try {
        await this.#client.mapUpdateBatch(loaderV1.MapUpdateBatchRequest.create({ mapId: this.#id(map), entries, flag: loaderV1.MapUpdateFlag.MAP_UPDATE_FLAG_ANY }));
      } catch (err) {
        throw failed(`batch update ${map}`, err);
      }
    }
  }

  async delete(map: XlbMapName, key: Buffer): Promise<void> {
    try {
      await this.#client.mapDelete(loaderV1.MapDeleteRequest.create({ mapId: this.#id(map), key }));
    } catch (err) {
      if (err instanceof Error && (err as { kind?: string }).kind === 'not-found') return;
      throw failed(`delete ${map}`, err);
    }
  }

  async lookupPerCpu(map: XlbMapName, key: Buffer): Promise<Buffer[] | undefined> {
    try {
      const r = await this.#client.mapLookup(loaderV1.MapLookupRequest.create({ mapId: this.#id(map), key }));
      return r.entry?.perCpuValues ?? [];
    } catch (err) {
      if (err instanceof Error && (err as { kind?: string }).kind === 'not-found') return undefined;
      throw failed(`lookup ${map}`, err);
    }
  }

  async *dump(map: XlbMapName): AsyncIterable<{ key: Buffer; value: Buffer }> {
    try {
      for await (const e of this.#client.mapDump(loaderV1.MapDumpRequest.create({ mapId: this.#id(map) }), { deadlineMs: 30_000 })) {
        yield { key: e.key, value: e.value };
      }
    } catch (err) {
      throw failed(`dump ${map}`, err);
    }
  }

  async *dumpPerCpu(map: XlbMapName): AsyncIterable<{ key: Buffer; values: Buffer[] }> {
    try {
      for await (const e of this.#client.mapDump(loaderV1.MapDumpRequest.create({ mapId: this.#id(map) }), { deadlineMs: 30_000 })) {
        yield { key: e.key, values: e.perCpuValues };
      }
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
