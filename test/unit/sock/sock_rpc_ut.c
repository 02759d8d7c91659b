/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of SPDK's sock_* methods (lib/sock/sock_rpc.c), called through
 * nvt_rpc_call() as JSON text with what SPDK's rpc.py and save_config send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../jsonrpc/ut_jsonrpc.h"
#include "nvtcp/sock.h"

/* Call \p method with \p params (JSON text) and return the response. */
static json_t *
call(const char *method, const char *params)
{
	char req[1024];

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
		 method, params);
	return ut_rpc(req);
}

static void
expect_error(const char *method, const char *params, const char *text)
{
	json_t *resp = call(method, params);

	assert_int_equal(ut_error_code(resp), NVT_JSONRPC_ERROR_INVALID_PARAMS);
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

	assert_true(json_is_true(json_object_get(resp, "result")));
	json_decref(resp);
}

/* SPDK's answer {"impl_name": ...}, to the empty params rpc.py sends, in both
 * states. */
static void
test_get_default_impl(void **state)
{
	json_t *resp;

	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	expect_true("sock_set_default_impl", "{\"impl_name\":\"uring\"}");
	resp = call("sock_get_default_impl", "{}");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(resp, "result"), "impl_name")),
		"uring");
	json_decref(resp);
	expect_true("sock_set_default_impl", "{\"impl_name\":\"posix\"}");
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	resp = call("sock_get_default_impl", "null");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(resp, "result"), "impl_name")),
		"posix");
	json_decref(resp);
	expect_error("sock_get_default_impl", "{\"impl_name\":\"posix\"}",
		     "sock_get_default_impl: field 'impl_name': unknown");
}

/* What SPDK's save_config writes loads; other values are refused in the shared
 * wording. */
static void
test_set_options(void **state)
{
	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	expect_true("sock_impl_set_options",
		    "{\"impl_name\":\"posix\",\"recv_buf_size\":2097152,\"send_buf_size\":"
		    "2097152,"
		    "\"enable_recv_pipe\":true,\"enable_quickack\":false,\"enable_placement_"
		    "id\":0,"
		    "\"enable_zerocopy_send_server\":true,\"enable_zerocopy_send_client\":"
		    "false,"
		    "\"zerocopy_threshold\":0,\"tls_version\":0,\"enable_ktls\":false}");
	expect_error("sock_impl_set_options", "{\"impl_name\":\"posix\",\"enable_ktls\":true}",
		     "sock_impl_set_options: field 'enable_ktls': true is not "
		     "supported (no TLS); "
		     "accepted: false");
	expect_error("sock_impl_set_options", "{\"impl_name\":\"posix\",\"recv_buf_size\":8}",
		     "field 'recv_buf_size': 8 is not supported");
	expect_error("sock_impl_set_options", "{\"impl_name\":\"posix\",\"psk_key\":\"k\"}",
		     "sock_impl_set_options: field 'psk_key': TLS is not supported");
	expect_error("sock_set_default_impl", "{\"impl_name\":\"ssl\"}",
		     "sock_set_default_impl: field 'impl_name'");
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_default_impl, ut_thread_setup,
						ut_thread_teardown),
		cmocka_unit_test_setup_teardown(test_set_options, ut_thread_setup,
						ut_thread_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
