/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the benches' own XDP programs share (bench/xlb/bench-progs.bpf.c,
 * bench/craq/craq-bench-progs.bpf.c; compiled by bench/lib/native-build.ts's benchBpfArgs, which
 * puts this folder on the include path):
 *   stats         per-CPU packet and byte counters, BENCH_STATS_ENTRIES of them (the includer
 *                 defines it and says what each counts)
 *   fdb           the switch's forwarding table: destination MAC -> ifindex
 *   count()       adds a frame to one counter of stats
 *   bench_switch  the "switch" of the packet-rate topologies: a frame whose destination MAC is in
 *                 fdb is redirected to that port (frames stay xdp_frames end to end), counted under
 *                 `redirected`; any other (ARP, broadcast, unknown MACs) passes to the stack,
 *                 counted under `passed` (one shorter than an Ethernet header passes uncounted)
 */
#ifndef BENCH_XDP_H
#define BENCH_XDP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#ifndef BENCH_STATS_ENTRIES
#error "define BENCH_STATS_ENTRIES (the counters in stats) before including bench_xdp.h"
#endif
#ifndef BENCH_FDB_ENTRIES
#define BENCH_FDB_ENTRIES 64
#endif

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BENCH_FDB_ENTRIES);
	__type(key, __u64); /* destination MAC in the low 6 bytes (byte order of the frame) */
	__type(value, __u32); /* ifindex */
} fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct counter);
} stats SEC(".maps");

static __always_inline void count(struct xdp_md *ctx, __u32 key)
{
	struct counter *c = bpf_map_lookup_elem(&stats, &key);

	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
}

static __always_inline int bench_switch(struct xdp_md *ctx, __u32 redirected, __u32 passed)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 mac = 0;
	__u32 *port;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS; /* not a frame: not counted */
	__builtin_memcpy(&mac, eth->h_dest, ETH_ALEN);
	port = bpf_map_lookup_elem(&fdb, &mac);
	if (!port) {
		count(ctx, passed);
		return XDP_PASS;
	}
	count(ctx, redirected);
	return bpf_redirect(*port, 0);
}

#endif /* BENCH_XDP_H */
