/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The maps of sidecar.bpf.o (README.md, "Maps") and the counter helpers. */
#ifndef SIDECAR_MAPS_H
#define SIDECAR_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sidecar_kern_user.h"
#include "sidecar_consts.h"
#include "sidecar_structs.h"

/* The offloaded sockets, by their own 4-tuple; sk_skb and sk_msg programs attach here. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SIDECAR_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, __u64);
} sock_hash SEC(".maps");

/* SIDECAR_RULE_F_SPLICE sockets: sk_msg and the sk_skb verdict alone (no stream parser: what
 * reaches them through TCP goes through the verdict skb by skb into the same queue as the
 * redirected sends, in arrival order; a strparser held back bytes the proxy wrote after a
 * hand-over in the grpc-js trial). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SIDECAR_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, __u64);
} splice_hash SEC(".maps");

/* Which established sockets sockops offloads (user space writes; zero side = wildcard). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIDECAR_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, struct sidecar_rule);
} offload_rules SEC(".maps");

/* Socket -> the socket its bytes go to (user space writes both directions). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIDECAR_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, struct sidecar_sock_key);
} pairs SEC(".maps");

/* State and counters of each offloaded socket (sockops creates, close deletes). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIDECAR_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, struct sidecar_conn);
} conns SEC(".maps");

/* Sockets the proxy takes back (user space writes the socket's key, then one trigger byte into the
 * connection towards it): the sk_skb verdict of that socket removes the entry and the byte and
 * hands the socket over at a frame boundary of what it sends (SIDECAR_REASON_TAKEN_BACK). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIDECAR_MAX_SOCKS);
	__type(key, struct sidecar_sock_key);
	__type(value, __u32);
} takeback SEC(".maps");

/* Method path forms (plain, Huffman) -> method id and action (compilePolicy in index.ts). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SIDECAR_MAX_METHODS);
	__type(key, struct sidecar_path_key);
	__type(value, struct sidecar_policy_value);
} policy SEC(".maps");

/* sidecar_cfg[0]: what happens to paths not in policy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sidecar_config);
} sidecar_cfg SEC(".maps");

/* Requests in flight: request socket + stream id -> method and start time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SIDECAR_MAX_STREAMS);
	__type(key, struct sidecar_stream_key);
	__type(value, struct sidecar_stream);
} streams SEC(".maps");

/* Per-method telemetry, key = method id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIDECAR_MAX_METHODS);
	__type(key, __u32);
	__type(value, struct sidecar_method_stats);
} method_stats SEC(".maps");

/* Frames and bytes per enum sidecar_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIDECAR_REASON_MAX);
	__type(key, __u32);
	__type(value, struct sidecar_counter);
} reason_stats SEC(".maps");

/* Per-CPU scratch: the header block, the path key and a message's walk (too big for the stack);
 * slot SIDECAR_SLOT_MSG for sk_msg, SIDECAR_SLOT_SKB for the sk_skb verdict. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sidecar_scratch);
} scratch SEC(".maps");

static __always_inline void sidecar_count(__u32 reason, __u64 bytes)
{
	struct sidecar_counter *c = bpf_map_lookup_elem(&reason_stats, &reason);

	if (c) {
		c->frames++;
		c->bytes += bytes;
	}
}

static __always_inline struct sidecar_method_stats *sidecar_method(__u32 method)
{
	return bpf_map_lookup_elem(&method_stats, &method);
}

#endif /* SIDECAR_MAPS_H */
