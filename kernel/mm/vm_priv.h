/* Private to kernel/mm's address-space code (vm.c, vm_fault.c, vm_fork.c, vma_tree.c): the VMA
 * tree, shared anonymous objects, user-frame references, PTE installation and the encoding of
 * poison markers. Host tests include it to check invariants. */
#pragma once
#include "frame.h"
#include "spinlock.h"
#include "vm.h"

/* A MAP_SHARED|MAP_ANONYMOUS object: its frames by page index. Every VMA that refers to it
 * (both halves of a split, forked children) holds one reference; each filled slot holds one
 * frame reference. Slots are filled on first touch under lock and emptied only when the
 * object dies (or by vm_replace_page). */
struct vm_shm {
	int32_t refcount; /* atomic */
	spinlock_t lock;  /* pages[] */
	uint64_t npages;
	struct page *pages[];
};

/* Poison marker in a non-present PTE: the poisoned frame number above a 2-bit type.
 * arch_pt_set_marker accepts 1 .. 2^50-1, so pfns below 2^48 (1 EiB) fit. */
#define VM_MARKER_TYPE_BITS 2
#define VM_MARKER_TYPE_MASK ((1ull << VM_MARKER_TYPE_BITS) - 1)
#define VM_MARKER_POISON 1ull

static inline uint64_t vm_poison_marker(pfn_t pfn)
{
	return (pfn << VM_MARKER_TYPE_BITS) | VM_MARKER_POISON;
}
static inline bool vm_marker_is_poison(uint64_t m)
{
	return (m & VM_MARKER_TYPE_MASK) == VM_MARKER_POISON;
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
/* Free a VMA that is no longer in a tree (drops its shared object or file, if any). */
void vma_free(struct vma *v);
/* A copy of v was made: take the references its backing holds (shared object, file). */
void vma_get_backing(struct vma *v);
/* Height of the tree (tests check the balance). */
int vma_tree_height(const struct vma *root);

/* ---- user frames (vm.c) ---- */
/* Take one more reference on a user frame. */
void upage_get(struct page *pg);
/* Drop a reference; the last one frees the frame (a poisoned one stays out of the allocator). */
void upage_put(struct page *pg);
/* A COW page may become writable in place: only this PTE holds it and it is not a file page. */
bool upage_exclusive(const struct page *pg);

/* ---- shared anonymous objects (vm.c) ---- */
struct vm_shm *shm_create(uint64_t npages);
void shm_get(struct vm_shm *s);
void shm_put(struct vm_shm *s);
/* The frame in slot idx (allocated zero-filled on first use) with a new reference for the
 * caller, or NULL when out of memory. */
struct page *shm_page(struct vm_shm *s, uint64_t idx);

/* ---- layout helpers (vm_map.c; mm->lock held) ---- */
/* [start, start + len) lies in user space. */
bool vm_range_user(vaddr_t start, uint64_t len);
/* No VMA overlaps [start, end). */
bool vm_range_free(struct mm *mm, vaddr_t start, vaddr_t end);
/* Split the VMAs that straddle start or end. 0 or -ENOMEM. */
int vm_split_range(struct mm *mm, vaddr_t start, vaddr_t end);
/* Unmap [start, end) (page-aligned). 0 or -ENOMEM. */
int vm_munmap_locked(struct mm *mm, vaddr_t start, vaddr_t end);
/* Put v (overlapping nothing) in the tree, merged with equal anonymous neighbours. */
void vm_insert_locked(struct mm *mm, struct vma *v);
/* The highest free range of len bytes below mm->mmap_top, or -ENOMEM. */
long vm_find_gap(struct mm *mm, uint64_t len);

/* ---- PTEs (mm->lock held) ---- */
/* Map pg at va with prot and record it in the rmap. The PTE takes over one frame reference
 * the caller owns; on failure (-ENOMEM) nothing changed and the caller still owns it. */
int vm_install_pte(struct mm *mm, vaddr_t va, struct page *pg, unsigned prot);
/* Remove every PTE and marker in [start, end), flush, drop the rmap entries and references. */
void vm_zap_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);
/* The PTE protection a page gets in v: v's, without write for a COW page. */
unsigned vm_pte_prot(const struct vma *v, const struct page *pg);
/* vm_fault with mm->lock held and va page-aligned. */
int vm_fault_locked(struct mm *mm, vaddr_t va, unsigned access);
