/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about NAT flows (xlb_nat.h), translated as Linux's NAT translates "related"
 * ICMP errors (the outer header like a packet of the flow, the quoted packet as it was seen on
 * the other side):
 *
 *   from the backend's side (destination unreachable, time exceeded, fragmentation needed, sent
 *   by the backend or a router towards it) about S:p -> B:b, to S (a NAT source address):
 *     outer  X -> S          becomes  V -> C          (X: whoever sent it; V: the VIP)
 *     quote  S:p -> B:b      becomes  C:c -> V:v      found in nat_rev by the quote, reversed
 *   and goes to the client's MAC (XDP_TX), counted as a reply of the flow;
 *
 *   from the client's side, about V:v -> C:c (a reply it received), to V:
 *     outer  C -> V          becomes  S -> B
 *     quote  V:v -> C:c      becomes  B:b -> S:p      found in conntrack by the quote, reversed
 *   and goes to the backend's MAC, counted as a packet of the flow (never creating, never
 *   refreshing an entry).
 *
 * Checksums, incrementally (RFC 1624): the outer IPv4 header's; the ICMPv6 one for its
 * pseudo-header; the quoted IPv4 header's; the quoted TCP/UDP checksum when the quote holds it
 * (an ICMPv4 error may quote only 8 bytes: then the ports only), UDP over IPv4 without checksum
 * keeping none; and the ICMP(v6) checksum for every quoted byte changed. Errors of no known
 * flow are not changed: to the NAT source they pass uncounted (the balancer's own traffic may
 * use that address), to a NAT VIP they pass counted as XLB_DROP_ICMP_NAT.
 */
#ifndef XLB_NAT_ICMP_H
#define XLB_NAT_ICMP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"
#include "xlb_maps.h"
#include "xlb_conntrack.h"
#include "csum_helpers.h"
#include "pckt_parsing.h"
#include "xlb_nat.h"

/* Adds to a one's complement sum the change of a `words`-word field from `from` to `to`. */
static __always_inline __u64 xlb_csum_delta(__u64 sum, const __be32 *from, const __be32 *to, int words)
{
	int i;

#pragma unroll
	for (i = 0; i < words; i++) {
		sum += (__u32)~from[i];
		sum += to[i];
	}
	return sum;
}

/*
 * Rewrites an ICMP(v6) error whose IP header is at a->l2_len (a->l3_hlen long; the ICMP header
 * follows): outer source and destination := a->src, a->dst; the quoted packet's source and
 * destination := a->dst, a->src (it travelled the other way) and its ports := a->sport,
 * a->dport (a->proto: the quoted TCP or UDP); MACs := a->smac, a->dmac. Global: verified
 * once. Returns 0, or 1 when a header is not inside the frame (the parser excluded that).
 */
__attribute__((noinline)) int xlb_nat_icmp_rewrite(struct xdp_md *ctx, struct xlb_rewrite_args *a)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l2 = a ? a->l2_len & 0xff : 0, hlen = a ? a->l3_hlen & 0x3fff : 0, ihl, oports, nports;
	__be32 os[4] = {}, od[4] = {}, is[4] = {}, id[4] = {};
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6, *in6;
	struct iphdr *ip, *in;
	__sum16 *icmp_check, *check, old_check;
	__u64 sum;
	__be16 *ports;
	__u8 *icmp;
	void *l4;

	if (!a || l2 < sizeof(*eth) || l2 > XLB_MAX_L2_LEN || (void *)(eth + 1) > end)
		return 1;
	ip = data + l2;
	barrier_var(ip);
	icmp = data + l2 + hlen;
	barrier_var(icmp); /* keeps clang from re-deriving it after the checks */
	if ((void *)(icmp + 8) > end)
		return 1;
	icmp_check = (__sum16 *)(icmp + 2);
	sum = (__u16)~*icmp_check;
	if (a->family == 6) {
		ip6 = (void *)ip;
		in6 = (void *)(icmp + 8);
		if ((void *)(ip6 + 1) > end || (void *)(in6 + 1) > end)
			return 1;
		xlb_addr_copy(os, (__be32 *)&ip6->saddr);
		xlb_addr_copy(od, (__be32 *)&ip6->daddr);
		xlb_addr_copy(is, (__be32 *)&in6->saddr);
		xlb_addr_copy(id, (__be32 *)&in6->daddr);
		/* the ICMPv6 pseudo-header, then the quoted addresses */
		sum = xlb_csum_delta(sum, os, a->src, 4);
		sum = xlb_csum_delta(sum, od, a->dst, 4);
		sum = xlb_csum_delta(sum, is, a->dst, 4);
		sum = xlb_csum_delta(sum, id, a->src, 4);
		xlb_addr_copy((__be32 *)&ip6->saddr, a->src);
		xlb_addr_copy((__be32 *)&ip6->daddr, a->dst);
		xlb_addr_copy((__be32 *)&in6->saddr, a->dst);
		xlb_addr_copy((__be32 *)&in6->daddr, a->src);
		l4 = (void *)(in6 + 1);
	} else {
		in = (void *)(icmp + 8);
		if ((void *)(ip + 1) > end || (void *)(in + 1) > end)
			return 1;
		ip->check = xlb_csum_replace4(ip->check, ip->saddr, a->src[0]);
		ip->check = xlb_csum_replace4(ip->check, ip->daddr, a->dst[0]);
		ip->saddr = a->src[0];
		ip->daddr = a->dst[0];
		is[0] = in->saddr;
		id[0] = in->daddr;
		old_check = in->check;
		in->check = xlb_csum_replace4(in->check, is[0], a->dst[0]);
		in->check = xlb_csum_replace4(in->check, id[0], a->src[0]);
		sum = xlb_csum_delta(sum, is, a->dst, 1);
		sum = xlb_csum_delta(sum, id, a->src, 1);
		sum += (__u16)~old_check;
		sum += in->check;
		in->saddr = a->dst[0];
		in->daddr = a->src[0];
		ihl = in->ihl * 4;
		if (ihl < sizeof(*in))
			return 1;
		l4 = (void *)in + ihl;
	}
	ports = l4;
	if ((void *)(ports + 2) > end)
		return 1;
	oports = (__u32)ports[0] | ((__u32)ports[1] << 16);
	nports = (__u32)a->sport | ((__u32)a->dport << 16);
	sum += (__u32)~oports;
	sum += nports;
	ports[0] = a->sport;
	ports[1] = a->dport;
	/* The quoted checksum, when the quote reaches it: its pseudo-header holds the quoted addresses. */
	if (a->proto == XLB_IPPROTO_TCP)
		check = l4 + offsetof(struct tcphdr, check);
	else
		check = l4 + offsetof(struct udphdr, check);
	barrier_var(check);
	if ((void *)(check + 1) <= end && (a->proto == XLB_IPPROTO_TCP || a->family == 6 || *check)) {
		old_check = *check;
		*check = a->family == 6 ? xlb_csum_nat(old_check, is, a->dst, id, a->src, 4, oports, nports)
					: xlb_csum_nat(old_check, is, a->dst, id, a->src, 1, oports, nports);
		if (a->proto == XLB_IPPROTO_UDP)
			*check = xlb_udp_csum_mangle(*check);
		sum += (__u16)~old_check;
		sum += *check;
	}
	*icmp_check = (__sum16)~xlb_csum_fold64(sum);
	__builtin_memcpy(eth->h_source, a->smac, 6);
	__builtin_memcpy(eth->h_dest, a->dmac, 6);
	return 0;
}

/* The common part of both directions: fills a->l2_len .. a->proto and rewrites. */
static __always_inline int xlb_nat_icmp_send(struct xdp_md *ctx, const struct xlb_pkt *pkt, struct xlb_rewrite_args *a,
					     const __u8 *dmac, const __u8 *smac)
{
	a->l2_len = pkt->l2_len;
	a->l3_hlen = pkt->l3_hlen;
	__builtin_memcpy(a->dmac, dmac, 6);
	__builtin_memcpy(a->smac, smac, 6);
	a->family = pkt->flow.family;
	a->proto = pkt->flow.proto;
	a->pad[0] = 0;
	a->pad[1] = 0;
	return xlb_nat_icmp_rewrite(ctx, a);
}

/*
 * An ICMP error to a NAT source address: pkt->flow (the quote, reversed) is a nat_rev key.
 * Translated to the client (XDP_TX), or XDP_PASS untouched when no NAT flow has that key.
 */
static __always_inline int xlb_nat_icmp_reply(struct xdp_md *ctx, const struct xlb_pkt *pkt, const struct xlb_config *cfg,
					      const __u8 *eth_dst)
{
	struct xlb_nat_value *v = bpf_map_lookup_elem(&nat_rev, &pkt->flow);
	struct xlb_rewrite_args *a;
	struct xlb_scratch *sc;
	__u32 zero = 0;

	if (!v)
		return XDP_PASS;
	sc = bpf_map_lookup_elem(&xlb_scratch, &zero);
	if (!sc)
		return XDP_PASS;
	a = &sc->rewrite;
	xlb_addr_copy(a->src, v->vip_addr);
	xlb_addr_copy(a->dst, v->client_addr);
	a->sport = v->client_port;
	a->dport = v->vip_port;
	if (xlb_nat_icmp_send(ctx, pkt, a, v->client_mac, xlb_mac_is_zero(cfg->local_mac) ? eth_dst : cfg->local_mac))
		return xlb_count_drop(XLB_DROP_TRUNCATED, pkt->pkt_len, XDP_DROP);
	xlb_count_reply(v->vip_index, v->backend_index, pkt->pkt_len);
	return XDP_TX;
}

/*
 * An ICMP error to a NAT VIP: pkt->flow (the quote, reversed) is the client flow. Translated
 * to the flow's backend (XDP_TX); XDP_PASS counted as XLB_DROP_ICMP_NAT when the flow has no
 * usable entry, a drop when its backend has no MAC or its family no NAT source.
 */
static __always_inline int xlb_nat_icmp_forward(struct xdp_md *ctx, const struct xlb_pkt *pkt, const struct xlb_vip_meta *meta,
						const struct xlb_config *cfg, const __u8 *eth_dst)
{
	struct xlb_ct_value *ct = xlb_ct_lookup(&pkt->flow);
	struct xlb_rewrite_args *a;
	struct xlb_backend *be;
	struct xlb_scratch *sc;
	const __u8 *dmac;
	__u32 zero = 0, bi;

	if (!ct || ct->state == XLB_CT_EMPTY || ct->vip_index != meta->vip_index || !ct->nat_port ||
	    xlb_ct_expired(ct->last_seen_ns, ct->state, xlb_now()))
		return xlb_count_drop(XLB_DROP_ICMP_NAT, pkt->pkt_len, XDP_PASS);
	bi = ct->backend_index;
	be = xlb_backend_get(bi);
	if (!be || be->family != pkt->flow.family || ct->nat_src_index >= xlb_nat_source_count(cfg))
		return xlb_count_drop(XLB_DROP_ICMP_NAT, pkt->pkt_len, XDP_PASS);
	dmac = xlb_backend_mac(be, false);
	if (!dmac)
		return xlb_count_drop(XLB_DROP_NO_NEXTHOP, pkt->pkt_len, XDP_DROP);
	sc = bpf_map_lookup_elem(&xlb_scratch, &zero);
	if (!sc)
		return XDP_PASS;
	a = &sc->rewrite;
	if (!xlb_nat_source(cfg, pkt->flow.family, a->src))
		return xlb_count_drop(XLB_DROP_NO_NAT_SOURCE, pkt->pkt_len, XDP_DROP);
	xlb_nat_source_at(a->src, a->src, pkt->flow.family, ct->nat_src_index);
	xlb_addr_copy(a->dst, be->addr);
	/* the quote as the backend sent it: B:b -> S:p */
	a->sport = be->port ? be->port : pkt->flow.dport;
	a->dport = ct->nat_port;
	if (xlb_nat_icmp_send(ctx, pkt, a, dmac, xlb_mac_is_zero(cfg->local_mac) ? eth_dst : cfg->local_mac))
		return xlb_count_drop(XLB_DROP_TRUNCATED, pkt->pkt_len, XDP_DROP);
	xlb_count_forward(meta->vip_index, bi, pkt->pkt_len, false);
	return XDP_TX;
}

#endif /* XLB_NAT_ICMP_H */
