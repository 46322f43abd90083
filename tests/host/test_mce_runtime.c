/* Host tests of the machine-check runtime (kernel/mce/{core,poll,log,mc,inject,ctlfiles}.c)
 * over the fake MCA registers of fake_mca.c: per-CPU set-up, the poll path, storm entry and
 * exit, ring overflow counting, the rendezvous timeout and the monarch's decision merge across
 * CPUs, the knob parser and the run-time control files, and how the injector delivers each
 * record (poll, CMCI, #MC broadcast or not, HOLD, faked user context). The fake arch runs one
 * CPU at a time, so a broadcast's other CPUs run one after another and a rendezvous that needs
 * two CPUs at once can only time out; the merge is checked on the decisions the CPUs make. */
#include "../../kernel/mce/mce_priv.h"
#include "arch/mca.h"
#include "fake_arch.h"
#include "fake_mca.h"
#include "kerrno.h"
#include "unit.h"
#include "work.h"
#include <string.h>

#define QEMU_CAP 0x100010aull		     /* 10 banks, CTL_P, SER_P */
#define CMCI_CAP (QEMU_CAP | MCG_CAP_CMCI_P) /* the same with CMCI */
#define CE (MCI_STATUS_VAL | MCI_STATUS_EN | 0x17ull)
#define SRAO 0xbd000000000000c0ull /* VAL UC EN MISCV ADDRV S, memory scrub */
#define SRAR_DATA 0xbd80000000000134ull
#define FATAL (MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC)
#define UCNA_ADDR                                                                                  \
	(MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_ADDRV | MCI_STATUS_MISCV)
#define MISC_PAGE 0x8cull /* physical address mode, LSB 12 */
#define MC_RIPV (MCG_STATUS_MCIP | MCG_STATUS_RIPV)

static struct mce_config defaults;
static bool have_defaults;

/* Fresh fake CPUs with cap, set up as each CPU's start-up would; rings drained. */
static void rt_setup(unsigned ncpu, uint64_t cap)
{
	if (!have_defaults) {
		defaults = mce_cfg;
		have_defaults = true;
	}
	mce_cfg = defaults;
	memset(fake_mca, 0, sizeof fake_mca);
	fake_mca_cap_value = cap;
	fake_cpu_count = ncpu;
	for (unsigned c = 0; c < ncpu; c++) {
		fake_cpu_id = c;
		mce_cpu_setup();
	}
	fake_cpu_id = 0;
	mce_drain();
	fake_console_clear();
}

static void rt_teardown(void)
{
	mce_drain();
	mce_cfg = defaults;
	fake_cpu_count = 1;
	fake_cpu_id = 0;
	fake_mca_cap_value = QEMU_CAP;
}

static struct mce_stats stats(void)
{
	struct mce_stats s;

	mce_get_stats(&s);
	return s;
}

static void bank_set(unsigned cpu, unsigned bank, uint64_t status, uint64_t addr, uint64_t misc)
{
	fake_mca[cpu].bank[bank][MCA_REG_STATUS] = status;
	fake_mca[cpu].bank[bank][MCA_REG_ADDR] = addr;
	fake_mca[cpu].bank[bank][MCA_REG_MISC] = misc;
}

TEST(mce_runtime_setup_arms_banks_and_logs_leftovers)
{
	struct mce_stats before;

	rt_setup(1, QEMU_CAP);
	before = stats();
	bank_set(0, 2, CE, 0, 0); /* as if the previous boot left it */
	fake_mca[0].bank[5][MCA_REG_CTL] = 0;
	CHECK_EQ(mce_cpu_setup(), 10);
	CHECK(fake_mca[0].mcg[MCG_REG_CTL] == ~0ull);
	for (unsigned b = 0; b < 10; b++)
		CHECK(fake_mca[0].bank[b][MCA_REG_CTL] == ~0ull);
	CHECK_EQ(fake_mca[0].bank[2][MCA_REG_STATUS], 0);
	CHECK_EQ(stats().by_source[MCE_SRC_BOOT], before.by_source[MCE_SRC_BOOT] + 1);
	fake_mca_cap_value = 0; /* no MCA: nothing to set up */
	CHECK_EQ(mce_cpu_setup(), 0);
	fake_mca_cap_value = QEMU_CAP;
	CHECK_EQ(mce_cpu_setup(), 10);
	rt_teardown();
}

TEST(mce_runtime_poll_takes_grades_and_clears)
{
	struct mce_stats b, a;

	rt_setup(1, QEMU_CAP);
	b = stats();
	CHECK_EQ(mce_poll(MCE_SRC_POLL, false), 0);
	bank_set(0, 3, CE, 0, 0);
	bank_set(0, 4, UCNA_ADDR, 0x5000, MISC_PAGE);
	bank_set(0, 6, FATAL, 0, 0); /* polling never panics: graded UCNA */
	CHECK_EQ(mce_poll(MCE_SRC_POLL, false), 3);
	a = stats();
	CHECK_EQ(a.polls, b.polls + 2);
	CHECK_EQ(a.records, b.records + 3);
	CHECK_EQ(a.by_source[MCE_SRC_POLL], b.by_source[MCE_SRC_POLL] + 3);
	CHECK_EQ(a.by_grade[MCE_KEEP], b.by_grade[MCE_KEEP] + 1);
	CHECK_EQ(a.by_grade[MCE_UCNA], b.by_grade[MCE_UCNA] + 2);
	CHECK_EQ(a.by_action[MCE_ACT_QUEUE_MF], b.by_action[MCE_ACT_QUEUE_MF] + 1);
	CHECK_EQ(a.by_action[MCE_ACT_PANIC], b.by_action[MCE_ACT_PANIC]);
	CHECK_EQ(a.panics + a.fake_panics, b.panics + b.fake_panics);
	for (unsigned bank = 0; bank < 10; bank++)
		CHECK_EQ(fake_mca[0].bank[bank][MCA_REG_STATUS], 0);
	mce_drain();
	CHECK(strstr(fake_console, "CPU 0 Bank 3 (poll): KEEP \"Corrected error\"") != NULL);
	CHECK(strstr(fake_console, "CPU 0 Bank 6 (poll): UCNA") != NULL);

	/* ignore_ce: taken and cleared, but neither logged nor counted as a record */
	mce_cfg.ignore_ce = true;
	b = stats();
	bank_set(0, 3, CE, 0, 0);
	CHECK_EQ(mce_poll(MCE_SRC_POLL, false), 1);
	CHECK_EQ(stats().records, b.records);
	CHECK_EQ(fake_mca[0].bank[3][MCA_REG_STATUS], 0);
	rt_teardown();
}

/* Poll n corrected errors of bank on this CPU through the CMCI path. */
static void ce_burst(unsigned bank, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bank_set(fake_cpu_id, bank, CE, 0, 0);
		mce_poll(MCE_SRC_CMCI, true);
	}
}

TEST(mce_runtime_storm_begins_and_ends)
{
	struct mce_stats b, a;

	rt_setup(4, CMCI_CAP);
	fake_cpu_id = 3;
	mce_cfg.storm_threshold = 5;
	mce_cfg.storm_window_ms = 100000;
	mce_cfg.storm_quiet_ms = 100000;
	REQUIRE(fake_mca[3].bank[5][MCA_REG_CTL2] & MCI_CTL2_CMCI_EN);
	b = stats();
	ce_burst(5, 4);
	CHECK(!mce_bank_in_storm(3, 5));
	ce_burst(5, 8);
	a = stats();
	CHECK(mce_bank_in_storm(3, 5));
	CHECK(!mce_bank_in_storm(3, 4));
	CHECK_EQ(a.storms_begun, b.storms_begun + 1);
	CHECK_EQ(a.records, b.records + 5); /* 4 before, the one that started it */
	CHECK_EQ(a.storm_suppressed, b.storm_suppressed + 7);
	CHECK_EQ(a.cmcis, b.cmcis + 12);
	CHECK(!(fake_mca[3].bank[5][MCA_REG_CTL2] & MCI_CTL2_CMCI_EN)); /* CMCI off in a storm */
	CHECK(fake_mca[3].bank[4][MCA_REG_CTL2] & MCI_CTL2_CMCI_EN);
	mce_storm_check(); /* not quiet long enough */
	CHECK(mce_bank_in_storm(3, 5));
	mce_cfg.storm_quiet_ms = 0;
	mce_storm_check();
	CHECK(!mce_bank_in_storm(3, 5));
	CHECK_EQ(stats().storms_ended, b.storms_ended + 1);
	CHECK(fake_mca[3].bank[5][MCA_REG_CTL2] & MCI_CTL2_CMCI_EN);
	mce_drain();
	CHECK(strstr(fake_console, "CPU 3 Bank 5: corrected error storm") != NULL);
	CHECK(strstr(fake_console, "CPU 3 Bank 5: storm over (7 errors not logged)") != NULL);

	/* errors spread over windows never add up to a storm */
	mce_cfg.storm_window_ms = 0;
	mce_cfg.storm_quiet_ms = 100000;
	b = stats();
	ce_burst(5, 20);
	CHECK(!mce_bank_in_storm(3, 5));
	CHECK_EQ(stats().storms_begun, b.storms_begun);
	CHECK_EQ(stats().records, b.records + 20);
	rt_teardown();
}

TEST(mce_runtime_ring_overflow_counts_drops)
{
	struct mce_stats b, a;

	rt_setup(1, QEMU_CAP);
	mce_cfg.storm_threshold = 1000000;
	b = stats();
	for (unsigned i = 0; i < MCE_RING_SIZE + 8; i++) {
		bank_set(0, 4, CE, 0, 0);
		mce_poll(MCE_SRC_POLL, false);
	}
	a = stats();
	CHECK_EQ(a.records, b.records + MCE_RING_SIZE + 8);
	CHECK_EQ(a.dropped, b.dropped + 8);
	CHECK_EQ(mce_drain(), MCE_RING_SIZE);
	CHECK(strstr(fake_console, "log rings full: ") != NULL);
	bank_set(0, 4, CE, 0, 0);
	mce_poll(MCE_SRC_POLL, false);
	CHECK_EQ(stats().dropped, a.dropped); /* room again after the drain */
	CHECK_EQ(mce_drain(), 1);
	rt_teardown();
}

TEST(mce_runtime_knob_parsing)
{
	rt_setup(1, QEMU_CAP);
	mce_config_parse("mce.monarch_timeout_ms=250 mce.poll_ms=0x20 mce.cmci=0 mce.ignore_ce=1 "
			 "mce.fake_panic=1 mce.no_rendezvous_cpu=1 mce.storm_threshold=0 "
			 "mce.storm_quiet_ms=77 mce.ser=0");
	CHECK_EQ(mce_cfg.monarch_timeout_ms, 250);
	CHECK_EQ(mce_cfg.poll_ms, 0x20);
	CHECK(!mce_cfg.cmci && mce_cfg.ignore_ce && mce_cfg.fake_panic && !mce_cfg.ser);
	CHECK_EQ(mce_cfg.no_rendezvous_cpu, 1);
	CHECK_EQ(mce_cfg.storm_threshold, 1); /* at least one */
	CHECK_EQ(mce_cfg.storm_quiet_ms, 77);
	CHECK(mce_cfg.lmce && mce_cfg.timeout_panic); /* untouched */
	mce_cfg = defaults;
	mce_config_parse("mce.poll_ms=abc mce.monarch_timeout_ms=12x mce.no_rendezvous_cpu=1024 "
			 "mce.cmci"); /* 1024 = MAX_CPUS: no such CPU */
	CHECK_EQ(mce_cfg.poll_ms, defaults.poll_ms);
	CHECK_EQ(mce_cfg.monarch_timeout_ms, defaults.monarch_timeout_ms);
	CHECK_EQ(mce_cfg.no_rendezvous_cpu, -1);
	CHECK(mce_cfg.cmci);
	mce_config_parse(NULL);
	rt_teardown();
}

static const char *show(const char *path)
{
	static char buf[4096];

	if (mce_ctl_show(path, buf, sizeof buf) < 0)
		return "(error)";
	return buf;
}

#define KNOB(name) "/sys/devices/system/machinecheck/machinecheck0/" name
#define INJF(name) "/sys/kernel/debug/mce-inject/" name

static long store(const char *path, const char *s)
{
	return mce_ctl_store(path, s, strlen(s));
}

TEST(mce_runtime_knob_files)
{
	rt_setup(2, CMCI_CAP);
	CHECK(!strcmp(show(KNOB("check_interval")), "1\n"));
	CHECK_EQ(store(KNOB("check_interval"), "5\n"), 2);
	CHECK_EQ(mce_cfg.poll_ms, 5000);
	CHECK(!strcmp(show(KNOB("poll_ms")), "5000\n"));
	for (unsigned i = 0; i < 6; i++) {
		static const char *const bad[] = {"5x",	  "", "\n", "-1", "99999999999999999999",
						  "86401"};

		/* past 64 bits is -ERANGE, as Linux's kstrtoul says; the rest -EINVAL */
		CHECK_EQ(store(KNOB("check_interval"), bad[i]), i == 4 ? -ERANGE : -EINVAL);
		CHECK_EQ(mce_cfg.poll_ms, 5000);
	}
	CHECK_EQ(mce_ctl_store(KNOB("check_interval"), "7\0", 2), -EINVAL);
	CHECK(!strcmp(show(KNOB("monarch_timeout")), "1000000\n"));
	CHECK_EQ(store(KNOB("monarch_timeout"), "1500"), 4);
	CHECK_EQ(mce_cfg.monarch_timeout_ms, 2); /* rounded up to whole milliseconds */
	CHECK(!strcmp(show(KNOB("monarch_timeout")), "2000\n"));
	CHECK_EQ(store(KNOB("ignore_ce"), "2"), -EINVAL);
	CHECK(!mce_cfg.ignore_ce);
	CHECK_EQ(store(KNOB("ignore_ce"), "1"), 1);
	CHECK(mce_cfg.ignore_ce && !strcmp(show(KNOB("ignore_ce")), "1\n"));
	CHECK_EQ(store(KNOB("storm_threshold"), "0"), -EINVAL);
	CHECK_EQ(store(KNOB("storm_threshold"), "9"), 1);
	CHECK_EQ(mce_cfg.storm_threshold, 9);

	/* cmci_disabled gives every CPU's banks back to polling, and takes them again */
	CHECK(!strcmp(show(KNOB("cmci_disabled")), "0\n"));
	CHECK_EQ(store(KNOB("cmci_disabled"), "1"), 1);
	CHECK(!mce_cfg.cmci && !strcmp(show(KNOB("cmci_disabled")), "1\n"));
	for (unsigned c = 0; c < 2; c++)
		for (unsigned b = 0; b < 10; b++)
			CHECK(!(fake_mca[c].bank[b][MCA_REG_CTL2] & MCI_CTL2_CMCI_EN));
	CHECK(!mce_cmci_owns(1));
	CHECK_EQ(store(KNOB("cmci_disabled"), "0"), 1);
	for (unsigned c = 0; c < 2; c++)
		for (unsigned b = 0; b < 10; b++)
			CHECK(fake_mca[c].bank[b][MCA_REG_CTL2] & MCI_CTL2_CMCI_EN);
	CHECK(mce_cmci_owns(1));

	CHECK_EQ(mce_ctl_show(KNOB("nonesuch"), NULL, 0), -ENOENT);
	CHECK_EQ(mce_ctl_show(INJF("bank"), NULL, 0), -EACCES);
	CHECK_EQ(store("/sys/kernel/debug/mce/counters", "0"), -EACCES);
	rt_teardown();
}

TEST(mce_runtime_counter_and_coverage_files)
{
	char want[64];
	struct mce_stats s;

	rt_setup(1, QEMU_CAP);
	bank_set(0, 3, CE, 0, 0);
	mce_poll(MCE_SRC_POLL, false);
	s = stats();
	snprintf(want, sizeof want, "records %llu\n", (unsigned long long)s.records);
	CHECK(strstr(show("/sys/kernel/debug/mce/counters"), want) != NULL);
	snprintf(want, sizeof want, "\ngrade_KEEP %llu\n",
		 (unsigned long long)s.by_grade[MCE_KEEP]);
	CHECK(strstr(show("/sys/kernel/debug/mce/counters"), want) != NULL);
	snprintf(want, sizeof want, "\nsource_poll %llu\n",
		 (unsigned long long)s.by_source[MCE_SRC_POLL]);
	CHECK(strstr(show("/sys/kernel/debug/mce/counters"), want) != NULL);
	CHECK(strstr(show("/sys/kernel/debug/mce/severities-coverage"), "\tCorrected error\n"));
	rt_teardown();
}

TEST(mce_runtime_debugfs_injection)
{
	struct mce_stats b, a;

	rt_setup(2, QEMU_CAP);
	b = stats();
	CHECK_EQ(store(INJF("cpu"), "1"), 1);
	CHECK_EQ(store(INJF("status"), "0x9000000000000017"), 18);
	CHECK(!strcmp(show(INJF("status")), "9000000000000017\n"));
	CHECK_EQ(store(INJF("addr"), "0"), 1);
	CHECK_EQ(store(INJF("misc"), "0"), 1);
	CHECK_EQ(store(INJF("mcgstatus"), "0"), 1);
	CHECK_EQ(store(INJF("flags"), "df"), -EINVAL);
	CHECK_EQ(store(INJF("flags"), "sw"), 2);
	CHECK_EQ(store(INJF("cpu"), "1024"), -EINVAL); /* MAX_CPUS */
	CHECK_EQ(store(INJF("bank"), "10"), -EINVAL); /* 10 banks: 0..9 */
	CHECK_EQ(stats().records, b.records);
	CHECK_EQ(store(INJF("bank"), "3"), 1);
	a = stats();
	CHECK_EQ(a.records, b.records + 1);
	CHECK_EQ(a.by_source[MCE_SRC_POLL], b.by_source[MCE_SRC_POLL] + 1);
	CHECK(strstr(fake_console, "CPU 1 Bank 3 (poll): KEEP") == NULL); /* not printed yet: */
	CHECK(work_pending());                 /* the drain is queued for a kernel worker */
	CHECK(work_run_pending() >= 1);
	CHECK(strstr(fake_console, "CPU 1 Bank 3 (poll): KEEP") != NULL);
	CHECK_EQ(store(INJF("cpu"), "2"), 1); /* not online: the bank write refuses */
	CHECK_EQ(store(INJF("bank"), "3"), -EINVAL);
	CHECK_EQ(store(INJF("text"), "CPU 0 BANK 2 STATUS CORRECTED POLL\n"), 35);
	CHECK_EQ(stats().records, a.records + 1);
	CHECK_EQ(store(INJF("text"), "CPU 0 BANK 2 FROB\n"), -EINVAL);
	CHECK_EQ(store(INJF("text"), "# nothing\n"), -EINVAL);
	CHECK_EQ(stats().records, a.records + 1);
	rt_teardown();
}

/* Inject one record of mce-inject text; returns the injector's result. */
static int inject(const char *text)
{
	return mce_inject_text(text, strlen(text));
}

TEST(mce_runtime_injector_delivery_flags)
{
	struct mce_stats b, a;
	unsigned mc, cmci;

	rt_setup(2, QEMU_CAP);
	mce_cfg.monarch_timeout_ms = 0; /* each CPU decides alone: the fakes run CPUs in turn */
	mce_cfg.fake_panic = true;
	mce_cfg.fake_cmci = true;
	for (unsigned c = 0; c < 2; c++) { /* CMCI faked on both CPUs */
		fake_cpu_id = c;
		mce_cmci_reconfigure(NULL);
	}
	fake_cpu_id = 0;

	b = stats(), mc = fake_mca_mc_raised, cmci = fake_mca_cmci_raised;
	CHECK_EQ(inject("CPU 0 BANK 1 STATUS CORRECTED"), 1); /* corrected: polled */
	CHECK_EQ(inject("CPU 1 BANK 1 STATUS UNCORRECTED SRAO 0xc0 POLL"), 1);
	a = stats();
	CHECK_EQ(a.by_source[MCE_SRC_POLL], b.by_source[MCE_SRC_POLL] + 2);
	CHECK_EQ(fake_mca_mc_raised, mc);
	CHECK_EQ(inject("CPU 0 BANK 2 STATUS CORRECTED CMCI"), 1);
	CHECK_EQ(fake_mca_cmci_raised, cmci + 1);
	CHECK_EQ(stats().by_source[MCE_SRC_CMCI], b.by_source[MCE_SRC_CMCI] + 1);

	b = stats(), mc = fake_mca_mc_raised;
	CHECK_EQ(inject("CPU 0 BANK 1 STATUS 0xbd000000000000c0 ADDR 0x1234000 MISC 0x8c "
			"MCGSTATUS MCIP RIPV"),
		 1); /* uncorrected: #MC on every CPU */
	CHECK_EQ(fake_mca_mc_raised, mc + 2);
	CHECK_EQ(stats().by_grade[MCE_AO], b.by_grade[MCE_AO] + 1);
	CHECK_EQ(stats().mc_events, b.mc_events + 2);
	CHECK_EQ(inject("CPU 1 BANK 1 STATUS 0xbd000000000000c0 ADDR 0x1234000 MISC 0x8c "
			"MCGSTATUS MCIP RIPV NOBROADCAST"),
		 1);
	CHECK_EQ(fake_mca_mc_raised, mc + 3);
	CHECK_EQ(fake_mca[1].mcg[MCG_REG_STATUS], 0); /* MCIP cleared at the end */

	/* HOLD: nothing raised until the record without HOLD; then both CPUs poll */
	b = stats();
	CHECK_EQ(inject("CPU 0 BANK 1 STATUS CORRECTED HOLD\nCPU 1 BANK 2 STATUS CORRECTED"), 2);
	CHECK_EQ(stats().by_source[MCE_SRC_POLL], b.by_source[MCE_SRC_POLL] + 2);

	/* a faked user-mode context makes a data-load SRAR recoverable */
	b = stats();
	CHECK_EQ(inject("CPU 0 BANK 1 STATUS SRAR UNCORRECTED 0x134 ADDR 0x12345000 MISC 0x8c "
			"MCGSTATUS MCIP RIPV EIPV RIP 0x73:0x400000 NOBROADCAST"),
		 1);
	CHECK_EQ(stats().by_action[MCE_ACT_AR_USER], b.by_action[MCE_ACT_AR_USER] + 1);
	CHECK_EQ(stats().fake_panics, b.fake_panics);
	/* ... and the same in the kernel is fatal (fake panic here) */
	CHECK_EQ(inject("CPU 0 BANK 1 STATUS SRAR UNCORRECTED 0x134 ADDR 0x12345000 MISC 0x8c "
			"MCGSTATUS MCIP RIPV EIPV NOBROADCAST"),
		 1);
	CHECK_EQ(stats().fake_panics, b.fake_panics + 1);
	work_run_pending(); /* what a kernel worker does next */
	CHECK(strstr(fake_console, "mce: fake panic: Data load in unrecoverable area of kernel"));

	/* bad targets */
	mc = fake_mca_mc_raised;
	CHECK_EQ(inject("CPU 0 BANK 12 STATUS FATAL MCGSTATUS MCIP"), -EINVAL);
	CHECK_EQ(fake_mca_mc_raised, mc);
	CHECK_EQ(inject("CPU 7 BANK 1 STATUS CORRECTED"), 1);
	CHECK(strstr(fake_console, "CPU 7 is not online; using CPU 1") != NULL);
	rt_teardown();
}

TEST(mce_runtime_rendezvous_timeout)
{
	struct mce_stats b, a;
	struct mce_entry e = {.ip = 0xffffffff80001000ull, .cs = 0x10};

	rt_setup(2, QEMU_CAP); /* CPU 1 never arrives: the fakes run one CPU at a time */
	mce_cfg.monarch_timeout_ms = 5;
	mce_cfg.fake_panic = true;
	b = stats();
	bank_set(0, 1, SRAO, 0x1234000, MISC_PAGE);
	fake_mca[0].mcg[MCG_REG_STATUS] = MC_RIPV;
	CHECK_EQ(mce_handle_mc(&e), 0);
	a = stats();
	CHECK_EQ(a.timeouts, b.timeouts + 1);
	CHECK_EQ(a.fake_panics, b.fake_panics + 1);
	CHECK_EQ(a.by_grade[MCE_AO], b.by_grade[MCE_AO] + 1);
	CHECK_EQ(fake_mca[0].mcg[MCG_REG_STATUS], 0);
	CHECK_EQ(fake_mca[0].bank[1][MCA_REG_STATUS], 0);
	mce_drain();
	CHECK(strstr(fake_console, "mce: fake panic: " MCE_MSG_TIMEOUT) != NULL);
	CHECK(strstr(fake_console, "(1 of 2 CPUs arrived)") != NULL);

	/* a panic the grading decided keeps its own reason */
	fake_console_clear();
	bank_set(0, 2, FATAL, 0, 0);
	fake_mca[0].mcg[MCG_REG_STATUS] = MC_RIPV;
	mce_handle_mc(&e);
	mce_drain();
	CHECK(strstr(fake_console, "mce: fake panic: Processor context corrupt") != NULL);

	/* mce.timeout_panic=0: the timeout is reported, the SRAO frame still queued */
	mce_cfg.timeout_panic = false;
	fake_console_clear();
	b = stats();
	bank_set(0, 1, SRAO, 0x1234000, MISC_PAGE);
	fake_mca[0].mcg[MCG_REG_STATUS] = MC_RIPV;
	mce_handle_mc(&e);
	a = stats();
	CHECK_EQ(a.timeouts, b.timeouts + 1);
	CHECK_EQ(a.fake_panics, b.fake_panics);
	CHECK_EQ(a.by_action[MCE_ACT_QUEUE_MF], b.by_action[MCE_ACT_QUEUE_MF] + 1);

	/* the next event meets afresh (the meeting was reset) */
	b = stats();
	fake_mca[0].mcg[MCG_REG_STATUS] = MC_RIPV;
	bank_set(0, 1, SRAO, 0x1234000, MISC_PAGE);
	mce_handle_mc(&e);
	CHECK_EQ(stats().timeouts, b.timeouts + 1);
	CHECK_EQ(stats().by_grade[MCE_AO], b.by_grade[MCE_AO] + 1);
	rt_teardown();
}

/* Each fake CPU reads its banks and decides alone, as in mc_scan; the monarch's fold of the
 * decisions must not depend on the order the CPUs arrived in. */
static void decide_cpu(unsigned cpu, bool user, struct mce_decision *d)
{
	struct mce_record recs[10];
	struct mce_ctx ctx;
	size_t n = 0;

	fake_cpu_id = cpu;
	mce_ctx_init(&ctx, true, fake_mca[cpu].mcg[MCG_REG_STATUS]);
	ctx.user_mode = user;
	for (unsigned b = 0; b < 10; b++) {
		mce_read_bank(b, ctx.mcg_status, MCE_SRC_MC, &recs[n]);
		if (recs[n].status & MCI_STATUS_VAL)
			n++;
	}
	mce_decide(recs, n, &ctx, d, NULL);
	fake_cpu_id = 0;
}

static void check_all_orders(const struct mce_decision d[4], enum mce_action want,
			     enum mce_grade worst, const char *msg, unsigned n_queue)
{
	static const unsigned perms[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2},
					    {2, 0, 3, 1}, {1, 0, 2, 3}, {3, 1, 2, 0}};

	for (size_t p = 0; p < ARRAY_SIZE(perms); p++) {
		struct mce_decision g = d[perms[p][0]];

		for (unsigned i = 1; i < 4; i++)
			mce_decision_merge(&g, &d[perms[p][i]]);
		CHECK_EQ(g.action, want);
		CHECK_EQ(g.worst, worst);
		CHECK(g.msg && !strcmp(g.msg, msg));
		CHECK_EQ(g.n_queue, n_queue);
	}
}

TEST(mce_runtime_merge_across_cpus)
{
	struct mce_decision d[4];

	rt_setup(4, QEMU_CAP);
	for (unsigned c = 0; c < 4; c++)
		fake_mca[c].mcg[MCG_REG_STATUS] = MC_RIPV | MCG_STATUS_EIPV;
	bank_set(0, 1, SRAO, 0x1234000, MISC_PAGE);	    /* AO: queue */
	bank_set(2, 1, SRAR_DATA, 0x5000, MISC_PAGE);	    /* AR in user mode */
	bank_set(3, 4, 0xbc00000000000000ull | 0x17, 0, 0); /* UCNA-like without addr: log */
	for (unsigned c = 0; c < 4; c++)
		decide_cpu(c, c == 2, &d[c]);
	CHECK_EQ(d[1].action, MCE_ACT_NONE);
	check_all_orders(d, MCE_ACT_AR_USER, MCE_AR,
			 "Action required: data load error in a user process", 1);

	bank_set(1, 7, FATAL, 0, 0); /* now CPU 1 saw a fatal error: it wins everywhere */
	decide_cpu(1, false, &d[1]);
	check_all_orders(d, MCE_ACT_PANIC, MCE_PANIC, "Processor context corrupt", 1);
	for (unsigned c = 0; c < 4; c++)
		memset(fake_mca[c].bank, 0, sizeof fake_mca[c].bank);
	rt_teardown();
}
