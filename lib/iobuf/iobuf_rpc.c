/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's iobuf_set_options, for configurations saved by SPDK (its save_config
 * always writes it).
 *
 * SPDK has one process-wide pair of buffer pools (small and large) shared by
 * its modules. nvtcp has none: each NVMe/TCP transport owns its data buffer
 * pool (nvmf_create_transport: num_shared_buffers buffers of io_unit_size,
 * buf_cache_size of them cached per poll group). So the sizes are checked as
 * SPDK checks them, then accepted (with a notice, once, that says where
 * nvtcp's buffers are sized, when they are not SPDK's defaults); NUMA-local
 * pools, which nvtcp does not have, are refused. Nothing is saved back:
 * nvtcp has no state for it. The counters SPDK's iobuf_get_stats reports are
 * those of the transports' caches, in nvmf_get_stats.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"

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
};

static const struct nvt_json_field g_iobuf_fields[] = {
	{ "small_pool_count", NVT_JSON_UINT64, offsetof(struct rpc_iobuf_opts, small_pool_count),
	  true },
	{ "large_pool_count", NVT_JSON_UINT64, offsetof(struct rpc_iobuf_opts, large_pool_count),
	  true },
	{ "small_bufsize", NVT_JSON_UINT32, offsetof(struct rpc_iobuf_opts, small_bufsize), true },
	{ "large_bufsize", NVT_JSON_UINT32, offsetof(struct rpc_iobuf_opts, large_bufsize), true },
	NVT_JSON_SPDK_DEFAULT("enable_numa", "false", "nvtcp has no NUMA-local buffer pools"),
};

/* The sizes, in the order of iobuf_opts_check()'s values. */
static const struct {
	const char *name;
	uint64_t min;
	uint64_t spdk_default;
} g_iobuf_sizes[] = {
	{ "small_pool_count", IOBUF_RPC_MIN_SMALL_POOL, IOBUF_RPC_SMALL_POOL_COUNT },
	{ "large_pool_count", IOBUF_RPC_MIN_LARGE_POOL, IOBUF_RPC_LARGE_POOL_COUNT },
	{ "small_bufsize", IOBUF_RPC_MIN_SMALL_BUF, IOBUF_RPC_SMALL_BUFSIZE },
	{ "large_bufsize", IOBUF_RPC_MIN_LARGE_BUF, IOBUF_RPC_LARGE_BUFSIZE },
};

static const char g_iobuf_no_pool[] =
	"nvtcp has no global buffer pool; each transport sizes its own "
	"(nvmf_create_transport: num_shared_buffers x io_unit_size, buf_cache_size per poll "
	"group)";

/*
 * Refuse a size SPDK would refuse (answers, returns false). A size away from
 * SPDK's default asks for a pool nvtcp does not have: the notice, once, says
 * where nvtcp's buffers are sized instead.
 */
static bool
iobuf_opts_check(struct nvt_jsonrpc_request *req, const struct rpc_iobuf_opts *o)
{
	const uint64_t values[] = { o->small_pool_count, o->large_pool_count, o->small_bufsize,
				    o->large_bufsize };
	char names[128] = "";
	size_t i, len = 0;

	for (i = 0; i < NVT_COUNTOF(g_iobuf_sizes); i++) {
		if (values[i] < g_iobuf_sizes[i].min) {
			nvt_jsonrpc_send_field_error(req, g_iobuf_sizes[i].name,
						     "%" PRIu64 " is below SPDK's minimum %" PRIu64,
						     values[i], g_iobuf_sizes[i].min);
			return false;
		}
	}
	for (i = 0; i < NVT_COUNTOF(g_iobuf_sizes); i++) {
		if (values[i] != g_iobuf_sizes[i].spdk_default) {
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'",
						len > 0 ? ", " : "", g_iobuf_sizes[i].name);
		}
	}
	if (len > 0) {
		nvt_jsonrpc_notice_once(req, names, g_iobuf_no_pool);
	}
	return true;
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

	if (nvt_jsonrpc_decode(req, NULL, params, g_iobuf_fields, NVT_COUNTOF(g_iobuf_fields),
			       &o) &&
	    iobuf_opts_check(req, &o)) {
		nvt_jsonrpc_send_result(req, NULL);
	}
}
NVT_RPC_REGISTER("iobuf_set_options", rpc_iobuf_set_options, NVT_RPC_STARTUP)
