/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The limits against misbehaving hosts, each against a running nvtcpd:
 * a connection that never sends ICReq, or stops half way through a PDU, is
 * closed after connect_timeout_ms / pdu_timeout_ms (and one that behaves is
 * not), as is one that never sends the data of a write's R2T; connections over max_connections_per_host and max_connections are
 * closed as they arrive. Each is counted in nvmf_get_stats, and the buffer
 * pool is full again at the end.
 *
 * Usage: limits_test <nvtcpd>
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "robust.h"
#include "test_rpc.h"

#define TIMEOUT_MS 500
/* What a deadline may take beyond its timeout here: the poller's period, a loaded machine. */
#define LATE_MS 2500

static int
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL: %s\n", what);
		return 1;
	}
	fprintf(stderr, "ok: %s\n", what);
	return 0;
}

/* A TCP counter of nvmf_get_stats: summed over poll groups, or the transport's own. */
static json_int_t
tcp_stat(struct robust_target *t, const char *field, bool per_group)
{
	json_t *st = robust_stats(t);
	json_int_t v =
		per_group ? nvt_test_stats_tcp_sum(st, field) : nvt_test_stats_transport(st, field);

	json_decref(st);
	return v;
}

/* Wait until nvtcpd closes \p c; the milliseconds it took, or -1. */
static int64_t
closed_after(struct nvt_test_conn *c, int64_t t0)
{
	c->timeout_ms = TIMEOUT_MS + LATE_MS;
	if (nvt_test_tcp_expect_closed(c) != 0) {
		return -1;
	}
	return robust_now_ms() - t0;
}

/* No ICReq: closed after connect_timeout_ms; a connection that connected in time stays. */
static int
test_connect_timeout(struct robust_target *t)
{
	struct nvt_test_conn silent, good_admin;
	int64_t t0, ms;
	int failures = 0;

	nvt_test_tcp_init(&silent);
	nvt_test_tcp_init(&good_admin);
	t0 = robust_now_ms();
	failures += check(nvt_test_tcp_open(&silent, "127.0.0.1", (uint16_t)t->port) == 0,
			  "silent connection opened");
	failures += check(robust_ctrl_open(t, ROBUST_HOSTNQN, 0, &good_admin, NULL) == 0,
			  "a host that connects in time");
	ms = closed_after(&silent, t0);
	fprintf(stderr, "connection without ICReq closed after %lld ms\n", (long long)ms);
	failures += check(ms >= TIMEOUT_MS - 50 && ms <= TIMEOUT_MS + LATE_MS,
			  "closed after connect_timeout_ms, not before");
	failures += check(tcp_stat(t, "connect_timeouts", true) == 1, "connect_timeouts counts 1");
	/* Past its own deadline, the connected host is still served. */
	failures += check(nvt_test_tcp_keep_alive(&good_admin) == 0,
			  "the connected host is served after the deadline");
	nvt_test_tcp_close(&silent);
	nvt_test_tcp_close(&good_admin);
	return failures;
}

/* Half a command capsule, then nothing: closed after pdu_timeout_ms. */
static int
test_pdu_timeout(struct robust_target *t)
{
	struct nvt_test_conn admin;
	union nvt_nvme_sqe sqe;
	uint8_t pdu[256];
	ssize_t len;
	int64_t t0, ms;
	int failures = 0;

	nvt_test_tcp_init(&admin);
	failures += check(robust_ctrl_open(t, ROBUST_HOSTNQN, 0, &admin, NULL) == 0,
			  "admin queue for the partial PDU");
	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_KEEP_ALIVE;
	sqe.cmd.cid = nvt_test_tcp_next_cid(&admin);
	len = nvt_test_tcp_capsule_build(&admin, &sqe, NULL, 0, 0, pdu, sizeof(pdu));
	failures += check(len > 40 && nvt_test_tcp_send(&admin, pdu, 40) == 0,
			  "40 bytes of a 72-byte capsule sent");
	t0 = robust_now_ms();
	ms = closed_after(&admin, t0);
	fprintf(stderr, "connection with half a PDU closed after %lld ms\n", (long long)ms);
	failures += check(ms >= TIMEOUT_MS - 50 && ms <= TIMEOUT_MS + LATE_MS,
			  "closed after pdu_timeout_ms, not before");
	failures += check(tcp_stat(t, "pdu_timeouts", true) == 1, "pdu_timeouts counts 1");
	nvt_test_tcp_close(&admin);
	return failures;
}

/* A write whose R2T is never answered: closed after pdu_timeout_ms, its buffers back. */
static int
test_r2t_unanswered(struct robust_target *t)
{
	struct nvt_test_conn admin, io;
	union nvt_nvme_sqe sqe;
	struct nvt_test_pdu p;
	int64_t t0, ms;
	int failures = 0;

	nvt_test_tcp_init(&admin);
	nvt_test_tcp_init(&io);
	failures += check(robust_ctrl_open(t, ROBUST_HOSTNQN, 0, &admin, &io) == 0,
			  "controller for the unanswered R2T");
	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_WRITE, nvt_test_tcp_next_cid(&io), 1, 0, 128);
	nvt_test_tcp_sqe_sgl_transport(&sqe, 128 * ROBUST_BLK);
	failures += check(nvt_test_tcp_capsule_send(&io, &sqe, NULL, 0, 0) == 0 &&
				  nvt_test_tcp_recv_hdr(&io, &p) == 0 &&
				  p.h.ch.type == NVT_NVME_TCP_PDU_R2T,
			  "write sent, R2T received");
	t0 = robust_now_ms();
	/* Commands on the same queue do not excuse the missing data. */
	failures += check(nvt_test_tcp_keep_alive(&admin) == 0, "admin queue still answers");
	ms = closed_after(&io, t0);
	fprintf(stderr, "I/O queue with an unanswered R2T closed after %lld ms\n", (long long)ms);
	failures += check(ms >= TIMEOUT_MS - 50 && ms <= TIMEOUT_MS + LATE_MS,
			  "closed after pdu_timeout_ms, not before");
	failures += check(tcp_stat(t, "pdu_timeouts", true) == 2, "pdu_timeouts counts it");
	nvt_test_tcp_close(&io);
	nvt_test_tcp_close(&admin);
	return failures;
}

/* \p n connections with their ICReq answered (or not): how many were answered. */
static int
open_many(struct robust_target *t, struct nvt_test_conn *c, int n)
{
	int i, answered = 0;

	for (i = 0; i < n; i++) {
		nvt_test_tcp_init(&c[i]);
		if (nvt_test_tcp_open(&c[i], "127.0.0.1", (uint16_t)t->port) == 0 &&
		    nvt_test_tcp_icreq(&c[i], 0, false, false) == 0) {
			answered++;
		}
	}
	return answered;
}

static void
close_many(struct nvt_test_conn *c, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		nvt_test_tcp_close(&c[i]);
	}
}

static int
test_count_limit(const char *nvtcpd, const char *opts, const char *counter)
{
	struct robust_target t;
	struct nvt_test_conn c[6];
	int failures = 0, answered;
	char what[128];

	if (robust_start(&t, nvtcpd, opts) != 0) {
		return 1;
	}
	answered = open_many(&t, c, 6);
	snprintf(what, sizeof(what), "%s: 4 of 6 connections served (%d)", opts, answered);
	failures += check(answered == 4, what);
	snprintf(what, sizeof(what), "%s counts the 2 refused", counter);
	failures += check(tcp_stat(&t, counter, false) == 2, what);
	close_many(c, 6);
	/* Room again once they are gone. */
	failures += check(robust_wait_idle(&t, 0, 5000) == 0, "all connections gone");
	answered = open_many(&t, c, 1);
	failures += check(answered == 1, "a new connection is served again");
	close_many(c, 1);
	failures += check(robust_stop(&t) == 0, "nvtcpd exits cleanly");
	return failures;
}

int
main(int argc, char **argv)
{
	struct robust_target t;
	int failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <nvtcpd>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (robust_start(&t, argv[1], "\"connect_timeout_ms\": 500, \"pdu_timeout_ms\": 500") !=
	    0) {
		return 1;
	}
	failures += test_connect_timeout(&t);
	failures += test_pdu_timeout(&t);
	failures += test_r2t_unanswered(&t);
	failures += check(robust_wait_idle(&t, 0, 5000) == 0, "buffers and connections all back");
	failures += check(robust_stop(&t) == 0, "nvtcpd exits cleanly");
	failures += test_count_limit(argv[1], "\"max_connections_per_host\": 4",
				     "refused_max_connections_per_host");
	failures += test_count_limit(argv[1], "\"max_connections\": 4", "refused_max_connections");
	fprintf(stderr, "%s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
