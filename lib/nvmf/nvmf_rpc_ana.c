/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asymmetric Namespace Access methods with SPDK's names and parameters:
 * nvmf_subsystem_listener_set_ana_state, nvmf_subsystem_set_ns_ana_group,
 * nvmf_subsystem_get_listeners; and the listener states in saved
 * configurations.
 */
#include <errno.h>
#include <stddef.h>

#include "nvtcp/likely.h"
#include "nvtcp/string.h"

#include "nvmf_rpc_internal.h"

/* ---- nvmf_subsystem_listener_set_ana_state ---- */

struct rpc_set_ana_state {
	char *nqn;
	const json_t *listen_address;
	char *ana_state;
	uint32_t anagrpid;
};

static const struct nvt_json_field g_set_ana_state_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_set_ana_state, nqn), false },
	{ "listen_address", NVT_JSON_ANY, offsetof(struct rpc_set_ana_state, listen_address),
	  false },
	{ "ana_state", NVT_JSON_STRING, offsetof(struct rpc_set_ana_state, ana_state), false },
	{ "anagrpid", NVT_JSON_UINT32, offsetof(struct rpc_set_ana_state, anagrpid), true },
	NVMF_RPC_TGT_NAME,
};

static void
set_ana_state_answer(struct nvt_jsonrpc_request *req, const struct nvt_nvmf_subsystem *subsystem,
		     const struct nvt_nvmf_trid *trid, int rc)
{
	switch (rc) {
	case 0:
		nvt_jsonrpc_send_result(req, NULL);
		break;
	case -EPERM:
		nvt_jsonrpc_send_field_error(req, "nqn", "%s has no ANA reporting (ana_reporting)",
					     subsystem->nqn);
		break;
	case -ENOENT:
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: listen_address %s:%s: no such listener of %s",
				       nvt_jsonrpc_request_method(req), trid->traddr, trid->trsvcid,
				       subsystem->nqn);
		break;
	case -EINVAL:
		nvt_jsonrpc_send_field_error(req, "anagrpid", "above max_namespaces (%u)",
					     subsystem->max_nsid);
		break;
	default:
		nvmf_rpc_send_errno(req, "setting the ANA state", rc);
	}
}

static void
set_ana_state_with(struct nvt_jsonrpc_request *req, const struct rpc_set_ana_state *p)
{
	struct nvt_nvmf_subsystem *subsystem = nvmf_rpc_find_subsystem(req, p->nqn);
	enum nvt_nvme_ana_state state;
	struct nvt_nvmf_trid trid;

	if (subsystem == NULL ||
	    !nvmf_rpc_decode_address(req, "listen_address", p->listen_address, &trid)) {
		return;
	}
	if (nvmf_ana_state_parse(p->ana_state, &state) != 0) {
		nvt_jsonrpc_send_field_error(req, "ana_state",
					     "'%s': not optimized, non_optimized or inaccessible",
					     p->ana_state);
		return;
	}
	set_ana_state_answer(
		req, subsystem, &trid,
		nvt_nvmf_subsystem_set_ana_state(subsystem, &trid, state, p->anagrpid));
}

static void
rpc_set_ana_state_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_set_ana_state p = { 0 };

	if (!nvt_jsonrpc_decode(req, NULL, params, g_set_ana_state_fields,
				NVT_COUNTOF(g_set_ana_state_fields), &p)) {
		return;
	}
	set_ana_state_with(req, &p);
	nvt_json_free_strings(g_set_ana_state_fields, NVT_COUNTOF(g_set_ana_state_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_subsystem_listener_set_ana_state", rpc_set_ana_state_run)

/* ---- nvmf_subsystem_set_ns_ana_group ---- */

struct rpc_set_ns_ana_group {
	char *nqn;
	uint32_t nsid;
	uint32_t anagrpid;
};

static const struct nvt_json_field g_set_ns_ana_group_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_set_ns_ana_group, nqn), false },
	{ "nsid", NVT_JSON_UINT32, offsetof(struct rpc_set_ns_ana_group, nsid), false },
	{ "anagrpid", NVT_JSON_UINT32, offsetof(struct rpc_set_ns_ana_group, anagrpid), false },
	NVMF_RPC_TGT_NAME,
};

static void
rpc_set_ns_ana_group_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_set_ns_ana_group p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;
	int rc;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_set_ns_ana_group_fields,
				NVT_COUNTOF(g_set_ns_ana_group_fields), &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL) {
		rc = nvt_nvmf_subsystem_set_ns_ana_group(subsystem, p.nsid, p.anagrpid);
		if (rc == 0) {
			nvt_jsonrpc_send_result(req, NULL);
		} else if (rc == -ENOENT) {
			nvt_jsonrpc_send_field_error(req, "nsid", "no such namespace");
		} else {
			nvt_jsonrpc_send_field_error(req, "anagrpid",
						     "not in 1..max_namespaces (%u)",
						     subsystem->max_nsid);
		}
	}
	nvt_json_free_strings(g_set_ns_ana_group_fields, NVT_COUNTOF(g_set_ns_ana_group_fields),
			      &p);
}
NVMF_RPC_REGISTER("nvmf_subsystem_set_ns_ana_group", rpc_set_ns_ana_group_run)

/* ---- nvmf_subsystem_get_listeners ---- */

/* SPDK's form: every group 1..max_namespaces, with ANA reporting only. */
static json_t *
listener_to_json(const struct nvt_nvmf_subsystem *s, const struct nvmf_subsystem_listener *l)
{
	json_t *obj = json_pack("{s:o}", "address", nvmf_rpc_trid_to_json(&l->trid));
	json_t *states;
	uint32_t g;

	if (obj == NULL || !nvt_nvmf_subsystem_get_ana_reporting(s)) {
		return obj;
	}
	states = json_array();
	for (g = 1; g <= s->max_nsid; g++) {
		json_array_append_new(
			states, json_pack("{s:i, s:s}", "ana_group", g, "ana_state",
					  nvmf_ana_state_str(nvmf_ana_listener_state(s, l, g))));
	}
	json_object_set_new(obj, "ana_states", states);
	return obj;
}

struct rpc_get_listeners {
	char *nqn;
};

static const struct nvt_json_field g_get_listeners_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_get_listeners, nqn), false },
	NVMF_RPC_TGT_NAME,
};

static void
rpc_get_listeners_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_get_listeners p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;
	struct nvmf_subsystem_listener *l;
	json_t *list;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_listeners_fields,
				NVT_COUNTOF(g_get_listeners_fields), &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL) {
		list = json_array();
		TAILQ_FOREACH(l, &subsystem->listeners, link) {
			json_array_append_new(list, listener_to_json(subsystem, l));
		}
		nvt_jsonrpc_send_result(req, list);
	}
	nvt_json_free_strings(g_get_listeners_fields, NVT_COUNTOF(g_get_listeners_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_subsystem_get_listeners", rpc_get_listeners_run)

/* ---- saved configurations ---- */

/*
 * SPDK's save_config leaves the states out, so a restarted target serves
 * every path optimized. Written here (only groups not optimized, after the
 * listener) so that a restart keeps the paths as they were; SPDK accepts
 * the method in a configuration too.
 */
void
nvmf_rpc_ana_config_write(json_t *config, const struct nvt_nvmf_subsystem *s,
			  const struct nvmf_subsystem_listener *l)
{
	enum nvt_nvme_ana_state state;
	json_t *params;
	uint32_t g;

	for (g = 1; nvt_nvmf_subsystem_get_ana_reporting(s) && g <= s->max_nsid; g++) {
		state = nvmf_ana_listener_state(s, l, g);
		if (state == NVT_NVME_ANA_OPTIMIZED) {
			continue;
		}
		params = json_pack("{s:s, s:o, s:s, s:i}", "nqn", s->nqn, "listen_address",
				   nvmf_rpc_trid_to_json(&l->trid), "ana_state",
				   nvmf_ana_state_str(state), "anagrpid", g);
		json_array_append_new(config, json_pack("{s:s, s:o}", "method",
							"nvmf_subsystem_listener_set_ana_state",
							"params", params));
	}
}
