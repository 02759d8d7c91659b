/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "nvtcp/string.h"

static void
test_parse_u64(void **state)
{
	static const struct {
		const char *str;
		uint64_t max;
		int rc;
		uint64_t val;
	} cases[] = {
		{ "0", UINT64_MAX, 0, 0 },
		{ "42", UINT64_MAX, 0, 42 },
		{ "010", UINT64_MAX, 0, 10 },
		{ "0x1F", UINT64_MAX, 0, 31 },
		{ "0XfF", UINT64_MAX, 0, 255 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX, 0, UINT64_MAX },
		{ "100", 100, 0, 100 },
		{ "101", 100, -ERANGE, 0 },
		{ "18446744073709551616", UINT64_MAX, -ERANGE, 0 },
		{ "0x10000000000000000", UINT64_MAX, -ERANGE, 0 },
		{ "", UINT64_MAX, -EINVAL, 0 },
		{ "-1", UINT64_MAX, -EINVAL, 0 },
		{ "+1", UINT64_MAX, -EINVAL, 0 },
		{ " 1", UINT64_MAX, -EINVAL, 0 },
		{ "1 ", UINT64_MAX, -EINVAL, 0 },
		{ "12a", UINT64_MAX, -EINVAL, 0 },
		{ "0x", UINT64_MAX, -EINVAL, 0 },
		{ "0x-1", UINT64_MAX, -EINVAL, 0 },
		{ "0xg", UINT64_MAX, -EINVAL, 0 },
		{ "abc", UINT64_MAX, -EINVAL, 0 },
	};
	uint64_t out;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		out = 0xdead;
		assert_int_equal(nvt_parse_u64(cases[i].str, cases[i].max, &out), cases[i].rc);
		assert_int_equal(out, cases[i].rc == 0 ? cases[i].val : 0xdead);
	}
	assert_int_equal(nvt_parse_u64(NULL, UINT64_MAX, &out), -EINVAL);
}

static void
test_parse_capacity(void **state)
{
	static const struct {
		const char *str;
		int rc;
		uint64_t val;
	} cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "4K", 0, 4096 },
		{ "128KiB", 0, 128 << 10 },
		{ "128KB", 0, 128 << 10 },
		{ "1G", 0, 1ull << 30 },
		{ "2MB", 0, 2ull << 20 },
		{ "3m", 0, 3ull << 20 },
		{ "5t", 0, 5ull << 40 },
		{ "5TiB", 0, 5ull << 40 },
		{ "16777215T", 0, 16777215ull << 40 },
		{ "16777216T", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "k", -EINVAL, 0 },
		{ "-4k", -EINVAL, 0 },
		{ " 4k", -EINVAL, 0 },
		{ "4 k", -EINVAL, 0 },
		{ "4kb", -EINVAL, 0 },
		{ "4KiBx", -EINVAL, 0 },
		{ "4B", -EINVAL, 0 },
		{ "4P", -EINVAL, 0 },
		{ "4ki", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
	};
	uint64_t out;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		out = 0xdead;
		assert_int_equal(nvt_parse_capacity(cases[i].str, &out), cases[i].rc);
		assert_int_equal(out, cases[i].rc == 0 ? cases[i].val : 0xdead);
	}
}

static void
test_strcpy_trunc(void **state)
{
	char buf[6];

	(void)state;
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(nvt_strcpy_trunc(buf, sizeof(buf), "hello"), 0);
	assert_string_equal(buf, "hello");
	assert_int_equal(nvt_strcpy_trunc(buf, sizeof(buf), "hello!"), -ENAMETOOLONG);
	assert_string_equal(buf, "hello");
	assert_int_equal(nvt_strcpy_trunc(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "");
	assert_int_equal(nvt_strcpy_trunc(buf, 1, "a"), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_int_equal(nvt_strcpy_trunc(buf, 0, "a"), -ENAMETOOLONG);
	assert_int_equal(buf[0], 'q');
}

static void
test_strcpy_pad(void **state)
{
	char buf[10];

	(void)state;
	memset(buf, 'z', sizeof(buf));
	nvt_strcpy_pad(buf, "SN1", 8, ' ');
	assert_memory_equal(buf, "SN1     zz", 10);
	nvt_strcpy_pad(buf, "0123456789abc", 8, ' ');
	assert_memory_equal(buf, "01234567zz", 10);
	nvt_strcpy_pad(buf, "", 4, 0);
	assert_memory_equal(buf,
			    "\0\0\0\0"
			    "4567zz",
			    10);
	nvt_strcpy_pad(buf, "x", 0, ' ');
	assert_int_equal(buf[0], 0);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(nvt_strerror(ENOENT), "No such file or directory");
	assert_string_equal(nvt_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(nvt_strerror(-EINVAL), "Invalid argument");
	assert_string_equal(nvt_strerror(0), "Success");
	assert_non_null(strstr(nvt_strerror(-100000), "100000"));
	assert_non_null(nvt_strerror(INT_MIN));
}

/* Each thread's unknown-error text lives in its own buffer. */
static void *
strerror_thread(void *arg)
{
	const char *s = nvt_strerror(-(int)(intptr_t)arg);

	return strstr(s, "99999") != NULL ? (void *)s : NULL;
}

static void
test_strerror_threads(void **state)
{
	const char *mine = nvt_strerror(123456);
	void *theirs;
	pthread_t tid;

	(void)state;
	assert_non_null(strstr(mine, "123456"));
	assert_int_equal(pthread_create(&tid, NULL, strerror_thread, (void *)(intptr_t)99999), 0);
	assert_int_equal(pthread_join(tid, &theirs), 0);
	assert_non_null(theirs);
	assert_ptr_not_equal(theirs, mine);
	assert_non_null(strstr(mine, "123456"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),    cmocka_unit_test(test_parse_capacity),
		cmocka_unit_test(test_strcpy_trunc), cmocka_unit_test(test_strcpy_pad),
		cmocka_unit_test(test_strerror),     cmocka_unit_test(test_strerror_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
