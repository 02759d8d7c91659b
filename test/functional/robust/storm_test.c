/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A storm of connections against a running nvtcpd: 1,000 and more opened
 * and dropped in waves of 100 while a verified host writes, reads back and
 * compares. Each connection of a wave ends its own way: half an ICReq; half
 * a Fabrics Connect; a controller with a write whose R2T is outstanding,
 * reset; an ICReq then a reset; a whole admin queue then an orderly close.
 * Afterwards: no error on the verified host, every connection gone, the
 * buffer pool full, nvtcpd's RSS within 5% of what it was after warm-up
 * waves, and a clean exit (no leak under ASan).
 *
 * Usage: storm_test <nvtcpd>
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robust.h"
#include "test_rpc.h"

/* Waves before RSS is taken: the allocator's caches and ASan's quarantine fill. */
#define WARM_WAVES    3
#define WAVES	      10
#define WAVE_SIZE     100
#define KINDS	      5
#define WRITE_SIZE    (64u * 1024u)
#define STORM_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000570a"

/* The connections of one slot of a wave: two for a controller (admin and I/O queue). */
struct slot {
	struct nvt_test_conn a, b;
};

struct storm {
	struct robust_target *t;
	uint64_t conns;	 /* TCP connections opened */
	uint64_t failed; /* steps that did not go as expected */
};

static int
check(bool ok, const char *what)
{
	fprintf(stderr, "%s: %s\n", ok ? "ok" : "FAIL", what);
	return ok ? 0 : 1;
}

static int
open_conn(struct storm *s, struct nvt_test_conn *c)
{
	s->conns++;
	return nvt_test_tcp_open(c, "127.0.0.1", (uint16_t)s->t->port);
}

/* The first \p n bytes of a PDU built in \p buf of \p len bytes. */
static int
send_prefix(struct nvt_test_conn *c, const void *buf, ssize_t len, size_t n)
{
	return len > (ssize_t)n ? nvt_test_tcp_send(c, buf, n) : -1;
}

static int
half_icreq(struct storm *s, struct slot *sl)
{
	struct nvt_nvme_tcp_ic_req req;

	nvt_test_tcp_icreq_init(&req, 0, false, false);
	if (open_conn(s, &sl->a) != 0) {
		return -1;
	}
	return send_prefix(&sl->a, &req, sizeof(req), sizeof(req) / 2);
}

static int
half_connect(struct storm *s, struct slot *sl)
{
	uint8_t data[1024] = { 0 }, pdu[1200];
	union nvt_nvme_sqe sqe;
	ssize_t len;

	if (open_conn(s, &sl->a) != 0 || nvt_test_tcp_icreq(&sl->a, 0, false, false) != 0) {
		return -1;
	}
	memset(&sqe, 0, sizeof(sqe));
	sqe.raw[0] = NVT_NVME_OPC_FABRICS;
	sqe.raw[4] = NVT_NVMF_FCTYPE_CONNECT;
	nvt_test_tcp_sqe_sgl_icd(&sqe, sizeof(data));
	len = nvt_test_tcp_capsule_build(&sl->a, &sqe, data, sizeof(data), 0, pdu, sizeof(pdu));
	return send_prefix(&sl->a, pdu, len, 100);
}

/* A controller, and a write on its I/O queue whose R2T arrives and is never answered. */
static int
r2t_outstanding(struct storm *s, struct slot *sl)
{
	union nvt_nvme_sqe sqe;
	struct nvt_test_pdu p;

	s->conns += 2;
	if (robust_ctrl_open(s->t, STORM_HOSTNQN, 0, &sl->a, &sl->b) != 0) {
		return -1;
	}
	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_WRITE, nvt_test_tcp_next_cid(&sl->b), 1, 4096,
			    WRITE_SIZE / ROBUST_BLK);
	nvt_test_tcp_sqe_sgl_transport(&sqe, WRITE_SIZE);
	if (nvt_test_tcp_capsule_send(&sl->b, &sqe, NULL, 0, 0) != 0 ||
	    nvt_test_tcp_recv_hdr(&sl->b, &p) != 0) {
		return -1;
	}
	return p.h.ch.type == NVT_NVME_TCP_PDU_R2T ? 0 : -1;
}

static int
icreq_only(struct storm *s, struct slot *sl)
{
	return open_conn(s, &sl->a) == 0 ? nvt_test_tcp_icreq(&sl->a, 0, false, false) : -1;
}

static int
admin_queue(struct storm *s, struct slot *sl)
{
	s->conns++;
	return robust_ctrl_open(s->t, STORM_HOSTNQN, 0, &sl->a, NULL);
}

/* Open slot \p i of a wave the way its kind says: 0 or -1. */
static int
slot_open(struct storm *s, struct slot *sl, int i)
{
	nvt_test_tcp_init(&sl->a);
	nvt_test_tcp_init(&sl->b);
	switch (i % KINDS) {
	case 0:
		return half_icreq(s, sl);
	case 1:
		return half_connect(s, sl);
	case 2:
		return r2t_outstanding(s, sl);
	case 3:
		return icreq_only(s, sl);
	default:
		return admin_queue(s, sl);
	}
}

/* Resets for the kinds that end so (R2T outstanding, after ICReq); orderly otherwise. */
static void
slot_close(struct slot *sl, int i)
{
	if (i % KINDS == 2 || i % KINDS == 3) {
		nvt_test_tcp_close_rst(&sl->b);
		nvt_test_tcp_close_rst(&sl->a);
	} else {
		nvt_test_tcp_close(&sl->b);
		nvt_test_tcp_close(&sl->a);
	}
}

static void
wave(struct storm *s, struct slot *slots)
{
	int i;

	for (i = 0; i < WAVE_SIZE; i++) {
		if (slot_open(s, &slots[i], i) != 0) {
			s->failed++;
		}
	}
	for (i = 0; i < WAVE_SIZE; i++) {
		slot_close(&slots[i], i);
	}
}

/*
 * Under AddressSanitizer, freed memory waits in a quarantine of up to 256 MiB
 * before it is reused, so RSS grows with every freed connection until that
 * fills: nvtcpd (which inherits the environment) runs without it, so that
 * what RSS shows is what nvtcpd keeps (ASan still checks every access to
 * memory that is free at the time). Measured so: within 1-4% here; the
 * release build stays within 0.1%.
 */
static void
asan_small_quarantine(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char opts[1024];

	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
		 old != NULL ? old : "", old != NULL && old[0] != '\0' ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

int
main(int argc, char **argv)
{
	static struct slot slots[WAVE_SIZE];
	struct storm s = { 0 };
	struct robust_target t;
	struct robust_host h;
	uint64_t ios_before;
	long rss_first, rss_end;
	int failures = 0, w;
	char what[160];

	if (argc < 2) {
		fprintf(stderr, "usage: %s <nvtcpd>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	asan_small_quarantine();
	/*
	 * A small buffer pool: its pages are faulted in as buffers are first
	 * used, so a large one would grow RSS for a while whatever else holds.
	 */
	if (robust_start(&t, argv[1], "\"num_shared_buffers\": 256, \"buf_cache_size\": 32") != 0) {
		return 1;
	}
	s.t = &t;
	failures += check(robust_host_start(&h, &t, 0) == 0, "verified host connected");
	for (w = 0; w < WARM_WAVES; w++) {
		wave(&s, slots);
	}
	failures += check(robust_wait_idle(&t, 2, 10000) == 0, "warm-up waves gone");
	rss_first = nvt_test_rss_kb(t.d.pid);
	ios_before = robust_host_ios(&h);
	s.conns = 0;
	for (w = 0; w < WAVES; w++) {
		wave(&s, slots);
	}
	snprintf(what, sizeof(what),
		 "%llu connections opened in %d waves, %llu did not go as planned",
		 (unsigned long long)s.conns, WAVES, (unsigned long long)s.failed);
	failures += check(s.conns >= 1000 && s.failed == 0, what);
	failures +=
		check(robust_host_ios(&h) > ios_before, "verified host made progress meanwhile");
	failures += check(robust_host_stop(&h) == 0, "verified host: no error");
	failures += check(robust_wait_idle(&t, 0, 10000) == 0, "every connection gone, pool full");
	rss_end = nvt_test_rss_kb(t.d.pid);
	snprintf(what, sizeof(what), "nvtcpd RSS %ld kB after the storm, %ld kB before", rss_end,
		 rss_first);
	failures += check(rss_first > 0 && rss_end > 0 && rss_end * 100 <= rss_first * 105, what);
	failures += check(robust_stop(&t) == 0, "nvtcpd exits cleanly");
	fprintf(stderr, "%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
