/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controller set-up, keep alive and shutdown over the admin queue.
 *
 * Set-up is one state machine driven by admin command completions: Fabrics
 * Connect (inside the admin queue's own set-up), CAP, VS, CC.EN, CSTS.RDY,
 * Identify controller, the NVM command set's Identify controller (VS 1.4 on),
 * Number of Queues, active namespace list, Identify namespace for each.
 * Shutdown: CC.SHN, CSTS.SHST, close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "nvme_internal.h"

/* Interval of CSTS polls while waiting for RDY or SHST. */
#define CSTS_POLL_US 2000
/* Longest wait for shutdown to complete. */
#define SHUTDOWN_TIMEOUT_MS 5000
/* Byte of the Write Zeroes Size Limit in the NVM command set's Identify controller data. */
#define ID_CTRL_NVM_WZSL 1

static void init_step(struct nvt_nvme_ctrlr *ctrlr);

static void
ctrlr_set_state(struct nvt_nvme_ctrlr *ctrlr, enum nvme_ctrlr_state state)
{
	NVT_DEBUGLOG(nvme, "ctrlr %s: state %d -> %d\n", ctrlr->trid.subnqn, ctrlr->state, state);
	ctrlr->state = state;
}

const struct nvt_nvme_ctrlr_opts *
nvme_ctrlr_get_opts(const struct nvt_nvme_ctrlr *ctrlr)
{
	return &ctrlr->opts;
}

void
nvme_ctrlr_mark_failed(struct nvt_nvme_ctrlr *ctrlr)
{
	atomic_store(&ctrlr->failed, true);
}

uint32_t
nvme_ctrlr_get_io_icd_size(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr->cdata.ioccsz > 4 ? (ctrlr->cdata.ioccsz - 4) * 16 : 0;
}

void
nvme_ctrlr_fill_connect(const struct nvt_nvme_ctrlr *ctrlr, uint16_t qid, uint32_t sqsize,
			struct nvt_nvmf_connect_cmd *cmd, struct nvt_nvmf_connect_data *data)
{
	memset(data, 0, sizeof(*data));
	cmd->opc = NVT_NVME_OPC_FABRICS;
	cmd->fctype = NVT_NVMF_FCTYPE_CONNECT;
	cmd->qid = qid;
	cmd->sqsize = (uint16_t)sqsize;
	cmd->kato = qid == 0 ? ctrlr->opts.kato_ms : 0;
	memcpy(data->hostid, ctrlr->opts.hostid, sizeof(data->hostid));
	data->cntlid = qid == 0 ? NVT_NVMF_CNTLID_DYNAMIC : ctrlr->cntlid;
	nvt_strcpy_trunc(data->subnqn, sizeof(data->subnqn), ctrlr->trid.subnqn);
	nvt_strcpy_trunc(data->hostnqn, sizeof(data->hostnqn), ctrlr->opts.hostnqn);
}

/* ---- admin commands ---- */

static bool
opc_is_h2c(uint8_t opc)
{
	return (opc & 0x3u) == NVT_NVME_DATA_HOST_TO_CONTROLLER;
}

int
nvt_nvme_ctrlr_cmd_admin(struct nvt_nvme_ctrlr *ctrlr, const struct nvt_nvme_cmd *cmd, void *buf,
			 uint32_t len, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	if (ctrlr->adminq == NULL) {
		return -ENXIO;
	}
	return nvme_qpair_submit(ctrlr->adminq, cmd, buf, len, opc_is_h2c(cmd->opc), cb_fn, cb_arg);
}

static int
prop_get(struct nvt_nvme_ctrlr *ctrlr, uint32_t ofst, bool size8, nvt_nvme_cmd_cb cb_fn)
{
	union nvt_nvme_sqe sqe = { 0 };

	sqe.prop_get.opc = NVT_NVME_OPC_FABRICS;
	sqe.prop_get.fctype = NVT_NVMF_FCTYPE_PROPERTY_GET;
	sqe.prop_get.attrib = size8 ? NVT_NVMF_PROP_SIZE_8 : NVT_NVMF_PROP_SIZE_4;
	sqe.prop_get.ofst = ofst;
	return nvme_qpair_submit(ctrlr->adminq, &sqe.cmd, NULL, 0, false, cb_fn, ctrlr);
}

static int
prop_set(struct nvt_nvme_ctrlr *ctrlr, uint32_t ofst, uint32_t value, nvt_nvme_cmd_cb cb_fn)
{
	union nvt_nvme_sqe sqe = { 0 };

	sqe.prop_set.opc = NVT_NVME_OPC_FABRICS;
	sqe.prop_set.fctype = NVT_NVMF_FCTYPE_PROPERTY_SET;
	sqe.prop_set.attrib = NVT_NVMF_PROP_SIZE_4;
	sqe.prop_set.ofst = ofst;
	sqe.prop_set.value = value;
	return nvme_qpair_submit(ctrlr->adminq, &sqe.cmd, NULL, 0, false, cb_fn, ctrlr);
}

static int
identify(struct nvt_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid, void *buf, nvt_nvme_cmd_cb cb_fn)
{
	/* CDW11 CSI (bits 31:24) is 0: the NVM command set. */
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_IDENTIFY, .nsid = nsid, .cdw10 = cns };

	return nvme_qpair_submit(ctrlr->adminq, &cmd, buf, NVT_NVME_IDENTIFY_DATA_SIZE, false,
				 cb_fn, ctrlr);
}

/* ---- set-up ---- */

/* A teardown step, in the controller's own storage: it cannot be lost for lack of memory. */
static void
ctrlr_send_step(struct nvt_nvme_ctrlr *ctrlr, nvt_msg_fn fn)
{
	int rc = nvt_thread_send_msg_prealloc(ctrlr->thread, &ctrlr->msg, fn, ctrlr);

	if (rc != 0) {
		NVT_ERRLOG("ctrlr %s: teardown step lost: rc %d (%s)\n", ctrlr->trid.subnqn, rc,
			   nvt_strerror(rc));
	}
}

static void
ctrlr_free(struct nvt_nvme_ctrlr *ctrlr)
{
	nvt_poller_unregister(&ctrlr->timer);
	nvt_poller_unregister(&ctrlr->ka_poller);
	if (ctrlr->adminq != NULL) {
		nvme_qpair_destroy(ctrlr->adminq);
		ctrlr->adminq = NULL;
	}
	if (nvt_nvme_poll_group_destroy(&ctrlr->group) != 0) {
		NVT_ERRLOG("ctrlr %s: admin poll group still busy\n", ctrlr->trid.subnqn);
	}
	nvme_keys_destroy(&ctrlr->keys);
	free(ctrlr->nsids);
	free(ctrlr->nsdata);
	free(ctrlr);
}

static void
init_fail_msg(void *arg)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	nvt_nvme_ctrlr_connect_cb cb_fn = ctrlr->connect_cb;
	void *cb_arg = ctrlr->connect_cb_arg;
	int rc = ctrlr->rc;
	uint16_t status = ctrlr->status;

	if (ctrlr->adminq != NULL) {
		nvme_qpair_destroy(ctrlr->adminq);
		ctrlr->adminq = NULL;
	}
	/* The admin socket is closed; free on the next message, outside every callback. */
	ctrlr_send_step(ctrlr, (nvt_msg_fn)ctrlr_free);
	cb_fn(cb_arg, NULL, rc, status);
}

/* Report a failed set-up once, from a message (never inside a socket callback). */
static void
init_fail(struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	if (ctrlr->state == NVME_CTRLR_STATE_DEAD) {
		return;
	}
	ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_DEAD);
	nvt_poller_unregister(&ctrlr->timer);
	ctrlr->rc = rc;
	ctrlr->status = status;
	ctrlr_send_step(ctrlr, init_fail_msg);
}

static int ka_poll(void *arg);

static void
init_done(struct nvt_nvme_ctrlr *ctrlr)
{
	ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_READY);
	nvt_poller_unregister(&ctrlr->timer);
	if (ctrlr->opts.kato_ms > 0) {
		ctrlr->ka_poller = nvt_poller_register(
			ka_poll, ctrlr, (uint64_t)ctrlr->opts.kato_ms * 1000 / 2, "nvme_ka");
	}
	ctrlr->connect_cb(ctrlr->connect_cb_arg, ctrlr, 0, 0);
}

static void init_cmd_done(void *arg, const struct nvt_nvme_cpl *cpl);

static int
csts_poll(void *arg)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	int rc;

	nvt_poller_unregister(&ctrlr->timer);
	rc = prop_get(ctrlr, NVT_NVME_PROP_CSTS, false, init_cmd_done);
	if (rc != 0) {
		init_fail(ctrlr, rc, 0);
	}
	return NVT_POLLER_BUSY;
}

static void
wait_rdy(struct nvt_nvme_ctrlr *ctrlr, uint32_t csts)
{
	if ((csts & NVT_NVME_CSTS_CFS) != 0) {
		NVT_ERRLOG("ctrlr %s: controller fatal status\n", ctrlr->trid.subnqn);
		init_fail(ctrlr, -EIO, 0);
		return;
	}
	if ((csts & NVT_NVME_CSTS_RDY) != 0) {
		ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_IDENTIFY);
		init_step(ctrlr);
		return;
	}
	if (nvt_get_ticks() > ctrlr->deadline) {
		NVT_ERRLOG("ctrlr %s: CSTS.RDY not set within CAP.TO\n", ctrlr->trid.subnqn);
		init_fail(ctrlr, -ETIMEDOUT, 0);
		return;
	}
	ctrlr->timer = nvt_poller_register(csts_poll, ctrlr, CSTS_POLL_US, "nvme_csts");
}

static int
ns_list_parse(struct nvt_nvme_ctrlr *ctrlr)
{
	uint32_t n = 0;

	while (n < NVT_NVME_NS_LIST_ENTRIES && ctrlr->ns_list.nsid[n] != 0) {
		n++;
	}
	ctrlr->nsids = calloc(n ? n : 1, sizeof(*ctrlr->nsids));
	ctrlr->nsdata = calloc(n ? n : 1, sizeof(*ctrlr->nsdata));
	if (ctrlr->nsids == NULL || ctrlr->nsdata == NULL) {
		return -ENOMEM;
	}
	memcpy(ctrlr->nsids, ctrlr->ns_list.nsid, n * sizeof(uint32_t));
	ctrlr->num_ns = n;
	ctrlr->ns_index = 0;
	return 0;
}

/* The result of the command of the current state: note it and go on. */
static void
init_cmd_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	enum nvme_ctrlr_state next = ctrlr->state;

	if (ctrlr->state == NVME_CTRLR_STATE_DEAD) {
		return;
	}
	if (cpl->status == NVT_NVME_STATUS_HOST_PATH_ERROR && ctrlr->adminq->fatal_rc != 0) {
		init_fail(ctrlr, ctrlr->adminq->fatal_rc, 0);
		return;
	}
	if (ctrlr->state == NVME_CTRLR_STATE_IDENTIFY_IOCS && nvt_nvme_cpl_is_error(cpl)) {
		/* Not supported: Write Zeroes has no limit but its NLB field's. */
		ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_SET_NUM_QUEUES);
		init_step(ctrlr);
		return;
	}
	if (nvt_nvme_cpl_is_error(cpl)) {
		char buf[96];

		NVT_ERRLOG("ctrlr %s: set-up command of state %d failed: %s\n", ctrlr->trid.subnqn,
			   ctrlr->state, nvt_nvme_status_fmt(cpl->status, buf, sizeof(buf)));
		init_fail(ctrlr, -EREMOTEIO, cpl->status);
		return;
	}
	switch (ctrlr->state) {
	case NVME_CTRLR_STATE_GET_CAP:
		ctrlr->cap = nvt_nvmf_prop_get_rsp_value(cpl);
		next = NVME_CTRLR_STATE_GET_VS;
		break;
	case NVME_CTRLR_STATE_GET_VS:
		ctrlr->vs = cpl->cdw0;
		next = NVME_CTRLR_STATE_ENABLE;
		break;
	case NVME_CTRLR_STATE_ENABLE:
		ctrlr->deadline =
			nvt_get_ticks() + nvt_us_to_ticks(((ctrlr->cap >> NVT_NVME_CAP_TO_SHIFT) &
							   NVT_NVME_CAP_TO_MASK) *
								  500000 +
							  500000);
		next = NVME_CTRLR_STATE_WAIT_RDY;
		break;
	case NVME_CTRLR_STATE_WAIT_RDY:
		wait_rdy(ctrlr, cpl->cdw0);
		return;
	case NVME_CTRLR_STATE_IDENTIFY:
		if (nvt_nvme_ctrlr_is_discovery(ctrlr)) {
			init_done(ctrlr);
			return;
		}
		/* CNS 06h came with NVMe 2.0; some 1.4 controllers have it too. */
		next = ctrlr->vs >= NVT_NVME_VS_1_4 ? NVME_CTRLR_STATE_IDENTIFY_IOCS
						    : NVME_CTRLR_STATE_SET_NUM_QUEUES;
		break;
	case NVME_CTRLR_STATE_IDENTIFY_IOCS:
		ctrlr->wzsl = ctrlr->id_ctrl_nvm[ID_CTRL_NVM_WZSL];
		next = NVME_CTRLR_STATE_SET_NUM_QUEUES;
		break;
	case NVME_CTRLR_STATE_SET_NUM_QUEUES:
		ctrlr->num_io_queues = (uint32_t)nvt_nvme_feat_num_queues_nsq(cpl->cdw0) + 1;
		if (nvt_nvme_feat_num_queues_ncq(cpl->cdw0) + 1u < ctrlr->num_io_queues) {
			ctrlr->num_io_queues = nvt_nvme_feat_num_queues_ncq(cpl->cdw0) + 1u;
		}
		next = NVME_CTRLR_STATE_ACTIVE_NS_LIST;
		break;
	case NVME_CTRLR_STATE_ACTIVE_NS_LIST:
		if (ns_list_parse(ctrlr) != 0) {
			init_fail(ctrlr, -ENOMEM, 0);
			return;
		}
		next = NVME_CTRLR_STATE_IDENTIFY_NS;
		break;
	case NVME_CTRLR_STATE_IDENTIFY_NS:
		ctrlr->ns_index++;
		break;
	default:
		return;
	}
	ctrlr_set_state(ctrlr, next);
	init_step(ctrlr);
}

static int
init_set_num_queues(struct nvt_nvme_ctrlr *ctrlr)
{
	uint16_t n = (uint16_t)(ctrlr->opts.num_io_queues - 1);
	struct nvt_nvme_cmd cmd = {
		.opc = NVT_NVME_OPC_SET_FEATURES,
		.cdw10 = NVT_NVME_FEAT_NUMBER_OF_QUEUES,
		.cdw11 = nvt_nvme_feat_num_queues(n, n),
	};

	return nvme_qpair_submit(ctrlr->adminq, &cmd, NULL, 0, false, init_cmd_done, ctrlr);
}

/* Issue the command of the current state. */
static void
init_step(struct nvt_nvme_ctrlr *ctrlr)
{
	int rc = 0;

	switch (ctrlr->state) {
	case NVME_CTRLR_STATE_GET_CAP:
		rc = prop_get(ctrlr, NVT_NVME_PROP_CAP, true, init_cmd_done);
		break;
	case NVME_CTRLR_STATE_GET_VS:
		rc = prop_get(ctrlr, NVT_NVME_PROP_VS, false, init_cmd_done);
		break;
	case NVME_CTRLR_STATE_ENABLE:
		ctrlr->cc = NVT_NVME_CC_EN | (6u << NVT_NVME_CC_IOSQES_SHIFT) |
			    (4u << NVT_NVME_CC_IOCQES_SHIFT);
		rc = prop_set(ctrlr, NVT_NVME_PROP_CC, ctrlr->cc, init_cmd_done);
		break;
	case NVME_CTRLR_STATE_WAIT_RDY:
		rc = prop_get(ctrlr, NVT_NVME_PROP_CSTS, false, init_cmd_done);
		break;
	case NVME_CTRLR_STATE_IDENTIFY:
		rc = identify(ctrlr, NVT_NVME_CNS_CTRL, 0, &ctrlr->cdata, init_cmd_done);
		break;
	case NVME_CTRLR_STATE_IDENTIFY_IOCS:
		rc = identify(ctrlr, NVT_NVME_CNS_IOCS_CTRL, 0, ctrlr->id_ctrl_nvm, init_cmd_done);
		break;
	case NVME_CTRLR_STATE_SET_NUM_QUEUES:
		rc = init_set_num_queues(ctrlr);
		break;
	case NVME_CTRLR_STATE_ACTIVE_NS_LIST:
		rc = identify(ctrlr, NVT_NVME_CNS_ACTIVE_NS_LIST, 0, &ctrlr->ns_list,
			      init_cmd_done);
		break;
	case NVME_CTRLR_STATE_IDENTIFY_NS:
		if (ctrlr->ns_index == ctrlr->num_ns) {
			init_done(ctrlr);
			return;
		}
		rc = identify(ctrlr, NVT_NVME_CNS_NS, ctrlr->nsids[ctrlr->ns_index],
			      &ctrlr->nsdata[ctrlr->ns_index], init_cmd_done);
		break;
	default:
		break;
	}
	if (rc != 0) {
		init_fail(ctrlr, rc, 0);
	}
}

static void
adminq_ready(struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	struct nvt_nvme_ctrlr *ctrlr = qpair->ctrlr;

	if (rc != 0) {
		init_fail(ctrlr, rc, status);
		return;
	}
	ctrlr->cntlid =
		nvt_nvmf_connect_rsp_cntlid(&(struct nvt_nvme_cpl){ .cdw0 = qpair->connect_cdw0 });
	ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_GET_CAP);
	init_step(ctrlr);
}

static struct nvt_nvme_ctrlr *
ctrlr_alloc(const struct nvt_nvme_trid *trid, const struct nvt_nvme_ctrlr_opts *opts)
{
	struct nvt_nvme_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));

	if (ctrlr == NULL) {
		return NULL;
	}
	ctrlr->trid = *trid;
	if (opts != NULL) {
		memcpy(&ctrlr->opts, opts, sizeof(ctrlr->opts));
	} else {
		nvt_nvme_ctrlr_get_default_opts(&ctrlr->opts, sizeof(ctrlr->opts));
	}
	if (trid->hostnqn[0] != '\0') {
		nvt_strcpy_trunc(ctrlr->opts.hostnqn, sizeof(ctrlr->opts.hostnqn), trid->hostnqn);
	}
	if (ctrlr->trid.subnqn[0] == '\0') {
		nvt_strcpy_trunc(ctrlr->trid.subnqn, sizeof(ctrlr->trid.subnqn),
				 NVT_NVMF_DISCOVERY_NQN);
	}
	if (nvt_nvme_trid_is_discovery(&ctrlr->trid)) {
		ctrlr->opts.kato_ms = 0;
	}
	if (ctrlr->opts.admin_queue_size < 2) {
		ctrlr->opts.admin_queue_size = NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES;
	}
	if (ctrlr->opts.num_io_queues == 0) {
		ctrlr->opts.num_io_queues = 1;
	}
	ctrlr->thread = nvt_get_thread();
	return ctrlr;
}

static void
connect_fail_msg(void *arg)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;

	init_fail_msg(ctrlr);
}

int
nvt_nvme_ctrlr_connect(const struct nvt_nvme_trid *trid, const struct nvt_nvme_ctrlr_opts *opts,
		       nvt_nvme_ctrlr_connect_cb cb_fn, void *cb_arg)
{
	struct nvt_nvme_ctrlr *ctrlr;
	int rc;

	if (trid->trtype != NVT_NVMF_TRTYPE_TCP) {
		return -ENOTSUP;
	}
	if (nvt_get_thread() == NULL || cb_fn == NULL) {
		return -EINVAL;
	}
	ctrlr = ctrlr_alloc(trid, opts);
	if (ctrlr == NULL) {
		return -ENOMEM;
	}
	rc = nvme_keys_create(ctrlr);
	if (rc != 0) {
		ctrlr_free(ctrlr);
		return rc;
	}
	ctrlr->connect_cb = cb_fn;
	ctrlr->connect_cb_arg = cb_arg;
	ctrlr->group = nvt_nvme_poll_group_create();
	ctrlr->adminq = ctrlr->group == NULL ? NULL
					     : nvme_qpair_create(ctrlr, ctrlr->group, 0,
								 ctrlr->opts.admin_queue_size - 1);
	if (ctrlr->adminq == NULL) {
		ctrlr_free(ctrlr);
		return -ENOMEM;
	}
	ctrlr->adminq->ready_fn = adminq_ready;
	ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_CONNECT_ADMINQ);
	rc = nvme_qpair_connect(ctrlr->adminq);
	if (rc != 0) {
		/* Report through the callback, as every other connect failure. */
		ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_DEAD);
		ctrlr->rc = rc;
		rc = nvt_thread_send_msg_prealloc(ctrlr->thread, &ctrlr->msg, connect_fail_msg,
						  ctrlr);
		if (rc != 0) {
			ctrlr_free(ctrlr);
		}
		return rc;
	}
	return 0;
}

/* ---- keep alive ---- */

static void
ka_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;

	ctrlr->ka_outstanding = false;
	if (nvt_nvme_cpl_is_error(cpl) && ctrlr->state == NVME_CTRLR_STATE_READY) {
		NVT_ERRLOG("ctrlr %s: keep alive failed\n", ctrlr->trid.subnqn);
		nvme_ctrlr_mark_failed(ctrlr);
	}
}

static int
ka_poll(void *arg)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	struct nvt_nvme_cmd cmd = { .opc = NVT_NVME_OPC_KEEP_ALIVE };

	if (ctrlr->ka_outstanding || ctrlr->state != NVME_CTRLR_STATE_READY) {
		return NVT_POLLER_IDLE;
	}
	if (nvme_qpair_submit(ctrlr->adminq, &cmd, NULL, 0, false, ka_done, ctrlr) == 0) {
		ctrlr->ka_outstanding = true;
	}
	return NVT_POLLER_BUSY;
}

/* ---- shutdown ---- */

static void
detach_finish_msg(void *arg)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	nvt_nvme_ctrlr_detach_cb cb_fn = ctrlr->detach_cb;
	void *cb_arg = ctrlr->detach_cb_arg;

	ctrlr_free(ctrlr);
	if (cb_fn != NULL) {
		cb_fn(cb_arg);
	}
}

static void
detach_finish(struct nvt_nvme_ctrlr *ctrlr)
{
	ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_DEAD);
	nvt_poller_unregister(&ctrlr->timer);
	if (ctrlr->adminq != NULL) {
		nvme_qpair_destroy(ctrlr->adminq);
		ctrlr->adminq = NULL;
	}
	ctrlr_send_step(ctrlr, detach_finish_msg);
}

static void shutdown_cmd_done(void *arg, const struct nvt_nvme_cpl *cpl);

static int
shst_poll(void *arg)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;

	nvt_poller_unregister(&ctrlr->timer);
	if (prop_get(ctrlr, NVT_NVME_PROP_CSTS, false, shutdown_cmd_done) != 0) {
		detach_finish(ctrlr);
	}
	return NVT_POLLER_BUSY;
}

static void
shutdown_cmd_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	uint32_t shst;

	if (ctrlr->state == NVME_CTRLR_STATE_DEAD) {
		return;
	}
	if (nvt_nvme_cpl_is_error(cpl)) {
		detach_finish(ctrlr);
		return;
	}
	if (ctrlr->state == NVME_CTRLR_STATE_SHUTDOWN) {
		ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_WAIT_SHST);
		ctrlr->deadline = nvt_get_ticks() + nvt_us_to_ticks(SHUTDOWN_TIMEOUT_MS * 1000ull);
		shst_poll(ctrlr);
		return;
	}
	shst = nvt_nvme_reg32_get(cpl->cdw0, NVT_NVME_CSTS_SHST_SHIFT, NVT_NVME_CSTS_SHST_MASK);
	if (shst == NVT_NVME_SHST_COMPLETE || nvt_get_ticks() > ctrlr->deadline) {
		detach_finish(ctrlr);
		return;
	}
	ctrlr->timer = nvt_poller_register(shst_poll, ctrlr, CSTS_POLL_US, "nvme_shst");
}

void
nvt_nvme_ctrlr_detach(struct nvt_nvme_ctrlr **pctrlr, nvt_nvme_ctrlr_detach_cb cb_fn, void *cb_arg)
{
	struct nvt_nvme_ctrlr *ctrlr = *pctrlr;
	uint32_t cc;

	*pctrlr = NULL;
	if (ctrlr == NULL) {
		return;
	}
	ctrlr->detach_cb = cb_fn;
	ctrlr->detach_cb_arg = cb_arg;
	nvt_poller_unregister(&ctrlr->ka_poller);
	cc = nvt_nvme_reg32_set(ctrlr->cc, NVT_NVME_CC_SHN_SHIFT, NVT_NVME_CC_SHN_MASK,
				NVT_NVME_SHN_NORMAL);
	ctrlr_set_state(ctrlr, NVME_CTRLR_STATE_SHUTDOWN);
	if (nvt_nvme_ctrlr_is_failed(ctrlr) ||
	    prop_set(ctrlr, NVT_NVME_PROP_CC, cc, shutdown_cmd_done) != 0) {
		detach_finish(ctrlr);
	}
}

/* ---- I/O queues ---- */

static int
qid_alloc(struct nvt_nvme_ctrlr *ctrlr)
{
	uint32_t qid;

	for (qid = 1; qid <= ctrlr->num_io_queues && qid < NVME_MAX_QID; qid++) {
		uint64_t bit = 1ull << (qid % 64);
		uint64_t old = atomic_fetch_or(&ctrlr->qid_map[qid / 64], bit);

		if ((old & bit) == 0) {
			return (int)qid;
		}
	}
	return -ENOSPC;
}

static void
qid_free(struct nvt_nvme_ctrlr *ctrlr, uint16_t qid)
{
	atomic_fetch_and(&ctrlr->qid_map[qid / 64], ~(1ull << (qid % 64)));
}

static void
io_qpair_destroy_msg(void *arg)
{
	struct nvt_nvme_qpair *qpair = arg;

	qid_free(qpair->ctrlr, qpair->qid);
	nvme_qpair_destroy(qpair);
}

static void
io_qpair_ready(struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	nvt_nvme_qpair_connect_cb cb_fn = qpair->connect_cb;
	void *cb_arg = qpair->connect_cb_arg;

	if (rc != 0) {
		/* Destroyed from a message: we may be deep inside the queue's callbacks. */
		if (nvt_thread_send_msg_prealloc(qpair->group->thread, &qpair->destroy_msg,
						 io_qpair_destroy_msg, qpair) != 0) {
			NVT_ERRLOG("ctrlr %s: qid %u: failed queue not freed\n",
				   qpair->ctrlr->trid.subnqn, qpair->qid);
		}
		cb_fn(cb_arg, NULL, rc, status);
		return;
	}
	cb_fn(cb_arg, qpair, 0, 0);
}

int
nvt_nvme_ctrlr_connect_io_qpair(struct nvt_nvme_ctrlr *ctrlr, struct nvt_nvme_poll_group *group,
				uint32_t depth, nvt_nvme_qpair_connect_cb cb_fn, void *cb_arg)
{
	uint32_t mqes = (uint32_t)(ctrlr->cap & NVT_NVME_CAP_MQES_MASK);
	struct nvt_nvme_qpair *qpair;
	int qid, rc;

	if (depth == 0 || depth > mqes || depth > 65535 || cb_fn == NULL) {
		return -EINVAL;
	}
	if (nvt_nvme_ctrlr_is_failed(ctrlr)) {
		return -ENXIO;
	}
	qid = qid_alloc(ctrlr);
	if (qid < 0) {
		return qid;
	}
	qpair = nvme_qpair_create(ctrlr, group, (uint16_t)qid, depth);
	if (qpair == NULL) {
		qid_free(ctrlr, (uint16_t)qid);
		return -ENOMEM;
	}
	qpair->connect_cb = cb_fn;
	qpair->connect_cb_arg = cb_arg;
	qpair->ready_fn = io_qpair_ready;
	rc = nvme_qpair_connect(qpair);
	if (rc != 0) {
		nvme_qpair_destroy(qpair);
		qid_free(ctrlr, (uint16_t)qid);
	}
	return rc;
}

void
nvt_nvme_qpair_disconnect(struct nvt_nvme_qpair **pqpair)
{
	struct nvt_nvme_qpair *qpair = *pqpair;

	*pqpair = NULL;
	if (qpair == NULL) {
		return;
	}
	qid_free(qpair->ctrlr, qpair->qid);
	nvme_qpair_destroy(qpair);
}

/* ---- accessors ---- */

const struct nvt_nvme_id_ctrl *
nvt_nvme_ctrlr_get_data(const struct nvt_nvme_ctrlr *ctrlr)
{
	return &ctrlr->cdata;
}

uint64_t
nvt_nvme_ctrlr_get_cap(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr->cap;
}

uint32_t
nvt_nvme_ctrlr_get_vs(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr->vs;
}

const struct nvt_nvme_trid *
nvt_nvme_ctrlr_get_trid(const struct nvt_nvme_ctrlr *ctrlr)
{
	return &ctrlr->trid;
}

bool
nvt_nvme_ctrlr_is_discovery(const struct nvt_nvme_ctrlr *ctrlr)
{
	return strcmp(ctrlr->trid.subnqn, NVT_NVMF_DISCOVERY_NQN) == 0;
}

bool
nvt_nvme_ctrlr_is_failed(const struct nvt_nvme_ctrlr *ctrlr)
{
	return atomic_load(&ctrlr->failed);
}

uint32_t
nvt_nvme_ctrlr_get_num_io_queues(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr->num_io_queues;
}

/* 2^n minimum memory pages in bytes (MDTS, WZSL), or UINT32_MAX for 0 or 4 GiB and more. */
static uint32_t
ctrlr_pages_pow2(const struct nvt_nvme_ctrlr *ctrlr, uint8_t n)
{
	uint32_t mpsmin =
		(uint32_t)((ctrlr->cap >> NVT_NVME_CAP_MPSMIN_SHIFT) & NVT_NVME_CAP_MPSMIN_MASK);

	if (n == 0 || n + 12u + mpsmin >= 32) {
		return UINT32_MAX;
	}
	return 1u << (n + 12u + mpsmin);
}

uint32_t
nvt_nvme_ctrlr_get_max_xfer_size(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr_pages_pow2(ctrlr, ctrlr->cdata.mdts);
}

uint32_t
nvt_nvme_ctrlr_get_max_write_zeroes_size(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr_pages_pow2(ctrlr, ctrlr->wzsl);
}

uint32_t
nvme_ctrlr_get_write_zeroes_max_nlb(const struct nvt_nvme_ctrlr *ctrlr,
				    const struct nvt_nvme_id_ns *ns)
{
	uint32_t n;

	if (ctrlr->wzsl == 0) {
		return NVME_CMD_MAX_NLB;
	}
	n = nvme_split_max_nlb(nvt_nvme_id_ns_block_size(ns),
			       nvt_nvme_ctrlr_get_max_write_zeroes_size(ctrlr));
	/* A limit below one block makes no sense; send one block at a time. */
	return n > 0 ? n : 1;
}

uint32_t
nvt_nvme_ctrlr_get_ns_max_io_blocks(const struct nvt_nvme_ctrlr *ctrlr, uint32_t nsid)
{
	const struct nvt_nvme_id_ns *ns = nvt_nvme_ctrlr_get_ns_data(ctrlr, nsid);

	if (ns == NULL) {
		return 0;
	}
	return nvme_split_max_nlb(nvt_nvme_id_ns_block_size(ns),
				  nvt_nvme_ctrlr_get_max_xfer_size(ctrlr));
}

uint32_t
nvt_nvme_ctrlr_get_active_ns_count(const struct nvt_nvme_ctrlr *ctrlr)
{
	return ctrlr->num_ns;
}

uint32_t
nvt_nvme_ctrlr_get_active_nsid(const struct nvt_nvme_ctrlr *ctrlr, uint32_t index)
{
	return index < ctrlr->num_ns ? ctrlr->nsids[index] : 0;
}

const struct nvt_nvme_id_ns *
nvt_nvme_ctrlr_get_ns_data(const struct nvt_nvme_ctrlr *ctrlr, uint32_t nsid)
{
	uint32_t i;

	for (i = 0; i < ctrlr->num_ns; i++) {
		if (ctrlr->nsids[i] == nsid) {
			return &ctrlr->nsdata[i];
		}
	}
	return NULL;
}
