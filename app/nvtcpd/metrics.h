/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcpd's Prometheus endpoint (--metrics ADDR:PORT): GET /metrics answers
 * in the Prometheus text exposition format (version 0.0.4).
 *
 * Threads and ownership:
 * - libmicrohttpd serves HTTP on a thread of its own (metrics_http.c). That
 *   thread never reads reactor or target state: for each scrape it sends a
 *   message to the app thread and waits (a condition variable, with a
 *   timeout) for the text; 503 when none comes in time or nvtcpd stops.
 * - On the app thread the collectors (metrics_collect.c) run one after the
 *   other, each appending its metric families to the scrape's text; a
 *   collector may gather asynchronously (messages to the poll groups) and
 *   calls metrics_scrape_next() when done. The last one hands the text back.
 * - A scrape is shared by both threads: counted references under one lock,
 *   freed by whichever side lets go last, so a timed-out scrape finishing
 *   late, or one still gathering at shutdown, frees itself safely.
 */
#ifndef NVTCPD_METRICS_H
#define NVTCPD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- the exposition text (metrics_text.c) ---- */

/* A growable text; on allocation failure it stops growing and remembers it. */
struct metrics_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void metrics_buf_fini(struct metrics_buf *b);

/* The "# HELP" and "# TYPE" lines of a family (type: counter, gauge, histogram). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);

/*
 * Append label="value" (escaped as the format wants) to \p labels, a
 * comma-separated list without braces, of \p len bytes.
 */
void metrics_label(char *labels, size_t len, const char *name, const char *value);

/* One sample: name{labels} value ("" labels: none). */
void metrics_u64(struct metrics_buf *b, const char *name, const char *labels, uint64_t value);
void metrics_double(struct metrics_buf *b, const char *name, const char *labels, double value);

/*
 * The samples of one histogram: cumulative _bucket{le=...} per bound (in
 * seconds, from \p bounds_ns), le="+Inf" equal to _count, then _sum and
 * _count. \p buckets holds \p nbounds + 1 non-cumulative counts.
 */
void metrics_histogram(struct metrics_buf *b, const char *name, const char *labels,
		       const uint64_t *bounds_ns, uint32_t nbounds, const uint64_t *buckets,
		       uint64_t sum_ns);

/* ---- collectors (metrics_collect.c), app thread ---- */

/* One scrape, shared by the HTTP thread and the app thread (see above). */
struct metrics_scrape {
	struct metrics_buf buf; /* app thread until done, then the HTTP thread */
	uint32_t next;		/* app thread: the collector that runs next */
	uint32_t refs;		/* under the lock of metrics_http.c */
	bool done;		/* under the lock: buf is complete */
};

/* A collector finished (now or later, on the app thread): the next one runs. */
void metrics_scrape_next(struct metrics_scrape *scrape);

/* A source of metrics: collect() appends its families, then calls metrics_scrape_next(). */
struct metrics_collector {
	const char *name;
	void (*collect)(struct metrics_scrape *scrape);
};

/* App thread: run every collector on \p scrape, then metrics_scrape_done(). */
void metrics_scrape_run(struct metrics_scrape *scrape);

/* ---- the HTTP side (metrics_http.c) ---- */

/* The text is complete (or failed): hand it to the waiting HTTP thread. App thread. */
void metrics_scrape_done(struct metrics_scrape *scrape);

/* Parse "ADDR:PORT" (IPv4, or [IPv6]:PORT) for --metrics; 0 or -EINVAL. */
int metrics_parse_addr(const char *arg, struct sockaddr_storage *addr);

/*
 * Serve /metrics on \p addr. App thread (the scrapes are sent to the
 * calling thread). 0, or -errno when the address cannot be served (logged).
 */
int metrics_start(const struct sockaddr_storage *addr);

/*
 * The daemon's face. metrics_option(): --metrics ADDR:PORT, on the main
 * thread before the app starts; it also turns on the per namespace and per
 * host I/O counters; -EINVAL (printed) for a bad address.
 * metrics_daemon_start(): serve it if it was given; app thread; 0 or
 * -errno (printed).
 */
int metrics_option(const char *arg);
int metrics_daemon_start(void);

/*
 * Stop serving: scrapes waiting now get 503 at once, the HTTP thread is
 * joined. App thread; a no-op when not started. Scrapes still gathering
 * finish on the app thread and free themselves.
 */
void metrics_stop(void);

#endif /* NVTCPD_METRICS_H */
