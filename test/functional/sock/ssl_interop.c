/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "ssl" socket implementation against another TLS 1.3 stack, OpenSSL's
 * command-line tool: our client with `openssl s_server`, `openssl s_client`
 * with our server, each a separate process over 127.0.0.1. The tool's -psk
 * makes a TLS_AES_128_GCM_SHA256 session, so these use the SHA-256 PSK.
 * Also: a wrong key and a TLS 1.2 client are refused by our server.
 * Exits 77 when the openssl binary is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvtcp/sock.h"
#include "ssl_test.h"
#include "test_util.h"

/* A running openssl command, its stdin and what it printed (stdout and stderr). */
struct tool {
	pid_t pid;
	int in;
	int out;
	char buf[32768];
	size_t len;
};

static void
tool_start(struct tool *t, char *const argv[])
{
	int in[2], out[2];

	memset(t, 0, sizeof(*t));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execvp("openssl", argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in = in[1];
	t->out = out[0];
	assert_int_equal(fcntl(t->out, F_SETFL, O_NONBLOCK), 0);
}

/* Take what the tool printed, waiting up to 1 ms for it (our sockets are polled in between). */
static void
tool_pump(struct tool *t)
{
	struct pollfd pfd = { .fd = t->out, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 1) != 1) {
		return;
	}
	n = read(t->out, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
	if (n > 0) {
		t->len += (size_t)n;
		t->buf[t->len] = '\0';
	}
}

struct tool_wait {
	struct tool *t;
	const char *text;
};

static bool
tool_said(void *ctx)
{
	struct tool_wait *w = ctx;

	tool_pump(w->t);
	return strstr(w->t->buf, w->text) != NULL;
}

static void
tool_expect(struct tool *t, const char *text)
{
	struct tool_wait w = { .t = t, .text = text };

	if (!st_poll_until(tool_said, &w)) {
		fprintf(stderr, "openssl did not print '%s'; it printed:\n%s\n", text, t->buf);
		fail();
	}
}

static void
tool_write(struct tool *t, const char *text)
{
	assert_int_equal(write(t->in, text, strlen(text)), (ssize_t)strlen(text));
}

static bool
tool_exited(void *ctx)
{
	struct tool *t = ctx;
	int status;

	tool_pump(t);
	if (waitpid(t->pid, &status, WNOHANG) != t->pid) {
		return false;
	}
	t->pid = WIFEXITED(status) ? -WEXITSTATUS(status) : -128 - WTERMSIG(status);
	return true;
}

/* Wait for the tool to end (closing its stdin first): its exit status. */
static int
tool_wait_exit(struct tool *t)
{
	if (t->in >= 0) {
		close(t->in);
		t->in = -1;
	}
	assert_true(st_poll_until(tool_exited, t));
	close(t->out);
	return -t->pid;
}

static void
psk_hex(const struct nvt_sock_tls_psk *psk, char *hex, size_t len)
{
	size_t i;

	assert_true(len > psk->key_len * 2);
	for (i = 0; i < psk->key_len; i++) {
		snprintf(hex + 2 * i, 3, "%02x", psk->key[i]);
	}
}

struct rx_wait {
	struct st_peer *p;
	const char *text;
};

static bool
peer_got(void *ctx)
{
	struct rx_wait *w = ctx;

	w->p->rx[w->p->rx_len] = '\0';
	return memmem(w->p->rx, w->p->rx_len, w->text, strlen(w->text)) != NULL;
}

static void
peer_expect(struct st_peer *p, const char *text)
{
	struct rx_wait w = { .p = p, .text = text };

	assert_true(st_poll_until(peer_got, &w));
}

static void
req_done(void *arg, int err)
{
	*(int *)arg = err == 0 ? 1 : err;
}

/* Queue \p text; \p sent becomes 1 once it went out (or the error). */
static void
send_text(struct nvt_sock *sock, struct nvt_sock_request *req, struct iovec *iov, char *text,
	  int *sent)
{
	*iov = (struct iovec){ .iov_base = text, .iov_len = strlen(text) };
	*req = (struct nvt_sock_request){
		.cb_fn = req_done, .cb_arg = sent, .iov = iov, .iovcnt = 1
	};
	nvt_sock_writev_async(sock, req);
}

static bool
cli_reported(void *ctx)
{
	return ((struct st_conn *)ctx)->cli.connect_calls > 0;
}

/* Our client, openssl s_server -rev: the line comes back reversed. */
static void
test_client_to_s_server(void **state)
{
	char hex[129], port[32], line[] = "hello nvtcp\n";
	char *argv[] = { "openssl",	  "s_server",
			 "-accept",	  port,
			 "-nocert",	  "-tls1_3",
			 "-psk",	  hex,
			 "-psk_identity", g_st_psk256.identity,
			 "-ciphersuites", "TLS_AES_128_GCM_SHA256",
			 "-naccept",	  "1",
			 "-rev",	  NULL };
	struct nvt_sock_tls_info info;
	struct nvt_sock_request req;
	struct iovec iov;
	struct st_conn c = { 0 };
	struct tool t;
	int sent = 0;

	(void)state;
	st_log_reset();
	psk_hex(&g_st_psk256, hex, sizeof(hex));
	c.port = (uint16_t)nvt_test_free_port();
	snprintf(port, sizeof(port), "127.0.0.1:%u", c.port);
	tool_start(&t, argv);
	tool_expect(&t, "ACCEPT");
	st_peer_rx_alloc(&c.cli, 256);
	c.cli.connect_status = 1;
	st_conn_connect(&c, &g_st_psk256);
	assert_true(st_poll_until(cli_reported, &c));
	assert_int_equal(c.cli.connect_status, 0);
	assert_int_equal(nvt_sock_get_tls_info(c.cli.sock, &info), 0);
	assert_int_equal(info.cipher, NVT_SOCK_TLS_AES_128_GCM_SHA256);
	st_check_ktls("client to openssl s_server", &info);
	send_text(c.cli.sock, &req, &iov, line, &sent);
	peer_expect(&c.cli, "pctvn olleh");
	assert_int_equal(sent, 1);
	tool_expect(&t, "Ciphersuite: TLS_AES_128_GCM_SHA256");
	st_conn_close(&c);
	/* -naccept 1: the server ends with the connection. */
	assert_int_equal(tool_wait_exit(&t), 0);
	assert_int_equal(g_st_errors, 0);
}

static bool
srv_established(void *ctx)
{
	struct st_conn *c = ctx;
	struct nvt_sock_tls_info info;

	return c->srv.err != 0 || nvt_sock_get_tls_info(c->srv.sock, &info) == 0;
}

static bool
srv_eof(void *ctx)
{
	return ((struct st_conn *)ctx)->srv.eof;
}

/* Start openssl s_client against our listener with the key \p hex (and more arguments). */
static void
s_client_start(struct tool *t, struct st_conn *c, char *hex, char *extra)
{
	static char port[32];
	char *argv[] = { "openssl", "s_client",	     "-connect",	   port,  "-psk",
			 hex,	    "-psk_identity", g_st_psk256.identity, extra, NULL };

	snprintf(port, sizeof(port), "127.0.0.1:%u", c->port);
	tool_start(t, argv);
}

/* openssl s_client, our server: a line each way, then the client's close is our end of stream. */
static void
test_s_client_to_server(void **state)
{
	char hex[129], ping[] = "ping from openssl\n", pong[] = "pong from nvtcp\n";
	struct nvt_sock_tls_info info;
	struct nvt_sock_request req;
	struct iovec iov;
	struct st_conn c;
	struct tool t;
	int sent = 0;

	(void)state;
	st_conn_listen(&c);
	psk_hex(&g_st_psk256, hex, sizeof(hex));
	st_peer_rx_alloc(&c.srv, 256);
	s_client_start(&t, &c, hex, "-tls1_3");
	st_conn_accept(&c);
	assert_true(st_poll_until(srv_established, &c));
	assert_int_equal(nvt_sock_get_tls_info(c.srv.sock, &info), 0);
	assert_int_equal(info.cipher, NVT_SOCK_TLS_AES_128_GCM_SHA256);
	assert_string_equal(info.identity, g_st_psk256.identity);
	st_check_ktls("openssl s_client to server", &info);
	tool_write(&t, ping);
	peer_expect(&c.srv, "ping from openssl");
	send_text(c.srv.sock, &req, &iov, pong, &sent);
	tool_expect(&t, "pong from nvtcp");
	/* Its stdin ends: s_client closes the connection (close_notify, FIN). */
	assert_int_equal(tool_wait_exit(&t), 0);
	assert_true(st_poll_until(srv_eof, &c));
	assert_int_equal(c.srv.err, 0);
	assert_int_equal(sent, 1);
	assert_int_equal(g_st_errors, 0);
	st_conn_close(&c);
}

static bool
srv_failed(void *ctx)
{
	return ((struct st_conn *)ctx)->srv.err != 0;
}

/* openssl s_client refused by our server: \p rc, one log line with \p text, the tool fails. */
static void
s_client_refused(char *hex, char *extra, int rc, const char *text)
{
	struct st_conn c;
	struct tool t;

	st_conn_listen(&c);
	s_client_start(&t, &c, hex, extra);
	st_conn_accept(&c);
	assert_true(st_poll_until(srv_failed, &c));
	assert_int_equal(c.srv.err, rc);
	assert_int_equal(g_st_errors, 1);
	st_expect_log(text);
	st_conn_close(&c);
	assert_int_not_equal(tool_wait_exit(&t), 0);
}

static void
test_s_client_refused(void **state)
{
	char hex[129];

	(void)state;
	psk_hex(&g_st_psk256, hex, sizeof(hex));
	hex[0] = hex[0] == '0' ? '1' : '0';
	s_client_refused(hex, "-tls1_3", -EKEYREJECTED, "wrong PSK (binder does not verify)");
	psk_hex(&g_st_psk256, hex, sizeof(hex));
	s_client_refused(hex, "-tls1_2", -EPROTO, "unsupported protocol");
}

static bool
openssl_found(void)
{
	const char *path = getenv("PATH");
	char dir[4096], file[4200];
	const char *p = path, *end;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ':');
		snprintf(dir, sizeof(dir), "%.*s", end != NULL ? (int)(end - p) : (int)strlen(p),
			 p);
		snprintf(file, sizeof(file), "%s/openssl", dir[0] != '\0' ? dir : ".");
		if (access(file, X_OK) == 0) {
			return true;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_to_s_server),
		cmocka_unit_test(test_s_client_to_server),
		cmocka_unit_test(test_s_client_refused),
	};

	if (!openssl_found()) {
		printf("ssl_interop: no openssl binary in PATH: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("ssl_interop", tests, st_setup, st_teardown);
}
