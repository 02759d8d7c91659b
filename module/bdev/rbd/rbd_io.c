/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The I/O path: every bdev I/O becomes one asynchronous librbd call with the
 * bdev_io's own buffers (zero copy; compare and compare-and-write need
 * contiguous buffers and copy). librbd completes on its own threads; the
 * callback only records the result and pushes the task on its channel's
 * completion queue, which wakes the owning thread (nvtcp/cpl_queue.h): no
 * lock, no poller. The task then completes on the thread that submitted it.
 *
 * Durability: the image is opened with librbd's cache off (nvtcp's default),
 * so a completed write is in the cluster: FUA needs nothing more, and flush
 * is passed on (it costs nothing without a cache).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "rbd_internal.h"

/* ---- completion ---- */

/* One log line per change of a channel's failing state, not per I/O. */
static void
task_note_status(struct rbd_task *t, ssize_t ret, int status)
{
	struct rbd_channel *ch = t->ch;
	struct rbd_disk *disk = ch->disk;

	if (!rbd_status_log_change(ch->last_status, status)) {
		return;
	}
	if (status == 0) {
		NVT_NOTICELOG("rbd: %s: image %s/%s serves I/O again\n", disk->bdev.name,
			      disk->pool_name, disk->rbd_name);
	} else {
		NVT_ERRLOG("rbd: %s: image %s/%s fails I/O: %s (librbd: %s)\n", disk->bdev.name,
			   disk->pool_name, disk->rbd_name, nvt_strerror(status),
			   nvt_strerror((int)ret));
	}
	ch->last_status = status;
}

static void
task_complete(struct rbd_task *t, ssize_t ret)
{
	struct nvt_bdev_io *io = t->io;
	int status = rbd_status(ret);

	if (status == 0 && io->type == NVT_BDEV_IO_TYPE_COMPARE) {
		status = nvt_bdev_iov_compare(t->bounce, io->iovs, io->iovcnt,
					      io->num_blocks * io->bdev->blocklen);
	}
	free(t->bounce);
	t->bounce = NULL;
	task_note_status(t, ret, status);
	nvt_bdev_io_complete(io, status);
}

/* The owning thread: a batch the queue handed over. */
static void
rbd_cpl(struct nvt_cpl_entry *entry, void *ctx)
{
	struct rbd_task *t = (struct rbd_task *)((char *)entry - offsetof(struct rbd_task, entry));
	struct rbd_channel *ch = ctx;

	ch->inflight--;
	task_complete(t, t->ret);
}

/* librbd's thread: record the result and hand the task back; nothing else here. */
static void
rbd_aio_cb(rbd_completion_t c, void *arg)
{
	struct rbd_task *t = arg;

	t->ret = rbd_aio_get_return_value(c);
	rbd_aio_release(c);
	nvt_cpl_queue_push(&t->ch->cpl, &t->entry);
}

/* ---- submission ---- */

/* The iovecs of exactly \p len bytes: the I/O's own, or a cut copy in the task. */
static int
task_iovs(struct rbd_task *t, size_t len, const struct iovec **iov, int *iovcnt)
{
	struct nvt_bdev_io *io = t->io;
	size_t total = 0;
	int i;

	for (i = 0; i < io->iovcnt && total < len; i++) {
		total += io->iovs[i].iov_len;
	}
	if (total < len) {
		return -EINVAL;
	}
	if (total == len && i == io->iovcnt) {
		*iov = io->iovs;
		*iovcnt = io->iovcnt;
		return 0;
	}
	if (i > RBD_MAX_IOVS) {
		return -EINVAL;
	}
	memcpy(t->iov, io->iovs, (size_t)i * sizeof(*t->iov));
	t->iov[i - 1].iov_len -= total - len;
	*iov = t->iov;
	*iovcnt = i;
	return 0;
}

static ssize_t
submit_compare_and_write(struct rbd_disk *disk, struct rbd_task *t, uint64_t off, size_t len,
			 rbd_completion_t c)
{
	struct nvt_bdev_io *io = t->io;

	/* Refused here rather than by librbd: see RBD_CAW_SECTOR. */
	if (off % RBD_CAW_SECTOR + len > RBD_CAW_SECTOR) {
		return -EINVAL;
	}
	t->bounce = malloc(2 * len);
	if (t->bounce == NULL) {
		return -ENOMEM;
	}
	if (nvt_bdev_iov_copy(t->bounce, io->iovs, io->iovcnt, len, true) != 0 ||
	    nvt_bdev_iov_copy(t->bounce + len, io->fused_iovs, io->fused_iovcnt, len, true) != 0) {
		return -EINVAL;
	}
	return rbd_aio_compare_and_write(disk->image, off, len, (const char *)t->bounce,
					 (const char *)t->bounce + len, c, &t->mismatch_off, 0);
}

static ssize_t
task_submit(struct rbd_disk *disk, struct rbd_task *t, rbd_completion_t c)
{
	struct nvt_bdev_io *io = t->io;
	uint64_t off = io->offset_blocks * disk->bdev.blocklen;
	size_t len = io->num_blocks * disk->bdev.blocklen;
	const struct iovec *iov;
	int iovcnt, rc;

	switch (io->type) {
	case NVT_BDEV_IO_TYPE_READ:
	case NVT_BDEV_IO_TYPE_WRITE:
		rc = task_iovs(t, len, &iov, &iovcnt);
		if (rc != 0) {
			return rc;
		}
		if (io->type == NVT_BDEV_IO_TYPE_READ) {
			return rbd_aio_readv(disk->image, iov, iovcnt, off, c);
		}
		return rbd_aio_writev(disk->image, iov, iovcnt, off, c);
	case NVT_BDEV_IO_TYPE_FLUSH:
		return rbd_aio_flush(disk->image, c);
	case NVT_BDEV_IO_TYPE_WRITE_ZEROES:
		return rbd_aio_write_zeroes(disk->image, off, len, c, 0, 0);
	case NVT_BDEV_IO_TYPE_UNMAP:
		return rbd_aio_discard(disk->image, off, len, c);
	case NVT_BDEV_IO_TYPE_COMPARE:
		t->bounce = malloc(len);
		if (t->bounce == NULL) {
			return -ENOMEM;
		}
		return rbd_aio_read(disk->image, off, len, (char *)t->bounce, c);
	case NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE:
		return submit_compare_and_write(disk, t, off, len, c);
	default:
		return -EINVAL;
	}
}

void
rbd_submit_request(struct nvt_io_channel *_ch, struct nvt_bdev_io *io)
{
	struct rbd_channel *ch = nvt_io_channel_get_ctx(_ch);
	struct rbd_task *t = (struct rbd_task *)io->driver_ctx;
	rbd_completion_t c;
	ssize_t rc;

	t->io = io;
	t->ch = ch;
	t->bounce = NULL;
	rc = rbd_aio_create_completion(t, rbd_aio_cb, &c);
	if (rc != 0) {
		nvt_bdev_io_complete(io, -ENOMEM);
		return;
	}
	/* Counted before the call: librbd may complete it before the call returns. */
	ch->inflight++;
	rc = task_submit(ch->disk, t, c);
	if (rc < 0) {
		/* Refused before it started: librbd will not call back. */
		ch->inflight--;
		rbd_aio_release(c);
		task_complete(t, rc);
	}
}

bool
rbd_io_type_supported(void *ctxt, enum nvt_bdev_io_type type)
{
	struct rbd_disk *disk = ctxt;

	if (type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE) {
		/* One block at least must fit in librbd's compare-and-write. */
		return disk->bdev.blocklen <= RBD_CAW_SECTOR;
	}
	return type < NVT_BDEV_NUM_IO_TYPES;
}

int
rbd_channel_create(void *io_device, void *ctx)
{
	struct rbd_channel *ch = ctx;

	ch->disk = io_device;
	ch->inflight = 0;
	ch->last_status = 0;
	nvt_cpl_queue_init(&ch->cpl, nvt_get_thread(), rbd_cpl, ch);
	return 0;
}

void
rbd_channel_destroy(void *io_device, void *ctx)
{
	struct rbd_channel *ch = ctx;
	struct rbd_disk *disk = io_device;

	/* lib/bdev puts a channel only once its I/O completed: a count left is a bug. */
	if (ch->inflight != 0) {
		NVT_ERRLOG("rbd: %s: channel destroyed with %u I/O outstanding\n", disk->bdev.name,
			   ch->inflight);
	}
}
