/* A fake of include/arch/mca.h for host tests: per-CPU bank registers in plain arrays (CPU
 * chosen by fake_cpu_id), a settable MCG_CAP, and "raising" a machine check or CMCI by calling
 * the kernel/mce entry points directly, as the arch handlers would. */
#include "arch/mca.h"
#include "fake_arch.h"
#include "fake_mca.h"
#include "kerrno.h"
#include "mce_core.h"

struct fake_mca_cpu fake_mca[FAKE_MCA_CPUS];
uint64_t fake_mca_cap_value = 0x100010a; /* QEMU's: 10 banks, CTL_P, SER_P */
bool fake_mca_intel = true;
uint64_t fake_mca_fixup_ip, fake_mca_fixup_to;
unsigned fake_mca_mc_raised, fake_mca_cmci_raised;

static struct fake_mca_cpu *cur(void)
{
	return &fake_mca[fake_cpu_id % FAKE_MCA_CPUS];
}

uint64_t arch_mca_cap(void) { return fake_mca_cap_value; }
bool arch_mca_is_intel(void) { return fake_mca_intel; }
bool arch_mca_present(void) { return true; }

uint64_t arch_mca_bank_read(unsigned bank, enum arch_mca_reg reg)
{
	return bank < FAKE_MCA_BANKS ? cur()->bank[bank][reg] : 0;
}

void arch_mca_bank_write(unsigned bank, enum arch_mca_reg reg, uint64_t val)
{
	if (bank < FAKE_MCA_BANKS)
		cur()->bank[bank][reg] = val;
}

uint64_t arch_mcg_read(enum arch_mcg_reg reg) { return cur()->mcg[reg]; }
void arch_mcg_write(enum arch_mcg_reg reg, uint64_t val) { cur()->mcg[reg] = val; }

void arch_mca_fill_cpu(struct mce_record *r)
{
	r->cpu = fake_cpu_id;
	r->apicid = fake_cpu_id;
	r->cpuid = 0x806f8;
	r->mcg_cap = fake_mca_cap_value;
	r->tsc = 0x1000;
}

uint64_t arch_mca_fixup(uint64_t ip) { return ip == fake_mca_fixup_ip ? fake_mca_fixup_to : 0; }
bool arch_mca_lmce_enable(void) { return false; }

void arch_mca_raise_mc(void)
{
	struct mce_entry e = {.ip = 0xffffffff80001000ull, .cs = 0x10};

	fake_mca_mc_raised++;
	mce_handle_mc(&e);
}

void arch_mca_raise_cmci(void)
{
	fake_mca_cmci_raised++;
	mce_poll(MCE_SRC_CMCI, true);
}

int arch_mca_on_cpu(unsigned cpu, void (*fn)(void *arg), void *arg, bool wait)
{
	unsigned saved = fake_cpu_id;

	(void)wait;
	if (cpu >= fake_cpu_count)
		return -EINVAL;
	fake_cpu_id = cpu;
	fn(arg);
	fake_cpu_id = saved;
	return 0;
}
