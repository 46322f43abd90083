/* The physical frame allocator: one zone of buddy free lists (orders 0..FRAME_MAX_ORDER) under
 * a spinlock, and in front of it a per-CPU cache ("pcp") of single frames that the owning CPU
 * pops and pushes with interrupts off and no lock at all.
 *
 * Every frame has a struct page; its owner bits (PG_RESERVED, PG_BUDDY, PG_PCP, a kind,
 * PG_TAIL, PG_ISOLATED) say where it is. A frame inside a free buddy block has no owner bits
 * (its head has PG_BUDDY and the order). PG_HWPOISON/PG_SWPOISON may be ORed in by any CPU at
 * any time, so every change of the owner bits is an atomic compare-and-swap that keeps them.
 *
 * Poison: frame_alloc never hands out a poisoned frame. The check is made when a frame leaves
 * a pcp (its CAS expects exactly PG_PCP, so a poison bit makes it fail) and when a block leaves
 * the buddy lists (every frame is scanned). A poisoned frame found there, or in a block given
 * to frame_free, becomes PG_ISOLATED: out of the allocator for good; the clean rest is freed.
 *
 * Isolating a frame that sits in another CPU's pcp is lazy: frame_isolate_free CASes
 * PG_PCP -> PG_PCP|PG_ISOLATED, which races fairly with the owner's pop CAS (one of them wins),
 * and counts it in nr_pcp_lazy. The owner drops such a frame when it meets it (pop or drain).
 * So the pcp fast path never takes a lock, and the stats stay exact:
 * free = buddy frames + frames on pcp lists - lazily isolated frames still on pcp lists.
 *
 * Lock order: zone.lock, then nothing. The pcp lists are owner-only (interrupts off). */
#include "frame.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"
#include "spinlock.h"

#define PCP_BATCH_ORDER 4		  /* refill/drain moves 2^4 frames at a time */
#define PCP_BATCH (1u << PCP_BATCH_ORDER) /* frames per refill or drain */
#define PCP_HIGH (4 * PCP_BATCH)	  /* drain a batch when a pcp holds more than this */
#define CACHELINE 64

/* Bits that say who owns a frame and the owner's state, cleared together when the owner
 * changes; the poison bits ride along untouched. */
#define PG_OWNER_BITS (PG_OWNER_MASK | PG_OWNER_STATE)
#define PG_NONKIND_OWNER (PG_OWNER_MASK & ~PG_KIND_MASK)

struct zone {
	spinlock_t lock;
	struct list_node free_list[FRAME_MAX_ORDER + 1];
	uint64_t nr_blocks[FRAME_MAX_ORDER + 1]; /* blocks on each list */
	uint64_t nr_free;			 /* frames on all lists */
};

struct pcp {
	struct list_node list; /* PG_PCP frames, hottest first */
	uint32_t count;	       /* frames on list, lazily isolated ones included */
	uint32_t cpu;
} __attribute__((aligned(CACHELINE)));

static struct page *mem_map;
static pfn_t nr_pfn;
static uint64_t nr_usable;
static struct zone zone;
static struct pcp pcps[MAX_CPUS];
static int64_t nr_isolated; /* atomic: PG_ISOLATED frames */
static int64_t nr_pcp_lazy; /* atomic: PG_ISOLATED frames still on some pcp list */

static inline uint32_t flags_load(const struct page *pg)
{
	return __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE);
}

static inline bool flags_cas(struct page *pg, uint32_t *old, uint32_t next)
{
	return __atomic_compare_exchange_n(&pg->flags, old, next, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

/* Replace the owner bits of pg, keeping whatever poison bits another CPU may be setting. */
static void flags_set_owner(struct page *pg, uint32_t owner)
{
	uint32_t old = flags_load(pg);
	while (!flags_cas(pg, &old, (old & ~PG_OWNER_BITS) | owner))
		;
}

/* Owner bits of the head of an allocated block: some kind, nothing else. */
static inline bool is_alloc_head(uint32_t flags)
{
	return (flags & PG_KIND_MASK) && !(flags & PG_NONKIND_OWNER);
}

static inline bool kind_valid(uint32_t kind)
{
	return kind && !(kind & ~PG_KIND_MASK);
}

static inline bool page_in_map(const struct page *pg)
{
	return (uintptr_t)pg >= (uintptr_t)mem_map && (uintptr_t)pg < (uintptr_t)(mem_map + nr_pfn);
}

static void count_isolated(int64_t n)
{
	__atomic_fetch_add(&nr_isolated, n, __ATOMIC_RELAXED);
}

/* ---- buddy lists (zone.lock held) ---- */

static void buddy_push(pfn_t pfn, unsigned order)
{
	struct page *pg = &mem_map[pfn];
	pg->order = (uint8_t)order;
	flags_set_owner(pg, PG_BUDDY);
	list_add(&pg->link, &zone.free_list[order]);
	zone.nr_blocks[order]++;
	zone.nr_free += 1ull << order;
}

static void buddy_unlink(struct page *pg)
{
	list_del(&pg->link);
	zone.nr_blocks[pg->order]--;
	zone.nr_free -= 1ull << pg->order;
	flags_set_owner(pg, 0);
}

/* Free block [pfn, pfn + 2^order) whose frames have no owner bits, merging with free buddies. */
static void buddy_free(pfn_t pfn, unsigned order)
{
	while (order < FRAME_MAX_ORDER) {
		pfn_t b = pfn ^ (1ull << order);

		if (b >= nr_pfn || !(flags_load(&mem_map[b]) & PG_BUDDY) ||
		    mem_map[b].order != order)
			break;
		buddy_unlink(&mem_map[b]);
		pfn &= ~(1ull << order);
		order++;
	}
	buddy_push(pfn, order);
}

static bool block_poisoned(pfn_t pfn, unsigned order)
{
	for (pfn_t i = 0; i < (1ull << order); i++)
		if (page_poisoned(&mem_map[pfn + i]))
			return true;
	return false;
}

/* Make a frame with no owner bits PG_ISOLATED: out of the allocator for good. */
static void isolate_frame(struct page *pg)
{
	flags_set_owner(pg, PG_ISOLATED);
	count_isolated(1);
}

/* Free a block of ownerless frames except its poisoned ones, which are isolated. */
static void buddy_free_clean(pfn_t pfn, unsigned order)
{
	if (!block_poisoned(pfn, order)) {
		buddy_free(pfn, order);
	} else if (order == 0) {
		isolate_frame(&mem_map[pfn]);
	} else {
		buddy_free_clean(pfn, order - 1);
		buddy_free_clean(pfn + (1ull << (order - 1)), order - 1);
	}
}

/* Unlink the smallest free block of at least `order` and split it down; returns its head. */
static struct page *buddy_take(unsigned order)
{
	for (unsigned o = order; o <= FRAME_MAX_ORDER; o++) {
		if (list_empty(&zone.free_list[o]))
			continue;
		struct page *pg = list_first_entry(&zone.free_list[o], struct page, link);
		pfn_t pfn = page_to_pfn(pg);

		buddy_unlink(pg);
		while (o > order) {
			o--;
			buddy_push(pfn + (1ull << o), o);
		}
		return pg;
	}
	return NULL;
}

/* Like buddy_take, but a block holding poison is carved up (poison isolated) and we retry. */
static struct page *buddy_take_clean(unsigned order)
{
	struct page *pg;

	while ((pg = buddy_take(order))) {
		pfn_t pfn = page_to_pfn(pg);

		if (!block_poisoned(pfn, order))
			return pg;
		buddy_free_clean(pfn, order);
	}
	return NULL;
}

/* The free buddy block holding pfn (ownerless or a PG_BUDDY head), or NULL. Blocks are aligned
 * and disjoint, so the first PG_BUDDY head met going up the alignments decides. */
static struct page *buddy_find_head(pfn_t pfn)
{
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
		struct page *h = &mem_map[ALIGN_DOWN(pfn, 1ull << o)];

		if (flags_load(h) & PG_BUDDY)
			return h->order >= o ? h : NULL;
	}
	return NULL;
}

/* Split free block `head` around pfn: every other piece goes back on the lists. */
static void buddy_split_out(struct page *head, pfn_t pfn)
{
	pfn_t h = page_to_pfn(head);
	unsigned o = head->order;

	buddy_unlink(head);
	while (o > 0) {
		o--;
		pfn_t upper = h + (1ull << o);
		if (pfn >= upper) {
			buddy_push(h, o);
			h = upper;
		} else {
			buddy_push(upper, o);
		}
	}
}

/* ---- per-CPU caches (interrupts off, owning CPU, or the CPU is quiescent) ---- */

static void pcp_add(struct pcp *pcp, struct page *pg)
{
	pg->order = 0;
	pg->pcp_cpu = (uint8_t)pcp->cpu;
	flags_set_owner(pg, PG_PCP);
	list_add_tail(&pg->link, &pcp->list);
	pcp->count++;
}

/* Fill an empty pcp with a batch from the buddy lists; returns false if none is left. */
static bool pcp_refill(struct pcp *pcp)
{
	spin_lock(&zone.lock);
	struct page *blk = buddy_take_clean(PCP_BATCH_ORDER);
	if (blk) {
		for (unsigned i = 0; i < PCP_BATCH; i++)
			pcp_add(pcp, &blk[i]);
	} else {
		for (unsigned i = 0; i < PCP_BATCH && (blk = buddy_take_clean(0)); i++)
			pcp_add(pcp, blk);
	}
	spin_unlock(&zone.lock);
	return pcp->count != 0;
}

/* Move n frames (coldest first) from pcp to the buddy lists; lazily isolated ones just leave.
 * Takes zone.lock. */
static void pcp_drain(struct pcp *pcp, uint32_t n)
{
	spin_lock(&zone.lock);
	while (n-- && pcp->count) {
		struct page *pg = list_entry(pcp->list.prev, struct page, link);
		uint32_t old = flags_load(pg);
		uint32_t next;

		list_del(&pg->link);
		pcp->count--;
		do {
			next = (old & PG_ISOLATED) ? (old & ~PG_PCP) : (old & ~PG_OWNER_BITS);
		} while (!flags_cas(pg, &old, next));
		if (old & PG_ISOLATED)
			__atomic_fetch_sub(&nr_pcp_lazy, 1, __ATOMIC_RELAXED);
		else
			buddy_free_clean(page_to_pfn(pg), 0);
	}
	spin_unlock(&zone.lock);
}

/* A popped frame whose flags were not exactly PG_PCP (old): poisoned, lazily isolated, or a
 * leftover PG_SWPOISON. Settles it; returns true if it is now allocated as `kind`. */
static bool pcp_claim_slow(struct page *pg, uint32_t old, uint32_t kind)
{
	uint32_t next;

	for (;;) {
		if (old & PG_ISOLATED)
			next = old & ~PG_PCP;
		else if (old & PG_HWPOISON)
			next = (old & ~PG_PCP) | PG_ISOLATED;
		else
			next = (old & ~(PG_OWNER_BITS | PG_SWPOISON)) | kind;
		if (flags_cas(pg, &old, next))
			break;
	}
	if (old & PG_ISOLATED)
		__atomic_fetch_sub(&nr_pcp_lazy, 1, __ATOMIC_RELAXED);
	else if (old & PG_HWPOISON)
		count_isolated(1);
	return !(next & PG_ISOLATED);
}

static struct page *pcp_pop(struct pcp *pcp, uint32_t kind)
{
	for (;;) {
		if (unlikely(!pcp->count) && !pcp_refill(pcp))
			return NULL;
		struct page *pg = list_first_entry(&pcp->list, struct page, link);
		uint32_t old = PG_PCP;

		list_del(&pg->link);
		pcp->count--;
		if (likely(flags_cas(pg, &old, kind)) || pcp_claim_slow(pg, old, kind))
			return pg;
	}
}

/* ---- allocation and freeing ---- */

static void block_mark_allocated(struct page *pg, unsigned order, uint32_t kind)
{
	flags_set_owner(pg, kind);
	for (pfn_t i = 1; i < (1ull << order); i++)
		flags_set_owner(&pg[i], kind | PG_TAIL);
	pg->order = (uint8_t)order;
}

/* A clean block from the buddy lists, marked allocated; takes zone.lock (interrupts off). */
static struct page *zone_alloc(unsigned order, uint32_t kind)
{
	spin_lock(&zone.lock);
	struct page *pg = buddy_take_clean(order);
	if (pg)
		block_mark_allocated(pg, order, kind);
	spin_unlock(&zone.lock);
	return pg;
}

static struct page *frame_alloc_slow(unsigned order, uint32_t kind)
{
	if (order > FRAME_MAX_ORDER)
		return NULL;
	if (!kind_valid(kind)) {
		pr_err("frame_alloc: bad kind %#x\n", kind);
		return NULL;
	}
	irqflags_t f = arch_irq_save();
	struct page *pg = zone_alloc(order, kind);
	if (!pg && order) {
		/* the missing block may be scattered over this CPU's cache: give it back, retry */
		struct pcp *pcp = &pcps[arch_cpu_id()];
		pcp_drain(pcp, pcp->count);
		pg = zone_alloc(order, kind);
	}
	arch_irq_restore(f);
	return pg;
}

/* Allocate 2^order frames of use `kind`; see frame.h. Order 0 comes from this CPU's cache with
 * interrupts off and no lock. Process or IRQ context; not #MC/NMI. */
struct page *frame_alloc(unsigned order, uint32_t kind)
{
	struct page *pg;

	if (likely(order == 0 && kind_valid(kind))) {
		irqflags_t f = arch_irq_save();
		pg = pcp_pop(&pcps[arch_cpu_id()], kind);
		arch_irq_restore(f);
	} else {
		pg = frame_alloc_slow(order, kind);
	}
	if (pg) {
		pg->refcount = 1;
		pg->mapcount = 0;
		pg->priv = NULL;
		pg->mapping = NULL;
	}
	return pg;
}

/* Atomically take an allocated head of `order` back as ownerless; false if it is not one. */
static bool claim_for_free(struct page *pg, unsigned order)
{
	uint32_t old = flags_load(pg);

	do {
		if (!is_alloc_head(old) || pg->order != order)
			return false;
	} while (!flags_cas(pg, &old, old & ~PG_OWNER_BITS));
	return true;
}

static void frame_free_slow(struct page *pg, unsigned order)
{
	if (!page_in_map(pg) || ((uintptr_t)pg - (uintptr_t)mem_map) % sizeof(*pg)) {
		pr_err("frame_free: %p is not a described frame\n", (void *)pg);
		return;
	}
	pfn_t pfn = page_to_pfn(pg);
	if (order > FRAME_MAX_ORDER || !IS_ALIGNED(pfn, 1ull << order) ||
	    pfn + (1ull << order) > nr_pfn) {
		pr_err("frame_free: bad block pfn %#llx order %u\n", (unsigned long long)pfn,
		       order);
		return;
	}
	irqflags_t f = spin_lock_irqsave(&zone.lock);
	bool ok = claim_for_free(pg, order);
	if (ok) {
		pg->refcount = 0;
		for (pfn_t i = 1; i < (1ull << order); i++)
			flags_set_owner(&pg[i], 0);
		buddy_free_clean(pfn, order);
	}
	uint32_t fl = flags_load(pg);
	unsigned cur_order = pg->order;
	spin_unlock_irqrestore(&zone.lock, f);
	if (!ok)
		pr_err(
		    "frame_free: pfn %#llx order %u is not an allocated block (flags %#x order %u):"
		    " double free? ignored\n",
		    (unsigned long long)pfn, order, fl, cur_order);
}

/* Return a block from frame_alloc; see frame.h. Order 0 goes to this CPU's cache. Bad frees
 * are reported and ignored. Process or IRQ context; not #MC/NMI. */
void frame_free(struct page *pg, unsigned order)
{
	if (likely(order == 0 && page_in_map(pg))) {
		irqflags_t f = arch_irq_save();
		struct pcp *pcp = &pcps[arch_cpu_id()];
		uint32_t old = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);

		if (likely(is_alloc_head(old) && !(old & (PG_HWPOISON | PG_SWPOISON)) &&
			   !pg->order)) {
			pg->pcp_cpu = (uint8_t)pcp->cpu;
			pg->refcount = 0;
			if (likely(flags_cas(pg, &old, PG_PCP))) {
				list_add(&pg->link, &pcp->list);
				if (unlikely(++pcp->count > PCP_HIGH))
					pcp_drain(pcp, PCP_BATCH);
				arch_irq_restore(f);
				return;
			}
		}
		arch_irq_restore(f);
	}
	frame_free_slow(pg, order);
}

/* Split an allocated block into single allocated frames; see frame.h. */
void frame_split_block(struct page *pg, unsigned order)
{
	uint32_t kind = flags_load(pg) & PG_KIND_MASK;

	for (pfn_t i = 0; i < (1ull << order); i++) {
		flags_set_owner(&pg[i], kind);
		pg[i].order = 0;
		pg[i].refcount = 1;
		pg[i].mapcount = 0;
		pg[i].priv = NULL;
	}
}

/* Make single allocated frames one block again; see frame.h. */
void frame_join_block(struct page *pg, unsigned order)
{
	block_mark_allocated(pg, order, flags_load(pg) & PG_KIND_MASK);
}

/* ---- isolation (memory_failure, unpoison) ---- */

static int isolate_locked(pfn_t pfn)
{
	struct page *pg = &mem_map[pfn];
	uint32_t old = flags_load(pg);

	for (;;) {
		if (old & PG_ISOLATED)
			return 0;
		if (!(old & PG_PCP))
			break;
		if (flags_cas(pg, &old, old | PG_ISOLATED)) {
			count_isolated(1);
			__atomic_fetch_add(&nr_pcp_lazy, 1, __ATOMIC_RELAXED);
			return 0;
		}
	}
	if (old & PG_OWNER_BITS & ~PG_BUDDY)
		return -EBUSY; /* reserved or allocated */
	struct page *head = buddy_find_head(pfn);
	if (!head)
		return -EBUSY;
	buddy_split_out(head, pfn);
	isolate_frame(pg);
	return 0;
}

/* Take free frame pfn out for good; see frame.h. Takes zone.lock; any CPU, not #MC/NMI. */
int frame_isolate_free(pfn_t pfn)
{
	if (!pfn_to_page(pfn))
		return -EINVAL;
	irqflags_t f = spin_lock_irqsave(&zone.lock);
	int ret = isolate_locked(pfn);
	spin_unlock_irqrestore(&zone.lock, f);
	return ret;
}

static int unisolate_locked(pfn_t pfn)
{
	struct page *pg = &mem_map[pfn];
	uint32_t old = flags_load(pg);
	uint32_t next;

	do {
		if (!(old & PG_ISOLATED))
			return -EINVAL;
		if (old & PG_HWPOISON)
			return -EBUSY;
		/* still on a pcp list: just clear the mark; else it becomes an ownerless frame */
		next =
		    (old & PG_PCP) ? (old & ~PG_ISOLATED) : (old & ~(PG_OWNER_BITS | PG_SWPOISON));
	} while (!flags_cas(pg, &old, next));
	count_isolated(-1);
	if (old & PG_PCP)
		__atomic_fetch_sub(&nr_pcp_lazy, 1, __ATOMIC_RELAXED);
	else
		buddy_free(pfn, 0);
	return 0;
}

/* Return an isolated frame to the allocator; see frame.h. Takes zone.lock. Process context. */
int frame_unisolate(pfn_t pfn)
{
	if (!pfn_to_page(pfn))
		return -EINVAL;
	irqflags_t f = spin_lock_irqsave(&zone.lock);
	int ret = unisolate_locked(pfn);
	spin_unlock_irqrestore(&zone.lock, f);
	return ret;
}

/* Drain cpu's cache to the buddy lists (see frame.h for who may call it). Takes zone.lock. */
void frame_drain_cpu(unsigned cpu)
{
	if (cpu >= MAX_CPUS)
		return;
	irqflags_t f = arch_irq_save();
	pcp_drain(&pcps[cpu], pcps[cpu].count);
	arch_irq_restore(f);
}

/* ---- the allocator's own books, for the audit (frame_audit.c) ---- */

/* Visit every block on the buddy lists and every frame in every CPU's cache, and copy the
 * allocator's counters; see frame.h. No lock: the caller keeps every CPU still. */
void frame_walk_free(const struct frame_walk *w, struct frame_books *books)
{
	memset(books, 0, sizeof(*books));
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
		struct list_node *n;
		books->nr_blocks[o] = zone.nr_blocks[o];
		list_for_each(n, &zone.free_list[o])
			w->block(list_entry(n, struct page, link), o, w->arg);
	}
	books->nr_free = zone.nr_free;
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct list_node *n;
		books->pcp_count += pcps[c].count;
		list_for_each(n, &pcps[c].list)
			w->cached(list_entry(n, struct page, link), c, w->arg);
	}
	books->pcp_lazy = (uint64_t)__atomic_load_n(&nr_pcp_lazy, __ATOMIC_RELAXED);
	books->isolated = (uint64_t)__atomic_load_n(&nr_isolated, __ATOMIC_RELAXED);
	books->usable = nr_usable;
}

/* ---- set-up, lookups and statistics ---- */

/* Describe frames map[0..npfn), all reserved, and reset every list. Boot only, one CPU. */
void __init frame_init(struct page *map, pfn_t npfn)
{
	for (pfn_t i = 0; i < npfn; i++) {
		map[i] = (struct page){.flags = PG_RESERVED};
		list_init(&map[i].link);
	}
	mem_map = map;
	nr_pfn = npfn;
	nr_usable = 0;
	nr_isolated = 0;
	nr_pcp_lazy = 0;
	spin_init(&zone.lock);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++) {
		list_init(&zone.free_list[o]);
		zone.nr_blocks[o] = 0;
	}
	zone.nr_free = 0;
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		list_init(&pcps[c].list);
		pcps[c].count = 0;
		pcps[c].cpu = c;
	}
}

/* Largest order of a block at pfn inside [pfn, end) whose frames are all still reserved. */
static unsigned range_block_order(pfn_t pfn, pfn_t end)
{
	unsigned o = 0;

	while (o < FRAME_MAX_ORDER && IS_ALIGNED(pfn, 2ull << o) && pfn + (2ull << o) <= end)
		o++;
	for (pfn_t i = 0; i < (1ull << o); i++) {
		if ((flags_load(&mem_map[pfn + i]) & PG_OWNER_BITS) != PG_RESERVED)
			return i ? range_block_order(pfn, pfn + i) : 0;
	}
	return o;
}

/* Give reserved frames [start, end) to the allocator in maximal aligned blocks. Boot only. */
void __init frame_add_free_range(pfn_t start, pfn_t end)
{
	uint64_t skipped = 0;

	end = MIN(end, nr_pfn);
	irqflags_t f = spin_lock_irqsave(&zone.lock);
	for (pfn_t pfn = start; pfn < end;) {
		unsigned o = range_block_order(pfn, end);

		if ((flags_load(&mem_map[pfn]) & PG_OWNER_BITS) != PG_RESERVED) {
			skipped++;
			pfn++;
			continue;
		}
		for (pfn_t i = 0; i < (1ull << o); i++)
			flags_set_owner(&mem_map[pfn + i], 0);
		nr_usable += 1ull << o;
		buddy_free_clean(pfn, o);
		pfn += 1ull << o;
	}
	spin_unlock_irqrestore(&zone.lock, f);
	if (skipped)
		pr_err("frame_add_free_range: %llu frames were not reserved, skipped\n",
		       (unsigned long long)skipped);
}

/* Exact counts at the moment of the call (zone.lock held while copying). Process context. */
void frame_get_stats(struct frame_stats *st)
{
	irqflags_t f = spin_lock_irqsave(&zone.lock);
	uint64_t pcp_frames = 0;

	for (unsigned c = 0; c < MAX_CPUS; c++)
		pcp_frames += READ_ONCE(pcps[c].count);
	st->free =
	    zone.nr_free + pcp_frames - (uint64_t)__atomic_load_n(&nr_pcp_lazy, __ATOMIC_RELAXED);
	for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
		st->free_by_order[o] = zone.nr_blocks[o];
	st->isolated = (uint64_t)__atomic_load_n(&nr_isolated, __ATOMIC_RELAXED);
	spin_unlock_irqrestore(&zone.lock, f);
	st->total = nr_pfn;
	st->usable = nr_usable;
	st->reserved = nr_pfn - nr_usable;
	st->poisoned = 0;
	for (pfn_t i = 0; i < nr_pfn; i++)
		st->poisoned += page_poisoned(&mem_map[i]);
}

/* Free frames, unlocked; see frame.h. Any context. */
uint64_t frame_nr_free(void)
{
	int64_t n = (int64_t)READ_ONCE(zone.nr_free) -
		    __atomic_load_n(&nr_pcp_lazy, __ATOMIC_RELAXED);

	for (unsigned c = 0; c < MAX_CPUS; c++)
		n += READ_ONCE(pcps[c].count);
	return n > 0 ? (uint64_t)n : 0;
}

/* The struct page of pfn, or NULL when pfn is not described. Any context. */
struct page *pfn_to_page(pfn_t pfn)
{
	return pfn < nr_pfn ? &mem_map[pfn] : NULL;
}

/* The frame number of a described struct page. Any context. */
pfn_t page_to_pfn(const struct page *pg)
{
	return (pfn_t)(pg - mem_map);
}

/* One past the highest described frame number. Any context. */
pfn_t frame_max_pfn(void)
{
	return nr_pfn;
}

/* Direct-map address of the frame. Any context. */
void *page_to_virt(const struct page *pg)
{
	return arch_phys_to_virt((paddr_t)page_to_pfn(pg) << PAGE_SHIFT);
}

/* The struct page of a direct-map address, or NULL if it is not a described frame. Any context. */
struct page *virt_to_page(const void *va)
{
	return pfn_to_page(arch_virt_to_phys(va) >> PAGE_SHIFT);
}
