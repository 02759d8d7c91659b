/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/cpuset.h"
#include "nvtcp/likely.h"

/* Cores of a set as a list string, via iteration rather than fmt_list. */
static void
cores_of(const struct nvt_cpuset *set, char *buf, size_t len)
{
	size_t pos = 0;
	int32_t cpu;

	buf[0] = '\0';
	NVT_CPUSET_FOREACH(cpu, set)
	{
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%d", pos ? " " : "", cpu);
		assert_true(pos < len);
	}
}

static void
test_parse_accepted(void **state)
{
	static const struct {
		const char *str;
		const char *cores;
	} cases[] = {
		{ "0x3", "0 1" },
		{ "0X3", "0 1" },
		{ "3", "0 1" },
		{ "5", "0 2" },
		{ "10", "4" },
		{ "0xaF", "0 1 2 3 5 7" },
		{ "0x0", "" },
		{ "0x0001", "0" },
		{ "0x8000000000000000", "63" },
		{ "0x10000000000000000", "64" },
		{ "0-1", "0 1" },
		{ "0,2-3", "0 2 3" },
		{ "[0,2-3]", "0 2 3" },
		{ "[5]", "5" },
		{ "7-7", "7" },
		{ "3,1", "1 3" },
		{ "62-65,1023", "62 63 64 65 1023" },
		{ "1,1,1-2", "1 2" },
	};
	struct nvt_cpuset set;
	char cores[128];
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		assert_int_equal(nvt_cpuset_parse(&set, cases[i].str), 0);
		cores_of(&set, cores, sizeof(cores));
		assert_string_equal(cores, cases[i].cores);
	}
}

static void
test_parse_rejected(void **state)
{
	static const char *const cases[] = {
		"",	  "0x",	    "x3",
		"0xg",	  "3g",	    "-1",
		"1-",	  "2-1",    "0,",
		",0",	  "0,,1",   "0--1",
		"0-1-2",  "[",	    "[]",
		"[0",	  "0]",	    "[0]]",
		"[[0]",	  " 1",	    "1 ",
		"0, 1",	  "+1",	    "0x1-2",
		"[1024]", "0-1024", "[99999999999999999999]",
		"[1,2",	  "1;2",    "0x-1",
	};
	struct nvt_cpuset set;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		/* A previous value must not survive a failed parse. */
		assert_int_equal(nvt_cpuset_parse(&set, "0xff"), 0);
		assert_int_equal(nvt_cpuset_parse(&set, cases[i]), -EINVAL);
		assert_int_equal(nvt_cpuset_count(&set), 0);
	}
	assert_int_equal(nvt_cpuset_parse(&set, NULL), -EINVAL);
}

/* A mask bit at core 1024 and above is out of range; leading zeroes are not. */
static void
test_parse_mask_width(void **state)
{
	char mask[2 + NVT_CPUSET_SIZE / 4 + 2];
	struct nvt_cpuset set;

	(void)state;
	memset(mask, '0', sizeof(mask));
	mask[1] = 'x';
	mask[sizeof(mask) - 1] = '\0';
	mask[sizeof(mask) - 2] = '1';
	assert_int_equal(nvt_cpuset_parse(&set, mask), 0);
	assert_true(nvt_cpuset_get_cpu(&set, 0));
	mask[2] = '1';
	assert_int_equal(nvt_cpuset_parse(&set, mask), -EINVAL);
	mask[2] = '0';
	mask[3] = '8';
	assert_int_equal(nvt_cpuset_parse(&set, mask), 0);
	assert_true(nvt_cpuset_get_cpu(&set, NVT_CPUSET_SIZE - 1));
	assert_int_equal(nvt_cpuset_count(&set), 2);
}

static void
test_fmt(void **state)
{
	struct nvt_cpuset set;
	char buf[NVT_CPUSET_STR_LEN];

	(void)state;
	nvt_cpuset_zero(&set);
	assert_ptr_equal(nvt_cpuset_fmt(&set, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "0x0");
	nvt_cpuset_set_cpu(&set, 0, true);
	nvt_cpuset_set_cpu(&set, 2, true);
	assert_string_equal(nvt_cpuset_fmt(&set, buf, sizeof(buf)), "0x5");
	nvt_cpuset_set_cpu(&set, 64, true);
	assert_string_equal(nvt_cpuset_fmt(&set, buf, sizeof(buf)), "0x10000000000000005");

	assert_int_equal(nvt_cpuset_parse(&set, "0-1023"), 0);
	nvt_cpuset_fmt(&set, buf, sizeof(buf));
	assert_int_equal(strlen(buf), NVT_CPUSET_STR_LEN - 1);
	assert_int_equal(strspn(buf + 2, "f"), NVT_CPUSET_SIZE / 4);
}

static void
test_fmt_list(void **state)
{
	struct nvt_cpuset set;
	char buf[64];

	(void)state;
	nvt_cpuset_zero(&set);
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(nvt_cpuset_parse(&set, "0x2d"), 0);
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0,2-3,5");
	assert_int_equal(nvt_cpuset_parse(&set, "0-1023"), 0);
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-1023");

	assert_int_equal(nvt_cpuset_parse(&set, "1,3,5,7"), 0);
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, 5), -ENOSPC);
	assert_string_equal(buf, "1,3");
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, 8), 0);
	assert_string_equal(buf, "1,3,5,7");
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, 7), -ENOSPC);
	assert_int_equal(nvt_cpuset_fmt_list(&set, buf, 0), -ENOSPC);
}

/* parse(fmt(x)) == x and parse(fmt_list(x)) == x for a spread of sets. */
static void
test_round_trip(void **state)
{
	static const char *const cases[] = {
		"[0]",	  "1",
		"0,2-3",  "63-64",
		"[1023]", "0,511-513,1023",
		"0-1023", "[1,3,5,100-200]",
	};
	struct nvt_cpuset set, back;
	char buf[NVT_CPUSET_STR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		assert_int_equal(nvt_cpuset_parse(&set, cases[i]), 0);
		nvt_cpuset_fmt(&set, buf, sizeof(buf));
		assert_int_equal(nvt_cpuset_parse(&back, buf), 0);
		assert_true(nvt_cpuset_equal(&set, &back));
		/* Brackets: a bare single core such as "5" would read as a mask. */
		buf[0] = '[';
		assert_int_equal(nvt_cpuset_fmt_list(&set, buf + 1, sizeof(buf) - 2), 0);
		strcat(buf, "]");
		assert_int_equal(nvt_cpuset_parse(&back, buf), 0);
		assert_true(nvt_cpuset_equal(&set, &back));
	}
}

static void
test_set_ops(void **state)
{
	struct nvt_cpuset a, b;

	(void)state;
	nvt_cpuset_zero(&a);
	nvt_cpuset_set_cpu(&a, NVT_CPUSET_SIZE, true);
	assert_int_equal(nvt_cpuset_count(&a), 0);
	assert_false(nvt_cpuset_get_cpu(&a, NVT_CPUSET_SIZE));
	assert_int_equal(nvt_cpuset_next(&a, -1), -1);

	assert_int_equal(nvt_cpuset_parse(&a, "0-3,100"), 0);
	assert_int_equal(nvt_cpuset_parse(&b, "2-5,1023"), 0);
	assert_false(nvt_cpuset_equal(&a, &b));
	nvt_cpuset_set_cpu(&a, 0, false);
	assert_false(nvt_cpuset_get_cpu(&a, 0));
	assert_int_equal(nvt_cpuset_next(&a, -1), 1);
	assert_int_equal(nvt_cpuset_next(&a, 3), 100);
	assert_int_equal(nvt_cpuset_next(&a, 100), -1);
	assert_int_equal(nvt_cpuset_next(&b, 5), 1023);
	assert_int_equal(nvt_cpuset_next(&b, 1023), -1);

	nvt_cpuset_or(&a, &b);
	assert_int_equal(nvt_cpuset_count(&a), 7);
	nvt_cpuset_and(&a, &b);
	assert_true(nvt_cpuset_equal(&a, &b));
	assert_int_equal(nvt_cpuset_parse(&a, "0-1"), 0);
	nvt_cpuset_and(&a, &b);
	assert_int_equal(nvt_cpuset_count(&a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepted),	 cmocka_unit_test(test_parse_rejected),
		cmocka_unit_test(test_parse_mask_width), cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_fmt_list),	 cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_set_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
