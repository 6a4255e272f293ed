/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Constants of the Electrode offloads. Everything guarded by #ifndef is a build-time constant:
 * make -C bpf DEFINES='-DELECTRODE_RING_SIZE=4096 -DELECTRODE_QUORUM_WINDOW=4096'. TypeScript
 * reads the sizes from the object (map max_entries), never copies them by hand.
 */
#ifndef ELECTRODE_CONSTS_H
#define ELECTRODE_CONSTS_H

#include <bpf/bpf_endian.h>
#include "netaccel_consts.h"
#include "electrode_kern_user.h"

/*
 * Entries of the follower's log ring `el_log` (slot = op % size): how far the fast-ack
 * may run ahead of user space's drain before Prepares fall back to user space (RING_FULL).
 * 512 x 1392 bytes = 0.7 MiB per replica.
 */
#ifndef ELECTRODE_RING_SIZE
#define ELECTRODE_RING_SIZE 512
#endif

/* Entries of the leader's quorum bitsets `el_quorum` (slot = op % window). */
#ifndef ELECTRODE_QUORUM_WINDOW
#define ELECTRODE_QUORUM_WINDOW 1024
#endif

/* Replicas of a group (entries of `el_config`); the bitsets are 32 bits, indexes 0..30. */
#ifndef ELECTRODE_MAX_REPLICAS
#define ELECTRODE_MAX_REPLICAS 31
#endif

#if ELECTRODE_MAX_REPLICAS > 31
#error "ELECTRODE_MAX_REPLICAS: the quorum bitset holds 31 replicas (sender 0..30)"
#endif

/* Bytes of a Prepare's body a ring entry holds. */
#define ELECTRODE_MAX_BODY (PAXOS_MAX_MSG - PAXOS_HDR_LEN)

/* EtherType IPv6, network order (IPv4 is NA_ETH_P_IP_BE). */
#define EL_ETH_ALEN 6
#define EL_ETH_P_IPV6_BE bpf_htons(0x86DD)
#define EL_IPPROTO_UDP 17
#define EL_TTL 64

/* TC verdicts (vmlinux.h has no macros). */
#define EL_TC_ACT_OK 0
#define EL_TC_ACT_SHOT 2

/* Helper flags of bpf_l3/l4_csum_replace (uapi/linux/bpf.h macros). */
#define EL_F_PSEUDO_HDR (1ULL << 4)
#define EL_F_MARK_MANGLED_0 (1ULL << 5)

#endif /* ELECTRODE_CONSTS_H */
