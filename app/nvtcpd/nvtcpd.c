/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvtcpd: the NVMe-over-TCP target daemon.
 *
 * Start: load the configuration (-c FILE in SPDK's JSON format, or the
 * embedded default: a 1 GiB RAM namespace on 127.0.0.1:4420), make sure the
 * target exists, start the RPC server (on -r PATH, by default SPDK's
 * /var/tmp/spdk.sock, so SPDK's rpc.py and `nvtcp` need no option), print
 * what a Linux host types to use it. With --wait-for-rpc (SPDK's option) it serves RPC
 * in the start-up state first, with no configuration, and does the rest once
 * framework_start_init arrives. SIGINT/SIGTERM: stop the RPC server, stop
 * listening, disconnect every host, destroy poll groups, close bdevs, exit 0.
 * A configuration error stops the daemon the same way, with exit status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nvtcp/bdev.h"
#include "nvtcp/event.h"
#include "nvtcp/jsonrpc.h"
#include "nvtcp/keyring.h"
#include "nvtcp/log.h"
#include "nvtcp/nvmf.h"
#include "nvtcp/string.h"
#include "default_config.h"
#include "metrics.h"

enum daemon_state {
	DAEMON_STARTING = 0, /* loading the configuration, creating the target */
	DAEMON_WAITING,	     /* --wait-for-rpc: serving start-up RPCs until framework_start_init */
	DAEMON_RUNNING,
	DAEMON_STOPPING,
};

enum {
	OPT_WAIT_FOR_RPC = 0x2000,
	OPT_DISK,
	OPT_METRICS,
};

static const struct option g_daemon_long_opts[] = {
	{ "wait-for-rpc", no_argument, NULL, OPT_WAIT_FOR_RPC },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ NULL, 0, NULL, 0 },
};

static struct nvt_app_opts g_opts;
static bool g_wait_for_rpc;
static struct nvtcpd_disk g_disks[NVTCPD_MAX_DISKS];
static size_t g_num_disks;
static enum daemon_state g_state;
static bool g_shutdown_pending;
static int g_exit_rc;

static void daemon_shutdown(void);

/* ---- shutdown ---- */

static void
bdev_fini_done(void *ctx, int status)
{
	(void)ctx;
	if (status != 0) {
		NVT_ERRLOG("nvtcpd: closing bdevs: %s\n", nvt_strerror(-status));
	}
	nvt_app_stop(g_exit_rc);
}

static void
tgt_fini_done(void *ctx, int status)
{
	(void)ctx;
	(void)status;
	/* The target has put the keys its hosts held: this frees them all. */
	nvt_keyring_clear();
	nvt_bdev_fini(bdev_fini_done, NULL);
}

static void
daemon_shutdown(void)
{
	if (g_state == DAEMON_STARTING) {
		/* Finish (or fail) the configuration first; the load cannot be cut short. */
		g_shutdown_pending = true;
		return;
	}
	if (g_state == DAEMON_STOPPING) {
		return;
	}
	if (g_state == DAEMON_WAITING) {
		/* framework_wait_init callers get an answer, not silence. */
		nvt_rpc_init_done(-ECANCELED);
	}
	g_state = DAEMON_STOPPING;
	NVT_NOTICELOG("nvtcpd: shutting down\n");
	metrics_stop();
	nvt_rpc_server_stop();
	nvt_bdev_shutdown_begin();
	nvt_nvmf_tgt_fini(tgt_fini_done, NULL);
}

static void
daemon_fail(int rc)
{
	g_exit_rc = rc != 0 ? rc : 1;
	g_state = DAEMON_RUNNING;
	daemon_shutdown();
}

/* ---- start ---- */

#define BANNER_MAX_ADDRS 32

static bool
trid_in(const struct nvt_nvmf_trid *trid, const struct nvt_nvmf_trid *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (nvt_nvmf_trid_equal(trid, &list[i])) {
			return true;
		}
	}
	return false;
}

/* Each listen address once, though several subsystems may share it. */
static void
print_addresses(void)
{
	struct nvt_nvmf_trid seen[BANNER_MAX_ADDRS], trids[8];
	struct nvt_nvmf_subsystem *s;
	size_t n, i, nseen = 0;

	for (s = nvt_nvmf_subsystem_first(); s != NULL; s = nvt_nvmf_subsystem_next(s)) {
		n = nvt_nvmf_subsystem_get_listeners(s, trids, 8);
		for (i = 0; i < n && i < 8; i++) {
			if (trid_in(&trids[i], seen, nseen)) {
				continue;
			}
			if (nseen < BANNER_MAX_ADDRS) {
				seen[nseen++] = trids[i];
			}
			printf("nvtcpd: listening on %s:%s\n", trids[i].traddr, trids[i].trsvcid);
		}
	}
}

static void
print_banner(void)
{
	struct nvt_nvmf_subsystem *s;
	struct nvt_nvmf_trid trids[1];
	bool discover_printed = false;

	if (g_wait_for_rpc) {
		/* The configuration arrives over RPC, listeners after this point. */
		printf("nvtcpd: started by framework_start_init; serving RPC on %s\n",
		       g_opts.rpc_addr);
		fflush(stdout);
		return;
	}
	print_addresses();
	for (s = nvt_nvmf_subsystem_first(); s != NULL; s = nvt_nvmf_subsystem_next(s)) {
		if (nvt_nvmf_subsystem_get_listeners(s, trids, 1) == 0) {
			continue;
		}
		if (!discover_printed) {
			printf("nvme discover -t tcp -a %s -s %s\n", trids[0].traddr,
			       trids[0].trsvcid);
			discover_printed = true;
		}
		if (!nvt_nvmf_subsystem_is_discovery(s)) {
			printf("nvme connect -t tcp -a %s -s %s -n %s\n", trids[0].traddr,
			       trids[0].trsvcid, nvt_nvmf_subsystem_get_nqn(s));
		}
	}
	if (!discover_printed) {
		printf("nvtcpd: no listener configured\n");
	}
	fflush(stdout);
}

static int
rpc_server_start(void)
{
	int rc = nvt_rpc_server_start(g_opts.rpc_addr);

	if (rc == -EADDRINUSE) {
		fprintf(stderr,
			"nvtcpd: cannot serve RPC on %s: in use by a running process (another "
			"nvtcpd or SPDK application?); stop it or give another path with -r\n",
			g_opts.rpc_addr);
	} else if (rc != 0) {
		fprintf(stderr, "nvtcpd: cannot serve RPC on %s: %s\n", g_opts.rpc_addr,
			nvt_strerror(-rc));
	}
	return rc;
}

static void
daemon_running(void)
{
	/* With --wait-for-rpc the server already runs. */
	if (!g_wait_for_rpc && rpc_server_start() != 0) {
		daemon_fail(1);
		return;
	}
	if (metrics_daemon_start() != 0) {
		daemon_fail(1);
		return;
	}
	nvt_rpc_set_state(NVT_RPC_RUNTIME);
	g_state = DAEMON_RUNNING;
	print_banner();
	if (g_wait_for_rpc) {
		nvt_rpc_init_done(0);
	}
	if (g_shutdown_pending) {
		daemon_shutdown();
	}
}

static void
tgt_init_done(void *ctx, int status)
{
	(void)ctx;
	if (status != 0) {
		fprintf(stderr, "nvtcpd: cannot create the target: %s\n", nvt_strerror(-status));
		if (g_wait_for_rpc) {
			nvt_rpc_init_done(status);
		}
		daemon_fail(1);
		return;
	}
	daemon_running();
}

/* The target with the options set so far, unless a method already made it. */
static void
daemon_create_tgt(void)
{
	int rc;

	if (nvt_nvmf_get_tgt() != NULL) {
		daemon_running();
		return;
	}
	/* No nvmf methods ran: an empty target still serves discovery and RPC. */
	rc = nvt_nvmf_tgt_init(NULL, tgt_init_done, NULL);
	if (rc != 0) {
		tgt_init_done(NULL, rc);
	}
}

/* framework_start_init (--wait-for-rpc): the start-up methods have run. */
static void
daemon_init_from_rpc(void)
{
	g_state = DAEMON_STARTING;
	daemon_create_tgt();
}

static void
daemon_wait_for_rpc(void)
{
	if (rpc_server_start() != 0) {
		daemon_fail(1);
		return;
	}
	nvt_rpc_set_init_fn(daemon_init_from_rpc);
	g_state = DAEMON_WAITING;
	printf("nvtcpd: waiting for framework_start_init on %s\n", g_opts.rpc_addr);
	fflush(stdout);
}

static void
config_loaded(int rc, void *ctx)
{
	(void)ctx;
	if (rc != 0) {
		fprintf(stderr,
			"nvtcpd: refusing to start: the configuration %s failed (the error above "
			"names the method and the field)\n",
			g_opts.json_config_file != NULL ? g_opts.json_config_file : "(default)");
		daemon_fail(1);
		return;
	}
	daemon_create_tgt();
}

/* The target runs its poll groups on this app's cores. */
static void
daemon_give_cores(void)
{
	struct nvt_nvmf_tgt_opts opts;

	nvt_nvmf_tgt_get_opts(&opts, sizeof(opts));
	opts.cores = *nvt_env_get_core_mask();
	nvt_nvmf_tgt_set_opts(&opts);
}

static void
daemon_start(void *ctx)
{
	json_t *config;

	(void)ctx;
	g_state = DAEMON_STARTING;
	daemon_give_cores();
	if (g_wait_for_rpc) {
		daemon_wait_for_rpc();
		return;
	}
	if (g_opts.json_config_file != NULL) {
		nvt_config_load_file(g_opts.json_config_file, config_loaded, NULL);
		return;
	}
	config = nvtcpd_default_config(g_disks, g_num_disks);
	if (config == NULL) {
		NVT_ERRLOG("nvtcpd: default configuration: out of memory\n");
		daemon_fail(1);
		return;
	}
	nvt_config_load_json(config, config_loaded, NULL);
	json_decref(config);
}

/* ---- command line ---- */

static void
daemon_usage(void)
{
	printf("      --wait-for-rpc     serve RPC (on -r PATH, default " NVT_RPC_DEFAULT_SOCK ")\n"
	       "                         in the start-up state and start once\n"
	       "                         framework_start_init arrives (as SPDK's option)\n"
	       "      --disk PATH[,SIZE] serve a file or block device as the next namespace\n"
	       "                         of the default subsystem instead of the RAM disk\n"
	       "                         (repeatable); a missing file is created at SIZE\n"
	       "                         (64M, 1G, ...); its data survives restarts\n"
	       "      --metrics ADDR:PORT serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	       "                         (off by default; also counts I/O per namespace\n"
	       "                         and per host, with latency histograms)\n"
	       "\n"
	       "Without -c (and without --wait-for-rpc, which starts empty and takes its\n"
	       "configuration over RPC, as SPDK's rpc.py load_config sends it), nvtcpd\n"
	       "serves its default configuration: a TCP transport, a 1 GiB\n"
	       "RAM bdev Malloc0 as namespace 1 of " NVTCPD_DEFAULT_NQN "\n"
	       "(any host allowed), listening on 127.0.0.1:4420 (discovery on the same port).\n"
	       "-c FILE replaces it with a JSON configuration in SPDK's format (the output of\n"
	       "save_config); any error in it makes nvtcpd refuse to start, naming the method\n"
	       "and the field, with exit status 1.\n"
	       "-m MASK starts one reactor and one NVMe-oF poll group per core of MASK.\n"
	       "-r PATH serves JSON-RPC on the Unix socket PATH instead of\n" NVT_RPC_DEFAULT_SOCK
	       " (SPDK's default, where rpc.py and nvtcp look);\n"
	       "a path a running process serves is a start-up error, a stale socket\n"
	       "file left by a dead one is replaced.\n"
	       "SIGINT/SIGTERM: orderly shutdown (hosts disconnected), exit status 0.\n");
}

static int
daemon_parse(int ch, char *arg)
{
	switch (ch) {
	case OPT_WAIT_FOR_RPC:
		g_wait_for_rpc = true;
		return 0;
	case OPT_DISK:
		if (g_num_disks == NVTCPD_MAX_DISKS) {
			fprintf(stderr, "nvtcpd: at most %d --disk\n", NVTCPD_MAX_DISKS);
			return -EINVAL;
		}
		return nvtcpd_disk_parse(arg, &g_disks[g_num_disks++]);
	case OPT_METRICS:
		return metrics_option(arg);
	default:
		return -EINVAL;
	}
}

/* Options that depend on each other; false (reported) when they conflict. */
static bool
daemon_check_opts(void)
{
	size_t i;

	if (g_num_disks > 0 && (g_wait_for_rpc || g_opts.json_config_file != NULL)) {
		fprintf(stderr, "nvtcpd: --disk builds on the default configuration: it cannot "
				"be combined with -c or --wait-for-rpc\n");
		return false;
	}
	for (i = 0; i < g_num_disks; i++) {
		if (nvtcpd_disk_prepare(&g_disks[i]) != 0) {
			return false;
		}
	}
	if (g_opts.rpc_addr == NULL) {
		g_opts.rpc_addr = NVT_RPC_DEFAULT_SOCK;
	}
	if (!g_wait_for_rpc) {
		return true;
	}
	if (g_opts.json_config_file != NULL) {
		fprintf(stderr, "nvtcpd: --wait-for-rpc and -c cannot be combined: load the "
				"configuration over RPC (load_config), or start without "
				"--wait-for-rpc\n");
		return false;
	}
	return true;
}

int
main(int argc, char **argv)
{
	enum nvt_app_parse_args_rvals rv;
	int rc;

	/* Before any thread or key exists (its failure is logged; keys still work). */
	nvt_auth_secure_init(0);
	nvt_app_opts_init(&g_opts, sizeof(g_opts));
	g_opts.name = "nvtcpd";
	g_opts.shutdown_cb = daemon_shutdown;
	rv = nvt_app_parse_args(argc, argv, &g_opts, "", g_daemon_long_opts, daemon_parse,
				daemon_usage);
	if (rv == NVT_APP_PARSE_ARGS_HELP) {
		return 0;
	}
	if (rv != NVT_APP_PARSE_ARGS_SUCCESS || !daemon_check_opts()) {
		return 2;
	}
	rc = nvt_app_start(&g_opts, daemon_start, NULL);
	nvt_app_fini();
	if (rc != 0) {
		fprintf(stderr, "nvtcpd: exiting with error (%d)\n", rc);
	}
	return rc == 0 ? 0 : 1;
}
