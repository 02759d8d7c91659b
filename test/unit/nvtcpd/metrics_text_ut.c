/* SPDX-License-Identifier: BSD-3-Clause */
/* The Prometheus text of nvtcpd's /metrics (app/nvtcpd/metrics_text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics_text.c"

static void
test_label_escape(void **state)
{
	char labels[128] = "";

	(void)state;
	metrics_label(labels, sizeof(labels), "subsystem", "nqn.a");
	metrics_label(labels, sizeof(labels), "host", "q\"b\\c\nd");
	assert_string_equal(labels, "subsystem=\"nqn.a\",host=\"q\\\"b\\\\c\\nd\"");
}

static void
test_label_truncated(void **state)
{
	char labels[16] = "";

	(void)state;
	metrics_label(labels, sizeof(labels), "subsystem", "a-very-long-value-indeed");
	/* Cut short, but still a terminated string within the buffer. */
	assert_true(strlen(labels) < sizeof(labels));
}

static void
test_histogram(void **state)
{
	const uint64_t bounds[3] = { 10000, 100000, 1000000 };
	const uint64_t buckets[4] = { 2, 0, 5, 1 };
	struct metrics_buf b = { 0 };

	(void)state;
	metrics_histogram(&b, "h_seconds", "op=\"read\"", bounds, 3, buckets, 1500000000);
	assert_false(b.failed);
	assert_string_equal(b.data, "h_seconds_bucket{op=\"read\",le=\"1e-05\"} 2\n"
				    "h_seconds_bucket{op=\"read\",le=\"0.0001\"} 2\n"
				    "h_seconds_bucket{op=\"read\",le=\"0.001\"} 7\n"
				    "h_seconds_bucket{op=\"read\",le=\"+Inf\"} 8\n"
				    "h_seconds_sum{op=\"read\"} 1.500000000\n"
				    "h_seconds_count{op=\"read\"} 8\n");
	metrics_buf_fini(&b);
}

static void
test_buf_grows(void **state)
{
	struct metrics_buf b = { 0 };
	int i;

	(void)state;
	metrics_family(&b, "x_total", "counter", "A counter.");
	for (i = 0; i < 5000; i++) {
		metrics_u64(&b, "x_total", "", (uint64_t)i);
	}
	assert_false(b.failed);
	assert_true(b.len > 16384);
	assert_int_equal(strlen(b.data), b.len);
	assert_memory_equal(b.data,
			    "# HELP x_total A counter.\n# TYPE x_total counter\nx_total 0\n", 59);
	assert_string_equal(b.data + b.len - strlen("x_total 4999\n"), "x_total 4999\n");
	metrics_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_label_truncated),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_buf_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
