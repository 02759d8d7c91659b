/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transport addresses and the listen addresses of subsystems (app thread):
 * adding one listens on it (shared between subsystems, counted by the
 * target), removing one stops listening and disconnects the controllers that
 * came through it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvtcp/log.h"

#include "nvmf_internal.h"

/* ---- transport ids ---- */

bool
nvt_nvmf_trid_equal(const struct nvt_nvmf_trid *a, const struct nvt_nvmf_trid *b)
{
	return a->trtype == b->trtype && a->adrfam == b->adrfam &&
	       strcmp(a->traddr, b->traddr) == 0 && strcmp(a->trsvcid, b->trsvcid) == 0;
}

int
nvt_nvmf_parse_trtype(const char *str, enum nvt_nvmf_trtype *trtype)
{
	if (str == NULL || strcasecmp(str, "TCP") != 0) {
		return -EINVAL;
	}
	*trtype = NVT_NVMF_TRTYPE_TCP;
	return 0;
}

int
nvt_nvmf_parse_adrfam(const char *str, enum nvt_nvmf_adrfam *adrfam)
{
	if (str != NULL && strcasecmp(str, "IPv4") == 0) {
		*adrfam = NVT_NVMF_ADRFAM_IPV4;
	} else if (str != NULL && strcasecmp(str, "IPv6") == 0) {
		*adrfam = NVT_NVMF_ADRFAM_IPV6;
	} else {
		return -EINVAL;
	}
	return 0;
}

const char *
nvt_nvmf_trtype_str(enum nvt_nvmf_trtype trtype)
{
	return trtype == NVT_NVMF_TRTYPE_TCP ? "TCP" : "unknown";
}

const char *
nvt_nvmf_adrfam_str(enum nvt_nvmf_adrfam adrfam)
{
	switch (adrfam) {
	case NVT_NVMF_ADRFAM_IPV4:
		return "IPv4";
	case NVT_NVMF_ADRFAM_IPV6:
		return "IPv6";
	default:
		return "unknown";
	}
}

/* ---- listeners ---- */

static struct nvmf_subsystem_listener *
subsystem_find_listener(const struct nvt_nvmf_subsystem *subsystem,
			const struct nvt_nvmf_trid *trid)
{
	struct nvmf_subsystem_listener *l;

	TAILQ_FOREACH(l, &subsystem->listeners, link) {
		if (nvt_nvmf_trid_equal(&l->trid, trid)) {
			return l;
		}
	}
	return NULL;
}

bool
nvmf_subsystem_listener_allowed(const struct nvt_nvmf_subsystem *subsystem,
				const struct nvt_nvmf_trid *trid)
{
	/* The discovery subsystem answers on every listener of the target. */
	if (subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY) {
		return true;
	}
	return subsystem_find_listener(subsystem, trid) != NULL;
}

int
nvt_nvmf_subsystem_add_listener(struct nvt_nvmf_subsystem *subsystem,
				const struct nvt_nvmf_trid *trid)
{
	return nvt_nvmf_subsystem_add_listener_ext(subsystem, trid, NULL);
}

bool
nvt_nvmf_subsystem_listener_is_secure(const struct nvt_nvmf_subsystem *subsystem,
				      const struct nvt_nvmf_trid *trid)
{
	const struct nvmf_subsystem_listener *l = subsystem_find_listener(subsystem, trid);

	return l != NULL && l->secure_channel;
}

int
nvt_nvmf_subsystem_add_listener_ext(struct nvt_nvmf_subsystem *subsystem,
				    const struct nvt_nvmf_trid *trid,
				    const struct nvt_nvmf_listen_opts *opts)
{
	bool secure = opts != NULL && opts->secure_channel;
	struct nvmf_subsystem_listener *l;
	int rc;

	if (subsystem_find_listener(subsystem, trid) != NULL) {
		return -EEXIST;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	rc = nvmf_tgt_listen(subsystem->tgt, trid, secure, &l->transport);
	if (rc != 0) {
		free(l);
		return rc;
	}
	l->trid = *trid;
	l->secure_channel = secure;
	rc = nvmf_ana_listener_add(subsystem, l);
	if (rc != 0) {
		nvmf_tgt_stop_listen(subsystem->tgt, trid);
		free(l);
		return rc;
	}
	TAILQ_INSERT_TAIL(&subsystem->listeners, l, link);
	nvmf_discovery_changed(subsystem->tgt);
	return 0;
}

/* A controller's disconnection for a reason of its own (storage of one message). */
struct ctrlr_drop {
	struct nvmf_ctrlr *ctrlr;
	struct nvt_thread_msg msg;
};

/*
 * Controller thread. The controller is still there: its free is a message
 * from the app thread sent after this one.
 */
static void
ctrlr_drop_msg(void *ctx)
{
	struct ctrlr_drop *d = ctx;
	struct nvmf_ctrlr *ctrlr = d->ctrlr;

	free(d);
	nvmf_ctrlr_disconnect(ctrlr);
}

/*
 * The controllers that connected through \p trid lose it: as SPDK does, they
 * are disconnected, so that a host sees the path go (and, with multipath,
 * fails over) rather than keep a path that the target no longer offers.
 */
static void
listener_drop_ctrlrs(struct nvt_nvmf_subsystem *subsystem, const struct nvt_nvmf_trid *trid)
{
	struct nvmf_ctrlr *ctrlr;
	struct ctrlr_drop *d;

	TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
		if (!nvt_nvmf_trid_equal(&ctrlr->listen_trid, trid)) {
			continue;
		}
		NVT_NOTICELOG("%s: listener %s:%s removed: disconnecting cntlid %u of %s\n",
			      subsystem->nqn, trid->traddr, trid->trsvcid, ctrlr->cntlid,
			      ctrlr->hostnqn);
		d = calloc(1, sizeof(*d));
		if (d == NULL) {
			NVT_ERRLOG("%s cntlid %u: no memory to disconnect it\n", subsystem->nqn,
				   ctrlr->cntlid);
			continue;
		}
		d->ctrlr = ctrlr;
		if (nvmf_send_msg(ctrlr->thread, &d->msg, ctrlr_drop_msg, d, "listener removal") !=
		    0) {
			free(d);
		}
	}
}

int
nvt_nvmf_subsystem_remove_listener(struct nvt_nvmf_subsystem *subsystem,
				   const struct nvt_nvmf_trid *trid)
{
	struct nvmf_subsystem_listener *l = subsystem_find_listener(subsystem, trid);

	if (l == NULL) {
		return -ENOENT;
	}
	TAILQ_REMOVE(&subsystem->listeners, l, link);
	nvmf_tgt_stop_listen(subsystem->tgt, &l->trid);
	nvmf_ana_listener_remove(subsystem, l);
	listener_drop_ctrlrs(subsystem, &l->trid);
	free(l);
	nvmf_discovery_changed(subsystem->tgt);
	return 0;
}

size_t
nvt_nvmf_subsystem_get_listeners(const struct nvt_nvmf_subsystem *subsystem,
				 struct nvt_nvmf_trid *trids, size_t max)
{
	struct nvmf_subsystem_listener *l;
	size_t n = 0;

	TAILQ_FOREACH(l, &subsystem->listeners, link) {
		if (n < max) {
			trids[n] = l->trid;
		}
		n++;
	}
	return n;
}
