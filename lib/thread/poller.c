/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollers. Period-0 pollers sit in a list run on every iteration; timed
 * pollers sit in a min-heap keyed by (next_run, seq), so finding what is due
 * costs O(1) and rescheduling O(log n), whatever the number of pollers.
 *
 * A poller is never freed while a loop might still reach it: unregistering
 * from inside a callback, or a period-0 poller while the active list may be
 * walked, only marks it; the loop frees it when it gets there.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "thread_internal.h"

/* ---- timer heap ---- */

static bool
timer_before(const struct nvt_poller *a, const struct nvt_poller *b)
{
	return a->next_run < b->next_run || (a->next_run == b->next_run && a->seq < b->seq);
}

static void
heap_set(struct nvt_thread *thread, uint32_t idx, struct nvt_poller *poller)
{
	thread->timers[idx] = poller;
	poller->heap_idx = idx;
}

static void
heap_sift_up(struct nvt_thread *thread, uint32_t idx)
{
	struct nvt_poller *poller = thread->timers[idx];
	uint32_t parent;

	while (idx > 0) {
		parent = (idx - 1) / 2;
		if (!timer_before(poller, thread->timers[parent])) {
			break;
		}
		heap_set(thread, idx, thread->timers[parent]);
		idx = parent;
	}
	heap_set(thread, idx, poller);
}

static void
heap_sift_down(struct nvt_thread *thread, uint32_t idx)
{
	struct nvt_poller *poller = thread->timers[idx];
	uint32_t child;

	for (;;) {
		child = 2 * idx + 1;
		if (child >= thread->timer_count) {
			break;
		}
		if (child + 1 < thread->timer_count &&
		    timer_before(thread->timers[child + 1], thread->timers[child])) {
			child++;
		}
		if (!timer_before(thread->timers[child], poller)) {
			break;
		}
		heap_set(thread, idx, thread->timers[child]);
		idx = child;
	}
	heap_set(thread, idx, poller);
}

static int
heap_push(struct nvt_thread *thread, struct nvt_poller *poller)
{
	struct nvt_poller **timers;
	uint32_t cap;

	if (thread->timer_count == thread->timer_cap) {
		cap = thread->timer_cap ? thread->timer_cap * 2 : 16;
		timers = realloc(thread->timers, cap * sizeof(*timers));
		if (timers == NULL) {
			return -ENOMEM;
		}
		thread->timers = timers;
		thread->timer_cap = cap;
	}
	poller->seq = thread->poller_seq++;
	heap_set(thread, thread->timer_count++, poller);
	heap_sift_up(thread, poller->heap_idx);
	return 0;
}

static void
heap_remove(struct nvt_thread *thread, struct nvt_poller *poller)
{
	uint32_t idx = poller->heap_idx;
	struct nvt_poller *last;

	assert(idx < thread->timer_count && thread->timers[idx] == poller);
	last = thread->timers[--thread->timer_count];
	poller->heap_idx = HEAP_NONE;
	if (last == poller) {
		return;
	}
	heap_set(thread, idx, last);
	heap_sift_down(thread, idx);
	heap_sift_up(thread, last->heap_idx);
}

uint64_t
thread_next_timer(const struct nvt_thread *thread)
{
	return thread->timer_count ? thread->timers[0]->next_run : UINT64_MAX;
}

uint64_t
thread_next_wakeup_timer(const struct nvt_thread *thread)
{
	const struct nvt_poller *poller;
	uint64_t next = UINT64_MAX;
	uint32_t i;

	/* Not the heap's top: it may be a poller that does not wake. Few timers per thread. */
	for (i = 0; i < thread->timer_count; i++) {
		poller = thread->timers[i];
		/* With slack, a later wakeup may serve several timers at once. */
		if (!poller->no_wakeup && poller->next_run + poller->slack_ticks < next) {
			next = poller->next_run + poller->slack_ticks;
		}
	}
	return next;
}

/*
 * A wakeup makes the pollers that do not wake due at once: the wakeup fd they
 * stand for may be what woke the thread (a connection waiting on a listening
 * socket is then accepted now, not at the poller's next period).
 */
void
thread_due_lazy_pollers(struct nvt_thread *thread, uint64_t now)
{
	struct nvt_poller *poller;
	uint32_t i;

	/* A sift-up moves only entries at or before i: each entry is met once. */
	for (i = 0; i < thread->timer_count; i++) {
		poller = thread->timers[i];
		if (poller->no_wakeup && poller->next_run > now) {
			poller->next_run = now;
			heap_sift_up(thread, i);
		}
	}
}

/* ---- registration ---- */

static bool
poller_is_timed(const struct nvt_poller *poller)
{
	return poller->period_ticks != 0;
}

static int
poller_schedule(struct nvt_thread *thread, struct nvt_poller *poller, uint64_t now)
{
	poller->state = POLLER_STATE_WAITING;
	if (!poller_is_timed(poller)) {
		TAILQ_INSERT_TAIL(&thread->active_pollers, poller, link);
		return 0;
	}
	poller->next_run = now + poller->period_ticks;
	return heap_push(thread, poller);
}

struct nvt_poller *
nvt_poller_register(nvt_poller_fn fn, void *arg, uint64_t period_us, const char *name)
{
	struct nvt_thread *thread = nvt_get_thread();
	struct nvt_poller *poller;

	if (thread == NULL) {
		NVT_ERRLOG("poller %s registered off any thread\n", name ? name : "");
		return NULL;
	}
	if (nvt_thread_is_exiting(thread)) {
		NVT_WARNLOG("thread %s: poller %s registered while exiting\n", thread->name,
			    name ? name : "");
	}
	poller = calloc(1, sizeof(*poller));
	if (poller == NULL) {
		return NULL;
	}
	poller->thread = thread;
	poller->fn = fn;
	poller->arg = arg;
	poller->heap_idx = HEAP_NONE;
	poller->id = ++thread->last_poller_id;
	poller->period_ticks = period_us ? NVT_MAX(nvt_us_to_ticks(period_us), 1) : 0;
	if (name != NULL) {
		nvt_strcpy_trunc(poller->name, sizeof(poller->name), name);
	} else {
		snprintf(poller->name, sizeof(poller->name), "%p", (void *)fn);
	}
	if (poller_schedule(thread, poller, nvt_get_ticks()) != 0) {
		free(poller);
		return NULL;
	}
	thread->poller_count++;
	return poller;
}

static void
poller_check_owner(const struct nvt_poller *poller, const char *what)
{
	if (nvt_unlikely(poller->thread != nvt_get_thread())) {
		NVT_ERRLOG("poller %s: %s from a thread other than its own (%s)\n", poller->name,
			   what, poller->thread->name);
	}
}

void
nvt_poller_unregister(struct nvt_poller **ppoller)
{
	struct nvt_poller *poller = *ppoller;
	struct nvt_thread *thread;

	if (poller == NULL) {
		return;
	}
	*ppoller = NULL;
	poller_check_owner(poller, "unregister");
	thread = poller->thread;
	if (poller->state == POLLER_STATE_UNREGISTERED) {
		return;
	}
	thread->poller_count--;
	if (poller->state == POLLER_STATE_PAUSED) {
		TAILQ_REMOVE(&thread->paused_pollers, poller, link);
		free(poller);
		return;
	}
	if (poller->heap_idx != HEAP_NONE) {
		/* Nothing walks the heap by pointer: it can go now. */
		heap_remove(thread, poller);
		free(poller);
		return;
	}
	poller->state = POLLER_STATE_UNREGISTERED;
}

void
nvt_poller_no_wakeup(struct nvt_poller *poller)
{
	poller_check_owner(poller, "no_wakeup");
	poller->no_wakeup = true;
}

void
nvt_poller_set_slack(struct nvt_poller *poller, uint64_t slack_us)
{
	poller_check_owner(poller, "set_slack");
	poller->slack_ticks = nvt_us_to_ticks(slack_us);
}

void
nvt_poller_pause(struct nvt_poller *poller)
{
	struct nvt_thread *thread = poller->thread;

	poller_check_owner(poller, "pause");
	switch (poller->state) {
	case POLLER_STATE_WAITING:
		if (poller->heap_idx != HEAP_NONE) {
			heap_remove(thread, poller);
			poller->state = POLLER_STATE_PAUSED;
			TAILQ_INSERT_TAIL(&thread->paused_pollers, poller, link);
			return;
		}
		poller->state = POLLER_STATE_PAUSING;
		return;
	case POLLER_STATE_RUNNING:
		poller->state = POLLER_STATE_PAUSING;
		return;
	default:
		return;
	}
}

void
nvt_poller_resume(struct nvt_poller *poller)
{
	struct nvt_thread *thread = poller->thread;

	poller_check_owner(poller, "resume");
	switch (poller->state) {
	case POLLER_STATE_PAUSING:
		/*
		 * Not moved yet. A timed poller can only be pausing from inside its
		 * own callback (a waiting one is paused at once), so it is running.
		 */
		poller->state =
			poller_is_timed(poller) ? POLLER_STATE_RUNNING : POLLER_STATE_WAITING;
		return;
	case POLLER_STATE_PAUSED:
		TAILQ_REMOVE(&thread->paused_pollers, poller, link);
		if (poller_schedule(thread, poller, nvt_get_ticks()) != 0) {
			NVT_ERRLOG("poller %s: cannot resume, out of memory\n", poller->name);
			poller->state = POLLER_STATE_PAUSED;
			TAILQ_INSERT_TAIL(&thread->paused_pollers, poller, link);
		}
		return;
	default:
		return;
	}
}

bool
nvt_poller_is_paused(const struct nvt_poller *poller)
{
	return poller->state == POLLER_STATE_PAUSED || poller->state == POLLER_STATE_PAUSING;
}

uint32_t
nvt_thread_get_poller_count(const struct nvt_thread *thread)
{
	return thread->poller_count;
}

void
nvt_poller_get_stats(const struct nvt_poller *poller, struct nvt_poller_stats *stats)
{
	*stats = poller->stats;
}

/* ---- running ---- */

static int
poller_call(struct nvt_poller *poller)
{
	int rc;

	poller->state = POLLER_STATE_RUNNING;
	rc = poller->fn(poller->arg);
	poller->stats.run_count++;
	if (rc > 0) {
		poller->stats.busy_count++;
	}
	return rc > 0;
}

static int
run_active_pollers(struct nvt_thread *thread)
{
	struct nvt_poller *poller, *tmp;
	int rc = 0;

	TAILQ_FOREACH_SAFE(poller, &thread->active_pollers, link, tmp) {
		if (poller->state == POLLER_STATE_WAITING) {
			rc |= poller_call(poller);
			if (poller->state == POLLER_STATE_RUNNING) {
				poller->state = POLLER_STATE_WAITING;
				continue;
			}
		}
		if (poller->state == POLLER_STATE_UNREGISTERED) {
			TAILQ_REMOVE(&thread->active_pollers, poller, link);
			free(poller);
		} else if (poller->state == POLLER_STATE_PAUSING) {
			TAILQ_REMOVE(&thread->active_pollers, poller, link);
			poller->state = POLLER_STATE_PAUSED;
			TAILQ_INSERT_TAIL(&thread->paused_pollers, poller, link);
		}
	}
	return rc;
}

static int
run_timed_pollers(struct nvt_thread *thread, uint64_t now)
{
	struct nvt_poller *poller;
	int rc = 0;

	while (thread->timer_count > 0 && thread->timers[0]->next_run <= now) {
		poller = thread->timers[0];
		heap_remove(thread, poller);
		rc |= poller_call(poller);
		switch (poller->state) {
		case POLLER_STATE_RUNNING:
			if (poller_schedule(thread, poller, now) == 0) {
				break;
			}
			NVT_ERRLOG("poller %s: cannot reschedule, paused\n", poller->name);
			/* fallthrough */
		case POLLER_STATE_PAUSING:
			poller->state = POLLER_STATE_PAUSED;
			TAILQ_INSERT_TAIL(&thread->paused_pollers, poller, link);
			break;
		case POLLER_STATE_UNREGISTERED:
			free(poller);
			break;
		default:
			assert(false);
		}
	}
	return rc;
}

int
thread_run_pollers(struct nvt_thread *thread, uint64_t now)
{
	int rc;

	rc = run_active_pollers(thread);
	rc |= run_timed_pollers(thread, now);
	return rc;
}

static void
release_list(struct nvt_thread *thread, struct poller_list *list, bool report)
{
	struct nvt_poller *poller;

	while ((poller = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, poller, link);
		if (report && poller->state != POLLER_STATE_UNREGISTERED) {
			NVT_ERRLOG("thread %s: poller %s still registered at exit\n", thread->name,
				   poller->name);
		}
		free(poller);
	}
}

void
thread_release_pollers(struct nvt_thread *thread, bool report)
{
	struct nvt_poller *poller;

	release_list(thread, &thread->active_pollers, report);
	release_list(thread, &thread->paused_pollers, report);
	while (thread->timer_count > 0) {
		poller = thread->timers[0];
		heap_remove(thread, poller);
		if (report) {
			NVT_ERRLOG("thread %s: timed poller %s still registered at exit\n",
				   thread->name, poller->name);
		}
		free(poller);
	}
	thread->poller_count = 0;
}
