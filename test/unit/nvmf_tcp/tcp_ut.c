/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the NVMe/TCP transport: PDU header validation, digests,
 * ICReq negotiation, SGL parsing and the request state machine.
 */
#include "tcp_ut_env.h"

/* ---- helpers ---- */

static struct tcp_conn_params
running_params(bool hdgst, bool ddgst)
{
	struct tcp_conn_params p = {
		.ic_done = true,
		.hdgst = hdgst,
		.ddgst = ddgst,
		.max_icd = 8192,
		.maxh2cdata = 131072,
	};
	return p;
}

static struct nvt_nvme_tcp_common_hdr
mkch(uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen)
{
	struct nvt_nvme_tcp_common_hdr ch = { type, flags, hlen, pdo, plen };
	return ch;
}

struct ch_case {
	const char *name;
	bool ic_done, hdgst, ddgst;
	struct nvt_nvme_tcp_common_hdr ch;
	int rc;
	uint16_t fes;
	uint32_t fei;
	uint32_t data_len;
};

#define HF  NVT_NVME_TCP_FES_INVALID_HEADER_FIELD
#define F_H NVT_NVME_TCP_F_HDGSTF
#define F_D NVT_NVME_TCP_F_DDGSTF

static void
test_ch_table(void **state)
{
	const struct ch_case cases[] = {
		{ "icreq ok", false, 0, 0, mkch(0, 0, 128, 0, 128), 0, 0, 0, 0 },
		{ "icreq plen", false, 0, 0, mkch(0, 0, 128, 0, 132), -EPROTO, HF, 4, 0 },
		{ "icreq hlen", false, 0, 0, mkch(0, 0, 72, 0, 128), -EPROTO, HF, 2, 0 },
		{ "icreq pdo", false, 0, 0, mkch(0, 0, 128, 8, 128), -EPROTO, HF, 3, 0 },
		{ "icreq flags", false, 0, 0, mkch(0, 1, 128, 0, 128), -EPROTO, HF, 1, 0 },
		{ "icreq twice", true, 0, 0, mkch(0, 0, 128, 0, 128), -EPROTO,
		  NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0, 0 },
		{ "capsule before ic", false, 0, 0, mkch(4, 0, 72, 0, 72), -EPROTO,
		  NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0, 0 },
		{ "h2c before ic", false, 0, 0, mkch(6, 0, 24, 24, 28), -EPROTO,
		  NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0, 0 },
		{ "unknown type", true, 0, 0, mkch(0x0a, 0, 24, 0, 24), -EPROTO, HF, 0, 0 },
		{ "type 8", true, 0, 0, mkch(0x08, 0, 24, 0, 24), -EPROTO, HF, 0, 0 },
		{ "c2h type from host", true, 0, 0, mkch(7, 0, 24, 0, 24), -EPROTO, HF, 0, 0 },
		{ "icresp from host", true, 0, 0, mkch(1, 0, 128, 0, 128), -EPROTO, HF, 0, 0 },
		{ "r2t from host", true, 0, 0, mkch(9, 0, 24, 0, 24), -EPROTO, HF, 0, 0 },
		{ "capsule ok", true, 0, 0, mkch(4, 0, 72, 0, 72), 0, 0, 0, 0 },
		{ "capsule icd", true, 0, 0, mkch(4, 0, 72, 72, 72 + 4096), 0, 0, 0, 4096 },
		{ "capsule hlen", true, 0, 0, mkch(4, 0, 24, 0, 72), -EPROTO, HF, 2, 0 },
		{ "capsule plen short", true, 0, 0, mkch(4, 0, 72, 0, 64), -EPROTO, HF, 4, 0 },
		{ "capsule pdo inside hdr", true, 0, 0, mkch(4, 0, 72, 40, 72 + 512), -EPROTO, HF,
		  3, 0 },
		{ "capsule pdo no data", true, 0, 0, mkch(4, 0, 72, 72, 72), -EPROTO, HF, 3, 0 },
		{ "capsule pdo beyond", true, 0, 0, mkch(4, 0, 72, 200, 100), -EPROTO, HF, 3, 0 },
		{ "capsule data no pdo", true, 0, 0, mkch(4, 0, 72, 0, 72 + 512), -EPROTO, HF, 3,
		  0 },
		{ "capsule icd too big", true, 0, 0, mkch(4, 0, 72, 72, 72 + 8193), -EPROTO,
		  NVT_NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0, 0 },
		{ "capsule hdgst ok", true, 1, 0, mkch(4, F_H, 72, 0, 76), 0, 0, 0, 0 },
		{ "capsule hdgst missing", true, 1, 0, mkch(4, 0, 72, 0, 72), -EPROTO, HF, 1, 0 },
		{ "capsule hdgst unexpected", true, 0, 0, mkch(4, F_H, 72, 0, 76), -EPROTO, HF, 1,
		  0 },
		{ "capsule ddgst", true, 1, 1, mkch(4, F_H | F_D, 72, 76, 76 + 512 + 4), 0, 0, 0,
		  512 },
		{ "capsule ddgst missing", true, 1, 1, mkch(4, F_H, 72, 76, 76 + 512), -EPROTO, HF,
		  1, 0 },
		{ "capsule ddgst unexpected", true, 0, 0, mkch(4, F_D, 72, 72, 72 + 516), -EPROTO,
		  HF, 1, 0 },
		{ "capsule last flag", true, 0, 0, mkch(4, 4, 72, 0, 72), -EPROTO, HF, 1, 0 },
		{ "h2c ok", true, 0, 0, mkch(6, 4, 24, 24, 24 + 4096), 0, 0, 0, 4096 },
		{ "h2c no data", true, 0, 0, mkch(6, 0, 24, 0, 24), -EPROTO, HF, 4, 0 },
		{ "h2c hlen", true, 0, 0, mkch(6, 0, 72, 72, 100), -EPROTO, HF, 2, 0 },
		{ "h2c too big", true, 0, 0, mkch(6, 0, 24, 24, 24 + 131073), -EPROTO,
		  NVT_NVME_TCP_FES_DATA_LIMIT_EXCEEDED, 0, 0 },
		{ "h2c success flag", true, 0, 0, mkch(6, 8, 24, 24, 28), -EPROTO, HF, 1, 0 },
		{ "term ok", true, 0, 0, mkch(2, 0, 24, 0, 24 + 72), 0, 0, 0, 0 },
		{ "term before ic", false, 0, 0, mkch(2, 0, 24, 0, 24), 0, 0, 0, 0 },
		{ "term too long", true, 0, 0, mkch(2, 0, 24, 0, 24 + 129), -ECONNRESET, 0, 0, 0 },
		{ "term hlen", true, 0, 0, mkch(2, 0, 8, 0, 24), -ECONNRESET, 0, 0, 0 },
	};
	struct tcp_pdu_check chk;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcp_conn_params p = running_params(cases[i].hdgst, cases[i].ddgst);

		p.ic_done = cases[i].ic_done;
		rc = tcp_pdu_ch_check(&p, &cases[i].ch, &chk);
		if (rc != cases[i].rc ||
		    (rc == -EPROTO && (chk.fes != cases[i].fes || chk.fei != cases[i].fei)) ||
		    (rc == 0 && chk.data_len != cases[i].data_len)) {
			fail_msg("case '%s': rc %d fes %u fei %u data %u", cases[i].name, rc,
				 chk.fes, chk.fei, chk.data_len);
		}
	}
}

static void
test_pdo_alignment(void **state)
{
	struct tcp_conn_params p = running_params(false, false);
	struct nvt_nvme_tcp_common_hdr ch = mkch(4, 0, 72, 76, 76 + 512);
	struct tcp_pdu_check chk;

	(void)state;
	/* cpda 0: dword alignment; pdo 76 is fine, padding of 4 bytes */
	assert_int_equal(tcp_pdu_ch_check(&p, &ch, &chk), 0);
	assert_int_equal(chk.pad_len, 4);
	assert_int_equal(chk.psh_len, 64);
	ch.pdo = 74;
	assert_int_equal(tcp_pdu_ch_check(&p, &ch, &chk), -EPROTO);
	assert_int_equal(chk.fei, 3);
}

static void
test_digest(void **state)
{
	static const char s[] = "123456789";
	uint8_t hdr[72] = { 4, 1, 72, 0, 76 };
	uint32_t d;

	(void)state;
	assert_int_equal(tcp_hdgst_calc(s, 9), 0xe3069283u);
	d = tcp_hdgst_calc(hdr, sizeof(hdr));
	assert_true(tcp_hdgst_ok(hdr, sizeof(hdr), d));
	hdr[10] ^= 1;
	assert_false(tcp_hdgst_ok(hdr, sizeof(hdr), d));
}

static void
test_icreq(void **state)
{
	struct tcp_opts opts = { .maxh2cdata = 131072,
				 .hdgst_allowed = true,
				 .ddgst_allowed = true };
	struct nvt_nvme_tcp_ic_req icreq;
	struct nvt_nvme_tcp_ic_resp icresp;
	struct tcp_conn_params p;
	uint32_t fei = 0;

	(void)state;
	memset(&icreq, 0, sizeof(icreq));
	memset(&p, 0, sizeof(p));
	icreq.hpda = 3;
	icreq.dgst = NVT_NVME_TCP_DGST_HDGST_ENABLE | NVT_NVME_TCP_DGST_DDGST_ENABLE;
	assert_int_equal(tcp_icreq_negotiate(&opts, &icreq, &p, &icresp, &fei), 0);
	assert_true(p.ic_done && p.hdgst && p.ddgst);
	assert_int_equal(p.hpda, 3);
	assert_int_equal(icresp.ch.type, NVT_NVME_TCP_PDU_IC_RESP);
	assert_int_equal(icresp.ch.hlen, 128);
	assert_int_equal(icresp.ch.plen, 128);
	assert_int_equal(icresp.cpda, 0);
	assert_int_equal(icresp.pfv, 0);
	assert_int_equal(icresp.dgst, 3);
	assert_true(icresp.maxh2cdata >= NVT_NVME_TCP_MAXH2CDATA_MIN);

	opts.ddgst_allowed = false;
	memset(&p, 0, sizeof(p));
	assert_int_equal(tcp_icreq_negotiate(&opts, &icreq, &p, &icresp, &fei), 0);
	assert_int_equal(icresp.dgst, NVT_NVME_TCP_DGST_HDGST_ENABLE);
	assert_false(p.ddgst);

	icreq.dgst = 0;
	assert_int_equal(tcp_icreq_negotiate(&opts, &icreq, &p, &icresp, &fei), 0);
	assert_int_equal(icresp.dgst, 0);

	icreq.pfv = 1;
	assert_int_equal(tcp_icreq_negotiate(&opts, &icreq, &p, &icresp, &fei), -EPROTO);
	assert_int_equal(fei, 8);
	icreq.pfv = 0;
	icreq.hpda = 32;
	assert_int_equal(tcp_icreq_negotiate(&opts, &icreq, &p, &icresp, &fei), -EPROTO);
	assert_int_equal(fei, 10);
}

static void
test_term_req_build(void **state)
{
	struct nvt_nvme_tcp_term_req term;

	(void)state;
	assert_int_equal(tcp_build_term_req(&term, HF, 3, 72), 72);
	assert_int_equal(term.ch.type, NVT_NVME_TCP_PDU_C2H_TERM_REQ);
	assert_int_equal(term.ch.hlen, 24);
	assert_int_equal(term.ch.pdo, 0);
	assert_int_equal(term.ch.plen, 24 + 72);
	assert_int_equal(term.fes, HF);
	assert_int_equal(nvt_nvme_tcp_term_req_fei(&term), 3);
	assert_int_equal(tcp_build_term_req(&term, NVT_NVME_TCP_FES_DATA_OUT_OF_RANGE, 3, 300),
			 128);
	assert_int_equal(nvt_nvme_tcp_term_req_fei(&term), 0);
}

static void
set_sgl(struct tcp_req *req, uint8_t opc, uint8_t type, uint8_t subtype, uint64_t addr,
	uint32_t len)
{
	memset(&req->cmd, 0, sizeof(req->cmd));
	req->cmd.cmd.opc = opc;
	req->cmd.cmd.cid = 7;
	nvt_nvme_sgl_set_unkeyed(&req->cmd.cmd.dptr.sgl1, type, subtype, addr, len);
}

static void
test_parse_sgl(void **state)
{
	struct fixture *f = fixture_new();
	struct nvt_nvme_status st;
	struct tcp_req *req = tcp_req_get(&f->q);

	(void)state;
	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 16384);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	assert_int_equal(req->base.length, 16384);
	assert_int_equal(req->nbufs, 2);
	assert_int_equal(req->base.xfer, NVMF_XFER_CTRLR_TO_HOST);

	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 131073);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 1);
	assert_int_equal(st.sc, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID);

	set_sgl(req, NVT_NVME_OPC_WRITE, NVT_NVME_SGL_TYPE_DATA_BLOCK, NVT_NVME_SGL_SUBTYPE_OFFSET,
		0, 4096);
	req->has_icd = false;
	assert_int_equal(tcp_req_parse_sgl(req, 4096, 131072, &st), 0);
	assert_true(req->has_icd);
	assert_int_equal(req->base.xfer, NVMF_XFER_HOST_TO_CTRLR);

	set_sgl(req, NVT_NVME_OPC_WRITE, NVT_NVME_SGL_TYPE_DATA_BLOCK, NVT_NVME_SGL_SUBTYPE_OFFSET,
		0, 4096);
	assert_int_equal(tcp_req_parse_sgl(req, 512, 131072, &st), 1);
	assert_int_equal(st.sc, NVT_NVME_SC_DATA_SGL_LENGTH_INVALID);

	set_sgl(req, NVT_NVME_OPC_WRITE, NVT_NVME_SGL_TYPE_DATA_BLOCK, NVT_NVME_SGL_SUBTYPE_OFFSET,
		16, 4096);
	assert_int_equal(tcp_req_parse_sgl(req, 4096, 131072, &st), 1);
	assert_int_equal(st.sc, NVT_NVME_SC_INVALID_SGL_OFFSET);

	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_DATA_BLOCK, NVT_NVME_SGL_SUBTYPE_OFFSET,
		0, 4096);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 1);
	assert_int_equal(st.sc, NVT_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);

	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_KEYED_DATA_BLOCK, 0, 0, 4096);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 1);
	assert_int_equal(st.sc, NVT_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID);

	set_sgl(req, NVT_NVME_OPC_FLUSH, 0, 0, 0, 0);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	assert_int_equal(req->base.xfer, NVMF_XFER_NONE);
	fixture_free(f);
}

static void
test_transitions(void **state)
{
	(void)state;
	assert_true(tcp_req_transition_valid(TCP_REQ_STATE_FREE, TCP_REQ_STATE_NEW));
	assert_false(tcp_req_transition_valid(TCP_REQ_STATE_FREE, TCP_REQ_STATE_EXECUTING));
	assert_true(tcp_req_transition_valid(TCP_REQ_STATE_NEED_BUFFER,
					     TCP_REQ_STATE_TRANSFERRING_H2C));
	assert_false(tcp_req_transition_valid(TCP_REQ_STATE_EXECUTING, TCP_REQ_STATE_FREE));
	assert_false(tcp_req_transition_valid(TCP_REQ_STATE_EXECUTING, TCP_REQ_STATE_COMPLETED));
	assert_true(
		tcp_req_transition_valid(TCP_REQ_STATE_EXECUTED, TCP_REQ_STATE_TRANSFERRING_C2H));
	assert_true(tcp_req_transition_valid(TCP_REQ_STATE_COMPLETED, TCP_REQ_STATE_FREE));
	assert_false(tcp_req_transition_valid(TCP_REQ_STATE_COMPLETED, TCP_REQ_STATE_NEW));
}

/* A read: buffers, exec, C2H data with SUCCESS (sqflow disabled), free. */
static void
test_read_flow(void **state)
{
	struct fixture *f = fixture_new();
	struct nvt_nvme_status st;
	struct tcp_req *req = tcp_req_get(&f->q);
	struct nvt_nvme_tcp_c2h_data *c2h;

	(void)state;
	f->q.base.sqflow_disabled = true;
	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 4096);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	g_exec_count = 0;
	tcp_req_process(req);
	assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
	assert_int_equal(g_exec_count, 1);
	assert_int_equal(req->base.iovcnt, 1);
	assert_int_equal(f->q.refs, 1);

	g_writev_count = 0;
	g_tcp_ops.req_complete(&req->base);
	assert_int_equal(req->state, TCP_REQ_STATE_TRANSFERRING_C2H);
	assert_int_equal(g_writev_count, 1);
	c2h = g_last_sreq->iov[0].iov_base;
	assert_int_equal(c2h->ch.type, NVT_NVME_TCP_PDU_C2H_DATA);
	assert_true(c2h->ch.flags & NVT_NVME_TCP_F_SUCCESS);
	assert_true(c2h->ch.flags & NVT_NVME_TCP_F_LAST_PDU);
	assert_int_equal(c2h->datal, 4096);
	assert_int_equal(c2h->ch.plen, 24 + 4096);
	assert_int_equal(g_last_sreq->iovcnt, 2); /* header, data: no response */

	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(req->state, TCP_REQ_STATE_FREE);
	assert_int_equal(f->q.refs, 0);
	fixture_free(f);
}

/* Start a 4 KiB read on \p req and complete it in the core. */
static void
read_executed(struct tcp_req *req)
{
	struct nvt_nvme_status st;

	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 4096);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	tcp_req_process(req);
	assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
	g_tcp_ops.req_complete(&req->base);
	assert_int_equal(req->state, TCP_REQ_STATE_TRANSFERRING_C2H);
}

/*
 * With SQ flow control on, a read sends its data then its response. While
 * another command is in flight the response waits for the data's send
 * completion (a later send); a lone read sends both at once.
 */
static void
test_read_rsp_after_data(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *a = tcp_req_get(&f->q);
	struct tcp_req *b = tcp_req_get(&f->q);
	struct nvt_nvme_tcp_capsule_resp *rsp;
	struct nvt_nvme_tcp_c2h_data *c2h;

	(void)state;
	g_writev_count = 0;
	read_executed(a);
	assert_int_equal(g_writev_count, 1);
	c2h = g_last_sreq->iov[0].iov_base;
	assert_int_equal(c2h->ch.type, NVT_NVME_TCP_PDU_C2H_DATA);
	assert_false(c2h->ch.flags & NVT_NVME_TCP_F_SUCCESS);
	assert_int_equal(g_last_sreq->iovcnt, 2); /* header, data: the response waits */

	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(g_writev_count, 2);
	assert_int_equal(a->state, TCP_REQ_STATE_TRANSFERRING_C2H);
	rsp = g_last_sreq->iov[0].iov_base;
	assert_int_equal(rsp->ch.type, NVT_NVME_TCP_PDU_CAPSULE_RESP);
	assert_ptr_equal(g_last_sreq->cb_arg, a);
	assert_int_equal(g_last_sreq->iovcnt, 1);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(a->state, TCP_REQ_STATE_FREE);

	read_executed(b);
	assert_int_equal(g_writev_count, 3);
	assert_int_equal(g_last_sreq->iovcnt, 3); /* header, data, response */
	rsp = g_last_sreq->iov[2].iov_base;
	assert_int_equal(rsp->ch.type, NVT_NVME_TCP_PDU_CAPSULE_RESP);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(b->state, TCP_REQ_STATE_FREE);
	assert_int_equal(f->q.refs, 0);
	fixture_free(f);
}

/* A failed data send completes the read without its response. */
static void
test_read_data_send_fails(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *a = tcp_req_get(&f->q);
	struct tcp_req *b = tcp_req_get(&f->q);

	(void)state;
	assert_int_equal(b->state, TCP_REQ_STATE_NEW); /* in flight: the response waits */
	g_writev_count = 0;
	read_executed(a);
	assert_int_equal(g_last_sreq->iovcnt, 2);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, -ECANCELED);
	assert_int_equal(g_writev_count, 1);
	assert_int_equal(a->state, TCP_REQ_STATE_FREE);
	fixture_free(f);
}

/* A write by R2T: R2T, H2C data, exec, response capsule. */
static void
test_write_r2t_flow(void **state)
{
	struct fixture *f = fixture_new();
	struct nvt_nvme_status st;
	struct tcp_req *req = tcp_req_get(&f->q);
	struct nvt_nvme_tcp_r2t *r2t;
	struct nvt_nvme_tcp_capsule_resp *rsp;

	(void)state;
	f->q.params.hdgst = true;
	set_sgl(req, NVT_NVME_OPC_WRITE, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 16384);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	g_writev_count = 0;
	tcp_req_process(req);
	assert_int_equal(req->state, TCP_REQ_STATE_TRANSFERRING_H2C);
	assert_int_equal(g_writev_count, 1);
	r2t = g_last_sreq->iov[0].iov_base;
	assert_int_equal(r2t->ch.type, NVT_NVME_TCP_PDU_R2T);
	assert_int_equal(r2t->ch.plen, 28);
	assert_int_equal(g_last_sreq->iov[0].iov_len, 28);
	assert_int_equal(r2t->r2tl, 16384);
	assert_int_equal(r2t->ttag, req->ttag);
	assert_true(tcp_hdgst_ok(r2t, 24, req->tx_hdgst));
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);

	req->h2c_offset = 16384;
	g_exec_count = 0;
	tcp_req_data_done(req);
	assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
	assert_int_equal(g_exec_count, 1);
	g_tcp_ops.req_complete(&req->base);
	assert_int_equal(req->state, TCP_REQ_STATE_TRANSFERRING_C2H);
	rsp = g_last_sreq->iov[0].iov_base;
	assert_int_equal(rsp->ch.type, NVT_NVME_TCP_PDU_CAPSULE_RESP);
	assert_int_equal(g_last_sreq->iovcnt, 1);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(req->state, TCP_REQ_STATE_FREE);
	fixture_free(f);
}

/* A data digest error fails the command with Transient Transport Error, no exec. */
static void
test_ddgst_error_fails_command(void **state)
{
	struct fixture *f = fixture_new();
	struct nvt_nvme_status st;
	struct tcp_req *req = tcp_req_get(&f->q);
	struct nvt_nvme_tcp_capsule_resp *rsp;

	(void)state;
	set_sgl(req, NVT_NVME_OPC_WRITE, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 8192);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	tcp_req_process(req);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	req->ddgst_error = true;
	g_exec_count = 0;
	tcp_req_data_done(req);
	assert_int_equal(g_exec_count, 0);
	assert_int_equal(req->state, TCP_REQ_STATE_TRANSFERRING_C2H);
	rsp = g_last_sreq->iov[0].iov_base;
	assert_int_equal(nvt_nvme_status_sc(rsp->cqe.status),
			 NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	assert_int_equal(rsp->cqe.cid, 7);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(f->q.refs, 0);
	fixture_free(f);
}

/* Requests not in the core are released on abort; the free list is whole again. */
static void
test_abort(void **state)
{
	struct fixture *f = fixture_new();
	struct nvt_nvme_status st;
	struct tcp_req *a = tcp_req_get(&f->q);
	struct tcp_req *b = tcp_req_get(&f->q);

	(void)state;
	set_sgl(a, NVT_NVME_OPC_WRITE, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 8192);
	assert_int_equal(tcp_req_parse_sgl(a, 0, 131072, &st), 0);
	tcp_req_process(a);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(a->state, TCP_REQ_STATE_TRANSFERRING_H2C);
	set_sgl(b, NVT_NVME_OPC_FLUSH, 0, 0, 0, 0);
	assert_int_equal(tcp_req_parse_sgl(b, 0, 131072, &st), 0);
	tcp_req_process(b);
	assert_int_equal(b->state, TCP_REQ_STATE_EXECUTING);
	f->q.state = TCP_QPAIR_STATE_CLOSED;
	tcp_qpair_abort_reqs(&f->q);
	assert_int_equal(a->state, TCP_REQ_STATE_FREE);
	assert_int_equal(b->state, TCP_REQ_STATE_EXECUTING);
	g_tcp_ops.req_complete(&b->base);
	assert_int_equal(b->state, TCP_REQ_STATE_FREE);
	assert_int_equal(f->q.refs, 0);
	assert_int_equal(f->q.state_cnt[TCP_REQ_STATE_FREE], 4);
	fixture_free(f);
}

/*
 * An idle qpair at queue depth 128 stays under 16 KiB: one chunk of
 * requests, no data descriptors, no receive buffer (the group's is shared).
 */
static void
test_idle_qpair_memory(void **state)
{
	size_t idle = sizeof(struct tcp_qpair) + TCP_REQ_CHUNK * sizeof(struct tcp_req) +
		      (128 / TCP_REQ_CHUNK) * sizeof(struct tcp_req *);

	(void)state;
	print_message("idle qpair at QD 128: %zu bytes (request %zu)\n", idle,
		      sizeof(struct tcp_req));
	assert_true(idle < 16 * 1024);
}

/*
 * Requests are allocated a chunk at a time as the queue fills, up to the
 * depth; transfer tags keep naming the same request.
 */
static void
test_reqs_grow_in_chunks(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *got[40];
	int i;

	(void)state;
	tcp_qpair_reqs_free(&f->q);
	f->q.depth = 40;
	assert_int_equal(tcp_qpair_reqs_alloc(&f->q), 0);
	assert_int_equal(f->q.req_count, TCP_REQ_CHUNK);
	assert_null(tcp_qpair_req(&f->q, TCP_REQ_CHUNK + 1));
	for (i = 0; i < 40; i++) {
		got[i] = tcp_req_get(&f->q);
		assert_non_null(got[i]);
		assert_ptr_equal(tcp_qpair_req(&f->q, got[i]->ttag), got[i]);
	}
	assert_int_equal(f->q.req_count, 40);
	assert_int_equal(got[39]->ttag, 40);
	assert_null(tcp_req_get(&f->q));
	assert_null(tcp_qpair_req(&f->q, 0));
	assert_null(tcp_qpair_req(&f->q, 41));
	assert_int_equal(f->q.refs, 40);
	for (i = 0; i < 40; i++) {
		tcp_req_set_state(got[i], TCP_REQ_STATE_COMPLETED);
		tcp_req_set_state(got[i], TCP_REQ_STATE_FREE);
	}
	assert_int_equal(f->q.refs, 0);
	assert_int_equal(f->q.state_cnt[TCP_REQ_STATE_FREE], 40);
	fixture_free(f);
}

/* The core's iovec points into a data context only while the request holds buffers. */
static void
test_iov_from_data_ctx(void **state)
{
	struct fixture *f = fixture_new();
	struct nvt_nvme_status st;
	struct tcp_req *req = tcp_req_get(&f->q);

	(void)state;
	assert_null(req->base.iov);
	set_sgl(req, NVT_NVME_OPC_READ, NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
		NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, 131072);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	tcp_req_process(req);
	assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
	assert_ptr_equal(req->base.iov, req->ctx->iov);
	assert_int_equal(req->base.iovcnt, 16);
	assert_int_equal(req->base.iov[15].iov_len, 8192);
	g_put_count = 0;
	g_tcp_ops.req_complete(&req->base);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(req->state, TCP_REQ_STATE_FREE);
	assert_null(req->base.iov);
	assert_int_equal(g_put_count, 16);
	assert_int_equal(f->g.num_ctxs, 1);
	fixture_free(f);
}

/* Add a write capsule with \p len bytes of in-capsule data to the fake socket's bytes. */
static void
stream_icd_append(uint16_t cid, uint32_t len)
{
	struct nvt_nvme_tcp_capsule_cmd *cmd = (void *)(g_rx_stream + g_rx_len);

	assert_true(g_rx_len + sizeof(*cmd) + len <= sizeof(g_rx_stream));
	memset(cmd, 0, sizeof(*cmd));
	cmd->ch.type = NVT_NVME_TCP_PDU_CAPSULE_CMD;
	cmd->ch.hlen = sizeof(*cmd);
	cmd->ch.pdo = sizeof(*cmd);
	cmd->ch.plen = (uint32_t)sizeof(*cmd) + len;
	cmd->sqe.cmd.opc = NVT_NVME_OPC_WRITE;
	cmd->sqe.cmd.cid = cid;
	nvt_nvme_sgl_set_unkeyed(&cmd->sqe.cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
				 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
	memset((uint8_t *)cmd + sizeof(*cmd), 0x5a, len);
	g_rx_len += (uint32_t)sizeof(*cmd) + len;
}

/* Queue a write capsule with \p len bytes of in-capsule data on the fake socket. */
static void
stream_icd_write(uint16_t cid, uint32_t len)
{
	g_rx_len = g_rx_pos = 0;
	stream_icd_append(cid, len);
}

/*
 * In-capsule data and no buffer: receiving stops (socket out of the group,
 * not polled) until the iobuf callback; then it resumes from a message.
 */
static void
test_icd_wait_pauses_rx(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *req;

	(void)state;
	f->q.params = running_params(false, false);
	f->q.recv_state = TCP_PDU_RECV_STATE_AWAIT_CH;
	f->g.max_spills = 0; /* no spill buffer: the capsule must wait */
	g_iobuf_wait = true;
	g_msgs_enabled = true;
	g_add_sock_count = g_remove_sock_count = g_exec_count = 0;
	stream_icd_write(9, 4096);
	/* Let only the header in first: the data stays in the socket. */
	g_rx_len = sizeof(struct nvt_nvme_tcp_capsule_cmd);

	tcp_qpair_rx_run(&f->q);
	assert_int_equal(f->q.recv_state, TCP_PDU_RECV_STATE_AWAIT_BUF);
	assert_true(f->q.rx_detached);
	assert_int_equal(g_remove_sock_count, 1);
	assert_int_equal(g_exec_count, 0);

	g_rx_len += 4096;
	g_iobuf_wait = false;
	iobuf_serve_waiter();
	assert_int_equal(g_num_msgs, 1);
	run_msgs();
	assert_false(f->q.rx_detached);
	assert_int_equal(g_add_sock_count, 1);
	assert_int_equal(g_exec_count, 1);
	req = tcp_qpair_req(&f->q, 1);
	assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
	assert_int_equal(((uint8_t *)req->base.iov[0].iov_base)[4095], 0x5a);

	g_tcp_ops.req_complete(&req->base);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(f->q.refs, 0);
	g_msgs_enabled = false;
	fixture_free(f);
}

/*
 * Receiving pauses with more bytes read than the first capsule: they move to
 * the qpair's stash (the group's buffer belongs to whichever qpair reads
 * next) and are consumed from there when receiving resumes.
 */
static void
test_pause_stashes_bytes(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *req;
	int i;

	(void)state;
	f->q.params = running_params(false, false);
	f->q.recv_state = TCP_PDU_RECV_STATE_AWAIT_CH;
	f->g.max_spills = 0;
	g_iobuf_wait = true;
	g_msgs_enabled = true;
	g_exec_count = 0;
	stream_icd_write(9, 4096);
	stream_icd_append(10, 4096);

	tcp_qpair_rx_run(&f->q);
	assert_int_equal(f->q.recv_state, TCP_PDU_RECV_STATE_AWAIT_BUF);
	assert_non_null(f->q.rx_stash);
	assert_int_equal(f->q.rx_tail - f->q.rx_head,
			 4096 + sizeof(struct nvt_nvme_tcp_capsule_cmd) + 4096);
	/* Another qpair receives meanwhile. */
	memset(f->g.rxbuf, 0xee, TCP_GROUP_RX_BUF_SIZE);

	g_iobuf_wait = false;
	iobuf_serve_waiter();
	run_msgs();
	assert_int_equal(g_exec_count, 2);
	assert_null(f->q.rx_stash);
	for (i = 0; i < 2; i++) {
		req = tcp_qpair_req(&f->q, (uint16_t)(i + 1));
		assert_int_equal(req->state, TCP_REQ_STATE_EXECUTING);
		assert_int_equal(((uint8_t *)req->base.iov[0].iov_base)[0], 0x5a);
		assert_int_equal(((uint8_t *)req->base.iov[0].iov_base)[4095], 0x5a);
		g_tcp_ops.req_complete(&req->base);
		g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	}
	assert_int_equal(f->q.refs, 0);
	g_msgs_enabled = false;
	fixture_free(f);
}

/* In-capsule data and a dry pool: the data goes to a spill buffer, receiving goes on. */
static void
test_icd_spill(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *req;

	(void)state;
	f->q.params = running_params(false, false);
	f->q.recv_state = TCP_PDU_RECV_STATE_AWAIT_CH;
	f->g.max_spills = 4;
	g_iobuf_wait = true;
	g_remove_sock_count = g_exec_count = 0;
	stream_icd_write(11, 4096);
	tcp_qpair_rx_run(&f->q);
	g_iobuf_wait = false;
	req = tcp_qpair_req(&f->q, 1);
	assert_int_equal(g_exec_count, 1);
	assert_int_equal(g_remove_sock_count, 0);
	assert_false(f->q.rx_detached);
	assert_non_null(req->spill);
	assert_ptr_equal(req->base.iov, &req->spill->iov);
	assert_int_equal(((uint8_t *)req->base.iov[0].iov_base)[4095], 0x5a);
	assert_int_equal(f->g.stats.icd_spills, 1);
	g_tcp_ops.req_complete(&req->base);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_null(req->spill);
	assert_int_equal(f->g.num_spills, 1);
	assert_non_null(STAILQ_FIRST(&f->g.free_spills));
	fixture_free(f);
}

/* A response queued while the socket is out of the group is flushed by a message. */
static void
test_detached_tx_flushed(void **state)
{
	struct fixture *f = fixture_new();
	struct tcp_req *req = tcp_req_get(&f->q);
	struct nvt_nvme_status st;

	(void)state;
	g_msgs_enabled = true;
	set_sgl(req, NVT_NVME_OPC_FLUSH, 0, 0, 0, 0);
	assert_int_equal(tcp_req_parse_sgl(req, 0, 131072, &st), 0);
	tcp_req_process(req);
	f->q.rx_detached = true;
	g_pending_writes = true;
	g_tcp_ops.req_complete(&req->base);
	assert_int_equal(g_num_msgs, 1);
	run_msgs();
	assert_false(g_pending_writes);
	assert_true(f->q.rx_detached);
	g_last_sreq->cb_fn(g_last_sreq->cb_arg, 0);
	assert_int_equal(f->q.refs, 0);
	g_msgs_enabled = false;
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ch_table),
		cmocka_unit_test(test_pdo_alignment),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_icreq),
		cmocka_unit_test(test_term_req_build),
		cmocka_unit_test(test_parse_sgl),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_read_flow),
		cmocka_unit_test(test_read_rsp_after_data),
		cmocka_unit_test(test_read_data_send_fails),
		cmocka_unit_test(test_write_r2t_flow),
		cmocka_unit_test(test_ddgst_error_fails_command),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_idle_qpair_memory),
		cmocka_unit_test(test_iov_from_data_ctx),
		cmocka_unit_test(test_icd_wait_pauses_rx),
		cmocka_unit_test(test_icd_spill),
		cmocka_unit_test(test_pause_stashes_bytes),
		cmocka_unit_test(test_reqs_grow_in_chunks),
		cmocka_unit_test(test_detached_tx_flushed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
