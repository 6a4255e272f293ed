/**
 * The balancer's data plane as the controller sees it: typed writes of VIPs, table slots,
 * backends, next hops and the run-time config, and reads of the counters. `XlbDataPlane` encodes
 * with bpf/xlb/codec.ts (checked against the object's BTF there) and reaches the maps through a
 * MapAccess: the Loader gRPC service in production, libbpf in this process for tests.
 */
import { decodeBackend, decodeCounter, decodeCtValue, decodeStats, decodeU32, decodeVipKey, decodeVipMeta, encodeBackend, encodeConfig, encodeNexthop, encodeU32, encodeVipKey, encodeVipMeta, XLB_BACKEND_F, XLB_DROP_MAX, XLB_GLOBAL_DEFAULTS, XLB_LAYOUTS } from '@netaccel/bpf-programs/xlb';
import type { Backend, Counter, Nexthop, Stats, VipKey, VipMeta, XlbConfig } from '@netaccel/bpf-programs/xlb';
import type { XlbMapName } from '@netaccel/bpf-programs/xlb';
import type { MapAccess } from '@netaccel/dataplane';

/** A u32 array's bytes in little-endian order (the maps' host order on the BPF targets we build for). */
function le32(a: Uint32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const b = Buffer.alloc(a.byteLength);
  a.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
  return b;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface DataPlaneInfo {
  /** Entries per table slot (XLB_MAGLEV_SIZE of the loaded build). */
  readonly maglevSize: number;
  readonly maxVips: number;
  readonly maxBackends: number;
  readonly maxNexthops: number;
}

/** Live flows per backend index, from the connection table. */
export type FlowCounts = Map<number, number>;

export interface DataPlane {
  readonly info: DataPlaneInfo;
  readonly describe: string;
  writeConfig(config: XlbConfig): Promise<void>;
  writeNexthop(index: number, nexthop: Nexthop): Promise<void>;
  writeBackend(index: number, backend: Backend): Promise<void>;
  /** Several backend records in one batch (one call through the loader). */
  writeBackends(records: readonly { index: number; backend: Backend }[]): Promise<void>;
  /** Inserts or replaces a VIP's meta (the VIP's table slot must be written first). */
  writeVip(key: VipKey, meta: VipMeta): Promise<void>;
  /** Makes `meta.activeSlot` the VIP's table: one `vips` update, atomic for readers. */
  flipSlot(key: VipKey, meta: VipMeta): Promise<void>;
  deleteVip(key: VipKey): Promise<void>;
  /**
   * Writes entries of a VIP's table slot: `positions[i]` := `values[i]`, or the whole slot
   * (`values[p]` for every position p) when positions is undefined.
   */
  writeTableSlot(vipIndex: number, slot: 0 | 1, values: Uint32Array, positions?: Uint32Array): Promise<void>;
  /** Zeroes a stats row (a VIP or backend index given to something new). */
  resetStats(map: 'vip_stats' | 'backend_stats', index: number): Promise<void>;
  readStats(map: 'vip_stats' | 'backend_stats', index: number): Promise<Stats>;
  /** Drop counters by reason value (1..XLB_DROP_MAX-1). */
  readDrops(): Promise<Map<number, Counter>>;
  /** Live (not expired, not closing) connection-table flows per backend index. */
  activeFlows(nowNs: bigint): Promise<FlowCounts>;
  /** VIPs in the data plane now (a restarted controller adopts them). */
  readVips(): Promise<{ key: VipKey; meta: VipMeta }[]>;
  /** Indexes of backend records that are VALID now. */
  validBackends(): Promise<number[]>;
  /** The backend record at an index (one lookup); undefined when none was ever written there. */
  readBackend(index: number): Promise<Backend | undefined>;
  attached(): Promise<boolean>;
  close(): Promise<void>;
}

const ZERO_STATS = Buffer.alloc(40);

/** Connection-table timeouts by state name (the object's defaults unless configured). */
export interface CtTimeouts {
  readonly 'tcp-syn': number;
  readonly 'tcp-established': number;
  readonly udp: number;
}

export class XlbDataPlane implements DataPlane {
  readonly info: DataPlaneInfo;
  readonly #maps: MapAccess<XlbMapName>;
  readonly #timeoutsNs: Readonly<Record<string, bigint>>;

  constructor(maps: MapAccess<XlbMapName>, ctTimeoutsMs: Partial<CtTimeouts> = {}) {
    this.#maps = maps;
    const maxVips = maps.geometry('vip_stats').maxEntries;
    this.info = Object.freeze({
      maglevSize: maps.geometry('maglev_tables').maxEntries / (2 * maxVips),
      maxVips,
      maxBackends: maps.geometry('backends').maxEntries,
      maxNexthops: maps.geometry('nexthops').maxEntries,
    });
    const ms = (v: number | undefined, d: number): bigint => BigInt(v ?? d) * 1_000_000n;
    this.#timeoutsNs = Object.freeze({
      'tcp-syn': ms(ctTimeoutsMs['tcp-syn'], XLB_GLOBAL_DEFAULTS.ct_tcp_syn_timeout_ms),
      'tcp-established': ms(ctTimeoutsMs['tcp-established'], XLB_GLOBAL_DEFAULTS.ct_tcp_timeout_ms),
      udp: ms(ctTimeoutsMs.udp, XLB_GLOBAL_DEFAULTS.ct_udp_timeout_ms),
    });
  }

  get describe(): string {
    return this.#maps.describe;
  }

  writeConfig(config: XlbConfig): Promise<void> {
    return this.#maps.update('xlb_config', encodeU32(0), encodeConfig(config));
  }

  writeNexthop(index: number, nexthop: Nexthop): Promise<void> {
    return this.#maps.update('nexthops', encodeU32(index), encodeNexthop(nexthop));
  }

  writeBackend(index: number, backend: Backend): Promise<void> {
    return this.#maps.update('backends', encodeU32(index), encodeBackend(backend));
  }

  async writeBackends(records: readonly { index: number; backend: Backend }[]): Promise<void> {
    if (records.length === 0) return;
    if (records.length === 1) return this.writeBackend(records[0]!.index, records[0]!.backend);
    await this.#maps.updateBatch('backends', records.map((r) => encodeU32(r.index)), records.map((r) => encodeBackend(r.backend)));
  }

  writeVip(key: VipKey, meta: VipMeta): Promise<void> {
    return this.#maps.update('vips', encodeVipKey(key), encodeVipMeta(meta));
  }

  flipSlot(key: VipKey, meta: VipMeta): Promise<void> {
    return this.writeVip(key, meta);
  }

  deleteVip(key: VipKey): Promise<void> {
    return this.#maps.delete('vips', encodeVipKey(key));
  }

  async writeTableSlot(vipIndex: number, slot: 0 | 1, values: Uint32Array, positions?: Uint32Array): Promise<void> {
    const m = this.info.maglevSize;
    if (vipIndex >= this.info.maxVips) throw new RangeError(`vipIndex: expected 0..${this.info.maxVips - 1}, got ${vipIndex}`);
    const n = positions ? positions.length : values.length;
    if (n === 0) return;
    const base = (vipIndex * 2 + slot) * m;
    // keys and values as two contiguous little-endian u32 arrays: one packed call, one syscall
    const keys = new Uint32Array(n);
    const vals = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const pos = positions ? positions[i]! : i;
      if (pos >= m) throw new RangeError(`position: expected 0..${m - 1}, got ${pos}`);
      keys[i] = base + pos;
      vals[i] = positions ? values[i]! : values[pos]!;
    }
    await this.#maps.updatePacked('maglev_tables', n, le32(keys), le32(vals));
  }

  resetStats(map: 'vip_stats' | 'backend_stats', index: number): Promise<void> {
    return this.#maps.update(map, encodeU32(index), ZERO_STATS);
  }

  async readStats(map: 'vip_stats' | 'backend_stats', index: number): Promise<Stats> {
    const values = await this.#maps.lookupPerCpu(map, encodeU32(index));
    return decodeStats(values ?? []);
  }

  async readDrops(): Promise<Map<number, Counter>> {
    const out = new Map<number, Counter>();
    for (let i = 1; i < XLB_DROP_MAX; i++) out.set(i, decodeCounter((await this.#maps.lookupPerCpu('drop_stats', encodeU32(i))) ?? []));
    return out;
  }

  async activeFlows(nowNs: bigint): Promise<FlowCounts> {
    const out: FlowCounts = new Map();
    for (const table of ['conntrack_v4', 'conntrack'] as const) {
      for await (const { value } of this.#maps.dump(table)) {
        const ct = decodeCtValue(value);
        const timeout = this.#timeoutsNs[ct.state];
        if (timeout === undefined) continue; // closing
        if (nowNs > ct.lastSeenNs && nowNs - ct.lastSeenNs > timeout) continue;
        out.set(ct.backendIndex, (out.get(ct.backendIndex) ?? 0) + 1);
      }
    }
    return out;
  }

  async readVips(): Promise<{ key: VipKey; meta: VipMeta }[]> {
    const out: { key: VipKey; meta: VipMeta }[] = [];
    for await (const e of this.#maps.dump('vips')) out.push({ key: decodeVipKey(e.key), meta: decodeVipMeta(e.value) });
    return out;
  }

  async validBackends(): Promise<number[]> {
    const out: number[] = [];
    for await (const e of this.#maps.dump('backends')) {
      if ((e.value[XLB_LAYOUTS.backend.members.flags]! & XLB_BACKEND_F.VALID) !== 0) out.push(decodeU32(e.key));
    }
    return out;
  }

  async readBackend(index: number): Promise<Backend | undefined> {
    const v = await this.#maps.lookup('backends', encodeU32(index));
    if (!v) return undefined;
    try {
      return decodeBackend(v);
    } catch {
      return undefined; // never written: no address family
    }
  }

  attached(): Promise<boolean> {
    return this.#maps.attached();
  }

  close(): Promise<void> {
    return this.#maps.close();
  }
}
