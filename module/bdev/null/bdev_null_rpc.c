/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bdev_null_create and bdev_null_delete, with SPDK's parameters.
 * Metadata and protection information are refused; the layout hints SPDK
 * accepts (physical_block_size, optimal_io_boundary, numa_id) are ignored.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/string.h"
#include "bdev_null.h"

struct rpc_null_create {
	char *name;
	char *uuid;
	uint64_t num_blocks;
	uint32_t block_size;
	uint32_t physical_block_size;
	uint32_t optimal_io_boundary;
	uint32_t md_size;
	bool md_interleave;
	int32_t dif_type;
	bool dif_is_head_of_md;
	int32_t dif_pi_format;
	int32_t numa_id;
};

#define NULL_FIELD(name, type, opt)                                      \
	{                                                                \
#name, type, offsetof(struct rpc_null_create, name), opt \
	}

static const struct nvt_json_field g_null_create_fields[] = {
	NULL_FIELD(name, NVT_JSON_STRING, false),
	NULL_FIELD(uuid, NVT_JSON_STRING, true),
	NULL_FIELD(num_blocks, NVT_JSON_UINT64, false),
	NULL_FIELD(block_size, NVT_JSON_UINT32, false),
	NULL_FIELD(physical_block_size, NVT_JSON_UINT32, true),
	NULL_FIELD(optimal_io_boundary, NVT_JSON_UINT32, true),
	NULL_FIELD(md_size, NVT_JSON_UINT32, true),
	NULL_FIELD(md_interleave, NVT_JSON_BOOL, true),
	NULL_FIELD(dif_type, NVT_JSON_INT32, true),
	NULL_FIELD(dif_is_head_of_md, NVT_JSON_BOOL, true),
	NULL_FIELD(dif_pi_format, NVT_JSON_INT32, true),
	NULL_FIELD(numa_id, NVT_JSON_INT32, true),
};

/* Refuse what we cannot honour; 0, or -EINVAL with the reason in \p err. */
static int
null_create_check(const struct rpc_null_create *req, uint8_t uuid[16], char *err, size_t errlen)
{
	const char *field = NULL;

	if (req->md_size != 0) {
		field = "md_size";
	} else if (req->md_interleave) {
		field = "md_interleave";
	} else if (req->dif_type != 0) {
		field = "dif_type";
	} else if (req->dif_is_head_of_md) {
		field = "dif_is_head_of_md";
	} else if (req->dif_pi_format != 0) {
		field = "dif_pi_format";
	}
	if (field != NULL) {
		snprintf(err, errlen,
			 "field '%s': metadata and protection information are not supported",
			 field);
		return -EINVAL;
	}
	if (req->uuid != NULL && nvt_uuid_parse(req->uuid, uuid) != 0) {
		snprintf(err, errlen, "field 'uuid': '%s' is not a UUID", req->uuid);
		return -EINVAL;
	}
	return 0;
}

static void
rpc_bdev_null_create(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_null_create req = { 0 };
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev;
	uint8_t uuid[16];
	char err[256];
	int rc;

	if (nvt_json_decode_object(params, g_null_create_fields, NVT_COUNTOF(g_null_create_fields),
				   &req, err, sizeof(err)) != 0 ||
	    null_create_check(&req, uuid, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(request, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "bdev_null_create: %s", err);
		goto out;
	}
	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	opts.name = req.name;
	opts.num_blocks = req.num_blocks;
	opts.block_size = req.block_size;
	opts.uuid = req.uuid != NULL ? uuid : NULL;
	rc = nvt_bdev_null_create(&opts, &bdev);
	if (rc != 0) {
		/* SPDK's convention: the negative errno is the code. */
		nvt_jsonrpc_send_error(request, rc, "bdev_null_create: %s: %s", opts.name,
				       nvt_strerror(rc));
		goto out;
	}
	nvt_jsonrpc_send_result(request, json_string(nvt_bdev_get_name(bdev)));
out:
	nvt_json_free_strings(g_null_create_fields, NVT_COUNTOF(g_null_create_fields), &req);
}
NVT_RPC_REGISTER("bdev_null_create", rpc_bdev_null_create, NVT_RPC_RUNTIME)

static void
rpc_bdev_null_delete(struct nvt_jsonrpc_request *request, const json_t *params)
{
	nvt_bdev_rpc_delete(request, params, "bdev_null_delete", &g_bdev_null_module);
}
NVT_RPC_REGISTER("bdev_null_delete", rpc_bdev_null_delete, NVT_RPC_RUNTIME)
