/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the malloc module's RPC file needs from the module.
 */
#ifndef NVT_BDEV_MALLOC_H
#define NVT_BDEV_MALLOC_H

#include "nvtcp/internal/bdev_module.h"

extern const struct nvt_bdev_module g_bdev_malloc_module;
/* bdev_malloc_create: its parameters (accepted, and saved) and constructor. */
extern const struct nvt_bdev_rpc_create_method g_bdev_malloc_create;

#endif /* NVT_BDEV_MALLOC_H */
