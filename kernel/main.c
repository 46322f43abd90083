/* The portable start of the kernel: once the arch code has memory, interrupts and every CPU
 * running, kernel_main says what the machine is, runs the in-kernel tests the command line
 * asks for (test build only), prints the ready line and idles. */
#include "arch/cpu.h"
#include "arch/mca.h"
#include "boot_info.h"
#include "einj.h"
#include "frame.h"
#include "hugetlb.h"
#include "initrd.h"
#include "ipc.h"
#include "pci.h"
#include "blk.h"
#include "blk_drivers.h"
#include "kstring.h"
#include "memory_failure.h"
#include "swap.h"
#include "vm.h"
#include "arch/mmu.h"
#include "arch/smp.h"
#include "entry.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"
#include "proc.h"
#include "syscall.h"
#include "kernel.h"
#include "mce_cec.h"
#include "mce_core.h"
#include "printk.h"
#include "proc_cpu.h"
#include "work.h"

/* The memory map itself was printed as the boot information was read (boot_info_print). */
static void print_memory_summary(void)
{
	uint64_t total = 0, usable = 0;
	for (unsigned i = 0; i < boot_info.n_mmap; i++) {
		const struct mem_range *r = &boot_info.mmap[i];
		total += r->len;
		if (r->type == MEM_USABLE)
			usable += r->len;
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
	if (!mcg_cap_count(cap)) {
		/* The arch set-up said why: no #MC, no MCA in CPUID, or MCA with zero banks. */
		printk(KERN_WARNING "mce: MCG_CAP %#lx: no MCA banks, so no error details can be "
				    "read\n",
		       cap);
		return;
	}
	printk(KERN_INFO "mce: MCG_CAP %#lx: %u banks%s%s%s%s%s%s%s\n", cap, mcg_cap_count(cap),
	       mcg_cap_ctl_p(cap) ? ", CTL_P" : "", mcg_cap_ext_p(cap) ? ", EXT_P" : "",
	       mcg_cap_cmci_p(cap) ? ", CMCI_P" : "", mcg_cap_tes_p(cap) ? ", TES_P" : "",
	       mcg_cap_ser_p(cap) ? ", SER_P" : "", mcg_cap_elog_p(cap) ? ", ELOG_P" : "",
	       mcg_cap_lmce_p(cap) ? ", LMCE_P" : "");
	if (!arch_mca_is_intel())
		printk(KERN_WARNING "mce: not an Intel CPU: MCRK grades errors by Intel's rules "
				    "only; recovery on this vendor is not supported\n");
}

/* The root file system: a tmpfs with the initrd (the first boot module, a cpio archive)
 * unpacked into it. The module's frames stay reserved: clean file pages are re-read from it. */
static void root_setup(void)
{
	const struct boot_module *m = &boot_info.modules[0];
	if (boot_info.n_modules == 0)
		vfs_init(NULL, 0);
	else
		vfs_init(arch_phys_to_virt(m->start), m->end - m->start);
}

/* The production kernel has no in-kernel tests; the test build replaces this (kernel.h). */
__attribute__((weak)) void kernel_run_tests(const char *cmdline)
{
	if (cmdline_get(cmdline, "test", NULL, 0))
		printk(KERN_WARNING "mcrk: test= ignored: the in-kernel tests are only in the test "
				    "build of the kernel (build/mcrk-test.elf)\n");
}

/* Portable kernel entry, on the boot CPU with interrupts enabled and all CPUs online. */
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
	itimer_init();
	arch_timer_set_tick(sched_tick);
	root_setup();
	procfs_init();
	proc_cpu_init();
	mce_ctl_init();
	memory_failure_init();
	mce_cec_init(boot_info.cmdline);
	thp_init();
	hugetlb_init();
	frame_kpageflags_init();
	swap_init();
	einj_init();
	frame_audit_init();
	vm_check_init();
	ipc_init();
	syscall_init();
	print_memory_summary();
	print_mca_summary();
	mce_config_print();
	mce_print_recovery_summary();
	arch_irq_enable();
	mce_drain(); /* errors left over from before boot */
	mce_inject_from_boot(&boot_info);
	if (pci_init() > 0) {
		virtio_blk_probe_all();
		nvme_probe_all();
		blkdev_nodes_init();
		blk_bench_from_boot(boot_info.cmdline);
	}
	kernel_run_tests(boot_info.cmdline);
	struct frame_stats st;
	frame_get_stats(&st);
	printk(KERN_INFO "mcrk: ready (%u CPUs, %lu MiB free, boot took %lu ms)\n",
	       arch_cpu_count(), (st.free * PAGE_SIZE) >> 20, arch_time_ns() / 1000000);
	proc_start_init();
	sched_idle_loop(); /* runs tasks and the workers (deferred work, work.h) from now on */
}
