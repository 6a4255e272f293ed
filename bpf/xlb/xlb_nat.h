/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NAT mode: backends see ordinary traffic from the balancer and answer it.
 *
 *   client C:c -> VIP V:v      becomes   S:p -> backend B:b     (S: a NAT source address)
 *   backend B:b -> S:p         becomes   V:v -> C:c             (found in nat_rev, XDP_TX)
 *
 * The NAT source addresses are config nat_src_v4 / nat_src_v6 and the nat_src_count - 1
 * addresses after it (the last 32 bits counted up); the balancer must own them all (answer ARP /
 * neighbour solicitation), so that the backends' replies come back to it.
 *
 * b is the backend record's port (0: v). Checksums are updated incrementally (RFC 1624): the
 * IPv4 header for the addresses, TCP/UDP for the pseudo-header addresses and both ports; a UDP
 * datagram without checksum (IPv4, 0) keeps none. Address families are not translated.
 *
 * Port allocation. `nat_rev` is keyed by the reply's flow (B, S, b, p, protocol), so a source
 * (address, port) needs to be unique per backend address, port and protocol only. The N source
 * addresses and R ports make N × R slots; for a new flow the candidates are
 *     j_i = (h + i) mod (N × R),  i = 0 .. XLB_NAT_PROBES-1,  h = jhash(client flow, XLB_NAT_HASH_SEED) mod (N × R)
 *     address S + j_i / R,  port nat_port_min + j_i mod R,  R = nat_port_max - nat_port_min + 1
 * (deterministic: flow-hash.ts predicts them). Each candidate is inserted into nat_rev first
 * (it is usually free; the lookup follows only when the insert finds it taken):
 *   - free: inserted with BPF_NOEXIST, which is atomic, so two CPUs cannot both win it (the
 *     loser reads the entry and goes on);
 *   - taken by this same client flow (its connection-table entry was evicted or the flow moved
 *     to another CPU): reused, so the flow keeps its port;
 *   - taken by a flow whose state has timed out (ct_*_timeout_ms) and, for TCP, whose last
 *     packet is older than nat_tcp_time_wait_ms (60 s): taken over (replaced with BPF_ANY;
 *     should two CPUs take over the same port at the same moment, the later wins and the
 *     earlier flow's replies go astray, so ports are only reused after their timeout). The
 *     TIME_WAIT reserve matters: the backend's socket of a closed flow lingers 60 s in
 *     TIME_WAIT, and a new SYN on its 4-tuple that Linux does not accept there gets a challenge
 *     ACK instead of a SYN-ACK, and the new connection hangs. A NAT table (XLB_NAT_SIZE) smaller
 *     than new flows/s × 60 s evicts reserved ports early: size it for the rate;
 *   - taken by a live flow: next candidate.
 * When all candidates are live the packet is dropped (XLB_DROP_NAT_PORTS_EXHAUSTED). The
 * port is remembered in the connection-table entry; every forwarded packet of a new tick of the
 * coarse clock (or one that changes the flow's state) refreshes the reverse entry (re-inserting
 * it if the LRU evicted it) and every reply does too, so only idle flows lose their ports. Linear probing from a hashed start keeps the expected number of
 * probes low while the table is below ~70 % of R per backend; size R and XLB_NAT_SIZE for the
 * flows per backend.
 *
 * ICMP errors quoting a NAT flow are translated in both directions: xlb_nat_icmp.h.
 */
#ifndef XLB_NAT_H
#define XLB_NAT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"
#include "xlb_maps.h"
#include "xlb_helpers.h"
#include "xlb_conntrack.h"
#include "csum_helpers.h"
#include "pckt_parsing.h"

/* How many NAT source addresses the configuration has (0 reads as 1). */
static __always_inline __u32 xlb_nat_source_count(const struct xlb_config *cfg)
{
	__u32 n = cfg->nat_src_count;

	return n == 0 ? 1 : n > XLB_NAT_SRC_MAX ? XLB_NAT_SRC_MAX : n;
}

/* The first NAT source address for `family` into out[4] (IPv4: out[0], rest zero); false when none. */
static __always_inline bool xlb_nat_source(const struct xlb_config *cfg, __u8 family, __be32 *out)
{
	if (family == 4) {
		out[0] = cfg->nat_src_v4;
		out[1] = out[2] = out[3] = 0;
		return out[0] != 0;
	}
	xlb_addr_copy(out, cfg->nat_src_v6);
	return (out[0] | out[1] | out[2] | out[3]) != 0;
}

/* The index-th NAT source address after `first` (the last 32 bits counted up). */
static __always_inline void xlb_nat_source_at(__be32 *out, const __be32 *first, __u8 family, __u32 index)
{
	xlb_addr_copy(out, first);
	if (family == 4)
		out[0] = bpf_htonl(bpf_ntohl(first[0]) + index);
	else
		out[3] = bpf_htonl(bpf_ntohl(first[3]) + index);
}

/* Whether `addr` is one of the NAT source addresses of its family: a reply to translate. */
static __always_inline bool xlb_nat_source_match(const struct xlb_config *cfg, __u8 family, const __be32 *addr)
{
	__u32 n = xlb_nat_source_count(cfg);

	if (family == 4)
		return cfg->nat_src_v4 != 0 && bpf_ntohl(addr[0]) - bpf_ntohl(cfg->nat_src_v4) < n;
	if (!(cfg->nat_src_v6[0] | cfg->nat_src_v6[1] | cfg->nat_src_v6[2] | cfg->nat_src_v6[3]))
		return false;
	return addr[0] == cfg->nat_src_v6[0] && addr[1] == cfg->nat_src_v6[1] && addr[2] == cfg->nat_src_v6[2] &&
	       bpf_ntohl(addr[3]) - bpf_ntohl(cfg->nat_src_v6[3]) < n;
}

/*
 * Whether a NAT entry's port may go to another flow: its state has timed out and, for TCP, its
 * last packet is older than the backend's TIME_WAIT.
 */
static __always_inline bool xlb_nat_reusable(const struct xlb_nat_value *cur, __u8 proto, __u64 now)
{
	if (!xlb_ct_expired(cur->last_seen_ns, cur->state, now))
		return false;
	return proto != XLB_IPPROTO_TCP || now - cur->last_seen_ns > (__u64)nat_tcp_time_wait_ms * XLB_NS_PER_MS;
}

/* Checksum after addresses (`words` 4-byte words each, a constant) and the two ports changed. */
static __always_inline __sum16 xlb_csum_nat(__sum16 check, const __be32 *os, const __be32 *ns, const __be32 *od,
					    const __be32 *nd, int words, __u32 oports, __u32 nports)
{
	__u64 sum = (__u16)~check;
	int i;

#pragma unroll
	for (i = 0; i < words; i++) {
		sum += (__u32)~os[i];
		sum += ns[i];
		sum += (__u32)~od[i];
		sum += nd[i];
	}
	sum += (__u32)~oports;
	sum += nports;
	return (__sum16)~xlb_csum_fold64(sum);
}

static __always_inline bool xlb_nat_same_flow(const struct xlb_nat_value *a, const struct xlb_nat_value *b)
{
	return a->client_port == b->client_port && a->vip_port == b->vip_port && a->vip_index == b->vip_index &&
	       xlb_addr_eq(a->client_addr, b->client_addr) && xlb_addr_eq(a->vip_addr, b->vip_addr);
}

/*
 * Binds s->flow to a NAT source address and port towards s->be: keeps s->nat_src_index and
 * s->nat_port when they are still the flow's (refreshing the reverse entry, re-inserting it if
 * it was evicted), else allocates a pair as described above. s->nat_src comes in as the first
 * source address. Returns 0 (s->nat_src, s->nat_src_index, s->nat_port set) or a drop reason.
 */
static __always_inline int xlb_nat_bind(struct xlb_sched *s)
{
	__u32 min = nat_port_min, max = nat_port_max, range, slots, h, i, index = 0;
	__u32 count = s->nat_src_count ? s->nat_src_count : 1;
	__be32 first[4];
	__u8 state = xlb_ct_next_state(s->flow.proto, s->tcp_flags, XLB_CT_EMPTY);
	/* In the scheduling struct (a map value), not on the stack: the calls share 512 bytes. */
	struct xlb_nat_value *val = &s->nat_val;
	struct xlb_flow_key *key = &s->nat_key;
	struct xlb_nat_value *cur;

	if (min == 0 || min > max || count > XLB_NAT_SRC_MAX)
		return XLB_DROP_BAD_CONFIG;
	__builtin_memset(val, 0, sizeof(*val));
	__builtin_memset(key, 0, sizeof(*key));
	range = max - min + 1;
	slots = range * count;
	h = xlb_flow_hash(&s->flow, XLB_NAT_HASH_SEED) % slots;
	xlb_addr_copy(first, s->nat_src);

	xlb_addr_copy(key->src, s->be.addr);
	key->sport = s->be.port ? s->be.port : s->flow.dport;
	key->proto = s->flow.proto;
	key->family = s->flow.family;

	val->last_seen_ns = s->now;
	val->vip_index = s->meta.vip_index;
	val->backend_index = s->backend_index;
	xlb_addr_copy(val->client_addr, s->flow.src);
	xlb_addr_copy(val->vip_addr, s->flow.dst);
	val->client_port = s->flow.sport;
	val->vip_port = s->flow.dport;
	__builtin_memcpy(val->client_mac, s->client_mac, 6);
	val->state = state;

	/* Candidate 0 is the address and port the flow already has; then the hashed sequence. */
	for (i = s->nat_port ? 0 : 1; i <= XLB_NAT_PROBES; i++) {
		if (i == 0) {
			index = s->nat_src_index;
			key->dport = s->nat_port;
		} else {
			index = h / range;
			key->dport = bpf_htons(min + h % range);
			h = h + 1 < slots ? h + 1 : 0;
		}
		if (index >= count)
			continue;
		xlb_nat_source_at(key->dst, first, s->flow.family, index);
		/*
		 * The flow's own pair is looked up first (it is usually there); a hashed candidate is
		 * inserted first (it is usually free), and looked up only when the insert finds it taken.
		 */
		cur = i == 0 ? bpf_map_lookup_elem(&nat_rev, key) : NULL;
		if (!cur) {
			if (bpf_map_update_elem(&nat_rev, key, val, BPF_NOEXIST) == 0)
				goto bound;
			cur = bpf_map_lookup_elem(&nat_rev, key);
			if (!cur)
				continue;
		}
		if (xlb_nat_same_flow(cur, val)) {
			cur->last_seen_ns = s->now;
			if (cur->state != XLB_CT_TCP_CLOSING)
				cur->state = xlb_ct_next_state(s->flow.proto, s->tcp_flags, cur->state);
			goto bound;
		}
		if (xlb_nat_reusable(cur, s->flow.proto, s->now) &&
		    bpf_map_update_elem(&nat_rev, key, val, BPF_ANY) == 0)
			goto bound;
	}
	return XLB_DROP_NAT_PORTS_EXHAUSTED;
bound:
	s->nat_port = key->dport;
	s->nat_src_index = index;
	xlb_addr_copy(s->nat_src, key->dst);
	return 0;
}

/*
 * Rewrites the TCP/UDP packet at a->l2_len to a->src:sport -> a->dst:dport (same family) with
 * incremental checksums, and sets the MACs. The old addresses and ports are read from the
 * packet. Inlined in the NAT reply path; the forward path calls the global xlb_nat_rewrite
 * below (verified once). Returns 0, or 1 when a header is not inside the frame (the parser
 * excluded that).
 */
static __always_inline int xlb_nat_rewrite_inline(struct xdp_md *ctx, const struct xlb_rewrite_args *a)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	/* Masked so that the bounds survive clang's rewriting of the range checks below. */
	__u32 l2 = a ? a->l2_len & 0xff : 0, hlen = a ? a->l3_hlen & 0x3fff : 0;
	struct ethhdr *eth = data;
	__be32 os[4] = {}, od[4] = {};
	__u32 oports, nports;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	void *l4;
	__sum16 *check;
	__be16 *ports;

	if (!a || l2 < sizeof(*eth) || l2 > XLB_MAX_L2_LEN)
		return 1;
	if ((void *)(eth + 1) > end)
		return 1;
	l4 = data + l2 + hlen;
	barrier_var(l4); /* keeps clang from re-deriving it after the checks */
	nports = (__u32)a->sport | ((__u32)a->dport << 16);
	ip = data + l2;
	barrier_var(ip);
	if (a->family == 6) {
		ip6 = (void *)ip;
		if ((void *)(ip6 + 1) > end)
			return 1;
		xlb_addr_copy(os, (__be32 *)&ip6->saddr);
		xlb_addr_copy(od, (__be32 *)&ip6->daddr);
		xlb_addr_copy((__be32 *)&ip6->saddr, a->src);
		xlb_addr_copy((__be32 *)&ip6->daddr, a->dst);
	} else {
		if ((void *)(ip + 1) > end)
			return 1;
		os[0] = ip->saddr;
		od[0] = ip->daddr;
		ip->check = xlb_csum_replace4(ip->check, os[0], a->src[0]);
		ip->check = xlb_csum_replace4(ip->check, od[0], a->dst[0]);
		ip->saddr = a->src[0];
		ip->daddr = a->dst[0];
	}
	ports = l4;
	if ((void *)(ports + 2) > end)
		return 1;
	oports = (__u32)ports[0] | ((__u32)ports[1] << 16);
	ports[0] = a->sport;
	ports[1] = a->dport;
	if (a->proto == XLB_IPPROTO_TCP) {
		check = l4 + offsetof(struct tcphdr, check);
		if ((void *)(check + 1) > end)
			return 1;
		*check = a->family == 6 ? xlb_csum_nat(*check, os, a->src, od, a->dst, 4, oports, nports)
				       : xlb_csum_nat(*check, os, a->src, od, a->dst, 1, oports, nports);
	} else {
		check = l4 + offsetof(struct udphdr, check);
		if ((void *)(check + 1) > end)
			return 1;
		/* IPv4 UDP without checksum keeps none. */
		if (a->family == 6)
			*check = xlb_udp_csum_mangle(xlb_csum_nat(*check, os, a->src, od, a->dst, 4, oports, nports));
		else if (*check)
			*check = xlb_udp_csum_mangle(xlb_csum_nat(*check, os, a->src, od, a->dst, 1, oports, nports));
	}
	xlb_mac_copy(eth->h_source, a->smac);
	xlb_mac_copy(eth->h_dest, a->dmac);
	return 0;
}

/* The same as a global function (verified once): the forward path's NAT rewrite. */
__attribute__((noinline)) int xlb_nat_rewrite(struct xdp_md *ctx, struct xlb_rewrite_args *a)
{
	return xlb_nat_rewrite_inline(ctx, a);
}

#endif /* XLB_NAT_H */
