/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <cmocka.h>

#include "nvtcp/crc32c.h"
#include "nvtcp/likely.h"

/* Reflected Castagnoli polynomial. */
#define CRC32C_POLY_REV 0x82f63b78u

/* Bit-at-a-time reference, independent of ISA-L. */
static uint32_t
ref_crc32c_update(const void *buf, size_t len, uint32_t crc)
{
	const uint8_t *p = buf;
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (bit = 0; bit < 8; bit++) {
			crc = (crc >> 1) ^ (CRC32C_POLY_REV & (0u - (crc & 1)));
		}
	}
	return crc;
}

static void
fill_pattern(uint8_t *buf, size_t len)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

static void
test_known_vectors(void **state)
{
	uint8_t zeros[32] = { 0 }, ones[32];

	(void)state;
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(nvt_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(nvt_crc32c_update("123456789", 9, NVT_CRC32C_INIT) ^ NVT_CRC32C_XOR,
			 0xe3069283u);
	/* RFC 3720 B.4 iSCSI test vectors. */
	assert_int_equal(nvt_crc32c(zeros, sizeof(zeros)), 0x8a9136aau);
	assert_int_equal(nvt_crc32c(ones, sizeof(ones)), 0x62a8ab43u);
	assert_int_equal(nvt_crc32c("", 0), 0);
	assert_int_equal(nvt_crc32c_update("", 0, 0x12345678u), 0x12345678u);
}

/* Every length and misalignment up to a few cache lines, where SIMD paths switch. */
static void
test_against_reference(void **state)
{
	static uint8_t buf[4096 + 16];
	size_t len, off;

	(void)state;
	fill_pattern(buf, sizeof(buf));
	assert_int_equal(ref_crc32c_update("123456789", 9, NVT_CRC32C_INIT) ^ NVT_CRC32C_XOR,
			 0xe3069283u);
	for (off = 0; off < 8; off++) {
		for (len = 0; len <= 300; len++) {
			assert_int_equal(nvt_crc32c(buf + off, len),
					 ref_crc32c_update(buf + off, len, NVT_CRC32C_INIT) ^
						 NVT_CRC32C_XOR);
		}
	}
	assert_int_equal(nvt_crc32c(buf, 4096),
			 ref_crc32c_update(buf, 4096, NVT_CRC32C_INIT) ^ NVT_CRC32C_XOR);
}

/* Chaining updates or iovecs gives the same digest as one pass. */
static void
test_chaining_and_iov(void **state)
{
	static uint8_t buf[8192];
	struct iovec iov[4];
	uint32_t whole, crc;

	(void)state;
	fill_pattern(buf, sizeof(buf));
	whole = nvt_crc32c(buf, sizeof(buf));
	crc = nvt_crc32c_update(buf, 100, NVT_CRC32C_INIT);
	crc = nvt_crc32c_update(buf + 100, sizeof(buf) - 100, crc);
	assert_int_equal(crc ^ NVT_CRC32C_XOR, whole);

	iov[0] = (struct iovec){ .iov_base = buf, .iov_len = 1 };
	iov[1] = (struct iovec){ .iov_base = buf + 1, .iov_len = 0 };
	iov[2] = (struct iovec){ .iov_base = buf + 1, .iov_len = 4095 };
	iov[3] = (struct iovec){ .iov_base = buf + 4096, .iov_len = 4096 };
	crc = nvt_crc32c_update_iov(iov, NVT_COUNTOF(iov), NVT_CRC32C_INIT);
	assert_int_equal(crc ^ NVT_CRC32C_XOR, whole);
	assert_int_equal(nvt_crc32c_update_iov(iov, 0, 0xabcdef01u), 0xabcdef01u);
	assert_int_not_equal(nvt_crc32c(buf, sizeof(buf) - 1), whole);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_chaining_and_iov),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
