/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PDU send: headers are built in storage preallocated per request (or per
 * qpair for ICResp and C2HTermReq) and queued on the socket as one async
 * writev each; the socket group flushes everything queued in a poll with as
 * few sendmsg calls as it can. A read completion is one writev: C2H header,
 * padding, data, data digest and (unless SUCCESS is used) the response.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "nvtcp/crc32c.h"
#include "nvtcp/log.h"
#include "nvtcp/thread.h"

#include "tcp_internal.h"

/* Padding source for the host's PDU data alignment (HPDA, at most 128 bytes). */
static const uint8_t g_zero_pad[(NVT_NVME_TCP_PDA_MAX + 1) * 4];

static const uint32_t __attribute__((unused)) g_send_transitions[TCP_PDU_SEND_NUM_STATES] = {
	[TCP_PDU_SEND_STATE_IDLE] = 1u << TCP_PDU_SEND_STATE_QUEUED,
	[TCP_PDU_SEND_STATE_QUEUED] = 1u << TCP_PDU_SEND_STATE_IDLE,
};

void
tcp_pdu_send_set_state(struct tcp_tx *tx, enum tcp_pdu_send_state next)
{
	assert(g_send_transitions[tx->state] & (1u << next));
	tx->state = next;
}

static void
tx_queue(struct tcp_qpair *qpair, struct tcp_tx *tx, struct iovec *iov, int iovcnt,
	 nvt_sock_request_cb cb, void *cb_arg)
{
	uint32_t bytes = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		bytes += (uint32_t)iov[i].iov_len;
	}
	tx->bytes = bytes;
	qpair->tx_queued += bytes;
	tx->sreq.cb_fn = cb;
	tx->sreq.cb_arg = cb_arg;
	tx->sreq.iov = iov;
	tx->sreq.iovcnt = iovcnt;
	tcp_pdu_send_set_state(tx, TCP_PDU_SEND_STATE_QUEUED);
	qpair->group->stats.pdus_tx++;
	qpair->group->stats.bytes_tx += bytes;
	nvt_sock_writev_async(qpair->sock, &tx->sreq);
	tcp_qpair_tx_queued(qpair);
}

/* Header of a PDU we send, and its digest right behind it when negotiated. */
static uint32_t
hdr_finish(struct tcp_qpair *qpair, struct nvt_nvme_tcp_common_hdr *ch, uint32_t *hdgst)
{
	if (qpair->params.hdgst) {
		ch->flags |= NVT_NVME_TCP_F_HDGSTF;
		*hdgst = tcp_hdgst_calc(ch, ch->hlen);
		return ch->hlen + NVT_NVME_TCP_DIGEST_LEN;
	}
	return ch->hlen;
}

/* ---- per-qpair management PDUs ---- */

/* A PDU's send completed (or was dropped with the socket). */
static void
tx_done(struct tcp_qpair *qpair, struct tcp_tx *tx)
{
	tcp_pdu_send_set_state(tx, TCP_PDU_SEND_STATE_IDLE);
	tcp_qpair_tx_done(qpair, tx->bytes);
}

static void
icresp_done(void *cb_arg, int err)
{
	struct tcp_qpair *qpair = cb_arg;

	(void)err;
	tx_done(qpair, &qpair->icresp.tx);
	tcp_qpair_put(qpair);
}

void
tcp_send_icresp(struct tcp_qpair *qpair, const struct nvt_nvme_tcp_ic_resp *icresp)
{
	struct tcp_mgmt_pdu *m = &qpair->icresp;

	memcpy(&m->hdr.ic_resp, icresp, sizeof(*icresp));
	m->iov[0].iov_base = &m->hdr;
	m->iov[0].iov_len = sizeof(*icresp);
	/* The socket owns the PDU, and a reference, until icresp_done(). */
	tcp_qpair_get(qpair);
	tx_queue(qpair, &m->tx, m->iov, 1, icresp_done, qpair);
}

static void
term_disconnect_msg(void *ctx)
{
	struct tcp_qpair *qpair = ctx;

	tcp_qpair_disconnect(qpair);
	tcp_qpair_put(qpair);
}

static void
term_req_done(void *cb_arg, int err)
{
	struct tcp_qpair *qpair = cb_arg;

	(void)err;
	tx_done(qpair, &qpair->term.tx);
	/* Close from a message, not from inside the socket layer's callback. */
	if (nvt_thread_send_msg_prealloc(nvt_get_thread(), &qpair->term_msg, term_disconnect_msg,
					 qpair) != 0) {
		tcp_qpair_disconnect(qpair);
		tcp_qpair_put(qpair);
	}
	/* The PDU's reference goes with the message. */
}

uint32_t
tcp_build_term_req(struct nvt_nvme_tcp_term_req *term, uint16_t fes, uint32_t fei,
		   uint32_t data_len)
{
	memset(term, 0, sizeof(*term));
	term->ch.type = NVT_NVME_TCP_PDU_C2H_TERM_REQ;
	term->ch.hlen = sizeof(*term);
	term->ch.pdo = 0;
	if (data_len > NVT_NVME_TCP_TERM_REQ_MAX_DATA) {
		data_len = NVT_NVME_TCP_TERM_REQ_MAX_DATA;
	}
	term->ch.plen = (uint32_t)sizeof(*term) + data_len;
	term->fes = fes;
	if (fes == NVT_NVME_TCP_FES_INVALID_HEADER_FIELD ||
	    fes == NVT_NVME_TCP_FES_UNSUPPORTED_PARAMETER ||
	    fes == NVT_NVME_TCP_FES_HEADER_DIGEST_ERROR) {
		nvt_nvme_tcp_term_req_set_fei(term, fei);
	}
	return data_len;
}

/*
 * Queue a C2HTermReq carrying (up to 128 bytes of) the offending header.
 * The socket is closed once it is sent.
 */
void
tcp_send_term_req(struct tcp_qpair *qpair, uint16_t fes, uint32_t fei, const void *hdr,
		  uint32_t hdr_len)
{
	struct tcp_mgmt_pdu *m = &qpair->term;
	uint32_t n;

	if (m->tx.state != TCP_PDU_SEND_STATE_IDLE || qpair->sock == NULL) {
		return;
	}
	n = tcp_build_term_req(&m->hdr.term_req, fes, fei, hdr_len);
	memcpy(m->term_data, hdr, n);
	m->iov[0].iov_base = &m->hdr;
	m->iov[0].iov_len = sizeof(struct nvt_nvme_tcp_term_req);
	m->iov[1].iov_base = m->term_data;
	m->iov[1].iov_len = n;
	tcp_qpair_get(qpair);
	tx_queue(qpair, &m->tx, m->iov, n ? 2 : 1, term_req_done, qpair);
}

/* ---- per-request PDUs ---- */

static void send_c2h_now(struct tcp_req *req);
static void send_rsp(struct tcp_req *req);

static void
req_tx_done(void *cb_arg, int err)
{
	struct tcp_req *req = cb_arg;
	enum tcp_tx_next next = req->tx_next;

	tx_done(req->qpair, &req->tx);
	req->tx_next = TCP_TX_NEXT_NONE;
	if (err != 0 && err != -ECANCELED && !req->qpair->tx_err_logged) {
		/* Every queued send fails the same way after the first: one line per connection. */
		req->qpair->tx_err_logged = true;
		NVT_ERRLOG("qpair %u: send failed: %d (%s)\n", req->qpair->id, err, strerror(-err));
	}
	if (next != TCP_TX_NEXT_NONE && req->qpair->sock != NULL && err == 0) {
		if (next == TCP_TX_NEXT_C2H) {
			send_c2h_now(req);
		} else {
			send_rsp(req);
		}
		return;
	}
	tcp_req_tx_done(req, err);
}

void
tcp_send_r2t(struct tcp_req *req)
{
	struct tcp_qpair *qpair = req->qpair;
	struct nvt_nvme_tcp_r2t *r2t = &req->tx_hdr.r2t;
	struct iovec *iov = &req->rsp_iov;

	memset(r2t, 0, sizeof(*r2t));
	r2t->ch.type = NVT_NVME_TCP_PDU_R2T;
	r2t->ch.hlen = sizeof(*r2t);
	r2t->ch.plen = sizeof(*r2t) + (qpair->params.hdgst ? NVT_NVME_TCP_DIGEST_LEN : 0);
	r2t->cccid = req->cmd.cmd.cid;
	r2t->ttag = req->ttag;
	r2t->r2to = 0;
	r2t->r2tl = req->base.length;
	iov->iov_base = r2t;
	iov->iov_len = hdr_finish(qpair, &r2t->ch, &req->tx_hdgst);
	tx_queue(qpair, &req->tx, iov, 1, req_tx_done, req);
}

static void
build_rsp(struct tcp_req *req, struct iovec *iov)
{
	struct nvt_nvme_tcp_capsule_resp *rsp = &req->rsp_hdr;

	memset(&rsp->ch, 0, sizeof(rsp->ch));
	rsp->ch.type = NVT_NVME_TCP_PDU_CAPSULE_RESP;
	rsp->ch.hlen = sizeof(*rsp);
	rsp->ch.plen = sizeof(*rsp) + (req->qpair->params.hdgst ? NVT_NVME_TCP_DIGEST_LEN : 0);
	rsp->cqe = req->cpl;
	iov->iov_base = rsp;
	iov->iov_len = hdr_finish(req->qpair, &rsp->ch, &req->rsp_hdgst);
}

static void
send_rsp(struct tcp_req *req)
{
	build_rsp(req, &req->rsp_iov);
	tx_queue(req->qpair, &req->tx, &req->rsp_iov, 1, req_tx_done, req);
}

/*
 * Whether a read's response waits for its data's send: only while other
 * commands of the queue are in flight, so that a lone command (QD1) loses
 * no time.
 */
static bool
rsp_after_data(const struct tcp_req *req)
{
	const struct tcp_qpair *qpair = req->qpair;

	return qpair->req_count - qpair->state_cnt[TCP_REQ_STATE_FREE] > 1;
}

static bool
c2h_use_success(const struct tcp_req *req)
{
	const struct tcp_qpair *qpair = req->qpair;

	/* The host gets no SQHD without a response: only when it disabled SQ flow control. */
	return tcp_qpair_opts(qpair)->c2h_success && qpair->base.sqflow_disabled &&
	       req->cpl.status == 0;
}

/* C2H data header, padding, data and data digest; returns the iovec entries used. */
static int
build_c2h_data(struct tcp_req *req, struct iovec *iov, bool success)
{
	struct tcp_qpair *qpair = req->qpair;
	struct nvt_nvme_tcp_c2h_data *c2h = &req->tx_hdr.c2h;
	uint8_t pdo = nvt_nvme_tcp_pdo(sizeof(*c2h), qpair->params.hdgst, qpair->params.hpda);
	uint32_t ddgst = qpair->params.ddgst ? NVT_NVME_TCP_DIGEST_LEN : 0;
	uint32_t hlen, i;
	int cnt = 1;

	memset(c2h, 0, sizeof(*c2h));
	c2h->ch.type = NVT_NVME_TCP_PDU_C2H_DATA;
	c2h->ch.flags = (uint8_t)(NVT_NVME_TCP_F_LAST_PDU | (success ? NVT_NVME_TCP_F_SUCCESS : 0) |
				  (ddgst ? NVT_NVME_TCP_F_DDGSTF : 0));
	c2h->ch.hlen = sizeof(*c2h);
	c2h->ch.pdo = pdo;
	c2h->ch.plen = pdo + req->base.length + ddgst;
	c2h->cccid = req->cmd.cmd.cid;
	c2h->datao = 0;
	c2h->datal = req->base.length;
	hlen = hdr_finish(qpair, &c2h->ch, &req->tx_hdgst);
	iov[0].iov_base = c2h;
	iov[0].iov_len = hlen;
	if (pdo > hlen) {
		iov[cnt].iov_base = (void *)g_zero_pad;
		iov[cnt++].iov_len = pdo - hlen;
	}
	for (i = 0; i < req->base.iovcnt; i++) {
		iov[cnt++] = req->base.iov[i];
	}
	if (ddgst) {
		req->tx_ddgst = nvt_crc32c_update_iov(req->base.iov, (int)req->base.iovcnt,
						      NVT_CRC32C_INIT) ^
				NVT_CRC32C_XOR;
		iov[cnt].iov_base = &req->tx_ddgst;
		iov[cnt++].iov_len = NVT_NVME_TCP_DIGEST_LEN;
	}
	return cnt;
}

static void
send_c2h_now(struct tcp_req *req)
{
	struct iovec *iov;
	bool data, success = false;
	int cnt = 0;

	data = req->base.xfer == NVMF_XFER_CTRLR_TO_HOST && req->base.length > 0 &&
	       req->cpl.status == 0 && req->ctx != NULL;
	if (data) {
		iov = req->ctx->tx_iov;
		success = c2h_use_success(req);
		cnt = build_c2h_data(req, iov, success);
	} else {
		iov = &req->rsp_iov;
	}
	if (data && !success && rsp_after_data(req)) {
		req->tx_next = TCP_TX_NEXT_RSP;
	} else if (!success) {
		build_rsp(req, &iov[cnt++]);
	}
	tx_queue(req->qpair, &req->tx, iov, cnt, req_tx_done, req);
}

/*
 * Send a completed command: its data for a successful read, then its
 * response. The R2T of a write may still be owned by the socket layer (an
 * io_uring send completion can trail the host's answer): then the response
 * goes out from the R2T's completion.
 */
void
tcp_send_c2h(struct tcp_req *req)
{
	if (req->tx.state != TCP_PDU_SEND_STATE_IDLE) {
		req->tx_next = TCP_TX_NEXT_C2H;
		return;
	}
	send_c2h_now(req);
}
