/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of SPDK's iobuf_set_options (lib/iobuf/iobuf_rpc.c), called
 * through nvt_rpc_call() as JSON text: what SPDK's tools send loads, values
 * SPDK refuses or nvtcp cannot honour are refused naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../jsonrpc/ut_jsonrpc.h"

/* Call iobuf_set_options with \p params; returns the error code (0: true). */
static int
set_options(const char *params, const char *error)
{
	char req[512];
	json_t *resp;
	int code;

	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"iobuf_set_options\",\"params\":%s}",
		 params);
	resp = ut_rpc(req);
	code = ut_error_code(resp);
	if (code == 0) {
		assert_true(json_is_true(json_object_get(resp, "result")));
	} else if (error != NULL && strstr(ut_error_message(resp), error) == NULL) {
		fprintf(stderr, "message '%s' lacks '%s'\n", ut_error_message(resp), error);
		fail();
	}
	json_decref(resp);
	return code;
}

static void
test_spdk_requests(void **state)
{
	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	/* rpc.py iobuf_set_options --small-pool-count 8192 --large-pool-count 1024 */
	assert_int_equal(set_options("{\"small_pool_count\":8192,\"large_pool_count\":1024,"
				     "\"enable_numa\":false}",
				     NULL),
			 0);
	/* What SPDK's save_config writes: its defaults, accepted without a notice. */
	assert_int_equal(set_options("{\"small_pool_count\":8192,\"large_pool_count\":1024,"
				     "\"small_bufsize\":8192,\"large_bufsize\":135168,"
				     "\"enable_numa\":false}",
				     NULL),
			 0);
	assert_false(ut_log_has("iobuf_set_options"));
	/* Other sizes: accepted, with a notice naming them. */
	assert_int_equal(set_options("{\"small_pool_count\":16384,\"large_bufsize\":8192}", NULL),
			 0);
	assert_true(ut_log_has("'small_pool_count', 'large_bufsize' accepted"));
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
}

static void
test_refusals(void **state)
{
	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	assert_int_equal(set_options("{\"small_pool_count\":10}",
				     "iobuf_set_options: field 'small_pool_count': 10 is below "
				     "SPDK's minimum 64"),
			 NVT_JSONRPC_ERROR_INVALID_PARAMS);
	assert_int_equal(set_options("{\"large_bufsize\":4096}", "field 'large_bufsize': 4096"),
			 NVT_JSONRPC_ERROR_INVALID_PARAMS);
	assert_int_equal(set_options("{\"enable_numa\":true}",
				     "iobuf_set_options: field 'enable_numa': true is not "
				     "supported"),
			 NVT_JSONRPC_ERROR_INVALID_PARAMS);
	assert_int_equal(
		set_options("{\"small_pool_size\":8192}", "field 'small_pool_size': unknown"),
		NVT_JSONRPC_ERROR_INVALID_PARAMS);
	assert_int_equal(set_options("{\"small_bufsize\":\"8k\"}", "field 'small_bufsize'"),
			 NVT_JSONRPC_ERROR_INVALID_PARAMS);
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	/* A start-up method, as in SPDK. */
	assert_int_equal(set_options("{}", "only allowed at startup"),
			 NVT_JSONRPC_ERROR_INVALID_STATE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spdk_requests, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, ut_thread_setup, ut_thread_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
