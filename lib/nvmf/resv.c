/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reservation commands through the threads: taken on the I/O qpair's thread,
 * run on the app thread (owner of the state), persisted by a worker thread
 * when PTPL is on, published to every poll group, completed back on the
 * qpair's thread.
 *
 * One command per namespace at a time, in arrival order: the others wait in
 * the namespace's queue. That keeps file writes in order, and a snapshot is
 * published before the next change starts.
 *
 * The PTPL file is written by a short-lived worker thread, not on the app
 * thread: the app thread shares its reactor with a poll group, and fsync()
 * may take milliseconds that I/O must not wait for.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/queue.h"

#include "nvmf_internal.h"
#include "resv.h"

enum resv_op_state {
	RESV_OP_QUEUED = 0,
	RESV_OP_SAVING,
	RESV_OP_PUBLISHING,
	RESV_OP_COMPLETING,
	RESV_OP_NUM_STATES,
};

/* One reservation command on its way (owned by whichever thread runs it now). */
struct resv_op {
	enum resv_op_state state;
	struct nvmf_request *req;
	struct nvt_thread *qthread;
	struct nvt_nvmf_subsystem *subsystem;
	/* Compared, never followed: the namespace may go while the op runs. */
	const struct nvmf_ns *ns;
	struct nvmf_resv_ns *rns;
	uint8_t bdev_uuid[16];
	uint32_t nsid;
	struct nvmf_resv_cmd cmd;
	uint16_t status;
	/* Report: the data to copy to the host. */
	uint8_t *data;
	uint32_t data_len;
	/* The state before the change, restored if the file cannot be written. */
	struct nvmf_resv before;
	struct nvmf_resv_snap *old_snap;
	/* Hosts to tell, once the change holds (written and published). */
	struct nvmf_resv_notices notices;
	int save_rc;
	struct nvt_thread_msg msg;
	TAILQ_ENTRY(resv_op) link;
};

/* A namespace's reservation state and its queue of commands (app thread). */
struct nvmf_resv_ns {
	struct nvmf_resv r;
	TAILQ_HEAD(, resv_op) ops;
	bool busy;
	/* The namespace went while a command ran: freed when that command ends. */
	bool orphan;
};

/* What one controller is told (sent to its thread). */
struct resv_notice_msg {
	struct nvmf_ctrlr *ctrlr;
	uint32_t nsid;
	uint8_t type;
	struct nvt_thread_msg msg;
};

static void resv_op_next(struct nvmf_resv_ns *rns);
static void resv_ns_free(struct nvmf_resv_ns *rns);
static void resv_notify(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid,
			const struct nvmf_resv_notices *n);

static uint16_t
st(uint8_t sc, bool dnr)
{
	return nvt_nvme_status_make(NVT_NVME_SCT_GENERIC, sc, dnr);
}

/* ---- back on the qpair's thread ---- */

static void
resv_op_complete_msg(void *ctx)
{
	struct resv_op *op = ctx;
	struct nvmf_request *req = op->req;

	if (op->status == 0 && op->data != NULL) {
		nvmf_request_copy_to_iov(req, 0, op->data, op->data_len);
	}
	req->rsp->status = op->status;
	nvmf_request_complete(req);
	free(op->data);
	free(op);
}

/* App thread: the command is done; the next of the namespace may start. */
static void
resv_op_finish(struct nvmf_resv_ns *rns, struct resv_op *op)
{
	op->state = RESV_OP_COMPLETING;
	if (op->status == 0 && op->notices.n > 0) {
		resv_notify(op->subsystem, op->nsid, &op->notices);
	}
	if (rns != NULL) {
		TAILQ_REMOVE(&rns->ops, op, link);
		rns->busy = false;
	}
	if (nvmf_send_msg(op->qthread, &op->msg, resv_op_complete_msg, op,
			  "reservation completion") != 0) {
		free(op->data);
		free(op);
	}
	if (rns != NULL && rns->orphan) {
		resv_ns_free(rns);
	} else if (rns != NULL) {
		resv_op_next(rns);
	}
}

/* ---- notifications ---- */

static void
resv_notice_run(void *ctx)
{
	struct resv_notice_msg *m = ctx;

	nvmf_resv_ctrlr_notify(m->ctrlr, m->nsid, m->type);
	free(m);
}

/* Every controller of each host in \p n, on its own thread. */
static void
resv_notify(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid, const struct nvmf_resv_notices *n)
{
	struct nvmf_ctrlr *ctrlr;
	struct resv_notice_msg *m;
	uint32_t i;

	for (i = 0; i < n->n; i++) {
		TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
			if (memcmp(ctrlr->hostid, n->to[i].hostid, 16) != 0) {
				continue;
			}
			m = calloc(1, sizeof(*m));
			if (m == NULL) {
				NVT_ERRLOG("%s cntlid %u: nsid %u: no memory for a reservation "
					   "notice\n",
					   subsystem->nqn, ctrlr->cntlid, nsid);
				continue;
			}
			*m = (struct resv_notice_msg){ .ctrlr = ctrlr,
						       .nsid = nsid,
						       .type = n->to[i].type };
			if (nvmf_send_msg(ctrlr->thread, &m->msg, resv_notice_run, m,
					  "reservation notice") != 0) {
				free(m);
			}
		}
	}
}

/* ---- publishing to poll groups ---- */

static void
resv_publish_group(struct nvmf_poll_group *group, void *arg)
{
	struct resv_op *op = arg;
	struct nvmf_pg_ns *pns = nvmf_pg_get_ns(group, op->subsystem, op->nsid);

	if (pns != NULL && pns->ns == op->ns) {
		pns->resv = op->rns->r.snap;
	}
}

static void
resv_drained(void *arg)
{
	struct resv_op *op = arg;

	resv_op_finish(op->rns, op);
}

static bool
resv_op_aborts(const struct resv_op *op)
{
	return op->cmd.opc == NVT_NVME_OPC_RESERVATION_ACQUIRE &&
	       (op->cmd.cdw10 & 0x7u) == NVT_NVME_RESV_PREEMPT_ABORT;
}

static void
resv_publish_done(void *arg)
{
	struct resv_op *op = arg;

	/* Every group holds the new snapshot: nobody reads the old one. */
	free(op->old_snap);
	op->old_snap = NULL;
	if (resv_op_aborts(op) && !op->rns->orphan) {
		/* Preempt and Abort: commands admitted under the old snapshot finish first. */
		nvmf_resv_drain(op->subsystem, op->ns, op->nsid, resv_drained, op);
		return;
	}
	resv_op_finish(op->rns, op);
}

static void
resv_publish(struct resv_op *op)
{
	struct nvmf_resv *r = &op->rns->r;
	struct nvmf_resv_snap *snap = nvmf_resv_state_snap(r);

	if (snap == NULL) {
		/* The groups keep the old view: refuse the change rather than lie. */
		NVT_ERRLOG("%s nsid %u: no memory to publish a reservation change\n",
			   op->subsystem->nqn, op->nsid);
		*r = op->before;
		op->status = st(NVT_NVME_SC_INTERNAL_ERROR, false);
		resv_op_finish(op->rns, op);
		return;
	}
	op->state = RESV_OP_PUBLISHING;
	op->old_snap = r->snap;
	r->snap = snap;
	nvmf_tgt_for_each_group(op->subsystem->tgt, resv_publish_group, resv_publish_done, op);
}

/* ---- persisting ---- */

static void
resv_saved_msg(void *ctx)
{
	struct resv_op *op = ctx;
	struct nvmf_resv *r = &op->rns->r;

	if (op->rns->orphan) {
		/* The namespace went (or the target stops) while the file was written. */
		op->status = st(NVT_NVME_SC_ABORTED_SQ_DELETION, false);
		resv_op_finish(op->rns, op);
		return;
	}
	if (op->save_rc != 0) {
		NVT_ERRLOG("%s nsid %u: cannot write reservation file %s: %s; change refused\n",
			   op->subsystem->nqn, op->nsid, r->ptpl_file, strerror(-op->save_rc));
		*r = op->before;
		op->status = st(NVT_NVME_SC_INTERNAL_ERROR, false);
		resv_op_finish(op->rns, op);
		return;
	}
	resv_publish(op);
}

static void *
resv_save_worker(void *arg)
{
	struct resv_op *op = arg;

	op->save_rc = nvmf_resv_ptpl_save(&op->rns->r, op->bdev_uuid);
	/* The app thread does not touch the state meanwhile: the namespace is busy. */
	nvt_thread_send_msg_prealloc(op->subsystem->tgt->thread, &op->msg, resv_saved_msg, op);
	return NULL;
}

static void
resv_save(struct resv_op *op)
{
	pthread_t tid;
	int rc;

	op->state = RESV_OP_SAVING;
	rc = pthread_create(&tid, NULL, resv_save_worker, op);
	if (rc != 0) {
		op->save_rc = -rc;
		resv_saved_msg(op);
		return;
	}
	pthread_detach(tid);
}

/* ---- the app thread ---- */

static void
resv_op_report(struct resv_op *op, const struct nvmf_resv *r)
{
	op->data = calloc(1, op->data_len);
	if (op->data == NULL) {
		op->status = st(NVT_NVME_SC_INTERNAL_ERROR, false);
		return;
	}
	nvmf_resv_state_report(r, op->data, op->data_len);
}

static void
resv_op_run(struct nvmf_resv_ns *rns, struct resv_op *op)
{
	struct nvmf_resv *r = &rns->r;
	int ptpl_want;
	bool was_ptpl = r->ptpl;

	if (op->cmd.opc == NVT_NVME_OPC_RESERVATION_REPORT) {
		resv_op_report(op, r);
		resv_op_finish(rns, op);
		return;
	}
	op->before = *r;
	op->status = nvmf_resv_state_exec(r, &op->cmd, &op->notices, &ptpl_want);
	if (op->status != 0) {
		op->notices.n = 0;
		resv_op_finish(rns, op);
		return;
	}
	if (ptpl_want >= 0) {
		r->ptpl = ptpl_want == 1;
	}
	if (r->ptpl || was_ptpl) {
		/* Turning PTPL off writes it off too: a restart then loads nothing. */
		resv_save(op);
	} else {
		resv_publish(op);
	}
}

static void
resv_op_next(struct nvmf_resv_ns *rns)
{
	struct resv_op *op = TAILQ_FIRST(&rns->ops);

	if (op == NULL || rns->busy) {
		return;
	}
	rns->busy = true;
	resv_op_run(rns, op);
}

static void
resv_op_start_msg(void *ctx)
{
	struct resv_op *op = ctx;
	struct nvmf_ns *ns = NULL;

	if (op->nsid <= op->subsystem->max_nsid) {
		ns = op->subsystem->ns[op->nsid - 1];
	}
	if (ns == NULL || ns->resv == NULL) {
		op->status = st(NVT_NVME_SC_INVALID_NAMESPACE, true);
		resv_op_finish(NULL, op);
		return;
	}
	op->ns = ns;
	op->rns = ns->resv;
	memcpy(op->bdev_uuid, nvt_bdev_get_uuid(ns->bdev), sizeof(op->bdev_uuid));
	TAILQ_INSERT_TAIL(&ns->resv->ops, op, link);
	resv_op_next(ns->resv);
}

/* ---- the qpair's thread ---- */

static bool
resv_is_cmd(uint8_t opc)
{
	return opc == NVT_NVME_OPC_RESERVATION_REGISTER || opc == NVT_NVME_OPC_RESERVATION_REPORT ||
	       opc == NVT_NVME_OPC_RESERVATION_ACQUIRE || opc == NVT_NVME_OPC_RESERVATION_RELEASE;
}

/* Take the command's fields and data; 0, or the status to complete with now. */
static uint16_t
resv_op_fill(struct resv_op *op, struct nvmf_request *req)
{
	const struct nvt_nvme_cmd *cmd = &req->cmd->cmd;
	struct nvt_nvme_resv_keys keys = { 0 };
	size_t need = cmd->opc == NVT_NVME_OPC_RESERVATION_RELEASE ? 8 : 16;

	op->cmd.opc = cmd->opc;
	op->cmd.cdw10 = cmd->cdw10;
	op->cmd.cdw11 = cmd->cdw11;
	memcpy(op->cmd.hostid, req->qpair->ctrlr->hostid, 16);
	if (cmd->opc == NVT_NVME_OPC_SET_FEATURES) {
		return 0;
	}
	if (cmd->opc == NVT_NVME_OPC_RESERVATION_REPORT) {
		if (!nvt_nvme_resv_report_eds(cmd)) {
			/* Fabrics hosts have 128-bit identifiers: only the extended form holds them. */
			return st(NVT_NVME_SC_HOSTID_INCONSISTENT_FORMAT, true);
		}
		op->data_len = NVT_MIN((uint32_t)((cmd->cdw10 + 1ull) * 4), req->length);
		return req->xfer == NVMF_XFER_CTRLR_TO_HOST && op->data_len > 0
			       ? 0
			       : st(NVT_NVME_SC_DATA_SGL_LENGTH_INVALID, true);
	}
	if (req->xfer != NVMF_XFER_HOST_TO_CTRLR || req->length < need ||
	    nvmf_request_copy_from_iov(req, 0, &keys, need) != need) {
		return st(NVT_NVME_SC_DATA_SGL_LENGTH_INVALID, true);
	}
	op->cmd.crkey = keys.crkey;
	op->cmd.key2 = keys.nrkey;
	return 0;
}

static void
resv_submit(struct nvmf_request *req)
{
	struct nvmf_qpair *qpair = req->qpair;
	struct resv_op *op = calloc(1, sizeof(*op));
	uint16_t status;

	if (op == NULL) {
		req->rsp->status = st(NVT_NVME_SC_INTERNAL_ERROR, false);
		nvmf_request_complete(req);
		return;
	}
	op->req = req;
	op->qthread = nvt_get_thread();
	op->subsystem = qpair->ctrlr->subsystem;
	op->nsid = req->cmd->cmd.nsid;
	status = resv_op_fill(op, req);
	if (status == 0 && nvmf_send_msg(op->subsystem->tgt->thread, &op->msg, resv_op_start_msg,
					 op, "reservation command") != 0) {
		status = st(NVT_NVME_SC_INTERNAL_ERROR, false);
	}
	if (status != 0) {
		req->rsp->status = status;
		nvmf_request_complete(req);
		free(op);
	}
}

void
nvmf_resv_submit_ptpl(struct nvmf_request *req)
{
	resv_submit(req);
}

bool
nvmf_resv_io_filter(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	/* A fused Compare and Write changes the data: a write for conflicts. */
	uint8_t opc = req->fused_pair != NULL ? NVT_NVME_OPC_WRITE : req->cmd->cmd.opc;
	uint16_t status;

	if (resv_is_cmd(opc)) {
		resv_submit(req);
		return true;
	}
	status = nvmf_resv_check(pns->resv, req->qpair->ctrlr->hostid, opc);
	if (status == 0) {
		nvmf_resv_io_admitted(req, pns);
		return false;
	}
	req->rsp->status = status;
	nvmf_request_complete(req);
	return true;
}

/* ---- the namespace's life ---- */

int
nvmf_resv_ns_init(struct nvmf_ns *ns, const char *ptpl_file)
{
	struct nvmf_resv_ns *rns = calloc(1, sizeof(*rns));
	int rc;

	if (rns == NULL) {
		return -ENOMEM;
	}
	nvmf_resv_state_init(&rns->r);
	TAILQ_INIT(&rns->ops);
	if (ptpl_file != NULL && ptpl_file[0] != '\0') {
		rns->r.ptpl_file = strdup(ptpl_file);
		rc = rns->r.ptpl_file == NULL
			     ? -ENOMEM
			     : nvmf_resv_ptpl_load(&rns->r, nvt_bdev_get_uuid(ns->bdev));
		if (rc != 0) {
			free(rns->r.ptpl_file);
			free(rns);
			return rc;
		}
	}
	rns->r.snap = nvmf_resv_state_snap(&rns->r);
	if (rns->r.snap == NULL) {
		free(rns->r.ptpl_file);
		free(rns);
		return -ENOMEM;
	}
	ns->resv = rns;
	return 0;
}

/* Fail the commands still waiting, then free (or leave to the running one). */
static void
resv_ns_free(struct nvmf_resv_ns *rns)
{
	struct resv_op *op = TAILQ_FIRST(&rns->ops), *next;

	while (op != NULL) {
		next = TAILQ_NEXT(op, link);
		if (op->state == RESV_OP_QUEUED) {
			TAILQ_REMOVE(&rns->ops, op, link);
			op->status = st(NVT_NVME_SC_INVALID_NAMESPACE, true);
			resv_op_finish(NULL, op);
		}
		op = next;
	}
	if (rns->busy) {
		rns->orphan = true;
		return;
	}
	free(rns->r.snap);
	free(rns->r.ptpl_file);
	free(rns);
}

void
nvmf_resv_ns_fini(struct nvmf_ns *ns)
{
	if (ns->resv != NULL) {
		resv_ns_free(ns->resv);
		ns->resv = NULL;
	}
}

const struct nvmf_resv_snap *
nvmf_resv_ns_snap(const struct nvmf_ns *ns)
{
	return ns->resv != NULL ? ns->resv->r.snap : NULL;
}

const char *
nvmf_resv_ns_ptpl_file(const struct nvmf_ns *ns)
{
	return ns->resv != NULL ? ns->resv->r.ptpl_file : NULL;
}

uint8_t
nvmf_resv_rescap(const struct nvmf_ns *ns)
{
	uint8_t cap = NVT_NVME_RESCAP_WE | NVT_NVME_RESCAP_EA | NVT_NVME_RESCAP_WE_REG_ONLY |
		      NVT_NVME_RESCAP_EA_REG_ONLY | NVT_NVME_RESCAP_WE_ALL_REGS |
		      NVT_NVME_RESCAP_EA_ALL_REGS | NVT_NVME_RESCAP_IEKEY;

	return nvmf_resv_ns_ptpl_file(ns) != NULL ? cap | NVT_NVME_RESCAP_PTPL : cap;
}
