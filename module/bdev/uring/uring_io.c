/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uring module's I/O engine: one io_uring per channel (per thread and
 * disk). submit_request() prepares the I/O's operation in the ring, or
 * queues it in software when the ring is full; the channel's poller enters
 * what was prepared once per poll, reaps completions and starts what waits.
 * The ring's fd is a wakeup fd of the thread, so a sleeping reactor wakes
 * when a completion arrives: no busy polling for disk I/O.
 *
 * A short read or write goes on from where it stopped; O_DIRECT refusing an
 * I/O (its alignment was a guess) moves the disk to buffered I/O; a backing
 * without a fallocate mode gets the same result another way (uring_plan.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "uring_internal.h"

#define URING_REAP_BATCH 64

static struct uring_disk *
task_disk(const struct uring_task *t)
{
	return NVT_CONTAINEROF(t->io->bdev, struct uring_disk, bdev);
}

/* The data of the next write of zeroes: a chunk of the channel's zero buffer. */
static int
task_zero_iov(struct uring_task *t)
{
	uint64_t left = t->op.len - t->done;

	if (t->ch->zeroes == NULL) {
		if (posix_memalign(&t->ch->zeroes, 4096, URING_ZERO_CHUNK) != 0) {
			t->ch->zeroes = NULL;
			return -ENOMEM;
		}
		/* Only ever written from: zeroed once. */
		memset(t->ch->zeroes, 0, URING_ZERO_CHUNK);
	}
	t->iov[0].iov_base = t->ch->zeroes;
	t->iov[0].iov_len = left < URING_ZERO_CHUNK ? left : URING_ZERO_CHUNK;
	t->iovcnt = 1;
	return 0;
}

static void
task_prep_sqe(struct uring_task *t, struct io_uring_sqe *sqe)
{
	struct uring_disk *disk = task_disk(t);
	int fd = t->op.direct ? disk->fd_direct : disk->fd;
	uint64_t off = t->op.offset + t->done;

	switch (t->op.kind) {
	case URING_OP_READV:
		io_uring_prep_readv(sqe, fd, t->iov, (unsigned)t->iovcnt, off);
		break;
	case URING_OP_WRITEV:
		io_uring_prep_writev(sqe, fd, t->iov, (unsigned)t->iovcnt, off);
		sqe->rw_flags = t->op.rw_flags;
		break;
	case URING_OP_FSYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case URING_OP_FALLOCATE:
		io_uring_prep_fallocate(sqe, fd, t->op.fallocate_mode, (off_t)off,
					(off_t)(t->op.len - t->done));
		break;
	case URING_OP_NONE:
		/* Completed without an operation: cannot be prepared. */
		break;
	}
	io_uring_sqe_set_data(sqe, t);
}

/* Put the task's operation in the ring; false when the ring is full. */
static bool
task_start(struct uring_task *t)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ch->ring);

	if (sqe == NULL) {
		return false;
	}
	task_prep_sqe(t, sqe);
	t->ch->unsubmitted++;
	return true;
}

/* Start \p t, or let it wait its turn behind the others. */
static void
task_queue(struct uring_task *t)
{
	if (!TAILQ_EMPTY(&t->ch->waiting) || !task_start(t)) {
		TAILQ_INSERT_TAIL(&t->ch->waiting, t, link);
	}
}

/* Set the data of the task's (next) operation; 0 or -ENOMEM. */
static int
task_set_data(struct uring_task *t)
{
	if (t->op.zero_fill) {
		return task_zero_iov(t);
	}
	if (t->op.kind == URING_OP_READV || t->op.kind == URING_OP_WRITEV) {
		t->iovcnt =
			uring_iov_advance(t->io->iovs, t->io->iovcnt, t->done, t->op.len, t->iov);
	}
	return 0;
}

/* Carry out the plan from the start; completes the I/O at once when there is nothing to do. */
static void
task_begin(struct uring_task *t)
{
	int rc;

	t->done = 0;
	if (t->op.kind == URING_OP_NONE) {
		nvt_bdev_io_complete(t->io, 0);
		return;
	}
	rc = task_set_data(t);
	if (rc != 0) {
		nvt_bdev_io_complete(t->io, rc);
		return;
	}
	task_queue(t);
}

void
uring_submit_request(struct nvt_io_channel *io_ch, struct nvt_bdev_io *io)
{
	struct uring_task *t = (struct uring_task *)io->driver_ctx;

	t->io = io;
	t->ch = nvt_io_channel_get_ctx(io_ch);
	uring_plan(task_disk(t), io, &t->op);
	task_begin(t);
}

/* O_DIRECT refused an I/O: the disk goes buffered, and the I/O is tried again. */
static void
task_direct_refused(struct uring_task *t)
{
	struct uring_disk *disk = task_disk(t);

	if (!__atomic_exchange_n(&disk->direct_off, true, __ATOMIC_RELAXED)) {
		NVT_NOTICELOG("bdev %s: %s refused a direct I/O (offset %" PRIu64
			      "): buffered I/O from now on\n",
			      disk->bdev.name, disk->filename, t->op.offset + t->done);
	}
	t->op.direct = false;
	task_queue(t);
}

/* The backing lacks the fallocate mode of \p t: remember, and go another way. */
static void
task_fallocate_refused(struct uring_task *t)
{
	struct uring_disk *disk = task_disk(t);
	bool *flag = (t->op.fallocate_mode & FALLOC_FL_PUNCH_HOLE) ? &disk->no_punch
								   : &disk->no_zero_range;

	if (!__atomic_exchange_n(flag, true, __ATOMIC_RELAXED)) {
		NVT_NOTICELOG("bdev %s: %s cannot %s: %s from now on\n", disk->bdev.name,
			      disk->filename,
			      flag == &disk->no_punch ? "punch holes" : "zero ranges",
			      flag == &disk->no_punch ? "deallocate zeroes instead (files) or "
							"leaves the data (block devices)"
						      : "zeroes are written");
	}
	uring_plan(disk, t->io, &t->op);
	task_begin(t);
}

/* A read or write moved \p res bytes: go on, or complete. */
static void
task_transferred(struct uring_task *t, int res)
{
	int rc;

	if (res == 0) {
		/* End of file inside the bdev: the backing shrank under it. */
		nvt_bdev_io_complete(t->io, -EIO);
		return;
	}
	t->done += (uint64_t)res;
	if (t->done >= t->op.len) {
		nvt_bdev_io_complete(t->io, 0);
		return;
	}
	rc = task_set_data(t);
	if (rc != 0) {
		nvt_bdev_io_complete(t->io, rc);
		return;
	}
	task_queue(t);
}

static void
task_done(struct uring_task *t, int res)
{
	int status;

	if (res >= 0) {
		if (t->op.kind == URING_OP_READV || t->op.kind == URING_OP_WRITEV) {
			task_transferred(t, res);
		} else {
			nvt_bdev_io_complete(t->io, 0);
		}
		return;
	}
	if (res == -EINVAL && t->op.direct) {
		task_direct_refused(t);
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		task_queue(t);
		return;
	}
	status = uring_status(t->op.kind, res);
	if (status == 1) {
		task_fallocate_refused(t);
		return;
	}
	NVT_ERRLOG("bdev %s: %s: I/O at byte %" PRIu64 " failed: %s\n", t->io->bdev->name,
		   task_disk(t)->filename, t->op.offset + t->done, nvt_strerror(res));
	nvt_bdev_io_complete(t->io, status);
}

static int
channel_reap(struct uring_channel *ch)
{
	struct io_uring_cqe *cqes[URING_REAP_BATCH];
	unsigned int i, n;
	int total = 0;
	int res;

	/* Completions waiting for us to run them (COOP_TASKRUN): one syscall for all. */
	if (IO_URING_READ_ONCE(*ch->ring.sq.kflags) & IORING_SQ_TASKRUN) {
		io_uring_get_events(&ch->ring);
	}
	do {
		n = io_uring_peek_batch_cqe(&ch->ring, cqes, URING_REAP_BATCH);
		for (i = 0; i < n; i++) {
			struct uring_task *t = io_uring_cqe_get_data(cqes[i]);

			res = cqes[i]->res;
			/* Seen before the task runs on: it may prepare its next operation. */
			io_uring_cqe_seen(&ch->ring, cqes[i]);
			ch->inflight--;
			task_done(t, res);
		}
		total += (int)n;
	} while (n == URING_REAP_BATCH);
	return total;
}

/* Start waiting tasks while the ring has room. */
static int
channel_start_waiting(struct uring_channel *ch)
{
	struct uring_task *t;
	int n = 0;

	while ((t = TAILQ_FIRST(&ch->waiting)) != NULL && task_start(t)) {
		TAILQ_REMOVE(&ch->waiting, t, link);
		n++;
	}
	return n;
}

static int
channel_enter(struct uring_channel *ch)
{
	int rc;

	if (ch->unsubmitted == 0) {
		return 0;
	}
	rc = io_uring_submit(&ch->ring);
	if (rc < 0) {
		/* -EBUSY, -EAGAIN: the kernel is short of room; the next poll tries again. */
		return 0;
	}
	ch->inflight += (uint32_t)rc;
	ch->unsubmitted -= (uint32_t)rc < ch->unsubmitted ? (uint32_t)rc : ch->unsubmitted;
	return rc;
}

static int
channel_poll(void *arg)
{
	struct uring_channel *ch = arg;
	int work = 0;

	if (ch->inflight > 0) {
		work += channel_reap(ch);
	}
	work += channel_start_waiting(ch);
	work += channel_enter(ch);
	return work > 0 ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

int
uring_channel_create(void *io_device, void *ctx)
{
	struct uring_channel *ch = ctx;
	struct io_uring_params params = { 0 };
	int rc;

	(void)io_device;
	TAILQ_INIT(&ch->waiting);
	/* Completions do not interrupt a busy reactor; a sleeping one is still woken. */
	params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	rc = io_uring_queue_init_params(URING_RING_ENTRIES, &ch->ring, &params);
	if (rc == -EINVAL) {
		/* Kernels before 5.19. */
		params.flags = 0;
		rc = io_uring_queue_init_params(URING_RING_ENTRIES, &ch->ring, &params);
	}
	if (rc != 0) {
		NVT_ERRLOG("uring bdev: io_uring_queue_init: %s\n", nvt_strerror(rc));
		return rc;
	}
	rc = nvt_thread_add_wakeup_fd(ch->ring.ring_fd, EPOLLIN);
	if (rc == 0) {
		ch->poller = nvt_poller_register(channel_poll, ch, 0, "bdev_uring");
		rc = ch->poller != NULL ? 0 : -ENOMEM;
		if (rc != 0) {
			nvt_thread_del_wakeup_fd(ch->ring.ring_fd);
		}
	}
	if (rc != 0) {
		io_uring_queue_exit(&ch->ring);
	}
	return rc;
}

void
uring_channel_destroy(void *io_device, void *ctx)
{
	struct uring_channel *ch = ctx;

	(void)io_device;
	/* lib/bdev releases a channel only once its I/O completed: nothing is in the ring. */
	nvt_poller_unregister(&ch->poller);
	nvt_thread_del_wakeup_fd(ch->ring.ring_fd);
	io_uring_queue_exit(&ch->ring);
	free(ch->zeroes);
}
