/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of lib/jsonrpc/server.c.
 *
 * The main test runs a real app (one reactor, interrupt mode: it sleeps when
 * idle) with the server on a temporary socket, and a client on a pthread with
 * a plain blocking socket: pipelined and split requests, an asynchronous
 * handler, bad JSON, notifications, a client that leaves early, half-close,
 * and an oversized request. The client only records what went wrong (cmocka
 * asserts belong to the main thread); the test checks it after the app ends.
 *
 * The other tests poll one thread by hand: refusing a live socket, replacing
 * a stale one, waking a sleeping thread, stopping when the thread exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvtcp/event.h"
#include "ut_jsonrpc.h"

static char g_sock_path[108];

/* ---- methods served ---- */

static void
ut_echo(struct nvt_jsonrpc_request *req, const json_t *params)
{
	nvt_jsonrpc_send_result(req, params != NULL ? json_deep_copy(params) : NULL);
}
NVT_RPC_REGISTER("ut_echo", ut_echo, NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

struct later {
	struct nvt_jsonrpc_request *req;
	struct nvt_poller *poller;
};

/* Read by the client pthread. */
static _Atomic int g_async_answered;

static int
ut_later_poll(void *arg)
{
	struct later *l = arg;

	nvt_poller_unregister(&l->poller);
	nvt_jsonrpc_send_result(l->req, json_string("later"));
	g_async_answered++;
	free(l);
	return NVT_POLLER_BUSY;
}

/* Answers 20 ms later from a timed poller, so a sleeping reactor must wake for it. */
static void
ut_async(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct later *l = calloc(1, sizeof(*l));

	(void)params;
	assert_non_null(l);
	l->req = req;
	l->poller = nvt_poller_register(ut_later_poll, l, 20 * 1000, "ut_later");
	assert_non_null(l->poller);
}
NVT_RPC_REGISTER("ut_async", ut_async, NVT_RPC_RUNTIME)

/* ---- a blocking client ---- */

struct client {
	int fd;
	char buf[8192];
	size_t len;
};

static char g_failure[1024];

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			if (g_failure[0] == '\0') {                                           \
				snprintf(g_failure, sizeof(g_failure), "%s:%d: %s", __FILE__, \
					 __LINE__, #cond);                                    \
			}                                                                     \
			return;                                                               \
		}                                                                             \
	} while (0)

static int
client_connect(struct client *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };

	memset(c, 0, sizeof(*c));
	memcpy(addr.sun_path, g_sock_path, strlen(g_sock_path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c->fd < 0) {
		return -errno;
	}
	/* A server that misses a wakeup makes the test fail, not hang. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(c->fd);
		return -errno;
	}
	return 0;
}

static bool
client_send(struct client *c, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, text, len, MSG_NOSIGNAL);
		if (n <= 0) {
			return false;
		}
		text += n;
		len -= (size_t)n;
	}
	return true;
}

/* The next response line, parsed; NULL on EOF, error or timeout. */
static json_t *
client_recv(struct client *c)
{
	char *nl;
	json_t *resp;
	ssize_t n;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
		if (c->len == sizeof(c->buf)) {
			return NULL;
		}
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n <= 0) {
			return NULL;
		}
		c->len += (size_t)n;
	}
	resp = json_loadb(c->buf, (size_t)(nl - c->buf), 0, NULL);
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	return resp;
}

/* Whether the server closed the connection (and sent nothing more). */
static bool
client_sees_eof(struct client *c)
{
	char byte;

	return c->len == 0 && recv(c->fd, &byte, 1, 0) == 0;
}

static json_int_t
resp_id(const json_t *resp)
{
	return json_integer_value(json_object_get(resp, "id"));
}

static int
resp_code(const json_t *resp)
{
	return ut_error_code(resp);
}

/* ---- client scenarios (on the pthread) ---- */

#define REQ(method, id) "{\"jsonrpc\":\"2.0\",\"method\":\"" method "\",\"id\":" #id "}"

static void
scenario_pipelined_and_split(struct client *c)
{
	const char *req = "{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"params\": {\"n\": 3}, "
			  "\"id\": 3}";
	char half[128];
	json_t *r1, *r2, *r3;

	/* Two requests in one write. */
	CHECK(client_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"params\":{\"n\":1},"
			     "\"id\":1}\n" REQ("ut_echo", 2)));
	r1 = client_recv(c);
	r2 = client_recv(c);
	CHECK(r1 != NULL && r2 != NULL);
	CHECK(resp_id(r1) == 1 && resp_id(r2) == 2);
	CHECK(json_integer_value(json_object_get(json_object_get(r1, "result"), "n")) == 1);
	CHECK(json_is_true(json_object_get(r2, "result")));
	json_decref(r1);
	json_decref(r2);

	/* One request in two writes, the reactor asleep in between. */
	memcpy(half, req, 20);
	half[20] = '\0';
	CHECK(client_send(c, half));
	usleep(50 * 1000);
	CHECK(client_send(c, req + 20));
	r3 = client_recv(c);
	CHECK(r3 != NULL && resp_id(r3) == 3);
	CHECK(json_integer_value(json_object_get(json_object_get(r3, "result"), "n")) == 3);
	json_decref(r3);
}

static void
scenario_async_in_order(struct client *c)
{
	json_t *r4, *r5;

	/* The echo waits for the async answer: responses keep the request order. */
	CHECK(client_send(c, REQ("ut_async", 4) REQ("ut_echo", 5)));
	r4 = client_recv(c);
	r5 = client_recv(c);
	CHECK(r4 != NULL && r5 != NULL);
	CHECK(resp_id(r4) == 4 && resp_id(r5) == 5);
	CHECK(strcmp(json_string_value(json_object_get(r4, "result")), "later") == 0);
	json_decref(r4);
	json_decref(r5);
}

static void
scenario_bad_json(struct client *c)
{
	json_t *r;

	/* A bad request is answered -32700 and skipped; the connection keeps working. */
	CHECK(client_send(c, "{\"jsonrpc\": oops}" REQ("ut_echo", 6)));
	r = client_recv(c);
	CHECK(r != NULL && resp_code(r) == NVT_JSONRPC_ERROR_PARSE_ERROR);
	CHECK(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = client_recv(c);
	CHECK(r != NULL && resp_id(r) == 6 && resp_code(r) == 0);
	json_decref(r);
	/* Text that cannot start a request, then an answer to the next one. */
	CHECK(client_send(c, "hello\n" REQ("nope", 7)));
	r = client_recv(c);
	CHECK(r != NULL && resp_code(r) == NVT_JSONRPC_ERROR_PARSE_ERROR);
	json_decref(r);
	r = client_recv(c);
	CHECK(r != NULL && resp_id(r) == 7 && resp_code(r) == NVT_JSONRPC_ERROR_METHOD_NOT_FOUND);
	CHECK(strcmp(ut_error_message(r), "Method not found: nope") == 0);
	json_decref(r);
}

static void
scenario_notification(struct client *c)
{
	json_t *r;

	CHECK(client_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\"}" REQ("ut_echo", 8)));
	r = client_recv(c);
	CHECK(r != NULL && resp_id(r) == 8);
	json_decref(r);
}

static void
scenario_client_leaves_early(void)
{
	struct client c;
	int before = g_async_answered;
	json_t *r;
	int i;

	CHECK(client_connect(&c) == 0);
	CHECK(client_send(&c, REQ("ut_async", 9)));
	close(c.fd);
	/* Its answer goes nowhere; the server carries on. */
	for (i = 0; i < 200 && g_async_answered == before; i++) {
		usleep(5000);
	}
	CHECK(g_async_answered == before + 1);
	CHECK(client_connect(&c) == 0);
	CHECK(client_send(&c, REQ("ut_echo", 10)));
	r = client_recv(&c);
	CHECK(r != NULL && resp_id(r) == 10);
	json_decref(r);
	close(c.fd);
}

static void
scenario_half_close(void)
{
	struct client c;
	json_t *r1, *r2;

	/* As `socat`/`nc -N` do: send, shut down writing, read until EOF. */
	CHECK(client_connect(&c) == 0);
	CHECK(client_send(&c, REQ("ut_echo", 11) REQ("ut_async", 12)));
	shutdown(c.fd, SHUT_WR);
	r1 = client_recv(&c);
	r2 = client_recv(&c);
	CHECK(r1 != NULL && resp_id(r1) == 11);
	CHECK(r2 != NULL && resp_id(r2) == 12);
	CHECK(client_sees_eof(&c));
	json_decref(r1);
	json_decref(r2);
	close(c.fd);
}

static void
scenario_too_large(void)
{
	const char *prefix = "{\"jsonrpc\":\"2.0\",\"method\":\"ut_echo\",\"params\":{\"pad\":\"";
	size_t len = NVT_RPC_MAX_REQUEST_SIZE + 1000;
	char *big = malloc(len + 1);
	struct client c;
	json_t *r;
	bool sent;

	CHECK(big != NULL);
	memset(big, 'x', len);
	memcpy(big, prefix, strlen(prefix));
	big[len] = '\0';
	if (client_connect(&c) != 0) {
		free(big);
		CHECK(false);
	}
	sent = client_send(&c, big);
	free(big);
	CHECK(sent);
	r = client_recv(&c);
	CHECK(r != NULL && resp_code(r) == NVT_JSONRPC_ERROR_INVALID_REQUEST);
	CHECK(strstr(ut_error_message(r), "4194304") != NULL);
	json_decref(r);
	CHECK(client_sees_eof(&c));
	close(c.fd);
}

static void
app_finish(void *arg)
{
	(void)arg;
	nvt_rpc_server_stop();
	nvt_app_stop(0);
}

static void *
client_main(void *arg)
{
	struct client c;

	(void)arg;
	if (client_connect(&c) != 0) {
		snprintf(g_failure, sizeof(g_failure), "connect: %s", strerror(errno));
	} else {
		scenario_pipelined_and_split(&c);
		scenario_async_in_order(&c);
		scenario_bad_json(&c);
		scenario_notification(&c);
		close(c.fd);
	}
	if (g_failure[0] == '\0') {
		scenario_client_leaves_early();
	}
	if (g_failure[0] == '\0') {
		scenario_half_close();
	}
	if (g_failure[0] == '\0') {
		scenario_too_large();
	}
	nvt_thread_send_msg(nvt_app_get_thread(), app_finish, NULL);
	return NULL;
}

static pthread_t g_client;

static void
app_start_fn(void *arg)
{
	int rc;

	(void)arg;
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	rc = nvt_rpc_server_start(g_sock_path);
	if (rc != 0) {
		snprintf(g_failure, sizeof(g_failure), "server start: %s", strerror(-rc));
		nvt_app_stop(rc);
		return;
	}
	if (pthread_create(&g_client, NULL, client_main, NULL) != 0) {
		nvt_rpc_server_stop();
		nvt_app_stop(-1);
	}
}

static void
test_app_server(void **state)
{
	struct nvt_app_opts opts;
	struct stat st;
	int rc;

	(void)state;
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "server_ut";
	opts.reactor_mask = "0x1";
	g_failure[0] = '\0';
	rc = nvt_app_start(&opts, app_start_fn, NULL);
	pthread_join(g_client, NULL);
	nvt_app_fini();
	if (g_failure[0] != '\0') {
		fail_msg("%s", g_failure);
	}
	assert_int_equal(rc, 0);
	/* Stopping removed the socket file. */
	assert_int_equal(stat(g_sock_path, &st), -1);
}

/* ---- one thread polled by hand ---- */

static int
make_listener(const char *path, bool keep_listening)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 1), 0);
	if (!keep_listening) {
		/* The file stays behind, as after a crash. */
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_refuse_live_socket(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	fd = make_listener(g_sock_path, true);
	assert_int_equal(nvt_rpc_server_start(g_sock_path), -EADDRINUSE);
	assert_true(ut_log_has("in use by another process"));
	/* The other process keeps its socket. */
	assert_int_equal(stat(g_sock_path, &st), 0);
	close(fd);
	unlink(g_sock_path);
	ut_log_clear();
}

static void
test_replace_stale_socket(void **state)
{
	struct stat st;

	(void)state;
	make_listener(g_sock_path, false);
	assert_int_equal(stat(g_sock_path, &st), 0);
	assert_int_equal(nvt_rpc_server_start(g_sock_path), 0);
	assert_true(ut_log_has("removing stale socket"));
	assert_int_equal(nvt_rpc_server_start(g_sock_path), -EALREADY);
	nvt_rpc_server_stop();
	assert_int_equal(stat(g_sock_path, &st), -1);
	/* Stopping twice is harmless. */
	nvt_rpc_server_stop();
}

static void
test_refuse_regular_file(void **state)
{
	FILE *f = fopen(g_sock_path, "w");
	struct stat st;

	(void)state;
	assert_non_null(f);
	fclose(f);
	assert_int_equal(nvt_rpc_server_start(g_sock_path), -EEXIST);
	assert_int_equal(stat(g_sock_path, &st), 0);
	unlink(g_sock_path);
	ut_log_clear();
}

static void
test_path_too_long(void **state)
{
	char path[200];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(nvt_rpc_server_start(path), -ENAMETOOLONG);
	ut_log_clear();
}

/* The thread's interrupt fd becomes readable when a client connects and writes. */
static void
test_wakes_sleeping_thread(void **state)
{
	int epfd = nvt_thread_get_interrupt_fd(g_ut_thread);
	struct epoll_event ev;
	struct client c;
	json_t *r = NULL;
	int i;

	(void)state;
	assert_int_equal(nvt_rpc_server_start(g_sock_path), 0);
	ut_poll(2);
	assert_true(nvt_thread_prepare_sleep(g_ut_thread));
	assert_int_equal(epoll_wait(epfd, &ev, 1, 0), 0);
	assert_int_equal(client_connect(&c), 0);
	assert_int_equal(epoll_wait(epfd, &ev, 1, 1000), 1);
	nvt_thread_end_sleep(g_ut_thread);
	assert_true(client_send(&c, REQ("ut_echo", 1)));
	for (i = 0; i < 2000; i++) {
		ut_poll(1);
		if (recv(c.fd, c.buf, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
			break;
		}
		usleep(100);
	}
	r = client_recv(&c);
	assert_non_null(r);
	assert_int_equal(resp_id(r), 1);
	json_decref(r);
	close(c.fd);
	nvt_rpc_server_stop();
}

/* A thread that exits stops the server it runs, socket file included. */
static void
test_stops_with_thread(void **state)
{
	struct stat st;
	int rc;

	assert_int_equal(nvt_rpc_server_start(g_sock_path), 0);
	assert_int_equal(stat(g_sock_path, &st), 0);
	rc = ut_thread_teardown(state);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(g_sock_path, &st), -1);
	/* The teardown already ran: set up again for the harness's own teardown. */
	assert_int_equal(ut_thread_setup(state), 0);
}

static void
test_not_on_a_thread(void **state)
{
	(void)state;
	nvt_set_thread(NULL);
	assert_int_equal(nvt_rpc_server_start(g_sock_path), -EINVAL);
	nvt_set_thread(g_ut_thread);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_server),
		cmocka_unit_test_setup_teardown(test_refuse_live_socket, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_replace_stale_socket, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_refuse_regular_file, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_wakes_sleeping_thread, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_stops_with_thread, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_not_on_a_thread, ut_thread_setup,
						ut_thread_teardown),
	};

	snprintf(g_sock_path, sizeof(g_sock_path), "/tmp/nvt_server_ut.%d.sock", (int)getpid());
	unlink(g_sock_path);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
