/* Kernel stack switching and the first code a new task runs.
 *
 * arch_switch_stacks pushes the callee-saved registers on the current kernel stack, stores
 * RSP, loads the other task's RSP and pops its registers: the C caller (arch_context_switch
 * in context.c) sees an ordinary function call that returns when something switches back.
 * A new task's stack (context.c) is built to look like it was switched out right before
 * one of the two start routines below. */
#include "asm_macros.h"

	.text
/* void arch_switch_stacks(uint64_t *save_rsp, uint64_t new_rsp) */
	.global arch_switch_stacks
arch_switch_stacks:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* First run of a kernel task: r12 = fn, r13 = arg; RSP 16-byte aligned, interrupts off. */
	.global kernel_task_start
kernel_task_start:
	call entry_schedule_tail
	sti
	movq %r13, %rdi
	call *%r12
	call kernel_task_returned               /* fn must not return: report and panic */
	ud2

/* First run of a user task: RSP at its struct user_regs (the top of its kernel stack). */
	.global user_task_start
user_task_start:
	call entry_schedule_tail
	jmp ret_to_user

/* void enter_user_frame(struct user_regs *top): RSP = top, then the return to user mode. */
	.global enter_user_frame
enter_user_frame:
	movq %rdi, %rsp
	jmp ret_to_user
