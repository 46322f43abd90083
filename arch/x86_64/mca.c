/* Machine-check architecture on x86-64: the MSRs behind include/arch/mca.h, the #MC and CMCI
 * entry points, and the per-CPU start-up that arms them.
 *
 * MSR map (Intel SDM vol. 3B, 15.3): IA32_MCG_CAP 0x179, IA32_MCG_STATUS 0x17a, IA32_MCG_CTL
 * 0x17b, IA32_MCG_EXT_CTL 0x4d0; bank i has MCi_CTL, MCi_STATUS, MCi_ADDR, MCi_MISC at
 * 0x400 + 4i .. 0x403 + 4i, and MCi_CTL2 (CMCI) at 0x280 + i. QEMU reads unknown MSRs as 0 and
 * drops writes to them, so capabilities come from MCG_CAP and CPUID, never from a #GP.
 *
 * mca_cpu_init runs on every CPU while it starts: the boot CPU reads the knobs and installs
 * the #MC handler, the CMCI vector and the poll tick; then each CPU lets kernel/mce set up its
 * banks (mce_cpu_setup), programs the CMCI LVT when it uses real CMCI, and only then sets
 * CR4.MCE. The #MC entry is the paranoid IST stub of isr.S (correct whatever GS holds), which
 * calls mc_trap with the saved frame. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "arch/smp.h"
#include "boot_info.h"
#include "mce_core.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MCG_EXT_CTL 0x4d0
#define MSR_MC0_CTL 0x400
#define MSR_MC0_CTL2 0x280
#define MSR_IA32_UCODE_REV 0x8b
#define FEATURE_CONTROL_LOCKED BIT(0)
#define FEATURE_CONTROL_LMCE BIT(20)
#define APIC_LVT_CMCI 0x2f0
#define X2APIC_MSR_BASE 0x800
#define APIC_BASE_ADDR_MASK 0xffffff000ull
#define VENDOR_INTEL 0 /* Linux's numbering, printed as PROCESSOR vendor:cpuid */
#define VENDOR_AMD 2

static volatile uint32_t *cmci_apic_page; /* xAPIC page, mapped only for real CMCI */

uint64_t arch_mca_cap(void)
{
	if (!cpu_features.mce || !cpu_features.mca)
		return 0;
	return rdmsr(MSR_MCG_CAP);
}

bool arch_mca_is_intel(void) { return cpu_features.intel; }
bool arch_mca_present(void) { return cpu_features.mce && cpu_features.mca; }

static uint32_t bank_msr(unsigned bank, enum arch_mca_reg reg)
{
	if (reg == MCA_REG_CTL2)
		return MSR_MC0_CTL2 + bank;
	return MSR_MC0_CTL + 4 * bank + (uint32_t)reg;
}

uint64_t arch_mca_bank_read(unsigned bank, enum arch_mca_reg reg)
{
	return rdmsr(bank_msr(bank, reg));
}

void arch_mca_bank_write(unsigned bank, enum arch_mca_reg reg, uint64_t val)
{
	wrmsr(bank_msr(bank, reg), val);
}

static uint32_t mcg_msr(enum arch_mcg_reg reg)
{
	switch (reg) {
	case MCG_REG_CTL:
		return MSR_MCG_CTL;
	case MCG_REG_EXT_CTL:
		return MSR_MCG_EXT_CTL;
	default:
		return MSR_MCG_STATUS;
	}
}

uint64_t arch_mcg_read(enum arch_mcg_reg reg) { return rdmsr(mcg_msr(reg)); }
void arch_mcg_write(enum arch_mcg_reg reg, uint64_t val) { wrmsr(mcg_msr(reg), val); }

void arch_mca_fill_cpu(struct mce_record *r)
{
	r->cpu = arch_cpu_id();
	r->apicid = this_cpu()->apic_id;
	r->socketid = this_cpu()->package_id;
	r->cpuid = cpu_features.signature;
	r->microcode = cpu_features.microcode;
	r->cpuvendor = cpu_features.amd ? VENDOR_AMD : VENDOR_INTEL;
	r->mcg_cap = rdmsr(MSR_MCG_CAP);
	r->tsc = rdtsc();
}

uint64_t arch_mca_fixup(uint64_t ip) { return ex_fixup_lookup(ip); }

bool arch_mca_lmce_enable(void)
{
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
	uint64_t need = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_LMCE;

	if ((fc & need) != need)
		return false;
	wrmsr(MSR_MCG_EXT_CTL, rdmsr(MSR_MCG_EXT_CTL) | MCG_EXT_CTL_LMCE_EN);
	return rdmsr(MSR_MCG_EXT_CTL) & MCG_EXT_CTL_LMCE_EN;
}

void arch_mca_raise_mc(void) { __asm__ volatile("int $18" ::: "memory"); }

void arch_mca_raise_cmci(void) { apic_send_ipi(arch_cpu_id(), VEC_CMCI); }

int arch_mca_on_cpu(unsigned cpu, void (*fn)(void *arg), void *arg, bool wait)
{
	return arch_call_on_cpu(cpu, fn, arg, wait);
}

/* #MC: from the paranoid IST entry, any mode. */
static void mc_trap(struct trap_frame *tf)
{
	struct mce_entry e = {.ip = tf->rip, .cs = tf->cs};
	uint64_t resume;

	this_cpu()->mce_nesting++;
	resume = mce_handle_mc(&e);
	if (resume && !(tf->cs & 3))
		tf->rip = resume;
	this_cpu()->mce_nesting--;
}

/* CPUs asked by mca_raise_at to take part in a broadcast machine check. */
static uint8_t broadcast_pending[MAX_CPUS];

/* The poison emulator's machine check, its banks written: this CPU takes it at tf, and unless
 * it is local every other online CPU is sent an NMI that makes it take part (mca_nmi).
 * #PF/#DB context, interrupts off. */
void mca_raise_at(struct trap_frame *tf, bool local)
{
	unsigned self = arch_cpu_id(), n = arch_cpu_count();

	for (unsigned c = 0; c < n && !local; c++) {
		if (c == self || !arch_cpu_online(c))
			continue;
		__atomic_store_n(&broadcast_pending[c], 1, __ATOMIC_RELEASE);
		apic_send_nmi(cpu_locals[c].apic_id);
	}
	mc_trap(tf);
}

/* A broadcast reaches every CPU whatever it is doing, interrupts off included, so it comes by
 * NMI; the CPU then sees what a bystander of an SRAR sees: no bank of its own, MCG_STATUS with
 * RIPV and MCIP. A CPU already in the handler ignores it. */
bool mca_nmi(struct trap_frame *tf)
{
	if (!__atomic_exchange_n(&broadcast_pending[arch_cpu_id()], 0, __ATOMIC_ACQ_REL))
		return false;
	if (this_cpu()->mce_nesting)
		return true;
	arch_mcg_write(MCG_REG_STATUS, MCG_STATUS_MCIP | MCG_STATUS_RIPV);
	mc_trap(tf);
	return true;
}

/* CMCI: read the banks this CPU owns. Interrupt gate: interrupts off. */
static void cmci_irq(struct trap_frame *tf)
{
	(void)tf;
	mce_poll(MCE_SRC_CMCI, true);
	apic_eoi();
}

/* Point this CPU's CMCI LVT entry at VEC_CMCI (only when the CPU really has CMCI). */
static void cmci_lvt_program(void)
{
	if (apic_x2apic_mode()) {
		wrmsr(X2APIC_MSR_BASE + APIC_LVT_CMCI / 16, VEC_CMCI);
		return;
	}
	if (!cmci_apic_page)
		cmci_apic_page = mmu_map_mmio(rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK, PAGE_SIZE);
	cmci_apic_page[APIC_LVT_CMCI / 4] = VEC_CMCI;
}

static void mca_install_handlers(void)
{
	uint64_t rev;

	mce_config_parse(boot_info.cmdline);
	if (rdmsr_safe(MSR_IA32_UCODE_REV, &rev) == 0)
		cpu_features.microcode = (uint32_t)(rev >> 32);
	exc_register(VEC_MC, mc_trap);
	irq_register(VEC_CMCI, cmci_irq);
	arch_timer_set_tick(mce_tick);
}

/* Arm machine checks on this CPU (bsp: also install the handlers). Interrupts off, after
 * apic_init and time_init, before the CPU is marked online. */
void mca_cpu_init(bool bsp)
{
	uint64_t cap;

	if (bsp)
		mca_install_handlers();
	if (!cpu_features.mce) {
		if (bsp)
			printk(KERN_WARNING "mce: CPU has no machine-check exception (CPUID MCE "
					    "clear); MCA off\n");
		return;
	}
	cap = arch_mca_cap();
	if (mce_cpu_setup() == 0 && bsp && !cpu_features.mca)
		printk(KERN_WARNING "mce: #MC present but no machine-check architecture (CPUID "
				    "MCA clear): no banks to read\n");
	else if (mcg_cap_count(cap) == 0 && bsp)
		printk(KERN_WARNING "mce: MCA present but no banks (MCG_CAP %#llx); only #MC with "
				    "MCG_STATUS is handled\n",
		       (unsigned long long)cap);
	if (mcg_cap_cmci_p(cap) && mce_cfg.cmci)
		cmci_lvt_program();
	write_cr4(read_cr4() | CR4_MCE);
}
