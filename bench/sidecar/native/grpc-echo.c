/*
 * grpc-echo: the sidecar benchmark's native gRPC upstream (what ghz is pointed at in the paper:
 * a server that costs next to nothing per call). h2c on libnghttp2, one thread, poll(2) over
 * its connections; every stream, whatever its path, is a unary call whose one message is echoed
 * back: response HEADERS (:status 200, content-type application/grpc), the request's framed
 * message as DATA, then trailers grpc-status 0. A request that is not one well-formed,
 * uncompressed gRPC message gets grpc-status 3 (INVALID_ARGUMENT) in trailers-only.
 *
 * Usage: grpc-echo [--listen 127.0.0.1:0]
 * Prints {"port":N} on one line once listening, then serves until killed.
 */
#include <poll.h>
#include <signal.h>

#include "h2c-io.h"

#ifndef ECHO_MAX_CONNS
#define ECHO_MAX_CONNS 256
#endif
/* the largest request message accepted (the benchmark sends 64 B and 4 KiB) */
#ifndef ECHO_MAX_MESSAGE
#define ECHO_MAX_MESSAGE (4 << 20)
#endif

struct echo_stream {
	uint8_t *body;
	size_t len, cap, sent;
	int too_big;
};

/* heap-allocated: each is its session's user data, so it must not move when another closes */
static struct h2c_conn *conns[ECHO_MAX_CONNS];
static size_t nconns;

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	(void)user;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct echo_stream *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
	(void)flags;
	(void)user;
	struct echo_stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st == NULL)
		return 0;
	if (st->len + len > ECHO_MAX_MESSAGE + GRPC_PREFIX) {
		st->too_big = 1;
		return 0;
	}
	if (st->len + len > st->cap) {
		size_t cap = st->cap == 0 ? 8192 : st->cap;
		while (cap < st->len + len)
			cap *= 2;
		uint8_t *b = realloc(st->body, cap);
		if (b == NULL)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		st->body = b;
		st->cap = cap;
	}
	memcpy(st->body + st->len, data, len);
	st->len += len;
	return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags, nghttp2_data_source *src, void *user)
{
	(void)user;
	struct echo_stream *st = src->ptr;
	size_t n = st->len - st->sent;
	if (n > len)
		n = len;
	memcpy(buf, st->body + st->sent, n);
	st->sent += n;
	if (st->sent == st->len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		const nghttp2_nv trailers[] = {
			{ (uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE },
		};
		if (nghttp2_submit_trailer(s, id, trailers, 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }

static int respond(nghttp2_session *s, int32_t id, struct echo_stream *st)
{
	int64_t mlen = st->len >= GRPC_PREFIX ? grpc_prefix_len(st->body) : -1;
	if (st->too_big || mlen < 0 || (size_t)mlen + GRPC_PREFIX != st->len) {
		const nghttp2_nv only[] = {
			NV(":status", "200"),
			NV("content-type", "application/grpc"),
			NV("grpc-status", "3"),
			NV("grpc-message", "expected one uncompressed gRPC message"),
		};
		return nghttp2_submit_response(s, id, only, sizeof(only) / sizeof(only[0]), NULL);
	}
	const nghttp2_nv hdrs[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_data_provider prd = { .source = { .ptr = st }, .read_callback = read_body };
	return nghttp2_submit_response(s, id, hdrs, 2, &prd);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	(void)user;
	if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	struct echo_stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st == NULL)
		return 0;
	if (respond(s, f->hd.stream_id, st) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	(void)code;
	(void)user;
	struct echo_stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (st != NULL) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		free(st->body);
		free(st);
	}
	return 0;
}

static nghttp2_session_callbacks *callbacks(void)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		die("nghttp2_session_callbacks_new failed");
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	return cb;
}

static void conn_close(size_t i)
{
	nghttp2_session_del(conns[i]->session);
	close(conns[i]->fd);
	free(conns[i]->out);
	free(conns[i]);
	conns[i] = conns[--nconns];
}

static void conn_accept(int lfd, nghttp2_session_callbacks *cb)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fprintf(stderr, "grpc-echo: accept: %s\n", strerror(errno));
			return;
		}
		if (nconns == ECHO_MAX_CONNS) {
			fprintf(stderr, "grpc-echo: more than %d connections, refused\n", ECHO_MAX_CONNS);
			close(fd);
			continue;
		}
		socket_setup(fd);
		struct h2c_conn *c = calloc(1, sizeof(*c));
		if (c == NULL)
			die("grpc-echo: out of memory");
		c->fd = fd;
		if (nghttp2_session_server_new(&c->session, cb, c) != 0 || h2c_settings(c->session) != 0)
			die("nghttp2 server session setup failed");
		conns[nconns++] = c;
	}
}

int main(int argc, char **argv)
{
	const char *listen_at = "127.0.0.1:0";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_at = argv[++i];
		else
			die("usage: grpc-echo [--listen <ipv4>:<port>] (got %s)", argv[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in sa;
	if (parse_addr(listen_at, &sa) != 0)
		die("grpc-echo: --listen: expected <ipv4>:<port>, got %s", listen_at);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 1024) != 0)
		die("grpc-echo: listen on %s: %s", listen_at, strerror(errno));
	socket_setup(lfd);
	socklen_t slen = sizeof(sa);
	getsockname(lfd, (struct sockaddr *)&sa, &slen);
	printf("{\"port\":%u}\n", ntohs(sa.sin_port));
	fflush(stdout);

	nghttp2_session_callbacks *cb = callbacks();
	struct pollfd pfd[ECHO_MAX_CONNS + 1];
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < nconns; i++)
			pfd[i + 1] = (struct pollfd){ .fd = conns[i]->fd, .events = POLLIN | (h2c_want_write(conns[i]) ? POLLOUT : 0) };
		size_t n = nconns;
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("grpc-echo: poll: %s", strerror(errno));
		}
		/* from the last so that closing (which moves the last connection into the hole) skips none */
		for (size_t i = n; i-- > 0;) {
			short ev = pfd[i + 1].revents;
			if (ev == 0)
				continue;
			if (h2c_pump(conns[i], (ev & (POLLIN | POLLHUP | POLLERR)) != 0) != 0)
				conn_close(i);
		}
		if (pfd[0].revents & POLLIN)
			conn_accept(lfd, cb);
	}
}
