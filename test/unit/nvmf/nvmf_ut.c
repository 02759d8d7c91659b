/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the target core (lib/nvmf) behind a fake transport.
 *
 * Every nvt_thread (the app thread and two poll groups) is polled by hand on
 * this one OS thread. Requests are built by hand, handed to the core on
 * their poll group's thread, and their completions captured by the fake
 * transport's req_complete. A 1 MiB malloc bdev backs the namespaces.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nvtcp/bdev.h"
#include "bdev_malloc.h"
#include "nvtcp/internal/nvmf_transport.h"
#include "nvtcp/log.h"
#include "nvtcp/nvmf.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"

#include "../../../lib/nvmf/nvmf_internal.h"

#define SUBNQN	    "nqn.2016-06.io.nvtcp:cnode1"
#define SUBNQN2	    "nqn.2016-06.io.nvtcp:cnode2"
#define HOSTA	    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define HOSTB	    "nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-000000000000"
#define HOSTC	    "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define BLOCK_SIZE  512
#define NUM_BLOCKS  2048
#define MAX_THREADS 16

/* ---- threads polled by hand ---- */

static struct nvt_thread *g_threads[MAX_THREADS];
static struct nvt_thread *g_app;

static int
ut_thread_op(struct nvt_thread *thread, enum nvt_thread_op op)
{
	int i;

	if (op != NVT_THREAD_OP_NEW) {
		return -ENOTSUP;
	}
	for (i = 0; i < MAX_THREADS; i++) {
		if (g_threads[i] == NULL) {
			g_threads[i] = thread;
			return 0;
		}
	}
	return -ENOMEM;
}

/* Poll every thread until none does work; destroy threads that exited. */
static void
poll_all(void)
{
	bool busy;
	int i, rounds = 0;

	do {
		busy = false;
		for (i = 0; i < MAX_THREADS; i++) {
			if (g_threads[i] == NULL) {
				continue;
			}
			if (nvt_thread_poll(g_threads[i], 0, 0) != 0) {
				busy = true;
			}
			if (nvt_thread_is_exited(g_threads[i])) {
				if (g_threads[i] == g_app) {
					g_app = NULL;
				}
				nvt_thread_destroy(&g_threads[i]);
			}
		}
	} while (busy && ++rounds < 100000);
	nvt_set_thread(g_app);
}

static void
poll_for_ms(unsigned int ms)
{
	uint64_t end = nvt_get_ticks() + nvt_us_to_ticks((uint64_t)ms * 1000);
	struct timespec ts = { 0, 1000000 };

	while (nvt_get_ticks() < end) {
		poll_all();
		nanosleep(&ts, NULL);
	}
}

/* ---- the fake transport ---- */

struct fake_transport {
	struct nvmf_transport base;
	uint32_t listens;
};

struct fake_tgroup {
	struct nvmf_transport_poll_group base;
	uint32_t qpairs;
};

struct fake_qpair {
	struct nvmf_qpair base;
	bool added;
	bool fini;
};

struct fake_req {
	struct nvmf_request base;
	union nvt_nvme_sqe cmd;
	struct nvt_nvme_cpl cpl;
	struct iovec iov[NVMF_REQ_MAX_IOVS];
	uint8_t *data;
	bool done;
	uint32_t completions;
};

static struct fake_transport *g_ft;

static int
ft_create(const struct nvt_nvmf_transport_opts *opts, struct nvmf_transport **out)
{
	(void)opts;
	g_ft = calloc(1, sizeof(*g_ft));
	*out = &g_ft->base;
	return g_ft != NULL ? 0 : -ENOMEM;
}

static void
ft_destroy(struct nvmf_transport *t)
{
	free(t);
	g_ft = NULL;
}

static int
ft_listen(struct nvmf_transport *t, const struct nvt_nvmf_trid *trid,
	  const struct nvmf_listen_opts *opts)
{
	(void)trid;
	(void)opts;
	((struct fake_transport *)t)->listens++;
	return 0;
}

static void
ft_stop_listen(struct nvmf_transport *t, const struct nvt_nvmf_trid *trid)
{
	(void)trid;
	((struct fake_transport *)t)->listens--;
}

static uint32_t
ft_accept(struct nvmf_transport *t)
{
	(void)t;
	return 0;
}

static void
ft_listener_discover(struct nvmf_transport *t, const struct nvt_nvmf_trid *trid, bool secure,
		     struct nvt_nvmf_disc_log_entry *e)
{
	(void)t;
	(void)secure;
	e->trtype = (uint8_t)trid->trtype;
	e->adrfam = (uint8_t)trid->adrfam;
}

static struct nvmf_transport_poll_group *
ft_pg_create(struct nvmf_transport *t)
{
	struct fake_tgroup *g = calloc(1, sizeof(*g));

	(void)t;
	return g != NULL ? &g->base : NULL;
}

static void
ft_pg_destroy(struct nvmf_transport_poll_group *g)
{
	assert_int_equal(((struct fake_tgroup *)g)->qpairs, 0);
	free(g);
}

static int
ft_pg_add(struct nvmf_transport_poll_group *g, struct nvmf_qpair *q)
{
	((struct fake_tgroup *)g)->qpairs++;
	((struct fake_qpair *)q)->added = true;
	return 0;
}

static void
ft_pg_remove(struct nvmf_transport_poll_group *g, struct nvmf_qpair *q)
{
	((struct fake_tgroup *)g)->qpairs--;
	((struct fake_qpair *)q)->added = false;
}

static int
ft_pg_poll(struct nvmf_transport_poll_group *g)
{
	(void)g;
	return NVT_POLLER_IDLE;
}

static int
ft_req_complete(struct nvmf_request *r)
{
	struct fake_req *req = (struct fake_req *)r;

	req->done = true;
	req->completions++;
	return 0;
}

static void
ft_qpair_fini(struct nvmf_qpair *q, nvmf_qpair_fini_cb cb, void *cb_arg)
{
	struct fake_qpair *qp = (struct fake_qpair *)q;

	assert_false(qp->fini);
	assert_false(qp->added);
	qp->fini = true;
	if (cb != NULL) {
		cb(cb_arg);
	}
}

static const struct nvmf_transport_ops g_fake_ops = {
	.name = "TCP",
	.type = NVT_NVMF_TRTYPE_TCP,
	.create = ft_create,
	.destroy = ft_destroy,
	.listen = ft_listen,
	.stop_listen = ft_stop_listen,
	.accept = ft_accept,
	.listener_discover = ft_listener_discover,
	.poll_group_create = ft_pg_create,
	.poll_group_destroy = ft_pg_destroy,
	.poll_group_add = ft_pg_add,
	.poll_group_remove = ft_pg_remove,
	.poll_group_poll = ft_pg_poll,
	.req_complete = ft_req_complete,
	.qpair_fini = ft_qpair_fini,
};

/* ---- requests ---- */

static struct fake_req *
req_new(struct fake_qpair *qp, uint8_t opc, uint32_t len, enum nvmf_xfer xfer)
{
	struct fake_req *req = calloc(1, sizeof(*req));
	uint32_t half = len / 2;

	assert_non_null(req);
	req->base.qpair = &qp->base;
	req->base.cmd = &req->cmd;
	req->base.rsp = &req->cpl;
	req->base.iov = req->iov;
	req->base.length = len;
	req->base.xfer = xfer;
	req->cmd.cmd.opc = opc;
	req->cmd.cmd.cid = (uint16_t)(rand() & 0xffff);
	if (len > 0) {
		req->data = calloc(1, len);
		assert_non_null(req->data);
		/* Two iovec entries, so the core's copies cross a boundary. */
		req->iov[0].iov_base = req->data;
		req->iov[0].iov_len = half;
		req->iov[1].iov_base = req->data + half;
		req->iov[1].iov_len = len - half;
		req->base.iovcnt = half > 0 ? 2 : 1;
		if (half == 0) {
			req->iov[0].iov_len = len;
		}
	}
	return req;
}

static void
req_free(struct fake_req *req)
{
	free(req->data);
	free(req);
}

static void
exec_msg(void *ctx)
{
	nvmf_request_exec(ctx);
}

/* Run \p req on its qpair's thread and poll until it completes (or nothing moves). */
#define req_run(req) req_run_at(req, __LINE__)

static void
req_run_at(struct fake_req *req, int line)
{
	req->done = false;
	assert_int_equal(nvt_thread_send_msg(req->base.qpair->group->thread, exec_msg, req), 0);
	poll_all();
	if (!req->done) {
		fail_msg("request of line %d did not complete", line);
	}
	assert_int_equal(req->cpl.cid, req->cmd.cmd.cid);
}

static uint16_t
status_of(const struct fake_req *req)
{
	return req->cpl.status;
}

#define STATUS(sct, sc, dnr) nvt_nvme_status_make(sct, sc, dnr)
#define ST_OK		     0

/* ---- qpairs ---- */

static struct fake_qpair *
qpair_new(const char *traddr, const char *trsvcid)
{
	struct fake_qpair *qp = calloc(1, sizeof(*qp));

	assert_non_null(qp);
	qp->base.listen_trid.trtype = NVT_NVMF_TRTYPE_TCP;
	qp->base.listen_trid.adrfam = NVT_NVMF_ADRFAM_IPV4;
	snprintf(qp->base.listen_trid.traddr, sizeof(qp->base.listen_trid.traddr), "%s", traddr);
	snprintf(qp->base.listen_trid.trsvcid, sizeof(qp->base.listen_trid.trsvcid), "%s", trsvcid);
	nvt_set_thread(g_app);
	nvmf_transport_new_qpair(&g_ft->base, &qp->base);
	poll_all();
	assert_true(qp->added);
	return qp;
}

static void
disconnect_msg(void *ctx)
{
	nvmf_qpair_disconnect(ctx);
}

/* Disconnect (as on a socket close), wait for fini, free. */
static void
qpair_close(struct fake_qpair *qp)
{
	assert_int_equal(nvt_thread_send_msg(qp->base.group->thread, disconnect_msg, qp), 0);
	poll_all();
	assert_true(qp->fini);
	free(qp);
}

static struct fake_req *
connect_req(struct fake_qpair *qp, uint16_t qid, uint16_t sqsize, const char *subnqn,
	    const char *hostnqn, uint16_t cntlid, uint32_t kato)
{
	struct fake_req *req = req_new(qp, NVT_NVME_OPC_FABRICS, 1024, NVMF_XFER_HOST_TO_CTRLR);
	struct nvt_nvmf_connect_data data;

	req->cmd.connect.fctype = NVT_NVMF_FCTYPE_CONNECT;
	req->cmd.connect.qid = qid;
	req->cmd.connect.sqsize = sqsize;
	req->cmd.connect.kato = kato;
	memset(&data, 0, sizeof(data));
	data.cntlid = cntlid;
	data.hostid[0] = 0x42;
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", subnqn);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", hostnqn);
	nvmf_request_copy_to_iov(&req->base, 0, &data, sizeof(data));
	return req;
}

/* Connect; returns the status and the completion's dword 0 in *cdw0. */
static uint16_t
do_connect(struct fake_qpair *qp, uint16_t qid, uint16_t sqsize, const char *subnqn,
	   const char *hostnqn, uint16_t cntlid, uint32_t kato, uint32_t *cdw0)
{
	struct fake_req *req = connect_req(qp, qid, sqsize, subnqn, hostnqn, cntlid, kato);
	uint16_t st;

	req_run(req);
	st = status_of(req);
	if (cdw0 != NULL) {
		*cdw0 = req->cpl.cdw0;
	}
	req_free(req);
	return st;
}

static uint16_t
prop_get(struct fake_qpair *qp, uint32_t ofst, bool size8, uint64_t *value)
{
	struct fake_req *req = req_new(qp, NVT_NVME_OPC_FABRICS, 0, NVMF_XFER_NONE);
	uint16_t st;

	req->cmd.prop_get.fctype = NVT_NVMF_FCTYPE_PROPERTY_GET;
	req->cmd.prop_get.ofst = ofst;
	req->cmd.prop_get.attrib = size8 ? NVT_NVMF_PROP_SIZE_8 : NVT_NVMF_PROP_SIZE_4;
	req_run(req);
	st = status_of(req);
	*value = nvt_nvmf_prop_get_rsp_value(&req->cpl);
	req_free(req);
	return st;
}

static uint16_t
prop_set(struct fake_qpair *qp, uint32_t ofst, uint32_t value)
{
	struct fake_req *req = req_new(qp, NVT_NVME_OPC_FABRICS, 0, NVMF_XFER_NONE);
	uint16_t st;

	req->cmd.prop_set.fctype = NVT_NVMF_FCTYPE_PROPERTY_SET;
	req->cmd.prop_set.ofst = ofst;
	req->cmd.prop_set.attrib = NVT_NVMF_PROP_SIZE_4;
	req->cmd.prop_set.value = value;
	req_run(req);
	st = status_of(req);
	req_free(req);
	return st;
}

#define CC_ENABLE \
	(NVT_NVME_CC_EN | (6u << NVT_NVME_CC_IOSQES_SHIFT) | (4u << NVT_NVME_CC_IOCQES_SHIFT))

/* Admin connect + enable; returns the cntlid. */
static uint16_t
admin_connect(struct fake_qpair *qp, const char *subnqn, const char *hostnqn, uint32_t kato)
{
	uint32_t cdw0 = 0;
	uint64_t csts;

	assert_int_equal(
		do_connect(qp, 0, 31, subnqn, hostnqn, NVT_NVMF_CNTLID_DYNAMIC, kato, &cdw0),
		ST_OK);
	assert_int_equal(prop_set(qp, NVT_NVME_PROP_CC, CC_ENABLE), ST_OK);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CSTS, false, &csts), ST_OK);
	assert_true(csts & NVT_NVME_CSTS_RDY);
	return (uint16_t)(cdw0 & 0xffff);
}

static struct fake_req *
admin_req(struct fake_qpair *qp, uint8_t opc, uint32_t len)
{
	return req_new(qp, opc, len, len > 0 ? NVMF_XFER_CTRLR_TO_HOST : NVMF_XFER_NONE);
}

static struct fake_req *
identify_req(struct fake_qpair *qp, uint8_t cns, uint32_t nsid)
{
	struct fake_req *req = admin_req(qp, NVT_NVME_OPC_IDENTIFY, 4096);

	req->cmd.cmd.cdw10 = cns;
	req->cmd.cmd.nsid = nsid;
	return req;
}

static struct fake_req *
get_log_req(struct fake_qpair *qp, uint8_t lid, uint32_t len, uint64_t offset)
{
	struct fake_req *req = admin_req(qp, NVT_NVME_OPC_GET_LOG_PAGE, len);
	uint32_t numd = len / 4 - 1;

	req->cmd.cmd.cdw10 = lid | (numd & 0xffffu) << 16;
	req->cmd.cmd.cdw11 = numd >> 16;
	req->cmd.cmd.cdw12 = (uint32_t)offset;
	req->cmd.cmd.cdw13 = (uint32_t)(offset >> 32);
	return req;
}

/* ---- fixture ---- */

static bool g_done;
static int g_status;

static void
done_cb(void *ctx, int status)
{
	(void)ctx;
	g_done = true;
	g_status = status;
}

static void
bdev_done_cb(void *ctx, int status)
{
	done_cb(ctx, status);
}

static void
wait_done(void)
{
	poll_all();
	assert_true(g_done);
	assert_int_equal(g_status, 0);
	g_done = false;
}

static void
add_listener(struct nvt_nvmf_subsystem *s, const char *traddr, const char *trsvcid)
{
	struct nvt_nvmf_trid trid = { .trtype = NVT_NVMF_TRTYPE_TCP,
				      .adrfam = NVT_NVMF_ADRFAM_IPV4 };

	snprintf(trid.traddr, sizeof(trid.traddr), "%s", traddr);
	snprintf(trid.trsvcid, sizeof(trid.trsvcid), "%s", trsvcid);
	assert_int_equal(nvt_nvmf_subsystem_add_listener(s, &trid), 0);
}

static int
setup(void **state)
{
	struct nvt_bdev_create_opts bopts;
	struct nvt_nvmf_transport_opts topts;
	struct nvt_nvmf_subsystem *s;
	struct nvt_cpuset mask;
	struct nvt_bdev *bdev;

	(void)state;
	assert_int_equal(nvt_thread_lib_init(ut_thread_op, 0), 0);
	g_app = nvt_thread_create("app", NULL);
	assert_non_null(g_app);
	nvt_set_thread(g_app);

	nvt_bdev_create_opts_init(&bopts, sizeof(bopts));
	bopts.name = "Malloc0";
	bopts.num_blocks = NUM_BLOCKS;
	bopts.block_size = BLOCK_SIZE;
	assert_int_equal(nvt_bdev_malloc_create(&bopts, &bdev), 0);
	bopts.name = "Malloc1";
	assert_int_equal(nvt_bdev_malloc_create(&bopts, &bdev), 0);

	nvt_cpuset_zero(&mask);
	nvt_cpuset_set_cpu(&mask, 0, true);
	nvt_cpuset_set_cpu(&mask, 1, true);
	assert_int_equal(nvmf_tgt_init_mask(NULL, &mask, done_cb, NULL), 0);
	wait_done();
	assert_int_equal(nvmf_tgt_get()->num_groups, 2);

	assert_int_equal(nvt_nvmf_transport_get_default_opts("tcp", &topts, sizeof(topts)), 0);
	assert_int_equal(nvt_nvmf_transport_create("TCP", &topts, done_cb, NULL), 0);
	wait_done();

	assert_int_equal(nvt_nvmf_subsystem_create(SUBNQN, 0, &s), 0);
	assert_int_equal(nvt_nvmf_subsystem_set_sn(s, "SN0001"), 0);
	assert_int_equal(nvt_nvmf_subsystem_set_mn(s, "nvtcp unit test"), 0);
	assert_int_equal(nvt_nvmf_subsystem_add_host(s, HOSTA), 0);
	add_listener(s, "127.0.0.1", "4420");
	assert_int_equal(nvt_nvmf_subsystem_add_ns(s, "Malloc0", NULL), 1);
	poll_all();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nvt_set_thread(g_app);
	nvt_nvmf_tgt_fini(done_cb, NULL);
	wait_done();
	assert_null(nvmf_tgt_get());
	nvt_bdev_fini(bdev_done_cb, NULL);
	wait_done();
	nvt_thread_exit(g_app);
	poll_all();
	assert_null(g_app);
	nvt_thread_lib_fini();
	return 0;
}

/* ---- connect ---- */

static void
test_connect_errors(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4420");
	struct fake_qpair *io;
	uint32_t cdw0;
	uint16_t cntlid;

	(void)state;
	/* Unknown subsystem: invalid parameter, pointing at SUBNQN in the data. */
	assert_int_equal(do_connect(qp, 0, 31, "nqn.2016-06.io.nvtcp:nope", HOSTA,
				    NVT_NVMF_CNTLID_DYNAMIC, 0, &cdw0),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	assert_int_equal(
		cdw0, nvt_nvmf_connect_rsp_invalid(NVT_NVMF_CONNECT_IATTR_DATA,
						   offsetof(struct nvt_nvmf_connect_data, subnqn)));
	/* Host not on the list. */
	assert_int_equal(
		do_connect(qp, 0, 31, SUBNQN, HOSTB, NVT_NVMF_CNTLID_DYNAMIC, 0, NULL),
		STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_CONNECT_INVALID_HOST, true));
	/* Admin SQSIZE at the admin queue depth (128): too large. */
	assert_int_equal(do_connect(qp, 0, 128, SUBNQN, HOSTA, NVT_NVMF_CNTLID_DYNAMIC, 0, &cdw0),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	assert_int_equal(
		cdw0, nvt_nvmf_connect_rsp_invalid(NVT_NVMF_CONNECT_IATTR_CMD,
						   offsetof(struct nvt_nvmf_connect_cmd, sqsize)));
	/* A failed Connect leaves the queue waiting for another. */
	cntlid = admin_connect(qp, SUBNQN, HOSTA, 0);
	assert_true(cntlid >= NVT_NVMF_CNTLID_MIN);
	/* A second Connect on a connected queue. */
	assert_int_equal(do_connect(qp, 0, 31, SUBNQN, HOSTA, NVT_NVMF_CNTLID_DYNAMIC, 0, NULL),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, true));

	io = qpair_new("127.0.0.1", "4420");
	/* Unknown controller. */
	assert_int_equal(do_connect(io, 1, 127, SUBNQN, HOSTA, (uint16_t)(cntlid + 7), 0, &cdw0),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	assert_int_equal(
		cdw0, nvt_nvmf_connect_rsp_invalid(NVT_NVMF_CONNECT_IATTR_DATA,
						   offsetof(struct nvt_nvmf_connect_data, cntlid)));
	/* Queue id above the granted count (127 by default). */
	assert_int_equal(do_connect(io, 200, 127, SUBNQN, HOSTA, cntlid, 0, &cdw0),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	assert_int_equal(cdw0,
			 nvt_nvmf_connect_rsp_invalid(NVT_NVMF_CONNECT_IATTR_CMD,
						      offsetof(struct nvt_nvmf_connect_cmd, qid)));
	/* I/O SQSIZE at max_queue_depth. */
	assert_int_equal(do_connect(io, 1, 128, SUBNQN, HOSTA, cntlid, 0, NULL),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	/* Another host cannot take this controller's queues. */
	assert_int_equal(
		do_connect(io, 1, 127, SUBNQN, HOSTB, cntlid, 0, NULL),
		STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_CONNECT_INVALID_HOST, true));
	assert_int_equal(do_connect(io, 1, 127, SUBNQN, HOSTA, cntlid, 0, NULL), ST_OK);

	/* Closing the admin queue tears the controller down, I/O queue included. */
	assert_int_equal(nvt_thread_send_msg(qp->base.group->thread, disconnect_msg, qp), 0);
	poll_all();
	assert_true(qp->fini);
	assert_true(io->fini);
	assert_true(TAILQ_EMPTY(&nvt_nvmf_subsystem_find(SUBNQN)->ctrlrs));
	free(qp);
	free(io);
}

static void
test_connect_wrong_listener(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4421");

	(void)state;
	assert_int_equal(do_connect(qp, 0, 31, SUBNQN, HOSTA, NVT_NVMF_CNTLID_DYNAMIC, 0, NULL),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	qpair_close(qp);
}

/* ---- properties ---- */

static void
test_properties(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4420");
	struct fake_req *req;
	uint64_t v;

	(void)state;
	/* No property before Connect. */
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CAP, true, &v),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, true));
	assert_int_equal(do_connect(qp, 0, 31, SUBNQN, HOSTA, NVT_NVMF_CNTLID_DYNAMIC, 0, NULL),
			 ST_OK);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CAP, true, &v), ST_OK);
	assert_int_equal(nvt_nvme_cap_get(v, NVT_NVME_CAP_MQES_SHIFT, NVT_NVME_CAP_MQES_MASK), 127);
	assert_true(v & NVT_NVME_CAP_CQR);
	assert_int_equal(nvt_nvme_cap_get(v, NVT_NVME_CAP_TO_SHIFT, NVT_NVME_CAP_TO_MASK), 15);
	assert_true(nvt_nvme_cap_get(v, NVT_NVME_CAP_CSS_SHIFT, 0xff) & NVT_NVME_CAP_CSS_NVM);
	/* CAP is 8 bytes, VS 4. */
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CAP, false, &v),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true));
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_VS, false, &v), ST_OK);
	assert_int_equal(v, NVT_NVME_VS_1_3);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CSTS, false, &v), ST_OK);
	assert_int_equal(v, 0);
	/* Admin commands wait for CC.EN. */
	req = identify_req(qp, NVT_NVME_CNS_CTRL, 0);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, true));
	/* Only CC is writable. */
	assert_int_equal(prop_set(qp, NVT_NVME_PROP_CSTS, 1),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true));
	assert_int_equal(prop_set(qp, NVT_NVME_PROP_CC, CC_ENABLE), ST_OK);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CC, false, &v), ST_OK);
	assert_int_equal(v, CC_ENABLE);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CSTS, false, &v), ST_OK);
	assert_int_equal(v, NVT_NVME_CSTS_RDY);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	req_free(req);
	/* Normal shutdown: SHST complete, not ready. */
	assert_int_equal(prop_set(qp, NVT_NVME_PROP_CC,
				  CC_ENABLE | (NVT_NVME_SHN_NORMAL << NVT_NVME_CC_SHN_SHIFT)),
			 ST_OK);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CSTS, false, &v), ST_OK);
	assert_int_equal(
		nvt_nvme_reg32_get((uint32_t)v, NVT_NVME_CSTS_SHST_SHIFT, NVT_NVME_CSTS_SHST_MASK),
		NVT_NVME_SHST_COMPLETE);
	assert_false(v & NVT_NVME_CSTS_RDY);
	/* Disable, then enable again. */
	assert_int_equal(prop_set(qp, NVT_NVME_PROP_CC, 0), ST_OK);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CSTS, false, &v), ST_OK);
	assert_int_equal(v, 0);
	assert_int_equal(prop_set(qp, NVT_NVME_PROP_CC, CC_ENABLE), ST_OK);
	assert_int_equal(prop_get(qp, NVT_NVME_PROP_CSTS, false, &v), ST_OK);
	assert_int_equal(v, NVT_NVME_CSTS_RDY);
	qpair_close(qp);
}

/* ---- identify ---- */

static void
test_identify(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4420");
	const struct nvt_nvme_id_ctrl *cd;
	const struct nvt_nvme_id_ns *nsd;
	const struct nvt_nvme_ns_id_desc *d;
	struct fake_req *req;
	uint32_t nsid;
	uint16_t cntlid;
	size_t i;

	(void)state;
	cntlid = admin_connect(qp, SUBNQN, HOSTA, 0);
	req = identify_req(qp, NVT_NVME_CNS_CTRL, 0);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	cd = (const void *)req->data;
	assert_int_equal(cd->cntlid, cntlid);
	assert_memory_equal(cd->sn, "SN0001              ", 20);
	assert_memory_equal(cd->mn, "nvtcp unit test", 15);
	assert_int_equal(cd->mn[15], ' ');
	assert_string_equal(cd->subnqn, SUBNQN);
	assert_int_equal(cd->nn, 32);
	assert_int_equal(cd->mdts, 5); /* 128 KiB in 4 KiB pages */
	assert_int_equal(cd->sqes, 0x66);
	assert_int_equal(cd->cqes, 0x44);
	assert_int_equal(cd->ioccsz, (64 + 4096) / 16);
	assert_int_equal(cd->iorcsz, 1);
	assert_int_equal(cd->ver, NVT_NVME_VS_1_3);
	assert_int_equal(cd->cntrltype, NVT_NVME_CNTRLTYPE_IO);
	assert_int_equal(cd->aerl, 3);
	assert_int_equal(cd->maxcmd, 128);
	assert_true(cd->oncs & NVT_NVME_ONCS_DSM);
	assert_true(cd->oncs & NVT_NVME_ONCS_WRITE_ZEROES);
	assert_true(cd->oncs & NVT_NVME_ONCS_COMPARE);
	req_free(req);

	req = identify_req(qp, NVT_NVME_CNS_NS, 1);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	nsd = (const void *)req->data;
	assert_int_equal(nsd->nsze, NUM_BLOCKS);
	assert_int_equal(nsd->ncap, NUM_BLOCKS);
	assert_int_equal(nsd->nlbaf, 0);
	assert_int_equal(nsd->lbaf[0].lbads, 9);
	req_free(req);

	/* An inactive NSID in range reads as zeroes; 0 and above NN are invalid. */
	req = identify_req(qp, NVT_NVME_CNS_NS, 5);
	memset(req->data, 0xaa, 4096);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	for (i = 0; i < 4096; i++) {
		assert_int_equal(req->data[i], 0);
	}
	req_free(req);
	req = identify_req(qp, NVT_NVME_CNS_NS, 33);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true));
	req_free(req);

	req = identify_req(qp, NVT_NVME_CNS_ACTIVE_NS_LIST, 0);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	memcpy(&nsid, req->data, 4);
	assert_int_equal(nsid, 1);
	memcpy(&nsid, req->data + 4, 4);
	assert_int_equal(nsid, 0);
	req_free(req);
	req = identify_req(qp, NVT_NVME_CNS_ACTIVE_NS_LIST, 1);
	req_run(req);
	memcpy(&nsid, req->data, 4);
	assert_int_equal(nsid, 0);
	req_free(req);

	/* Descriptors: NGUID and UUID, both the bdev's UUID by default, then the command set. */
	req = identify_req(qp, NVT_NVME_CNS_NS_ID_DESC_LIST, 1);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	d = (const void *)req->data;
	assert_int_equal(d->nidt, NVT_NVME_NIDT_NGUID);
	assert_int_equal(d->nidl, 16);
	assert_memory_equal(d + 1, nvt_bdev_get_uuid(nvt_bdev_get_by_name("Malloc0")), 16);
	d = (const void *)((const uint8_t *)d + sizeof(*d) + 16);
	assert_int_equal(d->nidt, NVT_NVME_NIDT_UUID);
	assert_int_equal(d->nidl, 16);
	assert_memory_equal(d + 1, nvt_bdev_get_uuid(nvt_bdev_get_by_name("Malloc0")), 16);
	d = (const void *)((const uint8_t *)d + sizeof(*d) + 16);
	assert_int_equal(d->nidt, NVT_NVME_NIDT_CSI);
	assert_int_equal(d->nidl, 1);
	assert_int_equal(*(const uint8_t *)(d + 1), NVT_NVME_CSI_NVM);
	req_free(req);

	/* CNS 6 (I/O command set specific controller data, NVM): zeroes. */
	req = identify_req(qp, NVT_NVME_CNS_IOCS_CTRL, 0);
	memset(req->data, 0xaa, 4096);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_int_equal(req->data[0], 0);
	assert_int_equal(req->data[4095], 0);
	req_free(req);
	/* Unknown CNS. */
	req = identify_req(qp, 0x55, 0);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true));
	req_free(req);
	qpair_close(qp);
}

/* ---- log pages and AER ---- */

static void
test_get_log_page(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4420");
	struct fake_req *req, *aer;
	uint32_t nsid;

	(void)state;
	admin_connect(qp, SUBNQN, HOSTA, 0);
	req = get_log_req(qp, NVT_NVME_LOG_SMART, 512, 0);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_int_equal(((const struct nvt_nvme_smart_log *)(void *)req->data)->avail_spare, 100);
	req_free(req);

	/* Firmware slot log from offset 8: the revision of slot 1. */
	req = get_log_req(qp, NVT_NVME_LOG_FIRMWARE_SLOT, 8, 8);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_memory_equal(req->data, "nvtcp01 ", 8);
	req_free(req);
	/* Past the end of the page: zeroes. */
	req = get_log_req(qp, NVT_NVME_LOG_FIRMWARE_SLOT, 8, 4096);
	memset(req->data, 0xaa, 8);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_int_equal(req->data[0], 0);
	req_free(req);
	/* Offset must be dword aligned. */
	req = get_log_req(qp, NVT_NVME_LOG_SMART, 8, 2);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true));
	req_free(req);
	req = get_log_req(qp, 0x7e, 8, 0);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVME_SC_INVALID_LOG_PAGE, true));
	req_free(req);

	/* An AER waits; adding a namespace completes it; the changed list names it. */
	aer = admin_req(qp, NVT_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
	aer->done = false;
	nvt_thread_send_msg(qp->base.group->thread, exec_msg, aer);
	poll_all();
	assert_false(aer->done);
	nvt_set_thread(g_app);
	assert_int_equal(
		nvt_nvmf_subsystem_add_ns(nvt_nvmf_subsystem_find(SUBNQN), "Malloc1", NULL), 2);
	poll_all();
	assert_true(aer->done);
	assert_int_equal(status_of(aer), ST_OK);
	assert_int_equal(aer->cpl.cdw0, nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE,
							  NVT_NVME_AER_INFO_NOTICE_NS_ATTR_CHANGED,
							  NVT_NVME_LOG_CHANGED_NS_LIST));
	req = get_log_req(qp, NVT_NVME_LOG_CHANGED_NS_LIST, 4096, 0);
	req_run(req);
	memcpy(&nsid, req->data, 4);
	assert_int_equal(nsid, 2);
	memcpy(&nsid, req->data + 4, 4);
	assert_int_equal(nsid, 0);
	req_free(req);
	/* Read without RAE: cleared. */
	req = get_log_req(qp, NVT_NVME_LOG_CHANGED_NS_LIST, 4096, 0);
	req_run(req);
	memcpy(&nsid, req->data, 4);
	assert_int_equal(nsid, 0);
	req_free(req);
	/* A fifth AER is over the limit; the four held are aborted at teardown. */
	aer->done = false;
	nvt_thread_send_msg(qp->base.group->thread, exec_msg, aer);
	poll_all();
	assert_false(aer->done);
	{
		struct fake_req *more[3];
		int i;

		for (i = 0; i < 3; i++) {
			more[i] = admin_req(qp, NVT_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
			nvt_thread_send_msg(qp->base.group->thread, exec_msg, more[i]);
		}
		poll_all();
		req = admin_req(qp, NVT_NVME_OPC_ASYNC_EVENT_REQUEST, 0);
		req_run(req);
		assert_int_equal(status_of(req),
				 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
					NVT_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, true));
		req_free(req);
		qpair_close(qp);
		assert_true(aer->done);
		assert_int_equal(status_of(aer), STATUS(NVT_NVME_SCT_GENERIC,
							NVT_NVME_SC_ABORTED_SQ_DELETION, false));
		for (i = 0; i < 3; i++) {
			assert_true(more[i]->done);
			req_free(more[i]);
		}
	}
	req_free(aer);
}

/* ---- features ---- */

static struct fake_req *
feat_req(struct fake_qpair *qp, uint8_t opc, uint8_t fid, uint32_t cdw11)
{
	struct fake_req *req = admin_req(qp, opc, 0);

	req->cmd.cmd.cdw10 = fid;
	req->cmd.cmd.cdw11 = cdw11;
	return req;
}

static void
test_features(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4420");
	struct fake_qpair *io;
	struct fake_req *req;
	uint16_t cntlid;

	(void)state;
	cntlid = admin_connect(qp, SUBNQN, HOSTA, 30000);
	req = feat_req(qp, NVT_NVME_OPC_GET_FEATURES, NVT_NVME_FEAT_KEEP_ALIVE_TIMER, 0);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_int_equal(req->cpl.cdw0, 30000);
	req_free(req);
	req = feat_req(qp, NVT_NVME_OPC_SET_FEATURES, NVT_NVME_FEAT_KEEP_ALIVE_TIMER, 60000);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	req_free(req);
	req = feat_req(qp, NVT_NVME_OPC_GET_FEATURES, NVT_NVME_FEAT_KEEP_ALIVE_TIMER, 0);
	req_run(req);
	assert_int_equal(req->cpl.cdw0, 60000);
	req_free(req);

	/* Ask for 4 I/O queues of each kind (0's based 3). */
	req = feat_req(qp, NVT_NVME_OPC_SET_FEATURES, NVT_NVME_FEAT_NUMBER_OF_QUEUES,
		       nvt_nvme_feat_num_queues(3, 3));
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_int_equal(req->cpl.cdw0, nvt_nvme_feat_num_queues(3, 3));
	req_free(req);
	/* More than the controller has: granted the maximum (127 -> 126 0's based). */
	req = feat_req(qp, NVT_NVME_OPC_SET_FEATURES, NVT_NVME_FEAT_NUMBER_OF_QUEUES,
		       nvt_nvme_feat_num_queues(1000, 1000));
	req_run(req);
	assert_int_equal(req->cpl.cdw0, nvt_nvme_feat_num_queues(126, 126));
	req_free(req);
	req = feat_req(qp, NVT_NVME_OPC_SET_FEATURES, NVT_NVME_FEAT_NUMBER_OF_QUEUES,
		       nvt_nvme_feat_num_queues(3, 3));
	req_run(req);
	req_free(req);
	req = feat_req(qp, NVT_NVME_OPC_GET_FEATURES, NVT_NVME_FEAT_NUMBER_OF_QUEUES, 0);
	req_run(req);
	assert_int_equal(req->cpl.cdw0, nvt_nvme_feat_num_queues(3, 3));
	req_free(req);

	io = qpair_new("127.0.0.1", "4420");
	assert_int_equal(do_connect(io, 5, 63, SUBNQN, HOSTA, cntlid, 0, NULL),
			 STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
				NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS, true));
	assert_int_equal(do_connect(io, 4, 63, SUBNQN, HOSTA, cntlid, 0, NULL), ST_OK);
	/* Queue count is fixed once I/O queues exist. */
	req = feat_req(qp, NVT_NVME_OPC_SET_FEATURES, NVT_NVME_FEAT_NUMBER_OF_QUEUES,
		       nvt_nvme_feat_num_queues(7, 7));
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, true));
	req_free(req);
	/* Saving is not supported; unknown features are invalid. */
	req = feat_req(qp, NVT_NVME_OPC_SET_FEATURES, NVT_NVME_FEAT_ARBITRATION, 0);
	req->cmd.cmd.cdw10 |= 1u << 31;
	req_run(req);
	assert_int_equal(status_of(req), STATUS(NVT_NVME_SCT_COMMAND_SPECIFIC,
						NVT_NVME_SC_FEATURE_ID_NOT_SAVEABLE, true));
	req_free(req);
	req = feat_req(qp, NVT_NVME_OPC_GET_FEATURES, 0x77, 0);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true));
	req_free(req);
	/* The I/O queue closes on its own; the admin queue stays. */
	qpair_close(io);
	assert_false(qp->fini);
	qpair_close(qp);
}

/* ---- keep alive ---- */

static void
test_keep_alive(void **state)
{
	struct fake_qpair *qp = qpair_new("127.0.0.1", "4420");
	struct fake_req *req;
	int i;

	(void)state;
	admin_connect(qp, SUBNQN, HOSTA, 100);
	/* Keep Alives every 30 ms keep it up for 300 ms. */
	for (i = 0; i < 10; i++) {
		req = admin_req(qp, NVT_NVME_OPC_KEEP_ALIVE, 0);
		req_run(req);
		assert_int_equal(status_of(req), ST_OK);
		req_free(req);
		poll_for_ms(30);
		assert_false(qp->fini);
	}
	/* Silence: gone between KATO and 1.25 x KATO, and not before KATO. */
	poll_for_ms(60);
	assert_false(qp->fini);
	poll_for_ms(100);
	assert_true(qp->fini);
	assert_true(TAILQ_EMPTY(&nvt_nvmf_subsystem_find(SUBNQN)->ctrlrs));
	free(qp);
}

/* ---- I/O ---- */

static struct fake_req *
io_req(struct fake_qpair *qp, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	enum nvmf_xfer xfer = opc == NVT_NVME_OPC_READ ? NVMF_XFER_CTRLR_TO_HOST
			      : (opc == NVT_NVME_OPC_WRITE || opc == NVT_NVME_OPC_COMPARE)
				      ? NVMF_XFER_HOST_TO_CTRLR
				      : NVMF_XFER_NONE;
	uint32_t len = xfer != NVMF_XFER_NONE ? nlb * BLOCK_SIZE : 0;
	struct fake_req *req = req_new(qp, opc, len, xfer);

	req->cmd.cmd.nsid = nsid;
	nvt_nvme_rw_set(&req->cmd.cmd, slba, nlb);
	return req;
}

static void
fill_pattern(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(seed + i * 7);
	}
}

static void
read_check(struct fake_qpair *io, uint64_t slba, uint32_t nlb, const uint8_t *want)
{
	struct fake_req *req = io_req(io, NVT_NVME_OPC_READ, 1, slba, nlb);

	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_memory_equal(req->data, want, (size_t)nlb * BLOCK_SIZE);
	req_free(req);
}

static void
io_setup(struct fake_qpair **admin, struct fake_qpair **io)
{
	uint16_t cntlid;

	*admin = qpair_new("127.0.0.1", "4420");
	cntlid = admin_connect(*admin, SUBNQN, HOSTA, 0);
	*io = qpair_new("127.0.0.1", "4420");
	assert_int_equal(do_connect(*io, 1, 127, SUBNQN, HOSTA, cntlid, 0, NULL), ST_OK);
	/* Placement rotates: the I/O queue sits on the other poll group. */
	assert_ptr_not_equal((*io)->base.group, (*admin)->base.group);
}

static void
test_io_rw(void **state)
{
	struct fake_qpair *admin, *io;
	struct fake_req *req;
	uint8_t want[8 * BLOCK_SIZE];

	(void)state;
	io_setup(&admin, &io);
	req = io_req(io, NVT_NVME_OPC_WRITE, 1, 10, 8);
	fill_pattern(req->data, sizeof(want), 3);
	memcpy(want, req->data, sizeof(want));
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	assert_int_equal(req->cpl.sqid, 1);
	req_free(req);
	read_check(io, 10, 8, want);

	/* Compare: equal, then one byte off. */
	req = io_req(io, NVT_NVME_OPC_COMPARE, 1, 10, 8);
	memcpy(req->data, want, sizeof(want));
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	req->data[1000] ^= 1;
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_MEDIA_ERROR, NVT_NVME_SC_COMPARE_FAILURE, true));
	req_free(req);

	/* Write Zeroes over the first 2 blocks. */
	req = io_req(io, NVT_NVME_OPC_WRITE_ZEROES, 1, 10, 2);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	req_free(req);
	memset(want, 0, 2 * BLOCK_SIZE);
	read_check(io, 10, 8, want);

	/* Flush: nothing cached, succeeds. */
	req = io_req(io, NVT_NVME_OPC_FLUSH, 1, 0, 1);
	req->cmd.cmd.cdw10 = req->cmd.cmd.cdw11 = req->cmd.cmd.cdw12 = 0;
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	req_free(req);
	qpair_close(io);
	qpair_close(admin);
}

static void
test_io_dsm(void **state)
{
	struct fake_qpair *admin, *io;
	struct fake_req *req;
	struct nvt_nvme_dsm_range r[2];
	uint8_t want[8 * BLOCK_SIZE];

	(void)state;
	io_setup(&admin, &io);
	req = io_req(io, NVT_NVME_OPC_WRITE, 1, 100, 8);
	fill_pattern(req->data, sizeof(want), 9);
	memcpy(want, req->data, sizeof(want));
	req_run(req);
	req_free(req);

	/* Deallocate blocks 101 and 105..106. */
	memset(r, 0, sizeof(r));
	r[0].slba = 101;
	r[0].nlb = 1;
	r[1].slba = 105;
	r[1].nlb = 2;
	req = req_new(io, NVT_NVME_OPC_DATASET_MANAGEMENT, sizeof(r), NVMF_XFER_HOST_TO_CTRLR);
	req->cmd.cmd.nsid = 1;
	req->cmd.cmd.cdw10 = 1; /* two ranges */
	req->cmd.cmd.cdw11 = NVT_NVME_DSM_ATTR_AD;
	memcpy(req->data, r, sizeof(r));
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	/* A range past the end fails the whole command. */
	r[1].slba = NUM_BLOCKS - 1;
	memcpy(req->data, r, sizeof(r));
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE, true));
	req_free(req);
	memset(want + BLOCK_SIZE, 0, BLOCK_SIZE);
	memset(want + 5 * BLOCK_SIZE, 0, 2 * BLOCK_SIZE);
	read_check(io, 100, 8, want);
	qpair_close(io);
	qpair_close(admin);
}

static void
test_io_errors(void **state)
{
	struct fake_qpair *admin, *io;
	struct fake_req *req;

	(void)state;
	io_setup(&admin, &io);
	/* Last block + 1. */
	req = io_req(io, NVT_NVME_OPC_READ, 1, NUM_BLOCKS - 1, 2);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE, true));
	req_free(req);
	req = io_req(io, NVT_NVME_OPC_WRITE_ZEROES, 1, NUM_BLOCKS, 1);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE, true));
	req_free(req);
	/* No namespace 7 (and none at 0). */
	req = io_req(io, NVT_NVME_OPC_READ, 7, 0, 1);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true));
	req->cmd.cmd.nsid = 0;
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true));
	req_free(req);
	/* Unknown opcode, on I/O and admin queues. */
	req = io_req(io, 0x7e, 1, 0, 1);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true));
	req_free(req);
	req = admin_req(admin, 0x7e, 0);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true));
	req_free(req);
	/* Data shorter than the blocks. */
	req = io_req(io, NVT_NVME_OPC_WRITE, 1, 0, 2);
	req->base.length = BLOCK_SIZE;
	req->iov[1].iov_len = 0;
	req->iov[0].iov_len = BLOCK_SIZE;
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID, true));
	req_free(req);
	/* The controller disabled: I/O gets Command Sequence Error. */
	assert_int_equal(prop_set(admin, NVT_NVME_PROP_CC, 0), ST_OK);
	req = io_req(io, NVT_NVME_OPC_READ, 1, 0, 1);
	req_run(req);
	assert_int_equal(status_of(req),
			 STATUS(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, true));
	req_free(req);
	qpair_close(io);
	qpair_close(admin);
}

/* ---- discovery ---- */

static uint64_t
discovery_numrec(struct fake_qpair *qp, char first_subnqn[NVT_NVMF_NQN_FIELD_SIZE])
{
	struct fake_req *req = get_log_req(qp, NVT_NVME_LOG_DISCOVERY, 1024, 0);
	const struct nvt_nvmf_disc_log_hdr *hdr;
	const struct nvt_nvmf_disc_log_entry *e;
	uint64_t n;

	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	hdr = (const void *)req->data;
	n = hdr->numrec;
	req_free(req);
	if (n == 0) {
		return 0;
	}
	/* The first entry, read at its offset. */
	req = get_log_req(qp, NVT_NVME_LOG_DISCOVERY, 1024, 1024);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	e = (const void *)req->data;
	assert_int_equal(e->trtype, NVT_NVMF_TRTYPE_TCP);
	assert_int_equal(e->adrfam, NVT_NVMF_ADRFAM_IPV4);
	assert_int_equal(e->subtype, NVT_NVMF_SUBTYPE_NVME);
	assert_int_equal(e->cntlid, NVT_NVMF_CNTLID_DYNAMIC);
	assert_memory_equal(e->trsvcid, "4420 ", 5);
	assert_memory_equal(e->traddr, "127.0.0.1 ", 10);
	snprintf(first_subnqn, NVT_NVMF_NQN_FIELD_SIZE, "%.*s", (int)sizeof(e->subnqn), e->subnqn);
	req_free(req);
	return n;
}

static void
test_discovery(void **state)
{
	struct nvt_nvmf_subsystem *s2;
	struct fake_qpair *qp;
	struct fake_req *req;
	char nqn[NVT_NVMF_NQN_FIELD_SIZE];
	const char *hosts[] = { HOSTA, HOSTB, HOSTC };
	const char *want[] = { SUBNQN, SUBNQN2, NULL };
	int i;

	(void)state;
	nvt_set_thread(g_app);
	assert_int_equal(nvt_nvmf_subsystem_create(SUBNQN2, 4, &s2), 0);
	assert_int_equal(nvt_nvmf_subsystem_add_host(s2, HOSTB), 0);
	add_listener(s2, "127.0.0.1", "4420");
	for (i = 0; i < 3; i++) {
		qp = qpair_new("127.0.0.1", "4420");
		admin_connect(qp, NVT_NVMF_DISCOVERY_NQN, hosts[i], 0);
		memset(nqn, 0, sizeof(nqn));
		assert_int_equal(discovery_numrec(qp, nqn), want[i] != NULL ? 1 : 0);
		if (want[i] != NULL) {
			assert_string_equal(nqn, want[i]);
		}
		/* A discovery controller has no namespaces to identify. */
		req = identify_req(qp, NVT_NVME_CNS_NS, 1);
		req_run(req);
		assert_int_not_equal(status_of(req), ST_OK);
		req_free(req);
		qpair_close(qp);
	}
	/* allow_any_host opens cnode2 to host C as well. */
	nvt_nvmf_subsystem_set_allow_any_host(s2, true);
	qp = qpair_new("127.0.0.1", "4420");
	admin_connect(qp, NVT_NVMF_DISCOVERY_NQN, HOSTC, 0);
	assert_int_equal(discovery_numrec(qp, nqn), 1);
	assert_string_equal(nqn, SUBNQN2);
	qpair_close(qp);
}

/* ---- SPDK's subsystem and transport options ---- */

static uint32_t
get_kato(struct fake_qpair *qp)
{
	struct fake_req *req =
		feat_req(qp, NVT_NVME_OPC_GET_FEATURES, NVT_NVME_FEAT_KEEP_ALIVE_TIMER, 0);
	uint32_t kato;

	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	kato = req->cpl.cdw0;
	req_free(req);
	return kato;
}

/* min_cntlid / max_cntlid, dmrsl / wzsl (CNS 6), kas and min_kato. */
static void
test_spdk_options(void **state)
{
	struct nvmf_transport *transport = TAILQ_FIRST(&nvmf_tgt_get()->transports);
	const struct nvt_nvme_id_ctrl_nvm *nvm;
	const struct nvt_nvme_id_ctrl *cd;
	struct fake_qpair *qp[3];
	struct nvt_nvmf_subsystem *s2;
	struct fake_req *req;

	(void)state;
	nvt_set_thread(g_app);
	assert_int_equal(nvt_nvmf_subsystem_create(SUBNQN2, 4, &s2), 0);
	assert_int_equal(nvt_nvmf_subsystem_set_cntlid_range(s2, 0, 10), -EINVAL);
	assert_int_equal(nvt_nvmf_subsystem_set_cntlid_range(s2, 10, 9), -EINVAL);
	assert_int_equal(nvt_nvmf_subsystem_set_cntlid_range(s2, 1, 0xfff0), -EINVAL);
	assert_int_equal(nvt_nvmf_subsystem_set_cntlid_range(s2, 100, 101), 0);
	nvt_nvmf_subsystem_set_nvm_limits(s2, 4096, 5);
	nvt_nvmf_subsystem_set_allow_any_host(s2, true);
	add_listener(s2, "127.0.0.1", "4420");
	transport->opts.min_kato = 10000;

	qp[0] = qpair_new("127.0.0.1", "4420");
	assert_int_equal(admin_connect(qp[0], SUBNQN2, HOSTA, 5000), 100);
	assert_int_equal(get_kato(qp[0]), 10000);
	qp[1] = qpair_new("127.0.0.1", "4420");
	assert_int_equal(admin_connect(qp[1], SUBNQN2, HOSTB, 0), 101);
	assert_int_equal(get_kato(qp[1]), 0);
	/* The range is used up. */
	qp[2] = qpair_new("127.0.0.1", "4420");
	assert_int_not_equal(
		do_connect(qp[2], 0, 31, SUBNQN2, HOSTC, NVT_NVMF_CNTLID_DYNAMIC, 20000, NULL),
		ST_OK);
	assert_int_equal(nvt_nvmf_subsystem_set_cntlid_range(s2, 1, 10), -EBUSY);

	req = identify_req(qp[0], NVT_NVME_CNS_CTRL, 0);
	req_run(req);
	cd = (const void *)req->data;
	assert_int_equal(cd->kas, 10);
	req_free(req);
	req = identify_req(qp[0], NVT_NVME_CNS_IOCS_CTRL, 0);
	req_run(req);
	assert_int_equal(status_of(req), ST_OK);
	nvm = (const void *)req->data;
	assert_int_equal(nvm->dmrsl, 4096);
	assert_int_equal(nvm->wzsl, 5);
	assert_int_equal(nvm->dmrl, 0);
	req_free(req);

	/* The freed ID comes back. */
	qpair_close(qp[1]);
	poll_all();
	assert_int_equal(admin_connect(qp[2], SUBNQN2, HOSTC, 20000), 101);
	assert_int_equal(get_kato(qp[2]), 20000);
	transport->opts.min_kato = 0;
	qpair_close(qp[0]);
	qpair_close(qp[2]);
}

/* ---- deletion with controllers connected ---- */

static void
test_subsystem_delete_connected(void **state)
{
	struct fake_qpair *admin, *io;

	(void)state;
	io_setup(&admin, &io);
	nvt_set_thread(g_app);
	assert_int_equal(nvt_nvmf_subsystem_delete(nvt_nvmf_subsystem_find(SUBNQN), done_cb, NULL),
			 0);
	poll_for_ms(20);
	assert_true(g_done);
	g_done = false;
	assert_true(admin->fini);
	assert_true(io->fini);
	assert_null(nvt_nvmf_subsystem_find(SUBNQN));
	free(admin);
	free(io);
}

/* Target shutdown with hosts connected: teardown() does the rest. */
static void
test_fini_connected(void **state)
{
	struct fake_qpair *admin, *io;
	struct fake_qpair *idle;

	(void)state;
	io_setup(&admin, &io);
	idle = qpair_new("127.0.0.1", "4420");
	nvt_set_thread(g_app);
	nvt_nvmf_tgt_fini(done_cb, NULL);
	wait_done();
	assert_true(admin->fini && io->fini && idle->fini);
	free(admin);
	free(io);
	free(idle);
	/* A second fini is a no-op that completes. */
	nvt_nvmf_tgt_fini(done_cb, NULL);
	wait_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_wrong_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_log_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_dsm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spdk_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subsystem_delete_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fini_connected, setup, teardown),
	};

	nvmf_transport_register(&g_fake_ops);
	nvt_log_set_level(NVT_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
