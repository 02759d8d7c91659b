/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The null module: bdevs that read zeroes and discard writes. Its RPC
 * methods (bdev_null_create, bdev_null_delete) register themselves when the
 * module is linked (bdev_null_dep).
 */
#ifndef NVT_BDEV_NULL_H
#define NVT_BDEV_NULL_H

#include "nvtcp/internal/bdev_module.h"

/**
 * Create a bdev that discards writes and reads zeroes (compare matches only
 * zeroes). App thread.
 *
 * \return 0, -EEXIST, -EINVAL, -ENOMEM.
 */
int nvt_bdev_null_create(const struct nvt_bdev_create_opts *opts, struct nvt_bdev **bdev);

/* The module, and its create method (parameters accepted and saved), for its RPC file. */
extern const struct nvt_bdev_module g_bdev_null_module;
extern const struct nvt_bdev_rpc_create_method g_bdev_null_create;

#endif /* NVT_BDEV_NULL_H */
