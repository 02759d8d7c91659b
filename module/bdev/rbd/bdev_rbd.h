/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * The rbd module: bdevs over Ceph RBD images through librbd (SPDK's
 * bdev_rbd_* methods and parameters). Its RPC methods register themselves
 * when the module is linked (bdev_rbd_dep).
 *
 * Connections: a registered cluster (nvt_bdev_rbd_register_cluster) is one
 * rados connection that every image naming it shares; an image created
 * without a cluster name gets a private connection of its own. Every
 * blocking librados/librbd call (connect, open, stat, resize, close,
 * shutdown) runs on a short-lived pthread that answers the app thread with a
 * message: a slow or dead cluster never stalls a reactor. The connection is
 * bounded (rados_mon_op_timeout, client_mount_timeout: 15 s unless the
 * configuration says otherwise).
 *
 * Defaults a gateway needs (each overridable by the configuration):
 * rbd_cache=false (a cache in the gateway would lose acknowledged writes when
 * it dies), so the bdev has no write cache; rbd_skip_partial_discard=false,
 * so deallocated blocks read back as zeroes (the bdev reports unmap_zeroes;
 * a configuration that turns it back on loses that). Secrets: a "key"
 * configuration entry is refused (it would be saved in clear); give a key
 * file (key_file, or the "keyring" entry) instead.
 *
 * Every function here runs on the app thread; callbacks run there too, never
 * inside the call that started them.
 */
#ifndef NVT_BDEV_RBD_H
#define NVT_BDEV_RBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "nvtcp/internal/bdev_module.h"

/** The outcome of an asynchronous step: 0 or -errno, and a message naming what failed. */
typedef void (*nvt_bdev_rbd_cb)(void *ctx, int rc, const char *err);

/** A cluster to register (SPDK's bdev_rbd_register_cluster); strings copied. */
struct nvt_bdev_rbd_cluster_opts {
	const char *name;	    /**< required */
	const char *user_id;	    /**< NULL: librados's default ("admin") */
	const json_t *config_param; /**< object of string values, or NULL */
	const char *config_file;    /**< NULL: librados's default search, unless config_param */
	const char *key_file;	    /**< keyring path, or NULL */
	const char *core_mask;	    /**< kept and reported; librbd's threads are not pinned */
};

/**
 * Register and connect a cluster; \p cb once connected or failed.
 * \return 0 (cb will run), -EEXIST (name taken), -EINVAL (\p err says why),
 * -ENOMEM.
 */
int nvt_bdev_rbd_register_cluster(const struct nvt_bdev_rbd_cluster_opts *opts, nvt_bdev_rbd_cb cb,
				  void *ctx, char *err, size_t errlen);

/**
 * Unregister a cluster that no bdev uses; \p cb once its connection is shut down.
 * \return 0 (cb will run), -ENOENT (no such cluster), -EBUSY (used, or
 * still connecting; \p err names the users).
 */
int nvt_bdev_rbd_unregister_cluster(const char *name, nvt_bdev_rbd_cb cb, void *ctx, char *err,
				    size_t errlen);

/**
 * SPDK's bdev_rbd_get_clusters_info answer: the cluster \p name as an
 * object, or all as an array when \p name is NULL; NULL when \p name is not
 * registered. Secrets are never shown.
 */
json_t *nvt_bdev_rbd_clusters_info(const char *name);

/** An image to export (SPDK's bdev_rbd_create); strings copied. */
struct nvt_bdev_rbd_opts {
	const char *name; /**< required (the RPC picks Rbd0, Rbd1, ... when absent) */
	const char *pool_name;
	const char *rbd_name;
	uint32_t block_size;
	const char *user_id;	  /**< private connection only */
	const json_t *config;	  /**< private connection only: object of string values */
	const char *cluster_name; /**< a registered cluster, or NULL: a private connection */
	const uint8_t *uuid;	  /**< 16 bytes, or NULL: derived from the cluster and image */
	bool read_only;
};

/** Called once a creation finished: the bdev, or NULL with rc and a message. */
typedef void (*nvt_bdev_rbd_create_cb)(void *ctx, struct nvt_bdev *bdev, int rc, const char *err);

/**
 * Open the image (on a pthread) and register the bdev (on the app thread).
 * \return 0 (cb will run), -EEXIST (name taken), -EINVAL / -ENOENT (\p err
 * says why: bad block size, unknown cluster, ...), -ENOMEM.
 */
int nvt_bdev_rbd_create(const struct nvt_bdev_rbd_opts *opts, nvt_bdev_rbd_create_cb cb, void *ctx,
			char *err, size_t errlen);

/**
 * Grow the image of rbd bdev \p name to \p new_size_mib MiB (SPDK's unit);
 * the bdev's openers are told of the new size.
 * \return 0 (cb will run), -ENODEV (no such rbd bdev), -EINVAL (smaller than
 * now: shrinking is refused), -EBUSY (not ready).
 */
int nvt_bdev_rbd_resize(const char *name, uint64_t new_size_mib, nvt_bdev_rbd_cb cb, void *ctx,
			char *err, size_t errlen);

/** Whether \p name is an rbd bdev being created (its name is taken). */
bool nvt_bdev_rbd_name_pending(const char *name);

extern const struct nvt_bdev_module g_bdev_rbd_module;

#endif /* NVT_BDEV_RBD_H */
