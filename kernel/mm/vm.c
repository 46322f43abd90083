/* Address-space lifetime and the pieces every mapping operation shares: creating and
 * destroying struct mm, references on user frames, a file's count of writable shared
 * mappings, installing one PTE and zapping a range a leaf table at a time (PTEs cleared, TLBs
 * flushed, then frames released, in that order, so no CPU can still write a frame that went
 * back to the allocator).
 * mmap/munmap/mprotect/mremap/brk are in vm_map.c, faults in vm_fault.c, fork in vm_fork.c. */
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "pagecache.h"
#include "printk.h"
#include "rmap.h"
#include "vm_priv.h"

static spinlock_t mm_list_lock = SPINLOCK_INIT; /* a leaf lock: nothing is taken under it */
static struct list_node mm_list = LIST_HEAD_INIT(mm_list);
static long nr_mms;

/* ---- user frames ---- */

/* One more reference on a user frame. Any context but #MC/NMI. */
void upage_get(struct page *pg)
{
	__atomic_fetch_add(&pg->refcount, 1, __ATOMIC_RELAXED);
}

/* Raise *count unless it is 0 (its object is being freed); whether it did. */
static bool inc_unless_zero(int32_t *count)
{
	int32_t old = __atomic_load_n(count, __ATOMIC_RELAXED);
	do {
		if (old <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(count, &old, old + 1, false, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

/* A reference on pg unless it is being freed. Any context but #MC/NMI. */
bool upage_tryget(struct page *pg) { return inc_unless_zero(&pg->refcount); }

/* The last reference went: drop the rmap anchor, give the frame back. */
static void upage_free(struct page *pg, int32_t left)
{
	if (left < 0 || pg->mapcount)
		pr_err("vm: pfn %#llx released with refcount %d mapcount %d\n",
		       (unsigned long long)page_to_pfn(pg), (int)left, (int)pg->mapcount);
	rmap_page_release(pg);
	if (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_HUGETLB)
		hugetlb_frame_free(pg);
	else
		frame_free(pg, 0);
}

/* Drop a reference on a user frame, freeing it on the last. Process context. */
void upage_put(struct page *pg)
{
	int32_t left = __atomic_sub_fetch(&pg->refcount, 1, __ATOMIC_ACQ_REL);

	if (left <= 0)
		upage_free(pg, left);
}

/* A PTE of pg is gone (and flushed): one atomic op for its mapcount and reference. A page
 * the swap cache alone holds now leaves it when it may (swap.h). */
void upage_unmap_put(struct page *pg)
{
	uint64_t c = __atomic_sub_fetch(&pg->counts, PAGE_COUNTS_PTE, __ATOMIC_ACQ_REL);
	int32_t left = (int32_t)(uint32_t)c;

	if (left <= 0)
		upage_free(pg, left);
	else if (left == 1 && (__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_SWAPCACHE))
		swap_cache_remove(pg, 0, false);
}

/* True when only one PTE holds pg and it is anonymous: a COW write may reuse it. A swap cache
 * page also has the cache's reference, and must have no other PTE waiting for its entry. */
bool upage_exclusive(const struct page *pg)
{
	uint32_t fl = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);

	if (fl & PG_SWAPCACHE)
		return swap_page_exclusive(pg);
	return __atomic_load_n(&pg->refcount, __ATOMIC_ACQUIRE) == 1 && !(fl & PG_FILE);
}

/* ---- PTEs ---- */

/* Map pg at va (anchored already); -EHWPOISON for a poisoned frame. mm->lock held. */
int vm_install_pte(struct mm *mm, vaddr_t va, struct page *pg, unsigned prot)
{
	int err;

	/* memory_failure poisons first and walks while the mapcount is not 0: a frame poisoned
	 * before our mapcount rose is refused here; one poisoned later is found by its walk. */
	__atomic_fetch_add(&pg->mapcount, 1, __ATOMIC_SEQ_CST);
	err = page_poisoned(pg) ? -EHWPOISON : arch_pt_map(mm->pt, va, page_to_pfn(pg), prot);
	if (err)
		__atomic_fetch_sub(&pg->mapcount, 1, __ATOMIC_RELAXED);
	return err;
}

/* PTE protection for pg in v: write for an exclusive private page or a dirty page of a
 * shared file mapping (a clean one is mapped read-only, so that the first write faults and
 * marks it dirty), and never while soft offline copies the frame (a write then would be lost
 * with the old frame). */
unsigned vm_pte_prot(const struct vma *v, const struct page *pg)
{
	unsigned prot = v->prot;
	uint32_t fl = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);

	if (!(prot & PT_WRITE))
		return prot;
	if (!(v->flags & VM_SHARED) ? !upage_exclusive(pg)
				    : (v->flags & VM_FILE) && !(fl & PG_DIRTY))
		prot &= ~PT_WRITE;
	if (page_moving(pg))
		prot &= ~PT_WRITE;
	return prot;
}

/* ---- range operations ---- */

/* A frame's worth of frame numbers for a range of more than a few pages, else the small
 * array in b (also when no frame can be had: the range is then done in more calls). */
void pfn_batch_get(struct pfn_batch *b, vaddr_t start, vaddr_t end)
{
	b->frame = (end - start) >> PAGE_SHIFT > ARRAY_SIZE(b->small) ? frame_alloc(0, PG_KERNEL)
									 : NULL;
	b->pfns = b->frame ? page_to_virt(b->frame) : b->small;
	b->cap = b->frame ? PAGE_SIZE / sizeof(pfn_t) : ARRAY_SIZE(b->small);
}

void pfn_batch_put(struct pfn_batch *b)
{
	if (b->frame)
		frame_free(b->frame, 0);
}

/* Clear [start, end) of mm's page table; see vm_priv.h. mm->lock held. */
void vm_zap_range_locked(struct mm *mm, vaddr_t start, vaddr_t end)
{
	struct pfn_batch b;
	vaddr_t va = start;

	thp_split_ends(mm, start, end); /* huge entries go whole or not at all */
	if (swap_active())
		swap_zap_range_locked(mm, start, end);
	pfn_batch_get(&b, start, end);
	while (va < end) {
		vaddr_t from = va;
		unsigned n = arch_pt_clear_range(mm->pt, &va, end, b.pfns, b.cap);
		if (!n)
			continue; /* markers only, or nothing: no TLB holds them */
		arch_pt_flush(mm->pt, from, (va - from) >> PAGE_SHIFT);
		for (unsigned i = 0; i < n; i++)
			if (b.pfns[i] & PT_PFN_HUGE)
				thp_unmap_put(pfn_to_page(b.pfns[i] & ~PT_PFN_HUGE));
			else
				upage_unmap_put(pfn_to_page(b.pfns[i]));
	}
	pfn_batch_put(&b);
}

/* ---- address spaces ---- */

/* A new empty address space; see vm.h. Process context. */
static uint64_t mm_serial; /* the last mm->serial given */

struct mm *mm_create(void)
{
	struct mm *mm = kzalloc(sizeof(*mm));

	if (!mm)
		return NULL;
	mm->pt = arch_pt_create();
	if (!mm->pt) {
		kfree(mm);
		return NULL;
	}
	spin_init(&mm->lock);
	list_init(&mm->users);
	mm->refcount = 1;
	mm->mmap_top = VM_MMAP_TOP_DEFAULT;
	mm->serial = __atomic_add_fetch(&mm_serial, 1, __ATOMIC_RELAXED);
	mm->dumpable = 1;
	spin_lock(&mm_list_lock);
	list_add_tail(&mm->all_link, &mm_list);
	nr_mms++;
	spin_unlock(&mm_list_lock);
	return mm;
}

/* Another reference on mm; see vm.h. */
void mm_get(struct mm *mm)
{
	__atomic_fetch_add(&mm->refcount, 1, __ATOMIC_RELAXED);
}

/* A reference unless mm is already dying; see vm.h. */
bool mm_tryget(struct mm *mm) { return inc_unless_zero(&mm->refcount); }

/* Free a VMA that is out of the tree (its PTEs are gone): off the rmap, its file dropped. */
void vma_free(struct vma *v)
{
	rmap_vma_unlink(v);
	if (v->flags & VM_HUGETLB)
		hugetlb_vma_free(v);
	if (v->flags & VM_FILE) {
		if (v->file.pc && (v->flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE))
			__atomic_fetch_sub(&v->file.pc->map_writable, 1, __ATOMIC_RELEASE);
		v->file.ops->put(v->file.file);
	}
	kfree(v);
}

/* A copy of v's backing is made (split, fork, mremap): take the references it holds. */
void vma_get_backing(struct vma *v)
{
	if (v->huge)
		hugetlb_obj_get(v->huge);
	if (v->flags & VM_FILE) {
		if (v->file.pc && (v->flags & (VM_SHARED | VM_MAYWRITE)) == (VM_SHARED | VM_MAYWRITE))
			__atomic_fetch_add(&v->file.pc->map_writable, 1, __ATOMIC_RELAXED);
		v->file.ops->get(v->file.file);
	}
}

/* Count new VMA v (VM_FILE, its flags set) in its file's writable shared mappings; see
 * vm_priv.h. */
int vma_map_writable(struct vma *v)
{
	struct pagecache *pc = v->file.pc;

	if ((v->flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE))
		return 0;
	if (__atomic_load_n(&pc->seal_future_write, __ATOMIC_ACQUIRE)) {
		if (v->prot & PT_WRITE)
			return -EPERM;
		v->flags &= ~VM_MAYWRITE; /* nor may mprotect make it writable later */
		return 0;
	}
	int32_t n = __atomic_load_n(&pc->map_writable, __ATOMIC_RELAXED);
	do {
		if (n < 0)
			return -EPERM; /* F_SEAL_WRITE */
	} while (!__atomic_compare_exchange_n(&pc->map_writable, &n, n + 1, false, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return 0;
}

/* Record the program exec loaded; see vm.h. */
void mm_set_exe(struct mm *mm, const struct vm_file *exe)
{
	mm->exe = *exe;
}

static void mm_destroy(struct mm *mm)
{
	struct vma *v;

	spin_lock(&mm->lock); /* rmap walkers may still be looking at mm, never at its VMAs */
	while ((v = mm->vma_root) != NULL) {
		vm_zap_range_locked(mm, v->start, v->end);
		vma_tree_remove(&mm->vma_root, v);
		vma_free(v);
	}
	mm->nr_vmas = 0;
	spin_unlock(&mm->lock);
	/* Off the list only once nothing maps through it, so that vm_check, which finds an
	 * rmap entry's address space on the list, never meets an entry of one it cannot see. */
	spin_lock(&mm_list_lock);
	list_del(&mm->all_link);
	nr_mms--;
	spin_unlock(&mm_list_lock);
	arch_pt_destroy(mm->pt);
	if (mm->exe.ops)
		mm->exe.ops->put(mm->exe.file);
	kfree(mm);
}

/* Drop a reference, destroying mm on the last; see vm.h. Process context. */
void mm_put(struct mm *mm)
{
	if (!__atomic_sub_fetch(&mm->refcount, 1, __ATOMIC_ACQ_REL))
		mm_destroy(mm);
}

/* Call fn(mm, arg) for every live address space, no lock held, each referenced meanwhile;
 * stops at fn's first non-zero value and returns it. fn may sleep. Process context. */
int vm_for_each_mm(int (*fn)(struct mm *mm, void *arg), void *arg)
{
	struct list_node *n;
	struct mm *cur = NULL;
	int ret = 0;

	spin_lock(&mm_list_lock);
	for (n = mm_list.next; n != &mm_list && !ret; n = n->next) {
		struct mm *mm = list_entry(n, struct mm, all_link);
		if (!mm_tryget(mm))
			continue;
		spin_unlock(&mm_list_lock);
		if (cur)
			mm_put(cur); /* mm, referenced, keeps our place on the list */
		cur = mm;
		ret = fn(mm, arg);
		spin_lock(&mm_list_lock);
	}
	spin_unlock(&mm_list_lock);
	if (cur)
		mm_put(cur);
	return ret;
}

/* Live address spaces. */
long vm_nr_mms(void)
{
	return __atomic_load_n(&nr_mms, __ATOMIC_RELAXED);
}

/* Visit mm's VMAs in order under mm->lock; see vm.h. */
int vm_for_each_vma(struct mm *mm, int (*fn)(const struct vma *v, void *arg), void *arg)
{
	int ret = 0;

	spin_lock(&mm->lock);
	for (struct vma *v = vma_tree_next(mm->vma_root, 0); v && !ret;
	     v = vma_tree_next(mm->vma_root, v->end))
		ret = fn(v, arg);
	spin_unlock(&mm->lock);
	return ret;
}

/* Call fn(mm, arg) for every live address space, for vm_check while every other CPU is still
 * (arch_run_alone); see vm_priv.h. */
int vm_for_each_mm_still(int (*fn)(struct mm *mm, void *arg), void *arg)
{
	struct list_node *n;
	int ret = 0;

	if (!spin_trylock(&mm_list_lock))
		return -EBUSY;
	list_for_each(n, &mm_list) {
		struct mm *mm = list_entry(n, struct mm, all_link);
		if (!spin_trylock(&mm->lock)) {
			ret = -EBUSY;
			break;
		}
		ret = fn(mm, arg);
		spin_unlock(&mm->lock);
		if (ret)
			break;
	}
	spin_unlock(&mm_list_lock);
	return ret;
}
