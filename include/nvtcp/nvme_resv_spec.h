/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * NVMe reservations on the wire: the fields of Reservation Register, Acquire,
 * Release and Report, the Reservation Status data structure, the Reservation
 * Notification log page and the features that go with them.
 *
 * Same conventions as nvtcp/nvme_spec.h: little-endian x86_64, natural
 * alignment, a size assertion after every structure.
 */
#ifndef NVTCP_NVME_RESV_SPEC_H
#define NVTCP_NVME_RESV_SPEC_H

#include <stdint.h>

#include "nvtcp/nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Reservation types (RTYPE); 0 means no reservation. */
enum nvt_nvme_resv_type {
	NVT_NVME_RESV_NONE = 0,
	NVT_NVME_RESV_WRITE_EXCLUSIVE = 1,
	NVT_NVME_RESV_EXCLUSIVE_ACCESS = 2,
	NVT_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY = 3,
	NVT_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY = 4,
	NVT_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS = 5,
	NVT_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS = 6,
};

/** Reservation Register action (RREGA, CDW10 bits 2:0). */
enum nvt_nvme_resv_register_action {
	NVT_NVME_RESV_REGISTER_KEY = 0,
	NVT_NVME_RESV_UNREGISTER_KEY = 1,
	NVT_NVME_RESV_REPLACE_KEY = 2,
};

/** Change Persist Through Power Loss State (CPTPL, Register CDW10 bits 31:30). */
enum nvt_nvme_resv_cptpl {
	NVT_NVME_RESV_PTPL_NO_CHANGE = 0,
	NVT_NVME_RESV_PTPL_CLEAR = 2,
	NVT_NVME_RESV_PTPL_SET = 3,
};

/** Reservation Acquire action (RACQA, CDW10 bits 2:0). */
enum nvt_nvme_resv_acquire_action {
	NVT_NVME_RESV_ACQUIRE = 0,
	NVT_NVME_RESV_PREEMPT = 1,
	NVT_NVME_RESV_PREEMPT_ABORT = 2,
};

/** Reservation Release action (RRELA, CDW10 bits 2:0). */
enum nvt_nvme_resv_release_action {
	NVT_NVME_RESV_RELEASE = 0,
	NVT_NVME_RESV_CLEAR = 1,
};

/** The action of Register, Acquire or Release (CDW10 bits 2:0). */
static inline uint8_t
nvt_nvme_resv_action(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->cdw10 & 0x7u);
}

/** Ignore Existing Key (CDW10 bit 3). */
static inline bool
nvt_nvme_resv_iekey(const struct nvt_nvme_cmd *cmd)
{
	return (cmd->cdw10 & (1u << 3)) != 0;
}

/** Reservation type of Acquire and Release (CDW10 bits 15:8). */
static inline uint8_t
nvt_nvme_resv_rtype(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)((cmd->cdw10 >> 8) & 0xffu);
}

/** CPTPL of Register (CDW10 bits 31:30). */
static inline uint8_t
nvt_nvme_resv_cptpl(const struct nvt_nvme_cmd *cmd)
{
	return (uint8_t)(cmd->cdw10 >> 30);
}

/** Reservation Report: Extended Data Structure (CDW11 bit 0). */
static inline bool
nvt_nvme_resv_report_eds(const struct nvt_nvme_cmd *cmd)
{
	return (cmd->cdw11 & 1u) != 0;
}

/** Register data: current and new key. Acquire data: current and preempt key. */
struct nvt_nvme_resv_keys {
	uint64_t crkey;
	uint64_t nrkey;
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_resv_keys, 16);

/** Reservation Status data structure header, extended form (EDS = 1). */
struct nvt_nvme_resv_status_ext {
	uint32_t gen;
	uint8_t rtype;
	uint8_t regctl[2];
	uint8_t rsvd7[2];
	uint8_t ptpls;
	uint8_t rsvd10[54];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_resv_status_ext, 64);

/** Registrant Status bit 0: the registrant holds the reservation. */
#define NVT_NVME_RESV_RCSTS_HOLDER 0x1u

/** Registered Controller extended data structure (EDS = 1). */
struct nvt_nvme_resv_ctrlr_ext {
	uint16_t cntlid;
	uint8_t rcsts;
	uint8_t rsvd3[5];
	uint64_t rkey;
	uint8_t hostid[16];
	uint8_t rsvd32[32];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_resv_ctrlr_ext, 64);

/** Reservation Notification log page (LID 80h). */
#define NVT_NVME_LOG_RESERVATION_NOTIFICATION 0x80

/** Reservation Notification types (RNLPT). */
enum nvt_nvme_resv_notify_type {
	NVT_NVME_RESV_NOTIFY_EMPTY = 0,
	NVT_NVME_RESV_NOTIFY_REGISTRATION_PREEMPTED = 1,
	NVT_NVME_RESV_NOTIFY_RESERVATION_RELEASED = 2,
	NVT_NVME_RESV_NOTIFY_RESERVATION_PREEMPTED = 3,
};

struct nvt_nvme_resv_notify_log {
	uint64_t log_page_count;
	uint8_t type;
	/** Further pages waiting beyond this one (at most 255). */
	uint8_t num_avail;
	uint8_t rsvd10[2];
	uint32_t nsid;
	uint8_t rsvd16[48];
};
NVT_NVME_SPEC_SIZE(struct nvt_nvme_resv_notify_log, 64);

/** Asynchronous event information of AER type I/O command specific status (6h). */
#define NVT_NVME_AER_INFO_IO_RESV_LOG_AVAILABLE 0x0

/** Reservation Notification Mask feature (82h), CDW11 bits: the masked types. */
#define NVT_NVME_RESV_MASK_REGPRE (1u << 1)
#define NVT_NVME_RESV_MASK_RESREL (1u << 2)
#define NVT_NVME_RESV_MASK_RESPRE (1u << 3)
#define NVT_NVME_RESV_MASK_ALL \
	(NVT_NVME_RESV_MASK_REGPRE | NVT_NVME_RESV_MASK_RESREL | NVT_NVME_RESV_MASK_RESPRE)

/** Reservation Persistence feature (83h), CDW11 bit 0: Persist Through Power Loss. */
#define NVT_NVME_RESV_PERSIST_PTPL 0x1u

/** Identify Controller ONCS bit 5: reservations. */
#define NVT_NVME_ONCS_RESERVATIONS (1u << 5)

/** Identify Namespace RESCAP bits. */
#define NVT_NVME_RESCAP_PTPL	    (1u << 0)
#define NVT_NVME_RESCAP_WE	    (1u << 1)
#define NVT_NVME_RESCAP_EA	    (1u << 2)
#define NVT_NVME_RESCAP_WE_REG_ONLY (1u << 3)
#define NVT_NVME_RESCAP_EA_REG_ONLY (1u << 4)
#define NVT_NVME_RESCAP_WE_ALL_REGS (1u << 5)
#define NVT_NVME_RESCAP_EA_ALL_REGS (1u << 6)
#define NVT_NVME_RESCAP_IEKEY	    (1u << 7)

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVME_RESV_SPEC_H */
