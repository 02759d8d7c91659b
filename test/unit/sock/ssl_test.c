/* SPDX-License-Identifier: BSD-3-Clause */
/* What the tests of the "ssl" socket implementation share (ssl_test.h). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nvtcp/log.h"
#include "ssl_test.h"

struct nvt_thread *g_st_thread;
struct nvt_sock_group *g_st_sgroup;
struct nvt_sock_group *g_st_cgroup;

uint64_t
st_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll the thread and both groups until done() or the deadline. */
bool
st_poll_until(st_done_fn done, void *ctx)
{
	uint64_t deadline = st_now_ms() + ST_DEADLINE_MS;

	while (!done(ctx)) {
		if (st_now_ms() > deadline) {
			return false;
		}
		nvt_thread_poll(g_st_thread, 0, 0);
		assert_true(nvt_sock_group_poll(g_st_sgroup) >= 0);
		assert_true(nvt_sock_group_poll(g_st_cgroup) >= 0);
	}
	return true;
}

/* ---- log capture: error lines are counted, all text is kept ---- */

char g_st_log[16384];
int g_st_errors;

static void
st_log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	size_t used = strlen(g_st_log);

	(void)ctx;
	if (level == NVT_LOG_ERROR) {
		g_st_errors++;
	}
	snprintf(g_st_log + used, sizeof(g_st_log) - used, "%s\n", line);
}

void
st_log_reset(void)
{
	g_st_log[0] = '\0';
	g_st_errors = 0;
}

void
st_expect_log(const char *text)
{
	if (strstr(g_st_log, text) == NULL) {
		fprintf(stderr, "log lacks '%s':\n%s", text, g_st_log);
		fail();
	}
}

/* ---- PSKs and the server's st_keyring ---- */

struct nvt_sock_tls_psk g_st_psk256;
struct nvt_sock_tls_psk g_st_psk384;

void
st_psk_make(struct nvt_sock_tls_psk *psk, const char *identity, unsigned int cipher, size_t len,
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

struct st_keyring g_st_keyring;

static int
st_keyring_find(void *ctx, const char *identity, struct nvt_sock_tls_psk *psk)
{
	struct st_keyring *k = ctx;
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

struct nvt_sock_tls_opts g_st_srv_tls = { .psk_find = st_keyring_find,
					  .psk_find_ctx = &g_st_keyring };

/* ---- kTLS expectations ---- */

/* The kernel's kTLS counters (TlsTxSw + TlsRxSw), or -1 without kTLS. */
long
st_tls_stat_total(void)
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
bool g_st_ktls_off;

const char *
st_ktls_expected(void)
{
	return g_st_ktls_off ? "none" : getenv("NVT_TEST_KTLS");
}

void
st_check_ktls(const char *what, const struct nvt_sock_tls_info *info)
{
	const char *expect = st_ktls_expected();

	printf("%s: %s: cipher %s, send %s, receive %s\n", program_invocation_short_name, what,
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

void
st_peer_rx_alloc(struct st_peer *p, size_t len)
{
	free(p->rx);
	p->rx = malloc(len + 1);
	assert_non_null(p->rx);
	p->rx_cap = len + 1;
	p->rx_len = 0;
}

/* One read into up to three iovecs of odd sizes, at most \p budget bytes. */
static ssize_t
st_peer_read_once(struct st_peer *p, size_t budget)
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

void
st_peer_readable(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct st_peer *p = arg;
	size_t budget = p->read_chunk != 0 ? p->read_chunk : SIZE_MAX;
	ssize_t n;

	(void)group;
	assert_ptr_equal(sock, p->sock);
	p->readable_calls++;
	do {
		n = st_peer_read_once(p, budget);
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

void
st_peer_connected(void *arg, struct nvt_sock *sock, int status)
{
	struct st_peer *p = arg;

	assert_ptr_equal(sock, p->sock);
	p->connect_calls++;
	p->connect_status = status;
}

void
st_conn_listen(struct st_conn *c)
{
	struct nvt_sock_opts opts;

	memset(c, 0, sizeof(*c));
	st_log_reset();
	nvt_sock_get_default_opts(&opts, sizeof(opts));
	opts.tls = &g_st_srv_tls;
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "ssl", &opts, &c->lsock), 0);
	assert_int_equal(nvt_sock_getaddr(c->lsock, NULL, 0, &c->port, NULL, 0, NULL), 0);
	c->cli.connect_status = 1;
	/* Room for an unexpected byte or an error to show. */
	st_peer_rx_alloc(&c->srv, 16);
	st_peer_rx_alloc(&c->cli, 16);
}

void
st_conn_connect(struct st_conn *c, const struct nvt_sock_tls_psk *psk)
{
	struct nvt_sock_tls_opts tls = { .client_psk = psk };
	struct nvt_sock_opts opts;

	nvt_sock_get_default_opts(&opts, sizeof(opts));
	/* The PSK is copied at connect: the options may go now. */
	opts.tls = &tls;
	assert_int_equal(nvt_sock_connect("127.0.0.1", c->port, "ssl", &opts, st_peer_connected,
					  &c->cli, &c->cli.sock),
			 0);
	assert_int_equal(
		nvt_sock_group_add_sock(g_st_cgroup, c->cli.sock, st_peer_readable, &c->cli), 0);
}

bool
st_accept_one(void *ctx)
{
	struct st_conn *c = ctx;
	int rc = nvt_sock_accept(c->lsock, &c->srv.sock);

	assert_true(rc == 0 || rc == -EAGAIN);
	return rc == 0;
}

void
st_conn_accept(struct st_conn *c)
{
	assert_true(st_poll_until(st_accept_one, c));
	assert_int_equal(
		nvt_sock_group_add_sock(g_st_sgroup, c->srv.sock, st_peer_readable, &c->srv), 0);
}

/* Both sides know how the handshake ended. */
bool
st_conn_settled(void *ctx)
{
	struct st_conn *c = ctx;
	struct nvt_sock_tls_info info;

	return c->cli.connect_calls > 0 &&
	       (c->srv.err != 0 || nvt_sock_get_tls_info(c->srv.sock, &info) != -EAGAIN);
}

void
st_conn_close(struct st_conn *c)
{
	nvt_sock_close(&c->cli.sock);
	nvt_sock_close(&c->srv.sock);
	nvt_sock_close(&c->lsock);
	free(c->cli.rx);
	free(c->srv.rx);
	c->cli.rx = c->srv.rx = NULL;
}

/* Listen, connect with \p psk, accept: both sides established and checked. */
void
st_conn_establish(struct st_conn *c, const struct nvt_sock_tls_psk *psk, const char *what)
{
	struct nvt_sock_tls_info ci, si;

	st_conn_listen(c);
	st_conn_connect(c, psk);
	st_conn_accept(c);
	assert_true(st_poll_until(st_conn_settled, c));
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
	st_check_ktls(what, &ci);
	assert_string_equal(nvt_sock_get_impl_name(c->cli.sock), "ssl");
}

/* ---- sending ---- */

static void
st_sender_done(void *arg, int err)
{
	struct st_sender *s = arg;

	s->done++;
	if (err != 0 && s->err == 0) {
		s->err = err;
	}
}

void
st_fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
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
void
st_sender_queue(struct st_sender *s, struct nvt_sock *sock, size_t len, uint32_t seed)
{
	static const size_t sizes[] = { 1, 100, 4096, 17000, 65536, 3, 24, 16384, 511, 40000 };
	size_t off = 0, part, k = 0, max;
	uint32_t r, i;

	memset(s, 0, sizeof(*s));
	s->len = len;
	s->tx = malloc(len);
	assert_non_null(s->tx);
	st_fill_pattern(s->tx, len, seed);
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
		s->reqs[r] = (struct nvt_sock_request){ .cb_fn = st_sender_done,
							.cb_arg = s,
							.iov = &s->iovs[r * 5],
							.iovcnt = (int)i };
	}
	s->count = r;
	for (r = 0; r < s->count; r++) {
		nvt_sock_writev_async(sock, &s->reqs[r]);
	}
}

void
st_sender_free(struct st_sender *s)
{
	free(s->tx);
	free(s->reqs);
	free(s->iovs);
}

bool
st_transfer_done(void *ctx)
{
	struct st_transfer *t = ctx;

	return (t->to_srv == NULL ||
		(t->c->srv.rx_len >= t->to_srv->len && t->to_srv->done == t->to_srv->count)) &&
	       (t->to_cli == NULL ||
		(t->c->cli.rx_len >= t->to_cli->len && t->to_cli->done == t->to_cli->count));
}

/* Settle: a few idle iterations, then the thread must be allowed to sleep (nothing spins). */
bool
st_sleepy(void)
{
	struct pollfd pfd = { .fd = nvt_thread_get_interrupt_fd(g_st_thread), .events = POLLIN };
	bool quiet;
	int i;

	for (i = 0; i < 4; i++) {
		nvt_thread_poll(g_st_thread, 0, 0);
		nvt_sock_group_poll(g_st_sgroup);
		nvt_sock_group_poll(g_st_cgroup);
	}
	if (!nvt_thread_prepare_sleep(g_st_thread)) {
		return false;
	}
	/* Nothing may wake it either: no socket keeps a group's fd ready. */
	quiet = poll(&pfd, 1, 0) == 0;
	nvt_thread_end_sleep(g_st_thread);
	return quiet;
}

int
st_setup(void **state)
{
	(void)state;
	assert_int_equal(nvt_thread_lib_init(NULL, 0), 0);
	g_st_thread = nvt_thread_create("sock_ssl_ut", NULL);
	assert_non_null(g_st_thread);
	nvt_set_thread(g_st_thread);
	g_st_sgroup = nvt_sock_group_create(NULL);
	g_st_cgroup = nvt_sock_group_create(NULL);
	assert_non_null(g_st_sgroup);
	assert_non_null(g_st_cgroup);
	nvt_log_set_sink(st_log_sink, NULL);
	st_psk_make(&g_st_psk256,
		    "NVMe0R01 nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-0000000000aa "
		    "nqn.2016-06.io.nvtcp:tls",
		    NVT_SOCK_TLS_AES_128_GCM_SHA256, 32, 0x11);
	st_psk_make(&g_st_psk384,
		    "NVMe0R02 nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-0000000000bb "
		    "nqn.2016-06.io.nvtcp:tls",
		    NVT_SOCK_TLS_AES_256_GCM_SHA384, 48, 0x55);
	g_st_keyring = (struct st_keyring){ .psks = { &g_st_psk256, &g_st_psk384 }, .count = 2 };
	return 0;
}

int
st_teardown(void **state)
{
	(void)state;
	nvt_log_set_sink(NULL, NULL);
	assert_int_equal(nvt_sock_group_close(&g_st_sgroup), 0);
	assert_int_equal(nvt_sock_group_close(&g_st_cgroup), 0);
	nvt_thread_exit(g_st_thread);
	while (!nvt_thread_is_exited(g_st_thread)) {
		nvt_thread_poll(g_st_thread, 0, 0);
	}
	nvt_thread_destroy(&g_st_thread);
	nvt_set_thread(NULL);
	nvt_thread_lib_fini();
	return 0;
}
