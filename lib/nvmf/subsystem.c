/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subsystems and namespaces (app thread), and the per-poll-group namespace
 * tables with their bdev io-channels (poll-group threads), kept in step by
 * messages to every group. Hosts are in host.c, listeners in listener.c.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"

#include "nvmf_internal.h"
#include "resv.h"

/* ---- NQNs ---- */

static bool
nqn_date_is_valid(const char *p)
{
	/* "yyyy-mm." */
	int i;

	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)p[i])) {
			return false;
		}
	}
	return p[4] == '-' && isdigit((unsigned char)p[5]) && isdigit((unsigned char)p[6]) &&
	       p[7] == '.';
}

bool
nvt_nvmf_nqn_is_valid(const char *nqn)
{
	size_t len;
	const char *colon;

	if (nqn == NULL) {
		return false;
	}
	len = strlen(nqn);
	if (len == 0 || len > NVT_NVMF_NQN_MAX_LEN) {
		return false;
	}
	if (strcmp(nqn, NVT_NVMF_DISCOVERY_NQN) == 0) {
		return true;
	}
	if (strncmp(nqn, NVT_NVMF_NQN_UUID_PREFIX, strlen(NVT_NVMF_NQN_UUID_PREFIX)) == 0) {
		return len == strlen(NVT_NVMF_NQN_UUID_PREFIX) + 36;
	}
	if (strncmp(nqn, "nqn.", 4) != 0 || len < 12 || !nqn_date_is_valid(nqn + 4)) {
		return false;
	}
	/* A reverse domain name must follow the date, then optionally ':' and a string. */
	colon = strchr(nqn + 12, ':');
	return (colon == NULL ? len : (size_t)(colon - nqn)) > 12;
}

/* ---- per poll group tables ---- */

static struct nvmf_pg_subsystem *
pg_subsystem(struct nvmf_poll_group *group, const struct nvt_nvmf_subsystem *subsystem)
{
	if (group->sgroups == NULL) {
		return NULL;
	}
	return &group->sgroups[subsystem->id];
}

struct nvmf_pg_ns *
nvmf_pg_get_ns(struct nvmf_poll_group *group, const struct nvt_nvmf_subsystem *subsystem,
	       uint32_t nsid)
{
	struct nvmf_pg_subsystem *sg = pg_subsystem(group, subsystem);
	struct nvmf_pg_ns *pns;

	if (sg == NULL || nsid == 0 || nsid > sg->num_ns) {
		return NULL;
	}
	pns = &sg->ns[nsid - 1];
	return pns->ns != NULL && !pns->removing ? pns : NULL;
}

void
nvmf_pg_subsystem_sync(struct nvmf_poll_group *group, struct nvt_nvmf_subsystem *subsystem)
{
	struct nvmf_pg_subsystem *sg = pg_subsystem(group, subsystem);
	struct nvmf_ns *ns;
	uint32_t i;

	if (sg == NULL) {
		return;
	}
	if (sg->ns == NULL && subsystem->max_nsid > 0) {
		sg->ns = calloc(subsystem->max_nsid, sizeof(*sg->ns));
		sg->num_ns = sg->ns != NULL ? subsystem->max_nsid : 0;
	}
	for (i = 0; i < sg->num_ns; i++) {
		ns = subsystem->ns[i];
		if (ns == NULL || sg->ns[i].ns != NULL) {
			continue;
		}
		sg->ns[i].ch = nvt_bdev_get_io_channel(ns->desc);
		if (sg->ns[i].ch == NULL) {
			NVT_ERRLOG("poll group %u: no io-channel for nsid %u\n", group->index,
				   i + 1);
			continue;
		}
		sg->ns[i].ns = ns;
		sg->ns[i].resv = nvmf_resv_ns_snap(ns);
		sg->ns[i].removing = false;
		sg->ns[i].io_outstanding = 0;
	}
}

int
nvmf_pg_subsystem_build(struct nvmf_poll_group *group, struct nvt_nvmf_subsystem *subsystem)
{
	nvmf_pg_subsystem_sync(group, subsystem);
	return 0;
}

static void pg_ns_release(struct nvmf_poll_group *group, struct nvmf_pg_ns *pns);

void
nvmf_pg_subsystem_free(struct nvmf_poll_group *group, uint32_t id)
{
	struct nvmf_pg_subsystem *sg = &group->sgroups[id];
	uint32_t i;

	for (i = 0; i < sg->num_ns; i++) {
		if (sg->ns[i].ch != NULL) {
			nvt_put_io_channel(sg->ns[i].ch);
		}
	}
	free(sg->ns);
	sg->ns = NULL;
	sg->num_ns = 0;
}

static void
ns_group_released(void *ctx)
{
	struct nvmf_ns *ns = ctx;

	assert(ns->groups_left > 0);
	if (--ns->groups_left > 0) {
		return;
	}
	nvmf_resv_ns_fini(ns);
	nvt_bdev_close(ns->desc);
	if (ns->remove_cb != NULL) {
		ns->remove_cb(ns->remove_ctx, 0);
	}
	/* Every group's release has started running: the storage is free. */
	free(ns->release_msgs);
	free(ns->bdev_name);
	free(ns);
}

/* A poll group is done with a namespace being removed: tell the app thread. */
static void
pg_ns_released(struct nvmf_poll_group *group, struct nvmf_ns *ns)
{
	nvmf_send_msg(group->tgt->thread, &ns->release_msgs[group->index], ns_group_released, ns,
		      "namespace removal");
}

static void
pg_ns_release(struct nvmf_poll_group *group, struct nvmf_pg_ns *pns)
{
	struct nvmf_ns *ns = pns->ns;

	nvt_put_io_channel(pns->ch);
	pns->ch = NULL;
	pns->ns = NULL;
	pns->removing = false;
	pg_ns_released(group, ns);
	/* The slot may have been reused already. */
	nvmf_pg_subsystem_sync(group, ns->subsystem);
}

void
nvmf_pg_ns_io_done(struct nvmf_poll_group *group, struct nvmf_pg_ns *pns)
{
	assert(pns->io_outstanding > 0);
	group->stats.pending_bdev_io--;
	if (--pns->io_outstanding == 0 && pns->removing) {
		pg_ns_release(group, pns);
	}
}

/* ---- subsystems ---- */

static int
subsystem_alloc_id(struct nvt_nvmf_tgt *tgt, struct nvt_nvmf_subsystem *subsystem)
{
	uint32_t i;

	for (i = 0; i < tgt->opts.max_subsystems; i++) {
		if (tgt->subsystem_ids[i] == NULL) {
			tgt->subsystem_ids[i] = subsystem;
			subsystem->id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

int
nvmf_subsystem_create_internal(struct nvt_nvmf_tgt *tgt, const char *nqn,
			       enum nvt_nvmf_subtype subtype, uint32_t max_ns,
			       struct nvt_nvmf_subsystem **out)
{
	struct nvt_nvmf_subsystem *subsystem;

	if (!nvt_nvmf_nqn_is_valid(nqn)) {
		return -EINVAL;
	}
	if (nvt_nvmf_subsystem_find(nqn) != NULL) {
		return -EEXIST;
	}
	subsystem = calloc(1, sizeof(*subsystem));
	if (subsystem == NULL) {
		return -ENOMEM;
	}
	subsystem->ns = max_ns > 0 ? calloc(max_ns, sizeof(*subsystem->ns)) : NULL;
	if ((max_ns > 0 && subsystem->ns == NULL) || subsystem_alloc_id(tgt, subsystem) != 0) {
		free(subsystem->ns);
		free(subsystem);
		return max_ns > 0 && subsystem->ns == NULL ? -ENOMEM : -ENOSPC;
	}
	subsystem->tgt = tgt;
	subsystem->subtype = subtype;
	subsystem->max_nsid = max_ns;
	subsystem->min_cntlid = NVT_NVMF_CNTLID_MIN;
	subsystem->max_cntlid = NVT_NVMF_CNTLID_MAX;
	subsystem->next_cntlid = NVT_NVMF_CNTLID_MIN;
	nvt_strcpy_trunc(subsystem->nqn, sizeof(subsystem->nqn), nqn);
	nvt_strcpy_trunc(subsystem->sn, sizeof(subsystem->sn), NVMF_SN_DEFAULT);
	nvt_strcpy_trunc(subsystem->mn, sizeof(subsystem->mn), NVMF_MN_DEFAULT);
	TAILQ_INIT(&subsystem->hosts);
	TAILQ_INIT(&subsystem->listeners);
	TAILQ_INIT(&subsystem->ctrlrs);
	TAILQ_INSERT_TAIL(&tgt->subsystems, subsystem, link);
	*out = subsystem;
	return 0;
}

int
nvt_nvmf_subsystem_create(const char *nqn, uint32_t max_namespaces,
			  struct nvt_nvmf_subsystem **subsystem)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();

	if (tgt == NULL) {
		return -ENODEV;
	}
	if (nqn != NULL && strcmp(nqn, NVT_NVMF_DISCOVERY_NQN) == 0) {
		return -EEXIST;
	}
	if (max_namespaces == 0) {
		max_namespaces = NVMF_MAX_NS_DEFAULT;
	}
	if (max_namespaces > NVT_NVME_NS_LIST_ENTRIES) {
		return -EINVAL;
	}
	return nvmf_subsystem_create_internal(tgt, nqn, NVT_NVMF_SUBTYPE_NVME, max_namespaces,
					      subsystem);
}

struct nvt_nvmf_subsystem *
nvt_nvmf_subsystem_find(const char *nqn)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct nvt_nvmf_subsystem *subsystem;

	if (tgt == NULL || nqn == NULL) {
		return NULL;
	}
	TAILQ_FOREACH(subsystem, &tgt->subsystems, link) {
		if (strcmp(subsystem->nqn, nqn) == 0) {
			return subsystem;
		}
	}
	return NULL;
}

struct nvt_nvmf_subsystem *
nvt_nvmf_subsystem_first(void)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();

	return tgt != NULL ? TAILQ_FIRST(&tgt->subsystems) : NULL;
}

struct nvt_nvmf_subsystem *
nvt_nvmf_subsystem_next(struct nvt_nvmf_subsystem *prev)
{
	return TAILQ_NEXT(prev, link);
}

const char *
nvt_nvmf_subsystem_get_nqn(const struct nvt_nvmf_subsystem *subsystem)
{
	return subsystem->nqn;
}

bool
nvt_nvmf_subsystem_is_discovery(const struct nvt_nvmf_subsystem *subsystem)
{
	return subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY;
}

static bool
ascii_is_printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e) {
			return false;
		}
	}
	return true;
}

int
nvt_nvmf_subsystem_set_sn(struct nvt_nvmf_subsystem *subsystem, const char *sn)
{
	if (strlen(sn) > NVMF_SN_LEN || !ascii_is_printable(sn)) {
		return -EINVAL;
	}
	nvt_strcpy_trunc(subsystem->sn, sizeof(subsystem->sn), sn);
	return 0;
}

int
nvt_nvmf_subsystem_set_mn(struct nvt_nvmf_subsystem *subsystem, const char *mn)
{
	if (strlen(mn) > NVMF_MN_LEN || !ascii_is_printable(mn)) {
		return -EINVAL;
	}
	nvt_strcpy_trunc(subsystem->mn, sizeof(subsystem->mn), mn);
	return 0;
}

int
nvt_nvmf_subsystem_set_cntlid_range(struct nvt_nvmf_subsystem *subsystem, uint16_t min_cntlid,
				    uint16_t max_cntlid)
{
	if (min_cntlid < NVT_NVMF_CNTLID_MIN || max_cntlid > NVT_NVMF_CNTLID_MAX ||
	    min_cntlid > max_cntlid) {
		return -EINVAL;
	}
	if (!TAILQ_EMPTY(&subsystem->ctrlrs)) {
		return -EBUSY;
	}
	subsystem->min_cntlid = min_cntlid;
	subsystem->max_cntlid = max_cntlid;
	subsystem->next_cntlid = min_cntlid;
	return 0;
}

void
nvt_nvmf_subsystem_set_nvm_limits(struct nvt_nvmf_subsystem *subsystem, uint32_t dmrsl,
				  uint8_t wzsl)
{
	subsystem->dmrsl = dmrsl;
	subsystem->wzsl = wzsl;
}

void
nvt_nvmf_subsystem_set_allow_any_host(struct nvt_nvmf_subsystem *subsystem, bool allow)
{
	subsystem->allow_any_host = allow;
	nvmf_discovery_changed(nvmf_tgt_get());
}

bool
nvt_nvmf_subsystem_get_allow_any_host(const struct nvt_nvmf_subsystem *subsystem)
{
	return subsystem->allow_any_host;
}

/* ---- namespaces ---- */

void
nvt_nvmf_ns_opts_init(struct nvt_nvmf_ns_opts *opts, size_t opts_size)
{
	memset(opts, 0, opts_size);
	opts->opts_size = opts_size;
}

struct ns_change {
	struct nvt_nvmf_subsystem *subsystem;
	struct nvmf_ns *ns;
	uint32_t nsid;
};

struct ctrlr_ns_notice {
	struct nvmf_ctrlr *ctrlr;
	uint32_t nsid;
	struct nvt_thread_msg msg;
};

/*
 * The controller cannot be freed before this runs: its free is a message
 * from the app thread sent after this one (messages keep their order).
 */
static void
ctrlr_ns_changed_msg(void *ctx)
{
	struct ctrlr_ns_notice *n = ctx;

	nvmf_ctrlr_notify_ns_changed(n->ctrlr, n->nsid);
	free(n);
}

void
nvmf_subsystem_ns_changed(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid)
{
	struct nvmf_ctrlr *ctrlr;
	struct ctrlr_ns_notice *n;

	TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
		n = calloc(1, sizeof(*n));
		if (n == NULL) {
			NVT_ERRLOG("%s cntlid %u: nsid %u changed: no memory to tell the host\n",
				   subsystem->nqn, ctrlr->cntlid, nsid);
			continue;
		}
		*n = (struct ctrlr_ns_notice){ .ctrlr = ctrlr, .nsid = nsid };
		if (nvmf_send_msg(ctrlr->thread, &n->msg, ctrlr_ns_changed_msg, n,
				  "namespace change notice") != 0) {
			free(n);
		}
	}
}

static void
ns_add_group(struct nvmf_poll_group *group, void *arg)
{
	struct ns_change *chg = arg;

	nvmf_pg_subsystem_sync(group, chg->subsystem);
}

static void
ns_add_done(void *arg)
{
	struct ns_change *chg = arg;

	nvmf_subsystem_ns_changed(chg->subsystem, chg->nsid);
	free(chg);
}

static void
ns_bdev_event(enum nvt_bdev_event_type type, struct nvt_bdev *bdev, void *ctx)
{
	struct nvmf_ns *ns = ctx;

	(void)bdev;
	if (ns->subsystem->ns[ns->nsid - 1] != ns) {
		return;
	}
	if (type == NVT_BDEV_EVENT_REMOVE) {
		NVT_NOTICELOG("%s: bdev %s removed: removing nsid %u\n", ns->subsystem->nqn,
			      ns->bdev_name, ns->nsid);
		nvt_nvmf_subsystem_remove_ns(ns->subsystem, ns->nsid, NULL, NULL);
	} else if (type == NVT_BDEV_EVENT_RESIZE) {
		/* The size is read from the bdev; hosts are told to identify again. */
		NVT_NOTICELOG("%s: nsid %u: bdev %s resized to %" PRIu64 " blocks\n",
			      ns->subsystem->nqn, ns->nsid, ns->bdev_name, nvmf_ns_num_blocks(ns));
		nvmf_subsystem_ns_changed(ns->subsystem, ns->nsid);
	}
}

static uint32_t
subsystem_pick_nsid(const struct nvt_nvmf_subsystem *subsystem, uint32_t want)
{
	uint32_t i;

	if (want != 0) {
		return want;
	}
	for (i = 0; i < subsystem->max_nsid; i++) {
		if (subsystem->ns[i] == NULL) {
			return i + 1;
		}
	}
	return 0;
}

static int
ns_open(struct nvmf_ns *ns, const char *bdev_name)
{
	int rc;

	ns->bdev_name = strdup(bdev_name);
	if (ns->bdev_name == NULL) {
		return -ENOMEM;
	}
	rc = nvt_bdev_open(bdev_name, true, ns_bdev_event, ns, &ns->desc);
	if (rc == -EPERM) {
		/* A read-only backing: served write protected. */
		ns->read_only = true;
		rc = nvt_bdev_open(bdev_name, false, ns_bdev_event, ns, &ns->desc);
	}
	if (rc != 0) {
		free(ns->bdev_name);
		return rc == -ENOENT ? -ENODEV : rc;
	}
	ns->bdev = nvt_bdev_desc_get_bdev(ns->desc);
	ns->block_size = nvt_bdev_get_block_size(ns->bdev);
	ns->write_cache = nvt_bdev_has_write_cache(ns->bdev);
	if (!ns->opts.uuid_set) {
		memcpy(ns->opts.uuid, nvt_bdev_get_uuid(ns->bdev), sizeof(ns->opts.uuid));
		ns->opts.uuid_set = true;
	}
	/* A stable NGUID lets hosts match the namespace across targets (multipath). */
	if (nvmf_bytes_are_zero(ns->opts.nguid, sizeof(ns->opts.nguid))) {
		memcpy(ns->opts.nguid, ns->opts.uuid, sizeof(ns->opts.nguid));
	}
	return 0;
}

int
nvt_nvmf_subsystem_add_ns(struct nvt_nvmf_subsystem *subsystem, const char *bdev_name,
			  const struct nvt_nvmf_ns_opts *opts)
{
	struct nvmf_ns *ns;
	struct ns_change *chg;
	uint32_t nsid;
	int rc;

	if (subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY) {
		return -EINVAL;
	}
	nsid = subsystem_pick_nsid(subsystem, opts != NULL ? opts->nsid : 0);
	if (nsid == 0) {
		return -ENOSPC;
	}
	if (nsid > subsystem->max_nsid || nsid == NVT_NVME_NSID_ALL) {
		return -EINVAL;
	}
	if (subsystem->ns[nsid - 1] != NULL) {
		return -EEXIST;
	}
	ns = calloc(1, sizeof(*ns));
	chg = calloc(1, sizeof(*chg));
	if (ns == NULL || chg == NULL) {
		free(ns);
		free(chg);
		return -ENOMEM;
	}
	if (opts != NULL) {
		memcpy(&ns->opts, opts,
		       opts->opts_size < sizeof(ns->opts) ? opts->opts_size : sizeof(ns->opts));
	}
	ns->opts.opts_size = sizeof(ns->opts);
	ns->nsid = nsid;
	ns->opts.nsid = nsid;
	ns->opts.anagrpid = ns->opts.anagrpid != 0 ? ns->opts.anagrpid : nsid;
	ns->subsystem = subsystem;
	rc = ns->opts.anagrpid <= subsystem->max_nsid ? ns_open(ns, bdev_name) : -EINVAL;
	if (rc == 0) {
		/* The caller's string: copied by the reservation state, not kept here. */
		rc = nvmf_resv_ns_init(ns, ns->opts.ptpl_file);
		ns->opts.ptpl_file = NULL;
		if (rc != 0) {
			nvt_bdev_close(ns->desc);
			free(ns->bdev_name);
		}
	}
	if (rc != 0) {
		free(ns);
		free(chg);
		return rc;
	}
	subsystem->ns[nsid - 1] = ns;
	subsystem->num_ns++;
	*chg = (struct ns_change){ .subsystem = subsystem, .ns = ns, .nsid = nsid };
	nvmf_tgt_for_each_group(subsystem->tgt, ns_add_group, ns_add_done, chg);
	return (int)nsid;
}

static void
ns_remove_group(struct nvmf_poll_group *group, void *arg)
{
	struct ns_change *chg = arg;
	struct nvmf_pg_subsystem *sg = pg_subsystem(group, chg->subsystem);
	struct nvmf_pg_ns *pns;

	if (sg == NULL || chg->nsid > sg->num_ns || sg->ns[chg->nsid - 1].ns != chg->ns) {
		pg_ns_released(group, chg->ns);
		return;
	}
	pns = &sg->ns[chg->nsid - 1];
	pns->removing = true;
	if (pns->io_outstanding == 0) {
		pg_ns_release(group, pns);
	}
}

static void
ns_remove_done(void *arg)
{
	struct ns_change *chg = arg;

	nvmf_subsystem_ns_changed(chg->subsystem, chg->nsid);
	free(chg);
}

int
nvt_nvmf_subsystem_remove_ns(struct nvt_nvmf_subsystem *subsystem, uint32_t nsid,
			     nvt_nvmf_done_cb cb, void *ctx)
{
	struct nvmf_ns *ns;
	struct ns_change *chg;

	if (nsid == 0 || nsid > subsystem->max_nsid || subsystem->ns[nsid - 1] == NULL) {
		return -ENOENT;
	}
	ns = subsystem->ns[nsid - 1];
	chg = calloc(1, sizeof(*chg));
	ns->release_msgs =
		calloc(NVT_MAX(subsystem->tgt->num_groups, 1u), sizeof(*ns->release_msgs));
	if (chg == NULL || ns->release_msgs == NULL) {
		free(chg);
		free(ns->release_msgs);
		ns->release_msgs = NULL;
		return -ENOMEM;
	}
	subsystem->ns[nsid - 1] = NULL;
	subsystem->num_ns--;
	ns->remove_cb = cb;
	ns->remove_ctx = ctx;
	/* One release per group; plus one held until every group was told. */
	ns->groups_left = subsystem->tgt->num_groups + 1;
	*chg = (struct ns_change){ .subsystem = subsystem, .ns = ns, .nsid = nsid };
	nvmf_tgt_for_each_group(subsystem->tgt, ns_remove_group, ns_remove_done, chg);
	ns_group_released(ns);
	return 0;
}

/* ---- deletion ---- */

/* App thread, with no controller left: release everything. */
void
nvmf_subsystem_free(struct nvt_nvmf_subsystem *subsystem)
{
	struct nvt_nvmf_tgt *tgt = subsystem->tgt;
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	uint32_t i;

	while ((l = TAILQ_FIRST(&subsystem->listeners)) != NULL) {
		TAILQ_REMOVE(&subsystem->listeners, l, link);
		if (tgt->state != NVMF_TGT_STOPPING) {
			nvmf_tgt_stop_listen(tgt, &l->trid);
		}
		free(l);
	}
	while ((host = TAILQ_FIRST(&subsystem->hosts)) != NULL) {
		TAILQ_REMOVE(&subsystem->hosts, host, link);
		nvmf_host_free(subsystem, host);
	}
	for (i = 0; i < subsystem->max_nsid; i++) {
		if (subsystem->ns[i] != NULL) {
			nvmf_resv_ns_fini(subsystem->ns[i]);
			nvt_bdev_close(subsystem->ns[i]->desc);
			free(subsystem->ns[i]->bdev_name);
			free(subsystem->ns[i]);
		}
	}
	nvmf_ana_free(subsystem);
	tgt->subsystem_ids[subsystem->id] = NULL;
	TAILQ_REMOVE(&tgt->subsystems, subsystem, link);
	if (subsystem == tgt->discovery) {
		tgt->discovery = NULL;
	}
	/* At shutdown no host is left to tell. */
	if (tgt->state == NVMF_TGT_STOPPING) {
		tgt->discovery_genctr++;
	} else {
		nvmf_discovery_changed(tgt);
	}
	free(subsystem->ns);
	free(subsystem);
}

struct subsystem_delete_ctx {
	struct nvt_nvmf_subsystem *subsystem;
	nvt_nvmf_done_cb cb;
	void *ctx;
	struct nvt_poller *poller;
};

static void
subsystem_free_group(struct nvmf_poll_group *group, void *arg)
{
	struct subsystem_delete_ctx *dctx = arg;

	if (group->sgroups != NULL) {
		nvmf_pg_subsystem_free(group, dctx->subsystem->id);
	}
}

static void
subsystem_delete_groups_done(void *arg)
{
	struct subsystem_delete_ctx *dctx = arg;

	nvmf_subsystem_free(dctx->subsystem);
	if (dctx->cb != NULL) {
		dctx->cb(dctx->ctx, 0);
	}
	free(dctx);
}

static void
ctrlr_disconnect_msg(void *ctx)
{
	nvmf_ctrlr_disconnect(ctx);
}

static int
subsystem_delete_poll(void *arg)
{
	struct subsystem_delete_ctx *dctx = arg;

	if (!TAILQ_EMPTY(&dctx->subsystem->ctrlrs)) {
		return NVT_POLLER_IDLE;
	}
	nvt_poller_unregister(&dctx->poller);
	nvmf_tgt_for_each_group(dctx->subsystem->tgt, subsystem_free_group,
				subsystem_delete_groups_done, dctx);
	return NVT_POLLER_BUSY;
}

int
nvt_nvmf_subsystem_delete(struct nvt_nvmf_subsystem *subsystem, nvt_nvmf_done_cb cb, void *ctx)
{
	struct subsystem_delete_ctx *dctx;
	struct nvmf_ctrlr *ctrlr;

	if (subsystem->subtype == NVT_NVMF_SUBTYPE_DISCOVERY || subsystem->deleting) {
		return -EINVAL;
	}
	dctx = calloc(1, sizeof(*dctx));
	if (dctx == NULL) {
		return -ENOMEM;
	}
	*dctx = (struct subsystem_delete_ctx){ .subsystem = subsystem, .cb = cb, .ctx = ctx };
	subsystem->deleting = true;
	TAILQ_FOREACH(ctrlr, &subsystem->ctrlrs, link) {
		nvmf_send_msg(ctrlr->thread, &ctrlr->disconnect_msg, ctrlr_disconnect_msg, ctrlr,
			      "subsystem deletion");
	}
	dctx->poller = nvt_poller_register(subsystem_delete_poll, dctx, 1000, "nvmf_subsys_del");
	return dctx->poller != NULL ? 0 : -ENOMEM;
}
