/* Reverse map: from a user frame to every (address space, page address) whose PTE maps it.
 * Object-based, as Linux's since 2.6.34: a frame does not list its mappings; it is anchored in
 * the thing that knows which VMAs may map it, and carries its page index there:
 *   - private anonymous pages (and private copies of file bytes, and every COW copy): an
 *     anon_vma, at the VMA's pgoff plus the page's number in the VMA (kernel/mm/rmap_priv.h);
 *   - pages of an object that VMAs map at an index, MAP_SHARED anonymous memory and a file's
 *     page cache: that object's struct rmap_object, at the page's index in the object.
 * A walk visits the VMAs on the anchor that cover the index and keeps those whose PTE at the
 * computed address maps the frame. fork links each new VMA to its parent's anon_vmas (work per
 * VMA, none per page); a PTE changes only the frame's mapcount. docs/rmap.md tells the costs.
 *
 * Locks: see the top of kernel/mm/rmap.c. */
#pragma once
#include "list.h"
#include "spinlock.h"
#include "types.h"

struct page;
struct mm;
struct vma;

/* An object whose pages VMAs map by index (Linux's address_space and its i_mmap): a file's page
 * cache (shared anonymous memory is a shmem file too). Embed one in the object, set it up
 * with rmap_object_init, link every VMA that maps the object with rmap_object_link (the VMA
 * sets vma->pgoff to the object index of its first page), and anchor each page of the object
 * with rmap_page_set_object before the first PTE maps it. rmap_walk then finds its mappers
 * through the list. The object must outlive the VMAs linked to it (they hold a reference on
 * whatever owns it); the rmap_object itself lives on while a page is anchored in it and calls
 * release once the owner has dropped it (rmap_object_put) and the last such page is gone. */
struct rmap_object {
	spinlock_t lock;	/* vmas, and the bounds of every VMA on it */
	int32_t refcount;	/* atomic: the owner + every page anchored in it */
	struct list_node vmas;	/* struct vma.obj_link of every VMA mapping the object */
	void (*release)(struct rmap_object *obj); /* frees the object; process context */
};

/* Set up obj with one reference, the owner's. Process context. */
void rmap_object_init(struct rmap_object *obj, void (*release)(struct rmap_object *obj));
/* Drop the owner's reference: obj->release runs when no page is anchored any more. */
void rmap_object_put(struct rmap_object *obj);
/* Put v (whose pgoff is set) on obj's list, with mm->lock of v's mm held. */
void rmap_object_link(struct rmap_object *obj, struct vma *v);
/* Anchor pg (not anchored yet) at index in obj; before its first PTE. Process context. */
void rmap_page_set_object(struct page *pg, struct rmap_object *obj, uint64_t index);

/* ---- private anonymous memory (callers in kernel/mm hold mm->lock of the VMA's mm) ---- */
/* Give v an anon_vma of its own if it has none (its first private page). 0 or -ENOMEM. */
int rmap_anon_prepare(struct vma *v);
/* Anchor the new private page pg mapped at va in v (v prepared) in v's anon_vma. */
void rmap_page_set_anon(struct page *pg, struct vma *v, vaddr_t va);
/* Anchor pg, a page read back from swap that other processes of v's fork family may map
 * too, in the family's root anon_vma (Linux's rule for pages not exclusive to one VMA), unless
 * it is anchored already. v prepared. */
void rmap_page_set_anon_swapped(struct page *pg, struct vma *v, vaddr_t va);
/* Anchor new where old is anchored, at the same index (soft offline moves a page). */
void rmap_page_copy_anchor(struct page *new, const struct page *old);
/* The object pg is anchored in, or NULL (private anonymous, or not anchored). Any context. */
struct rmap_object *rmap_page_object(const struct page *pg);
/* Drop pg's anchor: its frame is being freed (its last reference went). */
void rmap_page_release(struct page *pg);

/* ---- VMAs (mm->lock of each VMA's mm held) ---- */
/* fork: link child, a copy of parent in the new address space, to the anchors of parent, and
 * give it an anon_vma of its own under parent's (or reuse one no VMA uses, as Linux does, so
 * that fork chains do not grow without end). 0, or -ENOMEM with child linked to nothing. */
int rmap_vma_fork(struct vma *child, const struct vma *parent);
/* v is cut at n->start: n, a copy of v with start and pgoff already moved up, gets v's anchors,
 * and v ends at n->start, in one step for walkers. 0, or -ENOMEM with nothing changed. */
int rmap_vma_split(struct vma *v, struct vma *n);
/* Whether VMAs a and b (a below b, adjacent) may become one as far as the rmap is concerned:
 * the same object (or none), at page indexes that follow on, and at most one of them has
 * anonymous pages, or both have the same anon_vma and chain and their page indexes follow on. */
bool rmap_vma_mergeable(const struct vma *a, const struct vma *b);
/* lo and hi (adjacent, lo below, rmap_vma_mergeable) become keep, one of the two: keep
 * covers both with the right pgoff and has the anchors; the other is left linked to nothing,
 * for the caller to free. */
void rmap_vma_merge(struct vma *lo, struct vma *hi, struct vma *keep);
/* Move v to [start, end) with pgoff (mremap), in one step for walkers. */
void rmap_vma_set_bounds(struct vma *v, vaddr_t start, vaddr_t end, uint64_t pgoff);
/* dst (a new VMA of the same space, not yet visible) gets src's anchors (mremap's move). */
int rmap_vma_copy(struct vma *dst, const struct vma *src);
/* Unlink v from every anchor (it is being freed; its PTEs are gone). */
void rmap_vma_unlink(struct vma *v);
/* Take / release the locks of v's anchors (object, then anon_vma family): while held, no walk
 * looks at v, so its PTEs can move between addresses (mremap). */
void rmap_vma_lock(const struct vma *v);
void rmap_vma_unlock(const struct vma *v);

/* ---- walks ---- */
/* Call fn(mm, va, arg) for every PTE that maps pg, under the lock of pg's anchor, in no
 * particular order; stops at and returns fn's first non-zero value, else 0. The caller holds a
 * reference on pg. Costs one step per VMA on the anchor that could map pg (those linked to its
 * anon_vma or object), never per unrelated task. fn must not take any mm->lock nor change
 * mappings (collect, then act); use mm_tryget to keep an mm. Process context, not #MC/NMI. */
int rmap_walk(struct page *pg, int (*fn)(struct mm *mm, vaddr_t va, void *arg), void *arg);
/* rmap_walk for a check that runs while every other CPU is still (arch_run_alone): -EBUSY at
 * once, instead of waiting, when pg's rmap lock is held (a stopped CPU was changing it). */
int rmap_walk_still(struct page *pg, int (*fn)(struct mm *mm, vaddr_t va, void *arg), void *arg);
/* Number of PTEs mapping pg (its mapcount). Any context. */
int rmap_count(const struct page *pg);
/* Live anon_vmas and chain entries in the whole system (tests: leak checks). Any context. */
long rmap_nr_anon_vmas(void);
long rmap_nr_avcs(void);
