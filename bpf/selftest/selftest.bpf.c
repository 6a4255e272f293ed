// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * selftest: the smallest real XDP program of netaccel, used to prove the chain build -> load ->
 * BPF_PROG_TEST_RUN -> maps -> attach. For IPv4 (behind up to NETACCEL_MAX_VLAN_DEPTH tags) it
 *   - drops UDP datagrams to the port in the drop_udp_port global (set before load),
 *   - answers ICMP echo requests itself: swaps MAC and IP addresses, makes the message an echo
 *     reply, fixes the ICMP checksum incrementally and sends the frame back (XDP_TX),
 * and passes everything else. Every verdict is counted (packets, bytes) in verdict_stats.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"
#include "netaccel_helpers.h"
#include "netaccel_parsing.h"
#include "netaccel_csum.h"
#include "selftest_kern_user.h"

/* Load-time configuration: UDP destination port to drop, host byte order; 0 drops nothing. */
const volatile __u16 drop_udp_port = SELFTEST_DEFAULT_DROP_PORT;

/* Packets and bytes per verdict, per CPU; key = enum xdp_action. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SELFTEST_VERDICTS);
	__type(key, __u32);
	__type(value, struct selftest_counter);
} verdict_stats SEC(".maps");

static __always_inline int count_verdict(struct xdp_md *ctx, __u32 verdict)
{
	struct selftest_counter *cnt = bpf_map_lookup_elem(&verdict_stats, &verdict);

	if (cnt) {
		cnt->packets++;
		cnt->bytes += na_xdp_len(ctx);
	}
	return verdict;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	unsigned char tmp[sizeof(eth->h_source)];

	__builtin_memcpy(tmp, eth->h_source, sizeof(tmp));
	__builtin_memcpy(eth->h_source, eth->h_dest, sizeof(tmp));
	__builtin_memcpy(eth->h_dest, tmp, sizeof(tmp));
}

/* Turns the echo request in place into its reply. The IPv4 checksum survives the address swap. */
static __always_inline int echo_reply(struct ethhdr *eth, struct iphdr *ip, struct icmphdr *icmp)
{
	__be32 addr = ip->saddr;
	__be16 from = bpf_htons(NA_ICMP_ECHO << 8 | icmp->code);
	__be16 to = bpf_htons(NA_ICMP_ECHOREPLY << 8 | icmp->code);

	swap_macs(eth);
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	icmp->type = NA_ICMP_ECHOREPLY;
	icmp->checksum = na_csum_replace2(icmp->checksum, from, to);
	return XDP_TX;
}

static __always_inline int handle_ipv4(struct na_cursor *c, struct ethhdr *eth)
{
	struct iphdr *ip = na_parse_ipv4(c);
	struct icmphdr *icmp;
	struct udphdr *udp;

	if (!ip || na_ipv4_is_fragment(ip))
		return XDP_PASS;

	if (ip->protocol == IPPROTO_UDP) {
		udp = NA_PULL(c, struct udphdr);
		if (udp && drop_udp_port != 0 && udp->dest == bpf_htons(drop_udp_port))
			return XDP_DROP;
		return XDP_PASS;
	}
	if (ip->protocol == IPPROTO_ICMP) {
		icmp = NA_PULL(c, struct icmphdr);
		if (icmp && icmp->type == NA_ICMP_ECHO)
			return echo_reply(eth, ip, icmp);
	}
	return XDP_PASS;
}

SEC("xdp")
int selftest_xdp(struct xdp_md *ctx)
{
	struct na_cursor c;
	struct ethhdr *eth;
	__be16 proto = 0;

	na_cursor_init_xdp(&c, ctx);
	eth = na_parse_eth(&c, &proto);
	if (!eth || proto != NA_ETH_P_IP_BE)
		return count_verdict(ctx, XDP_PASS);
	return count_verdict(ctx, handle_ipv4(&c, eth));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
