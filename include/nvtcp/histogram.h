/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Log-linear histograms of 64-bit values (latencies in ticks), laid out as
 * SPDK's histogram data so that SPDK's tools read them unchanged.
 *
 * Values are split into power-of-two ranges, each range into
 * 2^granularity buckets of equal width: range 0 holds 0 .. 2^g - 1 one value
 * per bucket, range r > 0 holds 2^(r+g-1) .. 2^(r+g) - 1 in buckets
 * 2^(r-1) wide. Only ranges min_range .. max_range are stored; smaller
 * values count in the first bucket, larger ones in the last. The buckets are
 * one array of 64-bit counters, range after range (bucket (r - min_range)
 * << g | j), which is what SPDK's bdev_get_histogram sends in base64.
 *
 * A histogram has no lock: one thread owns it (tally, reset); others read
 * or merge it only once the owner handed it over (by a message).
 */
#ifndef NVTCP_HISTOGRAM_H
#define NVTCP_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** SPDK's default: 128 buckets per power of two. */
#define NVT_HISTOGRAM_GRANULARITY_DEFAULT 7
/** Largest granularity accepted (4096 buckets per power of two). */
#define NVT_HISTOGRAM_GRANULARITY_MAX 12

struct nvt_histogram {
	uint32_t granularity; /**< log2 of the buckets per range */
	uint32_t min_range;   /**< first range stored */
	uint32_t max_range;   /**< last range stored */
	uint64_t *bucket;     /**< nvt_histogram_num_buckets() counters */
};

/**
 * Allocate a zeroed histogram of granularity \p granularity (1 ..
 * NVT_HISTOGRAM_GRANULARITY_MAX) that stores the ranges of the values
 * \p min_val (inclusive) .. \p max_val (exclusive); 0, UINT64_MAX stores all.
 * \return the histogram (free with nvt_histogram_destroy()), or NULL (bad
 * arguments, out of memory).
 */
struct nvt_histogram *nvt_histogram_create(uint32_t granularity, uint64_t min_val,
					   uint64_t max_val);

/** Free a histogram and NULL the caller's pointer; NULL is a no-op. */
void nvt_histogram_destroy(struct nvt_histogram **h);

/** Number of buckets (64-bit counters) of \p h. */
static inline size_t
nvt_histogram_num_buckets(const struct nvt_histogram *h)
{
	return (size_t)(h->max_range - h->min_range + 1) << h->granularity;
}

/** The range a value falls in, before clamping to min_range .. max_range. */
static inline uint32_t
nvt_histogram_range_of(uint32_t granularity, uint64_t v)
{
	uint32_t lsb = 64 - granularity;
	uint32_t clz = v != 0 ? (uint32_t)__builtin_clzll(v) : 64;

	return clz <= lsb ? lsb - clz : 0;
}

/** Count one value. Owner thread; no allocation, no atomics. */
static inline void
nvt_histogram_tally(struct nvt_histogram *h, uint64_t v)
{
	uint32_t range = nvt_histogram_range_of(h->granularity, v);
	uint64_t mask = (1ull << h->granularity) - 1;
	uint64_t index;

	if (range < h->min_range) {
		range = h->min_range;
		index = 0;
	} else if (range > h->max_range) {
		range = h->max_range;
		index = mask;
	} else {
		index = (v >> (range == 0 ? 0 : range - 1)) & mask;
	}
	h->bucket[((uint64_t)(range - h->min_range) << h->granularity) + index]++;
}

/** Zero every bucket. */
void nvt_histogram_reset(struct nvt_histogram *h);

/** Whether \p a and \p b have the same buckets (granularity and ranges). */
bool nvt_histogram_same_shape(const struct nvt_histogram *a, const struct nvt_histogram *b);

/** Add \p src's counts to \p dst's. \return 0, or -EINVAL (other shape: nothing added). */
int nvt_histogram_merge(struct nvt_histogram *dst, const struct nvt_histogram *src);

/** Sum of all buckets. */
uint64_t nvt_histogram_total(const struct nvt_histogram *h);

/**
 * Exclusive upper bound of the values of bucket \p i (0 ..
 * nvt_histogram_num_buckets() - 1): bucket i counts values v with
 * nvt_histogram_bucket_end(i - 1) <= v < nvt_histogram_bucket_end(i)
 * (from 0 for i = 0; the last bucket also counts everything larger and
 * ends at UINT64_MAX, the first everything smaller). In the histogram's
 * value unit (ticks: divide by nvt_get_ticks_hz() for seconds).
 */
uint64_t nvt_histogram_bucket_end(const struct nvt_histogram *h, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_HISTOGRAM_H */
