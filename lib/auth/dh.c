/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ephemeral finite-field Diffie-Hellman of DH-HMAC-CHAP over the RFC 7919
 * groups, through OpenSSL 3's EVP interface. Values travel big-endian and
 * padded to the size of p, as the Linux host and target send them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"

#include "crypto_internal.h"

struct nvt_auth_dh {
	enum nvt_auth_dhgroup group;
	/* Our key pair (private value x, public value g^x mod p). */
	EVP_PKEY *pkey;
};

/*
 * Bits of the private exponent. The Linux kernel draws 2 * (security
 * strength) bits for these groups (224, 256, 304, 352, 400, NIST SP
 * 800-56A rev. 3 section 5.6.1.1.1); OpenSSL's defaults for the named
 * groups are a little larger, and so are these, which are OpenSSL's.
 */
static int
dh_priv_bits(enum nvt_auth_dhgroup group)
{
	switch (group) {
	case NVT_AUTH_DHGROUP_2048:
		return 225;
	case NVT_AUTH_DHGROUP_3072:
		return 275;
	case NVT_AUTH_DHGROUP_4096:
		return 325;
	case NVT_AUTH_DHGROUP_6144:
		return 375;
	case NVT_AUTH_DHGROUP_8192:
		return 400;
	default:
		return 0;
	}
}

int
nvt_auth_dh_new(enum nvt_auth_dhgroup group, struct nvt_auth_dh **out)
{
	const char *name = nvt_auth_dhgroup_name(group);
	int priv_bits = dh_priv_bits(group);
	struct nvt_auth_dh *dh;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	int rc = -EIO;

	if (out == NULL || name == NULL || priv_bits == 0) {
		return -EINVAL;
	}
	dh = calloc(1, sizeof(*dh));
	if (dh == NULL) {
		return -ENOMEM;
	}
	dh->group = group;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (ctx == NULL) {
		goto out_free_dh;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &priv_bits);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_params(ctx, params) != 1 ||
	    EVP_PKEY_generate(ctx, &dh->pkey) != 1) {
		goto out_free_ctx;
	}
	EVP_PKEY_CTX_free(ctx);
	*out = dh;
	return 0;

out_free_ctx:
	EVP_PKEY_CTX_free(ctx);
out_free_dh:
	free(dh);
	return rc;
}

void
nvt_auth_dh_free(struct nvt_auth_dh *dh)
{
	if (dh == NULL) {
		return;
	}
	/* OpenSSL clears the private BIGNUM (BN_clear_free) with the key. */
	EVP_PKEY_free(dh->pkey);
	free(dh);
}

/* A big-endian copy of one of the key's numbers, padded to len bytes. */
static int
dh_export_bn(const EVP_PKEY *pkey, const char *param, uint8_t *buf, size_t len)
{
	BIGNUM *bn = NULL;
	int rc;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
		return -EIO;
	}
	rc = BN_bn2binpad(bn, buf, (int)len) == (int)len ? 0 : -EIO;
	BN_free(bn);
	return rc;
}

int
nvt_auth_dh_public(const struct nvt_auth_dh *dh, uint8_t *pub, size_t len)
{
	size_t glen;
	int rc;

	if (dh == NULL || pub == NULL) {
		return -EINVAL;
	}
	glen = nvt_auth_dhgroup_len(dh->group);
	if (len < glen) {
		return -EINVAL;
	}
	rc = dh_export_bn(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, glen);
	return rc == 0 ? (int)glen : rc;
}

/*
 * Refuse a peer value outside 2 .. p-2: 0, 1 and p-1 would force the shared
 * secret to a known value (NIST SP 800-56A rev. 3 section 5.6.2.3.1).
 */
static int
dh_check_peer(const struct nvt_auth_dh *dh, const BIGNUM *y)
{
	BIGNUM *p = NULL, *pm1 = NULL;
	int rc = -EIO;

	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &p) != 1) {
		return -EIO;
	}
	pm1 = BN_dup(p);
	if (pm1 == NULL || BN_sub_word(pm1, 1) != 1) {
		goto out;
	}
	rc = BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, pm1) < 0 ? 0 : -EINVAL;
out:
	BN_free(pm1);
	BN_free(p);
	return rc;
}

/* The peer's public value as a key of our group. */
static int
dh_peer_key(const struct nvt_auth_dh *dh, const BIGNUM *y, EVP_PKEY **peer)
{
	const char *name = nvt_auth_dhgroup_name(dh->group);
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int rc = -EIO;

	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL) {
		return -ENOMEM;
	}
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, name, 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) != 1) {
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, peer, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

/* g^xy mod p, left-padded to glen bytes (OpenSSL strips leading zeros unless told). */
static int
dh_derive(const struct nvt_auth_dh *dh, EVP_PKEY *peer, uint8_t *secret, size_t glen)
{
	EVP_PKEY_CTX *ctx;
	size_t out_len = glen;
	int rc = -EIO;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	if (ctx == NULL) {
		return -ENOMEM;
	}
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1) {
		goto out;
	}
	/*
	 * Setting the peer checks its value against the named group's q
	 * (y^q mod p == 1), as the kernel does for these groups: a value in
	 * range but outside that subgroup fails here and is the peer's fault.
	 */
	if (EVP_PKEY_derive_set_peer(ctx, peer) != 1) {
		rc = -EINVAL;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, secret, &out_len) == 1 && out_len == glen) {
		rc = 0;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int
nvt_auth_dh_shared(const struct nvt_auth_dh *dh, const uint8_t *peer, size_t peer_len,
		   uint8_t *secret, size_t len)
{
	EVP_PKEY *peer_key = NULL;
	BIGNUM *y;
	size_t glen;
	int rc;

	if (dh == NULL || peer == NULL || secret == NULL) {
		return -EINVAL;
	}
	glen = nvt_auth_dhgroup_len(dh->group);
	/* Shorter is fine: SPDK sends its value without leading zero bytes. */
	if (peer_len == 0 || peer_len > glen || len < glen) {
		return -EINVAL;
	}
	y = BN_bin2bn(peer, (int)peer_len, NULL);
	if (y == NULL) {
		return -ENOMEM;
	}
	rc = dh_check_peer(dh, y);
	if (rc == 0) {
		rc = dh_peer_key(dh, y, &peer_key);
	}
	if (rc == 0) {
		rc = dh_derive(dh, peer_key, secret, glen);
	}
	EVP_PKEY_free(peer_key);
	BN_free(y);
	if (rc != 0) {
		auth_wipe(secret, glen);
		return rc;
	}
	return (int)glen;
}
