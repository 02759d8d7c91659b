/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Branch prediction hints and small compiler helpers.
 */
#ifndef NVTCP_LIKELY_H
#define NVTCP_LIKELY_H

#define nvt_likely(cond)   __builtin_expect(!!(cond), 1)
#define nvt_unlikely(cond) __builtin_expect(!!(cond), 0)

/** Number of elements of a true array (not a pointer). */
#define NVT_COUNTOF(arr) (sizeof(arr) / sizeof((arr)[0]))

/** Pointer to the structure that embeds \p ptr as member \p member. */
#define NVT_CONTAINEROF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define NVT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NVT_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* NVTCP_LIKELY_H */
