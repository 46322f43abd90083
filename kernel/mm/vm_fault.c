/* Page faults on user addresses, and single-page operations for memory_failure and pagemap.
 *
 * A fault is answered in this order: no VMA -> -EFAULT; the VMA forbids the access -> -EACCES;
 * a poison marker in the PTE -> -EHWPOISON; a swap entry -> the swap cache's page (read in by
 * vm_fault without mm->lock when it is not cached: swap_fault.c); an empty PTE -> fill it
 * (zeroed frame for private anonymous memory, the page cache's page for a file page, shared
 * anonymous memory's too, as a shmem file's (past the end of the file: -ENXIO, SIGBUS), or straight an anonymous
 * copy on a private write);
 * a write to a read-only private page -> break copy-on-write (reuse the frame when this PTE is
 * its only holder and it is not a file page, else copy it). A COW source frame that is already
 * poisoned is never read by the kernel: the fault reports -EHWPOISON instead, and leaves in the
 * PTE the marker memory_failure would (marked told: the task is told by this fault). A write to
 * a frame that soft offline is copying (PG_MOVING) is retried until the PTE maps the copy. */
#include "kerrno.h"
#include "kstring.h"
#include "pagecache.h"
#include "vm_priv.h"

static bool access_allowed(unsigned prot, unsigned access)
{
	if ((access & FAULT_WRITE) && !(prot & PT_WRITE))
		return false;
	if ((access & FAULT_EXEC) && !(prot & PT_EXEC))
		return false;
	return prot != 0; /* any protection but PROT_NONE can be read on x86 */
}

/* Map a freshly allocated private frame, anchored in v's anon_vma (the PTE takes its only
 * reference; on failure the frame goes back). */
static int install_new(struct mm *mm, struct vma *v, vaddr_t va, struct page *pg, unsigned prot)
{
	int err;

	rmap_page_set_anon(pg, v, va);
	err = vm_install_pte(mm, va, pg, prot);
	if (err)
		upage_put(pg);
	return err;
}

static int fault_anon(struct mm *mm, struct vma *v, vaddr_t va)
{
	if (rmap_anon_prepare(v))
		return -ENOMEM;
	for (int tries = 0; tries < 4; tries++) {
		struct page *pg = frame_alloc(0, PG_USER);

		if (!pg)
			return -ENOMEM;
		memset(page_to_virt(pg), 0, PAGE_SIZE);
		int err = install_new(mm, v, va, pg, v->prot);
		if (err != -EHWPOISON)
			return err; /* a fresh page poisoned before it was mapped: take another */
	}
	return -ENOMEM;
}

/* Map page pg of v's file at va (index idx): read-only unless v is shared and the page is
 * dirty. The fault re-checks, with the PTE in place, that pg is still the file's page: a
 * truncate that took it out meanwhile either finds our PTE by its walk or is seen here. The PTE
 * takes the caller's reference. */
static int map_file_page(struct mm *mm, struct vma *v, vaddr_t va, uint64_t idx, struct page *pg)
{
	int err = page_poisoned(pg) ? -EHWPOISON : vm_install_pte(mm, va, pg, vm_pte_prot(v, pg));
	if (err) {
		pagecache_put(pg);
		return err;
	}
	if (!pagecache_page_current(v->file.pc, idx, pg))
		vm_zap_range_locked(mm, va, va + PAGE_SIZE); /* the next access faults again */
	return 0;
}

/* A file page: the page cache's page, mapped (read-only in a private VMA, or until it is
 * dirty in a shared one); a private write gets an anonymous copy at once. A page past the end
 * of the file, or one the file system cannot give, is -ENXIO (SIGBUS). */
static int fault_file(struct mm *mm, struct vma *v, vaddr_t va, unsigned access)
{
	uint64_t idx = vma_index(v, va);
	struct page *pg, *copy;
	int err = pagecache_get(v->file.pc, idx, PC_CREATE | PC_FAULT, &pg);
	if (err) /* -EAGAIN: on the device; vm_fault reads it in without mm->lock */
		return err == -ENOMEM || err == -EHWPOISON || err == -EAGAIN ? err : -ENXIO;
	if ((access & FAULT_WRITE) && (v->flags & VM_SHARED))
		pagecache_mark_dirty(pg);
	if (!(access & FAULT_WRITE) || (v->flags & VM_SHARED))
		return map_file_page(mm, v, va, idx, pg);
	if (page_poisoned(pg)) {
		pagecache_put(pg);
		return -EHWPOISON;
	}
	copy = rmap_anon_prepare(v) ? NULL : frame_alloc(0, PG_USER); /* the copy is v's own */
	if (copy)
		memcpy(page_to_virt(copy), page_to_virt(pg), PAGE_SIZE);
	pagecache_put(pg);
	return copy ? install_new(mm, v, va, copy, v->prot) : -ENOMEM;
}

/* The PTE at va maps old, which memory_failure has poisoned but not yet unmapped from mm, and
 * the task touched it: leave the marker memory_failure would leave, marked told since the
 * caller's -EHWPOISON tells the task now (its walk then finds the marker and signals no
 * more). mm->lock held. */
static int poison_in_place(struct mm *mm, vaddr_t va, struct page *old)
{
	arch_pt_set_marker(mm->pt, va, vm_poison_marker(page_to_pfn(old)) | VM_MARKER_TOLD);
	arch_pt_flush(mm->pt, va, 1);
	upage_unmap_put(old);
	return -EHWPOISON;
}

/* Write to a present read-only page of a private VMA that allows writing. */
static int cow_break(struct mm *mm, struct vma *v, vaddr_t va, struct page *old)
{
	struct page *new;
	int err;

	if (upage_exclusive(old)) {
		if (old->flags & PG_SWAPCACHE) /* written in place: its swap copy is stale */
			__atomic_fetch_or(&old->flags, PG_DIRTY, __ATOMIC_RELEASE);
		arch_pt_protect(mm->pt, va, v->prot);
		arch_pt_flush(mm->pt, va, 1);
		return 0;
	}
	if (page_poisoned(old))
		return poison_in_place(mm, va, old);
	if (rmap_anon_prepare(v))
		return -ENOMEM;
	err = -EHWPOISON;
	for (int tries = 0; tries < 4 && err == -EHWPOISON; tries++) {
		new = frame_alloc(0, PG_USER);
		if (!new)
			return -ENOMEM;
		memcpy(page_to_virt(new), page_to_virt(old), PAGE_SIZE);
		err = install_new(mm, v, va, new, v->prot); /* poisoned before mapped: another */
	}
	if (err)
		return err == -EHWPOISON ? -ENOMEM : err;
	arch_pt_flush(mm->pt, va, 1); /* no CPU may write old through a stale entry any more */
	upage_unmap_put(old);
	return 0;
}

/* The PTE at va is present but lacks a right the VMA grants. */
static int fault_present(struct mm *mm, struct vma *v, vaddr_t va, const struct pte_info *pi,
			 unsigned access)
{
	unsigned need = access & (FAULT_WRITE | FAULT_EXEC);
	struct page *pg = pfn_to_page(pi->pfn);

	if ((pi->prot & need) == need)
		return 0; /* stale TLB entry: already fixed */
	if (!pg)
		return -EFAULT;
	if ((need & FAULT_WRITE) && page_moving(pg))
		return 0; /* soft offline is copying it: retry until the PTE maps the copy */
	if ((need & FAULT_WRITE) && !(v->flags & VM_SHARED))
		return cow_break(mm, v, va, pg);
	if ((need & FAULT_WRITE) && (v->flags & VM_FILE))
		pagecache_mark_dirty(pg); /* the first write to a clean page of a shared mapping */
	arch_pt_protect(mm->pt, va, vm_pte_prot(v, pg));
	arch_pt_flush(mm->pt, va, 1);
	return 0;
}

/* vm_fault with mm->lock held and va page-aligned; see vm_priv.h. */
int vm_fault_locked(struct mm *mm, vaddr_t va, unsigned access)
{
	struct vma *v = vma_tree_find(mm->vma_root, va);
	struct pte_info pi;

	if (!v)
		return -EFAULT;
	if (!access_allowed(v->prot, access))
		return -EACCES;
	if (arch_pt_get(mm->pt, va, &pi) == 0) {
		if (!pi.present && vm_marker_is_swap(pi.marker))
			return swap_fault_locked(mm, v, va, vm_marker_swap(pi.marker), access);
		if (!pi.present)
			return vm_marker_is_poison(pi.marker) ? -EHWPOISON : -EFAULT;
		if (pi.huge && (access & FAULT_WRITE) && !(pi.prot & PT_WRITE) &&
		    !(v->flags & VM_SHARED)) {
			if (v->flags & VM_HUGETLB)
				return hugetlb_cow(mm, v, va, pi.pfn);
			if (thp_write_fault(mm, v, va, pi.pfn))
				return 0;
			arch_pt_get(mm->pt, va, &pi); /* split: copy-on-write of 4 KiB below */
		}
		return fault_present(mm, v, va, &pi, access);
	}
	if (v->flags & VM_HUGETLB)
		return hugetlb_fault(mm, v, va);
	if (v->flags & VM_FILE)
		return fault_file(mm, v, va, access);
	int err = thp_fault(mm, v, va);
	return err == -ENOENT ? fault_anon(mm, v, va) : err;
}

/* The swap entry at va, or 0. mm->lock held. */
static swp_entry_t swap_entry_at(struct mm *mm, vaddr_t va)
{
	struct pte_info pi;

	if (arch_pt_get(mm->pt, va, &pi) || pi.present || !vm_marker_is_swap(pi.marker))
		return 0;
	return vm_marker_swap(pi.marker);
}

/* Faults that failed for memory try again while reclaim frees some: other tasks may take
 * what it freed before this one retries, so one round is not enough under pressure. */
#define FAULT_RECLAIM_TRIES 256

/* What vm_fault_locked could not do with mm->lock held: read a page from swap (-EAGAIN), or
 * reclaim after -ENOMEM. 0 when the fault should be tried again, else ret. */
static int fault_sleep(int ret, swp_entry_t e, int tries)
{
	struct page *pg;

	if (ret == -EAGAIN) {
		if (!e) /* the entry went meanwhile: look again, a few times */
			return tries < FAULT_RECLAIM_TRIES ? 0 : -ENOMEM;
		ret = swap_cache_readin(e, &pg);
		if (ret == 0)
			upage_put(pg); /* it is cached: the next try maps it */
		if (ret == 0 || ret == -ENOENT)
			return 0;
		if (ret != -ENOMEM)
			return ret == -EIO ? -ENXIO : ret; /* a read error is SIGBUS, as on Linux */
	}
	return tries < FAULT_RECLAIM_TRIES && swap_reclaim_wait() ? 0 : ret;
}

/* The file page at va must come from the device first: a reference on the file of the VMA
 * there (*vf) and the page's index, so the read can go on without mm->lock. mm->lock held.
 * -EAGAIN (read it, then fault again), or -EFAULT when the VMA went. */
static int hold_file_page(struct mm *mm, vaddr_t va, struct vm_file *vf, uint64_t *idx)
{
	struct vma *v = vma_tree_find(mm->vma_root, va);
	if (!v || !(v->flags & VM_FILE) || !v->file.pc)
		return -EFAULT;
	*vf = v->file;
	vf->ops->get(vf->file);
	*idx = vma_index(v, va);
	return -EAGAIN;
}

/* Page fault; see vm.h. Takes mm->lock, and drops it to read a page from swap or a file page
 * from its device, or to reclaim (the fault is then tried again). Process context. */
int vm_fault(struct mm *mm, vaddr_t va, unsigned access, bool user)
{
	int ret;

	(void)user; /* user and kernel (user-copy) faults get the same answers */
	if (va < USER_VA_START || va >= USER_VA_END)
		return -EFAULT;
	va = ALIGN_DOWN(va, PAGE_SIZE);
	for (int tries = 0;; tries++) {
		swp_entry_t e = 0;
		struct vm_file vf;
		uint64_t idx = 0;
		bool file = false;

		spin_lock(&mm->lock);
		ret = vm_fault_locked(mm, va, access);
		if (ret == -EAGAIN) { /* a page to read: from swap, or a file page from its device */
			e = swap_entry_at(mm, va);
			file = !e && hold_file_page(mm, va, &vf, &idx) == -EAGAIN;
		}
		spin_unlock(&mm->lock);
		if (file) {
			ret = pagecache_fill(vf.pc, idx);
			vf.ops->put(vf.file);
			if (!ret)
				continue;
			if (ret != -ENOMEM) {
				ret = -ENXIO; /* a read error: SIGBUS, as Linux */
				break;
			}
		}
		if ((ret != -EAGAIN && ret != -ENOMEM) || (ret == -ENOMEM && !swap_active()))
			break;
		int again = fault_sleep(ret, e, tries);
		if (again) {
			ret = again;
			break;
		}
	}
	swap_balance();
	return ret;
}

/* The present PTE at va if it maps pfn; else -ENOENT (1 if it is already pfn's poison marker).
 * A huge entry is split first: the callers change one 4 KiB page. */
static int pte_maps(struct mm *mm, vaddr_t va, pfn_t pfn, struct pte_info *pi)
{
	if (arch_pt_get(mm->pt, va, pi))
		return -ENOENT;
	if (pi->present && pi->huge && pi->pfn == pfn) {
		thp_split_locked(mm, va);
		if (arch_pt_get(mm->pt, va, pi))
			return -ENOENT;
	}
	if (pi->present)
		return pi->pfn == pfn ? 0 : -ENOENT;
	return vm_marker_is_poison(pi->marker) && vm_marker_pfn(pi->marker) == pfn ? 1 : -ENOENT;
}

/* Replace the PTE at va (mapping pfn) by marker, or clear it when marker is 0. */
static int unmap_one(struct mm *mm, vaddr_t va, pfn_t pfn, uint64_t marker)
{
	struct pte_info pi;
	struct page *pg = pfn_to_page(pfn);
	int ret;

	va = ALIGN_DOWN(va, PAGE_SIZE);
	spin_lock(&mm->lock);
	ret = pte_maps(mm, va, pfn, &pi);
	if (ret == 1 && !marker)
		ret = -ENOENT; /* a poison marker is not a mapping to drop */
	if (ret == 0) {
		ret = marker ? arch_pt_set_marker(mm->pt, va, marker) : arch_pt_clear(mm->pt, va);
		if (ret == 0) {
			arch_pt_flush(mm->pt, va, 1);
			if (pg)
				upage_unmap_put(pg);
		}
	}
	spin_unlock(&mm->lock);
	return ret < 0 ? ret : 0;
}

/* Leave a poison marker where va mapped pfn; see vm.h. Takes mm->lock. */
int vm_set_poison(struct mm *mm, vaddr_t va, pfn_t pfn)
{
	return unmap_one(mm, va, pfn, vm_poison_marker(pfn));
}

/* Make the PTE at va that maps pfn trap or not; see vm.h. Takes mm->lock. */
int vm_trap_page(struct mm *mm, vaddr_t va, pfn_t pfn, bool on)
{
	struct pte_info pi;
	int ret;

	va = ALIGN_DOWN(va, PAGE_SIZE);
	spin_lock(&mm->lock);
	ret = pte_maps(mm, va, pfn, &pi);
	if (ret == 0) {
		ret = arch_pt_trap(mm->pt, va, on);
		if (ret == 0)
			arch_pt_flush(mm->pt, va, 1);
	}
	spin_unlock(&mm->lock);
	return ret < 0 ? ret : 0;
}

/* Clear the PTE at va that maps pfn; see vm.h. Takes mm->lock. */
int vm_unmap_page(struct mm *mm, vaddr_t va, pfn_t pfn)
{
	return unmap_one(mm, va, pfn, 0);
}

/* Tell the owner of mm about the poisoned page at va, once; see vm.h. Takes mm->lock. */
bool vm_poison_tell(struct mm *mm, vaddr_t va, pfn_t pfn, bool always, void (*tell)(void *arg),
		    void *arg)
{
	struct pte_info pi;
	bool untold = false;

	va = ALIGN_DOWN(va, PAGE_SIZE);
	spin_lock(&mm->lock);
	if (arch_pt_get(mm->pt, va, &pi) == 0 && !pi.present && vm_marker_is_poison(pi.marker) &&
	    (pfn == VM_ANY_PFN || vm_marker_pfn(pi.marker) == pfn)) {
		untold = !(pi.marker & VM_MARKER_TOLD);
		if (untold)
			arch_pt_set_marker(mm->pt, va, pi.marker | VM_MARKER_TOLD);
	}
	if (untold || always)
		tell(arg);
	spin_unlock(&mm->lock);
	return untold;
}

/* Take write access from the PTE at va that maps pfn; see vm.h. Takes mm->lock. */
int vm_wrprotect_page(struct mm *mm, vaddr_t va, pfn_t pfn)
{
	struct pte_info pi;
	int ret;

	va = ALIGN_DOWN(va, PAGE_SIZE);
	spin_lock(&mm->lock);
	ret = pte_maps(mm, va, pfn, &pi);
	if (ret == 0 && (pi.prot & PT_WRITE)) {
		ret = arch_pt_protect(mm->pt, va, pi.prot & ~PT_WRITE);
		arch_pt_flush(mm->pt, va, 1);
	}
	spin_unlock(&mm->lock);
	return ret == 0 ? 0 : -ENOENT;
}

/* Give the PTE at va that maps pfn the protection its VMA allows, held references not
 * counted; see vm.h. Takes mm->lock. */
int vm_settle_page(struct mm *mm, vaddr_t va, pfn_t pfn, int held)
{
	struct page *pg = pfn_to_page(pfn);
	struct pte_info pi;
	struct vma *v;
	int ret;

	va = ALIGN_DOWN(va, PAGE_SIZE);
	spin_lock(&mm->lock);
	v = vma_tree_find(mm->vma_root, va);
	ret = pg && v ? pte_maps(mm, va, pfn, &pi) : -ENOENT;
	if (ret == 0) {
		unsigned prot = v->prot;
		bool alone = __atomic_load_n(&pg->refcount, __ATOMIC_ACQUIRE) - held == 1 &&
			     !(__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_FILE);

		if (!(v->flags & VM_SHARED) && !alone)
			prot &= ~PT_WRITE;
		if (prot != pi.prot) {
			ret = arch_pt_protect(mm->pt, va, prot);
			arch_pt_flush(mm->pt, va, 1);
		}
	}
	spin_unlock(&mm->lock);
	return ret == 0 ? 0 : -ENOENT;
}

static int replace_locked(struct mm *mm, vaddr_t va, struct page *old, struct page *new)
{
	struct vma *v = vma_tree_find(mm->vma_root, va);
	struct pte_info pi;
	int err;

	if (!v || pte_maps(mm, va, page_to_pfn(old), &pi) != 0)
		return -ENOENT;
	err = arch_pt_map(mm->pt, va, page_to_pfn(new), pi.prot);
	if (err)
		return err;
	upage_dup_pte(new);
	arch_pt_flush(mm->pt, va, 1);
	upage_unmap_put(old);
	return 0;
}

/* Move the mapping at va from old_pfn to new; see vm.h. Takes mm->lock. */
int vm_replace_page(struct mm *mm, vaddr_t va, pfn_t old_pfn, struct page *new)
{
	struct page *old = pfn_to_page(old_pfn);
	int err;

	if (!old || !new)
		return -ENOENT;
	spin_lock(&mm->lock);
	err = replace_locked(mm, ALIGN_DOWN(va, PAGE_SIZE), old, new);
	spin_unlock(&mm->lock);
	return err;
}

/* What va holds; see vm.h. Takes mm->lock. */
int vm_page_info(struct mm *mm, vaddr_t va, struct vm_page_info *info)
{
	struct pte_info pi;

	memset(info, 0, sizeof(*info));
	info->state = VM_PAGE_NONE;
	if (va < USER_VA_START || va >= USER_VA_END)
		return 0;
	spin_lock(&mm->lock);
	if (arch_pt_get(mm->pt, ALIGN_DOWN(va, PAGE_SIZE), &pi) == 0) {
		if (pi.present) {
			info->state = VM_PAGE_PRESENT;
			info->pfn = pi.pfn;
			info->prot = pi.prot;
		} else if (vm_marker_is_poison(pi.marker)) {
			info->state = VM_PAGE_POISON;
			info->pfn = vm_marker_pfn(pi.marker);
			info->huge = pi.marker & VM_MARKER_HUGE;
		} else {
			info->state = VM_PAGE_SWAP;
			info->swap = vm_marker_swap(pi.marker);
		}
	}
	spin_unlock(&mm->lock);
	return 0;
}
