/* Private to kernel/mm's address-space code (vm.c, vm_fault.c, vm_fork.c, vma_tree.c): the VMA
 * tree, user-frame references, PTE installation and the encoding of
 * poison markers. Host tests include it to check invariants. */
#pragma once
#include "frame.h"
#include "rmap.h"
#include "spinlock.h"
#include "vm.h"

/* Poison marker in a non-present PTE: the poisoned frame number above two bits, POISON and
 * TOLD. TOLD says the address space's owner has been told about this page (BUS_MCEERR_AO, or
 * BUS_MCEERR_AR when it touched it), so that memory_failure tells it once only.
 * arch_pt_set_marker accepts 1 .. 2^50-1, so pfns below 2^48 (1 EiB) fit. */
#define VM_MARKER_TYPE_BITS 2
#define VM_MARKER_TYPE_MASK ((1ull << VM_MARKER_TYPE_BITS) - 1)
#define VM_MARKER_POISON 1ull
#define VM_MARKER_TOLD 2ull

static inline uint64_t vm_poison_marker(pfn_t pfn)
{
	return (pfn << VM_MARKER_TYPE_BITS) | VM_MARKER_POISON;
}
static inline bool vm_marker_is_poison(uint64_t m)
{
	return m & VM_MARKER_POISON;
}
static inline pfn_t vm_marker_pfn(uint64_t m)
{
	return m >> VM_MARKER_TYPE_BITS;
}

/* ---- VMA tree (vma_tree.c): an AVL tree keyed by start; VMAs never overlap, so a VMA's
 * start or end may be moved in place as long as it does not pass a neighbour. ---- */
/* The VMA containing addr, or NULL. */
struct vma *vma_tree_find(struct vma *root, vaddr_t addr);
/* The lowest VMA with end > addr (the one containing addr or the next above), or NULL. */
struct vma *vma_tree_next(struct vma *root, vaddr_t addr);
/* The highest VMA with start < addr, or NULL. */
struct vma *vma_tree_prev(struct vma *root, vaddr_t addr);
void vma_tree_insert(struct vma **root, struct vma *v);
void vma_tree_remove(struct vma **root, struct vma *v);
/* Set up v as a VMA of mm over [start, end) with page index pgoff, on no rmap anchor yet. */
void vma_init(struct vma *v, struct mm *mm, vaddr_t start, vaddr_t end, uint64_t pgoff);
/* Free a VMA that is no longer in a tree: unlink it from the rmap, drop its file. */
void vma_free(struct vma *v);
/* A copy of v was made: take the references its backing holds (the file, and its count of
 * writable shared mappings). */
void vma_get_backing(struct vma *v);
/* New VMA v (VM_FILE, flags and prot set) counts in its file's writable shared mappings when
 * it is VM_SHARED|VM_MAYWRITE (pc->map_writable, Linux's i_mmap_writable): 0, or -EPERM when
 * the file is sealed against writes (F_SEAL_WRITE; F_SEAL_FUTURE_WRITE refuses a writable one
 * and takes VM_MAYWRITE from a read-only one). vma_free uncounts it. */
int vma_map_writable(struct vma *v);
/* Height of the tree (tests check the balance). */
int vma_tree_height(const struct vma *root);

/* ---- user frames (vm.c) ----
 * refcount counts PTEs + a page cache's hold + temporary holders; mapcount counts PTEs. A PTE
 * added or removed changes both with one atomic add on struct page.counts. */
/* Take one more reference on a user frame. */
void upage_get(struct page *pg);
/* A reference unless the frame is already on its way out (refcount 0): false then. */
bool upage_tryget(struct page *pg);
/* Drop a reference; the last one drops its rmap anchor and frees the frame (a poisoned one
 * stays out of the allocator). */
void upage_put(struct page *pg);
/* A PTE now maps pg with a reference of its own (fork): mapcount and refcount + 1. */
static inline void upage_dup_pte(struct page *pg)
{
	__atomic_fetch_add(&pg->counts, PAGE_COUNTS_PTE, __ATOMIC_RELAXED);
}
/* A PTE that mapped pg is gone and flushed: mapcount and refcount - 1, freeing on the last. */
void upage_unmap_put(struct page *pg);
/* A COW page may become writable in place: only this PTE holds it and it is not a file page. */
bool upage_exclusive(const struct page *pg);
/* Soft offline is copying the frame to another (PG_MOVING): its mappings stay read-only and a
 * write to it waits (the fault is retried) until they point at the copy. */
static inline bool page_moving(const struct page *pg)
{
	return __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_MOVING;
}

/* A buffer for the frame numbers of one leaf table (arch range operations) over [start, end):
 * a whole frame when the range has more than a few pages and one can be had, else the small
 * array in the struct (the range then takes more calls). */
struct pfn_batch {
	pfn_t *pfns;
	unsigned cap;
	struct page *frame;
	pfn_t small[16];
};
void pfn_batch_get(struct pfn_batch *b, vaddr_t start, vaddr_t end);
void pfn_batch_put(struct pfn_batch *b);

/* ---- PTEs (mm->lock held) ---- */
/* Map pg at va with prot (mapcount + 1); pg is anchored in the rmap already. The PTE takes
 * over one frame reference the caller owns; on failure (-ENOMEM, -EHWPOISON) nothing changed
 * and the caller still owns it. */
int vm_install_pte(struct mm *mm, vaddr_t va, struct page *pg, unsigned prot);
/* Remove every PTE and marker in [start, end) a leaf table at a time, flush, then drop the
 * frames' mapcounts and references. */
void vm_zap_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);
/* The PTE protection a page gets in v: v's, without write for a COW page or a page being
 * moved by soft offline. */
unsigned vm_pte_prot(const struct vma *v, const struct page *pg);
/* The page index of va in v (its rmap anchor's index for a page v maps there). */
static inline uint64_t vma_index(const struct vma *v, vaddr_t va)
{
	return v->pgoff + ((va - v->start) >> PAGE_SHIFT);
}
/* vm_fault with mm->lock held and va page-aligned. */
int vm_fault_locked(struct mm *mm, vaddr_t va, unsigned access);

/* ---- transparent huge pages (thp.c; mm->lock held unless said) ---- */
/* Whether faults in v may map huge entries (private anonymous, policy, arch). */
bool thp_vma_allowed(const struct vma *v);
/* Map a zeroed 2 MiB run with one huge entry for a fault at va in v (nothing mapped at va).
 * 0, -ENOMEM, or -ENOENT: map a 4 KiB page instead (not allowed here, the 2 MiB leaves v,
 * something is mapped in it, or no order-9 block is free). */
int thp_fault(struct mm *mm, struct vma *v, vaddr_t va);
/* Split the huge entry covering va into 512 PTEs (counts unchanged), if there is one. */
void thp_split_locked(struct mm *mm, vaddr_t va);
/* Split the huge entries that stick out of [start, end) at either end. */
void thp_split_ends(struct mm *mm, vaddr_t start, vaddr_t end);
/* Split every huge entry that meets [start, end). */
void thp_split_range(struct mm *mm, vaddr_t start, vaddr_t end);
/* A huge entry mapping the run whose first frame is pg is gone and flushed: each frame loses
 * a mapcount and a reference; a run wholly freed goes back as one block. */
void thp_unmap_put(struct page *pg);
/* fork copied a huge entry mapping the run at pg: each frame gains a mapcount and reference. */
void thp_dup(struct page *pg);
/* A write fault at va on a read-only huge entry of private VMA v (mapping pfn at va): when
 * every frame is this entry's alone it becomes writable (true); else it is split (false) and
 * the caller breaks copy-on-write for the one 4 KiB page, as Linux 6.1 does. */
bool thp_write_fault(struct mm *mm, struct vma *v, vaddr_t va, pfn_t pfn);
/* ---- consistency check (vm_check.c) ---- */
/* With every other CPU still (arch_run_alone): call fn(mm, arg) for every live address space,
 * its lock held, stopping at fn's first non-zero value. Returns that value, or -EBUSY when the
 * list or some address space was locked (a stopped CPU was in the middle of changing it: try
 * again later). Never waits for a lock. */
int vm_for_each_mm_still(int (*fn)(struct mm *mm, void *arg), void *arg);
