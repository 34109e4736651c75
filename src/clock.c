/* SPDX-License-Identifier: ISC */
/*
 * clock.c: the one clock of sohbetd, CLOCK_MONOTONIC, for deadlines,
 * cache ages and latencies.  The same clock in every process, so a time
 * one worker writes into the hub another can compare.
 */
#include <time.h>

#include "sohbet.h"

/* Nanoseconds of the monotonic clock. */
uint64_t
clock_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Milliseconds of the monotonic clock. */
long long
clock_ms(void)
{
	return (long long)(clock_ns() / 1000000);
}
