/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HMAC computations of DH-HMAC-CHAP (NVMe Base 2.0 section 8.13.5):
 * key transformation, augmented challenge and the two responses. The byte
 * order of every field follows the Linux host and target and SPDK, which
 * interoperate: little-endian sequence number and transaction ID, one
 * byte of secure channel concatenation, a 0x00 between the two NQNs.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"

#include "crypto_internal.h"

/* What the key transformation appends to the NQN. */
#define TRANSFORM_SEED "NVMe-over-Fabrics"

int
auth_hmac(enum nvt_auth_hash hash, const uint8_t *key, size_t key_len,
	  const struct auth_part *parts, size_t n, uint8_t *out)
{
	const char *md = auth_md_name(hash);
	size_t hlen = nvt_auth_hash_len(hash), out_len = 0, i;
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;
	int rc = -EIO;

	if (md == NULL) {
		return -EINVAL;
	}
	mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (mac == NULL) {
		return -EIO;
	}
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL) {
		goto out_free_mac;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, key_len, params) != 1) {
		goto out_free_ctx;
	}
	for (i = 0; i < n; i++) {
		if (parts[i].len > 0 && EVP_MAC_update(ctx, parts[i].p, parts[i].len) != 1) {
			goto out_free_ctx;
		}
	}
	if (EVP_MAC_final(ctx, out, &out_len, hlen) == 1 && out_len == hlen) {
		rc = 0;
	}
out_free_ctx:
	/* The context holds the key's padded blocks; OpenSSL cleanses them on free. */
	EVP_MAC_CTX_free(ctx);
out_free_mac:
	EVP_MAC_free(mac);
	return rc;
}

int
auth_digest(enum nvt_auth_hash hash, const void *data, size_t len, uint8_t *out)
{
	const char *md_name = auth_md_name(hash);
	unsigned int out_len = 0;
	EVP_MD *md;
	int rc = -EIO;

	if (md_name == NULL) {
		return -EINVAL;
	}
	md = EVP_MD_fetch(NULL, md_name, NULL);
	if (md == NULL) {
		return -EIO;
	}
	if (EVP_Digest(data, len, out, &out_len, md, NULL) == 1 &&
	    out_len == nvt_auth_hash_len(hash)) {
		rc = 0;
	}
	EVP_MD_free(md);
	return rc;
}

int
nvt_auth_transform_key(const struct nvt_secret *secret, const char *nqn, uint8_t *out,
		       size_t *out_len)
{
	struct auth_part parts[2];
	int rc;

	if (secret == NULL || nqn == NULL || out == NULL || out_len == NULL ||
	    secret->kind != NVT_SECRET_DHCHAP || secret->len == 0 ||
	    secret->len > NVT_AUTH_MAX_HASH_LEN) {
		return -EINVAL;
	}
	if (secret->hash == NVT_AUTH_HASH_NONE) {
		memcpy(out, secret->key, secret->len);
		*out_len = secret->len;
		return 0;
	}
	parts[0] = (struct auth_part){ nqn, strlen(nqn) };
	parts[1] = (struct auth_part){ TRANSFORM_SEED, strlen(TRANSFORM_SEED) };
	rc = auth_hmac(secret->hash, secret->key, secret->len, parts, NVT_COUNTOF(parts), out);
	if (rc != 0) {
		return rc;
	}
	*out_len = nvt_auth_hash_len(secret->hash);
	return 0;
}

int
nvt_auth_augment_challenge(enum nvt_auth_hash hash, const uint8_t *shared, size_t shared_len,
			   const uint8_t *chal, uint8_t *out)
{
	uint8_t hashed[NVT_AUTH_MAX_HASH_LEN];
	size_t hlen = nvt_auth_hash_len(hash);
	struct auth_part part = { chal, hlen };
	int rc;

	if (hlen == 0 || shared == NULL || shared_len == 0 || chal == NULL || out == NULL) {
		return -EINVAL;
	}
	/* The HMAC key is H(g^xy mod p), the challenge its message. */
	rc = auth_digest(hash, shared, shared_len, hashed);
	if (rc == 0) {
		rc = auth_hmac(hash, hashed, hlen, &part, 1, out);
	}
	auth_wipe(hashed, sizeof(hashed));
	return rc;
}

/* The role string and NQN order of a response; -EINVAL for an unknown role. */
static int
chap_role_order(enum nvt_auth_role role, const char *hostnqn, const char *subnqn,
		const char **label, const char **nqn1, const char **nqn2)
{
	switch (role) {
	case NVT_AUTH_ROLE_HOST:
		*label = "HostHost";
		*nqn1 = hostnqn;
		*nqn2 = subnqn;
		return 0;
	case NVT_AUTH_ROLE_CTRLR:
		*label = "Controller";
		*nqn1 = subnqn;
		*nqn2 = hostnqn;
		return 0;
	default:
		return -EINVAL;
	}
}

int
nvt_auth_chap_response(enum nvt_auth_role role, enum nvt_auth_hash hash, const uint8_t *key,
		       size_t key_len, const uint8_t *chal, uint32_t seqnum, uint16_t t_id,
		       uint8_t sc_c, const char *hostnqn, const char *subnqn, uint8_t *out)
{
	static const uint8_t zero;
	uint8_t seq_le[4], tid_le[2];
	const char *label, *nqn1, *nqn2;
	size_t hlen = nvt_auth_hash_len(hash);
	struct auth_part parts[8];

	if (hlen == 0 || key == NULL || key_len == 0 || chal == NULL || hostnqn == NULL ||
	    subnqn == NULL || out == NULL ||
	    chap_role_order(role, hostnqn, subnqn, &label, &nqn1, &nqn2) != 0) {
		return -EINVAL;
	}
	seq_le[0] = (uint8_t)seqnum;
	seq_le[1] = (uint8_t)(seqnum >> 8);
	seq_le[2] = (uint8_t)(seqnum >> 16);
	seq_le[3] = (uint8_t)(seqnum >> 24);
	tid_le[0] = (uint8_t)t_id;
	tid_le[1] = (uint8_t)(t_id >> 8);

	parts[0] = (struct auth_part){ chal, hlen };
	parts[1] = (struct auth_part){ seq_le, sizeof(seq_le) };
	parts[2] = (struct auth_part){ tid_le, sizeof(tid_le) };
	parts[3] = (struct auth_part){ &sc_c, 1 };
	parts[4] = (struct auth_part){ label, strlen(label) };
	parts[5] = (struct auth_part){ nqn1, strlen(nqn1) };
	parts[6] = (struct auth_part){ &zero, 1 };
	parts[7] = (struct auth_part){ nqn2, strlen(nqn2) };
	return auth_hmac(hash, key, key_len, parts, NVT_COUNTOF(parts), out);
}
