/* The SYSCALL entry (Linux x86-64 convention: number in rax; arguments in rdi, rsi, rdx,
 * r10, r8, r9; the CPU puts the return RIP in rcx and RFLAGS in r11).
 *
 * SYSCALL leaves RSP at the user's stack and GS at the user's base, with IF, DF, TF and AC
 * cleared by MSR_FMASK. We swap GS, park the user RSP in gs:user_rsp_scratch, load the task's
 * kernel stack from gs:kernel_rsp and build the same struct user_regs an interrupt from user
 * mode would (vector SYSCALL_VECTOR, user CS/SS, rip = rcx, rflags = r11, and the syscall
 * number in the error-code slot, where it survives the result for a restart, like Linux's
 * orig_ax), at the top of the kernel stack. Interrupts are enabled for syscall_dispatch and
 * disabled again for the return-to-user work.
 *
 * Leaving: SYSRETQ when entry_syscall_exit() says the frame allows it (user CS/SS, a user
 * RIP, rcx == rip and r11 == rflags, no TF/RF), otherwise IRETQ. On Intel CPUs SYSRET with a
 * non-canonical RCX raises #GP in ring 0 on the user's stack and GS, which would give user
 * mode the kernel; entry_exit_to_user never lets a non-user RIP through, and the check is
 * repeated in entry_syscall_exit. NMI and #MC between the stack switch and SYSRETQ use IST
 * stacks and the GS-base test of the paranoid entry, so the user RSP loaded last is safe. */
#include "asm_macros.h"

	.text
	.global syscall_entry
	.balign 16
syscall_entry:
	swapgs
	movq %rsp, %gs:ASM_CPU_LOCAL_USER_RSP
	movq %gs:ASM_CPU_LOCAL_KERNEL_RSP, %rsp
	pushq $ASM_SEL_UDATA                    /* ss */
	pushq %gs:ASM_CPU_LOCAL_USER_RSP        /* rsp */
	pushq %r11                              /* rflags */
	pushq $ASM_SEL_UCODE                    /* cs */
	pushq %rcx                              /* rip */
	pushq %rax                              /* error code slot: the number, for a restart */
	pushq $ASM_SYSCALL_VECTOR               /* vector */
	PUSH_REGS
	movq %rsp, %rdi
	xorl %ebp, %ebp
	sti
	call entry_syscall
	cli
	movq %rsp, %rdi
	call entry_syscall_exit                 /* the return work; 1 when SYSRET is safe */
	cli
	testl %eax, %eax
	jz ret_to_user_iret
	POP_REGS                                /* rcx = rip, r11 = rflags (checked equal) */
	addq $16, %rsp                          /* vector, error code: RSP at rip */
	movq UREGS_RSP - UREGS_RIP(%rsp), %rsp  /* the user's stack */
	swapgs
	sysretq
