/* The reverse map: for every user frame, the list of (mm, page address) pairs whose PTE maps
 * it, hung off struct page.priv (BSD pv-entry style). One 24-byte entry per mapping, from
 * kmalloc's 32-byte class. Walking a frame's mappers reads only its own list, so it costs
 * nothing per unrelated task or mapping; adding is O(1) (push at the head) and removing is
 * O(mappings of that frame). The frame's mapcount is kept equal to its list length.
 * docs/rmap.md explains the choice.
 *
 * Lock order (the only place it is written down; every path that nests locks follows it):
 *
 *     mm->lock  ->  shm->lock or pc->lock  ->  rmap lock of a frame  ->  kmalloc class lock
 *               ->  zone lock
 *
 * (a path may skip levels, never go back up; pc->lock is a page cache's, include/pagecache.h).
 * Two mm locks nest only in mm_fork, parent then its brand-new child, which no other path can
 * be holding. rmap locks are spinlocks hashed by frame number (RMAP_NLOCKS of them); no path
 * ever holds two. rmap_walk calls its function with the rmap lock held, so a walker that must
 * change mappings (memory_failure) collects (mm, va) pairs with mm_tryget first, returns, and
 * only then takes each mm->lock. None is taken in #MC/NMI context. */
#include "rmap.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "spinlock.h"
#include "vm.h"

#define RMAP_LOCK_BITS 6
#define RMAP_NLOCKS (1u << RMAP_LOCK_BITS)

struct rmap_ent {
	struct rmap_ent *next;
	struct mm *mm;
	vaddr_t va;
};

static spinlock_t rmap_locks[RMAP_NLOCKS] = {[0 ... RMAP_NLOCKS - 1] = SPINLOCK_INIT};
static long nr_entries; /* atomic: live entries, all frames */

static spinlock_t *rmap_lock_of(const struct page *pg)
{
	return &rmap_locks[page_to_pfn(pg) & (RMAP_NLOCKS - 1)];
}

static void mapcount_add(struct page *pg, int d)
{
	__atomic_fetch_add(&pg->mapcount, d, __ATOMIC_RELAXED);
}

/* Record (mm, va) as a mapping of pg; see rmap.h. mm->lock held. */
int rmap_add(struct page *pg, struct mm *mm, vaddr_t va)
{
	struct rmap_ent *e = kmalloc(sizeof(*e));
	spinlock_t *l = rmap_lock_of(pg);

	if (!e)
		return -ENOMEM;
	e->mm = mm;
	e->va = va;
	spin_lock(l);
	e->next = pg->priv;
	pg->priv = e;
	mapcount_add(pg, 1);
	spin_unlock(l);
	__atomic_fetch_add(&nr_entries, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Forget (mm, va) as a mapping of pg; see rmap.h. mm->lock held. */
int rmap_remove(struct page *pg, struct mm *mm, vaddr_t va)
{
	spinlock_t *l = rmap_lock_of(pg);
	struct rmap_ent **pp, *e = NULL;

	spin_lock(l);
	for (pp = (struct rmap_ent **)&pg->priv; *pp; pp = &(*pp)->next) {
		if ((*pp)->mm == mm && (*pp)->va == va) {
			e = *pp;
			*pp = e->next;
			mapcount_add(pg, -1);
			break;
		}
	}
	spin_unlock(l);
	if (!e) {
		pr_err("rmap: pfn %#llx has no mapping at %#llx in mm %p\n",
		       (unsigned long long)page_to_pfn(pg), (unsigned long long)va, (void *)mm);
		return -ENOENT;
	}
	kfree(e);
	__atomic_fetch_sub(&nr_entries, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Visit every mapping of pg under its rmap lock; see rmap.h. Process context. */
int rmap_walk(struct page *pg, int (*fn)(struct mm *mm, vaddr_t va, void *arg), void *arg)
{
	spinlock_t *l = rmap_lock_of(pg);
	int ret = 0;

	spin_lock(l);
	for (struct rmap_ent *e = pg->priv; e && !ret; e = e->next)
		ret = fn(e->mm, e->va, arg);
	spin_unlock(l);
	return ret;
}

/* PTEs mapping pg. Any context. */
int rmap_count(const struct page *pg)
{
	return __atomic_load_n(&pg->mapcount, __ATOMIC_RELAXED);
}

/* Live rmap entries in the system. Any context. */
long rmap_nr_entries(void)
{
	return __atomic_load_n(&nr_entries, __ATOMIC_RELAXED);
}

/* Add (mm, va) to the batch, keeping mm with mm_tryget; stops the walk when out of memory. */
static int collect_one(struct mm *mm, vaddr_t va, void *arg)
{
	struct rmap_batch *c = arg;
	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 16;
		struct rmap_mapper *v = kmalloc(cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return 1;
		}
		if (c->n)
			memcpy(v, c->v, c->n * sizeof(*v));
		kfree(c->v);
		c->v = v;
		c->cap = cap;
	}
	if (mm_tryget(mm))
		c->v[c->n++] = (struct rmap_mapper){mm, va};
	return 0;
}

unsigned rmap_collect_round(struct page *pg, rmap_batch_fn act, unsigned round, void *arg)
{
	struct rmap_batch c = {0};
	rmap_walk(pg, collect_one, &c); /* on OOM the caller's loop comes back for the rest */
	act(&c, round, arg);
	for (unsigned i = 0; i < c.n; i++)
		mm_put(c.v[i].mm);
	kfree(c.v);
	return c.n;
}

/* Collect every mapping of pg, then act on the batch with no rmap lock held; again while
 * mappings remain (a racing fork adds some); see rmap.h. Process context. */
int rmap_collect_then_act(struct page *pg, rmap_batch_fn act, void *arg)
{
	unsigned total = 0, rounds = 0;
	while (rmap_count(pg) > 0 && rounds++ < RMAP_WALK_ROUNDS)
		total += rmap_collect_round(pg, act, rounds, arg);
	return rmap_count(pg) > 0 ? -EBUSY : (int)total;
}
