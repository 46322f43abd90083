/* Time syscalls, with Linux's clock ids and rules: clock_gettime and clock_getres for the
 * wall and monotonic clocks and for CPU-time clocks (process, thread, and those of another
 * process or thread by pid, as clock_getcpuclockid makes them), nanosleep and clock_nanosleep
 * (relative or TIMER_ABSTIME; a signal with a handler cuts a relative sleep short with
 * -EINTR and the time left, while one without a handler, a stop for instance, lets it go on
 * to its end through restart_syscall), gettimeofday, time and times.
 * The clocks: MONOTONIC, MONOTONIC_RAW and BOOTTIME are the time since boot (arch_time_ns);
 * REALTIME and TAI add clock_realtime_offset(), the wall clock's distance from it (clock.h:
 * read from the RTC at boot, or 0 without one, when the wall clock starts at the epoch at
 * boot); the COARSE clocks are rounded down to a tick.
 * CPU time is exact (run time summed at every switch); the user/system split that times and
 * getrusage report is sampled at each timer tick. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/smp.h"
#include "clock.h"
#include "kerrno.h"
#include "proc_priv.h"
#include "sig.h"
#include "syscall.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#define CLOCK_TAI 11
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define CPUCLOCK_PERTHREAD 4
#define TIMER_ABSTIME 1
#define TICK_NS (NS_PER_S / HZ)

bool ts_valid(const struct ktimespec *ts)
{
	return ts->sec >= 0 && ts->nsec >= 0 && ts->nsec < (int64_t)NS_PER_S;
}

uint64_t ts_to_ns(const struct ktimespec *ts)
{
	if ((uint64_t)ts->sec >= UINT64_MAX / NS_PER_S - 1)
		return UINT64_MAX;
	return (uint64_t)ts->sec * NS_PER_S + (uint64_t)ts->nsec;
}

struct ktimespec ns_to_ts(uint64_t ns)
{
	return (struct ktimespec){(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S)};
}

uint64_t clock_realtime_offset(void) { return clock_wall_offset_ns(); }

uint64_t deadline_after(uint64_t ns)
{
	uint64_t now = arch_time_ns();
	return ns >= UINT64_MAX - now - 1 ? UINT64_MAX - 1 : now + ns;
}

/* A CPU-time clock id (negative): the task it names, referenced, and which count it reads.
 * NULL for an id Linux refuses (-EINVAL): a bad count, no such task, another process's
 * thread, or a process clock given a thread's id. */
static struct task *cpu_clock_task(int64_t clk, int *which, bool *thread)
{
	int pid = (int)~(clk >> 3);
	*which = (int)(clk & 3);
	*thread = clk & CPUCLOCK_PERTHREAD;
	struct task *self = current_task();
	if (*which > CPUCLOCK_SCHED)
		return NULL;
	struct task *t = pid ? task_find(pid) : (task_get(self), self);
	if (!t)
		return NULL;
	bool ok = *thread ? t->group == self->group : (t == t->group->leader || t == self);
	if (!ok) {
		task_put(t);
		return NULL;
	}
	return t;
}

/* The CPU time of a task's thread or process: exact run time (SCHED), or sampled ticks. */
static uint64_t cpu_clock_ns(struct task *t, int which, bool thread)
{
	if (which == CPUCLOCK_SCHED)
		return task_cputime_ns(t, thread);
	struct thread_group *g = t->group;
	uint64_t ticks = thread ? t->utime + (which == CPUCLOCK_PROF ? t->stime : 0) : 0;
	if (!thread) {
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		ticks = g->dead_utime + (which == CPUCLOCK_PROF ? g->dead_stime : 0);
		for (struct task *u = task_next_thread(g, NULL); u; u = task_next_thread(g, u))
			if (u->state != TASK_ZOMBIE)
				ticks += u->utime + (which == CPUCLOCK_PROF ? u->stime : 0);
		spin_unlock_irqrestore(&sched_lock, f);
	}
	return ticks * TICK_NS;
}

/* The time of clock clk now, or -EINVAL. */
static long clock_read(int64_t clk, uint64_t *ns)
{
	uint64_t mono = arch_time_ns();
	switch (clk) {
	case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM: case CLOCK_TAI:
		*ns = mono + clock_realtime_offset();
		return 0;
	case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
		*ns = mono;
		return 0;
	case CLOCK_REALTIME_COARSE:
		*ns = (mono + clock_realtime_offset()) / TICK_NS * TICK_NS;
		return 0;
	case CLOCK_MONOTONIC_COARSE:
		*ns = mono / TICK_NS * TICK_NS;
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
		*ns = task_cputime_ns(current_task(), clk == CLOCK_THREAD_CPUTIME_ID);
		return 0;
	}
	int which;
	bool thread;
	struct task *t = clk < 0 ? cpu_clock_task(clk, &which, &thread) : NULL;
	if (!t)
		return -EINVAL;
	*ns = cpu_clock_ns(t, which, thread);
	task_put(t);
	return 0;
}

static long sys_clock_gettime(const struct syscall_args *a)
{
	uint64_t ns;
	long err = clock_read((int64_t)(int32_t)a->arg[0], &ns);
	if (err)
		return err;
	struct ktimespec ts = ns_to_ts(ns);
	return arch_copy_to_user((void *)a->arg[1], &ts, sizeof(ts)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(228, sys_clock_gettime);

static long sys_clock_getres(const struct syscall_args *a)
{
	int64_t clk = (int64_t)(int32_t)a->arg[0];
	uint64_t ns;
	long err = clock_read(clk, &ns);
	if (err)
		return err;
	bool coarse = clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE ||
		      (clk < 0 && (clk & 3) != CPUCLOCK_SCHED);
	struct ktimespec res = {0, coarse ? (int64_t)TICK_NS : 1};
	if (!a->arg[1])
		return 0;
	return arch_copy_to_user((void *)a->arg[1], &res, sizeof(res)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(229, sys_clock_getres);

/* ---- sleeping ---- */

/* Sleep until deadline (arch_time_ns) or until a signal wants the thread: 0 or -EINTR. */
static long sleep_until(uint64_t deadline)
{
	struct task *t = current_task();
	for (;;) {
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		bool due = arch_time_ns() >= deadline;
		bool pending = (READ_ONCE(t->flags) & TIF_SIGPENDING) || sig_pending(t);
		if (!due && !pending)
			sleep_until_locked(deadline);
		spin_unlock_irqrestore(&sched_lock, f);
		if (due || arch_time_ns() >= deadline)
			return 0;
		if (pending)
			return -EINTR;
	}
}

static long nanosleep_restart(struct restart_block *rb);

/* A relative sleep to deadline, cut short: store the time left (when asked) and go on through
 * restart_syscall unless a handler runs (then -EINTR). */
static long interrupted(uint64_t deadline, void *urem)
{
	if (urem) {
		uint64_t now = arch_time_ns();
		struct ktimespec rem = ns_to_ts(deadline > now ? deadline - now : 0);
		if (arch_copy_to_user(urem, &rem, sizeof(rem)))
			return -EFAULT;
	}
	current_task()->restart = (struct restart_block){.fn = nanosleep_restart,
							 .deadline_ns = deadline, .urem = urem};
	return -ERESTART_RESTARTBLOCK;
}

static long nanosleep_restart(struct restart_block *rb)
{
	return sleep_until(rb->deadline_ns) ? interrupted(rb->deadline_ns, rb->urem) : 0;
}

static long get_request(const void *ureq, uint64_t *ns)
{
	struct ktimespec ts;
	if (arch_copy_from_user(&ts, ureq, sizeof(ts)))
		return -EFAULT;
	if (!ts_valid(&ts))
		return -EINVAL;
	*ns = ts_to_ns(&ts);
	return 0;
}

static long sys_nanosleep(const struct syscall_args *a)
{
	uint64_t ns;
	long err = get_request((const void *)a->arg[0], &ns);
	if (err)
		return err;
	uint64_t deadline = deadline_after(ns);
	return sleep_until(deadline) ? interrupted(deadline, (void *)a->arg[1]) : 0;
}
SYSCALL_DEFINE(35, sys_nanosleep);

/* clock_nanosleep on a process CPU clock: until the process has used that much CPU (its
 * other threads run meanwhile), looked at every tick. */
static long cpu_clock_sleep(int64_t clk, bool abs, uint64_t ns)
{
	uint64_t now;
	if (clock_read(clk, &now))
		return -EINVAL;
	uint64_t target = abs ? ns : (ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
	while (!clock_read(clk, &now) && now < target)
		if (sleep_until(deadline_after(TICK_NS)))
			return abs ? -ERESTARTNOHAND : -EINTR;
	return 0;
}

static long sys_clock_nanosleep(const struct syscall_args *a)
{
	int64_t clk = (int64_t)(int32_t)a->arg[0];
	bool abs = a->arg[1] & TIMER_ABSTIME;
	uint64_t ns, dummy;
	if (clock_read(clk, &dummy))
		return -EINVAL;
	if (clk == CLOCK_MONOTONIC_RAW || clk == CLOCK_REALTIME_COARSE ||
	    clk == CLOCK_MONOTONIC_COARSE)
		return -EOPNOTSUPP; /* clocks that cannot sleep, as on Linux */
	if (clk == CLOCK_THREAD_CPUTIME_ID || (clk < 0 && (clk & CPUCLOCK_PERTHREAD)))
		return -EINVAL;
	long err = get_request((const void *)a->arg[2], &ns);
	if (err)
		return err;
	if (clk == CLOCK_PROCESS_CPUTIME_ID || clk < 0)
		return cpu_clock_sleep(clk, abs, ns);
	bool wall = clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_ALARM || clk == CLOCK_TAI;
	uint64_t off = wall ? clock_realtime_offset() : 0;
	uint64_t deadline = !abs ? deadline_after(ns) : ns > off ? ns - off : 1;
	if (!sleep_until(deadline))
		return 0;
	return abs ? -ERESTARTNOHAND : interrupted(deadline, (void *)a->arg[3]);
}
SYSCALL_DEFINE(230, sys_clock_nanosleep);

/* restart_syscall: go on with what a signal without a handler interrupted. */
static long sys_restart_syscall(const struct syscall_args *a)
{
	(void)a;
	struct task *t = current_task();
	long (*fn)(struct restart_block *) = t->restart.fn;
	t->restart.fn = NULL;
	return fn ? fn(&t->restart) : -EINTR;
}
SYSCALL_DEFINE(219, sys_restart_syscall);

/* ---- the wall clock ---- */

static long sys_gettimeofday(const struct syscall_args *a)
{
	uint64_t ns = arch_time_ns() + clock_realtime_offset();
	int64_t tv[2] = {(int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S / 1000)};
	int32_t tz[2] = {0, 0}; /* minutes west of Greenwich, DST: Linux's default */
	if (a->arg[0] && arch_copy_to_user((void *)a->arg[0], tv, sizeof(tv)))
		return -EFAULT;
	return a->arg[1] && arch_copy_to_user((void *)a->arg[1], tz, sizeof(tz)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(96, sys_gettimeofday);

static long sys_time(const struct syscall_args *a)
{
	int64_t s = (int64_t)((arch_time_ns() + clock_realtime_offset()) / NS_PER_S);
	if (a->arg[0] && arch_copy_to_user((void *)a->arg[0], &s, sizeof(s)))
		return -EFAULT;
	return s;
}
SYSCALL_DEFINE(201, sys_time);

/* times: CPU ticks (100 a second) of the process and its reaped children; returns the ticks
 * since boot. */
static long sys_times(const struct syscall_args *a)
{
	if (a->arg[0]) {
		struct usage self, children;
		task_usage(0, &self);
		task_usage(-1, &children);
		int64_t tms[4] = {(int64_t)self.utime, (int64_t)self.stime, (int64_t)children.utime,
				  (int64_t)children.stime};
		if (arch_copy_to_user((void *)a->arg[0], tms, sizeof(tms)))
			return -EFAULT;
	}
	return (long)(arch_time_ns() / TICK_NS);
}
SYSCALL_DEFINE(100, sys_times);
