/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of the `nvtcp` CLI (app/nvtcp), whose path is the first argument:
 * an app serves RPC on a temporary socket, and a pthread runs the CLI
 * against it, checking what it prints and its exit status.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvtcp/event.h"
#include "ut_jsonrpc.h"

extern char **environ;

static const char *g_cli;
static char g_sock_path[108];
static char g_failure[32768];
static pthread_t g_client;

static void
ut_echo(struct nvt_jsonrpc_request *req, const json_t *params)
{
	nvt_jsonrpc_send_result(req, params != NULL ? json_deep_copy(params) : NULL);
}
NVT_RPC_REGISTER("ut_echo", ut_echo, NVT_RPC_RUNTIME)

static void
ut_fail(struct nvt_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
			       "ut_fail: field 'size': too small");
}
NVT_RPC_REGISTER("ut_fail", ut_fail, NVT_RPC_RUNTIME)

struct slow {
	struct nvt_jsonrpc_request *req;
	struct nvt_poller *poller;
};

static _Atomic int g_slow_answered;

static int
ut_slow_poll(void *arg)
{
	struct slow *s = arg;

	nvt_poller_unregister(&s->poller);
	nvt_jsonrpc_send_result(s->req, NULL);
	free(s);
	g_slow_answered++;
	return NVT_POLLER_BUSY;
}

/* Answers after one second: longer than the CLI is told to wait. */
static void
ut_slow(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct slow *s = calloc(1, sizeof(*s));

	(void)params;
	s->req = req;
	s->poller = nvt_poller_register(ut_slow_poll, s, 1000 * 1000, "ut_slow");
}
NVT_RPC_REGISTER("ut_slow", ut_slow, NVT_RPC_RUNTIME)

/* ---- running the CLI ---- */

struct run {
	int status; /* exit status, or -1 */
	char out[16384];
	char err[4096];
};

static void
drain(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0) {
		len += (size_t)n;
	}
	buf[len] = '\0';
}

/* Run the CLI with \p argv (after the program name; NULL-terminated). */
static void
cli_run(struct run *run, const char *const *args)
{
	posix_spawn_file_actions_t fa;
	int out[2], err[2], wstatus;
	char *argv[32];
	pid_t pid;
	size_t i;

	argv[0] = (char *)g_cli;
	for (i = 0; args[i] != NULL && i + 2 < 32; i++) {
		argv[i + 1] = (char *)args[i];
	}
	argv[i + 1] = NULL;
	run->status = -1;
	if (pipe(out) != 0 || pipe(err) != 0) {
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	posix_spawn_file_actions_addclose(&fa, err[0]);
	if (posix_spawn(&pid, g_cli, &fa, NULL, argv, environ) != 0) {
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	/* Small outputs: stdout first, then stderr, never fills a pipe. */
	drain(out[0], run->out, sizeof(run->out));
	drain(err[0], run->err, sizeof(run->err));
	close(out[0]);
	close(err[0]);
	if (pid > 0 && waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus)) {
		run->status = WEXITSTATUS(wstatus);
	}
}

#define CHECK(cond, run)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			if (g_failure[0] == '\0') {                                            \
				snprintf(g_failure, sizeof(g_failure),                         \
					 "%s:%d: %s\n  status %d\n  stdout: %s\n  stderr: %s", \
					 __FILE__, __LINE__, #cond, (run)->status, (run)->out, \
					 (run)->err);                                          \
			}                                                                      \
			return;                                                                \
		}                                                                              \
	} while (0)

static struct run g_run;

static void
case_key_values(void)
{
	struct run *r = &g_run;
	json_t *res;

	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_echo", "name=Malloc0", "num=64",
					  "flag=true", "off=false", "ratio=1.5", "neg=-3",
					  "raw:=[1,2]", "serial:=\"007\"", "none=null", "text=a b",
					  NULL });
	CHECK(r->status == 0, r);
	res = json_loads(r->out, 0, NULL);
	CHECK(res != NULL, r);
	CHECK(strcmp(json_string_value(json_object_get(res, "name")), "Malloc0") == 0, r);
	CHECK(json_integer_value(json_object_get(res, "num")) == 64, r);
	CHECK(json_is_true(json_object_get(res, "flag")), r);
	CHECK(json_is_false(json_object_get(res, "off")), r);
	CHECK(json_real_value(json_object_get(res, "ratio")) == 1.5, r);
	CHECK(json_integer_value(json_object_get(res, "neg")) == -3, r);
	CHECK(json_array_size(json_object_get(res, "raw")) == 2, r);
	CHECK(strcmp(json_string_value(json_object_get(res, "serial")), "007") == 0, r);
	CHECK(json_is_null(json_object_get(res, "none")), r);
	CHECK(strcmp(json_string_value(json_object_get(res, "text")), "a b") == 0, r);
	/* Pretty-printed: one key per line. */
	CHECK(strstr(r->out, "\n  \"name\": \"Malloc0\"") != NULL, r);
	json_decref(res);
}

static void
case_json(void)
{
	struct run *r = &g_run;

	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_echo", "--json",
					  "{\"a\": {\"b\": 1}}", NULL });
	CHECK(r->status == 0, r);
	CHECK(strstr(r->out, "\"b\": 1") != NULL, r);
	cli_run(r, (const char *const[]){ "--socket", g_sock_path, "--json", "{\"c\": 2}",
					  "ut_echo", NULL });
	CHECK(r->status == 0 && strstr(r->out, "\"c\": 2") != NULL, r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_echo", "--json", "[1]", NULL });
	CHECK(r->status == 1 && strstr(r->err, "expected an object") != NULL, r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_echo", "--json", "{", NULL });
	CHECK(r->status == 1 && strstr(r->err, "--json") != NULL, r);
	/* No params: the result is `true`. */
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_echo", NULL });
	CHECK(r->status == 0 && strcmp(r->out, "true\n") == 0, r);
}

static void
case_errors(void)
{
	struct run *r = &g_run;

	/* SPDK rpc.py names pass through: unknown ones are the server's error. */
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "bdev_get_bdevs", NULL });
	CHECK(r->status == 1, r);
	CHECK(strstr(r->err, "Method not found: bdev_get_bdevs") != NULL, r);
	CHECK(r->out[0] == '\0', r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_fail", NULL });
	CHECK(r->status == 1 && strstr(r->err, "ut_fail: field 'size': too small") != NULL, r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "ut_echo", "oops", NULL });
	CHECK(r->status == 1 && strstr(r->err, "expected key=value") != NULL, r);
	cli_run(r,
		(const char *const[]){ "-s", g_sock_path, "ut_echo", "a=1", "--json", "{}", NULL });
	CHECK(r->status == 1, r);
	cli_run(r, (const char *const[]){ "-s", "/nonexistent/nvt.sock", "rpc_get_methods", NULL });
	CHECK(r->status == 1 && strstr(r->err, "cannot connect to /nonexistent/nvt.sock") != NULL,
	      r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, NULL });
	CHECK(r->status == 1 && strstr(r->err, "usage:") != NULL, r);
	cli_run(r, (const char *const[]){ "-t", "abc", "x", NULL });
	CHECK(r->status == 1 && strstr(r->err, "-t wants") != NULL, r);
}

static void
case_timeout(void)
{
	struct run *r = &g_run;
	int i;

	cli_run(r, (const char *const[]){ "-s", g_sock_path, "-t", "0.2", "ut_slow", NULL });
	CHECK(r->status == 1 && strstr(r->err, "no answer") != NULL, r);
	/* The server answers later into a closed connection, and goes on. */
	for (i = 0; i < 400 && g_slow_answered == 0; i++) {
		usleep(5000);
	}
	CHECK(g_slow_answered == 1, r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "nvtcp_get_version", NULL });
	CHECK(r->status == 0 && strstr(r->out, "\"nvtcp 0.1.0\"") != NULL, r);
}

static void
case_spdk_names_and_help(void)
{
	struct run *r = &g_run;

	cli_run(r, (const char *const[]){ "-s", g_sock_path, "spdk_get_version", NULL });
	CHECK(r->status == 0 && strstr(r->out, "\"version\": \"nvtcp 0.1.0\"") != NULL, r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "rpc_get_methods", NULL });
	CHECK(r->status == 0 && strstr(r->out, "\"ut_echo\"") != NULL, r);
	cli_run(r, (const char *const[]){ "-s", g_sock_path, "--help", NULL });
	CHECK(r->status == 0 && strstr(r->out, "usage: nvtcp") != NULL, r);
	CHECK(strstr(r->out, "rpc_get_methods") != NULL && strstr(r->out, "  ut_slow") != NULL, r);
	cli_run(r, (const char *const[]){ "-s", "/nonexistent/nvt.sock", "-h", NULL });
	CHECK(r->status == 0 && strstr(r->out, "No server answers") != NULL, r);
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
	(void)arg;
	case_key_values();
	if (g_failure[0] == '\0') {
		case_json();
	}
	if (g_failure[0] == '\0') {
		case_errors();
	}
	if (g_failure[0] == '\0') {
		case_timeout();
	}
	if (g_failure[0] == '\0') {
		case_spdk_names_and_help();
	}
	nvt_thread_send_msg(nvt_app_get_thread(), app_finish, NULL);
	return NULL;
}

static void
app_start_fn(void *arg)
{
	int rc;

	(void)arg;
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	rc = nvt_rpc_server_start(g_sock_path);
	if (rc != 0 || pthread_create(&g_client, NULL, client_main, NULL) != 0) {
		snprintf(g_failure, sizeof(g_failure), "cannot start: %d", rc);
		nvt_rpc_server_stop();
		nvt_app_stop(-1);
	}
}

static void
test_cli(void **state)
{
	struct nvt_app_opts opts;
	int rc;

	(void)state;
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "cli_ut";
	opts.reactor_mask = "0x1";
	rc = nvt_app_start(&opts, app_start_fn, NULL);
	if (g_client != 0) {
		pthread_join(g_client, NULL);
	}
	nvt_app_fini();
	if (g_failure[0] != '\0') {
		fail_msg("%s", g_failure);
	}
	assert_int_equal(rc, 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-OF-nvtcp\n", argv[0]);
		return 2;
	}
	g_cli = argv[1];
	snprintf(g_sock_path, sizeof(g_sock_path), "/tmp/nvt_cli_ut.%d.sock", (int)getpid());
	unlink(g_sock_path);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
