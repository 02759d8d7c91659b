/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket layer tests over real loopback sockets, run once per
 * implementation: `sock_ut posix`, `sock_ut uring`. Everything runs on one
 * nvt_thread polled by the test itself; every wait is a poll loop (or a
 * poll() on an fd) with a deadline, never a sleep.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvtcp/log.h"
#include "nvtcp/sock.h"
#include "nvtcp/thread.h"

#define DEADLINE_MS 20000

static const char *g_impl = "posix";
static struct nvt_thread *g_thread;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef bool (*done_fn)(void *ctx);

/* Poll the thread and the group until done() or the deadline. */
static bool
poll_until(struct nvt_sock_group *group, done_fn done, void *ctx)
{
	uint64_t deadline = now_ms() + DEADLINE_MS;

	while (!done(ctx)) {
		if (now_ms() > deadline) {
			return false;
		}
		nvt_thread_poll(g_thread, 0, 0);
		if (group != NULL) {
			assert_true(nvt_sock_group_poll(group) >= 0);
		}
	}
	return true;
}

/* ---- log capture ---- */

static char g_log[4096];

static void
log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	(void)level;
	(void)ctx;
	snprintf(g_log, sizeof(g_log), "%s", line);
}

/* ---- echo server side ---- */

struct echo_buf {
	struct nvt_sock_request req;
	struct iovec iov;
	uint8_t data[16384];
};

struct echo_srv {
	struct nvt_sock *sock;
	size_t bytes;
	bool eof;
	int err;
	/* Closed together with this one, from its callback. */
	struct nvt_sock **victim;
};

static void
echo_buf_done(void *arg, int err)
{
	(void)err;
	free(arg);
}

static void
echo_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct echo_srv *srv = arg;
	struct echo_buf *eb;
	ssize_t n;

	(void)group;
	for (;;) {
		eb = malloc(sizeof(*eb));
		assert_non_null(eb);
		n = nvt_sock_recv(sock, eb->data, sizeof(eb->data));
		if (n <= 0) {
			free(eb);
			break;
		}
		srv->bytes += (size_t)n;
		eb->iov = (struct iovec){ .iov_base = eb->data, .iov_len = (size_t)n };
		eb->req.iov = &eb->iov;
		eb->req.iovcnt = 1;
		eb->req.cb_fn = echo_buf_done;
		eb->req.cb_arg = eb;
		nvt_sock_writev_async(sock, &eb->req);
	}
	if (n == -EAGAIN) {
		return;
	}
	srv->eof = true;
	srv->err = (int)n;
	/* Closing from a callback is deferred to the end of the poll. */
	nvt_sock_close(&srv->sock);
	if (srv->victim != NULL) {
		nvt_sock_close(srv->victim);
	}
}

static bool
srv_eof(void *ctx)
{
	return ((struct echo_srv *)ctx)->eof;
}

/* ---- client side ---- */

#define CLI_CHUNKS 64

struct cli;

struct cli_req {
	struct nvt_sock_request req;
	struct iovec iov[3];
	struct cli *c;
	uint32_t idx;
};

struct cli {
	struct nvt_sock *sock;
	int connect_calls;
	int connect_status;
	uint8_t *tx;
	uint8_t *rx;
	size_t len;
	size_t rx_len;
	uint32_t reqs_done;
	uint32_t reqs_total;
	int req_err;
	bool eof;
	int rx_err;
	struct cli_req reqs[CLI_CHUNKS];
	uint32_t done_order[CLI_CHUNKS];
};

static void
cli_connected(void *arg, struct nvt_sock *sock, int status)
{
	struct cli *c = arg;

	assert_ptr_equal(sock, c->sock);
	c->connect_calls++;
	c->connect_status = status;
}

static void
cli_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct cli *c = arg;
	ssize_t n;

	(void)group;
	do {
		n = nvt_sock_recv(sock, c->rx + c->rx_len, c->len + 1 - c->rx_len);
		if (n > 0) {
			c->rx_len += (size_t)n;
		}
	} while (n > 0 && c->rx_len <= c->len);
	if (n == 0) {
		c->eof = true;
	} else if (n < 0 && n != -EAGAIN) {
		c->rx_err = (int)n;
	}
}

static void
cli_chunk_done(void *arg, int err)
{
	struct cli_req *r = arg;
	struct cli *c = r->c;

	if (err != 0 && c->req_err == 0) {
		c->req_err = err;
	}
	c->done_order[c->reqs_done++] = r->idx;
}

static void
fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

/* Queue the whole buffer as CLI_CHUNKS requests of three iovecs (some may be empty). */
static void
cli_send_all(struct cli *c)
{
	size_t chunk = c->len / CLI_CHUNKS, off = 0, len, part;
	struct cli_req *r;
	uint32_t i, j;

	for (i = 0; i < CLI_CHUNKS; i++) {
		r = &c->reqs[i];
		len = i == CLI_CHUNKS - 1 ? c->len - off : chunk;
		for (j = 0; j < 3; j++) {
			part = j == 2 ? len - 2 * (len / 3) : len / 3;
			r->iov[j] = (struct iovec){ .iov_base = c->tx + off, .iov_len = part };
			off += part;
		}
		r->c = c;
		r->idx = i;
		r->req.iov = r->iov;
		r->req.iovcnt = 3;
		r->req.cb_fn = cli_chunk_done;
		r->req.cb_arg = r;
		nvt_sock_writev_async(c->sock, &r->req);
	}
	c->reqs_total = CLI_CHUNKS;
}

static void
cli_init(struct cli *c, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->len = len;
	c->tx = malloc(len);
	c->rx = malloc(len + 1);
	assert_non_null(c->tx);
	assert_non_null(c->rx);
	fill_pattern(c->tx, len, (uint32_t)len);
	c->connect_status = 1;
}

static void
cli_fini(struct cli *c)
{
	nvt_sock_close(&c->sock);
	free(c->tx);
	free(c->rx);
}

static bool
cli_connect_reported(void *ctx)
{
	return ((struct cli *)ctx)->connect_calls > 0;
}

static bool
cli_echo_done(void *ctx)
{
	struct cli *c = ctx;

	return c->rx_len >= c->len && c->reqs_done == c->reqs_total;
}

struct accept_ctx {
	struct nvt_sock *lsock;
	struct nvt_sock *sock;
};

static bool
accept_one(void *ctx)
{
	struct accept_ctx *a = ctx;
	int rc = nvt_sock_accept(a->lsock, &a->sock);

	assert_true(rc == 0 || rc == -EAGAIN);
	return rc == 0;
}

static uint16_t
listen_any(const char *ip, int backlog, struct nvt_sock **lsock)
{
	struct nvt_sock_opts opts;
	char addr[NVT_SOCK_ADDR_LEN];
	uint16_t port = 0;

	nvt_sock_get_default_opts(&opts, sizeof(opts));
	opts.backlog = backlog;
	assert_int_equal(nvt_sock_listen(ip, 0, g_impl, &opts, lsock), 0);
	assert_int_equal(nvt_sock_getaddr(*lsock, addr, sizeof(addr), &port, NULL, 0, NULL), 0);
	assert_true(port > 0);
	return port;
}

/* A plain non-blocking kernel socket connected to 127.0.0.1:port, as a peer. */
static int
raw_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void
echo_roundtrip(const char *ip, size_t len)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	char laddr[NVT_SOCK_ADDR_LEN], paddr[NVT_SOCK_ADDR_LEN];
	struct echo_srv srv = { 0 };
	struct accept_ctx a = { 0 };
	uint16_t port, lport, pport;
	struct cli c;
	uint32_t i;

	assert_non_null(group);
	port = listen_any(ip, 16, &a.lsock);
	cli_init(&c, len);
	assert_int_equal(nvt_sock_connect(ip, port, g_impl, NULL, cli_connected, &c, &c.sock), 0);
	/* Queued before the connection exists: sent once it does. */
	cli_send_all(&c);
	assert_int_equal(nvt_sock_group_add_sock(group, c.sock, cli_readable, &c), 0);
	assert_int_equal(nvt_sock_group_add_sock(group, c.sock, cli_readable, &c), -EBUSY);
	assert_true(poll_until(group, accept_one, &a));
	srv.sock = a.sock;
	assert_string_equal(nvt_sock_get_impl_name(srv.sock), g_impl);
	assert_int_equal(nvt_sock_group_add_sock(group, srv.sock, echo_readable, &srv), 0);
	assert_true(poll_until(group, cli_connect_reported, &c));
	assert_int_equal(c.connect_status, 0);
	assert_true(nvt_sock_is_connected(c.sock));
	assert_true(poll_until(group, cli_echo_done, &c));
	assert_int_equal(c.connect_calls, 1);
	assert_int_equal(c.req_err, 0);
	assert_int_equal(c.rx_len, len);
	assert_memory_equal(c.tx, c.rx, len);
	for (i = 0; i < CLI_CHUNKS; i++) {
		assert_int_equal(c.done_order[i], i);
	}
	assert_int_equal(nvt_sock_getaddr(c.sock, laddr, sizeof(laddr), &lport, paddr,
					  sizeof(paddr), &pport),
			 0);
	assert_int_equal(pport, port);
	assert_string_equal(paddr, strchr(ip, ':') != NULL ? "::1" : "127.0.0.1");
	assert_int_equal(nvt_sock_is_ipv6(c.sock), strchr(ip, ':') != NULL);
	assert_int_equal(nvt_sock_is_ipv4(c.sock), strchr(ip, ':') == NULL);

	/* The client leaves: the server sees end of stream and closes from its callback. */
	cli_fini(&c);
	assert_true(poll_until(group, srv_eof, &srv));
	assert_null(srv.sock);
	assert_int_equal(srv.err, 0);
	assert_int_equal(srv.bytes, len);
	nvt_sock_close(&a.lsock);
	assert_int_equal(nvt_sock_group_close(&group), 0);
}

static void
test_echo_ipv4(void **state)
{
	(void)state;
	echo_roundtrip("127.0.0.1", 4u << 20);
}

static void
test_echo_ipv6(void **state)
{
	(void)state;
	echo_roundtrip("::1", 1u << 20);
	echo_roundtrip("[::1]", 4096);
}

/* Fewer bytes than requests: zero-length requests and iovecs complete too. */
static void
test_echo_tiny(void **state)
{
	(void)state;
	echo_roundtrip("127.0.0.1", 100);
}

static void
expect_listen_error(const char *ip, int port, const char *impl, int rc, const char *in_log)
{
	struct nvt_sock *sock = NULL;

	g_log[0] = '\0';
	assert_int_equal(nvt_sock_listen(ip, port, impl, NULL, &sock), rc);
	assert_null(sock);
	assert_non_null(strstr(g_log, in_log));
}

static void
expect_connect_error(const char *ip, int port, int rc, const char *in_log)
{
	struct nvt_sock *sock = NULL;

	g_log[0] = '\0';
	assert_int_equal(nvt_sock_connect(ip, port, g_impl, NULL, NULL, NULL, &sock), rc);
	assert_null(sock);
	assert_non_null(strstr(g_log, in_log));
}

static void
test_bad_addresses(void **state)
{
	struct nvt_sock *lsock;
	uint16_t port;
	char portstr[16];

	(void)state;
	nvt_log_set_sink(log_sink, NULL);
	expect_listen_error("256.1.2.3", 4420, g_impl, -EINVAL, "256.1.2.3:4420");
	expect_listen_error("127.0.0.1", 65536, g_impl, -EINVAL, "127.0.0.1:65536");
	expect_listen_error("127.0.0.1", -1, g_impl, -EINVAL, "127.0.0.1:-1");
	expect_listen_error("localhost", 4420, g_impl, -EINVAL, "localhost:4420");
	expect_listen_error("", 4420, g_impl, -EINVAL, ":4420");
	expect_listen_error("::1::2", 4420, g_impl, -EINVAL, "[::1::2]:4420");
	expect_listen_error("192.0.2.1", 0, g_impl, -EADDRNOTAVAIL, "192.0.2.1:0");
	expect_listen_error("127.0.0.1", 0, "nope", -EINVAL, "'nope'");
	expect_connect_error("127.0.0.1", 0, -EINVAL, "127.0.0.1:0");
	expect_connect_error("1.2.3", 4420, -EINVAL, "1.2.3:4420");
	expect_connect_error("fe80::1%nosuchif", 4420, -EINVAL, "fe80::1%nosuchif");

	port = listen_any("127.0.0.1", 16, &lsock);
	snprintf(portstr, sizeof(portstr), ":%u", port);
	expect_listen_error("127.0.0.1", port, g_impl, -EADDRINUSE, portstr);
	nvt_sock_close(&lsock);
	nvt_log_set_sink(NULL, NULL);

	assert_int_equal(nvt_sock_set_default_impl("nope"), -EINVAL);
	assert_true(nvt_sock_impl_is_registered("posix"));
	assert_true(nvt_sock_impl_is_registered("uring"));
	assert_false(nvt_sock_impl_is_registered("nope"));
}

static void
test_opts(void **state)
{
	struct nvt_sock_opts opts;
	struct nvt_sock *lsock;
	int rc;

	(void)state;
	memset(&opts, 0xff, sizeof(opts));
	/* A caller that knows only the first fields keeps the rest untouched. */
	nvt_sock_get_default_opts(&opts, offsetof(struct nvt_sock_opts, priority));
	assert_int_equal(opts.opts_size, offsetof(struct nvt_sock_opts, priority));
	assert_true(opts.nodelay);
	assert_int_equal(opts.priority, -1);
	nvt_sock_get_default_opts(&opts, sizeof(opts));
	assert_int_equal(opts.backlog, 128);
	opts.recv_buf_size = 1 << 20;
	opts.send_buf_size = 1 << 20;
	opts.priority = 1;
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, g_impl, &opts, &lsock), 0);
	assert_int_equal(nvt_sock_set_recvbuf(lsock, 65536), 0);
	assert_int_equal(nvt_sock_set_sendbuf(lsock, 65536), 0);
	assert_int_equal(nvt_sock_set_recvlowat(lsock, 1), 0);
	assert_int_equal(nvt_sock_set_nodelay(lsock, false), 0);
	assert_int_equal(nvt_sock_set_priority(lsock, 2), 0);
	assert_false(nvt_sock_is_connected(lsock));
	rc = nvt_sock_getaddr(lsock, NULL, 0, NULL, NULL, 0, NULL);
	assert_int_equal(rc, 0);
	nvt_sock_close(&lsock);
}

static void
test_connect_refused(void **state)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct cli c;
	int fd, rc;

	(void)state;
	/* A bound socket that does not listen: nobody else gets the port, connects are refused. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	cli_init(&c, 1000);
	rc = nvt_sock_connect("127.0.0.1", ntohs(sin.sin_port), g_impl, NULL, cli_connected, &c,
			      &c.sock);
	if (rc == -ECONNREFUSED) {
		/* Refused at once is allowed: nothing is returned then. */
		assert_null(c.sock);
	} else {
		assert_int_equal(rc, 0);
		cli_send_all(&c);
		assert_int_equal(nvt_sock_group_add_sock(group, c.sock, cli_readable, &c), 0);
		assert_true(poll_until(group, cli_connect_reported, &c));
		assert_int_equal(c.connect_calls, 1);
		assert_int_equal(c.connect_status, -ECONNREFUSED);
		assert_false(nvt_sock_is_connected(c.sock));
		/* Writes queued while connecting fail with the connect's error. */
		assert_int_equal(c.reqs_done, CLI_CHUNKS);
		assert_int_equal(c.req_err, -ECONNREFUSED);
	}
	cli_fini(&c);
	close(fd);
	assert_int_equal(nvt_sock_group_close(&group), 0);
}

struct req_counter {
	int calls;
	int err;
};

static void
counter_done(void *arg, int err)
{
	struct req_counter *rc = arg;

	rc->calls++;
	if (rc->err == 0) {
		rc->err = err;
	}
}

static void
queue_bytes(struct nvt_sock *sock, struct nvt_sock_request *req, struct iovec *iov, void *buf,
	    size_t len, struct req_counter *cnt)
{
	*iov = (struct iovec){ .iov_base = buf, .iov_len = len };
	req->iov = iov;
	req->iovcnt = 1;
	req->cb_fn = counter_done;
	req->cb_arg = cnt;
	nvt_sock_writev_async(sock, req);
}

/* An accepted nvt socket in a group, and a raw peer. */
struct raw_pair {
	struct nvt_sock *lsock;
	struct nvt_sock *sock;
	int peer;
};

static void
raw_pair_open(struct raw_pair *p)
{
	struct accept_ctx a = { 0 };
	uint16_t port = listen_any("127.0.0.1", 16, &a.lsock);

	p->peer = raw_connect(port);
	assert_true(poll_until(NULL, accept_one, &a));
	p->lsock = a.lsock;
	p->sock = a.sock;
}

static void
raw_pair_close(struct raw_pair *p)
{
	nvt_sock_close(&p->sock);
	nvt_sock_close(&p->lsock);
	if (p->peer >= 0) {
		close(p->peer);
	}
}

static void
test_close_cancels_requests(void **state)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct req_counter cnt = { 0 };
	struct nvt_sock_request reqs[4];
	struct iovec iovs[4];
	struct raw_pair p;
	size_t big = 64u << 20;
	uint8_t *buf = calloc(1, big);
	int i;

	(void)state;
	assert_non_null(buf);
	raw_pair_open(&p);
	/* Outside any group nothing is sent until a flush: close cancels all. */
	for (i = 0; i < 2; i++) {
		queue_bytes(p.sock, &reqs[i], &iovs[i], buf, 10, &cnt);
	}
	assert_true(nvt_sock_has_pending_writes(p.sock));
	assert_int_equal(nvt_sock_flush(p.sock), 0);
	assert_int_equal(cnt.calls, 2);
	assert_int_equal(cnt.err, 0);
	/* In a group, with more than the peer takes: the rest is cancelled. */
	assert_int_equal(
		nvt_sock_group_add_sock(group, p.sock, echo_readable, &(struct echo_srv){ 0 }), 0);
	queue_bytes(p.sock, &reqs[2], &iovs[2], buf, big, &cnt);
	queue_bytes(p.sock, &reqs[3], &iovs[3], buf, 10, &cnt);
	for (i = 0; i < 100; i++) {
		nvt_sock_group_poll(group);
	}
	assert_int_equal(cnt.calls, 2);
	assert_int_equal(nvt_sock_close(&p.sock), 0);
	assert_int_equal(cnt.calls, 4);
	assert_int_equal(cnt.err, -ECANCELED);
	raw_pair_close(&p);
	assert_int_equal(nvt_sock_group_close(&group), 0);
	free(buf);
}

struct reset_ctx {
	struct req_counter cnt;
	int expected;
	size_t rx;
	int rx_err;
	bool rx_eof;
};

static void
reset_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct reset_ctx *r = arg;
	uint8_t buf[65536];
	ssize_t n;

	(void)group;
	while ((n = nvt_sock_recv(sock, buf, sizeof(buf))) > 0) {
		r->rx += (size_t)n;
	}
	if (n == 0) {
		r->rx_eof = true;
	} else if (n != -EAGAIN) {
		r->rx_err = (int)n;
	}
}

static bool
rx_some(void *ctx)
{
	return ((struct reset_ctx *)ctx)->rx > 0;
}

static bool
reset_seen(void *ctx)
{
	struct reset_ctx *r = ctx;

	return r->cnt.calls == r->expected && (r->rx_err != 0 || r->rx_eof);
}

static bool
peer_got_some(void *ctx)
{
	uint8_t buf[4096];

	return recv(*(int *)ctx, buf, sizeof(buf), MSG_DONTWAIT) > 0;
}

/*
 * The peer goes away while both directions carry data: with SO_LINGER 0
 * (reset), or with a plain close that leaves data unread (the kernel resets
 * then too). Every request completes, with an error, and reads report it.
 */
static void
peer_vanishes(bool linger0)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct nvt_sock_request reqs[8];
	struct reset_ctx r = { .expected = 8 };
	struct iovec iovs[8];
	size_t chunk = 8u << 20, sent = 0;
	uint8_t *buf = calloc(1, chunk);
	struct raw_pair p;
	ssize_t n;
	int i;

	assert_non_null(buf);
	raw_pair_open(&p);
	assert_int_equal(nvt_sock_group_add_sock(group, p.sock, reset_readable, &r), 0);
	for (i = 0; i < 8; i++) {
		queue_bytes(p.sock, &reqs[i], &iovs[i], buf, chunk, &r.cnt);
	}
	/* The peer sends some data, reads a little, then vanishes mid-transfer. */
	while ((n = send(p.peer, buf, 65536, MSG_DONTWAIT)) > 0 && sent < (4u << 20)) {
		sent += (size_t)n;
		nvt_sock_group_poll(group);
	}
	assert_true(poll_until(group, peer_got_some, &p.peer));
	if (linger0) {
		assert_int_equal(setsockopt(p.peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	}
	close(p.peer);
	p.peer = -1;
	assert_true(poll_until(group, reset_seen, &r));
	assert_int_equal(r.cnt.calls, 8);
	assert_true(r.cnt.err == -ECONNRESET || r.cnt.err == -EPIPE);
	assert_true(r.rx_err == -ECONNRESET || r.rx_eof);
	/* Writes after the failure complete with it too, never inside the call. */
	queue_bytes(p.sock, &reqs[0], &iovs[0], buf, 10, &r.cnt);
	assert_int_equal(r.cnt.calls, 8);
	r.expected = 9;
	assert_true(poll_until(group, reset_seen, &r));
	raw_pair_close(&p);
	assert_int_equal(nvt_sock_group_close(&group), 0);
	free(buf);
}

static void
test_peer_reset_mid_transfer(void **state)
{
	(void)state;
	peer_vanishes(true);
}

static void
test_peer_close_mid_transfer(void **state)
{
	(void)state;
	peer_vanishes(false);
}

/* The peer half-closes: everything it sent arrives, then end of stream. */
static void
test_peer_shutdown(void **state)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct reset_ctx r = { .expected = 0 };
	uint8_t buf[65536] = { 0 };
	size_t sent = 0;
	struct raw_pair p;
	ssize_t n;

	(void)state;
	raw_pair_open(&p);
	assert_int_equal(nvt_sock_group_add_sock(group, p.sock, reset_readable, &r), 0);
	while (sent < (8u << 20)) {
		n = send(p.peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			sent += (size_t)n;
		}
		nvt_sock_group_poll(group);
	}
	assert_int_equal(shutdown(p.peer, SHUT_WR), 0);
	assert_true(poll_until(group, reset_seen, &r));
	assert_true(r.rx_eof);
	assert_int_equal(r.rx, sent);
	assert_int_equal(r.rx_err, 0);
	raw_pair_close(&p);
	assert_int_equal(nvt_sock_group_close(&group), 0);
}

#define BACKLOG_CLIENTS 12
#define BACKLOG		2

struct backlog_ctx {
	struct cli cli[BACKLOG_CLIENTS];
	struct echo_srv srv[BACKLOG_CLIENTS];
	struct nvt_sock *lsock;
	struct nvt_sock_group *group;
	int accepted;
};

static bool
backlog_full(void *ctx)
{
	struct backlog_ctx *b = ctx;
	int i, reported = 0;

	for (i = 0; i < BACKLOG_CLIENTS; i++) {
		reported += b->cli[i].connect_calls;
	}
	/* The handshakes the listen queue had room for are done. */
	return reported >= BACKLOG + 1;
}

static bool
backlog_all_served(void *ctx)
{
	struct backlog_ctx *b = ctx;
	struct nvt_sock *sock;
	int i, rc;

	while ((rc = nvt_sock_accept(b->lsock, &sock)) == 0) {
		assert_true(b->accepted < BACKLOG_CLIENTS);
		b->srv[b->accepted].sock = sock;
		assert_int_equal(nvt_sock_group_add_sock(b->group, sock, echo_readable,
							 &b->srv[b->accepted]),
				 0);
		b->accepted++;
	}
	assert_true(rc == -EAGAIN || rc == -ECONNABORTED);
	for (i = 0; i < BACKLOG_CLIENTS; i++) {
		struct cli *c = &b->cli[i];

		/* Refused cleanly: the connect failed, or the kernel dropped it later (EOF, reset). */
		if (c->connect_calls == 0 ||
		    (c->connect_status == 0 && !cli_echo_done(c) && !c->eof && c->rx_err == 0)) {
			return false;
		}
	}
	return true;
}

/* More connects than the backlog while nobody accepts: all served, or refused cleanly. */
static void
test_backlog_overflow(void **state)
{
	struct backlog_ctx *b = calloc(1, sizeof(*b));
	int i, served = 0, refused = 0;
	uint16_t port;

	(void)state;
	assert_non_null(b);
	b->group = nvt_sock_group_create(NULL);
	port = listen_any("127.0.0.1", BACKLOG, &b->lsock);
	for (i = 0; i < BACKLOG_CLIENTS; i++) {
		struct cli *c = &b->cli[i];

		cli_init(c, 4096);
		assert_int_equal(nvt_sock_connect("127.0.0.1", port, g_impl, NULL, cli_connected, c,
						  &c->sock),
				 0);
		cli_send_all(c);
		assert_int_equal(nvt_sock_group_add_sock(b->group, c->sock, cli_readable, c), 0);
	}
	assert_true(poll_until(b->group, backlog_full, b));
	if (!poll_until(b->group, backlog_all_served, b)) {
		for (i = 0; i < BACKLOG_CLIENTS; i++) {
			print_message(
				"cli %d: calls %d status %d rx %zu reqs %u rx_err %d eof %d\n", i,
				b->cli[i].connect_calls, b->cli[i].connect_status, b->cli[i].rx_len,
				b->cli[i].reqs_done, b->cli[i].rx_err, b->cli[i].eof);
		}
		print_message("accepted %d\n", b->accepted);
		fail();
	}
	for (i = 0; i < BACKLOG_CLIENTS; i++) {
		if (b->cli[i].connect_status == 0 && cli_echo_done(&b->cli[i])) {
			assert_memory_equal(b->cli[i].tx, b->cli[i].rx, 4096);
			served++;
		} else {
			refused++;
		}
		cli_fini(&b->cli[i]);
	}
	print_message("backlog %d, %d clients: %d served, %d refused, %d accepted\n", BACKLOG,
		      BACKLOG_CLIENTS, served, refused, b->accepted);
	assert_int_equal(served + refused, BACKLOG_CLIENTS);
	assert_true(served >= BACKLOG + 1);
	for (i = 0; i < b->accepted; i++) {
		nvt_sock_close(&b->srv[i].sock);
	}
	nvt_sock_close(&b->lsock);
	assert_int_equal(nvt_sock_group_close(&b->group), 0);
	free(b);
}

static bool
either_eof(void *ctx)
{
	struct echo_srv *srv = ctx;

	return srv[0].eof || srv[1].eof;
}

/* A callback closes its own socket and another one that is ready in the same poll. */
static void
test_close_in_callback(void **state)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct echo_srv srv[2] = { 0 };
	struct raw_pair p[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		raw_pair_open(&p[i]);
		srv[i].sock = p[i].sock;
		p[i].sock = NULL;
		assert_int_equal(
			nvt_sock_group_add_sock(group, srv[i].sock, echo_readable, &srv[i]), 0);
	}
	srv[0].victim = &srv[1].sock;
	srv[1].victim = &srv[0].sock;
	/* Both peers leave, so both sockets are ready in one poll. */
	close(p[0].peer);
	close(p[1].peer);
	p[0].peer = p[1].peer = -1;
	assert_true(poll_until(group, either_eof, srv));
	assert_null(srv[0].sock);
	assert_null(srv[1].sock);
	assert_true(srv[0].eof != srv[1].eof);
	for (i = 0; i < 2; i++) {
		raw_pair_close(&p[i]);
	}
	assert_int_equal(nvt_sock_group_close(&group), 0);
}

static void
test_group_membership(void **state)
{
	struct nvt_sock_group *g1 = nvt_sock_group_create(&g1), *g2 = nvt_sock_group_create(NULL);
	struct echo_srv srv = { 0 };
	struct raw_pair p;

	(void)state;
	assert_ptr_equal(nvt_sock_group_get_ctx(g1), &g1);
	raw_pair_open(&p);
	assert_int_equal(nvt_sock_group_add_sock(g1, p.sock, NULL, NULL), -EINVAL);
	assert_int_equal(nvt_sock_group_add_sock(g1, p.sock, echo_readable, &srv), 0);
	assert_int_equal(nvt_sock_group_add_sock(g2, p.sock, echo_readable, &srv), -EBUSY);
	assert_int_equal(nvt_sock_group_remove_sock(g2, p.sock), -EINVAL);
	assert_int_equal(nvt_sock_group_close(&g1), -EBUSY);
	assert_non_null(g1);
	assert_int_equal(nvt_sock_group_poll_count(g1, 0), -EINVAL);
	assert_int_equal(nvt_sock_group_poll_count(g1, NVT_SOCK_GROUP_MAX_EVENTS + 1), -EINVAL);
	/* Move it to the other group: data then flows there. */
	assert_int_equal(nvt_sock_group_remove_sock(g1, p.sock), 0);
	assert_int_equal(nvt_sock_group_add_sock(g2, p.sock, echo_readable, &srv), 0);
	assert_int_equal(send(p.peer, "ping", 4, 0), 4);
	srv.sock = p.sock;
	p.sock = NULL;
	close(p.peer);
	p.peer = -1;
	assert_true(poll_until(g2, srv_eof, &srv));
	assert_int_equal(srv.bytes, 4);
	assert_int_equal(nvt_sock_group_close(&g1), 0);
	assert_null(g1);
	assert_int_equal(nvt_sock_group_close(&g2), 0);
	raw_pair_close(&p);
}

/* Requests without bytes complete too, in order, in and outside a group. */
static void
test_empty_requests(void **state)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct req_counter cnt = { 0 };
	struct nvt_sock_request reqs[3];
	struct iovec iovs[3];
	struct raw_pair p;

	(void)state;
	raw_pair_open(&p);
	reqs[0] = (struct nvt_sock_request){ .cb_fn = counter_done, .cb_arg = &cnt };
	nvt_sock_writev_async(p.sock, &reqs[0]);
	queue_bytes(p.sock, &reqs[1], &iovs[1], NULL, 0, &cnt);
	assert_int_equal(nvt_sock_flush(p.sock), 0);
	assert_int_equal(cnt.calls, 2);
	assert_int_equal(
		nvt_sock_group_add_sock(group, p.sock, reset_readable, &(struct reset_ctx){ 0 }),
		0);
	reqs[0] = (struct nvt_sock_request){ .cb_fn = counter_done, .cb_arg = &cnt };
	nvt_sock_writev_async(p.sock, &reqs[0]);
	queue_bytes(p.sock, &reqs[2], &iovs[2], NULL, 0, &cnt);
	assert_int_equal(cnt.calls, 2);
	cnt.err = 0;
	while (cnt.calls < 4) {
		nvt_thread_poll(g_thread, 0, 0);
		assert_true(nvt_sock_group_poll(group) >= 0);
	}
	assert_int_equal(cnt.err, 0);
	raw_pair_close(&p);
	assert_int_equal(nvt_sock_group_close(&group), 0);
}

struct mover {
	struct nvt_sock_group *to;
	struct echo_srv *srv;
	int moves;
};

static void
move_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct mover *m = arg;

	/* Hand the connection over from inside its own callback, as a target moves qpairs. */
	assert_int_equal(nvt_sock_group_remove_sock(group, sock), 0);
	assert_int_equal(nvt_sock_group_add_sock(m->to, sock, echo_readable, m->srv), 0);
	m->moves++;
}

static bool
moved(void *ctx)
{
	return ((struct mover *)ctx)->moves > 0;
}

static bool
echoed_3(void *ctx)
{
	return ((struct echo_srv *)ctx)->bytes == 3;
}

static void
test_move_in_callback(void **state)
{
	struct nvt_sock_group *g1 = nvt_sock_group_create(NULL), *g2 = nvt_sock_group_create(NULL);
	struct echo_srv srv = { 0 };
	struct mover m = { .to = g2, .srv = &srv };
	struct raw_pair p;

	(void)state;
	raw_pair_open(&p);
	srv.sock = p.sock;
	p.sock = NULL;
	assert_int_equal(nvt_sock_group_add_sock(g1, srv.sock, move_readable, &m), 0);
	assert_int_equal(send(p.peer, "abc", 3, 0), 3);
	assert_true(poll_until(g1, moved, &m));
	assert_true(poll_until(g2, echoed_3, &srv));
	assert_int_equal(m.moves, 1);
	/* The echo goes out through the new group. */
	assert_true(poll_until(g2, peer_got_some, &p.peer));
	nvt_sock_close(&srv.sock);
	assert_int_equal(nvt_sock_group_close(&g1), 0);
	assert_int_equal(nvt_sock_group_close(&g2), 0);
	raw_pair_close(&p);
}

/* Wait for the thread's interrupt fd as a sleeping reactor would. */
static bool
thread_wakes(int timeout_ms)
{
	struct pollfd pfd = { .fd = nvt_thread_get_interrupt_fd(g_thread), .events = POLLIN };
	int rc;

	rc = poll(&pfd, 1, timeout_ms);
	nvt_thread_end_sleep(g_thread);
	return rc == 1;
}

static bool
sleepy(struct nvt_sock_group *group)
{
	int i;

	/* Settle: a few idle iterations, as a reactor has before it sleeps. */
	for (i = 0; i < 4; i++) {
		nvt_thread_poll(g_thread, 0, 0);
		nvt_sock_group_poll(group);
	}
	return nvt_thread_prepare_sleep(g_thread);
}

/*
 * Interrupt mode: the thread may sleep only when nothing is left to do, and
 * readable data, writes that wait for room, or writes queued outside a poll
 * wake it.
 */
static void
test_interrupt_wakeups(void **state)
{
	struct nvt_sock_group *group = nvt_sock_group_create(NULL);
	struct reset_ctx r = { .expected = 0 };
	struct nvt_sock_request req;
	size_t big = 16u << 20, got = 0;
	uint64_t deadline = now_ms() + DEADLINE_MS;
	uint8_t *buf = calloc(1, big);
	struct iovec iov;
	struct raw_pair p;
	ssize_t n;

	(void)state;
	assert_non_null(buf);
	raw_pair_open(&p);
	assert_int_equal(nvt_sock_group_add_sock(group, p.sock, reset_readable, &r), 0);
	assert_true(sleepy(group));
	assert_int_equal(send(p.peer, "x", 1, 0), 1);
	assert_true(thread_wakes(5000));
	assert_true(poll_until(group, rx_some, &r));

	/* A write queued outside the poll keeps the thread awake until sent. */
	assert_true(sleepy(group));
	nvt_thread_end_sleep(g_thread);
	queue_bytes(p.sock, &req, &iov, buf, big, &r.cnt);
	assert_false(nvt_thread_prepare_sleep(g_thread));
	/* It fills the send buffer; then the thread may sleep: nothing spins. */
	assert_true(sleepy(group));
	assert_int_equal(r.cnt.calls, 0);
	/* The peer makes room: the thread wakes to send the rest. */
	while (got < big) {
		assert_true(now_ms() < deadline);
		n = recv(p.peer, buf, 65536, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (r.cnt.calls == 0 && nvt_thread_prepare_sleep(g_thread)) {
			assert_true(thread_wakes(5000));
		}
		nvt_thread_poll(g_thread, 0, 0);
		nvt_sock_group_poll(group);
	}
	/* All bytes arrived; the completion may still be on its way (uring). */
	r.expected = 1;
	r.rx_eof = true;
	assert_true(poll_until(group, reset_seen, &r));
	assert_int_equal(r.cnt.calls, 1);
	assert_int_equal(r.cnt.err, 0);
	raw_pair_close(&p);
	assert_int_equal(nvt_sock_group_close(&group), 0);
	free(buf);
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(nvt_thread_lib_init(NULL, 0), 0);
	g_thread = nvt_thread_create("sock_ut", NULL);
	assert_non_null(g_thread);
	nvt_set_thread(g_thread);
	assert_int_equal(nvt_sock_set_default_impl(g_impl), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nvt_thread_exit(g_thread);
	while (!nvt_thread_is_exited(g_thread)) {
		nvt_thread_poll(g_thread, 0, 0);
	}
	nvt_thread_destroy(&g_thread);
	nvt_set_thread(NULL);
	nvt_thread_lib_fini();
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_echo_ipv4),
		cmocka_unit_test(test_echo_ipv6),
		cmocka_unit_test(test_echo_tiny),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_close_cancels_requests),
		cmocka_unit_test(test_peer_reset_mid_transfer),
		cmocka_unit_test(test_peer_close_mid_transfer),
		cmocka_unit_test(test_peer_shutdown),
		cmocka_unit_test(test_backlog_overflow),
		cmocka_unit_test(test_close_in_callback),
		cmocka_unit_test(test_group_membership),
		cmocka_unit_test(test_empty_requests),
		cmocka_unit_test(test_move_in_callback),
		cmocka_unit_test(test_interrupt_wakeups),
	};
	char name[64];

	if (argc > 1) {
		g_impl = argv[1];
	}
	snprintf(name, sizeof(name), "sock_%s", g_impl);
	return cmocka_run_group_tests_name(name, tests, setup, teardown);
}
