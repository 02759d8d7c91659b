/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host's half of DH-HMAC-CHAP for fuzz_auth: what a host believes about
 * the exchange on one queue, and the right next message for that belief,
 * computed with lib/auth as a real host would (key transformation, DH,
 * augmented challenge, responses). The belief follows every message that
 * goes either way, the fuzzed ones too, so that a right step can follow a
 * mutated one and mutations reach the deep states of the target.
 */
#ifndef NVT_FUZZ_AUTH_HOST_H
#define NVT_FUZZ_AUTH_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/auth.h"

/* Largest message either way (the target's limit too). */
#define FUZZ_AUTH_MSG_MAX 4096

/* What the host does next, as it believes. */
enum fuzz_auth_next {
	FUZZ_AUTH_NEXT_NEGOTIATE, /* Send a Negotiate (first or again) */
	FUZZ_AUTH_NEXT_CHALLENGE, /* Receive the Challenge */
	FUZZ_AUTH_NEXT_REPLY,	  /* Send the Reply */
	FUZZ_AUTH_NEXT_SUCCESS1,  /* Receive Success1 */
	FUZZ_AUTH_NEXT_SUCCESS2,  /* Send Success2 (or Failure2) */
};

/*
 * Options of a right step, one byte of the input:
 *   bits 0-1  the hash a Negotiate offers (SHA-256, -384, -512, SHA-256)
 *   bits 2-4  its DH group (null, ffdhe2048, null, ffdhe2048, 3072, 4096,
 *             6144, 8192: the cheap ones twice, as they run faster)
 *   bit 5     a Reply asks to authenticate the controller
 *   bit 6     Failure2 even when the controller's response is right
 *   bit 7     a Negotiate carries a descriptor of another protocol first
 */
enum {
	FUZZ_AUTH_OPT_CVALID = 1u << 5,
	FUZZ_AUTH_OPT_FAILURE2 = 1u << 6,
	FUZZ_AUTH_OPT_TWO_DESCS = 1u << 7,
};

struct fuzz_auth_host {
	const char *hostnqn;
	const char *subnqn;
	struct nvt_secret host_key;
	struct nvt_secret ctrlr_key;
	enum fuzz_auth_next next;
	uint16_t t_id;
	/* From the last Challenge. */
	enum nvt_auth_hash hash;
	enum nvt_auth_dhgroup group;
	uint32_t s1;
	uint8_t c1[NVT_AUTH_MAX_HASH_LEN];
	uint8_t ctrlr_pub[NVT_AUTH_MAX_DH_LEN];
	size_t ctrlr_pub_len;
	/* From the last Reply the host computed. */
	bool cvalid;
	uint32_t s2;
	uint8_t c2[NVT_AUTH_MAX_HASH_LEN];
	uint8_t shared[NVT_AUTH_MAX_DH_LEN];
	size_t shared_len;
	/* The last Success1 carried the controller's right response. */
	bool r2_ok;
};

/* A host of \p hostnqn on \p subnqn with these secrets (interchange format); fails the run on a bad one. */
void fuzz_auth_host_init(struct fuzz_auth_host *h, const char *hostnqn, const char *subnqn,
			 const char *host_key, const char *ctrlr_key);

/* Wipe the secrets and everything derived from them. */
void fuzz_auth_host_fini(struct fuzz_auth_host *h);

/*
 * The right messages into \p buf (FUZZ_AUTH_MSG_MAX bytes); \return the
 * length. The host's belief follows only what fuzz_auth_host_sent() is
 * told, as the message may be changed before it goes.
 */
/* A Negotiate of a new transaction. */
size_t fuzz_auth_host_negotiate(struct fuzz_auth_host *h, uint8_t opts, uint8_t *buf);

/* The Reply to the last Challenge. */
size_t fuzz_auth_host_reply(struct fuzz_auth_host *h, uint8_t opts, uint8_t *buf);

/* Success2 after a right Success1 (else, or with FUZZ_AUTH_OPT_FAILURE2, Failure2). */
size_t fuzz_auth_host_success2(struct fuzz_auth_host *h, uint8_t opts, uint8_t *buf);

/* The host sent \p msg (of \p len bytes) in an Authentication Send: follow it. */
void fuzz_auth_host_sent(struct fuzz_auth_host *h, const uint8_t *msg, size_t len);

/*
 * An Authentication Receive returned \p msg (\p len bytes, the allocation
 * length): follow it. A Challenge or Success1 that does not add up (lengths
 * against its hash and group, the transaction, a missing sequence number)
 * fails the run: the target never sends one.
 */
void fuzz_auth_host_received(struct fuzz_auth_host *h, const uint8_t *msg, size_t len);

#endif /* NVT_FUZZ_AUTH_HOST_H */
