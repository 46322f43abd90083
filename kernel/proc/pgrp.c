/* Process groups and sessions, with Linux's rules (kernel/sys.c): setpgid, getpgid, getpgrp,
 * setsid, getsid, and getppid; the process-group walks that kill(0), kill(-pgid) and kill(-1)
 * use; and POSIX's orphaned process groups (a group none of whose members has a parent in
 * another group of the same session: the terminal's stop signals are not for it, and the exit
 * that orphans it with stopped members sends them SIGHUP and SIGCONT). The first process
 * starts in process group 0 and session 0, as Linux's init does, until it calls setsid.
 * Everything here is under sched_lock. */
#include "kerrno.h"
#include "kmalloc.h"
#include "proc_priv.h"
#include "syscall.h"

struct thread_group *group_by_tgid(int tgid)
{
	for (struct task *l = task_next_process(NULL); l; l = task_next_process(l))
		if (l->group->tgid == tgid)
			return l->group;
	return NULL;
}

/* Whether some process (zombies too, as Linux until they are reaped) is in process group pgid. */
static bool pgrp_exists(int pgid, int sid, bool any_session)
{
	for (struct task *l = task_next_process(NULL); l; l = task_next_process(l))
		if (l->group->pgid == pgid && (any_session || l->group->sid == sid))
			return true;
	return false;
}

bool task_pgrp_orphaned(int pgid, const struct thread_group *ignore)
{
	for (struct task *l = task_next_process(NULL); l; l = task_next_process(l)) {
		struct thread_group *p = l->group, *pp = p->parent;
		if (p->pgid != pgid || p == ignore || p->state != GROUP_LIVE || !pp ||
		    pp->tgid == INIT_PID)
			continue;
		if (pp->pgid != pgid && pp->sid == p->sid)
			return false;
	}
	return true;
}

bool task_pgrp_has_stopped(int pgid)
{
	for (struct task *l = task_next_process(NULL); l; l = task_next_process(l))
		if (l->group->pgid == pgid && (READ_ONCE(l->group->jobctl) & JOBCTL_STOPPED))
			return true;
	return false;
}

/* Whether process l is one a walk over pgid visits (pgid -1: kill(-1)'s every process but
 * init and the caller's). */
static bool in_walk(const struct task *l, int pgid, const struct thread_group *self)
{
	if (pgid == -1)
		return l->group->tgid > INIT_PID && l->group != self;
	return l->group->pgid == pgid;
}

long task_for_each_in_pgrp(int pgid, long (*fn)(struct task *leader, void *arg), void *arg)
{
	struct thread_group *self = current_task()->group;
	unsigned n = 0, cap = task_count_processes() + 8;
	struct task **v = kmalloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	for (struct task *l = task_next_process(NULL); l && n < cap; l = task_next_process(l))
		if (in_walk(l, pgid, self)) {
			l->refs++;
			v[n++] = l;
		}
	spin_unlock_irqrestore(&sched_lock, f);
	long ret = -ESRCH;
	bool success = false;
	for (unsigned i = 0; i < n; i++) {
		ret = fn(v[i], arg);
		success |= ret == 0;
		task_put(v[i]);
	}
	kfree(v);
	return success ? 0 : ret;
}

/* setpgid(pid, pgid), Linux's checks in its order. */
static long set_pgid(int pid, int pgid)
{
	struct task *self = current_task();
	struct thread_group *me = self->group;
	if (!pid)
		pid = me->tgid;
	if (!pgid)
		pgid = pid;
	if (pgid < 0)
		return -EINVAL;
	long err = -ESRCH;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *t = task_find_locked(pid);
	struct thread_group *p = t ? t->group : NULL;
	if (!p)
		goto out;
	err = -EINVAL;
	if (t != p->leader)
		goto out;
	if (p->parent == me) {
		err = -EPERM;
		if (p->sid != me->sid)
			goto out;
		err = -EACCES;
		if (p->did_exec)
			goto out;
	} else if (p != me) {
		err = -ESRCH; /* neither the caller nor one of its children */
		goto out;
	}
	err = -EPERM;
	if (p->session_leader || (pgid != pid && !pgrp_exists(pgid, me->sid, false)))
		goto out;
	p->pgid = pgid;
	err = 0;
out:
	spin_unlock_irqrestore(&sched_lock, f);
	return err;
}

static long sys_setpgid(const struct syscall_args *a) { return set_pgid((int)a->arg[0], (int)a->arg[1]); }
SYSCALL_DEFINE(109, sys_setpgid);

/* getpgid and getsid: of the caller (pid 0) or of the process of thread pid. */
static long get_id(int pid, bool session)
{
	struct task *t = pid ? task_find(pid) : current_task();
	if (!t)
		return -ESRCH;
	long id = session ? t->group->sid : t->group->pgid;
	if (pid)
		task_put(t);
	return id;
}

static long sys_getpgid(const struct syscall_args *a) { return get_id((int)a->arg[0], false); }
SYSCALL_DEFINE(121, sys_getpgid);
static long sys_getsid(const struct syscall_args *a) { return get_id((int)a->arg[0], true); }
SYSCALL_DEFINE(124, sys_getsid);

static long sys_getpgrp(const struct syscall_args *a)
{
	(void)a;
	return current_task()->group->pgid;
}
SYSCALL_DEFINE(111, sys_getpgrp);

/* setsid: a new session and process group, both with the caller's pid; -EPERM for a session
 * leader or when a process group with that id exists. It has no controlling terminal. */
static long sys_setsid(const struct syscall_args *a)
{
	(void)a;
	struct thread_group *g = current_task()->group;
	long ret = -EPERM;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (!g->session_leader && !pgrp_exists(g->tgid, 0, true)) {
		g->session_leader = true;
		g->no_ctty = false; /* a new session has no terminal yet */
		g->sid = g->pgid = g->tgid;
		ret = g->tgid;
	}
	spin_unlock_irqrestore(&sched_lock, f);
	return ret;
}
SYSCALL_DEFINE(112, sys_setsid);

static long sys_getppid(const struct syscall_args *a)
{
	(void)a;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct thread_group *p = current_task()->group->parent;
	long ppid = p ? p->tgid : 0;
	spin_unlock_irqrestore(&sched_lock, f);
	return ppid;
}
SYSCALL_DEFINE(110, sys_getppid);
