/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket groups: the sockets one nvt_thread polls. A group holds one part
 * per implementation (created on first use), dispatches ready sockets to
 * their callbacks and sends queued writes in batches at the end of a poll.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "sock_internal.h"

struct nvt_sock_group *
nvt_sock_group_create(void *ctx)
{
	struct nvt_sock_group *group;

	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		return NULL;
	}
	TAILQ_INIT(&group->impls);
	TAILQ_INIT(&group->dirty);
	TAILQ_INIT(&group->closing);
	group->thread = nvt_get_thread();
	group->ctx = ctx;
	return group;
}

void *
nvt_sock_group_get_ctx(const struct nvt_sock_group *group)
{
	return group->ctx;
}

/* Nothing to do: the message only keeps the thread awake for another poll. */
static void
sock_group_kick_msg(void *ctx)
{
	(void)ctx;
}

void
sock_group_kick(struct nvt_sock_group *group)
{
	if (group->thread == NULL || group->kick_pending || group->in_poll) {
		return;
	}
	if (nvt_thread_send_msg(group->thread, sock_group_kick_msg, NULL) == 0) {
		group->kick_pending = true;
	} else {
		nvt_thread_wakeup(group->thread);
	}
}

void
nvt_sock_group_impl_wake(struct nvt_sock_group_impl *gi)
{
	sock_group_kick(gi->group);
}

void
nvt_sock_mark_dirty(struct nvt_sock *sock)
{
	struct nvt_sock_group *group;

	if (sock->group_impl == NULL || sock->is_dirty) {
		return;
	}
	group = sock->group_impl->group;
	TAILQ_INSERT_TAIL(&group->dirty, sock, dirty_link);
	sock->is_dirty = true;
	sock_group_kick(group);
}

static void
sock_group_impl_release(struct nvt_sock_group *group, struct nvt_sock_group_impl *gi)
{
	if (gi->wakeup_fd >= 0) {
		nvt_thread_del_wakeup_fd(gi->wakeup_fd);
	}
	TAILQ_REMOVE(&group->impls, gi, link);
	gi->impl->group_impl_close(gi);
}

static int
sock_group_impl_attach(struct nvt_sock_group *group, struct nvt_sock_group_impl *gi)
{
	int fd, rc;

	gi->group = group;
	gi->wakeup_fd = -1;
	TAILQ_INSERT_TAIL(&group->impls, gi, link);
	fd = gi->impl->group_impl_get_fd != NULL ? gi->impl->group_impl_get_fd(gi) : -1;
	if (group->thread == NULL || fd < 0) {
		return 0;
	}
	assert(nvt_get_thread() == group->thread);
	rc = nvt_thread_add_wakeup_fd(fd, EPOLLIN);
	if (rc != 0) {
		NVT_ERRLOG("sock: group %p: cannot make fd %d (%s) wake thread %s: rc %d (%s)",
			   (void *)group, fd, gi->impl->name, nvt_thread_get_name(group->thread),
			   rc, nvt_strerror(rc));
		sock_group_impl_release(group, gi);
		return rc;
	}
	gi->wakeup_fd = fd;
	return 0;
}

static struct nvt_sock_group_impl *
sock_group_get_impl(struct nvt_sock_group *group, const struct nvt_sock_impl *impl, int *rc)
{
	struct nvt_sock_group_impl *gi;

	TAILQ_FOREACH(gi, &group->impls, link) {
		if (gi->impl == impl) {
			return gi;
		}
	}
	gi = impl->group_impl_create();
	if (gi == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	gi->impl = impl;
	*rc = sock_group_impl_attach(group, gi);
	return *rc == 0 ? gi : NULL;
}

int
nvt_sock_group_add_sock(struct nvt_sock_group *group, struct nvt_sock *sock, nvt_sock_cb cb_fn,
			void *cb_arg)
{
	struct nvt_sock_group_impl *gi;
	int rc = 0;

	if (cb_fn == NULL || sock->close_pending) {
		return -EINVAL;
	}
	if (sock->group_impl != NULL) {
		return -EBUSY;
	}
	gi = sock_group_get_impl(group, sock->impl, &rc);
	if (gi == NULL) {
		return rc;
	}
	sock->cb_fn = cb_fn;
	sock->cb_arg = cb_arg;
	sock->group_impl = gi;
	rc = gi->impl->group_impl_add_sock(gi, sock);
	if (rc != 0) {
		NVT_ERRLOG("sock: group %p: adding fd %d failed: rc %d (%s)", (void *)group,
			   sock->fd, rc, nvt_strerror(rc));
		sock->group_impl = NULL;
		sock->cb_fn = NULL;
		return rc;
	}
	gi->num_socks++;
	group->num_socks++;
	/* Requests queued while it was in no group (or another) go out from here on. */
	if (!TAILQ_EMPTY(&sock->queued_reqs) || sock->write_err != 0) {
		nvt_sock_mark_dirty(sock);
	}
	return 0;
}

static void
sock_group_forget(struct nvt_sock_group *group, struct nvt_sock *sock)
{
	int i;

	if (sock->is_dirty) {
		TAILQ_REMOVE(&group->dirty, sock, dirty_link);
		sock->is_dirty = false;
	}
	/* A later callback of the running poll must not see it (it may be freed by then). */
	for (i = 0; i < group->poll_count; i++) {
		if (group->poll_socks[i] == sock) {
			group->poll_socks[i] = NULL;
		}
	}
}

int
nvt_sock_group_remove_sock(struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct nvt_sock_group_impl *gi = sock->group_impl;
	int rc;

	if (gi == NULL || gi->group != group) {
		return -EINVAL;
	}
	rc = gi->impl->group_impl_remove_sock(gi, sock);
	if (rc != 0) {
		NVT_ERRLOG("sock: group %p: removing fd %d failed: rc %d (%s)", (void *)group,
			   sock->fd, rc, nvt_strerror(rc));
	}
	/* After the implementation: its completions may have marked the socket dirty. */
	sock_group_forget(group, sock);
	sock->group_impl = NULL;
	sock->cb_fn = NULL;
	sock->cb_arg = NULL;
	gi->num_socks--;
	group->num_socks--;
	return 0;
}

void
sock_group_detach(struct nvt_sock *sock)
{
	if (sock->group_impl != NULL) {
		nvt_sock_group_remove_sock(sock->group_impl->group, sock);
	}
}

bool
sock_group_defers_close(struct nvt_sock *sock)
{
	struct nvt_sock_group *group;

	if (sock->group_impl == NULL || !sock->group_impl->group->in_poll) {
		return false;
	}
	group = sock->group_impl->group;
	TAILQ_INSERT_TAIL(&group->closing, sock, close_link);
	sock->close_listed = true;
	return true;
}

static void
sock_group_report_connect(struct nvt_sock *sock)
{
	int status = sock->connect_status;

	sock->connecting = false;
	if (sock->connect_cb != NULL) {
		sock->cb_depth++;
		sock->connect_cb(sock->connect_cb_arg, sock, status);
		sock->cb_depth--;
	}
	if (sock->close_pending) {
		return;
	}
	if (status != 0) {
		nvt_sock_fail_requests(sock, status);
	} else if (!TAILQ_EMPTY(&sock->queued_reqs)) {
		nvt_sock_mark_dirty(sock);
	}
}

static void
sock_group_dispatch(struct nvt_sock_group *group, struct nvt_sock_group_impl *gi, int count)
{
	struct nvt_sock *sock;
	int i;

	group->poll_count = count;
	for (i = 0; i < count; i++) {
		sock = group->poll_socks[i];
		if (sock == NULL || sock->close_pending || sock->group_impl != gi) {
			continue;
		}
		if (sock->connecting) {
			if (sock->connect_done) {
				sock_group_report_connect(sock);
			}
			continue;
		}
		sock->cb_depth++;
		sock->cb_fn(sock->cb_arg, group, sock);
		sock->cb_depth--;
	}
	group->poll_count = 0;
}

/*
 * Only the sockets dirty when this starts: a completion callback that writes
 * again on its socket must not keep one poll sending forever.
 */
static int
sock_group_flush_dirty(struct nvt_sock_group *group)
{
	struct nvt_sock *sock;
	int events = 0, budget = 0;

	TAILQ_FOREACH(sock, &group->dirty, dirty_link) {
		budget++;
	}
	while (budget-- > 0 && (sock = TAILQ_FIRST(&group->dirty)) != NULL) {
		TAILQ_REMOVE(&group->dirty, sock, dirty_link);
		sock->is_dirty = false;
		if (sock_flush_one(sock) > 0) {
			events++;
		}
	}
	return events;
}

static void
sock_group_finish_closes(struct nvt_sock_group *group)
{
	struct nvt_sock *sock;

	while ((sock = TAILQ_FIRST(&group->closing)) != NULL) {
		TAILQ_REMOVE(&group->closing, sock, close_link);
		sock_close_now(sock);
	}
}

static bool
sock_group_commit(struct nvt_sock_group *group)
{
	struct nvt_sock_group_impl *gi;
	bool left_over = false;

	TAILQ_FOREACH(gi, &group->impls, link) {
		if (gi->impl->group_impl_commit != NULL && gi->impl->group_impl_commit(gi)) {
			left_over = true;
		}
	}
	return left_over;
}

static int
sock_group_poll_impls(struct nvt_sock_group *group, int max_events)
{
	struct nvt_sock_group_impl *gi;
	int n, events = 0, rc = 0;

	TAILQ_FOREACH(gi, &group->impls, link) {
		if (gi->num_socks == 0) {
			continue;
		}
		n = gi->impl->group_impl_poll(gi, max_events, group->poll_socks);
		if (nvt_unlikely(n < 0)) {
			NVT_ERRLOG("sock: group %p: %s poll failed: rc %d (%s)", (void *)group,
				   gi->impl->name, n, nvt_strerror(n));
			rc = n;
			continue;
		}
		events += n;
		sock_group_dispatch(group, gi, n);
	}
	return events > 0 ? events : rc;
}

int
nvt_sock_group_poll_count(struct nvt_sock_group *group, int max_events)
{
	bool left_over;
	int rc;

	if (max_events < 1 || max_events > NVT_SOCK_GROUP_MAX_EVENTS) {
		return -EINVAL;
	}
	group->in_poll = true;
	group->kick_pending = false;
	group->completions = 0;
	rc = sock_group_poll_impls(group, max_events);
	if (rc >= 0) {
		rc += sock_group_flush_dirty(group);
	}
	left_over = sock_group_commit(group);
	sock_group_finish_closes(group);
	group->in_poll = false;
	if (left_over || !TAILQ_EMPTY(&group->dirty)) {
		sock_group_kick(group);
	}
	return rc >= 0 ? rc + (int)group->completions : rc;
}

int
nvt_sock_group_poll(struct nvt_sock_group *group)
{
	return nvt_sock_group_poll_count(group, NVT_SOCK_GROUP_MAX_EVENTS);
}

int
nvt_sock_group_close(struct nvt_sock_group **pgroup)
{
	struct nvt_sock_group *group = *pgroup;
	struct nvt_sock_group_impl *gi;

	if (group == NULL) {
		return 0;
	}
	if (group->num_socks > 0) {
		NVT_ERRLOG("sock: group %p still holds %u sockets", (void *)group,
			   group->num_socks);
		return -EBUSY;
	}
	while ((gi = TAILQ_FIRST(&group->impls)) != NULL) {
		sock_group_impl_release(group, gi);
	}
	free(group);
	*pgroup = NULL;
	return 0;
}
