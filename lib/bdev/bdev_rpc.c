/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the bdev layer, with SPDK's names and parameters, the
 * "bdev" subsystem of saved configurations, and the create and delete
 * methods the modules share.
 *
 * SPDK's tools send every parameter of a method (rpc.py fills in defaults,
 * save_config writes them all), so each is accepted under one rule, kept in
 * one place: applied; accepted at SPDK's default only (metadata and
 * protection information, NUMA placement: features nvtcp lacks); or a hint
 * SPDK would advertise to hosts and nvtcp does not, accepted with a notice
 * when not at SPDK's default. Unknown fields stay errors.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "bdev_internal.h"

/* ---- the creation parameters of SPDK's bdev modules ---- */

/* Hints SPDK advertises to hosts (NVMe NOIOB, NPWG, NPWA, NOWS, NPDG, NPDA). */
enum create_hint {
	HINT_PHYSICAL_BLOCK_SIZE,
	HINT_OPTIMAL_IO_BOUNDARY,
	/* The five that bdev_get_bdevs reports, in its order. */
	HINT_PREFERRED_WRITE_ALIGNMENT,
	HINT_PREFERRED_WRITE_GRANULARITY,
	HINT_OPTIMAL_WRITE_SIZE,
	HINT_PREFERRED_UNMAP_ALIGNMENT,
	HINT_PREFERRED_UNMAP_GRANULARITY,
	CREATE_NUM_HINTS,
};

static const struct {
	const char *name;
	const char *why;
} g_hints[CREATE_NUM_HINTS] = {
	[HINT_PHYSICAL_BLOCK_SIZE] = { "physical_block_size",
				       "hosts are told of no physical block beyond the block size" },
	[HINT_OPTIMAL_IO_BOUNDARY] = { "optimal_io_boundary",
				       "no I/O boundary is advertised (NOIOB is 0) nor split at" },
	[HINT_PREFERRED_WRITE_ALIGNMENT] = { "preferred_write_alignment",
					     "no write alignment is advertised (NPWA is 0)" },
	[HINT_PREFERRED_WRITE_GRANULARITY] = { "preferred_write_granularity",
					       "no write granularity is advertised (NPWG is 0)" },
	[HINT_OPTIMAL_WRITE_SIZE] = { "optimal_write_size",
				      "no optimal write size is advertised (NOWS is 0)" },
	[HINT_PREFERRED_UNMAP_ALIGNMENT] = { "preferred_unmap_alignment",
					     "no deallocate alignment is advertised (NPDA is 0)" },
	[HINT_PREFERRED_UNMAP_GRANULARITY] = { "preferred_unmap_granularity",
					       "no deallocate granularity is advertised (NPDG is 0)" },
};

/* The parameters nvtcp applies or checks; the others have no output. */
struct rpc_bdev_create {
	char *name;
	char *uuid;
	uint64_t num_blocks;
	uint32_t block_size;
	uint32_t hints[CREATE_NUM_HINTS];
};

#define CREATE_FIELD(name, type, member, opt)                                   \
	{                                                                       \
		(name), (type), offsetof(struct rpc_bdev_create, member), (opt) \
	}
#define NO_PI "nvtcp bdevs carry no metadata and no protection information"

/* Every other SPDK creation parameter nvtcp knows, with its one rule. */
static const struct nvt_json_field g_create_fields[] = {
	/* Required unless the module names unnamed bdevs (see create_fields_init()). */
	CREATE_FIELD("name", NVT_JSON_STRING, name, false),
	CREATE_FIELD("uuid", NVT_JSON_STRING, uuid, true),
	CREATE_FIELD("num_blocks", NVT_JSON_UINT64, num_blocks, false),
	CREATE_FIELD("block_size", NVT_JSON_UINT32, block_size, false),
	NVT_JSON_SPDK_DEFAULT("md_size", "0", NO_PI),
	NVT_JSON_SPDK_DEFAULT("md_interleave", "false", NO_PI),
	NVT_JSON_SPDK_DEFAULT("dif_type", "0", NO_PI),
	NVT_JSON_SPDK_DEFAULT("dif_is_head_of_md", "false", NO_PI),
	NVT_JSON_SPDK_DEFAULT("dif_pi_format", "0", NO_PI),
	NVT_JSON_SPDK_DEFAULT("numa_id", "-1",
			      "no NUMA placement: the memory follows the kernel's policy"),
};

#define CREATE_MAX_FIELDS (NVT_COUNTOF(g_create_fields) + CREATE_NUM_HINTS)

/* The rule of the creation parameter \p name into \p f; false when there is none. */
static bool
create_field_get(const char *name, struct nvt_json_field *f)
{
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_create_fields); i++) {
		if (strcmp(g_create_fields[i].name, name) == 0) {
			*f = g_create_fields[i];
			return true;
		}
	}
	for (i = 0; i < CREATE_NUM_HINTS; i++) {
		if (strcmp(g_hints[i].name, name) == 0) {
			*f = (struct nvt_json_field){ g_hints[i].name, NVT_JSON_UINT32,
						      offsetof(struct rpc_bdev_create, hints) +
							      i * sizeof(uint32_t),
						      true };
			return true;
		}
	}
	NVT_ERRLOG("bdev: no rule for the creation parameter '%s'\n", name);
	return false;
}

/* The decoder table of \p m's method into \p fields; returns its length. */
static size_t
create_fields_init(const struct nvt_bdev_rpc_create_method *m, struct nvt_json_field *fields)
{
	size_t i, n = 0;

	for (i = 0; m->params[i] != NULL && n < CREATE_MAX_FIELDS; i++) {
		if (!create_field_get(m->params[i], &fields[n])) {
			continue;
		}
		if (strcmp(fields[n].name, "name") == 0) {
			fields[n].optional = m->name_prefix != NULL;
		}
		n++;
	}
	return n;
}

/*
 * nvtcp's value of a creation parameter of \p bdev, as saved and reported;
 * NULL for a parameter without a rule.
 */
static json_t *
create_param_value(const struct nvt_bdev *bdev, const char *name)
{
	char uuid[NVT_UUID_STRING_LEN];
	struct nvt_json_field f;

	if (!create_field_get(name, &f)) {
		return NULL;
	}
	if (f.type == NVT_JSON_SPDK) {
		/* Accepted at SPDK's default only: the default says what nvtcp does. */
		return json_loads(f.spdk_default, JSON_DECODE_ANY, NULL);
	}
	/* The member a parameter decodes to says which it is. */
	switch (f.offset) {
	case offsetof(struct rpc_bdev_create, name):
		return json_string(bdev->name);
	case offsetof(struct rpc_bdev_create, uuid):
		nvt_uuid_fmt(uuid, bdev->uuid);
		return json_string(uuid);
	case offsetof(struct rpc_bdev_create, num_blocks):
		return json_integer((json_int_t)bdev->blockcnt);
	case offsetof(struct rpc_bdev_create, block_size):
	case offsetof(struct rpc_bdev_create, hints[HINT_PHYSICAL_BLOCK_SIZE]):
		return json_integer(bdev->blocklen);
	default:
		/* The other hints: none advertised. */
		return json_integer(0);
	}
}

/*
 * Hints away from SPDK's default (0; for physical_block_size also the block
 * size) ask hosts to be told something nvtcp does not tell them: accepted,
 * since data and commands are the same either way, with a notice once.
 */
static void
create_hints_notice(struct nvt_jsonrpc_request *request, const struct rpc_bdev_create *req)
{
	char name[40];
	uint32_t v;
	size_t i;

	for (i = 0; i < CREATE_NUM_HINTS; i++) {
		v = req->hints[i];
		if (v != 0 && !(i == HINT_PHYSICAL_BLOCK_SIZE && v == req->block_size)) {
			snprintf(name, sizeof(name), "'%s'", g_hints[i].name);
			nvt_jsonrpc_notice_once(request, name, g_hints[i].why);
		}
	}
}

/* PREFIX0, PREFIX1, ...: the first free name, as SPDK names unnamed bdevs. */
static void
create_default_name(const char *prefix, char *name, size_t size)
{
	unsigned int i;

	for (i = 0;; i++) {
		snprintf(name, size, "%s%u", prefix, i);
		if (nvt_bdev_get_by_name(name) == NULL) {
			return;
		}
	}
}

/* Create the bdev of a decoded request and answer. */
static void
create_and_answer(struct nvt_jsonrpc_request *request, const struct nvt_bdev_rpc_create_method *m,
		  const struct rpc_bdev_create *req, const uint8_t *uuid)
{
	struct nvt_bdev_create_opts opts;
	char name[NVT_BDEV_NAME_LEN];
	struct nvt_bdev *bdev;
	int rc;

	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	if (req->name == NULL) {
		create_default_name(m->name_prefix, name, sizeof(name));
	}
	opts.name = req->name != NULL ? req->name : name;
	opts.num_blocks = req->num_blocks;
	opts.block_size = req->block_size;
	opts.uuid = uuid;
	rc = m->create(&opts, &bdev);
	if (rc != 0) {
		/* SPDK's convention: the negative errno is the code. */
		nvt_jsonrpc_send_error(request, rc, "%s: %s: %s",
				       nvt_jsonrpc_request_method(request), opts.name,
				       nvt_strerror(rc));
		return;
	}
	nvt_jsonrpc_send_result(request, json_string(nvt_bdev_get_name(bdev)));
}

void
nvt_bdev_rpc_create(struct nvt_jsonrpc_request *request, const json_t *params,
		    const struct nvt_bdev_rpc_create_method *m)
{
	struct nvt_json_field fields[CREATE_MAX_FIELDS];
	size_t nfields = create_fields_init(m, fields);
	struct rpc_bdev_create req = { 0 };
	uint8_t uuid[16];

	if (!nvt_jsonrpc_decode(request, NULL, params, fields, nfields, &req)) {
		return;
	}
	if (req.uuid != NULL && nvt_uuid_parse(req.uuid, uuid) != 0) {
		nvt_jsonrpc_send_field_error(request, "uuid", "'%s' is not a UUID", req.uuid);
	} else {
		create_hints_notice(request, &req);
		create_and_answer(request, m, &req, req.uuid != NULL ? uuid : NULL);
	}
	nvt_json_free_strings(fields, nfields, &req);
}

void
nvt_bdev_write_create_config(const struct nvt_bdev *bdev,
			     const struct nvt_bdev_rpc_create_method *m, json_t *config)
{
	const char *const *params = m->params;
	json_t *obj = json_object();
	json_t *value;
	size_t i;

	for (i = 0; params[i] != NULL; i++) {
		value = create_param_value(bdev, params[i]);
		if (value != NULL) {
			json_object_set_new(obj, params[i], value);
		}
	}
	json_array_append_new(config, json_pack("{s:s, s:o}", "method", m->method, "params", obj));
}

/* ---- bdev_get_bdevs ---- */

/* SPDK's I/O type names, in its order; -1: a type nvtcp's bdevs never support. */
static const struct {
	const char *name;
	int type;
} g_io_types[] = {
	{ "read", NVT_BDEV_IO_TYPE_READ },
	{ "write", NVT_BDEV_IO_TYPE_WRITE },
	{ "unmap", NVT_BDEV_IO_TYPE_UNMAP },
	{ "flush", NVT_BDEV_IO_TYPE_FLUSH },
	{ "reset", -1 },
	{ "nvme_admin", -1 },
	{ "nvme_io", -1 },
	{ "nvme_io_md", -1 },
	{ "write_zeroes", NVT_BDEV_IO_TYPE_WRITE_ZEROES },
	{ "zcopy", -1 },
	{ "get_zone_info", -1 },
	{ "zone_management", -1 },
	{ "zone_append", -1 },
	{ "compare", NVT_BDEV_IO_TYPE_COMPARE },
	{ "compare_and_write", NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE },
	{ "abort", -1 },
	{ "seek_hole", -1 },
	{ "seek_data", -1 },
	{ "copy", -1 },
	{ "nvme_iov_md", -1 },
	{ "nvme_nssr", -1 },
	{ "write_uncorrectable", -1 },
};

static json_t *
bdev_io_types_json(const struct nvt_bdev *bdev)
{
	json_t *types = json_object();
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_io_types); i++) {
		json_object_set_new(
			types, g_io_types[i].name,
			json_boolean(g_io_types[i].type >= 0 &&
				     nvt_bdev_io_type_supported(
					     bdev, (enum nvt_bdev_io_type)g_io_types[i].type)));
	}
	return types;
}

/* One bdev as SPDK's bdev_get_bdevs describes it, in its order (write_cache is ours). */
static json_t *
bdev_info_json(const struct nvt_bdev *bdev)
{
	char uuid[NVT_UUID_STRING_LEN];
	json_t *info, *specific;
	size_t i;

	nvt_uuid_fmt(uuid, bdev->uuid);
	/* SPDK lists the UUID among the aliases: lookups by it work here too. */
	info = json_pack("{s:s, s:[s], s:s, s:i, s:I}", "name", bdev->name, "aliases", uuid,
			 "product_name", bdev->product_name, "block_size", (int)bdev->blocklen,
			 "num_blocks", (json_int_t)bdev->blockcnt);
	for (i = HINT_PREFERRED_WRITE_ALIGNMENT; i < CREATE_NUM_HINTS; i++) {
		json_object_set_new(info, g_hints[i].name,
				    create_param_value(bdev, g_hints[i].name));
	}
	json_object_set_new(info, "uuid", json_string(uuid));
	json_object_set_new(info, "numa_id", create_param_value(bdev, "numa_id"));
	json_object_set_new(info, "assigned_rate_limits",
			    json_pack("{s:i, s:i, s:i, s:i}", "rw_ios_per_sec", 0,
				      "rw_mbytes_per_sec", 0, "r_mbytes_per_sec", 0,
				      "w_mbytes_per_sec", 0));
	json_object_set_new(info, "claimed", json_false());
	json_object_set_new(info, "zoned", json_false());
	json_object_set_new(info, "write_cache", json_boolean(bdev->write_cache));
	json_object_set_new(info, "supported_io_types", bdev_io_types_json(bdev));
	specific = json_object();
	if (bdev->fn_table->dump_info_json != NULL) {
		bdev->fn_table->dump_info_json((struct nvt_bdev *)bdev, specific);
	}
	json_object_set_new(info, "driver_specific", specific);
	return info;
}

struct rpc_get_bdevs {
	char *name;
	uint64_t timeout;
};

static const struct nvt_json_field g_get_bdevs_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_get_bdevs, name), true },
	/* How long SPDK waits for the bdev to appear: moot, bdevs appear synchronously. */
	{ "timeout", NVT_JSON_UINT64, offsetof(struct rpc_get_bdevs, timeout), true },
};

static void
rpc_bdev_get_bdevs(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_get_bdevs req = { 0 };
	struct nvt_bdev *bdev;
	json_t *result;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_get_bdevs_fields,
				NVT_COUNTOF(g_get_bdevs_fields), &req)) {
		return;
	}
	if (req.name != NULL) {
		bdev = nvt_bdev_get_by_name(req.name);
		if (bdev == NULL) {
			nvt_jsonrpc_send_error(request, -ENODEV, "bdev_get_bdevs: bdev '%s': %s",
					       req.name, nvt_strerror(ENODEV));
		} else {
			nvt_jsonrpc_send_result(request, json_pack("[o]", bdev_info_json(bdev)));
		}
	} else {
		result = json_array();
		for (bdev = nvt_bdev_first(); bdev != NULL; bdev = nvt_bdev_next(bdev)) {
			json_array_append_new(result, bdev_info_json(bdev));
		}
		nvt_jsonrpc_send_result(request, result);
	}
	nvt_json_free_strings(g_get_bdevs_fields, NVT_COUNTOF(g_get_bdevs_fields), &req);
}
NVT_RPC_REGISTER("bdev_get_bdevs", rpc_bdev_get_bdevs, NVT_RPC_RUNTIME)

/* ---- options, examine, the saved configuration ---- */

/* One reason, so one notice: the fields all size pools nvtcp's bdev layer lacks. */
static const char g_no_bdev_pools[] =
	"nvtcp's bdev layer has no bdev_io pool (each channel recycles its own) and no data "
	"buffers (each transport owns them: nvmf_create_transport num_shared_buffers, "
	"buf_cache_size)";

struct rpc_bdev_options {
	bool auto_examine;
};

/* SPDK's bdev-wide options: they size pools nvtcp does not have. */
static const struct nvt_json_field g_set_options_fields[] = {
	NVT_JSON_SPDK_IGNORED("bdev_io_pool_size", g_no_bdev_pools),
	NVT_JSON_SPDK_IGNORED("bdev_io_cache_size", g_no_bdev_pools),
	/*
	 * Either value is what happens: nvtcp has no module that examines new
	 * bdevs (no GPT, no lvol), so examining them finds nothing.
	 */
	{ "bdev_auto_examine", NVT_JSON_BOOL, offsetof(struct rpc_bdev_options, auto_examine),
	  true },
	NVT_JSON_SPDK_IGNORED("iobuf_small_cache_size", g_no_bdev_pools),
	NVT_JSON_SPDK_IGNORED("iobuf_large_cache_size", g_no_bdev_pools),
	NVT_JSON_SPDK_IGNORED("small_buf_pool_size", g_no_bdev_pools),
	NVT_JSON_SPDK_IGNORED("large_buf_pool_size", g_no_bdev_pools),
};

static void
rpc_bdev_set_options(struct nvt_jsonrpc_request *request, const json_t *params)
{
	struct rpc_bdev_options opts = { 0 };

	if (nvt_jsonrpc_decode(request, NULL, params, g_set_options_fields,
			       NVT_COUNTOF(g_set_options_fields), &opts)) {
		nvt_jsonrpc_send_result(request, NULL);
	}
}
NVT_RPC_REGISTER("bdev_set_options", rpc_bdev_set_options, NVT_RPC_STARTUP)

/* Nothing examines bdevs here: every bdev is ready once its create method answered. */
static void
rpc_bdev_wait_for_examine(struct nvt_jsonrpc_request *request, const json_t *params)
{
	if (nvt_jsonrpc_decode(request, NULL, params, NULL, 0, NULL)) {
		nvt_jsonrpc_send_result(request, NULL);
	}
}
NVT_RPC_REGISTER("bdev_wait_for_examine", rpc_bdev_wait_for_examine, NVT_RPC_RUNTIME)

/*
 * The modules' own entries (what their bdevs name), then each bdev as the
 * method call of its module that recreates it, in creation order.
 */
static void
bdev_write_config(json_t *config)
{
	struct nvt_bdev *bdev;

	bdev_module_hooks_write_config(config);
	for (bdev = nvt_bdev_first(); bdev != NULL; bdev = nvt_bdev_next(bdev)) {
		if (bdev->fn_table->write_config_json != NULL) {
			bdev->fn_table->write_config_json(bdev, config);
		}
	}
}
NVT_CONFIG_REGISTER_SUBSYSTEM("bdev", bdev_write_config)

/* ---- the modules' delete methods ---- */

struct rpc_module_delete {
	char *name;
};

static const struct nvt_json_field g_module_delete_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_module_delete, name), false },
};

static void
module_delete_done(void *cb_arg, int status)
{
	struct nvt_jsonrpc_request *request = cb_arg;

	if (status != 0) {
		nvt_jsonrpc_send_error(request, status, "%s: %s",
				       nvt_jsonrpc_request_method(request), nvt_strerror(status));
		return;
	}
	nvt_jsonrpc_send_result(request, NULL);
}

void
nvt_bdev_rpc_delete(struct nvt_jsonrpc_request *request, const json_t *params, const char *method,
		    const struct nvt_bdev_module *module)
{
	struct rpc_module_delete req = { 0 };
	struct nvt_bdev *bdev;

	if (!nvt_jsonrpc_decode(request, NULL, params, g_module_delete_fields,
				NVT_COUNTOF(g_module_delete_fields), &req)) {
		return;
	}
	bdev = nvt_bdev_get_by_name(req.name);
	/* Answered once every opener has closed the bdev. */
	if (bdev == NULL || bdev->module != module ||
	    nvt_bdev_unregister(bdev, module_delete_done, request) != 0) {
		nvt_jsonrpc_send_error(request, -ENODEV, "%s: no %s bdev '%s'", method,
				       module->name, req.name);
	}
	nvt_json_free_strings(g_module_delete_fields, NVT_COUNTOF(g_module_delete_fields), &req);
}
