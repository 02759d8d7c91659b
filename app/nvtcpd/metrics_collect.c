/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The collectors of /metrics, run one after the other on the app thread:
 * reactors (their own accounting, the rule framework_get_reactors follows:
 * time asleep is idle time), and the NVMe-oF target (poll groups, buffer
 * pool, connections, per namespace and per host I/O), gathered from the poll
 * groups by messages (nvt_nvmf_stats_gather()). A new source adds one
 * struct metrics_collector to g_collectors.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/event.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/nvmf_stats.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "metrics.h"

#define LABELS_LEN 640

/* ---- reactors ---- */

static void
reactor_labels(char *labels, uint32_t core)
{
	char id[16];

	labels[0] = '\0';
	snprintf(id, sizeof(id), "%u", core);
	metrics_label(labels, LABELS_LEN, "reactor", id);
}

static void
collect_reactors(struct metrics_scrape *scrape)
{
	struct nvt_reactor_stats st[NVT_CPUSET_SIZE];
	double hz = (double)nvt_get_ticks_hz();
	struct metrics_buf *b = &scrape->buf;
	char labels[LABELS_LEN];
	uint32_t core;

	NVT_ENV_FOREACH_CORE(core)
	{
		nvt_reactor_get_stats(core, &st[core]);
	}
	metrics_family(b, "nvtcp_reactor_busy_seconds_total", "counter",
		       "Time the reactor's threads did work.");
	NVT_ENV_FOREACH_CORE(core)
	{
		reactor_labels(labels, core);
		metrics_double(b, "nvtcp_reactor_busy_seconds_total", labels,
			       (double)st[core].busy_tsc / hz);
	}
	metrics_family(b, "nvtcp_reactor_idle_seconds_total", "counter",
		       "Time the reactor polled without work or slept.");
	NVT_ENV_FOREACH_CORE(core)
	{
		reactor_labels(labels, core);
		metrics_double(b, "nvtcp_reactor_idle_seconds_total", labels,
			       (double)(st[core].idle_tsc + st[core].sleep_tsc) / hz);
	}
	metrics_family(b, "nvtcp_reactor_sleeping", "gauge",
		       "1 while the reactor sleeps (interrupt mode), 0 while it polls.");
	NVT_ENV_FOREACH_CORE(core)
	{
		reactor_labels(labels, core);
		metrics_u64(b, "nvtcp_reactor_sleeping", labels, st[core].sleeping ? 1 : 0);
	}
	metrics_scrape_next(scrape);
}

/* ---- the NVMe-oF target ---- */

static void
group_labels(char *labels, const struct nvt_nvmf_group_stats *g, const char *type)
{
	labels[0] = '\0';
	metrics_label(labels, LABELS_LEN, "poll_group", g->name);
	if (type != NULL) {
		metrics_label(labels, LABELS_LEN, "type", type);
	}
}

static void
emit_groups(struct metrics_buf *b, const struct nvt_nvmf_stats *st)
{
	char labels[LABELS_LEN];
	uint32_t i;

	metrics_family(b, "nvtcp_poll_group_qpairs", "gauge",
		       "Connected queue pairs of the poll group.");
	for (i = 0; i < st->num_groups; i++) {
		group_labels(labels, &st->groups[i], "admin");
		metrics_u64(b, "nvtcp_poll_group_qpairs", labels, st->groups[i].admin_qpairs);
		group_labels(labels, &st->groups[i], "io");
		metrics_u64(b, "nvtcp_poll_group_qpairs", labels, st->groups[i].io_qpairs);
	}
}

/* One per-poll-group iobuf counter; \p off is the field's offset in the stats. */
static void
emit_iobuf_field(struct metrics_buf *b, const struct nvt_nvmf_stats *st, const char *name,
		 const char *type, const char *help, size_t off)
{
	char labels[LABELS_LEN];
	uint64_t v;
	uint32_t i;

	metrics_family(b, name, type, help);
	for (i = 0; i < st->num_groups; i++) {
		memcpy(&v, (const char *)&st->groups[i].iobuf + off, sizeof(v));
		group_labels(labels, &st->groups[i], NULL);
		metrics_u64(b, name, labels, v);
	}
}

static void
emit_iobuf(struct metrics_buf *b, const struct nvt_nvmf_stats *st)
{
	metrics_family(b, "nvtcp_iobuf_pool_buffers", "gauge",
		       "Data buffers of the shared pool (its size).");
	metrics_u64(b, "nvtcp_iobuf_pool_buffers", "", st->pool_buffers);
	metrics_family(b, "nvtcp_iobuf_pool_size_bytes", "gauge", "Bytes of the shared pool.");
	metrics_u64(b, "nvtcp_iobuf_pool_size_bytes", "", st->pool_bytes);
	metrics_family(b, "nvtcp_iobuf_pool_free_buffers", "gauge",
		       "Buffers in the shared pool now, in no cache and not in use.");
	metrics_u64(b, "nvtcp_iobuf_pool_free_buffers", "", st->pool_free);
	emit_iobuf_field(b, st, "nvtcp_iobuf_in_use_buffers", "gauge",
			 "Buffers the poll group's requests hold now.",
			 offsetof(struct nvt_iobuf_cache_stats, in_use));
	emit_iobuf_field(b, st, "nvtcp_iobuf_cache_hits_total", "counter",
			 "Buffers taken from the poll group's own cache.",
			 offsetof(struct nvt_iobuf_cache_stats, cache_hits));
	emit_iobuf_field(b, st, "nvtcp_iobuf_pool_hits_total", "counter",
			 "Buffers taken from the shared pool.",
			 offsetof(struct nvt_iobuf_cache_stats, pool_hits));
	emit_iobuf_field(b, st, "nvtcp_iobuf_waits_total", "counter",
			 "Buffer requests that had to wait for buffers.",
			 offsetof(struct nvt_iobuf_cache_stats, waits));
}

static void
emit_connections(struct metrics_buf *b, const struct nvt_nvmf_stats *st)
{
	metrics_family(b, "nvtcp_connections_accepted_total", "counter",
		       "TCP connections accepted by the transports.");
	metrics_u64(b, "nvtcp_connections_accepted_total", "", st->connections_accepted);
	metrics_family(b, "nvtcp_connections_rejected_total", "counter",
		       "TCP connections refused by the connection limits.");
	metrics_u64(b, "nvtcp_connections_rejected_total", "", st->connections_rejected);
}

static const char *const g_dir_names[NVT_NVMF_IO_NUM_DIRS] = { "read", "write" };

static void
io_labels(char *labels, const struct nvt_nvmf_io_stats *e, uint32_t dir)
{
	char nsid[16];

	labels[0] = '\0';
	metrics_label(labels, LABELS_LEN, "subsystem", e->subnqn);
	if (e->hostnqn[0] != '\0') {
		metrics_label(labels, LABELS_LEN, "host", e->hostnqn);
	} else {
		snprintf(nsid, sizeof(nsid), "%u", e->nsid);
		metrics_label(labels, LABELS_LEN, "nsid", nsid);
		metrics_label(labels, LABELS_LEN, "bdev", e->bdev);
	}
	metrics_label(labels, LABELS_LEN, "op", g_dir_names[dir]);
}

/* The ops, bytes and latency families of \p prefix (nvtcp_namespace, nvtcp_host). */
static void
emit_io(struct metrics_buf *b, const char *prefix, const char *whose,
	const struct nvt_nvmf_io_stats *list, size_t n)
{
	char name[64], help[128], labels[LABELS_LEN];
	size_t i;
	uint32_t d;

	snprintf(name, sizeof(name), "%s_ops_total", prefix);
	snprintf(help, sizeof(help), "Reads and writes completed, %s.", whose);
	metrics_family(b, name, "counter", help);
	for (i = 0; i < n; i++) {
		for (d = 0; d < NVT_NVMF_IO_NUM_DIRS; d++) {
			io_labels(labels, &list[i], d);
			metrics_u64(b, name, labels, list[i].dir[d].ops);
		}
	}
	snprintf(name, sizeof(name), "%s_bytes_total", prefix);
	snprintf(help, sizeof(help), "Bytes read and written, %s.", whose);
	metrics_family(b, name, "counter", help);
	for (i = 0; i < n; i++) {
		for (d = 0; d < NVT_NVMF_IO_NUM_DIRS; d++) {
			io_labels(labels, &list[i], d);
			metrics_u64(b, name, labels, list[i].dir[d].bytes);
		}
	}
	snprintf(name, sizeof(name), "%s_latency_seconds", prefix);
	snprintf(help, sizeof(help), "Latency of reads and writes at the bdev, %s.", whose);
	metrics_family(b, name, "histogram", help);
	for (i = 0; i < n; i++) {
		for (d = 0; d < NVT_NVMF_IO_NUM_DIRS; d++) {
			io_labels(labels, &list[i], d);
			metrics_histogram(b, name, labels, nvt_nvmf_lat_bounds_ns(),
					  NVT_NVMF_LAT_BOUNDS, list[i].dir[d].buckets,
					  list[i].dir[d].latency_ns);
		}
	}
}

static void
nvmf_gathered(struct nvt_nvmf_stats *st, void *ctx)
{
	struct metrics_scrape *scrape = ctx;
	struct metrics_buf *b = &scrape->buf;

	if (st == NULL) {
		NVT_ERRLOG("metrics: the NVMe-oF statistics could not be gathered\n");
		metrics_scrape_next(scrape);
		return;
	}
	emit_groups(b, st);
	emit_iobuf(b, st);
	emit_connections(b, st);
	if (st->num_ns > 0) {
		emit_io(b, "nvtcp_namespace", "per namespace", st->ns, st->num_ns);
	}
	if (st->num_hosts > 0) {
		emit_io(b, "nvtcp_host", "per host and subsystem", st->hosts, st->num_hosts);
	}
	nvt_nvmf_stats_free(&st);
	metrics_scrape_next(scrape);
}

static void
collect_nvmf(struct metrics_scrape *scrape)
{
	/* No running target (starting, stopping): its families are left out. */
	if (nvt_nvmf_stats_gather(nvmf_gathered, scrape) != 0) {
		metrics_scrape_next(scrape);
	}
}

/* ---- the walk ---- */

static const struct metrics_collector g_collectors[] = {
	{ "reactors", collect_reactors },
	{ "nvmf", collect_nvmf },
};

void
metrics_scrape_next(struct metrics_scrape *scrape)
{
	uint32_t i = scrape->next++;

	if (i < NVT_COUNTOF(g_collectors)) {
		g_collectors[i].collect(scrape);
		return;
	}
	metrics_scrape_done(scrape);
}

void
metrics_scrape_run(struct metrics_scrape *scrape)
{
	scrape->next = 0;
	metrics_scrape_next(scrape);
}
