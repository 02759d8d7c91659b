/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcp stats [-i SECONDS] [-n COUNT]: a compact summary of a running
 * target over an interval, from its stats RPCs (SPDK's names and fields):
 * framework_get_reactors (busy % per reactor), nvmf_get_io_stats (IOPS,
 * bandwidth and latency percentiles per namespace; it turns the target's
 * per namespace counting on), bdev_get_iostat (IOPS, bandwidth and average
 * latency per bdev), nvmf_get_stats (queue pairs and the buffer pool). A method the server does not offer costs its section
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
	SRC_NS,
	SRC_IOSTAT,
	SRC_NVMF,
	SRC_NUM,
};

static const char *const g_methods[SRC_NUM] = { "framework_get_reactors", "nvmf_get_io_stats",
						"bdev_get_iostat", "nvmf_get_stats" };
static const char *const g_lost[SRC_NUM] = { "reactors busy %",
					     "per-namespace IOPS and latency percentiles",
					     "per-bdev IOPS and latency",
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

	json_t *enable = json_pack("{s:b}", "enable", 1);

	memset(s, 0, sizeof(*s));
	s->t = mono_s();
	for (i = 0; i < SRC_NUM; i++) {
		rc = cli_call_method(opts, g_methods[i], i == SRC_NS ? enable : NULL, &result,
				     &error);
		if (rc != 0) {
			json_decref(enable);
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
	json_decref(enable);
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

/* ---- namespaces: percentiles from the histogram's buckets ---- */

#define NS_BUCKETS 32

/*
 * The \p q quantile (0..1) of the \p n bucket counts \p d, whose upper
 * bounds are \p bounds (n - 1 of them; the last bucket has none): linear
 * within its bucket, the lower bound for the last one. Microseconds.
 */
static double
percentile_us(const double *d, size_t n, const json_t *bounds, double q)
{
	double total = 0, cum = 0, lo, hi, want;
	size_t i;

	for (i = 0; i < n; i++) {
		total += d[i];
	}
	want = q * total;
	for (i = 0; i < n && total > 0; i++) {
		lo = i == 0 ? 0 : json_number_value(json_array_get(bounds, i - 1));
		if (cum + d[i] >= want && d[i] > 0) {
			if (i + 1 == n) {
				return lo / 1000.0;
			}
			hi = json_number_value(json_array_get(bounds, i));
			return (lo + (hi - lo) * (want - cum) / d[i]) / 1000.0;
		}
		cum += d[i];
	}
	return 0;
}

/* Reads and writes of \p e minus \p p: ops, bytes, latency sum, buckets into \p d. */
static size_t
ns_delta(const json_t *e, const json_t *p, double *ops, double *bytes, double *lat, double *d)
{
	static const char *const dirs[2] = { "read", "write" };
	const json_t *a, *b;
	size_t n = 0, i;
	int k;

	for (k = 0; k < 2; k++) {
		a = json_object_get(e, dirs[k]);
		b = json_object_get(p, dirs[k]);
		ops[k] = num(a, "ops") - num(b, "ops");
		*bytes += num(a, "bytes") - num(b, "bytes");
		*lat += num(a, "latency_ns") - num(b, "latency_ns");
		n = json_array_size(json_object_get(a, "buckets"));
		n = n < NS_BUCKETS ? n : NS_BUCKETS;
		for (i = 0; i < n; i++) {
			d[i] += json_number_value(
					json_array_get(json_object_get(a, "buckets"), i)) -
				json_number_value(json_array_get(json_object_get(b, "buckets"), i));
		}
	}
	return n;
}

static bool
same_ns(const json_t *a, const json_t *b)
{
	return json_equal(json_object_get(a, "subnqn"), json_object_get(b, "subnqn")) &&
	       json_equal(json_object_get(a, "nsid"), json_object_get(b, "nsid")) &&
	       json_equal(json_object_get(a, "bdev_name"), json_object_get(b, "bdev_name"));
}

static void
print_ns_row(const json_t *e, const json_t *p, const json_t *bounds, double secs)
{
	double ops[2], bytes = 0, lat = 0, d[NS_BUCKETS] = { 0 };
	size_t n = ns_delta(e, p, ops, &bytes, &lat, d);

	printf("%-28.28s %4lld %-10.10s %9.0f %9.0f %8.1f %8.1f %8.1f %8.1f\n",
	       json_string_value(json_object_get(e, "subnqn")), (long long)num(e, "nsid"),
	       json_string_value(json_object_get(e, "bdev_name")), ops[0] / secs, ops[1] / secs,
	       bytes / secs / 1048576.0,
	       ops[0] + ops[1] > 0 ? lat / (ops[0] + ops[1]) / 1000.0 : 0.0,
	       percentile_us(d, n, bounds, 0.5), percentile_us(d, n, bounds, 0.99));
}

static void
print_namespaces(const json_t *a, const json_t *b, double secs)
{
	const json_t *e, *p, *pe;
	size_t i, j;

	if (!json_is_true(json_object_get(a, "enabled"))) {
		printf("namespaces: counting was off until now; figures from the next interval\n");
		return;
	}
	printf("%-28s %4s %-10s %9s %9s %8s %8s %8s %8s\n", "subsystem", "nsid", "bdev",
	       "read IOPS", "wr IOPS", "MiB/s", "avg us", "p50 us", "p99 us");
	json_array_foreach(json_object_get(b, "namespaces"), i, e)
	{
		p = NULL;
		json_array_foreach(json_object_get(a, "namespaces"), j, pe)
		{
			if (same_ns(e, pe)) {
				p = pe;
			}
		}
		/* A namespace that appeared within the interval counts from zero. */
		print_ns_row(e, p, json_object_get(b, "latency_bounds_ns"), secs);
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
		case SRC_NS:
			print_namespaces(a->res[i], b->res[i], secs);
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
