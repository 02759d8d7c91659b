/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The drain barrier of Preempt and Abort: the Acquire completes only once
 * every command of the namespace admitted before the new reservation reached
 * each poll group has completed, so no command of a preempted host lands
 * after the preempting host was told it holds the namespace.
 *
 * Each poll group's namespace counts its admitted commands in two epochs; a
 * command remembers the epoch it was admitted in. A drain (sent after every
 * group holds the new snapshot) flips the epoch and answers once the old
 * epoch's count is 0. All of it runs on the group's thread: plain counters.
 * Drains of one namespace never overlap (its reservation commands run one
 * at a time), so the epoch a drain flips to has a count of 0.
 */
#include <stdlib.h>

#include "nvtcp/log.h"

#include "nvmf_internal.h"
#include "resv.h"

/* One group's part of a drain (the app thread owns it until sent). */
struct nvmf_resv_drain_slot {
	struct nvmf_resv_drain *drain;
	struct nvmf_poll_group *group;
	struct nvt_thread_msg msg;
};

struct nvmf_resv_drain {
	struct nvt_nvmf_subsystem *subsystem;
	const struct nvmf_ns *ns;
	uint32_t nsid;
	uint32_t left;
	void (*done)(void *);
	void *arg;
	struct nvmf_resv_drain_slot slots[];
};

static void
drain_step_done(void *ctx)
{
	struct nvmf_resv_drain *d = ctx;

	if (--d->left > 0) {
		return;
	}
	d->done(d->arg);
	free(d);
}

/* Group thread: this group's old commands are done. */
static void
drain_answer(struct nvmf_resv_drain_slot *slot)
{
	struct nvmf_resv_drain *d = slot->drain;

	nvmf_send_msg(d->subsystem->tgt->thread, &slot->msg, drain_step_done, d,
		      "reservation drain");
}

static void
drain_group_run(void *ctx)
{
	struct nvmf_resv_drain_slot *slot = ctx;
	struct nvmf_resv_drain *d = slot->drain;
	struct nvmf_pg_ns *pns = nvmf_pg_get_ns(slot->group, d->subsystem, d->nsid);
	uint8_t old;

	if (pns == NULL || pns->ns != d->ns) {
		drain_answer(slot);
		return;
	}
	old = pns->resv_epoch;
	pns->resv_epoch ^= 1;
	if (pns->resv_inflight[old] == 0) {
		drain_answer(slot);
		return;
	}
	pns->resv_drain = slot;
}

void
nvmf_resv_io_admitted(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	req->resv_epoch = pns->resv_epoch;
	pns->resv_inflight[pns->resv_epoch]++;
}

void
nvmf_resv_io_done(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	uint8_t e = req->resv_epoch;

	if (--pns->resv_inflight[e] == 0 && pns->resv_drain != NULL && e != pns->resv_epoch) {
		drain_answer(pns->resv_drain);
		pns->resv_drain = NULL;
	}
}

void
nvmf_resv_drain(struct nvt_nvmf_subsystem *subsystem, const struct nvmf_ns *ns, uint32_t nsid,
		void (*done)(void *), void *arg)
{
	struct nvt_nvmf_tgt *tgt = subsystem->tgt;
	struct nvmf_resv_drain *d =
		calloc(1, sizeof(*d) + tgt->num_groups * sizeof(struct nvmf_resv_drain_slot));
	struct nvmf_resv_drain_slot *slot;
	uint32_t i;

	if (d == NULL) {
		/* Completing without the wait only loses the ordering, not the preemption. */
		NVT_ERRLOG("%s nsid %u: no memory to wait for aborted commands\n", subsystem->nqn,
			   nsid);
		done(arg);
		return;
	}
	*d = (struct nvmf_resv_drain){
		.subsystem = subsystem, .ns = ns, .nsid = nsid, .left = 1, .done = done, .arg = arg
	};
	for (i = 0; i < tgt->num_groups; i++) {
		slot = &d->slots[i];
		slot->drain = d;
		slot->group = tgt->groups[i];
		/* A group that cannot be reached is logged, and not waited for. */
		if (nvmf_send_msg(slot->group->thread, &slot->msg, drain_group_run, slot,
				  "reservation drain") == 0) {
			d->left++;
		}
	}
	drain_step_done(d);
}
