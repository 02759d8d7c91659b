/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A controller's secrets (lib/nvme/keys.c, compiled in): the checks of the
 * options, the transformed DH-HMAC-CHAP keys and the TLS PSK, identity and
 * cipher derived for the controller's NQNs (against lib/auth computing the
 * same by itself), reading key files, and the digest and group lists.
 * The secrets are nvme-cli's interchange strings of lib/auth's own tests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../lib/nvme/keys.c"

#define UT_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define UT_SUBNQN  "nqn.2024-01.io.example:keys-ut"

/* Key bytes i * 7 + 33 (DH-HMAC-CHAP, SHA-256) and i * 7 + 50 (TLS, SHA-384). */
static const char g_dhchap_text[] = "DHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:";
static const char g_tls_text[] =
	"NVMeTLSkey-1:02:MjlAR05VXGNqcXh/ho2Um6KpsLe+xczT2uHo7/b9BAsSGSAnLjU8Q0pRWF9mbXR7YYoqlA==:";
static const char g_tls256_text[] =
	"NVMeTLSkey-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:";

static struct nvt_secret g_dhchap;
static struct nvt_secret g_tls;
static struct nvt_secret g_tls256;
static struct nvt_nvme_ctrlr g_ctrlr;

static void
ut_parse(const char *text, struct nvt_secret *s)
{
	assert_int_equal(nvt_secret_parse(text, strlen(text), s), 0);
}

static int
ut_setup(void **state)
{
	(void)state;
	ut_parse(g_dhchap_text, &g_dhchap);
	ut_parse(g_tls_text, &g_tls);
	ut_parse(g_tls256_text, &g_tls256);
	memset(&g_ctrlr, 0, sizeof(g_ctrlr));
	snprintf(g_ctrlr.opts.hostnqn, sizeof(g_ctrlr.opts.hostnqn), "%s", UT_HOSTNQN);
	snprintf(g_ctrlr.trid.subnqn, sizeof(g_ctrlr.trid.subnqn), "%s", UT_SUBNQN);
	g_ctrlr.opts.dhchap_digests = NVT_NVME_DHCHAP_DIGESTS_ALL;
	g_ctrlr.opts.dhchap_dhgroups = NVT_NVME_DHCHAP_DHGROUPS_ALL;
	return 0;
}

static int
ut_teardown(void **state)
{
	(void)state;
	nvme_keys_destroy(&g_ctrlr.keys);
	return 0;
}

static void
test_no_secrets(void **state)
{
	(void)state;
	/* Nothing to keep: no keys, and the defaults filled in for older callers. */
	g_ctrlr.opts.dhchap_digests = 0;
	g_ctrlr.opts.dhchap_dhgroups = 0;
	assert_int_equal(nvme_keys_create(&g_ctrlr), 0);
	assert_null(g_ctrlr.keys);
	assert_int_equal(g_ctrlr.opts.dhchap_digests, NVT_NVME_DHCHAP_DIGESTS_ALL);
	assert_int_equal(g_ctrlr.opts.dhchap_dhgroups, NVT_NVME_DHCHAP_DHGROUPS_ALL);
}

static void
test_refused_options(void **state)
{
	(void)state;
	/* A controller key alone. */
	g_ctrlr.opts.dhchap_ctrlr_key = &g_dhchap;
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	/* The caller's pointers are forgotten either way. */
	assert_null(g_ctrlr.opts.dhchap_ctrlr_key);
	/* A secret of the other kind. */
	g_ctrlr.opts.dhchap_key = &g_tls;
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	g_ctrlr.opts.tls_psk = &g_dhchap;
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	/* No digest, or an unknown one, to offer. */
	g_ctrlr.opts.dhchap_key = &g_dhchap;
	g_ctrlr.opts.dhchap_digests = 1u << NVT_AUTH_HASH_NONE;
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	g_ctrlr.opts.dhchap_key = &g_dhchap;
	g_ctrlr.opts.dhchap_digests = NVT_NVME_DHCHAP_DIGESTS_ALL;
	g_ctrlr.opts.dhchap_dhgroups = 1u << 9;
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	/* TLS over another socket implementation. */
	g_ctrlr.opts.dhchap_dhgroups = NVT_NVME_DHCHAP_DHGROUPS_ALL;
	g_ctrlr.opts.tls_psk = &g_tls;
	g_ctrlr.opts.sock_impl = "posix";
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	assert_null(g_ctrlr.keys);
	/* An identity longer than the socket layer takes. */
	g_ctrlr.opts.sock_impl = "ssl";
	g_ctrlr.opts.tls_psk = &g_tls;
	g_ctrlr.opts.psk_identity =
		"NVMe0R02 "
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	assert_int_equal(nvme_keys_create(&g_ctrlr), -EINVAL);
	assert_null(g_ctrlr.keys);
}

static void
test_dhchap_keys(void **state)
{
	uint8_t kh[NVT_AUTH_MAX_HASH_LEN], kc[NVT_AUTH_MAX_HASH_LEN];
	size_t kh_len, kc_len;

	(void)state;
	g_ctrlr.opts.dhchap_key = &g_dhchap;
	g_ctrlr.opts.dhchap_ctrlr_key = &g_dhchap;
	g_ctrlr.opts.dhchap_digests = 1u << NVT_AUTH_HASH_SHA512;
	assert_int_equal(nvme_keys_create(&g_ctrlr), 0);
	assert_non_null(g_ctrlr.keys);
	assert_int_equal(g_ctrlr.keys->digests, 1u << NVT_AUTH_HASH_SHA512);
	assert_int_equal(g_ctrlr.keys->dhgroups, NVT_NVME_DHCHAP_DHGROUPS_ALL);
	assert_false(g_ctrlr.keys->tls);
	/* One key, transformed with the host NQN for Kh, with the subsystem's for Kc. */
	assert_int_equal(nvt_auth_transform_key(&g_dhchap, UT_HOSTNQN, kh, &kh_len), 0);
	assert_int_equal(nvt_auth_transform_key(&g_dhchap, UT_SUBNQN, kc, &kc_len), 0);
	assert_int_equal(g_ctrlr.keys->kh_len, 32);
	assert_int_equal(g_ctrlr.keys->kc_len, 32);
	assert_memory_equal(g_ctrlr.keys->kh, kh, kh_len);
	assert_memory_equal(g_ctrlr.keys->kc, kc, kc_len);
	assert_memory_not_equal(kh, kc, kh_len);
	assert_null(g_ctrlr.opts.dhchap_key);
}

/* The TLS PSK of \p psk and \p identity, as lib/auth derives it on its own. */
static void
ut_expected_tls_psk(const struct nvt_secret *psk, enum nvt_auth_hash hash, const char *identity,
		    enum nvt_tls_psk_kdf kdf, uint8_t *out)
{
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN];

	assert_int_equal(nvt_tls_retained_psk_kdf(psk, UT_HOSTNQN, kdf, retained), 0);
	assert_int_equal(nvt_tls_derive_psk_kdf(hash, retained, psk->len, identity, kdf, out), 0);
}

static void
test_tls_psk(void **state)
{
	uint8_t want[NVT_AUTH_MAX_HASH_LEN], compat[NVT_AUTH_MAX_HASH_LEN];
	const struct nvme_keys *k;

	(void)state;
	/* SHA-384: version 0 identity, the SHA-384 suite, RFC 8446 derivation. */
	g_ctrlr.opts.tls_psk = &g_tls;
	assert_int_equal(nvme_keys_create(&g_ctrlr), 0);
	k = g_ctrlr.keys;
	assert_true(k->tls);
	assert_string_equal(k->psk.identity, "NVMe0R02 " UT_HOSTNQN " " UT_SUBNQN);
	assert_int_equal(k->psk.key_len, 48);
	assert_int_equal(k->psk.cipher, NVT_SOCK_TLS_AES_256_GCM_SHA384);
	assert_ptr_equal(k->tls_opts.client_psk, &k->psk);
	assert_int_equal(k->kh_len, 0);
	ut_expected_tls_psk(&g_tls, NVT_AUTH_HASH_SHA384, k->psk.identity, NVT_TLS_PSK_KDF_RFC8446,
			    want);
	assert_memory_equal(k->psk.key, want, 48);
	nvme_keys_destroy(&g_ctrlr.keys);

	/* SHA-256, libnvme 1.13's derivation, an identity given. */
	g_ctrlr.opts.tls_psk = &g_tls256;
	g_ctrlr.opts.tls_psk_kdf = NVT_TLS_PSK_KDF_LIBNVME_COMPAT;
	g_ctrlr.opts.psk_identity = "NVMe0R01 " UT_HOSTNQN " " UT_SUBNQN;
	assert_int_equal(nvme_keys_create(&g_ctrlr), 0);
	k = g_ctrlr.keys;
	assert_int_equal(k->psk.key_len, 32);
	assert_int_equal(k->psk.cipher, NVT_SOCK_TLS_AES_128_GCM_SHA256);
	ut_expected_tls_psk(&g_tls256, NVT_AUTH_HASH_SHA256, k->psk.identity,
			    NVT_TLS_PSK_KDF_LIBNVME_COMPAT, compat);
	ut_expected_tls_psk(&g_tls256, NVT_AUTH_HASH_SHA256, k->psk.identity,
			    NVT_TLS_PSK_KDF_RFC8446, want);
	assert_memory_equal(k->psk.key, compat, 32);
	/* The two layouts do give two keys: the option matters. */
	assert_memory_not_equal(compat, want, 32);
}

/* A key file of \p mode holding \p text; its path in \p path. */
static void
ut_key_file(char *path, size_t len, const char *text, mode_t mode)
{
	int fd;

	snprintf(path, len, "%s/keys_ut.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_read_file(void **state)
{
	struct nvt_secret *s = NULL;
	char path[256], text[4200];

	(void)state;
	/* nvme gen-dhchap-key's output, newline included. */
	snprintf(text, sizeof(text), "%s\n", g_dhchap_text);
	ut_key_file(path, sizeof(path), text, 0600);
	assert_int_equal(nvt_nvme_secret_read_file(path, NVT_SECRET_DHCHAP, &s), 0);
	assert_int_equal(s->len, 32);
	assert_memory_equal(s->key, g_dhchap.key, 32);
	nvt_secret_free(s);
	/* Not the kind asked for. */
	assert_int_equal(nvt_nvme_secret_read_file(path, NVT_SECRET_TLS_PSK, &s), -EINVAL);
	/* Others may read it. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(nvt_nvme_secret_read_file(path, NVT_SECRET_DHCHAP, &s), -EPERM);
	unlink(path);
	assert_int_equal(nvt_nvme_secret_read_file(path, NVT_SECRET_DHCHAP, &s), -ENOENT);
	/* Garbage, and a file too long for any secret. */
	ut_key_file(path, sizeof(path), "DHHC-1:01:not base64 at all:\n", 0400);
	assert_int_equal(nvt_nvme_secret_read_file(path, NVT_SECRET_DHCHAP, &s), -EINVAL);
	unlink(path);
	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ut_key_file(path, sizeof(path), text, 0600);
	assert_int_equal(nvt_nvme_secret_read_file(path, NVT_SECRET_DHCHAP, &s), -EFBIG);
	unlink(path);
	/* A directory is not a key file. */
	assert_int_equal(nvt_nvme_secret_read_file("/", NVT_SECRET_DHCHAP, &s), -EINVAL);
}

static void
test_lists(void **state)
{
	uint32_t m = 0;

	(void)state;
	assert_int_equal(nvt_nvme_dhchap_digests_parse("sha256,sha512", &m), 0);
	assert_int_equal(m, (1u << NVT_AUTH_HASH_SHA256) | (1u << NVT_AUTH_HASH_SHA512));
	assert_int_equal(nvt_nvme_dhchap_digests_parse("hmac(sha384)", &m), 0);
	assert_int_equal(m, 1u << NVT_AUTH_HASH_SHA384);
	assert_int_equal(nvt_nvme_dhchap_dhgroups_parse("null,ffdhe2048,ffdhe8192", &m), 0);
	assert_int_equal(m, (1u << NVT_AUTH_DHGROUP_NULL) | (1u << NVT_AUTH_DHGROUP_2048) |
				    (1u << NVT_AUTH_DHGROUP_8192));
	/* What does not parse leaves the mask alone. */
	m = 7;
	assert_int_equal(nvt_nvme_dhchap_digests_parse("", &m), -EINVAL);
	assert_int_equal(nvt_nvme_dhchap_digests_parse("md5", &m), -EINVAL);
	assert_int_equal(nvt_nvme_dhchap_digests_parse("sha256,", &m), -EINVAL);
	assert_int_equal(nvt_nvme_dhchap_digests_parse(",sha256", &m), -EINVAL);
	assert_int_equal(nvt_nvme_dhchap_digests_parse("ffdhe2048", &m), -EINVAL);
	assert_int_equal(nvt_nvme_dhchap_dhgroups_parse("sha256", &m), -EINVAL);
	assert_int_equal(nvt_nvme_dhchap_dhgroups_parse("ffdhe1024", &m), -EINVAL);
	assert_int_equal(m, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_secrets, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_refused_options, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_dhchap_keys, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_tls_psk, ut_setup, ut_teardown),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
