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
#include "bdev_malloc.h"
#include "bdev_null.h"
#include "nvtcp/internal/bdev_module.h"
#include "../jsonrpc/ut_jsonrpc.h"

/* Call \p method with \p params (JSON text, or NULL) and return the response. */
static json_t *
call(const char *method, const char *params)
{
	char req[2048];

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

/* Whether a notice of \p method said it accepted \p field without applying it. */
static bool
notice_logged(const char *method, const char *field)
{
	char quoted[64], line[512];
	const char *pos = g_ut_log.text;
	size_t len;

	snprintf(quoted, sizeof(quoted), "'%s'", field);
	while (*pos != '\0') {
		len = strcspn(pos, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)len, pos);
		if (strstr(line, method) != NULL && strstr(line, quoted) != NULL &&
		    strstr(line, "accepted") != NULL) {
			return true;
		}
		pos += len + (pos[len] != '\0');
	}
	return false;
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
					  "\"physical_block_size\":512,"
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
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'md_size': 16 is not supported");
	/* A delete of the wrong module is refused and deletes nothing. */
	expect_error("bdev_malloc_delete", "{\"name\":\"Null0\"}", -ENODEV, "Null0");
	expect_true("bdev_null_delete", "{\"name\":\"Null0\"}");
	assert_null(nvt_bdev_first());
}

/* rpc.py's bdev_malloc_create: what it sends beyond the sizes, at SPDK's defaults. */
static void
test_malloc_spdk_params(void **state)
{
	json_t *resp;

	(void)state;
	resp = call("bdev_malloc_create",
		    "{\"num_blocks\":131072,\"block_size\":512,\"name\":\"Malloc0\","
		    "\"md_interleave\":false,\"dif_is_head_of_md\":false}");
	assert_string_equal(json_string_value(result(resp)), "Malloc0");
	json_decref(resp);
	/* Every field SPDK accepts, at its default (physical_block_size: the block size). */
	resp = call(
		"bdev_malloc_create",
		"{\"name\":\"Malloc1\",\"num_blocks\":64,\"block_size\":4096,"
		"\"physical_block_size\":4096,\"uuid\":\"7b0c2f6e-3a1d-4c5e-9f10-112233445566\","
		"\"optimal_io_boundary\":0,\"md_size\":0,\"md_interleave\":false,"
		"\"dif_type\":0,\"dif_is_head_of_md\":false,\"dif_pi_format\":0,"
		"\"numa_id\":-1}");
	assert_string_equal(json_string_value(result(resp)), "Malloc1");
	json_decref(resp);
	assert_false(ut_log_has("physical_block_size"));

	/* Features nvtcp lacks: refused, naming the method, the field and the value. */
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,"
		     "\"md_size\":8}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "bdev_malloc_create: field 'md_size': 8 is not supported");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,"
		     "\"md_interleave\":true}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'md_interleave': true");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,"
		     "\"dif_pi_format\":1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'dif_pi_format': 1");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,"
		     "\"numa_id\":0}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'numa_id': 0 is not supported");
	expect_error("bdev_malloc_create",
		     "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,"
		     "\"preferred_write_granularity\":0}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "field 'preferred_write_granularity': unknown");
	assert_null(nvt_bdev_get_by_name("M"));

	/* Hints nvtcp does not advertise: accepted, with a notice. */
	resp = call("bdev_malloc_create",
		    "{\"name\":\"M\",\"num_blocks\":8,\"block_size\":512,"
		    "\"physical_block_size\":4096,\"optimal_io_boundary\":8}");
	assert_string_equal(json_string_value(result(resp)), "M");
	json_decref(resp);
	assert_true(notice_logged("bdev_malloc_create", "physical_block_size"));
	assert_true(notice_logged("bdev_malloc_create", "optimal_io_boundary"));
	assert_false(ut_log_has("numa_id"));

	expect_true("bdev_malloc_delete", "{\"name\":\"M\"}");
	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc1\"}");
	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
}

/* bdev_null_create takes SPDK's null parameters, not malloc's. */
static void
test_null_spdk_params(void **state)
{
	json_t *resp;

	(void)state;
	/* What SPDK's save_config writes for a null bdev. */
	resp = call("bdev_null_create",
		    "{\"name\":\"Null0\",\"num_blocks\":204800,\"block_size\":512,"
		    "\"physical_block_size\":512,\"md_size\":0,\"dif_type\":0,"
		    "\"dif_is_head_of_md\":false,\"dif_pi_format\":0,"
		    "\"uuid\":\"d44978db-cb45-4f46-8cc2-77d6459f7fad\","
		    "\"preferred_write_granularity\":0,\"preferred_write_alignment\":0,"
		    "\"optimal_write_size\":0,\"preferred_unmap_granularity\":0,"
		    "\"preferred_unmap_alignment\":0}");
	assert_string_equal(json_string_value(result(resp)), "Null0");
	json_decref(resp);
	expect_error("bdev_null_create",
		     "{\"name\":\"N\",\"num_blocks\":8,\"block_size\":512,"
		     "\"md_interleave\":false}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'md_interleave': unknown");
	expect_error("bdev_null_create",
		     "{\"name\":\"N\",\"num_blocks\":8,\"block_size\":512,"
		     "\"dif_is_head_of_md\":true}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "bdev_null_create: field 'dif_is_head_of_md': true is not supported");
	resp = call("bdev_null_create", "{\"name\":\"N\",\"num_blocks\":8,\"block_size\":512,"
					"\"optimal_write_size\":64}");
	assert_string_equal(json_string_value(result(resp)), "N");
	json_decref(resp);
	assert_true(notice_logged("bdev_null_create", "optimal_write_size"));
	expect_true("bdev_null_delete", "{\"name\":\"N\"}");
	expect_true("bdev_null_delete", "{\"name\":\"Null0\"}");
}

/* Whether \p obj has exactly the keys of \p keys (NULL-terminated), in that order. */
static void
expect_keys(const json_t *obj, const char *const *keys)
{
	const char *key;
	json_t *val;
	size_t i = 0;

	json_object_foreach((json_t *)obj, key, val)
	{
		(void)val;
		assert_non_null(keys[i]);
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_null(keys[i]);
}

/* The keys of SPDK v26.05's bdev_get_bdevs answer for a malloc bdev, plus write_cache. */
static const char *const g_spdk_bdev_keys[] = {
	"name",
	"aliases",
	"product_name",
	"block_size",
	"num_blocks",
	"preferred_write_alignment",
	"preferred_write_granularity",
	"optimal_write_size",
	"preferred_unmap_alignment",
	"preferred_unmap_granularity",
	"uuid",
	"numa_id",
	"assigned_rate_limits",
	"claimed",
	"zoned",
	"write_cache",
	"supported_io_types",
	"driver_specific",
	NULL,
};

static const char *const g_spdk_io_types[] = {
	"read",
	"write",
	"unmap",
	"flush",
	"reset",
	"nvme_admin",
	"nvme_io",
	"nvme_io_md",
	"write_zeroes",
	"zcopy",
	"get_zone_info",
	"zone_management",
	"zone_append",
	"compare",
	"compare_and_write",
	"abort",
	"seek_hole",
	"seek_data",
	"copy",
	"nvme_iov_md",
	"nvme_nssr",
	"write_uncorrectable",
	NULL,
};

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
	/* SPDK's shape: the UUID as the alias, the hints at nvtcp's values. */
	expect_keys(b, g_spdk_bdev_keys);
	assert_int_equal(json_array_size(json_object_get(b, "aliases")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "aliases"), 0)),
			    json_string_value(json_object_get(b, "uuid")));
	assert_int_equal(json_integer_value(json_object_get(b, "optimal_write_size")), 0);
	assert_int_equal(json_integer_value(json_object_get(b, "numa_id")), -1);
	types = json_object_get(b, "supported_io_types");
	expect_keys(types, g_spdk_io_types);
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
	/* Every field SPDK takes; nothing examines bdevs here, whatever the switch says. */
	expect_true("bdev_set_options", "{\"bdev_io_pool_size\":1024,\"bdev_io_cache_size\":16,"
					"\"bdev_auto_examine\":false,\"iobuf_small_cache_size\":1,"
					"\"iobuf_large_cache_size\":1,\"small_buf_pool_size\":8192,"
					"\"large_buf_pool_size\":1024}");
	assert_true(notice_logged("bdev_set_options", "bdev_io_pool_size"));
	expect_error("bdev_set_options", "{\"bdev_auto_examine\":1}",
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "bdev_auto_examine");
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	expect_true("bdev_wait_for_examine", NULL);
	expect_true("bdev_wait_for_examine", "{}");
	expect_error("bdev_wait_for_examine", "{\"timeout\":1}", NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "bdev_wait_for_examine: field 'timeout': unknown");
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

/* Load \p doc (in the start-up state, as nvtcpd does) and wait for it. */
static void
load_config(const json_t *doc)
{
	struct ut_load ld = { 0 };
	int i;

	nvt_rpc_set_state(NVT_RPC_STARTUP);
	nvt_config_load_json(doc, ut_load_done, &ld);
	for (i = 0; i < 100 && !ld.done; i++) {
		ut_poll(1);
	}
	assert_true(ld.done);
	assert_int_equal(ld.rc, 0);
}

/* Whether \p a and \p b have the same keys in the same order. */
static void
expect_same_keys(const json_t *a, const json_t *b)
{
	void *ia = json_object_iter((json_t *)a);
	void *ib = json_object_iter((json_t *)b);

	for (; ia != NULL && ib != NULL; ia = json_object_iter_next((json_t *)a, ia),
					 ib = json_object_iter_next((json_t *)b, ib)) {
		assert_string_equal(json_object_iter_key(ia), json_object_iter_key(ib));
	}
	assert_null(ia);
	assert_null(ib);
}

/*
 * A configuration saved by SPDK loads; saving writes the create calls back
 * in SPDK's shape, and that loads and saves the same.
 */
static void
test_config_round_trip(void **state)
{
	static const char config[] =
		"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
		"{\"method\":\"bdev_set_options\",\"params\":{\"bdev_io_pool_size\":65535,"
		"\"bdev_io_cache_size\":256,\"bdev_auto_examine\":true,"
		"\"iobuf_small_cache_size\":128,\"iobuf_large_cache_size\":16}},"
		"{\"method\":\"bdev_malloc_create\",\"params\":{\"name\":\"Malloc0\","
		"\"num_blocks\":64,\"block_size\":512,\"physical_block_size\":512,"
		"\"uuid\":\"6f2b0c1e-4d1a-4a36-9a5c-2b7f3c1d0e11\",\"optimal_io_boundary\":0,"
		"\"md_size\":0,\"dif_type\":0,\"dif_is_head_of_md\":false,\"dif_pi_format\":0,"
		"\"numa_id\":-1}},"
		"{\"method\":\"bdev_null_create\",\"params\":{\"name\":\"Null0\","
		"\"num_blocks\":2048,\"block_size\":4096,\"physical_block_size\":4096,"
		"\"md_size\":0,\"dif_type\":0,\"dif_is_head_of_md\":false,\"dif_pi_format\":0,"
		"\"uuid\":\"d44978db-cb45-4f46-8cc2-77d6459f7fad\","
		"\"preferred_write_granularity\":0,\"preferred_write_alignment\":0,"
		"\"optimal_write_size\":0,\"preferred_unmap_granularity\":0,"
		"\"preferred_unmap_alignment\":0}},"
		"{\"method\":\"bdev_wait_for_examine\"}]}]}";
	const json_t *bdevs, *loaded;
	json_t *doc, *saved, *again, *malloc_saved;

	(void)state;
	doc = json_loads(config, 0, NULL);
	assert_non_null(doc);
	load_config(doc);
	assert_non_null(nvt_bdev_get_by_name("6f2b0c1e-4d1a-4a36-9a5c-2b7f3c1d0e11"));

	saved = nvt_config_save();
	bdevs = saved_bdev_config(saved);
	assert_int_equal(json_array_size(bdevs), 2);
	/*
	 * The create entries saved are those SPDK saved, in its order of fields;
	 * the RAM disk's also has md_interleave (a parameter of the method that
	 * SPDK leaves out of its saved entries).
	 */
	loaded = saved_bdev_config(doc);
	malloc_saved = json_deep_copy(json_array_get(bdevs, 0));
	assert_true(json_is_false(
		json_object_get(json_object_get(malloc_saved, "params"), "md_interleave")));
	json_object_del(json_object_get(malloc_saved, "params"), "md_interleave");
	assert_true(json_equal(malloc_saved, json_array_get(loaded, 1)));
	assert_true(json_equal(json_array_get(bdevs, 1), json_array_get(loaded, 2)));
	expect_same_keys(json_object_get(malloc_saved, "params"),
			 json_object_get(json_array_get(loaded, 1), "params"));
	expect_same_keys(json_object_get(json_array_get(bdevs, 1), "params"),
			 json_object_get(json_array_get(loaded, 2), "params"));
	json_decref(malloc_saved);
	json_decref(doc);

	/* The saved document loads back and saves the same. */
	expect_true("bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	expect_true("bdev_null_delete", "{\"name\":\"Null0\"}");
	load_config(saved);
	again = nvt_config_save();
	assert_true(json_equal(saved, again));
	json_decref(again);
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
		cmocka_unit_test_setup_teardown(test_malloc_spdk_params, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_null_spdk_params, ut_thread_setup,
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
