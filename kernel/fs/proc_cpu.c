/* /proc/cpuinfo, /proc/interrupts, /proc/uptime and /proc/loadavg in Linux's formats, so that
 * tools written for Linux (einj_mem_uc reads "physical id" and "apicid"; monitoring reads the
 * MCE and THR rows; uptime and top read the last two) read MCRK's as they read Linux's.
 *
 * /proc/cpuinfo (Linux: arch/x86/kernel/cpu/proc.c, show_cpuinfo) is one block per online CPU,
 * "name<TAB(s)>: value" lines in a fixed order, a blank line after each block. The values come
 * from the arch (arch_cpu_info); only the layout is here.
 *
 * /proc/interrupts (Linux: kernel/irq/proc.c show_interrupts and arch/x86/kernel/irq.c
 * arch_show_interrupts) starts with a header of CPU columns, then one row per kind of event:
 * the name right-aligned in a column of width 3 (Linux's width while it has fewer than 1000
 * interrupt numbers) and a colon, each online CPU's count as "%10u ", then two spaces and the
 * description. ERR is a single total. MCRK has no device interrupt lines (no I/O APIC), so
 * only the event rows (include/irq_stat.h) appear.
 *
 * Both are control-file rows (include/ctl.h) without a store: a read at offset 0 makes the
 * text anew. */
#include "arch/cpu.h"
#include "arch/smp.h"
#include "ctl.h"
#include "irq_stat.h"
#include "kerrno.h"
#include "printk.h"
#include "proc_cpu.h"
#include "task.h"

#define IRQ_NAME_WIDTH 3
#define NS_PER_CENTI 10000000ull /* a hundredth of a second */

static const struct {
	const char *name, *desc;
} irq_rows[IRQ_STAT_ROWS] = {
	[IRQ_STAT_NMI] = {"NMI", "Non-maskable interrupts"},
	[IRQ_STAT_LOC] = {"LOC", "Local timer interrupts"},
	[IRQ_STAT_SPU] = {"SPU", "Spurious interrupts"},
	[IRQ_STAT_CAL] = {"CAL", "Function call interrupts"},
	[IRQ_STAT_TLB] = {"TLB", "TLB shootdowns"},
	[IRQ_STAT_THR] = {"THR", "Threshold APIC interrupts"},
	[IRQ_STAT_MCE] = {"MCE", "Machine check exceptions"},
	[IRQ_STAT_MCP] = {"MCP", "Machine check polls"},
	[IRQ_STAT_ERR] = {"ERR", NULL},
};
static irq_stat_fn irq_fns[IRQ_STAT_ROWS];

int irq_stat_register(enum irq_stat_row row, irq_stat_fn fn)
{
	if ((unsigned)row >= IRQ_STAT_ROWS || !fn)
		return -EINVAL;
	if (irq_fns[row] && irq_fns[row] != fn) {
		printk(KERN_ERR "irq_stat: row %s registered twice\n", irq_rows[row].name);
		return -EINVAL;
	}
	irq_fns[row] = fn;
	return 0;
}

int proc_interrupts_format(struct ctl_buf *b)
{
	unsigned n = arch_cpu_count();

	ctl_printf(b, "%*s", IRQ_NAME_WIDTH + 8, "");
	for (unsigned c = 0; c < n; c++)
		if (arch_cpu_online(c))
			ctl_printf(b, "CPU%-8u", c);
	ctl_printf(b, "\n");
	for (unsigned r = 0; r < IRQ_STAT_ROWS; r++) {
		if (!irq_fns[r])
			continue;
		ctl_printf(b, "%*s: ", IRQ_NAME_WIDTH, irq_rows[r].name);
		if (r == IRQ_STAT_ERR) {
			ctl_printf(b, "%10lu\n", irq_fns[r](0));
			continue;
		}
		for (unsigned c = 0; c < n; c++)
			if (arch_cpu_online(c))
				ctl_printf(b, "%10lu ", irq_fns[r](c));
		ctl_printf(b, "  %s\n", irq_rows[r].desc);
	}
	return 0;
}

int proc_cpuinfo_format(struct ctl_buf *b, unsigned cpu, const struct arch_cpu_info *ci)
{
	ctl_printf(b, "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
		      "model name\t: %s\nstepping\t: %u\n",
		   cpu, ci->vendor[0] ? ci->vendor : "unknown", ci->family, ci->model,
		   ci->model_name[0] ? ci->model_name : "unknown", ci->stepping);
	if (ci->microcode)
		ctl_printf(b, "microcode\t: 0x%x\n", ci->microcode);
	if (ci->khz)
		ctl_printf(b, "cpu MHz\t\t: %lu.%03lu\n", ci->khz / 1000, ci->khz % 1000);
	ctl_printf(b, "physical id\t: %u\nsiblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\n"
		      "apicid\t\t: %u\ninitial apicid\t: %u\n",
		   ci->physical_id, ci->siblings, ci->core_id, ci->cpu_cores, ci->apicid,
		   ci->initial_apicid);
	ctl_printf(b, "fpu\t\t: %s\nfpu_exception\t: %s\ncpuid level\t: %u\nwp\t\t: yes\n",
		   ci->fpu ? "yes" : "no", ci->fpu ? "yes" : "no", ci->cpuid_level);
	ctl_printf(b, "flags\t\t: %s\n", ci->flags ? ci->flags : "");
	ctl_printf(b, "clflush size\t: %u\ncache_alignment\t: %u\n"
		      "address sizes\t: %u bits physical, %u bits virtual\npower management:\n\n",
		   ci->clflush_size, ci->cache_alignment, ci->phys_bits, ci->virt_bits);
	return 0;
}

static int show_cpuinfo(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	for (unsigned c = 0; c < arch_cpu_count(); c++) {
		struct arch_cpu_info ci;
		if (arch_cpu_info(c, &ci) == 0)
			proc_cpuinfo_format(b, c, &ci);
	}
	return 0;
}

static int show_interrupts(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	return proc_interrupts_format(b);
}

/* Seconds with hundredths, as Linux prints times and loads ("12.34"). */
static void put_centis(struct ctl_buf *b, uint64_t centis)
{
	ctl_printf(b, "%lu.%02lu", (unsigned long)(centis / 100), (unsigned long)(centis % 100));
}

/* /proc/uptime (fs/proc/uptime.c): seconds since boot, and the idle time of all CPUs added. */
static int show_uptime(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	put_centis(b, arch_time_ns() / NS_PER_CENTI);
	ctl_printf(b, " ");
	put_centis(b, sched_idle_ns() / NS_PER_CENTI);
	ctl_printf(b, "\n");
	return 0;
}

/* /proc/loadavg (fs/proc/loadavg.c): the three averages (fixed point, FSHIFT bits), running
 * over all threads, and the last pid handed out. */
static int show_loadavg(const struct ctl_file *f, struct ctl_buf *b)
{
	(void)f;
	uint64_t loads[3];
	sched_loadavg(loads);
	for (int i = 0; i < 3; i++) {
		uint64_t x = loads[i] + (1u << FSHIFT) / 200; /* Linux rounds to the hundredth */
		put_centis(b, (x >> FSHIFT) * 100 + (((x & ((1u << FSHIFT) - 1)) * 100) >> FSHIFT));
		ctl_printf(b, " ");
	}
	ctl_printf(b, "%u/%u %d\n", sched_nr_running(), task_count(), task_last_pid());
	return 0;
}

const struct ctl_file proc_cpu_files[] = {
	{.path = "/proc/cpuinfo", .show = show_cpuinfo},
	{.path = "/proc/interrupts", .show = show_interrupts},
	{.path = "/proc/uptime", .show = show_uptime},
	{.path = "/proc/loadavg", .show = show_loadavg},
};
const size_t proc_cpu_nfiles = ARRAY_SIZE(proc_cpu_files);

void proc_cpu_init(void)
{
	ctl_register(proc_cpu_files, proc_cpu_nfiles, "proc_cpu");
}
