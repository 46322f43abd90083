/* Soft offline and unpoison: the ways out of poison that lose nothing. Soft offline (Linux's
 * soft_offline_page) takes a frame that has not failed yet, but has had too many corrected
 * errors, out of use: a user page moves to a fresh frame under every mapper while nobody may
 * write it, a free frame leaves the allocator, kernel memory stays (it cannot move). Unpoison
 * gives a frame poisoned by software back to the allocator once nothing uses it. The mappers
 * are found through memory_failure.c's rmap loop (mf_each_mapping). Callers:
 * MADV_SOFT_OFFLINE, /sys/devices/system/memory/soft_offline_page, the corrected-error
 * collector, unpoison-pfn. Process context, interrupts enabled. */
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "memory_failure.h"
#include "mf_priv.h"
#include "pagecache.h"
#include "printk.h"
#include "rmap.h"
#include "vm.h"
#include "vm_priv.h"

/* No longer writable (PTE read-only, flushed from every TLB). */
static void wrprotect_one(struct mm *mm, vaddr_t va, void *arg)
{
	vm_wrprotect_page(mm, va, *(const pfn_t *)arg);
}

struct replace_args {
	pfn_t old;
	struct page *new;
};

/* Point the mapping at the new frame. */
static void replace_one(struct mm *mm, vaddr_t va, void *arg)
{
	const struct replace_args *a = arg;
	int err = vm_replace_page(mm, va, a->old, a->new);
	if (err && err != -ENOENT)
		printk(KERN_WARNING "soft_offline: pfn %#lx: cannot move the page at %#lx (%d)\n",
		       a->old, va, err);
}

/* A mapping of the copy: the write access its VMA allows (our reference on the copy not
 * counted, so a private page with one mapper is writable again). */
static void settle_one(struct mm *mm, vaddr_t va, void *arg)
{
	vm_settle_page(mm, va, *(const pfn_t *)arg, 1);
}

/* Copy a user page to new and switch its mappers, with nobody writing it meanwhile: PG_MOVING
 * keeps any PTE of either frame from getting write access (a writer's fault is retried),
 * every existing mapping of the old frame loses write access, then the copy, then the switch.
 * new carries pg's rmap anchor and index, so one walk of the anchor finds the mappers of
 * either frame. A page cache's slot moves to the copy before the mappings do, so that a page
 * no PTE maps keeps its bytes too. A mapping added after the first walk (fork, a page-cache
 * fault) is read-only too, and the switch walks until the old frame has no mapping left.
 * Last, the copy's PTEs get back the write access their VMAs allow, before PG_MOVING leaves
 * the copy: a writer that waited finds its page writable, not shared with our reference
 * (which would make it copy again). */
static int move_user_page(struct page *pg, pfn_t pfn, struct page *new)
{
	struct replace_args a = {pfn, new};
	pfn_t new_pfn = page_to_pfn(new);
	rmap_page_copy_anchor(new, pg); /* the same anchor and index: walks find its mappers */
	__atomic_fetch_or(&new->flags, PG_MOVING, __ATOMIC_ACQ_REL);
	__atomic_fetch_or(&pg->flags, PG_MOVING, __ATOMIC_ACQ_REL);
	int err = mf_each_mapping(pg, false, wrprotect_one, &pfn);
	if (!err) {
		memcpy(page_to_virt(new), page_to_virt(pg), PAGE_SIZE);
		if (pg->flags & PG_FILE) /* faults from now on map the copy */
			pagecache_replace(pg, new);
		err = mf_each_mapping(pg, true, replace_one, &a);
	}
	__atomic_fetch_and(&pg->flags, ~PG_MOVING, __ATOMIC_ACQ_REL);
	if (!err)
		mf_each_mapping(new, false, settle_one, &new_pfn);
	__atomic_fetch_and(&new->flags, ~PG_MOVING, __ATOMIC_ACQ_REL);
	return err;
}

static int soft_offline_user(struct page *pg, pfn_t pfn, uint32_t f, struct mf_soft_report *rep)
{
	/* Hold the old frame while it is moved: were its last mapping to free it, it would go
	 * back to the allocator unpoisoned and could be handed out before we retire it. One
	 * whose last reference went already is on its way there: the collector, which acts on
	 * any pfn at any time, may find it so. */
	if (!upage_tryget(pg)) {
		rep->what = "user page being freed: left alone";
		return -EBUSY;
	}
	struct page *new = frame_alloc(0, PG_USER | (f & PG_FILE));
	if (!new) {
		upage_put(pg);
		rep->what = "no free frame for the copy: left where it was";
		return -ENOMEM;
	}
	int err = move_user_page(pg, pfn, new);
	if (!err) { /* out of use: poison it so it never comes back (software poison) */
		__atomic_fetch_or(&pg->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
		rep->what = !(f & PG_FILE)   ? "anonymous user page moved"
			    : (f & PG_DIRTY) ? "dirty file page moved"
					     : "clean file page moved";
		rep->new_pfn = page_to_pfn(new);
	}
	upage_put(new); /* the mappings hold it now */
	upage_put(pg);	/* the last reference: a poisoned frame is isolated as it is freed */
	if (err) {
		rep->what = "user page could not be moved: left where it was";
		return err;
	}
	printk(KERN_INFO "soft_offline: pfn %#lx: contents moved to pfn %#lx, old frame retired\n",
	       pfn, rep->new_pfn);
	return 0;
}

static int soft_offline_free(struct page *pg, pfn_t pfn, struct mf_soft_report *rep)
{
	__atomic_fetch_or(&pg->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
	int err = frame_isolate_free(pfn);
	if (err) /* allocated before the poison bit landed: it is in use, not retired */
		__atomic_fetch_and(&pg->flags, ~(PG_HWPOISON | PG_SWPOISON), __ATOMIC_ACQ_REL);
	rep->what = err ? "free frame, allocated meanwhile: not taken out"
			: "free frame taken out of the allocator";
	printk(KERN_INFO "soft_offline: pfn %#lx: %s\n", pfn, rep->what);
	return err;
}

int soft_offline_frame(pfn_t pfn, struct mf_soft_report *rep)
{
	struct mf_soft_report ignored;
	struct page *pg = pfn_to_page(pfn);
	rep = rep ? rep : &ignored;
	*rep = (struct mf_soft_report){"?", MF_NO_PFN};
	if (!pg) {
		rep->what = "not a RAM frame MCRK describes";
		return -ENXIO;
	}
	if (page_poisoned(pg)) {
		rep->what = "already poisoned: nothing to do";
		return 0;
	}
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	if (f & (PG_BUDDY | PG_PCP) || !(f & (PG_RESERVED | PG_KIND_MASK | PG_TAIL)))
		return soft_offline_free(pg, pfn, rep);
	if (f & PG_HUGETLB) {
		/* Linux migrates the whole huge page; MCRK has no second run to move it to yet */
		rep->what = "hugetlb page: not moved";
		return -EBUSY;
	}
	if ((f & PG_USER) && !(f & PG_TAIL))
		return soft_offline_user(pg, pfn, f, rep);
	/* Kernel memory and page tables are used through kernel addresses nobody can switch:
	 * they stay where they are (Linux: -EIO, "unhandlable page"). */
	rep->what = mf_state_name(pg);
	return -EIO;
}

int unpoison_frame(pfn_t pfn)
{
	struct page *pg = pfn_to_page(pfn);
	if (!pg)
		return -ENXIO; /* as Linux's unpoison-pfn says for a pfn that is not RAM */
	if (!page_poisoned(pg))
		return -EINVAL;
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
	if (!(f & PG_SWPOISON))
		return -EINVAL; /* real hardware poison stays */
	if (!(f & PG_ISOLATED)) { /* still held: a page cache, a mapping, the kernel (Linux 6.1) */
		printk(KERN_INFO "memory_failure: pfn %#lx: unpoison refused: the page is still "
				 "held (page cache, mapping or kernel)\n", pfn);
		return -EBUSY;
	}
	pg->poison_was = 0; /* isolated: nobody else looks at the frame */
	__atomic_fetch_and(&pg->flags, ~(PG_HWPOISON | PG_SWPOISON), __ATOMIC_ACQ_REL);
	int err = frame_unisolate(pfn);
	if (err)
		__atomic_fetch_or(&pg->flags, PG_HWPOISON | PG_SWPOISON, __ATOMIC_ACQ_REL);
	else
		printk(KERN_INFO "memory_failure: pfn %#lx unpoisoned, back in the allocator\n", pfn);
	return err;
}

