/* Host tests of the boot's recovery summary (kernel/mce/summary.c): the yes/no answer and its
 * reason for each way a machine can fall short, the LMCE, CMCI and EINJ parts, and the
 * registered EINJ report reaching the printed line. */
#include "../../kernel/mce/mce_priv.h"
#include "fake_arch.h"
#include "unit.h"
#include <string.h>

#define QEMU_CAP 0x100010aull /* 10 banks, CTL_P, SER_P */

static const struct mce_recovery_facts good = {
	.cap = QEMU_CAP | MCG_CAP_CMCI_P | MCG_CAP_LMCE_P, .has_mca = true, .intel = true,
	.ser_enabled = true, .lmce_on = true, .cmci_on = true, .einj = 1,
	.einj_detail = "4 error types"};

static const char *say(const struct mce_recovery_facts *f)
{
	static char buf[512];
	int n = mce_recovery_summary(buf, sizeof buf, f);
	CHECK_EQ(n, strlen(buf));
	return buf;
}

TEST(mce_summary_recovery_capable_server)
{
	CHECK(!strcmp(say(&good), "mce: recovery-capable: yes (MCG_CAP 0x900050a has SER_P; 10 "
				  "banks; LMCE on; CMCI on; EINJ firmware table found: 4 error "
				  "types)\n"));
}

TEST(mce_summary_each_reason_for_no)
{
	struct mce_recovery_facts f = good;
	f.cap = QEMU_CAP & ~MCG_CAP_SER_P;
	CHECK(strstr(say(&f), "recovery-capable: no (MCG_CAP has no SER_P"));
	f = good;
	f.intel = false;
	CHECK(strstr(say(&f), "recovery-capable: no (not an Intel CPU"));
	f = good;
	f.ser_enabled = false;
	CHECK(strstr(say(&f), "recovery-capable: no (SER_P ignored (mce.ser=0)"));
	f = good;
	f.cap = QEMU_CAP & ~0xffull; /* no banks */
	CHECK(strstr(say(&f), "recovery-capable: no (MCG_CAP reports no banks; LMCE"));
	f = (struct mce_recovery_facts){.einj = -1};
	CHECK(!strcmp(say(&f), "mce: recovery-capable: no (no machine-check architecture (CPUID "
			       "MCE/MCA clear); LMCE not supported (broadcast only); CMCI not "
			       "supported: corrected errors by polling; EINJ not probed)\n"));
}

TEST(mce_summary_lmce_cmci_and_einj_parts)
{
	struct mce_recovery_facts f = good;
	f.lmce_on = false;
	CHECK(strstr(say(&f), "; LMCE offered but not enabled by the firmware (broadcast only);"));
	f.cmci_on = false;
	CHECK(strstr(say(&f), "; CMCI off (mce.cmci=0): corrected errors by polling;"));
	f.cap = QEMU_CAP;
	CHECK(strstr(say(&f), "; LMCE not supported (broadcast only); CMCI not supported: "
			      "corrected errors by polling;"));
	f.einj = 0;
	f.einj_detail = "";
	CHECK(strstr(say(&f), "; EINJ no firmware table)\n"));
	f.einj_detail = NULL;
	CHECK(strstr(say(&f), "; EINJ no firmware table)\n"));
	char tiny[10];
	CHECK(mce_recovery_summary(tiny, sizeof tiny, &good) > (int)sizeof tiny);
	CHECK(!strcmp(tiny, "mce: reco"));
}

static int fake_einj(char *detail, size_t size)
{
	snprintf(detail, size, "trigger table checked");
	return 1;
}

TEST(mce_summary_printed_with_registered_einj_report)
{
	fake_console_clear();
	mce_print_recovery_summary();
	CHECK(strstr(fake_console, "EINJ not probed)") != NULL);
	mce_summary_set_einj(fake_einj);
	fake_console_clear();
	mce_print_recovery_summary();
	CHECK(strstr(fake_console, "; EINJ firmware table found: trigger table checked)\n"));
	mce_summary_set_einj(NULL);
}
