/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the bdev layer, with SPDK's names and parameters, and the
 * "bdev" subsystem of saved configurations.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "bdev_internal.h"

static const char *const g_io_type_names[NVT_BDEV_NUM_IO_TYPES] = {
	[NVT_BDEV_IO_TYPE_READ] = "read",   [NVT_BDEV_IO_TYPE_WRITE] = "write",
	[NVT_BDEV_IO_TYPE_FLUSH] = "flush", [NVT_BDEV_IO_TYPE_WRITE_ZEROES] = "write_zeroes",
	[NVT_BDEV_IO_TYPE_UNMAP] = "unmap", [NVT_BDEV_IO_TYPE_COMPARE] = "compare",
};

/* SPDK's I/O types we never support, listed as false so tools find every key. */
static const char *const g_io_types_unsupported[] = {
	"reset", "nvme_admin", "nvme_io", "compare_and_write", "abort", "zcopy",
};

static json_t *
bdev_io_types_json(const struct nvt_bdev *bdev)
{
	json_t *types = json_object();
	size_t i;

	for (i = 0; i < NVT_BDEV_NUM_IO_TYPES; i++) {
		json_object_set_new(types, g_io_type_names[i],
				    json_boolean(nvt_bdev_io_type_supported(bdev, i)));
	}
	for (i = 0; i < NVT_COUNTOF(g_io_types_unsupported); i++) {
		json_object_set_new(types, g_io_types_unsupported[i], json_false());
	}
	return types;
}

/* One bdev as SPDK's bdev_get_bdevs describes it. */
static json_t *
bdev_info_json(const struct nvt_bdev *bdev)
{
	char uuid[NVT_UUID_STRING_LEN];

	nvt_uuid_fmt(uuid, bdev->uuid);
	return json_pack("{s:s, s:[], s:s, s:i, s:I, s:s, s:{s:i, s:i, s:i, s:i}, s:b, s:b, "
			 "s:b, s:o, s:{}}",
			 "name", bdev->name, "aliases", "product_name", bdev->product_name,
			 "block_size", (int)bdev->blocklen, "num_blocks",
			 (json_int_t)bdev->blockcnt, "uuid", uuid, "assigned_rate_limits",
			 "rw_ios_per_sec", 0, "rw_mbytes_per_sec", 0, "r_mbytes_per_sec", 0,
			 "w_mbytes_per_sec", 0, "claimed", 0, "zoned", 0, "write_cache",
			 bdev->write_cache, "supported_io_types", bdev_io_types_json(bdev),
			 "driver_specific");
}

struct rpc_get_bdevs {
	char *name;
	uint64_t timeout;
};

static const struct nvt_json_field g_get_bdevs_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_get_bdevs, name), true },
	{ "timeout", NVT_JSON_UINT64, offsetof(struct rpc_get_bdevs, timeout), true },
};

static void
rpc_bdev_get_bdevs(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_get_bdevs req = { 0 };
	struct nvt_bdev *bdev;
	json_t *result;
	char err[256];

	if (nvt_json_decode_object(params, g_get_bdevs_fields, NVT_COUNTOF(g_get_bdevs_fields),
				   &req, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(request, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "bdev_get_bdevs: %s", err);
		return;
	}
	/* The timeout (wait for the bdev to appear) is moot: bdevs appear synchronously. */
	result = json_array();
	if (req.name != NULL) {
		bdev = nvt_bdev_get_by_name(req.name);
		if (bdev == NULL) {
			nvt_jsonrpc_send_error(request, -ENODEV, "bdev_get_bdevs: bdev '%s': %s",
					       req.name, nvt_strerror(ENODEV));
			json_decref(result);
			goto out;
		}
		json_array_append_new(result, bdev_info_json(bdev));
	} else {
		for (bdev = nvt_bdev_first(); bdev != NULL; bdev = nvt_bdev_next(bdev)) {
			json_array_append_new(result, bdev_info_json(bdev));
		}
	}
	nvt_jsonrpc_send_result(request, result);
out:
	nvt_json_free_strings(g_get_bdevs_fields, NVT_COUNTOF(g_get_bdevs_fields), &req);
}
NVT_RPC_REGISTER("bdev_get_bdevs", rpc_bdev_get_bdevs, NVT_RPC_RUNTIME)

/*
 * SPDK's bdev-wide options (its bdev_io pool and iobuf caches). Ours are sized
 * elsewhere, so the method only accepts them, for configurations saved by SPDK.
 */
static const char *const g_set_options_fields[] = {
	"bdev_io_pool_size",	  "bdev_io_cache_size",	    "bdev_auto_examine",
	"iobuf_small_cache_size", "iobuf_large_cache_size", "small_buf_pool_size",
	"large_buf_pool_size",
};

static void
rpc_bdev_set_options(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct nvt_json_field fields[NVT_COUNTOF(g_set_options_fields)];
	const json_t *values[NVT_COUNTOF(g_set_options_fields)] = { NULL };
	char err[256];
	size_t i;

	for (i = 0; i < NVT_COUNTOF(fields); i++) {
		fields[i] = (struct nvt_json_field){ g_set_options_fields[i], NVT_JSON_ANY,
						     i * sizeof(values[0]), true };
	}
	if (nvt_json_decode_object(params, fields, NVT_COUNTOF(fields), values, err, sizeof(err)) !=
	    0) {
		nvt_jsonrpc_send_error(request, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "bdev_set_options: %s", err);
		return;
	}
	for (i = 0; i < NVT_COUNTOF(fields); i++) {
		if (values[i] != NULL) {
			NVT_DEBUGLOG(bdev, "bdev_set_options: '%s' ignored\n", fields[i].name);
		}
	}
	nvt_jsonrpc_send_result(request, NULL);
}
NVT_RPC_REGISTER("bdev_set_options", rpc_bdev_set_options, NVT_RPC_STARTUP)

/* Nothing examines bdevs here: every bdev is ready once its create method answered. */
static void
rpc_bdev_wait_for_examine(struct nvt_jsonrpc_request *request, const json_t *params)
{
	char err[256];

	if (nvt_json_decode_object(params, NULL, 0, NULL, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(request, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "bdev_wait_for_examine: %s", err);
		return;
	}
	nvt_jsonrpc_send_result(request, NULL);
}
NVT_RPC_REGISTER("bdev_wait_for_examine", rpc_bdev_wait_for_examine, NVT_RPC_RUNTIME)

/* Each bdev as the method call of its module that recreates it, in creation order. */
static void
bdev_write_config(json_t *config)
{
	struct nvt_bdev *bdev;

	for (bdev = nvt_bdev_first(); bdev != NULL; bdev = nvt_bdev_next(bdev)) {
		if (bdev->fn_table->write_config_json != NULL) {
			bdev->fn_table->write_config_json(bdev, config);
		}
	}
}
NVT_CONFIG_REGISTER_SUBSYSTEM("bdev", bdev_write_config)

/* ---- helpers for the modules ---- */

void
nvt_bdev_write_create_config(const struct nvt_bdev *bdev, const char *method, json_t *config)
{
	char uuid[NVT_UUID_STRING_LEN];

	nvt_uuid_fmt(uuid, bdev->uuid);
	json_array_append_new(config, json_pack("{s:s, s:{s:s, s:I, s:i, s:s}}", "method", method,
						"params", "name", bdev->name, "num_blocks",
						(json_int_t)bdev->blockcnt, "block_size",
						(int)bdev->blocklen, "uuid", uuid));
}

struct rpc_module_delete {
	char *name;
};

static const struct nvt_json_field g_module_delete_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_module_delete, name), false },
};

static void
module_delete_done(void *cb_arg, int status)
{
	struct nvt_jsonrpc_request *request = cb_arg;

	if (status != 0) {
		nvt_jsonrpc_send_error(request, status, "%s: %s",
				       nvt_jsonrpc_request_method(request), nvt_strerror(status));
		return;
	}
	nvt_jsonrpc_send_result(request, NULL);
}

void
nvt_bdev_rpc_delete(struct nvt_jsonrpc_request *request, const json_t *params, const char *method,
		    const struct nvt_bdev_module *module)
{
	struct rpc_module_delete req = { 0 };
	struct nvt_bdev *bdev;
	char err[256];

	if (nvt_json_decode_object(params, g_module_delete_fields,
				   NVT_COUNTOF(g_module_delete_fields), &req, err,
				   sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(request, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s", method,
				       err);
		return;
	}
	bdev = nvt_bdev_get_by_name(req.name);
	/* Answered once every opener has closed the bdev. */
	if (bdev == NULL || bdev->module != module ||
	    nvt_bdev_unregister(bdev, module_delete_done, request) != 0) {
		nvt_jsonrpc_send_error(request, -ENODEV, "%s: no %s bdev '%s'", method,
				       module->name, req.name);
	}
	nvt_json_free_strings(g_module_delete_fields, NVT_COUNTOF(g_module_delete_fields), &req);
}
