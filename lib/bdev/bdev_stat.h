/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O statistics of lib/bdev: what each channel counts on its own thread,
 * and the per-bdev state that outlives channels (bdev_stat.c).
 */
#ifndef NVT_BDEV_STAT_H
#define NVT_BDEV_STAT_H

#include <errno.h>
#include <stdint.h>

#include "nvtcp/bdev.h"
#include "nvtcp/histogram.h"
#include "nvtcp/internal/bdev_module.h"
#include "nvtcp/likely.h"

/* One channel's counts. Written and read only on the channel's thread. */
struct bdev_chan_stat {
	struct nvt_bdev_iostat io;
	/* The latency histogram, NULL while histograms are off. */
	struct nvt_histogram *hist;
	/* The I/O type the histogram counts, or -1 for all. */
	int hist_type;
	/* Unique among the bdev's channels: tells a gather which ones it saw. */
	uint64_t serial;
};

/* The statistics kind of each I/O type; -1: counted nowhere but errors. */
static const int8_t g_bdev_stat_kind[NVT_BDEV_NUM_IO_TYPES] = {
	[NVT_BDEV_IO_TYPE_READ] = NVT_BDEV_STAT_READ,
	[NVT_BDEV_IO_TYPE_WRITE] = NVT_BDEV_STAT_WRITE,
	[NVT_BDEV_IO_TYPE_WRITE_ZEROES] = NVT_BDEV_STAT_WRITE,
	[NVT_BDEV_IO_TYPE_UNMAP] = NVT_BDEV_STAT_UNMAP,
	[NVT_BDEV_IO_TYPE_FLUSH] = -1,
	[NVT_BDEV_IO_TYPE_COMPARE] = -1,
	/* Counted where it changes the data: a miscompare is an error, and writes nothing. */
	[NVT_BDEV_IO_TYPE_COMPARE_AND_WRITE] = NVT_BDEV_STAT_WRITE,
};

static inline enum nvt_bdev_io_error
bdev_stat_error_of(int status)
{
	if (status == -ENOMEM) {
		return NVT_BDEV_IO_ERROR_NOMEM;
	}
	return status == -EILSEQ ? NVT_BDEV_IO_ERROR_MISCOMPARE : NVT_BDEV_IO_ERROR_FAILED;
}

/* Count one completed I/O of \p latency ticks. The channel's thread. */
static inline void
bdev_stat_record(struct bdev_chan_stat *s, const struct nvt_bdev_io *io, uint64_t latency)
{
	struct nvt_bdev_op_stat *op;
	int kind;

	if (s->hist != NULL && (s->hist_type < 0 || s->hist_type == (int)io->type)) {
		nvt_histogram_tally(s->hist, latency);
	}
	if (nvt_unlikely(io->internal.status != 0)) {
		s->io.io_error[bdev_stat_error_of(io->internal.status)]++;
		return;
	}
	kind = g_bdev_stat_kind[io->type];
	if (kind < 0) {
		return;
	}
	op = &s->io.op[kind];
	op->ops++;
	op->bytes += io->num_blocks * io->bdev->blocklen;
	op->latency_ticks += latency;
	if (latency > op->max_latency_ticks) {
		op->max_latency_ticks = latency;
	}
	if (latency < op->min_latency_ticks) {
		op->min_latency_ticks = latency;
	}
}

/* Zeroed counts (min latencies at UINT64_MAX). */
void bdev_iostat_init(struct nvt_bdev_iostat *stat);

/* Add \p add's counts to \p total's. */
void bdev_iostat_add(struct nvt_bdev_iostat *total, const struct nvt_bdev_iostat *add);

/* The per-bdev statistics state: at registration, and once every channel is gone. */
int bdev_stat_dev_init(struct nvt_bdev *bdev);
void bdev_stat_dev_fini(struct nvt_bdev *bdev);

/* A channel of \p bdev is created / released, on its thread. */
void bdev_stat_channel_init(struct nvt_bdev *bdev, struct bdev_chan_stat *s);
void bdev_stat_channel_fini(struct nvt_bdev *bdev, struct bdev_chan_stat *s);

/* One channel's counts as gathered for bdev_get_iostat's per_channel. */
struct bdev_stat_entry {
	uint64_t serial;
	uint64_t thread_id;
	struct nvt_bdev_iostat io;
};

/*
 * Called on the caller's thread with each live channel's counts (\p n of
 * them; lent for the call), or with status -errno and no entries.
 */
typedef void (*bdev_stat_channels_cb)(void *ctx, int status, const struct bdev_stat_entry *entries,
				      uint32_t n);

/*
 * Gather the counts of each live channel of bdev \p name, as
 * nvt_bdev_get_iostat() does. Same contract and errors.
 */
int bdev_stat_get_channels(const char *name, bdev_stat_channels_cb cb, void *ctx);

#endif /* NVT_BDEV_STAT_H */
