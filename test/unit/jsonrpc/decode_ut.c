/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/jsonrpc/decode.c: every field type, optional and
 * required fields, unknown keys, wrong types and ranges, and that every
 * message names the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"

struct all_types {
	char *name;
	bool flag;
	int32_t i32;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const json_t *any;
	char *comment;
};

static const struct nvt_json_field g_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct all_types, name), false },
	{ "flag", NVT_JSON_BOOL, offsetof(struct all_types, flag), true },
	{ "i32", NVT_JSON_INT32, offsetof(struct all_types, i32), true },
	{ "u16", NVT_JSON_UINT16, offsetof(struct all_types, u16), true },
	{ "u32", NVT_JSON_UINT32, offsetof(struct all_types, u32), true },
	{ "u64", NVT_JSON_UINT64, offsetof(struct all_types, u64), true },
	{ "any", NVT_JSON_ANY, offsetof(struct all_types, any), true },
	{ "comment", NVT_JSON_STRING, offsetof(struct all_types, comment), true },
};
#define NFIELDS (sizeof(g_fields) / sizeof(g_fields[0]))

static char g_err[512];

/* Decode \p text; returns the rc and leaves the message in g_err. */
static int
decode(const char *text, struct all_types *out)
{
	json_t *obj =
		text != NULL ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	int rc;

	assert_true(text == NULL || obj != NULL);
	g_err[0] = '\0';
	rc = nvt_json_decode_object(obj, g_fields, NFIELDS, out, g_err, sizeof(g_err));
	json_decref(obj);
	return rc;
}

static void
test_all_types(void **state)
{
	struct all_types out = { 0 };
	json_t *obj;
	int rc;

	(void)state;
	obj = json_loads("{\"name\": \"Malloc0\", \"flag\": true, \"i32\": -2147483648, "
			 "\"u16\": 65535, \"u32\": 4294967295, \"u64\": 9223372036854775807, "
			 "\"any\": [1, 2], \"comment\": \"c\"}",
			 0, NULL);
	assert_non_null(obj);
	rc = nvt_json_decode_object(obj, g_fields, NFIELDS, &out, g_err, sizeof(g_err));
	assert_int_equal(rc, 0);
	assert_string_equal(out.name, "Malloc0");
	assert_true(out.flag);
	assert_int_equal(out.i32, INT32_MIN);
	assert_int_equal(out.u16, UINT16_MAX);
	assert_int_equal(out.u32, UINT32_MAX);
	assert_true(out.u64 == (uint64_t)INT64_MAX);
	assert_true(json_is_array(out.any));
	assert_int_equal(json_array_size(out.any), 2);
	assert_ptr_equal(out.any, json_object_get(obj, "any"));
	assert_string_equal(out.comment, "c");
	nvt_json_free_strings(g_fields, NFIELDS, &out);
	assert_null(out.name);
	assert_null(out.comment);
	json_decref(obj);
}

static void
test_optional_keeps_defaults(void **state)
{
	struct all_types out = { .flag = true, .i32 = 7, .u16 = 512, .u32 = 9, .u64 = 11 };

	(void)state;
	/* Absent and null optional fields leave the defaults alone. */
	assert_int_equal(decode("{\"name\": \"x\", \"u16\": null}", &out), 0);
	assert_string_equal(out.name, "x");
	assert_true(out.flag);
	assert_int_equal(out.i32, 7);
	assert_int_equal(out.u16, 512);
	assert_int_equal(out.u32, 9);
	assert_true(out.u64 == 11);
	assert_null(out.any);
	assert_null(out.comment);
	nvt_json_free_strings(g_fields, NFIELDS, &out);
}

static void
test_any_null_is_given(void **state)
{
	struct all_types out = { 0 };

	(void)state;
	assert_int_equal(decode("{\"name\": \"x\", \"any\": null}", &out), 0);
	assert_non_null(out.any);
	nvt_json_free_strings(g_fields, NFIELDS, &out);
}

static void
test_missing_required(void **state)
{
	struct all_types out = { 0 };

	(void)state;
	assert_int_equal(decode("{\"flag\": false}", &out), -EINVAL);
	assert_string_equal(g_err, "field 'name': missing (required)");
	/* NULL params count as an empty object. */
	assert_int_equal(decode(NULL, &out), -EINVAL);
	assert_string_equal(g_err, "field 'name': missing (required)");
	/* A null required field is missing too. */
	assert_int_equal(decode("{\"name\": null}", &out), -EINVAL);
	assert_string_equal(g_err, "field 'name': missing (required)");
}

static void
test_null_obj_all_optional(void **state)
{
	static const struct nvt_json_field opt[] = {
		{ "flag", NVT_JSON_BOOL, offsetof(struct all_types, flag), true },
	};
	struct all_types out = { 0 };

	(void)state;
	assert_int_equal(nvt_json_decode_object(NULL, opt, 1, &out, g_err, sizeof(g_err)), 0);
	assert_false(out.flag);
}

static void
test_unknown_key(void **state)
{
	struct all_types out = { 0 };

	(void)state;
	assert_int_equal(decode("{\"name\": \"x\", \"nmae\": \"y\"}", &out), -EINVAL);
	assert_non_null(strstr(g_err, "field 'nmae': unknown"));
	/* The known names are listed as a hint. */
	assert_non_null(strstr(g_err, "name, flag, i32"));
	assert_null(out.name);
}

static void
test_unknown_key_no_fields(void **state)
{
	json_t *obj = json_pack("{s:i}", "x", 1);

	(void)state;
	assert_int_equal(nvt_json_decode_object(obj, NULL, 0, NULL, g_err, sizeof(g_err)), -EINVAL);
	assert_string_equal(g_err, "field 'x': unknown (known: none)");
	assert_int_equal(nvt_json_decode_object(NULL, NULL, 0, NULL, g_err, sizeof(g_err)), 0);
	json_decref(obj);
}

static void
test_not_an_object(void **state)
{
	struct all_types out = { 0 };

	(void)state;
	assert_int_equal(decode("[1]", &out), -EINVAL);
	assert_string_equal(g_err, "params: expected an object, got an array");
	assert_int_equal(decode("\"s\"", &out), -EINVAL);
	assert_string_equal(g_err, "params: expected an object, got a string");
}

struct type_case {
	const char *json;
	const char *msg;
};

static void
test_wrong_types(void **state)
{
	static const struct type_case cases[] = {
		{ "{\"name\": 5}", "field 'name': expected a string, got an integer" },
		{ "{\"name\": \"x\", \"flag\": 1}",
		  "field 'flag': expected a boolean, got an integer" },
		{ "{\"name\": \"x\", \"flag\": \"true\"}",
		  "field 'flag': expected a boolean, got a string" },
		{ "{\"name\": \"x\", \"i32\": 1.5}",
		  "field 'i32': expected an integer, got a real number" },
		{ "{\"name\": \"x\", \"u16\": \"1\"}",
		  "field 'u16': expected an unsigned integer, got a string" },
		{ "{\"name\": \"x\", \"u32\": true}",
		  "field 'u32': expected an unsigned integer, got a boolean" },
		{ "{\"name\": \"x\", \"u64\": {}}",
		  "field 'u64': expected an unsigned integer, got an object" },
		{ "{\"name\": \"x\", \"comment\": []}",
		  "field 'comment': expected a string, got an array" },
		{ "{\"name\": \"a\\u0000b\"}",
		  "field 'name': the string contains a NUL character" },
	};
	struct all_types out = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode(cases[i].json, &out), -EINVAL);
		assert_string_equal(g_err, cases[i].msg);
		assert_null(out.name);
	}
}

static void
test_ranges(void **state)
{
	static const struct type_case cases[] = {
		{ "{\"name\": \"x\", \"i32\": 2147483648}",
		  "field 'i32': 2147483648 is out of range (-2147483648 to 2147483647)" },
		{ "{\"name\": \"x\", \"i32\": -2147483649}",
		  "field 'i32': -2147483649 is out of range (-2147483648 to 2147483647)" },
		{ "{\"name\": \"x\", \"u16\": 65536}",
		  "field 'u16': 65536 is out of range (0 to 65535)" },
		{ "{\"name\": \"x\", \"u16\": -1}",
		  "field 'u16': -1 is out of range (0 to 65535)" },
		{ "{\"name\": \"x\", \"u32\": 4294967296}",
		  "field 'u32': 4294967296 is out of range (0 to 4294967295)" },
		{ "{\"name\": \"x\", \"u64\": -5}",
		  "field 'u64': -5 is out of range (0 to 9223372036854775807)" },
	};
	struct all_types out = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode(cases[i].json, &out), -EINVAL);
		assert_string_equal(g_err, cases[i].msg);
	}
	/* The bounds themselves are fine. */
	assert_int_equal(decode("{\"name\": \"x\", \"u16\": 0, \"i32\": 2147483647}", &out), 0);
	assert_int_equal(out.u16, 0);
	assert_int_equal(out.i32, INT32_MAX);
	nvt_json_free_strings(g_fields, NFIELDS, &out);
}

static void
test_failure_writes_nothing(void **state)
{
	struct all_types out = { .u16 = 3 };

	(void)state;
	/* The bad field comes after good ones: nothing is written, no string is left. */
	assert_int_equal(
		decode("{\"name\": \"x\", \"comment\": \"y\", \"u16\": 1, \"u64\": -1}", &out),
		-EINVAL);
	assert_null(out.name);
	assert_null(out.comment);
	assert_int_equal(out.u16, 3);
}

static void
test_short_error_buffer(void **state)
{
	json_t *obj = json_pack("{s:s, s:i}", "name", "x", "zzz_unknown_key", 1);
	struct all_types out = { 0 };
	char small[16];

	(void)state;
	assert_int_equal(nvt_json_decode_object(obj, g_fields, NFIELDS, &out, small, sizeof(small)),
			 -EINVAL);
	assert_true(strlen(small) < sizeof(small));
	assert_memory_equal(small, "field 'zzz_unkn", 15);
	json_decref(obj);
}

/* SPDK's fields: accepted at the default only, refused absent only, or any value. */
static const struct nvt_json_field g_spdk_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct all_types, name), true },
	NVT_JSON_SPDK_DEFAULT("zcopy", "false", "data goes through the pool"),
	NVT_JSON_SPDK_DEFAULT("kind", "\"plain\"", NULL),
	NVT_JSON_SPDK_UNSUPPORTED("psk", "no TLS"),
	NVT_JSON_SPDK_IGNORED("no_srq", "RDMA's"),
};

static int
decode_spdk(const char *text)
{
	json_t *obj = json_loads(text, 0, NULL);
	struct all_types out = { 0 };
	int rc;

	assert_non_null(obj);
	g_err[0] = '\0';
	rc = nvt_json_decode_object(obj, g_spdk_fields, NVT_COUNTOF(g_spdk_fields), &out, g_err,
				    sizeof(g_err));
	json_decref(obj);
	nvt_json_free_strings(g_spdk_fields, NVT_COUNTOF(g_spdk_fields), &out);
	return rc;
}

static void
test_spdk_fields(void **state)
{
	(void)state;
	assert_int_equal(decode_spdk("{\"zcopy\": false, \"kind\": \"plain\", \"no_srq\": 7}"), 0);
	assert_int_equal(decode_spdk("{\"psk\": null, \"name\": \"x\"}"), 0);
	assert_int_equal(decode_spdk("{\"zcopy\": true}"), -EINVAL);
	assert_string_equal(g_err, "field 'zcopy': true is not supported (data goes through the "
				   "pool); accepted: false (SPDK's default)");
	/* Another type is another value, not a conversion. */
	assert_int_equal(decode_spdk("{\"zcopy\": 0}"), -EINVAL);
	assert_int_equal(decode_spdk("{\"kind\": \"fancy\"}"), -EINVAL);
	assert_string_equal(g_err, "field 'kind': \"fancy\" is not supported; accepted: "
				   "\"plain\" (SPDK's default)");
	assert_int_equal(decode_spdk("{\"psk\": \"key0\"}"), -EINVAL);
	assert_string_equal(g_err, "field 'psk': \"key0\" is not supported (no TLS); accepted: "
				   "none (leave the field out)");
	/* Unknown fields stay errors. */
	assert_int_equal(decode_spdk("{\"zcopy\": false, \"zcpy\": false}"), -EINVAL);
	assert_non_null(strstr(g_err, "field 'zcpy': unknown"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_types),
		cmocka_unit_test(test_optional_keeps_defaults),
		cmocka_unit_test(test_any_null_is_given),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_null_obj_all_optional),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_key_no_fields),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_failure_writes_nothing),
		cmocka_unit_test(test_short_error_buffer),
		cmocka_unit_test(test_spdk_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
