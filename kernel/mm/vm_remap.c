/* mremap and msync, with Linux 6.1's argument checks in its order (mm/mremap.c, mm/msync.c).
 * mremap shrinks a mapping in place, grows it in place when the addresses above are free, or
 * moves it: the part that moves becomes one VMA, a copy of it (same backing, same offset) is
 * put at the new place, and every PTE moves there with its frame reference, rmap entry and
 * poison marker before the old range is unmapped. msync hands each shared file mapping in the
 * range to its file's sync (nothing to write back on tmpfs, but the file system decides). */
#include "kerrno.h"
#include "kmalloc.h"
#include "rmap.h"
#include "vm_priv.h"

#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MREMAP_DONTUNMAP 4
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4
#define MOVE_BATCH 32
#define TASK_SIZE (USER_VA_END - PAGE_SIZE)

struct move_batch {
	vaddr_t va[MOVE_BATCH];
	struct pte_info pi[MOVE_BATCH];
	unsigned n;
};

static int collect_pte(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct move_batch *b = arg;
	b->va[b->n] = va;
	b->pi[b->n++] = *pi;
	return b->n == MOVE_BATCH;
}

/* Move one entry from va to nva (same table). The old PTE's frame reference goes with it. */
static int move_one(struct mm *mm, vaddr_t va, vaddr_t nva, const struct pte_info *pi)
{
	struct page *pg = pi->present ? pfn_to_page(pi->pfn) : NULL;
	int err;
	if (!pi->present || !pg) {
		err = arch_pt_set_marker(mm->pt, nva, pi->marker);
		if (!err)
			arch_pt_clear(mm->pt, va);
		return err;
	}
	err = vm_install_pte(mm, nva, pg, pi->prot);
	if (err == -EHWPOISON) /* poisoned meanwhile: leave the marker its walk would leave */
		err = arch_pt_set_marker(mm->pt, nva, vm_poison_marker(pi->pfn));
	else if (!err)
		upage_get(pg); /* vm_install_pte took one; the old PTE's goes below */
	if (err)
		return err;
	arch_pt_clear(mm->pt, va);
	rmap_remove(pg, mm, va);
	upage_put(pg);
	return 0;
}

/* Move the PTEs of [start, start + len) to new_start. */
static int move_ptes(struct mm *mm, vaddr_t start, uint64_t len, vaddr_t new_start)
{
	vaddr_t cur = start, end = start + len;
	int err = 0;
	while (!err && cur < end) {
		struct move_batch b = {.n = 0};
		arch_pt_walk(mm->pt, cur, end, collect_pte, &b);
		if (!b.n)
			break;
		for (unsigned i = 0; i < b.n && !err; i++)
			err = move_one(mm, b.va[i], new_start + (b.va[i] - start), &b.pi[i]);
		cur = b.va[b.n - 1] + PAGE_SIZE;
	}
	arch_pt_flush(mm->pt, start, len >> PAGE_SHIFT);
	return err;
}

/* Move [addr, addr + old_len), one whole VMA after splitting, to new_addr as new_len bytes.
 * new range free. mm->lock held. */
static long move_vma(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len,
		     vaddr_t new_addr, bool dontunmap)
{
	int err = vm_split_range(mm, addr, addr + old_len);
	struct vma *v = err ? NULL : vma_tree_find(mm->vma_root, addr);
	struct vma *n = v ? kmalloc(sizeof(*n)) : NULL;
	if (!n)
		return err ? err : -ENOMEM;
	*n = *v;
	n->start = new_addr;
	n->end = new_addr + new_len;
	n->left = n->right = NULL;
	vma_get_backing(n);
	vma_tree_insert(&mm->vma_root, n);
	mm->nr_vmas++;
	err = move_ptes(mm, addr, old_len, new_addr);
	if (err) { /* out of page-table memory: undo by moving back what moved */
		move_ptes(mm, new_addr, old_len, addr);
		vm_zap_range_locked(mm, new_addr, new_addr + new_len);
		vma_tree_remove(&mm->vma_root, n);
		mm->nr_vmas--;
		vma_free(n);
		return err;
	}
	if (!dontunmap)
		vm_munmap_locked(mm, addr, addr + old_len);
	return (long)new_addr;
}

/* vma_to_resize: the VMA at addr may grow from old_len to new_len. */
static struct vma *resizable(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len,
			     long *err)
{
	struct vma *v = vma_tree_find(mm->vma_root, addr);
	*err = -EFAULT;
	if (!v)
		return NULL;
	*err = -EINVAL;
	if (!old_len && !(v->flags & VM_SHARED))
		return NULL; /* "duplicating" a private mapping makes no sense */
	*err = -EFAULT;
	if (old_len > v->end - addr)
		return NULL;
	*err = -EINVAL;
	if (new_len != old_len &&
	    (v->file_off >> PAGE_SHIFT) + ((addr - v->start + new_len) >> PAGE_SHIFT) <
		(v->file_off >> PAGE_SHIFT))
		return NULL;
	*err = 0;
	return v;
}

static long mremap_to(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len,
		      unsigned flags, vaddr_t new_addr)
{
	long err;
	if (new_addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len)
		return -EINVAL;
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && (err = vm_munmap_locked(mm, new_addr, new_addr + new_len)))
		return err;
	if (old_len > new_len) {
		if ((err = vm_munmap_locked(mm, addr + new_len, addr + old_len)))
			return err;
		old_len = new_len;
	}
	if (!resizable(mm, addr, old_len, new_len, &err))
		return err;
	if (!(flags & MREMAP_FIXED)) {
		new_addr = (vaddr_t)vm_find_gap(mm, new_len);
		if ((long)new_addr < 0)
			return (long)new_addr;
	} else if (new_addr < USER_VA_START) {
		return -EPERM;
	}
	return move_vma(mm, addr, old_len, new_len, new_addr, flags & MREMAP_DONTUNMAP);
}

static long mremap_locked(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len,
			  unsigned flags, vaddr_t new_addr)
{
	long err;
	if (!vma_tree_find(mm->vma_root, addr))
		return -EFAULT;
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))
		return mremap_to(mm, addr, old_len, new_len, flags, new_addr);
	if (old_len >= new_len) {
		err = old_len > new_len ? vm_munmap_locked(mm, addr + new_len, addr + old_len) : 0;
		return err ? err : (long)addr;
	}
	struct vma *v = resizable(mm, addr, old_len, new_len, &err);
	if (!v)
		return err;
	if (old_len == v->end - addr && vm_range_user(addr, new_len) &&
	    vm_range_free(mm, v->end, addr + new_len)) {
		v->end = addr + new_len; /* grow in place */
		return (long)addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	long at = vm_find_gap(mm, new_len);
	return at < 0 ? at : move_vma(mm, addr, old_len, new_len, (vaddr_t)at, false);
}

long vm_mremap(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len, unsigned flags,
	       vaddr_t new_addr)
{
	if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) && (!(flags & MREMAP_MAYMOVE) || old_len != new_len))
		return -EINVAL;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if (!new_len)
		return -EINVAL;
	spin_lock(&mm->lock);
	long r = mremap_locked(mm, addr, old_len, new_len, flags, new_addr);
	spin_unlock(&mm->lock);
	return r;
}

/* ---- msync ---- */

int vm_msync(struct mm *mm, vaddr_t start, uint64_t len, int flags)
{
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	len = (len + PAGE_SIZE - 1) & PAGE_MASK;
	vaddr_t end = start + len;
	if (end < start)
		return -ENOMEM;
	if (end == start)
		return 0;
	int err = 0, unmapped = 0;
	spin_lock(&mm->lock);
	struct vma *v = vma_tree_next(mm->vma_root, start);
	for (;;) {
		err = -ENOMEM;
		if (!v)
			break;
		if (start < v->start) {
			if (flags == MS_ASYNC)
				break;
			start = v->start;
			if (start >= end)
				break;
			unmapped = -ENOMEM;
		}
		if ((flags & MS_INVALIDATE) && (v->flags & VM_LOCKED)) {
			err = -EBUSY;
			break;
		}
		uint64_t fstart = (start - v->start) + v->file_off;
		uint64_t fend = fstart + (MIN(end, v->end) - start) - 1;
		start = v->end;
		if ((flags & MS_SYNC) && (v->flags & VM_FILE) && (v->flags & VM_SHARED)) {
			struct vm_file f = v->file;
			f.ops->get(f.file);
			spin_unlock(&mm->lock);
			err = f.ops->sync(f.file, fstart, fend);
			f.ops->put(f.file);
			if (err || start >= end)
				return err ? err : unmapped;
			spin_lock(&mm->lock);
			v = vma_tree_next(mm->vma_root, start);
		} else {
			if (start >= end) {
				err = 0;
				break;
			}
			v = vma_tree_next(mm->vma_root, v->end);
		}
	}
	spin_unlock(&mm->lock);
	return err ? err : unmapped;
}
