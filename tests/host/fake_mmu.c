/* A fake of the user-address-space half of include/arch/mmu.h for the host build. A struct
 * arch_pt is a sorted array of (page address, pte_info) with binary search; each table also
 * owns one PG_PGTABLE frame (priv = the table) standing for its top-level table, so frame
 * accounting in tests sees page-table memory as the real arch would. All live tables are on
 * one list for brute-force scans. Failure injection (fake_mmu_fail_after) exercises the
 * -ENOMEM paths of the portable code. A huge entry is PT_HUGE_PAGES consecutive entries that
 * all say huge (the frames pfn.. in order, one protection); the calls treat them as one, as the
 * real page tables do. Single-threaded, like the host tests. */
#include "fake_mmu.h"
#include "../../include/frame.h"
#include "../../include/kerrno.h"
#include <stdlib.h>
#include <string.h>

#define MARKER_LIMIT (1ull << 50)

struct fake_pte {
	vaddr_t va;
	struct pte_info pi;
	bool trapped; /* arch_pt_trap, or a PG_TRAP frame mapped */
};

struct arch_pt {
	struct fake_pte *e; /* sorted by va */
	size_t n, cap;
	struct page *root; /* the PG_PGTABLE frame standing for the top-level table */
	struct arch_pt *prev, *next;
};

long fake_mmu_fail_after = -1;
uint64_t fake_mmu_dropped;
uint64_t fake_mmu_flushes, fake_mmu_flushed_pages;
uint64_t fake_mmu_range_calls, fake_mmu_page_calls;
struct arch_pt *fake_mmu_active;
static struct arch_pt *all_pts;
static size_t nr_pts;

static bool inject_failure(void)
{
	if (fake_mmu_fail_after < 0)
		return false;
	if (fake_mmu_fail_after == 0)
		return true;
	fake_mmu_fail_after--;
	return false;
}

static bool va_ok(vaddr_t va)
{
	return va >= USER_VA_START && va < USER_VA_END && (va & (PAGE_SIZE - 1)) == 0;
}

/* Index of the first entry with va >= key. */
static size_t lower_bound(const struct arch_pt *pt, vaddr_t key)
{
	size_t lo = 0, hi = pt->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pt->e[mid].va < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct fake_pte *lookup(const struct arch_pt *pt, vaddr_t va)
{
	size_t i = lower_bound(pt, va);

	return i < pt->n && pt->e[i].va == va ? &pt->e[i] : NULL;
}

/* Set the entry at va to *pi, inserting it if needed. */
static int put_entry(struct arch_pt *pt, vaddr_t va, const struct pte_info *pi)
{
	size_t i = lower_bound(pt, va);

	if (i < pt->n && pt->e[i].va == va) {
		pt->e[i].pi = *pi;
		return 0;
	}
	if (pt->n == pt->cap) {
		size_t cap = pt->cap ? pt->cap * 2 : 16;
		struct fake_pte *e = realloc(pt->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		pt->e = e;
		pt->cap = cap;
	}
	memmove(&pt->e[i + 1], &pt->e[i], (pt->n - i) * sizeof(*pt->e));
	pt->e[i].va = va;
	pt->e[i].pi = *pi;
	pt->e[i].trapped = false;
	pt->n++;
	return 0;
}

struct arch_pt *arch_pt_create(void)
{
	struct arch_pt *pt;

	if (inject_failure())
		return NULL;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pt->root = frame_alloc(0, PG_PGTABLE);
	if (!pt->root) {
		free(pt);
		return NULL;
	}
	pt->root->priv = pt;
	pt->next = all_pts;
	if (all_pts)
		all_pts->prev = pt;
	all_pts = pt;
	nr_pts++;
	return pt;
}

void arch_pt_destroy(struct arch_pt *pt)
{
	fake_mmu_dropped += pt->n;
	if (pt->prev)
		pt->prev->next = pt->next;
	else
		all_pts = pt->next;
	if (pt->next)
		pt->next->prev = pt->prev;
	nr_pts--;
	if (fake_mmu_active == pt)
		fake_mmu_active = NULL;
	pt->root->priv = NULL;
	frame_free(pt->root, 0);
	free(pt->e);
	free(pt);
}

static bool in_huge(const struct arch_pt *pt, vaddr_t va)
{
	const struct fake_pte *e = lookup(pt, va);
	return e && e->pi.huge;
}

/* Index of the first entry of the huge entry that holds va's entry e. */
static size_t huge_first(const struct arch_pt *pt, vaddr_t va)
{
	return lower_bound(pt, va & ~(PT_HUGE_SIZE - 1));
}

int arch_pt_map(struct arch_pt *pt, vaddr_t va, pfn_t pfn, unsigned prot)
{
	struct pte_info pi = {.present = true, .pfn = pfn, .prot = prot};
	struct page *pg = pfn_to_page(pfn);
	int err;

	fake_mmu_page_calls++;
	if (!va_ok(va) || (prot & ~(unsigned)(PT_READ | PT_WRITE | PT_EXEC)))
		return -EINVAL;
	if (in_huge(pt, va))
		return -EBUSY;
	if (inject_failure())
		return -ENOMEM;
	err = put_entry(pt, va, &pi);
	if (!err)
		lookup(pt, va)->trapped = pg && (pg->flags & PG_TRAP);
	return err;
}

int arch_pt_trap(struct arch_pt *pt, vaddr_t va, bool on)
{
	struct fake_pte *e;

	if (!va_ok(va))
		return -EINVAL;
	e = lookup(pt, va);
	if (!e || !e->pi.present)
		return -ENOENT;
	if (e->pi.huge)
		return -EBUSY;
	e->trapped = on;
	return 0;
}

bool fake_mmu_trapped(struct arch_pt *pt, vaddr_t va)
{
	struct fake_pte *e = lookup(pt, va);
	return e && e->pi.present && e->trapped;
}

pfn_t fake_trap_frames[64];
unsigned fake_trap_nframes;

uint64_t arch_direct_map_tables(void) { return 0; }

int arch_trap_frame(pfn_t pfn, bool on)
{
	for (unsigned i = 0; i < fake_trap_nframes; i++)
		if (fake_trap_frames[i] == pfn) {
			if (!on)
				fake_trap_frames[i] = fake_trap_frames[--fake_trap_nframes];
			return 0;
		}
	if (on && fake_trap_nframes < 64)
		fake_trap_frames[fake_trap_nframes++] = pfn;
	return on && fake_trap_nframes >= 64 ? -ENOMEM : 0;
}

pfn_t fake_direct_removed[64];
unsigned fake_direct_nremoved;

int arch_direct_map_remove(pfn_t pfn)
{
	if (inject_failure())
		return -ENOMEM;
	if (fake_direct_nremoved < 64)
		fake_direct_removed[fake_direct_nremoved] = pfn;
	fake_direct_nremoved++;
	return 0;
}

int arch_pt_protect(struct arch_pt *pt, vaddr_t va, unsigned prot)
{
	struct fake_pte *e;

	fake_mmu_page_calls++;
	if (!va_ok(va) || (prot & ~(unsigned)(PT_READ | PT_WRITE | PT_EXEC)))
		return -EINVAL;
	e = lookup(pt, va);
	if (!e || !e->pi.present)
		return -ENOENT;
	if (e->pi.huge) {
		size_t i = huge_first(pt, va);
		for (unsigned k = 0; k < PT_HUGE_PAGES; k++)
			pt->e[i + k].pi.prot = prot;
		return 0;
	}
	e->pi.prot = prot;
	return 0;
}

int arch_pt_set_marker(struct arch_pt *pt, vaddr_t va, uint64_t marker)
{
	struct pte_info pi = {.present = false, .marker = marker};

	fake_mmu_page_calls++;
	if (!va_ok(va) || marker == 0 || marker >= MARKER_LIMIT)
		return -EINVAL;
	if (in_huge(pt, va))
		return -EBUSY;
	if (inject_failure())
		return -ENOMEM;
	return put_entry(pt, va, &pi);
}

int arch_pt_clear(struct arch_pt *pt, vaddr_t va)
{
	size_t i = lower_bound(pt, va);

	fake_mmu_page_calls++;
	if (i >= pt->n || pt->e[i].va != va)
		return -ENOENT;
	if (pt->e[i].pi.huge)
		return -EBUSY;
	memmove(&pt->e[i], &pt->e[i + 1], (pt->n - i - 1) * sizeof(*pt->e));
	pt->n--;
	return 0;
}

int arch_pt_clear_young(struct arch_pt *pt, vaddr_t va)
{
	struct fake_pte *e = va_ok(va) ? lookup(pt, va) : NULL;
	bool was;

	if (!e || !e->pi.present)
		return -ENOENT;
	was = e->pi.accessed;
	e->pi.accessed = false;
	return was;
}

int arch_pt_get(struct arch_pt *pt, vaddr_t va, struct pte_info *out)
{
	struct fake_pte *e = lookup(pt, va);

	fake_mmu_page_calls++;
	if (!e)
		return -ENOENT;
	*out = e->pi;
	return 0;
}

int arch_pt_walk(struct arch_pt *pt, vaddr_t start, vaddr_t end,
		 int (*fn)(vaddr_t va, const struct pte_info *pi, void *arg), void *arg)
{
	size_t i = lower_bound(pt, start);

	while (i < pt->n && pt->e[i].va < end) {
		vaddr_t va = pt->e[i].va, next = va + PAGE_SIZE;
		if (pt->e[i].pi.huge) { /* once, at its first address */
			va &= ~(PT_HUGE_SIZE - 1);
			next = va + PT_HUGE_SIZE;
			i = lower_bound(pt, va);
		}
		struct pte_info pi = pt->e[i].pi;
		int r = fn(va, &pi, arg);
		if (r)
			return r;
		i = lower_bound(pt, next); /* fn may have changed the table */
	}
	return 0;
}

/* The fake's "leaf tables" span 512 pages, as x86's do: a range call stops at their ends. */
#define FAKE_LEAF_SPAN (512 * PAGE_SIZE)

/* Index of the first entry in [*va, end), *va moved to the start of its leaf table's part of
 * the range; pt->n (and *va = end) when there is none. */
static size_t range_first(struct arch_pt *pt, vaddr_t *va, vaddr_t end)
{
	size_t i = lower_bound(pt, *va);

	fake_mmu_range_calls++;
	if (i >= pt->n || pt->e[i].va >= end) {
		*va = end;
		return pt->n;
	}
	if (pt->e[i].va >= (*va & ~(FAKE_LEAF_SPAN - 1)) + FAKE_LEAF_SPAN)
		*va = pt->e[i].va & ~(FAKE_LEAF_SPAN - 1); /* skip the empty tables */
	return i;
}

/* Copy the huge entry whose first entry is src->e[i] (fork). */
static int copy_huge(struct arch_pt *dst, struct arch_pt *src, size_t i, vaddr_t *va,
		     unsigned drop, pfn_t *pfns, bool *changed)
{
	for (unsigned k = 0; k < PT_HUGE_PAGES; k++) {
		struct fake_pte *e = &src->e[i + k];
		if (e->pi.prot & drop) {
			e->pi.prot &= ~drop;
			*changed = true;
		}
		if (put_entry(dst, e->va, &e->pi))
			return -ENOMEM;
	}
	pfns[0] = src->e[i].pi.pfn | PT_PFN_HUGE;
	*va = src->e[i].va + PT_HUGE_SIZE;
	return 1;
}

int arch_pt_copy_range(struct arch_pt *dst, struct arch_pt *src, vaddr_t *va, vaddr_t end,
		       unsigned drop, pfn_t *pfns, unsigned max, bool *changed)
{
	size_t i = range_first(src, va, end);
	vaddr_t stop = MIN(end, (*va & ~(FAKE_LEAF_SPAN - 1)) + FAKE_LEAF_SPAN);
	unsigned n = 0;

	if (i == src->n)
		return 0;
	if (!va_ok(*va) || (drop & ~(unsigned)PT_WRITE))
		return -EINVAL;
	if (inject_failure())
		return -ENOMEM; /* the destination's leaf table */
	if (src->e[i].pi.huge)
		return copy_huge(dst, src, i, va, drop, pfns, changed);
	for (; i < src->n && src->e[i].va < stop && n < max; i++) {
		struct pte_info *pi = &src->e[i].pi;
		if (pi->present && (pi->prot & drop)) {
			pi->prot &= ~drop;
			*changed = true;
		}
		if (pi->present)
			pfns[n++] = pi->pfn;
		if (put_entry(dst, src->e[i].va, pi))
			return -ENOMEM;
		lookup(dst, src->e[i].va)->trapped = src->e[i].trapped; /* the entry as it is */
	}
	*va = i < src->n && src->e[i].va < stop ? src->e[i].va : stop;
	return (int)n;
}

unsigned arch_pt_clear_range(struct arch_pt *pt, vaddr_t *va, vaddr_t end, pfn_t *pfns,
			     unsigned max)
{
	vaddr_t from = *va;
	size_t i = range_first(pt, va, end), j;
	vaddr_t stop = MIN(end, (*va & ~(FAKE_LEAF_SPAN - 1)) + FAKE_LEAF_SPAN);
	unsigned n = 0;

	if (i < pt->n && pt->e[i].pi.huge) { /* whole, or left for the caller to split */
		vaddr_t base = pt->e[i].va;
		*va = base + PT_HUGE_SIZE;
		if (base < from || *va > end)
			return 0;
		pfns[0] = pt->e[i].pi.pfn | PT_PFN_HUGE;
		memmove(&pt->e[i], &pt->e[i + PT_HUGE_PAGES],
			(pt->n - i - PT_HUGE_PAGES) * sizeof(*pt->e));
		pt->n -= PT_HUGE_PAGES;
		return 1;
	}

	for (j = i; j < pt->n && pt->e[j].va < stop && n < max; j++)
		if (pt->e[j].pi.present)
			pfns[n++] = pt->e[j].pi.pfn;
	if (i == pt->n)
		return 0;
	*va = j < pt->n && pt->e[j].va < stop ? pt->e[j].va : stop;
	memmove(&pt->e[i], &pt->e[j], (pt->n - j) * sizeof(*pt->e));
	pt->n -= j - i;
	return n;
}

void (*fake_mmu_on_flush)(struct arch_pt *pt, vaddr_t va);

void arch_pt_flush(struct arch_pt *pt, vaddr_t va, size_t npages)
{
	fake_mmu_flushes++;
	fake_mmu_flushed_pages += npages;
	if (fake_mmu_on_flush)
		fake_mmu_on_flush(pt, va);
}

void arch_pt_activate(struct arch_pt *pt)
{
	fake_mmu_active = pt;
}

int fake_mmu_scan(int (*fn)(struct arch_pt *pt, vaddr_t va, const struct pte_info *pi, void *arg),
		  void *arg)
{
	for (struct arch_pt *pt = all_pts; pt; pt = pt->next)
		for (size_t i = 0; i < pt->n; i++) {
			int r = fn(pt, pt->e[i].va, &pt->e[i].pi, arg);
			if (r)
				return r;
		}
	return 0;
}

size_t fake_mmu_nr_pts(void)
{
	return nr_pts;
}

size_t fake_mmu_nr_entries(const struct arch_pt *pt)
{
	return pt->n;
}

void fake_mmu_reset(void)
{
	all_pts = NULL;
	nr_pts = 0;
	fake_mmu_active = NULL;
	fake_mmu_dropped = 0;
	fake_mmu_fail_after = -1;
}

bool arch_pt_huge_supported(void) { return true; }

int arch_pt_map_huge(struct arch_pt *pt, vaddr_t va, pfn_t pfn, unsigned prot)
{
	size_t i = lower_bound(pt, va);

	fake_mmu_page_calls++;
	if (!va_ok(va) || (va & (PT_HUGE_SIZE - 1)) || (pfn & (PT_HUGE_PAGES - 1)) ||
	    va > USER_VA_END - PT_HUGE_SIZE)
		return -EINVAL;
	if (i < pt->n && pt->e[i].va < va + PT_HUGE_SIZE)
		return -EEXIST;
	if (inject_failure())
		return -ENOMEM; /* the spare table */
	for (unsigned k = 0; k < PT_HUGE_PAGES; k++) {
		struct pte_info pi = {.present = true, .pfn = pfn + k, .prot = prot, .huge = true};
		if (put_entry(pt, va + (vaddr_t)k * PAGE_SIZE, &pi))
			return -ENOMEM;
	}
	return 0;
}

int arch_pt_split_huge(struct arch_pt *pt, vaddr_t va)
{
	size_t i;

	if (!in_huge(pt, va))
		return -ENOENT;
	i = huge_first(pt, va);
	for (unsigned k = 0; k < PT_HUGE_PAGES; k++)
		pt->e[i + k].pi.huge = false;
	return 0;
}
