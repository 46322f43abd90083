/* The page cache (include/pagecache.h): a file's pages by page offset, in a radix tree
 * (pagetree.c). Pages come in on first use, filled from the owner's backing bytes or with
 * zeros, and leave on truncate, hole punch, the owner's destruction, or memory_failure of a
 * clean page. A page that leaves is first taken out of the tree (pg->mapping = NULL) under
 * pc->lock, then unmapped from every address space through the reverse map (it stays anchored
 * in the cache's rmap object until it is freed), then the cache's reference is dropped. A
 * fault that mapped the page meanwhile re-checks that it is still the cache's page after
 * installing its PTE (pagecache_page_current): either the fault sees the removal and undoes
 * its mapping, or its PTE is there for the unmapping walk.
 *
 * Locks: pc->lock nests inside mm->lock and outside the rmap locks, kmalloc and the zone lock.
 * owner_lock keeps a cache alive while memory_failure follows pg->mapping to it: it is taken
 * before pc->lock by memory_failure's helpers and by pagecache_destroy, and by nobody else. */
#include "frame.h"
#include "kerrno.h"
#include "kstring.h"
#include "list.h"
#include "pagecache.h"
#include "rmap.h"
#include "vm.h"
#include "vm_priv.h"

static spinlock_t owner_lock = SPINLOCK_INIT;
static uint64_t nr_cached; /* atomic: frames in every cache */

static uint64_t pages_of(uint64_t size)
{
	return size / PAGE_SIZE + (size % PAGE_SIZE != 0);
}

/* The last frame anchored in the cache went after pagecache_destroy: free the owner. */
static void obj_release(struct rmap_object *obj)
{
	struct pagecache *pc = container_of(obj, struct pagecache, obj);
	if (pc->release)
		pc->release(pc);
}

void pagecache_init(struct pagecache *pc, const struct pagecache_ops *ops, void *host)
{
	memset(pc, 0, sizeof(*pc));
	spin_init(&pc->lock);
	pc->ops = ops;
	pc->host = host;
	rmap_object_init(&pc->obj, obj_release);
}

/* Deny writable shared mappings; see pagecache.h. */
int pagecache_deny_writable(struct pagecache *pc)
{
	int32_t zero = 0;

	if (__atomic_load_n(&pc->map_writable, __ATOMIC_ACQUIRE) < 0)
		return 0;
	return __atomic_compare_exchange_n(&pc->map_writable, &zero, -1, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED)
		   ? 0
		   : -EBUSY;
}

uint64_t pagecache_nr_pages(void)
{
	return __atomic_load_n(&nr_cached, __ATOMIC_RELAXED);
}

static int charge(struct pagecache *pc, long n)
{
	return pc->ops && pc->ops->charge ? pc->ops->charge(pc, n) : 0;
}

/* Backing bytes of index (0 where a hole was punched or nothing backs it). */
static long backing(struct pagecache *pc, uint64_t index, void *entry, const void **src)
{
	if (entry == PAGE_TREE_HOLE || !pc->ops || !pc->ops->backing)
		return 0;
	return pc->ops->backing(pc, index, src);
}

/* Put pg (filled) into the tree at index as a cache page, charged, with the cache's
 * reference; dirty when its bytes are nobody else's. pc->lock held. 0, -ENOSPC, -ENOMEM (pg is
 * then the caller's to free). */
static int insert_page(struct pagecache *pc, uint64_t index, struct page *pg, bool dirty)
{
	int err = charge(pc, 1);
	if (err)
		return err;
	if (page_tree_store(&pc->tree, index, pg)) {
		charge(pc, -1);
		return -ENOMEM;
	}
	pg->mapping = pc;
	rmap_page_set_object(pg, &pc->obj, index);
	__atomic_fetch_or(&pg->flags, PG_UPTODATE | (dirty ? PG_DIRTY : 0), __ATOMIC_RELEASE);
	pc->nrpages++;
	__atomic_fetch_add(&nr_cached, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Make the page at index (entry: what the tree holds there, NULL or a hole marker), with the
 * cache's reference only. pc->lock held. */
static int make_page(struct pagecache *pc, uint64_t index, void *entry, struct page **out)
{
	const void *src = NULL;
	long n = backing(pc, index, entry, &src);
	if (n < 0)
		return (int)n;
	struct page *pg = frame_alloc(0, PG_USER | PG_FILE);
	if (!pg)
		return -ENOMEM;
	uint8_t *dst = page_to_virt(pg);
	if (n)
		memcpy(dst, src, (size_t)n);
	memset(dst + n, 0, PAGE_SIZE - (size_t)n);
	int err = insert_page(pc, index, pg, entry == PAGE_TREE_HOLE);
	if (err) {
		frame_free(pg, 0);
		return err;
	}
	*out = pg;
	return 0;
}

int pagecache_get(struct pagecache *pc, uint64_t index, unsigned flags, struct page **out)
{
	struct page *pg = NULL;
	int err = 0;
	spin_lock(&pc->lock);
	void *e = page_tree_lookup(&pc->tree, index);
	if ((flags & PC_FAULT) && index >= pages_of(pc->size)) {
		err = -EIO;
	} else if (page_tree_is_page(e) && page_poisoned(e)) {
		err = -EHWPOISON; /* its bytes are lost; it stays until truncate or punch */
	} else if (page_tree_is_page(e)) {
		pg = e;
	} else {
		const void *src;
		long n = (flags & PC_CREATE) ? 1 : backing(pc, index, e, &src);
		err = n < 0 ? (int)n : n > 0 ? make_page(pc, index, e, &pg) : 0;
	}
	if (pg)
		upage_get(pg);
	spin_unlock(&pc->lock);
	*out = pg;
	return err;
}

int pagecache_fill(struct pagecache *pc, uint64_t index)
{
	struct page *pg = frame_alloc(0, PG_USER | PG_FILE);
	if (!pg)
		return -ENOMEM;
	int err = pc->ops && pc->ops->read ? pc->ops->read(pc, index, pg) : -EIO;
	bool kept = false;
	if (!err) {
		const void *src;
		spin_lock(&pc->lock);
		void *e = page_tree_lookup(&pc->tree, index);
		/* Still missing and still on the device (no truncate or write came meanwhile)? */
		if (!page_tree_is_page(e) && backing(pc, index, e, &src) == -EAGAIN)
			kept = !(err = insert_page(pc, index, pg, false));
		spin_unlock(&pc->lock);
	}
	if (!kept)
		frame_free(pg, 0);
	return err;
}

int pagecache_get_io(struct pagecache *pc, uint64_t index, unsigned flags, struct page **out)
{
	for (unsigned tries = 0;; tries++) {
		int err = pagecache_get(pc, index, flags, out);
		if (err != -EAGAIN)
			return err;
		if (tries == 16)
			return -EIO; /* dropped again and again while it came in: give up */
		err = pagecache_fill(pc, index);
		if (err)
			return err;
	}
}

void pagecache_put(struct page *pg)
{
	upage_put(pg);
}

bool pagecache_page_current(struct pagecache *pc, uint64_t index, const struct page *pg)
{
	spin_lock(&pc->lock);
	bool cur = page_tree_lookup(&pc->tree, index) == pg;
	spin_unlock(&pc->lock);
	return cur;
}

uint64_t pagecache_cached(struct pagecache *pc, uint64_t first, uint64_t end)
{
	uint64_t n = 0, i = first;
	void *e;
	spin_lock(&pc->lock);
	while (i < end && (e = page_tree_next(&pc->tree, &i)) != NULL && i < end) {
		n += page_tree_is_page(e);
		i++;
	}
	spin_unlock(&pc->lock);
	return n;
}

void pagecache_mark_dirty(struct page *pg)
{
	__atomic_fetch_or(&pg->flags, PG_DIRTY, __ATOMIC_RELEASE);
}

/* Take page pg (at index) out of the tree onto list; keep a hole marker when hole. */
static void take_page(struct pagecache *pc, struct page *pg, bool hole, struct list_node *list)
{
	if (hole)
		page_tree_store(&pc->tree, pg->index, PAGE_TREE_HOLE); /* the path exists */
	else
		page_tree_erase(&pc->tree, pg->index);
	pg->mapping = NULL;
	list_add_tail(&pg->link, list);
	pc->nrpages--;
	__atomic_fetch_sub(&nr_cached, 1, __ATOMIC_RELAXED);
	charge(pc, -1);
}

/* Take every entry of [first, last] out of the tree: pages onto list, markers erased.
 * pc->lock held. */
static void take_range(struct pagecache *pc, uint64_t first, uint64_t last, struct list_node *list)
{
	uint64_t i = first;
	void *e;
	while (i <= last && (e = page_tree_next(&pc->tree, &i)) != NULL && i <= last) {
		if (page_tree_is_page(e))
			take_page(pc, e, false, list);
		else
			page_tree_erase(&pc->tree, i);
		if (i++ == UINT64_MAX)
			break;
	}
}

/* Up to UNMAP_BATCH mappings of a page that left its cache, each mm kept with mm_tryget. */
#define UNMAP_BATCH 16
#define UNMAP_ROUNDS 64
struct unmap_batch {
	struct mm *mm[UNMAP_BATCH];
	vaddr_t va[UNMAP_BATCH];
	unsigned n;
	unsigned skip; /* mappings the walk passes over (those already handled) */
};

static int collect_mapping(struct mm *mm, vaddr_t va, void *arg)
{
	struct unmap_batch *b = arg;
	if (b->skip) {
		b->skip--;
		return 0;
	}
	if (mm_tryget(mm)) {
		b->mm[b->n] = mm;
		b->va[b->n++] = va;
	}
	return b->n == UNMAP_BATCH; /* full: clear these, then walk again */
}

/* Clear every PTE that maps pg, which has left its cache (the next access faults and finds it
 * gone): a batch found by a walk, cleared with no rmap lock held, again while a walk finds
 * more (a fork racing with the walk adds some). No memory needed. No lock held. */
static void unmap_everywhere(struct page *pg)
{
	pfn_t pfn = page_to_pfn(pg);
	struct unmap_batch b;
	unsigned rounds = 0;
	do {
		b.n = 0;
		b.skip = 0;
		rmap_walk(pg, collect_mapping, &b);
		for (unsigned i = 0; i < b.n; i++) {
			vm_unmap_page(b.mm[i], b.va[i], pfn);
			mm_put(b.mm[i]);
		}
	} while (b.n && rmap_count(pg) > 0 && ++rounds < UNMAP_ROUNDS);
}

/* Make every PTE that maps pg read-only, so the next write through a shared mapping faults
 * and marks pg dirty again. Mappings are handled in batches found by successive walks, each
 * passing over those already done. No lock held. */
static void wrprotect_everywhere(struct page *pg)
{
	pfn_t pfn = page_to_pfn(pg);
	struct unmap_batch b;
	unsigned done = 0, rounds = 0;
	do {
		b.n = 0;
		b.skip = done;
		rmap_walk(pg, collect_mapping, &b);
		for (unsigned i = 0; i < b.n; i++) {
			vm_wrprotect_page(b.mm[i], b.va[i], pfn);
			mm_put(b.mm[i]);
		}
		done += b.n;
	} while (b.n == UNMAP_BATCH && ++rounds < UNMAP_ROUNDS);
}

/* Unmap each page of list from every address space and drop the cache's reference. No lock
 * held. */
static void release_list(struct list_node *list)
{
	while (!list_empty(list)) {
		struct page *pg = list_first_entry(list, struct page, link);
		list_del(&pg->link);
		if (rmap_count(pg))
			unmap_everywhere(pg);
		upage_put(pg);
	}
}

/* Zero [from, to) of page pg (within the page). */
static void zero_part(struct page *pg, size_t from, size_t to)
{
	memset((uint8_t *)page_to_virt(pg) + from, 0, to - from);
}

int pagecache_truncate(struct pagecache *pc, uint64_t size)
{
	struct list_node list = LIST_HEAD_INIT(list);
	spin_lock(&pc->lock);
	uint64_t old = pc->size;
	pc->size = size;
	if (size < old) {
		take_range(pc, pages_of(size), UINT64_MAX, &list);
		void *e = page_tree_lookup(&pc->tree, size / PAGE_SIZE);
		if ((size % PAGE_SIZE) && page_tree_is_page(e) && !page_poisoned(e))
			zero_part(e, size % PAGE_SIZE, PAGE_SIZE);
	}
	spin_unlock(&pc->lock);
	release_list(&list);
	return 0;
}

/* Zero [from, to) inside page index (from < to <= PAGE_SIZE): a cached page is zeroed and
 * dirtied; a backed one is brought in first; one nothing backs already reads as zeros. */
static int punch_partial(struct pagecache *pc, uint64_t index, size_t from, size_t to)
{
	struct page *pg;
	int err = pagecache_get(pc, index, 0, &pg);
	if (err == -EHWPOISON)
		return 0; /* nothing to zero in a lost page: only punching all of it frees it */
	if (err || !pg)
		return err;
	spin_lock(&pc->lock);
	if (pg->mapping == pc) {
		zero_part(pg, from, to);
		pagecache_mark_dirty(pg);
	}
	spin_unlock(&pc->lock);
	pagecache_put(pg);
	return 0;
}

/* Mark every backed index of [first, last) without a page as a hole (backing is a prefix of
 * the file: the first index nothing backs ends it). pc->lock held. */
static int mark_holes(struct pagecache *pc, uint64_t first, uint64_t last)
{
	for (uint64_t i = first; i < last; i++) {
		const void *src;
		void *e = page_tree_lookup(&pc->tree, i);
		if (e)
			continue;
		long n = backing(pc, i, e, &src);
		if (n == 0)
			return 0;
		if (n > 0 && page_tree_store(&pc->tree, i, PAGE_TREE_HOLE))
			return -ENOMEM;
	}
	return 0;
}

/* Drop the pages wholly inside [first, last), leaving hole markers where backing was. */
static int punch_whole(struct pagecache *pc, uint64_t first, uint64_t last)
{
	struct list_node list = LIST_HEAD_INIT(list);
	uint64_t i = first;
	void *e;
	spin_lock(&pc->lock);
	while (i < last && (e = page_tree_next(&pc->tree, &i)) != NULL && i < last) {
		if (page_tree_is_page(e)) {
			const void *src;
			struct page *pg = e;
			take_page(pc, pg, backing(pc, i, NULL, &src) != 0, &list);
		}
		i++;
	}
	int err = mark_holes(pc, first, last);
	spin_unlock(&pc->lock);
	release_list(&list);
	return err;
}

int pagecache_punch(struct pagecache *pc, uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	uint64_t first = start / PAGE_SIZE, last = (end - 1) / PAGE_SIZE;
	size_t head = start % PAGE_SIZE, tail = (end - 1) % PAGE_SIZE + 1;
	uint64_t whole_end = tail < PAGE_SIZE ? last : last + 1;
	int err = 0;
	if (first == last && (head || tail < PAGE_SIZE))
		return punch_partial(pc, first, head, tail);
	if (head)
		err = punch_partial(pc, first++, head, PAGE_SIZE);
	if (!err && tail < PAGE_SIZE)
		err = punch_partial(pc, last, 0, tail);
	if (!err && first < whole_end)
		err = punch_whole(pc, first, whole_end);
	return err;
}

void pagecache_destroy(struct pagecache *pc)
{
	struct list_node list = LIST_HEAD_INIT(list);
	spin_lock(&owner_lock);
	spin_lock(&pc->lock);
	take_range(pc, 0, UINT64_MAX, &list);
	spin_unlock(&pc->lock);
	spin_unlock(&owner_lock);
	release_list(&list);
	rmap_object_put(&pc->obj);
}

/* The cache pg is in, locked, or NULL. owner_lock keeps it from being destroyed meanwhile. */
static struct pagecache *lock_mapping(struct page *pg)
{
	spin_lock(&owner_lock);
	struct pagecache *pc = READ_ONCE(pg->mapping);
	if (pc)
		spin_lock(&pc->lock);
	spin_unlock(&owner_lock);
	if (pc && (pg->mapping != pc || page_tree_lookup(&pc->tree, pg->index) != pg)) {
		spin_unlock(&pc->lock);
		return NULL;
	}
	return pc;
}

int pagecache_drop_clean(struct page *pg)
{
	struct list_node list = LIST_HEAD_INIT(list);
	struct pagecache *pc = lock_mapping(pg);
	if (!pc)
		return -ENOENT;
	bool dirty = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_DIRTY;
	if (!dirty)
		take_page(pc, pg, false, &list);
	spin_unlock(&pc->lock);
	if (dirty)
		return -EBUSY;
	list_del(&pg->link);
	upage_put(pg);
	return 0;
}

int pagecache_replace(struct page *old, struct page *new)
{
	struct pagecache *pc = lock_mapping(old);
	if (!pc)
		return -ENOENT;
	page_tree_store(&pc->tree, old->index, new); /* the path exists: cannot fail */
	new->mapping = pc; /* anchored where old is by the caller (rmap_page_copy_anchor) */
	__atomic_fetch_or(&new->flags, old->flags & PG_OWNER_STATE, __ATOMIC_RELEASE);
	upage_get(new);
	old->mapping = NULL;
	spin_unlock(&pc->lock);
	upage_put(old);
	return 0;
}

struct page *pagecache_next_dirty(struct pagecache *pc, uint64_t *index)
{
	struct page *found = NULL;
	void *e;
	spin_lock(&pc->lock);
	while (!found && (e = page_tree_next(&pc->tree, index)) != NULL) {
		uint32_t fl = page_tree_is_page(e) ? __atomic_load_n(&((struct page *)e)->flags,
								   __ATOMIC_ACQUIRE)
						   : 0;
		if ((fl & PG_DIRTY) && !(fl & PG_HWPOISON))
			found = e;
		else if ((*index)++ == UINT64_MAX)
			break;
	}
	if (found)
		upage_get(found);
	spin_unlock(&pc->lock);
	return found;
}

bool pagecache_start_writeback(struct pagecache *pc, struct page *pg)
{
	spin_lock(&pc->lock);
	bool ours = pg->mapping == pc && !page_poisoned(pg) &&
		    (__atomic_fetch_and(&pg->flags, ~PG_DIRTY, __ATOMIC_ACQ_REL) & PG_DIRTY);
	spin_unlock(&pc->lock);
	if (ours && rmap_count(pg))
		wrprotect_everywhere(pg);
	return ours;
}

void pagecache_set_error(struct pagecache *pc, int err)
{
	spin_lock(&pc->lock);
	pc->wb_err = err;
	pc->wb_seq++;
	pc->wb_seen = false;
	spin_unlock(&pc->lock);
}

uint32_t pagecache_error_sample(struct pagecache *pc)
{
	spin_lock(&pc->lock);
	uint32_t seq = pc->wb_seen ? pc->wb_seq : pc->wb_seq - (pc->wb_seq != 0);
	spin_unlock(&pc->lock);
	return seq;
}

int pagecache_error_check(struct pagecache *pc, uint32_t *since)
{
	int err = 0;
	spin_lock(&pc->lock);
	if (*since != pc->wb_seq) {
		err = pc->wb_err;
		*since = pc->wb_seq;
		pc->wb_seen = true;
	}
	spin_unlock(&pc->lock);
	return err;
}

int pagecache_drop_lost(struct page *pg)
{
	struct list_node list = LIST_HEAD_INIT(list);
	struct pagecache *pc = lock_mapping(pg);
	if (!pc)
		return -ENOENT;
	bool writeback = pc->ops && pc->ops->read;
	if (writeback) {
		take_page(pc, pg, false, &list);
		pc->wb_err = -EIO;
		pc->wb_seq++;
		pc->wb_seen = false;
	}
	spin_unlock(&pc->lock);
	if (!writeback)
		return -EBUSY;
	list_del(&pg->link);
	upage_put(pg);
	return 0;
}
