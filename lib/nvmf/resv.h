/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe reservations of the target's namespaces.
 *
 * Scope: one target. Registrants and the holder are hosts, named by the
 * 128-bit Host Identifier of their Fabrics Connect: every controller of a
 * host shares its registration.
 *
 * Threads and ownership:
 *  - struct nvmf_resv (the state, one per namespace) belongs to the app
 *    thread; so do its changes (resv_state.c, pure functions) and its
 *    persistence (resv_ptpl.c).
 *  - Every change makes a new immutable struct nvmf_resv_snap, published to
 *    every poll group (struct nvmf_pg_ns.resv); poll groups read it without
 *    locks to check I/O. The old snapshot is freed on the app thread once
 *    every group holds the new one; a reservation command completes only
 *    then (and after the PTPL file is written), so no I/O sent after its
 *    completion sees the old state.
 *  - struct nvmf_resv_ctrlr (notification log, masks, event state) belongs
 *    to the controller's thread (resv_ctrlr.c).
 */
#ifndef NVMF_RESV_H
#define NVMF_RESV_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/nvme_resv_spec.h"

struct nvmf_request;
struct nvmf_pg_ns;
struct nvmf_ns;
struct nvmf_ctrlr;

/* Hosts registered at once on one namespace. */
#define NVMF_RESV_MAX_REGS 32

struct nvmf_resv_reg {
	uint8_t hostid[16];
	uint64_t rkey;
};

/* What poll groups see: immutable once published. */
struct nvmf_resv_snap {
	uint8_t rtype;
	/* Persist Through Power Loss is on (Get Features 83h reads it here). */
	bool ptpl;
	/* Single-holder types: the holder. All-registrants types: unused. */
	uint8_t holder[16];
	uint32_t nregs;
	uint8_t regs[NVMF_RESV_MAX_REGS][16];
};

/* A namespace's reservation state (app thread). */
struct nvmf_resv {
	uint32_t gen;
	uint8_t rtype;
	/* Index in regs of the holder of a single-holder type; -1 otherwise. */
	int holder;
	uint32_t nregs;
	struct nvmf_resv_reg regs[NVMF_RESV_MAX_REGS];
	/* Persist Through Power Loss: on, and the file (NULL: not offered). */
	bool ptpl;
	char *ptpl_file;
	/* The snapshot poll groups have (or are being given). */
	struct nvmf_resv_snap *snap;
};

/* Who a state change must tell: hosts with the notification type for each. */
struct nvmf_resv_notices {
	uint32_t n;
	struct {
		uint8_t hostid[16];
		uint8_t type; /* enum nvt_nvme_resv_notify_type */
	} to[NVMF_RESV_MAX_REGS];
};

/* The input of one command to the state machine. */
struct nvmf_resv_cmd {
	/* A reservation opcode, or Set Features (83h: Reservation Persistence). */
	uint8_t opc;
	uint32_t cdw10;
	uint32_t cdw11;
	uint8_t hostid[16];
	uint64_t crkey;
	/* NRKEY (Register) or PRKEY (Acquire). */
	uint64_t key2;
};

/* ---- resv_state.c: pure, any thread on storage it owns ---- */

void nvmf_resv_state_init(struct nvmf_resv *r);
/*
 * Run Register, Acquire or Release \p c on \p r. Returns the NVMe status
 * (nvt_nvme_status_make(), 0 on success); \p out gets the hosts to notify;
 * \p ptpl_want is set to the CPTPL asked (-1: no change, 0, 1), already
 * checked against r->ptpl_file.
 */
uint16_t nvmf_resv_state_exec(struct nvmf_resv *r, const struct nvmf_resv_cmd *c,
			      struct nvmf_resv_notices *out, int *ptpl_want);
/* A new snapshot of \p r for poll groups; NULL without memory. */
struct nvmf_resv_snap *nvmf_resv_state_snap(const struct nvmf_resv *r);
/*
 * The NVMe status of command \p opc from host \p hostid under \p s (NULL: no
 * reservation): 0 when allowed, else Reservation Conflict.
 */
uint16_t nvmf_resv_check(const struct nvmf_resv_snap *s, const uint8_t hostid[16], uint8_t opc);
/* The extended Reservation Status data of \p r into \p buf (\p len bytes). */
void nvmf_resv_state_report(const struct nvmf_resv *r, void *buf, uint32_t len);

/* ---- resv_ptpl.c: app thread ---- */

/*
 * Load \p r's state from r->ptpl_file for the bdev of UUID \p bdev_uuid. A
 * missing file is no state (0). -EBADMSG when the file is not a valid
 * reservation file (logged, naming the file and the reason), or -errno.
 */
int nvmf_resv_ptpl_load(struct nvmf_resv *r, const uint8_t bdev_uuid[16]);
/* Write \p r to r->ptpl_file atomically (temp file, fsync, rename). 0 or -errno. */
int nvmf_resv_ptpl_save(const struct nvmf_resv *r, const uint8_t bdev_uuid[16]);

/* ---- resv.c: the commands and the namespace's life ---- */

/*
 * I/O qpair thread: the one hook of nvmf_io_exec(). Takes reservation
 * commands (sent to the app thread, completed later) and refuses commands
 * that conflict with the reservation (completed now). Returns true when it
 * took \p req, false when the caller goes on.
 */
bool nvmf_resv_io_filter(struct nvmf_request *req, struct nvmf_pg_ns *pns);
/*
 * App thread, namespace addition: the state of \p ns, loaded from \p
 * ptpl_file (may be NULL). 0, -EBADMSG (bad file, logged) or -errno.
 */
int nvmf_resv_ns_init(struct nvmf_ns *ns, const char *ptpl_file);
/* App thread, once no poll group holds the namespace: free its state. */
void nvmf_resv_ns_fini(struct nvmf_ns *ns);
/* Any thread (poll group syncing its table): the snapshot to start from. */
const struct nvmf_resv_snap *nvmf_resv_ns_snap(const struct nvmf_ns *ns);
/* App thread: the PTPL file of \p ns, NULL when none (save_config). */
const char *nvmf_resv_ns_ptpl_file(const struct nvmf_ns *ns);
/* Identify Namespace RESCAP of \p ns. */
uint8_t nvmf_resv_rescap(const struct nvmf_ns *ns);

/* ---- resv_drain.c: Preempt and Abort waits for admitted commands ---- */

struct nvt_nvmf_subsystem;

/*
 * Poll group thread: \p req passed the reservation check of \p pns and goes
 * to the bdev; nvmf_resv_io_done() once it completed (either way).
 */
void nvmf_resv_io_admitted(struct nvmf_request *req, struct nvmf_pg_ns *pns);
void nvmf_resv_io_done(struct nvmf_request *req, struct nvmf_pg_ns *pns);
/*
 * App thread, after every poll group holds the new snapshot of \p ns: call
 * \p done on the app thread once every command of the namespace admitted
 * before has completed in every group. At most one drain per namespace at a
 * time.
 */
void nvmf_resv_drain(struct nvt_nvmf_subsystem *subsystem, const struct nvmf_ns *ns, uint32_t nsid,
		     void (*done)(void *), void *arg);

/* ---- resv_ctrlr.c: the controller's thread ---- */

/* A notification of \p type on \p nsid for \p ctrlr (from resv.c's message). */
void nvmf_resv_ctrlr_notify(struct nvmf_ctrlr *ctrlr, uint32_t nsid, uint8_t type);
/*
 * The one hook of nvmf_admin_exec(): Get Log Page 80h, Get and Set Features
 * 82h and 83h. True when it took \p req (completed now or later), false for
 * every other command.
 */
bool nvmf_resv_admin_exec(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr);
/* resv.c: Set Features 83h, run on the app thread like a reservation command. */
void nvmf_resv_submit_ptpl(struct nvmf_request *req);
/* An event to report through an AER: true with its CDW0 in \p cdw0 (then masked). */
bool nvmf_resv_ctrlr_take_event(struct nvmf_ctrlr *ctrlr, uint32_t *cdw0);
/* The controller is going away: free its state. */
void nvmf_resv_ctrlr_free(struct nvmf_ctrlr *ctrlr);

#endif /* NVMF_RESV_H */
