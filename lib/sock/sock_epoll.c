/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket groups over epoll, shared by the implementations that use plain
 * system calls on their fds (see nvtcp/internal/sock_epoll.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvtcp/internal/sock_epoll.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"

static struct nvt_sock_epoll *
sock_epoll(struct nvt_sock *sock)
{
	return (struct nvt_sock_epoll *)sock;
}

static struct nvt_sock_epoll_group *
sock_epoll_group(struct nvt_sock_group_impl *gi)
{
	return (struct nvt_sock_epoll_group *)gi;
}

ssize_t
nvt_sock_epoll_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	struct nvt_sock_epoll *es = sock_epoll(sock);
	size_t want = 0;
	ssize_t n;
	int i;

	/* The next epoll_wait reports new input; the usual read-until-EAGAIN costs no syscall. */
	if (es->drained) {
		return -EAGAIN;
	}
	do {
		n = readv(sock->fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	if (sock->group_impl == NULL || n == 0 || (n < 0 && n != -EAGAIN)) {
		return n;
	}
	for (i = 0; i < iovcnt; i++) {
		want += iov[i].iov_len;
	}
	es->drained = n == -EAGAIN || (size_t)n < want;
	return n;
}

int
nvt_sock_epoll_set_events(struct nvt_sock_epoll *es, uint32_t events)
{
	struct nvt_sock_group_impl *gi = es->base.group_impl;
	struct epoll_event ev = { .events = events, .data.ptr = es };
	int op;

	if (gi == NULL || es->events == events) {
		return 0;
	}
	op = es->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	if (epoll_ctl(sock_epoll_group(gi)->epfd, op, es->base.fd, &ev) != 0) {
		return -errno;
	}
	es->events = events;
	return 0;
}

int
nvt_sock_epoll_block_out(struct nvt_sock_epoll *es)
{
	es->out_blocked = true;
	return nvt_sock_epoll_set_events(es, EPOLLIN | EPOLLOUT);
}

static ssize_t
sock_epoll_sendmsg(struct nvt_sock *sock, size_t *len)
{
	struct iovec iovs[NVT_SOCK_IOV_BATCH];
	struct msghdr msg = { .msg_iov = iovs };
	ssize_t n;

	msg.msg_iovlen = (size_t)nvt_sock_prep_iovs(sock, iovs, NVT_SOCK_IOV_BATCH, len);
	do {
		n = sendmsg(sock->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	return n;
}

int
nvt_sock_epoll_flush(struct nvt_sock *sock)
{
	struct nvt_sock_epoll *es = sock_epoll(sock);
	int rc, progress = 0;
	size_t len;
	ssize_t n;

	if (es->out_blocked) {
		return 0;
	}
	while (!TAILQ_EMPTY(&sock->queued_reqs)) {
		n = sock_epoll_sendmsg(sock, &len);
		if (n == -EAGAIN) {
			nvt_sock_epoll_block_out(es);
			return progress;
		}
		if (n < 0) {
			rc = nvt_sock_fail_requests(sock, (int)n);
			return rc == -EBADF ? rc : (int)n;
		}
		progress = 1;
		rc = nvt_sock_complete_bytes(sock, (size_t)n);
		if (rc < 0 || sock->close_pending) {
			return rc == -EBADF ? rc : progress;
		}
		if ((size_t)n < len) {
			/* The kernel took what fit; another try now would only get EAGAIN. */
			nvt_sock_epoll_block_out(es);
			return progress;
		}
	}
	nvt_sock_epoll_set_events(es, EPOLLIN);
	return progress;
}

void
nvt_sock_epoll_set_ready(struct nvt_sock_epoll *es, bool ready)
{
	struct nvt_sock_group_impl *gi = es->base.group_impl;
	struct nvt_sock_epoll_group *g;

	if (gi == NULL || es->on_ready == ready) {
		return;
	}
	g = sock_epoll_group(gi);
	if (ready) {
		TAILQ_INSERT_TAIL(&g->ready, es, ready_link);
		/* Also when it happens outside a poll: the thread must not sleep on it. */
		nvt_sock_group_impl_wake(gi);
	} else {
		TAILQ_REMOVE(&g->ready, es, ready_link);
	}
	es->on_ready = ready;
}

struct nvt_sock_group_impl *
nvt_sock_epoll_group_create(void)
{
	struct nvt_sock_epoll_group *g;

	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return NULL;
	}
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0) {
		NVT_ERRLOG("sock: epoll_create1 failed: %s", nvt_strerror(errno));
		free(g);
		return NULL;
	}
	TAILQ_INIT(&g->ready);
	return &g->base;
}

int
nvt_sock_epoll_group_get_fd(struct nvt_sock_group_impl *gi)
{
	return sock_epoll_group(gi)->epfd;
}

int
nvt_sock_epoll_group_add_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct nvt_sock_epoll *es = sock_epoll(sock);

	(void)gi;
	es->events = 0;
	es->out_blocked = false;
	es->drained = false;
	es->on_ready = false;
	es->reported = 0;
	/* A connecting socket becomes writable (or fails) when the connect ends. */
	return nvt_sock_epoll_set_events(es, sock->connecting ? EPOLLOUT : EPOLLIN);
}

int
nvt_sock_epoll_group_remove_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct nvt_sock_epoll *es = sock_epoll(sock);
	int rc;

	(void)gi;
	nvt_sock_epoll_set_ready(es, false);
	rc = nvt_sock_epoll_set_events(es, 0);
	es->events = 0;
	es->out_blocked = false;
	es->drained = false;
	return rc;
}

bool
nvt_sock_epoll_event(struct nvt_sock_epoll *es, uint32_t events)
{
	struct nvt_sock *sock = &es->base;

	if (sock->connecting) {
		if (!sock->connect_done) {
			nvt_sock_connect_check(sock);
			nvt_sock_epoll_set_events(es, EPOLLIN);
		}
		return true;
	}
	/* A failed connection never gets room again: let the send report its error. */
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && es->out_blocked) {
		es->out_blocked = false;
		nvt_sock_mark_dirty(sock);
	}
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) == 0) {
		return false;
	}
	es->drained = false;
	return true;
}

/* Report each socket at most once per poll, also when epoll and the ready list both name it. */
static bool
sock_epoll_report(struct nvt_sock_epoll_group *g, struct nvt_sock_epoll *es)
{
	if (es->reported == g->polls) {
		return false;
	}
	es->reported = g->polls;
	return true;
}

/* The ready list round-robin, so more than max_events of them all get a turn. */
static int
sock_epoll_collect_ready(struct nvt_sock_epoll_group *g, int count, int max_events,
			 struct nvt_sock **socks)
{
	struct nvt_sock_epoll *es, *last = TAILQ_LAST(&g->ready, nvt_sock_epoll_ready);

	while (count < max_events && (es = TAILQ_FIRST(&g->ready)) != NULL) {
		TAILQ_REMOVE(&g->ready, es, ready_link);
		TAILQ_INSERT_TAIL(&g->ready, es, ready_link);
		if (sock_epoll_report(g, es)) {
			socks[count++] = &es->base;
		}
		if (es == last) {
			break;
		}
	}
	return count;
}

int
nvt_sock_epoll_group_poll(struct nvt_sock_group_impl *gi, int max_events, struct nvt_sock **socks,
			  nvt_sock_epoll_event_fn event_fn)
{
	struct nvt_sock_epoll_group *g = sock_epoll_group(gi);
	struct epoll_event events[NVT_SOCK_GROUP_MAX_EVENTS];
	struct nvt_sock_epoll *es;
	int i, n, count = 0;

	g->polls++;
	n = epoll_wait(g->epfd, events, max_events, 0);
	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	for (i = 0; i < n; i++) {
		es = events[i].data.ptr;
		if (event_fn(es, events[i].events) && sock_epoll_report(g, es)) {
			socks[count++] = &es->base;
		}
	}
	return sock_epoll_collect_ready(g, count, max_events, socks);
}

bool
nvt_sock_epoll_group_commit(struct nvt_sock_group_impl *gi)
{
	return !TAILQ_EMPTY(&sock_epoll_group(gi)->ready);
}

void
nvt_sock_epoll_group_close(struct nvt_sock_group_impl *gi)
{
	struct nvt_sock_epoll_group *g = sock_epoll_group(gi);

	close(g->epfd);
	free(g);
}
