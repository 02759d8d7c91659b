/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DH-HMAC-CHAP from the raw NVMe/TCP host of the tests (test_tcp.h): each
 * message of the exchange as its own step, so that a test can also send
 * what no real host would (a wrong response, a truncated or replayed
 * message, a message out of order) and check what the controller answers.
 * The computations are lib/auth's. Functions return 0, an NVMe status > 0,
 * or -errno; -EPROTO when the controller's answer is not what the step
 * expects (x->why says what).
 */
#ifndef NVT_AUTH_RAW_H
#define NVT_AUTH_RAW_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/auth.h"
#include "test_tcp.h"

struct raw_auth {
	struct nvt_test_conn *c;
	const char *hostnqn;
	const char *subnqn;
	/* The one hash and DH group the host offers. */
	enum nvt_auth_hash hash;
	enum nvt_auth_dhgroup group;
	/* Secrets in the interchange format; ctrlr_key NULL: unidirectional. */
	const char *host_key;
	const char *ctrlr_key;
	/* Transaction id, incremented by raw_authenticate(). */
	uint16_t t_id;
	/* From the Challenge. */
	uint32_t s1;
	uint8_t c1[NVT_AUTH_MAX_HASH_LEN];
	uint8_t ctrlr_pub[NVT_AUTH_MAX_DH_LEN];
	/* The host's challenge to the controller. */
	uint32_t s2;
	uint8_t c2[NVT_AUTH_MAX_HASH_LEN];
	uint8_t shared[NVT_AUTH_MAX_DH_LEN];
	size_t shared_len;
	/* The last Reply built (kept for replays). */
	uint8_t reply[2048];
	size_t reply_len;
	/* The last message received. */
	uint8_t msg[4096];
	char why[256];
};

/* An Authentication Send or Receive SQE of \p len bytes through the transport. */
void raw_sqe_auth(union nvt_nvme_sqe *sqe, uint16_t cid, uint8_t fctype, uint32_t len);
int raw_auth_send(struct nvt_test_conn *c, const void *msg, uint32_t len);
int raw_auth_recv(struct nvt_test_conn *c, void *buf, uint32_t al);

/* The steps, in order (raw_negotiate() returns the command's status as it is). */
int raw_negotiate(struct raw_auth *x);
int raw_challenge(struct raw_auth *x);
/* Build the Reply into x->reply (sent by the caller, e.g. raw_auth_send()). */
int raw_reply_build(struct raw_auth *x);
/* Receive Success1; \p r2_ok: the controller's response checks out (bidirectional). */
int raw_success1(struct raw_auth *x, bool *r2_ok);
/* Success2 when \p ok, else Failure2. */
int raw_success2(struct raw_auth *x, bool ok);
/* Receive, expecting Failure1 with \p reason. */
int raw_expect_failure1(struct raw_auth *x, uint8_t reason);

/* The whole exchange on x->c with a new transaction id: 0 when it succeeded. */
int raw_authenticate(struct raw_auth *x);

#endif /* NVT_AUTH_RAW_H */
