/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcp stats [-i SECONDS] [-n COUNT]: a compact summary of a running
 * target over an interval, from its stats RPCs (SPDK's names and fields):
 * framework_get_reactors (busy % per reactor), bdev_get_iostat (IOPS,
 * bandwidth and average latency per bdev), nvmf_get_stats (queue pairs and
 * the buffer pool). A method the server does not offer costs its section
 * only, with a line saying so. Without -i: one summary over one second;
 * with -i: one every SECONDS, COUNT times (default: until interrupted).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define JSONRPC_METHOD_NOT_FOUND (-32601)

enum stats_source {
	SRC_REACTORS = 0,
	SRC_IOSTAT,
	SRC_NVMF,
	SRC_NUM,
};

static const char *const g_methods[SRC_NUM] = { "framework_get_reactors", "bdev_get_iostat",
						"nvmf_get_stats" };
static const char *const g_lost[SRC_NUM] = { "reactors busy %", "per-bdev IOPS and latency",
					     "queue pairs and buffer pool" };

struct sample {
	json_t *res[SRC_NUM]; /* NULL: not served, or failed (why says which) */
	char why[SRC_NUM][160];
	double t;
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sample_clear(struct sample *s)
{
	int i;

	for (i = 0; i < SRC_NUM; i++) {
		json_decref(s->res[i]);
	}
	memset(s, 0, sizeof(*s));
}

/* 0, or -errno when the server cannot be reached at all. */
static int
sample_take(const struct cli_opts *opts, struct sample *s)
{
	json_t *result, *error;
	json_int_t code;
	int i, rc;

	memset(s, 0, sizeof(*s));
	s->t = mono_s();
	for (i = 0; i < SRC_NUM; i++) {
		rc = cli_call_method(opts, g_methods[i], &result, &error);
		if (rc != 0) {
			sample_clear(s);
			return rc;
		}
		s->res[i] = result;
		if (error != NULL) {
			code = json_integer_value(json_object_get(error, "code"));
			snprintf(s->why[i], sizeof(s->why[i]), "%s: %s",
				 code == JSONRPC_METHOD_NOT_FOUND ? "not served by this target"
								  : "failed",
				 json_string_value(json_object_get(error, "message")) ?: "?");
			json_decref(error);
		}
	}
	return 0;
}

static double
num(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* The element of array \p arr whose \p key equals that of \p like; NULL when none. */
static const json_t *
find_peer(const json_t *arr, const char *key, const json_t *like)
{
	const json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		if (json_equal(json_object_get(e, key), json_object_get(like, key))) {
			return e;
		}
	}
	return NULL;
}

static void
print_reactors(const json_t *a, const json_t *b)
{
	const json_t *r, *p;
	double busy, idle;
	size_t i;

	printf("reactor  busy\n");
	json_array_foreach(json_object_get(b, "reactors"), i, r)
	{
		p = find_peer(json_object_get(a, "reactors"), "lcore", r);
		if (p == NULL) {
			continue;
		}
		busy = num(r, "busy") - num(p, "busy");
		idle = num(r, "idle") - num(p, "idle");
		printf("%-8lld %5.1f %%\n", (long long)num(r, "lcore"),
		       busy + idle > 0 ? 100.0 * busy / (busy + idle) : 0.0);
	}
}

static void
print_bdevs(const json_t *a, const json_t *b, double secs)
{
	double rate = num(b, "tick_rate"), rops, wops;
	const json_t *d, *p;
	size_t i;

	printf("%-16s %10s %10s %9s %9s %11s %11s\n", "bdev", "read IOPS", "write IOPS",
	       "read MiB/s", "write MiB/s", "read lat us", "write lat us");
	json_array_foreach(json_object_get(b, "bdevs"), i, d)
	{
		p = find_peer(json_object_get(a, "bdevs"), "name", d);
		if (p == NULL) {
			continue;
		}
		rops = num(d, "num_read_ops") - num(p, "num_read_ops");
		wops = num(d, "num_write_ops") - num(p, "num_write_ops");
		printf("%-16s %10.0f %10.0f %9.1f %9.1f %11.1f %11.1f\n",
		       json_string_value(json_object_get(d, "name")), rops / secs, wops / secs,
		       (num(d, "bytes_read") - num(p, "bytes_read")) / secs / 1048576.0,
		       (num(d, "bytes_written") - num(p, "bytes_written")) / secs / 1048576.0,
		       rops > 0 && rate > 0 ? 1e6 *
						      (num(d, "read_latency_ticks") -
						       num(p, "read_latency_ticks")) /
						      rops / rate
					    : 0.0,
		       wops > 0 && rate > 0 ? 1e6 *
						      (num(d, "write_latency_ticks") -
						       num(p, "write_latency_ticks")) /
						      wops / rate
					    : 0.0);
	}
}

/* The iobuf counters of poll group \p g, summed over its transports, into \p sum. */
static void
iobuf_sum(const json_t *g, double sum[6])
{
	static const char *const keys[6] = { "in_use",	   "cached",	"waiting",
					     "cache_hits", "pool_hits", "waits" };
	const json_t *t, *io;
	size_t i;
	int k;

	json_array_foreach(json_object_get(g, "transports"), i, t)
	{
		io = json_object_get(t, "iobuf");
		for (k = 0; k < 6; k++) {
			sum[k] += num(io, keys[k]);
		}
	}
}

static void
print_nvmf(const json_t *a, const json_t *b, double secs)
{
	double now[6] = { 0 }, then[6] = { 0 }, admin = 0, io = 0;
	const json_t *g, *p;
	size_t i;

	json_array_foreach(json_object_get(b, "poll_groups"), i, g)
	{
		admin += num(g, "current_admin_qpairs");
		io += num(g, "current_io_qpairs");
		iobuf_sum(g, now);
		p = find_peer(json_object_get(a, "poll_groups"), "name", g);
		if (p != NULL) {
			iobuf_sum(p, then);
		}
	}
	printf("queue pairs: %.0f admin, %.0f I/O\n", admin, io);
	printf("buffer pool: %.0f in use, %.0f cached, %.0f waiting; per second %.0f cache hits, "
	       "%.0f pool hits, %.0f waits\n",
	       now[0], now[1], now[2], (now[3] - then[3]) / secs, (now[4] - then[4]) / secs,
	       (now[5] - then[5]) / secs);
}

static void
print_summary(const struct sample *a, const struct sample *b)
{
	double secs = b->t - a->t;
	int i;

	printf("---- over %.2f s\n", secs);
	for (i = 0; i < SRC_NUM; i++) {
		if (a->res[i] == NULL || b->res[i] == NULL) {
			printf("%s: %s (no %s)\n", g_methods[i],
			       b->why[i][0] != '\0' ? b->why[i] : a->why[i], g_lost[i]);
			continue;
		}
		switch (i) {
		case SRC_REACTORS:
			print_reactors(a->res[i], b->res[i]);
			break;
		case SRC_IOSTAT:
			print_bdevs(a->res[i], b->res[i], secs);
			break;
		default:
			print_nvmf(a->res[i], b->res[i], secs);
		}
	}
	fflush(stdout);
}

static int
parse_args(int argc, char **argv, double *interval, long *count)
{
	char *end;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "i:n:")) != -1) {
		switch (ch) {
		case 'i':
			*interval = strtod(optarg, &end);
			if (*end != '\0' || !(*interval > 0)) {
				fprintf(stderr,
					"nvtcp stats: -i wants a positive number of seconds\n");
				return -EINVAL;
			}
			if (*count == 1) {
				*count = -1;
			}
			break;
		case 'n':
			*count = strtol(optarg, &end, 10);
			if (*end != '\0' || *count <= 0) {
				fprintf(stderr, "nvtcp stats: -n wants a positive count\n");
				return -EINVAL;
			}
			break;
		default:
			fprintf(stderr, "usage: nvtcp stats [-i SECONDS] [-n COUNT]\n");
			return -EINVAL;
		}
	}
	return 0;
}

static void
sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

int
stats_main(const struct cli_opts *opts, int argc, char **argv)
{
	struct sample a, b;
	double interval = 1.0;
	long count = 1, n;

	if (parse_args(argc, argv, &interval, &count) != 0 || sample_take(opts, &a) != 0) {
		return 1;
	}
	for (n = 0; count < 0 || n < count; n++) {
		sleep_s(interval);
		if (sample_take(opts, &b) != 0) {
			sample_clear(&a);
			return 1;
		}
		print_summary(&a, &b);
		sample_clear(&a);
		a = b;
	}
	sample_clear(&a);
	return 0;
}
