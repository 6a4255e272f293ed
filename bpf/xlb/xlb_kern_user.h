/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every struct and enum the xlb data plane shares with TypeScript (bpf/xlb/codec.ts,
 * bpf/xlb/drop-reasons.ts). Plain fixed-size C types only, every member at its natural
 * alignment and every gap an explicit pad member, so the layout is the same for clang's BPF
 * target and for the codecs; btf-layout.bpf.test.ts compares the codecs with the BTF of the
 * compiled objects and drop-reasons.test.ts compares the enum below with drop-reasons.ts.
 *
 * Byte order: addresses and ports are network order (__be*), as they sit in packets; every
 * other integer is host order. An IPv4 address is addr[0] with addr[1..3] zero.
 */
#ifndef XLB_KERN_USER_H
#define XLB_KERN_USER_H

/* --- enums ------------------------------------------------------------------------------------ */

/* How a VIP's packets reach the backend (xlb_vip_meta.mode). */
enum xlb_mode {
	XLB_MODE_NONE = 0,    /* unset: packets to the VIP are dropped (XLB_DROP_BAD_CONFIG) */
	XLB_MODE_L2_DSR = 1,  /* destination MAC := the backend's, XDP_TX */
	XLB_MODE_IPIP = 2,    /* outer IPv4/IPv6 header to the backend, XDP_TX */
	XLB_MODE_GUE = 3,     /* outer IP + UDP + GUE header to the backend, XDP_TX */
	XLB_MODE_NAT = 4,     /* destination := backend, source := balancer address and port */
};

/* State of a connection-table or NAT entry; 0 marks an empty per-CPU value. */
enum xlb_ct_state {
	XLB_CT_EMPTY = 0,
	XLB_CT_TCP_SYN = 1,         /* only SYNs seen: ct_tcp_syn_timeout_ms */
	XLB_CT_TCP_ESTABLISHED = 2, /* another segment seen: ct_tcp_timeout_ms */
	XLB_CT_TCP_CLOSING = 3,     /* FIN or RST seen: ct_tcp_closing_timeout_ms */
	XLB_CT_UDP = 4,             /* UDP (any non-TCP flow): ct_udp_timeout_ms */
};

/*
 * Why a packet was not balanced; the per-CPU array `drop_stats` counts packets and bytes per
 * reason. The comment of each entry starts with its verdict: "pass" reasons are packets the
 * balancer cannot tell to be its own (the kernel stack judges them, and drops the malformed
 * ones itself), "drop" reasons are packets to a VIP (or tunnels to this host) that cannot be
 * forwarded correctly, "tx" reasons packets answered instead of forwarded (an ICMP error sent
 * back with XDP_TX). Values are ABI: append, never renumber.
 */
enum xlb_drop_reason {
	XLB_DROP_NONE = 0,                /* unused: no reason */
	XLB_DROP_TRUNCATED = 1,           /* pass: a header does not fit in the frame or in the IP length */
	XLB_DROP_BAD_IHL = 2,             /* pass: IPv4 IHL below 5 or IP version not the EtherType's */
	XLB_DROP_BAD_LEN = 3,             /* pass: IP total / payload length below the header or beyond the frame */
	XLB_DROP_EXT_CHAIN = 4,           /* pass: more IPv6 extension headers than XLB_MAX_IPV6_EXT */
	XLB_DROP_FRAGMENT = 5,            /* drop: an IP fragment to a VIP */
	XLB_DROP_NO_BACKEND = 6,          /* drop: the table entry is no valid backend, or all probes were draining */
	XLB_DROP_BAD_CONFIG = 7,          /* drop: VIP meta unusable (mode, table size or index out of range) */
	XLB_DROP_NO_NEXTHOP = 8,          /* drop: no MAC for the backend (not on-link and no valid next hop) */
	XLB_DROP_NAT_PORTS_EXHAUSTED = 9, /* drop: every NAT source port probed is taken by a live flow */
	XLB_DROP_NO_NAT_SOURCE = 10,      /* drop: NAT VIP but no NAT source address for the backend's family */
	XLB_DROP_ADJUST_HEAD = 11,        /* drop: bpf_xdp_adjust_head refused to grow the frame */
	XLB_DROP_TOO_BIG = 12,            /* drop: the encapsulated packet would exceed encap_mtu (IPv4 without DF, ICMP errors) */
	XLB_DROP_FAMILY = 13,             /* drop: NAT between address families (IPv4 VIP, IPv6 backend) */
	XLB_DROP_ICMP_NAT = 14,           /* pass: an ICMP error quoting a NAT VIP flow without a usable entry (not translated) */
	XLB_DROP_DECAP_ADJUST_ROOM = 15,  /* drop: decap, bpf_skb_adjust_room failed */
	XLB_DROP_DECAP_BAD_INNER = 16,    /* drop: decap, the inner packet is not IPv4/IPv6 or is truncated */
	XLB_DROP_DECAP_BAD_GUE = 17,      /* drop: decap, GUE control message or unknown GUE version/protocol */
	XLB_DROP_ICMP_TOO_BIG = 18,       /* tx: over encap_mtu with DF (or IPv6): ICMP frag needed / packet too big sent back */
	XLB_DROP_MAX = 19,                /* entries of drop_stats */
};

/* Counters of the decapsulator (`decap_stats`, key = enum xlb_decap_stat). */
enum xlb_decap_stat {
	XLB_DECAP_IPIP = 0,  /* IPv4/IPv6 in IPv4/IPv6 decapsulated */
	XLB_DECAP_GUE = 1,   /* GUE decapsulated */
	XLB_DECAP_STAT_MAX = 2,
};

/* --- flags ------------------------------------------------------------------------------------ */

/* xlb_vip_meta.flags */
#define XLB_VIP_F_HASH_SRC_ONLY 0x1 /* Maglev hash on the source address only (client affinity) */

/* xlb_backend.flags */
#define XLB_BACKEND_F_VALID 0x1    /* the record is in use */
#define XLB_BACKEND_F_DRAINING 0x2 /* no new flows; flows in the connection table continue */
#define XLB_BACKEND_F_ON_LINK 0x4  /* reachable at `mac` directly; else via nexthops[nexthop] */

/* xlb_nexthop.flags */
#define XLB_NEXTHOP_F_VALID 0x1

/* Values of the `features` load-time global (all on by default). */
#define XLB_FEAT_IPV6 0x1        /* balance IPv6 VIPs (off: IPv6 passes untouched) */
#define XLB_FEAT_ICMP_ERRORS 0x2 /* send ICMP errors quoting a VIP flow to its backend */
#define XLB_FEAT_NAT 0x4         /* NAT mode and reply translation */
#define XLB_FEAT_ENCAP 0x8       /* IPIP and GUE modes */
#define XLB_FEAT_ALL 0xF

/* --- map keys and values ---------------------------------------------------------------------- */

/* Key of `vips`. A port of 0 is a port-wildcard VIP, looked up after the exact port. */
struct xlb_vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* 4 or 6 */
};

/*
 * Value of `vips`. The controller replaces the whole value (a hash-map update is atomic for
 * readers), so flipping active_slot after filling the spare table is one update.
 */
struct xlb_vip_meta {
	__u32 vip_index;  /* row in maglev_tables and vip_stats, < XLB_MAX_VIPS */
	__u32 flags;      /* XLB_VIP_F_* */
	__u32 table_size; /* entries used in each of the VIP's tables: a prime, 1..XLB_MAGLEV_SIZE */
	__u8 active_slot; /* 0 or 1: the table the data plane reads */
	__u8 mode;        /* enum xlb_mode */
	__u16 pad;        /* zero */
};

/* Value of `backends` (array, key = backend index). */
struct xlb_backend {
	__be32 addr[4];
	__u8 mac[6];   /* L2 DSR destination; for other modes used when XLB_BACKEND_F_ON_LINK */
	__be16 port;   /* NAT destination port; 0 keeps the VIP's port */
	__u8 family;   /* 4 or 6 */
	__u8 flags;    /* XLB_BACKEND_F_* */
	__u16 nexthop; /* index into `nexthops` when not on-link */
};

/* Value of `nexthops` (array): the router MAC that encapsulated / NAT traffic is sent to. */
struct xlb_nexthop {
	__u8 mac[6];
	__u16 flags; /* XLB_NEXTHOP_F_* */
};

/* Value of `config` (array of one): run-time settings of the balancer. */
struct xlb_config {
	__u8 local_mac[6];   /* source MAC of sent frames; all zero: the received frame's destination */
	__u16 nat_src_count; /* NAT source addresses: nat_src_v4/v6 and the ones after it (0 = 1) */
	__be32 nat_src_v4;   /* first NAT source address for IPv4 backends; 0: none */
	__be32 nat_src_v6[4]; /* first NAT source address for IPv6 backends; all zero: none */
};

/*
 * A flow as the balancer keys it: the client's packet (client -> VIP) in `conntrack`, the
 * backend's reply (backend -> NAT source) in `nat_rev`.
 */
struct xlb_flow_key {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family; /* 4 or 6 */
	__u16 pad;   /* zero */
};

/*
 * Key of `conntrack_v4`: an IPv4 client flow in 16 bytes (the map's hash and key compare cost
 * follow the key's size; IPv6 flows keep xlb_flow_key in `conntrack`).
 */
struct xlb_flow_key4 {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3]; /* zero */
};

/* Value of `conntrack` and `conntrack_v4`: where the flow goes. */
struct xlb_ct_value {
	__u64 last_seen_ns;  /* bpf_ktime_get_coarse_ns() of the flow's last packet */
	__u32 backend_index;
	__u32 vip_index;     /* an entry of another VIP (re-numbered VIPs) is ignored */
	__be16 nat_port;     /* NAT: the flow's source port towards the backend; else 0 */
	__u8 state;          /* enum xlb_ct_state; XLB_CT_EMPTY: no entry */
	__u8 nat_src_index;  /* NAT: which source address (0 .. nat_src_count-1) */
	__u32 flow_hash;     /* the flow's 5-tuple hash (XLB_HASH_SEED) for the encapsulation; 0: not recorded, computed again */
};

/* Value of `nat_rev` (key: the reply's flow backend -> NAT source): what to translate it to. */
struct xlb_nat_value {
	__u64 last_seen_ns;      /* last packet in either direction */
	__u32 vip_index;
	__u32 backend_index;
	__be32 client_addr[4];
	__be32 vip_addr[4];
	__be16 client_port;
	__be16 vip_port;
	__u8 client_mac[6];      /* L2 source of the client's packets: translated replies go there */
	__u8 state;              /* enum xlb_ct_state */
	__u8 pad8;
	__u32 pad32;
};

/* Value of `vip_stats` and `backend_stats` (per CPU). */
struct xlb_stats {
	__u64 packets;       /* forwarded towards backends */
	__u64 bytes;         /* of those, as received (before encapsulation) */
	__u64 new_flows;     /* connection-table entries created */
	__u64 reply_packets; /* NAT replies translated back to clients */
	__u64 reply_bytes;
};

/* Value of `drop_stats` (key = enum xlb_drop_reason) and `decap_stats` (per CPU). */
struct xlb_counter {
	__u64 packets;
	__u64 bytes;
};

/* Key of `decap_addrs`: a local address tunnels may be addressed to (value: __u32, 0). */
struct xlb_decap_key {
	__be32 addr[4];
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
};

#endif /* XLB_KERN_USER_H */
