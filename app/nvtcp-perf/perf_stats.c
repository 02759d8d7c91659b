/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <string.h>

#include "perf_stats.h"

void
perf_hist_init(struct perf_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

uint32_t
perf_hist_index(uint64_t ns)
{
	uint32_t msb, shift;

	if (ns < PERF_HIST_SUB) {
		return (uint32_t)ns;
	}
	msb = 63u - (uint32_t)__builtin_clzll(ns);
	if (msb >= PERF_HIST_MAX_BITS) {
		return PERF_HIST_BUCKETS - 1;
	}
	shift = msb - PERF_HIST_SUB_BITS;
	return (shift + 1) * PERF_HIST_SUB + (uint32_t)((ns >> shift) & (PERF_HIST_SUB - 1));
}

void
perf_hist_bucket_range(uint32_t idx, uint64_t *lo, uint64_t *hi)
{
	uint32_t shift;

	if (idx < PERF_HIST_SUB) {
		*lo = *hi = idx;
		return;
	}
	shift = idx / PERF_HIST_SUB - 1;
	*lo = (uint64_t)(PERF_HIST_SUB + idx % PERF_HIST_SUB) << shift;
	*hi = *lo + (1ull << shift) - 1;
}

void
perf_hist_add(struct perf_hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns) {
		h->min_ns = ns;
	}
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
	h->buckets[perf_hist_index(ns)]++;
}

void
perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
	uint32_t i;

	if (src->count == 0) {
		return;
	}
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->min_ns < dst->min_ns) {
		dst->min_ns = src->min_ns;
	}
	if (src->max_ns > dst->max_ns) {
		dst->max_ns = src->max_ns;
	}
	for (i = 0; i < PERF_HIST_BUCKETS; i++) {
		dst->buckets[i] += src->buckets[i];
	}
}

uint64_t
perf_hist_percentile(const struct perf_hist *h, double pct)
{
	uint64_t target, seen = 0, lo, hi;
	uint32_t i;

	if (h->count == 0) {
		return 0;
	}
	target = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	if (target == 0) {
		target = 1;
	}
	for (i = 0; i < PERF_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= target) {
			perf_hist_bucket_range(i, &lo, &hi);
			if (hi > h->max_ns) {
				hi = h->max_ns;
			}
			return hi < h->min_ns ? h->min_ns : hi;
		}
	}
	return h->max_ns;
}

static uint64_t
pattern_seed(uint32_t nsid, uint64_t lba, uint64_t gen)
{
	uint64_t x = lba * 0x9e3779b97f4a7c15ull ^ gen * 0xc2b2ae3d27d4eb4full ^ nsid;

	return x ? x : 1;
}

static void
pattern_block(uint8_t *blk, uint32_t block_size, uint32_t nsid, uint64_t lba, uint64_t gen)
{
	struct perf_pattern_hdr hdr = {
		.lba = lba, .gen = gen, .nsid = nsid, .magic = PERF_PATTERN_MAGIC
	};
	uint64_t x = pattern_seed(nsid, lba, gen);
	uint32_t off;

	memcpy(blk, &hdr, sizeof(hdr));
	for (off = sizeof(hdr); off + 8 <= block_size; off += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(blk + off, &x, 8);
	}
}

void
perf_pattern_fill(void *buf, uint32_t block_size, uint32_t nblocks, uint32_t nsid, uint64_t lba,
		  uint64_t gen)
{
	uint32_t i;

	for (i = 0; i < nblocks; i++) {
		pattern_block((uint8_t *)buf + (size_t)i * block_size, block_size, nsid, lba + i,
			      gen);
	}
}

uint32_t
perf_pattern_check(const void *buf, uint32_t block_size, uint32_t nblocks, uint32_t nsid,
		   uint64_t lba, uint64_t gen, uint32_t *first_bad)
{
	uint8_t expect[8192];
	uint32_t i, bad = 0;

	for (i = 0; i < nblocks; i++) {
		const uint8_t *blk = (const uint8_t *)buf + (size_t)i * block_size;
		uint32_t chunk = block_size < sizeof(expect) ? block_size : sizeof(expect);

		/* Blocks above 8 KiB are checked on their first 8 KiB. */
		pattern_block(expect, chunk, nsid, lba + i, gen);
		if (memcmp(blk, expect, chunk) != 0) {
			if (bad == 0 && first_bad != NULL) {
				*first_bad = i;
			}
			bad++;
		}
	}
	return bad;
}
