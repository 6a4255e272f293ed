/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The xlb packet parser: Ethernet (+ VLAN tags, bpf/include/netaccel_parsing.h), IPv4 with
 * options, IPv6 with up to XLB_MAX_IPV6_EXT extension headers, then TCP, UDP, or an ICMP /
 * ICMPv6 error (destination unreachable incl. fragmentation needed, packet too big, time
 * exceeded) whose quoted packet is parsed instead and reversed, so that the error follows the
 * flow it belongs to.
 *
 * Every header is taken through the bounds-checked cursor; lengths from the packet are checked
 * against both the frame and the IP length before use. The result is XLB_PARSE_OK,
 * XLB_PARSE_FRAGMENT, XLB_PARSE_NOT_MINE (pass untouched, nothing counted) or a drop reason
 * (pass, counted).
 *
 * The parser leaves scalars only (offsets, not pointers) in struct xlb_pkt: the stages after it
 * are global functions that re-derive and re-check their pointers (see xlb_structs.h).
 */
#ifndef XLB_PCKT_PARSING_H
#define XLB_PCKT_PARSING_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"
#include "netaccel_helpers.h"
#include "netaccel_parsing.h"
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"

/* Longest L2 header the parser accepts: Ethernet and NETACCEL_MAX_VLAN_DEPTH tags. */
#define XLB_MAX_L2_LEN (14 + 4 * NETACCEL_MAX_VLAN_DEPTH)

static __always_inline bool xlb_is_ipv6_ext(__u8 nh)
{
	return nh == XLB_IPPROTO_HOPOPTS || nh == XLB_IPPROTO_ROUTING || nh == XLB_IPPROTO_DSTOPTS ||
	       nh == XLB_IPPROTO_FRAGMENT || nh == XLB_IPPROTO_AH;
}

/* Source and destination ports (the first 4 bytes of TCP and UDP), or NULL when cut short. */
static __always_inline __be16 *xlb_pull_ports(struct na_cursor *c)
{
	return na_cursor_pull(c, 2 * sizeof(__be16));
}

/*
 * The packet an ICMP error quotes (IPv4 header, then at least 8 bytes: the ports), reversed
 * into pkt->flow. NOT_MINE when the quote is not a whole TCP/UDP header start.
 */
static __always_inline int xlb_parse_icmp4_quote(struct na_cursor *c, struct xlb_pkt *pkt)
{
	struct iphdr *in = c->pos;
	__be16 *ports;
	__u32 hlen;

	if ((void *)(in + 1) > c->end)
		return XLB_PARSE_NOT_MINE;
	if (in->version != 4 || in->ihl < 5)
		return XLB_PARSE_NOT_MINE;
	if (in->frag_off & XLB_IP_OFFSET_BE) /* a later fragment quotes no ports */
		return XLB_PARSE_NOT_MINE;
	if (in->protocol != XLB_IPPROTO_TCP && in->protocol != XLB_IPPROTO_UDP)
		return XLB_PARSE_NOT_MINE;
	hlen = in->ihl * 4;
	if (!na_cursor_pull(c, hlen))
		return XLB_PARSE_NOT_MINE;
	ports = xlb_pull_ports(c);
	if (!ports)
		return XLB_PARSE_NOT_MINE;
	pkt->flow.src[0] = in->daddr;
	pkt->flow.dst[0] = in->saddr;
	pkt->flow.sport = ports[1];
	pkt->flow.dport = ports[0];
	pkt->flow.proto = in->protocol;
	pkt->flags |= XLB_PKT_F_ICMP_ERROR;
	return XLB_PARSE_OK;
}

static __always_inline int xlb_parse_icmp6_quote(struct na_cursor *c, struct xlb_pkt *pkt)
{
	struct ipv6hdr *in = NA_PULL(c, struct ipv6hdr);
	__be16 *ports;

	if (!in || in->version != 6)
		return XLB_PARSE_NOT_MINE;
	if (in->nexthdr != XLB_IPPROTO_TCP && in->nexthdr != XLB_IPPROTO_UDP)
		return XLB_PARSE_NOT_MINE;
	ports = xlb_pull_ports(c);
	if (!ports)
		return XLB_PARSE_NOT_MINE;
	__builtin_memcpy(pkt->flow.src, &in->daddr, 16);
	__builtin_memcpy(pkt->flow.dst, &in->saddr, 16);
	pkt->flow.sport = ports[1];
	pkt->flow.dport = ports[0];
	pkt->flow.proto = in->nexthdr;
	pkt->flags |= XLB_PKT_F_ICMP_ERROR;
	return XLB_PARSE_OK;
}

/*
 * The transport header at the cursor, `avail` bytes of IP payload left. TCP and UDP fill the
 * ports; ICMP errors (when `icmp_errors`) switch the flow to the quoted packet.
 */
static __always_inline int xlb_parse_l4(struct na_cursor *c, struct xlb_pkt *pkt, __u8 proto, __u32 avail,
					bool icmp_errors)
{
	struct tcphdr *tcp;
	struct udphdr *udp;
	struct icmphdr *icmp;
	struct icmp6hdr *icmp6;

	pkt->l4_proto = proto;
	pkt->flow.proto = proto;
	if (proto == XLB_IPPROTO_TCP) {
		tcp = NA_PULL(c, struct tcphdr);
		if (!tcp || avail < sizeof(*tcp))
			return XLB_DROP_TRUNCATED;
		pkt->flow.sport = tcp->source;
		pkt->flow.dport = tcp->dest;
		pkt->tcp_flags = ((__u8 *)tcp)[13];
		return XLB_PARSE_OK;
	}
	if (proto == XLB_IPPROTO_UDP) {
		udp = NA_PULL(c, struct udphdr);
		if (!udp || avail < sizeof(*udp))
			return XLB_DROP_TRUNCATED;
		pkt->flow.sport = udp->source;
		pkt->flow.dport = udp->dest;
		if (!udp->check)
			pkt->flags |= XLB_PKT_F_UDP_NO_CSUM;
		return XLB_PARSE_OK;
	}
	if (!icmp_errors)
		return XLB_PARSE_NOT_MINE;
	if (proto == XLB_IPPROTO_ICMP && pkt->flow.family == 4) {
		icmp = NA_PULL(c, struct icmphdr);
		if (!icmp || avail < sizeof(*icmp))
			return XLB_PARSE_NOT_MINE;
		if (icmp->type != XLB_ICMP_DEST_UNREACH && icmp->type != XLB_ICMP_TIME_EXCEEDED)
			return XLB_PARSE_NOT_MINE;
		return xlb_parse_icmp4_quote(c, pkt);
	}
	if (proto == XLB_IPPROTO_ICMPV6 && pkt->flow.family == 6) {
		icmp6 = NA_PULL(c, struct icmp6hdr);
		if (!icmp6 || avail < sizeof(*icmp6))
			return XLB_PARSE_NOT_MINE;
		if (icmp6->icmp6_type != XLB_ICMPV6_DEST_UNREACH && icmp6->icmp6_type != XLB_ICMPV6_PKT_TOOBIG &&
		    icmp6->icmp6_type != XLB_ICMPV6_TIME_EXCEED)
			return XLB_PARSE_NOT_MINE;
		return xlb_parse_icmp6_quote(c, pkt);
	}
	return XLB_PARSE_NOT_MINE;
}

static __always_inline int xlb_parse_ipv4(struct na_cursor *c, struct xlb_pkt *pkt, __u32 l3_avail, bool icmp_errors)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > c->end)
		return XLB_DROP_TRUNCATED;
	if (ip->version != 4 || ip->ihl < 5)
		return XLB_DROP_BAD_IHL;
	hlen = ip->ihl * 4;
	if (!na_cursor_pull(c, hlen))
		return XLB_DROP_TRUNCATED;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || tot > l3_avail)
		return XLB_DROP_BAD_LEN;

	pkt->l3_hlen = hlen;
	pkt->ip_len = tot;
	pkt->tos = ip->tos;
	pkt->flags = ip->frag_off & XLB_IP_DF_BE ? XLB_PKT_F_DF : 0;
	pkt->flow.family = 4;
	pkt->flow.src[0] = ip->saddr;
	pkt->flow.dst[0] = ip->daddr;
	pkt->flow.proto = ip->protocol;
	if (ip->frag_off & NA_IP_MF_OFFSET_BE) {
		/* Fragments are never balanced; the first one's ports help find its VIP. */
		pkt->flags |= XLB_PKT_F_FRAGMENT;
		if (!(ip->frag_off & XLB_IP_OFFSET_BE))
			xlb_parse_l4(c, pkt, ip->protocol, tot - hlen, false);
		return XLB_PARSE_FRAGMENT;
	}
	return xlb_parse_l4(c, pkt, ip->protocol, tot - hlen, icmp_errors);
}

static __always_inline int xlb_parse_ipv6(struct na_cursor *c, struct xlb_pkt *pkt, __u32 l3_avail, bool icmp_errors)
{
	struct ipv6hdr *ip6 = NA_PULL(c, struct ipv6hdr);
	struct frag_hdr *frag;
	__u8 *ext;
	__u32 len, tot, hlen = sizeof(*ip6);
	__u8 nh;
	int i;

	if (!ip6)
		return XLB_DROP_TRUNCATED;
	if (ip6->version != 6)
		return XLB_DROP_BAD_IHL;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (tot > l3_avail)
		return XLB_DROP_BAD_LEN;

	pkt->ip_len = tot;
	pkt->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	pkt->flow.family = 6;
	__builtin_memcpy(pkt->flow.src, &ip6->saddr, 16);
	__builtin_memcpy(pkt->flow.dst, &ip6->daddr, 16);
	nh = ip6->nexthdr;

#pragma unroll
	for (i = 0; i < XLB_MAX_IPV6_EXT; i++) {
		if (!xlb_is_ipv6_ext(nh))
			break;
		if (nh == XLB_IPPROTO_FRAGMENT) {
			frag = NA_PULL(c, struct frag_hdr);
			if (!frag)
				return XLB_DROP_TRUNCATED;
			hlen += sizeof(*frag);
			nh = frag->nexthdr;
			if (frag->frag_off & XLB_IPV6_FRAG_OFFSET_BE) {
				pkt->flags |= XLB_PKT_F_FRAGMENT;
				pkt->flow.proto = nh;
				return hlen > tot ? XLB_DROP_BAD_LEN : XLB_PARSE_FRAGMENT;
			}
			if (frag->frag_off & XLB_IPV6_FRAG_MF_BE)
				pkt->flags |= XLB_PKT_F_FRAGMENT;
			continue;
		}
		ext = na_cursor_pull(c, 2);
		if (!ext)
			return XLB_DROP_TRUNCATED;
		/* AH counts 4-byte units minus 2, the others 8-byte units minus 1 (RFC 4302, 8200). */
		len = nh == XLB_IPPROTO_AH ? ((__u32)ext[1] + 2) * 4 : ((__u32)ext[1] + 1) * 8;
		nh = ext[0];
		if (!na_cursor_pull(c, len - 2))
			return XLB_DROP_TRUNCATED;
		hlen += len;
	}
	if (xlb_is_ipv6_ext(nh))
		return XLB_DROP_EXT_CHAIN;
	pkt->ext_hdrs = i;
	if (hlen > tot)
		return XLB_DROP_BAD_LEN;
	pkt->l3_hlen = hlen;
	if (pkt->flags & XLB_PKT_F_FRAGMENT) {
		xlb_parse_l4(c, pkt, nh, tot - hlen, false);
		return XLB_PARSE_FRAGMENT;
	}
	return xlb_parse_l4(c, pkt, nh, tot - hlen, icmp_errors);
}

/*
 * Parses the frame into *pkt. `ipv6` and `icmp_errors` switch IPv6 and ICMP-error handling off
 * (the callers pass load-time globals, so the verifier drops the code).
 */
static __always_inline int xlb_parse(struct xdp_md *ctx, struct xlb_pkt *pkt, bool ipv6, bool icmp_errors)
{
	struct na_cursor c;
	struct ethhdr *eth;
	__be16 proto = 0;
	__u32 l2_len, l3_avail;

	na_cursor_init_xdp(&c, ctx);
	pkt->pkt_len = ctx->data_end - ctx->data;
	eth = na_parse_eth(&c, &proto);
	if (!eth)
		return XLB_DROP_TRUNCATED;
	l2_len = c.pos - (void *)eth;
	if (l2_len > XLB_MAX_L2_LEN)
		return XLB_PARSE_NOT_MINE;
	pkt->l2_len = l2_len;
	l3_avail = c.end - c.pos;
	if (proto == NA_ETH_P_IP_BE)
		return xlb_parse_ipv4(&c, pkt, l3_avail, icmp_errors);
	if (proto == XLB_ETH_P_IPV6_BE && ipv6)
		return xlb_parse_ipv6(&c, pkt, l3_avail, icmp_errors);
	return XLB_PARSE_NOT_MINE;
}

#endif /* XLB_PCKT_PARSING_H */
