// SPDX-License-Identifier: Apache-2.0
/*
 * xlb-gen: the UDP flood generator of the xlb benchmark (compiled at bench time by tools.ts).
 * Runs xdp_gen of bench-progs.bpf.o with BPF_PROG_TEST_RUN in live-frame mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES, kernel >= 5.18): the kernel turns the frame into real xdp_frames
 * and transmits them out of <ifname> (XDP_TX), in batches, without building socket buffers.
 * Run it inside the namespace that owns <ifname>.
 *
 *   xlb-gen <bench-progs.bpf.o> <ifname> <frame hex> <seconds> <flows> <sport base>
 *
 * Prints one JSON line: {"frames": N, "seconds": S, "cpu_ns": C, "prog_run_ns": R, "prog_runs": K}:
 * frames handed to the program; the generator thread's time on a CPU during the flood
 * (/proc/thread-self/schedstat: with the chain inline, every softirq its transmits raise runs in
 * its context, so this is the CPU time of the whole chain but what ksoftirqd took over); xdp_gen's
 * own run time and runs (counted only while BPF_ENABLE_STATS is on, else 0).
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define GEN_HDR_LEN 42
#define REPEAT_PER_CALL (1u << 18) /* frames per test-run call; ~10-100 ms */

struct gen_cfg {
	uint8_t hdr[GEN_HDR_LEN];
	uint16_t sport_base;
	uint32_t flows;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ns this thread has run on a CPU (first field of /proc/thread-self/schedstat), 0 when unknown */
static unsigned long long thread_cpu_ns(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static int unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2, i;

	if (strlen(s) % 2 != 0 || n > max)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog, *p;
	struct gen_cfg cfg = { 0 };
	struct xdp_md ctx = { 0 };
	uint8_t frame[1514];
	unsigned long long frames = 0;
	double seconds, t0, t;
	unsigned long long cpu0;
	struct bpf_prog_info info = { 0 };
	uint32_t info_len = sizeof(info);
	uint32_t key = 0;
	int len, ifindex, err, map_fd;

	if (argc != 7) {
		fprintf(stderr, "usage: xlb-gen <bench-progs.bpf.o> <ifname> <frame hex> <seconds> <flows> <sport base>\n");
		return 2;
	}
	len = unhex(argv[3], frame, sizeof(frame));
	ifindex = (int)if_nametoindex(argv[2]);
	seconds = atof(argv[4]);
	cfg.flows = (uint32_t)strtoul(argv[5], NULL, 10);
	cfg.sport_base = (uint16_t)strtoul(argv[6], NULL, 10);
	if (len < GEN_HDR_LEN || ifindex == 0 || seconds <= 0 || cfg.flows == 0) {
		fprintf(stderr, "xlb-gen: bad arguments (frame of %d bytes, ifindex %d, %g s, %u flows)\n", len, ifindex, seconds, cfg.flows);
		return 2;
	}
	memcpy(cfg.hdr, frame, GEN_HDR_LEN);

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "xlb-gen: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "xdp_gen");
	if (!prog) {
		fprintf(stderr, "xlb-gen: no program xdp_gen in %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == prog);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "xlb-gen: load: %s\n", strerror(-err));
		return 1;
	}
	map_fd = bpf_object__find_map_fd_by_name(obj, "gen_config");
	if (map_fd < 0 || bpf_map_update_elem(map_fd, &key, &cfg, BPF_ANY)) {
		fprintf(stderr, "xlb-gen: gen_config: %s\n", strerror(errno));
		return 1;
	}

	/* the kernel wants data_end = the frame's length (and no metadata) */
	ctx.data_end = (uint32_t)len;
	ctx.ingress_ifindex = (uint32_t)ifindex;
	cpu0 = thread_cpu_ns();
	t0 = now();
	do {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = frame,
			.data_size_in = (uint32_t)len,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = REPEAT_PER_CALL,
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = 64);

		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
		if (err) {
			fprintf(stderr, "xlb-gen: test run: %s\n", strerror(errno));
			return 1;
		}
		frames += REPEAT_PER_CALL;
		t = now();
	} while (t - t0 < seconds);
	cpu0 = thread_cpu_ns() - cpu0;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &info_len))
		memset(&info, 0, sizeof(info));
	printf("{\"frames\": %llu, \"seconds\": %.6f, \"cpu_ns\": %llu, \"prog_run_ns\": %llu, \"prog_runs\": %llu}\n",
	       frames, t - t0, cpu0, (unsigned long long)info.run_time_ns, (unsigned long long)info.run_cnt);
	bpf_object__close(obj);
	return 0;
}
