/* In-kernel tests of memory_failure on the real allocator and page tables (test=mf): a kernel
 * heap frame, a page-table frame of a fresh user address space and a free frame are poisoned;
 * each gets its documented outcome and is never handed out again by an allocation storm that
 * takes every free frame; unpoison of software poison restores HardwareCorrupted.
 * Portable: it also builds on the host, where nothing runs it. */
#include "arch/mmu.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "ktest.h"
#include "memory_failure.h"

#define SLAB_OBJ 2048 /* the largest size class: two objects per slab frame */
#define TEST_VA 0x40000000ull

static uint64_t poisoned_frames(void)
{
	struct frame_stats st;
	frame_get_stats(&st);
	return st.poisoned;
}

/* Allocate every frame this CPU can get (chained through their own first word), check none is
 * bad or poisoned, free them all. Returns how many were taken, or 0 if bad came out. */
static uint64_t storm_avoids(pfn_t bad)
{
	void *chain = NULL;
	uint64_t n = 0;
	bool ok = true;
	struct page *pg;

	while ((pg = frame_alloc(0, PG_KERNEL)) != NULL) {
		void **v = page_to_virt(pg);
		ok &= page_to_pfn(pg) != bad && !page_poisoned(pg);
		*v = chain;
		chain = v;
		n++;
	}
	while (chain) {
		void *next = *(void **)chain;
		frame_free(virt_to_page(chain), 0);
		chain = next;
	}
	printk("    # storm: %lu frames, pfn %#lx %s\n", n, bad, ok ? "never seen" : "HANDED OUT");
	return ok ? n : 0;
}

KTEST(mf, slab_frame_failed_and_never_reused)
{
	void *obj[4];
	int a = -1;

	for (int i = 0; i < 4; i++)
		obj[i] = kmalloc(SLAB_OBJ);
	for (int i = 0; i < 4 && a < 0; i++)
		for (int j = i + 1; j < 4; j++)
			if (obj[i] && obj[j] && virt_to_page(obj[i]) == virt_to_page(obj[j])) {
				a = i;
				break;
			}
	KT_EXPECT(a >= 0);
	if (a < 0)
		return;
	struct page *pg = virt_to_page(obj[a]);
	pfn_t pfn = page_to_pfn(pg);
	uint64_t before = poisoned_frames();
	KT_EXPECT(pg->flags & PG_SLAB);
	KT_EXPECT(memory_failure(pfn, MF_SOFTWARE) == -EFAULT); /* kernel memory: failed */
	KT_EXPECT(page_poisoned(pg));
	KT_EXPECT(poisoned_frames() == before + 1);
	KT_EXPECT(storm_avoids(pfn) > 0);
	for (int i = 0; i < 4; i++)
		kfree(obj[i]); /* the slab empties: its frame is freed into quarantine */
	KT_EXPECT((pg->flags & (PG_ISOLATED | PG_HWPOISON)) == (PG_ISOLATED | PG_HWPOISON));
	KT_EXPECT(unpoison_frame(pfn) == 0); /* software poison, no longer used */
	KT_EXPECT(poisoned_frames() == before);
	/* Real (non-software) poison of the same kind stays for good. */
	void *o = kmalloc(SLAB_OBJ), *o2 = kmalloc(SLAB_OBJ);
	KT_EXPECT(o && o2);
	pfn_t p2 = page_to_pfn(virt_to_page(o2));
	KT_EXPECT(memory_failure(p2, 0) == -EFAULT);
	kfree(o);
	kfree(o2);
	KT_EXPECT(unpoison_frame(p2) == -EINVAL);
	KT_EXPECT(storm_avoids(p2) > 0);
}

static int find_pgtable_frame(struct arch_pt *pt, pfn_t *out)
{
	int n = 0;

	for (pfn_t p = 0; p < frame_max_pfn(); p++) {
		struct page *pg = pfn_to_page(p);
		if ((__atomic_load_n(&pg->flags, __ATOMIC_ACQUIRE) & PG_PGTABLE) &&
		    pg->priv == pt) {
			*out = p; /* the last one found: the deepest table allocated */
			n++;
		}
	}
	return n;
}

KTEST(mf, pgtable_frame_failed_and_never_reused)
{
	struct arch_pt *pt = arch_pt_create();
	struct page *data = frame_alloc(0, PG_KERNEL);
	pfn_t pfn = 0;

	KT_EXPECT(pt && data);
	if (!pt || !data)
		return;
	KT_EXPECT(arch_pt_map(pt, TEST_VA, page_to_pfn(data), PT_READ) == 0);
	int n = find_pgtable_frame(pt, &pfn);
	printk("    # %d page-table frames for the space, poisoning pfn %#lx\n", n, pfn);
	KT_EXPECT(n >= 2); /* the top level and at least one below it */
	uint64_t before = poisoned_frames();
	KT_EXPECT(memory_failure(pfn, 0) == -EFAULT); /* a user page-table frame: failed */
	KT_EXPECT(poisoned_frames() == before + 1);
	KT_EXPECT(storm_avoids(pfn) > 0);
	KT_EXPECT(arch_pt_clear(pt, TEST_VA) == 0);
	arch_pt_destroy(pt);
	frame_free(data, 0);
	struct page *pg = pfn_to_page(pfn);
	KT_EXPECT((pg->flags & (PG_ISOLATED | PG_HWPOISON)) == (PG_ISOLATED | PG_HWPOISON));
	KT_EXPECT(storm_avoids(pfn) > 0);
	KT_EXPECT(poisoned_frames() == before + 1);
}

KTEST(mf, free_frame_counted_and_unpoisoned)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	KT_EXPECT(pg != NULL);
	if (!pg)
		return;
	pfn_t pfn = page_to_pfn(pg);
	frame_free(pg, 0);
	uint64_t before = poisoned_frames();
	KT_EXPECT(memory_failure(pfn, MF_SOFTWARE) == 0); /* a free frame: recovered */
	KT_EXPECT(poisoned_frames() == before + 1);	  /* HardwareCorrupted +4 kB */
	KT_EXPECT(memory_failure(pfn, MF_SOFTWARE) == -EHWPOISON);
	uint64_t n = storm_avoids(pfn);
	KT_EXPECT(n > 0);
	KT_EXPECT(storm_avoids(pfn) == n); /* nothing leaked by the first storm */
	KT_EXPECT(unpoison_frame(pfn) == 0);
	KT_EXPECT(poisoned_frames() == before);
	KT_EXPECT(!page_poisoned(pg));
	KT_EXPECT(storm_avoids(~(pfn_t)0) == n + 1); /* it is allocatable again */
	KT_EXPECT(memory_failure(frame_max_pfn(), 0) == -ENXIO);
	KT_EXPECT(unpoison_frame(pfn) == -EINVAL);
}
