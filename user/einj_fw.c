/* einj_fw: the EINJ files over a firmware table, from user space, as Linux 6.1 has them:
 * /sys/firmware/acpi/tables/EINJ holds the table; available_error_type lists what the
 * table's GET_ERROR_TYPE answers, one line per type; error_type takes one available type and
 * refuses anything else with EINVAL, changing nothing; with an ACPI 5 table (parameters) the
 * memory checks before an injection refuse undefined flags, a mask finer than a page and an
 * address outside RAM; then one injection with the trigger and one without must end as the
 * argument says (ok, EIO, EBUSY, EINVAL). The emulator rows check the register sequence the
 * kernel traced and the firmware's memory (tests/qemu/einj_tests.py).
 * Usage: einj_fw acpi5|acpi4+ok|EIO|EBUSY|EINVAL (one argument, words joined by '+'). */
#include "utest.h"
#include <stdint.h>
#include <sys/mman.h>

#define EINJ "/sys/kernel/debug/apei/einj/"
#define PG 4096

static const char *const types =
	"0x00000002\tProcessor Uncorrectable non-fatal\n"
	"0x00000008\tMemory Correctable\n"
	"0x00000010\tMemory Uncorrectable non-fatal\n"
	"0x00000020\tMemory Uncorrectable fatal\n";

static int put(const char *file, const char *v)
{
	char path[128];

	snprintf(path, sizeof path, EINJ "%s", file);
	return utest_write_file(path, v);
}

static int putx(const char *file, unsigned long long v)
{
	char s[32];

	snprintf(s, sizeof s, "%#llx\n", v);
	return put(file, s);
}

static uint64_t phys_of(void *va) { return (utest_pagemap(va) & ((1ull << 55) - 1)) * PG; }

static int errno_of(const char *name)
{
	return !strcmp(name, "EIO") ? EIO : !strcmp(name, "EBUSY") ? EBUSY
	       : !strcmp(name, "EINVAL")			   ? EINVAL
								   : 0;
}

static void check_table(void)
{
	char buf[4096];
	int n = utest_read_file("/sys/firmware/acpi/tables/EINJ", buf, sizeof buf);
	uint32_t len = 0;

	CHECK(n >= 48 && !memcmp(buf, "EINJ", 4));
	if (n >= 8)
		memcpy(&len, buf + 4, 4);
	CHECK((uint32_t)n == len);
	CHECK(utest_read_file(EINJ "backend", buf, sizeof buf) > 0 && !strcmp(buf, "firmware\n"));
	CHECK(utest_read_file(EINJ "available_error_type", buf, sizeof buf) > 0 && !strcmp(buf, types));
}

/* error_type: refusals change nothing; an available type reads back. */
static void check_error_type(void)
{
	char buf[64];

	CHECK(put("error_type", "0x10\n") == 0);
	CHECK(put("error_type", "0x4\n") == -EINVAL);	     /* not offered */
	CHECK(put("error_type", "0x18\n") == -EINVAL);	     /* two types */
	CHECK(put("error_type", "0x100000010\n") == -EINVAL); /* past 32 bits */
	CHECK(put("error_type", "0x10junk\n") == -EINVAL);
	CHECK(utest_read_file(EINJ "error_type", buf, sizeof buf) > 0 && !strcmp(buf, "0x10\n"));
}

/* The memory checks Linux makes before it lets the firmware near an address. */
static void check_refusals(uint64_t pa)
{
	CHECK(putx("param1", pa) == 0 && putx("param2", ~0ull) == 0);
	CHECK(putx("flags", 0x8) == 0 && put("error_inject", "1") == -EINVAL);
	CHECK(putx("flags", 0x2) == 0);
	CHECK(putx("param2", 0xfff) == 0 && put("error_inject", "1") == -EINVAL);
	CHECK(putx("param2", ~0ull) == 0 && putx("param1", 0xff000000) == 0);
	CHECK(put("error_inject", "1") == -EINVAL); /* the register window, not RAM */
	CHECK(putx("flags", 0x100000000ull) == -EINVAL);
	CHECK(putx("param1", pa) == 0);
}

int main(int argc, char **argv)
{
	char args[64];
	const char *acpi5, *expect;
	char *page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int want, got;

	snprintf(args, sizeof args, "%s", argc > 1 ? argv[1] : "acpi5+ok");
	acpi5 = strstr(args, "acpi5");
	expect = strchr(args, '+') ? strchr(args, '+') + 1 : "ok";
	want = errno_of(expect);
	page[0] = 1;
	check_table();
	check_error_type();
	CHECK(utest_can_open(EINJ "param1", O_WRONLY) == !!acpi5);
	if (acpi5) {
		check_refusals(phys_of(page) + 0x400);
		CHECK(putx("notrigger", 0) == 0);
	}
	got = put("error_inject", "1");
	printf("einj_fw: error_inject with the trigger: %d (%s)\n", got, got ? strerror(-got) : "ok");
	CHECK(got == -want);
	if (acpi5 && !want) {
		CHECK(putx("notrigger", 1) == 0);
		got = put("error_inject", "1");
		printf("einj_fw: error_inject without the trigger: %d\n", got);
		CHECK(got == 0);
	}
	DONE("einj_fw");
}
