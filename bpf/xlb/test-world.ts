/**
 * The configuration the xlb fixtures run against: VIPs of every mode and family, backends,
 * a next hop, the NAT source addresses, and the map entries that install it. Plain data and
 * codecs only (no kernel), so the BPF tests and the benchmark install the same world with
 * whatever map API they use.
 */
import { XLB_BACKEND_F, XLB_NEXTHOP_F, XLB_VIP_F } from './constants.js';
import type { XlbModeName } from './constants.js';
import { encodeBackend, encodeConfig, encodeNexthop, encodeU32, encodeVipKey, encodeVipMeta, maglevKey } from './codec.js';
import type { Backend, FlowKey, VipKey, VipMeta, XlbConfig } from './codec.js';

/** MACs of the test segment. */
export const MAC = Object.freeze({
  lb: '02:00:00:00:01:00', // the balancer (config.localMac; clients' frames arrive to it)
  router: '02:00:00:00:00:fe', // where clients' frames come from
  nexthop: '02:00:00:00:00:fd', // next hop towards tunnelled backends
  backend: (i: number): string => `02:00:00:00:10:${i.toString(16).padStart(2, '0')}`,
});

export const CLIENT = Object.freeze({ v4: '192.0.2.10', v6: '2001:db8:c::10' });
export const NAT_SOURCE = Object.freeze({ v4: '10.99.0.1', v6: '2001:db8:99::1' });
/** A prime; every test VIP uses tables of this size (the map is sized for XLB_MAGLEV_SIZE). */
export const TEST_TABLE_SIZE = 13;

export interface TestBackend {
  readonly index: number;
  readonly record: Backend;
}

export interface TestVip {
  readonly name: string;
  readonly key: VipKey;
  readonly meta: VipMeta;
  /** Backend index at each position of the active table (TEST_TABLE_SIZE entries). */
  readonly table: readonly number[];
}

export interface XlbWorld {
  readonly config: XlbConfig;
  readonly nexthops: readonly { index: number; mac: string }[];
  readonly backends: readonly TestBackend[];
  readonly vips: readonly TestVip[];
}

const ON_LINK = XLB_BACKEND_F.VALID | XLB_BACKEND_F.ON_LINK;
const ROUTED = XLB_BACKEND_F.VALID;

function backend(index: number, address: string, flags: number, port = 0): TestBackend {
  return { index, record: { address, mac: flags & XLB_BACKEND_F.ON_LINK ? MAC.backend(index) : '00:00:00:00:00:00', port, flags, nexthop: 0 } };
}

function vip(
  vipIndex: number,
  name: string,
  address: string,
  port: number,
  protocol: 'tcp' | 'udp',
  mode: XlbModeName,
  backends: readonly number[],
  flags = 0,
): TestVip {
  const table = Array.from({ length: TEST_TABLE_SIZE }, (_, i) => backends[i % backends.length]!);
  return { name, key: { address, port, protocol }, meta: { vipIndex, flags, tableSize: TEST_TABLE_SIZE, activeSlot: 0, mode }, table };
}

/** The test world. Backend indexes name their role; each VIP name says mode and family. */
export function xlbWorld(): XlbWorld {
  return {
    config: { localMac: MAC.lb, natSourceV4: NAT_SOURCE.v4, natSourceV6: NAT_SOURCE.v6 },
    nexthops: [{ index: 0, mac: MAC.nexthop }],
    backends: [
      backend(0, '10.1.0.10', ON_LINK, 8080),
      backend(1, '10.1.0.11', ON_LINK, 8080),
      backend(2, '2001:db8:1::10', ON_LINK, 8080),
      backend(3, '2001:db8:1::11', ON_LINK, 8080),
      backend(4, '10.2.0.20', ROUTED),
      backend(5, '2001:db8:2::20', ROUTED),
      backend(6, '10.2.0.21', ROUTED),
      backend(7, '2001:db8:2::21', ROUTED),
      backend(8, '10.1.0.12', ON_LINK), // port 0: NAT keeps the VIP's port
    ],
    vips: [
      vip(0, 'l2-v4', '10.0.0.1', 80, 'tcp', 'l2-dsr', [0]),
      vip(1, 'l2-v6', '2001:db8::1', 80, 'tcp', 'l2-dsr', [2]),
      vip(2, 'ipip-v4', '10.0.0.2', 80, 'tcp', 'ipip', [4]),
      vip(3, 'ipip-v6', '2001:db8::2', 80, 'tcp', 'ipip', [5]),
      vip(4, 'gue-v4', '10.0.0.3', 80, 'tcp', 'gue', [4]),
      vip(5, 'gue-v6', '2001:db8::3', 80, 'tcp', 'gue', [5]),
      vip(6, 'nat-v4', '10.0.0.4', 80, 'tcp', 'nat', [0]),
      vip(7, 'nat-v6', '2001:db8::4', 80, 'tcp', 'nat', [2]),
      vip(8, 'wildcard-v4', '10.0.0.5', 0, 'tcp', 'l2-dsr', [1]),
      vip(9, 'src-hash-v4', '10.0.0.6', 53, 'udp', 'l2-dsr', [0, 1], XLB_VIP_F.HASH_SRC_ONLY),
      vip(10, 'multi-v4', '10.0.0.7', 80, 'tcp', 'l2-dsr', [0, 1]),
      vip(11, 'gue-udp-v6', '2001:db8::3', 53, 'udp', 'gue', [5]),
      vip(12, 'ipip-4in6', '10.0.0.9', 80, 'tcp', 'ipip', [7]),
      vip(13, 'nat-udp-v4', '10.0.0.4', 53, 'udp', 'nat', [8]),
      vip(14, 'exact-over-wildcard-v4', '10.0.0.5', 22, 'tcp', 'l2-dsr', [0]),
      vip(15, 'gue-6in4', '2001:db8::5', 80, 'tcp', 'gue', [6]),
    ],
  };
}

export function worldVip(world: XlbWorld, name: string): TestVip {
  const v = world.vips.find((x) => x.name === name);
  if (!v) throw new RangeError(`vip: no test VIP called ${JSON.stringify(name)}`);
  return v;
}

export function worldBackend(world: XlbWorld, index: number): Backend {
  const b = world.backends.find((x) => x.index === index);
  if (!b) throw new RangeError(`backend: no test backend ${index}`);
  return b.record;
}

/** A client flow to a test VIP (the VIP's port unless `dport` is given). */
export function clientFlow(v: TestVip, sport: number, family: 4 | 6, dport = v.key.port): FlowKey {
  return { src: family === 4 ? CLIENT.v4 : CLIENT.v6, dst: v.key.address, sport, dport, protocol: v.key.protocol === 'tcp' ? 6 : 17 };
}

export interface MapEntrySpec {
  readonly map: string;
  readonly key: Buffer;
  readonly value: Buffer;
}

/** The map entries of one VIP: its meta and its table in `slot`. */
export function vipEntries(v: TestVip, maglevSize: number, slot: 0 | 1 = v.meta.activeSlot, table = v.table): MapEntrySpec[] {
  const meta = { ...v.meta, activeSlot: slot };
  return [
    ...table.map((be, pos) => ({ map: 'maglev_tables', key: maglevKey(v.meta.vipIndex, slot, pos, maglevSize), value: encodeU32(be) })),
    { map: 'vips', key: encodeVipKey(v.key), value: encodeVipMeta(meta) },
  ];
}

/** Every map entry of the world, tables before the VIPs that use them. */
export function worldEntries(world: XlbWorld, maglevSize: number): MapEntrySpec[] {
  return [
    { map: 'xlb_config', key: encodeU32(0), value: encodeConfig(world.config) },
    ...world.nexthops.map((n) => ({ map: 'nexthops', key: encodeU32(n.index), value: encodeNexthop({ mac: n.mac, flags: XLB_NEXTHOP_F.VALID }) })),
    ...world.backends.map((b) => ({ map: 'backends', key: encodeU32(b.index), value: encodeBackend(b.record) })),
    ...world.vips.flatMap((v) => vipEntries(v, maglevSize)),
  ];
}
