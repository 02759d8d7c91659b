/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RPC methods of the socket layer, with SPDK's names and parameters, and the
 * "sock" subsystem of saved configurations.
 *
 * SPDK's save_config writes sock_impl_set_options for each of its socket
 * implementations, with its defaults, into every configuration. Most of
 * those options nvtcp does not have: its sockets keep the kernel's buffer
 * auto-tuning, are read straight into the caller's buffers (no receive
 * pipe) and send without MSG_ZEROCOPY. A field is accepted when it asks
 * for exactly that, or holds SPDK's default for that implementation (the
 * value an untouched SPDK configuration carries, taken as nvtcp's own).
 * Any other value is a setting nvtcp would not apply, and is refused with
 * a message naming the field.
 *
 * "ssl" (TLS 1.3 with PSKs) has two options that nvtcp applies, tls_version
 * and enable_ktls (nvt_sock_impl_set_opts()); its tuning fields (buffer
 * sizes, receive pipe, quick ack) are accepted with any value and ignored.
 * Its PSK fields are refused: PSKs come from the keyring, per host.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/sock.h"

/* SPDK's implementations, in the order of its defaults below. */
enum sock_rpc_impl {
	SOCK_RPC_POSIX,
	SOCK_RPC_URING,
	SOCK_RPC_SSL,
	SOCK_RPC_NUM_IMPLS,
};

static const char *const g_impl_names[SOCK_RPC_NUM_IMPLS] = { "posix", "uring", "ssl" };

struct rpc_sock_impl_opts {
	char *impl_name;
	char *psk_key;
	char *psk_identity;
	uint32_t recv_buf_size;
	uint32_t send_buf_size;
	uint32_t enable_placement_id;
	uint32_t zerocopy_threshold;
	uint32_t tls_version;
	bool enable_recv_pipe;
	bool enable_quickack;
	bool enable_zerocopy_send_server;
	bool enable_zerocopy_send_client;
	bool enable_ktls;
};

/* One option: what nvtcp does, and SPDK's default per implementation. */
struct sock_rpc_opt {
	const char *name;
	enum nvt_json_type type; /* NVT_JSON_UINT32 or NVT_JSON_BOOL */
	size_t offset;
	uint32_t ours;
	uint32_t spdk[SOCK_RPC_NUM_IMPLS];
	/* Only tunes an implementation: any value is accepted (and ignored) for ssl. */
	bool tuning;
	/* An option of ssl that nvtcp applies (for the others, the rule above). */
	bool ssl_applied;
	/* What nvtcp does, for refusals. */
	const char *does;
};

#define SOCK_OPT(field, type, ours, posix, uring, ssl, tuning, does)            \
	{                                                                       \
#field, type, offsetof(struct rpc_sock_impl_opts, field), ours, \
			{ posix, uring, ssl }, tuning, false, does              \
	}

#define SSL_OPT(field, type, does)                                           \
	{                                                                    \
#field, type, offsetof(struct rpc_sock_impl_opts, field), 0, \
			{ 0, 0, 0 }, false, true, does                       \
	}

#define SPDK_BUF_SIZE	  (2u * 1024 * 1024)
#define SPDK_SSL_BUF_SIZE 4096u

static const struct sock_rpc_opt g_opts[] = {
	SOCK_OPT(recv_buf_size, NVT_JSON_UINT32, 0, SPDK_BUF_SIZE, SPDK_BUF_SIZE, SPDK_SSL_BUF_SIZE,
		 true, "socket buffers left to the kernel's auto-tuning"),
	SOCK_OPT(send_buf_size, NVT_JSON_UINT32, 0, SPDK_BUF_SIZE, SPDK_BUF_SIZE, SPDK_SSL_BUF_SIZE,
		 true, "socket buffers left to the kernel's auto-tuning"),
	SOCK_OPT(enable_recv_pipe, NVT_JSON_BOOL, false, true, true, true, true,
		 "reads go straight to the request buffers"),
	SOCK_OPT(enable_quickack, NVT_JSON_BOOL, false, false, false, false, true,
		 "no TCP_QUICKACK"),
	SOCK_OPT(enable_placement_id, NVT_JSON_UINT32, 0, 0, 0, 0, false,
		 "connections go to the least loaded poll group"),
	SOCK_OPT(enable_zerocopy_send_server, NVT_JSON_BOOL, false, true, false, true, false,
		 "no MSG_ZEROCOPY"),
	SOCK_OPT(enable_zerocopy_send_client, NVT_JSON_BOOL, false, false, false, false, false,
		 "no MSG_ZEROCOPY"),
	SOCK_OPT(zerocopy_threshold, NVT_JSON_UINT32, 0, 0, 0, 0, false, "no MSG_ZEROCOPY"),
	SSL_OPT(tls_version, NVT_JSON_UINT32, "TLS is the ssl implementation's"),
	SSL_OPT(enable_ktls, NVT_JSON_BOOL, "TLS is the ssl implementation's"),
};

#define SOCK_NUM_OPTS NVT_COUNTOF(g_opts)

/* Decoder fields: the options above, then the name and the TLS key strings. */
#define SOCK_NUM_SET_FIELDS (SOCK_NUM_OPTS + 3)

static void
set_fields_init(struct nvt_json_field *f)
{
	size_t i;

	for (i = 0; i < SOCK_NUM_OPTS; i++) {
		f[i] = (struct nvt_json_field){ g_opts[i].name, g_opts[i].type, g_opts[i].offset,
						true };
	}
	f[i++] = (struct nvt_json_field){ "impl_name", NVT_JSON_STRING,
					  offsetof(struct rpc_sock_impl_opts, impl_name), false };
	f[i++] = (struct nvt_json_field){ "psk_key", NVT_JSON_STRING,
					  offsetof(struct rpc_sock_impl_opts, psk_key), true };
	f[i] = (struct nvt_json_field){ "psk_identity", NVT_JSON_STRING,
					offsetof(struct rpc_sock_impl_opts, psk_identity), true };
}

/* The implementation named, or SOCK_RPC_NUM_IMPLS when SPDK has none by that name. */
static enum sock_rpc_impl
impl_index(const char *name)
{
	int i;

	for (i = 0; i < SOCK_RPC_NUM_IMPLS; i++) {
		if (strcmp(name, g_impl_names[i]) == 0) {
			return (enum sock_rpc_impl)i;
		}
	}
	return SOCK_RPC_NUM_IMPLS;
}

/*
 * The implementation named by "impl_name", or SOCK_RPC_NUM_IMPLS after an
 * answer: unknown, or (unless \p ssl_ok) ssl, which no socket gets by default.
 */
static enum sock_rpc_impl
impl_or_fail(struct nvt_jsonrpc_request *req, const char *name, bool ssl_ok)
{
	enum sock_rpc_impl idx = impl_index(name);

	if (idx == SOCK_RPC_SSL && !ssl_ok) {
		nvt_jsonrpc_send_field_error(
			req, "impl_name",
			"'%s' cannot be the default: TLS sockets need a PSK, so only listeners "
			"with secure_channel and hosts connecting with a PSK use it",
			name);
		return SOCK_RPC_NUM_IMPLS;
	}
	if (idx == SOCK_RPC_NUM_IMPLS || !nvt_sock_impl_is_registered(name)) {
		nvt_jsonrpc_send_field_error(req, "impl_name",
					     "no socket implementation '%s' (posix, uring, ssl)",
					     name);
		return SOCK_RPC_NUM_IMPLS;
	}
	return idx;
}

static uint32_t
opt_value(const struct sock_rpc_opt *o, const struct rpc_sock_impl_opts *p)
{
	const char *field = (const char *)p + o->offset;

	return o->type == NVT_JSON_BOOL ? *(const bool *)(const void *)field
					: *(const uint32_t *)(const void *)field;
}

static void
fmt_value(const struct sock_rpc_opt *o, uint32_t v, char *buf, size_t len)
{
	if (o->type == NVT_JSON_BOOL) {
		snprintf(buf, len, "%s", v ? "true" : "false");
	} else {
		snprintf(buf, len, "%u", v);
	}
}

/* Refuse \p value of \p o: nvtcp's value is accepted, and SPDK's default for \p idx. */
static void
send_opt_refusal(struct nvt_jsonrpc_request *req, const struct sock_rpc_opt *o,
		 enum sock_rpc_impl idx, const json_t *value)
{
	char accepted[80], spdk[16];

	fmt_value(o, o->ours, accepted, sizeof(accepted));
	if (o->spdk[idx] != o->ours) {
		fmt_value(o, o->spdk[idx], spdk, sizeof(spdk));
		snprintf(accepted + strlen(accepted), sizeof(accepted) - strlen(accepted),
			 " or %s (SPDK's %s default)", spdk, g_impl_names[idx]);
	}
	nvt_jsonrpc_send_unsupported(req, o->name, value, accepted, o->does);
}

/*
 * Check every option given; answers and returns false on a refusal. \p mapped
 * gets the names of the options given with SPDK's default where it is not
 * what nvtcp does.
 */
static bool
check_opts(struct nvt_jsonrpc_request *req, const json_t *params, enum sock_rpc_impl idx,
	   const struct rpc_sock_impl_opts *p, char *mapped, size_t len)
{
	const struct sock_rpc_opt *o;
	uint32_t v;
	size_t i;

	mapped[0] = '\0';
	for (i = 0; i < SOCK_NUM_OPTS; i++) {
		o = &g_opts[i];
		if (json_object_get(params, o->name) == NULL) {
			continue;
		}
		if (idx == SOCK_RPC_SSL && o->ssl_applied) {
			/* ssl_apply() checks and applies them. */
			continue;
		}
		v = opt_value(o, p);
		if (v == o->ours) {
			continue;
		}
		if (v != o->spdk[idx] && !(idx == SOCK_RPC_SSL && o->tuning)) {
			send_opt_refusal(req, o, idx, json_object_get(params, o->name));
			return false;
		}
		snprintf(mapped + strlen(mapped), len - strlen(mapped), "%s%s",
			 mapped[0] != '\0' ? ", " : "", o->name);
	}
	return true;
}

static void
log_accepted(enum sock_rpc_impl idx, const char *mapped)
{
	/* Once per implementation: each configuration load would repeat it. */
	static bool logged[SOCK_RPC_NUM_IMPLS];

	if (logged[idx] || mapped[0] == '\0') {
		return;
	}
	logged[idx] = true;
	NVT_NOTICELOG("sock_impl_set_options: %s: %s: left to nvtcp (kernel-tuned socket "
		      "buffers, no receive pipe, no MSG_ZEROCOPY)\n",
		      g_impl_names[idx], mapped);
}

/* The options of ssl that nvtcp applies; answers and returns false on a refusal. */
static bool
ssl_apply(struct nvt_jsonrpc_request *req, const json_t *params, const struct rpc_sock_impl_opts *p)
{
	struct nvt_sock_impl_opts o;
	const json_t *v;

	nvt_sock_impl_get_opts("ssl", &o, sizeof(o));
	v = json_object_get(params, "tls_version");
	if (v != NULL) {
		o.tls_version = p->tls_version;
	}
	if (json_object_get(params, "enable_ktls") != NULL) {
		o.enable_ktls = p->enable_ktls;
	}
	if (nvt_sock_impl_set_opts("ssl", &o, sizeof(o)) != 0) {
		/* The version is all the implementation can refuse. */
		nvt_jsonrpc_send_unsupported(req, "tls_version", v, "0 or 13",
					     "NVMe/TCP secure channels use TLS 1.3");
		return false;
	}
	return true;
}

static void
rpc_sock_impl_set_options(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct nvt_json_field fields[SOCK_NUM_SET_FIELDS];
	struct rpc_sock_impl_opts p = { 0 };
	enum sock_rpc_impl idx;
	char mapped[256];

	set_fields_init(fields);
	if (!nvt_jsonrpc_decode(req, NULL, params, fields, SOCK_NUM_SET_FIELDS, &p)) {
		return;
	}
	idx = impl_or_fail(req, p.impl_name, true);
	if (idx == SOCK_RPC_NUM_IMPLS) {
		goto out;
	}
	if (p.psk_key != NULL || p.psk_identity != NULL) {
		/* The key is not echoed: it is a secret. */
		nvt_jsonrpc_send_field_error(
			req, p.psk_key != NULL ? "psk_key" : "psk_identity",
			"not supported: TLS PSKs come from the keyring (keyring_file_add_key), "
			"per host (nvmf_subsystem_add_host's psk)");
		goto out;
	}
	if (!check_opts(req, params, idx, &p, mapped, sizeof(mapped))) {
		goto out;
	}
	if (idx == SOCK_RPC_SSL && !ssl_apply(req, params, &p)) {
		goto out;
	}
	log_accepted(idx, mapped);
	nvt_jsonrpc_send_result(req, NULL);
out:
	nvt_json_free_strings(fields, SOCK_NUM_SET_FIELDS, &p);
}
NVT_RPC_REGISTER("sock_impl_set_options", rpc_sock_impl_set_options, NVT_RPC_STARTUP)

struct rpc_impl_name {
	char *impl_name;
};

static const struct nvt_json_field g_impl_name_fields[] = {
	{ "impl_name", NVT_JSON_STRING, offsetof(struct rpc_impl_name, impl_name), false },
};

/* What an implementation does, in the shape of SPDK's options. */
static json_t *
opts_to_json(enum sock_rpc_impl idx)
{
	json_t *obj = json_object();
	struct nvt_sock_impl_opts o;
	size_t i;

	for (i = 0; i < SOCK_NUM_OPTS; i++) {
		json_object_set_new(obj, g_opts[i].name,
				    g_opts[i].type == NVT_JSON_BOOL ? json_boolean(g_opts[i].ours)
								    : json_integer(g_opts[i].ours));
	}
	if (idx == SOCK_RPC_SSL && nvt_sock_impl_get_opts("ssl", &o, sizeof(o)) == 0) {
		json_object_set_new(obj, "tls_version", json_integer(o.tls_version));
		json_object_set_new(obj, "enable_ktls", json_boolean(o.enable_ktls));
	}
	return obj;
}

static void
rpc_sock_impl_get_options(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_impl_name p = { 0 };
	enum sock_rpc_impl idx;

	if (!nvt_jsonrpc_decode(req, NULL, params, g_impl_name_fields, 1, &p)) {
		return;
	}
	idx = impl_or_fail(req, p.impl_name, true);
	if (idx != SOCK_RPC_NUM_IMPLS) {
		nvt_jsonrpc_send_result(req, opts_to_json(idx));
	}
	nvt_json_free_strings(g_impl_name_fields, 1, &p);
}
NVT_RPC_REGISTER("sock_impl_get_options", rpc_sock_impl_get_options,
		 NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

static void
rpc_sock_set_default_impl(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct rpc_impl_name p = { 0 };

	if (!nvt_jsonrpc_decode(req, NULL, params, g_impl_name_fields, 1, &p)) {
		return;
	}
	if (impl_or_fail(req, p.impl_name, false) != SOCK_RPC_NUM_IMPLS) {
		if (nvt_sock_set_default_impl(p.impl_name) == 0) {
			nvt_jsonrpc_send_result(req, NULL);
		} else {
			nvt_jsonrpc_send_field_error(req, "impl_name", "cannot use '%s'",
						     p.impl_name);
		}
	}
	nvt_json_free_strings(g_impl_name_fields, 1, &p);
}
NVT_RPC_REGISTER("sock_set_default_impl", rpc_sock_set_default_impl, NVT_RPC_STARTUP)

/*
 * SPDK's answer: {"impl_name": ...}. SPDK refuses the empty params object its
 * own rpc.py sends; it is accepted here, as no params at all.
 */
static void
rpc_sock_get_default_impl(struct nvt_jsonrpc_request *req, const json_t *params)
{
	const char *name;

	if (!nvt_jsonrpc_decode(req, NULL, params, NULL, 0, NULL)) {
		return;
	}
	name = nvt_sock_get_default_impl();
	if (name == NULL) {
		nvt_jsonrpc_send_error(
			req, -ENODEV,
			"sock_get_default_impl: no socket implementation is registered");
		return;
	}
	nvt_jsonrpc_send_result(req, json_pack("{s:s}", "impl_name", name));
}
NVT_RPC_REGISTER("sock_get_default_impl", rpc_sock_get_default_impl,
		 NVT_RPC_STARTUP | NVT_RPC_RUNTIME)

/* The default implementation, and the options of ssl where they are not the defaults. */
static void
sock_config_write(json_t *config)
{
	const char *name = nvt_sock_get_default_impl();
	struct nvt_sock_impl_opts o, def;

	if (name != NULL) {
		json_array_append_new(config,
				      json_pack("{s:s, s:{s:s}}", "method", "sock_set_default_impl",
						"params", "impl_name", name));
	}
	nvt_sock_impl_get_default_opts(&def, sizeof(def));
	if (nvt_sock_impl_get_opts("ssl", &o, sizeof(o)) == 0 &&
	    (o.tls_version != def.tls_version || o.enable_ktls != def.enable_ktls)) {
		json_array_append_new(config,
				      json_pack("{s:s, s:{s:s, s:i, s:b}}", "method",
						"sock_impl_set_options", "params", "impl_name",
						"ssl", "tls_version", (int)o.tls_version,
						"enable_ktls", o.enable_ktls));
	}
}

/*
 * save_config writes subsystems in registration order, and SPDK writes
 * "sock" before "bdev" and "nvmf" (which register from default-priority
 * constructors, or later): register from a constructor that runs before
 * those (priorities up to 100 are reserved to the toolchain).
 */
#define SOCK_RPC_CONFIG_PRIORITY 200

__attribute__((constructor(SOCK_RPC_CONFIG_PRIORITY))) static void
sock_rpc_register_config(void)
{
	nvt_config_register_subsystem("sock", sock_config_write);
}
