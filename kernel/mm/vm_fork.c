/* fork of an address space. The child gets a copy of every VMA, linked to the same rmap
 * anchors (its own anon_vma under the parent's, the same file: work per VMA, none
 * per page), and a copy of every PTE, a leaf table at a time: shared VMAs map the same frames
 * with the same protection; in private VMAs a writable PTE is write-protected in the parent
 * and mapped read-only in the child in the same pass, so the first write on either side breaks
 * copy-on-write (vm_fault.c). Each copied PTE raises its frame's mapcount and refcount in one
 * atomic op. A VMA with MADV_DONTFORK is left out, one with MADV_WIPEONFORK is copied empty
 * (Linux's dup_mmap). Poison markers are copied as markers: the child inherits the loss, as it
 * would have on Linux; swap entries are copied and counted once more (swap_fault.c). On failure
 * the half-built child is destroyed by mm_put, which undoes exactly
 * what was done; parent PTEs already write-protected stay so (their next write just makes them
 * writable again). */
#include "kerrno.h"
#include "kmalloc.h"
#include "vm_priv.h"

/* Copy the PTEs of v from parent to child a leaf table at a time. Both locks held. */
static int copy_ptes(struct mm *parent, struct mm *child, const struct vma *v,
		     struct pfn_batch *b)
{
	unsigned drop = (v->flags & VM_SHARED) ? 0 : PT_WRITE;
	bool wrprotected = false;
	int n = 0;

	for (vaddr_t va = v->start; va < v->end && n >= 0;) {
		n = arch_pt_copy_range(child->pt, parent->pt, &va, v->end, drop, b->pfns, b->cap,
				       &wrprotected);
		for (int i = 0; i < n; i++)
			if (b->pfns[i] & PT_PFN_HUGE)
				thp_dup(pfn_to_page(b->pfns[i] & ~PT_PFN_HUGE));
			else
				upage_dup_pte(pfn_to_page(b->pfns[i]));
	}
	if (wrprotected)
		arch_pt_flush(parent->pt, v->start, (v->end - v->start) >> PAGE_SHIFT);
	if (swap_active()) /* count the swap entries copied, all of them even after a failure */
		swap_fork_range_locked(child, v->start, v->end);
	return n < 0 ? n : 0;
}

/* Copy VMA v of parent, and its PTEs, into child. Both locks held. */
static int fork_vma(struct mm *parent, struct mm *child, const struct vma *v,
		    struct pfn_batch *b)
{
	struct vma *n = kmalloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	*n = *v;
	n->mm = child;
	n->huge_resv = 0; /* a child owns no hugetlb reservation, as on Linux */
	if (v->flags & VM_WIPEONFORK) { /* private anonymous: a fresh start, as a new mmap */
		vma_init(n, child, v->start, v->end, v->pgoff);
	} else if (rmap_vma_fork(n, v)) {
		kfree(n);
		return -ENOMEM;
	}
	vma_get_backing(n);
	vma_tree_insert(&child->vma_root, n);
	child->nr_vmas++;
	return (v->flags & VM_WIPEONFORK) ? 0 : copy_ptes(parent, child, v, b);
}

/* fork; see vm.h. Takes parent->lock, then the new child's. Process context. */
struct mm *mm_fork(struct mm *parent)
{
	struct mm *child = mm_create();
	struct pfn_batch b;
	int err = 0;

	if (!child)
		return NULL;
	spin_lock(&parent->lock);
	spin_lock(&child->lock); /* rmap walkers can reach the child as soon as it maps a frame */
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	child->mmap_top = parent->mmap_top;
	child->arg_start = parent->arg_start; /* /proc/PID/cmdline: the same strings */
	child->arg_end = parent->arg_end;
	child->dumpable = parent->dumpable; /* Linux's dup_mm copies the mm flags */
	pfn_batch_get(&b, USER_VA_START, USER_VA_END);
	for (struct vma *v = vma_tree_next(parent->vma_root, 0); v && !err;
	     v = vma_tree_next(parent->vma_root, v->end))
		if (!(v->flags & VM_DONTCOPY))
			err = fork_vma(parent, child, v, &b);
	pfn_batch_put(&b);
	spin_unlock(&child->lock);
	spin_unlock(&parent->lock);
	if (err) {
		mm_put(child);
		return NULL;
	}
	return child;
}
