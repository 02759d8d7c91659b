/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * JSON-RPC 2.0 methods, server and JSON configuration (jansson).
 *
 * Components register methods by name, with SPDK's names and parameters
 * where they mean the same (bdev_malloc_create, nvmf_create_subsystem, ...).
 * The same handlers serve the Unix-socket server and the configuration file,
 * which has SPDK's format:
 *
 *     {"subsystems": [{"subsystem": "bdev",
 *                      "config": [{"method": "bdev_malloc_create",
 *                                  "params": {"name": "Malloc0", ...}}]}]}
 *
 * Handlers run on the app thread and must answer exactly once, now or later
 * (from the app thread), with nvt_jsonrpc_send_result() or
 * nvt_jsonrpc_send_error(). Every method is documented in doc/rpc.md.
 *
 * States: the RPC layer starts in NVT_RPC_STARTUP and moves to
 * NVT_RPC_RUNTIME once a configuration has run its start-up methods (see
 * nvt_config_load_json()), or when the application says so with
 * nvt_rpc_set_state(). A method whose state mask lacks the current state is
 * refused with NVT_JSONRPC_ERROR_INVALID_STATE.
 */
#ifndef NVTCP_JSONRPC_H
#define NVTCP_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_jsonrpc_request;

/* JSON-RPC 2.0 error codes. */
#define NVT_JSONRPC_ERROR_PARSE_ERROR	   -32700
#define NVT_JSONRPC_ERROR_INVALID_REQUEST  -32600
#define NVT_JSONRPC_ERROR_METHOD_NOT_FOUND -32601
#define NVT_JSONRPC_ERROR_INVALID_PARAMS   -32602
#define NVT_JSONRPC_ERROR_INTERNAL_ERROR   -32603
/** The method exists but is not allowed in the current state (SPDK's code). */
#define NVT_JSONRPC_ERROR_INVALID_STATE -1

/** When a method may be called. */
#define NVT_RPC_STARTUP 0x1 /**< while loading the configuration */
#define NVT_RPC_RUNTIME 0x2 /**< once the application runs */

/** Largest request the server accepts, in bytes; a larger one is refused. */
#define NVT_RPC_MAX_REQUEST_SIZE (4u * 1024 * 1024)

/**
 * A method handler; \p params is NULL when the request had none (or null),
 * and stays valid until the request is answered.
 */
typedef void (*nvt_rpc_method_fn)(struct nvt_jsonrpc_request *request, const json_t *params);

/**
 * Register a method (at load time; see NVT_RPC_REGISTER). \p method is
 * copied. A second registration of the same name is logged and ignored.
 *
 * \param state_mask NVT_RPC_STARTUP, NVT_RPC_RUNTIME or both.
 */
void nvt_rpc_register_method(const char *method, nvt_rpc_method_fn fn, uint32_t state_mask);

/** Register \p fn as method \p method from a constructor. */
#define NVT_RPC_REGISTER(method, fn, state_mask)                             \
	__attribute__((constructor)) static void nvt_rpc_register_##fn(void) \
	{                                                                    \
		nvt_rpc_register_method(method, fn, state_mask);             \
	}

/**
 * The application's start-up, run when framework_start_init arrives (an
 * application started in the manner of SPDK's --wait-for-rpc, which serves
 * RPC in NVT_RPC_STARTUP first). Called on the app thread with the state
 * already NVT_RPC_RUNTIME; it must call nvt_rpc_init_done() once, now or
 * later.
 */
typedef void (*nvt_rpc_init_fn)(void);

/**
 * Register the start-up of framework_start_init (NULL: none, and the method
 * fails). App thread.
 */
void nvt_rpc_set_init_fn(nvt_rpc_init_fn fn);

/**
 * The start-up is over: answer framework_start_init (true, or an error
 * naming \p rc) and every framework_wait_init waiting for it. Also called
 * with an error by an application that stops before the start-up ran, so
 * that no request is left waiting. App thread.
 */
void nvt_rpc_init_done(int rc);

/** The current state: NVT_RPC_STARTUP or NVT_RPC_RUNTIME. */
uint32_t nvt_rpc_get_state(void);

/**
 * Set the state. A program that serves RPC without loading a configuration
 * calls nvt_rpc_set_state(NVT_RPC_RUNTIME) once it is initialised.
 * App thread.
 */
void nvt_rpc_set_state(uint32_t state);

/**
 * Answer with \p result (reference stolen; NULL answers `true`). The request
 * is freed: do not touch it after this call. App thread.
 */
void nvt_jsonrpc_send_result(struct nvt_jsonrpc_request *request, json_t *result);

/**
 * Answer with an error; the message should name the method and the field.
 * The request is freed: do not touch it after this call. App thread.
 */
void nvt_jsonrpc_send_error(struct nvt_jsonrpc_request *request, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** The method name of a request (for messages); valid until it is answered. */
const char *nvt_jsonrpc_request_method(const struct nvt_jsonrpc_request *request);

/* ---- decoding parameters ---- */

enum nvt_json_type {
	NVT_JSON_STRING, /**< out: char * (strdup'ed; free with nvt_json_free_strings()) */
	NVT_JSON_BOOL,	 /**< out: bool */
	NVT_JSON_INT32,	 /**< out: int32_t */
	NVT_JSON_UINT16, /**< out: uint16_t */
	NVT_JSON_UINT32, /**< out: uint32_t */
	NVT_JSON_UINT64, /**< out: uint64_t (up to INT64_MAX: jansson's integers are signed) */
	NVT_JSON_ANY,	 /**< out: const json_t * (borrowed from the params) */
	/**
	 * A parameter SPDK's tools send that nvtcp does not apply: no output.
	 * With \p spdk_default set, only that value is accepted (SPDK's default,
	 * which describes what nvtcp does) and any other is refused, naming the
	 * field, the value and \p why. Without it, any value is accepted (the
	 * parameter only tunes something nvtcp does differently);
	 * nvt_jsonrpc_decode() then logs \p why once per process as a notice
	 * (one line for the fields that share the same \p why string).
	 * Declare with NVT_JSON_SPDK_DEFAULT() or NVT_JSON_SPDK_IGNORED().
	 */
	NVT_JSON_SPDK,
};

/** One field of a parameters object. */
struct nvt_json_field {
	const char *name;
	enum nvt_json_type type;
	size_t offset; /**< offsetof() the output in the caller's struct */
	bool optional;
	/** NVT_JSON_SPDK: JSON text of the only value accepted, or NULL for any. */
	const char *spdk_default;
	/** NVT_JSON_SPDK: what nvtcp does instead (refusals, notice); may be NULL. */
	const char *why;
};

/** A field accepted only at SPDK's default \p value (JSON text, e.g. "false"). */
#define NVT_JSON_SPDK_DEFAULT(name, value, why)                \
	{                                                      \
		(name), NVT_JSON_SPDK, 0, true, (value), (why) \
	}

/**
 * A field of a feature nvtcp lacks, accepted only absent (or null): any value
 * is refused with \p why.
 */
#define NVT_JSON_SPDK_UNSUPPORTED(name, why)                  \
	{                                                     \
		(name), NVT_JSON_SPDK, 0, true, "null", (why) \
	}

/** A field accepted at any value and not applied; \p why (or NULL) is logged once. */
#define NVT_JSON_SPDK_IGNORED(name, why)                    \
	{                                                   \
		(name), NVT_JSON_SPDK, 0, true, NULL, (why) \
	}

/**
 * Decode \p obj into \p out by \p fields. Unknown keys, missing required
 * fields, wrong types and out-of-range numbers fail with a message naming the
 * field ("field 'num_blocks': expected an unsigned integer") in \p err.
 * A NULL \p obj counts as an empty object. An optional field that is absent
 * or null leaves its output untouched, so set defaults before the call
 * (NVT_JSON_STRING outputs must start NULL: apply a default string after
 * decoding when the output is still NULL). Numbers must be JSON integers.
 *
 * \return 0, -EINVAL (\p err says why) or -ENOMEM. On failure \p out holds
 * no string decoded by this call.
 */
int nvt_json_decode_object(const json_t *obj, const struct nvt_json_field *fields, size_t nfields,
			   void *out, char *err, size_t errlen);

/** Free the NVT_JSON_STRING outputs of a decoded struct and NULL them. */
void nvt_json_free_strings(const struct nvt_json_field *fields, size_t nfields, void *out);

/**
 * The one wording of a refused value: "field 'F': V is not supported (WHY);
 * accepted: ACCEPTED" into \p err. \p value may be NULL ("this value"),
 * \p why and \p accepted may be NULL (left out).
 */
void nvt_json_format_unsupported(char *err, size_t errlen, const char *field, const json_t *value,
				 const char *accepted, const char *why);

/* ---- answering with errors about parameters ---- */

/**
 * Decode \p obj (the params, or an object inside them named \p what) by
 * \p fields into \p out; on failure answer -32602 with "METHOD: [WHAT: ]
 * REASON" and return false (the request is then answered: do not touch it).
 * On success log, once per process and reason, the notice of the
 * NVT_JSON_SPDK fields given that are accepted without being applied, and
 * return true. App thread.
 */
bool nvt_jsonrpc_decode(struct nvt_jsonrpc_request *request, const char *what, const json_t *obj,
			const struct nvt_json_field *fields, size_t nfields, void *out);

/**
 * Log "METHOD: FIELDS accepted for compatibility with SPDK and not applied:
 * WHY" as a notice, once per process for each reason \p why (told apart by
 * address: a string with static storage). \p fields names them ("'a', 'b'").
 * App thread.
 */
void nvt_jsonrpc_notice_once(struct nvt_jsonrpc_request *request, const char *fields,
			     const char *why);

/** Answer -32602 "METHOD: field 'FIELD': WHY..." (printf-style \p fmt). */
void nvt_jsonrpc_send_field_error(struct nvt_jsonrpc_request *request, const char *field,
				  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/**
 * Answer -32602 for a value nvtcp does not support, in the wording of
 * nvt_json_format_unsupported(), prefixed with the method.
 */
void nvt_jsonrpc_send_unsupported(struct nvt_jsonrpc_request *request, const char *field,
				  const json_t *value, const char *accepted, const char *why);

/* ---- server ---- */

/** Default path of the RPC socket, as SPDK's. */
#define NVT_RPC_DEFAULT_SOCK "/var/tmp/spdk.sock"

/**
 * Listen on the Unix socket \p path (app thread). Requests are served by a
 * poller of the calling thread, which sleeps on the sockets in interrupt
 * mode. A stale socket file (nobody accepts on it) is replaced.
 *
 * Each connection is served in order: a request runs once the previous one
 * of the same connection has been answered, and responses (one per request,
 * none for notifications) come back in request order, each followed by a
 * newline. A request that is not valid JSON gets a -32700 answer and is
 * skipped; the connection stays usable. A request above
 * NVT_RPC_MAX_REQUEST_SIZE gets a -32600 answer and the connection is closed.
 * Batches (JSON arrays) are refused with -32600.
 *
 * \return 0, or -errno: -EALREADY (a server runs), -EADDRINUSE (another
 * process serves \p path), -EEXIST (\p path is not a socket),
 * -ENAMETOOLONG, -EINVAL (not on an nvt_thread).
 */
int nvt_rpc_server_start(const char *path);

/**
 * Close the server and every client connection and remove the socket file;
 * app thread. Requests still running are answered into the void. The server
 * also stops by itself when its thread is asked to exit. No-op when no
 * server runs.
 */
void nvt_rpc_server_stop(void);

/**
 * Run one request given as JSON text, as the server would, and deliver the
 * response text (NUL-terminated, compact, freed after the call) to \p cb:
 * before nvt_rpc_call() returns when the handler answers at once, later
 * otherwise. A notification (no "id") gets \p cb(NULL, ctx) once handled.
 * App thread.
 */
void nvt_rpc_call(const char *request, void (*cb)(const char *response, void *ctx), void *ctx);

/* ---- configuration ---- */

/** Appends this component's {"method", "params"} objects to \p config (an array). */
typedef void (*nvt_config_write_fn)(json_t *config);

/**
 * Register a configuration subsystem ("bdev", "nvmf", ...) at load time;
 * save writes the subsystems in registration order. \p name is copied; a
 * second registration of a name is logged and ignored.
 */
void nvt_config_register_subsystem(const char *name, nvt_config_write_fn write_fn);

#define NVT_CONFIG_REGISTER_SUBSYSTEM(name, write_fn)                                 \
	__attribute__((constructor)) static void nvt_config_register_##write_fn(void) \
	{                                                                             \
		nvt_config_register_subsystem(name, write_fn);                        \
	}

/**
 * Called once a configuration is loaded: 0, or the first error (logged):
 * -EINVAL (bad document, unknown method, a method failed), -ENOMEM, or the
 * -errno of reading the file.
 */
typedef void (*nvt_config_load_cb)(int rc, void *ctx);

/**
 * Load a configuration file: run every method on the app thread, each after
 * the previous one has answered. As in SPDK, when the state is
 * NVT_RPC_STARTUP the entries whose methods are allowed at start-up run
 * first, in file order; then the state becomes NVT_RPC_RUNTIME and the other
 * entries run, in file order. In NVT_RPC_RUNTIME every entry runs in order
 * and a start-up-only method is an error.
 *
 * The whole document is checked before anything runs (shape, known methods).
 * The first failure stops the load and is logged with the subsystem, the
 * method, the entry (1-based, within its subsystem) and the reason:
 * "config: subsystem 'bdev', method 'bdev_malloc_create' (entry 2): field
 * 'num_blocks': ...". \p cb runs once, never before this call returns.
 * App thread.
 */
void nvt_config_load_file(const char *path, nvt_config_load_cb cb, void *ctx);

/** Same, from a JSON document (the embedded default, tests); \p config is not kept. */
void nvt_config_load_json(const json_t *config, nvt_config_load_cb cb, void *ctx);

/** The running configuration in the same format; caller owns the result. */
json_t *nvt_config_save(void);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_JSONRPC_H */
