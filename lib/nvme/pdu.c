/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building and checking NVMe/TCP PDU headers. Pure functions: no socket, no
 * queue state, so the unit tests can drive them directly.
 */
#include <errno.h>
#include <string.h>

#include "nvtcp/crc32c.h"
#include "nvme_internal.h"

void
nvme_pdu_build_icreq(struct nvt_nvme_tcp_ic_req *icreq, bool hdgst, bool ddgst)
{
	memset(icreq, 0, sizeof(*icreq));
	icreq->ch.type = NVT_NVME_TCP_PDU_IC_REQ;
	icreq->ch.hlen = sizeof(*icreq);
	icreq->ch.plen = sizeof(*icreq);
	icreq->pfv = NVT_NVME_TCP_PFV_1_0;
	icreq->hpda = 0;
	icreq->maxr2t = 0;
	icreq->dgst = (hdgst ? NVT_NVME_TCP_DGST_HDGST_ENABLE : 0) |
		      (ddgst ? NVT_NVME_TCP_DGST_DDGST_ENABLE : 0);
}

int
nvme_pdu_check_icresp(const struct nvt_nvme_tcp_ic_resp *resp, bool hdgst, bool ddgst)
{
	uint8_t asked = (hdgst ? NVT_NVME_TCP_DGST_HDGST_ENABLE : 0) |
			(ddgst ? NVT_NVME_TCP_DGST_DDGST_ENABLE : 0);

	if (resp->ch.type != NVT_NVME_TCP_PDU_IC_RESP || resp->ch.hlen != sizeof(*resp) ||
	    resp->ch.plen != sizeof(*resp)) {
		return -EPROTO;
	}
	if (resp->pfv != NVT_NVME_TCP_PFV_1_0 || resp->cpda > NVT_NVME_TCP_PDA_MAX) {
		return -EPROTO;
	}
	if (resp->maxh2cdata < NVT_NVME_TCP_MAXH2CDATA_MIN || (resp->maxh2cdata & 3) != 0) {
		return -EPROTO;
	}
	/* The controller may decline a digest but never enable one we did not ask for. */
	if ((resp->dgst & ~asked) != 0) {
		return -EPROTO;
	}
	return 0;
}

static void
pdu_set_hdgst(union nvt_nvme_tcp_pdu_hdr *hdr)
{
	uint32_t crc = nvt_crc32c(hdr, hdr->ch.hlen);

	memcpy(hdr->raw + hdr->ch.hlen, &crc, sizeof(crc));
}

/* Header bytes on the wire: header, digest, zero padding up to pdo when there is data. */
static uint32_t
pdu_finish_hdr(union nvt_nvme_tcp_pdu_hdr *hdr, uint32_t datal, bool hdgst, bool ddgst,
	       uint8_t cpda)
{
	uint32_t hd = hdgst ? NVT_NVME_TCP_DIGEST_LEN : 0;
	uint32_t end = hdr->ch.hlen + hd;

	if (hdgst) {
		hdr->ch.flags |= NVT_NVME_TCP_F_HDGSTF;
	}
	if (datal == 0) {
		hdr->ch.pdo = 0;
		hdr->ch.plen = end;
	} else {
		hdr->ch.pdo = nvt_nvme_tcp_pdo(hdr->ch.hlen, hdgst, cpda);
		if (ddgst) {
			hdr->ch.flags |= NVT_NVME_TCP_F_DDGSTF;
		}
		hdr->ch.plen = hdr->ch.pdo + datal + (ddgst ? NVT_NVME_TCP_DIGEST_LEN : 0);
		end = hdr->ch.pdo;
	}
	if (hdgst) {
		pdu_set_hdgst(hdr);
	}
	return end;
}

uint32_t
nvme_pdu_build_capsule(union nvt_nvme_tcp_pdu_hdr *hdr, const struct nvt_nvme_cmd *cmd,
		       uint32_t icd_len, bool hdgst, bool ddgst, uint8_t cpda)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->ch.type = NVT_NVME_TCP_PDU_CAPSULE_CMD;
	hdr->ch.hlen = sizeof(struct nvt_nvme_tcp_capsule_cmd);
	memcpy(&hdr->capsule_cmd.sqe, cmd, sizeof(*cmd));
	return pdu_finish_hdr(hdr, icd_len, hdgst, ddgst, cpda);
}

uint32_t
nvme_pdu_build_h2c(union nvt_nvme_tcp_pdu_hdr *hdr, uint16_t cid, uint16_t ttag, uint32_t datao,
		   uint32_t datal, bool last, bool hdgst, bool ddgst, uint8_t cpda)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->ch.type = NVT_NVME_TCP_PDU_H2C_DATA;
	hdr->ch.hlen = sizeof(struct nvt_nvme_tcp_h2c_data);
	hdr->ch.flags = last ? NVT_NVME_TCP_F_LAST_PDU : 0;
	hdr->h2c_data.cccid = cid;
	hdr->h2c_data.ttag = ttag;
	hdr->h2c_data.datao = datao;
	hdr->h2c_data.datal = datal;
	return pdu_finish_hdr(hdr, datal, hdgst, ddgst, cpda);
}

bool
nvme_pdu_hdgst_ok(const union nvt_nvme_tcp_pdu_hdr *hdr)
{
	uint32_t got;

	memcpy(&got, hdr->raw + hdr->ch.hlen, sizeof(got));
	return got == nvt_crc32c(hdr, hdr->ch.hlen);
}

int
nvme_pdu_check_rx_hdr(const struct nvt_nvme_tcp_common_hdr *ch, bool hdgst, bool ddgst)
{
	uint8_t hlen = nvt_nvme_tcp_pdu_hlen(ch->type);
	uint32_t hd;

	if (hlen == 0 || ch->hlen != hlen) {
		return -EPROTO;
	}
	if (nvt_nvme_tcp_pdu_type_has_digests(ch->type)) {
		/* A negotiated digest is carried by every PDU that may have one. */
		if (hdgst != ((ch->flags & NVT_NVME_TCP_F_HDGSTF) != 0)) {
			return -EPROTO;
		}
		if (!ddgst && (ch->flags & NVT_NVME_TCP_F_DDGSTF) != 0) {
			return -EPROTO;
		}
	}
	hd = nvt_nvme_tcp_hdgst_len(ch);
	if (ch->plen < (uint32_t)ch->hlen + hd) {
		return -EPROTO;
	}
	if (ch->pdo != 0 && (ch->pdo < ch->hlen + hd || ch->plen < ch->pdo)) {
		return -EPROTO;
	}
	return 0;
}
