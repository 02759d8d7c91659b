/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests: preallocated per qpair (queue depth), recycled through a free
 * list, driven by one state machine. Data buffers come from the poll
 * group's iobuf cache; waiting for them is never an error to the host.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/thread.h"

#include "tcp_internal.h"

#define BIT(s) (1u << (s))

/* Failure paths may end a request early: every pre-execution state may go to EXECUTED. */
#define TCP_REQ_EARLY_FAIL BIT(TCP_REQ_STATE_EXECUTED)

static const uint32_t g_req_transitions[TCP_REQ_NUM_STATES] = {
	[TCP_REQ_STATE_FREE] = BIT(TCP_REQ_STATE_NEW),
	[TCP_REQ_STATE_NEW] = BIT(TCP_REQ_STATE_NEED_BUFFER) | BIT(TCP_REQ_STATE_READY_TO_EXECUTE) |
			      TCP_REQ_EARLY_FAIL | BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_NEED_BUFFER] = BIT(TCP_REQ_STATE_AWAIT_ICD) |
				      BIT(TCP_REQ_STATE_TRANSFERRING_H2C) |
				      BIT(TCP_REQ_STATE_READY_TO_EXECUTE) | TCP_REQ_EARLY_FAIL |
				      BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_AWAIT_ICD] = BIT(TCP_REQ_STATE_READY_TO_EXECUTE) | TCP_REQ_EARLY_FAIL |
				    BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_TRANSFERRING_H2C] = BIT(TCP_REQ_STATE_READY_TO_EXECUTE) |
					   TCP_REQ_EARLY_FAIL | BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_READY_TO_EXECUTE] =
		BIT(TCP_REQ_STATE_EXECUTING) | TCP_REQ_EARLY_FAIL | BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_EXECUTING] = BIT(TCP_REQ_STATE_EXECUTED),
	[TCP_REQ_STATE_EXECUTED] =
		BIT(TCP_REQ_STATE_TRANSFERRING_C2H) | BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_TRANSFERRING_C2H] = BIT(TCP_REQ_STATE_COMPLETED),
	[TCP_REQ_STATE_COMPLETED] = BIT(TCP_REQ_STATE_FREE),
};

bool
tcp_req_transition_valid(enum tcp_req_state from, enum tcp_req_state to)
{
	if (from >= TCP_REQ_NUM_STATES || to >= TCP_REQ_NUM_STATES) {
		return false;
	}
	return (g_req_transitions[from] & BIT(to)) != 0;
}

void
tcp_req_set_state(struct tcp_req *req, enum tcp_req_state next)
{
	struct tcp_qpair *qpair = req->qpair;

	enum tcp_req_state prev = req->state;

	assert(tcp_req_transition_valid(prev, next));
	qpair->state_cnt[prev]--;
	qpair->state_cnt[next]++;
	req->state = next;
	/* A request in use holds its qpair: the last one of a finished qpair frees it. */
	if (prev == TCP_REQ_STATE_FREE) {
		tcp_qpair_get(qpair);
	} else if (next == TCP_REQ_STATE_FREE) {
		tcp_qpair_put(qpair);
	}
}

/* Allocate the next chunk of requests onto the free list: 0, -ENOSPC (at depth) or -ENOMEM. */
static int
reqs_grow(struct tcp_qpair *qpair)
{
	uint16_t n = qpair->depth - qpair->req_count;
	struct tcp_req *chunk, *req;
	uint16_t i;

	n = n < TCP_REQ_CHUNK ? n : TCP_REQ_CHUNK;
	if (n == 0) {
		return -ENOSPC;
	}
	chunk = calloc(n, sizeof(*chunk));
	if (chunk == NULL) {
		return -ENOMEM;
	}
	qpair->req_chunks[qpair->req_count / TCP_REQ_CHUNK] = chunk;
	for (i = 0; i < n; i++) {
		req = &chunk[i];
		req->qpair = qpair;
		req->ttag = (uint16_t)(qpair->req_count + i + 1);
		req->base.qpair = &qpair->base;
		req->base.cmd = &req->cmd;
		req->base.rsp = &req->cpl;
		req->state = TCP_REQ_STATE_FREE;
		STAILQ_INSERT_TAIL(&qpair->free_reqs, req, link);
	}
	qpair->req_count += n;
	qpair->state_cnt[TCP_REQ_STATE_FREE] += n;
	return 0;
}

int
tcp_qpair_reqs_alloc(struct tcp_qpair *qpair)
{
	uint32_t chunks = (qpair->depth + TCP_REQ_CHUNK - 1u) / TCP_REQ_CHUNK;

	qpair->req_chunks = calloc(chunks, sizeof(*qpair->req_chunks));
	if (qpair->req_chunks == NULL) {
		return -ENOMEM;
	}
	qpair->req_count = 0;
	STAILQ_INIT(&qpair->free_reqs);
	memset(qpair->state_cnt, 0, sizeof(qpair->state_cnt));
	if (reqs_grow(qpair) != 0) {
		tcp_qpair_reqs_free(qpair);
		return -ENOMEM;
	}
	return 0;
}

void
tcp_qpair_reqs_free(struct tcp_qpair *qpair)
{
	uint32_t i;

	if (qpair->req_chunks == NULL) {
		return;
	}
	for (i = 0; i * TCP_REQ_CHUNK < qpair->req_count; i++) {
		free(qpair->req_chunks[i]);
	}
	free(qpair->req_chunks);
	qpair->req_chunks = NULL;
	qpair->req_count = 0;
}

/* The request of transfer tag \p ttag (index + 1), or NULL if there is none. */
struct tcp_req *
tcp_qpair_req(struct tcp_qpair *qpair, uint16_t ttag)
{
	uint16_t i = (uint16_t)(ttag - 1u);

	if (ttag == 0 || ttag > qpair->req_count) {
		return NULL;
	}
	return &qpair->req_chunks[i / TCP_REQ_CHUNK][i % TCP_REQ_CHUNK];
}

/*
 * A free request, or NULL when all depth are in use (the host went past
 * the queue's size, or reused a command's slot before its send finished).
 */
struct tcp_req *
tcp_req_get(struct tcp_qpair *qpair)
{
	struct tcp_req *req = STAILQ_FIRST(&qpair->free_reqs);

	if (req == NULL && qpair->req_count < qpair->depth) {
		if (reqs_grow(qpair) != 0) {
			/* The host waits; a freed request or a later grow resumes it. */
			NVT_ERRLOG("qpair %u: no memory for more requests (%u in use)\n", qpair->id,
				   qpair->req_count);
			return NULL;
		}
		req = STAILQ_FIRST(&qpair->free_reqs);
	}
	if (req == NULL) {
		return NULL;
	}
	STAILQ_REMOVE_HEAD(&qpair->free_reqs, link);
	req->has_icd = false;
	req->ddgst_error = false;
	req->in_core = false;
	req->tx_next = TCP_TX_NEXT_NONE;
	req->bufs_held = false;
	req->bufs_waiting = false;
	req->h2c_offset = 0;
	req->nbufs = 0;
	req->ctx = NULL;
	req->spill = NULL;
	req->base.iov = NULL;
	req->base.iovcnt = 0;
	req->base.length = 0;
	req->base.xfer = NVMF_XFER_NONE;
	memset(&req->cpl, 0, sizeof(req->cpl));
	tcp_req_set_state(req, TCP_REQ_STATE_NEW);
	return req;
}

static int
sgl_status(struct nvt_nvme_status *st, uint8_t sc)
{
	st->sct = NVT_NVME_SCT_GENERIC;
	st->sc = sc;
	st->dnr = true;
	return 1;
}

/*
 * Check the command's SGL against the capsule: a transport data block
 * (data moved by R2T/H2C or C2H PDUs) or, for writes, a data block with an
 * offset into the in-capsule data. Sets length, xfer, has_icd and nbufs.
 * Returns 0, or 1 with \p st the NVMe status to complete the command with.
 */
int
tcp_req_parse_sgl(struct tcp_req *req, uint32_t icd_len, uint32_t max_io_size,
		  struct nvt_nvme_status *st)
{
	const union nvt_nvme_sgl_desc *sgl = &req->cmd.cmd.dptr.sgl1;
	uint8_t type = nvt_nvme_sgl_get_type(sgl);
	uint8_t subtype = nvt_nvme_sgl_get_subtype(sgl);
	uint32_t len = sgl->unkeyed.length;
	uint32_t unit = tcp_qpair_opts(req->qpair)->io_unit_size;

	req->base.xfer = nvmf_cmd_get_xfer(&req->cmd);
	if (req->base.xfer == NVMF_XFER_NONE || len == 0) {
		req->base.xfer = NVMF_XFER_NONE;
		return 0;
	}
	if (type == NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK &&
	    subtype == NVT_NVME_SGL_SUBTYPE_TRANSPORT) {
		if (len > max_io_size || icd_len != 0) {
			return sgl_status(st, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID);
		}
	} else if (type == NVT_NVME_SGL_TYPE_DATA_BLOCK && subtype == NVT_NVME_SGL_SUBTYPE_OFFSET) {
		if (req->base.xfer != NVMF_XFER_HOST_TO_CTRLR) {
			return sgl_status(st, NVT_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);
		}
		if (sgl->unkeyed.addr != 0) {
			return sgl_status(st, NVT_NVME_SC_INVALID_SGL_OFFSET);
		}
		if (len != icd_len) {
			return sgl_status(st, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID);
		}
		req->has_icd = true;
	} else {
		return sgl_status(st, NVT_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);
	}
	req->base.length = len;
	req->nbufs = (len + unit - 1) / unit;
	if (req->nbufs > req->qpair->transport->max_bufs) {
		return sgl_status(st, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID);
	}
	return 0;
}

static struct tcp_data_ctx *
data_ctx_alloc(uint32_t nbufs)
{
	size_t size = sizeof(struct tcp_data_ctx) + nbufs * sizeof(void *) +
		      (2 * nbufs + TCP_REQ_TX_EXTRA_IOVS) * sizeof(struct iovec);
	struct tcp_data_ctx *ctx = calloc(1, size);

	if (ctx == NULL) {
		return NULL;
	}
	/* iovecs first: they need the stricter alignment. */
	ctx->iov = (struct iovec *)(ctx + 1);
	ctx->tx_iov = ctx->iov + nbufs;
	ctx->bufs = (void **)(ctx->tx_iov + nbufs + TCP_REQ_TX_EXTRA_IOVS);
	return ctx;
}

static struct tcp_data_ctx *
data_ctx_get(struct tcp_poll_group *group)
{
	struct tcp_data_ctx *ctx = STAILQ_FIRST(&group->free_ctxs);

	if (ctx != NULL) {
		STAILQ_REMOVE_HEAD(&group->free_ctxs, link);
		return ctx;
	}
	/* Grows to the group's peak of data-carrying requests, then recycles. */
	ctx = data_ctx_alloc(group->transport->max_bufs);
	if (ctx != NULL) {
		group->num_ctxs++;
	}
	return ctx;
}

static void
data_ctx_put(struct tcp_poll_group *group, struct tcp_data_ctx *ctx)
{
	STAILQ_INSERT_HEAD(&group->free_ctxs, ctx, link);
}

/* The data iovec of the core's request from the buffers now held. */
void
tcp_req_bufs_held(struct tcp_req *req)
{
	uint32_t unit = tcp_qpair_opts(req->qpair)->io_unit_size;
	uint32_t left = req->base.length;
	uint32_t i;

	for (i = 0; i < req->nbufs; i++) {
		req->base.iov[i].iov_base = req->ctx->bufs[i];
		req->base.iov[i].iov_len = left < unit ? left : unit;
		left -= (uint32_t)req->base.iov[i].iov_len;
	}
	req->base.iovcnt = req->nbufs;
	req->bufs_held = true;
	req->bufs_waiting = false;
	if (req->base.xfer == NVMF_XFER_CTRLR_TO_HOST) {
		req->qpair->rd_held += req->base.length;
	}
}

/*
 * Ask the poll group's cache for the request's buffers. Returns 1 (held
 * now), 0 (\p cb runs once they are), or -errno.
 */
int
tcp_req_get_bufs(struct tcp_req *req, nvt_iobuf_get_cb cb)
{
	struct tcp_poll_group *group = req->qpair->group;
	int rc;

	if (req->ctx == NULL) {
		req->ctx = data_ctx_get(group);
		if (req->ctx == NULL) {
			return -ENOMEM;
		}
		req->base.iov = req->ctx->iov;
	}
	rc = nvt_iobuf_get(group->base.buf_cache, req->nbufs, req->ctx->bufs, &req->iobuf_entry,
			   cb);
	if (rc < 0) {
		return rc;
	}
	if (rc == 0) {
		req->bufs_waiting = true;
		return 0;
	}
	tcp_req_bufs_held(req);
	return 1;
}

/* Called by iobuf once a waiting get is served (buffers for R2T or C2H). */
static void
req_bufs_ready(struct nvt_iobuf_entry *entry, void **bufs)
{
	struct tcp_req *req = TCP_CONTAINER_OF(entry, struct tcp_req, iobuf_entry);

	(void)bufs;
	tcp_req_bufs_held(req);
	tcp_req_process(req);
}

/* Map [offset, offset + len) of the request's data onto its buffers. */
void
tcp_req_data_iov(struct tcp_req *req, uint32_t offset, uint32_t len, struct iovec *iov, int *iovcnt,
		 int max)
{
	uint32_t i, n;
	int cnt = 0;

	for (i = 0; i < req->base.iovcnt && len > 0 && cnt < max; i++) {
		if (offset >= req->base.iov[i].iov_len) {
			offset -= (uint32_t)req->base.iov[i].iov_len;
			continue;
		}
		n = (uint32_t)req->base.iov[i].iov_len - offset;
		n = n < len ? n : len;
		iov[cnt].iov_base = (uint8_t *)req->base.iov[i].iov_base + offset;
		iov[cnt].iov_len = n;
		cnt++;
		len -= n;
		offset = 0;
	}
	*iovcnt = cnt;
}

/*
 * In-capsule data found the pool dry: withdraw the wait and take a spill
 * buffer instead, so the stream behind the capsule (H2C data for requests
 * holding pool buffers) is read on. False when the group is at its limit of
 * spill buffers (or out of memory): the request keeps waiting.
 */
bool
tcp_req_spill_icd(struct tcp_req *req)
{
	struct tcp_poll_group *group = req->qpair->group;
	struct tcp_spill *spill = STAILQ_FIRST(&group->free_spills);

	if (spill != NULL) {
		STAILQ_REMOVE_HEAD(&group->free_spills, link);
	} else if (group->num_spills < group->max_spills) {
		spill = malloc(sizeof(*spill) + group->transport->icd_max);
		if (spill == NULL) {
			return false;
		}
		group->num_spills++;
	} else {
		return false;
	}
	/* Buffers set aside for it go to the next waiter (callbacks may run here). */
	nvt_iobuf_entry_abort(group->base.buf_cache, &req->iobuf_entry);
	req->bufs_waiting = false;
	req->spill = spill;
	spill->iov.iov_base = spill->data;
	spill->iov.iov_len = req->base.length;
	req->base.iov = &spill->iov;
	req->base.iovcnt = 1;
	group->stats.icd_spills++;
	return true;
}

void
tcp_group_free_spills(struct tcp_poll_group *group)
{
	struct tcp_spill *spill;

	while ((spill = STAILQ_FIRST(&group->free_spills)) != NULL) {
		STAILQ_REMOVE_HEAD(&group->free_spills, link);
		free(spill);
	}
}

static void
req_release(struct tcp_req *req)
{
	struct tcp_poll_group *group = req->qpair->group;

	if (req->spill != NULL) {
		STAILQ_INSERT_HEAD(&group->free_spills, req->spill, link);
		req->spill = NULL;
	}

	if (req->bufs_held) {
		nvt_iobuf_put(group->base.buf_cache, req->ctx->bufs, req->nbufs);
		req->bufs_held = false;
		if (req->base.xfer == NVMF_XFER_CTRLR_TO_HOST) {
			tcp_qpair_rd_released(req->qpair, req->base.length);
		}
	} else if (req->bufs_waiting) {
		nvt_iobuf_entry_abort(group->base.buf_cache, &req->iobuf_entry);
		req->bufs_waiting = false;
	}
	if (req->ctx != NULL) {
		data_ctx_put(group, req->ctx);
		req->ctx = NULL;
	}
	req->base.iov = NULL;
	req->base.iovcnt = 0;
}

static void
req_complete_free(struct tcp_req *req)
{
	struct tcp_qpair *qpair = req->qpair;

	STAILQ_INSERT_TAIL(&qpair->free_reqs, req, link);
	if (qpair->recv_state == TCP_PDU_RECV_STATE_AWAIT_REQ) {
		tcp_qpair_kick_rx(qpair);
	}
	/* Last: it may free the qpair. */
	tcp_req_set_state(req, TCP_REQ_STATE_FREE);
}

/* Complete a request the transport rejects, with an NVMe status (never executed). */
void
tcp_req_fail(struct tcp_req *req, uint8_t sct, uint8_t sc)
{
	req_release(req);
	req->cpl.status = nvt_nvme_status_make(sct, sc,
					       sct != NVT_NVME_SCT_GENERIC ||
						       sc != NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	tcp_req_set_state(req, TCP_REQ_STATE_EXECUTED);
	/* Fills cid, sqid and sqhd, then comes back through req_complete. */
	nvmf_request_complete(&req->base);
}

/* All the command's data arrived, in the capsule or in H2C data PDUs. */
void
tcp_req_data_done(struct tcp_req *req)
{
	if (req->ddgst_error) {
		tcp_req_fail(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
		return;
	}
	tcp_req_set_state(req, TCP_REQ_STATE_READY_TO_EXECUTE);
	tcp_req_process(req);
}

void
tcp_req_tx_done(struct tcp_req *req, int err)
{
	(void)err;
	if (req->state == TCP_REQ_STATE_TRANSFERRING_C2H) {
		tcp_req_set_state(req, TCP_REQ_STATE_COMPLETED);
		tcp_req_process(req);
	} else if (req->state == TCP_REQ_STATE_COMPLETED) {
		/* Aborted while its send was queued: free now. */
		tcp_req_process(req);
	}
}

/*
 * NEED_BUFFER: 1 to go on, 0 to wait. In-capsule data that finds the pool
 * dry goes to a spill buffer instead of waiting, when it can: it sits in
 * the stream before data that requests holding buffers wait for.
 */
static int
req_need_buffer(struct tcp_req *req)
{
	int rc;

	if (req->bufs_waiting) {
		return 0;
	}
	/* Served by the iobuf callback, which drives the request on from here. */
	rc = req->bufs_held ? 1 : tcp_req_get_bufs(req, req_bufs_ready);
	if (rc == 0 && req->has_icd && tcp_req_spill_icd(req)) {
		rc = 1;
	}
	if (rc == 0) {
		return 0;
	}
	if (rc < 0) {
		tcp_req_fail(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR);
		return 0;
	}
	if (req->qpair->state != TCP_QPAIR_STATE_RUNNING) {
		/*
		 * The buffers came after a fatal error: nothing may follow the
		 * C2HTermReq, so no R2T. The request ends with the connection.
		 */
		req_release(req);
		tcp_req_set_state(req, TCP_REQ_STATE_COMPLETED);
		return 1;
	}
	if (req->has_icd) {
		tcp_req_set_state(req, TCP_REQ_STATE_AWAIT_ICD);
		tcp_qpair_icd_ready(req->qpair, req);
	} else if (req->base.xfer == NVMF_XFER_HOST_TO_CTRLR) {
		tcp_req_set_state(req, TCP_REQ_STATE_TRANSFERRING_H2C);
		tcp_send_r2t(req);
		/* The host owes the data from now on (pdu_timeout_ms). */
		tcp_watch_rx(req->qpair);
	} else {
		tcp_req_set_state(req, TCP_REQ_STATE_READY_TO_EXECUTE);
	}
	return 1;
}

static void
req_execute(struct tcp_req *req)
{
	tcp_req_set_state(req, TCP_REQ_STATE_EXECUTING);
	req->in_core = true;
	nvmf_request_exec(&req->base);
}

static void
req_executed(struct tcp_req *req)
{
	if (req->qpair->state != TCP_QPAIR_STATE_RUNNING || req->qpair->sock == NULL) {
		/* Connection going away: the response is dropped. */
		tcp_req_set_state(req, TCP_REQ_STATE_COMPLETED);
		return;
	}
	tcp_req_set_state(req, TCP_REQ_STATE_TRANSFERRING_C2H);
	tcp_send_c2h(req);
}

/*
 * Drive a request as far as it goes now. Every step may re-enter (the core
 * may complete inside nvmf_request_exec()), so each case only acts on the
 * current state and the loop stops when the state no longer changes.
 */
void
tcp_req_process(struct tcp_req *req)
{
	enum tcp_req_state prev;

	do {
		prev = req->state;
		switch (req->state) {
		case TCP_REQ_STATE_NEW:
			tcp_req_set_state(req, req->base.length ? TCP_REQ_STATE_NEED_BUFFER
								: TCP_REQ_STATE_READY_TO_EXECUTE);
			break;
		case TCP_REQ_STATE_NEED_BUFFER:
			(void)req_need_buffer(req);
			break;
		case TCP_REQ_STATE_READY_TO_EXECUTE:
			req_execute(req);
			break;
		case TCP_REQ_STATE_EXECUTED:
			req_executed(req);
			break;
		case TCP_REQ_STATE_COMPLETED:
			req_release(req);
			/*
			 * Aborted with an R2T still owned by the socket: it stays
			 * (holding its qpair) until that send completes.
			 */
			if (req->tx.state == TCP_PDU_SEND_STATE_QUEUED) {
				return;
			}
			req_complete_free(req);
			return;
		case TCP_REQ_STATE_FREE:
		case TCP_REQ_STATE_AWAIT_ICD:
		case TCP_REQ_STATE_TRANSFERRING_H2C:
		case TCP_REQ_STATE_EXECUTING:
		case TCP_REQ_STATE_TRANSFERRING_C2H:
			/* Waiting for data, the core, or the socket. */
			break;
		default:
			assert(false);
			return;
		}
	} while (req->state != prev);
}

/* Connection closing: finish every request the core does not hold. */
void
tcp_qpair_abort_reqs(struct tcp_qpair *qpair)
{
	struct tcp_req *req;
	uint16_t i;

	for (i = 1; i <= qpair->req_count; i++) {
		req = tcp_qpair_req(qpair, i);
		switch (req->state) {
		case TCP_REQ_STATE_NEW:
		case TCP_REQ_STATE_NEED_BUFFER:
		case TCP_REQ_STATE_AWAIT_ICD:
		case TCP_REQ_STATE_TRANSFERRING_H2C:
		case TCP_REQ_STATE_READY_TO_EXECUTE:
			req_release(req);
			tcp_req_set_state(req, TCP_REQ_STATE_COMPLETED);
			tcp_req_process(req);
			break;
		default:
			/* EXECUTING: the core completes it; TRANSFERRING_C2H: the socket does. */
			break;
		}
	}
}
