/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fused Compare and Write: a Compare (FUSE 01b, first) immediately followed
 * on its queue by a Write (FUSE 10b, second) over the same blocks, run as
 * one bdev compare-and-write.
 *
 * Commands are paired as they arrive (nvmf_request_arrived()): the
 * transport reads capsules in order, but the data of each comes later (in
 * the capsule or after an R2T), so the two reach nvmf_request_exec() in
 * any order and with anything in between. The one executed first is held
 * in the core until the other is; then the Compare goes to the bdev with
 * the Write's data, and the Write completes with it.
 *
 * A request's fused state, queue pair's thread only:
 *
 *   arrival: FUSE 01b Compare  -> AWAIT (qpair->fused_first)
 *            next arrival, a matching FUSE 10b Write -> both PAIRED
 *            next arrival, anything else -> MISSING (held: completed now)
 *            FUSE 10b with no first -> MISSING (FAILED if the first failed)
 *            FUSE 11b, or a first that is no Compare -> INVALID
 *   exec:    AWAIT / PAIRED -> held; PAIRED and the other held -> RUNNING
 *            MISSING, FAILED, INVALID -> completed with their status
 *   completion of one of a pair: the other, if held, completes too (the
 *            Write with the Compare's outcome); if not, it becomes FAILED.
 *
 * Held requests are in the core (outstanding): a disconnect completes them,
 * since their partner may never be executed.
 */
#include "nvtcp/likely.h"
#include "nvtcp/log.h"

#include "nvmf_internal.h"

enum fused_state {
	FUSED_NONE = 0,
	/* A first whose second has not arrived. */
	FUSED_AWAIT,
	/* Both arrived, not both executed. */
	FUSED_PAIRED,
	/* At the bdev (the first) or waiting for it (the second). */
	FUSED_RUNNING,
	/* To fail at exec: no partner (0Ah), partner failed (09h), bad FUSE (Invalid Field). */
	FUSED_MISSING,
	FUSED_FAILED,
	FUSED_INVALID,
};

static uint8_t
req_fuse(const struct nvmf_request *req)
{
	return nvt_nvme_cmd_fuse(&req->cmd->cmd);
}

static void
fused_reset(struct nvmf_request *req)
{
	req->fused_state = FUSED_NONE;
	req->fused_held = false;
	req->fused_pair = NULL;
}

/* Complete a request the pairing refuses, with its status already set. */
static void
fused_refuse(struct nvmf_request *req, uint8_t sc)
{
	fused_reset(req);
	nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, sc, false);
	nvmf_request_complete(req);
}

/* Whether \p second is the Write fused to the Compare \p first: same namespace and blocks. */
static bool
fused_matches(const struct nvmf_request *first, const struct nvmf_request *second)
{
	const struct nvt_nvme_cmd *c = &first->cmd->cmd, *w = &second->cmd->cmd;

	return req_fuse(second) == NVT_NVME_CMD_FUSE_SECOND && w->opc == NVT_NVME_OPC_WRITE &&
	       w->nsid == c->nsid && nvt_nvme_rw_slba(w) == nvt_nvme_rw_slba(c) &&
	       nvt_nvme_rw_nlb(w) == nvt_nvme_rw_nlb(c);
}

/* The first awaiting its second got something else: it is aborted (0Ah). */
static void
fused_first_missing(struct nvmf_request *first)
{
	if (first->fused_held) {
		fused_refuse(first, NVT_NVME_SC_ABORTED_MISSING_FUSED);
		return;
	}
	first->fused_state = FUSED_MISSING;
}

void
nvmf_request_arrived(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct nvmf_request *first = qpair->fused_first;
	bool first_failed = qpair->fused_first_failed;
	uint8_t fuse = req_fuse(req);

	fused_reset(req);
	qpair->fused_first = NULL;
	qpair->fused_first_failed = false;
	if (first != NULL) {
		if (fused_matches(first, req)) {
			first->fused_state = FUSED_PAIRED;
			first->fused_pair = req;
			req->fused_state = FUSED_PAIRED;
			req->fused_pair = first;
			return;
		}
		fused_first_missing(first);
	}
	switch (fuse) {
	case 0:
		return;
	case NVT_NVME_CMD_FUSE_FIRST:
		if (req->cmd->cmd.opc != NVT_NVME_OPC_COMPARE) {
			/* Compare and Write is the only fused operation there is. */
			req->fused_state = FUSED_INVALID;
			return;
		}
		req->fused_state = FUSED_AWAIT;
		qpair->fused_first = req;
		return;
	case NVT_NVME_CMD_FUSE_SECOND:
		req->fused_state = first_failed ? FUSED_FAILED : FUSED_MISSING;
		return;
	default:
		req->fused_state = FUSED_INVALID;
		return;
	}
}

/* Both executed: the Compare goes to the bdev with the Write's data. */
static void
fused_run(struct nvmf_request *req, struct nvmf_request *other)
{
	struct nvmf_request *first = req_fuse(req) == NVT_NVME_CMD_FUSE_FIRST ? req : other;
	struct nvmf_request *second = first == req ? other : req;

	first->fused_state = FUSED_RUNNING;
	first->fused_held = false;
	second->fused_state = FUSED_RUNNING;
	second->fused_held = true;
	nvmf_io_exec(first);
}

void
nvmf_fused_exec(struct nvmf_request *req)
{
	switch (req->fused_state) {
	case FUSED_AWAIT:
		req->fused_held = true;
		return;
	case FUSED_PAIRED:
		if (req->fused_pair->fused_held) {
			fused_run(req, req->fused_pair);
		} else {
			req->fused_held = true;
		}
		return;
	case FUSED_FAILED:
		fused_refuse(req, NVT_NVME_SC_ABORTED_FAILED_FUSED);
		return;
	case FUSED_INVALID:
		fused_reset(req);
		nvmf_req_invalid_field(req);
		nvmf_request_complete(req);
		return;
	default:
		/* MISSING, or never seen arriving: a fused command alone. */
		fused_refuse(req, NVT_NVME_SC_ABORTED_MISSING_FUSED);
		return;
	}
}

/*
 * The Write's status from the Compare's (the pair's outcome): success with
 * it; the path's refusal as it was (ANA: the path refuses both); else
 * aborted because its first failed.
 */
static uint16_t
fused_second_status(uint16_t first_status)
{
	struct nvt_nvme_status st = nvt_nvme_status_decode(first_status);

	if (first_status == 0) {
		return 0;
	}
	if (st.sct == NVT_NVME_SCT_PATH) {
		return first_status;
	}
	return nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, NVT_NVME_SC_ABORTED_FAILED_FUSED, st.dnr);
}

void
nvmf_fused_complete(struct nvmf_request *req)
{
	struct nvmf_request *other = req->fused_pair;
	uint8_t state = req->fused_state;

	if (nvt_likely(state == FUSED_NONE)) {
		return;
	}
	fused_reset(req);
	if (state == FUSED_AWAIT) {
		/* Failed before its second arrived: that one is aborted as failed fused. */
		req->qpair->fused_first = NULL;
		req->qpair->fused_first_failed = true;
		return;
	}
	if (other == NULL) {
		return;
	}
	other->fused_pair = NULL;
	if (state == FUSED_RUNNING) {
		fused_reset(other);
		other->rsp->status = fused_second_status(req->rsp->status);
		nvmf_request_complete(other);
	} else if (other->fused_held) {
		fused_refuse(other, NVT_NVME_SC_ABORTED_FAILED_FUSED);
	} else {
		other->fused_state = FUSED_FAILED;
	}
}

void
nvmf_fused_qpair_disconnect(struct nvmf_qpair *qpair)
{
	struct nvmf_request *req;
	bool found;

	/* Each completion may complete another: start over after each. */
	do {
		found = false;
		TAILQ_FOREACH(req, &qpair->outstanding, link) {
			if (req->fused_held && req->fused_state != FUSED_RUNNING) {
				found = true;
				break;
			}
		}
		if (found) {
			req->fused_held = false;
			nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC,
					    NVT_NVME_SC_ABORTED_SQ_DELETION, false);
			nvmf_request_complete(req);
		}
	} while (found);
}

uint16_t
nvmf_fused_identify_fuses(struct nvmf_ctrlr *ctrlr)
{
	struct nvt_nvmf_subsystem *subsystem = ctrlr->subsystem;
	struct nvmf_pg_ns *pns;
	uint32_t nsid;

	/*
	 * Controller-wide, while support is per namespace (its bdev's): offered
	 * when any namespace can, so hosts that check it use it there; a pair
	 * for a namespace that cannot is refused (Invalid Field in Command).
	 */
	for (nsid = 1; nsid <= subsystem->max_nsid; nsid++) {
		pns = nvmf_pg_get_ns(ctrlr->admin_qpair->group, subsystem, nsid);
		if (pns != NULL &&
		    nvt_bdev_io_type_supported(pns->ns->bdev, NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE)) {
			return NVT_NVME_FUSES_COMPARE_AND_WRITE;
		}
	}
	return 0;
}
