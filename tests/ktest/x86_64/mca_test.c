/* In-kernel tests of the machine-check runtime (test=mce): the banks are armed, bank registers
 * round-trip, and the software injector drives the poller, the #MC path (SRAO queued for
 * memory_failure, a fatal error under fake panic) and the CMCI path. Run with -smp 2 and, for
 * the CMCI test, mce.fake_cmci=1 (QEMU has no CMCI); on QEMU TCG, where bank writes stick. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "kerrno.h"
#include "ktest.h"
#include "mce_core.h"
#include "task.h"
#include "x86.h"

#define WAIT_NS 500000000ull
#define TEST_BANK 3
#define CE_STATUS (MCI_STATUS_VAL | MCI_STATUS_EN | 0x0101ull)
#define SRAO_STATUS 0xbd000000000000c0ull
#define FATAL_STATUS (MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | MCI_STATUS_PCC)
#define MISC_PHYS_PAGE 0x8cull /* mode 2 (physical), LSB 12 */

/* Wait until *counter passes old. The log drain runs on a kernel worker: on another CPU, or
 * on this one when the test (the boot CPU's idle context) schedules and lets it run. */
static bool wait_counter(const uint64_t *counter, uint64_t old)
{
	uint64_t end = arch_time_ns() + WAIT_NS;

	while (__atomic_load_n(counter, __ATOMIC_RELAXED) <= old && arch_time_ns() < end) {
		schedule();
		arch_cpu_relax();
	}
	return __atomic_load_n(counter, __ATOMIC_RELAXED) > old;
}

static struct mce_stats snap(void)
{
	struct mce_stats s;

	mce_get_stats(&s);
	return s;
}

static struct mce_inj_record inj(unsigned bank, uint64_t status, uint64_t mcg, uint32_t flags)
{
	struct mce_inj_record r = {.flags = flags};

	r.rec.cpu = 0;
	r.rec.bank = (uint8_t)bank;
	r.rec.status = status;
	r.rec.mcg_status = mcg;
	return r;
}

KTEST(mce, init_state)
{
	uint64_t cap = arch_mca_cap();

	KT_EXPECT(mcg_cap_count(cap) >= 1);
	KT_EXPECT(read_cr4() & CR4_MCE);
	if (mcg_cap_ctl_p(cap))
		KT_EXPECT(arch_mcg_read(MCG_REG_CTL) == ~0ull);
	for (unsigned b = 0; b < mcg_cap_count(cap) && b < MCE_MAX_BANKS; b++)
		KT_EXPECT(arch_mca_bank_read(b, MCA_REG_CTL) == ~0ull);
}

KTEST(mce, bank_round_trip)
{
	irqflags_t f = arch_irq_save(); /* keep the poller off this bank meanwhile */

	arch_mca_bank_write(TEST_BANK, MCA_REG_ADDR, 0x5000);
	arch_mca_bank_write(TEST_BANK, MCA_REG_MISC, MISC_PHYS_PAGE);
	arch_mca_bank_write(TEST_BANK, MCA_REG_STATUS, CE_STATUS);
	KT_EXPECT(arch_mca_bank_read(TEST_BANK, MCA_REG_STATUS) == CE_STATUS);
	KT_EXPECT(arch_mca_bank_read(TEST_BANK, MCA_REG_ADDR) == 0x5000);
	KT_EXPECT(arch_mca_bank_read(TEST_BANK, MCA_REG_MISC) == MISC_PHYS_PAGE);
	arch_mca_bank_write(TEST_BANK, MCA_REG_STATUS, 0);
	KT_EXPECT(arch_mca_bank_read(TEST_BANK, MCA_REG_STATUS) == 0);
	arch_irq_restore(f);
}

KTEST(mce, poll_finds_corrected)
{
	struct mce_stats before = snap(), after;
	struct mce_inj_record r = inj(TEST_BANK, CE_STATUS, 0, MCE_INJ_POLL);

	KT_EXPECT(mce_inject_one(&r) == 0);
	after = snap();
	KT_EXPECT(after.by_source[MCE_SRC_POLL] == before.by_source[MCE_SRC_POLL] + 1);
	KT_EXPECT(after.by_grade[MCE_KEEP] == before.by_grade[MCE_KEEP] + 1);
	KT_EXPECT(arch_mca_bank_read(TEST_BANK, MCA_REG_STATUS) == 0);
}

KTEST(mce, srao_queued_for_memory_failure)
{
	struct mce_stats before = snap(), after;
	struct mce_inj_record r = inj(1, SRAO_STATUS, MCG_STATUS_MCIP | MCG_STATUS_RIPV,
				      MCE_INJ_EXCP);

	r.rec.addr = 0x1234000;
	r.rec.misc = MISC_PHYS_PAGE;
	KT_EXPECT(mce_inject_one(&r) == 0);
	KT_EXPECT(wait_counter(&mce_stats_live_view()->mf_queued, before.mf_queued));
	after = snap();
	KT_EXPECT(after.by_grade[MCE_AO] == before.by_grade[MCE_AO] + 1);
	KT_EXPECT(after.by_action[MCE_ACT_QUEUE_MF] == before.by_action[MCE_ACT_QUEUE_MF] + 1);
	KT_EXPECT(after.mc_events >= before.mc_events + arch_cpu_count());
	KT_EXPECT(after.panics == before.panics);
	KT_EXPECT(arch_mca_bank_read(1, MCA_REG_STATUS) == 0);
	KT_EXPECT((arch_mcg_read(MCG_REG_STATUS) & MCG_STATUS_MCIP) == 0);
}

KTEST(mce, fatal_under_fake_panic)
{
	bool saved = mce_cfg.fake_panic;
	struct mce_stats before = snap(), after;
	struct mce_inj_record r = inj(2, FATAL_STATUS, MCG_STATUS_MCIP | MCG_STATUS_RIPV,
				      MCE_INJ_EXCP);

	mce_cfg.fake_panic = true;
	KT_EXPECT(mce_inject_one(&r) == 0);
	KT_EXPECT(wait_counter(&mce_stats_live_view()->fake_panics, before.fake_panics));
	mce_cfg.fake_panic = saved;
	after = snap();
	KT_EXPECT(after.by_grade[MCE_PANIC] == before.by_grade[MCE_PANIC] + 1);
	KT_EXPECT(arch_mca_bank_read(2, MCA_REG_STATUS) == 0);
}

KTEST(mce, cmci_path)
{
	struct mce_stats before = snap(), after;
	struct mce_inj_record r = inj(TEST_BANK, CE_STATUS, 0, MCE_INJ_CMCI);

	if (!mce_cfg.fake_cmci && !mcg_cap_cmci_p(arch_mca_cap())) {
		printk("    # SKIP: no CMCI (boot with mce.fake_cmci=1)\n");
		return;
	}
	KT_EXPECT(mce_inject_one(&r) == 0);
	KT_EXPECT(wait_counter(&mce_stats_live_view()->cmcis, before.cmcis));
	after = snap();
	KT_EXPECT(after.by_source[MCE_SRC_CMCI] == before.by_source[MCE_SRC_CMCI] + 1);
	KT_EXPECT(arch_mca_bank_read(TEST_BANK, MCA_REG_STATUS) == 0);
}

KTEST(mce, cmci_storm_begins_and_ends)
{
	struct mce_stats before = snap(), after;
	struct mce_inj_record r = inj(TEST_BANK, CE_STATUS, 0, MCE_INJ_CMCI);
	uint64_t end;

	if (!mce_cfg.fake_cmci && !mcg_cap_cmci_p(arch_mca_cap()))
		return;
	for (unsigned i = 0; i < 2 * mce_cfg.storm_threshold; i++)
		mce_inject_one(&r);
	after = snap();
	KT_EXPECT(after.storms_begun == before.storms_begun + 1);
	KT_EXPECT(mce_bank_in_storm(0, TEST_BANK));
	KT_EXPECT(after.storm_suppressed > before.storm_suppressed);
	end = arch_time_ns() + (mce_cfg.storm_quiet_ms + 2 * mce_cfg.poll_ms + 500) * 1000000ull;
	while (mce_bank_in_storm(0, TEST_BANK) && arch_time_ns() < end)
		arch_wait_for_interrupt();
	KT_EXPECT(!mce_bank_in_storm(0, TEST_BANK));
	KT_EXPECT(snap().storms_ended == before.storms_ended + 1);
}

#define BURST 10000

/* Suite mceburst: BURST corrected errors in one bank as fast as the CPU can poll them (each
 * one written and taken with interrupts off, so the timer's own poll cannot take a record
 * twice; between them the timer runs). Every error is either logged or counted as suppressed
 * by storm control; the ring drops only what was logged; the bank enters storm mode once and
 * leaves it after mce.storm_quiet_ms (the timer's storm check, so ticks keep coming), and the
 * log still works normally afterwards. */
KTEST(mceburst, ten_thousand_corrected)
{
	struct mce_stats before = snap(), after;
	struct mce_inj_record one = inj(TEST_BANK, CE_STATUS, 0, MCE_INJ_POLL);
	unsigned taken = 0;
	uint64_t end;

	mce_drain();
	for (unsigned i = 0; i < BURST; i++) {
		irqflags_t f = arch_irq_save();

		arch_mca_bank_write(TEST_BANK, MCA_REG_STATUS, CE_STATUS);
		taken += mce_poll(MCE_SRC_POLL, false);
		arch_irq_restore(f);
	}
	after = snap();
	KT_EXPECT(taken == BURST);
	KT_EXPECT(after.records - before.records + after.storm_suppressed - before.storm_suppressed ==
		  BURST);
	KT_EXPECT(after.dropped - before.dropped <= after.records - before.records);
	KT_EXPECT(after.storms_begun == before.storms_begun + 1);
	KT_EXPECT(mce_bank_in_storm(0, TEST_BANK));
	printk("    # %u errors: %llu logged, %llu suppressed, %llu dropped\n", BURST,
	       (unsigned long long)(after.records - before.records),
	       (unsigned long long)(after.storm_suppressed - before.storm_suppressed),
	       (unsigned long long)(after.dropped - before.dropped));
	end = arch_time_ns() + (mce_cfg.storm_quiet_ms + 2 * mce_cfg.poll_ms + 500) * 1000000ull;
	while (mce_bank_in_storm(0, TEST_BANK) && arch_time_ns() < end)
		arch_wait_for_interrupt();
	KT_EXPECT(!mce_bank_in_storm(0, TEST_BANK));
	KT_EXPECT(snap().storms_ended == before.storms_ended + 1);
	mce_drain();
	before = snap();
	KT_EXPECT(mce_inject_one(&one) == 0);
	after = snap();
	KT_EXPECT(after.records == before.records + 1);
	KT_EXPECT(after.storm_suppressed == before.storm_suppressed);
	KT_EXPECT(after.dropped == before.dropped);
}

/* An SRAR consumed by the kernel inside a user copy: the #MC handler resumes at the copy's
 * exception-table fixup, so the copy reports -EFAULT instead of the kernel panicking. A
 * deliberate `int $18` stands in for the faulting load; the CPU saves the RIP after it, so the
 * exception-table entry is on the instruction that follows. Returns 0 if execution fell
 * through (not redirected), -EFAULT if it resumed at the fixup. */
static int mc_inside_copy(void)
{
	int err = 1;
	__asm__ volatile("int $18\n"
			 "1: movl $0, %0\n"
			 "2:\n"
			 ".pushsection .fixup, \"ax\"\n"
			 "3: movl %1, %0\n"
			 "   jmp 2b\n"
			 ".popsection\n" ASM_EXTABLE(1b, 3b)
			 : "+r"(err)
			 : "i"(-EFAULT)
			 : "memory");
	return err;
}

KTEST(mce, srar_in_kernel_at_fixup_returns_efault)
{
	struct mce_config saved = mce_cfg;
	struct mce_stats before = snap(), after;
	/* Only this CPU takes the #MC: let the rendezvous time out quickly and carry on. */
	mce_cfg.timeout_panic = false;
	mce_cfg.monarch_timeout_ms = 20;
	arch_mca_bank_write(1, MCA_REG_ADDR, 0x1234000);
	arch_mca_bank_write(1, MCA_REG_MISC, MISC_PHYS_PAGE);
	arch_mca_bank_write(1, MCA_REG_STATUS, 0xbd80000000100134ull); /* SRAR data load */
	arch_mcg_write(MCG_REG_STATUS, MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV);
	int r = mc_inside_copy();
	mce_cfg = saved;
	after = snap();
	KT_EXPECT(r == -EFAULT);
	KT_EXPECT(after.ar_kernel_fixups == before.ar_kernel_fixups + 1);
	KT_EXPECT(after.panics == before.panics);
	KT_EXPECT(arch_mca_bank_read(1, MCA_REG_STATUS) == 0);
}
