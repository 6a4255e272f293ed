/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Follower fast acknowledgement (XDP). A Prepare of the current view, status normal, from the
 * leader, with op == last_op + 1 and its ring slot free is copied into `el_log` (slot
 * op % ELECTRODE_RING_SIZE, tagged with op and view), last_op advances to op, and the frame is
 * rewritten in place into the PrepareOK (FAST flag, addresses and ports swapped, checksums
 * computed) and sent back with XDP_TX; the Prepare never reaches the socket. Anything else is
 * passed up with its reason counted: user space handles it and drains the ring first, so an
 * entry fast-acked but not yet drained is never lost and never reordered.
 *
 * Concurrency: two CPUs may see Prepares at once (retransmissions). The slot is claimed with a
 * compare-and-swap FREE -> WRITING and last_op advanced with a compare-and-swap last -> op, so
 * one CPU logs op exactly once; the slot becomes FULL (an atomic exchange) after the body.
 * The exchange is a full barrier for the compiler and the CPU (BPF_XCHG; lock xchg on x86-64),
 * so user space, which reads el_log and electrode_state as shared memory (BPF_F_MMAPABLE,
 * bpf/electrode/mapped.ts), sees body, view, op, commit and len complete once it sees FULL;
 * user space advances last_op with a compare-and-swap too, so neither side loses the other's.
 */
#ifndef ELECTRODE_FAST_ACK_H
#define ELECTRODE_FAST_ACK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "electrode_consts.h"
#include "electrode_csum.h"
#include "electrode_maps.h"
#include "electrode_parsing.h"

/* The Prepare's admission: ELECTRODE_R_NONE when it may be logged, else why not. */
static __always_inline __u32 el_fast_ack_check(const struct electrode_state *st, const struct el_msg *m, __u64 op)
{
	__u32 view = bpf_ntohl(m->hdr->view);

	if (!(st->offloads & ELECTRODE_OFF_FAST_ACK))
		return ELECTRODE_R_OFFLOAD_OFF;
	if (st->status != ELECTRODE_STATUS_NORMAL)
		return ELECTRODE_R_NOT_NORMAL;
	if (st->self == st->leader)
		return ELECTRODE_R_ROLE;
	if (view < st->view)
		return ELECTRODE_R_OLD_VIEW;
	if (view > st->view)
		return ELECTRODE_R_NEW_VIEW;
	if (m->hdr->sender != st->leader)
		return ELECTRODE_R_BAD_SENDER;
	if (op <= st->last_op)
		return ELECTRODE_R_OLD_OP;
	if (op != st->last_op + 1)
		return ELECTRODE_R_GAP;
	if (m->body_len > ELECTRODE_MAX_BODY)
		return ELECTRODE_R_TOO_BIG;
	if (m->ip_options)
		return ELECTRODE_R_MALFORMED;
	return ELECTRODE_R_NONE;
}

/* Copies the Prepare into its ring slot and advances last_op; a reason when it could not. */
static __always_inline __u32 el_log_prepare(struct xdp_md *ctx, struct electrode_state *st, const struct el_msg *m, __u64 op)
{
	__u32 slot = (__u32)(op % ELECTRODE_RING_SIZE);
	struct electrode_log_entry *e = bpf_map_lookup_elem(&el_log, &slot);
	__u64 last = op - 1;
	__u32 len = m->body_len;

	if (!e)
		return ELECTRODE_R_NO_CONFIG;
	if (__sync_val_compare_and_swap(&e->state, ELECTRODE_SLOT_FREE, ELECTRODE_SLOT_WRITING) != ELECTRODE_SLOT_FREE)
		return ELECTRODE_R_RING_FULL;
	if (__sync_val_compare_and_swap(&st->last_op, last, op) != last) {
		/* another CPU logged op (or user space moved last_op) meanwhile */
		__sync_lock_test_and_set(&e->state, ELECTRODE_SLOT_FREE);
		return ELECTRODE_R_OLD_OP;
	}
	if (len > 0) {
		/* len - 1 below the limit, then + 1: the verifier sees a size in [1, MAX_BODY] */
		__u32 less = len - 1;

		asm volatile("" : "+r"(less));
		if (less >= ELECTRODE_MAX_BODY || bpf_xdp_load_bytes(ctx, m->body_off, e->body, less + 1) < 0) {
			/* cannot happen (el_parse checked the body is in the frame); if it did, the
			 * Prepare goes up whole: last_op back (unless user space moved it), slot freed */
			__sync_val_compare_and_swap(&st->last_op, op, last);
			__sync_lock_test_and_set(&e->state, ELECTRODE_SLOT_FREE);
			return ELECTRODE_R_MALFORMED;
		}
	}
	e->view = bpf_ntohl(m->hdr->view);
	e->op = op;
	e->commit = bpf_be64_to_cpu(m->hdr->commit);
	e->len = len;
	__sync_lock_test_and_set(&e->state, ELECTRODE_SLOT_FULL);
	return ELECTRODE_R_NONE;
}

static __always_inline void el_swap_mac(struct ethhdr *eth)
{
	__u8 tmp[EL_ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, EL_ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, EL_ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, EL_ETH_ALEN);
}

/*
 * Rewrites the Prepare in `m` into the PrepareOK for op from replica st->self and trims the
 * frame to it. Returns XDP_TX, or XDP_ABORTED if the frame could not be trimmed (the entry is
 * logged either way; the leader's retransmission is acknowledged by user space).
 */
static __always_inline int el_build_ack(struct xdp_md *ctx, const struct electrode_state *st, struct el_msg *m, __u64 op, __u64 bytes)
{
	struct paxos_hdr *h = m->hdr;
	struct udphdr *udp = m->udp;
	__u32 pseudo;
	__be16 port;
	long delta;

	el_swap_mac(m->eth);
	if (m->family == 4) {
		struct iphdr *ip = m->l3;
		__be32 a = ip->saddr;

		ip->saddr = ip->daddr;
		ip->daddr = a;
		ip->tot_len = bpf_htons(sizeof(struct iphdr) + sizeof(struct udphdr) + PAXOS_HDR_LEN);
		ip->frag_off = bpf_htons(0x4000); /* DF */
		ip->ttl = EL_TTL;
		ip->check = 0;
		ip->check = el_ipv4_csum(ip);
		pseudo = el_addr_sum((const __u16 *)&ip->saddr, 4) + el_addr_sum((const __u16 *)&ip->daddr, 4);
	} else {
		struct ipv6hdr *ip6 = m->l3;
		struct in6_addr a = ip6->saddr;

		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		ip6->payload_len = bpf_htons(sizeof(struct udphdr) + PAXOS_HDR_LEN);
		ip6->hop_limit = EL_TTL;
		pseudo = el_addr_sum((const __u16 *)&ip6->saddr, 16) + el_addr_sum((const __u16 *)&ip6->daddr, 16);
	}
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	udp->len = bpf_htons(sizeof(struct udphdr) + PAXOS_HDR_LEN);
	udp->check = 0;

	h->type = PAXOS_PREPARE_OK;
	h->sender = st->self;
	h->flags = PAXOS_F_FAST;
	h->view = bpf_htonl(st->view);
	h->body_len = 0;
	h->op = bpf_cpu_to_be64(op);
	h->commit = 0;
	udp->check = el_ack_udp_csum(pseudo, udp, h);

	delta = (long)m->body_off - (long)bytes;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, (int)delta) < 0)
		return XDP_ABORTED;
	return XDP_TX;
}

/*
 * The fast-ack of one parsed Prepare: XDP_TX with the PrepareOK, or XDP_PASS with the reason
 * counted.
 */
static __always_inline int el_fast_ack(struct xdp_md *ctx, struct electrode_state *st, struct el_msg *m, __u64 bytes)
{
	__u64 op = bpf_be64_to_cpu(m->hdr->op);
	__u32 reason = el_fast_ack_check(st, m, op);

	if (reason == ELECTRODE_R_NONE)
		reason = el_log_prepare(ctx, st, m, op);
	if (reason != ELECTRODE_R_NONE) {
		el_reason(reason, bytes);
		el_stat(ELECTRODE_STAT_PASSED);
		return XDP_PASS;
	}
	el_stat(ELECTRODE_STAT_FAST_ACKS);
	return el_build_ack(ctx, st, m, op, bytes);
}

#endif /* ELECTRODE_FAST_ACK_H */
