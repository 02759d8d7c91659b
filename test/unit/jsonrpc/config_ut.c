/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/jsonrpc/config.c: loading runs the methods in order
 * (waiting for asynchronous answers), start-up methods first; bad documents,
 * unknown methods and failing methods are reported with the subsystem, the
 * method and the entry; save and load round-trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "ut_jsonrpc.h"

static char g_trace[256];

static void
trace_add(const json_t *params)
{
	const char *v = json_string_value(json_object_get(params, "v"));

	if (g_trace[0] != '\0') {
		strncat(g_trace, ",", sizeof(g_trace) - strlen(g_trace) - 1);
	}
	strncat(g_trace, v != NULL ? v : "?", sizeof(g_trace) - strlen(g_trace) - 1);
}

static void
ut_record(struct nvt_jsonrpc_request *req, const json_t *params)
{
	trace_add(params);
	nvt_jsonrpc_send_result(req, NULL);
}
NVT_RPC_REGISTER("ut_record", ut_record, NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

/* The same, under the masks the two-pass load tells apart. */
static void
ut_record_startup(struct nvt_jsonrpc_request *req, const json_t *params)
{
	ut_record(req, params);
}
NVT_RPC_REGISTER("ut_record_startup", ut_record_startup, NVT_RPC_STARTUP)

static void
ut_record_runtime(struct nvt_jsonrpc_request *req, const json_t *params)
{
	ut_record(req, params);
}
NVT_RPC_REGISTER("ut_record_runtime", ut_record_runtime, NVT_RPC_RUNTIME)

struct async_req {
	struct nvt_jsonrpc_request *req;
	json_t *params;
};

static void
ut_async_answer(void *arg)
{
	struct async_req *a = arg;

	trace_add(a->params);
	if (json_is_true(json_object_get(a->params, "fail"))) {
		nvt_jsonrpc_send_error(a->req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "ut_async_record: it failed later");
	} else {
		nvt_jsonrpc_send_result(a->req, NULL);
	}
	json_decref(a->params);
	free(a);
}

/* Records from a message: the loader must wait for it before the next entry. */
static void
ut_async_record(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct async_req *a = calloc(1, sizeof(*a));

	assert_non_null(a);
	a->req = req;
	a->params = json_deep_copy(params);
	assert_int_equal(nvt_thread_send_msg(nvt_get_thread(), ut_async_answer, a), 0);
}
NVT_RPC_REGISTER("ut_async_record", ut_async_record, NVT_RPC_RUNTIME)

static void
ut_fail(struct nvt_jsonrpc_request *req, const json_t *params)
{
	(void)params;
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
			       "ut_fail: field 'num_blocks': must be at least 1");
}
NVT_RPC_REGISTER("ut_fail", ut_fail, NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

/* ---- a component with state to save and restore ---- */

static json_t *g_values; /* what ut_set_value was given, in order */

static void
ut_set_value(struct nvt_jsonrpc_request *req, const json_t *params)
{
	static const struct nvt_json_field fields[] = { { "value", NVT_JSON_ANY, 0, false } };
	const json_t *value = NULL;
	char err[128];

	if (nvt_json_decode_object(params, fields, 1, &value, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "ut_set_value: %s",
				       err);
		return;
	}
	json_array_append(g_values, (json_t *)value);
	nvt_jsonrpc_send_result(req, NULL);
}
NVT_RPC_REGISTER("ut_set_value", ut_set_value, NVT_RPC_RUNTIME)

static void
ut_write_values(json_t *config)
{
	const json_t *value;
	size_t i;

	json_array_foreach(g_values, i, value)
	{
		json_array_append_new(config, json_pack("{s:s, s:{s:O}}", "method", "ut_set_value",
							"params", "value", value));
	}
}
NVT_CONFIG_REGISTER_SUBSYSTEM("ut_values", ut_write_values)

static void
ut_write_nothing(json_t *config)
{
	(void)config;
}
NVT_CONFIG_REGISTER_SUBSYSTEM("ut_empty", ut_write_nothing)

/* ---- helpers ---- */

struct load_result {
	int calls;
	int rc;
};

static void
load_cb(int rc, void *ctx)
{
	struct load_result *res = ctx;

	res->calls++;
	res->rc = rc;
}

/* Load \p text as a document; returns the callback's rc after checking it ran once. */
static int
load_text(const char *text)
{
	struct load_result res = { 0 };
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	int i;

	if (doc == NULL) {
		fail_msg("bad test document: %s", jerr.text);
	}
	nvt_config_load_json(doc, load_cb, &res);
	json_decref(doc);
	/* Never called inside the load call. */
	assert_int_equal(res.calls, 0);
	for (i = 0; i < 100 && res.calls == 0; i++) {
		ut_poll(1);
	}
	assert_int_equal(res.calls, 1);
	return res.rc;
}

static char g_path[64];

static int
load_file_text(const char *text)
{
	struct load_result res = { 0 };
	FILE *f;
	int fd, i;

	snprintf(g_path, sizeof(g_path), "/tmp/nvt_config_ut.XXXXXX");
	fd = mkstemp(g_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	nvt_config_load_file(g_path, load_cb, &res);
	assert_int_equal(res.calls, 0);
	for (i = 0; i < 100 && res.calls == 0; i++) {
		ut_poll(1);
	}
	unlink(g_path);
	assert_int_equal(res.calls, 1);
	return res.rc;
}

static int
setup(void **state)
{
	g_trace[0] = '\0';
	g_values = json_array();
	return ut_thread_setup(state);
}

static int
teardown(void **state)
{
	json_decref(g_values);
	g_values = NULL;
	return ut_thread_teardown(state);
}

/* ---- tests ---- */

static void
test_good_file_in_order(void **state)
{
	(void)state;
	assert_int_equal(
		load_file_text(
			"{\"subsystems\": [\n"
			"  {\"subsystem\": \"bdev\", \"config\": [\n"
			"    {\"method\": \"ut_record\", \"params\": {\"v\": \"a\"}},\n"
			"    {\"method\": \"ut_async_record\", \"params\": {\"v\": \"b\"}},\n"
			"    {\"method\": \"ut_record\", \"params\": {\"v\": \"c\"}}]},\n"
			"  {\"subsystem\": \"accel\", \"config\": null},\n"
			"  {\"subsystem\": \"sock\", \"config\": []},\n"
			"  {\"subsystem\": \"iobuf\"},\n"
			"  {\"subsystem\": \"nvmf\", \"config\": [\n"
			"    {\"method\": \"ut_async_record\", \"params\": {\"v\": \"d\"}},\n"
			"    {\"method\": \"ut_record\", \"params\": {\"v\": \"e\"}}]}]}\n"),
		0);
	assert_string_equal(g_trace, "a,b,c,d,e");
}

static void
test_startup_entries_first(void **state)
{
	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	assert_int_equal(
		load_text("{\"subsystems\": [{\"subsystem\": \"s\", \"config\": ["
			  "{\"method\": \"ut_record_runtime\", \"params\": {\"v\": \"r1\"}},"
			  "{\"method\": \"ut_record_startup\", \"params\": {\"v\": \"s1\"}},"
			  "{\"method\": \"ut_async_record\", \"params\": {\"v\": \"r2\"}},"
			  "{\"method\": \"ut_record\", \"params\": {\"v\": \"b1\"}}]},"
			  "{\"subsystem\": \"t\", \"config\": ["
			  "{\"method\": \"ut_record_startup\", \"params\": {\"v\": \"s2\"}},"
			  "{\"method\": \"ut_record_runtime\", \"params\": {\"v\": \"r3\"}}"
			  "]}]}"),
		0);
	assert_string_equal(g_trace, "s1,b1,s2,r1,r2,r3");
	assert_int_equal(nvt_rpc_get_state(), NVT_RPC_RUNTIME);
}

static void
test_startup_only_at_runtime(void **state)
{
	(void)state;
	assert_int_equal(load_text("{\"subsystems\": [{\"subsystem\": \"iobuf\", \"config\": ["
				   "{\"method\": \"ut_record\", \"params\": {\"v\": \"a\"}},"
				   "{\"method\": \"ut_record_startup\", \"params\": {\"v\": \"b\"}}"
				   "]}]}"),
			 -EINVAL);
	assert_true(ut_log_has("config: subsystem 'iobuf', method 'ut_record_startup' (entry 2): "
			       "only allowed at startup"));
	/* Checked before anything runs. */
	assert_string_equal(g_trace, "");
	ut_log_clear();
}

static void
test_empty_documents(void **state)
{
	(void)state;
	assert_int_equal(load_text("{\"subsystems\": []}"), 0);
	assert_int_equal(load_text("{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": null}, "
				   "{\"subsystem\": \"nvmf\", \"config\": []}]}"),
			 0);
	assert_string_equal(g_trace, "");
}

static void
test_bad_json_file(void **state)
{
	(void)state;
	assert_int_equal(load_file_text("{\"subsystems\": [\n"
					"  {\"subsystem\": \"bdev\",\n"
					"   \"config\": [}\n"
					"]}\n"),
			 -EINVAL);
	assert_true(ut_log_has("is not valid JSON: line 3, column"));
	ut_log_clear();
	assert_int_equal(load_file_text(""), -EINVAL);
	assert_true(ut_log_has("is not valid JSON: line 1"));
	ut_log_clear();
}

static void
test_unreadable_file(void **state)
{
	struct load_result res = { 0 };

	(void)state;
	nvt_config_load_file("/nonexistent/nvt/config.json", load_cb, &res);
	ut_poll(2);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.rc, -ENOENT);
	assert_true(ut_log_has("config: cannot read '/nonexistent/nvt/config.json'"));
	ut_log_clear();
}

struct shape_case {
	const char *doc;
	const char *log;
};

static void
test_bad_shapes(void **state)
{
	static const struct shape_case cases[] = {
		{ "[]", "the document must be an object" },
		{ "{}", "config: \"subsystems\" is missing" },
		{ "{\"subsystem\": []}", "config: \"subsystems\" is missing" },
		{ "{\"subsystems\": {}}", "config: \"subsystems\" must be an array" },
		{ "{\"subsystems\": [5]}", "config: subsystems[0]: expected an object" },
		{ "{\"subsystems\": [{\"config\": []}]}",
		  "config: subsystems[0]: expected an object" },
		{ "{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": {}}]}",
		  "config: subsystem 'bdev': \"config\" must be an array" },
		{ "{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": [{\"params\": {}}]}]}",
		  "config: subsystem 'bdev', entry 1: \"method\" is missing" },
		{ "{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": [{\"method\": 1}]}]}",
		  "config: subsystem 'bdev', entry 1: \"method\" must be a string" },
		{ "{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": [\"x\"]}]}",
		  "config: subsystem 'bdev', entry 1: not an object" },
		{ "{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": [{\"method\": "
		  "\"ut_record\"}, {\"method\": \"ut_record\", \"params\": [1]}]}]}",
		  "config: subsystem 'bdev', method 'ut_record' (entry 2): \"params\" must be an "
		  "object" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ut_log_clear();
		assert_int_equal(load_text(cases[i].doc), -EINVAL);
		if (!ut_log_has(cases[i].log)) {
			fail_msg("document %s: log lacks '%s':\n%s", cases[i].doc, cases[i].log,
				 g_ut_log.text);
		}
	}
	assert_string_equal(g_trace, "");
	ut_log_clear();
}

static void
test_unknown_method(void **state)
{
	(void)state;
	assert_int_equal(load_text("{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": ["
				   "{\"method\": \"ut_record\", \"params\": {\"v\": \"a\"}}]},"
				   "{\"subsystem\": \"iobuf\", \"config\": ["
				   "{\"method\": \"iobuf_set_options\", \"params\": {}}]}]}"),
			 -EINVAL);
	assert_true(ut_log_has("config: subsystem 'iobuf', method 'iobuf_set_options' (entry 1): "
			       "Method not found: iobuf_set_options"));
	assert_string_equal(g_trace, "");
	ut_log_clear();
}

static void
test_method_error_stops(void **state)
{
	(void)state;
	assert_int_equal(load_text("{\"subsystems\": [{\"subsystem\": \"bdev\", \"config\": ["
				   "{\"method\": \"ut_record\", \"params\": {\"v\": \"a\"}},"
				   "{\"method\": \"ut_fail\", \"params\": {\"num_blocks\": 0}},"
				   "{\"method\": \"ut_record\", \"params\": {\"v\": \"c\"}}]}]}"),
			 -EINVAL);
	assert_true(ut_log_has("config: subsystem 'bdev', method 'ut_fail' (entry 2): ut_fail: "
			       "field 'num_blocks': must be at least 1"));
	assert_string_equal(g_trace, "a");
	ut_log_clear();
	/* An asynchronous failure stops it the same way. */
	g_trace[0] = '\0';
	assert_int_equal(load_text("{\"subsystems\": [{\"subsystem\": \"nvmf\", \"config\": ["
				   "{\"method\": \"ut_record\", \"params\": {\"v\": \"a\"}},"
				   "{\"method\": \"ut_async_record\", \"params\": "
				   "{\"v\": \"b\", \"fail\": true}},"
				   "{\"method\": \"ut_record\", \"params\": {\"v\": \"c\"}}]}]}"),
			 -EINVAL);
	assert_true(ut_log_has("config: subsystem 'nvmf', method 'ut_async_record' (entry 2): "
			       "ut_async_record: it failed later"));
	assert_string_equal(g_trace, "a,b");
	ut_log_clear();
}

static void
test_save_round_trip(void **state)
{
	json_t *saved, *resaved, *resp;

	(void)state;
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_set_value\", \"params\": "
		      "{\"value\": {\"name\": \"Malloc0\", \"num_blocks\": 64}}, \"id\": 1}");
	json_decref(resp);
	resp = ut_rpc("{\"jsonrpc\": \"2.0\", \"method\": \"ut_set_value\", \"params\": "
		      "{\"value\": [1, \"two\", null]}, \"id\": 2}");
	json_decref(resp);
	saved = nvt_config_save();
	assert_int_equal(json_array_size(json_object_get(saved, "subsystems")), 2);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(saved, "subsystems"), 0), "subsystem")),
		"ut_values");
	assert_int_equal(
		json_array_size(json_object_get(
			json_array_get(json_object_get(saved, "subsystems"), 1), "config")),
		0);

	/* A fresh component state, then the saved document brings it back. */
	json_array_clear(g_values);
	nvt_config_load_json(saved, load_cb, &(struct load_result){ 0 });
	ut_poll(2);
	assert_int_equal(json_array_size(g_values), 2);
	resaved = nvt_config_save();
	assert_true(json_equal(saved, resaved));
	json_decref(saved);
	json_decref(resaved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_entries_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_only_at_runtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_documents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_json_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
