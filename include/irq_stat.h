/* The rows of /proc/interrupts. Linux's x86 file has one row per kind of interrupt or event,
 * with a count per online CPU and a description (arch/x86/kernel/irq.c, arch_show_interrupts);
 * tools and people read them by their three-letter names. The rows' names, descriptions and
 * order are fixed here, in Linux's order; the subsystem that counts an event registers the
 * function that reads its count (the arch its interrupts, kernel/mce the machine checks).
 * A row nobody registered is not shown: MCRK prints only what it counts. */
#pragma once
#include "types.h"

enum irq_stat_row {
	IRQ_STAT_NMI, /* NMI: Non-maskable interrupts */
	IRQ_STAT_LOC, /* LOC: Local timer interrupts */
	IRQ_STAT_SPU, /* SPU: Spurious interrupts */
	IRQ_STAT_CAL, /* CAL: Function call interrupts (cross-CPU calls) */
	IRQ_STAT_TLB, /* TLB: TLB shootdowns (the calls that flushed a TLB) */
	IRQ_STAT_THR, /* THR: Threshold APIC interrupts (Intel: CMCI) */
	IRQ_STAT_MCE, /* MCE: Machine check exceptions */
	IRQ_STAT_MCP, /* MCP: Machine check polls (the poll timer and every CMCI bank scan) */
	IRQ_STAT_ERR, /* ERR: one total, not per CPU (APIC errors) */
	IRQ_STAT_ROWS
};

/* Reads a row's count for one CPU (for IRQ_STAT_ERR: the total; cpu is 0). Process context;
 * a relaxed read of a counter other CPUs may be bumping. */
typedef uint64_t (*irq_stat_fn)(unsigned cpu);

/* Register the counter of row. Returns 0, or -EINVAL for an unknown row or a second
 * registration. Boot, process context. */
int irq_stat_register(enum irq_stat_row row, irq_stat_fn fn);
