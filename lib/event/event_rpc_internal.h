/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the RPC files of lib/event (app thread, in RPC handlers). */
#ifndef NVT_EVENT_RPC_INTERNAL_H
#define NVT_EVENT_RPC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "nvtcp/jsonrpc.h"
#include "nvtcp/thread.h"

/*
 * SPDK refuses any params for its stats methods; the empty object counts as
 * none. False when \p req was answered with \p spdk_refusal.
 */
bool rpc_no_params(struct nvt_jsonrpc_request *req, const json_t *params, const char *spdk_refusal);

/* The cores \p thread may run on, as SPDK prints them (hex without "0x"); points into \p buf. */
const char *thread_cpumask_fmt(const struct nvt_thread *thread, char *buf, size_t len);

#endif /* NVT_EVENT_RPC_INTERNAL_H */
