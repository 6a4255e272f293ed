/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Maps of the NetCRAQ node. */
#ifndef CRAQ_MAPS_H
#define CRAQ_MAPS_H

/* This node's role, neighbours, epoch and mode (one entry, written by the node agent). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct craq_config);
} craq_config SEC(".maps");

/* Placed keys: key id (host order) -> versions, values and heat counters. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CRAQ_MAX_KEYS);
	__type(key, __u64);
	__type(value, struct craq_key);
} craq_keys SEC(".maps");

/* Packets not answered, by enum craq_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CRAQ_R_MAX);
	__type(key, __u32);
	__type(value, struct craq_counter);
} craq_reasons SEC(".maps");

/* What the node did, by enum craq_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CRAQ_S_MAX);
	__type(key, __u32);
	__type(value, struct craq_counter);
} craq_stats SEC(".maps");

/* Commits at the tail, for the scheduler's write-through to etcd (struct craq_commit). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CRAQ_COMMITS_BYTES);
} craq_commits SEC(".maps");

#endif /* CRAQ_MAPS_H */
