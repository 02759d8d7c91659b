/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's nvmf_subsystem_get_controllers and nvmf_subsystem_get_qpairs, in
 * SPDK's shapes.
 *
 * A controller belongs to the thread of its admin queue pair and a queue
 * pair to its poll group's thread, so the answer is gathered by visiting
 * every poll group (nvmf_tgt_for_each_group()): each describes, on its own
 * thread, the connected queue pairs of the subsystem it holds, and for its
 * admin queues their controllers. The lists are joined in group order on
 * the app thread.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "nvtcp/auth.h"
#include "nvtcp/likely.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"
#include "nvmf_rpc_internal.h"

struct subsys_walk {
	struct nvt_jsonrpc_request *req;
	/* Compared with the queue pairs' controllers only: never read off the app thread. */
	const struct nvt_nvmf_subsystem *subsystem;
	json_t *(*describe)(const struct nvmf_qpair *qpair);
	uint32_t num_groups;
	json_t *lists[]; /* one per poll group, written by that group only */
};

/* SPDK's names of queue pair states. */
static const char *
qpair_state_str(enum nvmf_qpair_state state)
{
	switch (state) {
	case NVMF_QPAIR_UNINITIALIZED:
		return "uninitialized";
	case NVMF_QPAIR_CONNECTING:
		return "connecting";
	case NVMF_QPAIR_ACTIVE:
		return "enabled";
	case NVMF_QPAIR_DEACTIVATING:
		return "deactivating";
	case NVMF_QPAIR_FINI:
	default:
		return "error";
	}
}

/* An admin queue pair's controller (it lives on this thread): SPDK's entry. */
static json_t *
ctrlr_describe(const struct nvmf_qpair *qpair)
{
	const struct nvmf_ctrlr *ctrlr = qpair->ctrlr;
	char hostid[NVT_UUID_STRING_LEN];

	if (qpair->qid != 0) {
		return NULL;
	}
	nvt_uuid_fmt(hostid, ctrlr->hostid);
	return json_pack("{s:i, s:s, s:s, s:i}", "cntlid", ctrlr->cntlid, "hostnqn", ctrlr->hostnqn,
			 "hostid", hostid, "num_io_qpairs", (int)ctrlr->num_io_qpairs);
}

/* SPDK's "auth" object of a queue pair that authenticates. */
static json_t *
qpair_auth_json(const struct nvmf_qpair *qpair)
{
	enum nvt_auth_dhgroup dhgroup;
	enum nvt_auth_hash hash;
	const char *state = nvmf_auth_describe(qpair->auth, &hash, &dhgroup);
	const char *digest = nvt_auth_hash_name(hash);
	const char *group = nvt_auth_dhgroup_name(dhgroup);

	return json_pack("{s:s, s:s, s:s}", "state", state, "digest", digest ? digest : "",
			 "dhgroup", group ? group : "");
}

static json_t *
qpair_describe(const struct nvmf_qpair *qpair)
{
	const struct nvmf_ctrlr *ctrlr = qpair->ctrlr;
	json_t *obj;

	/* The controller's cntlid and hostnqn never change after its Connect. */
	obj = json_pack("{s:i, s:i, s:s, s:s, s:s, s:o, s:o}", "cntlid", ctrlr->cntlid, "qid",
			qpair->qid, "state", qpair_state_str(qpair->state), "thread",
			nvt_thread_get_name(qpair->group->thread), "hostnqn", ctrlr->hostnqn,
			"listen_address", nvmf_rpc_trid_to_json(&qpair->listen_trid),
			"peer_address", nvmf_rpc_trid_to_json(&qpair->peer_trid));
	if (obj != NULL && qpair->auth != NULL) {
		json_object_set_new(obj, "auth", qpair_auth_json(qpair));
	}
	return obj;
}

static void
walk_group(struct nvmf_poll_group *group, void *arg)
{
	struct subsys_walk *walk = arg;
	const struct nvmf_qpair *qpair;
	json_t *list = json_array(), *obj;

	TAILQ_FOREACH(qpair, &group->qpairs, link) {
		/* Only queues connected to a controller of the subsystem asked about. */
		if (qpair->ctrlr == NULL || qpair->ctrlr->subsystem != walk->subsystem ||
		    qpair->state != NVMF_QPAIR_ACTIVE) {
			continue;
		}
		obj = walk->describe(qpair);
		if (obj != NULL) {
			json_array_append_new(list, obj);
		}
	}
	if (group->index < walk->num_groups) {
		walk->lists[group->index] = list;
	} else {
		json_decref(list);
	}
}

static void
walk_done(void *arg)
{
	struct subsys_walk *walk = arg;
	json_t *result = json_array();
	uint32_t i;

	for (i = 0; i < walk->num_groups; i++) {
		if (walk->lists[i] != NULL) {
			json_array_extend(result, walk->lists[i]);
			json_decref(walk->lists[i]);
		}
	}
	nvt_jsonrpc_send_result(walk->req, result);
	free(walk);
}

struct rpc_subsys_nqn {
	char *nqn;
};

static const struct nvt_json_field g_subsys_nqn_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_subsys_nqn, nqn), false },
	NVMF_RPC_TGT_NAME,
};

static void
walk_start(struct nvt_jsonrpc_request *req, const json_t *params,
	   json_t *(*describe)(const struct nvmf_qpair *qpair))
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct rpc_subsys_nqn p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;
	struct subsys_walk *walk;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_subsys_nqn_fields,
				NVT_COUNTOF(g_subsys_nqn_fields), &p)) {
		return;
	}
	subsystem = nvmf_rpc_find_subsystem(req, p.nqn);
	nvt_json_free_strings(g_subsys_nqn_fields, NVT_COUNTOF(g_subsys_nqn_fields), &p);
	if (subsystem == NULL) {
		return;
	}
	walk = calloc(1, sizeof(*walk) + tgt->num_groups * sizeof(walk->lists[0]));
	if (walk == NULL) {
		nvmf_rpc_send_errno(req, "gathering", -ENOMEM);
		return;
	}
	*walk = (struct subsys_walk){ .req = req,
				      .subsystem = subsystem,
				      .describe = describe,
				      .num_groups = tgt->num_groups };
	nvmf_tgt_for_each_group(tgt, walk_group, walk_done, walk);
}

static void
rpc_get_controllers_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	walk_start(req, params, ctrlr_describe);
}
NVMF_RPC_REGISTER("nvmf_subsystem_get_controllers", rpc_get_controllers_run)

static void
rpc_get_qpairs_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	walk_start(req, params, qpair_describe);
}
NVMF_RPC_REGISTER("nvmf_subsystem_get_qpairs", rpc_get_qpairs_run)
