/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host PDUs for the harnesses, and the check of the target's PDUs: the
 * header length of the type, lengths and offsets that add up, digests
 * exactly when negotiated and correct, data aligned to the host's HPDA,
 * an ICResp first and nothing after a C2HTermReq.
 */
#include <stdlib.h>
#include <string.h>

#include "nvtcp/crc32c.h"

#include "fuzz_pdu.h"

/* Larger than any PDU the target may send (128 KiB of data and headers). */
#define FUZZ_PDU_MAX (1u << 20)
#define DGST	     NVT_NVME_TCP_DIGEST_LEN

/* ---- reading ---- */

/* The CRC32C of \p len bytes at \p buf is the digest that follows them. */
static void
check_digest(const uint8_t *buf, uint32_t len, const char *what)
{
	uint32_t want = nvt_crc32c(buf, len), got;

	memcpy(&got, buf + len, sizeof(got));
	if (got != want) {
		fuzz_env_fail("the target sent a PDU with a bad %s digest (%08x, not %08x)", what,
			      got, want);
	}
}

/* Digest flags of a PDU of a type that carries digests: exactly as negotiated. */
static void
check_digest_flags(const struct fuzz_pdu_state *st, const struct nvt_nvme_tcp_common_hdr *ch,
		   bool has_data)
{
	bool hd = (ch->flags & NVT_NVME_TCP_F_HDGSTF) != 0;
	bool dd = (ch->flags & NVT_NVME_TCP_F_DDGSTF) != 0;

	if (hd != st->hdgst || dd != (st->ddgst && has_data)) {
		fuzz_env_fail("the target sent PDU type %u with digest flags %#x (negotiated: "
			      "header %d, data %d)",
			      ch->type, ch->flags & 3u, st->hdgst, st->ddgst);
	}
}

/* The data of a C2HData PDU: where it starts and how long it is. */
static void
check_c2h_data(const struct fuzz_pdu_state *st, const union nvt_nvme_tcp_pdu_hdr *hdr,
	       const uint8_t *buf, uint32_t *off, uint32_t *len)
{
	const struct nvt_nvme_tcp_c2h_data *c2h = &hdr->c2h_data;
	uint32_t hd = st->hdgst ? DGST : 0, dd = st->ddgst ? DGST : 0;

	check_digest_flags(st, &c2h->ch, true);
	if (c2h->ch.pdo < c2h->ch.hlen + hd || c2h->datal == 0 ||
	    c2h->ch.plen != (uint32_t)c2h->ch.pdo + c2h->datal + dd) {
		fuzz_env_fail("the target sent C2HData with pdo %u, datal %u, plen %u", c2h->ch.pdo,
			      c2h->datal, c2h->ch.plen);
	}
	if (st->hpda_known && c2h->ch.pdo % nvt_nvme_tcp_pda_bytes(st->hpda) != 0) {
		fuzz_env_fail("the target sent C2HData at pdo %u, the host asked HPDA %u",
			      c2h->ch.pdo, st->hpda);
	}
	if ((c2h->ch.flags & NVT_NVME_TCP_F_SUCCESS) &&
	    !(c2h->ch.flags & NVT_NVME_TCP_F_LAST_PDU)) {
		fuzz_env_fail("the target sent C2HData with SUCCESS but not LAST_PDU");
	}
	if (dd != 0) {
		check_digest(buf + c2h->ch.pdo, c2h->datal, "data");
	}
	*off = c2h->ch.pdo;
	*len = c2h->datal;
}

static void
check_icresp(struct fuzz_pdu_state *st, const struct nvt_nvme_tcp_ic_resp *icresp)
{
	if (st->ic_done || icresp->ch.plen != icresp->ch.hlen) {
		fuzz_env_fail("the target sent a second ICResp, or one of plen %u",
			      icresp->ch.plen);
	}
	st->ic_done = true;
	st->hdgst = (icresp->dgst & NVT_NVME_TCP_DGST_HDGST_ENABLE) != 0;
	st->ddgst = (icresp->dgst & NVT_NVME_TCP_DGST_DDGST_ENABLE) != 0;
	st->maxh2cdata = icresp->maxh2cdata;
	if (st->maxh2cdata < NVT_NVME_TCP_MAXH2CDATA_MIN) {
		fuzz_env_fail("the target's ICResp offers MAXH2CDATA %u", st->maxh2cdata);
	}
}

/*
 * Check a whole PDU: its header \p hdr (an aligned copy) and all its bytes
 * at \p buf; its data is at [*off, *off + *len) of \p buf.
 */
static void
check_pdu(struct fuzz_pdu_state *st, const union nvt_nvme_tcp_pdu_hdr *hdr, const uint8_t *buf,
	  uint32_t *off, uint32_t *len)
{
	const struct nvt_nvme_tcp_common_hdr *ch = &hdr->ch;
	uint32_t hd = st->hdgst ? DGST : 0;

	if (st->term) {
		/* CID at the same place in a response (CQE), an R2T and C2H data. */
		fuzz_env_fail("the target sent PDU type %u (CID %u) after its C2HTermReq", ch->type,
			      ch->type == NVT_NVME_TCP_PDU_CAPSULE_RESP ? hdr->capsule_resp.cqe.cid
									: hdr->r2t.cccid);
	}
	*off = ch->hlen;
	*len = 0;
	switch (ch->type) {
	case NVT_NVME_TCP_PDU_IC_RESP:
		check_icresp(st, &hdr->ic_resp);
		return;
	case NVT_NVME_TCP_PDU_C2H_TERM_REQ:
		if (ch->plen > ch->hlen + NVT_NVME_TCP_TERM_REQ_MAX_DATA) {
			fuzz_env_fail("the target sent a C2HTermReq of %u bytes", ch->plen);
		}
		st->term = true;
		*len = ch->plen - ch->hlen;
		return;
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
	case NVT_NVME_TCP_PDU_R2T:
		check_digest_flags(st, ch, false);
		if (ch->pdo != 0 || ch->plen != ch->hlen + hd) {
			fuzz_env_fail("the target sent PDU type %u with pdo %u, plen %u", ch->type,
				      ch->pdo, ch->plen);
		}
		break;
	case NVT_NVME_TCP_PDU_C2H_DATA:
		check_c2h_data(st, hdr, buf, off, len);
		break;
	default:
		fuzz_env_fail("the target sent a PDU of type %#x", ch->type);
	}
	if (hd != 0) {
		check_digest(buf, ch->hlen, "header");
	}
}

/* Check the common header of the next PDU; \return its plen. */
static uint32_t
check_ch(const struct fuzz_pdu_state *st, const struct nvt_nvme_tcp_common_hdr *ch)
{
	if (!st->ic_done && ch->type != NVT_NVME_TCP_PDU_IC_RESP &&
	    ch->type != NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
		fuzz_env_fail("the target sent PDU type %u before its ICResp", ch->type);
	}
	if (ch->hlen != nvt_nvme_tcp_pdu_hlen(ch->type) || ch->plen < ch->hlen ||
	    ch->plen > FUZZ_PDU_MAX) {
		fuzz_env_fail("the target sent PDU type %u with hlen %u, plen %u", ch->type,
			      ch->hlen, ch->plen);
	}
	return ch->plen;
}

void
fuzz_pdu_read(struct fuzz_conn *conn, struct fuzz_pdu_state *st, fuzz_pdu_cb cb, void *ctx)
{
	union nvt_nvme_tcp_pdu_hdr hdr;
	uint32_t plen, off, len;
	const uint8_t *buf;

	while (conn->out_len - conn->out_off >= sizeof(hdr.ch)) {
		/* The stream has no alignment: the header is read from a copy. */
		buf = conn->out + conn->out_off;
		memset(&hdr, 0, sizeof(hdr));
		memcpy(&hdr.ch, buf, sizeof(hdr.ch));
		plen = check_ch(st, &hdr.ch);
		if (conn->out_len - conn->out_off < plen) {
			return;
		}
		memcpy(&hdr, buf, hdr.ch.hlen);
		check_pdu(st, &hdr, buf, &off, &len);
		conn->out_off += plen;
		if (cb != NULL) {
			cb(ctx, &hdr, buf + off, len);
		}
	}
}

/* ---- writing ---- */

void
fuzz_pdu_push_icreq(struct fuzz_conn *conn, struct fuzz_pdu_state *st, bool hdgst, bool ddgst,
		    uint8_t hpda)
{
	struct nvt_nvme_tcp_ic_req req;

	memset(&req, 0, sizeof(req));
	req.ch.type = NVT_NVME_TCP_PDU_IC_REQ;
	req.ch.hlen = sizeof(req);
	req.ch.plen = sizeof(req);
	req.pfv = NVT_NVME_TCP_PFV_1_0;
	req.hpda = hpda;
	req.dgst = (uint8_t)((hdgst ? NVT_NVME_TCP_DGST_HDGST_ENABLE : 0) |
			     (ddgst ? NVT_NVME_TCP_DGST_DDGST_ENABLE : 0));
	st->hpda_known = true;
	st->hpda = hpda;
	fuzz_conn_push(conn, &req, sizeof(req));
}

/*
 * A PDU with \p hlen bytes of header at \p hdr and \p len bytes of data:
 * header digest, padding to the controller's alignment (CPDA 0: none), data
 * and data digest as negotiated.
 */
static void
push_pdu(struct fuzz_conn *conn, const struct fuzz_pdu_state *st, void *hdr, uint8_t hlen,
	 const void *data, uint32_t len, bool bad_ddgst)
{
	struct nvt_nvme_tcp_common_hdr *ch = hdr;
	uint32_t hd = st->hdgst ? DGST : 0, dd = st->ddgst && len > 0 ? DGST : 0, d;

	ch->hlen = hlen;
	ch->flags |= (uint8_t)((hd ? NVT_NVME_TCP_F_HDGSTF : 0) | (dd ? NVT_NVME_TCP_F_DDGSTF : 0));
	ch->pdo = len > 0 ? (uint8_t)(hlen + hd) : 0;
	ch->plen = hlen + hd + len + dd;
	fuzz_conn_push(conn, hdr, hlen);
	if (hd != 0) {
		d = nvt_crc32c(hdr, hlen);
		fuzz_conn_push(conn, &d, sizeof(d));
	}
	if (len > 0) {
		fuzz_conn_push(conn, data, len);
	}
	if (dd != 0) {
		d = nvt_crc32c(data, len) ^ (bad_ddgst ? 1u : 0u);
		fuzz_conn_push(conn, &d, sizeof(d));
	}
}

void
fuzz_pdu_push_capsule(struct fuzz_conn *conn, const struct fuzz_pdu_state *st,
		      const union nvt_nvme_sqe *sqe, const void *data, uint32_t len, bool bad_ddgst)
{
	struct nvt_nvme_tcp_capsule_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.ch.type = NVT_NVME_TCP_PDU_CAPSULE_CMD;
	cmd.sqe = *sqe;
	push_pdu(conn, st, &cmd, sizeof(cmd), data, len, bad_ddgst);
}

void
fuzz_pdu_push_h2c(struct fuzz_conn *conn, const struct fuzz_pdu_state *st, uint16_t cccid,
		  uint16_t ttag, uint32_t datao, const void *data, uint32_t len, bool last)
{
	struct nvt_nvme_tcp_h2c_data h2c;

	memset(&h2c, 0, sizeof(h2c));
	h2c.ch.type = NVT_NVME_TCP_PDU_H2C_DATA;
	h2c.ch.flags = last ? NVT_NVME_TCP_F_LAST_PDU : 0;
	h2c.cccid = cccid;
	h2c.ttag = ttag;
	h2c.datao = datao;
	h2c.datal = len;
	push_pdu(conn, st, &h2c, sizeof(h2c), data, len, false);
}
