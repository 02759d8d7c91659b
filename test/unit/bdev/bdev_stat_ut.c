/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the I/O statistics: the histogram math (SPDK's bucket
 * layout), the per-channel counts and their gathering by messages, with
 * channels released before or after a running gather visits them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvtcp/bdev.h"
#include "nvtcp/histogram.h"
#include "bdev_malloc.h"
#include "../thread/ut_thread.h"
#include "bdev_internal.h"

#define BLOCKS 64

/* ---- histogram math ---- */

/* The one bucket holding a count in \p h; fails unless exactly one does. */
static size_t
ut_only_bucket(const struct nvt_histogram *h)
{
	size_t i, found = SIZE_MAX, n = nvt_histogram_num_buckets(h);

	for (i = 0; i < n; i++) {
		if (h->bucket[i] != 0) {
			assert_int_equal(found, SIZE_MAX);
			found = i;
		}
	}
	assert_int_not_equal(found, SIZE_MAX);
	return found;
}

/* \p v lands in the bucket whose bounds nvt_histogram_bucket_end() gives. */
static void
ut_check_value(struct nvt_histogram *h, uint64_t v)
{
	size_t i;

	nvt_histogram_reset(h);
	nvt_histogram_tally(h, v);
	i = ut_only_bucket(h);
	if (i > 0 && v >= nvt_histogram_bucket_end(h, 0)) {
		assert_true(nvt_histogram_bucket_end(h, i - 1) <= v);
	}
	if (i + 1 < nvt_histogram_num_buckets(h)) {
		assert_true(v < nvt_histogram_bucket_end(h, i));
	}
}

static void
test_histogram_layout(void **state)
{
	struct nvt_histogram *h = nvt_histogram_create(7, 0, UINT64_MAX);
	uint64_t v;
	int i;

	(void)state;
	assert_non_null(h);
	/* SPDK's default: ranges 0 .. 57 of 128 buckets. */
	assert_int_equal(h->min_range, 0);
	assert_int_equal(h->max_range, 57);
	assert_int_equal(nvt_histogram_num_buckets(h), 58 * 128);
	/* Ranges 0 and 1 one value per bucket, then doubling widths. */
	nvt_histogram_tally(h, 0);
	nvt_histogram_tally(h, 127);
	nvt_histogram_tally(h, 128);
	nvt_histogram_tally(h, 255);
	nvt_histogram_tally(h, 256);
	nvt_histogram_tally(h, 257);
	assert_int_equal(h->bucket[0], 1);
	assert_int_equal(h->bucket[127], 1);
	assert_int_equal(h->bucket[128], 1);
	assert_int_equal(h->bucket[255], 1);
	/* 256 and 257 share range 2's first bucket (2 values wide). */
	assert_int_equal(h->bucket[256], 2);
	assert_int_equal(nvt_histogram_total(h), 6);
	assert_int_equal(nvt_histogram_bucket_end(h, 0), 1);
	assert_int_equal(nvt_histogram_bucket_end(h, 255), 256);
	assert_int_equal(nvt_histogram_bucket_end(h, 256), 258);
	assert_int_equal(nvt_histogram_bucket_end(h, nvt_histogram_num_buckets(h) - 1), UINT64_MAX);
	/* Every value lands where the bounds say, edges included. */
	for (i = 0; i < 64; i++) {
		v = 1ull << i;
		ut_check_value(h, v - 1);
		ut_check_value(h, v);
		ut_check_value(h, v + 1);
		ut_check_value(h, v + v / 3);
	}
	ut_check_value(h, UINT64_MAX);
	nvt_histogram_destroy(&h);
	assert_null(h);
}

static void
test_histogram_clamp_merge(void **state)
{
	struct nvt_histogram *h = nvt_histogram_create(4, 1000, 100000);
	struct nvt_histogram *other = nvt_histogram_create(5, 1000, 100000);
	struct nvt_histogram *same = nvt_histogram_create(4, 1000, 100000);
	size_t last;

	(void)state;
	assert_non_null(h);
	assert_non_null(other);
	assert_non_null(same);
	assert_null(nvt_histogram_create(0, 0, 10));
	assert_null(nvt_histogram_create(7, 10, 10));
	assert_null(nvt_histogram_create(NVT_HISTOGRAM_GRANULARITY_MAX + 1, 0, 10));
	assert_int_equal(h->min_range, nvt_histogram_range_of(4, 1000));
	assert_int_equal(h->max_range, nvt_histogram_range_of(4, 99999));
	last = nvt_histogram_num_buckets(h) - 1;
	/* Below the stored ranges: the first bucket; above: the last. */
	nvt_histogram_tally(h, 3);
	nvt_histogram_tally(h, 1ull << 40);
	assert_int_equal(h->bucket[0], 1);
	assert_int_equal(h->bucket[last], 1);
	ut_check_value(h, 5000);
	ut_check_value(h, 99999);
	nvt_histogram_tally(same, 5000);
	nvt_histogram_tally(same, 5000);
	assert_int_equal(nvt_histogram_merge(h, same), 0);
	assert_int_equal(nvt_histogram_total(h), 3);
	assert_int_equal(nvt_histogram_merge(h, other), -EINVAL);
	assert_int_equal(nvt_histogram_total(h), 3);
	nvt_histogram_destroy(&h);
	nvt_histogram_destroy(&other);
	nvt_histogram_destroy(&same);
}

/* ---- counts ---- */

struct ut_io {
	int status;
	int calls;
};

static void
ut_io_done(void *cb_arg, int status)
{
	struct ut_io *io = cb_arg;

	io->status = status;
	io->calls++;
}

struct ut_stat {
	int calls;
	int status;
	struct nvt_bdev_iostat stat;
	uint64_t hist_total;
	bool has_hist;
};

static void
ut_stat_done(void *ctx, int status, const struct nvt_bdev_iostat *stat,
	     const struct nvt_histogram *hist)
{
	struct ut_stat *s = ctx;

	s->calls++;
	s->status = status;
	if (stat != NULL) {
		s->stat = *stat;
	}
	s->has_hist = hist != NULL;
	s->hist_total = hist != NULL ? nvt_histogram_total(hist) : 0;
}

struct ut_env {
	struct nvt_thread *t[2];
	struct nvt_bdev_desc *desc;
	struct nvt_io_channel *ch[2];
	uint8_t buf[4096];
};

static struct nvt_thread *
ut_thread(const char *name)
{
	struct nvt_thread *thread = nvt_thread_create(name, NULL);

	assert_non_null(thread);
	return thread;
}

static void
ut_env_init(struct ut_env *env)
{
	struct nvt_bdev_create_opts opts;
	struct nvt_bdev *bdev;
	int i;

	memset(env, 0, sizeof(*env));
	env->t[0] = ut_thread("app");
	env->t[1] = ut_thread("io");
	nvt_set_thread(env->t[0]);
	nvt_bdev_create_opts_init(&opts, sizeof(opts));
	opts.name = "Malloc0";
	opts.num_blocks = BLOCKS;
	opts.block_size = 512;
	assert_int_equal(nvt_bdev_malloc_create(&opts, &bdev), 0);
	assert_int_equal(nvt_bdev_open("Malloc0", true, NULL, NULL, &env->desc), 0);
	for (i = 0; i < 2; i++) {
		nvt_set_thread(env->t[i]);
		env->ch[i] = nvt_bdev_get_io_channel(env->desc);
		assert_non_null(env->ch[i]);
	}
	nvt_set_thread(env->t[0]);
}

static void
ut_poll_env(struct ut_env *env)
{
	ut_poll_all(env->t, 2, 10);
	nvt_set_thread(env->t[0]);
}

/* Put thread \p i's channel and let its thread destroy it. */
static void
ut_put_channel(struct ut_env *env, int i)
{
	nvt_set_thread(env->t[i]);
	nvt_put_io_channel(env->ch[i]);
	env->ch[i] = NULL;
	nvt_thread_poll(env->t[i], 0, 0);
	nvt_set_thread(env->t[0]);
}

static void
ut_env_fini(struct ut_env *env)
{
	struct ut_io del = { 0 };
	int i;

	for (i = 0; i < 2; i++) {
		if (env->ch[i] != NULL) {
			ut_put_channel(env, i);
		}
	}
	nvt_set_thread(env->t[0]);
	nvt_bdev_close(env->desc);
	assert_int_equal(nvt_bdev_delete("Malloc0", ut_io_done, &del), 0);
	ut_poll_env(env);
	assert_int_equal(del.calls, 1);
	for (i = 0; i < 2; i++) {
		nvt_set_thread(env->t[i]);
		assert_true(ut_thread_exit_destroy(&env->t[i]));
	}
}

/* Submit on thread \p i and poll until done; the expected status is \p status. */
static void
ut_do_io(struct ut_env *env, int i, enum nvt_bdev_io_type type, uint64_t blocks, int status)
{
	struct iovec iov = { env->buf, blocks * 512 };
	struct nvt_io_channel *ch = env->ch[i];
	struct ut_io io = { 0 };
	int rc;

	nvt_set_thread(env->t[i]);
	switch (type) {
	case NVT_BDEV_IO_TYPE_READ:
		rc = nvt_bdev_readv_blocks(env->desc, ch, &iov, 1, 0, blocks, ut_io_done, &io);
		break;
	case NVT_BDEV_IO_TYPE_WRITE:
		rc = nvt_bdev_writev_blocks(env->desc, ch, &iov, 1, 0, blocks, ut_io_done, &io);
		break;
	case NVT_BDEV_IO_TYPE_UNMAP:
		rc = nvt_bdev_unmap_blocks(env->desc, ch, 0, blocks, ut_io_done, &io);
		break;
	case NVT_BDEV_IO_TYPE_COMPARE:
		rc = nvt_bdev_comparev_blocks(env->desc, ch, &iov, 1, 0, blocks, ut_io_done, &io);
		break;
	default:
		fail();
	}
	assert_int_equal(rc, 0);
	ut_poll_env(env);
	assert_int_equal(io.calls, 1);
	assert_int_equal(io.status, status);
}

static struct ut_stat
ut_get(struct ut_env *env)
{
	struct ut_stat s = { 0 };

	assert_int_equal(nvt_bdev_get_iostat("Malloc0", ut_stat_done, &s), 0);
	assert_int_equal(s.calls, 0);
	ut_poll_env(env);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.status, 0);
	return s;
}

/* 3 reads of 2 blocks on the app thread, 2 writes of 1 and an unmap of 4 on the I/O thread. */
static void
ut_known_io(struct ut_env *env)
{
	int i;

	for (i = 0; i < 3; i++) {
		ut_do_io(env, 0, NVT_BDEV_IO_TYPE_READ, 2, 0);
	}
	for (i = 0; i < 2; i++) {
		ut_do_io(env, 1, NVT_BDEV_IO_TYPE_WRITE, 1, 0);
	}
	ut_do_io(env, 1, NVT_BDEV_IO_TYPE_UNMAP, 4, 0);
}

static void
ut_check_known(const struct nvt_bdev_iostat *st, uint64_t times)
{
	const struct nvt_bdev_op_stat *r = &st->op[NVT_BDEV_STAT_READ];
	const struct nvt_bdev_op_stat *w = &st->op[NVT_BDEV_STAT_WRITE];

	assert_int_equal(r->ops, 3 * times);
	assert_int_equal(r->bytes, 3 * times * 1024);
	assert_int_equal(w->ops, 2 * times);
	assert_int_equal(w->bytes, 2 * times * 512);
	assert_int_equal(st->op[NVT_BDEV_STAT_UNMAP].ops, times);
	assert_int_equal(st->op[NVT_BDEV_STAT_UNMAP].bytes, times * 2048);
	assert_int_equal(st->op[NVT_BDEV_STAT_COPY].ops, 0);
	assert_true(r->min_latency_ticks <= r->max_latency_ticks);
	assert_true(r->max_latency_ticks <= r->latency_ticks);
	assert_true(r->latency_ticks > 0);
	assert_true(w->min_latency_ticks <= w->max_latency_ticks);
}

static void
test_counts_and_channels(void **state)
{
	struct ut_env env;
	struct ut_stat s;

	(void)state;
	ut_env_init(&env);
	s = ut_get(&env);
	assert_int_equal(s.stat.op[NVT_BDEV_STAT_READ].ops, 0);
	assert_int_equal(s.stat.op[NVT_BDEV_STAT_READ].min_latency_ticks, UINT64_MAX);
	assert_false(s.has_hist);

	ut_known_io(&env);
	memset(env.buf, 0xa5, 512);
	/* Block 0 was unmapped: zeroes differ from 0xa5. */
	ut_do_io(&env, 0, NVT_BDEV_IO_TYPE_COMPARE, 1, -EILSEQ);
	s = ut_get(&env);
	ut_check_known(&s.stat, 1);
	assert_int_equal(s.stat.io_error[NVT_BDEV_IO_ERROR_MISCOMPARE], 1);
	assert_int_equal(s.stat.io_error[NVT_BDEV_IO_ERROR_FAILED], 0);

	/* A released channel's counts stay in the totals. */
	ut_put_channel(&env, 1);
	s = ut_get(&env);
	ut_check_known(&s.stat, 1);
	assert_int_equal(nvt_bdev_get_iostat("nope", ut_stat_done, &s), -ENODEV);
	ut_env_fini(&env);
}

/* A channel released during a gather, before or after the gather saw it. */
static void
test_release_during_gather(void **state)
{
	struct ut_env env;
	struct ut_stat s = { 0 };

	(void)state;
	ut_env_init(&env);
	ut_known_io(&env);

	/* The walk starts at the app thread; the I/O thread's channel goes first. */
	assert_int_equal(nvt_bdev_get_iostat("Malloc0", ut_stat_done, &s), 0);
	ut_put_channel(&env, 1);
	ut_poll_env(&env);
	assert_int_equal(s.calls, 1);
	ut_check_known(&s.stat, 1);

	/* Re-open the I/O thread's channel, count again, release it once visited. */
	nvt_set_thread(env.t[1]);
	env.ch[1] = nvt_bdev_get_io_channel(env.desc);
	ut_known_io(&env);
	memset(&s, 0, sizeof(s));
	assert_int_equal(nvt_bdev_get_iostat("Malloc0", ut_stat_done, &s), 0);
	nvt_thread_poll(env.t[0], 0, 0);
	nvt_thread_poll(env.t[1], 0, 0);
	assert_int_equal(s.calls, 0);
	ut_put_channel(&env, 1);
	ut_poll_env(&env);
	assert_int_equal(s.calls, 1);
	ut_check_known(&s.stat, 2);
	/* Once no gather runs, the pending counts joined the retired ones. */
	s = ut_get(&env);
	ut_check_known(&s.stat, 2);
	ut_env_fini(&env);
}

struct ut_channels {
	int calls;
	uint32_t n;
	struct nvt_bdev_iostat sum;
};

static void
ut_channels_done(void *ctx, int status, const struct bdev_stat_entry *e, uint32_t n)
{
	struct ut_channels *c = ctx;
	uint32_t i;

	assert_int_equal(status, 0);
	c->calls++;
	c->n = n;
	bdev_iostat_init(&c->sum);
	for (i = 0; i < n; i++) {
		assert_int_not_equal(e[i].thread_id, 0);
		bdev_iostat_add(&c->sum, &e[i].io);
	}
}

static void
test_per_channel_sum(void **state)
{
	struct ut_env env;
	struct ut_channels c = { 0 };
	struct ut_stat s;

	(void)state;
	ut_env_init(&env);
	ut_known_io(&env);
	assert_int_equal(bdev_stat_get_channels("Malloc0", ut_channels_done, &c), 0);
	ut_poll_env(&env);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.n, 2);
	s = ut_get(&env);
	assert_memory_equal(&c.sum, &s.stat, sizeof(s.stat));
	ut_env_fini(&env);
}

struct ut_done {
	int calls;
	int status;
};

static void
ut_done_cb(void *ctx, int status)
{
	struct ut_done *d = ctx;

	d->calls++;
	d->status = status;
}

static void
ut_enable(struct ut_env *env, bool on, int io_type)
{
	struct nvt_bdev_histogram_opts opts;
	struct ut_done d = { 0 };

	nvt_bdev_histogram_opts_init(&opts, sizeof(opts));
	opts.io_type = io_type;
	assert_int_equal(nvt_bdev_enable_histogram("Malloc0", on, &opts, ut_done_cb, &d), 0);
	ut_poll_env(env);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
}

static void
test_histogram_enable(void **state)
{
	struct nvt_bdev_histogram_opts opts;
	struct ut_env env;
	struct ut_stat s;

	(void)state;
	ut_env_init(&env);
	ut_known_io(&env);
	ut_enable(&env, true, -1);
	assert_true(nvt_bdev_histogram_is_enabled(nvt_bdev_get_by_name("Malloc0")));
	/* Only I/O from now on is in the histogram. */
	s = ut_get(&env);
	assert_true(s.has_hist);
	assert_int_equal(s.hist_total, 0);
	ut_known_io(&env);
	s = ut_get(&env);
	assert_int_equal(s.hist_total, 6);

	/* A channel created later counts too, and a released one stays counted. */
	ut_put_channel(&env, 1);
	nvt_set_thread(env.t[1]);
	env.ch[1] = nvt_bdev_get_io_channel(env.desc);
	ut_known_io(&env);
	s = ut_get(&env);
	assert_int_equal(s.hist_total, 12);

	/* Reads only: the histogram starts over. */
	ut_enable(&env, true, NVT_BDEV_IO_TYPE_READ);
	ut_known_io(&env);
	s = ut_get(&env);
	assert_int_equal(s.hist_total, 3);
	ut_check_known(&s.stat, 4);

	ut_enable(&env, false, -1);
	s = ut_get(&env);
	assert_false(s.has_hist);

	nvt_bdev_histogram_opts_init(&opts, sizeof(opts));
	opts.granularity = NVT_HISTOGRAM_GRANULARITY_MAX + 1;
	assert_int_equal(nvt_bdev_enable_histogram("Malloc0", true, &opts, NULL, NULL), -EINVAL);
	assert_int_equal(nvt_bdev_enable_histogram("nope", true, NULL, NULL, NULL), -ENODEV);
	ut_env_fini(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_layout),
		cmocka_unit_test(test_histogram_clamp_merge),
		cmocka_unit_test_setup_teardown(test_counts_and_channels, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_release_during_gather, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_per_channel_sum, ut_setup, ut_teardown),
		cmocka_unit_test_setup_teardown(test_histogram_enable, ut_setup, ut_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
