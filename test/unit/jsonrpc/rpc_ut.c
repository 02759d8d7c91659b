/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/jsonrpc/rpc.c and builtin.c: request validation and the
 * JSON-RPC error codes, state masks, handlers that answer later, and the
 * built-in methods. Requests go through nvt_rpc_call() on one thread that
 * the test polls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "ut_jsonrpc.h"

static int g_echo_calls;
static bool g_echo_params_null;

static void
ut_echo(struct nvt_jsonrpc_request *req, const json_t *params)
{
	g_echo_calls++;
	g_echo_params_null = params == NULL;
	nvt_jsonrpc_send_result(req, params != NULL ? json_deep_copy(params) : NULL);
}
NVT_RPC_REGISTER("ut_echo", ut_echo, NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

static void
ut_startup_only(struct nvt_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	nvt_jsonrpc_send_result(req, json_string("startup"));
}
NVT_RPC_REGISTER("ut_startup_only", ut_startup_only, NVT_RPC_STARTUP)

static void
ut_runtime_only(struct nvt_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	nvt_jsonrpc_send_result(req, json_string("runtime"));
}
NVT_RPC_REGISTER("ut_runtime_only", ut_runtime_only, NVT_RPC_RUNTIME)

struct decode_params {
	uint64_t num_blocks;
};

static void
ut_decode(struct nvt_jsonrpc_request *req, const json_t *params)
{
	static const struct nvt_json_field fields[] = {
		{ "num_blocks", NVT_JSON_UINT64, offsetof(struct decode_params, num_blocks),
		  false },
	};
	struct decode_params p = { 0 };
	char err[128];

	if (nvt_json_decode_object(params, fields, 1, &p, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s",
				       nvt_jsonrpc_request_method(req), err);
		return;
	}
	nvt_jsonrpc_send_result(req, json_integer((json_int_t)p.num_blocks));
}
NVT_RPC_REGISTER("ut_decode", ut_decode, NVT_RPC_RUNTIME)

/* nvt_jsonrpc_decode(): SPDK fields, their notices and the errors it answers. */
struct ut_spdk_params {
	uint32_t size;
};

#define UT_TUNES "ut tunes nothing"

static const struct nvt_json_field g_ut_spdk_fields[] = {
	{ "size", NVT_JSON_UINT32, offsetof(struct ut_spdk_params, size), true },
	NVT_JSON_SPDK_DEFAULT("zcopy", "false", "no zero copy"),
	NVT_JSON_SPDK_IGNORED("no_srq", UT_TUNES),
	NVT_JSON_SPDK_IGNORED("num_cqe", UT_TUNES),
	NVT_JSON_SPDK_IGNORED("silent", NULL),
};

static void
ut_spdk(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct ut_spdk_params p = { 0 };

	if (nvt_jsonrpc_decode(req, NULL, params, g_ut_spdk_fields, NVT_COUNTOF(g_ut_spdk_fields),
			       &p)) {
		nvt_jsonrpc_send_result(req, json_integer(p.size));
	}
}
NVT_RPC_REGISTER("ut_spdk", ut_spdk, NVT_RPC_RUNTIME)

/* Answers from a message: the dispatcher must keep the request until then. */
static void
ut_async_answer(void *arg)
{
	nvt_jsonrpc_send_result(arg, json_string("later"));
}

static void
ut_async(struct nvt_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	assert_int_equal(nvt_thread_send_msg(nvt_get_thread(), ut_async_answer, req), 0);
}
NVT_RPC_REGISTER("ut_async", ut_async, NVT_RPC_RUNTIME)

static void
ut_write_config(json_t *config)
{
	json_array_append_new(config,
			      json_pack("{s:s, s:{s:i}}", "method", "ut_echo", "params", "x", 1));
}
NVT_CONFIG_REGISTER_SUBSYSTEM("ut", ut_write_config)

/* Run \p request and check the error code and that the message contains \p msg. */
static void
expect_error(const char *request, int code, const char *msg)
{
	json_t *resp = ut_rpc(request);

	assert_non_null(resp);
	assert_int_equal(ut_error_code(resp), code);
	if (strstr(ut_error_message(resp), msg) == NULL) {
		fail_msg("error '%s' lacks '%s'", ut_error_message(resp), msg);
	}
	assert_string_equal(json_string_value(json_object_get(resp, "jsonrpc")), "2.0");
	json_decref(resp);
}

static void
test_parse_error(void **state)
{
	json_t *resp;

	(void)state;
	expect_error("{\"jsonrpc\": \"2.0\", ", NVT_JSONRPC_ERROR_PARSE_ERROR, "Parse error");
	expect_error("nonsense", NVT_JSONRPC_ERROR_PARSE_ERROR, "Parse error");
	resp = ut_rpc("{bad json}");
	assert_true(json_is_null(json_object_get(resp, "id")));
	json_decref(resp);
}

static void
test_invalid_request(void **state)
{
	json_t *resp;

	(void)state;
	expect_error("{\"method\": \"ut_echo\", \"id\": 1}", NVT_JSONRPC_ERROR_INVALID_REQUEST,
		     "\"jsonrpc\" must be \"2.0\"");
	expect_error("{\"jsonrpc\": \"1.0\", \"method\": \"ut_echo\", \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
	expect_error("{\"jsonrpc\": \"2.0\", \"id\": 1}", NVT_JSONRPC_ERROR_INVALID_REQUEST,
		     "\"method\" must be a string");
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": 5, \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_REQUEST, "\"method\" must be a string");
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"params\": [1], \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_REQUEST, "\"params\" must be an object");
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"params\": 3}",
		     NVT_JSONRPC_ERROR_INVALID_REQUEST, "\"params\" must be an object");
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"id\": true}",
		     NVT_JSONRPC_ERROR_INVALID_REQUEST, "\"id\" must be");
	expect_error("[{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"id\": 1}]",
		     NVT_JSONRPC_ERROR_INVALID_REQUEST, "batch");
	/* The id is echoed when it was valid. */
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"id\": 42}");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 42);
	json_decref(resp);
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"id\": {}}");
	assert_true(json_is_null(json_object_get(resp, "id")));
	json_decref(resp);
	assert_int_equal(g_echo_calls, 0);
}

static void
test_method_not_found(void **state)
{
	json_t *resp;

	(void)state;
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"foo\", \"id\": \"abc\"}");
	assert_int_equal(ut_error_code(resp), NVT_JSONRPC_ERROR_METHOD_NOT_FOUND);
	assert_string_equal(ut_error_message(resp), "Method not found: foo");
	assert_string_equal(json_string_value(json_object_get(resp, "id")), "abc");
	json_decref(resp);
	/* A notification gets no answer, even an error. */
	assert_null(ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"foo\"}"));
}

static void
test_result_and_ids(void **state)
{
	json_t *resp;

	(void)state;
	g_echo_calls = 0;
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"params\": {\"a\": [1]}, "
		      "\"id\": 7}");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 7);
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(json_object_get(resp, "result"), "a"), 0)),
			 1);
	assert_null(json_object_get(resp, "error"));
	json_decref(resp);
	/* No params, and null params, reach the handler as NULL; NULL answers true. */
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"id\": \"s\"}");
	assert_true(g_echo_params_null);
	assert_true(json_is_true(json_object_get(resp, "result")));
	json_decref(resp);
	resp = ut_rpc(
		"{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\", \"params\": null, \"id\": null}");
	assert_true(g_echo_params_null);
	assert_true(json_is_null(json_object_get(resp, "id")));
	assert_true(json_is_true(json_object_get(resp, "result")));
	json_decref(resp);
	/* A notification runs but is not answered. */
	assert_null(ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_echo\"}"));
	assert_int_equal(g_echo_calls, 4);
}

static void
test_invalid_params(void **state)
{
	json_t *resp;

	(void)state;
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_decode\", \"params\": "
		     "{\"num_blocks\": \"x\"}, \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "ut_decode: field 'num_blocks': expected an unsigned integer");
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_decode\", \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'num_blocks': missing");
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_decode\", \"params\": "
		      "{\"num_blocks\": 64}, \"id\": 1}");
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 64);
	json_decref(resp);
}

static void
test_state_mask(void **state)
{
	json_t *resp;

	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	assert_int_equal(nvt_rpc_get_state(), NVT_RPC_STARTUP);
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_runtime_only\", \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_STATE,
		     "Method 'ut_runtime_only' is only allowed once the application runs");
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_startup_only\", \"id\": 1}");
	assert_string_equal(json_string_value(json_object_get(resp, "result")), "startup");
	json_decref(resp);
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_startup_only\", \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_STATE,
		     "Method 'ut_startup_only' is only allowed at startup");
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_runtime_only\", \"id\": 1}");
	assert_string_equal(json_string_value(json_object_get(resp, "result")), "runtime");
	json_decref(resp);
}

struct async_call {
	int calls;
	char *text;
};

static void
async_cb(const char *response, void *ctx)
{
	struct async_call *call = ctx;

	call->calls++;
	call->text = strdup(response);
}

static void
test_async_answer(void **state)
{
	struct async_call call = { 0 };
	json_t *resp;

	(void)state;
	nvt_rpc_call("{\"jsonrpc\": \"2.0\", \"method\": \"ut_async\", \"id\": 9}", async_cb,
		     &call);
	/* The handler answers from a message: nothing yet. */
	assert_int_equal(call.calls, 0);
	ut_poll(3);
	assert_int_equal(call.calls, 1);
	resp = json_loads(call.text, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(resp, "result")), "later");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 9);
	json_decref(resp);
	free(call.text);
}

static bool
list_has(const json_t *list, const char *name)
{
	const json_t *val;
	size_t i;

	json_array_foreach(list, i, val)
	{
		if (strcmp(json_string_value(val), name) == 0) {
			return true;
		}
	}
	return false;
}

static void
test_rpc_get_methods(void **state)
{
	json_t *resp, *list;

	(void)state;
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"rpc_get_methods\", \"id\": 1}");
	list = json_object_get(resp, "result");
	assert_true(json_is_array(list));
	assert_string_equal(json_string_value(json_array_get(list, 0)), "rpc_get_methods");
	assert_true(list_has(list, "save_config"));
	assert_true(list_has(list, "nvtcp_get_version"));
	assert_true(list_has(list, "ut_echo"));
	assert_true(list_has(list, "ut_startup_only"));
	assert_false(list_has(list, "spdk_get_version"));
	json_decref(resp);

	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"rpc_get_methods\", \"params\": "
		      "{\"current\": true, \"include_aliases\": true}, \"id\": 1}");
	list = json_object_get(resp, "result");
	assert_true(list_has(list, "ut_runtime_only"));
	assert_false(list_has(list, "ut_startup_only"));
	assert_true(list_has(list, "spdk_get_version"));
	json_decref(resp);

	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"rpc_get_methods\", \"params\": "
		     "{\"curent\": true}, \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "rpc_get_methods: field 'curent': unknown");
}

static void
check_version(const char *method)
{
	char req[128];
	json_t *resp, *result, *fields;

	snprintf(req, sizeof(req), "{\"jsonrpc\": \"2.0\", \"method\": \"%s\", \"id\": 1}", method);
	resp = ut_rpc(req);
	result = json_object_get(resp, "result");
	assert_string_equal(json_string_value(json_object_get(result, "version")), "nvtcp 0.1.0");
	fields = json_object_get(result, "fields");
	assert_int_equal(json_integer_value(json_object_get(fields, "major")), 0);
	assert_int_equal(json_integer_value(json_object_get(fields, "minor")), 1);
	assert_int_equal(json_integer_value(json_object_get(fields, "patch")), 0);
	assert_string_equal(json_string_value(json_object_get(fields, "suffix")), "");
	json_decref(resp);
}

static void
test_version(void **state)
{
	(void)state;
	check_version("nvtcp_get_version");
	check_version("spdk_get_version");
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"nvtcp_get_version\", \"params\": "
		     "{\"x\": 1}, \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'x': unknown");
}

static void
test_save_config_methods(void **state)
{
	json_t *resp, *expect;

	(void)state;
	expect = json_loads("{\"subsystems\": [{\"subsystem\": \"ut\", \"config\": "
			    "[{\"method\": \"ut_echo\", \"params\": {\"x\": 1}}]}]}",
			    0, NULL);
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"save_config\", \"id\": 1}");
	assert_true(json_equal(json_object_get(resp, "result"), expect));
	json_decref(resp);

	resp = ut_rpc(
		"{\"jsonrpc\": \"2.0\", \"method\": \"framework_get_subsystems\", \"id\": 1}");
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(resp, "result"), 0), "subsystem")),
		"ut");
	json_decref(resp);

	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"framework_get_config\", \"params\": "
		      "{\"name\": \"ut\"}, \"id\": 1}");
	assert_true(
		json_equal(json_object_get(resp, "result"),
			   json_object_get(json_array_get(json_object_get(expect, "subsystems"), 0),
					   "config")));
	json_decref(resp);
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"framework_get_config\", \"params\": "
		     "{\"name\": \"nope\"}, \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'name': no subsystem 'nope'");
	/* rpc.py asks without batches, which is how configurations are written here. */
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"framework_get_config\", \"params\": "
		      "{\"name\": \"ut\", \"with_batches\": false}, \"id\": 1}");
	assert_true(json_is_array(json_object_get(resp, "result")));
	json_decref(resp);
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"framework_get_config\", \"params\": "
		     "{\"name\": \"ut\", \"with_batches\": true}, \"id\": 1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "field 'with_batches': true is not supported");
	json_decref(expect);
}

static void
test_spdk_params(void **state)
{
	json_t *resp;

	(void)state;
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_spdk\", \"id\": 1, \"params\": "
		      "{\"size\": 4, \"zcopy\": false, \"silent\": 1}}");
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 4);
	json_decref(resp);
	assert_false(ut_log_has("accepted for compatibility"));
	expect_error("{\"jsonrpc\": \"2.0\", \"method\": \"ut_spdk\", \"id\": 1, \"params\": "
		     "{\"zcopy\": true}}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "ut_spdk: field 'zcopy': true is not supported (no zero copy); accepted: "
		     "false (SPDK's default)");
	/* Fields given that share a reason: one notice naming both, once per process. */
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_spdk\", \"id\": 1, \"params\": "
		      "{\"no_srq\": true, \"num_cqe\": 9}}");
	assert_true(json_is_integer(json_object_get(resp, "result")));
	json_decref(resp);
	assert_true(ut_log_has("ut_spdk: 'no_srq', 'num_cqe' accepted for compatibility with SPDK "
			       "and not applied: " UT_TUNES));
	ut_log_clear();
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_spdk\", \"id\": 1, \"params\": "
		      "{\"num_cqe\": 9}}");
	json_decref(resp);
	assert_false(ut_log_has("accepted for compatibility"));
}

static int g_init_calls;

static void
ut_init(void)
{
	g_init_calls++;
}

/* framework_start_init / framework_wait_init, as rpc.py's load_config uses them. */
static void
test_start_init(void **state)
{
	struct ut_call call = { 0 }, started = { 0 };
	json_t *wait;
	static const char start[] =
		"{\"jsonrpc\": \"2.0\", \"method\": \"framework_start_init\", \"id\": 1}";

	(void)state;
	/* Once running there is nothing to wait for, and start_init is over. */
	wait = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"framework_wait_init\", \"id\": 1}");
	assert_true(json_is_true(json_object_get(wait, "result")));
	json_decref(wait);
	expect_error(start, NVT_JSONRPC_ERROR_INVALID_STATE, "only allowed at startup");

	nvt_rpc_set_state(NVT_RPC_STARTUP);
	expect_error(start, NVT_JSONRPC_ERROR_INVALID_STATE, "no start-up to run");
	nvt_rpc_set_init_fn(ut_init);
	/* A waiter is answered once the start-up is done, not before. */
	nvt_rpc_call("{\"jsonrpc\": \"2.0\", \"method\": \"framework_wait_init\", \"id\": 7}",
		     ut_call_cb, &call);
	ut_poll(10);
	assert_false(call.done);
	nvt_rpc_call(start, ut_call_cb, &started);
	ut_poll(10);
	assert_int_equal(g_init_calls, 1);
	assert_int_equal(nvt_rpc_get_state(), NVT_RPC_RUNTIME);
	assert_false(started.done);
	assert_false(call.done);
	nvt_rpc_init_done(0);
	assert_true(started.done && call.done);
	assert_non_null(strstr(started.text, "\"result\":true"));
	assert_non_null(strstr(call.text, "\"result\":true"));
	free(started.text);
	free(call.text);

	/* A failed start-up is an error to every waiter. */
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	memset(&call, 0, sizeof(call));
	nvt_rpc_call("{\"jsonrpc\": \"2.0\", \"method\": \"framework_wait_init\", \"id\": 8}",
		     ut_call_cb, &call);
	nvt_rpc_init_done(-ECANCELED);
	assert_true(call.done);
	assert_non_null(strstr(call.text, "the start-up failed"));
	free(call.text);
	nvt_rpc_set_init_fn(NULL);
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
}

static void
test_register_twice(void **state)
{
	(void)state;
	nvt_rpc_register_method("ut_echo", ut_runtime_only, NVT_RPC_RUNTIME);
	assert_true(ut_log_has("method 'ut_echo' registered twice"));
	nvt_config_register_subsystem("ut", NULL);
	assert_true(ut_log_has("subsystem 'ut' registered twice"));
	ut_log_clear();
	/* The first registration stays. */
	test_result_and_ids(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_error, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_request, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_method_not_found, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_result_and_ids, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_params, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_state_mask, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_async_answer, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_rpc_get_methods, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_version, ut_thread_setup, ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_save_config_methods, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_spdk_params, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_start_init, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_register_twice, ut_thread_setup,
						ut_thread_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
