/* The fake signal frame of tests/host/fake_context.c, for tests that look inside it (apart
 * from fake_context.h because include/sig.h and libc's <signal.h> cannot meet). */
#pragma once
#include "fake_context.h"
#include "../../include/sig.h"

/* The fake signal frame, as arch_sigframe_setup writes it to the user stack; the handler
 * starts with sp at it, args[0] = sig, args[1] = &info, args[2] = the frame. rt_sigreturn
 * reads it back at sp (the fake handler does not move sp). */
struct fake_sigframe {
	uint64_t restorer;
	struct ksiginfo info;
	struct ksigaltstack uc_stack;
	uint64_t uc_sigmask;
	uint64_t fault_addr;
	bool fpu_bad; /* tests set it to make rt_sigreturn find the FPU state unreadable */
	struct user_regs saved;
};
