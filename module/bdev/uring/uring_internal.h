/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the uring module: the disk, its per-thread channels and the
 * per-I/O task, shared by bdev_uring.c (devices and channels), uring_io.c
 * (the I/O engine) and uring_plan.c (how a bdev I/O becomes io_uring
 * operations, and what their errors mean; pure functions, unit-tested).
 */
#ifndef NVT_BDEV_URING_INTERNAL_H
#define NVT_BDEV_URING_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/iobuf.h"
#include "nvtcp/queue.h"

/* Entries of each channel's ring; I/O beyond waits in software, never fails. */
#define URING_RING_ENTRIES 256
/* Most iovecs of one I/O (the transport's largest I/O in pool buffers). */
#define URING_MAX_IOVS NVT_IOBUF_MAX_BUFS
/* Bytes of zeroes written per operation when the backing cannot fallocate. */
#define URING_ZERO_CHUNK (1024u * 1024)

/* What the backing is. */
enum uring_backing {
	URING_BACKING_FILE,
	URING_BACKING_BLOCKDEV,
};

/*
 * A disk. Set at creation on the app thread; afterwards I/O threads read it.
 * The two flags that I/O learns at run time change with atomic stores.
 */
struct uring_disk {
	struct nvt_bdev bdev;
	char *filename;
	enum uring_backing backing;
	/* Buffered descriptor: every I/O can go through it. */
	int fd;
	/* O_DIRECT descriptor, or -1; for I/O aligned as below. */
	int fd_direct;
	uint32_t dio_mem_align;
	uint32_t dio_offset_align;
	/* O_DIRECT refused an I/O its alignment allowed: buffered from then on. */
	bool direct_off;
	/* Created without fallocate (SPDK aio's default): no deallocate, zeroes written. */
	bool fallocate_off;
	/* The backing cannot punch holes (EOPNOTSUPP seen): unmap zeroes instead. */
	bool no_punch;
	/* The backing cannot fallocate zeroes: write zeroes from memory. */
	bool no_zero_range;
};

/* One channel: the thread's ring, and I/O waiting for room in it. */
struct uring_channel {
	struct io_uring ring;
	struct nvt_poller *poller;
	TAILQ_HEAD(, uring_task) waiting;
	/* URING_ZERO_CHUNK zeroes, allocated when a write of zeroes first needs them. */
	void *zeroes;
	/* Operations prepared in the ring and not yet entered. */
	uint32_t unsubmitted;
	/* Operations entered and not yet completed. */
	uint32_t inflight;
};

/* The io_uring operation an I/O needs next. */
enum uring_op_kind {
	URING_OP_READV,
	URING_OP_WRITEV,
	URING_OP_FSYNC,
	URING_OP_FALLOCATE,
	URING_OP_NONE, /* nothing to do: complete with success */
};

struct uring_op {
	enum uring_op_kind kind;
	uint64_t offset; /* bytes */
	uint64_t len;	 /* bytes (fallocate; read and write: of the iovecs) */
	int fallocate_mode;
	int rw_flags;	/* RWF_DSYNC for FUA writes */
	bool direct;	/* through the O_DIRECT descriptor */
	bool zero_fill; /* a write of zeroes from memory (no fallocate here) */
};

/* Per-I/O context (driver_ctx of the bdev_io). */
struct uring_task {
	struct nvt_bdev_io *io;
	struct uring_channel *ch;
	TAILQ_ENTRY(uring_task) link;
	struct uring_op op;
	/* Bytes done so far: a short transfer goes on from there. */
	uint64_t done;
	/* The data of the current operation: a copy past a short transfer, or zeroes. */
	struct iovec iov[URING_MAX_IOVS];
	int iovcnt;
};

/* ---- uring_plan.c ---- */

/*
 * The first operation of \p io on \p disk. Unmap is a punch hole (files; on
 * block devices a zero-out that unmaps), write zeroes a zero range; flush a
 * data sync; a FUA write carries RWF_DSYNC. Where the backing turned out to
 * lack a fallocate mode, the plan goes another way (uring_plan.c).
 */
void uring_plan(const struct uring_disk *disk, const struct nvt_bdev_io *io, struct uring_op *op);

/* Whether \p iov (\p len bytes at \p offset) meets the O_DIRECT alignments. */
bool uring_direct_ok(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len,
		     uint32_t mem_align, uint32_t offset_align);

/*
 * The iovecs of bytes \p skip to \p len of \p iov (\p iovcnt), into \p out (at
 * most URING_MAX_IOVS); returns their count. The list may hold more than the
 * I/O's \p len bytes (lib/bdev allows it): what lies past them is left out.
 */
int uring_iov_advance(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len,
		      struct iovec *out);

/*
 * What a failed operation of \p kind (kernel errno \p res < 0) becomes for
 * the bdev layer: -EIO, -ENOSPC, -EROFS, -ENOMEM; or 1 when the operation is
 * one the backing does not have (fallocate's EOPNOTSUPP), to go another way.
 */
int uring_status(enum uring_op_kind kind, int res);

/* ---- uring_io.c ---- */

void uring_submit_request(struct nvt_io_channel *ch, struct nvt_bdev_io *io);
int uring_channel_create(void *io_device, void *ctx);
void uring_channel_destroy(void *io_device, void *ctx);

#endif /* NVT_BDEV_URING_INTERNAL_H */
