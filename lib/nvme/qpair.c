/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One NVMe/TCP queue pair: a TCP connection, its preallocated requests, the
 * send path (capsules, H2C Data) and the receive machine (responses, C2H
 * Data, R2T, TermReq; an ICResp goes to the set-up in connect.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/crc32c.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvme_internal.h"

NVT_LOG_REGISTER_COMPONENT(nvme)

/* Socket reads per readable callback, so one queue cannot starve the others. */
#define RX_BUDGET 8

static void req_send(struct nvme_req *req, uint32_t hdr_len, uint32_t nseg, uint32_t datal);

void
nvme_qpair_set_state(struct nvt_nvme_qpair *qpair, enum nvme_qpair_state state)
{
	NVT_DEBUGLOG(nvme, "qpair %u: state %d -> %d\n", qpair->qid, qpair->state, state);
	qpair->state = state;
}

static void
rx_set_state(struct nvt_nvme_qpair *qpair, enum nvme_rx_state state)
{
	qpair->rx_state = state;
}

static void
req_set_state(struct nvme_req *req, enum nvme_req_state state)
{
	req->state = state;
}

static struct nvme_req *
req_get(struct nvt_nvme_qpair *qpair)
{
	struct nvme_req *req = TAILQ_FIRST(&qpair->free_reqs);

	if (req == NULL) {
		return NULL;
	}
	TAILQ_REMOVE(&qpair->free_reqs, req, link);
	return req;
}

bool
nvme_qpair_has_free_req(const struct nvt_nvme_qpair *qpair)
{
	return !TAILQ_EMPTY(&qpair->free_reqs);
}

/*
 * Return the request, then hand the completion to its I/O or run its
 * callback; either may submit again. The freed request goes to the oldest
 * I/O waiting for one before any callback runs.
 */
static void
req_finish(struct nvme_req *req)
{
	struct nvt_nvme_qpair *qpair = req->qpair;
	nvt_nvme_cmd_cb cb_fn = req->cb_fn;
	void *cb_arg = req->cb_arg;
	struct nvme_io *io = req->io;
	struct nvt_nvme_cpl cpl = req->cpl;

	req_set_state(req, NVME_REQ_STATE_FREE);
	TAILQ_INSERT_HEAD(&qpair->free_reqs, req, link);
	qpair->stats.completed++;
	if (nvt_nvme_cpl_is_error(&cpl)) {
		qpair->stats.errors++;
	}
	if (io != NULL) {
		nvme_io_child_finish(io, &cpl);
		return;
	}
	qpair->outstanding--;
	nvme_qpair_kick_ios(qpair);
	qpair->cpl_data_len = req->h2c ? 0 : req->data_done;
	if (cb_fn != NULL) {
		cb_fn(cb_arg, &cpl);
	}
}

/* The response is known; complete now, or once our own writes are done. */
static void
req_complete(struct nvme_req *req, const struct nvt_nvme_cpl *cpl)
{
	req->cpl = *cpl;
	if (req->sends > 0) {
		req_set_state(req, NVME_REQ_STATE_DONE_WAIT_SEND);
		return;
	}
	req_finish(req);
}

static void
req_complete_status(struct nvme_req *req, uint16_t status)
{
	struct nvt_nvme_cpl cpl = {
		.cid = req->cid,
		.sqid = req->qpair->qid,
		.status = status,
	};

	req_complete(req, &cpl);
}

/* Fail every command sent, then every I/O still waiting to send some. */
static void
qpair_fail_reqs(struct nvt_nvme_qpair *qpair, uint16_t status)
{
	uint32_t i;

	for (i = 0; i < qpair->num_reqs; i++) {
		struct nvme_req *req = &qpair->reqs[i];

		if (req->state == NVME_REQ_STATE_SUBMITTED || req->state == NVME_REQ_STATE_H2C) {
			req_complete_status(req, status);
		}
	}
	nvme_qpair_fail_ios(qpair, status);
}

void
nvme_qpair_fail(struct nvt_nvme_qpair *qpair, int rc)
{
	if (qpair->state == NVME_QPAIR_STATE_FAILED) {
		return;
	}
	if (!qpair->closing) {
		NVT_ERRLOG("qpair %u: fatal error: %s\n", qpair->qid, nvt_strerror(rc));
		nvme_ctrlr_mark_failed(qpair->ctrlr);
	}
	qpair->fatal_rc = rc;
	nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_FAILED);
	rx_set_state(qpair, NVME_RX_STATE_ERROR);
	/*
	 * Close at once: a dead socket stays readable, and closing completes our
	 * queued writes (-ECANCELED), so no request waits for them forever.
	 */
	if (qpair->sock != NULL) {
		nvt_sock_close(&qpair->sock);
		qpair->group->num_qpairs--;
	}
	qpair_fail_reqs(qpair, NVT_NVME_STATUS_HOST_PATH_ERROR);
	nvme_qpair_setup_done(qpair, rc, 0);
}

/* ---- send path ---- */

/* Place data [off, off + len) of the request after the header; returns the bytes placed. */
static uint32_t
req_place_data(struct nvme_req *req, uint32_t off, uint32_t len, uint32_t *nseg)
{
	uint32_t bytes;

	*nseg = nvme_payload_slice(&req->payload, off, len, req->iov + 1, NVME_PDU_MAX_DATA_IOVS,
				   &bytes);
	return bytes;
}

/* One H2C Data PDU: up to MAXH2CDATA bytes, fewer when the data has many segments. */
static void
h2c_send_next(struct nvme_req *req)
{
	struct nvt_nvme_qpair *qpair = req->qpair;
	uint32_t datal = req->r2t_end - req->r2t_off;
	uint32_t hlen, nseg;
	bool last;

	if (datal > qpair->maxh2cdata) {
		datal = qpair->maxh2cdata;
	}
	datal = req_place_data(req, req->r2t_off, datal, &nseg);
	if (nvt_unlikely(datal == 0)) {
		/* Cannot happen: submission checked the data covers len. */
		nvme_qpair_fail(qpair, -EFAULT);
		return;
	}
	last = req->r2t_off + datal == req->r2t_end;
	hlen = nvme_pdu_build_h2c(&req->tx.hdr, req->cid, req->ttag, req->r2t_off, datal, last,
				  qpair->hdgst, qpair->ddgst, qpair->cpda);
	qpair->stats.h2c_pdus++;
	req_send(req, hlen, nseg, datal);
	req->r2t_off += datal;
}

static void
req_send_done(void *arg, int err)
{
	struct nvme_req *req = arg;
	struct nvt_nvme_qpair *qpair = req->qpair;

	req->sends--;
	/* A completion callback may disconnect the queue: free it only below. */
	qpair->busy++;
	if (err != 0 && qpair->state != NVME_QPAIR_STATE_FAILED) {
		nvme_qpair_fail(qpair, err);
	}
	if (req->sends == 0 && req->state == NVME_REQ_STATE_DONE_WAIT_SEND) {
		req_finish(req);
	} else if (req->sends == 0 && req->state == NVME_REQ_STATE_H2C &&
		   req->r2t_off < req->r2t_end && qpair->state != NVME_QPAIR_STATE_FAILED) {
		h2c_send_next(req);
	}
	qpair->busy--;
	if (qpair->closing) {
		nvme_qpair_try_free(qpair);
	}
}

/*
 * Queue header + data + data digest of one PDU; the group poll sends it. The
 * data, \p nseg segments of \p datal bytes, is already in iov[1..nseg].
 */
static void
req_send(struct nvme_req *req, uint32_t hdr_len, uint32_t nseg, uint32_t datal)
{
	struct nvt_nvme_qpair *qpair = req->qpair;
	int iovcnt = 1;

	req->iov[0].iov_base = req->tx.raw;
	req->iov[0].iov_len = hdr_len;
	if (datal > 0) {
		iovcnt += (int)nseg;
		if (qpair->ddgst) {
			req->ddgst =
				nvt_crc32c_update_iov(req->iov + 1, (int)nseg, NVT_CRC32C_INIT) ^
				NVT_CRC32C_XOR;
			req->iov[iovcnt].iov_base = &req->ddgst;
			req->iov[iovcnt++].iov_len = sizeof(req->ddgst);
		}
	}
	req->sreq.cb_fn = req_send_done;
	req->sreq.cb_arg = req;
	req->sreq.iov = req->iov;
	req->sreq.iovcnt = iovcnt;
	req->sends++;
	qpair->stats.pdus_tx++;
	nvt_sock_writev_async(qpair->sock, &req->sreq);
}

/*
 * Whether a write goes in the capsule; if so its data is placed after the
 * header. Data in more segments than a PDU takes goes on R2T instead.
 */
static bool
req_data_in_capsule(struct nvme_req *req, const struct nvt_nvme_cmd *cmd, uint32_t *nseg)
{
	const struct nvt_nvme_qpair *qpair = req->qpair;

	*nseg = 0;
	if (!req->h2c || req->len == 0) {
		return false;
	}
	/* Fabrics Connect data always travels in the capsule. */
	if (cmd->opc != NVT_NVME_OPC_FABRICS && req->len > qpair->icd_size) {
		return false;
	}
	return req_place_data(req, 0, req->len, nseg) == req->len;
}

static bool
qpair_accepts_cmds(const struct nvt_nvme_qpair *qpair)
{
	return qpair->state == NVME_QPAIR_STATE_READY ||
	       qpair->state == NVME_QPAIR_STATE_FABRIC_CONNECT ||
	       qpair->state == NVME_QPAIR_STATE_AUTHENTICATING;
}

/* Build the capsule of a request whose data and callback are set, and queue it. */
static void
req_submit(struct nvme_req *req, const struct nvt_nvme_cmd *cmd)
{
	struct nvt_nvme_qpair *qpair = req->qpair;
	struct nvt_nvme_cmd c = *cmd;
	uint32_t hlen, nseg, len = req->len;
	bool icd = req_data_in_capsule(req, cmd, &nseg);

	req->data_done = 0;
	req->r2t_off = req->r2t_end = 0;
	c.cid = req->cid;
	c.flags = (uint8_t)(NVT_NVME_PSDT_SGL_MPTR_CONTIG << NVT_NVME_CMD_PSDT_SHIFT);
	if (icd) {
		nvt_nvme_sgl_set_unkeyed(&c.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
		qpair->stats.icd_writes++;
	} else {
		nvt_nvme_sgl_set_unkeyed(&c.dptr.sgl1, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, len);
	}
	req_set_state(req, NVME_REQ_STATE_SUBMITTED);
	hlen = nvme_pdu_build_capsule(&req->tx.hdr, &c, icd ? len : 0, qpair->hdgst, qpair->ddgst,
				      qpair->cpda);
	qpair->stats.submitted++;
	req_send(req, hlen, nseg, icd ? len : 0);
}

int
nvme_qpair_submit(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd, void *buf,
		  uint32_t len, bool h2c, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	struct nvme_req *req;

	if (nvt_unlikely(!qpair_accepts_cmds(qpair))) {
		return -ENXIO;
	}
	if (nvt_unlikely(qpair->outstanding >= qpair->depth)) {
		return -EAGAIN;
	}
	req = req_get(qpair);
	if (nvt_unlikely(req == NULL)) {
		return -EAGAIN;
	}
	qpair->outstanding++;
	req->one.iov_base = buf;
	req->one.iov_len = len;
	req->payload = (struct nvme_payload){ .iov = &req->one, .iovcnt = 1 };
	req->len = len;
	req->h2c = h2c;
	req->io = NULL;
	req->cb_fn = cb_fn;
	req->cb_arg = cb_arg;
	req_submit(req, cmd);
	return 0;
}

int
nvme_qpair_submit_child(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd,
			const struct nvme_payload *payload, uint32_t len, struct nvme_io *io)
{
	struct nvme_req *req;

	if (nvt_unlikely(qpair->state != NVME_QPAIR_STATE_READY)) {
		return -ENXIO;
	}
	req = req_get(qpair);
	if (req == NULL) {
		return -EAGAIN;
	}
	req->payload = *payload;
	req->len = len;
	req->h2c = io->h2c;
	req->io = io;
	req->cb_fn = NULL;
	req->cb_arg = NULL;
	req_submit(req, cmd);
	return 0;
}

/* ---- receive path ---- */

static struct nvme_req *
rx_find_req(struct nvt_nvme_qpair *qpair, uint16_t cid)
{
	struct nvme_req *req;

	if (cid >= qpair->num_reqs) {
		return NULL;
	}
	req = &qpair->reqs[cid];
	if (req->state != NVME_REQ_STATE_SUBMITTED && req->state != NVME_REQ_STATE_H2C) {
		return NULL;
	}
	return req;
}

static int
rx_capsule_resp(struct nvt_nvme_qpair *qpair)
{
	const struct nvt_nvme_cpl *cpl = &qpair->rx_hdr.capsule_resp.cqe;
	struct nvme_req *req = rx_find_req(qpair, cpl->cid);

	if (req == NULL) {
		NVT_ERRLOG("qpair %u: response for unknown cid %u\n", qpair->qid, cpl->cid);
		return -EPROTO;
	}
	req_complete(req, cpl);
	return 1;
}

static int
rx_c2h_data(struct nvt_nvme_qpair *qpair)
{
	const struct nvt_nvme_tcp_c2h_data *c2h = &qpair->rx_hdr.c2h_data;
	struct nvme_req *req = rx_find_req(qpair, c2h->cccid);

	if (req == NULL || req->h2c || c2h->datao != req->data_done ||
	    (uint64_t)c2h->datao + c2h->datal > req->len ||
	    c2h->datal != nvt_nvme_tcp_data_len(&c2h->ch)) {
		NVT_ERRLOG("qpair %u: bad C2H Data (cid %u)\n", qpair->qid, c2h->cccid);
		return -EPROTO;
	}
	qpair->rx_req = req;
	qpair->rx_data_left = c2h->datal;
	qpair->rx_ddgst_calc = NVT_CRC32C_INIT;
	rx_set_state(qpair, NVME_RX_STATE_DATA);
	return 1;
}

static int
rx_r2t(struct nvt_nvme_qpair *qpair)
{
	const struct nvt_nvme_tcp_r2t *r2t = &qpair->rx_hdr.r2t;
	struct nvme_req *req = rx_find_req(qpair, r2t->cccid);

	qpair->stats.r2ts++;
	if (req == NULL || !req->h2c || req->state != NVME_REQ_STATE_SUBMITTED || r2t->r2tl == 0 ||
	    (uint64_t)r2t->r2to + r2t->r2tl > req->len) {
		NVT_ERRLOG("qpair %u: bad R2T (cid %u)\n", qpair->qid, r2t->cccid);
		return -EPROTO;
	}
	req->ttag = r2t->ttag;
	req->r2t_off = r2t->r2to;
	req->r2t_end = r2t->r2to + r2t->r2tl;
	req_set_state(req, NVME_REQ_STATE_H2C);
	if (req->sends == 0) {
		h2c_send_next(req);
	}
	return 1;
}

static int
rx_term_req(struct nvt_nvme_qpair *qpair)
{
	const struct nvt_nvme_tcp_term_req *term = &qpair->rx_hdr.term_req;

	NVT_ERRLOG("qpair %u: controller terminated the connection: FES %#x FEI %#x\n", qpair->qid,
		   term->fes, nvt_nvme_tcp_term_req_fei(term));
	return -ECONNABORTED;
}

static int
rx_dispatch(struct nvt_nvme_qpair *qpair)
{
	qpair->stats.pdus_rx++;
	if (qpair->state == NVME_QPAIR_STATE_IC_WAIT &&
	    qpair->rx_hdr.ch.type != NVT_NVME_TCP_PDU_IC_RESP &&
	    qpair->rx_hdr.ch.type != NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
		return -EPROTO;
	}
	rx_set_state(qpair, NVME_RX_STATE_CH);
	switch (qpair->rx_hdr.ch.type) {
	case NVT_NVME_TCP_PDU_IC_RESP:
		return nvme_qpair_rx_ic_resp(qpair);
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
		return rx_capsule_resp(qpair);
	case NVT_NVME_TCP_PDU_C2H_DATA:
		return rx_c2h_data(qpair);
	case NVT_NVME_TCP_PDU_R2T:
		return rx_r2t(qpair);
	case NVT_NVME_TCP_PDU_C2H_TERM_REQ:
		return rx_term_req(qpair);
	default:
		NVT_ERRLOG("qpair %u: unexpected PDU type %#x\n", qpair->qid,
			   qpair->rx_hdr.ch.type);
		return -EPROTO;
	}
}

/* End of one C2H Data PDU: with SUCCESS no response capsule follows. */
static int
rx_c2h_end(struct nvt_nvme_qpair *qpair)
{
	struct nvme_req *req = qpair->rx_req;
	uint8_t flags = qpair->rx_hdr.ch.flags;

	qpair->rx_req = NULL;
	rx_set_state(qpair, NVME_RX_STATE_CH);
	if ((flags & NVT_NVME_TCP_F_SUCCESS) != 0) {
		if ((flags & NVT_NVME_TCP_F_LAST_PDU) == 0 || req->data_done != req->len) {
			return -EPROTO;
		}
		qpair->stats.c2h_success++;
		req_complete_status(req, 0);
	}
	return 1;
}

/* \p n more bytes of C2H data are in the request's buffer. */
static int
rx_data_consumed(struct nvt_nvme_qpair *qpair, uint32_t n)
{
	struct nvme_req *req = qpair->rx_req;

	if (qpair->ddgst && n > 0) {
		qpair->rx_ddgst_calc =
			nvme_payload_crc32c(&req->payload, req->data_done, n, qpair->rx_ddgst_calc);
	}
	req->data_done += n;
	qpair->rx_data_left -= n;
	if (qpair->rx_data_left > 0) {
		return 1;
	}
	if (qpair->ddgst) {
		qpair->rx_ddgst_have = 0;
		rx_set_state(qpair, NVME_RX_STATE_DDGST);
		return 1;
	}
	return rx_c2h_end(qpair);
}

static int
rx_step_ch(struct nvt_nvme_qpair *qpair, uint32_t avail)
{
	struct nvt_nvme_tcp_common_hdr *ch = &qpair->rx_hdr.ch;
	uint32_t hd, pad = 0;
	int rc;

	if (avail < sizeof(*ch)) {
		return 0;
	}
	memcpy(ch, qpair->rx_buf + qpair->rx_rd, sizeof(*ch));
	qpair->rx_rd += sizeof(*ch);
	rc = nvme_pdu_check_rx_hdr(ch, qpair->hdgst, qpair->ddgst);
	if (rc != 0) {
		NVT_ERRLOG("qpair %u: bad PDU header (type %#x hlen %u plen %u)\n", qpair->qid,
			   ch->type, ch->hlen, ch->plen);
		return rc;
	}
	hd = nvt_nvme_tcp_hdgst_len(ch);
	if (ch->pdo != 0) {
		pad = ch->pdo - ch->hlen - hd;
	}
	qpair->rx_need = ch->hlen - sizeof(*ch) + hd;
	qpair->rx_pad = pad;
	rx_set_state(qpair, NVME_RX_STATE_PSH);
	return 1;
}

static int
rx_step_psh(struct nvt_nvme_qpair *qpair, uint32_t avail)
{
	union nvt_nvme_tcp_pdu_hdr *hdr = &qpair->rx_hdr;

	if (avail < qpair->rx_need + qpair->rx_pad) {
		return 0;
	}
	memcpy(hdr->raw + sizeof(hdr->ch), qpair->rx_buf + qpair->rx_rd, qpair->rx_need);
	qpair->rx_rd += qpair->rx_need + qpair->rx_pad;
	if ((hdr->ch.flags & NVT_NVME_TCP_F_HDGSTF) != 0 &&
	    nvt_nvme_tcp_pdu_type_has_digests(hdr->ch.type) && !nvme_pdu_hdgst_ok(hdr)) {
		qpair->stats.digest_errors++;
		NVT_ERRLOG("qpair %u: header digest error\n", qpair->qid);
		return -EILSEQ;
	}
	return rx_dispatch(qpair);
}

static int
rx_step_data(struct nvt_nvme_qpair *qpair, uint32_t avail)
{
	struct nvme_req *req = qpair->rx_req;
	uint32_t n = avail < qpair->rx_data_left ? avail : qpair->rx_data_left;

	if (qpair->rx_data_left == 0) {
		return rx_data_consumed(qpair, 0);
	}
	if (n == 0) {
		return 0;
	}
	nvme_payload_copy_in(&req->payload, req->data_done, qpair->rx_buf + qpair->rx_rd, n);
	qpair->rx_rd += n;
	return rx_data_consumed(qpair, n);
}

static int
rx_step_ddgst(struct nvt_nvme_qpair *qpair, uint32_t avail)
{
	uint8_t *got = (uint8_t *)&qpair->rx_ddgst_got;
	uint32_t n = NVT_NVME_TCP_DIGEST_LEN - qpair->rx_ddgst_have;

	if (n > avail) {
		n = avail;
	}
	if (n == 0) {
		return 0;
	}
	memcpy(got + qpair->rx_ddgst_have, qpair->rx_buf + qpair->rx_rd, n);
	qpair->rx_rd += n;
	qpair->rx_ddgst_have += n;
	if (qpair->rx_ddgst_have < NVT_NVME_TCP_DIGEST_LEN) {
		return 0;
	}
	if (qpair->rx_ddgst_got != (qpair->rx_ddgst_calc ^ NVT_CRC32C_XOR)) {
		qpair->stats.digest_errors++;
		NVT_ERRLOG("qpair %u: data digest error\n", qpair->qid);
		return -EILSEQ;
	}
	return rx_c2h_end(qpair);
}

/* One step of the receive machine: 1 progress, 0 needs more bytes, <0 fatal. */
static int
rx_step(struct nvt_nvme_qpair *qpair)
{
	uint32_t avail = qpair->rx_wr - qpair->rx_rd;

	switch (qpair->rx_state) {
	case NVME_RX_STATE_CH:
		return rx_step_ch(qpair, avail);
	case NVME_RX_STATE_PSH:
		return rx_step_psh(qpair, avail);
	case NVME_RX_STATE_DATA:
		return rx_step_data(qpair, avail);
	case NVME_RX_STATE_DDGST:
		return rx_step_ddgst(qpair, avail);
	default:
		return 0;
	}
}

/* Read C2H data straight into the request's buffer. */
static ssize_t
rx_read_data(struct nvt_nvme_qpair *qpair)
{
	struct nvme_req *req = qpair->rx_req;
	struct iovec seg[NVME_PDU_MAX_DATA_IOVS];
	uint32_t cnt, bytes;
	ssize_t n;

	cnt = nvme_payload_slice(&req->payload, req->data_done, qpair->rx_data_left, seg,
				 NVME_PDU_MAX_DATA_IOVS, &bytes);
	if (nvt_unlikely(bytes == 0)) {
		/* Cannot happen: the C2H header was checked against the request's length. */
		return -EFAULT;
	}
	n = nvt_sock_readv(qpair->sock, seg, (int)cnt);
	if (n > 0 && rx_data_consumed(qpair, (uint32_t)n) < 0) {
		return -EPROTO;
	}
	return n;
}

/* Read from the socket: large C2H data goes straight to the request's buffer. */
static int
rx_fill(struct nvt_nvme_qpair *qpair)
{
	ssize_t n;

	if (qpair->rx_rd == qpair->rx_wr) {
		qpair->rx_rd = qpair->rx_wr = 0;
	} else if (qpair->rx_rd > NVME_RX_BUF_SIZE / 2) {
		memmove(qpair->rx_buf, qpair->rx_buf + qpair->rx_rd, qpair->rx_wr - qpair->rx_rd);
		qpair->rx_wr -= qpair->rx_rd;
		qpair->rx_rd = 0;
	}
	qpair->stats.recv_calls++;
	if (qpair->rx_state == NVME_RX_STATE_DATA && qpair->rx_wr == 0 &&
	    qpair->rx_data_left >= 4096) {
		n = rx_read_data(qpair);
		if (n > 0) {
			return 1;
		}
	} else {
		n = nvt_sock_recv(qpair->sock, qpair->rx_buf + qpair->rx_wr,
				  NVME_RX_BUF_SIZE - qpair->rx_wr);
		if (n > 0) {
			qpair->rx_wr += (uint32_t)n;
			return 1;
		}
	}
	if (n == 0) {
		return -ECONNRESET;
	}
	return n == -EAGAIN ? 0 : (int)n;
}

static int
rx_process(struct nvt_nvme_qpair *qpair)
{
	int rc, budget;

	for (budget = 0; budget < RX_BUDGET; budget++) {
		rc = rx_fill(qpair);
		if (rc <= 0) {
			return rc;
		}
		do {
			rc = rx_step(qpair);
		} while (rc > 0 && !qpair->closing && qpair->rx_state != NVME_RX_STATE_ERROR);
		if (rc < 0 || qpair->closing || qpair->rx_state == NVME_RX_STATE_ERROR) {
			return rc;
		}
	}
	return 0;
}

void
nvme_qpair_sock_cb(void *arg, struct nvt_sock_group *group, struct nvt_sock *sock)
{
	struct nvt_nvme_qpair *qpair = arg;
	int rc;

	(void)group;
	(void)sock;
	if (qpair->rx_state == NVME_RX_STATE_ERROR || qpair->closing) {
		return;
	}
	qpair->busy++;
	rc = rx_process(qpair);
	if (rc < 0) {
		nvme_qpair_fail(qpair, rc);
	}
	qpair->busy--;
	if (qpair->closing) {
		nvme_qpair_try_free(qpair);
	}
}

struct nvt_nvme_qpair *
nvme_qpair_create(struct nvt_nvme_ctrlr *ctrlr, struct nvt_nvme_poll_group *group, uint16_t qid,
		  uint32_t depth)
{
	struct nvt_nvme_qpair *qpair = calloc(1, sizeof(*qpair));
	uint32_t i;

	if (qpair == NULL) {
		return NULL;
	}
	qpair->ctrlr = ctrlr;
	qpair->group = group;
	qpair->qid = qid;
	qpair->depth = depth;
	qpair->num_reqs = depth;
	qpair->icd_size = qid == 0 ? NVME_ADMIN_ICD_SIZE : nvme_ctrlr_get_io_icd_size(ctrlr);
	qpair->maxh2cdata = NVT_NVME_TCP_MAXH2CDATA_MIN;
	qpair->rx_buf = malloc(NVME_RX_BUF_SIZE);
	qpair->reqs = calloc(depth, sizeof(*qpair->reqs));
	if (qpair->rx_buf == NULL || qpair->reqs == NULL || nvme_qpair_ios_init(qpair) != 0) {
		free(qpair->rx_buf);
		free(qpair->reqs);
		free(qpair);
		return NULL;
	}
	TAILQ_INIT(&qpair->free_reqs);
	for (i = 0; i < depth; i++) {
		qpair->reqs[i].qpair = qpair;
		qpair->reqs[i].cid = (uint16_t)i;
		TAILQ_INSERT_TAIL(&qpair->free_reqs, &qpair->reqs[i], link);
	}
	nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_CONNECTING);
	return qpair;
}

static bool
qpair_has_sends(const struct nvt_nvme_qpair *qpair)
{
	uint32_t i;

	if (qpair->ic_send_pending) {
		return true;
	}
	for (i = 0; i < qpair->num_reqs; i++) {
		if (qpair->reqs[i].sends > 0) {
			return true;
		}
	}
	return false;
}

void
nvme_qpair_try_free(struct nvt_nvme_qpair *qpair)
{
	if (qpair->busy > 0 || qpair_has_sends(qpair) || qpair->free_pending) {
		return;
	}
	qpair->free_pending = true;
	nvme_auth_free(qpair);
	nvme_qpair_ios_fini(qpair);
	free(qpair->rx_buf);
	free(qpair->reqs);
	free(qpair);
}

void
nvme_qpair_destroy(struct nvt_nvme_qpair *qpair)
{
	if (qpair->closing) {
		return;
	}
	qpair->closing = true;
	/* Failing commands and closing the socket run callbacks that may try to free us. */
	qpair->busy++;
	nvt_poller_unregister(&qpair->timer);
	qpair->ready_fn = NULL;
	if (qpair->state != NVME_QPAIR_STATE_FAILED) {
		nvme_qpair_set_state(qpair, NVME_QPAIR_STATE_FAILED);
		rx_set_state(qpair, NVME_RX_STATE_ERROR);
		qpair_fail_reqs(qpair,
				nvt_nvme_status_make(NVT_NVME_SCT_GENERIC,
						     NVT_NVME_SC_ABORTED_SQ_DELETION, false));
	}
	if (qpair->sock != NULL) {
		nvt_sock_close(&qpair->sock);
		qpair->group->num_qpairs--;
	}
	qpair->busy--;
	nvme_qpair_try_free(qpair);
}

/* ---- public queue API ---- */

bool
nvt_nvme_qpair_is_failed(const struct nvt_nvme_qpair *qpair)
{
	return qpair->state == NVME_QPAIR_STATE_FAILED;
}

uint16_t
nvt_nvme_qpair_get_id(const struct nvt_nvme_qpair *qpair)
{
	return qpair->qid;
}

uint32_t
nvt_nvme_qpair_get_outstanding(const struct nvt_nvme_qpair *qpair)
{
	return qpair->outstanding;
}

void
nvt_nvme_qpair_get_stats(const struct nvt_nvme_qpair *qpair, struct nvt_nvme_qpair_stats *stats)
{
	*stats = qpair->stats;
}

/* ---- poll groups ---- */

static int
poll_group_poll(void *arg)
{
	struct nvt_nvme_poll_group *group = arg;

	return nvt_sock_group_poll(group->sgroup) > 0 ? NVT_POLLER_BUSY : NVT_POLLER_IDLE;
}

struct nvt_nvme_poll_group *
nvt_nvme_poll_group_create(void)
{
	struct nvt_nvme_poll_group *group;

	if (nvt_get_thread() == NULL) {
		return NULL;
	}
	group = calloc(1, sizeof(*group));
	if (group == NULL) {
		return NULL;
	}
	group->thread = nvt_get_thread();
	group->sgroup = nvt_sock_group_create(group);
	group->poller = nvt_poller_register(poll_group_poll, group, 0, "nvme_group");
	if (group->sgroup == NULL || group->poller == NULL) {
		nvt_poller_unregister(&group->poller);
		nvt_sock_group_close(&group->sgroup);
		free(group);
		return NULL;
	}
	return group;
}

int
nvt_nvme_poll_group_destroy(struct nvt_nvme_poll_group **pgroup)
{
	struct nvt_nvme_poll_group *group = *pgroup;

	if (group == NULL) {
		return 0;
	}
	if (group->num_qpairs > 0 || nvt_sock_group_close(&group->sgroup) != 0) {
		return -EBUSY;
	}
	nvt_poller_unregister(&group->poller);
	free(group);
	*pgroup = NULL;
	return 0;
}
