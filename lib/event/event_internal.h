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

/* Called on a thread when its reactor asks it to exit (the app unhooks here). */
void app_thread_exiting(struct nvt_thread *thread);

#endif /* NVT_EVENT_INTERNAL_H */
