/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lightweight threads: creation, exit and the interrupt-mode hooks.
 * Messages live in msg.c, pollers in poller.c, io-channels in io_channel.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "thread_internal.h"

NVT_LOG_REGISTER_COMPONENT(thread)

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
struct thread_list g_threads = TAILQ_HEAD_INITIALIZER(g_threads);

static bool g_initialized;
static nvt_thread_op_fn g_op_fn;
static size_t g_ctx_sz;
static uint64_t g_next_id = 1;
static uint32_t g_thread_count;
__thread struct nvt_thread *tls_thread;

int
nvt_thread_lib_init(nvt_thread_op_fn op_fn, size_t ctx_sz)
{
	if (g_initialized) {
		return -EALREADY;
	}
	g_op_fn = op_fn;
	g_ctx_sz = ctx_sz;
	g_initialized = true;
	return 0;
}

void
nvt_thread_lib_fini(void)
{
	struct nvt_thread *thread;

	pthread_mutex_lock(&g_lock);
	TAILQ_FOREACH(thread, &g_threads, link) {
		NVT_ERRLOG("thread %s (id %lu) still exists at library shutdown\n", thread->name,
			   thread->id);
	}
	pthread_mutex_unlock(&g_lock);
	thread_release_devices();
	g_op_fn = NULL;
	g_ctx_sz = 0;
	g_initialized = false;
}

static int
thread_init_interrupt(struct nvt_thread *thread)
{
	struct epoll_event ev = { .events = EPOLLIN };

	thread->epfd = epoll_create1(EPOLL_CLOEXEC);
	thread->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	thread->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (thread->epfd < 0 || thread->efd < 0 || thread->tfd < 0) {
		return -errno;
	}
	/* The data field is never read: any event means "poll the thread". */
	if (epoll_ctl(thread->epfd, EPOLL_CTL_ADD, thread->efd, &ev) != 0 ||
	    epoll_ctl(thread->epfd, EPOLL_CTL_ADD, thread->tfd, &ev) != 0) {
		return -errno;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void
thread_free(struct nvt_thread *thread)
{
	thread_free_msgs(thread);
	pthread_mutex_destroy(&thread->overflow_lock);
	nvt_ring_free(&thread->msgs);
	free(thread->timers);
	close_fd(&thread->epfd);
	close_fd(&thread->efd);
	close_fd(&thread->tfd);
	free(thread);
}

static struct nvt_thread *
thread_alloc(const char *name, const struct nvt_cpuset *cpumask)
{
	struct nvt_thread *thread;

	thread = calloc(1, sizeof(*thread) + g_ctx_sz);
	if (thread == NULL) {
		return NULL;
	}
	/* First, so that thread_free() may always destroy it. */
	if (pthread_mutex_init(&thread->overflow_lock, NULL) != 0) {
		free(thread);
		return NULL;
	}
	thread->epfd = thread->efd = thread->tfd = -1;
	TAILQ_INIT(&thread->active_pollers);
	TAILQ_INIT(&thread->paused_pollers);
	TAILQ_INIT(&thread->io_channels);
	thread->msgs = nvt_ring_create(NVT_RING_MPSC, MSG_RING_SIZE);
	if (thread->msgs == NULL || thread_init_interrupt(thread) != 0) {
		NVT_ERRLOG("cannot allocate thread %s: %s\n", name ? name : "",
			   nvt_strerror(errno));
		thread_free(thread);
		return NULL;
	}
	if (cpumask != NULL) {
		thread->cpumask = *cpumask;
	} else {
		memset(&thread->cpumask, 0xff, sizeof(thread->cpumask));
	}
	return thread;
}

struct nvt_thread *
nvt_thread_create(const char *name, const struct nvt_cpuset *cpumask)
{
	struct nvt_thread *thread;
	int rc;

	if (cpumask != NULL && nvt_cpuset_count(cpumask) == 0) {
		NVT_ERRLOG("thread %s: empty cpumask\n", name ? name : "");
		return NULL;
	}
	thread = thread_alloc(name, cpumask);
	if (thread == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&g_lock);
	thread->id = g_next_id++;
	if (name != NULL) {
		nvt_strcpy_trunc(thread->name, sizeof(thread->name), name);
	} else {
		snprintf(thread->name, sizeof(thread->name), "thread%lu", thread->id);
	}
	TAILQ_INSERT_TAIL(&g_threads, thread, link);
	g_thread_count++;
	pthread_mutex_unlock(&g_lock);

	NVT_DEBUGLOG(thread, "created thread %s (id %lu)\n", thread->name, thread->id);
	if (g_op_fn != NULL) {
		rc = g_op_fn(thread, NVT_THREAD_OP_NEW);
		if (rc != 0) {
			NVT_ERRLOG("cannot schedule thread %s: %s\n", thread->name,
				   nvt_strerror(rc));
			atomic_store(&thread->state, THREAD_STATE_EXITED);
			nvt_thread_destroy(&thread);
			return NULL;
		}
	}
	return thread;
}

void
nvt_thread_exit(struct nvt_thread *thread)
{
	if (thread != tls_thread) {
		NVT_ERRLOG("thread %s: exit must be called on the thread itself\n", thread->name);
		return;
	}
	if (atomic_load(&thread->state) != THREAD_STATE_RUNNING) {
		return;
	}
	NVT_DEBUGLOG(thread, "thread %s exiting\n", thread->name);
	thread->exit_deadline = nvt_get_ticks() + THREAD_EXIT_TIMEOUT_SEC * nvt_get_ticks_hz();
	atomic_store(&thread->state, THREAD_STATE_EXITING);
}

bool
nvt_thread_is_exiting(const struct nvt_thread *thread)
{
	return atomic_load(&thread->state) != THREAD_STATE_RUNNING;
}

bool
nvt_thread_is_exited(const struct nvt_thread *thread)
{
	return atomic_load(&thread->state) == THREAD_STATE_EXITED;
}

void
nvt_thread_destroy(struct nvt_thread **pthread)
{
	struct nvt_thread *thread = *pthread;

	if (thread == NULL) {
		return;
	}
	if (!nvt_thread_is_exited(thread)) {
		NVT_ERRLOG("thread %s: destroyed before it exited\n", thread->name);
	}
	pthread_mutex_lock(&g_lock);
	TAILQ_REMOVE(&g_threads, thread, link);
	g_thread_count--;
	pthread_mutex_unlock(&g_lock);
	if (tls_thread == thread) {
		tls_thread = NULL;
	}
	thread_free(thread);
	*pthread = NULL;
}

static void
thread_check_exit(struct nvt_thread *thread, uint64_t now)
{
	if (thread->poller_count == 0 && thread->channel_count == 0 && !thread_has_msgs(thread)) {
		thread_release_pollers(thread, false);
		NVT_DEBUGLOG(thread, "thread %s exited\n", thread->name);
		atomic_store(&thread->state, THREAD_STATE_EXITED);
		return;
	}
	if (now < thread->exit_deadline) {
		return;
	}
	NVT_ERRLOG("thread %s: still holds %u pollers and %u io-channels %d s after exit; "
		   "forcing it out\n",
		   thread->name, thread->poller_count, thread->channel_count,
		   THREAD_EXIT_TIMEOUT_SEC);
	thread_release_pollers(thread, true);
	thread_report_channels(thread);
	atomic_store(&thread->state, THREAD_STATE_EXITED);
}

int
nvt_thread_poll(struct nvt_thread *thread, uint32_t max_msgs, uint64_t now)
{
	struct nvt_thread *orig = tls_thread;
	uint64_t end;
	int rc;

	if (now == 0) {
		now = nvt_get_ticks();
	}
	thread->last_tsc = now;
	tls_thread = thread;
	rc = thread_run_msgs(thread, max_msgs) > 0;
	rc |= thread_run_pollers(thread, now);
	if (nvt_unlikely(atomic_load_explicit(&thread->state, memory_order_relaxed) ==
			 THREAD_STATE_EXITING)) {
		thread_check_exit(thread, now);
	}
	end = nvt_get_ticks();
	if (end > now) {
		if (rc) {
			thread->stats.busy_tsc += end - now;
		} else {
			thread->stats.idle_tsc += end - now;
		}
	}
	tls_thread = orig;
	return rc;
}

uint64_t
nvt_thread_get_last_tsc(const struct nvt_thread *thread)
{
	return thread->last_tsc;
}

struct nvt_thread *
nvt_get_thread(void)
{
	return tls_thread;
}

void
nvt_set_thread(struct nvt_thread *thread)
{
	tls_thread = thread;
}

const char *
nvt_thread_get_name(const struct nvt_thread *thread)
{
	return thread->name;
}

uint64_t
nvt_thread_get_id(const struct nvt_thread *thread)
{
	return thread->id;
}

struct nvt_thread *
nvt_thread_get_by_id(uint64_t id)
{
	struct nvt_thread *thread;

	pthread_mutex_lock(&g_lock);
	TAILQ_FOREACH(thread, &g_threads, link) {
		if (thread->id == id) {
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	return thread;
}

uint32_t
nvt_thread_get_count(void)
{
	uint32_t count;

	pthread_mutex_lock(&g_lock);
	count = g_thread_count;
	pthread_mutex_unlock(&g_lock);
	return count;
}

const struct nvt_cpuset *
nvt_thread_get_cpumask(const struct nvt_thread *thread)
{
	return &thread->cpumask;
}

int
nvt_thread_set_cpumask(const struct nvt_cpuset *cpumask)
{
	struct nvt_thread *thread = tls_thread;

	if (thread == NULL || nvt_cpuset_count(cpumask) == 0) {
		return -EINVAL;
	}
	if (g_op_fn == NULL) {
		return -ENOTSUP;
	}
	thread->cpumask = *cpumask;
	return g_op_fn(thread, NVT_THREAD_OP_RESCHED);
}

void *
nvt_thread_get_ctx(struct nvt_thread *thread)
{
	return g_ctx_sz > 0 ? thread->ctx : NULL;
}

struct nvt_thread *
nvt_thread_get_from_ctx(void *ctx)
{
	return NVT_CONTAINEROF(ctx, struct nvt_thread, ctx);
}

void
nvt_thread_get_stats(const struct nvt_thread *thread, struct nvt_thread_stats *stats)
{
	*stats = thread->stats;
}

/* ---- interrupt mode ---- */

int
nvt_thread_get_interrupt_fd(const struct nvt_thread *thread)
{
	return thread->epfd;
}

static void
thread_arm_timer(struct nvt_thread *thread, uint64_t expiry)
{
	struct itimerspec its = { 0 };
	uint64_t want = expiry == UINT64_MAX ? 0 : expiry;
	uint64_t ns;

	if (want == thread->timer_armed) {
		return;
	}
	if (want != 0) {
		/* Ticks are CLOCK_MONOTONIC nanoseconds: usable as they are. */
		ns = nvt_ticks_to_ns(expiry);
		its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(ns % 1000000000ull);
	}
	if (timerfd_settime(thread->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
		NVT_ERRLOG("thread %s: timerfd_settime: %s\n", thread->name, nvt_strerror(errno));
		return;
	}
	thread->timer_armed = want;
}

bool
nvt_thread_prepare_sleep(struct nvt_thread *thread)
{
	/* Pollers that do not wake the thread wait until something else does. */
	uint64_t next = thread_next_wakeup_timer(thread);

	if (thread_has_msgs(thread) || next <= nvt_get_ticks()) {
		return false;
	}
	thread_arm_timer(thread, next);
	atomic_store(&thread->sleeping, 1);
	/* Pairs with the fence in thread_kick() (msg.c). */
	atomic_thread_fence(memory_order_seq_cst);
	if (thread_has_msgs(thread)) {
		/* A sender may have cleared the flag first: then it writes efd. */
		if (atomic_exchange(&thread->sleeping, 0) == 0) {
			thread->efd_pending = true;
		}
		return false;
	}
	return true;
}

void
nvt_thread_end_sleep(struct nvt_thread *thread)
{
	nvt_thread_end_sleep_ready(thread, true);
}

void
nvt_thread_end_sleep_ready(struct nvt_thread *thread, bool fd_ready)
{
	uint64_t val;

	/*
	 * A kicker clears the flag, then writes efd: read it only then (a system
	 * call saved on every other wakeup), and until the write has been seen,
	 * or the next sleep would end at once.
	 */
	if (atomic_exchange(&thread->sleeping, 0) == 0 || atomic_exchange(&thread->woken, 0)) {
		thread->efd_pending = true;
	}
	if (thread->efd_pending) {
		if (read(thread->efd, &val, sizeof(val)) == sizeof(val)) {
			thread->efd_pending = false;
		} else if (errno != EAGAIN) {
			NVT_ERRLOG("thread %s: eventfd read: %s\n", thread->name,
				   nvt_strerror(errno));
		}
	}
	if (thread->timer_armed != 0 && nvt_get_ticks() >= thread->timer_armed) {
		if (read(thread->tfd, &val, sizeof(val)) < 0 && errno != EAGAIN) {
			NVT_ERRLOG("thread %s: timerfd read: %s\n", thread->name,
				   nvt_strerror(errno));
		}
		thread->timer_armed = 0;
	}
	if (fd_ready) {
		thread_due_lazy_pollers(thread, nvt_get_ticks());
	}
}

void
nvt_thread_wakeup(struct nvt_thread *thread)
{
	uint64_t one = 1;
	int saved = errno;

	/* Async-signal-safe: a lock-free store and a bare write, the result ignored. */
	atomic_store(&thread->woken, 1);
	if (write(thread->efd, &one, sizeof(one)) < 0) {
		errno = saved;
	}
}

static int
wakeup_fd_ctl(int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (tls_thread == NULL) {
		return -EINVAL;
	}
	if (epoll_ctl(tls_thread->epfd, op, fd, &ev) != 0) {
		return -errno;
	}
	return 0;
}

int
nvt_thread_add_wakeup_fd(int fd, uint32_t epoll_events)
{
	return wakeup_fd_ctl(EPOLL_CTL_ADD, fd, epoll_events);
}

int
nvt_thread_mod_wakeup_fd(int fd, uint32_t epoll_events)
{
	return wakeup_fd_ctl(EPOLL_CTL_MOD, fd, epoll_events);
}

int
nvt_thread_del_wakeup_fd(int fd)
{
	return wakeup_fd_ctl(EPOLL_CTL_DEL, fd, 0);
}

uint64_t
nvt_thread_next_poller_expiration(const struct nvt_thread *thread)
{
	return thread_next_timer(thread);
}
