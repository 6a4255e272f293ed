/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel-only structs of xlb: what the parser learns about a packet. Nothing here is shared
 * with user space (that is xlb_kern_user.h), so these may hold packet pointers.
 */
#ifndef XLB_STRUCTS_H
#define XLB_STRUCTS_H

#include "vmlinux.h"
#include "xlb_kern_user.h"

/* xlb_pkt.flags */
#define XLB_PKT_F_ICMP_ERROR 0x1 /* an ICMP(v6) error; flow is the quoted packet, reversed */
#define XLB_PKT_F_FRAGMENT 0x2   /* an IP fragment; flow ports are 0 unless it is the first */
#define XLB_PKT_F_NO_L4 0x4      /* a later fragment: no transport header */

/* Results of xlb_parse besides a drop reason (> 0, the packet passes and the reason is counted). */
#define XLB_PARSE_OK 0
#define XLB_PARSE_NOT_MINE (-1) /* not IP, not TCP/UDP/ICMP error: pass without counting */

/* A parsed packet. Pointers are valid until the frame is resized (bpf_xdp_adjust_head). */
struct xlb_pkt {
	/* The flow to balance: client -> VIP. For an ICMP error, the quoted packet reversed. */
	struct xlb_flow_key flow;
	struct ethhdr *eth;
	void *l3;           /* the outer IP header */
	void *l4;           /* the outer transport header (TCP, UDP or ICMP) */
	__u32 pkt_len;      /* bytes of the frame, for counters */
	__u16 l2_len;       /* Ethernet header and VLAN tags: 14, 18 or 22 */
	__u16 l3_hlen;      /* IP header with options / extension headers */
	__u16 ip_len;       /* the IP datagram: IPv4 total length, IPv6 40 + payload length */
	__u8 l4_proto;      /* protocol of the outer transport header */
	__u8 tcp_flags;     /* byte 13 of the TCP header (client packets only) */
	__u8 tos;           /* IPv4 TOS / IPv6 traffic class, copied to outer headers */
	__u8 flags;         /* XLB_PKT_F_* */
	__u8 ext_hdrs;      /* IPv6 extension headers walked */
	__u8 pad;
};

/* The backend chosen for a packet. */
struct xlb_selection {
	struct xlb_backend *be;
	struct xlb_ct_value *ct; /* this CPU's entry, when the flow has or got one in place */
	__u32 backend_index;
	__be16 nat_port;         /* NAT: from the connection table; 0 when none was allocated yet */
	__u8 new_flow;           /* 1 when this packet created the flow's entry */
	__u8 ct_state;           /* state to store for the flow */
};

#endif /* XLB_STRUCTS_H */
