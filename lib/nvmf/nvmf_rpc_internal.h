/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the target's JSON-RPC methods share (nvmf_rpc*.c, one file per kind
 * of object: the target, transports, subsystems, namespaces, hosts and
 * listeners, and the configuration writer): running a method once the
 * target exists, finding the subsystem a request names, and the JSON forms
 * of the objects, written once for the answers and the saved configuration.
 * App thread only.
 */
#ifndef NVMF_RPC_INTERNAL_H
#define NVMF_RPC_INTERNAL_H

#include <stdbool.h>

#include "nvtcp/jsonrpc.h"
#include "nvmf_internal.h"

/* SPDK's tgt_name: nvtcp runs the one target, which SPDK calls nvmf_tgt. */
#define NVMF_RPC_TGT_NAME                                 \
	NVT_JSON_SPDK_DEFAULT("tgt_name", "\"nvmf_tgt\"", \
			      "nvtcp runs one target, nvmf_tgt (no nvmf_create_target)")

/*
 * Run \p fn(req, params) once the target runs, creating it with the options
 * set so far when it does not exist yet; answers an error instead when the
 * target stops or cannot be created.
 */
void nvmf_rpc_with_tgt(struct nvt_jsonrpc_request *req, const json_t *params, nvt_rpc_method_fn fn);

/* Register \p method (runtime only), run through nvmf_rpc_with_tgt(). */
#define NVMF_RPC_REGISTER(method, run_fn)                                                    \
	static void run_fn##_with_tgt(struct nvt_jsonrpc_request *req, const json_t *params) \
	{                                                                                    \
		nvmf_rpc_with_tgt(req, params, run_fn);                                      \
	}                                                                                    \
	NVT_RPC_REGISTER(method, run_fn##_with_tgt, NVT_RPC_RUNTIME)

/* The subsystem named \p nqn, or NULL after answering "field 'nqn': no subsystem". */
struct nvt_nvmf_subsystem *nvmf_rpc_find_subsystem(struct nvt_jsonrpc_request *req,
						   const char *nqn);

/* Answer "METHOD: WHAT: <strerror of rc>". */
void nvmf_rpc_send_errno(struct nvt_jsonrpc_request *req, const char *what, int rc);

/*
 * Decode SPDK's address object (trtype, adrfam, traddr, trsvcid) named \p name
 * in the request; on failure answers naming the field and returns false.
 */
bool nvmf_rpc_decode_address(struct nvt_jsonrpc_request *req, const char *name, const json_t *obj,
			     struct nvt_nvmf_trid *trid);

/* A transport address as SPDK writes it: trtype, adrfam, traddr, trsvcid. */
json_t *nvmf_rpc_trid_to_json(const struct nvt_nvmf_trid *trid);
/* Append the calls that restore \p l's ANA states to \p config. */
void nvmf_rpc_ana_config_write(json_t *config, const struct nvt_nvmf_subsystem *s,
			       const struct nvmf_subsystem_listener *l);
/* Add the names of a host's keys (never their contents) to \p obj; returns \p obj. */
json_t *nvmf_rpc_host_keys_to_json(json_t *obj, const struct nvmf_host *host);

/*
 * A namespace: nvmf_get_subsystems' entry, or with \p config the
 * "namespace" object of nvmf_subsystem_add_ns that recreates it.
 */
json_t *nvmf_rpc_ns_to_json(const struct nvmf_ns *ns, bool config);

/*
 * A transport's options: nvmf_get_transports' entry, or with \p config the
 * parameters of nvmf_create_transport that recreate it.
 */
json_t *nvmf_rpc_transport_to_json(const struct nvmf_transport *transport, bool config);

/* The parameters of nvmf_create_subsystem that recreate \p subsystem. */
json_t *nvmf_rpc_subsystem_params(const struct nvt_nvmf_subsystem *subsystem);

/* Append an nvmf_discovery_add_referral call per referral of \p tgt to \p config. */
void nvmf_rpc_referral_config_write(json_t *config, const struct nvt_nvmf_tgt *tgt);

/* The parameters of nvmf_set_config that recreate the target's options. */
json_t *nvmf_rpc_set_config_params(const struct nvt_nvmf_tgt_opts *opts);

#endif /* NVMF_RPC_INTERNAL_H */
