/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands: Identify, Get/Set Features, Get Log Page, Asynchronous
 * Event Request, Keep Alive, Abort. Run on the controller's thread.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"
#include "resv.h"

/* No PCI vendor ID or IEEE OUI is assigned to nvtcp: report none, as Linux's target does. */
#define NVMF_VID      0x0000
#define NVMF_IEEE_OUI 0x000000

static bool
ctrlr_is_discovery(const struct nvmf_ctrlr *ctrlr)
{
	return ctrlr->subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY;
}

/* Write a whole 4096-byte Identify structure (zero beyond the request's length). */
static void
req_reply_data(struct nvmf_request *req, const void *data, size_t len)
{
	if (req->length < len) {
		len = req->length;
	}
	nvmf_request_copy_to_iov(req, 0, data, len);
}

/* ---- Identify ---- */

static bool
subsystem_has_write_cache(struct nvmf_ctrlr *ctrlr)
{
	struct nvt_nvmf_subsystem *subsystem = ctrlr->subsystem;
	struct nvmf_pg_ns *pns;
	uint32_t nsid;

	for (nsid = 1; nsid <= subsystem->max_nsid; nsid++) {
		pns = nvmf_pg_get_ns(ctrlr->admin_qpair->group, subsystem, nsid);
		if (pns != NULL && pns->ns->write_cache) {
			return true;
		}
	}
	return false;
}

static void
identify_ctrlr_fabrics(struct nvmf_ctrlr *ctrlr, struct nvt_nvme_id_ctrl *cd)
{
	const struct nvt_nvmf_transport_opts *o = &ctrlr->admin_qpair->transport->opts;

	cd->ioccsz = (uint32_t)((sizeof(struct nvt_nvme_cmd) + o->in_capsule_data_size) / 16);
	cd->iorcsz = sizeof(struct nvt_nvme_cpl) / 16;
	cd->icdoff = 0;
	cd->ctrattr = 0; /* dynamic controller model */
	cd->msdbd = 1;
	cd->sgls = NVT_NVME_SGLS_SUPPORTED | NVT_NVME_SGLS_OFFSET | NVT_NVME_SGLS_TRANSPORT;
}

static void
identify_ctrlr_fill(struct nvmf_ctrlr *ctrlr, struct nvt_nvme_id_ctrl *cd)
{
	const struct nvt_nvmf_transport_opts *o = &ctrlr->admin_qpair->transport->opts;
	uint32_t mdts = o->max_io_size / 4096, shift = 0;

	cd->vid = NVMF_VID;
	cd->ssvid = NVMF_VID;
	nvt_strcpy_pad(cd->sn, ctrlr->subsystem->sn, sizeof(cd->sn), ' ');
	nvt_strcpy_pad(cd->mn, ctrlr->subsystem->mn, sizeof(cd->mn), ' ');
	nvt_strcpy_pad(cd->fr, NVMF_FW_REV, sizeof(cd->fr), ' ');
	cd->rab = 6;
	cd->ieee[0] = NVMF_IEEE_OUI & 0xff;
	cd->ieee[1] = (NVMF_IEEE_OUI >> 8) & 0xff;
	cd->ieee[2] = (NVMF_IEEE_OUI >> 16) & 0xff;
	cd->cmic = NVT_NVME_CMIC_MULTI_PORT | NVT_NVME_CMIC_MULTI_CTRL;
	while ((1u << (shift + 1)) <= mdts) {
		shift++;
	}
	cd->mdts = (uint8_t)shift;
	cd->cntlid = ctrlr->cntlid;
	cd->ver = NVMF_VS;
	cd->ctratt = NVT_NVME_CTRATT_HOST_ID_128;
	cd->acl = 3;
	cd->aerl = NVMF_MAX_AER - 1;
	cd->frmw = 1u | (1u << 1); /* slot 1 read only, one slot */
	cd->lpa = NVT_NVME_LPA_CMD_EFFECTS | NVT_NVME_LPA_EXTENDED_DATA;
	cd->elpe = 127;
	cd->sqes = nvt_nvme_qes(6, 6);
	cd->cqes = nvt_nvme_qes(4, 4);
	cd->maxcmd = o->max_queue_depth;
	cd->kas = o->kas;
	nvt_strcpy_trunc(cd->subnqn, sizeof(cd->subnqn), ctrlr->subsystem->nqn);
	identify_ctrlr_fabrics(ctrlr, cd);
	if (ctrlr_is_discovery(ctrlr)) {
		cd->cntrltype = NVT_NVME_CNTRLTYPE_DISCOVERY;
		cd->lpa |= NVT_NVME_LPA_EXTENDED_DATA;
		cd->oaes = NVT_NVME_OAES_DISCOVERY_LOG_CHANGE;
		return;
	}
	cd->cntrltype = NVT_NVME_CNTRLTYPE_IO;
	cd->oaes = NVT_NVME_OAES_NS_ATTR;
	cd->nn = ctrlr->subsystem->max_nsid;
	cd->mnan = 0;
	cd->oncs = NVT_NVME_ONCS_COMPARE | NVT_NVME_ONCS_DSM | NVT_NVME_ONCS_WRITE_ZEROES |
		   NVT_NVME_ONCS_RESERVATIONS;
	cd->fuses = nvmf_fused_identify_fuses(ctrlr);
	/* Flush names one namespace: a broadcast (NSID FFFFFFFFh) flush is not supported. */
	cd->vwc = (uint8_t)((0x2u << NVT_NVME_VWC_FLUSH_BROADCAST_SHIFT) |
			    (subsystem_has_write_cache(ctrlr) ? NVT_NVME_VWC_PRESENT : 0));
	nvmf_ana_identify_ctrlr(ctrlr, cd);
}

static void
identify_ns_fill(struct nvmf_ns *ns, struct nvt_nvme_id_ns *nsd, uint32_t max_io_size)
{
	uint32_t lbads = 0;

	while ((1u << lbads) < ns->block_size) {
		lbads++;
	}
	nsd->nsze = nvmf_ns_num_blocks(ns);
	nsd->ncap = nsd->nsze;
	nsd->nuse = nsd->nsze;
	nsd->nlbaf = 0;
	nsd->flbas = 0;
	nsd->lbaf[0].lbads = (uint8_t)lbads;
	nsd->nmic = 1;
	nsd->anagrpid = __atomic_load_n(&ns->opts.anagrpid, __ATOMIC_RELAXED);
	nsd->rescap = nvmf_resv_rescap(ns);
	if (nvt_bdev_io_type_supported(ns->bdev, NVT_BDEV_IO_TYPE_UNMAP)) {
		nsd->nsfeat |= NVT_NVME_NSFEAT_THIN_PROVISIONING;
	}
	/* Claimed only where the backing guarantees it (a file's holes, RAM). */
	if (nvt_bdev_unmap_reads_zeroes(ns->bdev)) {
		nsd->dlfeat = NVT_NVME_DLFEAT_READ_ZEROES;
		if (nvt_bdev_io_type_supported(ns->bdev, NVT_BDEV_IO_TYPE_WRITE_ZEROES)) {
			nsd->dlfeat |= NVT_NVME_DLFEAT_WRITE_ZEROES_DEAC;
		}
	}
	if (ns->read_only) {
		nsd->nsattr |= NVT_NVME_NSATTR_WRITE_PROTECTED;
	}
	nsd->noiob = 0;
	(void)max_io_size;
	memcpy(nsd->nguid, ns->opts.nguid, sizeof(nsd->nguid));
	memcpy(nsd->eui64, ns->opts.eui64, sizeof(nsd->eui64));
}

static void
identify_ns(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, void *buf)
{
	uint32_t nsid = req->cmd->cmd.nsid;
	struct nvmf_pg_ns *pns;

	if (nsid == 0 || nsid == NVT_NVME_NSID_ALL || nsid > ctrlr->subsystem->max_nsid) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true);
		return;
	}
	pns = nvmf_pg_get_ns(ctrlr->admin_qpair->group, ctrlr->subsystem, nsid);
	if (pns == NULL) {
		/* An inactive NSID in range: zeroed data, as the spec asks. */
		return;
	}
	identify_ns_fill(pns->ns, buf, ctrlr->admin_qpair->transport->opts.max_io_size);
}

static void
identify_active_ns_list(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr,
			struct nvt_nvme_ns_list *list)
{
	uint32_t nsid, n = 0;

	if (req->cmd->cmd.nsid >= 0xfffffffeu) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true);
		return;
	}
	for (nsid = req->cmd->cmd.nsid + 1; nsid <= ctrlr->subsystem->max_nsid; nsid++) {
		if (n < NVT_NVME_NS_LIST_ENTRIES &&
		    nvmf_pg_get_ns(ctrlr->admin_qpair->group, ctrlr->subsystem, nsid) != NULL) {
			list->nsid[n++] = nsid;
		}
	}
}

static size_t
ns_desc_add(uint8_t *buf, size_t off, uint8_t nidt, const void *id, uint8_t len)
{
	struct nvt_nvme_ns_id_desc *d = (struct nvt_nvme_ns_id_desc *)(buf + off);

	d->nidt = nidt;
	d->nidl = len;
	memcpy(d + 1, id, len);
	return off + sizeof(*d) + len;
}

static void
identify_ns_descs(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint8_t *buf)
{
	struct nvmf_pg_ns *pns;
	struct nvmf_ns *ns;
	uint8_t csi = NVT_NVME_CSI_NVM;
	size_t off = 0;

	pns = nvmf_pg_get_ns(ctrlr->admin_qpair->group, ctrlr->subsystem, req->cmd->cmd.nsid);
	if (pns == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_NAMESPACE, true);
		return;
	}
	ns = pns->ns;
	if (!nvmf_bytes_are_zero(ns->opts.eui64, sizeof(ns->opts.eui64))) {
		off = ns_desc_add(buf, off, NVT_NVME_NIDT_EUI64, ns->opts.eui64, 8);
	}
	if (!nvmf_bytes_are_zero(ns->opts.nguid, sizeof(ns->opts.nguid))) {
		off = ns_desc_add(buf, off, NVT_NVME_NIDT_NGUID, ns->opts.nguid, 16);
	}
	off = ns_desc_add(buf, off, NVT_NVME_NIDT_UUID, ns->opts.uuid, 16);
	ns_desc_add(buf, off, NVT_NVME_NIDT_CSI, &csi, 1);
}

/* Limits the host must keep to; the subsystem's, 0 where it sets none. */
static void
identify_ctrlr_nvm_fill(struct nvmf_ctrlr *ctrlr, struct nvt_nvme_id_ctrl_nvm *nvm)
{
	nvm->wzsl = ctrlr->subsystem->wzsl;
	nvm->dmrsl = ctrlr->subsystem->dmrsl;
}

static void
identify_dispatch(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint8_t *buf)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint8_t cns = nvt_nvme_identify_cns(cmd);
	bool disc = ctrlr_is_discovery(ctrlr);

	if (cns == NVT_NVME_CNS_CTRL) {
		identify_ctrlr_fill(ctrlr, (struct nvt_nvme_id_ctrl *)(void *)buf);
	} else if (disc) {
		nvmf_req_invalid_field(req);
	} else if (cns == NVT_NVME_CNS_NS) {
		identify_ns(req, ctrlr, buf);
	} else if (cns == NVT_NVME_CNS_ACTIVE_NS_LIST) {
		identify_active_ns_list(req, ctrlr, (struct nvt_nvme_ns_list *)(void *)buf);
	} else if (cns == NVT_NVME_CNS_NS_ID_DESC_LIST) {
		identify_ns_descs(req, ctrlr, buf);
	} else if (cns == NVT_NVME_CNS_IOCS_CTRL &&
		   nvt_nvme_identify_csi(cmd) == NVT_NVME_CSI_NVM) {
		identify_ctrlr_nvm_fill(ctrlr, (struct nvt_nvme_id_ctrl_nvm *)(void *)buf);
	} else {
		nvmf_req_invalid_field(req);
	}
}

static void
admin_identify(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	uint8_t *buf;

	if (req->length < NVT_NVME_IDENTIFY_DATA_SIZE || req->xfer != NVMF_XFER_CTRLR_TO_HOST) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID,
				    true);
		return;
	}
	buf = calloc(1, NVT_NVME_IDENTIFY_DATA_SIZE);
	if (buf == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
		return;
	}
	identify_dispatch(req, ctrlr, buf);
	if (req->rsp->status == 0) {
		req_reply_data(req, buf, NVT_NVME_IDENTIFY_DATA_SIZE);
	}
	free(buf);
}

/* ---- features ---- */

static uint32_t *
feat_slot(struct nvmf_ctrlr *ctrlr, uint8_t fid)
{
	switch (fid) {
	case NVT_NVME_FEAT_ARBITRATION:
		return &ctrlr->feat.arbitration;
	case NVT_NVME_FEAT_POWER_MANAGEMENT:
		return &ctrlr->feat.power_management;
	case NVT_NVME_FEAT_TEMPERATURE_THRESHOLD:
		return &ctrlr->feat.temperature_threshold;
	case NVT_NVME_FEAT_ERROR_RECOVERY:
		return &ctrlr->feat.error_recovery;
	case NVT_NVME_FEAT_VOLATILE_WRITE_CACHE:
		return &ctrlr->feat.volatile_write_cache;
	case NVT_NVME_FEAT_NUMBER_OF_QUEUES:
		return &ctrlr->feat.number_of_queues;
	case NVT_NVME_FEAT_INTERRUPT_COALESCING:
		return &ctrlr->feat.interrupt_coalescing;
	case NVT_NVME_FEAT_ASYNC_EVENT_CONFIGURATION:
		return &ctrlr->feat.async_event_configuration;
	case NVT_NVME_FEAT_KEEP_ALIVE_TIMER:
		return &ctrlr->feat.keep_alive_timer;
	default:
		return NULL;
	}
}

static void
admin_get_features(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint8_t fid = nvt_nvme_feat_fid(cmd);
	uint32_t *slot;

	if (fid == NVT_NVME_FEAT_HOST_IDENTIFIER) {
		if (!(cmd->cdw11 & 1u)) {
			nvmf_req_invalid_field(req);
			return;
		}
		req_reply_data(req, ctrlr->hostid, sizeof(ctrlr->hostid));
		return;
	}
	slot = feat_slot(ctrlr, fid);
	if (slot == NULL ||
	    (fid == NVT_NVME_FEAT_VOLATILE_WRITE_CACHE && !subsystem_has_write_cache(ctrlr))) {
		nvmf_req_invalid_field(req);
		return;
	}
	if (nvt_nvme_feat_sel(cmd) == NVT_NVME_FEAT_SEL_SUPPORTED) {
		/* Not saveable, not namespace specific; changeable except the queue count. */
		req->rsp->cdw0 = fid == NVT_NVME_FEAT_NUMBER_OF_QUEUES ? 0 : 0x4u;
		return;
	}
	req->rsp->cdw0 = *slot;
}

static void
set_number_of_queues(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	uint32_t v = req->cmd->cmd.cdw11;
	uint16_t max = (uint16_t)(ctrlr->max_io_qpairs - 1u);
	uint16_t nsq = nvt_nvme_feat_num_queues_nsq(v), ncq = nvt_nvme_feat_num_queues_ncq(v);

	if (nsq == 0xffff || ncq == 0xffff) {
		nvmf_req_invalid_field(req);
		return;
	}
	if (ctrlr->num_io_qpairs > 0) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		return;
	}
	nsq = nsq < max ? nsq : max;
	ncq = ncq < max ? ncq : max;
	ctrlr->feat.number_of_queues = nvt_nvme_feat_num_queues(nsq, ncq);
	req->rsp->cdw0 = ctrlr->feat.number_of_queues;
}

static void
admin_set_features(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint8_t fid = nvt_nvme_feat_fid(cmd);
	uint32_t *slot;

	if (nvt_nvme_feat_sv(cmd)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_COMMAND_SPECIFIC,
				    NVT_NVME_SC_FEATURE_ID_NOT_SAVEABLE, true);
		return;
	}
	if (fid == NVT_NVME_FEAT_NUMBER_OF_QUEUES) {
		set_number_of_queues(req, ctrlr);
		return;
	}
	if (fid == NVT_NVME_FEAT_HOST_IDENTIFIER) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		return;
	}
	slot = feat_slot(ctrlr, fid);
	if (slot == NULL ||
	    (fid == NVT_NVME_FEAT_VOLATILE_WRITE_CACHE && !subsystem_has_write_cache(ctrlr))) {
		nvmf_req_invalid_field(req);
		return;
	}
	*slot = cmd->cdw11;
	if (fid == NVT_NVME_FEAT_KEEP_ALIVE_TIMER) {
		nvmf_ctrlr_start_keep_alive(ctrlr);
	}
}

/* ---- AER ---- */

static void
aer_complete(struct nvmf_ctrlr *ctrlr, struct nvmf_request *req, uint32_t cdw0, uint16_t status)
{
	TAILQ_REMOVE(&ctrlr->aer_reqs, req, link);
	ctrlr->num_aer--;
	/* Back on the qpair's outstanding list so completion accounting is uniform. */
	TAILQ_INSERT_TAIL(&req->qpair->outstanding, req, link);
	req->rsp->cdw0 = cdw0;
	req->rsp->status = status;
	nvmf_request_complete(req);
}

void
nvmf_admin_aer_complete_all(struct nvmf_ctrlr *ctrlr, uint8_t sct, uint8_t sc)
{
	struct nvmf_request *req;

	while ((req = TAILQ_FIRST(&ctrlr->aer_reqs)) != NULL) {
		aer_complete(ctrlr, req, 0, nvt_nvme_status_make(sct, sc, false));
	}
}

void
nvmf_admin_aer_try_notify(struct nvmf_ctrlr *ctrlr)
{
	struct nvmf_request *req = TAILQ_FIRST(&ctrlr->aer_reqs);
	uint32_t cdw0;

	if (req != NULL && nvmf_ana_take_notice(ctrlr)) {
		aer_complete(ctrlr, req,
			     nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE,
					       NVT_NVME_AER_INFO_NOTICE_ANA_CHANGE,
					       NVT_NVME_LOG_ANA),
			     0);
		req = TAILQ_FIRST(&ctrlr->aer_reqs);
	}
	if (req != NULL && nvmf_resv_ctrlr_take_event(ctrlr, &cdw0)) {
		aer_complete(ctrlr, req, cdw0, 0);
		req = TAILQ_FIRST(&ctrlr->aer_reqs);
	}
	if (req == NULL || !ctrlr->ns_change_pending || ctrlr->ns_notice_masked) {
		return;
	}
	ctrlr->ns_change_pending = false;
	ctrlr->ns_notice_masked = true;
	aer_complete(ctrlr, req,
		     nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE,
				       NVT_NVME_AER_INFO_NOTICE_NS_ATTR_CHANGED,
				       NVT_NVME_LOG_CHANGED_NS_LIST),
		     0);
}

bool
nvmf_admin_aer_notice(struct nvmf_ctrlr *ctrlr, uint8_t info, uint8_t lid)
{
	struct nvmf_request *req = TAILQ_FIRST(&ctrlr->aer_reqs);

	if (req == NULL) {
		return false;
	}
	aer_complete(ctrlr, req, nvt_nvme_aer_cdw0(NVT_NVME_AER_TYPE_NOTICE, info, lid), 0);
	return true;
}

void
nvmf_ctrlr_notify_ns_changed(struct nvmf_ctrlr *ctrlr, uint32_t nsid)
{
	uint32_t i;

	if (ctrlr->state != NVMF_CTRLR_ACTIVE) {
		return;
	}
	for (i = 0; i < ctrlr->num_changed_ns && ctrlr->changed_ns[i] != nsid; i++) {
	}
	if (i == ctrlr->num_changed_ns && ctrlr->num_changed_ns < NVMF_CHANGED_NS_MAX) {
		ctrlr->changed_ns[ctrlr->num_changed_ns++] = nsid;
	} else if (i == ctrlr->num_changed_ns) {
		/* Overflow: the list reads FFFFFFFFh first. */
		ctrlr->changed_ns[0] = NVT_NVME_NSID_ALL;
		ctrlr->num_changed_ns = 1;
	}
	if (ctrlr->feat.async_event_configuration & NVT_NVME_AEC_NS_ATTR_NOTICE) {
		ctrlr->ns_change_pending = true;
		nvmf_admin_aer_try_notify(ctrlr);
	}
}

/* Returns true when the request is held (completes later). */
static bool
admin_aer(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	if (ctrlr->num_aer >= NVMF_MAX_AER) {
		nvmf_req_set_status(req, NVT_NVME_SCT_COMMAND_SPECIFIC,
				    NVT_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, true);
		return false;
	}
	/* Moves from the qpair's outstanding list to the AER list; still counted. */
	TAILQ_REMOVE(&req->qpair->outstanding, req, link);
	TAILQ_INSERT_TAIL(&ctrlr->aer_reqs, req, link);
	ctrlr->num_aer++;
	nvmf_admin_aer_try_notify(ctrlr);
	nvmf_discovery_aer_try_notify(ctrlr);
	return true;
}

static void
admin_abort(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	uint16_t sqid = nvt_nvme_abort_sqid(&req->cmd->cmd);
	uint16_t cid = nvt_nvme_abort_cid(&req->cmd->cmd);
	struct nvmf_request *aer;

	/* Not aborted unless found below (bit 0 set). */
	req->rsp->cdw0 = 1;
	if (sqid != 0) {
		return;
	}
	TAILQ_FOREACH(aer, &ctrlr->aer_reqs, link) {
		if (aer->cmd->cmd.cid == cid) {
			aer_complete(ctrlr, aer, 0,
				     nvt_nvme_status_make(NVT_NVME_SCT_GENERIC,
							  NVT_NVME_SC_ABORTED_BY_REQUEST, false));
			req->rsp->cdw0 = 0;
			return;
		}
	}
}

/* ---- log pages ---- */

static void
log_reply(struct nvmf_request *req, const void *page, size_t page_len, uint64_t offset,
	  uint64_t len)
{
	if (offset < page_len) {
		size_t n = page_len - offset < len ? page_len - (size_t)offset : (size_t)len;

		nvmf_request_copy_to_iov(req, 0, (const uint8_t *)page + offset, n);
	}
}

static void
log_changed_ns(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint64_t off, uint64_t len)
{
	struct nvt_nvme_changed_ns_list_log *log = calloc(1, sizeof(*log));

	if (log == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
		return;
	}
	memcpy(log->nsid, ctrlr->changed_ns, ctrlr->num_changed_ns * sizeof(uint32_t));
	log_reply(req, log, sizeof(*log), off, len);
	free(log);
	if (!nvt_nvme_get_log_rae(&req->cmd->cmd)) {
		ctrlr->num_changed_ns = 0;
		ctrlr->ns_notice_masked = false;
		nvmf_admin_aer_try_notify(ctrlr);
	}
}

static void
log_cmd_effects(struct nvmf_request *req, uint64_t off, uint64_t len)
{
	static const uint8_t admin[] = { 0x02, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x18 };
	static const uint8_t io[] = { 0x00, 0x01, 0x02, 0x05, 0x08, 0x09, 0x0d, 0x0e, 0x11, 0x15 };
	struct nvt_nvme_cmd_effects_log *log = calloc(1, sizeof(*log));
	size_t i;

	if (log == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
		return;
	}
	for (i = 0; i < sizeof(admin); i++) {
		log->acs[admin[i]] = NVT_NVME_CSE_CSUPP;
	}
	for (i = 0; i < sizeof(io); i++) {
		log->iocs[io[i]] = NVT_NVME_CSE_CSUPP;
	}
	log->iocs[NVT_NVME_OPC_WRITE] |= NVT_NVME_CSE_LBCC;
	log->iocs[NVT_NVME_OPC_WRITE_ZEROES] |= NVT_NVME_CSE_LBCC;
	log->iocs[NVT_NVME_OPC_DATASET_MANAGEMENT] |= NVT_NVME_CSE_LBCC;
	log_reply(req, log, sizeof(*log), off, len);
	free(log);
}

static void
log_static(struct nvmf_request *req, uint8_t lid, uint64_t off, uint64_t len)
{
	union {
		struct nvt_nvme_smart_log smart;
		struct nvt_nvme_fw_slot_log fw;
		struct nvt_nvme_error_log_entry err;
	} u;
	size_t size = 0;

	memset(&u, 0, sizeof(u));
	switch (lid) {
	case NVT_NVME_LOG_ERROR:
		size = sizeof(u.err);
		break;
	case NVT_NVME_LOG_SMART:
		/* 38 C in Kelvin; full spare, nothing used. */
		u.smart.temperature[0] = (uint8_t)(311 & 0xff);
		u.smart.temperature[1] = (uint8_t)(311 >> 8);
		u.smart.avail_spare = 100;
		u.smart.avail_spare_threshold = 10;
		size = sizeof(u.smart);
		break;
	case NVT_NVME_LOG_FIRMWARE_SLOT:
		u.fw.afi = 1;
		memcpy(u.fw.frs[0], NVMF_FW_REV, 7);
		u.fw.frs[0][7] = ' ';
		size = sizeof(u.fw);
		break;
	}
	log_reply(req, &u, size, off, len);
}

static void
admin_get_log_page(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	uint8_t lid = nvt_nvme_get_log_lid(cmd);
	uint64_t off = nvt_nvme_get_log_offset(cmd), len = nvt_nvme_get_log_len(cmd);

	if (len > req->length || off % 4 != 0) {
		nvmf_req_invalid_field(req);
		nvmf_request_complete(req);
		return;
	}
	/* Bytes past the page read as zero: clear the whole buffer first. */
	for (uint32_t i = 0; i < req->iovcnt; i++) {
		memset(req->iov[i].iov_base, 0, req->iov[i].iov_len);
	}
	if (ctrlr_is_discovery(ctrlr)) {
		if (lid == NVT_NVME_LOG_DISCOVERY) {
			nvmf_discovery_get_log(req, off, len);
			return;
		}
		nvmf_req_invalid_field(req);
	} else if (lid == NVT_NVME_LOG_CHANGED_NS_LIST) {
		log_changed_ns(req, ctrlr, off, len);
	} else if (lid == NVT_NVME_LOG_ANA) {
		nvmf_ana_get_log(req, ctrlr, off, len);
	} else if (lid == NVT_NVME_LOG_COMMAND_EFFECTS) {
		log_cmd_effects(req, off, len);
	} else if (lid == NVT_NVME_LOG_ERROR || lid == NVT_NVME_LOG_SMART ||
		   lid == NVT_NVME_LOG_FIRMWARE_SLOT) {
		log_static(req, lid, off, len);
	} else {
		nvmf_req_set_status(req, NVT_NVME_SCT_COMMAND_SPECIFIC,
				    NVT_NVME_SC_INVALID_LOG_PAGE, true);
	}
	nvmf_request_complete(req);
}

/* ---- dispatch ---- */

static bool
admin_allowed_on_discovery(uint8_t opc)
{
	return opc == NVT_NVME_OPC_IDENTIFY || opc == NVT_NVME_OPC_GET_LOG_PAGE ||
	       opc == NVT_NVME_OPC_KEEP_ALIVE || opc == NVT_NVME_OPC_GET_FEATURES ||
	       opc == NVT_NVME_OPC_SET_FEATURES || opc == NVT_NVME_OPC_ASYNC_EVENT_REQUEST;
}

void
nvmf_admin_exec(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	uint8_t opc = req->cmd->cmd.opc;

	if (!nvmf_ctrlr_is_enabled(ctrlr)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
	} else if (ctrlr_is_discovery(ctrlr) && !admin_allowed_on_discovery(opc)) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE, true);
	} else if (nvmf_resv_admin_exec(req, ctrlr)) {
		return;
	} else {
		switch (opc) {
		case NVT_NVME_OPC_GET_LOG_PAGE:
			admin_get_log_page(req, ctrlr);
			return;
		case NVT_NVME_OPC_IDENTIFY:
			admin_identify(req, ctrlr);
			break;
		case NVT_NVME_OPC_GET_FEATURES:
			admin_get_features(req, ctrlr);
			break;
		case NVT_NVME_OPC_SET_FEATURES:
			admin_set_features(req, ctrlr);
			break;
		case NVT_NVME_OPC_ASYNC_EVENT_REQUEST:
			if (admin_aer(req, ctrlr)) {
				return;
			}
			break;
		case NVT_NVME_OPC_KEEP_ALIVE:
			nvmf_ctrlr_keep_alive(ctrlr);
			break;
		case NVT_NVME_OPC_ABORT:
			admin_abort(req, ctrlr);
			break;
		default:
			nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INVALID_OPCODE,
					    true);
		}
	}
	nvmf_request_complete(req);
}
