/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared between the files of lib/sock; not part of any API. */
#ifndef NVT_SOCK_INTERNAL_H
#define NVT_SOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nvtcp/internal/sock_module.h"
#include "nvtcp/queue.h"
#include "nvtcp/sock.h"
#include "nvtcp/thread.h"

/* A socket group; every field is owned by the group's thread. */
struct nvt_sock_group {
	/* One part per implementation that holds (or held) sockets of the group. */
	TAILQ_HEAD(, nvt_sock_group_impl) impls;
	/* Sockets with queued writes to send at the end of the next poll. */
	TAILQ_HEAD(, nvt_sock) dirty;
	/* Sockets closed from callbacks of the running poll. */
	TAILQ_HEAD(, nvt_sock) closing;
	/* Owning nvt_thread, NULL when created outside any thread. */
	struct nvt_thread *thread;
	void *ctx;
	/* Sockets handed to callbacks by the running poll; removal NULLs entries. */
	struct nvt_sock *poll_socks[NVT_SOCK_GROUP_MAX_EVENTS];
	int poll_count;
	/* Requests completed since the poll began (counted as events). */
	uint32_t completions;
	uint32_t num_socks;
	bool in_poll;
	/* A wakeup message is on its way to the owning thread. */
	bool kick_pending;
};

/* sock.c */
const struct nvt_sock_impl *sock_impl_find(const char *name);
/* Complete every queued request with err, without remembering it as write_err. */
int sock_abort_requests(struct nvt_sock *sock, int err);
void sock_close_now(struct nvt_sock *sock);
/* Send what the socket has queued: 1 progress, 0 none, -EBADF freed, -errno. */
int sock_flush_one(struct nvt_sock *sock);

/* group.c */
void sock_group_kick(struct nvt_sock_group *group);
/* Take the socket out of its group (if any) for good: close path. */
void sock_group_detach(struct nvt_sock *sock);
bool sock_group_defers_close(struct nvt_sock *sock);

/* sock_fd.c */
int sock_addr_parse(const char *ip, int port, bool passive, struct sockaddr_storage *ss,
		    socklen_t *len);
int sock_fd_listen(const struct sockaddr_storage *ss, socklen_t len,
		   const struct nvt_sock_opts *opts);
int sock_fd_connect(const struct sockaddr_storage *ss, socklen_t len,
		    const struct nvt_sock_opts *opts, bool *in_progress);
int sock_fd_accept(int lfd, const struct nvt_sock_opts *opts, int *family);
int sock_fd_set_int(int fd, int level, int name, int val);
void sock_fmt_endpoint(const char *ip, int port, char *buf, size_t len);

#endif /* NVT_SOCK_INTERNAL_H */
