/* In-kernel tests of user page tables (test=pt): map, read back through the user address,
 * protect, markers, walk order, flush on a space another CPU has loaded, and no leak. */
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
