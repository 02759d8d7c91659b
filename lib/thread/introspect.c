/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A thread's pollers as stats readers see them (SPDK's thread_get_pollers
 * and thread_get_stats). Everything here runs on the thread that owns the
 * pollers, so their counters are read as plain fields: the I/O path pays
 * only the increments of poller_call().
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "thread_internal.h"

/* SPDK's names of poller states. */
static const char *
poller_state_str(const struct nvt_poller *poller)
{
	switch (poller->state) {
	case POLLER_STATE_WAITING:
		return "waiting";
	case POLLER_STATE_RUNNING:
		return "running";
	case POLLER_STATE_PAUSING:
		return "pausing";
	case POLLER_STATE_PAUSED:
		return "paused";
	case POLLER_STATE_UNREGISTERED:
	default:
		return "unregistered";
	}
}

/* A poller's kind by the list it is in (a pausing one is still in its old list). */
static enum nvt_poller_kind
poller_kind(const struct nvt_poller *poller)
{
	if (poller->state == POLLER_STATE_PAUSED) {
		return NVT_POLLER_KIND_PAUSED;
	}
	return poller->period_ticks != 0 ? NVT_POLLER_KIND_TIMED : NVT_POLLER_KIND_ACTIVE;
}

static void
poller_visit(const struct nvt_poller *poller, nvt_poller_info_fn fn, void *ctx)
{
	struct nvt_poller_info info;

	/* Unregistered pollers wait in the lists only until the loop frees them. */
	if (poller->state == POLLER_STATE_UNREGISTERED) {
		return;
	}
	info = (struct nvt_poller_info){
		.name = poller->name,
		.id = poller->id,
		.state = poller_state_str(poller),
		.kind = poller_kind(poller),
		.period_ticks = poller->period_ticks,
		.stats = poller->stats,
	};
	fn(&info, ctx);
}

void
nvt_thread_foreach_poller(nvt_poller_info_fn fn, void *ctx)
{
	struct nvt_thread *thread = nvt_get_thread();
	struct nvt_poller *poller;
	uint32_t i;

	if (thread == NULL) {
		return;
	}
	TAILQ_FOREACH(poller, &thread->active_pollers, link) {
		poller_visit(poller, fn, ctx);
	}
	/* The heap is in due order only at its root: good enough for a listing. */
	for (i = 0; i < thread->timer_count; i++) {
		poller_visit(thread->timers[i], fn, ctx);
	}
	TAILQ_FOREACH(poller, &thread->paused_pollers, link) {
		poller_visit(poller, fn, ctx);
	}
}

static void
poller_count(const struct nvt_poller_info *info, void *ctx)
{
	uint32_t *counts = ctx;

	counts[info->kind]++;
}

void
nvt_thread_get_poller_counts(uint32_t counts[NVT_POLLER_NUM_KINDS])
{
	memset(counts, 0, NVT_POLLER_NUM_KINDS * sizeof(counts[0]));
	nvt_thread_foreach_poller(poller_count, counts);
}
