/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a bdev I/O becomes io_uring operations, and what their errors mean to
 * the host. No state, no system calls: the engine (uring_io.c) carries the
 * plan out.
 *
 * NVMe's semantics, kept exactly:
 *  - Flush: a data sync of the whole file or device (fsync, DATASYNC);
 *  - a FUA write: durable on completion (RWF_DSYNC; O_DIRECT makes it a FUA
 *    write to the device where the device has one);
 *  - Write Zeroes: fallocate ZERO_RANGE (a block device zeroes out; a file
 *    gets zeroed extents), KEEP_SIZE;
 *  - deallocate (unmap): fallocate PUNCH_HOLE | KEEP_SIZE: a file gets a
 *    hole, which reads back as zeroes; a block device a zero-out that may
 *    unmap (where the device cannot, the engine leaves the data: deallocate
 *    is a hint, and a block device's namespace does not claim zeroes).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/uio.h>

#include "uring_internal.h"

static void
plan_rw(const struct uring_disk *disk, const struct nvt_bdev_io *io, struct uring_op *op)
{
	bool write = io->type == NVT_BDEV_IO_TYPE_WRITE;

	op->kind = write ? URING_OP_WRITEV : URING_OP_READV;
	op->rw_flags = write && (io->flags & NVT_BDEV_IO_FLAG_FUA) ? RWF_DSYNC : 0;
	op->direct = disk->fd_direct >= 0 &&
		     !__atomic_load_n(&disk->direct_off, __ATOMIC_RELAXED) &&
		     uring_direct_ok(io->iovs, io->iovcnt, op->offset, op->len, disk->dio_mem_align,
				     disk->dio_offset_align);
}

/* Zeroes by fallocate, or written from memory where the backing cannot. */
static void
plan_zeroes(const struct uring_disk *disk, struct uring_op *op)
{
	if (!__atomic_load_n(&disk->no_zero_range, __ATOMIC_RELAXED)) {
		op->kind = URING_OP_FALLOCATE;
		op->fallocate_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		return;
	}
	op->kind = URING_OP_WRITEV;
	op->zero_fill = true;
	/* The zeroes are aligned to a page; the range is checked per chunk. */
	op->direct = disk->fd_direct >= 0 &&
		     !__atomic_load_n(&disk->direct_off, __ATOMIC_RELAXED) &&
		     disk->dio_offset_align != 0 && op->offset % disk->dio_offset_align == 0 &&
		     op->len % disk->dio_offset_align == 0;
}

static void
plan_unmap(const struct uring_disk *disk, struct uring_op *op)
{
	if (!__atomic_load_n(&disk->no_punch, __ATOMIC_RELAXED)) {
		op->kind = URING_OP_FALLOCATE;
		op->fallocate_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	} else if (disk->bdev.unmap_zeroes) {
		/* The namespace promises zeroes after deallocate (files): keep the promise. */
		plan_zeroes(disk, op);
	} else {
		op->kind = URING_OP_NONE;
	}
}

void
uring_plan(const struct uring_disk *disk, const struct nvt_bdev_io *io, struct uring_op *op)
{
	uint32_t bs = io->bdev->blocklen;

	memset(op, 0, sizeof(*op));
	op->offset = io->offset_blocks * bs;
	op->len = io->num_blocks * bs;
	switch (io->type) {
	case NVT_BDEV_IO_TYPE_READ:
	case NVT_BDEV_IO_TYPE_WRITE:
		plan_rw(disk, io, op);
		break;
	case NVT_BDEV_IO_TYPE_FLUSH:
		op->kind = URING_OP_FSYNC;
		op->offset = 0;
		op->len = 0;
		break;
	case NVT_BDEV_IO_TYPE_WRITE_ZEROES:
		plan_zeroes(disk, op);
		break;
	case NVT_BDEV_IO_TYPE_UNMAP:
		plan_unmap(disk, op);
		break;
	default:
		/* Compare is not offered (io_type_supported): cannot happen. */
		op->kind = URING_OP_NONE;
		break;
	}
}

bool
uring_direct_ok(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len,
		uint32_t mem_align, uint32_t offset_align)
{
	uint64_t seen = 0;
	int i;

	if (mem_align == 0 || offset_align == 0 || offset % offset_align != 0 ||
	    len % offset_align != 0) {
		return false;
	}
	for (i = 0; i < iovcnt && seen < len; i++) {
		if ((uintptr_t)iov[i].iov_base % mem_align != 0 ||
		    iov[i].iov_len % offset_align != 0) {
			return false;
		}
		seen += iov[i].iov_len;
	}
	return seen >= len;
}

int
uring_iov_advance(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len,
		  struct iovec *out)
{
	uint64_t left = len > skip ? len - skip : 0;
	int i, n = 0;

	for (i = 0; i < iovcnt && n < URING_MAX_IOVS && left > 0; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = iov[i].iov_len - skip < left ? iov[i].iov_len - skip : left;
		left -= out[n].iov_len;
		skip = 0;
		n++;
	}
	return n;
}

int
uring_status(enum uring_op_kind kind, int res)
{
	switch (-res) {
	case EOPNOTSUPP:
		/* fallocate modes the file system or device lacks. */
		return kind == URING_OP_FALLOCATE ? 1 : -EIO;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return -ENOSPC;
	case EROFS:
	case EPERM:
	case EACCES:
	case EBADF:
		return -EROFS;
	case ENOMEM:
	case EAGAIN:
		return -ENOMEM;
	default:
		/* EIO, ENODATA, EREMOTEIO, ENXIO (the device went away), ...: a device error. */
		return -EIO;
	}
}
