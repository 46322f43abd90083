/* Per-CPU entry hooks for the in-kernel user-mode tests (user_test.c): they let a test run
 * hand-made ring-3 code without the portable task code. Only the test build of the kernel
 * has them: entry_hooks.c replaces the weak entry functions of arch/x86_64/context.c. */
#pragma once
#include "entry_priv.h"

/* When set for a CPU, the entry code calls these instead of the portable entry.h functions
 * on that CPU. A NULL syscall, user_trap or mm_fault falls back to the portable function; a
 * NULL exit_to_user or schedule_tail does nothing. */
struct entry_test_hooks {
	void (*syscall)(struct user_regs *r);
	void (*user_trap)(struct user_regs *r, enum user_trap trap, uint64_t addr, int err);
	int (*mm_fault)(vaddr_t addr, unsigned access);
	void (*exit_to_user)(struct user_regs *r);
	void (*schedule_tail)(void);
};

/* Install (or with NULL remove) the test hooks of this CPU. Interrupts off. */
void entry_set_test_hooks(const struct entry_test_hooks *h);
