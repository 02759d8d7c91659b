/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * NVM Express base and NVMe over Fabrics wire formats.
 *
 * Header-only definitions shared by the target and by host-side code: the 64-byte
 * submission queue entry, the 16-byte completion queue entry, status codes, opcodes,
 * controller properties, Identify data, log pages, features, asynchronous events,
 * the Fabrics command set and the discovery log page.
 *
 * Byte order: every multi-byte field on the wire is little-endian. nvtcp targets
 * x86_64 only, so the structures use native integers and are read and written in
 * place; a static assertion below stops a big-endian build. No structure is packed:
 * each field sits at its natural alignment, and a size assertion follows every
 * structure so a layout mistake fails the build. Fields whose spec offset is not
 * naturally aligned are byte arrays with accessors.
 *
 * Naming: spec field names in lower case (nsze, flbas, ioccsz). Reserved bytes are
 * named rsvd<offset>.
 */
#ifndef NVTCP_NVME_SPEC_H
#define NVTCP_NVME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
#define NVT_NVME_SPEC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NVT_NVME_SPEC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/** Assert the wire size of a structure or union (tag written with its keyword). */
#define NVT_NVME_SPEC_SIZE(type, size) NVT_NVME_SPEC_ASSERT(sizeof(type) == (size), #type " size")

NVT_NVME_SPEC_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
		     "nvtcp wire structures assume a little-endian host");

/*
 * General sizes and limits
 */

/** Size of a submission queue entry (SQE). */
#define NVT_NVME_SQE_SIZE 64
/** Size of a completion queue entry (CQE). */
#define NVT_NVME_CQE_SIZE 16
/** Size of every Identify data structure. */
#define NVT_NVME_IDENTIFY_DATA_SIZE 4096
/** NSID meaning "all namespaces" (or "no namespace" for some log pages). */
#define NVT_NVME_NSID_ALL 0xffffffffu
/** Most ranges one Dataset Management command may carry. */
#define NVT_NVME_DSM_MAX_RANGES 256
/** Entries in an Identify active namespace ID list (CNS 02h). */
#define NVT_NVME_NS_LIST_ENTRIES 1024

/** Version value as reported in VS and Identify Controller VER. */
#define NVT_NVME_VERSION(mjr, mnr, ter) \
	(((uint32_t)(mjr) << 16) | ((uint32_t)(mnr) << 8) | (uint32_t)(ter))
#define NVT_NVME_VS_1_3 NVT_NVME_VERSION(1, 3, 0)
#define NVT_NVME_VS_1_4 NVT_NVME_VERSION(1, 4, 0)
#define NVT_NVME_VS_2_0 NVT_NVME_VERSION(2, 0, 0)

/*
 * Controller properties (registers), reached over Fabrics with Property Get/Set
 */

/** Property offsets. */
enum nvt_nvme_prop {
	/** Controller Capabilities, 8 bytes. */
	NVT_NVME_PROP_CAP = 0x00,
	/** Version, 4 bytes. */
	NVT_NVME_PROP_VS = 0x08,
	/** Interrupt Mask Set (PCIe only). */
	NVT_NVME_PROP_INTMS = 0x0c,
	/** Interrupt Mask Clear (PCIe only). */
	NVT_NVME_PROP_INTMC = 0x10,
	/** Controller Configuration, 4 bytes. */
	NVT_NVME_PROP_CC = 0x14,
	/** Controller Status, 4 bytes. */
	NVT_NVME_PROP_CSTS = 0x1c,
	/** NVM Subsystem Reset, 4 bytes. */
	NVT_NVME_PROP_NSSR = 0x20,
	/** Admin Queue Attributes (PCIe only). */
	NVT_NVME_PROP_AQA = 0x24,
	/** Admin SQ Base Address (PCIe only). */
	NVT_NVME_PROP_ASQ = 0x28,
	/** Admin CQ Base Address (PCIe only). */
	NVT_NVME_PROP_ACQ = 0x30,
};

/** Value written to NSSR to request an NVM subsystem reset ("NVMe"). */
#define NVT_NVME_NSSR_VALUE 0x4e564d65u

/* CAP: Controller Capabilities (64 bits) */
#define NVT_NVME_CAP_MQES_SHIFT	  0 /* max queue entries, 0's based, 16 bits */
#define NVT_NVME_CAP_MQES_MASK	  0xffffull
#define NVT_NVME_CAP_CQR	  (1ull << 16) /* contiguous queues required */
#define NVT_NVME_CAP_AMS_SHIFT	  17	       /* arbitration mechanisms supported, 2 bits */
#define NVT_NVME_CAP_AMS_MASK	  0x3ull
#define NVT_NVME_CAP_TO_SHIFT	  24 /* ready timeout, 500 ms units, 8 bits */
#define NVT_NVME_CAP_TO_MASK	  0xffull
#define NVT_NVME_CAP_DSTRD_SHIFT  32 /* doorbell stride, 4 bits */
#define NVT_NVME_CAP_DSTRD_MASK	  0xfull
#define NVT_NVME_CAP_NSSRS	  (1ull << 36) /* NVM subsystem reset supported */
#define NVT_NVME_CAP_CSS_SHIFT	  37	       /* command sets supported, 8 bits */
#define NVT_NVME_CAP_CSS_MASK	  0xffull
#define NVT_NVME_CAP_BPS	  (1ull << 45) /* boot partitions */
#define NVT_NVME_CAP_CPS_SHIFT	  46	       /* controller power scope, 2 bits */
#define NVT_NVME_CAP_CPS_MASK	  0x3ull
#define NVT_NVME_CAP_MPSMIN_SHIFT 48 /* min page size 2^(12+n), 4 bits */
#define NVT_NVME_CAP_MPSMIN_MASK  0xfull
#define NVT_NVME_CAP_MPSMAX_SHIFT 52 /* max page size 2^(12+n), 4 bits */
#define NVT_NVME_CAP_MPSMAX_MASK  0xfull
#define NVT_NVME_CAP_PMRS	  (1ull << 56)
#define NVT_NVME_CAP_CMBS	  (1ull << 57)
#define NVT_NVME_CAP_NSSS	  (1ull << 58)
#define NVT_NVME_CAP_CRMS_SHIFT	  59 /* controller ready modes, 2 bits */
#define NVT_NVME_CAP_CRMS_MASK	  0x3ull

/* CAP.CSS bits (each relative to NVT_NVME_CAP_CSS_SHIFT) */
#define NVT_NVME_CAP_CSS_NVM   (1u << 0) /* NVM command set */
#define NVT_NVME_CAP_CSS_IOCSS (1u << 6) /* one or more I/O command sets */
#define NVT_NVME_CAP_CSS_NOIOC (1u << 7) /* no I/O command set (e.g. discovery) */

/** Extract a CAP field: nvt_nvme_cap_get(cap, NVT_NVME_CAP_TO_SHIFT, NVT_NVME_CAP_TO_MASK). */
static inline uint64_t
nvt_nvme_cap_get(uint64_t cap, unsigned int shift, uint64_t mask)
{
	return (cap >> shift) & mask;
}

/** Return \p cap with one field replaced by \p val (truncated to \p mask). */
static inline uint64_t
nvt_nvme_cap_set(uint64_t cap, unsigned int shift, uint64_t mask, uint64_t val)
{
	return (cap & ~(mask << shift)) | ((val & mask) << shift);
}

/* CC: Controller Configuration (32 bits) */
#define NVT_NVME_CC_EN		 (1u << 0) /* enable */
#define NVT_NVME_CC_CSS_SHIFT	 4	   /* I/O command set selected, 3 bits */
#define NVT_NVME_CC_CSS_MASK	 0x7u
#define NVT_NVME_CC_MPS_SHIFT	 7 /* memory page size 2^(12+n), 4 bits */
#define NVT_NVME_CC_MPS_MASK	 0xfu
#define NVT_NVME_CC_AMS_SHIFT	 11 /* arbitration mechanism, 3 bits */
#define NVT_NVME_CC_AMS_MASK	 0x7u
#define NVT_NVME_CC_SHN_SHIFT	 14 /* shutdown notification, 2 bits */
#define NVT_NVME_CC_SHN_MASK	 0x3u
#define NVT_NVME_CC_IOSQES_SHIFT 16 /* I/O SQ entry size 2^n, 4 bits */
#define NVT_NVME_CC_IOSQES_MASK	 0xfu
#define NVT_NVME_CC_IOCQES_SHIFT 20 /* I/O CQ entry size 2^n, 4 bits */
#define NVT_NVME_CC_IOCQES_MASK	 0xfu
#define NVT_NVME_CC_CRIME	 (1u << 24) /* controller ready independent of media */

/** CC.CSS values. */
enum nvt_nvme_cc_css {
	NVT_NVME_CC_CSS_NVM = 0x0,
	NVT_NVME_CC_CSS_IOCS = 0x6,
	NVT_NVME_CC_CSS_ADMIN_ONLY = 0x7,
};

/** CC.SHN values. */
enum nvt_nvme_shn {
	NVT_NVME_SHN_NONE = 0x0,
	NVT_NVME_SHN_NORMAL = 0x1,
	NVT_NVME_SHN_ABRUPT = 0x2,
};

/* CSTS: Controller Status (32 bits) */
#define NVT_NVME_CSTS_RDY	 (1u << 0) /* ready */
#define NVT_NVME_CSTS_CFS	 (1u << 1) /* controller fatal status */
#define NVT_NVME_CSTS_SHST_SHIFT 2	   /* shutdown status, 2 bits */
#define NVT_NVME_CSTS_SHST_MASK	 0x3u
#define NVT_NVME_CSTS_NSSRO	 (1u << 4) /* NVM subsystem reset occurred */
#define NVT_NVME_CSTS_PP	 (1u << 5) /* processing paused */
#define NVT_NVME_CSTS_ST	 (1u << 6) /* shutdown type */

/** CSTS.SHST values. */
enum nvt_nvme_shst {
	NVT_NVME_SHST_NORMAL = 0x0,
	NVT_NVME_SHST_OCCURRING = 0x1,
	NVT_NVME_SHST_COMPLETE = 0x2,
};

/** Extract a CC or CSTS field. */
static inline uint32_t
nvt_nvme_reg32_get(uint32_t reg, unsigned int shift, uint32_t mask)
{
	return (reg >> shift) & mask;
}

/** Return \p reg with one CC or CSTS field replaced by \p val (truncated to \p mask). */
static inline uint32_t
nvt_nvme_reg32_set(uint32_t reg, unsigned int shift, uint32_t mask, uint32_t val)
{
	return (reg & ~(mask << shift)) | ((val & mask) << shift);
}

/*
 * SGL descriptors (16 bytes, byte 15 is the identifier: type << 4 | subtype)
 */

/** SGL descriptor types (identifier bits 7:4). */
enum nvt_nvme_sgl_type {
	NVT_NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	NVT_NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	NVT_NVME_SGL_TYPE_SEGMENT = 0x2,
	NVT_NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
	NVT_NVME_SGL_TYPE_KEYED_DATA_BLOCK = 0x4,
	NVT_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5,
	NVT_NVME_SGL_TYPE_VENDOR_SPECIFIC = 0xf,
};

/** SGL descriptor subtypes (identifier bits 3:0). */
enum nvt_nvme_sgl_subtype {
	/** Address field is an absolute address. */
	NVT_NVME_SGL_SUBTYPE_ADDRESS = 0x0,
	/** Address field is an offset into in-capsule data. */
	NVT_NVME_SGL_SUBTYPE_OFFSET = 0x1,
	/** Transport specific; NVMe/TCP uses it with the transport data block type. */
	NVT_NVME_SGL_SUBTYPE_TRANSPORT = 0xa,
	/** RDMA: invalidate the key. */
	NVT_NVME_SGL_SUBTYPE_INVALIDATE_KEY = 0xf,
};

/** Data block, bit bucket, segment and transport data block descriptor. */
struct nvt_nvme_sgl_unkeyed {
	/** Address or offset (see subtype); reserved for transport data blocks on TCP. */
	uint64_t addr;
	/** Length in bytes. */
	uint32_t length;
	uint8_t rsvd12[3];
	/** Identifier: type << 4 | subtype. */
	uint8_t id;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_sgl_unkeyed, 16);

/** Keyed data block descriptor (RDMA): 3-byte length and 4-byte key are unaligned. */
struct nvt_nvme_sgl_keyed {
	uint64_t addr;
	/** Length, 24 bits little-endian. */
	uint8_t length[3];
	/** Key, 32 bits little-endian. */
	uint8_t key[4];
	uint8_t id;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_sgl_keyed, 16);

/** Any SGL descriptor. Read the identifier (same byte in every view) to pick the view. */
union nvt_nvme_sgl_desc {
	struct nvt_nvme_sgl_unkeyed unkeyed;
	struct nvt_nvme_sgl_keyed keyed;
	uint8_t raw[16];
};
NVT_NVME_SPEC_SIZE(union nvt_nvme_sgl_desc, 16);

/** Identifier byte for \p type and \p subtype. */
static inline uint8_t
nvt_nvme_sgl_id(enum nvt_nvme_sgl_type type, enum nvt_nvme_sgl_subtype subtype)
{
	return (uint8_t)((((unsigned int)type & 0xfu) << 4) | ((unsigned int)subtype & 0xfu));
}

/** Descriptor type (enum nvt_nvme_sgl_type) of \p sgl. */
static inline uint8_t
nvt_nvme_sgl_get_type(const union nvt_nvme_sgl_desc *sgl)
{
	return (uint8_t)(sgl->raw[15] >> 4);
}

/** Descriptor subtype (enum nvt_nvme_sgl_subtype) of \p sgl. */
static inline uint8_t
nvt_nvme_sgl_get_subtype(const union nvt_nvme_sgl_desc *sgl)
{
	return (uint8_t)(sgl->raw[15] & 0xfu);
}

/** Length of a keyed data block descriptor (24 bits). */
static inline uint32_t
nvt_nvme_sgl_keyed_length(const union nvt_nvme_sgl_desc *sgl)
{
	const uint8_t *l = sgl->keyed.length;

	return (uint32_t)l[0] | ((uint32_t)l[1] << 8) | ((uint32_t)l[2] << 16);
}

/** Key of a keyed data block descriptor. */
static inline uint32_t
nvt_nvme_sgl_keyed_key(const union nvt_nvme_sgl_desc *sgl)
{
	uint32_t key;

	memcpy(&key, sgl->keyed.key, sizeof(key));
	return key;
}

/** Fill \p sgl as an unkeyed descriptor. */
static inline void
nvt_nvme_sgl_set_unkeyed(union nvt_nvme_sgl_desc *sgl, enum nvt_nvme_sgl_type type,
			 enum nvt_nvme_sgl_subtype subtype, uint64_t addr, uint32_t length)
{
	memset(sgl, 0, sizeof(*sgl));
	sgl->unkeyed.addr = addr;
	sgl->unkeyed.length = length;
	sgl->unkeyed.id = nvt_nvme_sgl_id(type, subtype);
}

/*
 * Submission queue entry (64 bytes)
 */

/* Command dword 0 flags byte: FUSE bits 1:0, PSDT bits 7:6 */
#define NVT_NVME_CMD_FUSE_MASK	 0x03u
#define NVT_NVME_CMD_FUSE_FIRST	 0x01u
#define NVT_NVME_CMD_FUSE_SECOND 0x02u
#define NVT_NVME_CMD_PSDT_SHIFT	 6
#define NVT_NVME_CMD_PSDT_MASK	 0x3u

/** PRP or SGL data transfer (flags bits 7:6). Fabrics commands always use SGLs. */
enum nvt_nvme_psdt {
	NVT_NVME_PSDT_PRP = 0x0,
	/** SGL for data; MPTR is the address of one contiguous metadata buffer. */
	NVT_NVME_PSDT_SGL_MPTR_CONTIG = 0x1,
	/** SGL for data; MPTR is the address of an SGL segment with one descriptor. */
	NVT_NVME_PSDT_SGL_MPTR_SGL = 0x2,
};

/** PRP entries (PCIe); carried here only for completeness of the union. */
struct nvt_nvme_prp_pair {
	uint64_t prp1;
	uint64_t prp2;
};

/** Data pointer, SQE bytes 39:24. */
union nvt_nvme_dptr {
	struct nvt_nvme_prp_pair prp;
	/** SGL descriptor 1; the only form a Fabrics transport accepts. */
	union nvt_nvme_sgl_desc sgl1;
};
NVT_NVME_SPEC_SIZE(union nvt_nvme_dptr, 16);

/** Generic submission queue entry (admin and I/O commands). */
struct nvt_nvme_cmd {
	/** Opcode. */
	uint8_t opc;
	/** FUSE (bits 1:0) and PSDT (bits 7:6). */
	uint8_t flags;
	/** Command identifier, echoed verbatim in the completion. */
	uint16_t cid;
	/** Namespace ID. */
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	/** Metadata pointer. */
	uint64_t mptr;
	union nvt_nvme_dptr dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_cmd, NVT_NVME_SQE_SIZE);

/** FUSE field of \p cmd. */
static inline uint8_t
nvt_nvme_cmd_fuse(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->flags & NVT_NVME_CMD_FUSE_MASK);
}

/** PSDT field of \p cmd (enum nvt_nvme_psdt). */
static inline uint8_t
nvt_nvme_cmd_psdt(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)((cmd->flags >> NVT_NVME_CMD_PSDT_SHIFT) & NVT_NVME_CMD_PSDT_MASK);
}

/**
 * Command dword \p n (0 to 15) of \p cmd, read from the raw entry.
 * Handy for logging and for tables indexed by dword.
 */
static inline uint32_t
nvt_nvme_cmd_cdw(const struct nvt_nvme_cmd *cmd, unsigned int n)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)cmd + 4 * (n & 15u), sizeof(v));
	return v;
}

/*
 * Completion queue entry (16 bytes)
 */

/** Completion queue entry. */
struct nvt_nvme_cpl {
	/** Command specific result (dword 0). */
	uint32_t cdw0;
	/** Command specific (dword 1); high half of a 64-bit Property Get value. */
	uint32_t cdw1;
	/** SQ head pointer. */
	uint16_t sqhd;
	/** SQ identifier. */
	uint16_t sqid;
	/** Command identifier of the completed command. */
	uint16_t cid;
	/** Phase tag (bit 0) and status field (bits 15:1), see NVT_NVME_STATUS_*. */
	uint16_t status;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_cpl, NVT_NVME_CQE_SIZE);

/* Status word layout (CQE bytes 15:14, phase tag included) */
#define NVT_NVME_STATUS_P	  (1u << 0) /* phase tag (PCIe; zero on fabrics) */
#define NVT_NVME_STATUS_SC_SHIFT  1	    /* status code, 8 bits */
#define NVT_NVME_STATUS_SC_MASK	  0xffu
#define NVT_NVME_STATUS_SCT_SHIFT 9 /* status code type, 3 bits */
#define NVT_NVME_STATUS_SCT_MASK  0x7u
#define NVT_NVME_STATUS_CRD_SHIFT 12 /* command retry delay, 2 bits */
#define NVT_NVME_STATUS_CRD_MASK  0x3u
#define NVT_NVME_STATUS_M	  (1u << 14) /* more information in the error log */
#define NVT_NVME_STATUS_DNR	  (1u << 15) /* do not retry */

/** Status code types. */
enum nvt_nvme_sct {
	NVT_NVME_SCT_GENERIC = 0x0,
	NVT_NVME_SCT_COMMAND_SPECIFIC = 0x1,
	NVT_NVME_SCT_MEDIA_ERROR = 0x2,
	NVT_NVME_SCT_PATH = 0x3,
	NVT_NVME_SCT_VENDOR_SPECIFIC = 0x7,
};

/**
 * An NVMe status as the target produces it, kept apart from -errno values.
 * nvt_nvme_status_encode() turns it into the CQE status word.
 */
struct nvt_nvme_status {
	/** Status code type, enum nvt_nvme_sct. */
	uint8_t sct;
	/** Status code; its meaning depends on sct. */
	uint8_t sc;
	/** Do not retry. */
	bool dnr;
};

/** CQE status word (phase 0, CRD 0, M 0) for \p sct, \p sc and \p dnr. */
static inline uint16_t
nvt_nvme_status_make(unsigned int sct, unsigned int sc, bool dnr)
{
	return (uint16_t)(((sc & NVT_NVME_STATUS_SC_MASK) << NVT_NVME_STATUS_SC_SHIFT) |
			  ((sct & NVT_NVME_STATUS_SCT_MASK) << NVT_NVME_STATUS_SCT_SHIFT) |
			  (dnr ? NVT_NVME_STATUS_DNR : 0u));
}

/** CQE status word for \p st. */
static inline uint16_t
nvt_nvme_status_encode(const struct nvt_nvme_status *st)
{
	return nvt_nvme_status_make(st->sct, st->sc, st->dnr);
}

/** Decode a CQE status word. */
static inline struct nvt_nvme_status
nvt_nvme_status_decode(uint16_t status)
{
	struct nvt_nvme_status st;

	st.sct = (uint8_t)((status >> NVT_NVME_STATUS_SCT_SHIFT) & NVT_NVME_STATUS_SCT_MASK);
	st.sc = (uint8_t)((status >> NVT_NVME_STATUS_SC_SHIFT) & NVT_NVME_STATUS_SC_MASK);
	st.dnr = (status & NVT_NVME_STATUS_DNR) != 0;
	return st;
}

/** Status code of a CQE status word. */
static inline uint8_t
nvt_nvme_status_sc(uint16_t status)
{
	return (uint8_t)((status >> NVT_NVME_STATUS_SC_SHIFT) & NVT_NVME_STATUS_SC_MASK);
}

/** Status code type of a CQE status word. */
static inline uint8_t
nvt_nvme_status_sct(uint16_t status)
{
	return (uint8_t)((status >> NVT_NVME_STATUS_SCT_SHIFT) & NVT_NVME_STATUS_SCT_MASK);
}

/** Command retry delay index (0 to 3, into Identify CRDT1..3) of a status word. */
static inline uint8_t
nvt_nvme_status_crd(uint16_t status)
{
	return (uint8_t)((status >> NVT_NVME_STATUS_CRD_SHIFT) & NVT_NVME_STATUS_CRD_MASK);
}

/** True when the Do Not Retry bit is set. */
static inline bool
nvt_nvme_status_dnr(uint16_t status)
{
	return (status & NVT_NVME_STATUS_DNR) != 0;
}

/** True when the More bit is set. */
static inline bool
nvt_nvme_status_more(uint16_t status)
{
	return (status & NVT_NVME_STATUS_M) != 0;
}

/** Phase tag of a status word. */
static inline bool
nvt_nvme_status_phase(uint16_t status)
{
	return (status & NVT_NVME_STATUS_P) != 0;
}

/** True when the completion reports anything but generic success. */
static inline bool
nvt_nvme_cpl_is_error(const struct nvt_nvme_cpl *cpl)
{
	return (cpl->status & (uint16_t)~NVT_NVME_STATUS_P) != 0;
}

/** Generic command status codes (SCT 0). */
enum nvt_nvme_generic_sc {
	NVT_NVME_SC_SUCCESS = 0x00,
	NVT_NVME_SC_INVALID_OPCODE = 0x01,
	NVT_NVME_SC_INVALID_FIELD = 0x02,
	NVT_NVME_SC_CID_CONFLICT = 0x03,
	NVT_NVME_SC_DATA_TRANSFER_ERROR = 0x04,
	NVT_NVME_SC_ABORTED_POWER_LOSS = 0x05,
	NVT_NVME_SC_INTERNAL_ERROR = 0x06,
	NVT_NVME_SC_ABORTED_BY_REQUEST = 0x07,
	NVT_NVME_SC_ABORTED_SQ_DELETION = 0x08,
	NVT_NVME_SC_ABORTED_FAILED_FUSED = 0x09,
	NVT_NVME_SC_ABORTED_MISSING_FUSED = 0x0a,
	NVT_NVME_SC_INVALID_NAMESPACE = 0x0b,
	NVT_NVME_SC_COMMAND_SEQUENCE_ERROR = 0x0c,
	NVT_NVME_SC_INVALID_SGL_SEG_DESCRIPTOR = 0x0d,
	NVT_NVME_SC_INVALID_NUM_SGL_DESCRIPTORS = 0x0e,
	NVT_NVME_SC_DATA_SGL_LENGTH_INVALID = 0x0f,
	NVT_NVME_SC_METADATA_SGL_LENGTH_INVALID = 0x10,
	NVT_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID = 0x11,
	NVT_NVME_SC_INVALID_CMB_USE = 0x12,
	NVT_NVME_SC_INVALID_PRP_OFFSET = 0x13,
	NVT_NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED = 0x14,
	NVT_NVME_SC_OPERATION_DENIED = 0x15,
	NVT_NVME_SC_INVALID_SGL_OFFSET = 0x16,
	NVT_NVME_SC_HOSTID_INCONSISTENT_FORMAT = 0x18,
	NVT_NVME_SC_KEEP_ALIVE_EXPIRED = 0x19,
	NVT_NVME_SC_KEEP_ALIVE_INVALID = 0x1a,
	NVT_NVME_SC_ABORTED_PREEMPT = 0x1b,
	NVT_NVME_SC_SANITIZE_FAILED = 0x1c,
	NVT_NVME_SC_SANITIZE_IN_PROGRESS = 0x1d,
	NVT_NVME_SC_SGL_DATA_BLOCK_GRANULARITY_INVALID = 0x1e,
	NVT_NVME_SC_COMMAND_INVALID_IN_CMB = 0x1f,
	NVT_NVME_SC_NAMESPACE_WRITE_PROTECTED = 0x20,
	NVT_NVME_SC_COMMAND_INTERRUPTED = 0x21,
	NVT_NVME_SC_TRANSIENT_TRANSPORT_ERROR = 0x22,
	NVT_NVME_SC_ADMIN_COMMAND_MEDIA_NOT_READY = 0x24,
	NVT_NVME_SC_INVALID_IO_COMMAND_SET = 0x2c,

	/* NVM command set, still SCT 0 */
	NVT_NVME_SC_LBA_OUT_OF_RANGE = 0x80,
	NVT_NVME_SC_CAPACITY_EXCEEDED = 0x81,
	NVT_NVME_SC_NAMESPACE_NOT_READY = 0x82,
	NVT_NVME_SC_RESERVATION_CONFLICT = 0x83,
	NVT_NVME_SC_FORMAT_IN_PROGRESS = 0x84,
};

/** Command specific status codes (SCT 1), admin and NVM commands. */
enum nvt_nvme_cmd_specific_sc {
	NVT_NVME_SC_COMPLETION_QUEUE_INVALID = 0x00,
	NVT_NVME_SC_INVALID_QUEUE_IDENTIFIER = 0x01,
	NVT_NVME_SC_INVALID_QUEUE_SIZE = 0x02,
	NVT_NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED = 0x03,
	NVT_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = 0x05,
	NVT_NVME_SC_INVALID_FIRMWARE_SLOT = 0x06,
	NVT_NVME_SC_INVALID_FIRMWARE_IMAGE = 0x07,
	NVT_NVME_SC_INVALID_INTERRUPT_VECTOR = 0x08,
	NVT_NVME_SC_INVALID_LOG_PAGE = 0x09,
	NVT_NVME_SC_INVALID_FORMAT = 0x0a,
	NVT_NVME_SC_INVALID_QUEUE_DELETION = 0x0c,
	NVT_NVME_SC_FEATURE_ID_NOT_SAVEABLE = 0x0d,
	NVT_NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	NVT_NVME_SC_FEATURE_NOT_NAMESPACE_SPECIFIC = 0x0f,
	NVT_NVME_SC_NAMESPACE_ID_UNAVAILABLE = 0x16,
	NVT_NVME_SC_NAMESPACE_ALREADY_ATTACHED = 0x18,
	NVT_NVME_SC_NAMESPACE_NOT_ATTACHED = 0x1a,
	NVT_NVME_SC_INVALID_CONTROLLER_ID = 0x1f,
	NVT_NVME_SC_ANA_GROUP_ID_INVALID = 0x24,

	/* NVM command set specific */
	NVT_NVME_SC_CONFLICTING_ATTRIBUTES = 0x80,
	NVT_NVME_SC_INVALID_PROTECTION_INFO = 0x81,
	NVT_NVME_SC_WRITE_TO_READ_ONLY_RANGE = 0x82,
	NVT_NVME_SC_COMMAND_SIZE_LIMIT_EXCEEDED = 0x83,
};

/** Fabrics command specific status codes (SCT 1, Fabrics commands only). */
enum nvt_nvmf_sc {
	NVT_NVMF_SC_INCOMPATIBLE_FORMAT = 0x80,
	NVT_NVMF_SC_CONTROLLER_BUSY = 0x81,
	NVT_NVMF_SC_CONNECT_INVALID_PARAMETERS = 0x82,
	NVT_NVMF_SC_CONNECT_RESTART_DISCOVERY = 0x83,
	NVT_NVMF_SC_CONNECT_INVALID_HOST = 0x84,
	NVT_NVMF_SC_INVALID_QUEUE_TYPE = 0x85,
	NVT_NVMF_SC_DISCOVER_RESTART = 0x90,
	NVT_NVMF_SC_AUTH_REQUIRED = 0x91,
};

/** Media and data integrity errors (SCT 2). */
enum nvt_nvme_media_sc {
	NVT_NVME_SC_WRITE_FAULT = 0x80,
	NVT_NVME_SC_UNRECOVERED_READ_ERROR = 0x81,
	NVT_NVME_SC_GUARD_CHECK_ERROR = 0x82,
	NVT_NVME_SC_APPLICATION_TAG_CHECK_ERROR = 0x83,
	NVT_NVME_SC_REFERENCE_TAG_CHECK_ERROR = 0x84,
	NVT_NVME_SC_COMPARE_FAILURE = 0x85,
	NVT_NVME_SC_ACCESS_DENIED = 0x86,
	NVT_NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK = 0x87,
};

/** Path related status (SCT 3). */
enum nvt_nvme_path_sc {
	NVT_NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	NVT_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS = 0x01,
	NVT_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE = 0x02,
	NVT_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION = 0x03,
	NVT_NVME_SC_CONTROLLER_PATH_ERROR = 0x60,
	NVT_NVME_SC_HOST_PATH_ERROR = 0x70,
	NVT_NVME_SC_ABORTED_BY_HOST = 0x71,
};

/*
 * Opcodes
 */

/** Admin command opcodes. */
enum nvt_nvme_admin_opc {
	NVT_NVME_OPC_DELETE_IO_SQ = 0x00,
	NVT_NVME_OPC_CREATE_IO_SQ = 0x01,
	NVT_NVME_OPC_GET_LOG_PAGE = 0x02,
	NVT_NVME_OPC_DELETE_IO_CQ = 0x04,
	NVT_NVME_OPC_CREATE_IO_CQ = 0x05,
	NVT_NVME_OPC_IDENTIFY = 0x06,
	NVT_NVME_OPC_ABORT = 0x08,
	NVT_NVME_OPC_SET_FEATURES = 0x09,
	NVT_NVME_OPC_GET_FEATURES = 0x0a,
	NVT_NVME_OPC_ASYNC_EVENT_REQUEST = 0x0c,
	NVT_NVME_OPC_NS_MANAGEMENT = 0x0d,
	NVT_NVME_OPC_FIRMWARE_COMMIT = 0x10,
	NVT_NVME_OPC_FIRMWARE_IMAGE_DOWNLOAD = 0x11,
	NVT_NVME_OPC_DEVICE_SELF_TEST = 0x14,
	NVT_NVME_OPC_NS_ATTACHMENT = 0x15,
	NVT_NVME_OPC_KEEP_ALIVE = 0x18,
	NVT_NVME_OPC_DIRECTIVE_SEND = 0x19,
	NVT_NVME_OPC_DIRECTIVE_RECEIVE = 0x1a,
	NVT_NVME_OPC_VIRTUALIZATION_MANAGEMENT = 0x1c,
	NVT_NVME_OPC_NVME_MI_SEND = 0x1d,
	NVT_NVME_OPC_NVME_MI_RECEIVE = 0x1e,
	NVT_NVME_OPC_DOORBELL_BUFFER_CONFIG = 0x7c,
	/** Fabrics commands; the command type is in byte 4 (fctype). */
	NVT_NVME_OPC_FABRICS = 0x7f,
	NVT_NVME_OPC_FORMAT_NVM = 0x80,
	NVT_NVME_OPC_SECURITY_SEND = 0x81,
	NVT_NVME_OPC_SECURITY_RECEIVE = 0x82,
	NVT_NVME_OPC_SANITIZE = 0x84,
	NVT_NVME_OPC_GET_LBA_STATUS = 0x86,
};

/** NVM command set I/O opcodes. */
enum nvt_nvme_nvm_opc {
	NVT_NVME_OPC_FLUSH = 0x00,
	NVT_NVME_OPC_WRITE = 0x01,
	NVT_NVME_OPC_READ = 0x02,
	NVT_NVME_OPC_WRITE_UNCORRECTABLE = 0x04,
	NVT_NVME_OPC_COMPARE = 0x05,
	NVT_NVME_OPC_WRITE_ZEROES = 0x08,
	NVT_NVME_OPC_DATASET_MANAGEMENT = 0x09,
	NVT_NVME_OPC_VERIFY = 0x0c,
	NVT_NVME_OPC_RESERVATION_REGISTER = 0x0d,
	NVT_NVME_OPC_RESERVATION_REPORT = 0x0e,
	NVT_NVME_OPC_RESERVATION_ACQUIRE = 0x11,
	NVT_NVME_OPC_RESERVATION_RELEASE = 0x15,
	NVT_NVME_OPC_COPY = 0x19,
};

/**
 * Data transfer direction encoded in opcode bits 1:0 (and in the Fabrics command
 * type): 01b host to controller, 10b controller to host, 11b bidirectional.
 */
enum nvt_nvme_data_xfer {
	NVT_NVME_DATA_NONE = 0x0,
	NVT_NVME_DATA_HOST_TO_CONTROLLER = 0x1,
	NVT_NVME_DATA_CONTROLLER_TO_HOST = 0x2,
	NVT_NVME_DATA_BIDIRECTIONAL = 0x3,
};

/** Transfer direction of an opcode or Fabrics command type. */
static inline enum nvt_nvme_data_xfer
nvt_nvme_opc_data_xfer(uint8_t opc)
{
	return (enum nvt_nvme_data_xfer)(opc & 0x3u);
}

/*
 * Admin command fields
 */

/** Identify CNS values (CDW10 bits 7:0). */
enum nvt_nvme_cns {
	/** Identify Namespace for the NSID. */
	NVT_NVME_CNS_NS = 0x00,
	/** Identify Controller. */
	NVT_NVME_CNS_CTRL = 0x01,
	/** Active namespace ID list, NSIDs greater than the given NSID. */
	NVT_NVME_CNS_ACTIVE_NS_LIST = 0x02,
	/** Namespace identification descriptor list. */
	NVT_NVME_CNS_NS_ID_DESC_LIST = 0x03,
	/** NVM Set list. */
	NVT_NVME_CNS_NVM_SET_LIST = 0x04,
	/** I/O command set specific Identify Namespace (CSI in CDW11). */
	NVT_NVME_CNS_IOCS_NS = 0x05,
	/** I/O command set specific Identify Controller (CSI in CDW11). */
	NVT_NVME_CNS_IOCS_CTRL = 0x06,
	/** Active namespace ID list for one I/O command set. */
	NVT_NVME_CNS_IOCS_ACTIVE_NS_LIST = 0x07,
	/** I/O command set independent Identify Namespace. */
	NVT_NVME_CNS_CS_INDEP_NS = 0x08,
	NVT_NVME_CNS_ALLOCATED_NS_LIST = 0x10,
	NVT_NVME_CNS_ALLOCATED_NS = 0x11,
	NVT_NVME_CNS_NS_ATTACHED_CTRL_LIST = 0x12,
	NVT_NVME_CNS_CTRL_LIST = 0x13,
	NVT_NVME_CNS_UUID_LIST = 0x17,
	/** I/O command set data structure (supported command set combinations). */
	NVT_NVME_CNS_IOCS = 0x1c,
};

/** Command set identifiers (Identify CDW11 bits 31:24, CNS 05h/06h and NIDT 04h). */
enum nvt_nvme_csi {
	NVT_NVME_CSI_NVM = 0x00,
	NVT_NVME_CSI_KV = 0x01,
	NVT_NVME_CSI_ZNS = 0x02,
};

/** Identify: CNS (CDW10 bits 7:0). */
static inline uint8_t
nvt_nvme_identify_cns(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->cdw10 & 0xffu);
}

/** Identify: controller identifier (CDW10 bits 31:16). */
static inline uint16_t
nvt_nvme_identify_cntid(const struct nvt_nvme_cmd *cmd)
{
	return (uint16_t)(cmd->cdw10 >> 16);
}

/** Identify: command set identifier (CDW11 bits 31:24). */
static inline uint8_t
nvt_nvme_identify_csi(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->cdw11 >> 24);
}

/** Get Log Page: log page identifier (CDW10 bits 7:0). */
static inline uint8_t
nvt_nvme_get_log_lid(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->cdw10 & 0xffu);
}

/** Get Log Page: log specific parameter (CDW10 bits 14:8). */
static inline uint8_t
nvt_nvme_get_log_lsp(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)((cmd->cdw10 >> 8) & 0x7fu);
}

/** Get Log Page: retain asynchronous event (CDW10 bit 15). */
static inline bool
nvt_nvme_get_log_rae(const struct nvt_nvme_cmd *cmd)
{
	return (cmd->cdw10 & (1u << 15)) != 0;
}

/** Get Log Page: transfer length in bytes, from NUMDL/NUMDU (0's based dwords). */
static inline uint64_t
nvt_nvme_get_log_len(const struct nvt_nvme_cmd *cmd)
{
	uint64_t numd = (uint64_t)(cmd->cdw10 >> 16) | ((uint64_t)(cmd->cdw11 & 0xffffu) << 16);

	return (numd + 1) * 4;
}

/** Get Log Page: log specific identifier (CDW11 bits 31:16). */
static inline uint16_t
nvt_nvme_get_log_lsi(const struct nvt_nvme_cmd *cmd)
{
	return (uint16_t)(cmd->cdw11 >> 16);
}

/** Get Log Page: byte offset into the log page (CDW12/CDW13). */
static inline uint64_t
nvt_nvme_get_log_offset(const struct nvt_nvme_cmd *cmd)
{
	return (uint64_t)cmd->cdw12 | ((uint64_t)cmd->cdw13 << 32);
}

/** Get/Set Features: feature identifier (CDW10 bits 7:0). */
static inline uint8_t
nvt_nvme_feat_fid(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->cdw10 & 0xffu);
}

/** Get Features: select (CDW10 bits 10:8), enum nvt_nvme_feat_select. */
static inline uint8_t
nvt_nvme_feat_sel(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)((cmd->cdw10 >> 8) & 0x7u);
}

/** Set Features: save (CDW10 bit 31). */
static inline bool
nvt_nvme_feat_sv(const struct nvt_nvme_cmd *cmd)
{
	return (cmd->cdw10 & (1u << 31)) != 0;
}

/** Abort: submission queue identifier (CDW10 bits 15:0). */
static inline uint16_t
nvt_nvme_abort_sqid(const struct nvt_nvme_cmd *cmd)
{
	return (uint16_t)(cmd->cdw10 & 0xffffu);
}

/** Abort: command identifier to abort (CDW10 bits 31:16). */
static inline uint16_t
nvt_nvme_abort_cid(const struct nvt_nvme_cmd *cmd)
{
	return (uint16_t)(cmd->cdw10 >> 16);
}

/*
 * Features
 */

/** Feature identifiers. */
enum nvt_nvme_feat {
	NVT_NVME_FEAT_ARBITRATION = 0x01,
	NVT_NVME_FEAT_POWER_MANAGEMENT = 0x02,
	NVT_NVME_FEAT_LBA_RANGE_TYPE = 0x03,
	NVT_NVME_FEAT_TEMPERATURE_THRESHOLD = 0x04,
	NVT_NVME_FEAT_ERROR_RECOVERY = 0x05,
	NVT_NVME_FEAT_VOLATILE_WRITE_CACHE = 0x06,
	NVT_NVME_FEAT_NUMBER_OF_QUEUES = 0x07,
	NVT_NVME_FEAT_INTERRUPT_COALESCING = 0x08,
	NVT_NVME_FEAT_INTERRUPT_VECTOR_CONFIGURATION = 0x09,
	NVT_NVME_FEAT_WRITE_ATOMICITY = 0x0a,
	NVT_NVME_FEAT_ASYNC_EVENT_CONFIGURATION = 0x0b,
	NVT_NVME_FEAT_AUTONOMOUS_POWER_STATE_TRANSITION = 0x0c,
	NVT_NVME_FEAT_HOST_MEM_BUFFER = 0x0d,
	NVT_NVME_FEAT_TIMESTAMP = 0x0e,
	NVT_NVME_FEAT_KEEP_ALIVE_TIMER = 0x0f,
	NVT_NVME_FEAT_HOST_CONTROLLED_THERMAL_MANAGEMENT = 0x10,
	NVT_NVME_FEAT_NON_OPERATIONAL_POWER_STATE_CONFIG = 0x11,
	NVT_NVME_FEAT_HOST_BEHAVIOR_SUPPORT = 0x16,
	NVT_NVME_FEAT_SOFTWARE_PROGRESS_MARKER = 0x80,
	NVT_NVME_FEAT_HOST_IDENTIFIER = 0x81,
	NVT_NVME_FEAT_HOST_RESERVE_MASK = 0x82,
	NVT_NVME_FEAT_HOST_RESERVE_PERSIST = 0x83,
	NVT_NVME_FEAT_NS_WRITE_PROTECTION = 0x84,
};

/** Get Features select values. */
enum nvt_nvme_feat_select {
	NVT_NVME_FEAT_SEL_CURRENT = 0x0,
	NVT_NVME_FEAT_SEL_DEFAULT = 0x1,
	NVT_NVME_FEAT_SEL_SAVED = 0x2,
	NVT_NVME_FEAT_SEL_SUPPORTED = 0x3,
};

/** Volatile Write Cache feature, CDW11 and result: write cache enable. */
#define NVT_NVME_FEAT_VWC_WCE (1u << 0)

/**
 * Number of Queues feature value (CDW11 and completion dword 0): submission and
 * completion queue counts, both 0's based (1 queue = 0).
 */
static inline uint32_t
nvt_nvme_feat_num_queues(uint16_t nsqa, uint16_t ncqa)
{
	return (uint32_t)nsqa | ((uint32_t)ncqa << 16);
}

/** Number of submission queues requested or allocated, 0's based (bits 15:0). */
static inline uint16_t
nvt_nvme_feat_num_queues_nsq(uint32_t v)
{
	return (uint16_t)(v & 0xffffu);
}

/** Number of completion queues requested or allocated, 0's based (bits 31:16). */
static inline uint16_t
nvt_nvme_feat_num_queues_ncq(uint32_t v)
{
	return (uint16_t)(v >> 16);
}

/* Asynchronous Event Configuration feature (CDW11) */
#define NVT_NVME_AEC_SMART_MASK		  0xffu /* SMART / health critical warnings */
#define NVT_NVME_AEC_NS_ATTR_NOTICE	  (1u << 8)
#define NVT_NVME_AEC_FW_ACTIVATION_NOTICE (1u << 9)
#define NVT_NVME_AEC_TELEMETRY_NOTICE	  (1u << 10)
#define NVT_NVME_AEC_ANA_CHANGE_NOTICE	  (1u << 11)
#define NVT_NVME_AEC_DISCOVERY_LOG_CHANGE (1u << 31)

/*
 * Asynchronous events (completion dword 0 of an Asynchronous Event Request)
 */

/** Asynchronous event types (dword 0 bits 2:0). */
enum nvt_nvme_aer_type {
	NVT_NVME_AER_TYPE_ERROR = 0x0,
	NVT_NVME_AER_TYPE_SMART = 0x1,
	NVT_NVME_AER_TYPE_NOTICE = 0x2,
	NVT_NVME_AER_TYPE_IMMEDIATE = 0x3,
	NVT_NVME_AER_TYPE_ONE_SHOT = 0x4,
	NVT_NVME_AER_TYPE_IO_COMMAND_SET = 0x6,
	NVT_NVME_AER_TYPE_VENDOR_SPECIFIC = 0x7,
};

/** Asynchronous event information for type Error (dword 0 bits 15:8). */
enum nvt_nvme_aer_info_error {
	NVT_NVME_AER_INFO_ERROR_INVALID_DB_WRITE = 0x00,
	NVT_NVME_AER_INFO_ERROR_INVALID_DB_VALUE = 0x01,
	NVT_NVME_AER_INFO_ERROR_DIAGNOSTIC_FAILURE = 0x02,
	NVT_NVME_AER_INFO_ERROR_PERSISTENT_INTERNAL = 0x03,
	NVT_NVME_AER_INFO_ERROR_TRANSIENT_INTERNAL = 0x04,
	NVT_NVME_AER_INFO_ERROR_FW_IMAGE_LOAD = 0x05,
};

/** Asynchronous event information for type SMART / health. */
enum nvt_nvme_aer_info_smart {
	NVT_NVME_AER_INFO_SMART_RELIABILITY = 0x00,
	NVT_NVME_AER_INFO_SMART_TEMPERATURE = 0x01,
	NVT_NVME_AER_INFO_SMART_SPARE_BELOW_THRESHOLD = 0x02,
};

/** Asynchronous event information for type Notice. */
enum nvt_nvme_aer_info_notice {
	NVT_NVME_AER_INFO_NOTICE_NS_ATTR_CHANGED = 0x00,
	NVT_NVME_AER_INFO_NOTICE_FW_ACTIVATION_START = 0x01,
	NVT_NVME_AER_INFO_NOTICE_TELEMETRY_LOG_CHANGED = 0x02,
	NVT_NVME_AER_INFO_NOTICE_ANA_CHANGE = 0x03,
	NVT_NVME_AER_INFO_NOTICE_PLE_AGGREGATE_LOG_CHANGE = 0x04,
	NVT_NVME_AER_INFO_NOTICE_LBA_STATUS_ALERT = 0x05,
	NVT_NVME_AER_INFO_NOTICE_EG_AGGREGATE_LOG_CHANGE = 0x06,
	NVT_NVME_AER_INFO_NOTICE_DISCOVERY_LOG_CHANGE = 0xf0,
};

/** Completion dword 0 for an asynchronous event: type, information, log page to read. */
static inline uint32_t
nvt_nvme_aer_cdw0(enum nvt_nvme_aer_type type, uint8_t info, uint8_t lid)
{
	return ((uint32_t)type & 0x7u) | ((uint32_t)info << 8) | ((uint32_t)lid << 16);
}

/*
 * Log pages
 */

/** Log page identifiers. */
enum nvt_nvme_lid {
	NVT_NVME_LOG_SUPPORTED_LOG_PAGES = 0x00,
	NVT_NVME_LOG_ERROR = 0x01,
	NVT_NVME_LOG_SMART = 0x02,
	NVT_NVME_LOG_FIRMWARE_SLOT = 0x03,
	NVT_NVME_LOG_CHANGED_NS_LIST = 0x04,
	NVT_NVME_LOG_COMMAND_EFFECTS = 0x05,
	NVT_NVME_LOG_DEVICE_SELF_TEST = 0x06,
	NVT_NVME_LOG_TELEMETRY_HOST = 0x07,
	NVT_NVME_LOG_TELEMETRY_CTRL = 0x08,
	NVT_NVME_LOG_ENDURANCE_GROUP = 0x09,
	NVT_NVME_LOG_ANA = 0x0c,
	NVT_NVME_LOG_FEATURE_IDS_EFFECTS = 0x12,
	NVT_NVME_LOG_DISCOVERY = 0x70,
	NVT_NVME_LOG_RESERVATION_NOTIFICATION = 0x80,
	NVT_NVME_LOG_SANITIZE_STATUS = 0x81,
};

/** Error information log entry (log page 01h), 64 bytes. */
struct nvt_nvme_error_log_entry {
	/** Unique, incrementing error count; 0 marks an unused entry. */
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	/** Status field of the failed command (phase tag in bit 0). */
	uint16_t status;
	/** Parameter error location: byte (bits 7:0) and bit (bits 10:8) in the SQE. */
	uint16_t pel;
	uint64_t lba;
	uint32_t nsid;
	/** Vendor specific information available (log page id). */
	uint8_t vs;
	/** Transport type (enum nvt_nvmf_trtype). */
	uint8_t trtype;
	uint8_t rsvd30[2];
	/** Command specific information. */
	uint64_t csi;
	/** Transport type specific information. */
	uint16_t trtype_specific;
	uint8_t rsvd42[22];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_error_log_entry, 64);

/* SMART critical warning bits */
#define NVT_NVME_SMART_CW_SPARE		  (1u << 0)
#define NVT_NVME_SMART_CW_TEMPERATURE	  (1u << 1)
#define NVT_NVME_SMART_CW_RELIABILITY	  (1u << 2)
#define NVT_NVME_SMART_CW_READ_ONLY	  (1u << 3)
#define NVT_NVME_SMART_CW_VOLATILE_BACKUP (1u << 4)
#define NVT_NVME_SMART_CW_PMR_READ_ONLY	  (1u << 5)

/** SMART / health information log (log page 02h), 512 bytes. Counters are 128-bit LE. */
struct nvt_nvme_smart_log {
	uint8_t critical_warning;
	/** Composite temperature in kelvins (unaligned 16-bit). */
	uint8_t temperature[2];
	/** Available spare, percent. */
	uint8_t avail_spare;
	uint8_t avail_spare_threshold;
	uint8_t percent_used;
	uint8_t eg_critical_warning_summary;
	uint8_t rsvd7[25];
	/** Data units (1000 x 512 bytes) read and written. */
	uint8_t data_units_read[16];
	uint8_t data_units_written[16];
	uint8_t host_read_commands[16];
	uint8_t host_write_commands[16];
	/** Minutes spent busy with I/O. */
	uint8_t controller_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_error_info_log_entries[16];
	/** Minutes above the warning and the critical composite temperature. */
	uint32_t warning_temp_time;
	uint32_t critical_temp_time;
	uint16_t temp_sensor[8];
	uint32_t thm_temp1_trans_count;
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_smart_log, 512);

/** Firmware slot information log (log page 03h), 512 bytes. */
struct nvt_nvme_fw_slot_log {
	/** Active firmware info: slot running (bits 2:0), slot at next reset (bits 6:4). */
	uint8_t afi;
	uint8_t rsvd1[7];
	/** Firmware revision of slots 1 to 7, ASCII, space padded. */
	char frs[7][8];
	uint8_t rsvd64[448];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_fw_slot_log, 512);

/** Changed namespace list log (log page 04h): up to 1024 NSIDs, zero terminated. */
struct nvt_nvme_changed_ns_list_log {
	uint32_t nsid[1024];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_changed_ns_list_log, 4096);

/* Commands supported and effects entry bits */
#define NVT_NVME_CSE_CSUPP	(1u << 0) /* command supported */
#define NVT_NVME_CSE_LBCC	(1u << 1) /* logical block content change */
#define NVT_NVME_CSE_NCC	(1u << 2) /* namespace capability change */
#define NVT_NVME_CSE_NIC	(1u << 3) /* namespace inventory change */
#define NVT_NVME_CSE_CCC	(1u << 4) /* controller capability change */
#define NVT_NVME_CSE_CSER_SHIFT 14	  /* command submission and execution relaxations, 2 bits */
#define NVT_NVME_CSE_CSE_SHIFT	16	  /* command submission and execution, 3 bits */
#define NVT_NVME_CSE_CSE_MASK	0x7u
#define NVT_NVME_CSE_UUID_SEL	(1u << 19)

/** Commands supported and effects log (log page 05h), 4096 bytes. */
struct nvt_nvme_cmd_effects_log {
	/** Admin commands, indexed by opcode. */
	uint32_t acs[256];
	/** I/O commands, indexed by opcode. */
	uint32_t iocs[256];
	uint8_t rsvd2048[2048];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_cmd_effects_log, 4096);

/** ANA states. */
enum nvt_nvme_ana_state {
	NVT_NVME_ANA_OPTIMIZED = 0x1,
	NVT_NVME_ANA_NON_OPTIMIZED = 0x2,
	NVT_NVME_ANA_INACCESSIBLE = 0x3,
	NVT_NVME_ANA_PERSISTENT_LOSS = 0x4,
	NVT_NVME_ANA_CHANGE = 0xf,
};

/** Get Log Page LSP bit for the ANA log: return groups only, no NSIDs. */
#define NVT_NVME_ANA_LOG_RGO (1u << 0)

/** ANA log page (log page 0Ch) header, followed by ngrps group descriptors. */
struct nvt_nvme_ana_log_hdr {
	uint64_t chgcnt;
	uint16_t ngrps;
	uint8_t rsvd10[6];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_ana_log_hdr, 16);

/** ANA group descriptor, followed by nnsids 32-bit NSIDs. */
struct nvt_nvme_ana_group_desc {
	uint32_t anagrpid;
	uint32_t nnsids;
	uint64_t chgcnt;
	/** ANA state, bits 3:0 (enum nvt_nvme_ana_state). */
	uint8_t state;
	uint8_t rsvd17[15];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_ana_group_desc, 32);

/*
 * Identify data structures
 */

/** Power state descriptor (Identify Controller PSD0 to PSD31), 32 bytes. */
struct nvt_nvme_power_state {
	/** Maximum power, in the unit selected by flags bit 0. */
	uint16_t mp;
	uint8_t rsvd2;
	/** Bit 0 max power scale (0.0001 W when set, else 0.01 W), bit 1 non-operational. */
	uint8_t flags;
	/** Entry and exit latency, microseconds. */
	uint32_t enlat;
	uint32_t exlat;
	uint8_t rrt;
	uint8_t rrl;
	uint8_t rwt;
	uint8_t rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apw_aps;
	uint8_t rsvd23[9];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_power_state, 32);

/** Identify Controller data structure (CNS 01h), 4096 bytes. */
struct nvt_nvme_id_ctrl {
	/* Controller capabilities and features */
	uint16_t vid;
	uint16_t ssvid;
	/** Serial number, ASCII, space padded, not NUL terminated. */
	char sn[20];
	/** Model number, ASCII, space padded. */
	char mn[40];
	/** Firmware revision, ASCII, space padded. */
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	/** Multi-path I/O and namespace sharing capabilities, NVT_NVME_CMIC_*. */
	uint8_t cmic;
	/** Maximum data transfer size, 2^n units of CAP.MPSMIN; 0 = no limit. */
	uint8_t mdts;
	uint16_t cntlid;
	/** Version, same encoding as the VS property. */
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	/** Optional asynchronous events supported, NVT_NVME_OAES_*. */
	uint32_t oaes;
	/** Controller attributes, NVT_NVME_CTRATT_*. */
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	/** Controller type, enum nvt_nvme_cntrltype. */
	uint8_t cntrltype;
	uint8_t fguid[16];
	/** Command retry delay times, 100 ms units. */
	uint16_t crdt1;
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	/* NVMe-MI region */
	uint8_t nvmsr;
	uint8_t vwci;
	uint8_t mec;

	/* Admin command set attributes and optional controller capabilities */
	/** Optional admin command support, NVT_NVME_OACS_*. */
	uint16_t oacs;
	/** Abort command limit, 0's based. */
	uint8_t acl;
	/** Asynchronous event request limit, 0's based. */
	uint8_t aerl;
	uint8_t frmw;
	/** Log page attributes, NVT_NVME_LPA_*. */
	uint8_t lpa;
	/** Error log page entries, 0's based. */
	uint8_t elpe;
	/** Number of power states supported, 0's based. */
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	/** Warning and critical composite temperature thresholds, kelvins. */
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	/** Keep alive support: granularity in 100 ms units; 0 = not supported. */
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nvmsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint16_t domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];

	/* NVM command set attributes */
	/** SQ entry size: required (bits 3:0) and maximum (bits 7:4), 2^n bytes. */
	uint8_t sqes;
	/** CQ entry size: required (bits 3:0) and maximum (bits 7:4), 2^n bytes. */
	uint8_t cqes;
	/** Maximum outstanding commands per queue (fabrics). */
	uint16_t maxcmd;
	/** Number of namespaces: highest valid NSID. */
	uint32_t nn;
	/** Optional NVM command support, NVT_NVME_ONCS_*. */
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	/** Volatile write cache, NVT_NVME_VWC_*. */
	uint8_t vwc;
	/** Atomic write unit normal and power fail, 0's based logical blocks. */
	uint16_t awun;
	uint16_t awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t ocfs;
	/** SGL support, NVT_NVME_SGLS_*. */
	uint32_t sgls;
	uint32_t mnan;
	uint8_t maxdna[16];
	uint32_t maxcna;
	uint8_t rsvd564[204];
	/** NVM subsystem NQN, NUL terminated UTF-8. */
	char subnqn[256];
	uint8_t rsvd1024[768];

	/* Fabrics */
	/** I/O queue command capsule size in 16-byte units (64-byte SQE included). */
	uint32_t ioccsz;
	/** I/O queue response capsule size in 16-byte units. */
	uint32_t iorcsz;
	/** In-capsule data offset in 16-byte units; 0 for NVMe/TCP. */
	uint16_t icdoff;
	/** Fabrics controller attributes (FCATT), NVT_NVME_FCATT_*. */
	uint8_t ctrattr;
	/** Maximum SGL data block descriptors per command; 0 = no limit. */
	uint8_t msdbd;
	/** Optional fabrics commands supported, NVT_NVME_OFCS_*. */
	uint16_t ofcs;
	/** Discovery controller type, enum nvt_nvme_dctype. */
	uint8_t dctype;
	uint8_t rsvd1807[241];

	/* Power state descriptors */
	struct nvt_nvme_power_state psd[32];

	uint8_t vs[1024];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_id_ctrl, NVT_NVME_IDENTIFY_DATA_SIZE);

/* Identify Controller CMIC */
#define NVT_NVME_CMIC_MULTI_PORT (1u << 0)
#define NVT_NVME_CMIC_MULTI_CTRL (1u << 1)
#define NVT_NVME_CMIC_SRIOV	 (1u << 2)
#define NVT_NVME_CMIC_ANA	 (1u << 3)

/* Identify Controller OAES */
#define NVT_NVME_OAES_NS_ATTR		   (1u << 8)
#define NVT_NVME_OAES_FW_ACTIVATION	   (1u << 9)
#define NVT_NVME_OAES_ANA_CHANGE	   (1u << 11)
#define NVT_NVME_OAES_DISCOVERY_LOG_CHANGE (1u << 31)

/* Identify Controller CTRATT */
#define NVT_NVME_CTRATT_HOST_ID_128 (1u << 0)
#define NVT_NVME_CTRATT_TBKAS	    (1u << 6) /* traffic based keep alive */

/** Identify Controller CNTRLTYPE. */
enum nvt_nvme_cntrltype {
	NVT_NVME_CNTRLTYPE_NOT_REPORTED = 0x0,
	NVT_NVME_CNTRLTYPE_IO = 0x1,
	NVT_NVME_CNTRLTYPE_DISCOVERY = 0x2,
	NVT_NVME_CNTRLTYPE_ADMIN = 0x3,
};

/* Identify Controller OACS */
#define NVT_NVME_OACS_SECURITY	     (1u << 0)
#define NVT_NVME_OACS_FORMAT	     (1u << 1)
#define NVT_NVME_OACS_FIRMWARE	     (1u << 2)
#define NVT_NVME_OACS_NS_MANAGEMENT  (1u << 3)
#define NVT_NVME_OACS_SELF_TEST	     (1u << 4)
#define NVT_NVME_OACS_DIRECTIVES     (1u << 5)
#define NVT_NVME_OACS_VIRTUALIZATION (1u << 7)
#define NVT_NVME_OACS_DBBUF	     (1u << 8)
#define NVT_NVME_OACS_GET_LBA_STATUS (1u << 9)

/* Identify Controller LPA */
#define NVT_NVME_LPA_SMART_PER_NS     (1u << 0)
#define NVT_NVME_LPA_CMD_EFFECTS      (1u << 1)
#define NVT_NVME_LPA_EXTENDED_DATA    (1u << 2) /* offsets and 32-bit NUMD */
#define NVT_NVME_LPA_TELEMETRY	      (1u << 3)
#define NVT_NVME_LPA_PERSISTENT_EVENT (1u << 4)

/* Identify Controller ONCS */
#define NVT_NVME_ONCS_COMPARE		   (1u << 0)
#define NVT_NVME_ONCS_WRITE_UNCORRECTABLE  (1u << 1)
#define NVT_NVME_ONCS_DSM		   (1u << 2)
#define NVT_NVME_ONCS_WRITE_ZEROES	   (1u << 3)
#define NVT_NVME_ONCS_SAVE_SELECT_FEATURES (1u << 4)
#define NVT_NVME_ONCS_RESERVATIONS	   (1u << 5)
#define NVT_NVME_ONCS_TIMESTAMP		   (1u << 6)
#define NVT_NVME_ONCS_VERIFY		   (1u << 7)
#define NVT_NVME_ONCS_COPY		   (1u << 8)

/* Identify Controller VWC */
#define NVT_NVME_VWC_PRESENT		   (1u << 0)
#define NVT_NVME_VWC_FLUSH_BROADCAST_SHIFT 1 /* 2 bits */

/* Identify Controller FUSES */
#define NVT_NVME_FUSES_COMPARE_AND_WRITE (1u << 0)

/* Identify Controller SGLS */
#define NVT_NVME_SGLS_SUPPORTED_MASK	0x3u
#define NVT_NVME_SGLS_SUPPORTED		0x1u /* SGLs supported, no alignment requirement */
#define NVT_NVME_SGLS_SUPPORTED_DWORD	0x2u /* SGLs supported, dword alignment */
#define NVT_NVME_SGLS_KEYED		(1u << 2)
#define NVT_NVME_SGLS_BIT_BUCKET	(1u << 16)
#define NVT_NVME_SGLS_MPTR_BYTE_ALIGNED (1u << 17)
#define NVT_NVME_SGLS_OVERSIZED		(1u << 18)
#define NVT_NVME_SGLS_MPTR_SGL		(1u << 19)
#define NVT_NVME_SGLS_OFFSET		(1u << 20) /* offset subtype (in-capsule data) */
#define NVT_NVME_SGLS_TRANSPORT		(1u << 21) /* transport SGL data block */

/* Identify Controller fabrics attributes (FCATT, field ctrattr) */
#define NVT_NVME_FCATT_STATIC_CTRL (1u << 0) /* static controller model */

/* Identify Controller OFCS */
#define NVT_NVME_OFCS_DISCONNECT (1u << 0)

/** Identify Controller DCTYPE. */
enum nvt_nvme_dctype {
	NVT_NVME_DCTYPE_NOT_REPORTED = 0x0,
	NVT_NVME_DCTYPE_DDC = 0x1, /* direct discovery controller */
	NVT_NVME_DCTYPE_CDC = 0x2, /* central discovery controller */
};

/** SQES/CQES value: required (minimum) and maximum entry size as powers of two. */
static inline uint8_t
nvt_nvme_qes(unsigned int min_log2, unsigned int max_log2)
{
	return (uint8_t)((min_log2 & 0xfu) | ((max_log2 & 0xfu) << 4));
}

/** LBA format descriptor, 4 bytes. */
struct nvt_nvme_lbaf {
	/** Metadata size in bytes. */
	uint16_t ms;
	/** LBA data size, 2^lbads bytes (9 = 512, 12 = 4096). */
	uint8_t lbads;
	/** Relative performance, bits 1:0. */
	uint8_t rp;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_lbaf, 4);

/** Identify Namespace data structure, NVM command set (CNS 00h), 4096 bytes. */
struct nvt_nvme_id_ns {
	/** Namespace size, capacity and utilization, in logical blocks. */
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	/** Namespace features, NVT_NVME_NSFEAT_*. */
	uint8_t nsfeat;
	/** Number of LBA formats, 0's based. */
	uint8_t nlbaf;
	/** Formatted LBA size: format index bits 3:0 (+ bits 6:5 high), bit 4 extended. */
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	/** Multi-path I/O and namespace sharing, bit 0 shared. */
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	/** Deallocate logical block features, NVT_NVME_DLFEAT_*. */
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	/** Optimal I/O boundary, logical blocks. */
	uint16_t noiob;
	uint8_t nvmcap[16];
	/** Preferred write granularity and alignment, 0's based logical blocks. */
	uint16_t npwg;
	uint16_t npwa;
	/** Preferred deallocate granularity and alignment, 0's based logical blocks. */
	uint16_t npdg;
	uint16_t npda;
	/** Optimal write size, 0's based logical blocks. */
	uint16_t nows;
	/** Copy limits: max single source range length, max copy length, max ranges. */
	uint16_t mssrl;
	uint32_t mcl;
	uint8_t msrc;
	uint8_t rsvd81[11];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	/** Namespace globally unique identifier. */
	uint8_t nguid[16];
	/** IEEE extended unique identifier. */
	uint8_t eui64[8];
	struct nvt_nvme_lbaf lbaf[64];
	uint8_t vs[3712];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_id_ns, NVT_NVME_IDENTIFY_DATA_SIZE);

/* Identify Namespace NSFEAT */
#define NVT_NVME_NSFEAT_THIN_PROVISIONING (1u << 0)
#define NVT_NVME_NSFEAT_NS_ATOMICS	  (1u << 1)
#define NVT_NVME_NSFEAT_DEALLOC_ERROR	  (1u << 2)
#define NVT_NVME_NSFEAT_UID_REUSE	  (1u << 3)
#define NVT_NVME_NSFEAT_OPTPERF		  (1u << 4) /* npwg..nows are valid */

/* Identify Namespace FLBAS */
#define NVT_NVME_FLBAS_INDEX_MASK    0x0fu
#define NVT_NVME_FLBAS_EXTENDED	     (1u << 4)
#define NVT_NVME_FLBAS_INDEX_HI_MASK 0x60u

/* Identify Namespace DLFEAT: bits 2:0 read behavior of deallocated blocks */
#define NVT_NVME_DLFEAT_READ_ZEROES	  (0x1u)
#define NVT_NVME_DLFEAT_WRITE_ZEROES_DEAC (1u << 3)
/* Identify Namespace NSATTR (byte 99) */
#define NVT_NVME_NSATTR_WRITE_PROTECTED (1u << 0) /* the namespace is write protected */

/** Index into lbaf[] of the format in use. */
static inline unsigned int
nvt_nvme_flbas_index(uint8_t flbas)
{
	return (flbas & NVT_NVME_FLBAS_INDEX_MASK) | ((flbas & NVT_NVME_FLBAS_INDEX_HI_MASK) >> 1);
}

/** Logical block size in bytes of the format in use. */
static inline uint32_t
nvt_nvme_id_ns_block_size(const struct nvt_nvme_id_ns *ns)
{
	return 1u << (ns->lbaf[nvt_nvme_flbas_index(ns->flbas) & 63u].lbads & 31u);
}

/** Namespace identification descriptor types (CNS 03h list). */
enum nvt_nvme_nidt {
	NVT_NVME_NIDT_EUI64 = 0x1,
	NVT_NVME_NIDT_NGUID = 0x2,
	NVT_NVME_NIDT_UUID = 0x3,
	NVT_NVME_NIDT_CSI = 0x4,
};

/* Payload length (NIDL) of each descriptor type */
#define NVT_NVME_NIDL_EUI64 8
#define NVT_NVME_NIDL_NGUID 16
#define NVT_NVME_NIDL_UUID  16
#define NVT_NVME_NIDL_CSI   1

/**
 * Namespace identification descriptor header; nidl payload bytes follow. The list
 * fills a 4096-byte buffer and ends at a descriptor whose nidl is 0.
 */
struct nvt_nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	uint8_t rsvd2[2];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_ns_id_desc, 4);

/**
 * I/O command set specific Identify Controller data of the NVM command set
 * (CNS 06h, CSI 00h). Size limits are powers of two in units of CAP.MPSMIN;
 * 0 means no limit (beyond MDTS where that applies).
 */
struct nvt_nvme_id_ctrl_nvm {
	uint8_t vsl;	/**< Verify Size Limit */
	uint8_t wzsl;	/**< Write Zeroes Size Limit */
	uint8_t wusl;	/**< Write Uncorrectable Size Limit */
	uint8_t dmrl;	/**< Dataset Management Ranges Limit (ranges per command), 0: none */
	uint32_t dmrsl; /**< Dataset Management Range Size Limit, in logical blocks, 0: none */
	uint64_t dmsl;	/**< Dataset Management Size Limit, in logical blocks, 0: none */
	uint8_t rsvd16[4080];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_id_ctrl_nvm, NVT_NVME_IDENTIFY_DATA_SIZE);

/** Active namespace ID list (CNS 02h): increasing NSIDs, zero terminated. */
struct nvt_nvme_ns_list {
	uint32_t nsid[NVT_NVME_NS_LIST_ENTRIES];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_ns_list, NVT_NVME_IDENTIFY_DATA_SIZE);

/*
 * NVM command set I/O fields
 */

/* Read, Write, Compare, Write Zeroes: CDW12 */
#define NVT_NVME_RW_NLB_MASK	   0xffffu    /* number of logical blocks, 0's based */
#define NVT_NVME_RW_DTYPE_SHIFT	   20	      /* directive type, 4 bits */
#define NVT_NVME_RW_PRINFO_SHIFT   26	      /* protection information, 4 bits */
#define NVT_NVME_RW_FUA		   (1u << 30) /* force unit access */
#define NVT_NVME_RW_LR		   (1u << 31) /* limited retry */
#define NVT_NVME_WRITE_ZEROES_DEAC (1u << 25) /* deallocate */

/** Starting LBA of a Read, Write, Compare, Write Zeroes or Verify (CDW10/CDW11). */
static inline uint64_t
nvt_nvme_rw_slba(const struct nvt_nvme_cmd *cmd)
{
	return (uint64_t)cmd->cdw10 | ((uint64_t)cmd->cdw11 << 32);
}

/** Number of logical blocks of the same commands (1-based; CDW12 bits 15:0 + 1). */
static inline uint32_t
nvt_nvme_rw_nlb(const struct nvt_nvme_cmd *cmd)
{
	return (cmd->cdw12 & NVT_NVME_RW_NLB_MASK) + 1u;
}

/** Set starting LBA and block count (1-based) of a Read/Write-style command. */
static inline void
nvt_nvme_rw_set(struct nvt_nvme_cmd *cmd, uint64_t slba, uint32_t nlb)
{
	cmd->cdw10 = (uint32_t)slba;
	cmd->cdw11 = (uint32_t)(slba >> 32);
	cmd->cdw12 = (cmd->cdw12 & ~NVT_NVME_RW_NLB_MASK) | ((nlb - 1u) & NVT_NVME_RW_NLB_MASK);
}

/* Dataset Management: CDW10 bits 7:0 number of ranges (0's based), CDW11 attributes */
#define NVT_NVME_DSM_ATTR_IDR (1u << 0) /* integral dataset for read */
#define NVT_NVME_DSM_ATTR_IDW (1u << 1) /* integral dataset for write */
#define NVT_NVME_DSM_ATTR_AD  (1u << 2) /* deallocate */

/** Dataset Management range, 16 bytes. */
struct nvt_nvme_dsm_range {
	/** Context attributes. */
	uint32_t cattr;
	/** Length in logical blocks (not 0's based). */
	uint32_t nlb;
	uint64_t slba;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_dsm_range, 16);

/** Number of ranges of a Dataset Management command (1 to 256). */
static inline unsigned int
nvt_nvme_dsm_nr(const struct nvt_nvme_cmd *cmd)
{
	return (cmd->cdw10 & 0xffu) + 1u;
}

/*
 * NVMe over Fabrics
 */

/** Maximum NQN length in bytes, NUL excluded. */
#define NVT_NVMF_NQN_MAX_LEN 223
/** NQN fields on the wire (Connect data, discovery log, Identify subnqn). */
#define NVT_NVMF_NQN_FIELD_SIZE 256
/** Well-known NQN of a discovery subsystem. */
#define NVT_NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
/** Prefix of UUID-based NQNs; a 36-character UUID follows. */
#define NVT_NVMF_NQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
/** Size of TRSVCID, TRADDR and TSAS fields of a discovery log entry. */
#define NVT_NVMF_TRSVCID_SIZE 32
#define NVT_NVMF_TRADDR_SIZE  256
#define NVT_NVMF_TSAS_SIZE    256

/* Controller IDs */
#define NVT_NVMF_CNTLID_MIN 1
#define NVT_NVMF_CNTLID_MAX 0xffef
/** Connect data CNTLID asking the dynamic controller model for any controller. */
#define NVT_NVMF_CNTLID_DYNAMIC 0xffff
/** Minimum admin submission queue size a Fabrics controller must accept. */
#define NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES 32

/** Fabrics command types (byte 4 of a Fabrics SQE). */
enum nvt_nvmf_fctype {
	NVT_NVMF_FCTYPE_PROPERTY_SET = 0x00,
	NVT_NVMF_FCTYPE_CONNECT = 0x01,
	NVT_NVMF_FCTYPE_PROPERTY_GET = 0x04,
	NVT_NVMF_FCTYPE_AUTH_SEND = 0x05,
	NVT_NVMF_FCTYPE_AUTH_RECV = 0x06,
	NVT_NVMF_FCTYPE_DISCONNECT = 0x08,
};

/** Common Fabrics submission queue entry. */
struct nvt_nvmf_cmd {
	/** Always NVT_NVME_OPC_FABRICS. */
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	/** Fabrics command type, enum nvt_nvmf_fctype. */
	uint8_t fctype;
	uint8_t rsvd5[19];
	union nvt_nvme_sgl_desc sgl1;
	uint8_t fabrics_specific[24];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_cmd, NVT_NVME_SQE_SIZE);

/* Connect CATTR */
#define NVT_NVMF_CONNECT_CATTR_PRIORITY_MASK  0x3u
#define NVT_NVMF_CONNECT_CATTR_DISABLE_SQFLOW (1u << 2)

/** Connect command; the 1024-byte struct nvt_nvmf_connect_data travels as data. */
struct nvt_nvmf_connect_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	union nvt_nvme_sgl_desc sgl1;
	/** Record format, 0. */
	uint16_t recfmt;
	/** Queue ID: 0 admin, else I/O. */
	uint16_t qid;
	/** Submission queue size, 0's based. */
	uint16_t sqsize;
	/** Connect attributes, NVT_NVMF_CONNECT_CATTR_*. */
	uint8_t cattr;
	uint8_t rsvd47;
	/** Keep alive timeout in milliseconds (admin queue only); 0 = disabled. */
	uint32_t kato;
	uint8_t rsvd52[12];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_connect_cmd, NVT_NVME_SQE_SIZE);

/** Connect data, 1024 bytes. */
struct nvt_nvmf_connect_data {
	/** Host identifier (128-bit). */
	uint8_t hostid[16];
	/** Controller ID: NVT_NVMF_CNTLID_DYNAMIC, or an existing controller for I/O queues. */
	uint16_t cntlid;
	uint8_t rsvd18[238];
	/** NUL terminated NQNs. */
	char subnqn[NVT_NVMF_NQN_FIELD_SIZE];
	char hostnqn[NVT_NVMF_NQN_FIELD_SIZE];
	uint8_t rsvd768[256];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_connect_data, 1024);

/* Connect response, completion dword 0 on success: CNTLID bits 15:0, AUTHREQ bits 31:16 */
#define NVT_NVMF_CONNECT_AUTHREQ_ATR  (1u << 1) /* authentication required */
#define NVT_NVMF_CONNECT_AUTHREQ_ASCR (1u << 2) /* secure channel concatenation required */

/** Connect response dword 0 on success. */
static inline uint32_t
nvt_nvmf_connect_rsp_success(uint16_t cntlid, uint16_t authreq)
{
	return (uint32_t)cntlid | ((uint32_t)authreq << 16);
}

/** Controller ID from a successful Connect response. */
static inline uint16_t
nvt_nvmf_connect_rsp_cntlid(const struct nvt_nvme_cpl *cpl)
{
	return (uint16_t)(cpl->cdw0 & 0xffffu);
}

/* Connect Invalid Parameters response dword 0: IPO bits 15:0, IATTR bits 23:16 */
#define NVT_NVMF_CONNECT_IATTR_CMD  0x0u /* IPO is a byte offset in the SQE */
#define NVT_NVMF_CONNECT_IATTR_DATA 0x1u /* IPO is a byte offset in the Connect data */

/**
 * Connect response dword 0 for status Connect Invalid Parameters: which byte (\p ipo)
 * of the SQE or of the data (\p iattr) was invalid.
 */
static inline uint32_t
nvt_nvmf_connect_rsp_invalid(uint32_t iattr, uint16_t ipo)
{
	return (uint32_t)ipo | ((iattr & 0xffu) << 16);
}

/* Property Get/Set ATTRIB: size in bits 2:0 */
#define NVT_NVMF_PROP_SIZE_4 0x0u
#define NVT_NVMF_PROP_SIZE_8 0x1u

/** Property Set command. */
struct nvt_nvmf_prop_set_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	/** Attributes: property size, NVT_NVMF_PROP_SIZE_*. */
	uint8_t attrib;
	uint8_t rsvd41[3];
	/** Property offset, enum nvt_nvme_prop. */
	uint32_t ofst;
	/** Value; only the low 4 bytes for 4-byte properties. */
	uint64_t value;
	uint8_t rsvd56[8];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_prop_set_cmd, NVT_NVME_SQE_SIZE);

/** Property Get command; the value returns in completion dwords 0 and 1. */
struct nvt_nvmf_prop_get_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib;
	uint8_t rsvd41[3];
	uint32_t ofst;
	uint8_t rsvd48[16];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_prop_get_cmd, NVT_NVME_SQE_SIZE);

/** Property size in bytes (4 or 8) from ATTRIB. */
static inline unsigned int
nvt_nvmf_prop_size(uint8_t attrib)
{
	return (attrib & 0x7u) == NVT_NVMF_PROP_SIZE_8 ? 8u : 4u;
}

/** Store a Property Get value into completion dwords 0 and 1. */
static inline void
nvt_nvmf_prop_get_rsp_set(struct nvt_nvme_cpl *cpl, uint64_t value)
{
	cpl->cdw0 = (uint32_t)value;
	cpl->cdw1 = (uint32_t)(value >> 32);
}

/** Property Get value from completion dwords 0 and 1. */
static inline uint64_t
nvt_nvmf_prop_get_rsp_value(const struct nvt_nvme_cpl *cpl)
{
	return (uint64_t)cpl->cdw0 | ((uint64_t)cpl->cdw1 << 32);
}

/** Authentication Send command (TL) and Authentication Receive command (AL). */
struct nvt_nvmf_auth_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	union nvt_nvme_sgl_desc sgl1;
	uint8_t rsvd40;
	/** Security protocol specific. */
	uint8_t spsp0;
	uint8_t spsp1;
	/** Security protocol (0xe9: NVMe in-band authentication). */
	uint8_t secp;
	/** Transfer length (send) or allocation length (receive), bytes. */
	uint32_t tl_al;
	uint8_t rsvd48[16];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_auth_cmd, NVT_NVME_SQE_SIZE);

/** SECP value of NVMe in-band authentication (DH-HMAC-CHAP). */
#define NVT_NVMF_AUTH_SECP_NVME 0xe9

/** Disconnect command (I/O queues only). */
struct nvt_nvmf_disconnect_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	/** Record format, 0. */
	uint16_t recfmt;
	uint8_t rsvd42[22];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_disconnect_cmd, NVT_NVME_SQE_SIZE);

/** Every view of a 64-byte submission queue entry. */
union nvt_nvme_sqe {
	struct nvt_nvme_cmd cmd;
	struct nvt_nvmf_cmd fabrics;
	struct nvt_nvmf_connect_cmd connect;
	struct nvt_nvmf_prop_set_cmd prop_set;
	struct nvt_nvmf_prop_get_cmd prop_get;
	struct nvt_nvmf_auth_cmd auth;
	struct nvt_nvmf_disconnect_cmd disconnect;
	uint8_t raw[NVT_NVME_SQE_SIZE];
};
NVT_NVME_SPEC_SIZE(union nvt_nvme_sqe, NVT_NVME_SQE_SIZE);

/** True when \p sqe is a Fabrics command. */
static inline bool
nvt_nvme_sqe_is_fabrics(const union nvt_nvme_sqe *sqe)
{
	return sqe->cmd.opc == NVT_NVME_OPC_FABRICS;
}

/*
 * Discovery log page (log page 70h)
 */

/** Transport types (TRTYPE). */
enum nvt_nvmf_trtype {
	NVT_NVMF_TRTYPE_RDMA = 0x1,
	NVT_NVMF_TRTYPE_FC = 0x2,
	NVT_NVMF_TRTYPE_TCP = 0x3,
	NVT_NVMF_TRTYPE_INTRA_HOST = 0xfe,
};

/** Address families (ADRFAM). */
enum nvt_nvmf_adrfam {
	NVT_NVMF_ADRFAM_IPV4 = 0x1,
	NVT_NVMF_ADRFAM_IPV6 = 0x2,
	NVT_NVMF_ADRFAM_IB = 0x3,
	NVT_NVMF_ADRFAM_FC = 0x4,
	NVT_NVMF_ADRFAM_INTRA_HOST = 0xfe,
};

/** Subsystem types (SUBTYPE). */
enum nvt_nvmf_subtype {
	/** Referral to another discovery subsystem. */
	NVT_NVMF_SUBTYPE_DISCOVERY = 0x1,
	/** NVM subsystem with I/O controllers. */
	NVT_NVMF_SUBTYPE_NVME = 0x2,
	/** The discovery subsystem answering the request. */
	NVT_NVMF_SUBTYPE_DISCOVERY_CURRENT = 0x3,
};

/* Transport requirements (TREQ) */
#define NVT_NVMF_TREQ_SECURE_CHANNEL_MASK	   0x3u
#define NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_SPECIFIED 0x0u
#define NVT_NVMF_TREQ_SECURE_CHANNEL_REQUIRED	   0x1u
#define NVT_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED  0x2u
#define NVT_NVMF_TREQ_DISABLE_SQFLOW		   (1u << 2) /* SQ flow control disable ok */

/* Entry flags (EFLAGS) */
#define NVT_NVMF_EFLAGS_DUPRETINFO (1u << 0) /* duplicate returned information */
#define NVT_NVMF_EFLAGS_EPCSD	   (1u << 1) /* explicit persistent connection support */
#define NVT_NVMF_EFLAGS_NCC	   (1u << 2) /* no CDC connectivity */

/** NVMe/TCP security types (TSAS SECTYPE). */
enum nvt_nvmf_tcp_sectype {
	NVT_NVMF_TCP_SECTYPE_NONE = 0x0,
	NVT_NVMF_TCP_SECTYPE_TLS12 = 0x1,
	NVT_NVMF_TCP_SECTYPE_TLS13 = 0x2,
};

/** NVMe/TCP transport specific address subtype. */
struct nvt_nvmf_tsas_tcp {
	/** Security type, enum nvt_nvmf_tcp_sectype. */
	uint8_t sectype;
	uint8_t rsvd1[255];
};

/** Transport specific address subtype (TSAS). */
union nvt_nvmf_tsas {
	struct nvt_nvmf_tsas_tcp tcp;
	uint8_t raw[NVT_NVMF_TSAS_SIZE];
};
NVT_NVME_SPEC_SIZE(union nvt_nvmf_tsas, NVT_NVMF_TSAS_SIZE);

/** Discovery log page entry, 1024 bytes. */
struct nvt_nvmf_disc_log_entry {
	/** Transport type, enum nvt_nvmf_trtype. */
	uint8_t trtype;
	/** Address family, enum nvt_nvmf_adrfam. */
	uint8_t adrfam;
	/** Subsystem type, enum nvt_nvmf_subtype. */
	uint8_t subtype;
	/** Transport requirements, NVT_NVMF_TREQ_*. */
	uint8_t treq;
	uint16_t portid;
	/** Controller ID; NVT_NVMF_CNTLID_DYNAMIC for the dynamic model. */
	uint16_t cntlid;
	/** Maximum admin SQ size, at least NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES. */
	uint16_t asqsz;
	/** Entry flags, NVT_NVMF_EFLAGS_*. */
	uint16_t eflags;
	uint8_t rsvd12[20];
	/** Transport service identifier (TCP port as ASCII), space padded. */
	char trsvcid[NVT_NVMF_TRSVCID_SIZE];
	uint8_t rsvd64[192];
	/** NUL terminated subsystem NQN. */
	char subnqn[NVT_NVMF_NQN_FIELD_SIZE];
	/** Transport address (IP address as ASCII), space padded. */
	char traddr[NVT_NVMF_TRADDR_SIZE];
	union nvt_nvmf_tsas tsas;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_disc_log_entry, 1024);

/** Discovery log page header, 1024 bytes; numrec entries follow. */
struct nvt_nvmf_disc_log_hdr {
	/** Generation counter, bumped whenever the log changes. */
	uint64_t genctr;
	/** Number of records (entries) in the whole log. */
	uint64_t numrec;
	/** Record format, 0. */
	uint16_t recfmt;
	uint8_t rsvd18[1006];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvmf_disc_log_hdr, 1024);

/** Entry \p i of a discovery log page laid out in one buffer after \p hdr. */
static inline struct nvt_nvmf_disc_log_entry *
nvt_nvmf_disc_log_get_entry(struct nvt_nvmf_disc_log_hdr *hdr, uint64_t i)
{
	return (struct nvt_nvmf_disc_log_entry *)(void *)(hdr + 1) + i;
}

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVME_SPEC_H */
