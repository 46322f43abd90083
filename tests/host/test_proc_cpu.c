/* Host tests of /proc/cpuinfo and /proc/interrupts (kernel/fs/proc_cpu.c): the text byte for
 * byte against Linux's layout for a hand-made CPU, every online CPU's block in order, the
 * interrupts header and rows with counts from registered counters, unregistered rows left
 * out, and the machine-check rows moving when the poller and the CMCI path run on a CPU. */
#include "../../kernel/mce/mce_priv.h"
#include "fake_arch.h"
#include "fake_mca.h"
#include "irq_stat.h"
#include "kerrno.h"
#include "proc_cpu.h"
#include "unit.h"
#include <string.h>

static const struct arch_cpu_info xeon = {
	.vendor = "GenuineIntel",
	.model_name = "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
	.family = 6, .model = 85, .stepping = 7, .cpuid_level = 22, .microcode = 0x5003302,
	.khz = 2100000, .physical_id = 1, .siblings = 40, .core_id = 3, .cpu_cores = 20,
	.apicid = 71, .initial_apicid = 71, .fpu = true, .flags = "fpu mce mca lm",
	.clflush_size = 64, .cache_alignment = 64, .phys_bits = 46, .virt_bits = 48,
};

/* What Linux 6.1 prints for such a CPU, minus the lines MCRK does not have (cache size,
 * bugs, bogomips), which sit between the ones below. */
static const char xeon_text[] = "processor\t: 5\n"
				"vendor_id\t: GenuineIntel\n"
				"cpu family\t: 6\n"
				"model\t\t: 85\n"
				"model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\n"
				"stepping\t: 7\n"
				"microcode\t: 0x5003302\n"
				"cpu MHz\t\t: 2100.000\n"
				"physical id\t: 1\n"
				"siblings\t: 40\n"
				"core id\t\t: 3\n"
				"cpu cores\t: 20\n"
				"apicid\t\t: 71\n"
				"initial apicid\t: 71\n"
				"fpu\t\t: yes\n"
				"fpu_exception\t: yes\n"
				"cpuid level\t: 22\n"
				"wp\t\t: yes\n"
				"flags\t\t: fpu mce mca lm\n"
				"clflush size\t: 64\n"
				"cache_alignment\t: 64\n"
				"address sizes\t: 46 bits physical, 48 bits virtual\n"
				"power management:\n"
				"\n";

TEST(proc_cpuinfo_block_matches_linux_layout)
{
	char buf[2048];
	struct ctl_buf b = {buf, sizeof buf, 0};
	proc_cpuinfo_format(&b, 5, &xeon);
	CHECK(!strcmp(buf, xeon_text));
	CHECK_EQ(b.len, strlen(xeon_text));
}

TEST(proc_cpuinfo_unknowns_and_missing_lines)
{
	struct arch_cpu_info ci = {.family = 15};
	char buf[2048];
	struct ctl_buf b = {buf, sizeof buf, 0};
	proc_cpuinfo_format(&b, 0, &ci);
	CHECK(strstr(buf, "vendor_id\t: unknown\n") != NULL);
	CHECK(strstr(buf, "model name\t: unknown\n") != NULL);
	CHECK(strstr(buf, "microcode") == NULL); /* 0: not known, left out as Linux does */
	CHECK(strstr(buf, "cpu MHz") == NULL);
	CHECK(strstr(buf, "fpu\t\t: no\n") != NULL);
	CHECK(strstr(buf, "flags\t\t: \n") != NULL);
}

TEST(proc_cpuinfo_file_has_every_online_cpu)
{
	char buf[8192];
	fake_cpu_count = 3;
	for (unsigned c = 0; c < FAKE_CPU_INFOS; c++) {
		fake_cpu_info[c] = xeon;
		fake_cpu_info[c].apicid = 10 + c;
	}
	int n = ctl_show(proc_cpu_files, proc_cpu_nfiles, "/proc/cpuinfo", buf, sizeof buf);
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(!strncmp(buf, "processor\t: 0\n", 14));
	CHECK(strstr(buf, "\nprocessor\t: 1\n") != NULL);
	CHECK(strstr(buf, "\nprocessor\t: 2\n") != NULL);
	CHECK(strstr(buf, "\nprocessor\t: 3\n") == NULL);
	CHECK(strstr(buf, "apicid\t\t: 12\n") != NULL);
	CHECK(ctl_store(proc_cpu_files, proc_cpu_nfiles, "/proc/cpuinfo", "x", 1) == -EACCES);
	fake_cpu_count = 1;
}

static uint64_t fake_loc(unsigned cpu) { return 1000 + cpu; }
static uint64_t fake_err(unsigned cpu) { return 7 + cpu; }

TEST(proc_interrupts_header_rows_and_counts)
{
	char buf[4096];
	fake_cpu_count = 2;
	CHECK(irq_stat_register(IRQ_STAT_LOC, fake_loc) == 0);
	CHECK(irq_stat_register(IRQ_STAT_LOC, fake_loc) == 0); /* the same again: harmless */
	CHECK(irq_stat_register(IRQ_STAT_LOC, fake_err) == -EINVAL);
	CHECK(irq_stat_register(IRQ_STAT_ERR, fake_err) == 0);
	CHECK(irq_stat_register(IRQ_STAT_ROWS, fake_err) == -EINVAL);
	CHECK(irq_stat_register(IRQ_STAT_NMI, NULL) == -EINVAL);
	int n = ctl_show(proc_cpu_files, proc_cpu_nfiles, "/proc/interrupts", buf, sizeof buf);
	CHECK(n > 0);
	CHECK(!strncmp(buf, "           CPU0       CPU1       \n", 34));
	CHECK(strstr(buf, "\nLOC:       1000       1001   Local timer interrupts\n") != NULL);
	CHECK(strstr(buf, "\nERR:          7\n") != NULL); /* a total, read once */
	CHECK(strstr(buf, "NMI") == NULL);                /* nobody counts it here */
	/* Linux's order: LOC before ERR. */
	CHECK(strstr(buf, "LOC:") < strstr(buf, "ERR:"));
	fake_cpu_count = 1;
}

/* The three machine-check rows follow kernel/mce's per-CPU counters. */
TEST(proc_interrupts_mce_rows_count_polls_and_cmci)
{
	char before[4096], after[4096];
	char want[128];
	fake_cpu_count = 2;
	fake_mca_cap_value = 0x100010aull;
	memset(fake_mca, 0, sizeof fake_mca);
	for (unsigned c = 0; c < 2; c++) {
		fake_cpu_id = c;
		mce_cpu_setup();
	}
	fake_cpu_id = 0;
	mce_ctl_init();
	mce_drain();
	ctl_show(proc_cpu_files, proc_cpu_nfiles, "/proc/interrupts", before, sizeof before);
	fake_cpu_id = 1;
	mce_poll(MCE_SRC_POLL, false);
	mce_poll(MCE_SRC_CMCI, true);
	fake_cpu_id = 0;
	mce_drain();
	ctl_show(proc_cpu_files, proc_cpu_nfiles, "/proc/interrupts", after, sizeof after);
	CHECK(strstr(before, "  Machine check exceptions\n") != NULL);
	long long p0[2], p1[2], t0[2], t1[2];
	const char *pb = strstr(before, "MCP: "), *pa = strstr(after, "MCP: ");
	const char *tb = strstr(before, "THR: "), *ta = strstr(after, "THR: ");
	REQUIRE(pb && pa && tb && ta);
	CHECK(sscanf(pb, "MCP: %lld %lld", &p0[0], &p0[1]) == 2);
	CHECK(sscanf(pa, "MCP: %lld %lld", &p1[0], &p1[1]) == 2);
	CHECK(sscanf(tb, "THR: %lld %lld", &t0[0], &t0[1]) == 2);
	CHECK(sscanf(ta, "THR: %lld %lld", &t1[0], &t1[1]) == 2);
	CHECK_EQ(p1[0], p0[0]);
	CHECK_EQ(p1[1], p0[1] + 2); /* a poll and a CMCI scan are both polls, as on Linux */
	CHECK_EQ(t1[0], t0[0]);
	CHECK_EQ(t1[1], t0[1] + 1);
	snprintf(want, sizeof want, "THR: %10lld %10lld   Threshold APIC interrupts\n", t1[0],
		 t1[1]);
	CHECK(strstr(after, want) != NULL);
	fake_cpu_count = 1;
}
