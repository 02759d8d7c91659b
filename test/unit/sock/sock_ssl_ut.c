/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "ssl" socket implementation over loopback: a TLS server and client
 * in one process (ssl_test.h). With NVT_TEST_KTLS=tx or both, the kernel's
 * /proc/net/tls_stat must count the sockets that went to it.
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

#include "nvtcp/sock.h"
#include "ssl_test.h"

#define BULK_LEN (4u << 20)

/* ---- tests ---- */

static void
handshake_and_hello(const struct nvt_sock_tls_psk *psk, const char *what)
{
	struct st_sender to_srv, to_cli;
	struct st_transfer t;
	struct st_conn c;
	long stat0 = st_tls_stat_total(), stat1;

	st_conn_establish(&c, psk, what);
	st_peer_rx_alloc(&c.srv, 5);
	st_peer_rx_alloc(&c.cli, 7);
	st_sender_queue(&to_srv, c.cli.sock, 5, 1);
	st_sender_queue(&to_cli, c.srv.sock, 7, 2);
	t = (struct st_transfer){ .c = &c, .to_srv = &to_srv, .to_cli = &to_cli };
	assert_true(st_poll_until(st_transfer_done, &t));
	assert_memory_equal(c.srv.rx, to_srv.tx, 5);
	assert_memory_equal(c.cli.rx, to_cli.tx, 7);
	assert_int_equal(to_srv.err, 0);
	assert_int_equal(to_cli.err, 0);
	assert_int_equal(g_st_errors, 0);
	stat1 = st_tls_stat_total();
	if (st_ktls_expected() != NULL && strcmp(st_ktls_expected(), "none") != 0) {
		/* Both sockets of the connection went to the kernel. */
		assert_true(stat0 >= 0 && stat1 >= stat0 + 2);
	}
	printf("%s: %s: /proc/net/tls_stat TlsTxSw+TlsRxSw %ld -> %ld\n",
	       program_invocation_short_name, what, stat0, stat1);
	st_sender_free(&to_srv);
	st_sender_free(&to_cli);
	st_conn_close(&c);
}

static void
test_handshake_sha256(void **state)
{
	(void)state;
	handshake_and_hello(&g_st_psk256, "SHA-256 PSK");
}

static void
test_handshake_sha384(void **state)
{
	(void)state;
	handshake_and_hello(&g_st_psk384, "SHA-384 PSK");
}

/*
 * Several MiB both ways at once, queued before the handshake ended, read
 * in odd pieces: the content arrives whole and in order, and afterwards
 * nothing keeps the thread awake.
 */
static void
bulk(const struct nvt_sock_tls_psk *psk, const char *what)
{
	struct st_sender to_srv, to_cli;
	struct st_transfer t;
	struct st_conn c;

	st_conn_listen(&c);
	st_conn_connect(&c, psk);
	st_sender_queue(&to_srv, c.cli.sock, BULK_LEN, 3);
	st_conn_accept(&c);
	st_sender_queue(&to_cli, c.srv.sock, BULK_LEN + 77, 4);
	st_peer_rx_alloc(&c.srv, to_srv.len);
	st_peer_rx_alloc(&c.cli, to_cli.len);
	t = (struct st_transfer){ .c = &c, .to_srv = &to_srv, .to_cli = &to_cli };
	assert_true(st_poll_until(st_transfer_done, &t));
	assert_int_equal(c.cli.connect_status, 0);
	assert_int_equal(c.srv.rx_len, to_srv.len);
	assert_int_equal(c.cli.rx_len, to_cli.len);
	assert_memory_equal(c.srv.rx, to_srv.tx, to_srv.len);
	assert_memory_equal(c.cli.rx, to_cli.tx, to_cli.len);
	assert_int_equal(to_srv.err, 0);
	assert_int_equal(to_cli.err, 0);
	assert_true(st_sleepy());
	printf("%s: %s: %zu + %zu bytes in %u + %u requests\n", program_invocation_short_name, what,
	       to_srv.len, to_cli.len, to_srv.count, to_cli.count);
	st_sender_free(&to_srv);
	st_sender_free(&to_cli);
	st_conn_close(&c);
}

static void
test_bulk(void **state)
{
	(void)state;
	bulk(&g_st_psk256, "bulk, SHA-256 PSK");
	bulk(&g_st_psk384, "bulk, SHA-384 PSK");
}

/* OpenSSL's record layer: the same with kTLS turned off, wherever the kernel has it. */
static void
test_bulk_without_ktls(void **state)
{
	struct nvt_sock_impl_opts opts;
	struct nvt_sock_tls_info info;
	struct st_conn c;

	(void)state;
	assert_int_equal(nvt_sock_impl_get_opts("ssl", &opts, sizeof(opts)), 0);
	opts.enable_ktls = false;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &opts, sizeof(opts)), 0);
	g_st_ktls_off = true;
	st_conn_establish(&c, &g_st_psk256, "kTLS off");
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), 0);
	assert_false(info.ktls_tx || info.ktls_rx);
	st_conn_close(&c);
	bulk(&g_st_psk384, "bulk, kTLS off");
	opts.enable_ktls = true;
	assert_int_equal(nvt_sock_impl_set_opts("ssl", &opts, sizeof(opts)), 0);
	g_st_ktls_off = false;
}

static bool
srv_has_all(void *ctx)
{
	struct st_conn *c = ctx;

	return c->srv.rx_len + 1 >= c->srv.rx_cap;
}

/*
 * A reader that takes a few bytes per callback: what OpenSSL read ahead
 * and holds while the fd has nothing must keep the socket reported.
 */
static void
test_partial_reads(void **state)
{
	struct st_sender to_srv;
	struct st_conn c;

	(void)state;
	st_conn_establish(&c, &g_st_psk256, "partial reads");
	st_peer_rx_alloc(&c.srv, 300000);
	c.srv.read_chunk = 333;
	st_sender_queue(&to_srv, c.cli.sock, 300000, 5);
	assert_true(st_poll_until(srv_has_all, &c));
	assert_memory_equal(c.srv.rx, to_srv.tx, to_srv.len);
	assert_true(c.srv.readable_calls >= (int)(300000 / 333));
	assert_true(st_sleepy());
	st_sender_free(&to_srv);
	st_conn_close(&c);
}

/* A done fn: the fd of the socket at \p ctx (a struct nvt_sock **) has input. */
static bool
fd_readable(void *ctx)
{
	struct pollfd pfd = { .fd = nvt_sock_get_fd(*(struct nvt_sock **)ctx), .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static bool
srv_has_some(void *ctx)
{
	return ((struct st_conn *)ctx)->srv.rx_len > 0;
}

static bool
sender_finished(void *ctx)
{
	struct st_sender *s = ctx;

	return s->done == s->count;
}

/*
 * A socket leaves its group and joins another, as a target pauses
 * receiving or hands a connection to another poll group: mid-handshake,
 * the handshake goes on in the new group; with data left unread (in the
 * kernel, or read ahead by OpenSSL), the new group reports it, while out
 * of any group nothing is reported.
 */
static void
test_regroup(void **state)
{
	struct nvt_sock_tls_info info;
	struct st_sender to_srv;
	struct st_conn c;
	size_t got;
	int i;

	(void)state;
	st_conn_listen(&c);
	st_conn_connect(&c, &g_st_psk384);
	assert_true(st_poll_until(st_accept_one, &c));
	assert_true(st_poll_until(fd_readable, &c.srv.sock));
	/* The server answers the ClientHello in its group, and ends the handshake in another. */
	assert_int_equal(nvt_sock_group_add_sock(g_st_sgroup, c.srv.sock, st_peer_readable, &c.srv),
			 0);
	assert_int_equal(nvt_sock_group_poll(g_st_sgroup), 0);
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), -EAGAIN);
	assert_int_equal(nvt_sock_group_remove_sock(g_st_sgroup, c.srv.sock), 0);
	assert_int_equal(nvt_sock_group_add_sock(g_st_cgroup, c.srv.sock, st_peer_readable, &c.srv),
			 0);
	assert_true(st_poll_until(st_conn_settled, &c));
	assert_int_equal(c.cli.connect_status, 0);
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), 0);

	st_peer_rx_alloc(&c.srv, 200000);
	c.srv.read_chunk = 1000;
	st_sender_queue(&to_srv, c.cli.sock, 200000, 6);
	assert_true(st_poll_until(srv_has_some, &c));
	assert_true(st_poll_until(sender_finished, &to_srv));
	assert_int_equal(nvt_sock_group_remove_sock(g_st_cgroup, c.srv.sock), 0);
	got = c.srv.rx_len;
	for (i = 0; i < 8; i++) {
		assert_true(nvt_sock_group_poll(g_st_sgroup) >= 0);
		assert_true(nvt_sock_group_poll(g_st_cgroup) >= 0);
	}
	assert_int_equal(c.srv.rx_len, got);
	assert_true(got < to_srv.len);
	c.srv.read_chunk = 0;
	assert_int_equal(nvt_sock_group_add_sock(g_st_sgroup, c.srv.sock, st_peer_readable, &c.srv),
			 0);
	assert_true(st_poll_until(srv_has_all, &c));
	assert_memory_equal(c.srv.rx, to_srv.tx, to_srv.len);
	assert_int_equal(to_srv.err, 0);
	assert_true(st_sleepy());
	st_sender_free(&to_srv);
	st_conn_close(&c);
}

static bool
both_failed(void *ctx)
{
	struct st_conn *c = ctx;

	return c->srv.err != 0 && c->cli.err != 0;
}

/* A failed handshake: both sides report \p rc, and each logs one line with \p text. */
static void
expect_refused(const struct nvt_sock_tls_psk *offered, int rc, const char *srv_text,
	       const char *cli_text)
{
	struct nvt_sock_tls_info info;
	struct st_conn c;

	st_log_reset();
	st_conn_listen(&c);
	st_conn_connect(&c, offered);
	st_conn_accept(&c);
	assert_true(st_poll_until(st_conn_settled, &c));
	if (c.cli.connect_status != rc) {
		fprintf(stderr, "%s", g_st_log);
	}
	assert_int_equal(c.cli.connect_calls, 1);
	assert_int_equal(c.cli.connect_status, rc);
	assert_false(nvt_sock_is_connected(c.cli.sock));
	assert_int_equal(nvt_sock_get_tls_info(c.cli.sock, &info), rc);
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), rc);
	/* Each owner hears of it as a read error too, poll after poll. */
	assert_true(st_poll_until(both_failed, &c));
	assert_int_equal(c.srv.err, rc);
	assert_int_equal(c.cli.err, rc);
	assert_int_equal(c.srv.rx_len, 0);
	st_expect_log(srv_text);
	st_expect_log(cli_text);
	assert_int_equal(g_st_errors, 2);
	st_conn_close(&c);
}

static void
test_unknown_identity(void **state)
{
	struct nvt_sock_tls_psk stranger;

	(void)state;
	st_psk_make(&stranger,
		    "NVMe0R01 nqn.2014-08.org.nvmexpress:stranger nqn.2016-06.io.nvtcp:s",
		    NVT_SOCK_TLS_AES_128_GCM_SHA256, 32, 9);
	expect_refused(&stranger, -EKEYREJECTED,
		       "with client 127.0.0.1:", "unknown PSK identity 'NVMe0R01 nqn.2014-08.org");
	st_expect_log("with server 127.0.0.1:");
	st_expect_log("unknown psk identity");
}

static void
test_wrong_key(void **state)
{
	struct nvt_sock_tls_psk forged = g_st_psk384;

	(void)state;
	forged.key[5] ^= 1;
	expect_refused(&forged, -EKEYREJECTED, "wrong PSK (binder does not verify)",
		       "the peer refused the PSK");
	/* OpenSSL 3.0 sends illegal_parameter for a binder it cannot verify, 3.2 on decrypt_error. */
	st_expect_log("): wrong key?");
}

/* The st_keyring's PSK of the identity is for the other suite: no suite in common. */
static void
test_cipher_mismatch(void **state)
{
	struct nvt_sock_tls_psk other;

	(void)state;
	st_psk_make(&other, g_st_psk256.identity, NVT_SOCK_TLS_AES_256_GCM_SHA384, 48, 1);
	expect_refused(&other, -EPROTO, "no shared cipher", "handshake failure");
}

/* A plain TCP st_peer, as an NVMe/TCP host without TLS would be. */
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
	return ((struct st_conn *)ctx)->srv.err != 0;
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
	struct st_conn c;

	(void)state;
	st_conn_listen(&c);
	st_log_reset();
	r.fd = raw_connect(c.port);
	st_conn_accept(&c);
	/* Waiting for the peer's first byte costs nothing. */
	assert_true(st_sleepy());
	assert_int_equal(send(r.fd, icreq, sizeof(icreq), 0), (ssize_t)sizeof(icreq));
	assert_true(st_poll_until(srv_failed, &c));
	assert_int_equal(c.srv.err, -EPROTO);
	assert_int_equal(g_st_errors, 1);
	st_expect_log("peer sent plaintext, not TLS");
	st_expect_log("with client 127.0.0.1:");
	/* The st_peer sees the connection end. */
	assert_true(st_poll_until(raw_sees_close, &r));
	close(r.fd);
	st_conn_close(&c);
	assert_int_equal(g_st_errors, 1);
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
	return ((struct st_conn *)ctx)->cli.connect_calls > 0;
}

static void
tls_client_plain_server(bool hang_up, int rc, const char *text)
{
	struct plain_srv ps = { .hang_up = hang_up };
	struct st_conn c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "posix", NULL, &c.lsock), 0);
	assert_int_equal(nvt_sock_getaddr(c.lsock, NULL, 0, &c.port, NULL, 0, NULL), 0);
	st_log_reset();
	st_conn_connect(&c, &g_st_psk256);
	assert_true(st_poll_until(st_accept_one, &c));
	ps.sock = c.srv.sock;
	c.srv.sock = NULL;
	/* The ClientHello is out; waiting for the answer costs nothing. */
	assert_true(st_poll_until(fd_readable, &ps.sock));
	assert_true(st_sleepy());
	assert_int_equal(nvt_sock_group_add_sock(g_st_sgroup, ps.sock, plain_srv_readable, &ps), 0);
	assert_true(st_poll_until(cli_connect_reported, &c));
	assert_int_equal(c.cli.connect_status, rc);
	assert_true(ps.got > 0);
	assert_int_equal(g_st_errors, 1);
	st_expect_log("with server 127.0.0.1:");
	st_expect_log(text);
	nvt_sock_close(&ps.sock);
	st_conn_close(&c);
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
	return ((struct st_conn *)ctx)->srv.eof;
}

static bool
cli_eof(void *ctx)
{
	return ((struct st_conn *)ctx)->cli.eof;
}

/* A st_peer's close (close_notify, then FIN) is the end of the stream, on every later read too. */
static void
test_peer_close(void **state)
{
	uint8_t b;
	struct st_conn c;

	(void)state;
	st_conn_establish(&c, &g_st_psk256, "peer close");
	st_peer_rx_alloc(&c.srv, 16);
	nvt_sock_close(&c.cli.sock);
	assert_true(st_poll_until(srv_eof, &c));
	assert_int_equal(c.srv.err, 0);
	assert_int_equal(nvt_sock_recv(c.srv.sock, &b, 1), 0);
	st_conn_close(&c);

	st_conn_establish(&c, &g_st_psk384, "peer close");
	st_peer_rx_alloc(&c.cli, 16);
	nvt_sock_close(&c.srv.sock);
	assert_true(st_poll_until(cli_eof, &c));
	assert_int_equal(c.cli.err, 0);
	assert_int_equal(nvt_sock_recv(c.cli.sock, &b, 1), 0);
	st_conn_close(&c);
	assert_int_equal(g_st_errors, 0);
}

static bool
cli_gone(void *ctx)
{
	struct st_conn *c = ctx;

	return c->cli.eof || c->cli.err != 0;
}

/* Closing sockets at each step of a handshake leaks nothing (the sanitizer checks at exit). */
static void
test_close_mid_handshake(void **state)
{
	uint64_t deadline;
	struct st_conn c;

	(void)state;
	/* A client closed before its TCP connect was reported. */
	st_conn_listen(&c);
	st_conn_connect(&c, &g_st_psk256);
	nvt_sock_close(&c.cli.sock);
	st_conn_close(&c);

	/* A server closed while it waits for the client's Finished. */
	st_conn_listen(&c);
	st_conn_connect(&c, &g_st_psk256);
	assert_true(st_poll_until(st_accept_one, &c));
	/* The client's group sends the ClientHello; then the server's answers it once. */
	deadline = st_now_ms() + ST_DEADLINE_MS;
	while (!fd_readable(&c.srv.sock)) {
		assert_true(st_now_ms() < deadline);
		assert_true(nvt_sock_group_poll(g_st_cgroup) >= 0);
	}
	assert_int_equal(nvt_sock_group_add_sock(g_st_sgroup, c.srv.sock, st_peer_readable, &c.srv),
			 0);
	assert_int_equal(nvt_sock_group_poll(g_st_sgroup), 0);
	while (!fd_readable(&c.cli.sock)) {
		assert_true(st_now_ms() < deadline);
	}
	nvt_sock_close(&c.srv.sock);
	/*
	 * The client had the server's whole flight: its side of the handshake
	 * may end well; then it reads the end of the stream.
	 */
	assert_true(st_poll_until(cli_connect_reported, &c));
	if (c.cli.connect_status == 0) {
		assert_true(st_poll_until(cli_gone, &c));
	}
	st_conn_close(&c);

	/* A client closed after its ClientHello, before the server read it. */
	st_conn_listen(&c);
	st_conn_connect(&c, &g_st_psk256);
	st_conn_accept(&c);
	nvt_sock_close(&c.cli.sock);
	assert_true(st_poll_until(srv_failed, &c));
	assert_true(c.srv.err < 0);
	st_conn_close(&c);
}

static void
test_opts(void **state)
{
	struct nvt_sock_tls_psk bad = g_st_psk256;
	struct nvt_sock_tls_opts tls = { .client_psk = &bad };
	struct nvt_sock_impl_opts io;
	struct nvt_sock_tls_info info;
	struct nvt_sock_opts opts;
	struct nvt_sock *sock = NULL;

	(void)state;
	st_log_reset();
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "ssl", NULL, &sock), -EINVAL);
	st_expect_log("psk_find");
	nvt_sock_get_default_opts(&opts, sizeof(opts));
	opts.tls = &tls;
	bad.key_len = 31;
	assert_int_equal(nvt_sock_connect("127.0.0.1", 4420, "ssl", &opts, NULL, NULL, &sock),
			 -EINVAL);
	st_expect_log("31 bytes for TLS_AES_128_GCM_SHA256, which takes 32");
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
	opts.tls = &g_st_srv_tls;
	assert_int_equal(nvt_sock_listen("127.0.0.1", 0, "ssl", &opts, &sock), 0);
	assert_int_equal(nvt_sock_get_tls_info(sock, &info), -ENOTCONN);
	nvt_sock_close(&sock);
	/* ssl is never the default: its sockets need their TLS settings. */
	assert_string_equal(nvt_sock_get_default_impl(), "posix");
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
		cmocka_unit_test(test_regroup),
		cmocka_unit_test(test_unknown_identity),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_cipher_mismatch),
		cmocka_unit_test(test_plaintext_client),
		cmocka_unit_test(test_tls_client_plain_server),
		cmocka_unit_test(test_peer_close),
		cmocka_unit_test(test_close_mid_handshake),
	};

	return cmocka_run_group_tests_name("sock_ssl", tests, st_setup, st_teardown);
}
