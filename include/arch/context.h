/* The arch interface for tasks: kernel stacks and switching, the current task, entering user
 * mode, where a task's saved user registers live (their contents: arch/uregs.h), and copying
 * to and from user memory. */
#pragma once
#include "../types.h"

struct user_regs; /* the saved user registers: opaque, see arch/uregs.h */
struct task;

/* A task's saved kernel context for arch_context_switch: opaque to portable code. */
struct arch_context {
	uint64_t rsp;     /* kernel stack pointer while switched out */
	uint64_t fs_base; /* user TLS base (arch_prctl ARCH_SET_FS) */
	/* x87/SSE register state (FXSAVE image) while switched out; 16-byte aligned. */
	uint8_t fpu[512] __attribute__((aligned(16)));
};

#define KSTACK_ORDER 2 /* 16 KiB kernel stacks */
#define KSTACK_SIZE (PAGE_SIZE << KSTACK_ORDER)

/* Save the current kernel context in prev and resume next. Returns (in prev) when something
 * switches back. Interrupts off; the scheduler's lock rules apply. */
void arch_context_switch(struct arch_context *prev, struct arch_context *next);
/* Prepare a new task whose kernel stack is [stack_base, stack_base + KSTACK_SIZE) so that
 * the first switch to it calls task_schedule_tail() (interrupts still off), then enables
 * interrupts and calls fn(arg) in kernel mode. fn must not return: it calls task_exit. */
void arch_context_init_kernel(struct arch_context *ctx, void *stack_base, void (*fn)(void *),
			      void *arg);
/* Prepare a new task so that the first switch to it returns to user mode with a copy of regs
 * (kept on its kernel stack), after the schedule-tail hook (task_schedule_tail). The new task
 * inherits the caller's FS base and FPU state (fork). Returns the copy, for the caller to
 * adjust (fork sets the child's syscall result to 0). */
struct user_regs *arch_context_init_user(struct arch_context *ctx, void *stack_base,
					 const struct user_regs *regs);
/* The user registers of the running task (the slot at the top of its kernel stack): those
 * saved by the current syscall or trap from user mode, or, in a kernel task that is about to
 * enter user mode (init's first exec), the ones it will enter with. */
struct user_regs *arch_current_user_regs(void);
/* Set registers for a fresh user program: entry point, stack, everything else zeroed. */
void arch_regs_init_user(struct user_regs *r, uint64_t entry, uint64_t sp);
/* Tell the CPU which kernel stack to use for the next entry from user mode of this task. */
void arch_set_kernel_stack(void *stack_base);
/* Install and read back the user FS base (TLS) of the current task. */
void arch_set_fs_base(struct arch_context *ctx, uint64_t base);
/* Set the FS base a task that is not running starts with (clone's CLONE_SETTLS); base is a
 * user address (below USER_VA_END). */
void arch_context_set_tls(struct arch_context *ctx, uint64_t base);
/* Leave for user mode with regs as the very first return of a task (exec from a kernel task). */
__noreturn void arch_enter_user(const struct user_regs *regs);

/* The task running on this CPU (per-CPU arch state, as Linux's `current`): the scheduler sets
 * it when it switches; NULL before sched_init on this CPU. Any context, #MC and NMI too. */
struct task *arch_current_task(void);
void arch_set_current_task(struct task *t);

/* Copies between kernel and user memory. A fault on the user side (unmapped, protection,
 * non-user address, or a machine check at the copy with a fixup) makes them return -EFAULT
 * instead of crashing; they never touch kernel addresses on the user side.
 * Process context; may fault pages in through the page-fault handler. */
int arch_copy_from_user(void *dst, const void *usrc, size_t n);
int arch_copy_to_user(void *udst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most n-1 bytes; returns its length, -EFAULT, or
 * -ENAMETOOLONG when no NUL was found in n bytes. */
long arch_strncpy_from_user(char *dst, const char *usrc, size_t n);
/* Zero n bytes of user memory; 0 or -EFAULT. */
int arch_clear_user(void *udst, size_t n);
/* Futex words: read the aligned 32-bit word at uaddr with one load; atomically replace it by
 * new if it holds old (*cur gets what it held, either way). 0 or -EFAULT; a write fault is
 * resolved (copy-on-write) like any user copy's. Same context as the copies. */
int arch_user_load_u32(const uint32_t *uaddr, uint32_t *val);
int arch_user_cmpxchg_u32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur);
