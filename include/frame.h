/* Physical frames: one struct page per frame, a buddy allocator with per-CPU caches of
 * single frames. Frames are described by state flags; a frame is in exactly one state
 * group: reserved, free (buddy or per-CPU cache), or allocated for some kind of use.
 * Lock order: zone lock, then nothing. Per-CPU caches are touched with interrupts off. */
#pragma once
#include "list.h"
#include "types.h"

/* Page flags. The first group says who owns the frame; PG_HWPOISON may be set on top of any. */
#define PG_RESERVED BIT(0) /* never allocatable: firmware, kernel image, modules, boot data */
#define PG_BUDDY BIT(1)    /* head of a free block in the buddy lists; order in ->order */
#define PG_PCP BIT(2)      /* free, sitting in a per-CPU cache */
#define PG_KERNEL BIT(3)   /* allocated: generic kernel memory */
#define PG_PGTABLE BIT(4)  /* allocated: a page-table frame */
#define PG_USER BIT(5)     /* allocated: user memory (anonymous or file-backed) */
#define PG_SLAB BIT(6)     /* allocated: kmalloc size-class slab */
#define PG_KSTACK BIT(7)   /* allocated: a kernel stack */
#define PG_FILE BIT(8)     /* with PG_USER: a page-cache page (include/pagecache.h) */
#define PG_TAIL BIT(9)     /* part of a multi-frame block, not its head */
#define PG_ISOLATED BIT(10) /* taken out of the allocator for good (poison, frame_isolate_free) */
#define PG_DIRTY BIT(11)    /* page cache: written; no other copy of its bytes exists */
#define PG_UPTODATE BIT(12) /* page cache: holds the file's bytes */
#define PG_MOVING BIT(13)   /* with PG_USER: soft offline is copying it; no PTE may give write
			       access to it until every mapping points at the copy (vm_pte_prot) */
#define PG_SWAPCACHE BIT(14) /* with PG_USER: a private anonymous page in the swap cache; its slot
				in ->swap (include/swap.h) */
#define PG_SWAPIO BIT(15)    /* swap cache: a read or write of it is in flight; nobody maps it */
#define PG_HUGETLB BIT(19)  /* with PG_USER: a frame of a hugetlb run (kernel/mm/hugetlb.c) */
#define PG_HWPOISON BIT(16) /* memory error: never handed out again */
#define PG_SWPOISON BIT(17) /* the poison was injected by software (may be unpoisoned) */
#define PG_TRAP BIT(18)     /* the poison emulator armed a line in it: every mapping traps */

/* The owner's state bits: cleared when the frame is freed. */
#define PG_OWNER_STATE (PG_DIRTY | PG_UPTODATE | PG_SWAPCACHE | PG_SWAPIO | PG_HUGETLB)

#define PG_KIND_MASK (PG_KERNEL | PG_PGTABLE | PG_USER | PG_SLAB | PG_KSTACK | PG_FILE)
/* Every bit that says who owns a frame; the poison bits ride along untouched. */
#define PG_OWNER_MASK (PG_RESERVED | PG_BUDDY | PG_PCP | PG_KIND_MASK | PG_TAIL | PG_ISOLATED)

#define FRAME_MAX_ORDER 10 /* largest block: 2^10 frames = 4 MiB */

struct page {
	uint32_t flags;     /* PG_*; changed with atomic ops where poison may race */
	uint8_t order;      /* buddy order of a free head, or of an allocated head */
	union {
		uint8_t pcp_cpu;    /* which per-CPU cache holds it, when PG_PCP */
		uint8_t slab_class; /* PG_SLAB: kmalloc size-class index */
	};
	union {
		uint16_t slab_inuse; /* PG_SLAB: kmalloc objects handed out from this frame */
		uint16_t poison_was; /* a poisoned user frame: its PG_KIND_MASK bits when
					memory_failure met it, so /proc/kpageflags can say what it
					was after it left use (0 otherwise) */
	};
	union {
		struct {
			int32_t refcount; /* users of the frame; 1 after frame_alloc */
			int32_t mapcount; /* user page-table entries that map it */
		};
		uint64_t counts; /* both: a PTE added or removed changes them in one atomic op
				    (refcount in the low half; see PAGE_COUNTS_PTE) */
	};
	union {
		struct list_node link; /* free list, per-CPU cache, or owner's list */
		int32_t pmd_maps; /* first frame of a user 2 MiB run while huge entries map
				     the run: how many (kernel/mm/thp.c) */
	};
	void *priv;         /* owner's data (rmap anchor, slab free chain, ...) */
	uint64_t index;     /* user frame: its page index in its rmap anchor (include/rmap.h);
			       a page-cache page's anchor is its cache, so this is its file page */
	struct pagecache *mapping; /* PG_FILE: the cache holding it (NULL once removed) */
	uint64_t swap; /* PG_SWAPCACHE: its swap entry (include/swap.h); PG_DIRTY with it says the
			  swap copy is stale or not yet written */
};

/* Added to struct page.counts: one more mapcount and one more reference (little-endian). */
#define PAGE_COUNTS_PTE ((1ull << 32) | 1u)
_Static_assert(__builtin_offsetof(struct page, mapcount) ==
		       __builtin_offsetof(struct page, refcount) + 4 &&
	       __builtin_offsetof(struct page, counts) % 8 == 0 &&
	       __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "PAGE_COUNTS_PTE adds to refcount and mapcount at once");

struct frame_stats {
	uint64_t total;     /* frames described by the page array */
	uint64_t usable;    /* frames ever given to the allocator */
	uint64_t free;      /* frames free now (buddy + per-CPU caches) */
	uint64_t reserved;  /* frames never allocatable */
	uint64_t poisoned;  /* frames with PG_HWPOISON */
	uint64_t isolated;  /* frames taken out for good (PG_ISOLATED) */
	uint64_t free_by_order[FRAME_MAX_ORDER + 1]; /* free blocks of each order in the buddy lists */
};

/* Set up the allocator over map[0..npfn): every frame starts reserved. Boot only, one CPU. */
void frame_init(struct page *map, pfn_t npfn);
/* Give frames [start, end) to the allocator as free. Boot only. */
void frame_add_free_range(pfn_t start, pfn_t end);

/* Allocate 2^order contiguous frames for use `kind` (one PG_ kind flag). Returns the head
 * page with refcount 1, or NULL when no block is free. Never returns a poisoned frame.
 * Process or IRQ context; not #MC/NMI. */
struct page *frame_alloc(unsigned order, uint32_t kind);
/* Return a block from frame_alloc (same order). A poisoned frame in it is kept out for good. */
void frame_free(struct page *pg, unsigned order);

/* Turn the allocated block of 2^order frames at pg into 2^order allocated single frames of
 * the same kind, each with refcount 1 (a transparent huge page: after a split each frame goes
 * its own way). The caller owns the block. Process context. */
void frame_split_block(struct page *pg, unsigned order);
/* The reverse: 2^order allocated single frames of one kind from pg (aligned), all owned by the
 * caller, become one block again for frame_free(pg, order). Process context. */
void frame_join_block(struct page *pg, unsigned order);

/* Take a free frame out of the allocator for good (memory_failure on a free frame): it may be
 * inside a larger buddy block (the block is split around it) or in any CPU's cache.
 * Returns 0 when it was free (or already isolated) and is now isolated, -EBUSY if it is in use
 * or reserved, -EINVAL if the pfn is not described. Process or IRQ context, any CPU. */
int frame_isolate_free(pfn_t pfn);
/* Put an isolated frame back (unpoison). Returns 0, -EINVAL if it was not isolated, or
 * -EBUSY if it still has PG_HWPOISON (clear that first). Process context. */
int frame_unisolate(pfn_t pfn);

/* Move every frame in cpu's cache back to the buddy lists. Call it on that CPU, or while that
 * CPU is not allocating (offline, stopped, boot, tests): the cache list is owner-only. */
void frame_drain_cpu(unsigned cpu);

/* The allocator's bookkeeping, as frame_walk_free copies it for the audit. */
struct frame_books {
	uint64_t nr_free;			 /* frames the buddy lists say they hold */
	uint64_t nr_blocks[FRAME_MAX_ORDER + 1]; /* blocks the lists of each order say they hold */
	uint64_t pcp_count;			 /* frames the per-CPU caches say they hold */
	uint64_t pcp_lazy;			 /* of those, isolated ones not yet dropped */
	uint64_t isolated;			 /* PG_ISOLATED frames counted */
	uint64_t usable;			 /* frames ever given to the allocator */
};
/* What frame_walk_free calls: block for each free block (its head, the list's order), cached
 * for each frame on a per-CPU cache (with the CPU whose list holds it). */
struct frame_walk {
	void (*block)(struct page *head, unsigned order, void *arg);
	void (*cached)(struct page *pg, unsigned cpu, void *arg);
	void *arg;
};
/* Walk every free list and per-CPU cache and copy the allocator's counters into *books, for
 * the allocator audit (kernel/mm/frame_audit.c). Takes no lock: only with every other CPU
 * still and interrupts off (arch_run_alone), and never from the allocator's own paths. */
void frame_walk_free(const struct frame_walk *w, struct frame_books *books);

/* Register /sys/kernel/debug/mcrk/frame_audit and frame_accounting (frame_audit.c). Boot. */
void frame_audit_init(void);
/* Audit the whole allocator against the page array with every other CPU still (see
 * frame_audit.c): 0 and the number of inconsistencies found in *errors (each logged), or
 * -EBUSY / -ETIMEDOUT / -ENOMEM when it could not run. Process context, interrupts on. */
int frame_audit(uint64_t *errors);

void frame_get_stats(struct frame_stats *st);
/* Frames free now (buddy lists and per-CPU caches), read without the zone lock: a cheap
 * figure for reclaim's watermarks that may be a few frames off. Any context. */
uint64_t frame_nr_free(void);
/* The frame's /proc/kpageflags word: Linux's KPF_* bits for what the frame is, or was before
 * memory_failure took it out of use (kernel/mm/kpageflags.c). Any context but #MC. */
uint64_t frame_kpageflags(pfn_t pfn);
/* Register /proc/kpageflags. Boot, process context. */
void frame_kpageflags_init(void);
struct page *pfn_to_page(pfn_t pfn); /* NULL when pfn is not described */
pfn_t page_to_pfn(const struct page *pg);
pfn_t frame_max_pfn(void);
/* Kernel virtual address of the frame, through the direct map. */
void *page_to_virt(const struct page *pg);
struct page *virt_to_page(const void *va);

static inline bool page_poisoned(const struct page *pg)
{
	return __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_HWPOISON;
}
