/* /proc/cpuinfo and /proc/interrupts (kernel/fs/proc_cpu.c), in Linux's formats. The row
 * counters of /proc/interrupts are registered through include/irq_stat.h. */
#pragma once
#include "arch/cpu.h"
#include "ctl.h"

/* Register /proc/cpuinfo and /proc/interrupts. Boot, process context. */
void proc_cpu_init(void);
/* Append CPU cpu's /proc/cpuinfo block (ending with its blank line) to b. Returns 0. Any
 * context that may format text. */
int proc_cpuinfo_format(struct ctl_buf *b, unsigned cpu, const struct arch_cpu_info *ci);
/* Append the whole /proc/interrupts text (header, then every registered row) to b. Returns 0.
 * Process context. */
int proc_interrupts_format(struct ctl_buf *b);
/* The two files as control-file rows (for ctl_show in tests). */
extern const struct ctl_file proc_cpu_files[];
extern const size_t proc_cpu_nfiles;
