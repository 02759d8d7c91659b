/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host's DH-HMAC-CHAP machine (lib/nvme/auth.c, compiled in) against a
 * scripted controller. The queue's submission is a stub that records the one
 * command outstanding; the test plays the controller: it checks what the host
 * sent, computes what a real controller would with lib/auth, and completes
 * the command with its answer - or with a wrong one: messages out of order,
 * truncated, of another transaction, a Failure1, an R2 that does not match.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../../lib/nvme/auth.c"

#define UT_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define UT_SUBNQN  "nqn.2024-01.io.example:auth-ut"

/* ---- stubs of the queue and the controller ---- */

/* The one command outstanding (the machine never has two). */
struct ut_cmd {
	bool pending;
	struct nvt_nvmf_auth_cmd sqe;
	uint8_t *buf;
	uint32_t len;
	bool h2c;
	nvt_nvme_cmd_cb cb_fn;
	void *cb_arg;
};

static struct ut_cmd g_cmd;
static uint32_t g_submits;
static int g_submit_rc;
static struct nvt_nvme_ctrlr g_ctrlr;
static struct nvt_nvme_qpair g_qpair;
static struct nvme_keys g_keys;
static struct nvt_secret g_host_secret;
static struct nvt_secret g_ctrlr_secret;
/* Results of the run. */
static uint32_t g_done_calls;
static int g_done_rc;
static uint16_t g_done_status;
static bool g_marked_failed;

int
nvme_qpair_submit(struct nvt_nvme_qpair *qpair, const struct nvt_nvme_cmd *cmd, void *buf,
		  uint32_t len, bool h2c, nvt_nvme_cmd_cb cb_fn, void *cb_arg)
{
	assert_ptr_equal(qpair, &g_qpair);
	if (g_submit_rc != 0) {
		return g_submit_rc;
	}
	assert_false(g_cmd.pending);
	g_cmd.pending = true;
	memcpy(&g_cmd.sqe, cmd, sizeof(g_cmd.sqe));
	g_cmd.buf = buf;
	g_cmd.len = len;
	g_cmd.h2c = h2c;
	g_cmd.cb_fn = cb_fn;
	g_cmd.cb_arg = cb_arg;
	g_submits++;
	return 0;
}

bool
nvt_nvme_ctrlr_is_discovery(const struct nvt_nvme_ctrlr *ctrlr)
{
	return strcmp(ctrlr->trid.subnqn, NVT_NVMF_DISCOVERY_NQN) == 0;
}

bool
nvt_nvme_ctrlr_is_failed(const struct nvt_nvme_ctrlr *ctrlr)
{
	(void)ctrlr;
	return g_marked_failed;
}

void
nvme_ctrlr_mark_failed(struct nvt_nvme_ctrlr *ctrlr)
{
	(void)ctrlr;
	g_marked_failed = true;
}

const char *
nvt_nvme_status_fmt(uint16_t status, char *buf, size_t len)
{
	snprintf(buf, len, "status %#x", status);
	return buf;
}

static void
ut_done(void *arg, int rc, uint16_t status)
{
	assert_ptr_equal(arg, &g_qpair);
	g_done_calls++;
	g_done_rc = rc;
	g_done_status = status;
}

/* ---- the scripted controller ---- */

/* What the controller knows of the run. */
struct ut_ctrlr {
	uint16_t tid;
	enum nvt_auth_hash hash;
	enum nvt_auth_dhgroup group;
	size_t hl;
	uint8_t c1[NVT_AUTH_MAX_HASH_LEN];
	uint32_t s1;
	struct nvt_auth_dh *dh;
	uint8_t shared[NVT_AUTH_MAX_DH_LEN];
	size_t shared_len;
	/* From the Reply. */
	bool cvalid;
	uint8_t c2[NVT_AUTH_MAX_HASH_LEN];
	uint32_t s2;
};

static struct ut_ctrlr g_c;

/* Complete the outstanding command; a receive gets \p len bytes of \p msg as its data. */
static void
ut_answer(const void *msg, uint32_t len, uint16_t status)
{
	struct ut_cmd c = g_cmd;
	struct nvt_nvme_cpl cpl = { .status = status };

	assert_true(c.pending);
	memset(&g_cmd, 0, sizeof(g_cmd));
	g_qpair.cpl_data_len = 0;
	if (!c.h2c && msg != NULL) {
		assert_true(len <= c.len);
		memcpy(c.buf, msg, len);
		g_qpair.cpl_data_len = len;
	}
	c.cb_fn(c.cb_arg, &cpl);
}

/* The outstanding command is an Authentication Send (or Receive) with sane fields. */
static void
ut_expect_cmd(bool send)
{
	assert_true(g_cmd.pending);
	assert_int_equal(g_cmd.sqe.opc, NVT_NVME_OPC_FABRICS);
	assert_int_equal(g_cmd.sqe.fctype,
			 send ? NVT_NVMF_FCTYPE_AUTH_SEND : NVT_NVMF_FCTYPE_AUTH_RECV);
	assert_int_equal(g_cmd.sqe.secp, NVT_NVMF_AUTH_SECP_NVME);
	assert_int_equal(g_cmd.sqe.spsp0, 1);
	assert_int_equal(g_cmd.sqe.spsp1, 1);
	assert_int_equal(g_cmd.sqe.tl_al, g_cmd.len);
	assert_int_equal(g_cmd.h2c, send);
}

static void
ut_setup_keys(bool bidir, uint32_t digests, uint32_t dhgroups)
{
	memset(&g_keys, 0, sizeof(g_keys));
	assert_int_equal(
		nvt_auth_transform_key(&g_host_secret, UT_HOSTNQN, g_keys.kh, &g_keys.kh_len), 0);
	if (bidir) {
		assert_int_equal(nvt_auth_transform_key(&g_ctrlr_secret, UT_SUBNQN, g_keys.kc,
							&g_keys.kc_len),
				 0);
	}
	g_keys.digests = digests;
	g_keys.dhgroups = dhgroups;
}

static int
ut_setup(void **state)
{
	(void)state;
	nvt_auth_dh_free(g_c.dh);
	memset(&g_cmd, 0, sizeof(g_cmd));
	memset(&g_ctrlr, 0, sizeof(g_ctrlr));
	memset(&g_qpair, 0, sizeof(g_qpair));
	memset(&g_c, 0, sizeof(g_c));
	g_submits = 0;
	g_submit_rc = 0;
	g_done_calls = 0;
	g_done_rc = 1;
	g_done_status = 0;
	g_marked_failed = false;
	g_host_secret = (struct nvt_secret){ .kind = NVT_SECRET_DHCHAP,
					     .hash = NVT_AUTH_HASH_SHA256,
					     .len = 32 };
	g_ctrlr_secret = (struct nvt_secret){ .kind = NVT_SECRET_DHCHAP,
					      .hash = NVT_AUTH_HASH_NONE,
					      .len = 48 };
	memset(g_host_secret.key, 0x5a, g_host_secret.len);
	memset(g_ctrlr_secret.key, 0xc3, g_ctrlr_secret.len);
	snprintf(g_ctrlr.opts.hostnqn, sizeof(g_ctrlr.opts.hostnqn), "%s", UT_HOSTNQN);
	snprintf(g_ctrlr.trid.subnqn, sizeof(g_ctrlr.trid.subnqn), "%s", UT_SUBNQN);
	g_ctrlr.keys = &g_keys;
	g_ctrlr.adminq = &g_qpair;
	g_qpair.ctrlr = &g_ctrlr;
	g_qpair.qid = 0;
	g_qpair.state = NVME_QPAIR_STATE_AUTHENTICATING;
	ut_setup_keys(false, NVT_NVME_DHCHAP_DIGESTS_ALL, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	return 0;
}

static int
ut_teardown(void **state)
{
	(void)state;
	nvt_auth_dh_free(g_c.dh);
	g_c.dh = NULL;
	/* No run may be left behind: every test ends one way or the other. */
	assert_null(g_qpair.auth);
	return 0;
}

/* Start a run and check its AUTH_Negotiate; the controller accepts it. */
static void
ut_start_and_negotiate(void)
{
	const struct nvt_auth_negotiate *neg;

	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), 0);
	ut_expect_cmd(true);
	assert_int_equal(g_cmd.len, sizeof(*neg) + sizeof(struct nvt_auth_protocol_desc));
	neg = (const struct nvt_auth_negotiate *)g_cmd.buf;
	assert_int_equal(neg->auth_type, NVT_AUTH_TYPE_COMMON);
	assert_int_equal(neg->auth_id, NVT_AUTH_MSG_NEGOTIATE);
	assert_int_equal(neg->sc_c, 0);
	assert_int_equal(neg->napd, 1);
	assert_int_equal(neg->descs[0].authid, NVT_AUTH_ID_DHCHAP);
	g_c.tid = neg->t_id;
	ut_answer(NULL, 0, 0);
	/* Then the host asks for the Challenge, with room for the largest. */
	ut_expect_cmd(false);
	assert_int_equal(g_cmd.len, AUTH_BUF_SIZE);
}

/* The controller's Challenge: C1, S1 and, with a group, its DH value. */
static uint32_t
ut_build_challenge(uint8_t *buf, enum nvt_auth_hash hash, enum nvt_auth_dhgroup group)
{
	struct nvt_auth_challenge *c = (struct nvt_auth_challenge *)buf;
	int pub_len = 0;

	g_c.hash = hash;
	g_c.group = group;
	g_c.hl = nvt_auth_hash_len(hash);
	g_c.s1 = 0x01020304;
	assert_int_equal(nvt_auth_random(g_c.c1, g_c.hl), 0);
	memset(c, 0, sizeof(*c));
	c->auth_type = NVT_AUTH_TYPE_DHCHAP;
	c->auth_id = NVT_AUTH_MSG_CHALLENGE;
	c->t_id = g_c.tid;
	c->hl = (uint8_t)g_c.hl;
	c->hashid = (uint8_t)hash;
	c->dhgid = (uint8_t)group;
	c->seqnum = g_c.s1;
	memcpy(c->cval, g_c.c1, g_c.hl);
	if (group != NVT_AUTH_DHGROUP_NULL) {
		assert_int_equal(nvt_auth_dh_new(group, &g_c.dh), 0);
		pub_len = nvt_auth_dh_public(g_c.dh, c->cval + g_c.hl, NVT_AUTH_MAX_DH_LEN);
		assert_int_equal(pub_len, (int)nvt_auth_dhgroup_len(group));
	}
	c->dhvlen = (uint16_t)pub_len;
	return (uint32_t)(sizeof(*c) + g_c.hl + (uint32_t)pub_len);
}

/* What a response of \p role must be, computed as the controller does. */
static void
ut_expected_response(enum nvt_auth_role role, const uint8_t *chal, uint32_t seq, uint8_t *out)
{
	const struct nvt_secret *secret =
		role == NVT_AUTH_ROLE_HOST ? &g_host_secret : &g_ctrlr_secret;
	const char *nqn = role == NVT_AUTH_ROLE_HOST ? UT_HOSTNQN : UT_SUBNQN;
	uint8_t key[NVT_AUTH_MAX_HASH_LEN], aug[NVT_AUTH_MAX_HASH_LEN];
	size_t key_len;

	assert_int_equal(nvt_auth_transform_key(secret, nqn, key, &key_len), 0);
	if (g_c.shared_len > 0) {
		assert_int_equal(
			nvt_auth_augment_challenge(g_c.hash, g_c.shared, g_c.shared_len, chal, aug),
			0);
		chal = aug;
	}
	assert_int_equal(nvt_auth_chap_response(role, g_c.hash, key, key_len, chal, seq, g_c.tid, 0,
						UT_HOSTNQN, UT_SUBNQN, out),
			 0);
}

/* Check the host's Reply as the controller does: R1, the DH value, C2 and S2. */
static void
ut_check_reply(bool want_cvalid)
{
	const struct nvt_auth_reply *r;
	uint8_t r1[NVT_AUTH_MAX_HASH_LEN];
	int n;

	ut_expect_cmd(true);
	r = (const struct nvt_auth_reply *)g_cmd.buf;
	assert_int_equal(r->auth_type, NVT_AUTH_TYPE_DHCHAP);
	assert_int_equal(r->auth_id, NVT_AUTH_MSG_REPLY);
	assert_int_equal(r->t_id, g_c.tid);
	assert_int_equal(r->hl, g_c.hl);
	assert_int_equal(r->cvalid, want_cvalid ? 1 : 0);
	assert_int_equal(g_cmd.len, sizeof(*r) + 2 * g_c.hl + r->dhvlen);
	if (g_c.group != NVT_AUTH_DHGROUP_NULL) {
		assert_int_equal(r->dhvlen, nvt_auth_dhgroup_len(g_c.group));
		n = nvt_auth_dh_shared(g_c.dh, r->rval + 2 * g_c.hl, r->dhvlen, g_c.shared,
				       sizeof(g_c.shared));
		assert_true(n > 0);
		g_c.shared_len = (size_t)n;
	} else {
		assert_int_equal(r->dhvlen, 0);
	}
	ut_expected_response(NVT_AUTH_ROLE_HOST, g_c.c1, g_c.s1, r1);
	assert_memory_equal(r->rval, r1, g_c.hl);
	g_c.cvalid = r->cvalid != 0;
	if (g_c.cvalid) {
		assert_int_not_equal(r->seqnum, 0);
		g_c.s2 = r->seqnum;
		memcpy(g_c.c2, r->rval + g_c.hl, g_c.hl);
	} else {
		assert_int_equal(r->seqnum, 0);
	}
}

/* Success1, with R2 when the host asked for it (\p corrupt flips one of its bits). */
static uint32_t
ut_build_success1(uint8_t *buf, bool corrupt)
{
	struct nvt_auth_success1 *s = (struct nvt_auth_success1 *)buf;

	memset(s, 0, sizeof(*s));
	s->auth_type = NVT_AUTH_TYPE_DHCHAP;
	s->auth_id = NVT_AUTH_MSG_SUCCESS1;
	s->t_id = g_c.tid;
	s->hl = (uint8_t)g_c.hl;
	if (!g_c.cvalid) {
		return sizeof(*s);
	}
	s->rvalid = 1;
	ut_expected_response(NVT_AUTH_ROLE_CTRLR, g_c.c2, g_c.s2, s->rval);
	if (corrupt) {
		s->rval[g_c.hl / 2] ^= 0x10;
	}
	return (uint32_t)(sizeof(*s) + g_c.hl);
}

static uint32_t
ut_build_failure1(uint8_t *buf, uint8_t reason)
{
	struct nvt_auth_failure_msg *f = (struct nvt_auth_failure_msg *)buf;

	memset(f, 0, sizeof(*f));
	f->auth_type = NVT_AUTH_TYPE_COMMON;
	f->auth_id = NVT_AUTH_MSG_FAILURE1;
	f->t_id = g_c.tid;
	f->rcode = NVT_AUTH_FAILURE_RCODE;
	f->rcode_exp = reason;
	return sizeof(*f);
}

/* The host answered with AUTH_Failure2 of \p reason; complete it, the run ends with \p rc. */
static void
ut_expect_failure2(uint8_t reason, int rc)
{
	const struct nvt_auth_failure_msg *f;

	ut_expect_cmd(true);
	f = (const struct nvt_auth_failure_msg *)g_cmd.buf;
	assert_int_equal(g_cmd.len, sizeof(*f));
	assert_int_equal(f->auth_type, NVT_AUTH_TYPE_COMMON);
	assert_int_equal(f->auth_id, NVT_AUTH_MSG_FAILURE2);
	assert_int_equal(f->t_id, g_c.tid);
	assert_int_equal(f->rcode, NVT_AUTH_FAILURE_RCODE);
	assert_int_equal(f->rcode_exp, reason);
	assert_int_equal(g_done_calls, 0);
	ut_answer(NULL, 0, 0);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, rc);
	assert_false(g_cmd.pending);
	assert_false(g_qpair.auth_info.authenticated);
}

/* A whole run up to Success1, of \p hash and \p group, returns after the Reply was accepted. */
static void
ut_run_to_success1(enum nvt_auth_hash hash, enum nvt_auth_dhgroup group, bool bidir)
{
	uint8_t msg[AUTH_BUF_SIZE];
	uint32_t len;

	ut_start_and_negotiate();
	len = ut_build_challenge(msg, hash, group);
	ut_answer(msg, len, 0);
	ut_check_reply(bidir);
	ut_answer(NULL, 0, 0);
	ut_expect_cmd(false);
}

/* ---- the tests ---- */

static void
test_negotiate_offers(void **state)
{
	const struct nvt_auth_protocol_desc *d;
	static const uint8_t all_groups[] = { 0, 1, 2, 3, 4, 5 };

	(void)state;
	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), 0);
	d = &((const struct nvt_auth_negotiate *)g_cmd.buf)->descs[0];
	assert_int_equal(d->halen, 3);
	assert_int_equal(d->idlist[0], NVT_AUTH_HASH_SHA256);
	assert_int_equal(d->idlist[1], NVT_AUTH_HASH_SHA384);
	assert_int_equal(d->idlist[2], NVT_AUTH_HASH_SHA512);
	assert_int_equal(d->dhlen, 6);
	assert_memory_equal(&d->idlist[NVT_AUTH_IDLIST_HASH_MAX], all_groups, 6);
	/* A second run on the same queue is refused while this one goes. */
	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), -EBUSY);
	/* The controller fails the command: the run ends with its status. */
	ut_answer(NULL, 0, 0x4002);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, -EREMOTEIO);
	assert_int_equal(g_done_status, 0x4002);

	/* Only what the options allow is offered. */
	ut_setup_keys(false, 1u << NVT_AUTH_HASH_SHA384,
		      (1u << NVT_AUTH_DHGROUP_NULL) | (1u << NVT_AUTH_DHGROUP_4096));
	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), 0);
	d = &((const struct nvt_auth_negotiate *)g_cmd.buf)->descs[0];
	assert_int_equal(d->halen, 1);
	assert_int_equal(d->idlist[0], NVT_AUTH_HASH_SHA384);
	assert_int_equal(d->dhlen, 2);
	assert_int_equal(d->idlist[NVT_AUTH_IDLIST_HASH_MAX], NVT_AUTH_DHGROUP_NULL);
	assert_int_equal(d->idlist[NVT_AUTH_IDLIST_HASH_MAX + 1], NVT_AUTH_DHGROUP_4096);
	ut_answer(NULL, 0, 0x4002);
	assert_int_equal(g_done_calls, 2);
}

static void
test_unidirectional_null(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];

	(void)state;
	ut_run_to_success1(NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL, false);
	ut_answer(msg, ut_build_success1(msg, false), 0);
	/* No Success2 without controller authentication. */
	assert_false(g_cmd.pending);
	assert_int_equal(g_submits, 4);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, 0);
	assert_true(g_qpair.auth_info.authenticated);
	assert_false(g_qpair.auth_info.bidirectional);
	assert_int_equal(g_qpair.auth_info.hash, NVT_AUTH_HASH_SHA256);
	assert_int_equal(g_qpair.auth_info.dhgroup, NVT_AUTH_DHGROUP_NULL);
}

static void
test_bidirectional_ffdhe2048(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];
	const struct nvt_auth_success2 *s2;

	(void)state;
	ut_setup_keys(true, NVT_NVME_DHCHAP_DIGESTS_ALL, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	ut_run_to_success1(NVT_AUTH_HASH_SHA512, NVT_AUTH_DHGROUP_2048, true);
	ut_answer(msg, ut_build_success1(msg, false), 0);
	ut_expect_cmd(true);
	s2 = (const struct nvt_auth_success2 *)g_cmd.buf;
	assert_int_equal(g_cmd.len, sizeof(*s2));
	assert_int_equal(s2->auth_type, NVT_AUTH_TYPE_DHCHAP);
	assert_int_equal(s2->auth_id, NVT_AUTH_MSG_SUCCESS2);
	assert_int_equal(s2->t_id, g_c.tid);
	assert_int_equal(g_done_calls, 0);
	ut_answer(NULL, 0, 0);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, 0);
	assert_true(g_qpair.auth_info.bidirectional);
	assert_int_equal(g_qpair.auth_info.dhgroup, NVT_AUTH_DHGROUP_2048);
}

static void
test_r2_mismatch(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];

	(void)state;
	ut_setup_keys(true, NVT_NVME_DHCHAP_DIGESTS_ALL, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	ut_run_to_success1(NVT_AUTH_HASH_SHA384, NVT_AUTH_DHGROUP_NULL, true);
	ut_answer(msg, ut_build_success1(msg, true), 0);
	ut_expect_failure2(NVT_AUTH_FAIL_FAILED, -EKEYREJECTED);
	assert_false(g_qpair.auth_info.bidirectional);
}

static void
test_r2_missing(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];
	uint32_t len;

	(void)state;
	ut_setup_keys(true, NVT_NVME_DHCHAP_DIGESTS_ALL, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	ut_run_to_success1(NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL, true);
	/* A Success1 without R2 does not prove the controller. */
	g_c.cvalid = false;
	len = ut_build_success1(msg, false);
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_FAILED, -EKEYREJECTED);
}

static void
test_failure1_instead_of_challenge(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];

	(void)state;
	ut_start_and_negotiate();
	ut_answer(msg, ut_build_failure1(msg, NVT_AUTH_FAIL_HASH_UNUSABLE), 0);
	/* No Failure2 in answer to a Failure1: the run is over. */
	assert_false(g_cmd.pending);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, -EACCES);
}

static void
test_failure1_instead_of_success1(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];

	(void)state;
	ut_run_to_success1(NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL, false);
	ut_answer(msg, ut_build_failure1(msg, NVT_AUTH_FAIL_FAILED), 0);
	assert_false(g_cmd.pending);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, -EACCES);
	assert_false(g_qpair.auth_info.authenticated);
}

static void
test_wrong_order(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];
	uint32_t len;

	(void)state;
	/* A Success1 where the Challenge belongs. */
	ut_start_and_negotiate();
	g_c.hl = 32;
	ut_answer(msg, ut_build_success1(msg, false), 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PROTOCOL, -EPROTO);

	/* A second Challenge where Success1 belongs. */
	ut_setup(state);
	ut_run_to_success1(NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL, false);
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PROTOCOL, -EPROTO);

	/* A Challenge of another transaction. */
	ut_setup(state);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	((struct nvt_auth_challenge *)msg)->t_id++;
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PAYLOAD, -EPROTO);
}

static void
test_truncated(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];
	uint32_t len;

	(void)state;
	/* Shorter than the Challenge's own header. */
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	ut_answer(msg, 10, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PAYLOAD, -EPROTO);

	/* The header says 32 bytes of C1 follow; 20 came. */
	ut_setup(state);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	ut_answer(msg, len - 12, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PAYLOAD, -EPROTO);

	/* The DH value cut short. */
	ut_setup(state);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_2048);
	ut_answer(msg, len - 100, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PAYLOAD, -EPROTO);

	/* A bidirectional Success1 whose R2 is cut short. */
	ut_setup(state);
	ut_setup_keys(true, NVT_NVME_DHCHAP_DIGESTS_ALL, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	ut_run_to_success1(NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL, true);
	len = ut_build_success1(msg, false);
	ut_answer(msg, len - 1, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_FAILED, -EKEYREJECTED);
}

static void
test_bad_choice(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];
	struct nvt_auth_challenge *c = (struct nvt_auth_challenge *)msg;
	uint32_t len;

	(void)state;
	/* A hash that was not offered. */
	ut_setup_keys(false, 1u << NVT_AUTH_HASH_SHA256, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA512, NVT_AUTH_DHGROUP_NULL);
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_HASH_UNUSABLE, -EPROTO);

	/* A group that was not offered. */
	ut_setup(state);
	ut_setup_keys(false, NVT_NVME_DHCHAP_DIGESTS_ALL, 1u << NVT_AUTH_DHGROUP_NULL);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_2048);
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_DHGROUP_UNUSABLE, -EPROTO);

	/* A hash length that does not go with the hash. */
	ut_setup(state);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA384, NVT_AUTH_DHGROUP_NULL);
	c->hl = 32;
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_HASH_UNUSABLE, -EPROTO);

	/* A DH value with the NULL group. */
	ut_setup(state);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	c->dhvlen = 8;
	ut_answer(msg, len + 8, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PAYLOAD, -EPROTO);

	/* A DH value that is not one: 0 is refused by the arithmetic. */
	ut_setup(state);
	ut_start_and_negotiate();
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_2048);
	memset(c->cval + 32, 0, c->dhvlen);
	ut_answer(msg, len, 0);
	ut_expect_failure2(NVT_AUTH_FAIL_INCORRECT_PAYLOAD, -EPROTO);
}

static void
test_submit_and_transport_errors(void **state)
{
	(void)state;
	/* The first submission fails: no run, no callback. */
	g_submit_rc = -EAGAIN;
	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), -EAGAIN);
	assert_null(g_qpair.auth);
	assert_int_equal(g_done_calls, 0);

	/* A later one fails: the run ends with its error. */
	g_submit_rc = 0;
	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), 0);
	g_submit_rc = -EAGAIN;
	ut_answer(NULL, 0, 0);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, -EAGAIN);

	/* The transport fails under the run: the queue's error, no Failure2. */
	ut_setup(state);
	ut_start_and_negotiate();
	g_qpair.state = NVME_QPAIR_STATE_FAILED;
	g_qpair.fatal_rc = -ECONNRESET;
	ut_answer(NULL, 0, NVT_NVME_STATUS_HOST_PATH_ERROR);
	assert_false(g_cmd.pending);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, -ECONNRESET);
}

static void
test_needed(void **state)
{
	(void)state;
	/* The controller asks; a host key answers. */
	assert_int_equal(nvme_auth_needed(&g_qpair, NVT_NVMF_CONNECT_AUTHREQ_ATR), 1);
	/* Not asked, no controller key: no authentication. */
	assert_int_equal(nvme_auth_needed(&g_qpair, 0), 0);
	/* A controller key makes the host authenticate even unasked. */
	ut_setup_keys(true, NVT_NVME_DHCHAP_DIGESTS_ALL, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	assert_int_equal(nvme_auth_needed(&g_qpair, 0), 1);
	/* ...but not with the discovery controller, whose key it is not. */
	snprintf(g_ctrlr.trid.subnqn, sizeof(g_ctrlr.trid.subnqn), "%s", NVT_NVMF_DISCOVERY_NQN);
	assert_int_equal(nvme_auth_needed(&g_qpair, 0), 0);
	/* Asked without a host key; secure channel concatenation. */
	g_ctrlr.keys = NULL;
	assert_int_equal(nvme_auth_needed(&g_qpair, 0), 0);
	assert_int_equal(nvme_auth_needed(&g_qpair, NVT_NVMF_CONNECT_AUTHREQ_ATR), -ENOKEY);
	assert_int_equal(nvme_auth_start(&g_qpair, ut_done, &g_qpair), -EINVAL);
	assert_int_equal(nvme_auth_needed(&g_qpair, NVT_NVMF_CONNECT_AUTHREQ_ATR |
							    NVT_NVMF_CONNECT_AUTHREQ_ASCR),
			 -ENOTSUP);
}

static void
ut_reauth_done(void *arg, int rc, uint16_t status)
{
	(void)status;
	assert_ptr_equal(arg, &g_ctrlr);
	g_done_calls++;
	g_done_rc = rc;
}

static void
test_reauthenticate(void **state)
{
	uint8_t msg[AUTH_BUF_SIZE];
	uint32_t len;
	uint16_t tid;

	(void)state;
	g_qpair.state = NVME_QPAIR_STATE_READY;
	assert_int_equal(nvt_nvme_ctrlr_authenticate(&g_ctrlr, ut_reauth_done, &g_ctrlr), 0);
	assert_int_equal(nvt_nvme_ctrlr_authenticate(&g_ctrlr, ut_reauth_done, &g_ctrlr), -EBUSY);
	ut_expect_cmd(true);
	tid = ((const struct nvt_auth_negotiate *)g_cmd.buf)->t_id;
	g_c.tid = tid;
	ut_answer(NULL, 0, 0);
	len = ut_build_challenge(msg, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_2048);
	ut_answer(msg, len, 0);
	ut_check_reply(false);
	ut_answer(NULL, 0, 0);
	ut_answer(msg, ut_build_success1(msg, false), 0);
	assert_int_equal(g_done_calls, 1);
	assert_int_equal(g_done_rc, 0);
	assert_false(g_marked_failed);

	/* The next run is another transaction; a refusal fails the controller. */
	assert_int_equal(nvt_nvme_ctrlr_authenticate(&g_ctrlr, ut_reauth_done, &g_ctrlr), 0);
	assert_int_not_equal(((const struct nvt_auth_negotiate *)g_cmd.buf)->t_id, tid);
	g_c.tid = ((const struct nvt_auth_negotiate *)g_cmd.buf)->t_id;
	ut_answer(NULL, 0, 0);
	ut_answer(msg, ut_build_failure1(msg, NVT_AUTH_FAIL_FAILED), 0);
	assert_int_equal(g_done_calls, 2);
	assert_int_equal(g_done_rc, -EACCES);
	assert_true(g_marked_failed);
	assert_int_equal(nvt_nvme_ctrlr_authenticate(&g_ctrlr, ut_reauth_done, &g_ctrlr), -ENXIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_negotiate_offers, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_unidirectional_null, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_bidirectional_ffdhe2048, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_r2_mismatch, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_r2_missing, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_failure1_instead_of_challenge, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_failure1_instead_of_success1, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_order, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_truncated, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_bad_choice, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_submit_and_transport_errors, ut_setup,
						ut_teardown),
		cmocka_unit_test_setup_teardown(test_needed, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_reauthenticate, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
