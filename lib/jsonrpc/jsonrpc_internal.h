/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the JSON-RPC library: the method registry and dispatcher
 * (rpc.c), the built-in methods (builtin.c), the socket server (server.c)
 * and configuration load/save (config.c).
 */
#ifndef NVT_JSONRPC_INTERNAL_H
#define NVT_JSONRPC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/jsonrpc.h"

/*
 * Receives the response of one request (reference passed on). \p notification
 * is true when the request had no id: the server then sends nothing, the
 * configuration loader still reads the result.
 */
typedef void (*rpc_done_cb)(json_t *response, bool notification, void *ctx);

/*
 * Validate and run one request (reference to \p request stolen). \p done runs
 * exactly once, before this returns when the answer is immediate.
 */
void rpc_dispatch(json_t *request, rpc_done_cb done, void *ctx);

/* A complete error response; \p id may be NULL (answered as null). */
json_t *rpc_error_response(const json_t *id, int code, const char *msg);

/* The state mask of a registered method, or 0 when there is no such method. */
uint32_t rpc_method_state_mask(const char *method);

/* Call \p fn for each registered method, in registration order. */
void rpc_foreach_method(void (*fn)(const char *name, uint32_t state_mask, bool alias, void *ctx),
			void *ctx);

/* Register an alias; only rpc_get_methods' include_aliases tells them apart. */
void rpc_register_alias(const char *alias, nvt_rpc_method_fn fn, uint32_t state_mask);

/* Register the built-in methods (called once by the registry). */
void rpc_builtin_register(void);

/* Call \p fn for each registered configuration subsystem, in registration order. */
void config_foreach_subsystem(void (*fn)(const char *name, nvt_config_write_fn write_fn, void *ctx),
			      void *ctx);

/* The configuration of one subsystem (a new array), or NULL when unknown. */
json_t *config_save_subsystem(const char *name);

#endif /* NVT_JSONRPC_INTERNAL_H */
