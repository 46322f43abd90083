/* The arch interface for multiprocessing: cross-CPU calls and the periodic timer. */
#pragma once
#include "../types.h"

typedef void (*cpu_fn_t)(void *arg);

/* Run fn(arg) on CPU cpu (in its IPI handler, interrupts off). If cpu is the caller's, run
 * it directly. Waits until cpu has taken the call and, with wait, until fn has finished
 * there, however long that takes (a call unanswered after a second is logged). Returns 0, or
 * -EINVAL for a CPU that is not online or was stopped before it answered.
 * Process context with interrupts enabled (a CPU waiting with interrupts off could deadlock). */
int arch_call_on_cpu(unsigned cpu, cpu_fn_t fn, void *arg, bool wait);
/* Run fn(arg) on every online CPU but the caller, waiting for all when wait. Same context. */
void arch_call_on_others(cpu_fn_t fn, void *arg, bool wait);
/* Whether CPU cpu has finished starting. */
bool arch_cpu_online(unsigned cpu);
/* Add a function the periodic timer calls on every CPU (IRQ context, HZ times a second).
 * Up to four (the scheduler, the machine-check poller, ...); adding one twice is a no-op. */
void arch_timer_set_tick(void (*tick)(void));
#define HZ 100
