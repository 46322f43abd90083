/* memory_failure of a swap cache page, with Linux 6.1's outcomes (mm/memory-failure.c,
 * me_swapcache_dirty and me_swapcache_clean; docs/memory_failure.md has the rows).
 *
 * The page may be mapped by PTEs and, at once, wanted by PTEs that hold its swap entry (a
 * page freshly swapped in, or on its way out). Both kinds are made one: every mapping,
 * mlocked or not, is replaced by the swap entry (Linux's try_to_unmap without TTU_HWPOISON),
 * so that every holder reaches the page through the swap cache. Then:
 *   - clean (the swap copy is good): the page leaves the swap cache and the frame is kept out
 *     for good; the next touch reads the swap copy into a new frame. No signal: recovered.
 *   - dirty (the only good copy was in this frame): the page stays in the swap cache,
 *     poisoned, and is never written out (reclaim passes poisoned frames by). A touch of its
 *     entry finds it poisoned and gets SIGBUS BUS_MCEERR_AR (the fault's -EHWPOISON, as
 *     Linux's do_swap_page answers VM_FAULT_HWPOISON for a poisoned swap cache page), and so
 *     does every later touch; early-kill threads of the mappers get BUS_MCEERR_AO now, the
 *     consumer of action-required poison BUS_MCEERR_AR now: delayed. The frame goes when the
 *     last holder of the entry drops it (munmap, exit); swapoff turns the entries into poison
 *     markers.
 *   - a page under swap I/O (PG_SWAPIO: reclaim writing it, or a read filling it) is left to
 *     the I/O, which the block layer fails for a poisoned frame: reclaim then keeps it cached
 *     and dirty (the dirty outcome), and a read is retried into a new frame. */
#include "kerrno.h"
#include "mf_priv.h"
#include "rmap.h"
#include "swap.h"
#include "vm_priv.h"

#define MF_SWAP_MAPPERS 32 /* mappings recorded for the trace and told; all are unmapped */
#define SWAP_ENTRIES "unmapped, the swap entry left in the PTEs"

struct swap_mappers {
	unsigned n;
	struct mf_mapper v[MF_SWAP_MAPPERS];
};

static int note_one(struct mm *mm, vaddr_t va, void *arg)
{
	struct swap_mappers *m = arg;

	if (m->n == MF_SWAP_MAPPERS)
		return 1;
	if (mm_tryget(mm))
		m->v[m->n++] = (struct mf_mapper){.mm = mm, .va = va};
	return 0;
}

/* Unmap, then drop (clean) or keep and tell (dirty); pg referenced. */
static int handle(struct mf_event *ev, struct page *pg, struct swap_mappers *m)
{
	bool dirty = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_DIRTY;

	rmap_walk(pg, note_one, m);
	ev->mappers = m->v;
	ev->nmappers = m->n;
	if (swap_unmap_page(pg, SWAP_UNMAP_ALL) != 0) {
		mf_trace_mappers(ev, "some PTEs would not take the swap entry");
		return mf_finish(ev, MF_FAILED, "swap cache page: some mappings would not go");
	}
	for (unsigned i = 0; i < m->n; i++)
		m->v[i].fate = dirty ? MF_FATE_LATE : MF_FATE_CLEARED;
	if (!dirty) {
		swap_cache_remove(pg, 1, true);
		mf_trace_mappers(ev, SWAP_ENTRIES);
		return mf_finish(ev, MF_RECOVERED,
				 "clean swap cache page dropped: the next touch "
				 "reads the swap copy again");
	}
	for (unsigned i = 0; i < m->n; i++)
		mf_tell_mapper(ev, &m->v[i]);
	mf_trace_mappers(ev, SWAP_ENTRIES);
	return mf_finish(ev, MF_DELAYED,
			 "dirty swap cache page kept, poisoned: the holders of "
			 "its swap entry get SIGBUS BUS_MCEERR_AR when they touch it");
}

/* memory_failure's handler for swap cache pages; see mf_priv.h. */
int mf_swapcache(struct mf_event *ev, struct page *pg)
{
	struct swap_mappers m = {0};
	uint32_t fl;
	int r;

	if (!upage_tryget(pg))
		return mf_finish(ev, MF_RECOVERED,
				 "freed; the frame never returns to the allocator");
	fl = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	if (!(fl & PG_SWAPCACHE))
		r = -EAGAIN;
	else if (fl & PG_SWAPIO)
		r = mf_finish(ev, MF_DELAYED,
			      "swap cache page under I/O: the block layer fails it, "
			      "and the page is handled as its state then says");
	else
		r = handle(ev, pg, &m);
	upage_put(pg);
	for (unsigned i = 0; i < m.n; i++)
		mm_put(m.v[i].mm);
	return r;
}
