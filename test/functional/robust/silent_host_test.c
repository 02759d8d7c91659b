/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keep alive against a running nvtcpd: a host that connects with a KATO of
 * one second and then goes silent has its controller torn down - both its
 * queues closed - after KATO (and before the allowance of the timer's
 * granularity is long past), its buffers back in the pool; a host with the
 * same KATO that sends Keep Alive in time stays connected; a verified host
 * is served throughout.
 *
 * Usage: silent_host_test <nvtcpd>
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "robust.h"
#include "test_rpc.h"

#define KATO_MS 1000
/* nvtcpd checks every KATO / 4: a silent host goes between KATO and 1.25 x KATO. */
#define LATE_MS	       2000
#define SILENT_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000051e7"
#define LIVE_HOSTNQN   "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000a11e"

static int
check(bool ok, const char *what)
{
	fprintf(stderr, "%s: %s\n", ok ? "ok" : "FAIL", what);
	return ok ? 0 : 1;
}

/* Keep Alive every KATO / 3 for \p ms: 0 when each was answered. */
static int
keep_alive_for(struct nvt_test_conn *admin, int64_t ms)
{
	int64_t end = robust_now_ms() + ms;

	while (robust_now_ms() < end) {
		if (nvt_test_tcp_keep_alive(admin) != 0) {
			return -1;
		}
		usleep(KATO_MS / 3 * 1000);
	}
	return 0;
}

static json_int_t
admin_qpairs(struct robust_target *t)
{
	json_t *st = robust_stats(t);
	json_int_t n = nvt_test_stats_group_sum(st, "current_admin_qpairs");

	json_decref(st);
	return n;
}

int
main(int argc, char **argv)
{
	struct nvt_test_conn silent_admin, silent_io, live_admin, live_io;
	struct robust_target t;
	struct robust_host h;
	int64_t t0, admin_ms, io_ms;
	uint64_t ios_before;
	int failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <nvtcpd>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	nvt_test_tcp_init(&silent_admin);
	nvt_test_tcp_init(&silent_io);
	nvt_test_tcp_init(&live_admin);
	nvt_test_tcp_init(&live_io);
	if (robust_start(&t, argv[1], "") != 0) {
		return 1;
	}
	failures += check(robust_host_start(&h, &t, 0) == 0, "verified host connected");
	failures += check(robust_ctrl_open(&t, LIVE_HOSTNQN, KATO_MS, &live_admin, &live_io) == 0,
			  "host with keep alive connected");
	/* Before its Connect: the time measured is never shorter than the target's. */
	t0 = robust_now_ms();
	failures +=
		check(robust_ctrl_open(&t, SILENT_HOSTNQN, KATO_MS, &silent_admin, &silent_io) == 0,
		      "silent host connected");
	ios_before = robust_host_ios(&h);
	failures += check(admin_qpairs(&t) == 3, "three controllers");

	/* The live host keeps its controller by Keep Alive while the silent one waits. */
	failures += check(keep_alive_for(&live_admin, KATO_MS / 2) == 0, "keep alive answered");
	silent_admin.timeout_ms = KATO_MS + LATE_MS;
	failures += check(nvt_test_tcp_expect_closed(&silent_admin) == 0,
			  "silent host's admin queue closed");
	admin_ms = robust_now_ms() - t0;
	silent_io.timeout_ms = LATE_MS;
	failures += check(nvt_test_tcp_expect_closed(&silent_io) == 0,
			  "silent host's I/O queue closed");
	io_ms = robust_now_ms() - t0;
	fprintf(stderr, "silent host: admin queue closed after %lld ms, I/O queue after %lld ms\n",
		(long long)admin_ms, (long long)io_ms);
	failures += check(admin_ms >= KATO_MS && admin_ms <= KATO_MS + LATE_MS,
			  "torn down after KATO, not before");
	failures += check(keep_alive_for(&live_admin, 2 * KATO_MS) == 0,
			  "host with keep alive still served after 3 x KATO");
	failures += check(nvt_test_tcp_read(&live_io, 1, 1000, 1, ROBUST_BLK,
					    (uint8_t[ROBUST_BLK]){ 0 }) == 0,
			  "its I/O queue still served");
	failures += check(admin_qpairs(&t) == 2, "two controllers left");
	failures += check(robust_host_ios(&h) > ios_before, "verified host made progress");
	nvt_test_tcp_close(&live_io);
	nvt_test_tcp_close(&live_admin);
	nvt_test_tcp_close(&silent_io);
	nvt_test_tcp_close(&silent_admin);
	failures += check(robust_host_stop(&h) == 0, "verified host: no error");
	failures += check(robust_wait_idle(&t, 0, 5000) == 0, "buffers and connections all back");
	failures += check(robust_stop(&t) == 0, "nvtcpd exits cleanly");
	fprintf(stderr, "%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
