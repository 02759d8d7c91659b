/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the JSON-RPC unit tests: a log sink that keeps the lines
 * (so a test can check an error was reported), one nvt_thread polled by hand,
 * and synchronous wrappers around nvt_rpc_call().
 */
#ifndef UT_JSONRPC_H
#define UT_JSONRPC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/thread.h"

#define UT_LOG_SIZE 65536

struct ut_log {
	char text[UT_LOG_SIZE];
	size_t len;
	int errors;
};

static struct ut_log g_ut_log;
static struct nvt_thread *g_ut_thread;

static inline void
ut_log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	struct ut_log *log = ctx;
	size_t n = strlen(line);

	if (level == NVT_LOG_ERROR) {
		log->errors++;
	}
	if (log->len + n + 1 < sizeof(log->text)) {
		memcpy(log->text + log->len, line, n);
		log->len += n;
		log->text[log->len++] = '\n';
		log->text[log->len] = '\0';
	}
}

/* Whether \p str was logged since the last ut_log_clear(). */
static inline bool
ut_log_has(const char *str)
{
	return strstr(g_ut_log.text, str) != NULL;
}

static inline void
ut_log_clear(void)
{
	g_ut_log.len = 0;
	g_ut_log.text[0] = '\0';
	g_ut_log.errors = 0;
}

/* One thread, polled by the test: messages and pollers run in ut_poll(). */
static inline int
ut_thread_setup(void **state)
{
	(void)state;
	ut_log_clear();
	nvt_log_set_sink(ut_log_sink, &g_ut_log);
	if (nvt_thread_lib_init(NULL, 0) != 0) {
		return -1;
	}
	g_ut_thread = nvt_thread_create("ut", NULL);
	if (g_ut_thread == NULL) {
		return -1;
	}
	nvt_set_thread(g_ut_thread);
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	return 0;
}

static inline void
ut_poll(int rounds)
{
	int i;

	for (i = 0; i < rounds; i++) {
		nvt_thread_poll(g_ut_thread, 0, 0);
	}
}

static inline int
ut_thread_teardown(void **state)
{
	int i;

	(void)state;
	nvt_thread_exit(g_ut_thread);
	for (i = 0; i < 1000 && !nvt_thread_is_exited(g_ut_thread); i++) {
		nvt_thread_poll(g_ut_thread, 0, 0);
	}
	nvt_thread_destroy(&g_ut_thread);
	nvt_set_thread(NULL);
	nvt_thread_lib_fini();
	nvt_log_set_sink(NULL, NULL);
	if (g_ut_log.errors != 0) {
		fprintf(stderr, "unexpected errors logged:\n%s", g_ut_log.text);
		return -1;
	}
	return 0;
}

/* ---- synchronous calls ---- */

struct ut_call {
	bool done;
	char *text; /* the response text, or NULL for a notification */
};

static inline void
ut_call_cb(const char *response, void *ctx)
{
	struct ut_call *call = ctx;

	call->done = true;
	call->text = response != NULL ? strdup(response) : NULL;
}

/*
 * Run \p request and return its parsed response (NULL for a notification),
 * polling the thread until the answer came.
 */
static inline json_t *
ut_rpc(const char *request)
{
	struct ut_call call = { 0 };
	json_t *resp;
	int i;

	nvt_rpc_call(request, ut_call_cb, &call);
	for (i = 0; i < 1000 && !call.done; i++) {
		ut_poll(1);
	}
	if (!call.done) {
		return json_string("ut_rpc: no answer");
	}
	resp = call.text != NULL ? json_loads(call.text, 0, NULL) : NULL;
	free(call.text);
	return resp;
}

/* The error code of a response, or 0 when it has a result. */
static inline int
ut_error_code(const json_t *resp)
{
	return (int)json_integer_value(json_object_get(json_object_get(resp, "error"), "code"));
}

static inline const char *
ut_error_message(const json_t *resp)
{
	const char *msg =
		json_string_value(json_object_get(json_object_get(resp, "error"), "message"));

	return msg != NULL ? msg : "";
}

#endif /* UT_JSONRPC_H */
