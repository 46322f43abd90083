/* The key of a futex shared between processes (vm_futex_key, include/vm.h): which object a
 * user word belongs to, found through its VMA, so that every address space that maps one
 * page of a MAP_SHARED object (or of a file not yet copied) waits on the same key. */
#include "kerrno.h"
#include "vm_priv.h"

/* Whether the page at va is still the file's (a PG_FILE frame, not a private copy). */
static bool file_page(struct mm *mm, vaddr_t va)
{
	struct pte_info pi;
	if (arch_pt_get(mm->pt, va, &pi) || !pi.present)
		return false;
	struct page *pg = pfn_to_page(pi.pfn);
	return pg && (pg->flags & PG_FILE);
}

int vm_futex_key(struct mm *mm, vaddr_t va, struct vm_futex_key *key)
{
	if (va < USER_VA_START || va >= USER_VA_END)
		return -EFAULT;
	vaddr_t page = ALIGN_DOWN(va, PAGE_SIZE);
	int err = vm_fault(mm, page, FAULT_READ, false); /* in from swap, if it was out */
	spin_lock(&mm->lock);
	if (!err)
		err = vm_fault_locked(mm, page, FAULT_READ); /* still there, readable, not poisoned */
	if (err == -EAGAIN) { /* out again, or a file page still on its disk: in, then look again */
		spin_unlock(&mm->lock);
		err = vm_fault(mm, page, FAULT_READ, false);
		spin_lock(&mm->lock);
		if (!err)
			err = vm_fault_locked(mm, page, FAULT_READ);
	}
	struct vma *v = err ? NULL : vma_tree_find(mm->vma_root, va);
	if (v && (v->flags & VM_FILE) && file_page(mm, page)) {
		key->object = v->file.pc; /* the inode's page cache: one per file */
		key->offset = (v->pgoff << PAGE_SHIFT) + (va - v->start);
	} else if (v) {
		key->object = mm;
		key->offset = va;
	}
	spin_unlock(&mm->lock);
	return v ? 0 : -EFAULT;
}
