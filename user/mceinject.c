/* mceinject: injects corrected machine-check errors from user space through the mce-inject
 * control files (Linux's debugfs interface: set status/addr/misc/mcgstatus/cpu/flags, then
 * write the bank number; and MCRK's "text" file that takes a whole mce-inject record), and
 * checks that the kernel counted each one (/sys/kernel/debug/mce/counters). It also checks the
 * machinecheck0 knobs: reads, writes that stick, and bad writes that fail with EINVAL and
 * change nothing. Exit status: the number of failed checks (0: all passed). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utest.h"

#define KNOBS "/sys/devices/system/machinecheck/machinecheck0/"
#define INJ "/sys/kernel/debug/mce-inject/"
#define COUNTERS "/sys/kernel/debug/mce/counters"
#define CE_STATUS "0x9000000000000017" /* VAL|EN, MCACOD 0x17: a corrected error */

/* The value of counter name in the counters file, or -1. */
static long long counter(const char *name)
{
	char buf[4096], key[64];
	const char *p;

	if (utest_read_file(COUNTERS, buf, sizeof buf) <= 0)
		return -1;
	snprintf(key, sizeof key, "\n%s ", name);
	if (!strncmp(buf, key + 1, strlen(key + 1)))
		return atoll(buf + strlen(key + 1));
	p = strstr(buf, key);
	return p ? atoll(p + strlen(key)) : -1;
}

static int knob_is(const char *knob, const char *want)
{
	char path[128], buf[64];

	snprintf(path, sizeof path, KNOBS "%s", knob);
	if (utest_read_file(path, buf, sizeof buf) < 0)
		return 0;
	if (strcmp(buf, want))
		printf("mceinject: %s reads %s", knob, buf);
	return !strcmp(buf, want);
}

static int knob_write(const char *knob, const char *value)
{
	char path[128];

	snprintf(path, sizeof path, KNOBS "%s", knob);
	return utest_write_file(path, value);
}

static void check_knobs(void)
{
	CHECK(knob_is("check_interval", "1\n"));
	CHECK(knob_write("check_interval", "2\n") == 0);
	CHECK(knob_is("check_interval", "2\n"));
	CHECK(knob_write("check_interval", "two") == -EINVAL);
	CHECK(knob_write("check_interval", "3x") == -EINVAL);
	CHECK(knob_write("check_interval", "") == -EINVAL);
	CHECK(knob_is("check_interval", "2\n"));
	CHECK(knob_write("check_interval", "1") == 0);
	CHECK(knob_is("check_interval", "1\n"));

	CHECK(knob_is("monarch_timeout", "1000000\n"));
	CHECK(knob_write("monarch_timeout", "500000") == 0);
	CHECK(knob_is("monarch_timeout", "500000\n"));
	CHECK(knob_write("monarch_timeout", "-5") == -EINVAL);
	CHECK(knob_write("monarch_timeout", "99999999999") == -EINVAL);
	CHECK(knob_is("monarch_timeout", "500000\n"));
	CHECK(knob_write("monarch_timeout", "1000000") == 0);

	CHECK(knob_is("ignore_ce", "0\n"));
	CHECK(knob_write("ignore_ce", "2") == -EINVAL);
	CHECK(knob_is("ignore_ce", "0\n"));
	CHECK(knob_is("cmci_disabled", "0\n"));
	CHECK(knob_write("cmci_disabled", "1") == 0);
	CHECK(knob_is("cmci_disabled", "1\n"));
	CHECK(knob_write("cmci_disabled", "0") == 0);
	CHECK(knob_is("cmci_disabled", "0\n"));
}

/* One corrected error through the debugfs fields; the bank write injects it. */
static void check_field_injection(void)
{
	long long keep = counter("grade_KEEP"), poll = counter("source_poll");
	long long rec = counter("records");

	CHECK(keep >= 0 && poll >= 0 && rec >= 0);
	CHECK(utest_write_file(INJ "cpu", "1") == 0);
	CHECK(utest_write_file(INJ "status", CE_STATUS) == 0);
	CHECK(utest_write_file(INJ "addr", "0") == 0);
	CHECK(utest_write_file(INJ "misc", "0") == 0);
	CHECK(utest_write_file(INJ "mcgstatus", "0") == 0);
	CHECK(utest_write_file(INJ "flags", "sw") == 0);
	CHECK(utest_write_file(INJ "flags", "df") == -EINVAL);
	CHECK(utest_write_file(INJ "bank", "999") == -EINVAL);
	CHECK(counter("records") == rec);
	CHECK(utest_write_file(INJ "bank", "3") == 0);
	CHECK(counter("grade_KEEP") == keep + 1);
	CHECK(counter("source_poll") == poll + 1);
	CHECK(counter("records") == rec + 1);
}

/* The same through a whole mce-inject record written to the text file. */
static void check_text_injection(void)
{
	long long keep = counter("grade_KEEP"), rec = counter("records");

	CHECK(utest_write_file(INJ "text", "CPU 0 BANK 2\nSTATUS CORRECTED 0x17\nPOLL\n") == 0);
	CHECK(counter("grade_KEEP") == keep + 1);
	CHECK(counter("records") == rec + 1);
	CHECK(utest_write_file(INJ "text", "CPU 0 BANK 2 FROB\n") == -EINVAL);
	CHECK(counter("records") == rec + 1);
}

int main(void)
{
	char buf[4096];

	check_knobs();
	check_field_injection();
	check_text_injection();
	CHECK(utest_read_file("/sys/kernel/debug/mce/severities-coverage", buf, sizeof buf) > 0);
	CHECK(strstr(buf, "\tCorrected error\n") != NULL);
	DONE("mceinject");
}
