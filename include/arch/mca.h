/* The arch interface for machine-check architecture: capability discovery.
 * (Bank access and the #MC entry are added by the MCA work; see docs/mca.md.) */
#pragma once
#include "../types.h"

/* IA32_MCG_CAP of this CPU, or 0 when the CPU has no MCA (CPUID.1:EDX.MCA/MCE clear). */
uint64_t arch_mca_cap(void);
/* Whether the CPU vendor is Intel (MCRK's MCA handling follows Intel's SDM). */
bool arch_mca_is_intel(void);
