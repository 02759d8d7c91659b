/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the bdev RPC methods (lib/bdev, malloc, null) and the "bdev"
 * configuration subsystem, called through nvt_rpc_call() as JSON text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nvtcp/bdev.h"
#include "nvtcp/internal/bdev_module.h"
#include "../jsonrpc/ut_jsonrpc.h"

/* Call \p method with \p params (JSON text, or NULL) and return the response. */
static json_t *
call(const char *method, const char *params)
{
	char req[1024];

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"%s%s}", method,
		 params ? ",\"params\":" : "", params ? params : "");
	return ut_rpc(req);
}

/* The result of a successful call (the response keeps it alive). */
static const json_t *
result(const json_t *resp)
{
	const json_t *res = json_object_get(resp, "result");

	if (res == NULL) {
		fprintf(stderr, "unexpected error: %s\n", ut_error_message(resp));
	}
	assert_non_null(res);
	return res;
}

static void
expect_error(const char *method, const char *params, int code, const char *text)
{
	json_t *resp = call(method, params);

	assert_int_equal(ut_error_code(resp), code);
	if (strstr(ut_error_message(resp), text) == NULL) {
		fprintf(stderr, "message '%s' lacks '%s'\n", ut_error_message(resp), text);
		fail();
	}
	json_decref(resp);
}

static void
expect_true(const char *method, const char *params)
{
	json_t *resp = call(method, params);

	assert_true(json_is_true(result(resp)));
	json_decref(resp);
}

static void
test_malloc_create_delete(void **state)
{
	json_t *resp;
	struct nvt_bdev *bdev;
	char uuid[NVT_UUID_STRING_LEN];

	(void)state;
	resp = call("bdev_malloc_create", "{\"name\":\"Malloc7\",\"num_blocks\":128,"
					  "\"block_size\":4096,"
					  "\"uuid\":\"1b4e28ba-2fa1-41d2-883f-0016d3cca427\"}");
	assert_string_equal(json_string_value(result(resp)), "Malloc7");
	json_decref(resp);
	bdev = nvt_bdev_get_by_name("Malloc7");
	assert_non_null(bdev);
	assert_int_equal(nvt_bdev_get_block_size(bdev), 4096);
	assert_int_equal(nvt_bdev_get_num_blocks(bdev), 128);
	nvt_uuid_fmt(uuid, nvt_bdev_get_uuid(bdev));
	assert_string_equal(uuid, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");

	/* No name: SPDK's MallocN, the first free N. */
	resp = call("bdev_malloc_create", "{\"num_blocks\":8,\"block_size\":512,"
					  "\"physical_block_size\":4096,"
					  "\"optimal_io_boundary\":0,\"md_size\":0,"
					  "\"md_interleave\":false,\"dif_type\":0}");
	assert_string_equal(json_string_value(result(resp)), "Malloc0");
	json_decref(resp);

	expect_error("bdev_malloc_create",
		     "{\"name\":\"Malloc7\",\"num_blocks\":8,"
		     "\"block_size\":512}",
		     -EEXIST, "Malloc7");
	expect_error("bdev_malloc_create", "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":520}",
		     -EINVAL, "bdev_malloc_create");
	expect_error("bdev_malloc_create", "{\"name\":\"M\",\"block_size\":512}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "num_blocks");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,\"md_size\":8}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "md_size");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,\"dif_type\":1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "dif_type");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,\"uuid\":\"xyz\"}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "uuid");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,\"colour\":1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "colour");
	assert_null(nvt_bdev_get_by_name("M"));

	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc7\"}");
	assert_null(nvt_bdev_get_by_name("Malloc7"));
	expect_error("bdev_malloc_delete", "{\"name\":\"Malloc7\"}", -ENODEV, "Malloc7");
	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	assert_null(nvt_bdev_first());
}

static void
test_null_create_delete(void **state)
{
	json_t *resp;

	(void)state;
	resp = call("bdev_null_create", "{\"name\":\"Null0\",\"num_blocks\":1048576,"
					"\"block_size\":512}");
	assert_string_equal(json_string_value(result(resp)), "Null0");
	json_decref(resp);
	assert_string_equal(nvt_bdev_get_product_name(nvt_bdev_get_by_name("Null0")), "Null disk");
	expect_error("bdev_null_create", "{\"num_blocks\":8,\"block_size\":512}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "name");
	expect_error("bdev_null_create",
		     "{\"name\":\"N\",\"num_blocks\":8,\"block_size\":512,\"md_size\":16}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "md_size");
	/* A delete of the wrong module is refused and deletes nothing. */
	expect_error("bdev_malloc_delete", "{\"name\":\"Null0\"}", -ENODEV, "Null0");
	expect_true("bdev_null_delete", "{\"name\":\"Null0\"}");
	assert_null(nvt_bdev_first());
}

static void
test_get_bdevs(void **state)
{
	const json_t *list, *b, *types;
	json_t *resp;

	(void)state;
	json_decref(call("bdev_malloc_create", "{\"name\":\"Malloc0\",\"num_blocks\":32,"
					       "\"block_size\":512}"));
	json_decref(call("bdev_null_create", "{\"name\":\"Null0\",\"num_blocks\":16,"
					     "\"block_size\":4096}"));
	resp = call("bdev_get_bdevs", NULL);
	list = result(resp);
	assert_int_equal(json_array_size(list), 2);
	b = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(b, "name")), "Malloc0");
	assert_string_equal(json_string_value(json_object_get(b, "product_name")), "Malloc disk");
	assert_int_equal(json_integer_value(json_object_get(b, "block_size")), 512);
	assert_int_equal(json_integer_value(json_object_get(b, "num_blocks")), 32);
	assert_int_equal(strlen(json_string_value(json_object_get(b, "uuid"))), 36);
	assert_true(json_is_array(json_object_get(b, "aliases")));
	types = json_object_get(b, "supported_io_types");
	assert_true(json_is_true(json_object_get(types, "read")));
	assert_true(json_is_true(json_object_get(types, "write_zeroes")));
	assert_true(json_is_true(json_object_get(types, "compare")));
	assert_true(json_is_false(json_object_get(types, "nvme_io")));
	json_decref(resp);

	resp = call("bdev_get_bdevs", "{\"name\":\"Null0\"}");
	list = result(resp);
	assert_int_equal(json_array_size(list), 1);
	b = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(b, "name")), "Null0");
	assert_int_equal(json_integer_value(json_object_get(b, "block_size")), 4096);
	json_decref(resp);
	expect_error("bdev_get_bdevs", "{\"name\":\"Nope\"}", -ENODEV, "Nope");

	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	expect_true("bdev_null_delete", "{\"name\":\"Null0\"}");
}

static void
test_config_only_methods(void **state)
{
	json_t *resp;

	(void)state;
	/* bdev_set_options is a start-up method, as in SPDK. */
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	expect_true("bdev_set_options", "{\"bdev_io_pool_size\":65535,\"bdev_io_cache_size\":256,"
					"\"bdev_auto_examine\":true,\"iobuf_small_cache_size\":128,"
					"\"iobuf_large_cache_size\":16}");
	expect_error("bdev_set_options", "{\"bdev_io_colour\":1}", NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "bdev_io_colour");
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	expect_true("bdev_wait_for_examine", NULL);
	resp = call("bdev_nvme_set_options", "{}");
	assert_int_equal(ut_error_code(resp), NVT_JSONRPC_ERROR_METHOD_NOT_FOUND);
	json_decref(resp);
}

struct ut_load {
	bool done;
	int rc;
};

static void
ut_load_done(int rc, void *ctx)
{
	struct ut_load *ld = ctx;

	ld->done = true;
	ld->rc = rc;
}

static const json_t *
saved_bdev_config(const json_t *saved)
{
	const json_t *sub;
	size_t i;

	json_array_foreach(json_object_get(saved, "subsystems"), i, sub)
	{
		if (strcmp(json_string_value(json_object_get(sub, "subsystem")), "bdev") == 0) {
			return json_object_get(sub, "config");
		}
	}
	return NULL;
}

/* An SPDK-style configuration loads; saving writes the create calls back. */
static void
test_config_round_trip(void **state)
{
	static const char config[] =
		"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
		"{\"method\":\"bdev_set_options\",\"params\":{\"bdev_io_pool_size\":65535,"
		"\"bdev_io_cache_size\":256,\"bdev_auto_examine\":true}},"
		"{\"method\":\"bdev_malloc_create\",\"params\":{\"name\":\"Malloc0\","
		"\"num_blocks\":64,\"block_size\":512,"
		"\"uuid\":\"6f2b0c1e-4d1a-4a36-9a5c-2b7f3c1d0e11\",\"physical_block_size\":512,"
		"\"optimal_io_boundary\":0,\"md_size\":0,\"dif_type\":0,"
		"\"dif_is_head_of_md\":false}},"
		"{\"method\":\"bdev_null_create\",\"params\":{\"name\":\"Null0\","
		"\"num_blocks\":2048,\"block_size\":4096}},"
		"{\"method\":\"bdev_wait_for_examine\"}]}]}";
	struct ut_load ld = { 0 };
	const json_t *bdevs, *entry;
	json_t *doc, *saved;
	int i;

	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	doc = json_loads(config, 0, NULL);
	assert_non_null(doc);
	nvt_config_load_json(doc, ut_load_done, &ld);
	for (i = 0; i < 100 && !ld.done; i++) {
		ut_poll(1);
	}
	json_decref(doc);
	assert_true(ld.done);
	assert_int_equal(ld.rc, 0);
	assert_non_null(nvt_bdev_get_by_name("6f2b0c1e-4d1a-4a36-9a5c-2b7f3c1d0e11"));

	saved = nvt_config_save();
	bdevs = saved_bdev_config(saved);
	assert_int_equal(json_array_size(bdevs), 2);
	entry = json_array_get(bdevs, 0);
	assert_string_equal(json_string_value(json_object_get(entry, "method")),
			    "bdev_malloc_create");
	entry = json_object_get(entry, "params");
	assert_string_equal(json_string_value(json_object_get(entry, "name")), "Malloc0");
	assert_int_equal(json_integer_value(json_object_get(entry, "num_blocks")), 64);
	assert_int_equal(json_integer_value(json_object_get(entry, "block_size")), 512);
	assert_string_equal(json_string_value(json_object_get(entry, "uuid")),
			    "6f2b0c1e-4d1a-4a36-9a5c-2b7f3c1d0e11");
	entry = json_array_get(bdevs, 1);
	assert_string_equal(json_string_value(json_object_get(entry, "method")),
			    "bdev_null_create");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(entry, "params"), "num_blocks")),
		2048);
	json_decref(saved);

	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	expect_true("bdev_null_delete", "{\"name\":\"Null0\"}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malloc_create_delete, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_null_create_delete, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_get_bdevs, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_config_only_methods, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_config_round_trip, ut_thread_setup,
						ut_thread_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
