/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fabrics commands: Connect (admin and I/O, dynamic controller model),
 * Property Get/Set (CAP, VS, CC, CSTS) and Disconnect; Authentication
 * Send/Receive go to auth.c.
 *
 * A Connect travels: qpair's thread (checks on the command) -> app thread
 * (subsystem, host, listener, controller lookup or creation) -> for an I/O
 * queue the controller's thread (queue id checks, registration) -> back to
 * the qpair's thread, which completes it.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/auth.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

struct connect_ctx {
	struct nvmf_request *req;
	struct nvmf_qpair *qpair;
	struct nvmf_ctrlr *ctrlr;
	struct nvt_nvmf_connect_data data;
	uint16_t qid;
	uint16_t sqsize;
	uint32_t kato;
	uint16_t status;
	uint32_t cdw0;
	/* The host must authenticate: the queue's DH-HMAC-CHAP state to be. */
	struct nvmf_qpair_auth *auth;
	/* Carries the Connect from thread to thread: one hop at a time, none lost. */
	struct nvt_thread_msg msg;
};

static void
connect_fail(struct connect_ctx *ctx, uint8_t sct, uint8_t sc, uint32_t cdw0)
{
	ctx->status = nvt_nvme_status_make(sct, sc, true);
	ctx->cdw0 = cdw0;
}

static void
connect_invalid_param(struct connect_ctx *ctx, uint32_t iattr, uint16_t ipo)
{
	connect_fail(ctx, NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS,
		     nvt_nvmf_connect_rsp_invalid(iattr, ipo));
}

static void
connect_done_msg(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvmf_qpair *qpair = ctx->qpair;
	struct nvmf_request *req = ctx->req;

	req->rsp->status = ctx->status;
	req->rsp->cdw0 = ctx->cdw0;
	if (ctx->status == 0) {
		qpair->ctrlr = ctx->ctrlr;
		qpair->qid = ctx->qid;
		qpair->sq_size = (uint16_t)(ctx->sqsize + 1u);
		qpair->sq_head = 0;
		nvmf_qpair_set_state(qpair, NVMF_QPAIR_ACTIVE);
		if (ctx->qid == 0) {
			qpair->group->stats.current_admin_qpairs++;
			qpair->group->stats.admin_qpairs++;
			nvmf_ctrlr_start_keep_alive(ctx->ctrlr);
		} else {
			qpair->group->stats.current_io_qpairs++;
			qpair->group->stats.io_qpairs++;
		}
		req->rsp->cdw0 = nvt_nvmf_connect_rsp_success(
			ctx->ctrlr->cntlid, ctx->auth != NULL ? NVT_NVMF_CONNECT_AUTHREQ_ATR : 0);
		if (ctx->auth != NULL) {
			nvmf_auth_start(qpair, ctx->auth);
			ctx->auth = NULL;
		}
	} else {
		nvmf_qpair_set_state(qpair, NVMF_QPAIR_UNINITIALIZED);
	}
	free(ctx->auth);
	free(ctx);
	nvmf_request_complete(req);
	if (qpair->disconnect_pending) {
		qpair->disconnect_pending = false;
		nvmf_qpair_disconnect(qpair);
	}
}

static void
connect_reply(struct connect_ctx *ctx)
{
	/* Refused only once the qpair's thread is gone, and the qpair with it. */
	if (nvmf_send_msg(ctx->qpair->group->thread, &ctx->msg, connect_done_msg, ctx,
			  "Connect answer") != 0) {
		free(ctx);
	}
}

/* ---- I/O queue: on the controller's thread ---- */

static uint16_t
ctrlr_granted_io_queues(const struct nvmf_ctrlr *ctrlr)
{
	return (uint16_t)(nvt_nvme_feat_num_queues_nsq(ctrlr->feat.number_of_queues) + 1u);
}

static void
connect_io_on_ctrlr(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvmf_ctrlr *ctrlr = ctx->ctrlr;

	if (ctrlr->state != NVMF_CTRLR_ACTIVE || !nvmf_ctrlr_is_enabled(ctrlr)) {
		NVT_ERRLOG("%s cntlid %u: I/O connect on a disabled controller\n",
			   ctrlr->subsystem->nqn, ctrlr->cntlid);
		connect_fail(ctx, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, 0);
	} else if (ctx->qid > ctrlr_granted_io_queues(ctrlr) || ctx->qid > ctrlr->max_io_qpairs) {
		NVT_ERRLOG("%s cntlid %u: qid %u above the %u I/O queues granted\n",
			   ctrlr->subsystem->nqn, ctrlr->cntlid, ctx->qid,
			   ctrlr_granted_io_queues(ctrlr));
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_CMD,
				      offsetof(struct nvt_nvmf_connect_cmd, qid));
	} else if (ctrlr->io_qpairs[ctx->qid] != NULL) {
		NVT_ERRLOG("%s cntlid %u: qid %u already connected\n", ctrlr->subsystem->nqn,
			   ctrlr->cntlid, ctx->qid);
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_CMD,
				      offsetof(struct nvt_nvmf_connect_cmd, qid));
	} else {
		ctrlr->io_qpairs[ctx->qid] = ctx->qpair;
		ctrlr->num_io_qpairs++;
	}
	connect_reply(ctx);
}

/* ---- app thread ---- */

static struct nvmf_ctrlr *
subsystem_find_ctrlr(struct nvt_nvmf_subsystem *subsystem, uint16_t cntlid)
{
	struct nvmf_ctrlr *ctrlr;

	TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
		if (ctrlr->cntlid == cntlid) {
			return ctrlr;
		}
	}
	return NULL;
}

static uint16_t
subsystem_alloc_cntlid(struct nvt_nvmf_subsystem *subsystem)
{
	uint32_t tries;
	uint16_t cntlid;

	for (tries = 0; tries <= (uint32_t)(subsystem->max_cntlid - subsystem->min_cntlid);
	     tries++) {
		cntlid = subsystem->next_cntlid;
		if (cntlid < subsystem->min_cntlid || cntlid > subsystem->max_cntlid) {
			cntlid = subsystem->min_cntlid;
		}
		subsystem->next_cntlid = cntlid >= subsystem->max_cntlid ? subsystem->min_cntlid
									 : (uint16_t)(cntlid + 1);
		if (subsystem_find_ctrlr(subsystem, cntlid) == NULL) {
			return cntlid;
		}
	}
	return 0;
}

/* The host's KATO, raised to the transport's min_kato unless keep alive is off (0). */
static uint32_t
ctrlr_kato(const struct connect_ctx *ctx)
{
	uint32_t min_kato = ctx->qpair->transport->opts.min_kato;

	return ctx->kato != 0 && ctx->kato < min_kato ? min_kato : ctx->kato;
}

static void
ctrlr_init_features(struct nvmf_ctrlr *ctrlr, const struct connect_ctx *ctx)
{
	uint16_t nq = (uint16_t)(ctrlr->max_io_qpairs - 1u);

	ctrlr->feat.number_of_queues = nvt_nvme_feat_num_queues(nq, nq);
	ctrlr->feat.keep_alive_timer = ctrlr_kato(ctx);
	ctrlr->feat.volatile_write_cache = NVT_NVME_FEAT_VWC_WCE;
	/* 0x157 K = 70 C as the warning threshold, as commonly reported. */
	ctrlr->feat.temperature_threshold = 343;
	ctrlr->feat.async_event_configuration = NVT_NVME_AEC_NS_ATTR_NOTICE;
}

static struct nvmf_ctrlr *
ctrlr_create(struct nvt_nvmf_subsystem *subsystem, struct connect_ctx *ctx)
{
	struct nvmf_ctrlr *ctrlr = calloc(1, sizeof(*ctrlr));
	uint16_t max_io = ctx->qpair->transport->opts.max_io_qpairs_per_ctrlr;

	if (ctrlr == NULL) {
		return NULL;
	}
	ctrlr->io_qpairs = calloc(max_io + 1u, sizeof(*ctrlr->io_qpairs));
	ctrlr->cntlid = subsystem_alloc_cntlid(subsystem);
	if (ctrlr->cntlid == 0) {
		NVT_ERRLOG("%s: connect from %s refused: every controller ID of %u..%u is in use\n",
			   subsystem->nqn, ctx->data.hostnqn, subsystem->min_cntlid,
			   subsystem->max_cntlid);
	}
	if (ctrlr->io_qpairs == NULL || ctrlr->cntlid == 0) {
		free(ctrlr->io_qpairs);
		free(ctrlr);
		return NULL;
	}
	ctrlr->subsystem = subsystem;
	ctrlr->thread = ctx->qpair->group->thread;
	ctrlr->admin_qpair = ctx->qpair;
	ctrlr->max_io_qpairs = subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY ? 0 : max_io;
	nvt_strcpy_trunc(ctrlr->hostnqn, sizeof(ctrlr->hostnqn), ctx->data.hostnqn);
	memcpy(ctrlr->hostid, ctx->data.hostid, sizeof(ctrlr->hostid));
	ctrlr->listen_trid = ctx->qpair->listen_trid;
	TAILQ_INIT(&ctrlr->aer_reqs);
	if (ctrlr->max_io_qpairs == 0) {
		ctrlr->max_io_qpairs = 1;
	}
	ctrlr_init_features(ctrlr, ctx);
	if (subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY && ctx->kato == 0) {
		ctrlr->feat.keep_alive_timer = subsystem->tgt->opts.discovery_kato_ms;
	}
	nvmf_ana_ctrlr_attach(ctrlr);
	TAILQ_INSERT_TAIL(&subsystem->ctrlrs, ctrlr, link);
	return ctrlr;
}

static void
connect_admin_on_app(struct connect_ctx *ctx, struct nvt_nvmf_subsystem *subsystem)
{
	if (ctx->data.cntlid != NVT_NVMF_CNTLID_DYNAMIC) {
		NVT_ERRLOG(
			"%s: admin connect asks for cntlid 0x%x; only the dynamic model (0xffff) "
			"is served\n",
			subsystem->nqn, ctx->data.cntlid);
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_DATA,
				      offsetof(struct nvt_nvmf_connect_data, cntlid));
		return;
	}
	ctx->ctrlr = ctrlr_create(subsystem, ctx);
	if (ctx->ctrlr == NULL) {
		connect_fail(ctx, NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_CONTROLLER_BUSY, 0);
		return;
	}
	NVT_INFOLOG("%s: host %s connected as cntlid %u\n", subsystem->nqn, ctx->data.hostnqn,
		    ctx->ctrlr->cntlid);
}

static bool
connect_io_on_app(struct connect_ctx *ctx, struct nvt_nvmf_subsystem *subsystem)
{
	struct nvmf_ctrlr *ctrlr = subsystem_find_ctrlr(subsystem, ctx->data.cntlid);

	if (ctrlr == NULL || strcmp(ctrlr->hostnqn, ctx->data.hostnqn) != 0) {
		NVT_ERRLOG("%s: I/O connect for unknown cntlid %u from %s\n", subsystem->nqn,
			   ctx->data.cntlid, ctx->data.hostnqn);
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_DATA,
				      offsetof(struct nvt_nvmf_connect_data, cntlid));
		return false;
	}
	ctx->ctrlr = ctrlr;
	if (nvmf_send_msg(ctrlr->thread, &ctx->msg, connect_io_on_ctrlr, ctx, "I/O Connect") != 0) {
		connect_fail(ctx, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, 0);
		return false;
	}
	return true;
}

static void
connect_refuse_host(struct connect_ctx *ctx)
{
	connect_fail(ctx, NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_CONNECT_INVALID_HOST,
		     nvt_nvmf_connect_rsp_invalid(NVT_NVMF_CONNECT_IATTR_DATA,
						  offsetof(struct nvt_nvmf_connect_data, hostnqn)));
}

/*
 * A TLS session proves the host and subsystem its PSK identity names: the
 * Connect must name the same. A host with a PSK connects over TLS only.
 */
static bool
connect_check_tls(struct connect_ctx *ctx, const struct nvmf_host *host)
{
	const char *identity = ctx->qpair->tls_identity;
	char hostnqn[NVT_NVMF_NQN_FIELD_SIZE], subnqn[NVT_NVMF_NQN_FIELD_SIZE];
	enum nvt_auth_hash hash;
	int version;

	if (identity == NULL) {
		if (host != NULL && host->psk != NULL) {
			NVT_ERRLOG("connect: host %s has a TLS PSK on %s: refused over plain TCP\n",
				   ctx->data.hostnqn, ctx->data.subnqn);
			connect_refuse_host(ctx);
			return false;
		}
		return true;
	}
	if (nvt_tls_psk_identity_parse(identity, &version, &hash, hostnqn, subnqn) != 0 ||
	    strcmp(hostnqn, ctx->data.hostnqn) != 0 || strcmp(subnqn, ctx->data.subnqn) != 0) {
		NVT_ERRLOG("connect: host %s to %s over a TLS session of another identity (%s)\n",
			   ctx->data.hostnqn, ctx->data.subnqn, identity);
		connect_refuse_host(ctx);
		return false;
	}
	return true;
}

/* A host with a DH-HMAC-CHAP key authenticates every queue it connects. */
static bool
connect_check_keys(struct connect_ctx *ctx, const struct nvt_nvmf_subsystem *subsystem)
{
	const struct nvmf_host *host = nvmf_subsystem_find_host(subsystem, ctx->data.hostnqn);

	if (!connect_check_tls(ctx, host)) {
		return false;
	}
	if (host == NULL || host->dhchap_key == NULL) {
		return true;
	}
	ctx->auth = nvmf_auth_new(ctx->data.hostnqn, subsystem->nqn);
	if (ctx->auth == NULL) {
		connect_fail(ctx, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, 0);
		return false;
	}
	return true;
}

static bool
connect_check_subsystem(struct connect_ctx *ctx, struct nvt_nvmf_subsystem *subsystem)
{
	if (subsystem == NULL || subsystem->deleting) {
		NVT_ERRLOG("connect: unknown subsystem %s\n", ctx->data.subnqn);
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_DATA,
				      offsetof(struct nvt_nvmf_connect_data, subnqn));
		return false;
	}
	if (!nvt_nvmf_subsystem_host_allowed(subsystem, ctx->data.hostnqn)) {
		NVT_ERRLOG("connect: host %s not allowed on %s\n", ctx->data.hostnqn,
			   subsystem->nqn);
		connect_refuse_host(ctx);
		return false;
	}
	if (!nvmf_subsystem_listener_allowed(subsystem, &ctx->qpair->listen_trid)) {
		NVT_ERRLOG("connect: %s does not listen on %s:%s\n", subsystem->nqn,
			   ctx->qpair->listen_trid.traddr, ctx->qpair->listen_trid.trsvcid);
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_DATA,
				      offsetof(struct nvt_nvmf_connect_data, subnqn));
		return false;
	}
	return connect_check_keys(ctx, subsystem);
}

static void
connect_on_app(void *arg)
{
	struct connect_ctx *ctx = arg;
	struct nvt_nvmf_subsystem *subsystem = nvt_nvmf_subsystem_find(ctx->data.subnqn);

	if (connect_check_subsystem(ctx, subsystem)) {
		if (ctx->qid == 0) {
			connect_admin_on_app(ctx, subsystem);
		} else if (connect_io_on_app(ctx, subsystem)) {
			return;
		}
	}
	connect_reply(ctx);
}

/* ---- qpair's thread ---- */

static bool
connect_check_cmd(struct nvmf_request *req, struct connect_ctx *ctx)
{
	const struct nvt_nvmf_connect_cmd *cmd = &req->cmd->connect;
	const struct nvmf_transport *transport = req->qpair->transport;
	uint32_t depth =
		cmd->qid == 0 ? transport->opts.max_aq_depth : transport->opts.max_queue_depth;

	if (cmd->recfmt != 0) {
		connect_fail(ctx, NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_INCOMPATIBLE_FORMAT,
			     0);
		return false;
	}
	if (cmd->sqsize == 0 || cmd->sqsize >= depth) {
		NVT_ERRLOG("connect: qid %u sqsize %u out of 1..%u\n", cmd->qid, cmd->sqsize,
			   depth - 1u);
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_CMD,
				      offsetof(struct nvt_nvmf_connect_cmd, sqsize));
		return false;
	}
	if (req->length < sizeof(ctx->data) ||
	    nvmf_request_copy_from_iov(req, 0, &ctx->data, sizeof(ctx->data)) !=
		    sizeof(ctx->data)) {
		connect_fail(ctx, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID, 0);
		return false;
	}
	if (strnlen(ctx->data.subnqn, sizeof(ctx->data.subnqn)) == sizeof(ctx->data.subnqn) ||
	    strnlen(ctx->data.hostnqn, sizeof(ctx->data.hostnqn)) == sizeof(ctx->data.hostnqn)) {
		connect_invalid_param(ctx, NVT_NVMF_CONNECT_IATTR_DATA,
				      offsetof(struct nvt_nvmf_connect_data, subnqn));
		return false;
	}
	return true;
}

static void
fabrics_connect(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	const struct nvt_nvmf_connect_cmd *cmd = &req->cmd->connect;
	struct connect_ctx *ctx;

	if (qpair->state != NVMF_QPAIR_UNINITIALIZED) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		nvmf_request_complete(req);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
		nvmf_request_complete(req);
		return;
	}
	*ctx = (struct connect_ctx){ .req = req,
				     .qpair = qpair,
				     .qid = cmd->qid,
				     .sqsize = cmd->sqsize,
				     .kato = cmd->kato };
	nvmf_qpair_set_state(qpair, NVMF_QPAIR_CONNECTING);
	qpair->sqflow_disabled = (cmd->cattr & NVT_NVMF_CONNECT_CATTR_DISABLE_SQFLOW) != 0;
	if (!connect_check_cmd(req, ctx)) {
		connect_done_msg(ctx);
		return;
	}
	if (nvmf_send_msg(nvmf_tgt_get()->thread, &ctx->msg, connect_on_app, ctx, "Connect") != 0) {
		connect_fail(ctx, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, 0);
		connect_done_msg(ctx);
	}
}

/* ---- properties ---- */

static void
property_get(struct nvmf_request *req)
{
	const struct nvt_nvmf_prop_get_cmd *cmd = &req->cmd->prop_get;
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	unsigned int size = nvt_nvmf_prop_size(cmd->attrib);
	uint64_t value;

	switch (cmd->ofst) {
	case NVT_NVME_PROP_CAP:
		value = nvmf_ctrlr_cap(ctrlr);
		break;
	case NVT_NVME_PROP_VS:
		value = NVMF_VS;
		break;
	case NVT_NVME_PROP_CC:
		value = ctrlr->cc;
		break;
	case NVT_NVME_PROP_CSTS:
		value = ctrlr->csts;
		break;
	default:
		nvmf_req_invalid_field(req);
		return;
	}
	if ((cmd->ofst == NVT_NVME_PROP_CAP) != (size == 8)) {
		nvmf_req_invalid_field(req);
		return;
	}
	nvt_nvmf_prop_get_rsp_set(req->rsp, value);
}

static void
ctrlr_cc_enable(struct nvmf_ctrlr *ctrlr, uint32_t cc)
{
	uint32_t sqes = nvt_nvme_reg32_get(cc, NVT_NVME_CC_IOSQES_SHIFT, NVT_NVME_CC_IOSQES_MASK);
	uint32_t cqes = nvt_nvme_reg32_get(cc, NVT_NVME_CC_IOCQES_SHIFT, NVT_NVME_CC_IOCQES_MASK);
	bool discovery = ctrlr->subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY;

	/* A discovery controller has no I/O queues: entry sizes may be left 0. */
	if (nvt_nvme_reg32_get(cc, NVT_NVME_CC_MPS_SHIFT, NVT_NVME_CC_MPS_MASK) != 0 ||
	    (!discovery && (sqes != 6 || cqes != 4))) {
		NVT_ERRLOG("%s cntlid %u: CC 0x%x not supported\n", ctrlr->subsystem->nqn,
			   ctrlr->cntlid, cc);
		__atomic_store_n(&ctrlr->csts, ctrlr->csts | NVT_NVME_CSTS_CFS, __ATOMIC_RELAXED);
		return;
	}
	__atomic_store_n(&ctrlr->csts, ctrlr->csts | NVT_NVME_CSTS_RDY, __ATOMIC_RELAXED);
}

static void
ctrlr_cc_write(struct nvmf_ctrlr *ctrlr, uint32_t cc)
{
	uint32_t old = ctrlr->cc;
	uint32_t shn = nvt_nvme_reg32_get(cc, NVT_NVME_CC_SHN_SHIFT, NVT_NVME_CC_SHN_MASK);
	uint32_t csts = ctrlr->csts;

	ctrlr->cc = cc;
	if ((cc & NVT_NVME_CC_EN) && !(old & NVT_NVME_CC_EN)) {
		ctrlr_cc_enable(ctrlr, cc);
		csts = ctrlr->csts;
	} else if (!(cc & NVT_NVME_CC_EN) && (old & NVT_NVME_CC_EN)) {
		/* Reset: not ready; I/O queues get Command Sequence Error until re-enabled. */
		csts &= ~(NVT_NVME_CSTS_RDY | NVT_NVME_CSTS_CFS);
	}
	if (shn != NVT_NVME_SHN_NONE) {
		csts = nvt_nvme_reg32_set(csts, NVT_NVME_CSTS_SHST_SHIFT, NVT_NVME_CSTS_SHST_MASK,
					  NVT_NVME_SHST_COMPLETE);
		csts &= ~NVT_NVME_CSTS_RDY;
	} else {
		csts = nvt_nvme_reg32_set(csts, NVT_NVME_CSTS_SHST_SHIFT, NVT_NVME_CSTS_SHST_MASK,
					  NVT_NVME_SHST_NORMAL);
	}
	__atomic_store_n(&ctrlr->csts, csts, __ATOMIC_RELAXED);
}

static void
property_set(struct nvmf_request *req)
{
	const struct nvt_nvmf_prop_set_cmd *cmd = &req->cmd->prop_set;

	if (cmd->ofst != NVT_NVME_PROP_CC || nvt_nvmf_prop_size(cmd->attrib) != 4) {
		nvmf_req_invalid_field(req);
		return;
	}
	ctrlr_cc_write(req->qpair->ctrlr, (uint32_t)cmd->value);
}

void
nvmf_fabrics_exec(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	uint8_t fctype = req->cmd->fabrics.fctype;

	if (fctype == NVT_NVMF_FCTYPE_CONNECT) {
		fabrics_connect(req);
		return;
	}
	if (qpair->ctrlr == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
	} else if (fctype == NVT_NVMF_FCTYPE_AUTH_SEND || fctype == NVT_NVMF_FCTYPE_AUTH_RECV) {
		nvmf_auth_exec(req);
		return;
	} else if (qpair->qid != 0 && fctype != NVT_NVMF_FCTYPE_DISCONNECT) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true);
	} else if (fctype == NVT_NVMF_FCTYPE_PROPERTY_GET) {
		property_get(req);
	} else if (fctype == NVT_NVMF_FCTYPE_PROPERTY_SET) {
		property_set(req);
	} else if (fctype == NVT_NVMF_FCTYPE_DISCONNECT) {
		nvmf_request_complete(req);
		nvmf_qpair_disconnect(qpair);
		return;
	} else {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true);
	}
	nvmf_request_complete(req);
}
