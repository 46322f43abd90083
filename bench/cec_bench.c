/* cec_bench: host benchmark of the corrected-error collector's array (kernel/mce/cec.c): the
 * cost of counting one corrected error, in ns, best of several runs (figures, not pass/fail).
 *   hit         an error at a frame already in a full array (binary search, one increment)
 *   insert      an error at a new frame while the array fills up (search, move to make room)
 *   evict       an error at a new frame in a full array (scan for the least recent, two moves)
 *   clean       one spring cleaning of a full array (every 128 errors, and every decay)
 * Each phase is timed as a whole with CLOCK_MONOTONIC. The kernel adds its lock and the log
 * drain around each count; bench/cecbench.c measures those from user space.
 * Build and run: make build/cec_bench && build/cec_bench (part of `make bench`). */
#include "mce_cec.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 11
#define HITS 2000000
#define FILLS 2000 /* arrays filled from empty per insert run */
#define EVICTS 200000
#define CLEANS 20000

static struct mce_cec c;
static uint64_t seed = 88172645463325252ull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A full array of random frames, each counted once; returns one of them. */
static pfn_t fill(void)
{
	unsigned n;
	mce_cec_array_init(&c, MCE_CEC_COUNT_MAX);
	while (c.n < MCE_CEC_ELEMS)
		mce_cec_count_error(&c, rnd() % (1u << 30), &n);
	return mce_cec_pfn(c.e[MCE_CEC_ELEMS / 3]);
}

static double run_hit(void)
{
	pfn_t pfn = fill();
	unsigned n;
	uint64_t t0 = now_ns();
	for (int i = 0; i < HITS; i++) {
		mce_cec_count_error(&c, pfn, &n);
		if (n > MCE_CEC_COUNT_MAX - 2) /* stay below the threshold */
			c.e[mce_cec_find(&c, pfn)] &= ~(uint64_t)MCE_CEC_COUNT_MAX;
	}
	return (double)(now_ns() - t0) / HITS;
}

static double run_insert(void)
{
	uint64_t total = 0;
	unsigned n;
	for (int r = 0; r < FILLS; r++) {
		mce_cec_array_init(&c, MCE_CEC_COUNT_MAX);
		uint64_t t0 = now_ns();
		for (unsigned i = 0; i < MCE_CEC_ELEMS; i++)
			mce_cec_count_error(&c, rnd() % (1u << 30), &n);
		total += now_ns() - t0;
	}
	return (double)total / ((double)FILLS * MCE_CEC_ELEMS);
}

static double run_evict(void)
{
	unsigned n;
	fill();
	uint64_t t0 = now_ns();
	for (int i = 0; i < EVICTS; i++)
		mce_cec_count_error(&c, (1u << 30) + (pfn_t)i, &n);
	return (double)(now_ns() - t0) / EVICTS;
}

static double run_clean(void)
{
	fill();
	uint64_t t0 = now_ns();
	for (int i = 0; i < CLEANS; i++)
		mce_cec_decay(&c);
	return (double)(now_ns() - t0) / CLEANS;
}

static double best(double (*fn)(void))
{
	double b = 1e18;
	for (int r = 0; r < RUNS; r++) {
		double v = fn();
		b = v < b ? v : b;
	}
	return b;
}

int main(void)
{
	printf("cec_bench: ns per corrected error counted in the array (%u entries), best of %d\n",
	       (unsigned)MCE_CEC_ELEMS, RUNS);
	printf("  hit (frame already in a full array)  %6.1f ns\n", best(run_hit));
	printf("  insert (array filling up)            %6.1f ns\n", best(run_insert));
	printf("  evict (new frame, full array)        %6.1f ns\n", best(run_evict));
	printf("  spring cleaning of a full array      %6.1f ns\n", best(run_clean));
	return 0;
}
