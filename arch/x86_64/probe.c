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
			 ASM_FAULT_TO("%1", "%3")
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
			 ASM_FAULT_TO("%2", "%4")
			 : "=a"(lo), "=d"(hi), "+r"(err)
			 : "c"(msr), "i"(-EFAULT));
	*val = (uint64_t)hi << 32 | lo;
	return err;
}
