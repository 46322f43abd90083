/* Per-CPU variables, sized to the CPUs the machine has rather than to MAX_CPUS.
 *
 * DEFINE_PER_CPU(type, name) puts one copy of the variable in the image, in the .percpu part of
 * .bss, and that copy is CPU 0's. Before another CPU starts, the arch start-up code calls
 * percpu_prepare(cpu), which gives it a zeroed copy of the whole section; so the section costs
 * its size once per CPU that exists, and nothing for CPUs the kernel could have but the machine
 * does not. per_cpu_ptr(name, cpu) is CPU cpu's copy: valid for every cpu < arch_cpu_count()
 * (a CPU's copy exists before the CPU is counted). Anything with large per-CPU state belongs
 * here; small tables (a pointer or a counter per CPU) stay static arrays of MAX_CPUS.
 * The host build has no sections: there each variable is simply an array of MAX_CPUS. */
#pragma once
#include "types.h"

#ifdef MCRK_HOST
#define DEFINE_PER_CPU(type, name) type name[MAX_CPUS]
#define per_cpu_ptr(name, cpu) (&(name)[(cpu)])
#else
/* Distance from each CPU's copy to CPU 0's (0 for CPU 0). */
extern intptr_t percpu_offset[MAX_CPUS];
#define DEFINE_PER_CPU(type, name) __attribute__((section(".bss.percpu"))) type name
#define per_cpu_ptr(name, cpu) ((__typeof__(&(name)))((char *)&(name) + percpu_offset[(cpu)]))
#endif

/* Give CPU cpu (1..MAX_CPUS-1) its own zeroed copy of every per-CPU variable, reusing the one
 * it already has. 0, -EINVAL or -ENOMEM. Boot CPU, process context, before cpu starts. */
int percpu_prepare(unsigned cpu);
/* Bytes one CPU's copy takes. Any context. */
size_t percpu_size(void);
