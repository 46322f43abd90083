/* Host tests of kernel/mm address spaces (vm*.c, vma_tree.c) on the fake page tables: demand
 * paging, argument errors, copy-on-write after fork, partial munmap, mprotect splits, shared
 * anonymous memory across fork, poison markers, brk, MAP_FIXED
 * replacement, the VMA tree's balance, out-of-memory unwinding, and the single-page helpers
 * memory_failure uses. Every test ends by destroying its mms and checking that the frame
 * count returns to its baseline and no anon_vma or chain entry is left. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/rmap.h"
#include "../../kernel/mm/vm_priv.h"
#include <stdlib.h>
#include <string.h>

#define BASE 0x10000000ull
#define PG(i) (BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)
#define ANON_PRIV (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
#define ANON_SHARED (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)

TEST(vm_anon_demand_zero)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 4 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	CHECK(vt_page(mm, PG(1)) == NULL); /* nothing until touched */
	CHECK_EQ(vm_fault(mm, PG(1) + 123, FAULT_READ, true), 0);
	uint8_t *p = vt_page(mm, PG(1));
	REQUIRE(p);
	uint8_t zero[PAGE_SIZE] = {0};
	CHECK(memcmp(p, zero, PAGE_SIZE) == 0);
	struct page *pg = pfn_to_page(vt_pfn_at(mm, PG(1)));
	CHECK_EQ(pg->flags & (PG_USER | PG_FILE), PG_USER);
	CHECK_EQ(rmap_count(pg), 1);
	CHECK_EQ(vt_user_write(mm, PG(1), 77), 0);
	CHECK_EQ(vt_word(mm, PG(1)), 77);
	CHECK(vt_check(&mm, 1));
	CHECK_EQ(vm_munmap(mm, PG(0), 4 * PAGE_SIZE), 0);
	CHECK_EQ(vt_nr_mapped(), 0);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), -EFAULT);
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_mmap_errors)
{
	vt_start();
	struct mm *mm = mm_create();
	struct vt_file vf, wo;
	vt_file_init(&vf, "abc", 3, VM_FILE_READ);
	vt_file_init(&wo, "abc", 3, VM_FILE_WRITE);
	struct vm_file f = vf.vf;
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, 0, 0, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, 8, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, MAP_ANONYMOUS, NULL, 0), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0),
		 -EINVAL);
	CHECK_EQ(vm_mmap(mm, PG(0) + 1, 4096, RW, ANON_PRIV, NULL, 0), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, &f, 0), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, PT_READ, MAP_PRIVATE, NULL, 0), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, PT_READ, MAP_PRIVATE, &f, 100), -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, MAP_SHARED, &f, 0), -EACCES); /* not open for writing */
	CHECK_EQ(vm_mmap(mm, 0, 4096, PT_READ, MAP_PRIVATE, &wo.vf, 0), -EACCES); /* nor reading */
	CHECK_EQ(vf.refs + wo.refs, 0);
	/* hugetlb pages: an empty pool cannot cover the reservation (Linux: -ENOMEM); 1 GiB
	 * pages and an unaligned fixed address are -EINVAL */
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, NULL, 0),
		 -ENOMEM);
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30u << 26),
			 NULL, 0),
		 -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0x201000, 4096, RW,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, NULL, 0),
		 -EINVAL);
	CHECK_EQ(vm_mmap(mm, 0, 4096, RW, ANON_PRIV, NULL, 0), -EPERM);
	CHECK_EQ(vm_mmap(mm, USER_VA_END - PAGE_SIZE, 2 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0),
		 -ENOMEM);
	CHECK_EQ(vm_mmap(mm, PG(0), 4096, PT_READ, ANON_PRIV, NULL, 0), PG(0));
	CHECK_EQ(vm_mmap(mm, PG(0), 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 NULL, 0),
		 -EEXIST);
	/* faults: outside any VMA, against protection, outside user space */
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), -EFAULT);
	CHECK_EQ(vm_fault(mm, PG(0), FAULT_WRITE, true), -EACCES);
	CHECK_EQ(vm_fault(mm, PG(0), FAULT_EXEC, true), -EACCES);
	CHECK_EQ(vm_fault(mm, 0, FAULT_READ, true), -EFAULT);
	CHECK_EQ(vm_fault(mm, USER_VA_END, FAULT_READ, false), -EFAULT);
	CHECK_EQ(vm_fault(mm, PG(0), FAULT_READ, true), 0);
	CHECK_EQ(vm_munmap(mm, PG(0) + 1, 4096), -EINVAL);
	CHECK_EQ(vm_munmap(mm, PG(0), 0), -EINVAL);
	CHECK_EQ(vm_mprotect(mm, PG(0), 2 * PAGE_SIZE, RW), -ENOMEM); /* hole at PG(1) */
	CHECK_EQ(vm_mprotect(mm, PG(0), 4096, 0x10), -EINVAL);
	CHECK_EQ(vt_nr_vmas(mm), 1);
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_mmap_placement_and_merge)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	long a = vm_mmap(mm, 0, 3 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	long b = vm_mmap(mm, 0, 2 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK_EQ(a, VM_MMAP_TOP_DEFAULT - 3 * PAGE_SIZE);
	CHECK_EQ(b, a - 2 * PAGE_SIZE);
	CHECK_EQ(vt_nr_vmas(mm), 1); /* top-down neighbours merged */
	long c = vm_mmap(mm, 0, PAGE_SIZE, PT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK_EQ(c, b - PAGE_SIZE);
	CHECK_EQ(vt_nr_vmas(mm), 2); /* different protection: not merged */
	CHECK_EQ(vm_munmap(mm, (vaddr_t)b, PAGE_SIZE), 0);
	long d = vm_mmap(mm, 0, PAGE_SIZE, PT_READ, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK_EQ(d, b); /* the hole is found again */
	long e = vm_mmap(mm, PG(5), PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK_EQ(e, PG(5)); /* a free hint is taken */
	long f = vm_mmap(mm, PG(5), PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
	CHECK(f != PG(5) && f > 0); /* a busy hint is not */
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_fork_cow_break)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), 2 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	CHECK_EQ(vt_user_write(p, PG(0), 0xAAAA), 0);
	pfn_t orig = vt_pfn_at(p, PG(0));
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	struct vm_page_info ip, ic;
	vm_page_info(p, PG(0), &ip);
	vm_page_info(c, PG(0), &ic);
	CHECK_EQ(ip.pfn, ic.pfn);
	CHECK_EQ(ip.prot, PT_READ); /* both write-protected */
	CHECK_EQ(ic.prot, PT_READ);
	CHECK_EQ(pfn_to_page(orig)->refcount, 2);
	CHECK_EQ(rmap_count(pfn_to_page(orig)), 2);
	CHECK(vt_check(both, 2));
	/* the child writes: it gets a copy, the parent's data is intact */
	CHECK_EQ(vm_fault(c, PG(0), FAULT_WRITE, true), 0);
	CHECK(vt_pfn_at(c, PG(0)) != orig);
	CHECK_EQ(vt_word(c, PG(0)), 0xAAAA); /* copied contents */
	((uint64_t *)vt_page(c, PG(0)))[0] = 0xCCCC;
	CHECK_EQ(vt_word(p, PG(0)), 0xAAAA);
	CHECK_EQ(pfn_to_page(orig)->refcount, 1);
	CHECK(vt_check(both, 2));
	/* the parent writes now: sole holder, the frame is reused in place */
	CHECK_EQ(vm_fault(p, PG(0), FAULT_WRITE, true), 0);
	CHECK_EQ(vt_pfn_at(p, PG(0)), orig);
	vm_page_info(p, PG(0), &ip);
	CHECK_EQ(ip.prot, RW);
	CHECK(vt_check(both, 2));
	mm_put(p);
	CHECK_EQ(vt_word(c, PG(0)), 0xCCCC);
	CHECK(vt_check(&c, 1));
	mm_put(c);
	vt_check_clean();
}

TEST(vm_munmap_partial_splits)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 8 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	for (int i = 0; i < 8; i++)
		CHECK_EQ(vt_user_write(mm, PG(i), 100 + i), 0);
	uint64_t before = vt_free_frames();
	CHECK_EQ(vm_munmap(mm, PG(3), 2 * PAGE_SIZE), 0);
	CHECK_EQ(vt_free_frames(), before + 2);
	CHECK_EQ(vt_nr_vmas(mm), 2);
	CHECK_EQ(vm_fault(mm, PG(3), FAULT_READ, true), -EFAULT);
	CHECK_EQ(vm_fault(mm, PG(4), FAULT_READ, true), -EFAULT);
	for (int i = 0; i < 8; i++)
		if (i != 3 && i != 4)
			CHECK_EQ(vt_word(mm, PG(i)), 100 + i);
	CHECK_EQ(vm_munmap(mm, PG(0), PAGE_SIZE), 0); /* head of a VMA */
	CHECK_EQ(vm_munmap(mm, PG(7), PAGE_SIZE), 0); /* tail of a VMA */
	CHECK_EQ(vt_nr_vmas(mm), 2);
	CHECK_EQ(vm_munmap(mm, PG(2), 3 * PAGE_SIZE), 0); /* across a hole */
	CHECK_EQ(vt_word(mm, PG(1)), 101);
	CHECK_EQ(vt_word(mm, PG(5)), 105);
	CHECK_EQ(vt_nr_mapped(), 3);
	CHECK(vt_check(&mm, 1));
	CHECK_EQ(vm_munmap(mm, PG(100), PAGE_SIZE), 0); /* nothing there: fine */
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_mprotect_split_keeps_cow)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), 4 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(vt_user_write(p, PG(i), 10 + i), 0);
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	CHECK_EQ(vm_mprotect(p, PG(1), 2 * PAGE_SIZE, PT_READ), 0);
	CHECK_EQ(vt_nr_vmas(p), 3);
	CHECK_EQ(vm_fault(p, PG(1), FAULT_WRITE, true), -EACCES);
	CHECK_EQ(vm_mprotect(p, PG(1), 2 * PAGE_SIZE, RW), 0);
	CHECK_EQ(vt_nr_vmas(p), 1); /* one VMA again */
	struct vm_page_info i1;
	vm_page_info(p, PG(1), &i1);
	CHECK_EQ(i1.prot, PT_READ); /* COW page: write stays off until a fault */
	CHECK(vt_check(both, 2));
	CHECK_EQ(vt_user_write(p, PG(1), 99), 0);
	CHECK_EQ(vt_word(c, PG(1)), 11);
	CHECK_EQ(vt_word(p, PG(1)), 99);
	/* exclusive page: mprotect RW gives write at once */
	CHECK_EQ(vm_mprotect(p, PG(1), PAGE_SIZE, PT_READ), 0);
	CHECK_EQ(vm_mprotect(p, PG(1), PAGE_SIZE, RW), 0);
	vm_page_info(p, PG(1), &i1);
	CHECK_EQ(i1.prot, RW);
	/* PROT_NONE keeps the frame but forbids every access */
	CHECK_EQ(vm_mprotect(c, PG(0), PAGE_SIZE, 0), 0);
	CHECK_EQ(vm_fault(c, PG(0), FAULT_READ, true), -EACCES);
	vm_page_info(c, PG(0), &i1);
	CHECK_EQ(i1.state, VM_PAGE_PRESENT);
	CHECK_EQ(i1.prot, 0);
	CHECK_EQ(vm_mprotect(c, PG(0), PAGE_SIZE, PT_READ), 0);
	CHECK_EQ(vt_word(c, PG(0)), 10);
	CHECK(vt_check(both, 2));
	mm_put(c);
	mm_put(p);
	vt_check_clean();
}

TEST(vm_shared_anon_across_fork)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), 4 * PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	CHECK_EQ(vt_user_write(p, PG(1), 111), 0);
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	CHECK_EQ(vt_word(c, PG(1)), 111);
	CHECK_EQ(vt_pfn_at(c, PG(1)), vt_pfn_at(p, PG(1)));
	struct vm_page_info ic;
	vm_page_info(c, PG(1), &ic);
	CHECK_EQ(ic.prot, RW); /* shared: no COW */
	/* a page first touched by the child after fork is seen by the parent too */
	CHECK_EQ(vt_user_write(c, PG(3), 333), 0);
	CHECK_EQ(vm_fault(p, PG(3), FAULT_READ, true), 0);
	CHECK_EQ(vt_word(p, PG(3)), 333);
	CHECK_EQ(pfn_to_page(vt_pfn_at(p, PG(3)))->refcount, 3); /* 2 PTEs + the object's slot */
	CHECK(vt_check(both, 2));
	/* a split half still refers to the same object */
	CHECK_EQ(vm_munmap(p, PG(0), PAGE_SIZE), 0);
	CHECK_EQ(vt_user_write(p, PG(1), 112), 0);
	CHECK_EQ(vt_word(c, PG(1)), 112);
	CHECK(vt_check(both, 2));
	mm_put(p);
	CHECK_EQ(vt_word(c, PG(3)), 333);
	CHECK(vt_check(&c, 1));
	mm_put(c);
	vt_check_clean();
}

static void count_tell(void *arg)
{
	++*(int *)arg;
}

/* A new address space with two private pages at PG(0), written 5 and 6; NULL on failure. */
static struct mm *two_written_pages(void)
{
	struct mm *p = mm_create();
	if (p && (vm_mmap(p, PG(0), 2 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0) != (long)PG(0) ||
		  vt_user_write(p, PG(0), 5) || vt_user_write(p, PG(1), 6)))
		return NULL;
	return p;
}

/* A poison marker tells its owner once: the first vm_poison_tell calls tell and marks it, later
 * ones do not (unless always); a present page, an empty PTE, another frame's marker or a
 * dropped page tell nothing. */
TEST(vm_poison_tell_once)
{
	vt_start();
	struct mm *p = two_written_pages();
	REQUIRE(p);
	pfn_t bad = vt_pfn_at(p, PG(0));
	int n = 0;
	CHECK(!vm_poison_tell(p, PG(0), bad, false, count_tell, &n)); /* present: no marker */
	CHECK(!vm_poison_tell(p, PG(2), VM_ANY_PFN, false, count_tell, &n)); /* nothing there */
	CHECK_EQ(n, 0);
	CHECK_EQ(vm_set_poison(p, PG(0), bad), 0);
	CHECK(!vm_poison_tell(p, PG(0), bad + 1, false, count_tell, &n)); /* another frame's */
	CHECK(vm_poison_tell(p, PG(0) + 8, bad, false, count_tell, &n));
	CHECK_EQ(n, 1);
	CHECK(!vm_poison_tell(p, PG(0), bad, false, count_tell, &n)); /* told already */
	CHECK(!vm_poison_tell(p, PG(0), VM_ANY_PFN, true, count_tell, &n)); /* always: tells */
	CHECK_EQ(n, 2);
	struct vm_page_info info;
	vm_page_info(p, PG(0), &info);
	CHECK(info.state == VM_PAGE_POISON && info.pfn == bad); /* still the same marker */
	CHECK_EQ(vm_fault(p, PG(0), FAULT_READ, true), -EHWPOISON);
	CHECK_EQ(vm_set_poison(p, PG(0), bad), 0); /* a told marker is still pfn's marker */
	CHECK_EQ(vm_madvise(p, PG(0), PAGE_SIZE, MADV_DONTNEED), 0);
	CHECK(!vm_poison_tell(p, PG(0), VM_ANY_PFN, false, count_tell, &n)); /* dropped */
	CHECK_EQ(n, 2);
	mm_put(p);
	vt_check_clean();
}

TEST(vm_poison_markers)
{
	vt_start();
	struct mm *p = two_written_pages();
	REQUIRE(p);
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	pfn_t bad = vt_pfn_at(p, PG(0));
	struct page *pg = pfn_to_page(bad);
	CHECK_EQ(vm_set_poison(p, PG(0), bad + 1), -ENOENT); /* wrong frame */
	CHECK_EQ(vm_set_poison(p, PG(0) + 17, bad), 0);
	CHECK_EQ(vm_set_poison(p, PG(0), bad), 0); /* already a marker: fine */
	CHECK_EQ(rmap_count(pg), 1);		   /* the child still maps it */
	CHECK_EQ(pg->refcount, 1);
	struct vm_page_info info;
	vm_page_info(p, PG(0), &info);
	CHECK_EQ(info.state, VM_PAGE_POISON);
	CHECK_EQ(info.pfn, bad);
	CHECK_EQ(vm_fault(p, PG(0), FAULT_READ, true), -EHWPOISON);
	CHECK_EQ(vm_fault(p, PG(0), FAULT_WRITE, false), -EHWPOISON);
	CHECK_EQ(vm_fault(p, PG(0), FAULT_EXEC, true), -EACCES); /* protection is checked first */
	CHECK_EQ(vm_fault(p, PG(1), FAULT_WRITE, true), 0);	 /* other pages unharmed */
	CHECK_EQ(vt_word(p, PG(1)), 6);
	struct mm *g = mm_fork(p); /* the marker is inherited */
	REQUIRE(g);
	struct mm *all[3] = {p, c, g};
	CHECK_EQ(vm_fault(g, PG(0), FAULT_READ, true), -EHWPOISON);
	vm_page_info(g, PG(0), &info);
	CHECK_EQ(info.state, VM_PAGE_POISON);
	CHECK_EQ(info.pfn, bad);
	CHECK(vt_check(all, 3));
	/* a COW source that memory_failure has flagged is never copied by the kernel */
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_fault(c, PG(0), FAULT_WRITE, true), 0); /* sole holder: reused, no copy */
	__atomic_fetch_and(&pg->flags, ~(uint32_t)PG_HWPOISON, __ATOMIC_SEQ_CST);
	struct mm *c2 = mm_fork(c);
	REQUIRE(c2);
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_fault(c2, PG(0), FAULT_WRITE, true), -EHWPOISON);
	__atomic_fetch_and(&pg->flags, ~(uint32_t)PG_HWPOISON, __ATOMIC_SEQ_CST);
	/* munmap removes markers like any entry */
	CHECK_EQ(vm_munmap(g, PG(0), PAGE_SIZE), 0);
	vm_page_info(g, PG(0), &info);
	CHECK_EQ(info.state, VM_PAGE_NONE);
	mm_put(c2);
	mm_put(g);
	mm_put(c);
	mm_put(p);
	vt_check_clean();
}

TEST(vm_madvise_dontneed)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 3 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	CHECK_EQ(vm_mmap(mm, PG(4), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(4));
	CHECK_EQ(vm_mmap(mm, PG(6), PAGE_SIZE, RW, ANON_PRIV | MAP_LOCKED, NULL, 0), PG(6));
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vt_user_write(mm, PG(i), 10 + i), 0);
	CHECK_EQ(vt_user_write(mm, PG(4), 44), 0);
	uint64_t free0 = vt_free_frames();
	/* private: the frame goes back, the next touch reads zeros; the neighbours stay */
	CHECK_EQ(vm_madvise(mm, PG(1), 1, MADV_DONTNEED), 0); /* the length is rounded up */
	CHECK_EQ(vt_free_frames(), free0 + 1);
	CHECK(vt_page(mm, PG(1)) == NULL);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), 0);
	CHECK_EQ(vt_word(mm, PG(1)), 0);
	CHECK_EQ(vt_word(mm, PG(0)), 10);
	CHECK_EQ(vt_word(mm, PG(2)), 12);
	/* a lost page: the marker goes too, and the program gets a fresh zeroed page */
	pfn_t bad = vt_pfn_at(mm, PG(2));
	struct page *pg = pfn_to_page(bad);
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_set_poison(mm, PG(2), bad), 0);
	CHECK_EQ(vm_fault(mm, PG(2), FAULT_READ, true), -EHWPOISON);
	CHECK_EQ(vm_madvise(mm, PG(2), PAGE_SIZE, MADV_DONTNEED), 0);
	CHECK_EQ(vt_user_write(mm, PG(2), 99), 0);
	CHECK(vt_pfn_at(mm, PG(2)) != bad);
	CHECK_EQ(vt_word(mm, PG(2)), 99);
	/* shared: the mapping goes, the data stays in the shared object */
	CHECK_EQ(vm_madvise(mm, PG(4), PAGE_SIZE, MADV_DONTNEED), 0);
	CHECK(vt_page(mm, PG(4)) == NULL);
	CHECK_EQ(vm_fault(mm, PG(4), FAULT_READ, true), 0);
	CHECK_EQ(vt_word(mm, PG(4)), 44);
	/* a hole is -ENOMEM but the mapped part is still dropped; locked memory is -EINVAL */
	CHECK_EQ(vm_madvise(mm, PG(0), 4 * PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
	CHECK(vt_page(mm, PG(0)) == NULL);
	CHECK_EQ(vm_madvise(mm, PG(6), PAGE_SIZE, MADV_DONTNEED), -EINVAL);
	CHECK_EQ(vt_word(mm, PG(6)), 0); /* still there (populated by MAP_LOCKED) */
	CHECK(vt_page(mm, PG(6)) != NULL);
	CHECK_EQ(vm_madvise(mm, PG(0) + 1, PAGE_SIZE, MADV_DONTNEED), -EINVAL);
	CHECK_EQ(vm_madvise(mm, PG(0), 0, MADV_DONTNEED), 0);
	/* Past the top of user space: nothing is mapped there (Linux checks no limit: -ENOMEM). */
	CHECK_EQ(vm_madvise(mm, USER_VA_END - PAGE_SIZE, 2 * PAGE_SIZE, MADV_DONTNEED), -ENOMEM);
	CHECK_EQ(vm_madvise(mm, ~0ull & ~(uint64_t)(PAGE_SIZE - 1), 2 * PAGE_SIZE, MADV_DONTNEED), -EINVAL);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	struct frame_stats st;
	frame_get_stats(&st);
	CHECK_EQ(st.isolated, 1); /* the lost frame (flagged above) never came back */
	CHECK_EQ(vt_nr_mapped(), 0);
	CHECK_EQ(vt_free_frames(), vt_baseline_frames() - 1);
}

/* mlock splits the VMAs it covers, marks them VM_LOCKED and faults every page in; munlock
 * gives the flag back; a hole is -ENOMEM and an unaligned start rounds down, as on Linux. */
static unsigned flags_at(struct mm *mm, vaddr_t va)
{
	struct vma *v = vma_tree_find(mm->vma_root, va);
	return v ? v->flags : 0;
}

TEST(vm_mlock_munlock)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 4 * PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	CHECK_EQ(vm_mlock(mm, PG(1) + 100, PAGE_SIZE, true), 0); /* pages 1 and 2 */
	CHECK_EQ(vt_nr_vmas(mm), 3);
	CHECK(flags_at(mm, PG(1)) & VM_LOCKED);
	CHECK(flags_at(mm, PG(2)) & VM_LOCKED);
	CHECK(!(flags_at(mm, PG(0)) & VM_LOCKED) && !(flags_at(mm, PG(3)) & VM_LOCKED));
	CHECK(vt_pfn_at(mm, PG(1)) && vt_pfn_at(mm, PG(2)) && !vt_pfn_at(mm, PG(3))); /* faulted in */
	CHECK_EQ(vm_madvise(mm, PG(1), PAGE_SIZE, MADV_DONTNEED), -EINVAL);	   /* locked */
	CHECK_EQ(vm_mlock(mm, PG(3), 2 * PAGE_SIZE, true), -ENOMEM);	   /* runs off the end */
	CHECK_EQ(vm_mlock(mm, PG(0), 0, true), 0);
	CHECK_EQ(vm_mlock(mm, USER_VA_END - PAGE_SIZE, 2 * PAGE_SIZE, true), -ENOMEM);
	CHECK_EQ(vm_mlock(mm, PG(1), 2 * PAGE_SIZE, false), 0);
	CHECK(!(flags_at(mm, PG(1)) & VM_LOCKED) && !(flags_at(mm, PG(2)) & VM_LOCKED));
	CHECK_EQ(vm_madvise(mm, PG(1), PAGE_SIZE, MADV_DONTNEED), 0);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_shared_poisoned_slot)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(0));
	struct mm *c = mm_fork(p); /* has the VMA, but no PTE: the page is not touched yet */
	REQUIRE(c);
	CHECK_EQ(vt_user_write(p, PG(0), 1), 0);
	struct mm *d = mm_fork(p); /* has the PTE */
	REQUIRE(d);
	struct mm *all[3] = {p, c, d};
	pfn_t bad = vt_pfn_at(p, PG(0));
	struct page *pg = pfn_to_page(bad);
	/* what memory_failure does: flag the frame, then leave markers where it is mapped */
	__atomic_fetch_or(&pg->flags, PG_HWPOISON, __ATOMIC_SEQ_CST);
	CHECK_EQ(vm_set_poison(p, PG(0), bad), 0);
	CHECK_EQ(vm_set_poison(d, PG(0), bad), 0);
	CHECK_EQ(rmap_count(pg), 0);
	CHECK_EQ(pg->refcount, 1);				    /* the shared object's slot */
	CHECK_EQ(vm_fault(c, PG(0), FAULT_READ, true), -EHWPOISON); /* through the slot */
	CHECK_EQ(vm_fault(d, PG(0), FAULT_READ, true), -EHWPOISON); /* through the marker */
	struct vm_page_info info;
	vm_page_info(c, PG(0), &info);
	CHECK_EQ(info.state, VM_PAGE_NONE);
	CHECK(vt_check(all, 3));
	mm_put(p);
	mm_put(d);
	mm_put(c);
	struct frame_stats st;
	frame_get_stats(&st);
	CHECK_EQ(st.isolated, 1); /* the last reference did not return the bad frame */
	CHECK_EQ(vm_nr_mms(), 0);
	CHECK_EQ(vt_nr_mapped(), 0);
	CHECK_EQ(vt_free_frames(), vt_baseline_frames() - 1);
}

TEST(vm_brk_grow_shrink)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_brk(mm, PG(4)), 0); /* not initialised */
	vm_brk_init(mm, PG(0) + 100);
	CHECK_EQ(vm_brk(mm, 0), PG(0) + 100);
	CHECK_EQ(vm_brk(mm, PG(0)), PG(0) + 100); /* below the start */
	CHECK_EQ(vm_brk(mm, PG(3) + 5), PG(3) + 5);
	CHECK_EQ(vt_nr_vmas(mm), 1); /* [PG(1), PG(4)) */
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_WRITE, true), 0);
	CHECK_EQ(vm_fault(mm, PG(3), FAULT_WRITE, true), 0);
	CHECK_EQ(vm_fault(mm, PG(4), FAULT_READ, true), -EFAULT);
	CHECK_EQ(vm_brk(mm, PG(6)), PG(6));
	CHECK_EQ(vt_nr_vmas(mm), 1); /* grown in place */
	CHECK_EQ(vm_mmap(mm, PG(8), PAGE_SIZE, PT_READ, ANON_PRIV, NULL, 0), PG(8));
	CHECK_EQ(vm_brk(mm, PG(9)), PG(6)); /* would run into a mapping */
	uint64_t before = vt_free_frames();
	CHECK_EQ(vm_brk(mm, PG(2)), PG(2));
	CHECK_EQ(vt_free_frames(), before + 1); /* PG(3)'s frame */
	CHECK_EQ(vm_fault(mm, PG(3), FAULT_READ, true), -EFAULT);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), 0);
	CHECK(vt_check(&mm, 1));
	struct mm *c = mm_fork(mm);
	REQUIRE(c);
	CHECK_EQ(vm_brk(c, 0), PG(2)); /* inherited */
	mm_put(c);
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_fixed_replaces_and_populate)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 4 * PAGE_SIZE, RW, ANON_PRIV | MAP_POPULATE, NULL, 0), PG(0));
	CHECK_EQ(vt_nr_mapped(), 4); /* populated */
	CHECK_EQ(vt_user_write(mm, PG(1), 9), 0);
	uint64_t before = vt_free_frames();
	CHECK_EQ(vm_mmap(mm, PG(1), 2 * PAGE_SIZE, PT_READ, ANON_PRIV, NULL, 0), PG(1));
	CHECK_EQ(vt_free_frames(), before + 2);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), 0);
	CHECK_EQ(vt_word(mm, PG(1)), 0); /* fresh memory, the old contents are gone */
	CHECK_EQ(vt_nr_vmas(mm), 3);
	CHECK_EQ(vm_mmap(mm, PG(10), 2 * PAGE_SIZE, RW, ANON_PRIV | MAP_LOCKED, NULL, 0), PG(10));
	CHECK_EQ(vt_nr_mapped(), 5);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	vt_check_clean();
}

TEST(vm_replace_page_soft_offline)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(0));
	CHECK_EQ(vm_mmap(p, PG(1), PAGE_SIZE, RW, ANON_SHARED, NULL, 0), PG(1));
	CHECK_EQ(vt_user_write(p, PG(0), 42), 0);
	CHECK_EQ(vt_user_write(p, PG(1), 43), 0);
	struct mm *c = mm_fork(p);
	REQUIRE(c);
	struct mm *both[2] = {p, c};
	for (int i = 0; i < 2; i++) {
		pfn_t old = vt_pfn_at(p, PG(i));
		struct page *np = frame_alloc(0, PG_USER); /* what soft offline would do */
		REQUIRE(np);
		memcpy(page_to_virt(np), page_to_virt(pfn_to_page(old)), PAGE_SIZE);
		rmap_page_copy_anchor(np, pfn_to_page(old));
		CHECK_EQ(vm_replace_page(p, PG(i), old, np), 0);
		CHECK_EQ(vm_replace_page(c, PG(i), old, np), 0);
		CHECK_EQ(vm_replace_page(c, PG(i), old, np), -ENOENT);
		upage_put(np); /* drop the caller's reference */
		CHECK_EQ(vt_pfn_at(p, PG(i)), page_to_pfn(np));
		CHECK_EQ(vt_word(c, PG(i)), 42 + i);
		CHECK(vt_check(both, 2));
	}
	struct mm *g = mm_fork(c); /* the shared object now hands out the new frame */
	REQUIRE(g);
	CHECK_EQ(vm_fault(g, PG(1), FAULT_READ, true), 0);
	CHECK_EQ(vt_pfn_at(g, PG(1)), vt_pfn_at(p, PG(1)));
	mm_put(g);
	mm_put(c);
	mm_put(p);
	vt_check_clean();
}

TEST(vm_out_of_memory_unwinds)
{
	vt_start();
	struct mm *p = mm_create();
	REQUIRE(p);
	CHECK_EQ(vm_mmap(p, PG(0), 8 * PAGE_SIZE, RW, ANON_PRIV | MAP_POPULATE, NULL, 0), PG(0));
	CHECK_EQ(vm_mmap(p, PG(8), 8 * PAGE_SIZE, RW, ANON_SHARED | MAP_POPULATE, NULL, 0), PG(8));
	CHECK_EQ(vm_set_poison(p, PG(3), vt_pfn_at(p, PG(3))), 0);
	for (long n = 0; n < 20; n++) { /* fail the n-th page-table operation of a fork */
		fake_mmu_fail_after = n;
		struct mm *c = mm_fork(p);
		fake_mmu_fail_after = -1;
		if (c)
			mm_put(c);
		CHECK_EQ(vm_nr_mms(), 1);
		CHECK(vt_check(&p, 1));
	}
	fake_mmu_fail_after = 0;
	CHECK_EQ(vm_fault(p, PG(20), FAULT_READ, true), -EFAULT);
	CHECK_EQ(vm_mmap(p, PG(20), PAGE_SIZE, RW, ANON_PRIV, NULL, 0), PG(20));
	CHECK_EQ(vm_fault(p, PG(20), FAULT_WRITE, true), -ENOMEM);
	CHECK(mm_create() == NULL);
	fake_mmu_fail_after = -1;
	CHECK(vt_check(&p, 1));
	CHECK_EQ(vm_fault(p, PG(20), FAULT_WRITE, true), 0);
	mm_put(p);
	vt_check_clean();
}

/* The VMA tree against a plain array: many single-page VMAs, random unmaps, lookups. */
TEST(vm_vma_tree_balanced)
{
	enum { N = 2000 };
	static bool mapped[2 * N];
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	srand(7);
	for (int i = 0; i < N; i++) { /* every other page, so nothing merges */
		CHECK_EQ(vm_mmap(mm, PG(2 * i), PAGE_SIZE, PT_READ, ANON_PRIV, NULL, 0), PG(2 * i));
		mapped[2 * i] = true;
	}
	CHECK_EQ(mm->nr_vmas, N);
	CHECK(vma_tree_height(mm->vma_root) <= 16); /* AVL: <= 1.44 log2(2000) + 1 */
	for (int k = 0; k < N / 2; k++) {
		int i = 2 * (rand() % N);
		CHECK_EQ(vm_munmap(mm, PG(i), PAGE_SIZE), 0);
		mapped[i] = false;
	}
	int live = 0;
	for (int i = 0; i < 2 * N; i++) {
		live += mapped[i];
		int want = mapped[i] ? 0 : -EFAULT;
		CHECK_EQ(vm_fault(mm, PG(i), FAULT_READ, true), want);
	}
	CHECK_EQ(vt_nr_vmas(mm), live);
	CHECK_EQ(mm->nr_vmas, live);
	CHECK(vma_tree_height(mm->vma_root) <= 16);
	mm_put(mm);
	vt_check_clean();
}
