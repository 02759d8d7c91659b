/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "ssl" socket implementation over loopback: a TLS server and client
 * in one process, each in its own socket group, both on one nvt_thread
 * polled by the test. Every wait is a poll loop with a deadline, never a
 * sleep.
 *
 * kTLS: the data path the kernel took is printed for each handshake. With
 * NVT_TEST_KTLS=none|tx|both in the environment it is checked too, and
 * with tx or both the kernel's /proc/net/tls_stat must count the sockets.
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
#define BULK_LEN    (4u << 20)

static struct nvt_thread *g_thread;
static struct nvt_sock_group *g_sgroup;
static struct nvt_sock_group *g_cgroup;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef bool (*done_fn)(void *ctx);

/* Poll the thread and both groups until done() or the deadline. */
static bool
poll_until(done_fn done, void *ctx)
{
	uint64_t deadline = now_ms() + DEADLINE_MS;

	while (!done(ctx)) {
		if (now_ms() > deadline) {
			return false;
		}
		nvt_thread_poll(g_thread, 0, 0);
		assert_true(nvt_sock_group_poll(g_sgroup) >= 0);
		assert_true(nvt_sock_group_poll(g_cgroup) >= 0);
	}
	return true;
}

/* ---- log capture: error lines are counted, all text is kept ---- */

static char g_log[16384];
static int g_errors;

static void
log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	size_t used = strlen(g_log);

	(void)ctx;
	if (level == NVT_LOG_ERROR) {
		g_errors++;
	}
	snprintf(g_log + used, sizeof(g_log) - used, "%s\n", line);
}

static void
log_reset(void)
{
	g_log[0] = '\0';
	g_errors = 0;
}

static void
expect_log(const char *text)
{
	if (strstr(g_log, text) == NULL) {
		fprintf(stderr, "log lacks '%s':\n%s", text, g_log);
		fail();
	}
}

/* ---- PSKs and the server's keyring ---- */

static struct nvt_sock_tls_psk g_psk256;
static struct nvt_sock_tls_psk g_psk384;

static void
psk_make(struct nvt_sock_tls_psk *psk, const char *identity, unsigned int cipher, size_t len,
	 uint8_t seed)
{
	size_t i;

	memset(psk, 0, sizeof(*psk));
	snprintf(psk->identity, sizeof(psk->identity), "%s", identity);
	for (i = 0; i < len; i++) {
		psk->key[i] = (uint8_t)(seed + i * 7);
	}
	psk->key_len = len;
	psk->cipher = cipher;
}

struct keyring {
	const struct nvt_sock_tls_psk *psks[4];
	int count;
	int lookups;
};

static struct keyring g_keyring;

static int
keyring_find(void *ctx, const char *identity, struct nvt_sock_tls_psk *psk)
{
	struct keyring *k = ctx;
	int i;

	k->lookups++;
	assert_string_equal(psk->identity, identity);
	for (i = 0; i < k->count; i++) {
		if (strcmp(k->psks[i]->identity, identity) == 0) {
			*psk = *k->psks[i];
			return 0;
		}
	}
	return -ENOENT;
}

static struct nvt_sock_tls_opts g_srv_tls = { .psk_find = keyring_find,
					      .psk_find_ctx = &g_keyring };

/* ---- kTLS expectations ---- */

/* The kernel's kTLS counters (TlsTxSw + TlsRxSw), or -1 without kTLS. */
static long
tls_stat_total(void)
{
	char name[64];
	long v, total = 0;
	FILE *f = fopen("/proc/net/tls_stat", "r");

	if (f == NULL) {
		return -1;
	}
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (strcmp(name, "TlsTxSw") == 0 || strcmp(name, "TlsRxSw") == 0) {
			total += v;
		}
	}
	fclose(f);
	return total;
}

/* kTLS is turned off (nvt_sock_impl_set_opts()): expect none, whatever the kernel has. */
static bool g_ktls_off;

static const char *
ktls_expected(void)
{
	return g_ktls_off ? "none" : getenv("NVT_TEST_KTLS");
}

static void
check_ktls(const char *what, const struct nvt_sock_tls_info *info)
{
	const char *expect = ktls_expected();

	printf("sock_ssl_ut: %s: cipher %s, send %s, receive %s\n", what,
	       info->cipher == NVT_SOCK_TLS_AES_128_GCM_SHA256 ? "TLS_AES_128_GCM_SHA256"
							       : "TLS_AES_256_GCM_SHA384",
	       info->ktls_tx ? "kTLS" : "OpenSSL", info->ktls_rx ? "kTLS" : "OpenSSL");
	assert_int_equal(info->ktls, info->ktls_tx && info->ktls_rx);
	if (expect == NULL) {
		return;
	}
	assert_int_equal(info->ktls_tx, strcmp(expect, "none") != 0);
	assert_int_equal(info->ktls_rx, strcmp(expect, "both") == 0);
}

/* ---- one end of a connection ---- */

struct peer {
	struct nvt_sock *sock;
	uint8_t *rx;
	size_t rx_len;
	size_t rx_cap;
	/* Most bytes one readable callback takes (0: all there is). */
	size_t read_chunk;
	int readable_calls;
	bool eof;
	int err;
	int connect_calls;
	int connect_status;
	uint32_t reqs_done;
	int req_err;
};

static void
peer_rx_alloc(struct peer *p, size_t len)
{
	free(p->rx);
	p->rx = malloc(len + 1);
	assert_non_null(p->rx);
	p->rx_cap = len + 1;
	p->rx_len = 0;
}

/* One read into up to three iovecs of odd sizes, at most \p budget bytes. */
static ssize_t
peer_read_once(struct peer *p, size_t budget)
{
	static const size_t parts[3] = { 1000, 7, 30011 };
	struct iovec iov[3];
	size_t left, off = p->rx_len, len;
	int i, cnt = 0;

	left = p->rx_cap - p->rx_len < budget ? p->rx_cap - p->rx_len : budget;
	for (i = 0; i < 3 && left > 0; i++) {
		len = parts[i] < left ? parts[i] : left;
		iov[cnt++] = (struct iovec){ .iov_base = p->rx + off, .iov_len = len };
		off += len;
		left -= len;
	}
	if (cnt == 0) {
		return -EAGAIN;
	}
	return nvt_sock_readv(p->sock, iov, cnt);
}

static void
peer_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct peer *p = arg;
	size_t budget = p->read_chunk != 0 ? p->read_chunk : SIZE_MAX;
	ssize_t n;

	(void)group;
	assert_ptr_equal(sock, p->sock);
	p->readable_calls++;
	do {
		n = peer_read_once(p, budget);
		if (n > 0) {
			p->rx_len += (size_t)n;
			budget -= (size_t)n;
		}
	} while (n > 0 && budget > 0);
	if (n == 0) {
		p->eof = true;
	} else if (n < 0 && n != -EAGAIN) {
		p->err = (int)n;
	}
}

static void
peer_connected(void *arg, struct nvt_sock *sock, int status)
{
	struct peer *p = arg;

	assert_ptr_equal(sock, p->sock);
	p->connect_calls++;
	p->connect_status = status;
}

struct conn {
	struct nvt_sock *lsock;
	uint16_t port;
	struct peer srv;
	struct peer cli;
};

static void
conn_listen(struct conn *c)
{
	struct nvt_sock_opts opts;

	memset(c, 0, sizeof(*c));
	log_reset();
	nvt_sock_get_default_opts(&opts, sizeof(opts));
	opts.tls = &g_srv_tls;
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "ssl", &opts, &c->lsock), 0);
	assert_int_equal(nvt_sock_getaddr(c->lsock, NULL, 0, &c->port, NULL, 0, NULL), 0);
	c->cli.connect_status = 1;
	/* Room for an unexpected byte or an error to show. */
	peer_rx_alloc(&c->srv, 16);
	peer_rx_alloc(&c->cli, 16);
}

static void
conn_connect(struct conn *c, const struct nvt_sock_tls_psk *psk)
{
	struct nvt_sock_tls_opts tls = { .client_psk = psk };
	struct nvt_sock_opts opts;

	nvt_sock_get_default_opts(&opts, sizeof(opts));
	/* The PSK is copied at connect: the options may go now. */
	opts.tls = &tls;
	assert_int_equal(nvt_sock_connect("127.0.0.1", c->port, "ssl", &opts, peer_connected,
					  &c->cli, &c->cli.sock),
			 0);
	assert_int_equal(nvt_sock_group_add_sock(g_cgroup, c->cli.sock, peer_readable, &c->cli), 0);
}

static bool
accept_one(void *ctx)
{
	struct conn *c = ctx;
	int rc = nvt_sock_accept(c->lsock, &c->srv.sock);

	assert_true(rc == 0 || rc == -EAGAIN);
	return rc == 0;
}

static void
conn_accept(struct conn *c)
{
	assert_true(poll_until(accept_one, c));
	assert_int_equal(nvt_sock_group_add_sock(g_sgroup, c->srv.sock, peer_readable, &c->srv), 0);
}

/* Both sides know how the handshake ended. */
static bool
conn_settled(void *ctx)
{
	struct conn *c = ctx;
	struct nvt_sock_tls_info info;

	return c->cli.connect_calls > 0 &&
	       (c->srv.err != 0 || nvt_sock_get_tls_info(c->srv.sock, &info) != -EAGAIN);
}

static void
conn_close(struct conn *c)
{
	nvt_sock_close(&c->cli.sock);
	nvt_sock_close(&c->srv.sock);
	nvt_sock_close(&c->lsock);
	free(c->cli.rx);
	free(c->srv.rx);
	c->cli.rx = c->srv.rx = NULL;
}

/* Listen, connect with \p psk, accept: both sides established and checked. */
static void
conn_establish(struct conn *c, const struct nvt_sock_tls_psk *psk, const char *what)
{
	struct nvt_sock_tls_info ci, si;

	conn_listen(c);
	conn_connect(c, psk);
	conn_accept(c);
	assert_true(poll_until(conn_settled, c));
	assert_int_equal(c->cli.connect_calls, 1);
	assert_int_equal(c->cli.connect_status, 0);
	assert_true(nvt_sock_is_connected(c->cli.sock));
	assert_int_equal(nvt_sock_get_tls_info(c->cli.sock, &ci), 0);
	assert_int_equal(nvt_sock_get_tls_info(c->srv.sock, &si), 0);
	assert_true(ci.established && si.established);
	assert_int_equal(ci.cipher, psk->cipher);
	assert_int_equal(si.cipher, psk->cipher);
	assert_string_equal(ci.identity, psk->identity);
	assert_string_equal(si.identity, psk->identity);
	assert_int_equal(ci.ktls_tx, si.ktls_tx);
	assert_int_equal(ci.ktls_rx, si.ktls_rx);
	check_ktls(what, &ci);
	assert_string_equal(nvt_sock_get_impl_name(c->cli.sock), "ssl");
}

/* ---- sending ---- */

struct sender {
	struct nvt_sock_request *reqs;
	struct iovec *iovs;
	uint8_t *tx;
	size_t len;
	uint32_t count;
	uint32_t done;
	int err;
};

static void
sender_done(void *arg, int err)
{
	struct sender *s = arg;

	s->done++;
	if (err != 0 && s->err == 0) {
		s->err = err;
	}
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

/*
 * Queue \p len bytes as requests of up to five iovecs of sizes from tiny to
 * several records, so records are gathered from many iovecs and some start
 * on a request's own full record.
 */
static void
sender_queue(struct sender *s, struct nvt_sock *sock, size_t len, uint32_t seed)
{
	static const size_t sizes[] = { 1, 100, 4096, 17000, 65536, 3, 24, 16384, 511, 40000 };
	size_t off = 0, part, k = 0, max;
	uint32_t r, i;

	memset(s, 0, sizeof(*s));
	s->len = len;
	s->tx = malloc(len);
	assert_non_null(s->tx);
	fill_pattern(s->tx, len, seed);
	/* Five consecutive sizes always hold one of 4 KiB or more. */
	max = len / 4096 + 16;
	s->reqs = calloc(max, sizeof(*s->reqs));
	s->iovs = calloc(max * 5, sizeof(*s->iovs));
	assert_non_null(s->reqs);
	assert_non_null(s->iovs);
	for (r = 0; off < len; r++) {
		assert_true(r < max);
		for (i = 0; i < 5 && off < len; i++) {
			part = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
			part = part < len - off ? part : len - off;
			s->iovs[r * 5 + i] =
				(struct iovec){ .iov_base = s->tx + off, .iov_len = part };
			off += part;
		}
		s->reqs[r] = (struct nvt_sock_request){
			.cb_fn = sender_done, .cb_arg = s, .iov = &s->iovs[r * 5], .iovcnt = (int)i
		};
	}
	s->count = r;
	for (r = 0; r < s->count; r++) {
		nvt_sock_writev_async(sock, &s->reqs[r]);
	}
}

static void
sender_free(struct sender *s)
{
	free(s->tx);
	free(s->reqs);
	free(s->iovs);
}

struct transfer {
	struct conn *c;
	struct sender *to_srv;
	struct sender *to_cli;
};

static bool
transfer_done(void *ctx)
{
	struct transfer *t = ctx;

	return (t->to_srv == NULL ||
		(t->c->srv.rx_len >= t->to_srv->len && t->to_srv->done == t->to_srv->count)) &&
	       (t->to_cli == NULL ||
		(t->c->cli.rx_len >= t->to_cli->len && t->to_cli->done == t->to_cli->count));
}

/* Settle: a few idle iterations, then the thread must be allowed to sleep (nothing spins). */
static bool
sleepy(void)
{
	int i;

	for (i = 0; i < 4; i++) {
		nvt_thread_poll(g_thread, 0, 0);
		nvt_sock_group_poll(g_sgroup);
		nvt_sock_group_poll(g_cgroup);
	}
	if (!nvt_thread_prepare_sleep(g_thread)) {
		return false;
	}
	nvt_thread_end_sleep(g_thread);
	return true;
}

/* ---- tests ---- */

static void
handshake_and_hello(const struct nvt_sock_tls_psk *psk, const char *what)
{
	struct sender to_srv, to_cli;
	struct transfer t;
	struct conn c;
	long stat0 = tls_stat_total(), stat1;

	conn_establish(&c, psk, what);
	peer_rx_alloc(&c.srv, 5);
	peer_rx_alloc(&c.cli, 7);
	sender_queue(&to_srv, c.cli.sock, 5, 1);
	sender_queue(&to_cli, c.srv.sock, 7, 2);
	t = (struct transfer){ .c = &c, .to_srv = &to_srv, .to_cli = &to_cli };
	assert_true(poll_until(transfer_done, &t));
	assert_memory_equal(c.srv.rx, to_srv.tx, 5);
	assert_memory_equal(c.cli.rx, to_cli.tx, 7);
	assert_int_equal(to_srv.err, 0);
	assert_int_equal(to_cli.err, 0);
	assert_int_equal(g_errors, 0);
	stat1 = tls_stat_total();
	if (ktls_expected() != NULL && strcmp(ktls_expected(), "none") != 0) {
		/* Both sockets of the connection went to the kernel. */
		assert_true(stat0 >= 0 && stat1 >= stat0 + 2);
	}
	printf("sock_ssl_ut: %s: /proc/net/tls_stat TlsTxSw+TlsRxSw %ld -> %ld\n", what, stat0,
	       stat1);
	sender_free(&to_srv);
	sender_free(&to_cli);
	conn_close(&c);
}

static void
test_handshake_sha256(void **state)
{
	(void)state;
	handshake_and_hello(&g_psk256, "SHA-256 PSK");
}

static void
test_handshake_sha384(void **state)
{
	(void)state;
	handshake_and_hello(&g_psk384, "SHA-384 PSK");
}

/*
 * Several MiB both ways at once, queued before the handshake ended, read
 * in odd pieces: the content arrives whole and in order, and afterwards
 * nothing keeps the thread awake.
 */
static void
bulk(const struct nvt_sock_tls_psk *psk, const char *what)
{
	struct sender to_srv, to_cli;
	struct transfer t;
	struct conn c;

	conn_listen(&c);
	conn_connect(&c, psk);
	sender_queue(&to_srv, c.cli.sock, BULK_LEN, 3);
	conn_accept(&c);
	sender_queue(&to_cli, c.srv.sock, BULK_LEN + 77, 4);
	peer_rx_alloc(&c.srv, to_srv.len);
	peer_rx_alloc(&c.cli, to_cli.len);
	t = (struct transfer){ .c = &c, .to_srv = &to_srv, .to_cli = &to_cli };
	assert_true(poll_until(transfer_done, &t));
	assert_int_equal(c.cli.connect_status, 0);
	assert_int_equal(c.srv.rx_len, to_srv.len);
	assert_int_equal(c.cli.rx_len, to_cli.len);
	assert_memory_equal(c.srv.rx, to_srv.tx, to_srv.len);
	assert_memory_equal(c.cli.rx, to_cli.tx, to_cli.len);
	assert_int_equal(to_srv.err, 0);
	assert_int_equal(to_cli.err, 0);
	assert_true(sleepy());
	printf("sock_ssl_ut: %s: %zu + %zu bytes in %u + %u requests\n", what, to_srv.len,
	       to_cli.len, to_srv.count, to_cli.count);
	sender_free(&to_srv);
	sender_free(&to_cli);
	conn_close(&c);
}

static void
test_bulk(void **state)
{
	(void)state;
	bulk(&g_psk256, "bulk, SHA-256 PSK");
	bulk(&g_psk384, "bulk, SHA-384 PSK");
}

/* OpenSSL's record layer: the same with kTLS turned off, wherever the kernel has it. */
static void
test_bulk_without_ktls(void **state)
{
	struct nvt_sock_impl_opts opts;
	struct nvt_sock_tls_info info;
	struct conn c;

	(void)state;
	assert_int_equal(nvt_sock_impl_get_opts("ssl", &opts, sizeof(opts)), 0);
	opts.enable_ktls = false;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &opts, sizeof(opts)), 0);
	g_ktls_off = true;
	conn_establish(&c, &g_psk256, "kTLS off");
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), 0);
	assert_false(info.ktls_tx || info.ktls_rx);
	conn_close(&c);
	bulk(&g_psk384, "bulk, kTLS off");
	opts.enable_ktls = true;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &opts, sizeof(opts)), 0);
	g_ktls_off = false;
}

static bool
srv_has_all(void *ctx)
{
	struct conn *c = ctx;

	return c->srv.rx_len + 1 >= c->srv.rx_cap;
}

/*
 * A reader that takes a few bytes per callback: what OpenSSL read ahead
 * and holds while the fd has nothing must keep the socket reported.
 */
static void
test_partial_reads(void **state)
{
	struct sender to_srv;
	struct conn c;

	(void)state;
	conn_establish(&c, &g_psk256, "partial reads");
	peer_rx_alloc(&c.srv, 300000);
	c.srv.read_chunk = 333;
	sender_queue(&to_srv, c.cli.sock, 300000, 5);
	assert_true(poll_until(srv_has_all, &c));
	assert_memory_equal(c.srv.rx, to_srv.tx, to_srv.len);
	assert_true(c.srv.readable_calls >= (int)(300000 / 333));
	assert_true(sleepy());
	sender_free(&to_srv);
	conn_close(&c);
}

static bool
both_failed(void *ctx)
{
	struct conn *c = ctx;

	return c->srv.err != 0 && c->cli.err != 0;
}

/* A failed handshake: both sides report \p rc, and each logs one line with \p text. */
static void
expect_refused(const struct nvt_sock_tls_psk *offered, int rc, const char *srv_text,
	       const char *cli_text)
{
	struct nvt_sock_tls_info info;
	struct conn c;

	log_reset();
	conn_listen(&c);
	conn_connect(&c, offered);
	conn_accept(&c);
	assert_true(poll_until(conn_settled, &c));
	if (c.cli.connect_status != rc) {
		fprintf(stderr, "%s", g_log);
	}
	assert_int_equal(c.cli.connect_calls, 1);
	assert_int_equal(c.cli.connect_status, rc);
	assert_false(nvt_sock_is_connected(c.cli.sock));
	assert_int_equal(nvt_sock_get_tls_info(c.cli.sock, &info), rc);
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), rc);
	/* Each owner hears of it as a read error too, poll after poll. */
	assert_true(poll_until(both_failed, &c));
	assert_int_equal(c.srv.err, rc);
	assert_int_equal(c.cli.err, rc);
	assert_int_equal(c.srv.rx_len, 0);
	expect_log(srv_text);
	expect_log(cli_text);
	assert_int_equal(g_errors, 2);
	conn_close(&c);
}

static void
test_unknown_identity(void **state)
{
	struct nvt_sock_tls_psk stranger;

	(void)state;
	psk_make(&stranger, "NVMe0R01 nqn.2014-08.org.nvmexpress:stranger nqn.2016-06.io.nvtcp:s",
		 NVT_SOCK_TLS_AES_128_GCM_SHA256, 32, 9);
	expect_refused(&stranger, -EKEYREJECTED,
		       "with client 127.0.0.1:", "unknown PSK identity 'NVMe0R01 nqn.2014-08.org");
	expect_log("with server 127.0.0.1:");
	expect_log("unknown psk identity");
}

static void
test_wrong_key(void **state)
{
	struct nvt_sock_tls_psk forged = g_psk384;

	(void)state;
	forged.key[5] ^= 1;
	expect_refused(&forged, -EKEYREJECTED, "wrong PSK (binder does not verify)",
		       "the peer refused the PSK (alert illegal parameter): wrong key?");
}

/* The keyring's PSK of the identity is for the other suite: no suite in common. */
static void
test_cipher_mismatch(void **state)
{
	struct nvt_sock_tls_psk other;

	(void)state;
	psk_make(&other, g_psk256.identity, NVT_SOCK_TLS_AES_256_GCM_SHA384, 48, 1);
	expect_refused(&other, -EPROTO, "no shared cipher", "handshake failure");
}

/* A plain TCP peer, as an NVMe/TCP host without TLS would be. */
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

static bool
srv_failed(void *ctx)
{
	return ((struct conn *)ctx)->srv.err != 0;
}

struct raw_eof {
	int fd;
	bool closed;
};

static bool
raw_sees_close(void *ctx)
{
	struct raw_eof *r = ctx;
	char buf[64];
	ssize_t n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);

	assert_true(n <= 0);
	r->closed = n == 0 || (n < 0 && errno != EAGAIN);
	return r->closed;
}

static void
test_plaintext_client(void **state)
{
	/* An ICReq: PDU type 0, header and PDU length 128. */
	uint8_t icreq[128] = { 0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00 };
	struct raw_eof r;
	struct conn c;

	(void)state;
	conn_listen(&c);
	log_reset();
	r.fd = raw_connect(c.port);
	assert_int_equal(send(r.fd, icreq, sizeof(icreq), 0), (ssize_t)sizeof(icreq));
	conn_accept(&c);
	assert_true(poll_until(srv_failed, &c));
	assert_int_equal(c.srv.err, -EPROTO);
	assert_int_equal(g_errors, 1);
	expect_log("peer sent plaintext, not TLS");
	expect_log("with client 127.0.0.1:");
	/* The peer sees the connection end. */
	assert_true(poll_until(raw_sees_close, &r));
	close(r.fd);
	conn_close(&c);
	assert_int_equal(g_errors, 1);
}

/* A target without TLS: it reads the ClientHello as a PDU and answers in plaintext or hangs up. */
struct plain_srv {
	struct nvt_sock *sock;
	bool hang_up;
	struct nvt_sock_request req;
	struct iovec iov;
	size_t got;
};

static void
plain_srv_done(void *arg, int err)
{
	(void)arg;
	(void)err;
}

static void
plain_srv_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	static uint8_t term_req[24] = { 0x03, 0x00, 0x18, 0x00, 0x18, 0x00, 0x00, 0x00 };
	struct plain_srv *p = arg;
	uint8_t buf[512];
	ssize_t n;

	(void)group;
	while ((n = nvt_sock_recv(sock, buf, sizeof(buf))) > 0) {
		p->got += (size_t)n;
	}
	if (p->got == 0 || p->iov.iov_base != NULL) {
		return;
	}
	if (p->hang_up) {
		nvt_sock_close(&p->sock);
		return;
	}
	p->iov = (struct iovec){ .iov_base = term_req, .iov_len = sizeof(term_req) };
	p->req = (struct nvt_sock_request){ .cb_fn = plain_srv_done, .iov = &p->iov, .iovcnt = 1 };
	nvt_sock_writev_async(sock, &p->req);
}

static bool
cli_connect_reported(void *ctx)
{
	return ((struct conn *)ctx)->cli.connect_calls > 0;
}

static void
tls_client_plain_server(bool hang_up, int rc, const char *text)
{
	struct plain_srv ps = { .hang_up = hang_up };
	struct conn c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "posix", NULL, &c.lsock), 0);
	assert_int_equal(nvt_sock_getaddr(c.lsock, NULL, 0, &c.port, NULL, 0, NULL), 0);
	log_reset();
	conn_connect(&c, &g_psk256);
	assert_true(poll_until(accept_one, &c));
	ps.sock = c.srv.sock;
	c.srv.sock = NULL;
	assert_int_equal(nvt_sock_group_add_sock(g_sgroup, ps.sock, plain_srv_readable, &ps), 0);
	assert_true(poll_until(cli_connect_reported, &c));
	assert_int_equal(c.cli.connect_status, rc);
	assert_true(ps.got > 0);
	assert_int_equal(g_errors, 1);
	expect_log("with server 127.0.0.1:");
	expect_log(text);
	nvt_sock_close(&ps.sock);
	conn_close(&c);
}

static void
test_tls_client_plain_server(void **state)
{
	(void)state;
	tls_client_plain_server(false, -EPROTO, "peer sent plaintext, not TLS");
	tls_client_plain_server(true, -ECONNRESET, "the peer closed the connection");
}

static bool
srv_eof(void *ctx)
{
	return ((struct conn *)ctx)->srv.eof;
}

static bool
cli_eof(void *ctx)
{
	return ((struct conn *)ctx)->cli.eof;
}

/* A peer's close (close_notify, then FIN) is the end of the stream, on every later read too. */
static void
test_peer_close(void **state)
{
	uint8_t b;
	struct conn c;

	(void)state;
	conn_establish(&c, &g_psk256, "peer close");
	peer_rx_alloc(&c.srv, 16);
	nvt_sock_close(&c.cli.sock);
	assert_true(poll_until(srv_eof, &c));
	assert_int_equal(c.srv.err, 0);
	assert_int_equal(nvt_sock_recv(c.srv.sock, &b, 1), 0);
	conn_close(&c);

	conn_establish(&c, &g_psk384, "peer close");
	peer_rx_alloc(&c.cli, 16);
	nvt_sock_close(&c.srv.sock);
	assert_true(poll_until(cli_eof, &c));
	assert_int_equal(c.cli.err, 0);
	assert_int_equal(nvt_sock_recv(c.cli.sock, &b, 1), 0);
	conn_close(&c);
	assert_int_equal(g_errors, 0);
}

static bool
cli_gone(void *ctx)
{
	struct conn *c = ctx;

	return c->cli.eof || c->cli.err != 0;
}

static bool
fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* Closing sockets at each step of a handshake leaks nothing (the sanitizer checks at exit). */
static void
test_close_mid_handshake(void **state)
{
	uint64_t deadline;
	struct conn c;

	(void)state;
	/* A client closed before its TCP connect was reported. */
	conn_listen(&c);
	conn_connect(&c, &g_psk256);
	nvt_sock_close(&c.cli.sock);
	conn_close(&c);

	/* A server closed while it waits for the client's Finished. */
	conn_listen(&c);
	conn_connect(&c, &g_psk256);
	assert_true(poll_until(accept_one, &c));
	/* The client's group sends the ClientHello; then the server's answers it once. */
	deadline = now_ms() + DEADLINE_MS;
	while (!fd_readable(nvt_sock_get_fd(c.srv.sock))) {
		assert_true(now_ms() < deadline);
		assert_true(nvt_sock_group_poll(g_cgroup) >= 0);
	}
	assert_int_equal(nvt_sock_group_add_sock(g_sgroup, c.srv.sock, peer_readable, &c.srv), 0);
	assert_int_equal(nvt_sock_group_poll(g_sgroup), 0);
	while (!fd_readable(nvt_sock_get_fd(c.cli.sock))) {
		assert_true(now_ms() < deadline);
	}
	nvt_sock_close(&c.srv.sock);
	/*
	 * The client had the server's whole flight: its side of the handshake
	 * may end well; then it reads the end of the stream.
	 */
	assert_true(poll_until(cli_connect_reported, &c));
	if (c.cli.connect_status == 0) {
		assert_true(poll_until(cli_gone, &c));
	}
	conn_close(&c);

	/* A client closed after its ClientHello, before the server read it. */
	conn_listen(&c);
	conn_connect(&c, &g_psk256);
	conn_accept(&c);
	nvt_sock_close(&c.cli.sock);
	assert_true(poll_until(srv_failed, &c));
	assert_true(c.srv.err < 0);
	conn_close(&c);
}

static void
test_opts(void **state)
{
	struct nvt_sock_tls_psk bad = g_psk256;
	struct nvt_sock_tls_opts tls = { .client_psk = &bad };
	struct nvt_sock_impl_opts io;
	struct nvt_sock_tls_info info;
	struct nvt_sock_opts opts;
	struct nvt_sock *sock = NULL;

	(void)state;
	log_reset();
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "ssl", NULL, &sock), -EINVAL);
	expect_log("psk_find");
	nvt_sock_get_default_opts(&opts, sizeof(opts));
	opts.tls = &tls;
	bad.key_len = 31;
	assert_int_equal(nvt_sock_connect("127.0.0.1", 4420, "ssl", &opts, NULL, NULL, &sock),
			 -EINVAL);
	expect_log("31 bytes for TLS_AES_128_GCM_SHA256, which takes 32");
	bad.key_len = 32;
	bad.cipher = 3;
	assert_int_equal(nvt_sock_connect("127.0.0.1", 4420, "ssl", &opts, NULL, NULL, &sock),
			 -EINVAL);
	tls.client_psk = NULL;
	assert_int_equal(nvt_sock_connect("127.0.0.1", 4420, "ssl", &opts, NULL, NULL, &sock),
			 -EINVAL);
	assert_null(sock);

	assert_int_equal(nvt_sock_impl_get_opts("ssl", &io, sizeof(io)), 0);
	assert_int_equal(io.tls_version, 0);
	assert_true(io.enable_ktls);
	io.tls_version = 12;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &io, sizeof(io)), -EINVAL);
	assert_int_equal(nvt_sock_impl_get_opts("ssl", &io, sizeof(io)), 0);
	assert_int_equal(io.tls_version, 0);
	io.tls_version = 13;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &io, sizeof(io)), 0);
	assert_int_equal(nvt_sock_impl_get_opts("ssl", &io, sizeof(io)), 0);
	assert_int_equal(io.tls_version, 13);
	io.tls_version = 0;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &io, sizeof(io)), 0);
	assert_int_equal(nvt_sock_impl_get_opts("posix", &io, sizeof(io)), -ENOTSUP);
	assert_int_equal(nvt_sock_impl_get_opts("nope", &io, sizeof(io)), -EINVAL);

	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "posix", NULL, &sock), 0);
	assert_int_equal(nvt_sock_get_tls_info(sock, &info), -ENOTSUP);
	nvt_sock_close(&sock);
	opts.tls = &g_srv_tls;
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "ssl", &opts, &sock), 0);
	assert_int_equal(nvt_sock_get_tls_info(sock, &info), -ENOTCONN);
	nvt_sock_close(&sock);
	/* ssl is never the default: its sockets need their TLS settings. */
	assert_string_equal(nvt_sock_get_default_impl(), "posix");
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(nvt_thread_lib_init(NULL, 0), 0);
	g_thread = nvt_thread_create("sock_ssl_ut", NULL);
	assert_non_null(g_thread);
	nvt_set_thread(g_thread);
	g_sgroup = nvt_sock_group_create(NULL);
	g_cgroup = nvt_sock_group_create(NULL);
	assert_non_null(g_sgroup);
	assert_non_null(g_cgroup);
	nvt_log_set_sink(log_sink, NULL);
	psk_make(&g_psk256,
		 "NVMe0R01 nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-0000000000aa "
		 "nqn.2016-06.io.nvtcp:tls",
		 NVT_SOCK_TLS_AES_128_GCM_SHA256, 32, 0x11);
	psk_make(&g_psk384,
		 "NVMe0R02 nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-0000000000bb "
		 "nqn.2016-06.io.nvtcp:tls",
		 NVT_SOCK_TLS_AES_256_GCM_SHA384, 48, 0x55);
	g_keyring = (struct keyring){ .psks = { &g_psk256, &g_psk384 }, .count = 2 };
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nvt_log_set_sink(NULL, NULL);
	assert_int_equal(nvt_sock_group_close(&g_sgroup), 0);
	assert_int_equal(nvt_sock_group_close(&g_cgroup), 0);
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
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_handshake_sha256),
		cmocka_unit_test(test_handshake_sha384),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_bulk_without_ktls),
		cmocka_unit_test(test_partial_reads),
		cmocka_unit_test(test_unknown_identity),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_cipher_mismatch),
		cmocka_unit_test(test_plaintext_client),
		cmocka_unit_test(test_tls_client_plain_server),
		cmocka_unit_test(test_peer_close),
		cmocka_unit_test(test_close_mid_handshake),
	};

	return cmocka_run_group_tests_name("sock_ssl", tests, setup, teardown);
}
