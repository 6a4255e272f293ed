/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Leader broadcast (TC egress). The leader's user space sends each Prepare once, to the first
 * follower (the lowest replica index other than the leader's). This program clones it to every
 * other follower: per copy the destination MAC, IP address and UDP port are rewritten to the
 * follower's (el_config) with the IPv4 header and UDP checksums updated incrementally
 * (bpf_l3/l4_csum_replace, which also keep a CHECKSUM_PARTIAL skb right), and the copy leaves
 * through the follower's ifindex (bpf_clone_redirect, egress). The original is then rewritten
 * back to the first follower and continues. Clones re-enter this program on the way out; they
 * are no longer addressed to the first follower, so they pass untouched.
 *
 * Only packets addressed with the skb's helpers by offset (no packet pointer survives a
 * rewrite). A follower of the other address family, an invalid configuration entry or a failed
 * clone counts ELECTRODE_STAT_BCAST_ERRORS and that follower misses the copy (user space
 * retransmits).
 */
#ifndef ELECTRODE_BROADCAST_H
#define ELECTRODE_BROADCAST_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "electrode_consts.h"
#include "electrode_maps.h"
#include "electrode_parsing.h"

/* Bytes from the frame's start the parser reads: Ethernet, IPv6 (the longer), UDP, Paxos. */
#define EL_BCAST_PULL (sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr) + PAXOS_HDR_LEN)

/* Where the addresses sit in the frame, and what is written there now. */
struct el_bcast {
	__u32 l3_off;
	__u32 udp_off;
	__u8 family;
	__be32 addr[4]; /* current destination address */
	__be16 port;    /* current destination port */
};

/* The first follower: the lowest index below n that is not the leader's. */
static __always_inline __u32 el_first_follower(const struct electrode_state *st)
{
	return st->leader == 0 ? 1 : 0;
}

static __always_inline bool el_addr_eq(const __be32 *a, const __be32 *b, __u8 family)
{
	if (family == 4)
		return a[0] == b[0];
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Rewrites the destination of the frame to replica r; 0 or a negative error. */
static __always_inline int el_rewrite_dst(struct __sk_buff *skb, struct el_bcast *b, const struct electrode_replica *r)
{
	__u32 csum_off = b->udp_off + offsetof(struct udphdr, check);
	__u32 port_off = b->udp_off + offsetof(struct udphdr, dest);
	__be32 to[4];
	int err;

	__builtin_memcpy(to, r->addr, sizeof(to));
	err = bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), r->mac, EL_ETH_ALEN, 0);
	if (err)
		return err;
	if (b->family == 4) {
		__u32 addr_off = b->l3_off + offsetof(struct iphdr, daddr);

		err = bpf_l3_csum_replace(skb, b->l3_off + offsetof(struct iphdr, check), b->addr[0], to[0], 4);
		if (!err)
			err = bpf_l4_csum_replace(skb, csum_off, b->addr[0], to[0], EL_F_PSEUDO_HDR | EL_F_MARK_MANGLED_0 | 4);
		if (!err)
			err = bpf_skb_store_bytes(skb, addr_off, &to[0], 4, 0);
	} else {
		__u32 addr_off = b->l3_off + offsetof(struct ipv6hdr, daddr);
		__s64 diff = bpf_csum_diff(b->addr, 16, to, 16, 0);

		err = diff < 0 ? (int)diff : 0;
		if (!err)
			err = bpf_l4_csum_replace(skb, csum_off, 0, (__u32)diff, EL_F_PSEUDO_HDR);
		if (!err)
			err = bpf_skb_store_bytes(skb, addr_off, to, 16, 0);
	}
	if (err)
		return err;
	__builtin_memcpy(b->addr, to, sizeof(to));
	if (r->port != b->port) {
		err = bpf_l4_csum_replace(skb, csum_off, b->port, r->port, (b->family == 4 ? EL_F_MARK_MANGLED_0 : 0) | 2);
		if (!err)
			err = bpf_skb_store_bytes(skb, port_off, &r->port, 2, 0);
		if (err)
			return err;
		b->port = r->port;
	}
	return 0;
}

/* Finds the leader's Prepare to the first follower; fills b. A reason, or ELECTRODE_R_NONE. */
static __always_inline __u32 el_bcast_match(struct __sk_buff *skb, const struct electrode_state *st, const struct electrode_replica *first, struct el_bcast *b, bool *mine)
{
	struct na_cursor c = { .pos = (void *)(long)skb->data, .end = (void *)(long)skb->data_end };
	struct el_msg m = {};
	enum el_parse_result res = el_parse(&c, first->port, &m);
	__u32 reason;

	*mine = false;
	if (res == EL_NOT_MINE)
		return ELECTRODE_R_NONE;
	if (m.family == 4) {
		struct iphdr *ip = m.l3;

		if ((void *)(ip + 1) > c.end)
			return ELECTRODE_R_NONE;
		b->addr[0] = ip->daddr;
		b->addr[1] = b->addr[2] = b->addr[3] = 0;
	} else {
		struct ipv6hdr *ip6 = m.l3;

		if ((void *)(ip6 + 1) > c.end)
			return ELECTRODE_R_NONE;
		__builtin_memcpy(b->addr, &ip6->daddr, 16);
	}
	/* only what the leader sends to the first follower is ours: clones pass untouched */
	if (m.family != first->family || !el_addr_eq(b->addr, first->addr, m.family))
		return ELECTRODE_R_NONE;
	*mine = true;
	if (res == EL_MALFORMED)
		return ELECTRODE_R_MALFORMED;
	if (m.type != PAXOS_PREPARE) {
		reason = el_type_reason(m.type);
		return reason == ELECTRODE_R_NONE ? ELECTRODE_R_OTHER_TYPE : reason;
	}
	if (!(st->offloads & ELECTRODE_OFF_BROADCAST))
		return ELECTRODE_R_OFFLOAD_OFF;
	if (st->status != ELECTRODE_STATUS_NORMAL)
		return ELECTRODE_R_NOT_NORMAL;
	if (st->self != st->leader)
		return ELECTRODE_R_ROLE;
	if (m.hdr->sender != st->self)
		return ELECTRODE_R_BAD_SENDER;
	b->l3_off = m.l3_off;
	b->udp_off = m.udp_off;
	b->family = m.family;
	b->port = m.udp->dest;
	return ELECTRODE_R_NONE;
}

/* Clones one copy to replica i (not the leader, not the first follower). */
static __always_inline void el_bcast_one(struct __sk_buff *skb, struct el_bcast *b, __u32 i)
{
	struct electrode_replica *r = el_replica(i);

	if (!r || r->family != b->family || el_rewrite_dst(skb, b, r) < 0) {
		el_stat(ELECTRODE_STAT_BCAST_ERRORS);
		return;
	}
	if (bpf_clone_redirect(skb, r->ifindex, 0) < 0) {
		el_stat(ELECTRODE_STAT_BCAST_ERRORS);
		return;
	}
	el_stat(ELECTRODE_STAT_BCAST_CLONES);
}

static __always_inline int el_broadcast(struct __sk_buff *skb)
{
	struct electrode_state *st = el_state();
	struct electrode_replica *first;
	struct el_bcast b = {};
	bool mine;
	__u32 reason, i, n, firsti;

	if (!st)
		return EL_TC_ACT_OK;
	firsti = el_first_follower(st);
	first = el_replica(firsti);
	if (!first)
		return EL_TC_ACT_OK;
	/*
	 * The headers must be in the linear part for direct access (a no-op when they are; it fails
	 * on a shorter frame, which the parser then refuses).
	 */
	bpf_skb_pull_data(skb, EL_BCAST_PULL);
	reason = el_bcast_match(skb, st, first, &b, &mine);
	if (!mine)
		return EL_TC_ACT_OK;
	if (reason != ELECTRODE_R_NONE) {
		el_reason(reason, skb->len);
		return EL_TC_ACT_OK;
	}
	n = st->n;
	for (i = 0; i < ELECTRODE_MAX_REPLICAS; i++) {
		if (i >= n)
			break;
		if (i == firsti || i == st->self)
			continue;
		el_bcast_one(skb, &b, i);
	}
	/* the original goes to the first follower */
	if (el_rewrite_dst(skb, &b, first) < 0) {
		el_stat(ELECTRODE_STAT_BCAST_ERRORS);
		return EL_TC_ACT_SHOT; /* a half-rewritten frame must not leave */
	}
	el_stat(ELECTRODE_STAT_BCAST_PREPARES);
	return EL_TC_ACT_OK;
}

#endif /* ELECTRODE_BROADCAST_H */
