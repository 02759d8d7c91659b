/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lock-free completion hand-off of nvtcp/cpl_queue.h: a Treiber stack
 * pushed with atomic exchange-and-link and emptied with one exchange.
 */
#include <stddef.h>

#include "nvtcp/cpl_queue.h"
#include "nvtcp/log.h"

/* The consumer side: one exchange per message, then the entries oldest first. */
static void
cpl_queue_drain(void *arg)
{
	struct nvt_cpl_queue *q = arg;
	struct nvt_cpl_entry *e, *next, *rev = NULL;

	e = __atomic_exchange_n(&q->top, NULL, __ATOMIC_ACQUIRE);
	/* The stack is newest first: reverse it so completions keep their order. */
	while (e != NULL) {
		next = e->next;
		e->next = rev;
		rev = e;
		e = next;
	}
	while (rev != NULL) {
		next = rev->next;
		/* fn may free the entry's object: read the link first. */
		q->fn(rev, q->ctx);
		rev = next;
	}
}

void
nvt_cpl_queue_init(struct nvt_cpl_queue *q, struct nvt_thread *thread, nvt_cpl_fn fn, void *ctx)
{
	q->top = NULL;
	q->thread = thread;
	q->fn = fn;
	q->ctx = ctx;
	q->send_failures = 0;
	q->msg = (struct nvt_thread_msg){ 0 };
}

void
nvt_cpl_queue_push(struct nvt_cpl_queue *q, struct nvt_cpl_entry *entry)
{
	struct nvt_cpl_entry *old = __atomic_load_n(&q->top, __ATOMIC_RELAXED);
	int rc;

	do {
		entry->next = old;
	} while (!__atomic_compare_exchange_n(&q->top, &old, entry, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (old != NULL) {
		/* A message is on its way and has not taken the stack yet: it takes this too. */
		return;
	}
	rc = nvt_thread_send_msg_prealloc(q->thread, &q->msg, cpl_queue_drain, q);
	if (rc != 0) {
		/* Only -EIO (the thread exited) can happen here; see the header. */
		__atomic_fetch_add(&q->send_failures, 1, __ATOMIC_RELAXED);
		NVT_ERRLOG("completion queue: cannot wake thread: %d\n", rc);
	}
}
