/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvmf_get_io_stats (nvtcp's own): the per namespace and per host I/O
 * counters and latency histograms of io_stats.c, gathered from the poll
 * groups, as JSON; "enable" turns the counting on or off first.
 */
#include <errno.h>
#include <stddef.h>

#include "nvtcp/likely.h"
#include "nvtcp/nvmf_io_stats.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "nvmf_rpc_internal.h"

static json_t *
counts_json(const struct nvt_nvmf_io_counts *c)
{
	json_t *buckets = json_array();
	uint32_t i;

	for (i = 0; i < NVT_NVMF_LAT_BUCKETS && buckets != NULL; i++) {
		json_array_append_new(buckets, json_integer((json_int_t)c->buckets[i]));
	}
	return json_pack("{s:I, s:I, s:I, s:o*}", "ops", (json_int_t)c->ops, "bytes",
			 (json_int_t)c->bytes, "latency_ns", (json_int_t)c->latency_ns, "buckets",
			 buckets);
}

static json_t *
entry_json(const struct nvt_nvmf_io_stats *e)
{
	json_t *obj = json_pack("{s:s}", "subnqn", e->subnqn);

	if (obj == NULL) {
		return NULL;
	}
	if (e->hostnqn[0] != '\0') {
		json_object_set_new(obj, "hostnqn", json_string(e->hostnqn));
	} else {
		json_object_set_new(obj, "nsid", json_integer(e->nsid));
		json_object_set_new(obj, "bdev_name", json_string(e->bdev));
	}
	json_object_set_new(obj, "read", counts_json(&e->dir[NVT_NVMF_IO_READ]));
	json_object_set_new(obj, "write", counts_json(&e->dir[NVT_NVMF_IO_WRITE]));
	return obj;
}

static json_t *
list_json(const struct nvt_nvmf_io_stats *list, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n && arr != NULL; i++) {
		json_array_append_new(arr, entry_json(&list[i]));
	}
	return arr;
}

static json_t *
bounds_json(void)
{
	const uint64_t *b = nvt_nvmf_lat_bounds_ns();
	json_t *arr = json_array();
	uint32_t i;

	for (i = 0; i < NVT_NVMF_LAT_BOUNDS && arr != NULL; i++) {
		json_array_append_new(arr, json_integer((json_int_t)b[i]));
	}
	return arr;
}

static void
io_stats_gathered(struct nvt_nvmf_io_snapshot *st, void *ctx)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (st == NULL) {
		nvmf_rpc_send_errno(req, "I/O statistics", -ENOMEM);
		return;
	}
	nvt_jsonrpc_send_result(req, json_pack("{s:b, s:I, s:o*, s:o*, s:o*}", "enabled",
					       nvt_nvmf_io_stats_enabled(), "tick_rate",
					       (json_int_t)nvt_get_ticks_hz(), "latency_bounds_ns",
					       bounds_json(), "namespaces",
					       list_json(st->ns, st->num_ns), "hosts",
					       list_json(st->hosts, st->num_hosts)));
	nvt_nvmf_io_snapshot_free(&st);
}

struct io_stats_params {
	bool enable;
};

static const struct nvt_json_field g_io_stats_fields[] = {
	{ "enable", NVT_JSON_BOOL, offsetof(struct io_stats_params, enable), true, NULL, NULL },
};

static void
rpc_nvmf_get_io_stats(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct io_stats_params p = { 0 };
	int rc;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_io_stats_fields,
				NVT_COUNTOF(g_io_stats_fields), &p)) {
		return;
	}
	if (json_object_get(params, "enable") != NULL) {
		nvt_nvmf_io_stats_enable(p.enable);
	}
	rc = nvt_nvmf_io_stats_gather(io_stats_gathered, req);
	if (rc != 0) {
		nvmf_rpc_send_errno(req, "I/O statistics", rc);
	}
}
NVMF_RPC_REGISTER("nvmf_get_io_stats", rpc_nvmf_get_io_stats)
