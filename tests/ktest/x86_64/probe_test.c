/* In-kernel tests of the exception-table fixups (test=arch), and a deliberate kernel fault
 * (test=fault, never part of test=all) that must end in a KERNEL FAULT report and a panic. */
#include "kerrno.h"
#include "ktest.h"
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
