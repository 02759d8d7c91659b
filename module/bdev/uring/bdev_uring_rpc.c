/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's bdev_uring_* and bdev_aio_* methods, with SPDK's parameters, served
 * by the uring engine alike: create, delete, rescan. A bdev created by
 * bdev_aio_create is an "AIO disk" and is saved back as bdev_aio_create.
 */
#include <errno.h>
#include <stddef.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"
#include "bdev_uring.h"

struct rpc_uring_create {
	char *name;
	char *filename;
	char *uuid;
	uint32_t block_size;
	bool readonly;
	bool fallocate;
};

#define CREATE_FIELD(name, type, opt)                                     \
	{                                                                 \
#name, type, offsetof(struct rpc_uring_create, name), opt \
	}

static const struct nvt_json_field g_uring_create_fields[] = {
	CREATE_FIELD(name, NVT_JSON_STRING, false),
	CREATE_FIELD(filename, NVT_JSON_STRING, false),
	CREATE_FIELD(block_size, NVT_JSON_UINT32, true),
	CREATE_FIELD(uuid, NVT_JSON_STRING, true),
};

static const struct nvt_json_field g_aio_create_fields[] = {
	CREATE_FIELD(name, NVT_JSON_STRING, false),
	CREATE_FIELD(filename, NVT_JSON_STRING, false),
	CREATE_FIELD(block_size, NVT_JSON_UINT32, true),
	CREATE_FIELD(uuid, NVT_JSON_STRING, true),
	CREATE_FIELD(readonly, NVT_JSON_BOOL, true),
	CREATE_FIELD(fallocate, NVT_JSON_BOOL, true),
	/* io_uring never blocks the reactor: RWF_NOWAIT has nothing to add. */
	NVT_JSON_SPDK_IGNORED("nowait", NULL),
};

static void
create_run(struct nvt_jsonrpc_request *request, const struct rpc_uring_create *p, bool aio)
{
	struct nvt_bdev_uring_opts opts;
	struct nvt_bdev *bdev;
	uint8_t uuid[16];
	char err[320] = "";
	int rc;

	if (p->uuid != NULL && nvt_uuid_parse(p->uuid, uuid) != 0) {
		nvt_jsonrpc_send_field_error(request, "uuid", "'%s' is not a UUID", p->uuid);
		return;
	}
	nvt_bdev_uring_opts_init(&opts, sizeof(opts));
	opts.name = p->name;
	opts.filename = p->filename;
	opts.block_size = p->block_size;
	opts.uuid = p->uuid != NULL ? uuid : NULL;
	opts.read_only = p->readonly;
	opts.fallocate = p->fallocate;
	opts.aio = aio;
	rc = nvt_bdev_uring_create(&opts, &bdev, err, sizeof(err));
	if (rc != 0) {
		/* SPDK's convention: the negative errno is the code. */
		nvt_jsonrpc_send_error(request, rc, "%s: %s: %s",
				       nvt_jsonrpc_request_method(request), p->name,
				       err[0] != '\0' ? err : nvt_strerror(rc));
		return;
	}
	nvt_jsonrpc_send_result(request, json_string(nvt_bdev_get_name(bdev)));
}

static void
rpc_create(struct nvt_jsonrpc_request *request, const json_t *params, bool aio)
{
	const struct nvt_json_field *fields = aio ? g_aio_create_fields : g_uring_create_fields;
	size_t nfields =
		aio ? NVT_COUNTOF(g_aio_create_fields) : NVT_COUNTOF(g_uring_create_fields);
	/* SPDK's aio uses fallocate only when asked; uring always does. */
	struct rpc_uring_create p = { .fallocate = !aio };

	if (nvt_jsonrpc_decode(request, NULL, params, fields, nfields, &p)) {
		create_run(request, &p, aio);
	}
	nvt_json_free_strings(fields, nfields, &p);
}

static void
rpc_bdev_uring_create(struct nvt_jsonrpc_request *request, const json_t *params)
{
	rpc_create(request, params, false);
}
NVT_RPC_REGISTER("bdev_uring_create", rpc_bdev_uring_create, NVT_RPC_RUNTIME)

static void
rpc_bdev_aio_create(struct nvt_jsonrpc_request *request, const json_t *params)
{
	rpc_create(request, params, true);
}
NVT_RPC_REGISTER("bdev_aio_create", rpc_bdev_aio_create, NVT_RPC_RUNTIME)

static void
rpc_bdev_uring_delete(struct nvt_jsonrpc_request *request, const json_t *params)
{
	nvt_bdev_rpc_delete(request, params, "bdev_uring_delete", &g_bdev_uring_module);
}
NVT_RPC_REGISTER("bdev_uring_delete", rpc_bdev_uring_delete, NVT_RPC_RUNTIME)

static void
rpc_bdev_aio_delete(struct nvt_jsonrpc_request *request, const json_t *params)
{
	nvt_bdev_rpc_delete(request, params, "bdev_aio_delete", &g_bdev_aio_module);
}
NVT_RPC_REGISTER("bdev_aio_delete", rpc_bdev_aio_delete, NVT_RPC_RUNTIME)

struct rpc_rescan {
	char *name;
};

static const struct nvt_json_field g_rescan_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_rescan, name), false },
};

/* Both methods rescan any bdev of the engine, whichever created it. */
static void
rpc_rescan(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_rescan p = { 0 };
	int rc;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_rescan_fields,
				NVT_COUNTOF(g_rescan_fields), &p)) {
		return;
	}
	rc = nvt_bdev_uring_rescan(p.name);
	if (rc == 0) {
		nvt_jsonrpc_send_result(request, NULL);
	} else {
		nvt_jsonrpc_send_error(
			request, rc, "%s: %s: %s", nvt_jsonrpc_request_method(request), p.name,
			rc == -ENODEV ? "no uring or aio bdev of that name" : nvt_strerror(rc));
	}
	nvt_json_free_strings(g_rescan_fields, NVT_COUNTOF(g_rescan_fields), &p);
}

static void
rpc_bdev_uring_rescan(struct nvt_jsonrpc_request *request, const json_t *params)
{
	rpc_rescan(request, params);
}
NVT_RPC_REGISTER("bdev_uring_rescan", rpc_bdev_uring_rescan, NVT_RPC_RUNTIME)

static void
rpc_bdev_aio_rescan(struct nvt_jsonrpc_request *request, const json_t *params)
{
	rpc_rescan(request, params);
}
NVT_RPC_REGISTER("bdev_aio_rescan", rpc_bdev_aio_rescan, NVT_RPC_RUNTIME)
