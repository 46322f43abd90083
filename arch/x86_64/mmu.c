/* Kernel address space: the direct map of physical memory and device mappings.
 *
 * x86-64 4-level paging: a virtual address splits into PML4 index (bits 47:39), PDPT index
 * (38:30), PD index (29:21), PT index (20:12) and a 12-bit offset. Each table is one 4 KiB
 * frame of 512 eight-byte entries: bit 0 present, 1 writable, 2 user, 3 write-through,
 * 4 cache-disable, 7 "page size" (a 1 GiB page in a PDPT entry, 2 MiB in a PD entry),
 * 8 global, 63 no-execute; bits 51:12 hold the next table's (or page's) physical address.
 *
 * The kernel's top-level table maps three regions, shared by every address space:
 *   DIRECT_MAP_BASE + pa  all RAM (2 MiB pages, or 1 GiB pages where the CPU has them)
 *   MMIO_BASE + ...       device registers, 4 KiB uncached pages, handed out upwards; above
 *                         its first 2 MiB, large device memory (a framebuffer outside the
 *                         direct map) in 2 MiB pages
 *   KERNEL_VMA + pa       the first 1 GiB, where the kernel image runs (from boot/entry.S)
 * The identity map of the first 1 GiB stays only until the other CPUs have started. */
#include "arch/mmu.h"
#include "frame.h"
#include "kstring.h"
#include "panic.h"
#include "printk.h"
#include "x86.h"

#define GIB (1ull << 30)
#define MIB2 (1ull << 21)
#define EARLY_PDS 4 /* static page directories: the direct map of 0..4 GiB before any allocator */

extern uint64_t boot_pml4[512], boot_pdpt_hi[512];
static uint64_t kernel_pml4[512] __attribute__((aligned(4096)));
static uint64_t direct_pdpt[512] __attribute__((aligned(4096)));
static uint64_t early_pd[EARLY_PDS][512] __attribute__((aligned(4096)));
static uint64_t mmio_pdpt[512] __attribute__((aligned(4096)));
static uint64_t mmio_pd[512] __attribute__((aligned(4096)));
static uint64_t mmio_pt[512] __attribute__((aligned(4096))); /* 2 MiB of device space is plenty */
static unsigned mmio_next;
static unsigned mmio_large_next = 1; /* mmio_pd slot for the next 2 MiB device page */
static paddr_t direct_top; /* the direct map covers [0, direct_top) */

static uint64_t nx_bit(void) { return cpu_features.nx ? PTE_NX : 0; }

void *arch_phys_to_virt(paddr_t pa) { return (void *)(DIRECT_MAP_BASE + pa); }

paddr_t arch_virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)va;
	if (v >= KERNEL_VMA)
		return v - KERNEL_VMA;
	return v - DIRECT_MAP_BASE;
}

static paddr_t kimg_phys(const void *p) { return (uint64_t)p - KERNEL_VMA; }

/* Fill PDPT slot i (1 GiB at i*GIB) with a 1 GiB page or a page directory of 2 MiB pages. */
static void map_gib(unsigned i, uint64_t *pd)
{
	uint64_t flags = PTE_P | PTE_W | PTE_G | nx_bit();
	if (!pd) {
		direct_pdpt[i] = ((uint64_t)i * GIB) | flags | PTE_PS;
		return;
	}
	for (unsigned j = 0; j < 512; j++)
		pd[j] = ((uint64_t)i * GIB + (uint64_t)j * MIB2) | flags | PTE_PS;
	direct_pdpt[i] = arch_virt_to_phys(pd) | PTE_P | PTE_W;
}

/* Switch to the kernel's own top-level table with the direct map of 0..4 GiB, which covers
 * everything a 32-bit loader can hand us (boot information, modules, ACPI tables). */
void mmu_init_early(void)
{
	for (unsigned i = 0; i < EARLY_PDS; i++)
		map_gib(i, cpu_features.pdpe1gb ? NULL : early_pd[i]);
	direct_top = EARLY_PDS * GIB;
	kernel_pml4[0] = boot_pml4[0]; /* identity map, kept for AP start-up */
	kernel_pml4[256] = kimg_phys(direct_pdpt) | PTE_P | PTE_W;
	mmio_pdpt[0] = kimg_phys(mmio_pd) | PTE_P | PTE_W;
	mmio_pd[0] = kimg_phys(mmio_pt) | PTE_P | PTE_W;
	kernel_pml4[(MMIO_BASE >> 39) & 511] = kimg_phys(mmio_pdpt) | PTE_P | PTE_W;
	kernel_pml4[511] = boot_pml4[511];
	write_cr3(kimg_phys(kernel_pml4));
}

/* Extend the direct map to cover [0, top). alloc_table gives zeroed 4 KiB tables (physical
 * address) or 0. Above 512 GiB of RAM only the first 512 GiB are mapped, with a warning. */
void mmu_extend_direct_map(paddr_t top, paddr_t (*alloc_table)(void))
{
	unsigned want = (unsigned)MIN(ALIGN_UP(top, GIB) / GIB, 512);
	if (ALIGN_UP(top, GIB) / GIB > 512)
		printk(KERN_WARNING "mmu: only the first 512 GiB of RAM are mapped\n");
	for (unsigned i = EARLY_PDS; i < want; i++) {
		uint64_t *pd = NULL;
		if (!cpu_features.pdpe1gb) {
			paddr_t t = alloc_table();
			if (!t) {
				printk(KERN_ERR "mmu: no memory to map RAM above %u GiB\n", i);
				break;
			}
			pd = arch_phys_to_virt(t);
		}
		map_gib(i, pd);
		direct_top = (uint64_t)(i + 1) * GIB;
	}
	write_cr3(read_cr3());
}

paddr_t mmu_direct_map_top(void) { return direct_top; }

/* A fresh table whose 512 entries map what the large entry big maps (pages of span bytes
 * each); 0 when out of memory. */
static uint64_t split_table(uint64_t big, uint64_t span)
{
	struct page *pg = frame_alloc(0, PG_KERNEL);
	uint64_t flags = big & ~PTE_ADDR & ~(span == PAGE_SIZE ? PTE_PS : 0);
	uint64_t base = big & PTE_ADDR & ~(span * 512 - 1);

	if (!pg)
		return 0;
	uint64_t *t = page_to_virt(pg);
	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * span) | flags;
	return page_to_pfn(pg) << PAGE_SHIFT | PTE_P | PTE_W;
}

/* The direct map's 4 KiB entry for pa, splitting the 1 GiB or 2 MiB page that maps it into
 * smaller ones on the way (the same translations, so nothing changes for a CPU that still
 * holds the large one). NULL when pa is outside the direct map or out of memory. Process
 * context; callers serialise, and flush pa's page on every CPU once they change the entry. */
uint64_t *mmu_direct_pte(paddr_t pa)
{
	uint64_t *pud = &direct_pdpt[(pa >> 30) & 511], *pmd;

	if (pa >= direct_top || !(*pud & PTE_P))
		return NULL;
	if (*pud & PTE_PS) {
		uint64_t t = split_table(*pud, MIB2);
		if (!t)
			return NULL;
		WRITE_ONCE(*pud, t);
	}
	pmd = (uint64_t *)arch_phys_to_virt(*pud & PTE_ADDR) + ((pa >> 21) & 511);
	if (*pmd & PTE_PS) {
		uint64_t t = split_table(*pmd, PAGE_SIZE);
		if (!t)
			return NULL;
		WRITE_ONCE(*pmd, t);
	}
	return (uint64_t *)arch_phys_to_virt(*pmd & PTE_ADDR) + ((pa >> PAGE_SHIFT) & 511);
}

/* Map len bytes of device registers at pa, uncached; returns the virtual address or NULL. */
void *mmu_map_mmio(paddr_t pa, size_t len)
{
	paddr_t base = ALIGN_DOWN(pa, PAGE_SIZE);
	size_t pages = (ALIGN_UP(pa + len, PAGE_SIZE) - base) / PAGE_SIZE;
	if (mmio_next + pages > 512)
		return NULL;
	uint64_t va = MMIO_BASE + (uint64_t)mmio_next * PAGE_SIZE;
	for (size_t i = 0; i < pages; i++)
		mmio_pt[mmio_next + i] = (base + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_PCD | PTE_PWT |
					 nx_bit();
	mmio_next += (unsigned)pages;
	return (void *)(va + (pa - base));
}

/* Kernel address of len bytes of device memory at pa (a framebuffer): the direct map's when it
 * covers them (the memory-type registers the firmware set decide caching, as for RAM), else
 * new 2 MiB pages in the device region with the same cacheability. NULL when there is no
 * room. Boot CPU, boot only. */
void *mmu_map_device_memory(paddr_t pa, size_t len)
{
	if (pa + len >= pa && pa + len <= direct_top)
		return arch_phys_to_virt(pa);
	paddr_t base = ALIGN_DOWN(pa, MIB2);
	unsigned pages = (unsigned)((ALIGN_UP(pa + len, MIB2) - base) / MIB2);
	if (mmio_large_next + pages > 512)
		return NULL;
	uint64_t va = MMIO_BASE + (uint64_t)mmio_large_next * MIB2;
	for (unsigned i = 0; i < pages; i++)
		mmio_pd[mmio_large_next + i] =
			(base + i * MIB2) | PTE_P | PTE_W | PTE_PS | nx_bit();
	mmio_large_next += pages;
	write_cr3(read_cr3());
	return (void *)(va + (pa - base));
}

/* Remove the identity map of low memory once no CPU runs from it. */
void mmu_drop_identity(void)
{
	kernel_pml4[0] = 0;
	write_cr3(read_cr3());
}

paddr_t mmu_kernel_pml4(void) { return kimg_phys(kernel_pml4); }
