/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hash and Diffie-Hellman group identifiers, their names and sizes, and the
 * random source. The names are SPDK's (dhchap_digests, dhchap_dhgroups);
 * the kernel's "hmac(sha256)" spelling is accepted as well.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/rand.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"

#include "crypto_internal.h"

struct hash_desc {
	enum nvt_auth_hash id;
	const char *name;
	const char *hmac_name;
	const char *tls_cipher;
	size_t len;
};

/* SHA-512 has no TLS 1.3 cipher suite, so NVMe/TCP PSKs never use it. */
static const struct hash_desc g_hashes[] = {
	{ NVT_AUTH_HASH_SHA256, "sha256", "hmac(sha256)", "TLS_AES_128_GCM_SHA256", 32 },
	{ NVT_AUTH_HASH_SHA384, "sha384", "hmac(sha384)", "TLS_AES_256_GCM_SHA384", 48 },
	{ NVT_AUTH_HASH_SHA512, "sha512", "hmac(sha512)", NULL, 64 },
};

struct dhgroup_desc {
	enum nvt_auth_dhgroup id;
	const char *name;
	size_t len;
};

static const struct dhgroup_desc g_dhgroups[] = {
	{ NVT_AUTH_DHGROUP_NULL, "null", 0 },	     { NVT_AUTH_DHGROUP_2048, "ffdhe2048", 256 },
	{ NVT_AUTH_DHGROUP_3072, "ffdhe3072", 384 }, { NVT_AUTH_DHGROUP_4096, "ffdhe4096", 512 },
	{ NVT_AUTH_DHGROUP_6144, "ffdhe6144", 768 }, { NVT_AUTH_DHGROUP_8192, "ffdhe8192", 1024 },
};

static const struct hash_desc *
hash_desc(enum nvt_auth_hash hash)
{
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_hashes); i++) {
		if (g_hashes[i].id == hash) {
			return &g_hashes[i];
		}
	}
	return NULL;
}

static const struct dhgroup_desc *
dhgroup_desc(enum nvt_auth_dhgroup group)
{
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_dhgroups); i++) {
		if (g_dhgroups[i].id == group) {
			return &g_dhgroups[i];
		}
	}
	return NULL;
}

size_t
nvt_auth_hash_len(enum nvt_auth_hash hash)
{
	const struct hash_desc *d = hash_desc(hash);

	return d != NULL ? d->len : 0;
}

const char *
nvt_auth_hash_name(enum nvt_auth_hash hash)
{
	const struct hash_desc *d = hash_desc(hash);

	return d != NULL ? d->name : NULL;
}

int
nvt_auth_hash_from_name(const char *name)
{
	size_t i;

	if (name == NULL) {
		return -EINVAL;
	}
	for (i = 0; i < NVT_COUNTOF(g_hashes); i++) {
		if (strcmp(name, g_hashes[i].name) == 0 ||
		    strcmp(name, g_hashes[i].hmac_name) == 0) {
			return g_hashes[i].id;
		}
	}
	return -EINVAL;
}

const char *
nvt_auth_dhgroup_name(enum nvt_auth_dhgroup group)
{
	const struct dhgroup_desc *d = dhgroup_desc(group);

	return d != NULL ? d->name : NULL;
}

int
nvt_auth_dhgroup_from_name(const char *name)
{
	size_t i;

	if (name == NULL) {
		return -EINVAL;
	}
	for (i = 0; i < NVT_COUNTOF(g_dhgroups); i++) {
		if (strcmp(name, g_dhgroups[i].name) == 0) {
			return g_dhgroups[i].id;
		}
	}
	return -EINVAL;
}

size_t
nvt_auth_dhgroup_len(enum nvt_auth_dhgroup group)
{
	const struct dhgroup_desc *d = dhgroup_desc(group);

	return d != NULL ? d->len : 0;
}

const char *
nvt_tls_cipher_for_hash(enum nvt_auth_hash hash)
{
	const struct hash_desc *d = hash_desc(hash);

	return d != NULL ? d->tls_cipher : NULL;
}

int
nvt_auth_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t chunk;

	/* RAND_bytes() takes an int; callers never ask for that much, but be exact. */
	while (len > 0) {
		chunk = NVT_MIN(len, (size_t)INT_MAX);
		if (RAND_bytes(p, (int)chunk) != 1) {
			return -EIO;
		}
		p += chunk;
		len -= chunk;
	}
	return 0;
}

const char *
auth_md_name(enum nvt_auth_hash hash)
{
	/* OpenSSL fetches digests by these very names. */
	return nvt_auth_hash_name(hash);
}
