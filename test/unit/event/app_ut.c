/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/event/app.c with real reactors: orderly stop, start-up
 * errors, signals, and interrupt mode against polling mode.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "ut_app.h"

/*
 * A worker: a thread with a period-0 and a timed poller, which it
 * unregisters itself once asked to exit.
 */
struct worker {
	struct nvt_thread *thread;
	struct nvt_poller *poller;
	struct nvt_poller *timed;
	uint32_t core;
	_Atomic int *released;
};

static int
worker_poll(void *arg)
{
	struct worker *w = arg;

	if (!nvt_thread_is_exiting(nvt_get_thread())) {
		return NVT_POLLER_IDLE;
	}
	nvt_poller_unregister(&w->poller);
	nvt_poller_unregister(&w->timed);
	atomic_fetch_add(w->released, 1);
	return NVT_POLLER_BUSY;
}

static int
worker_tick(void *arg)
{
	(void)arg;
	return NVT_POLLER_IDLE;
}

static void
worker_start(void *arg)
{
	struct worker *w = arg;

	UT_CHECK(nvt_env_get_current_core() == w->core);
	w->poller = nvt_poller_register(worker_poll, w, 0, "worker");
	w->timed = nvt_poller_register(worker_tick, w, 1000, "worker_tick");
	UT_CHECK(w->poller != NULL && w->timed != NULL);
}

static void
worker_create(struct worker *w, const char *name, uint32_t core, _Atomic int *released,
	      nvt_msg_fn then, void *then_ctx)
{
	w->core = core;
	w->released = released;
	w->thread = ut_thread_on_core(name, core);
	UT_CHECK(w->thread != NULL);
	UT_CHECK(nvt_thread_send_msg(w->thread, worker_start, w) == 0);
	if (then != NULL) {
		UT_CHECK(nvt_thread_send_msg(w->thread, then, then_ctx) == 0);
	}
}

/* ---- orderly stop ---- */

struct stop {
	struct worker workers[4];
	_Atomic int released;
	int ready;
};

static void
stop_from_worker(void *arg)
{
	(void)arg;
	UT_CHECK(nvt_get_thread() != nvt_app_get_thread());
	nvt_app_stop(42);
	nvt_app_stop(43);
	UT_CHECK(nvt_app_is_stopping());
}

static void
stop_ready(void *arg)
{
	struct stop *st = arg;

	if (++st->ready == 4) {
		UT_CHECK(nvt_thread_send_msg(st->workers[3].thread, stop_from_worker, NULL) == 0);
	}
}

static void
stop_worker_ready(void *arg)
{
	UT_CHECK(nvt_thread_send_msg(nvt_app_get_thread(), stop_ready, arg) == 0);
}

static void
stop_start(void *arg)
{
	struct stop *st = arg;
	char name[16];
	uint32_t i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "worker%u", i);
		worker_create(&st->workers[i], name, i % 2, &st->released, stop_worker_ready, st);
	}
}

static void
test_stop(void **state)
{
	struct stop st = { 0 };
	uint64_t start;
	int i;

	(void)state;
	UT_NEED_TWO_CORES();
	start = nvt_get_ticks();
	assert_int_equal(ut_app_run("0x3", false, stop_start, &st, NULL), 42);
	/* Well within the 5 s grace period: nobody was forced out. */
	assert_true(nvt_get_ticks() - start < 4000 * UT_MS);
	assert_false(ut_log_has("forcing"));
	assert_int_equal(atomic_load(&st.released), 4);
	for (i = 0; i < 4; i++) {
		assert_null(st.workers[i].poller);
		assert_null(st.workers[i].timed);
	}
	assert_int_equal(nvt_thread_get_count(), 0);
	assert_null(nvt_app_get_thread());

	/* And again, in polling mode, in the same process. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(ut_app_run("0x3", true, stop_start, &st, NULL), 42);
	assert_int_equal(atomic_load(&st.released), 4);
}

/* Workers that say goodbye to the app thread as they exit: it is still there. */
struct goodbye {
	struct worker workers[6];
	_Atomic int released;
	int ready;
	int goodbyes;
	int send_failures;
};

static struct goodbye g_bye;

static void
bye_msg(void *arg)
{
	(void)arg;
	g_bye.goodbyes++;
}

static int
bye_poll(void *arg)
{
	struct worker *w = arg;

	if (!nvt_thread_is_exiting(nvt_get_thread())) {
		return NVT_POLLER_IDLE;
	}
	if (nvt_thread_send_msg(nvt_app_get_thread(), bye_msg, NULL) != 0) {
		atomic_fetch_add((_Atomic int *)&g_bye.send_failures, 1);
	}
	nvt_poller_unregister(&w->poller);
	nvt_poller_unregister(&w->timed);
	atomic_fetch_add(w->released, 1);
	return NVT_POLLER_BUSY;
}

static void
bye_ready(void *arg)
{
	(void)arg;
	if (++g_bye.ready == (int)NVT_COUNTOF(g_bye.workers)) {
		nvt_app_stop(0);
	}
}

static void
bye_worker_start(void *arg)
{
	struct worker *w = arg;

	w->poller = nvt_poller_register(bye_poll, w, 0, "bye");
	w->timed = nvt_poller_register(worker_tick, w, 1000, "bye_tick");
	UT_CHECK(nvt_thread_send_msg(nvt_app_get_thread(), bye_ready, NULL) == 0);
}

static void
bye_start(void *arg)
{
	struct goodbye *gb = arg;
	struct worker *w;
	size_t i;

	for (i = 0; i < NVT_COUNTOF(gb->workers); i++) {
		w = &gb->workers[i];
		w->released = &gb->released;
		w->thread = ut_thread_on_core("bye", (uint32_t)(i % 2));
		UT_CHECK(w->thread != NULL);
		UT_CHECK(nvt_thread_send_msg(w->thread, bye_worker_start, w) == 0);
	}
}

static void
test_stop_goodbye(void **state)
{
	int round;

	(void)state;
	UT_NEED_TWO_CORES();
	for (round = 0; round < 20; round++) {
		memset(&g_bye, 0, sizeof(g_bye));
		assert_int_equal(ut_app_run("0x3", round % 2, bye_start, &g_bye, NULL), 0);
		assert_int_equal(atomic_load(&g_bye.released), NVT_COUNTOF(g_bye.workers));
		assert_int_equal(g_bye.send_failures, 0);
		assert_int_equal(g_bye.goodbyes, NVT_COUNTOF(g_bye.workers));
	}
}

/* ---- options ---- */

static char g_app_opt_seen[64];

static int
app_opt(int ch, char *arg)
{
	if (ch == 'x' && strcmp(arg, "bad") == 0) {
		return -EINVAL;
	}
	snprintf(g_app_opt_seen, sizeof(g_app_opt_seen), "%c=%s", ch, arg ? arg : "");
	return 0;
}

static void
app_opt_usage(void)
{
	printf(" -x, --extra VAL        a test option\n");
}

static enum nvt_app_parse_args_rvals
parse(struct nvt_app_opts *opts, int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "extra", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};

	nvt_app_opts_init(opts, sizeof(*opts));
	return nvt_app_parse_args(argc, argv, opts, "x:", long_opts, app_opt, app_opt_usage);
}

#define PARSE(opts, ...)                                                     \
	parse((opts), (int)NVT_COUNTOF(((char *[]){ "prog", __VA_ARGS__ })), \
	      ((char *[]){ "prog", __VA_ARGS__ }))

static void
test_parse_args(void **state)
{
	struct nvt_app_opts opts;

	(void)state;
	nvt_app_opts_init(&opts, sizeof(opts));
	assert_int_equal(opts.opts_size, sizeof(opts));
	assert_string_equal(opts.reactor_mask, "0x1");
	assert_false(opts.polling);
	assert_int_equal(opts.idle_us, 1000);
	assert_int_equal(opts.log_level, NVT_LOG_NOTICE);

	assert_int_equal(PARSE(&opts, "-m", "0x3", "--polling", "--idle-us", "50", "--log-level",
			       "warn", "-c", "conf.json", "-r", "/tmp/rpc.sock", "--extra", "v"),
			 NVT_APP_PARSE_ARGS_SUCCESS);
	assert_string_equal(opts.reactor_mask, "0x3");
	assert_true(opts.polling);
	assert_int_equal(opts.idle_us, 50);
	assert_int_equal(opts.log_level, NVT_LOG_WARN);
	assert_string_equal(opts.json_config_file, "conf.json");
	assert_string_equal(opts.rpc_addr, "/tmp/rpc.sock");
	assert_string_equal(g_app_opt_seen, "x=v");

	assert_int_equal(PARSE(&opts, "--cpumask", "[0,1]", "-x", "w"), NVT_APP_PARSE_ARGS_SUCCESS);
	assert_string_equal(opts.reactor_mask, "[0,1]");
	assert_string_equal(g_app_opt_seen, "x=w");

	assert_int_equal(PARSE(&opts, "-L", "thread"), NVT_APP_PARSE_ARGS_SUCCESS);
	assert_int_equal(opts.log_level, NVT_LOG_DEBUG);
	assert_true(nvt_log_get_flag("thread"));
	nvt_log_set_flag("thread", false);

	assert_int_equal(PARSE(&opts, "-h"), NVT_APP_PARSE_ARGS_HELP);
	assert_int_equal(PARSE(&opts, "--bogus"), NVT_APP_PARSE_ARGS_FAIL);
	assert_int_equal(PARSE(&opts, "-x", "bad"), NVT_APP_PARSE_ARGS_FAIL);
	assert_int_equal(PARSE(&opts, "--idle-us", "99999999999"), NVT_APP_PARSE_ARGS_FAIL);
	assert_int_equal(PARSE(&opts, "--log-level", "loud"), NVT_APP_PARSE_ARGS_FAIL);
	assert_int_equal(PARSE(&opts, "-L", "no_such_component"), NVT_APP_PARSE_ARGS_FAIL);
	assert_int_equal(PARSE(&opts, "-m", "0x1", "stray"), NVT_APP_PARSE_ARGS_FAIL);
	/* Still fine after failures. */
	assert_int_equal(PARSE(&opts, "--polling"), NVT_APP_PARSE_ARGS_SUCCESS);
	assert_true(opts.polling);
}

/* ---- start-up errors ---- */

static void
never_start(void *arg)
{
	(*(int *)arg)++;
}

static void
test_start_errors(void **state)
{
	int ran = 0;

	(void)state;
	assert_int_equal(ut_app_run("0xZZ", false, never_start, &ran, NULL), -EINVAL);
	assert_true(ut_log_has("invalid core mask '0xZZ'"));
	assert_int_equal(ut_app_run("0x0", false, never_start, &ran, NULL), -EINVAL);
	assert_int_equal(ut_app_run("[1000]", false, never_start, &ran, NULL), -EINVAL);
	assert_true(ut_log_has("core 1000 of mask '[1000]' is not available"));
	assert_int_equal(ran, 0);
	assert_null(nvt_app_get_thread());
	ut_log_clear();
}

/* A failed start leaves nothing behind: a good one follows. */
static void
stop_now(void *arg)
{
	(*(int *)arg)++;
	nvt_app_stop(3);
}

static void
test_start_after_error(void **state)
{
	int ran = 0;

	(void)state;
	assert_int_equal(ut_app_run("0xZZ", false, stop_now, &ran, NULL), -EINVAL);
	ut_log_clear();
	assert_int_equal(ut_app_run("0x1", false, stop_now, &ran, NULL), 3);
	assert_int_equal(ran, 1);
}

/* ---- signals ---- */

struct sig {
	struct worker worker;
	_Atomic int released;
	int shutdowns;
	bool on_app_thread;
	uint32_t core;
	int signo;
};

static struct sig g_sig;

static void
sig_shutdown(void)
{
	g_sig.shutdowns++;
	g_sig.on_app_thread = nvt_get_thread() == nvt_app_get_thread();
	g_sig.core = nvt_env_get_current_core();
	nvt_app_stop(5);
}

static void
sig_raise(void *arg)
{
	struct sig *s = arg;

	UT_CHECK(nvt_env_get_current_core() == 1);
	UT_CHECK(raise(s->signo) == 0);
}

static void
sig_start(void *arg)
{
	struct sig *s = arg;

	worker_create(&s->worker, "raiser", 1, &s->released, sig_raise, s);
}

static void
test_signal(void **state)
{
	int signo[] = { SIGTERM, SIGINT };
	bool polling[] = { false, true };
	int i;

	(void)state;
	UT_NEED_TWO_CORES();
	for (i = 0; i < 2; i++) {
		memset(&g_sig, 0, sizeof(g_sig));
		g_sig.signo = signo[i];
		assert_int_equal(ut_app_run("0x3", polling[i], sig_start, &g_sig, sig_shutdown), 5);
		assert_int_equal(g_sig.shutdowns, 1);
		assert_true(g_sig.on_app_thread);
		assert_int_equal(g_sig.core, 0);
		assert_int_equal(atomic_load(&g_sig.released), 1);
	}
	/* Without a shutdown callback a signal stops the app with rc 0. */
	memset(&g_sig, 0, sizeof(g_sig));
	g_sig.signo = SIGTERM;
	assert_int_equal(ut_app_run("0x3", false, sig_start, &g_sig, NULL), 0);
	assert_int_equal(g_sig.shutdowns, 0);
}

/* nvt_app_start_shutdown() from another thread runs the callback on the app thread. */
static void
shutdown_from_worker(void *arg)
{
	(void)arg;
	nvt_app_start_shutdown();
}

static void
shutdown_start(void *arg)
{
	struct sig *s = arg;

	worker_create(&s->worker, "asker", 1, &s->released, shutdown_from_worker, s);
}

static void
test_start_shutdown(void **state)
{
	(void)state;
	UT_NEED_TWO_CORES();
	memset(&g_sig, 0, sizeof(g_sig));
	assert_int_equal(ut_app_run("0x3", false, shutdown_start, &g_sig, sig_shutdown), 5);
	assert_int_equal(g_sig.shutdowns, 1);
	assert_true(g_sig.on_app_thread);
}

/* ---- interrupt mode ---- */

#define IDLE_WINDOW_MS 300

struct intr {
	bool polling;
	struct nvt_thread *target;
	pthread_t tid;
	_Atomic int placed;
	_Atomic int ran;
	uint64_t sent_at;
	uint64_t ran_at;
	uint32_t ran_core;
	struct nvt_reactor_stats before[2];
	struct nvt_reactor_stats after[2];
};

static void
intr_placed(void *arg)
{
	struct intr *in = arg;

	atomic_store(&in->placed, 1);
}

static void
intr_msg(void *arg)
{
	struct intr *in = arg;

	in->ran_at = nvt_get_ticks();
	in->ran_core = nvt_env_get_current_core();
	atomic_store(&in->ran, 1);
}

static void
intr_stats(struct nvt_reactor_stats *st)
{
	UT_CHECK(nvt_reactor_get_stats(0, &st[0]) == 0);
	UT_CHECK(nvt_reactor_get_stats(1, &st[1]) == 0);
}

/* Whether both reactors have slept (interrupt mode) or idled for a window (polling). */
static bool
intr_settled(const struct intr *in)
{
	struct nvt_reactor_stats st[2];
	int i;

	nvt_reactor_get_stats(0, &st[0]);
	nvt_reactor_get_stats(1, &st[1]);
	for (i = 0; i < 2; i++) {
		if (in->polling ? st[i].idle_tsc < IDLE_WINDOW_MS * UT_MS
				: st[i].sleep_count == 0) {
			return false;
		}
	}
	return true;
}

/* A plain pthread, off any reactor: watches the idle app, then sends it a message. */
static void *
intr_pthread(void *arg)
{
	struct intr *in = arg;
	uint64_t deadline = nvt_get_ticks() + 10000 * UT_MS;
	struct timespec ts = { .tv_nsec = 1000 * 1000 };

	UT_CHECK(ut_wait_flag(&in->placed, 10000));
	while (!intr_settled(in) && nvt_get_ticks() < deadline) {
		nanosleep(&ts, NULL);
	}
	intr_stats(in->before);
	ts.tv_nsec = IDLE_WINDOW_MS * UT_MS;
	nanosleep(&ts, NULL);
	intr_stats(in->after);

	in->sent_at = nvt_get_ticks();
	UT_CHECK(nvt_thread_send_msg(in->target, intr_msg, in) == 0);
	UT_CHECK(ut_wait_flag(&in->ran, 5000));
	nvt_app_stop(0);
	return NULL;
}

static void
intr_start(void *arg)
{
	struct intr *in = arg;

	in->target = ut_thread_on_core("target", 1);
	UT_CHECK(in->target != NULL);
	UT_CHECK(nvt_thread_send_msg(in->target, intr_placed, in) == 0);
	UT_CHECK(pthread_create(&in->tid, NULL, intr_pthread, in) == 0);
}

static void
run_intr(struct intr *in, bool polling)
{
	memset(in, 0, sizeof(*in));
	in->polling = polling;
	assert_int_equal(ut_app_run("0x3", polling, intr_start, in, NULL), 0);
	pthread_join(in->tid, NULL);
	assert_int_equal(atomic_load(&in->ran), 1);
	assert_int_equal(in->ran_core, 1);
	print_message("%s: message from a pthread ran after %lu us; over %d ms idle: "
		      "core0 slept %lu us in %lu sleeps, core1 %lu us in %lu sleeps\n",
		      polling ? "polling" : "interrupt", (in->ran_at - in->sent_at) / 1000,
		      IDLE_WINDOW_MS, (in->after[0].sleep_tsc - in->before[0].sleep_tsc) / 1000,
		      in->after[0].sleep_count - in->before[0].sleep_count,
		      (in->after[1].sleep_tsc - in->before[1].sleep_tsc) / 1000,
		      in->after[1].sleep_count - in->before[1].sleep_count);
}

static void
test_interrupt_mode(void **state)
{
	uint64_t window = IDLE_WINDOW_MS * UT_MS;
	struct intr in;
	int i;

	(void)state;
	UT_NEED_TWO_CORES();
	run_intr(&in, false);
	/* Woken promptly by a message from off the reactors. */
	assert_true(in.ran_at - in.sent_at < 500 * UT_MS);
	for (i = 0; i < 2; i++) {
		assert_true(in.after[i].interrupt_mode);
		assert_true(in.after[i].sleep_count > 0);
		assert_true(in.after[i].sleep_tsc > 0);
		/* Idle: asleep most of the window, not spinning in and out of sleep. */
		assert_true(in.after[i].sleep_tsc - in.before[i].sleep_tsc > window / 2);
		assert_true(in.after[i].sleep_count - in.before[i].sleep_count < 100);
	}
}

static void
test_polling_mode(void **state)
{
	struct intr in;
	int i;

	(void)state;
	UT_NEED_TWO_CORES();
	run_intr(&in, true);
	for (i = 0; i < 2; i++) {
		assert_false(in.after[i].interrupt_mode);
		assert_int_equal(in.after[i].sleep_count, 0);
		assert_int_equal(in.after[i].sleep_tsc, 0);
		assert_true(in.after[i].idle_tsc > in.before[i].idle_tsc);
	}
}

/* ---- timers wake a sleeping reactor ---- */

#define TIMER_RUNS	10
#define TIMER_PERIOD_US 5000

struct tmr {
	struct nvt_poller *poller;
	uint64_t start;
	uint64_t at[TIMER_RUNS];
	int runs;
	struct nvt_reactor_stats st;
};

static int
tmr_poll(void *arg)
{
	struct tmr *t = arg;

	t->at[t->runs++] = nvt_get_ticks();
	if (t->runs == TIMER_RUNS) {
		UT_CHECK(nvt_reactor_get_stats(nvt_env_get_current_core(), &t->st) == 0);
		nvt_poller_unregister(&t->poller);
		nvt_app_stop(0);
	}
	return NVT_POLLER_BUSY;
}

static void
tmr_register(void *arg)
{
	struct tmr *t = arg;

	t->start = nvt_get_ticks();
	t->poller = nvt_poller_register(tmr_poll, t, TIMER_PERIOD_US, "tmr");
	UT_CHECK(t->poller != NULL);
}

static void
tmr_start(void *arg)
{
	struct nvt_thread *thread = ut_thread_on_core("timer", 1);

	UT_CHECK(thread != NULL);
	UT_CHECK(nvt_thread_send_msg(thread, tmr_register, arg) == 0);
}

static void
test_interrupt_timer(void **state)
{
	uint64_t period = TIMER_PERIOD_US * 1000ull;
	struct tmr t = { 0 };
	uint64_t prev;
	int i;

	(void)state;
	UT_NEED_TWO_CORES();
	assert_int_equal(ut_app_run("0x3", false, tmr_start, &t, NULL), 0);
	assert_int_equal(t.runs, TIMER_RUNS);
	assert_null(t.poller);
	/* Never early (half a period of slack for the callback's own clock read). */
	prev = t.start;
	for (i = 0; i < TIMER_RUNS; i++) {
		assert_true(t.at[i] - prev >= period / 2);
		prev = t.at[i];
	}
	assert_true(t.at[TIMER_RUNS - 1] - t.start >= (TIMER_RUNS - 1) * period);
	/* The reactor slept between runs and its timer woke it. */
	assert_true(t.st.interrupt_mode);
	assert_true(t.st.sleep_count >= TIMER_RUNS - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stop, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_stop_goodbye, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_parse_args, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_start_errors, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_start_after_error, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_signal, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_start_shutdown, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_mode, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_polling_mode, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_timer, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
