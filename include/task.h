/* Tasks, thread groups and the scheduler, as Linux has them. A task is one thread of execution
 * with its own kernel stack, tid (pid) and signal mask. A process is a thread group: the
 * threads clone(CLONE_THREAD) made share one struct thread_group (tgid = the first thread's
 * pid, children, wait status, process group and session, resource limits, process-directed
 * pending signals, job-control state) and, necessarily, one address space and one table of
 * signal actions. The fd table (struct fd_table), the fs context (root, working directory and
 * umask: struct fs_context, both in kernel/fs/file.c) and the address space (struct mm) are
 * separate reference-counted objects that CLONE_FILES / CLONE_FS / CLONE_VM share between
 * tasks of any process.
 *
 * Locking: sched_lock (irqsave) guards the run queue, task states, wait queues, the task and
 * process trees (all_tasks, children lists, thread lists, mm user lists) and pids. A group's
 * signal lock (its sighand's, kernel/sig) guards its signal and job-control state; thread
 * lists change under both. Order: signal lock, then sched_lock; never the other way. sched_lock
 * is held across a context switch and released by whoever runs next. */
#pragma once
#include "arch/context.h"
#include "cpumask.h"
#include "cred.h"
#include "list.h"
#include "siginfo.h"
#include "spinlock.h"
#include "types.h"

struct mm;
struct fd_table;
struct fs_context;
struct sig_state;

enum task_state {
	TASK_RUNNABLE, /* on the run queue or running */
	TASK_SLEEPING, /* on a wait queue, the timer list, or no list (futex), or stopped */
	TASK_ZOMBIE,   /* a thread group's leader that exited; freed when the process is reaped */
	TASK_DEAD,     /* exited and released; freed once off its CPU and unreferenced */
};

/* Work flags checked on the way back to user mode (task_exit_to_user). */
#define TIF_NEED_RESCHED BIT(0)
#define TIF_SIGPENDING BIT(1)
#define TIF_MF_NOTIFY BIT(2) /* a memory failure needs action for this task (mf_task_work) */

/* The most descriptors a table may hold: RLIMIT_NOFILE's ceiling (Linux's fs.nr_open; a
 * setrlimit past it is EPERM). The default soft limit is 1024, as Linux gives init. */
#define TASK_MAX_FILES 4096
#define TASK_NOFILE_DEFAULT 1024
#define TASK_NAME_LEN 32

/* Kill policy for memory errors (Linux's prctl PR_MCE_KILL), per thread, inherited across
 * clone and fork, kept across execve. */
enum mf_kill_policy { MF_KILL_DEFAULT = 0, MF_KILL_LATE = 1, MF_KILL_EARLY = 2 };

struct wait_queue {
	struct list_node waiters;
};

/* Resource limits (getrlimit/setrlimit/prlimit64): Linux's numbers and layout. */
#define RLIMIT_CPU 0
#define RLIMIT_FSIZE 1
#define RLIMIT_DATA 2
#define RLIMIT_STACK 3
#define RLIMIT_CORE 4
#define RLIMIT_RSS 5
#define RLIMIT_NPROC 6
#define RLIMIT_NOFILE 7
#define RLIMIT_MEMLOCK 8
#define RLIMIT_AS 9
#define RLIM_NLIMITS 16
#define RLIM_INFINITY (~0ull)
struct rlimit64 {
	uint64_t cur, max;
};

/* A syscall to go on with after a signal without a handler interrupted it
 * (-ERESTART_RESTARTBLOCK: nanosleep, futex waits with a timeout): restart_syscall calls fn. */
struct restart_block {
	long (*fn)(struct restart_block *rb);
	uint64_t deadline_ns; /* the absolute time the interrupted sleep ends */
	void *urem;	      /* nanosleep: where to store the time left */
	uint32_t *uaddr;      /* futex wait: the word, the value expected, the bitset */
	uint32_t val, bitset;
	unsigned flags;
};

/* Process states of a thread group. */
enum group_state {
	GROUP_LIVE,   /* some thread has not exited */
	GROUP_ZOMBIE, /* every thread exited: the parent may reap it (exit_status) */
	GROUP_DEAD,   /* reaped */
};

/* Job-control flags of a thread group (struct thread_group.jobctl), under the signal lock. */
#define JOBCTL_STOPPED BIT(0)	     /* every thread has stopped (a group stop completed) */
#define JOBCTL_CONTINUED BIT(1)	     /* continued since the last report (waitid WCONTINUED) */
#define JOBCTL_STOP_REPORTED BIT(2)  /* this stop was reported to a waiter (WUNTRACED) */

/* A process's interval timers (kernel/proc/itimer.c; itimer_lock). Times in ns; 0: off. */
struct itimers {
	uint64_t real_expires, real_interval; /* ITIMER_REAL: the arch_time_ns it fires at */
	struct list_node real_link;	      /* on the armed list while real_expires is set */
	uint64_t virt_left, virt_interval;    /* ITIMER_VIRTUAL: user CPU time left */
	uint64_t prof_left, prof_interval;    /* ITIMER_PROF: user + system CPU time left */
};

/* What the threads of one process share (Linux's signal_struct and the process-wide parts
 * of task_struct). Freed when the last task that points at it is freed. */
struct thread_group {
	int32_t refs;		     /* tasks pointing here (sched_lock) */
	int tgid;		     /* = the leader's pid */
	struct task *leader;	     /* the first thread (after an execve: the thread that ran it) */
	struct list_node threads;    /* task.thread_link: leader first, then in creation order */
	unsigned nr_threads;	     /* threads that have not exited */
	enum group_state state;
	int exit_status;	     /* the wait status, once GROUP_ZOMBIE */
	uint32_t exit_uid;	     /* then: the leader's real uid (SIGCHLD's, waitid's si_uid) */
	/* The process tree (sched_lock). */
	struct thread_group *parent; /* NULL for init and kernel tasks without a parent */
	struct list_node children;   /* child processes, through their .sibling */
	struct list_node sibling;
	struct task *creator;	     /* the parent's thread that created it (__WNOTHREAD); a
					live thread of the parent, or NULL */
	bool tell_new_parent;	     /* a zombie adopted by a reaper that has not heard of it */
	struct wait_queue child_wait; /* wait4/waitid sleep here; children's exits wake it */
	struct wait_queue thread_exit; /* execve waits here for the other threads to go */
	int exit_signal;	     /* sent to the parent at exit: SIGCHLD, another, or 0 */
	bool subreaper;		     /* PR_SET_CHILD_SUBREAPER */
	bool did_exec;		     /* ran execve since fork (setpgid's EACCES) */
	/* Process group and session (sched_lock). */
	int pgid, sid;
	bool session_leader;
	bool no_ctty; /* gave up its session's controlling terminal (TIOCNOTTY; fork keeps it) */
	/* Signals and exit (the signal lock). */
	struct sig_pending shared_pending; /* process-directed signals */
	bool group_exit;		   /* exit_group or a fatal signal: every thread dies */
	int group_exit_code;		   /* the wait status it gives */
	struct task *exec_task;		   /* a thread in execve, killing the others */
	struct task *curr_target;	   /* round-robin start for process-directed signals */
	unsigned jobctl;		   /* JOBCTL_* */
	int stop_signal;		   /* the signal that stopped the group (wait reports it) */
	unsigned stop_count;		   /* threads that still have to stop */
	struct wait_queue stop_wait;	   /* stopped threads sleep here until SIGCONT */
	/* Limits and accounting. */
	struct rlimit64 rlim[RLIM_NLIMITS];
	uint64_t dead_runtime_ns, dead_utime, dead_stime; /* threads that exited (ticks) */
	uint64_t dead_min_flt, dead_nvcsw, dead_nivcsw;
	uint64_t cutime, cstime, cmin_flt, cnvcsw, cnivcsw; /* reaped children, theirs included */
	struct itimers itimers; /* setitimer/alarm: kept by execve, not inherited by fork */
};

struct task {
	int pid;	       /* the thread id (gettid); a group leader's is the tgid */
	char name[TASK_NAME_LEN];
	enum task_state state;
	bool on_cpu;	       /* its context is live on some CPU right now */
	int32_t refs;	       /* task_find/task_get holders; freed only at 0 */
	bool is_idle;
	bool is_worker;	       /* a kernel worker (work.h): scheduled ahead of every user task */
	bool exiting;	       /* began exiting: signals no longer pick it (signal lock) */
	unsigned cpu;	       /* CPU it last ran on */
	struct cpumask cpus_allowed; /* the CPUs it may run on (sched_setaffinity) */
	uint64_t flags;	       /* TIF_*, atomic */
	struct arch_context ctx;
	void *kstack;	       /* KSTACK_SIZE bytes */
	struct mm *mm;	       /* NULL for kernel tasks */
	struct list_node mm_link;     /* on mm->users while mm is set (sched_lock) */
	struct thread_group *group;   /* NULL for idle tasks and kernel workers */
	struct list_node thread_link; /* on group->threads */
	struct fd_table *fdt;	      /* open files; NULL for kernel tasks */
	struct fs_context *fs;	      /* root, working directory, umask; NULL for kernel tasks */
	struct list_node run_link;    /* run queue, a wait queue or the timed sleepers */
	struct list_node all_link;
	int exit_code;	       /* the wait status of this thread's own exit */
	uint64_t wake_at_ns;   /* deadline of a timed sleep, 0 when not sleeping on time */
	uint64_t slice_ticks;  /* timer ticks used in the current slice */
	/* clone's CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID (set_tid_address), and the robust
	 * futex list (set_robust_list): user addresses used at exit. */
	uint64_t set_child_tid;	      /* stored at the child's first return to user mode */
	uint64_t clear_child_tid;
	uint64_t robust_list;
	struct task *vfork_parent;    /* CLONE_VFORK: wakes it at execve or exit */
	bool vfork_done;
	struct wait_queue vfork_wait; /* a CLONE_VFORK parent sleeps here */
	struct restart_block restart;
	enum mf_kill_policy mf_kill;
	struct cred cred;      /* this thread's ids (cred.h): its own to change, fork copies */
	bool no_new_privs;     /* PR_SET_NO_NEW_PRIVS: exec never raises privilege (for good) */
	struct sig_state *sig; /* signal mask, pending set, altstack (kernel/sig) */
	/* CPU time: exact run time, and ticks sampled in user and kernel mode. */
	uint64_t runtime_ns, exec_start_ns, utime, stime;
	uint64_t start_ns; /* when it was made (arch_time_ns: /proc/PID/stat's starttime) */
	bool in_user;	       /* last left the kernel for user mode (tick sampling) */
	uint64_t min_flt, nvcsw, nivcsw;
	/* Action-required memory failure for this task, set in #MC context (mf_task_notify),
	 * handled on its way back to user mode (TIF_MF_NOTIFY, mf_task_work). */
	pfn_t mf_pfn;
	uint8_t mf_lsb;
	uint32_t mf_flags;   /* MF_* */
	uint64_t mf_tsc;     /* when the #MC handler read the bank */
	uint64_t mf_act_tsc; /* when the rendezvous had decided and the task was told */
};

/* The task running on this CPU. Any context but early boot. */
struct task *current_task(void);

/* Set up the scheduler; the calling boot context becomes CPU 0's idle task. Boot only. */
void sched_init(void);
/* Turn the calling context into this CPU's idle task and idle forever, running tasks
 * (kernel workers when work is pending) whenever there are any. Each CPU calls it once at
 * the end of its start-up. */
__noreturn void sched_idle_loop(void);
/* Create the kernel workers that run deferred work (work.h), one per online CPU, and let
 * the scheduler hand them pending work ahead of every user task. Boot, after sched_init and
 * once every CPU is online; panics when out of memory. */
void sched_start_workers(void);
/* The running kernel worker waits until work is pending (at once when some is): it sleeps on
 * the scheduler's list of waiting workers, which pick_next takes from ahead of the run queue.
 * Process context, kernel workers only. */
void sched_worker_wait(void);
/* Give the CPU to another runnable task, if any. Process context, interrupts enabled or not. */
void schedule(void);
/* Make a new task runnable (after creating it). */
void sched_start_task(struct task *t);
/* Restrict t to the CPUs in mask (some online CPU must be in it). A task running on a CPU no
 * longer allowed moves at its next return to user mode (at once for the caller itself).
 * 0 or -EINVAL. Process context, interrupts enabled. */
int sched_set_affinity(struct task *t, const struct cpumask *mask);
/* The online CPUs as a mask. Any context. */
void sched_online_mask(struct cpumask *out);
/* Load averages (Linux's fixed point, FSHIFT bits) over 1, 5 and 15 minutes. Any context. */
#define FSHIFT 11
void sched_loadavg(uint64_t loads[3]);
/* Tasks running or runnable now (Linux's nr_running, /proc/loadavg's first count), and the
 * time every CPU has spent idle since boot, summed (/proc/uptime's second field). Any
 * context but #MC/NMI (takes sched_lock). */
unsigned sched_nr_running(void);
uint64_t sched_idle_ns(void);
/* Timer ticks CPU cpu spent running user code, kernel code and idle since boot (/proc/stat).
 * Any context; the figures are read without a lock. */
enum { SCHED_USER, SCHED_SYSTEM, SCHED_IDLE, SCHED_CPU_TIMES };
void sched_cpu_times(unsigned cpu, uint64_t out[SCHED_CPU_TIMES]);

/* Create a kernel task running fn(arg), a process of its own (pid = tgid). NULL when out of
 * memory. Process context. */
struct task *task_create_kernel(const char *name, void (*fn)(void *), void *arg);
/* The same for a kernel worker (is_worker set): it has no pid and no thread group, so user
 * space can neither find nor signal it, and it is not counted by task_count. Process
 * context. */
struct task *task_create_worker(const char *name, void (*fn)(void *), void *arg);
/* Give t (a new task, not yet known to anyone) a thread group of its own with it as the
 * leader, limits at their defaults; 0 or -ENOMEM. Process context. */
int task_group_init(struct task *t);
/* Look up a task by tid (a zombie leader counts until reaped) and take a reference on it;
 * NULL when none. Drop the reference with task_put. Takes sched_lock. */
struct task *task_find(int pid);
/* The leader of g's parent process, referenced (task_put), or NULL. Takes sched_lock. */
struct task *task_get_parent(struct thread_group *g);
/* Take one more reference on t (the caller holds one). Takes sched_lock. */
void task_get(struct task *t);
/* Drop a reference from task_find/task_get; frees a released task at the last one. */
void task_put(struct task *t);
/* Number of tasks (threads) with a pid that exist (any state but DEAD; idle tasks and
 * workers not counted). */
unsigned task_count(void);
/* Number of processes (thread groups) not yet reaped. */
unsigned task_count_processes(void);
/* The pid handed out last (/proc/loadavg's last field). */
int task_last_pid(void);
/* The tgids of up to max processes not yet reaped, into out; returns how many there are (may
 * be more than max). Takes sched_lock. */
unsigned task_list_tgids(int *out, unsigned max);
/* The thread ids of process tgid (exited threads but the leader left out), as
 * task_list_tgids; 0 when there is no such process. Takes sched_lock. */
unsigned task_list_tids(int tgid, int *out, unsigned max);
/* Make mm the address space of t (NULL: none), keeping mm->users (who runs in mm) right.
 * The caller moves its own references on the mms. Takes sched_lock. */
void task_set_mm(struct task *t, struct mm *mm);
/* For memory_failure: call pick(g, arg) under sched_lock once for each process g that has
 * a live thread in mm (pick may only read tasks; walk g's threads with task_next_thread);
 * each task it returns is referenced and stored in out[] (at most max). Returns how many.
 * Cost: the threads that run in mm, not the tasks of the system. Process context. */
unsigned task_mm_pick(struct mm *mm, struct task *(*pick)(struct thread_group *g, void *arg),
		      void *arg, struct task **out, unsigned max);
/* The thread after t in g's list (leader first), NULL at the end; t NULL gives the first.
 * sched_lock or the signal lock held. Exited threads other than the leader are not listed. */
struct task *task_next_thread(struct thread_group *g, struct task *t);

/* Sleep on wq until woken (the caller re-checks its condition). Process context. */
void wait_queue_init(struct wait_queue *wq);
/* Interval timers (kernel/proc/itimer.c). itimer_init: register the worker that sends
 * SIGALRM (boot, process context). itimer_tick_real: from the boot CPU's timer tick, queue it
 * when a real timer is due. itimer_tick_cpu: from each CPU's tick, charge one tick of CPU time
 * (user or not) to the running task t's process (ITIMER_VIRTUAL, ITIMER_PROF), signalling it
 * on expiry; IRQ context. itimer_exit: the process g is dead: its timers stop (process
 * context, no lock held; before g can be reaped). */
void itimer_init(void);
void itimer_tick_real(uint64_t now);
void itimer_tick_cpu(struct task *t, bool user);
void itimer_exit(struct thread_group *g);

void sleep_on(struct wait_queue *wq);
/* The same with sched_lock already held (interrupts off): for callers that check their
 * condition under sched_lock so a wake-up cannot be lost. Returns with the lock held. */
void sleep_on_locked(struct wait_queue *wq);
/* Sleep on no queue until task_wake or, when deadline_ns is not 0, until arch_time_ns()
 * reaches it. sched_lock held (interrupts off), the caller having checked under it that it
 * must sleep; returns with the lock held. */
void sleep_until_locked(uint64_t deadline_ns);
/* Wake every task sleeping on wq. Any context but #MC/NMI. */
void wake_up(struct wait_queue *wq);
/* Sleep for at least ns nanoseconds; returns early (-EINTR) if a signal arrives. */
int sleep_ns(uint64_t ns);
/* Sleep until task_wake(current) (the waker sets *woken first), a signal, or the clock passes
 * deadline_ns (0: no deadline). *woken and the signal flag are read under sched_lock before
 * the task sleeps, so a waker that sets *woken and then calls task_wake is never missed.
 * Returns 0 (woken, or *woken already set), -EINTR (a signal is pending) or -ETIMEDOUT.
 * Process context, no spinlock held. */
int sched_sleep_until(uint64_t deadline_ns, const uint32_t *woken);

/* Ask the task to run its return-to-user work; kick its CPU if it runs elsewhere. */
void task_set_flag(struct task *t, uint64_t flag);
bool task_test_and_clear_flag(struct task *t, uint64_t flag);
/* Wake t early if it is sleeping (a signal arrived); kick its CPU if it runs elsewhere. */
void task_wake(struct task *t);
/* The same with sched_lock held: wakes t if it sleeps, and adds to *kick the CPU to
 * interrupt once the locks are dropped (sched_kick_cpus): an idle CPU t may run on, or the
 * CPU t runs on elsewhere. */
void task_wake_locked(struct task *t, struct cpumask *kick);
/* Interrupt the CPUs in m (but this one) so their tasks see their flags now. Does nothing
 * with interrupts off (their next timer tick does it). */
void sched_kick_cpus(const struct cpumask *m);

/* clone/fork/vfork with Linux's flags (kernel/proc/clone.c). */
#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_PIDFD 0x00001000
#define CLONE_PTRACE 0x00002000
#define CLONE_VFORK 0x00004000
#define CLONE_PARENT 0x00008000
#define CLONE_THREAD 0x00010000
#define CLONE_NEWNS 0x00020000
#define CLONE_SYSVSEM 0x00040000
#define CLONE_SETTLS 0x00080000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_DETACHED 0x00400000
#define CLONE_UNTRACED 0x00800000
#define CLONE_CHILD_SETTID 0x01000000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define CLONE_IO 0x80000000ull
#define CLONE_CLEAR_SIGHAND 0x100000000ull /* clone3: handlers back to SIG_DFL */
#define CSIGNAL 0xff

struct clone_args {
	uint64_t flags;       /* CLONE_* (without the exit signal) */
	int exit_signal;
	uint64_t stack;       /* the child's stack pointer, 0: the caller's */
	uint64_t tls;	      /* CLONE_SETTLS */
	uint64_t parent_tid;  /* CLONE_PARENT_SETTID: user address */
	uint64_t child_tid;   /* CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID: user address */
};
/* Create a task as Linux's kernel_clone does, from the current one whose saved user
 * registers are regs. Returns the new tid, or -EINVAL for a combination of flags Linux refuses
 * (or one MCRK does not support: namespaces, CLONE_PIDFD), -EAGAIN past RLIMIT_NPROC, -ENOMEM,
 * -EFAULT. Process context. */
long task_clone(const struct clone_args *ca, struct user_regs *regs);
/* fork: clone with exit signal SIGCHLD and nothing shared. */
long task_fork(struct user_regs *regs);

/* wait4 and waitid (kernel/proc/wait.c). */
#define WNOHANG 0x00000001
#define WUNTRACED 0x00000002
#define WSTOPPED WUNTRACED
#define WEXITED 0x00000004
#define WCONTINUED 0x00000008
#define WNOWAIT 0x01000000
#define __WNOTHREAD 0x20000000
#define __WALL 0x40000000
#define __WCLONE 0x80000000u
#define P_ALL 0
#define P_PID 1
#define P_PGID 2
/* wait4 for a child (pid -1: any; 0: our process group; < -1: group -pid), storing its
 * status at ustatus (if not NULL) and its usage at urusage. Child pid, 0 (WNOHANG) or -errno. */
long task_wait4(int pid, int *ustatus, int options, void *urusage);
/* waitid(which, id, infop, options, rusage). 0 or -errno. */
long task_waitid(int which, int id, void *uinfo, int options, void *urusage);
/* CPU time of t's thread (thread) or of its whole process, in ns. */
uint64_t task_cputime_ns(struct task *t, bool thread);

/* Terminate the current thread with a Linux wait status (exit(n): n << 8; killed: signo).
 * The process ends with its last thread. */
__noreturn void task_exit(int wait_status);
/* exit_group and fatal signals: end every thread of the current process with this status. */
__noreturn void task_exit_group(int wait_status);
/* execve's de_thread: kill every other thread of the current process and wait until they are
 * gone; the caller takes the leader's pid. 0, or -EINTR when the process is being killed
 * (the caller then returns and dies of the pending SIGKILL). */
int task_exec_dethread(void);
/* execve's and exit's release of the address space: clear_child_tid (store 0, wake the
 * futex), walk the robust list, wake a CLONE_VFORK parent. Process context, t current. */
void task_mm_release(struct task *t);

/* Process groups and sessions (kernel/proc/pgrp.c). Under sched_lock. */
/* Whether process group pgid has a member whose parent is in another process group of the
 * same session (POSIX: not orphaned), not counting `ignore` (exiting). sched_lock held. */
bool task_pgrp_orphaned(int pgid, const struct thread_group *ignore);
/* Call fn for every process with process group pgid (pgid -1: every process but init and
 * the caller's, kill(-1)); referenced leaders, signalled after sched_lock is dropped.
 * Returns 0 when some fn call returned 0, else the last error, -ESRCH when none matched. */
long task_for_each_in_pgrp(int pgid, long (*fn)(struct task *leader, void *arg), void *arg);

/* Resource limit r of the current process. */
uint64_t task_rlimit(unsigned r);

extern spinlock_t sched_lock;
