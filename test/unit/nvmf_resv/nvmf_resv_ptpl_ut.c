/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PTPL file: keys of the full 64-bit range round-trip through save and
 * load, and a file with SPDK's unsigned keys above INT64_MAX loads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "resv.h"

static const uint8_t BDEV[16] = { 0xbd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t HOST_A[16] = { 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t HOST_B[16] = { 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static char g_path[64];

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(g_path, sizeof(g_path), "/tmp/nvmf_resv_ptpl_ut.XXXXXX");
	fd = mkstemp(g_path);
	if (fd < 0) {
		return -1;
	}
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(g_path);
	return 0;
}

static void
test_roundtrip_u64(void **state)
{
	struct nvmf_resv r, back;

	(void)state;
	nvmf_resv_state_init(&r);
	r.ptpl = true;
	r.ptpl_file = g_path;
	r.rtype = NVT_NVME_RESV_EXCLUSIVE_ACCESS;
	memcpy(r.regs[0].hostid, HOST_A, 16);
	r.regs[0].rkey = UINT64_MAX;
	memcpy(r.regs[1].hostid, HOST_B, 16);
	r.regs[1].rkey = (1ull << 63) + 5;
	r.nregs = 2;
	r.holder = 1;
	assert_int_equal(nvmf_resv_ptpl_save(&r, BDEV), 0);

	nvmf_resv_state_init(&back);
	back.ptpl_file = g_path;
	assert_int_equal(nvmf_resv_ptpl_load(&back, BDEV), 0);
	assert_true(back.ptpl);
	assert_int_equal(back.rtype, NVT_NVME_RESV_EXCLUSIVE_ACCESS);
	assert_int_equal(back.nregs, 2);
	assert_true(back.regs[0].rkey == UINT64_MAX);
	assert_true(back.regs[1].rkey == (1ull << 63) + 5);
	assert_int_equal(back.holder, 1);
}

/* What SPDK writes: unsigned decimal keys, one above INT64_MAX; a negative one from older files. */
static void
test_load_spdk_unsigned(void **state)
{
	struct nvmf_resv r;
	FILE *f = fopen(g_path, "w");

	(void)state;
	assert_non_null(f);
	fprintf(f,
		"{ \"ptpl\": true, \"rtype\": 1, \"crkey\": 18446744073709551615,\n"
		"  \"bdev_uuid\": \"bd010203-0405-0607-0809-0a0b0c0d0e0f\",\n"
		"  \"holder_uuid\": \"0a000000-0000-0000-0000-000000000001\",\n"
		"  \"registrants\": [ { \"rkey\": 18446744073709551615,\n"
		"    \"host_uuid\": \"0a000000-0000-0000-0000-000000000001\" },\n"
		"    { \"rkey\": -2, \"host_uuid\": \"0b000000-0000-0000-0000-000000000002\" } ] }\n");
	fclose(f);
	nvmf_resv_state_init(&r);
	r.ptpl_file = g_path;
	assert_int_equal(nvmf_resv_ptpl_load(&r, BDEV), 0);
	assert_int_equal(r.nregs, 2);
	assert_true(r.regs[0].rkey == UINT64_MAX);
	assert_true(r.regs[1].rkey == UINT64_MAX - 1);
	assert_int_equal(r.holder, 0);
	/* Too big even for 64 bits: refused. */
	f = fopen(g_path, "w");
	assert_non_null(f);
	fprintf(f,
		"{ \"ptpl\": true, \"rtype\": 0, \"bdev_uuid\": "
		"\"bd010203-0405-0607-0809-0a0b0c0d0e0f\", \"registrants\": [ { \"rkey\": "
		"18446744073709551616, \"host_uuid\": \"0a000000-0000-0000-0000-000000000001\" } ] "
		"}\n");
	fclose(f);
	nvmf_resv_state_init(&r);
	r.ptpl_file = g_path;
	assert_int_equal(nvmf_resv_ptpl_load(&r, BDEV), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_u64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_spdk_unsigned, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
