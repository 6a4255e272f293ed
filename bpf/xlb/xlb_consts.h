/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Constants of the xlb balancer and its decapsulator. Everything guarded by #ifndef is a
 * build-time constant: make -C bpf DEFINES='-DXLB_CT_SIZE=1048576 -DXLB_MAX_VIPS=512'.
 *
 * The defaults keep an object small enough to load in about a quarter of a second (the LRU
 * maps are preallocated: ~1.5 us per per-CPU entry), which the BPF tests load several times.
 * Production builds raise XLB_CT_SIZE and XLB_NAT_SIZE (Katran uses 1M flows per CPU).
 *
 * Map sizes, the Maglev stride and the load-time globals' defaults are read by TypeScript from
 * the object (map max_entries, .rodata through BTF), never copied by hand.
 */
#ifndef XLB_CONSTS_H
#define XLB_CONSTS_H

#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"

/* --- map sizes ------------------------------------------------------------------------------ */

/* VIPs: entries of `vips`, rows of `vip_stats`; vip_meta.vip_index < XLB_MAX_VIPS. */
#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS 64
#endif

/*
 * Largest Maglev table (a prime). Every VIP owns two slots of this many u32 entries in
 * `maglev_tables`; the table size a VIP really uses is xlb_vip_meta.table_size (a prime up to
 * this), so tests and small services use short tables without a special build. 64 VIPs x 2 x
 * 65537 x 4 bytes = 32 MiB, allocated in ~20 ms.
 */
#ifndef XLB_MAGLEV_SIZE
#define XLB_MAGLEV_SIZE 65537
#endif

/* Backend records (and rows of `backend_stats`), indexed by the values in the Maglev tables. */
#ifndef XLB_MAX_BACKENDS
#define XLB_MAX_BACKENDS 4096
#endif

/* Next-hop MACs for backends that are not on-link (encapsulated and NAT traffic). */
#ifndef XLB_MAX_NEXTHOPS
#define XLB_MAX_NEXTHOPS 16
#endif

/* Flows in the per-CPU LRU connection table (the key space is shared, values are per CPU). */
#ifndef XLB_CT_SIZE
#define XLB_CT_SIZE 65536
#endif

/* NAT reverse entries (one per NAT flow; shared by all CPUs so replies may land anywhere). */
#ifndef XLB_NAT_SIZE
#define XLB_NAT_SIZE 65536
#endif

/* map_flags of the LRU maps (conntrack_v4, conntrack, nat_rev): 0, or BPF_F_NO_COMMON_LRU (2). */
#ifndef XLB_LRU_FLAGS
#define XLB_LRU_FLAGS 0
#endif

/* Local addresses the decapsulator accepts tunnels for. */
#ifndef XLB_MAX_DECAP_ADDRS
#define XLB_MAX_DECAP_ADDRS 64
#endif

/* --- parsing limits ------------------------------------------------------------------------- */

/* IPv6 extension headers walked before a packet counts as XLB_DROP_EXT_CHAIN (and passes). */
#ifndef XLB_MAX_IPV6_EXT
#define XLB_MAX_IPV6_EXT 4
#endif

/* --- backend selection ---------------------------------------------------------------------- */

/*
 * A new flow whose table entry is a draining backend tries the next table positions, up to
 * this many in all, before it is dropped as XLB_DROP_NO_BACKEND. Maglev interleaves backends,
 * so the next position is almost always another backend.
 */
#ifndef XLB_DRAIN_PROBES
#define XLB_DRAIN_PROBES 4
#endif

/* Seeds of the flow hashes (Linux jhash); flow-hash.ts must use the same. */
#ifndef XLB_HASH_SEED
#define XLB_HASH_SEED 0x7862c0deU
#endif
#ifndef XLB_NAT_HASH_SEED
#define XLB_NAT_HASH_SEED 0x6e617470U
#endif

/* --- NAT ------------------------------------------------------------------------------------ */

/* Candidate source ports tried for a new NAT flow before XLB_DROP_NAT_PORTS_EXHAUSTED. */
#ifndef XLB_NAT_PROBES
#define XLB_NAT_PROBES 8
#endif

/* Defaults of the nat_port_min / nat_port_max globals (host order, inclusive). */
#ifndef XLB_NAT_PORT_MIN
#define XLB_NAT_PORT_MIN 1024
#endif
#ifndef XLB_NAT_PORT_MAX
#define XLB_NAT_PORT_MAX 65535
#endif

/* Default of nat_tcp_time_wait_ms: how long a closed TCP flow's NAT port stays reserved after
 * its last packet (Linux TCP_TIMEWAIT_LEN: the backend's socket lingers that long in TIME_WAIT). */
#ifndef XLB_NAT_TCP_TIME_WAIT_MS
#define XLB_NAT_TCP_TIME_WAIT_MS 60000
#endif

/* Most NAT source addresses (config nat_src_count). */
#define XLB_NAT_SRC_MAX 64

/* --- connection timeouts (defaults of the ct_*_timeout_ms globals) ------------------------ */

#ifndef XLB_CT_TCP_SYN_TIMEOUT_MS
#define XLB_CT_TCP_SYN_TIMEOUT_MS 30000 /* 30 s: only a SYN seen */
#endif
#ifndef XLB_CT_TCP_TIMEOUT_MS
#define XLB_CT_TCP_TIMEOUT_MS 3600000 /* 1 h: established (the LRU evicts earlier under load) */
#endif
#ifndef XLB_CT_TCP_CLOSING_TIMEOUT_MS
#define XLB_CT_TCP_CLOSING_TIMEOUT_MS 10000 /* 10 s: FIN or RST seen */
#endif
#ifndef XLB_CT_UDP_TIMEOUT_MS
#define XLB_CT_UDP_TIMEOUT_MS 30000 /* 30 s: UDP and everything else */
#endif

/* --- encapsulation (defaults of the load-time globals) --------------------------------------- */

#ifndef XLB_GUE_PORT
#define XLB_GUE_PORT 6080
#endif
/* Outer IPv4 source prefix for IPIP/GUE: 172.16.0.0/16 (host order), host part from the flow hash. */
#ifndef XLB_ENCAP_SRC_V4
#define XLB_ENCAP_SRC_V4 0xAC100000U
#endif
#ifndef XLB_ENCAP_SRC_V4_LEN
#define XLB_ENCAP_SRC_V4_LEN 16
#endif
/* Outer IPv6 source prefix: 100::/64 (RFC 6666 discard-only), host part from the flow hash. */
#ifndef XLB_ENCAP_SRC_V6_W0
#define XLB_ENCAP_SRC_V6_W0 0x01000000U
#endif
#ifndef XLB_ENCAP_SRC_V6_LEN
#define XLB_ENCAP_SRC_V6_LEN 64
#endif
/* GUE outer UDP source ports: XLB_GUE_SPORT_BASE | (flow hash & XLB_GUE_SPORT_MASK). */
#define XLB_GUE_SPORT_BASE 0xC000
#define XLB_GUE_SPORT_MASK 0x3FFF
/* TTL / hop limit of outer headers (and of the ICMP errors xlb sends). */
#define XLB_ENCAP_TTL 64

/* --- ICMP errors xlb sends (pckt_icmp.h) ------------------------------------------------------ */

/*
 * Most bytes of the client's packet an ICMP fragmentation needed / ICMPv6 packet too big
 * quotes: the ICMP datagram stays within 576 bytes (RFC 1812 §4.3.2.3) and the ICMPv6 one
 * within the IPv6 minimum MTU, 1280 (RFC 4443 §2.4). Shorter packets are quoted whole.
 */
#ifndef XLB_ICMP4_QUOTE_MAX
#define XLB_ICMP4_QUOTE_MAX 548
#endif
#ifndef XLB_ICMP6_QUOTE_MAX
#define XLB_ICMP6_QUOTE_MAX 1232
#endif
/* The smallest MTU an ICMP error may report (RFC 791): below it, too-big packets are dropped. */
#define XLB_IPV4_MIN_MTU 68

/* --- protocol constants vmlinux.h lacks (netaccel_consts.h has the rest) ---------------------- */

#define XLB_ETH_P_IPV6_BE bpf_htons(0x86DD)
#define XLB_IP_MF_BE bpf_htons(0x2000)
#define XLB_IP_DF_BE bpf_htons(0x4000)
#define XLB_IP_OFFSET_BE bpf_htons(0x1FFF)
#define XLB_IPV6_FRAG_OFFSET_BE bpf_htons(0xFFF8)
#define XLB_IPV6_FRAG_MF_BE bpf_htons(0x0001)

#define XLB_IPPROTO_HOPOPTS 0
#define XLB_IPPROTO_ICMP 1
#define XLB_IPPROTO_IPIP 4
#define XLB_IPPROTO_TCP 6
#define XLB_IPPROTO_UDP 17
#define XLB_IPPROTO_IPV6 41
#define XLB_IPPROTO_ROUTING 43
#define XLB_IPPROTO_FRAGMENT 44
#define XLB_IPPROTO_AH 51
#define XLB_IPPROTO_ICMPV6 58
#define XLB_IPPROTO_DSTOPTS 60

/* ICMP errors that quote the packet that caused them (RFC 792, RFC 4443). */
#define XLB_ICMP_DEST_UNREACH 3
#define XLB_ICMP_TIME_EXCEEDED 11
#define XLB_ICMP_FRAG_NEEDED 4 /* code of XLB_ICMP_DEST_UNREACH (RFC 1191) */
#define XLB_ICMPV6_DEST_UNREACH 1
#define XLB_ICMPV6_PKT_TOOBIG 2
#define XLB_ICMPV6_TIME_EXCEED 3

/* TCP flag bits in the 14th byte of the header. */
#define XLB_TCP_FIN 0x01
#define XLB_TCP_SYN 0x02
#define XLB_TCP_RST 0x04
#define XLB_TCP_ACK 0x10

/* GUE (draft-ietf-intarea-gue) header: version 0, no control bit, hlen 0; then proto, flags. */
#define XLB_GUE_HDR_LEN 4

#define XLB_NS_PER_MS 1000000ULL

#endif /* XLB_CONSTS_H */
