/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Blocking librados/librbd steps off the reactors: each runs on a detached
 * pthread of its own and answers the thread that started it with a message
 * in the step's own storage (never lost for lack of memory). A dead monitor
 * then stalls only that pthread, never RPCs or I/O on other bdevs.
 */
#include <pthread.h>

#include "nvtcp/log.h"
#include "rbd_internal.h"

static void
rbd_work_done_msg(void *arg)
{
	struct rbd_work *w = arg;

	w->done(w);
}

static void *
rbd_work_main(void *arg)
{
	struct rbd_work *w = arg;
	int rc;

	w->work(w);
	rc = nvt_thread_send_msg_prealloc(w->thread, &w->msg, rbd_work_done_msg, w);
	if (rc != 0) {
		/* The app thread is gone (the process is exiting): nobody waits for it. */
		NVT_ERRLOG("rbd: a blocking step finished after its thread exited\n");
	}
	return NULL;
}

void
rbd_work_start(struct rbd_work *w, void (*work)(struct rbd_work *w),
	       void (*done)(struct rbd_work *w))
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	w->work = work;
	w->done = done;
	w->thread = nvt_get_thread();
	w->msg = (struct nvt_thread_msg){ 0 };
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, rbd_work_main, w);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		/* No thread to be had: block this once rather than lose the step. */
		NVT_ERRLOG("rbd: cannot start a thread (%d): blocking step runs inline\n", rc);
		work(w);
		rc = nvt_thread_send_msg_prealloc(w->thread, &w->msg, rbd_work_done_msg, w);
		if (rc != 0) {
			done(w);
		}
	}
}
