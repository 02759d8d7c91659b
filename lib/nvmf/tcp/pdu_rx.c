/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PDU receive: the byte stream of one qpair into PDUs.
 *
 * A ladder of try_* steps, each returning 1 (progress), 0 (would block) or
 * <0 (the connection is finished). Bytes are read in bulk into the poll
 * group's receive buffer (one recv for many PDUs), which the group's qpairs
 * use in turn: what a qpair leaves there when it pauses moves to its stash.
 * Large payloads are read straight into the request's pool buffers, with
 * the bytes that follow them into the group's buffer in the same recv.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "nvtcp/crc32c.h"
#include "nvtcp/log.h"
#include "nvtcp/thread.h"

#include "tcp_internal.h"

#define FEI_OF(field) ((uint32_t)offsetof(struct nvt_nvme_tcp_common_hdr, field))

static const uint32_t __attribute__((unused)) g_recv_transitions[TCP_PDU_RECV_NUM_STATES] = {
	[TCP_PDU_RECV_STATE_AWAIT_CH] =
		(1u << TCP_PDU_RECV_STATE_AWAIT_PSH) | (1u << TCP_PDU_RECV_STATE_ERROR),
	[TCP_PDU_RECV_STATE_AWAIT_PSH] =
		(1u << TCP_PDU_RECV_STATE_AWAIT_CH) | (1u << TCP_PDU_RECV_STATE_AWAIT_REQ) |
		(1u << TCP_PDU_RECV_STATE_AWAIT_BUF) | (1u << TCP_PDU_RECV_STATE_AWAIT_PAYLOAD) |
		(1u << TCP_PDU_RECV_STATE_ERROR),
	[TCP_PDU_RECV_STATE_AWAIT_REQ] =
		(1u << TCP_PDU_RECV_STATE_AWAIT_CH) | (1u << TCP_PDU_RECV_STATE_AWAIT_BUF) |
		(1u << TCP_PDU_RECV_STATE_AWAIT_PAYLOAD) | (1u << TCP_PDU_RECV_STATE_ERROR),
	[TCP_PDU_RECV_STATE_AWAIT_BUF] =
		(1u << TCP_PDU_RECV_STATE_AWAIT_PAYLOAD) | (1u << TCP_PDU_RECV_STATE_ERROR),
	[TCP_PDU_RECV_STATE_AWAIT_PAYLOAD] =
		(1u << TCP_PDU_RECV_STATE_AWAIT_CH) | (1u << TCP_PDU_RECV_STATE_ERROR),
	[TCP_PDU_RECV_STATE_ERROR] = (1u << TCP_PDU_RECV_STATE_ERROR),
};

void
tcp_pdu_recv_set_state(struct tcp_qpair *qpair, enum tcp_pdu_recv_state next)
{
	assert(g_recv_transitions[qpair->recv_state] & (1u << next));
	qpair->recv_state = next;
	if (next == TCP_PDU_RECV_STATE_AWAIT_CH) {
		/* That PDU is whole: the next one gets its own deadline. */
		if (qpair->watch == TCP_WATCH_PDU) {
			tcp_watch_pdu_done(qpair);
		}
		qpair->rx_hdr_got = 0;
		qpair->rx_payload_got = 0;
		qpair->rx_req = NULL;
		qpair->rx_crc = NVT_CRC32C_INIT;
	}
}

uint32_t
tcp_hdgst_calc(const void *hdr, uint32_t hlen)
{
	return nvt_crc32c_update(hdr, hlen, NVT_CRC32C_INIT) ^ NVT_CRC32C_XOR;
}

bool
tcp_hdgst_ok(const void *hdr, uint32_t hlen, uint32_t digest)
{
	return tcp_hdgst_calc(hdr, hlen) == digest;
}

/* ---- header checks (pure: no qpair, unit tested) ---- */

static int
check_reject(struct tcp_pdu_check *chk, uint16_t fes, uint32_t fei)
{
	chk->fes = fes;
	chk->fei = fei;
	return -EPROTO;
}

/* Flags a PDU of \p type from a host may carry. */
static uint8_t
ch_valid_flags(uint8_t type)
{
	switch (type) {
	case NVT_NVME_TCP_PDU_CAPSULE_CMD:
		return NVT_NVME_TCP_F_HDGSTF | NVT_NVME_TCP_F_DDGSTF;
	case NVT_NVME_TCP_PDU_H2C_DATA:
		return NVT_NVME_TCP_F_HDGSTF | NVT_NVME_TCP_F_DDGSTF | NVT_NVME_TCP_F_LAST_PDU;
	default:
		return 0;
	}
}

/* Type, and whether it may come now. */
static int
ch_check_type(const struct tcp_conn_params *p, const struct nvt_nvme_tcp_common_hdr *ch,
	      struct tcp_pdu_check *chk)
{
	switch (ch->type) {
	case NVT_NVME_TCP_PDU_IC_REQ:
		if (p->ic_done) {
			return check_reject(chk, NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0);
		}
		return 0;
	case NVT_NVME_TCP_PDU_H2C_TERM_REQ:
		return 0;
	case NVT_NVME_TCP_PDU_CAPSULE_CMD:
	case NVT_NVME_TCP_PDU_H2C_DATA:
		if (!p->ic_done) {
			return check_reject(chk, NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0);
		}
		return 0;
	default:
		/* Unknown, or a controller-to-host type. */
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(type));
	}
}

/* pdo of a PDU that may carry data; sets pad_len and data_len. */
static int
ch_check_data_layout(const struct tcp_conn_params *p, const struct nvt_nvme_tcp_common_hdr *ch,
		     struct tcp_pdu_check *chk)
{
	uint32_t full = ch->hlen + nvt_nvme_tcp_hdgst_len(ch);
	uint32_t ddgst = nvt_nvme_tcp_ddgst_len(ch);

	if (ch->plen < full) {
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(plen));
	}
	if (ch->plen == full) {
		if (ch->pdo != 0 || ddgst != 0) {
			return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD,
					    ch->pdo != 0 ? FEI_OF(pdo) : FEI_OF(flags));
		}
		return 0;
	}
	if (ch->pdo < full || ch->pdo % nvt_nvme_tcp_pda_bytes(p->cpda) != 0 ||
	    ch->pdo >= ch->plen) {
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(pdo));
	}
	if (ch->plen < (uint32_t)ch->pdo + ddgst + 1) {
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(plen));
	}
	if (p->ddgst && ddgst == 0) {
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(flags));
	}
	chk->pad_len = ch->pdo - full;
	chk->data_len = ch->plen - ch->pdo - ddgst;
	return 0;
}

/* hlen, pdo and plen of each type. */
static int
ch_check_lengths(const struct tcp_conn_params *p, const struct nvt_nvme_tcp_common_hdr *ch,
		 struct tcp_pdu_check *chk)
{
	int rc;

	if (ch->hlen != nvt_nvme_tcp_pdu_hlen(ch->type)) {
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(hlen));
	}
	switch (ch->type) {
	case NVT_NVME_TCP_PDU_IC_REQ:
		if (ch->pdo != 0) {
			return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD,
					    FEI_OF(pdo));
		}
		if (ch->plen != ch->hlen) {
			return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD,
					    FEI_OF(plen));
		}
		return 0;
	case NVT_NVME_TCP_PDU_CAPSULE_CMD:
		rc = ch_check_data_layout(p, ch, chk);
		if (rc == 0 && chk->data_len > p->max_icd) {
			return check_reject(chk, NVT_NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0);
		}
		return rc;
	case NVT_NVME_TCP_PDU_H2C_DATA:
		rc = ch_check_data_layout(p, ch, chk);
		if (rc == 0 && chk->data_len == 0) {
			return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD,
					    FEI_OF(plen));
		}
		if (rc == 0 && chk->data_len > p->maxh2cdata) {
			return check_reject(chk, NVT_NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0);
		}
		return rc;
	default:
		return 0;
	}
}

/*
 * Check a received common header against the connection's state.
 * Returns 0 (psh_len, pad_len, data_len set), -EPROTO (reject with chk->fes
 * and chk->fei), or -ECONNRESET (close without a TermReq: a bad H2CTermReq).
 */
int
tcp_pdu_ch_check(const struct tcp_conn_params *p, const struct nvt_nvme_tcp_common_hdr *ch,
		 struct tcp_pdu_check *chk)
{
	int rc;

	memset(chk, 0, sizeof(*chk));
	rc = ch_check_type(p, ch, chk);
	if (rc != 0) {
		return rc;
	}
	if (ch->type == NVT_NVME_TCP_PDU_H2C_TERM_REQ) {
		/* Invalid lengths in a TermReq end the connection without a report. */
		if (ch->hlen != sizeof(struct nvt_nvme_tcp_term_req) || ch->plen < ch->hlen ||
		    ch->plen > ch->hlen + (uint32_t)NVT_NVME_TCP_TERM_REQ_MAX_DATA) {
			return -ECONNRESET;
		}
		chk->psh_len = ch->plen - sizeof(*ch);
		return 0;
	}
	if ((ch->flags & ~ch_valid_flags(ch->type)) != 0 ||
	    ((ch->flags & NVT_NVME_TCP_F_HDGSTF) != 0) !=
		    (p->hdgst && nvt_nvme_tcp_pdu_type_has_digests(ch->type)) ||
	    ((ch->flags & NVT_NVME_TCP_F_DDGSTF) && !p->ddgst)) {
		return check_reject(chk, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, FEI_OF(flags));
	}
	rc = ch_check_lengths(p, ch, chk);
	if (rc != 0) {
		return rc;
	}
	chk->psh_len = ch->hlen - (uint32_t)sizeof(*ch) + nvt_nvme_tcp_hdgst_len(ch);
	return 0;
}

/*
 * Negotiate ICReq into \p p and fill \p icresp. Returns 0, or -EPROTO with
 * \p fei the offset of the bad field (FES Invalid Header Field).
 */
int
tcp_icreq_negotiate(const struct tcp_opts *opts, const struct nvt_nvme_tcp_ic_req *icreq,
		    struct tcp_conn_params *p, struct nvt_nvme_tcp_ic_resp *icresp, uint32_t *fei)
{
	if (icreq->pfv != NVT_NVME_TCP_PFV_1_0) {
		*fei = offsetof(struct nvt_nvme_tcp_ic_req, pfv);
		return -EPROTO;
	}
	if (icreq->hpda > NVT_NVME_TCP_PDA_MAX) {
		*fei = offsetof(struct nvt_nvme_tcp_ic_req, hpda);
		return -EPROTO;
	}
	p->hpda = icreq->hpda;
	p->cpda = 0;
	p->hdgst = opts->hdgst_allowed && (icreq->dgst & NVT_NVME_TCP_DGST_HDGST_ENABLE);
	p->ddgst = opts->ddgst_allowed && (icreq->dgst & NVT_NVME_TCP_DGST_DDGST_ENABLE);
	p->maxh2cdata = opts->maxh2cdata;
	p->ic_done = true;

	memset(icresp, 0, sizeof(*icresp));
	icresp->ch.type = NVT_NVME_TCP_PDU_IC_RESP;
	icresp->ch.hlen = sizeof(*icresp);
	icresp->ch.plen = sizeof(*icresp);
	icresp->pfv = NVT_NVME_TCP_PFV_1_0;
	icresp->cpda = p->cpda;
	icresp->dgst = (uint8_t)((p->hdgst ? NVT_NVME_TCP_DGST_HDGST_ENABLE : 0) |
				 (p->ddgst ? NVT_NVME_TCP_DGST_DDGST_ENABLE : 0));
	icresp->maxh2cdata = p->maxh2cdata;
	return 0;
}

/* ---- the receive buffer ---- */

static uint32_t
rx_avail(const struct tcp_qpair *qpair)
{
	return qpair->rx_tail - qpair->rx_head;
}

static uint8_t *
rx_group_buf(const struct tcp_qpair *qpair)
{
	return qpair->group->rxbuf;
}

/* Consume the group's buffer from now on: the stash, if any, is used up. */
static void
rx_use_group_buf(struct tcp_qpair *qpair)
{
	assert(rx_avail(qpair) == 0);
	if (qpair->rx_stash != NULL) {
		free(qpair->rx_stash);
		qpair->rx_stash = NULL;
	}
	qpair->rxbuf = rx_group_buf(qpair);
	qpair->rx_head = qpair->rx_tail = 0;
}

/* Start receiving: the stash's bytes first, else the group's buffer. */
static void
rx_begin(struct tcp_qpair *qpair)
{
	if (qpair->rx_stash != NULL) {
		qpair->rxbuf = qpair->rx_stash;
		return;
	}
	qpair->rxbuf = rx_group_buf(qpair);
	qpair->rx_head = qpair->rx_tail = 0;
}

/*
 * Stop receiving: bytes left in the group's buffer move to the stash, as
 * the next qpair will overwrite them. 0 or -ENOMEM.
 */
static int
rx_end(struct tcp_qpair *qpair)
{
	uint32_t left = rx_avail(qpair);

	if (qpair->rxbuf != rx_group_buf(qpair)) {
		return 0;
	}
	qpair->rxbuf = NULL;
	if (left == 0) {
		return 0;
	}
	qpair->rx_stash = malloc(left);
	if (qpair->rx_stash == NULL) {
		NVT_ERRLOG("qpair %u: no memory to keep %u received bytes\n", qpair->id, left);
		return -ENOMEM;
	}
	memcpy(qpair->rx_stash, rx_group_buf(qpair) + qpair->rx_head, left);
	qpair->rxbuf = qpair->rx_stash;
	qpair->rx_head = 0;
	qpair->rx_tail = left;
	return 0;
}

/* Read what the socket has into the (empty) receive buffer: 1, 0 (nothing), <0. */
static int
rx_fill(struct tcp_qpair *qpair)
{
	ssize_t n;

	rx_use_group_buf(qpair);
	n = nvt_sock_recv(qpair->sock, qpair->rxbuf, TCP_GROUP_RX_BUF_SIZE);
	if (n == -EAGAIN) {
		return 0;
	}
	if (n <= 0) {
		return n == 0 ? -ECONNRESET : (int)n;
	}
	qpair->rx_tail = (uint32_t)n;
	qpair->group->stats.bytes_rx += (uint64_t)n;
	return 1;
}

/* Make at least one byte available: 1, 0 (would block), <0. */
static int
rx_need(struct tcp_qpair *qpair)
{
	if (rx_avail(qpair) > 0) {
		return 1;
	}
	return rx_fill(qpair);
}

/* ---- the ladder ---- */

static int
try_recv_ch(struct tcp_qpair *qpair)
{
	struct nvt_nvme_tcp_common_hdr *ch = &qpair->rx_hdr.ch;
	uint32_t want, n;
	int rc;

	while (qpair->rx_hdr_got < sizeof(*ch)) {
		rc = rx_need(qpair);
		if (rc <= 0) {
			return rc;
		}
		want = (uint32_t)sizeof(*ch) - qpair->rx_hdr_got;
		n = rx_avail(qpair) < want ? rx_avail(qpair) : want;
		memcpy(qpair->rx_hdr.raw + qpair->rx_hdr_got, qpair->rxbuf + qpair->rx_head, n);
		qpair->rx_head += n;
		qpair->rx_hdr_got += n;
	}
	rc = tcp_pdu_ch_check(&qpair->params, ch, &qpair->rx_check);
	if (rc == -ECONNRESET) {
		NVT_ERRLOG("qpair %u: invalid H2CTermReq lengths, closing\n", qpair->id);
		return rc;
	}
	if (rc != 0) {
		NVT_ERRLOG(
			"qpair %u: bad PDU header type 0x%02x flags 0x%x hlen %u pdo %u plen %u: "
			"fes %u fei %u\n",
			qpair->id, ch->type, ch->flags, ch->hlen, ch->pdo, ch->plen,
			qpair->rx_check.fes, qpair->rx_check.fei);
		tcp_qpair_fatal_error(qpair, qpair->rx_check.fes, qpair->rx_check.fei);
		return -EPROTO;
	}
	tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_PSH);
	return 1;
}

/* Where byte \p pos of header + digest + padding goes (NULL: padding, dropped). */
static uint8_t *
psh_dst(struct tcp_qpair *qpair, uint32_t pos, uint32_t *room)
{
	uint32_t hlen = qpair->rx_hdr.ch.hlen;
	uint32_t hdg = nvt_nvme_tcp_hdgst_len(&qpair->rx_hdr.ch);

	if (qpair->rx_hdr.ch.type == NVT_NVME_TCP_PDU_H2C_TERM_REQ) {
		/* The TermReq's data (the offending header) is only logged in part. */
		hlen = sizeof(struct nvt_nvme_tcp_term_req);
		hdg = 0;
	}
	if (pos < hlen) {
		*room = hlen - pos;
		return qpair->rx_hdr.raw + pos;
	}
	if (pos < hlen + hdg) {
		*room = hlen + hdg - pos;
		return (uint8_t *)&qpair->rx_hdgst + (pos - hlen);
	}
	*room = UINT32_MAX;
	return NULL;
}

static int
try_recv_psh(struct tcp_qpair *qpair)
{
	uint32_t end = (uint32_t)sizeof(struct nvt_nvme_tcp_common_hdr) + qpair->rx_check.psh_len +
		       qpair->rx_check.pad_len;
	uint32_t n, room;
	uint8_t *dst;
	int rc;

	while (qpair->rx_hdr_got < end) {
		rc = rx_need(qpair);
		if (rc <= 0) {
			return rc;
		}
		dst = psh_dst(qpair, qpair->rx_hdr_got, &room);
		n = end - qpair->rx_hdr_got;
		n = n < room ? n : room;
		n = n < rx_avail(qpair) ? n : rx_avail(qpair);
		if (dst != NULL) {
			memcpy(dst, qpair->rxbuf + qpair->rx_head, n);
		}
		qpair->rx_head += n;
		qpair->rx_hdr_got += n;
	}
	return 1;
}

static int
handle_icreq(struct tcp_qpair *qpair)
{
	struct nvt_nvme_tcp_ic_resp icresp;
	uint32_t fei = 0;

	if (tcp_icreq_negotiate(tcp_qpair_opts(qpair), &qpair->rx_hdr.ic_req, &qpair->params,
				&icresp, &fei) != 0) {
		NVT_ERRLOG("qpair %u: ICReq rejected (pfv %u hpda %u)\n", qpair->id,
			   qpair->rx_hdr.ic_req.pfv, qpair->rx_hdr.ic_req.hpda);
		tcp_qpair_fatal_error(qpair, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, fei);
		return -EPROTO;
	}
	if (qpair->secure && !tcp_qpair_take_tls_identity(qpair)) {
		return -EACCES;
	}
	tcp_qpair_set_state(qpair, TCP_QPAIR_STATE_RUNNING);
	tcp_send_icresp(qpair, &icresp);
	tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_CH);
	return 1;
}

static int
handle_term_req(struct tcp_qpair *qpair)
{
	const struct nvt_nvme_tcp_term_req *term = &qpair->rx_hdr.term_req;

	NVT_NOTICELOG("qpair %u: host terminated the connection: fes %u fei 0x%x\n", qpair->id,
		      term->fes, nvt_nvme_tcp_term_req_fei(term));
	return -ECONNRESET;
}

static void
start_payload(struct tcp_qpair *qpair, struct tcp_req *req, uint32_t data_off)
{
	qpair->rx_req = req;
	qpair->rx_data_off = data_off;
	qpair->rx_payload_got = 0;
	qpair->rx_crc = NVT_CRC32C_INIT;
	tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_PAYLOAD);
}

/*
 * The request machine gave the in-capsule data its buffers (now, or from
 * the pool's callback after a pause): read the data into them.
 */
void
tcp_qpair_icd_ready(struct tcp_qpair *qpair, struct tcp_req *req)
{
	bool paused = qpair->recv_state == TCP_PDU_RECV_STATE_AWAIT_BUF;

	start_payload(qpair, req, 0);
	if (paused) {
		tcp_qpair_kick_rx(qpair);
	}
}

/* A capsule whose data travels in it: the request machine finds it buffers. */
static int
capsule_icd(struct tcp_qpair *qpair, struct tcp_req *req)
{
	tcp_req_process(req);
	if (qpair->recv_state == TCP_PDU_RECV_STATE_AWAIT_PAYLOAD) {
		return 1;
	}
	if (req->state == TCP_REQ_STATE_NEED_BUFFER) {
		/* Paused (the socket leaves its group) until tcp_qpair_icd_ready(). */
		tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_BUF);
		return 0;
	}
	/* Failed without buffers: the data is read and dropped. */
	start_payload(qpair, NULL, 0);
	return 1;
}

static int
handle_capsule(struct tcp_qpair *qpair)
{
	struct tcp_pdu_check *chk = &qpair->rx_check;
	struct nvt_nvme_status st;
	struct tcp_req *req;
	int rc;

	/*
	 * Paused until a request is freed (the host may reuse a CID early), or
	 * until the host has read enough of what waits to be sent to it.
	 */
	req = tcp_qpair_send_capped(qpair) ? NULL : tcp_req_get(qpair);
	if (req == NULL) {
		if (qpair->recv_state != TCP_PDU_RECV_STATE_AWAIT_REQ) {
			tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_REQ);
		}
		return 0;
	}
	memcpy(&req->cmd, &qpair->rx_hdr.capsule_cmd.sqe, sizeof(req->cmd));
	nvmf_request_arrived(&req->base);
	rc = tcp_req_parse_sgl(req, chk->data_len, tcp_qpair_opts(qpair)->max_io_size, &st);
	if (rc != 0) {
		tcp_req_fail(req, st.sct, st.sc);
		if (chk->data_len > 0) {
			start_payload(qpair, NULL, 0);
		} else {
			tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_CH);
		}
		return 1;
	}
	if (req->has_icd) {
		return capsule_icd(qpair, req);
	}
	if (chk->data_len > 0) {
		/* Data the command does not take (no-data command): dropped. */
		start_payload(qpair, NULL, 0);
	} else {
		tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_CH);
	}
	tcp_req_process(req);
	return 1;
}

static struct tcp_req *
h2c_find_req(struct tcp_qpair *qpair, const struct nvt_nvme_tcp_h2c_data *h2c, uint32_t *fei)
{
	struct tcp_req *req;

	req = tcp_qpair_req(qpair, h2c->ttag);
	if (req == NULL || req->state != TCP_REQ_STATE_TRANSFERRING_H2C) {
		*fei = offsetof(struct nvt_nvme_tcp_h2c_data, ttag);
		return NULL;
	}
	if (req->cmd.cmd.cid != h2c->cccid) {
		*fei = offsetof(struct nvt_nvme_tcp_h2c_data, cccid);
		return NULL;
	}
	return req;
}

static int
handle_h2c_data(struct tcp_qpair *qpair)
{
	const struct nvt_nvme_tcp_h2c_data *h2c = &qpair->rx_hdr.h2c_data;
	struct tcp_req *req;
	uint32_t fei = 0;

	req = h2c_find_req(qpair, h2c, &fei);
	if (req == NULL) {
		NVT_ERRLOG("qpair %u: H2CData for no transfer (cccid %u ttag %u)\n", qpair->id,
			   h2c->cccid, h2c->ttag);
		tcp_qpair_fatal_error(qpair, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD, fei);
		return -EPROTO;
	}
	if (h2c->datal != qpair->rx_check.data_len) {
		tcp_qpair_fatal_error(qpair, NVT_NVME_TCP_FES_INVALID_HEADER_FIELD,
				      offsetof(struct nvt_nvme_tcp_h2c_data, datal));
		return -EPROTO;
	}
	if (h2c->datao != req->h2c_offset || (uint64_t)h2c->datao + h2c->datal > req->base.length) {
		NVT_ERRLOG("qpair %u: H2CData out of range: datao %u datal %u, expected %u of %u\n",
			   qpair->id, h2c->datao, h2c->datal, req->h2c_offset, req->base.length);
		tcp_qpair_fatal_error(qpair, NVT_NVME_TCP_FES_DATA_OUT_OF_RANGE, 0);
		return -EPROTO;
	}
	start_payload(qpair, req, h2c->datao);
	return 1;
}

static int
try_handle_header(struct tcp_qpair *qpair)
{
	const struct nvt_nvme_tcp_common_hdr *ch = &qpair->rx_hdr.ch;
	uint32_t got;

	if (ch->flags & NVT_NVME_TCP_F_HDGSTF && !tcp_hdgst_ok(ch, ch->hlen, qpair->rx_hdgst)) {
		got = qpair->rx_hdgst;
		NVT_ERRLOG("qpair %u: header digest error on PDU type 0x%02x\n", qpair->id,
			   ch->type);
		tcp_qpair_fatal_error(qpair, NVT_NVME_TCP_FES_HEADER_DIGEST_ERROR, got);
		return -EPROTO;
	}
	qpair->group->stats.pdus_rx++;
	switch (ch->type) {
	case NVT_NVME_TCP_PDU_IC_REQ:
		return handle_icreq(qpair);
	case NVT_NVME_TCP_PDU_H2C_TERM_REQ:
		return handle_term_req(qpair);
	case NVT_NVME_TCP_PDU_CAPSULE_CMD:
		return handle_capsule(qpair);
	case NVT_NVME_TCP_PDU_H2C_DATA:
		return handle_h2c_data(qpair);
	default:
		/* Cannot happen: tcp_pdu_ch_check() let only these types through. */
		assert(false);
		return -EPROTO;
	}
}

/* Copy \p n payload bytes from the receive buffer into the request's data. */
static void
payload_copy(struct tcp_qpair *qpair, const uint8_t *src, uint32_t n)
{
	struct iovec iov[TCP_REQ_MAX_BUFS];
	int cnt = 0, i;

	if (qpair->params.ddgst) {
		qpair->rx_crc = nvt_crc32c_update(src, n, qpair->rx_crc);
	}
	if (qpair->rx_req == NULL) {
		return;
	}
	tcp_req_data_iov(qpair->rx_req, qpair->rx_data_off + qpair->rx_payload_got, n, iov, &cnt,
			 TCP_REQ_MAX_BUFS);
	for (i = 0; i < cnt; i++) {
		memcpy(iov[i].iov_base, src, iov[i].iov_len);
		src += iov[i].iov_len;
	}
}

/*
 * Read payload straight from the socket into the data buffers, and what
 * follows it into the (empty) receive buffer, in one recv: 1, 0, <0.
 */
static int
payload_direct(struct tcp_qpair *qpair, uint32_t len)
{
	struct iovec iov[TCP_REQ_MAX_BUFS + 1];
	int cnt = 0;
	uint32_t data;
	ssize_t n;

	tcp_req_data_iov(qpair->rx_req, qpair->rx_data_off + qpair->rx_payload_got, len, iov, &cnt,
			 TCP_REQ_MAX_BUFS);
	rx_use_group_buf(qpair);
	iov[cnt].iov_base = qpair->rxbuf;
	iov[cnt].iov_len = TCP_GROUP_RX_BUF_SIZE;
	n = nvt_sock_readv(qpair->sock, iov, cnt + 1);
	if (n == -EAGAIN) {
		return 0;
	}
	if (n <= 0) {
		return n == 0 ? -ECONNRESET : (int)n;
	}
	qpair->group->stats.bytes_rx += (uint64_t)n;
	data = (uint64_t)n < len ? (uint32_t)n : len;
	qpair->rx_tail = (uint32_t)n - data;
	if (qpair->params.ddgst) {
		cnt = 0;
		tcp_req_data_iov(qpair->rx_req, qpair->rx_data_off + qpair->rx_payload_got, data,
				 iov, &cnt, TCP_REQ_MAX_BUFS);
		qpair->rx_crc = nvt_crc32c_update_iov(iov, cnt, qpair->rx_crc);
	}
	qpair->rx_payload_got += data;
	return 1;
}

static int
recv_payload_data(struct tcp_qpair *qpair)
{
	uint32_t len = qpair->rx_check.data_len;
	uint32_t n;
	int rc;

	while (qpair->rx_payload_got < len) {
		n = len - qpair->rx_payload_got;
		if (rx_avail(qpair) == 0 && qpair->rx_req != NULL && n >= TCP_RX_DIRECT_MIN) {
			rc = payload_direct(qpair, n);
		} else {
			rc = rx_need(qpair);
			if (rc > 0) {
				n = n < rx_avail(qpair) ? n : rx_avail(qpair);
				payload_copy(qpair, qpair->rxbuf + qpair->rx_head, n);
				qpair->rx_head += n;
				qpair->rx_payload_got += n;
			}
		}
		if (rc <= 0) {
			return rc;
		}
	}
	return 1;
}

static int
recv_payload_digest(struct tcp_qpair *qpair)
{
	uint32_t end = qpair->rx_check.data_len + nvt_nvme_tcp_ddgst_len(&qpair->rx_hdr.ch);
	uint32_t pos, n;
	int rc;

	while (qpair->rx_payload_got < end) {
		rc = rx_need(qpair);
		if (rc <= 0) {
			return rc;
		}
		pos = qpair->rx_payload_got - qpair->rx_check.data_len;
		n = end - qpair->rx_payload_got;
		n = n < rx_avail(qpair) ? n : rx_avail(qpair);
		memcpy((uint8_t *)&qpair->rx_ddgst + pos, qpair->rxbuf + qpair->rx_head, n);
		qpair->rx_head += n;
		qpair->rx_payload_got += n;
	}
	return 1;
}

static void
payload_done(struct tcp_qpair *qpair)
{
	struct tcp_req *req = qpair->rx_req;
	bool bad = false;

	if (qpair->rx_hdr.ch.flags & NVT_NVME_TCP_F_DDGSTF) {
		bad = (qpair->rx_crc ^ NVT_CRC32C_XOR) != qpair->rx_ddgst;
	}
	tcp_pdu_recv_set_state(qpair, TCP_PDU_RECV_STATE_AWAIT_CH);
	if (req == NULL) {
		return;
	}
	if (bad) {
		/*
		 * The framing is intact (the header was checked), so only this command
		 * fails: it completes with Transient Transport Error, the host may retry.
		 */
		NVT_ERRLOG("qpair %u: data digest error, cid %u\n", qpair->id, req->cmd.cmd.cid);
		qpair->group->stats.ddgst_errors++;
		req->ddgst_error = true;
	}
	if (req->state == TCP_REQ_STATE_AWAIT_ICD) {
		tcp_req_data_done(req);
		return;
	}
	req->h2c_offset += qpair->rx_check.data_len;
	if (req->h2c_offset == req->base.length) {
		tcp_req_data_done(req);
		tcp_watch_h2c_done(qpair);
	}
}

static int
try_recv_payload(struct tcp_qpair *qpair)
{
	int rc;

	rc = recv_payload_data(qpair);
	if (rc <= 0) {
		return rc;
	}
	rc = recv_payload_digest(qpair);
	if (rc <= 0) {
		return rc;
	}
	payload_done(qpair);
	return 1;
}

/* One step of the receive machine: 1 progress, 0 would block or paused, <0 done. */
static int
try_recv_one(struct tcp_qpair *qpair)
{
	int rc;

	switch (qpair->recv_state) {
	case TCP_PDU_RECV_STATE_AWAIT_CH:
		return try_recv_ch(qpair);
	case TCP_PDU_RECV_STATE_AWAIT_PSH:
		rc = try_recv_psh(qpair);
		return rc <= 0 ? rc : try_handle_header(qpair);
	case TCP_PDU_RECV_STATE_AWAIT_REQ:
		return handle_capsule(qpair);
	case TCP_PDU_RECV_STATE_AWAIT_PAYLOAD:
		return try_recv_payload(qpair);
	case TCP_PDU_RECV_STATE_AWAIT_BUF:
	case TCP_PDU_RECV_STATE_ERROR:
		return 0;
	default:
		assert(false);
		return -EINVAL;
	}
}

/*
 * Receive as much as the budget allows. Returns the number of steps that
 * made progress, or <0 when the connection is finished (the caller
 * disconnects). When the budget ran out with bytes still buffered, a
 * message brings the qpair back (the socket may not look readable).
 */
int
tcp_qpair_recv(struct tcp_qpair *qpair)
{
	int rc = 0, done = 0;

	rx_begin(qpair);
	while (done < TCP_RECV_BUDGET) {
		rc = try_recv_one(qpair);
		if (rc <= 0) {
			break;
		}
		done++;
	}
	if (rx_end(qpair) != 0) {
		return -ENOMEM;
	}
	if (rc < 0) {
		return rc;
	}
	if (done == TCP_RECV_BUDGET && rx_avail(qpair) > 0) {
		tcp_qpair_kick_rx(qpair);
	}
	return done;
}

static void
rx_kick_msg(void *ctx)
{
	struct tcp_qpair *qpair = ctx;

	if (tcp_qpair_is_live(qpair) && qpair->sock != NULL) {
		tcp_qpair_rx_run(qpair);
	}
	tcp_qpair_put(qpair);
}

/*
 * Resume receiving from a message (never inside the caller's stack); one
 * already on its way does it. Only a thread that is exiting takes no
 * message: receiving then resumes with the socket's next readable callback.
 */
void
tcp_qpair_kick_rx(struct tcp_qpair *qpair)
{
	int rc;

	if (!tcp_qpair_is_live(qpair)) {
		return;
	}
	rc = nvt_thread_send_msg_prealloc(nvt_get_thread(), &qpair->kick_msg, rx_kick_msg, qpair);
	if (rc == 0) {
		tcp_qpair_get(qpair);
	} else if (rc != -EBUSY) {
		tcp_qpair_rx_resume_later(qpair);
	}
}
