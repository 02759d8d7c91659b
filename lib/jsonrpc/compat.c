/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compatibility shims: methods of SPDK components that nvtcp does not have,
 * which SPDK's save_config writes into every configuration it saves. They
 * are answered so that such a configuration loads unchanged, but only where
 * that cannot make nvtcp claim a behaviour it does not have:
 *
 *  - a field listed with a value accepts that value only: SPDK's default,
 *    which describes what nvtcp does anyway. Any other value is refused with
 *    a message naming the method and the field; unknown fields too.
 *  - a method listed without fields sets options of a module nvtcp does not
 *    have. Nothing of that module can be created here (its create methods
 *    are unknown, so a configuration that uses them is refused), so its
 *    options are accepted, whatever they are, and logged as ignored.
 *
 * None of them has state: save_config writes nothing back for them. They
 * register from a constructor, in their own library: the daemon links them,
 * libraries and their tests, which answer only for themselves, do not.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"

#define COMPAT_MAX_FIELDS 8

struct compat_field {
	const char *name;
	/* JSON text of the only value accepted; NULL: any value. */
	const char *value;
	bool required;
};

struct compat_method {
	const char *name;
	uint32_t state_mask;
	/* What nvtcp lacks, for the log and for refusals. */
	const char *why;
	/* NULL: the options of a missing module, any parameters. */
	const struct compat_field *fields;
	size_t nfields;
};

static const struct compat_field g_accel_fields[] = {
	{ "small_cache_size", "128", false }, { "large_cache_size", "16", false },
	{ "task_count", "2048", false },      { "sequence_count", "2048", false },
	{ "buf_count", "2048", false },
};

static const struct compat_field g_scheduler_fields[] = {
	{ "name", "\"static\"", true },
	{ "period", "1000000", false },
};

static const struct compat_field g_hotplug_fields[] = {
	{ "period_us", NULL, false },
	{ "enable", "false", false },
};

#define COMPAT_ANY_STATE (NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

static const struct compat_method g_compat_methods[] = {
	{ "accel_set_options", NVT_RPC_STARTUP,
	  "nvtcp has no accel framework: digests are computed on the CPU", g_accel_fields,
	  NVT_COUNTOF(g_accel_fields) },
	{ "framework_set_scheduler", COMPAT_ANY_STATE,
	  "nvtcp has no thread scheduler: threads stay on the core they were placed on, as "
	  "with SPDK's static scheduler",
	  g_scheduler_fields, NVT_COUNTOF(g_scheduler_fields) },
	{ "bdev_nvme_set_options", NVT_RPC_STARTUP,
	  "nvtcp has no NVMe bdev module, so no NVMe bdev can exist", NULL, 0 },
	{ "bdev_nvme_set_hotplug", COMPAT_ANY_STATE,
	  "nvtcp has no NVMe bdev module: no local NVMe device is probed", g_hotplug_fields,
	  NVT_COUNTOF(g_hotplug_fields) },
	{ "bdev_raid_set_options", NVT_RPC_STARTUP,
	  "nvtcp has no RAID bdev module, so no RAID bdev can exist", NULL, 0 },
	{ "bdev_iscsi_set_options", NVT_RPC_STARTUP,
	  "nvtcp has no iSCSI bdev module, so no iSCSI bdev can exist", NULL, 0 },
};

static const struct compat_method *
compat_find(const char *name)
{
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_compat_methods); i++) {
		if (strcmp(g_compat_methods[i].name, name) == 0) {
			return &g_compat_methods[i];
		}
	}
	return NULL;
}

/* Whether \p value is the JSON value written as \p text. */
static bool
compat_value_is(const json_t *value, const char *text)
{
	json_t *want = json_loads(text, JSON_DECODE_ANY, NULL);
	bool same = want != NULL && json_equal(want, (json_t *)value);

	json_decref(want);
	return same;
}

static void
compat_refuse(struct nvt_jsonrpc_request *req, const struct compat_method *m,
	      const struct compat_field *f, const json_t *value)
{
	char *got = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);

	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS,
			       "%s: field '%s': %s is not supported, only SPDK's default %s (%s)",
			       m->name, f->name, got != NULL ? got : "this value", f->value,
			       m->why);
	free(got);
}

/* Check the listed fields; answers and returns false on a refusal. */
static bool
compat_check_fields(struct nvt_jsonrpc_request *req, const struct compat_method *m,
		    const json_t *params)
{
	struct nvt_json_field fields[COMPAT_MAX_FIELDS];
	const json_t *values[COMPAT_MAX_FIELDS] = { NULL };
	char err[256];
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		fields[i] =
			(struct nvt_json_field){ m->fields[i].name, NVT_JSON_ANY,
						 i * sizeof(values[0]), !m->fields[i].required };
	}
	if (nvt_json_decode_object(params, fields, m->nfields, values, err, sizeof(err)) != 0) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s: %s", m->name,
				       err);
		return false;
	}
	for (i = 0; i < m->nfields; i++) {
		if (values[i] != NULL && m->fields[i].value != NULL &&
		    !compat_value_is(values[i], m->fields[i].value)) {
			compat_refuse(req, m, &m->fields[i], values[i]);
			return false;
		}
	}
	return true;
}

static void
rpc_compat_method(struct nvt_jsonrpc_request *req, const json_t *params)
{
	const struct compat_method *m = compat_find(nvt_jsonrpc_request_method(req));

	if (m == NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "%s: no compatibility entry",
				       nvt_jsonrpc_request_method(req));
		return;
	}
	if (m->fields != NULL && !compat_check_fields(req, m, params)) {
		return;
	}
	NVT_NOTICELOG("%s: accepted for compatibility with SPDK and ignored: %s\n", m->name,
		      m->why);
	nvt_jsonrpc_send_result(req, NULL);
}

__attribute__((constructor)) static void
rpc_compat_register(void)
{
	size_t i;

	for (i = 0; i < NVT_COUNTOF(g_compat_methods); i++) {
		nvt_rpc_register_method(g_compat_methods[i].name, rpc_compat_method,
					g_compat_methods[i].state_mask);
	}
}
