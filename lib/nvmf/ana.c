/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asymmetric Namespace Access: the states of ANA groups per listener (app
 * thread), their Identify fields and log page (controller thread), the ANA
 * change notice, and the check of I/O (I/O threads). See ana.h for who
 * reads what.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"

#include "nvmf_internal.h"

/* Words the app thread writes while other threads read: no tearing, no order. */
#define ANA_LOAD(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define ANA_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* The states through one listener. */
struct nvmf_ana_slot {
	/* App thread: a listener has it; controllers connected through it. */
	bool in_use;
	uint32_t ctrlrs;
	uint32_t num_groups;
	/* The log's change count through this listener. */
	uint64_t chgcnt;
	/* Per group (anagrpid - 1): its state, and chgcnt when it last changed. */
	uint8_t *state;
	uint64_t *grp_chgcnt;
};

struct nvmf_ana {
	uint32_t num_groups;
	/* Allocated on first use, freed with the subsystem. */
	struct nvmf_ana_slot *slots[NVMF_ANA_MAX_LISTENERS];
};

/* ---- app thread ---- */

static struct nvmf_ana_slot *
slot_alloc(uint32_t num_groups)
{
	struct nvmf_ana_slot *slot = calloc(1, sizeof(*slot));

	if (slot == NULL) {
		return NULL;
	}
	slot->num_groups = num_groups;
	slot->state = calloc(num_groups, sizeof(*slot->state));
	slot->grp_chgcnt = calloc(num_groups, sizeof(*slot->grp_chgcnt));
	if (slot->state == NULL || slot->grp_chgcnt == NULL) {
		free(slot->state);
		free(slot->grp_chgcnt);
		free(slot);
		return NULL;
	}
	return slot;
}

/* A free slot (no listener, no controller), fresh: every group optimized. */
static int
slot_get(struct nvmf_ana *ana, uint32_t *index)
{
	struct nvmf_ana_slot *slot;
	uint32_t i, g;

	for (i = 0; i < NVMF_ANA_MAX_LISTENERS; i++) {
		slot = ana->slots[i];
		if (slot != NULL && (slot->in_use || slot->ctrlrs > 0)) {
			continue;
		}
		if (slot == NULL) {
			slot = ana->slots[i] = slot_alloc(ana->num_groups);
			if (slot == NULL) {
				return -ENOMEM;
			}
		}
		for (g = 0; g < slot->num_groups; g++) {
			slot->state[g] = NVT_NVME_ANA_OPTIMIZED;
			slot->grp_chgcnt[g] = 0;
		}
		slot->chgcnt = 0;
		slot->in_use = true;
		*index = i;
		return 0;
	}
	return -ENOSPC;
}

int
nvmf_ana_listener_add(struct nvt_nvmf_subsystem *subsystem, struct nvmf_subsystem_listener *l)
{
	uint32_t index;
	int rc;

	l->ana_slot = 0;
	if (subsystem->ana == NULL) {
		return 0;
	}
	rc = slot_get(subsystem->ana, &index);
	if (rc == -ENOSPC) {
		NVT_ERRLOG(
			"%s: listener %s:%s refused: ANA reporting serves %u listeners at most\n",
			subsystem->nqn, l->trid.traddr, l->trid.trsvcid, NVMF_ANA_MAX_LISTENERS);
	}
	if (rc == 0) {
		l->ana_slot = index + 1;
	}
	return rc;
}

void
nvmf_ana_listener_remove(struct nvt_nvmf_subsystem *subsystem, struct nvmf_subsystem_listener *l)
{
	if (subsystem->ana != NULL && l->ana_slot != 0) {
		/* Controllers still connected through it keep reading it. */
		subsystem->ana->slots[l->ana_slot - 1]->in_use = false;
	}
	l->ana_slot = 0;
}

static struct nvmf_subsystem_listener *
ana_find_listener(const struct nvt_nvmf_subsystem *subsystem, const struct nvt_nvmf_trid *trid)
{
	struct nvmf_subsystem_listener *l;

	TAILQ_FOREACH(l, &subsystem->listeners, link) {
		if (nvt_nvmf_trid_equal(&l->trid, trid)) {
			return l;
		}
	}
	return NULL;
}

void
nvmf_ana_ctrlr_attach(struct nvmf_ctrlr *ctrlr)
{
	struct nvt_nvmf_subsystem *subsystem = ctrlr->subsystem;
	struct nvmf_subsystem_listener *l;

	if (subsystem->ana == NULL) {
		return;
	}
	l = ana_find_listener(subsystem, &ctrlr->listen_trid);
	if (l == NULL || l->ana_slot == 0) {
		return;
	}
	ctrlr->ana.slot = subsystem->ana->slots[l->ana_slot - 1];
	ctrlr->ana.slot->ctrlrs++;
}

void
nvmf_ana_ctrlr_detach(struct nvmf_ctrlr *ctrlr)
{
	if (ctrlr->ana.slot != NULL) {
		ctrlr->ana.slot->ctrlrs--;
	}
}

static void
ana_free(struct nvmf_ana *ana)
{
	uint32_t i;

	for (i = 0; i < NVMF_ANA_MAX_LISTENERS; i++) {
		if (ana->slots[i] != NULL) {
			free(ana->slots[i]->state);
			free(ana->slots[i]->grp_chgcnt);
			free(ana->slots[i]);
		}
	}
	free(ana);
}

void
nvmf_ana_free(struct nvt_nvmf_subsystem *subsystem)
{
	if (subsystem->ana != NULL) {
		ana_free(subsystem->ana);
		subsystem->ana = NULL;
	}
}

/* Give every listener a slot; on failure none has one. */
static int
ana_enable(struct nvt_nvmf_subsystem *subsystem)
{
	struct nvmf_subsystem_listener *l;
	int rc = 0;

	subsystem->ana = calloc(1, sizeof(*subsystem->ana));
	if (subsystem->ana == NULL) {
		return -ENOMEM;
	}
	subsystem->ana->num_groups = subsystem->max_nsid;
	TAILQ_FOREACH(l, &subsystem->listeners, link) {
		rc = rc != 0 ? rc : nvmf_ana_listener_add(subsystem, l);
	}
	if (rc != 0) {
		TAILQ_FOREACH(l, &subsystem->listeners, link) {
			l->ana_slot = 0;
		}
		nvmf_ana_free(subsystem);
	}
	return rc;
}

int
nvt_nvmf_subsystem_set_ana_reporting(struct nvt_nvmf_subsystem *subsystem, bool enable)
{
	struct nvmf_subsystem_listener *l;

	if (enable == (subsystem->ana != NULL)) {
		return 0;
	}
	/* Controllers hold slots and read them without locks. */
	if (!TAILQ_EMPTY(&subsystem->ctrlrs) || subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY) {
		return -EBUSY;
	}
	if (enable) {
		return ana_enable(subsystem);
	}
	TAILQ_FOREACH(l, &subsystem->listeners, link) {
		l->ana_slot = 0;
	}
	nvmf_ana_free(subsystem);
	return 0;
}

bool
nvt_nvmf_subsystem_get_ana_reporting(const struct nvt_nvmf_subsystem *subsystem)
{
	return subsystem->ana != NULL;
}

enum nvt_nvme_ana_state
nvmf_ana_listener_state(const struct nvt_nvmf_subsystem *subsystem,
			const struct nvmf_subsystem_listener *l, uint32_t anagrpid)
{
	if (subsystem->ana == NULL || l->ana_slot == 0 || anagrpid == 0 ||
	    anagrpid > subsystem->ana->num_groups) {
		return NVT_NVME_ANA_OPTIMIZED;
	}
	return subsystem->ana->slots[l->ana_slot - 1]->state[anagrpid - 1];
}

int
nvt_nvmf_subsystem_get_ana_state(const struct nvt_nvmf_subsystem *subsystem,
				 const struct nvt_nvmf_trid *trid, uint32_t anagrpid,
				 enum nvt_nvme_ana_state *state)
{
	const struct nvmf_subsystem_listener *l;

	if (subsystem->ana == NULL) {
		return -EPERM;
	}
	if (anagrpid == 0 || anagrpid > subsystem->ana->num_groups) {
		return -EINVAL;
	}
	l = ana_find_listener(subsystem, trid);
	if (l == NULL) {
		return -ENOENT;
	}
	*state = nvmf_ana_listener_state(subsystem, l, anagrpid);
	return 0;
}

struct ana_notice {
	struct nvmf_ctrlr *ctrlr;
	struct nvt_thread_msg msg;
};

/*
 * Controller thread. The controller cannot be freed before this runs: its
 * free is a message from the app thread sent after this one.
 */
static void
ana_notice_msg(void *ctx)
{
	struct ana_notice *n = ctx;
	struct nvmf_ctrlr *ctrlr = n->ctrlr;

	free(n);
	if (ctrlr->state != NVMF_CTRLR_ACTIVE ||
	    !(ctrlr->feat.async_event_configuration & NVT_NVME_AEC_ANA_CHANGE_NOTICE)) {
		return;
	}
	ctrlr->ana.change_pending = true;
	nvmf_admin_aer_try_notify(ctrlr);
}

/* Tell the controllers reading \p slot (every one with a slot when NULL). */
static void
ana_notify(struct nvt_nvmf_subsystem *subsystem, const struct nvmf_ana_slot *slot)
{
	struct nvmf_ctrlr *ctrlr;
	struct ana_notice *n;

	TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
		if (ctrlr->ana.slot == NULL || (slot != NULL && ctrlr->ana.slot != slot)) {
			continue;
		}
		n = calloc(1, sizeof(*n));
		if (n == NULL) {
			NVT_ERRLOG("%s cntlid %u: ANA change: no memory to tell the host\n",
				   subsystem->nqn, ctrlr->cntlid);
			continue;
		}
		n->ctrlr = ctrlr;
		if (nvmf_send_msg(ctrlr->thread, &n->msg, ana_notice_msg, n, "ANA change notice") !=
		    0) {
			free(n);
		}
	}
}

/* Set groups first..last of \p slot to \p state; whether any changed. */
static bool
slot_set(struct nvmf_ana_slot *slot, uint32_t first, uint32_t last, uint8_t state)
{
	uint64_t chgcnt = slot->chgcnt + 1;
	bool changed = false;
	uint32_t g;

	for (g = first; g <= last; g++) {
		if (slot->state[g - 1] != state) {
			ANA_STORE(&slot->state[g - 1], state);
			ANA_STORE(&slot->grp_chgcnt[g - 1], chgcnt);
			changed = true;
		}
	}
	if (changed) {
		ANA_STORE(&slot->chgcnt, chgcnt);
	}
	return changed;
}

int
nvt_nvmf_subsystem_set_ana_state(struct nvt_nvmf_subsystem *subsystem,
				 const struct nvt_nvmf_trid *trid, enum nvt_nvme_ana_state state,
				 uint32_t anagrpid)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_ana_slot *slot;

	if (subsystem->ana == NULL) {
		return -EPERM;
	}
	if (state != NVT_NVME_ANA_OPTIMIZED && state != NVT_NVME_ANA_NON_OPTIMIZED &&
	    state != NVT_NVME_ANA_INACCESSIBLE) {
		return -ENOTSUP;
	}
	if (anagrpid > subsystem->ana->num_groups) {
		return -EINVAL;
	}
	l = ana_find_listener(subsystem, trid);
	if (l == NULL || l->ana_slot == 0) {
		return -ENOENT;
	}
	slot = subsystem->ana->slots[l->ana_slot - 1];
	if (slot_set(slot, anagrpid == 0 ? 1 : anagrpid,
		     anagrpid == 0 ? slot->num_groups : anagrpid, (uint8_t)state)) {
		if (anagrpid == 0) {
			NVT_NOTICELOG("%s: listener %s:%s: every ANA group now %s\n",
				      subsystem->nqn, trid->traddr, trid->trsvcid,
				      nvmf_ana_state_str(state));
		} else {
			NVT_NOTICELOG("%s: listener %s:%s: ANA group %u now %s\n", subsystem->nqn,
				      trid->traddr, trid->trsvcid, anagrpid,
				      nvmf_ana_state_str(state));
		}
		ana_notify(subsystem, slot);
	}
	return 0;
}

int
nvt_nvmf_subsystem_set_ns_ana_group(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid,
				    uint32_t anagrpid)
{
	struct nvmf_ns *ns;
	uint32_t i;

	if (nsid == 0 || nsid > subsystem->max_nsid || subsystem->ns[nsid - 1] == NULL) {
		return -ENOENT;
	}
	if (anagrpid == 0 || anagrpid > subsystem->max_nsid) {
		return -EINVAL;
	}
	ns = subsystem->ns[nsid - 1];
	if (ns->opts.anagrpid == anagrpid) {
		return 0;
	}
	ANA_STORE(&ns->opts.anagrpid, anagrpid);
	if (subsystem->ana == NULL) {
		return 0;
	}
	/* Every listener's log changes: the groups' NSID lists do. */
	for (i = 0; i < NVMF_ANA_MAX_LISTENERS; i++) {
		if (subsystem->ana->slots[i] != NULL) {
			ANA_STORE(&subsystem->ana->slots[i]->chgcnt,
				  subsystem->ana->slots[i]->chgcnt + 1);
		}
	}
	ana_notify(subsystem, NULL);
	return 0;
}

const char *
nvmf_ana_state_str(enum nvt_nvme_ana_state state)
{
	switch (state) {
	case NVT_NVME_ANA_OPTIMIZED:
		return "optimized";
	case NVT_NVME_ANA_NON_OPTIMIZED:
		return "non_optimized";
	case NVT_NVME_ANA_INACCESSIBLE:
		return "inaccessible";
	case NVT_NVME_ANA_PERSISTENT_LOSS:
		return "persistent_loss";
	case NVT_NVME_ANA_CHANGE:
		return "change";
	}
	return "unknown";
}

int
nvmf_ana_state_parse(const char *str, enum nvt_nvme_ana_state *state)
{
	static const enum nvt_nvme_ana_state states[] = { NVT_NVME_ANA_OPTIMIZED,
							  NVT_NVME_ANA_NON_OPTIMIZED,
							  NVT_NVME_ANA_INACCESSIBLE };
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(str, nvmf_ana_state_str(states[i])) == 0) {
			*state = states[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- controller thread ---- */

void
nvmf_ana_identify_ctrlr(const struct nvmf_ctrlr *ctrlr, struct nvt_nvme_id_ctrl *cd)
{
	const struct nvt_nvmf_subsystem *subsystem = ctrlr->subsystem;

	/* Set before any controller exists, not changed while one does. */
	if (subsystem->ana == NULL) {
		return;
	}
	cd->cmic |= NVT_NVME_CMIC_ANA;
	cd->oaes |= NVT_NVME_OAES_ANA_CHANGE;
	cd->anatt = NVMF_ANATT_S;
	/* Optimized, non-optimized, inaccessible; a namespace may change group. */
	cd->anacap = (1u << 0) | (1u << 1) | (1u << 2);
	cd->anagrpmax = subsystem->max_nsid;
	cd->nanagrpid = subsystem->max_nsid;
	/* The Linux host sizes its ANA log buffer with MNAN and wants it in 1..NN. */
	cd->mnan = subsystem->max_nsid;
}

/* The anagrpid of every active namespace as \p ctrlr sees it (0: none). */
static void
ana_ns_groups(struct nvmf_ctrlr *ctrlr, uint32_t *grp, uint32_t *count, uint32_t num_groups)
{
	struct nvt_nvmf_subsystem *subsystem = ctrlr->subsystem;
	struct nvmf_pg_ns *pns;
	uint32_t nsid, g;

	for (nsid = 1; nsid <= subsystem->max_nsid; nsid++) {
		pns = nvmf_pg_get_ns(ctrlr->admin_qpair->group, subsystem, nsid);
		g = pns != NULL ? ANA_LOAD(&pns->ns->opts.anagrpid) : 0;
		grp[nsid - 1] = g >= 1 && g <= num_groups ? g : 0;
		if (grp[nsid - 1] != 0) {
			count[g - 1]++;
		}
	}
}

/* The descriptor of group \p g (NSIDs ascending, none with RGO); its size. */
static size_t
ana_put_desc(uint8_t *p, const struct nvmf_ctrlr *ctrlr, const uint32_t *grp, uint32_t count,
	     uint32_t g, bool rgo)
{
	const struct nvmf_ana_slot *slot = ctrlr->ana.slot;
	struct nvt_nvme_ana_group_desc desc = { .anagrpid = g, .state = NVT_NVME_ANA_OPTIMIZED };
	uint32_t nsid, n = 0;

	if (slot != NULL) {
		desc.state = ANA_LOAD(&slot->state[g - 1]);
		desc.chgcnt = ANA_LOAD(&slot->grp_chgcnt[g - 1]);
	}
	desc.nnsids = rgo ? 0 : count;
	memcpy(p, &desc, sizeof(desc));
	for (nsid = 1; !rgo && n < count && nsid <= ctrlr->subsystem->max_nsid; nsid++) {
		if (grp[nsid - 1] == g) {
			memcpy(p + sizeof(desc) + 4 * n++, &nsid, 4);
		}
	}
	return sizeof(desc) + (rgo ? 0 : 4 * (size_t)count);
}

static size_t
ana_build_log(uint8_t *page, struct nvmf_ctrlr *ctrlr, const uint32_t *grp, const uint32_t *count,
	      uint32_t num_groups, bool rgo)
{
	struct nvt_nvme_ana_log_hdr hdr = { 0 };
	size_t off = sizeof(hdr);
	uint32_t g;

	if (ctrlr->ana.slot != NULL) {
		hdr.chgcnt = ANA_LOAD(&ctrlr->ana.slot->chgcnt);
	}
	for (g = 1; g <= num_groups; g++) {
		if (count[g - 1] > 0) {
			off += ana_put_desc(page + off, ctrlr, grp, count[g - 1], g, rgo);
			hdr.ngrps++;
		}
	}
	memcpy(page, &hdr, sizeof(hdr));
	return off;
}

void
nvmf_ana_get_log(struct nvmf_request *req, struct nvmf_ctrlr *ctrlr, uint64_t off, uint64_t len)
{
	uint32_t num_groups = ctrlr->subsystem->max_nsid, nns = ctrlr->subsystem->max_nsid;
	bool rgo = (nvt_nvme_get_log_lsp(&req->cmd->cmd) & NVT_NVME_ANA_LOG_RGO) != 0;
	uint32_t *grp = calloc(nns, sizeof(*grp)), *count = calloc(num_groups, sizeof(*count));
	size_t max = sizeof(struct nvt_nvme_ana_log_hdr) +
		     num_groups * sizeof(struct nvt_nvme_ana_group_desc) + 4 * (size_t)nns;
	uint8_t *page = calloc(1, max);
	size_t size;

	if (ctrlr->subsystem->ana == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_COMMAND_SPECIFIC,
				    NVT_NVME_SC_INVALID_LOG_PAGE, true);
	} else if (grp == NULL || count == NULL || page == NULL) {
		nvmf_req_set_status(req, NVT_NVME_SCT_GENERIC, NVT_NVME_SC_INTERNAL_ERROR, false);
	} else {
		ana_ns_groups(ctrlr, grp, count, num_groups);
		size = ana_build_log(page, ctrlr, grp, count, num_groups, rgo);
		if (off < size) {
			nvmf_request_copy_to_iov(req, 0, page + off,
						 size - off < len ? size - (size_t)off
								  : (size_t)len);
		}
		if (!nvt_nvme_get_log_rae(&req->cmd->cmd)) {
			ctrlr->ana.notice_masked = false;
			nvmf_admin_aer_try_notify(ctrlr);
		}
	}
	free(grp);
	free(count);
	free(page);
}

bool
nvmf_ana_take_notice(struct nvmf_ctrlr *ctrlr)
{
	if (!ctrlr->ana.change_pending || ctrlr->ana.notice_masked) {
		return false;
	}
	ctrlr->ana.change_pending = false;
	ctrlr->ana.notice_masked = true;
	return true;
}

/* ---- I/O thread ---- */

bool
nvmf_ana_io_refused(struct nvmf_request *req, const struct nvmf_ns *ns)
{
	const struct nvmf_ana_slot *slot = req->qpair->ctrlr->ana.slot;
	uint32_t g;
	uint8_t sc;

	if (slot == NULL) {
		return false;
	}
	g = ANA_LOAD(&ns->opts.anagrpid);
	if (g == 0 || g > slot->num_groups) {
		return false;
	}
	switch (ANA_LOAD(&slot->state[g - 1])) {
	case NVT_NVME_ANA_INACCESSIBLE:
		sc = NVT_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE;
		break;
	case NVT_NVME_ANA_PERSISTENT_LOSS:
		sc = NVT_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS;
		break;
	case NVT_NVME_ANA_CHANGE:
		sc = NVT_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION;
		break;
	default:
		return false;
	}
	/* DNR clear: the host retries on another path. */
	nvmf_req_set_status(req, NVT_NVME_SCT_PATH, sc, false);
	return true;
}
