/* Host tests of the machine-check log format (kernel/mce/format.c): the Linux hardware-error
 * lines, byte for byte, and the one-line decoded summary. */
#include "unit.h"
#include "mce.h"
#include <string.h>

static const struct mce_record srar = {
    .status = 0xbd80000000100134ull,
    .addr = 0x1234000,
    .misc = 0x86,
    .mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV,
    .ip = 0xffffffff81000000ull,
    .cs = 0x10,
    .tsc = 0x123,
    .cpu = 0,
    .bank = 1,
    .cpuid = 0x806f8,
    .microcode = 1,
};

TEST(mce_format_linux_lines)
{
	char buf[512];
	const char *want = "mce: [Hardware Error]: CPU 0: Machine Check Exception: 7 Bank 1: "
			   "bd80000000100134\n"
			   "mce: [Hardware Error]: RIP 10:<ffffffff81000000> \n"
			   "mce: [Hardware Error]: TSC 123 ADDR 1234000 MISC 86 \n"
			   "mce: [Hardware Error]: PROCESSOR 0:806f8 TIME 0 SOCKET 0 APIC 0 "
			   "microcode 1\n";
	int n = mce_format_record(buf, sizeof buf, &srar);

	CHECK(strcmp(buf, want) == 0);
	CHECK_EQ(n, strlen(want));
	if (strcmp(buf, want) != 0)
		printf("    got:\n%s", buf);
}

TEST(mce_format_inexact_ip_and_user_cs)
{
	struct mce_record r = srar;
	char buf[512];

	r.mcg_status = MCG_STATUS_MCIP | MCG_STATUS_RIPV; /* EIPV clear */
	r.cs = 0x33;
	r.ip = 0x401000;
	r.cpu = 3;
	r.bank = 12;
	r.apicid = 0x1a;
	r.socketid = 1;
	r.time = 1700000000;
	r.ppin = 0xabc;
	mce_format_record(buf, sizeof buf, &r);
	CHECK(strcmp(buf,
		     "mce: [Hardware Error]: CPU 3: Machine Check Exception: 5 Bank 12: "
		     "bd80000000100134\n"
		     "mce: [Hardware Error]: RIP !INEXACT! 33:<0000000000401000> \n"
		     "mce: [Hardware Error]: TSC 123 ADDR 1234000 MISC 86 PPIN abc \n"
		     "mce: [Hardware Error]: PROCESSOR 0:806f8 TIME 1700000000 SOCKET 1 APIC 1a "
		     "microcode 1\n") == 0);
}

TEST(mce_format_polled_record_has_no_exception_or_rip)
{
	struct mce_record r = {.status = 0x9000000000000000ull,
			       .cpu = 1,
			       .bank = 2,
			       .tsc = 0xfeed,
			       .cpuvendor = 0,
			       .cpuid = 0x663};
	char buf[512];
	const char *want =
	    "mce: [Hardware Error]: CPU 1: Machine Check: 0 Bank 2: 9000000000000000\n"
	    "mce: [Hardware Error]: TSC feed \n"
	    "mce: [Hardware Error]: PROCESSOR 0:663 TIME 0 SOCKET 0 APIC 0 microcode 0\n";

	mce_format_record(buf, sizeof buf, &r);
	CHECK(strcmp(buf, want) == 0);
}

TEST(mce_format_truncates_like_snprintf)
{
	char full[512], small[40];
	int n = mce_format_record(full, sizeof full, &srar);
	int m;

	memset(small, 'x', sizeof small);
	m = mce_format_record(small, sizeof small, &srar);
	CHECK_EQ(m, n);
	CHECK_EQ(strlen(small), sizeof small - 1);
	CHECK(strncmp(small, full, sizeof small - 1) == 0);
	/* size 0: nothing written, length still reported */
	small[0] = 'q';
	CHECK_EQ(mce_format_record(small, 0, &srar), n);
	CHECK_EQ(small[0], 'q');
	/* every size in between stays inside the buffer and terminates */
	for (size_t sz = 1; sz < (size_t)n + 2; sz++) {
		char b[600];

		memset(b, 'z', sizeof b);
		CHECK_EQ(mce_format_record(b, sz, &srar), n);
		CHECK_EQ(strlen(b), MIN(sz - 1, (size_t)n));
		CHECK_EQ(b[sz], 'z');
	}
}

TEST(mce_format_summary_lines)
{
	struct mce_record r = srar;
	struct mce_ctx c = {.in_mc = 1, .user_mode = 1, .ser = 1, .mcg_status = srar.mcg_status};
	struct mce_verdict v;
	char buf[256];

	r.cs = 0x73;
	r.misc = 0x8c;
	r.source = MCE_SRC_MC;
	mce_judge(&r, &c, &v);
	mce_format_summary(buf, sizeof buf, &r, &v);
	CHECK(strcmp(buf, "mce: CPU 0 Bank 1 (#MC): AR \"Action required: data load error in a "
			  "user process\" addr 0x1234000/12 action ar-user\n") == 0);

	/* polled corrected error without an address */
	r = (struct mce_record){
	    .status = MCI_STATUS_VAL | MCI_STATUS_EN, .cpu = 2, .bank = 7, .source = MCE_SRC_POLL};
	c = (struct mce_ctx){.ser = 1};
	mce_judge(&r, &c, &v);
	mce_format_summary(buf, sizeof buf, &r, &v);
	CHECK(strcmp(buf,
		     "mce: CPU 2 Bank 7 (poll): KEEP \"Corrected error\" no addr action log\n") ==
	      0);

	/* an address the hardware gave but we cannot use (linear) */
	r.status |= MCI_STATUS_ADDRV | MCI_STATUS_MISCV | MCI_STATUS_UC;
	r.addr = 0xdead000;
	r.misc = 0x4c;
	r.source = MCE_SRC_CMCI;
	mce_judge(&r, &c, &v);
	mce_format_summary(buf, sizeof buf, &r, &v);
	CHECK(strcmp(buf, "mce: CPU 2 Bank 7 (CMCI): UCNA \"Uncorrected no action required\" addr "
			  "0xdead000 unusable action log\n") == 0);
	if (strstr(buf, "unusable") == NULL)
		printf("    got: %s", buf);
}
