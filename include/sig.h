/* Signals with Linux's ABI: numbers, sigaction, masks and siginfo (the frame a handler
 * gets is the arch's: include/arch/sigframe.h). A task's signal state lives in struct
 * sig_state (kernel/sig/signal.c); the syscalls are registered in kernel/sig/sig_syscalls.c. */
#pragma once
#include "types.h"

struct task;
struct user_regs;

#define NSIG 64
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

/* Linux's struct siginfo (128 bytes), the fields MCRK fills. */
struct ksiginfo {
	int32_t si_signo, si_errno, si_code, _pad0;
	union {
		struct { /* kill, tgkill, sigqueue */
			int32_t pid;
			uint32_t uid;
			uint64_t value;
		} kill;
		struct { /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
			uint64_t addr;
			int16_t addr_lsb;
		} fault;
		struct { /* SIGCHLD */
			int32_t pid;
			uint32_t uid;
			int32_t status;
			int32_t _pad;
			int64_t utime, stime;
		} chld;
		uint8_t raw[112];
	} u;
};

/* Per-task state: allocate for a new task, copy on fork, free on exit. 0 or -ENOMEM. */
int sig_task_init(struct task *t);
int sig_fork(struct task *child, const struct task *parent);
void sig_exit(struct task *t);
/* execve: caught signals go back to their default action; masks and ignores stay. */
void sig_exec(struct task *t);

/* Queue a signal for t (kill, SIGCHLD, ...). Blocked signals stay pending; an ignored one is
 * dropped. Wakes t and kicks its CPU. 0 or -EINVAL. Process or IRQ context. */
int sig_send(struct task *t, const struct ksiginfo *info);
/* A synchronous fault signal for the current task: if it is blocked or ignored the task is
 * killed by it, as on Linux (force). */
void sig_force(struct task *t, const struct ksiginfo *info);
/* Kill t by this signal's default action: no handler runs, blocking does not help (a task
 * that cannot be resumed, e.g. a machine check with RIPV clear). Wait status shows sig. */
void sig_kill_with(struct task *t, const struct ksiginfo *info);
/* Tell parent that child pid ended with wait status. */
void sig_send_chld(struct task *parent, int pid, int wait_status);
/* The SIGBUS of a memory failure: BUS_MCEERR_AR (forced: cannot be blocked or ignored; kills a
 * task that cannot take it) or BUS_MCEERR_AO (ordinary), with si_addr = addr and
 * si_addr_lsb = lsb. Callable from the return-to-user path and from a kernel worker for a task
 * on another CPU. */
void sig_send_hwpoison(struct task *t, int code, uint64_t addr, int lsb);

/* ppoll, pselect6 (and sigsuspend): block mask for the rest of the current syscall. The
 * caller's mask comes back on the way to user mode: in the frame of a handler that this mask
 * let run (its uc_sigmask), or at once when no handler runs. A syscall that returns without
 * being interrupted calls sig_restore_temp_mask itself. Process context, current task. */
void sig_set_temp_mask(uint64_t mask);
void sig_restore_temp_mask(void);
/* Whether t has an unblocked signal pending. */
bool sig_pending(const struct task *t);
/* On the way back to user mode: deliver pending signals to the current task (build the
 * frame on its user stack, or carry out the default action). */
void sig_deliver(struct user_regs *regs);

/* The signal syscalls with their Linux arguments (sig_syscalls.c registers them): 0 or
 * -errno; rt_sigreturn returns the restored result register. Process context. */
long sys_rt_sigaction(int sig, const void *uact, void *uoact, size_t sigsetsize);
long sys_rt_sigprocmask(int how, const uint64_t *uset, uint64_t *uoset, size_t sigsetsize);
long sys_rt_sigpending(uint64_t *uset, size_t sigsetsize);
long sys_rt_sigreturn(struct user_regs *regs);
long sys_sigaltstack(const void *uss, void *uoss, uint64_t user_sp);
long sys_kill(int pid, int sig);
long sys_tgkill(int tgid, int tid, int sig);
long sys_rt_sigqueueinfo(int pid, int sig, const void *uinfo);
