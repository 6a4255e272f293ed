/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Build-time constants of the NetCRAQ node (override with make -C bpf DEFINES='-D...'). */
#ifndef CRAQ_CONSTS_H
#define CRAQ_CONSTS_H

/* Dirty (unacknowledged) versions a key keeps; the head answers RETRY beyond it. */
#ifndef CRAQ_MAX_DIRTY
#define CRAQ_MAX_DIRTY 4
#endif

/* Keys a node holds (craq_keys entries; each ~6.3 KB with the default CRAQ_MAX_DIRTY and CRAQ_REQ_RING). */
#ifndef CRAQ_MAX_KEYS
#define CRAQ_MAX_KEYS 4096
#endif

/*
 * At-most-once window: the requests of a key's last CRAQ_REQ_RING versions are recognised
 * (craq_key.reqs, 16 bytes each; README). The TypeScript codecs assume the default.
 */
#ifndef CRAQ_REQ_RING
#define CRAQ_REQ_RING 64
#endif

/* Bytes of the craq_commits ring buffer (a power of 2, a multiple of the page size). */
#ifndef CRAQ_COMMITS_BYTES
#define CRAQ_COMMITS_BYTES (1 << 20)
#endif

#define CRAQ_SLOTS (CRAQ_MAX_DIRTY + 1)
#define CRAQ_TTL 64

#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif

#endif /* CRAQ_CONSTS_H */
