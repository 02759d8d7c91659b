/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "posix" socket implementation: a group is an epoll fd polled with a
 * zero timeout; reads are readv(), queued writes go out with one sendmsg()
 * per socket and poll, gathering up to NVT_SOCK_IOV_BATCH iovecs across
 * requests. A socket whose send buffer is full gets EPOLLOUT interest until
 * it drained, so pending writes never make a poller spin.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvtcp/internal/sock_module.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"

struct posix_sock {
	struct nvt_sock base;
	/* The epoll events the socket is registered with in its group (0: none). */
	uint32_t events;
	/* sendmsg() hit a full send buffer: wait for EPOLLOUT before trying again. */
	bool out_blocked;
	/* A read came back short since epoll last reported input: nothing to read. */
	bool drained;
};

struct posix_group {
	struct nvt_sock_group_impl base;
	int epfd;
};

static struct posix_sock *
posix_sock(struct nvt_sock *sock)
{
	return (struct posix_sock *)sock;
}

static struct posix_group *
posix_group(struct nvt_sock_group_impl *gi)
{
	return (struct posix_group *)gi;
}

static ssize_t
posix_sock_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt)
{
	struct posix_sock *psock = posix_sock(sock);
	size_t want = 0;
	ssize_t n;
	int i;

	/* The next epoll_wait reports new input; the usual read-until-EAGAIN costs no syscall. */
	if (psock->drained) {
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
	psock->drained = n == -EAGAIN || (size_t)n < want;
	return n;
}

static int
posix_sock_set_events(struct posix_sock *psock, uint32_t events)
{
	struct nvt_sock_group_impl *gi = psock->base.group_impl;
	struct epoll_event ev = { .events = events, .data.ptr = psock };

	if (gi == NULL || psock->events == events) {
		return 0;
	}
	if (epoll_ctl(posix_group(gi)->epfd, EPOLL_CTL_MOD, psock->base.fd, &ev) != 0) {
		return -errno;
	}
	psock->events = events;
	return 0;
}

/* The send buffer is full: sending resumes when epoll reports room. */
static int
posix_sock_block_out(struct posix_sock *psock)
{
	psock->out_blocked = true;
	return posix_sock_set_events(psock, EPOLLIN | EPOLLOUT);
}

static ssize_t
posix_sock_sendmsg(struct nvt_sock *sock, size_t *len)
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

static int
posix_sock_flush(struct nvt_sock *sock)
{
	struct posix_sock *psock = posix_sock(sock);
	int rc, progress = 0;
	size_t len;
	ssize_t n;

	if (psock->out_blocked) {
		return 0;
	}
	while (!TAILQ_EMPTY(&sock->queued_reqs)) {
		n = posix_sock_sendmsg(sock, &len);
		if (n == -EAGAIN) {
			posix_sock_block_out(psock);
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
			posix_sock_block_out(psock);
			return progress;
		}
	}
	posix_sock_set_events(psock, EPOLLIN);
	return progress;
}

static struct nvt_sock_group_impl *
posix_group_create(void)
{
	struct posix_group *group;

	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		return NULL;
	}
	group->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (group->epfd < 0) {
		NVT_ERRLOG("posix: epoll_create1 failed: %s", nvt_strerror(errno));
		free(group);
		return NULL;
	}
	return &group->base;
}

static int
posix_group_get_fd(struct nvt_sock_group_impl *gi)
{
	return posix_group(gi)->epfd;
}

static int
posix_group_add_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct posix_sock *psock = posix_sock(sock);
	struct epoll_event ev = { .data.ptr = psock };

	/* A connecting socket becomes writable (or fails) when the connect ends. */
	ev.events = sock->connecting ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(posix_group(gi)->epfd, EPOLL_CTL_ADD, sock->fd, &ev) != 0) {
		return -errno;
	}
	psock->events = ev.events;
	psock->out_blocked = false;
	psock->drained = false;
	return 0;
}

static int
posix_group_remove_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock)
{
	struct posix_sock *psock = posix_sock(sock);
	int rc = 0;

	if (epoll_ctl(posix_group(gi)->epfd, EPOLL_CTL_DEL, sock->fd, NULL) != 0) {
		rc = -errno;
	}
	psock->events = 0;
	psock->out_blocked = false;
	psock->drained = false;
	return rc;
}

/* Whether the event makes the socket worth a callback. */
static bool
posix_sock_event(struct posix_sock *psock, uint32_t events)
{
	struct nvt_sock *sock = &psock->base;

	if (sock->connecting) {
		if (!sock->connect_done) {
			nvt_sock_connect_check(sock);
			posix_sock_set_events(psock, EPOLLIN);
		}
		return true;
	}
	/* A failed connection never gets room again: let the send report its error. */
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && psock->out_blocked) {
		psock->out_blocked = false;
		nvt_sock_mark_dirty(sock);
	}
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) == 0) {
		return false;
	}
	psock->drained = false;
	return true;
}

static int
posix_group_poll(struct nvt_sock_group_impl *gi, int max_events, struct nvt_sock **socks)
{
	struct epoll_event events[NVT_SOCK_GROUP_MAX_EVENTS];
	struct posix_sock *psock;
	int i, n, count = 0;

	n = epoll_wait(posix_group(gi)->epfd, events, max_events, 0);
	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	for (i = 0; i < n; i++) {
		psock = events[i].data.ptr;
		if (posix_sock_event(psock, events[i].events)) {
			socks[count++] = &psock->base;
		}
	}
	return count;
}

static void
posix_group_close(struct nvt_sock_group_impl *gi)
{
	struct posix_group *group = posix_group(gi);

	close(group->epfd);
	free(group);
}

static struct nvt_sock_impl g_posix_impl = {
	.name = "posix",
	.priority = 10,
	.sock_size = sizeof(struct posix_sock),
	.readv = posix_sock_readv,
	.flush = posix_sock_flush,
	.group_impl_create = posix_group_create,
	.group_impl_get_fd = posix_group_get_fd,
	.group_impl_add_sock = posix_group_add_sock,
	.group_impl_remove_sock = posix_group_remove_sock,
	.group_impl_poll = posix_group_poll,
	.group_impl_close = posix_group_close,
};

NVT_SOCK_IMPL_REGISTER(posix, &g_posix_impl)
