/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared state of nvtcp-perf: options, targets, per-queue contexts. */
#ifndef PERF_H
#define PERF_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/nvme.h"
#include "nvtcp/queue.h"
#include "nvtcp/thread.h"
#include "perf_stats.h"
#include "sec_args.h"

#define PERF_MAX_TRIDS	32
#define PERF_MAX_CTRLRS 64
/* I/O queues asked of each controller (Set Features Number of Queues), as SPDK's host. */
#define PERF_MAX_IO_QUEUES 1024
/* Most I/O units whose generation --verify tracks per queue. */
#define PERF_VERIFY_MAX_UNITS (1u << 20)

struct perf_opts {
	uint32_t queue_depth;
	uint32_t io_size;
	bool is_random;
	int read_pct; /* 100 read, 0 write, else mixed */
	uint32_t time_s;
	const char *core_mask;
	uint32_t latency_level; /* -L count */
	uint32_t queues_per_ns; /* -P */
	bool hdgst;
	bool ddgst;
	bool json;
	bool verify;
	uint32_t kato_ms;
	/* -S, TLS and DH-HMAC-CHAP. */
	struct sec_args sec;
	uint32_t num_trids;
	struct nvt_nvme_trid trids[PERF_MAX_TRIDS];
};

struct perf_worker;

struct perf_slot {
	struct perf_qctx *q;
	void *buf;
	uint64_t submit_ticks;
	uint64_t lba;
	uint32_t unit;
	bool is_read;
};

/* One I/O queue to one namespace, driven by one worker. */
struct perf_qctx {
	struct perf_worker *worker;
	struct nvt_nvme_ctrlr *ctrlr;
	uint32_t nsid;
	uint32_t block_size;
	uint32_t io_blocks;
	/* LBA range of this queue (whole namespace, or its share with --verify), in I/O units. */
	uint64_t first_unit;
	uint64_t num_units;
	uint64_t seq_unit;
	struct nvt_nvme_qpair *qpair;
	/* Depth the queue is created with: -q x commands per I/O, at most CAP.MQES. */
	uint32_t qpair_depth;
	uint32_t io_depth; /* I/Os kept in flight: -q, cut to the queue's size */
	uint16_t qid;
	struct perf_slot *slots;
	uint32_t outstanding;
	uint64_t rand_state;
	/* --verify: generation per unit (0 = not written in this run) and busy marks. */
	uint64_t *gen;
	uint8_t *busy;
	uint64_t next_gen;
	/* Results. */
	struct perf_hist hist;
	uint64_t reads;
	uint64_t writes;
	uint64_t errors;
	uint64_t mismatches;
	uint64_t verified;
	uint16_t first_error_status;
	bool failed;
	int connect_rc;
	uint16_t connect_status;
	struct nvt_nvme_qpair_stats qstats;
	struct nvt_thread_msg fail_msg; /* the queue's loss, told to the app thread once */
	TAILQ_ENTRY(perf_qctx) link;
};

struct perf_worker {
	uint32_t core;
	struct nvt_thread *thread;
	struct nvt_nvme_poll_group *group;
	TAILQ_HEAD(, perf_qctx) qctxs;
	uint32_t num_q;
	uint32_t pending_connects;
	bool running;
	bool stopping;
	uint32_t drained;
	/*
	 * The run's steps: init, ready, go one after the other in start_msg;
	 * stop in stop_msg; teardown, then its report to the app thread, in end_msg.
	 */
	struct nvt_thread_msg start_msg;
	struct nvt_thread_msg stop_msg;
	struct nvt_thread_msg end_msg;
	TAILQ_ENTRY(perf_worker) link;
};

/* Options parsing (perf_args.c). 0 = run, 1 = help printed, <0 = error. */
int perf_parse_args(int argc, char **argv, struct perf_opts *opts);

/* Report (perf_report.c). */
/* Print the results; \return 1 when errors, mismatches or a failure are reported, else 0. */
int perf_report(const struct perf_opts *opts, struct perf_worker **workers, uint32_t nworkers,
		double seconds, const char *failure);

#endif /* PERF_H */
