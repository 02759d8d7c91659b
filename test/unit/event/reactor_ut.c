/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/event/reactor.c with real reactors on cores 0 and 1:
 * thread placement, messages across reactors, moving threads, events and
 * for_each_thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ut_app.h"

/* ---- placement ---- */

struct placement {
	struct nvt_thread *threads[2];
	uint32_t cores[2];
	struct nvt_thread *seen[2];
	int replies;
};

static void
placement_reply(void *arg)
{
	struct placement *pl = arg;

	UT_CHECK(nvt_get_thread() == nvt_app_get_thread());
	if (++pl->replies == 2) {
		nvt_app_stop(0);
	}
}

static void
placement_where(struct placement *pl, int idx)
{
	pl->cores[idx] = nvt_env_get_current_core();
	pl->seen[idx] = nvt_get_thread();
	UT_CHECK(nvt_thread_send_msg(nvt_app_get_thread(), placement_reply, pl) == 0);
}

static void
placement_where0(void *arg)
{
	placement_where(arg, 0);
}

static void
placement_where1(void *arg)
{
	placement_where(arg, 1);
}

static void
placement_start(void *arg)
{
	struct placement *pl = arg;
	struct nvt_reactor_stats st;

	UT_CHECK(nvt_env_get_current_core() == 0);
	UT_CHECK(nvt_get_thread() == nvt_app_get_thread());
	UT_CHECK(nvt_env_get_core_count() == 2);
	UT_CHECK(nvt_env_get_first_core() == 0);
	UT_CHECK(nvt_env_get_next_core(0) == 1);
	UT_CHECK(nvt_env_get_next_core(1) == UINT32_MAX);
	UT_CHECK(nvt_cpuset_count(nvt_env_get_core_mask()) == 2);
	UT_CHECK(nvt_reactor_get_stats(0, &st) == 0 && st.thread_count >= 1);
	UT_CHECK(nvt_reactor_get_stats(2, &st) == -ENOENT);
	UT_CHECK(!nvt_app_is_stopping());

	/* A cpumask that allows no reactor core is refused. */
	UT_CHECK(ut_thread_on_core("nowhere", 5) == NULL);
	UT_CHECK(ut_log_has("allows no core"));
	ut_log_clear();

	pl->threads[1] = ut_thread_on_core("on1", 1);
	pl->threads[0] = ut_thread_on_core("on0", 0);
	UT_CHECK(pl->threads[0] != NULL && pl->threads[1] != NULL);
	UT_CHECK(nvt_thread_send_msg(pl->threads[0], placement_where0, pl) == 0);
	UT_CHECK(nvt_thread_send_msg(pl->threads[1], placement_where1, pl) == 0);
}

static void
test_placement(void **state)
{
	struct placement pl = { 0 };

	(void)state;
	UT_NEED_TWO_CORES();
	assert_null(nvt_app_get_thread());
	assert_int_equal(ut_app_run("0x3", false, placement_start, &pl, NULL), 0);
	assert_int_equal(pl.replies, 2);
	assert_int_equal(pl.cores[0], 0);
	assert_int_equal(pl.cores[1], 1);
	assert_ptr_equal(pl.seen[0], pl.threads[0]);
	assert_ptr_equal(pl.seen[1], pl.threads[1]);
	assert_null(nvt_app_get_thread());
	assert_int_equal(nvt_env_get_current_core(), UINT32_MAX);
}

/* ---- message order across reactors ---- */

#define ORDER_MSGS 100000

struct order {
	struct nvt_thread *sender;
	struct nvt_thread *receiver;
	struct nvt_poller *poller;
	uint64_t next_send;
	uint64_t next_recv;
	uint64_t full;
	uint32_t recv_core;
};

static struct order g_order;

static void
order_done(void *arg)
{
	(void)arg;
	nvt_app_stop(0);
}

static void
order_recv(void *arg)
{
	struct order *o = &g_order;
	uint64_t seq = (uintptr_t)arg;

	if (seq != o->next_recv) {
		UT_CHECK(seq == o->next_recv);
		return;
	}
	o->recv_core = nvt_env_get_current_core();
	UT_CHECK(o->recv_core == 1);
	if (++o->next_recv == ORDER_MSGS) {
		UT_CHECK(nvt_thread_send_msg(nvt_app_get_thread(), order_done, NULL) == 0);
	}
}

/* Streams numbered messages, past a full ring; one refused (no memory) is retried next poll. */
static int
order_send_poll(void *arg)
{
	struct order *o = arg;
	int rc;

	while (o->next_send < ORDER_MSGS) {
		rc = nvt_thread_send_msg(o->receiver, order_recv, (void *)(uintptr_t)o->next_send);
		if (rc != 0) {
			UT_CHECK(rc == -ENOMEM);
			o->full++;
			return NVT_POLLER_BUSY;
		}
		o->next_send++;
	}
	nvt_poller_unregister(&o->poller);
	return NVT_POLLER_BUSY;
}

static void
order_sender_start(void *arg)
{
	struct order *o = arg;

	UT_CHECK(nvt_env_get_current_core() == 0);
	o->poller = nvt_poller_register(order_send_poll, o, 0, "sender");
	UT_CHECK(o->poller != NULL);
}

static void
order_start(void *arg)
{
	struct order *o = arg;

	o->receiver = ut_thread_on_core("receiver", 1);
	o->sender = ut_thread_on_core("sender", 0);
	UT_CHECK(o->receiver != NULL && o->sender != NULL);
	UT_CHECK(nvt_thread_send_msg(o->sender, order_sender_start, o) == 0);
}

static void
test_cross_reactor_order(void **state)
{
	(void)state;
	UT_NEED_TWO_CORES();
	memset(&g_order, 0, sizeof(g_order));
	assert_int_equal(ut_app_run("0x3", false, order_start, &g_order, NULL), 0);
	assert_int_equal(g_order.next_send, ORDER_MSGS);
	assert_int_equal(g_order.next_recv, ORDER_MSGS);
	assert_int_equal(g_order.recv_core, 1);
	assert_null(g_order.poller);
	print_message("100k messages core 0 -> core 1 in order; refused %lu times\n", g_order.full);
}

/* ---- moving a thread ---- */

struct move {
	struct nvt_thread *thread;
	uint32_t cores[3];
	int step;
	int bad_rc;
};

static void move_step(void *arg);

static void
move_step(void *arg)
{
	struct move *mv = arg;
	uint32_t core = nvt_env_get_current_core();
	uint32_t to = mv->step == 0 ? 1 : 0;

	UT_CHECK(nvt_get_thread() == mv->thread);
	mv->cores[mv->step++] = core;
	if (mv->step == 3) {
		UT_CHECK(nvt_thread_send_msg(nvt_app_get_thread(), order_done, NULL) == 0);
		return;
	}
	mv->bad_rc = nvt_thread_move_to_core(9);
	UT_CHECK(nvt_thread_move_to_core(to) == 0);
	UT_CHECK(nvt_cpuset_get_cpu(nvt_thread_get_cpumask(mv->thread), to));
	UT_CHECK(!nvt_cpuset_get_cpu(nvt_thread_get_cpumask(mv->thread), core));
	/* Sent after the move: runs on the new core. */
	UT_CHECK(nvt_thread_send_msg(mv->thread, move_step, mv) == 0);
}

static void
move_start(void *arg)
{
	struct move *mv = arg;

	mv->thread = ut_thread_on_core("mover", 0);
	UT_CHECK(mv->thread != NULL);
	UT_CHECK(nvt_thread_send_msg(mv->thread, move_step, mv) == 0);
}

static void
test_move_to_core(void **state)
{
	struct move mv = { 0 };

	(void)state;
	UT_NEED_TWO_CORES();
	assert_int_equal(ut_app_run("0x3", false, move_start, &mv, NULL), 0);
	assert_int_equal(mv.step, 3);
	assert_int_equal(mv.cores[0], 0);
	assert_int_equal(mv.cores[1], 1);
	assert_int_equal(mv.cores[2], 0);
	assert_int_equal(mv.bad_rc, -EINVAL);
}

/* ---- events ---- */

struct events {
	uint32_t out_core;
	uint32_t back_core;
	bool out_no_thread;
	void *arg2;
	_Atomic int from_pthread_ran;
	uint32_t pthread_event_core;
	pthread_t tid;
};

static void
event_back(void *arg1, void *arg2)
{
	struct events *ev = arg1;

	(void)arg2;
	ev->back_core = nvt_env_get_current_core();
	nvt_app_stop(0);
}

static void
event_from_pthread(void *arg1, void *arg2)
{
	struct events *ev = arg1;
	struct nvt_event *back;

	(void)arg2;
	ev->pthread_event_core = nvt_env_get_current_core();
	atomic_store(&ev->from_pthread_ran, 1);
	back = nvt_event_allocate(0, event_back, ev, NULL);
	UT_CHECK(back != NULL);
	nvt_event_call(back);
}

static void *
event_pthread(void *arg)
{
	struct events *ev = arg;
	struct nvt_event *event;

	UT_CHECK(nvt_env_get_current_core() == UINT32_MAX);
	event = nvt_event_allocate(1, event_from_pthread, ev, NULL);
	UT_CHECK(event != NULL);
	nvt_event_call(event);
	return NULL;
}

static void
event_out(void *arg1, void *arg2)
{
	struct events *ev = arg1;

	ev->out_core = nvt_env_get_current_core();
	ev->out_no_thread = nvt_get_thread() == NULL;
	ev->arg2 = arg2;
	/* Then one from a plain pthread, which comes back to core 0. */
	UT_CHECK(pthread_create(&ev->tid, NULL, event_pthread, ev) == 0);
}

static void
events_start(void *arg)
{
	struct events *ev = arg;
	struct nvt_event *event;

	UT_CHECK(nvt_event_allocate(7, event_out, ev, NULL) == NULL);
	UT_CHECK(ut_log_has("no reactor on core 7"));
	ut_log_clear();
	event = nvt_event_allocate(1, event_out, ev, (void *)0x1234);
	UT_CHECK(event != NULL);
	nvt_event_call(event);
}

static void
test_events(void **state)
{
	struct events ev = { 0 };

	(void)state;
	UT_NEED_TWO_CORES();
	assert_int_equal(ut_app_run("0x3", false, events_start, &ev, NULL), 0);
	pthread_join(ev.tid, NULL);
	assert_int_equal(ev.out_core, 1);
	assert_true(ev.out_no_thread);
	assert_ptr_equal(ev.arg2, (void *)0x1234);
	assert_int_equal(atomic_load(&ev.from_pthread_ran), 1);
	assert_int_equal(ev.pthread_event_core, 1);
	assert_int_equal(ev.back_core, 0);
}

/* ---- for_each_thread across reactors ---- */

#define FE_THREADS 4

struct fe {
	struct nvt_thread *threads[FE_THREADS + 1]; /* + the app thread */
	struct nvt_thread *visited[FE_THREADS + 2];
	uint32_t cores[FE_THREADS + 2];
	int nvisited;
	int cpl_visits;
	bool cpl_on_app;
};

static void
fe_visit(void *arg)
{
	struct fe *fe = arg;

	if (fe->nvisited >= FE_THREADS + 2) {
		UT_CHECK(fe->nvisited < FE_THREADS + 2);
		return;
	}
	fe->visited[fe->nvisited] = nvt_get_thread();
	fe->cores[fe->nvisited] = nvt_env_get_current_core();
	fe->nvisited++;
}

static void
fe_done(void *arg)
{
	struct fe *fe = arg;

	fe->cpl_visits = fe->nvisited;
	fe->cpl_on_app = nvt_get_thread() == nvt_app_get_thread();
	nvt_app_stop(0);
}

static void
fe_start(void *arg)
{
	struct fe *fe = arg;
	char name[16];
	int i;

	fe->threads[0] = nvt_app_get_thread();
	for (i = 1; i <= FE_THREADS; i++) {
		snprintf(name, sizeof(name), "fe%d", i);
		fe->threads[i] = ut_thread_on_core(name, (uint32_t)(i % 2));
		UT_CHECK(fe->threads[i] != NULL);
	}
	UT_CHECK(nvt_for_each_thread(fe_visit, fe, fe_done) == 0);
}

static void
test_for_each_thread(void **state)
{
	struct fe fe = { 0 };
	int i;

	(void)state;
	UT_NEED_TWO_CORES();
	assert_int_equal(ut_app_run("0x3", false, fe_start, &fe, NULL), 0);
	assert_true(fe.cpl_on_app);
	assert_int_equal(fe.cpl_visits, FE_THREADS + 1);
	/* Every thread once, in creation order, each on its own core. */
	for (i = 0; i <= FE_THREADS; i++) {
		assert_ptr_equal(fe.visited[i], fe.threads[i]);
		assert_int_equal(fe.cores[i], i % 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_placement, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_cross_reactor_order, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_move_to_core, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_events, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_for_each_thread, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
