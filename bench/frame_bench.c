/* frame_bench: host benchmark of the frame allocator (kernel/mm/frame.c) against the fake arch.
 * Prints ns per operation for single-frame and order-3 alloc and free, best of several runs.
 *
 * Build and run (no sanitizers, -O2):
 *   gcc -std=gnu11 -O2 -DMCRK_HOST -Iinclude -o build/frame_bench bench/frame_bench.c \
 *       kernel/mm/frame.c kernel/lib/printk.c kernel/lib/vsnprintf.c tests/host/fake_arch.c
 *   build/frame_bench
 *
 * "hot" rows: rounds of BURST allocations then BURST frees on one CPU, so order-0 frames stay
 * in the per-CPU cache (the fast path). "refill" rows: BIG allocations then BIG frees, so the
 * per-CPU cache refills from and drains to the buddy lists in batches (zone lock included).
 * Each phase is timed as a whole with CLOCK_MONOTONIC; the clock's own cost is subtracted. */
#include "frame.h"
#include "../tests/host/fake_arch.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NPFN (1u << 16) /* 256 MiB of described frames (no backing memory needed) */
#define BURST 32	/* allocations per hot round: below the cache's high mark */
#define ROUNDS 200000	/* hot rounds per run */
#define BIG 40000	/* allocations per refill round */
#define BIG_ROUNDS 20
#define RUNS 11 /* best of */

static struct page *blocks[BIG];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_cost;

static void measure_clock(void)
{
	uint64_t t0 = now_ns();
	for (int i = 0; i < 1000000; i++)
		now_ns();
	clock_cost = (now_ns() - t0) / 1000000;
}

/* One run: `rounds` rounds of n allocations of `order` then n frees; ns per alloc and free. */
static void run(unsigned order, unsigned n, unsigned rounds, double *alloc_ns, double *free_ns)
{
	uint64_t ta = 0, tf = 0;

	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();
		for (unsigned i = 0; i < n; i++)
			blocks[i] = frame_alloc(order, PG_KERNEL);
		uint64_t t1 = now_ns();
		for (unsigned i = 0; i < n; i++)
			frame_free(blocks[i], order);
		uint64_t t2 = now_ns();
		ta += t1 - t0 - clock_cost;
		tf += t2 - t1 - clock_cost;
		if (!blocks[0] || !blocks[n - 1]) {
			fprintf(stderr, "frame_bench: allocation failed\n");
			exit(1);
		}
	}
	*alloc_ns = (double)ta / ((double)rounds * n);
	*free_ns = (double)tf / ((double)rounds * n);
}

static void bench(const char *what, unsigned order, unsigned n, unsigned rounds)
{
	double best_a = 1e30, best_f = 1e30;

	for (int i = 0; i < RUNS; i++) {
		double a, f;
		run(order, n, rounds, &a, &f);
		best_a = a < best_a ? a : best_a;
		best_f = f < best_f ? f : best_f;
	}
	printf("%-28s alloc %7.2f ns/op   free %7.2f ns/op\n", what, best_a, best_f);
}

int main(void)
{
	static struct page map[NPFN];

	frame_init(map, NPFN);
	frame_add_free_range(0, NPFN);
	measure_clock();
	printf("frame_bench: %u frames, best of %d runs, clock cost %llu ns subtracted per phase\n",
	       NPFN, RUNS, (unsigned long long)clock_cost);
	bench("order 0, hot (per-CPU)", 0, BURST, ROUNDS);
	bench("order 0, refill/drain", 0, BIG, BIG_ROUNDS);
	bench("order 3, hot", 3, BURST, ROUNDS / 4);
	bench("order 3, many", 3, BIG / 8, BIG_ROUNDS);
	return 0;
}
