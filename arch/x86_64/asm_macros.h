/* Shared by the entry assembly (isr.S, syscall.S, switch.S) and the C code that checks it
 * (context.c): offsets into struct user_regs / struct trap_frame, the selectors the entry
 * code pushes, and the register save/restore macros. Only arch/x86_64 includes this. */
#pragma once

/* struct user_regs (uregs.h) == struct trap_frame (x86.h), in bytes. */
#define UREGS_RCX 96
#define UREGS_R11 32
#define UREGS_VECTOR 120
#define UREGS_RIP 136
#define UREGS_CS 144
#define UREGS_RFLAGS 152
#define UREGS_RSP 160
#define UREGS_SS 168
#define UREGS_SIZE 176

/* Selectors and per-CPU offsets, repeated here for assembly (context.c checks they match). */
#define ASM_SEL_UCODE 0x33
#define ASM_SEL_UDATA 0x2b
#define ASM_CPU_LOCAL_KERNEL_RSP 0x08
#define ASM_CPU_LOCAL_USER_RSP 0x10
#define ASM_SYSCALL_VECTOR 0x100
#define ASM_VEC_NMI 2
#define ASM_VEC_DF 8
#define ASM_VEC_MC 18

#ifdef __ASSEMBLY__
/* The general registers, pushed in the reverse of struct user_regs' field order. */
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

/* Clear RFLAGS.AC on entry when SMAP is on: user mode may have set AC, and the kernel must
 * not run with SMAP disabled. CLAC is #UD without SMAP, hence the flag test (it clobbers
 * only the arithmetic flags, which the CPU already saved). */
.macro CLAC_IF_SMAP
	testb $1, entry_smap_enabled(%rip)
	jz .Lno_clac\@
	clac
.Lno_clac\@:
.endm
#endif
