/* Interrupt and exception entry stubs, and the common return to user mode.
 *
 * Every vector pushes a uniform struct trap_frame (x86.h; the same layout as struct
 * user_regs) and calls trap_dispatch(tf).
 *
 * Ordinary vectors (isr_common) run on the current kernel stack, or, when they interrupt
 * user mode, on the task's kernel stack that the CPU loads from TSS.RSP0. The saved CS says
 * which: from user mode we swap GS, and the frame lands exactly at the top of the task's
 * kernel stack, where arch_current_user_regs() finds it. After trap_dispatch, a return to
 * user mode goes through ret_to_user: interrupts off, entry_exit_to_user() (which calls the
 * portable task_exit_to_user: reschedule, signals, machine-check work, and checks that the
 * registers are safe to return with), then IRETQ.
 *
 * Paranoid vectors (#DF, NMI, #MC) run on their own IST stacks and may interrupt the kernel
 * anywhere, even between SYSCALL and SWAPGS, so when they interrupt kernel mode they decide
 * whether to swap GS by reading the GS base itself instead of trusting the saved CS.
 *
 * NMI and #MC from user mode are different: nothing in the kernel was interrupted, so there
 * is no doubt about GS (it is the user's: swap), and the work they leave for the task
 * (memory_failure on an SRAR, a signal) must run on the way back to user mode, where it may
 * sleep or schedule. An IST stack cannot be used for that: the next NMI or #MC would reuse
 * it. So, like Linux, such an entry moves itself: it copies the seven words the CPU and the
 * stub pushed (vector, error code, RIP, CS, RFLAGS, RSP, SS) from the IST stack to the top
 * of the task's kernel stack (gs:kernel_rsp), switches RSP there and continues as an
 * ordinary user entry (isr_user_entry). The handler then runs on the task's stack, and the
 * exit goes through ret_to_user and task_exit_to_user like any other. NMIs stay blocked
 * until the next IRET, as they would on the IST stack. #DF never returns and stays on its
 * IST stack whatever it interrupted. */
#include "asm_macros.h"

#define MSR_GS_BASE 0xc0000101

/* Vectors where the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)
#define IS_PARANOID(v) ((v) == ASM_VEC_NMI || (v) == ASM_VEC_DF || (v) == ASM_VEC_MC)

/* Offset of the saved CS above the vector and error code the stub pushed. */
#define STUB_CS 24

	.text
/* Ordinary entry: swap GS when we came from user mode (CS RPL 3). */
isr_common:
	cld
	testb $3, STUB_CS(%rsp)
	jz isr_kernel
	swapgs
/* From user mode, GS already swapped; RSP at the vector on the task's kernel stack. */
isr_user_entry:
	CLAC_IF_SMAP
	PUSH_REGS
	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_dispatch
	jmp ret_to_user

isr_kernel:
	CLAC_IF_SMAP
	PUSH_REGS
	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_dispatch
	POP_REGS
	addq $16, %rsp              /* vector, error code */
	iretq

/* Return to user mode with the struct user_regs at RSP (the top of the task's kernel
 * stack): run the return-to-user work, then restore everything and IRETQ. Reached from
 * interrupts and exceptions, from a new task's first switch, and from arch_enter_user. */
	.global ret_to_user
ret_to_user:
	cli
	movq %rsp, %rdi
	call entry_exit_to_user
/* The same without the work (syscall.S uses it once the work is done). */
	.global ret_to_user_iret
ret_to_user_iret:
	cli
	POP_REGS
	addq $16, %rsp
	swapgs
	iretq

/* Paranoid entry. */
isr_paranoid:
	cld
	CLAC_IF_SMAP
	cmpq $ASM_VEC_DF, (%rsp)
	je 1f
	testb $3, STUB_CS(%rsp)
	jnz paranoid_from_user
	/* From kernel mode: if GS base is not a kernel address, we came with the user's GS. */
1:	PUSH_REGS
	movl $MSR_GS_BASE, %ecx
	rdmsr
	xorl %ebx, %ebx             /* ebx = 1: we swapped and must swap back */
	testl %edx, %edx
	js 3f
	swapgs
	movl $1, %ebx
3:	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_dispatch
	testl %ebx, %ebx
	jz 4f
	swapgs
4:	POP_REGS
	addq $16, %rsp
	iretq

/* NMI or #MC from user mode: move the frame to the task's kernel stack (see the top). */
paranoid_from_user:
	swapgs
	pushq %rax                  /* IST: rax, vector, error, rip, cs, rflags, rsp, ss */
	pushq %rcx                  /* one more word: the frame starts at 16(%rsp) */
	movq %gs:ASM_CPU_LOCAL_KERNEL_RSP, %rax
	subq $64, %rax              /* 7 frame words, and one below them for the saved rax */
	.set i, 0
	.rept 7
	movq 16 + 8 * i(%rsp), %rcx
	movq %rcx, 8 + 8 * i(%rax)
	.set i, i + 1
	.endr
	movq 8(%rsp), %rcx
	movq %rcx, (%rax)           /* the interrupted rax */
	popq %rcx
	movq %rax, %rsp             /* off the IST stack */
	popq %rax
	jmp isr_user_entry

/* 256 stubs, each in its own 16-byte slot: stub v is at isr_stubs + 16 * v. */
	.balign 16
	.global isr_stubs
	.type isr_stubs, @function
isr_stubs:
	.set v, 0
	.rept 256
	.balign 16
	.if !HAS_ERR(v)
	pushq $0
	.endif
	pushq $v
	.if IS_PARANOID(v)
	jmp isr_paranoid
	.else
	jmp isr_common
	.endif
	.set v, v + 1
	.endr
	.size isr_stubs, . - isr_stubs
