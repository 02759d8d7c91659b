/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The target's counters, gathered for readers such as a metrics exporter.
 *
 * Each poll group keeps its counters as plain fields of its own thread (no
 * atomics, no locks on the I/O path). nvt_nvmf_get_stats() collects them
 * by a message to every poll group and hands one consistent-per-group
 * snapshot to the caller's thread.
 */
#ifndef NVTCP_NVMF_STATS_H
#define NVTCP_NVMF_STATS_H

#include <stdint.h>

#include "nvtcp/thread.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One poll group, as SPDK's nvmf_get_stats names its counters. */
struct nvt_nvmf_group_stats {
	char name[NVT_THREAD_NAME_LEN];	      /**< its thread's name */
	uint32_t current_admin_qpairs;	      /**< admin queues connected now */
	uint32_t current_io_qpairs;	      /**< I/O queues connected now */
	uint32_t current_unassociated_qpairs; /**< connections without a Connect yet */
	uint64_t admin_qpairs;		      /**< admin queues connected since start */
	uint64_t io_qpairs;		      /**< I/O queues connected since start */
	uint64_t completed_nvme_io;	      /**< commands of I/O queues completed */
	uint64_t pending_bdev_io;	      /**< namespace I/O submitted, not completed */
	uint64_t auth_failures;		      /**< DH-HMAC-CHAP exchanges failed for good */
};

/** One transport: its data buffer pool (summed over poll groups) and connections. */
struct nvt_nvmf_transport_stats {
	char trtype[16];	       /**< "TCP" */
	uint32_t buf_count;	       /**< buffers in the shared pool */
	uint32_t buf_size;	       /**< bytes per buffer */
	uint32_t buf_free;	       /**< buffers in the shared pool now (not in caches) */
	uint32_t buf_cache_size;       /**< buffers each poll group reserves */
	uint64_t buf_in_use;	       /**< buffers requests hold now */
	uint64_t buf_cached;	       /**< buffers in the poll groups' caches now */
	uint64_t cache_hits;	       /**< buffers taken from a poll group's own cache */
	uint64_t pool_hits;	       /**< buffers taken from the shared pool */
	uint64_t waits;		       /**< requests that had to wait for buffers */
	uint64_t connections_accepted; /**< connections accepted since start */
	uint64_t connections_rejected; /**< refused by a connection limit since start */
};

/** A snapshot of the whole target; each group's figures read at once, on its thread. */
struct nvt_nvmf_stats {
	uint64_t tick_rate; /**< nvt_get_ticks_hz() */
	uint32_t num_groups;
	const struct nvt_nvmf_group_stats *groups;
	uint32_t num_transports;
	const struct nvt_nvmf_transport_stats *transports;
};

/**
 * Receives a snapshot. \p stats (and everything it points to) is valid
 * during the call only; NULL when \p status is a negative errno.
 */
typedef void (*nvt_nvmf_stats_cb)(const struct nvt_nvmf_stats *stats, int status, void *ctx);

/**
 * Gather the counters of every poll group and transport of the running
 * target. Call from an nvt_thread; \p cb runs later on that same thread,
 * exactly once (with -ENODEV when the target stops meanwhile, -ENOMEM when
 * the answer cannot be built). Every poll group's thread is messaged once.
 *
 * \return 0 (\p cb will run), -EINVAL off any nvt_thread, -ENODEV when no
 * target runs, -ENOMEM; \p cb never runs then.
 */
int nvt_nvmf_get_stats(nvt_nvmf_stats_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_NVMF_STATS_H */
