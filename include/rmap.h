/* Reverse map: for every user frame, the exact set of (address space, page address) whose PTE
 * maps it. One kmalloc'd entry per mapping on a list hung off struct page.priv; see
 * kernel/mm/rmap.c for the locks and docs/rmap.md for the design and its memory cost. */
#pragma once
#include "types.h"

struct page;
struct mm;

/* Record that mm maps pg at page address va, and raise pg's mapcount. 0 or -ENOMEM.
 * Caller holds mm->lock. Process context. */
int rmap_add(struct page *pg, struct mm *mm, vaddr_t va);
/* Forget the mapping (mm, va) of pg and lower its mapcount. 0, or -ENOENT (reported) when it
 * was not recorded. Caller holds mm->lock. Process context. */
int rmap_remove(struct page *pg, struct mm *mm, vaddr_t va);
/* Call fn(mm, va, arg) for every mapping of pg, under pg's rmap lock, in no particular order;
 * stops at and returns fn's first non-zero value, else 0. Costs time linear in pg's own
 * mappings only. fn must not take any mm->lock nor change pg's rmap (collect, then act);
 * use mm_tryget to keep an mm. Process context, not #MC/NMI. */
int rmap_walk(struct page *pg, int (*fn)(struct mm *mm, vaddr_t va, void *arg), void *arg);
/* rmap_walk for a check that runs while every other CPU is still (arch_run_alone): -EBUSY at
 * once, instead of waiting, when pg's rmap lock is held (a stopped CPU was changing it). */
int rmap_walk_still(struct page *pg, int (*fn)(struct mm *mm, vaddr_t va, void *arg), void *arg);
/* Number of PTEs mapping pg (its mapcount). Any context. */
int rmap_count(const struct page *pg);
/* Number of rmap entries alive in the whole system (tests: leak checks). Any context. */
long rmap_nr_entries(void);
