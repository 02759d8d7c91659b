/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "nvtcp/ticks.h"

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
test_hz(void **state)
{
	(void)state;
	assert_int_equal(nvt_get_ticks_hz(), 1000000000ull);
}

static void
test_monotonic(void **state)
{
	uint64_t prev = nvt_get_ticks(), now;
	int i;

	(void)state;
	for (i = 0; i < 1000000; i++) {
		now = nvt_get_ticks();
		assert_true(now >= prev);
		prev = now;
	}
}

/* Ticks are CLOCK_MONOTONIC nanoseconds: a tick read falls between two clock reads. */
static void
test_clock_monotonic_ns(void **state)
{
	uint64_t before, ticks, after;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		before = monotonic_ns();
		ticks = nvt_get_ticks();
		after = monotonic_ns();
		assert_true(before <= ticks && ticks <= after);
	}
}

/* Busy-wait (no sleep) until the clock has visibly advanced by at least 1 ms. */
static void
test_advances(void **state)
{
	uint64_t start = nvt_get_ticks(), hz = nvt_get_ticks_hz();

	(void)state;
	while (nvt_get_ticks() - start < hz / 1000) {
		/* Spin: the test would hang, and time out, if ticks never advanced. */
	}
	assert_true(nvt_ticks_to_us(nvt_get_ticks() - start) >= 1000);
}

static void
test_conversions(void **state)
{
	(void)state;
	assert_int_equal(nvt_us_to_ticks(0), 0);
	assert_int_equal(nvt_us_to_ticks(1), 1000);
	assert_int_equal(nvt_us_to_ticks(1000000), nvt_get_ticks_hz());
	assert_int_equal(nvt_us_to_ticks(UINT64_MAX / 1000), UINT64_MAX / 1000 * 1000);
	assert_int_equal(nvt_us_to_ticks(UINT64_MAX / 1000 + 1), UINT64_MAX);
	assert_int_equal(nvt_us_to_ticks(UINT64_MAX), UINT64_MAX);

	assert_int_equal(nvt_ticks_to_us(0), 0);
	assert_int_equal(nvt_ticks_to_us(999), 0);
	assert_int_equal(nvt_ticks_to_us(1999), 1);
	assert_int_equal(nvt_ticks_to_us(nvt_get_ticks_hz()), 1000000);
	assert_int_equal(nvt_ticks_to_us(UINT64_MAX), UINT64_MAX / 1000);

	assert_int_equal(nvt_ticks_to_ns(0), 0);
	assert_int_equal(nvt_ticks_to_ns(12345), 12345);
	assert_int_equal(nvt_ticks_to_ns(nvt_get_ticks_hz()), 1000000000ull);
	assert_int_equal(nvt_ticks_to_us(nvt_us_to_ticks(987654321)), 987654321);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hz),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_clock_monotonic_ns),
		cmocka_unit_test(test_advances),
		cmocka_unit_test(test_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
