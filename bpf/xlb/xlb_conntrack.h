/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking and backend selection.
 *
 * `conntrack` is an LRU hash with per-CPU values keyed by the client's flow (its 5-tuple, so the
 * VIP's address and port; the value's vip_index must be the VIP's found now). RSS keeps a flow on
 * one CPU, so its entry lives in that CPU's value; another CPU's value for the same key is
 * zero (XLB_CT_EMPTY) and counts as a miss. An entry pins the flow to its backend while the
 * VIP's Maglev table changes.
 *
 * TCP states follow the client's segments only (DSR never sees the server's):
 *   SYN (no ACK) on a miss        -> XLB_CT_TCP_SYN          ct_tcp_syn_timeout_ms
 *   any later segment             -> XLB_CT_TCP_ESTABLISHED  ct_tcp_timeout_ms
 *   FIN or RST                    -> XLB_CT_TCP_CLOSING      ct_tcp_closing_timeout_ms
 *   a new SYN on a CLOSING entry  -> a new flow (the client reuses its port)
 * UDP and other flows are XLB_CT_UDP (ct_udp_timeout_ms). An entry older than its state's
 * timeout is a miss; so is one of another VIP or whose backend record is no longer valid.
 *
 * A miss picks table[hash % table_size] of the VIP's active slot. New flows (SYN, UDP) skip
 * draining backends by trying the next positions (XLB_DRAIN_PROBES in all); a non-SYN TCP
 * segment without an entry belongs to a flow we lost (LRU eviction, another CPU) and keeps
 * the table's backend even if it drains, because a new backend would only reset it. ICMP
 * errors use the entry when there is one and never create or refresh it. RSTs create none.
 * A SYN alone (L2 DSR, IPIP, GUE) is inserted before it is looked up (xlb_ct_syn_insert, as
 * Katran skips the lookup for SYNs): only when the flow already has an entry is it read, and
 * then it is treated as above, so a retransmitted SYN keeps its backend.
 */
#ifndef XLB_CONNTRACK_H
#define XLB_CONNTRACK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"
#include "xlb_maps.h"
#include "xlb_helpers.h"

static __always_inline __u64 xlb_ct_timeout_ns(__u8 state)
{
	__u32 ms;

	switch (state) {
	case XLB_CT_TCP_SYN:
		ms = ct_tcp_syn_timeout_ms;
		break;
	case XLB_CT_TCP_ESTABLISHED:
		ms = ct_tcp_timeout_ms;
		break;
	case XLB_CT_TCP_CLOSING:
		ms = ct_tcp_closing_timeout_ms;
		break;
	default:
		ms = ct_udp_timeout_ms;
		break;
	}
	return (__u64)ms * XLB_NS_PER_MS;
}

static __always_inline bool xlb_ct_expired(__u64 last_seen, __u8 state, __u64 now)
{
	return now > last_seen && now - last_seen > xlb_ct_timeout_ns(state);
}

static __always_inline bool xlb_is_syn(__u8 proto, __u8 tcp_flags)
{
	return proto == XLB_IPPROTO_TCP && (tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN;
}

/* The state after a packet with `tcp_flags`, from `state` (XLB_CT_EMPTY for a new flow). */
static __always_inline __u8 xlb_ct_next_state(__u8 proto, __u8 tcp_flags, __u8 state)
{
	if (proto != XLB_IPPROTO_TCP)
		return XLB_CT_UDP;
	if (tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST))
		return XLB_CT_TCP_CLOSING;
	if (state == XLB_CT_TCP_CLOSING)
		return XLB_CT_TCP_CLOSING;
	if (xlb_is_syn(proto, tcp_flags) && (state == XLB_CT_EMPTY || state == XLB_CT_TCP_SYN))
		return XLB_CT_TCP_SYN;
	return XLB_CT_TCP_ESTABLISHED;
}

/*
 * Refreshes a usable entry with a packet that leaves it in `next`: its time and state, written
 * only when they change. Packets of one flow within one tick of the coarse clock change
 * neither, and a store would dirty the shared entry's cache line for nothing.
 */
static __always_inline void xlb_ct_touch(struct xlb_ct_value *ct, __u8 next, __u64 now)
{
	if (ct->last_seen_ns != now)
		ct->last_seen_ns = now;
	if (ct->state != next)
		ct->state = next;
}

/* The compact key of an IPv4 flow (conntrack_v4). */
static __always_inline void xlb_flow_key4(struct xlb_flow_key4 *k, const struct xlb_flow_key *f)
{
	k->src = f->src[0];
	k->dst = f->dst[0];
	k->sport = f->sport;
	k->dport = f->dport;
	k->proto = f->proto;
	k->pad[0] = 0;
	k->pad[1] = 0;
	k->pad[2] = 0;
}

/*
 * The connection-table entry of a flow: conntrack_v4 for IPv4, conntrack for IPv6. The
 * barrier_var keeps clang from merging the two calls into one with either map: the verifier
 * inlines a lookup (no helper call) only where a call site always names the same map.
 */
static __always_inline struct xlb_ct_value *xlb_ct_lookup(const struct xlb_flow_key *f)
{
	struct xlb_flow_key4 k;
	struct xlb_ct_value *ct;

	if (f->family == 4) {
		xlb_flow_key4(&k, f);
		ct = bpf_map_lookup_elem(&conntrack_v4, &k);
		barrier_var(ct);
		return ct;
	}
	return bpf_map_lookup_elem(&conntrack, f);
}

/* Inserts or replaces (`flags`: BPF_NOEXIST, BPF_ANY) the entry of a flow; 0 or an errno. */
static __always_inline long xlb_ct_update(const struct xlb_flow_key *f, const struct xlb_ct_value *v, __u64 flags)
{
	struct xlb_flow_key4 k;
	long err;

	if (f->family == 4) {
		xlb_flow_key4(&k, f);
		err = bpf_map_update_elem(&conntrack_v4, &k, v, flags);
		barrier_var(err);
		return err;
	}
	return bpf_map_update_elem(&conntrack, f, v, flags);
}

/* A valid backend record, or NULL. */
static __always_inline struct xlb_backend *xlb_backend_get(__u32 index)
{
	struct xlb_backend *be = bpf_map_lookup_elem(&backends, &index);

	if (!be || !(be->flags & XLB_BACKEND_F_VALID))
		return NULL;
	return be;
}

/* The MAC that frames to `be` go to: its own when on-link (always for L2 DSR), else its next hop's. */
static __always_inline const __u8 *xlb_backend_mac(const struct xlb_backend *be, bool l2)
{
	struct xlb_nexthop *nh;
	__u32 key;

	if (l2 || (be->flags & XLB_BACKEND_F_ON_LINK))
		return xlb_mac_is_zero(be->mac) ? NULL : be->mac;
	key = be->nexthop;
	nh = bpf_map_lookup_elem(&nexthops, &key);
	if (!nh || !(nh->flags & XLB_NEXTHOP_F_VALID))
		return NULL;
	return nh->mac;
}

/*
 * Backend from the VIP's active Maglev table. `avoid_draining`: skip draining backends by
 * probing the next positions. Returns 0 (s->be, s->backend_index set) or a drop reason.
 */
static __always_inline int xlb_table_pick(struct xlb_sched *s, bool avoid_draining)
{
	__u32 size = s->meta.table_size;
	__u32 base, hash, pos, key, i;
	struct xlb_backend *be;
	__u32 *idx;

	if (size == 0 || size > XLB_MAGLEV_SIZE || s->meta.vip_index >= XLB_MAX_VIPS)
		return XLB_DROP_BAD_CONFIG;
	if (s->meta.flags & XLB_VIP_F_HASH_SRC_ONLY) {
		hash = xlb_src_hash(&s->flow, XLB_HASH_SEED);
	} else {
		hash = xlb_flow_hash(&s->flow, XLB_HASH_SEED);
		s->flow_hash = hash;
		s->flow_hash_set = 1;
	}
	base = ((s->meta.vip_index << 1) | (s->meta.active_slot & 1)) * XLB_MAGLEV_SIZE;
	pos = hash % size;
	for (i = 0; i < XLB_DRAIN_PROBES; i++) {
		key = base + pos;
		idx = bpf_map_lookup_elem(&maglev_tables, &key);
		if (!idx)
			return XLB_DROP_BAD_CONFIG;
		be = xlb_backend_get(*idx);
		if (be && (!avoid_draining || !(be->flags & XLB_BACKEND_F_DRAINING))) {
			s->be = *be;
			s->backend_index = *idx;
			return 0;
		}
		if (!avoid_draining)
			break;
		pos = pos + 1 < size ? pos + 1 : 0;
	}
	return XLB_DROP_NO_BACKEND;
}

/*
 * The connection-table entry of s->flow on this CPU when it is live and still usable (same
 * VIP, not expired, not a closed flow's port reused by a new SYN), with its valid backend
 * copied to s->be; else NULL.
 */
static __always_inline struct xlb_ct_value *xlb_ct_usable(struct xlb_sched *s, struct xlb_ct_value *ct)
{
	struct xlb_backend *be;

	if (!ct || ct->state == XLB_CT_EMPTY || ct->vip_index != s->meta.vip_index ||
	    xlb_ct_expired(ct->last_seen_ns, ct->state, s->now))
		return NULL;
	if (ct->state == XLB_CT_TCP_CLOSING && !s->icmp_error && xlb_is_syn(s->flow.proto, s->tcp_flags))
		return NULL;
	be = xlb_backend_get(ct->backend_index);
	if (!be)
		return NULL;
	s->be = *be;
	s->backend_index = ct->backend_index;
	s->nat_port = ct->nat_port;
	s->nat_src_index = ct->nat_src_index;
	return ct;
}

/* The connection-table entry of a flow that begins now with s->backend_index (and NAT port). */
static __always_inline void xlb_ct_new_value(const struct xlb_sched *s, struct xlb_ct_value *v)
{
	v->last_seen_ns = s->now;
	v->backend_index = s->backend_index;
	v->vip_index = s->meta.vip_index;
	v->nat_port = s->nat_port;
	v->nat_src_index = s->nat_src_index;
	v->state = xlb_ct_next_state(s->flow.proto, s->tcp_flags, XLB_CT_EMPTY);
	v->flow_hash = s->flow_hash_set ? s->flow_hash : 0;
}

/* A SYN alone (no ACK, FIN or RST): a client beginning a TCP flow. */
static __always_inline bool xlb_is_pure_syn(__u8 proto, __u8 tcp_flags)
{
	return proto == XLB_IPPROTO_TCP && (tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK | XLB_TCP_FIN | XLB_TCP_RST)) == XLB_TCP_SYN;
}

/*
 * A SYN's new flow without a lookup first (s->syn_first: not NAT, not an ICMP error, a pure
 * SYN): picks from the table and inserts with BPF_NOEXIST, which fails only when the flow
 * already has an entry (a retransmitted SYN, a port reused after FIN, another CPU's packet).
 * Returns true when the entry was inserted (s->be, s->backend_index, s->new_flow set); false:
 * the caller takes the usual path (lookup, usable entry, else pick and commit). A failed
 * insert into a full LRU may have evicted its least recently used entry, as an insert would.
 */
static __always_inline bool xlb_ct_syn_insert(struct xlb_sched *s)
{
	struct xlb_ct_value v = {};

	if (xlb_table_pick(s, true))
		return false;
	xlb_ct_new_value(s, &v);
	if (xlb_ct_update(&s->flow, &v, BPF_NOEXIST))
		return false;
	s->new_flow = 1;
	return true;
}

/*
 * Records the flow's backend (and NAT port) in this CPU's connection-table entry: refreshes
 * a usable entry `hit`, else fills `ct` (the key exists: another CPU's flow or an expired one,
 * and this CPU's value is ours) or inserts. Nothing for ICMP errors; RSTs create nothing.
 */
static __always_inline void xlb_ct_commit(struct xlb_sched *s, struct xlb_ct_value *ct, struct xlb_ct_value *hit)
{
	struct xlb_ct_value v = {};

	if (s->icmp_error)
		return;
	if (hit) {
		hit->last_seen_ns = s->now;
		hit->nat_port = s->nat_port;
		hit->nat_src_index = s->nat_src_index;
		hit->state = xlb_ct_next_state(s->flow.proto, s->tcp_flags, hit->state);
		return;
	}
	if (s->flow.proto == XLB_IPPROTO_TCP && (s->tcp_flags & XLB_TCP_RST))
		return;
	xlb_ct_new_value(s, &v);
	s->new_flow = 1;
	if (ct) {
		*ct = v;
		return;
	}
	xlb_ct_update(&s->flow, &v, BPF_ANY);
}

#endif /* XLB_CONNTRACK_H */
