/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../app/nvtcp-perf/perf_stats.c"

static void
test_hist_index(void **state)
{
	uint64_t v, lo, hi;

	(void)state;
	/* Every value falls inside the range of its bucket; buckets never go backwards. */
	for (v = 0; v < 5000000; v += (v < 100 ? 1 : v / 50)) {
		uint32_t i = perf_hist_index(v);

		perf_hist_bucket_range(i, &lo, &hi);
		if (v < lo || v > hi) {
			fail_msg("value %llu in bucket %u [%llu, %llu]", (unsigned long long)v, i,
				 (unsigned long long)lo, (unsigned long long)hi);
		}
		/* Relative width under 1/32 above the linear part. */
		assert_true(hi - lo <= lo / 32 + 1);
	}
	assert_int_equal(perf_hist_index(UINT64_MAX), PERF_HIST_BUCKETS - 1);
}

static void
test_hist_percentiles(void **state)
{
	struct perf_hist *h = malloc(sizeof(*h)), *h2 = malloc(sizeof(*h2));
	uint64_t v, p;

	(void)state;
	perf_hist_init(h);
	assert_int_equal(perf_hist_percentile(h, 50), 0);
	/* 1..10000 us, uniform. */
	for (v = 1; v <= 10000; v++) {
		perf_hist_add(h, v * 1000);
	}
	assert_int_equal(h->count, 10000);
	assert_int_equal(h->min_ns, 1000);
	assert_int_equal(h->max_ns, 10000000);
	p = perf_hist_percentile(h, 50);
	assert_true(p >= 5000000 && p <= 5000000 + 5000000 / 32);
	p = perf_hist_percentile(h, 99);
	assert_true(p >= 9900000 && p <= 9900000 + 9900000 / 32);
	p = perf_hist_percentile(h, 99.9);
	assert_true(p >= 9990000 && p <= 10000000);
	assert_int_equal(perf_hist_percentile(h, 100), 10000000);

	/* Merging two halves gives the same percentiles. */
	perf_hist_init(h2);
	for (v = 1; v <= 10000; v++) {
		perf_hist_add(h2, v * 1000);
	}
	perf_hist_merge(h, h2);
	assert_int_equal(h->count, 20000);
	assert_int_equal(perf_hist_percentile(h, 99), p > 0 ? perf_hist_percentile(h2, 99) : 0);
	free(h);
	free(h2);
}

static void
test_pattern(void **state)
{
	uint8_t *buf = malloc(8 * 4096);
	uint32_t first = 99;

	(void)state;
	perf_pattern_fill(buf, 4096, 8, 1, 1000, 7);
	assert_int_equal(perf_pattern_check(buf, 4096, 8, 1, 1000, 7, &first), 0);
	/* Wrong generation, LBA or namespace: every block is bad. */
	assert_int_equal(perf_pattern_check(buf, 4096, 8, 1, 1000, 6, &first), 8);
	assert_int_equal(perf_pattern_check(buf, 4096, 8, 1, 1001, 7, &first), 8);
	assert_int_equal(perf_pattern_check(buf, 4096, 8, 2, 1000, 7, &first), 8);
	/* One flipped byte in block 5's body. */
	buf[5 * 4096 + 1234] ^= 0x10;
	assert_int_equal(perf_pattern_check(buf, 4096, 8, 1, 1000, 7, &first), 1);
	assert_int_equal(first, 5);
	/* Zeroed block (e.g. never written). */
	memset(buf, 0, 4096);
	assert_int_equal(perf_pattern_check(buf, 4096, 8, 1, 1000, 7, &first), 2);
	assert_int_equal(first, 0);
	/* 512-byte blocks. */
	perf_pattern_fill(buf, 512, 8, 3, 0, 1);
	assert_int_equal(perf_pattern_check(buf, 512, 8, 3, 0, 1, NULL), 0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_index),
		cmocka_unit_test(test_hist_percentiles),
		cmocka_unit_test(test_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
