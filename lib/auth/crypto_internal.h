/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the files of lib/auth that do cryptography (names.c,
 * chap.c, dh.c, psk.c). Not part of the public API.
 */
#ifndef NVT_AUTH_CRYPTO_INTERNAL_H
#define NVT_AUTH_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>

#include "nvtcp/auth.h"

/* One piece of the message an HMAC runs over. */
struct auth_part {
	const void *p;
	size_t len;
};

/* The OpenSSL digest name of a hash ID ("sha256" ...), or NULL. */
const char *auth_md_name(enum nvt_auth_hash hash);

/*
 * HMAC-hash(key, parts[0] || ... || parts[n - 1]) into out, which takes
 * nvt_auth_hash_len(hash) bytes. Returns 0, -EINVAL (unknown hash) or -EIO.
 */
int auth_hmac(enum nvt_auth_hash hash, const uint8_t *key, size_t key_len,
	      const struct auth_part *parts, size_t n, uint8_t *out);

/* hash(data) into out (nvt_auth_hash_len(hash) bytes). Returns 0, -EINVAL or -EIO. */
int auth_digest(enum nvt_auth_hash hash, const void *data, size_t len, uint8_t *out);

/* Wipe secret temporaries in a way the compiler keeps. */
static inline void
auth_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

#endif /* NVT_AUTH_CRYPTO_INTERNAL_H */
