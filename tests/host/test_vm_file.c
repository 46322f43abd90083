/* Host tests of file mappings and mremap in kernel/mm on the fake page tables (test_vm.c has
 * the rest of the address-space tests): private file pages read from the page cache and
 * copied on write, shared ones dirtied in place and seen by every mapper, msync's rules, a
 * truncate that unmaps pages past the end (SIGBUS after it), file VMAs merged again after
 * mprotect with the rmap finding every mapper, and mremap moving pages and poison markers.
 * Every test ends by destroying its mms and checking that the frame count returns to its
 * baseline and no anon_vma or chain entry is left. */
#include "unit.h"
#include "fake_arch.h"
#include "fake_mmu.h"
#include "vm_testlib.h"
#include "../../include/kerrno.h"
#include "../../include/rmap.h"
#include "../../kernel/mm/vm_priv.h"
#include <string.h>

#define BASE 0x10000000ull
#define PG(i) (BASE + (uint64_t)(i)*PAGE_SIZE)
#define RW (PT_READ | PT_WRITE)
#define ANON_PRIV (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)

static uint8_t file_bytes[3 * PAGE_SIZE + 100];

/* A test's start: a fresh world, file_bytes as a file open for reading and writing in *vf,
 * and a new empty address space in *a (and in *b unless b is NULL); the caller requires them. */
static void file_test_start(struct vt_file *vf, struct mm **a, struct mm **b)
{
	vt_start();
	vt_file_init(vf, file_bytes, sizeof file_bytes, VM_FILE_READ | VM_FILE_WRITE);
	*a = mm_create();
	if (b)
		*b = mm_create();
}

/* A test's end (its address spaces gone): the file goes, and nothing may be left. */
static void file_test_end(struct vt_file *vf)
{
	vt_file_release(vf);
	vt_check_clean();
}

TEST(vm_file_pages)
{
	vt_start();
	for (size_t i = 0; i < sizeof file_bytes; i++)
		file_bytes[i] = (uint8_t)(i * 7 + 3);
	struct vt_file vf;
	vt_file_init(&vf, file_bytes, sizeof file_bytes, VM_FILE_READ);
	struct vm_file f = vf.vf;
	struct mm *mm = mm_create();
	REQUIRE(mm);
	/* pages 1..3 of the file at PG(0)..PG(2), page 3 is partly past the end */
	CHECK_EQ(vm_mmap(mm, PG(0), 4 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_FIXED, &f, PAGE_SIZE),
		 PG(0));
	CHECK_EQ(vf.refs, 1);
	CHECK_EQ(vm_fault(mm, PG(0), FAULT_READ, true), 0);
	CHECK(memcmp(vt_page(mm, PG(0)), file_bytes + PAGE_SIZE, PAGE_SIZE) == 0);
	struct page *fp = pfn_to_page(vt_pfn_at(mm, PG(0)));
	CHECK_EQ(fp->flags & (PG_USER | PG_FILE | PG_DIRTY), PG_USER | PG_FILE);
	CHECK(fp->mapping == &vf.pc && fp->index == 1);
	struct vm_page_info info;
	vm_page_info(mm, PG(0), &info);
	CHECK_EQ(info.prot, PT_READ); /* never written in place */
	CHECK_EQ(vm_fault(mm, PG(2), FAULT_READ, true), 0);
	uint8_t *p2 = vt_page(mm, PG(2));
	CHECK(memcmp(p2, file_bytes + 3 * PAGE_SIZE, 100) == 0);
	CHECK_EQ(p2[100], 0);
	CHECK_EQ(p2[PAGE_SIZE - 1], 0);
	CHECK_EQ(vm_fault(mm, PG(3), FAULT_READ, true), -ENXIO); /* wholly past the end: SIGBUS */
	/* a write to the file page gives a private anonymous copy */
	CHECK_EQ(vm_fault(mm, PG(0), FAULT_WRITE, true), 0);
	struct page *ap = pfn_to_page(vt_pfn_at(mm, PG(0)));
	CHECK(ap != fp);
	CHECK_EQ(ap->flags & PG_FILE, 0);
	CHECK(memcmp(page_to_virt(ap), file_bytes + PAGE_SIZE, PAGE_SIZE) == 0);
	CHECK(!(fp->flags & PG_DIRTY)); /* the file's page is untouched */
	/* first touch by write: straight to an anonymous copy */
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_WRITE, true), 0);
	CHECK_EQ(pfn_to_page(vt_pfn_at(mm, PG(1)))->flags & PG_FILE, 0);
	CHECK(memcmp(vt_page(mm, PG(1)), file_bytes + 2 * PAGE_SIZE, PAGE_SIZE) == 0);
	CHECK(vt_check(&mm, 1));
	/* a shared mapping of a file not open for writing can never become writable */
	CHECK_EQ(vm_mmap(mm, PG(8), PAGE_SIZE, PT_READ, MAP_SHARED | MAP_FIXED, &f, 0), PG(8));
	CHECK_EQ(vm_mprotect(mm, PG(8), PAGE_SIZE, RW), -EACCES);
	/* a page unmapped comes back from the cache on next touch */
	CHECK_EQ(vm_fault(mm, PG(8), FAULT_READ, true), 0);
	pfn_t old = vt_pfn_at(mm, PG(8));
	CHECK_EQ(vm_unmap_page(mm, PG(8), old), 0);
	CHECK_EQ(vm_unmap_page(mm, PG(8), old), -ENOENT);
	CHECK(vt_page(mm, PG(8)) == NULL);
	CHECK_EQ(vm_fault(mm, PG(8), FAULT_READ, true), 0);
	CHECK(memcmp(vt_page(mm, PG(8)), file_bytes, PAGE_SIZE) == 0);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	vt_file_release(&vf);
	vt_check_clean();
}

TEST(vm_file_shared_writes_reach_the_file)
{
	struct vt_file vf;
	struct mm *a, *b;
	file_test_start(&vf, &a, &b);
	REQUIRE(a && b);
	CHECK_EQ(vm_mmap(a, PG(0), 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, &vf.vf, 0), PG(0));
	CHECK_EQ(vm_mmap(b, PG(4), 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, &vf.vf, 0), PG(4));
	/* a read maps the clean page read-only; the first write dirties it */
	CHECK_EQ(vm_fault(a, PG(0), FAULT_READ, true), 0);
	struct page *pg = pfn_to_page(vt_pfn_at(a, PG(0)));
	struct vm_page_info info;
	vm_page_info(a, PG(0), &info);
	CHECK_EQ(info.prot, PT_READ);
	CHECK(!(pg->flags & PG_DIRTY));
	CHECK_EQ(vt_user_write(a, PG(0), 0x1234), 0);
	CHECK(pg->flags & PG_DIRTY);
	/* the other address space sees the write, through the same frame */
	CHECK_EQ(vm_fault(b, PG(4), FAULT_READ, true), 0);
	CHECK_EQ(vt_word(b, PG(4)), 0x1234);
	CHECK_EQ(vt_pfn_at(b, PG(4)), page_to_pfn(pg));
	struct mm *both[2] = {a, b};
	CHECK(vt_check(both, 2));
	/* a fork shares the file's page too */
	struct mm *c = mm_fork(a);
	REQUIRE(c);
	CHECK_EQ(vt_pfn_at(c, PG(0)), page_to_pfn(pg));
	CHECK_EQ(vf.refs, 3);
	/* msync: MS_SYNC reaches the file, MS_ASYNC does not need to; bad flags and holes */
	CHECK_EQ(vm_msync(a, PG(0), 2 * PAGE_SIZE, 4 /* MS_SYNC */), 0);
	CHECK_EQ(vf.syncs, 1);
	CHECK_EQ(vm_msync(a, PG(0), PAGE_SIZE, 1 /* MS_ASYNC */), 0);
	CHECK_EQ(vm_msync(a, PG(0) + 1, PAGE_SIZE, 4), -EINVAL);
	CHECK_EQ(vm_msync(a, PG(0), PAGE_SIZE, 5), -EINVAL);
	CHECK_EQ(vm_msync(a, PG(0), PAGE_SIZE, 8), -EINVAL);
	CHECK_EQ(vm_msync(a, PG(0), 4 * PAGE_SIZE, 4), -ENOMEM); /* synced, then past the mapping */
	CHECK_EQ(vf.syncs, 2);
	CHECK_EQ(vm_msync(a, PG(0), 0, 4), 0);
	mm_put(c);
	mm_put(a);
	mm_put(b);
	CHECK_EQ(vf.refs, 0);
	file_test_end(&vf);
}

/* A page-cache page is anchored in its cache's rmap object: the walk finds it in every VMA
 * mapping the file, shared, private and forked; VMAs of the file cut by mprotect become one
 * again (each VMA holds one file reference), and mremap keeps them on the object. */
TEST(vm_file_vmas_merge_and_the_rmap_finds_every_mapper)
{
	struct vt_file vf;
	struct mm *a, *b;
	file_test_start(&vf, &a, &b);
	REQUIRE(a && b);
	CHECK_EQ(vm_mmap(a, PG(0), 3 * PAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, &vf.vf, 0), PG(0));
	CHECK_EQ(vm_mmap(b, PG(8), 3 * PAGE_SIZE, PT_READ, MAP_PRIVATE | MAP_FIXED, &vf.vf, 0),
		 PG(8));
	CHECK_EQ(vm_mprotect(a, PG(1), PAGE_SIZE, PT_READ), 0);
	CHECK_EQ(vt_nr_vmas(a), 3);
	CHECK_EQ(vf.refs, 4);
	CHECK_EQ(vm_mprotect(a, PG(1), PAGE_SIZE, RW), 0);
	CHECK_EQ(vt_nr_vmas(a), 1); /* the same file at following offsets: one VMA again */
	CHECK_EQ(vf.refs, 2);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(vm_fault(a, PG(i), FAULT_READ, true), 0);
		CHECK_EQ(vm_fault(b, PG(8 + i), FAULT_READ, true), 0);
	}
	struct mm *c = mm_fork(a);
	REQUIRE(c);
	struct page *pg = pfn_to_page(vt_pfn_at(a, PG(1)));
	CHECK_EQ(vt_pfn_at(b, PG(9)), page_to_pfn(pg));
	CHECK_EQ(rmap_count(pg), 3);
	struct mm *all[3] = {a, b, c};
	CHECK(vt_check(all, 3)); /* every PTE found by the walk, nothing more */
	CHECK_EQ(vm_mremap(a, PG(0), 3 * PAGE_SIZE, 4 * PAGE_SIZE, 1 /* MAYMOVE */, 0), PG(0));
	CHECK_EQ(vm_mremap(c, PG(0), 3 * PAGE_SIZE, 3 * PAGE_SIZE, 3 /* FIXED */, PG(20)), PG(20));
	CHECK_EQ(vt_pfn_at(c, PG(21)), page_to_pfn(pg));
	CHECK(vt_check(all, 3));
	mm_put(c);
	mm_put(a);
	mm_put(b);
	CHECK_EQ(vf.refs, 0);
	file_test_end(&vf);
}

TEST(vm_file_truncate_unmaps_and_gives_sigbus)
{
	struct vt_file vf;
	struct mm *mm;
	file_test_start(&vf, &mm, NULL);
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 4 * PAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, &vf.vf, 0), PG(0));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(vm_fault(mm, PG(i), FAULT_READ, true), 0);
	CHECK_EQ(pagecache_truncate(&vf.pc, PAGE_SIZE + 10), 0);
	CHECK(vt_page(mm, PG(0)) && vt_page(mm, PG(1)));
	CHECK(vt_page(mm, PG(2)) == NULL && vt_page(mm, PG(3)) == NULL);
	CHECK_EQ(vm_fault(mm, PG(2), FAULT_READ, true), -ENXIO);
	CHECK_EQ(((uint8_t *)vt_page(mm, PG(1)))[10], 0); /* the rest of the last page is zeroed */
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	file_test_end(&vf);
}

TEST(vm_mremap_moves_pages_and_markers)
{
	vt_start();
	struct mm *mm = mm_create();
	REQUIRE(mm);
	CHECK_EQ(vm_mmap(mm, PG(0), 3 * PAGE_SIZE, RW, ANON_PRIV | MAP_FIXED, NULL, 0), PG(0));
	CHECK_EQ(vt_user_write(mm, PG(0), 10), 0);
	CHECK_EQ(vt_user_write(mm, PG(2), 12), 0);
	CHECK_EQ(vm_fault(mm, PG(1), FAULT_READ, true), 0);
	pfn_t bad = vt_pfn_at(mm, PG(1));
	CHECK_EQ(vm_set_poison(mm, PG(1), bad), 0); /* a marker, as memory_failure leaves one */
	/* argument errors, in Linux's order */
	CHECK_EQ(vm_mremap(mm, PG(0), PAGE_SIZE, PAGE_SIZE, 8, 0), -EINVAL);
	CHECK_EQ(vm_mremap(mm, PG(0), PAGE_SIZE, PAGE_SIZE, 2 /* FIXED */, PG(9)), -EINVAL);
	CHECK_EQ(vm_mremap(mm, PG(0) + 1, PAGE_SIZE, PAGE_SIZE, 0, 0), -EINVAL);
	CHECK_EQ(vm_mremap(mm, PG(0), PAGE_SIZE, 0, 0, 0), -EINVAL);
	CHECK_EQ(vm_mremap(mm, PG(7), PAGE_SIZE, PAGE_SIZE, 0, 0), PG(7)); /* no-op, as on Linux */
	CHECK_EQ(vm_mremap(mm, PG(7), PAGE_SIZE, 2 * PAGE_SIZE, 0, 0), -EFAULT);
	CHECK_EQ(vm_mremap(mm, PG(0), 0, PAGE_SIZE, 1, 0), -EINVAL); /* duplicate private */
	CHECK_EQ(vm_mremap(mm, PG(0), 4 * PAGE_SIZE, 5 * PAGE_SIZE, 1, 0), -EFAULT);
	/* grow in place, then move to a fixed place */
	CHECK_EQ(vm_mremap(mm, PG(0), 3 * PAGE_SIZE, 4 * PAGE_SIZE, 0, 0), PG(0));
	CHECK_EQ(vm_mremap(mm, PG(0), 4 * PAGE_SIZE, 4 * PAGE_SIZE, 3, PG(2)),
		 -EINVAL); /* overlap */
	CHECK_EQ(vm_mremap(mm, PG(0), 4 * PAGE_SIZE, 4 * PAGE_SIZE, 3, PG(16)), PG(16));
	CHECK_EQ(vm_fault(mm, PG(0), FAULT_READ, true), -EFAULT);
	CHECK_EQ(vt_word(mm, PG(16)), 10);
	CHECK_EQ(vt_word(mm, PG(18)), 12);
	struct vm_page_info info;
	vm_page_info(mm, PG(17), &info);
	CHECK(info.state == VM_PAGE_POISON && info.pfn == bad);
	CHECK(vt_check(&mm, 1));
	/* shrink, and without MAYMOVE no room to grow into */
	CHECK_EQ(vm_mmap(mm, PG(20), PAGE_SIZE, RW, ANON_PRIV | MAP_FIXED, NULL, 0), PG(20));
	CHECK_EQ(vm_mremap(mm, PG(16), 4 * PAGE_SIZE, 5 * PAGE_SIZE, 0, 0), -ENOMEM);
	CHECK_EQ(vm_mremap(mm, PG(16), 4 * PAGE_SIZE, PAGE_SIZE, 0, 0), PG(16));
	CHECK_EQ(vm_fault(mm, PG(17), FAULT_READ, true), -EFAULT);
	long moved = vm_mremap(mm, PG(16), PAGE_SIZE, 8 * PAGE_SIZE, 1, 0);
	CHECK(moved > 0 && moved != (long)PG(16));
	CHECK_EQ(vt_word(mm, (vaddr_t)moved), 10);
	CHECK(vt_check(&mm, 1));
	mm_put(mm);
	vt_check_clean();
}
