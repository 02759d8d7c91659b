/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC methods of the target itself, with SPDK's names and parameters:
 * nvmf_set_max_subsystems, nvmf_set_config, nvmf_set_crdt, nvmf_get_stats;
 * and what every nvmf method shares (nvmf_rpc_internal.h).
 *
 * The target is created on first need: the start-up methods only record
 * options, and the first method that needs the target creates it with them
 * and runs once its poll groups exist.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"

#include "nvmf_rpc_internal.h"

NVT_LOG_REGISTER_COMPONENT(nvmf_rpc)

/* ---- shared helpers ---- */

void
nvmf_rpc_send_errno(struct nvt_jsonrpc_request *req, const char *what, int rc)
{
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s: %s",
			       nvt_jsonrpc_request_method(req), what, nvt_strerror(-rc));
}

struct nvt_nvmf_subsystem *
nvmf_rpc_find_subsystem(struct nvt_jsonrpc_request *req, const char *nqn)
{
	struct nvt_nvmf_subsystem *subsystem = nvt_nvmf_subsystem_find(nqn);

	if (subsystem == NULL) {
		nvt_jsonrpc_send_field_error(req, "nqn", "no subsystem %s", nqn);
	}
	return subsystem;
}

/* ---- the target, created on first need ---- */

struct tgt_waiter {
	struct nvt_jsonrpc_request *req;
	const json_t *params;
	nvt_rpc_method_fn fn;
	TAILQ_ENTRY(tgt_waiter) link;
};

static TAILQ_HEAD(, tgt_waiter) g_tgt_waiters = TAILQ_HEAD_INITIALIZER(g_tgt_waiters);

static void
tgt_ready(void *ctx, int status)
{
	struct tgt_waiter *w;

	(void)ctx;
	while ((w = TAILQ_FIRST(&g_tgt_waiters)) != NULL) {
		TAILQ_REMOVE(&g_tgt_waiters, w, link);
		if (status == 0) {
			w->fn(w->req, w->params);
		} else {
			nvmf_rpc_send_errno(w->req, "creating the target", status);
		}
		free(w);
	}
}

void
nvmf_rpc_with_tgt(struct nvt_jsonrpc_request *req, const json_t *params, nvt_rpc_method_fn fn)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct tgt_waiter *w;
	bool first = TAILQ_EMPTY(&g_tgt_waiters);
	int rc;

	if (tgt != NULL && tgt->state == NVMF_TGT_RUNNING) {
		fn(req, params);
		return;
	}
	if (tgt != NULL && tgt->state == NVMF_TGT_STOPPING) {
		nvmf_rpc_send_errno(req, "target", -ESHUTDOWN);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		nvmf_rpc_send_errno(req, "target", -ENOMEM);
		return;
	}
	*w = (struct tgt_waiter){ .req = req, .params = params, .fn = fn };
	TAILQ_INSERT_TAIL(&g_tgt_waiters, w, link);
	if (tgt == NULL && first) {
		rc = nvt_nvmf_tgt_init(NULL, tgt_ready, NULL);
		if (rc != 0) {
			tgt_ready(NULL, rc);
		}
	}
}

/* ---- nvmf_set_max_subsystems ---- */

static void
rpc_set_opts(struct nvt_jsonrpc_request *req, const struct nvt_nvmf_tgt_opts *opts,
	     const char *field)
{
	int rc = nvt_nvmf_tgt_set_opts(opts);

	if (rc == -EBUSY) {
		nvt_jsonrpc_send_field_error(req, field, "cannot change once the target runs");
	} else if (rc != 0) {
		nvt_jsonrpc_send_field_error(req, field, "invalid value");
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
}

struct rpc_max_subsystems {
	uint32_t max_subsystems;
};

static const struct nvt_json_field g_max_subsystems_fields[] = {
	{ "max_subsystems", NVT_JSON_UINT32, offsetof(struct rpc_max_subsystems, max_subsystems),
	  false },
};

static void
rpc_nvmf_set_max_subsystems(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_max_subsystems p = { 0 };
	struct nvt_nvmf_tgt_opts opts;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_max_subsystems_fields,
				NVT_COUNTOF(g_max_subsystems_fields), &p)) {
		return;
	}
	nvt_nvmf_tgt_get_opts(&opts, sizeof(opts));
	opts.max_subsystems = p.max_subsystems;
	rpc_set_opts(req, &opts, "max_subsystems");
}
NVT_RPC_REGISTER("nvmf_set_max_subsystems", rpc_nvmf_set_max_subsystems, NVT_RPC_STARTUP)

/* ---- nvmf_set_config ---- */

struct rpc_set_config {
	uint32_t acceptor_poll_rate;
	char *poll_groups_mask;
	const json_t *admin_cmd_passthru;
	const json_t *dhchap_digests;
	const json_t *dhchap_dhgroups;
};

#define SET_CONFIG_FIELD(name, type)                                     \
	{                                                                \
#name, type, offsetof(struct rpc_set_config, name), true \
	}

static const struct nvt_json_field g_set_config_fields[] = {
	SET_CONFIG_FIELD(acceptor_poll_rate, NVT_JSON_UINT32),
	SET_CONFIG_FIELD(poll_groups_mask, NVT_JSON_STRING),
	SET_CONFIG_FIELD(admin_cmd_passthru, NVT_JSON_ANY),
	SET_CONFIG_FIELD(dhchap_digests, NVT_JSON_ANY),
	SET_CONFIG_FIELD(dhchap_dhgroups, NVT_JSON_ANY),
	NVT_JSON_SPDK_IGNORED("conn_sched", "connections go to the poll group with the fewest "
					    "queue pairs (SPDK ignores it too)"),
	NVT_JSON_SPDK_DEFAULT("discovery_filter", "\"match_any\"",
			      "discovery lists every listener of each subsystem the host may "
			      "use"),
	NVT_JSON_SPDK_DEFAULT("dup_host_policy", "\"allow\"",
			      "a host NQN may hold several controllers of a subsystem"),
};

/* SPDK's admin command passthrough switches: to an NVMe bdev, which nvtcp lacks. */
static const char *const g_passthru_names[] = {
	"identify_ctrlr",     "identify_uuid_list", "get_log_page", "get_set_features", "sanitize",
	"security_send_recv", "fw_update",	    "nvme_mi",	    "vendor_specific",
};

/* Bit i of the target's masks (nvt_nvmf_tgt_opts) is the i-th name. */
static const char *const g_dhchap_digests[NVT_NVMF_DHCHAP_NUM_DIGESTS] = {
	"sha256",
	"sha384",
	"sha512",
};
static const char *const g_dhchap_dhgroups[NVT_NVMF_DHCHAP_NUM_DHGROUPS] = {
	"null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192",
};

static int
name_index(const char *name, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; name != NULL && i < n; i++) {
		if (strcmp(name, names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* Every switch must be a known one, off; answers and returns false otherwise. */
static bool
passthru_check(struct nvt_jsonrpc_request *req, const json_t *obj)
{
	char field[64];
	const json_t *val;
	const char *key;

	if (!json_is_object(obj)) {
		nvt_jsonrpc_send_field_error(req, "admin_cmd_passthru", "expected an object");
		return false;
	}
	json_object_foreach((json_t *)obj, key, val)
	{
		snprintf(field, sizeof(field), "admin_cmd_passthru.%s", key);
		if (name_index(key, g_passthru_names, NVT_COUNTOF(g_passthru_names)) < 0 ||
		    !json_is_boolean(val)) {
			nvt_jsonrpc_send_field_error(req, field,
						     "unknown switch, or not a boolean");
			return false;
		}
		if (json_is_true(val)) {
			nvt_jsonrpc_send_unsupported(req, field, val, "false (SPDK's default)",
						     "passthrough to an NVMe bdev: nvtcp has none");
			return false;
		}
	}
	return true;
}

/* The names of \p arr as a mask of \p names; answers and returns false on a bad one. */
static bool
names_to_mask(struct nvt_jsonrpc_request *req, const char *field, const json_t *arr,
	      const char *const *names, size_t n, uint32_t *mask)
{
	const json_t *val;
	size_t i;
	int idx;

	if (!json_is_array(arr)) {
		nvt_jsonrpc_send_field_error(req, field, "expected an array of names");
		return false;
	}
	*mask = 0;
	json_array_foreach(arr, i, val)
	{
		idx = name_index(json_string_value(val), names, n);
		if (idx < 0) {
			nvt_jsonrpc_send_field_error(req, field, "entry %zu: unknown name", i);
			return false;
		}
		*mask |= 1u << idx;
	}
	return true;
}

static bool
set_config_apply(struct nvt_jsonrpc_request *req, const struct rpc_set_config *p,
		 struct nvt_nvmf_tgt_opts *opts)
{
	if (p->admin_cmd_passthru != NULL && !passthru_check(req, p->admin_cmd_passthru)) {
		return false;
	}
	if (p->dhchap_digests != NULL &&
	    !names_to_mask(req, "dhchap_digests", p->dhchap_digests, g_dhchap_digests,
			   NVT_COUNTOF(g_dhchap_digests), &opts->dhchap_digests)) {
		return false;
	}
	if (p->dhchap_dhgroups != NULL &&
	    !names_to_mask(req, "dhchap_dhgroups", p->dhchap_dhgroups, g_dhchap_dhgroups,
			   NVT_COUNTOF(g_dhchap_dhgroups), &opts->dhchap_dhgroups)) {
		return false;
	}
	if (p->poll_groups_mask != NULL &&
	    nvt_strcpy_trunc(opts->poll_groups_mask, sizeof(opts->poll_groups_mask),
			     p->poll_groups_mask) != 0) {
		nvt_jsonrpc_send_field_error(req, "poll_groups_mask", "too long");
		return false;
	}
	opts->acceptor_poll_rate = p->acceptor_poll_rate;
	return true;
}

static void
rpc_nvmf_set_config(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_set_config p = { 0 };
	struct nvt_nvmf_tgt_opts opts;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_set_config_fields,
				NVT_COUNTOF(g_set_config_fields), &p)) {
		return;
	}
	nvt_nvmf_tgt_get_opts(&opts, sizeof(opts));
	if (set_config_apply(req, &p, &opts)) {
		rpc_set_opts(req, &opts, "poll_groups_mask");
	}
	nvt_json_free_strings(g_set_config_fields, NVT_COUNTOF(g_set_config_fields), &p);
}
NVT_RPC_REGISTER("nvmf_set_config", rpc_nvmf_set_config, NVT_RPC_STARTUP)

static json_t *
mask_to_names(uint32_t mask, const char *const *names, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		if (mask & (1u << i)) {
			json_array_append_new(arr, json_string(names[i]));
		}
	}
	return arr;
}

json_t *
nvmf_rpc_set_config_params(const struct nvt_nvmf_tgt_opts *opts)
{
	json_t *params, *passthru = json_object();
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_passthru_names); i++) {
		json_object_set_new(passthru, g_passthru_names[i], json_false());
	}
	params = json_pack("{s:s, s:o, s:o, s:o, s:s}", "discovery_filter", "match_any",
			   "admin_cmd_passthru", passthru, "dhchap_digests",
			   mask_to_names(opts->dhchap_digests, g_dhchap_digests,
					 NVT_COUNTOF(g_dhchap_digests)),
			   "dhchap_dhgroups",
			   mask_to_names(opts->dhchap_dhgroups, g_dhchap_dhgroups,
					 NVT_COUNTOF(g_dhchap_dhgroups)),
			   "dup_host_policy", "allow");
	if (params != NULL && opts->acceptor_poll_rate != 0) {
		json_object_set_new(params, "acceptor_poll_rate",
				    json_integer(opts->acceptor_poll_rate));
	}
	if (params != NULL && opts->poll_groups_mask[0] != '\0') {
		json_object_set_new(params, "poll_groups_mask",
				    json_string(opts->poll_groups_mask));
	}
	return params;
}

/* ---- nvmf_set_crdt ---- */

struct rpc_set_crdt {
	uint16_t crdt[3];
};

static const struct nvt_json_field g_set_crdt_fields[] = {
	{ "crdt1", NVT_JSON_UINT16, offsetof(struct rpc_set_crdt, crdt[0]), true },
	{ "crdt2", NVT_JSON_UINT16, offsetof(struct rpc_set_crdt, crdt[1]), true },
	{ "crdt3", NVT_JSON_UINT16, offsetof(struct rpc_set_crdt, crdt[2]), true },
};

/*
 * Command retry delay times (Identify Controller CRDT1..3, in 100 ms). nvtcp
 * never asks a host to delay a retry: its completions carry CRD 0 and its
 * Identify Controller reports no delay time, which 0 (SPDK's default) says.
 * A delay would change what hosts see (a Linux host turns ACRE on when CRDT1
 * is set), so it is refused.
 */
static void
rpc_nvmf_set_crdt(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_set_crdt p = { { 0 } };
	size_t i;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_set_crdt_fields,
				NVT_COUNTOF(g_set_crdt_fields), &p)) {
		return;
	}
	for (i = 0; i < NVT_COUNTOF(p.crdt); i++) {
		if (p.crdt[i] != 0) {
			nvt_jsonrpc_send_unsupported(
				req, g_set_crdt_fields[i].name,
				json_object_get(params, g_set_crdt_fields[i].name),
				"0 (SPDK's default)",
				"nvtcp asks hosts for no command retry delay");
			return;
		}
	}
	NVT_DEBUGLOG(nvmf_rpc, "nvmf_set_crdt: no command retry delay, as nvtcp has none\n");
	nvt_jsonrpc_send_result(req, NULL);
}
NVT_RPC_REGISTER("nvmf_set_crdt", rpc_nvmf_set_crdt, NVT_RPC_STARTUP)

/* ---- nvmf_get_stats ---- */

struct stats_ctx {
	struct nvt_jsonrpc_request *req;
	/* One object per poll group, built on its thread, read after the walk. */
	json_t **groups;
	uint32_t num_groups;
};

static json_t *
tgroup_stats(struct nvmf_transport_poll_group *tgroup)
{
	struct nvt_iobuf_cache_stats st;
	json_t *obj;

	nvt_iobuf_cache_get_stats(tgroup->buf_cache, &st);
	obj = json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:i, s:i}}", "trtype",
			tgroup->transport->ops->name, "iobuf", "cache_hits",
			(json_int_t)st.cache_hits, "pool_hits", (json_int_t)st.pool_hits, "waits",
			(json_int_t)st.waits, "in_use", (json_int_t)st.in_use, "cached", st.cached,
			"waiting", st.waiting);
	if (obj != NULL && tgroup->transport->ops->poll_group_dump_stat != NULL) {
		tgroup->transport->ops->poll_group_dump_stat(tgroup, obj);
	}
	return obj;
}

/* SPDK's fields, then ours: every queue pair, and every command (admin too). */
static json_t *
group_stats(const struct nvmf_poll_group *group, json_t *transports)
{
	const struct nvmf_poll_group_stats *st = &group->stats;
	uint32_t unassociated =
		group->num_qpairs - st->current_admin_qpairs - st->current_io_qpairs;

	return json_pack("{s:s, s:I, s:I, s:i, s:i, s:i, s:I, s:I, s:o, s:i, s:I, s:I}", "name",
			 nvt_thread_get_name(group->thread), "admin_qpairs",
			 (json_int_t)st->admin_qpairs, "io_qpairs", (json_int_t)st->io_qpairs,
			 "current_admin_qpairs", st->current_admin_qpairs, "current_io_qpairs",
			 st->current_io_qpairs, "current_unassociated_qpairs", unassociated,
			 "pending_bdev_io", (json_int_t)st->pending_bdev_io, "completed_nvme_io",
			 (json_int_t)st->completed_nvme_io, "transports", transports, "qpairs",
			 group->num_qpairs, "pending_requests", (json_int_t)st->pending_requests,
			 "completed_requests", (json_int_t)st->completed_requests);
}

static void
stats_group(struct nvmf_poll_group *group, void *arg)
{
	struct stats_ctx *ctx = arg;
	struct nvmf_transport_poll_group *tgroup;
	json_t *obj, *transports = json_array();

	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		json_array_append_new(transports, tgroup_stats(tgroup));
	}
	obj = group_stats(group, transports);
	json_object_set_new(obj, "auth_failures",
			    json_integer((json_int_t)group->stats.auth_failures));
	if (group->index < ctx->num_groups) {
		ctx->groups[group->index] = obj;
	} else {
		json_decref(obj);
	}
}

/* Counters of whole transports (connections accepted and refused), after SPDK's fields. */
static json_t *
transports_stats(void)
{
	struct nvmf_transport *transport;
	json_t *list = json_array(), *obj;

	TAILQ_FOREACH(transport, &nvmf_tgt_get()->transports, link) {
		obj = json_pack("{s:s}", "trtype", transport->ops->name);
		if (obj != NULL && transport->ops->dump_stat != NULL) {
			transport->ops->dump_stat(transport, obj);
		}
		json_array_append_new(list, obj);
	}
	return list;
}

static void
stats_done(void *arg)
{
	struct stats_ctx *ctx = arg;
	json_t *list = json_array();
	uint32_t i;

	for (i = 0; i < ctx->num_groups; i++) {
		if (ctx->groups[i] != NULL) {
			json_array_append_new(list, ctx->groups[i]);
		}
	}
	nvt_jsonrpc_send_result(ctx->req, json_pack("{s:I, s:o, s:o}", "tick_rate",
						    (json_int_t)nvt_get_ticks_hz(), "poll_groups",
						    list, "transports", transports_stats()));
	free(ctx->groups);
	free(ctx);
}

static const struct nvt_json_field g_get_stats_fields[] = {
	NVMF_RPC_TGT_NAME,
};

static void
rpc_nvmf_get_stats(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct stats_ctx *ctx;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_get_stats_fields,
				NVT_COUNTOF(g_get_stats_fields), NULL)) {
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx != NULL) {
		ctx->groups = calloc(tgt->num_groups + 1u, sizeof(*ctx->groups));
	}
	if (ctx == NULL || ctx->groups == NULL) {
		free(ctx);
		nvmf_rpc_send_errno(req, "stats", -ENOMEM);
		return;
	}
	ctx->req = req;
	ctx->num_groups = tgt->num_groups;
	nvmf_tgt_for_each_group(tgt, stats_group, stats_done, ctx);
}
NVMF_RPC_REGISTER("nvmf_get_stats", rpc_nvmf_get_stats)
