/*
 * What the sidecar benchmark's native gRPC endpoints (grpc-load.c, grpc-echo.c) share: plain
 * HTTP/2 (h2c) on a non-blocking TCP socket driven by libnghttp2, the gRPC message prefix
 * (1 byte compressed flag, 4 bytes big-endian length), the monotonic clock and fatal errors.
 * Header-only (static functions), so each endpoint stays one translation unit built by
 * bench/sidecar/native.ts.
 */
#ifndef NETACCEL_BENCH_H2C_IO_H
#define NETACCEL_BENCH_H2C_IO_H

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

/* gRPC's length prefix: flag byte and u32 length */
#define GRPC_PREFIX 5
/* stream and connection flow-control windows both endpoints announce (grpc-go's defaults grow to these) */
#ifndef H2C_STREAM_WINDOW
#define H2C_STREAM_WINDOW (1 << 20)
#endif
#ifndef H2C_CONN_WINDOW
#define H2C_CONN_WINDOW (16 << 20)
#endif
#ifndef H2C_MAX_STREAMS
#define H2C_MAX_STREAMS 1000
#endif
#ifndef H2C_READ_BUF
#define H2C_READ_BUF (64 * 1024)
#endif
/* bytes of frames gathered before they are written */
#ifndef H2C_GATHER
#define H2C_GATHER (64 * 1024)
#endif

__attribute__((noreturn, format(printf, 1, 2))) static inline void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void grpc_prefix(uint8_t *p, uint32_t len)
{
	p[0] = 0;
	p[1] = (uint8_t)(len >> 24);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 8);
	p[4] = (uint8_t)len;
}

/* The message length of a gRPC prefix; -1 when compressed (neither endpoint negotiates compression). */
static inline int64_t grpc_prefix_len(const uint8_t *p)
{
	if (p[0] != 0)
		return -1;
	return ((int64_t)p[1] << 24) | ((int64_t)p[2] << 16) | ((int64_t)p[3] << 8) | (int64_t)p[4];
}

/* "host:port" (IPv4) into `sa`; 0 or -1 */
static inline int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static inline void socket_setup(int fd)
{
	int one = 1;
	/* what grpc-go (Go's net package) does for every TCP connection */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int flags = fcntl(fd, F_GETFL, 0);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		die("fcntl O_NONBLOCK: %s", strerror(errno));
}

/*
 * A connection: its socket, its session and what the session gave to send but the socket did not
 * take yet. Frames are gathered and written together (grpc-go writes its frames through a
 * buffered writer and flushes when it has nothing more: a unary call's HEADERS and DATA, or a
 * response's HEADERS, DATA and trailers, go in one send), not one send per frame.
 */
struct h2c_conn {
	int fd;
	nghttp2_session *session;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
};

/* Writes what is buffered: 0 when all of it went, 1 when the socket is full, -1 on an error. */
static inline int h2c_flush(struct h2c_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 1 : -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Gathers what the session has to send (up to H2C_GATHER bytes at a time) and writes it; 0 or -1. */
static inline int h2c_write(struct h2c_conn *c)
{
	for (;;) {
		int f = h2c_flush(c);
		if (f != 0)
			return f < 0 ? -1 : 0;
		while (c->out_len < H2C_GATHER) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(c->session, &data);
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			if (c->out_len + (size_t)n > c->out_cap) {
				size_t cap = c->out_cap == 0 ? 2 * H2C_GATHER : c->out_cap;
				while (cap < c->out_len + (size_t)n)
					cap *= 2;
				uint8_t *b = realloc(c->out, cap);
				if (b == NULL)
					return -1;
				c->out = b;
				c->out_cap = cap;
			}
			memcpy(c->out + c->out_len, data, (size_t)n);
			c->out_len += (size_t)n;
		}
		if (c->out_len == 0)
			return 0;
	}
}

/* Whether the connection has bytes to write (poll for POLLOUT). */
static inline int h2c_want_write(const struct h2c_conn *c)
{
	return c->out_off < c->out_len || nghttp2_session_want_write(c->session);
}

/* The SETTINGS both endpoints send first, and the connection window opened to H2C_CONN_WINDOW. */
static inline int h2c_settings(nghttp2_session *s)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2C_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2C_STREAM_WINDOW },
	};
	int rv = nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	if (rv != 0)
		return rv;
	return nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, H2C_CONN_WINDOW);
}

/*
 * Reads what the socket has (until EAGAIN) into the session, then writes what the session has
 * (until it has nothing or the socket is full). 0: go on; -1: the connection is done (closed by
 * the peer, an error, or neither side wants anything more).
 */
static inline int h2c_pump(struct h2c_conn *c, int readable)
{
	static uint8_t buf[H2C_READ_BUF];
	while (readable) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		ssize_t used = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
		if (used < 0)
			return -1;
	}
	if (h2c_write(c) != 0)
		return -1;
	if (!nghttp2_session_want_read(c->session) && !h2c_want_write(c))
		return -1;
	return 0;
}

#endif
