/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_nvmf_cmd: the admin, Fabrics and I/O command handlers, fed arbitrary
 * commands and in-capsule data against the RAM and null namespaces.
 *
 * The harness is the host: it opens the admin queue (ICReq, Fabrics Connect,
 * Property Set CC.EN=1) and an I/O queue (ICReq, Connect) the way a real
 * host does, then reads the input as commands, each wrapped into a
 * well-formed capsule PDU, so that mutations reach the command handlers
 * instead of the PDU checks. R2Ts are answered with H2C data.
 *
 * Input: a 4-byte preamble, then records.
 *   preamble  byte 0: bit 0 header digest, bit 1 data digest, bits 2-6 HPDA;
 *             byte 1: admin keep alive timeout in seconds (0: none);
 *             byte 2: I/O queue size (SQSIZE is 1 + byte % 31);
 *             byte 3: bits 0-2 largest chunk, bits 3-4 send budget (as
 *             fuzz_tcp_stream)
 *   record    byte 0: bit 0 the I/O queue (else admin), bit 1 keep the
 *             SQE's CID (else numbered by the harness), bit 2 keep the SQE's
 *             SGL and PSDT (else they describe the data: in-capsule data,
 *             or a transport data block of the SGL's length), bit 3 leave
 *             R2Ts unanswered, bit 4 a bad data digest (when negotiated),
 *             bit 5 let one second of virtual time pass afterwards;
 *             bytes 1-2: in-capsule data length (little-endian);
 *             bytes 3-4: bytes to answer each R2T with (0: what it asks);
 *             bytes 5-68: the 64-byte SQE; then the in-capsule data.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_env.h"
#include "fuzz_pdu.h"

#define PREAMBLE_LEN   4
#define RECORD_HDR_LEN 5
#define MAX_R2T	       64
#define PATTERN_LEN    (128u * 1024)
#define SERVICE_ROUNDS 16
#define SECOND_US      (1000ull * 1000)
#define ADMIN_SQSIZE   31

enum {
	REC_IO_QUEUE = 1u << 0,
	REC_RAW_CID = 1u << 1,
	REC_RAW_SGL = 1u << 2,
	REC_NO_R2T = 1u << 3,
	REC_BAD_DDGST = 1u << 4,
	REC_ADVANCE = 1u << 5,
};

static const uint32_t g_chunk_max[8] = { 0, 1, 3, 8, 24, 72, 512, 4096 };
static const uint32_t g_send_budget[4] = { 0, 0, 7, 1500 };

/* One queue pair on the host's side. */
struct cmd_queue {
	struct fuzz_conn *conn;
	struct fuzz_pdu_state st;
	uint16_t next_cid;
	/* The response the set-up waits for. */
	uint16_t want_cid;
	bool got;
	struct nvt_nvme_cpl cpl;
	/* R2Ts received and not yet answered. */
	struct nvt_nvme_tcp_r2t r2t[MAX_R2T];
	uint32_t nr2t;
};

static uint8_t g_pattern[PATTERN_LEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_pdu(void *ctx, const union nvt_nvme_tcp_pdu_hdr *hdr, const uint8_t *data, uint32_t len)
{
	struct cmd_queue *q = ctx;

	(void)data;
	(void)len;
	switch (hdr->ch.type) {
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
		if (hdr->capsule_resp.cqe.cid == q->want_cid) {
			q->got = true;
			q->cpl = hdr->capsule_resp.cqe;
		}
		break;
	case NVT_NVME_TCP_PDU_R2T:
		if (q->nr2t < MAX_R2T) {
			q->r2t[q->nr2t++] = hdr->r2t;
		}
		break;
	default:
		break;
	}
}

static void
answer_r2t(struct cmd_queue *q, const struct nvt_nvme_tcp_r2t *r2t, uint16_t h2c_len)
{
	uint32_t maxd = q->st.maxh2cdata < PATTERN_LEN ? q->st.maxh2cdata : PATTERN_LEN;
	uint32_t total, off, n;

	if (h2c_len != 0) {
		fuzz_pdu_push_h2c(q->conn, &q->st, r2t->cccid, r2t->ttag, r2t->r2to, g_pattern,
				  h2c_len, true);
		return;
	}
	total = r2t->r2tl < (1u << 20) ? r2t->r2tl : (1u << 20);
	for (off = 0; off < total; off += n) {
		n = total - off < maxd ? total - off : maxd;
		fuzz_pdu_push_h2c(q->conn, &q->st, r2t->cccid, r2t->ttag, r2t->r2to + off,
				  g_pattern, n, off + n == total);
	}
}

/* Read what the target sent; answer its R2Ts (unless \p answer is false) until it asks no more. */
static void
queue_service(struct cmd_queue *q, bool answer, uint16_t h2c_len)
{
	struct nvt_nvme_tcp_r2t r2t[MAX_R2T];
	uint32_t i, n, round;

	for (round = 0; round < SERVICE_ROUNDS && q->conn != NULL; round++) {
		fuzz_pdu_read(q->conn, &q->st, on_pdu, q);
		n = q->nr2t;
		q->nr2t = 0;
		if (n == 0 || !answer || q->st.term) {
			return;
		}
		memcpy(r2t, q->r2t, n * sizeof(r2t[0]));
		for (i = 0; i < n; i++) {
			answer_r2t(q, &r2t[i], h2c_len);
		}
		fuzz_env_poll();
	}
}

/* Send a capsule the set-up needs and wait for its status (-1: no response). */
static int
setup_command(struct cmd_queue *q, union nvt_nvme_sqe *sqe, const void *data, uint32_t len)
{
	sqe->cmd.cid = q->next_cid++;
	sqe->cmd.flags = (uint8_t)(NVT_NVME_PSDT_SGL_MPTR_CONTIG << NVT_NVME_CMD_PSDT_SHIFT);
	if (len > 0) {
		nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
	}
	q->want_cid = sqe->cmd.cid;
	q->got = false;
	fuzz_pdu_push_capsule(q->conn, &q->st, sqe, data, len, false);
	fuzz_env_poll();
	queue_service(q, true, 0);
	return q->got ? (q->cpl.status >> 1) : -1;
}

static void
queue_open(struct cmd_queue *q, uint16_t port, uint8_t pre0, uint8_t pre3)
{
	q->conn = fuzz_conn_open(port);
	q->conn->record = true;
	q->conn->chunk_max = g_chunk_max[pre3 & 7u];
	q->conn->send_budget = g_send_budget[(pre3 >> 3) & 3u];
	fuzz_pdu_push_icreq(q->conn, &q->st, pre0 & 1u, (pre0 >> 1) & 1u,
			    (uint8_t)((pre0 >> 2) & 0x1fu));
	fuzz_env_poll();
	fuzz_pdu_read(q->conn, &q->st, NULL, NULL);
	if (!q->st.ic_done) {
		fuzz_env_fail("set-up: no ICResp to a valid ICReq");
	}
}

static int
queue_connect(struct cmd_queue *q, uint16_t qid, uint16_t sqsize, uint16_t cntlid, uint32_t kato)
{
	struct nvt_nvmf_connect_data cd;
	union nvt_nvme_sqe sqe;
	int st;

	memset(&sqe, 0, sizeof(sqe));
	memset(&cd, 0, sizeof(cd));
	sqe.connect.opc = NVT_NVME_OPC_FABRICS;
	sqe.connect.fctype = NVT_NVMF_FCTYPE_CONNECT;
	sqe.connect.qid = qid;
	sqe.connect.sqsize = sqsize;
	sqe.connect.kato = kato;
	cd.cntlid = cntlid;
	snprintf(cd.subnqn, sizeof(cd.subnqn), "%s", FUZZ_SUBNQN);
	snprintf(cd.hostnqn, sizeof(cd.hostnqn), "%s", FUZZ_HOSTNQN);
	st = setup_command(q, &sqe, &cd, sizeof(cd));
	if (st != 0) {
		fuzz_env_fail("set-up: Connect of queue %u failed: status %#x", qid, st);
	}
	return nvt_nvmf_connect_rsp_cntlid(&q->cpl);
}

static void
admin_enable(struct cmd_queue *q)
{
	union nvt_nvme_sqe sqe;
	int st;

	memset(&sqe, 0, sizeof(sqe));
	sqe.prop_set.opc = NVT_NVME_OPC_FABRICS;
	sqe.prop_set.fctype = NVT_NVMF_FCTYPE_PROPERTY_SET;
	sqe.prop_set.attrib = NVT_NVMF_PROP_SIZE_4;
	sqe.prop_set.ofst = NVT_NVME_PROP_CC;
	sqe.prop_set.value = NVT_NVME_CC_EN | (6u << NVT_NVME_CC_IOSQES_SHIFT) |
			     (4u << NVT_NVME_CC_IOCQES_SHIFT);
	st = setup_command(q, &sqe, NULL, 0);
	if (st != 0) {
		fuzz_env_fail("set-up: Property Set CC.EN=1 failed: status %#x", st);
	}
}

/* The SGL and PSDT a host would write for this command and data. */
static void
sqe_fix_sgl(union nvt_nvme_sqe *sqe, uint32_t icd_len)
{
	uint8_t bits = sqe->cmd.opc == NVT_NVME_OPC_FABRICS ? sqe->fabrics.fctype : sqe->cmd.opc;
	uint32_t len = sqe->cmd.dptr.sgl1.unkeyed.length;

	sqe->cmd.flags = (uint8_t)((sqe->cmd.flags & NVT_NVME_CMD_FUSE_MASK) |
				   (NVT_NVME_PSDT_SGL_MPTR_CONTIG << NVT_NVME_CMD_PSDT_SHIFT));
	if (icd_len > 0) {
		nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, icd_len);
	} else if ((bits & 3u) != 0) {
		nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1,
					 NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, len);
	}
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Send one record; \return the bytes it took, 0 at the end of the input. */
static size_t
run_record(struct cmd_queue *qs, const uint8_t *rec, size_t left)
{
	uint8_t flags;
	uint16_t icd_len, h2c_len;
	union nvt_nvme_sqe sqe;
	struct cmd_queue *q;

	if (left < RECORD_HDR_LEN + sizeof(sqe)) {
		return 0;
	}
	flags = rec[0];
	icd_len = le16(rec + 1);
	h2c_len = le16(rec + 3);
	memcpy(&sqe, rec + RECORD_HDR_LEN, sizeof(sqe));
	left -= RECORD_HDR_LEN + sizeof(sqe);
	icd_len = icd_len < left ? icd_len : (uint16_t)left;
	q = &qs[flags & REC_IO_QUEUE ? 1 : 0];
	if (!(flags & REC_RAW_CID)) {
		sqe.cmd.cid = q->next_cid++;
	}
	if (!(flags & REC_RAW_SGL)) {
		sqe_fix_sgl(&sqe, icd_len);
	}
	if (!q->st.term) {
		fuzz_pdu_push_capsule(q->conn, &q->st, &sqe, rec + RECORD_HDR_LEN + sizeof(sqe),
				      icd_len, (flags & REC_BAD_DDGST) != 0);
	}
	fuzz_env_poll();
	queue_service(&qs[0], !(flags & REC_NO_R2T), h2c_len);
	queue_service(&qs[1], !(flags & REC_NO_R2T), h2c_len);
	if (flags & REC_ADVANCE) {
		fuzz_env_advance(SECOND_US);
		queue_service(&qs[0], true, 0);
		queue_service(&qs[1], true, 0);
	}
	return RECORD_HDR_LEN + sizeof(sqe) + icd_len;
}

static uint16_t
cmd_setup(void)
{
	static uint16_t port;
	uint32_t i;

	if (port == 0) {
		fuzz_env_init();
		fuzz_env_start_target();
		port = fuzz_sock_listen_port(0);
		if (port == 0) {
			fuzz_env_fail("the target has no listener");
		}
		for (i = 0; i < PATTERN_LEN; i++) {
			g_pattern[i] = (uint8_t)(i * 7u + 1u);
		}
	}
	return port;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_queue qs[2];
	uint16_t port = cmd_setup(), cntlid;
	size_t off = PREAMBLE_LEN, n;
	int i;

	if (size < PREAMBLE_LEN) {
		return 0;
	}
	memset(qs, 0, sizeof(qs));
	queue_open(&qs[0], port, data[0], data[3]);
	cntlid = (uint16_t)queue_connect(&qs[0], 0, ADMIN_SQSIZE, NVT_NVMF_CNTLID_DYNAMIC,
					 data[1] * 1000u);
	admin_enable(&qs[0]);
	queue_open(&qs[1], port, data[0], data[3]);
	queue_connect(&qs[1], 1, (uint16_t)(1 + data[2] % (FUZZ_QUEUE_DEPTH - 1)), cntlid, 0);
	while ((n = run_record(qs, data + off, size - off)) != 0) {
		off += n;
	}
	/* The I/O queue goes first, as a host tears down. */
	for (i = 1; i >= 0; i--) {
		fuzz_conn_shutdown(qs[i].conn);
		fuzz_pdu_read(qs[i].conn, &qs[i].st, NULL, NULL);
		fuzz_conn_free(qs[i].conn);
	}
	fuzz_env_check_idle();
	return 0;
}
