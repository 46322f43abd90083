/* Mappings of hugetlb pages: MAP_HUGETLB anonymous memory and hugetlbfs files, as Linux 6.1
 * maps them.
 *
 * A shared mapping (MAP_SHARED, or any mapping of a hugetlbfs file that writes reach) maps the
 * runs of a struct hugetlb_obj, one per 2 MiB slot, filled on first touch; the object is the
 * rmap anchor of its frames (each at its 4 KiB index) and lives while its owner (the inode, or
 * the anonymous mapping itself) or a VMA holds it. A private mapping takes a fresh run on first
 * touch of each 2 MiB (zeroed, or a copy of the file's page), anchored as private anonymous
 * memory; fork shares it copy-on-write and the first write copies 2 MiB (the pool must have a
 * free run, else SIGBUS, as Linux's child would get; Linux also lets the parent take the
 * child's page instead, MCRK does not).
 *
 * Reservations are made at mmap time, as Linux's hugetlb_reserve_pages: a shared mapping
 * reserves each slot of its range that has no run and no reservation yet (the object keeps
 * them until truncate or its death); a private one reserves its whole length, kept in its VMA
 * (a forked child owns none). mmap fails with -ENOMEM when the pool cannot cover it;
 * MAP_NORESERVE reserves nothing. A fault that owns a reservation never fails for want of a
 * huge page; one that does not gets SIGBUS when the pool is empty.
 *
 * A run that a memory error took out of the pool (hugetlb.c) is no longer mapped whole: faults
 * map its frames 4 KiB at a time, and a poisoned frame is -EHWPOISON (SIGBUS at that 4 KiB).
 *
 * Locks: mm->lock, then the object's lock; nothing takes mm->lock with the object's held. */
#include "hugetlb.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "vm_priv.h"

struct hugetlb_obj {
	struct list_node link; /* on objects (vm_check counts the slots' references) */
	int32_t refcount; /* atomic: the owner and each VMA that maps it */
	spinlock_t lock;  /* nhuge, runs[], resv[] */
	struct rmap_object obj;
	uint64_t nhuge;
	struct page **runs; /* each slot's run (its first frame), or NULL */
	uint8_t *resv;	    /* each slot: reserved by a mapping and not filled yet */
};

#define SLOT_SIZE HUGETLB_SIZE

static spinlock_t objects_lock = SPINLOCK_INIT; /* a leaf */
static struct list_node objects = LIST_HEAD_INIT(objects);

static void obj_release(struct rmap_object *obj)
{
	kfree(container_of(obj, struct hugetlb_obj, obj));
}

struct hugetlb_obj *hugetlb_obj_create(uint64_t nhuge)
{
	struct hugetlb_obj *o = kzalloc(sizeof(*o));

	if (!o)
		return NULL;
	o->refcount = 1;
	spin_init(&o->lock);
	rmap_object_init(&o->obj, obj_release);
	if (nhuge && hugetlb_obj_resize(o, nhuge)) {
		rmap_object_put(&o->obj);
		return NULL;
	}
	spin_lock(&objects_lock);
	list_add(&o->link, &objects);
	spin_unlock(&objects_lock);
	return o;
}

void hugetlb_obj_get(struct hugetlb_obj *o)
{
	__atomic_fetch_add(&o->refcount, 1, __ATOMIC_RELAXED);
}

/* Drop slot i's run and reservation (the slot is past the end, or the object dies). o->lock
 * held or the object dead. Its frames go as their mappings go. */
static void slot_clear(struct hugetlb_obj *o, uint64_t i)
{
	struct page *run = o->runs[i];

	o->runs[i] = NULL;
	if (o->resv[i])
		hugetlb_unreserve(1);
	o->resv[i] = 0;
	for (unsigned k = 0; run && k < HUGETLB_RUN_PAGES; k++)
		upage_put(&run[k]);
}

void hugetlb_obj_put(struct hugetlb_obj *o)
{
	if (__atomic_sub_fetch(&o->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	spin_lock(&objects_lock);
	list_del(&o->link);
	spin_unlock(&objects_lock);
	spin_lock(&o->lock);
	spin_unlock(&o->lock);
	for (uint64_t i = 0; i < o->nhuge; i++)
		slot_clear(o, i);
	kfree(o->runs);
	kfree(o->resv);
	rmap_object_put(&o->obj);
}

/* Count each slot's reference in held[pfn]; see vm_priv.h. Every other CPU still. */
int hugetlb_count_held(uint16_t *held)
{
	struct list_node *p;

	if (!spin_trylock(&objects_lock))
		return -EBUSY;
	list_for_each(p, &objects) {
		struct hugetlb_obj *o = list_entry(p, struct hugetlb_obj, link);
		if (!spin_trylock(&o->lock)) {
			spin_unlock(&objects_lock);
			return -EBUSY;
		}
		for (uint64_t i = 0; i < o->nhuge; i++)
			for (unsigned k = 0; o->runs[i] && k < HUGETLB_RUN_PAGES; k++)
				held[page_to_pfn(&o->runs[i][k])]++;
		spin_unlock(&o->lock);
	}
	spin_unlock(&objects_lock);
	return 0;
}

uint64_t hugetlb_obj_slots(struct hugetlb_obj *o)
{
	return __atomic_load_n(&o->nhuge, __ATOMIC_ACQUIRE);
}

/* Grow the slot arrays to n. o->lock not held (kmalloc). */
static int obj_grow(struct hugetlb_obj *o, uint64_t n)
{
	struct page **runs = kzalloc(n * sizeof(*runs));
	uint8_t *resv = kzalloc(n);
	struct page **old_runs;
	uint8_t *old_resv;

	if (!runs || !resv) {
		kfree(runs);
		kfree(resv);
		return -ENOMEM;
	}
	spin_lock(&o->lock);
	memcpy(runs, o->runs, MIN(o->nhuge, n) * sizeof(*runs));
	memcpy(resv, o->resv, MIN(o->nhuge, n));
	old_runs = o->runs;
	old_resv = o->resv;
	o->runs = runs;
	o->resv = resv;
	__atomic_store_n(&o->nhuge, MAX(o->nhuge, n), __ATOMIC_RELEASE);
	spin_unlock(&o->lock);
	kfree(old_runs);
	kfree(old_resv);
	return 0;
}

/* ---- unmapping a range of the object from every address space (truncate) ---- */

struct obj_range {
	struct mm *mm;
	vaddr_t start, end;
};

/* The parts of the VMAs on o's list that map slots [from, ...): up to max of them in out, each
 * with a reference on its mm. o->obj.lock held by the caller. */
static unsigned collect_vmas(struct hugetlb_obj *o, uint64_t from, struct obj_range *out,
			     unsigned max)
{
	struct list_node *p;
	unsigned n = 0;
	uint64_t first = from * HUGETLB_RUN_PAGES;

	list_for_each(p, &o->obj.vmas) {
		struct vma *v = list_entry(p, struct vma, obj_link);
		uint64_t vend = v->pgoff + ((v->end - v->start) >> PAGE_SHIFT);
		if (vend <= first || n == max || !mm_tryget(v->mm))
			continue;
		vaddr_t start = v->pgoff >= first ? v->start
						  : v->start + ((first - v->pgoff) << PAGE_SHIFT);
		out[n++] = (struct obj_range){v->mm, start, v->end};
	}
	return n;
}

static unsigned count_vmas(struct hugetlb_obj *o)
{
	struct list_node *p;
	unsigned n = 0;

	list_for_each(p, &o->obj.vmas)
		n++;
	return n;
}

/* Zap what the VMAs mapping o map of slots [from, ...): the truncated part of a file. */
static int unmap_from(struct hugetlb_obj *o, uint64_t from)
{
	spin_lock(&o->obj.lock);
	unsigned cap = count_vmas(o) + 1;
	spin_unlock(&o->obj.lock);
	struct obj_range *r = kmalloc(cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	spin_lock(&o->obj.lock);
	unsigned n = collect_vmas(o, from, r, cap);
	spin_unlock(&o->obj.lock);
	for (unsigned i = 0; i < n; i++) {
		spin_lock(&r[i].mm->lock);
		struct vma *v = vma_tree_find(r[i].mm->vma_root, r[i].start);
		if (v && v->huge == o) /* still the mapping we saw */
			vm_zap_range_locked(r[i].mm, r[i].start, MIN(r[i].end, v->end));
		spin_unlock(&r[i].mm->lock);
		mm_put(r[i].mm);
	}
	kfree(r);
	return 0;
}

int hugetlb_obj_resize(struct hugetlb_obj *o, uint64_t nhuge)
{
	uint64_t old = hugetlb_obj_slots(o);

	if (nhuge > old)
		return obj_grow(o, nhuge);
	if (nhuge == old)
		return 0;
	spin_lock(&o->lock);
	__atomic_store_n(&o->nhuge, nhuge, __ATOMIC_RELEASE); /* faults past it: SIGBUS now */
	spin_unlock(&o->lock);
	int err = unmap_from(o, nhuge);
	spin_lock(&o->lock);
	for (uint64_t i = nhuge; i < old; i++)
		slot_clear(o, i);
	spin_unlock(&o->lock);
	return err;
}

int hugetlb_obj_page(struct hugetlb_obj *o, uint64_t idx, struct page **out)
{
	uint64_t slot = idx / HUGETLB_RUN_PAGES;
	struct page *pg = NULL;

	spin_lock(&o->lock);
	if (slot < o->nhuge && o->runs[slot])
		pg = &o->runs[slot][idx % HUGETLB_RUN_PAGES];
	if (pg && !page_poisoned(pg))
		upage_get(pg);
	spin_unlock(&o->lock);
	*out = pg && !page_poisoned(pg) ? pg : NULL;
	return pg && !*out ? -EIO : 0;
}

void hugetlb_page_put(struct page *pg)
{
	upage_put(pg);
}

/* Reserve the slots [first, first + n) that have no run and no reservation; see vm_priv.h. */
int hugetlb_obj_reserve(struct hugetlb_obj *o, uint64_t first, uint64_t n)
{
	uint64_t need = 0;
	int err;

	spin_lock(&o->lock);
	for (uint64_t i = first; i < first + n && i < o->nhuge; i++)
		need += !o->runs[i] && !o->resv[i];
	err = hugetlb_reserve(need);
	for (uint64_t i = first; !err && i < first + n && i < o->nhuge; i++)
		if (!o->runs[i])
			o->resv[i] = 1;
	spin_unlock(&o->lock);
	return err;
}

/* ---- faults ---- */

static bool run_poisoned(const struct page *run)
{
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		if (page_poisoned(&run[i]))
			return true;
	return false;
}

/* slot's run of o, filled (zeroed, taking its reservation) when empty; the counts of one PTE
 * are taken for the caller: on all 512 frames when whole (the run can be mapped whole), else
 * on the frame at sub only. -ENXIO past the end or when the pool has no run for it. */
static int shared_take(struct hugetlb_obj *o, uint64_t slot, unsigned sub, struct page **out,
		       bool *whole)
{
	struct page *run;

	spin_lock(&o->lock);
	run = slot < o->nhuge ? o->runs[slot] : NULL;
	if (!run && slot < o->nhuge && (run = hugetlb_run_alloc(o->resv[slot])) != NULL) {
		memset(page_to_virt(run), 0, SLOT_SIZE);
		o->resv[slot] = 0;
		for (unsigned k = 0; k < HUGETLB_RUN_PAGES; k++)
			rmap_page_set_object(&run[k], &o->obj, slot * HUGETLB_RUN_PAGES + k);
		o->runs[slot] = run; /* the slot keeps each frame's first reference */
	}
	if (run) {
		*whole = hugetlb_run_intact(run);
		if (*whole)
			thp_dup(run); /* mapcounts first: memory_failure's walk will find the entry */
		else
			upage_dup_pte(&run[sub]);
	}
	spin_unlock(&o->lock);
	*out = run;
	return run ? 0 : -ENXIO;
}

static bool slot_holds(struct hugetlb_obj *o, uint64_t slot, const struct page *run)
{
	spin_lock(&o->lock);
	bool same = slot < o->nhuge && o->runs[slot] == run;
	spin_unlock(&o->lock);
	return same;
}

/* Drop the counts shared_take took when no PTE was made with them. */
static void shared_untake(struct page *run, unsigned sub, bool whole)
{
	if (whole)
		thp_unmap_put(run);
	else
		upage_unmap_put(&run[sub]);
}

static int fault_shared(struct mm *mm, struct vma *v, vaddr_t va)
{
	vaddr_t base = ALIGN_DOWN(va, SLOT_SIZE);
	uint64_t idx = vma_index(v, va);
	unsigned sub = (unsigned)(idx % HUGETLB_RUN_PAGES);
	struct page *run;
	bool whole;
	int err = shared_take(v->huge, idx / HUGETLB_RUN_PAGES, sub, &run, &whole);

	if (err)
		return err;
	if (whole) {
		err = run_poisoned(run) ? -EHWPOISON
					: arch_pt_map_huge(mm->pt, base, page_to_pfn(run), v->prot);
		if (err) {
			shared_untake(run, sub, true);
			return err == -ENOMEM ? err : 0; /* poisoned meanwhile: fault again, 4 KiB */
		}
	} else {
		err = page_poisoned(&run[sub]) ? -EHWPOISON
					       : arch_pt_map(mm->pt, va, page_to_pfn(&run[sub]),
							     v->prot);
		if (err) {
			shared_untake(run, sub, false);
			return err;
		}
	}
	if (!slot_holds(v->huge, idx / HUGETLB_RUN_PAGES, run)) /* truncated meanwhile */
		vm_zap_range_locked(mm, whole ? base : va, whole ? base + SLOT_SIZE : va + PAGE_SIZE);
	return 0;
}

/* Fill a private run for base in v: a copy of the file's page there, or zeroes. */
static int private_fill(struct vma *v, vaddr_t base, struct page *run)
{
	struct hugetlb_obj *o = v->huge;
	uint64_t slot = vma_index(v, base) / HUGETLB_RUN_PAGES;
	int err = 0;

	if (!o) {
		memset(page_to_virt(run), 0, SLOT_SIZE);
		return 0;
	}
	spin_lock(&o->lock);
	struct page *src = slot < o->nhuge ? o->runs[slot] : NULL;
	if (slot >= o->nhuge)
		err = -ENXIO;
	else if (src && run_poisoned(src))
		err = -EHWPOISON; /* a copy would read the poison: the 2 MiB is lost to this mapping */
	else if (src)
		memcpy(page_to_virt(run), page_to_virt(src), SLOT_SIZE);
	else
		memset(page_to_virt(run), 0, SLOT_SIZE);
	spin_unlock(&o->lock);
	return err;
}

static int fault_private(struct mm *mm, struct vma *v, vaddr_t va)
{
	vaddr_t base = ALIGN_DOWN(va, SLOT_SIZE);
	bool resv = v->huge_resv > 0;
	struct page *run;
	int err;

	if (rmap_anon_prepare(v))
		return -ENOMEM;
	run = hugetlb_run_alloc(resv);
	if (!run)
		return -ENXIO; /* no huge page: SIGBUS, as Linux's VM_FAULT_SIGBUS */
	if (resv)
		v->huge_resv--;
	err = private_fill(v, base, run);
	if (!err)
		err = thp_run_prepare(run, v, base)
			  ? arch_pt_map_huge(mm->pt, base, page_to_pfn(run), v->prot)
			  : -EAGAIN;
	if (!err)
		return 0;
	thp_run_drop(run); /* back to the pool */
	if (resv && !hugetlb_reserve(1))
		v->huge_resv++;
	return err == -EAGAIN ? 0 : err; /* a fresh run poisoned meanwhile: fault again */
}

/* A fault with no entry at va in hugetlb VMA v; see vm_priv.h. mm->lock held. */
int hugetlb_fault(struct mm *mm, struct vma *v, vaddr_t va)
{
	return (v->flags & VM_SHARED) ? fault_shared(mm, v, va) : fault_private(mm, v, va);
}

/* A write to the read-only huge entry at va of private hugetlb VMA v; see vm_priv.h. */
int hugetlb_cow(struct mm *mm, struct vma *v, vaddr_t va, pfn_t pfn)
{
	vaddr_t base = ALIGN_DOWN(va, SLOT_SIZE), at = base;
	struct page *old = pfn_to_page(pfn - ((va - base) >> PAGE_SHIFT)), *run;
	bool alone = true;
	pfn_t gone;

	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		alone &= upage_exclusive(&old[i]);
	if (alone) {
		arch_pt_protect(mm->pt, base, v->prot);
		arch_pt_flush(mm->pt, base, HUGETLB_RUN_PAGES);
		return 0;
	}
	if (rmap_anon_prepare(v))
		return -ENOMEM;
	run = hugetlb_run_alloc(false);
	if (!run)
		return -ENXIO;
	memcpy(page_to_virt(run), page_to_virt(old), SLOT_SIZE);
	if (!thp_run_prepare(run, v, base)) {
		thp_run_drop(run);
		return 0;
	}
	arch_pt_clear_range(mm->pt, &at, base + SLOT_SIZE, &gone, 1);
	arch_pt_flush(mm->pt, base, HUGETLB_RUN_PAGES);
	if (arch_pt_map_huge(mm->pt, base, page_to_pfn(run), v->prot)) {
		arch_pt_map_huge(mm->pt, base, pfn - ((va - base) >> PAGE_SHIFT),
				 v->prot & ~PT_WRITE); /* its table is still there: cannot fail */
		thp_run_drop(run);
		return -ENOMEM;
	}
	thp_unmap_put(old);
	return 0;
}

/* ---- a hugetlb page lost whole (vm.memory_failure_hugetlb_whole) ---- */

/* Markers over the 2 MiB at base for every PTE mapping a frame of run; see vm.h. */
int vm_poison_huge(struct mm *mm, vaddr_t va, pfn_t pfn)
{
	vaddr_t base = ALIGN_DOWN(va, SLOT_SIZE);
	struct page *run = pfn_to_page(ALIGN_DOWN(pfn, HUGETLB_RUN_PAGES));
	uint64_t gone[HUGETLB_RUN_PAGES / 64] = {0};
	struct pte_info pi;
	unsigned n = 0;

	spin_lock(&mm->lock);
	thp_split_locked(mm, base);
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++) {
		vaddr_t at = base + ((vaddr_t)i << PAGE_SHIFT);
		if (arch_pt_get(mm->pt, at, &pi) || !pi.present || pi.pfn != page_to_pfn(&run[i]))
			continue;
		if (arch_pt_set_marker(mm->pt, at, vm_poison_marker(pfn) | VM_MARKER_HUGE))
			continue; /* cannot happen: the leaf table is there */
		gone[i / 64] |= 1ull << (i % 64);
		n++;
	}
	if (n)
		arch_pt_flush(mm->pt, base, HUGETLB_RUN_PAGES);
	for (unsigned i = 0; i < HUGETLB_RUN_PAGES; i++)
		if (gone[i / 64] & (1ull << (i % 64)))
			upage_unmap_put(&run[i]);
	spin_unlock(&mm->lock);
	return n ? 0 : -ENOENT;
}

/* The object holding the run of pg drops it from its slot (Linux's truncate_error_page for a
 * hugetlb page lost whole): a later fault there gets a new page; see vm_priv.h. */
void hugetlb_obj_drop_run(struct page *pg)
{
	struct rmap_object *obj = rmap_page_object(pg);
	struct hugetlb_obj *o;
	struct page *run;
	uint64_t slot;

	if (!obj || obj->release != obj_release)
		return;
	o = container_of(obj, struct hugetlb_obj, obj);
	slot = pg->index / HUGETLB_RUN_PAGES;
	run = pg - (pg->index % HUGETLB_RUN_PAGES);
	spin_lock(&o->lock);
	if (__atomic_load_n(&o->refcount, __ATOMIC_ACQUIRE) > 0 && slot < o->nhuge &&
	    o->runs[slot] == run)
		o->runs[slot] = NULL;
	else
		run = NULL;
	spin_unlock(&o->lock);
	for (unsigned k = 0; run && k < HUGETLB_RUN_PAGES; k++)
		upage_put(&run[k]);
}

/* ---- VMAs ---- */

/* Check and adjust an mmap of hugetlb pages; see vm_priv.h. */
int hugetlb_mmap_args(vaddr_t addr, uint64_t *len, unsigned flags, const struct vm_file *file,
		      uint64_t off)
{
	unsigned shift = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;

	if (file && !file->huge)
		return -EINVAL; /* MAP_HUGETLB on a file not of hugetlbfs */
	if (!file && shift && !hugetlb_size_supported(shift))
		return -EINVAL;
	if (!hugetlb_size_supported(HUGETLB_SHIFT))
		return -EINVAL;
	if (*len > USER_VA_END)
		return -ENOMEM;
	*len = ALIGN_UP(*len, SLOT_SIZE);
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && !IS_ALIGNED(addr, SLOT_SIZE))
		return -EINVAL;
	if (!IS_ALIGNED(off, SLOT_SIZE))
		return -EINVAL;
	return 0;
}

/* Set up the hugetlb side of a new VMA of len bytes at file offset off; see vm_priv.h. */
int hugetlb_vma_init(struct vma *v, uint64_t len, unsigned flags, uint64_t off)
{
	uint64_t n = len / SLOT_SIZE, first = off / SLOT_SIZE;
	bool noreserve = flags & MAP_NORESERVE;
	int err = 0;

	v->flags |= VM_HUGETLB;
	if (v->flags & VM_FILE) {
		v->huge = v->file.huge;
		hugetlb_obj_get(v->huge);
	} else if (v->flags & VM_SHARED) {
		v->huge = hugetlb_obj_create(n);
		if (!v->huge)
			return -ENOMEM;
	}
	if (v->huge && (v->flags & VM_FILE) && (v->prot & PT_WRITE) &&
	    hugetlb_obj_slots(v->huge) < first + n)
		err = hugetlb_obj_resize(v->huge, first + n); /* a writable mmap extends the file */
	if (err || noreserve)
		return err;
	if (v->flags & VM_SHARED)
		return hugetlb_obj_reserve(v->huge, first, n);
	err = hugetlb_reserve(n);
	if (!err)
		v->huge_resv = n;
	return err;
}

static int slot_empty(vaddr_t va, const struct pte_info *pi, void *arg)
{
	(void)va, (void)pi, (void)arg;
	return 1;
}

/* Huge pages of [start, end) in mm with no entry yet. mm->lock held. */
static uint64_t unfaulted(struct mm *mm, vaddr_t start, vaddr_t end)
{
	uint64_t n = 0;

	for (vaddr_t va = start; va < end; va += SLOT_SIZE)
		n += !arch_pt_walk(mm->pt, va, va + SLOT_SIZE, slot_empty, NULL);
	return n;
}

struct rmap_object *hugetlb_vma_rmap(const struct vma *v)
{
	return &v->huge->obj;
}

/* v was split at n->start (n its upper part, a copy of v): share the reservation; see
 * vm_priv.h. mm->lock held. */
void hugetlb_vma_split(struct vma *v, struct vma *n)
{
	uint64_t total = v->huge_resv, lo = MIN(total, unfaulted(v->mm, v->start, n->start));

	v->huge_resv = lo;
	n->huge_resv = total - lo;
}

/* The VMA goes: its object and reservations with it; see vm_priv.h. */
void hugetlb_vma_free(struct vma *v)
{
	if (v->huge_resv)
		hugetlb_unreserve(v->huge_resv);
	v->huge_resv = 0;
	if (v->huge)
		hugetlb_obj_put(v->huge);
}
