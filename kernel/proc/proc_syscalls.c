/* The process syscalls, with Linux x86-64 numbers: fork and exec, exit and wait, identity
 * (pids, uid 0, uname, names), prctl (including PR_MCE_KILL, the memory-error kill policy),
 * yielding, and the time calls (sleeping, clocks, getrandom). */
#include "arch/context.h"
#include "arch/cpu.h"
#include "clock.h"
#include "kerrno.h"
#include "kstring.h"
#include "proc.h"
#include "random.h"
#include "syscall.h"
#include "task.h"

#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_MCE_KILL 33
#define PR_MCE_KILL_GET 34
#define PR_MCE_KILL_CLEAR 0
#define PR_MCE_KILL_SET 1
#define PR_MCE_KILL_LATE 0
#define PR_MCE_KILL_EARLY 1
#define PR_MCE_KILL_DEFAULT 2
#define CLONE_SIGCHLD 17
#define CLOCK_ID_MAX 11
#define CLOCK_REALTIME_ID 0
#define NS_PER_S 1000000000ull

static long sys_sched_yield(const struct syscall_args *a)
{
	(void)a;
	schedule();
	return 0;
}
SYSCALL_DEFINE(24, sys_sched_yield);

struct ktimespec {
	int64_t sec, nsec;
};

/* Sleep for the time at ureq; -EINTR with the time left at urem (if not NULL) when a signal
 * cut it short. */
static long sleep_for(const void *ureq, void *urem)
{
	struct ktimespec ts;
	if (arch_copy_from_user(&ts, ureq, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_S)
		return -EINVAL;
	uint64_t start = arch_time_ns(), want = (uint64_t)ts.sec * NS_PER_S + (uint64_t)ts.nsec;
	if (!sleep_ns(want))
		return 0;
	uint64_t left = want - MIN(want, arch_time_ns() - start);
	struct ktimespec rem = {(int64_t)(left / NS_PER_S), (int64_t)(left % NS_PER_S)};
	if (urem && arch_copy_to_user(urem, &rem, sizeof(rem)))
		return -EFAULT;
	return -EINTR;
}

static long sys_nanosleep(const struct syscall_args *a)
{
	return sleep_for((const void *)a->arg[0], (void *)a->arg[1]);
}
SYSCALL_DEFINE(35, sys_nanosleep);

static long sys_clock_nanosleep(const struct syscall_args *a)
{
	if (a->arg[1] != 0)
		return -EINVAL; /* TIMER_ABSTIME is not supported */
	return sleep_for((const void *)a->arg[2], (void *)a->arg[3]);
}
SYSCALL_DEFINE(230, sys_clock_nanosleep);

static long sys_clock_gettime(const struct syscall_args *a)
{
	if (a->arg[0] > CLOCK_ID_MAX)
		return -EINVAL;
	/* CLOCK_REALTIME is wall time (from the RTC); the other clocks count from boot. */
	uint64_t ns = a->arg[0] == CLOCK_REALTIME_ID && clock_wall_ns() ? clock_wall_ns()
									 : arch_time_ns();
	struct ktimespec ts = {(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S)};
	return arch_copy_to_user((void *)a->arg[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(228, sys_clock_gettime);

static long sys_gettimeofday(const struct syscall_args *a)
{
	uint64_t ns = clock_wall_ns() ? clock_wall_ns() : arch_time_ns();
	int64_t tv[2] = {(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S / 1000)};
	return a->arg[0] && arch_copy_to_user((void *)a->arg[0], tv, sizeof(tv)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(96, sys_gettimeofday);

static long sys_getpid(const struct syscall_args *a)
{
	(void)a;
	return current_task()->pid;
}
SYSCALL_DEFINE(39, sys_getpid);
/* gettid: a task is a process (single-threaded). */
static long sys_gettid(const struct syscall_args *a) { return sys_getpid(a); }
SYSCALL_DEFINE(186, sys_gettid);

static long sys_getppid(const struct syscall_args *a)
{
	(void)a;
	struct task *p = current_task()->parent;
	return p ? p->pid : 0;
}
SYSCALL_DEFINE(110, sys_getppid);

/* getuid, getgid, geteuid, getegid: everyone is root. */
static long sys_getuid(const struct syscall_args *a)
{
	(void)a;
	return 0;
}
SYSCALL_DEFINE(102, sys_getuid);
static long sys_getgid(const struct syscall_args *a) { return sys_getuid(a); }
SYSCALL_DEFINE(104, sys_getgid);
static long sys_geteuid(const struct syscall_args *a) { return sys_getuid(a); }
SYSCALL_DEFINE(107, sys_geteuid);
static long sys_getegid(const struct syscall_args *a) { return sys_getuid(a); }
SYSCALL_DEFINE(108, sys_getegid);

/* fork and vfork (a vfork child gets its own copy: a correct, slower vfork). */
static long sys_fork(const struct syscall_args *a) { return task_fork(a->regs); }
SYSCALL_DEFINE(57, sys_fork);
static long sys_vfork(const struct syscall_args *a) { return task_fork(a->regs); }
SYSCALL_DEFINE(58, sys_vfork);

static long sys_clone(const struct syscall_args *a)
{
	uint64_t flags = a->arg[0];
	if ((flags & ~0xffull) || (flags & 0xff) != CLONE_SIGCHLD || a->arg[1])
		return -EINVAL; /* threads and new stacks are not supported: fork-like clone only */
	return task_fork(a->regs);
}
SYSCALL_DEFINE(56, sys_clone);

static long sys_execve(const struct syscall_args *a)
{
	return task_execve((const char *)a->arg[0], (const char *const *)a->arg[1],
			   (const char *const *)a->arg[2], a->regs, true);
}
SYSCALL_DEFINE(59, sys_execve);

/* exit and exit_group (one thread per process): the low 8 bits of the code. */
static long sys_exit(const struct syscall_args *a) { task_exit((int)((a->arg[0] & 0xff) << 8)); }
SYSCALL_DEFINE(60, sys_exit);
static long sys_exit_group(const struct syscall_args *a) { return sys_exit(a); }
SYSCALL_DEFINE(231, sys_exit_group);

static long sys_wait4(const struct syscall_args *a)
{
	return task_wait4((int)a->arg[0], (int *)a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(61, sys_wait4);

static long sys_uname(const struct syscall_args *a)
{
	char u[6][65];
	memset(u, 0, sizeof(u));
	strlcpy(u[0], "MCRK", 65);
	strlcpy(u[1], "mcrk", 65);
	strlcpy(u[2], "0.1", 65);
	strlcpy(u[3], "#1 SMP", 65);
	strlcpy(u[4], "x86_64", 65);
	strlcpy(u[5], "(none)", 65);
	return arch_copy_to_user((void *)a->arg[0], u, sizeof(u)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(63, sys_uname);

static long prctl_mf_kill(uint64_t op, uint64_t policy)
{
	struct task *t = current_task();
	if (op == PR_MCE_KILL_CLEAR) {
		if (policy)
			return -EINVAL;
		t->mf_kill = MF_KILL_DEFAULT;
		return 0;
	}
	if (op != PR_MCE_KILL_SET)
		return -EINVAL;
	if (policy == PR_MCE_KILL_EARLY)
		t->mf_kill = MF_KILL_EARLY;
	else if (policy == PR_MCE_KILL_LATE)
		t->mf_kill = MF_KILL_LATE;
	else if (policy == PR_MCE_KILL_DEFAULT)
		t->mf_kill = MF_KILL_DEFAULT;
	else
		return -EINVAL;
	return 0;
}

static long prctl_name(struct task *t, bool set, void *uname)
{
	char name[16] = {0};
	if (!set) {
		strlcpy(name, t->name, sizeof(name));
		return arch_copy_to_user(uname, name, sizeof(name)) ? -EFAULT : 0;
	}
	if (arch_strncpy_from_user(name, uname, sizeof(name)) == -EFAULT)
		return -EFAULT;
	name[15] = 0;
	strlcpy(t->name, name, sizeof(t->name));
	return 0;
}

static long sys_prctl(const struct syscall_args *a)
{
	struct task *t = current_task();
	const uint64_t *x = a->arg;
	switch (x[0]) {
	case PR_MCE_KILL:
		return x[3] || x[4] ? -EINVAL : prctl_mf_kill(x[1], x[2]);
	case PR_MCE_KILL_GET:
		if (x[1] || x[2] || x[3] || x[4])
			return -EINVAL;
		return t->mf_kill == MF_KILL_EARLY  ? PR_MCE_KILL_EARLY
		       : t->mf_kill == MF_KILL_LATE ? PR_MCE_KILL_LATE
						      : PR_MCE_KILL_DEFAULT;
	case PR_SET_NAME:
	case PR_GET_NAME:
		return prctl_name(t, x[0] == PR_SET_NAME, (void *)x[1]);
	default:
		return -EINVAL;
	}
}
SYSCALL_DEFINE(157, sys_prctl);

static long sys_set_tid_address(const struct syscall_args *a)
{
	current_task()->clear_child_tid = a->arg[0];
	return current_task()->pid;
}
SYSCALL_DEFINE(218, sys_set_tid_address);

static long sys_getrandom(const struct syscall_args *a)
{
	/* Not cryptographic (include/random.h). */
	size_t n = MIN(a->arg[1], 256);
	uint8_t buf[256];
	random_bytes(buf, n);
	return arch_copy_to_user((void *)a->arg[0], buf, n) ? -EFAULT : (long)n;
}
SYSCALL_DEFINE(318, sys_getrandom);
