// SPDX-License-Identifier: Apache-2.0
/*
 * craq-gen: the NetCRAQ benchmark's load generator (compiled at bench time by tools.ts). Runs
 * craq_gen of craq-bench-progs.bpf.o with BPF_PROG_TEST_RUN in live-frame mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel turns the request frame into xdp_frames and
 * transmits them out of <ifname> in batches (GEN_BATCH), without sockets. Run it inside the namespace
 * that owns <ifname>.
 *
 *   craq-gen <craq-bench-progs.bpf.o> <ifname> <seconds> <wkeys> <ring pin|-> <frame hex> [...]
 *
 * Up to 4 frames, sent in turn (a mix of reads and writes); WRITE frames cycle their key id over
 * <wkeys> consecutive ids and get a new request id each (a head that executes a request at most
 * once would answer a repeated id from its record; with CRAQ_GEN_ANONYMOUS=1 in the environment,
 * request id 0, which nodes do not record). <ring pin>: a pinned craq_commits ring buffer (the tail's) that a
 * thread drains while the generator runs (the scheduler's job in production; a full ring makes
 * the tail drop commits), or - for none.
 *
 * Prints one JSON line: {"frames": N, "seconds": S, "cpu_seconds": C, "ksoftirqd_seconds": K}:
 * frames handed to the program, the generator's run time, the CPU time of its thread (the whole
 * path of a frame runs in its softirq on veths) and of the ksoftirqd threads (the part deferred
 * to them; they also serve other tenants) over the same time.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define GEN_MAX 128
#define GEN_FRAMES 4
#define REPEAT_PER_CALL (1u << 13)
/*
 * Frames per live-frame batch (CRAQ_GEN_BATCH in the environment, 1..256). Each batch's frames,
 * and every frame they turn into on the way (a NetChain read at the head of four: 6 hops, a
 * write: 15), run in one NET_RX softirq; past netdev_budget (300 packets) the rest waits for
 * ksoftirqd while the next batch comes, and a veth ring that fills drops frames (a lost write
 * leaves its version dirty for the run). 16 frames stay under it; 64 amortise the batch's own
 * cost better and suit read-only runs (a lost read is only a read not answered).
 */
#define GEN_BATCH 16

struct gen_cfg {
	uint8_t frame[GEN_FRAMES][GEN_MAX];
	uint32_t len[GEN_FRAMES];
	uint32_t n;
	uint32_t wkeys;
	uint64_t req_base;
};

static volatile int draining = 1;
static volatile int drainer_up;

static int drop_commit(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static void *drain(void *arg)
{
	struct ring_buffer *rb = arg;

	ring_buffer__consume(rb);
	drainer_up = 1;
	while (draining)
		ring_buffer__poll(rb, 10);
	ring_buffer__consume(rb);
	return NULL;
}

static int unhex(const char *s, uint8_t *out, uint32_t *len)
{
	size_t n = strlen(s), i;

	if (n % 2 != 0 || n / 2 > GEN_MAX || n / 2 < 42)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	*len = (uint32_t)(n / 2);
	return 0;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/*
 * CPU time of the ksoftirqd threads, s (sum_exec_runtime from /proc/<pid>/schedstat): the part of
 * the path the kernel deferred to them (the rest runs in this thread's context: no
 * CONFIG_IRQ_TIME_ACCOUNTING here, so softirq time counts as the interrupted thread's).
 */
static double ksoftirqd_s(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	double total = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[64] = "";
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "ksoftirqd/", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/schedstat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			total += ns / 1e9;
		fclose(f);
	}
	closedir(d);
	return total;
}

int main(int argc, char **argv)
{
	struct gen_cfg cfg = { 0 };
	struct xdp_md ctx = { 0 };
	struct bpf_object *obj;
	struct bpf_program *prog, *p;
	unsigned long long frames = 0;
	double seconds, t0, t, cpu0, soft0;
	size_t i;
	uint32_t key = 0, batch = GEN_BATCH;
	int ifindex, err, map_fd;
	struct ring_buffer *rb = NULL;
	pthread_t drainer;

	if (argc < 7 || argc > 6 + GEN_FRAMES) {
		fprintf(stderr, "usage: craq-gen <craq-bench-progs.bpf.o> <ifname> <seconds> <wkeys> <ring pin|-> <frame hex> [... up to %d frames]\n", GEN_FRAMES);
		return 2;
	}
	cfg.wkeys = (uint32_t)atoi(argv[4]);
	{
		struct timespec rt;

		/* request ids of this run's writes: the start time in ns + sequence; fewer than one frame
		 * per ns is sent, so no id repeats one of an earlier run */
		clock_gettime(CLOCK_REALTIME, &rt);
		cfg.req_base = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
		/* CRAQ_GEN_ANONYMOUS=1: writes carry request id 0, which no node records (craq_key.reqs) */
		if (getenv("CRAQ_GEN_ANONYMOUS") && strcmp(getenv("CRAQ_GEN_ANONYMOUS"), "1") == 0)
			cfg.req_base = 0;
	}
	for (i = 6; i < (size_t)argc; i++) {
		if (unhex(argv[i], cfg.frame[cfg.n], &cfg.len[cfg.n])) {
			fprintf(stderr, "craq-gen: frame %zu: expected 42..%d bytes of hex\n", i - 5, GEN_MAX);
			return 2;
		}
		cfg.n++;
	}
	if (strcmp(argv[5], "-") != 0) {
		int ring_fd = bpf_obj_get(argv[5]);

		rb = ring_fd < 0 ? NULL : ring_buffer__new(ring_fd, drop_commit, NULL, NULL);
		if (!rb || pthread_create(&drainer, NULL, drain, rb)) {
			fprintf(stderr, "craq-gen: ring buffer %s: %s\n", argv[5], strerror(errno));
			return 1;
		}
		/* the drainer runs before the first write: commits the tail cannot record are dropped,
		 * and the dirty versions they leave make the head refuse that key's writes for the run */
		while (!drainer_up) {
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
		}
	}
	if (getenv("CRAQ_GEN_BATCH"))
		batch = (uint32_t)atoi(getenv("CRAQ_GEN_BATCH"));
	if (batch < 1 || batch > 256) {
		fprintf(stderr, "craq-gen: CRAQ_GEN_BATCH: expected 1..256\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[2]);
	seconds = atof(argv[3]);
	if (ifindex == 0 || seconds <= 0) {
		fprintf(stderr, "craq-gen: bad interface %s or duration %s\n", argv[2], argv[3]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "craq-gen: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "craq_gen");
	if (!prog) {
		fprintf(stderr, "craq-gen: no program craq_gen in %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == prog);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "craq-gen: load: %s\n", strerror(-err));
		return 1;
	}
	map_fd = bpf_object__find_map_fd_by_name(obj, "gen_config");
	if (map_fd < 0 || bpf_map_update_elem(map_fd, &key, &cfg, BPF_ANY)) {
		fprintf(stderr, "craq-gen: gen_config: %s\n", strerror(errno));
		return 1;
	}
	/* the test run's frame is GEN_MAX bytes; craq_gen trims it to the request */
	ctx.data_end = GEN_MAX;
	ctx.ingress_ifindex = (uint32_t)ifindex;
	soft0 = ksoftirqd_s();
	cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	t0 = now();
	do {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = cfg.frame[0],
			.data_size_in = GEN_MAX,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = REPEAT_PER_CALL,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = batch);

		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
		if (err) {
			fprintf(stderr, "craq-gen: test run: %s\n", strerror(errno));
			return 1;
		}
		frames += REPEAT_PER_CALL;
		t = now();
	} while (t - t0 < seconds);
	cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	soft0 = ksoftirqd_s() - soft0;
	if (rb) {
		draining = 0;
		pthread_join(drainer, NULL);
		ring_buffer__free(rb);
	}
	printf("{\"frames\": %llu, \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"ksoftirqd_seconds\": %.6f}\n", frames, t - t0, cpu0, soft0);
	bpf_object__close(obj);
	return 0;
}
