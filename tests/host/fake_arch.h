/* The fake arch for host tests: a settable CPU id, a malloc'd "physical memory", a console
 * that captures output, and calls on other CPUs run in place. The task side (context,
 * registers, signal frames) is fake_context.h's. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "../../include/arch/cpu.h"

/* Which CPU arch_cpu_id() reports (tests switch it to exercise per-CPU code). */
extern unsigned fake_cpu_id;
extern unsigned fake_cpu_count;
/* What arch_cpu_info reports for CPUs 0..FAKE_CPU_INFOS-1 (/proc/cpuinfo tests). */
#define FAKE_CPU_INFOS 4
extern struct arch_cpu_info fake_cpu_info[FAKE_CPU_INFOS];
/* Base of the fake physical memory; arch_phys_to_virt(pa) = fake_phys_base + pa.
 * NULL unless a test calls fake_phys_alloc. */
extern uint8_t *fake_phys_base;
extern size_t fake_phys_size;
/* Back [0, size) of physical memory with zeroed host memory (replacing any earlier). */
void fake_phys_alloc(size_t size);
/* Everything arch_console_write was given, NUL-terminated; cleared by fake_console_clear. */
extern char fake_console[1 << 16];
extern size_t fake_console_len;
void fake_console_clear(void);
/* When set, arch_console_write also echoes to stdout. */
extern int fake_console_echo;
