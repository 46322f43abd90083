/* Signals with Linux's ABI: numbers, sigaction, masks and siginfo (the frame a handler
 * gets is the arch's: include/arch/sigframe.h). Each thread has its own mask, pending set and
 * alternate stack (struct sig_state, kernel/sig/signal.c); the actions are a struct sighand
 * that CLONE_SIGHAND shares; process-directed signals wait in the thread group's shared
 * pending set until a thread that does not block them takes them. The syscalls are registered
 * in kernel/sig/sig_syscalls.c; job control (stop, continue) is kernel/sig/jobctl.c. */
#pragma once
#include "arch/cpu.h"
#include "siginfo.h"
#include "types.h"

struct task;
struct thread_group;
struct user_regs;

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGSYS 31

/* si_code values. */
#define SI_USER 0
#define SI_KERNEL 0x80
#define SI_QUEUE (-1)
#define SI_TKILL (-6)
#define ILL_ILLOPN 2
#define FPE_INTDIV 1
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define BUS_ADRALN 1
#define BUS_ADRERR 2
#define BUS_MCEERR_AR 4
#define BUS_MCEERR_AO 5
#define TRAP_BRKPT 1
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3
#define CLD_STOPPED 5
#define CLD_CONTINUED 6

/* Per-task state. sig_task_init: a fresh task (own actions, empty mask); sig_clone: the
 * child's of clone with clone_flags (CLONE_SIGHAND shares the table of actions, else a copy;
 * CLONE_CLEAR_SIGHAND resets handlers; the mask is inherited, pending signals are not; a new
 * thread (CLONE_VM without CLONE_VFORK) has no alternate stack). 0 or -ENOMEM. sig_exit frees
 * it (the task is off every CPU). */
int sig_task_init(struct task *t);
int sig_clone(struct task *child, const struct task *parent, uint64_t clone_flags);
void sig_exit(struct task *t);
/* execve (after the other threads are gone): take a table of actions of our own if it was
 * shared; caught signals go back to their default action; masks and ignores stay. 0 or
 * -ENOMEM. */
int sig_exec(struct task *t);

/* Process-directed signal to t's process (kill, SIGCHLD, ...): handled by some thread that
 * does not block it, the main thread first; a fatal one kills every thread. Blocked
 * signals stay pending; an ignored one is dropped. Stop signals drop a pending SIGCONT and
 * SIGCONT resumes a stopped process, whatever its action. 0 or -EINVAL. Process or IRQ
 * context, interrupts enabled or not (without, the target's CPU is not kicked). */
int sig_send(struct task *t, const struct ksiginfo *info);
/* Thread-directed signal (tgkill, BUS_MCEERR_AO): only thread t takes it. */
int sig_send_thread(struct task *t, const struct ksiginfo *info);
/* A synchronous fault signal for thread t: if it is blocked or ignored the task is killed by
 * it, as on Linux (force). */
void sig_force(struct task *t, const struct ksiginfo *info);
/* Kill t by this signal's default action: no handler runs, blocking does not help (a task
 * that cannot be resumed, e.g. a machine check with RIPV clear). Wait status shows sig. */
void sig_kill_with(struct task *t, const struct ksiginfo *info);
/* Tell the parent process (parent: a thread of it, referenced) that child exited (CLD_EXITED,
 * CLD_KILLED) with wait status: child's exit signal, unless the parent ignores SIGCHLD.
 * Returns true when the child must be reaped at once (the parent's SIGCHLD is SIG_IGN or
 * SA_NOCLDWAIT), as Linux's do_notify_parent. Wakes the parent's waiters. Process context,
 * no lock held. */
bool sig_notify_parent_exit(struct task *parent, struct thread_group *child, int wait_status);
/* Tell child's parent that the child stopped (CLD_STOPPED, status = the signal) or
 * continued (CLD_CONTINUED): SIGCHLD unless the parent set SA_NOCLDSTOP or ignores it;
 * wakes its waiters either way. Process context, no lock held. */
void sig_notify_parent_stop(struct thread_group *child, int code, int status);
/* The SIGBUS of a memory failure: BUS_MCEERR_AR (forced: cannot be blocked or ignored; kills a
 * task that cannot take it) or BUS_MCEERR_AO (ordinary), with si_addr = addr and
 * si_addr_lsb = lsb, to thread t. Callable from the return-to-user path and from a kernel
 * worker for a task on another CPU. */
void sig_send_hwpoison(struct task *t, int code, uint64_t addr, int lsb);

/* ppoll, pselect6 and rt_sigsuspend: block mask for the rest of the current syscall. The
 * caller's mask comes back on the way to user mode: in the frame of a handler that this mask
 * let run (its uc_sigmask), or at once when no handler runs. A syscall that returns without
 * being interrupted calls sig_restore_temp_mask itself. Process context, current task. */
void sig_set_temp_mask(uint64_t mask);
void sig_restore_temp_mask(void);
/* The signal lock around a change of a thread list (clone, exit, execve; sched_lock nests
 * inside it). */
irqflags_t sig_tree_lock(void);
void sig_tree_unlock(irqflags_t f);
/* A new thread joins a group stop its creator was to join. Signal lock held. */
void sig_join_group_stop(struct task *child, const struct task *creator);

/* Kill every thread of t's process but t itself (SIGKILL in each one's own set), recording
 * wait_status as the process's unless exec is set (execve: t takes the group over). Returns
 * false when the process is already being killed (t must die too). */
bool sig_zap_threads(struct task *t, int wait_status, bool exec);
/* A thread begins to exit: no signal picks it from now on; process-directed signals it left
 * pending go to another thread, and a group stop no longer waits for it. Process context. */
void sig_thread_exiting(struct task *t);

/* Whether t has work for sig_deliver: an unblocked signal (its own or its process's), a group
 * stop to join, or it is stopped. */
bool sig_pending(const struct task *t);
/* On the way back to user mode: deliver pending signals to the current task (build the
 * frame on its user stack, or carry out the default action: ignore, stop, terminate), and
 * restart or fail an interrupted syscall. */
void sig_deliver(struct user_regs *regs);
/* What /proc/PID/status shows of a thread's signals (SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt):
 * bit sig-1 of each set. */
struct sig_masks {
	uint64_t pending, shared, blocked, ignored, caught;
};
/* Fill m for thread t (all zero for a task without signal state). Takes the signal lock. */
void sig_task_masks(struct task *t, struct sig_masks *m);
/* Send sig (si_code SI_KERNEL) to every process of process group pgid, as the terminal's
 * kill_pgrp: 0, -ESRCH when the group is empty, -EINVAL for a bad pgid or signal. Process
 * context, no lock held. */
long sig_send_pgrp(int pgid, int sig);
/* The current process, in the background of its controlling terminal, reads (SIGTTIN) or
 * changes/writes it (SIGTTOU), as Linux's __tty_check_change: 0 when it may go on (the signal
 * is blocked or ignored; for SIGTTIN that is -EIO instead), -EIO when its process group is
 * orphaned, else the signal goes to its whole process group and -ERESTARTSYS. Process
 * context, no lock held. */
int sig_tty_background(int sig);
/* Whether the current task's process is being killed (a SIGKILL is pending for it). */
bool sig_fatal_pending(const struct task *t);

/* The signal syscalls with their Linux arguments (sig_syscalls.c registers them): 0 or
 * -errno; rt_sigreturn returns the restored result register. Process context. */
long sys_rt_sigaction(int sig, const void *uact, void *uoact, size_t sigsetsize);
long sys_rt_sigprocmask(int how, const uint64_t *uset, uint64_t *uoset, size_t sigsetsize);
long sys_rt_sigpending(uint64_t *uset, size_t sigsetsize);
long sys_rt_sigreturn(struct user_regs *regs);
long sys_rt_sigsuspend(const uint64_t *uset, size_t sigsetsize);
long sys_pause(void);
long sys_sigaltstack(const void *uss, void *uoss, uint64_t user_sp);
long sys_kill(int pid, int sig);
long sys_tgkill(int tgid, int tid, int sig);
long sys_rt_sigqueueinfo(int pid, int sig, const void *uinfo);
long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, const void *uinfo);
