/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests and queue pairs as the core sees them, and the life of a
 * controller: dispatch, completion, disconnect, teardown, keep alive.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"

#include "nvmf_internal.h"
#include "resv.h"

int
nvmf_send_msg(struct nvt_thread *thread, struct nvt_thread_msg *msg, nvt_msg_fn fn, void *ctx,
	      const char *what)
{
	int rc = nvt_thread_send_msg_prealloc(thread, msg, fn, ctx);

	if (rc != 0) {
		NVT_ERRLOG("%s: lost, thread %s refused it: rc %d (%s)\n", what,
			   nvt_thread_get_name(thread), rc, nvt_strerror(rc));
	}
	return rc;
}

/* ---- status helpers ---- */

void
nvmf_req_set_status(struct nvmf_request *req, uint8_t sct, uint8_t sc, bool dnr)
{
	req->rsp->status = nvt_nvme_status_make(sct, sc, dnr);
}

void
nvmf_req_success(struct nvmf_request *req)
{
	req->rsp->status = 0;
}

void
nvmf_req_invalid_field(struct nvmf_request *req)
{
	nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_FIELD, true);
}

/* ---- iovec copies ---- */

size_t
nvmf_request_copy_to_iov(struct nvmf_request *req, size_t offset, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t done = 0, n;
	uint32_t i;

	for (i = 0; i < req->iovcnt && done < len; i++) {
		if (offset >= req->iov[i].iov_len) {
			offset -= req->iov[i].iov_len;
			continue;
		}
		n = req->iov[i].iov_len - offset;
		n = n < len - done ? n : len - done;
		memcpy((uint8_t *)req->iov[i].iov_base + offset, src + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t
nvmf_request_copy_from_iov(const struct nvmf_request *req, size_t offset, void *buf, size_t len)
{
	uint8_t *dst = buf;
	size_t done = 0, n;
	uint32_t i;

	for (i = 0; i < req->iovcnt && done < len; i++) {
		if (offset >= req->iov[i].iov_len) {
			offset -= req->iov[i].iov_len;
			continue;
		}
		n = req->iov[i].iov_len - offset;
		n = n < len - done ? n : len - done;
		memcpy(dst + done, (const uint8_t *)req->iov[i].iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

/* ---- qpair state ---- */

void
nvmf_qpair_set_state(struct nvmf_qpair *qpair, enum nvmf_qpair_state state)
{
	assert(state < NVMF_QPAIR_NUM_STATES);
	/* States only move forward, except a failed Connect goes back to wait for another. */
	assert(state >= qpair->state ||
	       (qpair->state == NVMF_QPAIR_CONNECTING && state == NVMF_QPAIR_UNINITIALIZED));
	qpair->state = state;
}

bool
nvmf_qpair_is_active(const struct nvmf_qpair *qpair)
{
	return qpair->state < NVMF_QPAIR_DEACTIVATING;
}

/* ---- exec / complete ---- */

bool
nvmf_ctrlr_is_enabled(const struct nvmf_ctrlr *ctrlr)
{
	uint32_t csts = __atomic_load_n(&ctrlr->csts, __ATOMIC_RELAXED);

	return (csts & NVT_NVME_CSTS_RDY) != 0 &&
	       __atomic_load_n(&ctrlr->state, __ATOMIC_RELAXED) == NVMF_CTRLR_ACTIVE;
}

static void
request_dispatch(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;

	if (!nvmf_auth_allows(qpair, req->cmd)) {
		/* Not authenticated (yet): only authentication and Disconnect. */
		nvmf_req_set_status(req, NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_AUTH_REQUIRED,
				    true);
		nvmf_request_complete(req);
		return;
	}
	if (cmd->opc == NVT_NVME_OPC_FABRICS) {
		nvmf_fabrics_exec(req);
		return;
	}
	if (qpair->ctrlr == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		nvmf_request_complete(req);
		return;
	}
	if (nvt_nvme_cmd_fuse(cmd) != 0 && qpair->qid == 0) {
		/* Fused operations are NVM commands. */
		nvmf_req_invalid_field(req);
		nvmf_request_complete(req);
		return;
	}
	if (qpair->qid == 0) {
		nvmf_admin_exec(req);
	} else if (!nvmf_ctrlr_is_enabled(qpair->ctrlr)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		nvmf_request_complete(req);
	} else if (nvt_nvme_cmd_fuse(cmd) != 0) {
		nvmf_fused_exec(req);
	} else {
		nvmf_io_exec(req);
	}
}

void
nvmf_request_exec(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;

	req->rsp->cdw0 = 0;
	req->rsp->cdw1 = 0;
	req->rsp->status = 0;
	req->ns = NULL;
	if (!nvmf_qpair_is_active(qpair)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_SQ_DELETION,
				    false);
		nvmf_request_complete(req);
		return;
	}
	TAILQ_INSERT_TAIL(&qpair->outstanding, req, link);
	req->in_core = true;
	qpair->outstanding_count++;
	qpair->group->stats.pending_requests++;
	request_dispatch(req);
}

static void qpair_disconnect_continue(struct nvmf_qpair *qpair);

void
nvmf_request_complete(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct nvt_nvme_cpl *rsp = req->rsp;
	int rc;

	nvmf_fused_complete(req);
	rsp->cid = req->cmd->cmd.cid;
	rsp->sqid = qpair->qid;
	if (qpair->sqflow_disabled) {
		rsp->sqhd = 0xffff;
	} else if (qpair->sq_size > 0) {
		qpair->sq_head = (uint16_t)((qpair->sq_head + 1) % qpair->sq_size);
		rsp->sqhd = qpair->sq_head;
	}
	if (req->in_core) {
		TAILQ_REMOVE(&qpair->outstanding, req, link);
		req->in_core = false;
		qpair->outstanding_count--;
		qpair->group->stats.pending_requests--;
		qpair->group->stats.completed_requests++;
		qpair->group->stats.completed_nvme_io += qpair->qid != 0;
	}
	rc = qpair->transport->ops->req_complete(req);
	if (rc != 0) {
		NVT_INFOLOG("qpair %u: req_complete rc %d\n", qpair->qid, rc);
	}
	if (qpair->state == NVMF_QPAIR_DEACTIVATING && qpair->outstanding_count == 0) {
		qpair_disconnect_continue(qpair);
	}
}

/* ---- disconnect ---- */

static void
qpair_finish(struct nvmf_qpair *qpair)
{
	struct nvmf_poll_group *group = qpair->group;

	if (qpair->ctrlr != NULL) {
		if (qpair->qid == 0) {
			group->stats.current_admin_qpairs--;
		} else {
			group->stats.current_io_qpairs--;
		}
	}
	if (qpair->added) {
		qpair->transport->ops->poll_group_remove(qpair->tgroup, qpair);
	}
	nvmf_auth_free(qpair);
	nvmf_qpair_set_state(qpair, NVMF_QPAIR_FINI);
	nvmf_poll_group_remove_qpair(qpair);
	group->closing_qpairs++;
	/* The group (and its transport poll group) stays until the transport is done. */
	qpair->transport->ops->qpair_fini(qpair, nvmf_poll_group_qpair_closed, group);
}

static void
io_qpair_removed_msg(void *ctx)
{
	qpair_finish(ctx);
}

static void
io_qpair_remove_msg(void *ctx)
{
	struct nvmf_qpair *qpair = ctx;

	nvmf_ctrlr_remove_io_qpair(qpair->ctrlr, qpair);
	nvmf_send_msg(qpair->group->thread, &qpair->msg, io_qpair_removed_msg, qpair,
		      "I/O qpair teardown");
}

static void
qpair_disconnect_continue(struct nvmf_qpair *qpair)
{
	struct nvmf_ctrlr *ctrlr = qpair->ctrlr;

	if (qpair->state != NVMF_QPAIR_DEACTIVATING || qpair->outstanding_count > 0) {
		return;
	}
	if (qpair->teardown_started) {
		return;
	}
	qpair->teardown_started = true;
	if (ctrlr == NULL) {
		qpair_finish(qpair);
	} else if (qpair->qid == 0) {
		nvmf_ctrlr_destruct(ctrlr);
	} else {
		nvmf_send_msg(ctrlr->thread, &qpair->msg, io_qpair_remove_msg, qpair,
			      "I/O qpair teardown");
	}
}

void
nvmf_qpair_disconnect(struct nvmf_qpair *qpair)
{
	if (!nvmf_qpair_is_active(qpair)) {
		return;
	}
	if (qpair->state == NVMF_QPAIR_CONNECTING) {
		/* The Connect completes on its own; then the qpair goes. */
		qpair->disconnect_pending = true;
		return;
	}
	nvmf_qpair_set_state(qpair, NVMF_QPAIR_DEACTIVATING);
	nvmf_fused_qpair_disconnect(qpair);
	if (qpair->ctrlr != NULL && qpair->qid == 0) {
		nvmf_admin_aer_complete_all(qpair->ctrlr, NVT_NVME_SCT_GENERIC,
					    NVT_NVME_SC_ABORTED_SQ_DELETION);
	}
	qpair_disconnect_continue(qpair);
}

/* ---- controller teardown (on the controller's thread) ---- */

static void
ctrlr_free_msg(void *ctx)
{
	struct nvmf_ctrlr *ctrlr = ctx;
	struct nvmf_qpair *admin = ctrlr->admin_qpair;

	free(ctrlr->io_qpairs);
	nvmf_resv_ctrlr_free(ctrlr);
	free(ctrlr);
	if (admin != NULL) {
		admin->group->stats.current_admin_qpairs--;
		admin->ctrlr = NULL;
		qpair_finish(admin);
	}
}

static void
ctrlr_unlist_msg(void *ctx)
{
	struct nvmf_ctrlr *ctrlr = ctx;

	TAILQ_REMOVE(&ctrlr->subsystem->ctrlrs, ctrlr, link);
	nvmf_ana_ctrlr_detach(ctrlr);
	nvmf_send_msg(ctrlr->thread, &ctrlr->teardown_msg, ctrlr_free_msg, ctrlr,
		      "controller teardown");
}

static void
ctrlr_destruct_continue(struct nvmf_ctrlr *ctrlr)
{
	if (ctrlr->num_io_qpairs > 0) {
		return;
	}
	nvmf_send_msg(nvmf_tgt_get()->thread, &ctrlr->teardown_msg, ctrlr_unlist_msg, ctrlr,
		      "controller teardown");
}

static void
io_qpair_disconnect_msg(void *ctx)
{
	nvmf_qpair_disconnect(ctx);
}

void
nvmf_ctrlr_destruct(struct nvmf_ctrlr *ctrlr)
{
	uint32_t i;

	if (ctrlr->state == NVMF_CTRLR_DESTRUCTING) {
		return;
	}
	__atomic_store_n(&ctrlr->state, NVMF_CTRLR_DESTRUCTING, __ATOMIC_RELAXED);
	nvt_poller_unregister(&ctrlr->ka_poller);
	nvmf_admin_aer_complete_all(ctrlr, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_SQ_DELETION);
	if (ctrlr->admin_qpair != NULL && nvmf_qpair_is_active(ctrlr->admin_qpair)) {
		nvmf_qpair_set_state(ctrlr->admin_qpair, NVMF_QPAIR_DEACTIVATING);
	}
	for (i = 1; i <= ctrlr->max_io_qpairs; i++) {
		if (ctrlr->io_qpairs[i] != NULL) {
			nvmf_send_msg(ctrlr->io_qpairs[i]->group->thread,
				      &ctrlr->io_qpairs[i]->disconnect_msg, io_qpair_disconnect_msg,
				      ctrlr->io_qpairs[i], "controller teardown");
		}
	}
	ctrlr_destruct_continue(ctrlr);
}

void
nvmf_ctrlr_disconnect(struct nvmf_ctrlr *ctrlr)
{
	/* Its admin queue's end tears the controller down (nvmf_ctrlr_destruct()). */
	if (ctrlr->state == NVMF_CTRLR_ACTIVE && ctrlr->admin_qpair != NULL) {
		nvmf_qpair_disconnect(ctrlr->admin_qpair);
	}
}

void
nvmf_ctrlr_remove_io_qpair(struct nvmf_ctrlr *ctrlr, struct nvmf_qpair *qpair)
{
	if (qpair->qid <= ctrlr->max_io_qpairs && ctrlr->io_qpairs[qpair->qid] == qpair) {
		ctrlr->io_qpairs[qpair->qid] = NULL;
		ctrlr->num_io_qpairs--;
	}
	if (ctrlr->state == NVMF_CTRLR_DESTRUCTING) {
		ctrlr_destruct_continue(ctrlr);
	}
}

/* ---- keep alive ---- */

/*
 * The timer is due at the deadline, KATO after the last Keep Alive, and only
 * then: no poll while the host is idle. At the deadline, a Keep Alive that
 * came meanwhile moves the timer to the new deadline; none means the host is
 * dropped. A sleeping thread is woken for it up to a quarter of KATO late, so
 * that it mostly runs on wakeups other work causes (the hosts' own Keep
 * Alives): a silent host is dropped between KATO and 1.25 x KATO after its
 * last Keep Alive.
 */
static void ctrlr_arm_keep_alive(struct nvmf_ctrlr *ctrlr, uint64_t now);

static int
ctrlr_keep_alive_poll(void *ctx)
{
	struct nvmf_ctrlr *ctrlr = ctx;
	uint64_t kato_ticks = nvt_us_to_ticks((uint64_t)ctrlr->feat.keep_alive_timer * 1000);
	uint64_t now = nvt_get_ticks();

	nvt_poller_unregister(&ctrlr->ka_poller);
	if (now - ctrlr->last_keep_alive <= kato_ticks) {
		ctrlr_arm_keep_alive(ctrlr, now);
		return NVT_POLLER_IDLE;
	}
	NVT_ERRLOG("keep alive timeout (%u ms): host %s, %s cntlid %u: tearing down\n",
		   ctrlr->feat.keep_alive_timer, ctrlr->hostnqn, ctrlr->subsystem->nqn,
		   ctrlr->cntlid);
	__atomic_store_n(&ctrlr->csts, ctrlr->csts | NVT_NVME_CSTS_CFS, __ATOMIC_RELAXED);
	if (ctrlr->admin_qpair != NULL) {
		nvmf_qpair_disconnect(ctrlr->admin_qpair);
	}
	return NVT_POLLER_BUSY;
}

/* A one-shot timer just past the deadline (a timed poller re-registered each time). */
static void
ctrlr_arm_keep_alive(struct nvmf_ctrlr *ctrlr, uint64_t now)
{
	uint64_t kato_us = (uint64_t)ctrlr->feat.keep_alive_timer * 1000;
	uint64_t deadline = ctrlr->last_keep_alive + nvt_us_to_ticks(kato_us);

	ctrlr->ka_poller =
		nvt_poller_register(ctrlr_keep_alive_poll, ctrlr,
				    nvt_ticks_to_us(deadline - now) + 1, "nvmf_keep_alive");
	if (ctrlr->ka_poller == NULL) {
		NVT_ERRLOG("%s cntlid %u: no keep alive timer: out of memory\n",
			   ctrlr->subsystem->nqn, ctrlr->cntlid);
		return;
	}
	nvt_poller_set_slack(ctrlr->ka_poller, kato_us / 4);
}

void
nvmf_ctrlr_keep_alive(struct nvmf_ctrlr *ctrlr)
{
	ctrlr->last_keep_alive = nvt_get_ticks();
}

/* (Re)arm the keep alive timer; KATO 0 disables it. Controller's thread. */
void
nvmf_ctrlr_start_keep_alive(struct nvmf_ctrlr *ctrlr)
{
	nvt_poller_unregister(&ctrlr->ka_poller);
	nvmf_ctrlr_keep_alive(ctrlr);
	if (ctrlr->feat.keep_alive_timer == 0) {
		return;
	}
	ctrlr_arm_keep_alive(ctrlr, ctrlr->last_keep_alive);
}

uint64_t
nvmf_ctrlr_cap(const struct nvmf_ctrlr *ctrlr)
{
	const struct nvmf_transport *transport = ctrlr->admin_qpair->transport;
	uint64_t cap = 0;
	uint32_t css = ctrlr->subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY
			       ? NVT_NVME_CAP_CSS_NOIOC
			       : NVT_NVME_CAP_CSS_NVM;

	cap = nvt_nvme_cap_set(cap, NVT_NVME_CAP_MQES_SHIFT, NVT_NVME_CAP_MQES_MASK,
			       transport->opts.max_queue_depth - 1u);
	cap |= NVT_NVME_CAP_CQR;
	cap = nvt_nvme_cap_set(cap, NVT_NVME_CAP_TO_SHIFT, NVT_NVME_CAP_TO_MASK, NVMF_CAP_TO);
	cap = nvt_nvme_cap_set(cap, NVT_NVME_CAP_CSS_SHIFT, NVT_NVME_CAP_CSS_MASK, css);
	return cap;
}
