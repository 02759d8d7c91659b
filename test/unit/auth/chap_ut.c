/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DH-HMAC-CHAP computations against vectors of an independent
 * implementation (make-vectors.py, Python hashlib/hmac).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"

#include "auth_ut.h"
#include "vectors.h"

/* The secrets of make-vectors.py: hash ID, key length, first byte. */
static const struct {
	enum nvt_auth_hash hash;
	size_t len;
	unsigned int start;
	const char *kh;
	const char *kc;
} g_keys[] = {
	{ NVT_AUTH_HASH_NONE, 32, 0x00, KH_0_HOST, KC_0_SUB },
	{ NVT_AUTH_HASH_SHA256, 32, 0x20, KH_1_HOST, KC_1_SUB },
	{ NVT_AUTH_HASH_SHA384, 48, 0x40, KH_2_HOST, KC_2_SUB },
	{ NVT_AUTH_HASH_SHA512, 64, 0x80, KH_3_HOST, KC_3_SUB },
};

static void
test_transform_key(void **state)
{
	uint8_t out[NVT_AUTH_MAX_HASH_LEN], want[NVT_AUTH_MAX_HASH_LEN];
	struct nvt_secret s;
	size_t i, len, want_len;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(g_keys); i++) {
		ut_secret(&s, NVT_SECRET_DHCHAP, g_keys[i].hash, g_keys[i].len, g_keys[i].start);
		len = 0;
		assert_int_equal(nvt_auth_transform_key(&s, HOSTNQN, out, &len), 0);
		want_len = ut_unhex(g_keys[i].kh, want, sizeof(want));
		assert_int_equal(len, want_len);
		assert_memory_equal(out, want, want_len);

		assert_int_equal(nvt_auth_transform_key(&s, SUBNQN, out, &len), 0);
		want_len = ut_unhex(g_keys[i].kc, want, sizeof(want));
		assert_int_equal(len, want_len);
		assert_memory_equal(out, want, want_len);
	}
}

static void
test_transform_key_bad(void **state)
{
	uint8_t out[NVT_AUTH_MAX_HASH_LEN];
	struct nvt_secret s;
	size_t len = 0;

	(void)state;
	ut_secret(&s, NVT_SECRET_TLS_PSK, NVT_AUTH_HASH_SHA256, 32, 0);
	assert_int_equal(nvt_auth_transform_key(&s, HOSTNQN, out, &len), -EINVAL);
	ut_secret(&s, NVT_SECRET_DHCHAP, (enum nvt_auth_hash)4, 32, 0);
	assert_int_equal(nvt_auth_transform_key(&s, HOSTNQN, out, &len), -EINVAL);
	ut_secret(&s, NVT_SECRET_DHCHAP, NVT_AUTH_HASH_SHA256, 0, 0);
	assert_int_equal(nvt_auth_transform_key(&s, HOSTNQN, out, &len), -EINVAL);
	ut_secret(&s, NVT_SECRET_DHCHAP, NVT_AUTH_HASH_SHA256, 32, 0);
	s.len = NVT_AUTH_MAX_HASH_LEN + 1;
	assert_int_equal(nvt_auth_transform_key(&s, HOSTNQN, out, &len), -EINVAL);
	s.len = 32;
	assert_int_equal(nvt_auth_transform_key(&s, NULL, out, &len), -EINVAL);
	assert_int_equal(nvt_auth_transform_key(NULL, HOSTNQN, out, &len), -EINVAL);
	assert_int_equal(len, 0);
}

/* The shared secret and challenge of make-vectors.py. */
static void
vector_inputs(enum nvt_auth_hash hash, uint8_t *shared, uint8_t *chal)
{
	size_t i;

	for (i = 0; i < 256; i++) {
		shared[i] = (uint8_t)(7 * i + 3);
	}
	ut_key_bytes(chal, nvt_auth_hash_len(hash), 0xc0);
}

static void
test_augment_challenge(void **state)
{
	static const char *const want_hex[] = { NULL, AUG_1, AUG_2, AUG_3 };
	uint8_t shared[256], chal[NVT_AUTH_MAX_HASH_LEN], out[NVT_AUTH_MAX_HASH_LEN];
	uint8_t want[NVT_AUTH_MAX_HASH_LEN];
	enum nvt_auth_hash hash;
	size_t len;

	(void)state;
	for (hash = NVT_AUTH_HASH_SHA256; hash <= NVT_AUTH_HASH_SHA512; hash++) {
		vector_inputs(hash, shared, chal);
		len = ut_unhex(want_hex[hash], want, sizeof(want));
		assert_int_equal(len, nvt_auth_hash_len(hash));
		assert_int_equal(
			nvt_auth_augment_challenge(hash, shared, sizeof(shared), chal, out), 0);
		assert_memory_equal(out, want, len);
	}
	assert_int_equal(
		nvt_auth_augment_challenge(NVT_AUTH_HASH_NONE, shared, sizeof(shared), chal, out),
		-EINVAL);
	assert_int_equal(nvt_auth_augment_challenge(NVT_AUTH_HASH_SHA256, shared, 0, chal, out),
			 -EINVAL);
}

static void
check_response(enum nvt_auth_role role, enum nvt_auth_hash hash, const uint8_t *chal, uint32_t seq,
	       uint16_t tid, uint8_t scc, const char *want_hex)
{
	uint8_t key[NVT_AUTH_MAX_HASH_LEN], out[NVT_AUTH_MAX_HASH_LEN], want[NVT_AUTH_MAX_HASH_LEN];
	struct nvt_secret s;
	size_t key_len = 0, len;

	ut_secret(&s, NVT_SECRET_DHCHAP, g_keys[hash].hash, g_keys[hash].len, g_keys[hash].start);
	assert_int_equal(nvt_auth_transform_key(&s, role == NVT_AUTH_ROLE_HOST ? HOSTNQN : SUBNQN,
						key, &key_len),
			 0);
	len = ut_unhex(want_hex, want, sizeof(want));
	assert_int_equal(len, nvt_auth_hash_len(hash));
	memset(out, 0, sizeof(out));
	assert_int_equal(nvt_auth_chap_response(role, hash, key, key_len, chal, seq, tid, scc,
						HOSTNQN, SUBNQN, out),
			 0);
	assert_memory_equal(out, want, len);
}

static void
test_responses(void **state)
{
	static const char *const r1[] = { NULL, R1_1, R1_2, R1_3 };
	static const char *const r2[] = { NULL, R2_1, R2_2, R2_3 };
	static const char *const r1_aug[] = { NULL, R1_AUG_SCC_1, R1_AUG_SCC_2, R1_AUG_SCC_3 };
	uint8_t shared[256], chal[NVT_AUTH_MAX_HASH_LEN], aug[NVT_AUTH_MAX_HASH_LEN];
	enum nvt_auth_hash hash;

	(void)state;
	for (hash = NVT_AUTH_HASH_SHA256; hash <= NVT_AUTH_HASH_SHA512; hash++) {
		vector_inputs(hash, shared, chal);
		check_response(NVT_AUTH_ROLE_HOST, hash, chal, 0x12345678, 0xabcd, 0, r1[hash]);
		check_response(NVT_AUTH_ROLE_CTRLR, hash, chal, 0x9abcdef0, 0x0001, 0, r2[hash]);
		assert_int_equal(
			nvt_auth_augment_challenge(hash, shared, sizeof(shared), chal, aug), 0);
		check_response(NVT_AUTH_ROLE_HOST, hash, aug, 0xfffffffe, 0xffff, 1, r1_aug[hash]);
	}
}

/*
 * Seen with dynamic debug on a Debian 13 guest (kernel 6.12): nvmet with
 * hmac(sha384), DH group null, the controller key "DHHC-1:02:" of the 48
 * bytes 0x40..0x6f; the host's C2 and S2 and the target's R2 for queues 0
 * and 1 (transaction IDs 0 and 1).
 */
static void
test_kernel_ctrl_response(void **state)
{
	static const struct {
		const char *c2;
		uint32_t s2;
		uint16_t tid;
		const char *r2;
	} cases[] = {
		{ "e6b2a9ca7868b53e82f850f07a2a74bb81ef6195951c44cf13eae0289d2fac74bf1d230f28e88915"
		  "9e93a7661c2e074a",
		  1347170242, 0,
		  "42e09eb14a8ee13754087beeda3cae9c829cbdc9f64f1d035b8ed4bcf550ca9878fad0e73ba42030"
		  "82865b5a09f3ce12" },
		{ "e4632205f0e755cde6caa85df596d519c67118ec18b30ef9579cf76d6230d5a36a42be518b2c9853"
		  "1716f2f86f571929",
		  1347170244, 1,
		  "0445d2b5a367e1de887a6ef82d7702720118ef6f2ff76686e0449746aeeee7e6ae0281c0281d7861"
		  "d8f6e9abbb5b04fb" },
	};
	uint8_t c2[48];
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		assert_int_equal(ut_unhex(cases[i].c2, c2, sizeof(c2)), 48);
		check_response(NVT_AUTH_ROLE_CTRLR, NVT_AUTH_HASH_SHA384, c2, cases[i].s2,
			       cases[i].tid, 0, cases[i].r2);
	}
}

static void
test_response_bad(void **state)
{
	uint8_t key[32] = { 1 }, chal[32] = { 2 }, out[32];

	(void)state;
	assert_int_equal(nvt_auth_chap_response((enum nvt_auth_role)2, NVT_AUTH_HASH_SHA256, key,
						sizeof(key), chal, 1, 1, 0, HOSTNQN, SUBNQN, out),
			 -EINVAL);
	assert_int_equal(nvt_auth_chap_response(NVT_AUTH_ROLE_HOST, NVT_AUTH_HASH_NONE, key,
						sizeof(key), chal, 1, 1, 0, HOSTNQN, SUBNQN, out),
			 -EINVAL);
	assert_int_equal(nvt_auth_chap_response(NVT_AUTH_ROLE_HOST, NVT_AUTH_HASH_SHA256, key, 0,
						chal, 1, 1, 0, HOSTNQN, SUBNQN, out),
			 -EINVAL);
	assert_int_equal(nvt_auth_chap_response(NVT_AUTH_ROLE_CTRLR, NVT_AUTH_HASH_SHA256, key,
						sizeof(key), chal, 1, 1, 0, NULL, SUBNQN, out),
			 -EINVAL);
}

/* Host and controller roles differ only in order, so swapping the NQNs must not collide. */
static void
test_roles_differ(void **state)
{
	uint8_t key[32] = { 3 }, chal[32] = { 4 }, r1[32], r2[32];

	(void)state;
	assert_int_equal(nvt_auth_chap_response(NVT_AUTH_ROLE_HOST, NVT_AUTH_HASH_SHA256, key,
						sizeof(key), chal, 7, 9, 0, HOSTNQN, SUBNQN, r1),
			 0);
	assert_int_equal(nvt_auth_chap_response(NVT_AUTH_ROLE_CTRLR, NVT_AUTH_HASH_SHA256, key,
						sizeof(key), chal, 7, 9, 0, SUBNQN, HOSTNQN, r2),
			 0);
	assert_memory_not_equal(r1, r2, sizeof(r1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transform_key),
		cmocka_unit_test(test_transform_key_bad),
		cmocka_unit_test(test_augment_challenge),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_kernel_ctrl_response),
		cmocka_unit_test(test_response_bad),
		cmocka_unit_test(test_roles_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
