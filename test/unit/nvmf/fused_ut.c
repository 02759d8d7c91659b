/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pairing of fused commands (lib/nvmf/fused.c) alone: its source is
 * included, the core functions it calls are stubbed. A request arrives
 * (nvmf_request_arrived), is executed (as nvmf_request_exec() would: into
 * the core, then nvmf_fused_exec) or failed by the transport (completed
 * without exec), and completions are recorded in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../lib/nvmf/fused.c"

#define MAX_CPL 16

static struct nvmf_request *g_io_req;
static int g_io_count;
static struct {
	struct nvmf_request *req;
	uint16_t status;
} g_cpl[MAX_CPL];
static int g_ncpl;
static bool g_supported;
static struct nvmf_pg_ns g_pns;
static struct nvmf_ns g_ns;

/* ---- stubs ---- */

void
nvmf_io_exec(struct nvmf_request *req)
{
	g_io_req = req;
	g_io_count++;
}

void
nvmf_req_set_status(struct nvmf_request *req, uint8_t sct, uint8_t sc, bool dnr)
{
	req->rsp->status = nvt_nvme_status_make(sct, sc, dnr);
}

void
nvmf_req_invalid_field(struct nvmf_request *req)
{
	nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true);
}

void
nvmf_request_complete(struct nvmf_request *req)
{
	/* As the core's: the pair first, then the request leaves the core. */
	nvmf_fused_complete(req);
	if (req->in_core) {
		TAILQ_REMOVE(&req->qpair->outstanding, req, link);
		req->in_core = false;
		req->qpair->outstanding_count--;
	}
	assert_true(g_ncpl < MAX_CPL);
	g_cpl[g_ncpl].req = req;
	g_cpl[g_ncpl].status = req->rsp->status;
	g_ncpl++;
}

struct nvmf_pg_ns *
nvmf_pg_get_ns(struct nvmf_poll_group *group, const struct nvt_nvmf_subsystem *subsystem,
	       uint32_t nsid)
{
	(void)group;
	(void)subsystem;
	return nsid == 2 ? &g_pns : NULL;
}

bool
nvt_bdev_io_type_supported(const struct nvt_bdev *bdev, enum nvt_bdev_io_type type)
{
	(void)bdev;
	return type == NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE && g_supported;
}

/* ---- the fake queue ---- */

struct ut_req {
	struct nvmf_request base;
	union nvt_nvme_sqe cmd;
	struct nvt_nvme_cpl cpl;
};

static struct nvmf_qpair g_qpair;
static struct ut_req g_reqs[8];

static int
setup(void **state)
{
	(void)state;
	memset(&g_qpair, 0, sizeof(g_qpair));
	TAILQ_INIT(&g_qpair.outstanding);
	g_qpair.qid = 1;
	memset(g_reqs, 0, sizeof(g_reqs));
	memset(g_cpl, 0, sizeof(g_cpl));
	g_ncpl = 0;
	g_io_req = NULL;
	g_io_count = 0;
	return 0;
}

/* Command \p i arrives: \p opc with \p fuse at \p slba of \p nsid, CDW12 \p cdw12. */
static struct nvmf_request *
arrive_ns(int i, uint8_t opc, uint8_t fuse, uint64_t slba, uint32_t nsid, uint32_t cdw12)
{
	struct ut_req *r = &g_reqs[i];

	r->base.qpair = &g_qpair;
	r->base.cmd = &r->cmd;
	r->base.rsp = &r->cpl;
	r->cmd.cmd.opc = opc;
	r->cmd.cmd.flags = fuse;
	r->cmd.cmd.nsid = nsid;
	r->cmd.cmd.cdw10 = (uint32_t)slba;
	r->cmd.cmd.cdw11 = (uint32_t)(slba >> 32);
	r->cmd.cmd.cdw12 = cdw12;
	r->cmd.cmd.cid = (uint16_t)i;
	nvmf_request_arrived(&r->base);
	return &r->base;
}

/* Command \p i arrives: \p opc with \p fuse over one block at \p slba of nsid 1. */
static struct nvmf_request *
arrive(int i, uint8_t opc, uint8_t fuse, uint64_t slba)
{
	return arrive_ns(i, opc, fuse, slba, 1, 0);
}

static void
exec(struct nvmf_request *req)
{
	req->rsp->status = 0;
	TAILQ_INSERT_TAIL(&g_qpair.outstanding, req, link);
	req->in_core = true;
	g_qpair.outstanding_count++;
	nvmf_fused_exec(req);
}

/* The transport fails \p req before exec. */
static void
transport_fail(struct nvmf_request *req)
{
	nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR,
			    false);
	nvmf_request_complete(req);
}

static uint16_t
status_of(struct nvmf_request *req)
{
	int i;

	for (i = 0; i < g_ncpl; i++) {
		if (g_cpl[i].req == req) {
			return g_cpl[i].status;
		}
	}
	fail_msg("request cid %u not completed", req->cmd->cmd.cid);
	return 0xffff;
}

static uint16_t
st(uint8_t sct, uint8_t sc, bool dnr)
{
	return nvt_nvme_status_make(sct, sc, dnr);
}

#define MISSING st(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_MISSING_FUSED, false)
#define FAILED	st(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_FAILED_FUSED, false)
#define INVALID st(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true)
#define C	NVT_NVME_OPC_COMPARE
#define W	NVT_NVME_OPC_WRITE
#define R	NVT_NVME_OPC_READ
#define F1	NVT_NVME_CMD_FUSE_FIRST
#define F2	NVT_NVME_CMD_FUSE_SECOND

/* The bdev's compare-and-write of the pair (c, w) ends with \p status on the Compare. */
static void
run_pair(struct nvmf_request *c, struct nvmf_request *w, bool write_first, uint16_t status)
{
	exec(write_first ? w : c);
	assert_int_equal(g_io_count, 0);
	assert_int_equal(g_ncpl, 0);
	exec(write_first ? c : w);
	assert_int_equal(g_io_count, 1);
	assert_ptr_equal(g_io_req, c);
	assert_ptr_equal(c->fused_pair, w);
	c->rsp->status = status;
	nvmf_request_complete(c);
	assert_int_equal(g_ncpl, 2);
	assert_int_equal(g_qpair.outstanding_count, 0);
}

static void
test_pair(void **state)
{
	struct nvmf_request *c, *w;
	uint16_t miscompare = st(NVT_NVME_SCT_MEDIA_ERROR, NVT_NVME_SC_COMPARE_FAILURE, true);
	uint16_t ana = st(NVT_NVME_SCT_PATH, 0x02, false);

	/* In order, then the Write's data first: success on both. */
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	run_pair(c, w, false, 0);
	assert_int_equal(status_of(c), 0);
	assert_int_equal(status_of(w), 0);
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	run_pair(c, w, true, 0);
	assert_int_equal(status_of(w), 0);
	/* Miscompare: the Write is aborted as its first failed, DNR as the Compare's. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	run_pair(c, w, false, miscompare);
	assert_int_equal(status_of(c), miscompare);
	assert_int_equal(status_of(w),
			 st(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_FAILED_FUSED, true));
	/* The path refuses both alike. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	run_pair(c, w, true, ana);
	assert_int_equal(status_of(w), ana);
	/* Nothing is left behind in either request. */
	assert_int_equal(c->fused_state, FUSED_NONE);
	assert_null(c->fused_pair);
	assert_int_equal(w->fused_state, FUSED_NONE);
	assert_null(g_qpair.fused_first);
}

static void
test_lone(void **state)
{
	struct nvmf_request *c, *w, *r;

	/* A lone second. */
	w = arrive(0, W, F2, 8);
	exec(w);
	assert_int_equal(status_of(w), MISSING);
	/* A first, then a Read, the first executed after it arrived. */
	setup(state);
	c = arrive(0, C, F1, 8);
	r = arrive(1, R, 0, 8);
	exec(c);
	assert_int_equal(status_of(c), MISSING);
	assert_int_equal(c->fused_state, FUSED_NONE);
	assert_int_equal(r->fused_state, FUSED_NONE);
	/* A first executed (held), then a Read arrives: the first ends at once. */
	setup(state);
	c = arrive(0, C, F1, 8);
	exec(c);
	assert_int_equal(g_ncpl, 0);
	assert_ptr_equal(g_qpair.fused_first, c);
	arrive(1, R, 0, 8);
	assert_int_equal(g_ncpl, 1);
	assert_int_equal(status_of(c), MISSING);
	assert_null(g_qpair.fused_first);
	assert_int_equal(g_qpair.outstanding_count, 0);
}

static void
test_mismatch(void **state)
{
	struct nvmf_request *c, *w;

	/* Other blocks, not a Write, not fused, another namespace: both (fused ones) 0Ah. */
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 9);
	exec(w);
	exec(c);
	assert_int_equal(status_of(c), MISSING);
	assert_int_equal(status_of(w), MISSING);
	assert_int_equal(g_io_count, 0);
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, C, F2, 8);
	exec(c);
	exec(w);
	assert_int_equal(status_of(c), MISSING);
	assert_int_equal(status_of(w), MISSING);
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, 0, 8);
	exec(c);
	assert_int_equal(status_of(c), MISSING);
	assert_int_equal(w->fused_state, FUSED_NONE);
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive_ns(1, W, F2, 8, 2, 0);
	exec(c);
	exec(w);
	assert_int_equal(status_of(c), MISSING);
	assert_int_equal(status_of(w), MISSING);
	/* Different block counts. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive_ns(1, W, F2, 8, 1, 1);
	exec(c);
	assert_int_equal(status_of(c), MISSING);
	/* Two firsts in a row: the first one is missing its second, the next waits. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, C, F1, 8);
	assert_ptr_equal(g_qpair.fused_first, w);
	exec(c);
	assert_int_equal(status_of(c), MISSING);
}

static void
test_invalid(void **state)
{
	struct nvmf_request *r;

	r = arrive(0, R, 0x3, 8);
	exec(r);
	assert_int_equal(status_of(r), INVALID);
	setup(state);
	r = arrive(0, R, F1, 8);
	assert_null(g_qpair.fused_first);
	exec(r);
	assert_int_equal(status_of(r), INVALID);
	/* The reserved FUSE after a first: that first is missing its second. */
	setup(state);
	arrive(0, C, F1, 8);
	r = arrive(1, W, 0x3, 8);
	exec(&g_reqs[0].base);
	exec(r);
	assert_int_equal(status_of(&g_reqs[0].base), MISSING);
	assert_int_equal(status_of(r), INVALID);
}

static void
test_transport_failures(void **state)
{
	struct nvmf_request *c, *w;

	/* The first fails before its second arrives: the second is aborted as failed fused. */
	c = arrive(0, C, F1, 8);
	transport_fail(c);
	assert_null(g_qpair.fused_first);
	w = arrive(1, W, F2, 8);
	exec(w);
	assert_int_equal(status_of(w), FAILED);
	/* ... but only the command right after it. */
	setup(state);
	c = arrive(0, C, F1, 8);
	transport_fail(c);
	arrive(1, R, 0, 8);
	w = arrive(2, W, F2, 8);
	exec(w);
	assert_int_equal(status_of(w), MISSING);
	/* Paired, the Compare held, the Write fails: the Compare is aborted at once. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	exec(c);
	transport_fail(w);
	assert_int_equal(status_of(c), FAILED);
	assert_int_equal(g_qpair.outstanding_count, 0);
	assert_int_equal(g_io_count, 0);
	/* Paired, neither executed, the Compare fails: the Write fails at its exec. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	transport_fail(c);
	assert_int_equal(g_ncpl, 1);
	exec(w);
	assert_int_equal(status_of(w), FAILED);
	assert_int_equal(g_io_count, 0);
}

static void
test_disconnect(void **state)
{
	struct nvmf_request *c, *w;
	uint16_t sqdel = st(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_SQ_DELETION, false);

	/* A held first, its second never sent. */
	c = arrive(0, C, F1, 8);
	exec(c);
	nvmf_fused_qpair_disconnect(&g_qpair);
	assert_int_equal(status_of(c), sqdel);
	assert_int_equal(g_qpair.outstanding_count, 0);
	assert_null(g_qpair.fused_first);
	/* A held Write whose Compare's data never came (the transport drops that one). */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	exec(w);
	nvmf_fused_qpair_disconnect(&g_qpair);
	assert_int_equal(status_of(w), sqdel);
	assert_int_equal(g_qpair.outstanding_count, 0);
	assert_int_equal(c->fused_state, FUSED_FAILED);
	assert_null(c->fused_pair);
	/* A pair at the bdev is left to complete. */
	setup(state);
	c = arrive(0, C, F1, 8);
	w = arrive(1, W, F2, 8);
	exec(c);
	exec(w);
	nvmf_fused_qpair_disconnect(&g_qpair);
	assert_int_equal(g_ncpl, 0);
	nvmf_request_complete(c);
	assert_int_equal(g_ncpl, 2);
	assert_int_equal(g_qpair.outstanding_count, 0);
}

static void
test_identify_fuses(void **state)
{
	struct nvt_nvmf_subsystem subsystem = { .max_nsid = 4 };
	struct nvmf_qpair admin = { 0 };
	struct nvmf_ctrlr ctrlr = { .subsystem = &subsystem, .admin_qpair = &admin };

	(void)state;
	g_pns.ns = &g_ns;
	g_supported = false;
	assert_int_equal(nvmf_fused_identify_fuses(&ctrlr), 0);
	g_supported = true;
	assert_int_equal(nvmf_fused_identify_fuses(&ctrlr), NVT_NVME_FUSES_COMPARE_AND_WRITE);
	subsystem.max_nsid = 1;
	assert_int_equal(nvmf_fused_identify_fuses(&ctrlr), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pair, setup),
		cmocka_unit_test_setup(test_lone, setup),
		cmocka_unit_test_setup(test_mismatch, setup),
		cmocka_unit_test_setup(test_invalid, setup),
		cmocka_unit_test_setup(test_transport_failures, setup),
		cmocka_unit_test_setup(test_disconnect, setup),
		cmocka_unit_test_setup(test_identify_fuses, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
