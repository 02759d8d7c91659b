/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DH-HMAC-CHAP against nvtcpd with the raw host: every hash x DH group
 * pair; bidirectional; a wrong host secret, a wrong controller secret, no
 * authentication at all, a truncated and a replayed Reply, messages out of
 * order, commands before authentication (each refused rightly while a host
 * without keys keeps being served); re-authentication; keys rotated by
 * nvmf_subsystem_set_keys for the next authentication.
 *
 * Usage: auth_test NVTCPD
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth_raw.h"
#include "test_daemon.h"
#include "test_rpc.h"
#include "test_util.h"

#define SUBNQN "nqn.2016-06.io.nvtcp:auth"
/* Host 1: bidirectional keys. Host 2: a host key only. Host 3: no key at all. */
#define HOST1 "nqn.2014-08.org.nvmexpress:uuid:a0000000-0000-4000-8000-000000000001"
#define HOST2 "nqn.2014-08.org.nvmexpress:uuid:a0000000-0000-4000-8000-000000000002"
#define HOST3 "nqn.2014-08.org.nvmexpress:uuid:a0000000-0000-4000-8000-000000000003"

/* Secrets as nvme gen-dhchap-key writes them (hashes 01, 00, 02, 03). */
#define KEY1  "DHHC-1:01:dpb2pzQnxgXoNkZMXQnGlcn4s9VFqaLvvXShthBKayKBJpd2:"
#define CKEY1 "DHHC-1:00:RZJVkkcxLxJ85s/3xN7QVEGxQTK6NeommKL0qDxSgGkOl2Oc:"
#define KEY2                                                                        \
	"DHHC-1:02:gLB0Tk/dqCNmhMIJ3BBNdgcArS+APA29AgBso97A3e04gQQykFe8Bc0gnxYfsJ3" \
	"Ki6JtZA==:"
#define KEY3                                                                              \
	"DHHC-1:03:nZ1x0xQ+FJcPDXSPy4vUC3MvO2x6MuT6mb8kHpVOyMMu4J2ISDR/ytb7TrrEOnAHC7zh5" \
	"HCYV2VBouRU7YQ5HQ97LCA=:"
#define WRONG "DHHC-1:01:MtOZIg7LIav/ZFxS1zjF/C6PY5L64zchhflbwapSj9S8GT8T:"

#define BLK 512

static const char *g_config =
	"{ \"subsystems\": [\n"
	"  { \"subsystem\": \"keyring\", \"config\": [\n"
	"    { \"method\": \"keyring_file_add_key\", \"params\": { \"name\": \"key1\", \"path\": "
	"\"%s/key1\" } },\n"
	"    { \"method\": \"keyring_file_add_key\", \"params\": { \"name\": \"ckey1\", \"path\": "
	"\"%s/ckey1\" } },\n"
	"    { \"method\": \"keyring_file_add_key\", \"params\": { \"name\": \"key2\", \"path\": "
	"\"%s/key2\" } },\n"
	"    { \"method\": \"keyring_file_add_key\", \"params\": { \"name\": \"key3\", \"path\": "
	"\"%s/key3\" } } ] },\n"
	"  { \"subsystem\": \"bdev\", \"config\": [\n"
	"    { \"method\": \"bdev_malloc_create\", \"params\": { \"name\": \"Malloc0\",\n"
	"      \"num_blocks\": 2048, \"block_size\": 512 } } ] },\n"
	"  { \"subsystem\": \"nvmf\", \"config\": [\n"
	"    { \"method\": \"nvmf_create_transport\", \"params\": { \"trtype\": \"TCP\" } },\n"
	"    { \"method\": \"nvmf_create_subsystem\", \"params\": { \"nqn\": \"" SUBNQN "\" } },\n"
	"    { \"method\": \"nvmf_subsystem_add_ns\", \"params\": { \"nqn\": \"" SUBNQN "\",\n"
	"      \"namespace\": { \"bdev_name\": \"Malloc0\", \"nsid\": 1 } } },\n"
	"    { \"method\": \"nvmf_subsystem_add_host\", \"params\": { \"nqn\": \"" SUBNQN "\",\n"
	"      \"host\": \"" HOST1
	"\", \"dhchap_key\": \"key1\", \"dhchap_ctrlr_key\": \"ckey1\" } },\n"
	"    { \"method\": \"nvmf_subsystem_add_host\", \"params\": { \"nqn\": \"" SUBNQN "\",\n"
	"      \"host\": \"" HOST2 "\", \"dhchap_key\": \"key2\" } },\n"
	"    { \"method\": \"nvmf_subsystem_add_host\", \"params\": { \"nqn\": \"" SUBNQN "\",\n"
	"      \"host\": \"" HOST3 "\" } },\n"
	"    { \"method\": \"nvmf_subsystem_add_listener\", \"params\": { \"nqn\": \"" SUBNQN
	"\",\n"
	"      \"listen_address\": { \"trtype\": \"TCP\", \"adrfam\": \"IPv4\",\n"
	"        \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%d\" } } } ] } ] }\n";

struct target {
	struct nvt_test_daemon d;
	char dir[256];
	char rpc[108];
	int port;
};

static int g_failures;

#define CHECK(cond, ...)                              \
	do {                                          \
		if (!(cond)) {                        \
			fprintf(stderr, "FAIL: ");    \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, "\n");        \
			g_failures++;                 \
		}                                     \
	} while (0)

static int
write_key(const char *dir, const char *name, const char *text)
{
	char path[512];
	int rc = nvt_test_path(path, sizeof(path), dir, name);

	if (rc == 0) {
		rc = nvt_test_write_file(path, text);
	}
	return rc == 0 && chmod(path, 0600) != 0 ? -errno : rc;
}

static int
target_start(struct target *t, const char *nvtcpd)
{
	char *extra[] = { "-m", "0x1", "-r", t->rpc, NULL };
	char text[8192];
	int rc;

	t->port = nvt_test_free_port();
	rc = nvt_test_tmpdir_create(t->dir, sizeof(t->dir), "/tmp", "nvtcp-auth-test");
	if (rc == 0) {
		rc = nvt_test_path(t->rpc, sizeof(t->rpc), t->dir, "rpc.sock");
	}
	rc = rc != 0 ? rc : write_key(t->dir, "key1", KEY1 "\n");
	rc = rc != 0 ? rc : write_key(t->dir, "ckey1", CKEY1 "\n");
	rc = rc != 0 ? rc : write_key(t->dir, "key2", KEY2 "\n");
	rc = rc != 0 ? rc : write_key(t->dir, "key3", KEY3 "\n");
	if (rc == 0) {
		snprintf(text, sizeof(text), g_config, t->dir, t->dir, t->dir, t->dir, t->port);
		rc = nvt_test_daemon_start_config(&t->d, nvtcpd, t->dir, text, extra);
	}
	return rc;
}

/* Admin queue of \p hostnqn: ICReq, Connect; \p atr gets the AUTHREQ.ATR bit. */
static int
queue_connect(struct target *t, struct nvt_test_conn *c, const char *hostnqn, uint16_t qid,
	      uint16_t cntlid, bool *atr)
{
	struct nvt_test_connect_opts o = { .subnqn = SUBNQN,
					   .hostnqn = hostnqn,
					   .qid = qid,
					   .sqsize = 31,
					   .kato_ms = qid == 0 ? 10000 : 0,
					   .cntlid = qid == 0 ? 0xffff : cntlid };
	struct nvt_nvme_cpl cpl;
	int rc;

	nvt_test_tcp_init(c);
	rc = nvt_test_tcp_open(c, "127.0.0.1", (uint16_t)t->port);
	rc = rc != 0 ? rc : nvt_test_tcp_icreq(c, 0, false, false);
	rc = rc != 0 ? rc : nvt_test_tcp_connect_send(c, &o);
	rc = rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, c->cid, NULL, NULL, 0, &cpl);
	if (rc == 0) {
		c->cntlid = qid == 0 ? nvt_nvmf_connect_rsp_cntlid(&cpl) : cntlid;
		*atr = ((cpl.cdw0 >> 16) & NVT_NVMF_CONNECT_AUTHREQ_ATR) != 0;
	}
	return rc;
}

/* Identify Controller (the controller must be enabled to serve it). */
static int
identify(struct nvt_test_conn *c)
{
	static uint8_t buf[4096];
	union nvt_nvme_sqe sqe;
	uint16_t cid = nvt_test_tcp_next_cid(c);
	int rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.cmd.opc = NVT_NVME_OPC_IDENTIFY;
	sqe.cmd.cid = cid;
	sqe.cmd.cdw10 = 1;
	nvt_test_tcp_sqe_sgl_transport(&sqe, sizeof(buf));
	rc = nvt_test_tcp_capsule_send(c, &sqe, NULL, 0, 0);
	return rc != 0 ? rc : nvt_test_tcp_wait_rsp(c, cid, buf, NULL, sizeof(buf), NULL);
}

/* Whether the admin queue is served: CC.EN, then Identify. */
static bool
served(struct nvt_test_conn *c)
{
	return nvt_test_tcp_enable_ctrlr(c) == 0 && identify(c) == 0;
}

#define AUTH_REQUIRED \
	((int)nvt_nvme_status_make(NVT_NVME_SCT_COMMAND_SPECIFIC, NVT_NVMF_SC_AUTH_REQUIRED, true))

static void
raw_init(struct raw_auth *x, struct nvt_test_conn *c, const char *hostnqn, const char *key,
	 const char *ckey, enum nvt_auth_hash hash, enum nvt_auth_dhgroup group)
{
	memset(x, 0, sizeof(*x));
	*x = (struct raw_auth){ .c = c,
				.hostnqn = hostnqn,
				.subnqn = SUBNQN,
				.hash = hash,
				.group = group,
				.host_key = key,
				.ctrlr_key = ckey };
}

/* Every hash x group: admin queue authenticates, then Identify is served. */
static void
test_matrix(struct target *t)
{
	struct nvt_test_conn c;
	struct raw_auth x;
	bool atr;
	int h, g, rc;

	for (h = NVT_AUTH_HASH_SHA256; h <= NVT_AUTH_HASH_SHA512; h++) {
		for (g = NVT_AUTH_DHGROUP_NULL; g <= NVT_AUTH_DHGROUP_8192; g++) {
			rc = queue_connect(t, &c, HOST2, 0, 0, &atr);
			CHECK(rc == 0 && atr, "%s/%s: connect %d atr %d", nvt_auth_hash_name(h),
			      nvt_auth_dhgroup_name(g), rc, atr);
			raw_init(&x, &c, HOST2, KEY2, NULL, h, g);
			rc = raw_authenticate(&x);
			CHECK(rc == 0, "%s/%s: %d %s", nvt_auth_hash_name(h),
			      nvt_auth_dhgroup_name(g), rc, x.why);
			CHECK(served(&c), "%s/%s: not served after authentication",
			      nvt_auth_hash_name(h), nvt_auth_dhgroup_name(g));
			nvt_test_tcp_close(&c);
		}
	}
	printf("ok: 3 hashes x 6 DH groups authenticated\n");
}

/* Bidirectional on the admin and an I/O queue; I/O refused until the I/O queue authenticates. */
static void
test_bidirectional(struct target *t)
{
	struct nvt_test_conn admin, io;
	struct raw_auth x;
	uint8_t buf[BLK];
	bool atr;
	int rc;

	rc = queue_connect(t, &admin, HOST1, 0, 0, &atr);
	CHECK(rc == 0 && atr, "bidirectional: connect %d", rc);
	CHECK(identify(&admin) == AUTH_REQUIRED, "Identify before authentication not refused");
	raw_init(&x, &admin, HOST1, KEY1, CKEY1, NVT_AUTH_HASH_SHA384, NVT_AUTH_DHGROUP_2048);
	rc = raw_authenticate(&x);
	CHECK(rc == 0, "bidirectional admin: %d %s", rc, x.why);
	CHECK(served(&admin), "admin queue not served after authentication");
	rc = queue_connect(t, &io, HOST1, 1, admin.cntlid, &atr);
	CHECK(rc == 0 && atr, "I/O queue connect %d atr %d", rc, atr);
	rc = nvt_test_tcp_read(&io, 1, 0, 1, BLK, buf);
	CHECK(rc == AUTH_REQUIRED, "read before the I/O queue authenticated: 0x%x", rc);
	raw_init(&x, &io, HOST1, KEY1, CKEY1, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	rc = raw_authenticate(&x);
	CHECK(rc == 0, "bidirectional I/O queue: %d %s", rc, x.why);
	CHECK(nvt_test_tcp_read(&io, 1, 0, 1, BLK, buf) == 0, "read after authentication");
	/* Re-authentication on the admin queue, with I/O going on. */
	raw_init(&x, &admin, HOST1, KEY1, CKEY1, NVT_AUTH_HASH_SHA512, NVT_AUTH_DHGROUP_3072);
	x.t_id = 40;
	CHECK(raw_authenticate(&x) == 0, "re-authentication: %s", x.why);
	CHECK(nvt_test_tcp_read(&io, 1, 0, 1, BLK, buf) == 0, "read after re-authentication");
	nvt_test_tcp_close(&io);
	nvt_test_tcp_close(&admin);
	printf("ok: bidirectional, I/O queue, re-authentication\n");
}

/* Each refusal; \p what names it. The connection must be closed by the target after. */
static void
expect_refused(struct nvt_test_conn *c, const char *what)
{
	int rc = nvt_test_tcp_expect_closed(c);

	CHECK(rc == 0 || rc == -ECONNRESET, "%s: the target did not close the queue (%d)", what,
	      rc);
	nvt_test_tcp_close(c);
}

static void
test_wrong_host_key(struct target *t)
{
	struct nvt_test_conn c;
	struct raw_auth x;
	bool atr;
	int rc;

	rc = queue_connect(t, &c, HOST2, 0, 0, &atr);
	raw_init(&x, &c, HOST2, WRONG, NULL, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_2048);
	x.t_id = 1;
	rc = rc != 0 ? rc : raw_negotiate(&x);
	rc = rc != 0 ? rc : raw_challenge(&x);
	rc = rc != 0 ? rc : raw_reply_build(&x);
	rc = rc != 0 ? rc : raw_auth_send(&c, x.reply, (uint32_t)x.reply_len);
	CHECK(rc == 0, "wrong key: exchange broke early: %d %s", rc, x.why);
	rc = raw_expect_failure1(&x, NVT_AUTH_FAIL_FAILED);
	CHECK(rc == 0, "wrong key: %d %s", rc, x.why);
	expect_refused(&c, "wrong host key");
	printf("ok: a wrong host secret gets Failure1 and the queue is closed\n");
}

static void
test_wrong_ctrlr_key(struct target *t)
{
	struct nvt_test_conn c;
	struct raw_auth x;
	bool atr, r2_ok = true;
	int rc;

	rc = queue_connect(t, &c, HOST1, 0, 0, &atr);
	/* The host holds a wrong controller key: R2 does not check out, it sends Failure2. */
	raw_init(&x, &c, HOST1, KEY1, WRONG, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	x.t_id = 2;
	rc = rc != 0 ? rc : raw_negotiate(&x);
	rc = rc != 0 ? rc : raw_challenge(&x);
	rc = rc != 0 ? rc : raw_reply_build(&x);
	rc = rc != 0 ? rc : raw_auth_send(&c, x.reply, (uint32_t)x.reply_len);
	rc = rc != 0 ? rc : raw_success1(&x, &r2_ok);
	CHECK(rc == 0 && !r2_ok, "wrong controller key: R2 accepted (%d %s)", rc, x.why);
	CHECK(raw_success2(&x, false) == 0, "Failure2 not taken");
	CHECK(identify(&c) != 0, "Identify served after Failure2");
	expect_refused(&c, "wrong controller key");
	printf("ok: a host refusing the controller's response (Failure2) ends the queue\n");
}

/* A truncated Reply, and a Reply replayed on another connection (another challenge). */
static void
test_truncated_and_replayed(struct target *t)
{
	struct nvt_test_conn c, d;
	struct raw_auth x, y;
	bool atr;
	int rc;

	rc = queue_connect(t, &c, HOST2, 0, 0, &atr);
	raw_init(&x, &c, HOST2, KEY2, NULL, NVT_AUTH_HASH_SHA384, NVT_AUTH_DHGROUP_NULL);
	x.t_id = 3;
	rc = rc != 0 ? rc : raw_negotiate(&x);
	rc = rc != 0 ? rc : raw_challenge(&x);
	rc = rc != 0 ? rc : raw_reply_build(&x);
	rc = rc != 0 ? rc : raw_auth_send(&c, x.reply, (uint32_t)x.reply_len - 1);
	CHECK(rc == 0, "truncated: %d %s", rc, x.why);
	CHECK(raw_expect_failure1(&x, NVT_AUTH_FAIL_INCORRECT_PAYLOAD) == 0, "truncated: %s",
	      x.why);
	expect_refused(&c, "truncated Reply");

	/* A good Reply recorded on one connection, replayed on another. */
	rc = queue_connect(t, &c, HOST2, 0, 0, &atr);
	raw_init(&x, &c, HOST2, KEY2, NULL, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	CHECK(rc == 0 && raw_authenticate(&x) == 0, "replay: first exchange: %s", x.why);
	rc = queue_connect(t, &d, HOST2, 0, 0, &atr);
	raw_init(&y, &d, HOST2, KEY2, NULL, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	y.t_id = x.t_id;
	rc = rc != 0 ? rc : raw_negotiate(&y);
	rc = rc != 0 ? rc : raw_challenge(&y);
	rc = rc != 0 ? rc : raw_auth_send(&d, x.reply, (uint32_t)x.reply_len);
	CHECK(rc == 0, "replay: %d %s", rc, y.why);
	CHECK(raw_expect_failure1(&y, NVT_AUTH_FAIL_FAILED) == 0, "replay: %s", y.why);
	expect_refused(&d, "replayed Reply");
	/* The first connection is unaffected. */
	CHECK(served(&c), "replay disturbed another authenticated connection");
	nvt_test_tcp_close(&c);
	printf("ok: truncated and replayed Replies refused\n");
}

static void
test_out_of_order_and_skipped(struct target *t)
{
	struct nvt_test_conn c, plain;
	struct raw_auth x;
	bool atr;
	int rc;

	/* A Reply before any Negotiate. */
	rc = queue_connect(t, &c, HOST2, 0, 0, &atr);
	raw_init(&x, &c, HOST2, KEY2, NULL, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	rc = rc != 0 ? rc : raw_reply_build(&x);
	rc = rc != 0 ? rc : raw_auth_send(&c, x.reply, (uint32_t)x.reply_len);
	CHECK(rc == 0, "out of order: %d", rc);
	CHECK(raw_expect_failure1(&x, NVT_AUTH_FAIL_INCORRECT_PROTOCOL) == 0, "out of order: %s",
	      x.why);
	expect_refused(&c, "Reply before Negotiate");

	/* No authentication at all: nothing but authentication is served. */
	rc = queue_connect(t, &c, HOST2, 0, 0, &atr);
	CHECK(rc == 0 && atr, "skip: connect");
	CHECK(identify(&c) == AUTH_REQUIRED, "Identify without authentication served");
	CHECK(nvt_test_tcp_enable_ctrlr(&c) == AUTH_REQUIRED,
	      "Property Set without authentication served");
	CHECK(nvt_test_tcp_keep_alive(&c) == AUTH_REQUIRED,
	      "Keep Alive without authentication served");

	/* A host without keys is served meanwhile, without being asked to authenticate. */
	rc = queue_connect(t, &plain, HOST3, 0, 0, &atr);
	CHECK(rc == 0 && !atr, "host without keys: connect %d atr %d", rc, atr);
	CHECK(served(&plain), "host without keys not served");
	x.c = &plain;
	rc = raw_negotiate(&x);
	CHECK(rc == (int)nvt_nvme_status_make(NVT_NVME_SCT_GENERIC,
					      NVT_NVME_SC_COMMAND_SEQUENCE_ERROR, true),
	      "host without keys: Authentication Send answered 0x%x", rc);
	nvt_test_tcp_close(&plain);
	nvt_test_tcp_close(&c);
	printf("ok: out-of-order and skipped authentication refused, others served\n");
}

static int
set_keys(struct target *t, const char *key, const char *ckey)
{
	json_t *params = json_pack("{s:s, s:s}", "nqn", SUBNQN, "host", HOST1), *res;
	int ok;

	json_object_set_new(params, "dhchap_key", json_string(key));
	if (ckey != NULL) {
		json_object_set_new(params, "dhchap_ctrlr_key", json_string(ckey));
	}
	res = nvt_test_rpc_call(t->rpc, "nvmf_subsystem_set_keys", params);
	ok = res != NULL && (json_is_true(res) || json_is_null(res));
	json_decref(params);
	json_decref(res);
	return ok ? 0 : -EIO;
}

/* Keys rotated: a connected queue keeps working; its next authentication needs the new key. */
static void
test_rotation(struct target *t)
{
	struct nvt_test_conn c;
	struct raw_auth x;
	bool atr;
	int rc;

	rc = queue_connect(t, &c, HOST1, 0, 0, &atr);
	raw_init(&x, &c, HOST1, KEY1, CKEY1, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	CHECK(rc == 0 && raw_authenticate(&x) == 0, "rotation: first exchange: %s", x.why);
	CHECK(set_keys(t, "key3", NULL) == 0, "nvmf_subsystem_set_keys refused");
	CHECK(served(&c), "rotation dropped a connected host");
	raw_init(&x, &c, HOST1, KEY3, NULL, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_2048);
	x.t_id = 60;
	CHECK(raw_authenticate(&x) == 0, "re-authentication with the new key: %s", x.why);
	nvt_test_tcp_close(&c);

	rc = queue_connect(t, &c, HOST1, 0, 0, &atr);
	raw_init(&x, &c, HOST1, KEY1, NULL, NVT_AUTH_HASH_SHA256, NVT_AUTH_DHGROUP_NULL);
	x.t_id = 1;
	rc = rc != 0 ? rc : raw_negotiate(&x);
	rc = rc != 0 ? rc : raw_challenge(&x);
	rc = rc != 0 ? rc : raw_reply_build(&x);
	rc = rc != 0 ? rc : raw_auth_send(&c, x.reply, (uint32_t)x.reply_len);
	CHECK(rc == 0 && raw_expect_failure1(&x, NVT_AUTH_FAIL_FAILED) == 0,
	      "the old key still works after rotation: %s", x.why);
	expect_refused(&c, "old key after rotation");
	CHECK(set_keys(t, "key1", "ckey1") == 0, "nvmf_subsystem_set_keys back refused");
	printf("ok: keys rotated without dropping the connected host\n");
}

/* save_config names the keys and holds no secret. */
static void
test_save_config(struct target *t)
{
	json_t *cfg = nvt_test_rpc_call(t->rpc, "save_config", NULL);
	char *text = cfg != NULL ? json_dumps(cfg, JSON_COMPACT) : NULL;

	CHECK(text != NULL, "save_config failed");
	if (text != NULL) {
		CHECK(strstr(text, "\"dhchap_key\":\"key1\"") != NULL &&
			      strstr(text, "\"dhchap_ctrlr_key\":\"ckey1\"") != NULL,
		      "save_config lacks the key names");
		CHECK(strstr(text, "DHHC-1") == NULL && strstr(text, "dpb2pzQnxg") == NULL,
		      "save_config holds a secret");
	}
	free(text);
	json_decref(cfg);
	printf("ok: save_config names keys, holds no secret\n");
}

int
main(int argc, char **argv)
{
	struct target t;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s NVTCPD\n", argv[0]);
		return 2;
	}
	memset(&t, 0, sizeof(t));
	rc = target_start(&t, argv[1]);
	if (rc != 0) {
		fprintf(stderr, "FAIL: nvtcpd did not start: %s\n", strerror(-rc));
		nvt_test_tmpdir_remove(t.dir);
		return 1;
	}
	test_matrix(&t);
	test_bidirectional(&t);
	test_wrong_host_key(&t);
	test_wrong_ctrlr_key(&t);
	test_truncated_and_replayed(&t);
	test_out_of_order_and_skipped(&t);
	test_rotation(&t);
	test_save_config(&t);
	rc = nvt_test_daemon_stop(&t.d);
	CHECK(rc == 0, "nvtcpd did not exit cleanly: %d", rc);
	nvt_test_tmpdir_remove(t.dir);
	printf("%s: %d failure(s)\n", g_failures == 0 ? "PASSED" : "FAILED", g_failures);
	return g_failures == 0 ? 0 : 1;
}
