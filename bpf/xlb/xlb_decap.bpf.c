// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xlb_decap: TC ingress program for backends of L3 DSR VIPs. The kernels we run have no
 * IPIP/FOU modules, so the tunnels xlb sends are opened here:
 *   - IPIP: IPv4 or IPv6 outer header, protocol 4 (IPv4 inside) or 41 (IPv6 inside);
 *   - GUE: outer IPv4/IPv6 + UDP to gue_port, then GUE version 0 (4-byte header plus hlen
 *     words, proto 4 or 41; control messages are dropped) or version 1 (the IP packet itself).
 * Only tunnels addressed to a local address in `decap_addrs` are opened; the outer headers are
 * removed with bpf_skb_adjust_room (BPF_ADJ_ROOM_MAC, with BPF_F_ADJ_ROOM_DECAP_L3_* when the
 * inner family differs), and the inner packet (to the VIP on the backend's loopback) goes up
 * the stack (TC_ACT_OK). Everything else passes untouched: other traffic, outer fragments,
 * IPv6 outer headers with extension headers; outer UDP checksums are not checked (RFC 6936
 * zero checksums are what xlb sends when it cannot compute one).
 *
 * VLAN tags (802.1Q, 802.1ad; up to NETACCEL_MAX_VLAN_DEPTH in the frame, plus the one the
 * stack keeps in skb metadata). The receive path moves the outer tag to skb metadata before TC
 * ingress, so a single-tagged tunnel arrives untagged in the frame and is opened as any other;
 * QinQ leaves its inner tag in the frame (and BPF_PROG_TEST_RUN leaves every tag there).
 * bpf_skb_adjust_room refuses a frame whose skb->protocol is a VLAN EtherType, so a tunnel
 * behind tags in the frame has all its tags popped (bpf_skb_vlan_pop), is opened, and gets
 * them pushed back in the same order (bpf_skb_vlan_push): the outermost ends in skb metadata,
 * the others in the frame, which the stack reads as the same tags (the VLAN device the frame
 * belongs to gets it).
 *
 * Load-time global: gue_port (__u16, host order, default 6080).
 * Counters: decap_stats (per CPU, enum xlb_decap_stat), drop_stats (per CPU, enum
 * xlb_drop_reason: XLB_DROP_DECAP_*).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"
#include "xlb_consts.h"
#include "xlb_kern_user.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

const volatile __u16 gue_port = XLB_GUE_PORT;

/* Local addresses that tunnels may be addressed to (value unused, 0). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_DECAP_ADDRS);
	__type(key, struct xlb_decap_key);
	__type(value, __u32);
} decap_addrs SEC(".maps");

/* Decapsulated packets by tunnel type. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} decap_stats SEC(".maps");

/* Tunnels to us that could not be opened, by enum xlb_drop_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DROP_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} drop_stats SEC(".maps");

static __always_inline void count(void *map, __u32 key, __u32 bytes)
{
	struct xlb_counter *c = bpf_map_lookup_elem(map, &key);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int drop(__u32 reason, __u32 bytes)
{
	count(&drop_stats, reason, bytes);
	return TC_ACT_SHOT;
}

/* VLAN tags of a frame: the one in skb metadata (outermost), then those in the frame, outermost first. */
struct decap_tags {
	__be16 proto[NETACCEL_MAX_VLAN_DEPTH];
	__u16 tci[NETACCEL_MAX_VLAN_DEPTH];
	__u32 in_frame; /* tags in the frame (after the Ethernet addresses) */
	__be16 hw_proto;
	__u16 hw_tci;
	__u8 hw;        /* a tag in skb metadata */
};

/*
 * Reads the tags (skb metadata, then the frame's) into *t; returns the EtherType after the
 * frame's tags, or 0 when there are more than NETACCEL_MAX_VLAN_DEPTH or one is cut short.
 */
static __always_inline __be16 read_tags(struct __sk_buff *skb, struct ethhdr *eth, void *end, struct decap_tags *t)
{
	struct vlan_hdr *vlan;
	__be16 type = eth->h_proto;
	int i;

	if (skb->vlan_present) {
		t->hw_proto = (__be16)skb->vlan_proto;
		t->hw_tci = (__u16)skb->vlan_tci;
		t->hw = 1;
	}
#pragma unroll
	for (i = 0; i < NETACCEL_MAX_VLAN_DEPTH; i++) {
		if (type != NA_ETH_P_8021Q_BE && type != NA_ETH_P_8021AD_BE)
			return type;
		vlan = (void *)(eth + 1) + i * sizeof(*vlan);
		if ((void *)(vlan + 1) > end)
			return 0;
		t->proto[i] = type;
		t->tci[i] = bpf_ntohs(vlan->h_vlan_TCI);
		t->in_frame = i + 1;
		type = vlan->h_vlan_encapsulated_proto;
	}
	return type == NA_ETH_P_8021Q_BE || type == NA_ETH_P_8021AD_BE ? 0 : type;
}

/*
 * Removes `outer_len` bytes after the L2 header of a frame whose tags are `t`, and sets the
 * last EtherType to the inner family's when it differs from the outer one. Returns 0 or -1.
 */
static __always_inline int remove_outer(struct __sk_buff *skb, const struct decap_tags *t, __u32 outer_len, __u8 inner_family,
					__u8 outer_family)
{
	__u64 flags = 0;
	__be16 proto;
	int i;

	/* bpf_skb_adjust_room works on IP frames only: tags in the frame go (and come back below) */
	if (t->in_frame) {
		/* each pop drops the metadata tag (if any), then moves the frame's outermost there */
		for (i = 0; i < NETACCEL_MAX_VLAN_DEPTH + 1; i++) {
			if (i >= (int)(t->in_frame + t->hw))
				break;
			if (bpf_skb_vlan_pop(skb))
				return -1;
		}
	}
	if (inner_family != outer_family)
		flags = inner_family == 4 ? BPF_F_ADJ_ROOM_DECAP_L3_IPV4 : BPF_F_ADJ_ROOM_DECAP_L3_IPV6;
	if (bpf_skb_adjust_room(skb, -(__s32)outer_len, BPF_ADJ_ROOM_MAC, flags))
		return -1;
	if (inner_family != outer_family) {
		proto = inner_family == 4 ? NA_ETH_P_IP_BE : XLB_ETH_P_IPV6_BE;
		if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto), 0))
			return -1;
	}
	if (t->in_frame) {
		/* innermost first: each push moves the metadata tag (if any) into the frame */
#pragma unroll
		for (i = NETACCEL_MAX_VLAN_DEPTH - 1; i >= 0; i--) {
			if (i >= (int)t->in_frame)
				continue;
			if (bpf_skb_vlan_push(skb, t->proto[i], t->tci[i]))
				return -1;
		}
		if (t->hw && bpf_skb_vlan_push(skb, t->hw_proto, t->hw_tci))
			return -1;
	}
	return 0;
}

/* What to remove: the outer headers' length, the inner family, the kind of tunnel. */
struct decap_plan {
	__u32 outer_len;   /* bytes after the Ethernet header up to the inner IP header */
	__u8 inner_family; /* 4 or 6; 0: not a tunnel to us */
	__u8 outer_family;
	__u8 stat;         /* enum xlb_decap_stat */
	__u8 reason;       /* drop reason when not 0 */
};

static __always_inline bool is_local(const __be32 *addr, __u8 family)
{
	struct xlb_decap_key key = {};

	key.addr[0] = addr[0];
	if (family == 6) {
		key.addr[1] = addr[1];
		key.addr[2] = addr[2];
		key.addr[3] = addr[3];
	}
	key.family = family;
	return bpf_map_lookup_elem(&decap_addrs, &key) != NULL;
}

/* Fills the plan for a transport header at `l4` (outer IP header `l3_len` bytes) of protocol `proto`. */
static __always_inline void plan_l4(struct decap_plan *p, void *l4, void *end, __u8 proto, __u32 l3_len)
{
	struct udphdr *udp = l4;
	__u8 *gue;
	__u32 hlen;

	p->stat = XLB_DECAP_IPIP;
	if (proto == XLB_IPPROTO_IPIP || proto == XLB_IPPROTO_IPV6) {
		p->outer_len = l3_len;
		p->inner_family = proto == XLB_IPPROTO_IPIP ? 4 : 6;
		return;
	}
	if (proto != XLB_IPPROTO_UDP || (void *)(udp + 1) > end || udp->dest != bpf_htons(gue_port))
		return;
	p->stat = XLB_DECAP_GUE;
	gue = (void *)(udp + 1);
	if ((void *)(gue + 1) > end) {
		p->reason = XLB_DROP_DECAP_BAD_GUE;
		return;
	}
	switch (gue[0] >> 6) {
	case 0:
		if ((void *)(gue + XLB_GUE_HDR_LEN) > end || (gue[0] & 0x20)) {
			p->reason = XLB_DROP_DECAP_BAD_GUE; /* truncated, or a control message */
			return;
		}
		if (gue[1] != XLB_IPPROTO_IPIP && gue[1] != XLB_IPPROTO_IPV6) {
			p->reason = XLB_DROP_DECAP_BAD_GUE;
			return;
		}
		hlen = XLB_GUE_HDR_LEN + 4 * (gue[0] & 0x1f);
		p->outer_len = l3_len + sizeof(*udp) + hlen;
		p->inner_family = gue[1] == XLB_IPPROTO_IPIP ? 4 : 6;
		return;
	case 1: /* direct IP: the version nibble says which */
		p->outer_len = l3_len + sizeof(*udp);
		p->inner_family = (gue[0] >> 4) == 4 ? 4 : 6;
		return;
	default:
		p->reason = XLB_DROP_DECAP_BAD_GUE;
		return;
	}
}

/* The inner IP header is inside the frame and has the version the outer headers announced. */
static __always_inline bool inner_ok(void *data, void *end, __u32 off, __u8 family)
{
	__u8 *inner = data + off;

	if (family == 4)
		return (void *)(inner + sizeof(struct iphdr)) <= end && (inner[0] >> 4) == 4;
	return (void *)(inner + sizeof(struct ipv6hdr)) <= end && (inner[0] >> 4) == 6;
}

SEC("tc")
int xlb_decap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct decap_plan p = {};
	struct decap_tags t = {};
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__be16 type;
	__u32 len = skb->len, off, l2;
	void *l3;

	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	type = eth->h_proto;
	if (type == NA_ETH_P_8021Q_BE || type == NA_ETH_P_8021AD_BE)
		type = read_tags(skb, eth, end, &t);
	l2 = sizeof(*eth) + t.in_frame * sizeof(struct vlan_hdr);
	if (l2 > sizeof(*eth) + NETACCEL_MAX_VLAN_DEPTH * sizeof(struct vlan_hdr))
		return TC_ACT_OK;
	l3 = data + l2;
	if (type == NA_ETH_P_IP_BE) {
		ip = l3;
		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			return TC_ACT_OK;
		if ((ip->frag_off & NA_IP_MF_OFFSET_BE) || !is_local(&ip->daddr, 4))
			return TC_ACT_OK;
		p.outer_family = 4;
		plan_l4(&p, (void *)ip + ip->ihl * 4, end, ip->protocol, ip->ihl * 4);
	} else if (type == XLB_ETH_P_IPV6_BE) {
		ip6 = l3;
		if ((void *)(ip6 + 1) > end || ip6->version != 6 || !is_local((__be32 *)&ip6->daddr, 6))
			return TC_ACT_OK;
		p.outer_family = 6;
		plan_l4(&p, ip6 + 1, end, ip6->nexthdr, sizeof(*ip6));
	} else {
		return TC_ACT_OK;
	}
	if (p.reason)
		return drop(p.reason, len);
	if (!p.inner_family)
		return TC_ACT_OK;

	off = l2 + p.outer_len;
	if (off > 256 || !inner_ok(data, end, off & 0x1ff, p.inner_family))
		return drop(XLB_DROP_DECAP_BAD_INNER, len);
	if (remove_outer(skb, &t, p.outer_len, p.inner_family, p.outer_family))
		return drop(XLB_DROP_DECAP_ADJUST_ROOM, len);
	count(&decap_stats, p.stat, len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
