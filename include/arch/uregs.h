/* The arch interface for a task's saved user registers. struct user_regs is opaque to portable
 * code: it holds pointers to it and reads or changes it through these calls only, so the
 * register names and the syscall convention stay in the arch (arch/x86_64/uregs.c; the host
 * build has its own fake layout in tests/host). The registers of the running task live on its
 * kernel stack (arch_current_user_regs in arch/context.h).
 * All calls: process context, on the registers of the current task or of a task that is not
 * running (a new child); none sleeps or takes a lock. */
#pragma once
#include "../types.h"

struct user_regs;

#define ARCH_SYSCALL_ARGS 6 /* arguments a syscall can take */

/* Where user mode was interrupted: its instruction pointer and stack pointer. */
uint64_t arch_uregs_ip(const struct user_regs *r);
uint64_t arch_uregs_sp(const struct user_regs *r);

/* Whether r was saved by a syscall that is still on its way back: not by a trap or an
 * interrupt, and not since replaced by a signal frame or by rt_sigreturn. */
bool arch_uregs_in_syscall(const struct user_regs *r);
/* The syscall number the caller asked for (kept by the entry code, even once the result has
 * replaced it in the register that carried it). Valid while arch_uregs_in_syscall. */
uint64_t arch_syscall_nr(const struct user_regs *r);
/* The syscall's arguments, in the caller's order. */
void arch_syscall_args(const struct user_regs *r, uint64_t args[ARCH_SYSCALL_ARGS]);
/* The syscall's result register: the value, or -errno. The child of fork reads 0 here. */
long arch_syscall_retval(const struct user_regs *r);
void arch_syscall_set_retval(struct user_regs *r, long value);
/* Make the syscall run again on the way back to user mode: its number goes back where the
 * caller put it and the instruction pointer back onto the syscall instruction. For a syscall
 * a signal interrupted (-ERESTARTSYS) whose restart the signal code chose. */
void arch_syscall_restart(struct user_regs *r);
/* The same, but the syscall runs again as restart_syscall (-ERESTART_RESTARTBLOCK). */
void arch_syscall_restart_block(struct user_regs *r);
/* Set the stack pointer user mode resumes with (a new thread's stack, clone). */
void arch_uregs_set_sp(struct user_regs *r, uint64_t sp);
