/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of electrode.bpf.o, shared by its three programs on one replica (a replica changes role
 * with the view, so it runs all of them and electrode_state says which one acts), and the
 * counter helpers.
 */
#ifndef ELECTRODE_MAPS_H
#define ELECTRODE_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "electrode_consts.h"
#include "electrode_kern_user.h"

/*
 * The replica's protocol state (view, status, roles, last op, commit, offload switches).
 * BPF_F_MMAPABLE: the replica maps it and reads and writes it as memory (offload.ts, mapped.ts);
 * no bpf_spin_lock in it (not allowed in a mmapable map): last_op is a compare-and-swap on
 * both sides, the other members are written by user space only.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct electrode_state);
} electrode_state SEC(".maps");

/* The group: address, port, MAC and egress interface of replica i. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ELECTRODE_MAX_REPLICAS);
	__type(key, __u32);
	__type(value, struct electrode_replica);
} el_config SEC(".maps");

/*
 * Follower: Prepares fast-acked and not yet drained by user space (slot = op % size).
 * BPF_F_MMAPABLE: the follower drains it as memory (mapped.ts), the slot's state word orders
 * both sides (electrode_fast_ack.h, el_log_prepare).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ELECTRODE_RING_SIZE);
	__type(key, __u32);
	__type(value, struct electrode_log_entry);
} el_log SEC(".maps");

/* Leader: PrepareOK senders per op (slot = op % window). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ELECTRODE_QUORUM_WINDOW);
	__type(key, __u32);
	__type(value, struct electrode_quorum_slot);
} el_quorum SEC(".maps");

/* Per-offload counters, key = enum electrode_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ELECTRODE_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} el_stats SEC(".maps");

/* Messages passed up or dropped, key = enum electrode_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ELECTRODE_R_MAX);
	__type(key, __u32);
	__type(value, struct electrode_counter);
} el_reasons SEC(".maps");

static __always_inline void el_stat(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&el_stats, &which);

	if (v)
		*v += 1;
}

static __always_inline void el_reason(__u32 reason, __u64 bytes)
{
	struct electrode_counter *c = bpf_map_lookup_elem(&el_reasons, &reason);

	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

static __always_inline struct electrode_state *el_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&electrode_state, &zero);
}

/* Replica i's configuration when it is valid, else NULL. */
static __always_inline struct electrode_replica *el_replica(__u32 i)
{
	struct electrode_replica *r;

	if (i >= ELECTRODE_MAX_REPLICAS)
		return NULL;
	r = bpf_map_lookup_elem(&el_config, &i);
	if (!r || !(r->flags & ELECTRODE_REPLICA_F_VALID))
		return NULL;
	return r;
}

#endif /* ELECTRODE_MAPS_H */
