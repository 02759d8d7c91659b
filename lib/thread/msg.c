/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Messages between threads: the MPSC ring of each thread, its overflow list
 * for when the ring is full, messages in caller-owned storage (which take
 * the same path as the others), and for_each_thread.
 *
 * Order. A message must run after every message sent earlier to the same
 * thread by the same sender. The ring keeps that by itself: a sender's
 * later message claims a later position. The overflow list is FIFO under
 * its lock. Mixing the two keeps it through two rules:
 *
 * 1. While the overflow list is not empty (overflow_count != 0), every send
 *    goes to the list, not to the ring. So a sender whose message m1 is in
 *    the list puts its later m2 in the list behind m1: it reads its own
 *    increment of overflow_count (or a later value), and the count only
 *    returns to 0 once the consumer has taken m1 out. A sender that reads 0
 *    has no message left in the list: those taken out run in the same
 *    thread_run_msgs() call that took them, before the consumer dequeues
 *    from the ring again, so before anything the sender puts in the ring
 *    after reading 0 (the consumer's release of 0 pairs with the sender's
 *    acquire).
 * 2. The consumer takes messages from the list only while the ring is
 *    empty, checked under the list's lock. A sender's m1 in the ring and
 *    later m2 in the list: m1's position was claimed before the sender took
 *    the lock to append m2, so a consumer that holds the lock and sees m2
 *    also sees the ring's tail past m1. The ring is therefore not empty
 *    until m1 has been dequeued, and every message dequeued runs in the
 *    call that dequeued it, before the list is looked at.
 *
 * Senders that read 0 just before the list filled may still put one message
 * each in the ring afterwards; the ring then drains, and the list runs.
 * While the ring keeps up, a send costs one more load (overflow_count, on
 * the line senders read for the thread's state anyway) and a poll one more
 * when it empties the ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "thread_internal.h"

#define MSG_BATCH_DEFAULT 64
#define MSG_CACHE_MAX	  1024

static struct nvt_thread_msg *
msg_get(void)
{
	struct nvt_thread *self = tls_thread;
	struct nvt_thread_msg *msg;

	if (self != NULL && (msg = self->msg_cache) != NULL) {
		self->msg_cache = msg->next;
		self->msg_cache_count--;
	} else {
		msg = malloc(sizeof(*msg));
		if (msg == NULL) {
			return NULL;
		}
	}
	msg->prealloc = false;
	return msg;
}

/* Heap messages are recycled into the cache of the thread that ran them. */
static void
msg_put(struct nvt_thread *self, struct nvt_thread_msg *msg)
{
	if (self != NULL && self->msg_cache_count < MSG_CACHE_MAX) {
		msg->next = self->msg_cache;
		self->msg_cache = msg;
		self->msg_cache_count++;
		return;
	}
	free(msg);
}

static void
thread_kick(struct nvt_thread *thread)
{
	uint64_t one = 1;

	/*
	 * Pairs with the fence in nvt_thread_prepare_sleep(): either we see
	 * the sleeping flag, or the sleeper sees our message (ring or list).
	 * The exchange makes one sender, not all of them, pay the write.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&thread->sleeping, memory_order_relaxed) &&
	    atomic_exchange(&thread->sleeping, 0)) {
		if (write(thread->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
			NVT_ERRLOG("thread %s: eventfd write: %s\n", thread->name,
				   nvt_strerror(errno));
		}
	}
}

/* The rare path: the ring was full, or older messages wait in the list (rule 1). */
static void
overflow_push(struct nvt_thread *thread, struct nvt_thread_msg *msg)
{
	uint32_t count;

	msg->next = NULL;
	pthread_mutex_lock(&thread->overflow_lock);
	if (thread->overflow_tail != NULL) {
		thread->overflow_tail->next = msg;
	} else {
		thread->overflow_head = msg;
	}
	thread->overflow_tail = msg;
	count = atomic_load_explicit(&thread->overflow_count, memory_order_relaxed) + 1;
	atomic_store_explicit(&thread->overflow_count, count, memory_order_release);
	pthread_mutex_unlock(&thread->overflow_lock);
	if (count == 1) {
		NVT_DEBUGLOG(thread, "thread %s: message ring full; overflow list in use\n",
			     thread->name);
	}
}

static void
msg_enqueue(const struct nvt_thread *cthread, struct nvt_thread_msg *msg)
{
	struct nvt_thread *thread = (struct nvt_thread *)cthread;
	void *obj = msg;

	/* Pairs with the release in overflow_take(): see rule 1 above. */
	if (nvt_likely(atomic_load_explicit(&thread->overflow_count, memory_order_acquire) == 0) &&
	    nvt_likely(nvt_ring_enqueue(thread->msgs, &obj, 1) == 1)) {
		thread_kick(thread);
		return;
	}
	overflow_push(thread, msg);
	thread_kick(thread);
}

int
nvt_thread_send_msg(const struct nvt_thread *thread, nvt_msg_fn fn, void *ctx)
{
	struct nvt_thread_msg *msg;

	if (nvt_unlikely(atomic_load(&thread->state) == THREAD_STATE_EXITED)) {
		return -EIO;
	}
	msg = msg_get();
	if (msg == NULL) {
		return -ENOMEM;
	}
	msg->fn = fn;
	msg->ctx = ctx;
	msg_enqueue(thread, msg);
	return 0;
}

int
nvt_thread_send_msg_prealloc(const struct nvt_thread *thread, struct nvt_thread_msg *msg,
			     nvt_msg_fn fn, void *ctx)
{
	/* Pairs with the release in msg_run(): the last run is done with the storage. */
	if (nvt_unlikely(__atomic_exchange_n(&msg->in_flight, 1, __ATOMIC_ACQUIRE) != 0)) {
		return -EBUSY;
	}
	if (nvt_unlikely(atomic_load(&thread->state) == THREAD_STATE_EXITED)) {
		__atomic_store_n(&msg->in_flight, 0, __ATOMIC_RELEASE);
		return -EIO;
	}
	msg->fn = fn;
	msg->ctx = ctx;
	msg->prealloc = true;
	msg_enqueue(thread, msg);
	return 0;
}

static void
msg_run(struct nvt_thread *thread, struct nvt_thread_msg *msg)
{
	nvt_msg_fn fn = msg->fn;
	void *ctx = msg->ctx;

	if (msg->prealloc) {
		/* The storage is the sender's again from here: fn may send it anew. */
		__atomic_store_n(&msg->in_flight, 0, __ATOMIC_RELEASE);
	} else {
		msg_put(thread, msg);
	}
	fn(ctx);
}

/* Take up to max messages from the list, only once the ring is empty (rule 2). */
static uint32_t
overflow_take(struct nvt_thread *thread, void **batch, uint32_t max)
{
	struct nvt_thread_msg *msg;
	uint32_t n = 0, left;

	pthread_mutex_lock(&thread->overflow_lock);
	if (nvt_ring_count(thread->msgs) > 0) {
		pthread_mutex_unlock(&thread->overflow_lock);
		return 0;
	}
	while (n < max && (msg = thread->overflow_head) != NULL) {
		thread->overflow_head = msg->next;
		batch[n++] = msg;
	}
	if (thread->overflow_head == NULL) {
		thread->overflow_tail = NULL;
	}
	left = atomic_load_explicit(&thread->overflow_count, memory_order_relaxed) - n;
	/* Pairs with the acquire in msg_enqueue(): what was taken runs before the ring. */
	atomic_store_explicit(&thread->overflow_count, left, memory_order_release);
	pthread_mutex_unlock(&thread->overflow_lock);
	return n;
}

uint32_t
thread_run_msgs(struct nvt_thread *thread, uint32_t max_msgs)
{
	void *batch[MSG_BATCH_DEFAULT];
	uint32_t count, n, i;

	if (max_msgs == 0 || max_msgs > MSG_BATCH_DEFAULT) {
		max_msgs = MSG_BATCH_DEFAULT;
	}
	count = (uint32_t)nvt_ring_dequeue(thread->msgs, batch, max_msgs);
	for (i = 0; i < count; i++) {
		msg_run(thread, batch[i]);
	}
	if (nvt_likely(count == max_msgs ||
		       atomic_load_explicit(&thread->overflow_count, memory_order_relaxed) == 0)) {
		return count;
	}
	/* Everything taken runs now, before the ring is read again (rule 1). */
	n = overflow_take(thread, batch, max_msgs - count);
	for (i = 0; i < n; i++) {
		msg_run(thread, batch[i]);
	}
	return count + n;
}

bool
thread_has_msgs(struct nvt_thread *thread)
{
	return nvt_ring_count(thread->msgs) > 0 ||
	       atomic_load_explicit(&thread->overflow_count, memory_order_relaxed) > 0;
}

/* Drop one message that will never run: free it, or hand caller storage back. */
static void
msg_drop(struct nvt_thread_msg *msg)
{
	if (msg->prealloc) {
		__atomic_store_n(&msg->in_flight, 0, __ATOMIC_RELEASE);
	} else {
		free(msg);
	}
}

void
thread_free_msgs(struct nvt_thread *thread)
{
	struct nvt_thread_msg *msg;
	size_t dropped = 0;
	void *obj;

	while (thread->msgs != NULL && nvt_ring_dequeue(thread->msgs, &obj, 1) == 1) {
		msg_drop(obj);
		dropped++;
	}
	while ((msg = thread->overflow_head) != NULL) {
		thread->overflow_head = msg->next;
		msg_drop(msg);
		dropped++;
	}
	thread->overflow_tail = NULL;
	if (dropped > 0) {
		NVT_WARNLOG("thread %s: dropped %zu messages sent after it exited\n", thread->name,
			    dropped);
	}
	while ((msg = thread->msg_cache) != NULL) {
		thread->msg_cache = msg->next;
		free(msg);
	}
	thread->msg_cache_count = 0;
}

/* ---- for_each_thread ---- */

struct for_each_thread_ctx {
	nvt_msg_fn fn;
	nvt_msg_fn cpl;
	void *ctx;
	struct nvt_thread *orig;
	/* Carries every step and the return: one at a time, none lost. */
	struct nvt_thread_msg msg;
};

static void
for_each_thread_done(void *arg)
{
	struct for_each_thread_ctx *fe = arg;

	fe->cpl(fe->ctx);
	free(fe);
}

/* Send to the first live thread after cur (NULL: the first one); false if none. */
static bool for_each_thread_next(struct for_each_thread_ctx *fe, struct nvt_thread *cur);

static void
for_each_thread_step(void *arg)
{
	struct for_each_thread_ctx *fe = arg;
	int rc;

	fe->fn(fe->ctx);
	if (for_each_thread_next(fe, tls_thread)) {
		return;
	}
	rc = nvt_thread_send_msg_prealloc(fe->orig, &fe->msg, for_each_thread_done, fe);
	if (rc != 0) {
		NVT_ERRLOG("for_each_thread: cannot return to thread %s: %s\n", fe->orig->name,
			   nvt_strerror(rc));
	}
}

static bool
for_each_thread_next(struct for_each_thread_ctx *fe, struct nvt_thread *cur)
{
	struct nvt_thread *next;
	bool sent = false;

	pthread_mutex_lock(&g_lock);
	next = cur ? TAILQ_NEXT(cur, link) : TAILQ_FIRST(&g_threads);
	/* Only an exited thread refuses: it is skipped. */
	for (; next != NULL && !sent; next = TAILQ_NEXT(next, link)) {
		sent = nvt_thread_send_msg_prealloc(next, &fe->msg, for_each_thread_step, fe) == 0;
	}
	pthread_mutex_unlock(&g_lock);
	return sent;
}

int
nvt_for_each_thread(nvt_msg_fn fn, void *ctx, nvt_msg_fn cpl)
{
	struct for_each_thread_ctx *fe;

	if (tls_thread == NULL) {
		NVT_ERRLOG("for_each_thread called off any thread\n");
		return -EINVAL;
	}
	fe = calloc(1, sizeof(*fe));
	if (fe == NULL) {
		return -ENOMEM;
	}
	fe->fn = fn;
	fe->cpl = cpl;
	fe->ctx = ctx;
	fe->orig = tls_thread;
	if (!for_each_thread_next(fe, NULL)) {
		free(fe);
		return -ENOMEM;
	}
	return 0;
}
