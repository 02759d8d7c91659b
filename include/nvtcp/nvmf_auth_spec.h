/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * NVMe in-band authentication (DH-HMAC-CHAP, NVMe Base 2.0 section 8.13)
 * wire formats: the messages carried by the Authentication Send and
 * Authentication Receive Fabrics commands (SECP 0xe9, SPSP0 0x01, SPSP1
 * 0x01), with the hash function and Diffie-Hellman group identifiers.
 *
 * Same conventions as nvtcp/nvme_spec.h: little-endian fields in place,
 * natural alignment, a size assertion per structure. Variable parts follow
 * the fixed header as the comments say.
 */
#ifndef NVTCP_NVMF_AUTH_SPEC_H
#define NVTCP_NVMF_AUTH_SPEC_H

#include <stdint.h>

#include "nvtcp/nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** SPSP0 and SPSP1 of every DH-HMAC-CHAP Authentication Send/Receive. */
#define NVT_AUTH_SPSP0 0x01
#define NVT_AUTH_SPSP1 0x01

/** Hash function identifiers (HashID). */
enum nvt_auth_hash {
	NVT_AUTH_HASH_NONE = 0x00, /**< only in secrets: the key is used untransformed */
	NVT_AUTH_HASH_SHA256 = 0x01,
	NVT_AUTH_HASH_SHA384 = 0x02,
	NVT_AUTH_HASH_SHA512 = 0x03,
};

/** Diffie-Hellman group identifiers (DHGID). */
enum nvt_auth_dhgroup {
	NVT_AUTH_DHGROUP_NULL = 0x00,
	NVT_AUTH_DHGROUP_2048 = 0x01,
	NVT_AUTH_DHGROUP_3072 = 0x02,
	NVT_AUTH_DHGROUP_4096 = 0x03,
	NVT_AUTH_DHGROUP_6144 = 0x04,
	NVT_AUTH_DHGROUP_8192 = 0x05,
};

/** AUTH-Type of a message. */
enum nvt_auth_type {
	NVT_AUTH_TYPE_COMMON = 0x00,
	NVT_AUTH_TYPE_DHCHAP = 0x01,
};

/** AUTH-Id: the message within its type. */
enum nvt_auth_msg_id {
	NVT_AUTH_MSG_NEGOTIATE = 0x00, /**< AUTH-Type common */
	NVT_AUTH_MSG_CHALLENGE = 0x01,
	NVT_AUTH_MSG_REPLY = 0x02,
	NVT_AUTH_MSG_SUCCESS1 = 0x03,
	NVT_AUTH_MSG_SUCCESS2 = 0x04,
	NVT_AUTH_MSG_FAILURE2 = 0xf0,
	NVT_AUTH_MSG_FAILURE1 = 0xf1,
};

/** AUTHID of the DH-HMAC-CHAP protocol descriptor. */
#define NVT_AUTH_ID_DHCHAP 0x01

/** Reason code (RCODE) of a failure message. */
#define NVT_AUTH_FAILURE_RCODE 0x01

/** Reason code explanation (RCODE_EXP) of a failure message. */
enum nvt_auth_failure {
	NVT_AUTH_FAIL_FAILED = 0x01,
	NVT_AUTH_FAIL_NOT_USABLE = 0x02,
	NVT_AUTH_FAIL_CONCAT_MISMATCH = 0x03,
	NVT_AUTH_FAIL_HASH_UNUSABLE = 0x04,
	NVT_AUTH_FAIL_DHGROUP_UNUSABLE = 0x05,
	NVT_AUTH_FAIL_INCORRECT_PAYLOAD = 0x06,
	NVT_AUTH_FAIL_INCORRECT_PROTOCOL = 0x07,
};

/** Entries of the hash and DH group lists of a protocol descriptor. */
#define NVT_AUTH_IDLIST_HASH_MAX    30
#define NVT_AUTH_IDLIST_DHGROUP_MAX 30

/** DH-HMAC-CHAP protocol descriptor of AUTH_Negotiate, 64 bytes. */
struct nvt_auth_protocol_desc {
	/** NVT_AUTH_ID_DHCHAP. */
	uint8_t authid;
	uint8_t rsvd1;
	/** Hash IDs in idlist[0 .. halen - 1]. */
	uint8_t halen;
	/** DH group IDs in idlist[30 .. 30 + dhlen - 1]. */
	uint8_t dhlen;
	uint8_t idlist[60];
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_protocol_desc, 64);

/** AUTH_Negotiate (host to controller); napd descriptors follow. */
struct nvt_auth_negotiate {
	uint8_t auth_type; /* NVT_AUTH_TYPE_COMMON */
	uint8_t auth_id;   /* NVT_AUTH_MSG_NEGOTIATE */
	uint16_t rsvd2;
	/** Transaction identifier, echoed by every later message. */
	uint16_t t_id;
	/** Secure channel concatenation (0: none). */
	uint8_t sc_c;
	/** Number of protocol descriptors. */
	uint8_t napd;
	struct nvt_auth_protocol_desc descs[];
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_negotiate, 8);

/** DH-HMAC-CHAP_Challenge (controller to host): hl bytes C1, then dhvlen bytes of g^x mod p. */
struct nvt_auth_challenge {
	uint8_t auth_type; /* NVT_AUTH_TYPE_DHCHAP */
	uint8_t auth_id;   /* NVT_AUTH_MSG_CHALLENGE */
	uint16_t rsvd2;
	uint16_t t_id;
	/** Hash length in bytes. */
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t hashid;
	uint8_t dhgid;
	uint16_t dhvlen;
	/** Sequence number S1. */
	uint32_t seqnum;
	uint8_t cval[];
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_challenge, 16);

/**
 * DH-HMAC-CHAP_Reply (host to controller): hl bytes R1, then hl bytes C2
 * (zero when cvalid is 0), then dhvlen bytes of g^y mod p.
 */
struct nvt_auth_reply {
	uint8_t auth_type;
	uint8_t auth_id; /* NVT_AUTH_MSG_REPLY */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	/** 1: the host asks to authenticate the controller (C2 and seqnum valid). */
	uint8_t cvalid;
	uint8_t rsvd9;
	uint16_t dhvlen;
	/** Sequence number S2 (0 when cvalid is 0). */
	uint32_t seqnum;
	uint8_t rval[];
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_reply, 16);

/** DH-HMAC-CHAP_Success1 (controller to host): hl bytes R2 follow when rvalid is 1. */
struct nvt_auth_success1 {
	uint8_t auth_type;
	uint8_t auth_id; /* NVT_AUTH_MSG_SUCCESS1 */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t rvalid;
	uint8_t rsvd9[7];
	uint8_t rval[];
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_success1, 16);

/** DH-HMAC-CHAP_Success2 (host to controller, after a valid R2). */
struct nvt_auth_success2 {
	uint8_t auth_type;
	uint8_t auth_id; /* NVT_AUTH_MSG_SUCCESS2 */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t rsvd6[10];
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_success2, 16);

/** AUTH_Failure1 (controller to host) and AUTH_Failure2 (host to controller). */
struct nvt_auth_failure_msg {
	uint8_t auth_type; /* NVT_AUTH_TYPE_COMMON */
	uint8_t auth_id;   /* NVT_AUTH_MSG_FAILURE1 or NVT_AUTH_MSG_FAILURE2 */
	uint16_t rsvd2;
	uint16_t t_id;
	/** NVT_AUTH_FAILURE_RCODE. */
	uint8_t rcode;
	/** enum nvt_auth_failure. */
	uint8_t rcode_exp;
};
NVT_NVME_SPEC_SIZE(struct nvt_auth_failure_msg, 8);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVMF_AUTH_SPEC_H */
