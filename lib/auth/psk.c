/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP TLS PSKs (NVMe/TCP Transport 1.1 section 3.6.1): the retained
 * PSK of a configured PSK, PSK identities and the TLS PSK a handshake uses.
 *
 * Both derivations are HKDF-Extract with a zero salt, then an expansion
 * whose info is TLS 1.3's HkdfLabel. Peers disagree on that info: SPDK and
 * the specification use RFC 8446's structure, libnvme before its August
 * 2025 fix (Debian 13's 1.13 among them, observed) writes the length
 * little-endian and leaves out the length bytes of label and context, and
 * the Linux kernel and tlshd hand on whatever libnvme put in the keyring.
 * Every function takes the variant (enum nvt_tls_psk_kdf) or uses RFC 8446;
 * nvt_tls_psk_binder_check() lets a server find out which one a client used.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"
#include "nvtcp/nvme_spec.h"

#include "crypto_internal.h"

/* HkdfLabel: 2 + 1 + 255 + 1 + 255 bytes at most (RFC 8446 section 7.1). */
#define HKDF_INFO_MAX	 514
#define HKDF_CONTEXT_MAX 255
/* libnvme's own bound on a context (its buffer, not a format limit). */
#define HKDF_COMPAT_CONTEXT_MAX 256
/* Base64 of a SHA-384 digest, NUL included. */
#define PSK_DIGEST_MAX 65

/* Only SHA-256 and SHA-384 have TLS 1.3 cipher suites. */
static bool
psk_hash_ok(enum nvt_auth_hash hash)
{
	return hash == NVT_AUTH_HASH_SHA256 || hash == NVT_AUTH_HASH_SHA384;
}

/* The info of HKDF-Expand-Label(secret, label, context, len) in the peer's layout. */
static int
psk_hkdf_info(enum nvt_tls_psk_kdf kdf, const char *label, const void *context, size_t clen,
	      size_t len, uint8_t *info, size_t *info_len)
{
	size_t llen = strlen(label), pos = 0;

	if (llen + 6 > 255 || len > UINT16_MAX) {
		return -EINVAL;
	}
	if (kdf == NVT_TLS_PSK_KDF_RFC8446) {
		if (clen > HKDF_CONTEXT_MAX) {
			return -EINVAL;
		}
		info[pos++] = (uint8_t)(len >> 8);
		info[pos++] = (uint8_t)len;
		info[pos++] = (uint8_t)(llen + 6);
	} else if (kdf == NVT_TLS_PSK_KDF_LIBNVME_COMPAT) {
		if (clen > HKDF_COMPAT_CONTEXT_MAX) {
			return -EINVAL;
		}
		info[pos++] = (uint8_t)len;
		info[pos++] = (uint8_t)(len >> 8);
	} else {
		return -EINVAL;
	}
	memcpy(info + pos, "tls13 ", 6);
	pos += 6;
	memcpy(info + pos, label, llen);
	pos += llen;
	if (kdf == NVT_TLS_PSK_KDF_RFC8446) {
		info[pos++] = (uint8_t)clen;
	}
	memcpy(info + pos, context, clen);
	*info_len = pos + clen;
	return 0;
}

/* out = HKDF-Expand-Label(HKDF-Extract(0, key), label, context, out_len). */
static int
psk_hkdf(enum nvt_auth_hash hash, enum nvt_tls_psk_kdf kdf, const uint8_t *key, size_t key_len,
	 const char *label, const char *context, uint8_t *out, size_t out_len)
{
	uint8_t info[HKDF_INFO_MAX];
	size_t info_len = 0;
	OSSL_PARAM params[4];
	EVP_KDF_CTX *ctx;
	EVP_KDF *hkdf;
	int rc;

	rc = psk_hkdf_info(kdf, label, context, strlen(context), out_len, info, &info_len);
	if (rc != 0) {
		return rc;
	}
	hkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	if (hkdf == NULL) {
		return -EIO;
	}
	ctx = EVP_KDF_CTX_new(hkdf);
	EVP_KDF_free(hkdf);
	if (ctx == NULL) {
		return -ENOMEM;
	}
	/* No salt: HKDF-Extract then keys HMAC with zeros, as the specification's "0". */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)auth_md_name(hash), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len);
	params[3] = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(ctx, out, out_len, params) == 1 ? 0 : -EIO;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

int
nvt_tls_retained_psk_kdf(const struct nvt_secret *psk, const char *hostnqn,
			 enum nvt_tls_psk_kdf kdf, uint8_t *out)
{
	if (psk == NULL || hostnqn == NULL || out == NULL || psk->kind != NVT_SECRET_TLS_PSK ||
	    psk->len == 0 || psk->len > NVT_AUTH_MAX_HASH_LEN) {
		return -EINVAL;
	}
	if (psk->hash == NVT_AUTH_HASH_NONE) {
		memcpy(out, psk->key, psk->len);
		return 0;
	}
	if (!psk_hash_ok(psk->hash)) {
		return -EINVAL;
	}
	return psk_hkdf(psk->hash, kdf, psk->key, psk->len, "HostNQN", hostnqn, out, psk->len);
}

int
nvt_tls_retained_psk(const struct nvt_secret *psk, const char *hostnqn, uint8_t *out)
{
	return nvt_tls_retained_psk_kdf(psk, hostnqn, NVT_TLS_PSK_KDF_RFC8446, out);
}

/* Base64(HMAC(retained, hostnqn " " subnqn " NVMe-over-Fabrics")), NUL-terminated. */
static int
psk_digest(enum nvt_auth_hash hash, const uint8_t *retained, size_t retained_len,
	   const char *hostnqn, const char *subnqn, char *out)
{
	uint8_t mac[NVT_AUTH_MAX_HASH_LEN];
	const struct auth_part parts[] = {
		{ hostnqn, strlen(hostnqn) },
		{ " ", 1 },
		{ subnqn, strlen(subnqn) },
		{ " NVMe-over-Fabrics", 18 },
	};
	int rc;

	rc = auth_hmac(hash, retained, retained_len, parts, NVT_COUNTOF(parts), mac);
	if (rc == 0) {
		EVP_EncodeBlock((unsigned char *)out, mac, (int)nvt_auth_hash_len(hash));
	}
	auth_wipe(mac, sizeof(mac));
	return rc;
}

/* An NQN that fits an identity: 1 .. 223 characters, none of them a space. */
static bool
psk_nqn_ok(const char *nqn, size_t len)
{
	return len > 0 && len <= NVT_NVMF_NQN_MAX_LEN && memchr(nqn, ' ', len) == NULL;
}

int
nvt_tls_psk_identity(int version, enum nvt_auth_hash hash, const char *hostnqn, const char *subnqn,
		     const uint8_t *retained, size_t retained_len, char *out, size_t out_size)
{
	char digest[PSK_DIGEST_MAX];
	int rc, n;

	if (!psk_hash_ok(hash) || hostnqn == NULL || subnqn == NULL || out == NULL ||
	    !psk_nqn_ok(hostnqn, strlen(hostnqn)) || !psk_nqn_ok(subnqn, strlen(subnqn))) {
		return -EINVAL;
	}
	if (version == 0) {
		n = snprintf(out, out_size, "NVMe0R%02d %s %s", (int)hash, hostnqn, subnqn);
	} else if (version == 1) {
		if (retained == NULL || retained_len == 0) {
			return -EINVAL;
		}
		rc = psk_digest(hash, retained, retained_len, hostnqn, subnqn, digest);
		if (rc != 0) {
			return rc;
		}
		n = snprintf(out, out_size, "NVMe1R%02d %s %s %s", (int)hash, hostnqn, subnqn,
			     digest);
	} else {
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= out_size) {
		return -EINVAL;
	}
	return n;
}

/* Copy the field [p, end) into an NQN buffer of NVT_NVMF_NQN_FIELD_SIZE bytes. */
static int
psk_copy_nqn(const char *p, const char *end, char *nqn)
{
	size_t len = (size_t)(end - p);

	if (!psk_nqn_ok(p, len)) {
		return -EINVAL;
	}
	memcpy(nqn, p, len);
	nqn[len] = '\0';
	return 0;
}

/* The PSK digest of a version 1 identity: Base64 of one hash output. */
static bool
psk_digest_ok(enum nvt_auth_hash hash, const char *digest)
{
	size_t len = strlen(digest);

	return len == 4 * ((nvt_auth_hash_len(hash) + 2) / 3) &&
	       strspn(digest,
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == len;
}

/*
 * Split "NVMe<v>R<hh> <hostnqn> <subnqn>[ <digest>]"; *digest points into
 * the identity (NULL for version 0).
 */
static int
psk_identity_split(const char *identity, int *version, enum nvt_auth_hash *hash, char *hostnqn,
		   char *subnqn, const char **digest)
{
	const char *host, *sub, *end;
	int v, h;

	if (strncmp(identity, "NVMe", 4) != 0 || (identity[4] != '0' && identity[4] != '1') ||
	    identity[5] != 'R' || identity[6] != '0' ||
	    (identity[7] != '1' && identity[7] != '2') || identity[8] != ' ') {
		return -EINVAL;
	}
	v = identity[4] - '0';
	h = identity[7] - '0';
	host = identity + 9;
	sub = strchr(host, ' ');
	if (sub == NULL || psk_copy_nqn(host, sub, hostnqn) != 0) {
		return -EINVAL;
	}
	sub++;
	end = strchr(sub, ' ');
	if ((v == 0) != (end == NULL)) {
		return -EINVAL;
	}
	if (end == NULL) {
		end = sub + strlen(sub);
	}
	if (psk_copy_nqn(sub, end, subnqn) != 0) {
		return -EINVAL;
	}
	*digest = v == 1 ? end + 1 : NULL;
	if (v == 1 && !psk_digest_ok((enum nvt_auth_hash)h, *digest)) {
		return -EINVAL;
	}
	*version = v;
	*hash = (enum nvt_auth_hash)h;
	return 0;
}

int
nvt_tls_psk_identity_parse(const char *identity, int *version, enum nvt_auth_hash *hash,
			   char *hostnqn, char *subnqn)
{
	char host[NVT_NVMF_NQN_FIELD_SIZE], sub[NVT_NVMF_NQN_FIELD_SIZE];
	const char *digest;
	enum nvt_auth_hash h;
	int v, rc;

	if (identity == NULL || version == NULL || hash == NULL || hostnqn == NULL ||
	    subnqn == NULL) {
		return -EINVAL;
	}
	rc = psk_identity_split(identity, &v, &h, host, sub, &digest);
	if (rc != 0) {
		return rc;
	}
	*version = v;
	*hash = h;
	memcpy(hostnqn, host, strlen(host) + 1);
	memcpy(subnqn, sub, strlen(sub) + 1);
	return 0;
}

int
nvt_tls_derive_psk_kdf(enum nvt_auth_hash hash, const uint8_t *retained, size_t retained_len,
		       const char *identity, enum nvt_tls_psk_kdf kdf, uint8_t *out)
{
	char host[NVT_NVMF_NQN_FIELD_SIZE], sub[NVT_NVMF_NQN_FIELD_SIZE];
	char context[3 + PSK_DIGEST_MAX];
	const char *digest;
	enum nvt_auth_hash id_hash;
	int version, rc;

	if (retained == NULL || identity == NULL || out == NULL ||
	    retained_len != nvt_auth_hash_len(hash) || !psk_hash_ok(hash)) {
		return -EINVAL;
	}
	rc = psk_identity_split(identity, &version, &id_hash, host, sub, &digest);
	if (rc != 0 || id_hash != hash) {
		return -EINVAL;
	}
	/* Version 0 hashes in the whole identity, version 1 "<hh> <PSK digest>" only. */
	if (version == 1) {
		snprintf(context, sizeof(context), "%02d %s", (int)hash, digest);
	}
	return psk_hkdf(hash, kdf, retained, retained_len, "nvme-tls-psk",
			version == 1 ? context : identity, out, retained_len);
}

int
nvt_tls_derive_psk(enum nvt_auth_hash hash, const uint8_t *retained, size_t retained_len,
		   const char *identity, uint8_t *out)
{
	return nvt_tls_derive_psk_kdf(hash, retained, retained_len, identity,
				      NVT_TLS_PSK_KDF_RFC8446, out);
}

/* The hash of the TLS PSK that a configured PSK leads to, as libnvme and SPDK pick it. */
static enum nvt_auth_hash
psk_cipher_hash(const struct nvt_secret *psk)
{
	if (psk->hash != NVT_AUTH_HASH_NONE) {
		return psk->hash;
	}
	return psk->len == 48 ? NVT_AUTH_HASH_SHA384 : NVT_AUTH_HASH_SHA256;
}

/* Recompute a version 1 identity's digest and compare (it is public: no constant time needed). */
static int
psk_check_digest(enum nvt_auth_hash hash, const uint8_t *retained, size_t len, const char *host,
		 const char *sub, const char *digest)
{
	char want[PSK_DIGEST_MAX];
	int rc;

	rc = psk_digest(hash, retained, len, host, sub, want);
	if (rc != 0) {
		return rc;
	}
	return strcmp(want, digest) == 0 ? 0 : -EKEYREJECTED;
}

int
nvt_tls_identity_psk(const struct nvt_secret *psk, const char *identity, enum nvt_tls_psk_kdf kdf,
		     uint8_t *out, size_t *out_len)
{
	char host[NVT_NVMF_NQN_FIELD_SIZE], sub[NVT_NVMF_NQN_FIELD_SIZE];
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN];
	enum nvt_auth_hash hash;
	const char *digest;
	int version, rc;

	if (psk == NULL || identity == NULL || out == NULL || out_len == NULL ||
	    psk_identity_split(identity, &version, &hash, host, sub, &digest) != 0 ||
	    hash != psk_cipher_hash(psk) || psk->len != nvt_auth_hash_len(hash)) {
		return -EINVAL;
	}
	rc = nvt_tls_retained_psk_kdf(psk, host, kdf, retained);
	if (rc == 0 && version == 1) {
		rc = psk_check_digest(hash, retained, psk->len, host, sub, digest);
	}
	if (rc == 0) {
		rc = nvt_tls_derive_psk_kdf(hash, retained, psk->len, identity, kdf, out);
	}
	auth_wipe(retained, sizeof(retained));
	if (rc != 0) {
		return rc;
	}
	*out_len = psk->len;
	return 0;
}

/*
 * Binder checks. A TLS 1.3 client proves it holds the PSK of an identity
 * with a binder over the ClientHello up to the binders (RFC 8446 section
 * 4.2.11.2). Recomputing it for a candidate PSK tells a server which
 * derivation and which hash the client used before the handshake commits
 * to one; OpenSSL's PSK callbacks give only one try.
 */

/* HKDF-Expand-Label(secret, label, context, hash length): one HMAC block. */
static int
tls13_expand_label(enum nvt_auth_hash hash, const uint8_t *secret, const char *label,
		   const uint8_t *context, size_t context_len, uint8_t *out)
{
	static const uint8_t counter = 1;
	size_t hlen = nvt_auth_hash_len(hash), info_len = 0;
	uint8_t info[HKDF_INFO_MAX];
	struct auth_part parts[2];
	int rc;

	rc = psk_hkdf_info(NVT_TLS_PSK_KDF_RFC8446, label, context, context_len, hlen, info,
			   &info_len);
	if (rc != 0) {
		return rc;
	}
	parts[0] = (struct auth_part){ info, info_len };
	parts[1] = (struct auth_part){ &counter, 1 };
	return auth_hmac(hash, secret, hlen, parts, NVT_COUNTOF(parts), out);
}

/* The binder of an external PSK over a transcript hash \p th. */
static int
tls13_binder(enum nvt_auth_hash hash, const uint8_t *psk, size_t psk_len, const uint8_t *th,
	     uint8_t *binder)
{
	static const uint8_t zeros[NVT_AUTH_MAX_HASH_LEN];
	uint8_t early[NVT_AUTH_MAX_HASH_LEN], key[NVT_AUTH_MAX_HASH_LEN];
	uint8_t empty[NVT_AUTH_MAX_HASH_LEN];
	size_t hlen = nvt_auth_hash_len(hash);
	struct auth_part part = { psk, psk_len };
	int rc;

	/* Early Secret, then Derive-Secret(., "ext binder", ""), then its finished key. */
	rc = auth_hmac(hash, zeros, hlen, &part, 1, early);
	if (rc == 0) {
		rc = auth_digest(hash, "", 0, empty);
	}
	if (rc == 0) {
		rc = tls13_expand_label(hash, early, "ext binder", empty, hlen, key);
	}
	if (rc == 0) {
		rc = tls13_expand_label(hash, key, "finished", zeros, 0, early);
	}
	if (rc == 0) {
		part = (struct auth_part){ th, hlen };
		rc = auth_hmac(hash, early, hlen, &part, 1, binder);
	}
	auth_wipe(early, sizeof(early));
	auth_wipe(key, sizeof(key));
	return rc;
}

/* Read an n-byte big-endian length at *pos; the bytes it counts must follow before end. */
static int
ch_vec(const uint8_t *m, size_t end, size_t *pos, size_t n, size_t *len)
{
	size_t v = 0, i;

	if (*pos > end || end - *pos < n) {
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		v = v << 8 | m[(*pos)++];
	}
	if (end - *pos < v) {
		return -EINVAL;
	}
	*len = v;
	return 0;
}

/* Skip an n-byte-length vector. */
static int
ch_skip(const uint8_t *m, size_t end, size_t *pos, size_t n)
{
	size_t len = 0;
	int rc = ch_vec(m, end, pos, n, &len);

	*pos += len;
	return rc;
}

/* Where the pre_shared_key extension's data is; it must be the last extension. */
static int
ch_psk_ext(const uint8_t *m, size_t len, size_t *ext)
{
	size_t pos = 4 + 2 + 32, n = 0, end, type;

	if (len < pos || m[0] != 1 || ((size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3]) != len - 4 ||
	    ch_skip(m, len, &pos, 1) != 0 || ch_skip(m, len, &pos, 2) != 0 ||
	    ch_skip(m, len, &pos, 1) != 0 || ch_vec(m, len, &pos, 2, &n) != 0 || pos + n != len) {
		return -EINVAL;
	}
	end = len;
	while (pos < end) {
		if (end - pos < 2) {
			return -EINVAL;
		}
		type = (size_t)m[pos] << 8 | m[pos + 1];
		pos += 2;
		if (ch_vec(m, end, &pos, 2, &n) != 0) {
			return -EINVAL;
		}
		if (type == 41) {
			*ext = pos;
			return pos + n == end ? 0 : -EINVAL;
		}
		pos += n;
	}
	return -EINVAL;
}

/* The truncated ClientHello's length and the index-th binder. */
static int
ch_binder(const uint8_t *m, size_t len, unsigned int index, size_t *trunc, const uint8_t **binder,
	  size_t *binder_len)
{
	size_t pos = 0, n = 0, i;

	if (ch_psk_ext(m, len, &pos) != 0 || ch_skip(m, len, &pos, 2) != 0) {
		return -EINVAL;
	}
	*trunc = pos;
	if (ch_vec(m, len, &pos, 2, &n) != 0 || pos + n != len) {
		return -EINVAL;
	}
	for (i = 0; i <= index; i++) {
		if (ch_vec(m, len, &pos, 1, &n) != 0) {
			return -EINVAL;
		}
		*binder = m + pos;
		*binder_len = n;
		pos += n;
	}
	return 0;
}

int
nvt_tls_psk_binder_check(enum nvt_auth_hash hash, const uint8_t *psk, size_t psk_len,
			 const uint8_t *client_hello, size_t len, unsigned int index)
{
	uint8_t th[NVT_AUTH_MAX_HASH_LEN], want[NVT_AUTH_MAX_HASH_LEN];
	size_t hlen = nvt_auth_hash_len(hash), trunc = 0, binder_len = 0;
	const uint8_t *binder = NULL;
	int rc;

	if (!psk_hash_ok(hash) || psk == NULL || psk_len == 0 || client_hello == NULL ||
	    ch_binder(client_hello, len, index, &trunc, &binder, &binder_len) != 0) {
		return -EINVAL;
	}
	if (binder_len != hlen) {
		return 0;
	}
	rc = auth_digest(hash, client_hello, trunc, th);
	if (rc == 0) {
		rc = tls13_binder(hash, psk, psk_len, th, want);
	}
	if (rc == 0) {
		rc = CRYPTO_memcmp(want, binder, hlen) == 0 ? 1 : 0;
	}
	auth_wipe(want, sizeof(want));
	return rc;
}
