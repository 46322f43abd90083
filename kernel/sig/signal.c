/* Signals: each thread's state (mask, own pending set, alternate stack), the shared table of
 * actions, and sending. A signal is thread-directed (tgkill, faults, BUS_MCEERR_AO) or
 * process-directed (kill, SIGCHLD): the latter waits in the process's shared set and is
 * taken by a thread that does not block it, the main thread first, as Linux's
 * complete_signal chooses; a fatal one (default action terminate) kills every thread at once.
 * Delivery is deliver.c, stop and continue jobctl.c.
 * Locking: the signal lock (sig_priv.h), irqsave; sched_lock nests inside it. */
#include "arch/cpu.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "sig_priv.h"

#define SS_DISABLE 2

enum sig_default sig_default_action(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
		return SIG_DFL_IGNORE;
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return SIG_DFL_STOP;
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
	case SIGSEGV: case SIGSYS: case SIGXCPU: case SIGXFSZ:
		return SIG_DFL_CORE;
	default:
		return SIG_DFL_TERM;
	}
}

bool sig_handler_ignores(const struct sighand *h, int sig)
{
	uint64_t handler = h->action[sig - 1].handler;
	return handler == SIG_IGN || (handler == SIG_DFL && sig_default_action(sig) == SIG_DFL_IGNORE);
}

static spinlock_t signal_lock = SPINLOCK_INIT;

irqflags_t sig_lock(const struct task *t)
{
	(void)t;
	return spin_lock_irqsave(&signal_lock);
}

void sig_unlock(const struct task *t, irqflags_t f)
{
	(void)t;
	spin_unlock_irqrestore(&signal_lock, f);
}

/* ---- per-task state ---- */

static struct sighand *hand_new(void)
{
	struct sighand *h = kzalloc(sizeof(*h));
	if (!h)
		return NULL;
	h->refs = 1;
	return h;
}

static void hand_put(struct sighand *h)
{
	if (h && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(h);
}

int sig_task_init(struct task *t)
{
	t->sig = kzalloc(sizeof(*t->sig));
	if (!t->sig)
		return -ENOMEM;
	t->sig->hand = hand_new();
	if (!t->sig->hand) {
		kfree(t->sig);
		t->sig = NULL;
		return -ENOMEM;
	}
	t->sig->altstack.ss_flags = SS_DISABLE;
	return 0;
}

int sig_clone(struct task *child, const struct task *parent, uint64_t clone_flags)
{
	struct sig_state *c = kzalloc(sizeof(*c)), *p = parent->sig;
	if (!c)
		return -ENOMEM;
	if (clone_flags & CLONE_SIGHAND) {
		c->hand = p->hand;
		__atomic_add_fetch(&c->hand->refs, 1, __ATOMIC_ACQ_REL);
	} else {
		c->hand = hand_new();
		if (!c->hand) {
			kfree(c);
			return -ENOMEM;
		}
		irqflags_t f = sig_lock(parent);
		memcpy(c->hand->action, p->hand->action, sizeof(c->hand->action));
		sig_unlock(parent, f);
		if (clone_flags & CLONE_CLEAR_SIGHAND)
			for (int i = 0; i < NSIG; i++)
				if (c->hand->action[i].handler != SIG_IGN)
					memset(&c->hand->action[i], 0, sizeof(c->hand->action[i]));
	}
	c->blocked = p->blocked; /* pending signals are not inherited */
	c->altstack = p->altstack;
	if ((clone_flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM)
		c->altstack = (struct ksigaltstack){.ss_flags = SS_DISABLE}; /* a new thread */
	child->sig = c;
	return 0;
}

irqflags_t sig_tree_lock(void) { return spin_lock_irqsave(&signal_lock); }
void sig_tree_unlock(irqflags_t f) { spin_unlock_irqrestore(&signal_lock, f); }

void sig_join_group_stop(struct task *child, const struct task *creator)
{
	if (creator->sig->stop_pending) {
		child->sig->stop_pending = true;
		child->group->stop_count++;
	}
}

void sig_exit(struct task *t)
{
	if (!t->sig)
		return;
	hand_put(t->sig->hand);
	kfree(t->sig);
	t->sig = NULL;
}

int sig_exec(struct task *t)
{
	struct sig_state *s = t->sig;
	if (__atomic_load_n(&s->hand->refs, __ATOMIC_ACQUIRE) > 1) {
		/* Shared with another process (CLONE_SIGHAND without CLONE_THREAD): a copy. */
		struct sighand *h = hand_new();
		if (!h)
			return -ENOMEM;
		irqflags_t f = sig_lock(t);
		struct sighand *old = s->hand;
		memcpy(h->action, old->action, sizeof(h->action));
		s->hand = h;
		sig_unlock(t, f);
		hand_put(old);
	}
	irqflags_t f = sig_lock(t);
	for (int i = 0; i < NSIG; i++)
		if (s->hand->action[i].handler != SIG_IGN)
			memset(&s->hand->action[i], 0, sizeof(s->hand->action[i]));
	s->altstack.ss_flags = SS_DISABLE;
	s->altstack.ss_sp = s->altstack.ss_size = 0;
	sig_unlock(t, f);
	return 0;
}

/* ---- sending ---- */

void sig_queue(struct sig_pending *p, const struct ksiginfo *info)
{
	uint64_t bit = sigbit(info->si_signo);
	if (!(p->set & bit)) { /* one pending instance; the first one's info stays */
		p->set |= bit;
		p->info[info->si_signo - 1] = *info;
	}
}

void sig_wake_locked(struct task *t, struct cpumask *kick)
{
	task_set_flag(t, TIF_SIGPENDING);
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	task_wake_locked(t, kick);
	spin_unlock_irqrestore(&sched_lock, f);
}

void sig_flush_group(struct task *t, uint64_t mask)
{
	t->group->shared_pending.set &= ~mask;
	for (struct task *u = task_next_thread(t->group, NULL); u; u = task_next_thread(t->group, u))
		if (u->sig)
			u->sig->pending.set &= ~mask;
}

/* Linux's wants_signal: t can take sig now. */
static bool wants(const struct task *t, int sig)
{
	if (!t->sig || (t->sig->blocked & sigbit(sig)) || t->exiting)
		return false;
	if (sig == SIGKILL)
		return true;
	if (t->sig->stopped)
		return false;
	return READ_ONCE(t->on_cpu) || !(READ_ONCE(t->flags) & TIF_SIGPENDING);
}

/* Kill every thread of g (but `except`) with a SIGKILL of its own. Signal lock held; adds
 * the CPUs to kick to *kick. */
static void kill_threads(struct thread_group *g, const struct task *except, struct cpumask *kick)
{
	for (struct task *u = task_next_thread(g, NULL); u; u = task_next_thread(g, u)) {
		if (u == except || !u->sig || u->exiting)
			continue;
		u->sig->stop_pending = false;
		sig_queue(&u->sig->pending, &(struct ksiginfo){.si_signo = SIGKILL});
		sig_wake_locked(u, kick);
	}
}

/* Linux's complete_signal: pick the thread that takes sig (p itself when it can; for a
 * process-directed one any thread that does not block it), and on a fatal signal kill the
 * whole process at once. Signal lock held; adds the CPUs to kick to *kick. */
static void complete(struct task *p, int sig, bool group, struct cpumask *kick)
{
	struct thread_group *g = p->group;
	struct task *t = p;
	if (!wants(p, sig)) {
		if (!group)
			return;
		t = g->curr_target ? g->curr_target : task_next_thread(g, NULL);
		struct task *first = t;
		while (t && !wants(t, sig)) {
			t = task_next_thread(g, t);
			if (!t)
				t = task_next_thread(g, NULL);
			if (t == first)
				return; /* nobody can now: the first to unblock it takes it */
		}
		if (!t)
			return;
		g->curr_target = t;
	}
	struct ksigaction *ka = &p->sig->hand->action[sig - 1];
	enum sig_default d = sig_default_action(sig);
	if (ka->handler == SIG_DFL && (d == SIG_DFL_TERM || sig == SIGKILL) && !g->group_exit) {
		g->group_exit = true;
		g->group_exit_code = sig;
		g->jobctl &= ~JOBCTL_STOPPED;
		kill_threads(g, NULL, kick);
		return;
	}
	sig_wake_locked(t, kick);
}

/* The signal's way into t (group: its process): job-control effects, then queue it unless it
 * is ignored. Adds the CPUs to kick to *kick; *cld the parent notification due. Lock held. */
static void send_locked(struct task *t, const struct ksiginfo *info, bool group, int *cld,
			struct cpumask *kick)
{
	int sig = info->si_signo;
	struct thread_group *g = t->group;
	if (g->group_exit || t->exiting)
		return; /* dying already: dropped */
	*cld = sig_jobctl_on_send(t, sig, kick);
	/* Ignored and not blocked by t: dropped (it may be unignored before it is unblocked). */
	if (sig != SIGKILL && sig_handler_ignores(t->sig->hand, sig) &&
	    !(t->sig->blocked & sigbit(sig)))
		return;
	sig_queue(group ? &g->shared_pending : &t->sig->pending, info);
	complete(t, sig, group, kick);
}

static int send(struct task *t, const struct ksiginfo *info, bool group)
{
	if (!valid_sig(info->si_signo))
		return -EINVAL;
	if (!t->sig || !t->group)
		return 0; /* released */
	int cld = 0;
	struct cpumask kick = {0};
	irqflags_t f = sig_lock(t);
	send_locked(t, info, group, &cld, &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	if (cld)
		sig_notify_parent_stop(t->group, cld, cld == CLD_CONTINUED ? SIGCONT
									    : t->group->stop_signal);
	return 0;
}

int sig_send(struct task *t, const struct ksiginfo *info) { return send(t, info, true); }
int sig_send_thread(struct task *t, const struct ksiginfo *info) { return send(t, info, false); }

void sig_force(struct task *t, const struct ksiginfo *info)
{
	int sig = info->si_signo;
	struct sig_state *s = t->sig;
	if (!s)
		return;
	irqflags_t f = sig_lock(t);
	struct ksigaction *ka = &s->hand->action[sig - 1];
	if ((s->blocked & sigbit(sig)) || ka->handler == SIG_IGN) {
		/* A fault the task refuses to see: it dies of it, as on Linux. */
		s->blocked &= ~sigbit(sig);
		ka->handler = SIG_DFL;
	}
	sig_queue(&s->pending, info);
	struct cpumask kick = {0};
	complete(t, sig, false, &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
}

void sig_kill_with(struct task *t, const struct ksiginfo *info)
{
	int sig = info->si_signo;
	struct sig_state *s = t->sig;
	if (!s || !valid_sig(sig))
		return;
	irqflags_t f = sig_lock(t);
	s->blocked &= ~sigbit(sig);
	s->hand->action[sig - 1].handler = SIG_DFL; /* no handler may run: the task cannot resume */
	s->pending.set |= sigbit(sig);
	s->pending.info[sig - 1] = *info;
	struct cpumask kick = {0};
	complete(t, sig, false, &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
}

void sig_send_hwpoison(struct task *t, int code, uint64_t addr, int lsb)
{
	struct ksiginfo i = {.si_signo = SIGBUS, .si_code = code};
	i.u.fault.addr = addr;
	i.u.fault.addr_lsb = (int16_t)lsb;
	if (code == BUS_MCEERR_AR)
		sig_force(t, &i);
	else
		sig_send_thread(t, &i); /* Linux's send_sig_mceerr: to the chosen thread only */
}

/* ---- exit ---- */

bool sig_zap_threads(struct task *t, int wait_status, bool exec)
{
	struct thread_group *g = t->group;
	irqflags_t f = sig_lock(t);
	if (g->group_exit || (g->exec_task && g->exec_task != t)) {
		sig_unlock(t, f);
		return false;
	}
	if (exec) {
		g->exec_task = t;
	} else {
		g->group_exit = true;
		g->group_exit_code = wait_status;
	}
	g->jobctl &= ~JOBCTL_STOPPED;
	g->stop_count = 0;
	struct cpumask kick = {0};
	kill_threads(g, t, &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	return true;
}

void sig_thread_exiting(struct task *t)
{
	if (!t->sig || !t->group)
		return;
	irqflags_t f = sig_lock(t);
	t->exiting = true;
	if (t->group->curr_target == t)
		t->group->curr_target = NULL; /* it is freed once off its CPU */
	uint64_t left = t->group->shared_pending.set & ~t->sig->blocked;
	struct cpumask kick = {0};
	int cld = sig_jobctl_thread_gone(t);
	/* Process-directed signals this thread was chosen for: another thread takes them. */
	for (int sig = 1; left && sig <= NSIG; sig++)
		if (left & sigbit(sig)) {
			left &= ~sigbit(sig);
			complete(t->group->leader, sig, true, &kick);
		}
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	if (cld)
		sig_notify_parent_stop(t->group, cld, t->group->stop_signal);
}

bool sig_fatal_pending(const struct task *t)
{
	return t->sig && (READ_ONCE(t->sig->pending.set) & sigbit(SIGKILL));
}

bool sig_pending(const struct task *t)
{
	const struct sig_state *s = t->sig;
	if (!s || !t->group)
		return false;
	uint64_t set = READ_ONCE(s->pending.set) | READ_ONCE(t->group->shared_pending.set);
	return (set & ~READ_ONCE(s->blocked)) || READ_ONCE(s->stop_pending);
}

/* ---- telling the parent ---- */

bool sig_notify_parent_exit(struct task *parent, struct thread_group *child, int wait_status)
{
	int sig = child->exit_signal, termsig = wait_status & 0x7f;
	struct ksiginfo i = {.si_signo = sig};
	i.si_code = termsig ? ((wait_status & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
	i.u.chld.pid = child->tgid;
	i.u.chld.uid = child->exit_uid;
	i.u.chld.status = termsig ? termsig : (wait_status >> 8) & 0xff;
	i.u.chld.utime = (int64_t)child->dead_utime;
	i.u.chld.stime = (int64_t)child->dead_stime;
	bool autoreap = false;
	if (parent->sig) {
		irqflags_t f = sig_lock(parent);
		const struct ksigaction *ka = &parent->sig->hand->action[SIGCHLD - 1];
		if (sig == SIGCHLD && (ka->handler == SIG_IGN || (ka->flags & SA_NOCLDWAIT))) {
			autoreap = true;
			if (ka->handler == SIG_IGN)
				sig = 0;
		}
		sig_unlock(parent, f);
	}
	if (valid_sig(sig))
		sig_send(parent, &i);
	wake_up(&parent->group->child_wait);
	return autoreap;
}

void sig_task_masks(struct task *t, struct sig_masks *m)
{
	memset(m, 0, sizeof(*m));
	if (!t->sig || !t->group)
		return;
	irqflags_t f = sig_lock(t);
	m->pending = t->sig->pending.set;
	m->shared = t->group->shared_pending.set;
	m->blocked = t->sig->blocked;
	for (int sig = 1; sig <= NSIG; sig++) {
		uint64_t h = t->sig->hand->action[sig - 1].handler;
		if (h == SIG_IGN)
			m->ignored |= sigbit(sig);
		else if (h != SIG_DFL)
			m->caught |= sigbit(sig);
	}
	sig_unlock(t, f);
}
