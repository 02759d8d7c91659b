/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DH-HMAC-CHAP, the host's side (NVMe Base 2.0 section 8.13.5): one run on
 * one queue, a state machine driven by the completions of its Authentication
 * Send and Receive commands, one outstanding at a time:
 *
 *   AUTH_Negotiate -> Challenge -> Reply -> Success1 [-> Success2]
 *
 * A Failure1 from the controller ends the run (-EACCES). A message that is
 * malformed, truncated, out of order or of another transaction, and a
 * controller response R2 that does not match, are answered with an
 * AUTH_Failure2 before the run ends (-EPROTO, -EKEYREJECTED).
 *
 * The Diffie-Hellman and HMAC arithmetic runs inline when the Challenge
 * arrives (milliseconds; ffdhe8192 is the slowest). The DH shared secret
 * and the augmented challenges live on the stack for that step only and are
 * wiped; no secret byte is ever logged.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvme_internal.h"

NVT_LOG_REGISTER_COMPONENT(nvme_auth)

/* Buffer of every message; the largest, a Reply with ffdhe8192, takes 1168 bytes. */
#define AUTH_BUF_SIZE 4096

#define AUTH_BIT(s) (1u << (s))

enum nvme_auth_state {
	/* AUTH_Negotiate sent. */
	NVME_AUTH_STATE_NEGOTIATE,
	/* Authentication Receive of the Challenge outstanding. */
	NVME_AUTH_STATE_CHALLENGE,
	/* DH-HMAC-CHAP_Reply sent. */
	NVME_AUTH_STATE_REPLY,
	/* Authentication Receive of Success1 (or Failure1) outstanding. */
	NVME_AUTH_STATE_SUCCESS1,
	/* DH-HMAC-CHAP_Success2 sent (bidirectional only). */
	NVME_AUTH_STATE_SUCCESS2,
	/* AUTH_Failure2 sent; the run fails with rc once it completes. */
	NVME_AUTH_STATE_FAILURE2,
	/* Over, rc tells how; nothing is outstanding. */
	NVME_AUTH_STATE_DONE,
	NVME_AUTH_NUM_STATES,
};

static const uint32_t g_auth_transitions[NVME_AUTH_NUM_STATES] = {
	[NVME_AUTH_STATE_NEGOTIATE] =
		AUTH_BIT(NVME_AUTH_STATE_CHALLENGE) | AUTH_BIT(NVME_AUTH_STATE_DONE),
	[NVME_AUTH_STATE_CHALLENGE] = AUTH_BIT(NVME_AUTH_STATE_REPLY) |
				      AUTH_BIT(NVME_AUTH_STATE_FAILURE2) |
				      AUTH_BIT(NVME_AUTH_STATE_DONE),
	[NVME_AUTH_STATE_REPLY] =
		AUTH_BIT(NVME_AUTH_STATE_SUCCESS1) | AUTH_BIT(NVME_AUTH_STATE_DONE),
	[NVME_AUTH_STATE_SUCCESS1] = AUTH_BIT(NVME_AUTH_STATE_SUCCESS2) |
				     AUTH_BIT(NVME_AUTH_STATE_FAILURE2) |
				     AUTH_BIT(NVME_AUTH_STATE_DONE),
	[NVME_AUTH_STATE_SUCCESS2] = AUTH_BIT(NVME_AUTH_STATE_DONE),
	[NVME_AUTH_STATE_FAILURE2] = AUTH_BIT(NVME_AUTH_STATE_DONE),
	[NVME_AUTH_STATE_DONE] = 0,
};

static const char *const g_auth_state_names[NVME_AUTH_NUM_STATES] = {
	[NVME_AUTH_STATE_NEGOTIATE] = "negotiate", [NVME_AUTH_STATE_CHALLENGE] = "challenge",
	[NVME_AUTH_STATE_REPLY] = "reply",	   [NVME_AUTH_STATE_SUCCESS1] = "success1",
	[NVME_AUTH_STATE_SUCCESS2] = "success2",   [NVME_AUTH_STATE_FAILURE2] = "failure2",
	[NVME_AUTH_STATE_DONE] = "done",
};

struct nvme_auth {
	struct nvt_nvme_qpair *qpair;
	enum nvme_auth_state state;
	nvme_auth_done_fn done_fn;
	void *done_arg;
	/* The run's result once known (told after a Failure2 completed). */
	int rc;
	uint16_t status;
	/* Transaction ID, echoed by every message. */
	uint16_t tid;
	/* The controller's choice, from the Challenge; hl is the hash length. */
	enum nvt_auth_hash hash;
	enum nvt_auth_dhgroup dhgroup;
	uint8_t hl;
	/* The host authenticates the controller too: R2 is what it must answer. */
	bool bidir;
	uint8_t r2[NVT_AUTH_MAX_HASH_LEN];
	/* Every message, sent or received; aligned for the 32-bit fields of the messages. */
	_Alignas(8) uint8_t buf[AUTH_BUF_SIZE];
};

/* Status of a step: the run goes on (a command is outstanding). */
#define AUTH_PENDING 1

static void
auth_set_state(struct nvme_auth *auth, enum nvme_auth_state next)
{
	if ((g_auth_transitions[auth->state] & AUTH_BIT(next)) == 0) {
		NVT_ERRLOG("qpair %u: auth: no transition %s -> %s\n", auth->qpair->qid,
			   g_auth_state_names[auth->state], g_auth_state_names[next]);
		assert(false);
	}
	NVT_DEBUGLOG(nvme_auth, "qpair %u: auth %s -> %s\n", auth->qpair->qid,
		     g_auth_state_names[auth->state], g_auth_state_names[next]);
	auth->state = next;
}

static const char *
failure_reason_str(uint8_t rcode_exp)
{
	switch (rcode_exp) {
	case NVT_AUTH_FAIL_FAILED:
		return "authentication failed";
	case NVT_AUTH_FAIL_NOT_USABLE:
		return "authentication protocol not usable";
	case NVT_AUTH_FAIL_CONCAT_MISMATCH:
		return "secure channel concatenation mismatch";
	case NVT_AUTH_FAIL_HASH_UNUSABLE:
		return "hash function not usable";
	case NVT_AUTH_FAIL_DHGROUP_UNUSABLE:
		return "DH group not usable";
	case NVT_AUTH_FAIL_INCORRECT_PAYLOAD:
		return "incorrect payload";
	case NVT_AUTH_FAIL_INCORRECT_PROTOCOL:
		return "incorrect protocol message";
	default:
		return "unknown reason";
	}
}

static void auth_cmd_done(void *arg, const struct nvt_nvme_cpl *cpl);

/* Authentication Send of \p len bytes of buf, or Receive into all of it. */
static int
auth_submit(struct nvme_auth *auth, bool send, uint32_t len)
{
	union nvt_nvme_sqe sqe = { 0 };

	sqe.auth.opc = NVT_NVME_OPC_FABRICS;
	sqe.auth.fctype = send ? NVT_NVMF_FCTYPE_AUTH_SEND : NVT_NVMF_FCTYPE_AUTH_RECV;
	sqe.auth.secp = NVT_NVMF_AUTH_SECP_NVME;
	sqe.auth.spsp0 = NVT_AUTH_SPSP0;
	sqe.auth.spsp1 = NVT_AUTH_SPSP1;
	sqe.auth.tl_al = len;
	return nvme_qpair_submit(auth->qpair, &sqe.cmd, auth->buf, len, send, auth_cmd_done, auth);
}

static int
auth_recv(struct nvme_auth *auth, enum nvme_auth_state next)
{
	memset(auth->buf, 0, sizeof(auth->buf));
	auth_set_state(auth, next);
	return auth_submit(auth, false, sizeof(auth->buf));
}

/* Fill one protocol descriptor with every offered ID, in the order of their values. */
static void
auth_fill_desc(struct nvt_auth_protocol_desc *d, const struct nvme_keys *keys)
{
	unsigned int id;

	d->authid = NVT_AUTH_ID_DHCHAP;
	for (id = NVT_AUTH_HASH_SHA256; id <= NVT_AUTH_HASH_SHA512; id++) {
		if ((keys->digests & (1u << id)) != 0) {
			d->idlist[d->halen++] = (uint8_t)id;
		}
	}
	for (id = NVT_AUTH_DHGROUP_NULL; id <= NVT_AUTH_DHGROUP_8192; id++) {
		if ((keys->dhgroups & (1u << id)) != 0) {
			d->idlist[NVT_AUTH_IDLIST_HASH_MAX + d->dhlen++] = (uint8_t)id;
		}
	}
}

static int
auth_send_negotiate(struct nvme_auth *auth)
{
	struct nvt_auth_negotiate *msg = (struct nvt_auth_negotiate *)auth->buf;

	memset(auth->buf, 0, sizeof(auth->buf));
	msg->auth_type = NVT_AUTH_TYPE_COMMON;
	msg->auth_id = NVT_AUTH_MSG_NEGOTIATE;
	msg->t_id = auth->tid;
	msg->sc_c = 0;
	msg->napd = 1;
	auth_fill_desc(&msg->descs[0], auth->qpair->ctrlr->keys);
	return auth_submit(auth, true, sizeof(*msg) + sizeof(msg->descs[0]));
}

/* Send AUTH_Failure2 with \p reason; the run then ends with \p rc. */
static int
auth_send_failure2(struct nvme_auth *auth, uint8_t reason, int rc)
{
	struct nvt_auth_failure_msg *msg = (struct nvt_auth_failure_msg *)auth->buf;

	auth->rc = rc;
	memset(auth->buf, 0, sizeof(auth->buf));
	msg->auth_type = NVT_AUTH_TYPE_COMMON;
	msg->auth_id = NVT_AUTH_MSG_FAILURE2;
	msg->t_id = auth->tid;
	msg->rcode = NVT_AUTH_FAILURE_RCODE;
	msg->rcode_exp = reason;
	auth_set_state(auth, NVME_AUTH_STATE_FAILURE2);
	if (auth_submit(auth, true, sizeof(*msg)) != 0) {
		return rc;
	}
	return AUTH_PENDING;
}

/* A protocol error in what the controller sent: log it, answer with a Failure2. */
static int
auth_protocol_error_id(struct nvme_auth *auth, uint8_t reason, const char *what, int id)
{
	char idstr[16] = "";

	if (id >= 0) {
		snprintf(idstr, sizeof(idstr), " (%d)", id);
	}
	NVT_ERRLOG("qpair %u: DH-HMAC-CHAP: bad %s message from the controller: %s%s\n",
		   auth->qpair->qid, g_auth_state_names[auth->state], what, idstr);
	return auth_send_failure2(auth, reason, -EPROTO);
}

static int
auth_protocol_error(struct nvme_auth *auth, uint8_t reason, const char *what)
{
	return auth_protocol_error_id(auth, reason, what, -1);
}

/*
 * Check the common header of a received message of \p len bytes: 0 when it is
 * the DH-HMAC-CHAP message \p id of this transaction; else the step's result
 * (a Failure1 ends the run, anything else is answered with a Failure2).
 */
static int
auth_check_header(struct nvme_auth *auth, uint32_t len, uint8_t id, size_t min_len)
{
	const struct nvt_auth_failure_msg *f = (const struct nvt_auth_failure_msg *)auth->buf;

	if (len >= sizeof(*f) && f->auth_type == NVT_AUTH_TYPE_COMMON &&
	    f->auth_id == NVT_AUTH_MSG_FAILURE1) {
		NVT_ERRLOG("qpair %u: DH-HMAC-CHAP authentication failed: the controller refused "
			   "the host (AUTH_Failure1: %s)\n",
			   auth->qpair->qid, failure_reason_str(f->rcode_exp));
		return -EACCES;
	}
	if (len < min_len) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PAYLOAD, "truncated");
	}
	if (f->auth_type != NVT_AUTH_TYPE_DHCHAP || f->auth_id != id) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PROTOCOL,
					   "unexpected message type");
	}
	if (f->t_id != auth->tid) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PAYLOAD,
					   "wrong transaction ID");
	}
	return 0;
}

/* The controller's hash and group must be among those offered, with consistent sizes. */
static int
auth_check_choice(struct nvme_auth *auth, const struct nvt_auth_challenge *c, uint32_t len)
{
	const struct nvme_keys *keys = auth->qpair->ctrlr->keys;

	if (c->hashid > NVT_AUTH_HASH_SHA512 || (keys->digests & (1u << c->hashid)) == 0 ||
	    c->hl != nvt_auth_hash_len(c->hashid)) {
		return auth_protocol_error_id(auth, NVT_AUTH_FAIL_HASH_UNUSABLE,
					      "hash function not offered", c->hashid);
	}
	if (c->dhgid > NVT_AUTH_DHGROUP_8192 || (keys->dhgroups & (1u << c->dhgid)) == 0) {
		return auth_protocol_error_id(auth, NVT_AUTH_FAIL_DHGROUP_UNUSABLE,
					      "DH group not offered", c->dhgid);
	}
	/* SPDK drops the leading zero bytes of its public value: up to the group's size. */
	if ((c->dhgid == NVT_AUTH_DHGROUP_NULL) != (c->dhvlen == 0) ||
	    c->dhvlen > nvt_auth_dhgroup_len(c->dhgid)) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PAYLOAD,
					   "DH value of the wrong length");
	}
	if (sizeof(*c) + c->hl + (size_t)c->dhvlen > len) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PAYLOAD, "truncated");
	}
	if (c->seqnum == 0) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PAYLOAD,
					   "sequence number 0");
	}
	return 0;
}

/* A response of \p role to \p chal, augmented with the DH secret when there is one. */
static int
auth_response(const struct nvme_auth *auth, enum nvt_auth_role role, const uint8_t *chal,
	      uint32_t seqnum, const uint8_t *shared, size_t shared_len, uint8_t *out)
{
	const struct nvt_nvme_ctrlr *ctrlr = auth->qpair->ctrlr;
	const struct nvme_keys *keys = ctrlr->keys;
	const uint8_t *key = role == NVT_AUTH_ROLE_HOST ? keys->kh : keys->kc;
	size_t key_len = role == NVT_AUTH_ROLE_HOST ? keys->kh_len : keys->kc_len;
	uint8_t aug[NVT_AUTH_MAX_HASH_LEN];
	int rc = 0;

	if (shared_len > 0) {
		rc = nvt_auth_augment_challenge(auth->hash, shared, shared_len, chal, aug);
		chal = aug;
	}
	if (rc == 0) {
		rc = nvt_auth_chap_response(role, auth->hash, key, key_len, chal, seqnum, auth->tid,
					    0, ctrlr->opts.hostnqn, ctrlr->trid.subnqn, out);
	}
	nvt_auth_wipe(aug, sizeof(aug));
	return rc;
}

/* The host's DH key pair: its public value into \p pub, the shared secret into \p shared. */
static int
auth_dh(const struct nvme_auth *auth, const uint8_t *peer, size_t peer_len, uint8_t *pub,
	uint8_t *shared, size_t *shared_len)
{
	struct nvt_auth_dh *dh = NULL;
	int rc, pub_len;

	rc = nvt_auth_dh_new(auth->dhgroup, &dh);
	if (rc != 0) {
		return rc;
	}
	pub_len = nvt_auth_dh_public(dh, pub, NVT_AUTH_MAX_DH_LEN);
	rc = pub_len < 0 ? pub_len
			 : nvt_auth_dh_shared(dh, peer, peer_len, shared, NVT_AUTH_MAX_DH_LEN);
	nvt_auth_dh_free(dh);
	if (rc < 0) {
		return rc;
	}
	*shared_len = (size_t)rc;
	return pub_len;
}

/* Write the Reply into buf: R1, C2 (bidirectional) and the host's DH value. */
static uint32_t
auth_put_reply(struct nvme_auth *auth, const uint8_t *r1, const uint8_t *c2, uint32_t s2,
	       const uint8_t *pub, size_t pub_len)
{
	struct nvt_auth_reply *reply = (struct nvt_auth_reply *)auth->buf;

	memset(auth->buf, 0, sizeof(auth->buf));
	reply->auth_type = NVT_AUTH_TYPE_DHCHAP;
	reply->auth_id = NVT_AUTH_MSG_REPLY;
	reply->t_id = auth->tid;
	reply->hl = auth->hl;
	reply->cvalid = auth->bidir ? 1 : 0;
	reply->dhvlen = (uint16_t)pub_len;
	reply->seqnum = auth->bidir ? s2 : 0;
	memcpy(reply->rval, r1, auth->hl);
	if (auth->bidir) {
		memcpy(reply->rval + auth->hl, c2, auth->hl);
	}
	memcpy(reply->rval + 2 * auth->hl, pub, pub_len);
	return (uint32_t)(sizeof(*reply) + 2 * auth->hl + pub_len);
}

/* A fresh challenge C2 and a non-zero sequence number S2 for the controller. */
static int
auth_new_challenge(const struct nvme_auth *auth, uint8_t *c2, uint32_t *s2)
{
	int rc = nvt_auth_random(c2, auth->hl);

	if (rc == 0) {
		rc = nvt_auth_random(s2, sizeof(*s2));
	}
	if (*s2 == 0) {
		*s2 = 1;
	}
	return rc;
}

/*
 * From the Challenge in buf (checked): R1, and when bidirectional C2 and the R2
 * the controller must answer; then the Reply replaces the Challenge in buf.
 * Returns the Reply's length or -errno.
 */
static int
auth_build_reply(struct nvme_auth *auth)
{
	const struct nvt_auth_challenge *c = (const struct nvt_auth_challenge *)auth->buf;
	uint8_t pub[NVT_AUTH_MAX_DH_LEN], shared[NVT_AUTH_MAX_DH_LEN];
	uint8_t r1[NVT_AUTH_MAX_HASH_LEN], c2[NVT_AUTH_MAX_HASH_LEN];
	size_t shared_len = 0;
	uint32_t s2 = 0;
	int rc = 0, pub_len = 0;

	if (auth->dhgroup != NVT_AUTH_DHGROUP_NULL) {
		pub_len = auth_dh(auth, c->cval + c->hl, c->dhvlen, pub, shared, &shared_len);
		rc = pub_len < 0 ? pub_len : 0;
	}
	if (rc == 0) {
		rc = auth_response(auth, NVT_AUTH_ROLE_HOST, c->cval, c->seqnum, shared, shared_len,
				   r1);
	}
	if (rc == 0 && auth->bidir) {
		rc = auth_new_challenge(auth, c2, &s2);
	}
	if (rc == 0 && auth->bidir) {
		rc = auth_response(auth, NVT_AUTH_ROLE_CTRLR, c2, s2, shared, shared_len, auth->r2);
	}
	if (rc == 0) {
		rc = (int)auth_put_reply(auth, r1, c2, s2, pub, (size_t)pub_len);
	}
	nvt_auth_wipe(shared, sizeof(shared));
	nvt_auth_wipe(r1, sizeof(r1));
	return rc;
}

static int
auth_on_challenge(struct nvme_auth *auth, uint32_t len)
{
	const struct nvt_auth_challenge *c = (const struct nvt_auth_challenge *)auth->buf;
	int rc;

	rc = auth_check_header(auth, len, NVT_AUTH_MSG_CHALLENGE, sizeof(*c));
	if (rc == 0) {
		rc = auth_check_choice(auth, c, len);
	}
	if (rc != 0) {
		return rc;
	}
	auth->hash = c->hashid;
	auth->dhgroup = c->dhgid;
	auth->hl = c->hl;
	rc = auth_build_reply(auth);
	if (rc == -EINVAL) {
		/* The arithmetic refuses only a DH value outside the group. */
		return auth_protocol_error(auth, NVT_AUTH_FAIL_INCORRECT_PAYLOAD,
					   "invalid DH value");
	}
	if (rc < 0) {
		NVT_ERRLOG("qpair %u: DH-HMAC-CHAP: computing the reply failed: %s\n",
			   auth->qpair->qid, nvt_strerror(rc));
		return auth_send_failure2(auth, NVT_AUTH_FAIL_FAILED, rc);
	}
	auth_set_state(auth, NVME_AUTH_STATE_REPLY);
	rc = auth_submit(auth, true, (uint32_t)rc);
	return rc == 0 ? AUTH_PENDING : rc;
}

static int
auth_send_success2(struct nvme_auth *auth)
{
	struct nvt_auth_success2 *msg = (struct nvt_auth_success2 *)auth->buf;
	int rc;

	memset(auth->buf, 0, sizeof(auth->buf));
	msg->auth_type = NVT_AUTH_TYPE_DHCHAP;
	msg->auth_id = NVT_AUTH_MSG_SUCCESS2;
	msg->t_id = auth->tid;
	auth_set_state(auth, NVME_AUTH_STATE_SUCCESS2);
	rc = auth_submit(auth, true, sizeof(*msg));
	return rc == 0 ? AUTH_PENDING : rc;
}

/* Compare in time independent of where the bytes differ. */
static bool
auth_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		diff |= (uint8_t)(a[i] ^ b[i]);
	}
	return diff == 0;
}

static int
auth_on_success1(struct nvme_auth *auth, uint32_t len)
{
	const struct nvt_auth_success1 *s = (const struct nvt_auth_success1 *)auth->buf;
	int rc;

	rc = auth_check_header(auth, len, NVT_AUTH_MSG_SUCCESS1, sizeof(*s));
	if (rc != 0) {
		return rc;
	}
	if (s->hl != auth->hl) {
		return auth_protocol_error(auth, NVT_AUTH_FAIL_HASH_UNUSABLE,
					   "hash length differs from the Challenge's");
	}
	if (!auth->bidir) {
		return 0;
	}
	if (!s->rvalid || sizeof(*s) + s->hl > len || !auth_equal(s->rval, auth->r2, auth->hl)) {
		NVT_ERRLOG("qpair %u: DH-HMAC-CHAP: controller authentication failed: its "
			   "response does not match the controller key\n",
			   auth->qpair->qid);
		return auth_send_failure2(auth, NVT_AUTH_FAIL_FAILED, -EKEYREJECTED);
	}
	return auth_send_success2(auth);
}

/* A command of the run failed: the transport, the queue's teardown, or the controller. */
static int
auth_cmd_error(struct nvme_auth *auth, const struct nvt_nvme_cpl *cpl)
{
	struct nvt_nvme_qpair *qpair = auth->qpair;
	char buf[96];

	if (qpair->state == NVME_QPAIR_STATE_FAILED) {
		if (!qpair->closing && qpair->fatal_rc != 0) {
			/* Linux's target may drop a host it refused before its Failure1 is out. */
			NVT_ERRLOG("qpair %u: DH-HMAC-CHAP: the connection failed in the %s step: "
				   "%s\n",
				   qpair->qid, g_auth_state_names[auth->state],
				   nvt_strerror(qpair->fatal_rc));
		}
		return qpair->fatal_rc != 0 ? qpair->fatal_rc : -ECANCELED;
	}
	NVT_ERRLOG(
		"qpair %u: DH-HMAC-CHAP: Authentication %s of the %s step failed: %s\n", qpair->qid,
		auth->state == NVME_AUTH_STATE_CHALLENGE || auth->state == NVME_AUTH_STATE_SUCCESS1
			? "Receive"
			: "Send",
		g_auth_state_names[auth->state],
		nvt_nvme_status_fmt(cpl->status, buf, sizeof(buf)));
	auth->status = cpl->status;
	return -EREMOTEIO;
}

/* One completion: AUTH_PENDING while the run goes on, else its result. */
static int
auth_step(struct nvme_auth *auth, const struct nvt_nvme_cpl *cpl)
{
	uint32_t len = auth->qpair->cpl_data_len;
	int rc;

	if (auth->state == NVME_AUTH_STATE_FAILURE2) {
		/* Whatever the controller says to our Failure2, the run has failed. */
		return auth->rc;
	}
	if (nvt_nvme_cpl_is_error(cpl)) {
		return auth_cmd_error(auth, cpl);
	}
	len = len < sizeof(auth->buf) ? len : sizeof(auth->buf);
	switch (auth->state) {
	case NVME_AUTH_STATE_NEGOTIATE:
		rc = auth_recv(auth, NVME_AUTH_STATE_CHALLENGE);
		return rc == 0 ? AUTH_PENDING : rc;
	case NVME_AUTH_STATE_CHALLENGE:
		return auth_on_challenge(auth, len);
	case NVME_AUTH_STATE_REPLY:
		rc = auth_recv(auth, NVME_AUTH_STATE_SUCCESS1);
		return rc == 0 ? AUTH_PENDING : rc;
	case NVME_AUTH_STATE_SUCCESS1:
		return auth_on_success1(auth, len);
	case NVME_AUTH_STATE_SUCCESS2:
		return 0;
	default:
		assert(false);
		return -EINVAL;
	}
}

/* End the run: note what it did, free it, then tell (the last use of it). */
static void
auth_finish(struct nvme_auth *auth, int rc)
{
	struct nvt_nvme_qpair *qpair = auth->qpair;
	nvme_auth_done_fn done_fn = auth->done_fn;
	void *done_arg = auth->done_arg;
	uint16_t status = auth->status;

	auth_set_state(auth, NVME_AUTH_STATE_DONE);
	qpair->auth_info = (struct nvt_nvme_auth_info){
		.authenticated = rc == 0,
		.bidirectional = rc == 0 && auth->bidir,
		.hash = auth->hash,
		.dhgroup = auth->dhgroup,
	};
	if (rc == 0) {
		NVT_DEBUGLOG(nvme_auth, "qpair %u: authenticated (%s, %s%s)\n", qpair->qid,
			     nvt_auth_hash_name(auth->hash), nvt_auth_dhgroup_name(auth->dhgroup),
			     auth->bidir ? ", controller authenticated" : "");
	}
	qpair->auth = NULL;
	nvt_auth_wipe(auth, sizeof(*auth));
	free(auth);
	done_fn(done_arg, rc, status);
}

static void
auth_cmd_done(void *arg, const struct nvt_nvme_cpl *cpl)
{
	struct nvme_auth *auth = arg;
	int rc = auth_step(auth, cpl);

	if (rc != AUTH_PENDING) {
		auth_finish(auth, rc);
	}
}

int
nvme_auth_needed(const struct nvt_nvme_qpair *qpair, uint16_t authreq)
{
	const struct nvt_nvme_ctrlr *ctrlr = qpair->ctrlr;
	const struct nvme_keys *keys = ctrlr->keys;
	bool check_ctrlr = keys != NULL && keys->kc_len > 0 && !nvt_nvme_ctrlr_is_discovery(ctrlr);

	if ((authreq & NVT_NVMF_CONNECT_AUTHREQ_ASCR) != 0) {
		NVT_ERRLOG("qpair %u: the controller requires secure channel concatenation, "
			   "which is not supported\n",
			   qpair->qid);
		return -ENOTSUP;
	}
	/* A controller that does not ask is still asked to prove itself when a key says who. */
	if ((authreq & NVT_NVMF_CONNECT_AUTHREQ_ATR) == 0 && !check_ctrlr) {
		return 0;
	}
	if (keys == NULL || keys->kh_len == 0) {
		NVT_ERRLOG("qpair %u: the controller requires DH-HMAC-CHAP authentication and no "
			   "host key is set\n",
			   qpair->qid);
		return -ENOKEY;
	}
	return 1;
}

int
nvme_auth_start(struct nvt_nvme_qpair *qpair, nvme_auth_done_fn done_fn, void *done_arg)
{
	struct nvt_nvme_ctrlr *ctrlr = qpair->ctrlr;
	struct nvme_auth *auth;
	int rc;

	if (qpair->auth != NULL) {
		return -EBUSY;
	}
	if (ctrlr->keys == NULL || ctrlr->keys->kh_len == 0) {
		return -EINVAL;
	}
	auth = calloc(1, sizeof(*auth));
	if (auth == NULL) {
		return -ENOMEM;
	}
	auth->qpair = qpair;
	auth->done_fn = done_fn;
	auth->done_arg = done_arg;
	auth->tid = (uint16_t)atomic_fetch_add(&ctrlr->auth_tid, 1);
	auth->bidir = ctrlr->keys->kc_len > 0 && !nvt_nvme_ctrlr_is_discovery(ctrlr);
	rc = auth_send_negotiate(auth);
	if (rc != 0) {
		free(auth);
		return rc;
	}
	qpair->auth = auth;
	return 0;
}

void
nvme_auth_free(struct nvt_nvme_qpair *qpair)
{
	if (qpair->auth != NULL) {
		nvt_auth_wipe(qpair->auth, sizeof(*qpair->auth));
		free(qpair->auth);
		qpair->auth = NULL;
	}
}

/* ---- the controller's API ---- */

void
nvt_nvme_ctrlr_get_auth_info(const struct nvt_nvme_ctrlr *ctrlr, struct nvt_nvme_auth_info *info)
{
	static const struct nvt_nvme_auth_info none;

	*info = ctrlr->adminq != NULL ? ctrlr->adminq->auth_info : none;
}

static void
reauth_done(void *arg, int rc, uint16_t status)
{
	struct nvt_nvme_ctrlr *ctrlr = arg;
	nvt_nvme_ctrlr_auth_cb cb_fn = ctrlr->reauth_cb;
	void *cb_arg = ctrlr->reauth_cb_arg;

	ctrlr->reauth_cb = NULL;
	if (rc != 0) {
		/* The controller ends the association after a failed authentication. */
		nvme_ctrlr_mark_failed(ctrlr);
	}
	cb_fn(cb_arg, rc, status);
}

int
nvt_nvme_ctrlr_authenticate(struct nvt_nvme_ctrlr *ctrlr, nvt_nvme_ctrlr_auth_cb cb_fn,
			    void *cb_arg)
{
	int rc;

	if (cb_fn == NULL || ctrlr->keys == NULL || ctrlr->keys->kh_len == 0) {
		return -EINVAL;
	}
	if (nvt_nvme_ctrlr_is_failed(ctrlr) || ctrlr->adminq == NULL ||
	    ctrlr->adminq->state != NVME_QPAIR_STATE_READY) {
		return -ENXIO;
	}
	if (ctrlr->reauth_cb != NULL) {
		return -EBUSY;
	}
	ctrlr->reauth_cb = cb_fn;
	ctrlr->reauth_cb_arg = cb_arg;
	rc = nvme_auth_start(ctrlr->adminq, reauth_done, ctrlr);
	if (rc != 0) {
		ctrlr->reauth_cb = NULL;
	}
	return rc;
}
