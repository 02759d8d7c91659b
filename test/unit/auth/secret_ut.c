/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/auth/secret.c: the interchange formats of secrets and
 * the secure heap.
 *
 * Where the vectors come from:
 *  - g_cli_keys: written by nvme-cli 2.13 (libnvme 1.13) in a Debian 13
 *    guest: `nvme gen-dhchap-key --hmac=H [--key-length=L]` and
 *    `nvme gen-tls-key --hmac=H`; their key bytes are given as Python's
 *    base64.b64decode() reads them.
 *  - the TLS key of libnvme's own test (test/psk.c), its configured PSK
 *    and the text nvme_export_tls_key() gives for it.
 *  - the rest from Python, for key bytes k[i] = i * 7 + seed:
 *        "%s:%02x:%s:" % (prefix, hh, base64.b64encode(
 *            k + struct.pack("<I", zlib.crc32(k))).decode())
 *    (zlib.crc32 is the CRC-32 of nvme-cli, libnvme and the kernel).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../lib/auth/secret.c"

struct vector {
	const char *text;
	enum nvt_secret_kind kind;
	enum nvt_auth_hash hash;
	size_t len;
	uint8_t seed; /* key bytes i * 7 + seed */
};

static const struct vector g_vectors[] = {
	{ "DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:", NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_NONE, 32, 32 },
	{ "DHHC-1:00:MDc+RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N/m7fT7AgkQFx4lLDM6QUhPVl1ka3J51wkKvA==:",
	  NVT_SECRET_DHCHAP, NVT_AUTH_HASH_NONE, 48, 48 },
	{ "DHHC-1:00:QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKUVhfZm10e4KJkJeepayzusH"
	  "Iz9bd5Ovy+eQYloY=:",
	  NVT_SECRET_DHCHAP, NVT_AUTH_HASH_NONE, 64, 64 },
	{ "DHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:", NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_SHA256, 32, 33 },
	{ "DHHC-1:02:MjlAR05VXGNqcXh/ho2Um6KpsLe+xczT2uHo7/b9BAsSGSAnLjU8Q0pRWF9mbXR7YYoqlA==:",
	  NVT_SECRET_DHCHAP, NVT_AUTH_HASH_SHA384, 48, 50 },
	{ "DHHC-1:03:Q0pRWF9mbXR7gomQl56lrLO6wcjP1t3k6/L5AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcT"
	  "L0tng5+71/Fd6cmg=:",
	  NVT_SECRET_DHCHAP, NVT_AUTH_HASH_SHA512, 64, 67 },
	{ "NVMeTLSkey-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:", NVT_SECRET_TLS_PSK,
	  NVT_AUTH_HASH_NONE, 32, 32 },
	{ "NVMeTLSkey-1:00:MDc+RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N/m7fT7AgkQFx4lLDM6QUhPVl1ka3J51wkKvA=="
	  ":",
	  NVT_SECRET_TLS_PSK, NVT_AUTH_HASH_NONE, 48, 48 },
	{ "NVMeTLSkey-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:", NVT_SECRET_TLS_PSK,
	  NVT_AUTH_HASH_SHA256, 32, 33 },
	{ "NVMeTLSkey-1:02:MjlAR05VXGNqcXh/ho2Um6KpsLe+xczT2uHo7/b9BAsSGSAnLjU8Q0pRWF9mbXR7YYoqlA=="
	  ":",
	  NVT_SECRET_TLS_PSK, NVT_AUTH_HASH_SHA384, 48, 50 },
};

static void
expect_pattern(const struct nvt_secret *s, const struct vector *v)
{
	size_t i;

	assert_int_equal(s->kind, v->kind);
	assert_int_equal(s->hash, v->hash);
	assert_int_equal(s->len, v->len);
	for (i = 0; i < v->len; i++) {
		assert_int_equal(s->key[i], (uint8_t)(i * 7 + v->seed));
	}
	/* Nothing past the key. */
	for (; i < sizeof(s->key); i++) {
		assert_int_equal(s->key[i], 0);
	}
}

static int
parse_str(const char *text, struct nvt_secret *out)
{
	return nvt_secret_parse(text, strlen(text), out);
}

static void
test_crc_is_zlib(void **state)
{
	(void)state;
	/* The check value of the reflected IEEE CRC-32 (zlib.crc32(b"123456789")). */
	assert_int_equal(crc32_gzip_refl(0, (unsigned char *)"123456789", 9), 0xcbf43926u);
}

static void
test_each_length_and_hash(void **state)
{
	struct nvt_secret s;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(g_vectors); i++) {
		memset(&s, 0xa5, sizeof(s));
		assert_int_equal(parse_str(g_vectors[i].text, &s), 0);
		expect_pattern(&s, &g_vectors[i]);
	}
}

static void
test_libnvme_vector(void **state)
{
	static const uint8_t psk[32] = {
		0x55, 0x12, 0xDB, 0xB6, 0x73, 0x7D, 0x01, 0x06, 0xF6, 0x59, 0x75,
		0xB7, 0x73, 0xDF, 0xB0, 0x11, 0xFF, 0xC3, 0x44, 0xBC, 0xF4, 0x42,
		0xE2, 0xDD, 0x6D, 0x8B, 0xC4, 0x87, 0x0B, 0x5D, 0x5B, 0x03,
	};
	struct nvt_secret s;

	(void)state;
	assert_int_equal(
		parse_str("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", &s),
		0);
	assert_int_equal(s.kind, NVT_SECRET_TLS_PSK);
	assert_int_equal(s.hash, NVT_AUTH_HASH_SHA256);
	assert_int_equal(s.len, sizeof(psk));
	assert_memory_equal(s.key, psk, sizeof(psk));
}

/* Every refusal leaves \p out all zero, whatever it held. */
static void
expect_refused(const char *text, size_t len)
{
	static const uint8_t zero[sizeof(struct nvt_secret)];
	struct nvt_secret s;

	memset(&s, 0xa5, sizeof(s));
	if (nvt_secret_parse(text, len, &s) != -EINVAL) {
		fail_msg("accepted: '%.*s'", (int)len, text);
	}
	assert_memory_equal(&s, zero, sizeof(s));
}

static void
refuse(const char *text)
{
	expect_refused(text, strlen(text));
}

static void
test_bad_crc(void **state)
{
	(void)state;
	/* zlib.crc32 + 1, then the right CRC big-endian. */
	refuse("DHHC-1:00:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09pm1OOC:");
	refuse("DHHC-1:00:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09qC49Rl:");
	/* A key byte changed (first character 'I' -> 'J'). */
	refuse("DHHC-1:00:JCcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrY:");
}

static void
test_bad_base64(void **state)
{
	(void)state;
	/* A character outside the alphabet, and white space inside. */
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzd*:");
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCi ZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCX-qWss7rByM/W3eTr8vmMpzdS:");
	/* Not a whole number of 4-character groups. */
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzd:");
	/* Padding missing, misplaced, or too much. */
	refuse("DHHC-1:00:MDc+RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N/m7fT7AgkQFx4lLDM6QUhPVl1ka3J51wkKvA:");
	refuse("DHHC-1:00:MDc+RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N/m7fT7AgkQFx4lLDM6QUhPVl1ka3J51wk=vA=:");
	refuse("DHHC-1:00:QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKUVhfZm10e4KJkJeepayzusH"
	       "Iz9bd5Ovy+eQYlo==:");
	/*
	 * Texts that decode to the same bytes as a valid key (so the CRC holds)
	 * but are not what nvme-cli writes: bits set past the end of the data in
	 * the last character before the padding ('Y' -> 'Z', 'A' -> 'B'), a
	 * zero character written as '=' ('A' -> '='), white space that
	 * EVP_DecodeBlock() would skip.
	 */
	refuse("DHHC-1:00:QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKUVhfZm10e4KJkJeepayzusH"
	       "Iz9bd5Ovy+eQYloZ=:");
	refuse("DHHC-1:00:MDc+RUxTWmFob3Z9hIuSmaCnrrW8w8rR2N/m7fT7AgkQFx4lLDM6QUhPVl1ka3J51wkKvB==:");
	refuse("NVMeTLSkey-1:01:VRLbtnN9=Qb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:");
	refuse("NVMeTLSkey-1:01:    VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:");
	refuse("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ\n\n\n\n:");
	/* Nothing at all, or a body longer than any key. */
	refuse("DHHC-1:00::");
	refuse("DHHC-1:00:QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKUVhfZm10e4KJkJeepayzus"
	       "HIz9bd5Ovy+eQYloYAAAA:");
}

static void
test_wrong_lengths(void **state)
{
	(void)state;
	/* Valid CRCs, lengths the hash does not allow. */
	refuse("DHHC-1:01:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKDH94wg==:");
	refuse("DHHC-1:02:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09pl1OOC:");
	refuse("DHHC-1:03:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKDH94wg==:");
	refuse("DHHC-1:00:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM06rUSuQ=:");
	refuse("DHHC-1:00:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rhYEtVOA==:");
	refuse("DHHC-1:04:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09pl1OOC:");
	refuse("NVMeTLSkey-1:00:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKUVhf"
	       "Zm10e4KJkJeepayzuiyBBng=:");
	refuse("NVMeTLSkey-1:03:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKUVhf"
	       "Zm10e4KJkJeepayzuiyBBng=:");
	refuse("NVMeTLSkey-1:01:AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09rh6O/2/QQLEhkgJy41PENKDH94w"
	       "g==:");
}

static void
test_framing(void **state)
{
	(void)state;
	/* The closing colon: missing, doubled, or followed by more. */
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS");
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS::");
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:x");
	/* Prefixes and hash fields. */
	refuse("dhhc-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("DHHC-2:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("NVMeTLSkey-2:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("DHHC-1:0:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("DHHC-1:000:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("DHHC-1:0x:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("DHHC-1::ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:");
	refuse("ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS");
	refuse("");
	refuse("   \n");
	refuse("DHHC-1:");
	refuse("DHHC-1:00:");
	/* Two secrets in one text. */
	refuse("DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:\n"
	       "DHHC-1:00:ICcuNTxDSlFYX2ZtdHuCiZCXnqWss7rByM/W3eTr8vmMpzdS:\n");
	/* A NUL inside the given length. */
	expect_refused("DHHC-1:00:ICcuNTxDSlFYX2ZtdH\0CiZCXnqWss7rByM/W3eTr8vmMpzdS:", 59);
	/* NULL arguments. */
	assert_int_equal(nvt_secret_parse(NULL, 3, &(struct nvt_secret){ 0 }), -EINVAL);
	assert_int_equal(nvt_secret_parse("x", 1, NULL), -EINVAL);
}

static void
test_white_space(void **state)
{
	static const char *const texts[] = {
		"DHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:\n",
		"DHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:\r\n",
		"  \t DHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109: \n\n",
		"\nDHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV109:\v\f",
	};
	struct nvt_secret s;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(texts); i++) {
		assert_int_equal(parse_str(texts[i], &s), 0);
		expect_pattern(&s, &g_vectors[3]);
	}
	/* Only \p len bytes count: what follows is not read. */
	assert_int_equal(nvt_secret_parse(g_vectors[0].text, strlen(g_vectors[0].text) - 1, &s),
			 -EINVAL);
	assert_int_equal(nvt_secret_parse("DHHC-1:01:ISgvNj1ES1JZYGdudXyDipGYn6attLvCydDX3uXs8/rmV1"
					  "09:garbage",
					  59, &s),
			 0);
	expect_pattern(&s, &g_vectors[3]);
}

/* Keys as nvme-cli wrote them (see the top of the file). */
static const struct {
	const char *text;
	enum nvt_secret_kind kind;
	enum nvt_auth_hash hash;
	size_t len;
	uint8_t key[NVT_AUTH_MAX_HASH_LEN];
} g_cli_keys[] = {
	/* dhchap-00-32 */
	{ "DHHC-1:00:99I4oMaiMp0eNE7geN3NWDFc0CFTBNwdr78TR46iBpZOj/7Y:",
	  NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_NONE,
	  32,
	  { 0xf7, 0xd2, 0x38, 0xa0, 0xc6, 0xa2, 0x32, 0x9d, 0x1e, 0x34, 0x4e,
	    0xe0, 0x78, 0xdd, 0xcd, 0x58, 0x31, 0x5c, 0xd0, 0x21, 0x53, 0x04,
	    0xdc, 0x1d, 0xaf, 0xbf, 0x13, 0x47, 0x8e, 0xa2, 0x06, 0x96 } },
	/* dhchap-00-48 */
	{ "DHHC-1:00:hPiVZUkDf+/PwednlAAXxqT5cUkvApWq9A7b3upiG3Xxc98QBDViKd"
	  "09Vyd2miuqs1HdYA==:",
	  NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_NONE,
	  48,
	  { 0x84, 0xf8, 0x95, 0x65, 0x49, 0x03, 0x7f, 0xef, 0xcf, 0xc1, 0xe7, 0x67,
	    0x94, 0x00, 0x17, 0xc6, 0xa4, 0xf9, 0x71, 0x49, 0x2f, 0x02, 0x95, 0xaa,
	    0xf4, 0x0e, 0xdb, 0xde, 0xea, 0x62, 0x1b, 0x75, 0xf1, 0x73, 0xdf, 0x10,
	    0x04, 0x35, 0x62, 0x29, 0xdd, 0x3d, 0x57, 0x27, 0x76, 0x9a, 0x2b, 0xaa } },
	/* dhchap-00-64 */
	{ "DHHC-1:00:NlZHyr/05jw3+P3G7besGc0nJQU8d+3mzTI+dd6NgdY3hkS0M7s/LZ"
	  "DLNVd/ZWB6ByByik3a3tFTbmTE+klGJw4IZi8=:",
	  NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_NONE,
	  64,
	  { 0x36, 0x56, 0x47, 0xca, 0xbf, 0xf4, 0xe6, 0x3c, 0x37, 0xf8, 0xfd, 0xc6, 0xed,
	    0xb7, 0xac, 0x19, 0xcd, 0x27, 0x25, 0x05, 0x3c, 0x77, 0xed, 0xe6, 0xcd, 0x32,
	    0x3e, 0x75, 0xde, 0x8d, 0x81, 0xd6, 0x37, 0x86, 0x44, 0xb4, 0x33, 0xbb, 0x3f,
	    0x2d, 0x90, 0xcb, 0x35, 0x57, 0x7f, 0x65, 0x60, 0x7a, 0x07, 0x20, 0x72, 0x8a,
	    0x4d, 0xda, 0xde, 0xd1, 0x53, 0x6e, 0x64, 0xc4, 0xfa, 0x49, 0x46, 0x27 } },
	/* dhchap-01-32 */
	{ "DHHC-1:01:TyLO4Cp6gkl98UEPo0DUWSsPJlekb2VOtAZHIehFQz9qTjrv:",
	  NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_SHA256,
	  32,
	  { 0x4f, 0x22, 0xce, 0xe0, 0x2a, 0x7a, 0x82, 0x49, 0x7d, 0xf1, 0x41,
	    0x0f, 0xa3, 0x40, 0xd4, 0x59, 0x2b, 0x0f, 0x26, 0x57, 0xa4, 0x6f,
	    0x65, 0x4e, 0xb4, 0x06, 0x47, 0x21, 0xe8, 0x45, 0x43, 0x3f } },
	/* dhchap-02-48 */
	{ "DHHC-1:02:hBPKH5Ot8NyrxdD9+41oFrmtdT0WP0TfUBlvp32WFGMd1SUMHN75Ef"
	  "I8pHR3qnBJtuOlZw==:",
	  NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_SHA384,
	  48,
	  { 0x84, 0x13, 0xca, 0x1f, 0x93, 0xad, 0xf0, 0xdc, 0xab, 0xc5, 0xd0, 0xfd,
	    0xfb, 0x8d, 0x68, 0x16, 0xb9, 0xad, 0x75, 0x3d, 0x16, 0x3f, 0x44, 0xdf,
	    0x50, 0x19, 0x6f, 0xa7, 0x7d, 0x96, 0x14, 0x63, 0x1d, 0xd5, 0x25, 0x0c,
	    0x1c, 0xde, 0xf9, 0x11, 0xf2, 0x3c, 0xa4, 0x74, 0x77, 0xaa, 0x70, 0x49 } },
	/* dhchap-03-64 */
	{ "DHHC-1:03:QZsqVbqIpiMjF9twtWr/58Rwq/HTKdHhemBer/il4STIjYfByGtLcE"
	  "skz87LY7j9YPJTOV43N4csLzr79XLLd+fTYoA=:",
	  NVT_SECRET_DHCHAP,
	  NVT_AUTH_HASH_SHA512,
	  64,
	  { 0x41, 0x9b, 0x2a, 0x55, 0xba, 0x88, 0xa6, 0x23, 0x23, 0x17, 0xdb, 0x70, 0xb5,
	    0x6a, 0xff, 0xe7, 0xc4, 0x70, 0xab, 0xf1, 0xd3, 0x29, 0xd1, 0xe1, 0x7a, 0x60,
	    0x5e, 0xaf, 0xf8, 0xa5, 0xe1, 0x24, 0xc8, 0x8d, 0x87, 0xc1, 0xc8, 0x6b, 0x4b,
	    0x70, 0x4b, 0x24, 0xcf, 0xce, 0xcb, 0x63, 0xb8, 0xfd, 0x60, 0xf2, 0x53, 0x39,
	    0x5e, 0x37, 0x37, 0x87, 0x2c, 0x2f, 0x3a, 0xfb, 0xf5, 0x72, 0xcb, 0x77 } },
	/* tls-01-32 */
	{ "NVMeTLSkey-1:01:aSMXKxDNfQ2z/XzG9mTX+UBi0V90rQ9v+dv4C8qY16J0Emg0"
	  ":",
	  NVT_SECRET_TLS_PSK,
	  NVT_AUTH_HASH_SHA256,
	  32,
	  { 0x69, 0x23, 0x17, 0x2b, 0x10, 0xcd, 0x7d, 0x0d, 0xb3, 0xfd, 0x7c,
	    0xc6, 0xf6, 0x64, 0xd7, 0xf9, 0x40, 0x62, 0xd1, 0x5f, 0x74, 0xad,
	    0x0f, 0x6f, 0xf9, 0xdb, 0xf8, 0x0b, 0xca, 0x98, 0xd7, 0xa2 } },
	/* tls-02-48 */
	{ "NVMeTLSkey-1:02:+J1PPxiFVRP8zovEBxGt97p7yUWPH9Eiz5fj3X0FvN60Sdx2"
	  "NbGuUNtbjsE/caW9UjtEIA==:",
	  NVT_SECRET_TLS_PSK,
	  NVT_AUTH_HASH_SHA384,
	  48,
	  { 0xf8, 0x9d, 0x4f, 0x3f, 0x18, 0x85, 0x55, 0x13, 0xfc, 0xce, 0x8b, 0xc4,
	    0x07, 0x11, 0xad, 0xf7, 0xba, 0x7b, 0xc9, 0x45, 0x8f, 0x1f, 0xd1, 0x22,
	    0xcf, 0x97, 0xe3, 0xdd, 0x7d, 0x05, 0xbc, 0xde, 0xb4, 0x49, 0xdc, 0x76,
	    0x35, 0xb1, 0xae, 0x50, 0xdb, 0x5b, 0x8e, 0xc1, 0x3f, 0x71, 0xa5, 0xbd } },
};

static void
test_nvme_cli_keys(void **state)
{
	uint8_t key[NVT_AUTH_MAX_HASH_LEN];
	struct nvt_secret s;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(g_cli_keys); i++) {
		assert_int_equal(parse_str(g_cli_keys[i].text, &s), 0);
		assert_int_equal(s.kind, g_cli_keys[i].kind);
		assert_int_equal(s.hash, g_cli_keys[i].hash);
		assert_int_equal(s.len, g_cli_keys[i].len);
		memcpy(key, g_cli_keys[i].key, s.len);
		assert_memory_equal(s.key, key, s.len);
	}
}

static void
test_wipe(void **state)
{
	uint8_t buf[40];
	size_t i;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	nvt_auth_wipe(buf + 4, 32);
	for (i = 0; i < sizeof(buf); i++) {
		assert_int_equal(buf[i], i >= 4 && i < 36 ? 0 : 0x5a);
	}
	nvt_auth_wipe(NULL, 16);
	nvt_auth_wipe(buf, 0);
	assert_int_equal(buf[0], 0x5a);
}

/* ---- the secure heap ---- */

static void
test_heap_size(void **state)
{
	(void)state;
	assert_int_equal(secure_heap_size(0), SECURE_HEAP_DEFAULT);
	assert_int_equal(secure_heap_size(1), 32);
	assert_int_equal(secure_heap_size(1000), 1024);
	assert_int_equal(secure_heap_size(1024), 1024);
	assert_int_equal(secure_heap_size(1025), 2048);
}

/* Before nvt_auth_secure_init(): the ordinary heap, zeroed and wiped. */
static void
test_alloc_without_secure_heap(void **state)
{
	struct nvt_secret *s;
	uint8_t *p;

	(void)state;
	assert_false(CRYPTO_secure_malloc_initialized());
	s = nvt_secret_new();
	assert_non_null(s);
	assert_false(CRYPTO_secure_allocated(s));
	assert_int_equal(s->len, 0);
	assert_int_equal(parse_str(g_vectors[2].text, s), 0);
	nvt_secret_free(s);
	p = nvt_auth_secure_alloc(100);
	assert_non_null(p);
	assert_int_equal(p[0] | p[99], 0);
	nvt_auth_secure_free(p, 100);
	nvt_secret_free(NULL);
	nvt_auth_secure_free(NULL, 10);
}

#define INIT_THREADS 4

static void *
init_thread(void *arg)
{
	*(int *)arg = nvt_auth_secure_init(64 * 1024);
	return NULL;
}

/* Threads racing to set up the heap: one does, all see its result. */
static void
test_secure_init(void **state)
{
	pthread_t threads[INIT_THREADS];
	int rc[INIT_THREADS], i;

	(void)state;
	for (i = 0; i < INIT_THREADS; i++) {
		assert_int_equal(pthread_create(&threads[i], NULL, init_thread, &rc[i]), 0);
	}
	for (i = 0; i < INIT_THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(rc[i], 0);
	}
	assert_true(CRYPTO_secure_malloc_initialized());
	/* Later calls do nothing, whatever the size. */
	assert_int_equal(nvt_auth_secure_init(0), 0);
	assert_int_equal(nvt_auth_secure_init(3), 0);
}

static void
test_alloc_in_secure_heap(void **state)
{
	size_t used = CRYPTO_secure_used();
	struct nvt_secret *s;
	uint8_t *p;

	(void)state;
	s = nvt_secret_new();
	assert_non_null(s);
	assert_true(CRYPTO_secure_allocated(s));
	assert_true(CRYPTO_secure_used() > used);
	assert_int_equal(s->kind | s->len | s->key[0], 0);
	assert_int_equal(parse_str(g_vectors[5].text, s), 0);
	expect_pattern(s, &g_vectors[5]);
	p = nvt_auth_secure_alloc(NVT_AUTH_MAX_DH_LEN);
	assert_non_null(p);
	assert_true(CRYPTO_secure_allocated(p));
	assert_int_equal(p[0] | p[NVT_AUTH_MAX_DH_LEN - 1], 0);
	nvt_auth_secure_free(p, NVT_AUTH_MAX_DH_LEN);
	nvt_secret_free(s);
	assert_int_equal(CRYPTO_secure_used(), used);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_is_zlib),
		cmocka_unit_test(test_each_length_and_hash),
		cmocka_unit_test(test_libnvme_vector),
		cmocka_unit_test(test_nvme_cli_keys),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_white_space),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_heap_size),
		/* In this order: the first runs before the secure heap exists. */
		cmocka_unit_test(test_alloc_without_secure_heap),
		cmocka_unit_test(test_secure_init),
		cmocka_unit_test(test_alloc_in_secure_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
