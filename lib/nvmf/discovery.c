/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The discovery log page: built on the app thread (which owns subsystems,
 * listeners and referrals) from what the asking host may see, then copied
 * into the request on its controller's thread. And its change notices:
 * decided on the app thread, delivered on each discovery controller's.
 */
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

struct discovery_ctx {
	struct nvmf_request *req;
	char hostnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	uint64_t offset;
	uint64_t len;
	uint8_t *log;
	size_t log_len;
	/* To the app thread and back: one hop at a time, none lost. */
	struct nvt_thread_msg msg;
};

static size_t
discovery_count(struct nvt_nvmf_tgt *tgt, const char *hostnqn)
{
	struct nvt_nvmf_subsystem *subsystem;
	struct nvmf_subsystem_listener *l;
	size_t n = 0;

	TAILQ_FOREACH(subsystem, &tgt->subsystems, link) {
		if (subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY || subsystem->deleting ||
		    !nvt_nvmf_subsystem_host_allowed(subsystem, hostnqn)) {
			continue;
		}
		TAILQ_FOREACH(l, &subsystem->listeners, link) {
			n++;
		}
	}
	return n;
}

static void
discovery_fill_entry(struct nvt_nvmf_tgt *tgt, struct nvt_nvmf_subsystem *subsystem,
		     struct nvmf_subsystem_listener *l, struct nvt_nvmf_disc_log_entry *e)
{
	struct nvmf_listener *tl = nvmf_tgt_find_listener(tgt, &l->trid);

	memset(e, 0, sizeof(*e));
	e->trtype = (uint8_t)l->trid.trtype;
	e->adrfam = (uint8_t)l->trid.adrfam;
	e->treq = NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED;
	nvt_strcpy_pad(e->trsvcid, l->trid.trsvcid, sizeof(e->trsvcid), ' ');
	nvt_strcpy_pad(e->traddr, l->trid.traddr, sizeof(e->traddr), ' ');
	l->transport->ops->listener_discover(l->transport, &l->trid, l->secure_channel, e);
	e->subtype = NVT_NVMF_SUBTYPE_NVME;
	e->portid = tl != NULL ? tl->portid : 0;
	e->cntlid = NVT_NVMF_CNTLID_DYNAMIC;
	e->asqsz = NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES;
	nvt_strcpy_trunc(e->subnqn, sizeof(e->subnqn), subsystem->nqn);
}

static uint8_t *
discovery_build(struct nvt_nvmf_tgt *tgt, const char *hostnqn, size_t *len)
{
	struct nvt_nvmf_subsystem *subsystem;
	struct nvmf_subsystem_listener *l;
	struct nvt_nvmf_disc_log_hdr *hdr;
	size_t n = discovery_count(tgt, hostnqn), i = 0;
	size_t nref = nvmf_referral_count(tgt);

	*len = sizeof(*hdr) + (n + nref) * sizeof(struct nvt_nvmf_disc_log_entry);
	hdr = calloc(1, *len);
	if (hdr == NULL) {
		return NULL;
	}
	hdr->genctr = tgt->discovery_genctr;
	hdr->numrec = n + nref;
	hdr->recfmt = 0;
	TAILQ_FOREACH(subsystem, &tgt->subsystems, link) {
		if (subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY || subsystem->deleting ||
		    !nvt_nvmf_subsystem_host_allowed(subsystem, hostnqn)) {
			continue;
		}
		TAILQ_FOREACH(l, &subsystem->listeners, link) {
			discovery_fill_entry(tgt, subsystem, l,
					     nvt_nvmf_disc_log_get_entry(hdr, i++));
		}
	}
	/* Every host sees the referrals, after the target's own subsystems. */
	nvmf_referral_fill_entries(tgt, nvt_nvmf_disc_log_get_entry(hdr, n));
	return (uint8_t *)hdr;
}

static void
discovery_done_msg(void *arg)
{
	struct discovery_ctx *ctx = arg;
	struct nvmf_request *req = ctx->req;
	size_t n;

	if (ctx->log == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
	} else if (ctx->offset < ctx->log_len) {
		n = ctx->log_len - ctx->offset;
		n = n < ctx->len ? n : (size_t)ctx->len;
		nvmf_request_copy_to_iov(req, 0, ctx->log + ctx->offset, n);
	}
	if (ctx->log != NULL && !nvt_nvme_get_log_rae(&req->cmd->cmd)) {
		/* Read: the next change may be reported again. */
		req->qpair->ctrlr->disc_notice_masked = false;
		nvmf_discovery_aer_try_notify(req->qpair->ctrlr);
	}
	free(ctx->log);
	free(ctx);
	nvmf_request_complete(req);
}

static void
discovery_build_msg(void *arg)
{
	struct discovery_ctx *ctx = arg;

	ctx->log = discovery_build(nvmf_tgt_get(), ctx->hostnqn, &ctx->log_len);
	/* Refused only once the qpair's thread is gone, and the request with it. */
	if (nvmf_send_msg(ctx->req->qpair->group->thread, &ctx->msg, discovery_done_msg, ctx,
			  "discovery log") != 0) {
		free(ctx->log);
		free(ctx);
	}
}

void
nvmf_discovery_get_log(struct nvmf_request *req, uint64_t offset, uint64_t len)
{
	struct discovery_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
		nvmf_request_complete(req);
		return;
	}
	ctx->req = req;
	ctx->offset = offset;
	ctx->len = len;
	nvt_strcpy_trunc(ctx->hostnqn, sizeof(ctx->hostnqn), req->qpair->ctrlr->hostnqn);
	if (nvmf_send_msg(nvmf_tgt_get()->thread, &ctx->msg, discovery_build_msg, ctx,
			  "discovery log") != 0) {
		/* ctx->log NULL: answered with an internal error. */
		discovery_done_msg(ctx);
	}
}

/* ---- discovery log change notices ---- */

struct discovery_notice {
	struct nvmf_ctrlr *ctrlr;
	struct nvt_thread_msg msg;
};

void
nvmf_discovery_aer_try_notify(struct nvmf_ctrlr *ctrlr)
{
	if (!ctrlr->disc_change_pending || ctrlr->disc_notice_masked) {
		return;
	}
	if (nvmf_admin_aer_notice(ctrlr, NVT_NVME_AER_INFO_NOTICE_DISCOVERY_LOG_CHANGE,
				  NVT_NVME_LOG_DISCOVERY)) {
		/* Masked until the host reads the log page (without RAE). */
		ctrlr->disc_change_pending = false;
		ctrlr->disc_notice_masked = true;
	}
}

static void
discovery_notice_msg(void *arg)
{
	struct discovery_notice *n = arg;
	struct nvmf_ctrlr *ctrlr = n->ctrlr;

	free(n);
	if (ctrlr->state != NVMF_CTRLR_ACTIVE ||
	    !(ctrlr->feat.async_event_configuration & NVT_NVME_AEC_DISCOVERY_LOG_CHANGE)) {
		return;
	}
	ctrlr->disc_change_pending = true;
	nvmf_discovery_aer_try_notify(ctrlr);
}

void
nvmf_discovery_changed(struct nvt_nvmf_tgt *tgt)
{
	struct nvmf_ctrlr *ctrlr;
	struct discovery_notice *n;

	tgt->discovery_genctr++;
	if (tgt->discovery == NULL) {
		return;
	}
	/*
	 * A controller leaves the subsystem on this thread before its own
	 * thread frees it, so a notice sent now reaches it first.
	 */
	TAILQ_FOREACH(ctrlr, &tgt->discovery->ctrlrs, link) {
		n = calloc(1, sizeof(*n));
		if (n == NULL) {
			NVT_ERRLOG("discovery cntlid %u: log changed: no memory to tell the host\n",
				   ctrlr->cntlid);
			continue;
		}
		n->ctrlr = ctrlr;
		if (nvmf_send_msg(ctrlr->thread, &n->msg, discovery_notice_msg, n,
				  "discovery log change notice") != 0) {
			free(n);
		}
	}
}
