/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "uring" socket implementation: a group is an io_uring.
 *
 * - Readiness: one multishot POLL_ADD per socket for its whole life in the
 *   group (no re-arming per event). io_uring reports wake-ups, not levels,
 *   so a socket stays on the group's ready list until a read comes back
 *   short or with EAGAIN: callbacks see the same level semantics as epoll.
 * - Reads are plain readv() calls into the caller's buffers. Multishot recv
 *   with provided buffers would save that syscall but add a copy out of
 *   the buffer ring and a pool per group; the callers (PDU parsers) want
 *   the bytes in their own buffers, so it does not pay here.
 * - Writes: one SENDMSG per socket in flight, gathering up to
 *   NVT_SOCK_IOV_BATCH iovecs across queued requests; every send of every
 *   socket prepared during a poll goes to the kernel in one io_uring_enter()
 *   at its end. A full send buffer does not spin: the kernel arms its own
 *   poll and completes the send when there is room.
 * - An idle poll makes no system call: completions are read from the
 *   shared CQ ring, and the ring fd wakes a sleeping thread.
 *
 * Completions are handled in two steps: reaping only records results
 * (no callback runs), processing then completes requests. Removing a socket
 * waits for the cancellation of its operations and may reap other sockets'
 * completions meanwhile, without running anything of theirs.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvtcp/internal/sock_module.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"

#define URING_SQ_ENTRIES  512
#define URING_CQ_ENTRIES  4096
#define URING_REAP_BATCH  64
#define URING_POLL_EVENTS (POLLIN | POLLRDHUP | POLLERR | POLLHUP)

enum uring_task_type {
	URING_TASK_POLL,
	URING_TASK_WRITE,
	URING_TASK_CANCEL,
};

/* One kernel operation of a socket; its address is the SQE's user_data. */
struct uring_task {
	struct uring_sock *sock;
	enum uring_task_type type;
	/* Submitted (or prepared) and its last CQE not yet reaped. */
	bool in_flight;
	/* A WRITE result was reaped and waits for processing (res). */
	bool done;
	int32_t res;
};

struct uring_sock {
	struct nvt_sock base;
	struct uring_task poll_task;
	struct uring_task write_task;
	struct uring_task cancel_task;
	/* The in-flight SENDMSG; the kernel may read them until its completion. */
	struct msghdr msg;
	struct iovec iovs[NVT_SOCK_IOV_BATCH];
	/* The last send got EAGAIN: let the kernel wait for room first. */
	bool write_poll_first;
	/* The poll ended (or never started) and must be armed again. */
	bool need_arm;
	bool removing;
	bool on_ready;
	bool on_work;
	TAILQ_ENTRY(uring_sock) ready_link;
	TAILQ_ENTRY(uring_sock) work_link;
};

struct uring_group {
	struct nvt_sock_group_impl base;
	struct io_uring ring;
	/* SQEs prepared and not yet submitted. */
	uint32_t sqes_pending;
	/* Readable (or connected, or failed) sockets, reported on each poll. */
	TAILQ_HEAD(uring_ready_head, uring_sock) ready;
	/* Sockets with reaped completions to process. */
	TAILQ_HEAD(, uring_sock) work;
};

static struct uring_sock *
uring_sock(struct nvt_sock *sock)
{
	return (struct uring_sock *)sock;
}

static struct uring_group *
uring_group(struct nvt_sock_group_impl *gi)
{
	return (struct uring_group *)gi;
}

static struct uring_group *
uring_sock_group(struct uring_sock *us)
{
	return us->base.group_impl != NULL ? uring_group(us->base.group_impl) : NULL;
}

static int
uring_sock_init(struct nvt_sock *sock)
{
	struct uring_sock *us = uring_sock(sock);

	us->poll_task = (struct uring_task){ .sock = us, .type = URING_TASK_POLL };
	us->write_task = (struct uring_task){ .sock = us, .type = URING_TASK_WRITE };
	us->cancel_task = (struct uring_task){ .sock = us, .type = URING_TASK_CANCEL };
	return 0;
}

static void
uring_set_ready(struct uring_group *g, struct uring_sock *us, bool ready)
{
	if (ready && !us->on_ready) {
		TAILQ_INSERT_TAIL(&g->ready, us, ready_link);
	} else if (!ready && us->on_ready) {
		TAILQ_REMOVE(&g->ready, us, ready_link);
	}
	us->on_ready = ready;
}

static void
uring_add_work(struct uring_group *g, struct uring_sock *us)
{
	if (!us->on_work) {
		TAILQ_INSERT_TAIL(&g->work, us, work_link);
		us->on_work = true;
	}
}

static void
uring_del_work(struct uring_group *g, struct uring_sock *us)
{
	if (us->on_work) {
		TAILQ_REMOVE(&g->work, us, work_link);
		us->on_work = false;
	}
}

static struct io_uring_sqe *
uring_get_sqe(struct uring_group *g, struct uring_task *task)
{
	struct io_uring_sqe *sqe;

	sqe = io_uring_get_sqe(&g->ring);
	if (sqe == NULL && io_uring_submit(&g->ring) >= 0) {
		g->sqes_pending = 0;
		sqe = io_uring_get_sqe(&g->ring);
	}
	if (sqe == NULL) {
		return NULL;
	}
	io_uring_sqe_set_data(sqe, task);
	task->in_flight = true;
	g->sqes_pending++;
	return sqe;
}

/* Connecting: wait once for writability; then a multishot poll for input. */
static void
uring_sock_arm_poll(struct uring_group *g, struct uring_sock *us)
{
	struct io_uring_sqe *sqe;

	if (us->poll_task.in_flight || us->removing || us->base.close_pending) {
		return;
	}
	sqe = uring_get_sqe(g, &us->poll_task);
	if (sqe == NULL) {
		us->need_arm = true;
		uring_add_work(g, us);
		return;
	}
	us->need_arm = false;
	if (us->base.connecting && !us->base.connect_done) {
		io_uring_prep_poll_add(sqe, us->base.fd, POLLOUT | POLLERR | POLLHUP);
	} else {
		io_uring_prep_poll_multishot(sqe, us->base.fd, URING_POLL_EVENTS);
	}
}

static int
uring_sock_prep_write(struct uring_group *g, struct uring_sock *us)
{
	struct io_uring_sqe *sqe;
	int cnt;

	if (us->write_task.in_flight || us->write_task.done) {
		return 0;
	}
	cnt = nvt_sock_prep_iovs(&us->base, us->iovs, NVT_SOCK_IOV_BATCH, NULL);
	if (cnt == 0) {
		/* Only empty requests are queued: nothing for the kernel to do. */
		return nvt_sock_complete_bytes(&us->base, 0) == -EBADF ? -EBADF : 0;
	}
	sqe = uring_get_sqe(g, &us->write_task);
	if (sqe == NULL) {
		/* The SQ is full and would not submit: the group retries on its next poll. */
		nvt_sock_mark_dirty(&us->base);
		return 0;
	}
	memset(&us->msg, 0, sizeof(us->msg));
	us->msg.msg_iov = us->iovs;
	us->msg.msg_iovlen = (size_t)cnt;
	io_uring_prep_sendmsg(sqe, us->base.fd, &us->msg, MSG_NOSIGNAL);
	if (us->write_poll_first) {
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	}
	return 1;
}

/* Outside a group nothing waits for completions: send with plain syscalls. */
static int
uring_sock_flush_sync(struct nvt_sock *sock)
{
	struct iovec iovs[NVT_SOCK_IOV_BATCH];
	struct msghdr msg = { .msg_iov = iovs };
	int rc, progress = 0;
	ssize_t n;

	while (!TAILQ_EMPTY(&sock->queued_reqs)) {
		msg.msg_iovlen = (size_t)nvt_sock_prep_iovs(sock, iovs, NVT_SOCK_IOV_BATCH, NULL);
		n = sendmsg(sock->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (errno == EAGAIN) {
				return progress;
			}
			continue;
		}
		if (n < 0) {
			rc = nvt_sock_fail_requests(sock, -errno);
			return rc == -EBADF ? rc : sock->write_err;
		}
		progress = 1;
		rc = nvt_sock_complete_bytes(sock, (size_t)n);
		if (rc < 0 || sock->close_pending) {
			return rc == -EBADF ? rc : progress;
		}
	}
	return progress;
}

static int
uring_sock_flush(struct nvt_sock *sock)
{
	struct uring_group *g = uring_sock_group(uring_sock(sock));

	if (g == NULL) {
		return uring_sock_flush_sync(sock);
	}
	return uring_sock_prep_write(g, uring_sock(sock));
}

static ssize_t
uring_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	struct uring_sock *us = uring_sock(sock);
	struct uring_group *g = uring_sock_group(us);
	size_t want = 0;
	ssize_t n;
	int i;

	/* Drained since the last report: the armed poll tells when more comes, spare the syscall. */
	if (g != NULL && !us->on_ready && us->poll_task.in_flight) {
		return -EAGAIN;
	}
	do {
		n = readv(sock->fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	if (g == NULL || n == 0 || (n < 0 && n != -EAGAIN)) {
		/* End of stream and errors stay readable, as epoll reports them. */
		return n;
	}
	for (i = 0; i < iovcnt; i++) {
		want += iov[i].iov_len;
	}
	if (n == -EAGAIN || (size_t)n < want) {
		/* Drained: the multishot poll reports the next arrival. */
		uring_set_ready(g, us, false);
	}
	return n;
}

static void
uring_sock_drained(struct nvt_sock *sock)
{
	struct uring_group *g = uring_sock_group(uring_sock(sock));

	if (g != NULL) {
		uring_set_ready(g, uring_sock(sock), false);
	}
}

/* Step 1: record a completion; runs no callback and frees nothing. */
static void
uring_task_record(struct uring_group *g, struct io_uring_cqe *cqe)
{
	struct uring_task *task = io_uring_cqe_get_data(cqe);
	struct uring_sock *us = task->sock;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		task->in_flight = false;
	}
	switch (task->type) {
	case URING_TASK_POLL:
		if (cqe->res > 0 && !us->removing && !us->base.connecting) {
			uring_set_ready(g, us, true);
		}
		if (!task->in_flight && !us->removing) {
			/* Connect outcome, or a multishot poll the kernel ended. */
			us->need_arm = true;
			uring_add_work(g, us);
		}
		break;
	case URING_TASK_WRITE:
		task->res = cqe->res;
		task->done = true;
		if (!us->removing) {
			uring_add_work(g, us);
		}
		break;
	case URING_TASK_CANCEL:
		break;
	}
}

static void
uring_group_reap(struct uring_group *g)
{
	struct io_uring_cqe *cqes[URING_REAP_BATCH];
	unsigned i, n;

	/* Completions waiting for us to run them (COOP_TASKRUN): one syscall for all. */
	if (IO_URING_READ_ONCE(*g->ring.sq.kflags) & IORING_SQ_TASKRUN) {
		io_uring_get_events(&g->ring);
	}
	do {
		n = io_uring_peek_batch_cqe(&g->ring, cqes, URING_REAP_BATCH);
		for (i = 0; i < n; i++) {
			uring_task_record(g, cqes[i]);
		}
		io_uring_cq_advance(&g->ring, n);
	} while (n == URING_REAP_BATCH);
}

/* Step 2 for a send: \return -EBADF when a callback closed (freed) the socket. */
static int
uring_sock_write_done(struct uring_group *g, struct uring_sock *us)
{
	int32_t res = us->write_task.res;
	int rc;

	us->write_task.done = false;
	if (res == -EAGAIN || res == -EINTR) {
		us->write_poll_first = true;
		return uring_sock_prep_write(g, us) == -EBADF ? -EBADF : 0;
	}
	us->write_poll_first = false;
	if (res < 0) {
		return nvt_sock_fail_requests(&us->base, res);
	}
	rc = nvt_sock_complete_bytes(&us->base, (size_t)res);
	if (rc < 0) {
		return rc == -EBADF ? rc : 0;
	}
	if (!us->base.close_pending && !TAILQ_EMPTY(&us->base.queued_reqs)) {
		return uring_sock_prep_write(g, us) == -EBADF ? -EBADF : 0;
	}
	return 0;
}

static void
uring_sock_process(struct uring_group *g, struct uring_sock *us)
{
	struct nvt_sock *sock = &us->base;

	if (us->write_task.done && uring_sock_write_done(g, us) == -EBADF) {
		return;
	}
	if (sock->close_pending || sock->group_impl != &g->base) {
		return;
	}
	if (sock->connecting && !sock->connect_done && !us->poll_task.in_flight) {
		nvt_sock_connect_check(sock);
		uring_set_ready(g, us, true);
	}
	if (us->need_arm) {
		uring_sock_arm_poll(g, us);
	}
}

static void
uring_group_process(struct uring_group *g)
{
	struct uring_sock *us;
	int budget = 0;

	TAILQ_FOREACH(us, &g->work, work_link) {
		budget++;
	}
	/* Pop one at a time: a callback may remove any other socket from the list. */
	while (budget-- > 0 && (us = TAILQ_FIRST(&g->work)) != NULL) {
		uring_del_work(g, us);
		uring_sock_process(g, us);
	}
}

static int
uring_group_submit(struct uring_group *g)
{
	int rc;

	if (g->sqes_pending == 0) {
		return 0;
	}
	rc = io_uring_submit(&g->ring);
	if (rc < 0) {
		return rc;
	}
	g->sqes_pending = 0;
	return 0;
}

/* Report ready sockets round-robin, so more than max_events of them all get a turn. */
static int
uring_group_collect(struct uring_group *g, int max_events, struct nvt_sock **socks)
{
	struct uring_sock *us, *last = TAILQ_LAST(&g->ready, uring_ready_head);
	int count = 0;

	while (count < max_events && (us = TAILQ_FIRST(&g->ready)) != NULL) {
		uring_set_ready(g, us, false);
		socks[count++] = &us->base;
		if (!us->base.connecting) {
			uring_set_ready(g, us, true);
		}
		if (us == last) {
			break;
		}
	}
	return count;
}

static int
uring_group_poll(struct nvt_sock_group_impl *gi, int max_events, struct nvt_sock **socks)
{
	struct uring_group *g = uring_group(gi);
	int rc;

	rc = uring_group_submit(g);
	if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) {
		return rc;
	}
	uring_group_reap(g);
	uring_group_process(g);
	return uring_group_collect(g, max_events, socks);
}

static bool
uring_group_commit(struct nvt_sock_group_impl *gi)
{
	struct uring_group *g = uring_group(gi);
	int rc;

	rc = uring_group_submit(g);
	if (rc < 0) {
		NVT_DEBUGLOG(sock, "uring: submit failed: rc %d (%s), retrying", rc,
			     nvt_strerror(rc));
	}
	return rc < 0 || !TAILQ_EMPTY(&g->ready) || !TAILQ_EMPTY(&g->work);
}

static struct nvt_sock_group_impl *
uring_group_create(void)
{
	struct io_uring_params params = { 0 };
	struct uring_group *g;
	int rc;

	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return NULL;
	}
	/*
	 * Cooperative task running: a completion does not interrupt the running
	 * reactor with an IPI, it sets IORING_SQ_TASKRUN and the next poll (or
	 * any syscall) runs it; a sleeping reactor is still woken.
	 */
	params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	params.cq_entries = URING_CQ_ENTRIES;
	rc = io_uring_queue_init_params(URING_SQ_ENTRIES, &g->ring, &params);
	if (rc == -EINVAL) {
		/* Kernels before 5.19. */
		params.flags = IORING_SETUP_CQSIZE;
		rc = io_uring_queue_init_params(URING_SQ_ENTRIES, &g->ring, &params);
	}
	if (rc != 0) {
		NVT_ERRLOG("uring: io_uring_queue_init failed: rc %d (%s)", rc, nvt_strerror(rc));
		free(g);
		return NULL;
	}
	TAILQ_INIT(&g->ready);
	TAILQ_INIT(&g->work);
	return &g->base;
}

static int
uring_group_get_fd(struct nvt_sock_group_impl *gi)
{
	return uring_group(gi)->ring.ring_fd;
}

static int
uring_group_add_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct uring_group *g = uring_group(gi);
	struct uring_sock *us = uring_sock(sock);

	us->removing = false;
	us->write_poll_first = false;
	/* Arming checks the current state: data that came before is reported too. */
	uring_sock_arm_poll(g, us);
	return 0;
}

static bool
uring_sock_busy(const struct uring_sock *us)
{
	return us->poll_task.in_flight || us->write_task.in_flight || us->cancel_task.in_flight;
}

/* Cancel what the kernel still holds of the socket and wait for it to let go. */
static int
uring_sock_cancel_wait(struct uring_group *g, struct uring_sock *us)
{
	struct io_uring_sqe *sqe;
	int rc;

	sqe = uring_get_sqe(g, &us->cancel_task);
	if (sqe == NULL) {
		return -ENOMEM;
	}
	io_uring_prep_cancel_fd(sqe, us->base.fd, IORING_ASYNC_CANCEL_ALL);
	while (uring_sock_busy(us)) {
		rc = io_uring_submit_and_wait(&g->ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			return rc;
		}
		g->sqes_pending = 0;
		uring_group_reap(g);
	}
	return 0;
}

static int
uring_group_remove_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct uring_group *g = uring_group(gi);
	struct uring_sock *us = uring_sock(sock);
	int rc = 0;

	us->removing = true;
	if (uring_sock_busy(us)) {
		rc = uring_sock_cancel_wait(g, us);
		if (rc != 0) {
			NVT_ERRLOG("uring: cancelling operations of fd %d failed: rc %d (%s)",
				   sock->fd, rc, nvt_strerror(rc));
		}
	}
	uring_set_ready(g, us, false);
	uring_del_work(g, us);
	/* Reaping may have left other sockets' completions to process: poll again soon. */
	if (!TAILQ_EMPTY(&g->work) || !TAILQ_EMPTY(&g->ready)) {
		nvt_sock_group_impl_wake(gi);
	}
	if (us->write_task.done) {
		us->write_task.done = false;
		/* A cancelled send sent nothing; a finished one counts. */
		if (us->write_task.res > 0) {
			nvt_sock_complete_bytes(sock, (size_t)us->write_task.res);
		}
	}
	us->need_arm = false;
	return rc;
}

static void
uring_group_close(struct nvt_sock_group_impl *gi)
{
	struct uring_group *g = uring_group(gi);

	io_uring_queue_exit(&g->ring);
	free(g);
}

static struct nvt_sock_impl g_uring_impl = {
	.name = "uring",
	.priority = 5,
	.sock_size = sizeof(struct uring_sock),
	.sock_init = uring_sock_init,
	.sock_drained = uring_sock_drained,
	.readv = uring_sock_readv,
	.flush = uring_sock_flush,
	.group_impl_create = uring_group_create,
	.group_impl_get_fd = uring_group_get_fd,
	.group_impl_add_sock = uring_group_add_sock,
	.group_impl_remove_sock = uring_group_remove_sock,
	.group_impl_poll = uring_group_poll,
	.group_impl_commit = uring_group_commit,
	.group_impl_close = uring_group_close,
};

NVT_SOCK_IMPL_REGISTER(uring, &g_uring_impl)
