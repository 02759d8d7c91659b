/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per namespace and per host I/O counters, and their gather
 * (include/nvtcp/nvmf_io_stats.h).
 *
 * Each poll group keeps a list of counter entries on its own thread: one per
 * namespace it served I/O for, one per (subsystem, host NQN). A namespace's
 * group view (nvmf_pg_ns) and a queue pair cache a pointer to their entry,
 * so the I/O path finds it without a search; the entries live as long as
 * the group, so counters never go back when a host reconnects. Nothing here
 * is shared between threads: the gather asks each group for a copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/nvmf_io_stats.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "nvtcp/thread.h"

#include "nvmf_internal.h"

/* Poll group thread: one counted namespace, or host on a subsystem. */
struct nvmf_io_stats {
	/* Namespace entries: the namespace counted (a cache key; the names decide). */
	const struct nvmf_ns *ns;
	struct nvt_nvmf_io_stats data;
	struct nvmf_io_stats *next;
};

/* 10 us to 10 s, as Prometheus' own default buckets run, a little finer below 1 ms. */
static const uint64_t g_lat_bounds_ns[NVT_NVMF_LAT_BOUNDS] = {
	10000,	   25000,      50000,	   100000,     250000,	    500000,    1000000,
	2500000,   5000000,    10000000,   25000000,   50000000,    100000000, 250000000,
	500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

/* Read on every command, written by the app: a plain load of a flag, no ordering needed. */
static bool g_io_stats_on;

const uint64_t *
nvt_nvmf_lat_bounds_ns(void)
{
	return g_lat_bounds_ns;
}

void
nvt_nvmf_io_stats_enable(bool enable)
{
	__atomic_store_n(&g_io_stats_on, enable, __ATOMIC_RELAXED);
}

bool
nvt_nvmf_io_stats_enabled(void)
{
	return __atomic_load_n(&g_io_stats_on, __ATOMIC_RELAXED);
}

/* ---- the I/O path (poll group thread) ---- */

void
nvmf_io_stats_start(struct nvmf_request *req)
{
	/* The poll's clock, not a clock read per command: latencies are as fine as one poll. */
	req->io_start_tsc = nvt_nvmf_io_stats_enabled()
				    ? nvt_thread_get_last_tsc(req->qpair->group->thread)
				    : 0;
}

static struct nvmf_io_stats *
entry_new(struct nvmf_poll_group *group, const char *subnqn)
{
	struct nvmf_io_stats *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		return NULL;
	}
	nvt_strcpy_trunc(e->data.subnqn, sizeof(e->data.subnqn), subnqn);
	e->next = group->io_stats;
	group->io_stats = e;
	return e;
}

static struct nvmf_io_stats *
ns_entry(struct nvmf_poll_group *group, const struct nvmf_ns *ns)
{
	struct nvmf_io_stats *e;

	for (e = group->io_stats; e != NULL; e = e->next) {
		if (e->data.hostnqn[0] == '\0' && e->data.nsid == ns->nsid &&
		    strcmp(e->data.subnqn, ns->subsystem->nqn) == 0 &&
		    strcmp(e->data.bdev, ns->bdev_name) == 0) {
			e->ns = ns;
			return e;
		}
	}
	e = entry_new(group, ns->subsystem->nqn);
	if (e != NULL) {
		e->ns = ns;
		e->data.nsid = ns->nsid;
		nvt_strcpy_trunc(e->data.bdev, sizeof(e->data.bdev), ns->bdev_name);
	}
	return e;
}

static struct nvmf_io_stats *
host_entry(struct nvmf_poll_group *group, const struct nvmf_ctrlr *ctrlr)
{
	struct nvmf_io_stats *e;

	for (e = group->io_stats; e != NULL; e = e->next) {
		if (e->data.nsid == 0 && strcmp(e->data.hostnqn, ctrlr->hostnqn) == 0 &&
		    strcmp(e->data.subnqn, ctrlr->subsystem->nqn) == 0) {
			return e;
		}
	}
	e = entry_new(group, ctrlr->subsystem->nqn);
	if (e != NULL) {
		nvt_strcpy_trunc(e->data.hostnqn, sizeof(e->data.hostnqn), ctrlr->hostnqn);
	}
	return e;
}

static uint32_t
lat_bucket(uint64_t ns)
{
	uint32_t i;

	/* Most I/O lands in the first few buckets: a forward scan stops early. */
	for (i = 0; i < NVT_NVMF_LAT_BOUNDS && ns > g_lat_bounds_ns[i]; i++) {
	}
	return i;
}

static void
counts_add(struct nvmf_io_stats *e, enum nvt_nvmf_io_dir dir, uint64_t bytes, uint64_t lat,
	   uint32_t bucket)
{
	struct nvt_nvmf_io_counts *c = &e->data.dir[dir];

	c->ops++;
	c->bytes += bytes;
	c->latency_ns += lat;
	c->buckets[bucket]++;
}

void
nvmf_io_stats_done(struct nvmf_request *req, struct nvmf_pg_ns *pns)
{
	struct nvmf_qpair *qpair = req->qpair;
	uint8_t opc = req->cmd->cmd.opc;
	enum nvt_nvmf_io_dir dir;
	uint64_t lat;
	uint32_t bucket;

	if (req->io_start_tsc == 0 || (opc != NVT_NVME_OPC_READ && opc != NVT_NVME_OPC_WRITE)) {
		return;
	}
	dir = opc == NVT_NVME_OPC_READ ? NVT_NVMF_IO_READ : NVT_NVMF_IO_WRITE;
	lat = nvt_ticks_to_ns(nvt_thread_get_last_tsc(qpair->group->thread) - req->io_start_tsc);
	bucket = lat_bucket(lat);
	if (pns->io_stats == NULL || pns->io_stats->ns != pns->ns) {
		pns->io_stats = ns_entry(qpair->group, pns->ns);
	}
	if (qpair->io_stats == NULL) {
		qpair->io_stats = host_entry(qpair->group, qpair->ctrlr);
	}
	/* Without memory for an entry the command is not counted, and the next one tries again. */
	if (pns->io_stats != NULL) {
		counts_add(pns->io_stats, dir, req->length, lat, bucket);
	}
	if (qpair->io_stats != NULL) {
		counts_add(qpair->io_stats, dir, req->length, lat, bucket);
	}
}

void
nvmf_io_stats_group_free(struct nvmf_poll_group *group)
{
	struct nvmf_io_stats *e;

	while ((e = group->io_stats) != NULL) {
		group->io_stats = e->next;
		free(e);
	}
}

/* ---- the gather ---- */

/* What one poll group copied on its thread; read on the app thread after the walk. */
struct gather_slot {
	struct nvt_nvmf_io_stats *entries;
	size_t num_entries;
};

struct gather_ctx {
	nvt_nvmf_io_stats_cb cb;
	void *cb_ctx;
	uint32_t num_slots;
	struct gather_slot slots[];
};

static void
gather_entries(struct nvmf_poll_group *group, struct gather_slot *slot)
{
	struct nvmf_io_stats *e;
	size_t n = 0;

	for (e = group->io_stats; e != NULL; e = e->next) {
		n++;
	}
	slot->entries = n > 0 ? calloc(n, sizeof(*slot->entries)) : NULL;
	if (slot->entries == NULL) {
		return;
	}
	for (e = group->io_stats; e != NULL; e = e->next) {
		slot->entries[slot->num_entries++] = e->data;
	}
}

static void
gather_group(struct nvmf_poll_group *group, void *arg)
{
	struct gather_ctx *ctx = arg;

	if (group->index < ctx->num_slots) {
		gather_entries(group, &ctx->slots[group->index]);
	}
}

static bool
same_key(const struct nvt_nvmf_io_stats *a, const struct nvt_nvmf_io_stats *b)
{
	return a->nsid == b->nsid && strcmp(a->subnqn, b->subnqn) == 0 &&
	       strcmp(a->bdev, b->bdev) == 0 && strcmp(a->hostnqn, b->hostnqn) == 0;
}

static void
counts_merge(struct nvt_nvmf_io_stats *into, const struct nvt_nvmf_io_stats *from)
{
	uint32_t d, b;

	for (d = 0; d < NVT_NVMF_IO_NUM_DIRS; d++) {
		into->dir[d].ops += from->dir[d].ops;
		into->dir[d].bytes += from->dir[d].bytes;
		into->dir[d].latency_ns += from->dir[d].latency_ns;
		for (b = 0; b < NVT_NVMF_LAT_BUCKETS; b++) {
			into->dir[d].buckets[b] += from->dir[d].buckets[b];
		}
	}
}

/* Add \p e to \p list (room for it is there), merging it with an entry of the same key. */
static void
merge_into(struct nvt_nvmf_io_stats *list, size_t *n, const struct nvt_nvmf_io_stats *e)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (same_key(&list[i], e)) {
			counts_merge(&list[i], e);
			return;
		}
	}
	list[(*n)++] = *e;
}

static int
gather_merge(struct gather_ctx *ctx, struct nvt_nvmf_io_snapshot *out)
{
	size_t total = 0, i;
	uint32_t s;

	for (s = 0; s < ctx->num_slots; s++) {
		total += ctx->slots[s].num_entries;
	}
	out->ns = calloc(total + 1, sizeof(*out->ns));
	out->hosts = calloc(total + 1, sizeof(*out->hosts));
	if (out->ns == NULL || out->hosts == NULL) {
		return -ENOMEM;
	}
	for (s = 0; s < ctx->num_slots; s++) {
		for (i = 0; i < ctx->slots[s].num_entries; i++) {
			const struct nvt_nvmf_io_stats *e = &ctx->slots[s].entries[i];

			if (e->hostnqn[0] == '\0') {
				merge_into(out->ns, &out->num_ns, e);
			} else {
				merge_into(out->hosts, &out->num_hosts, e);
			}
		}
	}
	return 0;
}

static struct nvt_nvmf_io_snapshot *
gather_build(struct gather_ctx *ctx)
{
	struct nvt_nvmf_io_snapshot *out = calloc(1, sizeof(*out));

	if (out != NULL && gather_merge(ctx, out) != 0) {
		nvt_nvmf_io_snapshot_free(&out);
	}
	return out;
}

static void
gather_done(void *arg)
{
	struct gather_ctx *ctx = arg;
	struct nvt_nvmf_io_snapshot *out = gather_build(ctx);
	uint32_t s;

	for (s = 0; s < ctx->num_slots; s++) {
		free(ctx->slots[s].entries);
	}
	ctx->cb(out, ctx->cb_ctx);
	free(ctx);
}

int
nvt_nvmf_io_stats_gather(nvt_nvmf_io_stats_cb cb, void *cb_ctx)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct gather_ctx *ctx;

	if (tgt == NULL || tgt->state != NVMF_TGT_RUNNING) {
		return -ENODEV;
	}
	ctx = calloc(1, sizeof(*ctx) + tgt->num_groups * sizeof(ctx->slots[0]));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->cb = cb;
	ctx->cb_ctx = cb_ctx;
	ctx->num_slots = tgt->num_groups;
	nvmf_tgt_for_each_group(tgt, gather_group, gather_done, ctx);
	return 0;
}

void
nvt_nvmf_io_snapshot_free(struct nvt_nvmf_io_snapshot **snap)
{
	if (*snap == NULL) {
		return;
	}
	free((*snap)->ns);
	free((*snap)->hosts);
	free(*snap);
	*snap = NULL;
}
