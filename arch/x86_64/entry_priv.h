/* Private to arch/x86_64: the C side of the entry code (called from isr.S, syscall.S and
 * switch.S) and the exception handlers' set-up. */
#pragma once
#include "entry.h"
#include "uregs.h"
#include "x86.h"

/* How returns to user mode left, since boot (all CPUs, racy counters for tests). */
struct entry_stats {
	uint64_t sysret, syscall_iret, bad_return;
};
extern struct entry_stats entry_stats;
extern uint8_t entry_smap_enabled; /* read by the entry assembly (CLAC_IF_SMAP) */

/* Called from assembly. */
void entry_syscall(struct user_regs *r);      /* syscall.S, interrupts enabled */
int entry_syscall_exit(struct user_regs *r);  /* syscall.S: return work; 1 if SYSRET ok */
void entry_exit_to_user(struct user_regs *r); /* isr.S: return work, interrupts off */
void entry_schedule_tail(void);		      /* switch.S: a new task's first run */
__noreturn void kernel_task_returned(void);   /* switch.S: fn of a kernel task returned */

/* Called by the trap handlers (traps.c). */
void entry_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr, int err);
int entry_mm_fault(vaddr_t addr, unsigned access);
/* The portable return-to-user work (task_exit_to_user), before entry_exit_to_user's safety
 * check. Interrupts off on entry, may enable them. */
void entry_exit_work(struct user_regs *r);
/* entry_syscall, entry_user_trap, entry_mm_fault, entry_schedule_tail and entry_exit_work
 * call the portable functions of entry.h; they are weak, and the test build of the kernel
 * replaces them (tests/ktest/x86_64/entry_hooks.h). */

/* The user registers and FPU state in signal frames (sigframe.c, context.c). */
/* Make registers restored from a user signal frame safe to return to user mode with: user
 * code/stack selectors, only the user-settable RFLAGS bits, IF on. False when RIP is not a
 * user address (the task must then die of SIGSEGV). */
bool arch_regs_sanitize_user(struct user_regs *r);
/* The running task's x87/SSE registers in a user signal frame, in Linux's `struct _fpstate`
 * (the 512-byte FXSAVE image, 64-byte aligned by convention). arch_fpu_to_user saves them at
 * ufp and gives the handler the default state (as Linux does); arch_fpu_from_user
 * (rt_sigreturn) loads them back, dropping MXCSR bits the CPU does not accept, or the default
 * state for ufp NULL. 0 or -EFAULT. Process context, the task on its way to user mode. */
#define ARCH_FPSTATE_SIZE 512
#define ARCH_FPSTATE_ALIGN 64
int arch_fpu_to_user(void *ufp);
int arch_fpu_from_user(const void *ufp);

/* Per-CPU set-up of SYSCALL, the FPU and SSE (setup.c, every CPU). */
void entry_init_cpu(void);
/* Register the exception handlers (setup.c, boot CPU, after idt_init). */
void traps_init(void);

/* Exception-handler bookkeeping in idt.c. */
irq_handler_t exc_get_handler(unsigned vector);
void idt_clear_user_callable(unsigned v);
