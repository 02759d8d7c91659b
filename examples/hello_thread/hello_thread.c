/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hello_thread: the framework in one page. One lightweight thread per core
 * of the mask, each placed by its cpumask; every second each says hello
 * from its timed poller with its reactor's busy/idle/sleep accounting.
 * Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvtcp/event.h"
#include "nvtcp/log.h"
#include "nvtcp/ticks.h"

struct hello {
	struct nvt_thread *thread;
	struct nvt_poller *poller;
	uint64_t count;
	/* The stop and its answer travel in here: a teardown no lack of memory can lose. */
	struct nvt_thread_msg stop_msg;
};

static struct hello *g_hellos;
static uint32_t g_nhellos;
static uint32_t g_running;

static double
pct(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

static int
hello_poll(void *arg)
{
	struct hello *h = arg;
	struct nvt_reactor_stats st;
	uint32_t core = nvt_env_get_current_core();
	uint64_t total;

	nvt_reactor_get_stats(core, &st);
	total = st.busy_tsc + st.idle_tsc + st.sleep_tsc;
	printf("%s on core %u: hello #%lu (reactor busy %.2f%%, polling idle %.2f%%, "
	       "asleep %.2f%%)\n",
	       nvt_thread_get_name(h->thread), core, ++h->count, pct(st.busy_tsc, total),
	       pct(st.idle_tsc, total), pct(st.sleep_tsc, total));
	fflush(stdout);
	return NVT_POLLER_BUSY;
}

static void
hello_start(void *arg)
{
	struct hello *h = arg;

	h->poller = nvt_poller_register(hello_poll, h, 1000 * 1000, "hello");
}

static void
hello_stopped(void *arg)
{
	(void)arg;
	if (--g_running == 0) {
		nvt_app_stop(0);
	}
}

static void
hello_stop(void *arg)
{
	struct hello *h = arg;

	nvt_poller_unregister(&h->poller);
	/* Free again: the stop's storage may carry the answer. */
	if (nvt_thread_send_msg_prealloc(nvt_app_get_thread(), &h->stop_msg, hello_stopped, NULL) !=
	    0) {
		NVT_ERRLOG("%s: the app thread is gone\n", nvt_thread_get_name(h->thread));
	}
}

static void
app_shutdown(void)
{
	uint32_t i;

	for (i = 0; i < g_nhellos; i++) {
		/* -EBUSY: a second Ctrl-C while the first stop is on its way. */
		if (nvt_thread_send_msg_prealloc(g_hellos[i].thread, &g_hellos[i].stop_msg,
						 hello_stop, &g_hellos[i]) == -EIO) {
			NVT_ERRLOG("%s has exited\n", nvt_thread_get_name(g_hellos[i].thread));
		}
	}
}

static void
app_start(void *arg)
{
	struct nvt_cpuset mask;
	char name[NVT_THREAD_NAME_LEN];
	uint32_t core, i = 0;

	(void)arg;
	g_nhellos = nvt_env_get_core_count();
	g_hellos = calloc(g_nhellos, sizeof(*g_hellos));
	if (g_hellos == NULL) {
		nvt_app_stop(-1);
		return;
	}
	NVT_ENV_FOREACH_CORE(core)
	{
		nvt_cpuset_zero(&mask);
		nvt_cpuset_set_cpu(&mask, core, true);
		snprintf(name, sizeof(name), "hello_%u", core);
		g_hellos[i].thread = nvt_thread_create(name, &mask);
		if (g_hellos[i].thread == NULL ||
		    nvt_thread_send_msg(g_hellos[i].thread, hello_start, &g_hellos[i]) != 0) {
			NVT_ERRLOG("cannot start thread %s\n", name);
			nvt_app_stop(-1);
			return;
		}
		i++;
	}
	g_running = g_nhellos;
	printf("hello_thread: %u threads started; Ctrl-C to stop\n", g_nhellos);
}

int
main(int argc, char **argv)
{
	struct nvt_app_opts opts;
	int rc;

	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "hello_thread";
	opts.shutdown_cb = app_shutdown;
	switch (nvt_app_parse_args(argc, argv, &opts, NULL, NULL, NULL, NULL)) {
	case NVT_APP_PARSE_ARGS_HELP:
		return 0;
	case NVT_APP_PARSE_ARGS_FAIL:
		return 2;
	default:
		break;
	}
	rc = nvt_app_start(&opts, app_start, NULL);
	nvt_app_fini();
	free(g_hellos);
	printf("hello_thread: stopped (rc %d)\n", rc);
	return rc == 0 ? 0 : 1;
}
