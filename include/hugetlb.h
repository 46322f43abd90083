/* hugetlbfs's pool of 2 MiB pages (kernel/mm/hugetlb.c) and the objects that hold them
 * (kernel/mm/hugetlb_map.c): what the file system, procfs and memory_failure see of them.
 *
 * The pool holds order-9 blocks taken from the buddy allocator when nr_hugepages grows (or
 * hugepages= at boot). A mapping takes a whole block (a "run") for each 2 MiB page it touches
 * and maps it with one huge entry; the run's 512 frames are counted and anchored in the rmap
 * one by one, as a transparent huge page's are (kernel/mm/thp.c), so memory_failure can split
 * the entry and lose 4 KiB (docs/memory_failure.md, "hugetlbfs"). A run whose last frame goes
 * comes back to the pool, unless a memory error took it out of the pool for good.
 *
 * Counters, Linux's names: total (HugePages_Total: runs the pool owns, free or in use), free,
 * resv (reserved by a mapping, not yet faulted in), surplus (runs above nr_hugepages that go
 * back to the buddy allocator when freed), and MCRK's lost (runs the pool lost to memory
 * errors since boot; HugePages_Lost in /proc/meminfo). nr_hugepages = total - surplus. */
#pragma once
#include "types.h"

#define HUGETLB_SHIFT 21 /* the one huge page size MCRK has: 2 MiB (see docs/memory.md for 1 GiB) */
#define HUGETLB_SIZE (1ul << HUGETLB_SHIFT)

struct hugetlb_obj;
struct page;

struct hugetlb_stats {
	uint64_t total, free, resv, surplus, lost;
};

/* A copy of the pool's counters. Any context but #MC/NMI. */
void hugetlb_get_stats(struct hugetlb_stats *out);
/* Whether pages of 1 << shift bytes can be had (mount's pagesize=, MAP_HUGE_*): 2 MiB where
 * the page tables have huge entries. Any context. */
bool hugetlb_size_supported(unsigned shift);
/* Read hugepages= and hugepagesz= from the command line, fill the pool, register the control
 * files. Boot, process context, after the allocator and before the first user program. */
void hugetlb_init(void);

/* A new object of nhuge empty 2 MiB slots, with one reference (the owner's: a hugetlbfs
 * inode). NULL when out of memory. Process context. */
struct hugetlb_obj *hugetlb_obj_create(uint64_t nhuge);
/* Drop a reference; the last one frees the slots' pages (the memory goes with the last frame
 * still mapped somewhere) and gives back the reservations. Never sleeps. */
void hugetlb_obj_put(struct hugetlb_obj *o);
/* Make the object nhuge slots long (a hugetlbfs truncate or a writable mmap past the end):
 * slots past the new end are unmapped from every address space and freed, with their
 * reservations. 0 or -ENOMEM. Process context, no mm->lock held. */
int hugetlb_obj_resize(struct hugetlb_obj *o, uint64_t nhuge);
/* Slots the object has (its file's size / 2 MiB). Any context but #MC/NMI. */
uint64_t hugetlb_obj_slots(struct hugetlb_obj *o);
/* The frame of o at 4 KiB index idx with a reference for the caller (hugetlb_page_put), or
 * NULL when its slot has no page yet: 0, or -EIO for a frame a memory error took. Process
 * context. */
int hugetlb_obj_page(struct hugetlb_obj *o, uint64_t idx, struct page **out);
/* Drop the reference hugetlb_obj_page gave. */
void hugetlb_page_put(struct page *pg);
