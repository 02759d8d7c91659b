/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reactors: one pinned pthread per core, each polling the lightweight
 * threads placed on it and the events other OS threads send it.
 *
 * Placement follows the thread's cpumask: the creator picks an allowed core
 * (the one with the fewest threads) and sends that reactor a "schedule
 * thread" event; the reactor appends the thread to its list. Moving a
 * thread is the same event sent to the new core.
 *
 * Interrupt mode: once every thread of a reactor has been idle for idle_us,
 * the reactor sleeps in epoll_wait() on its eventfd (events) and on the
 * interrupt fd of each of its threads (messages, timers, wakeup fds).
 * It sleeps at its first idle iteration instead while work has been coming
 * far apart: a moving average of the gaps between busy iterations (idle
 * spinning or sleeping, from the end of one to the start of the next) at
 * or above SLEEP_GAP_US. Sparse events (keep alives, timers) and slow
 * backings (a network store whose completions come every 100 us or more)
 * then cost a wakeup each instead of a spinning core; a load of closely
 * spaced work shrinks the average within a few gaps and the reactor spins
 * again.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/queue.h"
#include "nvtcp/ring.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "event_internal.h"

NVT_LOG_REGISTER_COMPONENT(reactor)

#define EVENT_RING_SIZE	 65536
#define EVENT_BATCH	 32
#define SLEEP_MAX_EVENTS 16
/*
 * Gaps between work at least this long on average: sleeping at once costs
 * less than spinning through them (a sleep and its wakeup take a few
 * microseconds, several more on virtual machines).
 */
#define SLEEP_GAP_US 50
/* The moving average of gaps gives each new one this weight: 1 / 2^SHIFT. */
#define GAP_AVG_SHIFT 3

struct nvt_event {
	uint32_t lcore;
	nvt_event_fn fn;
	void *arg1;
	void *arg2;
};

/* The scheduler context every nvt_thread carries (nvt_thread_get_ctx()). */
struct lw_thread {
	TAILQ_ENTRY(lw_thread) link;
	uint32_t lcore;
	bool resched;
	bool fd_ready;			/* its interrupt fd ended the reactor's sleep */
	uint64_t create_tsc;		/* tick of its creation, for framework_get_reactors */
	struct nvt_thread_msg exit_msg; /* the reactors' stop asking it to exit */
};

struct reactor {
	uint32_t lcore;
	pthread_t tid;
	bool has_pthread;
	struct nvt_ring *events; /* MPSC: any OS thread sends */
	int epfd;
	int efd;
	_Atomic int sleeping;
	bool efd_pending;	       /* a kicker cleared sleeping: it writes efd, to be read */
	_Atomic uint32_t thread_count; /* placed or on their way; read by creators */
	TAILQ_HEAD(, lw_thread) threads;
	bool interrupt_mode;
	uint64_t idle_ticks;
	uint64_t last_busy;
	uint64_t tsc_last; /* tick up to which busy, idle and sleep time is counted */
	/* Moving average of the gaps between busy iterations, in ticks. */
	uint64_t gap_avg;
	uint64_t sleep_gap_ticks; /* SLEEP_GAP_US */
	bool stopping;
	struct nvt_reactor_stats stats; /* written by the reactor, read racily */
	_Atomic uint64_t sleep_start;	/* tick the current sleep began; 0: awake */
};

static struct reactor **g_reactors; /* indexed by core */
static uint32_t g_reactor_slots;
static struct nvt_cpuset g_mask;
static _Atomic bool g_stopping;
static __thread struct reactor *tls_reactor;

static struct reactor *
reactor_get(uint32_t lcore)
{
	return lcore < g_reactor_slots ? g_reactors[lcore] : NULL;
}

size_t
reactor_thread_ctx_size(void)
{
	return sizeof(struct lw_thread);
}

/* ---- events ---- */

struct nvt_event *
nvt_event_allocate(uint32_t lcore, nvt_event_fn fn, void *arg1, void *arg2)
{
	struct nvt_event *event;

	if (reactor_get(lcore) == NULL) {
		NVT_ERRLOG("no reactor on core %u\n", lcore);
		return NULL;
	}
	event = malloc(sizeof(*event));
	if (event == NULL) {
		return NULL;
	}
	event->lcore = lcore;
	event->fn = fn;
	event->arg1 = arg1;
	event->arg2 = arg2;
	return event;
}

static void
reactor_kick(struct reactor *reactor)
{
	uint64_t one = 1;

	/* Pairs with the fence in reactor_sleep(), as thread messages do. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&reactor->sleeping, memory_order_relaxed) &&
	    atomic_exchange(&reactor->sleeping, 0)) {
		if (write(reactor->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
			NVT_ERRLOG("reactor %u: eventfd write: %s\n", reactor->lcore,
				   nvt_strerror(errno));
		}
	}
}

void
nvt_event_call(struct nvt_event *event)
{
	struct reactor *reactor = reactor_get(event->lcore);
	void *obj = event;

	/* The ring holds 64k events: a full one means a stuck reactor; wait it out. */
	while (nvt_unlikely(nvt_ring_enqueue(reactor->events, &obj, 1) != 1)) {
		sched_yield();
	}
	reactor_kick(reactor);
}

static uint32_t
reactor_run_events(struct reactor *reactor)
{
	void *events[EVENT_BATCH];
	struct nvt_event *event;
	size_t count, i;

	count = nvt_ring_dequeue(reactor->events, events, EVENT_BATCH);
	for (i = 0; i < count; i++) {
		event = events[i];
		event->fn(event->arg1, event->arg2);
		free(event);
	}
	return (uint32_t)count;
}

/* ---- thread placement ---- */

static void
thread_exit_msg(void *arg)
{
	struct nvt_thread *thread = nvt_get_thread();

	(void)arg;
	app_thread_exiting(thread);
	nvt_thread_exit(thread);
}

/* Ask a thread placed here to exit; from the stop and from a late placement. */
static void
reactor_ask_exit(struct lw_thread *lw)
{
	struct nvt_thread *thread = nvt_thread_get_from_ctx(lw);
	int rc = nvt_thread_send_msg_prealloc(thread, &lw->exit_msg, thread_exit_msg, NULL);

	/* Nothing is lost either way: the request is queued already, or the thread is gone. */
	if (rc != 0) {
		NVT_DEBUGLOG(reactor, "thread %s: exit already %s\n", nvt_thread_get_name(thread),
			     rc == -EBUSY ? "asked" : "done");
	}
}

static void
reactor_add_thread(void *arg1, void *arg2)
{
	struct nvt_thread *thread = arg1;
	struct lw_thread *lw = nvt_thread_get_ctx(thread);
	struct reactor *reactor = tls_reactor;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = lw };

	(void)arg2;
	lw->lcore = reactor->lcore;
	lw->resched = false;
	lw->fd_ready = false;
	TAILQ_INSERT_TAIL(&reactor->threads, lw, link);
	if (epoll_ctl(reactor->epfd, EPOLL_CTL_ADD, nvt_thread_get_interrupt_fd(thread), &ev)) {
		NVT_ERRLOG("reactor %u: cannot watch thread %s: %s; polling only\n", reactor->lcore,
			   nvt_thread_get_name(thread), nvt_strerror(errno));
		reactor->interrupt_mode = false;
		reactor->stats.interrupt_mode = false;
	}
	NVT_DEBUGLOG(reactor, "thread %s placed on core %u\n", nvt_thread_get_name(thread),
		     reactor->lcore);
	if (reactor->stopping) {
		reactor_ask_exit(lw);
	}
}

/* The allowed core with the fewest threads; UINT32_MAX when none is allowed. */
static uint32_t
reactor_pick_core(const struct nvt_cpuset *cpumask)
{
	uint32_t best = UINT32_MAX, best_count = UINT32_MAX, count;
	int32_t core;

	NVT_CPUSET_FOREACH(core, &g_mask)
	{
		if (!nvt_cpuset_get_cpu(cpumask, (uint32_t)core)) {
			continue;
		}
		count = atomic_load(&g_reactors[core]->thread_count);
		if (count < best_count) {
			best = (uint32_t)core;
			best_count = count;
		}
	}
	return best;
}

static int
reactor_schedule_thread(struct nvt_thread *thread)
{
	struct nvt_event *event;
	uint32_t core;

	if (atomic_load(&g_stopping)) {
		NVT_ERRLOG("thread %s: the application is stopping\n", nvt_thread_get_name(thread));
		return -ESHUTDOWN;
	}
	core = reactor_pick_core(nvt_thread_get_cpumask(thread));
	if (core == UINT32_MAX) {
		NVT_ERRLOG("thread %s: its cpumask allows no core of the reactor mask\n",
			   nvt_thread_get_name(thread));
		return -EINVAL;
	}
	event = nvt_event_allocate(core, reactor_add_thread, thread, NULL);
	if (event == NULL) {
		return -ENOMEM;
	}
	atomic_fetch_add(&g_reactors[core]->thread_count, 1);
	nvt_event_call(event);
	return 0;
}

int
reactor_thread_op(struct nvt_thread *thread, enum nvt_thread_op op)
{
	struct lw_thread *lw = nvt_thread_get_ctx(thread);

	switch (op) {
	case NVT_THREAD_OP_NEW:
		/* Before the event that places it: the reactor reads it after. */
		lw->create_tsc = nvt_get_ticks();
		return reactor_schedule_thread(thread);
	case NVT_THREAD_OP_RESCHED:
		/* Acted on by the reactor once the thread's poll returns. */
		lw->resched = true;
		return 0;
	}
	return -EINVAL;
}

static void
reactor_detach(struct reactor *reactor, struct lw_thread *lw)
{
	struct nvt_thread *thread = nvt_thread_get_from_ctx(lw);

	TAILQ_REMOVE(&reactor->threads, lw, link);
	epoll_ctl(reactor->epfd, EPOLL_CTL_DEL, nvt_thread_get_interrupt_fd(thread), NULL);
	atomic_fetch_sub(&reactor->thread_count, 1);
}

static void
reactor_resched(struct reactor *reactor, struct lw_thread *lw)
{
	struct nvt_thread *thread = nvt_thread_get_from_ctx(lw);

	lw->resched = false;
	if (nvt_cpuset_get_cpu(nvt_thread_get_cpumask(thread), reactor->lcore)) {
		return;
	}
	reactor_detach(reactor, lw);
	if (reactor_schedule_thread(thread) != 0) {
		NVT_ERRLOG("thread %s: cannot move; stays on core %u\n",
			   nvt_thread_get_name(thread), reactor->lcore);
		TAILQ_INSERT_TAIL(&reactor->threads, lw, link);
		atomic_fetch_add(&reactor->thread_count, 1);
	}
}

/* ---- the loop ---- */

static void
reactor_wake_all(struct reactor *reactor, struct lw_thread *upto)
{
	struct lw_thread *lw;

	TAILQ_FOREACH(lw, &reactor->threads, link) {
		if (lw == upto) {
			break;
		}
		nvt_thread_end_sleep_ready(nvt_thread_get_from_ctx(lw), lw->fd_ready);
		lw->fd_ready = false;
	}
}

/*
 * A kicker clears the flag, then writes efd: read it only then (a system call
 * saved on every other wakeup), and until the write has been seen, or the
 * next sleep would end at once.
 */
static void
reactor_end_sleep(struct reactor *reactor)
{
	uint64_t val;

	if (atomic_exchange(&reactor->sleeping, 0) == 0) {
		reactor->efd_pending = true;
	}
	if (!reactor->efd_pending) {
		return;
	}
	if (read(reactor->efd, &val, sizeof(val)) == sizeof(val)) {
		reactor->efd_pending = false;
	} else if (errno != EAGAIN) {
		NVT_ERRLOG("reactor %u: eventfd read: %s\n", reactor->lcore, nvt_strerror(errno));
	}
}

static void
reactor_sleep(struct reactor *reactor)
{
	struct epoll_event evs[SLEEP_MAX_EVENTS];
	struct lw_thread *lw;
	uint64_t end;
	int i, n;

	atomic_store(&reactor->sleeping, 1);
	/* Pairs with the fence in reactor_kick(). */
	atomic_thread_fence(memory_order_seq_cst);
	if (nvt_ring_count(reactor->events) > 0) {
		reactor_end_sleep(reactor);
		return;
	}
	TAILQ_FOREACH(lw, &reactor->threads, link) {
		if (!nvt_thread_prepare_sleep(nvt_thread_get_from_ctx(lw))) {
			reactor_wake_all(reactor, lw);
			reactor_end_sleep(reactor);
			return;
		}
	}
	/* Counted on entry: an idle reactor may sleep for as long as the app runs. */
	reactor->stats.sleep_count++;
	/*
	 * The sleep spans the end of the last iteration to the end of the wakeup:
	 * preparing and ending it take system calls, and counted nowhere they
	 * would leave busy + idle + sleep short of the reactor's life.
	 */
	atomic_store(&reactor->sleep_start, reactor->tsc_last);
	n = epoll_wait(reactor->epfd, evs, SLEEP_MAX_EVENTS, -1);
	if (n < 0 && errno != EINTR) {
		NVT_ERRLOG("reactor %u: epoll_wait: %s\n", reactor->lcore, nvt_strerror(errno));
	}
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr != NULL) {
			((struct lw_thread *)evs[i].data.ptr)->fd_ready = true;
		}
	}
	reactor_end_sleep(reactor);
	reactor_wake_all(reactor, NULL);
	end = nvt_get_ticks();
	/* Cleared before the total grows, so a reader never counts this sleep twice. */
	atomic_store(&reactor->sleep_start, 0);
	reactor->stats.sleep_tsc += end - reactor->tsc_last;
	reactor->tsc_last = end;
}

static int
reactor_poll_threads(struct reactor *reactor)
{
	struct lw_thread *lw, *tmp;
	struct nvt_thread *thread;
	int rc = 0;

	TAILQ_FOREACH_SAFE(lw, &reactor->threads, link, tmp) {
		thread = nvt_thread_get_from_ctx(lw);
		rc |= nvt_thread_poll(thread, 0, 0);
		if (nvt_unlikely(nvt_thread_is_exited(thread))) {
			reactor_detach(reactor, lw);
			NVT_DEBUGLOG(reactor, "thread %s destroyed on core %u\n",
				     nvt_thread_get_name(thread), reactor->lcore);
			nvt_thread_destroy(&thread);
		} else if (nvt_unlikely(lw->resched)) {
			reactor_resched(reactor, lw);
		}
	}
	return rc;
}

/*
 * A busy iteration starting at \p start: fold the gap since the last busy one
 * (idle iterations and sleeps) into the average. Back-to-back busy iterations
 * leave it alone: they are one burst of work, not work coming close together.
 */
static void
reactor_note_gap(struct reactor *reactor, uint64_t start)
{
	uint64_t gap = start - reactor->last_busy;

	if (gap == 0) {
		return;
	}
	reactor->gap_avg =
		reactor->gap_avg - (reactor->gap_avg >> GAP_AVG_SHIFT) + (gap >> GAP_AVG_SHIFT);
}

static void
reactor_run(struct reactor *reactor)
{
	uint64_t now, end;
	int busy;

	tls_reactor = reactor;
	reactor->last_busy = reactor->tsc_last = nvt_get_ticks();
	for (;;) {
		/* From where the counting stopped, so no time falls between iterations. */
		now = reactor->tsc_last;
		busy = reactor_run_events(reactor) > 0;
		busy |= reactor_poll_threads(reactor);
		end = nvt_get_ticks();
		if (busy) {
			reactor_note_gap(reactor, now);
			reactor->stats.busy_tsc += end - now;
			reactor->last_busy = end;
		} else {
			reactor->stats.idle_tsc += end - now;
		}
		reactor->tsc_last = end;
		if (reactor->stopping && atomic_load(&reactor->thread_count) == 0) {
			break;
		}
		if (reactor->interrupt_mode &&
		    (end - reactor->last_busy >= reactor->idle_ticks ||
		     (!busy && reactor->gap_avg >= reactor->sleep_gap_ticks))) {
			reactor_sleep(reactor);
		}
	}
	tls_reactor = NULL;
}

static void
reactor_stop_event(void *arg1, void *arg2)
{
	struct reactor *reactor = tls_reactor;
	struct lw_thread *lw;

	(void)arg1;
	(void)arg2;
	reactor->stopping = true;
	TAILQ_FOREACH(lw, &reactor->threads, link) {
		reactor_ask_exit(lw);
	}
}

void
reactors_stop(void)
{
	struct nvt_event *event;
	int32_t core;

	if (atomic_exchange(&g_stopping, true)) {
		return;
	}
	NVT_CPUSET_FOREACH(core, &g_mask)
	{
		event = nvt_event_allocate((uint32_t)core, reactor_stop_event, NULL, NULL);
		if (event == NULL) {
			NVT_ERRLOG("cannot stop reactor %d: out of memory\n", core);
			continue;
		}
		nvt_event_call(event);
	}
}

/* ---- setup ---- */

static int
reactor_pin(uint32_t lcore)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(lcore, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
reactor_pthread(void *arg)
{
	struct reactor *reactor = arg;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "reactor_%u", reactor->lcore);
	pthread_setname_np(pthread_self(), name);
	rc = reactor_pin(reactor->lcore);
	if (rc != 0) {
		NVT_ERRLOG("reactor %u: cannot pin to its core: %s\n", reactor->lcore,
			   nvt_strerror(rc));
	}
	reactor_run(reactor);
	return NULL;
}

static struct reactor *
reactor_create(uint32_t lcore, const struct reactor_opts *opts)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct reactor *reactor;

	reactor = calloc(1, sizeof(*reactor));
	if (reactor == NULL) {
		return NULL;
	}
	reactor->lcore = lcore;
	reactor->epfd = epoll_create1(EPOLL_CLOEXEC);
	reactor->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	reactor->events = nvt_ring_create(NVT_RING_MPSC, EVENT_RING_SIZE);
	TAILQ_INIT(&reactor->threads);
	reactor->interrupt_mode = opts->interrupt_mode;
	reactor->idle_ticks = nvt_us_to_ticks(opts->idle_us);
	reactor->sleep_gap_ticks = nvt_us_to_ticks(SLEEP_GAP_US);
	reactor->stats.interrupt_mode = opts->interrupt_mode;
	if (reactor->epfd < 0 || reactor->efd < 0 || reactor->events == NULL ||
	    epoll_ctl(reactor->epfd, EPOLL_CTL_ADD, reactor->efd, &ev) != 0) {
		NVT_ERRLOG("cannot create reactor %u: %s\n", lcore, nvt_strerror(errno));
		if (reactor->epfd >= 0) {
			close(reactor->epfd);
		}
		if (reactor->efd >= 0) {
			close(reactor->efd);
		}
		nvt_ring_free(&reactor->events);
		free(reactor);
		return NULL;
	}
	return reactor;
}

static void
reactor_free(struct reactor *reactor)
{
	void *event;

	while (nvt_ring_dequeue(reactor->events, &event, 1) == 1) {
		NVT_WARNLOG("reactor %u: event left at shutdown dropped\n", reactor->lcore);
		free(event);
	}
	nvt_ring_free(&reactor->events);
	close(reactor->epfd);
	close(reactor->efd);
	free(reactor);
}

int
reactors_init(const struct nvt_cpuset *mask, const struct reactor_opts *opts)
{
	int32_t core, last = -1;

	NVT_CPUSET_FOREACH(core, mask)
	{
		last = core;
	}
	if (last < 0) {
		return -EINVAL;
	}
	g_reactor_slots = (uint32_t)last + 1;
	g_reactors = calloc(g_reactor_slots, sizeof(*g_reactors));
	if (g_reactors == NULL) {
		return -ENOMEM;
	}
	g_mask = *mask;
	atomic_store(&g_stopping, false);
	NVT_CPUSET_FOREACH(core, mask)
	{
		g_reactors[core] = reactor_create((uint32_t)core, opts);
		if (g_reactors[core] == NULL) {
			reactors_fini();
			return -ENOMEM;
		}
	}
	return 0;
}

void
reactors_fini(void)
{
	uint32_t i;

	for (i = 0; i < g_reactor_slots; i++) {
		if (g_reactors[i] != NULL) {
			reactor_free(g_reactors[i]);
		}
	}
	free(g_reactors);
	g_reactors = NULL;
	g_reactor_slots = 0;
	nvt_cpuset_zero(&g_mask);
}

int
reactors_start(void)
{
	uint32_t main_core = (uint32_t)nvt_cpuset_next(&g_mask, -1);
	struct reactor *reactor;
	cpu_set_t saved;
	bool restore;
	int32_t core;
	int rc;

	/* The calling thread outlives the app: it gets its own cores back at the end. */
	restore = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;

	NVT_CPUSET_FOREACH(core, &g_mask)
	{
		reactor = g_reactors[core];
		if ((uint32_t)core == main_core) {
			continue;
		}
		rc = pthread_create(&reactor->tid, NULL, reactor_pthread, reactor);
		if (rc != 0) {
			NVT_ERRLOG("cannot start reactor %d: %s\n", core, nvt_strerror(rc));
			reactors_stop();
			break;
		}
		reactor->has_pthread = true;
	}
	rc = reactor_pin(main_core);
	if (rc != 0) {
		NVT_ERRLOG("main reactor: cannot pin to core %u: %s\n", main_core,
			   nvt_strerror(rc));
	}
	reactor_run(g_reactors[main_core]);
	NVT_CPUSET_FOREACH(core, &g_mask)
	{
		if (g_reactors[core]->has_pthread) {
			pthread_join(g_reactors[core]->tid, NULL);
			g_reactors[core]->has_pthread = false;
		}
	}
	if (restore) {
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	}
	return 0;
}

/* ---- queries ---- */

uint32_t
nvt_env_get_current_core(void)
{
	return tls_reactor ? tls_reactor->lcore : UINT32_MAX;
}

uint32_t
nvt_env_get_first_core(void)
{
	int32_t core = nvt_cpuset_next(&g_mask, -1);

	return core < 0 ? UINT32_MAX : (uint32_t)core;
}

uint32_t
nvt_env_get_next_core(uint32_t prev)
{
	int32_t core = nvt_cpuset_next(&g_mask, (int32_t)prev);

	return core < 0 ? UINT32_MAX : (uint32_t)core;
}

uint32_t
nvt_env_get_core_count(void)
{
	return nvt_cpuset_count(&g_mask);
}

const struct nvt_cpuset *
nvt_env_get_core_mask(void)
{
	return &g_mask;
}

int
nvt_reactor_get_stats(uint32_t lcore, struct nvt_reactor_stats *stats)
{
	struct reactor *reactor = reactor_get(lcore);
	uint64_t start, now;

	if (reactor == NULL) {
		return -ENOENT;
	}
	*stats = reactor->stats;
	stats->thread_count = atomic_load(&reactor->thread_count);
	/* The sleep in progress counts too, or a sleeping reactor's stats would stall. */
	start = atomic_load(&reactor->sleep_start);
	now = nvt_get_ticks();
	if (start != 0 && now > start) {
		stats->sleep_tsc += now - start;
	}
	stats->sleeping = start != 0;
	return 0;
}

int
reactor_foreach_thread(reactor_thread_fn fn, void *ctx)
{
	struct reactor *reactor = tls_reactor;
	struct lw_thread *lw;

	if (reactor == NULL) {
		return -EINVAL;
	}
	TAILQ_FOREACH(lw, &reactor->threads, link) {
		fn(nvt_thread_get_from_ctx(lw), lw->create_tsc, ctx);
	}
	return 0;
}

int
nvt_thread_move_to_core(uint32_t lcore)
{
	struct nvt_cpuset mask;

	if (reactor_get(lcore) == NULL) {
		return -EINVAL;
	}
	nvt_cpuset_zero(&mask);
	nvt_cpuset_set_cpu(&mask, lcore, true);
	return nvt_thread_set_cpumask(&mask);
}
