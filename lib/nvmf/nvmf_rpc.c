/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC methods of the target, with SPDK's names and parameters, and the
 * "nvmf" configuration writer that replays them (save_config round-trips).
 *
 * The target is created on first need: the start-up methods (nvmf_set_config,
 * nvmf_set_max_subsystems) only record options, and the first method that
 * needs the target creates it with them and runs once its poll groups exist.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"

#include "nvmf_internal.h"

#define RPC_ANY_STATE (NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

NVT_LOG_REGISTER_COMPONENT(nvmf_rpc)

/* ---- helpers ---- */

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

static void
send_field_error(struct nvt_jsonrpc_request *req, const char *field, const char *why)
{
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: field '%s': %s",
			       nvt_jsonrpc_request_method(req), field, why);
}

static void
send_errno(struct nvt_jsonrpc_request *req, const char *what, int rc)
{
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s: %s",
			       nvt_jsonrpc_request_method(req), what, nvt_strerror(-rc));
}

/* Find the subsystem named by the "nqn" field or answer an error. */
static struct nvt_nvmf_subsystem *
find_subsystem_or_fail(struct nvt_jsonrpc_request *req, const char *nqn)
{
	struct nvt_nvmf_subsystem *subsystem = nvt_nvmf_subsystem_find(nqn);

	if (subsystem == NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: field 'nqn': no subsystem %s",
				       nvt_jsonrpc_request_method(req), nqn);
	}
	return subsystem;
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parse \p len bytes of hex digits; '-' separators are skipped. 0 or -EINVAL. */
static int
parse_hex_id(const char *str, uint8_t *out, size_t len)
{
	size_t n = 0;
	int hi, lo;

	while (*str != '\0') {
		if (*str == '-') {
			str++;
			continue;
		}
		hi = hex_nibble(str[0]);
		lo = str[1] != '\0' ? hex_nibble(str[1]) : -1;
		if (hi < 0 || lo < 0 || n == len) {
			return -EINVAL;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		str += 2;
	}
	return n == len ? 0 : -EINVAL;
}

static void
fmt_hex_id(char *buf, const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		snprintf(buf + 2 * i, 3, "%02X", id[i]);
	}
}

static void
fmt_uuid(char *buf, const uint8_t *u)
{
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
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
			send_errno(w->req, "creating the target", status);
		}
		free(w);
	}
}

/* Run \p fn once the target runs (creating it if needed). */
static void
with_tgt(struct nvt_jsonrpc_request *req, const json_t *params, nvt_rpc_method_fn fn)
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
		send_errno(req, "target", -ESHUTDOWN);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		send_errno(req, "target", -ENOMEM);
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

/* ---- nvmf_set_max_subsystems, nvmf_set_config ---- */

struct rpc_max_subsystems {
	uint32_t max_subsystems;
};

static const struct nvt_json_field g_max_subsystems_fields[] = {
	{ "max_subsystems", NVT_JSON_UINT32, offsetof(struct rpc_max_subsystems, max_subsystems),
	  false },
};

static void
rpc_set_opts(struct nvt_jsonrpc_request *req, const struct nvt_nvmf_tgt_opts *opts,
	     const char *field)
{
	int rc = nvt_nvmf_tgt_set_opts(opts);

	if (rc == -EBUSY) {
		send_field_error(req, field, "cannot change once the target runs");
	} else if (rc != 0) {
		send_field_error(req, field, "invalid value");
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
}

static void
rpc_nvmf_set_max_subsystems(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_max_subsystems p = { 0 };
	struct nvt_nvmf_tgt_opts opts;

	if (!decode_or_fail(req, params, g_max_subsystems_fields, 1, &p)) {
		return;
	}
	nvt_nvmf_tgt_get_opts(&opts, sizeof(opts));
	opts.max_subsystems = p.max_subsystems;
	rpc_set_opts(req, &opts, "max_subsystems");
}
NVT_RPC_REGISTER("nvmf_set_max_subsystems", rpc_nvmf_set_max_subsystems, NVT_RPC_STARTUP)

struct rpc_set_config {
	uint32_t acceptor_poll_rate;
	char *conn_sched;
	char *poll_groups_mask;
	char *discovery_filter;
	const json_t *admin_cmd_passthru;
	const json_t *crdt;
	const json_t *dhchap_digests;
	const json_t *dhchap_dhgroups;
};

static const struct nvt_json_field g_set_config_fields[] = {
	{ "acceptor_poll_rate", NVT_JSON_UINT32,
	  offsetof(struct rpc_set_config, acceptor_poll_rate), true },
	{ "conn_sched", NVT_JSON_STRING, offsetof(struct rpc_set_config, conn_sched), true },
	{ "poll_groups_mask", NVT_JSON_STRING, offsetof(struct rpc_set_config, poll_groups_mask),
	  true },
	{ "discovery_filter", NVT_JSON_STRING, offsetof(struct rpc_set_config, discovery_filter),
	  true },
	{ "admin_cmd_passthru", NVT_JSON_ANY, offsetof(struct rpc_set_config, admin_cmd_passthru),
	  true },
	{ "crdt", NVT_JSON_ANY, offsetof(struct rpc_set_config, crdt), true },
	{ "dhchap_digests", NVT_JSON_ANY, offsetof(struct rpc_set_config, dhchap_digests), true },
	{ "dhchap_dhgroups", NVT_JSON_ANY, offsetof(struct rpc_set_config, dhchap_dhgroups), true },
};

#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

/* SPDK's admin command passthrough switches: to an NVMe bdev, which nvtcp lacks. */
static const char *const g_passthru_names[] = {
	"identify_ctrlr",     "identify_uuid_list", "get_log_page", "get_set_features", "sanitize",
	"security_send_recv", "fw_update",	    "nvme_mi",	    "vendor_specific",
};

/* DH-HMAC-CHAP algorithms SPDK lets hosts negotiate (nvtcp has no authentication). */
static const char *const g_dhchap_digests[] = { "sha256", "sha384", "sha512" };
static const char *const g_dhchap_dhgroups[] = {
	"null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192",
};

static bool
name_in(const char *name, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(name, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* NULL when \p obj turns no passthrough on; else why, with \p key the switch. */
static const char *
passthru_check(const json_t *obj, const char **key)
{
	const json_t *val;
	const char *k;

	*key = NULL;
	if (!json_is_object(obj)) {
		return "expected an object";
	}
	json_object_foreach((json_t *)obj, k, val)
	{
		*key = k;
		if (!name_in(k, g_passthru_names, NFIELDS(g_passthru_names))) {
			return "unknown switch";
		}
		if (!json_is_boolean(val)) {
			return "expected a boolean";
		}
		if (json_is_true(val)) {
			return "passthrough to an NVMe bdev is not supported (false only)";
		}
	}
	return NULL;
}

/* NULL when \p arr lists only \p names; else why, with \p bad the culprit. */
static const char *
names_check(const json_t *arr, const char *const *names, size_t n, const char **bad)
{
	const json_t *val;
	size_t i;

	*bad = NULL;
	if (!json_is_array(arr)) {
		return "expected an array of names";
	}
	json_array_foreach(arr, i, val)
	{
		*bad = json_string_value(val);
		if (*bad == NULL || !name_in(*bad, names, n)) {
			return "unknown name";
		}
	}
	return NULL;
}

/* The SPDK fields with no effect here; answers and returns false when one asks for one. */
static bool
set_config_check_spdk(struct nvt_jsonrpc_request *req, const struct rpc_set_config *p)
{
	const char *field = NULL, *why = NULL, *what = NULL;
	char name[96];

	if (p->admin_cmd_passthru != NULL) {
		field = "admin_cmd_passthru";
		why = passthru_check(p->admin_cmd_passthru, &what);
	}
	if (why == NULL && p->dhchap_digests != NULL) {
		field = "dhchap_digests";
		why = names_check(p->dhchap_digests, g_dhchap_digests, NFIELDS(g_dhchap_digests),
				  &what);
	}
	if (why == NULL && p->dhchap_dhgroups != NULL) {
		field = "dhchap_dhgroups";
		why = names_check(p->dhchap_dhgroups, g_dhchap_dhgroups, NFIELDS(g_dhchap_dhgroups),
				  &what);
	}
	if (why == NULL) {
		return true;
	}
	snprintf(name, sizeof(name), "%s%s%s", field, what != NULL ? "." : "",
		 what != NULL ? what : "");
	send_field_error(req, name, why);
	return false;
}

static const char *
set_config_check(const struct rpc_set_config *p)
{
	if (p->discovery_filter != NULL && strcmp(p->discovery_filter, "match_any") != 0) {
		return "discovery_filter";
	}
	if (p->poll_groups_mask != NULL &&
	    strlen(p->poll_groups_mask) >=
		    sizeof(((struct nvt_nvmf_tgt_opts *)0)->poll_groups_mask)) {
		return "poll_groups_mask";
	}
	return NULL;
}

static void
rpc_nvmf_set_config(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_set_config p = { 0 };
	struct nvt_nvmf_tgt_opts opts;
	const char *bad;

	if (!decode_or_fail(req, params, g_set_config_fields, NFIELDS(g_set_config_fields), &p)) {
		return;
	}
	bad = set_config_check(&p);
	if (bad != NULL) {
		send_field_error(req, bad, "unsupported value (discovery_filter: match_any only)");
		nvt_json_free_strings(g_set_config_fields, NFIELDS(g_set_config_fields), &p);
		return;
	}
	if (!set_config_check_spdk(req, &p)) {
		nvt_json_free_strings(g_set_config_fields, NFIELDS(g_set_config_fields), &p);
		return;
	}
	nvt_nvmf_tgt_get_opts(&opts, sizeof(opts));
	opts.acceptor_poll_rate = p.acceptor_poll_rate;
	if (p.poll_groups_mask != NULL) {
		nvt_strcpy_trunc(opts.poll_groups_mask, sizeof(opts.poll_groups_mask),
				 p.poll_groups_mask);
	}
	nvt_json_free_strings(g_set_config_fields, NFIELDS(g_set_config_fields), &p);
	rpc_set_opts(req, &opts, "poll_groups_mask");
}
NVT_RPC_REGISTER("nvmf_set_config", rpc_nvmf_set_config, NVT_RPC_STARTUP)

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

	if (!decode_or_fail(req, params, g_set_crdt_fields, NFIELDS(g_set_crdt_fields), &p)) {
		return;
	}
	for (i = 0; i < NFIELDS(p.crdt); i++) {
		if (p.crdt[i] != 0) {
			send_field_error(req, g_set_crdt_fields[i].name,
					 "only 0 is supported (nvtcp reports no command retry "
					 "delay)");
			return;
		}
	}
	NVT_DEBUGLOG(nvmf_rpc, "nvmf_set_crdt: no command retry delay, as nvtcp has none\n");
	nvt_jsonrpc_send_result(req, NULL);
}
NVT_RPC_REGISTER("nvmf_set_crdt", rpc_nvmf_set_crdt, NVT_RPC_STARTUP)

/* ---- nvmf_create_transport, nvmf_get_transports ---- */

struct rpc_create_transport {
	char *trtype;
	char *tgt_name;
	struct nvt_nvmf_transport_opts opts;
	uint16_t max_qpairs_per_ctrlr;
	uint32_t num_cqe;
	uint32_t control_msg_num;
	uint32_t ack_timeout;
	uint32_t data_wr_pool_size;
};

#define OPT(name, type)                                                             \
	{                                                                           \
#name, type, offsetof(struct rpc_create_transport, opts.name), true \
	}

static const struct nvt_json_field g_create_transport_fields[] = {
	{ "trtype", NVT_JSON_STRING, offsetof(struct rpc_create_transport, trtype), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_create_transport, tgt_name), true },
	OPT(max_queue_depth, NVT_JSON_UINT16),
	OPT(max_io_qpairs_per_ctrlr, NVT_JSON_UINT16),
	OPT(in_capsule_data_size, NVT_JSON_UINT32),
	OPT(max_io_size, NVT_JSON_UINT32),
	OPT(io_unit_size, NVT_JSON_UINT32),
	OPT(max_aq_depth, NVT_JSON_UINT32),
	OPT(num_shared_buffers, NVT_JSON_UINT32),
	OPT(buf_cache_size, NVT_JSON_UINT32),
	OPT(c2h_success, NVT_JSON_BOOL),
	OPT(sock_priority, NVT_JSON_INT32),
	OPT(abort_timeout_sec, NVT_JSON_UINT32),
	OPT(acceptor_poll_rate, NVT_JSON_UINT32),
	OPT(zcopy, NVT_JSON_BOOL),
	OPT(dif_insert_or_strip, NVT_JSON_BOOL),
	{ "max_qpairs_per_ctrlr", NVT_JSON_UINT16,
	  offsetof(struct rpc_create_transport, max_qpairs_per_ctrlr), true },
	{ "num_cqe", NVT_JSON_UINT32, offsetof(struct rpc_create_transport, num_cqe), true },
	{ "control_msg_num", NVT_JSON_UINT32,
	  offsetof(struct rpc_create_transport, control_msg_num), true },
	{ "ack_timeout", NVT_JSON_UINT32, offsetof(struct rpc_create_transport, ack_timeout),
	  true },
	{ "data_wr_pool_size", NVT_JSON_UINT32,
	  offsetof(struct rpc_create_transport, data_wr_pool_size), true },
};

static void
create_transport_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (status != 0) {
		send_errno(req, "creating the transport", status);
		return;
	}
	nvt_jsonrpc_send_result(req, NULL);
}

/* Checks that name the field; the core's checks only log. */
static const char *
create_transport_check(const struct nvt_nvmf_transport_opts *o, uint32_t groups)
{
	if (o->zcopy) {
		return "zcopy";
	}
	if (o->dif_insert_or_strip) {
		return "dif_insert_or_strip";
	}
	if (o->max_queue_depth < 2) {
		return "max_queue_depth";
	}
	if (o->max_aq_depth < NVT_NVMF_MIN_ADMIN_QUEUE_ENTRIES || o->max_aq_depth > 4096) {
		return "max_aq_depth";
	}
	if (o->max_io_qpairs_per_ctrlr < 1 || o->max_io_qpairs_per_ctrlr > 1024) {
		return "max_io_qpairs_per_ctrlr";
	}
	if (o->in_capsule_data_size > 131072 || o->in_capsule_data_size % 16 != 0) {
		return "in_capsule_data_size";
	}
	if (o->io_unit_size == 0 || o->io_unit_size % 4096 != 0) {
		return "io_unit_size";
	}
	if (o->max_io_size < 4096 || o->max_io_size % 4096 != 0 ||
	    o->max_io_size / o->io_unit_size > NVMF_REQ_MAX_IOVS) {
		return "max_io_size";
	}
	if (o->acceptor_poll_rate == 0) {
		return "acceptor_poll_rate";
	}
	if ((uint64_t)o->num_shared_buffers < (uint64_t)groups * o->buf_cache_size ||
	    o->num_shared_buffers < o->max_io_size / o->io_unit_size) {
		return "num_shared_buffers";
	}
	return NULL;
}

static void
rpc_create_transport_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_create_transport p = { 0 };
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	const char *trtype = json_string_value(json_object_get(params, "trtype"));
	const char *bad;
	int rc;

	if (trtype == NULL ||
	    nvt_nvmf_transport_get_default_opts(trtype, &p.opts, sizeof(p.opts)) != 0) {
		send_field_error(req, "trtype", "unknown transport type (TCP is served)");
		return;
	}
	if (tgt->opts.acceptor_poll_rate != 0) {
		p.opts.acceptor_poll_rate = tgt->opts.acceptor_poll_rate;
	}
	if (!decode_or_fail(req, params, g_create_transport_fields,
			    NFIELDS(g_create_transport_fields), &p)) {
		return;
	}
	if (p.max_qpairs_per_ctrlr > 1 &&
	    json_object_get(params, "max_io_qpairs_per_ctrlr") == NULL) {
		p.opts.max_io_qpairs_per_ctrlr = (uint16_t)(p.max_qpairs_per_ctrlr - 1);
	}
	nvt_json_free_strings(g_create_transport_fields, NFIELDS(g_create_transport_fields), &p);
	if (p.opts.buf_cache_size == UINT32_MAX) {
		/* SPDK's "pick one": 3/4 of the pool, split between the poll groups. */
		p.opts.buf_cache_size = (uint32_t)((uint64_t)p.opts.num_shared_buffers * 3 / 4 /
						   (tgt->num_groups != 0 ? tgt->num_groups : 1));
	}
	bad = create_transport_check(&p.opts, tgt->num_groups);
	if (bad != NULL) {
		send_field_error(req, bad, "invalid value");
		return;
	}
	rc = nvt_nvmf_transport_create(trtype, &p.opts, create_transport_done, req);
	if (rc == -EEXIST) {
		send_field_error(req, "trtype", "transport already created");
	} else if (rc != 0) {
		send_errno(req, "creating the transport", rc);
	}
}

static void
rpc_nvmf_create_transport(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_create_transport_run);
}
NVT_RPC_REGISTER("nvmf_create_transport", rpc_nvmf_create_transport, NVT_RPC_RUNTIME)

/* The transport's options; \p extra adds its own fields (not create parameters). */
static json_t *
transport_to_json(struct nvmf_transport *transport, bool extra)
{
	const struct nvt_nvmf_transport_opts *o = &transport->opts;
	json_t *obj;

	obj = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:i, s:i, s:i, s:b, "
			"s:b}",
			"trtype", transport->ops->name, "max_queue_depth", o->max_queue_depth,
			"max_io_qpairs_per_ctrlr", o->max_io_qpairs_per_ctrlr,
			"in_capsule_data_size", o->in_capsule_data_size, "max_io_size",
			o->max_io_size, "io_unit_size", o->io_unit_size, "max_aq_depth",
			o->max_aq_depth, "num_shared_buffers", o->num_shared_buffers,
			"buf_cache_size", o->buf_cache_size, "c2h_success", o->c2h_success,
			"sock_priority", o->sock_priority, "abort_timeout_sec",
			o->abort_timeout_sec, "acceptor_poll_rate", o->acceptor_poll_rate,
			"dif_insert_or_strip", o->dif_insert_or_strip, "zcopy", o->zcopy);
	if (obj != NULL && extra && transport->ops->dump_opts != NULL) {
		transport->ops->dump_opts(transport, obj);
	}
	return obj;
}

struct rpc_get_transports {
	char *trtype;
	char *tgt_name;
};

static const struct nvt_json_field g_get_transports_fields[] = {
	{ "trtype", NVT_JSON_STRING, offsetof(struct rpc_get_transports, trtype), true },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_get_transports, tgt_name), true },
};

static void
rpc_get_transports_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_get_transports p = { 0 };
	struct nvmf_transport *transport;
	json_t *list;

	if (!decode_or_fail(req, params, g_get_transports_fields, 2, &p)) {
		return;
	}
	list = json_array();
	TAILQ_FOREACH(transport, &nvmf_tgt_get()->transports, link) {
		if (p.trtype == NULL || strcasecmp(p.trtype, transport->ops->name) == 0) {
			json_array_append_new(list, transport_to_json(transport, true));
		}
	}
	if (p.trtype != NULL && json_array_size(list) == 0) {
		json_decref(list);
		send_field_error(req, "trtype", "no such transport");
	} else {
		nvt_jsonrpc_send_result(req, list);
	}
	nvt_json_free_strings(g_get_transports_fields, 2, &p);
}

static void
rpc_nvmf_get_transports(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_get_transports_run);
}
NVT_RPC_REGISTER("nvmf_get_transports", rpc_nvmf_get_transports, NVT_RPC_RUNTIME)

/* ---- nvmf_create_subsystem, nvmf_delete_subsystem ---- */

struct rpc_create_subsystem {
	char *nqn;
	char *serial_number;
	char *model_number;
	char *tgt_name;
	bool allow_any_host;
	bool ana_reporting;
	uint32_t max_namespaces;
	uint16_t min_cntlid;
	uint16_t max_cntlid;
};

static const struct nvt_json_field g_create_subsystem_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_create_subsystem, nqn), false },
	{ "serial_number", NVT_JSON_STRING, offsetof(struct rpc_create_subsystem, serial_number),
	  true },
	{ "model_number", NVT_JSON_STRING, offsetof(struct rpc_create_subsystem, model_number),
	  true },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_create_subsystem, tgt_name), true },
	{ "allow_any_host", NVT_JSON_BOOL, offsetof(struct rpc_create_subsystem, allow_any_host),
	  true },
	{ "ana_reporting", NVT_JSON_BOOL, offsetof(struct rpc_create_subsystem, ana_reporting),
	  true },
	{ "max_namespaces", NVT_JSON_UINT32, offsetof(struct rpc_create_subsystem, max_namespaces),
	  true },
	{ "min_cntlid", NVT_JSON_UINT16, offsetof(struct rpc_create_subsystem, min_cntlid), true },
	{ "max_cntlid", NVT_JSON_UINT16, offsetof(struct rpc_create_subsystem, max_cntlid), true },
};

static const char *
create_subsystem_check(const struct rpc_create_subsystem *p)
{
	if (!nvt_nvmf_nqn_is_valid(p->nqn)) {
		return "nqn";
	}
	if (p->serial_number != NULL && strlen(p->serial_number) > NVMF_SN_LEN) {
		return "serial_number";
	}
	if (p->model_number != NULL && strlen(p->model_number) > NVMF_MN_LEN) {
		return "model_number";
	}
	if (p->ana_reporting) {
		return "ana_reporting";
	}
	if (p->max_namespaces > NVT_NVME_NS_LIST_ENTRIES) {
		return "max_namespaces";
	}
	if (p->min_cntlid != NVT_NVMF_CNTLID_MIN) {
		return "min_cntlid";
	}
	if (p->max_cntlid != NVT_NVMF_CNTLID_MAX) {
		return "max_cntlid";
	}
	return NULL;
}

static int
create_subsystem_apply(const struct rpc_create_subsystem *p, const char **field)
{
	struct nvt_nvmf_subsystem *subsystem;
	int rc;

	*field = "nqn";
	rc = nvt_nvmf_subsystem_create(p->nqn, p->max_namespaces, &subsystem);
	if (rc != 0) {
		return rc;
	}
	*field = "serial_number";
	rc = p->serial_number != NULL ? nvt_nvmf_subsystem_set_sn(subsystem, p->serial_number) : 0;
	if (rc == 0 && p->model_number != NULL) {
		*field = "model_number";
		rc = nvt_nvmf_subsystem_set_mn(subsystem, p->model_number);
	}
	if (rc != 0) {
		nvmf_subsystem_free(subsystem);
		return rc;
	}
	nvt_nvmf_subsystem_set_allow_any_host(subsystem, p->allow_any_host);
	return 0;
}

static void
rpc_create_subsystem_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_create_subsystem p = { .min_cntlid = NVT_NVMF_CNTLID_MIN,
					  .max_cntlid = NVT_NVMF_CNTLID_MAX };
	const char *bad;
	int rc;

	if (!decode_or_fail(req, params, g_create_subsystem_fields,
			    NFIELDS(g_create_subsystem_fields), &p)) {
		return;
	}
	bad = create_subsystem_check(&p);
	if (bad != NULL) {
		send_field_error(req, bad, "invalid or unsupported value");
	} else if ((rc = create_subsystem_apply(&p, &bad)) == -EEXIST) {
		send_field_error(req, bad, "subsystem already exists");
	} else if (rc != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: field '%s': %s",
				       nvt_jsonrpc_request_method(req), bad, nvt_strerror(-rc));
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
	nvt_json_free_strings(g_create_subsystem_fields, NFIELDS(g_create_subsystem_fields), &p);
}

static void
rpc_nvmf_create_subsystem(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_create_subsystem_run);
}
NVT_RPC_REGISTER("nvmf_create_subsystem", rpc_nvmf_create_subsystem, NVT_RPC_RUNTIME)

struct rpc_nqn_only {
	char *nqn;
	char *tgt_name;
};

static const struct nvt_json_field g_nqn_only_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, nqn), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, tgt_name), true },
};

static void
delete_subsystem_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (status != 0) {
		send_errno(req, "deleting", status);
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
}

static void
rpc_delete_subsystem_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_nqn_only p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;
	int rc;

	if (!decode_or_fail(req, params, g_nqn_only_fields, 2, &p)) {
		return;
	}
	subsystem = find_subsystem_or_fail(req, p.nqn);
	nvt_json_free_strings(g_nqn_only_fields, 2, &p);
	if (subsystem == NULL) {
		return;
	}
	rc = nvt_nvmf_subsystem_delete(subsystem, delete_subsystem_done, req);
	if (rc != 0) {
		send_field_error(req, "nqn",
				 "cannot delete the discovery subsystem or one being "
				 "deleted");
	}
}

static void
rpc_nvmf_delete_subsystem(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_delete_subsystem_run);
}
NVT_RPC_REGISTER("nvmf_delete_subsystem", rpc_nvmf_delete_subsystem, NVT_RPC_RUNTIME)

/* ---- listeners ---- */

struct rpc_listener {
	char *nqn;
	char *tgt_name;
	const json_t *listen_address;
	bool secure_channel;
	char *ana_state;
	uint32_t anagrpid;
};

static const struct nvt_json_field g_listener_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_listener, nqn), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_listener, tgt_name), true },
	{ "listen_address", NVT_JSON_ANY, offsetof(struct rpc_listener, listen_address), false },
	{ "secure_channel", NVT_JSON_BOOL, offsetof(struct rpc_listener, secure_channel), true },
	{ "ana_state", NVT_JSON_STRING, offsetof(struct rpc_listener, ana_state), true },
	{ "anagrpid", NVT_JSON_UINT32, offsetof(struct rpc_listener, anagrpid), true },
};

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
	{ "transport", NVT_JSON_STRING, offsetof(struct rpc_address, transport), true },
};

/* Decode a listen_address object; on failure answers and returns false. */
static bool
decode_address(struct nvt_jsonrpc_request *req, const json_t *obj, struct nvt_nvmf_trid *trid)
{
	struct rpc_address a = { 0 };
	const char *bad = NULL;
	char err[256];
	const char *trtype;

	if (nvt_json_decode_object(obj, g_address_fields, NFIELDS(g_address_fields), &a, err,
				   sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: listen_address: %s", nvt_jsonrpc_request_method(req),
				       err);
		return false;
	}
	memset(trid, 0, sizeof(*trid));
	trtype = a.trtype != NULL ? a.trtype : a.transport;
	if (nvt_nvmf_parse_trtype(trtype, &trid->trtype) != 0) {
		bad = "trtype";
	} else if (a.adrfam == NULL) {
		trid->adrfam =
			strchr(a.traddr, ':') != NULL ? NVT_NVMF_ADRFAM_IPV6 : NVT_NVMF_ADRFAM_IPV4;
	} else if (nvt_nvmf_parse_adrfam(a.adrfam, &trid->adrfam) != 0) {
		bad = "adrfam";
	}
	if (bad == NULL && nvt_strcpy_trunc(trid->traddr, sizeof(trid->traddr), a.traddr) != 0) {
		bad = "traddr";
	}
	if (bad == NULL && nvt_strcpy_trunc(trid->trsvcid, sizeof(trid->trsvcid), a.trsvcid) != 0) {
		bad = "trsvcid";
	}
	nvt_json_free_strings(g_address_fields, NFIELDS(g_address_fields), &a);
	if (bad != NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: listen_address: field '%s': invalid value",
				       nvt_jsonrpc_request_method(req), bad);
		return false;
	}
	return true;
}

static void
rpc_listener_run(struct nvt_jsonrpc_request *req, const json_t *params, bool add)
{
	struct rpc_listener p = { 0 };
	struct nvt_nvmf_subsystem *subsystem = NULL;
	struct nvt_nvmf_trid trid;
	int rc;

	if (!decode_or_fail(req, params, g_listener_fields, NFIELDS(g_listener_fields), &p)) {
		return;
	}
	if (p.secure_channel) {
		send_field_error(req, "secure_channel", "TLS is not supported");
	} else if ((subsystem = find_subsystem_or_fail(req, p.nqn)) != NULL &&
		   decode_address(req, p.listen_address, &trid)) {
		rc = add ? nvt_nvmf_subsystem_add_listener(subsystem, &trid)
			 : nvt_nvmf_subsystem_remove_listener(subsystem, &trid);
		if (rc == 0) {
			nvt_jsonrpc_send_result(req, NULL);
		} else {
			nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
					       "%s: listen_address %s:%s: %s",
					       nvt_jsonrpc_request_method(req), trid.traddr,
					       trid.trsvcid,
					       rc == -ENOENT ? "no such listener or transport"
							     : nvt_strerror(-rc));
		}
	}
	nvt_json_free_strings(g_listener_fields, NFIELDS(g_listener_fields), &p);
}

static void
rpc_add_listener_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_listener_run(req, params, true);
}

static void
rpc_remove_listener_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_listener_run(req, params, false);
}

static void
rpc_nvmf_subsystem_add_listener(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_add_listener_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_add_listener", rpc_nvmf_subsystem_add_listener, NVT_RPC_RUNTIME)

static void
rpc_nvmf_subsystem_remove_listener(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_remove_listener_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_remove_listener", rpc_nvmf_subsystem_remove_listener,
		 NVT_RPC_RUNTIME)

/* ---- namespaces ---- */

struct rpc_ns_params {
	char *bdev_name;
	uint32_t nsid;
	char *nguid;
	char *eui64;
	char *uuid;
	char *ptpl_file;
	uint32_t anagrpid;
	bool no_auto_visible;
};

static const struct nvt_json_field g_ns_fields[] = {
	{ "bdev_name", NVT_JSON_STRING, offsetof(struct rpc_ns_params, bdev_name), false },
	{ "nsid", NVT_JSON_UINT32, offsetof(struct rpc_ns_params, nsid), true },
	{ "nguid", NVT_JSON_STRING, offsetof(struct rpc_ns_params, nguid), true },
	{ "eui64", NVT_JSON_STRING, offsetof(struct rpc_ns_params, eui64), true },
	{ "uuid", NVT_JSON_STRING, offsetof(struct rpc_ns_params, uuid), true },
	{ "ptpl_file", NVT_JSON_STRING, offsetof(struct rpc_ns_params, ptpl_file), true },
	{ "anagrpid", NVT_JSON_UINT32, offsetof(struct rpc_ns_params, anagrpid), true },
	{ "no_auto_visible", NVT_JSON_BOOL, offsetof(struct rpc_ns_params, no_auto_visible), true },
};

struct rpc_add_ns {
	char *nqn;
	char *tgt_name;
	const json_t *namespace;
};

static const struct nvt_json_field g_add_ns_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_add_ns, nqn), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_add_ns, tgt_name), true },
	{ "namespace", NVT_JSON_ANY, offsetof(struct rpc_add_ns, namespace), false },
};

static const char *
ns_params_to_opts(const struct rpc_ns_params *n, struct nvt_nvmf_ns_opts *opts)
{
	nvt_nvmf_ns_opts_init(opts, sizeof(*opts));
	opts->nsid = n->nsid;
	if (n->nguid != NULL && parse_hex_id(n->nguid, opts->nguid, sizeof(opts->nguid)) != 0) {
		return "nguid";
	}
	if (n->eui64 != NULL && parse_hex_id(n->eui64, opts->eui64, sizeof(opts->eui64)) != 0) {
		return "eui64";
	}
	if (n->uuid != NULL) {
		if (strlen(n->uuid) != 36 ||
		    parse_hex_id(n->uuid, opts->uuid, sizeof(opts->uuid)) != 0) {
			return "uuid";
		}
		opts->uuid_set = true;
	}
	if (n->ptpl_file != NULL) {
		return "ptpl_file";
	}
	if (n->no_auto_visible) {
		return "no_auto_visible";
	}
	return NULL;
}

static void
add_ns_answer(struct nvt_jsonrpc_request *req, const char *bdev_name, int rc)
{
	const char *why;

	if (rc > 0) {
		nvt_jsonrpc_send_result(req, json_integer(rc));
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
		why = "NSID above max_namespaces (or not allowed here)";
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
	char err[256];

	if (nvt_json_decode_object(ns_obj, g_ns_fields, NFIELDS(g_ns_fields), &n, err,
				   sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: namespace: %s",
				       nvt_jsonrpc_request_method(req), err);
		return;
	}
	bad = ns_params_to_opts(&n, &opts);
	if (bad != NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
				       "%s: namespace: field '%s': invalid or unsupported value",
				       nvt_jsonrpc_request_method(req), bad);
	} else {
		add_ns_answer(req, n.bdev_name,
			      nvt_nvmf_subsystem_add_ns(subsystem, n.bdev_name, &opts));
	}
	nvt_json_free_strings(g_ns_fields, NFIELDS(g_ns_fields), &n);
}

static void
rpc_add_ns_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_add_ns p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!decode_or_fail(req, params, g_add_ns_fields, NFIELDS(g_add_ns_fields), &p)) {
		return;
	}
	subsystem = find_subsystem_or_fail(req, p.nqn);
	if (subsystem != NULL) {
		add_ns_with(req, subsystem, p.namespace);
	}
	nvt_json_free_strings(g_add_ns_fields, NFIELDS(g_add_ns_fields), &p);
}

static void
rpc_nvmf_subsystem_add_ns(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_add_ns_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_add_ns", rpc_nvmf_subsystem_add_ns, NVT_RPC_RUNTIME)

struct rpc_remove_ns {
	char *nqn;
	char *tgt_name;
	uint32_t nsid;
};

static const struct nvt_json_field g_remove_ns_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_remove_ns, nqn), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_remove_ns, tgt_name), true },
	{ "nsid", NVT_JSON_UINT32, offsetof(struct rpc_remove_ns, nsid), false },
};

static void
remove_ns_done(void *ctx, int status)
{
	struct nvt_jsonrpc_request *req = ctx;

	if (status != 0) {
		send_errno(req, "removing the namespace", status);
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
}

static void
rpc_remove_ns_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_remove_ns p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!decode_or_fail(req, params, g_remove_ns_fields, NFIELDS(g_remove_ns_fields), &p)) {
		return;
	}
	subsystem = find_subsystem_or_fail(req, p.nqn);
	if (subsystem != NULL &&
	    nvt_nvmf_subsystem_remove_ns(subsystem, p.nsid, remove_ns_done, req) != 0) {
		send_field_error(req, "nsid", "no such namespace");
	}
	nvt_json_free_strings(g_remove_ns_fields, NFIELDS(g_remove_ns_fields), &p);
}

static void
rpc_nvmf_subsystem_remove_ns(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_remove_ns_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_remove_ns", rpc_nvmf_subsystem_remove_ns, NVT_RPC_RUNTIME)

/* ---- hosts ---- */

struct rpc_host {
	char *nqn;
	char *host;
	char *tgt_name;
	char *psk;
	char *dhchap_key;
	char *dhchap_ctrlr_key;
};

static const struct nvt_json_field g_host_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_host, nqn), false },
	{ "host", NVT_JSON_STRING, offsetof(struct rpc_host, host), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_host, tgt_name), true },
	{ "psk", NVT_JSON_STRING, offsetof(struct rpc_host, psk), true },
	{ "dhchap_key", NVT_JSON_STRING, offsetof(struct rpc_host, dhchap_key), true },
	{ "dhchap_ctrlr_key", NVT_JSON_STRING, offsetof(struct rpc_host, dhchap_ctrlr_key), true },
};

static void
rpc_host_apply(struct nvt_jsonrpc_request *req, const struct rpc_host *p, bool add)
{
	struct nvt_nvmf_subsystem *subsystem;
	int rc;

	if (p->psk != NULL || p->dhchap_key != NULL || p->dhchap_ctrlr_key != NULL) {
		send_field_error(req, p->psk != NULL ? "psk" : "dhchap_key",
				 "authentication is not supported");
		return;
	}
	subsystem = find_subsystem_or_fail(req, p->nqn);
	if (subsystem == NULL) {
		return;
	}
	rc = add ? nvt_nvmf_subsystem_add_host(subsystem, p->host)
		 : nvt_nvmf_subsystem_remove_host(subsystem, p->host);
	if (rc == 0) {
		nvt_jsonrpc_send_result(req, NULL);
	} else {
		send_field_error(req, "host",
				 rc == -EINVAL	 ? "not a valid NQN"
				 : rc == -EEXIST ? "already allowed"
				 : rc == -ENOENT ? "not in the list"
						 : nvt_strerror(-rc));
	}
}

static void
rpc_host_run(struct nvt_jsonrpc_request *req, const json_t *params, bool add)
{
	struct rpc_host p = { 0 };

	if (!decode_or_fail(req, params, g_host_fields, NFIELDS(g_host_fields), &p)) {
		return;
	}
	rpc_host_apply(req, &p, add);
	nvt_json_free_strings(g_host_fields, NFIELDS(g_host_fields), &p);
}

static void
rpc_add_host_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_host_run(req, params, true);
}

static void
rpc_remove_host_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	rpc_host_run(req, params, false);
}

static void
rpc_nvmf_subsystem_add_host(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_add_host_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_add_host", rpc_nvmf_subsystem_add_host, NVT_RPC_RUNTIME)

static void
rpc_nvmf_subsystem_remove_host(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_remove_host_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_remove_host", rpc_nvmf_subsystem_remove_host, NVT_RPC_RUNTIME)

struct rpc_allow_any_host {
	char *nqn;
	char *tgt_name;
	bool allow_any_host;
};

static const struct nvt_json_field g_allow_any_host_fields[] = {
	{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_allow_any_host, nqn), false },
	{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_allow_any_host, tgt_name), true },
	{ "allow_any_host", NVT_JSON_BOOL, offsetof(struct rpc_allow_any_host, allow_any_host),
	  false },
};

static void
rpc_allow_any_host_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_allow_any_host p = { 0 };
	struct nvt_nvmf_subsystem *subsystem;

	if (!decode_or_fail(req, params, g_allow_any_host_fields, 3, &p)) {
		return;
	}
	subsystem = find_subsystem_or_fail(req, p.nqn);
	if (subsystem != NULL) {
		nvt_nvmf_subsystem_set_allow_any_host(subsystem, p.allow_any_host);
		nvt_jsonrpc_send_result(req, NULL);
	}
	nvt_json_free_strings(g_allow_any_host_fields, 3, &p);
}

static void
rpc_nvmf_subsystem_allow_any_host(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_allow_any_host_run);
}
NVT_RPC_REGISTER("nvmf_subsystem_allow_any_host", rpc_nvmf_subsystem_allow_any_host,
		 NVT_RPC_RUNTIME)

/* ---- nvmf_get_subsystems ---- */

static json_t *
trid_to_json(const struct nvt_nvmf_trid *trid)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "trtype", nvt_nvmf_trtype_str(trid->trtype),
			 "adrfam", nvt_nvmf_adrfam_str(trid->adrfam), "traddr", trid->traddr,
			 "trsvcid", trid->trsvcid);
}

static json_t *
ns_to_json(const struct nvmf_ns *ns)
{
	char buf[40];
	json_t *obj = json_pack("{s:i, s:s, s:s}", "nsid", ns->nsid, "bdev_name", ns->bdev_name,
				"name", ns->bdev_name);

	if (!nvmf_bytes_are_zero(ns->opts.nguid, sizeof(ns->opts.nguid))) {
		fmt_hex_id(buf, ns->opts.nguid, sizeof(ns->opts.nguid));
		json_object_set_new(obj, "nguid", json_string(buf));
	}
	if (!nvmf_bytes_are_zero(ns->opts.eui64, sizeof(ns->opts.eui64))) {
		fmt_hex_id(buf, ns->opts.eui64, sizeof(ns->opts.eui64));
		json_object_set_new(obj, "eui64", json_string(buf));
	}
	fmt_uuid(buf, ns->opts.uuid);
	json_object_set_new(obj, "uuid", json_string(buf));
	return obj;
}

static json_t *
subsystem_to_json(const struct nvt_nvmf_subsystem *s)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	json_t *obj, *addrs = json_array(), *hosts = json_array();
	uint32_t i;

	TAILQ_FOREACH(l, &s->listeners, link) {
		json_array_append_new(addrs, trid_to_json(&l->trid));
	}
	TAILQ_FOREACH(host, &s->hosts, link) {
		json_array_append_new(hosts, json_pack("{s:s}", "nqn", host->nqn));
	}
	obj = json_pack("{s:s, s:s, s:o, s:b, s:o}", "nqn", s->nqn, "subtype",
			s->subtype == NVT_NVMF_SUBTYPE_DISCOVERY ? "Discovery" : "NVMe",
			"listen_addresses", addrs, "allow_any_host", s->allow_any_host, "hosts",
			hosts);
	if (s->subtype == NVT_NVMF_SUBTYPE_DISCOVERY) {
		return obj;
	}
	json_object_set_new(obj, "serial_number", json_string(s->sn));
	json_object_set_new(obj, "model_number", json_string(s->mn));
	json_object_set_new(obj, "max_namespaces", json_integer(s->max_nsid));
	json_object_set_new(obj, "min_cntlid", json_integer(NVT_NVMF_CNTLID_MIN));
	json_object_set_new(obj, "max_cntlid", json_integer(NVT_NVMF_CNTLID_MAX));
	addrs = json_array();
	for (i = 0; i < s->max_nsid; i++) {
		if (s->ns[i] != NULL) {
			json_array_append_new(addrs, ns_to_json(s->ns[i]));
		}
	}
	json_object_set_new(obj, "namespaces", addrs);
	return obj;
}

static void
rpc_get_subsystems_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_nqn_only p = { 0 };
	struct nvt_nvmf_subsystem *s;
	json_t *list;

	/* nqn is optional here: decode with a copy marked so. */
	static const struct nvt_json_field fields[] = {
		{ "nqn", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, nqn), true },
		{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, tgt_name), true },
	};

	if (!decode_or_fail(req, params, fields, 2, &p)) {
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
		send_field_error(req, "nqn", "no such subsystem");
	} else {
		nvt_jsonrpc_send_result(req, list);
	}
	nvt_json_free_strings(fields, 2, &p);
}

static void
rpc_nvmf_get_subsystems(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_get_subsystems_run);
}
NVT_RPC_REGISTER("nvmf_get_subsystems", rpc_nvmf_get_subsystems, NVT_RPC_RUNTIME)

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

static void
stats_group(struct nvmf_poll_group *group, void *arg)
{
	struct stats_ctx *ctx = arg;
	struct nvmf_transport_poll_group *tgroup;
	json_t *obj, *transports = json_array();

	TAILQ_FOREACH(tgroup, &group->tgroups, link) {
		json_array_append_new(transports, tgroup_stats(tgroup));
	}
	obj = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:o}", "name",
			nvt_thread_get_name(group->thread), "current_admin_qpairs",
			group->stats.admin_qpairs, "current_io_qpairs", group->stats.io_qpairs,
			"qpairs", group->num_qpairs, "pending_requests",
			(json_int_t)group->stats.pending_requests, "completed_requests",
			(json_int_t)group->stats.completed_requests, "transports", transports);
	if (group->index < ctx->num_groups) {
		ctx->groups[group->index] = obj;
	} else {
		json_decref(obj);
	}
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
	nvt_jsonrpc_send_result(ctx->req,
				json_pack("{s:I, s:o}", "tick_rate", (json_int_t)nvt_get_ticks_hz(),
					  "poll_groups", list));
	free(ctx->groups);
	free(ctx);
}

static void
rpc_get_stats_run(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_nqn_only p = { 0 };
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct stats_ctx *ctx;

	static const struct nvt_json_field fields[] = {
		{ "tgt_name", NVT_JSON_STRING, offsetof(struct rpc_nqn_only, tgt_name), true },
	};

	if (!decode_or_fail(req, params, fields, 1, &p)) {
		return;
	}
	nvt_json_free_strings(fields, 1, &p);
	ctx = calloc(1, sizeof(*ctx));
	if (ctx != NULL) {
		ctx->groups = calloc(tgt->num_groups + 1u, sizeof(*ctx->groups));
	}
	if (ctx == NULL || ctx->groups == NULL) {
		free(ctx);
		send_errno(req, "stats", -ENOMEM);
		return;
	}
	ctx->req = req;
	ctx->num_groups = tgt->num_groups;
	nvmf_tgt_for_each_group(tgt, stats_group, stats_done, ctx);
}

static void
rpc_nvmf_get_stats(struct nvt_jsonrpc_request *req, const json_t *params)
{
	with_tgt(req, params, rpc_get_stats_run);
}
NVT_RPC_REGISTER("nvmf_get_stats", rpc_nvmf_get_stats, NVT_RPC_RUNTIME)

/* ---- configuration writer ---- */

static void
config_add(json_t *config, const char *method, json_t *params)
{
	json_array_append_new(config, json_pack("{s:s, s:o}", "method", method, "params", params));
}

static void
config_write_tgt(json_t *config, const struct nvt_nvmf_tgt *tgt)
{
	json_t *params;

	config_add(config, "nvmf_set_max_subsystems",
		   json_pack("{s:i}", "max_subsystems", tgt->opts.max_subsystems));
	config_add(config, "nvmf_set_crdt",
		   json_pack("{s:i, s:i, s:i}", "crdt1", 0, "crdt2", 0, "crdt3", 0));
	params = json_object();
	if (tgt->opts.acceptor_poll_rate != 0) {
		json_object_set_new(params, "acceptor_poll_rate",
				    json_integer(tgt->opts.acceptor_poll_rate));
	}
	if (tgt->opts.poll_groups_mask[0] != '\0') {
		json_object_set_new(params, "poll_groups_mask",
				    json_string(tgt->opts.poll_groups_mask));
	}
	config_add(config, "nvmf_set_config", params);
}

static void
config_write_subsystem(json_t *config, const struct nvt_nvmf_subsystem *s)
{
	struct nvmf_subsystem_listener *l;
	struct nvmf_host *host;
	json_t *ns;
	uint32_t i;

	if (s->subtype != NVT_NVMF_SUBTYPE_DISCOVERY) {
		config_add(config, "nvmf_create_subsystem",
			   json_pack("{s:s, s:s, s:s, s:b, s:i}", "nqn", s->nqn, "serial_number",
				     s->sn, "model_number", s->mn, "allow_any_host",
				     s->allow_any_host, "max_namespaces", s->max_nsid));
	}
	TAILQ_FOREACH(l, &s->listeners, link) {
		config_add(config, "nvmf_subsystem_add_listener",
			   json_pack("{s:s, s:o}", "nqn", s->nqn, "listen_address",
				     trid_to_json(&l->trid)));
	}
	TAILQ_FOREACH(host, &s->hosts, link) {
		config_add(config, "nvmf_subsystem_add_host",
			   json_pack("{s:s, s:s}", "nqn", s->nqn, "host", host->nqn));
	}
	for (i = 0; i < s->max_nsid; i++) {
		if (s->ns[i] == NULL) {
			continue;
		}
		ns = ns_to_json(s->ns[i]);
		json_object_del(ns, "name");
		config_add(config, "nvmf_subsystem_add_ns",
			   json_pack("{s:s, s:o}", "nqn", s->nqn, "namespace", ns));
	}
}

static void
nvmf_config_write(json_t *config)
{
	struct nvt_nvmf_tgt *tgt = nvmf_tgt_get();
	struct nvmf_transport *transport;
	struct nvt_nvmf_subsystem *s;

	if (tgt == NULL) {
		return;
	}
	config_write_tgt(config, tgt);
	TAILQ_FOREACH(transport, &tgt->transports, link) {
		config_add(config, "nvmf_create_transport", transport_to_json(transport, false));
	}
	TAILQ_FOREACH(s, &tgt->subsystems, link) {
		config_write_subsystem(config, s);
	}
}
/*
 * Registered when the first target is created rather than from a constructor:
 * save_config writes subsystems in registration order, and the namespaces
 * written here name bdevs, so "nvmf" must come after "bdev" whatever the link
 * order of the constructors.
 */
void
nvmf_rpc_register_config(void)
{
	static bool registered;

	if (!registered) {
		registered = true;
		nvt_config_register_subsystem("nvmf", nvmf_config_write);
	}
}
