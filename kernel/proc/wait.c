/* wait4 and waitid (Linux's do_wait): a process waits for its child processes, never for
 * threads. Any thread of the parent may wait for a child of any thread (unless __WNOTHREAD);
 * a child is reported when it is a zombie (WEXITED; every thread gone), stopped (WUNTRACED /
 * WSTOPPED, once per stop) or continued (WCONTINUED, once), in that order of preference, with
 * Linux's wait status and siginfo. Reaping adds the child's CPU times to the parent's
 * children's times and frees it; wait returns once every frame of it is back. Also
 * getrusage and the CPU-time sums the clocks read. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "kerrno.h"
#include "kstring.h"
#include "proc_priv.h"
#include "vfs.h"
#include "sig.h"
#include "syscall.h"

#define INT_MIN_ (-2147483647 - 1)
#define P_PIDFD 3
#define WAIT4_OPTIONS (WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)
#define WAITID_OPTIONS (WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | \
			__WCLONE | __WALL)
#define TICKS_PER_S 100
#define RUSAGE_SELF 0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD 1

struct wait_opts {
	int type; /* P_ALL, P_PID, P_PGID */
	int id;
	unsigned options;
};

/* What one wait found. */
struct wait_result {
	int pid;
	int status;  /* wait4's */
	int code;    /* waitid's si_code */
	int sistatus;
	uint32_t uid; /* the child's real uid (si_uid) */
	struct usage use; /* the child's and its reaped children's, for its rusage */
};

/* Linux's eligible_child. */
static bool eligible(const struct wait_opts *wo, const struct thread_group *c, struct task *self)
{
	if ((wo->type == P_PID && c->tgid != wo->id) || (wo->type == P_PGID && c->pgid != wo->id))
		return false;
	if ((wo->options & __WNOTHREAD) && c->creator != self)
		return false;
	/* Clone children (exit signal other than SIGCHLD) only with __WCLONE, others without,
	 * both with __WALL. */
	bool clone_child = c->exit_signal != SIGCHLD;
	return (wo->options & __WALL) || clone_child == !!(wo->options & __WCLONE);
}

static void take_usage(struct wait_result *r, const struct thread_group *c)
{
	r->use = (struct usage){c->dead_utime + c->cutime, c->dead_stime + c->cstime,
				c->dead_min_flt + c->cmin_flt, c->dead_nvcsw + c->cnvcsw,
				c->dead_nivcsw + c->cnivcsw};
}

/* Whether c has something to report to this wait; fills r. Consumes a stop or continue report
 * unless WNOWAIT. sched_lock held (the job-control flags are read as Linux does, unlocked). */
static bool reportable(const struct wait_opts *wo, struct thread_group *c, struct wait_result *r)
{
	r->pid = c->tgid;
	r->uid = c->state == GROUP_ZOMBIE ? c->exit_uid : c->leader->cred.uid;
	take_usage(r, c);
	if (c->state == GROUP_ZOMBIE && (wo->options & WEXITED)) {
		int st = c->exit_status, sig = st & 0x7f;
		r->status = st;
		r->code = sig ? ((st & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
		r->sistatus = sig ? sig : (st >> 8) & 0xff;
		return true;
	}
	unsigned jc = READ_ONCE(c->jobctl);
	if ((wo->options & WSTOPPED) && (jc & JOBCTL_STOPPED) && !(jc & JOBCTL_STOP_REPORTED) &&
	    c->state == GROUP_LIVE) {
		r->status = (c->stop_signal << 8) | 0x7f;
		r->code = CLD_STOPPED;
		r->sistatus = c->stop_signal;
		if (!(wo->options & WNOWAIT))
			c->jobctl |= JOBCTL_STOP_REPORTED;
		return true;
	}
	if ((wo->options & WCONTINUED) && (jc & JOBCTL_CONTINUED) && c->state == GROUP_LIVE) {
		r->status = 0xffff;
		r->code = CLD_CONTINUED;
		r->sistatus = SIGCONT;
		if (!(wo->options & WNOWAIT))
			c->jobctl &= ~JOBCTL_CONTINUED;
		return true;
	}
	return false;
}

/* Reap zombie c, child of g: its times go to g's children's, then it is freed once every
 * thread of it is off its CPU and freed (so that every frame is back when wait returns).
 * Called with sched_lock held (flags f); returns with it released. */
static void reap(struct thread_group *g, struct thread_group *c, irqflags_t f)
{
	g->cutime += c->dead_utime + c->cutime;
	g->cstime += c->dead_stime + c->cstime;
	g->cmin_flt += c->dead_min_flt + c->cmin_flt;
	g->cnvcsw += c->dead_nvcsw + c->cnvcsw;
	g->cnivcsw += c->dead_nivcsw + c->cnivcsw;
	struct task *l = c->leader;
	c->state = GROUP_DEAD;
	list_del(&c->sibling);
	list_del(&l->thread_link);
	l->refs++; /* keeps l (and c) while we wait */
	while (__atomic_load_n(&l->on_cpu, __ATOMIC_ACQUIRE) || c->refs > 1) {
		spin_unlock_irqrestore(&sched_lock, f);
		arch_cpu_relax();
		f = spin_lock_irqsave(&sched_lock);
	}
	l->refs--;
	l->state = TASK_DEAD;
	int tgid = c->tgid;
	task_free(l);
	spin_unlock_irqrestore(&sched_lock, f);
	vfs_proc_flush(tgid);
}

/* One pass over the children: 1 reported (r filled, the child reaped if it was a zombie and
 * the wait consumes it), 0 an eligible child but nothing to report, -ECHILD none. Called with
 * sched_lock held (f); returns with it released when it reported. */
static int scan(const struct wait_opts *wo, struct wait_result *r, irqflags_t f)
{
	struct task *self = current_task();
	struct thread_group *g = self->group;
	bool any = false;
	struct list_node *n;
	list_for_each(n, &g->children)
	{
		struct thread_group *c = list_entry(n, struct thread_group, sibling);
		if (!eligible(wo, c, self))
			continue;
		any = true;
		if (!reportable(wo, c, r))
			continue;
		if (r->code <= CLD_DUMPED && !(wo->options & WNOWAIT))
			reap(g, c, f);
		else
			spin_unlock_irqrestore(&sched_lock, f);
		return 1;
	}
	return any ? 0 : -ECHILD;
}

/* Wait for a child matching wo: 1 with r filled, 0 for WNOHANG with nothing ready, -ECHILD,
 * -ERESTARTSYS when a signal came. */
static int do_wait(const struct wait_opts *wo, struct wait_result *r)
{
	struct task *self = current_task();
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	for (;;) {
		int found = scan(wo, r, f);
		if (found == 1)
			return 1;
		int ret = found < 0 ? found : (wo->options & WNOHANG) ? 0 : sig_pending(self) ? -ERESTARTSYS : 1;
		if (ret != 1) {
			spin_unlock_irqrestore(&sched_lock, f);
			return ret;
		}
		/* Still under sched_lock: a child exiting now cannot slip its wake-up past us. */
		sleep_on_locked(&self->group->child_wait);
	}
}

/* Linux's struct rusage (144 bytes) from tick counts. */
struct krusage {
	int64_t utime_sec, utime_usec, stime_sec, stime_usec;
	int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock;
	int64_t msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
};

static void fill_rusage(struct krusage *ru, const struct usage *u)
{
	memset(ru, 0, sizeof(*ru));
	ru->utime_sec = (int64_t)(u->utime / TICKS_PER_S);
	ru->utime_usec = (int64_t)(u->utime % TICKS_PER_S * (1000000 / TICKS_PER_S));
	ru->stime_sec = (int64_t)(u->stime / TICKS_PER_S);
	ru->stime_usec = (int64_t)(u->stime % TICKS_PER_S * (1000000 / TICKS_PER_S));
	ru->minflt = (int64_t)u->min_flt;
	ru->nvcsw = (int64_t)u->nvcsw;
	ru->nivcsw = (int64_t)u->nivcsw;
}

static long put_rusage(void *uru, const struct usage *u)
{
	struct krusage ru;
	if (!uru)
		return 0;
	fill_rusage(&ru, u);
	return arch_copy_to_user(uru, &ru, sizeof(ru)) ? -EFAULT : 0;
}

long task_wait4(int pid, int *ustatus, int options, void *urusage)
{
	struct wait_opts wo = {.type = P_PID, .id = pid, .options = (unsigned)options | WEXITED};
	struct wait_result r;
	if ((unsigned)options & ~(unsigned)WAIT4_OPTIONS)
		return -EINVAL;
	if (pid == INT_MIN_)
		return -ESRCH; /* -INT_MIN does not exist */
	if (pid == -1)
		wo.type = P_ALL;
	else if (pid <= 0)
		wo = (struct wait_opts){P_PGID, pid ? -pid : current_task()->group->pgid, wo.options};
	int ret = do_wait(&wo, &r);
	if (ret <= 0)
		return ret;
	if (ustatus && arch_copy_to_user(ustatus, &r.status, sizeof(r.status)))
		return -EFAULT;
	return put_rusage(urusage, &r.use) ? -EFAULT : r.pid;
}

long task_waitid(int which, int id, void *uinfo, int options, void *urusage)
{
	struct wait_opts wo = {.type = which, .id = id, .options = (unsigned)options};
	struct wait_result r = {0};
	if (((unsigned)options & ~(unsigned)WAITID_OPTIONS) ||
	    !(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	if (which == P_PID && id <= 0)
		return -EINVAL;
	if (which == P_PGID && id < 0)
		return -EINVAL;
	if (which == P_PGID && id == 0)
		wo.id = current_task()->group->pgid;
	if (which == P_PIDFD)
		return id < 0 ? -EINVAL : -EBADF; /* MCRK has no pidfds */
	if (which != P_ALL && which != P_PID && which != P_PGID)
		return -EINVAL;
	int ret = do_wait(&wo, &r);
	if (ret < 0)
		return ret;
	if (ret > 0 && put_rusage(urusage, &r.use))
		return -EFAULT;
	if (!uinfo)
		return 0;
	struct ksiginfo i = {.si_signo = ret > 0 ? SIGCHLD : 0, .si_code = ret > 0 ? r.code : 0};
	i.u.chld.pid = ret > 0 ? r.pid : 0;
	i.u.chld.uid = ret > 0 ? r.uid : 0;
	i.u.chld.status = ret > 0 ? r.sistatus : 0;
	/* Linux writes signo, errno, code, pid, uid and status; the rest stays as it was. */
	return arch_copy_to_user(uinfo, &i, offsetof(struct ksiginfo, u.chld._pad)) ? -EFAULT : 0;
}

static long sys_wait4(const struct syscall_args *a)
{
	return task_wait4((int)a->arg[0], (int *)a->arg[1], (int)a->arg[2], (void *)a->arg[3]);
}
SYSCALL_DEFINE(61, sys_wait4);

static long sys_waitid(const struct syscall_args *a)
{
	return task_waitid((int)a->arg[0], (int)a->arg[1], (void *)a->arg[2], (int)a->arg[3],
			   (void *)a->arg[4]);
}
SYSCALL_DEFINE(247, sys_waitid);

/* ---- CPU time and usage ---- */

uint64_t task_cputime_ns(struct task *t, bool thread)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	uint64_t now = arch_time_ns(), sum = 0;
	struct thread_group *g = t->group;
	if (thread || !g) {
		sum = t->runtime_ns + (t->on_cpu && t->state != TASK_DEAD ? now - t->exec_start_ns : 0);
	} else {
		sum = g->dead_runtime_ns;
		for (struct task *u = task_next_thread(g, NULL); u; u = task_next_thread(g, u))
			if (u->state != TASK_ZOMBIE)
				sum += u->runtime_ns + (u->on_cpu ? now - u->exec_start_ns : 0);
	}
	spin_unlock_irqrestore(&sched_lock, f);
	return sum;
}

int task_usage(int who, struct usage *u)
{
	struct task *t = current_task();
	struct thread_group *g = t->group;
	if (who != RUSAGE_THREAD && who != RUSAGE_CHILDREN && who != RUSAGE_SELF)
		return -EINVAL;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (who == RUSAGE_THREAD) {
		*u = (struct usage){t->utime, t->stime, t->min_flt, t->nvcsw, t->nivcsw};
	} else if (who == RUSAGE_CHILDREN) {
		*u = (struct usage){g->cutime, g->cstime, g->cmin_flt, g->cnvcsw, g->cnivcsw};
	} else {
		*u = (struct usage){g->dead_utime, g->dead_stime, g->dead_min_flt, g->dead_nvcsw,
				    g->dead_nivcsw};
		for (struct task *v = task_next_thread(g, NULL); v; v = task_next_thread(g, v)) {
			if (v->state == TASK_ZOMBIE)
				continue; /* an exited leader: counted with the dead */
			u->utime += v->utime, u->stime += v->stime, u->min_flt += v->min_flt;
			u->nvcsw += v->nvcsw, u->nivcsw += v->nivcsw;
		}
	}
	spin_unlock_irqrestore(&sched_lock, f);
	return 0;
}

static long sys_getrusage(const struct syscall_args *a)
{
	struct usage u;
	int err = task_usage((int)a->arg[0], &u);
	return err ? err : put_rusage((void *)a->arg[1], &u) ? -EFAULT : 0;
}
SYSCALL_DEFINE(98, sys_getrusage);
