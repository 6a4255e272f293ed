/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps and load-time globals of the xlb balancer (xlb.bpf.c). The decapsulator has its own
 * (xlb_decap.bpf.c), so loading it allocates none of these.
 *
 * Load-time globals (.rodata, set before load with libs/bpf BpfObject.setGlobal; the verifier
 * prunes what they switch off). Host byte order unless noted.
 *
 *   features                 __u32  XLB_FEAT_* bits (default XLB_FEAT_ALL): IPv6, ICMP errors,
 *                                   NAT, IPIP/GUE; a mode switched off drops as BAD_CONFIG
 *   gue_port                 __u16  GUE destination port (6080)
 *   encap_src_v4             __u32  outer IPv4 source prefix (172.16.0.0); the host part is the
 *                                   low bits of the flow hash, so each flow has its own source and
 *                                   the backend's RSS spreads tunnelled flows over its queues
 *   encap_src_v4_len         __u8   its length (16)
 *   encap_src_v6             __be32[4] outer IPv6 source prefix, network order (100::)
 *   encap_src_v6_len         __u8   its length (64); the flow hash fills at most the last 32 bits
 *   encap_mtu                __u16  largest encapsulated IP packet; larger ones are dropped as
 *                                   XLB_DROP_TOO_BIG (0: no limit, the default)
 *   nat_port_min, nat_port_max __u16 NAT source port range, inclusive (1024..65535)
 *   nat_tcp_time_wait_ms     __u32  a closed (or timed-out) TCP flow's NAT port is not given to
 *                                   another flow until this long after its last packet (60 s,
 *                                   the backend's TIME_WAIT)
 *   ct_tcp_syn_timeout_ms    __u32  connection-table timeouts by state (30 s, 1 h, 10 s, 30 s):
 *   ct_tcp_timeout_ms               an expired entry is a new flow; NAT ports of expired flows
 *   ct_tcp_closing_timeout_ms       may be taken over
 *   ct_udp_timeout_ms
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xlb_consts.h"
#include "xlb_kern_user.h"
#include "xlb_structs.h"

/* --- load-time globals ------------------------------------------------------------------------ */

const volatile __u32 features = XLB_FEAT_ALL;
const volatile __u16 gue_port = XLB_GUE_PORT;
const volatile __u32 encap_src_v4 = XLB_ENCAP_SRC_V4;
const volatile __u8 encap_src_v4_len = XLB_ENCAP_SRC_V4_LEN;
const volatile __be32 encap_src_v6[4] = { bpf_htonl(XLB_ENCAP_SRC_V6_W0), 0, 0, 0 };
const volatile __u8 encap_src_v6_len = XLB_ENCAP_SRC_V6_LEN;
const volatile __u16 encap_mtu = 0;
const volatile __u16 nat_port_min = XLB_NAT_PORT_MIN;
const volatile __u16 nat_port_max = XLB_NAT_PORT_MAX;
const volatile __u32 nat_tcp_time_wait_ms = XLB_NAT_TCP_TIME_WAIT_MS;
const volatile __u32 ct_tcp_syn_timeout_ms = XLB_CT_TCP_SYN_TIMEOUT_MS;
const volatile __u32 ct_tcp_timeout_ms = XLB_CT_TCP_TIMEOUT_MS;
const volatile __u32 ct_tcp_closing_timeout_ms = XLB_CT_TCP_CLOSING_TIMEOUT_MS;
const volatile __u32 ct_udp_timeout_ms = XLB_CT_UDP_TIMEOUT_MS;

/* --- configuration (written by the controller) ------------------------------------------------ */

/* VIPs by (address, port, protocol); port 0 entries are port wildcards. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip_meta);
} vips SEC(".maps");

/*
 * Maglev lookup tables: backend index at ((vip_index * 2 + slot) * XLB_MAGLEV_SIZE + position),
 * position = hash % table_size. Two slots per VIP: the controller fills the spare one, then
 * flips xlb_vip_meta.active_slot with one `vips` update (atomic for readers). Packets already
 * in flight may still read the old slot, so it is rewritten only after an RCU grace period
 * (in practice: not before the next update, at least tens of ms later).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS * 2 * XLB_MAGLEV_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} maglev_tables SEC(".maps");

/* Backend records by index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} backends SEC(".maps");

/* Router MACs for backends that are not on-link. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct xlb_nexthop);
} nexthops SEC(".maps");

/* Run-time settings: local MAC, NAT source addresses (key 0). (`config` is a vmlinux.h type.) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_config);
} xlb_config SEC(".maps");

/* --- state ------------------------------------------------------------------------------------ */

/*
 * Connection table: client flow -> backend. Shared by all CPUs, not per CPU: a flow's packets
 * do not stay on one CPU where there is no RSS (veth, the container case) and where the sender's
 * timers and retransmits run elsewhere; a per-CPU entry missed there would re-hash the flow onto
 * a changed Maglev table and reset it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT_SIZE);
	__uint(map_flags, XLB_LRU_FLAGS);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_ct_value);
} conntrack SEC(".maps");

/* The same for IPv4 flows, keyed in 16 bytes (xlb_ct_lookup, xlb_conntrack.h, picks the map). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT_SIZE);
	__uint(map_flags, XLB_LRU_FLAGS);
	__type(key, struct xlb_flow_key4);
	__type(value, struct xlb_ct_value);
} conntrack_v4 SEC(".maps");

/* NAT reverse entries: backend reply flow -> client and VIP; shared, replies come on any CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_NAT_SIZE);
	__uint(map_flags, XLB_LRU_FLAGS);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_nat_value);
} nat_rev SEC(".maps");

/* Scratch space of one packet (struct xlb_scratch, xlb_structs.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_scratch);
} xlb_scratch SEC(".maps");

/*
 * The coarse clock cached per tick (struct xlb_clock, xlb_structs.h): a global in .bss, read by
 * direct address (no map lookup), shared by the CPUs and written by the first packet of each
 * tick.
 */
struct xlb_clock xlb_clock_cache;

/*
 * bpf_ktime_get_coarse_ns(), read once per tick: the connection table's and NAT's timeouts need
 * the time of every packet, and the helper (a seqcount read of the timekeeper, two cold cache
 * lines on the hit path) returns the same value until the next tick. bpf_jiffies64() is inlined
 * by the verifier into one load, so a packet pays the helper only when jiffies moved since the
 * cache was written. The time is written before jiffies; a reader that sees the new jiffies
 * with the old time (another CPU between the two stores, or the tick moving jiffies just before
 * the timekeeper) keeps the previous tick's time until the next tick: at most one tick (1-10
 * ms) behind, against timeouts of seconds.
 */
static __always_inline __u64 xlb_now(void)
{
	__u64 j = bpf_jiffies64();
	__u64 ns;

	if (xlb_clock_cache.jiffies == j && xlb_clock_cache.ns)
		return xlb_clock_cache.ns;
	ns = bpf_ktime_get_coarse_ns();
	xlb_clock_cache.ns = ns;
	barrier();
	xlb_clock_cache.jiffies = j;
	return ns;
}

/* --- counters (per CPU) ----------------------------------------------------------------------- */

/* Per VIP (key = vip_index). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_stats);
} vip_stats SEC(".maps");

/* Per backend (key = backend index). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_stats);
} backend_stats SEC(".maps");

/* Packets not balanced, by enum xlb_drop_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DROP_MAX);
	__type(key, __u32);
	__type(value, struct xlb_counter);
} drop_stats SEC(".maps");

/* Counts a packet under `reason` and returns `verdict`. */
static __always_inline int xlb_count_drop(__u32 reason, __u32 bytes, int verdict)
{
	struct xlb_counter *cnt = bpf_map_lookup_elem(&drop_stats, &reason);

	if (cnt) {
		cnt->packets++;
		cnt->bytes += bytes;
	}
	return verdict;
}

static __always_inline void xlb_count_forward(__u32 vip_index, __u32 backend_index, __u32 bytes, bool new_flow)
{
	struct xlb_stats *s = bpf_map_lookup_elem(&vip_stats, &vip_index);

	if (s) {
		s->packets++;
		s->bytes += bytes;
		s->new_flows += new_flow;
	}
	s = bpf_map_lookup_elem(&backend_stats, &backend_index);
	if (s) {
		s->packets++;
		s->bytes += bytes;
		s->new_flows += new_flow;
	}
}

static __always_inline void xlb_count_reply(__u32 vip_index, __u32 backend_index, __u32 bytes)
{
	struct xlb_stats *s = bpf_map_lookup_elem(&vip_stats, &vip_index);

	if (s) {
		s->reply_packets++;
		s->reply_bytes += bytes;
	}
	s = bpf_map_lookup_elem(&backend_stats, &backend_index);
	if (s) {
		s->reply_packets++;
		s->reply_bytes += bytes;
	}
}

#endif /* XLB_MAPS_H */
