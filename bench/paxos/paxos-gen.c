// SPDX-License-Identifier: Apache-2.0
/*
 * paxos-gen: the Paxos benchmark's closed-loop load generator (compiled at bench time by
 * tools.ts with gcc). <clients> clients in one process on one UDP socket, each with one PUT
 * outstanding at a time (VR's client model: the replicas' client table executes a client's
 * request ids at most once, in order), so the process keeps <clients> requests in flight.
 * Wire format v1 (libs/protocol/src/paxos; struct paxos_hdr of bpf/electrode's
 * electrode_kern_user.h), the operation is libs/paxos' key-value PUT (kind 2, key_len u16, key,
 * value_len u16, value): the same bytes the Node KvClient sends.
 *
 *   paxos-gen <replicas a.b.c.d:port,...> <clients> <warmup ms> <window ms> <tag>
 *             <client id base> <first request id> <retry ms> <timeout ms> <history file|->
 *             [<rate op/s>]
 *
 * Client c has id <client id base> + c (the base's low 32 bits are 0: a reply is routed by the
 * low half) and request ids from <first request id> up (above every id an earlier run of the
 * same ids used). Client c's i-th put writes key "<tag>/p<c/2>/k<i%4>" (clients 2k and 2k+1
 * share their keys, so writes race) with a 32-byte value naming c and i. A request goes to the
 * leader the client believes current; NOT_LEADER redirects it; no reply within the client's
 * re-send timeout re-sends the same request id, the first time to that leader (a lost datagram),
 * later to every replica (the leader may be gone: VR's client); <timeout ms> gives up (outcome
 * unknown) and the client goes on with its next request. The re-send timeout adapts to the
 * latency measured, as libs/paxos' PaxosClient (rto.ts): RFC 6298's estimator (srtt + 4 x
 * rttvar), Karn's rule (a put re-sent gives no sample), doubling back-off until the next sample,
 * within [<retry ms>, GEN_RETRY_MAX_MS bounded by <timeout ms>]. The estimator is the
 * generator's, one for all its clients (they talk to one group over one path: every answered
 * put is a sample of the same latency, so it is current even when each of 512-2048 paced
 * clients carries a put now and then; per client, most would start each put at the floor); the
 * back-off and Karn's rule are per client (its put's own re-sends). The floor is <retry ms>, so
 * it never re-sends earlier than the fixed timer did; a group answering slower than that
 * (queued, not lost) is no longer sent every put again by every client. After <warmup ms> + <window ms> no request starts; the run
 * ends when every client's last request was answered or gave up.
 *
 * Paced (open-loop) mode, <rate op/s> > 0: puts arrive on a fixed schedule, arrival k at
 * t0 + k / rate (warm-up included, none at or after the window's end), whatever the replicas
 * answer; an arrival is started by an idle client, or waits in the generator (the backlog) until
 * one is idle: <clients> bounds the puts in flight, not the load. A put's latency runs from its
 * arrival (its intended send time), not from when a client could send it, so queueing in the
 * backlog is counted (no coordinated omission). ops and the percentiles are of the puts that
 * arrived inside the window and were answered (while the run drains); completed: the answers
 * inside the window (the load carried); offered: the arrivals inside the window; maxBacklog;
 * unstarted: arrivals no client could start within <timeout ms> after the window (abandoned);
 * genLateP99Ms / genLateMaxMs: the generator's own lateness per start inside the window (from
 * when the arrival was due and a client idle to its send: its scheduling, not the replicas').
 * Paced, it asks for SCHED_FIFO priority 1 (realtime: 1 in the report when granted): the
 * schedule must not wait behind the replicas and other tenants on a shared machine. It sleeps
 * in ppoll between events (a few µs of CPU per put), and the kernel's RT throttling bounds it.
 * The history's invocation is the actual send (an earlier one would weaken the check).
 *
 * Prints one JSON line: ops and latency percentiles of the puts sent and answered inside the
 * window (a log-linear histogram: exact below 128 us, then 64 buckets per power of two, <= 1.6%
 * error; a percentile is its bucket's upper bound), every put answered (acked), unknown (gave
 * up), errors (ERROR replies), retransmits, redirects, the process's CPU time (getrusage) and
 * context switches over the run, and its socket calls. <history file>: one line per put,
 * "<invoke ns> <complete ns|-> <key> <value>" on CLOCK_MONOTONIC (for the linearizability check).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include "electrode_kern_user.h"

#define GEN_MAX_CLIENTS 4096
#define GEN_MAX_REPLICAS 31
#define GEN_BATCH 64
#define GEN_MSG_MAX 160 /* a request: 32 header + 18 + op (1 + 2 + key <= 80 + 2 + 32) */
#define GEN_KEY_MAX 80
#define GEN_VALUE_LEN 32
#define REPLY_FIXED 19 /* client_id u64, request_id u64, status u8, result_len u16 */
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 64)
#define RECV_TIMEOUT_US 5000 /* the longest a blocked receive waits before timers are checked */
#define GEN_MAX_RATE 1000000
#ifndef GEN_RETRY_MAX_MS
#define GEN_RETRY_MAX_MS 2000 /* the re-send timeout's ceiling (back-off included), as PaxosClient's default */
#endif

struct client {
	uint64_t id;
	uint64_t req;     /* the outstanding request's id */
	uint32_t i;       /* the outstanding put's index (key and value) */
	uint8_t leader;   /* the replica it believes is the leader */
	uint8_t active;   /* a request outstanding */
	uint16_t len;     /* bytes of msg */
	uint32_t view;    /* the highest view a reply named (the request's hint) */
	int64_t started;  /* ns: the put's invocation */
	int64_t sent_at;  /* ns: its last (re)transmission */
	uint8_t backoff;  /* the timeout is shifted left this much (re-sends since the last sample) */
	uint8_t resends;  /* the timer's re-sends of the outstanding put (0: its reply is a sample) */
	uint32_t hist;    /* index of its history record */
	uint8_t msg[GEN_MSG_MAX];
};

struct record {
	int64_t invoke;
	int64_t complete; /* -1: unknown */
	uint32_t client;
	uint32_t i;
};

struct gen {
	struct sockaddr_in replicas[GEN_MAX_REPLICAS];
	uint32_t n;
	struct client *clients;
	uint32_t nclients;
	const char *tag;
	int64_t start, end, retry, retry_max, timeout; /* ns */
	int64_t srtt, rttvar; /* ns: the smoothed send-to-reply latency (-1 before a sample), its mean deviation */
	int fd;
	uint64_t hist[HIST_BUCKETS];
	uint64_t ops, acked, unknown, errors, retransmits, redirects, sendcalls, recvcalls, sent;
	struct record *recs;
	uint32_t nrecs, maxrecs;
	/* the send batch */
	struct mmsghdr out[GEN_BATCH];
	struct iovec outv[GEN_BATCH];
	uint32_t nout;
	/* paced mode (rate > 0): arrival k at t0 + k * 1e9 / rate, for k < arrivals */
	double rate;
	int64_t t0;
	uint64_t arrivals, started, offered, completed, max_backlog, unstarted;
	uint32_t *idle; /* a stack of idle clients */
	uint32_t nidle;
	int64_t idle_since; /* since when some client is idle (the stack last went from empty to not) */
	uint64_t late_hist[HIST_BUCKETS], nlate; /* the generator's own lateness per start (below) */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int k = 7; k >= 0; k--, v >>= 8)
		p[k] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int k = 0; k < 8; k++)
		v = v << 8 | p[k];
	return v;
}

static int key_of(const struct gen *g, uint32_t c, uint32_t i, char *out)
{
	return snprintf(out, GEN_KEY_MAX + 1, "%s/p%u/k%u", g->tag, c >> 1, i % 4);
}

/* "<c>-<i>-vvv..." cut to 32 bytes, as ns-clients.ts' Node clients wrote it */
static void value_of(uint32_t c, uint32_t i, char *out)
{
	int k = snprintf(out, GEN_VALUE_LEN + 1, "%u-%u-", c, i);

	for (; k < GEN_VALUE_LEN; k++)
		out[k] = 'v';
	out[GEN_VALUE_LEN] = '\0';
}

/* Builds client c's REQUEST for its put i with request id req. */
static void build(struct gen *g, struct client *cl, uint32_t c)
{
	struct paxos_hdr *h = (struct paxos_hdr *)cl->msg;
	uint8_t *b = cl->msg + PAXOS_HDR_LEN;
	char key[GEN_KEY_MAX + 1], value[GEN_VALUE_LEN + 1];
	uint16_t klen = (uint16_t)key_of(g, c, cl->i, key), oplen = (uint16_t)(1 + 2 + klen + 2 + GEN_VALUE_LEN);

	value_of(c, cl->i, value);
	memset(h, 0, sizeof(*h));
	h->magic = htonl(PAXOS_MAGIC);
	h->version = PAXOS_VERSION;
	h->type = PAXOS_REQUEST;
	h->sender = PAXOS_CLIENT_SENDER;
	h->view = htonl(cl->view);
	h->body_len = htonl(18u + oplen);
	put_be64(b, cl->id);
	put_be64(b + 8, cl->req);
	put_be16(b + 16, oplen);
	b[18] = 2; /* KvKind.Put */
	put_be16(b + 19, klen);
	memcpy(b + 21, key, klen);
	put_be16(b + 21 + klen, GEN_VALUE_LEN);
	memcpy(b + 23 + klen, value, GEN_VALUE_LEN);
	cl->len = (uint16_t)(PAXOS_HDR_LEN + 18 + oplen);
}

static void flush(struct gen *g)
{
	uint32_t done = 0;

	while (done < g->nout) {
		int k = sendmmsg(g->fd, g->out + done, g->nout - done, 0);

		g->sendcalls++;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* a full socket buffer or an unreachable replica: the retry timer re-sends */
			break;
		}
		done += (uint32_t)k;
	}
	g->sent += done;
	g->nout = 0;
}

static void queue(struct gen *g, struct client *cl, uint32_t replica)
{
	struct mmsghdr *m;

	if (g->nout == GEN_BATCH)
		flush(g);
	m = &g->out[g->nout];
	g->outv[g->nout] = (struct iovec){ .iov_base = cl->msg, .iov_len = cl->len };
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &g->replicas[replica];
	m->msg_hdr.msg_namelen = sizeof(g->replicas[replica]);
	m->msg_hdr.msg_iov = &g->outv[g->nout];
	m->msg_hdr.msg_iovlen = 1;
	g->nout++;
}

/* Client c's put starts: intended is its arrival (closed loop: now), the latency's origin. */
static void start_put(struct gen *g, uint32_t c, int64_t intended, int64_t now)
{
	struct client *cl = &g->clients[c];

	build(g, cl, c);
	cl->active = 1;
	cl->started = intended;
	cl->sent_at = now;
	cl->resends = 0;
	cl->hist = g->nrecs++;
	g->recs[cl->hist] = (struct record){ .invoke = now, .complete = -1, .client = c, .i = cl->i };
	queue(g, cl, cl->leader);
}

static unsigned bucket_of(uint64_t us);

/* The client's re-send timeout now (ns): <retry> until a sample, then srtt + 4 x rttvar, times
 * its back-off, within [retry, retry_max] (rto.ts' RetransmitTimeout). */
static int64_t rto_estimate(const struct gen *g)
{
	int64_t e = g->srtt < 0 ? g->retry : g->srtt + 4 * g->rttvar;

	return e < g->retry ? g->retry : e > g->retry_max ? g->retry_max : e;
}

static int64_t rto_of(const struct gen *g, const struct client *cl)
{
	int64_t e = rto_estimate(g);

	return e > g->retry_max >> cl->backoff ? g->retry_max : e << cl->backoff;
}

/* A latency sample (ns from client cl's put's only send to its reply): RFC 6298 (alpha 1/8,
 * beta 1/4); it ends cl's back-off. */
static void rto_sample(struct gen *g, struct client *cl, int64_t ns)
{
	int64_t d;

	cl->backoff = 0;
	if (g->srtt < 0) {
		g->srtt = ns;
		g->rttvar = ns / 2;
		return;
	}
	d = g->srtt > ns ? g->srtt - ns : ns - g->srtt;
	g->rttvar = (3 * g->rttvar + d) / 4;
	g->srtt = (7 * g->srtt + ns) / 8;
}

/* Paced mode: the intended send time of arrival k. */
static int64_t arrival_at(const struct gen *g, uint64_t k)
{
	return g->t0 + (int64_t)((double)k * 1e9 / g->rate);
}

/* Paced mode: the arrivals due by now (those at or before now, all of them after the window). */
static uint64_t arrivals_due(const struct gen *g, int64_t now)
{
	uint64_t k;

	if (now < g->t0)
		return 0;
	k = (uint64_t)((double)(now - g->t0) * g->rate / 1e9) + 1;
	while (k > 0 && arrival_at(g, k - 1) > now)
		k--;
	while (k < g->arrivals && arrival_at(g, k) <= now)
		k++;
	return k < g->arrivals ? k : g->arrivals;
}

/*
 * Paced mode: idle clients start the due arrivals in order; the rest wait (the backlog). Past
 * the window + timeout, arrivals not started are abandoned.
 */
static void release(struct gen *g, int64_t now)
{
	uint64_t due = arrivals_due(g, now);

	while (g->started < due && g->nidle > 0 && g->nrecs < g->maxrecs) {
		int64_t at = arrival_at(g, g->started), ready = at > g->idle_since ? at : g->idle_since;

		/* the generator's lateness: from when the arrival was due and a client idle, to its send
		 * (its own scheduling, not the replicas' backlog); counted inside the window */
		if (at >= g->start && at < g->end) {
			g->late_hist[bucket_of((uint64_t)(now > ready ? now - ready : 0) / 1000)]++;
			g->nlate++;
		}
		start_put(g, g->idle[--g->nidle], at, now);
		g->started++;
	}
	if (due - g->started > g->max_backlog)
		g->max_backlog = due - g->started;
	if (g->started < g->arrivals && now >= g->end + g->timeout) {
		g->unstarted += g->arrivals - g->started;
		g->started = g->arrivals;
	}
}

/* Client c is done with its put: closed loop, it starts the next unless the window is over;
 * paced, it goes idle and takes a due arrival if one waits. */
static void next(struct gen *g, uint32_t c, int64_t now)
{
	struct client *cl = &g->clients[c];

	cl->active = 0;
	if (g->rate > 0) {
		if (g->nidle == 0)
			g->idle_since = now;
		g->idle[g->nidle++] = c;
		release(g, now);
		return;
	}
	if (now >= g->end || g->nrecs == g->maxrecs)
		return;
	start_put(g, c, now, now);
}

static unsigned bucket_of(uint64_t us)
{
	unsigned msb, shift;

	if (us < 2 * HIST_SUB)
		return (unsigned)us;
	msb = 63u - (unsigned)__builtin_clzll(us);
	shift = msb - 6;
	if (shift >= 63)
		return HIST_BUCKETS - 1;
	return shift * HIST_SUB + (unsigned)(us >> shift);
}

/* The largest value (us) bucket b holds. */
static uint64_t bucket_top(unsigned b)
{
	unsigned shift;

	if (b < 2 * HIST_SUB)
		return b;
	shift = b / HIST_SUB - 1;
	return (((uint64_t)(b - shift * HIST_SUB) + 1) << shift) - 1;
}

static double hist_percentile_ms(const uint64_t *hist, uint64_t n, double q)
{
	uint64_t rank, seen = 0;

	if (n == 0)
		return 0;
	rank = (uint64_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= rank)
			return (double)bucket_top(b) / 1000.0;
	}
	return 0;
}

static double percentile_ms(const struct gen *g, double q)
{
	return hist_percentile_ms(g->hist, g->ops, q);
}

static void on_reply(struct gen *g, const uint8_t *d, size_t len, int64_t now)
{
	const struct paxos_hdr *h = (const struct paxos_hdr *)d;
	const uint8_t *b = d + PAXOS_HDR_LEN;
	struct client *cl;
	uint64_t id, req;
	uint32_t c;
	uint16_t rlen;

	if (len < PAXOS_HDR_LEN + REPLY_FIXED || ntohl(h->magic) != PAXOS_MAGIC || h->version != PAXOS_VERSION ||
	    h->type != PAXOS_REPLY || ntohl(h->body_len) != len - PAXOS_HDR_LEN)
		return;
	id = get_be64(b);
	req = get_be64(b + 8);
	rlen = (uint16_t)(b[17] << 8 | b[18]);
	if (PAXOS_HDR_LEN + REPLY_FIXED + (size_t)rlen != len)
		return;
	c = (uint32_t)id;
	if (c >= g->nclients)
		return;
	cl = &g->clients[c];
	if (cl->id != id || !cl->active || cl->req != req)
		return; /* a late duplicate */
	if (ntohl(h->view) > cl->view)
		cl->view = ntohl(h->view);
	if (b[16] == 1) { /* NOT_LEADER: the result is the leader's index */
		if (rlen == 1 && b[19] < g->n && b[19] != cl->leader) {
			cl->leader = b[19];
			cl->sent_at = now;
			g->redirects++;
			queue(g, cl, cl->leader);
		}
		return;
	}
	if (h->sender < g->n)
		cl->leader = h->sender;
	/* Karn's rule: after a re-send the reply may answer any copy; a redirect restarted sent_at */
	if (cl->resends == 0)
		rto_sample(g, cl, now - cl->sent_at);
	if (b[16] == 0) {
		g->acked++;
		g->recs[cl->hist].complete = now;
		if (now >= g->start && now <= g->end)
			g->completed++;
		/* closed loop: sent and answered inside the window; paced: arrived inside it */
		if (cl->started >= g->start && (g->rate > 0 ? cl->started < g->end : now <= g->end)) {
			g->ops++;
			g->hist[bucket_of((uint64_t)(now - cl->started) / 1000)]++;
		}
	} else {
		/* ERROR: the state machine refused the put, no effect: out of the history */
		g->errors++;
		g->recs[cl->hist].invoke = -1;
	}
	cl->req++;
	cl->i++;
	next(g, c, now);
}

/* Re-sends after the client's timeout without a reply (first to its leader, then to every
 * replica, doubling the timeout); gives up after timeout ns. */
static void timers(struct gen *g, int64_t now)
{
	for (uint32_t c = 0; c < g->nclients; c++) {
		struct client *cl = &g->clients[c];

		if (!cl->active)
			continue;
		if (now - g->recs[cl->hist].invoke >= g->timeout) { /* from its first send */
			g->unknown++;
			cl->req++;
			cl->i++;
			next(g, c, now);
		} else if (now - cl->sent_at >= rto_of(g, cl)) {
			cl->sent_at = now;
			g->retransmits++;
			if (rto_of(g, cl) < g->retry_max)
				cl->backoff++;
			if (++cl->resends == 1) {
				queue(g, cl, cl->leader);
				continue;
			}
			for (uint32_t r = 0; r < g->n; r++)
				queue(g, cl, r);
		}
	}
}

static int any_active(const struct gen *g)
{
	if (g->rate > 0 && g->started < g->arrivals)
		return 1;
	for (uint32_t c = 0; c < g->nclients; c++)
		if (g->clients[c].active)
			return 1;
	return 0;
}

static int parse_replicas(struct gen *g, char *s)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *colon = strrchr(tok, ':');
		struct sockaddr_in *a = &g->replicas[g->n];

		if (!colon || g->n == GEN_MAX_REPLICAS)
			return -1;
		*colon = '\0';
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, tok, &a->sin_addr) != 1 || a->sin_port == 0)
			return -1;
		g->n++;
	}
	return g->n > 0 ? 0 : -1;
}

static int write_history(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	char key[GEN_KEY_MAX + 1], value[GEN_VALUE_LEN + 1];

	if (!f)
		return -1;
	for (uint32_t k = 0; k < g->nrecs; k++) {
		const struct record *r = &g->recs[k];

		if (r->invoke < 0)
			continue;
		key_of(g, r->client, r->i, key);
		value_of(r->client, r->i, value);
		if (r->complete < 0)
			fprintf(f, "%" PRId64 " - %s %s\n", r->invoke, key, value);
		else
			fprintf(f, "%" PRId64 " %" PRId64 " %s %s\n", r->invoke, r->complete, key, value);
	}
	return fclose(f);
}

static int64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	static struct gen g;
	static uint8_t in[GEN_BATCH][PAXOS_MAX_MSG];
	struct mmsghdr msgs[GEN_BATCH];
	struct iovec iov[GEN_BATCH];
	struct timeval tv = { 0, RECV_TIMEOUT_US };
	struct rusage ru0, ru1;
	int64_t t0, t1, cpu0, warmup, window, next_timers;
	uint64_t base, first;
	int buf = 4 << 20, realtime = 0;

	if (argc != 11 && argc != 12) {
		fprintf(stderr, "usage: paxos-gen <replicas a.b.c.d:port,...> <clients> <warmup ms> <window ms> <tag> <client id base> <first request id> <retry ms> <timeout ms> <history file|-> [<rate op/s>]\n");
		return 2;
	}
	if (parse_replicas(&g, argv[1])) {
		fprintf(stderr, "paxos-gen: replicas: expected a.b.c.d:port[,...] (at most %d), got %s\n", GEN_MAX_REPLICAS, argv[1]);
		return 2;
	}
	g.nclients = (uint32_t)strtoul(argv[2], NULL, 10);
	warmup = strtoll(argv[3], NULL, 10);
	window = strtoll(argv[4], NULL, 10);
	g.tag = argv[5];
	base = strtoull(argv[6], NULL, 0);
	first = strtoull(argv[7], NULL, 0);
	g.retry = strtoll(argv[8], NULL, 10) * 1000000;
	g.timeout = strtoll(argv[9], NULL, 10) * 1000000;
	g.srtt = -1;
	g.retry_max = (int64_t)GEN_RETRY_MAX_MS * 1000000;
	if (g.retry_max > g.timeout)
		g.retry_max = g.timeout;
	if (g.retry_max < g.retry)
		g.retry_max = g.retry;
	g.rate = argc == 12 ? strtod(argv[11], NULL) : 0;
	if (g.nclients < 1 || g.nclients > GEN_MAX_CLIENTS || warmup < 0 || window < 1 || g.retry < 1 || g.timeout < g.retry ||
	    (uint32_t)base != 0 || first < 1 || strlen(g.tag) > GEN_KEY_MAX - 24 || strchr(g.tag, ' ') || !(g.rate >= 0 && g.rate <= GEN_MAX_RATE)) {
		fprintf(stderr, "paxos-gen: bad arguments (clients 1..%d, window >= 1 ms, 1 <= retry <= timeout, a base with its low 32 bits 0, first request id >= 1, a tag of <= %d bytes without spaces, a rate of 0 (closed loop) to %d op/s)\n",
			GEN_MAX_CLIENTS, GEN_KEY_MAX - 24, GEN_MAX_RATE);
		return 2;
	}
	/* room for 100,000 puts a second (far above what a group answers here); beyond it clients stop */
	if (warmup + window > 600000) {
		fprintf(stderr, "paxos-gen: warmup + window above 600 s\n");
		return 2;
	}
	g.maxrecs = g.nclients + (uint32_t)((warmup + window) * 100) + 1024;
	if (g.rate > 0) {
		/* arrivals k with k / rate < warmup + window */
		g.arrivals = (uint64_t)ceil((double)(warmup + window) * g.rate / 1000.0);
		g.maxrecs = (uint32_t)g.arrivals + 1024;
	}
	g.idle = calloc(g.nclients, sizeof(*g.idle));
	g.clients = calloc(g.nclients, sizeof(*g.clients));
	g.recs = calloc(g.maxrecs, sizeof(*g.recs));
	g.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!g.clients || !g.recs || !g.idle || g.fd < 0 || setsockopt(g.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    setsockopt(g.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) || setsockopt(g.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		fprintf(stderr, "paxos-gen: setup: %s\n", strerror(errno));
		return 1;
	}
	for (int k = 0; k < GEN_BATCH; k++) {
		iov[k] = (struct iovec){ .iov_base = in[k], .iov_len = sizeof(in[k]) };
		memset(&msgs[k], 0, sizeof(msgs[k]));
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
	}
	getrusage(RUSAGE_SELF, &ru0);
	cpu0 = cpu_us();
	t0 = now_ns();
	g.t0 = t0;
	g.idle_since = t0;
	g.start = t0 + warmup * 1000000;
	g.end = g.start + window * 1000000;
	if (g.rate > 0) {
		/* the arrivals inside the window: k in [ceil(warmup * rate), arrivals) */
		g.offered = g.arrivals - (uint64_t)ceil((double)warmup * g.rate / 1000.0);
	}
	for (uint32_t c = g.nclients; c-- > 0;) {
		g.clients[c].id = base + c;
		g.clients[c].req = first;
		if (g.rate > 0)
			g.idle[g.nidle++] = c; /* client 0 on top */
		else
			start_put(&g, c, t0, t0);
	}
	if (g.rate > 0) {
		struct sched_param sp = { .sched_priority = 1 };

		realtime = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
		release(&g, t0);
	}
	flush(&g);
	next_timers = t0 + g.retry / 4;
	while (any_active(&g)) {
		int k, flags = MSG_WAITFORONE;
		int64_t now;

		if (g.rate > 0) {
			/* paced: sleep until a datagram, the next arrival a client can take, or the timers */
			int64_t wake = next_timers, at = now_ns();
			struct pollfd pfd = { .fd = g.fd, .events = POLLIN };
			struct timespec ts;

			if (g.started < g.arrivals && g.nidle > 0 && arrival_at(&g, g.started) < wake)
				wake = arrival_at(&g, g.started);
			if (g.started < g.arrivals && g.end + g.timeout < wake)
				wake = g.end + g.timeout;
			wake = wake > at ? wake - at : 0;
			ts = (struct timespec){ .tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000 };
			if (wake > 0) {
				g.recvcalls++;
				if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR) {
					fprintf(stderr, "paxos-gen: ppoll: %s\n", strerror(errno));
					return 1;
				}
			}
			flags = MSG_DONTWAIT;
		}
		k = recvmmsg(g.fd, msgs, GEN_BATCH, flags, NULL);
		now = now_ns();

		g.recvcalls++;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED) {
			fprintf(stderr, "paxos-gen: recvmmsg: %s\n", strerror(errno));
			return 1;
		}
		for (int j = 0; j < k; j++)
			on_reply(&g, in[j], msgs[j].msg_len, now);
		if (g.rate > 0)
			release(&g, now);
		if (now >= next_timers) {
			timers(&g, now);
			next_timers = now + g.retry / 4;
		}
		flush(&g);
	}
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru1);
	if (strcmp(argv[10], "-") != 0 && write_history(&g, argv[10])) {
		fprintf(stderr, "paxos-gen: history %s: %s\n", argv[10], strerror(errno));
		return 1;
	}
	printf("{\"ops\":%" PRIu64 ",\"seconds\":%.6f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"acked\":%" PRIu64 ",\"unknown\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"retransmits\":%" PRIu64 ",\"redirects\":%" PRIu64 ",\"puts\":%u,\"cpuUs\":%" PRId64
	       ",\"wakeups\":%ld,\"sendCalls\":%" PRIu64 ",\"recvCalls\":%" PRIu64 ",\"datagramsSent\":%" PRIu64 ",\"runSeconds\":%.6f"
	       ",\"rate\":%.3f,\"completed\":%" PRIu64 ",\"offered\":%" PRIu64 ",\"maxBacklog\":%" PRIu64 ",\"unstarted\":%" PRIu64
	       ",\"genLateP99Ms\":%.3f,\"genLateMaxMs\":%.3f,\"realtime\":%d}\n",
	       g.ops, (double)window / 1000.0, percentile_ms(&g, 0.5), percentile_ms(&g, 0.99), g.acked, g.unknown, g.errors,
	       g.retransmits, g.redirects, g.nrecs, cpu_us() - cpu0, (ru1.ru_nvcsw + ru1.ru_nivcsw) - (ru0.ru_nvcsw + ru0.ru_nivcsw),
	       g.sendcalls, g.recvcalls, g.sent, (double)(t1 - t0) / 1e9, g.rate, g.completed, g.offered, g.max_backlog, g.unstarted,
	       hist_percentile_ms(g.late_hist, g.nlate, 0.99), hist_percentile_ms(g.late_hist, g.nlate, 1.0), realtime);
	return 0;
}
