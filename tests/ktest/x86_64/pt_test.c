/* In-kernel tests of user page tables (test=pt): map, read back through the user address,
 * protect, markers, walk order, the range operations (copy with write-protection, clear, both
 * a leaf table per call and skipping missing tables, trapped entries counted as frames), flush
 * on a space another CPU has loaded, and no leak. */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "frame.h"
#include "kerrno.h"
#include "ktest.h"
#include "x86.h"

#define TEST_VA 0x400000ull


static int count_entries(vaddr_t va, const struct pte_info *pi, void *arg)
{
	(void)va;
	(void)pi;
	(*(int *)arg)++;
	return 0;
}

KTEST(pt, map_read_protect_marker_walk)
{
	uint64_t before = ktest_free_frames();
	struct arch_pt *pt = arch_pt_create();
	struct page *pg = frame_alloc(0, PG_USER);
	KT_EXPECT(pt && pg);
	if (!pt || !pg)
		return;
	*(volatile uint64_t *)page_to_virt(pg) = 0x1122334455667788ull;
	KT_EXPECT(arch_pt_map(pt, TEST_VA, page_to_pfn(pg), PT_READ | PT_WRITE) == 0);
	KT_EXPECT(arch_pt_map(pt, TEST_VA + 1, page_to_pfn(pg), PT_READ) == -EINVAL);
	KT_EXPECT(arch_pt_map(pt, USER_VA_END, page_to_pfn(pg), PT_READ) == -EINVAL);
	arch_pt_activate(pt);
	uint64_t v = 0;
	user_access_begin(); /* SMAP: kernel reads of user pages must say so */
	KT_EXPECT(probe_read64((void *)TEST_VA, &v) == 0 && v == 0x1122334455667788ull);
	user_access_end();
	struct pte_info pi;
	KT_EXPECT(arch_pt_get(pt, TEST_VA, &pi) == 0 && pi.present && pi.pfn == page_to_pfn(pg));
	KT_EXPECT(pi.prot & PT_WRITE);
	KT_EXPECT(arch_pt_protect(pt, TEST_VA, PT_READ) == 0);
	KT_EXPECT(arch_pt_get(pt, TEST_VA, &pi) == 0 && !(pi.prot & PT_WRITE));
	KT_EXPECT(arch_pt_protect(pt, TEST_VA, 0) == 0); /* PROT_NONE keeps the frame */
	KT_EXPECT(arch_pt_get(pt, TEST_VA, &pi) == 0 && pi.present && pi.prot == 0 &&
		  pi.pfn == page_to_pfn(pg));
	KT_EXPECT(probe_read64((void *)TEST_VA, &v) == -EFAULT);
	KT_EXPECT(arch_pt_protect(pt, TEST_VA, PT_READ) == 0);
	KT_EXPECT(arch_pt_set_marker(pt, TEST_VA + PAGE_SIZE, 0x777) == 0);
	KT_EXPECT(arch_pt_get(pt, TEST_VA + PAGE_SIZE, &pi) == 0 && !pi.present && pi.marker == 0x777);
	KT_EXPECT(arch_pt_set_marker(pt, TEST_VA, 0) == -EINVAL);
	int n = 0;
	arch_pt_walk(pt, 0, USER_VA_END, count_entries, &n);
	KT_EXPECT(n == 2);
	arch_pt_flush(pt, TEST_VA, 1);
	arch_pt_activate(NULL);
	KT_EXPECT(arch_pt_clear(pt, TEST_VA) == 0);
	KT_EXPECT(arch_pt_clear(pt, TEST_VA + PAGE_SIZE) == 0);
	KT_EXPECT(arch_pt_clear(pt, TEST_VA) == -ENOENT);
	KT_EXPECT(arch_pt_get(pt, TEST_VA, &pi) == -ENOENT);
	arch_pt_destroy(pt);
	frame_free(pg, 0);
	KT_EXPECT(ktest_free_frames() == before);
}

/* Entries at TEST_VA + i pages for i in idx[], all mapping pg, writable except the marker at
 * marker_at and PROT_NONE at none_at. */
static bool fill(struct arch_pt *pt, struct page *pg, const unsigned *idx, unsigned n,
		 unsigned marker_at, unsigned none_at)
{
	for (unsigned i = 0; i < n; i++) {
		vaddr_t va = TEST_VA + (vaddr_t)idx[i] * PAGE_SIZE;
		int err = idx[i] == marker_at ? arch_pt_set_marker(pt, va, 0x55)
			  : arch_pt_map(pt, va, page_to_pfn(pg),
					idx[i] == none_at ? 0 : PT_READ | PT_WRITE);
		if (err)
			return false;
	}
	return true;
}

KTEST(pt, copy_and_clear_range_a_table_at_a_time)
{
	/* Two entries in the first leaf table, one in the next, one 1 GiB further (empty
	 * page directories in between), a marker and a PROT_NONE entry among them. */
	static const unsigned idx[] = {3, 7, 511, 512, 600, 262144 + 5};
	uint64_t before = ktest_free_frames();
	struct arch_pt *src = arch_pt_create(), *dst = arch_pt_create();
	struct page *pg = frame_alloc(0, PG_USER);
	pfn_t pfns[8];
	KT_EXPECT(src && dst && pg && fill(src, pg, idx, ARRAY_SIZE(idx), 7, 511));
	if (!src || !dst || !pg)
		return;
	vaddr_t va = TEST_VA, end = TEST_VA + 262200ull * PAGE_SIZE;
	bool changed = false;
	int calls = 0, frames = 0, r;
	while (va < end && (r = arch_pt_copy_range(dst, src, &va, end, PT_WRITE, pfns, 8,
						   &changed)) >= 0) {
		calls++;
		for (int i = 0; i < r; i++)
			frames += pfns[i] == page_to_pfn(pg);
	}
	KT_EXPECT(va == end && calls == 3 && frames == 5 && changed);
	struct pte_info pi;
	for (unsigned i = 0; i < ARRAY_SIZE(idx); i++) {
		vaddr_t a = TEST_VA + (vaddr_t)idx[i] * PAGE_SIZE;
		struct pte_info ps;
		KT_EXPECT(arch_pt_get(dst, a, &pi) == 0 && arch_pt_get(src, a, &ps) == 0);
		KT_EXPECT(pi.present == ps.present && pi.marker == ps.marker && pi.prot == ps.prot);
		KT_EXPECT(!(ps.prot & PT_WRITE)); /* write-protected in the same pass */
		KT_EXPECT(idx[i] == 7 ? pi.marker == 0x55 : pi.pfn == page_to_pfn(pg));
	}
	va = TEST_VA; /* clear with room for 2 frames per call: the table is resumed */
	calls = frames = 0;
	while (va < end) {
		calls++;
		frames += (int)arch_pt_clear_range(src, &va, end, pfns, 2);
	}
	KT_EXPECT(calls == 4 && frames == 5);
	KT_EXPECT(arch_pt_get(src, TEST_VA + 7 * PAGE_SIZE, &pi) == -ENOENT);
	va = TEST_VA + 4 * PAGE_SIZE; /* a partial range: entries 7 and 511 only */
	KT_EXPECT(arch_pt_clear_range(dst, &va, TEST_VA + 512 * PAGE_SIZE, pfns, 8) == 1);
	KT_EXPECT(va == TEST_VA + 512 * PAGE_SIZE);
	KT_EXPECT(arch_pt_get(dst, TEST_VA + 3 * PAGE_SIZE, &pi) == 0);
	KT_EXPECT(arch_pt_get(dst, TEST_VA + 512 * PAGE_SIZE, &pi) == 0);
	va = TEST_VA;
	while (va < end)
		arch_pt_clear_range(dst, &va, end, pfns, 8);
	arch_pt_destroy(src);
	arch_pt_destroy(dst);
	frame_free(pg, 0);
	KT_EXPECT(ktest_free_frames() == before);
}

/* A trapped entry (the poison emulator's) holds a frame like a present one: the range
 * operations report its frame and write-protect it in the copy. */
KTEST(pt, range_operations_count_trapped_entries)
{
	uint64_t before = ktest_free_frames();
	struct arch_pt *src = arch_pt_create(), *dst = arch_pt_create();
	struct page *pg = frame_alloc(0, PG_USER);
	pfn_t pfns[4];
	bool changed = false;
	KT_EXPECT(src && dst && pg);
	if (!src || !dst || !pg)
		return;
	KT_EXPECT(arch_pt_map(src, TEST_VA, page_to_pfn(pg), PT_READ | PT_WRITE) == 0);
	KT_EXPECT(arch_pt_trap(src, TEST_VA, true) == 0);
	vaddr_t va = TEST_VA, end = TEST_VA + PAGE_SIZE;
	KT_EXPECT(arch_pt_copy_range(dst, src, &va, end, PT_WRITE, pfns, 4, &changed) == 1);
	KT_EXPECT(pfns[0] == page_to_pfn(pg) && changed && va == end);
	struct pte_info pi;
	KT_EXPECT(arch_pt_get(dst, TEST_VA, &pi) == 0 && pi.present && !(pi.prot & PT_WRITE));
	va = TEST_VA;
	KT_EXPECT(arch_pt_clear_range(src, &va, end, pfns, 4) == 1 && pfns[0] == page_to_pfn(pg));
	va = TEST_VA;
	KT_EXPECT(arch_pt_clear_range(dst, &va, end, pfns, 4) == 1);
	arch_pt_destroy(src);
	arch_pt_destroy(dst);
	frame_free(pg, 0);
	KT_EXPECT(ktest_free_frames() == before);
}

static void load_pt(void *arg) { arch_pt_activate(arg); }

KTEST(pt, flush_reaches_cpu_that_has_space_loaded)
{
	if (arch_cpu_count() < 2)
		return;
	struct arch_pt *pt = arch_pt_create();
	struct page *a = frame_alloc(0, PG_USER);
	KT_EXPECT(pt && a);
	if (!pt || !a)
		return;
	KT_EXPECT(arch_pt_map(pt, TEST_VA, page_to_pfn(a), PT_READ) == 0);
	KT_EXPECT(arch_call_on_cpu(1, load_pt, pt, true) == 0);
	arch_pt_clear(pt, TEST_VA);
	arch_pt_flush(pt, TEST_VA, 1); /* must IPI CPU 1 and return */
	KT_EXPECT(arch_call_on_cpu(1, load_pt, NULL, true) == 0);
	arch_pt_destroy(pt);
	frame_free(a, 0);
}

/* A huge entry: read through the user address at its last page, reported by get at every
 * page and once by a walk, refused to 4 KiB calls, copied and cleared whole by the range
 * operations (and skipped when a range cuts it), split into 512 entries without allocating,
 * and its spare table freed with it. */
KTEST(pt, huge_entry_map_walk_copy_split_clear)
{
	uint64_t before = ktest_free_frames();
	struct arch_pt *pt = arch_pt_create(), *child = arch_pt_create();
	struct page *run = frame_alloc(9, PG_USER);
	KT_EXPECT(pt && child && run);
	if (!pt || !child || !run)
		return;
	pfn_t pfn = page_to_pfn(run), pfns[4];
	vaddr_t va = TEST_VA, end = TEST_VA + PT_HUGE_SIZE, at;
	bool changed = false;
	struct pte_info pi;
	int n = 0;
	*(volatile uint64_t *)((char *)page_to_virt(run) + PT_HUGE_SIZE - 8) = 0xfeedull;
	KT_EXPECT(arch_pt_map_huge(pt, va + PAGE_SIZE, pfn, PT_READ) == -EINVAL);
	KT_EXPECT(arch_pt_map_huge(pt, va, pfn + 1, PT_READ) == -EINVAL);
	KT_EXPECT(arch_pt_map_huge(pt, va, pfn, PT_READ | PT_WRITE) == 0);
	KT_EXPECT(arch_pt_map_huge(pt, va, pfn, PT_READ) == -EEXIST);
	arch_pt_activate(pt);
	uint64_t v = 0;
	user_access_begin();
	KT_EXPECT(probe_read64((void *)(end - 8), &v) == 0 && v == 0xfeedull);
	user_access_end();
	arch_pt_activate(NULL);
	KT_EXPECT(arch_pt_get(pt, va + 5 * PAGE_SIZE, &pi) == 0 && pi.present && pi.huge &&
		  pi.pfn == pfn + 5 && (pi.prot & PT_WRITE));
	KT_EXPECT(arch_pt_map(pt, va, pfn, PT_READ) == -EBUSY);
	KT_EXPECT(arch_pt_set_marker(pt, va, 1) == -EBUSY && arch_pt_clear(pt, va) == -EBUSY);
	arch_pt_walk(pt, USER_VA_START, USER_VA_END, count_entries, &n);
	KT_EXPECT(n == 1);
	at = va;
	KT_EXPECT(arch_pt_copy_range(child, pt, &at, end, PT_WRITE, pfns, 4, &changed) == 1);
	KT_EXPECT(at == end && changed && pfns[0] == (pfn | PT_PFN_HUGE));
	KT_EXPECT(arch_pt_get(child, va, &pi) == 0 && pi.huge && !(pi.prot & PT_WRITE));
	at = va + PAGE_SIZE; /* a range that cuts it leaves it */
	KT_EXPECT(arch_pt_clear_range(child, &at, end, pfns, 4) == 0 && at == end);
	at = va;
	KT_EXPECT(arch_pt_clear_range(child, &at, end, pfns, 4) == 1);
	KT_EXPECT(pfns[0] == (pfn | PT_PFN_HUGE) && arch_pt_get(child, va, &pi) == -ENOENT);
	KT_EXPECT(arch_pt_split_huge(pt, va + 7 * PAGE_SIZE) == 0);
	KT_EXPECT(arch_pt_split_huge(pt, va) == -ENOENT);
	KT_EXPECT(arch_pt_get(pt, va + 511 * PAGE_SIZE, &pi) == 0 && !pi.huge &&
		  pi.pfn == pfn + 511 && !(pi.prot & PT_WRITE));
	n = 0;
	arch_pt_walk(pt, USER_VA_START, USER_VA_END, count_entries, &n);
	KT_EXPECT(n == 512);
	at = va;
	while (at < end)
		arch_pt_clear_range(pt, &at, end, pfns, 4);
	arch_pt_destroy(child);
	arch_pt_destroy(pt);
	frame_free(run, 9);
	KT_EXPECT(ktest_free_frames() == before);
}
