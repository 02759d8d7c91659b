/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the rbd module, shared by rbd_work.c (blocking steps on a
 * pthread), rbd_cluster.c (connections), bdev_rbd.c (the bdevs' lifecycle),
 * rbd_io.c (the I/O path) and rbd_status.c (librbd errors as bdev statuses).
 */
#ifndef NVT_BDEV_RBD_INTERNAL_H
#define NVT_BDEV_RBD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "nvtcp/cpl_queue.h"
#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/iobuf.h"
#include "nvtcp/queue.h"
#include "nvtcp/thread.h"
#include "bdev_rbd.h"
#include "rbd_status.h"

#define RBD_ERR_LEN 256
/*
 * librbd (Ceph 16) compares and writes atomically within one 512-byte sector
 * only; a longer or misaligned pair fails with EINVAL.
 */
#define RBD_CAW_SECTOR 512u
/* Most iovecs of one I/O (the transport's largest I/O in pool buffers). */
#define RBD_MAX_IOVS NVT_IOBUF_MAX_BUFS

/* ---- rbd_work.c: a blocking step on a short-lived pthread ---- */

/*
 * Embed in the object the step concerns. work() runs on a new pthread (it may
 * block); then done() runs on the thread that started it (the app thread).
 */
struct rbd_work {
	void (*work)(struct rbd_work *w);
	void (*done)(struct rbd_work *w);
	struct nvt_thread *thread;
	struct nvt_thread_msg msg;
};

/* Start \p w from an nvt_thread. When no pthread can be made, work() runs inline. */
void rbd_work_start(struct rbd_work *w, void (*work)(struct rbd_work *w),
		    void (*done)(struct rbd_work *w));

/* ---- rbd_cluster.c ---- */

enum rbd_cluster_state {
	RBD_CLUSTER_CONNECTING,
	RBD_CLUSTER_READY,
	RBD_CLUSTER_CLOSING,
};

/* A rados connection: registered (named, shared) or private to one image. App thread. */
struct rbd_cluster {
	char *name; /* NULL: private */
	char *user_id;
	json_t *config; /* object of strings, or NULL */
	char *config_file;
	char *key_file;
	char *core_mask;
	rados_t rados;
	bool connected;
	enum rbd_cluster_state state;
	/* Images using it. */
	uint32_t refs;
	struct rbd_work work;
	int work_rc;
	char err[RBD_ERR_LEN];
	nvt_bdev_rbd_cb cb;
	void *cb_ctx;
	TAILQ_ENTRY(rbd_cluster) link;
};

/* Copy what a connection needs; NULL when out of memory. */
struct rbd_cluster *rbd_cluster_alloc(const char *name, const char *user_id, const json_t *config,
				      const char *config_file, const char *key_file,
				      const char *core_mask);
void rbd_cluster_free(struct rbd_cluster *c);

/* Blocking (pthread): create, configure and connect; \p err says why it failed. */
int rbd_cluster_connect(struct rbd_cluster *c, char *err, size_t errlen);
/* Blocking (pthread): shut the connection down. */
void rbd_cluster_shutdown(struct rbd_cluster *c);

/* A ready registered cluster, referenced; NULL with \p err set. */
struct rbd_cluster *rbd_cluster_get(const char *name, char *err, size_t errlen);
void rbd_cluster_put(struct rbd_cluster *c);

/*
 * Set "client_address" in \p o to the connected \p c's client address (what
 * `ceph osd blocklist add` takes); nothing when not connected. App thread.
 */
void rbd_cluster_addr_json(const struct rbd_cluster *c, json_t *o);
/** Set \p k to the string \p v in \p o, unless \p v is NULL (an option not given). */
void rbd_json_set_str(json_t *o, const char *k, const char *v);

/* Whether \p config holds an entry nvtcp refuses (a secret); \p err says which. */
int rbd_config_check(const json_t *config, const char *field, char *err, size_t errlen);

/* ---- bdev_rbd.c / rbd_io.c ---- */

enum rbd_disk_state {
	RBD_DISK_OPENING,
	RBD_DISK_READY,
	RBD_DISK_CLOSING,
};

/* An exported image. App thread, but for what I/O threads read (set before registration). */
struct rbd_disk {
	struct nvt_bdev bdev;
	enum rbd_disk_state state;
	char *pool_name;
	char *rbd_name;
	bool uuid_given;
	struct rbd_cluster *cluster;
	bool cluster_private;
	rados_ioctx_t ioctx;
	bool ioctx_open;
	rbd_image_t image;
	bool image_open;
	uint64_t watch_handle;
	bool watching;
	/* Bytes, as last read from the image. */
	uint64_t size;
	/* The size watch: librbd's callback sends this to the app thread. */
	struct nvt_thread_msg watch_msg;
	struct nvt_thread *app_thread;
	bool refreshing;
	bool refresh_again;
	struct rbd_work refresh_work;
	int refresh_rc;
	uint64_t refresh_size;
	bool resizing;
	/* Blocking steps under way for this disk; closing waits for them. */
	uint32_t works;
	bool destruct_pending;
	/* The step under way (open, refresh, resize, close) and its answer. */
	struct rbd_work work;
	int work_rc;
	uint64_t work_size;
	char err[RBD_ERR_LEN];
	nvt_bdev_rbd_create_cb create_cb;
	nvt_bdev_rbd_cb resize_cb;
	void *cb_ctx;
	TAILQ_ENTRY(rbd_disk) link;
};

/* Per-thread channel of a disk: where librbd's completions are handed back. */
struct rbd_channel {
	struct rbd_disk *disk;
	struct nvt_cpl_queue cpl;
	/* Submitted to librbd and not yet completed here. */
	uint32_t inflight;
	/* The last status this channel logged, to log changes, not every I/O. */
	int last_status;
};

/* Per-I/O context (the bdev_io's driver_ctx). */
struct rbd_task {
	struct nvt_cpl_entry entry;
	struct nvt_bdev_io *io;
	struct rbd_channel *ch;
	ssize_t ret;
	/* A contiguous copy for compare and compare-and-write, or NULL. */
	uint8_t *bounce;
	uint64_t mismatch_off;
	/* The I/O's iovecs cut to its length, where they hold more (lib/bdev allows it). */
	struct iovec iov[RBD_MAX_IOVS];
};

/*
 * "Rbd0 (rbd/img0), ..." of the disks open (any state) into \p buf; false
 * when there is none. App thread.
 */
bool rbd_disks_describe(char *buf, size_t len);

/* ---- rbd_exit.c: the bound on a shutdown a stalled cluster holds up ---- */

/* The shutdown began: watch it, if any image is open. App thread. */
void rbd_exit_watchdog_start(void);
/* The module's shutdown ended: the watchdog stands down. App thread. */
void rbd_exit_done(void);

void rbd_submit_request(struct nvt_io_channel *ch, struct nvt_bdev_io *io);
bool rbd_io_type_supported(void *ctxt, enum nvt_bdev_io_type type);
int rbd_channel_create(void *io_device, void *ctx);
void rbd_channel_destroy(void *io_device, void *ctx);

#endif /* NVT_BDEV_RBD_INTERNAL_H */
