/* Job control: SIGSTOP, SIGTSTP, SIGTTIN and SIGTTOU stop every thread of a process (a group
 * stop), SIGCONT continues it, and the parent hears of both (SIGCHLD with CLD_STOPPED or
 * CLD_CONTINUED, and wait4/waitid with WUNTRACED/WCONTINUED), as Linux's do_signal_stop and
 * prepare_signal have it:
 * - The thread that dequeues a stop signal starts the group stop: every other live thread is
 *   marked to join and woken; each joins on its way back to user mode. The last one to stop
 *   marks the process stopped and tells the parent.
 * - Sending a stop signal drops a pending SIGCONT; sending SIGCONT (whatever its action, even
 *   ignored or blocked) drops pending stop signals, wakes every stopped thread, and tells the
 *   parent CLD_CONTINUED if the process had stopped.
 * - SIGKILL wakes a stopped thread, which then dies.
 * All under the signal lock (sig_priv.h), except the sleeping and the parent's notice. */
#include "kerrno.h"
#include "sig_priv.h"

int sig_jobctl_on_send(struct task *t, int sig, struct cpumask *kick)
{
	struct thread_group *g = t->group;
	if (sigbit(sig) & STOP_SIGNALS) {
		sig_flush_group(t, sigbit(SIGCONT));
		return 0;
	}
	if (sig != SIGCONT)
		return 0;
	sig_flush_group(t, STOP_SIGNALS);
	for (struct task *u = task_next_thread(g, NULL); u; u = task_next_thread(g, u)) {
		if (!u->sig)
			continue;
		u->sig->stop_pending = false;
		if (u->sig->stopped) {
			u->sig->stopped = false;
			sig_wake_locked(u, kick);
		}
	}
	int why = (g->jobctl & JOBCTL_STOPPED) ? CLD_CONTINUED : g->stop_count ? CLD_STOPPED : 0;
	if (why) {
		g->jobctl = (g->jobctl & ~(JOBCTL_STOPPED | JOBCTL_STOP_REPORTED)) | JOBCTL_CONTINUED;
		g->stop_count = 0;
	}
	return why;
}

/* One more thread of g stopped (or left); true when that completes the group stop. */
static bool participate(struct thread_group *g)
{
	if (!g->stop_count || --g->stop_count)
		return false;
	g->jobctl = (g->jobctl | JOBCTL_STOPPED) & ~(JOBCTL_CONTINUED | JOBCTL_STOP_REPORTED);
	return true;
}

/* Start a group stop by sig: mark every other live thread to join; adds the CPUs to kick to
 * *kick. Lock held. */
static void begin_stop(struct task *t, int sig, struct cpumask *kick)
{
	struct thread_group *g = t->group;
	g->stop_signal = sig;
	g->stop_count = 1; /* t itself */
	t->sig->stop_pending = true;
	for (struct task *u = task_next_thread(g, NULL); u; u = task_next_thread(g, u)) {
		if (u == t || !u->sig || u->exiting || u->sig->stopped || u->sig->stop_pending)
			continue;
		u->sig->stop_pending = true;
		g->stop_count++;
		sig_wake_locked(u, kick);
	}
}

void sig_do_stop(struct task *t, int sig, irqflags_t f)
{
	struct thread_group *g = t->group;
	struct sig_state *s = t->sig;
	struct cpumask kick = {0};
	int cld = 0;
	if (sig && (g->group_exit || g->exec_task)) {
		sig_unlock(t, f);
		return; /* dying or execing: no stop */
	}
	if (sig && !s->stop_pending)
		begin_stop(t, sig, &kick);
	if (s->stop_pending) {
		s->stop_pending = false;
		s->stopped = true;
		if (participate(g))
			cld = CLD_STOPPED;
	}
	int stop_signal = g->stop_signal;
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	if (cld)
		sig_notify_parent_stop(g, cld, stop_signal);
	/* SIGCONT clears `stopped` and SIGKILL is queued before either wakes us under
	 * sched_lock: checked under it, no wake-up is lost. */
	irqflags_t h = spin_lock_irqsave(&sched_lock);
	if (READ_ONCE(s->stopped) && !sig_fatal_pending(t))
		sleep_on_locked(&g->stop_wait);
	spin_unlock_irqrestore(&sched_lock, h);
}

int sig_jobctl_thread_gone(struct task *t)
{
	if (!t->sig->stop_pending)
		return 0;
	t->sig->stop_pending = false;
	return participate(t->group) ? CLD_STOPPED : 0;
}

bool sig_pgrp_orphaned(const struct task *t)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	bool orphaned = task_pgrp_orphaned(t->group->pgid, NULL);
	spin_unlock_irqrestore(&sched_lock, f);
	return orphaned;
}

void sig_notify_parent_stop(struct thread_group *child, int code, int status)
{
	struct task *parent = task_get_parent(child);
	if (!parent)
		return;
	bool send = false;
	if (parent->sig) {
		irqflags_t f = sig_lock(parent);
		const struct ksigaction *ka = &parent->sig->hand->action[SIGCHLD - 1];
		send = ka->handler != SIG_IGN && !(ka->flags & SA_NOCLDSTOP);
		sig_unlock(parent, f);
	}
	if (send) {
		struct ksiginfo i = {.si_signo = SIGCHLD, .si_code = code};
		i.u.chld.pid = child->tgid;
		i.u.chld.uid = child->leader->cred.uid;
		i.u.chld.status = status;
		sig_send(parent, &i);
	}
	wake_up(&parent->group->child_wait);
	task_put(parent);
}

static long send_kernel_sig(struct task *leader, void *arg)
{
	struct ksiginfo i = {.si_signo = *(int *)arg, .si_code = SI_KERNEL};
	return leader->group ? sig_send(leader, &i) : 0;
}

long sig_send_pgrp(int pgid, int sig)
{
	if (pgid <= 0 || !valid_sig(sig))
		return -EINVAL;
	return task_for_each_in_pgrp(pgid, send_kernel_sig, &sig);
}

int sig_tty_background(int sig)
{
	struct task *t = current_task();
	irqflags_t f = sig_lock(t);
	bool skip = (t->sig->blocked & sigbit(sig)) ||
		    t->sig->hand->action[sig - 1].handler == SIG_IGN;
	sig_unlock(t, f);
	if (skip)
		return sig == SIGTTIN ? -EIO : 0;
	if (sig_pgrp_orphaned(t))
		return -EIO;
	sig_send_pgrp(t->group->pgid, sig);
	return -ERESTARTSYS;
}
