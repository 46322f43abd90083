/* Interval timers, with Linux's calls and rules: setitimer, getitimer and alarm. Each process
 * has three (kernel/time/itimer.c in Linux):
 *   ITIMER_REAL     counts wall time and sends SIGALRM;
 *   ITIMER_VIRTUAL  counts the process's user CPU time and sends SIGVTALRM;
 *   ITIMER_PROF     counts its user and system CPU time and sends SIGPROF.
 * Each signal has si_code SI_KERNEL, and a timer with an interval starts again when it fires.
 * fork gives the child none; execve keeps them; they die with the process.
 * The difference from Linux is resolution. Linux runs ITIMER_REAL on an hrtimer. Here the real
 * timers are checked at the timer tick (HZ), and CPU time is sampled at each tick, as Linux
 * does without high-resolution CPU timers. A timer therefore fires up to one tick late, never
 * early. Expired real timers are handed to a kernel worker, which finds the process by its
 * tgid under itimer_lock and sends SIGALRM from process context. Lock order: itimer_lock, then
 * the signal lock, then sched_lock. */
#include "arch/context.h"
#include "arch/smp.h"
#include "kerrno.h"
#include "list.h"
#include "printk.h"
#include "proc_priv.h"
#include "sig.h"
#include "spinlock.h"
#include "syscall.h"
#include "work.h"

#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2
#define TICK_NS (NS_PER_S / HZ)
#define NS_PER_US 1000ull

struct k_itimerval { /* struct itimerval: two struct timeval of two longs each */
	int64_t interval_sec, interval_usec, value_sec, value_usec;
};

static spinlock_t itimer_lock = SPINLOCK_INIT;
static struct list_node armed_real = {&armed_real, &armed_real}; /* itimers.real_link */
static uint64_t next_real_ns = UINT64_MAX; /* earliest expiry on armed_real (read unlocked) */
static struct work real_work;

static void recompute_next_locked(void)
{
	uint64_t next = UINT64_MAX;
	struct list_node *n;
	list_for_each(n, &armed_real)
	{
		struct itimers *it = list_entry(n, struct itimers, real_link);
		next = MIN(next, it->real_expires);
	}
	WRITE_ONCE(next_real_ns, next);
}

static void real_disarm_locked(struct itimers *it)
{
	if (it->real_expires) {
		list_del(&it->real_link);
		it->real_expires = 0;
	}
}

/* Send sig to the process of g, if it is still the one with that tgid. itimer_lock held,
 * process context. */
static void signal_group(struct thread_group *g, int sig)
{
	struct task *t = task_find(g->tgid);
	if (!t)
		return;
	if (t->group == g) {
		struct ksiginfo info = {.si_signo = sig, .si_code = SI_KERNEL};
		sig_send(t, &info);
	}
	task_put(t);
}

/* The worker: SIGALRM to every process whose real timer expired, and each timer re-armed by
 * its interval (past the present: missed periods are dropped, as Linux's hrtimer_forward). */
static void real_expire(void *unused)
{
	uint64_t now = arch_time_ns();
	irqflags_t f = spin_lock_irqsave(&itimer_lock);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &armed_real)
	{
		struct itimers *it = list_entry(n, struct itimers, real_link);
		if (it->real_expires > now)
			continue;
		signal_group(container_of(it, struct thread_group, itimers), SIGALRM);
		if (it->real_interval)
			it->real_expires += it->real_interval * ((now - it->real_expires) /
								     it->real_interval + 1);
		else
			real_disarm_locked(it);
	}
	recompute_next_locked();
	spin_unlock_irqrestore(&itimer_lock, f);
}

void itimer_init(void)
{
	real_work = (struct work){.fn = real_expire, .name = "itimer"};
	if (work_register(&real_work))
		printk(KERN_ERR "itimer: no work slot: ITIMER_REAL and alarm will not fire\n");
}

void itimer_tick_real(uint64_t now)
{
	if (READ_ONCE(next_real_ns) <= now)
		work_queue(&real_work);
}

/* Count one tick down on a CPU-time timer; true when it expired (re-armed if periodic). */
static bool cpu_timer_tick(uint64_t *left, uint64_t interval)
{
	if (!*left)
		return false;
	if (*left > TICK_NS) {
		*left -= TICK_NS;
		return false;
	}
	*left = interval;
	return true;
}

void itimer_tick_cpu(struct task *t, bool user)
{
	struct itimers *it = &t->group->itimers;
	if (!READ_ONCE(it->prof_left) && !(user && READ_ONCE(it->virt_left)))
		return;
	irqflags_t f = spin_lock_irqsave(&itimer_lock);
	bool virt = user && cpu_timer_tick(&it->virt_left, it->virt_interval);
	bool prof = cpu_timer_tick(&it->prof_left, it->prof_interval);
	spin_unlock_irqrestore(&itimer_lock, f);
	struct ksiginfo info = {.si_code = SI_KERNEL};
	if (virt) {
		info.si_signo = SIGVTALRM;
		sig_send(t, &info); /* t runs on this CPU: alive */
	}
	if (prof) {
		info.si_signo = SIGPROF;
		sig_send(t, &info);
	}
}

void itimer_exit(struct thread_group *g)
{
	irqflags_t f = spin_lock_irqsave(&itimer_lock);
	real_disarm_locked(&g->itimers);
	recompute_next_locked();
	g->itimers.virt_left = g->itimers.prof_left = 0;
	spin_unlock_irqrestore(&itimer_lock, f);
}

/* ---- the calls ---- */

static uint64_t tv_to_ns(int64_t sec, int64_t usec)
{
	if ((uint64_t)sec >= UINT64_MAX / NS_PER_S - 1)
		return UINT64_MAX / 2;
	return (uint64_t)sec * NS_PER_S + (uint64_t)usec * NS_PER_US;
}

static void ns_to_tv(uint64_t ns, int64_t *sec, int64_t *usec)
{
	*sec = (int64_t)(ns / NS_PER_S);
	*usec = (int64_t)(ns % NS_PER_S / NS_PER_US);
}

/* The timer `which` of the current process into *out. itimer_lock held. */
static void get_locked(struct itimers *it, int which, struct k_itimerval *out)
{
	uint64_t value, interval;
	if (which == ITIMER_REAL) {
		uint64_t now = arch_time_ns();
		/* An armed timer whose signal is on its way still shows 1 us, as Linux's. */
		value = !it->real_expires ? 0
			: it->real_expires > now ? MAX(it->real_expires - now, NS_PER_US)
						 : NS_PER_US;
		interval = it->real_interval;
	} else if (which == ITIMER_VIRTUAL) {
		value = it->virt_left;
		interval = it->virt_interval;
	} else {
		value = it->prof_left;
		interval = it->prof_interval;
	}
	ns_to_tv(value, &out->value_sec, &out->value_usec);
	ns_to_tv(interval, &out->interval_sec, &out->interval_usec);
}

static void set_locked(struct itimers *it, int which, uint64_t value, uint64_t interval)
{
	if (which == ITIMER_REAL) {
		real_disarm_locked(it);
		if (value) {
			it->real_expires = arch_time_ns() + value;
			list_add_tail(&it->real_link, &armed_real);
		}
		it->real_interval = value ? interval : 0;
		recompute_next_locked();
	} else if (which == ITIMER_VIRTUAL) {
		it->virt_left = value;
		it->virt_interval = value ? interval : 0;
	} else {
		it->prof_left = value;
		it->prof_interval = value ? interval : 0;
	}
}

static bool timeval_ok(int64_t sec, int64_t usec)
{
	return sec >= 0 && usec >= 0 && usec < (int64_t)(NS_PER_S / NS_PER_US);
}

/* setitimer's work: new (NULL disarms, as Linux still allows) and the old value into *old. */
static long do_setitimer(int which, const struct k_itimerval *new, struct k_itimerval *old)
{
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	uint64_t value = 0, interval = 0;
	if (new) {
		if (!timeval_ok(new->value_sec, new->value_usec) ||
		    !timeval_ok(new->interval_sec, new->interval_usec))
			return -EINVAL;
		value = tv_to_ns(new->value_sec, new->value_usec);
		interval = tv_to_ns(new->interval_sec, new->interval_usec);
	}
	struct itimers *it = &current_task()->group->itimers;
	irqflags_t f = spin_lock_irqsave(&itimer_lock);
	get_locked(it, which, old);
	set_locked(it, which, value, interval);
	spin_unlock_irqrestore(&itimer_lock, f);
	return 0;
}

static long sys_getitimer(const struct syscall_args *a)
{
	int which = (int)a->arg[0];
	struct k_itimerval v;
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	irqflags_t f = spin_lock_irqsave(&itimer_lock);
	get_locked(&current_task()->group->itimers, which, &v);
	spin_unlock_irqrestore(&itimer_lock, f);
	return arch_copy_to_user((void *)a->arg[1], &v, sizeof(v)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(36, sys_getitimer);

static long sys_setitimer(const struct syscall_args *a)
{
	struct k_itimerval new, old;
	if (a->arg[1] && arch_copy_from_user(&new, (const void *)a->arg[1], sizeof(new)))
		return -EFAULT;
	long err = do_setitimer((int)a->arg[0], a->arg[1] ? &new : NULL, &old);
	if (!err && a->arg[2] && arch_copy_to_user((void *)a->arg[2], &old, sizeof(old)))
		return -EFAULT;
	return err;
}
SYSCALL_DEFINE(38, sys_setitimer);

/* alarm(seconds): ITIMER_REAL without an interval; returns the seconds the previous alarm had
 * left, rounded to the nearest, and at least 1 if it had any time left (Linux's rule). */
static long sys_alarm(const struct syscall_args *a)
{
	struct k_itimerval new = {.value_sec = (int64_t)(uint32_t)a->arg[0]}, old;
	do_setitimer(ITIMER_REAL, &new, &old);
	if ((!old.value_sec && old.value_usec) || old.value_usec >= 500000)
		old.value_sec++;
	return old.value_sec;
}
SYSCALL_DEFINE(37, sys_alarm);
