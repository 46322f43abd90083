/* msync with Linux 6.1's argument checks in its order (mm/msync.c): each shared file mapping
 * in the range is handed to its file's sync (nothing to write back on tmpfs, but the file
 * system decides); MS_INVALIDATE refuses locked memory; a hole in the range is -ENOMEM after
 * the rest is done, as on Linux. */
#include "kerrno.h"
#include "vm_priv.h"

#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4

/* msync; see vm.h. Takes mm->lock, not across a file's sync. Process context. */
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
		uint64_t fstart = (v->pgoff << PAGE_SHIFT) + (start - v->start);
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
