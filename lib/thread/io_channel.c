/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io-devices and their per-thread io-channels.
 *
 * A device counts its channels (plus running for_each_channel walks); an
 * unregistered device is freed when that count drops to zero. A channel
 * counts its users on its own thread; the last put destroys it through a
 * message, so a get that comes first keeps it alive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "thread_internal.h"

#define IO_DEVICE_NAME_LEN 64

struct io_device {
	void *io_device;
	nvt_io_channel_create_cb create_cb;
	nvt_io_channel_destroy_cb destroy_cb;
	nvt_io_device_unregister_cb unregister_cb;
	struct nvt_thread *unregister_thread;
	uint32_t ctx_size;
	uint32_t refcnt; /* channels + for_each walks; under g_lock */
	bool unregistered;
	struct nvt_thread_msg free_msg; /* device_free_msg, once */
	char name[IO_DEVICE_NAME_LEN];
	TAILQ_ENTRY(io_device) link;
};

struct nvt_io_channel {
	struct nvt_thread *thread;
	struct io_device *dev;
	uint32_t ref;
	bool destroy_pending;
	struct nvt_thread_msg destroy_msg; /* in flight while destroy_pending */
	TAILQ_ENTRY(nvt_io_channel) link;  /* thread->io_channels, under g_lock */
	uint8_t ctx[] __attribute__((aligned(16)));
};

struct nvt_io_channel_iter {
	struct io_device *dev;
	nvt_channel_msg fn;
	nvt_channel_for_each_cpl cpl;
	void *ctx;
	struct nvt_thread *orig;
	struct nvt_thread *cur;
	struct nvt_io_channel *ch;
	int status;
	struct nvt_thread_msg msg; /* each step, then the return: one at a time */
};

static TAILQ_HEAD(, io_device) g_devices = TAILQ_HEAD_INITIALIZER(g_devices);

static struct io_device *
device_find_locked(void *io_device)
{
	struct io_device *dev;

	TAILQ_FOREACH(dev, &g_devices, link) {
		if (dev->io_device == io_device) {
			return dev;
		}
	}
	return NULL;
}

int
nvt_io_device_register(void *io_device, nvt_io_channel_create_cb create_cb,
		       nvt_io_channel_destroy_cb destroy_cb, uint32_t ctx_size, const char *name)
{
	struct io_device *dev;

	dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		return -ENOMEM;
	}
	dev->io_device = io_device;
	dev->create_cb = create_cb;
	dev->destroy_cb = destroy_cb;
	dev->ctx_size = ctx_size;
	nvt_strcpy_trunc(dev->name, sizeof(dev->name), name ? name : "io_device");
	pthread_mutex_lock(&g_lock);
	if (device_find_locked(io_device) != NULL) {
		pthread_mutex_unlock(&g_lock);
		NVT_ERRLOG("io_device %s (%p) is already registered\n", dev->name, io_device);
		free(dev);
		return -EEXIST;
	}
	TAILQ_INSERT_TAIL(&g_devices, dev, link);
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static void
device_free_msg(void *arg)
{
	struct io_device *dev = arg;

	if (dev->unregister_cb != NULL) {
		dev->unregister_cb(dev->io_device);
	}
	free(dev);
}

/* Drop one device reference; g_lock held. Frees an unregistered device at 0. */
static void
device_put_locked(struct io_device *dev)
{
	if (--dev->refcnt > 0 || !dev->unregistered) {
		return;
	}
	TAILQ_REMOVE(&g_devices, dev, link);
	if (nvt_thread_send_msg_prealloc(dev->unregister_thread, &dev->free_msg, device_free_msg,
					 dev) != 0) {
		NVT_ERRLOG("io_device %s: unregistering thread is gone; callback skipped\n",
			   dev->name);
		free(dev);
	}
}

void
nvt_io_device_unregister(void *io_device, nvt_io_device_unregister_cb unregister_cb)
{
	struct io_device *dev;

	if (nvt_get_thread() == NULL) {
		NVT_ERRLOG("io_device %p unregistered off any thread\n", io_device);
		return;
	}
	pthread_mutex_lock(&g_lock);
	dev = device_find_locked(io_device);
	if (dev == NULL || dev->unregistered) {
		pthread_mutex_unlock(&g_lock);
		NVT_ERRLOG("io_device %p is not registered\n", io_device);
		return;
	}
	dev->unregistered = true;
	dev->unregister_cb = unregister_cb;
	dev->unregister_thread = nvt_get_thread();
	/* Borrow a reference so the zero case goes through the common path. */
	dev->refcnt++;
	device_put_locked(dev);
	pthread_mutex_unlock(&g_lock);
}

static struct nvt_io_channel *
channel_find_locked(struct nvt_thread *thread, struct io_device *dev)
{
	struct nvt_io_channel *ch;

	TAILQ_FOREACH(ch, &thread->io_channels, link) {
		if (ch->dev == dev) {
			return ch;
		}
	}
	return NULL;
}

static void
channel_unlink(struct nvt_io_channel *ch)
{
	pthread_mutex_lock(&g_lock);
	TAILQ_REMOVE(&ch->thread->io_channels, ch, link);
	ch->thread->channel_count--;
	device_put_locked(ch->dev);
	pthread_mutex_unlock(&g_lock);
	free(ch);
}

static struct nvt_io_channel *
channel_create(struct nvt_thread *thread, struct io_device *dev)
{
	struct nvt_io_channel *ch;
	int rc;

	/* g_lock held on entry; dropped around create_cb, which may get channels. */
	ch = calloc(1, sizeof(*ch) + dev->ctx_size);
	if (ch == NULL) {
		pthread_mutex_unlock(&g_lock);
		return NULL;
	}
	ch->thread = thread;
	ch->dev = dev;
	ch->ref = 1;
	dev->refcnt++;
	TAILQ_INSERT_TAIL(&thread->io_channels, ch, link);
	thread->channel_count++;
	pthread_mutex_unlock(&g_lock);

	rc = dev->create_cb ? dev->create_cb(dev->io_device, ch->ctx) : 0;
	if (rc != 0) {
		NVT_ERRLOG("io_device %s: channel create failed on thread %s: %s\n", dev->name,
			   thread->name, nvt_strerror(rc));
		channel_unlink(ch);
		return NULL;
	}
	return ch;
}

struct nvt_io_channel *
nvt_get_io_channel(void *io_device)
{
	struct nvt_thread *thread = nvt_get_thread();
	struct io_device *dev;
	struct nvt_io_channel *ch;

	if (thread == NULL) {
		NVT_ERRLOG("io channel requested off any thread\n");
		return NULL;
	}
	pthread_mutex_lock(&g_lock);
	dev = device_find_locked(io_device);
	if (dev == NULL || dev->unregistered) {
		pthread_mutex_unlock(&g_lock);
		NVT_ERRLOG("io_device %p is not registered\n", io_device);
		return NULL;
	}
	ch = channel_find_locked(thread, dev);
	if (ch != NULL) {
		ch->ref++;
		pthread_mutex_unlock(&g_lock);
		return ch;
	}
	return channel_create(thread, dev);
}

static void
channel_destroy_msg(void *arg)
{
	struct nvt_io_channel *ch = arg;

	ch->destroy_pending = false;
	if (ch->ref > 0) {
		return;
	}
	if (ch->dev->destroy_cb != NULL) {
		ch->dev->destroy_cb(ch->dev->io_device, ch->ctx);
	}
	channel_unlink(ch);
}

void
nvt_put_io_channel(struct nvt_io_channel *ch)
{
	if (nvt_unlikely(ch->thread != nvt_get_thread())) {
		NVT_ERRLOG("io_device %s: channel put from a thread other than its own\n",
			   ch->dev->name);
	}
	if (nvt_unlikely(ch->ref == 0)) {
		NVT_ERRLOG("io_device %s: channel put more often than got\n", ch->dev->name);
		return;
	}
	if (--ch->ref > 0 || ch->destroy_pending) {
		return;
	}
	ch->destroy_pending = true;
	if (nvt_thread_send_msg_prealloc(ch->thread, &ch->destroy_msg, channel_destroy_msg, ch) !=
	    0) {
		NVT_ERRLOG("io_device %s: cannot defer channel destroy; destroying now\n",
			   ch->dev->name);
		channel_destroy_msg(ch);
	}
}

void *
nvt_io_channel_get_ctx(struct nvt_io_channel *ch)
{
	return ch->ctx;
}

struct nvt_io_channel *
nvt_io_channel_from_ctx(void *ctx)
{
	return NVT_CONTAINEROF(ctx, struct nvt_io_channel, ctx);
}

struct nvt_thread *
nvt_io_channel_get_thread(const struct nvt_io_channel *ch)
{
	return ch->thread;
}

void *
nvt_io_channel_get_io_device(const struct nvt_io_channel *ch)
{
	return ch->dev->io_device;
}

uint32_t
nvt_io_channel_get_ref_count(const struct nvt_io_channel *ch)
{
	return ch->ref;
}

uint32_t
nvt_thread_get_channel_count(const struct nvt_thread *thread)
{
	return thread->channel_count;
}

void
nvt_thread_foreach_io_channel(nvt_io_channel_info_fn fn, void *ctx)
{
	struct nvt_thread *thread = nvt_get_thread();
	struct nvt_io_channel *ch;

	/* Only the owner changes its list, so the owner reads it without g_lock. */
	if (thread == NULL) {
		return;
	}
	TAILQ_FOREACH(ch, &thread->io_channels, link) {
		if (ch->ref > 0) {
			fn(ch->dev->name, ch->ref, ctx);
		}
	}
}

void
thread_report_channels(struct nvt_thread *thread)
{
	struct nvt_io_channel *ch;

	pthread_mutex_lock(&g_lock);
	TAILQ_FOREACH(ch, &thread->io_channels, link) {
		NVT_ERRLOG("thread %s: channel of io_device %s still held (%u refs)\n",
			   thread->name, ch->dev->name, ch->ref);
	}
	pthread_mutex_unlock(&g_lock);
}

void
thread_release_devices(void)
{
	struct io_device *dev, *tmp;

	pthread_mutex_lock(&g_lock);
	TAILQ_FOREACH_SAFE(dev, &g_devices, link, tmp) {
		NVT_ERRLOG("io_device %s (%p) still registered at library shutdown\n", dev->name,
			   dev->io_device);
		/* One with channels left stays: their threads still point at it. */
		if (dev->refcnt == 0) {
			TAILQ_REMOVE(&g_devices, dev, link);
			free(dev);
		}
	}
	pthread_mutex_unlock(&g_lock);
}

/* ---- for_each_channel ---- */

static void
for_each_channel_done(void *arg)
{
	struct nvt_io_channel_iter *iter = arg;

	iter->ch = NULL;
	if (iter->cpl != NULL) {
		iter->cpl(iter, iter->status);
	}
	pthread_mutex_lock(&g_lock);
	device_put_locked(iter->dev);
	pthread_mutex_unlock(&g_lock);
	free(iter);
}

static void
for_each_channel_step(void *arg)
{
	struct nvt_io_channel_iter *iter = arg;

	pthread_mutex_lock(&g_lock);
	iter->ch = channel_find_locked(nvt_get_thread(), iter->dev);
	pthread_mutex_unlock(&g_lock);
	if (iter->ch == NULL) {
		/* Destroyed since it was found: go on with the next one. */
		nvt_for_each_channel_continue(iter, 0);
		return;
	}
	iter->fn(iter);
}

/* Send the walk to the next thread after cur holding a channel; false if none. */
static bool
for_each_channel_next(struct nvt_io_channel_iter *iter)
{
	struct nvt_thread *thread;
	bool sent = false;

	pthread_mutex_lock(&g_lock);
	thread = iter->cur ? TAILQ_NEXT(iter->cur, link) : TAILQ_FIRST(&g_threads);
	for (; thread != NULL && !sent; thread = TAILQ_NEXT(thread, link)) {
		if (channel_find_locked(thread, iter->dev) == NULL) {
			continue;
		}
		iter->cur = thread;
		sent = nvt_thread_send_msg_prealloc(thread, &iter->msg, for_each_channel_step,
						    iter) == 0;
	}
	pthread_mutex_unlock(&g_lock);
	return sent;
}

static void
for_each_channel_finish(struct nvt_io_channel_iter *iter)
{
	if (nvt_thread_send_msg_prealloc(iter->orig, &iter->msg, for_each_channel_done, iter) !=
	    0) {
		NVT_ERRLOG("io_device %s: for_each_channel cannot return to thread %s\n",
			   iter->dev->name, iter->orig->name);
	}
}

void
nvt_for_each_channel(void *io_device, nvt_channel_msg fn, void *ctx, nvt_channel_for_each_cpl cpl)
{
	struct nvt_io_channel_iter *iter;
	struct io_device *dev;

	iter = calloc(1, sizeof(*iter));
	if (iter == NULL || nvt_get_thread() == NULL) {
		NVT_ERRLOG("for_each_channel: out of memory or off any thread\n");
		free(iter);
		return;
	}
	pthread_mutex_lock(&g_lock);
	dev = device_find_locked(io_device);
	if (dev != NULL) {
		dev->refcnt++;
	}
	pthread_mutex_unlock(&g_lock);
	if (dev == NULL) {
		NVT_ERRLOG("for_each_channel: io_device %p is not registered\n", io_device);
		free(iter);
		return;
	}
	iter->dev = dev;
	iter->fn = fn;
	iter->cpl = cpl;
	iter->ctx = ctx;
	iter->orig = nvt_get_thread();
	if (!for_each_channel_next(iter)) {
		for_each_channel_finish(iter);
	}
}

void
nvt_for_each_channel_continue(struct nvt_io_channel_iter *iter, int status)
{
	iter->ch = NULL;
	if (status != 0) {
		iter->status = status;
		for_each_channel_finish(iter);
		return;
	}
	if (!for_each_channel_next(iter)) {
		for_each_channel_finish(iter);
	}
}

void *
nvt_io_channel_iter_get_io_device(struct nvt_io_channel_iter *iter)
{
	return iter->dev->io_device;
}

struct nvt_io_channel *
nvt_io_channel_iter_get_channel(struct nvt_io_channel_iter *iter)
{
	return iter->ch;
}

void *
nvt_io_channel_iter_get_ctx(struct nvt_io_channel_iter *iter)
{
	return iter->ctx;
}
