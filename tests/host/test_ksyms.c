/* Host tests of the symbol lookup (kernel/lib/ksyms.c) and of its use in the machine-check
 * RIP line (kernel/mce/format.c). This file defines the host build's ksym_builtin, the table
 * the kernel's second link gets from scripts/mksyms.py: three functions with sizes, an
 * assembly label without one, and a gap. */
#include "kerrno.h"
#include "ksyms.h"
#include "mce.h"
#include "unit.h"
#include <string.h>

#define BASE 0xffffffff80200000ull

static const struct ksym_entry entries[] = {
	{BASE + 0x000, 0x40, 0},  /* first_fn: [BASE, BASE+0x40) */
	{BASE + 0x040, 0x20, 9},  /* second_fn, right after */
	{BASE + 0x100, 0x00, 19}, /* entry_label: no size, runs to the next symbol */
	{BASE + 0x180, 0x10, 31}, /* last_fn; then nothing */
};
static const char names[] = "first_fn\0second_fn\0entry_label\0last_fn";
const struct ksym_table ksym_builtin = {ARRAY_SIZE(entries), entries, names};

static void expect(uint64_t addr, const char *name, uint64_t off, uint64_t size)
{
	const char *n = NULL;
	uint64_t o = 0, s = 0;
	int rc = ksym_lookup(addr, &n, &o, &s);
	CHECK_EQ(rc, 0);
	CHECK(rc == 0 && !strcmp(n, name));
	CHECK_EQ(o, off);
	CHECK_EQ(s, size);
}

static void expect_none(uint64_t addr)
{
	const char *n = "unchanged";
	uint64_t o = 7, s = 7;
	CHECK_EQ(ksym_lookup(addr, &n, &o, &s), -ENOENT);
	CHECK(!strcmp(n, "unchanged") && o == 7 && s == 7);
}

TEST(ksym_lookup_finds_the_containing_function)
{
	expect(BASE, "first_fn", 0, 0x40);
	expect(BASE + 0x3f, "first_fn", 0x3f, 0x40);
	expect(BASE + 0x40, "second_fn", 0, 0x20);
	expect(BASE + 0x5f, "second_fn", 0x1f, 0x20);
	expect(BASE + 0x100, "entry_label", 0, 0x80);
	expect(BASE + 0x17f, "entry_label", 0x7f, 0x80);
	expect(BASE + 0x18f, "last_fn", 0xf, 0x10);
}

TEST(ksym_lookup_outside_every_function)
{
	expect_none(BASE - 1);          /* before the first */
	expect_none(BASE + 0x60);       /* the gap after second_fn */
	expect_none(BASE + 0xff);
	expect_none(BASE + 0x190);      /* past the last */
	expect_none(0);
	expect_none(~0ull);
	const char *n;
	uint64_t o, s;
	CHECK_EQ(ksym_lookup_in(NULL, BASE, &n, &o, &s), -ENOENT);
	struct ksym_table empty = {0, entries, names};
	CHECK_EQ(ksym_lookup_in(&empty, BASE, &n, &o, &s), -ENOENT);
}

TEST(ksym_lookup_many_functions_against_a_scan)
{
	static struct ksym_entry many[1000];
	uint64_t rng = 99, addr = BASE;
	for (unsigned i = 0; i < ARRAY_SIZE(many); i++) {
		addr += 1 + unit_xorshift(&rng) % 64;
		many[i] = (struct ksym_entry){addr, (uint32_t)(unit_xorshift(&rng) % 48), 0};
	}
	struct ksym_table t = {ARRAY_SIZE(many), many, "f"};
	for (uint64_t a = BASE; a < addr + 80; a++) {
		int want = -1; /* the scan: last entry at or below a that covers it */
		for (unsigned i = 0; i < ARRAY_SIZE(many) && many[i].addr <= a; i++) {
			uint64_t len = many[i].size ? many[i].size
				       : i + 1 < ARRAY_SIZE(many) ? many[i + 1].addr - many[i].addr
								   : 0;
			want = a - many[i].addr < len ? (int)i : -1;
		}
		const char *n;
		uint64_t o = 0, s;
		int rc = ksym_lookup_in(&t, a, &n, &o, &s);
		CHECK_EQ(rc == 0, want >= 0);
		if (rc == 0 && want >= 0)
			CHECK_EQ(a - o, many[want].addr);
	}
}

TEST(ksym_format_as_linux_percent_ps)
{
	char buf[KSYM_FMT_MAX];
	CHECK_EQ(ksym_format(buf, sizeof buf, BASE + 0x4a), strlen("second_fn+0xa/0x20"));
	CHECK(!strcmp(buf, "second_fn+0xa/0x20"));
	ksym_format(buf, sizeof buf, BASE);
	CHECK(!strcmp(buf, "first_fn+0x0/0x40"));
	CHECK_EQ(ksym_format(buf, sizeof buf, BASE + 0x60), 0);
	CHECK(!strcmp(buf, ""));
	char tiny[6];
	ksym_format(tiny, sizeof tiny, BASE + 0x4a); /* cut, still terminated */
	CHECK(!strcmp(tiny, "secon"));
}

TEST(ksym_mce_rip_line_names_kernel_functions_only)
{
	struct mce_record r = {.status = 0xbd80000000100134ull,
			       .mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV,
			       .ip = BASE + 0x1a,
			       .cs = 0x10};
	char buf[640];
	mce_format_record(buf, sizeof buf, &r);
	CHECK(strstr(buf, "mce: [Hardware Error]: RIP 10:<ffffffff8020001a> "
			  "{first_fn+0x1a/0x40}\n"));
	r.cs = 0x33; /* user mode: an address there is not ours to name */
	mce_format_record(buf, sizeof buf, &r);
	CHECK(strstr(buf, "mce: [Hardware Error]: RIP 33:<ffffffff8020001a> \n"));
	r.cs = 0x10;
	r.ip = BASE + 0x60; /* in no function */
	mce_format_record(buf, sizeof buf, &r);
	CHECK(strstr(buf, "mce: [Hardware Error]: RIP 10:<ffffffff80200060> \n"));
}
