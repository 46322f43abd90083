/* The portable start of the kernel: once the arch code has memory, interrupts and every CPU
 * running, kernel_main says what the machine is, runs any in-kernel tests the command line
 * asks for, prints the ready line and idles. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "boot_info.h"
#include "frame.h"
#include "initrd.h"
#include "kstring.h"
#include "memory_failure.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "entry.h"
#include "task.h"
#include "vfs.h"
#include "proc.h"
#include "kernel.h"
#include "ktest.h"
#include "mce_core.h"
#include "printk.h"
#include "work.h"

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
	if (!(cap & MCG_CAP_COUNT_MASK)) {
		/* The arch set-up said why: no #MC, no MCA in CPUID, or MCA with zero banks. */
		printk(KERN_WARNING "mce: MCG_CAP %#lx: no MCA banks, so no error details can be "
				    "read\n",
		       cap);
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
/* The first boot module is the initrd when it is a cpio archive. */
static void initrd_setup(void)
{
	if (boot_info.n_modules == 0)
		return;
	const struct boot_module *m = &boot_info.modules[0];
	int n = initrd_init(arch_phys_to_virt(m->start), m->end - m->start);
	if (n >= 0)
		printk(KERN_INFO "initrd: %d files (%lu KiB)\n", n, (m->end - m->start) >> 10);
}

void kernel_main(void)
{
	char level[8];
	uint64_t lv;
	/* loglevel=N as on Linux: console messages of level N and above are not shown. */
	if (cmdline_get(boot_info.cmdline, "loglevel", level, sizeof(level)) &&
	    !kstrtou64(level, 10, &lv) && lv <= 8)
		printk_set_level((int)lv - 1);
	sched_init();
	sched_start_workers();
	arch_timer_set_tick(sched_tick);
	initrd_setup();
	procfs_init();
	mce_ctl_init();
	memory_failure_init();
	syscall_init();
	print_memory_summary();
	print_mca_summary();
	mce_config_print();
	arch_irq_enable();
	mce_drain(); /* errors left over from before boot */
	mce_inject_from_boot(&boot_info);
	ktest_run_from_cmdline(boot_info.cmdline);
	struct frame_stats st;
	frame_get_stats(&st);
	printk(KERN_INFO "mcrk: ready (%u CPUs, %lu MiB free, boot took %lu ms)\n",
	       arch_cpu_count(), (st.free * PAGE_SIZE) >> 20, arch_time_ns() / 1000000);
	proc_start_init();
	sched_idle_loop(); /* runs tasks and the workers (deferred work, work.h) from now on */
}
