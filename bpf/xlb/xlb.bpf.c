// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlb: the XDP layer-4 load balancer of netaccel (Maglev + connection table, after Katran).
 *
 * For each frame:
 *   1. parse (pckt_parsing.h): Ethernet + VLAN tags, IPv4/IPv6 (+ extension headers), TCP/UDP
 *      or an ICMP error quoting a TCP/UDP packet (then the quoted flow, reversed, is balanced:
 *      the error reaches the backend of the flow it is about). Not IP, other protocols: XDP_PASS
 *      untouched. Malformed or truncated: XDP_PASS, counted by reason in drop_stats.
 *   2. NAT replies: a TCP/UDP packet to the NAT source address with a nat_rev entry is
 *      translated back (xlb_nat.h) and sent with XDP_TX; without an entry it passes. ICMP errors
 *      quoting a NAT flow, to the NAT source or to the VIP, are translated (xlb_nat_icmp.h).
 *   3. VIP lookup in `vips` by (address, port, protocol), then (address, 0, protocol) for
 *      port-wildcard VIPs. No VIP: XDP_PASS untouched. A fragment to a VIP: XDP_DROP.
 *   4. backend selection (xlb_conntrack.h): the connection table, else the VIP's active Maglev
 *      table at hash % table_size (5-tuple hash, or source only with XLB_VIP_F_HASH_SRC_ONLY).
 *   5. forwarding by the VIP's mode, then XDP_TX:
 *        L2 DSR  destination MAC := backend MAC, source MAC := local MAC
 *        IPIP    outer IPv4/IPv6 header to the backend (pckt_encap.h)
 *        GUE     outer IP + UDP(sport from the flow hash, dport gue_port) + GUE header
 *        NAT     destination := backend, source := NAT address and allocated port (xlb_nat.h)
 *      Encapsulated and NAT frames go to the backend's MAC when it is on-link, else to its
 *      next hop's (`nexthops`). A packet too big for encap_mtu once encapsulated is answered
 *      with ICMP fragmentation needed / packet too big (DF or IPv6, pckt_icmp.h) or dropped.
 *      The local MAC is config.local_mac, or the received frame's destination MAC when that
 *      is zero.
 * Maps and load-time globals: xlb_maps.h. Shared structs and the drop reasons: xlb_kern_user.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"
#include "xlb_maps.h"
#include "xlb_helpers.h"
#include "csum_helpers.h"
#include "pckt_parsing.h"
#include "pckt_encap.h"
#include "pckt_icmp.h"
#include "xlb_conntrack.h"
#include "xlb_nat.h"
#include "xlb_nat_icmp.h"

static __always_inline bool xlb_meta_ok(const struct xlb_vip_meta *m)
{
	switch (m->mode) {
	case XLB_MODE_L2_DSR:
		break;
	case XLB_MODE_IPIP:
	case XLB_MODE_GUE:
		if (!(features & XLB_FEAT_ENCAP))
			return false;
		break;
	case XLB_MODE_NAT:
		if (!(features & XLB_FEAT_NAT))
			return false;
		break;
	default:
		return false;
	}
	return m->vip_index < XLB_MAX_VIPS && m->table_size >= 1 && m->table_size <= XLB_MAGLEV_SIZE &&
	       m->active_slot <= 1;
}

/*
 * Chooses the backend of a flow to a VIP (connection table, else Maglev), binds a NAT port in
 * NAT mode, and records the flow in the connection table. Global: verified once.
 * Returns 0 (s->be, s->backend_index, s->nat_port, s->new_flow set) or a drop reason.
 */
__attribute__((noinline)) int xlb_schedule(struct xlb_sched *s)
{
	struct xlb_ct_value *ct, *hit;
	bool begins;
	int err;

	if (!s)
		return XLB_DROP_BAD_CONFIG;
	if (s->syn_first && xlb_ct_syn_insert(s))
		return 0;
	ct = s->ct_absent ? NULL : xlb_ct_lookup(&s->flow);
	hit = xlb_ct_usable(s, ct);
	if (!hit) {
		s->nat_port = 0;
		/* Only flows that begin here avoid draining backends (see xlb_conntrack.h). */
		begins = !s->icmp_error && (s->flow.proto != XLB_IPPROTO_TCP || xlb_is_syn(s->flow.proto, s->tcp_flags));
		err = xlb_table_pick(s, begins);
		if (err)
			return err;
	}
	if (s->meta.mode == XLB_MODE_NAT) {
		if (s->be.family != s->flow.family)
			return XLB_DROP_FAMILY;
		err = xlb_nat_bind(s);
		if (err)
			return err;
	}
	xlb_ct_commit(s, ct, hit);
	return 0;
}

/* The encapsulation of a packet of `pkt`'s flow to `be` (IPIP, or GUE when `gue`). */
static __always_inline void xlb_encap_args_fill(struct xlb_encap_args *ea, const struct xlb_pkt *pkt, const struct xlb_backend *be,
						const __u8 *dmac, const __u8 *smac, bool gue, __u32 hash)
{
	xlb_addr_copy(ea->dst, be->addr);
	ea->hash = hash;
	ea->l2_len = pkt->l2_len;
	ea->ip_len = pkt->ip_len;
	ea->l3_hlen = pkt->l3_hlen;
	__builtin_memcpy(ea->dmac, dmac, 6);
	__builtin_memcpy(ea->smac, smac, 6);
	ea->inner_family = pkt->flow.family;
	ea->outer_family = be->family;
	ea->gue = gue;
	ea->l4_proto = pkt->l4_proto;
	ea->tos = pkt->tos;
	ea->lco_ok = !(pkt->flags & XLB_PKT_F_UDP_NO_CSUM) && !pkt->ext_hdrs;
	ea->pad[0] = 0;
	ea->pad[1] = 0;
}

/*
 * An encapsulation that failed with `err`. Too big for encap_mtu: IPv6 packets and IPv4 ones
 * with DF are answered with an ICMP error carrying the MTU the client can use (pckt_icmp.h);
 * IPv4 without DF cannot be fragmented here and ICMP errors get no error about themselves:
 * those are dropped, counted as TOO_BIG, as is everything when encap_mtu leaves less than the
 * IPv4 minimum MTU (68, RFC 791) after the overhead. Off the fast paths: called only after a
 * failure.
 */
static __always_inline int xlb_encap_failed(struct xdp_md *ctx, const struct xlb_pkt *pkt, int err, __u8 outer_family, bool gue)
{
	__u32 overhead;

	if (err != XLB_DROP_TOO_BIG || (pkt->flags & XLB_PKT_F_ICMP_ERROR) ||
	    (pkt->flow.family == 4 && !(pkt->flags & XLB_PKT_F_DF)))
		return xlb_count_drop(err, pkt->pkt_len, XDP_DROP);
	overhead = (outer_family == 6 ? XLB_IPV6_HLEN : XLB_IPV4_HLEN) + (gue ? XLB_GUE_OVERHEAD : 0);
	if (encap_mtu < overhead + XLB_IPV4_MIN_MTU)
		return xlb_count_drop(err, pkt->pkt_len, XDP_DROP);
	if (xlb_icmp_too_big(ctx, pkt->l2_len, pkt->ip_len, pkt->flow.family, encap_mtu - overhead))
		return xlb_count_drop(XLB_DROP_ADJUST_HEAD, pkt->pkt_len, XDP_DROP);
	return xlb_count_drop(XLB_DROP_ICMP_TOO_BIG, pkt->pkt_len, XDP_TX);
}

/* What a fast path chose: the backend `be` (index `bi`) and the MAC `dmac` frames to it go to. */
struct xlb_fast {
	const struct xlb_backend *be;
	const __u8 *dmac;
	__u32 bi;
	__u32 hash;     /* the flow's 5-tuple hash when have_hash */
	bool have_hash;
	bool new_flow;
};

/*
 * Sends a packet of the fast paths to f->be: MACs rewritten (L2 DSR) or encapsulated (IPv4 in
 * IPv4 without VLAN tags inline, the rest through xlb_encap with its arguments in the scratch
 * map), counted. One call site, so that the encapsulation is inlined once for both fast paths.
 */
static __always_inline int xlb_send_fast(struct xdp_md *ctx, const struct xlb_pkt *pkt, const struct xlb_vip_meta *meta,
					 const struct xlb_config *cfg, const __u8 *eth_dst, const struct xlb_fast *f)
{
	const struct xlb_backend *be = f->be;
	bool gue = meta->mode == XLB_MODE_GUE;
	struct xlb_scratch *sc;
	const __u8 *smac;
	struct ethhdr *eth;
	__u32 zero = 0, hash;
	int err;

	smac = xlb_mac_is_zero(cfg->local_mac) ? eth_dst : cfg->local_mac;
	if (meta->mode == XLB_MODE_L2_DSR) {
		eth = (void *)(long)ctx->data;
		if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
			return XDP_PASS;
		xlb_mac_copy(eth->h_source, smac);
		xlb_mac_copy(eth->h_dest, f->dmac);
		xlb_count_forward(meta->vip_index, f->bi, pkt->pkt_len, f->new_flow);
		return XDP_TX;
	}
	hash = f->have_hash ? f->hash : xlb_flow_hash(&pkt->flow, XLB_HASH_SEED);
	if (xlb_likely(pkt->l2_len == sizeof(struct ethhdr) && pkt->flow.family == 4 && be->family == 4)) {
		/* IPv4 in IPv4 without VLAN tags: inline, no call */
		err = xlb_encap_v4_inline(ctx, hash, pkt->ip_len, pkt->tos, be->addr[0], f->dmac, smac, gue);
	} else {
		/* Arguments in the scratch map: on the stack they would overflow the calls' 512 bytes. */
		sc = bpf_map_lookup_elem(&xlb_scratch, &zero);
		if (!sc)
			return XDP_PASS;
		xlb_encap_args_fill(&sc->encap, pkt, be, f->dmac, smac, gue, hash);
		err = xlb_encap(ctx, &sc->encap);
	}
	if (xlb_unlikely(err))
		return xlb_encap_failed(ctx, pkt, err, be->family, gue);
	xlb_count_forward(meta->vip_index, f->bi, pkt->pkt_len, f->new_flow);
	return XDP_TX;
}

/*
 * The connection-table hit of an L2 DSR, IPIP or GUE flow, inline: no scratch space, no
 * scheduling function. Does what xlb_schedule does for a usable entry (refresh it unless an
 * ICMP error) and fills `f` for xlb_send_fast. Returns 0 (send), -1 when the slow path must
 * decide (the entry not usable, no MAC for its backend; nothing changed), -2 when there is no
 * entry (the slow path then skips its own lookup).
 */
static __always_inline int xlb_ct_hit_fast(const struct xlb_pkt *pkt, const struct xlb_vip_meta *meta, __u64 now, struct xlb_fast *f)
{
	bool icmp_error = pkt->flags & XLB_PKT_F_ICMP_ERROR;
	struct xlb_ct_value *ct;
	struct xlb_backend *be;
	const __u8 *dmac;
	__u32 bi;
	__u8 state;

	ct = xlb_ct_lookup(&pkt->flow);
	if (xlb_unlikely(!ct))
		return -2;
	state = ct->state;
	if (xlb_unlikely(state == XLB_CT_EMPTY || ct->vip_index != meta->vip_index || xlb_ct_expired(ct->last_seen_ns, state, now)))
		return -1;
	if (xlb_unlikely(state == XLB_CT_TCP_CLOSING && !icmp_error && xlb_is_syn(pkt->flow.proto, pkt->tcp_flags)))
		return -1;
	bi = ct->backend_index;
	be = xlb_backend_get(bi);
	if (xlb_unlikely(!be))
		return -1;
	dmac = xlb_backend_mac(be, meta->mode == XLB_MODE_L2_DSR);
	if (xlb_unlikely(!dmac))
		return -1;
	if (!icmp_error)
		xlb_ct_touch(ct, xlb_ct_next_state(pkt->flow.proto, pkt->tcp_flags, state), now);
	f->be = be;
	f->dmac = dmac;
	f->bi = bi;
	f->hash = ct->flow_hash;
	f->have_hash = f->hash != 0;
	f->new_flow = false;
	return 0;
}

/*
 * A new flow's SYN (pure SYN, 5-tuple hashed L2 DSR / IPIP / GUE VIP), inline: what
 * xlb_ct_syn_insert does, without the scratch space and the scheduling function: the active
 * table's backend (skipping draining ones), the entry inserted with BPF_NOEXIST; fills `f` for
 * xlb_send_fast. Returns 0 (send) or -1 whenever the slow path must decide (the flow has an
 * entry, no backend free of draining, no MAC for the backend): it then does all of it again.
 */
static __always_inline int xlb_syn_fast(const struct xlb_pkt *pkt, const struct xlb_vip_meta *meta, __u64 now, struct xlb_fast *f)
{
	__u32 size = meta->table_size, base, hash, pos, key, i, bi = 0;
	struct xlb_ct_value v = {};
	struct xlb_backend *be = NULL;
	const __u8 *dmac;
	__u32 *idx;

	if (meta->flags & XLB_VIP_F_HASH_SRC_ONLY || size == 0)
		return -1;
	hash = xlb_flow_hash(&pkt->flow, XLB_HASH_SEED);
	base = ((meta->vip_index << 1) | (meta->active_slot & 1)) * XLB_MAGLEV_SIZE;
	pos = hash % size;
	for (i = 0; i < XLB_DRAIN_PROBES; i++) {
		key = base + pos;
		idx = bpf_map_lookup_elem(&maglev_tables, &key);
		if (!idx)
			return -1;
		bi = *idx;
		be = xlb_backend_get(bi);
		if (be && !(be->flags & XLB_BACKEND_F_DRAINING))
			break;
		be = NULL;
		pos = pos + 1 < size ? pos + 1 : 0;
	}
	if (!be)
		return -1;
	dmac = xlb_backend_mac(be, meta->mode == XLB_MODE_L2_DSR);
	if (!dmac)
		return -1;
	v.last_seen_ns = now;
	v.backend_index = bi;
	v.vip_index = meta->vip_index;
	v.state = XLB_CT_TCP_SYN;
	v.flow_hash = hash;
	if (xlb_ct_update(&pkt->flow, &v, BPF_NOEXIST))
		return -1;
	f->be = be;
	f->dmac = dmac;
	f->bi = bi;
	f->hash = hash;
	f->have_hash = true;
	f->new_flow = true;
	return 0;
}

/*
 * The connection-table hit of a NAT flow, inline: no scheduling function, no memset. Handles
 * the usual case only: a usable entry whose NAT binding (its source address and port, in
 * nat_rev) is still this flow's; refreshes both and translates (xlb_nat_rewrite_inline, its
 * arguments on the stack). The binding is looked up only when the packet changes the entry
 * (another tick of the coarse clock, another state): within the tick of the entry's last
 * packet, that packet (this path, or xlb_nat_bind) verified and refreshed the binding at the
 * same `now`, so it cannot have expired or gone to another flow since (an LRU eviction of the
 * reverse entry in that tick is found on the next tick, and rebound then). Returns -2 when the
 * flow has no entry (the slow path then skips its own lookup), -1 otherwise (the entry not
 * usable, the binding lost or taken, no MAC, no NAT source, another family) before changing
 * anything: the slow path then decides, as it did for every NAT packet.
 */
static __always_inline int xlb_nat_hit_fast(struct xdp_md *ctx, const struct xlb_pkt *pkt, const struct xlb_vip_meta *meta,
					    const struct xlb_config *cfg, const __u8 *eth_dst, __u64 now)
{
	struct xlb_rewrite_args ra;
	struct xlb_nat_value *cur;
	struct xlb_flow_key *key;
	struct xlb_scratch *sc;
	struct xlb_ct_value *ct;
	struct xlb_backend *be;
	const __u8 *dmac;
	__u32 bi, zero = 0, index;
	__u8 state, next;

	ct = xlb_ct_lookup(&pkt->flow);
	if (!ct)
		return -2;
	state = ct->state;
	if (state == XLB_CT_EMPTY || ct->vip_index != meta->vip_index || xlb_ct_expired(ct->last_seen_ns, state, now) || !ct->nat_port)
		return -1;
	if (state == XLB_CT_TCP_CLOSING && xlb_is_syn(pkt->flow.proto, pkt->tcp_flags))
		return -1;
	bi = ct->backend_index;
	be = xlb_backend_get(bi);
	if (!be || be->family != pkt->flow.family)
		return -1;
	dmac = xlb_backend_mac(be, false);
	index = ct->nat_src_index;
	if (!dmac || index >= xlb_nat_source_count(cfg))
		return -1;
	if (!xlb_nat_source(cfg, pkt->flow.family, ra.src))
		return -1;
	/* the reply's flow: backend -> (NAT source index-th, NAT port) */
	xlb_nat_source_at(ra.src, ra.src, pkt->flow.family, index);
	xlb_addr_copy(ra.dst, be->addr);
	ra.sport = ct->nat_port;
	ra.dport = be->port ? be->port : pkt->flow.dport;
	next = xlb_ct_next_state(pkt->flow.proto, pkt->tcp_flags, state);
	if (ct->last_seen_ns != now || next != state) {
		sc = bpf_map_lookup_elem(&xlb_scratch, &zero);
		if (!sc)
			return -1;
		key = &sc->sched.nat_key;
		xlb_addr_copy(key->dst, ra.src);
		xlb_addr_copy(key->src, ra.dst);
		key->sport = ra.dport;
		key->dport = ra.sport;
		key->proto = pkt->flow.proto;
		key->family = pkt->flow.family;
		key->pad = 0;
		cur = bpf_map_lookup_elem(&nat_rev, key);
		if (!cur || cur->vip_index != meta->vip_index || cur->client_port != pkt->flow.sport || cur->vip_port != pkt->flow.dport ||
		    !xlb_addr_eq(cur->client_addr, pkt->flow.src) || !xlb_addr_eq(cur->vip_addr, pkt->flow.dst))
			return -1;
		cur->last_seen_ns = now;
		if (cur->state != XLB_CT_TCP_CLOSING)
			cur->state = xlb_ct_next_state(pkt->flow.proto, pkt->tcp_flags, cur->state);
		ct->last_seen_ns = now;
		ct->state = next;
	}
	ra.l2_len = pkt->l2_len;
	ra.l3_hlen = pkt->l3_hlen;
	xlb_mac_copy(ra.dmac, dmac);
	xlb_mac_copy(ra.smac, xlb_mac_is_zero(cfg->local_mac) ? eth_dst : cfg->local_mac);
	ra.family = pkt->flow.family;
	ra.proto = pkt->flow.proto;
	if (xlb_nat_rewrite_inline(ctx, &ra))
		return xlb_count_drop(XLB_DROP_TRUNCATED, pkt->pkt_len, XDP_DROP);
	xlb_count_forward(meta->vip_index, bi, pkt->pkt_len, false);
	return XDP_TX;
}

/* Forwards a packet to a VIP; `eth_dst`/`eth_src` are the received frame's MACs. */
static __always_inline int xlb_forward(struct xdp_md *ctx, const struct xlb_pkt *pkt, const struct xlb_vip_meta *meta,
				       const struct xlb_config *cfg, const __u8 *eth_dst, const __u8 *eth_src)
{
	struct xlb_rewrite_args *ra;
	struct xlb_encap_args *ea;
	struct xlb_scratch *sc;
	struct xlb_sched *s;
	const __u8 *dmac, *smac;
	struct ethhdr *eth;
	__u32 len = pkt->pkt_len, zero = 0, hash;
	__u8 mode = meta->mode;
	bool ct_absent = false, syn_first;
	struct xlb_fast fast;
	__u64 now;
	int err;

	if (xlb_unlikely(!xlb_meta_ok(meta)))
		return xlb_count_drop(XLB_DROP_BAD_CONFIG, len, XDP_DROP);
	if (xlb_unlikely((pkt->flags & XLB_PKT_F_ICMP_ERROR) && mode == XLB_MODE_NAT))
		return xlb_nat_icmp_forward(ctx, pkt, meta, cfg, eth_dst);
	now = xlb_now();
	/* A pure SYN is a new flow but for retransmits: the scheduling path inserts it first. */
	syn_first = mode != XLB_MODE_NAT && !(pkt->flags & XLB_PKT_F_ICMP_ERROR) && xlb_is_pure_syn(pkt->flow.proto, pkt->tcp_flags);
	if (mode != XLB_MODE_NAT) {
		err = syn_first ? xlb_syn_fast(pkt, meta, now, &fast) : xlb_ct_hit_fast(pkt, meta, now, &fast);
		if (xlb_likely(err == 0))
			return xlb_send_fast(ctx, pkt, meta, cfg, eth_dst, &fast);
		ct_absent = err == -2;
	} else {
		err = xlb_nat_hit_fast(ctx, pkt, meta, cfg, eth_dst, now);
		if (xlb_likely(err >= 0))
			return err;
		ct_absent = err == -2;
	}
	sc = bpf_map_lookup_elem(&xlb_scratch, &zero);
	if (!sc)
		return XDP_PASS;
	s = &sc->sched;
	__builtin_memset(s, 0, __builtin_offsetof(struct xlb_sched, nat_key));
	s->flow = pkt->flow;
	s->meta = *meta;
	s->now = now;
	s->ct_absent = ct_absent;
	s->syn_first = syn_first;
	s->tcp_flags = pkt->tcp_flags;
	s->icmp_error = !!(pkt->flags & XLB_PKT_F_ICMP_ERROR);
	if (mode == XLB_MODE_NAT) {
		if (!xlb_nat_source(cfg, pkt->flow.family, s->nat_src))
			return xlb_count_drop(XLB_DROP_NO_NAT_SOURCE, len, XDP_DROP);
		s->nat_src_count = xlb_nat_source_count(cfg);
		__builtin_memcpy(s->client_mac, eth_src, 6);
	}
	err = xlb_schedule(s);
	if (err)
		return xlb_count_drop(err, len, XDP_DROP);
	dmac = xlb_backend_mac(&s->be, mode == XLB_MODE_L2_DSR);
	if (!dmac)
		return xlb_count_drop(XLB_DROP_NO_NEXTHOP, len, XDP_DROP);
	smac = xlb_mac_is_zero(cfg->local_mac) ? eth_dst : cfg->local_mac;

	if (mode == XLB_MODE_L2_DSR) {
		eth = (void *)(long)ctx->data;
		if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
			return XDP_PASS;
		__builtin_memcpy(eth->h_source, smac, 6);
		__builtin_memcpy(eth->h_dest, dmac, 6);
	} else if (mode == XLB_MODE_NAT) {
		ra = &sc->rewrite;
		xlb_addr_copy(ra->src, s->nat_src);
		xlb_addr_copy(ra->dst, s->be.addr);
		ra->sport = s->nat_port;
		ra->dport = s->be.port ? s->be.port : pkt->flow.dport;
		ra->l2_len = pkt->l2_len;
		ra->l3_hlen = pkt->l3_hlen;
		__builtin_memcpy(ra->dmac, dmac, 6);
		__builtin_memcpy(ra->smac, smac, 6);
		ra->family = pkt->flow.family;
		ra->proto = pkt->flow.proto;
		if (xlb_nat_rewrite(ctx, ra))
			return xlb_count_drop(XLB_DROP_TRUNCATED, len, XDP_DROP);
	} else {
		hash = s->flow_hash_set ? s->flow_hash : xlb_flow_hash(&pkt->flow, XLB_HASH_SEED);
		if (pkt->l2_len == sizeof(struct ethhdr) && pkt->flow.family == 4 && s->be.family == 4) {
			/* IPv4 in IPv4 without VLAN tags: inline, as on the hit path */
			err = xlb_encap_v4_inline(ctx, hash, pkt->ip_len, pkt->tos, s->be.addr[0], dmac, smac, mode == XLB_MODE_GUE);
		} else {
			ea = &sc->encap;
			xlb_encap_args_fill(ea, pkt, &s->be, dmac, smac, mode == XLB_MODE_GUE, hash);
			err = xlb_encap(ctx, ea);
		}
		if (err)
			return xlb_encap_failed(ctx, pkt, err, s->be.family, mode == XLB_MODE_GUE);
	}
	xlb_count_forward(meta->vip_index, s->backend_index, len, s->new_flow);
	return XDP_TX;
}

/* Translates a backend's reply back to VIP -> client. XDP_PASS when it has no NAT entry. */
static __always_inline int xlb_nat_reply(struct xdp_md *ctx, const struct xlb_pkt *pkt, const struct xlb_config *cfg,
					 const __u8 *eth_dst)
{
	struct xlb_nat_value *v = bpf_map_lookup_elem(&nat_rev, &pkt->flow);
	struct xlb_rewrite_args ra;

	if (!v)
		return XDP_PASS;
	/* Inline with the arguments on the stack: no scratch map, no global function call. */
	xlb_addr_copy(ra.src, v->vip_addr);
	xlb_addr_copy(ra.dst, v->client_addr);
	ra.sport = v->vip_port;
	ra.dport = v->client_port;
	ra.l2_len = pkt->l2_len;
	ra.l3_hlen = pkt->l3_hlen;
	xlb_mac_copy(ra.dmac, v->client_mac);
	xlb_mac_copy(ra.smac, xlb_mac_is_zero(cfg->local_mac) ? eth_dst : cfg->local_mac);
	ra.family = pkt->flow.family;
	ra.proto = pkt->flow.proto;
	if (xlb_nat_rewrite_inline(ctx, &ra))
		return XDP_PASS;
	v->last_seen_ns = xlb_now();
	if (pkt->flow.proto == XLB_IPPROTO_TCP && (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST)))
		v->state = XLB_CT_TCP_CLOSING;
	xlb_count_reply(v->vip_index, v->backend_index, pkt->pkt_len);
	return XDP_TX;
}

/* The VIP of a flow: exact port first, then the port wildcard. */
static __always_inline struct xlb_vip_meta *xlb_vip_lookup(const struct xlb_flow_key *flow)
{
	struct xlb_vip_key vk = {};
	struct xlb_vip_meta *meta;

	xlb_addr_copy(vk.addr, flow->dst);
	vk.port = flow->dport;
	vk.proto = flow->proto;
	vk.family = flow->family;
	meta = bpf_map_lookup_elem(&vips, &vk);
	if (!meta && vk.port) {
		vk.port = 0;
		meta = bpf_map_lookup_elem(&vips, &vk);
	}
	return meta;
}

SEC("xdp")
int xlb_xdp(struct xdp_md *ctx)
{
	struct xlb_pkt pkt = {};
	struct xlb_vip_meta *meta;
	struct xlb_config *cfg;
	__u8 eth_dst[6] __attribute__((aligned(2))), eth_src[6] __attribute__((aligned(2)));
	struct ethhdr *eth;
	__u32 zero = 0;
	int r;

	r = xlb_parse(ctx, &pkt, features & XLB_FEAT_IPV6, features & XLB_FEAT_ICMP_ERRORS);
	if (xlb_unlikely(r != XLB_PARSE_OK)) {
		if (r == XLB_PARSE_NOT_MINE)
			return XDP_PASS;
		if (r == XLB_PARSE_FRAGMENT)
			return xlb_vip_lookup(&pkt.flow) ? xlb_count_drop(XLB_DROP_FRAGMENT, pkt.pkt_len, XDP_DROP) : XDP_PASS;
		return xlb_count_drop(r, pkt.pkt_len, XDP_PASS);
	}
	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	if (xlb_unlikely(!cfg))
		return XDP_PASS;
	eth = (void *)(long)ctx->data;
	if (xlb_unlikely((void *)(eth + 1) > (void *)(long)ctx->data_end))
		return XDP_PASS;
	xlb_mac_copy(eth_dst, eth->h_dest);
	xlb_mac_copy(eth_src, eth->h_source);

	if ((features & XLB_FEAT_NAT) && xlb_nat_source_match(cfg, pkt.flow.family, pkt.flow.dst))
		return pkt.flags & XLB_PKT_F_ICMP_ERROR ? xlb_nat_icmp_reply(ctx, &pkt, cfg, eth_dst) : xlb_nat_reply(ctx, &pkt, cfg, eth_dst);
	meta = xlb_vip_lookup(&pkt.flow);
	if (!meta)
		return XDP_PASS;
	return xlb_forward(ctx, &pkt, meta, cfg, eth_dst, eth_src);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
