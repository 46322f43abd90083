/* Boot-time memory: a list of free physical ranges from the memory map, minus what is
 * reserved (kernel image, modules, loader data, low memory), handing out early allocations
 * (the page array, page tables) before the frame allocator exists, then giving what is left
 * to the frame allocator. Boot only, one CPU. */
#pragma once
#include "boot_info.h"
#include "types.h"

/* Start from the usable ranges of a sanitized map, trimmed inward to whole pages. */
void bootmem_init(const struct mem_range *map, unsigned n);
/* Remove [base, base+len) from the free ranges (any overlap, any alignment). */
void bootmem_reserve(paddr_t base, uint64_t len);
/* Take size bytes aligned to align (a power of two, >= PAGE_SIZE) from the lowest free range
 * at or above `above` that fits. Returns the physical address, or 0 when nothing fits. */
paddr_t bootmem_alloc(uint64_t size, uint64_t align, paddr_t above);
/* Highest end of any free range (after reservations); 0 when empty. */
paddr_t bootmem_top(void);
/* Total bytes still free. */
uint64_t bootmem_free_bytes(void);
/* Give every remaining free page below max_pfn to the frame allocator; no more allocations. */
void bootmem_hand_over(pfn_t max_pfn);
