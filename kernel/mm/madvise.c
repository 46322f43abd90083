/* madvise(2) with Linux 6.1's advice values and rules (mm/madvise.c). The range is checked
 * first (start page-aligned, length rounded up to pages, no wrap: -EINVAL; length 0: 0).
 * MADV_HWPOISON and MADV_SOFT_OFFLINE then go to memory_failure (mf_madvise), and
 * MADV_POPULATE_READ/WRITE fault the range in. Every other advice visits each VMA piece of
 * the range in turn, as Linux's madvise_walk_vmas does: a hole is skipped and reported as
 * -ENOMEM once the rest is done, and the first error a VMA gives stops the walk. An advice
 * that only changes a VMA's flags splits the VMA at the range's ends, and neighbours that
 * become equal merge again; no memory to split gives -EAGAIN, as on Linux.
 *
 * What each advice does here:
 *   NORMAL, RANDOM, SEQUENTIAL   the read-ahead hint flags (kept; nothing reads ahead)
 *   WILLNEED                     0, as Linux with swap (a hint; the pages come on fault)
 *   DONTNEED, DONTNEED_LOCKED    drop the pages (not VM_LOCKED ones, except _LOCKED; hugetlb:
 *                                from a 2 MiB-aligned start, the whole huge pages inside)
 *   FREE                         private anonymous only: dropped now (Linux may drop them
 *                                at any time until written; now is one of those times)
 *   REMOVE                       shared writable file mappings: punch the file's range
 *   DONTFORK/DOFORK              fork leaves the VMA out of the child / copies it again
 *   WIPEONFORK/KEEPONFORK        private anonymous only: the child gets zero-filled memory
 *   DONTDUMP/DODUMP              the flag (there are no core dumps yet)
 *   HUGEPAGE/NOHUGEPAGE          transparent huge pages allowed / never (kernel/mm/thp.c)
 *   COLD                         not on VM_LOCKED or hugetlb; a hint the reclaim clock does not keep
 *   PAGEOUT                      not on VM_LOCKED or hugetlb; the pages go to swap now, if it is on
 *                                (swap_pageout); a locked VMA stops it before any is written
 *   POPULATE_READ/WRITE          fault every page in: -ENOMEM at a hole, -EINVAL where the
 *                                VMA forbids the access, -EFAULT past the end of a file,
 *                                -EHWPOISON at a poisoned page, as Linux's madvise_populate
 * Not offered, -EINVAL as on a Linux built without them: MERGEABLE/UNMERGEABLE (no KSM),
 * COLLAPSE (no khugepaged). */
#include "kerrno.h"
#include "hugetlb.h"
#include "memory_failure.h"
#include "swap.h"
#include "vm.h"
#include "vm_priv.h"

/* A visit of the piece [start, end) of VMA v (mm->lock held): 0 or an error that stops. */
typedef int (*madv_visit)(struct mm *mm, struct vma *v, vaddr_t start, vaddr_t end, int advice);

/* Visit the VMA pieces of [start, end) in order under mm->lock: the first visit error, else
 * -ENOMEM if the range had a hole, else 0. */
static int walk_vmas(struct mm *mm, vaddr_t start, vaddr_t end, madv_visit visit, int advice)
{
	int unmapped = 0, err = 0;
	vaddr_t cur = start;
	spin_lock(&mm->lock);
	while (cur < end && !err) {
		struct vma *v = vma_tree_find(mm->vma_root, cur);
		if (!v) {
			unmapped = -ENOMEM;
			v = vma_tree_next(mm->vma_root, cur);
			if (!v || v->start >= end)
				break;
			cur = v->start;
		}
		vaddr_t stop = MIN(end, v->end);
		err = visit(mm, v, cur, stop, advice);
		cur = stop;
	}
	spin_unlock(&mm->lock);
	return err ? err : unmapped;
}

/* Linux's vma_is_anonymous for a private mapping: no file behind it (hugetlb pages have one). */
static bool private_anon(const struct vma *v)
{
	return !(v->flags & (VM_FILE | VM_SHARED | VM_HUGETLB));
}

/* The flags advice gives v, or -EINVAL where Linux refuses it for this kind of VMA. */
static long advised_flags(const struct vma *v, int advice)
{
	unsigned f = v->flags;
	switch (advice) {
	case MADV_NORMAL:
		return f & ~(VM_RAND_READ | VM_SEQ_READ);
	case MADV_RANDOM:
		return (f & ~VM_SEQ_READ) | VM_RAND_READ;
	case MADV_SEQUENTIAL:
		return (f & ~VM_RAND_READ) | VM_SEQ_READ;
	case MADV_DONTFORK:
		return f | VM_DONTCOPY;
	case MADV_DOFORK:
		return f & ~VM_DONTCOPY;
	case MADV_WIPEONFORK:
		return private_anon(v) ? (long)(f | VM_WIPEONFORK) : -EINVAL;
	case MADV_KEEPONFORK:
		return f & ~VM_WIPEONFORK;
	case MADV_DONTDUMP:
		return f | VM_DONTDUMP;
	case MADV_DODUMP:
		return f & ~VM_DONTDUMP;
	case MADV_HUGEPAGE:
		return (f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
	case MADV_NOHUGEPAGE:
		return (f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
	default:
		return -EINVAL;
	}
}

static int change_flags(struct mm *mm, struct vma *v, vaddr_t start, vaddr_t end, int advice)
{
	long want = advised_flags(v, advice);
	if (want < 0 || (unsigned)want == v->flags)
		return want < 0 ? (int)want : 0;
	int err = vm_split_range_locked(mm, start, end);
	if (err) /* -EINVAL: a hugetlb VMA cut off a 2 MiB boundary */
		return err == -ENOMEM ? -EAGAIN : err; /* Linux's answer when a split finds no memory */
	vma_tree_find(mm->vma_root, start)->flags = (unsigned)want;
	vm_merge_range_locked(mm, start, end);
	return 0;
}

static int drop_pages(struct mm *mm, struct vma *v, vaddr_t start, vaddr_t end, int advice)
{
	if (advice == MADV_FREE && !private_anon(v))
		return -EINVAL;
	if (advice != MADV_DONTNEED_LOCKED && (v->flags & VM_LOCKED))
		return -EINVAL; /* locked memory stays, as on Linux */
	if (v->flags & VM_HUGETLB) { /* Linux: from an aligned start, whole huge pages only */
		if (!IS_ALIGNED(start, HUGETLB_SIZE))
			return -EINVAL;
		end = ALIGN_DOWN(end, HUGETLB_SIZE); /* the stable 6.1 rule: lose no more than asked */
	}
	if (start < end)
		vm_zap_range_locked(mm, start, end);
	return 0;
}

/* COLD and PAGEOUT: Linux's can_madv_lru_vma (vm_madvise pages out afterwards). */
static int lru_hint(struct mm *mm, struct vma *v, vaddr_t start, vaddr_t end, int advice)
{
	return (v->flags & (VM_LOCKED | VM_HUGETLB)) ? -EINVAL : 0;
}

static int no_op(struct mm *mm, struct vma *v, vaddr_t start, vaddr_t end, int advice)
{
	return 0;
}

/* MADV_REMOVE: the file's range behind each VMA piece is punched, with mm->lock dropped
 * around the punch (it unmaps the range from every mapper, this one included). */
static int remove_range(struct mm *mm, vaddr_t start, vaddr_t end)
{
	int unmapped = 0;
	for (vaddr_t cur = start; cur < end;) {
		spin_lock(&mm->lock);
		struct vma *v = vma_tree_find(mm->vma_root, cur);
		if (!v) {
			v = vma_tree_next(mm->vma_root, cur);
			unmapped = -ENOMEM;
			if (!v || v->start >= end) {
				spin_unlock(&mm->lock);
				break;
			}
			cur = v->start;
		}
		vaddr_t stop = MIN(end, v->end);
		int err = (v->flags & VM_LOCKED) || !(v->flags & VM_FILE) ? -EINVAL
			  : !(v->flags & VM_SHARED) || !(v->prot & PT_WRITE) ? -EACCES
			  : !v->file.ops->punch ? -EOPNOTSUPP
										 : 0;
		struct vm_file f = v->file;
		uint64_t off = vma_index(v, cur) << PAGE_SHIFT;
		if (!err)
			f.ops->get(f.file);
		spin_unlock(&mm->lock);
		if (err)
			return err;
		err = f.ops->punch(f.file, off, stop - cur);
		f.ops->put(f.file);
		if (err)
			return err;
		cur = stop;
	}
	return unmapped;
}

/* MADV_POPULATE_READ/WRITE: Linux's madvise_populate, errors included. */
static int populate(struct mm *mm, vaddr_t start, vaddr_t end, bool write)
{
	for (vaddr_t va = start; va < end; va += PAGE_SIZE) {
		spin_lock(&mm->lock);
		struct vma *v = vma_tree_find(mm->vma_root, va);
		bool ok = v && (write ? (v->prot & PT_WRITE) : v->prot != 0);
		spin_unlock(&mm->lock);
		if (!v)
			return -ENOMEM;
		if (!ok)
			return -EINVAL; /* the VMA forbids the access (check_vma_flags) */
		int err = vm_fault(mm, va, write ? FAULT_WRITE : FAULT_READ, true);
		if (err)
			return err == -EHWPOISON ? -EHWPOISON
			       : err == -ENOMEM	 ? -ENOMEM
			       : err == -EACCES	 ? -EINVAL
						 : -EFAULT; /* past the end of a file */
	}
	return 0;
}

long vm_madvise(struct mm *mm, vaddr_t start, uint64_t len_in, int advice)
{
	static const madv_visit visits[] = {
	    [MADV_NORMAL] = change_flags,     [MADV_RANDOM] = change_flags,
	    [MADV_SEQUENTIAL] = change_flags, [MADV_WILLNEED] = no_op,
	    [MADV_DONTNEED] = drop_pages,     [MADV_FREE] = drop_pages,
	    [MADV_DONTFORK] = change_flags,   [MADV_DOFORK] = change_flags,
	    [MADV_HUGEPAGE] = change_flags,   [MADV_NOHUGEPAGE] = change_flags,
	    [MADV_DONTDUMP] = change_flags,   [MADV_DODUMP] = change_flags,
	    [MADV_WIPEONFORK] = change_flags, [MADV_KEEPONFORK] = change_flags,
	    [MADV_COLD] = lru_hint,	      [MADV_PAGEOUT] = lru_hint,
	    [MADV_DONTNEED_LOCKED] = drop_pages,
	};
	bool known = advice == MADV_REMOVE || advice == MADV_HWPOISON ||
		     advice == MADV_SOFT_OFFLINE || advice == MADV_POPULATE_READ ||
		     advice == MADV_POPULATE_WRITE ||
		     (advice >= 0 && advice < (int)ARRAY_SIZE(visits) && visits[advice]);
	if (!known || !IS_ALIGNED(start, PAGE_SIZE))
		return -EINVAL;
	uint64_t len = ALIGN_UP(len_in, PAGE_SIZE);
	if ((len_in && !len) || start + len < start)
		return -EINVAL;
	if (!len)
		return 0;
	vaddr_t end = start + len;
	switch (advice) {
	case MADV_HWPOISON:
	case MADV_SOFT_OFFLINE:
		return mf_madvise(mm, start, len_in, advice);
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
		return populate(mm, start, end, advice == MADV_POPULATE_WRITE);
	case MADV_REMOVE:
		return remove_range(mm, start, end);
	case MADV_PAGEOUT: {
		long err = walk_vmas(mm, start, end, lru_hint, advice);
		if (err != -EINVAL) /* holes are skipped, as Linux's walk skips them */
			swap_pageout(mm, start, len);
		return err;
	}
	default:
		return walk_vmas(mm, start, end, visits[advice], advice);
	}
}
