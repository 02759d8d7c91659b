/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the crash test share (crash_test.c says what it tests):
 * its state, the nvtcpd it kills and restarts (crash_daemon.c), the writer
 * and verifier on the host's queues (crash_io.c), and the rounds that
 * connect the host to each nvtcpd and tear it down (crash_test.c).
 */
#ifndef CRASH_INTERNAL_H
#define CRASH_INTERNAL_H

#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/nvme.h"
#include "nvtcp/thread.h"

#include "test_daemon.h"

#include "crash_model.h"

#define SUBNQN		"nqn.2016-06.io.nvtcp:crash-test"
#define NS_UUID		"3c1f5e2a-7b4d-4c8e-9f10-2a6b8d4e0c31"
#define FILE_BYTES	(64ull << 20)
#define NUM_QPAIRS	4u
#define QDEPTH		8u
#define MAX_NLB		8u
#define READ_BYTES	65536u
#define GROUP_BLOCKS	16u
#define HOLE_EVERY	16u /* group n is never written when n % HOLE_EVERY is the last */
#define HOT_GROUPS	(HOLE_EVERY - 1)
#define FUA_PCT		15u
#define FLUSH_PCT	4u
#define KILL_MIN_MS	20u
#define KILL_SPREAD_MS	700u
#define KILL_GRACE_MS	300u /* a trigger not met by then: kill with whatever is in flight */
#define DRAIN_S		20u
#define START_S		60
#define DEFAULT_KILLS	6u
#define MAX_BAD_PRINTED 8u

enum phase {
	PH_CONNECT,
	PH_VERIFY,
	PH_SETTLE,
	PH_WRITE,
	PH_DRAIN, /* nvtcpd killed: waiting for every command to complete or fail */
};

enum op {
	OP_NONE,
	OP_READ,
	OP_WRITE,
	OP_FLUSH,
};

enum trigger {
	TRIG_ANY,
	TRIG_FLUSH,
	TRIG_FUA,
	NUM_TRIGGERS,
};

/* One command id of a queue, and what it carries. */
struct slot {
	uint32_t q;
	uint8_t *buf;
	enum op op;
	uint64_t lba;
	uint32_t nlb;
	uint64_t gen;
	uint64_t covers;
	bool fua;
};

struct round_stats {
	uint64_t writes;
	uint64_t fua;
	uint64_t flushes;
	uint64_t cut_blocks;
	uint32_t kill_ms;
	uint32_t kill_writes;
	uint32_t kill_blocks;
	uint32_t kill_fua;
	uint32_t kill_flushes;
	uint64_t zeroes;
	uint64_t landed;
	uint64_t bad;
};

/* nvtcpd, its files and how it is started. */
struct daemon {
	const char *exe;
	const char *cli;
	struct nvt_test_daemon proc;
	int port;
	char mask[8];
	cpu_set_t cpus;
	bool cpus_known;
	char dir[PATH_MAX];
	char file[PATH_MAX];
	char cfg[PATH_MAX];
	char saved[PATH_MAX];
	char sock[PATH_MAX];
};

struct crash {
	uint32_t kills;
	uint64_t seed;
	uint64_t rng;
	uint32_t block_size;
	uint64_t nblocks;
	struct cm_model model;
	struct daemon d;
	struct nvt_nvme_ctrlr *ctrlr;
	struct nvt_nvme_poll_group *group;
	struct nvt_nvme_qpair *qpairs[NUM_QPAIRS];
	uint32_t connected;
	struct slot slots[NUM_QPAIRS][QDEPTH];
	enum phase phase;
	uint32_t round;
	uint32_t outstanding;
	uint32_t flushes_out;
	uint32_t fua_out;
	uint64_t cursor;
	struct nvt_poller *kill_poller;
	struct nvt_poller *drain_poller;
	uint64_t write_t0;
	uint64_t kill_at;
	enum trigger trigger;
	struct round_stats st;
	uint64_t t0;
};

/* The whole test's state: one run, one reactor thread. */
extern struct crash g;

/* ---- crash_test.c ---- */

/* A number below \p n from the seeded PRNG. */
uint64_t rnd(uint64_t n);
uint64_t ms_since(uint64_t ticks);

/* Report, kill nvtcpd, clean up and exit 1 at once: nothing of the run is worth finishing. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Disconnect the host; the round ends once it is detached. A message (\p arg unused). */
void host_teardown(void *arg);

/* ---- crash_daemon.c ---- */

/* The temporary directory, the sparse backing file and the first configuration. */
void daemon_prepare(void);

/* Start nvtcpd from \p cfg and wait until it listens. */
void daemon_start(const char *cfg);

/* save_config through the nvtcp CLI into the file every restart loads. */
void daemon_save_config(void);

/* Reap nvtcpd, which must have died of our \p sig and nothing else, or exited 0. */
void daemon_reap(int sig);

/* Why I/O failed while nvtcpd should have been running. */
const char *daemon_health(char *buf, size_t len);

/* Remove the temporary directory (unless NVT_CRASH_KEEP=1). */
void daemon_cleanup(void);

/* ---- crash_io.c ---- */

/* The host is connected: read back what survived (after a restart), then write again. */
void io_start(void);

#endif /* CRASH_INTERNAL_H */
