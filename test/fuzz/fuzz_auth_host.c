/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host's side of DH-HMAC-CHAP for fuzz_auth (see fuzz_auth_host.h).
 * The belief is only a guide for the right steps: a message it got wrong
 * (a fuzzed one the target refused, a step sent before the answer to the
 * last one was read) makes the next right step a wrong one, which the
 * target must refuse as any other. Only the target's own messages are
 * checked.
 */
#include <errno.h>
#include <string.h>

#include "nvtcp/nvmf_auth_spec.h"

#include "fuzz_auth_host.h"
#include "fuzz_env.h"

static const enum nvt_auth_hash g_hashes[4] = { NVT_AUTH_HASH_SHA256, NVT_AUTH_HASH_SHA384,
						NVT_AUTH_HASH_SHA512, NVT_AUTH_HASH_SHA256 };
static const enum nvt_auth_dhgroup g_groups[8] = {
	NVT_AUTH_DHGROUP_NULL, NVT_AUTH_DHGROUP_2048, NVT_AUTH_DHGROUP_NULL, NVT_AUTH_DHGROUP_2048,
	NVT_AUTH_DHGROUP_3072, NVT_AUTH_DHGROUP_4096, NVT_AUTH_DHGROUP_6144, NVT_AUTH_DHGROUP_8192,
};

/* An authid no protocol has: the target must skip its descriptor. */
#define OTHER_AUTHID 0x7e

void
fuzz_auth_host_init(struct fuzz_auth_host *h, const char *hostnqn, const char *subnqn,
		    const char *host_key, const char *ctrlr_key)
{
	memset(h, 0, sizeof(*h));
	h->hostnqn = hostnqn;
	h->subnqn = subnqn;
	if (nvt_secret_parse(host_key, strlen(host_key), &h->host_key) != 0 ||
	    nvt_secret_parse(ctrlr_key, strlen(ctrlr_key), &h->ctrlr_key) != 0) {
		fuzz_env_fail("the harness's DH-HMAC-CHAP secrets do not parse");
	}
	h->hash = NVT_AUTH_HASH_SHA256;
}

void
fuzz_auth_host_fini(struct fuzz_auth_host *h)
{
	nvt_auth_wipe(h, sizeof(*h));
}

size_t
fuzz_auth_host_negotiate(struct fuzz_auth_host *h, uint8_t opts, uint8_t *buf)
{
	struct nvt_auth_negotiate *msg = (void *)buf;
	struct nvt_auth_protocol_desc *desc = &msg->descs[0];
	uint8_t napd = (opts & FUZZ_AUTH_OPT_TWO_DESCS) ? 2 : 1;
	size_t len = sizeof(*msg) + napd * sizeof(*desc);

	memset(buf, 0, len);
	msg->auth_type = NVT_AUTH_TYPE_COMMON;
	msg->auth_id = NVT_AUTH_MSG_NEGOTIATE;
	msg->t_id = ++h->t_id;
	msg->napd = napd;
	if (napd == 2) {
		/* What a newer host might offer first; every field of it out of range. */
		memset(desc, 0xff, sizeof(*desc));
		desc->authid = OTHER_AUTHID;
		desc++;
	}
	desc->authid = NVT_AUTH_ID_DHCHAP;
	desc->halen = 1;
	desc->idlist[0] = (uint8_t)g_hashes[opts & 3u];
	desc->dhlen = 1;
	desc->idlist[NVT_AUTH_IDLIST_HASH_MAX] = (uint8_t)g_groups[(opts >> 2) & 7u];
	return len;
}

/* The host's DH half and the shared secret; its public value into \p pub. */
static int
host_dh(struct fuzz_auth_host *h, uint8_t *pub)
{
	size_t glen = nvt_auth_dhgroup_len(h->group);
	struct nvt_auth_dh *dh = NULL;
	int rc;

	h->shared_len = 0;
	if (h->group == NVT_AUTH_DHGROUP_NULL) {
		return 0;
	}
	rc = nvt_auth_dh_new(h->group, &dh);
	if (rc == 0 && nvt_auth_dh_public(dh, pub, glen) != (int)glen) {
		rc = -EIO;
	}
	if (rc == 0) {
		rc = nvt_auth_dh_shared(dh, h->ctrlr_pub, h->ctrlr_pub_len, h->shared,
					sizeof(h->shared));
		h->shared_len = rc > 0 ? (size_t)rc : 0;
		rc = rc > 0 ? 0 : rc;
	}
	nvt_auth_dh_free(dh);
	return rc;
}

/* The response of \p role over challenge \p chal (R1 with the host key, R2 with the controller's). */
static int
host_response(const struct fuzz_auth_host *h, enum nvt_auth_role role, const uint8_t *chal,
	      uint32_t seqnum, uint8_t *out)
{
	const struct nvt_secret *key = role == NVT_AUTH_ROLE_HOST ? &h->host_key : &h->ctrlr_key;
	uint8_t kx[NVT_AUTH_MAX_HASH_LEN], cx[NVT_AUTH_MAX_HASH_LEN];
	size_t kx_len;
	int rc;

	rc = nvt_auth_transform_key(key, role == NVT_AUTH_ROLE_HOST ? h->hostnqn : h->subnqn, kx,
				    &kx_len);
	if (rc == 0 && h->group != NVT_AUTH_DHGROUP_NULL) {
		rc = nvt_auth_augment_challenge(h->hash, h->shared, h->shared_len, chal, cx);
	} else if (rc == 0) {
		memcpy(cx, chal, nvt_auth_hash_len(h->hash));
	}
	if (rc == 0) {
		rc = nvt_auth_chap_response(role, h->hash, kx, kx_len, cx, seqnum, h->t_id, 0,
					    h->hostnqn, h->subnqn, out);
	}
	nvt_auth_wipe(kx, sizeof(kx));
	nvt_auth_wipe(cx, sizeof(cx));
	return rc;
}

size_t
fuzz_auth_host_reply(struct fuzz_auth_host *h, uint8_t opts, uint8_t *buf)
{
	struct nvt_auth_reply *msg = (void *)buf;
	size_t hl = nvt_auth_hash_len(h->hash), dhvlen = nvt_auth_dhgroup_len(h->group);
	size_t len = sizeof(*msg) + 2 * hl + dhvlen;

	memset(buf, 0, len);
	msg->auth_type = NVT_AUTH_TYPE_DHCHAP;
	msg->auth_id = NVT_AUTH_MSG_REPLY;
	msg->t_id = h->t_id;
	msg->hl = (uint8_t)hl;
	msg->dhvlen = (uint16_t)dhvlen;
	/* A DH failure leaves a Reply of zeros: a wrong one the target must refuse. */
	if (host_dh(h, &msg->rval[2 * hl]) == 0) {
		host_response(h, NVT_AUTH_ROLE_HOST, h->c1, h->s1, msg->rval);
	}
	if (opts & FUZZ_AUTH_OPT_CVALID) {
		msg->cvalid = 1;
		msg->seqnum = (uint32_t)h->t_id * 7919u + 1u;
		if (nvt_auth_random(&msg->rval[hl], hl) != 0) {
			fuzz_env_fail("no random bytes for C2");
		}
	}
	return len;
}

size_t
fuzz_auth_host_success2(struct fuzz_auth_host *h, uint8_t opts, uint8_t *buf)
{
	struct nvt_auth_success2 *s2 = (void *)buf;
	struct nvt_auth_failure_msg *f2 = (void *)buf;

	if (h->r2_ok && !(opts & FUZZ_AUTH_OPT_FAILURE2)) {
		memset(s2, 0, sizeof(*s2));
		s2->auth_type = NVT_AUTH_TYPE_DHCHAP;
		s2->auth_id = NVT_AUTH_MSG_SUCCESS2;
		s2->t_id = h->t_id;
		return sizeof(*s2);
	}
	memset(f2, 0, sizeof(*f2));
	f2->auth_type = NVT_AUTH_TYPE_COMMON;
	f2->auth_id = NVT_AUTH_MSG_FAILURE2;
	f2->t_id = h->t_id;
	f2->rcode = NVT_AUTH_FAILURE_RCODE;
	f2->rcode_exp = NVT_AUTH_FAIL_FAILED;
	return sizeof(*f2);
}

/* A Reply went out: what the controller's response will be checked against. */
static void
sent_reply(struct fuzz_auth_host *h, const uint8_t *msg, size_t len)
{
	size_t hl = nvt_auth_hash_len(h->hash);
	struct nvt_auth_reply hdr;

	memcpy(&hdr, msg, sizeof(hdr));
	h->cvalid = hdr.cvalid == 1 && len >= sizeof(hdr) + 2 * hl;
	h->s2 = hdr.seqnum;
	if (h->cvalid) {
		memcpy(h->c2, msg + sizeof(hdr) + hl, hl);
	}
	h->next = FUZZ_AUTH_NEXT_SUCCESS1;
}

void
fuzz_auth_host_sent(struct fuzz_auth_host *h, const uint8_t *msg, size_t len)
{
	/* The message may lie anywhere in the input: no field is read in place. */
	if (len < sizeof(struct nvt_auth_failure_msg)) {
		return;
	}
	if (msg[0] == NVT_AUTH_TYPE_COMMON && msg[1] == NVT_AUTH_MSG_NEGOTIATE) {
		h->t_id = (uint16_t)(msg[4] | msg[5] << 8);
		h->next = FUZZ_AUTH_NEXT_CHALLENGE;
	} else if (msg[0] == NVT_AUTH_TYPE_DHCHAP && msg[1] == NVT_AUTH_MSG_REPLY &&
		   len >= sizeof(struct nvt_auth_reply)) {
		sent_reply(h, msg, len);
	} else {
		/* Success2, Failure2 or anything else ends the transaction. */
		h->next = FUZZ_AUTH_NEXT_NEGOTIATE;
	}
}

static void
received_challenge(struct fuzz_auth_host *h, const struct nvt_auth_challenge *msg, size_t len)
{
	size_t hl = nvt_auth_hash_len((enum nvt_auth_hash)msg->hashid);
	size_t glen = nvt_auth_dhgroup_len((enum nvt_auth_dhgroup)msg->dhgid);

	if (hl == 0 || msg->hl != hl || msg->dhvlen != glen || msg->seqnum == 0 ||
	    (msg->dhgid != NVT_AUTH_DHGROUP_NULL && glen == 0) || len < sizeof(*msg) + hl + glen) {
		fuzz_env_fail("the target sent a Challenge of hash %u (hl %u), group %u (dhvlen "
			      "%u), seqnum %u in %zu bytes",
			      msg->hashid, msg->hl, msg->dhgid, msg->dhvlen, msg->seqnum, len);
	}
	if (strcmp(nvt_auth_dhgroup_name((enum nvt_auth_dhgroup)msg->dhgid),
		   FUZZ_AUTH_REFUSED_DHGROUP) == 0) {
		fuzz_env_fail("the target chose %s, which its configuration leaves out",
			      FUZZ_AUTH_REFUSED_DHGROUP);
	}
	h->hash = (enum nvt_auth_hash)msg->hashid;
	h->group = (enum nvt_auth_dhgroup)msg->dhgid;
	h->s1 = msg->seqnum;
	memcpy(h->c1, msg->cval, hl);
	memcpy(h->ctrlr_pub, &msg->cval[hl], glen);
	h->ctrlr_pub_len = glen;
	h->next = FUZZ_AUTH_NEXT_REPLY;
}

static void
received_success1(struct fuzz_auth_host *h, const struct nvt_auth_success1 *msg, size_t len)
{
	size_t hl = nvt_auth_hash_len(h->hash);
	uint8_t expect[NVT_AUTH_MAX_HASH_LEN];

	if (msg->rvalid > 1 || msg->hl != hl || len < sizeof(*msg) + (msg->rvalid ? hl : 0)) {
		fuzz_env_fail("the target sent a Success1 of hl %u (hash %u), rvalid %u in %zu "
			      "bytes",
			      msg->hl, h->hash, msg->rvalid, len);
	}
	h->r2_ok = false;
	if (!msg->rvalid) {
		h->next = FUZZ_AUTH_NEXT_NEGOTIATE;
		return;
	}
	/* Not asserted: a Reply sent before this was read may have replaced C2. */
	h->r2_ok = h->cvalid && host_response(h, NVT_AUTH_ROLE_CTRLR, h->c2, h->s2, expect) == 0 &&
		   memcmp(expect, msg->rval, hl) == 0;
	h->next = FUZZ_AUTH_NEXT_SUCCESS2;
}

void
fuzz_auth_host_received(struct fuzz_auth_host *h, const uint8_t *msg, size_t len)
{
	const struct nvt_auth_failure_msg *f1 = (const void *)msg;

	if (len >= sizeof(struct nvt_auth_challenge) && msg[0] == NVT_AUTH_TYPE_DHCHAP &&
	    msg[1] == NVT_AUTH_MSG_CHALLENGE) {
		received_challenge(h, (const void *)msg, len);
	} else if (len >= sizeof(struct nvt_auth_success1) && msg[0] == NVT_AUTH_TYPE_DHCHAP &&
		   msg[1] == NVT_AUTH_MSG_SUCCESS1) {
		received_success1(h, (const void *)msg, len);
	} else if (len >= sizeof(*f1) && msg[0] == NVT_AUTH_TYPE_COMMON &&
		   msg[1] == NVT_AUTH_MSG_FAILURE1) {
		if (f1->rcode != NVT_AUTH_FAILURE_RCODE || f1->rcode_exp == 0 ||
		    f1->rcode_exp > NVT_AUTH_FAIL_INCORRECT_PROTOCOL) {
			fuzz_env_fail("the target sent a Failure1 of rcode %u, explanation %u",
				      f1->rcode, f1->rcode_exp);
		}
		h->next = FUZZ_AUTH_NEXT_NEGOTIATE;
	} else {
		/* A Receive that succeeded returns one of the three, whole. */
		fuzz_env_fail("the target's Receive returned type %u id %u", msg[0], msg[1]);
	}
}
