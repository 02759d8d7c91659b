/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files and a loop block device served by the uring bdev module, checked end
 * to end from the host library. Starts nvtcpd (argv[1]) with a configuration
 * written to a temporary directory (under $TMPDIR, else /var/tmp: a real file
 * system, so the O_DIRECT path is used), one subsystem and these namespaces:
 *
 *   1 File0   bdev_uring_create, a 64 MiB file, 512-byte blocks
 *   2 File4k  bdev_uring_create, a 64 MiB file, 4096-byte blocks
 *   3 RO0     bdev_aio_create readonly, a 1 MiB file of known data
 *   4 Loop0   bdev_uring_create on a loop device over a 64 MiB file (root and
 *             losetup only; skipped with the reason otherwise)
 *
 * and checks, on the writable ones: random writes of 512 B to 1 MiB (split by
 * the host at the 128 KiB MDTS) read back equal and stand in the backing at
 * their offsets; concurrent writes; data written to the backing reads back;
 * flush; FUA writes, and writes with the volatile write cache turned off;
 * write zeroes and deallocate read back as zeroes without touching their
 * neighbours (files: deallocate frees the blocks; the block device only keeps
 * its neighbours) and DLFEAT says so for files only; on RO0: reads work,
 * every kind of write fails with Namespace Is Write Protected, NSATTR bit 0;
 * on File0: growing the file and bdev_uring_rescan (through the nvtcp CLI,
 * argv[2]) complete an outstanding Asynchronous Event Request (lib/nvme
 * processes no events: the test sends its own), list the NSID in the Changed
 * Namespace List once, and Identify and the range checks use the new size;
 * creating a bdev over a missing file or one smaller than a block is refused
 * naming the file, and the other namespaces go on serving. Finally nvtcpd
 * exits with status 0 on SIGTERM.
 *
 * The reactor runs on the main thread; a driver thread runs the checks one
 * after the other, each host command submitted on the reactor's thread by a
 * message and waited for with a semaphore.
 *
 * Usage: storage_test <nvtcpd> <nvtcp>. One line per passed check; exit 0
 * pass, 1 fail, 77 when nvtcpd is missing.
 *
 * This file: the namespaces, the reporting, the driver and main;
 * storage_env.c: the directory, backings, loop device, configuration and
 * nvtcpd; storage_host.c: host commands and the connection; storage_io.c:
 * the data checks; storage_admin.c: identify, resize and refused creation.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"

#include "test_daemon.h"
#include "test_util.h"

#include "storage_internal.h"

struct ns_info g_ns[NUM_NS] = {
	{ "File0", "bdev_uring_create", 1, 512, 512, FILE_SIZE, false, true },
	{ "File4k", "bdev_uring_create", 2, 4096, 4096, FILE_SIZE, false, true },
	/* A file's default block: 512. */
	{ "RO0", "bdev_aio_create", 3, 0, 512, RO_SIZE, true, true },
	/* The device's logical block size, read once it is attached. */
	{ "Loop0", "bdev_uring_create", 4, 0, 0, FILE_SIZE, false, false },
};

const char *g_nvtcpd;
const char *g_cli;
uint8_t *g_wbuf;
uint8_t *g_rbuf;
uint8_t *g_fbuf;
static uint64_t g_seed;
static pthread_t g_driver;
static bool g_driver_started;

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	fputs(" (giving up)\n", stdout);
	va_end(ap);
	fflush(stdout);
	cleanup();
	_exit(1);
}

/* ---- data ---- */

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t
rand_below(uint64_t n)
{
	return splitmix(&g_seed) % n;
}

void
pattern_fill(uint8_t *buf, size_t len)
{
	uint64_t s = splitmix(&g_seed), v;
	size_t i;

	for (i = 0; i < len; i += sizeof(v)) {
		v = splitmix(&s);
		memcpy(buf + i, &v, len - i < sizeof(v) ? len - i : sizeof(v));
	}
}

/* ---- the driver ---- */

static void
run_checks(const uint8_t *ro_data)
{
	check_connected();
	nvt_test_check(bdev_direct("File0"),
		       "File0 is served with O_DIRECT (bdev_get_bdevs: direct)");
	aer_start();
	check_writable(&g_ns[NS_FILE]);
	check_writable(&g_ns[NS_FILE4K]);
	if (g_ns[NS_LOOP].present) {
		check_writable(&g_ns[NS_LOOP]);
	}
	check_vwc_off(&g_ns[NS_FILE]);
	check_read_only(&g_ns[NS_RO], ro_data);
	check_resize(&g_ns[NS_FILE]);
	check_create_errors();
	nvt_test_check(bdev_direct("File0"), "File0 still uses O_DIRECT after all this I/O");
}

static void *
driver(void *arg)
{
	struct call c = { .fn = connect_msg };

	call_run(&c, "connect");
	if (c.rc != 0) {
		nvt_test_check(false, "connect to 127.0.0.1:%d %s: %s", g_port, SUBNQN,
			       strerror(-c.rc));
	} else {
		run_checks(arg);
	}
	c = (struct call){ .fn = disconnect_msg };
	call_run(&c, "disconnect");
	nvt_app_stop(0);
	return NULL;
}

static void
app_started(void *arg)
{
	g_app_thread = nvt_get_thread();
	g_driver_started = pthread_create(&g_driver, NULL, driver, arg) == 0;
	if (!g_driver_started) {
		nvt_test_check(false, "driver thread could not start");
		nvt_app_stop(1);
	}
}

/* Prepare the backings and nvtcpd; the data of the read-only file in \p ro_data. */
static void
setup(uint8_t *ro_data)
{
	g_wbuf = aligned_alloc(4096, BUF_SIZE);
	g_rbuf = aligned_alloc(4096, BUF_SIZE);
	g_fbuf = aligned_alloc(4096, BUF_SIZE);
	if (g_wbuf == NULL || g_rbuf == NULL || g_fbuf == NULL ||
	    nvt_test_tmpdir_create(g_dir, sizeof(g_dir), "/var/tmp", "nvtcp-storage") != 0 ||
	    images_create() != 0) {
		fatal("cannot set up the backing files in %s: %s", g_dir, strerror(errno));
	}
	/* images_create() left the read-only file's data in g_wbuf. */
	memcpy(ro_data, g_wbuf, RO_SIZE);
	g_port = nvt_test_free_port();
	if (g_port < 0 || !daemon_start()) {
		fatal("nvtcpd did not start (port %d, socket %s)", g_port, g_sock);
	}
	printf("nvtcpd pid %d on 127.0.0.1:%d, RPC %s, files in %s\n", (int)g_daemon.pid, g_port,
	       g_sock, g_dir);
}

int
main(int argc, char **argv)
{
	static uint8_t ro_data[RO_SIZE];
	struct nvt_app_opts opts;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <nvtcpd> <nvtcp>\n", argv[0]);
		return 2;
	}
	g_nvtcpd = argv[1];
	g_cli = argv[2];
	if (access(g_nvtcpd, X_OK) != 0 || access(g_cli, X_OK) != 0) {
		printf("skip: %s or %s is missing\n", g_nvtcpd, g_cli);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The data and the LBAs follow from the seed: STORAGE_TEST_SEED=N repeats a run. */
	g_seed = getenv("STORAGE_TEST_SEED") != NULL
			 ? strtoull(getenv("STORAGE_TEST_SEED"), NULL, 0)
			 : (uint64_t)time(NULL);
	printf("seed %#lx\n", (unsigned long)g_seed);
	setup(ro_data);
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "storage_test";
	rc = nvt_app_start(&opts, app_started, ro_data);
	nvt_app_fini();
	if (g_driver_started) {
		pthread_join(g_driver, NULL);
	}
	rc = nvt_test_daemon_stop(&g_daemon);
	nvt_test_check(rc == 0, "nvtcpd exits with status 0 on SIGTERM (%d)", rc);
	cleanup();
	free(g_wbuf);
	free(g_rbuf);
	free(g_fbuf);
	printf("%u passed, %u failed\n", nvt_test_checks_passed(), nvt_test_checks_failed());
	return nvt_test_checks_failed() == 0 ? 0 : 1;
}
