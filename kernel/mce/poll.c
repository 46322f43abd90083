/* Corrected errors: the poll timer, the CMCI handler's bank scan, and storm control.
 *
 * Corrected errors never raise #MC: the CPU reports them by CMCI (when MCG_CAP has CMCI_P and
 * the bank's CTL2 enables it) or not at all, so every CPU also polls its banks every
 * mce.poll_ms from its timer tick. A poll takes every valid bank (a #MC cannot be in progress
 * underneath: it would have run to completion before this interrupt continued), grades it as
 * polling (never a panic), logs it into the IRQ ring, and clears it.
 *
 * Storms: a bank that reports mce.storm_threshold corrected errors within mce.storm_window_ms
 * enters storm mode: its CMCI is switched off (CTL2 enable cleared, so a flood of interrupts
 * cannot livelock the CPU), only the first error of each window is logged (the rest are
 * counted), and the poller keeps reading it. After mce.storm_quiet_ms without an error the
 * bank returns to normal (CMCI back on). A corrected memory error storm control keeps off the
 * console still goes to the corrected-error collector, which counts every one (mce_cec.h).
 * The tick also starts the collector's decay when it is due. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "mce_cec.h"
#include "mce_priv.h"
#include "percpu.h"

#define NS_PER_MS 1000000ull
#define POLL_TICK_MS 10 /* arch_timer_set_tick runs at HZ = 100 */

struct storm {
	uint64_t window_start, last_ns;
	uint32_t count;	 /* errors in the current window */
	uint32_t logged; /* errors logged in the current window while in storm */
	uint64_t suppressed;
	bool on;
};
/* One CPU's storm state per bank and when it polls next. */
struct poll_cpu {
	struct storm storms[MCE_MAX_BANKS];
	uint64_t next_ns;
};
static DEFINE_PER_CPU(struct poll_cpu, poll_cpus);

bool mce_bank_in_storm(unsigned cpu, unsigned bank)
{
	if (cpu >= arch_cpu_count() || cpu >= MAX_CPUS || bank >= MCE_MAX_BANKS)
		return false;
	return __atomic_load_n(&per_cpu_ptr(poll_cpus, cpu)->storms[bank].on, __ATOMIC_RELAXED);
}

static void cmci_bank_enable(unsigned bank, bool on)
{
	uint64_t ctl2;

	if (!mce_cmci_owns(bank) || !mcg_cap_cmci_p(arch_mca_cap()))
		return;
	ctl2 = arch_mca_bank_read(bank, MCA_REG_CTL2);
	ctl2 = on ? ctl2 | MCI_CTL2_CMCI_EN : ctl2 & ~MCI_CTL2_CMCI_EN;
	arch_mca_bank_write(bank, MCA_REG_CTL2, ctl2);
}

bool mce_storm_note(unsigned bank, enum mce_ring_id id)
{
	struct storm *s = &per_cpu_ptr(poll_cpus, arch_cpu_id())->storms[bank];
	uint64_t now = arch_time_ns();

	if (now - s->window_start > mce_cfg.storm_window_ms * NS_PER_MS) {
		s->window_start = now;
		s->count = 0;
		s->logged = 0;
	}
	s->count++;
	s->last_ns = now;
	if (!s->on && s->count >= mce_cfg.storm_threshold) {
		__atomic_store_n(&s->on, true, __ATOMIC_RELAXED);
		s->suppressed = 0;
		s->logged = 1; /* this one */
		MCE_COUNT(storms_begun);
		cmci_bank_enable(bank, false);
		mce_log_event(id, MCE_LOG_STORM_ON, bank, NULL, 0);
		return true;
	}
	if (!s->on || s->logged++ == 0)
		return true;
	s->suppressed++;
	MCE_COUNT(storm_suppressed);
	return false;
}

void mce_storm_check(void)
{
	unsigned nb = mce_nbanks();
	uint64_t now = arch_time_ns();
	struct poll_cpu *p = per_cpu_ptr(poll_cpus, arch_cpu_id());

	for (unsigned b = 0; b < nb; b++) {
		struct storm *s = &p->storms[b];

		if (!s->on || now - s->last_ns < mce_cfg.storm_quiet_ms * NS_PER_MS)
			continue;
		__atomic_store_n(&s->on, false, __ATOMIC_RELAXED);
		s->count = 0;
		MCE_COUNT(storms_ended);
		cmci_bank_enable(b, true);
		mce_log_event(MCE_RING_IRQ, MCE_LOG_STORM_OFF, b, NULL, s->suppressed);
	}
}

unsigned mce_poll(enum mce_source src, bool only_owned)
{
	unsigned nb = mce_nbanks(), n = 0;
	uint64_t mcg = arch_mcg_read(MCG_REG_STATUS);
	struct mce_record r;
	struct mce_verdict v;
	struct mce_ctx ctx;
	bool cec;

	if (src == MCE_SRC_CMCI)
		MCE_COUNT(cmcis);
	else
		MCE_COUNT(polls);
	mce_count_event(MCE_EV_POLL);
	if (src == MCE_SRC_CMCI)
		mce_count_event(MCE_EV_CMCI);
	mce_ctx_init(&ctx, false, mcg);
	for (unsigned b = 0; b < nb; b++) {
		if (only_owned && !mce_cmci_owns(b))
			continue;
		mce_read_bank(b, mcg, src, &r);
		if (!(r.status & MCI_STATUS_VAL))
			continue;
		mce_judge(&r, &ctx, &v);
		n++;
		mce_clear_bank(b);
		if (v.action == MCE_ACT_NONE)
			continue;
		cec = mce_cec_wants(&r, &v);
		if (!(r.status & MCI_STATUS_UC) && !mce_storm_note(b, MCE_RING_IRQ)) {
			if (cec) /* the collector counts it even when the log does not show it */
				mce_log_quiet(MCE_RING_IRQ, &r, &v);
			continue;
		}
		mce_log_record(MCE_RING_IRQ, &r, &v, cec ? MCE_LOGF_CEC : 0);
	}
	return n;
}

void mce_tick(void)
{
	struct poll_cpu *p = per_cpu_ptr(poll_cpus, arch_cpu_id());
	uint64_t now;

	mce_cec_tick();
	if (!mce_nbanks() || !mce_cfg.poll_ms || mce_inject_holds_poll())
		return;
	now = arch_time_ns();
	if (now < p->next_ns)
		return;
	p->next_ns = now + MAX(mce_cfg.poll_ms, (uint64_t)POLL_TICK_MS) * NS_PER_MS;
	mce_poll(MCE_SRC_POLL, false);
	mce_storm_check();
}
