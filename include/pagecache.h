/* The page cache: the frames that hold a file's pages, indexed by page offset (a radix tree,
 * O(log n) lookup), as Linux's address_space. Every regular file's data goes through one
 * (kernel/fs keeps one per inode); memory mappings of the file map these very frames.
 *
 * A page-cache frame is PG_USER|PG_FILE, with pg->mapping pointing at its cache while it is
 * in the cache, and anchored in the cache's rmap object at its page offset (pg->index) from
 * the moment it is made until it is freed: every VMA that maps the file is on that object, so
 * the rmap finds a page's mappers there (include/rmap.h). Its state bits:
 *   PG_UPTODATE  its bytes are the file's (always, once inserted);
 *   PG_DIRTY     written since it came in: it is the only copy of these bytes.
 * A page without PG_DIRTY is *clean*: dropping it loses nothing, the next access makes it
 * again from the backing bytes the cache's owner gives (ops->backing, e.g. the initrd
 * image), or as zeros where there are none. A page made where a hole was punched into
 * backed bytes is dirty from the start (the backing no longer says what it holds).
 * memory_failure drops a clean page (pagecache_drop_clean) and leaves a dirty one in the
 * cache, poisoned, as Linux does for shmem: pagecache_get then says -EHWPOISON for it (reads
 * and writes give EIO, faults SIGBUS) until truncate or a hole punch takes it out.
 *
 * References: the cache holds one on each of its frames; each PTE and each temporary user
 * (pagecache_get) one more. A frame leaves the cache (truncate, punch, memory_failure of a
 * clean page, the owner's destruction) before its last reference goes.
 *
 * This is the whole interface between kernel/mm and the file systems: kernel/mm includes no
 * fs header; kernel/fs embeds a struct pagecache in its inodes and calls these functions.
 * Locks: pc->lock is a spinlock; it nests inside mm->lock (page faults take it) and outside
 * the rmap locks. No function here sleeps; none may be called in #MC/NMI context. */
#pragma once
#include "rmap.h"
#include "spinlock.h"
#include "types.h"

struct page;
struct pagecache;

/* What the owner of a cache tells it. Both are called with pc->lock held: no sleeping, no
 * other pagecache call. */
struct pagecache_ops {
	/* Bytes that back page index: *src and their count (at most PAGE_SIZE; the rest of the
	 * page reads as zeros), 0 when nothing backs it, or -EIO when the backing is unreadable
	 * (a frame of it is poisoned). */
	long (*backing)(struct pagecache *pc, uint64_t index, const void **src);
	/* Account pages more frames (negative: fewer) held by pc: 0, or -ENOSPC when a size
	 * limit forbids it (then nothing was accounted). */
	int (*charge)(struct pagecache *pc, long pages);
	/* A cache with a device behind it (ext2): backing answers -EAGAIN for a page whose bytes
	 * are on the device, and read fills frame pg with page index from there. Process context,
	 * no lock held (it sleeps on the I/O). 0 or -errno (-EIO: the device failed). NULL for
	 * caches whose backing is in memory. */
	int (*read)(struct pagecache *pc, uint64_t index, struct page *pg);
};

/* The radix tree: 64 slots a level; height h covers indices below 2^(6h). */
struct page_tree {
	void *root;
	unsigned height;
};

struct pagecache {
	spinlock_t lock;      /* tree, nrpages, size, and pg->mapping of its pages */
	struct page_tree tree; /* index -> struct page *, or a hole marker */
	uint64_t nrpages;     /* frames in the tree */
	uint64_t size;        /* the file's size in bytes (i_size) */
	const struct pagecache_ops *ops;
	void *host;           /* the owner (an inode) */
	struct rmap_object obj; /* the VMAs mapping the file; the anchor of its pages */
	/* Shared mappings that may write (VM_SHARED|VM_MAYWRITE VMAs), or < 0 once the owner
	 * denied them (F_SEAL_WRITE), as Linux's i_mmap_writable: kernel/mm counts, the owner
	 * denies with pagecache_deny_writable. Atomic. */
	int32_t map_writable;
	bool seal_future_write; /* F_SEAL_FUTURE_WRITE: no new writable shared mapping */
	/* Frees the owner once pagecache_destroy was called and no frame is anchored in the cache
	 * any more (NULL: nothing to free). Process context. */
	void (*release)(struct pagecache *pc);
	/* Write-back errors as Linux's errseq_t: the last error, a count of errors, and whether
	 * any open file has been told of the last one (under lock). */
	int wb_err;
	uint32_t wb_seq;
	bool wb_seen;
};

/* pagecache_get flags. */
#define PC_CREATE 0x1 /* make the page if it is not cached (from the backing, or zeros) */
#define PC_FAULT 0x2  /* a page fault: an index at or past the end of the file is -EIO */

/* Set up an empty cache of size 0. */
void pagecache_init(struct pagecache *pc, const struct pagecache_ops *ops, void *host);
/* The page at index with a reference for the caller (*out), made with PC_CREATE if missing:
 * a new page holds the backing bytes (clean) or zeros. Without PC_CREATE an index nothing
 * backs gives *out = NULL and 0 (the caller reads zeros); a backed one is brought in.
 * Returns 0, -EHWPOISON (the page there is poisoned: a memory error took the only copy of its
 * bytes; it stays in the cache until truncate or a punch of the whole page releases it),
 * -EIO (PC_FAULT past the end; unreadable backing), -ENOSPC (the owner refused the charge),
 * -ENOMEM. *out is NULL on error. Takes pc->lock. */
int pagecache_get(struct pagecache *pc, uint64_t index, unsigned flags, struct page **out);
/* pagecache_get for process context on a cache with a device behind it: a page whose bytes
 * are on the device (-EAGAIN from pagecache_get) is read in with pagecache_fill, then looked
 * up again. Same results, plus -EIO from the device. Sleeps; no lock held. */
int pagecache_get_io(struct pagecache *pc, uint64_t index, unsigned flags, struct page **out);
/* Read page index in from the device (ops->read) into a new clean page, unless it came in or
 * stopped being on the device meanwhile. 0, -ENOMEM, -EIO. Sleeps; no lock held. */
int pagecache_fill(struct pagecache *pc, uint64_t index);
/* Drop a reference from pagecache_get. */
void pagecache_put(struct page *pg);
/* Whether pg is still pc's page at index (a fault re-checks after mapping it, so that a
 * truncate that removed it meanwhile is not missed). Takes pc->lock. */
bool pagecache_page_current(struct pagecache *pc, uint64_t index, const struct page *pg);
/* The page's bytes now differ from its backing: it is the only copy. Any context but #MC. */
void pagecache_mark_dirty(struct page *pg);
/* Shrink or grow the file to size bytes. Shrinking drops every page wholly past the new end
 * (unmapped from every address space first: a later access there is past the end) and zeroes
 * the tail of the page the end falls in. Returns 0. Takes pc->lock; no other lock held. */
int pagecache_truncate(struct pagecache *pc, uint64_t size);
/* Make [start, end) of the file read as zeros without changing its size: pages wholly
 * inside are dropped (and unmapped) and their indexes marked as holes where backing bytes
 * were; partial pages at the edges are zeroed (they become dirty). 0, -ENOMEM, -ENOSPC. */
int pagecache_punch(struct pagecache *pc, uint64_t start, uint64_t end);
/* Drop every page and the owner's hold (the owner is going away; nothing maps the file any
 * more). pc->release runs when the last frame anchored in the cache is gone (at once, unless
 * someone still holds one of its frames for a moment): the owner frees its memory there. */
void pagecache_destroy(struct pagecache *pc);
/* Pages of [first, end) (page indexes) in the cache. Takes pc->lock. */
uint64_t pagecache_cached(struct pagecache *pc, uint64_t first, uint64_t end);
/* Frames held by every page cache (/proc/meminfo Cached). Any context. */
uint64_t pagecache_nr_pages(void);

/* Refuse new writable shared mappings from now on (F_SEAL_WRITE): 0, or -EBUSY while one
 * exists. Any context but #MC/NMI. */
int pagecache_deny_writable(struct pagecache *pc);

/* For memory_failure: drop a clean page from its cache so the next access re-reads it.
 * Returns 0 (dropped; the cache's reference is gone), -EBUSY (dirty: it stays), -ENOENT (not
 * in a cache any more). Takes the cache's lock. */
int pagecache_drop_clean(struct page *pg);
/* For soft offline: put new in old's slot (new takes a reference, old loses the cache's).
 * The caller copied the contents and anchored new where old is (rmap_page_copy_anchor).
 * 0, or -ENOENT when old is not in a cache. */
int pagecache_replace(struct page *old, struct page *new);

/* ---- write-back (a cache with ops->read) ---- */
/* The first dirty, unpoisoned page at an index >= *index (setting *index to it), with a
 * reference, or NULL. Takes pc->lock. */
struct page *pagecache_next_dirty(struct pagecache *pc, uint64_t *index);
/* Writeback of pg begins: clear its dirty bit and make every mapping of it read-only (the
 * next write through one dirties it again). False when pg is no longer pc's or not dirty
 * (nothing to write). The caller then writes pg's bytes out. No lock held. */
bool pagecache_start_writeback(struct pagecache *pc, struct page *pg);
/* Record a write-back error (-EIO, -ENOSPC) for every open file of the cache to hear once
 * (Linux's mapping_set_error on errseq_t). Takes pc->lock. */
void pagecache_set_error(struct pagecache *pc, int err);
/* A new open file's position in the error sequence: an error nobody was told of yet is
 * still reported to it once (errseq_sample). */
uint32_t pagecache_error_sample(struct pagecache *pc);
/* fsync's report: the error recorded since *since (then *since catches up), or 0
 * (errseq_check_and_advance). Takes pc->lock. */
int pagecache_error_check(struct pagecache *pc, uint32_t *since);
/* For memory_failure of a dirty page in a cache with a device behind it (Linux's
 * me_pagecache_dirty): take it out of its cache and record -EIO for fsync; the next access
 * reads what the device holds. 0, -EBUSY (a cache with nothing behind it: tmpfs keeps the
 * page, poisoned), -ENOENT (not in a cache). Takes the cache's lock. */
int pagecache_drop_lost(struct page *pg);

/* ---- the index (kernel/mm/pagetree.c), also for tests ---- */
/* A hole marker: stored where a range was punched into backed bytes. */
#define PAGE_TREE_HOLE ((void *)0x3)
static inline bool page_tree_is_page(const void *e) { return e && !((uintptr_t)e & 1); }
/* The entry at index, or NULL. */
void *page_tree_lookup(const struct page_tree *t, uint64_t index);
/* Store e (not NULL) at index, growing the tree. 0 or -ENOMEM (nothing changed). */
int page_tree_store(struct page_tree *t, uint64_t index, void *e);
/* Remove the entry at index; returns it (NULL if none). Frees emptied nodes. */
void *page_tree_erase(struct page_tree *t, uint64_t index);
/* The first entry at an index >= *index (setting *index to it), or NULL when none. */
void *page_tree_next(const struct page_tree *t, uint64_t *index);
/* Nodes allocated by all trees (tests: leak checks). */
long page_tree_nr_nodes(void);
