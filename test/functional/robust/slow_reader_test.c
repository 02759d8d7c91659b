/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A host that stops reading while it keeps asking for reads, against a
 * running nvtcpd with max_queued_send 256 KiB: the target stops taking its
 * commands at the cap (the read data it holds for it stays near the cap,
 * not the 15 MiB asked for), closes it when nothing could be sent for
 * send_timeout_ms, and gives every buffer back; a verified host is served
 * throughout.
 *
 * Usage: slow_reader_test <nvtcpd>
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "robust.h"
#include "test_rpc.h"

#define CAP	     (256u * 1024u)
#define SEND_TIMEOUT 1500
#define READ_SIZE    (128u * 1024u)
#define READS	     120
#define IO_UNIT	     8192u
#define SLOW_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000510e"
/*
 * Buffers in use at the most: the slow host's up to the cap and the read
 * that crossed it, plus the verified host's few and the group caches'
 * slack. Without the cap it would hold what the kernel does not take of
 * 15 MiB: over a thousand.
 */
#define HELD_MAX ((CAP + 2 * READ_SIZE) / IO_UNIT + 16)

static int
check(bool ok, const char *what)
{
	fprintf(stderr, "%s: %s\n", ok ? "ok" : "FAIL", what);
	return ok ? 0 : 1;
}

/* Read commands for \p n * 128 KiB whose data the host will never take. */
static int
send_reads(struct nvt_test_conn *io, int n)
{
	union nvt_nvme_sqe sqe;
	int i, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_READ, nvt_test_tcp_next_cid(io), 1,
				    (uint64_t)(i % 64) * (READ_SIZE / ROBUST_BLK),
				    READ_SIZE / ROBUST_BLK);
		nvt_test_tcp_sqe_sgl_transport(&sqe, READ_SIZE);
		rc = nvt_test_tcp_capsule_send(io, &sqe, NULL, 0, 0);
	}
	return rc;
}

struct capped {
	json_int_t pauses;
	json_int_t held; /* buffers in use at the most, while capped */
};

/* Watch the stats until the slow host is closed: what the cap did meanwhile. */
static json_int_t
watch_until_closed(struct robust_target *t, struct capped *c, int timeout_ms)
{
	int64_t end = robust_now_ms() + timeout_ms;
	json_int_t closed = 0, in_use;
	json_t *st;

	memset(c, 0, sizeof(*c));
	while (closed == 0 && robust_now_ms() < end) {
		st = robust_stats(t);
		c->pauses = nvt_test_stats_tcp_sum(st, "send_cap_pauses");
		in_use = nvt_test_stats_iobuf_sum(st, "in_use");
		closed = nvt_test_stats_tcp_sum(st, "send_timeouts");
		json_decref(st);
		c->held = in_use > c->held ? in_use : c->held;
		usleep(20 * 1000);
	}
	return closed;
}

int
main(int argc, char **argv)
{
	struct nvt_test_conn slow_admin, slow_io;
	struct robust_target t;
	struct robust_host h;
	struct capped c;
	uint64_t ios_before;
	int64_t t0, ms;
	json_int_t closed;
	int failures = 0, small = 4096;
	char what[160];

	if (argc < 2) {
		fprintf(stderr, "usage: %s <nvtcpd>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	nvt_test_tcp_init(&slow_admin);
	nvt_test_tcp_init(&slow_io);
	if (robust_start(&t, argv[1],
			 "\"max_queued_send\": 262144, \"send_timeout_ms\": 1500, "
			 "\"max_queue_depth\": 128") != 0) {
		return 1;
	}
	failures += check(robust_host_start(&h, &t, 0) == 0, "verified host connected");
	failures += check(robust_ctrl_open(&t, SLOW_HOSTNQN, 0, &slow_admin, &slow_io) == 0,
			  "slow host connected");
	/* A small receive buffer: what the host does not read stays on the target. */
	setsockopt(slow_io.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ios_before = robust_host_ios(&h);
	t0 = robust_now_ms();
	failures += check(send_reads(&slow_io, READS) == 0, "120 reads of 128 KiB sent, none read");
	closed = watch_until_closed(&t, &c, SEND_TIMEOUT + 10000);
	ms = robust_now_ms() - t0;
	snprintf(what, sizeof(what), "receive stopped at the cap (%lld pauses)",
		 (long long)c.pauses);
	failures += check(c.pauses >= 1, what);
	snprintf(what, sizeof(what), "buffers held stayed near the cap: %lld at most (limit %u)",
		 (long long)c.held, (unsigned)HELD_MAX);
	failures += check(c.held <= HELD_MAX, what);
	snprintf(what, sizeof(what), "slow host closed after %lld ms (send_timeout_ms %d)",
		 (long long)ms, SEND_TIMEOUT);
	failures += check(closed == 1 && ms >= SEND_TIMEOUT, what);
	failures +=
		check(robust_host_ios(&h) > ios_before, "verified host made progress meanwhile");
	/* Its admin queue behaved: it stays until the host closes it. */
	failures +=
		check(nvt_test_tcp_keep_alive(&slow_admin) == 0, "slow host's admin queue kept");
	nvt_test_tcp_close(&slow_io);
	nvt_test_tcp_close(&slow_admin);
	failures += check(robust_host_stop(&h) == 0, "verified host: no error");
	failures += check(robust_wait_idle(&t, 0, 5000) == 0, "buffers and connections all back");
	failures += check(robust_stop(&t) == 0, "nvtcpd exits cleanly");
	fprintf(stderr, "%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
