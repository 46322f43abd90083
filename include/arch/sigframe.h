/* The arch interface for user signal frames. The portable signal code (kernel/sig) decides
 * everything about a delivery (which handler, on which stack, with which mask and siginfo);
 * the arch owns the frame: its layout (Linux's rt_sigframe, ucontext and mcontext for
 * x86-64 in arch/x86_64/sigframe.c), where on the stack it goes, the registers and FPU state
 * saved in it, and reading it back at rt_sigreturn.
 * Both calls: process context, the current task on its way back to user mode (they copy to
 * and from its user memory and may fault pages in). */
#pragma once
#include "../types.h"

struct user_regs;
struct ksiginfo;

/* Linux's stack_t, as sigaltstack takes it and a handler finds it in uc_stack. */
struct ksigaltstack {
	uint64_t ss_sp;
	int32_t ss_flags, _pad;
	uint64_t ss_size;
};

/* One delivery, as kernel/sig decided it. */
struct arch_sigframe {
	int sig;
	const struct ksiginfo *info; /* copied into the frame; the handler gets its address */
	uint64_t handler;            /* where the handler starts */
	uint64_t restorer;           /* where the handler returns (sa_restorer) */
	uint64_t stack_top;          /* top of the alternate stack to build on; 0: below the
				      * interrupted stack pointer (past the ABI's red zone) */
	struct ksigaltstack uc_stack; /* what the handler sees as uc_stack */
	uint64_t uc_sigmask;          /* the mask rt_sigreturn restores */
	uint64_t fault_addr;          /* the fault address the frame reports (x86: cr2) */
};

/* Write the frame for f to the user stack, save the FPU state in it (the handler then starts
 * with the default FPU state, as on Linux) and set r so that the return to user mode enters
 * the handler with (sig, &info, &ucontext). 0, or -EFAULT when the frame cannot be written
 * (r is then unchanged). */
int arch_sigframe_setup(struct user_regs *r, const struct arch_sigframe *f);

/* What rt_sigreturn found in the frame besides the registers. */
struct arch_sigreturn {
	uint64_t uc_sigmask; /* the mask to restore (the caller drops what cannot be blocked) */
	bool fpu_refused;    /* the saved FPU state could not be read: the default was loaded */
	bool regs_refused;   /* the saved instruction pointer is not a user address */
};
/* rt_sigreturn: read the frame the handler returned from (at r's stack pointer), restore r
 * and the FPU state from it, dropping privileged state a forged frame may carry (reported in
 * *out), and mark r as no longer a syscall (no restart). 0, or -EFAULT when the frame cannot
 * be read (r is then unchanged). */
int arch_sigframe_restore(struct user_regs *r, struct arch_sigreturn *out);
