/* SPDX-License-Identifier: BSD-3-Clause */
/* Hash and DH group names, IDs and lengths; the TLS cipher of a hash; random bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"

static void
test_hash_names(void **state)
{
	static const struct {
		enum nvt_auth_hash id;
		const char *name;
		const char *kernel_name;
		size_t len;
	} cases[] = {
		{ NVT_AUTH_HASH_SHA256, "sha256", "hmac(sha256)", 32 },
		{ NVT_AUTH_HASH_SHA384, "sha384", "hmac(sha384)", 48 },
		{ NVT_AUTH_HASH_SHA512, "sha512", "hmac(sha512)", 64 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		assert_string_equal(nvt_auth_hash_name(cases[i].id), cases[i].name);
		assert_int_equal(nvt_auth_hash_from_name(cases[i].name), cases[i].id);
		assert_int_equal(nvt_auth_hash_from_name(cases[i].kernel_name), cases[i].id);
		assert_int_equal(nvt_auth_hash_len(cases[i].id), cases[i].len);
	}
	assert_int_equal(nvt_auth_hash_len(NVT_AUTH_HASH_NONE), 0);
	assert_int_equal(nvt_auth_hash_len((enum nvt_auth_hash)4), 0);
	assert_null(nvt_auth_hash_name(NVT_AUTH_HASH_NONE));
	assert_null(nvt_auth_hash_name((enum nvt_auth_hash)0xff));
	assert_int_equal(nvt_auth_hash_from_name("sha1"), -EINVAL);
	assert_int_equal(nvt_auth_hash_from_name("SHA256"), -EINVAL);
	assert_int_equal(nvt_auth_hash_from_name("sha2566"), -EINVAL);
	assert_int_equal(nvt_auth_hash_from_name("hmac(sha256"), -EINVAL);
	assert_int_equal(nvt_auth_hash_from_name(""), -EINVAL);
	assert_int_equal(nvt_auth_hash_from_name(NULL), -EINVAL);
}

static void
test_dhgroup_names(void **state)
{
	static const struct {
		enum nvt_auth_dhgroup id;
		const char *name;
		size_t len;
	} cases[] = {
		{ NVT_AUTH_DHGROUP_NULL, "null", 0 },
		{ NVT_AUTH_DHGROUP_2048, "ffdhe2048", 256 },
		{ NVT_AUTH_DHGROUP_3072, "ffdhe3072", 384 },
		{ NVT_AUTH_DHGROUP_4096, "ffdhe4096", 512 },
		{ NVT_AUTH_DHGROUP_6144, "ffdhe6144", 768 },
		{ NVT_AUTH_DHGROUP_8192, "ffdhe8192", 1024 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		assert_string_equal(nvt_auth_dhgroup_name(cases[i].id), cases[i].name);
		assert_int_equal(nvt_auth_dhgroup_from_name(cases[i].name), cases[i].id);
		assert_int_equal(nvt_auth_dhgroup_len(cases[i].id), cases[i].len);
	}
	assert_int_equal(nvt_auth_dhgroup_len(NVT_AUTH_DHGROUP_8192), NVT_AUTH_MAX_DH_LEN);
	assert_null(nvt_auth_dhgroup_name((enum nvt_auth_dhgroup)6));
	assert_int_equal(nvt_auth_dhgroup_len((enum nvt_auth_dhgroup)6), 0);
	assert_int_equal(nvt_auth_dhgroup_from_name("ffdhe1024"), -EINVAL);
	assert_int_equal(nvt_auth_dhgroup_from_name("ffdhe2048(dh)"), -EINVAL);
	assert_int_equal(nvt_auth_dhgroup_from_name("NULL"), -EINVAL);
	assert_int_equal(nvt_auth_dhgroup_from_name(NULL), -EINVAL);
}

static void
test_tls_cipher(void **state)
{
	(void)state;
	assert_string_equal(nvt_tls_cipher_for_hash(NVT_AUTH_HASH_SHA256),
			    "TLS_AES_128_GCM_SHA256");
	assert_string_equal(nvt_tls_cipher_for_hash(NVT_AUTH_HASH_SHA384),
			    "TLS_AES_256_GCM_SHA384");
	assert_null(nvt_tls_cipher_for_hash(NVT_AUTH_HASH_SHA512));
	assert_null(nvt_tls_cipher_for_hash(NVT_AUTH_HASH_NONE));
}

static void
test_random(void **state)
{
	uint8_t a[64], b[64], zero[64] = { 0 };

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(nvt_auth_random(a, sizeof(a)), 0);
	assert_int_equal(nvt_auth_random(b, sizeof(b)), 0);
	/* 512 random bits are neither all zero nor twice the same, but for a broken source. */
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(nvt_auth_random(a, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_names),
		cmocka_unit_test(test_dhgroup_names),
		cmocka_unit_test(test_tls_cipher),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
