/* SPDX-License-Identifier: BSD-3-Clause */
/** \file
 * Monotonic tick source for pollers, timeouts and busy/idle accounting.
 *
 * Ticks never go backwards and do not jump with wall-clock changes. The
 * rate is nvt_get_ticks_hz(); use the helpers below instead of assuming it.
 *
 * Ticks are CLOCK_MONOTONIC nanoseconds (nvt_get_ticks_hz() is 1e9), so a
 * tick value can arm a CLOCK_MONOTONIC timerfd directly.
 */
#ifndef NVTCP_TICKS_H
#define NVTCP_TICKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Current tick count. Cheap (no system call on Linux); any thread. */
uint64_t nvt_get_ticks(void);

/** Ticks per second. */
uint64_t nvt_get_ticks_hz(void);

/** Convert microseconds to ticks (rounding down, saturating). */
uint64_t nvt_us_to_ticks(uint64_t us);

/** Convert ticks to microseconds (rounding down). */
uint64_t nvt_ticks_to_us(uint64_t ticks);

/** Convert ticks to nanoseconds (rounding down). */
uint64_t nvt_ticks_to_ns(uint64_t ticks);

#ifdef __cplusplus
}
#endif

#endif /* NVTCP_TICKS_H */
