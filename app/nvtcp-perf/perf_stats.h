/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histogram and verify pattern of nvtcp-perf.
 *
 * The histogram is log-linear: exact below 32 ns, then 32 buckets per power
 * of two (relative error under 3.2%), up to 2^40 ns. Fixed size, no
 * allocation per sample; histograms of several queues are merged by adding.
 */
#ifndef PERF_STATS_H
#define PERF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERF_HIST_SUB_BITS 5
#define PERF_HIST_SUB	   (1u << PERF_HIST_SUB_BITS)
#define PERF_HIST_MAX_BITS 40
#define PERF_HIST_BUCKETS  ((PERF_HIST_MAX_BITS - PERF_HIST_SUB_BITS + 1) * PERF_HIST_SUB)

struct perf_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t buckets[PERF_HIST_BUCKETS];
};

void perf_hist_init(struct perf_hist *h);
void perf_hist_add(struct perf_hist *h, uint64_t ns);
void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src);
/* Value at percentile \p pct (0-100]: upper bound of the bucket, at most max_ns. */
uint64_t perf_hist_percentile(const struct perf_hist *h, double pct);
uint32_t perf_hist_index(uint64_t ns);
/* Lowest and highest value falling into bucket \p idx. */
void perf_hist_bucket_range(uint32_t idx, uint64_t *lo, uint64_t *hi);

/* Verify pattern: every block starts with this header, the rest is derived from it. */
struct perf_pattern_hdr {
	uint64_t lba;
	uint64_t gen;
	uint32_t nsid;
	uint32_t magic;
};

#define PERF_PATTERN_MAGIC 0x6e767470u

/* Fill \p nblocks blocks of \p block_size bytes starting at \p lba, generation \p gen. */
void perf_pattern_fill(void *buf, uint32_t block_size, uint32_t nblocks, uint32_t nsid,
		       uint64_t lba, uint64_t gen);
/*
 * Check blocks written by perf_pattern_fill(). \return the number of bad
 * blocks (0 = all good); the first bad one's index goes to \p first_bad.
 */
uint32_t perf_pattern_check(const void *buf, uint32_t block_size, uint32_t nblocks, uint32_t nsid,
			    uint64_t lba, uint64_t gen, uint32_t *first_bad);

#endif /* PERF_STATS_H */
