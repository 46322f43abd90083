/* Reading memory or MSRs that may not exist, through exception-table fixups: a fault at the
 * marked instruction resumes at the fixup, which returns -EFAULT instead of crashing. */
#include "kerrno.h"
#include "x86.h"

/* Read 8 bytes at addr; returns 0 and *val, or -EFAULT if the read faulted. Any context. */
int probe_read64(const void *addr, uint64_t *val)
{
	int err = 0;
	uint64_t v = 0;
	__asm__ volatile("1: movq (%2), %0\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl %3, %1\n"
			 "   jmp 2b\n"
			 ".popsection\n"
			 ASM_EXTABLE(1b, 3b)
			 : "=r"(v), "+r"(err)
			 : "r"(addr), "i"(-EFAULT));
	*val = v;
	return err;
}

/* rdmsr that returns -EFAULT instead of dying when the MSR raises #GP (Bochs, real CPUs). */
int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	int err = 0;
	uint32_t lo = 0, hi = 0;
	__asm__ volatile("1: rdmsr\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl %4, %2\n"
			 "   jmp 2b\n"
			 ".popsection\n"
			 ASM_EXTABLE(1b, 3b)
			 : "=a"(lo), "=d"(hi), "+r"(err)
			 : "c"(msr), "i"(-EFAULT));
	*val = (uint64_t)hi << 32 | lo;
	return err;
}
