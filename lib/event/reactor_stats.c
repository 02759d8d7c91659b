/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvt_reactors_get_stats(): every reactor's accounting for readers off the
 * I/O path (a metrics exporter). Sending each reactor an event would wake
 * the sleeping ones - the very thing an idle daemon must not do on every
 * scrape - so the words each reactor publishes are read from here, and only
 * the answer travels, as a message to the caller's thread.
 */
#include <errno.h>
#include <stdlib.h>

#include "nvtcp/event.h"
#include "nvtcp/log.h"

struct reactors_snap {
	nvt_reactors_stats_cb cb;
	void *ctx;
	uint32_t count;
	struct nvt_thread_msg msg;
	struct nvt_reactor_snapshot snaps[];
};

static void
reactors_snap_answer(void *arg)
{
	struct reactors_snap *s = arg;

	s->cb(s->snaps, s->count, 0, s->ctx);
	free(s);
}

int
nvt_reactors_get_stats(nvt_reactors_stats_cb cb, void *ctx)
{
	uint32_t core, n = 0, count = nvt_env_get_core_count();
	struct nvt_thread *caller = nvt_get_thread();
	struct reactors_snap *s;
	int rc;

	if (caller == NULL || count == 0) {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s) + count * sizeof(s->snaps[0]));
	if (s == NULL) {
		return -ENOMEM;
	}
	*s = (struct reactors_snap){ .cb = cb, .ctx = ctx };
	NVT_ENV_FOREACH_CORE(core)
	{
		if (n < count && nvt_reactor_get_stats(core, &s->snaps[n].stats) == 0) {
			s->snaps[n++].lcore = core;
		}
	}
	s->count = n;
	/* Never before the return, as every asynchronous call of nvtcp. */
	rc = nvt_thread_send_msg_prealloc(caller, &s->msg, reactors_snap_answer, s);
	if (rc != 0) {
		free(s);
	}
	return rc;
}
