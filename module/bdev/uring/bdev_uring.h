/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The uring module: bdevs over a regular file or a block device, through
 * io_uring. It serves SPDK's bdev_uring_* methods and, with the same engine,
 * SPDK's bdev_aio_* (a bdev is saved back under the method it was created
 * with). The RPC methods register themselves when the module is linked
 * (bdev_uring_dep).
 *
 * Durability is NVMe's: a completed write is in the backing's cache (files:
 * the page cache; devices: their write cache) until a Flush (a data sync) or
 * was durable on completion when written with FUA. The bdev reports a write
 * cache for files and for devices whose queue says "write back".
 *
 * Identity: without a UUID given, the bdev's UUID is derived from the
 * backing, the same at every start: a SHA-256 of the device's WWID (block
 * devices that have one), of a loop device's backing file, or else of the
 * canonical path, as a version 8 UUID.
 */
#ifndef NVT_BDEV_URING_H
#define NVT_BDEV_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvtcp/internal/bdev_module.h"

/** Options of nvt_bdev_uring_create(); initialise with nvt_bdev_uring_opts_init(). */
struct nvt_bdev_uring_opts {
	size_t opts_size;
	/** Required; copied. */
	const char *name;
	/** Required: a regular file or a block device; copied. */
	const char *filename;
	/**
	 * Bytes per block; 0: the device's logical block size, 512 for a file.
	 * On a block device, at least its logical block size.
	 */
	uint32_t block_size;
	/** 16 bytes, or NULL: derived from the backing (above). */
	const uint8_t *uuid;
	/** Open read-only: writes fail as write protected. */
	bool read_only;
	/**
	 * Use fallocate for write zeroes and deallocate (default true). Without
	 * it, write zeroes writes zeroes and deallocate does nothing.
	 */
	bool fallocate;
	/** Created as SPDK's aio bdev: "AIO disk", saved as bdev_aio_create. */
	bool aio;
};

void nvt_bdev_uring_opts_init(struct nvt_bdev_uring_opts *opts, size_t opts_size);

/**
 * Open the backing and create the bdev. App thread. The file or device is
 * opened for reading and writing (read-only if asked, or if the backing
 * refuses writes), also with O_DIRECT where it allows it; \p err (may be NULL)
 * gets why a creation failed, naming the file.
 *
 * \return 0, -ENOENT / -EACCES / ... (the backing cannot be opened), -EINVAL
 * (not a file or block device, a bad block size, smaller than one block),
 * -EEXIST (name or UUID taken), -ENOMEM.
 */
int nvt_bdev_uring_create(const struct nvt_bdev_uring_opts *opts, struct nvt_bdev **bdev, char *err,
			  size_t errlen);

/**
 * Read the size of the backing of bdev \p name again (it grew or shrank):
 * openers are told of a new size (namespaces then tell hosts). App thread.
 *
 * \return 0, -ENODEV (no such uring bdev), or the -errno of reading it.
 */
int nvt_bdev_uring_rescan(const char *name);

/* For the module's RPC file. */
extern const struct nvt_bdev_module g_bdev_uring_module;
extern const struct nvt_bdev_module g_bdev_aio_module;

#endif /* NVT_BDEV_URING_H */
