/* The arch interface for machine-check architecture: capability discovery, access to this
 * CPU's MCA registers, raising a machine check or a CMCI on purpose (the software injector),
 * and running a function on another CPU for the MCA code. kernel/mce calls only these; MSR
 * numbers stay in arch/x86_64/mca.c, and tests/host/fake_mca.c fakes them for host tests.
 * Every function works on the calling CPU unless it says otherwise. */
#pragma once
#include "../types.h"

struct mce_record;

/* IA32_MCG_CAP of this CPU, or 0 when the CPU has no MCA (CPUID.1:EDX.MCA/MCE clear). */
uint64_t arch_mca_cap(void);
/* Whether CPUID reports the machine-check exception and architecture (MCG_CAP may still say
 * there are no banks, as on Bochs). Any context. */
bool arch_mca_present(void);
/* Whether the CPU vendor is Intel (MCRK's MCA handling follows Intel's SDM). */
bool arch_mca_is_intel(void);

/* Per-bank registers (IA32_MCi_*). */
enum arch_mca_reg {
	MCA_REG_CTL,	/* MCi_CTL: which errors the bank signals */
	MCA_REG_STATUS, /* MCi_STATUS */
	MCA_REG_ADDR,	/* MCi_ADDR */
	MCA_REG_MISC,	/* MCi_MISC */
	MCA_REG_CTL2,	/* MCi_CTL2: CMCI enable and threshold (only with MCG_CMCI_P) */
};
/* Global registers (IA32_MCG_*). */
enum arch_mcg_reg {
	MCG_REG_STATUS,	 /* MCG_STATUS */
	MCG_REG_CTL,	 /* MCG_CTL (only with MCG_CTL_P) */
	MCG_REG_EXT_CTL, /* MCG_EXT_CTL (LMCE enable, only with MCG_LMCE_P) */
};
/* MCi_CTL2 bits: bit 30 enables CMCI for the bank, bits 14:0 are the corrected-error count
 * threshold that raises it. */
#define MCI_CTL2_CMCI_EN BIT(30)
#define MCI_CTL2_THRESHOLD_MASK 0x7fffull
/* MCG_EXT_CTL bit 0 enables local machine checks. */
#define MCG_EXT_CTL_LMCE_EN BIT(0)

/* Read/write one bank register of this CPU. Any context, #MC included. */
uint64_t arch_mca_bank_read(unsigned bank, enum arch_mca_reg reg);
void arch_mca_bank_write(unsigned bank, enum arch_mca_reg reg, uint64_t val);
/* Read/write one global MCA register of this CPU. Any context, #MC included. */
uint64_t arch_mcg_read(enum arch_mcg_reg reg);
void arch_mcg_write(enum arch_mcg_reg reg, uint64_t val);

/* Fill r's CPU fields for this CPU: cpu, apicid, socketid, cpuid, microcode, cpuvendor,
 * mcg_cap and tsc (now). Any context, #MC included. */
void arch_mca_fill_cpu(struct mce_record *r);
/* The exception-table fixup of a kernel instruction address, or 0. Any context. */
uint64_t arch_mca_fixup(uint64_t ip);
/* Enable local machine checks on this CPU if the firmware allows them (IA32_FEATURE_CONTROL
 * locked with bit 20 set) by setting MCG_EXT_CTL.LMCE_EN; true when that bit reads back set.
 * CPU set-up only (interrupts off). */
bool arch_mca_lmce_enable(void);

/* Raise a machine check on this CPU now (INT 18: the #MC handler runs as if the hardware had
 * signalled one, reading whatever the banks hold). Process or IRQ context. */
void arch_mca_raise_mc(void);
/* Raise the CMCI interrupt on this CPU (a self-IPI on the CMCI vector; it runs when interrupts
 * are enabled). Any context but #MC. */
void arch_mca_raise_cmci(void);
/* Run fn(arg) on CPU cpu with interrupts off (directly if it is this CPU); with wait, return
 * once it finished (as arch_call_on_cpu). Returns 0 or -EINVAL (CPU not online). Process context. */
int arch_mca_on_cpu(unsigned cpu, void (*fn)(void *arg), void *arg, bool wait);
