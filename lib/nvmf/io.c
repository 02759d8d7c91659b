/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVM I/O commands through the bdev io-channels of the qpair's poll group:
 * Read, Write, Compare, Flush, Write Zeroes, Dataset Management.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"

#include "nvmf_internal.h"
#include "resv.h"

/*
 * The NVMe status of a bdev error. A device error (-EIO) is a media error:
 * Unrecovered Read Error for what reads, Write Fault for what writes; the
 * host may retry it (DNR clear), as it may an internal error.
 */
static void
io_status_from_errno(struct nvmf_request *req, int status)
{
	bool reads =
		req->cmd->cmd.opc == NVT_NVME_OPC_READ || req->cmd->cmd.opc == NVT_NVME_OPC_COMPARE;

	switch (status) {
	case 0:
		break;
	case -EIO:
		nvmf_req_set_status(req, NVT_NVME_SCT_MEDIA_ERROR,
				    reads ? NVT_NVME_SC_UNRECOVERED_READ_ERROR
					  : NVT_NVME_SC_WRITE_FAULT,
				    false);
		break;
	case -EILSEQ:
		nvmf_req_set_status(req, NVT_NVME_SCT_MEDIA_ERROR, NVT_NVME_SC_COMPARE_FAILURE,
				    true);
		break;
	case -ENOSPC:
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_CAPACITY_EXCEEDED, true);
		break;
	case -EBADF:
	case -EROFS:
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC,
				    NVT_NVME_SC_NAMESPACE_WRITE_PROTECTED, true);
		break;
	case -EINVAL:
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE, true);
		break;
	case -ENOTSUP:
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true);
		break;
	case -ENODEV:
		/* The backing is gone for good: the host stops retrying on this namespace. */
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_NAMESPACE_NOT_READY,
				    true);
		break;
	case -ESHUTDOWN:
		/* This target may not reach the backing any more: a multipath host fails over. */
		nvmf_req_set_status(req, NVT_NVME_SCT_PATH, NVT_NVME_SC_INTERNAL_PATH_ERROR, false);
		break;
	default:
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
	}
}

static struct nvmf_pg_ns *
req_pg_ns(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;

	return nvmf_pg_get_ns(qpair->group, qpair->ctrlr->subsystem, req->cmd->cmd.nsid);
}

static void
io_done(void *cb_arg, int status)
{
	struct nvmf_request *req = cb_arg;
	struct nvmf_qpair *qpair = req->qpair;
	struct nvmf_pg_subsystem *sg = &qpair->group->sgroups[qpair->ctrlr->subsystem->id];

	io_status_from_errno(req, status);
	nvmf_io_stats_done(req, &sg->ns[req->ns->nsid - 1]);
	nvmf_resv_io_done(req, &sg->ns[req->ns->nsid - 1]);
	nvmf_pg_ns_io_done(qpair->group, &sg->ns[req->ns->nsid - 1]);
	nvmf_request_complete(req);
}

static bool
io_check_range(struct nvmf_request *req, struct nvmf_ns *ns, uint64_t slba, uint64_t nlb)
{
	uint64_t num_blocks = nvmf_ns_num_blocks(ns);

	if (slba >= num_blocks || nlb > num_blocks - slba) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_LBA_OUT_OF_RANGE, true);
		return false;
	}
	return true;
}

static bool
io_check_length(struct nvmf_request *req, struct nvmf_ns *ns, uint64_t nlb)
{
	uint64_t bytes = nlb * ns->block_size;

	/*
	 * Exactly the blocks' bytes: Identify Controller SGLS does not offer
	 * SGLs longer than the data (bit 18), as the Linux target does not.
	 */
	if (req->length != bytes) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID,
				    true);
		return false;
	}
	return true;
}

/*
 * A write is durable on completion (FUA) when the host asks, or when it has
 * turned the volatile write cache off (Set Features VWC): then it expects
 * every write to be durable.
 */
static uint32_t
io_write_flags(const struct nvmf_request *req, const struct nvmf_ns *ns)
{
	bool wce = (req->qpair->ctrlr->feat.volatile_write_cache & NVT_NVME_FEAT_VWC_WCE) != 0;

	if (!ns->write_cache) {
		return 0;
	}
	return (req->cmd->cmd.cdw12 & NVT_NVME_RW_FUA) || !wce ? NVT_BDEV_IO_FLAG_FUA : 0;
}

/*
 * The Compare of a fused pair, with its Write's data (the Write completes
 * with it, lib/nvmf/fused.c). Only bdevs that do it themselves can: the
 * pair on another namespace is refused as a field the controller does not
 * support there.
 */
static int
io_submit_compare_and_write(struct nvmf_request *req, struct nvmf_pg_ns *pns, uint64_t slba,
			    uint64_t nlb)
{
	struct nvmf_request *write = req->fused_pair;
	struct nvmf_ns *ns = pns->ns;

	if (!nvt_bdev_io_type_supported(ns->bdev, NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE)) {
		if (!pns->fused_refusal_logged) {
			pns->fused_refusal_logged = true;
			NVT_ERRLOG(
				"%s nsid %u: fused compare and write refused: bdev %s cannot do it\n",
				ns->subsystem->nqn, ns->nsid, ns->bdev_name);
		}
		nvmf_req_invalid_field(req);
		return 1;
	}
	if (write->length != req->length || write->xfer != NVMF_XFER_HOST_TO_CTRLR) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID,
				    true);
		return 1;
	}
	return nvt_bdev_comparev_and_writev_blocks(ns->desc, pns->ch, req->iov, (int)req->iovcnt,
						   write->iov, (int)write->iovcnt, slba, nlb,
						   io_done, req);
}

static int
io_submit_rw(struct nvmf_request *req, struct nvmf_pg_ns *pns, uint8_t opc)
{
	struct nvmf_ns *ns = pns->ns;
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint64_t slba = nvt_nvme_rw_slba(cmd), nlb = nvt_nvme_rw_nlb(cmd);
	enum nvmf_xfer want =
		opc == NVT_NVME_OPC_READ ? NVMF_XFER_CTRLR_TO_HOST : NVMF_XFER_HOST_TO_CTRLR;
	int iovcnt = (int)req->iovcnt;

	if (!io_check_range(req, ns, slba, nlb) || !io_check_length(req, ns, nlb)) {
		return 1;
	}
	if (req->xfer != want) {
		nvmf_req_invalid_field(req);
		return 1;
	}
	switch (opc) {
	case NVT_NVME_OPC_READ:
		return nvt_bdev_readv_blocks(ns->desc, pns->ch, req->iov, iovcnt, slba, nlb,
					     io_done, req);
	case NVT_NVME_OPC_WRITE:
		return nvt_bdev_writev_blocks_flags(ns->desc, pns->ch, req->iov, iovcnt, slba, nlb,
						    io_write_flags(req, ns), io_done, req);
	default:
		if (req->fused_pair != NULL) {
			return io_submit_compare_and_write(req, pns, slba, nlb);
		}
		return nvt_bdev_comparev_blocks(ns->desc, pns->ch, req->iov, iovcnt, slba, nlb,
						io_done, req);
	}
}

static int
io_submit_write_zeroes(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint64_t slba = nvt_nvme_rw_slba(cmd), nlb = nvt_nvme_rw_nlb(cmd);

	if (!io_check_range(req, pns->ns, slba, nlb)) {
		return 1;
	}
	return nvt_bdev_write_zeroes_blocks(pns->ns->desc, pns->ch, slba, nlb, io_done, req);
}

/* ---- DSM: one unmap per range, the last completion finishes the request ---- */

static void
dsm_range_done(void *cb_arg, int status)
{
	struct nvmf_request *req = cb_arg;

	if (status != 0 && req->sub_status == 0) {
		io_status_from_errno(req, status);
		req->sub_status = req->rsp->status;
	}
	if (--req->sub_pending > 0) {
		return;
	}
	req->rsp->status = req->sub_status;
	io_done(req, 0);
}

static int
dsm_submit_ranges(struct nvmf_request *req, struct nvmf_pg_ns *pns,
		  const struct nvt_nvme_dsm_range *r, unsigned int nr)
{
	unsigned int i;
	int rc;

	req->sub_pending = 1;
	req->sub_status = 0;
	for (i = 0; i < nr; i++) {
		if (r[i].nlb == 0) {
			continue;
		}
		req->sub_pending++;
		rc = nvt_bdev_unmap_blocks(pns->ns->desc, pns->ch, r[i].slba, r[i].nlb,
					   dsm_range_done, req);
		if (rc != 0) {
			req->sub_pending--;
			if (req->sub_status == 0) {
				io_status_from_errno(req, rc);
				req->sub_status = req->rsp->status;
			}
			break;
		}
	}
	dsm_range_done(req, 0);
	return 0;
}

static int
io_submit_dsm(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	unsigned int nr = nvt_nvme_dsm_nr(cmd), i;
	struct nvt_nvme_dsm_range r[NVT_NVME_DSM_MAX_RANGES];

	if ((cmd->cdw11 & NVT_NVME_DSM_ATTR_AD) && pns->ns->read_only) {
		/* A write protected namespace refuses every write, a deallocate too, hint or not. */
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC,
				    NVT_NVME_SC_NAMESPACE_WRITE_PROTECTED, true);
		return 1;
	}
	if (!(cmd->cdw11 & NVT_NVME_DSM_ATTR_AD) ||
	    !nvt_bdev_io_type_supported(pns->ns->bdev, NVT_BDEV_IO_TYPE_UNMAP)) {
		/*
		 * Only deallocate does anything, and it is a hint: where the bdev
		 * cannot deallocate, the data stays (DLFEAT claims nothing then).
		 */
		return 1;
	}
	if (req->length < nr * sizeof(r[0]) ||
	    nvmf_request_copy_from_iov(req, 0, r, nr * sizeof(r[0])) != nr * sizeof(r[0])) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID,
				    true);
		return 1;
	}
	for (i = 0; i < nr; i++) {
		if (!io_check_range(req, pns->ns, r[i].slba, r[i].nlb)) {
			return 1;
		}
	}
	return dsm_submit_ranges(req, pns, r, nr);
}

/* Returns 0 when submitted (io_done runs), 1 when req is to complete now, <0 on error. */
static int
io_submit(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	uint8_t opc = req->cmd->cmd.opc;

	switch (opc) {
	case NVT_NVME_OPC_READ:
	case NVT_NVME_OPC_WRITE:
	case NVT_NVME_OPC_COMPARE:
		return io_submit_rw(req, pns, opc);
	case NVT_NVME_OPC_FLUSH:
		if (!pns->ns->write_cache) {
			/* Nothing is cached: every completed write is durable already. */
			return 1;
		}
		return nvt_bdev_flush_blocks(pns->ns->desc, pns->ch, 0, nvmf_ns_num_blocks(pns->ns),
					     io_done, req);
	case NVT_NVME_OPC_WRITE_ZEROES:
		return io_submit_write_zeroes(req, pns);
	case NVT_NVME_OPC_DATASET_MANAGEMENT:
		return io_submit_dsm(req, pns);
	default:
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true);
		return 1;
	}
}

void
nvmf_io_exec(struct nvmf_request *req)
{
	struct nvmf_pg_ns *pns = req_pg_ns(req);
	int rc;

	if (pns == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true);
		nvmf_request_complete(req);
		return;
	}
	if (nvmf_ana_io_refused(req, pns->ns)) {
		nvmf_request_complete(req);
		return;
	}
	if (nvmf_resv_io_filter(req, pns)) {
		return;
	}
	req->ns = pns->ns;
	nvmf_io_stats_start(req);
	pns->io_outstanding++;
	req->qpair->group->stats.pending_bdev_io++;
	rc = io_submit(req, pns);
	if (rc == 0) {
		return;
	}
	if (rc < 0) {
		io_status_from_errno(req, rc);
	}
	nvmf_resv_io_done(req, pns);
	nvmf_pg_ns_io_done(req->qpair->group, pns);
	nvmf_request_complete(req);
}
