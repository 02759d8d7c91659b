/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rbd bdevs: their lifecycle. States of a disk:
 *
 *   OPENING  connect (private connection), open the pool and the image, read
 *            its size, watch it: on a pthread; the name is taken meanwhile.
 *   READY    registered: I/O (rbd_io.c); resize and size refreshes run on
 *            pthreads, counted in `works`.
 *   CLOSING  unregistered: once every channel is gone (so every librbd
 *            completion has come back) and no step is under way, unwatch,
 *            close the image and the pool, shut a private connection down,
 *            on a pthread; then the bdev's memory goes.
 *
 * Size: librbd calls the watch back on its own thread when the image's
 * header changes (a resize here or elsewhere); the callback only sends the
 * disk's one preallocated message to the app thread, which reads the size on
 * a pthread and tells the bdev's openers of a new block count.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/uuid.h"
#include "rbd_internal.h"

#define RBD_MIB (1024ull * 1024)

const struct nvt_bdev_module g_bdev_rbd_module = {
	.name = "rbd",
	.io_ctx_size = sizeof(struct rbd_task),
};

/* Every disk of the module, in every state; app thread. */
static TAILQ_HEAD(, rbd_disk) g_disks = TAILQ_HEAD_INITIALIZER(g_disks);

static struct rbd_disk *
disk_of_work(struct rbd_work *w)
{
	return (struct rbd_disk *)((char *)w - offsetof(struct rbd_disk, work));
}

static struct rbd_disk *
disk_of_refresh(struct rbd_work *w)
{
	return (struct rbd_disk *)((char *)w - offsetof(struct rbd_disk, refresh_work));
}

static void
disk_free(struct rbd_disk *disk)
{
	if (disk->cluster != NULL) {
		if (disk->cluster_private) {
			rbd_cluster_free(disk->cluster);
		} else {
			rbd_cluster_put(disk->cluster);
		}
	}
	free(disk->pool_name);
	free(disk->rbd_name);
	free(disk);
}

bool
nvt_bdev_rbd_name_pending(const char *name)
{
	struct rbd_disk *disk;

	TAILQ_FOREACH(disk, &g_disks, link) {
		if (disk->state == RBD_DISK_OPENING && strcmp(disk->bdev.name, name) == 0) {
			return true;
		}
	}
	return false;
}

bool
rbd_disks_describe(char *buf, size_t len)
{
	struct rbd_disk *disk;
	size_t n = 0;
	int w;

	buf[0] = '\0';
	TAILQ_FOREACH(disk, &g_disks, link) {
		w = snprintf(buf + n, len - n, "%s%s (%s/%s)", n > 0 ? ", " : "", disk->bdev.name,
			     disk->pool_name, disk->rbd_name);
		if (w < 0 || (size_t)w >= len - n) {
			break;
		}
		n += (size_t)w;
	}
	return !TAILQ_EMPTY(&g_disks);
}

/* ---- closing (pthread, then app thread) ---- */

static void
close_work(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_work(w);

	if (disk->watching) {
		rbd_update_unwatch(disk->image, disk->watch_handle);
		disk->watching = false;
	}
	if (disk->image_open) {
		rbd_close(disk->image);
		disk->image_open = false;
	}
	if (disk->ioctx_open) {
		rados_ioctx_destroy(disk->ioctx);
		disk->ioctx_open = false;
	}
	if (disk->cluster_private && disk->cluster != NULL) {
		rbd_cluster_shutdown(disk->cluster);
	}
}

static void
close_done(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_work(w);
	char msg[NVT_BDEV_NAME_LEN + RBD_ERR_LEN + 2];

	/* Messages of the watch sent before the unwatch ran before this one. */
	TAILQ_REMOVE(&g_disks, disk, link);
	NVT_NOTICELOG("rbd: %s: image %s/%s closed\n", disk->bdev.name, disk->pool_name,
		      disk->rbd_name);
	if (disk->state == RBD_DISK_CLOSING) {
		nvt_bdev_destruct_done(&disk->bdev, 0);
	} else if (disk->create_cb != NULL) {
		/* A creation that failed: the answer names the bdev. */
		snprintf(msg, sizeof(msg), "%s: %s", disk->bdev.name, disk->err);
		disk->create_cb(disk->cb_ctx, NULL, disk->work_rc, msg);
	}
	disk_free(disk);
}

static void
disk_close_if_idle(struct rbd_disk *disk)
{
	if (disk->works > 0) {
		/* The step under way uses the image: closing goes on when it ends. */
		disk->destruct_pending = true;
		return;
	}
	disk->destruct_pending = false;
	rbd_work_start(&disk->work, close_work, close_done);
}

/* Every channel is gone: no librbd completion is outstanding any more. */
static void
disk_unregistered(void *io_device)
{
	disk_close_if_idle(io_device);
}

static int
rbd_destruct(void *ctxt)
{
	struct rbd_disk *disk = ctxt;

	disk->state = RBD_DISK_CLOSING;
	nvt_io_device_unregister(disk, disk_unregistered);
	return 1;
}

/* A step ended: closing may go on. */
static void
disk_work_end(struct rbd_disk *disk)
{
	disk->works--;
	if (disk->destruct_pending && disk->works == 0) {
		disk_close_if_idle(disk);
	}
}

/* ---- size: the watch, refreshes, resize ---- */

static void refresh_start(struct rbd_disk *disk);

static void
disk_set_size(struct rbd_disk *disk, uint64_t size)
{
	uint64_t blockcnt = size / disk->bdev.blocklen;
	int rc;

	disk->size = size;
	if (blockcnt == disk->bdev.blockcnt || blockcnt == 0) {
		return;
	}
	NVT_NOTICELOG("rbd: %s: image %s/%s is now %" PRIu64 " bytes (%" PRIu64 " blocks)\n",
		      disk->bdev.name, disk->pool_name, disk->rbd_name, size, blockcnt);
	rc = nvt_bdev_notify_blockcnt_change(&disk->bdev, blockcnt);
	if (rc != 0) {
		NVT_ERRLOG("rbd: %s: cannot take the new size: %s\n", disk->bdev.name,
			   nvt_strerror(rc));
	}
}

static void
refresh_work(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_refresh(w);

	disk->refresh_rc = rbd_get_size(disk->image, &disk->refresh_size);
}

static void
refresh_done(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_refresh(w);

	disk->refreshing = false;
	if (disk->state == RBD_DISK_READY) {
		if (disk->refresh_rc == 0) {
			disk_set_size(disk, disk->refresh_size);
		} else {
			NVT_ERRLOG("rbd: %s: cannot read the image's size: %s\n", disk->bdev.name,
				   nvt_strerror(disk->refresh_rc));
		}
		if (disk->refresh_again) {
			refresh_start(disk);
		}
	}
	disk_work_end(disk);
}

static void
refresh_start(struct rbd_disk *disk)
{
	if (disk->refreshing) {
		disk->refresh_again = true;
		return;
	}
	disk->refresh_again = false;
	disk->refreshing = true;
	disk->works++;
	rbd_work_start(&disk->refresh_work, refresh_work, refresh_done);
}

static void
watch_msg(void *arg)
{
	struct rbd_disk *disk = arg;

	if (disk->state == RBD_DISK_READY) {
		refresh_start(disk);
	}
}

/* librbd's thread: the image's header changed. Only a message; -EBUSY: one is queued. */
static void
watch_cb(void *arg)
{
	struct rbd_disk *disk = arg;

	nvt_thread_send_msg_prealloc(disk->app_thread, &disk->watch_msg, watch_msg, disk);
}

static void
resize_work(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_work(w);

	disk->work_rc = rbd_resize(disk->image, disk->work_size);
	if (disk->work_rc != 0) {
		snprintf(disk->err, sizeof(disk->err), "cannot resize image %s/%s: %s",
			 disk->pool_name, disk->rbd_name, nvt_strerror(disk->work_rc));
		return;
	}
	disk->work_rc = rbd_get_size(disk->image, &disk->work_size);
	if (disk->work_rc != 0) {
		snprintf(disk->err, sizeof(disk->err), "cannot read the size of image %s/%s: %s",
			 disk->pool_name, disk->rbd_name, nvt_strerror(disk->work_rc));
	}
}

static void
resize_done(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_work(w);
	nvt_bdev_rbd_cb cb = disk->resize_cb;

	disk->resizing = false;
	if (disk->work_rc == 0 && disk->state == RBD_DISK_READY) {
		disk_set_size(disk, disk->work_size);
	} else if (disk->work_rc != 0) {
		NVT_ERRLOG("rbd: %s: %s\n", disk->bdev.name, disk->err);
	}
	cb(disk->cb_ctx, disk->work_rc, disk->err);
	disk_work_end(disk);
}

static struct rbd_disk *
disk_find_ready(const char *name)
{
	struct nvt_bdev *bdev = nvt_bdev_get_by_name(name);

	if (bdev == NULL || bdev->module != &g_bdev_rbd_module) {
		return NULL;
	}
	return bdev->ctxt;
}

int
nvt_bdev_rbd_resize(const char *name, uint64_t new_size_mib, nvt_bdev_rbd_cb cb, void *ctx,
		    char *err, size_t errlen)
{
	struct rbd_disk *disk = disk_find_ready(name);

	if (disk == NULL || disk->state != RBD_DISK_READY) {
		snprintf(err, errlen, "no rbd bdev '%s'", name);
		return -ENODEV;
	}
	if (new_size_mib == 0 || new_size_mib > UINT64_MAX / RBD_MIB) {
		snprintf(err, errlen, "field 'new_size': %" PRIu64 " MiB is out of range",
			 new_size_mib);
		return -EINVAL;
	}
	if (new_size_mib * RBD_MIB < disk->size) {
		snprintf(err, errlen,
			 "field 'new_size': %" PRIu64 " MiB is smaller than the image (%" PRIu64
			 " bytes): shrinking is refused (it would cut data off under the hosts)",
			 new_size_mib, disk->size);
		return -EINVAL;
	}
	if (disk->resizing) {
		snprintf(err, errlen, "'%s' is being resized already", name);
		return -EBUSY;
	}
	disk->resizing = true;
	disk->resize_cb = cb;
	disk->cb_ctx = ctx;
	disk->work_size = new_size_mib * RBD_MIB;
	disk->err[0] = '\0';
	disk->works++;
	rbd_work_start(&disk->work, resize_work, resize_done);
	return 0;
}

/* ---- configuration and description ---- */

/* SPDK's bdev_rbd_create parameters that recreate the disk. */
static void
rbd_write_config_json(struct nvt_bdev *bdev, json_t *config)
{
	struct rbd_disk *disk = bdev->ctxt;
	char uuid[NVT_UUID_STRING_LEN];
	json_t *params = json_object();

	nvt_uuid_fmt(uuid, bdev->uuid);
	rbd_json_set_str(params, "name", bdev->name);
	rbd_json_set_str(params, "pool_name", disk->pool_name);
	rbd_json_set_str(params, "rbd_name", disk->rbd_name);
	json_object_set_new(params, "block_size", json_integer(bdev->blocklen));
	if (disk->cluster_private) {
		rbd_json_set_str(params, "user_id", disk->cluster->user_id);
		if (disk->cluster->config != NULL) {
			json_object_set(params, "config", disk->cluster->config);
		}
	} else {
		rbd_json_set_str(params, "cluster_name", disk->cluster->name);
	}
	rbd_json_set_str(params, "uuid", uuid);
	json_object_set_new(params, "read_only", json_boolean(bdev->read_only));
	json_array_append_new(
		config, json_pack("{s:s, s:o}", "method", "bdev_rbd_create", "params", params));
}

static void
rbd_dump_info_json(struct nvt_bdev *bdev, json_t *obj)
{
	struct rbd_disk *disk = bdev->ctxt;
	struct rbd_cluster *c = disk->cluster;
	json_t *o = json_object();

	rbd_json_set_str(o, "pool_name", disk->pool_name);
	rbd_json_set_str(o, "rbd_name", disk->rbd_name);
	if (disk->cluster_private) {
		rbd_json_set_str(o, "user_id", c->user_id);
		if (c->config != NULL) {
			json_object_set(o, "config", c->config);
		}
	} else {
		rbd_json_set_str(o, "cluster_name", c->name);
		rbd_json_set_str(o, "config_file", c->config_file);
		rbd_json_set_str(o, "key_file", c->key_file);
	}
	if (disk->state == RBD_DISK_READY) { /* not while a closing step shuts rados down */
		rbd_cluster_addr_json(c, o);
	}
	json_object_set_new(obj, "rbd", o);
}

static struct nvt_io_channel *
rbd_get_io_channel(void *ctxt)
{
	return nvt_get_io_channel(ctxt);
}

static const struct nvt_bdev_fn_table g_rbd_fn_table = {
	.destruct = rbd_destruct,
	.submit_request = rbd_submit_request,
	.io_type_supported = rbd_io_type_supported,
	.get_io_channel = rbd_get_io_channel,
	.write_config_json = rbd_write_config_json,
	.dump_info_json = rbd_dump_info_json,
};

/* ---- creation ---- */

/*
 * Without a UUID given, one the same at every start and on every gateway
 * exporting the image: a SHA-256 of the cluster's fsid, the pool and the
 * image's id (kept across renames), as a version 8 UUID.
 */
static int
derive_uuid(struct rbd_disk *disk)
{
	char fsid[64] = "", id[64] = "", text[256];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	rc = rados_cluster_fsid(disk->cluster->rados, fsid, sizeof(fsid));
	if (rc < 0) {
		return rc;
	}
	rc = rbd_get_id(disk->image, id, sizeof(id));
	if (rc < 0) {
		return rc;
	}
	snprintf(text, sizeof(text), "rbd:%s/%s/%s", fsid, disk->pool_name, id);
	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
		return -EIO;
	}
	memcpy(disk->bdev.uuid, md, 16);
	disk->bdev.uuid[6] = (uint8_t)((disk->bdev.uuid[6] & 0x0f) | 0x80);
	disk->bdev.uuid[8] = (uint8_t)((disk->bdev.uuid[8] & 0x3f) | 0x80);
	return 0;
}

/* Whether the connection zeroes partial discards (nvtcp's default). */
static bool
discard_zeroes(struct rbd_disk *disk)
{
	char val[16] = "";

	if (rados_conf_get(disk->cluster->rados, "rbd_skip_partial_discard", val, sizeof(val)) !=
	    0) {
		return false;
	}
	return strcmp(val, "false") == 0;
}

static int
open_image(struct rbd_disk *disk)
{
	rbd_image_info_t info;
	int rc;

	rc = rados_ioctx_create(disk->cluster->rados, disk->pool_name, &disk->ioctx);
	if (rc != 0) {
		snprintf(disk->err, sizeof(disk->err), "cannot open pool '%s': %s", disk->pool_name,
			 rc == -ENOENT ? "no such pool" : nvt_strerror(rc));
		return rc;
	}
	disk->ioctx_open = true;
	if (disk->bdev.read_only) {
		rc = rbd_open_read_only(disk->ioctx, disk->rbd_name, &disk->image, NULL);
	} else {
		rc = rbd_open(disk->ioctx, disk->rbd_name, &disk->image, NULL);
	}
	if (rc != 0) {
		snprintf(disk->err, sizeof(disk->err), "cannot open image '%s' in pool '%s': %s",
			 disk->rbd_name, disk->pool_name,
			 rc == -ENOENT ? "no such image" : nvt_strerror(rc));
		return rc;
	}
	disk->image_open = true;
	rc = rbd_stat(disk->image, &info, sizeof(info));
	if (rc != 0) {
		snprintf(disk->err, sizeof(disk->err), "cannot read image %s/%s: %s",
			 disk->pool_name, disk->rbd_name, nvt_strerror(rc));
		return rc;
	}
	disk->size = info.size;
	if (info.size < disk->bdev.blocklen) {
		snprintf(disk->err, sizeof(disk->err),
			 "image %s/%s (%" PRIu64 " bytes) is smaller than one block",
			 disk->pool_name, disk->rbd_name, (uint64_t)info.size);
		return -EINVAL;
	}
	if (!disk->uuid_given) {
		rc = derive_uuid(disk);
		if (rc != 0) {
			snprintf(disk->err, sizeof(disk->err), "cannot identify image %s/%s: %s",
				 disk->pool_name, disk->rbd_name, nvt_strerror(rc));
			return rc;
		}
	}
	disk->bdev.unmap_zeroes = discard_zeroes(disk);
	rc = rbd_update_watch(disk->image, &disk->watch_handle, watch_cb, disk);
	if (rc != 0) {
		snprintf(disk->err, sizeof(disk->err), "cannot watch image %s/%s: %s",
			 disk->pool_name, disk->rbd_name, nvt_strerror(rc));
		return rc;
	}
	disk->watching = true;
	return 0;
}

static void
open_work(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_work(w);

	if (disk->cluster_private) {
		disk->work_rc = rbd_cluster_connect(disk->cluster, disk->err, sizeof(disk->err));
		if (disk->work_rc != 0) {
			return;
		}
	}
	disk->work_rc = open_image(disk);
}

/*
 * Register the io-device and the bdev. On failure \p device_registered says
 * whether the io-device must be unregistered first.
 */
static int
disk_register(struct rbd_disk *disk, bool *device_registered)
{
	int rc;

	disk->bdev.blockcnt = disk->size / disk->bdev.blocklen;
	*device_registered = false;
	rc = nvt_io_device_register(disk, rbd_channel_create, rbd_channel_destroy,
				    sizeof(struct rbd_channel), disk->bdev.name);
	if (rc != 0) {
		return rc;
	}
	*device_registered = true;
	disk->state = RBD_DISK_READY;
	rc = nvt_bdev_register(&disk->bdev);
	if (rc != 0) {
		disk->state = RBD_DISK_OPENING;
	}
	return rc;
}

static void
open_done(struct rbd_work *w)
{
	struct rbd_disk *disk = disk_of_work(w);
	nvt_bdev_rbd_create_cb cb = disk->create_cb;
	int rc = disk->work_rc;
	bool device_registered = false;

	disk->works--;
	if (rc == 0) {
		rc = disk_register(disk, &device_registered);
		if (rc != 0) {
			snprintf(disk->err, sizeof(disk->err), "cannot register the bdev: %s",
				 rc == -EEXIST ? "name or UUID taken" : nvt_strerror(rc));
			disk->work_rc = rc;
			if (device_registered) {
				NVT_ERRLOG("rbd: %s: %s\n", disk->bdev.name, disk->err);
				/* Closing goes on once the io-device is gone; close_done() answers. */
				nvt_io_device_unregister(disk, disk_unregistered);
				return;
			}
		}
	}
	if (rc != 0) {
		NVT_ERRLOG("rbd: %s: %s\n", disk->bdev.name, disk->err);
		/* Close what was opened; the creation's answer comes from close_done(). */
		rbd_work_start(&disk->work, close_work, close_done);
		return;
	}
	NVT_NOTICELOG("rbd: %s: image %s/%s, %" PRIu64 " blocks of %u bytes\n", disk->bdev.name,
		      disk->pool_name, disk->rbd_name, disk->bdev.blockcnt, disk->bdev.blocklen);
	disk->create_cb = NULL;
	cb(disk->cb_ctx, &disk->bdev, 0, NULL);
}

static int
create_check(const struct nvt_bdev_rbd_opts *opts, char *err, size_t errlen)
{
	uint32_t bs = opts->block_size;

	if (opts->name == NULL || opts->name[0] == '\0' ||
	    strlen(opts->name) >= NVT_BDEV_NAME_LEN) {
		snprintf(err, errlen, "field 'name': 1 to %d characters", NVT_BDEV_NAME_LEN - 1);
		return -EINVAL;
	}
	if (bs < 512 || bs > 4096 || (bs & (bs - 1)) != 0) {
		snprintf(err, errlen, "field 'block_size': %u is not a power of two in 512 .. 4096",
			 bs);
		return -EINVAL;
	}
	if (opts->cluster_name != NULL && (opts->user_id != NULL || opts->config != NULL)) {
		snprintf(err, errlen,
			 "fields 'user_id' and 'config' describe a private connection: not with "
			 "'cluster_name' (register the cluster with them instead)");
		return -EINVAL;
	}
	if (nvt_bdev_get_by_name(opts->name) != NULL || nvt_bdev_rbd_name_pending(opts->name)) {
		snprintf(err, errlen, "a bdev named '%s' exists already", opts->name);
		return -EEXIST;
	}
	return rbd_config_check(opts->config, "config", err, errlen);
}

static struct rbd_disk *
disk_alloc(const struct nvt_bdev_rbd_opts *opts)
{
	struct rbd_disk *disk = calloc(1, sizeof(*disk));

	if (disk == NULL) {
		return NULL;
	}
	disk->pool_name = strdup(opts->pool_name);
	disk->rbd_name = strdup(opts->rbd_name);
	if (disk->pool_name == NULL || disk->rbd_name == NULL) {
		disk_free(disk);
		return NULL;
	}
	nvt_strcpy_trunc(disk->bdev.name, sizeof(disk->bdev.name), opts->name);
	disk->bdev.product_name = "Ceph Rbd Disk";
	disk->bdev.blocklen = opts->block_size;
	disk->bdev.read_only = opts->read_only;
	/* librbd's cache is off (unless configured on): a completed write is in the cluster. */
	disk->bdev.write_cache = false;
	if (opts->uuid != NULL) {
		memcpy(disk->bdev.uuid, opts->uuid, sizeof(disk->bdev.uuid));
		disk->uuid_given = true;
	}
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_rbd_fn_table;
	disk->bdev.module = &g_bdev_rbd_module;
	disk->app_thread = nvt_get_thread();
	return disk;
}

int
nvt_bdev_rbd_create(const struct nvt_bdev_rbd_opts *opts, nvt_bdev_rbd_create_cb cb, void *ctx,
		    char *err, size_t errlen)
{
	struct rbd_disk *disk;
	int rc;

	rc = create_check(opts, err, errlen);
	if (rc != 0) {
		return rc;
	}
	disk = disk_alloc(opts);
	if (disk == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (opts->cluster_name != NULL) {
		disk->cluster = rbd_cluster_get(opts->cluster_name, err, errlen);
		rc = disk->cluster == NULL ? -ENOENT : 0;
	} else {
		disk->cluster_private = true;
		disk->cluster =
			rbd_cluster_alloc(NULL, opts->user_id, opts->config, NULL, NULL, NULL);
		rc = disk->cluster == NULL ? -ENOMEM : 0;
		if (rc != 0) {
			snprintf(err, errlen, "out of memory");
		}
	}
	if (rc != 0) {
		disk_free(disk);
		return rc;
	}
	disk->state = RBD_DISK_OPENING;
	disk->create_cb = cb;
	disk->cb_ctx = ctx;
	disk->works++;
	TAILQ_INSERT_TAIL(&g_disks, disk, link);
	rbd_work_start(&disk->work, open_work, open_done);
	return 0;
}
