/* In-kernel tests of the exception-table fixups (test=arch), of a poisoned frame taken out
 * of the direct map, and a deliberate kernel fault (test=fault, never part of test=all) that
 * must end in a KERNEL FAULT report and a panic. */
#include "frame.h"
#include "kerrno.h"
#include "ktest.h"
#include "memory_failure.h"
#include "x86.h"

#define UNMAPPED_KERNEL_ADDR ((const void *)0xffff900000000000ull)

KTEST(arch, fixup_turns_fault_into_efault)
{
	uint64_t v = 1, here = 0x1234;
	KT_EXPECT(probe_read64(UNMAPPED_KERNEL_ADDR, &v) == -EFAULT);
	KT_EXPECT(probe_read64(&here, &v) == 0 && v == 0x1234);
}

KTEST(fault, unmapped_kernel_read)
{
	(void)ktest_failed__;
	printk("fault: reading an unmapped kernel address on purpose\n");
	(void)*(volatile const uint64_t *)UNMAPPED_KERNEL_ADDR;
}

/* A free frame recovered from a (non-software) error leaves the direct map: a read of it
 * through the direct map faults, in a 2 MiB direct-map page that had to be split. */
KTEST(arch, hardware_poisoned_frame_leaves_the_direct_map)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	uint64_t v = 0;

	KT_EXPECT(pg != NULL);
	if (!pg)
		return;
	pfn_t pfn = page_to_pfn(pg);
	frame_free(pg, 0);
	KT_EXPECT(probe_read64(page_to_virt(pg), &v) == 0);
	KT_EXPECT(memory_failure(pfn, 0) == 0);
	KT_EXPECT(probe_read64(page_to_virt(pg), &v) == -EFAULT);
	KT_EXPECT(probe_read64(page_to_virt(pfn_to_page(pfn ^ 1)), &v) == 0);
}
