/* thpbench: what a memory error in a transparent huge page costs (figures, not pass/fail; the
 * same source runs on Linux as root with transparent_hugepage/enabled at madvise or always):
 *   - madvise(MADV_HWPOISON) of one 4 KiB page inside a 2 MiB huge page: the split of the huge
 *     entry plus the isolation of the one frame, seen from user space, and memory_failure's
 *     own time from its log;
 *   - the same for a page of an ordinary 4 KiB mapping, so the difference is the split;
 *   - the first touch of a huge page (allocate 2 MiB, zero it, map it) against touching 512
 *     pages of a 4 KiB mapping.
 * Each figure is the median of RUNS runs, the TSC calibrated against CLOCK_MONOTONIC. Run it
 * with: sh bench/run_guest.sh thpbench (docs/memory_failure.md has the figures). */
#define _GNU_SOURCE
#include "bench.h"
#include <stdio.h>
#include <sys/mman.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#define PG 4096ul
#define HPAGE (2ul << 20)
#define RUNS 15

/* A 2 MiB-aligned private anonymous region of 2 MiB, advised huge or not huge. */
static char *region(int advice)
{
	char *m = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	char *r = (char *)(((uintptr_t)m + HPAGE - 1) & ~(HPAGE - 1));
	if (r > m)
		munmap(m, r - m);
	munmap(r + HPAGE, m + 2 * HPAGE - (r + HPAGE));
	madvise(r, HPAGE, advice);
	return r;
}

/* Cycles of the first touch of the region: one write (huge) or one per 4 KiB page. */
static uint64_t touch(char *r, int huge)
{
	uint64_t t0 = rdtsc();
	for (unsigned long off = 0; off < HPAGE; off += huge ? HPAGE : PG)
		r[off] = 1;
	return rdtsc() - t0;
}

/* Cycles of madvise(MADV_HWPOISON) of page 100 of a filled region. */
static uint64_t poison(char *r)
{
	uint64_t t0 = rdtsc();
	if (madvise(r + 100 * PG, PG, MADV_HWPOISON)) {
		perror("madvise(MADV_HWPOISON)");
		exit(1);
	}
	return rdtsc() - t0;
}

int main(void)
{
	uint64_t fault[2][RUNS], mf[2][RUNS];
	double own[2];

	calibrate();
	for (int huge = 0; huge < 2; huge++) {
		for (int i = 0; i < RUNS; i++) {
			char *r = region(huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
			fault[huge][i] = touch(r, huge); /* all 512 pages are in either way */
			mf[huge][i] = poison(r);
			munmap(r, HPAGE);
		}
		own[huge] = kernel_own_us(RUNS);
	}
	printf("thpbench: memory_failure of a 4 KiB page of a 2 MiB huge page (split + isolate): "
	       "%8.2f us\n", us(median(mf[1], RUNS)));
	printf("thpbench: memory_failure of a page of a 4 KiB mapping:                        "
	       "%8.2f us\n", us(median(mf[0], RUNS)));
	printf("thpbench: the same, memory_failure's own time (its log): huge %.2f us, 4 KiB %.2f us\n",
	       own[1], own[0]);
	printf("thpbench: first touch of 2 MiB: one huge page %8.2f us, 512 pages of 4 KiB %8.2f us\n",
	       us(median(fault[1], RUNS)), us(median(fault[0], RUNS)));
	return 0;
}
