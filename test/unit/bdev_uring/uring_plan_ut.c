/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the uring module's plan (uring_plan.c, compiled in): which
 * io_uring operation each bdev I/O becomes on a file and on a block device,
 * when O_DIRECT is chosen, how a transfer goes on past its first bytes
 * (uring_iov_advance) and what each kernel errno means to the bdev layer.
 * Pure functions: no ring, no file, no thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <cmocka.h>

#include "../../../module/bdev/uring/uring_plan.c"

#define BUF_SIZE (2u * 1024 * 1024)
/* More iovecs than the engine passes in one operation. */
#define MANY_IOVS (URING_MAX_IOVS + 10)

static uint8_t g_buf[BUF_SIZE] __attribute__((aligned(4096)));

struct ut_io {
	struct nvt_bdev_io io;
	struct iovec iov[MANY_IOVS];
};

/* A disk as bdev_uring.c leaves it after a successful probe; fds are never used. */
static void
disk_init(struct uring_disk *disk, enum uring_backing backing, uint32_t blocklen,
	  uint32_t mem_align, uint32_t offset_align)
{
	memset(disk, 0, sizeof(*disk));
	disk->backing = backing;
	disk->fd = 3;
	disk->fd_direct = 4;
	disk->dio_mem_align = mem_align;
	disk->dio_offset_align = offset_align;
	disk->bdev.blocklen = blocklen;
	disk->bdev.blockcnt = 1ull << 40;
	disk->bdev.unmap_zeroes = backing == URING_BACKING_FILE;
}

static void
file_disk(struct uring_disk *disk)
{
	disk_init(disk, URING_BACKING_FILE, 512, 512, 512);
}

static void
blockdev_disk(struct uring_disk *disk)
{
	disk_init(disk, URING_BACKING_BLOCKDEV, 4096, 4096, 4096);
}

/* An I/O of \p type over \p num blocks at \p offset, its data in one iovec of g_buf. */
static struct nvt_bdev_io *
io_init(struct ut_io *u, struct uring_disk *disk, enum nvt_bdev_io_type type, uint64_t offset,
	uint64_t num, uint32_t flags)
{
	bool data = type == NVT_BDEV_IO_TYPE_READ || type == NVT_BDEV_IO_TYPE_WRITE ||
		    type == NVT_BDEV_IO_TYPE_COMPARE;

	memset(u, 0, sizeof(*u));
	u->io.bdev = &disk->bdev;
	u->io.type = type;
	u->io.offset_blocks = offset;
	u->io.num_blocks = num;
	u->io.flags = flags;
	if (data) {
		u->iov[0].iov_base = g_buf;
		u->iov[0].iov_len = num * disk->bdev.blocklen;
		u->io.iovs = u->iov;
		u->io.iovcnt = 1;
	}
	return &u->io;
}

/* The plan of one I/O, after filling the result with garbage the plan must overwrite. */
static struct uring_op
plan(struct uring_disk *disk, struct ut_io *u, enum nvt_bdev_io_type type, uint64_t offset,
     uint64_t num, uint32_t flags)
{
	struct nvt_bdev_io *io = io_init(u, disk, type, offset, num, flags);
	struct uring_op op;

	memset(&op, 0xa5, sizeof(op));
	uring_plan(disk, io, &op);
	return op;
}

/* The plan of \p u as it is (iovecs set by the caller). */
static struct uring_op
plan_io(struct uring_disk *disk, struct ut_io *u)
{
	struct uring_op op;

	memset(&op, 0xa5, sizeof(op));
	uring_plan(disk, &u->io, &op);
	return op;
}

static void
assert_rw(const struct uring_op *op, enum uring_op_kind kind, uint64_t offset, uint64_t len,
	  int rw_flags, bool direct)
{
	assert_int_equal(op->kind, kind);
	assert_int_equal(op->offset, offset);
	assert_int_equal(op->len, len);
	assert_int_equal(op->rw_flags, rw_flags);
	assert_int_equal(op->direct, direct);
	assert_false(op->zero_fill);
	assert_int_equal(op->fallocate_mode, 0);
}

static void
assert_fallocate(const struct uring_op *op, int mode, uint64_t offset, uint64_t len)
{
	assert_int_equal(op->kind, URING_OP_FALLOCATE);
	assert_int_equal(op->fallocate_mode, mode);
	assert_int_equal(op->offset, offset);
	assert_int_equal(op->len, len);
	assert_int_equal(op->rw_flags, 0);
	assert_false(op->zero_fill);
	assert_false(op->direct);
}

static void
assert_zero_fill(const struct uring_op *op, uint64_t offset, uint64_t len, bool direct)
{
	assert_int_equal(op->kind, URING_OP_WRITEV);
	assert_true(op->zero_fill);
	assert_int_equal(op->offset, offset);
	assert_int_equal(op->len, len);
	assert_int_equal(op->rw_flags, 0);
	assert_int_equal(op->fallocate_mode, 0);
	assert_int_equal(op->direct, direct);
}

/* ---- uring_plan: each I/O type ---- */

static void
test_read_write_file(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	file_disk(&disk);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_READ, 7, 8, 0);
	assert_rw(&op, URING_OP_READV, 7 * 512, 4096, 0, true);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 7, 8, 0);
	assert_rw(&op, URING_OP_WRITEV, 7 * 512, 4096, 0, true);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 1, 1, NVT_BDEV_IO_FLAG_FUA);
	assert_rw(&op, URING_OP_WRITEV, 512, 512, RWF_DSYNC, true);
	/* FUA means nothing to a read. */
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_READ, 1, 1, NVT_BDEV_IO_FLAG_FUA);
	assert_rw(&op, URING_OP_READV, 512, 512, 0, true);
}

static void
test_read_write_blockdev(void **state)
{
	uint64_t far = 1ull << 33; /* 32 TiB into the device: past 32-bit byte offsets */
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	blockdev_disk(&disk);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_READ, far, 256, 0);
	assert_rw(&op, URING_OP_READV, far * 4096, 1024 * 1024, 0, true);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, far, 256, 0);
	assert_rw(&op, URING_OP_WRITEV, far * 4096, 1024 * 1024, 0, true);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 3, 2, NVT_BDEV_IO_FLAG_FUA);
	assert_rw(&op, URING_OP_WRITEV, 3 * 4096, 8192, RWF_DSYNC, true);
}

/*
 * The plans of \p type over blocks 9..41 of a file disk ([0], 512-byte
 * blocks) and of a block-device disk ([1], 4096-byte blocks), each lacking
 * what \p no_punch and \p no_zero_range say.
 */
static void
plan_both(enum nvt_bdev_io_type type, bool no_punch, bool no_zero_range, struct uring_op op[2])
{
	struct uring_disk disk;
	struct ut_io u;

	file_disk(&disk);
	disk.no_punch = no_punch;
	disk.no_zero_range = no_zero_range;
	op[0] = plan(&disk, &u, type, 9, 33, 0);
	blockdev_disk(&disk);
	disk.no_punch = no_punch;
	disk.no_zero_range = no_zero_range;
	op[1] = plan(&disk, &u, type, 9, 33, 0);
}

static void
test_flush(void **state)
{
	struct uring_op op[2];
	int i;

	(void)state;
	/* lib/nvmf flushes the namespace's whole range: still one data sync. */
	plan_both(NVT_BDEV_IO_TYPE_FLUSH, false, false, op);
	for (i = 0; i < 2; i++) {
		assert_int_equal(op[i].kind, URING_OP_FSYNC);
		assert_int_equal(op[i].offset, 0);
		assert_int_equal(op[i].len, 0);
		assert_int_equal(op[i].rw_flags, 0);
		assert_false(op[i].direct);
		assert_false(op[i].zero_fill);
	}
}

/* plan_both() gives one fallocate of \p mode over blocks 9..41 on both disks. */
static void
assert_fallocate_both(enum nvt_bdev_io_type type, bool no_punch, bool no_zero_range, int mode)
{
	struct uring_op op[2];

	plan_both(type, no_punch, no_zero_range, op);
	assert_fallocate(&op[0], mode, 9 * 512, 33 * 512);
	assert_fallocate(&op[1], mode, 9 * 4096, 33 * 4096);
}

static void
test_write_zeroes(void **state)
{
	(void)state;
	assert_fallocate_both(NVT_BDEV_IO_TYPE_WRITE_ZEROES, false, false,
			      FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
	/* Lacking holes changes nothing for write zeroes. */
	assert_fallocate_both(NVT_BDEV_IO_TYPE_WRITE_ZEROES, true, false,
			      FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
}

/* Without zero ranges (or created without fallocate) zeroes are written from memory. */
static void
test_write_zeroes_no_zero_range(void **state)
{
	struct uring_op op[2];

	(void)state;
	plan_both(NVT_BDEV_IO_TYPE_WRITE_ZEROES, false, true, op);
	assert_zero_fill(&op[0], 9 * 512, 33 * 512, true);
	assert_zero_fill(&op[1], 9 * 4096, 33 * 4096, true);
}

/* The zeroes are written through O_DIRECT only where the range is aligned. */
static void
test_zero_fill_direct(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	disk_init(&disk, URING_BACKING_FILE, 512, 4096, 4096);
	disk.no_zero_range = true;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE_ZEROES, 8, 16, 0);
	assert_zero_fill(&op, 4096, 8192, true);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE_ZEROES, 1, 8, 0);
	assert_zero_fill(&op, 512, 4096, false);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE_ZEROES, 8, 9, 0);
	assert_zero_fill(&op, 4096, 9 * 512, false);
	disk.fd_direct = -1;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE_ZEROES, 8, 16, 0);
	assert_zero_fill(&op, 4096, 8192, false);
	disk.fd_direct = 4;
	disk.direct_off = true;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE_ZEROES, 8, 16, 0);
	assert_zero_fill(&op, 4096, 8192, false);
	disk.direct_off = false;
	disk.dio_offset_align = 0;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE_ZEROES, 8, 16, 0);
	assert_zero_fill(&op, 4096, 8192, false);
}

static void
test_unmap(void **state)
{
	(void)state;
	assert_fallocate_both(NVT_BDEV_IO_TYPE_UNMAP, false, false,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	/* Lacking zero ranges changes nothing for unmap. */
	assert_fallocate_both(NVT_BDEV_IO_TYPE_UNMAP, false, true,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
}

/*
 * Without holes: a file promised zeroes after deallocate gets them another
 * way; a block device promised nothing (deallocate is a hint): nothing is done.
 */
static void
test_unmap_no_punch(void **state)
{
	struct uring_op op[2];

	(void)state;
	plan_both(NVT_BDEV_IO_TYPE_UNMAP, true, false, op);
	assert_fallocate(&op[0], FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 9 * 512, 33 * 512);
	assert_int_equal(op[1].kind, URING_OP_NONE);
	plan_both(NVT_BDEV_IO_TYPE_UNMAP, true, true, op);
	assert_zero_fill(&op[0], 9 * 512, 33 * 512, true);
	assert_int_equal(op[1].kind, URING_OP_NONE);
}

/* A file created without fallocate (aio's default) does not promise zeroes: no unmap either. */
static void
test_unmap_file_no_zeroes(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	file_disk(&disk);
	disk.bdev.unmap_zeroes = false;
	disk.no_punch = true;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_UNMAP, 9, 33, 0);
	assert_int_equal(op.kind, URING_OP_NONE);
}

static void
test_compare_not_offered(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	file_disk(&disk);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_COMPARE, 0, 1, 0);
	assert_int_equal(op.kind, URING_OP_NONE);
}

/* ---- direct or buffered ---- */

static void
test_direct_aligned(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	disk_init(&disk, URING_BACKING_FILE, 512, 512, 4096);
	io_init(&u, &disk, NVT_BDEV_IO_TYPE_WRITE, 8, 24, 0);
	/* Three iovecs, each of a multiple of the offset alignment; memory 512-aligned. */
	u.iov[0] = (struct iovec){ .iov_base = g_buf + 512, .iov_len = 4096 };
	u.iov[1] = (struct iovec){ .iov_base = g_buf + 16384, .iov_len = 4096 };
	u.iov[2] = (struct iovec){ .iov_base = g_buf + 65536 + 1536, .iov_len = 4096 };
	u.io.iovcnt = 3;
	op = plan_io(&disk, &u);
	assert_rw(&op, URING_OP_WRITEV, 4096, 12288, 0, true);
	/* A list longer than the I/O: only its first bytes count. */
	u.iov[3] = (struct iovec){ .iov_base = g_buf + 1, .iov_len = 3 };
	u.io.iovcnt = 4;
	op = plan_io(&disk, &u);
	assert_true(op.direct);
}

static void
test_direct_misaligned(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	disk_init(&disk, URING_BACKING_FILE, 512, 512, 4096);
	/* Memory off by a byte. */
	io_init(&u, &disk, NVT_BDEV_IO_TYPE_READ, 8, 8, 0);
	u.iov[0].iov_base = g_buf + 1;
	op = plan_io(&disk, &u);
	assert_rw(&op, URING_OP_READV, 4096, 4096, 0, false);
	/* Memory aligned to 512 but the segments are not whole units of 4096. */
	io_init(&u, &disk, NVT_BDEV_IO_TYPE_READ, 8, 8, 0);
	u.iov[0] = (struct iovec){ .iov_base = g_buf, .iov_len = 1024 };
	u.iov[1] = (struct iovec){ .iov_base = g_buf + 8192, .iov_len = 3072 };
	u.io.iovcnt = 2;
	op = plan_io(&disk, &u);
	assert_false(op.direct);
	/* A 512-byte block at an offset O_DIRECT cannot take. */
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_READ, 9, 8, 0);
	assert_rw(&op, URING_OP_READV, 9 * 512, 4096, 0, false);
	/* Aligned offset, length not a multiple of the alignment. */
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 8, 1, 0);
	assert_rw(&op, URING_OP_WRITEV, 4096, 512, 0, false);
	/* With a 512-byte alignment the same block goes direct. */
	disk.dio_offset_align = 512;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 9, 1, 0);
	assert_rw(&op, URING_OP_WRITEV, 9 * 512, 512, 0, true);
}

static void
test_direct_unavailable(void **state)
{
	struct uring_disk disk;
	struct ut_io u;
	struct uring_op op;

	(void)state;
	file_disk(&disk);
	disk.fd_direct = -1;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 8, 8, 0);
	assert_rw(&op, URING_OP_WRITEV, 4096, 4096, 0, false);
	disk.fd_direct = 4;
	disk.direct_off = true;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_WRITE, 8, 8, NVT_BDEV_IO_FLAG_FUA);
	assert_rw(&op, URING_OP_WRITEV, 4096, 4096, RWF_DSYNC, false);
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_READ, 8, 8, 0);
	assert_rw(&op, URING_OP_READV, 4096, 4096, 0, false);
	disk.direct_off = false;
	disk.dio_mem_align = 0;
	op = plan(&disk, &u, NVT_BDEV_IO_TYPE_READ, 8, 8, 0);
	assert_false(op.direct);
}

static void
test_direct_ok(void **state)
{
	struct iovec iov[2] = {
		{ .iov_base = g_buf + 512, .iov_len = 4096 },
		{ .iov_base = g_buf + 8192, .iov_len = 8192 },
	};

	(void)state;
	assert_true(uring_direct_ok(iov, 2, 4096, 12288, 512, 4096));
	assert_false(uring_direct_ok(iov, 2, 4096, 12288, 4096, 4096));
	assert_false(uring_direct_ok(iov, 2, 512, 12288, 512, 4096));
	assert_false(uring_direct_ok(iov, 2, 4096, 12288 + 512, 512, 4096));
	/* The iovecs hold fewer bytes than the I/O. */
	assert_false(uring_direct_ok(iov, 1, 4096, 8192, 512, 4096));
	assert_false(uring_direct_ok(iov, 0, 0, 4096, 512, 512));
	assert_false(uring_direct_ok(iov, 2, 0, 4096, 0, 512));
	assert_false(uring_direct_ok(iov, 2, 0, 4096, 512, 0));
}

/* ---- uring_iov_advance ---- */

static void
iov_fill(struct iovec *iov, int n, size_t each)
{
	int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = g_buf + (size_t)i * each;
		iov[i].iov_len = each;
	}
}

static void
assert_iov(const struct iovec *iov, const void *base, size_t len)
{
	assert_ptr_equal(iov->iov_base, base);
	assert_int_equal(iov->iov_len, len);
}

static void
test_iov_advance_skip(void **state)
{
	struct iovec in[3] = {
		{ .iov_base = g_buf, .iov_len = 1000 },
		{ .iov_base = g_buf + 4096, .iov_len = 2000 },
		{ .iov_base = g_buf + 8192, .iov_len = 3000 },
	};
	struct iovec out[URING_MAX_IOVS];

	(void)state;
	assert_int_equal(uring_iov_advance(in, 3, 0, 6000, out), 3);
	assert_iov(&out[0], g_buf, 1000);
	assert_iov(&out[2], g_buf + 8192, 3000);
	/* Into the first iovec. */
	assert_int_equal(uring_iov_advance(in, 3, 10, 6000, out), 3);
	assert_iov(&out[0], g_buf + 10, 990);
	assert_iov(&out[1], g_buf + 4096, 2000);
	/* Exactly the first: it is left out, not kept empty. */
	assert_int_equal(uring_iov_advance(in, 3, 1000, 6000, out), 2);
	assert_iov(&out[0], g_buf + 4096, 2000);
	assert_iov(&out[1], g_buf + 8192, 3000);
	/* Into the second. */
	assert_int_equal(uring_iov_advance(in, 3, 2999, 6000, out), 2);
	assert_iov(&out[0], g_buf + 4096 + 1999, 1);
	/* Exactly the first two, then into the last, then all of them. */
	assert_int_equal(uring_iov_advance(in, 3, 3000, 6000, out), 1);
	assert_iov(&out[0], g_buf + 8192, 3000);
	assert_int_equal(uring_iov_advance(in, 3, 5999, 6000, out), 1);
	assert_iov(&out[0], g_buf + 8192 + 2999, 1);
	assert_int_equal(uring_iov_advance(in, 3, 6000, 6000, out), 0);
}

static void
test_iov_advance_empty_segments(void **state)
{
	struct iovec in[4] = {
		{ .iov_base = g_buf, .iov_len = 0 },
		{ .iov_base = g_buf + 100, .iov_len = 512 },
		{ .iov_base = g_buf + 1000, .iov_len = 0 },
		{ .iov_base = g_buf + 2000, .iov_len = 512 },
	};
	struct iovec out[URING_MAX_IOVS];

	(void)state;
	assert_int_equal(uring_iov_advance(in, 4, 0, 1024, out), 2);
	assert_iov(&out[0], g_buf + 100, 512);
	assert_iov(&out[1], g_buf + 2000, 512);
	assert_int_equal(uring_iov_advance(in, 4, 512, 1024, out), 1);
	assert_iov(&out[0], g_buf + 2000, 512);
}

/* A list longer than the I/O (lib/bdev allows it): nothing past the I/O's bytes. */
static void
test_iov_advance_len(void **state)
{
	struct iovec in[3] = {
		{ .iov_base = g_buf, .iov_len = 4096 },
		{ .iov_base = g_buf + 4096, .iov_len = 4096 },
		{ .iov_base = g_buf + 8192, .iov_len = 4096 },
	};
	struct iovec out[URING_MAX_IOVS];

	(void)state;
	assert_int_equal(uring_iov_advance(in, 3, 0, 512, out), 1);
	assert_iov(&out[0], g_buf, 512);
	assert_int_equal(uring_iov_advance(in, 3, 0, 4096 + 512, out), 2);
	assert_iov(&out[1], g_buf + 4096, 512);
	assert_int_equal(uring_iov_advance(in, 3, 100, 4096, out), 1);
	assert_iov(&out[0], g_buf + 100, 3996);
	assert_int_equal(uring_iov_advance(in, 3, 4096, 8192, out), 1);
	assert_iov(&out[0], g_buf + 4096, 4096);
	assert_int_equal(uring_iov_advance(in, 3, 8192, 8192, out), 0);
}

static void
test_iov_advance_cap(void **state)
{
	struct iovec in[MANY_IOVS], out[URING_MAX_IOVS];
	uint64_t total = (uint64_t)MANY_IOVS * 512;

	(void)state;
	iov_fill(in, MANY_IOVS, 512);
	assert_int_equal(uring_iov_advance(in, MANY_IOVS, 0, total, out), URING_MAX_IOVS);
	assert_iov(&out[URING_MAX_IOVS - 1], g_buf + (URING_MAX_IOVS - 1) * 512, 512);
	/* Past a short transfer: the next URING_MAX_IOVS from there. */
	assert_int_equal(uring_iov_advance(in, MANY_IOVS, 5 * 512 + 7, total, out), URING_MAX_IOVS);
	assert_iov(&out[0], g_buf + 5 * 512 + 7, 505);
	assert_iov(&out[URING_MAX_IOVS - 1], g_buf + (5 + URING_MAX_IOVS - 1) * 512, 512);
	/* Near the end fewer are left. */
	assert_int_equal(uring_iov_advance(in, MANY_IOVS, total - 3 * 512, total, out), 3);
}

/* ---- uring_status ---- */

static void
assert_status_all_kinds(int res, int want)
{
	assert_int_equal(uring_status(URING_OP_READV, res), want);
	assert_int_equal(uring_status(URING_OP_WRITEV, res), want);
	assert_int_equal(uring_status(URING_OP_FSYNC, res), want);
	assert_int_equal(uring_status(URING_OP_FALLOCATE, res), want);
}

static void
test_status(void **state)
{
	(void)state;
	assert_status_all_kinds(-EIO, -EIO);
	assert_status_all_kinds(-ENODATA, -EIO);
	assert_status_all_kinds(-EREMOTEIO, -EIO);
	assert_status_all_kinds(-ENXIO, -EIO);
	assert_status_all_kinds(-EINVAL, -EIO);
	assert_status_all_kinds(-ETIMEDOUT, -EIO);
	assert_status_all_kinds(-ENOSPC, -ENOSPC);
	assert_status_all_kinds(-EDQUOT, -ENOSPC);
	assert_status_all_kinds(-EFBIG, -ENOSPC);
	assert_status_all_kinds(-EROFS, -EROFS);
	assert_status_all_kinds(-EPERM, -EROFS);
	assert_status_all_kinds(-EACCES, -EROFS);
	assert_status_all_kinds(-EBADF, -EROFS);
	assert_status_all_kinds(-ENOMEM, -ENOMEM);
	assert_status_all_kinds(-EAGAIN, -ENOMEM);
}

/* Only a fallocate mode the backing lacks is "go another way". */
static void
test_status_eopnotsupp(void **state)
{
	(void)state;
	assert_int_equal(uring_status(URING_OP_FALLOCATE, -EOPNOTSUPP), 1);
	assert_int_equal(uring_status(URING_OP_FALLOCATE, -ENOTSUP), 1);
	assert_int_equal(uring_status(URING_OP_READV, -EOPNOTSUPP), -EIO);
	assert_int_equal(uring_status(URING_OP_WRITEV, -EOPNOTSUPP), -EIO);
	assert_int_equal(uring_status(URING_OP_FSYNC, -EOPNOTSUPP), -EIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write_file),
		cmocka_unit_test(test_read_write_blockdev),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_write_zeroes),
		cmocka_unit_test(test_write_zeroes_no_zero_range),
		cmocka_unit_test(test_zero_fill_direct),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_unmap_no_punch),
		cmocka_unit_test(test_unmap_file_no_zeroes),
		cmocka_unit_test(test_compare_not_offered),
		cmocka_unit_test(test_direct_aligned),
		cmocka_unit_test(test_direct_misaligned),
		cmocka_unit_test(test_direct_unavailable),
		cmocka_unit_test(test_direct_ok),
		cmocka_unit_test(test_iov_advance_skip),
		cmocka_unit_test(test_iov_advance_empty_segments),
		cmocka_unit_test(test_iov_advance_len),
		cmocka_unit_test(test_iov_advance_cap),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_eopnotsupp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
