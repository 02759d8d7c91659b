/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The shared data buffer pool and its per-poll-group caches.
 *
 * One pool of fixed-size, page-aligned buffers is shared by every poll
 * group, so memory is bounded by the pool whatever the number of
 * connections. Each poll group (one nvt_thread) reserves a cache of buffers
 * at creation, so it can always make progress: no group starves.
 *
 * Get: own cache, then the shared pool, then a FIFO wait queue (never an
 * error). Put: to the oldest waiter first, then the own cache up to its
 * size, then the shared pool. A request that needs several buffers gets all
 * of them or waits for all of them, so partial holders cannot deadlock.
 *
 * Waiting gets are served strictly in order: a new get never overtakes a
 * waiting one, and the oldest waiter gathers buffers as they are put back,
 * so a stream of small gets cannot starve a large one.
 *
 * Progress: a cache's waiters are woken only by puts on that cache (and take
 * from the pool what other caches returned at that moment). What a cache
 * holds - cached, in its users' hands, set aside for its oldest waiter -
 * never drops below its reservation, and every buffer goes back to the cache
 * it came from, so a get of at most cache_size buffers is always served once
 * the cache's users put back what they hold. Larger gets may wait until
 * enough buffers come back to this cache or to the pool while it puts.
 *
 * A pool may be used by any thread (its free list is a lock-free MPMC ring);
 * a cache only by the thread that created it.
 */
#ifndef NVTCP_IOBUF_H
#define NVTCP_IOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/queue.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvt_iobuf_pool;
struct nvt_iobuf_cache;
struct nvt_iobuf_entry;

/** Most buffers one get may ask for. */
#define NVT_IOBUF_MAX_BUFS 64

/**
 * Called on the cache's thread when a waiting get is served; bufs[] is filled.
 * Runs inside nvt_iobuf_put() or nvt_iobuf_entry_abort() on the cache (whose
 * buffers served it), never inside nvt_iobuf_get(). It may get and put on the
 * cache; gets served meanwhile are called back after it, in order.
 */
typedef void (*nvt_iobuf_get_cb)(struct nvt_iobuf_entry *entry, void **bufs);

/** A waiting get; caller-owned storage (usually inside the request). */
struct nvt_iobuf_entry {
	STAILQ_ENTRY(nvt_iobuf_entry) link; /**< private to the cache */
	nvt_iobuf_get_cb cb;		    /**< private: set by nvt_iobuf_get() */
	void **bufs;			    /**< private: where to put the buffers */
	uint32_t count;			    /**< private: how many are wanted */
	uint32_t filled;		    /**< private: how many are set aside */
};

/** Counters of one cache (its poll group). */
struct nvt_iobuf_cache_stats {
	uint64_t cache_hits; /**< buffers taken from the own cache */
	uint64_t pool_hits;  /**< buffers taken from the shared pool (also for waiters) */
	uint64_t waits;	     /**< gets that had to wait */
	uint64_t in_use;     /**< buffers this cache's users hold now (not those set aside) */
	uint32_t cached;     /**< buffers in the cache now */
	uint32_t waiting;    /**< gets waiting now */
};

/**
 * Create a shared pool of \p count buffers of \p buf_size bytes (a multiple
 * of 4096), allocated up front. Any thread.
 *
 * \return 0, -EINVAL (bad sizes) or -ENOMEM.
 */
int nvt_iobuf_pool_create(const char *name, uint32_t count, uint32_t buf_size,
			  struct nvt_iobuf_pool **pool);

/**
 * Free a pool and set the caller's pointer to NULL. Every cache must have
 * been destroyed and every buffer put back; what is missing is logged.
 */
void nvt_iobuf_pool_destroy(struct nvt_iobuf_pool **pool);

uint32_t nvt_iobuf_pool_get_buf_size(const struct nvt_iobuf_pool *pool);
uint32_t nvt_iobuf_pool_get_count(const struct nvt_iobuf_pool *pool);

/** Buffers in the shared pool now (not in any cache, not in use). Any thread. */
uint32_t nvt_iobuf_pool_get_free(const struct nvt_iobuf_pool *pool);

/**
 * Create the calling thread's cache, reserving \p cache_size buffers from
 * the pool (all or nothing).
 *
 * \return 0, -EINVAL (no current thread, or \p cache_size above the pool's
 * count), or -ENOMEM when the pool cannot fill the reservation (the pool is
 * then unchanged).
 */
int nvt_iobuf_cache_create(struct nvt_iobuf_pool *pool, uint32_t cache_size, const char *name,
			   struct nvt_iobuf_cache **cache);

/**
 * Give every cached buffer back to the pool and free the cache; sets the
 * caller's pointer to NULL. No get may be waiting and no buffer in use (an
 * error is logged otherwise). Owning thread only.
 */
void nvt_iobuf_cache_destroy(struct nvt_iobuf_cache **cache);

/**
 * Get \p count buffers (1 .. NVT_IOBUF_MAX_BUFS) into \p bufs. Owning thread
 * only.
 *
 * \return \p count when they were available now (cb will not run); 0 when the
 * get waits: \p cb(\p entry, \p bufs) runs later on this thread, in FIFO
 * order with other waiting gets, once all \p count buffers are available
 * (until then \p bufs and \p entry belong to the cache and \p bufs may hold
 * buffers set aside); -EINVAL when \p count is 0, above NVT_IOBUF_MAX_BUFS,
 * or above what the cache and pool could ever hold: cache_size plus the
 * buffers of the pool that no cache has reserved.
 */
int nvt_iobuf_get(struct nvt_iobuf_cache *cache, uint32_t count, void **bufs,
		  struct nvt_iobuf_entry *entry, nvt_iobuf_get_cb cb);

/**
 * Put back \p count buffers got from \p cache (owning thread only). Waiting
 * gets this serves are called back before it returns.
 */
void nvt_iobuf_put(struct nvt_iobuf_cache *cache, void **bufs, uint32_t count);

/**
 * Withdraw a waiting get (e.g. its connection is closing); buffers already
 * set aside for it go back as a put would, which may serve (and call back)
 * the next waiters. Its callback will not run. Owning thread only. No-op if
 * not waiting.
 */
void nvt_iobuf_entry_abort(struct nvt_iobuf_cache *cache, struct nvt_iobuf_entry *entry);

/** Counters of \p cache; owning thread (others read a racy snapshot). */
void nvt_iobuf_cache_get_stats(const struct nvt_iobuf_cache *cache,
			       struct nvt_iobuf_cache_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_IOBUF_H */
