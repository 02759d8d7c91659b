/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Idle NVMe/TCP queue pairs for bench/nvmf/qpair_mem.sh: a raw host that opens
 * controllers, each an admin queue and some I/O queues (ICReq, Fabrics Connect
 * and, for the admin queue, CC.EN), then holds them open doing nothing, or
 * sending a Keep Alive on every admin queue at a fixed interval (the
 * controllers' turns spread evenly over it, as independent hosts' would be).
 *
 *   idle_qpairs -p port [-a addr] [-n subnqn] [-c ctrlrs] [-q io_queues]
 *               [-s sqsize] [-k kato_ms] [-i keep_alive_interval_ms]
 *
 * Defaults: 10 controllers of 99 I/O queues (1,000 queue pairs with the admin
 * queues), SQSIZE 127 (depth 128) on every queue, KATO 0 (no keep alive).
 * Prints "connected=N" once all N queue pairs are up, then runs until SIGINT
 * or SIGTERM; exits 1 if a connection fails or the target drops one.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "nvtcp/nvme_spec.h"

#include "test_tcp.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6e767463-702d-6265-6e63-680000000001"

struct idle_opts {
	const char *addr;
	int port;
	const char *subnqn;
	int ctrlrs;
	int io_queues;
	uint16_t sqsize;
	uint32_t kato_ms;
	uint32_t ka_interval_ms;
};

/* A controller: its admin queue (which holds the cntlid) and its I/O queues. */
struct idle_ctrlr {
	struct nvt_test_conn admin;
	struct nvt_test_conn *io;
};

static struct idle_opts g_opts = {
	.addr = "127.0.0.1",
	.subnqn = "nqn.2016-06.io.nvtcp:cnode1",
	.ctrlrs = 10,
	.io_queues = 99,
	.sqsize = 127,
};
static volatile sig_atomic_t g_stop;

static void
on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* ---- NVMe/TCP ---- */

static struct nvt_test_connect_opts
connect_opts(uint16_t qid, uint16_t cntlid)
{
	return (struct nvt_test_connect_opts){
		.subnqn = g_opts.subnqn,
		.hostnqn = HOSTNQN,
		.qid = qid,
		.sqsize = g_opts.sqsize,
		.kato_ms = qid == 0 ? g_opts.kato_ms : 0,
		.cntlid = cntlid,
	};
}

static int
ctrlr_open_admin(struct idle_ctrlr *ctrlr)
{
	struct nvt_test_connect_opts o = connect_opts(0, NVT_NVMF_CNTLID_DYNAMIC);
	int rc;

	rc = nvt_test_tcp_open(&ctrlr->admin, g_opts.addr, (uint16_t)g_opts.port);
	rc = rc != 0 ? rc : nvt_test_tcp_icreq(&ctrlr->admin, 0, false, false);
	rc = rc != 0 ? rc : nvt_test_tcp_fabrics_connect(&ctrlr->admin, &o);
	return rc != 0 ? rc : nvt_test_tcp_enable_ctrlr(&ctrlr->admin);
}

/* The I/O queues of a controller, each step on all of them before the next. */
static int
ctrlr_open_io(struct idle_ctrlr *ctrlr)
{
	struct nvt_test_connect_opts o;
	struct nvt_test_conn *q;
	int i, rc = 0;

	for (i = 0; i < g_opts.io_queues && rc == 0; i++) {
		rc = nvt_test_tcp_open_start(&ctrlr->io[i], g_opts.addr, (uint16_t)g_opts.port);
		rc = rc != 0 ? rc : nvt_test_tcp_icreq_send(&ctrlr->io[i], 0, false, false);
	}
	for (i = 0; i < g_opts.io_queues && rc == 0; i++) {
		q = &ctrlr->io[i];
		o = connect_opts((uint16_t)(i + 1), ctrlr->admin.cntlid);
		rc = nvt_test_tcp_icresp_recv(q);
		rc = rc != 0 ? rc : nvt_test_tcp_connect_send(q, &o);
	}
	for (i = 0; i < g_opts.io_queues && rc == 0; i++) {
		rc = nvt_test_tcp_connect_wait(&ctrlr->io[i], ctrlr->io[i].cid);
		if (rc != 0) {
			fprintf(stderr, "idle_qpairs: cntlid %u qid %d: connect: %s 0x%x\n",
				ctrlr->admin.cntlid, i + 1, rc > 0 ? "NVMe status" : "rc", rc);
		}
	}
	return rc;
}

/* ---- main loop ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Any readable socket while idle means the target closed it (or sent a termination). */
static int
watch(struct pollfd *pfds, int n, int timeout_ms)
{
	int i, rc = poll(pfds, (nfds_t)n, timeout_ms);

	if (rc < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	for (i = 0; i < n && rc > 0; i++) {
		if (pfds[i].revents != 0) {
			fprintf(stderr, "idle_qpairs: connection %d closed by the target\n", i);
			return -ECONNRESET;
		}
	}
	return 0;
}

/*
 * Milliseconds until Keep Alive number \p k is due: the controllers take turns
 * spread evenly over the interval, as hosts started at random times would,
 * so the target sees them one at a time rather than in bursts.
 */
static int
ka_wait_ms(uint64_t start, uint64_t k)
{
	uint64_t due = start + k * g_opts.ka_interval_ms / (uint64_t)g_opts.ctrlrs, now = now_ms();

	if (g_opts.ka_interval_ms == 0) {
		return 1000;
	}
	return due <= now ? 0 : (int)(due - now < 1000 ? due - now : 1000);
}

static int
hold(struct idle_ctrlr *ctrlrs, int nqpairs)
{
	struct pollfd *pfds = calloc((size_t)nqpairs, sizeof(*pfds));
	uint64_t start = now_ms(), k = 0;
	struct idle_ctrlr *c;
	int i, q, n = 0, rc = 0;

	if (pfds == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < g_opts.ctrlrs; i++) {
		pfds[n++] = (struct pollfd){ .fd = ctrlrs[i].admin.fd, .events = POLLIN };
		for (q = 0; q < g_opts.io_queues; q++) {
			pfds[n++] = (struct pollfd){ .fd = ctrlrs[i].io[q].fd, .events = POLLIN };
		}
	}
	while (!g_stop && rc == 0) {
		rc = watch(pfds, n, ka_wait_ms(start, k));
		if (rc != 0 || g_opts.ka_interval_ms == 0 || ka_wait_ms(start, k) > 0) {
			continue;
		}
		c = &ctrlrs[k++ % (uint64_t)g_opts.ctrlrs];
		rc = nvt_test_tcp_keep_alive(&c->admin);
		if (rc != 0) {
			fprintf(stderr, "idle_qpairs: cntlid %u: keep alive: %d\n", c->admin.cntlid,
				rc);
		}
	}
	free(pfds);
	return rc;
}

static void
raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur =
			rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -p port [-a addr] [-n subnqn] [-c ctrlrs] [-q io_queues] [-s sqsize]\n"
		"          [-k kato_ms] [-i keep_alive_interval_ms]\n",
		prog);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "a:p:n:c:q:s:k:i:h")) != -1) {
		switch (ch) {
		case 'a':
			g_opts.addr = optarg;
			break;
		case 'p':
			g_opts.port = (int)strtol(optarg, NULL, 0);
			break;
		case 'n':
			g_opts.subnqn = optarg;
			break;
		case 'c':
			g_opts.ctrlrs = (int)strtol(optarg, NULL, 0);
			break;
		case 'q':
			g_opts.io_queues = (int)strtol(optarg, NULL, 0);
			break;
		case 's':
			g_opts.sqsize = (uint16_t)strtol(optarg, NULL, 0);
			break;
		case 'k':
			g_opts.kato_ms = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			g_opts.ka_interval_ms = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (g_opts.port <= 0 || g_opts.port > UINT16_MAX || g_opts.ctrlrs < 1 ||
	    g_opts.io_queues < 0 || g_opts.io_queues > 1024 || g_opts.sqsize == 0) {
		usage(argv[0]);
	}
}

/* Room for the controllers, every queue closed; NULL when out of memory. */
static struct idle_ctrlr *
ctrlrs_alloc(void)
{
	struct idle_ctrlr *ctrlrs = calloc((size_t)g_opts.ctrlrs, sizeof(*ctrlrs));
	int c, i;

	for (c = 0; ctrlrs != NULL && c < g_opts.ctrlrs; c++) {
		nvt_test_tcp_init(&ctrlrs[c].admin);
		ctrlrs[c].io = calloc((size_t)g_opts.io_queues + 1, sizeof(*ctrlrs[c].io));
		for (i = 0; ctrlrs[c].io != NULL && i < g_opts.io_queues; i++) {
			nvt_test_tcp_init(&ctrlrs[c].io[i]);
		}
	}
	return ctrlrs;
}

static void
ctrlrs_free(struct idle_ctrlr *ctrlrs)
{
	int c, i;

	for (c = 0; c < g_opts.ctrlrs; c++) {
		for (i = 0; ctrlrs[c].io != NULL && i < g_opts.io_queues; i++) {
			nvt_test_tcp_close(&ctrlrs[c].io[i]);
		}
		nvt_test_tcp_close(&ctrlrs[c].admin);
		free(ctrlrs[c].io);
	}
	free(ctrlrs);
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct idle_ctrlr *ctrlrs;
	int c, rc = 0, nqpairs;

	parse_args(argc, argv);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	nqpairs = g_opts.ctrlrs * (g_opts.io_queues + 1);
	raise_nofile((rlim_t)nqpairs + 64);
	ctrlrs = ctrlrs_alloc();
	if (ctrlrs == NULL) {
		return 1;
	}
	for (c = 0; c < g_opts.ctrlrs && rc == 0; c++) {
		rc = ctrlrs[c].io == NULL ? -ENOMEM : ctrlr_open_admin(&ctrlrs[c]);
		if (rc != 0) {
			fprintf(stderr, "idle_qpairs: controller %d: admin queue: %d\n", c, rc);
			break;
		}
		rc = ctrlr_open_io(&ctrlrs[c]);
	}
	if (rc == 0) {
		printf("connected=%d\n", nqpairs);
		fflush(stdout);
		rc = hold(ctrlrs, nqpairs);
	}
	ctrlrs_free(ctrlrs);
	return rc == 0 ? 0 : 1;
}
