/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Constants shared by netaccel's BPF programs. vmlinux.h carries the kernel's types and enums
 * but no macros, so the protocol numbers we need are defined here, big-endian ones precomputed.
 * Values guarded by #ifndef may be overridden at build time: make -C bpf DEFINES='-DNAME=value'.
 */
#ifndef NETACCEL_CONSTS_H
#define NETACCEL_CONSTS_H

#include <bpf/bpf_endian.h>

/* VLAN tags (802.1Q / 802.1ad) the Ethernet parser skips before giving up on a packet. */
#ifndef NETACCEL_MAX_VLAN_DEPTH
#define NETACCEL_MAX_VLAN_DEPTH 2
#endif

/* EtherTypes, network byte order. */
#define NA_ETH_P_IP_BE bpf_htons(0x0800)
#define NA_ETH_P_8021Q_BE bpf_htons(0x8100)
#define NA_ETH_P_8021AD_BE bpf_htons(0x88A8)

/* IPv4 flags/fragment-offset field: "more fragments" and the offset, network byte order. */
#define NA_IP_MF_OFFSET_BE bpf_htons(0x3FFF)

/* ICMP types (RFC 792). */
#define NA_ICMP_ECHOREPLY 0
#define NA_ICMP_ECHO 8

#endif /* NETACCEL_CONSTS_H */
