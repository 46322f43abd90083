/* What the guest benchmarks share (bench/mfbench.c, bench/forkbench.c): the time stamp counter
 * as a clock, its rate calibrated against CLOCK_MONOTONIC, and medians. Header-only, since
 * each benchmark is one static program; the same code runs on Linux. */
#pragma once
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define CALIBRATE_NS 50000000ull /* 50 ms of CLOCK_MONOTONIC */

static double tsc_per_us;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Measure the TSC rate into tsc_per_us. */
static inline void calibrate(void)
{
	uint64_t n0 = now_ns(), t0 = rdtsc(), n1;
	while ((n1 = now_ns()) - n0 < CALIBRATE_NS)
		;
	tsc_per_us = (double)(rdtsc() - t0) * 1000.0 / (double)(n1 - n0);
}

static inline double us(uint64_t cycles) { return (double)cycles / tsc_per_us; }

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static inline uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}
