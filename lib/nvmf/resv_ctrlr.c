/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What one controller keeps of reservations, on its thread: the queue of the
 * Reservation Notification log page, the notification masks of feature 82h,
 * and the asynchronous event that says the log has entries.
 *
 * Log Page Count: every notification takes the next count (64 bits, 0
 * skipped on wrap), kept or not. When the queue is full a notification is
 * lost, and the gap in the counts the host reads tells it so, as the spec
 * describes.
 */
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"

#include "nvmf_internal.h"
#include "resv.h"

#define RESV_LOG_MAX 64

struct resv_log_entry {
	uint64_t count;
	uint32_t nsid;
	uint8_t type;
};

struct nvmf_resv_ctrlr {
	uint64_t last_count;
	struct resv_log_entry log[RESV_LOG_MAX];
	uint32_t head;
	uint32_t num;
	/* Entries not yet announced; announced and the log not read since. */
	bool event_pending;
	bool event_masked;
	/* Feature 82h per NSID (index nsid - 1), num_masks entries. */
	uint32_t *masks;
	uint32_t num_masks;
};

static struct nvmf_resv_ctrlr *
resv_ctrlr_get(struct nvmf_ctrlr *ctrlr)
{
	uint32_t max = ctrlr->subsystem->max_nsid;

	if (ctrlr->resv == NULL) {
		ctrlr->resv = calloc(1, sizeof(*ctrlr->resv));
		if (ctrlr->resv == NULL) {
			return NULL;
		}
		ctrlr->resv->masks = calloc(max > 0 ? max : 1, sizeof(uint32_t));
		if (ctrlr->resv->masks == NULL) {
			free(ctrlr->resv);
			ctrlr->resv = NULL;
			return NULL;
		}
		ctrlr->resv->num_masks = max;
	}
	return ctrlr->resv;
}

void
nvmf_resv_ctrlr_free(struct nvmf_ctrlr *ctrlr)
{
	if (ctrlr->resv != NULL) {
		free(ctrlr->resv->masks);
		free(ctrlr->resv);
		ctrlr->resv = NULL;
	}
}

void
nvmf_resv_ctrlr_notify(struct nvmf_ctrlr *ctrlr, uint32_t nsid, uint8_t type)
{
	struct nvmf_resv_ctrlr *rc;

	if (ctrlr->state != NVMF_CTRLR_ACTIVE) {
		return;
	}
	rc = resv_ctrlr_get(ctrlr);
	if (rc == NULL) {
		NVT_ERRLOG("%s cntlid %u: no memory for a reservation notice\n",
			   ctrlr->subsystem->nqn, ctrlr->cntlid);
		return;
	}
	if (nsid == 0 || nsid > rc->num_masks || (rc->masks[nsid - 1] & (1u << type))) {
		return;
	}
	if (++rc->last_count == 0) {
		rc->last_count = 1;
	}
	if (rc->num < RESV_LOG_MAX) {
		rc->log[(rc->head + rc->num) % RESV_LOG_MAX] = (struct resv_log_entry){
			.count = rc->last_count, .nsid = nsid, .type = type
		};
		rc->num++;
	}
	rc->event_pending = true;
	nvmf_admin_aer_try_notify(ctrlr);
}

bool
nvmf_resv_ctrlr_take_event(struct nvmf_ctrlr *ctrlr, uint32_t *cdw0)
{
	struct nvmf_resv_ctrlr *rc = ctrlr->resv;

	if (rc == NULL || !rc->event_pending || rc->event_masked) {
		return false;
	}
	rc->event_pending = false;
	rc->event_masked = true;
	*cdw0 = nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_IO_COMMAND_SET,
				  NVT_NVME_AER_INFO_IO_RESV_LOG_AVAILABLE,
				  NVT_NVME_LOG_RESERVATION_NOTIFICATION);
	return true;
}

/* ---- Get Log Page 80h ---- */

static void
resv_get_log(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint64_t off = nvt_nvme_get_log_offset(cmd), len = nvt_nvme_get_log_len(cmd);
	struct nvmf_resv_ctrlr *rc = ctrlr->resv;
	struct nvt_nvme_resv_notify_log page = { 0 };
	struct resv_log_entry *e;

	if (len > req->length || off % 4 != 0) {
		nvmf_req_invalid_field(req);
		return;
	}
	if (rc != NULL && rc->num > 0) {
		/* Reading takes the oldest entry off the queue. */
		e = &rc->log[rc->head];
		page.log_page_count = e->count;
		page.type = e->type;
		page.nsid = e->nsid;
		rc->head = (rc->head + 1) % RESV_LOG_MAX;
		rc->num--;
		page.num_avail = (uint8_t)NVT_MIN(rc->num, 255u);
	}
	for (uint32_t i = 0; i < req->iovcnt; i++) {
		memset(req->iov[i].iov_base, 0, req->iov[i].iov_len);
	}
	if (off < sizeof(page)) {
		nvmf_request_copy_to_iov(req, 0, (const uint8_t *)&page + off,
					 NVT_MIN(sizeof(page) - (size_t)off, (size_t)len));
	}
	if (rc != NULL && !nvt_nvme_get_log_rae(cmd)) {
		rc->event_masked = false;
		rc->event_pending = rc->num > 0;
		nvmf_admin_aer_try_notify(ctrlr);
	}
}

/* ---- Features 82h and 83h ---- */

static bool
resv_nsid_valid(struct nvmf_ctrlr *ctrlr, uint32_t nsid)
{
	return nvmf_pg_get_ns(ctrlr->admin_qpair->group, ctrlr->subsystem, nsid) != NULL;
}

static void
resv_get_feature(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint8_t fid)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	struct nvmf_resv_ctrlr *rc;
	struct nvmf_pg_ns *pns;

	if (!resv_nsid_valid(ctrlr, cmd->nsid)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true);
		return;
	}
	if (nvt_nvme_feat_sel(cmd) == NVT_NVME_FEAT_SEL_SUPPORTED) {
		/* Namespace specific and changeable, not saveable. */
		req->rsp->cdw0 = 0x6;
		return;
	}
	if (fid == NVT_NVME_FEAT_HOST_RESERVE_MASK) {
		rc = resv_ctrlr_get(ctrlr);
		req->rsp->cdw0 = rc != NULL ? rc->masks[cmd->nsid - 1] : 0;
		return;
	}
	pns = nvmf_pg_get_ns(ctrlr->admin_qpair->group, ctrlr->subsystem, cmd->nsid);
	req->rsp->cdw0 = pns->resv != NULL && pns->resv->ptpl ? NVT_NVME_RESV_PERSIST_PTPL : 0;
}

/* Returns true when \p req completes later (Reservation Persistence). */
static bool
resv_set_feature(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint8_t fid)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	struct nvmf_resv_ctrlr *rc;
	uint32_t i;

	if (nvt_nvme_feat_sv(cmd)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_COMMAND_SPECIFIC,
				    NVT_NVME_SC_FEATURE_ID_NOT_SAVEABLE, true);
		return false;
	}
	if (fid == NVT_NVME_FEAT_HOST_RESERVE_PERSIST) {
		if (!resv_nsid_valid(ctrlr, cmd->nsid)) {
			nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC,
					    NVT_NVME_SC_INVALID_NAMESPACE, true);
			return false;
		}
		nvmf_resv_submit_ptpl(req);
		return true;
	}
	rc = resv_ctrlr_get(ctrlr);
	if (rc == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
	} else if (cmd->nsid == NVT_NVME_NSID_ALL) {
		for (i = 0; i < rc->num_masks; i++) {
			rc->masks[i] = cmd->cdw11 & NVT_NVME_RESV_MASK_ALL;
		}
	} else if (resv_nsid_valid(ctrlr, cmd->nsid)) {
		rc->masks[cmd->nsid - 1] = cmd->cdw11 & NVT_NVME_RESV_MASK_ALL;
	} else {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true);
	}
	return false;
}

bool
nvmf_resv_admin_exec(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint8_t fid = nvt_nvme_feat_fid(cmd);
	bool resv_feat =
		fid == NVT_NVME_FEAT_HOST_RESERVE_MASK || fid == NVT_NVME_FEAT_HOST_RESERVE_PERSIST;

	if (ctrlr->subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY) {
		return false;
	}
	if (cmd->opc == NVT_NVME_OPC_GET_LOG_PAGE &&
	    nvt_nvme_get_log_lid(cmd) == NVT_NVME_LOG_RESERVATION_NOTIFICATION) {
		resv_get_log(req, ctrlr);
	} else if (cmd->opc == NVT_NVME_OPC_GET_FEATURES && resv_feat) {
		resv_get_feature(req, ctrlr, fid);
	} else if (cmd->opc == NVT_NVME_OPC_SET_FEATURES && resv_feat) {
		if (resv_set_feature(req, ctrlr, fid)) {
			return true;
		}
	} else {
		return false;
	}
	nvmf_request_complete(req);
	return true;
}
