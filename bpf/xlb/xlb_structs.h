/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel-only structs of xlb (what is shared with user space is in xlb_kern_user.h).
 *
 * The program is split into the inlined parser in the entry function and a few global
 * (non-static, noinline) functions that the verifier checks once each, whatever the parser's
 * path: scheduling (connection table, Maglev, NAT ports), encapsulation and NAT rewriting.
 * Checked together as one function, every parse outcome (VLAN tags x IP version x extension
 * headers x protocol) multiplied every forwarding path and exceeded the verifier's 1M
 * instruction budget. Global functions take scalars only (packet offsets, not pointers) in the
 * structs below and re-check every packet access against data_end themselves.
 */
#ifndef XLB_STRUCTS_H
#define XLB_STRUCTS_H

#include "vmlinux.h"
#include "xlb_kern_user.h"

/* xlb_pkt.flags */
#define XLB_PKT_F_ICMP_ERROR 0x1 /* an ICMP(v6) error; flow is the quoted packet, reversed */
#define XLB_PKT_F_FRAGMENT 0x2   /* an IP fragment; flow ports are 0 unless it is the first */
#define XLB_PKT_F_UDP_NO_CSUM 0x4 /* UDP over IPv4 without checksum */
#define XLB_PKT_F_DF 0x8          /* IPv4 with Don't Fragment: too big for encap_mtu, the client hears it */

/* Results of xlb_parse besides a drop reason (> 0: the packet passes, the reason is counted). */
#define XLB_PARSE_OK 0
#define XLB_PARSE_NOT_MINE (-1) /* not IP, not TCP/UDP/ICMP error: pass without counting */
#define XLB_PARSE_FRAGMENT (-2) /* an IP fragment: flow has the ports only if it is the first */

/* A parsed packet: scalars only, offsets from the start of the frame. */
struct xlb_pkt {
	/* The flow to balance: client -> VIP. For an ICMP error, the quoted packet reversed. */
	struct xlb_flow_key flow;
	__u32 pkt_len;  /* bytes of the frame, for counters */
	__u16 l2_len;   /* Ethernet header and VLAN tags: 14 + 4 * tags; the IP header starts here */
	__u16 l3_hlen;  /* IP header with options / extension headers; the transport header follows */
	__u16 ip_len;   /* the IP datagram: IPv4 total length, IPv6 40 + payload length */
	__u8 l4_proto;  /* protocol of the outer transport header (TCP, UDP, ICMP, ICMPv6) */
	__u8 tcp_flags; /* byte 13 of the TCP header */
	__u8 tos;       /* IPv4 TOS / IPv6 traffic class, copied to outer headers */
	__u8 flags;     /* XLB_PKT_F_* */
	__u8 ext_hdrs;  /* IPv6 extension headers walked */
	__u8 pad;
};

/* In and out of xlb_schedule: choosing the backend of a flow to a VIP. */
struct xlb_sched {
	/* in */
	struct xlb_flow_key flow;
	struct xlb_vip_meta meta;
	__u64 now;
	__be32 nat_src[4];   /* NAT mode: in, the first source address of the family; out, the flow's */
	__u8 client_mac[6];  /* NAT mode: where replies go */
	__u8 tcp_flags;
	__u8 icmp_error;     /* 1: use the flow's entry, never create or refresh one */
	/* out */
	struct xlb_backend be;
	__u32 backend_index;
	__be16 nat_port;
	__u8 nat_src_index;  /* in/out with nat_port: the flow's source address, as an index */
	__u16 nat_src_count; /* in: how many source addresses (>= 1) */
	__u8 new_flow;
	__u8 ct_absent;      /* in: the caller found no connection-table entry; skip the lookup */
	__u8 flow_hash_set;  /* out: the table pick computed flow_hash */
	__u8 syn_first;      /* in: a pure SYN of a non-NAT VIP: insert before looking up */
	__u32 flow_hash;     /* out: the flow's 5-tuple hash (XLB_HASH_SEED), reused by the encapsulation */
	/* xlb_nat_bind's own (not cleared by the caller): off the 512-byte stack of the calls */
	struct xlb_flow_key nat_key;
	struct xlb_nat_value nat_val;
};

/* In to xlb_encap. */
struct xlb_encap_args {
	__be32 dst[4];      /* the backend */
	__u32 hash;         /* the flow's 5-tuple hash */
	__u16 l2_len;
	__u16 ip_len;
	__u16 l3_hlen;
	__u8 dmac[6];
	__u8 smac[6];
	__u8 inner_family;  /* 4 or 6 */
	__u8 outer_family;  /* the backend's */
	__u8 gue;           /* 1: GUE, 0: IPIP */
	__u8 l4_proto;
	__u8 tos;
	__u8 lco_ok;        /* the inner checksums can stand in for the payload (GUE over IPv6) */
	__u8 pad[2];
};

/* In to xlb_nat_rewrite: the new addresses and ports of a TCP/UDP packet and its MACs. */
struct xlb_rewrite_args {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u16 l2_len;
	__u16 l3_hlen;
	__u8 dmac[6];
	__u8 smac[6];
	__u8 family;
	__u8 proto;
	__u8 pad[2];
};

/*
 * The global xlb_clock_cache (xlb_maps.h): bpf_ktime_get_coarse_ns() as read at `jiffies`. The coarse
 * clock moves only when the tick moves jiffies, so while jiffies is the same the cached `ns` is
 * what the helper would return (xlb_now, xlb_maps.h).
 */
struct xlb_clock {
	__u64 jiffies;
	__u64 ns;
};

/*
 * Per-CPU scratch space for the structs above (value of `xlb_scratch`): the entry function and
 * a global function it calls share the 512-byte BPF stack, which these would overflow.
 */
struct xlb_scratch {
	struct xlb_sched sched;
	struct xlb_rewrite_args rewrite;
	struct xlb_encap_args encap;
};

#endif /* XLB_STRUCTS_H */
