/* Tests of the boot-information parsers: multiboot2 (boot/multiboot2.c) and PVH (boot/pvh.c)
 * structures built here, well-formed and broken in every way we know of (each breakage must
 * give a warning, a safe result and no crash), boot_info_parse choosing between them,
 * boot_info_print, and cmdline_get. */
#include "boot_info.h"
#include "fake_arch.h"
#include "kerrno.h"
#include "unit.h"
#include <string.h>

#define MBI_PHYS 0x10000ull
#define KIB 1024ull
#define MIB (1024ull * KIB)

/* ---- a multiboot2 structure builder ---- */

struct mb {
	_Alignas(8) uint8_t buf[16384];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void mb_begin(struct mb *m)
{
	memset(m->buf, 0, sizeof m->buf);
	m->len = 8;
}

/* Add a tag with payload_len bytes of payload; returns the payload. */
static uint8_t *mb_tag(struct mb *m, uint32_t type, size_t payload_len)
{
	uint8_t *t = m->buf + m->len;
	put32(t, type);
	put32(t + 4, (uint32_t)(8 + payload_len));
	m->len += ALIGN_UP(8 + payload_len, 8);
	return t + 8;
}

static void mb_end(struct mb *m)
{
	mb_tag(m, 0, 0);
	put32(m->buf, (uint32_t)m->len);
}

static void mb_string(struct mb *m, uint32_t type, const char *s)
{
	memcpy(mb_tag(m, type, strlen(s) + 1), s, strlen(s) + 1);
}

static void mb_module(struct mb *m, uint32_t start, uint32_t end, const char *name)
{
	uint8_t *p = mb_tag(m, 3, 8 + strlen(name) + 1);
	put32(p, start);
	put32(p + 4, end);
	memcpy(p + 8, name, strlen(name) + 1);
}

struct ent {
	uint64_t base, len;
	uint32_t type;
};

static void mb_mmap_sized(struct mb *m, const struct ent *e, size_t n, uint32_t esize)
{
	uint8_t *p = mb_tag(m, 6, 8 + n * esize);
	put32(p, esize);
	put32(p + 4, 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *q = p + 8 + i * esize;
		put64(q, e[i].base);
		put64(q + 8, e[i].len);
		put32(q + 16, e[i].type);
	}
}

static void mb_mmap(struct mb *m, const struct ent *e, size_t n)
{
	mb_mmap_sized(m, e, n, 24);
}

/* Adds an ACPI tag with an RSDP copy; returns the tag's offset in the structure. */
static size_t mb_rsdp(struct mb *m, uint32_t type, size_t rsdp_len)
{
	size_t off = m->len;
	memcpy(mb_tag(m, type, rsdp_len), "RSD PTR ", 8);
	return off;
}

static const struct ent qemu_map[] = {
    {0, 0x9fc00, 1},	      {0x9fc00, 0x400, 2},     {0xf0000, 0x10000, 2},
    {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 2}, {0xfffc0000, 0x40000, 2},
};

static struct boot_info bi;

static int parse(struct mb *m, size_t max_len)
{
	fake_console_clear();
	return mb2_parse(m->buf, max_len, MBI_PHYS, &bi);
}

static bool said(const char *s)
{
	return strstr(fake_console, s) != NULL;
}

static void check_range(unsigned i, uint64_t base, uint64_t len, uint32_t type, int line)
{
	if (i >= bi.n_mmap || bi.mmap[i].base != base || bi.mmap[i].len != len ||
	    bi.mmap[i].type != type) {
		char msg[200];
		snprintf(msg, sizeof msg, "mmap[%u] is not {%#llx, %#llx, %u}", i,
			 (unsigned long long)base, (unsigned long long)len, type);
		unit_fail(__FILE__, line, msg);
	}
}
#define CHECK_RANGE(i, b, l, t) check_range(i, b, l, t, __LINE__)

TEST(mb2_well_formed)
{
	static struct mb m;

	mb_begin(&m);
	mb_string(&m, 1, "console=ttyS0 ktest=all");
	mb_string(&m, 2, "GRUB 2.06");
	mb_module(&m, 0x200000, 0x210000, "initrd");
	mb_module(&m, 0x300000, 0x300800, "user/demo");
	mb_tag(&m, 4, 8); /* basic meminfo: ignored when a map is present */
	mb_mmap(&m, qemu_map, ARRAY_SIZE(qemu_map));
	uint8_t *fb = mb_tag(&m, 8, 24);
	put64(fb, 0xfd000000);
	put32(fb + 8, 4096);
	put32(fb + 12, 1024);
	put32(fb + 16, 768);
	fb[20] = 32;
	fb[21] = 1;
	mb_rsdp(&m, 14, 20);
	size_t new_off = mb_rsdp(&m, 15, 36);
	mb_tag(&m, 21, 4); /* load base address: a tag we do not use */
	mb_end(&m);

	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK_EQ(bi.warnings, 0);
	CHECK_EQ(bi.protocol, BOOT_MULTIBOOT2);
	CHECK(!strcmp(bi.cmdline, "console=ttyS0 ktest=all"));
	CHECK(!strcmp(bi.loader, "GRUB 2.06"));
	REQUIRE(bi.n_modules == 2);
	CHECK(bi.modules[0].start == 0x200000 && bi.modules[0].end == 0x210000);
	CHECK(!strcmp(bi.modules[0].name, "initrd"));
	CHECK(!strcmp(bi.modules[1].name, "user/demo"));
	CHECK_EQ(bi.n_mmap, 6);
	CHECK_RANGE(0, 0, 0x9fc00, MEM_USABLE);
	CHECK_RANGE(1, 0x9fc00, 0x400, MEM_RESERVED);
	CHECK_RANGE(3, 0x100000, 0x7ee0000, MEM_USABLE);
	CHECK_RANGE(5, 0xfffc0000, 0x40000, MEM_RESERVED);
	CHECK(bi.has_fb);
	CHECK(bi.fb.addr == 0xfd000000 && bi.fb.pitch == 4096 && bi.fb.width == 1024 &&
	      bi.fb.height == 768 && bi.fb.bpp == 32 && bi.fb.type == 1);
	CHECK_EQ(bi.rsdp, MBI_PHYS + new_off + 8); /* the new RSDP wins, wherever it comes */
	CHECK_EQ(bi.info_start, MBI_PHYS);
	CHECK_EQ(bi.info_end, MBI_PHYS + m.len);
	CHECK(!said("boot:"));
}

TEST(mb2_old_rsdp_and_memory_types)
{
	static struct mb m;
	static const struct ent map[] = {
	    {0x100000, 0x100000, 1}, {0x200000, 0x1000, 3}, {0x201000, 0x1000, 4},
	    {0x202000, 0x1000, 5},   {0x203000, 0x1000, 7}, {0x204000, 0x1000, 0},
	};

	mb_begin(&m);
	mb_mmap(&m, map, ARRAY_SIZE(map));
	size_t old_off = mb_rsdp(&m, 14, 20);
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK_EQ(bi.rsdp, MBI_PHYS + old_off + 8);
	CHECK_EQ(bi.warnings, 0);
	CHECK_EQ(bi.n_mmap, 5); /* types 7 and 0 are both reserved: joined */
	CHECK_RANGE(1, 0x200000, 0x1000, MEM_ACPI_RECLAIM);
	CHECK_RANGE(2, 0x201000, 0x1000, MEM_ACPI_NVS);
	CHECK_RANGE(3, 0x202000, 0x1000, MEM_BAD);
	CHECK_RANGE(4, 0x203000, 0x2000, MEM_RESERVED);
	CHECK(!bi.has_fb);
	CHECK_EQ(bi.cmdline[0], '\0');
}

/* A small valid structure: a command line, then one usable range; returns its length. */
static void mb_small(struct mb *m)
{
	static const struct ent map[] = {{0x100000, 0x400000, 1}};
	mb_begin(m);
	mb_string(m, 1, "a=1");
	mb_mmap(m, map, 1);
}

TEST(mb2_total_size_beyond_max_len)
{
	static struct mb m;

	mb_small(&m);
	size_t good = m.len;
	mb_end(&m);
	CHECK_EQ(parse(&m, good), 0); /* end tag cut off: map still found */
	CHECK(said("total_size"));
	CHECK(said("no end tag"));
	CHECK_EQ(bi.warnings, 2);
	CHECK_EQ(bi.n_mmap, 1);
	CHECK_EQ(bi.info_end, MBI_PHYS + good);

	put32(m.buf, 0xfffffff0); /* absurd total_size */
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(said("total_size"));
	CHECK_EQ(bi.warnings, 1);
	CHECK(!strcmp(bi.cmdline, "a=1"));
}

TEST(mb2_tag_too_small_stops_walk)
{
	static struct mb m;

	mb_small(&m);
	size_t bad = m.len;
	mb_tag(&m, 1, 0);
	put32(m.buf + bad + 4, 4); /* size 4 < 8: cannot step over it */
	mb_string(&m, 2, "never read");
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(said("size 4 < 8"));
	CHECK_EQ(bi.warnings, 1);
	CHECK_EQ(bi.loader[0], '\0');
	CHECK_EQ(bi.n_mmap, 1);

	put32(m.buf + bad + 4, 0); /* size 0 would loop forever if trusted */
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK_EQ(bi.warnings, 1);
}

TEST(mb2_tag_past_end)
{
	static struct mb m;

	mb_small(&m);
	size_t at = m.len;
	mb_string(&m, 2, "loader");
	mb_end(&m);
	put32(m.buf + at + 4, 0x10000); /* runs far past total_size */
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(said("runs past the end"));
	CHECK_EQ(bi.warnings, 1);
	CHECK_EQ(bi.loader[0], '\0');
	CHECK_EQ(bi.info_end, MBI_PHYS + at);
}

TEST(mb2_misaligned)
{
	static struct mb m, shifted;

	mb_small(&m);
	mb_end(&m);
	/* The same bytes at an address 4 off alignment: parsed with unaligned-safe loads. */
	memcpy(shifted.buf + 4, m.buf, m.len);
	fake_console_clear();
	CHECK_EQ(mb2_parse(shifted.buf + 4, m.len, MBI_PHYS + 4, &bi), 0);
	CHECK(said("not 8-byte aligned"));
	CHECK_EQ(bi.warnings, 1);
	CHECK(!strcmp(bi.cmdline, "a=1"));
	CHECK_EQ(bi.n_mmap, 1);
}

TEST(mb2_missing_end_tag_and_tiny_input)
{
	static struct mb m;

	mb_small(&m);
	put32(m.buf, (uint32_t)m.len);
	CHECK_EQ(parse(&m, m.len), 0);
	CHECK(said("no end tag"));
	CHECK_EQ(bi.warnings, 1);
	CHECK_EQ(bi.n_mmap, 1);

	CHECK_EQ(parse(&m, 7), -EINVAL);
	CHECK_EQ(bi.warnings, 1);
	CHECK_EQ(bi.info_end, bi.info_start);
	fake_console_clear();
	CHECK_EQ(mb2_parse(NULL, 4096, 0, &bi), -EINVAL);
	CHECK_EQ(bi.warnings, 1);
	put32(m.buf, 8); /* only the header */
	CHECK_EQ(parse(&m, sizeof m.buf), -EINVAL);
	CHECK(said("too small"));
	CHECK(said("no usable memory"));
}

TEST(mb2_bad_mmap_entry_size)
{
	static struct mb m;
	static const struct ent map[] = {{0x100000, 0x400000, 1}, {0x800000, 0x1000, 2}};

	mb_begin(&m);
	mb_mmap_sized(&m, map, 2, 20); /* entry_size < 24 */
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), -EINVAL);
	CHECK(said("entry size 20 < 24"));
	CHECK_EQ(bi.n_mmap, 0);

	/* With basic memory information the map falls back to it. */
	mb_begin(&m);
	mb_mmap_sized(&m, map, 2, 16);
	uint8_t *mi = mb_tag(&m, 4, 8);
	put32(mi, 639);
	put32(mi + 4, 64 * 1024);
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(said("basic memory information"));
	CHECK_EQ(bi.warnings, 2);
	CHECK_EQ(bi.n_mmap, 2);
	CHECK_RANGE(0, 0, 639 * KIB, MEM_USABLE);
	CHECK_RANGE(1, MIB, 64 * MIB, MEM_USABLE);

	/* A larger entry size (a future entry version) is stepped over correctly. */
	mb_begin(&m);
	mb_mmap_sized(&m, map, 2, 40);
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK_EQ(bi.warnings, 0);
	CHECK_EQ(bi.n_mmap, 2);
	CHECK_RANGE(1, 0x800000, 0x1000, MEM_RESERVED);

	/* A body that is not a multiple of the entry size: whole entries only. */
	mb_begin(&m);
	mb_mmap(&m, map, 2);
	put32(m.buf + 8 + 4, 8 + 8 + 24 + 20); /* shrink the tag by 4 bytes */
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(said("not a multiple"));
	CHECK_EQ(bi.warnings, 1);
	CHECK_EQ(bi.n_mmap, 1);
}

TEST(mb2_bad_ranges_are_sanitized)
{
	static struct mb m;
	static const struct ent map[] = {
	    {0x100000, 0x400000, 1},	     /* usable */
	    {0x300000, 0x200000, 2},	     /* overlaps its end: reserved wins */
	    {0x800000, 0, 1},		     /* zero length */
	    {0xfffffffffffff000, 0x2000, 1}, /* wraps at 2^64 */
	    {0x1000, 0x1000, 1},	     /* out of order */
	};

	mb_begin(&m);
	mb_mmap(&m, map, ARRAY_SIZE(map));
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK_EQ(bi.warnings, 3);
	CHECK(said("empty range"));
	CHECK(said("past 2^64"));
	CHECK(said("overlap"));
	REQUIRE(bi.n_mmap == 4);
	CHECK_RANGE(0, 0x1000, 0x1000, MEM_USABLE);
	CHECK_RANGE(1, 0x100000, 0x200000, MEM_USABLE);
	CHECK_RANGE(2, 0x300000, 0x200000, MEM_RESERVED);
	CHECK_RANGE(3, 0xfffffffffffff000, 0x1000, MEM_USABLE);
}

TEST(mb2_too_many_ranges_and_modules)
{
	static struct mb m;
	static struct ent map[200];

	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) /* alternating types: nothing merges */
		map[i] = (struct ent){0x100000 + i * 0x1000ull, 0x1000, i % 2 ? 2 : 1};
	mb_begin(&m);
	mb_mmap(&m, map, ARRAY_SIZE(map));
	for (unsigned i = 0; i < 20; i++)
		mb_module(&m, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, "mod");
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK_EQ(bi.n_mmap, BOOT_MAX_RANGES);
	CHECK_EQ(bi.n_modules, BOOT_MAX_MODULES);
	CHECK(said("more than 128 ranges, 72 dropped"));
	CHECK(said("more than 16 modules"));
	CHECK_EQ(bi.warnings, 2); /* one for each, not one per dropped entry */
	CHECK_RANGE(127, 0x100000 + 127 * 0x1000ull, 0x1000, MEM_RESERVED);
}

TEST(mb2_bad_strings_modules_and_acpi)
{
	static struct mb m;
	static char longline[1500];

	mb_small(&m);
	size_t at = m.len;
	memcpy(mb_tag(&m, 2, 8), "ABCDEFGH", 8); /* loader name without NUL */
	mb_module(&m, 0x300000, 0x200000, "backwards");
	mb_rsdp(&m, 14, 12);			   /* too short */
	memcpy(mb_tag(&m, 15, 36), "XSD PTR ", 8); /* bad signature */
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(!strcmp(bi.loader, "ABCDEFGH"));
	CHECK(said("loader name is not NUL-terminated"));
	CHECK(said("empty or inverted"));
	CHECK_EQ(bi.n_modules, 0);
	CHECK(said("ACPI tag 14"));
	CHECK(said("ACPI tag 15"));
	CHECK_EQ(bi.rsdp, 0);
	CHECK_EQ(bi.warnings, 4);
	(void)at;

	memset(longline, 'k', sizeof longline - 1);
	mb_begin(&m);
	mb_string(&m, 1, longline);
	mb_mmap(&m, qemu_map, ARRAY_SIZE(qemu_map));
	mb_end(&m);
	CHECK_EQ(parse(&m, sizeof m.buf), 0);
	CHECK(said("command line is longer than 1023 bytes"));
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK_EQ(bi.warnings, 1);
}

/* ---- PVH ---- */

#define PVH_SI 0x1000
#define PVH_CMDLINE 0x2000
#define PVH_MODLIST 0x3000
#define PVH_MEMMAP 0x4000
#define PVH_NAMES 0x10000
#define PVH_MEM (256 * KIB)

static void *pvh_p2v(paddr_t pa)
{
	return pa < PVH_MEM ? fake_phys_base + pa : NULL;
}
static uint8_t *phys(paddr_t pa)
{
	return fake_phys_base + pa;
}

static void pvh_build(uint32_t version, const struct ent *e, uint32_t n)
{
	uint8_t *si;

	fake_phys_alloc(PVH_MEM);
	si = phys(PVH_SI);
	put32(si, 0x336ec578);
	put32(si + 4, version);
	put64(si + 24, PVH_CMDLINE);
	put64(si + 32, 0xf5a40);
	put64(si + 40, PVH_MEMMAP);
	put32(si + 48, n);
	strcpy((char *)phys(PVH_CMDLINE), "console=ttyS0 pvh");
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *q = phys(PVH_MEMMAP) + i * 24;
		put64(q, e[i].base);
		put64(q + 8, e[i].len);
		put32(q + 16, e[i].type);
	}
}

static void pvh_add_modules(uint32_t n)
{
	put32(phys(PVH_SI) + 12, n);
	put64(phys(PVH_SI) + 16, PVH_MODLIST);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *q = phys(PVH_MODLIST) + i * 32;
		put64(q, 0x400000 + i * 0x10000ull);
		put64(q + 8, 0x8000);
		put64(q + 16, PVH_NAMES + i * 16);
		snprintf((char *)phys(PVH_NAMES + i * 16), 16, "mod%u", i);
	}
}

static int pvh(void)
{
	fake_console_clear();
	return pvh_parse(phys(PVH_SI), PVH_SI, pvh_p2v, &bi);
}

TEST(pvh_well_formed)
{
	static const struct ent e820[] = {
	    {0, 0x9fc00, 1},	      {0x9fc00, 0x400, 2},     {0xf0000, 0x10000, 2},
	    {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x10000, 3}, {0x7ff0000, 0x8000, 4},
	    {0x7ff8000, 0x4000, 5},   {0x7ffc000, 0x4000, 7},
	};

	pvh_build(1, e820, ARRAY_SIZE(e820));
	pvh_add_modules(2);
	CHECK_EQ(pvh(), 0);
	CHECK_EQ(bi.warnings, 0);
	CHECK_EQ(bi.protocol, BOOT_PVH);
	CHECK(!strcmp(bi.loader, "PVH"));
	CHECK(!strcmp(bi.cmdline, "console=ttyS0 pvh"));
	CHECK_EQ(bi.rsdp, 0xf5a40);
	REQUIRE(bi.n_modules == 2);
	CHECK(bi.modules[1].start == 0x410000 && bi.modules[1].end == 0x418000);
	CHECK(!strcmp(bi.modules[1].name, "mod1"));
	CHECK_EQ(bi.n_mmap, 8);
	CHECK_RANGE(3, 0x100000, 0x7ee0000, MEM_USABLE);
	CHECK_RANGE(4, 0x7fe0000, 0x10000, MEM_ACPI_RECLAIM);
	CHECK_RANGE(5, 0x7ff0000, 0x8000, MEM_ACPI_NVS);
	CHECK_RANGE(6, 0x7ff8000, 0x4000, MEM_BAD);
	CHECK_RANGE(7, 0x7ffc000, 0x4000, MEM_RESERVED);
	CHECK_EQ(bi.info_start, PVH_SI);
	CHECK_EQ(bi.info_end, PVH_SI + 56);

	put32(phys(PVH_SI) + 4, 2); /* a later version reads as version 1 */
	CHECK_EQ(pvh(), 0);
	CHECK_EQ(bi.warnings, 0);
	CHECK_EQ(bi.n_mmap, 8);
}

TEST(pvh_bad_magic_and_version0)
{
	static const struct ent e820[] = {{0x100000, 0x100000, 1}};

	pvh_build(1, e820, 1);
	put32(phys(PVH_SI), 0x336ec579);
	CHECK_EQ(pvh(), -EINVAL);
	CHECK(said("bad start-info magic"));
	CHECK_EQ(bi.warnings, 1);
	CHECK_EQ(bi.n_mmap, 0);

	pvh_build(0, e820, 1);
	CHECK_EQ(pvh(), -EINVAL);
	CHECK(said("version 0"));
	CHECK(!strcmp(bi.cmdline, "console=ttyS0 pvh"));
	CHECK_EQ(bi.info_end, PVH_SI + 40);
	CHECK_EQ(bi.n_mmap, 0);

	fake_console_clear();
	CHECK_EQ(pvh_parse(NULL, 0, pvh_p2v, &bi), -EINVAL);
	CHECK_EQ(bi.warnings, 1);
}

TEST(pvh_unreachable_tables_and_limits)
{
	static struct ent e820[300];

	for (unsigned i = 0; i < ARRAY_SIZE(e820); i++)
		e820[i] = (struct ent){i * 0x2000ull, 0x1000, 1};
	pvh_build(1, e820, ARRAY_SIZE(e820));
	pvh_add_modules(20);
	put64(phys(PVH_MODLIST) + 3 * 32 + 8, ~0ull); /* module 3 wraps */
	CHECK_EQ(pvh(), 0);
	CHECK(said("300 entries, only the first 128"));
	CHECK(said("20 modules, only the first 16"));
	CHECK(said("module 3"));
	CHECK_EQ(bi.warnings, 3);
	CHECK_EQ(bi.n_mmap, BOOT_MAX_RANGES);
	CHECK_EQ(bi.n_modules, BOOT_MAX_MODULES - 1);

	put64(phys(PVH_SI) + 40, 0x7fffffff000ull); /* memory map out of reach */
	put64(phys(PVH_SI) + 16, 0);		    /* module list missing */
	put64(phys(PVH_SI) + 24, PVH_MEM + 5);	    /* command line out of reach */
	CHECK_EQ(pvh(), -EINVAL);
	CHECK(said("memory map at 0x7fffffff000 cannot be reached"));
	CHECK(said("module list at 0 cannot be reached"));
	CHECK(said("command line at"));
	CHECK_EQ(bi.n_mmap, 0);
	CHECK_EQ(bi.n_modules, 0);
	CHECK_EQ(bi.cmdline[0], '\0');
}

TEST(pvh_cmdline_without_nul)
{
	static const struct ent e820[] = {{0x100000, 0x100000, 1}};

	pvh_build(1, e820, 1);
	memset(phys(PVH_CMDLINE), 'c', 3000);
	CHECK_EQ(pvh(), 0);
	CHECK(said("command line is not NUL-terminated"));
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK_EQ(bi.warnings, 2); /* no NUL, and too long */
}

/* ---- cmdline_get ---- */

/* boot_info_parse picks the parser by the magic the entry code passes on; the structure is
 * reached through arch_phys_to_virt (the fake physical memory here). */
TEST(boot_info_parse_by_magic)
{
	static const struct ent e820[] = {{0x100000, 0x100000, 1}};
	struct mb m;

	pvh_build(1, e820, 1);
	fake_console_clear();
	CHECK_EQ(boot_info_parse(PVH_BOOT_MAGIC, PVH_SI, &bi), 0);
	CHECK_EQ(bi.protocol, BOOT_PVH);
	CHECK_EQ(bi.n_mmap, 1);

	mb_begin(&m);
	mb_string(&m, 2, "GRUB 2.06");
	mb_mmap(&m, qemu_map, ARRAY_SIZE(qemu_map));
	mb_end(&m);
	memcpy(phys(MBI_PHYS), m.buf, m.len);
	CHECK_EQ(boot_info_parse(MB2_BOOT_MAGIC, MBI_PHYS, &bi), 0);
	CHECK_EQ(bi.protocol, BOOT_MULTIBOOT2);
	CHECK(!strcmp(bi.loader, "GRUB 2.06"));
	CHECK_EQ(bi.info_start, MBI_PHYS);

	CHECK_EQ(boot_info_parse(0x2badb002, MBI_PHYS, &bi), -ENOEXEC); /* multiboot1 */
	CHECK_EQ(bi.n_mmap, 0);
	CHECK_EQ(bi.protocol, 0);
}

TEST(boot_info_print_says_everything_kept)
{
	struct mb m;

	mb_begin(&m);
	mb_string(&m, 1, "test=all");
	mb_string(&m, 2, "GRUB");
	mb_module(&m, 0x400000, 0x500000, "initrd");
	mb_module(&m, 0x600000, 0x600000, "empty");
	mb_mmap(&m, qemu_map, ARRAY_SIZE(qemu_map));
	mb_end(&m);
	CHECK_EQ(parse(&m, m.len), 0);
	CHECK_EQ(bi.warnings, 1);
	fake_console_clear();
	boot_info_print(&bi);
	CHECK(said("boot: multiboot2 from \"GRUB\", command line \"test=all\""));
	CHECK(said("boot: mem [0x0000000000000000-0x000000000009fbff] usable"));
	CHECK(said("boot: mem [0x00000000fffc0000-0x00000000ffffffff] reserved"));
	CHECK(said("boot: module [0x400000-0x500000) \"initrd\""));
	CHECK(!said("\"empty\""));
	CHECK(said("boot: 1 problems in the boot information were worked around"));
}

TEST(cmdline_get_words)
{
	const char *cl =
	    "  console=ttyS0,115200 quiet\ttest=a ktest=mm,mce  loglevel=7 quiet= x=1 x=2";
	char v[16];

	CHECK(cmdline_get(cl, "console", v, sizeof v));
	CHECK(!strcmp(v, "ttyS0,115200"));
	CHECK(cmdline_get(cl, "test", v, sizeof v));
	CHECK(!strcmp(v, "a"));
	CHECK(!cmdline_get(cl, "tes", v, sizeof v));
	CHECK(!cmdline_get(cl, "est", v, sizeof v));
	CHECK(!cmdline_get(cl, "ktes", v, sizeof v));
	CHECK(cmdline_get(cl, "ktest", v, sizeof v));
	CHECK(!strcmp(v, "mm,mce"));
	CHECK(cmdline_get(cl, "quiet", v, sizeof v)); /* the last one, "quiet=", wins */
	CHECK(!strcmp(v, ""));
	CHECK(cmdline_get(cl, "x", v, sizeof v));
	CHECK(!strcmp(v, "2"));
	CHECK(cmdline_get(cl, "loglevel", NULL, 0));
	CHECK(!cmdline_get(cl, "", v, sizeof v));
	CHECK(!cmdline_get(cl, "ttyS0", v, sizeof v));
	CHECK(!cmdline_get("", "a", v, sizeof v));
	CHECK(!cmdline_get(NULL, "a", v, sizeof v));
	CHECK(cmdline_get("flag", "flag", v, sizeof v));
	CHECK(!strcmp(v, ""));
	/* A long value is cut to the buffer. */
	CHECK(cmdline_get("k=0123456789abcdefXYZ", "k", v, sizeof v));
	CHECK(!strcmp(v, "0123456789abcde"));
	strcpy(v, "untouched");
	CHECK(!cmdline_get("kk=1", "k", v, sizeof v));
	CHECK(!strcmp(v, "untouched"));
}
