/* The reverse map, object-based as Linux's (include/rmap.h; docs/rmap.md for the design and
 * its costs). A user frame is anchored in an anon_vma or an rmap_object and carries its page
 * index there; a walk goes from the anchor to the VMAs that may map the frame and keeps those
 * whose PTE at the address the index gives maps it.
 *
 * anon_vmas form one tree per fork family: each VMA that has private pages of its own has an
 * anon_vma, whose parent is the anon_vma of the VMA it was forked from; the VMA is linked
 * (anon_vma_chain entries) to its own and to every ancestor's, because it may still map their
 * pages. So fork costs one chain entry per ancestor per VMA and nothing per page, and a page
 * created in one process after a fork is searched for only in that process and its children.
 * An anon_vma that no VMA owns any more and that has at most one child is taken over by a new
 * child instead of giving it a new one (Linux 3.19's rule), so a chain of forks does not make
 * chains of ever more entries.
 *
 * Lock order (the only place it is written down; every path that nests locks follows it):
 *
 *     mm->lock  ->  pc->lock  ->  rmap_object lock  ->  anon_vma root lock
 *               ->  kmalloc class lock  ->  zone lock
 *
 * (a path may skip levels, never go back up; pc->lock is a page cache's, include/pagecache.h).
 * Two mm locks nest only in mm_fork, parent then its brand-new child, which no other path can
 * be holding. The anon_vmas of one family share
 * their root's lock; it guards their lists, counts and the bounds of the VMAs on them. A
 * walker holds only its page's anchor lock and reads PTEs without mm->lock: a VMA stays on its
 * anchors until its mm has no PTE left there, and page tables are freed only after every VMA
 * of the mm is unlinked. rmap_walk calls its function with that lock held, so a walker that
 * must change mappings (memory_failure) collects (mm, va) pairs with mm_tryget first, returns,
 * and only then takes each mm->lock. None is taken in #MC/NMI context.
 *
 * Lifetimes: an anon_vma is referenced by its chain entries, its anchored pages and its child
 * anon_vmas, so a page's anchor lives as long as the page and a family's root (and its lock)
 * as long as any member. An rmap_object is referenced by its owner and its anchored pages. */
#include "rmap.h"
#include "arch/mmu.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "rmap_priv.h"
#include "vm.h"

static long nr_anon_vmas, nr_avcs; /* atomic: live ones, for leak checks */

static void count(long *c, long d) { __atomic_fetch_add(c, d, __ATOMIC_RELAXED); }
static uint64_t vma_pages(const struct vma *v) { return (v->end - v->start) >> PAGE_SHIFT; }

/* ---- anon_vma and chain entries ---- */

static void av_get(struct anon_vma *av)
{
	__atomic_fetch_add(&av->refcount, 1, __ATOMIC_RELAXED);
}

/* Drop a reference; the last one frees av and drops its reference on its parent. Takes the
 * family lock to count the parent's children: never call it with that lock held. */
static void av_put(struct anon_vma *av)
{
	while (av && !__atomic_sub_fetch(&av->refcount, 1, __ATOMIC_ACQ_REL)) {
		struct anon_vma *parent = av->parent;
		if (parent) {
			spin_lock(&av->root->lock);
			parent->nr_children--;
			spin_unlock(&av->root->lock);
		}
		kfree(av);
		count(&nr_anon_vmas, -1);
		av = parent; /* it may have been the last thing holding the parent */
	}
}

/* A new anon_vma, its own root until attached under a parent; no references yet. */
static struct anon_vma *av_alloc(void)
{
	struct anon_vma *av = kzalloc(sizeof(*av));
	if (!av)
		return NULL;
	av->root = av;
	spin_init(&av->lock);
	list_init(&av->avcs);
	count(&nr_anon_vmas, 1);
	return av;
}

/* Free an anon_vma that was never attached or referenced. */
static void av_discard(struct anon_vma *av)
{
	kfree(av);
	count(&nr_anon_vmas, -1);
}

/* n chain entries on list (through same_vma), or -ENOMEM and none. */
static int avcs_alloc(struct list_node *list, unsigned n)
{
	list_init(list);
	for (unsigned i = 0; i < n; i++) {
		struct anon_vma_chain *c = kmalloc(sizeof(*c));
		if (!c) {
			struct list_node *p, *t;
			list_for_each_safe(p, t, list)
				kfree(list_entry(p, struct anon_vma_chain, same_vma));
			list_init(list);
			return -ENOMEM;
		}
		list_add(&c->same_vma, list);
	}
	count(&nr_avcs, n);
	return 0;
}

/* Free the entries left on list; each holds a reference on its anon_vma when put is set. */
static void avcs_free(struct list_node *list, bool put)
{
	struct list_node *p, *t;
	list_for_each_safe(p, t, list) {
		struct anon_vma_chain *c = list_entry(p, struct anon_vma_chain, same_vma);
		if (put)
			av_put(c->av);
		kfree(c);
		count(&nr_avcs, -1);
	}
	list_init(list);
}

/* Link v to av with an entry from spare. The family lock is held (or the family is new). */
static void avc_link(struct list_node *spare, struct vma *v, struct anon_vma *av)
{
	struct anon_vma_chain *c = list_first_entry(spare, struct anon_vma_chain, same_vma);
	list_del(&c->same_vma);
	c->vma = v;
	c->av = av;
	list_add_tail(&c->same_vma, &v->anon_chain);
	list_add_tail(&c->same_av, &av->avcs);
	av_get(av);
}

static unsigned chain_len(const struct vma *v)
{
	unsigned n = 0;
	const struct list_node *p;
	list_for_each(p, &v->anon_chain)
		n++;
	return n;
}

static spinlock_t *family_lock(const struct vma *v)
{
	return v->anon_vma ? &v->anon_vma->root->lock : NULL;
}

/* v's first private page: a new family with v's own anon_vma as its root. mm->lock held. */
int rmap_anon_prepare(struct vma *v)
{
	struct list_node spare;
	struct anon_vma *av;
	if (v->anon_vma)
		return 0;
	av = av_alloc();
	if (!av || avcs_alloc(&spare, 1)) {
		if (av)
			av_discard(av);
		return -ENOMEM;
	}
	av->nr_active = 1;
	avc_link(&spare, v, av); /* nobody else can see the new family yet */
	v->anon_vma = av;
	return 0;
}

/* ---- page anchors ---- */

/* Anchor the new page pg mapped at va in v in v's anon_vma. mm->lock held. */
void rmap_page_set_anon(struct page *pg, struct vma *v, vaddr_t va)
{
	av_get(v->anon_vma);
	pg->index = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
	__atomic_store_n(&pg->priv, (void *)((uintptr_t)v->anon_vma | RMAP_ANCHOR_ANON),
			 __ATOMIC_RELEASE);
}

/* Anchor pg, read back from swap for va in v, in the root of v's anon_vma family unless
 * another fault anchored it first. mm->lock held. */
void rmap_page_set_anon_swapped(struct page *pg, struct vma *v, vaddr_t va)
{
	struct anon_vma *root = v->anon_vma->root;
	void *none = NULL;

	av_get(root);
	pg->index = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
	if (!__atomic_compare_exchange_n(&pg->priv, &none,
					 (void *)((uintptr_t)root | RMAP_ANCHOR_ANON), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		av_put(root);
}

static void obj_get(struct rmap_object *obj)
{
	__atomic_fetch_add(&obj->refcount, 1, __ATOMIC_RELAXED);
}

static void obj_put(struct rmap_object *obj)
{
	if (!__atomic_sub_fetch(&obj->refcount, 1, __ATOMIC_ACQ_REL))
		obj->release(obj);
}

/* Anchor pg at index in obj. Process context. */
void rmap_page_set_object(struct page *pg, struct rmap_object *obj, uint64_t index)
{
	obj_get(obj);
	pg->index = index;
	__atomic_store_n(&pg->priv, obj, __ATOMIC_RELEASE);
}

/* new gets old's anchor and index (soft offline). */
void rmap_page_copy_anchor(struct page *new, const struct page *old)
{
	struct anon_vma *av = rmap_page_anon(old->priv);
	if (av)
		av_get(av);
	else if (old->priv)
		obj_get(old->priv);
	new->index = old->index;
	__atomic_store_n(&new->priv, old->priv, __ATOMIC_RELEASE);
}

struct rmap_object *rmap_page_object(const struct page *pg)
{
	void *a = __atomic_load_n(&pg->priv, __ATOMIC_ACQUIRE);
	return rmap_page_anon(a) ? NULL : a;
}

/* The frame of pg is being freed: drop its anchor. */
void rmap_page_release(struct page *pg)
{
	void *a = __atomic_exchange_n(&pg->priv, NULL, __ATOMIC_ACQ_REL);
	struct anon_vma *av = rmap_page_anon(a);
	if (av)
		av_put(av);
	else if (a)
		obj_put(a);
}

/* ---- objects ---- */

void rmap_object_init(struct rmap_object *obj, void (*release)(struct rmap_object *obj))
{
	spin_init(&obj->lock);
	obj->refcount = 1;
	list_init(&obj->vmas);
	obj->release = release;
}

void rmap_object_put(struct rmap_object *obj) { obj_put(obj); }

void rmap_object_link(struct rmap_object *obj, struct vma *v)
{
	spin_lock(&obj->lock);
	list_add_tail(&v->obj_link, &obj->vmas);
	v->obj = obj;
	spin_unlock(&obj->lock);
}

/* ---- VMAs ---- */

void rmap_vma_lock(const struct vma *v)
{
	spinlock_t *l = family_lock(v);
	if (v->obj)
		spin_lock(&v->obj->lock);
	if (l)
		spin_lock(l);
}

void rmap_vma_unlock(const struct vma *v)
{
	spinlock_t *l = family_lock(v);
	if (l)
		spin_unlock(l);
	if (v->obj)
		spin_unlock(&v->obj->lock);
}

/* dst gets src's anchors; when cut_src, src then ends where dst starts, under the same locks. */
static int link_copy(struct vma *dst, struct vma *src, bool cut_src)
{
	struct list_node spare;
	list_init(&dst->anon_chain);
	dst->anon_vma = NULL;
	dst->obj = NULL;
	if (avcs_alloc(&spare, chain_len(src)))
		return -ENOMEM;
	rmap_vma_lock(src);
	if (src->obj) {
		list_add_tail(&dst->obj_link, &src->obj->vmas);
		dst->obj = src->obj;
	}
	struct list_node *p;
	list_for_each(p, &src->anon_chain)
		avc_link(&spare, dst, list_entry(p, struct anon_vma_chain, same_vma)->av);
	if (src->anon_vma) {
		dst->anon_vma = src->anon_vma;
		dst->anon_vma->nr_active++;
	}
	if (cut_src)
		src->end = dst->start;
	rmap_vma_unlock(src);
	return 0;
}

int rmap_vma_split(struct vma *v, struct vma *n) { return link_copy(n, v, true); }
int rmap_vma_copy(struct vma *dst, const struct vma *src)
{
	return link_copy(dst, (struct vma *)src, false);
}

/* The first anon_vma of parent's chain that nobody owns and that has at most one child (never
 * the root): a fork may take it over instead of adding a generation. Family lock held. */
static struct anon_vma *reusable(const struct vma *parent)
{
	const struct list_node *p;
	list_for_each(p, &parent->anon_chain) {
		struct anon_vma *av = list_entry(p, struct anon_vma_chain, same_vma)->av;
		if (av->parent && !av->nr_active && av->nr_children < 2)
			return av;
	}
	return NULL;
}

/* fork; see rmap.h. Both mm locks held. */
int rmap_vma_fork(struct vma *child, const struct vma *parent)
{
	struct list_node spare;
	struct anon_vma *av;
	list_init(&child->anon_chain);
	child->anon_vma = NULL;
	child->obj = NULL;
	if (parent->obj)
		rmap_object_link(parent->obj, child);
	if (!parent->anon_vma)
		return 0;
	av = av_alloc();
	if (!av || avcs_alloc(&spare, chain_len(parent) + 1)) {
		if (av)
			av_discard(av);
		rmap_vma_unlink(child);
		return -ENOMEM;
	}
	spin_lock(family_lock(parent));
	struct list_node *p;
	list_for_each(p, &parent->anon_chain)
		avc_link(&spare, child, list_entry(p, struct anon_vma_chain, same_vma)->av);
	struct anon_vma *own = reusable(parent);
	if (!own) {
		own = av;
		av = NULL;
		own->root = parent->anon_vma->root;
		own->parent = parent->anon_vma;
		av_get(own->parent);
		own->parent->nr_children++;
		avc_link(&spare, child, own);
	}
	own->nr_active++;
	child->anon_vma = own;
	spin_unlock(family_lock(parent));
	if (av)
		av_discard(av);
	avcs_free(&spare, false);
	return 0;
}

static bool same_chain(const struct vma *a, const struct vma *b)
{
	const struct list_node *p = a->anon_chain.next, *q = b->anon_chain.next;
	for (; p != &a->anon_chain && q != &b->anon_chain; p = p->next, q = q->next)
		if (list_entry(p, struct anon_vma_chain, same_vma)->av !=
		    list_entry(q, struct anon_vma_chain, same_vma)->av)
			return false;
	return p == &a->anon_chain && q == &b->anon_chain;
}

/* See rmap.h. mm->lock held. */
bool rmap_vma_mergeable(const struct vma *a, const struct vma *b)
{
	if (a->obj != b->obj || (a->obj && a->pgoff + vma_pages(a) != b->pgoff))
		return false;
	if (!a->anon_vma || !b->anon_vma) /* one side has no pages: its indexes can follow */
		return a->anon_vma || !b->anon_vma || b->pgoff >= vma_pages(a);
	return a->anon_vma == b->anon_vma && a->pgoff + vma_pages(a) == b->pgoff &&
	       same_chain(a, b);
}

/* Unlink every chain entry of v from its anon_vma onto gone (family lock held). */
static void chain_unlink(struct vma *v, struct list_node *gone)
{
	struct list_node *p, *t;
	list_init(gone);
	list_for_each_safe(p, t, &v->anon_chain) {
		struct anon_vma_chain *c = list_entry(p, struct anon_vma_chain, same_vma);
		list_del(&c->same_av);
		list_del(&c->same_vma);
		list_add_tail(&c->same_vma, gone);
	}
	if (v->anon_vma)
		v->anon_vma->nr_active--;
	v->anon_vma = NULL;
}

/* lo and hi (adjacent, lo below) become keep, one of them; see rmap.h. mm->lock held. */
void rmap_vma_merge(struct vma *lo, struct vma *hi, struct vma *keep)
{
	struct vma *gone = keep == lo ? hi : lo;
	uint64_t pgoff = lo->anon_vma || !hi->anon_vma ? lo->pgoff : hi->pgoff - vma_pages(lo);
	spinlock_t *l = family_lock(lo) ? family_lock(lo) : family_lock(hi);
	struct list_node dead;
	list_init(&dead);
	if (keep->obj) /* both on it: gone leaves it in the same step as keep grows */
		spin_lock(&keep->obj->lock);
	if (l)
		spin_lock(l);
	keep->start = lo->start;
	keep->end = hi->end;
	keep->pgoff = pgoff;
	if (!keep->anon_vma && gone->anon_vma) { /* keep takes gone's chain over */
		struct list_node *p, *t;
		list_for_each_safe(p, t, &gone->anon_chain) {
			struct anon_vma_chain *c = list_entry(p, struct anon_vma_chain, same_vma);
			list_del(&c->same_vma);
			list_add_tail(&c->same_vma, &keep->anon_chain);
			c->vma = keep;
		}
		keep->anon_vma = gone->anon_vma;
		gone->anon_vma = NULL;
	} else if (gone->anon_vma) {
		chain_unlink(gone, &dead); /* the same anon_vmas as keep's */
	}
	if (l)
		spin_unlock(l);
	if (keep->obj) {
		list_del(&gone->obj_link);
		gone->obj = NULL;
		spin_unlock(&keep->obj->lock);
	}
	avcs_free(&dead, true);
}

void rmap_vma_set_bounds(struct vma *v, vaddr_t start, vaddr_t end, uint64_t pgoff)
{
	rmap_vma_lock(v);
	v->start = start;
	v->end = end;
	v->pgoff = pgoff;
	rmap_vma_unlock(v);
}

/* Take v off every anchor. mm->lock held. */
void rmap_vma_unlink(struct vma *v)
{
	struct list_node dead;
	if (v->obj) {
		spin_lock(&v->obj->lock);
		list_del(&v->obj_link);
		spin_unlock(&v->obj->lock);
		v->obj = NULL;
	}
	if (!v->anon_vma) {
		list_init(&v->anon_chain);
		return;
	}
	spinlock_t *l = family_lock(v);
	spin_lock(l);
	chain_unlink(v, &dead);
	spin_unlock(l);
	avcs_free(&dead, true);
}

/* ---- walks ---- */

typedef int (*rmap_fn)(struct mm *mm, vaddr_t va, void *arg);

/* fn(mm, va) if v maps pg where pg's index falls in v. Anchor lock held. */
static int visit(const struct vma *v, const struct page *pg, rmap_fn fn, void *arg)
{
	struct pte_info pi;
	if (pg->index < v->pgoff || pg->index - v->pgoff >= vma_pages(v))
		return 0;
	vaddr_t va = v->start + ((pg->index - v->pgoff) << PAGE_SHIFT);
	if (arch_pt_get(v->mm->pt, va, &pi) || !pi.present || pi.pfn != page_to_pfn(pg))
		return 0;
	return fn(v->mm, va, arg);
}

/* The walk of rmap_walk; with still, -EBUSY at once when the anchor's lock is held. */
static int walk(struct page *pg, rmap_fn fn, void *arg, bool still)
{
	void *a = __atomic_load_n(&pg->priv, __ATOMIC_ACQUIRE);
	struct anon_vma *av = rmap_page_anon(a);
	struct rmap_object *obj = av ? NULL : a;
	spinlock_t *l = av ? &av->root->lock : obj ? &obj->lock : NULL;
	struct list_node *p;
	int ret = 0;
	if (!l)
		return 0;
	if (!still)
		spin_lock(l);
	else if (!spin_trylock(l))
		return -EBUSY;
	if (av) {
		for (p = av->avcs.next; p != &av->avcs && !ret; p = p->next)
			ret = visit(list_entry(p, struct anon_vma_chain, same_av)->vma, pg, fn, arg);
	} else {
		for (p = obj->vmas.next; p != &obj->vmas && !ret; p = p->next)
			ret = visit(list_entry(p, struct vma, obj_link), pg, fn, arg);
	}
	spin_unlock(l);
	return ret;
}

/* Every mapping of pg; see rmap.h. Process context; the caller holds a reference on pg. */
int rmap_walk(struct page *pg, rmap_fn fn, void *arg) { return walk(pg, fn, arg, false); }

/* rmap_walk for a consistency check that runs while every other CPU is still; see rmap.h. */
int rmap_walk_still(struct page *pg, rmap_fn fn, void *arg) { return walk(pg, fn, arg, true); }

/* PTEs mapping pg. Any context. */
int rmap_count(const struct page *pg)
{
	return __atomic_load_n(&pg->mapcount, __ATOMIC_RELAXED);
}

long rmap_nr_anon_vmas(void) { return __atomic_load_n(&nr_anon_vmas, __ATOMIC_RELAXED); }
long rmap_nr_avcs(void) { return __atomic_load_n(&nr_avcs, __ATOMIC_RELAXED); }
