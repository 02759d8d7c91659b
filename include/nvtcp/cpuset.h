/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Sets of CPU cores: parsing, formatting and iteration.
 *
 * The caller owns the storage (struct nvt_cpuset is plain data). Every
 * function may be called from any thread on a set that thread owns.
 */
#ifndef NVTCP_CPUSET_H
#define NVTCP_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Highest number of cores a set can hold (cores 0 .. NVT_CPUSET_SIZE - 1). */
#define NVT_CPUSET_SIZE 1024

/** Buffer size that always holds nvt_cpuset_fmt() output, "0x" and NUL included. */
#define NVT_CPUSET_STR_LEN (NVT_CPUSET_SIZE / 4 + 3)

struct nvt_cpuset {
	uint64_t bits[NVT_CPUSET_SIZE / 64];
};

/** Empty the set. */
void nvt_cpuset_zero(struct nvt_cpuset *set);

/** Add (\p state true) or remove core \p cpu; out-of-range cores are ignored. */
void nvt_cpuset_set_cpu(struct nvt_cpuset *set, uint32_t cpu, bool state);

/** Whether core \p cpu is in the set (false when out of range). */
bool nvt_cpuset_get_cpu(const struct nvt_cpuset *set, uint32_t cpu);

/** Number of cores in the set. */
uint32_t nvt_cpuset_count(const struct nvt_cpuset *set);

/** Whether the two sets hold the same cores. */
bool nvt_cpuset_equal(const struct nvt_cpuset *a, const struct nvt_cpuset *b);

/** dst = dst & src. */
void nvt_cpuset_and(struct nvt_cpuset *dst, const struct nvt_cpuset *src);

/** dst = dst | src. */
void nvt_cpuset_or(struct nvt_cpuset *dst, const struct nvt_cpuset *src);

/**
 * First core of the set greater than \p prev; pass -1 to get the lowest.
 *
 * \return the core, or -1 when there is none.
 */
int32_t nvt_cpuset_next(const struct nvt_cpuset *set, int32_t prev);

/** Iterate over the cores of a set in ascending order. */
#define NVT_CPUSET_FOREACH(cpu, set) \
	for ((cpu) = nvt_cpuset_next((set), -1); (cpu) >= 0; (cpu) = nvt_cpuset_next((set), (cpu)))

/**
 * Parse a core mask or list into \p set (emptied first).
 *
 * Accepted forms: hexadecimal mask "0x3" or "3" (hex digits only), core list
 * "0-1" or "0,2-3", and a list in brackets "[0,2-3]". White space is not
 * allowed.
 *
 * \return 0, or -EINVAL on a malformed string (\p set is then empty) or a core
 * at or above NVT_CPUSET_SIZE.
 */
int nvt_cpuset_parse(struct nvt_cpuset *set, const char *str);

/**
 * Format \p set as a hexadecimal mask without leading zeroes ("0x5", "0x0").
 *
 * \param buf At least NVT_CPUSET_STR_LEN bytes.
 * \return \p buf.
 */
char *nvt_cpuset_fmt(const struct nvt_cpuset *set, char *buf, size_t len);

/**
 * Format \p set as a core list with ranges ("0,2-3"; "" when empty).
 * Parse it back inside brackets: a bare single core such as "5" reads as a mask.
 *
 * \return 0, or -ENOSPC when \p buf is too small (it then holds a truncated,
 * NUL-terminated prefix).
 */
int nvt_cpuset_fmt_list(const struct nvt_cpuset *set, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_CPUSET_H */
