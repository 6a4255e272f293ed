/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by selftest.bpf.c and its TypeScript side (selftest.fixtures.ts): the layout of the
 * verdict counters. Plain fixed-size C types only; the TypeScript codec is checked against the
 * BTF of the compiled object, so a change here that is not made there fails a test.
 */
#ifndef SELFTEST_KERN_USER_H
#define SELFTEST_KERN_USER_H

/* Entries of the verdict_stats map: one per XDP verdict, indexed by enum xdp_action. */
#define SELFTEST_VERDICTS 5

/* Default of the drop_udp_port load-time global: UDP "discard" (RFC 863). 0 drops nothing. */
#ifndef SELFTEST_DEFAULT_DROP_PORT
#define SELFTEST_DEFAULT_DROP_PORT 9
#endif

/* Value of verdict_stats (per CPU): what the program returned this verdict for. */
struct selftest_counter {
	__u64 packets;
	__u64 bytes; /* from the Ethernet header to the end of the frame */
};

#endif /* SELFTEST_KERN_USER_H */
