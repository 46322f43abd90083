/* The swap cache (include/swap.h): the page in memory for a swap slot, found by its entry.
 * A page is in it while it leaves memory (from the moment reclaim gives it a slot until the
 * write is done and nobody maps it), while it is read back, and after a swap-in for as long
 * as memory allows, so that a page that has not changed since is dropped without a write
 * (clean) and the other holders of the entry after a fork find it. A cached page is
 * PG_SWAPCACHE with its entry in page->swap, holds one reference for the cache, and is
 * PG_DIRTY when the swap copy is stale (never written, or written to since): what
 * memory_failure calls dirty and clean swap cache. PG_SWAPIO marks a page that reclaim owns
 * or that a read or write is in flight for: nobody maps it then, and the page fault waits.
 * The frame stays referenced by the cache (and the I/O's owner) until the I/O completes. */
#include "kerrno.h"
#include "printk.h"
#include "swap_priv.h"
#include "task.h"

#define SWAPIO_WAIT_NS 100000 /* a fault that meets a page under I/O polls this often */

/* The page cached for e, referenced; see swap.h. */
struct page *swap_cache_lookup(swp_entry_t e)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(e);
	struct page *pg = a ? a->cache[swp_offset(e)] : NULL;

	if (pg && !upage_tryget(pg))
		pg = NULL;
	spin_unlock_irqrestore(&swap_lock, f);
	return pg;
}

/* Cache pg for e with extra flags set; swap_lock held, e's slot has SWAP_HAS_CACHE. */
static void cache_insert(struct swap_area *a, struct page *pg, swp_entry_t e, uint32_t flags)
{
	a->cache[swp_offset(e)] = pg;
	pg->swap = e;
	upage_get(pg);
	__atomic_fetch_or(&pg->flags, PG_SWAPCACHE | flags, __ATOMIC_RELEASE);
	swap_nr_cached++;
}

/* Put pg in the cache for its new slot e, dirty; see swap.h. */
void swap_cache_add(struct page *pg, swp_entry_t e)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(e);

	if (a)
		cache_insert(a, pg, e, PG_DIRTY);
	spin_unlock_irqrestore(&swap_lock, f);
}

/* Take pg out of the cache when allowed; see swap.h. */
bool swap_cache_remove(struct page *pg, int held, bool force)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	uint32_t fl = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	struct swap_area *a = (fl & PG_SWAPCACHE) ? swap_area_of(pg->swap) : NULL;
	uint64_t off = swp_offset(pg->swap);
	bool out = a && a->cache[off] == pg;

	if (out && !force) {
		unsigned ptes = a->map[off] & SWAP_COUNT_MASK;
		out = __atomic_load_n(&pg->refcount, __ATOMIC_ACQUIRE) == held + 1 &&
		      !(fl & PG_SWAPIO) && (ptes == 0 || !(fl & PG_DIRTY));
	}
	if (out) {
		a->cache[off] = NULL;
		a->map[off] &= ~SWAP_HAS_CACHE;
		if (a->map[off] == 0)
			a->nr_free++;
		__atomic_fetch_and(&pg->flags, ~(PG_SWAPCACHE | PG_DIRTY), __ATOMIC_RELEASE);
		swap_nr_cached--;
	}
	spin_unlock_irqrestore(&swap_lock, f);
	if (out)
		upage_put(pg);
	return out;
}

/* Claim e's slot for a page read from the area: NULL and *busy when a page is cached
 * already (or being added), NULL when e is no longer in use, else pg cached for it. */
static struct page *claim_for_read(swp_entry_t e, struct page *pg, bool *busy)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(e);
	uint16_t *slot = a ? &a->map[swp_offset(e)] : NULL;
	struct page *got = NULL;

	*busy = slot && (*slot & SWAP_HAS_CACHE);
	if (slot && !*busy && (*slot & SWAP_COUNT_MASK) && *slot != SWAP_MAP_BAD) {
		*slot |= SWAP_HAS_CACHE;
		cache_insert(a, pg, e, PG_SWAPIO);
		got = pg;
	}
	spin_unlock_irqrestore(&swap_lock, f);
	return got;
}

/* Read e's page into a new frame, cached; 0 and *out (referenced), -EAGAIN when another
 * task got there first, -ENOENT, -ENOMEM, -EIO. */
static int read_new(swp_entry_t e, struct page **out)
{
	struct page *pg = frame_alloc(0, PG_USER);
	bool busy;
	int err;

	if (!pg)
		return -ENOMEM;
	if (!claim_for_read(e, pg, &busy)) {
		upage_put(pg);
		return busy ? -EAGAIN : -ENOENT;
	}
	err = swap_io(e, page_to_pfn(pg), false);
	__atomic_fetch_and(&pg->flags, ~PG_SWAPIO, __ATOMIC_RELEASE);
	if (err) {
		bool poisoned = page_poisoned(pg); /* the frame, not the disk: read again */
		if (!poisoned)
			pr_err("swap: read error %d on slot %lu of area %u\n", err,
			       (unsigned long)swp_offset(e), swp_type(e));
		swap_cache_remove(pg, 1, true);
		upage_put(pg);
		return poisoned ? -EAGAIN : -EIO;
	}
	*out = pg;
	return 0;
}

/* e's page, cached or read in; see swap.h. Sleeps. */
int swap_cache_readin(swp_entry_t e, struct page **out)
{
	for (;;) {
		struct page *pg = swap_cache_lookup(e);
		int err;

		if (pg && !(__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_SWAPIO)) {
			*out = pg;
			return 0;
		}
		if (pg) {
			upage_put(pg);
			sleep_ns(SWAPIO_WAIT_NS); /* reclaim or a read owns it: wait it out */
			continue;
		}
		err = read_new(e, out);
		if (err != -EAGAIN)
			return err;
	}
}

/* Only the caller's PTE and the cache hold pg, and no PTE waits for its entry; see swap.h. */
bool swap_page_exclusive(const struct page *pg)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	struct swap_area *a = swap_area_of(pg->swap);
	bool ok = a && a->cache[swp_offset(pg->swap)] == pg &&
		  !(a->map[swp_offset(pg->swap)] & SWAP_COUNT_MASK) &&
		  __atomic_load_n(&pg->refcount, __ATOMIC_ACQUIRE) == 2 &&
		  __atomic_load_n(&pg->mapcount, __ATOMIC_ACQUIRE) <= 1;

	spin_unlock_irqrestore(&swap_lock, f);
	return ok;
}
