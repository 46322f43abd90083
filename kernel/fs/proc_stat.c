/* /proc/stat in Linux 6.1's format (fs/proc/stat.c, show_stat), for top, vmstat and mpstat:
 * a "cpu" line summing every CPU, then one "cpuN" line per CPU, with the ten times in clock
 * ticks (100 a second): user, nice, system, idle, iowait, irq, softirq, steal, guest,
 * guest_nice; then btime, the boot's wall-clock second. MCRK samples user, system and idle at
 * each timer tick (sched_cpu_times) and has no nice levels, I/O wait, interrupt-time split,
 * steal or guests, so those read 0; the intr, ctxt, processes, procs_running, procs_blocked
 * and softirq lines are left out. */
#include "arch/cpu.h"
#include "clock.h"
#include "kmalloc.h"
#include "printk.h"
#include "task.h"
#include "vfs_priv.h"

#define STAT_LINE 128

static size_t cpu_line(char *b, size_t size, const char *name, const uint64_t t[])
{
	return (size_t)ksnprintf(b, size, "%s %lu 0 %lu %lu 0 0 0 0 0 0\n", name, t[SCHED_USER],
				 t[SCHED_SYSTEM], t[SCHED_IDLE]);
}

static int gen_stat(void *priv, char **out, size_t *len)
{
	(void)priv;
	unsigned n = arch_cpu_count();
	size_t size = (n + 3) * STAT_LINE, used = 0;
	char *b = kmalloc(size);
	if (!b)
		return -ENOMEM;
	uint64_t sum[SCHED_CPU_TIMES] = {0}, t[SCHED_CPU_TIMES];
	for (unsigned c = 0; c < n; c++) {
		sched_cpu_times(c, t);
		for (unsigned i = 0; i < SCHED_CPU_TIMES; i++)
			sum[i] += t[i];
	}
	used += cpu_line(b, size, "cpu ", sum); /* Linux's two spaces after "cpu" */
	for (unsigned c = 0; c < n; c++) {
		char name[16];
		ksnprintf(name, sizeof(name), "cpu%u", c);
		sched_cpu_times(c, t);
		used += cpu_line(b + used, size - used, name, t);
	}
	used += (size_t)ksnprintf(b + used, size - used, "btime %lu\n",
				  (uint64_t)(clock_wall_offset_ns() / 1000000000ull));
	*out = b;
	*len = used;
	return 0;
}

static const struct vfs_node_ops stat_ops = {.gen = gen_stat};

void proc_stat_init(void)
{
	vfs_register_node("/proc/stat", &stat_ops, NULL);
}
