/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/log.h"

/* Most lines fit; longer ones go through the heap so they are still written whole. */
#define LOG_LINE_STACK 1024

static atomic_int g_log_level = NVT_LOG_NOTICE;

/* Sorted by name; protects the list and the flag pointers in it. */
static pthread_mutex_t g_log_flags_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nvt_log_flag *g_log_flags;

/*
 * Held for reading while a sink runs, so that once nvt_log_set_sink() returns no thread is
 * still inside the old sink and its context may be freed.
 */
static pthread_rwlock_t g_log_sink_lock = PTHREAD_RWLOCK_INITIALIZER;
static nvt_log_sink_fn g_log_sink;
static void *g_log_sink_ctx;

static const char *const g_log_tags[] = {
	[NVT_LOG_ERROR] = "*ERROR*", [NVT_LOG_WARN] = "*WARNING*", [NVT_LOG_NOTICE] = "*NOTICE*",
	[NVT_LOG_INFO] = "*INFO*",   [NVT_LOG_DEBUG] = "*DEBUG*",
};

static const char *const g_log_names[] = {
	[NVT_LOG_ERROR] = "error", [NVT_LOG_WARN] = "warn",   [NVT_LOG_NOTICE] = "notice",
	[NVT_LOG_INFO] = "info",   [NVT_LOG_DEBUG] = "debug",
};

void
nvt_log_set_level(enum nvt_log_level level)
{
	atomic_store_explicit(&g_log_level, level, memory_order_relaxed);
}

enum nvt_log_level
nvt_log_get_level(void)
{
	return (enum nvt_log_level)atomic_load_explicit(&g_log_level, memory_order_relaxed);
}

enum nvt_log_level
nvt_log_level_from_str(const char *str)
{
	int i;

	if (str == NULL) {
		return NVT_LOG_DISABLED;
	}
	for (i = NVT_LOG_ERROR; i <= NVT_LOG_DEBUG; i++) {
		if (strcasecmp(str, g_log_names[i]) == 0) {
			return (enum nvt_log_level)i;
		}
	}
	if (strcasecmp(str, "warning") == 0) {
		return NVT_LOG_WARN;
	}
	return NVT_LOG_DISABLED;
}

void
nvt_log_set_sink(nvt_log_sink_fn sink, void *ctx)
{
	pthread_rwlock_wrlock(&g_log_sink_lock);
	g_log_sink = sink;
	g_log_sink_ctx = ctx;
	pthread_rwlock_unlock(&g_log_sink_lock);
}

void
nvt_log_register_flag(struct nvt_log_flag *flag)
{
	struct nvt_log_flag **pos;

	pthread_mutex_lock(&g_log_flags_lock);
	for (pos = &g_log_flags; *pos != NULL; pos = &(*pos)->next) {
		if (*pos == flag) {
			goto out_unlock;
		}
		if (strcmp((*pos)->name, flag->name) > 0) {
			break;
		}
	}
	flag->next = *pos;
	*pos = flag;
out_unlock:
	pthread_mutex_unlock(&g_log_flags_lock);
}

int
nvt_log_set_flag(const char *name, bool enabled)
{
	bool all = strcmp(name, "all") == 0;
	struct nvt_log_flag *flag;
	int rc = -EINVAL;

	pthread_mutex_lock(&g_log_flags_lock);
	for (flag = g_log_flags; flag != NULL; flag = flag->next) {
		if (all || strcmp(flag->name, name) == 0) {
			/* NVT_DEBUGLOG reads the flag without the lock. */
			__atomic_store_n(&flag->enabled, enabled, __ATOMIC_RELAXED);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&g_log_flags_lock);
	if (all) {
		rc = 0;
	}
	if (rc == 0 && enabled && nvt_log_get_level() < NVT_LOG_DEBUG) {
		nvt_log_set_level(NVT_LOG_DEBUG);
	}
	return rc;
}

bool
nvt_log_get_flag(const char *name)
{
	struct nvt_log_flag *flag;
	bool enabled = false;

	pthread_mutex_lock(&g_log_flags_lock);
	for (flag = g_log_flags; flag != NULL; flag = flag->next) {
		if (strcmp(flag->name, name) == 0) {
			enabled = __atomic_load_n(&flag->enabled, __ATOMIC_RELAXED);
			break;
		}
	}
	pthread_mutex_unlock(&g_log_flags_lock);
	return enabled;
}

void
nvt_log_foreach_flag(void (*fn)(const struct nvt_log_flag *flag, void *ctx), void *ctx)
{
	struct nvt_log_flag *flag;

	pthread_mutex_lock(&g_log_flags_lock);
	for (flag = g_log_flags; flag != NULL; flag = flag->next) {
		fn(flag, ctx);
	}
	pthread_mutex_unlock(&g_log_flags_lock);
}

/* "[YYYY-MM-DD HH:MM:SS.uuuuuu] file.c:LINE:func: *TAG*: "; returns its length. */
static int
log_prefix(char *buf, size_t size, enum nvt_log_level level, const char *file, int line,
	   const char *func)
{
	const char *base = strrchr(file, '/');
	struct timespec ts;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	return snprintf(buf, size, "[%s.%06ld] %s:%d:%s: %s: ", date, ts.tv_nsec / 1000,
			base ? base + 1 : file, line, func, g_log_tags[level]);
}

/* One write per line; a short write is finished rather than dropped. */
static void
write_stderr(char *line, size_t len)
{
	ssize_t n;

	line[len++] = '\n';
	while (len > 0) {
		n = write(STDERR_FILENO, line, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		line += n;
		len -= (size_t)n;
	}
}

static void
emit(enum nvt_log_level level, char *line, size_t len)
{
	while (len > 0 && line[len - 1] == '\n') {
		len--;
	}
	line[len] = '\0';
	pthread_rwlock_rdlock(&g_log_sink_lock);
	if (g_log_sink != NULL) {
		g_log_sink(level, line, g_log_sink_ctx);
	} else {
		write_stderr(line, len);
	}
	pthread_rwlock_unlock(&g_log_sink_lock);
}

/* The line is formatted with room for the '\n' that write_stderr() appends. */
void
nvt_vlog(enum nvt_log_level level, const char *file, int line, const char *func, const char *fmt,
	 va_list ap)
{
	char stack[LOG_LINE_STACK], *buf = stack;
	int plen, mlen;
	va_list ap2;

	if (level < NVT_LOG_ERROR || level > NVT_LOG_DEBUG || level > nvt_log_get_level()) {
		return;
	}
	plen = log_prefix(stack, sizeof(stack) - 1, level, file, line, func);
	if (plen < 0 || (size_t)plen >= sizeof(stack) - 1) {
		return;
	}
	va_copy(ap2, ap);
	mlen = vsnprintf(stack + plen, sizeof(stack) - 1 - (size_t)plen, fmt, ap2);
	va_end(ap2);
	if (mlen < 0) {
		return;
	}
	if ((size_t)plen + (size_t)mlen >= sizeof(stack) - 1) {
		buf = malloc((size_t)plen + (size_t)mlen + 2);
		if (buf == NULL) {
			/* Better a truncated line than none. */
			buf = stack;
			mlen = (int)(sizeof(stack) - 2) - plen;
		} else {
			memcpy(buf, stack, (size_t)plen);
			vsnprintf(buf + plen, (size_t)mlen + 1, fmt, ap);
		}
	}
	emit(level, buf, (size_t)plen + (size_t)mlen);
	if (buf != stack) {
		free(buf);
	}
}

void
nvt_log(enum nvt_log_level level, const char *file, int line, const char *func, const char *fmt,
	...)
{
	va_list ap;

	va_start(ap, fmt);
	nvt_vlog(level, file, line, func, fmt, ap);
	va_end(ap);
}
