/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "nvtcp/uuid.h"

/* The bytes of "0123abcd-ef01-4567-89ab-cdef01234567". */
static const uint8_t g_uuid[16] = { 0x01, 0x23, 0xab, 0xcd, 0xef, 0x01, 0x45, 0x67,
				    0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67 };

static void
test_hex_digit(void **state)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	const char *lo, *up;
	int c, want;

	(void)state;
	/* Every char value: its place in either table, or -1. */
	for (c = CHAR_MIN; c <= CHAR_MAX; c++) {
		lo = c == 0 ? NULL : strchr(lower, c);
		up = c == 0 ? NULL : strchr(upper, c);
		want = lo != NULL ? (int)(lo - lower) : up != NULL ? (int)(up - upper) : -1;
		assert_int_equal(nvt_hex_digit((char)c), want);
	}
	assert_int_equal(nvt_hex_digit('0'), 0);
	assert_int_equal(nvt_hex_digit('9'), 9);
	assert_int_equal(nvt_hex_digit('a'), 10);
	assert_int_equal(nvt_hex_digit('F'), 15);
	assert_int_equal(nvt_hex_digit('g'), -1);
	assert_int_equal(nvt_hex_digit('G'), -1);
	assert_int_equal(nvt_hex_digit('-'), -1);
	assert_int_equal(nvt_hex_digit('\0'), -1);
}

static void
test_hex_parse(void **state)
{
	static const struct {
		const char *str;
		size_t len;
		uint8_t bytes[8];
	} cases[] = {
		{ "", 0, { 0 } },
		{ "-", 0, { 0 } },
		{ "00", 1, { 0x00 } },
		{ "fF", 1, { 0xff } },
		{ "0123456789abcdef", 8, { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } },
		{ "0123456789ABCDEF", 8, { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } },
		{ "01-23-45-67-89-AB-CD-EF",
		  8,
		  { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } },
		/* Dashes anywhere, even inside a byte, at the ends or doubled. */
		{ "-0-1--2a-", 2, { 0x01, 0x2a } },
	};
	uint8_t out[8];
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(nvt_hex_parse(cases[i].str, out, cases[i].len), 0);
		assert_memory_equal(out, cases[i].bytes, cases[i].len);
		/* Not a byte beyond len. */
		if (cases[i].len < sizeof(out)) {
			assert_int_equal(out[cases[i].len], 0xa5);
		}
	}
}

static void
test_hex_parse_rejected(void **state)
{
	static const struct {
		const char *str;
		size_t len;
	} cases[] = {
		{ "0", 1 },	   /* odd digit count */
		{ "abc", 2 },	   /* odd, and too few bytes for 2 */
		{ "a-b-c", 1 },	   /* odd with dashes */
		{ "0g", 1 },	   /* bad character */
		{ "g0", 1 },	   /* bad character first */
		{ " 00", 1 },	   /* space */
		{ "00 ", 1 },	   /* trailing space */
		{ "0x00", 1 },	   /* no prefix */
		{ "00:11", 2 },	   /* only '-' is a separator */
		{ "", 1 },	   /* too few */
		{ "--", 1 },	   /* only dashes: too few */
		{ "0011", 3 },	   /* too few */
		{ "001122", 2 },   /* too many */
		{ "00-11-22", 2 }, /* too many, with dashes */
		{ "00", 0 },	   /* too many for none */
		{ "0123456789abcdef0", 8 },
	};
	uint8_t out[8], sentinel[8];
	size_t i;

	(void)state;
	memset(sentinel, 0xa5, sizeof(sentinel));
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(nvt_hex_parse(cases[i].str, out, cases[i].len), -EINVAL);
		/* Untouched on failure, even when the first bytes were good. */
		assert_memory_equal(out, sentinel, sizeof(out));
	}
	assert_int_equal(nvt_hex_parse(NULL, out, 1), -EINVAL);
	assert_memory_equal(out, sentinel, sizeof(out));
}

static void
test_hex_fmt(void **state)
{
	static const uint8_t eui64[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	char buf[2 * sizeof(g_uuid) + 2];
	uint8_t back[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	nvt_hex_fmt(buf, eui64, sizeof(eui64));
	assert_string_equal(buf, "0123456789ABCDEF");
	assert_int_equal(buf[2 * sizeof(eui64) + 1], 'x');

	memset(buf, 'x', sizeof(buf));
	nvt_hex_fmt(buf, g_uuid, sizeof(g_uuid));
	assert_string_equal(buf, "0123ABCDEF01456789ABCDEF01234567");
	assert_int_equal(buf[2 * sizeof(g_uuid) + 1], 'x');
	assert_int_equal(nvt_hex_parse(buf, back, sizeof(back)), 0);
	assert_memory_equal(back, g_uuid, sizeof(g_uuid));

	memset(buf, 'x', sizeof(buf));
	nvt_hex_fmt(buf, eui64, 0);
	assert_string_equal(buf, "");
	assert_int_equal(buf[1], 'x');
}

static void
test_uuid_parse(void **state)
{
	uint8_t uuid[16];

	(void)state;
	memset(uuid, 0, sizeof(uuid));
	assert_int_equal(nvt_uuid_parse("0123abcd-ef01-4567-89ab-cdef01234567", uuid), 0);
	assert_memory_equal(uuid, g_uuid, sizeof(uuid));
	memset(uuid, 0, sizeof(uuid));
	assert_int_equal(nvt_uuid_parse("0123ABCD-EF01-4567-89AB-CDEF01234567", uuid), 0);
	assert_memory_equal(uuid, g_uuid, sizeof(uuid));
	memset(uuid, 0, sizeof(uuid));
	assert_int_equal(nvt_uuid_parse("0123ABCD-ef01-4567-89aB-CdEf01234567", uuid), 0);
	assert_memory_equal(uuid, g_uuid, sizeof(uuid));
	assert_int_equal(nvt_uuid_parse("00000000-0000-0000-0000-000000000000", uuid), 0);
	assert_true(nvt_uuid_is_zero(uuid));
}

static void
test_uuid_parse_rejected(void **state)
{
	static const char *const cases[] = {
		"",
		"0123abcd-ef01-4567-89ab-cdef0123456",	   /* too short */
		"0123abcd-ef01-4567-89ab-cdef012345678",   /* too long */
		"0123abcd-ef01-4567-89ab-cdef01234567-",   /* trailing dash */
		"0123abcd_ef01-4567-89ab-cdef01234567",	   /* not a dash */
		"0123abcd-ef01-4567-89ab-cdef0123456g",	   /* not a hex digit */
		"0123abcd-ef01-4567-89ab-cdef0123456 ",	   /* trailing space */
		" 123abcd-ef01-4567-89ab-cdef01234567",	   /* leading space */
		"0123abcde-f01-4567-89ab-cdef01234567",	   /* a dash moved */
		"0123abc-def01-4567-89ab-cdef01234567",	   /* a dash moved */
		"0123abcd-ef01-4567-89ab-cdef-01234567",   /* one dash too many */
		"0123abcd-ef01-4567-89ab-cdef-1234567",	   /* a dash for a digit */
		"0123abcdef01456789abcdef01234567",	   /* no dashes */
		"0123abcdef01-4567-89ab-cdef01234567",	   /* a dash missing */
		"{0123abcd-ef01-4567-89ab-cdef01234567}",  /* braces */
		"0123abcd-ef01-4567-89ab-cdef0123456\x80", /* high byte */
	};
	uint8_t uuid[16], sentinel[16];
	size_t i;

	(void)state;
	memset(sentinel, 0xa5, sizeof(sentinel));
	memset(uuid, 0xa5, sizeof(uuid));
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		assert_int_equal(nvt_uuid_parse(cases[i], uuid), -EINVAL);
		assert_memory_equal(uuid, sentinel, sizeof(uuid));
	}
	assert_int_equal(nvt_uuid_parse(NULL, uuid), -EINVAL);
	assert_memory_equal(uuid, sentinel, sizeof(uuid));
}

static void
test_uuid_fmt(void **state)
{
	static const uint8_t ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char str[NVT_UUID_STRING_LEN + 1];
	uint8_t back[16];

	(void)state;
	memset(str, 'x', sizeof(str));
	nvt_uuid_fmt(str, g_uuid);
	assert_string_equal(str, "0123abcd-ef01-4567-89ab-cdef01234567");
	assert_int_equal(strlen(str), NVT_UUID_STRING_LEN - 1);
	assert_int_equal(str[NVT_UUID_STRING_LEN], 'x');
	assert_int_equal(nvt_uuid_parse(str, back), 0);
	assert_memory_equal(back, g_uuid, sizeof(back));

	nvt_uuid_fmt(str, ones);
	assert_string_equal(str, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	assert_int_equal(nvt_uuid_parse(str, back), 0);
	assert_memory_equal(back, ones, sizeof(back));

	/* Upper-case input comes back in lower case. */
	assert_int_equal(nvt_uuid_parse("12345678-9ABC-DEF0-0FED-CBA987654321", back), 0);
	nvt_uuid_fmt(str, back);
	assert_string_equal(str, "12345678-9abc-def0-0fed-cba987654321");
}

static void
test_uuid_is_zero(void **state)
{
	uint8_t uuid[16];
	size_t i;

	(void)state;
	memset(uuid, 0, sizeof(uuid));
	assert_true(nvt_uuid_is_zero(uuid));
	for (i = 0; i < sizeof(uuid); i++) {
		uuid[i] = 1;
		assert_false(nvt_uuid_is_zero(uuid));
		uuid[i] = 0;
	}
	assert_false(nvt_uuid_is_zero(g_uuid));
}

static void
test_uuid_generate(void **state)
{
	uint8_t uuid[8][16], back[16];
	char str[NVT_UUID_STRING_LEN];
	size_t i, j;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(uuid); i++) {
		assert_int_equal(nvt_uuid_generate(uuid[i]), 0);
		/* Version 4, RFC 4122 variant (10b). */
		assert_int_equal(uuid[i][6] >> 4, 4);
		assert_int_equal(uuid[i][8] >> 6, 2);
		assert_false(nvt_uuid_is_zero(uuid[i]));
		nvt_uuid_fmt(str, uuid[i]);
		assert_int_equal(str[14], '4');
		assert_non_null(strchr("89ab", str[19]));
		assert_int_equal(nvt_uuid_parse(str, back), 0);
		assert_memory_equal(back, uuid[i], sizeof(back));
		for (j = 0; j < i; j++) {
			assert_memory_not_equal(uuid[i], uuid[j], sizeof(back));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_digit),
		cmocka_unit_test(test_hex_parse),
		cmocka_unit_test(test_hex_parse_rejected),
		cmocka_unit_test(test_hex_fmt),
		cmocka_unit_test(test_uuid_parse),
		cmocka_unit_test(test_uuid_parse_rejected),
		cmocka_unit_test(test_uuid_fmt),
		cmocka_unit_test(test_uuid_is_zero),
		cmocka_unit_test(test_uuid_generate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
