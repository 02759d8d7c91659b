/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_auth: the target's DH-HMAC-CHAP (Authentication Send and Receive,
 * and the gate that keeps every other command from a queue that has not
 * authenticated), fed arbitrary messages in well-formed capsules, mixed
 * with the right steps of an exchange so that mutations reach its deep
 * states: the Reply's verification, Success1 with the controller's
 * response, Success2 and Failure2, re-authentication after a success, and
 * the step timer.
 *
 * The host is FUZZ_AUTH_HOSTNQN or FUZZ_AUTH_UNI_HOSTNQN, which must
 * authenticate (its Connect answers AUTHREQ.ATR, else the run fails). Findings, besides what the
 * sanitizers and fuzz_env_check_idle() see:
 *   - a command other than Authentication Send/Receive and Disconnect that
 *     the target serves (any C2H data, or a status other than "authentication
 *     required" or "aborted, SQ deleted") while no exchange can have
 *     succeeded on its queue: none has returned Success1 yet, or the last
 *     Receive returned Failure1; with a raw SGL (which the transport may
 *     refuse with a status of its own) only a success counts;
 *   - a Challenge, Success1 or Failure1 that does not add up, a Challenge
 *     of a DH group the target's configuration leaves out, or any other
 *     message from a Receive that succeeded.
 *
 * Input: a 4-byte preamble, then records.
 *   preamble  byte 0: bit 0 header digest, bit 1 data digest, bits 2-6
 *             HPDA, bit 7 an I/O queue too: the set-up authenticates the
 *             admin queue (SHA-256, no DH group), enables the controller
 *             and connects queue 1, which must authenticate in turn;
 *             byte 1: admin keep alive timeout in seconds (0: none), which
 *             is also the time allowed for each step of an exchange;
 *             byte 2: bits 0-6 I/O queue size (SQSIZE is 1 + n % 31), bit 7
             the host is FUZZ_AUTH_UNI_HOSTNQN, which has no controller key;
 *             byte 3: bits 0-2 largest chunk, bits 3-4 send budget (as
 *             fuzz_tcp_stream)
 *   record    byte 0: bits 0-1 what: 0 an Authentication Send of the
 *             record's bytes, 1 an Authentication Receive, 2 another
 *             command, 3 the right next step of the exchange, as the host
 *             believes it stands (fuzz_auth_host.h);
 *             bit 2 on the I/O queue (when there is one);
 *             bits 3-4 virtual time to let pass afterwards: none, 1 s,
 *             10 s, 121 s (past the step timer without keep alive);
 *             bit 5 a Send's message through R2T and H2C data instead of
 *             in the capsule;
 *             bit 6 raw: a Send's or Receive's SECP, SPSP0, SPSP1 and TL or
 *             AL from 8 more bytes (SECP, SPSP0, SPSP1, unused, TL/AL
 *             little-endian); another command's SGL and PSDT as they are;
 *             bit 7 pipelined: the next record goes out before the target
 *             runs and before what it sent is read;
 *             bytes 1-2 (little-endian): a Send's message length, the
 *             message following (after the raw bytes); a Receive's
 *             allocation length; another command's in-capsule data
 *             length, the 64-byte SQE and the data following; for a step,
 *             byte 1 its options and byte 2 a corruption: 0 none, 1-239
 *             flip bit 0 of byte (n - 1) % length of the message, 240-255
 *             drop its last n - 239 bytes; a Receive step asks for 16 n
 *             bytes then instead of 4096.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/nvmf_auth_spec.h"

#include "fuzz_auth_host.h"
#include "fuzz_env.h"
#include "fuzz_pdu.h"

#define PREAMBLE_LEN   4
#define RECORD_HDR_LEN 3
#define RAW_LEN	       8
#define MAX_R2T	       64
#define SERVICE_ROUNDS 16
#define ADMIN_SQSIZE   31
#define SLOTS	       64 /* commands in flight tracked per queue (by CID) */
#define SECOND_US      (1000ull * 1000)
/* Bytes a C2H-direction command of another kind asks for at most (a few buffers). */
#define OTHER_MAX_READ (2u * FUZZ_IO_UNIT_SIZE)

enum {
	REC_WHAT = 3u << 0,
	REC_IO_QUEUE = 1u << 2,
	REC_TIME_SHIFT = 3,
	REC_R2T = 1u << 5,
	REC_RAW = 1u << 6,
	REC_PIPELINE = 1u << 7,
};

enum rec_what {
	WHAT_SEND = 0,
	WHAT_RECV = 1,
	WHAT_OTHER = 2,
	WHAT_STEP = 3,
};

static const uint64_t g_time_us[4] = { 0, SECOND_US, 10 * SECOND_US, 121 * SECOND_US };
static const uint32_t g_chunk_max[8] = { 0, 1, 3, 8, 24, 72, 512, 4096 };
static const uint32_t g_send_budget[4] = { 0, 0, 7, 1500 };

enum cmd_kind {
	CMD_FREE = 0,
	CMD_SETUP,     /* the set-up waits for its completion */
	CMD_SEND,      /* Authentication Send */
	CMD_RECV,      /* Authentication Receive: its message is followed */
	CMD_ALLOWED,   /* allowed before authentication, nothing checked */
	CMD_OTHER,     /* must not be served before authentication */
	CMD_OTHER_RAW, /* the same, with an SGL the transport may refuse */
};

/* One command in flight. */
struct auth_cmd {
	enum cmd_kind kind;
	uint16_t cid;
	/* Sent while no exchange could have succeeded on its queue. */
	bool unauth;
	/* An Authentication Receive (whatever the record): its data is watched. */
	bool auth_recv;
	/* CMD_SEND: the message (R2Ts are answered from it); CMD_RECV: what came. */
	uint8_t *data;
	uint32_t len;
	uint32_t got;
	/* CMD_SEND: the host's belief follows the message once the target took it. */
	bool follow;
};

/* One queue pair on the host's side. */
struct auth_queue {
	struct fuzz_conn *conn;
	struct fuzz_pdu_state st;
	uint16_t qid;
	uint16_t next_cid;
	struct auth_cmd cmds[SLOTS];
	struct fuzz_auth_host host;
	/* A Receive returned Success1: the target may count the queue authenticated. */
	bool maybe_auth;
	/* The completion the set-up waits for. */
	bool got;
	struct nvt_nvme_cpl cpl;
	struct nvt_nvme_tcp_r2t r2t[MAX_R2T];
	uint32_t nr2t;
};

static uint8_t g_zero[FUZZ_MAX_IO_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- commands in flight ---- */

static void
cmd_free(struct auth_cmd *c)
{
	free(c->data);
	memset(c, 0, sizeof(*c));
}

static struct auth_cmd *
cmd_find(struct auth_queue *q, uint16_t cid)
{
	struct auth_cmd *c = &q->cmds[cid % SLOTS];

	return c->kind != CMD_FREE && c->cid == cid ? c : NULL;
}

/* A new command's slot; one still in flight there (far too many pipelined) is forgotten. */
static struct auth_cmd *
cmd_new(struct auth_queue *q, enum cmd_kind kind, uint32_t buf_len)
{
	uint16_t cid = q->next_cid++;
	struct auth_cmd *c = &q->cmds[cid % SLOTS];

	cmd_free(c);
	c->kind = kind;
	c->cid = cid;
	c->unauth = !q->maybe_auth;
	if (buf_len > 0) {
		c->data = calloc(1, buf_len);
		if (c->data == NULL) {
			fuzz_env_fail("out of memory");
		}
	}
	return c;
}

static bool
is_auth_fctype(const union nvt_nvme_sqe *sqe, uint8_t fctype)
{
	return sqe->cmd.opc == NVT_NVME_OPC_FABRICS && sqe->fabrics.fctype == fctype;
}

/* ---- what the target sends ---- */

/* The status of a command that must not have been served yet. */
static void
check_refused(const struct auth_queue *q, const struct auth_cmd *c, uint16_t status)
{
	uint8_t sc = (uint8_t)(status >> 1), sct = (uint8_t)((status >> 9) & 7u);
	bool refused = (sct == NVT_NVME_SCT_COMMAND_SPECIFIC && sc == NVT_NVMF_SC_AUTH_REQUIRED) ||
		       (sct == NVT_NVME_SCT_GENERIC && sc == NVT_NVME_SC_ABORTED_SQ_DELETION);

	if (!c->unauth || q->maybe_auth) {
		return;
	}
	if (c->kind == CMD_OTHER_RAW) {
		refused = sct != NVT_NVME_SCT_GENERIC || sc != 0;
	}
	if (!refused) {
		fuzz_env_fail("queue %u: command CID %u served before authentication: status "
			      "sct %u sc %#x",
			      q->qid, c->cid, sct, sc);
	}
}

static void
cmd_complete(struct auth_queue *q, struct auth_cmd *c, const struct nvt_nvme_cpl *cpl)
{
	uint16_t status = cpl->status & 0xfffeu;

	switch (c->kind) {
	case CMD_SETUP:
		q->got = true;
		q->cpl = *cpl;
		break;
	case CMD_SEND:
		if (c->follow && status == 0) {
			fuzz_auth_host_sent(&q->host, c->data, c->len);
		}
		break;
	case CMD_RECV:
		if (status == 0 && c->got < sizeof(struct nvt_auth_failure_msg)) {
			fuzz_env_fail("queue %u: a Receive succeeded with %u bytes of data", q->qid,
				      c->got);
		}
		if (status == 0) {
			fuzz_auth_host_received(&q->host, c->data, c->got);
			/* The target disconnects the queue after a Failure1. */
			q->maybe_auth = q->maybe_auth && !(c->data[0] == NVT_AUTH_TYPE_COMMON &&
							   c->data[1] == NVT_AUTH_MSG_FAILURE1);
		}
		break;
	case CMD_OTHER:
	case CMD_OTHER_RAW:
		check_refused(q, c, status);
		break;
	default:
		break;
	}
	cmd_free(c);
}

static void
on_c2h(struct auth_queue *q, const struct nvt_nvme_tcp_c2h_data *c2h, const uint8_t *data,
       uint32_t len)
{
	struct auth_cmd *c = cmd_find(q, c2h->cccid);
	struct nvt_nvme_cpl cpl = { .cid = c2h->cccid };

	if (c == NULL) {
		return;
	}
	if ((c->kind == CMD_OTHER || c->kind == CMD_OTHER_RAW) && c->unauth && !q->maybe_auth) {
		fuzz_env_fail("queue %u: command CID %u returned data before authentication",
			      q->qid, c->cid);
	}
	/* Success1 ends the gate (or leads to Success2, which does): say so at once. */
	if (c->auth_recv && c2h->datao == 0 && len >= 2 && data[0] == NVT_AUTH_TYPE_DHCHAP &&
	    data[1] == NVT_AUTH_MSG_SUCCESS1) {
		q->maybe_auth = true;
	}
	if (c->kind == CMD_RECV && c2h->datao < c->len) {
		len = len < c->len - c2h->datao ? len : c->len - c2h->datao;
		memcpy(c->data + c2h->datao, data, len);
		c->got = c2h->datao + len > c->got ? c2h->datao + len : c->got;
	}
	if (c2h->ch.flags & NVT_NVME_TCP_F_SUCCESS) {
		cmd_complete(q, c, &cpl);
	}
}

static void
on_pdu(void *ctx, const union nvt_nvme_tcp_pdu_hdr *hdr, const uint8_t *data, uint32_t len)
{
	struct auth_queue *q = ctx;
	struct auth_cmd *c;

	switch (hdr->ch.type) {
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
		c = cmd_find(q, hdr->capsule_resp.cqe.cid);
		if (c != NULL) {
			cmd_complete(q, c, &hdr->capsule_resp.cqe);
		}
		break;
	case NVT_NVME_TCP_PDU_C2H_DATA:
		on_c2h(q, &hdr->c2h_data, data, len);
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

/* H2C data for an R2T: the Send's message where it has one, zeros elsewhere. */
static void
answer_r2t(struct auth_queue *q, const struct nvt_nvme_tcp_r2t *r2t)
{
	struct auth_cmd *c = cmd_find(q, r2t->cccid);
	uint32_t maxd = q->st.maxh2cdata < sizeof(g_zero) ? q->st.maxh2cdata : sizeof(g_zero);
	uint32_t total = r2t->r2tl < sizeof(g_zero) ? r2t->r2tl : sizeof(g_zero);
	uint32_t off, n, at;
	const uint8_t *src;

	for (off = 0; off < total; off += n) {
		n = total - off < maxd ? total - off : maxd;
		at = r2t->r2to + off;
		src = g_zero;
		if (c != NULL && c->kind == CMD_SEND && at < c->len) {
			n = n < c->len - at ? n : c->len - at;
			src = c->data + at;
		}
		fuzz_pdu_push_h2c(q->conn, &q->st, r2t->cccid, r2t->ttag, at, src, n,
				  off + n == total);
	}
}

/* Read what the target sent and answer its R2Ts until it asks no more. */
static void
queue_service(struct auth_queue *q)
{
	struct nvt_nvme_tcp_r2t r2t[MAX_R2T];
	uint32_t i, n, round;

	for (round = 0; round < SERVICE_ROUNDS && q->conn != NULL; round++) {
		fuzz_pdu_read(q->conn, &q->st, on_pdu, q);
		n = q->nr2t;
		q->nr2t = 0;
		if (n == 0 || q->st.term) {
			return;
		}
		memcpy(r2t, q->r2t, n * sizeof(r2t[0]));
		for (i = 0; i < n; i++) {
			answer_r2t(q, &r2t[i]);
		}
		fuzz_env_poll();
	}
}

/* ---- what the host sends ---- */

static void
sqe_set_sgl(union nvt_nvme_sqe *sqe, bool in_capsule, uint32_t len)
{
	sqe->cmd.flags = (uint8_t)((sqe->cmd.flags & NVT_NVME_CMD_FUSE_MASK) |
				   (NVT_NVME_PSDT_SGL_MPTR_CONTIG << NVT_NVME_CMD_PSDT_SHIFT));
	memset(&sqe->cmd.dptr, 0, sizeof(sqe->cmd.dptr));
	if (in_capsule) {
		nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1, NVT_NVME_SGL_TYPE_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_OFFSET, 0, len);
	} else {
		nvt_nvme_sgl_set_unkeyed(&sqe->cmd.dptr.sgl1,
					 NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK,
					 NVT_NVME_SGL_SUBTYPE_TRANSPORT, 0, len);
	}
}

/* An Authentication SQE: the right SECP, SPSP and length, or \p raw's. */
static void
sqe_auth(union nvt_nvme_sqe *sqe, uint8_t fctype, uint32_t len, const uint8_t *raw)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->auth.opc = NVT_NVME_OPC_FABRICS;
	sqe->auth.fctype = fctype;
	sqe->auth.secp = raw != NULL ? raw[0] : NVT_NVMF_AUTH_SECP_NVME;
	sqe->auth.spsp0 = raw != NULL ? raw[1] : NVT_AUTH_SPSP0;
	sqe->auth.spsp1 = raw != NULL ? raw[2] : NVT_AUTH_SPSP1;
	sqe->auth.tl_al = raw != NULL ? le32(raw + 4) : len;
}

static void
push(struct auth_queue *q, struct auth_cmd *c, union nvt_nvme_sqe *sqe, const void *icd,
     uint32_t icd_len)
{
	sqe->cmd.cid = c->cid;
	if (!q->st.term) {
		fuzz_pdu_push_capsule(q->conn, &q->st, sqe, icd, icd_len, false);
	}
}

/*
 * An Authentication Send of \p msg. The host's belief follows a right step
 * at once, so that the next right step can go before this one is answered
 * (pipelined), and any other message once the target has taken it (a
 * status of 0: a message it refused for its SQE fields changes nothing).
 */
static void
send_msg(struct auth_queue *q, const uint8_t *msg, uint32_t len, uint8_t flags, const uint8_t *raw,
	 bool right)
{
	struct auth_cmd *c = cmd_new(q, CMD_SEND, len);
	bool r2t = (flags & REC_R2T) != 0;
	union nvt_nvme_sqe sqe;

	sqe_auth(&sqe, NVT_NVMF_FCTYPE_AUTH_SEND, len, raw);
	sqe_set_sgl(&sqe, !r2t, len);
	if (len > 0) {
		memcpy(c->data, msg, len);
	}
	c->len = len;
	c->follow = !right;
	if (right) {
		fuzz_auth_host_sent(&q->host, msg, len);
	}
	push(q, c, &sqe, msg, r2t ? 0 : len);
}

static void
recv_msg(struct auth_queue *q, uint32_t al, const uint8_t *raw)
{
	struct auth_cmd *c = cmd_new(q, CMD_RECV, FUZZ_AUTH_MSG_MAX);
	union nvt_nvme_sqe sqe;

	c->len = FUZZ_AUTH_MSG_MAX;
	c->auth_recv = true;
	sqe_auth(&sqe, NVT_NVMF_FCTYPE_AUTH_RECV, al, raw);
	sqe_set_sgl(&sqe, false, al);
	push(q, c, &sqe, NULL, 0);
}

/*
 * Another command, with the SGL a host would write: in-capsule data for a
 * command that sends data, at most OTHER_MAX_READ bytes for one that reads,
 * so that the transport takes it and only the core may refuse it.
 */
static void
other_cmd(struct auth_queue *q, union nvt_nvme_sqe *sqe, const uint8_t *icd, uint32_t icd_len,
	  bool raw)
{
	uint8_t bits = sqe->cmd.opc == NVT_NVME_OPC_FABRICS ? sqe->fabrics.fctype : sqe->cmd.opc;
	uint32_t read_len = sqe->cmd.dptr.sgl1.unkeyed.length % (OTHER_MAX_READ + 1);
	enum cmd_kind kind = raw ? CMD_OTHER_RAW : CMD_OTHER;
	struct auth_cmd *c;

	if (is_auth_fctype(sqe, NVT_NVMF_FCTYPE_AUTH_SEND) ||
	    is_auth_fctype(sqe, NVT_NVMF_FCTYPE_AUTH_RECV) ||
	    is_auth_fctype(sqe, NVT_NVMF_FCTYPE_DISCONNECT)) {
		kind = CMD_ALLOWED;
	}
	if (!raw && (bits & 3u) == NVT_NVME_DATA_HOST_TO_CONTROLLER) {
		icd_len = icd_len < FUZZ_ICD_SIZE ? icd_len : FUZZ_ICD_SIZE;
		sqe_set_sgl(sqe, true, icd_len);
	} else if (!raw) {
		icd_len = 0;
		sqe_set_sgl(sqe, false,
			    (bits & 3u) == NVT_NVME_DATA_CONTROLLER_TO_HOST ? read_len : 0);
	}
	c = cmd_new(q, kind, 0);
	c->auth_recv = is_auth_fctype(sqe, NVT_NVMF_FCTYPE_AUTH_RECV);
	push(q, c, sqe, icd, icd_len);
}

/* Flip a bit or cut the tail of a right message, as the input says. */
static uint32_t
corrupt(uint8_t *msg, uint32_t len, uint8_t how)
{
	if (how == 0 || len == 0) {
		return len;
	}
	if (how < 240) {
		msg[(how - 1u) % len] ^= 1u;
		return len;
	}
	return len > how - 239u ? len - (how - 239u) : 0;
}

/* The right next step of the exchange, as the host believes it stands. */
static void
right_step(struct auth_queue *q, uint8_t flags, uint8_t opts, uint8_t how)
{
	_Alignas(uint64_t) uint8_t msg[FUZZ_AUTH_MSG_MAX]; /* read as the messages' structures */
	uint32_t len;

	switch (q->host.next) {
	case FUZZ_AUTH_NEXT_NEGOTIATE:
		len = (uint32_t)fuzz_auth_host_negotiate(&q->host, opts, msg);
		break;
	case FUZZ_AUTH_NEXT_REPLY:
		len = (uint32_t)fuzz_auth_host_reply(&q->host, opts, msg);
		break;
	case FUZZ_AUTH_NEXT_SUCCESS2:
		len = (uint32_t)fuzz_auth_host_success2(&q->host, opts, msg);
		break;
	default:
		/* Challenge or Success1: a Receive, as large as the Linux host asks. */
		recv_msg(q, how != 0 ? how * 16u : FUZZ_AUTH_MSG_MAX, NULL);
		return;
	}
	send_msg(q, msg, corrupt(msg, len, how), flags, NULL, true);
}

/* ---- records ---- */

/* Send one record; \return the bytes it took, 0 at the end of the input. */
static size_t
run_record(struct auth_queue *q, const uint8_t *rec, size_t left)
{
	uint8_t flags = rec[0];
	bool raw = (flags & REC_RAW) != 0;
	size_t fixed = RECORD_HDR_LEN + (raw ? RAW_LEN : 0), len;
	const uint8_t *rawp = raw ? rec + RECORD_HDR_LEN : NULL;
	union nvt_nvme_sqe sqe;

	switch (flags & REC_WHAT) {
	case WHAT_SEND:
		if (left < fixed) {
			return 0;
		}
		len = le16(rec + 1) < left - fixed ? le16(rec + 1) : left - fixed;
		send_msg(q, rec + fixed, (uint32_t)len, flags, rawp, false);
		return fixed + len;
	case WHAT_RECV:
		if (left < fixed) {
			return 0;
		}
		recv_msg(q, le16(rec + 1), rawp);
		return fixed;
	case WHAT_OTHER:
		fixed = RECORD_HDR_LEN + sizeof(sqe);
		if (left < fixed) {
			return 0;
		}
		memcpy(&sqe, rec + RECORD_HDR_LEN, sizeof(sqe));
		len = le16(rec + 1) < left - fixed ? le16(rec + 1) : left - fixed;
		other_cmd(q, &sqe, rec + fixed, (uint32_t)len, raw);
		return fixed + len;
	default:
		if (left < RECORD_HDR_LEN) {
			return 0;
		}
		right_step(q, flags, rec[1], rec[2]);
		return RECORD_HDR_LEN;
	}
}

/* Let the target run, read what it sent, and let time pass as the record says. */
static void
after_record(struct auth_queue *qs, uint32_t nq, uint8_t flags)
{
	uint64_t us = g_time_us[(flags >> REC_TIME_SHIFT) & 3u];
	uint32_t i;

	if ((flags & REC_PIPELINE) && us == 0) {
		return;
	}
	fuzz_env_poll();
	for (i = 0; i < nq; i++) {
		queue_service(&qs[i]);
	}
	if (us != 0) {
		fuzz_env_advance(us);
		for (i = 0; i < nq; i++) {
			queue_service(&qs[i]);
		}
	}
}

/* ---- set-up ---- */

static void
queue_open(struct auth_queue *q, uint16_t port, uint16_t qid, const uint8_t *pre)
{
	q->qid = qid;
	q->conn = fuzz_conn_open(port);
	q->conn->record = true;
	q->conn->chunk_max = g_chunk_max[pre[3] & 7u];
	q->conn->send_budget = g_send_budget[(pre[3] >> 3) & 3u];
	/* The host holds the controller's key either way: it may ask, the target must refuse. */
	fuzz_auth_host_init(&q->host, pre[2] & 0x80u ? FUZZ_AUTH_UNI_HOSTNQN : FUZZ_AUTH_HOSTNQN,
			    FUZZ_SUBNQN, FUZZ_AUTH_HOST_KEY, FUZZ_AUTH_CTRLR_KEY);
	fuzz_pdu_push_icreq(q->conn, &q->st, pre[0] & 1u, (pre[0] >> 1) & 1u,
			    (uint8_t)((pre[0] >> 2) & 0x1fu));
	fuzz_env_poll();
	fuzz_pdu_read(q->conn, &q->st, NULL, NULL);
	if (!q->st.ic_done) {
		fuzz_env_fail("set-up: no ICResp to a valid ICReq");
	}
}

/* Send a capsule the set-up needs and wait for its completion (its status, -1: none). */
static int
setup_command(struct auth_queue *q, union nvt_nvme_sqe *sqe, const void *data, uint32_t len)
{
	struct auth_cmd *c = cmd_new(q, CMD_SETUP, 0);

	sqe_set_sgl(sqe, true, len);
	q->got = false;
	push(q, c, sqe, data, len);
	fuzz_env_poll();
	queue_service(q);
	return q->got ? (q->cpl.status >> 1) : -1;
}

/* Connect as the host that must authenticate; \return the controller ID. */
static uint16_t
queue_connect(struct auth_queue *q, uint16_t sqsize, uint16_t cntlid, uint32_t kato)
{
	struct nvt_nvmf_connect_data cd;
	union nvt_nvme_sqe sqe;
	int st;

	memset(&sqe, 0, sizeof(sqe));
	memset(&cd, 0, sizeof(cd));
	sqe.connect.opc = NVT_NVME_OPC_FABRICS;
	sqe.connect.fctype = NVT_NVMF_FCTYPE_CONNECT;
	sqe.connect.qid = q->qid;
	sqe.connect.sqsize = sqsize;
	sqe.connect.kato = kato;
	cd.cntlid = cntlid;
	snprintf(cd.subnqn, sizeof(cd.subnqn), "%s", FUZZ_SUBNQN);
	snprintf(cd.hostnqn, sizeof(cd.hostnqn), "%s", q->host.hostnqn);
	st = setup_command(q, &sqe, &cd, sizeof(cd));
	if (st != 0) {
		fuzz_env_fail("set-up: Connect of queue %u failed: status %#x", q->qid, st);
	}
	if (!((q->cpl.cdw0 >> 16) & NVT_NVMF_CONNECT_AUTHREQ_ATR)) {
		fuzz_env_fail("set-up: the Connect of queue %u does not ask to authenticate "
			      "(cdw0 %#x)",
			      q->qid, q->cpl.cdw0);
	}
	return nvt_nvmf_connect_rsp_cntlid(&q->cpl);
}

/* A whole exchange of right steps (SHA-256, no DH group), which must succeed. */
static void
admin_authenticate(struct auth_queue *q)
{
	int step;

	for (step = 0; step < 4 && (step == 0 || q->host.next != FUZZ_AUTH_NEXT_NEGOTIATE);
	     step++) {
		right_step(q, 0, 0, 0);
		fuzz_env_poll();
		queue_service(q);
	}
	if (!q->maybe_auth || q->host.next != FUZZ_AUTH_NEXT_NEGOTIATE) {
		fuzz_env_fail("set-up: a right exchange on the admin queue did not succeed");
	}
}

static void
admin_enable(struct auth_queue *q)
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
		fuzz_env_fail("set-up: Property Set CC.EN=1 after authentication failed: status "
			      "%#x",
			      st);
	}
}

static uint16_t
auth_setup(void)
{
	static uint16_t port;

	if (port == 0) {
		fuzz_env_init();
		fuzz_env_start_auth_target();
		port = fuzz_sock_listen_port(0);
		if (port == 0) {
			fuzz_env_fail("the target has no listener");
		}
	}
	return port;
}

/* The connections go (the I/O queue first, as a host tears down) and every check ends. */
static void
queues_close(struct auth_queue *qs, uint32_t nq)
{
	uint32_t i, j;

	for (i = nq; i-- > 0;) {
		fuzz_conn_shutdown(qs[i].conn);
		fuzz_pdu_read(qs[i].conn, &qs[i].st, on_pdu, &qs[i]);
		fuzz_conn_free(qs[i].conn);
		for (j = 0; j < SLOTS; j++) {
			cmd_free(&qs[i].cmds[j]);
		}
		fuzz_auth_host_fini(&qs[i].host);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_queue qs[2];
	uint16_t port = auth_setup(), cntlid;
	uint32_t nq = 1;
	size_t off = PREAMBLE_LEN, n;
	struct auth_queue *q;

	if (size < PREAMBLE_LEN) {
		return 0;
	}
	memset(qs, 0, sizeof(qs));
	queue_open(&qs[0], port, 0, data);
	cntlid = queue_connect(&qs[0], ADMIN_SQSIZE, NVT_NVMF_CNTLID_DYNAMIC, data[1] * 1000u);
	if (data[0] & 0x80u) {
		admin_authenticate(&qs[0]);
		admin_enable(&qs[0]);
		queue_open(&qs[1], port, 1, data);
		queue_connect(&qs[1], (uint16_t)(1 + (data[2] & 0x7fu) % (FUZZ_QUEUE_DEPTH - 1)),
			      cntlid, 0);
		nq = 2;
	}
	while (off < size) {
		q = &qs[(data[off] & REC_IO_QUEUE) && nq == 2 ? 1 : 0];
		n = run_record(q, data + off, size - off);
		if (n == 0) {
			break;
		}
		after_record(qs, nq, data[off]);
		off += n;
	}
	queues_close(qs, nq);
	fuzz_env_check_idle();
	return 0;
}
