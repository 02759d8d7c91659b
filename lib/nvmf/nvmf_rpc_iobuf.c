/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's iobuf_get_stats. SPDK's modules share two process-wide pools
 * (small and large buffers); nvtcp's data buffers are the transports' own
 * pools, one buffer size each. So each transport is a module as SPDK names
 * the NVMe-oF TCP one ("nvmf_TCP"), and its counters go to the pool SPDK
 * would take buffers of that size from: the small one up to SPDK's small
 * buffer size, else the large one. In SPDK's terms: cache = buffers taken
 * from a poll group's cache, main = from the shared pool, retry = requests
 * that waited; cache_size = buffers the poll groups' caches reserve.
 * nvtcp's own figures follow: buffer size and count, in use and free now.
 */
#include <errno.h>
#include <stdio.h>

#include "nvtcp/nvmf_stats.h"
#include "nvtcp/string.h"
#include "nvmf_rpc_internal.h"

/* SPDK's small buffer size: larger buffers come from its large pool. */
#define IOBUF_SPDK_SMALL_BUFSIZE 8192

static json_t *
pool_json(uint64_t cache, uint64_t main_pool, uint64_t retry, uint64_t cache_size)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "cache", (json_int_t)cache, "main",
			 (json_int_t)main_pool, "retry", (json_int_t)retry, "cache_size",
			 (json_int_t)cache_size);
}

static json_t *
module_json(const struct nvt_nvmf_stats *stats, const struct nvt_nvmf_transport_stats *t)
{
	uint64_t cache_size = (uint64_t)t->buf_cache_size * stats->num_groups;
	json_t *used = pool_json(t->cache_hits, t->pool_hits, t->waits, cache_size);
	json_t *unused = pool_json(0, 0, 0, 0);
	bool small = t->buf_size <= IOBUF_SPDK_SMALL_BUFSIZE;
	char name[32];

	snprintf(name, sizeof(name), "nvmf_%s", t->trtype);
	return json_pack("{s:s, s:o, s:o, s:i, s:i, s:I, s:i}", "module", name, "small_pool",
			 small ? used : unused, "large_pool", small ? unused : used, "buf_size",
			 (int)t->buf_size, "buf_count", (int)t->buf_count, "in_use",
			 (json_int_t)t->buf_in_use, "free", (int)t->buf_free);
}

static void
iobuf_stats_cb(const struct nvt_nvmf_stats *stats, int status, void *ctx)
{
	struct nvt_jsonrpc_request *req = ctx;
	json_t *list;
	uint32_t i;

	if (status != 0) {
		nvmf_rpc_send_errno(req, "gathering", status);
		return;
	}
	list = json_array();
	for (i = 0; i < stats->num_transports; i++) {
		json_array_append_new(list, module_json(stats, &stats->transports[i]));
	}
	nvt_jsonrpc_send_result(req, list);
}

static void
rpc_iobuf_get_stats_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	int rc;

	/* As SPDK: no params (the empty object SPDK's tools send counts as none). */
	if (params != NULL && !(json_is_object(params) && json_object_size(params) == 0)) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "iobuf_get_stats requires no parameters");
		return;
	}
	rc = nvt_nvmf_get_stats(iobuf_stats_cb, req);
	if (rc != 0) {
		nvmf_rpc_send_errno(req, "gathering", rc);
	}
}
NVMF_RPC_REGISTER("iobuf_get_stats", rpc_iobuf_get_stats_run)
