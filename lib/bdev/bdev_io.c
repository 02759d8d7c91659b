/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-thread bdev channels, I/O submission and completion.
 *
 * Each channel recycles its bdev_io objects through a free list, so steady
 * state allocates nothing. A module that completes inside submit_request()
 * has its completions queued on the channel and called back from one message
 * per batch: a message, unlike a period-0 poller, wakes a sleeping reactor.
 */
#include <errno.h>
#include <stdlib.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/ticks.h"
#include "bdev_internal.h"

/* Period of the fallback poller used when the completion message cannot be sent. */
#define BDEV_CPL_RETRY_US 100

static void
bdev_io_deliver(struct nvt_bdev_channel *ch, struct nvt_bdev_io *io)
{
	nvt_bdev_io_cb cb = io->internal.cb;
	void *cb_arg = io->internal.cb_arg;
	int status = io->internal.status;

	bdev_stat_record(&ch->stat, io, nvt_get_ticks() - io->internal.submit_tsc);
	/* Recycled before the callback, which often submits the next I/O. */
	STAILQ_INSERT_HEAD(&ch->free_ios, io, internal.link);
	ch->outstanding--;
	cb(cb_arg, status);
}

/* Call back what completed inside submit calls; false if nothing was queued. */
static bool
bdev_channel_drain(struct nvt_bdev_channel *ch)
{
	struct bdev_io_list batch = STAILQ_HEAD_INITIALIZER(batch);
	struct nvt_bdev_io *io;

	if (STAILQ_EMPTY(&ch->completed)) {
		return false;
	}
	/* Completions of I/O submitted by these callbacks start the next batch. */
	STAILQ_CONCAT(&batch, &ch->completed);
	while ((io = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, internal.link);
		bdev_io_deliver(ch, io);
	}
	return true;
}

static void
bdev_channel_drain_msg(void *arg)
{
	bdev_channel_drain(arg);
}

static int
bdev_channel_retry_poll(void *arg)
{
	struct nvt_bdev_channel *ch = arg;
	bool busy = bdev_channel_drain(ch);

	if (STAILQ_EMPTY(&ch->completed)) {
		nvt_poller_pause(ch->cpl_retry);
	}
	return busy ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

/* The completed list just became non-empty: have it drained after this submit. */
static void
bdev_channel_kick(struct nvt_bdev_channel *ch)
{
	struct nvt_thread *thread = nvt_io_channel_get_thread(nvt_io_channel_from_ctx(ch));

	if (nvt_likely(nvt_thread_send_msg(thread, bdev_channel_drain_msg, ch) == 0)) {
		return;
	}
	/* A timed poller still wakes a sleeping reactor; it pauses itself when done. */
	if (nvt_poller_is_paused(ch->cpl_retry)) {
		nvt_poller_resume(ch->cpl_retry);
	}
}

void
nvt_bdev_io_complete(struct nvt_bdev_io *io, int status)
{
	struct nvt_bdev_channel *ch = io->internal.ch;
	bool was_empty;

	io->internal.status = status;
	if (ch->submit_depth == 0) {
		/* Completed later, from the module's own poller: call back at once. */
		bdev_io_deliver(ch, io);
		return;
	}
	was_empty = STAILQ_EMPTY(&ch->completed);
	STAILQ_INSERT_TAIL(&ch->completed, io, internal.link);
	if (was_empty) {
		bdev_channel_kick(ch);
	}
}

int
bdev_channel_create(void *io_device, void *ctx)
{
	struct nvt_bdev *bdev = NVT_CONTAINEROF(io_device, struct nvt_bdev, internal);
	struct nvt_bdev_channel *ch = ctx;

	ch->bdev = bdev;
	STAILQ_INIT(&ch->free_ios);
	STAILQ_INIT(&ch->completed);
	ch->cpl_retry = nvt_poller_register(bdev_channel_retry_poll, ch, BDEV_CPL_RETRY_US,
					    "bdev_cpl_retry");
	if (ch->cpl_retry == NULL) {
		return -ENOMEM;
	}
	nvt_poller_pause(ch->cpl_retry);
	ch->module_ch = bdev->fn_table->get_io_channel(bdev->ctxt);
	if (ch->module_ch == NULL) {
		nvt_poller_unregister(&ch->cpl_retry);
		return -ENOMEM;
	}
	bdev_stat_channel_init(bdev, &ch->stat);
	return 0;
}

void
bdev_channel_destroy(void *io_device, void *ctx)
{
	struct nvt_bdev_channel *ch = ctx;
	struct nvt_bdev_io *io;

	(void)io_device;
	if (nvt_unlikely(ch->outstanding != 0)) {
		NVT_ERRLOG("bdev %s: channel released with %u I/O outstanding\n", ch->bdev->name,
			   ch->outstanding);
	}
	while ((io = STAILQ_FIRST(&ch->free_ios)) != NULL) {
		STAILQ_REMOVE_HEAD(&ch->free_ios, internal.link);
		free(io);
	}
	bdev_stat_channel_fini(ch->bdev, &ch->stat);
	nvt_poller_unregister(&ch->cpl_retry);
	nvt_put_io_channel(ch->module_ch);
}

uint32_t
bdev_channel_io_count(struct nvt_io_channel *io_ch)
{
	struct nvt_bdev_channel *ch = nvt_io_channel_get_ctx(io_ch);

	return ch->io_count;
}

static struct nvt_bdev_io *
bdev_io_get(struct nvt_bdev_channel *ch)
{
	struct nvt_bdev_io *io = STAILQ_FIRST(&ch->free_ios);

	if (nvt_likely(io != NULL)) {
		STAILQ_REMOVE_HEAD(&ch->free_ios, internal.link);
		return io;
	}
	io = calloc(1, sizeof(*io) + ch->bdev->module->io_ctx_size);
	if (io != NULL) {
		ch->io_count++;
	}
	return io;
}

static bool
bdev_io_is_write(enum nvt_bdev_io_type type)
{
	return type == NVT_BDEV_IO_TYPE_WRITE || type == NVT_BDEV_IO_TYPE_WRITE_ZEROES ||
	       type == NVT_BDEV_IO_TYPE_UNMAP || type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE;
}

static bool
bdev_io_has_data(enum nvt_bdev_io_type type)
{
	return type == NVT_BDEV_IO_TYPE_READ || type == NVT_BDEV_IO_TYPE_WRITE ||
	       type == NVT_BDEV_IO_TYPE_COMPARE || type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE;
}

/* Whether the iovecs cover \p len bytes. */
static bool
bdev_iov_covers(const struct iovec *iov, int iovcnt, uint64_t len)
{
	uint64_t total = 0;
	int i;

	if (iov == NULL || iovcnt <= 0) {
		return false;
	}
	for (i = 0; i < iovcnt && total < len; i++) {
		total += iov[i].iov_len;
	}
	return total >= len;
}

static int
bdev_io_check(const struct nvt_bdev_desc *desc, enum nvt_bdev_io_type type, const struct iovec *iov,
	      int iovcnt, const struct iovec *wiov, int wiovcnt, uint64_t offset, uint64_t num)
{
	const struct nvt_bdev *bdev = desc->bdev;
	/* Resized on the app thread while I/O runs here. */
	uint64_t blockcnt = __atomic_load_n(&bdev->blockcnt, __ATOMIC_RELAXED);

	if (bdev_io_is_write(type) && !desc->write) {
		return -EBADF;
	}
	if (!bdev->fn_table->io_type_supported(bdev->ctxt, type)) {
		return -ENOTSUP;
	}
	/* Flush may name no block at all: NVMe's flush has no range. */
	if ((num == 0 && type != NVT_BDEV_IO_TYPE_FLUSH) || offset > blockcnt ||
	    num > blockcnt - offset) {
		return -EINVAL;
	}
	if ((type == NVT_BDEV_IO_TYPE_WRITE_ZEROES || type == NVT_BDEV_IO_TYPE_UNMAP) &&
	    bdev->max_zeroes_blocks != 0 && num > bdev->max_zeroes_blocks) {
		return -EINVAL;
	}
	if (bdev_io_has_data(type) && !bdev_iov_covers(iov, iovcnt, num * bdev->blocklen)) {
		return -EINVAL;
	}
	if (type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE &&
	    !bdev_iov_covers(wiov, wiovcnt, num * bdev->blocklen)) {
		return -EINVAL;
	}
	return 0;
}

static int
bdev_submit_fused(struct nvt_bdev_desc *desc, struct nvt_io_channel *io_ch,
		  enum nvt_bdev_io_type type, struct iovec *iov, int iovcnt, struct iovec *wiov,
		  int wiovcnt, uint64_t offset, uint64_t num, uint32_t flags, nvt_bdev_io_cb cb,
		  void *cb_arg)
{
	struct nvt_bdev_channel *ch = nvt_io_channel_get_ctx(io_ch);
	struct nvt_bdev_io *io;
	int rc;

	if (nvt_unlikely(ch->bdev != desc->bdev || cb == NULL)) {
		return -EINVAL;
	}
	rc = bdev_io_check(desc, type, iov, iovcnt, wiov, wiovcnt, offset, num);
	if (nvt_unlikely(rc != 0)) {
		return rc;
	}
	io = bdev_io_get(ch);
	if (nvt_unlikely(io == NULL)) {
		return -ENOMEM;
	}
	io->bdev = desc->bdev;
	io->type = type;
	io->iovs = bdev_io_has_data(type) ? iov : NULL;
	io->iovcnt = bdev_io_has_data(type) ? iovcnt : 0;
	io->fused_iovs = type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE ? wiov : NULL;
	io->fused_iovcnt = type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE ? wiovcnt : 0;
	io->offset_blocks = offset;
	io->num_blocks = num;
	io->flags = flags;
	io->internal.ch = ch;
	io->internal.cb = cb;
	io->internal.cb_arg = cb_arg;
	io->internal.status = 0;
	io->internal.submit_tsc = nvt_get_ticks();
	ch->outstanding++;
	ch->submit_depth++;
	desc->bdev->fn_table->submit_request(ch->module_ch, io);
	ch->submit_depth--;
	return 0;
}

static int
bdev_submit(struct nvt_bdev_desc *desc, struct nvt_io_channel *io_ch, enum nvt_bdev_io_type type,
	    struct iovec *iov, int iovcnt, uint64_t offset, uint64_t num, uint32_t flags,
	    nvt_bdev_io_cb cb, void *cb_arg)
{
	return bdev_submit_fused(desc, io_ch, type, iov, iovcnt, NULL, 0, offset, num, flags, cb,
				 cb_arg);
}

int
nvt_bdev_readv_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, struct iovec *iov,
		      int iovcnt, uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
		      void *cb_arg)
{
	return bdev_submit(desc, ch, NVT_BDEV_IO_TYPE_READ, iov, iovcnt, offset_blocks, num_blocks,
			   0, cb, cb_arg);
}

int
nvt_bdev_writev_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, struct iovec *iov,
		       int iovcnt, uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
		       void *cb_arg)
{
	return nvt_bdev_writev_blocks_flags(desc, ch, iov, iovcnt, offset_blocks, num_blocks, 0, cb,
					    cb_arg);
}

int
nvt_bdev_writev_blocks_flags(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
			     struct iovec *iov, int iovcnt, uint64_t offset_blocks,
			     uint64_t num_blocks, uint32_t flags, nvt_bdev_io_cb cb, void *cb_arg)
{
	if (flags & ~NVT_BDEV_IO_FLAG_FUA) {
		return -EINVAL;
	}
	return bdev_submit(desc, ch, NVT_BDEV_IO_TYPE_WRITE, iov, iovcnt, offset_blocks, num_blocks,
			   flags, cb, cb_arg);
}

int
nvt_bdev_comparev_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, struct iovec *iov,
			 int iovcnt, uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
			 void *cb_arg)
{
	return bdev_submit(desc, ch, NVT_BDEV_IO_TYPE_COMPARE, iov, iovcnt, offset_blocks,
			   num_blocks, 0, cb, cb_arg);
}

int
nvt_bdev_comparev_and_writev_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
				    struct iovec *cmp_iov, int cmp_iovcnt, struct iovec *write_iov,
				    int write_iovcnt, uint64_t offset_blocks, uint64_t num_blocks,
				    nvt_bdev_io_cb cb, void *cb_arg)
{
	return bdev_submit_fused(desc, ch, NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE, cmp_iov, cmp_iovcnt,
				 write_iov, write_iovcnt, offset_blocks, num_blocks, 0, cb, cb_arg);
}

int
nvt_bdev_write_zeroes_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch,
			     uint64_t offset_blocks, uint64_t num_blocks, nvt_bdev_io_cb cb,
			     void *cb_arg)
{
	return bdev_submit(desc, ch, NVT_BDEV_IO_TYPE_WRITE_ZEROES, NULL, 0, offset_blocks,
			   num_blocks, 0, cb, cb_arg);
}

int
nvt_bdev_unmap_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, uint64_t offset_blocks,
		      uint64_t num_blocks, nvt_bdev_io_cb cb, void *cb_arg)
{
	return bdev_submit(desc, ch, NVT_BDEV_IO_TYPE_UNMAP, NULL, 0, offset_blocks, num_blocks, 0,
			   cb, cb_arg);
}

int
nvt_bdev_flush_blocks(struct nvt_bdev_desc *desc, struct nvt_io_channel *ch, uint64_t offset_blocks,
		      uint64_t num_blocks, nvt_bdev_io_cb cb, void *cb_arg)
{
	return bdev_submit(desc, ch, NVT_BDEV_IO_TYPE_FLUSH, NULL, 0, offset_blocks, num_blocks, 0,
			   cb, cb_arg);
}
