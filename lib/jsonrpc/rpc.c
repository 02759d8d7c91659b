/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The method registry and the dispatcher: validates JSON-RPC 2.0 requests,
 * checks the state mask, runs handlers and builds responses. Shared by the
 * socket server, nvt_rpc_call() and the configuration loader.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/queue.h"
#include "jsonrpc_internal.h"

NVT_LOG_REGISTER_COMPONENT(jsonrpc)

struct rpc_method {
	TAILQ_ENTRY(rpc_method) link;
	char *name;
	nvt_rpc_method_fn fn;
	uint32_t state_mask;
	bool alias;
};

/* One request between dispatch and its answer; owned by the dispatcher. */
struct nvt_jsonrpc_request {
	json_t *obj;	    /* the request object, kept until answered */
	const json_t *id;   /* borrowed from obj; NULL for a notification */
	const char *method; /* borrowed from obj */
	rpc_done_cb done;
	void *done_ctx;
};

/* Written by constructors before main, then read on the app thread only. */
static TAILQ_HEAD(, rpc_method) g_methods = TAILQ_HEAD_INITIALIZER(g_methods);
static bool g_builtins_registered;
static uint32_t g_state = NVT_RPC_STARTUP;

static struct rpc_method *
rpc_find(const char *name)
{
	struct rpc_method *m;

	TAILQ_FOREACH(m, &g_methods, link) {
		if (strcmp(m->name, name) == 0) {
			return m;
		}
	}
	return NULL;
}

/* Built-ins go first so that rpc_get_methods lists them first, whatever the link order. */
static void
rpc_registry_init(void)
{
	if (!g_builtins_registered) {
		g_builtins_registered = true;
		rpc_builtin_register();
	}
}

static void
rpc_register(const char *name, nvt_rpc_method_fn fn, uint32_t state_mask, bool alias)
{
	struct rpc_method *m;

	rpc_registry_init();
	if (rpc_find(name) != NULL) {
		NVT_ERRLOG("rpc: method '%s' registered twice; keeping the first\n", name);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->name = strdup(name)) == NULL) {
		NVT_ERRLOG("rpc: out of memory registering method '%s'\n", name);
		free(m);
		return;
	}
	m->fn = fn;
	m->state_mask = state_mask;
	m->alias = alias;
	TAILQ_INSERT_TAIL(&g_methods, m, link);
}

void
nvt_rpc_register_method(const char *method, nvt_rpc_method_fn fn, uint32_t state_mask)
{
	rpc_register(method, fn, state_mask, false);
}

void
rpc_register_alias(const char *alias, nvt_rpc_method_fn fn, uint32_t state_mask)
{
	rpc_register(alias, fn, state_mask, true);
}

uint32_t
rpc_method_state_mask(const char *method)
{
	struct rpc_method *m;

	rpc_registry_init();
	m = rpc_find(method);
	return m != NULL ? m->state_mask : 0;
}

void
rpc_foreach_method(void (*fn)(const char *name, uint32_t state_mask, bool alias, void *ctx),
		   void *ctx)
{
	struct rpc_method *m;

	rpc_registry_init();
	TAILQ_FOREACH(m, &g_methods, link) {
		fn(m->name, m->state_mask, m->alias, ctx);
	}
}

uint32_t
nvt_rpc_get_state(void)
{
	return g_state;
}

void
nvt_rpc_set_state(uint32_t state)
{
	g_state = state;
}

/* ---- responses ---- */

static json_t *
rpc_response(const json_t *id)
{
	json_t *resp = json_object();

	if (resp == NULL) {
		return NULL;
	}
	json_object_set_new(resp, "jsonrpc", json_string("2.0"));
	json_object_set_new(resp, "id", id != NULL ? json_copy((json_t *)id) : json_null());
	return resp;
}

json_t *
rpc_error_response(const json_t *id, int code, const char *msg)
{
	json_t *resp = rpc_response(id);
	json_t *err = json_object();

	if (resp == NULL || err == NULL) {
		json_decref(resp);
		json_decref(err);
		return NULL;
	}
	json_object_set_new(err, "code", json_integer(code));
	json_object_set_new(err, "message", json_string(msg));
	json_object_set_new(resp, "error", err);
	return resp;
}

/* Hand the response (possibly NULL when out of memory) on and free the request. */
static void
request_finish(struct nvt_jsonrpc_request *req, json_t *resp)
{
	if (resp == NULL) {
		NVT_ERRLOG("rpc: out of memory answering '%s'\n", req->method);
		resp = rpc_error_response(NULL, NVT_JSONRPC_ERROR_INTERNAL_ERROR, "out of memory");
	}
	req->done(resp, req->id == NULL, req->done_ctx);
	json_decref(req->obj);
	free(req);
}

void
nvt_jsonrpc_send_result(struct nvt_jsonrpc_request *req, json_t *result)
{
	json_t *resp = rpc_response(req->id);

	if (result == NULL) {
		result = json_true();
	}
	if (resp != NULL) {
		json_object_set_new(resp, "result", result);
	} else {
		json_decref(result);
	}
	request_finish(req, resp);
}

void
nvt_jsonrpc_send_error(struct nvt_jsonrpc_request *req, int code, const char *fmt, ...)
{
	char *msg = NULL;
	json_t *resp = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc >= 0) {
		resp = rpc_error_response(req->id, code, msg);
		free(msg);
	}
	request_finish(req, resp);
}

const char *
nvt_jsonrpc_request_method(const struct nvt_jsonrpc_request *req)
{
	return req->method;
}

/* ---- dispatch ---- */

/* Answer a request that never reached a handler. */
static void dispatch_fail(json_t *obj, const json_t *id, bool notification, rpc_done_cb done,
			  void *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void
dispatch_fail(json_t *obj, const json_t *id, bool notification, rpc_done_cb done, void *ctx,
	      int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	done(rpc_error_response(id, code, msg), notification, ctx);
	json_decref(obj);
}

/* "id" may be a number, a string or null (JSON-RPC 2.0 section 4). */
static bool
id_is_valid(const json_t *id)
{
	return id == NULL || json_is_number(id) || json_is_string(id) || json_is_null(id);
}

/* Returns the reason \p obj is not a valid request, or NULL. */
static const char *
request_check(const json_t *obj)
{
	const json_t *version, *method, *params;

	if (json_is_array(obj)) {
		return "batch requests are not supported";
	}
	if (!json_is_object(obj)) {
		return "a request must be a JSON object";
	}
	version = json_object_get(obj, "jsonrpc");
	if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
		return "\"jsonrpc\" must be \"2.0\"";
	}
	method = json_object_get(obj, "method");
	if (!json_is_string(method)) {
		return "\"method\" must be a string";
	}
	params = json_object_get(obj, "params");
	if (params != NULL && !json_is_object(params) && !json_is_null(params)) {
		return "\"params\" must be an object";
	}
	if (!id_is_valid(json_object_get(obj, "id"))) {
		return "\"id\" must be a number, a string or null";
	}
	return NULL;
}

static const char *
state_name(uint32_t state)
{
	return state == NVT_RPC_STARTUP ? "at startup (while the configuration loads)"
					: "once the application runs";
}

void
rpc_dispatch(json_t *obj, rpc_done_cb done, void *ctx)
{
	const char *reason = request_check(obj);
	const json_t *id = json_is_object(obj) ? json_object_get(obj, "id") : NULL;
	struct nvt_jsonrpc_request *req;
	struct rpc_method *m;
	const json_t *params;

	if (reason != NULL) {
		/* Answered even without an id: the client cannot know it was a notification. */
		dispatch_fail(obj, id_is_valid(id) ? id : NULL, false, done, ctx,
			      NVT_JSONRPC_ERROR_INVALID_REQUEST, "Invalid request: %s", reason);
		return;
	}
	rpc_registry_init();
	m = rpc_find(json_string_value(json_object_get(obj, "method")));
	if (m == NULL) {
		dispatch_fail(obj, id, id == NULL, done, ctx, NVT_JSONRPC_ERROR_METHOD_NOT_FOUND,
			      "Method not found: %s",
			      json_string_value(json_object_get(obj, "method")));
		return;
	}
	if ((m->state_mask & g_state) == 0) {
		dispatch_fail(obj, id, id == NULL, done, ctx, NVT_JSONRPC_ERROR_INVALID_STATE,
			      "Method '%s' is only allowed %s", m->name,
			      state_name(m->state_mask & NVT_RPC_STARTUP ? NVT_RPC_STARTUP
									 : NVT_RPC_RUNTIME));
		return;
	}
	NVT_DEBUGLOG(jsonrpc, "rpc: %s\n", m->name);
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		dispatch_fail(obj, id, id == NULL, done, ctx, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
			      "out of memory");
		return;
	}
	req->obj = obj;
	req->id = id;
	req->method = m->name;
	req->done = done;
	req->done_ctx = ctx;
	params = json_object_get(obj, "params");
	m->fn(req, json_is_null(params) ? NULL : params);
}

/* ---- in-process calls ---- */

struct rpc_call_ctx {
	void (*cb)(const char *response, void *ctx);
	void *ctx;
};

static void
rpc_call_done(json_t *resp, bool notification, void *arg)
{
	struct rpc_call_ctx *call = arg;
	char *text = NULL;

	if (!notification && resp != NULL) {
		text = json_dumps(resp, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	json_decref(resp);
	call->cb(text, call->ctx);
	free(text);
	free(call);
}

void
nvt_rpc_call(const char *request, void (*cb)(const char *response, void *ctx), void *ctx)
{
	struct rpc_call_ctx *call = calloc(1, sizeof(*call));
	json_error_t jerr;
	json_t *obj;
	char msg[256];

	if (call == NULL) {
		cb(NULL, ctx);
		return;
	}
	call->cb = cb;
	call->ctx = ctx;
	obj = json_loads(request, 0, &jerr);
	if (obj == NULL) {
		snprintf(msg, sizeof(msg), "Parse error: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		rpc_call_done(rpc_error_response(NULL, NVT_JSONRPC_ERROR_PARSE_ERROR, msg), false,
			      call);
		return;
	}
	rpc_dispatch(obj, rpc_call_done, call);
}
