// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The NetCRAQ benchmark's own XDP programs (compiled at bench time by tools.ts):
 *   craq_gen     the load generator's program: run by craq-gen with BPF_PROG_TEST_RUN in
 *                live-frame mode; writes the next of up to GEN_FRAMES request frames in turn
 *                (a mix of reads and writes) over the page (the chain rewrote the page it came
 *                from into a reply) and XDP_TXs it out of the client's interface
 *   craq_switch  the segment: redirects by destination MAC between the switch's ports (frames
 *                stay xdp_frames end to end); unknown MACs go to the stack
 *   craq_sink    the client's receive side: counts and drops CRAQ replies (UDP from port 7480),
 *                status OK and other statuses apart
 *   craq_tr      the cost-per-operation section's wrapper (BPF_PROG_TEST_RUN with repeat, which
 *                hands the program the frame it rewrote last time): restores gen_config's first
 *                frame, then tail-calls tr_progs[0] (a craq_node); with the slot empty it measures
 *                itself, to be subtracted
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* sink: 0 OK replies dropped, 1 other frames passed, 4 replies of another status dropped;
 * switch: 2 redirected, 3 passed */
#define BENCH_STATS_ENTRIES 5
#include "bench_xdp.h"

#define GEN_MAX 128
#define GEN_FRAMES 4

struct gen_cfg {
	__u8 frame[GEN_FRAMES][GEN_MAX];
	__u32 len[GEN_FRAMES];
	__u32 n; /* frames in use, 1..GEN_FRAMES */
	__u32 wkeys; /* WRITE frames cycle their key id over key_id .. key_id + wkeys - 1 (0, 1: not) */
	__u64 req_base; /* WRITE frames get request id req_base + sequence number (at-most-once heads); 0: id 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cfg);
} gen_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tr_progs SEC(".maps");

__u32 gen_seq = 0;
/* WRITEs sent: a write's key is the next of the wkeys in turn, whatever the mix */
__u32 gen_wseq = 0;

SEC("xdp")
int craq_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct gen_cfg *cfg;
	__u32 key = 0, i, len;

	if (data + GEN_MAX > data_end)
		return XDP_ABORTED;
	cfg = bpf_map_lookup_elem(&gen_config, &key);
	if (!cfg || cfg->n == 0 || cfg->n > GEN_FRAMES)
		return XDP_ABORTED;
	i = gen_seq++ % cfg->n;
	asm volatile("" : "+r"(i));
	if (i >= GEN_FRAMES)
		return XDP_ABORTED;
	len = cfg->len[i];
	if (len < 42 || len > GEN_MAX)
		return XDP_ABORTED;
	__builtin_memcpy(data, cfg->frame[i], GEN_MAX);
	/*
	 * a WRITE (op at 14+20+8+3) of IPv4 template: the key id (at 14+20+8+16, big endian) moves
	 * over wkeys placed keys, so that writes do not pile up CRAQ_MAX_DIRTY deep on one key, and
	 * the request id is new; the templates carry UDP checksum 0 (none) for it
	 */
	if (((__u8 *)data)[45] == 0x02) {
		__u64 id;

		if (cfg->wkeys > 1) {
			__builtin_memcpy(&id, data + 58, 8);
			id = bpf_cpu_to_be64(bpf_be64_to_cpu(id) + gen_wseq++ % cfg->wkeys);
			__builtin_memcpy(data + 58, &id, 8);
		}
		/* request id (at 14+20+8+8): every WRITE is a new request, not a retry of the last;
		 * req_base 0: request id 0 (anonymous: a node records none, craq_key.reqs untouched) */
		id = cfg->req_base ? bpf_cpu_to_be64(cfg->req_base + gen_seq) : 0;
		__builtin_memcpy(data + 50, &id, 8);
	}
	/* templates are GEN_MAX bytes (padded); the frame is the request's length */
	if (bpf_xdp_adjust_tail(ctx, (int)len - GEN_MAX))
		return XDP_ABORTED;
	return XDP_TX;
}

SEC("xdp")
int craq_switch(struct xdp_md *ctx)
{
	return bench_switch(ctx, 2, 3);
}

SEC("xdp")
int craq_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u8 *craq = (void *)(udp + 1);

	if ((void *)(craq + 8) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP ||
	    udp->source != bpf_htons(7480)) {
		count(ctx, 1);
		return XDP_PASS;
	}
	/* craq header: op at 3, status at 4 */
	count(ctx, craq[4] == 0 ? 0 : 4);
	return XDP_DROP;
}

SEC("xdp")
int craq_tr(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct gen_cfg *cfg;
	__u32 key = 0, len;
	int cur;

	cfg = bpf_map_lookup_elem(&gen_config, &key);
	if (!cfg)
		return XDP_ABORTED;
	len = cfg->len[0];
	if (len < 42 || len > GEN_MAX)
		return XDP_ABORTED;
	cur = (int)(ctx->data_end - ctx->data);
	if (cur != GEN_MAX && bpf_xdp_adjust_tail(ctx, GEN_MAX - cur))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + GEN_MAX > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, cfg->frame[0], GEN_MAX);
	if (bpf_xdp_adjust_tail(ctx, (int)len - GEN_MAX))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &tr_progs, 0);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
