/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the null module's RPC file needs from the module.
 */
#ifndef NVT_BDEV_NULL_H
#define NVT_BDEV_NULL_H

#include "nvtcp/internal/bdev_module.h"

extern const struct nvt_bdev_module g_bdev_null_module;
/* bdev_null_create: its parameters (accepted, and saved) and constructor. */
extern const struct nvt_bdev_rpc_create_method g_bdev_null_create;

#endif /* NVT_BDEV_NULL_H */
