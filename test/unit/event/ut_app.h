/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the event library's unit tests. Each test starts its own
 * app with real reactors on cores 0 and 1 and stops it. Code that runs on a
 * reactor other than the test's own OS thread cannot use cmocka asserts, so
 * it records failures with UT_CHECK() (which also stops the app) and the test
 * asserts once nvt_app_start() has returned.
 */
#ifndef UT_APP_H
#define UT_APP_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nvtcp/event.h"
#include "nvtcp/log.h"
#include "nvtcp/ticks.h"

#define UT_LOG_SIZE 16384
#define UT_MS	    (1000ull * 1000ull)

struct ut_state {
	pthread_mutex_t lock;
	char log[UT_LOG_SIZE];
	size_t log_len;
	int errors;
	char failure[256]; /* first UT_CHECK() that failed, or "" */
};

static struct ut_state g_ut = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline void
ut_log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	size_t n = strlen(line);

	(void)ctx;
	pthread_mutex_lock(&g_ut.lock);
	if (level == NVT_LOG_ERROR) {
		g_ut.errors++;
	}
	if (g_ut.log_len + n < sizeof(g_ut.log)) {
		memcpy(g_ut.log + g_ut.log_len, line, n + 1);
		g_ut.log_len += n;
	}
	pthread_mutex_unlock(&g_ut.lock);
}

static inline bool
ut_log_has(const char *str)
{
	bool found;

	pthread_mutex_lock(&g_ut.lock);
	found = strstr(g_ut.log, str) != NULL;
	pthread_mutex_unlock(&g_ut.lock);
	return found;
}

static inline void
ut_check_failed(const char *expr, const char *file, int line)
{
	pthread_mutex_lock(&g_ut.lock);
	if (g_ut.failure[0] == '\0') {
		snprintf(g_ut.failure, sizeof(g_ut.failure), "%s:%d: %s", file, line, expr);
	}
	pthread_mutex_unlock(&g_ut.lock);
	nvt_app_stop(-EFAULT);
}

/* An assert usable on any OS thread: records the failure and stops the app. */
#define UT_CHECK(cond)                                              \
	do {                                                        \
		if (!(cond)) {                                      \
			ut_check_failed(#cond, __FILE__, __LINE__); \
		}                                                   \
	} while (0)

/* Skip the test unless this process may run on cores 0 and 1. */
#define UT_NEED_TWO_CORES()                                                                   \
	do {                                                                                  \
		cpu_set_t set_;                                                               \
		if (sched_getaffinity(0, sizeof(set_), &set_) != 0 || !CPU_ISSET(0, &set_) || \
		    !CPU_ISSET(1, &set_)) {                                                   \
			skip();                                                               \
		}                                                                             \
	} while (0)

static inline int
ut_setup(void **state)
{
	(void)state;
	pthread_mutex_lock(&g_ut.lock);
	g_ut.log_len = 0;
	g_ut.log[0] = '\0';
	g_ut.errors = 0;
	g_ut.failure[0] = '\0';
	pthread_mutex_unlock(&g_ut.lock);
	nvt_log_set_sink(ut_log_sink, NULL);
	return 0;
}

/* Fails a test that recorded a UT_CHECK() failure or logged an unexpected error. */
static inline int
ut_teardown(void **state)
{
	int rc = 0;

	(void)state;
	nvt_app_fini();
	if (g_ut.failure[0] != '\0') {
		fprintf(stderr, "check failed: %s\n", g_ut.failure);
		rc = -1;
	}
	if (g_ut.errors != 0) {
		fprintf(stderr, "unexpected errors logged:\n%s", g_ut.log);
		rc = -1;
	}
	return rc;
}

/* The errors logged so far were expected. */
static inline void
ut_log_clear(void)
{
	pthread_mutex_lock(&g_ut.lock);
	g_ut.log_len = 0;
	g_ut.log[0] = '\0';
	g_ut.errors = 0;
	pthread_mutex_unlock(&g_ut.lock);
}

static inline int
ut_app_run(const char *mask, bool polling, nvt_msg_fn start_fn, void *ctx,
	   nvt_app_shutdown_cb shutdown_cb)
{
	struct nvt_app_opts opts;

	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "event_ut";
	opts.reactor_mask = mask;
	opts.polling = polling;
	opts.idle_us = 100;
	opts.shutdown_cb = shutdown_cb;
	return nvt_app_start(&opts, start_fn, ctx);
}

static inline struct nvt_thread *
ut_thread_on_core(const char *name, uint32_t core)
{
	struct nvt_cpuset mask;

	nvt_cpuset_zero(&mask);
	nvt_cpuset_set_cpu(&mask, core, true);
	return nvt_thread_create(name, &mask);
}

/* For plain pthreads: wait up to \p timeout_ms for \p flag to become non-zero. */
static inline bool
ut_wait_flag(_Atomic int *flag, uint64_t timeout_ms)
{
	uint64_t deadline = nvt_get_ticks() + timeout_ms * UT_MS;
	struct timespec ts = { .tv_nsec = 100 * 1000 };

	while (atomic_load(flag) == 0) {
		if (nvt_get_ticks() > deadline) {
			return false;
		}
		nanosleep(&ts, NULL);
	}
	return true;
}

#endif /* UT_APP_H */
