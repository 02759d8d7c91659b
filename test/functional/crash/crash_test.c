/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crash safety of nvtcpd's write path. Starts nvtcpd (argv) on a sparse
 * 64 MiB file through bdev_uring_create (fixed UUID, block size 512 or 4096
 * by the seed), saves its configuration with save_config (the nvtcp CLI,
 * argv) and then, for each of KILLS rounds: writes through lib/nvme from 4
 * I/O queues of depth 8, kills nvtcpd with SIGKILL at a random moment while
 * commands are in flight, restarts it from the saved configuration,
 * reconnects and reads every block back.
 *
 * Every written block carries (magic, LBA, generation, run id) and a CRC32C;
 * a write covers 1 to 8 blocks and no two writes of one LBA are in flight
 * at once. Mixed in: FUA writes and Flushes. By NVMe's rules a write is
 * durable when it was acknowledged with FUA, or when its acknowledgement came
 * before the submission of a Flush that was acknowledged. After a restart,
 * each block must hold its newest durable write, or a write submitted after
 * that one (acknowledged or not: it may have landed); zeroes only where no
 * write is durable; never a bad checksum, another LBA's block or a
 * generation never submitted for it (crash_model.h). The first bad blocks
 * are printed with what they may hold and what they hold; exit 1. After
 * each check and a Flush, what was read is the durable state.
 *
 * Writes stay inside groups of 16 blocks, and every 16th group is never
 * written (stray writes show there as non-zero blocks); half of the writes go
 * to the first 15 groups, so blocks are rewritten while older versions are in
 * flight or unflushed. The kill waits for a moment
 * with I/O in flight, for a Flush or for a FUA write in flight (by the seed).
 *
 * What this tests: SIGKILL ends the daemon, not the kernel: the page cache
 * keeps every write the kernel took. So this checks nvtcpd's ordering and
 * acknowledgements (never an ack of a write or a Flush before the kernel has
 * the data; nothing lost or torn across a restart), not power loss.
 *
 * Usage: crash_test [-k KILLS] [-s SEED] NVTCPD NVTCP. KILLS defaults to
 * NVT_CRASH_KILLS or 6; SEED to NVT_CRASH_SEED or the clock (printed). A
 * seed fixes the block size, the run id and each round's kill delay and
 * trigger; the I/O mix follows completion order, so it varies from run to run.
 * NVT_CRASH_KEEP=1 keeps the temporary directory. Exit 0 pass, 1 fail.
 *
 * This file: the rounds (start nvtcpd, connect the host, tear it down once
 * the I/O of the round is over) and main; crash_daemon.c: nvtcpd;
 * crash_io.c: the writer and verifier; crash_model.c: what a block may hold.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvtcp/event.h"
#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"
#include "nvtcp/ticks.h"

#include "crash_internal.h"

struct crash g;

static void round_start(void);

/* ---- helpers ---- */

uint64_t
rnd(uint64_t n)
{
	return cm_mix64(&g.rng) % n;
}

uint64_t
ms_since(uint64_t ticks)
{
	return nvt_ticks_to_us(nvt_get_ticks() - ticks) / 1000;
}

/* Report, kill nvtcpd, clean up and exit 1 at once: nothing of the run is worth finishing. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\nFAIL crash_test round %u, seed %" PRIu64 " (NVT_CRASH_SEED=%" PRIu64
		" to rerun)\n",
		g.round, g.seed, g.seed);
	nvt_test_daemon_kill(&g.d.proc);
	daemon_cleanup();
	_exit(1);
}

/* ---- the host ---- */

static void
host_detached(void *arg)
{
	(void)arg;
	if (g.round == g.kills) {
		kill(g.d.proc.pid, SIGTERM);
		daemon_reap(SIGTERM);
		nvt_app_stop(0);
		return;
	}
	daemon_reap(SIGKILL);
	fprintf(stderr,
		"round %u: acknowledged %" PRIu64 " writes (%" PRIu64 " FUA), %" PRIu64
		" flushes; %" PRIu64 " blocks of writes cut off\n",
		g.round, g.st.writes, g.st.fua, g.st.flushes, g.st.cut_blocks);
	g.round++;
	round_start();
}

void
host_teardown(void *arg)
{
	uint32_t q;

	(void)arg;
	nvt_poller_unregister(&g.drain_poller);
	for (q = 0; q < NUM_QPAIRS; q++) {
		if (g.qpairs[q] != NULL) {
			nvt_nvme_qpair_disconnect(&g.qpairs[q]);
		}
	}
	if (g.group != NULL && nvt_nvme_poll_group_destroy(&g.group) != 0) {
		fatal("poll group busy after disconnect");
	}
	nvt_nvme_ctrlr_detach(&g.ctrlr, host_detached, NULL);
}

static void
qpair_connected(void *arg, struct nvt_nvme_qpair *qpair, int rc, uint16_t status)
{
	char st[64];

	if (rc != 0) {
		fatal("I/O queue connect: %s (%s)", strerror(-rc),
		      nvt_nvme_status_fmt(status, st, sizeof(st)));
	}
	g.qpairs[(uintptr_t)arg] = qpair;
	if (++g.connected == NUM_QPAIRS) {
		io_start();
	}
}

static void
ns_check(void)
{
	const struct nvt_nvme_id_ns *ns = nvt_nvme_ctrlr_get_ns_data(g.ctrlr, 1);

	if (ns == NULL || ns->nsze != g.nblocks || nvt_nvme_id_ns_block_size(ns) != g.block_size) {
		fatal("namespace 1: %" PRIu64 " blocks of %u bytes, expected %" PRIu64 " of %u",
		      ns != NULL ? ns->nsze : 0, ns != NULL ? nvt_nvme_id_ns_block_size(ns) : 0,
		      g.nblocks, g.block_size);
	}
}

static void
ctrlr_connected(void *arg, struct nvt_nvme_ctrlr *ctrlr, int rc, uint16_t status)
{
	char st[64];
	uintptr_t q;

	(void)arg;
	if (rc != 0) {
		fatal("connect: %s (%s)", strerror(-rc),
		      nvt_nvme_status_fmt(status, st, sizeof(st)));
	}
	g.ctrlr = ctrlr;
	ns_check();
	g.group = nvt_nvme_poll_group_create();
	if (g.group == NULL) {
		fatal("poll group: out of memory");
	}
	g.connected = 0;
	for (q = 0; q < NUM_QPAIRS; q++) {
		rc = nvt_nvme_ctrlr_connect_io_qpair(ctrlr, g.group, QDEPTH, qpair_connected,
						     (void *)q);
		if (rc != 0) {
			fatal("I/O queue %u: %s", (unsigned)q, strerror(-rc));
		}
	}
}

static void
host_connect(void)
{
	struct nvt_nvme_trid trid;
	char str[256], err[128];
	int rc;

	snprintf(str, sizeof(str), "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s",
		 g.d.port, SUBNQN);
	rc = nvt_nvme_trid_parse(&trid, str, err, sizeof(err));
	if (rc == 0) {
		rc = nvt_nvme_ctrlr_connect(&trid, NULL, ctrlr_connected, NULL);
	}
	if (rc != 0) {
		fatal("connect %s: %s", str, strerror(-rc));
	}
}

static void
round_start(void)
{
	memset(&g.st, 0, sizeof(g.st));
	g.phase = PH_CONNECT;
	fprintf(stderr, "round %u: nvtcpd -c %s (%.1f s)\n", g.round,
		g.round == 0 ? g.d.cfg : g.d.saved, (double)ms_since(g.t0) / 1000);
	daemon_start(g.round == 0 ? g.d.cfg : g.d.saved);
	if (g.round == 0) {
		daemon_save_config();
	}
	host_connect();
}

/* SIGINT or SIGTERM (a timeout, a user): a run cut short is no pass. */
static void
interrupted(void)
{
	fatal("interrupted by a signal");
}

static void
start(void *arg)
{
	(void)arg;
	round_start();
}

/* ---- main ---- */

/* A number from the command line or the environment; a bad one ends the program (usage). */
static uint64_t
parse_u64(const char *what, const char *v)
{
	char *end;
	uint64_t x;

	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno != 0 || *v == '\0' || *end != '\0') {
		fprintf(stderr, "crash_test: bad %s '%s'\n", what, v);
		exit(2);
	}
	return x;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v == NULL || *v == '\0' ? dflt : parse_u64(name, v);
}

static uint64_t
clock_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
}

static int
parse_args(int argc, char **argv)
{
	int ch;

	g.kills = (uint32_t)env_u64("NVT_CRASH_KILLS", DEFAULT_KILLS);
	g.seed = env_u64("NVT_CRASH_SEED", clock_seed());
	while ((ch = getopt(argc, argv, "k:s:")) != -1) {
		switch (ch) {
		case 'k':
			g.kills = (uint32_t)parse_u64("-k", optarg);
			break;
		case 's':
			g.seed = parse_u64("-s", optarg);
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 2 || g.kills == 0) {
		return -1;
	}
	g.d.exe = argv[optind];
	g.d.cli = argv[optind + 1];
	return 0;
}

/* The seed decides everything the test chooses: block size, run id, I/O, kill moments. */
static void
setup(void)
{
	uint32_t q, i;

	g.rng = g.seed;
	g.block_size = rnd(2) == 0 ? 512 : 4096;
	g.nblocks = FILE_BYTES / g.block_size;
	if (cm_init(&g.model, g.nblocks, g.block_size, cm_mix64(&g.rng)) != 0) {
		fatal("out of memory");
	}
	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			g.slots[q][i].q = q;
			g.slots[q][i].buf = aligned_alloc(4096, READ_BYTES);
			if (g.slots[q][i].buf == NULL) {
				fatal("out of memory");
			}
		}
	}
	daemon_prepare();
}

static void
teardown(void)
{
	uint32_t q, i;

	for (q = 0; q < NUM_QPAIRS; q++) {
		for (i = 0; i < QDEPTH; i++) {
			free(g.slots[q][i].buf);
		}
	}
	cm_fini(&g.model);
	daemon_cleanup();
}

int
main(int argc, char **argv)
{
	struct nvt_app_opts opts;
	int rc;

	if (parse_args(argc, argv) != 0) {
		fprintf(stderr, "usage: %s [-k KILLS] [-s SEED] NVTCPD NVTCP\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setup();
	fprintf(stderr,
		"crash_test: seed %" PRIu64 " (NVT_CRASH_SEED=%" PRIu64 " to rerun), %u kills, "
		"%" PRIu64 " blocks of %u bytes, %s, nvtcpd -m %s\n",
		g.seed, g.seed, g.kills, g.nblocks, g.block_size, g.d.dir,
		g.d.mask[0] != '\0' ? g.d.mask : "(default)");
	nvt_app_opts_init(&opts, sizeof(opts));
	opts.name = "crash_test";
	opts.shutdown_cb = interrupted;
	g.t0 = nvt_get_ticks();
	rc = nvt_app_start(&opts, start, NULL);
	nvt_app_fini();
	fprintf(stderr, "%s: %u kills in %.1f s, seed %" PRIu64 "\n", rc == 0 ? "PASS" : "FAIL",
		g.kills, (double)ms_since(g.t0) / 1000, g.seed);
	teardown();
	return rc == 0 ? 0 : 1;
}
