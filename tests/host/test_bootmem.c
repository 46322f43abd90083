/* Host tests of boot-time memory ranges: reservations split ranges exactly, allocation
 * honours alignment and the lower bound, and hand-over gives the frame allocator exactly
 * what is left. */
#include "bootmem.h"
#include "frame.h"
#include "unit.h"
#include <stdlib.h>

static const struct mem_range sample_map[] = {
	{0x0, 0x9f000, MEM_USABLE},
	{0x9f000, 0x61000, MEM_RESERVED},
	{0x100000, 0x7f00000, MEM_USABLE}, /* 1 MiB .. 128 MiB */
	{0x8000000, 0x100000, MEM_ACPI_RECLAIM},
	{0x100000000ull, 0x800, MEM_USABLE}, /* less than a page: trimmed away */
};

TEST(bootmem_init_takes_usable_pages_only)
{
	bootmem_init(sample_map, 5);
	CHECK_EQ(bootmem_free_bytes(), 0x9f000 + 0x7f00000);
	CHECK_EQ(bootmem_top(), 0x8000000);
}

TEST(bootmem_reserve_splits_and_trims)
{
	bootmem_init(sample_map, 5);
	bootmem_reserve(0, 0x100000);             /* low memory */
	bootmem_reserve(0x200000, 0x123);         /* rounds out to a whole page */
	bootmem_reserve(0x7fff000, 0x10000);      /* runs past the end of the range */
	bootmem_reserve(0x9000000, 0x1000);       /* no overlap: nothing happens */
	bootmem_reserve(0x300000, 0);             /* empty: nothing happens */
	CHECK_EQ(bootmem_free_bytes(), 0x7f00000 - 0x1000 - 0x1000);
	CHECK_EQ(bootmem_top(), 0x7fff000);
}

TEST(bootmem_alloc_alignment_and_bound)
{
	bootmem_init(sample_map, 5);
	bootmem_reserve(0, 0x100000);
	paddr_t a = bootmem_alloc(0x1000, 0x1000, 0x100000);
	CHECK_EQ(a, 0x100000);
	paddr_t b = bootmem_alloc(0x3000, 0x200000, 0x100000);
	CHECK_EQ(b, 0x200000);
	paddr_t c = bootmem_alloc(0x1000, 0x1000, 0);
	CHECK_EQ(c, 0x101000); /* the hole left below the aligned block */
	CHECK_EQ(bootmem_alloc(0x10000000, 0x1000, 0), 0); /* larger than any range */
	CHECK_EQ(bootmem_alloc(0x1000, 0x3000, 0), 0);      /* alignment not a power of two */
	CHECK_EQ(bootmem_alloc(0, 0x1000, 0), 0);
}

TEST(bootmem_hand_over_gives_frames)
{
	size_t npfn = 0x8000000 >> PAGE_SHIFT;
	struct page *map = calloc(npfn, sizeof(*map));
	REQUIRE(map);
	bootmem_init(sample_map, 5);
	bootmem_reserve(0, 0x100000);
	paddr_t a = bootmem_alloc(0x5000, 0x1000, 0x100000);
	CHECK(a != 0);
	uint64_t left = bootmem_free_bytes();
	frame_init(map, npfn);
	bootmem_hand_over(npfn);
	struct frame_stats st;
	frame_get_stats(&st);
	CHECK_EQ(st.free, left >> PAGE_SHIFT);
	CHECK_EQ(bootmem_alloc(0x1000, 0x1000, 0), 0); /* no allocations after hand-over */
	CHECK(pfn_to_page(a >> PAGE_SHIFT)->flags & PG_RESERVED);
	free(map);
}
