// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP helpers of the xlb benchmark (not part of the product; compiled by bench/xlb/tools.ts at
 * bench time, since bpf/Makefile builds only bpf/):
 *   xdp_empty   returns XDP_PASS: the floor of BPF_PROG_TEST_RUN timing, and the program that
 *               gives a veth end NAPI so that XDP_TX / XDP_REDIRECT frames can land on it
 *   xdp_switch  the "switch" of the packet-rate topology: unicast frames whose destination MAC
 *               is in `fdb` are redirected to that port (frames stay xdp_frames); everything
 *               else passes to the Linux bridge (ARP, broadcast, unknown MACs)
 *   xdp_sink    the backends of the packet-rate topology: counts and drops IPv4 UDP and IPIP
 *               (the flood in every forwarding mode), passes the rest (ARP, ICMP)
 *   xdp_bounce  the least a balancer node can do, for the packet-rate floor: sends the frame
 *               back out (XDP_TX) to backend (UDP source port & 1) with the MACs from
 *               `bounce_macs`, nothing else looked at or changed
 *   xdp_gen     the traffic generator, run by xlb-gen with BPF_F_TEST_XDP_LIVE_FRAMES: writes
 *               the template headers (Ethernet + IPv4 + UDP) into each frame, with the UDP
 *               source port cycling over `flows` values, and sends it (XDP_TX = out of the
 *               interface given in the context)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* switch: 0 redirected, 1 passed; sink: 0 dropped, 1 passed; bounce: 0 sent */
#define BENCH_STATS_ENTRIES 2
#include "bench_xdp.h"

#define GEN_HDR_LEN 42 /* Ethernet 14 + IPv4 20 + UDP 8 */

struct gen_cfg {
	__u8 hdr[GEN_HDR_LEN];
	__u16 sport_base; /* host order */
	__u32 flows;      /* source ports cycled through (>= 1) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cfg);
} gen_config SEC(".maps");

struct bounce_mac {
	__u8 dst[ETH_ALEN];
	__u8 src[ETH_ALEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bounce_mac);
} bounce_macs SEC(".maps");

__u32 gen_seq = 0;

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_switch(struct xdp_md *ctx)
{
	return bench_switch(ctx, 0, 1);
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_IPIP)
		goto pass;
	count(ctx, 0);
	return XDP_DROP;
pass:
	count(ctx, 1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_bounce(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct bounce_mac *m;
	__u32 key;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	key = bpf_ntohs(udp->source) & 1;
	m = bpf_map_lookup_elem(&bounce_macs, &key);
	if (!m)
		return XDP_PASS;
	__builtin_memcpy(eth->h_dest, m->dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, m->src, ETH_ALEN);
	count(ctx, 0);
	return XDP_TX;
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct gen_cfg *cfg;
	struct udphdr *udp;
	__u32 key = 0, seq;

	if (data + GEN_HDR_LEN > data_end)
		return XDP_ABORTED;
	cfg = bpf_map_lookup_elem(&gen_config, &key);
	if (!cfg || cfg->flows == 0)
		return XDP_ABORTED;
	/* Pages come back from the page pool as the receivers left them (rewritten, encapsulated):
	 * restore every header byte, not just the port. */
	__builtin_memcpy(data, cfg->hdr, GEN_HDR_LEN);
	seq = gen_seq++;
	udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
	udp->source = bpf_htons(cfg->sport_base + seq % cfg->flows);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
