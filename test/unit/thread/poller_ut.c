/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/thread/poller.c. Timed pollers are driven by the ticks
 * passed to nvt_thread_poll(): after its first run a poller is due one period
 * after the poll that ran it, so the expected order is exact.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ut_thread.h"

enum tp_action {
	ACT_NONE,
	ACT_UNREG_SELF,
	ACT_UNREG_OTHER,
	ACT_PAUSE_SELF,
	ACT_PAUSE_RESUME_SELF,
	ACT_PAUSE_OTHER,
	ACT_RESUME_OTHER,
};

/* A test poller: logs its tag in the trace, then does its action once. */
struct tp {
	char tag;
	struct nvt_poller *poller;
	enum tp_action action;
	struct tp *other;
	int rc;
	int runs;
};

static char g_trace[512];
static size_t g_trace_len;
static struct nvt_thread *g_thread;

static void
trace_clear(void)
{
	g_trace_len = 0;
	g_trace[0] = '\0';
}

static void
trace_add(char c)
{
	assert_true(g_trace_len + 1 < sizeof(g_trace));
	g_trace[g_trace_len++] = c;
	g_trace[g_trace_len] = '\0';
}

static int
tp_fn(void *arg)
{
	struct tp *p = arg;
	enum tp_action action = p->action;

	assert_ptr_equal(nvt_get_thread(), g_thread);
	p->runs++;
	trace_add(p->tag);
	p->action = ACT_NONE;
	switch (action) {
	case ACT_NONE:
		break;
	case ACT_UNREG_SELF:
		nvt_poller_unregister(&p->poller);
		assert_null(p->poller);
		break;
	case ACT_UNREG_OTHER:
		nvt_poller_unregister(&p->other->poller);
		break;
	case ACT_PAUSE_SELF:
		nvt_poller_pause(p->poller);
		assert_true(nvt_poller_is_paused(p->poller));
		break;
	case ACT_PAUSE_RESUME_SELF:
		nvt_poller_pause(p->poller);
		nvt_poller_resume(p->poller);
		assert_false(nvt_poller_is_paused(p->poller));
		break;
	case ACT_PAUSE_OTHER:
		nvt_poller_pause(p->other->poller);
		break;
	case ACT_RESUME_OTHER:
		nvt_poller_resume(p->other->poller);
		break;
	}
	return p->rc;
}

static void
tp_register(struct tp *p, char tag, uint64_t period_us)
{
	memset(p, 0, sizeof(*p));
	p->tag = tag;
	nvt_set_thread(g_thread);
	p->poller = nvt_poller_register(tp_fn, p, period_us, NULL);
	nvt_set_thread(NULL);
	assert_non_null(p->poller);
}

/* Unregister from outside, as the owning thread. */
static void
tp_unregister(struct tp *p)
{
	nvt_set_thread(g_thread);
	nvt_poller_unregister(&p->poller);
	nvt_set_thread(NULL);
	assert_null(p->poller);
}

static void
tp_pause(struct tp *p)
{
	nvt_set_thread(g_thread);
	nvt_poller_pause(p->poller);
	nvt_set_thread(NULL);
}

static void
tp_resume(struct tp *p)
{
	nvt_set_thread(g_thread);
	nvt_poller_resume(p->poller);
	nvt_set_thread(NULL);
}

/* One poll at \p now, then a '.' in the trace. */
static int
poll_at(uint64_t now)
{
	int rc = nvt_thread_poll(g_thread, 0, now);

	trace_add('.');
	return rc;
}

static int
setup(void **state)
{
	if (ut_setup(state) != 0) {
		return -1;
	}
	trace_clear();
	g_thread = nvt_thread_create("pollers", NULL);
	return g_thread == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	bool exited = ut_thread_exit_destroy(&g_thread);

	if (ut_teardown(state) != 0 || !exited) {
		return -1;
	}
	return 0;
}

/* ---- period 0 ---- */

static void
test_period0_every_poll(void **state)
{
	struct tp a, b, c;
	struct nvt_poller *none = NULL;

	(void)state;
	assert_null(nvt_poller_register(tp_fn, &a, 0, "orphan"));
	assert_true(ut_log_has("registered off any thread"));
	ut_log_clear();

	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	tp_register(&c, 'C', 0);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 3);
	assert_false(nvt_poller_is_paused(a.poller));
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), UINT64_MAX);
	assert_int_equal(poll_at(0), 0);
	assert_int_equal(poll_at(0), 0);
	b.rc = NVT_POLLER_BUSY;
	assert_int_equal(poll_at(0), 1);
	assert_int_equal(poll_at(123), 1);
	assert_string_equal(g_trace, "ABC.ABC.ABC.ABC.");

	nvt_poller_unregister(&none);
	tp_unregister(&a);
	tp_unregister(&b);
	tp_unregister(&c);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 0);
	trace_clear();
	assert_int_equal(poll_at(0), 0);
	assert_string_equal(g_trace, ".");
}

static void
test_poller_stats(void **state)
{
	struct nvt_poller_stats st;
	struct tp a;
	int i;

	(void)state;
	tp_register(&a, 'A', 0);
	nvt_poller_get_stats(a.poller, &st);
	assert_int_equal(st.run_count, 0);
	assert_int_equal(st.busy_count, 0);
	for (i = 0; i < 10; i++) {
		a.rc = i % 3 == 0 ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
		assert_int_equal(poll_at(0), a.rc);
	}
	nvt_poller_get_stats(a.poller, &st);
	assert_int_equal(st.run_count, 10);
	assert_int_equal(st.busy_count, 4);
	tp_unregister(&a);
}

/* ---- timed ---- */

static void
test_timed_not_before_due(void **state)
{
	uint64_t before, after;
	struct tp t;

	(void)state;
	before = nvt_get_ticks();
	tp_register(&t, 'T', 10 * 1000);
	after = nvt_get_ticks();
	assert_true(nvt_thread_next_poller_expiration(g_thread) >= before + 10 * UT_MS);
	assert_true(nvt_thread_next_poller_expiration(g_thread) <= after + 10 * UT_MS);

	assert_int_equal(poll_at(before + 10 * UT_MS - 1), 0);
	assert_int_equal(t.runs, 0);
	t.rc = NVT_POLLER_BUSY;
	assert_int_equal(poll_at(after + 10 * UT_MS), 1);
	assert_int_equal(t.runs, 1);
	/* Next due one period after the poll that ran it. */
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), after + 20 * UT_MS);
	assert_int_equal(poll_at(after + 20 * UT_MS - 1), 0);
	assert_int_equal(t.runs, 1);
	assert_int_equal(poll_at(after + 20 * UT_MS), 1);
	assert_int_equal(t.runs, 2);

	/* A late poll runs it once, not once per missed period. */
	assert_int_equal(poll_at(after + 1000 * UT_MS), 1);
	assert_int_equal(t.runs, 3);
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), after + 1010 * UT_MS);
	tp_unregister(&t);
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), UINT64_MAX);
}

static void
test_timed_expiry_order(void **state)
{
	uint64_t before, after, n0;
	struct tp a, b, c;
	int k;

	(void)state;
	/* Registered in reverse order of expiry on purpose. */
	before = nvt_get_ticks();
	tp_register(&c, 'C', 40 * 1000);
	tp_register(&b, 'B', 25 * 1000);
	tp_register(&a, 'A', 10 * 1000);
	after = nvt_get_ticks();
	assert_true(after - before < UT_MS);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 3);

	/* All three due: they run once each, earliest expiry first. */
	n0 = after + 40 * UT_MS;
	poll_at(n0);
	assert_string_equal(g_trace, "ABC.");

	/*
	 * From n0 on, A is due every 10 ms, B every 25, C every 40. On equal
	 * expiries the one scheduled first runs first: at 40 C (scheduled at
	 * 0) before A (scheduled at 30); at 50 B (25) before A (40).
	 */
	trace_clear();
	for (k = 1; k <= 20; k++) {
		poll_at(n0 + (uint64_t)k * 5 * UT_MS);
	}
	assert_string_equal(g_trace, ".A..A.B.A..CA..BA..A..A.B.CA..A..BA.");
	assert_int_equal(a.runs, 11);
	assert_int_equal(b.runs, 5);
	assert_int_equal(c.runs, 3);
	tp_unregister(&a);
	tp_unregister(&b);
	tp_unregister(&c);
}

static void
test_timed_equal_expiry_fifo(void **state)
{
	struct tp p, q, r, x, y;
	uint64_t after, n;
	int k;

	(void)state;
	/* Same period, registered P, Q, R: always P, Q, R. */
	tp_register(&p, 'P', 10 * 1000);
	tp_register(&q, 'Q', 10 * 1000);
	tp_register(&r, 'R', 10 * 1000);
	after = nvt_get_ticks();
	for (k = 1; k <= 3; k++) {
		poll_at(after + (uint64_t)k * 10 * UT_MS);
	}
	assert_string_equal(g_trace, "PQR.PQR.PQR.");
	tp_unregister(&p);
	tp_unregister(&q);
	tp_unregister(&r);

	/*
	 * X (20 ms) then Y (10 ms): Y runs first, but when both fall due at
	 * the same tick X runs first, as it was scheduled first.
	 */
	trace_clear();
	tp_register(&x, 'X', 20 * 1000);
	tp_register(&y, 'Y', 10 * 1000);
	n = nvt_get_ticks() + 20 * UT_MS;
	for (k = 0; k <= 4; k++) {
		poll_at(n + (uint64_t)k * 10 * UT_MS);
	}
	assert_string_equal(g_trace, "YX.Y.XY.Y.XY.");
	tp_unregister(&x);
	tp_unregister(&y);
}

/* ---- unregister ---- */

static void
test_unregister_self(void **state)
{
	struct tp a, b, t;
	uint64_t now;

	(void)state;
	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	tp_register(&t, 'T', 1000);
	a.action = ACT_UNREG_SELF;
	t.action = ACT_UNREG_SELF;
	now = nvt_get_ticks() + 2 * UT_MS;
	poll_at(now);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 1);
	assert_null(a.poller);
	assert_null(t.poller);
	poll_at(now + 10 * UT_MS);
	poll_at(now + 20 * UT_MS);
	assert_string_equal(g_trace, "ABT.B.B.");
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), UINT64_MAX);
	tp_unregister(&b);
}

static void
test_unregister_other(void **state)
{
	struct tp a, b, c, t1, t2;
	uint64_t now;

	(void)state;
	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	tp_register(&c, 'C', 0);
	/* The next one in the list: it does not run in this poll either. */
	a.action = ACT_UNREG_OTHER;
	a.other = &b;
	poll_at(0);
	assert_null(b.poller);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 2);
	/* One that already ran in this poll. */
	c.action = ACT_UNREG_OTHER;
	c.other = &a;
	poll_at(0);
	poll_at(0);
	assert_string_equal(g_trace, "AC.AC.C.");
	assert_null(a.poller);
	assert_int_equal(b.runs, 0);

	/* A timed poller unregisters another due in the same poll. */
	trace_clear();
	tp_register(&t1, '1', 1000);
	tp_register(&t2, '2', 1000);
	t1.action = ACT_UNREG_OTHER;
	t1.other = &t2;
	now = nvt_get_ticks() + 2 * UT_MS;
	poll_at(now);
	poll_at(now + 2 * UT_MS);
	assert_string_equal(g_trace, "C1.C1.");
	assert_null(t2.poller);
	assert_int_equal(t2.runs, 0);

	/* A period-0 poller unregisters a timed one, and back. */
	trace_clear();
	c.action = ACT_UNREG_OTHER;
	c.other = &t1;
	tp_register(&t2, '2', 1000);
	t2.action = ACT_UNREG_OTHER;
	t2.other = &c;
	now += 10 * UT_MS;
	poll_at(now);
	poll_at(now + 2 * UT_MS);
	assert_string_equal(g_trace, "C2.2.");
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 1);
	tp_unregister(&t2);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 0);
}

/* ---- pause and resume ---- */

static void
test_pause_self(void **state)
{
	struct tp a, b;

	(void)state;
	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	a.action = ACT_PAUSE_SELF;
	poll_at(0);
	assert_true(nvt_poller_is_paused(a.poller));
	poll_at(0);
	/* Paused pollers still count. */
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 2);
	tp_resume(&a);
	assert_false(nvt_poller_is_paused(a.poller));
	poll_at(0);
	assert_string_equal(g_trace, "AB.B.BA.");

	/* Pause and resume in the same callback: it keeps running. */
	trace_clear();
	b.action = ACT_PAUSE_RESUME_SELF;
	poll_at(0);
	poll_at(0);
	assert_string_equal(g_trace, "BA.BA.");
	tp_unregister(&a);
	tp_unregister(&b);
}

static void
test_pause_self_timed(void **state)
{
	uint64_t now, before, after;
	struct tp t;

	(void)state;
	tp_register(&t, 'T', 10 * 1000);
	t.action = ACT_PAUSE_SELF;
	now = nvt_get_ticks() + 10 * UT_MS;
	poll_at(now);
	assert_true(nvt_poller_is_paused(t.poller));
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), UINT64_MAX);
	poll_at(now + 100 * UT_MS);
	assert_string_equal(g_trace, "T..");

	/* Resumed: due a full period after the resume. */
	before = nvt_get_ticks();
	tp_resume(&t);
	after = nvt_get_ticks();
	assert_false(nvt_poller_is_paused(t.poller));
	poll_at(before + 10 * UT_MS - 1);
	assert_int_equal(t.runs, 1);
	poll_at(after + 10 * UT_MS);
	assert_int_equal(t.runs, 2);

	/* Pause and resume in its callback: keeps its period. */
	t.action = ACT_PAUSE_RESUME_SELF;
	poll_at(after + 20 * UT_MS);
	assert_int_equal(t.runs, 3);
	assert_int_equal(nvt_thread_next_poller_expiration(g_thread), after + 30 * UT_MS);
	poll_at(after + 30 * UT_MS);
	assert_int_equal(t.runs, 4);
	tp_unregister(&t);
}

static void
test_pause_outside(void **state)
{
	uint64_t now, before, after;
	struct tp a, b, t;

	(void)state;
	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	tp_register(&t, 'T', 10 * 1000);

	/* Period 0, paused between polls; pausing twice is a no-op. */
	tp_pause(&a);
	tp_pause(&a);
	assert_true(nvt_poller_is_paused(a.poller));
	poll_at(0);
	poll_at(0);
	tp_resume(&a);
	tp_resume(&a);
	poll_at(0);
	assert_string_equal(g_trace, "B.B.BA.");

	/* Paused and resumed before any poll: nothing changes. */
	trace_clear();
	tp_pause(&b);
	tp_resume(&b);
	poll_at(0);
	assert_string_equal(g_trace, "BA.");

	/* Timed: paused while waiting, resumed a full period later. */
	trace_clear();
	tp_pause(&t);
	assert_true(nvt_poller_is_paused(t.poller));
	now = nvt_get_ticks() + 100 * UT_MS;
	poll_at(now);
	assert_int_equal(t.runs, 0);
	before = nvt_get_ticks();
	tp_resume(&t);
	after = nvt_get_ticks();
	assert_true(nvt_thread_next_poller_expiration(g_thread) >= before + 10 * UT_MS);
	assert_true(nvt_thread_next_poller_expiration(g_thread) <= after + 10 * UT_MS);
	poll_at(before + 10 * UT_MS - 1);
	assert_int_equal(t.runs, 0);
	poll_at(after + 10 * UT_MS);
	assert_int_equal(t.runs, 1);
	tp_unregister(&a);
	tp_unregister(&b);
	tp_unregister(&t);
}

static void
test_pause_other(void **state)
{
	struct tp a, b, c, t;
	uint64_t now;

	(void)state;
	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	tp_register(&c, 'C', 0);
	/* A pauses B, the next one: B does not run in this poll. */
	a.action = ACT_PAUSE_OTHER;
	a.other = &b;
	poll_at(0);
	assert_true(nvt_poller_is_paused(b.poller));
	/* C resumes B. */
	c.action = ACT_RESUME_OTHER;
	c.other = &b;
	poll_at(0);
	poll_at(0);
	assert_string_equal(g_trace, "AC.AC.ACB.");

	/* A period-0 poller pauses a waiting timed one. */
	trace_clear();
	tp_register(&t, 'T', 1000);
	a.action = ACT_PAUSE_OTHER;
	a.other = &t;
	now = nvt_get_ticks() + 2 * UT_MS;
	poll_at(now);
	poll_at(now + 10 * UT_MS);
	assert_int_equal(t.runs, 0);
	assert_true(nvt_poller_is_paused(t.poller));
	tp_unregister(&a);
	tp_unregister(&b);
	tp_unregister(&c);
	tp_unregister(&t);
}

static void
test_unregister_paused(void **state)
{
	struct tp a, b, t, u;

	(void)state;
	tp_register(&a, 'A', 0);
	tp_register(&b, 'B', 0);
	tp_register(&t, 'T', 1000 * 1000);
	tp_register(&u, 'U', 0);
	/* Paused and moved to the paused list. */
	tp_pause(&a);
	poll_at(0);
	tp_unregister(&a);
	/* Pausing, not yet moved. */
	tp_pause(&b);
	tp_unregister(&b);
	/* Timed, paused. */
	tp_pause(&t);
	tp_unregister(&t);
	/* Pauses itself, then unregistered before the next poll. */
	u.action = ACT_PAUSE_SELF;
	poll_at(0);
	tp_unregister(&u);
	poll_at(nvt_get_ticks() + 10 * UT_MS);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 0);
	assert_string_equal(g_trace, "BU.U..");
}

static int
register_more(void *arg)
{
	struct tp *p = arg;

	if (p->runs++ == 0) {
		p->other->poller = nvt_poller_register(tp_fn, p->other, 0, "late");
	}
	return NVT_POLLER_IDLE;
}

static void
test_register_in_callback(void **state)
{
	struct tp a, late;
	int i;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&late, 0, sizeof(late));
	late.tag = 'L';
	a.other = &late;
	nvt_set_thread(g_thread);
	a.poller = nvt_poller_register(register_more, &a, 0, "first");
	nvt_set_thread(NULL);
	for (i = 0; i < 3; i++) {
		poll_at(0);
	}
	assert_non_null(late.poller);
	assert_true(late.runs >= 2);
	assert_int_equal(nvt_thread_get_poller_count(g_thread), 2);
	tp_unregister(&a);
	tp_unregister(&late);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_period0_every_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poller_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_not_before_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_expiry_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_equal_expiry_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_self_timed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_in_callback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
