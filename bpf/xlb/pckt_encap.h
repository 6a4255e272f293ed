/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * L3 DSR encapsulation: IPIP (IPv4 or IPv6 outer header, by the backend's family: 4in4, 6in6,
 * 4in6, 6in4) and GUE (outer IP + UDP to gue_port + 4-byte GUE version 0 header). The frame
 * grows at the front with bpf_xdp_adjust_head; the Ethernet header and its VLAN tags move to
 * the new front, the last EtherType becomes the outer family's, the MACs are rewritten.
 *
 * Outer source: the encap_src_v4/v6 prefix with its host part taken from the flow hash, so the
 * backend sees one source per flow and its RSS spreads tunnelled flows over its queues (as
 * Katran derives the source from the client's address and port). GUE source port:
 * XLB_GUE_SPORT_BASE | (hash & XLB_GUE_SPORT_MASK), for the same reason and for ECMP.
 *
 * Outer UDP checksum: 0 over IPv4 (allowed by RFC 768). Over IPv6 it is computed without
 * reading the payload (the local checksum offload idea of RFC 7605/LCO): a packet whose
 * checksums are valid contributes to a one's complement sum exactly what its own headers and
 * pseudo-headers say — a valid IPv4 header sums to zero, a TCP/UDP/ICMPv6 segment to the
 * complement of its pseudo-header sum, an ICMP message to zero. When that is not known (IPv6
 * extension headers, UDP without checksum) the checksum is 0 (RFC 6935/6936 allow it for
 * tunnels; xlb_decap does not check it).
 */
#ifndef XLB_PCKT_ENCAP_H
#define XLB_PCKT_ENCAP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"
#include "xlb_maps.h"
#include "xlb_helpers.h"
#include "csum_helpers.h"
#include "pckt_parsing.h"

#define XLB_IPV4_HLEN 20
#define XLB_IPV6_HLEN 40
#define XLB_GUE_OVERHEAD (8 + XLB_GUE_HDR_LEN)

/* Outer IPv4 source of a flow: encap_src_v4/encap_src_v4_len, host bits from the hash. */
static __always_inline __be32 xlb_encap_src_v4(__u32 hash)
{
	__u32 len = encap_src_v4_len;
	__u32 host = len >= 32 ? 0 : 0xffffffffU >> len;

	return bpf_htonl((encap_src_v4 & ~host) | (hash & host));
}

/* Outer IPv6 source: encap_src_v6/encap_src_v6_len; the hash fills at most the last 32 bits. */
static __always_inline void xlb_encap_src_v6(__be32 *out, __u32 hash)
{
	__u32 len = encap_src_v6_len;
	__u32 host = len >= 128 ? 0 : len <= 96 ? 0xffffffffU : 0xffffffffU >> (len - 96);

	out[0] = encap_src_v6[0];
	out[1] = encap_src_v6[1];
	out[2] = encap_src_v6[2];
	out[3] = bpf_htonl((bpf_ntohl(encap_src_v6[3]) & ~host) | (hash & host));
}

/*
 * One's complement sum of the whole IP datagram at data + a->l2_len from its own checksums
 * (see the header comment), for a->lco_ok packets. False when a header is not in the frame.
 */
static __always_inline bool xlb_lco_sum(void *data, void *end, const struct xlb_encap_args *a, __u32 l2, __u64 *out)
{
	__u32 l4_len = a->ip_len - a->l3_hlen;
	__u8 proto = a->l4_proto;
	void *l3 = data + l2;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u64 sum;

	/* Keeps clang from re-deriving data + l2 after the check (the verifier needs the same register). */
	barrier_var(l3);
	ip6 = l3;
	ip = l3;
	if (a->inner_family == 4) {
		if ((void *)(ip + 1) > end)
			return false;
		if (proto == XLB_IPPROTO_ICMP) {
			*out = 0;
			return true;
		}
		sum = (__u64)ip->saddr + ip->daddr + bpf_htonl(((__u32)proto << 16) | l4_len);
		*out = (__u16)~xlb_csum_fold64(sum);
		return true;
	}
	if ((void *)(ip6 + 1) > end)
		return false;
	sum = xlb_csum_words((const __u32 *)&ip6->saddr, 8) + bpf_htonl(l4_len) + bpf_htonl(proto);
	*out = xlb_csum_words((const __u32 *)ip6, 10) + (__u16)~xlb_csum_fold64(sum);
	return true;
}

/*
 * Moves the L2 header (l2_len bytes, Ethernet + VLAN tags) from data + overhead to data after
 * the frame grew by `overhead` (>= 14, so no copy overlaps itself), sets the MACs and the last
 * EtherType. Returns false when the frame is not as long as it should be.
 */
static __always_inline bool xlb_move_l2(void *data, void *end, __u32 overhead, __u32 l2_len, const __u8 *dmac,
					const __u8 *smac, __be16 ethertype)
{
	struct ethhdr *eth = data;
	struct ethhdr *old = data + overhead;
	__be32 *tag, *old_tag;
	int i;

	if ((void *)(eth + 1) > end || (void *)(old + 1) > end)
		return false;
	__builtin_memcpy(eth->h_dest, dmac, 6);
	__builtin_memcpy(eth->h_source, smac, 6);
	eth->h_proto = l2_len == sizeof(*eth) ? ethertype : old->h_proto;
#pragma unroll
	for (i = 0; i < NETACCEL_MAX_VLAN_DEPTH; i++) {
		if (sizeof(*eth) + 4 * (i + 1) > l2_len)
			break;
		tag = data + sizeof(*eth) + 4 * i;
		old_tag = data + overhead + sizeof(*eth) + 4 * i;
		if ((void *)(tag + 1) > end || (void *)(old_tag + 1) > end)
			return false;
		*tag = *old_tag;
		/* The last tag's EtherType becomes the outer header's. */
		if (sizeof(*eth) + 4 * (i + 1) == l2_len)
			((__be16 *)tag)[1] = ethertype;
	}
	return true;
}

static __always_inline void xlb_write_gue(struct udphdr *udp, __u32 hash, __u32 inner_len, __u8 inner_proto)
{
	__u8 *gue = (__u8 *)(udp + 1);

	udp->source = bpf_htons(XLB_GUE_SPORT_BASE | (hash & XLB_GUE_SPORT_MASK));
	udp->dest = bpf_htons(gue_port);
	udp->len = bpf_htons(sizeof(*udp) + XLB_GUE_HDR_LEN + inner_len);
	udp->check = 0;
	gue[0] = 0; /* version 0, not a control message, no extension fields */
	gue[1] = inner_proto;
	gue[2] = 0;
	gue[3] = 0;
}

/*
 * Encapsulates the packet whose IP header is at a->l2_len towards a->dst (IPIP, or GUE when
 * a->gue) and sets the MACs. Global: verified once. Returns 0 (send with XDP_TX) or a drop
 * reason; the caller's packet pointers are invalid afterwards.
 */
__attribute__((noinline)) int xlb_encap(struct xdp_md *ctx, struct xlb_encap_args *a)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	/* Masked so that the bound survives clang's rewriting of the range check below. */
	__u32 l2 = a ? a->l2_len & 0xff : 0, inner_len, overhead;
	__u8 inner_proto;
	__be32 src[4];
	bool outer6, gue, lco = false;
	__u64 lco_sum = 0, sum;
	struct ipv6hdr *o6;
	struct iphdr *o4;
	struct udphdr *udp;
	void *outer;

	if (!a || l2 < sizeof(struct ethhdr) || l2 > XLB_MAX_L2_LEN)
		return XLB_DROP_ADJUST_HEAD;
	inner_proto = a->inner_family == 6 ? XLB_IPPROTO_IPV6 : XLB_IPPROTO_IPIP;
	outer6 = a->outer_family == 6;
	gue = a->gue;
	overhead = (outer6 ? XLB_IPV6_HLEN : XLB_IPV4_HLEN) + (gue ? XLB_GUE_OVERHEAD : 0);
	inner_len = a->ip_len;
	if (encap_mtu && inner_len + overhead > encap_mtu)
		return XLB_DROP_TOO_BIG;
	/* `a` (the caller's stack or scratch map value) stays valid across adjust_head. */
	if (gue && outer6 && a->lco_ok)
		lco = xlb_lco_sum(data, end, a, l2, &lco_sum);

	if (bpf_xdp_adjust_head(ctx, -(int)overhead))
		return XLB_DROP_ADJUST_HEAD;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (!xlb_move_l2(data, end, overhead, l2, a->dmac, a->smac, outer6 ? XLB_ETH_P_IPV6_BE : NA_ETH_P_IP_BE))
		return XLB_DROP_ADJUST_HEAD;
	outer = data + l2;
	barrier_var(outer);

	if (outer6) {
		o6 = outer;
		udp = (void *)(o6 + 1);
		if ((void *)(udp + 1) + XLB_GUE_HDR_LEN > end)
			return XLB_DROP_ADJUST_HEAD;
		*(__be32 *)o6 = bpf_htonl(0x60000000U | ((__u32)a->tos << 20));
		o6->payload_len = bpf_htons(inner_len + (gue ? XLB_GUE_OVERHEAD : 0));
		o6->nexthdr = gue ? XLB_IPPROTO_UDP : inner_proto;
		o6->hop_limit = XLB_ENCAP_TTL;
		xlb_encap_src_v6(src, a->hash);
		xlb_addr_copy((__be32 *)&o6->saddr, src);
		xlb_addr_copy((__be32 *)&o6->daddr, a->dst);
		if (!gue)
			return 0;
		xlb_write_gue(udp, a->hash, inner_len, inner_proto);
		if (lco) {
			/* Pseudo-header, UDP header, GUE header, then the datagram's own sum. */
			sum = xlb_csum_words(src, 4) + xlb_csum_words(a->dst, 4) + udp->len + bpf_htons(XLB_IPPROTO_UDP);
			sum += (__u32)udp->source | ((__u32)udp->dest << 16);
			sum += udp->len;
			sum += (__u32)inner_proto << 8;
			sum += lco_sum;
			udp->check = xlb_udp_csum_mangle((__sum16)~xlb_csum_fold64(sum));
		}
		return 0;
	}

	o4 = outer;
	udp = (void *)(o4 + 1);
	if ((void *)(udp + 1) + XLB_GUE_HDR_LEN > end)
		return XLB_DROP_ADJUST_HEAD;
	*(__u8 *)o4 = 0x45; /* version 4, 5 words */
	o4->tos = a->tos;
	o4->tot_len = bpf_htons(inner_len + overhead);
	o4->id = 0;
	o4->frag_off = 0;
	o4->ttl = XLB_ENCAP_TTL;
	o4->protocol = gue ? XLB_IPPROTO_UDP : inner_proto;
	o4->saddr = xlb_encap_src_v4(a->hash);
	o4->daddr = a->dst[0];
	xlb_ipv4_csum(o4);
	if (gue)
		xlb_write_gue(udp, a->hash, inner_len, inner_proto);
	return 0;
}

/*
 * IPv4 in IPv4 (IPIP, or GUE when `gue`) of a frame without VLAN tags, inline: what xlb_encap
 * does for that case without the call, for the connection-table hit path. `dmac`/`smac` point
 * into map values or the stack (valid across adjust_head). Returns 0 or a drop reason; the
 * caller's packet pointers are invalid afterwards.
 */
static __always_inline int xlb_encap_v4_inline(struct xdp_md *ctx, __u32 hash, __u16 ip_len, __u8 tos, __be32 dst,
					       const __u8 *dmac, const __u8 *smac, bool gue)
{
	__u32 overhead = XLB_IPV4_HLEN + (gue ? XLB_GUE_OVERHEAD : 0);
	struct ethhdr *eth;
	struct udphdr *udp;
	struct iphdr *o4;
	__u16 tot_len = ip_len + overhead;
	__u8 proto = gue ? XLB_IPPROTO_UDP : XLB_IPPROTO_IPIP;
	__be32 saddr = xlb_encap_src_v4(hash);
	void *data, *end;
	__u64 sum;

	if (xlb_unlikely(encap_mtu && ip_len + overhead > encap_mtu))
		return XLB_DROP_TOO_BIG;
	if (xlb_unlikely(bpf_xdp_adjust_head(ctx, -(int)overhead)))
		return XLB_DROP_ADJUST_HEAD;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	o4 = (void *)(eth + 1);
	udp = (void *)(o4 + 1);
	if (xlb_unlikely((void *)(udp + 1) + XLB_GUE_HDR_LEN > end))
		return XLB_DROP_ADJUST_HEAD;
	xlb_mac_copy(eth->h_dest, dmac);
	xlb_mac_copy(eth->h_source, smac);
	eth->h_proto = NA_ETH_P_IP_BE;
	*(__u8 *)o4 = 0x45; /* version 4, 5 words */
	o4->tos = tos;
	o4->tot_len = bpf_htons(tot_len);
	o4->id = 0;
	o4->frag_off = 0;
	o4->ttl = XLB_ENCAP_TTL;
	o4->protocol = proto;
	o4->saddr = saddr;
	o4->daddr = dst;
	/*
	 * The header's checksum from the values written (16-bit words as they sit in memory, id and
	 * fragment offset zero), not read back from the frame as xlb_ipv4_csum does.
	 */
	sum = (__u64)bpf_htons(0x4500 | tos) + bpf_htons(tot_len) + bpf_htons((XLB_ENCAP_TTL << 8) | proto) + saddr + dst;
	o4->check = (__sum16)~xlb_csum_fold64(sum);
	if (gue)
		xlb_write_gue(udp, hash, ip_len, XLB_IPPROTO_IPIP);
	return 0;
}

#endif /* XLB_PCKT_ENCAP_H */
