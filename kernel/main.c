/* The portable start of the kernel: once the arch code has memory, interrupts and every CPU
 * running, kernel_main says what the machine is, runs any in-kernel tests the command line
 * asks for, prints the ready line and idles. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "boot_info.h"
#include "frame.h"
#include "kernel.h"
#include "ktest.h"
#include "printk.h"

static const char *const mem_type_names[] = {"?", "usable", "reserved", "ACPI reclaim",
					     "ACPI NVS", "bad"};

static void print_memory_summary(void)
{
	uint64_t total = 0, usable = 0;
	for (unsigned i = 0; i < boot_info.n_mmap; i++) {
		const struct mem_range *r = &boot_info.mmap[i];
		total += r->len;
		if (r->type == MEM_USABLE)
			usable += r->len;
		printk(KERN_DEBUG "mem: [%#014lx-%#014lx] %s\n", r->base, r->base + r->len - 1,
		       r->type < ARRAY_SIZE(mem_type_names) ? mem_type_names[r->type] : "?");
	}
	struct frame_stats st;
	frame_get_stats(&st);
	printk(KERN_INFO "mem: %lu KiB total, %lu KiB usable, %lu KiB reserved; "
			 "%lu frames free of %lu described\n",
	       total >> 10, usable >> 10, (total - usable) >> 10, st.free, st.total);
}

static void print_mca_summary(void)
{
	uint64_t cap = arch_mca_cap();
	if (!cap) {
		printk(KERN_WARNING "mce: this CPU has no machine-check architecture\n");
		return;
	}
	printk(KERN_INFO "mce: MCG_CAP %#lx: %lu banks%s%s%s%s%s%s%s\n", cap, cap & 0xff,
	       cap & BIT(8) ? ", CTL_P" : "", cap & BIT(9) ? ", EXT_P" : "",
	       cap & BIT(10) ? ", CMCI_P" : "", cap & BIT(11) ? ", TES_P" : "",
	       cap & BIT(24) ? ", SER_P" : "", cap & BIT(26) ? ", ELOG_P" : "",
	       cap & BIT(27) ? ", LMCE_P" : "");
	if (!arch_mca_is_intel())
		printk(KERN_WARNING "mce: not an Intel CPU: MCRK grades errors by Intel's rules "
				    "only; recovery on this vendor is not supported\n");
}

/* Portable kernel entry, on the boot CPU with interrupts enabled and all CPUs online. */
void kernel_main(void)
{
	print_memory_summary();
	print_mca_summary();
	arch_irq_enable();
	ktest_run_from_cmdline(boot_info.cmdline);
	struct frame_stats st;
	frame_get_stats(&st);
	printk(KERN_INFO "mcrk: ready (%u CPUs, %lu MiB free, boot took %lu ms)\n",
	       arch_cpu_count(), (st.free * PAGE_SIZE) >> 20, arch_time_ns() / 1000000);
	for (;;)
		arch_wait_for_interrupt();
}
