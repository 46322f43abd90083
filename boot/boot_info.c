/* Building struct boot_info: boot_info_parse, which reads whichever protocol the loader used
 * (the only caller of the multiboot2 and PVH parsers), the helpers both parsers use to fill
 * the struct (strings, memory ranges, modules), the final memory-map check, and a printed
 * summary for the boot log. */
#include "arch/mmu.h"
#include "boot_priv.h"
#include "kerrno.h"

#define MB2_INFO_MAX (1u << 20) /* the most a multiboot2 information structure may span */

static const char *const mem_type_names[] = {
    [MEM_USABLE] = "usable",	 [MEM_RESERVED] = "reserved", [MEM_ACPI_RECLAIM] = "ACPI data",
    [MEM_ACPI_NVS] = "ACPI NVS", [MEM_BAD] = "bad",
};

const char *boot_mem_type_name(uint32_t type)
{
	if (type < ARRAY_SIZE(mem_type_names) && mem_type_names[type])
		return mem_type_names[type];
	return "?";
}

void boot_info_reset(struct boot_info *bi, enum boot_protocol proto)
{
	memset(bi, 0, sizeof *bi);
	bi->protocol = proto;
}

void boot_copy_string(struct boot_info *bi, char *dst, size_t dst_size, const char *src, size_t max,
		      const char *what)
{
	size_t n = strnlen(src, max);

	if (n == max)
		boot_warn(bi, "%s is not NUL-terminated, cut at %zu bytes\n", what, n);
	if (n >= dst_size) {
		boot_warn(bi, "%s is longer than %zu bytes, truncated\n", what, dst_size - 1);
		n = dst_size - 1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool boot_add_range(struct boot_info *bi, paddr_t base, uint64_t len, uint32_t type)
{
	if (bi->n_mmap >= BOOT_MAX_RANGES)
		return false;
	bi->mmap[bi->n_mmap++] = (struct mem_range){base, len, type};
	return true;
}

bool boot_add_module(struct boot_info *bi, paddr_t start, paddr_t end, const char *name,
		     size_t name_max)
{
	struct boot_module *m;

	if (bi->n_modules >= BOOT_MAX_MODULES)
		return false;
	if (end <= start) {
		boot_warn(bi, "module [%#llx, %#llx) is empty or inverted, skipped\n",
			  (unsigned long long)start, (unsigned long long)end);
		return true;
	}
	m = &bi->modules[bi->n_modules++];
	m->start = start;
	m->end = end;
	if (name)
		boot_copy_string(bi, m->name, sizeof m->name, name, name_max, "module name");
	return true;
}

int boot_finish_mmap(struct boot_info *bi)
{
	unsigned fixes = 0;

	bi->n_mmap = memmap_sanitize(bi->mmap, bi->n_mmap, BOOT_MAX_RANGES, &fixes);
	bi->warnings += fixes;
	for (unsigned i = 0; i < bi->n_mmap; i++)
		if (bi->mmap[i].type == MEM_USABLE)
			return 0;
	boot_warn(bi, "no usable memory in the memory map\n");
	return -EINVAL;
}

int boot_info_parse(uint32_t magic, paddr_t info_phys, struct boot_info *bi)
{
	const void *info = arch_phys_to_virt(info_phys);
	if (magic == MB2_BOOT_MAGIC)
		return mb2_parse(info, MB2_INFO_MAX, info_phys, bi);
	if (magic == PVH_BOOT_MAGIC)
		return pvh_parse(info, info_phys, arch_phys_to_virt, bi);
	boot_info_reset(bi, 0);
	return -ENOEXEC;
}

/* Print what the loader told us (see include/boot_info.h). */
void boot_info_print(const struct boot_info *bi)
{
	printk(KERN_INFO "boot: %s from \"%s\", command line \"%s\"\n",
	       bi->protocol == BOOT_PVH ? "PVH" : "multiboot2", bi->loader, bi->cmdline);
	for (unsigned i = 0; i < bi->n_mmap; i++) {
		const struct mem_range *m = &bi->mmap[i];

		printk(KERN_INFO "boot: mem [0x%016llx-0x%016llx] %s\n", (unsigned long long)m->base,
		       (unsigned long long)(m->base + m->len - 1), boot_mem_type_name(m->type));
	}
	for (unsigned i = 0; i < bi->n_modules; i++)
		printk(KERN_INFO "boot: module [%#llx-%#llx) \"%s\"\n",
		       (unsigned long long)bi->modules[i].start,
		       (unsigned long long)bi->modules[i].end, bi->modules[i].name);
	if (bi->rsdp)
		printk(KERN_INFO "boot: ACPI RSDP at %#llx\n", (unsigned long long)bi->rsdp);
	if (bi->has_fb)
		printk(KERN_INFO "boot: framebuffer %ux%u, %u bpp, type %u, at %#llx (pitch %u; "
				 "red %u:%u green %u:%u blue %u:%u)\n",
		       bi->fb.width, bi->fb.height, bi->fb.bpp, bi->fb.type,
		       (unsigned long long)bi->fb.addr, bi->fb.pitch, bi->fb.red_pos,
		       bi->fb.red_size, bi->fb.green_pos, bi->fb.green_size, bi->fb.blue_pos,
		       bi->fb.blue_size);
	if (bi->warnings)
		printk(KERN_WARNING
		       "boot: %u problems in the boot information were worked around\n",
		       bi->warnings);
}
