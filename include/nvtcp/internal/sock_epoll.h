/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The epoll machinery of the socket implementations that read and write
 * their fds with plain system calls ("posix", and "ssl" around its TLS
 * handshake and record layer). Not for applications.
 *
 * A group part is an epoll fd polled with a zero timeout, plus a list of
 * sockets that are ready without the kernel saying so (data already taken
 * off the fd and buffered in user space, or a failure to report): those are
 * reported on every poll until the implementation takes them off, which
 * keeps the level-triggered contract of nvtcp/sock.h. Reads are readv(),
 * queued writes go out with one sendmsg() per socket and poll; a socket
 * whose send buffer is full waits for EPOLLOUT instead of spinning.
 *
 * An implementation embeds struct nvt_sock_epoll as the first member of its
 * socket and uses these functions as (or inside) its nvt_sock_impl ops.
 * Everything here runs on the thread of the socket's group.
 */
#ifndef NVTCP_INTERNAL_SOCK_EPOLL_H
#define NVTCP_INTERNAL_SOCK_EPOLL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "nvtcp/internal/sock_module.h"
#include "nvtcp/queue.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The epoll part of a socket; embeds struct nvt_sock first. */
struct nvt_sock_epoll {
	struct nvt_sock base;
	/** Events registered in the group's epoll set; 0 when not registered. */
	uint32_t events;
	/** A send found the send buffer full: wait for EPOLLOUT before trying again. */
	bool out_blocked;
	/** A read came back short since epoll last reported input: nothing to read. */
	bool drained;
	/** On the group's ready list (see nvt_sock_epoll_set_ready()). */
	bool on_ready;
	/** The group poll that last reported the socket (one report per poll). */
	uint64_t reported;
	TAILQ_ENTRY(nvt_sock_epoll) ready_link;
};

/** The group part; every field is owned by the group's thread. */
struct nvt_sock_epoll_group {
	struct nvt_sock_group_impl base;
	int epfd;
	/** Polls so far, to report a socket at most once per poll. */
	uint64_t polls;
	/** Sockets reported on every poll, with or without an epoll event. */
	TAILQ_HEAD(nvt_sock_epoll_ready, nvt_sock_epoll) ready;
};

/**
 * What one epoll event of a socket means to its implementation.
 *
 * \param events The epoll events reported.
 * \return true to report the socket to its callback (or its connect outcome).
 * Must run no callback: other sockets of the same poll are handled after it.
 */
typedef bool (*nvt_sock_epoll_event_fn)(struct nvt_sock_epoll *es, uint32_t events);

/** The event handling of "posix": connect outcome, room to send, input. */
bool nvt_sock_epoll_event(struct nvt_sock_epoll *es, uint32_t events);

/**
 * readv() of the fd. Inside a group, a read that comes back short marks
 * the socket drained: later reads return -EAGAIN without a system call
 * until epoll reports input again.
 *
 * \return bytes, 0 at end of stream, -EAGAIN, or -errno.
 */
ssize_t nvt_sock_epoll_readv(struct nvt_sock *sock, struct iovec *iov, int iovcnt);

/**
 * Send the socket's queued requests with sendmsg() until they are all sent
 * or the send buffer is full (then EPOLLOUT resumes it); an nvt_sock_impl
 * flush op.
 */
int nvt_sock_epoll_flush(struct nvt_sock *sock);

/**
 * Change the socket's registered events; 0 takes the fd out of the epoll
 * set (a failed socket whose fd would only report hang-ups). No-op outside
 * a group.
 *
 * \return 0 or -errno of epoll_ctl().
 */
int nvt_sock_epoll_set_events(struct nvt_sock_epoll *es, uint32_t events);

/** The send buffer is full: sending resumes when epoll reports room (EPOLLOUT). */
int nvt_sock_epoll_block_out(struct nvt_sock_epoll *es);

/**
 * Put the socket on (or take it off) its group's ready list: while on it,
 * it is reported on every poll and the group's thread does not sleep. The
 * list is the group's: removal from the group takes the socket off, and an
 * implementation that keeps the reason puts it back when added again.
 */
void nvt_sock_epoll_set_ready(struct nvt_sock_epoll *es, bool ready);

/** nvt_sock_impl ops of the group part. */
struct nvt_sock_group_impl *nvt_sock_epoll_group_create(void);
int nvt_sock_epoll_group_get_fd(struct nvt_sock_group_impl *gi);
/** Registers EPOLLOUT for a connecting socket, EPOLLIN otherwise. */
int nvt_sock_epoll_group_add_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock);
int nvt_sock_epoll_group_remove_sock(struct nvt_sock_group_impl *gi, struct nvt_sock *sock);
/** Whether sockets are on the ready list (the thread must poll again). */
bool nvt_sock_epoll_group_commit(struct nvt_sock_group_impl *gi);
void nvt_sock_epoll_group_close(struct nvt_sock_group_impl *gi);

/**
 * Gather up to \p max_events ready sockets: those epoll reports, as \p
 * event_fn decides, then those of the ready list, round-robin.
 *
 * \return number of sockets stored in \p socks, or -errno of epoll_wait().
 */
int nvt_sock_epoll_group_poll(struct nvt_sock_group_impl *gi, int max_events,
			      struct nvt_sock **socks, nvt_sock_epoll_event_fn event_fn);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_INTERNAL_SOCK_EPOLL_H */
