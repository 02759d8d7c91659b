/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"

NVT_LOG_REGISTER_COMPONENT(ut_beta)
NVT_LOG_REGISTER_COMPONENT(ut_alpha)

#define THREADS		 4
#define LINES_PER_THREAD 500

/* "[YYYY-MM-DD HH:MM:SS.uuuuuu] log_ut.c:LINE:func: *TAG*: message" */
#define LINE_RE                                                                    \
	"^\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}\\] " \
	"log_ut\\.c:[0-9]+:[a-z_]+: \\*(ERROR|WARNING|NOTICE|INFO|DEBUG)\\*: "

struct capture {
	int count;
	enum nvt_log_level level;
	char *last;
};

static struct capture g_cap;

static void
capture_sink(enum nvt_log_level level, const char *line, void *ctx)
{
	struct capture *cap = ctx;

	cap->count++;
	cap->level = level;
	free(cap->last);
	cap->last = strdup(line);
}

static int
setup(void **state)
{
	(void)state;
	memset(&g_cap, 0, sizeof(g_cap));
	nvt_log_set_sink(capture_sink, &g_cap);
	nvt_log_set_level(NVT_LOG_NOTICE);
	nvt_log_set_flag("all", false);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nvt_log_set_sink(NULL, NULL);
	free(g_cap.last);
	g_cap.last = NULL;
	return 0;
}

static bool
matches(const char *line, const char *pattern)
{
	regex_t re;
	int rc;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&re, line, 0, NULL, 0);
	regfree(&re);
	return rc == 0;
}

static void
test_line_format(void **state)
{
	char expect[128];
	int line;

	(void)state;
	line = __LINE__ + 1;
	NVT_ERRLOG("qpair %u: rc %d\n", 7u, -5);
	assert_int_equal(g_cap.count, 1);
	assert_int_equal(g_cap.level, NVT_LOG_ERROR);
	assert_true(matches(g_cap.last, LINE_RE "qpair 7: rc -5$"));
	snprintf(expect, sizeof(expect), "] log_ut.c:%d:test_line_format: *ERROR*: qpair 7", line);
	assert_non_null(strstr(g_cap.last, expect));

	NVT_WARNLOG("w");
	assert_true(matches(g_cap.last, LINE_RE "w$"));
	assert_non_null(strstr(g_cap.last, "*WARNING*: w"));
	NVT_NOTICELOG("n");
	assert_non_null(strstr(g_cap.last, "*NOTICE*: n"));
	assert_int_equal(g_cap.count, 3);
}

static void
test_level_filter(void **state)
{
	(void)state;
	assert_int_equal(nvt_log_get_level(), NVT_LOG_NOTICE);
	NVT_INFOLOG("dropped");
	assert_int_equal(g_cap.count, 0);
	nvt_log_set_level(NVT_LOG_INFO);
	NVT_INFOLOG("kept");
	assert_int_equal(g_cap.count, 1);
	assert_non_null(strstr(g_cap.last, "*INFO*: kept"));
	nvt_log_set_level(NVT_LOG_ERROR);
	NVT_WARNLOG("dropped");
	NVT_NOTICELOG("dropped");
	NVT_ERRLOG("error");
	assert_int_equal(g_cap.count, 2);
	nvt_log_set_level(NVT_LOG_DISABLED);
	NVT_ERRLOG("dropped");
	assert_int_equal(g_cap.count, 2);
	nvt_log(NVT_LOG_DEBUG + 1, __FILE__, __LINE__, __func__, "bad level");
	nvt_log_set_level(NVT_LOG_DEBUG);
	nvt_log(NVT_LOG_DEBUG + 1, __FILE__, __LINE__, __func__, "bad level");
	assert_int_equal(g_cap.count, 2);
}

static void
test_level_from_str(void **state)
{
	(void)state;
	assert_int_equal(nvt_log_level_from_str("error"), NVT_LOG_ERROR);
	assert_int_equal(nvt_log_level_from_str("WARN"), NVT_LOG_WARN);
	assert_int_equal(nvt_log_level_from_str("warning"), NVT_LOG_WARN);
	assert_int_equal(nvt_log_level_from_str("Notice"), NVT_LOG_NOTICE);
	assert_int_equal(nvt_log_level_from_str("info"), NVT_LOG_INFO);
	assert_int_equal(nvt_log_level_from_str("debug"), NVT_LOG_DEBUG);
	assert_int_equal(nvt_log_level_from_str("verbose"), -1);
	assert_int_equal(nvt_log_level_from_str(""), -1);
	assert_int_equal(nvt_log_level_from_str(NULL), -1);
}

static void
test_debug_flag(void **state)
{
	(void)state;
	NVT_DEBUGLOG(ut_alpha, "off");
	assert_int_equal(g_cap.count, 0);
	assert_false(nvt_log_get_flag("ut_alpha"));

	assert_int_equal(nvt_log_set_flag("ut_alpha", true), 0);
	assert_true(nvt_log_get_flag("ut_alpha"));
	assert_false(nvt_log_get_flag("ut_beta"));
	/* Turning a flag on must also open the level for debug lines. */
	assert_int_equal(nvt_log_get_level(), NVT_LOG_DEBUG);
	NVT_DEBUGLOG(ut_alpha, "on %d", 1);
	assert_int_equal(g_cap.count, 1);
	assert_int_equal(g_cap.level, NVT_LOG_DEBUG);
	assert_true(matches(g_cap.last, LINE_RE "on 1$"));
	NVT_DEBUGLOG(ut_beta, "beta is off");
	assert_int_equal(g_cap.count, 1);

	assert_int_equal(nvt_log_set_flag("ut_alpha", false), 0);
	NVT_DEBUGLOG(ut_alpha, "off again");
	assert_int_equal(g_cap.count, 1);
	assert_int_equal(nvt_log_get_level(), NVT_LOG_DEBUG);
}

static void
test_flag_all_and_unknown(void **state)
{
	(void)state;
	assert_int_equal(nvt_log_set_flag("no_such_component", true), -EINVAL);
	assert_false(nvt_log_get_flag("no_such_component"));
	assert_int_equal(nvt_log_get_level(), NVT_LOG_NOTICE);

	assert_int_equal(nvt_log_set_flag("all", true), 0);
	assert_true(nvt_log_get_flag("ut_alpha"));
	assert_true(nvt_log_get_flag("ut_beta"));
	NVT_DEBUGLOG(ut_beta, "b");
	assert_int_equal(g_cap.count, 1);
	assert_int_equal(nvt_log_set_flag("all", false), 0);
	assert_false(nvt_log_get_flag("ut_alpha"));
	assert_false(nvt_log_get_flag("ut_beta"));
	NVT_DEBUGLOG(ut_beta, "b");
	assert_int_equal(g_cap.count, 1);
}

static void
collect_name(const struct nvt_log_flag *flag, void *ctx)
{
	char *names = ctx;

	strcat(names, flag->name);
	strcat(names, " ");
}

static void
test_foreach_sorted(void **state)
{
	static struct nvt_log_flag late = { .name = "ut_aardvark" };
	char names[128] = "";

	(void)state;
	nvt_log_register_flag(&late);
	/* Registering the same flag twice must not corrupt the list. */
	nvt_log_register_flag(&late);
	nvt_log_foreach_flag(collect_name, names);
	assert_string_equal(names, "ut_aardvark ut_alpha ut_beta ");
	assert_int_equal(nvt_log_set_flag("ut_aardvark", true), 0);
	assert_true(late.enabled);
}

/* Lines above the formatting buffer's size still arrive whole. */
static void
test_long_line(void **state)
{
	char msg[5000];

	(void)state;
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	NVT_ERRLOG("%s|end", msg);
	assert_int_equal(g_cap.count, 1);
	assert_true(matches(g_cap.last, LINE_RE "x{4999}\\|end$"));
}

static void *
log_thread(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	int i;

	for (i = 0; i < LINES_PER_THREAD; i++) {
		NVT_ERRLOG("thread %u line %d %0*d", (unsigned)id, i, (int)(id * 50), 0);
	}
	return NULL;
}

struct pipe_reader {
	int fd;
	char *text;
	size_t len;
	size_t cap;
};

/* Drains the pipe until every write end is closed, so writers never block on a full pipe. */
static void *
reader_main(void *arg)
{
	struct pipe_reader *r = arg;
	ssize_t n;

	for (;;) {
		if (r->cap - r->len < 4096) {
			r->cap = r->cap * 2 + 4096;
			r->text = realloc(r->text, r->cap);
			if (r->text == NULL) {
				return NULL;
			}
		}
		n = read(r->fd, r->text + r->len, r->cap - r->len - 1);
		if (n <= 0) {
			break;
		}
		r->len += (size_t)n;
	}
	r->text[r->len] = '\0';
	return r;
}

static void
check_stderr_lines(char *text)
{
	int seen[THREADS] = { 0 }, total = 0;
	unsigned id;
	int n, i;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(matches(line, LINE_RE "thread [0-9] line [0-9]+ 0*$"));
		assert_int_equal(sscanf(strstr(line, "thread "), "thread %u line %d", &id, &n), 2);
		assert_true(id < THREADS);
		assert_int_equal(n, seen[id]++);
		total++;
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(seen[i], LINES_PER_THREAD);
	}
	assert_int_equal(total, THREADS * LINES_PER_THREAD);
}

/*
 * The default sink, with stderr a pipe as under a log collector: lines from concurrent threads
 * must arrive whole and newline-terminated. A line split over several writes could interleave.
 */
static void
test_stderr_threads(void **state)
{
	struct pipe_reader reader = { 0 };
	pthread_t tid[THREADS], rtid;
	int fds[2], saved;
	uintptr_t i;
	void *done;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	reader.fd = fds[0];
	assert_int_equal(pthread_create(&rtid, NULL, reader_main, &reader), 0);
	nvt_log_set_sink(NULL, NULL);
	assert_int_equal(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
	close(fds[1]);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_create(&tid[i], NULL, log_thread, (void *)i), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	}
	/* Closes the last write end: the reader sees end of file. */
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_int_equal(pthread_join(rtid, &done), 0);
	close(fds[0]);
	assert_ptr_equal(done, &reader);
	assert_true(reader.len > 0);
	assert_int_equal(reader.text[reader.len - 1], '\n');
	check_stderr_lines(reader.text);
	free(reader.text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_from_str, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_all_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
