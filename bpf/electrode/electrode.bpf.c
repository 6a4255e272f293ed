/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Electrode (Zhou et al., NSDI'23): three steps of a Multi-Paxos / VR replica below the socket.
 *
 *   electrode_xdp        XDP, attached on every replica: dispatches by message type, Prepare to
 *                        the fast-ack (acts on followers), PrepareOK to the quorum wait (acts on
 *                        the leader); everything else passes up
 *   electrode_fast_ack   XDP, the fast-ack alone (electrode_fast_ack.h)
 *   electrode_quorum     XDP, the quorum wait alone (electrode_quorum.h)
 *   electrode_broadcast  TC egress on the leader: one Prepare cloned to every follower
 *                        (electrode_broadcast.h)
 *
 * All share the maps of electrode_maps.h: one object per replica. Each offload is switched on
 * and off at run time by electrode_state.offloads; off, its program passes everything. A
 * replica whose state or own configuration entry is missing passes everything uncounted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "electrode_consts.h"
#include "electrode_kern_user.h"
#include "electrode_maps.h"
#include "electrode_parsing.h"
#include "electrode_fast_ack.h"
#include "electrode_quorum.h"
#include "electrode_broadcast.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Which of the XDP offloads an entry point runs. */
#define EL_DO_FAST_ACK 0x1
#define EL_DO_QUORUM 0x2

static __always_inline int el_xdp(struct xdp_md *ctx, __u32 which)
{
	struct na_cursor c;
	struct electrode_state *st = el_state();
	struct electrode_replica *self;
	struct el_msg m = {};
	enum el_parse_result res;
	__u64 bytes;
	__u32 reason;

	if (!st)
		return XDP_PASS;
	self = el_replica(st->self);
	if (!self)
		return XDP_PASS;
	na_cursor_init_xdp(&c, ctx);
	bytes = (__u64)(c.end - c.pos);
	res = el_parse(&c, self->port, &m);
	if (res == EL_NOT_MINE)
		return XDP_PASS;
	if (res == EL_MALFORMED) {
		reason = ELECTRODE_R_MALFORMED;
	} else if (m.type == PAXOS_PREPARE && (which & EL_DO_FAST_ACK)) {
		return el_fast_ack(ctx, st, &m, bytes);
	} else if (m.type == PAXOS_PREPARE_OK && (which & EL_DO_QUORUM)) {
		return el_quorum_wait(st, &m, bytes);
	} else {
		reason = el_type_reason(m.type);
		if (reason == ELECTRODE_R_NONE)
			reason = ELECTRODE_R_OTHER_TYPE;
	}
	el_reason(reason, bytes);
	el_stat(ELECTRODE_STAT_PASSED);
	return XDP_PASS;
}

SEC("xdp")
int electrode_xdp(struct xdp_md *ctx)
{
	return el_xdp(ctx, EL_DO_FAST_ACK | EL_DO_QUORUM);
}

SEC("xdp")
int electrode_fast_ack(struct xdp_md *ctx)
{
	return el_xdp(ctx, EL_DO_FAST_ACK);
}

SEC("xdp")
int electrode_quorum(struct xdp_md *ctx)
{
	return el_xdp(ctx, EL_DO_QUORUM);
}

SEC("tc")
int electrode_broadcast(struct __sk_buff *skb)
{
	return el_broadcast(skb);
}
