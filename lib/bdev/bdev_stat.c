/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O statistics: gathering the per-channel counts, and the histograms.
 *
 * Each channel counts its I/O on its own thread (bdev_stat_record()), with
 * no lock and no atomic. A gather visits the channels by messages
 * (nvt_for_each_channel) and adds what released channels left behind. The
 * per-bdev state below holds that, under its own mutex, which the I/O path
 * never takes: only channel creation and release, gathers and settings.
 *
 * A channel released while a gather runs may or may not have been visited
 * by it; its counts then wait in a pending list, tagged with the channel's
 * serial, so that each gather adds exactly the ones it did not see. They
 * join the retired totals once no gather runs.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/log.h"
#include "nvtcp/queue.h"
#include "nvtcp/ticks.h"
#include "bdev_internal.h"

/* Counts of a channel released while gathers ran. */
struct stat_pending {
	uint64_t serial;
	struct nvt_bdev_iostat io;
	struct nvt_histogram *hist;
	TAILQ_ENTRY(stat_pending) link;
};

/* Histogram settings, in ticks. */
struct hist_cfg {
	bool on;
	int io_type;
	uint32_t granularity;
	uint64_t min_ticks;
	uint64_t max_ticks;
};

struct bdev_stat_dev {
	pthread_mutex_t lock;
	/* What channels created from now on follow. */
	struct hist_cfg hist;
	uint64_t next_serial;
	/* Totals of the channels released (and not pending). */
	struct nvt_bdev_iostat retired;
	/* Their histogram, while histograms are on. */
	struct nvt_histogram *retired_hist;
	/* Gathers running; while non-zero, releases go to pending. */
	uint32_t gathers;
	TAILQ_HEAD(, stat_pending) pending;
};

/* A gather: one nvt_bdev_get_iostat() or bdev_stat_get_channels(). */
struct stat_gather {
	struct nvt_bdev_desc *desc;
	struct bdev_stat_dev *dev;
	/* The channels seen, grown as they are visited. */
	struct bdev_stat_entry *entries;
	uint32_t n, cap;
	struct nvt_histogram *hist;
	nvt_bdev_iostat_cb totals_cb;
	bdev_stat_channels_cb channels_cb;
	void *ctx;
};

void
bdev_iostat_init(struct nvt_bdev_iostat *stat)
{
	int k;

	memset(stat, 0, sizeof(*stat));
	for (k = 0; k < NVT_BDEV_STAT_NUM_KINDS; k++) {
		stat->op[k].min_latency_ticks = UINT64_MAX;
	}
}

void
bdev_iostat_add(struct nvt_bdev_iostat *total, const struct nvt_bdev_iostat *add)
{
	struct nvt_bdev_op_stat *t;
	const struct nvt_bdev_op_stat *a;
	int k;

	for (k = 0; k < NVT_BDEV_STAT_NUM_KINDS; k++) {
		t = &total->op[k];
		a = &add->op[k];
		t->ops += a->ops;
		t->bytes += a->bytes;
		t->latency_ticks += a->latency_ticks;
		t->max_latency_ticks = NVT_MAX(t->max_latency_ticks, a->max_latency_ticks);
		t->min_latency_ticks = NVT_MIN(t->min_latency_ticks, a->min_latency_ticks);
	}
	for (k = 0; k < NVT_BDEV_NUM_IO_ERRORS; k++) {
		total->io_error[k] += add->io_error[k];
	}
}

/* ---- per-bdev state ---- */

int
bdev_stat_dev_init(struct nvt_bdev *bdev)
{
	struct bdev_stat_dev *dev = calloc(1, sizeof(*dev));

	if (dev == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&dev->lock, NULL);
	bdev_iostat_init(&dev->retired);
	TAILQ_INIT(&dev->pending);
	bdev->internal.stat = dev;
	return 0;
}

void
bdev_stat_dev_fini(struct nvt_bdev *bdev)
{
	struct bdev_stat_dev *dev = bdev->internal.stat;

	if (dev == NULL) {
		return;
	}
	/* No channel and no gather is left: a gather holds a descriptor. */
	assert(dev->gathers == 0 && TAILQ_EMPTY(&dev->pending));
	nvt_histogram_destroy(&dev->retired_hist);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	bdev->internal.stat = NULL;
}

/* A histogram of \p cfg's shape; NULL when off or out of memory. */
static struct nvt_histogram *
hist_cfg_create(const struct hist_cfg *cfg)
{
	if (!cfg->on) {
		return NULL;
	}
	return nvt_histogram_create(cfg->granularity, cfg->min_ticks, cfg->max_ticks);
}

void
bdev_stat_channel_init(struct nvt_bdev *bdev, struct bdev_chan_stat *s)
{
	struct bdev_stat_dev *dev = bdev->internal.stat;
	struct hist_cfg cfg;

	bdev_iostat_init(&s->io);
	pthread_mutex_lock(&dev->lock);
	s->serial = dev->next_serial++;
	cfg = dev->hist;
	pthread_mutex_unlock(&dev->lock);
	s->hist_type = cfg.io_type;
	s->hist = hist_cfg_create(&cfg);
	if (cfg.on && s->hist == NULL) {
		NVT_ERRLOG("bdev %s: no memory for a channel's histogram: it counts none\n",
			   bdev->name);
	}
}

/* Fold a released channel's counts into the retired totals. Lock held. */
static void
dev_retire_locked(struct bdev_stat_dev *dev, const struct nvt_bdev_iostat *io,
		  struct nvt_histogram **hist)
{
	bdev_iostat_add(&dev->retired, io);
	if (*hist != NULL && dev->retired_hist != NULL) {
		/* Another shape: counted under older settings, dropped as a re-enable does. */
		nvt_histogram_merge(dev->retired_hist, *hist);
	}
	nvt_histogram_destroy(hist);
}

void
bdev_stat_channel_fini(struct nvt_bdev *bdev, struct bdev_chan_stat *s)
{
	struct bdev_stat_dev *dev = bdev->internal.stat;
	struct stat_pending *p = NULL;

	pthread_mutex_lock(&dev->lock);
	if (dev->gathers > 0) {
		p = calloc(1, sizeof(*p));
	}
	if (p != NULL) {
		p->serial = s->serial;
		p->io = s->io;
		p->hist = s->hist;
		s->hist = NULL;
		TAILQ_INSERT_TAIL(&dev->pending, p, link);
	} else {
		/* Without memory a running gather may count this channel twice: rare, logged. */
		if (dev->gathers > 0) {
			NVT_ERRLOG("bdev %s: no memory to hold a released channel's counts\n",
				   bdev->name);
		}
		dev_retire_locked(dev, &s->io, &s->hist);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* ---- gathers ---- */

static bool
gather_saw(const struct stat_gather *g, uint64_t serial)
{
	uint32_t i;

	for (i = 0; i < g->n; i++) {
		if (g->entries[i].serial == serial) {
			return true;
		}
	}
	return false;
}

/* On each channel's thread: copy its counts; the messages order these steps. */
static void
gather_step(struct nvt_io_channel_iter *iter)
{
	struct stat_gather *g = nvt_io_channel_iter_get_ctx(iter);
	struct nvt_io_channel *io_ch = nvt_io_channel_iter_get_channel(iter);
	struct nvt_bdev_channel *ch = nvt_io_channel_get_ctx(io_ch);
	struct bdev_stat_entry *e;
	uint32_t cap;

	if (g->n == g->cap) {
		cap = g->cap != 0 ? g->cap * 2 : 8;
		e = realloc(g->entries, cap * sizeof(*e));
		if (e == NULL) {
			nvt_for_each_channel_continue(iter, -ENOMEM);
			return;
		}
		g->entries = e;
		g->cap = cap;
	}
	e = &g->entries[g->n++];
	e->serial = ch->stat.serial;
	e->thread_id = nvt_thread_get_id(nvt_io_channel_get_thread(io_ch));
	e->io = ch->stat.io;
	if (g->hist != NULL && ch->stat.hist != NULL) {
		nvt_histogram_merge(g->hist, ch->stat.hist);
	}
	nvt_for_each_channel_continue(iter, 0);
}

/* Add what released channels left that the gather did not see. Lock held. */
static void
gather_add_released_locked(struct stat_gather *g, struct nvt_bdev_iostat *sum)
{
	struct bdev_stat_dev *dev = g->dev;
	struct stat_pending *p;

	bdev_iostat_add(sum, &dev->retired);
	if (g->hist != NULL && dev->retired_hist != NULL) {
		nvt_histogram_merge(g->hist, dev->retired_hist);
	}
	TAILQ_FOREACH(p, &dev->pending, link) {
		if (gather_saw(g, p->serial)) {
			continue;
		}
		bdev_iostat_add(sum, &p->io);
		if (g->hist != NULL && p->hist != NULL) {
			nvt_histogram_merge(g->hist, p->hist);
		}
	}
}

/* The gather is over: pending counts join the retired ones once no gather runs. */
static void
gather_end_locked(struct stat_gather *g)
{
	struct bdev_stat_dev *dev = g->dev;
	struct stat_pending *p;

	if (--dev->gathers > 0) {
		return;
	}
	while ((p = TAILQ_FIRST(&dev->pending)) != NULL) {
		TAILQ_REMOVE(&dev->pending, p, link);
		dev_retire_locked(dev, &p->io, &p->hist);
		free(p);
	}
}

static void
gather_free(struct stat_gather *g)
{
	nvt_bdev_close(g->desc);
	nvt_histogram_destroy(&g->hist);
	free(g->entries);
	free(g);
}

static void
gather_done(struct nvt_io_channel_iter *iter, int status)
{
	struct stat_gather *g = nvt_io_channel_iter_get_ctx(iter);
	struct nvt_bdev_iostat sum;
	uint32_t i;

	bdev_iostat_init(&sum);
	for (i = 0; i < g->n; i++) {
		bdev_iostat_add(&sum, &g->entries[i].io);
	}
	pthread_mutex_lock(&g->dev->lock);
	if (status == 0) {
		gather_add_released_locked(g, &sum);
	}
	gather_end_locked(g);
	pthread_mutex_unlock(&g->dev->lock);
	if (g->totals_cb != NULL) {
		g->totals_cb(g->ctx, status, status == 0 ? &sum : NULL,
			     status == 0 ? g->hist : NULL);
	} else {
		g->channels_cb(g->ctx, status, status == 0 ? g->entries : NULL,
			       status == 0 ? g->n : 0);
	}
	gather_free(g);
}

/* Start a walk answering one of \p totals_cb and \p channels_cb (the other NULL). */
static int
gather_start(const char *name, nvt_bdev_iostat_cb totals_cb, bdev_stat_channels_cb channels_cb,
	     void *ctx)
{
	struct stat_gather *g;
	struct nvt_bdev *bdev;
	struct hist_cfg cfg;
	int rc;

	if (name == NULL || nvt_get_thread() == NULL) {
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		return -ENOMEM;
	}
	g->totals_cb = totals_cb;
	g->channels_cb = channels_cb;
	g->ctx = ctx;
	rc = nvt_bdev_open(name, false, NULL, NULL, &g->desc);
	if (rc != 0) {
		free(g);
		return rc;
	}
	bdev = nvt_bdev_desc_get_bdev(g->desc);
	g->dev = bdev->internal.stat;
	pthread_mutex_lock(&g->dev->lock);
	cfg = g->dev->hist;
	g->dev->gathers++;
	pthread_mutex_unlock(&g->dev->lock);
	if (g->totals_cb != NULL && cfg.on) {
		g->hist = hist_cfg_create(&cfg);
		if (g->hist == NULL) {
			pthread_mutex_lock(&g->dev->lock);
			gather_end_locked(g);
			pthread_mutex_unlock(&g->dev->lock);
			gather_free(g);
			return -ENOMEM;
		}
	}
	/* The walk holds the io-device: the bdev outlives it, and the descriptor too. */
	nvt_for_each_channel(bdev_to_io_dev(bdev), gather_step, g, gather_done);
	return 0;
}

int
nvt_bdev_get_iostat(const char *name, nvt_bdev_iostat_cb cb, void *ctx)
{
	return cb == NULL ? -EINVAL : gather_start(name, cb, NULL, ctx);
}

int
bdev_stat_get_channels(const char *name, bdev_stat_channels_cb cb, void *ctx)
{
	return cb == NULL ? -EINVAL : gather_start(name, NULL, cb, ctx);
}

/* ---- histogram settings ---- */

struct hist_enable {
	struct nvt_bdev_desc *desc;
	struct bdev_stat_dev *dev;
	nvt_bdev_stat_done_cb cb;
	void *ctx;
};

void
nvt_bdev_histogram_opts_init(struct nvt_bdev_histogram_opts *opts, size_t opts_size)
{
	struct nvt_bdev_histogram_opts defaults = {
		.opts_size = opts_size,
		.io_type = -1,
		.granularity = NVT_HISTOGRAM_GRANULARITY_DEFAULT,
		.min_nsec = 0,
		.max_nsec = UINT64_MAX,
	};

	memcpy(opts, &defaults, NVT_MIN(opts_size, sizeof(defaults)));
}

static uint64_t
nsec_to_ticks(uint64_t nsec)
{
	unsigned __int128 t = (unsigned __int128)nsec * nvt_get_ticks_hz() / 1000000000u;

	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* The settings of \p in (NULL: defaults); false when out of bounds. */
static bool
hist_cfg_from_opts(const struct nvt_bdev_histogram_opts *in, bool enable, struct hist_cfg *cfg)
{
	struct nvt_bdev_histogram_opts opts;

	nvt_bdev_histogram_opts_init(&opts, sizeof(opts));
	if (in != NULL) {
		memcpy(&opts, in, NVT_MIN(in->opts_size, sizeof(opts)));
	}
	cfg->on = enable;
	cfg->io_type = opts.io_type;
	cfg->granularity = opts.granularity;
	cfg->min_ticks = nsec_to_ticks(opts.min_nsec);
	cfg->max_ticks = opts.max_nsec == UINT64_MAX ? UINT64_MAX : nsec_to_ticks(opts.max_nsec);
	return opts.io_type >= -1 && opts.io_type < NVT_BDEV_NUM_IO_TYPES &&
	       opts.granularity >= 1 && opts.granularity <= NVT_HISTOGRAM_GRANULARITY_MAX &&
	       cfg->min_ticks < cfg->max_ticks;
}

static bool
hist_fits(const struct nvt_histogram *h, const struct hist_cfg *cfg)
{
	struct nvt_histogram shape = {
		.granularity = cfg->granularity,
		.min_range = nvt_histogram_range_of(cfg->granularity, cfg->min_ticks),
		.max_range = nvt_histogram_range_of(cfg->granularity, cfg->max_ticks - 1),
	};

	return nvt_histogram_same_shape(h, &shape);
}

/* On each channel's thread: follow the current settings. */
static void
hist_enable_step(struct nvt_io_channel_iter *iter)
{
	struct hist_enable *he = nvt_io_channel_iter_get_ctx(iter);
	struct nvt_bdev_channel *ch = nvt_io_channel_get_ctx(nvt_io_channel_iter_get_channel(iter));
	struct hist_cfg cfg;

	pthread_mutex_lock(&he->dev->lock);
	cfg = he->dev->hist;
	pthread_mutex_unlock(&he->dev->lock);
	if (ch->stat.hist != NULL &&
	    (!cfg.on || !hist_fits(ch->stat.hist, &cfg) || ch->stat.hist_type != cfg.io_type)) {
		nvt_histogram_destroy(&ch->stat.hist);
	}
	ch->stat.hist_type = cfg.io_type;
	if (cfg.on && ch->stat.hist == NULL) {
		ch->stat.hist = hist_cfg_create(&cfg);
		if (ch->stat.hist == NULL) {
			nvt_for_each_channel_continue(iter, -ENOMEM);
			return;
		}
	}
	nvt_for_each_channel_continue(iter, 0);
}

static void
hist_enable_done(struct nvt_io_channel_iter *iter, int status)
{
	struct hist_enable *he = nvt_io_channel_iter_get_ctx(iter);

	if (he->cb != NULL) {
		he->cb(he->ctx, status);
	}
	nvt_bdev_close(he->desc);
	free(he);
}

/* Store the new settings; a histogram of other settings starts over. Lock held. */
static void
dev_set_hist_locked(struct bdev_stat_dev *dev, const struct hist_cfg *cfg, bool *nomem)
{
	bool same = dev->hist.on && cfg->on && dev->hist.io_type == cfg->io_type &&
		    dev->retired_hist != NULL && hist_fits(dev->retired_hist, cfg);

	dev->hist = *cfg;
	if (same) {
		return;
	}
	nvt_histogram_destroy(&dev->retired_hist);
	dev->retired_hist = hist_cfg_create(cfg);
	*nomem = cfg->on && dev->retired_hist == NULL;
	if (*nomem) {
		dev->hist.on = false;
	}
}

int
nvt_bdev_enable_histogram(const char *name, bool enable, const struct nvt_bdev_histogram_opts *opts,
			  nvt_bdev_stat_done_cb cb, void *ctx)
{
	struct hist_enable *he;
	struct hist_cfg cfg;
	bool nomem = false;
	int rc;

	if (name == NULL || nvt_get_thread() == NULL || !hist_cfg_from_opts(opts, enable, &cfg)) {
		return -EINVAL;
	}
	he = calloc(1, sizeof(*he));
	if (he == NULL) {
		return -ENOMEM;
	}
	rc = nvt_bdev_open(name, false, NULL, NULL, &he->desc);
	if (rc != 0) {
		free(he);
		return rc;
	}
	he->dev = nvt_bdev_desc_get_bdev(he->desc)->internal.stat;
	he->cb = cb;
	he->ctx = ctx;
	pthread_mutex_lock(&he->dev->lock);
	dev_set_hist_locked(he->dev, &cfg, &nomem);
	pthread_mutex_unlock(&he->dev->lock);
	if (nomem) {
		nvt_bdev_close(he->desc);
		free(he);
		return -ENOMEM;
	}
	nvt_for_each_channel(bdev_to_io_dev(nvt_bdev_desc_get_bdev(he->desc)), hist_enable_step, he,
			     hist_enable_done);
	return 0;
}

bool
nvt_bdev_histogram_is_enabled(struct nvt_bdev *bdev)
{
	struct bdev_stat_dev *dev = bdev->internal.stat;
	bool on;

	pthread_mutex_lock(&dev->lock);
	on = dev->hist.on;
	pthread_mutex_unlock(&dev->lock);
	return on;
}
