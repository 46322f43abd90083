/* Tasks and the scheduler. A task is a thread of execution with its own kernel stack; a user
 * task also has an address space (struct mm). MCRK's user processes are single-threaded, so
 * a task is a process: pid == tid.
 * Locking: one scheduler lock (sched_lock) guards run queue, task states, wait queues and the
 * task tree; it is held across a context switch and released by whoever runs next. */
#pragma once
#include "arch/context.h"
#include "list.h"
#include "spinlock.h"
#include "types.h"

struct mm;
struct fd_table;
struct fs_context;
struct sig_state;

enum task_state {
	TASK_RUNNABLE, /* on the run queue or running */
	TASK_SLEEPING, /* on a wait queue or the timer list */
	TASK_ZOMBIE,   /* exited, waiting for its parent's wait4 */
	TASK_DEAD,     /* reaped; freed once off its CPU */
};

/* Work flags checked on the way back to user mode (task_exit_to_user). */
#define TIF_NEED_RESCHED BIT(0)
#define TIF_SIGPENDING BIT(1)
#define TIF_MF_NOTIFY BIT(2) /* a memory failure needs action for this task (mf_task_work) */

#define TASK_NAME_LEN 32

/* Kill policy for memory errors (Linux's prctl PR_MCE_KILL), inherited across fork. */
enum mf_kill_policy { MF_KILL_DEFAULT = 0, MF_KILL_LATE = 1, MF_KILL_EARLY = 2 };

struct wait_queue {
	struct list_node waiters;
};

struct task {
	int pid;
	char name[TASK_NAME_LEN];
	enum task_state state;
	bool on_cpu;           /* its context is live on some CPU right now */
	int32_t refs;          /* task_find, task_get_mm_owner holders; freed only at 0 */
	bool is_idle;
	bool is_worker;        /* a kernel worker (work.h): scheduled ahead of every user task */
	unsigned cpu;          /* CPU it last ran on */
	uint64_t flags;        /* TIF_*, atomic */
	struct arch_context ctx;
	void *kstack;          /* KSTACK_SIZE bytes */
	struct mm *mm;         /* NULL for kernel tasks */
	struct task *parent;
	struct list_node children, sibling;
	struct list_node run_link;  /* run queue or a wait queue */
	struct list_node all_link;
	struct wait_queue child_exit; /* wait4 sleeps here */
	int exit_status;       /* Linux wait status, valid when ZOMBIE */
	uint64_t wake_at_ns;   /* nanosleep deadline, 0 when not sleeping on time */
	uint64_t slice_ticks;  /* timer ticks used in the current slice */
	uint64_t clear_child_tid;
	enum mf_kill_policy mf_kill;
	struct sig_state *sig; /* signal handlers, masks and pending sets (kernel/sig) */
	struct fd_table *files; /* descriptors (kernel/fs/file.c; shared by CLONE_FILES) */
	struct fs_context *fs;  /* root, working directory, umask (shared by CLONE_FS) */
	/* Action-required memory failure for this task, set in #MC context (mf_task_notify),
	 * handled on its way back to user mode (TIF_MF_NOTIFY, mf_task_work). */
	pfn_t mf_pfn;
	uint8_t mf_lsb;
	uint32_t mf_flags;    /* MF_* */
	uint64_t mf_tsc;      /* when the #MC handler read the bank */
	uint64_t mf_act_tsc;  /* when the rendezvous had decided and the task was told */
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

/* Create a kernel task running fn(arg). NULL when out of memory. Process context. */
struct task *task_create_kernel(const char *name, void (*fn)(void *), void *arg);
/* The same for a kernel worker (is_worker set): it has no pid, so user space can neither
 * find nor signal it, and it is not counted by task_count. Process context. */
struct task *task_create_worker(const char *name, void (*fn)(void *), void *arg);
/* Look up a task by pid (a zombie counts until reaped) and take a reference on it; NULL
 * when none. Drop the reference with task_put. Takes sched_lock. */
struct task *task_find(int pid);
/* The live task whose address space mm is, with a reference taken; NULL when it is gone or
 * exiting. For memory_failure, which finds address spaces through the rmap. */
struct task *task_get_mm_owner(struct mm *mm);
/* Drop a reference from task_find/task_get_mm_owner; frees a reaped task at the last one. */
void task_put(struct task *t);
/* Number of tasks with a pid that exist (any state but DEAD; idle tasks and workers not
 * counted). */
unsigned task_count(void);

/* Sleep on wq until woken (the caller re-checks its condition). Process context. */
void wait_queue_init(struct wait_queue *wq);
void sleep_on(struct wait_queue *wq);
/* The same with sched_lock already held (interrupts off): for callers that check their
 * condition under sched_lock so a wake-up cannot be lost. Returns with the lock held. */
void sleep_on_locked(struct wait_queue *wq);
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

/* fork: copy the current task (registers regs); the child's pid, or -errno. */
long task_fork(struct user_regs *regs);
/* wait4 for a child (pid -1: any), storing its status at the user pointer ustatus. */
long task_wait4(int pid, int *ustatus, int options);
/* Wake t early if it is sleeping (a signal arrived). */
void task_wake(struct task *t);

/* Terminate the current task with a Linux wait status (exit(n): n << 8; killed: signo). */
__noreturn void task_exit(int wait_status);

extern spinlock_t sched_lock;
