/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsers on top of na_cursor (netaccel_helpers.h). Each returns the header (or NULL
 * when the packet is too short or not what it claims) and leaves the cursor after it; none
 * trusts a length from the packet without a bounds check.
 */
#ifndef NETACCEL_PARSING_H
#define NETACCEL_PARSING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "netaccel_consts.h"
#include "netaccel_helpers.h"

/*
 * Ethernet header plus up to NETACCEL_MAX_VLAN_DEPTH VLAN tags. Stores the inner EtherType
 * (network byte order) in *proto. A packet with more tags than that keeps a VLAN EtherType in
 * *proto, which callers treat as "not mine".
 */
static __always_inline struct ethhdr *na_parse_eth(struct na_cursor *c, __be16 *proto)
{
	struct ethhdr *eth = NA_PULL(c, struct ethhdr);
	struct vlan_hdr *vlan;
	__be16 type;
	int i;

	if (!eth)
		return NULL;
	type = eth->h_proto;
#pragma unroll
	for (i = 0; i < NETACCEL_MAX_VLAN_DEPTH; i++) {
		if (type != NA_ETH_P_8021Q_BE && type != NA_ETH_P_8021AD_BE)
			break;
		vlan = NA_PULL(c, struct vlan_hdr);
		if (!vlan)
			return NULL;
		type = vlan->h_vlan_encapsulated_proto;
	}
	*proto = type;
	return eth;
}

/* IPv4 header including its options: version 4 and 5 <= IHL, all of it inside the packet. */
static __always_inline struct iphdr *na_parse_ipv4(struct na_cursor *c)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end)
		return NULL;
	if (ip->version != 4 || ip->ihl < 5)
		return NULL;
	hlen = ip->ihl * 4; /* 20..60: the verifier bounds it from the 4-bit field */
	return na_cursor_pull(c, hlen);
}

/* True for every fragment but an unfragmented datagram: only those carry a whole L4 header. */
static __always_inline bool na_ipv4_is_fragment(const struct iphdr *ip)
{
	return (ip->frag_off & NA_IP_MF_OFFSET_BE) != 0;
}

#endif /* NETACCEL_PARSING_H */
