/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the completion hand-off (lib/thread/cpl_queue.c): producer
 * pthreads push while the owning thread consumes; every entry arrives
 * exactly once, on the owning thread, each producer's in its push order, and
 * a push wakes the thread from an interrupt-mode sleep.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nvtcp/cpl_queue.h"
#include "ut_thread.h"

#define UT_PRODUCERS 4
#define UT_PER_PROD  20000

struct ut_item {
	struct nvt_cpl_entry entry;
	uint32_t producer;
	uint32_t seq;
	uint32_t seen;
};

struct ut_state {
	struct nvt_thread *owner;
	struct nvt_cpl_queue q;
	struct ut_item *items; /* UT_PRODUCERS * UT_PER_PROD */
	uint32_t next[UT_PRODUCERS];
	uint32_t count;
	uint32_t out_of_order;
	uint32_t wrong_thread;
};

static struct ut_state g_st;

static void
ut_consume(struct nvt_cpl_entry *entry, void *ctx)
{
	struct ut_state *st = ctx;
	struct ut_item *it = (struct ut_item *)entry;

	if (nvt_get_thread() != st->owner) {
		st->wrong_thread++;
	}
	if (it->seq != st->next[it->producer]) {
		st->out_of_order++;
	}
	st->next[it->producer] = it->seq + 1;
	it->seen++;
	__atomic_store_n(&st->count, st->count + 1, __ATOMIC_RELEASE);
}

static void *
ut_producer(void *arg)
{
	uint32_t p = (uint32_t)(uintptr_t)arg;
	uint32_t i;

	for (i = 0; i < UT_PER_PROD; i++) {
		struct ut_item *it = &g_st.items[p * UT_PER_PROD + i];

		it->producer = p;
		it->seq = i;
		nvt_cpl_queue_push(&g_st.q, &it->entry);
	}
	return NULL;
}

static void
ut_state_init(void)
{
	memset(&g_st, 0, sizeof(g_st));
	g_st.owner = nvt_thread_create("owner", NULL);
	assert_non_null(g_st.owner);
	g_st.items = calloc(UT_PRODUCERS * UT_PER_PROD, sizeof(*g_st.items));
	assert_non_null(g_st.items);
	nvt_cpl_queue_init(&g_st.q, g_st.owner, ut_consume, &g_st);
}

static void
ut_state_fini(void)
{
	assert_true(ut_thread_exit_destroy(&g_st.owner));
	free(g_st.items);
}

/* Producers race the consumer polling its thread: each entry once, in order. */
static void
test_producers_exactly_once(void **state)
{
	pthread_t tids[UT_PRODUCERS];
	uint32_t p, i, total = UT_PRODUCERS * UT_PER_PROD;

	(void)state;
	ut_state_init();
	for (p = 0; p < UT_PRODUCERS; p++) {
		assert_int_equal(pthread_create(&tids[p], NULL, ut_producer, (void *)(uintptr_t)p),
				 0);
	}
	/* Consume while they push, until every entry arrived (bounded by the joins below). */
	while (__atomic_load_n(&g_st.count, __ATOMIC_ACQUIRE) < total) {
		nvt_thread_poll(g_st.owner, 0, 0);
	}
	for (p = 0; p < UT_PRODUCERS; p++) {
		pthread_join(tids[p], NULL);
	}
	/* Nothing more arrives: no entry twice, no message left that finds anything. */
	for (i = 0; i < 100; i++) {
		nvt_thread_poll(g_st.owner, 0, 0);
	}
	assert_int_equal(g_st.count, total);
	assert_int_equal(g_st.out_of_order, 0);
	assert_int_equal(g_st.wrong_thread, 0);
	assert_int_equal(g_st.q.send_failures, 0);
	for (i = 0; i < total; i++) {
		assert_int_equal(g_st.items[i].seen, 1);
	}
	ut_state_fini();
}

/* A push from another OS thread wakes the owning thread from its sleep. */
static void
test_push_wakes_sleeping_thread(void **state)
{
	pthread_t tid;
	int i;

	(void)state;
	ut_state_init();
	/* Settle, then sleep: nothing makes the interrupt fd readable yet. */
	for (i = 0; i < 10; i++) {
		nvt_thread_poll(g_st.owner, 0, 0);
	}
	assert_true(nvt_thread_prepare_sleep(g_st.owner));
	assert_false(ut_intr_readable(g_st.owner, 0));
	g_st.items[0].producer = 0;
	g_st.items[0].seq = 0;
	/* One producer, one entry (UT_PER_PROD of them otherwise: only the first pushes here). */
	assert_int_equal(pthread_create(&tid, NULL, ut_producer, (void *)(uintptr_t)0), 0);
	assert_true(ut_intr_readable(g_st.owner, 10000));
	nvt_thread_end_sleep(g_st.owner);
	pthread_join(tid, NULL);
	while (__atomic_load_n(&g_st.count, __ATOMIC_ACQUIRE) < UT_PER_PROD) {
		nvt_thread_poll(g_st.owner, 0, 0);
	}
	assert_int_equal(g_st.out_of_order, 0);
	assert_int_equal(g_st.wrong_thread, 0);
	ut_state_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_producers_exactly_once, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_push_wakes_sleeping_thread, ut_setup,
						ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
