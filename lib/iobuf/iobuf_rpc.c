/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's iobuf_set_options, for configurations saved by SPDK (its save_config
 * always writes it).
 *
 * SPDK has one process-wide pair of buffer pools (small and large) shared by
 * its modules. nvtcp has none: each NVMe/TCP transport owns its data buffer
 * pool (nvmf_create_transport: num_shared_buffers buffers of io_unit_size,
 * buf_cache_size of them cached per poll group). So the sizes are checked as
 * SPDK checks them, then accepted with a notice that says where nvtcp's
 * buffers are sized; NUMA-local pools, which nvtcp does not have, are
 * refused. Nothing is saved back: nvtcp has no state for it. The counters
 * SPDK's iobuf_get_stats reports are those of the transports' caches, in
 * nvmf_get_stats.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"

/* SPDK's defaults and lower bounds. */
#define IOBUF_RPC_SMALL_POOL_COUNT 8192
#define IOBUF_RPC_LARGE_POOL_COUNT 1024
#define IOBUF_RPC_SMALL_BUFSIZE	   8192
#define IOBUF_RPC_LARGE_BUFSIZE	   (132 * 1024)
#define IOBUF_RPC_MIN_SMALL_POOL   64
#define IOBUF_RPC_MIN_LARGE_POOL   8
#define IOBUF_RPC_MIN_SMALL_BUF	   4096
#define IOBUF_RPC_MIN_LARGE_BUF	   8192

struct rpc_iobuf_opts {
	uint64_t small_pool_count;
	uint64_t large_pool_count;
	uint32_t small_bufsize;
	uint32_t large_bufsize;
	bool enable_numa;
};

static const struct nvt_json_field g_iobuf_fields[] = {
	{ "small_pool_count", NVT_JSON_UINT64, offsetof(struct rpc_iobuf_opts, small_pool_count),
	  true },
	{ "large_pool_count", NVT_JSON_UINT64, offsetof(struct rpc_iobuf_opts, large_pool_count),
	  true },
	{ "small_bufsize", NVT_JSON_UINT32, offsetof(struct rpc_iobuf_opts, small_bufsize), true },
	{ "large_bufsize", NVT_JSON_UINT32, offsetof(struct rpc_iobuf_opts, large_bufsize), true },
	{ "enable_numa", NVT_JSON_BOOL, offsetof(struct rpc_iobuf_opts, enable_numa), true },
};

/* A value out of SPDK's bounds: the field, and why in \p why. */
static const char *
iobuf_opts_check(const struct rpc_iobuf_opts *o, char *why, size_t len)
{
	static const struct {
		const char *name;
		uint64_t min;
	} mins[] = {
		{ "small_pool_count", IOBUF_RPC_MIN_SMALL_POOL },
		{ "large_pool_count", IOBUF_RPC_MIN_LARGE_POOL },
		{ "small_bufsize", IOBUF_RPC_MIN_SMALL_BUF },
		{ "large_bufsize", IOBUF_RPC_MIN_LARGE_BUF },
	};
	const uint64_t values[] = { o->small_pool_count, o->large_pool_count, o->small_bufsize,
				    o->large_bufsize };
	size_t i;

	for (i = 0; i < NVT_COUNTOF(mins); i++) {
		if (values[i] < mins[i].min) {
			snprintf(why, len, "%" PRIu64 " is below SPDK's minimum %" PRIu64,
				 values[i], mins[i].min);
			return mins[i].name;
		}
	}
	snprintf(why, len, "NUMA-local buffer pools are not supported (false only)");
	return o->enable_numa ? "enable_numa" : NULL;
}

static void
rpc_iobuf_set_options(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_iobuf_opts o = {
		.small_pool_count = IOBUF_RPC_SMALL_POOL_COUNT,
		.large_pool_count = IOBUF_RPC_LARGE_POOL_COUNT,
		.small_bufsize = IOBUF_RPC_SMALL_BUFSIZE,
		.large_bufsize = IOBUF_RPC_LARGE_BUFSIZE,
	};
	char err[256], why[128];
	const char *bad;

	if (nvt_json_decode_object(params, g_iobuf_fields, NVT_COUNTOF(g_iobuf_fields), &o, err,
				   sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "iobuf_set_options: %s", err);
		return;
	}
	bad = iobuf_opts_check(&o, why, sizeof(why));
	if (bad != NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "iobuf_set_options: field '%s': %s", bad, why);
		return;
	}
	NVT_NOTICELOG("iobuf_set_options: accepted for compatibility with SPDK and ignored: nvtcp "
		      "has no global buffer pool; each transport sizes its own "
		      "(nvmf_create_transport: num_shared_buffers x io_unit_size, buf_cache_size "
		      "per poll group)\n");
	nvt_jsonrpc_send_result(req, NULL);
}
NVT_RPC_REGISTER("iobuf_set_options", rpc_iobuf_set_options, NVT_RPC_STARTUP)
