/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fw_bench: costs of the run-to-completion framework between two reactors.
 *
 *   stream    a thread on the first core streams messages to a thread on the
 *             second; messages received per second
 *   pingpong  one message goes back and forth between the two threads;
 *             round trips (and messages) per second
 *   latency   an event to the second core, which sends an event back; round
 *             trip median and p99 in ns
 *   idle      nothing to do; reactor sleeps per second (interrupt mode). The
 *             CPU it uses is measured from outside (bench/framework/run.sh).
 *
 * Each run warms up for WARMUP_MS, then measures for --time seconds. The
 * result is one line of key=value pairs on stdout.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/event.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"

#define WARMUP_MS    200
#define STREAM_BATCH 256
#define LAT_WARMUP   1000
#define LAT_MAX	     (4u * 1024 * 1024)
#define MAX_REACTORS 64
#define MS_TO_US(ms) ((uint64_t)(ms)*1000)

/* Stream messages in flight at most: one ring's worth, so the ring is what is measured. */
#define STREAM_WINDOW 16384

enum bench_mode {
	MODE_STREAM,
	MODE_PINGPONG,
	MODE_LATENCY,
	MODE_IDLE,
};

static const char *const g_mode_names[] = { "stream", "pingpong", "latency", "idle" };

/* A snapshot of the counters at the start and at the end of the measure. */
struct snap {
	uint64_t ticks;
	uint64_t count;
	uint32_t nreactors;
	struct nvt_reactor_stats st[MAX_REACTORS];
};

static enum bench_mode g_mode = MODE_STREAM;
static uint64_t g_seconds = 3;
static bool g_polling;

static struct nvt_thread *g_src; /* first core */
static struct nvt_thread *g_dst; /* second core (or the first with one core) */
static struct nvt_poller *g_clock;
static struct nvt_poller *g_sender;
static _Atomic bool g_quit;
static _Atomic uint64_t g_count; /* messages or round trips; one writer */
static uint64_t g_sent;		 /* stream: messages sent; the sender's thread only */
static struct snap g_snaps[2];
static int g_nsnaps;
static uint64_t *g_lat; /* latency samples, ns */
static size_t g_nlat;
static uint64_t g_lat_t0;

static void
count_one(void)
{
	atomic_store_explicit(&g_count, atomic_load_explicit(&g_count, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static void
take_snap(struct snap *s)
{
	uint32_t core;

	s->ticks = nvt_get_ticks();
	s->count = atomic_load(&g_count);
	s->nreactors = 0;
	NVT_ENV_FOREACH_CORE(core)
	{
		if (s->nreactors < MAX_REACTORS) {
			nvt_reactor_get_stats(core, &s->st[s->nreactors++]);
		}
	}
}

/* Traffic has drained: the app can stop without a message in flight. */
static void
bench_done(void *arg)
{
	(void)arg;
	nvt_app_stop(0);
}

static void
send_done(void)
{
	if (nvt_thread_send_msg(nvt_app_get_thread(), bench_done, NULL) != 0) {
		nvt_app_stop(-EIO);
	}
}

/* ---- the clock: a warm-up period, then the measured one ---- */

static int clock_tick(void *arg);

static int
clock_tick(void *arg)
{
	(void)arg;
	take_snap(&g_snaps[g_nsnaps++]);
	nvt_poller_unregister(&g_clock);
	if (g_nsnaps == 1) {
		g_clock = nvt_poller_register(clock_tick, NULL, g_seconds * 1000 * 1000, "clock");
		return NVT_POLLER_BUSY;
	}
	atomic_store(&g_quit, true);
	if (g_mode == MODE_IDLE) {
		nvt_app_stop(0);
	}
	return NVT_POLLER_BUSY;
}

/* ---- stream ---- */

static void
stream_recv(void *arg)
{
	(void)arg;
	count_one();
}

static void
stream_last(void *arg)
{
	(void)arg;
	send_done();
}

static int
stream_send(void *arg)
{
	/* A full ring no longer refuses a send: the window lets the receiver catch up. */
	uint64_t room =
		STREAM_WINDOW - (g_sent - atomic_load_explicit(&g_count, memory_order_relaxed));
	int i, n = (int)NVT_MIN(room, (uint64_t)STREAM_BATCH);

	(void)arg;
	if (atomic_load_explicit(&g_quit, memory_order_relaxed)) {
		if (nvt_thread_send_msg(g_dst, stream_last, NULL) == 0) {
			nvt_poller_unregister(&g_sender);
		}
		return NVT_POLLER_BUSY;
	}
	for (i = 0; i < n; i++) {
		if (nvt_thread_send_msg(g_dst, stream_recv, NULL) != 0) {
			break;
		}
	}
	g_sent += (uint64_t)i;
	return i > 0 ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

static void
stream_start(void *arg)
{
	(void)arg;
	g_sender = nvt_poller_register(stream_send, NULL, 0, "stream");
}

/* ---- ping-pong ---- */

static void pp_pong(void *arg);

static void
pp_ping(void *arg)
{
	(void)arg;
	if (nvt_thread_send_msg(g_src, pp_pong, NULL) != 0) {
		nvt_app_stop(-EIO);
	}
}

static void
pp_pong(void *arg)
{
	(void)arg;
	count_one();
	if (atomic_load_explicit(&g_quit, memory_order_relaxed)) {
		send_done();
		return;
	}
	if (nvt_thread_send_msg(g_dst, pp_ping, NULL) != 0) {
		nvt_app_stop(-EIO);
	}
}

/* ---- event latency ---- */

static void lat_send(void);

static void
lat_back(void *arg1, void *arg2)
{
	uint64_t now = nvt_get_ticks();

	(void)arg1;
	(void)arg2;
	count_one();
	if (atomic_load(&g_count) > LAT_WARMUP && g_nlat < LAT_MAX) {
		g_lat[g_nlat++] = nvt_ticks_to_ns(now - g_lat_t0);
	}
	if (atomic_load_explicit(&g_quit, memory_order_relaxed) || g_nlat == LAT_MAX) {
		nvt_app_stop(0);
		return;
	}
	lat_send();
}

static void
lat_far(void *arg1, void *arg2)
{
	struct nvt_event *event =
		nvt_event_allocate(nvt_env_get_first_core(), lat_back, arg1, arg2);

	if (event == NULL) {
		nvt_app_stop(-ENOMEM);
		return;
	}
	nvt_event_call(event);
}

static void
lat_send(void)
{
	struct nvt_event *event;
	uint32_t far = nvt_env_get_next_core(nvt_env_get_first_core());

	if (far == UINT32_MAX) {
		far = nvt_env_get_first_core();
	}
	event = nvt_event_allocate(far, lat_far, NULL, NULL);
	if (event == NULL) {
		nvt_app_stop(-ENOMEM);
		return;
	}
	g_lat_t0 = nvt_get_ticks();
	nvt_event_call(event);
}

/* ---- start ---- */

static struct nvt_thread *
thread_on(const char *name, uint32_t core)
{
	struct nvt_cpuset mask;

	nvt_cpuset_zero(&mask);
	nvt_cpuset_set_cpu(&mask, core, true);
	return nvt_thread_create(name, &mask);
}

static int
create_pair(void)
{
	uint32_t first = nvt_env_get_first_core();
	uint32_t second = nvt_env_get_next_core(first);

	g_src = thread_on("src", first);
	g_dst = thread_on("dst", second == UINT32_MAX ? first : second);
	return g_src != NULL && g_dst != NULL ? 0 : -ENOMEM;
}

static void
bench_start(void *arg)
{
	int rc = 0;

	(void)arg;
	g_clock = nvt_poller_register(clock_tick, NULL, MS_TO_US(WARMUP_MS), "clock");
	switch (g_mode) {
	case MODE_STREAM:
		rc = create_pair();
		rc = rc ? rc : nvt_thread_send_msg(g_src, stream_start, NULL);
		break;
	case MODE_PINGPONG:
		rc = create_pair();
		rc = rc ? rc : nvt_thread_send_msg(g_dst, pp_ping, NULL);
		break;
	case MODE_LATENCY:
		lat_send();
		break;
	case MODE_IDLE:
		break;
	}
	if (rc != 0 || g_clock == NULL) {
		fprintf(stderr, "fw_bench: cannot start: %s\n", nvt_strerror(rc ? rc : ENOMEM));
		nvt_app_stop(rc ? rc : -ENOMEM);
	}
}

/* ---- results ---- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
print_idle(double secs)
{
	const struct snap *a = &g_snaps[0], *b = &g_snaps[1];
	uint64_t sleeps = 0, slept = 0;
	uint32_t i;

	for (i = 0; i < b->nreactors; i++) {
		sleeps += b->st[i].sleep_count - a->st[i].sleep_count;
		slept += b->st[i].sleep_tsc - a->st[i].sleep_tsc;
	}
	printf("idle mode=%s reactors=%u seconds=%.2f sleeps_per_s=%.2f asleep_pct=%.2f\n",
	       g_polling ? "polling" : "interrupt", b->nreactors, secs, (double)sleeps / secs,
	       100.0 * (double)slept / ((double)(b->ticks - a->ticks) * b->nreactors));
}

static void
print_result(void)
{
	double secs = (double)(g_snaps[1].ticks - g_snaps[0].ticks) / (double)nvt_get_ticks_hz();
	double rate = (double)(g_snaps[1].count - g_snaps[0].count) / secs;

	switch (g_mode) {
	case MODE_STREAM:
		printf("stream seconds=%.2f msgs_per_s=%.0f\n", secs, rate);
		break;
	case MODE_PINGPONG:
		printf("pingpong seconds=%.2f roundtrips_per_s=%.0f msgs_per_s=%.0f\n", secs, rate,
		       2 * rate);
		break;
	case MODE_LATENCY:
		qsort(g_lat, g_nlat, sizeof(*g_lat), cmp_u64);
		printf("latency samples=%zu median_ns=%lu p99_ns=%lu\n", g_nlat,
		       g_nlat ? g_lat[g_nlat / 2] : 0, g_nlat ? g_lat[g_nlat * 99 / 100] : 0);
		break;
	case MODE_IDLE:
		print_idle(secs);
		break;
	}
}

/* ---- options ---- */

static int
bench_parse(int ch, char *arg)
{
	size_t i;

	switch (ch) {
	case 'M':
		for (i = 0; i < NVT_COUNTOF(g_mode_names); i++) {
			if (strcmp(arg, g_mode_names[i]) == 0) {
				g_mode = (enum bench_mode)i;
				return 0;
			}
		}
		fprintf(stderr, "unknown mode '%s'\n", arg);
		return -EINVAL;
	case 't':
		return nvt_parse_u64(arg, 3600, &g_seconds) == 0 && g_seconds > 0 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static void
bench_usage(void)
{
	printf(" -M, --mode MODE        stream, pingpong, latency or idle (default stream)\n"
	       " -t, --time SEC         seconds to measure after %d ms of warm-up (default 3)\n",
	       WARMUP_MS);
}

int
main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "mode", required_argument, NULL, 'M' },
		{ "time", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvt_app_opts opts;
	int rc;

	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "fw_bench";
	opts.reactor_mask = "0x3";
	opts.log_level = NVT_LOG_WARN;
	rc = nvt_app_parse_args(argc, argv, &opts, "M:t:", long_opts, bench_parse, bench_usage);
	if (rc != NVT_APP_PARSE_ARGS_SUCCESS) {
		return rc == NVT_APP_PARSE_ARGS_HELP ? 0 : 1;
	}
	g_polling = opts.polling;
	if (g_mode == MODE_LATENCY && (g_lat = malloc(LAT_MAX * sizeof(*g_lat))) == NULL) {
		return 1;
	}
	rc = nvt_app_start(&opts, bench_start, NULL);
	/* Latency may end early, when its sample buffer is full. */
	while (rc == 0 && g_nsnaps < 2) {
		take_snap(&g_snaps[g_nsnaps++]);
	}
	if (rc == 0) {
		print_result();
	}
	free(g_lat);
	nvt_app_fini();
	return rc == 0 ? 0 : 1;
}
