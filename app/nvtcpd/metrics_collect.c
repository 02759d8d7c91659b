/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The collectors of /metrics, run one after the other on the app thread,
 * each from a gather that asks the owning threads by messages: reactors
 * (nvt_reactors_get_stats()), the NVMe-oF target's poll groups, buffer
 * pools and connections (nvt_nvmf_get_stats()), and its per namespace and
 * per host I/O (nvt_nvmf_io_stats_gather()). A new source adds one
 * struct metrics_collector to g_collectors.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/event.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/nvmf_io_stats.h"
#include "nvtcp/nvmf_stats.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "metrics.h"

#define LABELS_LEN 1024 /* two escaped NQNs and the rest fit */

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
reactors_gathered(const struct nvt_reactor_snapshot *snaps, uint32_t count, int status, void *ctx)
{
	struct metrics_scrape *scrape = ctx;
	double hz = (double)nvt_get_ticks_hz();
	struct metrics_buf *b = &scrape->buf;
	char labels[LABELS_LEN];
	uint32_t i;

	if (status != 0) {
		metrics_scrape_next(scrape);
		return;
	}
	metrics_family(b, "nvtcp_reactor_busy_seconds_total", "counter",
		       "Time the reactor's threads did work.");
	for (i = 0; i < count; i++) {
		reactor_labels(labels, snaps[i].lcore);
		metrics_double(b, "nvtcp_reactor_busy_seconds_total", labels,
			       (double)snaps[i].stats.busy_tsc / hz);
	}
	metrics_family(b, "nvtcp_reactor_idle_seconds_total", "counter",
		       "Time the reactor polled without work or slept.");
	for (i = 0; i < count; i++) {
		reactor_labels(labels, snaps[i].lcore);
		metrics_double(b, "nvtcp_reactor_idle_seconds_total", labels,
			       (double)(snaps[i].stats.idle_tsc + snaps[i].stats.sleep_tsc) / hz);
	}
	metrics_family(b, "nvtcp_reactor_sleeping", "gauge",
		       "1 while the reactor sleeps (interrupt mode), 0 while it polls.");
	for (i = 0; i < count; i++) {
		reactor_labels(labels, snaps[i].lcore);
		metrics_u64(b, "nvtcp_reactor_sleeping", labels, snaps[i].stats.sleeping ? 1 : 0);
	}
	metrics_scrape_next(scrape);
}

/* Time asleep is idle time, the rule framework_get_reactors follows. */
static void
collect_reactors(struct metrics_scrape *scrape)
{
	if (nvt_reactors_get_stats(reactors_gathered, scrape) != 0) {
		metrics_scrape_next(scrape);
	}
}

/* ---- the NVMe-oF target ---- */

static void
one_label(char *labels, const char *name, const char *value)
{
	labels[0] = '\0';
	metrics_label(labels, LABELS_LEN, name, value);
}

static void
emit_groups(struct metrics_buf *b, const struct nvt_nvmf_stats *st)
{
	char labels[LABELS_LEN];
	uint32_t i;

	metrics_family(b, "nvtcp_poll_group_qpairs", "gauge",
		       "Connected queue pairs of the poll group.");
	for (i = 0; i < st->num_groups; i++) {
		one_label(labels, "poll_group", st->groups[i].name);
		metrics_label(labels, LABELS_LEN, "type", "admin");
		metrics_u64(b, "nvtcp_poll_group_qpairs", labels,
			    st->groups[i].current_admin_qpairs);
		one_label(labels, "poll_group", st->groups[i].name);
		metrics_label(labels, LABELS_LEN, "type", "io");
		metrics_u64(b, "nvtcp_poll_group_qpairs", labels, st->groups[i].current_io_qpairs);
	}
	metrics_family(b, "nvtcp_auth_failures_total", "counter",
		       "DH-HMAC-CHAP authentications that failed for good.");
	for (i = 0; i < st->num_groups; i++) {
		one_label(labels, "poll_group", st->groups[i].name);
		metrics_u64(b, "nvtcp_auth_failures_total", labels, st->groups[i].auth_failures);
	}
}

/* One counter or gauge per transport; \p off is the field's offset in its stats. */
static void
emit_transport_field(struct metrics_buf *b, const struct nvt_nvmf_stats *st, const char *name,
		     const char *type, const char *help, size_t off, bool u32)
{
	char labels[LABELS_LEN];
	uint32_t i, v32;
	uint64_t v;

	metrics_family(b, name, type, help);
	for (i = 0; i < st->num_transports; i++) {
		if (u32) {
			memcpy(&v32, (const char *)&st->transports[i] + off, sizeof(v32));
			v = v32;
		} else {
			memcpy(&v, (const char *)&st->transports[i] + off, sizeof(v));
		}
		one_label(labels, "transport", st->transports[i].trtype);
		metrics_u64(b, name, labels, v);
	}
}

#define TRANSPORT_FIELD(b, st, name, type, help, field)                        \
	emit_transport_field(b, st, name, type, help,                          \
			     offsetof(struct nvt_nvmf_transport_stats, field), \
			     sizeof(((struct nvt_nvmf_transport_stats *)0)->field) == 4)

static void
emit_transports(struct metrics_buf *b, const struct nvt_nvmf_stats *st)
{
	char labels[LABELS_LEN];
	uint32_t i;

	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_pool_buffers", "gauge",
			"Data buffers of the shared pool (its size).", buf_count);
	metrics_family(b, "nvtcp_iobuf_pool_size_bytes", "gauge", "Bytes of the shared pool.");
	for (i = 0; i < st->num_transports; i++) {
		one_label(labels, "transport", st->transports[i].trtype);
		metrics_u64(b, "nvtcp_iobuf_pool_size_bytes", labels,
			    (uint64_t)st->transports[i].buf_count * st->transports[i].buf_size);
	}
	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_pool_free_buffers", "gauge",
			"Buffers in the shared pool now, in no cache and not in use.", buf_free);
	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_in_use_buffers", "gauge", "Buffers requests hold now.",
			buf_in_use);
	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_cached_buffers", "gauge",
			"Buffers in the poll groups' caches now.", buf_cached);
	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_cache_hits_total", "counter",
			"Buffers taken from a poll group's own cache.", cache_hits);
	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_pool_hits_total", "counter",
			"Buffers taken from the shared pool.", pool_hits);
	TRANSPORT_FIELD(b, st, "nvtcp_iobuf_waits_total", "counter",
			"Buffer requests that had to wait for buffers.", waits);
	TRANSPORT_FIELD(b, st, "nvtcp_connections_accepted_total", "counter",
			"TCP connections accepted.", connections_accepted);
	TRANSPORT_FIELD(b, st, "nvtcp_connections_rejected_total", "counter",
			"TCP connections refused by the connection limits.", connections_rejected);
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
nvmf_gathered(const struct nvt_nvmf_stats *st, int status, void *ctx)
{
	struct metrics_scrape *scrape = ctx;

	if (status == 0) {
		emit_groups(&scrape->buf, st);
		emit_transports(&scrape->buf, st);
	}
	metrics_scrape_next(scrape);
}

static void
collect_nvmf(struct metrics_scrape *scrape)
{
	/* No running target (starting, stopping): its families are left out. */
	if (nvt_nvmf_get_stats(nvmf_gathered, scrape) != 0) {
		metrics_scrape_next(scrape);
	}
}

static void
nvmf_io_gathered(struct nvt_nvmf_io_snapshot *snap, void *ctx)
{
	struct metrics_scrape *scrape = ctx;
	struct metrics_buf *b = &scrape->buf;

	if (snap == NULL) {
		metrics_scrape_next(scrape);
		return;
	}
	if (snap->num_ns > 0) {
		emit_io(b, "nvtcp_namespace", "per namespace", snap->ns, snap->num_ns);
	}
	if (snap->num_hosts > 0) {
		emit_io(b, "nvtcp_host", "per host and subsystem", snap->hosts, snap->num_hosts);
	}
	nvt_nvmf_io_snapshot_free(&snap);
	metrics_scrape_next(scrape);
}

static void
collect_nvmf_io(struct metrics_scrape *scrape)
{
	if (nvt_nvmf_io_stats_gather(nvmf_io_gathered, scrape) != 0) {
		metrics_scrape_next(scrape);
	}
}

/* ---- the walk ---- */

static const struct metrics_collector g_collectors[] = {
	{ "reactors", collect_reactors },
	{ "nvmf", collect_nvmf },
	{ "nvmf_io", collect_nvmf_io },
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
