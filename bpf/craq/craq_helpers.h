/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing and emitting NetCRAQ frames. A frame is Ethernet (no VLAN), IPv4 without options or
 * IPv6 without extension headers, UDP, the 40-byte craq header, the value and, with
 * CRAQ_F_CLIENT, zero padding to 4 and the trailer. Every output is written whole: Ethernet, IP
 * (IPv4: id 0, DF, TTL 64; IPv6: class/flow 0, hop limit 64), UDP with a full checksum.
 */
#ifndef CRAQ_HELPERS_H
#define CRAQ_HELPERS_H

#define CRAQ_L4_V4 (14 + 20)
#define CRAQ_L4_V6 (14 + 40)

/* What the parser found, in the packet's byte order where it came from the packet. */
struct craq_pkt {
	__u32 l4off; /* offset of the UDP header */
	__u32 family; /* 4 or 6 */
	__u32 value_len;
	__u32 has_trailer;
	__u32 frame_len; /* bytes of the frame as received */
	__u8 smac[6];
	__u8 dmac[6];
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	struct craq_hdr h;
	struct craq_trailer t;
};

/* An address a frame goes to or comes from. */
struct craq_endpoint {
	__u8 mac[6];
	__be16 port;
	__u8 addr[16];
};

static __always_inline void craq_count(void *map, __u32 idx, __u64 bytes)
{
	struct craq_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * A value length as helper sizes want it: 1..CRAQ_MAX_VALUE, or 0 for "nothing to copy". The
 * barrier keeps clang from folding the two checks into one the verifier cannot follow.
 */
static __always_inline __u32 craq_copy_len(__u32 n)
{
	if (n == 0)
		return 0;
	asm volatile("" : "+r"(n));
	if (n > CRAQ_MAX_VALUE)
		return 0;
	return n;
}

static __always_inline __u32 craq_pad4(__u32 n)
{
	return (n + 3) & ~3U;
}

static __always_inline __u32 craq_csum_add(__u32 a, __u32 b)
{
	__u32 s = a + b;

	return s + (s < a);
}

static __always_inline __u16 craq_csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* One's-complement partial sum of a slot's value (zero padded to 4), set when it is stored. */
static __always_inline __u32 craq_value_sum(struct craq_slot *s, __u32 len)
{
	__u32 p4 = craq_pad4(len);
	__s64 sum;

	if (p4 > CRAQ_MAX_VALUE)
		return 0;
	if (p4 <= 512)
		return (__u32)bpf_csum_diff(NULL, 0, (__be32 *)s->value, p4, 0);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)s->value, 512, 0);
	p4 -= 512;
	if (p4 > 512)
		return 0;
	return (__u32)bpf_csum_diff(NULL, 0, (__be32 *)(s->value + 512), p4, (__u32)sum);
}

/* Endpoint of a chain peer in the packet's family. */
static __always_inline void craq_peer_endpoint(struct craq_endpoint *e, const struct craq_peer *p, __u32 family)
{
	__builtin_memcpy(e->mac, p->mac, 6);
	e->port = p->port;
	__builtin_memset(e->addr, 0, 16);
	if (family == 4)
		__builtin_memcpy(e->addr, &p->ip4, 4);
	else
		__builtin_memcpy(e->addr, p->ip6, 16);
}

static __always_inline bool craq_addr_eq(const __u8 *a, const struct craq_peer *p, __u32 family)
{
	__u64 a0, a1, b0, b1;
	__u32 a4, b4;

	if (family == 4) {
		__builtin_memcpy(&a4, a, 4);
		b4 = p->ip4;
		return a4 == b4;
	}
	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, p->ip6, 8);
	__builtin_memcpy(&b1, p->ip6 + 8, 8);
	return a0 == b0 && a1 == b1;
}

/*
 * Parses the frame up to the trailer. Returns -1 to go on, or the verdict with *reason set
 * (0: not a CRAQ packet, passed uncounted).
 */
static __always_inline int craq_parse(struct xdp_md *ctx, __be16 port, struct craq_pkt *p, __u32 *reason)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	struct craq_hdr *h;
	__u32 udp_len, msg_len, want;

	*reason = 0;
	p->frame_len = (__u32)(end - data);
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > end || udp->dest != port)
			return XDP_PASS;
		if (ip->version != 4 || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff))) {
			*reason = CRAQ_R_IP;
			return XDP_PASS;
		}
		if (bpf_ntohs(ip->tot_len) < 20 + 8 ||
		    bpf_ntohs(ip->tot_len) - 20 != bpf_ntohs(udp->len)) {
			*reason = CRAQ_R_BAD_LENGTH;
			return XDP_DROP;
		}
		p->family = 4;
		p->l4off = CRAQ_L4_V4;
		__builtin_memset(p->saddr, 0, 16);
		__builtin_memset(p->daddr, 0, 16);
		__builtin_memcpy(p->saddr, &ip->saddr, 4);
		__builtin_memcpy(p->daddr, &ip->daddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
		if (ip6->nexthdr != IPPROTO_UDP) {
			/* extension headers before a UDP header are not parsed: the stack judges */
			return XDP_PASS;
		}
		if ((void *)(udp + 1) > end || udp->dest != port)
			return XDP_PASS;
		if (bpf_ntohs(ip6->payload_len) != bpf_ntohs(udp->len)) {
			*reason = CRAQ_R_BAD_LENGTH;
			return XDP_DROP;
		}
		p->family = 6;
		p->l4off = CRAQ_L4_V6;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	__builtin_memcpy(p->smac, eth->h_source, 6);
	__builtin_memcpy(p->dmac, eth->h_dest, 6);
	p->sport = udp->source;
	p->dport = udp->dest;
	udp_len = bpf_ntohs(udp->len);
	h = (void *)(udp + 1);
	if (udp_len < 8 + CRAQ_HDR_LEN || (void *)(h + 1) > end) {
		*reason = CRAQ_R_TRUNCATED;
		return XDP_DROP;
	}
	if (data + p->l4off + udp_len > end) {
		*reason = CRAQ_R_TRUNCATED;
		return XDP_DROP;
	}
	__builtin_memcpy(&p->h, h, sizeof(p->h));
	if (p->h.magic != bpf_htons(CRAQ_MAGIC) || p->h.version != CRAQ_WIRE_VERSION || (p->h.flags & ~CRAQ_F_MASK)) {
		*reason = CRAQ_R_BAD_HEADER;
		return XDP_DROP;
	}
	switch (p->h.op) {
	case CRAQ_OP_READ:
	case CRAQ_OP_WRITE:
	case CRAQ_OP_DELETE:
	case CRAQ_OP_PROPAGATE:
	case CRAQ_OP_ACK:
	case CRAQ_OP_VERSION_QUERY:
	case CRAQ_OP_VERSION_REPLY:
		if (p->h.status != 0) {
			*reason = CRAQ_R_BAD_HEADER;
			return XDP_DROP;
		}
		break;
	case CRAQ_OP_READ_REPLY:
	case CRAQ_OP_WRITE_REPLY:
	case CRAQ_OP_DELETE_REPLY:
		*reason = CRAQ_R_REPLY;
		return XDP_PASS;
	default:
		*reason = CRAQ_R_UNKNOWN_OP;
		return XDP_DROP;
	}
	p->has_trailer = (p->h.flags & CRAQ_F_CLIENT) != 0;
	{
		bool needs = p->h.op >= CRAQ_OP_PROPAGATE;

		if (needs != p->has_trailer && !(p->h.op == CRAQ_OP_READ && p->has_trailer)) {
			*reason = CRAQ_R_BAD_HEADER;
			return XDP_DROP;
		}
	}
	p->value_len = bpf_ntohs(p->h.value_len);
	if (p->value_len > CRAQ_MAX_VALUE ||
	    (p->value_len > 0 && p->h.op != CRAQ_OP_WRITE && p->h.op != CRAQ_OP_PROPAGATE)) {
		*reason = CRAQ_R_VALUE_TOO_LARGE;
		return XDP_DROP;
	}
	msg_len = udp_len - 8;
	want = CRAQ_HDR_LEN + (p->has_trailer ? craq_pad4(p->value_len) + CRAQ_TRAILER_LEN : p->value_len);
	if (msg_len < want) {
		*reason = CRAQ_R_TRUNCATED;
		return XDP_DROP;
	}
	if (msg_len != want) {
		*reason = CRAQ_R_BAD_LENGTH;
		return XDP_DROP;
	}
	if (p->has_trailer) {
		__u32 off = p->l4off + 8 + CRAQ_HDR_LEN + craq_pad4(p->value_len);

		if (bpf_xdp_load_bytes(ctx, off, &p->t, sizeof(p->t)) ||
		    (p->t.family != 4 && p->t.family != 6)) {
			*reason = CRAQ_R_BAD_HEADER;
			return XDP_DROP;
		}
	}
	return -1;
}

/*
 * Rewrites the frame into the message `h` (its value_len and flags final) from `src` to `dst`:
 * resizes it (at the tail, or at the front when the frame has no tailroom), copies the value
 * from `slot` unless it is already in place, writes the padding
 * and trailer `t` when h->flags has CRAQ_F_CLIENT, all headers and the checksums. Returns the
 * verdict (XDP_TX) or XDP_DROP with *reason = CRAQ_R_ADJUST.
 */
static __always_inline int craq_emit(struct xdp_md *ctx, const struct craq_pkt *p, struct craq_hdr *h,
				     struct craq_slot *slot, bool in_place, const struct craq_trailer *t,
				     const struct craq_endpoint *src, const struct craq_endpoint *dst, __u32 *reason)
{
	__u32 vlen = bpf_ntohs(h->value_len) & 0x7ff;
	bool trailer = (h->flags & CRAQ_F_CLIENT) != 0;
	__u32 l4off = p->l4off == CRAQ_L4_V4 ? CRAQ_L4_V4 : CRAQ_L4_V6;
	__u32 msg_len, frame_len, udp_len, sum;
	void *data, *end;
	struct ethhdr *eth;
	struct udphdr *udp;
	int delta;

	*reason = CRAQ_R_ADJUST;
	if (vlen > CRAQ_MAX_VALUE)
		return XDP_DROP;
	msg_len = CRAQ_HDR_LEN + (trailer ? craq_pad4(vlen) + CRAQ_TRAILER_LEN : vlen);
	frame_len = l4off + 8 + msg_len;
	delta = (int)frame_len - (int)p->frame_len;
	if (delta != 0 && bpf_xdp_adjust_tail(ctx, delta)) {
		/*
		 * No tailroom (a veth frame copied from an skb has only alignment slack): grow at the
		 * front instead. Every byte after the headers moves, so the value comes from its slot.
		 */
		if (delta < 0 || (in_place && !slot) || bpf_xdp_adjust_head(ctx, -delta))
			return XDP_DROP;
		in_place = false;
	}
	if (slot && !in_place) {
		__u32 n = craq_copy_len(vlen);

		if (n > 0 && bpf_xdp_store_bytes(ctx, l4off + 8 + CRAQ_HDR_LEN, slot->value, n))
			return XDP_DROP;
	}
	if (trailer) {
		__u32 zero = 0, pad = craq_pad4(vlen) - vlen;

		if (pad > 0 && pad < 4 && bpf_xdp_store_bytes(ctx, l4off + 8 + CRAQ_HDR_LEN + vlen, &zero, pad))
			return XDP_DROP;
		if (bpf_xdp_store_bytes(ctx, l4off + 8 + CRAQ_HDR_LEN + craq_pad4(vlen), (void *)t, sizeof(*t)))
			return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if (data + l4off + 8 + CRAQ_HDR_LEN > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, dst->mac, 6);
	__builtin_memcpy(eth->h_source, src->mac, 6);
	udp_len = 8 + msg_len;
	if (l4off == CRAQ_L4_V4) {
		struct iphdr *ip = (void *)(eth + 1);
		struct {
			__be32 s, d;
			__u8 zero, proto;
			__be16 len;
		} ph;

		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)ip = 0x45;
		ip->tos = 0;
		ip->tot_len = bpf_htons(20 + udp_len);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);
		ip->ttl = CRAQ_TTL;
		ip->protocol = IPPROTO_UDP;
		ip->check = 0;
		__builtin_memcpy(&ip->saddr, src->addr, 4);
		__builtin_memcpy(&ip->daddr, dst->addr, 4);
		ip->check = craq_csum_fold((__u32)bpf_csum_diff(NULL, 0, (__be32 *)ip, 20, 0));
		__builtin_memcpy(&ph.s, src->addr, 4);
		__builtin_memcpy(&ph.d, dst->addr, 4);
		ph.zero = 0;
		ph.proto = IPPROTO_UDP;
		ph.len = bpf_htons(udp_len);
		sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
		udp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct {
			__u8 s[16], d[16];
			__be32 len;
			__be32 nh;
		} ph;

		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(udp_len);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = CRAQ_TTL;
		__builtin_memcpy(&ip6->saddr, src->addr, 16);
		__builtin_memcpy(&ip6->daddr, dst->addr, 16);
		__builtin_memcpy(ph.s, src->addr, 16);
		__builtin_memcpy(ph.d, dst->addr, 16);
		ph.len = bpf_htonl(udp_len);
		ph.nh = bpf_htonl(IPPROTO_UDP);
		sum = (__u32)bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
		udp = (void *)(ip6 + 1);
	}
	if ((void *)udp + 8 + CRAQ_HDR_LEN > end)
		return XDP_DROP;
	udp->source = src->port;
	udp->dest = dst->port;
	udp->len = bpf_htons(udp_len);
	udp->check = 0;
	__builtin_memcpy((void *)(udp + 1), h, CRAQ_HDR_LEN);
	sum = craq_csum_add(sum, (__u32)bpf_csum_diff(NULL, 0, (__be32 *)udp, 8 + CRAQ_HDR_LEN, 0));
	if (slot && vlen > 0)
		sum = craq_csum_add(sum, slot->csum);
	if (trailer)
		sum = craq_csum_add(sum, (__u32)bpf_csum_diff(NULL, 0, (__be32 *)t, sizeof(*t), 0));
	udp->check = craq_csum_fold(sum);
	if (udp->check == 0)
		udp->check = 0xffff;
	*reason = 0;
	return XDP_TX;
}

#endif /* CRAQ_HELPERS_H */
