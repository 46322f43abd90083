/* Interrupt and exception entry stubs. Every vector pushes a uniform struct trap_frame
 * (x86.h) and calls trap_dispatch(tf). Vectors that run on an IST stack (#DF, NMI, #MC) may
 * interrupt the kernel anywhere, even between SYSCALL and SWAPGS, so they decide whether to
 * swap GS by looking at the GS base itself ("paranoid" entry) instead of at the saved CS. */

#define MSR_GS_BASE 0xc0000101

/* Vectors where the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)
#define IS_PARANOID(v) ((v) == 2 || (v) == 8 || (v) == 18)

.macro PUSH_REGS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_REGS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm

	.text
/* Ordinary entry: swap GS when we came from user mode (CS RPL 3). */
isr_common:
	cld
	testb $3, 24(%rsp)          /* saved CS, above vector and error code */
	jz 1f
	swapgs
1:	PUSH_REGS
	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_dispatch
	.global isr_return
isr_return:
	POP_REGS
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	addq $16, %rsp              /* vector, error code */
	iretq

/* Paranoid entry: if GS base is not a kernel address, we came with the user's GS. */
isr_paranoid:
	cld
	PUSH_REGS
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

/* 256 stubs, each in its own 16-byte slot: stub v is at isr_stubs + 16 * v. */
	.balign 16
	.global isr_stubs
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
