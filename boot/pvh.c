/* pvh_parse: read the PVH start information (Xen's hvm_start_info, which QEMU also builds for
 * "-kernel" of an ELF with a PVH note) into struct boot_info.
 *
 * hvm_start_info, all little-endian:
 *   0 u32 magic (0x336ec578)   4 u32 version (0 or 1)   8 u32 flags   12 u32 nr_modules
 *   16 u64 modlist_paddr       24 u64 cmdline_paddr     32 u64 rsdp_paddr
 *   version >= 1 adds: 40 u64 memmap_paddr   48 u32 memmap_entries   52 u32 reserved
 * A module entry (32 bytes): u64 paddr, u64 size, u64 cmdline_paddr, u64 reserved.
 * A memory map entry (24 bytes): u64 addr, u64 size, u32 type (e820: 1 RAM, 2 reserved,
 * 3 ACPI data, 4 ACPI NVS, 5 unusable; others reserved), u32 reserved.
 * Tables are reached with the caller's phys_to_virt; a NULL from it or a zero address means
 * "absent". Later versions only add fields, so a version above 1 is read as version 1. */
#include "boot_priv.h"
#include "kerrno.h"

#define PVH_OFF_VERSION 4
#define PVH_OFF_NR_MODULES 12
#define PVH_OFF_MODLIST 16
#define PVH_OFF_CMDLINE 24
#define PVH_OFF_RSDP 32
#define PVH_OFF_MEMMAP 40
#define PVH_OFF_MEMMAP_ENTRIES 48
#define PVH_V0_SIZE 40
#define PVH_V1_SIZE 56
#define PVH_MODULE_SIZE 32
#define PVH_MEMMAP_ENTRY_SIZE 24
#define PVH_MODULE_NAME_MAX 64 /* bytes of a module's command line we look at */

#define E820_RAM 1
#define E820_ACPI 3
#define E820_NVS 4
#define E820_UNUSABLE 5

typedef void *(*phys_to_virt_fn)(paddr_t);

static uint32_t e820_to_mem_type(uint32_t t)
{
	switch (t) {
	case E820_RAM:
		return MEM_USABLE;
	case E820_ACPI:
		return MEM_ACPI_RECLAIM;
	case E820_NVS:
		return MEM_ACPI_NVS;
	case E820_UNUSABLE:
		return MEM_BAD;
	default:
		return MEM_RESERVED;
	}
}

/* Map a table the start info points to; NULL (with a warning) if it cannot be reached. */
static const uint8_t *pvh_map(struct boot_info *bi, phys_to_virt_fn p2v, paddr_t pa,
			      const char *what)
{
	const uint8_t *p = pa ? p2v(pa) : NULL;

	if (!p)
		boot_warn(bi, "pvh: %s at %#llx cannot be reached\n", what, (unsigned long long)pa);
	return p;
}

static void __init pvh_memmap(struct boot_info *bi, const uint8_t *si, phys_to_virt_fn p2v)
{
	uint32_t n = boot_ld32(si + PVH_OFF_MEMMAP_ENTRIES);
	const uint8_t *map = pvh_map(bi, p2v, boot_ld64(si + PVH_OFF_MEMMAP), "memory map");

	if (!map)
		return;
	if (n > BOOT_MAX_RANGES) {
		boot_warn(bi, "pvh: memory map has %u entries, only the first %u used\n", n,
			  BOOT_MAX_RANGES);
		n = BOOT_MAX_RANGES;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = map + (size_t)i * PVH_MEMMAP_ENTRY_SIZE;

		boot_add_range(bi, boot_ld64(e), boot_ld64(e + 8),
			       e820_to_mem_type(boot_ld32(e + 16)));
	}
}

static void __init pvh_modules(struct boot_info *bi, const uint8_t *si, phys_to_virt_fn p2v)
{
	uint32_t n = boot_ld32(si + PVH_OFF_NR_MODULES);
	const uint8_t *list;

	if (n == 0)
		return;
	list = pvh_map(bi, p2v, boot_ld64(si + PVH_OFF_MODLIST), "module list");
	if (!list)
		return;
	if (n > BOOT_MAX_MODULES) {
		boot_warn(bi, "pvh: %u modules, only the first %u used\n", n, BOOT_MAX_MODULES);
		n = BOOT_MAX_MODULES;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *m = list + (size_t)i * PVH_MODULE_SIZE;
		uint64_t start = boot_ld64(m), size = boot_ld64(m + 8), name_pa = boot_ld64(m + 16);
		const char *name = name_pa ? p2v(name_pa) : NULL;

		if (size > UINT64_MAX - start) {
			boot_warn(bi, "pvh: module %u at %#llx wraps past 2^64, skipped\n", i,
				  (unsigned long long)start);
			continue;
		}
		boot_add_module(bi, start, start + size, name, PVH_MODULE_NAME_MAX);
	}
}

/* See include/boot_info.h. bi is always fully written. Boot only. */
int __init pvh_parse(const void *si_v, paddr_t si_phys, void *(*phys_to_virt)(paddr_t),
		     struct boot_info *bi)
{
	const uint8_t *si = si_v;
	uint32_t magic, version;
	paddr_t cmdline_pa;

	boot_info_reset(bi, BOOT_PVH);
	bi->info_start = bi->info_end = si_phys;
	if (!si || !phys_to_virt) {
		boot_warn(bi, "pvh: no start information\n");
		return -EINVAL;
	}
	magic = boot_ld32(si);
	if (magic != PVH_BOOT_MAGIC) {
		boot_warn(bi, "pvh: bad start-info magic %#x (want %#x)\n", magic, PVH_BOOT_MAGIC);
		return -EINVAL;
	}
	version = boot_ld32(si + PVH_OFF_VERSION);
	bi->info_end = si_phys + (version >= 1 ? PVH_V1_SIZE : PVH_V0_SIZE);
	strlcpy(bi->loader, "PVH", sizeof bi->loader);
	cmdline_pa = boot_ld64(si + PVH_OFF_CMDLINE);
	if (cmdline_pa) {
		const char *cl =
		    (const char *)pvh_map(bi, phys_to_virt, cmdline_pa, "command line");

		if (cl)
			boot_copy_string(bi, bi->cmdline, sizeof bi->cmdline, cl, BOOT_CMDLINE_MAX,
					 "command line");
	}
	bi->rsdp = boot_ld64(si + PVH_OFF_RSDP);
	pvh_modules(bi, si, phys_to_virt);
	if (version >= 1)
		pvh_memmap(bi, si, phys_to_virt);
	else
		boot_warn(bi, "pvh: version 0 start info carries no memory map\n");
	return boot_finish_mmap(bi);
}
