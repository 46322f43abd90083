/* rmap_bench: host benchmark of the reverse map (kernel/mm/rmap.c). A frame is mapped by N
 * address spaces made by fork (N = 1, 8, 64, 256) while M unrelated address spaces exist
 * (M = 0, 128, 512; each with UNREL_PAGES faulted pages of its own). It times rmap_walk over
 * that frame's mappers and prints ns per mapping, then, for each N, the least-squares slope of
 * that figure against M (ns per mapping per 100 unrelated mms; the design target is ~0).
 *
 * Build and run (no sanitizers, -O2):
 *   gcc -std=gnu11 -O2 -DMCRK_HOST -Iinclude -o build/rmap_bench bench/rmap_bench.c \
 *       kernel/mm/rmap.c kernel/mm/vm.c kernel/mm/vm_map.c kernel/mm/vm_fault.c \
 *       kernel/mm/vm_fork.c kernel/mm/vma_tree.c kernel/mm/frame.c kernel/mm/kmalloc.c \
 *       kernel/lib/printk.c kernel/lib/vsnprintf.c tests/host/fake_arch.c tests/host/fake_mmu.c
 *   build/rmap_bench
 *
 * Each figure is the best of RUNS timed loops; a loop walks the frame's rmap enough times to
 * visit ~WALK_VISITS mappings, and the walker reads each (mm, va) pair, as memory_failure's
 * collector would. The clock's own cost is negligible at that length. */
#include "frame.h"
#include "kmalloc.h"
#include "rmap.h"
#include "vm.h"
#include "../tests/host/fake_arch.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NPFN (1u << 16)	       /* 256 MiB of fake physical memory */
#define UNREL_PAGES 16	       /* faulted pages in each unrelated mm */
#define WALK_VISITS 4000000ull /* mappings visited per timed loop */
#define RUNS 7		       /* best of */
#define BASE 0x40000000ull

static const unsigned ns_list[] = {1, 8, 64, 256};
static const unsigned ms_list[] = {0, 128, 512};
#define NN (sizeof ns_list / sizeof ns_list[0])
#define NM (sizeof ms_list / sizeof ms_list[0])

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "rmap_bench: %s\n", what);
	exit(1);
}

static int visit(struct mm *mm, vaddr_t va, void *arg)
{
	*(uint64_t *)arg += va ^ (uintptr_t)mm->pt; /* touch the mapper, like a collector */
	return 0;
}

/* An mm with pages private anonymous pages at BASE, all faulted in for write. */
static struct mm *mm_with_pages(unsigned pages)
{
	struct mm *mm = mm_create();
	if (!mm ||
	    vm_mmap(mm, BASE, pages * PAGE_SIZE, PT_READ | PT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE, NULL, 0) != (long)BASE)
		die("out of memory building mms");
	return mm;
}

/* ns per mapping for walking a frame that n forked mms map. */
static double time_walk(unsigned n)
{
	struct mm **fam = malloc(n * sizeof(*fam));
	struct vm_page_info info;
	uint64_t sink = 0, best = UINT64_MAX;
	uint64_t walks = WALK_VISITS / n;

	fam[0] = mm_with_pages(1);
	for (unsigned i = 1; i < n; i++)
		if (!(fam[i] = mm_fork(fam[i / 2]))) /* a fork tree, not a chain */
			die("fork failed");
	vm_page_info(fam[0], BASE, &info);
	struct page *pg = pfn_to_page(info.pfn);
	if (rmap_count(pg) != (int)n)
		die("frame is not mapped by every member of the family");
	for (int r = 0; r < RUNS; r++) {
		uint64_t t0 = now_ns();
		for (uint64_t w = 0; w < walks; w++)
			rmap_walk(pg, visit, &sink);
		uint64_t dt = now_ns() - t0;
		best = dt < best ? dt : best;
	}
	for (unsigned i = n; i-- > 0;)
		mm_put(fam[i]);
	free(fam);
	if (sink == 42)
		printf("(unlikely)\n");
	return (double)best / (double)(walks * n);
}

int main(void)
{
	static struct page map[NPFN];
	double ns[NN][NM];

	fake_phys_alloc((size_t)NPFN * PAGE_SIZE);
	frame_init(map, NPFN);
	frame_add_free_range(1, NPFN);
	kmalloc_init();
	for (unsigned mi = 0; mi < NM; mi++) {
		struct mm **unrel = malloc((ms_list[mi] + 1) * sizeof(*unrel));
		for (unsigned k = 0; k < ms_list[mi]; k++)
			unrel[k] = mm_with_pages(UNREL_PAGES);
		for (unsigned ni = 0; ni < NN; ni++)
			ns[ni][mi] = time_walk(ns_list[ni]);
		for (unsigned k = 0; k < ms_list[mi]; k++)
			mm_put(unrel[k]);
		free(unrel);
	}
	printf("rmap walk, ns per mapping (best of %d); M unrelated mms with %d pages each\n", RUNS,
	       UNREL_PAGES);
	printf("%8s", "N \\ M");
	for (unsigned mi = 0; mi < NM; mi++)
		printf(" %9u", ms_list[mi]);
	printf("   slope vs M (ns/mapping per 100 mms)\n");
	for (unsigned ni = 0; ni < NN; ni++) {
		double mx = 0, my = 0, sxy = 0, sxx = 0;
		printf("%8u", ns_list[ni]);
		for (unsigned mi = 0; mi < NM; mi++) {
			printf(" %9.2f", ns[ni][mi]);
			mx += ms_list[mi] / (double)NM;
			my += ns[ni][mi] / NM;
		}
		for (unsigned mi = 0; mi < NM; mi++) {
			sxy += (ms_list[mi] - mx) * (ns[ni][mi] - my);
			sxx += (ms_list[mi] - mx) * (ms_list[mi] - mx);
		}
		printf("   %+.3f\n", 100.0 * sxy / sxx);
	}
	return 0;
}
