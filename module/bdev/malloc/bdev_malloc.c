/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RAM-backed bdevs. The whole disk is one anonymous mapping, in huge pages
 * where the kernel has them, populated at creation: the kernel zeroes it
 * faster than memset would, and I/O never takes a page fault or fails for
 * lack of memory. Data is copied with memcpy; there is no write cache, so
 * flush has nothing to do.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "bdev_malloc.h"

struct malloc_disk {
	struct nvt_bdev bdev;
	/* blockcnt * blocklen bytes, page aligned; the disk's io-device is the disk itself. */
	uint8_t *buf;
	size_t size;
};

const struct nvt_bdev_module g_bdev_malloc_module = {
	.name = "malloc",
};

/* Zero a range; whole pages go back to the kernel, which reads them as zeroes. */
static void
malloc_zero(uint8_t *buf, size_t off, size_t len)
{
	size_t page = 4096;
	size_t start = (off + page - 1) & ~(page - 1);
	size_t end = (off + len) & ~(page - 1);

	if (end <= start || madvise(buf + start, end - start, MADV_DONTNEED) != 0) {
		memset(buf + off, 0, len);
		return;
	}
	memset(buf + off, 0, start - off);
	memset(buf + end, 0, off + len - end);
}

static void
malloc_submit_request(struct nvt_io_channel *ch, struct nvt_bdev_io *io)
{
	struct malloc_disk *disk = io->bdev->ctxt;
	size_t off = io->offset_blocks * io->bdev->blocklen;
	size_t len = io->num_blocks * io->bdev->blocklen;
	int status = 0;

	(void)ch;
	switch (io->type) {
	case NVT_BDEV_IO_TYPE_READ:
		nvt_bdev_iov_copy(disk->buf + off, io->iovs, io->iovcnt, len, false);
		break;
	case NVT_BDEV_IO_TYPE_WRITE:
		nvt_bdev_iov_copy(disk->buf + off, io->iovs, io->iovcnt, len, true);
		break;
	case NVT_BDEV_IO_TYPE_COMPARE:
		status = nvt_bdev_iov_compare(disk->buf + off, io->iovs, io->iovcnt, len);
		break;
	case NVT_BDEV_IO_TYPE_WRITE_ZEROES:
	case NVT_BDEV_IO_TYPE_UNMAP:
		/* Unmapped blocks read back as zeroes, as NVMe's DLFEAT lets a target say. */
		malloc_zero(disk->buf, off, len);
		break;
	case NVT_BDEV_IO_TYPE_FLUSH:
		break;
	default:
		status = -EINVAL;
		break;
	}
	nvt_bdev_io_complete(io, status);
}

static bool
malloc_io_type_supported(void *ctxt, enum nvt_bdev_io_type type)
{
	(void)ctxt;
	/* Compare and write would need to be atomic against the other threads' writes. */
	return type < NVT_BDEV_NUM_IO_TYPES && type != NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE;
}

static struct nvt_io_channel *
malloc_get_io_channel(void *ctxt)
{
	return nvt_get_io_channel(ctxt);
}

static void
malloc_disk_free(struct malloc_disk *disk)
{
	munmap(disk->buf, disk->size);
	free(disk);
}

/* The io-device of a disk whose bdev registration failed is gone. */
static void
malloc_disk_release(void *io_device)
{
	malloc_disk_free(io_device);
}

static void
malloc_unregistered(void *io_device)
{
	struct malloc_disk *disk = io_device;

	nvt_bdev_destruct_done(&disk->bdev, 0);
	malloc_disk_free(disk);
}

static int
malloc_destruct(void *ctxt)
{
	/* The module channels of the bdev's channels may still be on their way out. */
	nvt_io_device_unregister(ctxt, malloc_unregistered);
	return 1;
}

/* SPDK's parameters of bdev_malloc_create (rpc.py fills some in), as it saves them. */
static const char *const g_malloc_create_params[] = {
	"name",	    "num_blocks",	   "block_size",    "physical_block_size",
	"uuid",	    "optimal_io_boundary", "md_size",	    "md_interleave",
	"dif_type", "dif_is_head_of_md",   "dif_pi_format", "numa_id",
	NULL,
};

const struct nvt_bdev_rpc_create_method g_bdev_malloc_create = {
	.method = "bdev_malloc_create",
	.params = g_malloc_create_params,
	/* SPDK names unnamed RAM disks Malloc0, Malloc1, ... */
	.name_prefix = "Malloc",
	.create = nvt_bdev_malloc_create,
};

static void
malloc_write_config_json(struct nvt_bdev *bdev, json_t *config)
{
	nvt_bdev_write_create_config(bdev, &g_bdev_malloc_create, config);
}

static const struct nvt_bdev_fn_table g_malloc_fn_table = {
	.destruct = malloc_destruct,
	.submit_request = malloc_submit_request,
	.io_type_supported = malloc_io_type_supported,
	.get_io_channel = malloc_get_io_channel,
	.write_config_json = malloc_write_config_json,
};

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static void
malloc_populate(uint8_t *buf, size_t size)
{
	/* Best effort: fewer faults and TLB misses where transparent huge pages exist. */
	madvise(buf, size, MADV_HUGEPAGE);
	if (madvise(buf, size, MADV_POPULATE_WRITE) != 0) {
		/* Kernels before 5.14: touch every page. */
		memset(buf, 0, size);
	}
}

static struct malloc_disk *
malloc_disk_alloc(const struct nvt_bdev_create_opts *opts)
{
	size_t size = opts->num_blocks * opts->block_size;
	struct malloc_disk *disk = calloc(1, sizeof(*disk));

	if (disk == NULL) {
		return NULL;
	}
	disk->buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (disk->buf == MAP_FAILED) {
		free(disk);
		return NULL;
	}
	disk->size = size;
	malloc_populate(disk->buf, size);
	nvt_strcpy_trunc(disk->bdev.name, sizeof(disk->bdev.name), opts->name);
	disk->bdev.product_name = "Malloc disk";
	/* Unmapped blocks are zeroed in memory. */
	disk->bdev.unmap_zeroes = true;
	disk->bdev.blocklen = opts->block_size;
	disk->bdev.blockcnt = opts->num_blocks;
	if (opts->uuid != NULL) {
		memcpy(disk->bdev.uuid, opts->uuid, sizeof(disk->bdev.uuid));
	}
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_malloc_fn_table;
	disk->bdev.module = &g_bdev_malloc_module;
	return disk;
}

int
nvt_bdev_malloc_create(const struct nvt_bdev_create_opts *in, struct nvt_bdev **bdev)
{
	struct nvt_bdev_create_opts opts;
	struct malloc_disk *disk;
	int rc;

	rc = nvt_bdev_create_opts_check(in, &opts);
	if (rc != 0 || nvt_get_thread() == NULL) {
		return rc != 0 ? rc : -EINVAL;
	}
	/* Before allocating what may be gigabytes. */
	if (nvt_bdev_get_by_name(opts.name) != NULL) {
		return -EEXIST;
	}
	disk = malloc_disk_alloc(&opts);
	if (disk == NULL) {
		return -ENOMEM;
	}
	rc = nvt_io_device_register(disk, NULL, NULL, 0, opts.name);
	if (rc != 0) {
		malloc_disk_free(disk);
		return rc;
	}
	rc = nvt_bdev_register(&disk->bdev);
	if (rc != 0) {
		/* Freed once the io-device is gone, which a message reports. */
		nvt_io_device_unregister(disk, malloc_disk_release);
		return rc;
	}
	*bdev = &disk->bdev;
	return 0;
}
