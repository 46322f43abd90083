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
/* Number of PTEs mapping pg (its mapcount). Any context. */
int rmap_count(const struct page *pg);
/* Number of rmap entries alive in the whole system (tests: leak checks). Any context. */
long rmap_nr_entries(void);

/* The one "collect, then act" loop over a frame's mappers (memory_failure, the page cache):
 * every (mm, va) that maps pg is collected through rmap_walk, each mm kept with mm_tryget,
 * then act(batch, round, arg) runs with no rmap lock held, so it may change mappings (take
 * mm->lock, unmap, replace); the mms are put afterwards. A fork racing with the walk can add
 * a mapping, so this repeats while mappings remain, at most RMAP_WALK_ROUNDS times. Returns
 * the number of mappings acted on, or -EBUSY when some remain. Process context. */
#define RMAP_WALK_ROUNDS 8
struct rmap_mapper {
	struct mm *mm; /* referenced with mm_tryget for the duration of act */
	vaddr_t va;
};
struct rmap_batch {
	struct rmap_mapper *v;
	unsigned n, cap;
	bool oom; /* the walk stopped early for want of memory (the next round goes on) */
};
typedef void (*rmap_batch_fn)(const struct rmap_batch *b, unsigned round, void *arg);
int rmap_collect_then_act(struct page *pg, rmap_batch_fn act, void *arg);
/* One round of that loop (round is passed to act): the number of mappings acted on. For a
 * caller that makes new mappings see the change first and needs no second round. */
unsigned rmap_collect_round(struct page *pg, rmap_batch_fn act, unsigned round, void *arg);
