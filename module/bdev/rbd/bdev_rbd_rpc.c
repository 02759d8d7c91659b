/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's bdev_rbd_* methods with SPDK's parameters: register, unregister and
 * describe clusters; create, delete and resize bdevs. Creation, registration
 * and resizing answer once their blocking step on a pthread has ended.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"
#include "bdev_rbd.h"

/* An RPC's answer from an asynchronous step: the error carries the method and the name. */
static void
rpc_answer(void *ctx, int rc, const char *err)
{
	struct nvt_jsonrpc_request *request = ctx;

	if (rc != 0) {
		nvt_jsonrpc_send_error(request, rc, "%s: %s", nvt_jsonrpc_request_method(request),
				       err != NULL && err[0] != '\0' ? err : nvt_strerror(rc));
		return;
	}
	nvt_jsonrpc_send_result(request, NULL);
}

static void
rpc_answer_now(struct nvt_jsonrpc_request *request, int rc, const char *err)
{
	rpc_answer(request, rc, err);
}

/* ---- clusters ---- */

struct rpc_register {
	char *name;
	char *user_id;
	const json_t *config_param;
	char *config_file;
	char *key_file;
	char *core_mask;
};

#define REG_FIELD(name, type, opt)                                    \
	{                                                             \
#name, type, offsetof(struct rpc_register, name), opt \
	}

static const struct nvt_json_field g_register_fields[] = {
	REG_FIELD(name, NVT_JSON_STRING, false),
	REG_FIELD(user_id, NVT_JSON_STRING, true),
	REG_FIELD(config_param, NVT_JSON_ANY, true),
	REG_FIELD(config_file, NVT_JSON_STRING, true),
	REG_FIELD(key_file, NVT_JSON_STRING, true),
	/* Kept and saved: librbd makes and schedules its own threads, unpinned. */
	REG_FIELD(core_mask, NVT_JSON_STRING, true),
};

static void
rpc_bdev_rbd_register_cluster(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_register p = { 0 };
	struct nvt_bdev_rbd_cluster_opts opts = { 0 };
	char err[256] = "";
	int rc;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_register_fields,
				NVT_COUNTOF(g_register_fields), &p)) {
		return;
	}
	opts.name = p.name;
	opts.user_id = p.user_id;
	opts.config_param = p.config_param;
	opts.config_file = p.config_file;
	opts.key_file = p.key_file;
	opts.core_mask = p.core_mask;
	rc = nvt_bdev_rbd_register_cluster(&opts, rpc_answer, request, err, sizeof(err));
	if (rc != 0) {
		rpc_answer_now(request, rc, err);
	}
	nvt_json_free_strings(g_register_fields, NVT_COUNTOF(g_register_fields), &p);
}
NVT_RPC_REGISTER("bdev_rbd_register_cluster", rpc_bdev_rbd_register_cluster, NVT_RPC_RUNTIME)

struct rpc_name {
	char *name;
};

static const struct nvt_json_field g_name_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_name, name), false },
};

static const struct nvt_json_field g_opt_name_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_name, name), true },
};

static void
rpc_bdev_rbd_unregister_cluster(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_name p = { 0 };
	char err[256] = "";
	int rc;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_name_fields, NVT_COUNTOF(g_name_fields),
				&p)) {
		return;
	}
	rc = nvt_bdev_rbd_unregister_cluster(p.name, rpc_answer, request, err, sizeof(err));
	if (rc != 0) {
		rpc_answer_now(request, rc, err);
	}
	nvt_json_free_strings(g_name_fields, NVT_COUNTOF(g_name_fields), &p);
}
NVT_RPC_REGISTER("bdev_rbd_unregister_cluster", rpc_bdev_rbd_unregister_cluster, NVT_RPC_RUNTIME)

static void
rpc_bdev_rbd_get_clusters_info(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_name p = { 0 };
	json_t *info;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_opt_name_fields,
				NVT_COUNTOF(g_opt_name_fields), &p)) {
		return;
	}
	info = nvt_bdev_rbd_clusters_info(p.name);
	if (info == NULL) {
		nvt_jsonrpc_send_error(request, -ENOENT, "%s: no cluster '%s' registered",
				       nvt_jsonrpc_request_method(request), p.name);
	} else {
		nvt_jsonrpc_send_result(request, info);
	}
	nvt_json_free_strings(g_opt_name_fields, NVT_COUNTOF(g_opt_name_fields), &p);
}
NVT_RPC_REGISTER("bdev_rbd_get_clusters_info", rpc_bdev_rbd_get_clusters_info, NVT_RPC_RUNTIME)

/* ---- bdevs ---- */

struct rpc_create {
	char *name;
	char *pool_name;
	char *rbd_name;
	uint32_t block_size;
	char *user_id;
	const json_t *config;
	char *cluster_name;
	char *uuid;
	bool read_only;
};

#define CREATE_FIELD(name, type, opt)                               \
	{                                                           \
#name, type, offsetof(struct rpc_create, name), opt \
	}

static const struct nvt_json_field g_create_fields[] = {
	CREATE_FIELD(name, NVT_JSON_STRING, true),
	CREATE_FIELD(pool_name, NVT_JSON_STRING, false),
	CREATE_FIELD(rbd_name, NVT_JSON_STRING, false),
	CREATE_FIELD(block_size, NVT_JSON_UINT32, false),
	CREATE_FIELD(user_id, NVT_JSON_STRING, true),
	CREATE_FIELD(config, NVT_JSON_ANY, true),
	CREATE_FIELD(cluster_name, NVT_JSON_STRING, true),
	CREATE_FIELD(uuid, NVT_JSON_STRING, true),
	CREATE_FIELD(read_only, NVT_JSON_BOOL, true),
};

static void
create_answer(void *ctx, struct nvt_bdev *bdev, int rc, const char *err)
{
	struct nvt_jsonrpc_request *request = ctx;

	if (rc != 0) {
		rpc_answer(request, rc, err);
		return;
	}
	nvt_jsonrpc_send_result(request, json_string(nvt_bdev_get_name(bdev)));
}

/* SPDK names unnamed rbd bdevs Rbd0, Rbd1, ...: the first free. */
static void
default_name(char *name, size_t len)
{
	unsigned int i;

	for (i = 0;; i++) {
		snprintf(name, len, "Rbd%u", i);
		if (nvt_bdev_get_by_name(name) == NULL && !nvt_bdev_rbd_name_pending(name)) {
			return;
		}
	}
}

static void
create_run(struct nvt_jsonrpc_request *request, const struct rpc_create *p)
{
	struct nvt_bdev_rbd_opts opts = { 0 };
	char name[NVT_BDEV_NAME_LEN], err[256] = "";
	uint8_t uuid[16];
	int rc;

	if (p->uuid != NULL && nvt_uuid_parse(p->uuid, uuid) != 0) {
		nvt_jsonrpc_send_field_error(request, "uuid", "'%s' is not a UUID", p->uuid);
		return;
	}
	if (p->name == NULL) {
		default_name(name, sizeof(name));
	}
	opts.name = p->name != NULL ? p->name : name;
	opts.pool_name = p->pool_name;
	opts.rbd_name = p->rbd_name;
	opts.block_size = p->block_size;
	opts.user_id = p->user_id;
	opts.config = p->config;
	opts.cluster_name = p->cluster_name;
	opts.uuid = p->uuid != NULL ? uuid : NULL;
	opts.read_only = p->read_only;
	rc = nvt_bdev_rbd_create(&opts, create_answer, request, err, sizeof(err));
	if (rc != 0) {
		nvt_jsonrpc_send_error(request, rc, "%s: %s: %s",
				       nvt_jsonrpc_request_method(request), opts.name, err);
	}
}

static void
rpc_bdev_rbd_create(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_create p = { 0 };

	if (nvt_jsonrpc_decode(request, NULL, params, g_create_fields, NVT_COUNTOF(g_create_fields),
			       &p)) {
		create_run(request, &p);
	}
	nvt_json_free_strings(g_create_fields, NVT_COUNTOF(g_create_fields), &p);
}
NVT_RPC_REGISTER("bdev_rbd_create", rpc_bdev_rbd_create, NVT_RPC_RUNTIME)

static void
rpc_bdev_rbd_delete(struct nvt_jsonrpc_request *request, const json_t *params)
{
	nvt_bdev_rpc_delete(request, params, "bdev_rbd_delete", &g_bdev_rbd_module);
}
NVT_RPC_REGISTER("bdev_rbd_delete", rpc_bdev_rbd_delete, NVT_RPC_RUNTIME)

struct rpc_resize {
	char *name;
	uint64_t new_size;
};

static const struct nvt_json_field g_resize_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_resize, name), false },
	/* MiB, as SPDK. */
	{ "new_size", NVT_JSON_UINT64, offsetof(struct rpc_resize, new_size), false },
};

static void
rpc_bdev_rbd_resize(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_resize p = { 0 };
	char err[256] = "";
	int rc;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_resize_fields,
				NVT_COUNTOF(g_resize_fields), &p)) {
		return;
	}
	rc = nvt_bdev_rbd_resize(p.name, p.new_size, rpc_answer, request, err, sizeof(err));
	if (rc != 0) {
		rpc_answer_now(request, rc, err);
	}
	nvt_json_free_strings(g_resize_fields, NVT_COUNTOF(g_resize_fields), &p);
}
NVT_RPC_REGISTER("bdev_rbd_resize", rpc_bdev_rbd_resize, NVT_RPC_RUNTIME)
