/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "posix" socket implementation: a group is an epoll fd polled with a
 * zero timeout; reads are readv(), queued writes go out with one sendmsg()
 * per socket and poll, gathering up to NVT_SOCK_IOV_BATCH iovecs across
 * requests. A socket whose send buffer is full gets EPOLLOUT interest until
 * it drained, so pending writes never make a poller spin. The machinery is
 * shared with "ssl" (nvtcp/internal/sock_epoll.h); this is its plain use.
 */
#include "nvtcp/internal/sock_epoll.h"
#include "nvtcp/internal/sock_module.h"

static int
posix_group_poll(struct nvt_sock_group_impl *gi, int max_events, struct nvt_sock **socks)
{
	return nvt_sock_epoll_group_poll(gi, max_events, socks, nvt_sock_epoll_event);
}

static struct nvt_sock_impl g_posix_impl = {
	.name = "posix",
	.priority = 10,
	.sock_size = sizeof(struct nvt_sock_epoll),
	.readv = nvt_sock_epoll_readv,
	.flush = nvt_sock_epoll_flush,
	.group_impl_create = nvt_sock_epoll_group_create,
	.group_impl_get_fd = nvt_sock_epoll_group_get_fd,
	.group_impl_add_sock = nvt_sock_epoll_group_add_sock,
	.group_impl_remove_sock = nvt_sock_epoll_group_remove_sock,
	.group_impl_poll = posix_group_poll,
	.group_impl_commit = nvt_sock_epoll_group_commit,
	.group_impl_close = nvt_sock_epoll_group_close,
};

NVT_SOCK_IMPL_REGISTER(posix, &g_posix_impl)
