/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the event library: reactors (reactor.c) and the application
 * framework around them (app.c).
 */
#ifndef NVT_EVENT_INTERNAL_H
#define NVT_EVENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/cpuset.h"
#include "nvtcp/thread.h"

struct reactor_opts {
	bool interrupt_mode;
	uint64_t idle_us;
};

/* Create one reactor per core of mask (not started). 0 or -errno. */
int reactors_init(const struct nvt_cpuset *mask, const struct reactor_opts *opts);

/*
 * Run every reactor: the calling pthread becomes the first core's reactor,
 * the others get pinned pthreads. Returns once all reactors stopped.
 */
int reactors_start(void);

/* Ask every reactor to make its threads exit and then stop. Any thread. */
void reactors_stop(void);

/* Free what reactors_init() made. */
void reactors_fini(void);

/* Scheduler hook for nvt_thread_lib_init(), and the context it needs. */
int reactor_thread_op(struct nvt_thread *thread, enum nvt_thread_op op);
size_t reactor_thread_ctx_size(void);

/* Called for each thread of a reactor, with the tick the thread was created at. */
typedef void (*reactor_thread_fn)(struct nvt_thread *thread, uint64_t create_tsc, void *ctx);

/*
 * Call fn for each thread placed on the calling reactor, in placement order.
 * Only from an event running on a reactor: the list is that reactor's own,
 * and none of its threads runs meanwhile, so fn may read what they own.
 * 0, or -EINVAL off reactors.
 */
int reactor_foreach_thread(reactor_thread_fn fn, void *ctx);

/* Called on a thread when its reactor asks it to exit (the app unhooks here). */
void app_thread_exiting(struct nvt_thread *thread);

#endif /* NVT_EVENT_INTERNAL_H */
