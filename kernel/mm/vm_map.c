/* Changing the layout of an address space: mmap, munmap, mprotect, mlock, mremap and brk. A
 * range operation first splits the VMAs that straddle its ends, so it then works on whole
 * VMAs. Adjacent VMAs with equal protection, flags and backing are merged when a mapping is
 * added (top-down mmap and brk keep growing one VMA) and after mprotect and mlock, as Linux's
 * vma_merge does, if the reverse map allows it (their page indexes follow on).
 * mremap moves PTEs, never pages: a moved VMA keeps its page indexes (pgoff), so the rmap
 * anchors of its pages stay right; a file mapping moved or grown keeps its file.
 * Every function takes mm->lock itself; placement searches top-down from mm->mmap_top. */
#include "hugetlb.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "pagecache.h"
#include "vm_priv.h"

#define PT_ALL (PT_READ | PT_WRITE | PT_EXEC)
/* mmap flags we accept (others get -EINVAL). */
#define MAP_KNOWN                                                                                  \
	(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE |   \
	 MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |                    \
	 MAP_FIXED_NOREPLACE | MAP_HUGETLB | (MAP_HUGE_MASK << MAP_HUGE_SHIFT))

static bool range_user(vaddr_t start, uint64_t len)
{
	return start >= USER_VA_START && start < USER_VA_END && len <= USER_VA_END - start;
}

static bool range_free(struct mm *mm, vaddr_t start, vaddr_t end)
{
	struct vma *n = vma_tree_next(mm->vma_root, start);

	return !n || n->start >= end;
}

/* Cut v (start < at < end) in two; the upper half is a new VMA. 0 or -ENOMEM. */
static int split_at(struct mm *mm, struct vma *v, vaddr_t at)
{
	struct vma *n = kmalloc(sizeof(*n));

	if ((v->flags & VM_HUGETLB) && !IS_ALIGNED(at, HUGETLB_SIZE))
		return -EINVAL; /* Linux's hugetlb_vm_op_split */
	if (!n)
		return -ENOMEM;
	if (!IS_ALIGNED(at, PT_HUGE_SIZE))
		thp_split_locked(mm, at); /* a huge entry lies inside one VMA */
	*n = *v;
	n->start = at;
	n->pgoff += (at - v->start) >> PAGE_SHIFT;
	if (rmap_vma_split(v, n)) { /* n gets v's anchors, v ends at at */
		kfree(n);
		return -ENOMEM;
	}
	vma_get_backing(n);
	if (v->flags & VM_HUGETLB)
		hugetlb_vma_split(v, n);
	vma_tree_insert(&mm->vma_root, n);
	mm->nr_vmas++;
	return 0;
}

/* Make VMA boundaries at start and end. */
static int split_range(struct mm *mm, vaddr_t start, vaddr_t end)
{
	struct vma *v = vma_tree_find(mm->vma_root, start);
	int err = 0;

	if (v && v->start < start)
		err = split_at(mm, v, start);
	v = vma_tree_find(mm->vma_root, end);
	if (!err && v && v->start < end)
		err = split_at(mm, v, end);
	return err;
}

static int munmap_locked(struct mm *mm, vaddr_t start, vaddr_t end)
{
	struct vma *v;
	int err = split_range(mm, start, end);

	if (err)
		return err;
	while ((v = vma_tree_next(mm->vma_root, start)) != NULL && v->start < end) {
		vm_zap_range_locked(mm, v->start, v->end);
		vma_tree_remove(&mm->vma_root, v);
		mm->nr_vmas--;
		vma_free(v);
	}
	return 0;
}

/* a and b (a just below b) can be one VMA: the same protection, flags and backing (the same
 * open file, continuing across the boundary: rmap_vma_mergeable). */
static bool can_merge(const struct vma *a, const struct vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->flags == b->flags &&
	       !(a->flags & VM_HUGETLB) && /* each keeps its reservation and object */
	       a->file.file == b->file.file && rmap_vma_mergeable(a, b);
}

/* v and n (just above it, can_merge) become v. */
static void merge_next(struct mm *mm, struct vma *v, struct vma *n)
{
	vma_tree_remove(&mm->vma_root, n);
	mm->nr_vmas--;
	rmap_vma_merge(v, n, v);
	vma_free(n);
}

/* Put v (not overlapping anything) in the tree, merged with equal neighbours. */
static void insert_locked(struct mm *mm, struct vma *v)
{
	struct vma *p = vma_tree_prev(mm->vma_root, v->start);
	struct vma *n = vma_tree_next(mm->vma_root, v->end);

	if (p && can_merge(p, v)) {
		rmap_vma_merge(p, v, p);
		vma_free(v);
		v = p;
	} else {
		vma_tree_insert(&mm->vma_root, v);
		mm->nr_vmas++;
	}
	if (n && can_merge(v, n))
		merge_next(mm, v, n);
}

/* A VMA of mm for [start, end), page index pgoff, linked to nothing yet. */
void vma_init(struct vma *v, struct mm *mm, vaddr_t start, vaddr_t end, uint64_t pgoff)
{
	v->mm = mm;
	v->start = start;
	v->end = end;
	v->pgoff = pgoff;
	v->anon_vma = NULL;
	list_init(&v->anon_chain);
	v->obj = NULL;
}

static int mmap_check(uint64_t len, unsigned prot, unsigned flags, const struct vm_file *file,
		      uint64_t off)
{
	unsigned type = flags & MAP_TYPE;
	bool anon = flags & MAP_ANONYMOUS;

	if (!len || (prot & ~PT_ALL) || (flags & ~MAP_KNOWN))
		return -EINVAL;
	if (type != MAP_SHARED && type != MAP_PRIVATE)
		return -EINVAL;
	if (anon == (file != NULL) || !IS_ALIGNED(off, PAGE_SIZE) || off + len < off)
		return -EINVAL;
	if (!file)
		return 0;
	if (type == MAP_SHARED && (prot & PT_WRITE) && !(file->mode & VM_FILE_WRITE))
		return -EACCES;
	if (!(file->mode & VM_FILE_READ))
		return -EACCES;
	return file->pc || file->huge ? 0 : -ENODEV;
}

static struct vma *vma_new(unsigned prot, unsigned flags, const struct vm_file *file, int *err)
{
	struct vma *v = kzalloc(sizeof(*v));

	*err = -ENOMEM;
	if (!v)
		return NULL;
	v->prot = prot;
	v->flags = (flags & MAP_LOCKED ? VM_LOCKED : 0) | (flags & MAP_STACK ? VM_STACK : 0) |
		   (flags & MAP_GROWSDOWN ? VM_GROWSDOWN | VM_STACK : 0);
	if ((flags & MAP_TYPE) == MAP_SHARED)
		v->flags |= VM_SHARED;
	if (!(v->flags & VM_SHARED) || !file || (file->mode & VM_FILE_WRITE))
		v->flags |= VM_MAYWRITE;
	if (!file) {
		v->flags |= VM_ANON;
		return v;
	}
	v->flags |= VM_FILE;
	v->file = *file;
	*err = file->pc ? vma_map_writable(v) : 0; /* a sealed file refuses: -EPERM */
	if (*err) {
		kfree(v);
		return NULL;
	}
	file->ops->get(file->file);
	return v;
}

/* Top-down search for len free bytes below mm->mmap_top, at an address that is a multiple of
 * align. */
static long find_gap(struct mm *mm, uint64_t len, uint64_t align)
{
	vaddr_t end = mm->mmap_top;

	for (;;) {
		if (end < USER_VA_START || end - USER_VA_START < len ||
		    ALIGN_DOWN(end - len, align) < USER_VA_START)
			return -ENOMEM;
		vaddr_t addr = ALIGN_DOWN(end - len, align);
		struct vma *p = vma_tree_prev(mm->vma_root, end);
		if (!p || p->end <= addr)
			return (long)addr;
		end = p->start;
	}
}

static long place_locked(struct mm *mm, vaddr_t addr, uint64_t len, unsigned flags,
			 uint64_t align)
{
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (!IS_ALIGNED(addr, PAGE_SIZE))
			return -EINVAL;
		if (addr < USER_VA_START)
			return -EPERM;
		if (!range_user(addr, len))
			return -ENOMEM;
		if (!range_free(mm, addr, addr + len)) {
			if (flags & MAP_FIXED_NOREPLACE)
				return -EEXIST;
			int err = munmap_locked(mm, addr, addr + len);
			if (err)
				return err;
		}
		return (long)addr;
	}
	addr = ALIGN_UP(addr, align);
	if (addr && range_user(addr, len) && range_free(mm, addr, addr + len))
		return (long)addr;
	return find_gap(mm, len, align);
}

/* Fault in every page of [start, end) of v (MAP_POPULATE, MAP_LOCKED); stops when memory
 * runs out. A private writable mapping is touched for write (its copies made now), a shared
 * one for read, as Linux does: a shared file's pages are not dirtied for nothing. */
static void populate_locked(struct mm *mm, const struct vma *v, vaddr_t start, vaddr_t end)
{
	unsigned prot = v->prot;
	unsigned access = (prot & PT_WRITE) && !(v->flags & VM_SHARED) ? FAULT_WRITE : FAULT_READ;

	if (!prot)
		return;
	for (vaddr_t va = start; va < end; va += PAGE_SIZE)
		if (vm_fault_locked(mm, va, access) == -ENOMEM)
			return;
}

/* mmap; see vm.h. Takes mm->lock. Process context. */
long vm_mmap(struct mm *mm, vaddr_t addr, uint64_t len, unsigned prot, unsigned flags,
	     const struct vm_file *file, uint64_t off)
{
	bool huge = (flags & MAP_HUGETLB) || (file && file->huge);
	uint64_t align = huge ? HUGETLB_SIZE : PAGE_SIZE;
	int err = huge ? hugetlb_mmap_args(addr, &len, flags, file, off) : 0;
	struct vm_file zero;
	struct vma *v;
	long at;

	if (!err)
		err = mmap_check(len, prot, flags, file, off);
	if (err)
		return err;
	if (len > USER_VA_END)
		return -ENOMEM;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!file && !huge && (flags & MAP_TYPE) == MAP_SHARED) {
		/* Shared anonymous memory is a shmem object, as on Linux: an unlinked tmpfs file
		 * of the mapping's size (kernel/fs/shmem.c), mapped from its start. */
		err = shmem_zero_setup(len, &zero);
		if (err)
			return err;
		file = &zero;
		off = 0;
	}
	v = vma_new(prot, flags, file, &err);
	if (file == &zero)
		zero.ops->put(zero.file); /* the VMA holds its own reference */
	if (!v)
		return err;
	if (huge) {
		err = hugetlb_vma_init(v, len, flags, off);
		if (err) {
			vma_free(v);
			return err;
		}
	}
	spin_lock(&mm->lock);
	at = place_locked(mm, addr, len, flags, align);
	if (at >= 0) {
		/* A file's pages are indexed by file page, a shared hugetlb object's by slot,
		 * anonymous memory's by address (so that neighbours' indexes follow on and they can
		 * merge). */
		vma_init(v, mm, (vaddr_t)at, (vaddr_t)at + len,
			 file ? off >> PAGE_SHIFT
			      : (v->huge && (v->flags & VM_SHARED)) ? 0 : (vaddr_t)at >> PAGE_SHIFT);
		if (v->huge && (v->flags & VM_SHARED))
			rmap_object_link(hugetlb_vma_rmap(v), v);
		else if (file && !huge)
			rmap_object_link(&v->file.pc->obj, v);
		insert_locked(mm, v);
		if (flags & (MAP_LOCKED | MAP_POPULATE))
			populate_locked(mm, vma_tree_find(mm->vma_root, (vaddr_t)at), (vaddr_t)at,
					(vaddr_t)at + len);
	}
	spin_unlock(&mm->lock);
	if (at < 0)
		vma_free(v);
	return at;
}

/* munmap; see vm.h. Takes mm->lock. Process context. */
int vm_munmap(struct mm *mm, vaddr_t addr, uint64_t len)
{
	int err;

	if (!len || !IS_ALIGNED(addr, PAGE_SIZE) || len > USER_VA_END)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!range_user(addr, len))
		return -EINVAL;
	spin_lock(&mm->lock);
	err = munmap_locked(mm, addr, addr + len);
	spin_unlock(&mm->lock);
	return err;
}

/* -ENOMEM if [start, end) has a hole, -EACCES if prot adds write to a shared mapping of a
 * file not open for writing. */
static int mprotect_check(struct mm *mm, vaddr_t start, vaddr_t end, unsigned prot)
{
	vaddr_t cur = start;

	while (cur < end) {
		struct vma *v = vma_tree_find(mm->vma_root, cur);
		if (!v)
			return -ENOMEM;
		if ((prot & PT_WRITE) && !(v->flags & VM_MAYWRITE))
			return -EACCES;
		cur = v->end;
	}
	return 0;
}

struct reprot_ctx {
	struct mm *mm;
	struct vma *v;
};

static int reprotect_one(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct reprot_ctx *c = arg;
	struct page *pg;
	unsigned want;

	if (!pi->present)
		return 0; /* poison markers keep their meaning */
	pg = pfn_to_page(pi->pfn);
	want = pg ? vm_pte_prot(c->v, pg) : c->v->prot;
	if (want != pi->prot)
		arch_pt_protect(c->mm->pt, va, want);
	return 0;
}

/* After the VMAs of [start, end) changed: neighbours that now can be one become one again, as
 * Linux's vma_merge does. mm->lock held. */
static void merge_around(struct mm *mm, vaddr_t start, vaddr_t end)
{
	struct vma *v = vma_tree_prev(mm->vma_root, start);
	v = v ? v : vma_tree_next(mm->vma_root, start);
	while (v && v->start <= end) {
		struct vma *n = vma_tree_next(mm->vma_root, v->end);
		if (n && can_merge(v, n))
			merge_next(mm, v, n); /* v grew: try its new neighbour too */
		else
			v = n;
	}
}

/* mprotect; see vm.h. Takes mm->lock. Process context. */
int vm_mprotect(struct mm *mm, vaddr_t addr, uint64_t len, unsigned prot)
{
	vaddr_t end;
	int err;

	if (!IS_ALIGNED(addr, PAGE_SIZE) || (prot & ~PT_ALL))
		return -EINVAL;
	if (!len)
		return 0;
	if (len > USER_VA_END)
		return -ENOMEM;
	end = addr + ALIGN_UP(len, PAGE_SIZE);
	if (!range_user(addr, end - addr))
		return -ENOMEM;
	spin_lock(&mm->lock);
	err = mprotect_check(mm, addr, end, prot);
	if (!err)
		err = split_range(mm, addr, end);
	for (struct vma *v = vma_tree_next(mm->vma_root, addr); !err && v && v->start < end;
	     v = vma_tree_next(mm->vma_root, v->end)) {
		struct reprot_ctx c = {mm, v};
		v->prot = prot;
		arch_pt_walk(mm->pt, v->start, v->end, reprotect_one, &c);
	}
	if (!err) {
		arch_pt_flush(mm->pt, addr, (end - addr) >> PAGE_SHIFT);
		merge_around(mm, addr, end);
	}
	spin_unlock(&mm->lock);
	return err;
}

/* mlock/munlock; see vm.h. Takes mm->lock. */
int vm_mlock(struct mm *mm, vaddr_t addr, uint64_t len, bool lock)
{
	vaddr_t start = ALIGN_DOWN(addr, PAGE_SIZE), end;
	int err;

	if (!len)
		return 0;
	if (len > USER_VA_END || addr > USER_VA_END - len)
		return -ENOMEM;
	end = ALIGN_UP(addr + len, PAGE_SIZE);
	if (!range_user(start, end - start))
		return -ENOMEM;
	spin_lock(&mm->lock);
	err = mprotect_check(mm, start, end, 0); /* -ENOMEM for a hole */
	if (!err)
		err = split_range(mm, start, end);
	for (struct vma *v = vma_tree_next(mm->vma_root, start); !err && v && v->start < end;
	     v = vma_tree_next(mm->vma_root, v->end)) {
		v->flags = lock ? v->flags | VM_LOCKED : v->flags & ~(unsigned)VM_LOCKED;
		if (lock)
			populate_locked(mm, v, v->start, v->end);
	}
	if (!err)
		merge_around(mm, start, end);
	spin_unlock(&mm->lock);
	return err;
}

/* remap_file_pages; see vm.h. Linux also takes a range over several contiguous VMAs of the
 * same file; MCRK takes one VMA (-EINVAL otherwise). */
long vm_remap_file_pages(struct mm *mm, vaddr_t start, uint64_t size, unsigned prot,
			 uint64_t pgoff)
{
	start = ALIGN_DOWN(start, PAGE_SIZE);
	size = ALIGN_DOWN(size, PAGE_SIZE);
	if (prot || start + size <= start || pgoff + (size >> PAGE_SHIFT) < pgoff ||
	    pgoff >= (1ull << (64 - PAGE_SHIFT)))
		return -EINVAL;
	spin_lock(&mm->lock);
	struct vma *v = vma_tree_find(mm->vma_root, start);
	bool ok = v && (v->flags & (VM_SHARED | VM_FILE)) == (VM_SHARED | VM_FILE) &&
		  start + size <= v->end;
	struct vm_file f = ok ? v->file : (struct vm_file){0};
	unsigned vprot = ok ? v->prot : 0;
	unsigned flags = MAP_SHARED | MAP_FIXED | MAP_POPULATE | (ok && (v->flags & VM_LOCKED) ? MAP_LOCKED : 0);
	if (ok)
		f.ops->get(f.file);
	spin_unlock(&mm->lock);
	if (!ok)
		return -EINVAL;
	long r = vm_mmap(mm, start, size, vprot, flags, &f, pgoff << PAGE_SHIFT);
	f.ops->put(f.file);
	return r < 0 ? r : 0;
}

int vm_split_range_locked(struct mm *mm, vaddr_t start, vaddr_t end)
{
	return split_range(mm, start, end);
}

void vm_merge_range_locked(struct mm *mm, vaddr_t start, vaddr_t end)
{
	merge_around(mm, start, end);
}

/* Set the heap start; see vm.h. */
void vm_brk_init(struct mm *mm, vaddr_t start)
{
	spin_lock(&mm->lock);
	mm->brk_start = mm->brk = start;
	spin_unlock(&mm->lock);
}

static bool brk_grow_locked(struct mm *mm, vaddr_t old_end, vaddr_t new_end)
{
	struct vma *v;

	if (!range_free(mm, old_end, new_end))
		return false;
	v = kzalloc(sizeof(*v));
	if (!v)
		return false;
	vma_init(v, mm, old_end, new_end, old_end >> PAGE_SHIFT);
	v->prot = PT_READ | PT_WRITE;
	v->flags = VM_ANON | VM_BRK | VM_MAYWRITE;
	insert_locked(mm, v);
	return true;
}

/* brk; see vm.h. Takes mm->lock. Process context. */
vaddr_t vm_brk(struct mm *mm, vaddr_t want)
{
	vaddr_t cur, old_end, new_end;
	bool ok = true;

	spin_lock(&mm->lock);
	cur = mm->brk;
	if (!mm->brk_start || want < mm->brk_start || want > USER_VA_END - PAGE_SIZE)
		goto out;
	old_end = ALIGN_UP(cur, PAGE_SIZE);
	new_end = ALIGN_UP(want, PAGE_SIZE);
	if (new_end > old_end)
		ok = brk_grow_locked(mm, old_end, new_end);
	else if (new_end < old_end)
		ok = munmap_locked(mm, new_end, old_end) == 0;
	if (ok)
		mm->brk = cur = want;
out:
	spin_unlock(&mm->lock);
	return cur;
}

/* ---- mremap ---- */

/* Move the entry at va (in [from, from + len)) to the same offset from to. */
struct move_ctx {
	struct arch_pt *pt;
	vaddr_t from, to;
	vaddr_t done; /* entries below this were moved */
};

static int move_one(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct move_ctx *m = arg;
	vaddr_t dst = m->to + (va - m->from);
	int err = pi->present ? arch_pt_map(m->pt, dst, pi->pfn, pi->prot)
			      : arch_pt_set_marker(m->pt, dst, pi->marker);

	if (err)
		return err;
	arch_pt_clear(m->pt, va);
	m->done = va + PAGE_SIZE;
	return 0;
}

/* Move the PTEs and markers of [from, from + len) to [to, ...), with the locks of v's rmap
 * anchors held so that no walk sees a page at both places or at neither. On -ENOMEM (a table
 * for the new place) what moved goes back, which needs no new table. */
static int move_ptes(struct mm *mm, const struct vma *v, vaddr_t from, vaddr_t to, uint64_t len)
{
	struct move_ctx m = {mm->pt, from, to, from};
	int err;

	thp_split_range(mm, from, from + len); /* entries move a 4 KiB page at a time */
	rmap_vma_lock(v);
	err = arch_pt_walk(mm->pt, from, from + len, move_one, &m);
	if (err) {
		struct move_ctx back = {mm->pt, to, from, to};
		arch_pt_walk(mm->pt, to, to + (m.done - from), move_one, &back);
	}
	rmap_vma_unlock(v);
	arch_pt_flush(mm->pt, from, len >> PAGE_SHIFT);
	return err;
}

/* The VMA [addr, addr + old_len) lies in, after Linux's checks: -EFAULT when there is none
 * or the range runs past it, -EINVAL for a private mapping with old_len 0. */
static struct vma *resize_vma(struct mm *mm, vaddr_t addr, uint64_t old_len, long *err)
{
	struct vma *v = vma_tree_find(mm->vma_root, addr);

	*err = 0;
	if (!v || old_len > v->end - addr)
		*err = -EFAULT;
	else if (v->flags & VM_HUGETLB)
		*err = -EINVAL; /* Linux's vma_to_resize refuses hugetlb mappings */
	else if (!old_len && !(v->flags & VM_SHARED))
		*err = -EINVAL; /* "duplicating" a private mapping, which Linux refuses too */
	return *err ? NULL : v;
}

/* Move [addr, addr + old_len) of v to a new VMA [to, to + new_len) (the tail past old_len
 * new), then remove the old range. old_len 0 (shared only) maps the object twice. */
static long move_locked(struct mm *mm, struct vma *v, vaddr_t addr, uint64_t old_len,
			uint64_t new_len, vaddr_t to)
{
	struct vma *n = kmalloc(sizeof(*n));
	long err;

	if (!n)
		return -ENOMEM;
	if (old_len && (err = split_range(mm, addr, addr + old_len))) {
		kfree(n);
		return err;
	}
	v = vma_tree_find(mm->vma_root, addr); /* now exactly the old range (or the object) */
	*n = *v;
	vma_init(n, mm, to, to + new_len, vma_index(v, addr));
	if (rmap_vma_copy(n, v)) {
		kfree(n);
		return -ENOMEM;
	}
	vma_get_backing(n);
	if (old_len && (err = move_ptes(mm, v, addr, to, old_len))) {
		vma_free(n);
		return err;
	}
	if (old_len) {
		vm_zap_range_locked(mm, v->start, v->end); /* nothing is left there */
		vma_tree_remove(&mm->vma_root, v);
		mm->nr_vmas--;
		vma_free(v);
	}
	insert_locked(mm, n);
	n = vma_tree_find(mm->vma_root, to); /* n itself when it was not merged into another */
	if (n->flags & VM_LOCKED)
		populate_locked(mm, n, to + old_len, to + new_len);
	return (long)to;
}

/* MREMAP_FIXED: move to new_addr, replacing whatever is mapped there. */
static long mremap_to(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len,
		      vaddr_t new_addr)
{
	struct vma *v;
	long err;

	if (!IS_ALIGNED(new_addr, PAGE_SIZE) || new_len > USER_VA_END ||
	    new_addr > USER_VA_END - new_len)
		return -EINVAL;
	if (new_addr < USER_VA_START)
		return -EPERM;
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return -EINVAL; /* the two ranges overlap */
	if ((err = munmap_locked(mm, new_addr, new_addr + new_len)))
		return err;
	if (old_len > new_len) {
		if ((err = munmap_locked(mm, addr + new_len, addr + old_len)))
			return err;
		old_len = new_len;
	}
	v = resize_vma(mm, addr, old_len, &err);
	return v ? move_locked(mm, v, addr, old_len, new_len, new_addr) : err;
}

static long mremap_locked(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len,
			  uint64_t flags, vaddr_t new_addr)
{
	struct vma *v;
	long err;

	if (flags & MREMAP_FIXED)
		return mremap_to(mm, addr, old_len, new_len, new_addr);
	if (old_len >= new_len) { /* shrinking (or nothing): the tail goes, as munmap */
		err = old_len > new_len ? munmap_locked(mm, addr + new_len, addr + old_len) : 0;
		return err ? err : (long)addr;
	}
	v = resize_vma(mm, addr, old_len, &err);
	if (!v)
		return err;
	if (old_len && addr + old_len == v->end && range_user(addr, new_len) &&
	    range_free(mm, v->end, addr + new_len)) { /* room above: grow in place */
		vaddr_t old_end = v->end;
		rmap_vma_set_bounds(v, v->start, addr + new_len, v->pgoff);
		if (v->flags & VM_LOCKED)
			populate_locked(mm, v, old_end, v->end);
		return (long)addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	long to = find_gap(mm, new_len, PAGE_SIZE);
	return to < 0 ? to : move_locked(mm, v, addr, old_len, new_len, (vaddr_t)to);
}

/* mremap; see vm.h. Takes mm->lock. Process context. */
long vm_mremap(struct mm *mm, vaddr_t addr, uint64_t old_len, uint64_t new_len, uint64_t flags,
	       vaddr_t new_addr)
{
	long ret;

	if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED))
		return -EINVAL; /* MREMAP_DONTUNMAP included: not supported */
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (!IS_ALIGNED(addr, PAGE_SIZE) || old_len > USER_VA_END || new_len > USER_VA_END)
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if (!new_len)
		return -EINVAL;
	spin_lock(&mm->lock);
	ret = mremap_locked(mm, addr, old_len, new_len, flags, new_addr);
	spin_unlock(&mm->lock);
	return ret;
}
