/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP side of /metrics: libmicrohttpd on its own thread. A scrape is
 * handed to the app thread by a message and waited for on a condition
 * variable; this thread touches nothing else (see metrics.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "nvtcp/log.h"
#include "nvtcp/nvmf_io_stats.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "metrics.h"

/* How long a scrape waits for the app thread before answering 503. */
#define SCRAPE_TIMEOUT_S 10

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Guards every scrape's refs and done, and g_stopping; g_cond announces both. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond;
static bool g_stopping;
/* App thread: the daemon, and the thread the scrapes are sent to. */
static struct MHD_Daemon *g_daemon;
static struct nvt_thread *g_app_thread;
/* --metrics: where to serve (main thread, before the app starts). */
static struct sockaddr_storage g_addr;
static const char *g_addr_arg;

static void
scrape_put_locked(struct metrics_scrape *scrape)
{
	if (--scrape->refs == 0) {
		metrics_buf_fini(&scrape->buf);
		free(scrape);
	}
}

/* App thread: a message from the HTTP thread. */
static void
scrape_start_msg(void *arg)
{
	metrics_scrape_run(arg);
}

void
metrics_scrape_done(struct metrics_scrape *scrape)
{
	pthread_mutex_lock(&g_lock);
	scrape->done = true;
	pthread_cond_broadcast(&g_cond);
	scrape_put_locked(scrape);
	pthread_mutex_unlock(&g_lock);
}

/* HTTP thread: wait for the app thread; true when the text is there. */
static bool
scrape_wait_locked(struct metrics_scrape *scrape)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += SCRAPE_TIMEOUT_S;
	while (!scrape->done && !g_stopping) {
		if (pthread_cond_timedwait(&g_cond, &g_lock, &deadline) == ETIMEDOUT) {
			break;
		}
	}
	return scrape->done;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned int status, const char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
answer_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	return answer(conn, status, text, strlen(text));
}

/* HTTP thread: one scrape, from the message to the answer. */
static enum MHD_Result
serve_scrape(struct MHD_Connection *conn)
{
	struct metrics_scrape *scrape = calloc(1, sizeof(*scrape));
	enum MHD_Result rc;

	if (scrape == NULL) {
		return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	}
	scrape->refs = 2;
	pthread_mutex_lock(&g_lock);
	if (g_stopping || nvt_thread_send_msg(g_app_thread, scrape_start_msg, scrape) != 0) {
		pthread_mutex_unlock(&g_lock);
		free(scrape);
		return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "nvtcpd is stopping\n");
	}
	if (!scrape_wait_locked(scrape)) {
		rc = answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				 g_stopping ? "nvtcpd is stopping\n"
					    : "nvtcpd did not gather its metrics in time\n");
	} else if (scrape->buf.failed || scrape->buf.data == NULL) {
		rc = answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
	} else {
		rc = answer(conn, MHD_HTTP_OK, scrape->buf.data, scrape->buf.len);
	}
	scrape_put_locked(scrape);
	pthread_mutex_unlock(&g_lock);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n");
	}
	if (strcmp(url, "/metrics") != 0) {
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "nvtcpd serves /metrics\n");
	}
	return serve_scrape(conn);
}

int
metrics_parse_addr(const char *arg, struct sockaddr_storage *addr)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(arg, ':');
	size_t hlen = colon != NULL ? (size_t)(colon - arg) : 0;
	uint64_t port;

	if (colon == NULL || hlen == 0 || hlen >= sizeof(host) ||
	    nvt_parse_u64(colon + 1, 65535, &port) != 0 || port == 0) {
		return -EINVAL;
	}
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -EINVAL;
}

int
metrics_start(const struct sockaddr_storage *addr)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	pthread_condattr_t attr;

	if (addr->ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
	}
	/* The deadlines are monotonic: a clock change neither cuts nor stretches a wait. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g_cond, &attr);
	pthread_condattr_destroy(&attr);
	g_app_thread = nvt_get_thread();
	g_stopping = false;
	g_daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
				    (const struct sockaddr *)addr, MHD_OPTION_CONNECTION_TIMEOUT,
				    (unsigned int)30, MHD_OPTION_END);
	if (g_daemon == NULL) {
		return -EADDRNOTAVAIL;
	}
	return 0;
}

int
metrics_option(const char *arg)
{
	if (metrics_parse_addr(arg, &g_addr) != 0) {
		fprintf(stderr, "nvtcpd: --metrics %s: expected ADDR:PORT ([::1]:PORT for IPv6)\n",
			arg);
		return -EINVAL;
	}
	g_addr_arg = arg;
	/* The per namespace and per host counters cost a clock read per command: only for a reader. */
	nvt_nvmf_io_stats_enable(true);
	return 0;
}

int
metrics_daemon_start(void)
{
	if (g_addr_arg == NULL) {
		return 0;
	}
	if (metrics_start(&g_addr) != 0) {
		fprintf(stderr, "nvtcpd: cannot serve metrics on %s (in use, or not local)\n",
			g_addr_arg);
		return -EADDRNOTAVAIL;
	}
	printf("nvtcpd: metrics on http://%s/metrics\n", g_addr_arg);
	return 0;
}

void
metrics_stop(void)
{
	if (g_daemon == NULL) {
		return;
	}
	pthread_mutex_lock(&g_lock);
	g_stopping = true;
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	/* Joins the HTTP thread: the scrape it serves answers 503 now, it waits no more. */
	MHD_stop_daemon(g_daemon);
	g_daemon = NULL;
	/* Scrapes still gathering hold no wait: g_cond is no longer waited on. */
}
