/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/thread/thread.c and the basics of msg.c: creation,
 * messages, for_each_thread, statistics, exit and the interrupt-mode hooks.
 * The ring's overflow and caller-owned messages are in msg_ut.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "ut_thread.h"

#define NMSGS 10

/* ---- creation and properties ---- */

static void
test_lib_init(void **state)
{
	struct nvt_thread *thread;
	void *ctx;

	(void)state;
	assert_int_equal(nvt_thread_lib_init(NULL, 0), -EALREADY);
	nvt_thread_lib_fini();
	assert_int_equal(nvt_thread_lib_init(NULL, 32), 0);
	thread = nvt_thread_create("ctx", NULL);
	assert_non_null(thread);
	ctx = nvt_thread_get_ctx(thread);
	assert_non_null(ctx);
	assert_int_equal((uintptr_t)ctx % 16, 0);
	memset(ctx, 0xa5, 32);
	assert_ptr_equal(nvt_thread_get_from_ctx(ctx), thread);
	assert_true(ut_thread_exit_destroy(&thread));
}

static void
test_create_properties(void **state)
{
	char longname[NVT_THREAD_NAME_LEN + 10];
	struct nvt_thread *a, *b, *c;
	struct nvt_cpuset mask;
	char expect[32];

	(void)state;
	assert_int_equal(nvt_thread_get_count(), 0);
	a = nvt_thread_create("alpha", NULL);
	b = nvt_thread_create(NULL, NULL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	c = nvt_thread_create(longname, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(nvt_thread_get_count(), 3);

	assert_string_equal(nvt_thread_get_name(a), "alpha");
	snprintf(expect, sizeof(expect), "thread%lu", nvt_thread_get_id(b));
	assert_string_equal(nvt_thread_get_name(b), expect);
	assert_int_equal(strlen(nvt_thread_get_name(c)), NVT_THREAD_NAME_LEN - 1);
	assert_int_not_equal(nvt_thread_get_id(a), 0);
	assert_int_not_equal(nvt_thread_get_id(a), nvt_thread_get_id(b));
	assert_int_not_equal(nvt_thread_get_id(b), nvt_thread_get_id(c));
	assert_ptr_equal(nvt_thread_get_by_id(nvt_thread_get_id(b)), b);
	assert_null(nvt_thread_get_by_id(nvt_thread_get_id(c) + 1000));

	/* NULL cpumask: any core. */
	assert_true(nvt_cpuset_get_cpu(nvt_thread_get_cpumask(a), 0));
	assert_true(nvt_cpuset_get_cpu(nvt_thread_get_cpumask(a), NVT_CPUSET_SIZE - 1));
	assert_null(nvt_thread_get_ctx(a));
	assert_false(nvt_thread_is_exiting(a));
	assert_false(nvt_thread_is_exited(a));
	assert_int_equal(nvt_thread_get_poller_count(a), 0);
	assert_int_equal(nvt_thread_get_channel_count(a), 0);

	assert_null(nvt_get_thread());
	nvt_set_thread(b);
	assert_ptr_equal(nvt_get_thread(), b);
	nvt_set_thread(NULL);

	/* An empty cpumask is refused. */
	nvt_cpuset_zero(&mask);
	assert_null(nvt_thread_create("empty", &mask));
	assert_true(ut_log_has("empty cpumask"));
	ut_log_clear();
	nvt_cpuset_set_cpu(&mask, 3, true);
	nvt_cpuset_set_cpu(&mask, 5, true);

	/* set_cpumask: off any thread, empty, or without a scheduler. */
	assert_int_equal(nvt_thread_set_cpumask(&mask), -EINVAL);
	nvt_set_thread(a);
	assert_int_equal(nvt_thread_set_cpumask(&mask), -ENOTSUP);
	nvt_cpuset_zero(&mask);
	assert_int_equal(nvt_thread_set_cpumask(&mask), -EINVAL);
	nvt_set_thread(NULL);

	assert_true(ut_thread_exit_destroy(&a));
	assert_null(a);
	assert_int_equal(nvt_thread_get_count(), 2);
	assert_true(ut_thread_exit_destroy(&b));
	assert_true(ut_thread_exit_destroy(&c));
	assert_int_equal(nvt_thread_get_count(), 0);
}

struct sched_rec {
	int news;
	int rescheds;
	struct nvt_thread *last;
};

static struct sched_rec g_sched;

static int
fake_sched(struct nvt_thread *thread, enum nvt_thread_op op)
{
	uint64_t *ctx = nvt_thread_get_ctx(thread);

	g_sched.last = thread;
	if (op == NVT_THREAD_OP_RESCHED) {
		g_sched.rescheds++;
		return 0;
	}
	g_sched.news++;
	/* The context starts zeroed and belongs to the scheduler. */
	assert_int_equal(ctx[0], 0);
	ctx[0] = 42;
	return strcmp(nvt_thread_get_name(thread), "refused") == 0 ? -EPERM : 0;
}

static void
test_scheduler_hook(void **state)
{
	struct nvt_thread *thread;
	struct nvt_cpuset mask;

	(void)state;
	nvt_thread_lib_fini();
	memset(&g_sched, 0, sizeof(g_sched));
	assert_int_equal(nvt_thread_lib_init(fake_sched, sizeof(uint64_t) * 3), 0);

	thread = nvt_thread_create("placed", NULL);
	assert_non_null(thread);
	assert_int_equal(g_sched.news, 1);
	assert_ptr_equal(g_sched.last, thread);
	assert_int_equal(*(uint64_t *)nvt_thread_get_ctx(thread), 42);

	assert_null(nvt_thread_create("refused", NULL));
	assert_int_equal(g_sched.news, 2);
	assert_int_equal(nvt_thread_get_count(), 1);
	assert_true(ut_log_has("cannot schedule thread refused"));
	ut_log_clear();

	nvt_cpuset_zero(&mask);
	nvt_cpuset_set_cpu(&mask, 1, true);
	nvt_set_thread(thread);
	assert_int_equal(nvt_thread_set_cpumask(&mask), 0);
	nvt_set_thread(NULL);
	assert_int_equal(g_sched.rescheds, 1);
	assert_true(nvt_cpuset_equal(nvt_thread_get_cpumask(thread), &mask));
	assert_true(ut_thread_exit_destroy(&thread));
}

/* ---- messages ---- */

struct msg_rec {
	struct nvt_thread *expect_thread;
	int order[3 * NMSGS];
	int count;
	bool inner_ran;
	bool inner_sent;
};

static struct msg_rec g_msgs;

static void
record_msg(void *ctx)
{
	assert_ptr_equal(nvt_get_thread(), g_msgs.expect_thread);
	g_msgs.order[g_msgs.count++] = (int)(uintptr_t)ctx;
}

static void
inner_msg(void *ctx)
{
	(void)ctx;
	g_msgs.inner_ran = true;
}

/* Sends a message to its own thread: it must not run inside the send. */
static void
outer_msg(void *ctx)
{
	(void)ctx;
	assert_int_equal(nvt_thread_send_msg(nvt_get_thread(), inner_msg, NULL), 0);
	assert_false(g_msgs.inner_ran);
	g_msgs.inner_sent = true;
}

static void
test_msg_order(void **state)
{
	struct nvt_thread *thread;
	int i;

	(void)state;
	memset(&g_msgs, 0, sizeof(g_msgs));
	thread = nvt_thread_create("msgs", NULL);
	g_msgs.expect_thread = thread;
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 0);
	for (i = 0; i < NMSGS; i++) {
		assert_int_equal(nvt_thread_send_msg(thread, record_msg, (void *)(uintptr_t)i), 0);
	}
	/* Nothing runs inside send. */
	assert_int_equal(g_msgs.count, 0);

	/* max_msgs bounds one poll. */
	assert_int_equal(nvt_thread_poll(thread, 3, 0), 1);
	assert_int_equal(g_msgs.count, 3);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(g_msgs.count, NMSGS);
	for (i = 0; i < NMSGS; i++) {
		assert_int_equal(g_msgs.order[i], i);
	}
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 0);

	/* A message that sends to its own thread: the new one runs next poll. */
	assert_int_equal(nvt_thread_send_msg(thread, outer_msg, NULL), 0);
	assert_int_equal(nvt_thread_poll(thread, 1, 0), 1);
	assert_true(g_msgs.inner_sent);
	assert_false(g_msgs.inner_ran);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_true(g_msgs.inner_ran);
	assert_true(ut_thread_exit_destroy(&thread));
}

/* Messages from another thread (whose cache recycles them) keep their order. */
static void
sender_msg(void *ctx)
{
	struct nvt_thread *dst = ctx;
	int i;

	for (i = 0; i < NMSGS; i++) {
		assert_int_equal(nvt_thread_send_msg(dst, record_msg, (void *)(uintptr_t)i), 0);
	}
}

static void
test_msg_between_threads(void **state)
{
	struct nvt_thread *src, *dst;
	int round, i;

	(void)state;
	src = nvt_thread_create("src", NULL);
	dst = nvt_thread_create("dst", NULL);
	for (round = 0; round < 3; round++) {
		memset(&g_msgs, 0, sizeof(g_msgs));
		g_msgs.expect_thread = dst;
		assert_int_equal(nvt_thread_send_msg(src, sender_msg, dst), 0);
		assert_int_equal(nvt_thread_poll(dst, 0, 0), 0);
		assert_int_equal(nvt_thread_poll(src, 0, 0), 1);
		assert_int_equal(g_msgs.count, 0);
		assert_int_equal(nvt_thread_poll(dst, 0, 0), 1);
		assert_int_equal(g_msgs.count, NMSGS);
		for (i = 0; i < NMSGS; i++) {
			assert_int_equal(g_msgs.order[i], i);
		}
	}
	assert_true(ut_thread_exit_destroy(&src));
	assert_true(ut_thread_exit_destroy(&dst));
}

static void
count_msg(void *ctx)
{
	(*(int *)ctx)++;
}

/* ---- statistics ---- */

/* Spin until the clock moves, so a poll always takes at least a tick. */
static void
spin_a_tick(void)
{
	uint64_t start = nvt_get_ticks();

	while (nvt_get_ticks() == start) {
	}
}

static int
toggle_poller(void *arg)
{
	bool *busy = arg;

	spin_a_tick();
	return *busy ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

static void
test_stats(void **state)
{
	struct nvt_thread_stats st0, st1, st2;
	struct nvt_poller_stats pst;
	struct nvt_thread *thread;
	struct nvt_poller *poller;
	bool busy = false;

	(void)state;
	thread = nvt_thread_create("stats", NULL);
	nvt_thread_get_stats(thread, &st0);
	assert_int_equal(st0.busy_tsc, 0);
	assert_int_equal(st0.idle_tsc, 0);
	nvt_set_thread(thread);
	poller = nvt_poller_register(toggle_poller, &busy, 0, "toggle");
	nvt_set_thread(NULL);

	assert_int_equal(nvt_thread_poll(thread, 0, 0), 0);
	nvt_thread_get_stats(thread, &st1);
	assert_int_equal(st1.busy_tsc, 0);
	assert_true(st1.idle_tsc > 0);

	busy = true;
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(nvt_thread_poll(thread, 0, nvt_get_ticks()), 1);
	nvt_thread_get_stats(thread, &st2);
	assert_true(st2.busy_tsc > 0);
	assert_int_equal(st2.idle_tsc, st1.idle_tsc);

	nvt_poller_get_stats(poller, &pst);
	assert_int_equal(pst.run_count, 3);
	assert_int_equal(pst.busy_count, 2);

	/* A message alone makes the poll busy. */
	busy = false;
	assert_int_equal(nvt_thread_send_msg(thread, count_msg, &(int){ 0 }), 0);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 0);

	nvt_set_thread(thread);
	nvt_poller_unregister(&poller);
	nvt_set_thread(NULL);
	assert_true(ut_thread_exit_destroy(&thread));
}

/* ---- for_each_thread ---- */

#define FE_THREADS 4

struct fe_rec {
	struct nvt_thread *visited[FE_THREADS + 1];
	int nvisited;
	struct nvt_thread *cpl_thread;
	int cpl_count;
	int visits_at_cpl;
};

static void
fe_visit(void *ctx)
{
	struct fe_rec *rec = ctx;

	assert_true(rec->nvisited < FE_THREADS);
	rec->visited[rec->nvisited++] = nvt_get_thread();
}

static void
fe_done(void *ctx)
{
	struct fe_rec *rec = ctx;

	rec->cpl_thread = nvt_get_thread();
	rec->cpl_count++;
	rec->visits_at_cpl = rec->nvisited;
}

static void
test_for_each_thread(void **state)
{
	struct nvt_thread *threads[FE_THREADS];
	struct fe_rec rec = { 0 };
	int i;

	(void)state;
	for (i = 0; i < FE_THREADS; i++) {
		threads[i] = nvt_thread_create(NULL, NULL);
	}
	/* Off any thread: refused. */
	assert_int_equal(nvt_for_each_thread(fe_visit, &rec, fe_done), -EINVAL);
	ut_log_clear();

	nvt_set_thread(threads[2]);
	assert_int_equal(nvt_for_each_thread(fe_visit, &rec, fe_done), 0);
	nvt_set_thread(NULL);
	/* Nothing runs inside the call. */
	assert_int_equal(rec.nvisited, 0);
	for (i = 0; i < 20 && rec.cpl_count == 0; i++) {
		ut_poll_all(threads, FE_THREADS, 1);
	}
	assert_int_equal(rec.cpl_count, 1);
	assert_int_equal(rec.visits_at_cpl, FE_THREADS);
	assert_ptr_equal(rec.cpl_thread, threads[2]);
	for (i = 0; i < FE_THREADS; i++) {
		assert_ptr_equal(rec.visited[i], threads[i]);
	}
	ut_poll_all(threads, FE_THREADS, 2);
	assert_int_equal(rec.cpl_count, 1);
	for (i = 0; i < FE_THREADS; i++) {
		assert_true(ut_thread_exit_destroy(&threads[i]));
	}
}

/* ---- exit ---- */

static int
idle_poller(void *arg)
{
	(void)arg;
	return NVT_POLLER_IDLE;
}

static int
ch_create(void *io_device, void *ctx_buf)
{
	(void)io_device;
	(void)ctx_buf;
	return 0;
}

static void
dev_unregistered(void *io_device)
{
	(*(int *)io_device)++;
}

static void
test_exit_waits(void **state)
{
	struct nvt_poller *poller, *timed;
	struct nvt_io_channel *ch;
	struct nvt_thread *thread, *other;
	int dev = 0, ran = 0;

	(void)state;
	thread = nvt_thread_create("exiting", NULL);
	other = nvt_thread_create("other", NULL);
	assert_int_equal(nvt_io_device_register(&dev, ch_create, NULL, 8, "dev"), 0);
	nvt_set_thread(thread);
	poller = nvt_poller_register(idle_poller, NULL, 0, "p0");
	timed = nvt_poller_register(idle_poller, NULL, 1000, "timed");
	ch = nvt_get_io_channel(&dev);
	assert_non_null(ch);

	/* Only the thread itself may ask to exit. */
	nvt_set_thread(other);
	nvt_thread_exit(thread);
	assert_true(ut_log_has("must be called on the thread itself"));
	ut_log_clear();
	assert_false(nvt_thread_is_exiting(thread));

	nvt_set_thread(thread);
	nvt_thread_exit(thread);
	nvt_thread_exit(thread);
	nvt_set_thread(NULL);
	assert_true(nvt_thread_is_exiting(thread));
	assert_false(nvt_thread_is_exited(thread));
	nvt_thread_poll(thread, 0, 0);
	assert_false(nvt_thread_is_exited(thread));

	/* Messages still run while exiting. */
	assert_int_equal(nvt_thread_send_msg(thread, count_msg, &ran), 0);
	nvt_thread_poll(thread, 0, 0);
	assert_int_equal(ran, 1);
	assert_false(nvt_thread_is_exited(thread));

	nvt_set_thread(thread);
	nvt_poller_unregister(&poller);
	nvt_set_thread(NULL);
	nvt_thread_poll(thread, 0, 0);
	assert_false(nvt_thread_is_exited(thread));

	nvt_set_thread(thread);
	nvt_poller_unregister(&timed);
	nvt_set_thread(NULL);
	nvt_thread_poll(thread, 0, 0);
	assert_false(nvt_thread_is_exited(thread));

	/* The last put destroys the channel by message: then the thread exits. */
	nvt_set_thread(thread);
	nvt_put_io_channel(ch);
	nvt_set_thread(NULL);
	assert_false(nvt_thread_is_exited(thread));
	nvt_thread_poll(thread, 0, 0);
	assert_true(nvt_thread_is_exited(thread));
	assert_int_equal(nvt_thread_get_channel_count(thread), 0);
	nvt_thread_destroy(&thread);
	assert_null(thread);

	nvt_set_thread(other);
	nvt_io_device_unregister(&dev, dev_unregistered);
	nvt_set_thread(NULL);
	nvt_thread_poll(other, 0, 0);
	assert_int_equal(dev, 1);
	assert_true(ut_thread_exit_destroy(&other));
}

static void
test_exit_forced(void **state)
{
	struct nvt_poller *poller, *timed;
	struct nvt_thread *thread;
	uint64_t hz = nvt_get_ticks_hz();
	uint64_t start;

	(void)state;
	thread = nvt_thread_create("stuck", NULL);
	nvt_set_thread(thread);
	poller = nvt_poller_register(idle_poller, NULL, 0, "leaky");
	timed = nvt_poller_register(idle_poller, NULL, 100, "leaky_timed");
	start = nvt_get_ticks();
	nvt_thread_exit(thread);
	nvt_set_thread(NULL);
	assert_non_null(poller);
	assert_non_null(timed);

	nvt_thread_poll(thread, 0, start + 4 * hz);
	assert_false(nvt_thread_is_exited(thread));
	assert_int_equal(g_ut_log.errors, 0);

	/* Past the 5 s grace period: forced out, the leftovers reported and freed. */
	nvt_thread_poll(thread, 0, nvt_get_ticks() + 6 * hz);
	assert_true(nvt_thread_is_exited(thread));
	assert_true(ut_log_has("forcing it out"));
	assert_true(ut_log_has("poller leaky still registered"));
	assert_true(ut_log_has("timed poller leaky_timed still registered"));
	ut_log_clear();
	assert_int_equal(nvt_thread_get_poller_count(thread), 0);
	nvt_thread_destroy(&thread);
}

/* ---- interrupt mode ---- */

static void
test_prepare_sleep(void **state)
{
	struct nvt_thread *thread;
	struct nvt_poller *poller;
	uint64_t deadline;
	int ran = 0;

	(void)state;
	thread = nvt_thread_create("sleepy", NULL);
	assert_true(nvt_thread_get_interrupt_fd(thread) >= 0);
	assert_int_equal(nvt_thread_next_poller_expiration(thread), UINT64_MAX);

	/* Nothing to do: may sleep. */
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_false(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);

	/* A queued message: may not. */
	assert_int_equal(nvt_thread_send_msg(thread, count_msg, &ran), 0);
	assert_false(nvt_thread_prepare_sleep(thread));
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(ran, 1);
	nvt_thread_end_sleep(thread);

	/* A due timer: may not. */
	nvt_set_thread(thread);
	poller = nvt_poller_register(idle_poller, NULL, 1, "due");
	nvt_set_thread(NULL);
	deadline = nvt_get_ticks() + nvt_get_ticks_hz();
	while (nvt_get_ticks() <= nvt_thread_next_poller_expiration(thread)) {
		assert_true(nvt_get_ticks() < deadline);
	}
	assert_false(nvt_thread_prepare_sleep(thread));
	nvt_set_thread(thread);
	nvt_poller_unregister(&poller);

	/* A timer far away: may sleep, and the fd stays quiet. */
	poller = nvt_poller_register(idle_poller, NULL, 10 * 1000 * 1000, "far");
	nvt_set_thread(NULL);
	assert_true(nvt_thread_next_poller_expiration(thread) > nvt_get_ticks());
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_false(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);
	nvt_set_thread(thread);
	nvt_poller_unregister(&poller);
	nvt_set_thread(NULL);
	assert_true(ut_thread_exit_destroy(&thread));
}

static void
test_sleep_wakeup_by_msg(void **state)
{
	struct nvt_thread *thread;
	int ran = 0;

	(void)state;
	thread = nvt_thread_create("sleeper", NULL);
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_false(ut_intr_readable(thread, 0));
	assert_int_equal(nvt_thread_send_msg(thread, count_msg, &ran), 0);
	assert_true(ut_intr_readable(thread, 0));
	/* A second message needs no second kick; still readable. */
	assert_int_equal(nvt_thread_send_msg(thread, count_msg, &ran), 0);
	assert_true(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);
	assert_false(ut_intr_readable(thread, 0));
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);
	assert_int_equal(ran, 2);

	/* Awake, a message does not touch the fd. */
	assert_int_equal(nvt_thread_send_msg(thread, count_msg, &ran), 0);
	assert_false(ut_intr_readable(thread, 0));
	assert_int_equal(nvt_thread_poll(thread, 0, 0), 1);

	/* nvt_thread_wakeup() without a message. */
	assert_true(nvt_thread_prepare_sleep(thread));
	nvt_thread_wakeup(thread);
	assert_true(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);
	assert_false(ut_intr_readable(thread, 0));
	assert_true(ut_thread_exit_destroy(&thread));
}

static void
test_sleep_wakeup_by_timer(void **state)
{
	struct nvt_thread *thread;
	struct nvt_poller *poller;
	struct nvt_poller_stats st;
	uint64_t due;

	(void)state;
	thread = nvt_thread_create("timer", NULL);
	nvt_set_thread(thread);
	poller = nvt_poller_register(idle_poller, NULL, 20 * 1000, "t20ms");
	nvt_set_thread(NULL);
	due = nvt_thread_next_poller_expiration(thread);
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_true(ut_intr_readable(thread, 5000));
	assert_true(nvt_get_ticks() >= due);
	nvt_thread_end_sleep(thread);
	assert_false(ut_intr_readable(thread, 0));
	nvt_thread_poll(thread, 0, 0);
	nvt_poller_get_stats(poller, &st);
	assert_int_equal(st.run_count, 1);

	/* Sleeping again arms the timer for the next period. */
	due = nvt_thread_next_poller_expiration(thread);
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_true(ut_intr_readable(thread, 5000));
	assert_true(nvt_get_ticks() >= due);
	nvt_thread_end_sleep(thread);
	assert_false(ut_intr_readable(thread, 0));

	nvt_set_thread(thread);
	nvt_poller_unregister(&poller);
	nvt_set_thread(NULL);
	assert_true(ut_thread_exit_destroy(&thread));
}

/*
 * A poller that does not wake: overdue, it neither keeps the thread awake nor
 * arms the timer; it runs at the first poll after something else woke the
 * thread. A waking poller beside it still arms the timer for its own expiry.
 */
static void
test_sleep_no_wakeup_poller(void **state)
{
	struct nvt_poller *lazy, *waker;
	struct nvt_poller_stats st;
	struct nvt_thread *thread;
	uint64_t deadline;

	(void)state;
	thread = nvt_thread_create("lazy", NULL);
	nvt_set_thread(thread);
	lazy = nvt_poller_register(idle_poller, NULL, 1000, "lazy1ms");
	nvt_poller_no_wakeup(lazy);
	nvt_set_thread(NULL);
	deadline = nvt_get_ticks() + nvt_get_ticks_hz();
	while (nvt_get_ticks() <= nvt_thread_next_poller_expiration(thread)) {
		assert_true(nvt_get_ticks() < deadline);
	}
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_false(ut_intr_readable(thread, 20));
	nvt_thread_wakeup(thread);
	assert_true(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);
	nvt_thread_poll(thread, 0, 0);
	nvt_poller_get_stats(lazy, &st);
	assert_int_equal(st.run_count, 1);

	nvt_set_thread(thread);
	waker = nvt_poller_register(idle_poller, NULL, 20 * 1000, "t20ms");
	nvt_set_thread(NULL);
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_true(ut_intr_readable(thread, 5000));
	nvt_thread_end_sleep(thread);
	nvt_set_thread(thread);
	nvt_poller_unregister(&waker);
	nvt_poller_unregister(&lazy);
	nvt_set_thread(NULL);
	assert_true(ut_thread_exit_destroy(&thread));
}

/*
 * A wakeup through the interrupt fd makes a poller that does not wake due at
 * once (its wakeup fd may be what fired), long before its period; a reactor
 * that knows the fd was not ready leaves it to its period.
 */
static void
test_no_wakeup_poller_due_on_wakeup(void **state)
{
	struct nvt_poller *lazy;
	struct nvt_poller_stats st;
	struct nvt_thread *thread;

	(void)state;
	thread = nvt_thread_create("lazy_due", NULL);
	nvt_set_thread(thread);
	lazy = nvt_poller_register(idle_poller, NULL, 3600ull * 1000000, "lazy1h");
	nvt_poller_no_wakeup(lazy);
	nvt_set_thread(NULL);
	assert_true(nvt_thread_prepare_sleep(thread));
	nvt_thread_wakeup(thread);
	nvt_thread_end_sleep_ready(thread, false);
	nvt_thread_poll(thread, 0, 0);
	nvt_poller_get_stats(lazy, &st);
	assert_int_equal(st.run_count, 0);
	assert_true(nvt_thread_prepare_sleep(thread));
	nvt_thread_wakeup(thread);
	nvt_thread_end_sleep(thread);
	nvt_thread_poll(thread, 0, 0);
	nvt_poller_get_stats(lazy, &st);
	assert_int_equal(st.run_count, 1);
	nvt_set_thread(thread);
	nvt_poller_unregister(&lazy);
	nvt_set_thread(NULL);
	assert_true(ut_thread_exit_destroy(&thread));
}

/*
 * A timer with slack, overdue, does not wake the sleeping thread before its
 * slack ends, and runs at the first poll after something else woke it.
 */
static void
test_sleep_timer_slack(void **state)
{
	struct nvt_poller *slack;
	struct nvt_poller_stats st;
	struct nvt_thread *thread;

	(void)state;
	thread = nvt_thread_create("slack", NULL);
	nvt_set_thread(thread);
	slack = nvt_poller_register(idle_poller, NULL, 1000, "t1ms_slack1h");
	nvt_poller_set_slack(slack, 3600ull * 1000000);
	nvt_set_thread(NULL);
	assert_true(nvt_thread_prepare_sleep(thread));
	/* Due after 1 ms: without its slack the timer would fire in this wait. */
	assert_false(ut_intr_readable(thread, 50));
	nvt_thread_wakeup(thread);
	assert_true(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);
	nvt_thread_poll(thread, 0, 0);
	nvt_poller_get_stats(slack, &st);
	assert_int_equal(st.run_count, 1);
	nvt_set_thread(thread);
	nvt_poller_unregister(&slack);
	nvt_set_thread(NULL);
	assert_true(ut_thread_exit_destroy(&thread));
}

static void
test_wakeup_fd(void **state)
{
	struct nvt_thread *thread;
	int fds[2];
	char c = 'x';

	(void)state;
	thread = nvt_thread_create("fds", NULL);
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(nvt_thread_add_wakeup_fd(fds[0], EPOLLIN), -EINVAL);

	nvt_set_thread(thread);
	assert_int_equal(nvt_thread_add_wakeup_fd(fds[0], EPOLLIN), 0);
	assert_int_equal(nvt_thread_add_wakeup_fd(fds[0], EPOLLIN), -EEXIST);
	assert_true(nvt_thread_prepare_sleep(thread));
	assert_false(ut_intr_readable(thread, 0));
	assert_int_equal(write(fds[1], &c, 1), 1);
	assert_true(ut_intr_readable(thread, 0));
	nvt_thread_end_sleep(thread);
	/* The fd is the caller's: still readable until the caller reads it. */
	assert_true(ut_intr_readable(thread, 0));
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_false(ut_intr_readable(thread, 0));

	/* mod: wait for nothing; del: forget it. */
	assert_int_equal(nvt_thread_mod_wakeup_fd(fds[0], 0), 0);
	assert_int_equal(write(fds[1], &c, 1), 1);
	assert_false(ut_intr_readable(thread, 0));
	assert_int_equal(nvt_thread_mod_wakeup_fd(fds[0], EPOLLIN), 0);
	assert_true(ut_intr_readable(thread, 0));
	assert_int_equal(nvt_thread_del_wakeup_fd(fds[0]), 0);
	assert_false(ut_intr_readable(thread, 0));
	assert_int_equal(nvt_thread_del_wakeup_fd(fds[0]), -ENOENT);
	assert_int_equal(nvt_thread_mod_wakeup_fd(fds[0], EPOLLIN), -ENOENT);
	nvt_set_thread(NULL);
	close(fds[0]);
	close(fds[1]);
	assert_true(ut_thread_exit_destroy(&thread));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lib_init, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_create_properties, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_hook, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_msg_order, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_msg_between_threads, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_stats, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_for_each_thread, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_exit_waits, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_exit_forced, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_sleep, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_sleep_wakeup_by_msg, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_sleep_wakeup_by_timer, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_sleep_no_wakeup_poller, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_no_wakeup_poller_due_on_wakeup, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_sleep_timer_slack, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_wakeup_fd, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
