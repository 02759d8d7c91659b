/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/thread/io_channel.c: io-devices, per-thread channels
 * with their references, deferred destruction and for_each_channel.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ut_thread.h"

#define NTHREADS 3

/* An io-device: its address is the device, it counts what happened to it. */
struct dev {
	int creates;
	int destroys;
	int unregistered;
	int fail_create;
	struct nvt_thread *unregister_thread;
};

/* The channel context. */
struct ch_ctx {
	struct dev *dev;
	struct nvt_thread *thread;
	uint64_t magic;
};

#define CTX_MAGIC 0x5ca1ab1eull

static struct nvt_thread *g_threads[NTHREADS];

static int
dev_create(void *io_device, void *ctx_buf)
{
	struct dev *dev = io_device;
	struct ch_ctx *ctx = ctx_buf;

	assert_non_null(nvt_get_thread());
	assert_int_equal(ctx->magic, 0);
	if (dev->fail_create) {
		return -ENODEV;
	}
	dev->creates++;
	ctx->dev = dev;
	ctx->thread = nvt_get_thread();
	ctx->magic = CTX_MAGIC;
	return 0;
}

static void
dev_destroy(void *io_device, void *ctx_buf)
{
	struct dev *dev = io_device;
	struct ch_ctx *ctx = ctx_buf;

	assert_ptr_equal(ctx->dev, dev);
	assert_int_equal(ctx->magic, CTX_MAGIC);
	assert_ptr_equal(ctx->thread, nvt_get_thread());
	dev->destroys++;
}

static void
dev_unregistered(void *io_device)
{
	struct dev *dev = io_device;

	dev->unregistered++;
	dev->unregister_thread = nvt_get_thread();
}

static void
register_dev(struct dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	assert_int_equal(nvt_io_device_register(dev, dev_create, dev_destroy, sizeof(struct ch_ctx),
						"testdev"),
			 0);
}

/* Unregister from thread \p idx and poll until the callback ran. */
static void
unregister_dev(struct dev *dev, int idx)
{
	int i;

	nvt_set_thread(g_threads[idx]);
	nvt_io_device_unregister(dev, dev_unregistered);
	nvt_set_thread(NULL);
	for (i = 0; i < 10 && dev->unregistered == 0; i++) {
		ut_poll_all(g_threads, NTHREADS, 1);
	}
	assert_int_equal(dev->unregistered, 1);
	assert_ptr_equal(dev->unregister_thread, g_threads[idx]);
}

static struct nvt_io_channel *
get_on(int idx, void *io_device)
{
	struct nvt_io_channel *ch;

	nvt_set_thread(g_threads[idx]);
	ch = nvt_get_io_channel(io_device);
	nvt_set_thread(NULL);
	return ch;
}

static void
put_on(int idx, struct nvt_io_channel *ch)
{
	nvt_set_thread(g_threads[idx]);
	nvt_put_io_channel(ch);
	nvt_set_thread(NULL);
}

static int
setup(void **state)
{
	int i;

	if (ut_setup(state) != 0) {
		return -1;
	}
	for (i = 0; i < NTHREADS; i++) {
		g_threads[i] = nvt_thread_create(NULL, NULL);
		if (g_threads[i] == NULL) {
			return -1;
		}
	}
	return 0;
}

static int
teardown(void **state)
{
	bool exited = true;
	int i;

	for (i = 0; i < NTHREADS; i++) {
		exited &= ut_thread_exit_destroy(&g_threads[i]);
	}
	if (ut_teardown(state) != 0 || !exited) {
		return -1;
	}
	return 0;
}

static void
test_register(void **state)
{
	struct dev dev, other;

	(void)state;
	register_dev(&dev);
	assert_int_equal(nvt_io_device_register(&dev, dev_create, dev_destroy, 8, "again"),
			 -EEXIST);
	assert_true(ut_log_has("already registered"));
	ut_log_clear();

	/* Not registered: no channel, and unregister reports it. */
	assert_null(get_on(0, &other));
	nvt_set_thread(g_threads[0]);
	nvt_io_device_unregister(&other, NULL);
	nvt_set_thread(NULL);
	assert_true(ut_log_has("is not registered"));
	ut_log_clear();

	/* Off any thread. */
	assert_null(nvt_get_io_channel(&dev));
	nvt_io_device_unregister(&dev, NULL);
	assert_int_equal(g_ut_log.errors, 2);
	ut_log_clear();

	/* No channel ever: the callback comes by message on the unregistering thread. */
	nvt_set_thread(g_threads[1]);
	nvt_io_device_unregister(&dev, dev_unregistered);
	nvt_set_thread(NULL);
	assert_int_equal(dev.unregistered, 0);
	nvt_thread_poll(g_threads[0], 0, 0);
	assert_int_equal(dev.unregistered, 0);
	nvt_thread_poll(g_threads[1], 0, 0);
	assert_int_equal(dev.unregistered, 1);
	assert_ptr_equal(dev.unregister_thread, g_threads[1]);
	assert_int_equal(dev.creates, 0);

	/* Unregistered: may be registered again. */
	register_dev(&dev);
	unregister_dev(&dev, 0);
}

static void
test_get_same_thread(void **state)
{
	struct nvt_io_channel *ch, *ch2;
	struct ch_ctx *ctx;
	struct dev dev;

	(void)state;
	register_dev(&dev);
	ch = get_on(0, &dev);
	assert_non_null(ch);
	assert_int_equal(dev.creates, 1);
	assert_int_equal(nvt_io_channel_get_ref_count(ch), 1);
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 1);
	ch2 = get_on(0, &dev);
	assert_ptr_equal(ch2, ch);
	assert_int_equal(dev.creates, 1);
	assert_int_equal(nvt_io_channel_get_ref_count(ch), 2);
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 1);

	ctx = nvt_io_channel_get_ctx(ch);
	assert_int_equal((uintptr_t)ctx % 16, 0);
	assert_int_equal(ctx->magic, CTX_MAGIC);
	assert_ptr_equal(ctx->thread, g_threads[0]);
	assert_ptr_equal(nvt_io_channel_from_ctx(ctx), ch);
	assert_ptr_equal(nvt_io_channel_get_thread(ch), g_threads[0]);
	assert_ptr_equal(nvt_io_channel_get_io_device(ch), &dev);

	put_on(0, ch);
	assert_int_equal(nvt_io_channel_get_ref_count(ch), 1);
	ut_poll_all(g_threads, NTHREADS, 2);
	assert_int_equal(dev.destroys, 0);

	/* The last put defers the destroy to a message. */
	put_on(0, ch);
	assert_int_equal(dev.destroys, 0);
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 1);
	nvt_thread_poll(g_threads[0], 0, 0);
	assert_int_equal(dev.destroys, 1);
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 0);

	/* A fresh get creates a new channel. */
	ch = get_on(0, &dev);
	assert_int_equal(dev.creates, 2);
	put_on(0, ch);
	nvt_thread_poll(g_threads[0], 0, 0);
	assert_int_equal(dev.destroys, 2);
	unregister_dev(&dev, 0);
}

static void
test_get_other_threads(void **state)
{
	struct nvt_io_channel *ch[NTHREADS];
	struct dev dev;
	int i;

	(void)state;
	register_dev(&dev);
	for (i = 0; i < NTHREADS; i++) {
		ch[i] = get_on(i, &dev);
		assert_non_null(ch[i]);
		assert_ptr_equal(nvt_io_channel_get_thread(ch[i]), g_threads[i]);
		assert_int_equal(nvt_io_channel_get_ref_count(ch[i]), 1);
	}
	assert_ptr_not_equal(ch[0], ch[1]);
	assert_ptr_not_equal(ch[1], ch[2]);
	assert_ptr_not_equal(ch[0], ch[2]);
	assert_int_equal(dev.creates, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		put_on(i, ch[i]);
	}
	ut_poll_all(g_threads, NTHREADS, 1);
	assert_int_equal(dev.destroys, NTHREADS);
	unregister_dev(&dev, 2);
}

static void
test_get_cancels_destroy(void **state)
{
	struct nvt_io_channel *ch, *ch2;
	struct dev dev;

	(void)state;
	register_dev(&dev);
	ch = get_on(0, &dev);
	put_on(0, ch);
	assert_int_equal(nvt_io_channel_get_ref_count(ch), 0);
	/* Got again before the destroy message ran: the same channel, kept. */
	ch2 = get_on(0, &dev);
	assert_ptr_equal(ch2, ch);
	assert_int_equal(nvt_io_channel_get_ref_count(ch), 1);
	ut_poll_all(g_threads, NTHREADS, 2);
	assert_int_equal(dev.destroys, 0);
	assert_int_equal(dev.creates, 1);
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 1);

	/* put, get, put before the message: destroyed once, by that message. */
	put_on(0, ch);
	ch2 = get_on(0, &dev);
	assert_ptr_equal(ch2, ch);
	put_on(0, ch);
	nvt_thread_poll(g_threads[0], 0, 0);
	assert_int_equal(dev.destroys, 1);
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 0);
	ut_poll_all(g_threads, NTHREADS, 2);
	assert_int_equal(dev.destroys, 1);

	/* Put more often than got: reported, ignored. */
	ch = get_on(0, &dev);
	put_on(0, ch);
	put_on(0, ch);
	assert_true(ut_log_has("put more often than got"));
	ut_log_clear();
	nvt_thread_poll(g_threads[0], 0, 0);
	assert_int_equal(dev.destroys, 2);
	unregister_dev(&dev, 0);
}

static void
test_unregister_waits_for_channels(void **state)
{
	struct nvt_io_channel *ch0, *ch1;
	struct dev dev;

	(void)state;
	register_dev(&dev);
	ch0 = get_on(0, &dev);
	ch1 = get_on(1, &dev);
	nvt_set_thread(g_threads[2]);
	nvt_io_device_unregister(&dev, dev_unregistered);
	nvt_set_thread(NULL);

	/* No new channel, not even on a thread that has none. */
	assert_null(get_on(2, &dev));
	assert_null(get_on(0, &dev));
	ut_log_clear();
	assert_int_equal(nvt_io_channel_get_ref_count(ch0), 1);

	ut_poll_all(g_threads, NTHREADS, 3);
	assert_int_equal(dev.unregistered, 0);
	put_on(0, ch0);
	ut_poll_all(g_threads, NTHREADS, 3);
	assert_int_equal(dev.destroys, 1);
	assert_int_equal(dev.unregistered, 0);
	put_on(1, ch1);
	/* Destroyed on thread 1, then the callback on thread 2. */
	nvt_thread_poll(g_threads[1], 0, 0);
	assert_int_equal(dev.destroys, 2);
	assert_int_equal(dev.unregistered, 0);
	nvt_thread_poll(g_threads[2], 0, 0);
	assert_int_equal(dev.unregistered, 1);
	assert_ptr_equal(dev.unregister_thread, g_threads[2]);
}

static void
test_create_fails(void **state)
{
	struct nvt_io_channel *ch;
	struct dev dev;

	(void)state;
	register_dev(&dev);
	dev.fail_create = 1;
	assert_null(get_on(0, &dev));
	assert_true(ut_log_has("channel create failed"));
	ut_log_clear();
	assert_int_equal(nvt_thread_get_channel_count(g_threads[0]), 0);
	assert_int_equal(dev.destroys, 0);

	/* The device still works, and a failed channel holds no reference. */
	dev.fail_create = 0;
	ch = get_on(0, &dev);
	assert_non_null(ch);
	assert_int_equal(nvt_io_channel_get_ref_count(ch), 1);
	put_on(0, ch);
	ut_poll_all(g_threads, NTHREADS, 1);
	unregister_dev(&dev, 0);
	assert_int_equal(dev.destroys, 1);
}

/* ---- for_each_channel ---- */

struct fe {
	struct dev *dev;
	struct nvt_thread *visited[NTHREADS + 1];
	struct nvt_io_channel *channels[NTHREADS + 1];
	int nvisited;
	int stop_at; /* visit number that returns an error; -1: none */
	int cpl_count;
	int cpl_status;
	struct nvt_thread *cpl_thread;
};

static void
fe_visit(struct nvt_io_channel_iter *iter)
{
	struct fe *fe = nvt_io_channel_iter_get_ctx(iter);
	struct nvt_io_channel *ch = nvt_io_channel_iter_get_channel(iter);
	int n = fe->nvisited;

	assert_true(n < NTHREADS);
	assert_ptr_equal(nvt_io_channel_iter_get_io_device(iter), fe->dev);
	assert_non_null(ch);
	assert_ptr_equal(nvt_io_channel_get_thread(ch), nvt_get_thread());
	fe->visited[n] = nvt_get_thread();
	fe->channels[n] = ch;
	fe->nvisited++;
	nvt_for_each_channel_continue(iter, n == fe->stop_at ? -EINTR : 0);
}

static void
fe_done(struct nvt_io_channel_iter *iter, int status)
{
	struct fe *fe = nvt_io_channel_iter_get_ctx(iter);

	assert_null(nvt_io_channel_iter_get_channel(iter));
	fe->cpl_count++;
	fe->cpl_status = status;
	fe->cpl_thread = nvt_get_thread();
}

static void
run_for_each(struct fe *fe, struct dev *dev, int from, int stop_at)
{
	int i;

	memset(fe, 0, sizeof(*fe));
	fe->dev = dev;
	fe->stop_at = stop_at;
	nvt_set_thread(g_threads[from]);
	nvt_for_each_channel(dev, fe_visit, fe, fe_done);
	nvt_set_thread(NULL);
	assert_int_equal(fe->nvisited, 0);
	for (i = 0; i < 20 && fe->cpl_count == 0; i++) {
		ut_poll_all(g_threads, NTHREADS, 1);
	}
	assert_int_equal(fe->cpl_count, 1);
	assert_ptr_equal(fe->cpl_thread, g_threads[from]);
}

static void
test_for_each_channel(void **state)
{
	struct nvt_io_channel *ch0, *ch2;
	struct dev dev;
	struct fe fe;

	(void)state;
	register_dev(&dev);
	/* No channel: cpl alone, by message. */
	run_for_each(&fe, &dev, 1, -1);
	assert_int_equal(fe.nvisited, 0);
	assert_int_equal(fe.cpl_status, 0);

	/* Channels on threads 0 and 2, walked from thread 1. */
	ch0 = get_on(0, &dev);
	ch2 = get_on(2, &dev);
	run_for_each(&fe, &dev, 1, -1);
	assert_int_equal(fe.nvisited, 2);
	assert_ptr_equal(fe.visited[0], g_threads[0]);
	assert_ptr_equal(fe.channels[0], ch0);
	assert_ptr_equal(fe.visited[1], g_threads[2]);
	assert_ptr_equal(fe.channels[1], ch2);
	assert_int_equal(fe.cpl_status, 0);

	/* A non-zero status stops the walk and reaches cpl. */
	run_for_each(&fe, &dev, 2, 0);
	assert_int_equal(fe.nvisited, 1);
	assert_ptr_equal(fe.visited[0], g_threads[0]);
	assert_int_equal(fe.cpl_status, -EINTR);

	/* Unregistered during a walk: the callback waits for the walk too. */
	put_on(0, ch0);
	put_on(2, ch2);
	memset(&fe, 0, sizeof(fe));
	fe.dev = &dev;
	fe.stop_at = -1;
	nvt_set_thread(g_threads[1]);
	nvt_for_each_channel(&dev, fe_visit, &fe, fe_done);
	nvt_io_device_unregister(&dev, dev_unregistered);
	nvt_set_thread(NULL);
	ut_poll_all(g_threads, NTHREADS, 5);
	assert_int_equal(fe.cpl_count, 1);
	assert_int_equal(dev.destroys, 2);
	assert_int_equal(dev.unregistered, 1);

	/* Not registered: reported, nothing runs. */
	nvt_set_thread(g_threads[1]);
	nvt_for_each_channel(&dev, fe_visit, &fe, fe_done);
	nvt_set_thread(NULL);
	assert_true(ut_log_has("is not registered"));
	ut_log_clear();
	ut_poll_all(g_threads, NTHREADS, 2);
	assert_int_equal(fe.cpl_count, 1);
}

/* Left registered at library shutdown: reported, and gone after a re-init. */
static void
test_left_at_fini(void **state)
{
	struct dev dev;

	(void)state;
	register_dev(&dev);
	nvt_thread_lib_fini();
	assert_true(ut_log_has("io_device testdev"));
	assert_true(ut_log_has("still registered at library shutdown"));
	/* Plus one report per thread of the fixture, still alive. */
	assert_int_equal(g_ut_log.errors, 1 + NTHREADS);
	ut_log_clear();
	assert_int_equal(nvt_thread_lib_init(NULL, 0), 0);
	register_dev(&dev);
	unregister_dev(&dev, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_same_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_other_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_cancels_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_waits_for_channels, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_for_each_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_at_fini, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
