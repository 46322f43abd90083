/* What the files of kernel/proc share: task and group allocation (process.c), the walks over
 * every process, and the scheduler's locked helpers (sched.c). */
#pragma once
#include "task.h"

/* Most processes (and threads) one user may have: RLIMIT_NPROC's default, as Linux derives it
 * from memory at boot for a machine of MCRK's size. */
#define TASK_NPROC_MAX 4096
#define INIT_PID 1
#define NS_PER_S 1000000000ull

/* The task with tid pid (not DEAD), unreferenced; sched_lock held. */
struct task *task_find_locked(int pid);
/* A new task, not yet runnable, with no group; with a pid (counted, findable by task_find)
 * unless it is a kernel worker. NULL when out of memory. */
struct task *task_alloc(const char *name, bool with_pid);
/* A thread group for leader (refs 1, limits at their defaults), leader->group set. */
struct thread_group *group_alloc(struct task *leader);
/* Free a released task that is off every CPU and unreferenced. sched_lock held. */
void task_free(struct task *t);
/* The leader of the process after t's in the list of all tasks (t NULL: the first); NULL at
 * the end. Reaped processes are skipped. sched_lock held. */
struct task *task_next_process(struct task *t);
/* Whether another task also runs in t's address space. Takes sched_lock. */
bool task_mm_shared(const struct task *t);
/* Wake every task sleeping on wq; sched_lock held. */
void wake_up_locked(struct wait_queue *wq);
/* The process group leader's lookups (pgrp.c): the process with tgid `pid`, sched_lock held. */
struct thread_group *group_by_tgid(int tgid);

/* Time (time.c). Linux's struct timespec. */
struct ktimespec {
	int64_t sec, nsec;
};
/* Linux's timespec64_valid: sec >= 0, 0 <= nsec < 1e9. */
bool ts_valid(const struct ktimespec *ts);
/* A valid timespec in ns, saturating at UINT64_MAX. */
uint64_t ts_to_ns(const struct ktimespec *ts);
struct ktimespec ns_to_ts(uint64_t ns);
/* CLOCK_REALTIME minus CLOCK_MONOTONIC (arch_time_ns), in ns. */
uint64_t clock_realtime_offset(void);
/* now + ns, saturating below UINT64_MAX (a deadline for sleep_until_locked, never 0). */
uint64_t deadline_after(uint64_t ns);
/* Release a zombie process nobody will wait for (its parent ignores SIGCHLD). */
void task_release_zombie(struct thread_group *c);
/* Whether a process of group pgid is stopped (job control). sched_lock held. */
bool task_pgrp_has_stopped(int pgid);

/* CPU ticks (HZ a second, sampled in user and kernel mode), page faults and switches. */
struct usage {
	uint64_t utime, stime, min_flt, nvcsw, nivcsw;
};
/* Usage of the current thread (RUSAGE_THREAD, 1), its process (RUSAGE_SELF, 0) or its reaped
 * children (RUSAGE_CHILDREN, -1). 0 or -EINVAL. */
int task_usage(int who, struct usage *u);
