/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Secrets in their interchange formats, and the memory they are kept in.
 *
 * Both formats are "<prefix>:<hh>:<base64 of key || CRC-32>:" with the
 * CRC-32 of zlib (IEEE, reflected) stored little-endian after the key, as
 * nvme-cli's gen-dhchap-key and libnvme's nvme_export_tls_key() write them.
 * The lengths each hash allows are those nvme-cli's check-dhchap-key and
 * libnvme's nvme_import_tls_key() accept. The Linux kernel is laxer for
 * DH-HMAC-CHAP (any of 32, 48, 64 bytes with any hash), but every key
 * nvme-cli makes passes the stricter rule.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"

#define SECRET_CRC_LEN 4
/* The longest key with its CRC (64 + 4 bytes) is 92 base64 characters. */
#define SECRET_B64_MAX 92
#define SECRET_RAW_MAX (SECRET_B64_MAX / 4 * 3)

#define SECURE_HEAP_DEFAULT ((size_t)1 << 20)
/* Smallest block of the secure heap: it allocates powers of two from this up. */
#define SECURE_HEAP_MIN_BLOCK 16

static const struct {
	const char *prefix;
	enum nvt_secret_kind kind;
} g_secret_formats[] = {
	{ "DHHC-1:", NVT_SECRET_DHCHAP },
	{ "NVMeTLSkey-1:", NVT_SECRET_TLS_PSK },
};

void
nvt_auth_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0) {
		OPENSSL_cleanse(p, len);
	}
}

/* ---- parsing ---- */

/* The text being parsed: [p, end). */
struct secret_text {
	const char *p;
	const char *end;
};

static bool
secret_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void
secret_trim(struct secret_text *t)
{
	while (t->p < t->end && secret_is_space(*t->p)) {
		t->p++;
	}
	while (t->end > t->p && secret_is_space(t->end[-1])) {
		t->end--;
	}
}

/* Consume \p word when the text starts with it. */
static bool
secret_eat(struct secret_text *t, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(t->end - t->p) < n || memcmp(t->p, word, n) != 0) {
		return false;
	}
	t->p += n;
	return true;
}

static int
secret_hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* "hh:": two hex digits and a colon; the value, or -1. */
static int
secret_eat_hash(struct secret_text *t)
{
	int hi, lo;

	if (t->end - t->p < 3 || t->p[2] != ':') {
		return -1;
	}
	hi = secret_hex_digit(t->p[0]);
	lo = secret_hex_digit(t->p[1]);
	if (hi < 0 || lo < 0) {
		return -1;
	}
	t->p += 3;
	return hi * 16 + lo;
}

static bool
secret_len_ok(enum nvt_secret_kind kind, int hash, size_t len)
{
	switch (hash) {
	case NVT_AUTH_HASH_NONE:
		return len == 32 || len == 48 || (kind == NVT_SECRET_DHCHAP && len == 64);
	case NVT_AUTH_HASH_SHA256:
		return len == 32;
	case NVT_AUTH_HASH_SHA384:
		return len == 48;
	case NVT_AUTH_HASH_SHA512:
		return kind == NVT_SECRET_DHCHAP && len == 64;
	default:
		return false;
	}
}

/*
 * Decode the base64 of \p b64 (n characters) into \p raw; the number of
 * bytes, or -1. EVP_DecodeBlock() decodes '=' as if it were 'A' and counts
 * the padding in its result, so the text must also be exactly what encoding
 * the result gives back: that refuses misplaced or missing padding and
 * stray bits in the last character, as nvme-cli and the kernel do.
 */
static int
secret_base64_decode(const char *b64, size_t n, uint8_t raw[SECRET_RAW_MAX])
{
	char again[SECRET_B64_MAX + 1];
	int len, pad = 0;

	if (n == 0 || n > SECRET_B64_MAX || n % 4 != 0) {
		return -1;
	}
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		return -1;
	}
	while (pad < 2 && b64[n - 1 - (size_t)pad] == '=') {
		pad++;
	}
	len -= pad;
	if (EVP_EncodeBlock((unsigned char *)again, raw, len) != (int)n ||
	    memcmp(again, b64, n) != 0) {
		len = -1;
	}
	nvt_auth_wipe(again, sizeof(again));
	return len;
}

static uint32_t
secret_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The base64 body (up to the closing colon) into out->key; 0 or -EINVAL. */
static int
secret_parse_body(const struct secret_text *t, struct nvt_secret *out)
{
	uint8_t raw[SECRET_RAW_MAX];
	size_t key_len;
	int len, rc = -EINVAL;

	/* The body runs to the last character, the closing colon. */
	if (t->end - t->p < 2 || t->end[-1] != ':') {
		return -EINVAL;
	}
	len = secret_base64_decode(t->p, (size_t)(t->end - 1 - t->p), raw);
	if (len <= SECRET_CRC_LEN) {
		goto out;
	}
	key_len = (size_t)len - SECRET_CRC_LEN;
	if (!secret_len_ok(out->kind, (int)out->hash, key_len) ||
	    crc32_gzip_refl(0, raw, key_len) != secret_le32(raw + key_len)) {
		goto out;
	}
	memcpy(out->key, raw, key_len);
	out->len = key_len;
	rc = 0;
out:
	nvt_auth_wipe(raw, sizeof(raw));
	return rc;
}

static int
secret_parse_text(struct secret_text *t, struct nvt_secret *out)
{
	size_t i;
	int hash;

	secret_trim(t);
	for (i = 0; i < NVT_COUNTOF(g_secret_formats); i++) {
		if (secret_eat(t, g_secret_formats[i].prefix)) {
			out->kind = g_secret_formats[i].kind;
			break;
		}
	}
	if (i == NVT_COUNTOF(g_secret_formats)) {
		return -EINVAL;
	}
	hash = secret_eat_hash(t);
	if (hash < 0) {
		return -EINVAL;
	}
	out->hash = (enum nvt_auth_hash)hash;
	return secret_parse_body(t, out);
}

int
nvt_secret_parse(const char *text, size_t len, struct nvt_secret *out)
{
	struct secret_text t;
	int rc;

	if (out == NULL) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (text == NULL) {
		return -EINVAL;
	}
	t.p = text;
	t.end = text + len;
	rc = secret_parse_text(&t, out);
	if (rc != 0) {
		nvt_auth_wipe(out, sizeof(*out));
	}
	return rc;
}

/* ---- the secure heap ---- */

static pthread_mutex_t g_secure_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_secure_tried; /* under g_secure_lock */
static int g_secure_rc;	    /* under g_secure_lock: the first call's result */

/* OpenSSL asserts (aborts) on a size that is not a power of two: round up. */
static size_t
secure_heap_size(size_t size)
{
	size_t pow2 = SECURE_HEAP_MIN_BLOCK * 2;

	if (size == 0) {
		return SECURE_HEAP_DEFAULT;
	}
	while (pow2 < size && pow2 <= SIZE_MAX / 2) {
		pow2 *= 2;
	}
	return pow2;
}

static int
secure_heap_start(size_t size)
{
	size = secure_heap_size(size);
	switch (CRYPTO_secure_malloc_init(size, SECURE_HEAP_MIN_BLOCK)) {
	case 1:
		return 0;
	case 2:
		/* Usable, but mlock() or MADV_DONTDUMP was refused (RLIMIT_MEMLOCK). */
		NVT_WARNLOG("auth: the secure heap of %zu bytes is not locked in RAM; secrets "
			    "may reach swap or core dumps\n",
			    size);
		return 0;
	default:
		NVT_WARNLOG("auth: no secure heap of %zu bytes; secrets are kept in ordinary "
			    "memory (still wiped when freed)\n",
			    size);
		return -ENOMEM;
	}
}

int
nvt_auth_secure_init(size_t size)
{
	int rc;

	pthread_mutex_lock(&g_secure_lock);
	if (!g_secure_tried) {
		g_secure_tried = true;
		g_secure_rc = secure_heap_start(size);
	}
	rc = g_secure_rc;
	pthread_mutex_unlock(&g_secure_lock);
	return rc;
}

void *
nvt_auth_secure_alloc(size_t len)
{
	/* From the ordinary heap (zeroed too) while there is no secure heap. */
	return OPENSSL_secure_zalloc(len);
}

void
nvt_auth_secure_free(void *p, size_t len)
{
	if (p != NULL) {
		OPENSSL_secure_clear_free(p, len);
	}
}

struct nvt_secret *
nvt_secret_new(void)
{
	return nvt_auth_secure_alloc(sizeof(struct nvt_secret));
}

void
nvt_secret_free(struct nvt_secret *secret)
{
	nvt_auth_secure_free(secret, sizeof(*secret));
}
