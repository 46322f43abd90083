/* Reclaim: private anonymous pages leave memory for swap when free memory runs low.
 *
 * Who reclaims: kswapd, a kernel worker task, woken by swap_balance (every page fault checks
 * the watermark after it is done) when free frames fall below the low watermark, reclaims
 * until they reach the high one; and a fault whose allocation failed reclaims a batch itself
 * (direct reclaim, swap_reclaim_wait) before it tries again. Both run in process context with
 * no lock held, since writing a page sleeps.
 *
 * What goes: a clock over the frame array (the "hand" moves on from where it stopped), as a
 * stand-in for Linux's LRU lists. A frame is a candidate when it is a private anonymous user
 * page of one frame (not a file or shared-anonymous page, not part of a huge page, not
 * poisoned or being moved), mapped or cached. Its PTEs' accessed bits give it a second chance:
 * the hand clears them and passes by; it goes the next time round if none was set again. A
 * page that any mapper has mlocked (VM_LOCKED) never goes. A page that goes is given a slot
 * and put in the swap cache (dirty), unmapped everywhere through the reverse map (each PTE
 * keeps its swap entry), written to its slot unless the swap copy is still good (clean), and
 * freed. PG_SWAPIO marks it reclaim's for all that time, so that two reclaimers never meet on
 * one page and a fault on its entry waits.
 *
 * A write that fails (an I/O error, or a frame found poisoned, which the block layer refuses
 * with -EIO so that no corrupt data reaches the disk) leaves the page cached and dirty: its
 * PTEs hold the entry and the next touch maps it again (or, for a poisoned frame, gets what
 * memory_failure decided). */
#include "kerrno.h"
#include "printk.h"
#include "swap_priv.h"
#include "task.h"

#define RECLAIM_BATCH 32     /* pages per kswapd round and per direct reclaim */
#define WMARK_MIN_FRAMES 256 /* 1 MiB: the low watermark's floor */

static pfn_t hand;
static uint64_t wmark_low, wmark_high;
static struct task *kswapd_task;
static uint32_t kswapd_wanted; /* set before task_wake: sched_sleep_until never misses it */
static uint64_t nr_out, nr_write_errors;

/* Whether pg may be a candidate, from its flags alone (checked again with a reference). */
static bool candidate(const struct page *pg)
{
	uint32_t fl = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	uint32_t bad = PG_FILE | PG_TAIL | PG_HWPOISON | PG_MOVING | PG_SWAPIO | PG_TRAP;

	if ((fl & (PG_USER | bad)) != PG_USER || pg->order != 0)
		return false;
	return __atomic_load_n(&pg->mapcount, __ATOMIC_RELAXED) > 0 || (fl & PG_SWAPCACHE);
}

/* Give pg (referenced, claimed with PG_SWAPIO) a slot, unmap it and write it. Whether it is
 * ready to leave the cache. */
static bool page_out(struct page *pg)
{
	if (!(pg->flags & PG_SWAPCACHE)) {
		swp_entry_t e = swap_slot_alloc();
		if (!e)
			return false; /* swap is full */
		swap_cache_add(pg, e);
	}
	if (swap_unmap_page(pg, SWAP_UNMAP_RECLAIM) != 0)
		return false; /* mlocked, or mapped again: it stays, cached */
	if (!(__atomic_fetch_and(&pg->flags, ~PG_DIRTY, __ATOMIC_ACQ_REL) & PG_DIRTY))
		return true; /* clean: the swap copy is good */
	if (swap_count(pg->swap) == 0)
		return true; /* nobody will read it back: no write */
	int err = swap_io(pg->swap, page_to_pfn(pg), true);
	if (err) {
		__atomic_fetch_or(&pg->flags, PG_DIRTY, __ATOMIC_RELEASE);
		if (!nr_write_errors++ || err != -EIO)
			pr_err("swap: write error %d on pfn %#lx: the page stays in memory\n", err,
			       (unsigned long)page_to_pfn(pg));
		return false;
	}
	nr_out++;
	return true;
}

/* Try to push pg out of memory (after its second chance, when second_chance): whether its
 * frame was freed. */
static bool reclaim_page(struct page *pg, bool second_chance)
{
	bool out = false;

	if (!candidate(pg) || !upage_tryget(pg))
		return false;
	if (!candidate(pg) ||
	    (__atomic_fetch_or(&pg->flags, PG_SWAPIO, __ATOMIC_ACQ_REL) & PG_SWAPIO)) {
		upage_put(pg);
		return false;
	}
	if (!second_chance || !pg->mapcount || swap_unmap_page(pg, SWAP_UNMAP_CHECK) == 0)
		out = page_out(pg);
	__atomic_fetch_and(&pg->flags, ~PG_SWAPIO, __ATOMIC_RELEASE);
	if (out)
		out = swap_cache_remove(pg, 1, false);
	upage_put(pg);
	return out;
}

/* Push out up to n pages; see swap.h. Two turns of the clock at most. */
unsigned swap_reclaim(unsigned n)
{
	pfn_t max = frame_max_pfn();
	unsigned freed = 0;

	if (!swap_active() || !max)
		return 0;
	for (pfn_t scanned = 0; scanned < 2 * max && freed < n; scanned++) {
		pfn_t pfn = __atomic_fetch_add(&hand, 1, __ATOMIC_RELAXED) % max;
		struct page *pg = pfn_to_page(pfn);
		if (pg && reclaim_page(pg, true))
			freed++;
	}
	return freed;
}

/* madvise(MADV_PAGEOUT); see swap.h. */
long swap_pageout(struct mm *mm, vaddr_t addr, uint64_t len)
{
	struct vm_page_info pi;

	if (addr & (PAGE_SIZE - 1) || addr + len < addr)
		return -EINVAL;
	for (vaddr_t va = addr; va < addr + len && swap_active(); va += PAGE_SIZE) {
		vm_page_info(mm, va, &pi);
		if (pi.state == VM_PAGE_PRESENT && pfn_to_page(pi.pfn))
			reclaim_page(pfn_to_page(pi.pfn), false);
	}
	return 0;
}

/* kswapd: sleeps until woken, then reclaims up to the high watermark. */
static void kswapd(void *arg)
{
	(void)arg;
	for (;;) {
		sched_sleep_until(0, &kswapd_wanted);
		__atomic_store_n(&kswapd_wanted, 0, __ATOMIC_RELEASE);
		while (frame_nr_free() < wmark_high && swap_reclaim(RECLAIM_BATCH))
			;
	}
}

/* Wake kswapd below the low watermark; see swap.h. */
void swap_balance(void)
{
	if (!kswapd_task || !swap_active() || frame_nr_free() >= wmark_low)
		return;
	if (!__atomic_exchange_n(&kswapd_wanted, 1, __ATOMIC_ACQ_REL))
		task_wake(kswapd_task);
}

/* Direct reclaim after a failed allocation; see swap.h. */
bool swap_reclaim_wait(void)
{
	swap_balance();
	return swap_reclaim(RECLAIM_BATCH) > 0 || frame_nr_free() > WMARK_MIN_FRAMES / 4;
}

/* Watermarks from the memory there is, and kswapd. Boot, process context. */
void swap_reclaim_init(void)
{
	struct frame_stats st;

	frame_get_stats(&st);
	wmark_low = st.usable / 32 > WMARK_MIN_FRAMES ? st.usable / 32 : WMARK_MIN_FRAMES;
	wmark_high = wmark_low * 2;
	kswapd_task = task_create_worker("kswapd", kswapd, NULL);
	if (kswapd_task)
		sched_start_task(kswapd_task);
	else
		pr_err("swap: no kswapd: reclaim only when allocations fail\n");
}
