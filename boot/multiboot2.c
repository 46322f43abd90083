/* mb2_parse: read the multiboot2 boot information (what GRUB hands over) into struct boot_info.
 *
 * The structure: a header {u32 total_size, u32 reserved}, then tags, each {u32 type, u32 size}
 * followed by size - 8 bytes of payload, each starting at an 8-byte boundary, ending with a
 * tag of type 0. The tags read here:
 *   1 command line, 2 loader name: a NUL-terminated string;
 *   3 module: u32 mod_start, u32 mod_end, then its command line (the module's name);
 *   4 basic memory info: u32 mem_lower, u32 mem_upper in KiB (used only without a tag 6);
 *   6 memory map: u32 entry_size, u32 entry_version, then entries of entry_size bytes that
 *     start {u64 base, u64 length, u32 type} (1 usable, 3 ACPI data, 4 ACPI NVS, 5 bad;
 *     2 and anything else reserved);
 *   8 framebuffer: u64 addr, u32 pitch, u32 width, u32 height, u8 bpp, u8 type;
 *   14 / 15 ACPI RSDP: a copy of the old (20-byte) or new (36-byte) RSDP; we record the
 *     physical address of that copy, preferring the new one.
 * Every length is checked against the buffer before use: a broken tag is reported (printk,
 * bi->warnings) and the walk stops or skips it; nothing here trusts the loader. */
#include "boot_priv.h"
#include "kerrno.h"

#define MB2_HDR_SIZE 8
#define MB2_TAG_HDR 8
#define MB2_TAG_ALIGN 8
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

#define MB2_MODULE_HDR 16   /* type, size, mod_start, mod_end */
#define MB2_MEMINFO_SIZE 16 /* type, size, mem_lower, mem_upper */
#define MB2_MMAP_HDR 16	    /* type, size, entry_size, entry_version */
#define MB2_MMAP_ENTRY_MIN 24
#define MB2_FB_MIN 30 /* through framebuffer_type */
#define MB2_FB_RGB_SIZE 38 /* ... and the direct-RGB colour fields at 32..37 */
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIGNATURE_LEN 8

#define KIB 1024ull
#define HIGH_MEMORY_START 0x100000ull /* mem_upper counts from 1 MiB */

/* One tag, with its offset in the structure (for the RSDP's physical address). */
struct mb2_tag {
	const uint8_t *p;
	uint32_t type, size;
	size_t off;
};

struct mb2_state {
	struct boot_info *bi;
	paddr_t phys;
	bool have_mmap, have_meminfo, have_new_rsdp, modules_full;
	uint32_t mem_lower_kib, mem_upper_kib;
};

static uint32_t mb2_mem_type(uint32_t t)
{
	return t >= MEM_USABLE && t <= MEM_BAD ? t : MEM_RESERVED;
}

static void __init mb2_mmap(struct mb2_state *st, const struct mb2_tag *t)
{
	struct boot_info *bi = st->bi;
	uint32_t esize, count, body;

	if (t->size < MB2_MMAP_HDR) {
		boot_warn(bi, "mb2: memory map tag of %u bytes is too short, skipped\n", t->size);
		return;
	}
	esize = boot_ld32(t->p + 8);
	body = t->size - MB2_MMAP_HDR;
	if (esize < MB2_MMAP_ENTRY_MIN) {
		boot_warn(bi, "mb2: memory map entry size %u < %u, map skipped\n", esize,
			  MB2_MMAP_ENTRY_MIN);
		return;
	}
	if (body % esize)
		boot_warn(bi,
			  "mb2: memory map of %u bytes is not a multiple of entry size %u, "
			  "partial entry ignored\n",
			  body, esize);
	count = body / esize;
	st->have_mmap = true;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = t->p + MB2_MMAP_HDR + (size_t)i * esize;

		if (!boot_add_range(bi, boot_ld64(e), boot_ld64(e + 8),
				    mb2_mem_type(boot_ld32(e + 16)))) {
			boot_warn(bi, "mb2: memory map has more than %u ranges, %u dropped\n",
				  BOOT_MAX_RANGES, count - i);
			return;
		}
	}
}

static void __init mb2_module(struct mb2_state *st, const struct mb2_tag *t)
{
	struct boot_info *bi = st->bi;

	if (t->size < MB2_MODULE_HDR) {
		boot_warn(bi, "mb2: module tag of %u bytes is too short, skipped\n", t->size);
		return;
	}
	if (!boot_add_module(bi, boot_ld32(t->p + 8), boot_ld32(t->p + 12),
			     (const char *)t->p + MB2_MODULE_HDR, t->size - MB2_MODULE_HDR) &&
	    !st->modules_full) {
		st->modules_full = true;
		boot_warn(bi, "mb2: more than %u modules, the rest ignored\n", BOOT_MAX_MODULES);
	}
}

static void __init mb2_framebuffer(struct mb2_state *st, const struct mb2_tag *t)
{
	struct boot_framebuffer *fb = &st->bi->fb;

	if (t->size < MB2_FB_MIN) {
		boot_warn(st->bi, "mb2: framebuffer tag of %u bytes is too short, skipped\n",
			  t->size);
		return;
	}
	fb->addr = boot_ld64(t->p + 8);
	fb->pitch = boot_ld32(t->p + 16);
	fb->width = boot_ld32(t->p + 20);
	fb->height = boot_ld32(t->p + 24);
	fb->bpp = t->p[28];
	fb->type = t->p[29];
	if (fb->type == BOOT_FB_RGB && t->size >= MB2_FB_RGB_SIZE) {
		fb->red_pos = t->p[32];
		fb->red_size = t->p[33];
		fb->green_pos = t->p[34];
		fb->green_size = t->p[35];
		fb->blue_pos = t->p[36];
		fb->blue_size = t->p[37];
	}
	st->bi->has_fb = true;
}

static void __init mb2_acpi(struct mb2_state *st, const struct mb2_tag *t)
{
	bool is_new = t->type == MB2_TAG_ACPI_NEW;
	uint32_t need = MB2_TAG_HDR + (is_new ? RSDP_V2_LEN : RSDP_V1_LEN);

	if (t->size < need || memcmp(t->p + MB2_TAG_HDR, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN)) {
		boot_warn(st->bi,
			  "mb2: ACPI tag %u is too short or has no RSDP signature, skipped\n",
			  t->type);
		return;
	}
	if (is_new || !st->have_new_rsdp)
		st->bi->rsdp = st->phys + t->off + MB2_TAG_HDR;
	st->have_new_rsdp |= is_new;
}

static void __init mb2_tag(struct mb2_state *st, const struct mb2_tag *t)
{
	struct boot_info *bi = st->bi;
	const char *str = (const char *)t->p + MB2_TAG_HDR;

	switch (t->type) {
	case MB2_TAG_CMDLINE:
		boot_copy_string(bi, bi->cmdline, sizeof bi->cmdline, str, t->size - MB2_TAG_HDR,
				 "command line");
		break;
	case MB2_TAG_LOADER:
		boot_copy_string(bi, bi->loader, sizeof bi->loader, str, t->size - MB2_TAG_HDR,
				 "loader name");
		break;
	case MB2_TAG_MODULE:
		mb2_module(st, t);
		break;
	case MB2_TAG_MEMINFO:
		if (t->size >= MB2_MEMINFO_SIZE) {
			st->mem_lower_kib = boot_ld32(t->p + 8);
			st->mem_upper_kib = boot_ld32(t->p + 12);
			st->have_meminfo = true;
		}
		break;
	case MB2_TAG_MMAP:
		mb2_mmap(st, t);
		break;
	case MB2_TAG_FRAMEBUFFER:
		mb2_framebuffer(st, t);
		break;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		mb2_acpi(st, t);
		break;
	default:
		break; /* tags we do not need */
	}
}

/* Walk the tags of a structure of len bytes; returns the bytes actually covered. */
static size_t __init mb2_walk(struct mb2_state *st, const uint8_t *base, size_t len)
{
	size_t off = MB2_HDR_SIZE;

	while (off + MB2_TAG_HDR <= len) {
		struct mb2_tag t = {base + off, boot_ld32(base + off), boot_ld32(base + off + 4),
				    off};

		if (t.size < MB2_TAG_HDR) {
			boot_warn(st->bi, "mb2: tag %u at offset %zu has size %u < 8, stopping\n",
				  t.type, off, t.size);
			return off;
		}
		if (t.size > len - off) {
			boot_warn(st->bi,
				  "mb2: tag %u at offset %zu (size %u) runs past the end (%zu), "
				  "stopping\n",
				  t.type, off, t.size, len);
			return off;
		}
		if (t.type == MB2_TAG_END)
			return off + MB2_TAG_HDR;
		mb2_tag(st, &t);
		off += ALIGN_UP((size_t)t.size, (size_t)MB2_TAG_ALIGN);
	}
	boot_warn(st->bi, "mb2: no end tag within %zu bytes\n", len);
	return len;
}

/* Without a memory map tag, fall back to the basic lower/upper memory sizes. */
static void __init mb2_meminfo_fallback(struct mb2_state *st)
{
	struct boot_info *bi = st->bi;

	if (!st->have_meminfo) {
		boot_warn(bi, "mb2: neither a memory map nor basic memory information\n");
		return;
	}
	boot_warn(bi, "mb2: no memory map tag, using basic memory information\n");
	boot_add_range(bi, 0, st->mem_lower_kib * KIB, MEM_USABLE);
	boot_add_range(bi, HIGH_MEMORY_START, st->mem_upper_kib * KIB, MEM_USABLE);
}

/* See include/boot_info.h. bi is always fully written (info_start <= info_end). Boot only. */
int __init mb2_parse(const void *mbi, size_t max_len, paddr_t mbi_phys, struct boot_info *bi)
{
	struct mb2_state st = {.bi = bi, .phys = mbi_phys};
	size_t len;

	boot_info_reset(bi, BOOT_MULTIBOOT2);
	bi->info_start = bi->info_end = mbi_phys;
	if (!mbi || max_len < MB2_HDR_SIZE + MB2_TAG_HDR) {
		boot_warn(bi, "mb2: no boot information (%zu bytes)\n", mbi ? max_len : 0);
		return -EINVAL;
	}
	if (!IS_ALIGNED(mbi_phys, MB2_TAG_ALIGN))
		boot_warn(bi, "mb2: boot information at %#llx is not 8-byte aligned\n",
			  (unsigned long long)mbi_phys);
	len = boot_ld32(mbi);
	if (len > max_len) {
		boot_warn(bi,
			  "mb2: total_size %zu is larger than the %zu bytes available, clipped\n",
			  len, max_len);
		len = max_len;
	}
	if (len < MB2_HDR_SIZE + MB2_TAG_HDR)
		boot_warn(bi, "mb2: total_size %zu is too small to hold any tag\n", len);
	bi->info_end = mbi_phys + mb2_walk(&st, mbi, len);
	if (!st.have_mmap)
		mb2_meminfo_fallback(&st);
	return boot_finish_mmap(bi);
}
