/**
 * Programs xlb.bpf.o for the namespace sections, straight through its maps with @netaccel/bpf
 * (the lb-controller is not used here): the balancer's MAC and NAT source, the two backends
 * (on-link, by MAC), and one VIP per forwarding mode for TCP port 80 (HTTP) and UDP port 9
 * (the flood), each with a Maglev-sized table alternating the two backends. The backends'
 * decapsulator (xlb_decap.bpf.o) learns their addresses.
 */
import { encodeBackend, encodeConfig, encodeDecapKey, encodeU32, XLB_BACKEND_F } from '@netaccel/bpf-programs/xlb';
import type { XlbModeName } from '@netaccel/bpf-programs/xlb';
import { vipEntries } from '@netaccel/bpf-programs/xlb/testing';
import type { TestVip, XlbObject } from '@netaccel/bpf-programs/xlb/testing';
import { XLB_BENCH_NET as NET, XLB_BENCH_VIP as VIP } from '@netaccel/labs';

export const XDP_MODES = ['l2-dsr', 'ipip', 'gue', 'nat'] as const satisfies readonly XlbModeName[];
export type XdpMode = (typeof XDP_MODES)[number];

export const HTTP_PORT = 80;
export const FLOOD_PORT = 9; // UDP discard
/** Entries of each VIP's table: a prime, as Maglev wants. */
export const TABLE_SIZE = 1021;

/** The VIPs xlb serves: (mode, protocol) → vip index. */
export function benchVips(): TestVip[] {
  const out: TestVip[] = [];
  const table = Array.from({ length: TABLE_SIZE }, (_, i) => i % NET.backends.length);
  for (const [i, mode] of XDP_MODES.entries()) {
    for (const [j, [protocol, port]] of ([['tcp', HTTP_PORT], ['udp', FLOOD_PORT]] as const).entries()) {
      out.push({
        name: `${mode}-${protocol}`,
        key: { address: VIP[mode], port, protocol },
        meta: { vipIndex: i * 2 + j, flags: 0, tableSize: TABLE_SIZE, activeSlot: 0, mode },
        table,
      });
    }
  }
  return out;
}

/** vip_stats index of a mode's VIP for a protocol. */
export function vipIndex(mode: XdpMode, protocol: 'tcp' | 'udp'): number {
  return XDP_MODES.indexOf(mode) * 2 + (protocol === 'tcp' ? 0 : 1);
}

/** Writes config, backends and VIPs into a loaded xlb. `backendMacs` in NET.backends order. */
export function programXlb(xlb: XlbObject, lbMac: string, backendMacs: readonly string[]): void {
  xlb.map('xlb_config').update(encodeU32(0), encodeConfig({ localMac: lbMac, natSourceV4: NET.natSource }));
  NET.backends.forEach((address, i) => {
    const mac = backendMacs[i];
    if (!mac) throw new Error(`backend ${address}: no MAC`);
    const record = { address, mac, port: 0, flags: XLB_BACKEND_F.VALID | XLB_BACKEND_F.ON_LINK, nexthop: 0 };
    xlb.map('backends').update(encodeU32(i), encodeBackend(record));
  });
  const size = xlb.maglevSize;
  for (const v of benchVips()) {
    const entries = vipEntries(v, size);
    const tables = entries.filter((e) => e.map === 'maglev_tables');
    xlb.map('maglev_tables').updateBatch(tables.map((e) => [e.key, e.value] as const));
    for (const e of entries.filter((x) => x.map !== 'maglev_tables')) xlb.map(e.map).update(e.key, e.value);
  }
}

/** The decapsulator's local tunnel addresses: both backends (one object serves both). */
export function programDecap(decap: XlbObject): void {
  for (const a of NET.backends) decap.map('decap_addrs').update(encodeDecapKey(a), encodeU32(0));
}
