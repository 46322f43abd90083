/* CPU topology: which package (socket), core and hardware thread each logical CPU is, from
 * the CPU's own CPUID, as the SDM describes it (vol. 3A, 9.9 "Programming considerations for
 * hardware multi-threading capable processors"). The machine-check record's SOCKET and
 * /proc/cpuinfo's "physical id" and "core id" come from here.
 *
 * An APIC id is a packed bit field: thread bits at the bottom, then core bits (and module,
 * tile, die bits on larger parts), then the package number above them all. CPUID says how wide
 * each field is:
 *   - leaf 0x1F (V2 extended topology) or leaf 0xB (extended topology): one subleaf per level,
 *     ECX[15:8] its type (1 SMT, 2 core, 3 module, 4 tile, 5 die; 0 ends the list), EAX[4:0]
 *     how far to shift the x2APIC id right to reach the next level's number, EDX the x2APIC id.
 *     The shift of the last level is where the package number starts. 0x1F wins when it has a
 *     level (QEMU gives it only with dies).
 *   - without them (older CPUs): leaf 1 EBX[23:16] is the number of logical processor ids a
 *     package reserves (when EDX.HTT is set; else 1) and EBX[31:24] the initial APIC id;
 *     leaf 4 EAX[31:26] + 1 the core ids per package (Intel). The thread field is
 *     log2(logical / cores) bits wide, the package starts at log2(logical), both rounded up.
 * Each CPU runs topology_init_cpu on itself while it starts; the rest of the kernel reads the
 * result from cpu_locals. */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "printk.h"
#include "smp_priv.h"
#include "x86.h"

#define LEVEL_TYPE_SMT 1
#define LEVEL_TYPE_CORE 2
#define MAX_LEVELS 8
#define CPUID1_EDX_HTT BIT(28)

struct topo_fields {
	unsigned thread_bits;  /* width of the thread field */
	unsigned package_shift; /* where the package number starts */
	uint32_t apic_id;       /* the id CPUID reports for this CPU */
	const char *source;     /* which leaves said so */
};

static struct topo_fields boot_fields; /* the boot CPU's, for the boot line */

static unsigned order_base_2(uint32_t n)
{
	unsigned bits = 0;
	while ((1u << bits) < n && bits < 31)
		bits++;
	return bits;
}

/* Leaf 0xB or 0x1F; false when the CPU does not describe a level with it. */
static bool topo_from_extended(uint32_t leaf, struct topo_fields *t)
{
	bool any = false;
	if (cpu_features.max_leaf < leaf)
		return false;
	t->thread_bits = 0;
	for (uint32_t sub = 0; sub < MAX_LEVELS; sub++) {
		struct cpuid_regs r = cpuid(leaf, sub);
		unsigned type = (r.ecx >> 8) & 0xff;
		if (type == 0 || r.ebx == 0)
			break;
		if (type == LEVEL_TYPE_SMT)
			t->thread_bits = r.eax & 0x1f;
		t->package_shift = r.eax & 0x1f;
		t->apic_id = r.edx;
		any = true;
	}
	t->source = leaf == 0x1f ? "CPUID leaf 0x1f" : "CPUID leaf 0xb";
	return any;
}

/* Leaves 1 and 4, for CPUs without the extended topology leaves. */
static void topo_from_legacy(struct topo_fields *t)
{
	struct cpuid_regs r = cpuid(1, 0);
	uint32_t logical = (r.edx & CPUID1_EDX_HTT) ? (r.ebx >> 16) & 0xff : 1;
	uint32_t cores = 1;

	if (cpu_features.intel && cpu_features.max_leaf >= 4 && (cpuid(4, 0).eax & 0x1f))
		cores = (cpuid(4, 0).eax >> 26) + 1;
	if (!logical)
		logical = 1;
	if (cores > logical)
		cores = logical;
	t->apic_id = r.ebx >> 24;
	t->package_shift = order_base_2(logical);
	t->thread_bits = order_base_2(logical / cores);
	t->source = cpu_features.max_leaf >= 4 ? "CPUID leaves 1 and 4" : "CPUID leaf 1";
}

/* Fill this CPU's package, core and thread numbers. Every CPU, on itself, at start-up. */
void topology_init_cpu(void)
{
	struct topo_fields t = {0};
	struct cpu_local *c = this_cpu();

	if (!topo_from_extended(0x1f, &t) && !topo_from_extended(0xb, &t))
		topo_from_legacy(&t);
	if (t.thread_bits > t.package_shift)
		t.thread_bits = t.package_shift;
	c->initial_apic_id = t.apic_id;
	c->package_id = t.package_shift >= 32 ? 0 : t.apic_id >> t.package_shift;
	c->core_id = (t.apic_id >> t.thread_bits) &
		     (uint32_t)(BIT(t.package_shift - t.thread_bits) - 1);
	c->thread_id = t.apic_id & (uint32_t)(BIT(t.thread_bits) - 1);
	if (c->cpu_id == 0)
		boot_fields = t;
}

static bool same_package(unsigned a, unsigned b)
{
	return cpu_locals[a].package_id == cpu_locals[b].package_id;
}

static bool same_core(unsigned a, unsigned b)
{
	return same_package(a, b) && cpu_locals[a].core_id == cpu_locals[b].core_id;
}

/* Once every CPU is up: count each CPU's package siblings and its package's cores (Linux's
 * "siblings" and "cpu cores"), and print one line. Boot CPU, after smp_boot_aps. O(n^2). */
void topology_finish(void)
{
	static bool first_of_core[MAX_CPUS], first_of_package[MAX_CPUS];
	unsigned n = arch_cpu_count(), packages = 0, cores = 0;
	for (unsigned i = 0; i < n; i++) {
		first_of_core[i] = first_of_package[i] = true;
		for (unsigned j = 0; j < i; j++) {
			first_of_package[i] &= !same_package(i, j);
			first_of_core[i] &= !same_core(i, j);
		}
		packages += first_of_package[i];
		cores += first_of_core[i];
	}
	for (unsigned i = 0; i < n; i++) {
		cpu_locals[i].package_cpus = cpu_locals[i].package_cores = 0;
		for (unsigned j = 0; j < n; j++) {
			if (!same_package(i, j))
				continue;
			cpu_locals[i].package_cpus++;
			cpu_locals[i].package_cores += first_of_core[j];
		}
	}
	printk(KERN_INFO "topology: %u CPU%s in %u package%s, %u core%s (from %s: %u thread "
			 "bit%s, package number from APIC id bit %u)\n",
	       n, n == 1 ? "" : "s", packages, packages == 1 ? "" : "s", cores,
	       cores == 1 ? "" : "s", boot_fields.source, boot_fields.thread_bits,
	       boot_fields.thread_bits == 1 ? "" : "s", boot_fields.package_shift);
}
