/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asymmetric Namespace Access: per listener, the state of each ANA group.
 *
 * Ownership: the app thread owns the states and changes them; controller
 * threads (Identify, the ANA log) and I/O threads (the check of every
 * command) read them with relaxed loads, without locks. A listener gets a
 * slot of the subsystem's table; a controller keeps a pointer to the slot of
 * the listener it connected through. Slots live as long as the subsystem,
 * which outlives its controllers, so no pointer dangles: a removed
 * listener's slot is reused only once no controller holds it.
 */
#ifndef NVMF_ANA_H
#define NVMF_ANA_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/nvme_spec.h"

/* Listeners of one subsystem with ANA reporting. */
#define NVMF_ANA_MAX_LISTENERS 32
/* ANA Transition Time reported, seconds (no state is transitional here). */
#define NVMF_ANATT_S 10

struct nvmf_ana_slot;
struct nvmf_ana;
struct nvmf_ctrlr;
struct nvmf_request;
struct nvmf_ns;
struct nvmf_subsystem_listener;
struct nvt_nvmf_subsystem;

/* A controller's view: the slot of its listener, and its ANA change notice. */
struct nvmf_ctrlr_ana {
	/* NULL without ANA reporting (or a listener gone before the Connect). */
	struct nvmf_ana_slot *slot;
	/* A change not yet reported (waiting for an AER). Controller thread. */
	bool change_pending;
	/* Notices masked until the host reads the ANA log without RAE. */
	bool notice_masked;
};

/* App thread. */
int nvmf_ana_listener_add(struct nvt_nvmf_subsystem *subsystem, struct nvmf_subsystem_listener *l);
void nvmf_ana_listener_remove(struct nvt_nvmf_subsystem *subsystem,
			      struct nvmf_subsystem_listener *l);
void nvmf_ana_ctrlr_attach(struct nvmf_ctrlr *ctrlr);
void nvmf_ana_ctrlr_detach(struct nvmf_ctrlr *ctrlr);
void nvmf_ana_free(struct nvt_nvmf_subsystem *subsystem);
/* The state of \p anagrpid through a listener (optimized without a slot). */
enum nvt_nvme_ana_state nvmf_ana_listener_state(const struct nvt_nvmf_subsystem *subsystem,
						const struct nvmf_subsystem_listener *l,
						uint32_t anagrpid);
const char *nvmf_ana_state_str(enum nvt_nvme_ana_state state);
/* SPDK's names: optimized, non_optimized, inaccessible; 0 or -EINVAL. */
int nvmf_ana_state_parse(const char *str, enum nvt_nvme_ana_state *state);

/* Controller thread. */
void nvmf_ana_identify_ctrlr(const struct nvmf_ctrlr *ctrlr, struct nvt_nvme_id_ctrl *cd);
void nvmf_ana_get_log(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint64_t off,
		      uint64_t len);
/* Whether an ANA change notice is due now; if so it is taken (and masked). */
bool nvmf_ana_take_notice(struct nvmf_ctrlr *ctrlr);

/* I/O thread: fails \p req (path related status) when \p ns is not reachable here. */
bool nvmf_ana_io_refused(struct nvmf_request *req, const struct nvmf_ns *ns);

#endif /* NVMF_ANA_H */
