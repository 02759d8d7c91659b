/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The malloc module: bdevs backed by RAM. Its RPC methods
 * (bdev_malloc_create, bdev_malloc_delete) register themselves when the
 * module is linked (bdev_malloc_dep).
 */
#ifndef NVT_BDEV_MALLOC_H
#define NVT_BDEV_MALLOC_H

#include "nvtcp/internal/bdev_module.h"

/**
 * Create a bdev backed by RAM (allocated up front, 4096-aligned, zeroed). It
 * supports every I/O type: write zeroes and unmap zero the blocks, flush has
 * nothing to do (no write cache). App thread.
 *
 * \return 0, -EEXIST (name or UUID taken), -EINVAL (bad name or size, no
 * current thread), -ENOMEM.
 */
int nvt_bdev_malloc_create(const struct nvt_bdev_create_opts *opts, struct nvt_bdev **bdev);

/* The module, and its create method (parameters accepted and saved), for its RPC file. */
extern const struct nvt_bdev_module g_bdev_malloc_module;
extern const struct nvt_bdev_rpc_create_method g_bdev_malloc_create;

#endif /* NVT_BDEV_MALLOC_H */
