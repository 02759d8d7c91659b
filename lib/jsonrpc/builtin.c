/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Methods of the RPC layer itself: listing methods, the version, and the
 * configuration (save_config, and the framework_get_* pair that SPDK's
 * rpc.py save_config uses).
 */
#include <stddef.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "jsonrpc_internal.h"

#define RPC_ANY_STATE (NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

/* Decode \p params or answer -32602 naming the method; true when decoded. */
static bool
decode_or_fail(struct nvt_jsonrpc_request *req, const json_t *params,
	       const struct nvt_json_field *fields, size_t nfields, void *out)
{
	char err[256];

	if (nvt_json_decode_object(params, fields, nfields, out, err, sizeof(err)) == 0) {
		return true;
	}
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s",
			       nvt_jsonrpc_request_method(req), err);
	return false;
}

/* ---- rpc_get_methods ---- */

struct get_methods {
	bool current;
	bool include_aliases;
	json_t *list;
};

static const struct nvt_json_field g_get_methods_fields[] = {
	{ "current", NVT_JSON_BOOL, offsetof(struct get_methods, current), true },
	{ "include_aliases", NVT_JSON_BOOL, offsetof(struct get_methods, include_aliases), true },
};

static void
get_methods_add(const char *name, uint32_t state_mask, bool alias, void *ctx)
{
	struct get_methods *gm = ctx;

	if (alias && !gm->include_aliases) {
		return;
	}
	if (gm->current && (state_mask & nvt_rpc_get_state()) == 0) {
		return;
	}
	json_array_append_new(gm->list, json_string(name));
}

static void
rpc_get_methods(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct get_methods gm = { 0 };

	if (!decode_or_fail(req, params, g_get_methods_fields, 2, &gm)) {
		return;
	}
	gm.list = json_array();
	rpc_foreach_method(get_methods_add, &gm);
	nvt_jsonrpc_send_result(req, gm.list);
}

/* ---- nvtcp_get_version ---- */

static void
rpc_get_version(struct nvt_jsonrpc_request *req, const json_t *params)
{
	if (!decode_or_fail(req, params, NULL, 0, NULL)) {
		return;
	}
	nvt_jsonrpc_send_result(req, json_pack("{s:s, s:{s:i, s:i, s:i, s:s}}", "version",
					       "nvtcp " NVT_VERSION, "fields", "major",
					       NVT_VERSION_MAJOR, "minor", NVT_VERSION_MINOR,
					       "patch", NVT_VERSION_PATCH, "suffix", ""));
}

/* ---- configuration ---- */

static void
rpc_save_config(struct nvt_jsonrpc_request *req, const json_t *params)
{
	if (!decode_or_fail(req, params, NULL, 0, NULL)) {
		return;
	}
	nvt_jsonrpc_send_result(req, nvt_config_save());
}

static void
subsystems_add(const char *name, nvt_config_write_fn write_fn, void *ctx)
{
	(void)write_fn;
	json_array_append_new(ctx, json_pack("{s:s, s:[]}", "subsystem", name, "depends_on"));
}

static void
rpc_framework_get_subsystems(struct nvt_jsonrpc_request *req, const json_t *params)
{
	json_t *list;

	if (!decode_or_fail(req, params, NULL, 0, NULL)) {
		return;
	}
	list = json_array();
	config_foreach_subsystem(subsystems_add, list);
	nvt_jsonrpc_send_result(req, list);
}

struct get_config {
	char *name;
};

static const struct nvt_json_field g_get_config_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct get_config, name), false },
};

static void
rpc_framework_get_config(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct get_config gc = { 0 };
	json_t *config;

	if (!decode_or_fail(req, params, g_get_config_fields, 1, &gc)) {
		return;
	}
	config = config_save_subsystem(gc.name);
	if (config == NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "framework_get_config: field 'name': no subsystem '%s'",
				       gc.name);
	} else {
		nvt_jsonrpc_send_result(req, config);
	}
	nvt_json_free_strings(g_get_config_fields, 1, &gc);
}

void
rpc_builtin_register(void)
{
	nvt_rpc_register_method("rpc_get_methods", rpc_get_methods, RPC_ANY_STATE);
	nvt_rpc_register_method("nvtcp_get_version", rpc_get_version, RPC_ANY_STATE);
	/* SPDK's tools ask for the version under this name. */
	rpc_register_alias("spdk_get_version", rpc_get_version, RPC_ANY_STATE);
	nvt_rpc_register_method("save_config", rpc_save_config, RPC_ANY_STATE);
	nvt_rpc_register_method("framework_get_subsystems", rpc_framework_get_subsystems,
				RPC_ANY_STATE);
	nvt_rpc_register_method("framework_get_config", rpc_framework_get_config, RPC_ANY_STATE);
}
