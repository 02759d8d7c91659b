/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compatibility shims: methods of SPDK components that nvtcp does not have,
 * which SPDK's save_config writes into every configuration it saves. They
 * are answered so that such a configuration loads unchanged, but only where
 * that cannot make nvtcp claim a behaviour it does not have:
 *
 *  - a field listed with a value accepts that value only: SPDK's default,
 *    which describes what nvtcp does anyway (NVT_JSON_SPDK_DEFAULT). Any
 *    other value is refused with a message naming the method, the field and
 *    the value; unknown fields too.
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
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"

struct compat_method {
	const char *name;
	uint32_t state_mask;
	/* What nvtcp lacks, for the log and for refusals. */
	const char *why;
	/* NULL: the options of a missing module, any parameters. */
	const struct nvt_json_field *fields;
	size_t nfields;
};

#define ACCEL_WHY "nvtcp has no accel framework: digests are computed on the CPU"
#define SCHED_WHY                                                                               \
	"nvtcp has no thread scheduler: threads stay on the core they were placed on, as with " \
	"SPDK's static scheduler"
#define HOTPLUG_WHY "nvtcp has no NVMe bdev module: no local NVMe device is probed"

static const struct nvt_json_field g_accel_fields[] = {
	NVT_JSON_SPDK_DEFAULT("small_cache_size", "128", ACCEL_WHY),
	NVT_JSON_SPDK_DEFAULT("large_cache_size", "16", ACCEL_WHY),
	NVT_JSON_SPDK_DEFAULT("task_count", "2048", ACCEL_WHY),
	NVT_JSON_SPDK_DEFAULT("sequence_count", "2048", ACCEL_WHY),
	NVT_JSON_SPDK_DEFAULT("buf_count", "2048", ACCEL_WHY),
};

static const struct nvt_json_field g_scheduler_fields[] = {
	{ "name", NVT_JSON_SPDK, 0, false, "\"static\"", SCHED_WHY },
	NVT_JSON_SPDK_DEFAULT("period", "1000000", SCHED_WHY),
};

static const struct nvt_json_field g_hotplug_fields[] = {
	NVT_JSON_SPDK_IGNORED("period_us", NULL),
	NVT_JSON_SPDK_DEFAULT("enable", "false", HOTPLUG_WHY),
};

#define COMPAT_ANY_STATE (NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

static const struct compat_method g_compat_methods[] = {
	{ "accel_set_options", NVT_RPC_STARTUP, ACCEL_WHY, g_accel_fields,
	  NVT_COUNTOF(g_accel_fields) },
	{ "framework_set_scheduler", COMPAT_ANY_STATE, SCHED_WHY, g_scheduler_fields,
	  NVT_COUNTOF(g_scheduler_fields) },
	{ "bdev_nvme_set_options", NVT_RPC_STARTUP,
	  "nvtcp has no NVMe bdev module, so no NVMe bdev can exist", NULL, 0 },
	{ "bdev_nvme_set_hotplug", COMPAT_ANY_STATE, HOTPLUG_WHY, g_hotplug_fields,
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
	if (m->fields != NULL &&
	    !nvt_jsonrpc_decode(req, NULL, params, m->fields, m->nfields, NULL)) {
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
