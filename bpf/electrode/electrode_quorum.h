/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Leader quorum wait (XDP). A PrepareOK of the current view, status normal, from another
 * replica < n, for an op above commit and at most last_op sets its sender's bit in op's slot
 * of `el_quorum` (slot op % ELECTRODE_QUORUM_WINDOW, tagged with view and op, under the
 * slot's spin lock). The one PrepareOK that brings the count of senders to f = (n - 1) / 2 is
 * passed up with the QUORUM flag (UDP checksum updated); every other one is dropped: duplicates
 * (bit already set), those after the quorum completed, those for ops at or below commit. Other
 * views, a stale window slot, an op the leader has not sent, unknown senders: passed up.
 */
#ifndef ELECTRODE_QUORUM_H
#define ELECTRODE_QUORUM_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "electrode_consts.h"
#include "electrode_csum.h"
#include "electrode_maps.h"
#include "electrode_parsing.h"

/* Checks before the bitset: ELECTRODE_R_NONE when the PrepareOK is to be counted. */
static __always_inline __u32 el_quorum_check(const struct electrode_state *st, const struct el_msg *m, __u64 op)
{
	__u32 view = bpf_ntohl(m->hdr->view);
	__u8 sender = m->hdr->sender;

	if (!(st->offloads & ELECTRODE_OFF_QUORUM))
		return ELECTRODE_R_OFFLOAD_OFF;
	if (st->status != ELECTRODE_STATUS_NORMAL)
		return ELECTRODE_R_NOT_NORMAL;
	if (st->self != st->leader)
		return ELECTRODE_R_ROLE;
	if (m->body_len != 0)
		return ELECTRODE_R_MALFORMED;
	if (view < st->view)
		return ELECTRODE_R_OLD_VIEW;
	if (view > st->view)
		return ELECTRODE_R_NEW_VIEW;
	if (sender >= st->n || sender >= ELECTRODE_MAX_REPLICAS || sender == st->self)
		return ELECTRODE_R_BAD_SENDER;
	if (op <= st->commit)
		return ELECTRODE_R_ACK_COMMITTED;
	if (op > st->last_op)
		return ELECTRODE_R_ACK_FUTURE;
	return ELECTRODE_R_NONE;
}

/*
 * Counts sender's PrepareOK for op in view: ELECTRODE_R_NONE when it completed the quorum
 * (pass it up), ELECTRODE_R_ACK_DUPLICATE / _QUORUM_DONE / _WINDOW, or 0xFFFFFFFF when it was
 * counted without completing it (drop).
 */
#define EL_COUNTED 0xFFFFFFFFu
static __always_inline __u32 el_quorum_count(const struct electrode_state *st, __u32 view, __u64 op, __u8 sender)
{
	__u32 slot = (__u32)(op % ELECTRODE_QUORUM_WINDOW);
	struct electrode_quorum_slot *q = bpf_map_lookup_elem(&el_quorum, &slot);
	__u32 n = st->n;
	__u32 f = n > 0 ? (n - 1) / 2 : 0;
	__u32 bit = 1u << (sender & 31);
	__u32 out;

	if (!q)
		return ELECTRODE_R_NO_CONFIG;
	bpf_spin_lock(&q->lock);
	if (q->view == view && q->op > op) {
		out = ELECTRODE_R_ACK_WINDOW;
	} else {
		if (q->view != view || q->op != op) {
			q->view = view;
			q->op = op;
			q->acks = 0;
			q->done = 0;
		}
		if (q->done) {
			out = ELECTRODE_R_ACK_QUORUM_DONE;
		} else if (q->acks & bit) {
			out = ELECTRODE_R_ACK_DUPLICATE;
		} else {
			q->acks |= bit;
			if ((__u32)__builtin_popcount(q->acks) >= f) {
				q->done = 1;
				out = ELECTRODE_R_NONE;
			} else {
				out = EL_COUNTED;
			}
		}
	}
	bpf_spin_unlock(&q->lock);
	return out;
}

/* Sets PAXOS_F_QUORUM in the passed-up PrepareOK, updating the UDP checksum. */
static __always_inline void el_mark_quorum(struct el_msg *m)
{
	struct paxos_hdr *h = m->hdr;
	__be16 *word = (__be16 *)&h->sender; /* sender and flags: one 16-bit word at an even offset */
	__be16 from = *word;
	__be16 to;

	h->flags |= PAXOS_F_QUORUM;
	to = *word;
	m->udp->check = el_udp_csum_replace2(m->udp->check, from, to);
}

/* The quorum wait on one parsed PrepareOK: XDP_PASS (completing, or not ours) or XDP_DROP. */
static __always_inline int el_quorum_wait(struct electrode_state *st, struct el_msg *m, __u64 bytes)
{
	__u64 op = bpf_be64_to_cpu(m->hdr->op);
	__u32 reason = el_quorum_check(st, m, op);

	if (reason == ELECTRODE_R_NONE)
		reason = el_quorum_count(st, bpf_ntohl(m->hdr->view), op, m->hdr->sender);
	if (reason == ELECTRODE_R_NONE) {
		el_mark_quorum(m);
		el_stat(ELECTRODE_STAT_QUORUMS);
		el_stat(ELECTRODE_STAT_PASSED);
		return XDP_PASS;
	}
	if (reason == EL_COUNTED) {
		el_stat(ELECTRODE_STAT_ACKS_FILTERED);
		return XDP_DROP;
	}
	el_reason(reason, bytes);
	if (reason == ELECTRODE_R_ACK_COMMITTED || reason == ELECTRODE_R_ACK_DUPLICATE || reason == ELECTRODE_R_ACK_QUORUM_DONE) {
		el_stat(ELECTRODE_STAT_ACKS_FILTERED);
		return XDP_DROP;
	}
	el_stat(ELECTRODE_STAT_PASSED);
	return XDP_PASS;
}

#endif /* ELECTRODE_QUORUM_H */
