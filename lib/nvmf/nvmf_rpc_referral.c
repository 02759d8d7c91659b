/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery referral methods with SPDK's names and parameters:
 * nvmf_discovery_add_referral, nvmf_discovery_remove_referral,
 * nvmf_discovery_get_referrals; and their part of the saved configuration.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/string.h"

#include "nvmf_rpc_internal.h"

struct rpc_referral {
	const json_t *address;
	char *subnqn;
	bool secure_channel;
};

static const struct nvt_json_field g_add_referral_fields[] = {
	{ "address", NVT_JSON_ANY, offsetof(struct rpc_referral, address), false },
	{ "subnqn", NVT_JSON_STRING, offsetof(struct rpc_referral, subnqn), true },
	{ "secure_channel", NVT_JSON_BOOL, offsetof(struct rpc_referral, secure_channel), true },
	NVMF_RPC_TGT_NAME,
};

static const struct nvt_json_field g_remove_referral_fields[] = {
	{ "address", NVT_JSON_ANY, offsetof(struct rpc_referral, address), false },
	{ "subnqn", NVT_JSON_STRING, offsetof(struct rpc_referral, subnqn), true },
	NVMF_RPC_TGT_NAME,
};

static const struct nvt_json_field g_get_referrals_fields[] = {
	NVMF_RPC_TGT_NAME,
};

/* Decode the request into \p ref; on failure answers (naming the field) and returns false. */
static bool
referral_decode(struct nvt_jsonrpc_request *req, const json_t *params, bool add,
		struct nvt_nvmf_referral *ref)
{
	const struct nvt_json_field *fields =
		add ? g_add_referral_fields : g_remove_referral_fields;
	size_t nfields =
		add ? NVT_COUNTOF(g_add_referral_fields) : NVT_COUNTOF(g_remove_referral_fields);
	struct rpc_referral p = { 0 };
	bool ok = false;

	memset(ref, 0, sizeof(*ref));
	if (!nvt_jsonrpc_decode(req, NULL, params, fields, nfields, &p)) {
		return false;
	}
	if (p.subnqn != NULL && nvt_strcpy_trunc(ref->subnqn, sizeof(ref->subnqn), p.subnqn) != 0) {
		nvt_jsonrpc_send_field_error(req, "subnqn", "longer than %d bytes",
					     NVT_NVMF_NQN_MAX_LEN);
	} else if (nvmf_rpc_decode_address(req, "address", p.address, &ref->trid)) {
		ref->secure_channel = p.secure_channel;
		ok = true;
	}
	nvt_json_free_strings(fields, nfields, &p);
	return ok;
}

/* The field of \p ref that is wrong, answered; false when all are fine. */
static bool
referral_refuse_invalid(struct nvt_jsonrpc_request *req, const struct nvt_nvmf_referral *ref)
{
	const char *bad = nvt_nvmf_referral_check(ref);

	if (bad == NULL) {
		return false;
	}
	if (strcmp(bad, "subnqn") == 0) {
		nvt_jsonrpc_send_field_error(req, "subnqn", "not a valid NQN: %s", ref->subnqn);
	} else {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: address: field '%s': invalid value (%s)",
				       nvt_jsonrpc_request_method(req), bad,
				       strcmp(bad, "traddr") == 0 ? "a numeric IPv4 or IPv6 address"
				       : strcmp(bad, "trsvcid") == 0 ? "a port number, 1 to 65535"
								     : "TCP, IPv4 or IPv6");
	}
	return true;
}

static void
referral_answer(struct nvt_jsonrpc_request *req, const struct nvt_nvmf_referral *ref, int rc)
{
	if (rc == 0) {
		nvt_jsonrpc_send_result(req, NULL);
		return;
	}
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
			       "%s: referral %s:%s to %s: %s", nvt_jsonrpc_request_method(req),
			       ref->trid.traddr, ref->trid.trsvcid,
			       ref->subnqn[0] != '\0' ? ref->subnqn : NVT_NVMF_DISCOVERY_NQN,
			       rc == -EEXIST   ? "already exists (File exists)"
			       : rc == -ENOENT ? "no such referral"
					       : nvt_strerror(-rc));
}

static void
rpc_add_referral_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct nvt_nvmf_referral ref;

	if (referral_decode(req, params, true, &ref) && !referral_refuse_invalid(req, &ref)) {
		referral_answer(req, &ref, nvt_nvmf_referral_add(&ref));
	}
}
NVMF_RPC_REGISTER("nvmf_discovery_add_referral", rpc_add_referral_run)

static void
rpc_remove_referral_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct nvt_nvmf_referral ref;

	if (referral_decode(req, params, false, &ref)) {
		referral_answer(req, &ref, nvt_nvmf_referral_remove(&ref.trid, ref.subnqn));
	}
}
NVMF_RPC_REGISTER("nvmf_discovery_remove_referral", rpc_remove_referral_run)

static json_t *
referral_to_json(const struct nvt_nvmf_referral *ref)
{
	return json_pack("{s:o, s:b, s:s}", "address", nvmf_rpc_trid_to_json(&ref->trid),
			 "secure_channel", ref->secure_channel, "subnqn", ref->subnqn);
}

static void
referral_append(void *arg, const struct nvt_nvmf_referral *ref)
{
	json_array_append_new(arg, referral_to_json(ref));
}

static void
rpc_get_referrals_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	char unused = 0;
	json_t *result;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_referrals_fields,
				NVT_COUNTOF(g_get_referrals_fields), &unused)) {
		return;
	}
	result = json_array();
	nvmf_referral_foreach(nvmf_tgt_get(), referral_append, result);
	nvt_jsonrpc_send_result(req, result);
}
NVMF_RPC_REGISTER("nvmf_discovery_get_referrals", rpc_get_referrals_run)

static void
referral_config_add(void *arg, const struct nvt_nvmf_referral *ref)
{
	json_array_append_new(arg, json_pack("{s:s, s:o}", "method", "nvmf_discovery_add_referral",
					     "params", referral_to_json(ref)));
}

void
nvmf_rpc_referral_config_write(json_t *config, const struct nvt_nvmf_tgt *tgt)
{
	nvmf_referral_foreach(tgt, referral_config_add, config);
}
