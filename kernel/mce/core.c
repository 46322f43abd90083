/* Machine-check runtime: the knobs, per-CPU discovery and set-up, bank access helpers, and
 * the counters. Each CPU, while it comes up and before it sets CR4.MCE, calls
 * mce_cpu_setup(): it decodes MCG_CAP, turns every error source on (MCG_CTL and every MCi_CTL
 * to all ones), logs what the banks still hold from before boot and clears it, claims CMCI
 * banks, and enables local machine checks when the platform allows them. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "boot_info.h"
#include "clock.h"
#include "irq_stat.h"
#include "kstring.h"
#include "mce_priv.h"
#include "memory_failure.h"
#include "percpu.h"
#include "printk.h"

#define ALL_ONES (~0ull)
#define CMCI_THRESHOLD 1 /* raise CMCI on every corrected error */

struct mce_config mce_cfg = {
	.monarch_timeout_ms = 1000,
	.poll_ms = 1000,
	.cmci = true,
	.lmce = true,
	.timeout_panic = true,
	.ser = true,
	.no_rendezvous_cpu = -1,
	.storm_threshold = 15,
	.storm_window_ms = 1000,
	.storm_quiet_ms = 3000,
};
struct mce_stats mce_stats_live;

/* What mce_cpu_setup found on each CPU. */
struct mce_cpu_caps {
	uint64_t cap;
	unsigned nbanks;
	uint32_t cmci_owned; /* bit b: this CPU owns bank b for CMCI */
	bool cmci, lmce;
};
static struct mce_cpu_caps cpu_caps[MAX_CPUS];

struct mce_cpu_events {
	uint64_t n[MCE_EV_COUNT];
};
static DEFINE_PER_CPU(struct mce_cpu_events, cpu_events);

void mce_count_event(enum mce_cpu_event ev)
{
	uint64_t *n = &per_cpu_ptr(cpu_events, arch_cpu_id())->n[ev];
	__atomic_store_n(n, *n + 1, __ATOMIC_RELAXED); /* only this CPU writes it */
}

static uint64_t event_count(unsigned cpu, enum mce_cpu_event ev)
{
	if (cpu >= arch_cpu_count() || cpu >= MAX_CPUS)
		return 0;
	return __atomic_load_n(&per_cpu_ptr(cpu_events, cpu)->n[ev], __ATOMIC_RELAXED);
}

static uint64_t irq_stat_mc(unsigned cpu) { return event_count(cpu, MCE_EV_MC); }
static uint64_t irq_stat_poll(unsigned cpu) { return event_count(cpu, MCE_EV_POLL); }
static uint64_t irq_stat_cmci(unsigned cpu) { return event_count(cpu, MCE_EV_CMCI); }

void mce_irq_stats_init(void)
{
	irq_stat_register(IRQ_STAT_MCE, irq_stat_mc);
	irq_stat_register(IRQ_STAT_MCP, irq_stat_poll);
	irq_stat_register(IRQ_STAT_THR, irq_stat_cmci);
}

static void parse_u64(const char *cmdline, const char *key, uint64_t *out)
{
	char v[24];
	uint64_t x;

	if (cmdline_get(cmdline, key, v, sizeof v) && kstrtou64(v, 0, &x) == 0)
		*out = x;
}

static void parse_bool(const char *cmdline, const char *key, bool *out)
{
	uint64_t x = *out;

	parse_u64(cmdline, key, &x);
	*out = x != 0;
}

void mce_config_parse(const char *cmdline)
{
	uint64_t cpu = ALL_ONES, thr = mce_cfg.storm_threshold;

	if (!cmdline)
		return;
	parse_u64(cmdline, "mce.monarch_timeout_ms", &mce_cfg.monarch_timeout_ms);
	parse_u64(cmdline, "mce.poll_ms", &mce_cfg.poll_ms);
	parse_bool(cmdline, "mce.cmci", &mce_cfg.cmci);
	parse_bool(cmdline, "mce.lmce", &mce_cfg.lmce);
	parse_bool(cmdline, "mce.ignore_ce", &mce_cfg.ignore_ce);
	parse_bool(cmdline, "mce.print_all", &mce_cfg.print_all);
	parse_bool(cmdline, "mce.panic_on_ce", &mce_cfg.panic_on_ce);
	parse_bool(cmdline, "mce.fake_panic", &mce_cfg.fake_panic);
	mf_set_fake_panic(mce_cfg.fake_panic); /* memory_failure's own panic follows it */
	parse_bool(cmdline, "mce.fake_cmci", &mce_cfg.fake_cmci);
	parse_bool(cmdline, "mce.timeout_panic", &mce_cfg.timeout_panic);
	parse_bool(cmdline, "mce.ser", &mce_cfg.ser);
	parse_u64(cmdline, "mce.no_rendezvous_cpu", &cpu);
	if (cpu < MAX_CPUS)
		mce_cfg.no_rendezvous_cpu = (int)cpu;
	parse_u64(cmdline, "mce.storm_threshold", &thr);
	mce_cfg.storm_threshold = (uint32_t)MAX(thr, 1ull);
	parse_u64(cmdline, "mce.storm_window_ms", &mce_cfg.storm_window_ms);
	parse_u64(cmdline, "mce.storm_quiet_ms", &mce_cfg.storm_quiet_ms);
}

void mce_config_print(void)
{
	const struct mce_cpu_caps *c = &cpu_caps[0];

	printk(KERN_INFO "mce: settings: monarch_timeout_ms=%llu poll_ms=%llu cmci=%d lmce=%d "
			 "ignore_ce=%d print_all=%d panic_on_ce=%d fake_panic=%d fake_cmci=%d "
			 "timeout_panic=%d ser=%d no_rendezvous_cpu=%d storm=%u/%llums quiet=%llums\n",
	       (unsigned long long)mce_cfg.monarch_timeout_ms,
	       (unsigned long long)mce_cfg.poll_ms, mce_cfg.cmci, mce_cfg.lmce, mce_cfg.ignore_ce,
	       mce_cfg.print_all,
	       mce_cfg.panic_on_ce, mce_cfg.fake_panic, mce_cfg.fake_cmci, mce_cfg.timeout_panic,
	       mce_cfg.ser, mce_cfg.no_rendezvous_cpu, mce_cfg.storm_threshold,
	       (unsigned long long)mce_cfg.storm_window_ms,
	       (unsigned long long)mce_cfg.storm_quiet_ms);
	if (!c->nbanks)
		return;
	printk(KERN_INFO "mce: CPU 0: %u banks, SER %s, CMCI %s, LMCE %s\n", c->nbanks,
	       !mcg_cap_ser_p(c->cap) ? "no (pre-SER grading)"
	       : mce_cfg.ser	      ? "yes"
				      : "ignored (mce.ser=0: pre-SER grading)",
	       c->cmci ? (mcg_cap_cmci_p(c->cap) ? "on" : "faked (mce.fake_cmci)")
		       : (mcg_cap_cmci_p(c->cap) ? "off (mce.cmci=0)" : "not supported: polling only"),
	       c->lmce ? "on"
	       : mcg_cap_lmce_p(c->cap)
		       ? "unavailable (firmware or emulator did not enable it; broadcast only)"
		       : "not supported");
	if (!arch_mca_is_intel())
		printk(KERN_WARNING "mce: not an Intel CPU: MCRK still reads the banks and logs "
				    "them, but grades by Intel's rules; vendor-specific codes are "
				    "not decoded and recovery may be wrong\n");
}

void mce_recovery_facts_of_boot_cpu(struct mce_recovery_facts *f)
{
	const struct mce_cpu_caps *c = &cpu_caps[0];
	f->cap = arch_mca_cap();
	f->has_mca = arch_mca_present();
	f->intel = arch_mca_is_intel();
	f->ser_enabled = mce_cfg.ser;
	f->lmce_on = c->lmce;
	f->cmci_on = c->cmci && mcg_cap_cmci_p(c->cap); /* real CMCI, not mce.fake_cmci */
}

unsigned mce_nbanks(void)
{
	return cpu_caps[arch_cpu_id()].nbanks;
}

bool mce_cmci_active(void)
{
	return cpu_caps[arch_cpu_id()].cmci;
}

bool mce_cmci_owns(unsigned bank)
{
	const struct mce_cpu_caps *c = &cpu_caps[arch_cpu_id()];

	return c->cmci && bank < 32 && (c->cmci_owned & (1u << bank));
}

bool mce_lmce_active(void)
{
	return cpu_caps[arch_cpu_id()].lmce;
}

void mce_ctx_init(struct mce_ctx *ctx, bool in_mc, uint64_t mcg_status)
{
	*ctx = (struct mce_ctx){
		.in_mc = in_mc,
		.ser = mcg_cap_ser_p(cpu_caps[arch_cpu_id()].cap) && mce_cfg.ser,
		.mcg_status = mcg_status,
		.ignore_ce = mce_cfg.ignore_ce,
		.panic_on_ce = mce_cfg.panic_on_ce,
	};
}

void mce_read_bank(unsigned bank, uint64_t mcg_status, enum mce_source src,
		   struct mce_record *r)
{
	memset(r, 0, sizeof *r);
	r->status = arch_mca_bank_read(bank, MCA_REG_STATUS);
	if (r->status & MCI_STATUS_ADDRV)
		r->addr = arch_mca_bank_read(bank, MCA_REG_ADDR);
	if (r->status & MCI_STATUS_MISCV)
		r->misc = arch_mca_bank_read(bank, MCA_REG_MISC);
	r->mcg_status = mcg_status;
	r->bank = (uint8_t)bank;
	r->source = (uint8_t)src;
	r->time = clock_wall_ns() / 1000000000ull; /* Linux's TIME: wall seconds, 0 unknown */
	arch_mca_fill_cpu(r);
}

void mce_clear_bank(unsigned bank)
{
	arch_mca_bank_write(bank, MCA_REG_STATUS, 0);
	arch_mca_bank_write(bank, MCA_REG_ADDR, 0);
	arch_mca_bank_write(bank, MCA_REG_MISC, 0);
}

/* Errors left in the banks by the previous boot (or firmware): log, then clear. */
static void scan_leftovers(unsigned nbanks)
{
	struct mce_record r;
	struct mce_verdict v;
	struct mce_ctx ctx;
	uint64_t mcg = arch_mcg_read(MCG_REG_STATUS);

	mce_ctx_init(&ctx, false, mcg);
	ctx.ignore_ce = false;
	ctx.panic_on_ce = false;
	for (unsigned b = 0; b < nbanks; b++) {
		mce_read_bank(b, mcg, MCE_SRC_BOOT, &r);
		if (!(r.status & MCI_STATUS_VAL))
			continue;
		mce_judge(&r, &ctx, &v);
		mce_log_record(MCE_RING_IRQ, &r, &v, 0);
		mce_clear_bank(b);
	}
	arch_mcg_write(MCG_REG_STATUS, 0);
}

/* Claim the banks nobody else owns for CMCI: a bank whose CTL2 enable bit already reads set
 * belongs to the CPU that set it (banks can be shared between the threads of a core). */
static uint32_t cmci_claim(unsigned nbanks)
{
	uint32_t owned = 0;

	for (unsigned b = 0; b < nbanks; b++) {
		uint64_t ctl2 = arch_mca_bank_read(b, MCA_REG_CTL2);

		if (ctl2 & MCI_CTL2_CMCI_EN)
			continue;
		ctl2 = (ctl2 & ~MCI_CTL2_THRESHOLD_MASK) | MCI_CTL2_CMCI_EN | CMCI_THRESHOLD;
		arch_mca_bank_write(b, MCA_REG_CTL2, ctl2);
		if (arch_mca_bank_read(b, MCA_REG_CTL2) & MCI_CTL2_CMCI_EN)
			owned |= 1u << b;
	}
	return owned;
}

unsigned mce_cpu_setup(void)
{
	unsigned cpu = arch_cpu_id();
	struct mce_cpu_caps *c = &cpu_caps[cpu];

	c->cap = arch_mca_cap();
	c->nbanks = MIN(mcg_cap_count(c->cap), (unsigned)MCE_MAX_BANKS);
	if (!c->nbanks)
		return 0;
	mce_log_init_cpu(cpu);
	if (mcg_cap_ctl_p(c->cap))
		arch_mcg_write(MCG_REG_CTL, ALL_ONES);
	for (unsigned b = 0; b < c->nbanks; b++)
		arch_mca_bank_write(b, MCA_REG_CTL, ALL_ONES);
	scan_leftovers(c->nbanks);
	if (mcg_cap_cmci_p(c->cap) && mce_cfg.cmci) {
		c->cmci_owned = cmci_claim(c->nbanks);
		c->cmci = true;
	} else if (mce_cfg.fake_cmci) {
		c->cmci_owned = (uint32_t)(BIT(c->nbanks) - 1);
		c->cmci = true;
	}
	c->lmce = mcg_cap_lmce_p(c->cap) && mce_cfg.lmce && arch_mca_lmce_enable();
	return c->nbanks;
}

void mce_cmci_reconfigure(void *arg)
{
	struct mce_cpu_caps *c = &cpu_caps[arch_cpu_id()];
	bool real = mcg_cap_cmci_p(c->cap);
	bool want = mce_cfg.cmci && (real || mce_cfg.fake_cmci);

	(void)arg;
	if (!c->nbanks || want == c->cmci)
		return;
	if (real && want) {
		c->cmci_owned = cmci_claim(c->nbanks);
	} else if (real) {
		for (unsigned b = 0; b < c->nbanks; b++)
			if (c->cmci_owned & (1u << b))
				arch_mca_bank_write(b, MCA_REG_CTL2,
						    arch_mca_bank_read(b, MCA_REG_CTL2) &
							    ~MCI_CTL2_CMCI_EN);
		c->cmci_owned = 0;
	} else {
		c->cmci_owned = want ? (uint32_t)(BIT(c->nbanks) - 1) : 0;
	}
	c->cmci = want;
}

const struct mce_stats *mce_stats_live_view(void)
{
	return &mce_stats_live;
}

void mce_get_stats(struct mce_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	const uint64_t *src = (const uint64_t *)&mce_stats_live;

	for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void mce_stats_print(void)
{
	struct mce_stats s;

	mce_get_stats(&s);
	printk(KERN_INFO "mce: stats: %llu records (NO %llu KEEP %llu SOME %llu UCNA %llu AO %llu "
			 "UC %llu AR %llu PANIC %llu), %llu dropped\n",
	       (unsigned long long)s.records, (unsigned long long)s.by_grade[MCE_NO],
	       (unsigned long long)s.by_grade[MCE_KEEP], (unsigned long long)s.by_grade[MCE_SOME],
	       (unsigned long long)s.by_grade[MCE_UCNA], (unsigned long long)s.by_grade[MCE_AO],
	       (unsigned long long)s.by_grade[MCE_UC], (unsigned long long)s.by_grade[MCE_AR],
	       (unsigned long long)s.by_grade[MCE_PANIC], (unsigned long long)s.dropped);
	printk(KERN_INFO "mce: stats: actions log %llu queue-mf %llu ar-kernel %llu ar-user %llu "
			 "panic %llu; #MC %llu (skipped %llu) polls %llu CMCI %llu timeouts %llu "
			 "fake panics %llu storms %llu/%llu (suppressed %llu) mf queued %llu\n",
	       (unsigned long long)s.by_action[MCE_ACT_LOG],
	       (unsigned long long)s.by_action[MCE_ACT_QUEUE_MF],
	       (unsigned long long)s.by_action[MCE_ACT_AR_KERNEL],
	       (unsigned long long)s.by_action[MCE_ACT_AR_USER],
	       (unsigned long long)s.by_action[MCE_ACT_PANIC], (unsigned long long)s.mc_events,
	       (unsigned long long)s.mc_skipped, (unsigned long long)s.polls,
	       (unsigned long long)s.cmcis, (unsigned long long)s.timeouts,
	       (unsigned long long)s.fake_panics, (unsigned long long)s.storms_begun,
	       (unsigned long long)s.storms_ended, (unsigned long long)s.storm_suppressed,
	       (unsigned long long)s.mf_queued);
}
