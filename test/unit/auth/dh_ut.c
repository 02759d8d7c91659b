/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ephemeral Diffie-Hellman of DH-HMAC-CHAP: two sides agree, values are
 * padded to the group's size, out-of-range peer values are refused, and a
 * shared secret equals (g^k)^x computed with plain BIGNUM arithmetic.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"

#include "auth_ut.h"

/* RFC 7919 appendix A.1, the ffdhe2048 prime. */
#define FFDHE2048_P                                                                                    \
	"FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B" \
	"3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E" \
	"7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108" \
	"A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2EC" \
	"C03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D16" \
	"83B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF"

static void
test_pairs_agree(void **state)
{
	static uint8_t pub_a[NVT_AUTH_MAX_DH_LEN], pub_b[NVT_AUTH_MAX_DH_LEN];
	static uint8_t sec_a[NVT_AUTH_MAX_DH_LEN], sec_b[NVT_AUTH_MAX_DH_LEN];
	struct nvt_auth_dh *a, *b;
	enum nvt_auth_dhgroup g;
	int glen;

	(void)state;
	for (g = NVT_AUTH_DHGROUP_2048; g <= NVT_AUTH_DHGROUP_8192; g++) {
		glen = (int)nvt_auth_dhgroup_len(g);
		assert_int_equal(nvt_auth_dh_new(g, &a), 0);
		assert_int_equal(nvt_auth_dh_new(g, &b), 0);
		assert_int_equal(nvt_auth_dh_public(a, pub_a, sizeof(pub_a)), glen);
		assert_int_equal(nvt_auth_dh_public(b, pub_b, sizeof(pub_b)), glen);
		assert_memory_not_equal(pub_a, pub_b, (size_t)glen);
		assert_int_equal(nvt_auth_dh_shared(a, pub_b, (size_t)glen, sec_a, sizeof(sec_a)),
				 glen);
		assert_int_equal(nvt_auth_dh_shared(b, pub_a, (size_t)glen, sec_b, sizeof(sec_b)),
				 glen);
		assert_memory_equal(sec_a, sec_b, (size_t)glen);
		assert_memory_not_equal(sec_a, pub_a, (size_t)glen);
		nvt_auth_dh_free(a);
		nvt_auth_dh_free(b);
	}
}

static void
test_new_bad(void **state)
{
	struct nvt_auth_dh *dh = NULL;

	(void)state;
	assert_int_equal(nvt_auth_dh_new(NVT_AUTH_DHGROUP_NULL, &dh), -EINVAL);
	assert_int_equal(nvt_auth_dh_new((enum nvt_auth_dhgroup)6, &dh), -EINVAL);
	assert_int_equal(nvt_auth_dh_new(NVT_AUTH_DHGROUP_2048, NULL), -EINVAL);
	assert_null(dh);
	nvt_auth_dh_free(NULL);
}

static void
test_public_buffer(void **state)
{
	uint8_t pub[300];
	struct nvt_auth_dh *dh;

	(void)state;
	assert_int_equal(nvt_auth_dh_new(NVT_AUTH_DHGROUP_2048, &dh), 0);
	assert_int_equal(nvt_auth_dh_public(dh, pub, 255), -EINVAL);
	memset(pub, 0xa5, sizeof(pub));
	assert_int_equal(nvt_auth_dh_public(dh, pub, sizeof(pub)), 256);
	/* Exactly the group's length, nothing past it. */
	assert_int_equal(pub[256], 0xa5);
	assert_int_equal(pub[299], 0xa5);
	nvt_auth_dh_free(dh);
}

/*
 * A key pair whose public value starts with a zero byte (one in 256 does),
 * so padding shows; the peer value 2 (the generator) gives g^x back as the
 * shared secret, which must come out padded the same way.
 */
static void
test_padding(void **state)
{
	uint8_t pub[256], sec[256], two = 2;
	struct nvt_auth_dh *dh = NULL;
	int tries;

	(void)state;
	for (tries = 0; tries < 4096; tries++) {
		assert_int_equal(nvt_auth_dh_new(NVT_AUTH_DHGROUP_2048, &dh), 0);
		assert_int_equal(nvt_auth_dh_public(dh, pub, sizeof(pub)), 256);
		if (pub[0] == 0) {
			break;
		}
		nvt_auth_dh_free(dh);
		dh = NULL;
	}
	assert_non_null(dh);
	memset(sec, 0xa5, sizeof(sec));
	/* A short peer value (SPDK drops leading zero bytes) is a number all the same. */
	assert_int_equal(nvt_auth_dh_shared(dh, &two, 1, sec, sizeof(sec)), 256);
	assert_int_equal(sec[0], 0);
	assert_memory_equal(sec, pub, sizeof(pub));
	nvt_auth_dh_free(dh);
}

static BIGNUM *
bn_hex(const char *hex)
{
	BIGNUM *bn = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	return bn;
}

/* (g^k)^x from the library against (g^x)^k from BIGNUM arithmetic, for a known k. */
static void
test_known_exponent(void **state)
{
	uint8_t pub[256], peer[256], sec[256], want[256];
	BIGNUM *p = bn_hex(FFDHE2048_P), *k = bn_hex("1234567890abcdef1234567890abcdef");
	BIGNUM *g = bn_hex("2"), *gk = BN_new(), *gx, *gxk = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	struct nvt_auth_dh *dh;

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(nvt_auth_dh_new(NVT_AUTH_DHGROUP_2048, &dh), 0);
	assert_int_equal(nvt_auth_dh_public(dh, pub, sizeof(pub)), 256);
	gx = BN_bin2bn(pub, sizeof(pub), NULL);
	assert_int_equal(BN_mod_exp(gk, g, k, p, ctx), 1);
	assert_int_equal(BN_mod_exp(gxk, gx, k, p, ctx), 1);
	assert_int_equal(BN_bn2binpad(gk, peer, sizeof(peer)), 256);
	assert_int_equal(BN_bn2binpad(gxk, want, sizeof(want)), 256);
	assert_int_equal(nvt_auth_dh_shared(dh, peer, sizeof(peer), sec, sizeof(sec)), 256);
	assert_memory_equal(sec, want, sizeof(want));
	nvt_auth_dh_free(dh);
	BN_free(p);
	BN_free(k);
	BN_free(g);
	BN_free(gk);
	BN_free(gx);
	BN_free(gxk);
	BN_CTX_free(ctx);
}

/* 0, 1, p-1, p, 2^2048-1, p-2 and malformed lengths are refused. */
static void
test_bad_peers(void **state)
{
	uint8_t p[256], bad[257], sec[256];
	struct nvt_auth_dh *dh;

	(void)state;
	assert_int_equal(ut_unhex(FFDHE2048_P, p, sizeof(p)), 256);
	assert_int_equal(nvt_auth_dh_new(NVT_AUTH_DHGROUP_2048, &dh), 0);

	memset(bad, 0, sizeof(bad));
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 256, sec, sizeof(sec)), -EINVAL);
	bad[255] = 1;
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 256, sec, sizeof(sec)), -EINVAL);
	assert_int_equal(nvt_auth_dh_shared(dh, bad + 255, 1, sec, sizeof(sec)), -EINVAL);
	memcpy(bad, p, sizeof(p));
	bad[255] -= 1;
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 256, sec, sizeof(sec)), -EINVAL);
	memcpy(bad, p, sizeof(p));
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 256, sec, sizeof(sec)), -EINVAL);
	memset(bad, 0xff, sizeof(bad));
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 256, sec, sizeof(sec)), -EINVAL);
	/* Longer than the group, even with a leading zero byte, is malformed. */
	memset(bad, 0, sizeof(bad));
	bad[256] = 2;
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 257, sec, sizeof(sec)), -EINVAL);
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 0, sec, sizeof(sec)), -EINVAL);
	/*
	 * p-2 is in range but, as -2 is no square mod p (p = 7 mod 8), outside
	 * the subgroup of order q that every honest value lies in.
	 */
	memcpy(bad, p, sizeof(p));
	bad[255] -= 2;
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 256, sec, sizeof(sec)), -EINVAL);
	/* The output buffer must hold the group's size. */
	bad[0] = 0;
	bad[1] = 2;
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 2, sec, 255), -EINVAL);
	assert_int_equal(nvt_auth_dh_shared(dh, bad, 2, sec, sizeof(sec)), 256);
	nvt_auth_dh_free(dh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_agree),    cmocka_unit_test(test_new_bad),
		cmocka_unit_test(test_public_buffer),  cmocka_unit_test(test_padding),
		cmocka_unit_test(test_known_exponent), cmocka_unit_test(test_bad_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
