/* The arch interface for the CPU: identity, interrupts, time stamps, halting.
 * Portable code calls only these; arch/x86_64 implements them (tests/host fakes them). */
#pragma once
#include "../types.h"

typedef unsigned long irqflags_t;

/* Disable interrupts on this CPU and return the previous state. Any context. */
irqflags_t arch_irq_save(void);
/* Restore the state arch_irq_save returned. Any context. */
void arch_irq_restore(irqflags_t flags);
void arch_irq_enable(void);
void arch_irq_disable(void);
bool arch_irq_enabled(void);
/* Spin-wait hint (PAUSE). Any context. */
void arch_cpu_relax(void);
/* Stop this CPU for good with interrupts off. Any context, including #MC/NMI. */
__noreturn void arch_halt_forever(void);
/* Wait for the next interrupt (interrupts enabled on return). Process context. */
void arch_wait_for_interrupt(void);

/* Logical id of the running CPU, 0..arch_cpu_count()-1. Any context. */
unsigned arch_cpu_id(void);
/* Number of CPUs brought up (or being brought up). */
unsigned arch_cpu_count(void);

/* Raw cycle counter (TSC); monotonic per CPU, synchronised across CPUs on sane hardware. */
uint64_t arch_timestamp(void);
/* Convert a timestamp delta to nanoseconds (0 before calibration). */
uint64_t arch_timestamp_to_ns(uint64_t delta);
/* Nanoseconds since boot (from the time stamp counter). Any context. */
uint64_t arch_time_ns(void);

/* Stop all other CPUs (NMI or IPI), used by panic. Any context; returns after trying. */
void arch_stop_other_cpus(void);
/* Leave the emulator with a status (QEMU isa-debug-exit); halts if there is no such device. */
__noreturn void arch_exit_emulator(unsigned code);
/* reboot(2)'s ends, each after the console's text is out. Power off (ACPI S5 as the tables
 * describe it, else the emulator's exit port), restart (the keyboard controller's reset line,
 * then a triple fault), halt (every CPU stops, the machine stays on). Process context. */
__noreturn void arch_power_off(void);
__noreturn void arch_restart(void);
__noreturn void arch_halt_machine(void);

/* What /proc/cpuinfo shows about one CPU, in Linux's terms (arch/x86/kernel/cpu/proc.c). */
struct arch_cpu_info {
	char vendor[16];      /* vendor_id: "GenuineIntel" ("" if unknown) */
	char model_name[64];  /* model name ("" if unknown) */
	unsigned family, model, stepping, cpuid_level;
	uint32_t microcode;   /* 0: unknown, the line is left out */
	uint64_t khz;         /* cpu MHz, in kHz (the TSC's rate; 0: no line) */
	unsigned physical_id; /* package (socket) */
	unsigned siblings;    /* logical CPUs online in the package */
	unsigned core_id;     /* core within the package */
	unsigned cpu_cores;   /* cores online in the package */
	unsigned apicid, initial_apicid;
	bool fpu;
	const char *flags;    /* feature names, space-separated, Linux's spelling */
	unsigned clflush_size, cache_alignment, phys_bits, virt_bits;
};
/* Fill out for CPU cpu. 0, or -EINVAL when cpu is not online. Process context. */
int arch_cpu_info(unsigned cpu, struct arch_cpu_info *out);
