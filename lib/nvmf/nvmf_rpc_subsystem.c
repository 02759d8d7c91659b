/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subsystem methods with SPDK's names and parameters: nvmf_create_subsystem,
 * nvmf_delete_subsystem, nvmf_subsystem_allow_any_host, nvmf_get_subsystems.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/string.h"

#include "nvmf_rpc_internal.h"

/* ---- nvmf_create_subsystem ---- */

struct rpc_create_subsystem {
	char *nqn;
	char *serial_number;
	char *model_number;
	bool allow_any_host;
	uint32_t max_namespaces;
	uint16_t min_cntlid;
	uint16_t max_cntlid;
	uint32_t dmrsl;
	uint32_t wzsl;
	bool ana_reporting;
};

#define SUBSYS_FIELD(name, type, opt)                                         \
	{                                                                     \
#name, type, offsetof(struct rpc_create_subsystem, name), opt \
	}

static const struct nvt_json_field g_create_subsystem_fields[] = {
	SUBSYS_FIELD(nqn, NVT_JSON_STRING, false),
	SUBSYS_FIELD(serial_number, NVT_JSON_STRING, true),
	SUBSYS_FIELD(model_number, NVT_JSON_STRING, true),
	SUBSYS_FIELD(allow_any_host, NVT_JSON_BOOL, true),
	SUBSYS_FIELD(max_namespaces, NVT_JSON_UINT32, true),
	SUBSYS_FIELD(min_cntlid, NVT_JSON_UINT16, true),
	SUBSYS_FIELD(max_cntlid, NVT_JSON_UINT16, true),
	SUBSYS_FIELD(dmrsl, NVT_JSON_UINT32, true),
	SUBSYS_FIELD(wzsl, NVT_JSON_UINT32, true),
	SUBSYS_FIELD(ana_reporting, NVT_JSON_BOOL, true),
	NVMF_RPC_TGT_NAME,
	NVT_JSON_SPDK_DEFAULT("passthrough", "false",
			      "no passthrough to an NVMe controller: nvtcp has no NVMe bdev"),
	NVT_JSON_SPDK_DEFAULT("enable_nssr", "false", "NVM Subsystem Reset is not supported"),
};

/* The largest Write Zeroes size limit: 2^wzsl pages must fit 64 bits of bytes. */
#define RPC_MAX_WZSL 52

/* A field nvt_nvmf_subsystem_create() would not check; NULL when all are fine. */
static const char *
create_subsystem_check(const struct rpc_create_subsystem *p, const char **why)
{
	*why = "invalid value";
	if (!nvt_nvmf_nqn_is_valid(p->nqn)) {
		*why = "not a valid NQN";
		return "nqn";
	}
	if (p->max_namespaces > NVT_NVME_NS_LIST_ENTRIES) {
		*why = "above 1024, the most one Identify namespace list holds";
		return "max_namespaces";
	}
	if (p->wzsl > RPC_MAX_WZSL) {
		*why = "above 52 (a power of two of 4 KiB pages)";
		return "wzsl";
	}
	return NULL;
}

/* Set what the request gives; \p field names the culprit of a failure. */
static int
create_subsystem_setup(struct nvt_nvmf_subsystem *subsystem, const struct rpc_create_subsystem *p,
		       const char **field)
{
	int rc = 0;

	*field = "serial_number";
	if (p->serial_number != NULL) {
		rc = nvt_nvmf_subsystem_set_sn(subsystem, p->serial_number);
	}
	if (rc == 0 && p->model_number != NULL) {
		*field = "model_number";
		rc = nvt_nvmf_subsystem_set_mn(subsystem, p->model_number);
	}
	if (rc == 0) {
		*field = p->min_cntlid > p->max_cntlid ? "min_cntlid" : "max_cntlid";
		rc = nvt_nvmf_subsystem_set_cntlid_range(subsystem, p->min_cntlid, p->max_cntlid);
	}
	if (rc == 0) {
		nvt_nvmf_subsystem_set_nvm_limits(subsystem, p->dmrsl, (uint8_t)p->wzsl);
		nvt_nvmf_subsystem_set_allow_any_host(subsystem, p->allow_any_host);
		*field = "ana_reporting";
		rc = nvt_nvmf_subsystem_set_ana_reporting(subsystem, p->ana_reporting);
	}
	return rc;
}

static const char *
create_subsystem_why(const char *field, int rc)
{
	if (rc == -EEXIST) {
		return "subsystem already exists";
	}
	if (rc == -ENOSPC) {
		return "max_subsystems reached";
	}
	if (rc != -EINVAL) {
		return nvt_strerror(-rc);
	}
	if (strcmp(field, "serial_number") == 0) {
		return "more than 20 characters, or not printable ASCII";
	}
	if (strcmp(field, "model_number") == 0) {
		return "more than 40 characters, or not printable ASCII";
	}
	return "controller IDs must satisfy 1 <= min_cntlid <= max_cntlid <= 65519";
}

static void
create_subsystem_apply(struct nvt_jsonrpc_request *req, const struct rpc_create_subsystem *p)
{
	struct nvt_nvmf_subsystem *subsystem;
	const char *field = "nqn";
	int rc;

	rc = nvt_nvmf_subsystem_create(p->nqn, p->max_namespaces, &subsystem);
	if (rc == 0) {
		rc = create_subsystem_setup(subsystem, p, &field);
		if (rc != 0) {
			nvmf_subsystem_free(subsystem);
		}
	}
	if (rc == 0) {
		nvt_jsonrpc_send_result(req, NULL);
	} else {
		nvt_jsonrpc_send_field_error(req, field, "%s", create_subsystem_why(field, rc));
	}
}

static void
rpc_create_subsystem_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_create_subsystem p = { .min_cntlid = NVT_NVMF_CNTLID_MIN,
					  .max_cntlid = NVT_NVMF_CNTLID_MAX };
	const char *bad, *why;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_create_subsystem_fields,
				NVT_COUNTOF(g_create_subsystem_fields), &p)) {
		return;
	}
	bad = create_subsystem_check(&p, &why);
	if (bad != NULL) {
		nvt_jsonrpc_send_field_error(req, bad, "%s", why);
	} else {
		create_subsystem_apply(req, &p);
	}
	nvt_json_free_strings(g_create_subsystem_fields, NVT_COUNTOF(g_create_subsystem_fields),
			      &p);
}
NVMF_RPC_REGISTER("nvmf_create_subsystem", rpc_create_subsystem_run)

json_t *
nvmf_rpc_subsystem_params(const struct nvt_nvmf_subsystem *s)
{
	return json_pack("{s:s, s:b, s:s, s:s, s:i, s:i, s:i, s:b, s:I, s:i, s:b, s:b}", "nqn",
			 s->nqn, "allow_any_host", s->allow_any_host, "serial_number", s->sn,
			 "model_number", s->mn, "max_namespaces", s->max_nsid, "min_cntlid",
			 s->min_cntlid, "max_cntlid", s->max_cntlid, "ana_reporting",
			 nvt_nvmf_subsystem_get_ana_reporting(s), "dmrsl", (json_int_t)s->dmrsl,
			 "wzsl", s->wzsl, "passthrough", false, "enable_nssr", false);
}

/* ---- nvmf_delete_subsystem ---- */

struct rpc_nqn_only {
	char *nqn;
};

static const struct nvt_json_field g_nqn_only_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, nqn), false },
	NVMF_RPC_TGT_NAME,
};

static void
delete_subsystem_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (status != 0) {
		nvmf_rpc_send_errno(req, "deleting", status);
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
}

static void
rpc_delete_subsystem_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_nqn_only p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_nqn_only_fields,
				NVT_COUNTOF(g_nqn_only_fields), &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	nvt_json_free_strings(g_nqn_only_fields, NVT_COUNTOF(g_nqn_only_fields), &p);
	if (subsystem != NULL &&
	    nvt_nvmf_subsystem_delete(subsystem, delete_subsystem_done, req) != 0) {
		nvt_jsonrpc_send_field_error(req, "nqn",
					     "cannot delete the discovery subsystem or one being "
					     "deleted");
	}
}
NVMF_RPC_REGISTER("nvmf_delete_subsystem", rpc_delete_subsystem_run)

/* ---- nvmf_subsystem_allow_any_host ---- */

struct rpc_allow_any_host {
	char *nqn;
	bool allow_any_host;
};

static const struct nvt_json_field g_allow_any_host_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_allow_any_host, nqn), false },
	{ "allow_any_host", NVT_JSON_BOOL, offsetof(struct rpc_allow_any_host, allow_any_host),
	  false },
	NVMF_RPC_TGT_NAME,
};

static void
rpc_allow_any_host_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_allow_any_host p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_allow_any_host_fields,
				NVT_COUNTOF(g_allow_any_host_fields), &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL) {
		nvt_nvmf_subsystem_set_allow_any_host(subsystem, p.allow_any_host);
		nvt_jsonrpc_send_result(req, NULL);
	}
	nvt_json_free_strings(g_allow_any_host_fields, NVT_COUNTOF(g_allow_any_host_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_subsystem_allow_any_host", rpc_allow_any_host_run)

/* ---- nvmf_get_subsystems ---- */

static json_t *
subsystem_to_json(const struct nvt_nvmf_subsystem *s)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	json_t *obj, *list, *addrs = json_array(), *hosts = json_array();
	uint32_t i;

	TAILQ_FOREACH(l, &s->listeners, link) {
		json_array_append_new(addrs, nvmf_rpc_trid_to_json(&l->trid));
	}
	TAILQ_FOREACH(host, &s->hosts, link) {
		json_array_append_new(hosts, nvmf_rpc_host_keys_to_json(
						     json_pack("{s:s}", "nqn", host->nqn), host));
	}
	obj = json_pack("{s:s, s:s, s:o, s:b, s:o}", "nqn", s->nqn, "subtype",
			s->subtype == NVT_NVMF_SUBTYPE_DISCOVERY ? "Discovery" : "NVMe",
			"listen_addresses", addrs, "allow_any_host", s->allow_any_host, "hosts",
			hosts);
	if (obj == NULL || s->subtype == NVT_NVMF_SUBTYPE_DISCOVERY) {
		return obj;
	}
	list = nvmf_rpc_subsystem_params(s);
	json_object_update(obj, list);
	json_decref(list);
	json_object_del(obj, "ana_reporting");
	json_object_del(obj, "enable_nssr");
	list = json_array();
	for (i = 0; i < s->max_nsid; i++) {
		if (s->ns[i] != NULL) {
			json_array_append_new(list, nvmf_rpc_ns_to_json(s->ns[i], false));
		}
	}
	json_object_set_new(obj, "namespaces", list);
	return obj;
}

static const struct nvt_json_field g_get_subsystems_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, nqn), true },
	NVMF_RPC_TGT_NAME,
};

static void
rpc_get_subsystems_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_nqn_only p = { 0 };
	struct nvt_nvmf_subsystem *s;
	json_t *list;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_subsystems_fields,
				NVT_COUNTOF(g_get_subsystems_fields), &p)) {
		return;
	}
	list = json_array();
	for (s = nvt_nvmf_subsystem_first(); s != NULL; s = nvt_nvmf_subsystem_next(s)) {
		if (p.nqn == NULL || strcmp(p.nqn, s->nqn) == 0) {
			json_array_append_new(list, subsystem_to_json(s));
		}
	}
	if (p.nqn != NULL && json_array_size(list) == 0) {
		json_decref(list);
		nvt_jsonrpc_send_field_error(req, "nqn", "no such subsystem");
	} else {
		nvt_jsonrpc_send_result(req, list);
	}
	nvt_json_free_strings(g_get_subsystems_fields, NVT_COUNTOF(g_get_subsystems_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_get_subsystems", rpc_get_subsystems_run)
