/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the files of lib/bdev.
 */
#ifndef NVT_BDEV_INTERNAL_H
#define NVT_BDEV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/queue.h"
#include "nvtcp/thread.h"
#include "bdev_stat.h"

/* An open descriptor. Fields are fixed at open except where noted. */
struct nvt_bdev_desc {
	struct nvt_bdev *bdev;
	/* The opening thread: events run there, close must happen there. */
	struct nvt_thread *thread;
	nvt_bdev_event_cb event_cb;
	void *event_ctx;
	bool write;
	/* Closed by its owner; set under the registry lock. */
	bool closed;
	/* The opener plus event messages in flight; under the registry lock. */
	uint32_t refs;
	TAILQ_ENTRY(nvt_bdev_desc) link;
};

STAILQ_HEAD(bdev_io_list, nvt_bdev_io);

/* The per-thread context of a bdev's io-channel. Owned by that thread. */
struct nvt_bdev_channel {
	struct nvt_bdev *bdev;
	/* The module's channel on this thread. */
	struct nvt_io_channel *module_ch;
	/* Recycled bdev_io objects; grows on demand, freed with the channel. */
	struct bdev_io_list free_ios;
	/* Completed inside a submit call, waiting for their callbacks. */
	struct bdev_io_list completed;
	/* bdev_io objects allocated for this channel. */
	uint32_t io_count;
	/* Submitted and not yet called back. */
	uint32_t outstanding;
	/* Nesting of submit_request() calls now running on this channel. */
	uint32_t submit_depth;
	/* Fallback when the completion message cannot be sent; paused otherwise. */
	struct nvt_poller *cpl_retry;
	/* I/O statistics of this channel (bdev_stat.h). */
	struct bdev_chan_stat stat;
};

/* Registry lock: the bdev list, descriptor lists and descriptor references. */
void bdev_lock(void);
void bdev_unlock(void);

/* The io-device of lib/bdev's channels of \p bdev (not the module's). */
void *bdev_to_io_dev(struct nvt_bdev *bdev);

int bdev_channel_create(void *io_device, void *ctx);
void bdev_channel_destroy(void *io_device, void *ctx);

/* bdev_io objects a channel allocated so far (tests check that reuse bounds it). */
uint32_t bdev_channel_io_count(struct nvt_io_channel *ch);

/* bdev_module_hooks.c: the modules' own entries, before the bdevs (configuration save). */
void bdev_module_hooks_write_config(struct json_t *config);
/* Each module's fini hook in turn, then done(arg); app thread. */
void bdev_module_hooks_fini(void (*done)(void *arg), void *arg);

#endif /* NVT_BDEV_INTERNAL_H */
