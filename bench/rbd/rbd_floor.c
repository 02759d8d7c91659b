/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The librbd floor for bench/rbd/run.sh: what Ceph itself gives one client
 * process on this machine, so that an RBD namespace's IOPS and CPU per I/O
 * can be read against it.
 *
 *   rbd_floor -c conf -n image [-i user] [-p pool] [-q depth] [-o bytes]
 *             [-w randread|randwrite|read|write] [-t seconds]
 *
 * One image, librbd's asynchronous API (rbd_aio_read / rbd_aio_write), depth
 * I/Os kept in flight for the given time. Completions are not handled on
 * librbd's threads: librbd queues them and signals an eventfd
 * (rbd_set_image_notification), and the one main thread sleeps in poll(),
 * collects them with rbd_poll_io_events and submits the next I/O - the
 * hand-off a target's owning thread does. Prints one line of key=value
 * pairs: iops, mib_s, avg_us, cpu_us_per_io (the process's user + system
 * time, librbd's threads included, over the I/Os) and ios.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <rbd/librbd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_MAX_QD 1024
#define FLOOR_MAX_IO (4u << 20)
#define FLOOR_BATCH  64

struct floor_opts {
	const char *conf;
	const char *user;
	const char *pool;
	const char *image;
	uint32_t depth;
	uint32_t io_size;
	bool write;
	bool random;
	double seconds;
};

/* One I/O slot: its buffer and the time its I/O was submitted. */
struct floor_slot {
	char *buf;
	uint64_t submit_ns;
	rbd_completion_t comp;
};

static struct floor_opts g_opts = {
	.user = "admin", .pool = "rbd", .depth = 32, .io_size = 4096, .random = true, .seconds = 10
};

static rbd_image_t g_image;
static uint64_t g_blocks; /* image size in io_size units */
static uint64_t g_next_seq;
static uint64_t g_rand_state = 0x9e3779b97f4a7c15ull;
static struct floor_slot g_slots[FLOOR_MAX_QD];

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* xorshift64*: cheap, and the same offsets every run. */
static uint64_t
next_rand(void)
{
	g_rand_state ^= g_rand_state >> 12;
	g_rand_state ^= g_rand_state << 25;
	g_rand_state ^= g_rand_state >> 27;
	return g_rand_state * 0x2545f4914f6cdd1dull;
}

static uint64_t
next_offset(void)
{
	uint64_t block;

	if (g_opts.random) {
		block = next_rand() % g_blocks;
	} else {
		block = g_next_seq;
		g_next_seq = (g_next_seq + 1) % g_blocks;
	}
	return block * g_opts.io_size;
}

/* Nothing to do on librbd's thread: the completion reaches us through the eventfd. */
static void
floor_complete_cb(rbd_completion_t comp, void *arg)
{
	(void)comp;
	(void)arg;
}

static int
submit(struct floor_slot *slot)
{
	uint64_t off = next_offset();
	int rc;

	rc = rbd_aio_create_completion(slot, floor_complete_cb, &slot->comp);
	if (rc < 0) {
		return rc;
	}
	slot->submit_ns = now_ns();
	if (g_opts.write) {
		rc = rbd_aio_write(g_image, off, g_opts.io_size, slot->buf, slot->comp);
	} else {
		rc = rbd_aio_read(g_image, off, g_opts.io_size, slot->buf, slot->comp);
	}
	if (rc < 0) {
		rbd_aio_release(slot->comp);
	}
	return rc;
}

/* Keeps the queue full until the deadline, then drains it; returns the I/Os done. */
static int
run(int efd, uint64_t deadline, uint64_t *ios, uint64_t *lat_sum_ns)
{
	rbd_completion_t done[FLOOR_BATCH];
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint32_t inflight = 0, i;
	uint64_t counter;
	int n, rc;

	for (i = 0; i < g_opts.depth; i++) {
		rc = submit(&g_slots[i]);
		if (rc < 0) {
			fprintf(stderr, "rbd_floor: submit: %s\n", strerror(-rc));
			return rc;
		}
		inflight++;
	}
	while (inflight > 0) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			return -errno;
		}
		if (read(efd, &counter, sizeof(counter)) < 0 && errno != EAGAIN) {
			return -errno;
		}
		while ((n = rbd_poll_io_events(g_image, done, FLOOR_BATCH)) > 0) {
			bool more = now_ns() < deadline;

			for (i = 0; i < (uint32_t)n; i++) {
				struct floor_slot *slot = rbd_aio_get_arg(done[i]);
				ssize_t ret = rbd_aio_get_return_value(done[i]);

				rbd_aio_release(done[i]);
				inflight--;
				if (ret < 0) {
					fprintf(stderr, "rbd_floor: I/O failed: %s\n",
						strerror((int)-ret));
					return (int)ret;
				}
				(*ios)++;
				*lat_sum_ns += now_ns() - slot->submit_ns;
				if (!more) {
					continue;
				}
				rc = submit(slot);
				if (rc < 0) {
					fprintf(stderr, "rbd_floor: submit: %s\n", strerror(-rc));
					return rc;
				}
				inflight++;
			}
		}
		if (n < 0) {
			return n;
		}
	}
	return 0;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -c conf -n image [-i user] [-p pool] [-q depth] [-o bytes]\n"
		"          [-w randread|randwrite|read|write] [-t seconds]\n",
		prog);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "c:i:p:n:q:o:w:t:")) != -1) {
		switch (c) {
		case 'c':
			g_opts.conf = optarg;
			break;
		case 'i':
			g_opts.user = optarg;
			break;
		case 'p':
			g_opts.pool = optarg;
			break;
		case 'n':
			g_opts.image = optarg;
			break;
		case 'q':
			g_opts.depth = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			g_opts.io_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			g_opts.write = strstr(optarg, "write") != NULL;
			g_opts.random = strncmp(optarg, "rand", 4) == 0;
			if (strcmp(optarg + (g_opts.random ? 4 : 0),
				   g_opts.write ? "write" : "read")) {
				usage(argv[0]);
			}
			break;
		case 't':
			g_opts.seconds = strtod(optarg, NULL);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (g_opts.conf == NULL || g_opts.image == NULL || g_opts.depth == 0 ||
	    g_opts.depth > FLOOR_MAX_QD || g_opts.io_size == 0 || g_opts.io_size > FLOOR_MAX_IO ||
	    g_opts.seconds <= 0) {
		usage(argv[0]);
	}
}

static int
alloc_buffers(void)
{
	uint32_t i, j;

	for (i = 0; i < g_opts.depth; i++) {
		if (posix_memalign((void **)&g_slots[i].buf, 4096, g_opts.io_size) != 0) {
			return -ENOMEM;
		}
		for (j = 0; j < g_opts.io_size; j += 8) {
			uint64_t v = next_rand();

			memcpy(g_slots[i].buf + j, &v, sizeof(v));
		}
	}
	return 0;
}

static void
free_buffers(void)
{
	uint32_t i;

	for (i = 0; i < g_opts.depth; i++) {
		free(g_slots[i].buf);
	}
}

/* Connects, opens the image, runs and prints the result line; returns a negative errno. */
static int
floor_main(rados_ioctx_t ioctx)
{
	uint64_t size, ios = 0, lat_sum = 0, t0, t1;
	double c0, c1, secs;
	int efd, rc;

	rc = rbd_open(ioctx, g_opts.image, &g_image, NULL);
	if (rc < 0) {
		fprintf(stderr, "rbd_floor: rbd_open %s: %s\n", g_opts.image, strerror(-rc));
		return rc;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rc = efd < 0 ? -errno : rbd_get_size(g_image, &size);
	if (rc == 0) {
		g_blocks = size / g_opts.io_size;
		rc = g_blocks == 0 ? -EINVAL : alloc_buffers();
	}
	if (rc == 0) {
		rc = rbd_set_image_notification(g_image, efd, EVENT_TYPE_EVENTFD);
	}
	if (rc == 0) {
		c0 = cpu_seconds();
		t0 = now_ns();
		rc = run(efd, t0 + (uint64_t)(g_opts.seconds * 1e9), &ios, &lat_sum);
		t1 = now_ns();
		c1 = cpu_seconds();
		secs = (double)(t1 - t0) / 1e9;
		if (rc == 0 && ios > 0) {
			printf("iops=%.0f mib_s=%.1f avg_us=%.1f cpu_us_per_io=%.2f ios=%llu\n",
			       (double)ios / secs,
			       (double)ios * g_opts.io_size / secs / (1024.0 * 1024.0),
			       (double)lat_sum / (double)ios / 1e3, (c1 - c0) * 1e6 / (double)ios,
			       (unsigned long long)ios);
		}
	} else {
		fprintf(stderr, "rbd_floor: setting up %s: %s\n", g_opts.image, strerror(-rc));
	}
	rbd_close(g_image);
	if (efd >= 0) {
		close(efd);
	}
	free_buffers();
	return rc;
}

int
main(int argc, char **argv)
{
	rados_t cluster;
	rados_ioctx_t ioctx;
	int rc;

	parse_args(argc, argv);
	rc = rados_create(&cluster, g_opts.user);
	if (rc == 0) {
		rc = rados_conf_read_file(cluster, g_opts.conf);
	}
	if (rc == 0) {
		rc = rados_connect(cluster);
	}
	if (rc < 0) {
		fprintf(stderr, "rbd_floor: connecting with %s: %s\n", g_opts.conf, strerror(-rc));
		return 1;
	}
	rc = rados_ioctx_create(cluster, g_opts.pool, &ioctx);
	if (rc < 0) {
		fprintf(stderr, "rbd_floor: pool %s: %s\n", g_opts.pool, strerror(-rc));
		rados_shutdown(cluster);
		return 1;
	}
	rc = floor_main(ioctx);
	rados_ioctx_destroy(ioctx);
	rados_shutdown(cluster);
	return rc == 0 ? 0 : 1;
}
