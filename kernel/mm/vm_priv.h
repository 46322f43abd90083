/* Private to kernel/mm's address-space code (vm.c, vm_fault.c, vm_fork.c, vma_tree.c): the VMA
 * tree, user-frame references, PTE installation and the encoding of
 * poison markers. Host tests include it to check invariants. */
#pragma once
#include "frame.h"
#include "rmap.h"
#include "spinlock.h"
#include "swap.h"
#include "vm.h"

/* Poison marker in a non-present PTE: the poisoned frame number above three bits, POISON,
 * TOLD and HUGE. TOLD says the address space's owner has been told about this page
 * (BUS_MCEERR_AO, or BUS_MCEERR_AR when it touched it), so that memory_failure tells it once
 * only. HUGE marks each 4 KiB page of a hugetlb page lost whole (vm.memory_failure_hugetlb_whole,
 * Linux's behaviour): a touch is told with si_addr_lsb 21. arch_pt_set_marker accepts
 * 1 .. 2^50-1, so pfns below 2^47 fit. */
#define VM_MARKER_TYPE_BITS 3
#define VM_MARKER_TYPE_MASK ((1ull << VM_MARKER_TYPE_BITS) - 1)
#define VM_MARKER_POISON 1ull
#define VM_MARKER_TOLD 2ull
#define VM_MARKER_HUGE 4ull

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
/* A swap entry in a PTE (include/swap.h): the entry above the type bits, POISON clear. An entry
 * is never 0, so neither is its marker; entries below 2^47 fit. */
static inline uint64_t vm_swap_marker(swp_entry_t e) { return e << VM_MARKER_TYPE_BITS; }
static inline bool vm_marker_is_swap(uint64_t m) { return m && !vm_marker_is_poison(m); }
static inline swp_entry_t vm_marker_swap(uint64_t m) { return m >> VM_MARKER_TYPE_BITS; }

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
/* Make VMA boundaries at start and end (each inside a VMA is cut there): 0 or -ENOMEM. And
 * after the VMAs of [start, end) changed, make neighbours that became equal one again (Linux's
 * vma_merge). mm->lock held. */
int vm_split_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);
void vm_merge_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);
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
/* vm_fault with mm->lock held and va page-aligned; -EAGAIN for a file page that must be read
 * from its disk first (vm_fault does so with the lock dropped, then tries again). */
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
/* Call fn(mm, arg) for every live address space without a lock held (fn may sleep; swapoff);
 * stops at fn's first non-zero value. Process context. */
int vm_for_each_mm(int (*fn)(struct mm *mm, void *arg), void *arg);
/* Anchor the 512 fresh frames at pg in v's anon_vma for one huge entry at base, each with
 * mapcount 1; false when one was poisoned or armed by the poison emulator meanwhile (then
 * give them back with thp_run_drop). */
bool thp_run_prepare(struct page *pg, struct vma *v, vaddr_t base);
/* Give back the frames of a run that no entry maps (each holds its one reference). */
void thp_run_drop(struct page *pg);

/* ---- hugetlb pages (hugetlb.c: the pool; hugetlb_map.c: mappings; mm->lock held unless
 * said) ---- */
#define HUGETLB_RUN_ORDER (PT_HUGE_SHIFT - PAGE_SHIFT)
#define HUGETLB_RUN_PAGES (1u << HUGETLB_RUN_ORDER)
/* vm.memory_failure_hugetlb_whole: lose a hugetlb page whole, as Linux 6.1 does. */
extern int sysctl_memory_failure_hugetlb_whole;
/* Reserve n free runs of the pool for a mapping: 0, or -ENOMEM when the free runs not yet
 * reserved are fewer. Takes the pool lock. */
int hugetlb_reserve(uint64_t n);
/* Give back n reservations a mapping did not use. */
void hugetlb_unreserve(uint64_t n);
/* A free run as 512 single frames with refcount 1 (PG_HUGETLB), consuming a reservation when
 * reserved, else only one nobody reserved; NULL when there is none. Contents not cleared. */
struct page *hugetlb_run_alloc(bool reserved);
/* Whether pg's run is still whole in the pool's eyes (no memory error took it). Any context
 * but #MC/NMI. */
bool hugetlb_run_intact(const struct page *pg);
/* The last reference on a PG_HUGETLB frame went and its rmap anchor is dropped: the frame
 * waits for the rest of its run (which then goes back to the pool), or, in a run a memory
 * error took, goes back to the buddy allocator now. */
void hugetlb_frame_free(struct page *pg);
/* A memory error hit frame pfn of a run: the run leaves the pool for good (include/hugetlb.h
 * says how the counters change). Returns 0 for a free run (dissolved: its good frames are
 * back in the buddy allocator), 1 for a run in use (from now on each frame goes back on its own
 * when freed, and faults map it 4 KiB at a time), 2 for a run an earlier error took, -ENOENT
 * when pfn is in no run. Process context. */
int hugetlb_mf_take(pfn_t pfn);
void hugetlb_obj_get(struct hugetlb_obj *o);
/* If pg's run fills a slot of a hugetlb object, the slot lets it go (its references with it).
 * The caller holds a reference on pg. Process context, no lock held. */
void hugetlb_obj_drop_run(struct page *pg);
/* vm_check: add one to held[pfn] for each frame a hugetlb object's slot holds. 0, or -EBUSY
 * when a lock it needs is held (a stopped CPU was changing it). Every other CPU still. */
int hugetlb_count_held(uint16_t *held);
/* Reserve those of slots [first, first + n) of o that have no run and no reservation yet.
 * 0 or -ENOMEM (nothing reserved). Takes the object's lock, then the pool's. */
int hugetlb_obj_reserve(struct hugetlb_obj *o, uint64_t first, uint64_t n);
/* Check an mmap of hugetlb pages (MAP_HUGETLB, or file->huge) as Linux does and round *len up
 * to 2 MiB: 0, -EINVAL (MAP_HUGETLB on another file, a size not supported, an unaligned
 * MAP_FIXED address or file offset), -ENOMEM (too long). */
int hugetlb_mmap_args(vaddr_t addr, uint64_t *len, unsigned flags, const struct vm_file *file,
		      uint64_t off);
/* Make new VMA v (prot, flags and file set, not in a tree) a hugetlb one of len bytes at file
 * offset off: its object, a writable mapping's extension of the file, the reservation (none
 * with MAP_NORESERVE). 0, -ENOMEM (no memory, or the pool cannot cover it). On failure
 * vma_free undoes what was done. Process context, no lock held. */
int hugetlb_vma_init(struct vma *v, uint64_t len, unsigned flags, uint64_t off);
/* The rmap object of a shared hugetlb VMA's object. */
struct rmap_object *hugetlb_vma_rmap(const struct vma *v);
/* v was split at n->start (n a copy of v above it): the private reservation is shared out,
 * the unfaulted huge pages of v's part first. */
void hugetlb_vma_split(struct vma *v, struct vma *n);
/* v goes: its reservations go back to the pool and its object reference is dropped. */
void hugetlb_vma_free(struct vma *v);
/* A fault with no entry at va in hugetlb VMA v: map its run whole, or the 4 KiB frame of a
 * run a memory error took. 0 (also: fault again), -ENOMEM, -ENXIO (SIGBUS: past the end of
 * the file, or no huge page for a fault without reservation), -EHWPOISON. */
int hugetlb_fault(struct mm *mm, struct vma *v, vaddr_t va);
/* A write fault at va on the read-only huge entry mapping pfn there in private hugetlb VMA
 * v: made writable when its frames are this entry's alone, else copied to a fresh run. 0,
 * -ENOMEM, -ENXIO (no free run for the copy: SIGBUS). */
int hugetlb_cow(struct mm *mm, struct vma *v, vaddr_t va, pfn_t pfn);

/* ---- consistency check (vm_check.c) ---- */
/* With every other CPU still (arch_run_alone): call fn(mm, arg) for every live address space,
 * its lock held, stopping at fn's first non-zero value. Returns that value, or -EBUSY when the
 * list or some address space was locked (a stopped CPU was in the middle of changing it: try
 * again later). Never waits for a lock. */
int vm_for_each_mm_still(int (*fn)(struct mm *mm, void *arg), void *arg);
