/* Machine-check architecture registers: capability discovery (bank access follows). */
#include "arch/mca.h"
#include "x86.h"

#define MSR_MCG_CAP 0x179

uint64_t arch_mca_cap(void)
{
	if (!cpu_features.mce || !cpu_features.mca)
		return 0;
	return rdmsr(MSR_MCG_CAP);
}

bool arch_mca_is_intel(void) { return cpu_features.intel; }
