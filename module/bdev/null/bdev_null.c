/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Null bdevs: no storage at all. Reads return zeroes, writes are discarded,
 * compares match only zeroes. For benchmarks of everything but the media.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/string.h"
#include "nvtcp/thread.h"
#include "bdev_null.h"

struct null_disk {
	/* The disk's io-device is the disk itself. */
	struct nvt_bdev bdev;
};

const struct nvt_bdev_module g_bdev_null_module = {
	.name = "null",
};

static void
null_zero_fill(const struct iovec *iov, int iovcnt, size_t len)
{
	size_t n;
	int i;

	for (i = 0; i < iovcnt && len > 0; i++) {
		n = iov[i].iov_len < len ? iov[i].iov_len : len;
		memset(iov[i].iov_base, 0, n);
		len -= n;
	}
}

static bool
null_mem_is_zero(const uint8_t *p, size_t n)
{
	/* p[0] is zero and every byte equals the next: all zero. */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int
null_compare(const struct iovec *iov, int iovcnt, size_t len)
{
	size_t n;
	int i;

	for (i = 0; i < iovcnt && len > 0; i++) {
		n = iov[i].iov_len < len ? iov[i].iov_len : len;
		if (!null_mem_is_zero(iov[i].iov_base, n)) {
			return -EILSEQ;
		}
		len -= n;
	}
	return 0;
}

static void
null_submit_request(struct nvt_io_channel *ch, struct nvt_bdev_io *io)
{
	size_t len = io->num_blocks * io->bdev->blocklen;
	int status = 0;

	(void)ch;
	switch (io->type) {
	case NVT_BDEV_IO_TYPE_READ:
		null_zero_fill(io->iovs, io->iovcnt, len);
		break;
	case NVT_BDEV_IO_TYPE_COMPARE:
		status = null_compare(io->iovs, io->iovcnt, len);
		break;
	case NVT_BDEV_IO_TYPE_WRITE:
	case NVT_BDEV_IO_TYPE_WRITE_ZEROES:
	case NVT_BDEV_IO_TYPE_UNMAP:
	case NVT_BDEV_IO_TYPE_FLUSH:
		break;
	default:
		status = -EINVAL;
		break;
	}
	nvt_bdev_io_complete(io, status);
}

static bool
null_io_type_supported(void *ctxt, enum nvt_bdev_io_type type)
{
	(void)ctxt;
	/* Compare and write would need to be atomic against the other threads' writes. */
	return type < NVT_BDEV_NUM_IO_TYPES && type != NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE;
}

static struct nvt_io_channel *
null_get_io_channel(void *ctxt)
{
	return nvt_get_io_channel(ctxt);
}

static void
null_disk_release(void *io_device)
{
	free(io_device);
}

static void
null_unregistered(void *io_device)
{
	struct null_disk *disk = io_device;

	nvt_bdev_destruct_done(&disk->bdev, 0);
	free(disk);
}

static int
null_destruct(void *ctxt)
{
	/* The module channels of the bdev's channels may still be on their way out. */
	nvt_io_device_unregister(ctxt, null_unregistered);
	return 1;
}

/* SPDK's parameters of bdev_null_create, as it saves them. */
static const char *const g_null_create_params[] = {
	"name",
	"num_blocks",
	"block_size",
	"physical_block_size",
	"md_size",
	"dif_type",
	"dif_is_head_of_md",
	"dif_pi_format",
	"uuid",
	"preferred_write_granularity",
	"preferred_write_alignment",
	"optimal_write_size",
	"preferred_unmap_granularity",
	"preferred_unmap_alignment",
	NULL,
};

/* Unlike bdev_malloc_create, SPDK's null create requires a name. */
const struct nvt_bdev_rpc_create_method g_bdev_null_create = {
	.method = "bdev_null_create",
	.params = g_null_create_params,
	.create = nvt_bdev_null_create,
};

static void
null_write_config_json(struct nvt_bdev *bdev, json_t *config)
{
	nvt_bdev_write_create_config(bdev, &g_bdev_null_create, config);
}

static const struct nvt_bdev_fn_table g_null_fn_table = {
	.destruct = null_destruct,
	.submit_request = null_submit_request,
	.io_type_supported = null_io_type_supported,
	.get_io_channel = null_get_io_channel,
	.write_config_json = null_write_config_json,
};

int
nvt_bdev_null_create(const struct nvt_bdev_create_opts *in, struct nvt_bdev **bdev)
{
	struct nvt_bdev_create_opts opts;
	struct null_disk *disk;
	int rc;

	rc = nvt_bdev_create_opts_check(in, &opts);
	if (rc != 0 || nvt_get_thread() == NULL) {
		return rc != 0 ? rc : -EINVAL;
	}
	disk = calloc(1, sizeof(*disk));
	if (disk == NULL) {
		return -ENOMEM;
	}
	nvt_strcpy_trunc(disk->bdev.name, sizeof(disk->bdev.name), opts.name);
	disk->bdev.product_name = "Null disk";
	/* It reads zeroes whatever was written or unmapped. */
	disk->bdev.unmap_zeroes = true;
	disk->bdev.blocklen = opts.block_size;
	disk->bdev.blockcnt = opts.num_blocks;
	if (opts.uuid != NULL) {
		memcpy(disk->bdev.uuid, opts.uuid, sizeof(disk->bdev.uuid));
	}
	disk->bdev.ctxt = disk;
	disk->bdev.fn_table = &g_null_fn_table;
	disk->bdev.module = &g_bdev_null_module;
	rc = nvt_io_device_register(disk, NULL, NULL, 0, opts.name);
	if (rc != 0) {
		free(disk);
		return rc;
	}
	rc = nvt_bdev_register(&disk->bdev);
	if (rc != 0) {
		/* Freed once the io-device is gone, which a message reports. */
		nvt_io_device_unregister(disk, null_disk_release);
		return rc;
	}
	*bdev = &disk->bdev;
	return 0;
}
