/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DH-HMAC-CHAP on the target (NVMe Base 2.0 section 8.13.5): the
 * Authentication Send and Receive commands of a queue pair whose host must
 * authenticate, on the queue pair's thread.
 *
 * One transaction at a time per queue:
 *   Send Negotiate -> (the host's keys are read on the app thread, which
 *   owns them) -> Receive Challenge -> Send Reply -> Receive Success1 ->
 *   (when the host asked to authenticate the controller) Send Success2.
 * An error found in a Send completes that command successfully and makes
 * the next Receive return AUTH_Failure1; the queue is then disconnected,
 * as the Linux target and SPDK do. A queue that authenticated may start
 * over with a new Negotiate (re-authentication, with the keys configured
 * now): it stays authenticated meanwhile and loses it if that fails.
 *
 * Until a queue has authenticated, only these commands and Disconnect reach
 * it (nvmf_auth_allows()); an exchange that stalls is ended by a timer.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"

NVT_LOG_REGISTER_COMPONENT(nvmf_auth)

/* Largest message either way: a Reply with SHA-512 and ffdhe8192. */
#define AUTH_MSG_MAX 4096
/* Time allowed for one step of an exchange when the host set no keep alive. */
#define AUTH_STEP_TIMEOUT_US (120ull * 1000 * 1000)

enum nvmf_auth_state {
	/* Waiting for AUTH_Negotiate. */
	AUTH_NEGOTIATE = 0,
	/* Negotiate accepted; the host's keys are being read on the app thread. */
	AUTH_KEYS,
	/* The next Receive returns the Challenge. */
	AUTH_CHALLENGE,
	/* Waiting for the Reply. */
	AUTH_REPLY,
	/* The host's response was right: the next Receive returns Success1. */
	AUTH_SUCCESS1,
	/* Waiting for Success2 (or Failure2) after our response to the host. */
	AUTH_SUCCESS2,
	/* The next Receive returns Failure1. */
	AUTH_FAILURE1,
	/* Exchange complete: the queue is authenticated. */
	AUTH_DONE,
	/* Failed for good: the queue is being disconnected. */
	AUTH_FAILED,
	AUTH_NUM_STATES,
};

static const char *const g_state_names[AUTH_NUM_STATES] = {
	"negotiate", "keys",	 "challenge", "reply",	"success1",
	"success2",  "failure1", "done",      "failed",
};

/* Which state may follow which; anything may fail for good. */
static const bool __attribute__((unused)) g_transitions[AUTH_NUM_STATES][AUTH_NUM_STATES] = {
	[AUTH_NEGOTIATE] = { [AUTH_KEYS] = true, [AUTH_FAILURE1] = true },
	[AUTH_KEYS] = { [AUTH_CHALLENGE] = true, [AUTH_FAILURE1] = true },
	[AUTH_CHALLENGE] = { [AUTH_REPLY] = true, [AUTH_FAILURE1] = true },
	[AUTH_REPLY] = { [AUTH_SUCCESS1] = true, [AUTH_FAILURE1] = true },
	[AUTH_SUCCESS1] = { [AUTH_DONE] = true, [AUTH_SUCCESS2] = true, [AUTH_FAILURE1] = true },
	[AUTH_SUCCESS2] = { [AUTH_DONE] = true, [AUTH_FAILURE1] = true },
	/* A message in place of the Receive that reports the failure: report it still. */
	[AUTH_FAILURE1] = { [AUTH_FAILURE1] = true },
	[AUTH_DONE] = { [AUTH_KEYS] = true, [AUTH_FAILURE1] = true },
	[AUTH_FAILED] = { [AUTH_FAILED] = false },
};

struct nvmf_qpair_auth {
	enum nvmf_auth_state state;
	/* A previous exchange succeeded (kept while a re-authentication runs). */
	bool authenticated;
	/* Host asked to authenticate the controller in this transaction. */
	bool cvalid;
	/* Reason sent in Failure1. */
	uint8_t fail_reason;
	uint16_t t_id;
	enum nvt_auth_hash hash;
	enum nvt_auth_dhgroup dhgroup;
	/* Our sequence number S1 and challenge C1. */
	uint32_t seqnum;
	uint8_t c1[NVT_AUTH_MAX_HASH_LEN];
	/* Our response R2 to the host's challenge, sent in Success1. */
	uint8_t r2[NVT_AUTH_MAX_HASH_LEN];
	/* The host's offer, from its Negotiate. */
	struct nvt_auth_protocol_desc offer;
	/* Ephemeral DH key pair of the transaction (NULL with the null group). */
	struct nvt_auth_dh *dh;
	/* Read on the app thread at each Negotiate; NULL when not configured. */
	struct nvt_secret *host_key;
	struct nvt_secret *ctrlr_key;
	uint32_t digests;
	uint32_t dhgroups;
	/* The Negotiate waiting for the keys. */
	struct nvmf_request *negotiate_req;
	struct nvmf_qpair *qpair;
	struct nvt_poller *timer;
	struct nvt_thread_msg msg;
	/* For logs and the responses (copied: the controller may go first). */
	char hostnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	char subnqn[NVT_NVMF_NQN_MAX_LEN + 1];
};

#define AUTH_ERRLOG(a, fmt, ...)                                                          \
	NVT_ERRLOG("%s: host %s qid %u: authentication: " fmt, (a)->subnqn, (a)->hostnqn, \
		   (a)->qpair->qid, ##__VA_ARGS__)

static void
auth_set_state(struct nvmf_qpair_auth *auth, enum nvmf_auth_state state)
{
	assert(state < AUTH_NUM_STATES);
	assert(state == AUTH_FAILED || g_transitions[auth->state][state]);
	NVT_DEBUGLOG(nvmf_auth, "qid %u: %s -> %s\n", auth->qpair->qid, g_state_names[auth->state],
		     g_state_names[state]);
	auth->state = state;
}

/* Drop what one transaction held: the DH pair and the keys. */
static void
auth_end_transaction(struct nvmf_qpair_auth *auth)
{
	nvt_auth_dh_free(auth->dh);
	auth->dh = NULL;
	nvt_secret_free(auth->host_key);
	nvt_secret_free(auth->ctrlr_key);
	auth->host_key = NULL;
	auth->ctrlr_key = NULL;
	nvt_poller_unregister(&auth->timer);
}

static void
auth_fail_for_good(struct nvmf_qpair_auth *auth)
{
	auth->qpair->group->stats.auth_failures += auth->state != AUTH_FAILED;
	auth->authenticated = false;
	auth_end_transaction(auth);
	auth_set_state(auth, AUTH_FAILED);
	nvmf_qpair_disconnect(auth->qpair);
}

static int
auth_timer_expired(void *arg)
{
	struct nvmf_qpair_auth *auth = arg;

	AUTH_ERRLOG(auth, "no progress in state %s, disconnecting\n", g_state_names[auth->state]);
	auth_fail_for_good(auth);
	return NVT_POLLER_BUSY;
}

/* (Re)start the step timer: the keep alive timeout, or 120 s without one. */
static void
auth_arm_timer(struct nvmf_qpair_auth *auth)
{
	const struct nvmf_ctrlr *ctrlr = auth->qpair->ctrlr;
	uint64_t us = AUTH_STEP_TIMEOUT_US;

	if (ctrlr != NULL && ctrlr->feat.keep_alive_timer > 0) {
		us = (uint64_t)ctrlr->feat.keep_alive_timer * 1000u;
	}
	nvt_poller_unregister(&auth->timer);
	auth->timer = nvt_poller_register(auth_timer_expired, auth, us, "nvmf_auth_timer");
	if (auth->timer == NULL) {
		/* Without a timer a silent host holds the queue until keep alive ends it. */
		AUTH_ERRLOG(auth, "no memory for the step timer\n");
	}
}

struct nvmf_qpair_auth *
nvmf_auth_new(const char *hostnqn, const char *subnqn)
{
	struct nvmf_qpair_auth *auth = calloc(1, sizeof(*auth));

	if (auth != NULL) {
		nvt_strcpy_trunc(auth->hostnqn, sizeof(auth->hostnqn), hostnqn);
		nvt_strcpy_trunc(auth->subnqn, sizeof(auth->subnqn), subnqn);
	}
	return auth;
}

void
nvmf_auth_start(struct nvmf_qpair *qpair, struct nvmf_qpair_auth *auth)
{
	auth->qpair = qpair;
	qpair->auth = auth;
	auth_arm_timer(auth);
}

void
nvmf_auth_free(struct nvmf_qpair *qpair)
{
	struct nvmf_qpair_auth *auth = qpair->auth;

	if (auth == NULL) {
		return;
	}
	auth_end_transaction(auth);
	nvt_auth_wipe(auth, sizeof(*auth));
	free(auth);
	qpair->auth = NULL;
}

bool
nvmf_auth_allows(const struct nvmf_qpair *qpair, const union nvt_nvme_sqe *cmd)
{
	if (qpair->auth == NULL || qpair->auth->authenticated) {
		return true;
	}
	if (cmd->cmd.opc != NVT_NVME_OPC_FABRICS) {
		return false;
	}
	return cmd->fabrics.fctype == NVT_NVMF_FCTYPE_AUTH_SEND ||
	       cmd->fabrics.fctype == NVT_NVMF_FCTYPE_AUTH_RECV ||
	       cmd->fabrics.fctype == NVT_NVMF_FCTYPE_DISCONNECT;
}

/* ---- Send ---- */

/* An error in a Send: the command succeeds, the next Receive says Failure1. */
static void
auth_send_fail1(struct nvmf_qpair_auth *auth, struct nvmf_request *req, uint8_t reason)
{
	auth_end_transaction(auth);
	auth->fail_reason = reason;
	auth_set_state(auth, AUTH_FAILURE1);
	auth_arm_timer(auth);
	nvmf_request_complete(req);
}

static uint32_t
auth_next_seqnum(void)
{
	static uint32_t g_seqnum;
	uint32_t seq = __atomic_load_n(&g_seqnum, __ATOMIC_RELAXED);
	uint32_t start;

	/* A random start, then a counter (never 0, which means "none"). */
	if (seq == 0 && nvt_auth_random(&start, sizeof(start)) == 0) {
		__atomic_compare_exchange_n(&g_seqnum, &seq, start, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
	seq = __atomic_add_fetch(&g_seqnum, 1, __ATOMIC_RELAXED);
	return seq != 0 ? seq : __atomic_add_fetch(&g_seqnum, 1, __ATOMIC_RELAXED);
}

/* The strongest of the host's offer the target allows; -1 when none. */
static int
auth_pick(const uint8_t *ids, uint8_t n, uint32_t allowed, const int *prefs, size_t nprefs)
{
	size_t i, j;

	for (i = 0; i < nprefs; i++) {
		if (!(allowed & (1u << prefs[i]))) {
			continue;
		}
		for (j = 0; j < n; j++) {
			if (ids[j] == prefs[i]) {
				return prefs[i];
			}
		}
	}
	return -1;
}

static uint8_t
auth_select(struct nvmf_qpair_auth *auth)
{
	static const int hashes[] = { NVT_AUTH_HASH_SHA512, NVT_AUTH_HASH_SHA384,
				      NVT_AUTH_HASH_SHA256 };
	static const int groups[] = { NVT_AUTH_DHGROUP_8192, NVT_AUTH_DHGROUP_6144,
				      NVT_AUTH_DHGROUP_4096, NVT_AUTH_DHGROUP_3072,
				      NVT_AUTH_DHGROUP_2048, NVT_AUTH_DHGROUP_NULL };
	int hash, group;

	/* The target's digest mask counts from sha256 (bit 0); hash IDs from 1. */
	hash = auth_pick(auth->offer.idlist, auth->offer.halen, auth->digests << 1, hashes,
			 NVT_COUNTOF(hashes));
	if (hash < 0) {
		AUTH_ERRLOG(auth, "no hash function in common with the host\n");
		return NVT_AUTH_FAIL_HASH_UNUSABLE;
	}
	group = auth_pick(&auth->offer.idlist[NVT_AUTH_IDLIST_HASH_MAX], auth->offer.dhlen,
			  auth->dhgroups, groups, NVT_COUNTOF(groups));
	if (group < 0) {
		AUTH_ERRLOG(auth, "no DH group in common with the host\n");
		return NVT_AUTH_FAIL_DHGROUP_UNUSABLE;
	}
	auth->hash = (enum nvt_auth_hash)hash;
	auth->dhgroup = (enum nvt_auth_dhgroup)group;
	return 0;
}

static void
auth_keys_done_msg(void *arg)
{
	struct nvmf_qpair_auth *auth = arg;
	struct nvmf_request *req = auth->negotiate_req;
	uint8_t reason;

	auth->negotiate_req = NULL;
	if (auth->host_key == NULL) {
		AUTH_ERRLOG(auth, "the host has no DH-HMAC-CHAP key configured (any more)\n");
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_FAILED);
		return;
	}
	reason = auth_select(auth);
	if (reason != 0) {
		auth_send_fail1(auth, req, reason);
		return;
	}
	auth_set_state(auth, AUTH_CHALLENGE);
	auth_arm_timer(auth);
	nvmf_request_complete(req);
}

static struct nvt_secret *
auth_copy_key(const struct nvt_key *key)
{
	struct nvt_secret *secret;

	if (key == NULL) {
		return NULL;
	}
	secret = nvt_secret_new();
	if (secret != NULL) {
		nvt_key_get_secret(key, secret);
	}
	return secret;
}

/* App thread: read the host's keys as configured now. */
static void
auth_keys_on_app(void *arg)
{
	struct nvmf_qpair_auth *auth = arg;
	struct nvt_nvmf_subsystem *subsystem = nvt_nvmf_subsystem_find(auth->subnqn);
	struct nvmf_host *host = NULL;
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();

	if (subsystem != NULL) {
		host = nvmf_subsystem_find_host(subsystem, auth->hostnqn);
	}
	if (host != NULL) {
		auth->host_key = auth_copy_key(host->dhchap_key);
		auth->ctrlr_key = auth_copy_key(host->dhchap_ctrlr_key);
	}
	auth->digests = tgt->opts.dhchap_digests;
	auth->dhgroups = tgt->opts.dhchap_dhgroups;
	if (nvmf_send_msg(auth->qpair->group->thread, &auth->msg, auth_keys_done_msg, auth,
			  "authentication keys") != 0) {
		/* Only at shutdown, with the queue's thread gone. */
		nvt_secret_free(auth->host_key);
		nvt_secret_free(auth->ctrlr_key);
		auth->host_key = NULL;
		auth->ctrlr_key = NULL;
	}
}

static void
auth_negotiate(struct nvmf_qpair_auth *auth, struct nvmf_request *req, const uint8_t *buf,
	       size_t len)
{
	const struct nvt_auth_negotiate *msg = (const void *)buf;
	const struct nvt_auth_protocol_desc *desc = NULL;
	uint8_t i;

	if (auth->state != AUTH_NEGOTIATE && auth->state != AUTH_DONE) {
		AUTH_ERRLOG(auth, "Negotiate in state %s\n", g_state_names[auth->state]);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PROTOCOL);
		return;
	}
	auth->t_id = msg->t_id;
	if (len != sizeof(*msg) + (size_t)msg->napd * sizeof(*desc) || msg->napd == 0) {
		AUTH_ERRLOG(auth, "Negotiate of %zu bytes with %u descriptors\n", len, msg->napd);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PAYLOAD);
		return;
	}
	if (msg->sc_c != 0) {
		AUTH_ERRLOG(auth, "secure channel concatenation is not supported\n");
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_CONCAT_MISMATCH);
		return;
	}
	for (i = 0; i < msg->napd && desc == NULL; i++) {
		if (msg->descs[i].authid == NVT_AUTH_ID_DHCHAP) {
			desc = &msg->descs[i];
		}
	}
	if (desc == NULL || desc->halen > NVT_AUTH_IDLIST_HASH_MAX ||
	    desc->dhlen > NVT_AUTH_IDLIST_DHGROUP_MAX) {
		AUTH_ERRLOG(auth, "Negotiate offers no usable DH-HMAC-CHAP descriptor\n");
		auth_send_fail1(auth, req,
				desc == NULL ? NVT_AUTH_FAIL_NOT_USABLE
					     : NVT_AUTH_FAIL_INCORRECT_PAYLOAD);
		return;
	}
	auth->offer = *desc;
	auth_end_transaction(auth);
	auth_set_state(auth, AUTH_KEYS);
	auth->negotiate_req = req;
	if (nvmf_send_msg(nvmf_tgt_get()->thread, &auth->msg, auth_keys_on_app, auth,
			  "authentication keys") != 0) {
		auth->negotiate_req = NULL;
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_FAILED);
	}
}

/* The augmented challenge (with a DH group) or the challenge itself. */
static int
auth_challenge_value(const struct nvmf_qpair_auth *auth, const uint8_t *shared, size_t shared_len,
		     const uint8_t *chal, uint8_t *out)
{
	if (auth->dhgroup == NVT_AUTH_DHGROUP_NULL) {
		memcpy(out, chal, nvt_auth_hash_len(auth->hash));
		return 0;
	}
	return nvt_auth_augment_challenge(auth->hash, shared, shared_len, chal, out);
}

/* One side's response: transform the key with its owner's NQN, then HMAC. */
static int
auth_response(const struct nvmf_qpair_auth *auth, enum nvt_auth_role role,
	      const struct nvt_secret *key, const uint8_t *shared, size_t shared_len,
	      const uint8_t *chal, uint32_t seqnum, uint8_t *out)
{
	uint8_t kx[NVT_AUTH_MAX_HASH_LEN], cx[NVT_AUTH_MAX_HASH_LEN];
	size_t kx_len;
	int rc;

	rc = nvt_auth_transform_key(key, role == NVT_AUTH_ROLE_HOST ? auth->hostnqn : auth->subnqn,
				    kx, &kx_len);
	if (rc == 0) {
		rc = auth_challenge_value(auth, shared, shared_len, chal, cx);
	}
	if (rc == 0) {
		rc = nvt_auth_chap_response(role, auth->hash, kx, kx_len, cx, seqnum, auth->t_id, 0,
					    auth->hostnqn, auth->subnqn, out);
	}
	nvt_auth_wipe(kx, sizeof(kx));
	nvt_auth_wipe(cx, sizeof(cx));
	return rc;
}

/* Check the Reply's framing; the reason of a refusal, or 0. */
static uint8_t
auth_reply_check(struct nvmf_qpair_auth *auth, const struct nvt_auth_reply *msg, size_t len)
{
	size_t hl = nvt_auth_hash_len(auth->hash);

	if (len < sizeof(*msg) || msg->hl != hl || len != sizeof(*msg) + 2 * hl + msg->dhvlen) {
		AUTH_ERRLOG(auth, "Reply of %zu bytes does not match its lengths\n", len);
		return NVT_AUTH_FAIL_INCORRECT_PAYLOAD;
	}
	if (msg->t_id != auth->t_id || msg->cvalid > 1 || (msg->cvalid && msg->seqnum == 0) ||
	    msg->dhvlen != nvt_auth_dhgroup_len(auth->dhgroup)) {
		AUTH_ERRLOG(auth, "Reply with a wrong transaction, cvalid, seqnum or DH value\n");
		return NVT_AUTH_FAIL_INCORRECT_PAYLOAD;
	}
	if (msg->cvalid && auth->ctrlr_key == NULL) {
		AUTH_ERRLOG(auth, "the host asks to authenticate the controller, which has no "
				  "dhchap_ctrlr_key\n");
		return NVT_AUTH_FAIL_FAILED;
	}
	return 0;
}

static uint8_t
auth_reply_verify(struct nvmf_qpair_auth *auth, const struct nvt_auth_reply *msg)
{
	size_t hl = nvt_auth_hash_len(auth->hash);
	uint8_t shared[NVT_AUTH_MAX_DH_LEN], expect[NVT_AUTH_MAX_HASH_LEN];
	size_t shared_len = 0;
	uint8_t reason = 0;
	int rc = 0;

	if (auth->dh != NULL) {
		rc = nvt_auth_dh_shared(auth->dh, &msg->rval[2 * hl], msg->dhvlen, shared,
					sizeof(shared));
		shared_len = rc > 0 ? (size_t)rc : 0;
		rc = rc > 0 ? 0 : rc;
	}
	if (rc == 0) {
		rc = auth_response(auth, NVT_AUTH_ROLE_HOST, auth->host_key, shared, shared_len,
				   auth->c1, auth->seqnum, expect);
	}
	if (rc != 0) {
		AUTH_ERRLOG(auth, "cannot compute the host's response: %s\n", nvt_strerror(-rc));
		reason = NVT_AUTH_FAIL_FAILED;
	} else if (CRYPTO_memcmp(expect, msg->rval, hl) != 0) {
		AUTH_ERRLOG(auth, "the host's response is wrong (wrong secret)\n");
		reason = NVT_AUTH_FAIL_FAILED;
	} else if (msg->cvalid &&
		   auth_response(auth, NVT_AUTH_ROLE_CTRLR, auth->ctrlr_key, shared, shared_len,
				 &msg->rval[hl], msg->seqnum, auth->r2) != 0) {
		AUTH_ERRLOG(auth, "cannot compute the controller's response\n");
		reason = NVT_AUTH_FAIL_FAILED;
	}
	nvt_auth_wipe(shared, sizeof(shared));
	return reason;
}

static void
auth_reply(struct nvmf_qpair_auth *auth, struct nvmf_request *req, const uint8_t *buf, size_t len)
{
	const struct nvt_auth_reply *msg = (const void *)buf;
	uint8_t reason;

	if (auth->state != AUTH_REPLY) {
		AUTH_ERRLOG(auth, "Reply in state %s\n", g_state_names[auth->state]);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PROTOCOL);
		return;
	}
	reason = auth_reply_check(auth, msg, len);
	if (reason == 0) {
		reason = auth_reply_verify(auth, msg);
	}
	if (reason != 0) {
		auth_send_fail1(auth, req, reason);
		return;
	}
	auth->cvalid = msg->cvalid != 0;
	auth_set_state(auth, AUTH_SUCCESS1);
	auth_arm_timer(auth);
	nvmf_request_complete(req);
}

static void
auth_done(struct nvmf_qpair_auth *auth)
{
	auth_end_transaction(auth);
	auth->authenticated = true;
	auth_set_state(auth, AUTH_DONE);
	NVT_INFOLOG("%s: host %s qid %u authenticated (%s, %s%s)\n", auth->subnqn, auth->hostnqn,
		    auth->qpair->qid, nvt_auth_hash_name(auth->hash),
		    nvt_auth_dhgroup_name(auth->dhgroup), auth->cvalid ? ", bidirectional" : "");
}

static void
auth_success2(struct nvmf_qpair_auth *auth, struct nvmf_request *req, const uint8_t *buf,
	      size_t len)
{
	const struct nvt_auth_success2 *msg = (const void *)buf;

	if (auth->state != AUTH_SUCCESS2) {
		AUTH_ERRLOG(auth, "Success2 in state %s\n", g_state_names[auth->state]);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PROTOCOL);
		return;
	}
	if (len != sizeof(*msg) || msg->t_id != auth->t_id) {
		AUTH_ERRLOG(auth, "Success2 of %zu bytes or of another transaction\n", len);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PAYLOAD);
		return;
	}
	auth_done(auth);
	nvmf_request_complete(req);
}

static void
auth_failure2(struct nvmf_qpair_auth *auth, struct nvmf_request *req, const uint8_t *buf,
	      size_t len)
{
	const struct nvt_auth_failure_msg *msg = (const void *)buf;

	if (auth->state != AUTH_SUCCESS2 || len < sizeof(*msg) || msg->t_id != auth->t_id) {
		AUTH_ERRLOG(auth, "unexpected Failure2 (state %s, %zu bytes)\n",
			    g_state_names[auth->state], len);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PROTOCOL);
		return;
	}
	AUTH_ERRLOG(auth, "the host refused the controller's response (reason %u)\n",
		    msg->rcode_exp);
	nvmf_request_complete(req);
	auth_fail_for_good(auth);
}

static void
auth_send_dispatch(struct nvmf_qpair_auth *auth, struct nvmf_request *req, const uint8_t *buf,
		   size_t len)
{
	uint8_t type = buf[0], id = buf[1];

	if (type == NVT_AUTH_TYPE_COMMON && id == NVT_AUTH_MSG_NEGOTIATE) {
		auth_negotiate(auth, req, buf, len);
	} else if (type == NVT_AUTH_TYPE_COMMON && id == NVT_AUTH_MSG_FAILURE2) {
		auth_failure2(auth, req, buf, len);
	} else if (type == NVT_AUTH_TYPE_DHCHAP && id == NVT_AUTH_MSG_REPLY) {
		auth_reply(auth, req, buf, len);
	} else if (type == NVT_AUTH_TYPE_DHCHAP && id == NVT_AUTH_MSG_SUCCESS2) {
		auth_success2(auth, req, buf, len);
	} else {
		AUTH_ERRLOG(auth, "unknown message type 0x%x id 0x%x\n", type, id);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PROTOCOL);
	}
}

/* SECP, SPSP and the length the command announces against the data it carries. */
static bool
auth_cmd_valid(struct nvmf_qpair_auth *auth, const struct nvmf_request *req)
{
	const struct nvt_nvmf_auth_cmd *cmd = &req->cmd->auth;

	if (cmd->secp != NVT_NVMF_AUTH_SECP_NVME || cmd->spsp0 != NVT_AUTH_SPSP0 ||
	    cmd->spsp1 != NVT_AUTH_SPSP1 || cmd->tl_al != req->length || req->length == 0 ||
	    req->length > AUTH_MSG_MAX) {
		AUTH_ERRLOG(auth, "bad command: secp 0x%x spsp 0x%x/0x%x length %u (data %u)\n",
			    cmd->secp, cmd->spsp0, cmd->spsp1, cmd->tl_al, req->length);
		return false;
	}
	return true;
}

static void
auth_send(struct nvmf_request *req)
{
	struct nvmf_qpair_auth *auth = req->qpair->auth;
	uint8_t buf[AUTH_MSG_MAX];
	size_t len;

	if (!auth_cmd_valid(auth, req) || req->xfer != NVMF_XFER_HOST_TO_CTRLR) {
		nvmf_req_invalid_field(req);
		nvmf_request_complete(req);
		return;
	}
	len = nvmf_request_copy_from_iov(req, 0, buf, req->length);
	if (len < sizeof(struct nvt_auth_failure_msg)) {
		AUTH_ERRLOG(auth, "message of %zu bytes\n", len);
		auth_send_fail1(auth, req, NVT_AUTH_FAIL_INCORRECT_PAYLOAD);
		return;
	}
	auth_send_dispatch(auth, req, buf, len);
}

/* ---- Receive ---- */

static size_t
auth_build_challenge(struct nvmf_qpair_auth *auth, uint8_t *buf, uint8_t *reason)
{
	struct nvt_auth_challenge *msg = (void *)buf;
	size_t hl = nvt_auth_hash_len(auth->hash);
	size_t dhvlen = nvt_auth_dhgroup_len(auth->dhgroup);

	*reason = NVT_AUTH_FAIL_FAILED;
	if (nvt_auth_random(auth->c1, hl) != 0) {
		AUTH_ERRLOG(auth, "no random challenge\n");
		return 0;
	}
	if (auth->dhgroup != NVT_AUTH_DHGROUP_NULL &&
	    (nvt_auth_dh_new(auth->dhgroup, &auth->dh) != 0 ||
	     nvt_auth_dh_public(auth->dh, &msg->cval[hl], dhvlen) != (int)dhvlen)) {
		AUTH_ERRLOG(auth, "cannot make a %s key pair\n",
			    nvt_auth_dhgroup_name(auth->dhgroup));
		return 0;
	}
	auth->seqnum = auth_next_seqnum();
	msg->auth_type = NVT_AUTH_TYPE_DHCHAP;
	msg->auth_id = NVT_AUTH_MSG_CHALLENGE;
	msg->t_id = auth->t_id;
	msg->hl = (uint8_t)hl;
	msg->hashid = (uint8_t)auth->hash;
	msg->dhgid = (uint8_t)auth->dhgroup;
	msg->dhvlen = (uint16_t)dhvlen;
	msg->seqnum = auth->seqnum;
	memcpy(msg->cval, auth->c1, hl);
	*reason = 0;
	return sizeof(*msg) + hl + dhvlen;
}

static size_t
auth_build_success1(struct nvmf_qpair_auth *auth, uint8_t *buf)
{
	struct nvt_auth_success1 *msg = (void *)buf;
	size_t hl = nvt_auth_hash_len(auth->hash);

	msg->auth_type = NVT_AUTH_TYPE_DHCHAP;
	msg->auth_id = NVT_AUTH_MSG_SUCCESS1;
	msg->t_id = auth->t_id;
	/* The Linux host reads HL even when RVALID is 0. */
	msg->hl = (uint8_t)hl;
	msg->rvalid = auth->cvalid;
	if (auth->cvalid) {
		memcpy(msg->rval, auth->r2, hl);
		return sizeof(*msg) + hl;
	}
	return sizeof(*msg);
}

static size_t
auth_build_failure1(struct nvmf_qpair_auth *auth, uint8_t *buf, uint8_t reason)
{
	struct nvt_auth_failure_msg *msg = (void *)buf;

	msg->auth_type = NVT_AUTH_TYPE_COMMON;
	msg->auth_id = NVT_AUTH_MSG_FAILURE1;
	msg->t_id = auth->t_id;
	msg->rcode = NVT_AUTH_FAILURE_RCODE;
	msg->rcode_exp = reason;
	return sizeof(*msg);
}

/* Hand \p len bytes of \p buf to the host (the rest of the buffer zeroed). */
static bool
auth_recv_deliver(struct nvmf_request *req, const uint8_t *buf, size_t len)
{
	if (len > req->length) {
		return false;
	}
	nvmf_request_copy_to_iov(req, 0, buf, req->length);
	return true;
}

static void
auth_recv_failure1(struct nvmf_qpair_auth *auth, struct nvmf_request *req, uint8_t *buf,
		   uint8_t reason)
{
	size_t len = auth_build_failure1(auth, buf, reason);

	if (!auth_recv_deliver(req, buf, len)) {
		nvmf_req_invalid_field(req);
	}
	nvmf_request_complete(req);
	auth_fail_for_good(auth);
}

static void
auth_recv(struct nvmf_request *req)
{
	struct nvmf_qpair_auth *auth = req->qpair->auth;
	uint8_t buf[AUTH_MSG_MAX] = { 0 };
	uint8_t reason = NVT_AUTH_FAIL_INCORRECT_PROTOCOL;
	size_t len = 0;

	if (!auth_cmd_valid(auth, req) || req->xfer != NVMF_XFER_CTRLR_TO_HOST) {
		nvmf_req_invalid_field(req);
		nvmf_request_complete(req);
		return;
	}
	if (auth->state == AUTH_CHALLENGE) {
		len = auth_build_challenge(auth, buf, &reason);
	} else if (auth->state == AUTH_SUCCESS1) {
		len = auth_build_success1(auth, buf);
	} else if (auth->state == AUTH_FAILURE1) {
		reason = auth->fail_reason;
	} else {
		AUTH_ERRLOG(auth, "Receive in state %s\n", g_state_names[auth->state]);
	}
	if (len == 0 || !auth_recv_deliver(req, buf, len)) {
		if (len != 0) {
			AUTH_ERRLOG(auth, "Receive of %u bytes, the message has %zu\n", req->length,
				    len);
			reason = NVT_AUTH_FAIL_INCORRECT_PAYLOAD;
		}
		memset(buf, 0, sizeof(buf));
		auth_recv_failure1(auth, req, buf, reason);
		return;
	}
	if (auth->state == AUTH_CHALLENGE) {
		auth_set_state(auth, AUTH_REPLY);
		auth_arm_timer(auth);
	} else if (auth->cvalid) {
		auth_set_state(auth, AUTH_SUCCESS2);
		auth_arm_timer(auth);
	} else {
		auth_done(auth);
	}
	nvmf_request_complete(req);
}

void
nvmf_auth_exec(struct nvmf_request *req)
{
	struct nvmf_qpair_auth *auth = req->qpair->auth;

	if (auth == NULL) {
		/* The host has no key here: nothing to authenticate. */
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		nvmf_request_complete(req);
	} else if (auth->state == AUTH_FAILED || auth->state == AUTH_KEYS) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_COMMAND_SEQUENCE_ERROR,
				    true);
		nvmf_request_complete(req);
	} else if (req->cmd->fabrics.fctype == NVT_NVMF_FCTYPE_AUTH_SEND) {
		auth_send(req);
	} else {
		auth_recv(req);
	}
}

/* SPDK's words for the state: "completed" once authenticated; ours otherwise. */
const char *
nvmf_auth_describe(const struct nvmf_qpair_auth *auth, enum nvt_auth_hash *hash,
		   enum nvt_auth_dhgroup *dhgroup)
{
	*hash = auth->hash;
	*dhgroup = auth->dhgroup;
	return auth->state == AUTH_DONE ? "completed" : g_state_names[auth->state];
}
