/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_raw.h"

/* The host's allocation length of every Receive, as the Linux host uses. */
#define RAW_AL 4096

void
raw_sqe_auth(union nvt_nvme_sqe *sqe, uint16_t cid, uint8_t fctype, uint32_t len)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->auth.opc = NVT_NVME_OPC_FABRICS;
	sqe->auth.cid = cid;
	sqe->auth.fctype = fctype;
	sqe->auth.secp = NVT_NVMF_AUTH_SECP_NVME;
	sqe->auth.spsp0 = NVT_AUTH_SPSP0;
	sqe->auth.spsp1 = NVT_AUTH_SPSP1;
	sqe->auth.tl_al = len;
	nvt_test_tcp_sqe_sgl_transport(sqe, len);
}

int
raw_auth_send(struct nvt_test_conn *c, const void *msg, uint32_t len)
{
	union nvt_nvme_sqe sqe;
	uint16_t cid = nvt_test_tcp_next_cid(c);
	int rc;

	raw_sqe_auth(&sqe, cid, NVT_NVMF_FCTYPE_AUTH_SEND, len);
	rc = nvt_test_tcp_capsule_send(c, &sqe, NULL, 0, 0);
	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, cid, NULL, msg, len, NULL);
}

int
raw_auth_recv(struct nvt_test_conn *c, void *buf, uint32_t al)
{
	union nvt_nvme_sqe sqe;
	uint16_t cid = nvt_test_tcp_next_cid(c);
	int rc;

	raw_sqe_auth(&sqe, cid, NVT_NVMF_FCTYPE_AUTH_RECV, al);
	rc = nvt_test_tcp_capsule_send(c, &sqe, NULL, 0, 0);
	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, cid, buf, NULL, al, NULL);
}

__attribute__((format(printf, 2, 3))) static int
raw_fail(struct raw_auth *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

int
raw_negotiate(struct raw_auth *x)
{
	uint8_t buf[sizeof(struct nvt_auth_negotiate) + sizeof(struct nvt_auth_protocol_desc)];
	struct nvt_auth_negotiate *msg = (void *)buf;

	memset(buf, 0, sizeof(buf));
	msg->auth_type = NVT_AUTH_TYPE_COMMON;
	msg->auth_id = NVT_AUTH_MSG_NEGOTIATE;
	msg->t_id = x->t_id;
	msg->napd = 1;
	msg->descs[0].authid = NVT_AUTH_ID_DHCHAP;
	msg->descs[0].halen = 1;
	msg->descs[0].idlist[0] = (uint8_t)x->hash;
	msg->descs[0].dhlen = 1;
	msg->descs[0].idlist[NVT_AUTH_IDLIST_HASH_MAX] = (uint8_t)x->group;
	return raw_auth_send(x->c, buf, sizeof(buf));
}

int
raw_challenge(struct raw_auth *x)
{
	const struct nvt_auth_challenge *msg = (const void *)x->msg;
	size_t hl = nvt_auth_hash_len(x->hash);
	int rc = raw_auth_recv(x->c, x->msg, RAW_AL);

	if (rc != 0) {
		return rc > 0 ? raw_fail(x, "Challenge: status 0x%x", rc) : rc;
	}
	if (msg->auth_type != NVT_AUTH_TYPE_DHCHAP || msg->auth_id != NVT_AUTH_MSG_CHALLENGE) {
		return raw_fail(x, "Receive: type %u id %u, not a Challenge", msg->auth_type,
				msg->auth_id);
	}
	if (msg->hashid != x->hash || msg->dhgid != x->group || msg->hl != hl ||
	    msg->dhvlen != nvt_auth_dhgroup_len(x->group) || msg->t_id != x->t_id ||
	    msg->seqnum == 0) {
		return raw_fail(x, "Challenge: fields not as negotiated");
	}
	x->s1 = msg->seqnum;
	memcpy(x->c1, msg->cval, hl);
	memcpy(x->ctrlr_pub, &msg->cval[hl], msg->dhvlen);
	return 0;
}

/* The response of \p role from the secret \p text over challenge \p chal. */
static int
raw_response(struct raw_auth *x, enum nvt_auth_role role, const char *text, const uint8_t *chal,
	     uint32_t seqnum, uint8_t *out)
{
	struct nvt_secret secret;
	uint8_t key[NVT_AUTH_MAX_HASH_LEN], aug[NVT_AUTH_MAX_HASH_LEN];
	size_t key_len;
	int rc;

	rc = nvt_secret_parse(text, strlen(text), &secret);
	if (rc == 0) {
		rc = nvt_auth_transform_key(&secret,
					    role == NVT_AUTH_ROLE_HOST ? x->hostnqn : x->subnqn,
					    key, &key_len);
	}
	if (rc == 0 && x->group != NVT_AUTH_DHGROUP_NULL) {
		rc = nvt_auth_augment_challenge(x->hash, x->shared, x->shared_len, chal, aug);
	} else if (rc == 0) {
		memcpy(aug, chal, nvt_auth_hash_len(x->hash));
	}
	if (rc == 0) {
		rc = nvt_auth_chap_response(role, x->hash, key, key_len, aug, seqnum, x->t_id, 0,
					    x->hostnqn, x->subnqn, out);
	}
	nvt_auth_wipe(&secret, sizeof(secret));
	return rc;
}

static int
raw_dh(struct raw_auth *x, uint8_t *pub)
{
	struct nvt_auth_dh *dh = NULL;
	size_t len = nvt_auth_dhgroup_len(x->group);
	int rc;

	if (x->group == NVT_AUTH_DHGROUP_NULL) {
		x->shared_len = 0;
		return 0;
	}
	rc = nvt_auth_dh_new(x->group, &dh);
	if (rc == 0) {
		rc = nvt_auth_dh_public(dh, pub, len) == (int)len ? 0 : -EIO;
	}
	if (rc == 0) {
		rc = nvt_auth_dh_shared(dh, x->ctrlr_pub, len, x->shared, sizeof(x->shared));
		x->shared_len = rc > 0 ? (size_t)rc : 0;
		rc = rc > 0 ? 0 : rc;
	}
	nvt_auth_dh_free(dh);
	return rc;
}

int
raw_reply_build(struct raw_auth *x)
{
	struct nvt_auth_reply *msg = (void *)x->reply;
	size_t hl = nvt_auth_hash_len(x->hash), dhvlen = nvt_auth_dhgroup_len(x->group);
	int rc;

	memset(x->reply, 0, sizeof(x->reply));
	msg->auth_type = NVT_AUTH_TYPE_DHCHAP;
	msg->auth_id = NVT_AUTH_MSG_REPLY;
	msg->t_id = x->t_id;
	msg->hl = (uint8_t)hl;
	msg->dhvlen = (uint16_t)dhvlen;
	rc = raw_dh(x, &msg->rval[2 * hl]);
	if (rc == 0) {
		rc = raw_response(x, NVT_AUTH_ROLE_HOST, x->host_key, x->c1, x->s1, msg->rval);
	}
	if (rc == 0 && x->ctrlr_key != NULL) {
		msg->cvalid = 1;
		rc = nvt_auth_random(x->c2, hl);
		x->s2 = (uint32_t)x->t_id * 7919u + 1u;
		msg->seqnum = x->s2;
		memcpy(&msg->rval[hl], x->c2, hl);
	}
	x->reply_len = sizeof(*msg) + 2 * hl + dhvlen;
	return rc != 0 ? raw_fail(x, "Reply: cannot compute it: %d", rc) : 0;
}

int
raw_success1(struct raw_auth *x, bool *r2_ok)
{
	const struct nvt_auth_success1 *msg = (const void *)x->msg;
	size_t hl = nvt_auth_hash_len(x->hash);
	uint8_t expect[NVT_AUTH_MAX_HASH_LEN];
	int rc = raw_auth_recv(x->c, x->msg, RAW_AL);

	*r2_ok = false;
	if (rc != 0) {
		return rc > 0 ? raw_fail(x, "Success1: status 0x%x", rc) : rc;
	}
	if (msg->auth_type != NVT_AUTH_TYPE_DHCHAP || msg->auth_id != NVT_AUTH_MSG_SUCCESS1) {
		return raw_fail(x, "Receive: type %u id %u reason %u, not a Success1",
				msg->auth_type, msg->auth_id, x->msg[7]);
	}
	if (msg->t_id != x->t_id || msg->hl != hl || msg->rvalid != (x->ctrlr_key != NULL)) {
		return raw_fail(x, "Success1: fields not as expected");
	}
	if (x->ctrlr_key == NULL) {
		return 0;
	}
	rc = raw_response(x, NVT_AUTH_ROLE_CTRLR, x->ctrlr_key, x->c2, x->s2, expect);
	*r2_ok = rc == 0 && memcmp(expect, msg->rval, hl) == 0;
	return 0;
}

int
raw_success2(struct raw_auth *x, bool ok)
{
	struct nvt_auth_success2 s2 = { .auth_type = NVT_AUTH_TYPE_DHCHAP,
					.auth_id = NVT_AUTH_MSG_SUCCESS2,
					.t_id = x->t_id };
	struct nvt_auth_failure_msg f2 = { .auth_type = NVT_AUTH_TYPE_COMMON,
					   .auth_id = NVT_AUTH_MSG_FAILURE2,
					   .t_id = x->t_id,
					   .rcode = NVT_AUTH_FAILURE_RCODE,
					   .rcode_exp = NVT_AUTH_FAIL_FAILED };

	return ok ? raw_auth_send(x->c, &s2, sizeof(s2)) : raw_auth_send(x->c, &f2, sizeof(f2));
}

int
raw_expect_failure1(struct raw_auth *x, uint8_t reason)
{
	const struct nvt_auth_failure_msg *msg = (const void *)x->msg;
	int rc = raw_auth_recv(x->c, x->msg, RAW_AL);

	if (rc != 0) {
		return rc > 0 ? raw_fail(x, "Failure1: status 0x%x", rc) : rc;
	}
	if (msg->auth_type != NVT_AUTH_TYPE_COMMON || msg->auth_id != NVT_AUTH_MSG_FAILURE1 ||
	    msg->rcode != NVT_AUTH_FAILURE_RCODE || msg->rcode_exp != reason) {
		return raw_fail(x, "expected Failure1 reason %u, got type %u id %u reason %u",
				reason, msg->auth_type, msg->auth_id, msg->rcode_exp);
	}
	return 0;
}

int
raw_authenticate(struct raw_auth *x)
{
	bool r2_ok;
	int rc;

	x->t_id++;
	rc = raw_negotiate(x);
	rc = rc > 0 ? raw_fail(x, "Negotiate: status 0x%x", rc) : rc;
	if (rc == 0) {
		rc = raw_challenge(x);
	}
	if (rc == 0) {
		rc = raw_reply_build(x);
	}
	if (rc == 0) {
		rc = raw_auth_send(x->c, x->reply, (uint32_t)x->reply_len);
		rc = rc > 0 ? raw_fail(x, "Reply: status 0x%x", rc) : rc;
	}
	if (rc == 0) {
		rc = raw_success1(x, &r2_ok);
	}
	if (rc == 0 && x->ctrlr_key != NULL) {
		rc = raw_success2(x, r2_ok);
		rc = rc == 0 && !r2_ok ? raw_fail(x, "Success1: the controller's R2 is wrong") : rc;
	}
	return rc;
}
