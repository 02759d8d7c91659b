/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include "nvtcp/ticks.h"

#define NS_PER_SEC 1000000000ull
#define NS_PER_US  1000ull

/*
 * Nanoseconds of CLOCK_MONOTONIC rather than the TSC: the vDSO makes it nearly as cheap, and the
 * thread library arms CLOCK_MONOTONIC timerfds straight from tick values.
 */
uint64_t
nvt_get_ticks(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t
nvt_get_ticks_hz(void)
{
	return NS_PER_SEC;
}

uint64_t
nvt_us_to_ticks(uint64_t us)
{
	if (us > UINT64_MAX / NS_PER_US) {
		return UINT64_MAX;
	}
	return us * NS_PER_US;
}

uint64_t
nvt_ticks_to_us(uint64_t ticks)
{
	return ticks / NS_PER_US;
}

uint64_t
nvt_ticks_to_ns(uint64_t ticks)
{
	return ticks;
}
