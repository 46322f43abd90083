/* Syscalls. Each subsystem implements its own syscalls in a file beside its code
 * (kernel/fs/fs_syscalls.c, kernel/mm/mm_syscalls.c, kernel/sig/sig_syscalls.c,
 * kernel/proc/proc_syscalls.c, ...) and registers each one with SYSCALL_DEFINE; nobody edits
 * a shared table. kernel/proc/syscall.c collects the registrations at boot (syscall_init),
 * refuses two for one number, and dispatches (syscall_dispatch, in entry.h: the arch entry
 * calls it). Numbers are Linux x86-64's: they are the user
 * ABI that MCRK's programs are built for. */
#pragma once
#include "arch/uregs.h"
#include "types.h"

struct user_regs;

/* Numbers at or above this are unknown (-ENOSYS, counted together). */
#define SYSCALL_NR_MAX 512

/* One call: its arguments as the caller passed them, and its saved user registers for the
 * few syscalls that need more than arguments (fork, execve, rt_sigreturn, sigaltstack). */
struct syscall_args {
	uint64_t arg[ARCH_SYSCALL_ARGS];
	struct user_regs *regs;
};

/* A syscall: returns its result, or -errno. Process context, interrupts enabled. */
typedef long (*syscall_fn)(const struct syscall_args *a);

struct syscall_def {
	uint32_t nr;
	syscall_fn fn;
	const char *name;
};

/* Register fn as syscall number nr (a literal: it names the record). The record goes into
 * the mcrk_syscalls section: the kernel's linker script and the host linker keep it together
 * between __start_mcrk_syscalls and __stop_mcrk_syscalls. */
#define SYSCALL_DEFINE(nr, fn) SYSCALL_DEFINE_(nr, fn)
#define SYSCALL_DEFINE_(nr, fn)                                                             \
	static const struct syscall_def syscall_def_##nr                                    \
		__attribute__((used, section("mcrk_syscalls"), aligned(8))) = {nr, fn, #fn}

/* Build a dispatch table (SYSCALL_NR_MAX entries, zeroed by the caller) from n records. 0, or
 * -EEXIST when two records share a number, -ERANGE for a number past the table; *bad then
 * points at the offending record. Boot (and host tests). */
int syscall_table_fill(const struct syscall_def **table, const struct syscall_def *defs,
		       size_t n, const struct syscall_def **bad);
/* Fill the dispatch table from every SYSCALL_DEFINE in the image; panics on a conflict.
 * Boot, before the first user task. */
void syscall_init(void);
/* How often an unknown syscall number was called since boot (numbers at or above
 * SYSCALL_NR_MAX share one count). */
uint64_t syscall_unknown_count(uint64_t nr);
