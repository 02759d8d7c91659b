/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the bdev layer with the malloc and null modules. One OS
 * thread plays the app thread and the I/O threads, polling them by hand.
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
#include "bdev_null.h"
#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/likely.h"
#include "../thread/ut_thread.h"
#include "bdev_internal.h"

#define BLOCKS 64

/* Completion of one I/O. */
struct ut_io {
	int status;
	int calls;
};

static bool g_in_submit;

static void
ut_io_done(void *cb_arg, int status)
{
	struct ut_io *io = cb_arg;

	/* The async contract: never called back from inside the submit call. */
	assert_false(g_in_submit);
	io->status = status;
	io->calls++;
}

struct ut_events {
	int removes;
	/* Close the descriptor from inside the REMOVE callback. */
	struct nvt_bdev_desc *close_on_remove;
};

static void
ut_event(enum nvt_bdev_event_type type, struct nvt_bdev *bdev, void *ctx)
{
	struct ut_events *ev = ctx;

	assert_non_null(bdev);
	if (type == NVT_BDEV_EVENT_REMOVE) {
		ev->removes++;
		if (ev->close_on_remove != NULL) {
			nvt_bdev_close(ev->close_on_remove);
			ev->close_on_remove = NULL;
		}
	}
}

struct ut_delete {
	int status;
	int calls;
};

static void
ut_delete_done(void *cb_arg, int status)
{
	struct ut_delete *d = cb_arg;

	d->status = status;
	d->calls++;
}

static struct nvt_thread *
ut_thread(const char *name)
{
	struct nvt_thread *thread = nvt_thread_create(name, NULL);

	assert_non_null(thread);
	nvt_set_thread(thread);
	return thread;
}

static void
ut_poll(struct nvt_thread *thread, int rounds)
{
	ut_poll_all(&thread, 1, rounds);
}

static struct nvt_bdev *
ut_create(bool is_malloc, const char *name, uint64_t blocks, uint32_t block_size)
{
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev = NULL;

	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	opts.name = name;
	opts.num_blocks = blocks;
	opts.block_size = block_size;
	if (is_malloc) {
		assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), 0);
	} else {
		assert_int_equal(nvt_bdev_null_create(&opts, &bdev), 0);
	}
	return bdev;
}

/* Delete \p name and poll \p thread until the deletion has answered. */
static void
ut_delete(struct nvt_thread *thread, const char *name)
{
	struct ut_delete d = { 0 };

	assert_int_equal(nvt_bdev_delete(name, ut_delete_done, &d), 0);
	assert_int_equal(d.calls, 0);
	ut_poll(thread, 10);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
}

static void
ut_done(struct nvt_thread **thread)
{
	assert_true(ut_thread_exit_destroy(thread));
}

static void
test_create_lookup_delete(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct nvt_bdev *m, *n;
	const uint8_t *uuid;

	(void)state;
	m = ut_create(true, "Malloc0", BLOCKS, 4096);
	n = ut_create(false, "Null0", 1000, 512);
	assert_ptr_equal(nvt_bdev_get_by_name("Malloc0"), m);
	assert_ptr_equal(nvt_bdev_get_by_name("Null0"), n);
	assert_null(nvt_bdev_get_by_name("Nope"));
	assert_string_equal(nvt_bdev_get_name(m), "Malloc0");
	assert_string_equal(nvt_bdev_get_product_name(m), "Malloc disk");
	assert_string_equal(nvt_bdev_get_product_name(n), "Null disk");
	assert_int_equal(nvt_bdev_get_block_size(m), 4096);
	assert_int_equal(nvt_bdev_get_num_blocks(m), BLOCKS);
	assert_int_equal(nvt_bdev_get_num_blocks(n), 1000);
	assert_false(nvt_bdev_has_write_cache(m));
	assert_int_equal(nvt_bdev_get_max_zeroes_blocks(m), 0);
	assert_true(nvt_bdev_io_type_supported(m, NVT_BDEV_IO_TYPE_COMPARE));
	assert_false(nvt_bdev_io_type_supported(m, NVT_BDEV_NUM_IO_TYPES));
	/* Generated UUIDs are random version 4, RFC 4122 variant, and differ. */
	uuid = nvt_bdev_get_uuid(m);
	assert_int_equal(uuid[6] >> 4, 4);
	assert_int_equal(uuid[8] >> 6, 2);
	assert_memory_not_equal(uuid, nvt_bdev_get_uuid(n), 16);
	assert_ptr_equal(nvt_bdev_first(), m);
	assert_ptr_equal(nvt_bdev_next(m), n);
	assert_null(nvt_bdev_next(n));

	ut_delete(app, "Malloc0");
	assert_null(nvt_bdev_get_by_name("Malloc0"));
	assert_int_equal(nvt_bdev_delete("Malloc0", ut_delete_done, NULL), -ENODEV);
	/* The name is free again. */
	m = ut_create(true, "Malloc0", 8, 512);
	assert_ptr_equal(nvt_bdev_get_by_name("Malloc0"), m);
	ut_delete(app, "Malloc0");
	ut_delete(app, "Null0");
	assert_null(nvt_bdev_first());
	ut_done(&app);
}

static void
test_create_invalid(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev;

	(void)state;
	ut_create(true, "Malloc0", 8, 512);
	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	assert_int_equal(opts.block_size, 512);
	opts.name = "Malloc0";
	opts.num_blocks = 8;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EEXIST);
	assert_int_equal(nvt_bdev_null_create(&opts, &bdev), -EEXIST);
	opts.name = "Bad";
	opts.block_size = 1000;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EINVAL);
	opts.block_size = 8192;
	assert_int_equal(nvt_bdev_null_create(&opts, &bdev), -EINVAL);
	opts.block_size = 512;
	opts.num_blocks = 0;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EINVAL);
	opts.num_blocks = UINT64_MAX / 256;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EINVAL);
	opts.num_blocks = 8;
	opts.name = "a-name-that-is-far-too-long-for-a-bdev-name-field-of-sixty-four-bytes";
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EINVAL);
	opts.name = NULL;
	assert_int_equal(nvt_bdev_null_create(&opts, &bdev), -EINVAL);
	opts.name = "Bad";
	nvt_set_thread(NULL);
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EINVAL);
	nvt_set_thread(app);
	assert_null(nvt_bdev_get_by_name("Bad"));
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/* A given UUID is kept, found as a name (either case), and cannot be given twice. */
static void
test_given_uuid(void **state)
{
	static const uint8_t given[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
					   0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21 };
	struct nvt_thread *app = ut_thread("app");
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev;

	(void)state;
	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	opts.name = "Malloc1";
	opts.num_blocks = 8;
	opts.uuid = given;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), 0);
	assert_memory_equal(nvt_bdev_get_uuid(bdev), given, 16);
	assert_ptr_equal(nvt_bdev_get_by_name("12345678-9ABC-def0-0fed-cba987654321"), bdev);
	opts.name = "Null1";
	assert_int_equal(nvt_bdev_null_create(&opts, &bdev), -EEXIST);
	opts.name = "Malloc2";
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), -EEXIST);
	/* The refused disks are freed once their io-device is: poll for that. */
	ut_poll(app, 5);
	assert_null(nvt_bdev_get_by_name("Null1"));
	ut_delete(app, "Malloc1");
	ut_done(&app);
}

static void
test_open_close(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct nvt_bdev_desc *desc, *desc2;
	struct nvt_bdev *bdev = ut_create(false, "Null0", 8, 512);

	(void)state;
	assert_int_equal(nvt_bdev_open("Nope", false, NULL, NULL, &desc), -ENODEV);
	assert_int_equal(nvt_bdev_open("Null0", true, NULL, NULL, &desc), 0);
	assert_int_equal(nvt_bdev_open("Null0", false, NULL, NULL, &desc2), 0);
	assert_ptr_equal(nvt_bdev_desc_get_bdev(desc), bdev);
	nvt_bdev_close(desc);
	nvt_bdev_close(desc2);
	nvt_set_thread(NULL);
	assert_int_equal(nvt_bdev_open("Null0", false, NULL, NULL, &desc), -EINVAL);
	nvt_set_thread(app);
	ut_delete(app, "Null0");
	ut_done(&app);
}

/* An open bdev with a channel on the current thread. */
struct ut_dev {
	struct nvt_bdev_desc *desc;
	struct nvt_io_channel *ch;
};

static void
ut_dev_open(struct ut_dev *dev, const char *name, bool write)
{
	assert_int_equal(nvt_bdev_open(name, write, NULL, NULL, &dev->desc), 0);
	dev->ch = nvt_bdev_get_io_channel(dev->desc);
	assert_non_null(dev->ch);
}

static void
ut_dev_close(struct ut_dev *dev)
{
	nvt_put_io_channel(dev->ch);
	nvt_bdev_close(dev->desc);
}

/* Submit through \p fn-like calls with the flag set, then poll and return the status. */
#define UT_SUBMIT(thread, io, call)               \
	({                                        \
		int rc_;                          \
		(io)->calls = 0;                  \
		g_in_submit = true;               \
		rc_ = (call);                     \
		g_in_submit = false;              \
		assert_int_equal((io)->calls, 0); \
		ut_poll(thread, 2);               \
		rc_;                              \
	})

static void
fill(uint8_t *buf, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		buf[i] = (uint8_t)(seed + i * 7);
	}
}

static bool
is_zero(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != 0) {
			return false;
		}
	}
	return true;
}

/* Scattered buffers: blocks 10..13 of a malloc disk, split at odd places. */
struct ut_bufs {
	uint8_t wbuf[4 * 512];
	uint8_t rbuf[4 * 512];
	struct iovec wiov[2];
	struct iovec riov[3];
};

static void
ut_bufs_init(struct ut_bufs *b)
{
	b->wiov[0] = (struct iovec){ b->wbuf, 1124 };
	b->wiov[1] = (struct iovec){ b->wbuf + 1124, sizeof(b->wbuf) - 1124 };
	b->riov[0] = (struct iovec){ b->rbuf, 512 };
	b->riov[1] = (struct iovec){ b->rbuf + 512, 3 };
	b->riov[2] = (struct iovec){ b->rbuf + 515, sizeof(b->rbuf) - 515 };
	fill(b->wbuf, sizeof(b->wbuf), 3);
	memset(b->rbuf, 0xaa, sizeof(b->rbuf));
}

static int
ut_read4(struct nvt_thread *thread, struct ut_dev *dev, struct ut_bufs *b, struct ut_io *io)
{
	memset(b->rbuf, 0xaa, sizeof(b->rbuf));
	return UT_SUBMIT(
		thread, io,
		nvt_bdev_readv_blocks(dev->desc, dev->ch, b->riov, 3, 10, 4, ut_io_done, io));
}

static int
ut_write4(struct nvt_thread *thread, struct ut_dev *dev, struct ut_bufs *b, struct ut_io *io)
{
	return UT_SUBMIT(
		thread, io,
		nvt_bdev_writev_blocks(dev->desc, dev->ch, b->wiov, 2, 10, 4, ut_io_done, io));
}

static void
test_malloc_io(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct ut_io io = { 0 };
	struct ut_bufs b;
	struct ut_dev dev;

	(void)state;
	ut_bufs_init(&b);
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", true);
	/* A new disk reads zeroes. */
	assert_int_equal(ut_read4(app, &dev, &b, &io), 0);
	assert_int_equal(io.calls, 1);
	assert_int_equal(io.status, 0);
	assert_true(is_zero(b.rbuf, sizeof(b.rbuf)));

	/* Scattered write, scattered read: the same bytes, in the right blocks. */
	assert_int_equal(ut_write4(app, &dev, &b, &io), 0);
	assert_int_equal(io.status, 0);
	assert_int_equal(ut_read4(app, &dev, &b, &io), 0);
	assert_memory_equal(b.rbuf, b.wbuf, sizeof(b.wbuf));
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_readv_blocks(dev.desc, dev.ch, b.riov, 1, 11, 1,
							 ut_io_done, &io)),
			 0);
	assert_memory_equal(b.rbuf, b.wbuf + 512, 512);

	/* Compare: equal, then one byte off. */
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_comparev_blocks(dev.desc, dev.ch, b.wiov, 2, 10, 4,
							    ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, 0);
	b.wbuf[2000] ^= 1;
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_comparev_blocks(dev.desc, dev.ch, b.wiov, 2, 10, 4,
							    ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, -EILSEQ);
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/* Zeroing many pages gives whole pages back; the partial pages around them keep their data. */
static void
test_malloc_zeroes_pages(void **state)
{
	static uint8_t wbuf[BLOCKS * 512], rbuf[BLOCKS * 512];
	struct nvt_thread *app = ut_thread("app");
	struct iovec wiov = { wbuf, sizeof(wbuf) }, riov = { rbuf, sizeof(rbuf) };
	struct ut_io io = { 0 };
	struct ut_dev dev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(wbuf); i++) {
		wbuf[i] = (uint8_t)(i % 251 + 1);
	}
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", true);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_writev_blocks(dev.desc, dev.ch, &wiov, 1, 0, BLOCKS,
							  ut_io_done, &io)),
			 0);
	/* Blocks 3-38: bytes 1536-19967: pages 4096-16383 whole, partial pages on each side. */
	assert_int_equal(
		UT_SUBMIT(app, &io,
			  nvt_bdev_write_zeroes_blocks(dev.desc, dev.ch, 3, 36, ut_io_done, &io)),
		0);
	assert_int_equal(io.status, 0);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_readv_blocks(dev.desc, dev.ch, &riov, 1, 0, BLOCKS,
							 ut_io_done, &io)),
			 0);
	assert_memory_equal(rbuf, wbuf, 3 * 512);
	assert_true(is_zero(rbuf + 3 * 512, 36 * 512));
	assert_memory_equal(rbuf + 39 * 512, wbuf + 39 * 512, (BLOCKS - 39) * 512);
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/* Write zeroes and unmap clear exactly their blocks; flush has nothing to do. */
static void
test_malloc_zeroes(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct ut_io io = { 0 };
	struct ut_bufs b;
	struct ut_dev dev;

	(void)state;
	ut_bufs_init(&b);
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", true);
	assert_int_equal(ut_write4(app, &dev, &b, &io), 0);
	assert_int_equal(
		UT_SUBMIT(app, &io,
			  nvt_bdev_write_zeroes_blocks(dev.desc, dev.ch, 10, 1, ut_io_done, &io)),
		0);
	assert_int_equal(io.status, 0);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_unmap_blocks(dev.desc, dev.ch, 12, 2, ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, 0);
	assert_int_equal(ut_read4(app, &dev, &b, &io), 0);
	assert_true(is_zero(b.rbuf, 512));
	assert_memory_equal(b.rbuf + 512, b.wbuf + 512, 512);
	assert_true(is_zero(b.rbuf + 1024, 1024));
	assert_int_equal(
		UT_SUBMIT(app, &io,
			  nvt_bdev_flush_blocks(dev.desc, dev.ch, 0, BLOCKS, ut_io_done, &io)),
		0);
	assert_int_equal(io.calls, 1);
	assert_int_equal(io.status, 0);
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/* A read-only descriptor may read but not change the data. */
static void
test_read_only_desc(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct ut_io io = { 0 };
	struct ut_bufs b;
	struct ut_dev ro;

	(void)state;
	ut_bufs_init(&b);
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&ro, "Malloc0", false);
	assert_int_equal(nvt_bdev_writev_blocks(ro.desc, ro.ch, b.wiov, 2, 0, 4, ut_io_done, &io),
			 -EBADF);
	assert_int_equal(nvt_bdev_write_zeroes_blocks(ro.desc, ro.ch, 0, 1, ut_io_done, &io),
			 -EBADF);
	assert_int_equal(nvt_bdev_unmap_blocks(ro.desc, ro.ch, 0, 1, ut_io_done, &io), -EBADF);
	assert_int_equal(ut_read4(app, &ro, &b, &io), 0);
	assert_int_equal(io.calls, 1);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_comparev_blocks(ro.desc, ro.ch, b.riov, 3, 10, 4,
							    ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, 0);
	ut_dev_close(&ro);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

static void
test_null_io(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	uint8_t buf[2 * 4096];
	struct iovec iov[2] = { { buf, 5000 }, { buf + 5000, sizeof(buf) - 5000 } };
	struct ut_io io = { 0 };
	struct ut_dev dev;

	(void)state;
	ut_create(false, "Null0", 1 << 20, 4096);
	ut_dev_open(&dev, "Null0", true);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_writev_blocks(dev.desc, dev.ch, iov, 2, 100, 2,
							  ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, 0);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_comparev_blocks(dev.desc, dev.ch, iov, 2, 100, 2,
							    ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, -EILSEQ);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_readv_blocks(dev.desc, dev.ch, iov, 2, (1 << 20) - 2, 2,
							 ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, 0);
	assert_true(is_zero(buf, sizeof(buf)));
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_comparev_blocks(dev.desc, dev.ch, iov, 2, 7, 2,
							    ut_io_done, &io)),
			 0);
	assert_int_equal(io.status, 0);
	assert_int_equal(UT_SUBMIT(app, &io,
				   nvt_bdev_write_zeroes_blocks(dev.desc, dev.ch, 0, 1 << 20,
								ut_io_done, &io)),
			 0);
	assert_int_equal(
		UT_SUBMIT(app, &io, nvt_bdev_unmap_blocks(dev.desc, dev.ch, 5, 5, ut_io_done, &io)),
		0);
	assert_int_equal(
		UT_SUBMIT(app, &io, nvt_bdev_flush_blocks(dev.desc, dev.ch, 0, 0, ut_io_done, &io)),
		0);
	assert_int_equal(io.status, 0);
	ut_dev_close(&dev);
	ut_delete(app, "Null0");
	ut_done(&app);
}

/* Refused submissions return an error and never call back. */
static void
test_out_of_range(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	uint8_t buf[4096];
	struct iovec iov = { buf, sizeof(buf) }, short_iov = { buf, 1000 };
	struct ut_io io = { 0 };
	struct ut_dev dev, other;

	(void)state;
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_create(false, "Null0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", true);
	ut_dev_open(&other, "Null0", true);
	assert_int_equal(
		nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, BLOCKS - 1, 2, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(
		nvt_bdev_writev_blocks(dev.desc, dev.ch, &iov, 1, BLOCKS, 1, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(
		nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, UINT64_MAX, 2, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(
		nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, 2, UINT64_MAX, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, 0, 0, ut_io_done, &io),
			 -EINVAL);
	assert_int_equal(nvt_bdev_write_zeroes_blocks(dev.desc, dev.ch, 1, BLOCKS, ut_io_done, &io),
			 -EINVAL);
	assert_int_equal(nvt_bdev_unmap_blocks(dev.desc, dev.ch, BLOCKS, 1, ut_io_done, &io),
			 -EINVAL);
	assert_int_equal(nvt_bdev_flush_blocks(dev.desc, dev.ch, 0, BLOCKS + 1, ut_io_done, &io),
			 -EINVAL);
	/* Buffers shorter than the blocks, and a channel of another bdev. */
	assert_int_equal(
		nvt_bdev_readv_blocks(dev.desc, dev.ch, &short_iov, 1, 0, 2, ut_io_done, &io),
		-EINVAL);
	assert_int_equal(nvt_bdev_writev_blocks(dev.desc, dev.ch, NULL, 0, 0, 1, ut_io_done, &io),
			 -EINVAL);
	assert_int_equal(nvt_bdev_readv_blocks(dev.desc, other.ch, &iov, 1, 0, 1, ut_io_done, &io),
			 -EINVAL);
	ut_poll(app, 5);
	assert_int_equal(io.calls, 0);
	ut_dev_close(&other);
	ut_dev_close(&dev);
	ut_delete(app, "Null0");
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/* Completions of a synchronous module wait for the thread and come in one message. */
static void
test_async_contract(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct ut_io io[10] = { 0 };
	struct ut_dev dev;
	int i;

	(void)state;
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", true);
	g_in_submit = true;
	for (i = 0; i < 10; i++) {
		assert_int_equal(
			nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, i, 1, ut_io_done, &io[i]),
			0);
	}
	g_in_submit = false;
	for (i = 0; i < 10; i++) {
		assert_int_equal(io[i].calls, 0);
	}
	/* One message, so one message's worth of polling calls all ten back. */
	nvt_thread_poll(app, 1, 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(io[i].calls, 1);
	}
	ut_poll(app, 3);
	for (i = 0; i < 10; i++) {
		assert_int_equal(io[i].calls, 1);
	}
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/* Each thread gets its own channel; completions come back on the submitting thread. */
static void
test_channels_per_thread(void **state)
{
	struct nvt_thread *t1 = ut_thread("t1"), *t2 = ut_thread("t2");
	uint8_t buf1[512], buf2[512];
	struct iovec iov1 = { buf1, 512 }, iov2 = { buf2, 512 };
	struct nvt_io_channel *ch1, *ch1b, *ch2;
	struct ut_io io1 = { 0 }, io2 = { 0 };
	struct nvt_bdev_desc *desc;

	(void)state;
	nvt_set_thread(t1);
	ut_create(true, "Malloc0", BLOCKS, 512);
	assert_int_equal(nvt_bdev_open("Malloc0", true, NULL, NULL, &desc), 0);
	ch1 = nvt_bdev_get_io_channel(desc);
	ch1b = nvt_bdev_get_io_channel(desc);
	assert_ptr_equal(ch1, ch1b);
	nvt_put_io_channel(ch1b);
	nvt_set_thread(t2);
	ch2 = nvt_bdev_get_io_channel(desc);
	assert_ptr_not_equal(ch1, ch2);
	assert_ptr_equal(nvt_io_channel_get_thread(ch2), t2);

	memset(buf1, 1, sizeof(buf1));
	assert_int_equal(nvt_bdev_writev_blocks(desc, ch2, &iov1, 1, 5, 1, ut_io_done, &io2), 0);
	nvt_set_thread(t1);
	assert_int_equal(nvt_bdev_readv_blocks(desc, ch1, &iov2, 1, 5, 1, ut_io_done, &io1), 0);
	ut_poll(t1, 3);
	assert_int_equal(io1.calls, 1);
	assert_int_equal(io2.calls, 0);
	ut_poll(t2, 3);
	assert_int_equal(io2.calls, 1);
	/* Synchronous module: the write was done before the read was submitted. */
	assert_memory_equal(buf1, buf2, 512);

	nvt_set_thread(t2);
	nvt_put_io_channel(ch2);
	ut_poll(t2, 3);
	assert_int_equal(nvt_thread_get_channel_count(t2), 0);
	nvt_set_thread(t1);
	nvt_put_io_channel(ch1);
	nvt_bdev_close(desc);
	ut_delete(t1, "Malloc0");
	ut_done(&t1);
	ut_done(&t2);
}

/*
 * Deleting an open bdev tells every opener on its own thread, and finishes
 * only once every descriptor is closed and every channel released.
 */
static void
test_remove_event(void **state)
{
	struct nvt_thread *app = ut_thread("app"), *t2 = ut_thread("t2");
	struct ut_events ev1 = { 0 }, ev2 = { 0 };
	struct nvt_bdev_desc *d1, *d2;
	struct nvt_io_channel *ch;
	struct ut_delete del = { 0 };

	(void)state;
	nvt_set_thread(app);
	ut_create(false, "Null0", BLOCKS, 512);
	assert_int_equal(nvt_bdev_open("Null0", true, ut_event, &ev1, &d1), 0);
	ev1.close_on_remove = d1;
	nvt_set_thread(t2);
	assert_int_equal(nvt_bdev_open("Null0", false, ut_event, &ev2, &d2), 0);
	ch = nvt_bdev_get_io_channel(d2);

	nvt_set_thread(app);
	assert_int_equal(nvt_bdev_delete("Null0", ut_delete_done, &del), 0);
	assert_int_equal(ev1.removes + ev2.removes, 0);
	/* Being deleted: no longer found, no longer opened. */
	assert_null(nvt_bdev_get_by_name("Null0"));
	assert_int_equal(nvt_bdev_open("Null0", false, NULL, NULL, &d1), -ENODEV);
	assert_int_equal(nvt_bdev_delete("Null0", ut_delete_done, &del), -ENODEV);
	ut_poll(app, 3);
	assert_int_equal(ev1.removes, 1);
	assert_int_equal(ev2.removes, 0);
	ut_poll(t2, 3);
	assert_int_equal(ev2.removes, 1);
	ut_poll(app, 3);
	assert_int_equal(del.calls, 0);

	nvt_set_thread(t2);
	nvt_bdev_close(d2);
	ut_poll(app, 3);
	/* The channel still holds the bdev. */
	assert_int_equal(del.calls, 0);
	nvt_set_thread(t2);
	nvt_put_io_channel(ch);
	ut_poll(t2, 3);
	ut_poll(app, 3);
	assert_int_equal(del.calls, 1);
	assert_int_equal(del.status, 0);
	assert_int_equal(ev1.removes + ev2.removes, 2);
	ut_done(&app);
	ut_done(&t2);
}

/* After warm-up, I/O reuses its bdev_io objects: the channel allocates no more. */
static void
test_bdev_io_reuse(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct ut_io io[8] = { 0 };
	struct ut_dev dev;
	uint32_t warm = 0;
	int round, i;

	(void)state;
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", true);
	for (round = 0; round < 200; round++) {
		for (i = 0; i < 8; i++) {
			assert_int_equal(nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, i, 1,
							       ut_io_done, &io[i]),
					 0);
		}
		ut_poll(app, 1);
		if (round == 0) {
			warm = bdev_channel_io_count(dev.ch);
		}
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(io[i].calls, 200);
	}
	assert_int_equal(warm, 8);
	assert_int_equal(bdev_channel_io_count(dev.ch), warm);
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

struct ut_resubmit {
	struct ut_dev *dev;
	struct iovec iov;
	int left;
};

/* Each completion submits the next I/O: a chain, never inside its own submit. */
static void
ut_resubmit_done(void *cb_arg, int status)
{
	struct ut_resubmit *r = cb_arg;

	assert_false(g_in_submit);
	assert_int_equal(status, 0);
	if (--r->left > 0) {
		g_in_submit = true;
		assert_int_equal(nvt_bdev_readv_blocks(r->dev->desc, r->dev->ch, &r->iov, 1, 0, 1,
						       ut_resubmit_done, r),
				 0);
		g_in_submit = false;
	}
}

static void
test_resubmit_from_callback(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	uint8_t buf[512];
	struct ut_dev dev;
	struct ut_resubmit r = { &dev, { buf, sizeof(buf) }, 50 };

	(void)state;
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", false);
	assert_int_equal(
		nvt_bdev_readv_blocks(dev.desc, dev.ch, &r.iov, 1, 0, 1, ut_resubmit_done, &r), 0);
	ut_poll(app, 60);
	assert_int_equal(r.left, 0);
	assert_int_equal(bdev_channel_io_count(dev.ch), 1);
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

/*
 * The program links with --wrap=nvt_thread_send_msg: while g_send_refused is
 * set, sends fail as when no memory is left for a message (the names are the
 * linker's).
 */
int __real_nvt_thread_send_msg(const struct nvt_thread *thread, nvt_msg_fn fn, void *ctx);
int __wrap_nvt_thread_send_msg(const struct nvt_thread *thread, nvt_msg_fn fn, void *ctx);
static bool g_send_refused;
static int g_send_refusals;

int
__wrap_nvt_thread_send_msg(const struct nvt_thread *thread, nvt_msg_fn fn, void *ctx)
{
	if (g_send_refused) {
		g_send_refusals++;
		return -ENOMEM;
	}
	return __real_nvt_thread_send_msg(thread, fn, ctx);
}

/* With no memory for a message, completions still arrive through a timed poller. */
static void
test_completion_fallback(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct ut_io io[3] = { 0 };
	struct ut_dev dev;
	int i;

	(void)state;
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_dev_open(&dev, "Malloc0", false);
	g_send_refused = true;
	for (i = 0; i < 3; i++) {
		assert_int_equal(
			nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, i, 1, ut_io_done, &io[i]),
			0);
	}
	g_send_refused = false;
	/* Only the first completion asks for a message. */
	assert_int_equal(g_send_refusals, 1);
	/* One poll far enough in the future for the fallback poller to be due. */
	nvt_thread_poll(app, 1, nvt_get_ticks() + nvt_us_to_ticks(1000));
	for (i = 0; i < 3; i++) {
		assert_int_equal(io[i].calls, 1);
	}
	ut_poll(app, 2);
	/* The next completion goes through a message again. */
	assert_int_equal(nvt_bdev_readv_blocks(dev.desc, dev.ch, &iov, 1, 0, 1, ut_io_done, &io[0]),
			 0);
	nvt_thread_poll(app, 1, 0);
	assert_int_equal(io[0].calls, 2);
	ut_dev_close(&dev);
	ut_delete(app, "Malloc0");
	ut_done(&app);
}

static void
test_fini(void **state)
{
	struct nvt_thread *app = ut_thread("app");
	struct ut_events ev = { 0 };
	struct ut_delete fini = { 0 };
	struct nvt_bdev_desc *desc;

	(void)state;
	ut_create(true, "Malloc0", BLOCKS, 512);
	ut_create(false, "Null0", BLOCKS, 512);
	ut_create(true, "Malloc1", BLOCKS, 512);
	assert_int_equal(nvt_bdev_open("Malloc1", true, ut_event, &ev, &desc), 0);
	ev.close_on_remove = desc;
	nvt_bdev_fini(ut_delete_done, &fini);
	assert_int_equal(fini.calls, 0);
	ut_poll(app, 10);
	assert_int_equal(ev.removes, 1);
	assert_int_equal(fini.calls, 1);
	assert_null(nvt_bdev_first());

	/* Nothing to delete: still answered later, not inside the call. */
	fini.calls = 0;
	nvt_bdev_fini(ut_delete_done, &fini);
	assert_int_equal(fini.calls, 0);
	ut_poll(app, 2);
	assert_int_equal(fini.calls, 1);
	ut_done(&app);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_lookup_delete, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_create_invalid, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_given_uuid, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_open_close, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_malloc_io, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_malloc_zeroes, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_malloc_zeroes_pages, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_read_only_desc, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_null_io, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_async_contract, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_channels_per_thread, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_remove_event, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_bdev_io_reuse, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_resubmit_from_callback, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_completion_fallback, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_fini, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
