/* The arch interface for memory: the direct map of physical memory. */
#pragma once
#include "../types.h"

/* Kernel virtual address of a physical address through the direct map. */
void *arch_phys_to_virt(paddr_t pa);
/* Physical address of a direct-map (or kernel image) virtual address. */
paddr_t arch_virt_to_phys(const void *va);
