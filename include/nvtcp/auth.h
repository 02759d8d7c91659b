/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The cryptography of NVMe security, shared by the target and the host:
 * secrets in their interchange formats, the DH-HMAC-CHAP computations
 * (NVMe Base 2.0 section 8.13.5) and the NVMe/TCP TLS PSK derivations
 * (NVMe/TCP Transport 1.1 section 3.6.1). OpenSSL 3 does the arithmetic.
 *
 * Pure functions of their arguments (plus the system's random source):
 * any thread, no global state, no logging of secret bytes. Functions fail
 * with a negative errno: -EINVAL for malformed input (a bad format, CRC,
 * length or identifier), -ENOMEM, -EIO when OpenSSL fails.
 *
 * Secret bytes live in caller-owned buffers; the caller wipes them with
 * nvt_auth_wipe() when done. The functions here wipe their own temporaries.
 */
#ifndef NVTCP_AUTH_H
#define NVTCP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/nvmf_auth_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest hash output (SHA-512) and so the largest secret, response or challenge. */
#define NVT_AUTH_MAX_HASH_LEN 64
/** Largest DH public value or shared secret (ffdhe8192), bytes. */
#define NVT_AUTH_MAX_DH_LEN 1024
/** Longest TLS PSK identity, NUL included (version 1: two NQNs and a digest). */
#define NVT_AUTH_PSK_IDENTITY_MAX 640

/** Kind of a secret, from its interchange format's prefix. */
enum nvt_secret_kind {
	/** "DHHC-1:hh:<base64(key || crc32)>:" as nvme gen-dhchap-key writes. */
	NVT_SECRET_DHCHAP = 1,
	/** "NVMeTLSkey-1:hh:<base64(key || crc32)>:" as nvme gen-tls-key writes. */
	NVT_SECRET_TLS_PSK = 2,
};

/** A parsed secret. Wipe with nvt_auth_wipe(s, sizeof(*s)). */
struct nvt_secret {
	enum nvt_secret_kind kind;
	/**
	 * DH-HMAC-CHAP: the hash of the key transformation (NONE: untransformed).
	 * TLS: the PSK hash, SHA256 (01) or SHA384 (02); NONE (00) means the
	 * configured PSK is used as the retained PSK.
	 */
	enum nvt_auth_hash hash;
	/** Key bytes: 32, 48 or 64 (DH-HMAC-CHAP); 32 or 48 (TLS). */
	size_t len;
	uint8_t key[NVT_AUTH_MAX_HASH_LEN];
};

/**
 * Parse a secret in either interchange format. Leading and trailing white
 * space (a file's newline) is ignored; the CRC-32 (little-endian, after the
 * key) must match and the length must suit the hash.
 *
 * \return 0, or -EINVAL (nothing is left in \p out then).
 */
int nvt_secret_parse(const char *text, size_t len, struct nvt_secret *out);

/** Overwrite \p len bytes at \p p in a way the compiler keeps. */
void nvt_auth_wipe(void *p, size_t len);

/**
 * Set up the memory secrets are kept in for long (OpenSSL's secure heap:
 * locked in RAM, left out of core dumps). Once per process, before any
 * nvt_secret_new(); later calls do nothing. Any thread.
 *
 * \param size Bytes of the heap (a power of two); 0 for the default (1 MiB).
 * \return 0, or -ENOMEM (secrets then come from the ordinary heap, still
 * wiped on free; a warning is logged once).
 */
int nvt_auth_secure_init(size_t size);

/** A zeroed secret in the secure heap; NULL when out of memory. */
struct nvt_secret *nvt_secret_new(void);

/** Wipe and free a secret of nvt_secret_new(); NULL is a no-op. */
void nvt_secret_free(struct nvt_secret *secret);

/**
 * Bytes of the secure heap (for transformed keys, DH shared secrets and
 * derived PSKs kept past one call), zeroed; NULL when out of memory.
 */
void *nvt_auth_secure_alloc(size_t len);

/** Wipe and free memory of nvt_auth_secure_alloc(); NULL is a no-op. */
void nvt_auth_secure_free(void *p, size_t len);

/** Fill \p buf with \p len bytes from a cryptographic random source. \return 0 or -EIO. */
int nvt_auth_random(void *buf, size_t len);

/** Output length of a hash (32, 48, 64), or 0 for NONE and unknown IDs. */
size_t nvt_auth_hash_len(enum nvt_auth_hash hash);
/** "sha256", "sha384", "sha512" (the names of SPDK's dhchap_digests), or NULL. */
const char *nvt_auth_hash_name(enum nvt_auth_hash hash);
/** Hash ID of a name as above (also "hmac(sha256)" ...), or -EINVAL. */
int nvt_auth_hash_from_name(const char *name);

/** "null", "ffdhe2048" ... "ffdhe8192" (SPDK's dhchap_dhgroups names), or NULL. */
const char *nvt_auth_dhgroup_name(enum nvt_auth_dhgroup group);
/** Group ID of a name as above, or -EINVAL. */
int nvt_auth_dhgroup_from_name(const char *name);
/** Bytes of a public value and of the shared secret of a group (0 for NULL or unknown). */
size_t nvt_auth_dhgroup_len(enum nvt_auth_dhgroup group);

/**
 * The transformed key Kh (or Kc) of a DH-HMAC-CHAP secret: the key itself
 * when secret->hash is NONE, else HMAC-hash(key, nqn || "NVMe-over-Fabrics")
 * with the secret's own hash. \p nqn is the NQN of the secret's owner: the
 * host NQN for the host's key, the subsystem NQN for the controller's key.
 *
 * \param out NVT_AUTH_MAX_HASH_LEN bytes.
 * \param out_len Set to the transformed key's length.
 */
int nvt_auth_transform_key(const struct nvt_secret *secret, const char *nqn, uint8_t *out,
			   size_t *out_len);

/** One side's ephemeral Diffie-Hellman key pair of an ffdhe group. */
struct nvt_auth_dh;

/** Generate a key pair of \p group (not NULL). \return 0, -EINVAL, -ENOMEM or -EIO. */
int nvt_auth_dh_new(enum nvt_auth_dhgroup group, struct nvt_auth_dh **dh);

/**
 * The public value g^x mod p, big-endian, left-padded to exactly
 * nvt_auth_dhgroup_len() bytes. \p len must be at least that.
 *
 * \return the number of bytes written, or -EINVAL.
 */
int nvt_auth_dh_public(const struct nvt_auth_dh *dh, uint8_t *pub, size_t len);

/**
 * The shared secret g^xy mod p from the peer's public value (big-endian, at
 * most the group's length: SPDK drops leading zero bytes), big-endian,
 * padded to the group's length; \p len must be at least that. A public
 * value outside 2 .. p-2 or outside the subgroup of order (p-1)/2 is
 * refused with -EINVAL.
 *
 * \return the number of bytes written to \p secret (the group's length), or -errno.
 */
int nvt_auth_dh_shared(const struct nvt_auth_dh *dh, const uint8_t *peer, size_t peer_len,
		       uint8_t *secret, size_t len);

/** Free a key pair (its private value wiped); NULL is a no-op. */
void nvt_auth_dh_free(struct nvt_auth_dh *dh);

/**
 * The augmented challenge of a DH exchange:
 * HMAC-hash(hash(shared secret), challenge), hash_len bytes into \p out.
 */
int nvt_auth_augment_challenge(enum nvt_auth_hash hash, const uint8_t *shared, size_t shared_len,
			       const uint8_t *chal, uint8_t *out);

/** Which response nvt_auth_chap_response() computes. */
enum nvt_auth_role {
	/** R1, the host's: "HostHost", host NQN, then subsystem NQN. */
	NVT_AUTH_ROLE_HOST,
	/** R2, the controller's: "Controller", subsystem NQN, then host NQN. */
	NVT_AUTH_ROLE_CTRLR,
};

/**
 * A DH-HMAC-CHAP response: HMAC-hash(key, chal || seqnum (LE32) || t_id
 * (LE16) || sc_c || role string || first NQN || 0x00 || second NQN), as the
 * role orders the NQNs. \p chal is the (augmented, with a DH group)
 * challenge of nvt_auth_hash_len(hash) bytes; \p key the transformed key.
 *
 * \param out nvt_auth_hash_len(hash) bytes.
 */
int nvt_auth_chap_response(enum nvt_auth_role role, enum nvt_auth_hash hash, const uint8_t *key,
			   size_t key_len, const uint8_t *chal, uint32_t seqnum, uint16_t t_id,
			   uint8_t sc_c, const char *hostnqn, const char *subnqn, uint8_t *out);

/**
 * The layout of the HkdfLabel (TLS 1.3's HKDF-Expand-Label info) in the
 * retained and TLS PSK derivations. Peers disagree, and nothing in a
 * version 0 identity tells which one a client used (see
 * nvt_tls_identity_psk() for version 1), so a server that serves both
 * kinds of clients must know, per host or by trying both.
 */
enum nvt_tls_psk_kdf {
	/**
	 * RFC 8446 section 7.1 (big-endian length, label and context each
	 * after a length byte), as the NVMe/TCP specification says: SPDK, and
	 * libnvme/nvme-cli since their August 2025 fix.
	 */
	NVT_TLS_PSK_KDF_RFC8446 = 0,
	/**
	 * libnvme before that fix and its later "--compat" option: the length
	 * little-endian, then "tls13 " label context without length bytes.
	 * Debian 13 (nvme-cli 2.13, libnvme 1.13; kernel 6.12 and tlshd use
	 * the key libnvme put in the keyring) derives this way.
	 */
	NVT_TLS_PSK_KDF_LIBNVME_COMPAT = 1,
};

/**
 * The retained PSK of a configured TLS PSK for \p hostnqn (HKDF-Extract
 * with a zero salt, then HKDF-Expand-Label with label "HostNQN", the host
 * NQN as context and the configured PSK's length), or the configured PSK
 * itself when its hash is NONE. \p out takes psk->len bytes.
 */
int nvt_tls_retained_psk_kdf(const struct nvt_secret *psk, const char *hostnqn,
			     enum nvt_tls_psk_kdf kdf, uint8_t *out);

/** nvt_tls_retained_psk_kdf() with NVT_TLS_PSK_KDF_RFC8446. */
int nvt_tls_retained_psk(const struct nvt_secret *psk, const char *hostnqn, uint8_t *out);

/**
 * A TLS PSK identity: version 0 "NVMe0R<hh> <hostnqn> <subnqn>", version 1
 * "NVMe1R<hh> <hostnqn> <subnqn> <PSK digest>", the digest being
 * Base64(HMAC-hash(retained, hostnqn " " subnqn " NVMe-over-Fabrics")),
 * so \p retained is needed only for version 1. \p hash is SHA256 or
 * SHA384; the NQNs hold 1 .. 223 characters and no space.
 *
 * \return the identity's length, or -EINVAL (bad version or hash, too long).
 */
int nvt_tls_psk_identity(int version, enum nvt_auth_hash hash, const char *hostnqn,
			 const char *subnqn, const uint8_t *retained, size_t retained_len,
			 char *out, size_t out_size);

/**
 * Parse a TLS PSK identity as above into its version, hash and NQNs (each
 * buffer NVT_NVMF_NQN_FIELD_SIZE bytes). Only retained-PSK identities
 * ("R") parse; a version 1 digest must look like one but is not checked
 * here (nvt_tls_identity_psk() does). Nothing is written on -EINVAL.
 */
int nvt_tls_psk_identity_parse(const char *identity, int *version, enum nvt_auth_hash *hash,
			       char *hostnqn, char *subnqn);

/**
 * The TLS PSK the handshake uses, from the retained PSK and the identity:
 * HKDF-Extract with a zero salt, then HKDF-Expand-Label with label
 * "nvme-tls-psk" and as context the whole identity (version 0) or
 * "<hh> <PSK digest>" (version 1), as libnvme and the kernel do; SPDK
 * offers version 0 only. This, not the retained PSK, is what Linux
 * (tlshd, from the keyring) and SPDK give TLS. \p hash must be the
 * identity's and \p retained_len its length; \p out takes that many
 * bytes. -EINVAL also for an identity too long for the layout (an
 * RFC 8446 context holds at most 255 bytes).
 */
int nvt_tls_derive_psk_kdf(enum nvt_auth_hash hash, const uint8_t *retained, size_t retained_len,
			   const char *identity, enum nvt_tls_psk_kdf kdf, uint8_t *out);

/** nvt_tls_derive_psk_kdf() with NVT_TLS_PSK_KDF_RFC8446. */
int nvt_tls_derive_psk(enum nvt_auth_hash hash, const uint8_t *retained, size_t retained_len,
		       const char *identity, uint8_t *out);

/**
 * A server's whole derivation for an identity a client offered: parse it,
 * check that \p psk (the configured PSK held for that host and subsystem)
 * has the identity's hash (SHA384 for 48 bytes when the PSK's own hash is
 * NONE, as libnvme and SPDK pick it) and length, derive the retained PSK
 * for the identity's host NQN, check a version 1 digest, and derive the
 * TLS PSK into \p out (NVT_AUTH_MAX_HASH_LEN bytes; *out_len set).
 *
 * \return 0; -EINVAL for a malformed identity or a PSK of another hash;
 * -EKEYREJECTED when a version 1 digest does not match: the client holds
 * another PSK or, for a PSK with a hash, derives with the other \p kdf
 * (so for such identities a server can find the variant by trying both).
 */
int nvt_tls_identity_psk(const struct nvt_secret *psk, const char *identity,
			 enum nvt_tls_psk_kdf kdf, uint8_t *out, size_t *out_len);

/**
 * Whether the binder a TLS 1.3 ClientHello carries for its PSK identity
 * number \p index was made with \p psk as an external PSK of hash \p hash
 * (RFC 8446 section 4.2.11.2). Neither the identity nor anything else in
 * the handshake says which derivation (enum nvt_tls_psk_kdf) or hash a
 * client used - tlshd binds the 48-byte keys of "NVMe0R02" identities
 * with SHA-256, SPDK with SHA-384 - and OpenSSL's server PSK callback
 * gets one try, so a server checks its candidates here first.
 *
 * \param client_hello The ClientHello handshake message as received, its
 * 4-byte header included (SSL_CTX_set_msg_callback() sees it before the
 * PSK callback runs). After a HelloRetryRequest the transcript also holds
 * the first ClientHello, so a second ClientHello never matches.
 * \return 1 when it matches, 0 when not (also for a binder of another
 * length), -EINVAL for a malformed message or a missing identity, -EIO.
 */
int nvt_tls_psk_binder_check(enum nvt_auth_hash hash, const uint8_t *psk, size_t psk_len,
			     const uint8_t *client_hello, size_t len, unsigned int index);

/**
 * The TLS 1.3 cipher suite that goes with a PSK hash:
 * "TLS_AES_128_GCM_SHA256" (SHA256) or "TLS_AES_256_GCM_SHA384" (SHA384), else NULL.
 * That is the specification's pairing and SPDK's; tlshd 1.0 (gnutls) binds
 * the 48-byte PSK of an "NVMe0R02" identity with SHA-256 and then needs a
 * SHA-256 suite (it picked TLS_CHACHA20_POLY1305_SHA256 when offered).
 */
const char *nvt_tls_cipher_for_hash(enum nvt_auth_hash hash);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_AUTH_H */
