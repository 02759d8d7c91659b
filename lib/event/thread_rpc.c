/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's thread_get_pollers, thread_get_io_channels and
 * framework_get_scheduler, in SPDK's shapes.
 *
 * The first two visit every thread in turn (nvt_for_each_thread()): each
 * describes what it owns, on itself, so the pollers' counters stay plain
 * per-thread fields. Like SPDK's, they take no params (the empty object
 * SPDK's tools may send is taken as none).
 *
 * nvtcp places threads once, by cpumask, and never moves them to balance
 * load: that is SPDK's "static" scheduler, which framework_get_scheduler
 * reports as SPDK reports it (no governor).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "nvtcp/event.h"
#include "nvtcp/jsonrpc.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "event_rpc_internal.h"

/* SPDK's default scheduler period, in microseconds (one second). */
#define SCHEDULER_PERIOD_US 1000000

/* What every thread adds to; owned by the thread whose turn it is. */
struct threads_walk {
	struct nvt_jsonrpc_request *req;
	json_t *list;
	bool with_tick_rate; /* thread_get_pollers: as SPDK, with the tick rate */
};

static const char *const g_kind_lists[NVT_POLLER_NUM_KINDS] = {
	[NVT_POLLER_KIND_ACTIVE] = "active_pollers",
	[NVT_POLLER_KIND_TIMED] = "timed_pollers",
	[NVT_POLLER_KIND_PAUSED] = "paused_pollers",
};

static void
walk_done(void *arg)
{
	struct threads_walk *walk = arg;
	json_t *result = json_pack("{s:o}", "threads", walk->list);

	if (result != NULL && walk->with_tick_rate) {
		json_object_set_new(result, "tick_rate",
				    json_integer((json_int_t)nvt_get_ticks_hz()));
	}
	nvt_jsonrpc_send_result(walk->req, result);
	free(walk);
}

/* Visit every thread with \p fn, answering at the end; answers the error itself. */
static void
walk_start(struct nvt_jsonrpc_request *req, nvt_msg_fn fn, bool with_tick_rate, const char *method)
{
	struct threads_walk *walk = calloc(1, sizeof(*walk));
	int rc = -ENOMEM;

	if (walk != NULL) {
		*walk = (struct threads_walk){ .req = req,
					       .list = json_array(),
					       .with_tick_rate = with_tick_rate };
	}
	if (walk != NULL && walk->list != NULL) {
		rc = nvt_for_each_thread(fn, walk, walk_done);
	}
	if (rc != 0) {
		if (walk != NULL) {
			json_decref(walk->list);
			free(walk);
		}
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR, "%s: %s", method,
				       nvt_strerror(-rc));
	}
}

/* ---- thread_get_pollers ---- */

static void
poller_add(const struct nvt_poller_info *info, void *ctx)
{
	json_t *lists = ctx;
	json_t *obj;

	obj = json_pack("{s:s, s:I, s:s, s:I, s:I}", "name", info->name, "id", (json_int_t)info->id,
			"state", info->state, "run_count", (json_int_t)info->stats.run_count,
			"busy_count", (json_int_t)info->stats.busy_count);
	/* SPDK gives the period of timed pollers only. */
	if (obj != NULL && info->period_ticks != 0) {
		json_object_set_new(obj, "period_ticks",
				    json_integer((json_int_t)info->period_ticks));
	}
	json_array_append_new(json_object_get(lists, g_kind_lists[info->kind]), obj);
}

static void
thread_pollers_msg(void *arg)
{
	struct threads_walk *walk = arg;
	struct nvt_thread *thread = nvt_get_thread();
	json_t *obj;

	obj = json_pack("{s:s, s:I, s:[], s:[], s:[]}", "name", nvt_thread_get_name(thread), "id",
			(json_int_t)nvt_thread_get_id(thread), "active_pollers", "timed_pollers",
			"paused_pollers");
	if (obj != NULL) {
		nvt_thread_foreach_poller(poller_add, obj);
	}
	json_array_append_new(walk->list, obj);
}

static void
rpc_thread_get_pollers(struct nvt_jsonrpc_request *req, const json_t *params)
{
	if (rpc_no_params(req, params, "'thread_get_pollers' requires no arguments")) {
		walk_start(req, thread_pollers_msg, true, "thread_get_pollers");
	}
}
NVT_RPC_REGISTER("thread_get_pollers", rpc_thread_get_pollers, NVT_RPC_RUNTIME)

/* ---- thread_get_io_channels ---- */

static void
io_channel_add(const char *name, uint32_t ref, void *ctx)
{
	json_array_append_new(ctx, json_pack("{s:s, s:i}", "name", name, "ref", (int)ref));
}

static void
thread_channels_msg(void *arg)
{
	struct threads_walk *walk = arg;
	struct nvt_thread *thread = nvt_get_thread();
	json_t *channels = json_array();

	if (channels != NULL) {
		nvt_thread_foreach_io_channel(io_channel_add, channels);
	}
	json_array_append_new(walk->list,
			      json_pack("{s:s, s:I, s:o}", "name", nvt_thread_get_name(thread),
					"id", (json_int_t)nvt_thread_get_id(thread), "io_channels",
					channels));
}

static void
rpc_thread_get_io_channels(struct nvt_jsonrpc_request *req, const json_t *params)
{
	if (rpc_no_params(req, params, "'thread_get_io_channels' requires no arguments")) {
		walk_start(req, thread_channels_msg, false, "thread_get_io_channels");
	}
}
NVT_RPC_REGISTER("thread_get_io_channels", rpc_thread_get_io_channels, NVT_RPC_RUNTIME)

/* ---- framework_get_scheduler ---- */

static void
rpc_framework_get_scheduler(struct nvt_jsonrpc_request *req, const json_t *params)
{
	/* SPDK's refusal names its handler, not the method. */
	if (rpc_no_params(req, params, "'rpc_get_scheduler' requires no arguments")) {
		nvt_jsonrpc_send_result(req, json_pack("{s:s, s:I}", "scheduler_name", "static",
						       "scheduler_period",
						       (json_int_t)SCHEDULER_PERIOD_US));
	}
}
NVT_RPC_REGISTER("framework_get_scheduler", rpc_framework_get_scheduler,
		 NVT_RPC_STARTUP | NVT_RPC_RUNTIME)
