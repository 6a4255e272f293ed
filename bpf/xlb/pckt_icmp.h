/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP "fragmentation needed" (IPv4, type 3 code 4, RFC 792 / RFC 1191) and ICMPv6 "packet too
 * big" (type 2, RFC 4443 §3.2) sent back to a client whose packet to an IPIP / GUE VIP would
 * exceed encap_mtu once encapsulated, so that its path MTU discovery shrinks the packets
 * instead of the flow stalling (Katran's ICMP_TOOBIG_GENERATION, here with the MTU the client
 * can really use: encap_mtu minus the encapsulation's overhead).
 *
 * The frame is turned into the error in place with XDP_TX: cut after the quote, grown at the
 * front by the new IP + ICMP headers, the L2 header (and its VLAN tags) moved to the new front
 * with the MACs swapped (back to the router the packet came from). The error comes from the
 * VIP (the quoted packet's destination) to the client, quotes the client's packet from its IP
 * header on, as much of it as RFC 1812 §4.3.2.3 (ICMP datagram <= 576 bytes) and RFC 4443 §2.4
 * (<= 1280 bytes, the IPv6 minimum MTU) allow, and carries complete checksums.
 *
 * Only called for IPv6 and for IPv4 with DF: IPv4 without DF may be fragmented on the way, but
 * an XDP program cannot fragment, so those are dropped (XLB_DROP_TOO_BIG), as are ICMP errors
 * (no ICMP error about an ICMP error, RFC 1122 §3.2.2).
 */
#ifndef XLB_PCKT_ICMP_H
#define XLB_PCKT_ICMP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "csum_helpers.h"
#include "pckt_parsing.h"
#include "pckt_encap.h"

#define XLB_ICMP_HLEN 8
#define XLB_ICMP_QUOTE_LIMIT (XLB_ICMP6_QUOTE_MAX > XLB_ICMP4_QUOTE_MAX ? XLB_ICMP6_QUOTE_MAX : XLB_ICMP4_QUOTE_MAX)

/*
 * One's complement sum (not folded) of the frame's bytes from `off` to its end, at most
 * XLB_ICMP_QUOTE_LIMIT bytes; `off` is at an even offset of what the checksum covers. Global:
 * verified once, not once per path of its caller (each loop exit is a path of its own).
 */
__attribute__((noinline)) __u64 xlb_csum_to_end(struct xdp_md *ctx, __u32 off)
{
	void *end = (void *)(long)ctx->data_end;
	void *p = (void *)(long)ctx->data + (off & 0x1ff);
	__u64 sum = 0;
	int i;

	for (i = 0; i < XLB_ICMP_QUOTE_LIMIT / 4; i++) {
		if (p + 4 > end)
			break;
		sum += *(__u32 *)p;
		p += 4;
	}
	if (p + 2 <= end) {
		sum += *(__u16 *)p;
		p += 2;
	}
	/* A last odd byte counts as the high byte of a word padded with zero (RFC 1071);
	 * loaded on a little-endian host, as the words above are, it is the low byte. */
	if (p + 1 <= end)
		sum += *(__u8 *)p;
	return sum;
}

/*
 * Turns the frame (an IP packet of `family` at l2_len, ip_len bytes long) into an ICMP(v6)
 * error reporting `mtu` to its source. Global: verified once. Returns 0 (send it with
 * XDP_TX) or XLB_DROP_ADJUST_HEAD; the caller's packet pointers are invalid afterwards.
 */
__attribute__((noinline)) int xlb_icmp_too_big(struct xdp_md *ctx, __u32 l2_len, __u32 ip_len, __u32 family, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l2 = l2_len & 0xff, quote, grow, frame;
	bool v6 = family == 6;
	__be32 src[4] = {}, dst[4] = {};
	__u8 dmac[6], smac[6];
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip4;
	__u8 *icmp;
	void *l3;
	__u64 sum;

	if (l2 < sizeof(*eth) || l2 > XLB_MAX_L2_LEN || (void *)(eth + 1) > end)
		return XLB_DROP_ADJUST_HEAD;
	/* back to where it came from */
	__builtin_memcpy(dmac, eth->h_source, 6);
	__builtin_memcpy(smac, eth->h_dest, 6);
	l3 = data + l2;
	barrier_var(l3);
	if (v6) {
		ip6 = l3;
		if ((void *)(ip6 + 1) > end)
			return XLB_DROP_ADJUST_HEAD;
		__builtin_memcpy(src, &ip6->daddr, 16);
		__builtin_memcpy(dst, &ip6->saddr, 16);
		quote = ip_len < XLB_ICMP6_QUOTE_MAX ? ip_len : XLB_ICMP6_QUOTE_MAX;
		grow = XLB_IPV6_HLEN + XLB_ICMP_HLEN;
	} else {
		ip4 = l3;
		if ((void *)(ip4 + 1) > end)
			return XLB_DROP_ADJUST_HEAD;
		src[0] = ip4->daddr;
		dst[0] = ip4->saddr;
		quote = ip_len < XLB_ICMP4_QUOTE_MAX ? ip_len : XLB_ICMP4_QUOTE_MAX;
		grow = XLB_IPV4_HLEN + XLB_ICMP_HLEN;
	}
	frame = end - data;
	if (frame > l2 + quote && bpf_xdp_adjust_tail(ctx, (int)(l2 + quote) - (int)frame))
		return XLB_DROP_ADJUST_HEAD;
	if (bpf_xdp_adjust_head(ctx, -(int)grow))
		return XLB_DROP_ADJUST_HEAD;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (!xlb_move_l2(data, end, grow, l2, dmac, smac, v6 ? XLB_ETH_P_IPV6_BE : NA_ETH_P_IP_BE))
		return XLB_DROP_ADJUST_HEAD;
	l3 = data + l2;
	barrier_var(l3);

	if (v6) {
		ip6 = l3;
		icmp = (void *)(ip6 + 1);
		if ((void *)(icmp + XLB_ICMP_HLEN) > end)
			return XLB_DROP_ADJUST_HEAD;
		*(__be32 *)ip6 = bpf_htonl(0x60000000U);
		ip6->payload_len = bpf_htons(XLB_ICMP_HLEN + quote);
		ip6->nexthdr = XLB_IPPROTO_ICMPV6;
		ip6->hop_limit = XLB_ENCAP_TTL;
		xlb_addr_copy((__be32 *)&ip6->saddr, src);
		xlb_addr_copy((__be32 *)&ip6->daddr, dst);
		icmp[0] = XLB_ICMPV6_PKT_TOOBIG;
		icmp[1] = 0;
		*(__be16 *)(icmp + 2) = 0;
		*(__be32 *)(icmp + 4) = bpf_htonl(mtu);
		/* pseudo-header (RFC 8200 §8.1), then the message */
		sum = xlb_csum_words(src, 4) + xlb_csum_words(dst, 4) + bpf_htonl(XLB_ICMP_HLEN + quote) +
		      bpf_htonl(XLB_IPPROTO_ICMPV6);
	} else {
		ip4 = l3;
		icmp = (void *)(ip4 + 1);
		if ((void *)(icmp + XLB_ICMP_HLEN) > end)
			return XLB_DROP_ADJUST_HEAD;
		*(__u8 *)ip4 = 0x45; /* version 4, 5 words */
		ip4->tos = 0;
		ip4->tot_len = bpf_htons(XLB_IPV4_HLEN + XLB_ICMP_HLEN + quote);
		ip4->id = 0;
		ip4->frag_off = 0;
		ip4->ttl = XLB_ENCAP_TTL;
		ip4->protocol = XLB_IPPROTO_ICMP;
		ip4->saddr = src[0];
		ip4->daddr = dst[0];
		xlb_ipv4_csum(ip4);
		icmp[0] = XLB_ICMP_DEST_UNREACH;
		icmp[1] = XLB_ICMP_FRAG_NEEDED;
		*(__be16 *)(icmp + 2) = 0;
		*(__be16 *)(icmp + 4) = 0;
		*(__be16 *)(icmp + 6) = bpf_htons(mtu);
		sum = 0;
	}
	sum += *(__u32 *)icmp + *(__u32 *)(icmp + 4);
	sum += xlb_csum_to_end(ctx, l2 + grow); /* the quote */
	*(__sum16 *)(icmp + 2) = (__sum16)~xlb_csum_fold64(sum);
	return 0;
}

#endif /* XLB_PCKT_ICMP_H */
