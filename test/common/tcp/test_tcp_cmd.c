/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The raw NVMe/TCP host (test_tcp.h): commands, built from the PDUs of
 * test_tcp.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test_tcp.h"
#include "test_tcp_internal.h"

/* Largest TermReq: its header and the most of the offending header it may carry. */
#define TERM_REQ_PLEN_MAX \
	((uint32_t)sizeof(struct nvt_nvme_tcp_term_req) + NVT_NVME_TCP_TERM_REQ_MAX_DATA)

uint16_t
nvt_test_tcp_next_cid(struct nvt_test_conn *c)
{
	return ++c->cid;
}

void
nvt_test_tcp_sqe_rw(union nvt_nvme_sqe *sqe, uint8_t opc, uint16_t cid, uint32_t nsid, uint64_t lba,
		    uint32_t nblocks)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->cmd.opc = opc;
	sqe->cmd.cid = cid;
	sqe->cmd.nsid = nsid;
	sqe->cmd.cdw10 = (uint32_t)lba;
	sqe->cmd.cdw11 = (uint32_t)(lba >> 32);
	sqe->cmd.cdw12 = nblocks - 1;
}

void
nvt_test_tcp_sqe_sgl_icd(union nvt_nvme_sqe *sqe, uint32_t len)
{
	nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
	sqe->cmd.flags = 1u << NVT_NVME_CMD_PSDT_SHIFT;
}

void
nvt_test_tcp_sqe_sgl_transport(union nvt_nvme_sqe *sqe, uint32_t len)
{
	nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, len);
	sqe->cmd.flags = 1u << NVT_NVME_CMD_PSDT_SHIFT;
}

/* ---- connection set-up ---- */

int
nvt_test_tcp_icreq_send(struct nvt_test_conn *c, uint8_t hpda, bool hdgst, bool ddgst)
{
	struct nvt_nvme_tcp_ic_req req;

	nvt_test_tcp_icreq_init(&req, hpda, hdgst, ddgst);
	return nvt_test_tcp_send(c, &req, sizeof(req));
}

int
nvt_test_tcp_icresp_recv(struct nvt_test_conn *c)
{
	struct nvt_test_pdu p;
	const struct nvt_nvme_tcp_ic_resp *r = &p.h.ic_resp;
	int rc = nvt_test_tcp_recv_pdu(c, &p, NULL, 0);

	if (rc != 0) {
		return rc;
	}
	if (p.h.ch.type == NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
		return -ECONNABORTED;
	}
	if (p.h.ch.type != NVT_NVME_TCP_PDU_IC_RESP || r->pfv != NVT_NVME_TCP_PFV_1_0 ||
	    r->maxh2cdata < NVT_NVME_TCP_MAXH2CDATA_MIN || r->cpda > NVT_NVME_TCP_PDA_MAX) {
		return -EPROTO;
	}
	c->hdgst = (r->dgst & NVT_NVME_TCP_DGST_HDGST_ENABLE) != 0;
	c->ddgst = (r->dgst & NVT_NVME_TCP_DGST_DDGST_ENABLE) != 0;
	c->cpda = r->cpda;
	c->maxh2cdata = r->maxh2cdata;
	return 0;
}

int
nvt_test_tcp_icreq(struct nvt_test_conn *c, uint8_t hpda, bool hdgst, bool ddgst)
{
	int rc = nvt_test_tcp_icreq_send(c, hpda, hdgst, ddgst);

	return rc != 0 ? rc : nvt_test_tcp_icresp_recv(c);
}

/* ---- waiting for a command ---- */

/* One command being waited for, and what it moved so far. */
struct rsp_wait {
	uint16_t cid;
	void *rbuf;
	const void *wbuf;
	uint32_t len;
	/* C2HData bytes taken. */
	uint32_t got;
	int64_t deadline;
	struct nvt_nvme_cpl *cpl;
	/* The NVMe status once done. */
	int status;
};

/* Its C2HData: 1 when it carried SUCCESS (the command is done), 0 to go on, or -errno. */
static int
wait_take_c2h(struct nvt_test_conn *c, struct rsp_wait *w, const struct nvt_test_pdu *p)
{
	const struct nvt_nvme_tcp_c2h_data *c2h = &p->h.c2h_data;
	uint8_t flags = p->h.ch.flags;
	int rc;

	if (w->rbuf == NULL || c2h->datao > w->len || p->data_len > w->len - c2h->datao) {
		return -EPROTO;
	}
	rc = test_tcp_recv_data_until(c, p, (uint8_t *)w->rbuf + c2h->datao, w->deadline);
	if (rc != 0) {
		return rc;
	}
	w->got += p->data_len;
	if (!(flags & NVT_NVME_TCP_F_SUCCESS)) {
		return 0;
	}
	/* SUCCESS stands for the response: only on the last PDU, after all the data. */
	if (!(flags & NVT_NVME_TCP_F_LAST_PDU) || w->got != w->len) {
		return -EPROTO;
	}
	if (w->cpl != NULL) {
		memset(w->cpl, 0, sizeof(*w->cpl));
		w->cpl->cid = w->cid;
	}
	w->status = 0;
	return 1;
}

/* Its response capsule: 1 with the status. */
static int
wait_take_rsp(struct rsp_wait *w, const struct nvt_nvme_cpl *cqe)
{
	if (w->cpl != NULL) {
		*w->cpl = *cqe;
	}
	/* Without the phase bit, which says nothing over TCP. */
	w->status = cqe->status & 0xfffe;
	return 1;
}

/* The next PDU: 1 when the command is done (w->status), 0 to go on, or -errno. */
static int
wait_step(struct nvt_test_conn *c, struct rsp_wait *w)
{
	struct nvt_test_pdu p;
	int rc = test_tcp_recv_hdr_until(c, &p, w->deadline);

	if (rc != 0) {
		return rc;
	}
	switch (p.h.ch.type) {
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
		return p.h.capsule_resp.cqe.cid == w->cid ? wait_take_rsp(w, &p.h.capsule_resp.cqe)
							  : 0;
	case NVT_NVME_TCP_PDU_C2H_DATA:
		if (p.h.c2h_data.cccid == w->cid) {
			return wait_take_c2h(c, w, &p);
		}
		/* Another command's: read past it. */
		return test_tcp_recv_data_until(c, &p, NULL, w->deadline);
	case NVT_NVME_TCP_PDU_R2T:
		if (p.h.r2t.cccid != w->cid) {
			return 0;
		}
		return test_tcp_h2c_send_until(c, &p.h.r2t, w->wbuf, w->len, w->deadline);
	case NVT_NVME_TCP_PDU_C2H_TERM_REQ:
		return -ECONNABORTED;
	default:
		return -EPROTO;
	}
}

int
nvt_test_tcp_wait_rsp(struct nvt_test_conn *c, uint16_t cid, void *rbuf, const void *wbuf,
		      uint32_t len, struct nvt_nvme_cpl *cpl)
{
	struct rsp_wait w = {
		.cid = cid,
		.rbuf = rbuf,
		.wbuf = wbuf,
		.len = len,
		.deadline = test_tcp_deadline(c),
		.cpl = cpl,
	};
	int rc;

	do {
		rc = wait_step(c, &w);
	} while (rc == 0);
	return rc < 0 ? rc : w.status;
}

/* Send \p sqe (with \p len bytes in the capsule) and wait for its response. */
static int
cmd_run(struct nvt_test_conn *c, const union nvt_nvme_sqe *sqe, const void *icd, uint32_t len,
	unsigned int bad, struct nvt_nvme_cpl *cpl)
{
	int rc = nvt_test_tcp_capsule_send(c, sqe, icd, len, bad);

	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, sqe->cmd.cid, NULL, NULL, 0, cpl);
}

/* ---- Fabrics and admin commands ---- */

int
nvt_test_tcp_connect_send(struct nvt_test_conn *c, const struct nvt_test_connect_opts *o)
{
	struct nvt_nvmf_connect_data data;
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	memset(&data, 0, sizeof(data));
	sqe.connect.opc = NVT_NVME_OPC_FABRICS;
	sqe.connect.fctype = NVT_NVMF_FCTYPE_CONNECT;
	sqe.connect.cid = nvt_test_tcp_next_cid(c);
	sqe.connect.qid = o->qid;
	sqe.connect.sqsize = o->sqsize;
	sqe.connect.kato = o->kato_ms;
	nvt_test_tcp_sqe_sgl_icd(&sqe, sizeof(data));
	data.cntlid = o->qid != 0 ? o->cntlid : NVT_NVMF_CNTLID_DYNAMIC;
	if (o->hostid != NULL) {
		memcpy(data.hostid, o->hostid, sizeof(data.hostid));
	}
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", o->subnqn);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", o->hostnqn);
	c->qid = o->qid;
	c->cntlid = o->qid != 0 ? o->cntlid : 0;
	return nvt_test_tcp_capsule_send(c, &sqe, &data, sizeof(data), 0);
}

int
nvt_test_tcp_connect_wait(struct nvt_test_conn *c, uint16_t cid)
{
	struct nvt_nvme_cpl cpl;
	int st = nvt_test_tcp_wait_rsp(c, cid, NULL, NULL, 0, &cpl);

	if (st == 0 && c->qid == 0) {
		c->cntlid = nvt_nvmf_connect_rsp_cntlid(&cpl);
	}
	return st;
}

int
nvt_test_tcp_fabrics_connect(struct nvt_test_conn *c, const struct nvt_test_connect_opts *o)
{
	int rc = nvt_test_tcp_connect_send(c, o);

	return rc != 0 ? rc : nvt_test_tcp_connect_wait(c, c->cid);
}

int
nvt_test_tcp_enable_ctrlr(struct nvt_test_conn *c)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.prop_set.opc = NVT_NVME_OPC_FABRICS;
	sqe.prop_set.fctype = NVT_NVMF_FCTYPE_PROPERTY_SET;
	sqe.prop_set.cid = nvt_test_tcp_next_cid(c);
	sqe.prop_set.attrib = NVT_NVMF_PROP_SIZE_4;
	sqe.prop_set.ofst = NVT_NVME_PROP_CC;
	sqe.prop_set.value = NVT_NVME_CC_EN | (6u << NVT_NVME_CC_IOSQES_SHIFT) |
			     (4u << NVT_NVME_CC_IOCQES_SHIFT);
	return cmd_run(c, &sqe, NULL, 0, 0, NULL);
}

int
nvt_test_tcp_keep_alive(struct nvt_test_conn *c)
{
	union nvt_nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_KEEP_ALIVE;
	sqe.cmd.cid = nvt_test_tcp_next_cid(c);
	return cmd_run(c, &sqe, NULL, 0, 0, NULL);
}

/* ---- I/O ---- */

int
nvt_test_tcp_read(struct nvt_test_conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks,
		  uint32_t block_size, void *buf)
{
	uint32_t len = nblocks * block_size;
	union nvt_nvme_sqe sqe;
	int rc;

	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_READ, nvt_test_tcp_next_cid(c), nsid, lba, nblocks);
	nvt_test_tcp_sqe_sgl_transport(&sqe, len);
	rc = nvt_test_tcp_capsule_send(c, &sqe, NULL, 0, 0);
	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, sqe.cmd.cid, buf, NULL, len, NULL);
}

int
nvt_test_tcp_write_icd(struct nvt_test_conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks,
		       uint32_t block_size, const void *buf, bool bad_ddgst)
{
	uint32_t len = nblocks * block_size;
	union nvt_nvme_sqe sqe;

	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_WRITE, nvt_test_tcp_next_cid(c), nsid, lba, nblocks);
	nvt_test_tcp_sqe_sgl_icd(&sqe, len);
	return cmd_run(c, &sqe, buf, len, bad_ddgst ? NVT_TEST_TCP_BAD_DDGST : 0, NULL);
}

int
nvt_test_tcp_write(struct nvt_test_conn *c, uint32_t nsid, uint64_t lba, uint32_t nblocks,
		   uint32_t block_size, const void *buf)
{
	uint32_t len = nblocks * block_size;
	union nvt_nvme_sqe sqe;
	int rc;

	nvt_test_tcp_sqe_rw(&sqe, NVT_NVME_OPC_WRITE, nvt_test_tcp_next_cid(c), nsid, lba, nblocks);
	nvt_test_tcp_sqe_sgl_transport(&sqe, len);
	rc = nvt_test_tcp_capsule_send(c, &sqe, NULL, 0, 0);
	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, sqe.cmd.cid, NULL, buf, len, NULL);
}

int
nvt_test_tcp_cmd(struct nvt_test_conn *c, union nvt_nvme_sqe *sqe, void *rbuf, const void *wbuf,
		 uint32_t len, struct nvt_nvme_cpl *cpl)
{
	int rc;

	sqe->cmd.cid = nvt_test_tcp_next_cid(c);
	if (len > 0) {
		nvt_test_tcp_sqe_sgl_transport(sqe, len);
	} else {
		nvt_test_tcp_sqe_sgl_icd(sqe, 0);
	}
	rc = nvt_test_tcp_capsule_send(c, sqe, NULL, 0, 0);
	return rc != 0 ? rc
		       : nvt_test_tcp_wait_rsp(c, sqe->cmd.cid, rbuf, rbuf == NULL ? wbuf : NULL,
					       len, cpl);
}

/* ---- fatal errors ---- */

int
nvt_test_tcp_expect_term(struct nvt_test_conn *c, uint16_t fes, uint32_t fei,
			 struct nvt_test_pdu *p)
{
	const struct nvt_nvme_tcp_term_req *t = &p->h.term_req;
	int rc = nvt_test_tcp_recv_pdu(c, p, NULL, 0);

	if (rc != 0) {
		return rc;
	}
	if (p->h.ch.type != NVT_NVME_TCP_PDU_C2H_TERM_REQ) {
		return -ENOMSG;
	}
	/* hlen was checked on receipt (that of a TermReq). */
	if (t->fes != fes || (fei != UINT32_MAX && nvt_nvme_tcp_term_req_fei(t) != fei) ||
	    p->h.ch.plen > TERM_REQ_PLEN_MAX) {
		return -EPROTO;
	}
	return nvt_test_tcp_expect_closed(c);
}
