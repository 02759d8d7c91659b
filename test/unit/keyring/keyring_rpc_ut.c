/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/keyring/keyring_rpc.c, called through nvt_rpc_call() as
 * JSON text: SPDK's requests and answers, the errors (code and message),
 * the keys removed while still held, and the "keyring" configuration.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../jsonrpc/ut_jsonrpc.h"
#include "nvtcp/keyring.h"

/* nvme-cli 2.13 made it (nvme gen-dhchap-key --hmac=1). */
#define KEY_B64 "TyLO4Cp6gkl98UEPo0DUWSsPJlekb2VOtAZHIehFQz9qTjrv"

static char g_dir[256];
static char g_good[300];
static char g_open[300];

static void
write_key(char *path, size_t len, const char *name, mode_t mode)
{
	FILE *f;

	snprintf(path, len, "%s/%s", g_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("DHHC-1:01:" KEY_B64 ":\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(g_dir, sizeof(g_dir), "%s/keyring_rpc_ut.XXXXXX", tmp != NULL ? tmp : P_tmpdir);
	if (mkdtemp(g_dir) == NULL) {
		return -1;
	}
	write_key(g_good, sizeof(g_good), "good.key", 0600);
	write_key(g_open, sizeof(g_open), "open.key", 0644);
	return ut_thread_setup(state);
}

static int
teardown(void **state)
{
	int rc = ut_thread_teardown(state);

	nvt_keyring_clear();
	unlink(g_good);
	unlink(g_open);
	if (rmdir(g_dir) != 0) {
		rc = -1;
	}
	return rc;
}

/* Run \p method with \p params (JSON text); the parsed response. */
static json_t *
call(const char *method, const char *params)
{
	char req[1024];

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
		 method, params);
	return ut_rpc(req);
}

static json_t *
add_key(const char *name, const char *path)
{
	char params[512];

	snprintf(params, sizeof(params), "{\"name\":\"%s\",\"path\":\"%s\"}", name, path);
	return call("keyring_file_add_key", params);
}

static void
expect_true(json_t *resp)
{
	assert_true(json_is_true(json_object_get(resp, "result")));
	json_decref(resp);
}

static void
expect_error(json_t *resp, int code, const char *words)
{
	assert_int_equal(ut_error_code(resp), code);
	if (strstr(ut_error_message(resp), words) == NULL) {
		fail_msg("message '%s' lacks '%s'", ut_error_message(resp), words);
	}
	json_decref(resp);
}

static void
test_spdk_requests(void **state)
{
	json_t *resp, *key;
	char *text;

	(void)state;
	/* rpc.py keyring_file_add_key key0 PATH; keyring_get_keys; keyring_file_remove_key. */
	expect_true(add_key("key0", g_good));
	resp = call("keyring_get_keys", "{}");
	key = json_array_get(json_object_get(resp, "result"), 0);
	assert_int_equal(json_array_size(json_object_get(resp, "result")), 1);
	assert_string_equal(json_string_value(json_object_get(key, "name")), "key0");
	assert_string_equal(json_string_value(json_object_get(key, "module")), "keyring_file");
	assert_true(json_is_false(json_object_get(key, "removed")));
	assert_true(json_is_false(json_object_get(key, "probed")));
	assert_int_equal(json_integer_value(json_object_get(key, "refcnt")), 1);
	assert_string_equal(json_string_value(json_object_get(key, "path")), g_good);
	assert_int_equal(json_object_size(key), 6);
	text = json_dumps(resp, 0);
	assert_null(strstr(text, KEY_B64));
	free(text);
	json_decref(resp);
	expect_true(call("keyring_file_remove_key", "{\"name\":\"key0\"}"));
	resp = call("keyring_get_keys", "{}");
	assert_int_equal(json_array_size(json_object_get(resp, "result")), 0);
	json_decref(resp);
	assert_false(ut_log_has(KEY_B64));
}

static void
test_errors(void **state)
{
	(void)state;
	expect_true(add_key("key0", g_good));
	/* SPDK's codes: the negative errno. */
	expect_error(add_key("key0", g_good), -EEXIST,
		     "keyring_file_add_key: key 'key0' already exists");
	expect_error(add_key("key1", g_open), -EPERM, "keyring_file_add_key: key 'key1': '");
	expect_error(add_key("key1", g_open), -EPERM,
		     "open.key' is accessible by group or others (mode 0644)");
	expect_error(add_key("key1", "key.txt"), -EINVAL, "the path 'key.txt' is not absolute");
	expect_error(add_key("key1", g_dir), -EINVAL, "is not a regular file");
	expect_error(call("keyring_file_remove_key", "{\"name\":\"key1\"}"), -ENOKEY,
		     "keyring_file_remove_key: no key 'key1'");
	/* Bad parameters name the field. */
	expect_error(call("keyring_file_add_key", "{\"name\":\"key1\"}"),
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "keyring_file_add_key: field 'path'");
	expect_error(call("keyring_file_add_key", "{\"name\":\"k\",\"path\":\"/x\",\"psk\":1}"),
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'psk'");
	expect_error(call("keyring_file_remove_key", "{}"), NVT_JSONRPC_ERROR_INVALID_PARAMS,
		     "keyring_file_remove_key: field 'name'");
	expect_error(call("keyring_get_keys", "{\"name\":\"key0\"}"),
		     NVT_JSONRPC_ERROR_INVALID_PARAMS, "field 'name'");
	/* As in SPDK, at runtime only. */
	nvt_rpc_set_state(NVT_RPC_STARTUP);
	expect_error(add_key("key1", g_good), NVT_JSONRPC_ERROR_INVALID_STATE, "");
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	assert_false(ut_log_has(KEY_B64));
	/* The refusals were logged as errors: expected here. */
	ut_log_clear();
}

static void
test_removed_while_held(void **state)
{
	struct nvt_key *held;
	json_t *resp, *keys, *key;

	(void)state;
	expect_true(add_key("key0", g_good));
	held = nvt_keyring_get_key("key0");
	assert_non_null(held);
	expect_true(call("keyring_file_remove_key", "{\"name\":\"key0\"}"));
	expect_true(add_key("key0", g_good));

	/* As SPDK: the keyring's key, then the removed one, without its path. */
	resp = call("keyring_get_keys", "{}");
	keys = json_object_get(resp, "result");
	assert_int_equal(json_array_size(keys), 2);
	key = json_array_get(keys, 1);
	assert_true(json_is_true(json_object_get(key, "removed")));
	assert_int_equal(json_integer_value(json_object_get(key, "refcnt")), 1);
	assert_null(json_object_get(key, "path"));
	assert_string_equal(json_string_value(json_object_get(key, "name")), "key0");
	json_decref(resp);
	nvt_keyring_put_key(held);
	resp = call("keyring_get_keys", "{}");
	assert_int_equal(json_array_size(json_object_get(resp, "result")), 1);
	json_decref(resp);
}

static void
test_config(void **state)
{
	json_t *resp, *config, *entry, *subsystems;
	char *text;
	size_t i;

	(void)state;
	expect_true(add_key("key0", g_good));
	expect_true(add_key("key1", g_good));
	resp = call("framework_get_config", "{\"name\":\"keyring\"}");
	config = json_object_get(resp, "result");
	assert_int_equal(json_array_size(config), 2);
	entry = json_array_get(config, 1);
	assert_string_equal(json_string_value(json_object_get(entry, "method")),
			    "keyring_file_add_key");
	entry = json_object_get(entry, "params");
	assert_int_equal(json_object_size(entry), 2);
	assert_string_equal(json_string_value(json_object_get(entry, "name")), "key1");
	assert_string_equal(json_string_value(json_object_get(entry, "path")), g_good);
	text = json_dumps(resp, 0);
	assert_null(strstr(text, KEY_B64));
	free(text);
	json_decref(resp);

	/* A configuration subsystem (its place among the others: the functional test). */
	resp = call("framework_get_subsystems", "{}");
	subsystems = json_object_get(resp, "result");
	for (i = 0; i < json_array_size(subsystems); i++) {
		if (strcmp(json_string_value(
				   json_object_get(json_array_get(subsystems, i), "subsystem")),
			   "keyring") == 0) {
			break;
		}
	}
	assert_true(i < json_array_size(subsystems));
	json_decref(resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spdk_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_while_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
