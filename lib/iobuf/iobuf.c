/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared data buffer pool and its per-thread caches.
 *
 * Buffers live in one allocation made at pool creation; the pool's free list
 * is an MPMC ring, so caches on different threads take and return buffers
 * without a lock. A cache belongs to one thread and is touched by no other.
 *
 * What a cache holds for its thread (in its stack, in its users' hands, set
 * aside for its head waiter) never drops below its reservation: a put only
 * goes to the pool once the stack is full. A waiting get of at most
 * cache_size buffers is therefore always served by the cache's own puts.
 * A larger one also needs the unreserved part of the pool: a cache with
 * waiters is listed as hungry in the pool, and whoever gives buffers back
 * to the pool sends each hungry cache a message to try again, so no waiter
 * depends on traffic of its own to be woken.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nvtcp/iobuf.h"
#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/ring.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"

#define IOBUF_NAME_LEN	64
#define IOBUF_ALIGN	4096
#define IOBUF_HUGE_PAGE (2u * 1024 * 1024)

STAILQ_HEAD(iobuf_waitq, nvt_iobuf_entry);

struct nvt_iobuf_pool {
	char name[IOBUF_NAME_LEN];
	uint32_t count;
	uint32_t buf_size;
	/* count * buf_size bytes, IOBUF_ALIGN aligned. */
	void *base;
	/* Free buffers (MPMC: any cache's thread takes and returns). */
	struct nvt_ring *free;
	/* Sum of the sizes of live caches. */
	_Atomic uint32_t reserved;
	_Atomic uint32_t cache_count;
	/* Caches with waiters; the lock is only taken on the exhausted path. */
	pthread_mutex_t hungry_lock;
	TAILQ_HEAD(, nvt_iobuf_cache) hungry;
	_Atomic uint32_t hungry_count;
};

struct nvt_iobuf_cache {
	struct nvt_iobuf_pool *pool;
	struct nvt_thread *thread;
	char name[IOBUF_NAME_LEN];
	/* Reservation, and most buffers the stack holds. */
	uint32_t size;
	uint32_t cached;
	/* Waiting gets, oldest first; only the head has buffers set aside. */
	struct iobuf_waitq waitq;
	/* Served gets whose callback has not run yet (see cache_deliver()). */
	struct iobuf_waitq ready;
	bool delivering;
	/* In pool->hungry (under hungry_lock). */
	bool hungry;
	TAILQ_ENTRY(nvt_iobuf_cache) hungry_link;
	/* A retry message is on its way (set by any thread, cleared by ours). */
	_Atomic bool retry_pending;
	/* That message: one at a time, as retry_pending says; never lost. */
	struct nvt_thread_msg retry_msg;
	/* Destroyed while a retry was on its way: the retry frees it. */
	bool dead;
	struct nvt_iobuf_cache_stats stats;
	/* Stack of cached buffers, size entries. */
	void *bufs[];
};

/*
 * The buffers' memory: transparent huge pages where it spans them, so
 * that a large request's data needs one TLB entry instead of dozens, for
 * our copies and the kernel's alike; pages are still faulted in only when
 * a buffer is first used. The advice failing (no THP) changes nothing else.
 */
static int
pool_alloc_base(struct nvt_iobuf_pool *pool, size_t size)
{
	size_t align = size >= IOBUF_HUGE_PAGE ? IOBUF_HUGE_PAGE : IOBUF_ALIGN;

	if (posix_memalign(&pool->base, align, size) != 0) {
		return -ENOMEM;
	}
	if (align == IOBUF_HUGE_PAGE) {
		(void)madvise(pool->base, size - size % IOBUF_HUGE_PAGE, MADV_HUGEPAGE);
	}
	return 0;
}

int
nvt_iobuf_pool_create(const char *name, uint32_t count, uint32_t buf_size,
		      struct nvt_iobuf_pool **out)
{
	struct nvt_iobuf_pool *pool;
	void *buf;
	uint32_t i;

	if (count == 0 || buf_size == 0 || buf_size % IOBUF_ALIGN != 0 ||
	    (uint64_t)count * buf_size > SIZE_MAX / 2) {
		return -EINVAL;
	}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		return -ENOMEM;
	}
	nvt_strcpy_trunc(pool->name, sizeof(pool->name), name ? name : "iobuf");
	pthread_mutex_init(&pool->hungry_lock, NULL);
	TAILQ_INIT(&pool->hungry);
	pool->count = count;
	pool->buf_size = buf_size;
	pool->free = nvt_ring_create(NVT_RING_MPMC, count);
	if (pool->free == NULL || pool_alloc_base(pool, (size_t)count * buf_size) != 0) {
		nvt_ring_free(&pool->free);
		free(pool);
		return -ENOMEM;
	}
	for (i = 0; i < count; i++) {
		buf = (char *)pool->base + (size_t)i * buf_size;
		/* Cannot fail: the ring holds at least count and nobody else uses it yet. */
		nvt_ring_enqueue(pool->free, &buf, 1);
	}
	*out = pool;
	return 0;
}

void
nvt_iobuf_pool_destroy(struct nvt_iobuf_pool **poolp)
{
	struct nvt_iobuf_pool *pool = poolp ? *poolp : NULL;
	uint32_t nfree;

	if (pool == NULL) {
		return;
	}
	nfree = nvt_iobuf_pool_get_free(pool);
	if (atomic_load(&pool->cache_count) != 0 || nfree != pool->count) {
		NVT_ERRLOG("iobuf pool %s: destroyed with %u caches alive and %u of %u buffers "
			   "missing\n",
			   pool->name, atomic_load(&pool->cache_count), pool->count - nfree,
			   pool->count);
	}
	nvt_ring_free(&pool->free);
	pthread_mutex_destroy(&pool->hungry_lock);
	free(pool->base);
	free(pool);
	*poolp = NULL;
}

uint32_t
nvt_iobuf_pool_get_buf_size(const struct nvt_iobuf_pool *pool)
{
	return pool->buf_size;
}

uint32_t
nvt_iobuf_pool_get_count(const struct nvt_iobuf_pool *pool)
{
	return pool->count;
}

uint32_t
nvt_iobuf_pool_get_free(const struct nvt_iobuf_pool *pool)
{
	return (uint32_t)nvt_ring_count(pool->free);
}

/*
 * Return buffers to the pool. The ring has room for every buffer, so a short
 * enqueue only means a consumer is between claiming a slot and releasing it.
 */
static void
pool_put(struct nvt_iobuf_pool *pool, void **bufs, uint32_t count)
{
	size_t done = 0, n;

	while (done < count) {
		n = nvt_ring_enqueue(pool->free, bufs + done, count - done);
		done += n;
		if (nvt_unlikely(n == 0)) {
			sched_yield();
		}
	}
}

static uint32_t
pool_take(struct nvt_iobuf_pool *pool, void **bufs, uint32_t count)
{
	return (uint32_t)nvt_ring_dequeue(pool->free, bufs, count);
}

static void cache_fill_from_pool(struct nvt_iobuf_cache *cache);
static void cache_deliver(struct nvt_iobuf_cache *cache);
static void cache_update_hungry(struct nvt_iobuf_cache *cache);

static void
cache_retry_msg(void *arg)
{
	struct nvt_iobuf_cache *cache = arg;

	atomic_store(&cache->retry_pending, false);
	if (cache->dead) {
		free(cache);
		return;
	}
	cache_fill_from_pool(cache);
	cache_update_hungry(cache);
	cache_deliver(cache);
}

/* Tell every hungry cache but \p self that the pool got buffers back. */
static void
pool_wake_hungry(struct nvt_iobuf_pool *pool, struct nvt_iobuf_cache *self)
{
	struct nvt_iobuf_cache *cache;

	if (nvt_likely(atomic_load_explicit(&pool->hungry_count, memory_order_relaxed) == 0)) {
		return;
	}
	pthread_mutex_lock(&pool->hungry_lock);
	TAILQ_FOREACH(cache, &pool->hungry, hungry_link) {
		if (cache == self || atomic_exchange(&cache->retry_pending, true)) {
			continue;
		}
		if (nvt_thread_send_msg_prealloc(cache->thread, &cache->retry_msg, cache_retry_msg,
						 cache) != 0) {
			atomic_store(&cache->retry_pending, false);
			NVT_ERRLOG("iobuf cache %s: cannot signal returned buffers\n", cache->name);
		}
	}
	pthread_mutex_unlock(&pool->hungry_lock);
}

/* List or unlist the cache as hungry when its wait queue changed. */
static void
cache_update_hungry(struct nvt_iobuf_cache *cache)
{
	struct nvt_iobuf_pool *pool = cache->pool;
	bool hungry = !STAILQ_EMPTY(&cache->waitq);

	if (nvt_likely(hungry == cache->hungry)) {
		return;
	}
	pthread_mutex_lock(&pool->hungry_lock);
	if (hungry) {
		TAILQ_INSERT_TAIL(&pool->hungry, cache, hungry_link);
		atomic_fetch_add(&pool->hungry_count, 1);
	} else {
		TAILQ_REMOVE(&pool->hungry, cache, hungry_link);
		atomic_fetch_sub(&pool->hungry_count, 1);
	}
	cache->hungry = hungry;
	pthread_mutex_unlock(&pool->hungry_lock);
}

int
nvt_iobuf_cache_create(struct nvt_iobuf_pool *pool, uint32_t cache_size, const char *name,
		       struct nvt_iobuf_cache **out)
{
	struct nvt_iobuf_cache *cache;
	uint32_t got;

	if (nvt_get_thread() == NULL || cache_size > pool->count) {
		return -EINVAL;
	}
	cache = calloc(1, sizeof(*cache) + cache_size * sizeof(void *));
	if (cache == NULL) {
		return -ENOMEM;
	}
	got = pool_take(pool, cache->bufs, cache_size);
	if (got < cache_size) {
		pool_put(pool, cache->bufs, got);
		free(cache);
		return -ENOMEM;
	}
	cache->pool = pool;
	cache->thread = nvt_get_thread();
	nvt_strcpy_trunc(cache->name, sizeof(cache->name), name ? name : "iobuf_cache");
	cache->size = cache_size;
	cache->cached = cache_size;
	STAILQ_INIT(&cache->waitq);
	STAILQ_INIT(&cache->ready);
	atomic_fetch_add(&pool->reserved, cache_size);
	atomic_fetch_add(&pool->cache_count, 1);
	*out = cache;
	return 0;
}

void
nvt_iobuf_cache_destroy(struct nvt_iobuf_cache **cachep)
{
	struct nvt_iobuf_cache *cache = cachep ? *cachep : NULL;

	if (cache == NULL) {
		return;
	}
	assert(nvt_get_thread() == cache->thread);
	if (!STAILQ_EMPTY(&cache->waitq) || !STAILQ_EMPTY(&cache->ready) ||
	    cache->stats.in_use != 0) {
		NVT_ERRLOG(
			"iobuf cache %s: destroyed with %u gets waiting and %lu buffers in use\n",
			cache->name, cache->stats.waiting, (unsigned long)cache->stats.in_use);
	}
	STAILQ_INIT(&cache->waitq);
	cache_update_hungry(cache);
	pool_put(cache->pool, cache->bufs, cache->cached);
	atomic_fetch_sub(&cache->pool->reserved, cache->size);
	atomic_fetch_sub(&cache->pool->cache_count, 1);
	pool_wake_hungry(cache->pool, cache);
	*cachep = NULL;
	/* No new retry can be sent once unlisted; one on its way frees the cache. */
	if (atomic_load(&cache->retry_pending)) {
		cache->dead = true;
		return;
	}
	free(cache);
}

/* Take up to count buffers: the own stack first (most recently used), then the pool. */
static uint32_t
cache_take(struct nvt_iobuf_cache *cache, void **bufs, uint32_t count)
{
	uint32_t n = NVT_MIN(cache->cached, count);
	uint32_t m;

	cache->cached -= n;
	memcpy(bufs, &cache->bufs[cache->cached], n * sizeof(void *));
	cache->stats.cache_hits += n;
	m = pool_take(cache->pool, bufs + n, count - n);
	cache->stats.pool_hits += m;
	return n + m;
}

/* The largest get that can ever be served: the reservation plus the unreserved pool. */
static uint32_t
cache_max_get(const struct nvt_iobuf_cache *cache)
{
	const struct nvt_iobuf_pool *pool = cache->pool;

	return cache->size + (pool->count - atomic_load(&pool->reserved));
}

int
nvt_iobuf_get(struct nvt_iobuf_cache *cache, uint32_t count, void **bufs,
	      struct nvt_iobuf_entry *entry, nvt_iobuf_get_cb cb)
{
	uint32_t got = 0;

	assert(nvt_get_thread() == cache->thread);
	if (count == 0 || count > NVT_IOBUF_MAX_BUFS || count > cache_max_get(cache)) {
		return -EINVAL;
	}
	/* With gets waiting the stack is empty and new gets queue behind them. */
	if (nvt_likely(STAILQ_EMPTY(&cache->waitq))) {
		got = cache_take(cache, bufs, count);
		if (nvt_likely(got == count)) {
			cache->stats.in_use += count;
			return (int)count;
		}
	}
	/* What was found is set aside: the head waiter keeps what it has gathered. */
	entry->cb = cb;
	entry->bufs = bufs;
	entry->count = count;
	entry->filled = got;
	STAILQ_INSERT_TAIL(&cache->waitq, entry, link);
	cache->stats.waiting++;
	cache->stats.waits++;
	cache_update_hungry(cache);
	return 0;
}

/* Move the head waiter to the ready list once it has all its buffers. */
static bool
cache_head_done(struct nvt_iobuf_cache *cache, struct nvt_iobuf_entry *entry)
{
	if (entry->filled < entry->count) {
		return false;
	}
	STAILQ_REMOVE_HEAD(&cache->waitq, link);
	cache->stats.waiting--;
	STAILQ_INSERT_TAIL(&cache->ready, entry, link);
	return true;
}

/*
 * Run the callbacks of served gets, oldest first. A callback may get or put
 * on this cache; gets it serves that way join the ready list behind the
 * others instead of overtaking them.
 */
static void
cache_deliver(struct nvt_iobuf_cache *cache)
{
	struct nvt_iobuf_entry *entry;

	if (cache->delivering) {
		return;
	}
	cache->delivering = true;
	while ((entry = STAILQ_FIRST(&cache->ready)) != NULL) {
		STAILQ_REMOVE_HEAD(&cache->ready, link);
		cache->stats.in_use += entry->count;
		entry->cb(entry, entry->bufs);
	}
	cache->delivering = false;
}

/* Top the head waiters up from the pool (buffers other caches gave back). */
static void
cache_fill_from_pool(struct nvt_iobuf_cache *cache)
{
	struct nvt_iobuf_entry *entry;
	uint32_t got;

	while ((entry = STAILQ_FIRST(&cache->waitq)) != NULL) {
		got = pool_take(cache->pool, &entry->bufs[entry->filled],
				entry->count - entry->filled);
		cache->stats.pool_hits += got;
		entry->filled += got;
		if (!cache_head_done(cache, entry)) {
			return;
		}
	}
}

/* Hand buffers back: oldest waiter first, then the stack up to its size, then the pool. */
static void
cache_give(struct nvt_iobuf_cache *cache, void **bufs, uint32_t count)
{
	struct nvt_iobuf_entry *entry;
	uint32_t i = 0, n;

	while (i < count && (entry = STAILQ_FIRST(&cache->waitq)) != NULL) {
		n = NVT_MIN(entry->count - entry->filled, count - i);
		memcpy(&entry->bufs[entry->filled], bufs + i, n * sizeof(void *));
		entry->filled += n;
		i += n;
		cache_head_done(cache, entry);
	}
	n = NVT_MIN(cache->size - cache->cached, count - i);
	memcpy(&cache->bufs[cache->cached], bufs + i, n * sizeof(void *));
	cache->cached += n;
	i += n;
	if (i < count) {
		pool_put(cache->pool, bufs + i, count - i);
		pool_wake_hungry(cache->pool, cache);
	}
	cache_fill_from_pool(cache);
	cache_update_hungry(cache);
	cache_deliver(cache);
}

void
nvt_iobuf_put(struct nvt_iobuf_cache *cache, void **bufs, uint32_t count)
{
	assert(nvt_get_thread() == cache->thread);
	assert(cache->stats.in_use >= count);
	cache->stats.in_use -= count;
	cache_give(cache, bufs, count);
}

static bool
waitq_remove(struct iobuf_waitq *q, struct nvt_iobuf_entry *entry)
{
	struct nvt_iobuf_entry *e;

	STAILQ_FOREACH(e, q, link) {
		if (e == entry) {
			STAILQ_REMOVE(q, entry, nvt_iobuf_entry, link);
			return true;
		}
	}
	return false;
}

void
nvt_iobuf_entry_abort(struct nvt_iobuf_cache *cache, struct nvt_iobuf_entry *entry)
{
	assert(nvt_get_thread() == cache->thread);
	if (waitq_remove(&cache->waitq, entry)) {
		cache->stats.waiting--;
	} else if (!waitq_remove(&cache->ready, entry)) {
		return;
	}
	/* Give what it gathered to the next waiter (which may complete it), or keep it. */
	cache_give(cache, entry->bufs, entry->filled);
	entry->filled = 0;
}

void
nvt_iobuf_cache_get_stats(const struct nvt_iobuf_cache *cache, struct nvt_iobuf_cache_stats *stats)
{
	*stats = cache->stats;
	stats->cached = cache->cached;
}
