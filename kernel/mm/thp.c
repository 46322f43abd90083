/* Transparent huge pages for private anonymous memory. A fault in a VMA that may have them
 * (thp_vma_allowed: /sys/kernel/mm/transparent_hugepage/enabled, MADV_HUGEPAGE and
 * MADV_NOHUGEPAGE), where the aligned 2 MiB around the address lies inside the VMA and holds no
 * entry yet, takes an order-9 block from the buddy allocator, zeroes it and maps it with one
 * huge entry (include/arch/mmu.h). With no such block free, or anything already mapped there,
 * the fault falls back to a 4 KiB page, as Linux's does.
 *
 * The block becomes 512 single frames at once (frame_split_block), each anchored in the rmap
 * at its own index and counted on its own: a huge entry holds one mapcount and one reference
 * on every frame of its run. So splitting a huge entry into 512 PTEs (arch_pt_split_huge, which
 * never needs memory) changes no count; one address space may keep its huge entry while a
 * forked one has split its own; and after a split each frame is an ordinary user frame for
 * munmap, COW, memory_failure and the rest. Linux keeps a compound page and splits it apart
 * from its mappings; what a program sees is the same.
 *
 * Where a huge entry is split: at the ends of a range zapped (munmap, MADV_DONTNEED, mremap
 * shrinking) and at a VMA split (mprotect, mlock, munmap) that cut it; over a range mremap
 * moves; on a write to a huge entry that a forked process shares (Linux 6.1's
 * do_huge_pmd_wp_page splits the PMD and the 4 KiB page written is copied); and before
 * memory_failure, soft offline or the poison emulator change one page of it (Linux's
 * try_to_split_thp_page), so that a memory error costs 4 KiB, not 2 MiB.
 *
 * AnonHugePages in /proc/meminfo counts the runs that some huge entry maps (pmd_maps of the
 * first frame), as Linux counts PMD-mapped anonymous THPs. Locks: mm->lock of the space whose
 * entries change; pmd_maps and the counters are atomic. */
#include "boot_info.h"
#include "ctl.h"
#include "kerrno.h"
#include "kstring.h"
#include "vm_priv.h"

#define THP_ORDER (PT_HUGE_SHIFT - PAGE_SHIFT)

/* enabled: Linux's three words; defrag: Linux's five. */
enum { THP_ALWAYS, THP_MADVISE, THP_NEVER };
enum { DEFRAG_ALWAYS, DEFRAG_DEFER, DEFRAG_DEFER_MADVISE, DEFRAG_MADVISE, DEFRAG_NEVER };
static const char *const enabled_words[] = {"always", "madvise", "never"};
static const char *const defrag_words[] = {"always", "defer", "defer+madvise", "madvise",
					   "never"};
static int thp_enabled = THP_MADVISE;
/* Shown and set for programs that use it; MCRK neither reclaims nor compacts, so every value
 * behaves as Linux's "never" (docs/memory.md). */
static int thp_defrag = DEFRAG_MADVISE; /* Linux's default */
static int64_t nr_anon_thps; /* atomic: runs mapped by at least one huge entry */
static struct thp_stats stats;  /* atomic counters */

/* Whether a fault in v may map a huge entry (private anonymous memory, and the policy). */
bool thp_vma_allowed(const struct vma *v)
{
	if ((v->flags & (VM_SHARED | VM_FILE | VM_NOHUGEPAGE)) || !(v->flags & VM_ANON))
		return false;
	if (thp_enabled == THP_NEVER || !arch_pt_huge_supported())
		return false;
	return thp_enabled == THP_ALWAYS || (v->flags & VM_HUGEPAGE);
}

static void count(uint64_t *c) { __atomic_fetch_add(c, 1, __ATOMIC_RELAXED); }

static bool is_hugetlb(const struct page *pg)
{
	return __atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_HUGETLB;
}

/* One huge entry more or fewer maps the run at pg (hugetlb runs are not AnonHugePages). */
static void pmd_map(struct page *pg)
{
	if (is_hugetlb(pg))
		return;
	if (__atomic_fetch_add(&pg->pmd_maps, 1, __ATOMIC_RELAXED) == 0)
		__atomic_fetch_add(&nr_anon_thps, 1, __ATOMIC_RELAXED);
}

static void pmd_unmap(struct page *pg)
{
	if (is_hugetlb(pg))
		return;
	if (__atomic_sub_fetch(&pg->pmd_maps, 1, __ATOMIC_RELAXED) == 0)
		__atomic_fetch_sub(&nr_anon_thps, 1, __ATOMIC_RELAXED);
}

/* Give back the frames of a run that was never mapped; see vm_priv.h. */
void thp_run_drop(struct page *pg)
{
	for (unsigned i = 0; i < PT_HUGE_PAGES; i++) {
		pg[i].mapcount = 0;
		upage_put(&pg[i]);
	}
}

/* Anchor and count the frames of a fresh run for one huge entry at base in v; false when a
 * frame was poisoned before it could be mapped (memory_failure finds mapped frames through
 * the rmap, unmapped ones here, as vm_install_pte does), or when the poison emulator armed
 * one: a huge entry cannot trap one 4 KiB page, so such a run is not mapped huge. */
bool thp_run_prepare(struct page *pg, struct vma *v, vaddr_t base)
{
	bool poisoned = false;

	for (unsigned i = 0; i < PT_HUGE_PAGES; i++) {
		rmap_page_set_anon(&pg[i], v, base + ((vaddr_t)i << PAGE_SHIFT));
		__atomic_store_n(&pg[i].mapcount, 1, __ATOMIC_SEQ_CST);
	}
	for (unsigned i = 0; i < PT_HUGE_PAGES; i++)
		poisoned |= page_poisoned(&pg[i]) ||
			    (__atomic_load_n(&pg[i].flags, __ATOMIC_ACQUIRE) & PG_TRAP);
	return !poisoned;
}

/* Huge-page fault at va in v; see vm_priv.h. mm->lock held. */
int thp_fault(struct mm *mm, struct vma *v, vaddr_t va)
{
	vaddr_t base = ALIGN_DOWN(va, PT_HUGE_SIZE);
	struct page *pg;
	int err;

	if (!thp_vma_allowed(v) || base < v->start || base + PT_HUGE_SIZE > v->end)
		return -ENOENT;
	if (rmap_anon_prepare(v))
		return -ENOMEM;
	pg = frame_alloc(THP_ORDER, PG_USER);
	if (!pg) {
		count(&stats.fault_fallback);
		return -ENOENT;
	}
	memset(page_to_virt(pg), 0, PT_HUGE_SIZE);
	frame_split_block(pg, THP_ORDER);
	err = thp_run_prepare(pg, v, base) ? arch_pt_map_huge(mm->pt, base, page_to_pfn(pg), v->prot)
				       : -EHWPOISON;
	if (err) {
		thp_run_drop(pg);
		count(&stats.fault_fallback);
		return err == -ENOMEM ? -ENOMEM : -ENOENT;
	}
	pg->pmd_maps = 0;
	pmd_map(pg);
	count(&stats.fault_alloc);
	return 0;
}

/* Split the huge entry covering va, if any; see vm_priv.h. mm->lock held. */
void thp_split_locked(struct mm *mm, vaddr_t va)
{
	struct pte_info pi;

	va = ALIGN_DOWN(va, PT_HUGE_SIZE);
	if (arch_pt_get(mm->pt, va, &pi) || !pi.huge || arch_pt_split_huge(mm->pt, va))
		return;
	arch_pt_flush(mm->pt, va, PT_HUGE_PAGES);
	pmd_unmap(pfn_to_page(pi.pfn));
	count(&stats.split);
}

/* Split the huge entries that [start, end) cuts; see vm_priv.h. mm->lock held. */
void thp_split_ends(struct mm *mm, vaddr_t start, vaddr_t end)
{
	if (!IS_ALIGNED(start, PT_HUGE_SIZE))
		thp_split_locked(mm, start);
	if (!IS_ALIGNED(end, PT_HUGE_SIZE) && end < USER_VA_END)
		thp_split_locked(mm, end);
}

static int split_one(vaddr_t va, const struct pte_info *pi, void *arg)
{
	if (pi->huge)
		thp_split_locked(arg, va);
	return 0;
}

/* Split every huge entry in [start, end); see vm_priv.h. mm->lock held. */
void thp_split_range(struct mm *mm, vaddr_t start, vaddr_t end)
{
	thp_split_ends(mm, start, end);
	arch_pt_walk(mm->pt, start, end, split_one, mm);
}

/* A huge entry mapping the run at pg is gone and flushed; see vm_priv.h. */
void thp_unmap_put(struct page *pg)
{
	uint64_t gone[PT_HUGE_PAGES / 64] = {0};
	unsigned n = 0;

	pmd_unmap(pg);
	for (unsigned i = 0; i < PT_HUGE_PAGES; i++) {
		uint64_t c = __atomic_sub_fetch(&pg[i].counts, PAGE_COUNTS_PTE, __ATOMIC_ACQ_REL);
		if ((int32_t)(uint32_t)c <= 0) {
			gone[i / 64] |= 1ull << (i % 64);
			n++;
		}
	}
	bool hugetlb = is_hugetlb(pg);
	for (unsigned i = 0; i < PT_HUGE_PAGES; i++)
		if (gone[i / 64] & (1ull << (i % 64))) {
			rmap_page_release(&pg[i]);
			if (hugetlb) /* its run goes back to the pool once every frame has gone */
				hugetlb_frame_free(&pg[i]);
		}
	if (hugetlb)
		return;
	if (n == PT_HUGE_PAGES) { /* the usual case: the block goes back whole */
		frame_join_block(pg, THP_ORDER);
		frame_free(pg, THP_ORDER);
		return;
	}
	for (unsigned i = 0; i < PT_HUGE_PAGES; i++)
		if (gone[i / 64] & (1ull << (i % 64)))
			frame_free(&pg[i], 0);
}

/* fork copied a huge entry mapping the run at pg; see vm_priv.h. */
void thp_dup(struct page *pg)
{
	pmd_map(pg);
	for (unsigned i = 0; i < PT_HUGE_PAGES; i++)
		upage_dup_pte(&pg[i]);
}

/* A write fault on the read-only huge entry at va of private VMA v; see vm_priv.h. */
bool thp_write_fault(struct mm *mm, struct vma *v, vaddr_t va, pfn_t pfn)
{
	vaddr_t base = ALIGN_DOWN(va, PT_HUGE_SIZE);
	struct page *pg = pfn_to_page(pfn - ((va - base) >> PAGE_SHIFT));

	for (unsigned i = 0; pg && i < PT_HUGE_PAGES; i++)
		if (!upage_exclusive(&pg[i]))
			pg = NULL;
	if (!pg) { /* shared with a forked space: split, the caller copies 4 KiB */
		thp_split_locked(mm, base);
		return false;
	}
	arch_pt_protect(mm->pt, base, v->prot);
	arch_pt_flush(mm->pt, base, PT_HUGE_PAGES);
	count(&stats.reused);
	return true;
}

/* Bytes of anonymous memory that huge entries map (meminfo AnonHugePages). Any context. */
uint64_t thp_anon_bytes(void)
{
	return (uint64_t)__atomic_load_n(&nr_anon_thps, __ATOMIC_RELAXED) * PT_HUGE_SIZE;
}

/* A copy of the event counters. Any context. */
void thp_get_stats(struct thp_stats *out)
{
	out->fault_alloc = __atomic_load_n(&stats.fault_alloc, __ATOMIC_RELAXED);
	out->fault_fallback = __atomic_load_n(&stats.fault_fallback, __ATOMIC_RELAXED);
	out->split = __atomic_load_n(&stats.split, __ATOMIC_RELAXED);
	out->reused = __atomic_load_n(&stats.reused, __ATOMIC_RELAXED);
}

/* ---- control files: Linux's format, every choice with the selected one in brackets ---- */

static int show_choice(const struct ctl_file *f, struct ctl_buf *b)
{
	const char *const *words = f->unit ? defrag_words : enabled_words;
	int sel = *(int *)f->field;

	for (unsigned i = 0; i <= f->max; i++)
		ctl_printf(b, (int)i == sel ? "%s[%s]" : "%s%s", i ? " " : "", words[i]);
	ctl_printf(b, "\n");
	return 0;
}

static long store_choice(const struct ctl_file *f, const char *buf, size_t n)
{
	const char *const *words = f->unit ? defrag_words : enabled_words;
	char w[16];

	if (ctl_take_word(buf, n, w, sizeof(w)))
		return -EINVAL;
	for (unsigned i = 0; i <= f->max; i++)
		if (!strcmp(w, words[i])) {
			__atomic_store_n((int *)f->field, (int)i, __ATOMIC_RELAXED);
			return (long)n;
		}
	return -EINVAL;
}

static int show_stats(const struct ctl_file *f, struct ctl_buf *b)
{
	struct thp_stats s;

	(void)f;
	thp_get_stats(&s);
	ctl_printf(b, "thp_fault_alloc %lu\nthp_fault_fallback %lu\nthp_split_pmd %lu\n"
		      "thp_reuse %lu\nanon_thps %lu\n",
		   s.fault_alloc, s.fault_fallback, s.split, s.reused,
		   (uint64_t)(thp_anon_bytes() / PT_HUGE_SIZE));
	return 0;
}

#define THP_DIR "/sys/kernel/mm/transparent_hugepage/"
#define THP_STATS "/sys/kernel/debug/thp/stats" /* MCRK's: Linux has them in /proc/vmstat */

static const struct ctl_file thp_files[] = {
    {THP_DIR "enabled", show_choice, store_choice, &thp_enabled, 0, THP_NEVER},
    {THP_DIR "defrag", show_choice, store_choice, &thp_defrag, 1, DEFRAG_NEVER},
    {THP_STATS, show_stats, NULL, NULL, 0, 0},
};

/* transparent_hugepage= on the command line (Linux's), then the control files. Boot. */
void thp_init(void)
{
	char w[16];

	if (cmdline_get(boot_info.cmdline, "transparent_hugepage", w, sizeof(w)))
		for (int i = THP_ALWAYS; i <= THP_NEVER; i++)
			if (!strcmp(w, enabled_words[i]))
				thp_enabled = i;
	ctl_register(thp_files, ARRAY_SIZE(thp_files), "thp");
}
