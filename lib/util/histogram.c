/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear histograms in SPDK's bucket layout (see nvtcp/histogram.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvtcp/histogram.h"

struct nvt_histogram *
nvt_histogram_create(uint32_t granularity, uint64_t min_val, uint64_t max_val)
{
	struct nvt_histogram *h;

	if (granularity == 0 || granularity > NVT_HISTOGRAM_GRANULARITY_MAX || min_val >= max_val) {
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return NULL;
	}
	h->granularity = granularity;
	h->min_range = nvt_histogram_range_of(granularity, min_val);
	h->max_range = nvt_histogram_range_of(granularity, max_val - 1);
	h->bucket = calloc(nvt_histogram_num_buckets(h), sizeof(uint64_t));
	if (h->bucket == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

void
nvt_histogram_destroy(struct nvt_histogram **h)
{
	if (*h == NULL) {
		return;
	}
	free((*h)->bucket);
	free(*h);
	*h = NULL;
}

void
nvt_histogram_reset(struct nvt_histogram *h)
{
	memset(h->bucket, 0, nvt_histogram_num_buckets(h) * sizeof(uint64_t));
}

bool
nvt_histogram_same_shape(const struct nvt_histogram *a, const struct nvt_histogram *b)
{
	return a->granularity == b->granularity && a->min_range == b->min_range &&
	       a->max_range == b->max_range;
}

int
nvt_histogram_merge(struct nvt_histogram *dst, const struct nvt_histogram *src)
{
	size_t i, n;

	if (!nvt_histogram_same_shape(dst, src)) {
		return -EINVAL;
	}
	n = nvt_histogram_num_buckets(dst);
	for (i = 0; i < n; i++) {
		dst->bucket[i] += src->bucket[i];
	}
	return 0;
}

uint64_t
nvt_histogram_total(const struct nvt_histogram *h)
{
	size_t i, n = nvt_histogram_num_buckets(h);
	uint64_t total = 0;

	for (i = 0; i < n; i++) {
		total += h->bucket[i];
	}
	return total;
}

uint64_t
nvt_histogram_bucket_end(const struct nvt_histogram *h, size_t i)
{
	uint32_t g = h->granularity;
	uint32_t range = h->min_range + (uint32_t)(i >> g);
	uint64_t j = (i & ((1ull << g) - 1)) + 1;
	uint64_t base, step;

	if (i + 1 >= nvt_histogram_num_buckets(h)) {
		/* Values beyond max_range land here too. */
		return UINT64_MAX;
	}
	if (range == 0) {
		return j;
	}
	base = 1ull << (range + g - 1);
	step = j << (range - 1);
	/* Only the top range of a full histogram reaches 2^64. */
	return step > UINT64_MAX - base ? UINT64_MAX : base + step;
}
