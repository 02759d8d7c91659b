/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rbd module's status mapping: librbd's completion values
 * as bdev statuses (which the target turns into NVMe statuses), and the
 * rule that logs a channel's failing state once per change.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rbd_status.c"

static void
test_success(void **state)
{
	(void)state;
	assert_int_equal(rbd_status(0), 0);
	/* Reads and compare-and-write return byte counts. */
	assert_int_equal(rbd_status(4096), 0);
}

static void
test_miscompare(void **state)
{
	(void)state;
	assert_int_equal(rbd_status(-EILSEQ), -EILSEQ);
}

static void
test_image_gone(void **state)
{
	(void)state;
	assert_int_equal(rbd_status(-ENOENT), -ENODEV);
	assert_int_equal(rbd_status(-ENODEV), -ENODEV);
	assert_int_equal(rbd_status(-ENXIO), -ENODEV);
	/* What librados answers for a pool deleted under the image. */
	assert_int_equal(rbd_status(-EPERM), -ENODEV);
	assert_int_equal(rbd_status(-EACCES), -ENODEV);
}

static void
test_retryable(void **state)
{
	(void)state;
	/* Another writer holds the lock or blocklisted us: a path error, retried elsewhere. */
	assert_int_equal(rbd_status(-EROFS), -ESHUTDOWN);
	assert_int_equal(rbd_status(-ESHUTDOWN), -ESHUTDOWN);
	/* librados's EBLOCKLISTED is ESHUTDOWN, 108 on Linux. */
	assert_int_equal(rbd_status(-108), -ESHUTDOWN);
	/* Other errors: retryable, on the same path too. */
	assert_int_equal(rbd_status(-ETIMEDOUT), -EIO);
	assert_int_equal(rbd_status(-EIO), -EIO);
	assert_int_equal(rbd_status(-EINVAL), -EIO);
	assert_int_equal(rbd_status(-EAGAIN), -EIO);
}

static void
test_space_and_memory(void **state)
{
	(void)state;
	assert_int_equal(rbd_status(-ENOSPC), -ENOSPC);
	assert_int_equal(rbd_status(-EDQUOT), -ENOSPC);
	assert_int_equal(rbd_status(-ENOMEM), -ENOMEM);
}

static void
test_log_on_change_only(void **state)
{
	(void)state;
	assert_false(rbd_status_log_change(0, 0));
	assert_true(rbd_status_log_change(0, -EIO));
	assert_false(rbd_status_log_change(-EIO, -EIO));
	assert_true(rbd_status_log_change(-EIO, -ENODEV));
	/* The recovery is a change too. */
	assert_true(rbd_status_log_change(-EIO, 0));
	/* A miscompare is the host's answer, not a failing image. */
	assert_false(rbd_status_log_change(0, -EILSEQ));
	assert_false(rbd_status_log_change(-EIO, -EILSEQ));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),		 cmocka_unit_test(test_miscompare),
		cmocka_unit_test(test_image_gone),	 cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_space_and_memory), cmocka_unit_test(test_log_on_change_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
