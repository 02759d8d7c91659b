/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the buffer pool and its caches. Most cases run on one OS
 * thread that switches between nvt_threads (one per cache) by hand; the
 * stress runs one pthread per cache against a shared pool.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "nvtcp/iobuf.h"
#include "nvtcp/likely.h"
#include "../thread/ut_thread.h"

#define BUF_SIZE 4096

/* One get, waiting or served. */
struct ut_get {
	struct nvt_iobuf_entry entry;
	void *bufs[NVT_IOBUF_MAX_BUFS];
	uint32_t n;
	/* Position among callbacks (1, 2, ...), 0 while not called back. */
	int order;
	/* What the callback does with the buffers: put them straight back. */
	struct nvt_iobuf_cache *put_back;
	/* Owner of the get, for the random and stress workloads. */
	void *ctx;
};

static int g_cb_seq;
static bool g_in_get;

static void
ut_get_done(struct nvt_iobuf_entry *entry, void **bufs)
{
	struct ut_get *g = NVT_CONTAINEROF(entry, struct ut_get, entry);

	/* The async contract: never called back from inside nvt_iobuf_get(). */
	assert_false(g_in_get);
	assert_ptr_equal(bufs, g->bufs);
	assert_int_equal(g->order, 0);
	g->order = ++g_cb_seq;
	if (g->put_back != NULL) {
		nvt_iobuf_put(g->put_back, g->bufs, g->n);
	}
}

static int
ut_get(struct nvt_iobuf_cache *cache, struct ut_get *g, uint32_t n)
{
	int rc;

	g->n = n;
	g->order = 0;
	g_in_get = true;
	rc = nvt_iobuf_get(cache, n, g->bufs, &g->entry, ut_get_done);
	g_in_get = false;
	return rc;
}

static struct nvt_thread *
ut_thread(const char *name)
{
	struct nvt_thread *thread = nvt_thread_create(name, NULL);

	assert_non_null(thread);
	nvt_set_thread(thread);
	return thread;
}

static void
ut_thread_done(struct nvt_thread **thread)
{
	assert_true(ut_thread_exit_destroy(thread));
}

static struct nvt_iobuf_cache_stats
ut_stats(const struct nvt_iobuf_cache *cache)
{
	struct nvt_iobuf_cache_stats st;

	nvt_iobuf_cache_get_stats(cache, &st);
	return st;
}

static void
test_pool_create(void **state)
{
	struct nvt_iobuf_pool *pool = NULL;

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("p", 0, BUF_SIZE, &pool), -EINVAL);
	assert_int_equal(nvt_iobuf_pool_create("p", 8, 0, &pool), -EINVAL);
	assert_int_equal(nvt_iobuf_pool_create("p", 8, 512, &pool), -EINVAL);
	assert_int_equal(nvt_iobuf_pool_create("p", 8, 4096 + 512, &pool), -EINVAL);
	assert_null(pool);
	assert_int_equal(nvt_iobuf_pool_create("p", 10, 2 * BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_pool_get_count(pool), 10);
	assert_int_equal(nvt_iobuf_pool_get_buf_size(pool), 2 * BUF_SIZE);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 10);
	nvt_iobuf_pool_destroy(&pool);
	assert_null(pool);
	nvt_iobuf_pool_destroy(&pool);
	nvt_iobuf_pool_destroy(NULL);
}

/* A reservation the pool cannot fill fails whole and leaves the pool as it was. */
static void
test_reservation(void **state)
{
	struct nvt_thread *thread;
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *a, *b = NULL;

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("p", 8, BUF_SIZE, &pool), 0);
	nvt_set_thread(NULL);
	assert_int_equal(nvt_iobuf_cache_create(pool, 2, "off", &a), -EINVAL);
	thread = ut_thread("t");
	assert_int_equal(nvt_iobuf_cache_create(pool, 9, "big", &a), -EINVAL);
	assert_int_equal(nvt_iobuf_cache_create(pool, 6, "a", &a), 0);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 2);
	assert_int_equal(ut_stats(a).cached, 6);
	assert_int_equal(nvt_iobuf_cache_create(pool, 3, "b", &b), -ENOMEM);
	assert_null(b);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 2);
	assert_int_equal(nvt_iobuf_cache_create(pool, 2, "b", &b), 0);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 0);
	nvt_iobuf_cache_destroy(&a);
	assert_null(a);
	nvt_iobuf_cache_destroy(&b);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 8);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&thread);
}

/* Own cache first, then the pool; puts refill the cache before the pool. */
static void
test_hit_counters(void **state)
{
	struct nvt_thread *thread = ut_thread("t");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *cache;
	struct nvt_iobuf_cache_stats st;
	struct ut_get g1 = { 0 }, g2 = { 0 };

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("p", 16, BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_cache_create(pool, 4, "c", &cache), 0);
	assert_int_equal(ut_get(cache, &g1, 3), 3);
	st = ut_stats(cache);
	assert_int_equal(st.cache_hits, 3);
	assert_int_equal(st.pool_hits, 0);
	assert_int_equal(st.cached, 1);
	assert_int_equal(ut_get(cache, &g2, 3), 3);
	st = ut_stats(cache);
	assert_int_equal(st.cache_hits, 4);
	assert_int_equal(st.pool_hits, 2);
	assert_int_equal(st.in_use, 6);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.waits, 0);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 10);

	nvt_iobuf_put(cache, g1.bufs, 3);
	assert_int_equal(ut_stats(cache).cached, 3);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 10);
	nvt_iobuf_put(cache, g2.bufs, 3);
	st = ut_stats(cache);
	assert_int_equal(st.cached, 4);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 12);
	assert_int_equal(g1.order + g2.order, 0);

	nvt_iobuf_cache_destroy(&cache);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 16);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&thread);
}

static void
test_get_invalid(void **state)
{
	struct nvt_thread *thread = ut_thread("t");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *a, *b;
	struct ut_get g = { 0 };

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("p", 100, BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_cache_create(pool, 2, "a", &a), 0);
	assert_int_equal(ut_get(a, &g, 0), -EINVAL);
	assert_int_equal(ut_get(a, &g, NVT_IOBUF_MAX_BUFS + 1), -EINVAL);
	assert_int_equal(ut_get(a, &g, NVT_IOBUF_MAX_BUFS), NVT_IOBUF_MAX_BUFS);
	nvt_iobuf_put(a, g.bufs, NVT_IOBUF_MAX_BUFS);
	/* 94 buffers reserved by others: a may ever hold its 2 plus the 4 unreserved. */
	assert_int_equal(nvt_iobuf_cache_create(pool, 94, "b", &b), 0);
	assert_int_equal(ut_get(a, &g, 7), -EINVAL);
	assert_int_equal(ut_get(a, &g, 6), 6);
	nvt_iobuf_put(a, g.bufs, 6);
	assert_int_equal(ut_stats(a).waits, 0);
	nvt_iobuf_cache_destroy(&b);
	nvt_iobuf_cache_destroy(&a);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 100);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&thread);
}

/*
 * Waiters are served in arrival order, inside the put that completes them, and
 * a waiter's callback that puts right back serves the next ones after it.
 */
static void
test_fifo_wait_order(void **state)
{
	struct nvt_thread *thread = ut_thread("t");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *cache;
	struct ut_get hold = { 0 }, w1 = { 0 }, w2 = { 0 }, w3 = { 0 }, w4 = { 0 };

	(void)state;
	g_cb_seq = 0;
	assert_int_equal(nvt_iobuf_pool_create("p", 4, BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_cache_create(pool, 4, "c", &cache), 0);
	assert_int_equal(ut_get(cache, &hold, 4), 4);
	assert_int_equal(ut_get(cache, &w1, 2), 0);
	assert_int_equal(ut_get(cache, &w2, 1), 0);
	assert_int_equal(ut_get(cache, &w3, 3), 0);
	w3.put_back = cache;
	assert_int_equal(ut_get(cache, &w4, 3), 0);
	assert_int_equal(ut_stats(cache).waiting, 4);
	assert_int_equal(ut_stats(cache).waits, 4);

	nvt_iobuf_put(cache, &hold.bufs[0], 1);
	assert_int_equal(w1.order, 0);
	nvt_iobuf_put(cache, &hold.bufs[1], 1);
	assert_int_equal(w1.order, 1);
	assert_int_equal(ut_stats(cache).waiting, 3);
	/* Two buffers: one completes w2, the other goes to w3, not to the cache. */
	nvt_iobuf_put(cache, &hold.bufs[2], 2);
	assert_int_equal(w2.order, 2);
	assert_int_equal(w3.order, 0);
	assert_int_equal(ut_stats(cache).cached, 0);
	nvt_iobuf_put(cache, w1.bufs, 2);
	/* w3 completes and puts its 3 back at once: w4 then has all 3 - called after w3. */
	assert_int_equal(w3.order, 3);
	assert_int_equal(w4.order, 4);
	assert_int_equal(ut_stats(cache).waiting, 0);
	assert_int_equal(ut_stats(cache).in_use, 4);
	nvt_iobuf_put(cache, w2.bufs, 1);
	nvt_iobuf_put(cache, w4.bufs, 3);
	assert_int_equal(ut_stats(cache).in_use, 0);
	assert_int_equal(ut_stats(cache).cached, 4);
	nvt_iobuf_cache_destroy(&cache);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 4);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&thread);
}

/*
 * A multi-buffer get gets everything or waits; while it waits, a small get
 * does not overtake it even when the pool has a buffer for the small one.
 */
static void
test_multi_all_or_nothing(void **state)
{
	struct nvt_thread *ta = ut_thread("a"), *tb = ut_thread("b");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *a, *b;
	struct ut_get hold_a = { 0 }, hold_b = { 0 }, big = { 0 }, small = { 0 };
	uint32_t i, j;

	(void)state;
	g_cb_seq = 0;
	assert_int_equal(nvt_iobuf_pool_create("p", 8, BUF_SIZE, &pool), 0);
	nvt_set_thread(ta);
	assert_int_equal(nvt_iobuf_cache_create(pool, 4, "a", &a), 0);
	nvt_set_thread(tb);
	assert_int_equal(nvt_iobuf_cache_create(pool, 0, "b", &b), 0);
	assert_int_equal(ut_get(b, &hold_b, 4), 4);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 0);

	nvt_set_thread(ta);
	assert_int_equal(ut_get(a, &hold_a, 3), 3);
	assert_int_equal(ut_get(a, &big, 4), 0);
	/* The last cached buffer is set aside for big, not left for anyone else. */
	assert_int_equal(ut_stats(a).cached, 0);
	assert_int_equal(ut_stats(a).in_use, 3);

	nvt_set_thread(tb);
	nvt_iobuf_put(b, &hold_b.bufs[0], 1);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 1);
	nvt_set_thread(ta);
	assert_int_equal(ut_get(a, &small, 1), 0);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 1);

	/* This put gives big 1 and lets it take the pool's buffer: 3 of 4. */
	nvt_iobuf_put(a, &hold_a.bufs[0], 1);
	assert_int_equal(big.order, 0);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 0);
	nvt_iobuf_put(a, &hold_a.bufs[1], 1);
	assert_int_equal(big.order, 1);
	assert_int_equal(small.order, 0);
	nvt_iobuf_put(a, &hold_a.bufs[2], 1);
	assert_int_equal(small.order, 2);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < i; j++) {
			assert_ptr_not_equal(big.bufs[i], big.bufs[j]);
		}
		assert_ptr_not_equal(big.bufs[i], small.bufs[0]);
	}
	nvt_iobuf_put(a, big.bufs, 4);
	nvt_iobuf_put(a, small.bufs, 1);
	assert_int_equal(ut_stats(a).cached, 4);
	nvt_iobuf_cache_destroy(&a);
	nvt_set_thread(tb);
	nvt_iobuf_put(b, &hold_b.bufs[1], 3);
	nvt_iobuf_cache_destroy(&b);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 8);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&ta);
	ut_thread_done(&tb);
}

/* An aborted waiter never runs; what it gathered serves the next waiter. */
static void
test_abort(void **state)
{
	struct nvt_thread *thread = ut_thread("t");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *cache;
	struct ut_get hold = { 0 }, w1 = { 0 }, w2 = { 0 }, w3 = { 0 }, unused = { 0 };

	(void)state;
	g_cb_seq = 0;
	assert_int_equal(nvt_iobuf_pool_create("p", 4, BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_cache_create(pool, 4, "c", &cache), 0);
	assert_int_equal(ut_get(cache, &hold, 4), 4);
	assert_int_equal(ut_get(cache, &w1, 3), 0);
	assert_int_equal(ut_get(cache, &w2, 2), 0);
	assert_int_equal(ut_get(cache, &w3, 1), 0);
	nvt_iobuf_put(cache, hold.bufs, 2);
	assert_int_equal(w1.order, 0);

	/* w3 waits behind w2 with nothing set aside: leaving changes nothing else. */
	nvt_iobuf_entry_abort(cache, &w3.entry);
	assert_int_equal(ut_stats(cache).waiting, 2);
	/* w1's two buffers complete w2, inside the abort. */
	nvt_iobuf_entry_abort(cache, &w1.entry);
	assert_int_equal(w1.order, 0);
	assert_int_equal(w2.order, 1);
	assert_int_equal(ut_stats(cache).waiting, 0);
	nvt_iobuf_entry_abort(cache, &w1.entry);
	nvt_iobuf_entry_abort(cache, &unused.entry);

	nvt_iobuf_put(cache, &hold.bufs[2], 2);
	nvt_iobuf_put(cache, w2.bufs, 2);
	assert_int_equal(w3.order, 0);
	assert_int_equal(ut_stats(cache).in_use, 0);
	assert_int_equal(ut_stats(cache).cached, 4);
	nvt_iobuf_cache_destroy(&cache);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 4);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&thread);
}

/*
 * Another group has drained the shared pool and keeps asking: this group
 * still gets its reserved buffers at once, again and again.
 */
static void
test_no_starvation(void **state)
{
	struct nvt_thread *ta = ut_thread("a"), *tb = ut_thread("b");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *a, *b;
	struct ut_get ga[16] = { 0 }, gb = { 0 }, gb2 = { 0 };
	uint32_t i, held = 0;
	int round;

	(void)state;
	g_cb_seq = 0;
	assert_int_equal(nvt_iobuf_pool_create("p", 16, BUF_SIZE, &pool), 0);
	nvt_set_thread(ta);
	assert_int_equal(nvt_iobuf_cache_create(pool, 4, "a", &a), 0);
	nvt_set_thread(tb);
	assert_int_equal(nvt_iobuf_cache_create(pool, 4, "b", &b), 0);

	nvt_set_thread(ta);
	for (i = 0; ut_get(a, &ga[i], 1) == 1; i++) {
		held++;
	}
	assert_int_equal(held, 12);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 0);

	nvt_set_thread(tb);
	for (round = 0; round < 100; round++) {
		assert_int_equal(ut_get(b, &gb, 4), 4);
		nvt_iobuf_put(b, gb.bufs, 4);
	}
	assert_int_equal(ut_stats(b).cache_hits, 400);
	assert_int_equal(ut_stats(b).waits, 0);
	/* Above its reservation b waits, and its own put serves it. */
	assert_int_equal(ut_get(b, &gb, 3), 3);
	assert_int_equal(ut_get(b, &gb2, 2), 0);
	nvt_iobuf_put(b, gb.bufs, 3);
	assert_int_equal(gb2.order, 1);
	nvt_iobuf_put(b, gb2.bufs, 2);
	nvt_iobuf_cache_destroy(&b);

	/* a's waiter is served by a's own put. */
	nvt_set_thread(ta);
	nvt_iobuf_put(a, ga[0].bufs, 1);
	assert_int_equal(ga[held].order, 2);
	for (i = 1; i <= held; i++) {
		nvt_iobuf_put(a, ga[i].bufs, 1);
	}
	nvt_iobuf_cache_destroy(&a);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 16);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&ta);
	ut_thread_done(&tb);
}

/*
 * A get above the cache size needs the shared pool; when another cache gives
 * buffers back there, the waiter is told by a message, without any put of
 * its own.
 */
static void
test_wake_from_other_cache(void **state)
{
	struct nvt_thread *ta = ut_thread("a"), *tb = ut_thread("b");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *a, *b;
	struct ut_get ga = { 0 }, gb = { 0 };

	(void)state;
	g_cb_seq = 0;
	assert_int_equal(nvt_iobuf_pool_create("p", 16, BUF_SIZE, &pool), 0);
	nvt_set_thread(ta);
	assert_int_equal(nvt_iobuf_cache_create(pool, 2, "a", &a), 0);
	nvt_set_thread(tb);
	assert_int_equal(nvt_iobuf_cache_create(pool, 2, "b", &b), 0);
	/* b holds its cache and the whole unreserved pool. */
	assert_int_equal(ut_get(b, &gb, 14), 14);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 0);

	nvt_set_thread(ta);
	assert_int_equal(ut_get(a, &ga, 6), 0);
	assert_int_equal(nvt_thread_poll(ta, 0, 0), 0);
	assert_int_equal(ga.order, 0);

	nvt_set_thread(tb);
	nvt_iobuf_put(b, gb.bufs, 14);
	assert_int_equal(ga.order, 0);
	/* The retry message runs on a's thread and serves the waiter there. */
	assert_int_equal(nvt_thread_poll(ta, 0, 0), 1);
	assert_int_equal(ga.order, 1);
	assert_int_equal(ut_stats(a).waiting, 0);

	nvt_set_thread(ta);
	nvt_iobuf_put(a, ga.bufs, 6);
	nvt_iobuf_cache_destroy(&a);
	nvt_set_thread(tb);
	nvt_iobuf_cache_destroy(&b);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 16);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&ta);
	ut_thread_done(&tb);
}

/* ---- random workload: memory bound and uniqueness ---- */

#define RAND_CACHES 3
#define RAND_SLOTS  8
#define RAND_POOL   24
#define RAND_STEPS  20000

struct rand_cache {
	struct nvt_thread *thread;
	struct nvt_iobuf_cache *cache;
	uint32_t size;
	struct ut_get gets[RAND_SLOTS];
	/* 0 free, 1 waiting, 2 holding (a callback also moves 1 to 2). */
	int state[RAND_SLOTS];
};

static void
rand_get_done(struct nvt_iobuf_entry *entry, void **bufs)
{
	struct ut_get *g = NVT_CONTAINEROF(entry, struct ut_get, entry);
	int *slot_state = g->ctx;

	(void)bufs;
	assert_false(g_in_get);
	assert_int_equal(*slot_state, 1);
	*slot_state = 2;
}

/*
 * Every buffer is counted once: in a pool, a cache, a user's hands or set
 * aside; held buffers are distinct, page aligned, inside the pool's range.
 */
static void
rand_check(struct nvt_iobuf_pool *pool, struct rand_cache *rc, uintptr_t base)
{
	uint32_t total = nvt_iobuf_pool_get_free(pool), c, s, i, nheld = 0, k;
	struct nvt_iobuf_cache_stats st;
	uintptr_t held[RAND_POOL], p;
	struct ut_get *g;

	for (c = 0; c < RAND_CACHES; c++) {
		st = ut_stats(rc[c].cache);
		total += st.cached + (uint32_t)st.in_use;
		for (s = 0; s < RAND_SLOTS; s++) {
			g = &rc[c].gets[s];
			if (rc[c].state[s] == 1) {
				total += g->entry.filled;
				continue;
			}
			for (i = 0; rc[c].state[s] == 2 && i < g->n; i++) {
				p = (uintptr_t)g->bufs[i];
				assert_int_equal(p % 4096, 0);
				assert_true(p >= base && p < base + RAND_POOL * BUF_SIZE);
				for (k = 0; k < nheld; k++) {
					assert_true(held[k] != p);
				}
				assert_true(nheld < RAND_POOL);
				held[nheld++] = p;
			}
		}
	}
	assert_int_equal(total, RAND_POOL);
}

static void
rand_step(struct rand_cache *r, unsigned int *seed)
{
	uint32_t s = (uint32_t)rand_r(seed) % RAND_SLOTS, n;
	struct ut_get *g = &r->gets[s];
	int rc;

	nvt_set_thread(r->thread);
	if (r->state[s] == 2) {
		nvt_iobuf_put(r->cache, g->bufs, g->n);
		r->state[s] = 0;
	} else if (r->state[s] == 0) {
		n = 1 + (uint32_t)rand_r(seed) % r->size;
		g->n = n;
		g->ctx = &r->state[s];
		r->state[s] = 1;
		g_in_get = true;
		rc = nvt_iobuf_get(r->cache, n, g->bufs, &g->entry, rand_get_done);
		g_in_get = false;
		assert_true(rc == 0 || rc == (int)n);
		if (rc > 0) {
			r->state[s] = 2;
		}
	}
}

/* Put everything back; every waiter (n <= cache size) ends up served. */
static void
rand_drain(struct rand_cache *r)
{
	bool again = true;
	int s;

	nvt_set_thread(r->thread);
	while (again) {
		again = false;
		for (s = 0; s < RAND_SLOTS; s++) {
			if (r->state[s] == 2) {
				nvt_iobuf_put(r->cache, r->gets[s].bufs, r->gets[s].n);
				r->state[s] = 0;
				again = true;
			}
		}
	}
	for (s = 0; s < RAND_SLOTS; s++) {
		assert_int_equal(r->state[s], 0);
	}
}

/* Find the pool's base address: the lowest of all its buffers, got through one cache. */
static uintptr_t
pool_base(struct nvt_iobuf_pool *pool)
{
	struct nvt_iobuf_cache *cache;
	uint32_t count = nvt_iobuf_pool_get_count(pool), i, n;
	uintptr_t base = UINTPTR_MAX;
	void **bufs = calloc(count, sizeof(void *));

	assert_non_null(bufs);
	assert_int_equal(nvt_iobuf_cache_create(pool, 0, "scan", &cache), 0);
	for (i = 0; i < count; i += n) {
		n = NVT_MIN(count - i, NVT_IOBUF_MAX_BUFS);
		assert_int_equal(nvt_iobuf_get(cache, n, bufs + i, NULL, NULL), (int)n);
	}
	for (i = 0; i < count; i++) {
		base = NVT_MIN(base, (uintptr_t)bufs[i]);
		memset(bufs[i], 0, 64);
	}
	for (i = 0; i < count; i += n) {
		n = NVT_MIN(count - i, NVT_IOBUF_MAX_BUFS);
		nvt_iobuf_put(cache, bufs + i, n);
	}
	nvt_iobuf_cache_destroy(&cache);
	free(bufs);
	return base;
}

static void
test_memory_bound(void **state)
{
	static const uint32_t sizes[RAND_CACHES] = { 6, 6, 3 };
	struct rand_cache rc[RAND_CACHES] = { 0 };
	struct nvt_iobuf_pool *pool;
	unsigned int seed = 42;
	uintptr_t base;
	int step, c;

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("p", RAND_POOL, BUF_SIZE, &pool), 0);
	for (c = 0; c < RAND_CACHES; c++) {
		rc[c].thread = ut_thread("r");
		rc[c].size = sizes[c];
	}
	base = pool_base(pool);
	for (c = 0; c < RAND_CACHES; c++) {
		nvt_set_thread(rc[c].thread);
		assert_int_equal(nvt_iobuf_cache_create(pool, sizes[c], "r", &rc[c].cache), 0);
	}
	for (step = 0; step < RAND_STEPS; step++) {
		rand_step(&rc[rand_r(&seed) % RAND_CACHES], &seed);
		rand_check(pool, rc, base);
	}
	for (c = 0; c < RAND_CACHES; c++) {
		assert_true(ut_stats(rc[c].cache).waits > 0);
		rand_drain(&rc[c]);
		rand_check(pool, rc, base);
	}
	for (c = 0; c < RAND_CACHES; c++) {
		nvt_set_thread(rc[c].thread);
		nvt_iobuf_cache_destroy(&rc[c].cache);
		ut_thread_done(&rc[c].thread);
	}
	assert_int_equal(nvt_iobuf_pool_get_free(pool), RAND_POOL);
	nvt_iobuf_pool_destroy(&pool);
}

/* Destroying a cache gives back its reservation and what its puts cached. */
static void
test_destroy_returns_all(void **state)
{
	struct nvt_thread *thread = ut_thread("t");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *cache;
	struct ut_get g = { 0 };

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("p", 32, BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_cache_create(pool, 8, "c", &cache), 0);
	assert_int_equal(ut_get(cache, &g, 20), 20);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 12);
	nvt_iobuf_put(cache, g.bufs, 20);
	assert_int_equal(ut_stats(cache).cached, 8);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 24);
	nvt_iobuf_cache_destroy(&cache);
	assert_int_equal(nvt_iobuf_pool_get_free(pool), 32);
	nvt_iobuf_pool_destroy(&pool);
	ut_thread_done(&thread);
}

/* Destroying a cache or a pool with a buffer still out is reported. */
static void
test_destroy_reports_leak(void **state)
{
	struct nvt_thread *thread = ut_thread("t");
	struct nvt_iobuf_pool *pool;
	struct nvt_iobuf_cache *cache;
	struct ut_get g = { 0 };

	(void)state;
	assert_int_equal(nvt_iobuf_pool_create("leaky", 4, BUF_SIZE, &pool), 0);
	assert_int_equal(nvt_iobuf_cache_create(pool, 2, "drippy", &cache), 0);
	assert_int_equal(ut_get(cache, &g, 1), 1);
	nvt_iobuf_cache_destroy(&cache);
	assert_true(ut_log_has("drippy"));
	nvt_iobuf_pool_destroy(&pool);
	assert_true(ut_log_has("leaky"));
	ut_log_clear();
	ut_thread_done(&thread);
}

/* ---- stress: one pthread per cache ---- */

#define STRESS_WORKERS 4
#define STRESS_CACHE   8
#define STRESS_POOL    64
#define STRESS_SLOTS   12
#define STRESS_ITERS   200000

struct stress_ctx {
	struct nvt_iobuf_pool *pool;
	uintptr_t base;
	/* Owner (worker id + 1) of every buffer, 0 when free. */
	_Atomic int owner[STRESS_POOL];
	_Atomic int errors;
	/* Every cache reserves before anyone takes from the shared part of the pool. */
	pthread_barrier_t reserved;
};

struct stress_worker {
	struct stress_ctx *ctx;
	int id;
	struct nvt_iobuf_cache *cache;
	struct ut_get gets[STRESS_SLOTS];
	int state[STRESS_SLOTS];
	struct nvt_iobuf_cache_stats stats;
};

static void
stress_claim(struct stress_worker *w, struct ut_get *g)
{
	uintptr_t p;
	uint32_t i;
	int expected;

	for (i = 0; i < g->n; i++) {
		p = (uintptr_t)g->bufs[i];
		expected = 0;
		if (p % 4096 != 0 || p < w->ctx->base ||
		    !atomic_compare_exchange_strong(&w->ctx->owner[(p - w->ctx->base) / BUF_SIZE],
						    &expected, w->id + 1)) {
			atomic_fetch_add(&w->ctx->errors, 1);
			continue;
		}
		/* A buffer handed out twice would show the other owner's mark. */
		*(volatile int *)g->bufs[i] = w->id + 1;
	}
}

static void
stress_release(struct stress_worker *w, struct ut_get *g)
{
	uintptr_t p;
	uint32_t i;

	for (i = 0; i < g->n; i++) {
		p = (uintptr_t)g->bufs[i];
		if (*(volatile int *)g->bufs[i] != w->id + 1) {
			atomic_fetch_add(&w->ctx->errors, 1);
		}
		atomic_store(&w->ctx->owner[(p - w->ctx->base) / BUF_SIZE], 0);
	}
	nvt_iobuf_put(w->cache, g->bufs, g->n);
}

static void
stress_get_done(struct nvt_iobuf_entry *entry, void **bufs)
{
	struct ut_get *g = NVT_CONTAINEROF(entry, struct ut_get, entry);
	struct stress_worker *w = g->ctx;
	int s = (int)(g - w->gets);

	(void)bufs;
	if (w->state[s] != 1) {
		atomic_fetch_add(&w->ctx->errors, 1);
	}
	w->state[s] = 2;
	stress_claim(w, g);
}

static void
stress_slot(struct stress_worker *w, int s, unsigned int *seed)
{
	struct ut_get *g = &w->gets[s];
	int rc;

	if (w->state[s] == 2) {
		w->state[s] = 0;
		stress_release(w, g);
	} else if (w->state[s] == 0) {
		g->n = 1 + (uint32_t)rand_r(seed) % STRESS_CACHE;
		g->ctx = w;
		w->state[s] = 1;
		rc = nvt_iobuf_get(w->cache, g->n, g->bufs, &g->entry, stress_get_done);
		if (rc == (int)g->n) {
			w->state[s] = 2;
			stress_claim(w, g);
		} else if (rc != 0) {
			atomic_fetch_add(&w->ctx->errors, 1);
			w->state[s] = 0;
		}
	}
}

static void *
stress_main(void *arg)
{
	struct stress_worker *w = arg;
	struct nvt_thread *thread = nvt_thread_create("stress", NULL);
	unsigned int seed = (unsigned int)w->id * 7919u + 1;
	int i, s, busy;

	nvt_set_thread(thread);
	if (nvt_iobuf_cache_create(w->ctx->pool, STRESS_CACHE, "stress", &w->cache) != 0) {
		atomic_fetch_add(&w->ctx->errors, 1);
	}
	pthread_barrier_wait(&w->ctx->reserved);
	for (i = 0; w->cache != NULL && i < STRESS_ITERS; i++) {
		stress_slot(w, rand_r(&seed) % STRESS_SLOTS, &seed);
	}
	/* Drain: puts serve the waiters, which then hold and are put in turn. */
	do {
		busy = 0;
		for (s = 0; s < STRESS_SLOTS; s++) {
			busy += w->state[s] != 0;
			if (w->state[s] == 2) {
				stress_slot(w, s, &seed);
			}
		}
	} while (busy > 0);
	if (w->cache != NULL) {
		nvt_iobuf_cache_get_stats(w->cache, &w->stats);
		nvt_iobuf_cache_destroy(&w->cache);
	}
	nvt_thread_exit(thread);
	while (!nvt_thread_is_exited(thread)) {
		nvt_thread_poll(thread, 0, 0);
	}
	nvt_thread_destroy(&thread);
	return NULL;
}

static void
test_stress_threads(void **state)
{
	struct stress_worker w[STRESS_WORKERS] = { 0 };
	struct stress_ctx *ctx = calloc(1, sizeof(*ctx));
	pthread_t tid[STRESS_WORKERS];
	struct nvt_thread *thread = ut_thread("main");
	uint64_t waits = 0, pool_hits = 0;
	int i;

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(nvt_iobuf_pool_create("stress", STRESS_POOL, BUF_SIZE, &ctx->pool), 0);
	ctx->base = pool_base(ctx->pool);
	assert_int_equal(pthread_barrier_init(&ctx->reserved, NULL, STRESS_WORKERS), 0);
	for (i = 0; i < STRESS_WORKERS; i++) {
		w[i].ctx = ctx;
		w[i].id = i;
		assert_int_equal(pthread_create(&tid[i], NULL, stress_main, &w[i]), 0);
	}
	for (i = 0; i < STRESS_WORKERS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(w[i].stats.in_use, 0);
		assert_int_equal(w[i].stats.waiting, 0);
		waits += w[i].stats.waits;
		pool_hits += w[i].stats.pool_hits;
	}
	assert_int_equal(atomic_load(&ctx->errors), 0);
	/* The workload is meant to exhaust the pool and contend for it. */
	assert_true(waits > 0);
	assert_true(pool_hits > 0);
	assert_int_equal(nvt_iobuf_pool_get_free(ctx->pool), STRESS_POOL);
	nvt_iobuf_pool_destroy(&ctx->pool);
	pthread_barrier_destroy(&ctx->reserved);
	free(ctx);
	ut_thread_done(&thread);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_create, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_reservation, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_hit_counters, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_get_invalid, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_fifo_wait_order, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_multi_all_or_nothing, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_abort, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_no_starvation, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_wake_from_other_cache, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_memory_bound, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_returns_all, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_reports_leak, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_stress_threads, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
