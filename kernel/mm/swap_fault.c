/* Swap entries in page tables (include/swap.h): a page that left memory leaves in each PTE
 * that mapped it a marker holding its swap entry (vm_priv.h; the arch keeps markers in
 * non-present entries). A fault on one maps the swap cache's page, reading it first without
 * mm->lock (vm_fault retries); fork counts each copied entry once more; munmap and exit drop
 * them; swapoff faults every entry of its area back in.
 *
 * A page comes back mapped read-only, still cached and clean, so that reclaim can drop it
 * again without a write. A write fault, now or later, makes it writable in place when this
 * PTE is its only holder and no other PTE holds its entry; it stays cached, dirty (its swap
 * copy is stale), as Linux 6.1 leaves it when swap is not full. Otherwise the write copies
 * it (copy-on-write, vm_fault.c). */
#include "kerrno.h"
#include "kmalloc.h"
#include "printk.h"
#include "swap_priv.h"

/* Map e's cached page at va; see swap.h. mm->lock held. */
int swap_fault_locked(struct mm *mm, struct vma *v, vaddr_t va, swp_entry_t e, unsigned access)
{
	struct page *pg = swap_cache_lookup(e);
	int err;

	if (!pg)
		return -EAGAIN;
	if (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_SWAPIO)
		err = -EAGAIN; /* reclaim or a read owns it: swap_cache_readin waits */
	else if (page_poisoned(pg))
		err = -EHWPOISON; /* a dirty cached page memory_failure kept: Linux's "delayed" */
	else if (rmap_anon_prepare(v))
		err = -ENOMEM;
	else
		err = 0;
	if (!err) {
		rmap_page_set_anon_swapped(pg, v, va);
		err = vm_install_pte(mm, va, pg, v->prot & ~PT_WRITE); /* takes our reference */
	}
	if (err) {
		upage_put(pg);
		return err;
	}
	swap_put(e);
	if ((access & FAULT_WRITE) && (v->prot & PT_WRITE) && swap_page_exclusive(pg)) {
		__atomic_fetch_or(&pg->flags, PG_DIRTY, __ATOMIC_RELEASE);
		arch_pt_protect(mm->pt, va, v->prot);
	}
	return 0; /* a write to a shared page faults again and copies it */
}

static int put_entry(vaddr_t va, const struct pte_info *pi, void *arg)
{
	(void)va;
	(void)arg;
	if (!pi->present && vm_marker_is_swap(pi->marker))
		swap_put(vm_marker_swap(pi->marker));
	return 0;
}

/* Drop the swap entries of [start, end); see swap.h. mm->lock held. */
void swap_zap_range_locked(struct mm *mm, vaddr_t start, vaddr_t end)
{
	arch_pt_walk(mm->pt, start, end, put_entry, NULL);
}

/* Count a copied entry; one whose count is full is taken out of the child (its page reads
 * as zeros there: never seen with 32766 sharers per slot, and logged). */
static int dup_entry(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct mm *child = arg;

	if (pi->present || !vm_marker_is_swap(pi->marker))
		return 0;
	if (swap_dup(vm_marker_swap(pi->marker)) == 0)
		return 0;
	pr_err("swap: entry %#lx shared too often: fork child loses it\n",
	       (unsigned long)vm_marker_swap(pi->marker));
	arch_pt_clear(child->pt, va);
	return 0;
}

/* fork copied [start, end) into child; see swap.h. Both mm locks held. */
int swap_fork_range_locked(struct mm *child, vaddr_t start, vaddr_t end)
{
	return arch_pt_walk(child->pt, start, end, dup_entry, child);
}

/* ---- unmapping a cached page everywhere ---- */

#define UNMAP_MAX 32 /* mappers handled per page; a page with more stays in memory */

struct mappers {
	unsigned n;
	bool overflow;
	struct mm *mm[UNMAP_MAX];
	vaddr_t va[UNMAP_MAX];
};

static int collect(struct mm *mm, vaddr_t va, void *arg)
{
	struct mappers *m = arg;

	if (m->n == UNMAP_MAX) {
		m->overflow = true;
		return 1;
	}
	if (mm_tryget(mm)) {
		m->mm[m->n] = mm;
		m->va[m->n++] = va;
	}
	return 0;
}

/* The PTE at va maps pg and may give it up: -ENOENT (it does not map pg), -EBUSY (inside a
 * huge entry; mlocked unless mode is ALL; accessed since the last look when mode is CHECK:
 * the accessed bit is cleared, the page's second chance). mm->lock held. */
static int may_unmap(struct mm *mm, vaddr_t va, struct page *pg, enum swap_unmap mode,
		     struct pte_info *pi)
{
	struct vma *v = vma_tree_find(mm->vma_root, va);

	if (!v || arch_pt_get(mm->pt, va, pi) || !pi->present || pi->pfn != page_to_pfn(pg))
		return -ENOENT;
	if (((v->flags & VM_LOCKED) && mode != SWAP_UNMAP_ALL) || pi->huge)
		return -EBUSY;
	return mode == SWAP_UNMAP_CHECK && arch_pt_clear_young(mm->pt, va) == 1 ? -EBUSY : 0;
}

/* Replace the PTE at va that maps pg by pg's swap entry. 0, -ENOENT, -EBUSY, -ENOMEM.
 * mm->lock held. */
static int unmap_to_swap(struct mm *mm, vaddr_t va, struct page *pg, enum swap_unmap mode)
{
	struct pte_info pi;
	int err = may_unmap(mm, va, pg, mode, &pi);

	if (!err)
		err = swap_dup(pg->swap);
	if (err)
		return err;
	if (arch_pt_set_marker(mm->pt, va, vm_swap_marker(pg->swap))) {
		swap_put(pg->swap);
		return -ENOMEM;
	}
	arch_pt_flush(mm->pt, va, 1);
	if (pi.dirty)
		__atomic_fetch_or(&pg->flags, PG_DIRTY, __ATOMIC_RELEASE);
	upage_unmap_put(pg);
	return 0;
}

/* Each mapper in m under its lock: check or unmap. Whether one was busy (then it stops). */
static bool for_mappers(struct mappers *m, struct page *pg, enum swap_unmap mode)
{
	bool busy = m->overflow && mode != SWAP_UNMAP_ALL;
	struct pte_info pi;

	for (unsigned i = 0; i < m->n && !busy; i++) {
		spin_lock(&m->mm[i]->lock);
		busy = (mode == SWAP_UNMAP_CHECK
			    ? may_unmap(m->mm[i], m->va[i], pg, mode, &pi)
			    : unmap_to_swap(m->mm[i], m->va[i], pg, mode)) == -EBUSY;
		spin_unlock(&m->mm[i]->lock);
	}
	return busy;
}

/* Unmap pg everywhere, leaving its entry, or only check that it may go; see swap.h. Every
 * mapper is reached in rounds of UNMAP_MAX when mode is ALL. */
int swap_unmap_page(struct page *pg, enum swap_unmap mode)
{
	bool busy;
	int rounds = 0;

	do {
		struct mappers m = {0};
		rmap_walk(pg, collect, &m);
		busy = for_mappers(&m, pg, mode);
		for (unsigned i = 0; i < m.n; i++)
			mm_put(m.mm[i]);
		if (!m.overflow || busy || mode != SWAP_UNMAP_ALL || ++rounds == 64)
			break;
	} while (__atomic_load_n(&pg->mapcount, __ATOMIC_ACQUIRE));
	if (busy)
		return -EBUSY;
	return mode == SWAP_UNMAP_CHECK ? 0 : __atomic_load_n(&pg->mapcount, __ATOMIC_ACQUIRE);
}

/* ---- swapoff ---- */

#define UNUSE_BATCH 64

struct unuse {
	unsigned type;
	unsigned n;
	vaddr_t va[UNUSE_BATCH];
};

static int find_entry(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct unuse *u = arg;

	if (pi->present || !vm_marker_is_swap(pi->marker) ||
	    swp_type(vm_marker_swap(pi->marker)) != u->type)
		return 0;
	u->va[u->n++] = va;
	return u->n == UNUSE_BATCH;
}

/* The cached page of the entry at va is poisoned: leave its poison marker instead, as Linux's
 * unuse_pte leaves a hwpoison entry, so that the task meets SIGBUS on its next touch and the
 * area can go. mm->lock held. */
static void unuse_poisoned(struct mm *mm, vaddr_t va, swp_entry_t e)
{
	struct page *pg = swap_cache_lookup(e);

	if (!pg)
		return;
	if (arch_pt_set_marker(mm->pt, va, vm_poison_marker(page_to_pfn(pg))) == 0)
		swap_put(e);
	upage_put(pg);
}

/* Bring the page of the swap entry at va of mm back, whatever the VMA's protection. */
static int unuse_one(struct mm *mm, vaddr_t va)
{
	for (;;) {
		struct pte_info pi;
		struct page *pg;
		struct vma *v;
		swp_entry_t e = 0;
		int err = 0;

		spin_lock(&mm->lock);
		v = vma_tree_find(mm->vma_root, va);
		if (v && arch_pt_get(mm->pt, va, &pi) == 0 && !pi.present &&
		    vm_marker_is_swap(pi.marker)) {
			e = vm_marker_swap(pi.marker);
			err = swap_fault_locked(mm, v, va, e, 0);
			if (err == -EHWPOISON)
				unuse_poisoned(mm, va, e);
		}
		spin_unlock(&mm->lock);
		if (err != -EAGAIN)
			return err == -EHWPOISON ? 0 : err;
		err = swap_cache_readin(e, &pg);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		upage_put(pg);
	}
}

/* Every entry of the area in mm, a batch at a time. */
static int unuse_mm(struct mm *mm, void *arg)
{
	struct unuse *u = arg;
	int err = 0;

	do {
		u->n = 0;
		spin_lock(&mm->lock);
		arch_pt_walk(mm->pt, USER_VA_START, USER_VA_END, find_entry, u);
		spin_unlock(&mm->lock);
		for (unsigned i = 0; i < u->n && !err; i++)
			err = unuse_one(mm, u->va[i]);
	} while (!err && u->n == UNUSE_BATCH);
	return err;
}

static bool area_has_ptes(unsigned type)
{
	irqflags_t f = spin_lock_irqsave(&swap_lock);
	const struct swap_area *a = &swap_areas[type];
	bool any = false;

	for (uint64_t off = 1; off < a->nslots && !any; off++)
		any = a->map[off] != SWAP_MAP_BAD && (a->map[off] & SWAP_COUNT_MASK);
	spin_unlock_irqrestore(&swap_lock, f);
	return any;
}

/* swapoff's work; see swap_priv.h. Every mm is searched until no PTE holds an entry of the
 * area; entries a fork copies meanwhile are found by the next pass. */
int swap_unuse_area(unsigned type)
{
	struct unuse *u = kmalloc(sizeof(*u));
	int err = 0;

	if (!u)
		return -ENOMEM;
	u->type = type;
	for (unsigned pass = 0; !err && area_has_ptes(type); pass++) {
		if (pass == 8) {
			err =
			    -EBUSY; /* forks keep copying entries faster than we bring them back */
			break;
		}
		err = vm_for_each_mm(unuse_mm, u);
	}
	kfree(u);
	return err;
}
