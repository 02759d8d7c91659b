/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * NVMe/TCP transport wire formats (PDU headers).
 *
 * Every PDU starts with the 8-byte common header. hlen is the length of the PDU
 * header without its digest; pdo is the offset of the data from the start of the
 * PDU (0 when there is none); plen is the length of the whole PDU: header, header
 * digest, padding up to pdo, data and data digest. Digests are CRC32C, 4 bytes,
 * present only after the connection negotiated them in ICReq/ICResp and the PDU
 * carries the matching HDGSTF/DDGSTF flag (never on ICReq, ICResp and TermReq).
 *
 * Multi-byte fields are little-endian; see nvtcp/nvme_spec.h for the byte order
 * and layout conventions.
 */
#ifndef NVTCP_NVME_TCP_H
#define NVTCP_NVME_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nvtcp/nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** IANA port of NVMe/TCP I/O controllers. */
#define NVT_NVME_TCP_PORT 4420
/** IANA port of NVMe/TCP discovery controllers. */
#define NVT_NVME_TCP_DISCOVERY_PORT 8009

/** PDU format version 1.0, the only one defined. */
#define NVT_NVME_TCP_PFV_1_0 0x0000
/** Header and data digest size (CRC32C). */
#define NVT_NVME_TCP_DIGEST_LEN 4
/** Highest HPDA/CPDA value; data alignment is (value + 1) * 4 bytes. */
#define NVT_NVME_TCP_PDA_MAX 31
/** Smallest MAXH2CDATA a controller may report in ICResp. */
#define NVT_NVME_TCP_MAXH2CDATA_MIN 4096
/** Largest PDU header (ICReq/ICResp). */
#define NVT_NVME_TCP_MAX_HLEN 128
/** Most bytes of the offending PDU header a TermReq may carry. */
#define NVT_NVME_TCP_TERM_REQ_MAX_DATA 128

/** PDU types. */
enum nvt_nvme_tcp_pdu_type {
	/** Initialize Connection Request, host to controller. */
	NVT_NVME_TCP_PDU_IC_REQ = 0x00,
	/** Initialize Connection Response, controller to host. */
	NVT_NVME_TCP_PDU_IC_RESP = 0x01,
	/** Host to Controller Terminate Connection Request. */
	NVT_NVME_TCP_PDU_H2C_TERM_REQ = 0x02,
	/** Controller to Host Terminate Connection Request. */
	NVT_NVME_TCP_PDU_C2H_TERM_REQ = 0x03,
	/** Command capsule. */
	NVT_NVME_TCP_PDU_CAPSULE_CMD = 0x04,
	/** Response capsule. */
	NVT_NVME_TCP_PDU_CAPSULE_RESP = 0x05,
	/** Host to Controller Data. */
	NVT_NVME_TCP_PDU_H2C_DATA = 0x06,
	/** Controller to Host Data. */
	NVT_NVME_TCP_PDU_C2H_DATA = 0x07,
	/** Ready to Transfer. */
	NVT_NVME_TCP_PDU_R2T = 0x09,
};

/* Common header flags */
/** A header digest follows the PDU header. */
#define NVT_NVME_TCP_F_HDGSTF (1u << 0)
/** A data digest follows the PDU data. */
#define NVT_NVME_TCP_F_DDGSTF (1u << 1)
/** H2CData/C2HData: last PDU of this data transfer (of the R2T, or of the command). */
#define NVT_NVME_TCP_F_LAST_PDU (1u << 2)
/** C2HData with LAST_PDU: the command succeeded, no response capsule follows. */
#define NVT_NVME_TCP_F_SUCCESS (1u << 3)

/* ICReq/ICResp DGST: digests requested (ICReq) or enabled (ICResp) */
#define NVT_NVME_TCP_DGST_HDGST_ENABLE (1u << 0)
#define NVT_NVME_TCP_DGST_DDGST_ENABLE (1u << 1)

/** Fatal error status of a TermReq (H2C or C2H). */
enum nvt_nvme_tcp_fes {
	/** FEI = byte offset of the invalid field in the PDU header. */
	NVT_NVME_TCP_FES_INVALID_HEADER_FIELD = 0x01,
	NVT_NVME_TCP_FES_PDU_SEQUENCE_ERROR = 0x02,
	/** FEI = the header digest value received. */
	NVT_NVME_TCP_FES_HEADER_DIGEST_ERROR = 0x03,
	NVT_NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	/** Data Transfer Limit Exceeded; named R2T Limit Exceeded in the first revision. */
	NVT_NVME_TCP_FES_DATA_LIMIT_EXCEEDED = 0x05,
	NVT_NVME_TCP_FES_R2T_LIMIT_EXCEEDED = 0x05,
	/** FEI = byte offset of the unsupported parameter. */
	NVT_NVME_TCP_FES_UNSUPPORTED_PARAMETER = 0x06,
};

/** Common header, 8 bytes. */
struct nvt_nvme_tcp_common_hdr {
	/** PDU type, enum nvt_nvme_tcp_pdu_type. */
	uint8_t type;
	/** NVT_NVME_TCP_F_*. */
	uint8_t flags;
	/** Header length, digest excluded. */
	uint8_t hlen;
	/** Data offset from the start of the PDU; 0 when there is no data. */
	uint8_t pdo;
	/** Total PDU length in bytes. */
	uint32_t plen;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_common_hdr, 8);

/** ICReq, 128 bytes (hlen = plen = 128). */
struct nvt_nvme_tcp_ic_req {
	struct nvt_nvme_tcp_common_hdr ch;
	/** PDU format version, NVT_NVME_TCP_PFV_1_0. */
	uint16_t pfv;
	/** Host PDU data alignment, 0's based dwords: C2H data starts at a multiple. */
	uint8_t hpda;
	/** Digests requested, NVT_NVME_TCP_DGST_*. */
	uint8_t dgst;
	/** Maximum outstanding R2Ts per command, 0's based. */
	uint32_t maxr2t;
	uint8_t rsvd16[112];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_ic_req, 128);

/** ICResp, 128 bytes (hlen = plen = 128). */
struct nvt_nvme_tcp_ic_resp {
	struct nvt_nvme_tcp_common_hdr ch;
	uint16_t pfv;
	/** Controller PDU data alignment, 0's based dwords: H2C data starts at a multiple. */
	uint8_t cpda;
	/** Digests enabled, NVT_NVME_TCP_DGST_*. */
	uint8_t dgst;
	/** Maximum data bytes per H2CData PDU, at least NVT_NVME_TCP_MAXH2CDATA_MIN. */
	uint32_t maxh2cdata;
	uint8_t rsvd16[112];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_ic_resp, 128);

/**
 * H2CTermReq and C2HTermReq header, 24 bytes; up to NVT_NVME_TCP_TERM_REQ_MAX_DATA
 * bytes of the offending PDU header follow as data (pdo = 0, no digests).
 */
struct nvt_nvme_tcp_term_req {
	struct nvt_nvme_tcp_common_hdr ch;
	/** Fatal error status, enum nvt_nvme_tcp_fes. */
	uint16_t fes;
	/** Fatal error information, 32 bits at unaligned offset 10: use the accessors. */
	uint8_t fei[4];
	uint8_t rsvd14[10];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_term_req, 24);

/** Command capsule header, 72 bytes; in-capsule data may follow at pdo. */
struct nvt_nvme_tcp_capsule_cmd {
	struct nvt_nvme_tcp_common_hdr ch;
	union nvt_nvme_sqe sqe;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_capsule_cmd, 72);

/** Response capsule, 24 bytes. */
struct nvt_nvme_tcp_capsule_resp {
	struct nvt_nvme_tcp_common_hdr ch;
	struct nvt_nvme_cpl cqe;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_capsule_resp, 24);

/** H2CData header, 24 bytes; datal bytes of data follow at pdo. */
struct nvt_nvme_tcp_h2c_data {
	struct nvt_nvme_tcp_common_hdr ch;
	/** Command capsule CID the data belongs to. */
	uint16_t cccid;
	/** Transfer tag from the R2T being answered. */
	uint16_t ttag;
	/** Offset of this data within the command's data. */
	uint32_t datao;
	/** Length of this PDU's data. */
	uint32_t datal;
	uint8_t rsvd20[4];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_h2c_data, 24);

/** C2HData header, 24 bytes; same layout as H2CData, no transfer tag. */
struct nvt_nvme_tcp_c2h_data {
	struct nvt_nvme_tcp_common_hdr ch;
	uint16_t cccid;
	uint8_t rsvd10[2];
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd20[4];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_c2h_data, 24);

/** R2T, 24 bytes. */
struct nvt_nvme_tcp_r2t {
	struct nvt_nvme_tcp_common_hdr ch;
	uint16_t cccid;
	/** Transfer tag chosen by the controller, echoed in the H2CData PDUs. */
	uint16_t ttag;
	/** Offset of the requested data within the command's data. */
	uint32_t r2to;
	/** Length of the requested data. */
	uint32_t r2tl;
	uint8_t rsvd20[4];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_tcp_r2t, 24);

/** Any PDU header; sized for the largest (ICReq/ICResp). */
union nvt_nvme_tcp_pdu_hdr {
	struct nvt_nvme_tcp_common_hdr ch;
	struct nvt_nvme_tcp_ic_req ic_req;
	struct nvt_nvme_tcp_ic_resp ic_resp;
	struct nvt_nvme_tcp_term_req term_req;
	struct nvt_nvme_tcp_capsule_cmd capsule_cmd;
	struct nvt_nvme_tcp_capsule_resp capsule_resp;
	struct nvt_nvme_tcp_h2c_data h2c_data;
	struct nvt_nvme_tcp_c2h_data c2h_data;
	struct nvt_nvme_tcp_r2t r2t;
	uint8_t raw[NVT_NVME_TCP_MAX_HLEN];
};
NVT_NVME_SPEC_SIZE(union nvt_nvme_tcp_pdu_hdr, NVT_NVME_TCP_MAX_HLEN);

/**
 * The header length (hlen) a PDU of \p type must carry, or 0 for an unknown type.
 * A capsule command's hlen is always 72: in-capsule data is not part of the header.
 */
static inline uint8_t
nvt_nvme_tcp_pdu_hlen(uint8_t type)
{
	switch (type) {
	case NVT_NVME_TCP_PDU_IC_REQ:
	case NVT_NVME_TCP_PDU_IC_RESP:
		return 128;
	case NVT_NVME_TCP_PDU_H2C_TERM_REQ:
	case NVT_NVME_TCP_PDU_C2H_TERM_REQ:
	case NVT_NVME_TCP_PDU_CAPSULE_RESP:
	case NVT_NVME_TCP_PDU_H2C_DATA:
	case NVT_NVME_TCP_PDU_C2H_DATA:
	case NVT_NVME_TCP_PDU_R2T:
		return 24;
	case NVT_NVME_TCP_PDU_CAPSULE_CMD:
		return 72;
	default:
		return 0;
	}
}

/** True when PDUs of \p type may carry header and data digests (all but IC and Term). */
static inline bool
nvt_nvme_tcp_pdu_type_has_digests(uint8_t type)
{
	return type >= NVT_NVME_TCP_PDU_CAPSULE_CMD && type <= NVT_NVME_TCP_PDU_R2T && type != 0x08;
}

/** Header digest bytes present after the header of \p ch. */
static inline unsigned int
nvt_nvme_tcp_hdgst_len(const struct nvt_nvme_tcp_common_hdr *ch)
{
	return (ch->flags & NVT_NVME_TCP_F_HDGSTF) ? NVT_NVME_TCP_DIGEST_LEN : 0u;
}

/** Data digest bytes present after the data of \p ch. */
static inline unsigned int
nvt_nvme_tcp_ddgst_len(const struct nvt_nvme_tcp_common_hdr *ch)
{
	return (ch->flags & NVT_NVME_TCP_F_DDGSTF) ? NVT_NVME_TCP_DIGEST_LEN : 0u;
}

/** Data alignment in bytes for a HPDA or CPDA value (0's based dwords). */
static inline unsigned int
nvt_nvme_tcp_pda_bytes(uint8_t pda)
{
	return ((unsigned int)pda + 1u) * 4u;
}

/**
 * PDO for a PDU with data: the header, its digest if any, rounded up to the peer's
 * data alignment \p pda (0's based dwords).
 */
static inline uint8_t
nvt_nvme_tcp_pdo(uint8_t hlen, bool hdgst, uint8_t pda)
{
	unsigned int align = nvt_nvme_tcp_pda_bytes(pda);
	unsigned int off = (unsigned int)hlen + (hdgst ? NVT_NVME_TCP_DIGEST_LEN : 0u);

	return (uint8_t)((off + align - 1u) / align * align);
}

/** Data length of a PDU: plen minus pdo and the data digest (0 when pdo is 0). */
static inline uint32_t
nvt_nvme_tcp_data_len(const struct nvt_nvme_tcp_common_hdr *ch)
{
	if (ch->pdo == 0 || ch->plen < (uint32_t)ch->pdo + nvt_nvme_tcp_ddgst_len(ch)) {
		return 0;
	}
	return ch->plen - ch->pdo - nvt_nvme_tcp_ddgst_len(ch);
}

/** Fatal error information of a TermReq. */
static inline uint32_t
nvt_nvme_tcp_term_req_fei(const struct nvt_nvme_tcp_term_req *term)
{
	uint32_t fei;

	memcpy(&fei, term->fei, sizeof(fei));
	return fei;
}

/** Set the fatal error information of a TermReq. */
static inline void
nvt_nvme_tcp_term_req_set_fei(struct nvt_nvme_tcp_term_req *term, uint32_t fei)
{
	memcpy(term->fei, &fei, sizeof(fei));
}

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVME_TCP_H */
