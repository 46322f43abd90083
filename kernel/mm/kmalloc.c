/* The kernel heap. Requests up to KMALLOC_MAX_SMALL bytes come from power-of-two size classes
 * (16 B .. 2 KiB), each carved out of single PG_SLAB frames; larger ones get a whole buddy
 * block (PG_KERNEL, priv = &large_tag). kfree finds which from the frame's struct page, so no
 * header sits in front of an object and every object is aligned to its class size.
 *
 * A slab frame keeps its bookkeeping in its struct page: priv heads the chain of free
 * objects (linked through their first word), slab_inuse counts handed-out objects, slab_class
 * names the class, and link puts it on its class's list of slabs with free room. A free object
 * also carries FREE_MAGIC in its second word, so a double free is suspected in O(1) and
 * confirmed by walking that slab's free chain. A slab that becomes empty stays with its class
 * as one of a small reserve (KMALLOC_RESERVE per class, as SLUB keeps a few empty slabs per
 * cache), so alternating allocations and frees do not take frames from and give them back to
 * the frame allocator each time; past the reserve, or poisoned, it goes back at once.
 * kmalloc_drain gives the reserve back.
 *
 * Locks: one spinlock per class (irqsave); lock order: class lock, then the zone lock. */
#include "kmalloc.h"
#include "frame.h"
#include "kstring.h"
#include "printk.h"
#include "spinlock.h"

#define KMALLOC_MIN_SHIFT 4  /* 16 bytes: room for the free chain link and the magic */
#define KMALLOC_MAX_SHIFT 11 /* 2 KiB: two objects per frame */
#define KMALLOC_MAX_SMALL (1u << KMALLOC_MAX_SHIFT)
#define KMALLOC_NCLASS (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)
#define FREE_MAGIC 0x46524545c0ffee11ull /* second word of every free object */
#define KMALLOC_RESERVE 8 /* empty slabs a class keeps (at most 64 frames in all) */

/* Owner bits that must be exactly PG_SLAB for a live slab frame (poison may ride along). */
#define PG_OWNER_BITS_ALL (PG_RESERVED | PG_BUDDY | PG_PCP | PG_KIND_MASK | PG_TAIL | PG_ISOLATED)

struct free_obj {
	struct free_obj *next;
	uint64_t magic;
};

struct kmem_class {
	spinlock_t lock;
	struct list_node partial; /* slab frames with at least one free object */
	struct list_node empty;	  /* the reserve: slabs with every object free */
	unsigned nr_empty;
	uint32_t size;		  /* object size, a power of two */
	uint32_t per_slab;	  /* objects per frame */
};

static struct kmem_class classes[KMALLOC_NCLASS];
static char large_tag; /* its address marks a large kmalloc block in pg->priv */

static unsigned size_class(size_t size)
{
	unsigned shift = KMALLOC_MIN_SHIFT;

	while ((1ul << shift) < size)
		shift++;
	return shift - KMALLOC_MIN_SHIFT;
}

/* Set up the size classes. Boot, before the first kmalloc (after frame_init). */
void kmalloc_init(void)
{
	for (unsigned c = 0; c < KMALLOC_NCLASS; c++) {
		spin_init(&classes[c].lock);
		list_init(&classes[c].partial);
		list_init(&classes[c].empty);
		classes[c].nr_empty = 0;
		classes[c].size = 1u << (c + KMALLOC_MIN_SHIFT);
		classes[c].per_slab = (uint32_t)(PAGE_SIZE >> (c + KMALLOC_MIN_SHIFT));
	}
}

/* A fresh slab frame for class c with every object on its free chain, or NULL. Lock held. */
static struct page *slab_new(unsigned c)
{
	struct kmem_class *kc = &classes[c];
	struct page *pg = frame_alloc(0, PG_SLAB);

	if (!pg)
		return NULL;
	char *base = page_to_virt(pg);
	struct free_obj *head = NULL;
	for (uint32_t i = kc->per_slab; i-- > 0;) {
		struct free_obj *o = (struct free_obj *)(base + (size_t)i * kc->size);
		o->next = head;
		o->magic = FREE_MAGIC;
		head = o;
	}
	pg->priv = head;
	pg->slab_inuse = 0;
	pg->slab_class = (uint8_t)c;
	list_add(&pg->link, &kc->partial);
	return pg;
}

static void *kmalloc_small_once(size_t size)
{
	unsigned c = size_class(size);
	struct kmem_class *kc = &classes[c];
	irqflags_t f = spin_lock_irqsave(&kc->lock);
	struct page *pg;

	for (;;) {
		if (list_empty(&kc->partial) && kc->nr_empty) { /* a reserve slab first */
			pg = list_first_entry(&kc->empty, struct page, link);
			list_del(&pg->link);
			kc->nr_empty--;
			if (page_poisoned(pg)) { /* hit while in the reserve: retire it */
				pg->priv = NULL;
				frame_free(pg, 0);
				continue;
			}
			list_add(&pg->link, &kc->partial);
		}
		if (list_empty(&kc->partial)) {
			pg = slab_new(c);
			break;
		}
		pg = list_first_entry(&kc->partial, struct page, link);
		if (!page_poisoned(pg))
			break;
		/* A memory error hit this slab: retire it. Its live objects stay valid until
		 * kfree; no new object comes from it, and its last kfree keeps the frame out. */
		list_del(&pg->link);
	}
	struct free_obj *o = NULL;
	if (pg) {
		o = pg->priv;
		pg->priv = o->next;
		pg->slab_inuse++;
		if (!pg->priv)
			list_del(&pg->link);
		o->magic = 0;
	}
	spin_unlock_irqrestore(&kc->lock, f);
	return o;
}

/* A small object; when no frame is left for a new slab, the reserves of every class go back
 * to the frame allocator (outside any class lock) and it tries once more. */
static void *kmalloc_small(size_t size)
{
	void *p = kmalloc_small_once(size);

	if (!p) {
		kmalloc_drain();
		p = kmalloc_small_once(size);
	}
	return p;
}

static void *kmalloc_large(size_t size)
{
	unsigned order = 0;

	while ((PAGE_SIZE << order) < size) {
		if (++order > FRAME_MAX_ORDER)
			return NULL;
	}
	struct page *pg = frame_alloc(order, PG_KERNEL);
	if (!pg) {
		kmalloc_drain(); /* the empty slabs kept in reserve may be what it needs */
		pg = frame_alloc(order, PG_KERNEL);
	}
	if (!pg)
		return NULL;
	pg->priv = &large_tag;
	return page_to_virt(pg);
}

/* Allocate size bytes aligned to 16 (and to the size class); NULL on size 0 or no memory.
 * Takes a class lock, may take the zone lock. Process or IRQ context; not #MC/NMI. */
void *kmalloc(size_t size)
{
	if (!size)
		return NULL;
	if (size <= KMALLOC_MAX_SMALL)
		return kmalloc_small(size);
	return kmalloc_large(size);
}

/* kmalloc, then zero-filled. Same contexts and locks as kmalloc. */
void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

static bool on_free_chain(const struct page *pg, const struct free_obj *obj)
{
	for (const struct free_obj *o = pg->priv; o; o = o->next)
		if (o == obj)
			return true;
	return false;
}

/* Put obj back on its slab; false (nothing changed) if it is already free. */
static bool slab_free(struct page *pg, struct free_obj *obj)
{
	struct kmem_class *kc = &classes[pg->slab_class];
	irqflags_t f = spin_lock_irqsave(&kc->lock);
	bool ok = !(obj->magic == FREE_MAGIC && on_free_chain(pg, obj)) && pg->slab_inuse;

	if (ok) {
		if (!pg->priv && !page_poisoned(pg)) /* a retired slab never returns to the list */
			list_add(&pg->link, &kc->partial);
		obj->next = pg->priv;
		obj->magic = FREE_MAGIC;
		pg->priv = obj;
		if (--pg->slab_inuse == 0) {
			list_del(&pg->link); /* a no-op for a retired slab: its link points to itself */
			if (!page_poisoned(pg) && kc->nr_empty < KMALLOC_RESERVE) {
				list_add(&pg->link, &kc->empty);
				kc->nr_empty++;
			} else {
				pg->priv = NULL;
				frame_free(pg, 0);
			}
		}
	}
	spin_unlock_irqrestore(&kc->lock, f);
	return ok;
}

/* Free a pointer from kmalloc/kzalloc; NULL is ignored. Pointers kmalloc did not return and
 * double frees are reported (KERN_ERR) and ignored where detectable. Same contexts as kmalloc. */
void kfree(void *p)
{
	if (!p)
		return;
	struct page *pg = virt_to_page(p);
	if (!pg)
		goto bad;
	uint32_t owner = __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_OWNER_BITS_ALL;
	size_t off = (size_t)((char *)p - (char *)page_to_virt(pg));

	if (owner == PG_SLAB && pg->slab_class < KMALLOC_NCLASS) {
		if (off % classes[pg->slab_class].size)
			goto bad;
		if (!slab_free(pg, p))
			goto bad;
		return;
	}
	if (owner == PG_KERNEL && pg->priv == &large_tag && off == 0) {
		pg->priv = NULL;
		frame_free(pg, pg->order);
		return;
	}
bad:
	pr_err("kfree: %p was not returned by kmalloc or is already free; ignored\n", p);
}

/* Give every class's reserve of empty slabs back to the frame allocator (when kmalloc runs
 * out of frames, and for leak checks). Takes each class lock in turn. Process context. */
void kmalloc_drain(void)
{
	for (unsigned c = 0; c < KMALLOC_NCLASS; c++) {
		struct kmem_class *kc = &classes[c];
		irqflags_t f = spin_lock_irqsave(&kc->lock);
		while (kc->nr_empty) {
			struct page *pg = list_first_entry(&kc->empty, struct page, link);
			list_del(&pg->link);
			kc->nr_empty--;
			pg->priv = NULL;
			frame_free(pg, 0);
		}
		spin_unlock_irqrestore(&kc->lock, f);
	}
}
