/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/thread/msg.c beyond the basics: a full ring loses no
 * message and keeps each sender's order, messages in caller-owned storage
 * keep their place among the others, exited and destroyed threads, and
 * senders on other OS threads racing the consumer through the overflow list.
 * LeakSanitizer checks that every message is freed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "thread_internal.h"
#include "ut_thread.h"

/* Well past one ring: the rest waits in the overflow list. */
#define UT_BURST     (2 * MSG_RING_SIZE + 123)
#define UT_SENDERS   4
#define UT_SEQ_SPAN  (1u << 24)
#define UT_PREALLOCS 8

/* Per-sender sequence numbers as seen by the receiving thread. */
struct seq_rec {
	uint32_t next[UT_SENDERS]; /* next number expected from each sender */
	uint32_t count;		   /* messages run */
	uint32_t bad;		   /* messages out of their sender's order */
};

static struct seq_rec g_rec;

static void *
seq_ctx(uint32_t sender, uint32_t n)
{
	return (void *)(uintptr_t)(sender * UT_SEQ_SPAN + n);
}

static void
seq_msg(void *ctx)
{
	uint32_t sender = (uint32_t)((uintptr_t)ctx / UT_SEQ_SPAN);
	uint32_t n = (uint32_t)((uintptr_t)ctx % UT_SEQ_SPAN);

	if (sender >= UT_SENDERS || n != g_rec.next[sender]) {
		g_rec.bad++;
	} else {
		g_rec.next[sender] = n + 1;
	}
	g_rec.count++;
}

static uint32_t
overflow_count(struct nvt_thread *thread)
{
	return atomic_load(&thread->overflow_count);
}

/* Poll \p thread with batches of \p max_msgs until \p count messages have run. */
static void
poll_until(struct nvt_thread *thread, uint32_t max_msgs, uint32_t count)
{
	uint32_t rounds = 4 * UT_BURST;

	while (g_rec.count < count && rounds-- > 0) {
		nvt_thread_poll(thread, max_msgs, 0);
	}
	assert_int_equal(g_rec.count, count);
}

static void
test_ring_full_keeps_order(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("full", NULL);
	uint32_t i;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	for (i = 0; i < UT_BURST; i++) {
		assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, i)), 0);
	}
	assert_int_equal(overflow_count(thread), UT_BURST - MSG_RING_SIZE);
	assert_int_equal(g_rec.count, 0);
	poll_until(thread, 0, UT_BURST);
	assert_int_equal(g_rec.bad, 0);
	assert_int_equal(g_rec.next[0], UT_BURST);
	assert_int_equal(overflow_count(thread), 0);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 0);
	assert_true(ut_thread_exit_destroy(&thread));
}

/*
 * One sender keeps sending while the receiver drains in small batches, so
 * sends meet every state: ring full, list non-empty while the ring drains,
 * list being taken from, and back to the ring once the list is empty.
 */
static void
test_overflow_transitions(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("transitions", NULL);
	uint32_t sent = 0, i;
	bool overflowed = false, back_to_ring = false;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	while (sent < MSG_RING_SIZE + 500) {
		assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, sent++)), 0);
	}
	for (i = 0; g_rec.count < sent && i < 4 * UT_BURST; i++) {
		nvt_thread_poll(thread, 7, 0);
		overflowed |= overflow_count(thread) > 0;
		/* Three sent per seven run: the backlog shrinks, then empties. */
		if (sent < UT_BURST) {
			assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, sent++)),
					 0);
			assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, sent++)),
					 0);
			assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, sent++)),
					 0);
			back_to_ring |= overflowed && overflow_count(thread) == 0;
		}
	}
	assert_true(overflowed);
	assert_true(back_to_ring);
	assert_int_equal(g_rec.count, sent);
	assert_int_equal(g_rec.bad, 0);
	assert_int_equal(g_rec.next[0], sent);
	assert_true(ut_thread_exit_destroy(&thread));
}

/* Run on the receiver itself: fills the ring it just emptied, then one more. */
static void
fill_ring_and_one(void *ctx)
{
	struct nvt_thread *self = nvt_get_thread();
	uint32_t i;

	(void)ctx;
	for (i = 0; i <= MSG_RING_SIZE; i++) {
		assert_int_equal(nvt_thread_send_msg(self, seq_msg, seq_ctx(0, i)), 0);
	}
	assert_int_equal(overflow_count(self), 1);
}

/*
 * The poll that ran fill_ring_and_one() found the ring short of its batch;
 * still the message in the list must wait for the ring's older ones.
 */
static void
test_list_waits_for_ring(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("self", NULL);

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	assert_int_equal(nvt_thread_send_msg(thread, fill_ring_and_one, NULL), 0);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(g_rec.count, 0);
	assert_int_equal(overflow_count(thread), 1);
	poll_until(thread, 0, MSG_RING_SIZE + 1);
	assert_int_equal(g_rec.bad, 0);
	assert_int_equal(overflow_count(thread), 0);
	assert_true(ut_thread_exit_destroy(&thread));
}

/* Two senders on nvt_threads (their messages come from their caches) interleave bursts. */
struct burst {
	struct nvt_thread *dst;
	uint32_t sender;
	uint32_t next;
	uint32_t count;
};

static void
burst_msg(void *ctx)
{
	struct burst *b = ctx;
	uint32_t i;

	for (i = 0; i < b->count; i++) {
		assert_int_equal(
			nvt_thread_send_msg(b->dst, seq_msg, seq_ctx(b->sender, b->next++)), 0);
	}
}

static void
test_overflow_two_senders(void **state)
{
	struct nvt_thread *dst = nvt_thread_create("dst", NULL);
	struct nvt_thread *src[2] = { nvt_thread_create("src0", NULL),
				      nvt_thread_create("src1", NULL) };
	struct burst b[2] = { { dst, 0, 0, MSG_RING_SIZE / 2 + 7 },
			      { dst, 1, 0, MSG_RING_SIZE / 2 + 7 } };
	int round, s;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	for (round = 0; round < 3; round++) {
		for (s = 0; s < 2; s++) {
			assert_int_equal(nvt_thread_send_msg(src[s], burst_msg, &b[s]), 0);
			assert_int_equal(nvt_thread_poll(src[s], 0, 0), 1);
		}
		/* Drain a little between rounds, not all. */
		nvt_thread_poll(dst, 0, 0);
	}
	assert_true(overflow_count(dst) > 0);
	poll_until(dst, 0, b[0].next + b[1].next);
	assert_int_equal(g_rec.bad, 0);
	assert_int_equal(g_rec.next[0], b[0].next);
	assert_int_equal(g_rec.next[1], b[1].next);
	assert_true(ut_thread_exit_destroy(&src[0]));
	assert_true(ut_thread_exit_destroy(&src[1]));
	assert_true(ut_thread_exit_destroy(&dst));
}

/* ---- caller-owned storage ---- */

static void
test_prealloc_interleaved(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("prealloc", NULL);
	struct nvt_thread_msg *msgs = calloc(UT_BURST / 5 + 1, sizeof(*msgs));
	uint32_t i;

	(void)state;
	assert_non_null(msgs);
	memset(&g_rec, 0, sizeof(g_rec));
	/* Every fifth message in its own storage, through the ring and the list alike. */
	for (i = 0; i < UT_BURST; i++) {
		if (i % 5 == 0) {
			assert_int_equal(nvt_thread_send_msg_prealloc(thread, &msgs[i / 5], seq_msg,
								      seq_ctx(0, i)),
					 0);
		} else {
			assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, i)), 0);
		}
	}
	/* In flight: refused, and the queued one is untouched. */
	assert_int_equal(nvt_thread_send_msg_prealloc(thread, &msgs[0], seq_msg, seq_ctx(1, 0)),
			 -EBUSY);
	assert_int_equal(
		nvt_thread_send_msg_prealloc(thread, &msgs[UT_BURST / 5], seq_msg, seq_ctx(1, 0)),
		-EBUSY);
	poll_until(thread, 0, UT_BURST);
	assert_int_equal(g_rec.bad, 0);
	assert_int_equal(g_rec.next[0], UT_BURST);
	assert_int_equal(g_rec.next[1], 0);
	/* Free again once run. */
	assert_int_equal(nvt_thread_send_msg_prealloc(thread, &msgs[0], seq_msg, seq_ctx(1, 0)), 0);
	poll_until(thread, 0, UT_BURST + 1);
	assert_int_equal(g_rec.next[1], 1);
	assert_true(ut_thread_exit_destroy(&thread));
	free(msgs);
}

struct chain {
	struct nvt_thread *threads[2];
	struct nvt_thread_msg msg;
	int hops;
	int busy_rc;
};

/* Sends its own storage on from inside its function: free once the function runs. */
static void
chain_hop(void *ctx)
{
	struct chain *c = ctx;

	assert_ptr_equal(nvt_get_thread(), c->threads[c->hops % 2]);
	if (++c->hops == 10) {
		return;
	}
	assert_int_equal(
		nvt_thread_send_msg_prealloc(c->threads[c->hops % 2], &c->msg, chain_hop, c), 0);
	c->busy_rc = nvt_thread_send_msg_prealloc(c->threads[0], &c->msg, chain_hop, c);
}

static void
test_prealloc_resend_from_fn(void **state)
{
	struct chain c = { .threads = { nvt_thread_create("a", NULL),
					nvt_thread_create("b", NULL) } };
	int i;

	(void)state;
	assert_int_equal(nvt_thread_send_msg_prealloc(c.threads[0], &c.msg, chain_hop, &c), 0);
	for (i = 0; i < 20 && c.hops < 10; i++) {
		ut_poll_all(c.threads, 2, 1);
	}
	assert_int_equal(c.hops, 10);
	assert_int_equal(c.busy_rc, -EBUSY);
	assert_int_equal(nvt_thread_poll(c.threads[0], 0, 0), 0);
	assert_int_equal(nvt_thread_poll(c.threads[1], 0, 0), 0);
	assert_true(ut_thread_exit_destroy(&c.threads[0]));
	assert_true(ut_thread_exit_destroy(&c.threads[1]));
}

static void
test_exited_thread(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("exited", NULL);
	struct nvt_thread *other = nvt_thread_create("other", NULL);
	struct nvt_thread_msg msg = { 0 };

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	nvt_set_thread(thread);
	nvt_thread_exit(thread);
	nvt_set_thread(NULL);
	nvt_thread_poll(thread, 0, 0);
	assert_true(nvt_thread_is_exited(thread));
	assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, 0)), -EIO);
	assert_int_equal(nvt_thread_send_msg_prealloc(thread, &msg, seq_msg, seq_ctx(0, 0)), -EIO);
	nvt_thread_destroy(&thread);
	/* Refused storage is free at once. */
	assert_int_equal(nvt_thread_send_msg_prealloc(other, &msg, seq_msg, seq_ctx(0, 0)), 0);
	assert_int_equal(nvt_thread_poll(other, 0, 0), 1);
	assert_int_equal(g_rec.count, 1);
	assert_int_equal(g_rec.bad, 0);
	assert_true(ut_thread_exit_destroy(&other));
}

/* ---- exit, sleep and destroy with messages in the list ---- */

static void
test_exit_waits_for_overflow(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("exiting", NULL);
	uint32_t i;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	for (i = 0; i < UT_BURST; i++) {
		assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, i)), 0);
	}
	nvt_set_thread(thread);
	nvt_thread_exit(thread);
	nvt_set_thread(NULL);
	for (i = 0; i < 4 * UT_BURST && !nvt_thread_is_exited(thread); i++) {
		nvt_thread_poll(thread, 0, 0);
		assert_true(nvt_thread_is_exited(thread) == (g_rec.count == UT_BURST));
	}
	assert_true(nvt_thread_is_exited(thread));
	assert_int_equal(g_rec.bad, 0);
	nvt_thread_destroy(&thread);
}

static void
test_sleep_sees_overflow(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("sleepy", NULL);
	uint32_t i;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	for (i = 0; i < MSG_RING_SIZE + 10; i++) {
		assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, i)), 0);
	}
	/* Exactly the ring: it is empty, ten wait in the list. */
	for (i = 0; i < MSG_RING_SIZE / 64; i++) {
		assert_int_equal(nvt_thread_poll(thread, 64, 0), 1);
	}
	assert_int_equal(g_rec.count, MSG_RING_SIZE);
	assert_int_equal(nvt_ring_count(thread->msgs), 0);
	assert_int_equal(overflow_count(thread), 10);
	assert_false(nvt_thread_prepare_sleep(thread));
	assert_int_equal(nvt_thread_poll(thread, 64, 0), 1);
	assert_int_equal(g_rec.count, MSG_RING_SIZE + 10);
	assert_int_equal(g_rec.bad, 0);
	assert_true(nvt_thread_prepare_sleep(thread));
	/* A send to the sleeper wakes it, through the ring again. */
	assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, MSG_RING_SIZE + 10)), 0);
	assert_true(ut_intr_readable(thread, 1000));
	nvt_thread_end_sleep(thread);
	assert_int_equal(overflow_count(thread), 0);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(g_rec.bad, 0);
	assert_true(ut_thread_exit_destroy(&thread));
}

static void
test_destroy_drops_queued(void **state)
{
	struct nvt_thread *thread = nvt_thread_create("doomed", NULL);
	struct nvt_thread *other = nvt_thread_create("other", NULL);
	struct nvt_thread_msg msgs[2] = { { 0 } };
	uint32_t i;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	assert_int_equal(nvt_thread_send_msg_prealloc(thread, &msgs[0], seq_msg, seq_ctx(1, 0)), 0);
	for (i = 0; i < MSG_RING_SIZE; i++) {
		assert_int_equal(nvt_thread_send_msg(thread, seq_msg, seq_ctx(0, i)), 0);
	}
	assert_int_equal(nvt_thread_send_msg_prealloc(thread, &msgs[1], seq_msg, seq_ctx(2, 0)), 0);
	assert_int_equal(overflow_count(thread), 2);
	/* Not exited: destroyed anyway, and every queued message dropped (and freed). */
	nvt_thread_destroy(&thread);
	assert_true(ut_log_has("destroyed before it exited"));
	assert_true(ut_log_has("dropped 16386 messages"));
	ut_log_clear();
	assert_int_equal(g_rec.count, 0);
	/* The caller's storage is free again. */
	assert_int_equal(nvt_thread_send_msg_prealloc(other, &msgs[0], seq_msg, seq_ctx(1, 0)), 0);
	assert_int_equal(nvt_thread_send_msg_prealloc(other, &msgs[1], seq_msg, seq_ctx(2, 0)), 0);
	assert_int_equal(nvt_thread_poll(other, 0, 0), 1);
	assert_int_equal(g_rec.count, 2);
	assert_int_equal(g_rec.bad, 0);
	assert_true(ut_thread_exit_destroy(&other));
}

/* ---- senders on other OS threads ---- */

struct producer {
	pthread_t tid;
	struct nvt_thread *dst;
	uint32_t sender;
	uint32_t count;
	struct nvt_thread_msg msgs[UT_PREALLOCS];
	uint32_t prealloc_sent;
	int failures;
};

static _Atomic uint32_t g_produced;

static void *
producer_main(void *arg)
{
	struct producer *p = arg;
	uint32_t i;
	int rc;

	for (i = 0; i < p->count; i++) {
		/* Caller storage when its slot is free, a heap message otherwise. */
		rc = nvt_thread_send_msg_prealloc(p->dst, &p->msgs[i % UT_PREALLOCS], seq_msg,
						  seq_ctx(p->sender, i));
		if (rc == 0) {
			p->prealloc_sent++;
		} else if (rc != -EBUSY ||
			   nvt_thread_send_msg(p->dst, seq_msg, seq_ctx(p->sender, i)) != 0) {
			p->failures++;
		}
		atomic_fetch_add(&g_produced, 1);
	}
	return NULL;
}

static void
test_concurrent_senders(void **state)
{
	struct nvt_thread *dst = nvt_thread_create("consumer", NULL);
	struct producer *p = calloc(UT_SENDERS, sizeof(*p));
	uint64_t deadline = nvt_get_ticks() + 60 * nvt_get_ticks_hz();
	uint32_t total = 0, i;

	(void)state;
	assert_non_null(p);
	memset(&g_rec, 0, sizeof(g_rec));
	atomic_store(&g_produced, 0);
	for (i = 0; i < UT_SENDERS; i++) {
		p[i].dst = dst;
		p[i].sender = i;
		p[i].count = UT_BURST / 2;
		total += p[i].count;
		assert_int_equal(pthread_create(&p[i].tid, NULL, producer_main, &p[i]), 0);
	}
	/* Let them fill the ring first, then drain while they go on. */
	while (atomic_load(&g_produced) < MSG_RING_SIZE + 1000) {
		sched_yield();
	}
	assert_true(overflow_count(dst) > 0);
	while (g_rec.count < total && nvt_get_ticks() < deadline) {
		nvt_thread_poll(dst, 16, 0);
	}
	for (i = 0; i < UT_SENDERS; i++) {
		assert_int_equal(pthread_join(p[i].tid, NULL), 0);
		assert_int_equal(p[i].failures, 0);
		assert_true(p[i].prealloc_sent > 0);
		assert_int_equal(g_rec.next[i], p[i].count);
	}
	assert_int_equal(g_rec.bad, 0);
	assert_int_equal(g_rec.count, total);
	assert_int_equal(nvt_thread_poll(dst, 0, 0), 0);
	assert_true(ut_thread_exit_destroy(&dst));
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_full_keeps_order, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_overflow_transitions, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_list_waits_for_ring, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_overflow_two_senders, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_interleaved, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_resend_from_fn, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_exited_thread, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_exit_waits_for_overflow, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_sleep_sees_overflow, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_drops_queued, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_senders, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
