/* Swap: private anonymous pages may leave memory for a swap area on a block device (made by
 * mkswap, enabled by swapon), and come back on the next touch. kernel/mm/swapfile.c owns the
 * areas and their slot maps, swap_cache.c the swap cache (the page of a slot while it is in
 * memory), swap_fault.c the PTE side (swap entries in page tables, swap-in, fork, munmap,
 * swapoff) and vmscan.c reclaim (kswapd). docs/swap.md tells the design and what Linux does.
 *
 * A swap entry names one slot: the area's index (type) in the low SWAP_TYPE_BITS and the page
 * offset in the area above, as Linux's /proc/self/pagemap shows it. Offset 0 is the header,
 * so an entry is never 0. A slot's count is the number of PTEs holding its entry, plus a
 * SWAP_HAS_CACHE flag while the swap cache holds a page for it; the slot is free at 0.
 *
 * Locks: swap_lock (a spinlock, swapfile.c) guards every area's map and cache and nests
 * inside mm->lock and the anon_vma locks; swapon/swapoff serialise on a mutex taken first. */
#pragma once
#include "types.h"

struct mm;
struct page;
struct vma;

#define SWAP_TYPE_BITS 5
#define SWAP_MAX_AREAS 8
#define SWAP_MAX_SLOTS (1u << 19) /* 2 GiB per area: the cache index fits one 4 MiB block */
#define SWAP_FLAG_PREFER 0x8000	  /* swapon flags: Linux's */
#define SWAP_FLAG_PRIO_MASK 0x7fff
#define SWAP_FLAGS_VALID 0x7ffff

typedef uint64_t swp_entry_t;

static inline swp_entry_t swp_entry(unsigned type, uint64_t offset)
{
	return (offset << SWAP_TYPE_BITS) | type;
}
static inline unsigned swp_type(swp_entry_t e)
{
	return e & ((1u << SWAP_TYPE_BITS) - 1);
}
static inline uint64_t swp_offset(swp_entry_t e)
{
	return e >> SWAP_TYPE_BITS;
}

/* ---- the header mkswap writes (page 0 of the area) ---- */
#define SWAP_MAGIC "SWAPSPACE2"
#define SWAP_MAGIC_LEN 10
#define SWAP_HEADER_VERSION 1
#define SWAP_MAX_BADPAGES 637 /* the list that fits between its start and the magic */

struct swap_header_info {
	uint64_t last_page;   /* last usable page (offset); pages 1..last_page hold data */
	uint32_t nr_badpages; /* entries of badpages used */
	uint32_t badpages[SWAP_MAX_BADPAGES];
};
/* Check the header page hdr (PAGE_SIZE bytes) of an area of dev_pages pages as Linux's swapon
 * does: magic SWAPSPACE2 at the end of the page, version 1, last_page within the device and
 * above 0, nr_badpages within the list and each bad page within last_page. 0 and *out, or
 * -EINVAL with *why saying what is wrong (for the log). Pure: any context, host-tested. */
int swap_header_parse(const void *hdr, uint64_t dev_pages, struct swap_header_info *out,
		      const char **why);

/* ---- areas (swapfile.c) ---- */
struct swap_stats {
	uint64_t total;	 /* slots in every active area (pages) */
	uint64_t free;	 /* of those, free */
	uint64_t cached; /* pages in the swap cache (SwapCached) */
};
/* Totals for /proc/meminfo. Any context but #MC/NMI. */
void swap_get_stats(struct swap_stats *st);
/* Whether any swap area is active (PTEs may hold swap entries). Any context. */
bool swap_active(void);
/* Enable the area on the block device `path` names, with Linux's swapon flags. 0, -EPERM (not
 * CAP_SYS_ADMIN), -EINVAL (bad flags, not a block device path, bad header: logged), -ENOENT
 * (no such device), -EBUSY (already an area), -EPERM for a read-only device, -ENOMEM, -EIO.
 * Process context, no lock held. */
long swap_on(const char *path, unsigned flags);
/* Disable the area on `path`: every page it holds is read back into memory first. 0,
 * -EPERM, -EINVAL (not an active area), -ENOMEM (no room for the pages: the area stays on),
 * -EIO. Process context, no lock held. */
long swap_off(const char *path);

/* Take a free slot for a page leaving memory, with SWAP_HAS_CACHE set; 0 when every area is
 * full. Takes swap_lock. */
swp_entry_t swap_slot_alloc(void);
/* One more PTE holds e (fork, unmap to swap). 0, or -ENOMEM when its count is at the
 * maximum. Takes swap_lock. */
int swap_dup(swp_entry_t e);
/* A PTE holding e is gone (munmap, exit, swap-in): drops the count; at 0 with no cached page
 * the slot is free, and a cached page nobody maps leaves the cache. Takes swap_lock. */
void swap_put(swp_entry_t e);
/* PTEs still holding e (SWAP_HAS_CACHE not counted). Takes swap_lock. */
unsigned swap_count(swp_entry_t e);
/* Read or write the page frame pfn from or to slot e: 0 or -errno (blk_rw's). Sleeps:
 * process context, no spinlock held; the caller keeps the frame referenced until it returns. */
int swap_io(swp_entry_t e, pfn_t pfn, bool write);

/* ---- the swap cache (swap_cache.c) ---- */
/* The page cached for e, referenced (upage_put), or NULL. Takes swap_lock. */
struct page *swap_cache_lookup(swp_entry_t e);
/* Put pg (referenced by the caller, PG_USER, anonymous) in the swap cache for e, whose slot
 * has SWAP_HAS_CACHE: the cache takes a reference, pg becomes PG_SWAPCACHE. Takes swap_lock. */
void swap_cache_add(struct page *pg, swp_entry_t e);
/* Take pg out of the swap cache if only the cache and the caller's `held` references hold
 * it and no PTE still holds its entry, or force it out regardless of PTEs (swapoff, a clean
 * page memory_failure drops): whether it left. The cache's reference is dropped; the slot
 * is freed when no PTE holds it. Takes swap_lock. */
bool swap_cache_remove(struct page *pg, int held, bool force);
/* The page of e in the swap cache, read from the area if it is not there, referenced; or
 * waits while another read or write of it is in flight. 0 and *out, -ENOMEM, -EIO (the read
 * failed: nothing is cached), -ENOENT (e is no longer in use). Sleeps. */
int swap_cache_readin(swp_entry_t e, struct page **out);
/* Whether pg, in the swap cache, may be written in place by the one PTE that maps it: only
 * that PTE and the cache hold it and no other PTE holds its swap entry. Any context. */
bool swap_page_exclusive(const struct page *pg);

/* ---- the PTE side (swap_fault.c) ---- */
/* Fault on the swap entry e at va in v (mm->lock held): map the cached page if it is there,
 * else -EAGAIN (vm_fault then calls swap_cache_readin without the lock and retries);
 * -EHWPOISON when the cached page is poisoned (a dirty swap cache page memory_failure kept). */
int swap_fault_locked(struct mm *mm, struct vma *v, vaddr_t va, swp_entry_t e, unsigned access);
/* Drop the swap entries of [start, end) of mm (munmap, exit): their slots' counts go down.
 * mm->lock held. */
void swap_zap_range_locked(struct mm *mm, vaddr_t start, vaddr_t end);
/* fork copied [start, end) into child, swap entries as they were: count each once more.
 * 0, or -ENOMEM. Both mm locks held. */
int swap_fork_range_locked(struct mm *child, vaddr_t start, vaddr_t end);
/* How swap_unmap_page treats pg's mappings. */
enum swap_unmap {
	SWAP_UNMAP_CHECK,   /* change nothing but the accessed bits: may it go? */
	SWAP_UNMAP_RECLAIM, /* unmap, unless a mapper has it mlocked */
	SWAP_UNMAP_ALL,	    /* unmap from every mapper, mlocked or not (memory_failure) */
};
/* Unmap pg (referenced by the caller, PG_SWAPCACHE) from every PTE, leaving its swap entry in
 * each: the number of PTEs that still map it (0 when all went), or -EBUSY when a mapper has it
 * mlocked (RECLAIM) or inside a huge entry (it stays mapped there). CHECK: 0 when it may go,
 * -EBUSY when it is mlocked or was accessed since the last check (the bits are cleared: its
 * second chance). Process context, no lock held. */
int swap_unmap_page(struct page *pg, enum swap_unmap mode);

/* Register /proc/swaps and start reclaim (kswapd). Boot, process context, after the
 * scheduler. */
void swap_init(void);

/* ---- reclaim (vmscan.c) ---- */
/* Start kswapd (boot, process context). */
void swap_reclaim_init(void);
/* Free memory ran low: wake kswapd. Process context, no spinlock held. */
void swap_balance(void);
/* An allocation for a user page failed: wait (bounded) for kswapd to free some. Whether it
 * is worth retrying. Process context, no lock held. */
bool swap_reclaim_wait(void);
/* madvise(MADV_PAGEOUT) of [addr, addr + len): push the private anonymous pages mapped there
 * out to swap now, accessed or not (mlocked ones stay). 0 (also with no swap: nothing to do,
 * as on Linux), -EINVAL (misaligned, or the range wraps). Process context, no lock held. */
long swap_pageout(struct mm *mm, vaddr_t addr, uint64_t len);
/* Push out up to n pages now, kswapd's way (the workload's madvise and tests): how many
 * left memory. Process context, no lock held. */
unsigned swap_reclaim(unsigned n);
