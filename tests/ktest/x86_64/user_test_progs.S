/* Tiny position-independent user programs for the in-kernel user-mode tests (user_test.c).
 * They live in .rodata: the test copies each one into a user page and runs it in ring 3.
 * Syscall 60 ends a program (the test's hook switches back to the test); 39 returns
 * 0xabcd; 15 lets the hook rewrite the registers as rt_sigreturn would. */

.macro PROG name
	.global \name, \name\()_end
\name:
.endm
.macro END name
\name\()_end:
.endm

	.section .rodata.user_progs, "a"
/* Arguments in, result out, callee registers kept, rcx/r11 = return RIP/RFLAGS. */
PROG utp_syscall
	mov $0x1111, %r12
	mov $0x2222, %rbx
	mov $39, %eax
	mov $0x11, %edi
	mov $0x22, %esi
	mov $0x33, %edx
	mov $0x44, %r10d
	mov $0x55, %r8d
	mov $0x66, %r9d
	syscall
	.global utp_syscall_ret1
utp_syscall_ret1:
	mov %rax, %rdi
	mov %r12, %rsi
	mov %rbx, %rdx
	mov %rcx, %r10
	mov %r11, %r8
	mov $60, %eax
	syscall
END utp_syscall

/* The hook sends syscall 15 elsewhere with new rax/rcx/r11: only IRET can do that. */
PROG utp_redirect
	mov $15, %eax
	syscall
	ud2
	.global utp_redirect_target
utp_redirect_target:
	mov %rax, %rdi
	mov %rcx, %rsi
	mov %r11, %rdx
	mov $60, %eax
	syscall
END utp_redirect

/* Placed at the very end of the user half: the return RIP is non-canonical. */
PROG utp_top
	mov $39, %eax
	syscall
END utp_top

PROG utp_ud2
	ud2
END utp_ud2

PROG utp_div
	xor %ecx, %ecx
	div %ecx
END utp_div

PROG utp_cli
	cli
END utp_cli

PROG utp_int3
	int3
END utp_int3

PROG utp_write_unmapped
	movl $1, 0x600000
END utp_write_unmapped

PROG utp_read_kernel
	movabs 0xffffffff80200000, %rax
END utp_read_kernel

/* Jump into the (no-execute) stack page. */
PROG utp_exec_stack
	lea -64(%rsp), %rax
	jmp *%rax
END utp_exec_stack

/* Touch a page the test's fault hook maps on demand. */
PROG utp_demand
	movl $0x1234, 0x600000
	mov 0x600000, %edi
	mov $60, %eax
	syscall
END utp_demand

/* xmm0 and MXCSR must survive another context using them during the syscall. */
PROG utp_fpu
	mov $0x1234, %eax
	movq %rax, %xmm0
	mov $39, %eax
	syscall
	movq %xmm0, %rdi
	stmxcsr -8(%rsp)
	mov -8(%rsp), %esi
	mov $60, %eax
	syscall
END utp_fpu

/* Paranoid vectors raised from ring 3 (the test makes the gates user-callable). */
PROG utp_int18
	mov $0x5151, %r12
	int $18
	mov %r12, %rsi
	mov $7, %edi
	mov $60, %eax
	syscall
END utp_int18

PROG utp_int2
	mov $0x5151, %r12
	int $2
	mov %r12, %rsi
	mov $7, %edi
	mov $60, %eax
	syscall
END utp_int2

/* Spin until the test sees an interrupt taken from ring 3 (it sets the first word of the
 * stack page), with values in registers that the interrupt entry and exit must keep. */
PROG utp_spin
	mov $0x1515, %r12
	mov $0x1616, %r15
	mov $0x3333, %rcx
	mov $0x4444, %r11
	mov $0x7ff000, %rbx
1:	cmpl $0, (%rbx)
	je 1b
	mov %r12, %rdi
	mov %r15, %rsi
	mov %rcx, %rdx
	mov %r11, %r10
	mov $60, %eax
	syscall
END utp_spin
