/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Methods of the RPC layer itself: listing methods, the version, the
 * configuration (save_config, and the framework_get_* pair that SPDK's
 * rpc.py save_config uses) and the start-up pair framework_start_init /
 * framework_wait_init that SPDK's rpc.py load_config uses.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/queue.h"
#include "nvtcp/string.h"
#include "jsonrpc_internal.h"

#define RPC_ANY_STATE (NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

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

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_methods_fields, 2, &gm)) {
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
	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
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
	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
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

	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
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
	NVT_JSON_SPDK_DEFAULT("with_batches", "false",
			      "configurations are written one method per entry, without batches"),
};

static void
rpc_framework_get_config(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct get_config gc = { 0 };
	json_t *config;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_config_fields,
				NVT_COUNTOF(g_get_config_fields), &gc)) {
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
	nvt_json_free_strings(g_get_config_fields, NVT_COUNTOF(g_get_config_fields), &gc);
}

/* ---- framework_start_init, framework_wait_init ---- */

/* A framework_wait_init waiting for the start-up. */
struct init_waiter {
	struct nvt_jsonrpc_request *req;
	TAILQ_ENTRY(init_waiter) link;
};

/* App thread only. */
static nvt_rpc_init_fn g_init_fn;
static struct nvt_jsonrpc_request *g_start_req; /* framework_start_init being run */
static TAILQ_HEAD(, init_waiter) g_init_waiters = TAILQ_HEAD_INITIALIZER(g_init_waiters);

void
nvt_rpc_set_init_fn(nvt_rpc_init_fn fn)
{
	g_init_fn = fn;
}

static void
answer_init(struct nvt_jsonrpc_request *req, int rc)
{
	if (rc == 0) {
		nvt_jsonrpc_send_result(req, NULL);
	} else {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "%s: the start-up failed: %s",
				       nvt_jsonrpc_request_method(req), nvt_strerror(-rc));
	}
}

void
nvt_rpc_init_done(int rc)
{
	struct nvt_jsonrpc_request *start = g_start_req;
	struct init_waiter *w;

	g_start_req = NULL;
	if (start != NULL) {
		answer_init(start, rc);
	}
	while ((w = TAILQ_FIRST(&g_init_waiters)) != NULL) {
		TAILQ_REMOVE(&g_init_waiters, w, link);
		answer_init(w->req, rc);
		free(w);
	}
}

static void
rpc_framework_start_init(struct nvt_jsonrpc_request *req, const json_t *params)
{
	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
		return;
	}
	if (g_init_fn == NULL || g_start_req != NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_STATE,
				       "framework_start_init: %s",
				       g_init_fn == NULL ? "this program has no start-up to run"
							 : "the start-up already runs");
		return;
	}
	g_start_req = req;
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	g_init_fn();
}

static void
rpc_framework_wait_init(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct init_waiter *w;

	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
		return;
	}
	if (nvt_rpc_get_state() == NVT_RPC_RUNTIME && g_start_req == NULL) {
		nvt_jsonrpc_send_result(req, NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "framework_wait_init: out of memory");
		return;
	}
	w->req = req;
	TAILQ_INSERT_TAIL(&g_init_waiters, w, link);
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
	nvt_rpc_register_method("framework_start_init", rpc_framework_start_init, NVT_RPC_STARTUP);
	nvt_rpc_register_method("framework_wait_init", rpc_framework_wait_init, RPC_ANY_STATE);
}
