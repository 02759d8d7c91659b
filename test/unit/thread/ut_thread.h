/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the thread library's unit tests. Every test runs on one
 * OS thread: it creates nvt_threads without a scheduler and polls them by
 * hand, passing the ticks it wants so timed pollers run without sleeping.
 * Log lines go to a buffer so a test can check that an error was reported,
 * and the teardown fails a test that logged an error it did not expect.
 */
#ifndef UT_THREAD_H
#define UT_THREAD_H

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"

#define UT_LOG_SIZE    16384
#define UT_POLL_ROUNDS 1000
#define UT_MS	       (1000ull * 1000ull)

struct ut_log {
	char text[UT_LOG_SIZE];
	size_t len;
	int errors;
};

static struct ut_log g_ut_log;

static inline void
ut_log_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	struct ut_log *log = ctx;
	size_t n = strlen(line);

	if (level == NVT_LOG_ERROR) {
		log->errors++;
	}
	if (log->len + n < sizeof(log->text)) {
		memcpy(log->text + log->len, line, n + 1);
		log->len += n;
	}
}

/* Whether \p str was logged since the last ut_log_clear(). */
static inline bool
ut_log_has(const char *str)
{
	return strstr(g_ut_log.text, str) != NULL;
}

/* Forget what was logged: the errors seen so far were expected. */
static inline void
ut_log_clear(void)
{
	g_ut_log.len = 0;
	g_ut_log.text[0] = '\0';
	g_ut_log.errors = 0;
}

static inline int
ut_setup(void **state)
{
	(void)state;
	ut_log_clear();
	nvt_log_set_sink(ut_log_sink, &g_ut_log);
	return nvt_thread_lib_init(NULL, 0);
}

static inline int
ut_teardown(void **state)
{
	(void)state;
	nvt_set_thread(NULL);
	nvt_thread_lib_fini();
	nvt_log_set_sink(NULL, NULL);
	if (g_ut_log.errors != 0) {
		fprintf(stderr, "unexpected errors logged:\n%s", g_ut_log.text);
		return -1;
	}
	return 0;
}

/* Whether the interrupt fd of \p thread is readable within \p timeout_ms. */
static inline bool
ut_intr_readable(const struct nvt_thread *thread, int timeout_ms)
{
	struct pollfd pfd = { .fd = nvt_thread_get_interrupt_fd(thread), .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* Poll each thread in turn, \p rounds times, at real time. */
static inline void
ut_poll_all(struct nvt_thread **threads, size_t count, int rounds)
{
	size_t i;

	while (rounds-- > 0) {
		for (i = 0; i < count; i++) {
			nvt_thread_poll(threads[i], 0, 0);
		}
	}
}

/* Exit \p *thread from itself, poll it until it has exited, destroy it. */
static inline bool
ut_thread_exit_destroy(struct nvt_thread **thread)
{
	struct nvt_thread *orig = nvt_get_thread();
	int i;

	nvt_set_thread(*thread);
	nvt_thread_exit(*thread);
	nvt_set_thread(orig);
	for (i = 0; i < UT_POLL_ROUNDS && !nvt_thread_is_exited(*thread); i++) {
		nvt_thread_poll(*thread, 0, 0);
	}
	if (!nvt_thread_is_exited(*thread)) {
		return false;
	}
	nvt_thread_destroy(thread);
	return *thread == NULL;
}

#endif /* UT_THREAD_H */
