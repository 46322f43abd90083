/* Helpers shared by the boot-information parsers (multiboot2.c, pvh.c, memmap.c). */
#pragma once
#include "boot_info.h"
#include "kstring.h"
#include "printk.h"

/* Report a problem in the loader's data and count it in bi->warnings. */
#define boot_warn(bi, ...)                                                                         \
	do {                                                                                       \
		(bi)->warnings++;                                                                  \
		printk(KERN_WARNING "boot: " __VA_ARGS__);                                         \
	} while (0)

/* Unaligned-safe little-endian loads from the loader's structures. */
static inline uint32_t boot_ld32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint64_t boot_ld64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* Name of a memory type for messages ("?" for an unknown one). Any context. */
const char *boot_mem_type_name(uint32_t type);
/* Start a fresh boot_info for a protocol (everything else zero). Boot only. */
void boot_info_reset(struct boot_info *bi, enum boot_protocol proto);
/* Copy the string of at most max bytes at src into dst (dst_size > 0), always terminated;
 * warns (naming it what) when src has no NUL within max bytes or does not fit. Boot only. */
void boot_copy_string(struct boot_info *bi, char *dst, size_t dst_size, const char *src, size_t max,
		      const char *what);
/* Append a memory range; false (nothing added) when bi->mmap is full. Boot only. */
bool boot_add_range(struct boot_info *bi, paddr_t base, uint64_t len, uint32_t type);
/* Append a module [start, end); warns and skips an empty or inverted one and reports false
 * when bi->modules is full. Boot only. */
bool boot_add_module(struct boot_info *bi, paddr_t start, paddr_t end, const char *name,
		     size_t name_max);
/* Sanitize bi->mmap, count its fixes as warnings, and check there is usable memory.
 * Returns 0 or -EINVAL when no usable range is left. Boot only. */
int boot_finish_mmap(struct boot_info *bi);
