/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split I/O of the host library against a real target. Starts nvtcpd (path in
 * argv[1]) with a 16 KiB MDTS (max_io_size), 8 KiB in-capsule data and a 64
 * MiB RAM namespace, connects an I/O queue of depth 4 and checks, once without
 * and once with header and data digests:
 *
 * - readv/writev over scatter lists of odd, uneven segments (and an empty one)
 *   split into MDTS-sized children, read back through other segmentations;
 * - small writes in the capsule only when the data has few segments;
 * - more children than the queue has command ids: children wait in order,
 *   a depth+1-th I/O gets -EAGAIN;
 * - Write Zeroes above 65536 blocks is split in two commands;
 * - a child failing (LBA out of range) fails its I/O once, with that status,
 *   and stops the children not yet sent;
 * - flush and Dataset Management are one command each;
 * - argument errors; disconnect with I/Os waiting completes them all.
 *
 * Usage: split_test <nvtcpd>. Exit 0 pass, 1 fail.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/event.h"
#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"

#include "test_daemon.h"
#include "test_util.h"

#define SUBNQN	   "nqn.2016-06.io.nvtcp:split-test"
#define BLK	   512u
#define NS_BLOCKS  131072u
#define MDTS	   16384u
#define DEPTH	   4u
#define BUF_SIZE   (1024u * 1024u)
#define MAX_IOVS   1024
#define MAX_OPS	   16
#define WZ_BLOCKS  70000u
#define NUM_PASSES 2

static const char g_config[] =
	"{ \"subsystems\": [\n"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc0\",\n"
	"      \"num_blocks\": %u, \"block_size\": %u } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\",\n"
	"      \"max_io_size\": %u, \"io_unit_size\": 8192, \"in_capsule_data_size\": 8192 } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"allow_any_host\": true } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc0\", \"nsid\": 1 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"%s\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

/* One I/O of a step: how often its callback ran and with what status. */
struct op {
	uint32_t calls;
	uint16_t status;
};

struct step {
	const char *name;
	void (*submit)(void);
	void (*check)(void);
};

static int g_port;
static struct nvt_test_daemon g_daemon;
static char g_dir[PATH_MAX];
static uint32_t g_failures;
static uint32_t g_pass;
static uint32_t g_step;
static uint32_t g_pending;
static uint32_t g_submitted;
static struct op g_ops[MAX_OPS];
static struct nvt_nvme_ctrlr *g_ctrlr;
static struct nvt_nvme_poll_group *g_group;
static struct nvt_nvme_qpair *g_qpair;
static struct nvt_nvme_qpair_stats g_stats0;
static uint8_t *g_wbuf;
static uint8_t *g_rbuf;
static struct iovec g_wiov[MAX_IOVS];
static struct iovec g_riov[MAX_IOVS];
static uint32_t g_wiovcnt;
static uint32_t g_riovcnt;
static struct nvt_nvme_dsm_range g_ranges[2];

static const struct step *current_step(void);
static void pass_start(void);
static void step_check_msg(void *arg);

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL pass %u step '%s' line %d: %s\n", g_pass, \
				current_step()->name, __LINE__, #cond);                 \
			g_failures++;                                                   \
		}                                                                       \
	} while (0)

/* ---- helpers ---- */

/* Split [base, base + total) into segments of 1..maxseg bytes, one of them empty. */
static uint32_t
make_iov(struct iovec *iov, uint8_t *base, uint32_t total, uint32_t maxseg, uint32_t seed)
{
	uint32_t n = 0, off = 0, len;

	while (off < total && n < MAX_IOVS - 2) {
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 8) % maxseg;
		if (len > total - off) {
			len = total - off;
		}
		iov[n].iov_base = base + off;
		iov[n++].iov_len = len;
		off += len;
		if (n == 3) {
			iov[n].iov_base = base + off;
			iov[n++].iov_len = 0;
		}
	}
	/* A list longer than the I/O is fine: only its first bytes are used. */
	iov[n].iov_base = base + off;
	iov[n++].iov_len = 100;
	return n;
}

static void
io_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct op *op = arg;

	op->calls++;
	op->status = cpl->status;
	/* From a message: the check may run while the step is still submitting. */
	if (--g_pending == 0) {
		nvt_thread_send_msg(nvt_get_thread(), step_check_msg, NULL);
	}
}

static void
submitted(int rc)
{
	CHECK(rc == 0);
	if (rc == 0) {
		g_pending++;
		g_submitted++;
	}
}

static uint64_t
stat_delta_submitted(void)
{
	struct nvt_nvme_qpair_stats s;

	nvt_nvme_qpair_get_stats(g_qpair, &s);
	return s.submitted - g_stats0.submitted;
}

static void
ops_check_ok(uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		CHECK(g_ops[i].calls == 1);
		CHECK(g_ops[i].status == 0);
	}
}

/* ---- steps ---- */

static void
limits_submit(void)
{
	CHECK(nvt_nvme_ctrlr_get_max_xfer_size(g_ctrlr) == MDTS);
	CHECK(nvt_nvme_ctrlr_get_ns_max_io_blocks(g_ctrlr, 1) == MDTS / BLK);
	CHECK(nvt_nvme_ctrlr_get_ns_max_io_blocks(g_ctrlr, 99) == 0);
	CHECK(nvt_nvme_ctrlr_get_max_write_zeroes_size(g_ctrlr) == UINT32_MAX);
}

/* 601 blocks: 18 children of 32 blocks and one of 25, from ~200 odd segments. */
static void
writev_submit(void)
{
	g_wiovcnt = make_iov(g_wiov, g_wbuf, 601 * BLK, 3000, 7 + g_pass);
	submitted(nvt_nvme_ns_cmd_writev(g_qpair, 1, g_wiov, g_wiovcnt, 1000, 601, io_done,
					 &g_ops[0]));
}

static void
writev_check(void)
{
	struct nvt_nvme_qpair_stats s;

	ops_check_ok(1);
	CHECK(stat_delta_submitted() == 19);
	nvt_nvme_qpair_get_stats(g_qpair, &s);
	CHECK(s.split_ios - g_stats0.split_ios == 1);
}

static void
readv_submit(void)
{
	memset(g_rbuf, 0xee, BUF_SIZE);
	g_riovcnt = make_iov(g_riov, g_rbuf, 601 * BLK, 700, 99 + g_pass);
	submitted(nvt_nvme_ns_cmd_readv(g_qpair, 1, g_riov, g_riovcnt, 1000, 601, io_done,
					&g_ops[0]));
}

static void
readv_check(void)
{
	ops_check_ok(1);
	CHECK(memcmp(g_rbuf, g_wbuf, 601 * BLK) == 0);
	CHECK(g_rbuf[601 * BLK] == 0xee);
}

static void
read_contig_submit(void)
{
	memset(g_rbuf, 0, BUF_SIZE);
	submitted(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf + 3, 1000, 601, io_done, &g_ops[0]));
}

static void
read_contig_check(void)
{
	ops_check_ok(1);
	CHECK(memcmp(g_rbuf + 3, g_wbuf, 601 * BLK) == 0);
}

/* 4 KiB in 20 segments cannot go in the capsule; in 2 segments it does. */
static void
icd_submit(void)
{
	g_wiovcnt = make_iov(g_wiov, g_wbuf + 8192, 4096, 210, 3);
	CHECK(g_wiovcnt > 17);
	submitted(
		nvt_nvme_ns_cmd_writev(g_qpair, 1, g_wiov, g_wiovcnt, 5000, 8, io_done, &g_ops[0]));
	g_riov[0] = (struct iovec){ .iov_base = g_wbuf + 12288, .iov_len = 1000 };
	g_riov[1] = (struct iovec){ .iov_base = g_wbuf + 13288, .iov_len = 3096 };
	submitted(nvt_nvme_ns_cmd_writev(g_qpair, 1, g_riov, 2, 5008, 8, io_done, &g_ops[1]));
}

static void
icd_check(void)
{
	struct nvt_nvme_qpair_stats s;

	ops_check_ok(2);
	nvt_nvme_qpair_get_stats(g_qpair, &s);
	CHECK(s.icd_writes - g_stats0.icd_writes == 1);
	CHECK(s.r2ts - g_stats0.r2ts == 1);
}

static void
icd_read_submit(void)
{
	memset(g_rbuf, 0, BUF_SIZE);
	submitted(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf, 5000, 16, io_done, &g_ops[0]));
}

static void
icd_read_check(void)
{
	ops_check_ok(1);
	CHECK(memcmp(g_rbuf, g_wbuf + 8192, 8192) == 0);
}

/* DEPTH writes of 4 children each on a queue of DEPTH command ids. */
static void
depth_submit(void)
{
	uint32_t i;

	for (i = 0; i < DEPTH; i++) {
		submitted(nvt_nvme_ns_cmd_write(g_qpair, 1, g_wbuf + i * 100 * BLK, 10000 + i * 100,
						100, io_done, &g_ops[i]));
	}
	CHECK(nvt_nvme_qpair_get_outstanding(g_qpair) == DEPTH);
	CHECK(nvt_nvme_ns_cmd_write(g_qpair, 1, g_wbuf, 20000, 1, io_done, &g_ops[DEPTH]) ==
	      -EAGAIN);
}

static void
depth_check(void)
{
	struct nvt_nvme_qpair_stats s;

	ops_check_ok(DEPTH);
	CHECK(g_ops[DEPTH].calls == 0);
	nvt_nvme_qpair_get_stats(g_qpair, &s);
	CHECK(s.queued_ios - g_stats0.queued_ios >= DEPTH - 1);
	CHECK(stat_delta_submitted() == DEPTH * 4);
}

static void
depth_read_submit(void)
{
	memset(g_rbuf, 0, BUF_SIZE);
	submitted(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf, 10000, DEPTH * 100, io_done, &g_ops[0]));
}

static void
depth_read_check(void)
{
	ops_check_ok(1);
	CHECK(memcmp(g_rbuf, g_wbuf, DEPTH * 100 * BLK) == 0);
}

static void
wz_mark_submit(void)
{
	static const uint64_t lba[3] = { 65535, 65536, WZ_BLOCKS };
	uint32_t i;

	for (i = 0; i < 3; i++) {
		submitted(nvt_nvme_ns_cmd_write(g_qpair, 1, g_wbuf, lba[i], 1, io_done, &g_ops[i]));
	}
}

static void
wz_mark_check(void)
{
	ops_check_ok(3);
}

/* 70000 blocks: 65536 + 4464. */
static void
wz_submit(void)
{
	submitted(nvt_nvme_ns_cmd_write_zeroes(g_qpair, 1, 0, WZ_BLOCKS, io_done, &g_ops[0]));
}

static void
wz_check(void)
{
	ops_check_ok(1);
	CHECK(stat_delta_submitted() == 2);
}

static void
wz_read_submit(void)
{
	memset(g_rbuf, 0xee, BUF_SIZE);
	submitted(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf, 65535, 2, io_done, &g_ops[0]));
	submitted(
		nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf + 4096, WZ_BLOCKS, 1, io_done, &g_ops[1]));
}

static void
wz_read_check(void)
{
	static const uint8_t zero[2 * BLK];

	ops_check_ok(2);
	CHECK(memcmp(g_rbuf, zero, sizeof(zero)) == 0);
	CHECK(memcmp(g_rbuf + 4096, g_wbuf, BLK) == 0);
}

/* 12 children from 40 blocks before the end: the second fails, the rest are not sent. */
static void
error_submit(void)
{
	submitted(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf, NS_BLOCKS - 40, 12 * 32, io_done,
				       &g_ops[0]));
	submitted(nvt_nvme_ns_cmd_write(g_qpair, 1, g_wbuf, NS_BLOCKS - 40, 12 * 32, io_done,
					&g_ops[1]));
}

static void
error_check(void)
{
	uint32_t i;

	for (i = 0; i < 2; i++) {
		CHECK(g_ops[i].calls == 1);
		CHECK(nvt_nvme_status_sct(g_ops[i].status) == NVT_NVME_SCT_GENERIC);
		CHECK(nvt_nvme_status_sc(g_ops[i].status) == NVT_NVME_SC_LBA_OUT_OF_RANGE);
	}
	CHECK(stat_delta_submitted() < 2 * 12);
	CHECK(!nvt_nvme_qpair_is_failed(g_qpair));
}

static void
single_submit(void)
{
	g_ranges[0] = (struct nvt_nvme_dsm_range){ .slba = 30000, .nlb = 100000 };
	g_ranges[1] = (struct nvt_nvme_dsm_range){ .slba = 0, .nlb = 8 };
	submitted(nvt_nvme_ns_cmd_flush(g_qpair, 1, io_done, &g_ops[0]));
	submitted(nvt_nvme_ns_cmd_deallocate(g_qpair, 1, g_ranges, 2, io_done, &g_ops[1]));
}

static void
single_check(void)
{
	ops_check_ok(2);
	CHECK(stat_delta_submitted() == 2);
}

static void
einval_submit(void)
{
	struct iovec shortv = { .iov_base = g_rbuf, .iov_len = BLK * 2 - 1 };

	CHECK(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf, 0, 0, io_done, &g_ops[0]) == -EINVAL);
	CHECK(nvt_nvme_ns_cmd_read(g_qpair, 99, g_rbuf, 0, 1, io_done, &g_ops[0]) == -EINVAL);
	CHECK(nvt_nvme_ns_cmd_readv(g_qpair, 1, &shortv, 1, 0, 2, io_done, &g_ops[0]) == -EINVAL);
	CHECK(nvt_nvme_ns_cmd_writev(g_qpair, 1, NULL, 0, 0, 2, io_done, &g_ops[0]) == -EINVAL);
	CHECK(nvt_nvme_ns_cmd_write_zeroes(g_qpair, 1, 0, 0, io_done, &g_ops[0]) == -EINVAL);
	CHECK(g_ops[0].calls == 0);
}

/* Disconnect with children on the wire and more waiting: every I/O completes, once. */
static void
disconnect_submit(void)
{
	uint32_t i;

	for (i = 0; i < DEPTH; i++) {
		submitted(nvt_nvme_ns_cmd_read(g_qpair, 1, g_rbuf + i * 300 * BLK, i * 300, 300,
					       io_done, &g_ops[i]));
	}
	nvt_nvme_qpair_disconnect(&g_qpair);
	for (i = 0; i < DEPTH; i++) {
		CHECK(g_ops[i].calls == 1);
		CHECK(g_ops[i].status != 0);
	}
}

static void
disconnect_check(void)
{
}

static const struct step g_steps[] = {
	{ "limits", limits_submit, NULL },
	{ "writev", writev_submit, writev_check },
	{ "readv", readv_submit, readv_check },
	{ "read contiguous", read_contig_submit, read_contig_check },
	{ "in-capsule", icd_submit, icd_check },
	{ "in-capsule read", icd_read_submit, icd_read_check },
	{ "depth", depth_submit, depth_check },
	{ "depth read", depth_read_submit, depth_read_check },
	{ "write zeroes marks", wz_mark_submit, wz_mark_check },
	{ "write zeroes", wz_submit, wz_check },
	{ "write zeroes read", wz_read_submit, wz_read_check },
	{ "error", error_submit, error_check },
	{ "flush and dsm", single_submit, single_check },
	{ "einval", einval_submit, NULL },
	{ "disconnect", disconnect_submit, disconnect_check },
};
#define NUM_STEPS (sizeof(g_steps) / sizeof(g_steps[0]))

static const struct step *
current_step(void)
{
	return &g_steps[g_step < NUM_STEPS ? g_step : NUM_STEPS - 1];
}

/* ---- driver ---- */

static void
detached(void *arg)
{
	(void)arg;
	if (++g_pass < NUM_PASSES) {
		pass_start();
		return;
	}
	nvt_app_stop(g_failures > 0 ? 1 : 0);
}

static void
pass_end(void)
{
	if (g_qpair != NULL) {
		nvt_nvme_qpair_disconnect(&g_qpair);
	}
	if (g_group != NULL && nvt_nvme_poll_group_destroy(&g_group) != 0) {
		fprintf(stderr, "FAIL pass %u: poll group busy\n", g_pass);
		g_failures++;
	}
	if (g_ctrlr != NULL) {
		nvt_nvme_ctrlr_detach(&g_ctrlr, detached, NULL);
	} else {
		detached(NULL);
	}
}

static void
step_run(void *arg)
{
	const struct step *s;

	(void)arg;
	if (g_step >= NUM_STEPS) {
		pass_end();
		return;
	}
	s = &g_steps[g_step];
	fprintf(stderr, "pass %u: %s\n", g_pass, s->name);
	memset(g_ops, 0, sizeof(g_ops));
	if (g_qpair != NULL) {
		nvt_nvme_qpair_get_stats(g_qpair, &g_stats0);
	}
	g_pending = 0;
	g_submitted = 0;
	s->submit();
	if (g_submitted == 0) {
		step_check_msg(NULL);
	}
}

/* The check of a step ran (from io_done's message, or inline): go on with the next. */
static void
step_next(void *arg)
{
	(void)arg;
	if (g_qpair != NULL) {
		CHECK(nvt_nvme_qpair_get_outstanding(g_qpair) == 0);
	}
	g_step++;
	step_run(NULL);
}

static void
step_check_msg(void *arg)
{
	const struct step *s = current_step();

	if (s->check != NULL) {
		s->check();
	}
	step_next(arg);
}

static void
qpair_connected(void *arg, struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	(void)arg;
	(void)status;
	if (rc != 0) {
		fprintf(stderr, "FAIL pass %u: I/O queue connect: %d\n", g_pass, rc);
		g_failures++;
		pass_end();
		return;
	}
	g_qpair = qpair;
	g_step = 0;
	step_run(NULL);
}

static void
ctrlr_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	(void)arg;
	(void)status;
	if (rc != 0) {
		fprintf(stderr, "FAIL pass %u: connect: %d\n", g_pass, rc);
		g_failures++;
		nvt_app_stop(1);
		return;
	}
	g_ctrlr = ctrlr;
	g_group = nvt_nvme_poll_group_create();
	rc = g_group == NULL ? -ENOMEM
			     : nvt_nvme_ctrlr_connect_io_qpair(ctrlr, g_group, DEPTH,
							       qpair_connected, NULL);
	if (rc != 0) {
		fprintf(stderr, "FAIL pass %u: I/O queue: %d\n", g_pass, rc);
		g_failures++;
		pass_end();
	}
}

static void
pass_start(void)
{
	struct nvt_nvme_ctrlr_opts o;
	struct nvt_nvme_trid trid;
	char str[256], err[128];
	int rc;

	snprintf(str, sizeof(str), "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s",
		 g_port, SUBNQN);
	nvt_nvme_ctrlr_get_default_opts(&o, sizeof(o));
	o.header_digest = o.data_digest = g_pass == 1;
	rc = nvt_nvme_trid_parse(&trid, str, err, sizeof(err));
	if (rc == 0) {
		rc = nvt_nvme_ctrlr_connect(&trid, &o, ctrlr_connected, NULL);
	}
	if (rc != 0) {
		fprintf(stderr, "FAIL pass %u: connect: %d\n", g_pass, rc);
		g_failures++;
		nvt_app_stop(1);
	}
}

static void
start(void *arg)
{
	(void)arg;
	pass_start();
}

/* ---- nvtcpd ---- */

/* nvtcpd on a configuration of its own in a temporary directory, listening. */
static int
daemon_start(const char *nvtcpd)
{
	char text[4096];
	int rc;

	snprintf(text, sizeof(text), g_config, NS_BLOCKS, BLK, MDTS, SUBNQN, SUBNQN, SUBNQN,
		 g_port);
	rc = nvt_test_tmpdir_create(g_dir, sizeof(g_dir), "/tmp", "nvtcp-split");
	return rc == 0 ? nvt_test_daemon_start_config(&g_daemon, nvtcpd, g_dir, text, NULL) : rc;
}

int
main(int argc, char **argv)
{
	struct nvt_app_opts opts;
	uint32_t i;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <nvtcpd>\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	g_wbuf = malloc(BUF_SIZE);
	g_rbuf = malloc(BUF_SIZE);
	g_port = nvt_test_free_port();
	if (g_wbuf == NULL || g_rbuf == NULL || g_port < 0 || daemon_start(argv[1]) != 0) {
		fprintf(stderr, "FAIL nvtcpd did not start listening on port %d\n", g_port);
		nvt_test_tmpdir_remove(g_dir);
		return 1;
	}
	for (i = 0; i < BUF_SIZE; i++) {
		g_wbuf[i] = (uint8_t)(i * 7 + i / 4099);
	}
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "split_test";
	rc = nvt_app_start(&opts, start, NULL);
	nvt_app_fini();
	if (nvt_test_daemon_stop(&g_daemon) != 0) {
		fprintf(stderr, "FAIL nvtcpd did not exit with status 0\n");
		rc = 1;
	}
	nvt_test_tmpdir_remove(g_dir);
	free(g_wbuf);
	free(g_rbuf);
	fprintf(stderr, "%s\n", rc == 0 ? "PASS" : "FAIL");
	return rc == 0 ? 0 : 1;
}
