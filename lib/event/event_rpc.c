/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK's framework_get_reactors and thread_get_stats, in SPDK's shapes, so
 * that a tool reads how busy nvtcpd's cores and threads are as it reads
 * SPDK's nvmf_tgt.
 *
 * framework_get_reactors sends an event to every reactor at once: each one
 * describes itself there, because its thread list and what its threads own
 * are only safe to read on it, and reports to the requesting thread, which
 * answers once all have. thread_get_stats visits every thread in turn
 * (nvt_for_each_thread()), each describing itself, as SPDK does.
 *
 * Both take no params, as in SPDK (whose refusal they answer); the empty
 * object SPDK's tools may send is taken as none, as everywhere in nvtcp.
 *
 * Registered from constructors, in a library of its own that the daemon
 * links whole: lib/event itself does not depend on the RPC layer.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/jsonrpc.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/ticks.h"
#include "event_internal.h"
#include "event_rpc_internal.h"

/* ---- CPU time the kernel counts ---- */

/* A core's time from /proc/stat, in clock ticks (USER_HZ). */
struct cpu_times {
	uint64_t usr;
	uint64_t sys;
	uint64_t irq; /* hard and soft interrupts, as SPDK sums them */
};

/*
 * Each core's times when the process started: SPDK reports them since its
 * start. Written by the constructor, before any other thread exists.
 */
static struct cpu_times g_cpu_start[NVT_CPUSET_SIZE];

/* A "cpuN user nice system idle iowait irq softirq ..." line; false for others. */
static bool
cpu_times_parse(const char *line, uint32_t *cpu, struct cpu_times *t)
{
	uint64_t user, nice, system, idle, iowait, irq, softirq;

	/* "cpu " (all cores) would read as a core numbered by its first field. */
	if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') {
		return false;
	}
	if (sscanf(line + 3,
		   "%" SCNu32 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64,
		   cpu, &user, &nice, &system, &idle, &iowait, &irq, &softirq) != 8) {
		return false;
	}
	/* SPDK leaves nice time out of usr. */
	*t = (struct cpu_times){ .usr = user, .sys = system, .irq = irq + softirq };
	return true;
}

/*
 * Call visit for each core line of /proc/stat until it returns true.
 * 0, or -errno when /proc/stat cannot be read.
 */
static int
cpu_times_foreach(bool (*visit)(uint32_t cpu, const struct cpu_times *t, void *ctx), void *ctx)
{
	struct cpu_times t;
	char line[512];
	uint32_t cpu;
	FILE *f;

	f = fopen("/proc/stat", "re");
	if (f == NULL) {
		return -errno;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (cpu_times_parse(line, &cpu, &t) && visit(cpu, &t, ctx)) {
			break;
		}
	}
	fclose(f);
	return 0;
}

static bool
cpu_times_keep_start(uint32_t cpu, const struct cpu_times *t, void *ctx)
{
	(void)ctx;
	if (cpu < NVT_CPUSET_SIZE) {
		g_cpu_start[cpu] = *t;
	}
	return false;
}

__attribute__((constructor)) static void
cpu_times_init(void)
{
	/* Without /proc/stat the times stay 0, and so do the answers, as in SPDK. */
	cpu_times_foreach(cpu_times_keep_start, NULL);
}

struct cpu_times_query {
	uint32_t cpu;
	struct cpu_times *out;
};

static bool
cpu_times_match(uint32_t cpu, const struct cpu_times *t, void *ctx)
{
	struct cpu_times_query *q = ctx;
	const struct cpu_times *start = &g_cpu_start[q->cpu];

	if (cpu != q->cpu) {
		return false;
	}
	/* Counters only grow; the guard keeps a core that came online later at 0. */
	q->out->usr = t->usr >= start->usr ? t->usr - start->usr : 0;
	q->out->sys = t->sys >= start->sys ? t->sys - start->sys : 0;
	q->out->irq = t->irq >= start->irq ? t->irq - start->irq : 0;
	return true;
}

/* Core \p cpu's times since the process started; zeroes when unknown. */
static void
cpu_times_since_start(uint32_t cpu, struct cpu_times *out)
{
	struct cpu_times_query q = { .cpu = cpu, .out = out };

	*out = (struct cpu_times){ 0 };
	if (cpu < NVT_CPUSET_SIZE) {
		cpu_times_foreach(cpu_times_match, &q);
	}
}

/* utime and stime of this process's OS thread \p tid, in clock ticks; 0 or -errno. */
static int
task_times_read(pid_t tid, uint64_t *usr, uint64_t *sys)
{
	char path[64], buf[1024];
	const char *fields;
	FILE *f;
	bool got;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "re");
	if (f == NULL) {
		return -errno;
	}
	got = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	/* The name, in parentheses, may hold spaces and parentheses: fields follow the last ')'. */
	fields = got ? strrchr(buf, ')') : NULL;
	/* State and the ten fields after it, then utime and stime (proc(5) fields 14 and 15). */
	if (fields == NULL ||
	    sscanf(fields + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %" SCNu64 " %" SCNu64,
		   usr, sys) != 2) {
		return -EINVAL;
	}
	return 0;
}

/* ---- shared ---- */

/* SPDK refuses any params; the empty object counts as none. False when answered. */
bool
rpc_no_params(struct nvt_jsonrpc_request *req, const json_t *params, const char *spdk_refusal)
{
	if (params == NULL || (json_is_object(params) && json_object_size(params) == 0)) {
		return true;
	}
	nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INVALID_PARAMS, "%s", spdk_refusal);
	return false;
}

/* The cores \p thread may run on, as SPDK prints them: hex without "0x", within the app's. */
const char *
thread_cpumask_fmt(const struct nvt_thread *thread, char *buf, size_t len)
{
	struct nvt_cpuset mask = *nvt_env_get_core_mask();

	nvt_cpuset_and(&mask, nvt_thread_get_cpumask(thread));
	nvt_cpuset_fmt(&mask, buf, len);
	/* nvt_cpuset_fmt() always starts with "0x". */
	return buf + 2;
}

/* ---- framework_get_reactors ---- */

/* One reactor's report, written by that reactor only. */
struct reactor_report {
	json_t *obj;
	struct nvt_thread_msg msg; /* its return to the requesting thread */
};

struct reactors_ctx {
	struct nvt_jsonrpc_request *req;
	struct nvt_thread *thread; /* the requesting thread, where the answer is sent */
	uint64_t now;		   /* tick of the request: threads' elapsed time ends there */
	uint32_t left;		   /* reports awaited, +1 while asking; requesting thread only */
	uint32_t count;
	/* One per core of the mask, in core order. */
	struct reactor_report reactors[];
};

struct lw_threads_ctx {
	json_t *list;
	uint64_t now;
};

static void
lw_thread_add(struct nvt_thread *thread, uint64_t create_tsc, void *arg)
{
	struct lw_threads_ctx *lw = arg;
	char mask[NVT_CPUSET_STR_LEN];
	uint64_t elapsed = lw->now > create_tsc ? lw->now - create_tsc : 0;

	json_array_append_new(lw->list,
			      json_pack("{s:s, s:I, s:s, s:I}", "name", nvt_thread_get_name(thread),
					"id", (json_int_t)nvt_thread_get_id(thread), "cpumask",
					thread_cpumask_fmt(thread, mask, sizeof(mask)), "elapsed",
					(json_int_t)elapsed));
}

/* The NUMA node of the calling reactor's core (it is pinned there); -1 when unknown. */
static int
reactor_numa_id(void)
{
	unsigned int cpu, node;

	return getcpu(&cpu, &node) == 0 ? (int)node : -1;
}

/* nvtcp's own fields: sleeps, and the OS thread's CPU time as the kernel counts it. */
static void
reactor_add_extras(json_t *obj, const struct nvt_reactor_stats *st, pid_t tid)
{
	uint64_t usr = 0, sys = 0;

	task_times_read(tid, &usr, &sys);
	json_object_set_new(obj, "sleep", json_integer((json_int_t)st->sleep_tsc));
	json_object_set_new(obj, "sleeps", json_integer((json_int_t)st->sleep_count));
	json_object_set_new(obj, "tid_usr", json_integer((json_int_t)usr));
	json_object_set_new(obj, "tid_sys", json_integer((json_int_t)sys));
}

/* The calling reactor, in SPDK's fields and then nvtcp's; NULL when out of memory. */
static json_t *
reactor_describe(uint64_t now)
{
	struct lw_threads_ctx lw = { .list = json_array(), .now = now };
	uint32_t lcore = nvt_env_get_current_core();
	struct nvt_reactor_stats st = { 0 };
	struct cpu_times cpu;
	pid_t tid = gettid();
	json_t *obj;

	nvt_reactor_get_stats(lcore, &st);
	cpu_times_since_start(lcore, &cpu);
	if (lw.list != NULL) {
		reactor_foreach_thread(lw_thread_add, &lw);
	}
	/* Time asleep in interrupt mode is idle time, so busy + idle spans its life. */
	obj = json_pack("{s:I, s:i, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:o}", "lcore",
			(json_int_t)lcore, "numa_id", reactor_numa_id(), "tid", (json_int_t)tid,
			"busy", (json_int_t)st.busy_tsc, "idle",
			(json_int_t)(st.idle_tsc + st.sleep_tsc), "in_interrupt", st.interrupt_mode,
			"irq", (json_int_t)cpu.irq, "sys", (json_int_t)cpu.sys, "usr",
			(json_int_t)cpu.usr, "lw_threads", lw.list);
	if (obj != NULL) {
		reactor_add_extras(obj, &st, tid);
	}
	return obj;
}

static void
reactors_answer(struct reactors_ctx *ctx)
{
	json_t *list = json_array();
	bool complete = true;
	uint32_t i;

	for (i = 0; i < ctx->count; i++) {
		/* A reactor that could not be asked, or could not answer, left its slot NULL. */
		if (ctx->reactors[i].obj == NULL ||
		    json_array_append_new(list, ctx->reactors[i].obj) != 0) {
			complete = false;
		}
	}
	if (complete) {
		nvt_jsonrpc_send_result(ctx->req, json_pack("{s:I, s:i, s:o}", "tick_rate",
							    (json_int_t)nvt_get_ticks_hz(), "pid",
							    (int)getpid(), "reactors", list));
	} else {
		json_decref(list);
		nvt_jsonrpc_send_error(ctx->req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "framework_get_reactors: out of memory");
	}
	free(ctx);
}

static void
reactors_report_done(void *arg)
{
	struct reactors_ctx *ctx = arg;

	if (--ctx->left == 0) {
		reactors_answer(ctx);
	}
}

static void
reactor_report_event(void *arg1, void *arg2)
{
	struct reactors_ctx *ctx = arg1;
	uint32_t slot = (uint32_t)(uintptr_t)arg2;

	ctx->reactors[slot].obj = reactor_describe(ctx->now);
	/* The message orders the slot's write before the requesting thread reads it. */
	if (nvt_thread_send_msg_prealloc(ctx->thread, &ctx->reactors[slot].msg,
					 reactors_report_done, ctx) != 0) {
		NVT_ERRLOG("framework_get_reactors: reactor %u cannot report (thread %s exits)\n",
			   nvt_env_get_current_core(), nvt_thread_get_name(ctx->thread));
	}
}

static void
reactors_ask(struct reactors_ctx *ctx, uint32_t core, uint32_t slot)
{
	struct nvt_event *event;

	event = nvt_event_allocate(core, reactor_report_event, ctx, (void *)(uintptr_t)slot);
	if (event == NULL) {
		NVT_ERRLOG("framework_get_reactors: cannot ask reactor %u: out of memory\n", core);
		return;
	}
	ctx->left++;
	nvt_event_call(event);
}

static void
rpc_framework_get_reactors(struct nvt_jsonrpc_request *req, const json_t *params)
{
	uint32_t core, slot = 0, count = nvt_env_get_core_count();
	struct reactors_ctx *ctx;

	if (!rpc_no_params(req, params, "`framework_get_reactors` requires no arguments")) {
		return;
	}
	ctx = calloc(1, sizeof(*ctx) + count * sizeof(ctx->reactors[0]));
	if (ctx == NULL) {
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "framework_get_reactors: out of memory");
		return;
	}
	*ctx = (struct reactors_ctx){
		.req = req,
		.thread = nvt_get_thread(),
		.now = nvt_get_ticks(),
		.count = count,
		/* Held until every reactor is asked, so no early report can answer. */
		.left = 1,
	};
	NVT_ENV_FOREACH_CORE(core)
	{
		reactors_ask(ctx, core, slot++);
	}
	reactors_report_done(ctx);
}
NVT_RPC_REGISTER("framework_get_reactors", rpc_framework_get_reactors, NVT_RPC_RUNTIME)

/* ---- thread_get_stats ---- */

struct threads_ctx {
	struct nvt_jsonrpc_request *req;
	json_t *list; /* appended to by each thread in turn */
};

static void
thread_report_msg(void *arg)
{
	struct threads_ctx *ctx = arg;
	struct nvt_thread *thread = nvt_get_thread();
	uint32_t pollers[NVT_POLLER_NUM_KINDS];
	char mask[NVT_CPUSET_STR_LEN];
	struct nvt_thread_stats st;

	nvt_thread_get_stats(thread, &st);
	nvt_thread_get_poller_counts(pollers);
	json_array_append_new(
		ctx->list,
		json_pack("{s:s, s:I, s:s, s:I, s:I, s:i, s:i, s:i}", "name",
			  nvt_thread_get_name(thread), "id", (json_int_t)nvt_thread_get_id(thread),
			  "cpumask", thread_cpumask_fmt(thread, mask, sizeof(mask)), "busy",
			  (json_int_t)st.busy_tsc, "idle", (json_int_t)st.idle_tsc,
			  "active_pollers_count", (int)pollers[NVT_POLLER_KIND_ACTIVE],
			  "timed_pollers_count", (int)pollers[NVT_POLLER_KIND_TIMED],
			  "paused_pollers_count", (int)pollers[NVT_POLLER_KIND_PAUSED]));
}

static void
threads_done(void *arg)
{
	struct threads_ctx *ctx = arg;

	nvt_jsonrpc_send_result(ctx->req,
				json_pack("{s:I, s:o}", "tick_rate", (json_int_t)nvt_get_ticks_hz(),
					  "threads", ctx->list));
	free(ctx);
}

static void
rpc_thread_get_stats(struct nvt_jsonrpc_request *req, const json_t *params)
{
	struct threads_ctx *ctx;
	int rc = -ENOMEM;

	if (!rpc_no_params(req, params, "'thread_get_stats' requires no arguments")) {
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx != NULL) {
		ctx->req = req;
		ctx->list = json_array();
	}
	if (ctx != NULL && ctx->list != NULL) {
		rc = nvt_for_each_thread(thread_report_msg, ctx, threads_done);
	}
	if (rc != 0) {
		if (ctx != NULL) {
			json_decref(ctx->list);
			free(ctx);
		}
		nvt_jsonrpc_send_error(req, NVT_JSONRPC_ERROR_INTERNAL_ERROR,
				       "thread_get_stats: %s", nvt_strerror(-rc));
	}
}
NVT_RPC_REGISTER("thread_get_stats", rpc_thread_get_stats, NVT_RPC_RUNTIME)
