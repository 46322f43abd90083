/* What the files of kernel/sig share: the table of actions (struct sighand, shared by
 * CLONE_SIGHAND), the per-thread state, and the helpers every file uses.
 * The signal lock (sig_lock) is one lock for every process: it guards the actions, each
 * thread's mask and pending set, each process's shared set and job-control state, and (with
 * sched_lock) thread lists. One lock, rather than one per table of actions as Linux has, so
 * that execve can take a table of its own while other CPUs send signals without the RCU that
 * Linux's lock_task_sighand relies on; with a handful of CPUs it is never held for long. */
#pragma once
#include "arch/sigframe.h"
#include "sig.h"
#include "spinlock.h"
#include "task.h"

#define SIG_DFL 0
#define SIG_IGN 1
#define SA_NOCLDSTOP 0x1
#define SA_NOCLDWAIT 0x2
#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTORER 0x04000000
#define UNBLOCKABLE (BIT(SIGKILL - 1) | BIT(SIGSTOP - 1))
#define STOP_SIGNALS (BIT(SIGSTOP - 1) | BIT(SIGTSTP - 1) | BIT(SIGTTIN - 1) | BIT(SIGTTOU - 1))

/* struct sigaction as the rt_sigaction syscall takes it (kernel layout, not libc's). */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct sighand {
	int32_t refs; /* tasks using the table; atomic */
	struct ksigaction action[NSIG];
};

struct sig_state {
	struct sighand *hand;
	uint64_t blocked;
	uint64_t saved_blocked;	   /* rt_sigsuspend: the mask to put back */
	bool restore_blocked;	   /* saved_blocked is valid */
	bool stop_pending;	   /* must join the group stop on its way to user mode */
	bool stopped;		   /* took part in the group stop, not yet continued */
	struct sig_pending pending; /* thread-directed signals */
	struct ksigaltstack altstack;
};

/* Default actions. */
enum sig_default { SIG_DFL_IGNORE, SIG_DFL_TERM, SIG_DFL_CORE, SIG_DFL_STOP };

static inline uint64_t sigbit(int sig) { return BIT(sig - 1); }
static inline bool valid_sig(int sig) { return sig >= 1 && sig <= NSIG; }

enum sig_default sig_default_action(int sig);
/* Whether sig would be dropped by t's process now: SIG_IGN, or SIG_DFL whose default ignores. */
bool sig_handler_ignores(const struct sighand *h, int sig);
/* Take the signal lock (interrupts off) to work on t's signal state. */
irqflags_t sig_lock(const struct task *t);
void sig_unlock(const struct task *t, irqflags_t f);
/* Queue info into a pending set unless that signal is already there (one instance). */
void sig_queue(struct sig_pending *p, const struct ksiginfo *info);
/* Mark t as having a signal to see and wake it; adds the CPU to kick to *kick
 * (sched_kick_cpus after unlocking). Signal lock held; takes sched_lock. */
void sig_wake_locked(struct task *t, struct cpumask *kick);
/* Remove the signals in mask from t's process: its shared set and every thread's own.
 * Signal lock held. */
void sig_flush_group(struct task *t, uint64_t mask);

/* Job control (jobctl.c). Signal lock held unless said. */
/* A stop signal's or SIGCONT's effect at send time; returns the CLD_* code to report to the
 * parent once unlocked (0: none), and adds CPUs to kick to *kick. */
int sig_jobctl_on_send(struct task *t, int sig, struct cpumask *kick);
/* The current thread joins (or starts, with sig) its process's group stop and sleeps until
 * continued or killed. Called with the lock held (flags f); returns with it released. */
void sig_do_stop(struct task *t, int sig, irqflags_t f);
/* Whether the current process's process group is orphaned (then SIGTSTP, SIGTTIN, SIGTTOU
 * with the default action are discarded). No lock held. */
bool sig_pgrp_orphaned(const struct task *t);
/* A thread leaves: a group stop in progress stops waiting for it; returns the CLD_* code to
 * report (CLD_STOPPED when it was the last one to stop), or 0. */
int sig_jobctl_thread_gone(struct task *t);
