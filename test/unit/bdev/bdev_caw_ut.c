/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvt_bdev_comparev_and_writev_blocks(): what lib/bdev checks and hands to
 * a module that compares and writes itself (a fake one, in memory, on one
 * thread: atomic by construction), its refusals where the module cannot
 * (malloc), and its statistics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/bdev.h"
#include "bdev_malloc.h"
#include "nvtcp/internal/bdev_module.h"
#include "../thread/ut_thread.h"

#define BLOCKS 16
#define BS     512

/* ---- the fake module ---- */

struct caw_disk {
	struct nvt_bdev bdev;
	uint8_t data[BLOCKS * BS];
	/* What the last I/O handed to the module. */
	int last_fused_iovcnt;
};

static const struct nvt_bdev_module g_caw_module = {
	.name = "caw_ut",
};

static void
caw_submit(struct nvt_io_channel *ch, struct nvt_bdev_io *io)
{
	struct caw_disk *disk = io->bdev->ctxt;
	size_t off = io->offset_blocks * BS, len = io->num_blocks * BS;
	uint8_t *cmp = malloc(len);
	int status = 0;

	(void)ch;
	assert_non_null(cmp);
	disk->last_fused_iovcnt = io->fused_iovcnt;
	switch (io->type) {
	case NVT_BDEV_IO_TYPE_READ:
		(void)nvt_bdev_iov_copy(disk->data + off, io->iovs, io->iovcnt, len, false);
		break;
	case NVT_BDEV_IO_TYPE_WRITE:
		(void)nvt_bdev_iov_copy(disk->data + off, io->iovs, io->iovcnt, len, true);
		break;
	case NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE:
		(void)nvt_bdev_iov_copy(cmp, io->iovs, io->iovcnt, len, true);
		if (memcmp(cmp, disk->data + off, len) != 0) {
			status = -EILSEQ;
			break;
		}
		(void)nvt_bdev_iov_copy(disk->data + off, io->fused_iovs, io->fused_iovcnt, len,
					true);
		break;
	default:
		status = -EINVAL;
	}
	free(cmp);
	nvt_bdev_io_complete(io, status);
}

static bool
caw_supported(void *ctxt, enum nvt_bdev_io_type type)
{
	(void)ctxt;
	return type == NVT_BDEV_IO_TYPE_READ || type == NVT_BDEV_IO_TYPE_WRITE ||
	       type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE;
}

static struct nvt_io_channel *
caw_get_io_channel(void *ctxt)
{
	return nvt_get_io_channel(ctxt);
}

static void
caw_unregistered(void *io_device)
{
	struct caw_disk *disk = io_device;

	nvt_bdev_destruct_done(&disk->bdev, 0);
	free(disk);
}

static int
caw_destruct(void *ctxt)
{
	nvt_io_device_unregister(ctxt, caw_unregistered);
	return 1;
}

static const struct nvt_bdev_fn_table g_caw_fn_table = {
	.destruct = caw_destruct,
	.submit_request = caw_submit,
	.io_type_supported = caw_supported,
	.get_io_channel = caw_get_io_channel,
};

static struct caw_disk *
caw_create(void)
{
	struct caw_disk *disk = calloc(1, sizeof(*disk));

	assert_non_null(disk);
	snprintf(disk->bdev.name, sizeof(disk->bdev.name), "Caw0");
	disk->bdev.product_name = "Compare and write test disk";
	disk->bdev.blocklen = BS;
	disk->bdev.blockcnt = BLOCKS;
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_caw_fn_table;
	disk->bdev.module = &g_caw_module;
	assert_int_equal(nvt_io_device_register(disk, NULL, NULL, 0, "Caw0"), 0);
	assert_int_equal(nvt_bdev_register(&disk->bdev), 0);
	return disk;
}

/* ---- helpers ---- */

struct ut_io {
	int status;
	int calls;
};

static void
ut_io_done(void *cb_arg, int status)
{
	struct ut_io *io = cb_arg;

	io->status = status;
	io->calls++;
}

static void
ut_deleted(void *cb_arg, int status)
{
	*(int *)cb_arg = status + 1;
}

static void
ut_poll(struct nvt_thread *thread)
{
	ut_poll_all(&thread, 1, 4);
}

struct ut_stat {
	struct nvt_bdev_iostat stat;
	int calls;
};

static void
ut_stat_done(void *ctx, int status, const struct nvt_bdev_iostat *stat,
	     const struct nvt_histogram *hist)
{
	struct ut_stat *s = ctx;

	(void)hist;
	assert_int_equal(status, 0);
	s->stat = *stat;
	s->calls++;
}

static void
test_compare_and_write(void **state)
{
	struct nvt_thread *app = nvt_thread_create("app", NULL);
	struct caw_disk *disk;
	struct nvt_bdev_desc *desc, *ro;
	struct nvt_io_channel *ch, *roch;
	uint8_t old[2 * BS], new[2 * BS];
	struct iovec cmp[2] = { { old, 100 }, { old + 100, 2 * BS - 100 } };
	struct iovec wr[3] = { { new, BS }, { new + BS, 12 }, { new + BS + 12, BS - 12 } };
	struct ut_io io = { 0 };
	struct ut_stat st = { 0 };
	int deleted = 0;

	(void)state;
	assert_non_null(app);
	nvt_set_thread(app);
	memset(old, 0xa5, sizeof(old));
	memset(new, 0x5a, sizeof(new));
	disk = caw_create();
	memcpy(disk->data + 4 * BS, old, sizeof(old));
	assert_int_equal(nvt_bdev_open("Caw0", true, NULL, NULL, &desc), 0);
	ch = nvt_bdev_get_io_channel(desc);
	assert_non_null(ch);

	/* Matching: written, and the module got the write data. */
	assert_int_equal(
		nvt_bdev_comparev_and_writev_blocks(desc, ch, cmp, 2, wr, 3, 4, 2, ut_io_done, &io),
		0);
	ut_poll(app);
	assert_int_equal(io.calls, 1);
	assert_int_equal(io.status, 0);
	assert_int_equal(disk->last_fused_iovcnt, 3);
	assert_memory_equal(disk->data + 4 * BS, new, sizeof(new));
	/* Differing now: -EILSEQ, nothing written. */
	memset(new, 0x11, sizeof(new));
	assert_int_equal(
		nvt_bdev_comparev_and_writev_blocks(desc, ch, cmp, 2, wr, 3, 4, 2, ut_io_done, &io),
		0);
	ut_poll(app);
	assert_int_equal(io.calls, 2);
	assert_int_equal(io.status, -EILSEQ);
	assert_int_equal(disk->data[4 * BS], 0x5a);

	/* Refusals before the module: short write data, range, read-only descriptor. */
	assert_int_equal(
		nvt_bdev_comparev_and_writev_blocks(desc, ch, cmp, 2, wr, 1, 4, 2, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(nvt_bdev_comparev_and_writev_blocks(desc, ch, cmp, 2, NULL, 0, 4, 2,
							     ut_io_done, &io),
			 -EINVAL);
	assert_int_equal(
		nvt_bdev_comparev_and_writev_blocks(desc, ch, cmp, 1, wr, 3, 4, 2, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(nvt_bdev_comparev_and_writev_blocks(desc, ch, cmp, 2, wr, 3, BLOCKS - 1, 2,
							     ut_io_done, &io),
			 -EINVAL);
	assert_int_equal(nvt_bdev_open("Caw0", false, NULL, NULL, &ro), 0);
	roch = nvt_bdev_get_io_channel(ro);
	assert_int_equal(
		nvt_bdev_comparev_and_writev_blocks(ro, roch, cmp, 2, wr, 3, 4, 2, ut_io_done, &io),
		-EBADF);
	ut_poll(app);
	assert_int_equal(io.calls, 2);

	/* Counted: the success as a write, the miscompare as one. */
	assert_int_equal(nvt_bdev_get_iostat("Caw0", ut_stat_done, &st), 0);
	ut_poll(app);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.stat.op[NVT_BDEV_STAT_WRITE].ops, 1);
	assert_int_equal(st.stat.op[NVT_BDEV_STAT_WRITE].bytes, 2 * BS);
	assert_int_equal(st.stat.op[NVT_BDEV_STAT_READ].ops, 0);
	assert_int_equal(st.stat.io_error[NVT_BDEV_IO_ERROR_MISCOMPARE], 1);

	nvt_put_io_channel(roch);
	nvt_bdev_close(ro);
	nvt_put_io_channel(ch);
	nvt_bdev_close(desc);
	assert_int_equal(nvt_bdev_delete("Caw0", ut_deleted, &deleted), 0);
	ut_poll(app);
	assert_int_equal(deleted, 1);
	assert_true(ut_thread_exit_destroy(&app));
}

static void
test_not_supported(void **state)
{
	struct nvt_thread *app = nvt_thread_create("app", NULL);
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev = NULL;
	struct nvt_bdev_desc *desc;
	struct nvt_io_channel *ch;
	uint8_t buf[BS] = { 0 }, wbuf[BS] = { 1 };
	struct iovec cmp = { buf, BS }, wr = { wbuf, BS };
	struct ut_io io = { 0 };
	int deleted = 0;

	(void)state;
	nvt_set_thread(app);
	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	opts.name = "Malloc0";
	opts.num_blocks = BLOCKS;
	opts.block_size = BS;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), 0);
	/* Malloc cannot make it atomic against the other threads' writes: it does not offer it. */
	assert_false(nvt_bdev_io_type_supported(bdev, NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE));
	assert_int_equal(nvt_bdev_open("Malloc0", true, NULL, NULL, &desc), 0);
	ch = nvt_bdev_get_io_channel(desc);
	assert_int_equal(nvt_bdev_comparev_and_writev_blocks(desc, ch, &cmp, 1, &wr, 1, 0, 1,
							     ut_io_done, &io),
			 -ENOTSUP);
	ut_poll(app);
	assert_int_equal(io.calls, 0);
	nvt_put_io_channel(ch);
	nvt_bdev_close(desc);
	assert_int_equal(nvt_bdev_delete("Malloc0", ut_deleted, &deleted), 0);
	ut_poll(app);
	assert_int_equal(deleted, 1);
	assert_true(ut_thread_exit_destroy(&app));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compare_and_write, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_not_supported, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
