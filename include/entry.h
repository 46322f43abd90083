/* What the arch entry code calls in the portable kernel: syscalls, user faults, the timer,
 * and the work done on every return to user mode. */
#pragma once
#include "arch/context.h"
#include "types.h"

/* Access bits of a page fault (READ/WRITE/EXEC have the PT_* values: vm_fault uses them). */
#define FAULT_READ 0x1
#define FAULT_WRITE 0x2
#define FAULT_EXEC 0x4
#define FAULT_USER 0x8     /* the faulting access came from user mode */
#define FAULT_PRESENT 0x10 /* the entry was present (a protection fault) */

/* Resolve a fault on a user address of the current task's address space (demand paging,
 * copy-on-write). Returns 0 when the access can be retried, or -EFAULT (no mapping),
 * -EACCES (protection), -ENOMEM, -EHWPOISON (the page is poisoned), -EIO (a file page past
 * the end of the file: SIGBUS BUS_ADRERR). For a kernel-mode fault
 * (a user copy) the arch then uses the copy's fixup; for a user-mode one it calls
 * task_user_trap. Process context, interrupts enabled. */
int mm_handle_user_fault(vaddr_t addr, unsigned access);

/* User-mode exceptions that become signals (Linux's mapping of x86 traps). */
enum user_trap {
	UTRAP_PAGE_FAULT,   /* addr = CR2, err = mm_handle_user_fault's result */
	UTRAP_DIVIDE,       /* #DE -> SIGFPE FPE_INTDIV */
	UTRAP_INVALID_OP,   /* #UD -> SIGILL ILL_ILLOPN */
	UTRAP_GENERAL_PROT, /* #GP -> SIGSEGV SI_KERNEL */
	UTRAP_BREAKPOINT,   /* #BP -> SIGTRAP */
	UTRAP_ALIGNMENT,    /* #AC -> SIGBUS BUS_ADRALN */
	UTRAP_FPU,          /* #MF/#XM -> SIGFPE */
	UTRAP_OTHER,        /* anything else -> SIGSEGV */
};
/* A user-mode exception: the portable code sends the matching signal to the current task.
 * Interrupts enabled, process context. */
void task_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr, int err);

/* Run the syscall the current task's registers r ask for (include/syscall.h) and put its
 * result, or -ENOSYS for an unknown number, where user mode expects it. Process context,
 * interrupts enabled. */
void syscall_dispatch(struct user_regs *r);

/* Work before returning to user mode: reschedule, deliver signals, machine-check recovery
 * for this task. Called with interrupts disabled; may enable them inside. */
void task_exit_to_user(struct user_regs *r);

/* Timer tick on this CPU (IRQ context): accounting and preemption requests. */
void sched_tick(void);

/* First thing a newly created task runs after its first switch (releases the scheduler's
 * hold on the CPU). Interrupts off. */
void task_schedule_tail(void);
