/*
 * grpc-load: the sidecar benchmark's native closed-loop gRPC client (what ghz does, ghz is not
 * packaged here). One h2c connection (ghz's default) on libnghttp2, one thread; `concurrency`
 * slots each keep one unary call in flight: the next is submitted when the previous one closed.
 * A call is HEADERS (POST <path>, content-type application/grpc, te trailers) and one DATA frame
 * with END_STREAM holding the framed message (`size` bytes, a pattern that differs per call);
 * it succeeds when the response is :status 200, exactly that framed message back, and
 * grpc-status 0 (in trailers, or trailers-only). Each call's latency is submit → stream close on
 * CLOCK_MONOTONIC. Requests start only once the server's SETTINGS arrived (as grpc-go waits for
 * the server preface), so the first header block already obeys the peer's header table size.
 *
 * Usage: grpc-load --address <ipv4>:<port> [--size 64] [--concurrency 1] [--path /nsc.Echo/Unary]
 *                  (--duration-ms N [--warmup-ms 500] | --calls N)
 * With --duration-ms: calls submitted in the first warmup-ms are not recorded, then calls are
 * submitted for duration-ms. With --calls: exactly N calls, all recorded.
 * Prints one JSON line: {"calls","errors","warmup_calls","seconds","p50_ms","p90_ms","p99_ms",
 * "max_ms","mean_ms","first_error"}; exits 1 when the connection fails or stalls for 10 s.
 */
#include <poll.h>
#include <signal.h>

#include "h2c-io.h"

#ifndef LOAD_STALL_NS
#define LOAD_STALL_NS (10ull * 1000000000ull)
#endif

struct slot {
	uint64_t started;
	int32_t stream_id;
	uint32_t seq;
	size_t sent;
	size_t got;
	int status;
	int grpc_status;
	int overflow;
	int warmup;
	uint8_t *req;
	uint8_t *resp;
};

static struct {
	const char *address;
	const char *path;
	size_t size;
	unsigned concurrency;
	uint64_t warmup_ns, duration_ns;
	uint64_t calls_wanted; /* 0: by duration */
} opt = { .path = "/nsc.Echo/Unary", .size = 64, .concurrency = 1, .warmup_ns = 500000000ull };

static struct {
	int settings_seen;
	uint64_t warm_end, end;
	uint64_t submitted, inflight, warmup_calls, errors, last_progress;
	double *lat;
	size_t nlat, caplat;
	char first_error[160];
} run;

static struct slot *slots;
static char authority[64];

__attribute__((format(printf, 1, 2))) static void call_error(const char *fmt, ...)
{
	run.errors++;
	if (run.first_error[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(run.first_error, sizeof(run.first_error), fmt, ap);
	va_end(ap);
}

static ssize_t read_req(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags, nghttp2_data_source *src, void *user)
{
	(void)s;
	(void)id;
	(void)user;
	struct slot *sl = src->ptr;
	size_t total = opt.size + GRPC_PREFIX, n = total - sl->sent;
	if (n > len)
		n = len;
	memcpy(buf, sl->req + sl->sent, n);
	sl->sent += n;
	if (sl->sent == total)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

#define NV(n, v, vl) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE }

static int submit(nghttp2_session *s, struct slot *sl)
{
	sl->seq++;
	/* a pattern of its own per call, so an answer to another call is told apart */
	for (size_t i = 0; i < opt.size; i++)
		sl->req[GRPC_PREFIX + i] = (uint8_t)('a' + (sl->seq + i) % 26);
	sl->sent = sl->got = 0;
	sl->status = sl->grpc_status = -1;
	sl->overflow = 0;
	const nghttp2_nv nva[] = {
		NV(":method", "POST", 4),
		NV(":scheme", "http", 4),
		NV(":path", opt.path, strlen(opt.path)),
		NV(":authority", authority, strlen(authority)),
		NV("content-type", "application/grpc", 16),
		NV("te", "trailers", 8),
		NV("user-agent", "netaccel-grpc-load/1", 20),
	};
	nghttp2_data_provider prd = { .source = { .ptr = sl }, .read_callback = read_req };
	sl->started = now_ns();
	sl->warmup = opt.calls_wanted == 0 && sl->started < run.warm_end;
	int32_t id = nghttp2_submit_request(s, NULL, nva, sizeof(nva) / sizeof(nva[0]), &prd, sl);
	if (id < 0)
		die("grpc-load: nghttp2_submit_request: %s", nghttp2_strerror(id));
	sl->stream_id = id;
	run.submitted++;
	run.inflight++;
	return 0;
}

static int more_wanted(void)
{
	if (opt.calls_wanted > 0)
		return run.submitted < opt.calls_wanted;
	return now_ns() < run.end;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	(void)flags;
	(void)user;
	struct slot *sl = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (sl == NULL || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	char v[16];
	size_t n = vlen < sizeof(v) - 1 ? vlen : sizeof(v) - 1;
	memcpy(v, value, n);
	v[n] = '\0';
	if (nlen == 7 && memcmp(name, ":status", 7) == 0)
		sl->status = atoi(v);
	else if (nlen == 11 && memcmp(name, "grpc-status", 11) == 0)
		sl->grpc_status = vlen > 0 && vlen < 4 ? atoi(v) : 9999;
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
	(void)flags;
	(void)user;
	struct slot *sl = nghttp2_session_get_stream_user_data(s, id);
	if (sl == NULL)
		return 0;
	if (sl->got + len > opt.size + GRPC_PREFIX) {
		sl->overflow = 1;
		return 0;
	}
	memcpy(sl->resp + sl->got, data, len);
	sl->got += len;
	return 0;
}

static void record(double ms)
{
	if (run.nlat == run.caplat) {
		run.caplat = run.caplat == 0 ? 65536 : run.caplat * 2;
		run.lat = realloc(run.lat, run.caplat * sizeof(double));
		if (run.lat == NULL)
			die("grpc-load: out of memory");
	}
	run.lat[run.nlat++] = ms;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)user;
	struct slot *sl = nghttp2_session_get_stream_user_data(s, id);
	if (sl == NULL)
		return 0;
	uint64_t t = now_ns();
	run.inflight--;
	run.last_progress = t;
	if (sl->warmup) {
		run.warmup_calls++;
	} else if (code != NGHTTP2_NO_ERROR) {
		call_error("stream reset (HTTP/2 error %u)", code);
	} else if (sl->status != 200) {
		call_error("HTTP status %d", sl->status);
	} else if (sl->grpc_status != 0) {
		call_error("grpc-status %d", sl->grpc_status);
	} else if (sl->overflow || sl->got != opt.size + GRPC_PREFIX || memcmp(sl->resp, sl->req, sl->got) != 0) {
		call_error("the response is not the request's message echoed (%zu bytes%s, %zu expected)", sl->got, sl->overflow ? " and more" : "", opt.size + GRPC_PREFIX);
	} else {
		record((double)(t - sl->started) / 1e6);
	}
	if (more_wanted())
		submit(s, sl);
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	(void)s;
	(void)user;
	if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK))
		run.settings_seen = 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double q)
{
	if (run.nlat == 0)
		return 0;
	size_t i = (size_t)(q * (double)run.nlat + 0.999999);
	i = i == 0 ? 0 : i - 1;
	return run.lat[i < run.nlat ? i : run.nlat - 1];
}

static uint64_t parse_u64(const char *flag, const char *v)
{
	char *end;
	unsigned long long x = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0' || v[0] == '-')
		die("grpc-load: %s: expected a non-negative integer, got %s", flag, v);
	return x;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			die("grpc-load: %s: expected a value", a);
		i++;
		if (strcmp(a, "--address") == 0)
			opt.address = v;
		else if (strcmp(a, "--path") == 0)
			opt.path = v;
		else if (strcmp(a, "--size") == 0)
			opt.size = parse_u64(a, v);
		else if (strcmp(a, "--concurrency") == 0)
			opt.concurrency = (unsigned)parse_u64(a, v);
		else if (strcmp(a, "--warmup-ms") == 0)
			opt.warmup_ns = parse_u64(a, v) * 1000000ull;
		else if (strcmp(a, "--duration-ms") == 0)
			opt.duration_ns = parse_u64(a, v) * 1000000ull;
		else if (strcmp(a, "--calls") == 0)
			opt.calls_wanted = parse_u64(a, v);
		else
			die("grpc-load: unknown option %s", a);
	}
	if (opt.address == NULL)
		die("grpc-load: --address <ipv4>:<port> is required");
	if (opt.concurrency == 0 || opt.concurrency > H2C_MAX_STREAMS)
		die("grpc-load: --concurrency: expected 1..%d", H2C_MAX_STREAMS);
	if (opt.size > (64u << 20))
		die("grpc-load: --size: at most 64 MiB");
	if ((opt.duration_ns == 0) == (opt.calls_wanted == 0))
		die("grpc-load: expected exactly one of --duration-ms and --calls");
	if (opt.calls_wanted > 0)
		opt.warmup_ns = 0;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in sa;
	if (parse_addr(opt.address, &sa) != 0)
		die("grpc-load: --address: expected <ipv4>:<port>, got %s", opt.address);
	snprintf(authority, sizeof(authority), "%s", opt.address);
	struct h2c_conn c = { .fd = socket(AF_INET, SOCK_STREAM, 0) };
	if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("grpc-load: connect %s: %s", opt.address, strerror(errno));
	socket_setup(c.fd);

	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		die("grpc-load: nghttp2_session_callbacks_new failed");
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	if (nghttp2_session_client_new(&c.session, cb, &c) != 0 || h2c_settings(c.session) != 0)
		die("grpc-load: nghttp2 client session setup failed");

	slots = calloc(opt.concurrency, sizeof(*slots));
	if (slots == NULL)
		die("grpc-load: out of memory");
	for (unsigned i = 0; i < opt.concurrency; i++) {
		slots[i].req = malloc(opt.size + GRPC_PREFIX);
		slots[i].resp = malloc(opt.size + GRPC_PREFIX);
		if (slots[i].req == NULL || slots[i].resp == NULL)
			die("grpc-load: out of memory");
		grpc_prefix(slots[i].req, (uint32_t)opt.size);
	}

	int started = 0;
	uint64_t measure_start = 0;
	run.last_progress = now_ns();
	for (;;) {
		if (!started && run.settings_seen) {
			started = 1;
			uint64_t t = now_ns();
			run.warm_end = t + opt.warmup_ns;
			run.end = run.warm_end + opt.duration_ns;
			measure_start = opt.calls_wanted > 0 ? t : run.warm_end;
			for (unsigned i = 0; i < opt.concurrency && more_wanted(); i++)
				submit(c.session, &slots[i]);
		}
		if (started && run.inflight == 0)
			break;
		if (h2c_pump(&c, 0) != 0)
			die("grpc-load: the connection to %s closed (%lu calls in flight)", opt.address, (unsigned long)run.inflight);
		struct pollfd p = { .fd = c.fd, .events = POLLIN | (h2c_want_write(&c) ? POLLOUT : 0) };
		int n = poll(&p, 1, 1000);
		if (n < 0 && errno != EINTR)
			die("grpc-load: poll: %s", strerror(errno));
		if (n > 0 && h2c_pump(&c, (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) != 0 && !(started && run.inflight == 0))
			die("grpc-load: the connection to %s closed (%lu calls in flight)", opt.address, (unsigned long)run.inflight);
		if (now_ns() - run.last_progress > LOAD_STALL_NS)
			die("grpc-load: no call finished in 10 s (%lu in flight, settings %s)", (unsigned long)run.inflight, run.settings_seen ? "seen" : "not seen");
	}
	double seconds = (double)(now_ns() - measure_start) / 1e9;
	nghttp2_session_terminate_session(c.session, NGHTTP2_NO_ERROR);
	h2c_write(&c);
	close(c.fd);

	qsort(run.lat, run.nlat, sizeof(double), cmp_double);
	double sum = 0;
	for (size_t i = 0; i < run.nlat; i++)
		sum += run.lat[i];
	printf("{\"calls\":%zu,\"errors\":%lu,\"warmup_calls\":%lu,\"seconds\":%.6f,\"p50_ms\":%.6f,\"p90_ms\":%.6f,\"p99_ms\":%.6f,\"max_ms\":%.6f,\"mean_ms\":%.6f,\"first_error\":\"%s\"}\n",
	       run.nlat, (unsigned long)run.errors, (unsigned long)run.warmup_calls, seconds, pct(0.5), pct(0.9), pct(0.99),
	       run.nlat > 0 ? run.lat[run.nlat - 1] : 0.0, run.nlat > 0 ? sum / (double)run.nlat : 0.0, run.first_error);
	return 0;
}
