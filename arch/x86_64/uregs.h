/* Private to arch/x86_64: the user registers saved on kernel entry, in the order the entry
 * stubs push them (asm_macros.h PUSH_REGS, the same layout as struct trap_frame in x86.h).
 * Portable code sees struct user_regs only as an opaque pointer (include/arch/uregs.h). */
#pragma once
#include "types.h"

struct user_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;     /* trap vector (0..255), or SYSCALL_VECTOR for a syscall */
	uint64_t error_code; /* the CPU's error code; for a syscall, its number (Linux's orig_ax) */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* The vector field of a syscall's registers (above every hardware vector). */
#define SYSCALL_VECTOR 0x100
/* Length of the SYSCALL instruction (0f 05): a restart backs RIP up by this much. */
#define SYSCALL_INSN_LEN 2
