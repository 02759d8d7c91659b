/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The interface a socket implementation (module/sock/<name>) provides to
 * lib/sock, and the helpers lib/sock gives it back. Not for applications.
 *
 * lib/sock owns what every implementation shares: address parsing, creation
 * of the non-blocking socket fds and their options, accept, the queue of
 * write requests of each socket, deferred close and the socket groups. An
 * implementation owns how a group learns about ready sockets and how queued
 * requests reach the kernel. It embeds struct nvt_sock (and struct
 * nvt_sock_group_impl) as the first member of its own structs.
 */
#ifndef NVTCP_INTERNAL_SOCK_MODULE_H
#define NVTCP_INTERNAL_SOCK_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nvtcp/queue.h"
#include "nvtcp/sock.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_sock_impl;
struct nvt_sock_group_impl;

/** Most iovecs one send gathers from the queued requests of a socket. */
#define NVT_SOCK_IOV_BATCH 64

/** The shared part of every socket. Owned by the thread of its group. */
struct nvt_sock {
	const struct nvt_sock_impl *impl;
	/** Non-blocking socket fd, owned by the socket; closed by lib/sock. */
	int fd;
	/** AF_INET or AF_INET6. */
	int family;
	struct nvt_sock_opts opts;
	/** The group part that holds the socket, or NULL. */
	struct nvt_sock_group_impl *group_impl;
	nvt_sock_cb cb_fn;
	void *cb_arg;

	/** Write requests not yet completed, oldest first; the head may be partly sent. */
	TAILQ_HEAD(, nvt_sock_request) queued_reqs;
	/** Link in the group's list of sockets whose queue needs sending. */
	TAILQ_ENTRY(nvt_sock) dirty_link;
	/** Link in the group's list of sockets whose close waits for the poll's end. */
	TAILQ_ENTRY(nvt_sock) close_link;
	/** First write error; later requests complete with it. 0 while healthy. */
	int write_err;
	/** Callbacks of this socket now running (close is deferred until 0). */
	uint32_t cb_depth;

	nvt_sock_connect_cb connect_cb;
	void *connect_cb_arg;
	/** Result of the connect, valid once connect_done. */
	int connect_status;
	bool is_listen;
	/** A non-blocking connect was started and its outcome not yet reported. */
	bool connecting;
	/** The implementation saw the outcome (connect_status); report it. */
	bool connect_done;
	bool is_dirty;
	/** Close was asked while callbacks ran; lib/sock finishes it. */
	bool close_pending;
	/** On its group's close list (finished at the end of the poll). */
	bool close_listed;
};

/** The part of a group that holds the sockets of one implementation. */
struct nvt_sock_group_impl {
	const struct nvt_sock_impl *impl;
	struct nvt_sock_group *group;
	TAILQ_ENTRY(nvt_sock_group_impl) link;
	/** Sockets in this part. */
	uint32_t num_socks;
	/** The fd registered with nvt_thread_add_wakeup_fd() (-1 if none). */
	int wakeup_fd;
};

/**
 * Operations of an implementation. The socket fds are made by lib/sock; the
 * implementation allocates nothing per socket but the sock_size bytes.
 */
struct nvt_sock_impl {
	const char *name;
	/** The highest registered priority is the default implementation. */
	int priority;
	/** Bytes of the implementation's socket struct (embedding struct nvt_sock first). */
	size_t sock_size;

	/**
	 * Optional: set up the implementation part of a new socket (is_listen
	 * and connecting tell what it is); 0 or -errno, which the listen,
	 * accept or connect then fails with.
	 */
	int (*sock_init)(struct nvt_sock *sock);
	/** Optional: release it, just before lib/sock closes the fd and frees it. */
	void (*sock_fini)(struct nvt_sock *sock);

	/** Optional: accept() found no connection left on this listening socket. */
	void (*sock_drained)(struct nvt_sock *sock);

	/** Read: bytes, 0 at end of stream, -EAGAIN or -errno. */
	ssize_t (*readv)(struct nvt_sock *sock, struct iovec *iov, int iovcnt);

	/**
	 * Push queued requests towards the kernel without waiting: send now,
	 * or prepare a send that group_impl_commit() submits. Complete requests
	 * with nvt_sock_complete_bytes() / nvt_sock_fail_requests().
	 *
	 * \return 1 progress, 0 nothing could be done now (the implementation
	 * then arranges to be told when the socket is writable), -EBADF when
	 * a completion callback closed the socket (do not touch it), or -errno
	 * (requests failed).
	 */
	int (*flush)(struct nvt_sock *sock);

	/** Create the implementation part of a group; NULL when that fails. */
	struct nvt_sock_group_impl *(*group_impl_create)(void);
	/** The fd that becomes readable when the part has events, or -1. */
	int (*group_impl_get_fd)(struct nvt_sock_group_impl *group);
	int (*group_impl_add_sock)(struct nvt_sock_group_impl *group, struct nvt_sock *sock);
	/**
	 * Forget the socket. Afterwards no event of it may be reported and no
	 * kernel operation may still refer to it. May complete its requests.
	 */
	int (*group_impl_remove_sock)(struct nvt_sock_group_impl *group, struct nvt_sock *sock);
	/**
	 * Gather up to \p max_events ready sockets into \p socks (readable,
	 * failed, or with connect_done set), without waiting. May complete
	 * write requests (their callbacks run here).
	 *
	 * \return number of sockets stored, or -errno.
	 */
	int (*group_impl_poll)(struct nvt_sock_group_impl *group, int max_events,
			       struct nvt_sock **socks);
	/**
	 * Optional: hand prepared work to the kernel at the end of a group
	 * poll. \return true when events are known to be left over, so the
	 * owning thread must poll again without sleeping.
	 */
	bool (*group_impl_commit)(struct nvt_sock_group_impl *group);
	/** Release the part; it holds no socket any more. */
	void (*group_impl_close)(struct nvt_sock_group_impl *group);

	/** Optional: nvt_sock_get_tls_info() (-ENOTSUP without). */
	int (*get_tls_info)(const struct nvt_sock *sock, struct nvt_sock_tls_info *info);
	/** Optional, with set_opts: the implementation's options (full size). */
	void (*get_opts)(struct nvt_sock_impl_opts *opts);
	/** Set them; 0, or -EINVAL for a value it does not take (nothing changed). */
	int (*set_opts)(const struct nvt_sock_impl_opts *opts);

	TAILQ_ENTRY(nvt_sock_impl) link;
};

/** Register an implementation; called by NVT_SOCK_IMPL_REGISTER() at load time. */
void nvt_sock_impl_register(struct nvt_sock_impl *impl);

/**
 * Register \p impl (a struct nvt_sock_impl) from a constructor. Link the
 * module library with link_whole so the constructor is kept.
 */
#define NVT_SOCK_IMPL_REGISTER(shortname, impl)                                           \
	__attribute__((constructor)) static void nvt_sock_impl_register_##shortname(void) \
	{                                                                                 \
		nvt_sock_impl_register(impl);                                             \
	}

/**
 * Build at most \p max iovecs from the queued requests, starting after what
 * was already sent. \p len gets their byte count (may be NULL).
 *
 * \return the number of iovecs (0 when nothing is queued).
 */
int nvt_sock_prep_iovs(struct nvt_sock *sock, struct iovec *iovs, int max, size_t *len);

/**
 * Account \p bytes sent from the head of the queue: fully sent requests are
 * completed with 0 (their callbacks run here).
 *
 * \return number of requests completed, or -EBADF when a callback closed
 * the socket: it is freed then and must not be touched.
 */
int nvt_sock_complete_bytes(struct nvt_sock *sock, size_t bytes);

/**
 * Remember \p err as the socket's write error and complete every queued
 * request with it.
 *
 * \return 0, or -EBADF when a callback closed (freed) the socket.
 */
int nvt_sock_fail_requests(struct nvt_sock *sock, int err);

/**
 * Ask the group to flush the socket on its next poll (it became writable
 * again, or finished connecting). No-op outside a group.
 */
void nvt_sock_mark_dirty(struct nvt_sock *sock);

/**
 * Ask for another poll of the group soon: the implementation has events it
 * found outside a poll (the owning thread must not sleep on them).
 */
void nvt_sock_group_impl_wake(struct nvt_sock_group_impl *group);

/**
 * Read the outcome of a non-blocking connect from the fd (SO_ERROR) into
 * connect_status and set connect_done, if a connect is in progress.
 *
 * \return connect_status.
 */
int nvt_sock_connect_check(struct nvt_sock *sock);

/** The outcome of the socket's TCP connect, from the fd (SO_ERROR): 0 or -errno. */
int nvt_sock_connect_error(const struct nvt_sock *sock);

/**
 * The connect in progress is over with \p status (0 or -errno): the group
 * reports it on this poll. For an implementation that does more than the
 * TCP connect before the socket is usable (a TLS handshake).
 */
void nvt_sock_connect_finish(struct nvt_sock *sock, int status);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_INTERNAL_SOCK_MODULE_H */
