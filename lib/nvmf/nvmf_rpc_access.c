/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who reaches a subsystem, and where: the host and listener methods with
 * SPDK's names and parameters (nvmf_subsystem_add_host / _remove_host /
 * _set_keys, nvmf_subsystem_add_listener / _remove_listener), and a transport
 * address's JSON form.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/string.h"

#include "nvmf_rpc_internal.h"

/* ---- hosts ---- */

struct rpc_host {
	char *nqn;
	char *host;
	char *psk;
	char *dhchap_key;
	char *dhchap_ctrlr_key;
};

#define HOST_FIELDS                                                                  \
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_host, nqn), false },           \
		{ "host", NVT_JSON_STRING, offsetof(struct rpc_host, host), false }, \
		NVMF_RPC_TGT_NAME

#define HOST_DHCHAP_FIELDS                                                                        \
	{ "dhchap_key", NVT_JSON_STRING, offsetof(struct rpc_host, dhchap_key), true },           \
	{                                                                                         \
		"dhchap_ctrlr_key", NVT_JSON_STRING, offsetof(struct rpc_host, dhchap_ctrlr_key), \
			true                                                                      \
	}

static const struct nvt_json_field g_add_host_fields[] = {
	HOST_FIELDS,
	{ "psk", NVT_JSON_STRING, offsetof(struct rpc_host, psk), true },
	HOST_DHCHAP_FIELDS,
};

static const struct nvt_json_field g_set_keys_fields[] = {
	HOST_FIELDS,
	HOST_DHCHAP_FIELDS,
};

static const struct nvt_json_field g_remove_host_fields[] = {
	HOST_FIELDS,
};

enum host_op {
	HOST_ADD,
	HOST_REMOVE,
	HOST_SET_KEYS
};

static const char *
host_why(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "not a valid NQN, or dhchap_ctrlr_key without dhchap_key";
	case -EEXIST:
		return "already allowed";
	case -ENOENT:
		return "not in the list";
	case -ENOKEY:
		return "a key named is not in the keyring (keyring_file_add_key)";
	case -EKEYREJECTED:
		return "a key of the wrong kind (a TLS PSK for DH-HMAC-CHAP or the reverse)";
	default:
		return nvt_strerror(-rc);
	}
}

static int
host_op_run(enum host_op op, struct nvt_nvmf_subsystem *subsystem, const struct rpc_host *p)
{
	const struct nvt_nvmf_host_keys keys = { .psk = p->psk,
						 .dhchap_key = p->dhchap_key,
						 .dhchap_ctrlr_key = p->dhchap_ctrlr_key };

	switch (op) {
	case HOST_ADD:
		return nvt_nvmf_subsystem_add_host_ext(subsystem, p->host, &keys);
	case HOST_REMOVE:
		return nvt_nvmf_subsystem_remove_host(subsystem, p->host);
	default:
		return nvt_nvmf_subsystem_set_keys(subsystem, p->host, &keys);
	}
}

static void
rpc_host_run(struct nvt_jsonrpc_request *req, const json_t *params,
	     const struct nvt_json_field *fields, size_t nfields, enum host_op op)
{
	struct nvt_nvmf_subsystem *subsystem;
	struct rpc_host p = { 0 };
	int rc;

	if (!nvt_jsonrpc_decode(req, NULL, params, fields, nfields, &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL) {
		rc = host_op_run(op, subsystem, &p);
		if (rc == 0) {
			nvt_jsonrpc_send_result(req, NULL);
		} else {
			nvt_jsonrpc_send_field_error(req, "host", "%s", host_why(rc));
		}
	}
	nvt_json_free_strings(fields, nfields, &p);
}

static void
host_key_to_json(json_t *obj, const char *name, const struct nvt_key *key)
{
	if (key != NULL) {
		json_object_set_new(obj, name, json_string(nvt_key_get_name(key)));
	}
}

json_t *
nvmf_rpc_host_keys_to_json(json_t *obj, const struct nvmf_host *host)
{
	if (obj != NULL) {
		host_key_to_json(obj, "psk", host->psk);
		host_key_to_json(obj, "dhchap_key", host->dhchap_key);
		host_key_to_json(obj, "dhchap_ctrlr_key", host->dhchap_ctrlr_key);
	}
	return obj;
}

static void
rpc_add_host_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_host_run(req, params, g_add_host_fields, NVT_COUNTOF(g_add_host_fields), HOST_ADD);
}
NVMF_RPC_REGISTER("nvmf_subsystem_add_host", rpc_add_host_run)

static void
rpc_remove_host_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_host_run(req, params, g_remove_host_fields, NVT_COUNTOF(g_remove_host_fields),
		     HOST_REMOVE);
}
NVMF_RPC_REGISTER("nvmf_subsystem_remove_host", rpc_remove_host_run)

static void
rpc_set_keys_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_host_run(req, params, g_set_keys_fields, NVT_COUNTOF(g_set_keys_fields), HOST_SET_KEYS);
}
NVMF_RPC_REGISTER("nvmf_subsystem_set_keys", rpc_set_keys_run)

/* ---- listeners ---- */

struct rpc_listener {
	char *nqn;
	const json_t *listen_address;
	bool secure_channel;
	/* The listener's first ANA state (NULL: optimized), of one group or all (0). */
	char *ana_state;
	uint32_t anagrpid;
};

#define LISTENER_FIELDS                                                                          \
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_listener, nqn), false },                   \
		{ "listen_address", NVT_JSON_ANY, offsetof(struct rpc_listener, listen_address), \
		  false },                                                                       \
		NVMF_RPC_TGT_NAME

static const struct nvt_json_field g_add_listener_fields[] = {
	LISTENER_FIELDS,
	{ "secure_channel", NVT_JSON_BOOL, offsetof(struct rpc_listener, secure_channel), true },
	{ "ana_state", NVT_JSON_STRING, offsetof(struct rpc_listener, ana_state), true },
	{ "anagrpid", NVT_JSON_UINT32, offsetof(struct rpc_listener, anagrpid), true },
};

static const struct nvt_json_field g_remove_listener_fields[] = {
	LISTENER_FIELDS,
};

/* SPDK's listen_address object. */
struct rpc_address {
	char *trtype;
	char *adrfam;
	char *traddr;
	char *trsvcid;
	char *transport;
};

static const struct nvt_json_field g_address_fields[] = {
	{ "trtype", NVT_JSON_STRING, offsetof(struct rpc_address, trtype), true },
	{ "adrfam", NVT_JSON_STRING, offsetof(struct rpc_address, adrfam), true },
	{ "traddr", NVT_JSON_STRING, offsetof(struct rpc_address, traddr), false },
	{ "trsvcid", NVT_JSON_STRING, offsetof(struct rpc_address, trsvcid), false },
	/* SPDK's older name of trtype. */
	{ "transport", NVT_JSON_STRING, offsetof(struct rpc_address, transport), true },
};

/* Fill \p trid from \p a; the name of the field that is wrong, or NULL. */
static const char *
address_to_trid(const struct rpc_address *a, struct nvt_nvmf_trid *trid)
{
	memset(trid, 0, sizeof(*trid));
	if (nvt_nvmf_parse_trtype(a->trtype != NULL ? a->trtype : a->transport, &trid->trtype) !=
	    0) {
		return "trtype";
	}
	if (a->adrfam == NULL) {
		/* SPDK assumes IPv4; an IPv6 address says otherwise by itself. */
		trid->adrfam = strchr(a->traddr, ':') != NULL ? NVT_NVMF_ADRFAM_IPV6
							      : NVT_NVMF_ADRFAM_IPV4;
	} else if (nvt_nvmf_parse_adrfam(a->adrfam, &trid->adrfam) != 0) {
		return "adrfam";
	}
	if (nvt_strcpy_trunc(trid->traddr, sizeof(trid->traddr), a->traddr) != 0) {
		return "traddr";
	}
	if (nvt_strcpy_trunc(trid->trsvcid, sizeof(trid->trsvcid), a->trsvcid) != 0) {
		return "trsvcid";
	}
	return NULL;
}

bool
nvmf_rpc_decode_address(struct nvt_jsonrpc_request *req, const char *name, const json_t *obj,
			struct nvt_nvmf_trid *trid)
{
	struct rpc_address a = { 0 };
	const char *bad;

	if (!nvt_jsonrpc_decode(req, name, obj, g_address_fields, NVT_COUNTOF(g_address_fields),
				&a)) {
		return false;
	}
	bad = address_to_trid(&a, trid);
	nvt_json_free_strings(g_address_fields, NVT_COUNTOF(g_address_fields), &a);
	if (bad != NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: %s: field '%s': invalid value",
				       nvt_jsonrpc_request_method(req), name, bad);
		return false;
	}
	return true;
}

/*
 * The ANA state a new listener starts in, checked before it is added:
 * optimized unless said; another state only with ANA reporting. False when
 * refused (answered).
 */
static bool
listener_ana_state(struct nvt_jsonrpc_request *req, const struct nvt_nvmf_subsystem *subsystem,
		   const struct rpc_listener *p, enum nvt_nvme_ana_state *state)
{
	*state = NVT_NVME_ANA_OPTIMIZED;
	if (p->ana_state != NULL && nvmf_ana_state_parse(p->ana_state, state) != 0) {
		nvt_jsonrpc_send_field_error(req, "ana_state",
					     "'%s': not optimized, non_optimized or inaccessible",
					     p->ana_state);
		return false;
	}
	if (*state != NVT_NVME_ANA_OPTIMIZED && !nvt_nvmf_subsystem_get_ana_reporting(subsystem)) {
		nvt_jsonrpc_send_field_error(
			req, "ana_state", "'%s': the subsystem was created without ana_reporting",
			p->ana_state);
		return false;
	}
	if (p->anagrpid > subsystem->max_nsid) {
		nvt_jsonrpc_send_field_error(req, "anagrpid", "%u: above max_namespaces (%u)",
					     p->anagrpid, subsystem->max_nsid);
		return false;
	}
	return true;
}

static void
listener_apply(struct nvt_jsonrpc_request *req, struct nvt_nvmf_subsystem *subsystem,
	       const struct nvt_nvmf_trid *trid, const struct rpc_listener *p, bool add)
{
	const struct nvt_nvmf_listen_opts opts = { .secure_channel = p->secure_channel };
	enum nvt_nvme_ana_state state = NVT_NVME_ANA_OPTIMIZED;
	int rc;

	if (add && !listener_ana_state(req, subsystem, p, &state)) {
		return;
	}
	rc = add ? nvt_nvmf_subsystem_add_listener_ext(subsystem, trid, &opts)
		 : nvt_nvmf_subsystem_remove_listener(subsystem, trid);
	if (rc == 0 && state != NVT_NVME_ANA_OPTIMIZED) {
		/* Checked above: the listener exists, the group is in range. */
		rc = nvt_nvmf_subsystem_set_ana_state(subsystem, trid, state, p->anagrpid);
	}
	if (rc == 0) {
		nvt_jsonrpc_send_result(req, NULL);
		return;
	}
	nvt_jsonrpc_send_error(
		req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: listen_address %s:%s: %s",
		nvt_jsonrpc_request_method(req), trid->traddr, trid->trsvcid,
		rc == -ENOENT	? "no such listener or transport"
		: rc == -EINVAL ? "the address serves the other secure_channel setting already"
				: nvt_strerror(-rc));
}

static void
rpc_listener_run(struct nvt_jsonrpc_request *req, const json_t *params, bool add)
{
	const struct nvt_json_field *fields =
		add ? g_add_listener_fields : g_remove_listener_fields;
	size_t nfields =
		add ? NVT_COUNTOF(g_add_listener_fields) : NVT_COUNTOF(g_remove_listener_fields);
	struct nvt_nvmf_subsystem *subsystem;
	struct rpc_listener p = { 0 };
	struct nvt_nvmf_trid trid;

	if (!nvt_jsonrpc_decode(req, NULL, params, fields, nfields, &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	if (subsystem != NULL &&
	    nvmf_rpc_decode_address(req, "listen_address", p.listen_address, &trid)) {
		listener_apply(req, subsystem, &trid, &p, add);
	}
	nvt_json_free_strings(fields, nfields, &p);
}

static void
rpc_add_listener_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_listener_run(req, params, true);
}
NVMF_RPC_REGISTER("nvmf_subsystem_add_listener", rpc_add_listener_run)

static void
rpc_remove_listener_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_listener_run(req, params, false);
}
NVMF_RPC_REGISTER("nvmf_subsystem_remove_listener", rpc_remove_listener_run)

json_t *
nvmf_rpc_trid_to_json(const struct nvt_nvmf_trid *trid)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "trtype", nvt_nvmf_trtype_str(trid->trtype),
			 "adrfam", nvt_nvmf_adrfam_str(trid->adrfam), "traddr", trid->traddr,
			 "trsvcid", trid->trsvcid);
}
