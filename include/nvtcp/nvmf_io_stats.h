/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per namespace and per host I/O counters of the NVMe-oF target, gathered
 * for exporters (the daemon's Prometheus endpoint, nvmf_get_io_stats).
 *
 * Threads: every poll group counts on its own thread, without atomics or
 * locks: per namespace and per (subsystem, host NQN), reads and writes with
 * their bytes and a latency histogram. nvt_nvmf_io_stats_gather() visits each
 * poll group with a message, where the group copies its counters, and hands
 * the whole snapshot to its callback on the app thread.
 */
#ifndef NVTCP_NVMF_IO_STATS_H
#define NVTCP_NVMF_IO_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/nvmf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Latency buckets: NVT_NVMF_LAT_BOUNDS upper bounds, then one for the rest (+Inf). */
#define NVT_NVMF_LAT_BOUNDS  19
#define NVT_NVMF_LAT_BUCKETS (NVT_NVMF_LAT_BOUNDS + 1)

/** The direction of a counted I/O. */
enum nvt_nvmf_io_dir {
	NVT_NVMF_IO_READ = 0, /**< Read */
	NVT_NVMF_IO_WRITE,    /**< Write */
	NVT_NVMF_IO_NUM_DIRS,
};

/** Completed I/O of one direction. */
struct nvt_nvmf_io_counts {
	uint64_t ops;	     /**< commands completed (with any status) */
	uint64_t bytes;	     /**< their data length */
	uint64_t latency_ns; /**< sum of their latencies, submission to the bdev's completion */
	/** Commands per latency bucket, not cumulative; the last one is above every bound. */
	uint64_t buckets[NVT_NVMF_LAT_BUCKETS];
};

/** The counters of one namespace, or of one host on one subsystem. */
struct nvt_nvmf_io_stats {
	char subnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	/** Per namespace: its ID and bdev (0 and "" in a host's). */
	uint32_t nsid;
	char bdev[64];
	/** Per host: its NQN ("" in a namespace's). */
	char hostnqn[NVT_NVMF_NQN_MAX_LEN + 1];
	struct nvt_nvmf_io_counts dir[NVT_NVMF_IO_NUM_DIRS];
};

/** A snapshot of every namespace's and host's counters; owned by the gather's callback. */
struct nvt_nvmf_io_snapshot {
	/** Per namespace and per host, merged over poll groups (empty when counting is off). */
	struct nvt_nvmf_io_stats *ns;
	size_t num_ns;
	struct nvt_nvmf_io_stats *hosts;
	size_t num_hosts;
};

/** Upper bounds of the latency buckets, in nanoseconds, ascending (NVT_NVMF_LAT_BOUNDS). */
const uint64_t *nvt_nvmf_lat_bounds_ns(void);

/**
 * Count I/O per namespace and per host (off by default). Latencies are
 * measured with the poll group's clock of the poll that submitted and of the
 * one that completed (no clock read per command): as fine as one poll. Any thread; poll groups see the change at their next
 * command. Turning it off keeps the counts so far.
 */
void nvt_nvmf_io_stats_enable(bool enable);

/** Whether nvt_nvmf_io_stats_enable() turned counting on. Any thread. */
bool nvt_nvmf_io_stats_enabled(void);

/** The gathered snapshot, or NULL when the target is gone or out of memory. */
typedef void (*nvt_nvmf_io_stats_cb)(struct nvt_nvmf_io_snapshot *snap, void *ctx);

/**
 * Gather the per namespace and per host counters from every poll group. App
 * thread. (The poll groups' other counters: nvt_nvmf_get_stats(), nvmf_stats.h.)
 *
 * \return 0: \p cb runs once, later, on the app thread, and owns the snapshot
 * (free with nvt_nvmf_io_snapshot_free()); -ENODEV when there is no running target,
 * -ENOMEM: \p cb will not run.
 */
int nvt_nvmf_io_stats_gather(nvt_nvmf_io_stats_cb cb, void *ctx);

/** Free a snapshot and set the caller's pointer to NULL. */
void nvt_nvmf_io_snapshot_free(struct nvt_nvmf_io_snapshot **snap);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVMF_IO_STATS_H */
