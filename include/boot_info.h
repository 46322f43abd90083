/* Boot information, parsed once from the loader's tags (multiboot2 or PVH) into one struct.
 * Nothing after boot reads the loader's structures again. */
#pragma once
#include "types.h"

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_range {
	paddr_t base;
	uint64_t len;
	uint32_t type; /* enum mem_type */
};

#define BOOT_MAX_RANGES 128
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 1024

struct boot_module {
	paddr_t start, end; /* [start, end) */
	char name[64];
};

struct boot_framebuffer {
	paddr_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, type; /* type: 0 indexed, 1 direct RGB, 2 EGA text (multiboot2's numbers) */
	/* Direct RGB only: each colour's bit position and width in a pixel (0 when unknown). */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};
#define BOOT_FB_RGB 1

enum boot_protocol { BOOT_MULTIBOOT2 = 1, BOOT_PVH = 2 };

struct boot_info {
	enum boot_protocol protocol;
	char loader[64];
	char cmdline[BOOT_CMDLINE_MAX];
	/* Sorted by base, non-overlapping, non-empty (see memmap_sanitize). */
	struct mem_range mmap[BOOT_MAX_RANGES];
	unsigned n_mmap;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned n_modules;
	paddr_t rsdp; /* physical address of the ACPI RSDP, 0 if the loader gave none */
	bool has_fb;
	struct boot_framebuffer fb;
	paddr_t info_start, info_end; /* where the loader's own structure lies (reserve it) */
	unsigned warnings;            /* problems found and worked around while parsing */
};

extern struct boot_info boot_info;

/* What the 32-bit entry (boot/entry.S) passes on: which protocol the loader used. For PVH it
 * is the hvm_start_info magic, which pvh_parse checks. */
#define MB2_BOOT_MAGIC 0x36d76289
#define PVH_BOOT_MAGIC 0x336ec578

/* Parse the loader's information at physical address info_phys into *bi, by the protocol
 * that magic names (multiboot2 or PVH). Returns 0; -EINVAL when no usable memory was found;
 * -ENOEXEC for an unknown magic (bi then zeroed). Boot CPU, boot only. */
int boot_info_parse(uint32_t magic, paddr_t info_phys, struct boot_info *bi);

/* Parse a multiboot2 information structure of at most max_len bytes at mbi (a virtual pointer;
 * mbi_phys its physical address) into *bi. Malformed or truncated tags are reported with
 * printk and skipped; returns 0, or -EINVAL if nothing usable was found. Boot only. */
int mb2_parse(const void *mbi, size_t max_len, paddr_t mbi_phys, struct boot_info *bi);

/* PVH: parse an hvm_start_info at si (virtual), with phys_to_virt to reach the tables it points to. */
int pvh_parse(const void *si, paddr_t si_phys, void *(*phys_to_virt)(paddr_t), struct boot_info *bi);

/* Make a memory map safe to use: drop zero-length ranges, clip wrap-around, sort by base,
 * resolve overlaps (the more restrictive type wins: BAD > RESERVED/NVS > RECLAIM > USABLE),
 * merge neighbours of the same type. Returns the new count; counts fixes in *fixes. */
unsigned memmap_sanitize(struct mem_range *r, unsigned n, unsigned max, unsigned *fixes);

/* Print the parsed boot information (protocol, loader, command line, memory map, modules,
 * RSDP, warning count) with printk. Process context. */
void boot_info_print(const struct boot_info *bi);

/* Look up "key=value" or a bare "key" in a kernel command line (words split by blanks; the key
 * must match a word's whole key part; the last occurrence wins). Copies the value (or "" for a
 * bare key, cut to val_size - 1) into val when val is not NULL, and returns true when present. */
bool cmdline_get(const char *cmdline, const char *key, char *val, size_t val_size);
