/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buffer-pool stress. Starts nvtcpd (path in argv[1]) with two poll groups
 * and a data buffer pool far smaller than connections x queue depth x I/O
 * size (64 buffers of 8 KiB, 8 cached per group: four 128 KiB I/Os fit at
 * once), then drives it from raw NVMe/TCP connections, each with QD 32 of
 * 128 KiB writes by R2T (and every fourth a 4 KiB in-capsule write), each
 * read back and verified. Checks that every I/O
 * completes and verifies, that every connection and both poll groups made
 * progress, that gets did wait for buffers (iobuf "waits" from
 * nvmf_get_stats over the RPC socket), and that nvtcpd's RSS stays flat
 * between a warm-up and the main run.
 *
 * Usage: bufpool_test <nvtcpd>
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/nvme_spec.h"
#include "nvtcp/nvme_tcp.h"

#include "test_daemon.h"
#include "test_rpc.h"
#include "test_tcp.h"
#include "test_util.h"

#define SUBNQN	  "nqn.2016-06.io.nvtcp:bufpool-test"
#define HOSTNQN	  "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000000b0"
#define BLK	  512
#define IO_SIZE	  (128u * 1024u)
#define IO_BLOCKS (IO_SIZE / BLK)
/* Every ICD_EVERY-th slot writes ICD_SIZE bytes in the capsule (one buffer each). */
#define ICD_EVERY 4
#define ICD_SIZE  4096u
#ifndef NUM_CONNS
#define NUM_CONNS 8
#endif
#ifndef QD
#define QD 32
#endif
#define NS_BLOCKS  ((uint64_t)NUM_CONNS * QD * IO_BLOCKS)
#define WARM_ITERS 2
#define MAIN_ITERS 40
/* RSS may grow by this much between the warm-up and the end of the main run. */
#define RSS_SLACK_KB (4 * 1024)
/* The longest wait for a PDU: the pool is dry much of the time. */
#define TIMEOUT_MS 30000

static int g_port;
static struct nvt_test_daemon g_daemon;
static char g_dir[PATH_MAX];
/* As long as a Unix socket's path may be (sun_path). */
static char g_rpc_path[108];

/* ---- one queue: PDUs in and out ---- */

enum slot_phase {
	SLOT_WRITE, /* write sent, waiting for R2T or response */
	SLOT_READ,  /* read sent, waiting for data and response */
	SLOT_DONE,
};

struct slot {
	enum slot_phase phase;
	uint32_t iter;
	uint64_t lba;
	uint8_t *wbuf;
	uint8_t *rbuf;
	uint32_t rgot;
	uint32_t size; /* bytes per I/O of this slot */
};

struct conn {
	struct nvt_test_conn io;    /* the I/O queue */
	struct nvt_test_conn admin; /* the admin queue, open for the whole test */
	int index;
	uint32_t iters;
	uint64_t completed; /* I/Os completed and verified */
	uint32_t inflight;
	char error[160];
	struct slot slots[QD];
};

/* ---- the pipelined write / read-back loop of one I/O queue ---- */

static uint64_t
pattern_word(const struct conn *c, uint32_t slot, uint32_t iter, uint32_t i)
{
	return ((uint64_t)c->index << 56) | ((uint64_t)slot << 48) | ((uint64_t)iter << 24) | i;
}

static void
fill_pattern(struct conn *c, uint32_t s)
{
	uint64_t *w = (uint64_t *)c->slots[s].wbuf;
	uint32_t i;

	for (i = 0; i < c->slots[s].size / 8; i++) {
		w[i] = pattern_word(c, s, c->slots[s].iter, i);
	}
}

static int
submit(struct conn *c, uint32_t s, uint8_t opc)
{
	struct slot *sl = &c->slots[s];
	union nvt_nvme_sqe sqe;

	/* cid: slot and phase, so a stale answer is recognised. */
	nvt_test_tcp_sqe_rw(&sqe, opc, (uint16_t)(s * 2 + (opc == NVT_NVME_OPC_READ)), 1, sl->lba,
			    sl->size / BLK);
	sl->phase = opc == NVT_NVME_OPC_READ ? SLOT_READ : SLOT_WRITE;
	sl->rgot = 0;
	c->inflight++;
	if (opc == NVT_NVME_OPC_WRITE && sl->size <= ICD_SIZE) {
		/* In the capsule: with the pool dry the target stops reading meanwhile. */
		nvt_test_tcp_sqe_sgl_icd(&sqe, sl->size);
		return nvt_test_tcp_capsule_send(&c->io, &sqe, sl->wbuf, sl->size, 0);
	}
	nvt_test_tcp_sqe_sgl_transport(&sqe, sl->size);
	return nvt_test_tcp_capsule_send(&c->io, &sqe, NULL, 0, 0);
}

static int
conn_fail(struct conn *c, const char *what, uint32_t a, uint32_t b)
{
	snprintf(c->error, sizeof(c->error), "conn %d: %s (%u, %u)", c->index, what, a, b);
	return -1;
}

static int
on_r2t(struct conn *c, const struct nvt_nvme_tcp_r2t *r2t)
{
	uint32_t s = r2t->cccid / 2;

	if (s >= QD || c->slots[s].phase != SLOT_WRITE ||
	    r2t->r2to + r2t->r2tl > c->slots[s].size) {
		return conn_fail(c, "unexpected R2T", r2t->cccid, r2t->r2tl);
	}
	if (nvt_test_tcp_h2c_send(&c->io, r2t, c->slots[s].wbuf, c->slots[s].size) != 0) {
		return conn_fail(c, "send H2CData", s, 0);
	}
	return 0;
}

/* A read of slot \p s is complete: verify and start the next write (or stop). */
static int
read_done(struct conn *c, uint32_t s)
{
	struct slot *sl = &c->slots[s];

	c->inflight--;
	if (sl->rgot != sl->size || memcmp(sl->rbuf, sl->wbuf, sl->size) != 0) {
		return conn_fail(c, "read-back mismatch at slot/iter", s, sl->iter);
	}
	c->completed++;
	if (++sl->iter == c->iters) {
		sl->phase = SLOT_DONE;
		return 0;
	}
	fill_pattern(c, s);
	return submit(c, s, NVT_NVME_OPC_WRITE);
}

static int
on_c2h(struct conn *c, const struct nvt_test_pdu *p)
{
	const struct nvt_nvme_tcp_c2h_data *c2h = &p->h.c2h_data;
	uint32_t s = c2h->cccid / 2;
	struct slot *sl = &c->slots[s];

	if (s >= QD || sl->phase != SLOT_READ || c2h->datao + c2h->datal > sl->size) {
		return conn_fail(c, "unexpected C2HData", c2h->cccid, c2h->datal);
	}
	if (nvt_test_tcp_recv_data(&c->io, p, sl->rbuf + c2h->datao) != 0) {
		return conn_fail(c, "recv C2H data", s, 0);
	}
	sl->rgot += c2h->datal;
	if (c2h->ch.flags & NVT_NVME_TCP_F_SUCCESS) {
		return read_done(c, s);
	}
	return 0;
}

static int
on_rsp(struct conn *c, const struct nvt_nvme_cpl *cpl)
{
	uint32_t s = cpl->cid / 2;

	if (s >= QD || (cpl->status & 0xfffe) != 0) {
		return conn_fail(c, "command failed: cid/status", cpl->cid, cpl->status);
	}
	if (c->slots[s].phase == SLOT_WRITE && cpl->cid % 2 == 0) {
		c->inflight--;
		return submit(c, s, NVT_NVME_OPC_READ);
	}
	if (c->slots[s].phase == SLOT_READ && cpl->cid % 2 == 1) {
		return read_done(c, s);
	}
	return conn_fail(c, "unexpected response", cpl->cid, c->slots[s].phase);
}

static int
conn_step(struct conn *c)
{
	struct nvt_test_pdu p;

	if (nvt_test_tcp_recv_hdr(&c->io, &p) != 0) {
		return conn_fail(c, "receive failed or timed out, in flight/completed", c->inflight,
				 (uint32_t)c->completed);
	}
	switch (p.h.ch.type) {
	case NVT_NVME_TCP_PDU_R2T:
		return on_r2t(c, &p.h.r2t);
	case NVT_NVME_TCP_PDU_C2H_DATA:
		return on_c2h(c, &p);
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
		return on_rsp(c, &p.h.capsule_resp.cqe);
	default:
		return conn_fail(c, "unexpected PDU type", p.h.ch.type, 0);
	}
}

static void *
conn_run(void *arg)
{
	struct conn *c = arg;
	uint32_t s;

	for (s = 0; s < QD; s++) {
		c->slots[s].iter = 0;
		fill_pattern(c, s);
		if (submit(c, s, NVT_NVME_OPC_WRITE) != 0) {
			conn_fail(c, "submit", s, 0);
			return NULL;
		}
	}
	while (c->inflight > 0) {
		if (conn_step(c) != 0) {
			return NULL;
		}
	}
	return NULL;
}

/* ---- daemon, RPC and /proc ---- */

static const char *g_config =
	"{ \"subsystems\": [\n"
	"%s"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc0\",\n"
	"      \"num_blocks\": %llu, \"block_size\": %d } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\",\n"
	"      \"io_unit_size\": 8192, \"max_io_size\": 131072, \"num_shared_buffers\": 64,\n"
	"      \"buf_cache_size\": 8, \"in_capsule_data_size\": 4096 } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"allow_any_host\": true } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc0\", \"nsid\": 1 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

/* nvtcpd on a configuration of its own in a temporary directory, listening. */
static int
daemon_start(const char *nvtcpd)
{
	char *extra[] = { "-m", "0x3", "-r", g_rpc_path, NULL };
	const char *sock = nvt_test_sock_config();
	char text[4096];
	int rc;

	if (sock == NULL) {
		fprintf(stderr, "FAIL: NVT_TEST_SOCK_IMPL names no socket implementation\n");
		return -EINVAL;
	}
	snprintf(text, sizeof(text), g_config, sock, (unsigned long long)NS_BLOCKS, BLK, SUBNQN,
		 SUBNQN, SUBNQN, g_port);
	rc = nvt_test_tmpdir_create(g_dir, sizeof(g_dir), "/tmp", "nvtcp-bufpool-test");
	if (rc == 0) {
		rc = nvt_test_path(g_rpc_path, sizeof(g_rpc_path), g_dir, "rpc.sock");
	}
	return rc == 0 ? nvt_test_daemon_start_config(&g_daemon, nvtcpd, g_dir, text, extra) : rc;
}

struct group_stats {
	json_int_t waits;
	json_int_t completed;
	json_int_t io_qpairs;
	json_int_t in_use;
	json_int_t rx_pauses;
};

static int
get_group_stats(struct group_stats *gs, int max)
{
	json_t *res = nvt_test_rpc_call(g_rpc_path, "nvmf_get_stats", NULL), *groups, *g, *t;
	size_t i, j;
	int n = 0;

	groups = json_object_get(res, "poll_groups");
	json_array_foreach(groups, i, g)
	{
		if (n == max) {
			break;
		}
		memset(&gs[n], 0, sizeof(gs[n]));
		gs[n].completed = json_integer_value(json_object_get(g, "completed_requests"));
		gs[n].io_qpairs = json_integer_value(json_object_get(g, "current_io_qpairs"));
		json_array_foreach(json_object_get(g, "transports"), j, t)
		{
			json_t *io = json_object_get(t, "iobuf");

			gs[n].waits += json_integer_value(json_object_get(io, "waits"));
			gs[n].in_use += json_integer_value(json_object_get(io, "in_use"));
			gs[n].rx_pauses += json_integer_value(json_object_get(t, "rx_pauses"));
		}
		n++;
	}
	json_decref(res);
	return n;
}

/* ---- the test ---- */

/* One queue of \p c: TCP, ICReq (MAXH2CDATA must take a whole I/O), Fabrics Connect. */
static int
queue_open(struct conn *c, struct nvt_test_conn *q, uint16_t qid, uint16_t sqsize)
{
	struct nvt_test_connect_opts o = {
		.subnqn = SUBNQN,
		.hostnqn = HOSTNQN,
		.qid = qid,
		.sqsize = sqsize,
		.kato_ms = qid ? 0 : 120000,
		.cntlid = c->admin.cntlid,
	};

	if (nvt_test_tcp_open(q, "127.0.0.1", (uint16_t)g_port) != 0 ||
	    nvt_test_tcp_icreq(q, 0, false, false) != 0 || q->maxh2cdata < IO_SIZE) {
		return -1;
	}
	return nvt_test_tcp_fabrics_connect(q, &o);
}

static int
conns_open(struct conn *c)
{
	int i;

	/* Admin queues first, then I/O queues: the I/O queues spread over both groups. */
	for (i = 0; i < NUM_CONNS; i++) {
		if (queue_open(&c[i], &c[i].admin, 0, 31) != 0 ||
		    nvt_test_tcp_enable_ctrlr(&c[i].admin) != 0) {
			fprintf(stderr, "conn %d: admin queue failed\n", i);
			return -1;
		}
	}
	for (i = 0; i < NUM_CONNS; i++) {
		if (queue_open(&c[i], &c[i].io, 1, 2 * QD - 1) != 0) {
			fprintf(stderr, "conn %d: I/O queue failed\n", i);
			return -1;
		}
	}
	return 0;
}

static int
run_round(struct conn *c, uint32_t iters, const char *name)
{
	pthread_t th[NUM_CONNS];
	struct timespec t0, t1;
	uint64_t before[NUM_CONNS];
	int i, failures = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NUM_CONNS; i++) {
		before[i] = c[i].completed;
		c[i].iters = iters;
		pthread_create(&th[i], NULL, conn_run, &c[i]);
	}
	for (i = 0; i < NUM_CONNS; i++) {
		pthread_join(th[i], NULL);
		if (c[i].error[0] != '\0') {
			fprintf(stderr, "FAIL %s: %s\n", name, c[i].error);
			failures++;
		} else if (c[i].completed - before[i] != (uint64_t)iters * QD) {
			fprintf(stderr, "FAIL %s: conn %d completed %llu of %u I/Os\n", name, i,
				(unsigned long long)(c[i].completed - before[i]), iters * QD);
			failures++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
		"%s: %d connections x QD %d x %u rounds of 128 KiB write + verify: %.2f s\n", name,
		NUM_CONNS, QD, iters,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return failures;
}

static int
check_stats(const struct group_stats *gs, int n)
{
	json_int_t waits = 0;
	int i, failures = 0;

	if (n < 2) {
		fprintf(stderr, "FAIL nvmf_get_stats: %d poll groups, expected 2\n", n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		fprintf(stderr,
			"poll group %d: io qpairs %lld, completed %lld, iobuf waits %lld, in use %lld, "
			"rx pauses %lld\n",
			i, (long long)gs[i].io_qpairs, (long long)gs[i].completed,
			(long long)gs[i].waits, (long long)gs[i].in_use,
			(long long)gs[i].rx_pauses);
		waits += gs[i].waits;
		if (gs[i].io_qpairs == 0 || gs[i].completed < (json_int_t)QD * MAIN_ITERS) {
			fprintf(stderr, "FAIL poll group %d did not serve I/O\n", i);
			failures++;
		}
		if (gs[i].in_use != 0) {
			fprintf(stderr, "FAIL poll group %d still holds buffers when idle\n", i);
			failures++;
		}
	}
	if (waits == 0) {
		fprintf(stderr, "FAIL no iobuf get ever waited: the pool was not exhausted\n");
		failures++;
	}
	return failures;
}

int
main(int argc, char **argv)
{
	static struct conn conns[NUM_CONNS];
	struct group_stats gs[8];
	long rss_warm, rss_end;
	int i, s, n, failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <nvtcpd>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	g_port = nvt_test_free_port();
	for (i = 0; i < NUM_CONNS; i++) {
		conns[i].index = i;
		nvt_test_tcp_init(&conns[i].admin);
		nvt_test_tcp_init(&conns[i].io);
		conns[i].admin.timeout_ms = TIMEOUT_MS;
		conns[i].io.timeout_ms = TIMEOUT_MS;
		for (s = 0; s < QD; s++) {
			conns[i].slots[s].lba = ((uint64_t)i * QD + (uint64_t)s) * IO_BLOCKS;
			conns[i].slots[s].size =
				s % ICD_EVERY == ICD_EVERY - 1 ? ICD_SIZE : IO_SIZE;
			conns[i].slots[s].wbuf = malloc(IO_SIZE);
			conns[i].slots[s].rbuf = malloc(IO_SIZE);
		}
	}
	if (g_port < 0 || daemon_start(argv[1]) != 0) {
		fprintf(stderr, "nvtcpd did not start listening on port %d\n", g_port);
		nvt_test_tmpdir_remove(g_dir);
		return 1;
	}
	if (conns_open(conns) != 0) {
		failures++;
		goto out;
	}
	if (nvt_test_daemon_check_sock(&g_daemon) != 0) {
		fprintf(stderr, "FAIL: nvtcpd does not use the socket implementation asked for\n");
		failures++;
	}
	failures += run_round(conns, WARM_ITERS, "warm-up");
	rss_warm = nvt_test_rss_kb(g_daemon.pid);
	failures += run_round(conns, MAIN_ITERS, "main");
	rss_end = nvt_test_rss_kb(g_daemon.pid);
	fprintf(stderr, "nvtcpd VmRSS: %ld kB after warm-up, %ld kB after the main run\n", rss_warm,
		rss_end);
	if (rss_warm < 0 || rss_end < 0 || rss_end - rss_warm > RSS_SLACK_KB) {
		fprintf(stderr, "FAIL RSS grew by more than %d kB\n", RSS_SLACK_KB);
		failures++;
	}
	n = get_group_stats(gs, 8);
	failures += check_stats(gs, n);
	if (!nvt_test_daemon_alive(&g_daemon)) {
		fprintf(stderr, "FAIL nvtcpd died\n");
		failures++;
	}
out:
	for (i = 0; i < NUM_CONNS; i++) {
		nvt_test_tcp_close(&conns[i].io);
		nvt_test_tcp_close(&conns[i].admin);
	}
	if (nvt_test_daemon_stop(&g_daemon) != 0) {
		fprintf(stderr, "FAIL nvtcpd did not exit with status 0 on SIGTERM\n");
		failures++;
	}
	nvt_test_tmpdir_remove(g_dir);
	fprintf(stderr, "%s: %d failure(s)\n", argv[0], failures);
	return failures ? 1 : 0;
}
