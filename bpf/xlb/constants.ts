/**
 * Enums, flags and defaults of the xlb data plane, as xlb_kern_user.h and xlb_consts.h define
 * them. drop-reasons.ts holds the drop-reason table; codec.ts the struct layouts. The header is
 * the source: drop-reasons.test.ts and constants.test.ts compare these with its text, and
 * btf-layout.bpf.test.ts compares the layouts with the compiled objects.
 */

/** enum xlb_mode: how a VIP's packets reach the backend. */
export const XLB_MODE = Object.freeze({ 'l2-dsr': 1, ipip: 2, gue: 3, nat: 4 } as const);
export type XlbModeName = keyof typeof XLB_MODE;

/** enum xlb_ct_state: state of a connection-table or NAT entry (0: empty). */
export const XLB_CT_STATE = Object.freeze({ empty: 0, 'tcp-syn': 1, 'tcp-established': 2, 'tcp-closing': 3, udp: 4 } as const);
export type XlbCtStateName = keyof typeof XLB_CT_STATE;

/** enum xlb_decap_stat: keys of the decapsulator's decap_stats. */
export const XLB_DECAP_STAT = Object.freeze({ ipip: 0, gue: 1 } as const);
export const XLB_DECAP_STAT_MAX = 2;

/** xlb_vip_meta.flags */
export const XLB_VIP_F = Object.freeze({ HASH_SRC_ONLY: 0x1 } as const);
/** xlb_backend.flags */
export const XLB_BACKEND_F = Object.freeze({ VALID: 0x1, DRAINING: 0x2, ON_LINK: 0x4 } as const);
/** xlb_nexthop.flags */
export const XLB_NEXTHOP_F = Object.freeze({ VALID: 0x1 } as const);
/** Bits of the `features` load-time global. */
export const XLB_FEAT = Object.freeze({ IPV6: 0x1, ICMP_ERRORS: 0x2, NAT: 0x4, ENCAP: 0x8, ALL: 0xf } as const);

/** Build-time defaults (xlb_consts.h); the loaded object's map sizes are authoritative. */
export const XLB_BUILD_DEFAULTS = Object.freeze({
  XLB_MAX_VIPS: 64,
  XLB_MAGLEV_SIZE: 65537, // entries per table slot, a prime
  XLB_MAX_BACKENDS: 4096,
  XLB_MAX_NEXTHOPS: 16,
  XLB_CT_SIZE: 65536, // flows
  XLB_NAT_SIZE: 65536, // flows
  XLB_MAX_DECAP_ADDRS: 64,
  XLB_MAX_IPV6_EXT: 4, // extension headers walked
  XLB_DRAIN_PROBES: 4, // table positions tried past a draining backend
  XLB_NAT_PROBES: 8, // candidate NAT ports per new flow
  XLB_NAT_SRC_MAX: 64, // NAT source addresses (config nat_src_count)
  XLB_HASH_SEED: 0x7862c0de,
  XLB_NAT_HASH_SEED: 0x6e617470,
  XLB_GUE_SPORT_BASE: 0xc000,
  XLB_GUE_SPORT_MASK: 0x3fff,
  XLB_ENCAP_TTL: 64,
});

/** Load-time globals of xlb.bpf.o (`.rodata`) with their defaults; units in the names. */
export const XLB_GLOBAL_DEFAULTS = Object.freeze({
  features: XLB_FEAT.ALL,
  gue_port: 6080,
  encap_src_v4: 0xac100000, // 172.16.0.0, host order
  encap_src_v4_len: 16,
  encap_src_v6: '100::', // network order in the object (__be32[4])
  encap_src_v6_len: 64,
  encap_mtu: 0, // bytes; 0: no limit
  nat_port_min: 1024,
  nat_port_max: 65535,
  nat_tcp_time_wait_ms: 60_000, // 60 s: a closed TCP flow's NAT port stays reserved (the backend's TIME_WAIT)
  ct_tcp_syn_timeout_ms: 30_000, // 30 s
  ct_tcp_timeout_ms: 3_600_000, // 1 h
  ct_tcp_closing_timeout_ms: 10_000, // 10 s
  ct_udp_timeout_ms: 30_000, // 30 s
});

/** The XDP program and map names of xlb.bpf.o, and the TC program of xlb_decap.bpf.o. */
export const XLB_OBJECTS = Object.freeze({
  balancer: { path: 'build/xlb/xlb.bpf.o', program: 'xlb_xdp' },
  decap: { path: 'build/xlb/xlb_decap.bpf.o', program: 'xlb_decap' },
});

/** The maps of xlb.bpf.o that lb-controller reads and writes. */
export type XlbMapName = 'vips' | 'maglev_tables' | 'backends' | 'nexthops' | 'xlb_config' | 'vip_stats' | 'backend_stats' | 'drop_stats' | 'conntrack' | 'conntrack_v4';

/**
 * xlb.bpf.o as `@netaccel/dataplane` opens it (a ProgramDescriptor): the program attached to the
 * balancer's interface and every map the controller uses, checked to exist when it opens.
 */
export const XLB_BALANCER: { readonly name: 'xlb'; readonly program: string; readonly maps: readonly XlbMapName[] } = Object.freeze({
  name: 'xlb',
  program: XLB_OBJECTS.balancer.program,
  maps: Object.freeze(['vips', 'maglev_tables', 'backends', 'nexthops', 'xlb_config', 'vip_stats', 'backend_stats', 'drop_stats', 'conntrack', 'conntrack_v4'] as const),
});
