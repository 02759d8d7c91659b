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
		     "supported (TLS is the ssl implementation's); "
		     "accepted: false");
	expect_error("sock_impl_set_options", "{\"impl_name\":\"posix\",\"recv_buf_size\":8}",
		     "field 'recv_buf_size': 8 is not supported");
	expect_error("sock_impl_set_options", "{\"impl_name\":\"posix\",\"psk_key\":\"k\"}",
		     "sock_impl_set_options: field 'psk_key': not supported: TLS PSKs come from "
		     "the keyring");
	expect_error("sock_set_default_impl", "{\"impl_name\":\"ssl\"}",
		     "sock_set_default_impl: field 'impl_name': 'ssl' cannot be the default");
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
}

static void
expect_ssl_options(int tls_version, bool enable_ktls)
{
	json_t *resp = call("sock_impl_get_options", "{\"impl_name\":\"ssl\"}");
	json_t *result = json_object_get(resp, "result");

	assert_int_equal(json_integer_value(json_object_get(result, "tls_version")), tls_version);
	assert_int_equal(json_is_true(json_object_get(result, "enable_ktls")), enable_ktls);
	assert_false(json_is_true(json_object_get(result, "enable_zerocopy_send_server")));
	json_decref(resp);
}

/*
 * ssl: what SPDK's save_config writes for it loads; tls_version and
 * enable_ktls are applied (and saved), TLS 1.2 and PSKs in the options are
 * refused with a clear word.
 */
static void
test_ssl_options(void **state)
{
	json_t *config;
	char *text;

	(void)state;
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	expect_ssl_options(0, true);
	expect_true("sock_impl_set_options",
		    "{\"impl_name\":\"ssl\",\"recv_buf_size\":4096,\"send_buf_size\":4096,"
		    "\"enable_recv_pipe\":true,\"enable_quickack\":false,"
		    "\"enable_placement_id\":0,\"enable_zerocopy_send_server\":true,"
		    "\"enable_zerocopy_send_client\":false,\"zerocopy_threshold\":0,"
		    "\"tls_version\":0,\"enable_ktls\":false}");
	expect_ssl_options(0, false);
	config = nvt_config_save();
	text = json_dumps(config, JSON_COMPACT);
	assert_non_null(strstr(text, "{\"method\":\"sock_impl_set_options\",\"params\":"
				     "{\"impl_name\":\"ssl\",\"tls_version\":0,"
				     "\"enable_ktls\":false}}"));
	free(text);
	json_decref(config);
	expect_true("sock_impl_set_options",
		    "{\"impl_name\":\"ssl\",\"tls_version\":13,\"enable_ktls\":true}");
	expect_ssl_options(13, true);
	expect_error("sock_impl_set_options", "{\"impl_name\":\"ssl\",\"tls_version\":12}",
		     "field 'tls_version': 12 is not supported (NVMe/TCP secure channels use "
		     "TLS 1.3); accepted: 0 or 13");
	expect_ssl_options(13, true);
	expect_error("sock_impl_set_options",
		     "{\"impl_name\":\"ssl\",\"psk_identity\":\"id\",\"psk_key\":\"1234\"}",
		     "field 'psk_key': not supported: TLS PSKs come from the keyring");
	expect_error("sock_impl_set_options", "{\"impl_name\":\"ssl\",\"enable_placement_id\":1}",
		     "field 'enable_placement_id': 1 is not supported");
	expect_true("sock_impl_set_options", "{\"impl_name\":\"ssl\",\"tls_version\":0}");
	expect_ssl_options(0, true);
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
		cmocka_unit_test_setup_teardown(test_ssl_options, ut_thread_setup,
						ut_thread_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
