/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's keyring methods (keyring_file_add_key, keyring_file_remove_key,
 * keyring_get_keys) and the "keyring" configuration subsystem, which saves
 * one keyring_file_add_key (name and path: never the secret) per key.
 *
 * As in SPDK, the methods run at runtime only, and a failed operation
 * answers its negative errno as the code, with a message that says why.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/keyring.h"
#include "nvtcp/likely.h"
#include "keyring_internal.h"

/* What SPDK's keyring_get_keys names the module of file keys. */
#define KEYRING_FILE_MODULE "keyring_file"

struct rpc_key {
	char *name;
	char *path;
};

static const struct nvt_json_field g_add_key_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_key, name), false },
	{ "path", NVT_JSON_STRING, offsetof(struct rpc_key, path), false },
};

static const struct nvt_json_field g_remove_key_fields[] = {
	{ "name", NVT_JSON_STRING, offsetof(struct rpc_key, name), false },
};

static void
rpc_keyring_file_add_key(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_key p = { 0 };
	char why[KEYRING_WHY_MAX];
	int rc;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_add_key_fields, NVT_COUNTOF(g_add_key_fields),
				&p)) {
		return;
	}
	rc = keyring_file_add_key_why(p.name, p.path, why, sizeof(why));
	if (rc != 0) {
		nvt_jsonrpc_send_error(req, rc, "keyring_file_add_key: %s", why);
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
	nvt_json_free_strings(g_add_key_fields, NVT_COUNTOF(g_add_key_fields), &p);
}
NVT_RPC_REGISTER("keyring_file_add_key", rpc_keyring_file_add_key, NVT_RPC_RUNTIME)

static void
rpc_keyring_file_remove_key(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_key p = { 0 };

	if (!nvt_jsonrpc_decode(req, NULL, params, g_remove_key_fields,
				NVT_COUNTOF(g_remove_key_fields), &p)) {
		return;
	}
	if (nvt_keyring_remove_key(p.name) != 0) {
		/* SPDK's code for a key that does not exist. */
		nvt_jsonrpc_send_error(req, -ENOKEY, "keyring_file_remove_key: no key '%s'",
				       p.name);
	} else {
		nvt_jsonrpc_send_result(req, NULL);
	}
	nvt_json_free_strings(g_remove_key_fields, NVT_COUNTOF(g_remove_key_fields), &p);
}
NVT_RPC_REGISTER("keyring_file_remove_key", rpc_keyring_file_remove_key, NVT_RPC_RUNTIME)

/* SPDK's fields, in its order; a removed key has no path any more. */
static void
keys_add(void *ctx, const struct nvt_key *key)
{
	bool removed = keyring_key_is_removed(key);
	json_t *obj;

	obj = json_pack("{s:s, s:s, s:b, s:b, s:i}", "name", nvt_key_get_name(key), "module",
			KEYRING_FILE_MODULE, "removed", removed, "probed", false, "refcnt",
			keyring_key_refcnt(key));
	if (obj != NULL && !removed) {
		json_object_set_new(obj, "path", json_string(nvt_key_get_path(key)));
	}
	json_array_append_new(ctx, obj);
}

static void
rpc_keyring_get_keys(struct nvt_jsonrpc_request *req, const json_t *params)
{
	json_t *list;

	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
		return;
	}
	list = json_array();
	if (list == NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "keyring_get_keys: out of memory");
		return;
	}
	keyring_foreach_all(keys_add, list);
	nvt_jsonrpc_send_result(req, list);
}
NVT_RPC_REGISTER("keyring_get_keys", rpc_keyring_get_keys, NVT_RPC_RUNTIME)

static void
keyring_config_key(void *ctx, const struct nvt_key *key)
{
	json_array_append_new(ctx, json_pack("{s:s, s:{s:s, s:s}}", "method",
					     "keyring_file_add_key", "params", "name",
					     nvt_key_get_name(key), "path", nvt_key_get_path(key)));
}

static void
keyring_config_write(json_t *config)
{
	nvt_keyring_foreach(keyring_config_key, config);
}

/*
 * save_config writes subsystems in registration order, and a configuration
 * loads in file order: "keyring" must come before "nvmf", whose hosts name
 * keys, and SPDK writes it after "sock" (registered at priority 200) and
 * before "bdev" and "nvmf" (default priority, or later).
 */
#define KEYRING_RPC_CONFIG_PRIORITY 300

__attribute__((constructor(KEYRING_RPC_CONFIG_PRIORITY))) static void
keyring_rpc_register_config(void)
{
	nvt_config_register_subsystem("keyring", keyring_config_write);
}
