/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespace methods with SPDK's names and parameters: nvmf_subsystem_add_ns,
 * nvmf_subsystem_remove_ns; and a namespace's JSON form.
 */
#include <errno.h>
#include <stddef.h>

#include "nvtcp/likely.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"

#include "nvmf_rpc_internal.h"
#include "resv.h"

/* SPDK's "namespace" object. */
struct rpc_ns_params {
	char *bdev_name;
	uint32_t nsid;
	char *nguid;
	char *eui64;
	char *uuid;
	uint32_t anagrpid;
	char *ptpl_file;
};

static const struct nvt_json_field g_ns_fields[] = {
	{ "bdev_name", NVT_JSON_STRING, offsetof(struct rpc_ns_params, bdev_name), false },
	{ "nsid", NVT_JSON_UINT32, offsetof(struct rpc_ns_params, nsid), true },
	{ "nguid", NVT_JSON_STRING, offsetof(struct rpc_ns_params, nguid), true },
	{ "eui64", NVT_JSON_STRING, offsetof(struct rpc_ns_params, eui64), true },
	{ "uuid", NVT_JSON_STRING, offsetof(struct rpc_ns_params, uuid), true },
	/* 0: the NSID. */
	{ "anagrpid", NVT_JSON_UINT32, offsetof(struct rpc_ns_params, anagrpid), true },
	{ "ptpl_file", NVT_JSON_STRING, offsetof(struct rpc_ns_params, ptpl_file), true },
	NVT_JSON_SPDK_DEFAULT("no_auto_visible", "false",
			      "a namespace is visible to every host the subsystem allows"),
	/* nvtcp's bdevs have no metadata: hiding it or not, hosts see none. */
	NVT_JSON_SPDK_IGNORED("hide_metadata", NULL),
};

struct rpc_add_ns {
	char *nqn;
	const json_t *namespace;
};

static const struct nvt_json_field g_add_ns_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_add_ns, nqn), false },
	{ "namespace", NVT_JSON_ANY, offsetof(struct rpc_add_ns, namespace), false },
	NVMF_RPC_TGT_NAME,
};

/* The options of \p n, or the name of the field that does not parse. */
static const char *
ns_params_to_opts(const struct rpc_ns_params *n, struct nvt_nvmf_ns_opts *opts)
{
	nvt_nvmf_ns_opts_init(opts, sizeof(*opts));
	opts->nsid = n->nsid;
	opts->anagrpid = n->anagrpid;
	opts->ptpl_file = n->ptpl_file;
	if (n->nguid != NULL && nvt_hex_parse(n->nguid, opts->nguid, sizeof(opts->nguid)) != 0) {
		return "nguid";
	}
	if (n->eui64 != NULL && nvt_hex_parse(n->eui64, opts->eui64, sizeof(opts->eui64)) != 0) {
		return "eui64";
	}
	if (n->uuid != NULL) {
		if (nvt_uuid_parse(n->uuid, opts->uuid) != 0) {
			return "uuid";
		}
		opts->uuid_set = true;
	}
	return NULL;
}

static void
add_ns_answer(struct nvt_jsonrpc_request *req, const struct rpc_ns_params *n, int rc)
{
	const char *bdev_name = n->bdev_name;
	const char *why;

	if (rc > 0) {
		nvt_jsonrpc_send_result(req, json_integer(rc));
		return;
	}
	if (n->ptpl_file != NULL && (rc == -EBADMSG || rc == -EACCES || rc == -EISDIR)) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: namespace: field 'ptpl_file': %s: %s",
				       nvt_jsonrpc_request_method(req), n->ptpl_file,
				       rc == -EBADMSG ? "not a valid reservation file"
						      : nvt_strerror(-rc));
		return;
	}
	switch (rc) {
	case -ENODEV:
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: namespace: field 'bdev_name': no bdev %s",
				       nvt_jsonrpc_request_method(req), bdev_name);
		return;
	case -EEXIST:
		why = "NSID already in use";
		break;
	case -EINVAL:
		why = "NSID or anagrpid above max_namespaces (or not allowed here)";
		break;
	case -ENOSPC:
		why = "no free NSID";
		break;
	default:
		why = nvt_strerror(-rc);
	}
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
			       "%s: namespace: field 'nsid': %s", nvt_jsonrpc_request_method(req),
			       why);
}

static void
add_ns_with(struct nvt_jsonrpc_request *req, struct nvt_nvmf_subsystem *subsystem,
	    const json_t *ns_obj)
{
	struct rpc_ns_params n = { 0 };
	struct nvt_nvmf_ns_opts opts;
	const char *bad;

	if (!nvt_jsonrpc_decode(req, "namespace", ns_obj, g_ns_fields, NVT_COUNTOF(g_ns_fields),
				&n)) {
		return;
	}
	bad = ns_params_to_opts(&n, &opts);
	if (bad != NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: namespace: field '%s': not a valid %s",
				       nvt_jsonrpc_request_method(req), bad,
				       bad[0] == 'u' ? "UUID (8-4-4-4-12 hex digits)"
						     : "identifier (hex digits)");
	} else {
		add_ns_answer(req, &n, nvt_nvmf_subsystem_add_ns(subsystem, n.bdev_name, &opts));
	}
	nvt_json_free_strings(g_ns_fields, NVT_COUNTOF(g_ns_fields), &n);
}

static void
rpc_add_ns_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_add_ns p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_add_ns_fields, NVT_COUNTOF(g_add_ns_fields),
				&p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL) {
		add_ns_with(req, subsystem, p.namespace);
	}
	nvt_json_free_strings(g_add_ns_fields, NVT_COUNTOF(g_add_ns_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_subsystem_add_ns", rpc_add_ns_run)

/* ---- nvmf_subsystem_remove_ns ---- */

struct rpc_remove_ns {
	char *nqn;
	uint32_t nsid;
};

static const struct nvt_json_field g_remove_ns_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_remove_ns, nqn), false },
	{ "nsid", NVT_JSON_UINT32, offsetof(struct rpc_remove_ns, nsid), false },
	NVMF_RPC_TGT_NAME,
};

static void
remove_ns_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (status != 0) {
		nvmf_rpc_send_errno(req, "removing the namespace", status);
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
}

static void
rpc_remove_ns_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_remove_ns p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_remove_ns_fields,
				NVT_COUNTOF(g_remove_ns_fields), &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL &&
	    nvt_nvmf_subsystem_remove_ns(subsystem, p.nsid, remove_ns_done, req) != 0) {
		nvt_jsonrpc_send_field_error(req, "nsid", "no such namespace");
	}
	nvt_json_free_strings(g_remove_ns_fields, NVT_COUNTOF(g_remove_ns_fields), &p);
}
NVMF_RPC_REGISTER("nvmf_subsystem_remove_ns", rpc_remove_ns_run)

/* ---- JSON form ---- */

json_t *
nvmf_rpc_ns_to_json(const struct nvmf_ns *ns, bool config)
{
	char buf[NVT_UUID_STRING_LEN > 33 ? NVT_UUID_STRING_LEN : 33];
	json_t *obj = json_pack("{s:i, s:s}", "nsid", ns->nsid, "bdev_name", ns->bdev_name);

	if (obj == NULL) {
		return NULL;
	}
	if (!config) {
		json_object_set_new(obj, "name", json_string(ns->bdev_name));
	}
	if (!nvmf_bytes_are_zero(ns->opts.nguid, sizeof(ns->opts.nguid))) {
		nvt_hex_fmt(buf, ns->opts.nguid, sizeof(ns->opts.nguid));
		json_object_set_new(obj, "nguid", json_string(buf));
	}
	if (!nvmf_bytes_are_zero(ns->opts.eui64, sizeof(ns->opts.eui64))) {
		nvt_hex_fmt(buf, ns->opts.eui64, sizeof(ns->opts.eui64));
		json_object_set_new(obj, "eui64", json_string(buf));
	}
	nvt_uuid_fmt(buf, ns->opts.uuid);
	json_object_set_new(obj, "uuid", json_string(buf));
	/* SPDK too shows a namespace's ANA group only with ANA reporting. */
	if (nvt_nvmf_subsystem_get_ana_reporting(ns->subsystem)) {
		json_object_set_new(obj, "anagrpid", json_integer(ns->opts.anagrpid));
	}
	if (nvmf_resv_ns_ptpl_file(ns) != NULL) {
		json_object_set_new(obj, "ptpl_file", json_string(nvmf_resv_ns_ptpl_file(ns)));
	}
	if (config) {
		json_object_set_new(obj, "no_auto_visible", json_false());
	}
	return obj;
}
