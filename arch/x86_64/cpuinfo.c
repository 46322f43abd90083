/* What /proc/cpuinfo and /proc/interrupts say about the x86 CPUs: arch_cpu_info (identity,
 * topology, feature flags with Linux's names) and the counters of the interrupt rows the arch
 * owns (NMI, LOC, SPU, CAL, TLB, ERR; kernel/fs/proc_cpu.c formats them).
 *
 * Feature flags are CPUID bits under the names Linux gives them (arch/x86/include/asm/
 * cpufeatures.h), listed in Linux's order: CPUID.1:EDX, CPUID.80000001h:EDX, the TSC bits
 * Linux derives (constant_tsc and nonstop_tsc from the invariant TSC, tsc_known_freq when the
 * rate came from CPUID), CPUID.1:ECX, CPUID.80000001h:ECX, CPUID.7.0:EBX. A bit MCRK has no
 * name for is left out, as Linux leaves out bits it does not know. */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "irq_stat.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

#define FLAGS_MAX 640

struct flag_word {
	uint32_t leaf, sub;
	char reg; /* 'b', 'c' or 'd' */
	const char *const names[32];
};

static const struct flag_word flag_words[] = {
	{1, 0, 'd', {"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL,
		     "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL,
		     "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe"}},
	{0x80000001, 0, 'd', {[11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext",
			      [25] = "fxsr_opt", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
			      [30] = "3dnowext", [31] = "3dnow"}},
	{0, 0, 0, {NULL}}, /* the derived TSC flags go here */
	{1, 0, 'c', {"pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2",
		     "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca",
		     "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes",
		     "xsave", NULL, "avx", "f16c", "rdrand", "hypervisor"}},
	{0x80000001, 0, 'c', {"lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm",
			      "sse4a", "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop",
			      "skinit", "wdt"}},
	{7, 0, 'b', {"fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", NULL, "smep", "bmi2",
		     "erms", "invpcid", "rtm", NULL, NULL, "mpx", NULL, "avx512f", "avx512dq",
		     "rdseed", "adx", "smap", "avx512ifma", NULL, "clflushopt", "clwb", NULL,
		     "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl"}},
};

static char flags[FLAGS_MAX];
static char model_name[64];

static uint32_t cpuid_reg(uint32_t leaf, uint32_t sub, char reg)
{
	uint32_t max = leaf >= 0x80000000 ? cpu_features.max_ext_leaf : cpu_features.max_leaf;
	if (leaf > max)
		return 0;
	struct cpuid_regs r = cpuid(leaf, sub);
	return reg == 'b' ? r.ebx : reg == 'c' ? r.ecx : r.edx;
}

static void flag_add(size_t *len, const char *name)
{
	*len += (size_t)ksnprintf(flags + *len, sizeof flags - *len, "%s%s", *len ? " " : "", name);
	*len = MIN(*len, sizeof flags - 1);
}

/* Build the flags line once, from the boot CPU (MCRK requires every CPU to be alike). */
static void flags_build(void)
{
	size_t len = 0;
	for (size_t w = 0; w < ARRAY_SIZE(flag_words); w++) {
		const struct flag_word *fw = &flag_words[w];
		if (!fw->reg) {
			if (cpu_features.tsc_invariant) {
				flag_add(&len, "constant_tsc");
				flag_add(&len, "nonstop_tsc");
			}
			if (tsc_known_freq())
				flag_add(&len, "tsc_known_freq");
			continue;
		}
		uint32_t bits = cpuid_reg(fw->leaf, fw->sub, fw->reg);
		for (unsigned b = 0; b < 32; b++)
			if ((bits & (1u << b)) && fw->names[b])
				flag_add(&len, fw->names[b]);
	}
}

/* The brand string without the padding spaces some CPUs put around it, as Linux trims it. */
static void model_name_build(void)
{
	const char *s = cpu_features.brand;
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n && s[n - 1] == ' ')
		n--;
	n = MIN(n, sizeof model_name - 1);
	memcpy(model_name, s, n);
	model_name[n] = 0;
}

int arch_cpu_info(unsigned cpu, struct arch_cpu_info *out)
{
	const struct cpu_features *f = &cpu_features;
	if (!arch_cpu_online(cpu))
		return -EINVAL;
	if (!flags[0])
		flags_build();
	if (!model_name[0])
		model_name_build();
	const struct cpu_local *c = &cpu_locals[cpu];
	uint32_t addr = 0;
	struct cpuid_regs r1 = cpuid(1, 0);
	if (f->max_ext_leaf >= 0x80000008)
		addr = cpuid(0x80000008, 0).eax;
	*out = (struct arch_cpu_info){
		.family = f->family, .model = f->model, .stepping = f->stepping,
		.cpuid_level = f->max_leaf, .microcode = f->microcode, .khz = tsc_hz() / 1000,
		.physical_id = c->package_id, .siblings = c->package_cpus, .core_id = c->core_id,
		.cpu_cores = c->package_cores, .apicid = c->apic_id,
		.initial_apicid = c->initial_apic_id, .fpu = r1.edx & BIT(0), .flags = flags,
		.clflush_size = ((r1.ebx >> 8) & 0xff) * 8, .phys_bits = addr & 0xff,
		.virt_bits = (addr >> 8) & 0xff};
	out->cache_alignment = out->clflush_size;
	strlcpy(out->vendor, f->vendor, sizeof out->vendor);
	strlcpy(out->model_name, model_name, sizeof out->model_name);
	return 0;
}

static uint64_t count_nmi(unsigned cpu) { return READ_ONCE(cpu_locals[cpu].nmi_count); }
static uint64_t count_timer(unsigned cpu) { return READ_ONCE(cpu_locals[cpu].timer_ticks); }
static uint64_t count_spurious(unsigned cpu) { return READ_ONCE(cpu_locals[cpu].spurious_count); }
static uint64_t count_calls(unsigned cpu) { return READ_ONCE(cpu_locals[cpu].call_count); }
static uint64_t count_tlb(unsigned cpu) { return READ_ONCE(cpu_locals[cpu].tlb_count); }
/* ERR, as Linux's irq_err_count: APIC errors and spurious 8259 interrupts. */
static uint64_t count_errors(unsigned cpu) { return apic_error_count() + idt_pic_spurious_count(); }

/* Register the arch's rows of /proc/interrupts. Boot CPU, once. */
void cpuinfo_init(void)
{
	irq_stat_register(IRQ_STAT_NMI, count_nmi);
	irq_stat_register(IRQ_STAT_LOC, count_timer);
	irq_stat_register(IRQ_STAT_SPU, count_spurious);
	irq_stat_register(IRQ_STAT_CAL, count_calls);
	irq_stat_register(IRQ_STAT_TLB, count_tlb);
	irq_stat_register(IRQ_STAT_ERR, count_errors);
}
