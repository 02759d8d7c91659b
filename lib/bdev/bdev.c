/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bdev registry, descriptors and deletion.
 *
 * Bdevs are registered and unregistered on the app thread. One mutex guards
 * the list and each bdev's descriptor list, so that a thread other than the
 * app thread may open or close a descriptor (rare operations, never on the
 * I/O path). A deleted bdev stays listed, skipped by lookups, until its
 * module has released it, so its name cannot be reused before then.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"
#include "bdev_internal.h"

NVT_LOG_REGISTER_COMPONENT(bdev)

static pthread_mutex_t g_bdev_mutex = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, nvt_bdev) g_bdevs = TAILQ_HEAD_INITIALIZER(g_bdevs);

/* Bdevs out of the list whose module has not finished destruct() yet; app thread. */
static uint32_t g_destructing;

/* A pending nvt_bdev_fini(); app thread. */
static struct {
	nvt_bdev_delete_cb cb;
	void *cb_arg;
	struct nvt_thread *thread;
	struct nvt_thread_msg msg; /* its completion, once every bdev is gone */
} g_fini;

void
bdev_lock(void)
{
	pthread_mutex_lock(&g_bdev_mutex);
}

void
bdev_unlock(void)
{
	pthread_mutex_unlock(&g_bdev_mutex);
}

void *
bdev_to_io_dev(struct nvt_bdev *bdev)
{
	return &bdev->internal;
}

/* ---- registry ---- */

/* By name, or by UUID string as SPDK allows; removing bdevs too. Lock held. */
static struct nvt_bdev *
bdev_find_locked(const char *name, bool removing_too)
{
	struct nvt_bdev *bdev;
	uint8_t uuid[16];
	bool by_uuid = nvt_uuid_parse(name, uuid) == 0;

	TAILQ_FOREACH(bdev, &g_bdevs, internal.link) {
		if (bdev->internal.removing && !removing_too) {
			continue;
		}
		if (strcmp(bdev->name, name) == 0 ||
		    (by_uuid && memcmp(bdev->uuid, uuid, sizeof(uuid)) == 0)) {
			return bdev;
		}
	}
	return NULL;
}

struct nvt_bdev *
nvt_bdev_get_by_name(const char *name)
{
	struct nvt_bdev *bdev;

	if (name == NULL) {
		return NULL;
	}
	bdev_lock();
	bdev = bdev_find_locked(name, false);
	bdev_unlock();
	return bdev;
}

/* The first bdev not being deleted from \p bdev on. Lock held. */
static struct nvt_bdev *
bdev_live_from_locked(struct nvt_bdev *bdev)
{
	while (bdev != NULL && bdev->internal.removing) {
		bdev = TAILQ_NEXT(bdev, internal.link);
	}
	return bdev;
}

struct nvt_bdev *
nvt_bdev_first(void)
{
	struct nvt_bdev *bdev;

	bdev_lock();
	bdev = bdev_live_from_locked(TAILQ_FIRST(&g_bdevs));
	bdev_unlock();
	return bdev;
}

struct nvt_bdev *
nvt_bdev_next(struct nvt_bdev *prev)
{
	struct nvt_bdev *bdev;

	bdev_lock();
	bdev = bdev_live_from_locked(TAILQ_NEXT(prev, internal.link));
	bdev_unlock();
	return bdev;
}

static bool
bdev_is_valid(const struct nvt_bdev *bdev)
{
	const struct nvt_bdev_fn_table *fn = bdev->fn_table;
	size_t len = strnlen(bdev->name, sizeof(bdev->name));

	if (len == 0 || len == sizeof(bdev->name) || bdev->module == NULL || fn == NULL ||
	    fn->destruct == NULL || fn->submit_request == NULL || fn->io_type_supported == NULL ||
	    fn->get_io_channel == NULL) {
		return false;
	}
	return bdev->blocklen >= 512 && bdev->blocklen <= 4096 &&
	       (bdev->blocklen & (bdev->blocklen - 1)) == 0 && bdev->blockcnt > 0 &&
	       bdev->blockcnt <= UINT64_MAX / bdev->blocklen;
}

static bool
bdev_uuid_taken_locked(const uint8_t uuid[16])
{
	struct nvt_bdev *bdev;

	TAILQ_FOREACH(bdev, &g_bdevs, internal.link) {
		if (memcmp(bdev->uuid, uuid, 16) == 0) {
			return true;
		}
	}
	return false;
}

int
nvt_bdev_register(struct nvt_bdev *bdev)
{
	int rc;

	if (!bdev_is_valid(bdev)) {
		NVT_ERRLOG("bdev %.*s: invalid name, size or function table\n",
			   (int)sizeof(bdev->name), bdev->name);
		return -EINVAL;
	}
	if (nvt_uuid_is_zero(bdev->uuid)) {
		rc = nvt_uuid_generate(bdev->uuid);
		if (rc != 0) {
			return rc;
		}
	}
	memset(&bdev->internal, 0, sizeof(bdev->internal));
	TAILQ_INIT(&bdev->internal.open_descs);
	rc = bdev_stat_dev_init(bdev);
	if (rc != 0) {
		return rc;
	}
	bdev_lock();
	if (bdev_find_locked(bdev->name, true) != NULL || bdev_uuid_taken_locked(bdev->uuid)) {
		rc = -EEXIST;
	} else {
		rc = nvt_io_device_register(bdev_to_io_dev(bdev), bdev_channel_create,
					    bdev_channel_destroy, sizeof(struct nvt_bdev_channel),
					    bdev->name);
	}
	if (rc != 0) {
		bdev_unlock();
		bdev_stat_dev_fini(bdev);
		return rc;
	}
	TAILQ_INSERT_TAIL(&g_bdevs, bdev, internal.link);
	bdev_unlock();
	NVT_DEBUGLOG(bdev, "bdev %s registered (%s, %lu x %u)\n", bdev->name, bdev->module->name,
		     (unsigned long)bdev->blockcnt, bdev->blocklen);
	return 0;
}

/* ---- getters ---- */

const char *
nvt_bdev_get_name(const struct nvt_bdev *bdev)
{
	return bdev->name;
}

const char *
nvt_bdev_get_product_name(const struct nvt_bdev *bdev)
{
	return bdev->product_name;
}

uint32_t
nvt_bdev_get_block_size(const struct nvt_bdev *bdev)
{
	return bdev->blocklen;
}

uint64_t
nvt_bdev_get_num_blocks(const struct nvt_bdev *bdev)
{
	return __atomic_load_n(&bdev->blockcnt, __ATOMIC_RELAXED);
}

const uint8_t *
nvt_bdev_get_uuid(const struct nvt_bdev *bdev)
{
	return bdev->uuid;
}

bool
nvt_bdev_has_write_cache(const struct nvt_bdev *bdev)
{
	return bdev->write_cache;
}

bool
nvt_bdev_is_read_only(const struct nvt_bdev *bdev)
{
	return bdev->read_only;
}

bool
nvt_bdev_unmap_reads_zeroes(const struct nvt_bdev *bdev)
{
	return bdev->unmap_zeroes &&
	       bdev->fn_table->io_type_supported(bdev->ctxt, NVT_BDEV_IO_TYPE_UNMAP);
}

bool
nvt_bdev_io_type_supported(const struct nvt_bdev *bdev, enum nvt_bdev_io_type type)
{
	if ((unsigned int)type >= NVT_BDEV_NUM_IO_TYPES) {
		return false;
	}
	return bdev->fn_table->io_type_supported(bdev->ctxt, type);
}

uint64_t
nvt_bdev_get_max_zeroes_blocks(const struct nvt_bdev *bdev)
{
	return bdev->max_zeroes_blocks;
}

/* ---- options of the shipped modules ---- */

void
nvt_bdev_create_opts_init(struct nvt_bdev_create_opts *opts, size_t opts_size)
{
	struct nvt_bdev_create_opts defaults = { .opts_size = opts_size, .block_size = 512 };

	memcpy(opts, &defaults, NVT_MIN(opts_size, sizeof(defaults)));
}

int
nvt_bdev_create_opts_check(const struct nvt_bdev_create_opts *in, struct nvt_bdev_create_opts *out)
{
	struct nvt_bdev_create_opts opts = { .block_size = 512 };
	size_t len;

	if (in == NULL || in->opts_size < offsetof(struct nvt_bdev_create_opts, name)) {
		return -EINVAL;
	}
	/* Fields past what the caller knows keep their defaults. */
	memcpy(&opts, in, NVT_MIN(in->opts_size, sizeof(opts)));
	opts.opts_size = sizeof(opts);
	len = opts.name != NULL ? strlen(opts.name) : 0;
	if (len == 0 || len >= NVT_BDEV_NAME_LEN || opts.num_blocks == 0 || opts.block_size < 512 ||
	    opts.block_size > 4096 || (opts.block_size & (opts.block_size - 1)) != 0 ||
	    opts.num_blocks > SIZE_MAX / opts.block_size) {
		return -EINVAL;
	}
	*out = opts;
	return 0;
}

/* ---- descriptors ---- */

int
nvt_bdev_open(const char *name, bool write, nvt_bdev_event_cb event_cb, void *event_ctx,
	      struct nvt_bdev_desc **out)
{
	struct nvt_bdev_desc *desc;
	struct nvt_bdev *bdev;

	if (nvt_get_thread() == NULL || name == NULL) {
		return -EINVAL;
	}
	desc = calloc(1, sizeof(*desc));
	if (desc == NULL) {
		return -ENOMEM;
	}
	desc->thread = nvt_get_thread();
	desc->event_cb = event_cb;
	desc->event_ctx = event_ctx;
	desc->write = write;
	desc->refs = 1;
	bdev_lock();
	bdev = bdev_find_locked(name, false);
	if (bdev != NULL && !(write && bdev->read_only)) {
		desc->bdev = bdev;
		TAILQ_INSERT_TAIL(&bdev->internal.open_descs, desc, link);
	}
	bdev_unlock();
	if (desc->bdev == NULL) {
		free(desc);
		return bdev == NULL ? -ENODEV : -EPERM;
	}
	*out = desc;
	return 0;
}

/* Drop a descriptor reference; frees it at 0. Lock held. */
static void
desc_put_locked(struct nvt_bdev_desc *desc)
{
	if (--desc->refs == 0) {
		free(desc);
	}
}

static void bdev_unregister_cont(void *arg);

void
nvt_bdev_close(struct nvt_bdev_desc *desc)
{
	struct nvt_bdev *bdev = desc->bdev;
	bool last;

	if (nvt_unlikely(desc->thread != nvt_get_thread())) {
		NVT_ERRLOG("bdev %s: descriptor closed off the thread that opened it\n",
			   bdev->name);
	}
	bdev_lock();
	TAILQ_REMOVE(&bdev->internal.open_descs, desc, link);
	desc->closed = true;
	last = bdev->internal.removing && TAILQ_EMPTY(&bdev->internal.open_descs);
	desc_put_locked(desc);
	bdev_unlock();
	if (last && nvt_thread_send_msg_prealloc(bdev->internal.remove_thread,
						 &bdev->internal.unregister_msg,
						 bdev_unregister_cont, bdev) != 0) {
		NVT_ERRLOG("bdev %s: cannot finish the deletion on its thread\n", bdev->name);
	}
}

struct nvt_bdev *
nvt_bdev_desc_get_bdev(struct nvt_bdev_desc *desc)
{
	return desc->bdev;
}

struct nvt_io_channel *
nvt_bdev_get_io_channel(struct nvt_bdev_desc *desc)
{
	return nvt_get_io_channel(bdev_to_io_dev(desc->bdev));
}

/* ---- deletion ---- */

/* Give \p type to the owner of \p desc, on its thread, and drop the event's reference. */
static void
desc_deliver(struct nvt_bdev_desc *desc, enum nvt_bdev_event_type type)
{
	bool notify;

	bdev_lock();
	notify = !desc->closed && desc->event_cb != NULL;
	bdev_unlock();
	/* Only the owner closes, and this runs on the owner's thread: no close races the check. */
	if (notify) {
		desc->event_cb(type, desc->bdev, desc->event_ctx);
	}
	bdev_lock();
	desc_put_locked(desc);
	bdev_unlock();
}

static void
desc_remove_msg(void *arg)
{
	desc_deliver(arg, NVT_BDEV_EVENT_REMOVE);
}

static void
desc_resize_msg(void *arg)
{
	desc_deliver(arg, NVT_BDEV_EVENT_RESIZE);
}

static void
bdev_fini_modules_done(void *arg)
{
	nvt_bdev_delete_cb cb = g_fini.cb;

	(void)arg;
	g_fini.cb = NULL;
	cb(g_fini.cb_arg, 0);
}

static void
bdev_fini_done_msg(void *arg)
{
	(void)arg;
	/* What modules hold beyond their bdevs goes once the bdevs are gone. */
	bdev_module_hooks_fini(bdev_fini_modules_done, NULL);
}

/* Finish a pending nvt_bdev_fini() once every bdev is gone. */
static void
bdev_fini_check(void)
{
	bool empty;
	int rc;

	if (g_fini.cb == NULL || g_destructing > 0) {
		return;
	}
	bdev_lock();
	empty = TAILQ_EMPTY(&g_bdevs);
	bdev_unlock();
	if (!empty) {
		return;
	}
	/* -EBUSY: the completion is queued already. */
	rc = nvt_thread_send_msg_prealloc(g_fini.thread, &g_fini.msg, bdev_fini_done_msg, NULL);
	if (rc != 0 && rc != -EBUSY) {
		NVT_ERRLOG("bdev fini: cannot complete on its thread: %s\n", nvt_strerror(rc));
	}
}

static void
bdev_delete_finish(nvt_bdev_delete_cb cb, void *cb_arg, int status)
{
	if (cb != NULL) {
		cb(cb_arg, status);
	}
	bdev_fini_check();
}

void
nvt_bdev_destruct_done(struct nvt_bdev *bdev, int status)
{
	g_destructing--;
	bdev_delete_finish(bdev->internal.delete_cb, bdev->internal.delete_cb_arg, status);
}

/* Every channel is gone: take the bdev out of the list and let its module free it. */
static void
bdev_io_device_gone(void *io_device)
{
	struct nvt_bdev *bdev = NVT_CONTAINEROF(io_device, struct nvt_bdev, internal);
	nvt_bdev_delete_cb cb = bdev->internal.delete_cb;
	void *cb_arg = bdev->internal.delete_cb_arg;
	int rc;

	bdev_lock();
	TAILQ_REMOVE(&g_bdevs, bdev, internal.link);
	bdev_unlock();
	NVT_DEBUGLOG(bdev, "bdev %s unregistered\n", bdev->name);
	g_destructing++;
	bdev_stat_dev_fini(bdev);
	/* From here on the bdev may be freed: only the copies above are used. */
	rc = bdev->fn_table->destruct(bdev->ctxt);
	if (rc > 0) {
		return;
	}
	g_destructing--;
	bdev_delete_finish(cb, cb_arg, rc);
}

/* Every descriptor is closed: wait for the channels, on the deleting thread. */
static void
bdev_unregister_cont(void *arg)
{
	struct nvt_bdev *bdev = arg;

	nvt_io_device_unregister(bdev_to_io_dev(bdev), bdev_io_device_gone);
}

/* Tell every opener; the lock is held so no descriptor is freed meanwhile. */
static void
bdev_notify_locked(struct nvt_bdev *bdev, nvt_msg_fn msg, const char *what)
{
	struct nvt_bdev_desc *desc;

	TAILQ_FOREACH(desc, &bdev->internal.open_descs, link) {
		desc->refs++;
		if (nvt_thread_send_msg(desc->thread, msg, desc) != 0) {
			desc->refs--;
			NVT_ERRLOG("bdev %s: cannot send the %s event to thread %s\n", bdev->name,
				   what, nvt_thread_get_name(desc->thread));
		}
	}
}

int
nvt_bdev_notify_blockcnt_change(struct nvt_bdev *bdev, uint64_t blockcnt)
{
	if (blockcnt == 0 || blockcnt > UINT64_MAX / bdev->blocklen) {
		return -EINVAL;
	}
	bdev_lock();
	if (blockcnt == bdev->blockcnt) {
		bdev_unlock();
		return 0;
	}
	NVT_NOTICELOG("bdev %s: size %" PRIu64 " -> %" PRIu64 " blocks of %u bytes\n", bdev->name,
		      bdev->blockcnt, blockcnt, bdev->blocklen);
	/* I/O threads check ranges against it without the lock. */
	__atomic_store_n(&bdev->blockcnt, blockcnt, __ATOMIC_RELAXED);
	bdev_notify_locked(bdev, desc_resize_msg, "resize");
	bdev_unlock();
	return 0;
}

int
nvt_bdev_unregister(struct nvt_bdev *bdev, nvt_bdev_delete_cb cb, void *cb_arg)
{
	struct nvt_thread *thread = nvt_get_thread();
	bool idle;

	if (thread == NULL) {
		return -EINVAL;
	}
	bdev_lock();
	if (bdev->internal.removing) {
		bdev_unlock();
		return -ENODEV;
	}
	bdev->internal.removing = true;
	bdev->internal.remove_thread = thread;
	bdev->internal.delete_cb = cb;
	bdev->internal.delete_cb_arg = cb_arg;
	bdev_notify_locked(bdev, desc_remove_msg, "remove");
	idle = TAILQ_EMPTY(&bdev->internal.open_descs);
	bdev_unlock();
	NVT_DEBUGLOG(bdev, "bdev %s: deletion started\n", bdev->name);
	if (idle) {
		/* No descriptor: the io-device step below answers through a message. */
		bdev_unregister_cont(bdev);
	}
	return 0;
}

int
nvt_bdev_delete(const char *name, nvt_bdev_delete_cb cb, void *cb_arg)
{
	struct nvt_bdev *bdev = nvt_bdev_get_by_name(name);

	if (bdev == NULL) {
		return -ENODEV;
	}
	return nvt_bdev_unregister(bdev, cb, cb_arg);
}

void
nvt_bdev_fini(nvt_bdev_delete_cb cb, void *cb_arg)
{
	struct nvt_bdev *bdev;

	g_fini.cb = cb;
	g_fini.cb_arg = cb_arg;
	g_fini.thread = nvt_get_thread();
	while ((bdev = nvt_bdev_first()) != NULL) {
		if (nvt_bdev_unregister(bdev, NULL, NULL) != 0) {
			NVT_ERRLOG("bdev fini: called off any thread\n");
			return;
		}
	}
	bdev_fini_check();
}
