/* Host tests of transparent huge pages (kernel/mm/thp.c) on the fake page tables, whose huge
 * entries behave as x86's: a fault in a MADV_HUGEPAGE region maps 512 aligned frames with one
 * entry, each frame anchored and counted on its own; fork shares it, a write splits it in the
 * writer and copies 4 KiB; munmap, mprotect and mremap split what they cut; memory_failure
 * splits and loses one page; the fall-backs to 4 KiB; and after every step the brute-force
 * rmap check (vt_check) and, at the end, every frame back. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/memory_failure.h"
#include "../../include/rmap.h"
#include "../../kernel/mm/vm_priv.h"

#define BASE 0x10000000ull /* 2 MiB-aligned */
#define HP PT_HUGE_SIZE
#define NP PT_HUGE_PAGES
#define RW (PT_READ | PT_WRITE)
#define ANON_PRIV (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)

static struct pte_info entry(struct mm *mm, vaddr_t va)
{
	struct pte_info pi = {0};
	arch_pt_get(mm->pt, va, &pi);
	return pi;
}

/* A space with a huge page at BASE (a 4 MiB MADV_HUGEPAGE mapping), each page's first word
 * its number. */
static struct mm *with_huge_page(void)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	CHECK_EQ(vm_mmap(mm, BASE, 2 * HP, RW, ANON_PRIV, NULL, 0), (long)BASE);
	CHECK_EQ(vm_madvise(mm, BASE, 2 * HP, MADV_HUGEPAGE), 0);
	CHECK_EQ(vm_fault(mm, BASE + 7 * PAGE_SIZE, FAULT_WRITE, true), 0);
	for (unsigned i = 0; i < NP; i++) {
		uint64_t *p = vt_page(mm, BASE + i * PAGE_SIZE);
		if (p)
			*p = i;
	}
	return mm;
}

static unsigned intact(struct mm *mm, long skip)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < NP; i++) {
		uint64_t *p = vt_page(mm, BASE + i * PAGE_SIZE);
		ok += (long)i != skip && p && *p == i;
	}
	return ok;
}

TEST(thp_fault_maps_one_huge_entry)
{
	vt_start();
	struct mm *mm = with_huge_page();
	REQUIRE(mm);
	struct pte_info pi = entry(mm, BASE + 100 * PAGE_SIZE), first = entry(mm, BASE);
	CHECK(pi.present && pi.huge && pi.pfn == first.pfn + 100);
	CHECK_EQ(first.pfn % NP, 0);
	CHECK_EQ(thp_anon_bytes(), HP);
	CHECK_EQ(pfn_to_page(pi.pfn)->mapcount, 1);
	CHECK_EQ(pfn_to_page(pi.pfn)->refcount, 1);
	CHECK_EQ(intact(mm, -1), NP);
	CHECK(vt_check(&mm, 1));
	/* the second 2 MiB: huge too; a VMA too small or not advised: 4 KiB */
	CHECK_EQ(vm_fault(mm, BASE + HP, FAULT_READ, true), 0);
	CHECK(entry(mm, BASE + HP).huge);
	CHECK_EQ(thp_anon_bytes(), 2 * HP);
	CHECK_EQ(vm_mmap(mm, BASE + 4 * HP, HP, RW, ANON_PRIV, NULL, 0), (long)(BASE + 4 * HP));
	CHECK_EQ(vm_fault(mm, BASE + 4 * HP, FAULT_READ, true), 0);
	CHECK(!entry(mm, BASE + 4 * HP).huge);
	CHECK_EQ(vm_madvise(mm, BASE + 4 * HP + PAGE_SIZE, PAGE_SIZE, MADV_HUGEPAGE), 0);
	CHECK_EQ(vm_fault(mm, BASE + 4 * HP + 9 * PAGE_SIZE, FAULT_READ, true), 0);
	CHECK(!entry(mm, BASE + 4 * HP + 9 * PAGE_SIZE).huge); /* a 4 KiB page is there */
	CHECK_EQ(vm_madvise(mm, BASE + 1, PAGE_SIZE, MADV_HUGEPAGE), -EINVAL);
	CHECK_EQ(vm_madvise(mm, BASE + 8 * HP, PAGE_SIZE, MADV_HUGEPAGE), -ENOMEM); /* a hole */
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	CHECK_EQ(thp_anon_bytes(), 0);
	vt_check_clean();
}

TEST(thp_nohugepage_and_fallback_when_no_block)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, BASE, HP, RW, ANON_PRIV, NULL, 0), (long)BASE);
	CHECK_EQ(vm_madvise(mm, BASE, HP, MADV_NOHUGEPAGE), 0);
	CHECK_EQ(vm_fault(mm, BASE, FAULT_READ, true), 0);
	CHECK(!entry(mm, BASE).huge);
	CHECK_EQ(vm_munmap(mm, BASE, HP), 0);
	/* every order-9 block taken: the fault maps 4 KiB */
	struct page *blocks[16];
	unsigned n = 0;
	while (n < 16 && (blocks[n] = frame_alloc(9, PG_KERNEL)))
		n++;
	CHECK_EQ(vm_mmap(mm, BASE, HP, RW, ANON_PRIV, NULL, 0), (long)BASE);
	CHECK_EQ(vm_madvise(mm, BASE, HP, MADV_HUGEPAGE), 0);
	struct thp_stats before, after;
	thp_get_stats(&before);
	CHECK_EQ(vm_fault(mm, BASE, FAULT_READ, true), 0);
	thp_get_stats(&after);
	CHECK(!entry(mm, BASE).huge && entry(mm, BASE).present);
	CHECK_EQ(after.fault_fallback, before.fault_fallback + 1);
	for (unsigned i = 0; i < n; i++)
		frame_free(blocks[i], 9);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	vt_check_clean();
}

TEST(thp_fork_shares_and_write_splits_the_writer)
{
	vt_start();
	struct mm *p = with_huge_page();
	REQUIRE(p);
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	pfn_t head = entry(p, BASE).pfn;
	CHECK(entry(c, BASE).huge && entry(c, BASE).pfn == head);
	CHECK(!(entry(p, BASE).prot & PT_WRITE) && !(entry(c, BASE).prot & PT_WRITE));
	CHECK_EQ(pfn_to_page(head + 3)->mapcount, 2);
	CHECK_EQ(thp_anon_bytes(), HP); /* one run, mapped twice */
	CHECK(vt_check(both, 2));
	CHECK_EQ(vm_fault(c, BASE + 5 * PAGE_SIZE, FAULT_WRITE, true), 0);
	CHECK(!entry(c, BASE).huge && entry(p, BASE).huge);
	CHECK(entry(c, BASE + 5 * PAGE_SIZE).pfn != head + 5); /* 4 KiB copied */
	CHECK_EQ(entry(c, BASE + 6 * PAGE_SIZE).pfn, head + 6);
	*(uint64_t *)vt_page(c, BASE + 5 * PAGE_SIZE) = 0xc0;
	CHECK_EQ(intact(p, -1), NP);
	CHECK_EQ(intact(c, 5), NP - 1);
	CHECK_EQ(pfn_to_page(head + 5)->mapcount, 1);
	CHECK(vt_check(both, 2));
	mm_put(c);
	/* the parent alone again: a write reuses the huge page in place */
	CHECK_EQ(vm_fault(p, BASE, FAULT_WRITE, true), 0);
	CHECK(entry(p, BASE).huge && (entry(p, BASE).prot & PT_WRITE) && entry(p, BASE).pfn == head);
	CHECK(vt_check(&p, 1));
	mm_put(p);
	vt_check_clean();
}

TEST(thp_munmap_mprotect_mremap_split_what_they_cut)
{
	vt_start();
	struct mm *mm = with_huge_page();
	REQUIRE(mm);
	pfn_t head = entry(mm, BASE).pfn;
	uint64_t free0 = vt_free_frames();
	CHECK_EQ(vm_mprotect(mm, BASE, HP, PT_READ), 0); /* whole: stays huge */
	CHECK(entry(mm, BASE).huge && !(entry(mm, BASE).prot & PT_WRITE));
	CHECK_EQ(vm_mprotect(mm, BASE, HP, RW), 0);
	CHECK_EQ(vm_munmap(mm, BASE + 10 * PAGE_SIZE, PAGE_SIZE), 0);
	CHECK(!entry(mm, BASE).huge && !entry(mm, BASE + 10 * PAGE_SIZE).present);
	CHECK_EQ(vt_free_frames(), free0 + 1); /* that one frame, at once */
	CHECK_EQ(thp_anon_bytes(), 0);
	CHECK_EQ(intact(mm, 10), NP - 1);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	mm = with_huge_page();
	REQUIRE(mm);
	CHECK_EQ(vm_mprotect(mm, BASE + 3 * PAGE_SIZE, PAGE_SIZE, PT_READ), 0);
	CHECK(!entry(mm, BASE).huge && !(entry(mm, BASE + 3 * PAGE_SIZE).prot & PT_WRITE));
	CHECK(entry(mm, BASE + 4 * PAGE_SIZE).prot & PT_WRITE);
	CHECK_EQ(intact(mm, -1), NP);
	CHECK_EQ(vm_madvise(mm, BASE + 7 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
	CHECK_EQ(intact(mm, 7), NP - 1);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	mm = with_huge_page();
	REQUIRE(mm);
	head = entry(mm, BASE).pfn;
	long to = vm_mremap(mm, BASE, HP, HP, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 5 * HP);
	CHECK_EQ(to, (long)(BASE + 5 * HP));
	CHECK_EQ(entry(mm, BASE + 5 * HP + 9 * PAGE_SIZE).pfn, head + 9);
	CHECK_EQ(*(uint64_t *)vt_page(mm, BASE + 5 * HP + 9 * PAGE_SIZE), 9);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	vt_check_clean();
}

TEST(thp_memory_failure_loses_one_page)
{
	vt_start();
	struct mm *mm = with_huge_page();
	REQUIRE(mm);
	struct mm *c = mm_fork(mm);
	REQUIRE(c);
	struct mm *both[2] = {mm, c};
	pfn_t head = entry(mm, BASE).pfn;
	CHECK_EQ(memory_failure(head + 100, 0), 0);
	struct vm_page_info info;
	for (int k = 0; k < 2; k++) {
		vm_page_info(both[k], BASE + 100 * PAGE_SIZE, &info);
		CHECK(info.state == VM_PAGE_POISON && info.pfn == head + 100);
		CHECK(!entry(both[k], BASE).huge);
		CHECK_EQ(intact(both[k], 100), NP - 1);
		CHECK_EQ(entry(both[k], BASE + 101 * PAGE_SIZE).pfn, head + 101);
	}
	CHECK_EQ(vm_fault(mm, BASE + 100 * PAGE_SIZE, FAULT_READ, true), -EHWPOISON);
	CHECK_EQ(thp_anon_bytes(), 0);
	CHECK(vt_check(both, 2));
	mm_put(c);
	mm_put(mm);
	CHECK(page_poisoned(pfn_to_page(head + 100)));
	CHECK_EQ(vt_free_frames(), vt_baseline_frames() - 1); /* only the 4 KiB is lost */
}
