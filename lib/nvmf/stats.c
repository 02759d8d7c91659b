/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvt_nvmf_get_stats(): the counters of every poll group and transport, for
 * readers off the I/O path (iobuf_get_stats, a metrics exporter).
 *
 * The steps, each on the thread that owns what it reads:
 *   caller's thread   -> app thread: size the snapshot, read the transports;
 *   app thread        -> every poll group: its counters and, per transport,
 *                        its buffer cache's, into its own row;
 *   app thread        -> sums the rows per transport;
 *   caller's thread   <- the callback, then the snapshot is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/nvmf_stats.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "nvmf_internal.h"

struct stats_gather {
	nvt_nvmf_stats_cb cb;
	void *cb_ctx;
	struct nvt_thread *caller;
	int status;
	struct nvt_nvmf_stats snap;
	struct nvt_nvmf_group_stats *groups;
	struct nvt_nvmf_transport_stats *transports;
	/* The transports when the walk began; groups match theirs by pointer. */
	const struct nvmf_transport **tports;
	/* groups x transports cache counters, row by row; each group writes its own row. */
	struct nvt_iobuf_cache_stats *caches;
	struct nvt_thread_msg msg; /* to the app thread, then back to the caller */
};

static void
gather_free(struct stats_gather *g)
{
	free(g->groups);
	free(g->transports);
	free(g->tports);
	free(g->caches);
	free(g);
}

static void
gather_answer_msg(void *arg)
{
	struct stats_gather *g = arg;

	g->cb(g->status == 0 ? &g->snap : NULL, g->status, g->cb_ctx);
	gather_free(g);
}

/* Back to the caller; if its thread has gone, nobody waits for the answer. */
static void
gather_answer(struct stats_gather *g, int status)
{
	g->status = status;
	if (nvt_thread_send_msg_prealloc(g->caller, &g->msg, gather_answer_msg, g) != 0) {
		NVT_ERRLOG("nvmf stats: thread %s is gone, answer dropped\n",
			   nvt_thread_get_name(g->caller));
		gather_free(g);
	}
}

static void
group_read(struct nvmf_poll_group *group, void *arg)
{
	struct stats_gather *g = arg;
	const struct nvmf_poll_group_stats *st = &group->stats;
	struct nvt_nvmf_group_stats *out;
	struct nvmf_transport_poll_group *tgroup;
	uint32_t t;

	if (group->index >= g->snap.num_groups) {
		return;
	}
	out = &g->groups[group->index];
	nvt_strcpy_trunc(out->name, sizeof(out->name), nvt_thread_get_name(group->thread));
	out->current_admin_qpairs = st->current_admin_qpairs;
	out->current_io_qpairs = st->current_io_qpairs;
	out->current_unassociated_qpairs =
		group->num_qpairs - st->current_admin_qpairs - st->current_io_qpairs;
	out->admin_qpairs = st->admin_qpairs;
	out->io_qpairs = st->io_qpairs;
	out->completed_nvme_io = st->completed_nvme_io;
	out->pending_bdev_io = st->pending_bdev_io;
	out->auth_failures = st->auth_failures;
	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		for (t = 0; t < g->snap.num_transports; t++) {
			if (g->tports[t] == tgroup->transport) {
				nvt_iobuf_cache_get_stats(
					tgroup->buf_cache,
					&g->caches[group->index * g->snap.num_transports + t]);
			}
		}
	}
}

static void
transport_sum(struct stats_gather *g, uint32_t t)
{
	struct nvt_nvmf_transport_stats *out = &g->transports[t];
	const struct nvt_iobuf_cache_stats *c;
	uint32_t i;

	for (i = 0; i < g->snap.num_groups; i++) {
		c = &g->caches[i * g->snap.num_transports + t];
		out->buf_in_use += c->in_use;
		out->buf_cached += c->cached;
		out->cache_hits += c->cache_hits;
		out->pool_hits += c->pool_hits;
		out->waits += c->waits;
	}
	/* Read last, so that it is as fresh as the caches' figures. */
	out->buf_free = nvt_iobuf_pool_get_free(g->tports[t]->data_buf_pool);
}

static void
groups_done(void *arg)
{
	struct stats_gather *g = arg;
	uint32_t t;

	for (t = 0; t < g->snap.num_transports; t++) {
		transport_sum(g, t);
	}
	gather_answer(g, 0);
}

/* The counters the transport dumps for nvmf_get_stats: the core's one way to them. */
static void
transport_read(const struct nvmf_transport *transport, struct nvt_nvmf_transport_stats *out)
{
	json_t *obj = json_object();

	nvt_strcpy_trunc(out->trtype, sizeof(out->trtype), transport->ops->name);
	out->buf_count = nvt_iobuf_pool_get_count(transport->data_buf_pool);
	out->buf_size = nvt_iobuf_pool_get_buf_size(transport->data_buf_pool);
	out->buf_cache_size = transport->opts.buf_cache_size;
	if (obj != NULL && transport->ops->dump_stat != NULL) {
		transport->ops->dump_stat((struct nvmf_transport *)transport, obj);
		out->connections_accepted =
			(uint64_t)json_integer_value(json_object_get(obj, "connections_accepted"));
		out->connections_rejected =
			(uint64_t)json_integer_value(
				json_object_get(obj, "refused_max_connections")) +
			(uint64_t)json_integer_value(
				json_object_get(obj, "refused_max_connections_per_host"));
	}
	json_decref(obj);
}

static int
gather_alloc(struct stats_gather *g, const struct nvt_nvmf_tgt *tgt)
{
	const struct nvmf_transport *transport;
	uint32_t n = 0, groups = tgt->num_groups;

	TAILQ_FOREACH(transport, &tgt->transports, link) {
		n++;
	}
	g->groups = calloc(groups + 1u, sizeof(*g->groups));
	g->transports = calloc(n + 1u, sizeof(*g->transports));
	g->tports = calloc(n + 1u, sizeof(*g->tports));
	g->caches = calloc((size_t)groups * n + 1u, sizeof(*g->caches));
	if (g->groups == NULL || g->transports == NULL || g->tports == NULL || g->caches == NULL) {
		return -ENOMEM;
	}
	n = 0;
	TAILQ_FOREACH(transport, &tgt->transports, link) {
		g->tports[n] = transport;
		transport_read(transport, &g->transports[n++]);
	}
	g->snap = (struct nvt_nvmf_stats){ .tick_rate = nvt_get_ticks_hz(),
					   .num_groups = groups,
					   .groups = g->groups,
					   .num_transports = n,
					   .transports = g->transports };
	return 0;
}

static void
gather_start_msg(void *arg)
{
	struct stats_gather *g = arg;
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	int rc;

	if (tgt == NULL || tgt->state != NVMF_TGT_RUNNING) {
		gather_answer(g, -ENODEV);
		return;
	}
	rc = gather_alloc(g, tgt);
	if (rc != 0) {
		gather_answer(g, rc);
		return;
	}
	nvmf_tgt_for_each_group(tgt, group_read, groups_done, g);
}

int
nvt_nvmf_get_stats(nvt_nvmf_stats_cb cb, void *ctx)
{
	struct nvt_nvmf_tgt *tgt = nvt_nvmf_get_tgt();
	struct stats_gather *g;
	int rc;

	if (nvt_get_thread() == NULL) {
		return -EINVAL;
	}
	/* The target's thread is set once, when it is created. */
	if (tgt == NULL) {
		return -ENODEV;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -ENOMEM;
	}
	*g = (struct stats_gather){ .cb = cb, .cb_ctx = ctx, .caller = nvt_get_thread() };
	rc = nvt_thread_send_msg_prealloc(tgt->thread, &g->msg, gather_start_msg, g);
	if (rc != 0) {
		free(g);
	}
	return rc;
}
