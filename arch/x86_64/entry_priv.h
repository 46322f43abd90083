/* Private to arch/x86_64: the C side of the entry code (called from isr.S, syscall.S and
 * switch.S), the exception handlers' set-up, and a per-CPU test hook that lets in-kernel
 * tests (user_test.c) run hand-made user code without the portable task code. */
#pragma once
#include "entry.h"
#include "uregs.h"
#include "x86.h"

/* Test hooks: when set for a CPU, the entry code calls these instead of the portable
 * entry.h functions on that CPU. A NULL syscall, user_trap or mm_fault falls back to the
 * portable function; a NULL exit_to_user or schedule_tail does nothing. */
struct entry_test_hooks {
	void (*syscall)(struct user_regs *r);
	void (*user_trap)(struct user_regs *r, enum user_trap trap, uint64_t addr, int err);
	int (*mm_fault)(vaddr_t addr, unsigned access);
	void (*exit_to_user)(struct user_regs *r);
	void (*schedule_tail)(void);
};
/* Install (or with NULL remove) the test hooks of this CPU. Interrupts off. */
void entry_set_test_hooks(const struct entry_test_hooks *h);

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

/* Called by the trap handlers (traps.c): the hook or the portable function. */
void entry_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr, int err);
int entry_mm_fault(vaddr_t addr, unsigned access);

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
