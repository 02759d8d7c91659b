/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP TLS PSKs: retained PSKs, identities and handshake PSKs in both
 * HkdfLabel layouts, against make-vectors.py (Python hashlib/hmac),
 * libnvme's own test vectors, and the keys Debian 13's nvme-cli 2.13
 * (libnvme 1.13) put into the kernel keyring, which the kernel host's
 * tlshd was seen to use in the TLS handshake.
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
#include "nvtcp/nvme_spec.h"

#include "auth_ut.h"
#include "client_hellos.h"
#include "vectors.h"

#define ID0(hh) "NVMe0R" hh " " HOSTNQN " " SUBNQN

/*
 * Read back with keyctl from the ".nvme" keyring of a Debian 13 guest
 * after 'nvme gen-tls-key --secret=<make-vectors.py's key> --hmac=N
 * --identity=V --insert' (or check-tls-key --insert with the key as
 * "NVMeTLSkey-1:00:...": no hash). The identities are the keys'
 * descriptions there.
 */
#define LINUX_V0_SHA256 "73bf8e988a57579ab5d625427e1673ac7ffde25c098f6b3871f5a0c6deed25b2"
#define LINUX_V1_SHA256 "3e86c7d873785cd9d9dd24fbac3b1567e6e86c00aa05a0535228b2503d0f1cf5"
#define LINUX_V0_SHA384                                                                                \
	"c2f7843829b0b830b62e7cab5fe7ae7e71e5e3d63effa3c8dcddc47a18756abd29bdc498b0675d7bf9498771bb92" \
	"c90b"
#define LINUX_V1_SHA384                                                                                \
	"bdd40bd038580a07a0dde96e35d918e0038e748c29ee9bab7e0177abc8e81d22937e6b25bcf8d584f482463095be" \
	"ad76"
#define LINUX_V0_NOHASH_32 "d8e5de6267fa61cd79608076ddb84e68dbf79d8bd2aae95fb67a53042dd8348f"
#define LINUX_V0_NOHASH_48                                                                             \
	"8c00287d7be974641d9ebc1312d8295702bc361d2cdc142cf09126f65d502351e67fbf30270aa46654b7a3690219" \
	"fc8a"
#define LINUX_ID1_SHA256 \
	"NVMe1R01 " HOSTNQN " " SUBNQN " F2Ylzdq8iZ4FrPTX/vVYcO8ojlep130yb8zixU6G9ak="
#define LINUX_ID1_SHA384               \
	"NVMe1R02 " HOSTNQN " " SUBNQN \
	" iFkvPG1WVUJFmfCMiRoHlGutPtwKkLo5A5oLBjVEmo/GQLoLcI1qONHB0qMeGrQZ"

/*
 * SPDK v26.05 completed TLS handshakes with these PSKs: the configured PSK
 * "NVMeTLSkey-1:02:" of the 48 bytes 0x30..0x5f, and TLS_V0_1 (vectors.h).
 */
#define SPDK_V0_SHA384                                                                                 \
	"442768b4124a0a27703dde9d6ec63b222a9e7f8a50bb442464df37a2d8f2b200c2bdfeaf22847296fb35e6663d34" \
	"5eb5"
#define COMPAT_V0_SHA384_0X30                                                                          \
	"333c34bb1ca2d21f3402ba185febc7a8ee95cacf4a3ac7913d4a10361ac7df5a8ea7c1aa37911199647defbe16cf" \
	"e00d"

/* The configured PSKs of make-vectors.py: 32 bytes from 0x10 (SHA-256), 48 from 0x20. */
static void
configured(struct nvt_secret *s, enum nvt_auth_hash hash, enum nvt_auth_hash key_hash)
{
	if (hash == NVT_AUTH_HASH_SHA256) {
		ut_secret(s, NVT_SECRET_TLS_PSK, key_hash, 32, 0x10);
	} else {
		ut_secret(s, NVT_SECRET_TLS_PSK, key_hash, 48, 0x20);
	}
}

static void
assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[NVT_AUTH_MAX_HASH_LEN];

	assert_int_equal(ut_unhex(hex, want, sizeof(want)), len);
	assert_memory_equal(got, want, len);
}

static void
test_retained(void **state)
{
	static const char *const rfc[] = { NULL, RETAINED_1, RETAINED_2 };
	static const char *const compat[] = { NULL, RETAINED_COMPAT_1, RETAINED_COMPAT_2 };
	uint8_t out[NVT_AUTH_MAX_HASH_LEN];
	enum nvt_auth_hash h;
	struct nvt_secret s;

	(void)state;
	for (h = NVT_AUTH_HASH_SHA256; h <= NVT_AUTH_HASH_SHA384; h++) {
		configured(&s, h, h);
		assert_int_equal(nvt_tls_retained_psk(&s, HOSTNQN, out), 0);
		assert_hex(out, s.len, rfc[h]);
		assert_int_equal(
			nvt_tls_retained_psk_kdf(&s, HOSTNQN, NVT_TLS_PSK_KDF_LIBNVME_COMPAT, out),
			0);
		assert_hex(out, s.len, compat[h]);
		/* Hash 00: the configured PSK is the retained PSK, in both layouts. */
		configured(&s, h, NVT_AUTH_HASH_NONE);
		memset(out, 0, sizeof(out));
		assert_int_equal(
			nvt_tls_retained_psk_kdf(&s, HOSTNQN, NVT_TLS_PSK_KDF_LIBNVME_COMPAT, out),
			0);
		assert_memory_equal(out, s.key, s.len);
	}
}

static void
test_retained_bad(void **state)
{
	uint8_t out[NVT_AUTH_MAX_HASH_LEN];
	struct nvt_secret s;

	(void)state;
	ut_secret(&s, NVT_SECRET_TLS_PSK, NVT_AUTH_HASH_SHA512, 64, 0);
	assert_int_equal(nvt_tls_retained_psk(&s, HOSTNQN, out), -EINVAL);
	ut_secret(&s, NVT_SECRET_DHCHAP, NVT_AUTH_HASH_SHA256, 32, 0);
	assert_int_equal(nvt_tls_retained_psk(&s, HOSTNQN, out), -EINVAL);
	ut_secret(&s, NVT_SECRET_TLS_PSK, NVT_AUTH_HASH_SHA256, 32, 0);
	assert_int_equal(nvt_tls_retained_psk(&s, NULL, out), -EINVAL);
	assert_int_equal(nvt_tls_retained_psk_kdf(&s, HOSTNQN, (enum nvt_tls_psk_kdf)2, out),
			 -EINVAL);
}

static void
test_identity_format(void **state)
{
	char id[NVT_AUTH_PSK_IDENTITY_MAX];
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN];
	size_t len;

	(void)state;
	assert_int_equal(nvt_tls_psk_identity(0, NVT_AUTH_HASH_SHA256, HOSTNQN, SUBNQN, NULL, 0, id,
					      sizeof(id)),
			 (int)strlen(ID0("01")));
	assert_string_equal(id, ID0("01"));
	assert_int_equal(nvt_tls_psk_identity(0, NVT_AUTH_HASH_SHA384, HOSTNQN, SUBNQN, NULL, 0, id,
					      sizeof(id)),
			 (int)strlen(ID0("02")));
	assert_string_equal(id, ID0("02"));

	/* Version 1 with the digests libnvme 1.13 made (its layout), as the keyring showed. */
	len = ut_unhex(RETAINED_COMPAT_1, retained, sizeof(retained));
	assert_int_equal(nvt_tls_psk_identity(1, NVT_AUTH_HASH_SHA256, HOSTNQN, SUBNQN, retained,
					      len, id, sizeof(id)),
			 (int)strlen(LINUX_ID1_SHA256));
	assert_string_equal(id, LINUX_ID1_SHA256);
	len = ut_unhex(RETAINED_COMPAT_2, retained, sizeof(retained));
	assert_true(nvt_tls_psk_identity(1, NVT_AUTH_HASH_SHA384, HOSTNQN, SUBNQN, retained, len,
					 id, sizeof(id)) > 0);
	assert_string_equal(id, LINUX_ID1_SHA384);
	/* And with RFC 8446 retained PSKs (make-vectors.py). */
	len = ut_unhex(RETAINED_1, retained, sizeof(retained));
	assert_true(nvt_tls_psk_identity(1, NVT_AUTH_HASH_SHA256, HOSTNQN, SUBNQN, retained, len,
					 id, sizeof(id)) > 0);
	assert_string_equal(id, "NVMe1R01 " HOSTNQN " " SUBNQN " " DIGEST_1);
}

/* libnvme's test/psk.c vectors: one configured PSK, both layouts, both hashes. */
static void
test_identity_libnvme(void **state)
{
	static const uint8_t key[48] = {
		0x55, 0x12, 0xdb, 0xb6, 0x73, 0x7d, 0x01, 0x06, 0xf6, 0x59, 0x75, 0xb7,
		0x73, 0xdf, 0xb0, 0x11, 0xff, 0xc3, 0x44, 0xbc, 0xf4, 0x42, 0xe2, 0xdd,
		0x6d, 0x8b, 0xc4, 0x87, 0x0b, 0x5d, 0x5b, 0x03, 0xff, 0xc3, 0x44, 0xbc,
		0xf4, 0x42, 0xe2, 0xdd, 0x6d, 0x8b, 0xc4, 0x87, 0x0b, 0x5d, 0x5b, 0x03,
	};
	static const struct {
		enum nvt_auth_hash hash;
		enum nvt_tls_psk_kdf kdf;
		const char *identity;
	} cases[] = {
		{ NVT_AUTH_HASH_SHA256, NVT_TLS_PSK_KDF_RFC8446,
		  "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys "
		  "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=" },
		{ NVT_AUTH_HASH_SHA384, NVT_TLS_PSK_KDF_RFC8446,
		  "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys "
		  "QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a" },
		{ NVT_AUTH_HASH_SHA256, NVT_TLS_PSK_KDF_LIBNVME_COMPAT,
		  "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys "
		  "66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=" },
		{ NVT_AUTH_HASH_SHA384, NVT_TLS_PSK_KDF_LIBNVME_COMPAT,
		  "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys "
		  "RsKmYJ3nAn1ApjjMloJFbAkLPivONDAX/xW327YBUsn2eGShXSjCZvBaOxscLqmz" },
	};
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN];
	char id[NVT_AUTH_PSK_IDENTITY_MAX];
	struct nvt_secret s;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(cases); i++) {
		memset(&s, 0, sizeof(s));
		s.kind = NVT_SECRET_TLS_PSK;
		s.hash = cases[i].hash;
		s.len = nvt_auth_hash_len(cases[i].hash);
		memcpy(s.key, key, s.len);
		assert_int_equal(
			nvt_tls_retained_psk_kdf(&s, "nqn.psk-test-host", cases[i].kdf, retained),
			0);
		assert_true(nvt_tls_psk_identity(1, cases[i].hash, "nqn.psk-test-host",
						 "nqn.psk-test-subsys", retained, s.len, id,
						 sizeof(id)) > 0);
		assert_string_equal(id, cases[i].identity);
	}
}

static void
test_identity_bad(void **state)
{
	char nqn[NVT_NVMF_NQN_MAX_LEN + 2], id[NVT_AUTH_PSK_IDENTITY_MAX];
	uint8_t retained[32] = { 0 };

	(void)state;
	assert_int_equal(nvt_tls_psk_identity(2, NVT_AUTH_HASH_SHA256, HOSTNQN, SUBNQN, NULL, 0, id,
					      sizeof(id)),
			 -EINVAL);
	assert_int_equal(nvt_tls_psk_identity(0, NVT_AUTH_HASH_SHA512, HOSTNQN, SUBNQN, NULL, 0, id,
					      sizeof(id)),
			 -EINVAL);
	assert_int_equal(nvt_tls_psk_identity(0, NVT_AUTH_HASH_NONE, HOSTNQN, SUBNQN, NULL, 0, id,
					      sizeof(id)),
			 -EINVAL);
	assert_int_equal(nvt_tls_psk_identity(1, NVT_AUTH_HASH_SHA256, HOSTNQN, SUBNQN, NULL, 0, id,
					      sizeof(id)),
			 -EINVAL);
	assert_int_equal(nvt_tls_psk_identity(0, NVT_AUTH_HASH_SHA256, "nqn.a b", SUBNQN, NULL, 0,
					      id, sizeof(id)),
			 -EINVAL);
	assert_int_equal(
		nvt_tls_psk_identity(0, NVT_AUTH_HASH_SHA256, HOSTNQN, "", NULL, 0, id, sizeof(id)),
		-EINVAL);
	/* One byte short of the NUL. */
	assert_int_equal(nvt_tls_psk_identity(0, NVT_AUTH_HASH_SHA256, HOSTNQN, SUBNQN, NULL, 0, id,
					      strlen(ID0("01"))),
			 -EINVAL);
	memset(nqn, 'n', sizeof(nqn));
	nqn[NVT_NVMF_NQN_MAX_LEN + 1] = '\0';
	assert_int_equal(nvt_tls_psk_identity(1, NVT_AUTH_HASH_SHA256, nqn, SUBNQN, retained,
					      sizeof(retained), id, sizeof(id)),
			 -EINVAL);
	/* 223 characters on both sides still fit the largest identity. */
	nqn[NVT_NVMF_NQN_MAX_LEN] = '\0';
	assert_int_equal(nvt_tls_psk_identity(1, NVT_AUTH_HASH_SHA384, nqn, nqn, retained,
					      sizeof(retained), id, sizeof(id)),
			 9 + 2 * NVT_NVMF_NQN_MAX_LEN + 2 + 64);
}

static void
test_identity_parse(void **state)
{
	char host[NVT_NVMF_NQN_FIELD_SIZE], sub[NVT_NVMF_NQN_FIELD_SIZE];
	enum nvt_auth_hash hash = NVT_AUTH_HASH_NONE;
	int version = -1;

	(void)state;
	assert_int_equal(nvt_tls_psk_identity_parse(ID0("02"), &version, &hash, host, sub), 0);
	assert_int_equal(version, 0);
	assert_int_equal(hash, NVT_AUTH_HASH_SHA384);
	assert_string_equal(host, HOSTNQN);
	assert_string_equal(sub, SUBNQN);
	assert_int_equal(nvt_tls_psk_identity_parse(LINUX_ID1_SHA256, &version, &hash, host, sub),
			 0);
	assert_int_equal(version, 1);
	assert_int_equal(hash, NVT_AUTH_HASH_SHA256);
	assert_string_equal(host, HOSTNQN);
	assert_string_equal(sub, SUBNQN);
}

static void
test_identity_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"NVMe0R01",
		"NVMe0R01 " HOSTNQN,
		"NVMe0R01 " HOSTNQN " ",
		"NVMe0R01  " HOSTNQN " " SUBNQN,
		"NVMe0R01 " HOSTNQN " " SUBNQN " ",
		"NVMe0R01 " HOSTNQN " " SUBNQN " " DIGEST_1,
		"NVMe0G01 " HOSTNQN " " SUBNQN,
		"NVMe2R01 " HOSTNQN " " SUBNQN,
		"NVMe0R03 " HOSTNQN " " SUBNQN,
		"NVMe0R00 " HOSTNQN " " SUBNQN,
		"nvme0R01 " HOSTNQN " " SUBNQN,
		"NVMe0R1 " HOSTNQN " " SUBNQN,
		"NVMe1R01 " HOSTNQN " " SUBNQN,
		"NVMe1R01 " HOSTNQN " " SUBNQN " ",
		"NVMe1R02 " HOSTNQN " " SUBNQN " " DIGEST_1,
		"NVMe1R01 " HOSTNQN " " SUBNQN " " DIGEST_1 " x",
		"NVMe1R01 " HOSTNQN " " SUBNQN " 8ksdZwGPx4W3yXXCZWS+/C79Xqaryu0zybXC1rC+0g*=",
	};
	char host[NVT_NVMF_NQN_FIELD_SIZE], sub[NVT_NVMF_NQN_FIELD_SIZE];
	enum nvt_auth_hash hash = NVT_AUTH_HASH_NONE;
	int version = -1;
	size_t i;

	(void)state;
	for (i = 0; i < NVT_COUNTOF(bad); i++) {
		assert_int_equal(nvt_tls_psk_identity_parse(bad[i], &version, &hash, host, sub),
				 -EINVAL);
	}
	assert_int_equal(version, -1);
	assert_int_equal(hash, NVT_AUTH_HASH_NONE);
}

static void
check_derive(enum nvt_auth_hash hash, const char *retained_hex, const char *identity,
	     enum nvt_tls_psk_kdf kdf, const char *want_hex)
{
	uint8_t retained[NVT_AUTH_MAX_HASH_LEN], out[NVT_AUTH_MAX_HASH_LEN];
	size_t len = ut_unhex(retained_hex, retained, sizeof(retained));

	assert_int_equal(len, nvt_auth_hash_len(hash));
	memset(out, 0, sizeof(out));
	assert_int_equal(nvt_tls_derive_psk_kdf(hash, retained, len, identity, kdf, out), 0);
	assert_hex(out, len, want_hex);
}

static void
test_derive(void **state)
{
	const enum nvt_tls_psk_kdf rfc = NVT_TLS_PSK_KDF_RFC8446;
	const enum nvt_tls_psk_kdf compat = NVT_TLS_PSK_KDF_LIBNVME_COMPAT;
	uint8_t retained[32], out[32];

	(void)state;
	check_derive(NVT_AUTH_HASH_SHA256, RETAINED_1, ID0("01"), rfc, TLS_V0_1);
	check_derive(NVT_AUTH_HASH_SHA384, RETAINED_2, ID0("02"), rfc, TLS_V0_2);
	check_derive(NVT_AUTH_HASH_SHA256, RETAINED_1, "NVMe1R01 " HOSTNQN " " SUBNQN " " DIGEST_1,
		     rfc, TLS_V1_1);
	check_derive(NVT_AUTH_HASH_SHA384, RETAINED_2, "NVMe1R02 " HOSTNQN " " SUBNQN " " DIGEST_2,
		     rfc, TLS_V1_2);
	/* What Debian 13's libnvme put into the keyring, byte for byte. */
	check_derive(NVT_AUTH_HASH_SHA256, RETAINED_COMPAT_1, ID0("01"), compat, LINUX_V0_SHA256);
	check_derive(NVT_AUTH_HASH_SHA384, RETAINED_COMPAT_2, ID0("02"), compat, LINUX_V0_SHA384);
	check_derive(NVT_AUTH_HASH_SHA256, RETAINED_COMPAT_1, LINUX_ID1_SHA256, compat,
		     LINUX_V1_SHA256);
	check_derive(NVT_AUTH_HASH_SHA384, RETAINED_COMPAT_2, LINUX_ID1_SHA384, compat,
		     LINUX_V1_SHA384);
	check_derive(NVT_AUTH_HASH_SHA256,
		     "101112131415161718191a1b1c1d1e1f"
		     "202122232425262728292a2b2c2d2e2f",
		     ID0("01"), compat, LINUX_V0_NOHASH_32);
	/* The default is RFC 8446. */
	assert_int_equal(ut_unhex(RETAINED_1, retained, sizeof(retained)), 32);
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA256, retained, 32, ID0("01"), out), 0);
	assert_hex(out, 32, TLS_V0_1);
}

static void
test_derive_bad(void **state)
{
	char long_id[300];
	uint8_t retained[48] = { 1 }, out[48];

	(void)state;
	/* The hash must be the identity's, the length the hash's. */
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA384, retained, 48, ID0("01"), out),
			 -EINVAL);
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA256, retained, 48, ID0("01"), out),
			 -EINVAL);
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA512, retained, 48, ID0("01"), out),
			 -EINVAL);
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA256, retained, 32, "NVMe0R01 x", out),
			 -EINVAL);
	/* An RFC 8446 context holds 255 bytes; libnvme's buffer takes 256. */
	memset(long_id, 'n', sizeof(long_id));
	memcpy(long_id, "NVMe0R01 ", 9);
	long_id[9 + 123] = ' ';
	long_id[256] = '\0';
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA256, retained, 32, long_id, out),
			 -EINVAL);
	assert_int_equal(nvt_tls_derive_psk_kdf(NVT_AUTH_HASH_SHA256, retained, 32, long_id,
						NVT_TLS_PSK_KDF_LIBNVME_COMPAT, out),
			 0);
	long_id[255] = '\0';
	assert_int_equal(nvt_tls_derive_psk(NVT_AUTH_HASH_SHA256, retained, 32, long_id, out), 0);
	long_id[255] = 'n';
	long_id[256] = 'n';
	long_id[257] = '\0';
	assert_int_equal(nvt_tls_derive_psk_kdf(NVT_AUTH_HASH_SHA256, retained, 32, long_id,
						NVT_TLS_PSK_KDF_LIBNVME_COMPAT, out),
			 -EINVAL);
}

static void
check_identity_psk(const struct nvt_secret *s, const char *identity, enum nvt_tls_psk_kdf kdf,
		   int rc, const char *want_hex)
{
	uint8_t out[NVT_AUTH_MAX_HASH_LEN];
	size_t len = 0;

	assert_int_equal(nvt_tls_identity_psk(s, identity, kdf, out, &len), rc);
	if (rc == 0) {
		assert_int_equal(len, s->len);
		assert_hex(out, len, want_hex);
	}
}

static void
test_identity_psk(void **state)
{
	const enum nvt_tls_psk_kdf rfc = NVT_TLS_PSK_KDF_RFC8446;
	const enum nvt_tls_psk_kdf compat = NVT_TLS_PSK_KDF_LIBNVME_COMPAT;
	struct nvt_secret s;

	(void)state;
	configured(&s, NVT_AUTH_HASH_SHA256, NVT_AUTH_HASH_SHA256);
	check_identity_psk(&s, ID0("01"), rfc, 0, TLS_V0_1);
	check_identity_psk(&s, ID0("01"), compat, 0, LINUX_V0_SHA256);
	check_identity_psk(&s, LINUX_ID1_SHA256, compat, 0, LINUX_V1_SHA256);
	/* A version 1 digest tells the layout apart: the other one is refused. */
	check_identity_psk(&s, LINUX_ID1_SHA256, rfc, -EKEYREJECTED, NULL);
	check_identity_psk(&s, "NVMe1R01 " HOSTNQN " " SUBNQN " " DIGEST_1, rfc, 0, TLS_V1_1);
	check_identity_psk(&s, "NVMe1R01 " HOSTNQN " " SUBNQN " " DIGEST_1, compat, -EKEYREJECTED,
			   NULL);
	/* A PSK of another hash does not serve the identity. */
	check_identity_psk(&s, ID0("02"), rfc, -EINVAL, NULL);

	configured(&s, NVT_AUTH_HASH_SHA384, NVT_AUTH_HASH_SHA384);
	check_identity_psk(&s, ID0("02"), compat, 0, LINUX_V0_SHA384);
	check_identity_psk(&s, LINUX_ID1_SHA384, compat, 0, LINUX_V1_SHA384);
	check_identity_psk(&s, ID0("01"), compat, -EINVAL, NULL);

	/* Hash 00: the length picks the hash, the PSK is its own retained PSK. */
	configured(&s, NVT_AUTH_HASH_SHA256, NVT_AUTH_HASH_NONE);
	check_identity_psk(&s, ID0("01"), rfc, 0, TLS_V0_NOHASH_1);
	check_identity_psk(&s, ID0("01"), compat, 0, LINUX_V0_NOHASH_32);
	configured(&s, NVT_AUTH_HASH_SHA384, NVT_AUTH_HASH_NONE);
	check_identity_psk(&s, ID0("02"), rfc, 0, TLS_V0_NOHASH_2);
	check_identity_psk(&s, ID0("02"), compat, 0, LINUX_V0_NOHASH_48);
	check_identity_psk(&s, ID0("01"), rfc, -EINVAL, NULL);
}

static void
test_spdk_psk(void **state)
{
	uint8_t out[NVT_AUTH_MAX_HASH_LEN];
	struct nvt_secret s;
	size_t len = 0;

	(void)state;
	ut_secret(&s, NVT_SECRET_TLS_PSK, NVT_AUTH_HASH_SHA384, 48, 0x30);
	assert_int_equal(nvt_tls_identity_psk(&s, ID0("02"), NVT_TLS_PSK_KDF_RFC8446, out, &len),
			 0);
	assert_hex(out, len, SPDK_V0_SHA384);
	assert_int_equal(
		nvt_tls_identity_psk(&s, ID0("02"), NVT_TLS_PSK_KDF_LIBNVME_COMPAT, out, &len), 0);
	assert_hex(out, len, COMPAT_V0_SHA384_0X30);
}

/* Does the binder of \p ch_hex (identity 0) verify with \p key_hex under \p hash? */
static int
binder_check(const char *ch_hex, enum nvt_auth_hash hash, const char *key_hex)
{
	uint8_t ch[512], key[NVT_AUTH_MAX_HASH_LEN];
	size_t ch_len = ut_unhex(ch_hex, ch, sizeof(ch));
	size_t key_len = ut_unhex(key_hex, key, sizeof(key));

	assert_true(ch_len > 0 && key_len > 0);
	return nvt_tls_psk_binder_check(hash, key, key_len, ch, ch_len, 0);
}

/* Real peers' ClientHellos tell their layout and binder hash apart. */
static void
test_binder_peers(void **state)
{
	const enum nvt_auth_hash sha256 = NVT_AUTH_HASH_SHA256, sha384 = NVT_AUTH_HASH_SHA384;

	(void)state;
	assert_int_equal(binder_check(CH_TLSHD_R01, sha256, LINUX_V0_SHA256), 1);
	assert_int_equal(binder_check(CH_TLSHD_R01, sha256, TLS_V0_1), 0);
	/* tlshd binds the 48-byte key of an R02 identity with SHA-256. */
	assert_int_equal(binder_check(CH_TLSHD_R02, sha256, LINUX_V0_SHA384), 1);
	assert_int_equal(binder_check(CH_TLSHD_R02, sha384, LINUX_V0_SHA384), 0);
	assert_int_equal(binder_check(CH_TLSHD_R02, sha256, TLS_V0_2), 0);
	assert_int_equal(binder_check(CH_SPDK_R01, sha256, TLS_V0_1), 1);
	assert_int_equal(binder_check(CH_SPDK_R01, sha256, LINUX_V0_SHA256), 0);
	assert_int_equal(binder_check(CH_SPDK_R02, sha384, SPDK_V0_SHA384), 1);
	assert_int_equal(binder_check(CH_SPDK_R02, sha384, COMPAT_V0_SHA384_0X30), 0);
	assert_int_equal(binder_check(CH_SPDK_R02, sha256, SPDK_V0_SHA384), 0);
}

/* A server's path: derive both candidates for the offered identity, keep the one that binds. */
static void
test_binder_server_flow(void **state)
{
	uint8_t ch[512], key[NVT_AUTH_MAX_HASH_LEN];
	size_t ch_len = ut_unhex(CH_TLSHD_R01, ch, sizeof(ch)), len = 0;
	struct nvt_secret s;

	(void)state;
	configured(&s, NVT_AUTH_HASH_SHA256, NVT_AUTH_HASH_SHA256);
	assert_int_equal(nvt_tls_identity_psk(&s, ID0("01"), NVT_TLS_PSK_KDF_RFC8446, key, &len),
			 0);
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len, 0),
			 0);
	assert_int_equal(
		nvt_tls_identity_psk(&s, ID0("01"), NVT_TLS_PSK_KDF_LIBNVME_COMPAT, key, &len), 0);
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len, 0),
			 1);
}

static void
test_binder_bad(void **state)
{
	uint8_t ch[512], key[NVT_AUTH_MAX_HASH_LEN];
	size_t ch_len = ut_unhex(CH_SPDK_R01, ch, sizeof(ch));
	size_t len = ut_unhex(TLS_V0_1, key, sizeof(key));

	(void)state;
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len, 0),
			 1);
	/* One identity only. */
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len, 1),
			 -EINVAL);
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA512, key, len, ch, ch_len, 0),
			 -EINVAL);
	assert_int_equal(
		nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len - 1, 0),
		-EINVAL);
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, 40, 0),
			 -EINVAL);
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, 0, 0),
			 -EINVAL);
	/* Another random: the transcript, so the binder, no longer matches. */
	ch[10] ^= 1;
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len, 0),
			 0);
	ch[10] ^= 1;
	ch[0] = 2;
	assert_int_equal(nvt_tls_psk_binder_check(NVT_AUTH_HASH_SHA256, key, len, ch, ch_len, 0),
			 -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retained),	   cmocka_unit_test(test_retained_bad),
		cmocka_unit_test(test_identity_format),	   cmocka_unit_test(test_identity_libnvme),
		cmocka_unit_test(test_identity_bad),	   cmocka_unit_test(test_identity_parse),
		cmocka_unit_test(test_identity_parse_bad), cmocka_unit_test(test_derive),
		cmocka_unit_test(test_derive_bad),	   cmocka_unit_test(test_identity_psk),
		cmocka_unit_test(test_spdk_psk),	   cmocka_unit_test(test_binder_peers),
		cmocka_unit_test(test_binder_server_flow), cmocka_unit_test(test_binder_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
