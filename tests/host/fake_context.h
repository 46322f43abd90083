/* The fake of the arch's task side for host tests (tests/host/fake_context.c): a user
 * register layout of its own (portable code must work with any), a fake signal frame that
 * records what kernel/sig asked for, user memory that is host memory, and a fake CPU on
 * which the real scheduler (kernel/proc/sched.c) runs.
 *
 * The fake CPU has one host stack, so a task that switches away (sleeps, exits, yields to
 * another) cannot be resumed where it stopped: the switch ends the call that made it, and
 * control comes back to the test (fake_run) as the task the scheduler picked. A test drives
 * a task's "user program" by calling what its syscalls would (syscall_dispatch, then
 * task_exit_to_user) while that task is current; a call that slept is made again once the
 * task is current again, as a restarted syscall would be. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "../../include/arch/sigframe.h"

struct task;

/* Host "user space": any pointer below this (and above page 0) is a valid user pointer. */
#define USER_VA_END_FAKE 0x0000800000000000ull
/* The fake syscall instruction's length: a restart backs ip up by this much. */
#define FAKE_SYSCALL_INSN_LEN 4
/* What a restart as restart_syscall puts in the result register (Linux x86-64's number). */
#define FAKE_NR_RESTART_SYSCALL 219
#define FAKE_RED_ZONE 64

/* The fake user registers (kernel/ sees only a pointer). */
struct user_regs {
	uint64_t ip, sp;
	uint64_t args[6];
	uint64_t nr;     /* syscall number, kept for a restart */
	long ret;        /* result register */
	bool in_syscall; /* saved by a syscall that is on its way back */
};

/* The last frame arch_sigframe_setup wrote (where, and what it was asked for); frames
 * counts the calls that wrote one. */
struct fake_sigframe; /* fake_sigframe.h (it needs sig.h, which clashes with libc's) */
extern struct arch_sigframe fake_sigframe_req;
extern struct fake_sigframe *fake_sigframe_at;
extern unsigned fake_sigframes;

/* The current task of the fake CPU (what arch_current_task returns; the scheduler sets it on
 * every switch, and tests may set it to run code as a task). */
extern struct task *fake_current;

/* Run fn(arg) as the current task. true when it switched away: control is back here as the
 * task the scheduler picked, with the switch finished (task_schedule_tail) and interrupts
 * on; false when fn returned. Nests. */
bool fake_run(void (*fn)(void *), void *arg);

/* The registers a syscall of the current task would have saved, on its kernel stack
 * (arch_current_user_regs): nr and args[0..3] set, ip and sp kept from before (or a fake
 * user stack in host memory the first time). */
struct user_regs *fake_syscall_regs(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
				    uint64_t a3);
