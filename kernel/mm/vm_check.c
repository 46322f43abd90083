/* The consistency check of address spaces against the reverse map and the frames, behind the
 * debugfs file /sys/kernel/debug/mcrk/vm_check (read it: the check runs, then its report).
 * It runs while every other CPU waits (arch_run_alone), so it sees one moment; if a CPU
 * was stopped in the middle of changing an address space or an rmap list (its lock is held),
 * the check lets the system run on and tries again.
 *
 * What must hold (docs/campaign.md lists it for readers):
 *   - every present user PTE lies in a VMA, is writable only if the VMA is, and maps an
 *     allocated user frame whose rmap walk (from its anon_vma or rmap_object through the
 *     VMAs linked there, include/rmap.h) finds (that mm, that address);
 *   - a writable PTE of a private VMA maps a frame nobody else holds (copy-on-write is
 *     broken before a write), and a clean file frame is never writable;
 *   - every poison marker lies in a VMA and names a described frame; swap entries are
 *     counted (include/swap.h);
 *   - every mapping a walk finds belongs to a live address space; a frame's mapcount is the
 *     number of mappings its walk finds, and those of the whole system are the number of
 *     present PTEs (so no PTE is out of its frame's anchor's reach);
 *   - a user frame's refcount is its mapcount plus the hugetlb objects' slots holding it,
 *     plus one for a page-cache or swap-cache page still in its cache; a huge entry counts as
 *     a mapping of each of its 512 frames.
 * Poisoned frames still mapped are counted, not failed: memory_failure unmaps them one
 * address space at a time; between injections there should be none. */
#include "arch/smp.h"
#include "ctl.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "rmap.h"
#include "vm_priv.h"

#define CHECK_MAX_MMS 256
#define CHECK_MAX_ERRORS 8
#define CHECK_ERROR_LEN 120
#define CHECK_TRIES 50

struct check {
	struct mm *mm[CHECK_MAX_MMS];
	unsigned nmm;
	struct mm *cur; /* the address space being walked */
	uint64_t ptes, markers, swap_entries, entries, user_frames, poisoned_mapped, errors;
	uint16_t *held; /* per pfn: hugetlb objects' slots holding the frame */
	char error[CHECK_MAX_ERRORS][CHECK_ERROR_LEN];
};

__printf(2, 3) static void check_error(struct check *c, const char *fmt, ...)
{
	if (c->errors < CHECK_MAX_ERRORS) {
		va_list ap;
		va_start(ap, fmt);
		kvsnprintf(c->error[c->errors], CHECK_ERROR_LEN, fmt, ap);
		va_end(ap);
	}
	c->errors++;
}

struct find_entry {
	struct mm *mm;
	vaddr_t va;
	bool found;
};

static int match_entry(struct mm *mm, vaddr_t va, void *arg)
{
	struct find_entry *f = arg;
	f->found |= mm == f->mm && va == f->va;
	return 0;
}

static void check_present(struct check *c, const struct vma *v, vaddr_t va,
			  const struct pte_info *pi)
{
	struct page *pg = pfn_to_page(pi->pfn);
	uint32_t f = pg ? __atomic_load_n(&pg->flags, __ATOMIC_RELAXED) : 0;
	if (!pg || (f & (PG_OWNER_MASK & ~PG_FILE)) != PG_USER) {
		check_error(c, "mm %p va %#lx maps pfn %#lx with flags %#x", (void *)c->cur, va,
			    pi->pfn, f);
		return;
	}
	struct find_entry fe = {c->cur, va, false};
	if (rmap_walk_still(pg, match_entry, &fe) == 0 && !fe.found)
		check_error(c, "mm %p va %#lx maps pfn %#lx, but its rmap has no such entry",
			    (void *)c->cur, va, pi->pfn);
	if (pi->prot & PT_WRITE & ~v->prot)
		check_error(c, "va %#lx: writable PTE in a VMA without write (%#x)", va, v->prot);
	bool exclusive = pg->refcount == 1 + !!(f & PG_SWAPCACHE) && pg->mapcount == 1 &&
			 !(f & PG_FILE);
	if ((pi->prot & PT_WRITE) && !(v->flags & VM_SHARED) && !exclusive)
		check_error(c,
			    "va %#lx: writable private PTE to pfn %#lx with refcount %d mapcount "
			    "%d flags %#x",
			    va, pi->pfn, pg->refcount, pg->mapcount, f);
	c->poisoned_mapped += !!(f & PG_HWPOISON);
	c->ptes++;
}

static int check_pte(vaddr_t va, const struct pte_info *pi, void *arg)
{
	struct check *c = arg;
	const struct vma *v = vma_tree_find(c->cur->vma_root, va);
	if (!v) {
		check_error(c, "mm %p va %#lx: a %s outside every VMA", (void *)c->cur, va,
			    pi->present ? "PTE" : "marker");
		return 0;
	}
	if (pi->present && pi->huge) { /* each 4 KiB frame of a huge entry on its own */
		struct pte_info one = *pi;
		for (unsigned i = 0; i < PT_HUGE_PAGES; i++, one.pfn++)
			check_present(c, v, va + ((vaddr_t)i << PAGE_SHIFT), &one);
	} else if (pi->present) {
		check_present(c, v, va, pi);
	} else if (vm_marker_is_swap(pi->marker)) {
		c->swap_entries++;
	} else if (!pfn_to_page(vm_marker_pfn(pi->marker))) {
		check_error(c, "mm %p va %#lx: unknown marker %#lx", (void *)c->cur, va,
			    pi->marker);
	} else {
		c->markers++;
	}
	return 0;
}

static int check_mm(struct mm *mm, void *arg)
{
	struct check *c = arg;
	if (c->nmm == CHECK_MAX_MMS) {
		check_error(c, "more than %u address spaces: not all checked", CHECK_MAX_MMS);
		return 1;
	}
	c->mm[c->nmm++] = mm;
	c->cur = mm;
	arch_pt_walk(mm->pt, USER_VA_START, USER_VA_END, check_pte, c);
	return 0;
}

static bool mm_live(const struct check *c, const struct mm *mm)
{
	for (unsigned i = 0; i < c->nmm; i++)
		if (c->mm[i] == mm)
			return true;
	return false;
}

struct frame_walk_ctx {
	struct check *c;
	pfn_t pfn;
	uint64_t n;
};

static int check_entry(struct mm *mm, vaddr_t va, void *arg)
{
	struct frame_walk_ctx *w = arg;
	struct pte_info pi;
	w->n++;
	if (!mm_live(w->c, mm))
		check_error(w->c, "pfn %#lx: the rmap finds mm %p, which is not live", w->pfn,
			    (void *)mm);
	else if (arch_pt_get(mm->pt, va, &pi) || !pi.present || pi.pfn != w->pfn)
		check_error(w->c, "pfn %#lx: the rmap finds (mm %p, va %#lx) without its PTE",
			    w->pfn, (void *)mm, va);
	return 0;
}

/* Each user frame's mappings found by its walk, mapcount and refcount; -EBUSY when an anchor's
 * lock is held. */
static int check_frames(struct check *c)
{
	for (pfn_t pfn = 0; pfn < frame_max_pfn(); pfn++) {
		struct page *pg = pfn_to_page(pfn);
		uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);
		if ((f & (PG_OWNER_MASK & ~PG_FILE)) != PG_USER)
			continue;
		if ((f & PG_HUGETLB) && pg->order)
			continue; /* a free run of the hugetlb pool: one block nobody maps */
		struct frame_walk_ctx w = {c, pfn, 0};
		if (rmap_walk_still(pg, check_entry, &w))
			return -EBUSY;
		c->user_frames++;
		c->entries += w.n;
		if (w.n != (uint64_t)pg->mapcount)
			check_error(c, "pfn %#lx: mapcount %d, its rmap walk finds %lu", pfn,
				    pg->mapcount, w.n);
		/* A page-cache page in its cache's tree (pg->mapping set) holds one more, and so
		 * does the swap cache; reclaim's own reference lasts while PG_SWAPIO is set. */
		unsigned cached = (f & PG_FILE) && READ_ONCE(pg->mapping) ? 1 : 0;
		cached += !!(f & PG_SWAPCACHE) + !!(f & PG_SWAPIO);
		if (pg->refcount != pg->mapcount + c->held[pfn] + (int)cached)
			check_error(c,
				    "pfn %#lx: refcount %d, but %d mappings, %u hugetlb "
				    "slots and %u page cache hold it",
				    pfn, pg->refcount, pg->mapcount, c->held[pfn], cached);
	}
	return 0;
}

struct check_run {
	struct check *c;
	int err;
};

static void check_alone(void *arg)
{
	struct check_run *r = arg;
	struct check *c = r->c;
	uint16_t *held = c->held;
	memset(c, 0, sizeof(*c));
	c->held = held;
	memset(held, 0, frame_max_pfn() * sizeof(*held));
	r->err = vm_for_each_mm_still(check_mm, c);
	if (r->err)
		return;
	r->err = hugetlb_count_held(c->held);
	if (!r->err)
		r->err = check_frames(c);
	if (r->err)
		return;
	if (c->ptes != c->entries)
		check_error(c, "%lu present PTEs, the rmap walks of user frames find %lu", c->ptes,
			    c->entries);
}

/* Run the check, retrying while some CPU was stopped holding a lock it needs. */
static int check_run(struct check *c)
{
	struct check_run r = {c, -EBUSY};
	for (int tries = 0; tries < CHECK_TRIES && r.err == -EBUSY; tries++) {
		int err = arch_run_alone(check_alone, &r);
		if (err && err != -EBUSY)
			return err;
	}
	return r.err;
}

/* The whole check into a kmalloc'd result (kfree it), or NULL with *err set. */
static struct check *check_new(int *err)
{
	struct check *c = kzalloc(sizeof(*c));
	uint16_t *held = kmalloc(frame_max_pfn() * sizeof(uint16_t));
	*err = c && held ? 0 : -ENOMEM;
	if (!*err) {
		c->held = held;
		*err = check_run(c);
		c->held = NULL;
	}
	kfree(held);
	if (*err) {
		kfree(c);
		return NULL;
	}
	return c;
}

static int show_check(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	int err;
	struct check *c = check_new(&err);
	if (!c)
		return err;
	const struct {
		const char *name;
		uint64_t value;
	} rows[] = {{"mms", c->nmm},
		    {"ptes", c->ptes},
		    {"markers", c->markers},
		    {"swap_entries", c->swap_entries},
		    {"rmap_entries", c->entries},
		    {"user_frames", c->user_frames},
		    {"poisoned_mapped", c->poisoned_mapped},
		    {"errors", c->errors}};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		ctl_printf(b, "%s %lu\n", rows[i].name, rows[i].value);
	for (uint64_t i = 0; i < MIN(c->errors, (uint64_t)CHECK_MAX_ERRORS); i++)
		ctl_printf(b, "error: %s\n", c->error[i]);
	ctl_printf(b, "result %s\n", c->errors ? "FAILED" : "ok");
	kfree(c);
	return 0;
}

static const struct ctl_file check_files[] = {
    {"/sys/kernel/debug/mcrk/vm_check", show_check, NULL, NULL, 0, 0},
};

void vm_check_init(void)
{
	ctl_register(check_files, ARRAY_SIZE(check_files), "vm_check");
}

int vm_check(uint64_t *errors)
{
	int err;
	struct check *c = check_new(&err);
	if (!c)
		return err;
	*errors = c->errors;
	for (uint64_t i = 0; i < MIN(c->errors, (uint64_t)CHECK_MAX_ERRORS); i++)
		pr_err("vm_check: %s\n", c->error[i]);
	kfree(c);
	return 0;
}
