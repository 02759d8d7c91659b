/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application framework: common options, start-up (core mask, thread
 * library, reactors, the app thread), signals and orderly stop.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "event_internal.h"

#define DEFAULT_REACTOR_MASK "0x1"
#define DEFAULT_IDLE_US	     1000
#define MAX_GETOPT_STR	     256
#define EXIT_POLL_US	     1000

enum {
	OPT_LOG_LEVEL = 0x1000,
	OPT_POLLING,
	OPT_IDLE_US,
};

static const struct option g_common_long_opts[] = {
	{ "cpumask", required_argument, NULL, 'm' },
	{ "logflag", required_argument, NULL, 'L' },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "polling", no_argument, NULL, OPT_POLLING },
	{ "idle-us", required_argument, NULL, OPT_IDLE_US },
	{ "config", required_argument, NULL, 'c' },
	{ "json", required_argument, NULL, 'c' },
	{ "rpc-socket", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
};
static const char g_common_getopt_str[] = "m:L:c:r:h";

static struct nvt_thread *g_app_thread;
static struct nvt_poller *g_signal_poller;
static struct nvt_poller *g_exit_poller;
static nvt_app_shutdown_cb g_shutdown_cb;
static volatile sig_atomic_t g_signal_received;
/* Written by the signal handler; lives as long as the app, unlike any thread. */
static int g_signal_efd = -1;
static _Atomic bool g_app_stopping;
static int g_app_rc;
static nvt_msg_fn g_start_fn;
static void *g_start_ctx;
static const char *g_app_name = "nvtcp";

void
nvt_app_opts_init(struct nvt_app_opts *opts, size_t opts_size)
{
	struct nvt_app_opts defaults = {
		.opts_size = opts_size,
		.name = "nvtcp",
		.reactor_mask = DEFAULT_REACTOR_MASK,
		.idle_us = DEFAULT_IDLE_US,
		.log_level = NVT_LOG_NOTICE,
	};

	memset(opts, 0, opts_size);
	memcpy(opts, &defaults, NVT_MIN(opts_size, sizeof(defaults)));
}

void
nvt_app_usage(void)
{
	printf(" -m, --cpumask MASK     cores to run reactors on: 0x3, 0-1 or [0,2-3] (default %s)\n"
	       " -L, --logflag FLAG     enable debug logs of a component (\"all\" for every one)\n"
	       "     --log-level LEVEL  error, warn, notice, info or debug (default notice)\n"
	       "     --polling          keep reactors polling when idle (default: sleep when idle)\n"
	       "     --idle-us US       idle time before a reactor sleeps (default %u)\n"
	       " -c, --config FILE      JSON configuration file\n"
	       " -r, --rpc-socket PATH  JSON-RPC listen socket\n"
	       " -h, --help             show this help\n",
	       DEFAULT_REACTOR_MASK, DEFAULT_IDLE_US);
}

static int
parse_common_opt(struct nvt_app_opts *opts, int ch, char *arg)
{
	enum nvt_log_level level;
	uint64_t val;

	switch (ch) {
	case 'm':
		opts->reactor_mask = arg;
		return 0;
	case 'L':
		if (nvt_log_set_flag(arg, true) != 0) {
			fprintf(stderr, "unknown log flag '%s'\n", arg);
			return -EINVAL;
		}
		opts->log_level = NVT_LOG_DEBUG;
		return 0;
	case OPT_LOG_LEVEL:
		level = nvt_log_level_from_str(arg);
		if ((int)level < 0) {
			fprintf(stderr, "unknown log level '%s'\n", arg);
			return -EINVAL;
		}
		opts->log_level = level;
		return 0;
	case OPT_POLLING:
		opts->polling = true;
		return 0;
	case OPT_IDLE_US:
		if (nvt_parse_u64(arg, 60 * 1000 * 1000, &val) != 0) {
			fprintf(stderr, "--idle-us wants microseconds up to 60000000, not '%s'\n",
				arg);
			return -EINVAL;
		}
		opts->idle_us = val;
		return 0;
	case 'c':
		opts->json_config_file = arg;
		return 0;
	case 'r':
		opts->rpc_addr = arg;
		return 0;
	}
	return -ENOENT;
}

static struct option *
merge_long_opts(const struct option *app_long_opts)
{
	size_t ncommon = NVT_COUNTOF(g_common_long_opts), napp = 0;
	struct option *all;

	while (app_long_opts != NULL && app_long_opts[napp].name != NULL) {
		napp++;
	}
	all = calloc(ncommon + napp + 1, sizeof(*all));
	if (all == NULL) {
		return NULL;
	}
	memcpy(all, g_common_long_opts, sizeof(g_common_long_opts));
	if (napp > 0) {
		memcpy(all + ncommon, app_long_opts, napp * sizeof(*all));
	}
	return all;
}

static void
print_help(const char *prog, void (*app_usage)(void))
{
	printf("usage: %s [options]\n\ncommon options:\n", prog);
	nvt_app_usage();
	if (app_usage != NULL) {
		printf("\n%s options:\n", prog);
		app_usage();
	}
}

enum nvt_app_parse_args_rvals
nvt_app_parse_args(int argc, char **argv, struct nvt_app_opts *opts, const char *app_getopt_str,
		   const struct option *app_long_opts, int (*app_parse)(int ch, char *arg),
		   void (*app_usage)(void))
{
	enum nvt_app_parse_args_rvals rv = NVT_APP_PARSE_ARGS_SUCCESS;
	char optstr[MAX_GETOPT_STR];
	struct option *long_opts;
	int ch, rc;

	snprintf(optstr, sizeof(optstr), "%s%s", g_common_getopt_str,
		 app_getopt_str ? app_getopt_str : "");
	long_opts = merge_long_opts(app_long_opts);
	if (long_opts == NULL) {
		return NVT_APP_PARSE_ARGS_FAIL;
	}
	optind = 1;
	while (rv == NVT_APP_PARSE_ARGS_SUCCESS &&
	       (ch = getopt_long(argc, argv, optstr, long_opts, NULL)) != -1) {
		if (ch == 'h') {
			print_help(argv[0], app_usage);
			rv = NVT_APP_PARSE_ARGS_HELP;
			break;
		}
		if (ch == '?') {
			rv = NVT_APP_PARSE_ARGS_FAIL;
			break;
		}
		rc = parse_common_opt(opts, ch, optarg);
		if (rc == -ENOENT) {
			rc = app_parse != NULL ? app_parse(ch, optarg) : -EINVAL;
		}
		if (rc != 0) {
			rv = NVT_APP_PARSE_ARGS_FAIL;
		}
	}
	if (rv == NVT_APP_PARSE_ARGS_SUCCESS && optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", argv[0],
			argv[optind]);
		rv = NVT_APP_PARSE_ARGS_FAIL;
	}
	free(long_opts);
	return rv;
}

/* ---- start and stop ---- */

static int
app_parse_mask(const char *str, struct nvt_cpuset *mask)
{
	struct nvt_cpuset allowed;
	cpu_set_t cpus;
	char list[256];
	int32_t core;
	int i;

	if (nvt_cpuset_parse(mask, str) != 0 || nvt_cpuset_count(mask) == 0) {
		NVT_ERRLOG("invalid core mask '%s' (examples: 0x3, 0-1, [0,2])\n", str);
		return -EINVAL;
	}
	if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) {
		return -errno;
	}
	nvt_cpuset_zero(&allowed);
	for (i = 0; i < CPU_SETSIZE && i < NVT_CPUSET_SIZE; i++) {
		nvt_cpuset_set_cpu(&allowed, (uint32_t)i, CPU_ISSET(i, &cpus));
	}
	NVT_CPUSET_FOREACH(core, mask)
	{
		if (!nvt_cpuset_get_cpu(&allowed, (uint32_t)core)) {
			nvt_cpuset_fmt_list(&allowed, list, sizeof(list));
			NVT_ERRLOG("core %d of mask '%s' is not available (this process may run "
				   "on cores %s)\n",
				   core, str, list);
			return -EINVAL;
		}
	}
	return 0;
}

static int
app_signal_poll(void *arg)
{
	(void)arg;
	uint64_t val;

	if (!g_signal_received) {
		return NVT_POLLER_IDLE;
	}
	g_signal_received = 0;
	if (read(g_signal_efd, &val, sizeof(val)) < 0 && errno != EAGAIN) {
		NVT_ERRLOG("signal eventfd read: %s\n", nvt_strerror(errno));
	}
	NVT_NOTICELOG("%s: signal received, shutting down\n", g_app_name);
	nvt_app_start_shutdown();
	return NVT_POLLER_BUSY;
}

static void
app_start_msg(void *arg)
{
	(void)arg;
	g_signal_poller = nvt_poller_register(app_signal_poll, NULL, 0, "app_signal");
	if (nvt_thread_add_wakeup_fd(g_signal_efd, EPOLLIN) != 0) {
		NVT_ERRLOG("cannot watch the signal eventfd; signals wait for other work\n");
	}
	g_start_fn(g_start_ctx);
}

/*
 * The app thread exits last, so the other threads may still message it
 * (nvt_app_get_thread()) while they exit. Timed, to wake a sleeping reactor.
 */
static int
app_exit_poll(void *arg)
{
	(void)arg;
	if (nvt_thread_get_count() > 1) {
		return NVT_POLLER_IDLE;
	}
	nvt_poller_unregister(&g_exit_poller);
	return NVT_POLLER_BUSY;
}

void
app_thread_exiting(struct nvt_thread *thread)
{
	if (thread == g_app_thread) {
		nvt_thread_del_wakeup_fd(g_signal_efd);
		nvt_poller_unregister(&g_signal_poller);
		g_exit_poller = nvt_poller_register(app_exit_poll, NULL, EXIT_POLL_US, "app_exit");
	}
}

static void
app_signal_handler(int signo)
{
	uint64_t one = 1;
	int saved = errno;

	(void)signo;
	g_signal_received = 1;
	/* Async-signal-safe: a bare write to an fd that outlives every thread. */
	if (write(g_signal_efd, &one, sizeof(one)) < 0) {
		errno = saved;
	}
}

static void
app_set_signals(bool install)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = install ? app_signal_handler : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A peer that resets a socket must not kill the process. */
	sa.sa_handler = install ? SIG_IGN : SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
}

static int
app_create_thread(const struct nvt_cpuset *mask)
{
	struct nvt_cpuset first;

	nvt_cpuset_zero(&first);
	nvt_cpuset_set_cpu(&first, (uint32_t)nvt_cpuset_next(mask, -1), true);
	g_app_thread = nvt_thread_create("app_thread", &first);
	if (g_app_thread == NULL) {
		return -ENOMEM;
	}
	return nvt_thread_send_msg(g_app_thread, app_start_msg, NULL);
}

static int
app_init(const struct nvt_app_opts *opts, struct nvt_cpuset *mask)
{
	struct reactor_opts ropts = {
		.interrupt_mode = !opts->polling,
		.idle_us = opts->idle_us,
	};
	int rc;

	nvt_log_set_level((enum nvt_log_level)opts->log_level);
	rc = app_parse_mask(opts->reactor_mask ? opts->reactor_mask : DEFAULT_REACTOR_MASK, mask);
	if (rc != 0) {
		return rc;
	}
	rc = nvt_thread_lib_init(reactor_thread_op, reactor_thread_ctx_size());
	if (rc != 0) {
		NVT_ERRLOG("thread library already initialised\n");
		return rc;
	}
	rc = reactors_init(mask, &ropts);
	if (rc != 0) {
		nvt_thread_lib_fini();
	}
	return rc;
}

int
nvt_app_start(const struct nvt_app_opts *opts, nvt_msg_fn start_fn, void *ctx)
{
	struct nvt_cpuset mask;
	char maskstr[NVT_CPUSET_STR_LEN];
	int rc;

	rc = app_init(opts, &mask);
	if (rc != 0) {
		return rc;
	}
	g_app_name = opts->name ? opts->name : "nvtcp";
	g_shutdown_cb = opts->shutdown_cb;
	g_start_fn = start_fn;
	g_start_ctx = ctx;
	g_app_rc = 0;
	g_signal_received = 0;
	atomic_store(&g_app_stopping, false);
	g_signal_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g_signal_efd < 0) {
		rc = -errno;
		reactors_fini();
		nvt_thread_lib_fini();
		return rc;
	}
	app_set_signals(true);
	rc = app_create_thread(&mask);
	if (rc == 0) {
		NVT_NOTICELOG("%s: %u reactor(s) on cores %s, %s mode\n", g_app_name,
			      nvt_cpuset_count(&mask),
			      nvt_cpuset_fmt(&mask, maskstr, sizeof(maskstr)),
			      opts->polling ? "polling" : "interrupt (sleep when idle)");
	} else {
		NVT_ERRLOG("%s: cannot create the app thread: %s\n", g_app_name, nvt_strerror(rc));
		nvt_app_stop(rc);
	}
	reactors_start();
	app_set_signals(false);
	close(g_signal_efd);
	g_signal_efd = -1;
	g_app_thread = NULL;
	reactors_fini();
	nvt_thread_lib_fini();
	return g_app_rc;
}

void
nvt_app_stop(int rc)
{
	if (atomic_exchange(&g_app_stopping, true)) {
		return;
	}
	g_app_rc = rc;
	reactors_stop();
}

static void
app_shutdown_msg(void *arg)
{
	(void)arg;
	if (g_shutdown_cb != NULL) {
		g_shutdown_cb();
	} else {
		nvt_app_stop(0);
	}
}

void
nvt_app_start_shutdown(void)
{
	if (g_app_thread == NULL) {
		return;
	}
	if (nvt_get_thread() == g_app_thread) {
		app_shutdown_msg(NULL);
		return;
	}
	if (nvt_thread_send_msg(g_app_thread, app_shutdown_msg, NULL) != 0) {
		nvt_app_stop(-ENOMEM);
	}
}

void
nvt_app_fini(void)
{
	nvt_log_set_sink(NULL, NULL);
}

struct nvt_thread *
nvt_app_get_thread(void)
{
	return g_app_thread;
}

bool
nvt_app_is_stopping(void)
{
	return atomic_load(&g_app_stopping);
}
