/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uring bdevs: opening the backing (a regular file or a block device),
 * learning what it is and can do (size, block sizes, O_DIRECT alignment,
 * write cache), its stable identity, and the bdev's life. The I/O engine is
 * uring_io.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nvtcp/likely.h"
#include "nvtcp/log.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "bdev_uring.h"
#include "uring_internal.h"

NVT_LOG_REGISTER_COMPONENT(bdev_uring)

const struct nvt_bdev_module g_bdev_uring_module = {
	.name = "uring",
	.io_ctx_size = sizeof(struct uring_task),
};

const struct nvt_bdev_module g_bdev_aio_module = {
	.name = "aio",
	.io_ctx_size = sizeof(struct uring_task),
};

void
nvt_bdev_uring_opts_init(struct nvt_bdev_uring_opts *opts, size_t opts_size)
{
	struct nvt_bdev_uring_opts defaults = { .opts_size = opts_size, .fallocate = true };

	memcpy(opts, &defaults, opts_size < sizeof(defaults) ? opts_size : sizeof(defaults));
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- what the backing is ---- */

/* The first line of a sysfs file of the block device \p rdev ("" when absent). */
static void
sysfs_read(dev_t rdev, const char *attr, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(rdev), minor(rdev), attr);
	f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	if (fgets(buf, (int)len, f) == NULL) {
		buf[0] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* A partition's queue attributes are its disk's. */
static void
sysfs_queue_read(dev_t rdev, const char *attr, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "queue/%s", attr);
	sysfs_read(rdev, path, buf, len);
	if (buf[0] == '\0') {
		snprintf(path, sizeof(path), "../queue/%s", attr);
		sysfs_read(rdev, path, buf, len);
	}
}

/* Size and logical block size of the backing; 0 or -errno. */
static int
backing_geometry(struct uring_disk *disk, const struct stat *st, uint64_t *size, uint32_t *lbs)
{
	int v;

	if (disk->backing == URING_BACKING_FILE) {
		*size = (uint64_t)st->st_size;
		*lbs = 512;
		return 0;
	}
	if (ioctl(disk->fd, BLKGETSIZE64, size) != 0 || ioctl(disk->fd, BLKSSZGET, &v) != 0) {
		return -errno;
	}
	*lbs = (uint32_t)v;
	return 0;
}

/*
 * The alignment O_DIRECT needs: the file system's answer where the kernel
 * gives one (statx DIOALIGN), a device's logical block size, or else a page
 * (a guess, which the engine gives up on if the backing refuses it).
 */
static void
backing_dio_align(struct uring_disk *disk, uint32_t lbs)
{
	struct statx stx;

	disk->dio_mem_align = disk->backing == URING_BACKING_BLOCKDEV ? lbs : 4096;
	disk->dio_offset_align = disk->dio_mem_align;
	if (statx(disk->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align != 0) {
		disk->dio_mem_align = stx.stx_dio_mem_align;
		disk->dio_offset_align = stx.stx_dio_offset_align;
	}
}

/* A device whose queue caches writes ("write back"), and any file, need flushes. */
static bool
backing_write_cache(const struct uring_disk *disk, const struct stat *st)
{
	char buf[32];

	if (disk->backing == URING_BACKING_FILE) {
		return true;
	}
	sysfs_queue_read(st->st_rdev, "write_cache", buf, sizeof(buf));
	return strcmp(buf, "write through") != 0;
}

/* The O_DIRECT descriptor, on the very file opened (not the path again). */
static void
backing_open_direct(struct uring_disk *disk, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", disk->fd);
	disk->fd_direct = open(path, flags | O_DIRECT | O_CLOEXEC);
	if (disk->fd_direct < 0) {
		NVT_NOTICELOG("bdev %s: %s: no direct I/O (%s): buffered I/O only\n",
			      disk->bdev.name, disk->filename, nvt_strerror(errno));
	}
}

/* Open for writing, or read-only when asked or when the backing refuses writes. */
static int
backing_open(struct uring_disk *disk, bool read_only, int *flags)
{
	*flags = read_only ? O_RDONLY : O_RDWR;
	disk->fd = open(disk->filename, *flags | O_CLOEXEC);
	if (disk->fd < 0 && !read_only && (errno == EACCES || errno == EROFS || errno == EPERM)) {
		NVT_NOTICELOG("bdev %s: %s takes no writes (%s): served write protected\n",
			      disk->bdev.name, disk->filename, nvt_strerror(errno));
		*flags = O_RDONLY;
		disk->fd = open(disk->filename, O_RDONLY | O_CLOEXEC);
	}
	if (disk->fd < 0) {
		return -errno;
	}
	disk->bdev.read_only = *flags == O_RDONLY;
	return 0;
}

/* ---- identity ---- */

/* What names the backing across restarts: a WWID, a loop's backing file, or the path. */
static void
backing_identity(const struct uring_disk *disk, const struct stat *st, char *id, size_t len)
{
	char buf[PATH_MAX], real[PATH_MAX];

	if (disk->backing == URING_BACKING_BLOCKDEV) {
		sysfs_read(st->st_rdev, "wwid", buf, sizeof(buf));
		if (buf[0] == '\0') {
			sysfs_read(st->st_rdev, "device/wwid", buf, sizeof(buf));
		}
		if (buf[0] != '\0') {
			snprintf(id, len, "wwid:%s", buf);
			return;
		}
		sysfs_read(st->st_rdev, "loop/backing_file", buf, sizeof(buf));
		if (buf[0] != '\0') {
			snprintf(id, len, "loop:%s", buf);
			return;
		}
	}
	if (realpath(disk->filename, real) == NULL) {
		nvt_strcpy_trunc(real, sizeof(real), disk->filename);
	}
	snprintf(id, len, "path:%s", real);
}

/* A version 8 UUID: the first 16 bytes of SHA-256("nvtcp-uring:" ID). */
static int
derive_uuid(const char *id, uint8_t uuid[16])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char text[PATH_MAX + 32];
	unsigned int mdlen = 0;

	snprintf(text, sizeof(text), "nvtcp-uring:%s", id);
	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
		return -EIO;
	}
	memcpy(uuid, md, 16);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x80);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}

/* ---- the bdev ---- */

static bool
uring_io_type_supported(void *ctxt, enum nvt_bdev_io_type type)
{
	struct uring_disk *disk = ctxt;

	switch (type) {
	case NVT_BDEV_IO_TYPE_READ:
	case NVT_BDEV_IO_TYPE_WRITE:
	case NVT_BDEV_IO_TYPE_FLUSH:
	case NVT_BDEV_IO_TYPE_WRITE_ZEROES:
		return true;
	case NVT_BDEV_IO_TYPE_UNMAP:
		/* Without fallocate there is no way to deallocate. */
		return !disk->fallocate_off;
	default:
		return false;
	}
}

static struct nvt_io_channel *
uring_get_io_channel(void *ctxt)
{
	return nvt_get_io_channel(ctxt);
}

static void
uring_disk_free(struct uring_disk *disk)
{
	if (disk->fd_direct >= 0) {
		close(disk->fd_direct);
	}
	if (disk->fd >= 0) {
		close(disk->fd);
	}
	free(disk->filename);
	free(disk);
}

static void
uring_disk_release(void *io_device)
{
	uring_disk_free(io_device);
}

static void
uring_unregistered(void *io_device)
{
	struct uring_disk *disk = io_device;

	nvt_bdev_destruct_done(&disk->bdev, 0);
	uring_disk_free(disk);
}

static int
uring_destruct(void *ctxt)
{
	/* The module channels of the bdev's channels may still be on their way out. */
	nvt_io_device_unregister(ctxt, uring_unregistered);
	return 1;
}

static void
uring_write_config_json(struct nvt_bdev *bdev, json_t *config)
{
	struct uring_disk *disk = NVT_CONTAINEROF(bdev, struct uring_disk, bdev);
	char uuid[NVT_UUID_STRING_LEN];
	json_t *params;

	nvt_uuid_fmt(uuid, bdev->uuid);
	params = json_pack("{s:s, s:i, s:s}", "name", bdev->name, "block_size", bdev->blocklen,
			   "filename", disk->filename);
	if (bdev->module == &g_bdev_aio_module) {
		json_object_set_new(params, "readonly", json_boolean(bdev->read_only));
		json_object_set_new(params, "fallocate", json_boolean(!disk->fallocate_off));
	}
	json_object_set_new(params, "uuid", json_string(uuid));
	if (bdev->module == &g_bdev_aio_module) {
		json_object_set_new(params, "nowait", json_false());
	}
	json_array_append_new(config,
			      json_pack("{s:s, s:o}", "method",
					bdev->module == &g_bdev_aio_module ? "bdev_aio_create"
									   : "bdev_uring_create",
					"params", params));
}

static void
uring_dump_info_json(struct nvt_bdev *bdev, json_t *obj)
{
	struct uring_disk *disk = NVT_CONTAINEROF(bdev, struct uring_disk, bdev);
	json_t *info = json_pack("{s:s}", "filename", disk->filename);

	if (bdev->module == &g_bdev_aio_module) {
		json_object_set_new(info, "block_size_override", json_true());
		json_object_set_new(info, "readonly", json_boolean(bdev->read_only));
		json_object_set_new(info, "fallocate", json_boolean(!disk->fallocate_off));
		json_object_set_new(info, "nowait", json_false());
	}
	json_object_set_new(info, "direct",
			    json_boolean(disk->fd_direct >= 0 && !disk->direct_off));
	json_object_set_new(obj, bdev->module == &g_bdev_aio_module ? "aio" : "uring", info);
}

static const struct nvt_bdev_fn_table g_uring_fn_table = {
	.destruct = uring_destruct,
	.submit_request = uring_submit_request,
	.io_type_supported = uring_io_type_supported,
	.get_io_channel = uring_get_io_channel,
	.write_config_json = uring_write_config_json,
	.dump_info_json = uring_dump_info_json,
};

/* ---- creation ---- */

static int
opts_check(const struct nvt_bdev_uring_opts *in, struct nvt_bdev_uring_opts *out, char *err,
	   size_t errlen)
{
	nvt_bdev_uring_opts_init(out, sizeof(*out));
	if (in == NULL || in->opts_size == 0) {
		set_err(err, errlen, "no options");
		return -EINVAL;
	}
	memcpy(out, in, in->opts_size < sizeof(*out) ? in->opts_size : sizeof(*out));
	out->opts_size = sizeof(*out);
	if (out->name == NULL || out->name[0] == '\0' || strlen(out->name) >= NVT_BDEV_NAME_LEN) {
		set_err(err, errlen, "a name of 1 to %d characters is required",
			NVT_BDEV_NAME_LEN - 1);
		return -EINVAL;
	}
	if (out->filename == NULL || out->filename[0] == '\0') {
		set_err(err, errlen, "a filename is required");
		return -EINVAL;
	}
	if (out->block_size != 0 && (out->block_size < 512 || out->block_size > 4096 ||
				     (out->block_size & (out->block_size - 1)) != 0)) {
		set_err(err, errlen, "block_size %u is not a power of two in 512..4096",
			out->block_size);
		return -EINVAL;
	}
	return 0;
}

static int disk_derive_uuid(struct uring_disk *disk, const struct stat *st);

/* Sizes and capabilities of the opened backing; the reason in \p err on failure. */
static int
disk_probe(struct uring_disk *disk, const struct nvt_bdev_uring_opts *opts, char *err,
	   size_t errlen)
{
	uint32_t lbs = 0, bs;
	uint64_t size;
	struct stat st;
	int rc;

	if (fstat(disk->fd, &st) != 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		set_err(err, errlen, "%s is neither a regular file nor a block device",
			disk->filename);
		return -EINVAL;
	}
	disk->backing = S_ISBLK(st.st_mode) ? URING_BACKING_BLOCKDEV : URING_BACKING_FILE;
	rc = backing_geometry(disk, &st, &size, &lbs);
	if (rc != 0) {
		set_err(err, errlen, "%s: size: %s", disk->filename, nvt_strerror(rc));
		return rc;
	}
	bs = opts->block_size != 0 ? opts->block_size : lbs;
	if (bs < lbs) {
		set_err(err, errlen, "block_size %u is below the logical block size %u of %s", bs,
			lbs, disk->filename);
		return -EINVAL;
	}
	if (size / bs == 0) {
		set_err(err, errlen, "%s holds %llu bytes: not one block of %u", disk->filename,
			(unsigned long long)size, bs);
		return -EINVAL;
	}
	disk->bdev.blocklen = bs;
	disk->bdev.blockcnt = size / bs;
	disk->bdev.write_cache = backing_write_cache(disk, &st);
	/* A file's holes read as zeroes; a device's unmap may not. */
	disk->bdev.unmap_zeroes = disk->backing == URING_BACKING_FILE && opts->fallocate;
	backing_dio_align(disk, lbs);
	if (opts->uuid != NULL) {
		memcpy(disk->bdev.uuid, opts->uuid, sizeof(disk->bdev.uuid));
		return 0;
	}
	return disk_derive_uuid(disk, &st);
}

static int
disk_derive_uuid(struct uring_disk *disk, const struct stat *st)
{
	char id[PATH_MAX + 16];

	backing_identity(disk, st, id, sizeof(id));
	NVT_DEBUGLOG(bdev_uring, "bdev %s: identity %s\n", disk->bdev.name, id);
	return derive_uuid(id, disk->bdev.uuid);
}

static struct uring_disk *
disk_alloc(const struct nvt_bdev_uring_opts *opts)
{
	struct uring_disk *disk = calloc(1, sizeof(*disk));

	if (disk == NULL) {
		return NULL;
	}
	disk->fd = -1;
	disk->fd_direct = -1;
	disk->filename = strdup(opts->filename);
	if (disk->filename == NULL) {
		free(disk);
		return NULL;
	}
	nvt_strcpy_trunc(disk->bdev.name, sizeof(disk->bdev.name), opts->name);
	disk->bdev.module = opts->aio ? &g_bdev_aio_module : &g_bdev_uring_module;
	disk->bdev.product_name = opts->aio ? "AIO disk" : "URING bdev";
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_uring_fn_table;
	disk->fallocate_off = !opts->fallocate;
	disk->no_punch = disk->fallocate_off;
	disk->no_zero_range = disk->fallocate_off;
	return disk;
}

/* Open and learn the backing; the reason in \p err on failure. */
static int
disk_open(struct uring_disk *disk, const struct nvt_bdev_uring_opts *opts, char *err, size_t errlen)
{
	int flags, rc;

	rc = backing_open(disk, opts->read_only, &flags);
	if (rc != 0) {
		set_err(err, errlen, "cannot open %s: %s", disk->filename, nvt_strerror(rc));
		return rc;
	}
	rc = disk_probe(disk, opts, err, errlen);
	if (rc != 0) {
		return rc;
	}
	backing_open_direct(disk, flags);
	return 0;
}

int
nvt_bdev_uring_create(const struct nvt_bdev_uring_opts *in, struct nvt_bdev **bdev, char *err,
		      size_t errlen)
{
	struct nvt_bdev_uring_opts opts;
	struct uring_disk *disk;
	int rc;

	rc = opts_check(in, &opts, err, errlen);
	if (rc != 0) {
		return rc;
	}
	if (nvt_get_thread() == NULL || nvt_bdev_get_by_name(opts.name) != NULL) {
		set_err(err, errlen, "%s",
			nvt_get_thread() == NULL ? "no current thread" : "the name is taken");
		return nvt_get_thread() == NULL ? -EINVAL : -EEXIST;
	}
	disk = disk_alloc(&opts);
	if (disk == NULL) {
		return -ENOMEM;
	}
	rc = disk_open(disk, &opts, err, errlen);
	if (rc == 0) {
		rc = nvt_io_device_register(disk, uring_channel_create, uring_channel_destroy,
					    sizeof(struct uring_channel), opts.name);
	}
	if (rc != 0) {
		uring_disk_free(disk);
		return rc;
	}
	rc = nvt_bdev_register(&disk->bdev);
	if (rc != 0) {
		set_err(err, errlen, "%s",
			rc == -EEXIST ? "the name or the UUID is taken" : nvt_strerror(rc));
		/* Freed once the io-device is gone, which a message reports. */
		nvt_io_device_unregister(disk, uring_disk_release);
		return rc;
	}
	NVT_NOTICELOG("bdev %s: %s, %" PRIu64 " blocks of %u bytes, %s I/O%s%s\n", opts.name,
		      disk->filename, disk->bdev.blockcnt, disk->bdev.blocklen,
		      disk->fd_direct >= 0 ? "direct" : "buffered",
		      disk->bdev.read_only ? ", read-only" : "",
		      disk->bdev.write_cache ? ", write cache" : "");
	*bdev = &disk->bdev;
	return 0;
}

int
nvt_bdev_uring_rescan(const char *name)
{
	struct nvt_bdev *bdev = nvt_bdev_get_by_name(name);
	struct uring_disk *disk;
	struct stat st;
	uint32_t lbs;
	uint64_t size;
	int rc;

	if (bdev == NULL ||
	    (bdev->module != &g_bdev_uring_module && bdev->module != &g_bdev_aio_module)) {
		return -ENODEV;
	}
	disk = NVT_CONTAINEROF(bdev, struct uring_disk, bdev);
	if (fstat(disk->fd, &st) != 0) {
		return -errno;
	}
	rc = backing_geometry(disk, &st, &size, &lbs);
	if (rc != 0) {
		return rc;
	}
	return nvt_bdev_notify_blockcnt_change(bdev, size / bdev->blocklen);
}
