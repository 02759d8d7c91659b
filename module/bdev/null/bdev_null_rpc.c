/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bdev_null_create and bdev_null_delete, with SPDK's parameters. Each
 * parameter's rule (applied, SPDK's default only, or a hint not applied) is
 * lib/bdev's, shared with the other modules and the saved configuration.
 */
#include "nvtcp/jsonrpc.h"
#include "bdev_null.h"

static void
rpc_bdev_null_create(struct nvt_jsonrpc_request *request, const json_t *params)
{
	nvt_bdev_rpc_create(request, params, &g_bdev_null_create);
}
NVT_RPC_REGISTER("bdev_null_create", rpc_bdev_null_create, NVT_RPC_RUNTIME)

static void
rpc_bdev_null_delete(struct nvt_jsonrpc_request *request, const json_t *params)
{
	nvt_bdev_rpc_delete(request, params, "bdev_null_delete", &g_bdev_null_module);
}
NVT_RPC_REGISTER("bdev_null_delete", rpc_bdev_null_delete, NVT_RPC_RUNTIME)
