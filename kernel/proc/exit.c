/* The end of threads and processes (Linux's do_exit, do_group_exit, exit_notify and
 * de_thread). exit ends one thread; the process ends with its last thread, and only then
 * does its parent hear of it (a main thread that exits first stays a zombie leader until
 * then). exit_group and fatal signals kill every thread. On the way out a thread releases its
 * address space (clearing clear_child_tid and waking its futex, walking the robust list,
 * waking a vfork parent) and its files; the last thread hands the process's children to a
 * subreaper or init, tells the parent (which may reap it at once when it ignores SIGCHLD),
 * and sends SIGHUP and SIGCONT to a process group that its end leaves orphaned with stopped
 * members. execve from any thread kills the others and takes the main thread's pid.
 * Locks: a thread list changes under the signal lock and sched_lock (in that order). */
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "futex.h"
#include "ipc.h"
#include "kerrno.h"
#include "panic.h"
#include "printk.h"
#include "proc_priv.h"
#include "sig.h"
#include "vfs.h"
#include "vm.h"

#define ORPHAN_PGRPS_MAX 8 /* process groups one exit may leave orphaned and tell */

void task_mm_release(struct task *t)
{
	futex_exit_robust_list(t);
	if (t->clear_child_tid) {
		/* Only when someone else shares the memory, as Linux (nobody else could wait). */
		if (task_mm_shared(t)) {
			uint32_t zero = 0;
			if (!arch_copy_to_user((void *)t->clear_child_tid, &zero, sizeof(zero)))
				futex_wake_word((uint32_t *)t->clear_child_tid, 1);
		}
		t->clear_child_tid = 0;
	}
	if (t->vfork_parent) {
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		t->vfork_done = true;
		wake_up_locked(&t->vfork_wait);
		spin_unlock_irqrestore(&sched_lock, f);
	}
}

static void exit_mm(struct task *t)
{
	struct mm *mm = t->mm;
	if (!mm)
		return;
	arch_pt_activate(NULL);
	task_set_mm(t, NULL);
	mm_put(mm);
}

/* A thread's times join its process's dead ones. sched_lock held. */
static void account_dead(struct thread_group *g, struct task *t)
{
	uint64_t now = arch_time_ns();
	t->runtime_ns += now - t->exec_start_ns;
	t->exec_start_ns = now;
	g->dead_runtime_ns += t->runtime_ns;
	g->dead_utime += t->utime;
	g->dead_stime += t->stime;
	g->dead_min_flt += t->min_flt;
	g->dead_nvcsw += t->nvcsw;
	g->dead_nivcsw += t->nivcsw;
}

/* The process that adopts g's children: the nearest live subreaper ancestor, else init. */
static struct thread_group *find_reaper(struct thread_group *g)
{
	for (struct thread_group *a = g->parent; a; a = a->parent)
		if (a->subreaper && a->state == GROUP_LIVE)
			return a;
	struct thread_group *init = group_by_tgid(INIT_PID);
	return init != g ? init : NULL;
}

struct orphans {
	int pgid[ORPHAN_PGRPS_MAX];
	unsigned n;
};

/* Linux's kill_orphaned_pgrp test: c's process group had its link to another group of the
 * session through `via` and now, `ignore` gone, has none left, and has stopped members.
 * Note it for SIGHUP and SIGCONT. sched_lock held. */
static void note_orphaned(struct orphans *o, struct thread_group *c, struct thread_group *via,
			  const struct thread_group *ignore)
{
	if (!via || via->pgid == c->pgid || via->sid != c->sid || o->n == ORPHAN_PGRPS_MAX)
		return;
	if (!task_pgrp_orphaned(c->pgid, ignore) || !task_pgrp_has_stopped(c->pgid))
		return;
	for (unsigned i = 0; i < o->n; i++)
		if (o->pgid[i] == c->pgid)
			return;
	o->pgid[o->n++] = c->pgid;
}

/* Hand g's children to the reaper. sched_lock held. */
static void reparent_children(struct thread_group *g, struct orphans *o)
{
	struct thread_group *reaper = find_reaper(g);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &g->children)
	{
		struct thread_group *c = list_entry(n, struct thread_group, sibling);
		list_del(&c->sibling);
		c->parent = reaper;
		c->creator = reaper ? reaper->leader : NULL;
		c->exit_signal = SIGCHLD; /* nobody slays init with a strange signal */
		if (reaper)
			list_add_tail(&c->sibling, &reaper->children);
		c->tell_new_parent = c->state == GROUP_ZOMBIE;
		note_orphaned(o, c, g, NULL);
	}
}

/* Children that t created now belong to another live thread of its process (__WNOTHREAD). */
static void pass_on_children(struct thread_group *g, struct task *t)
{
	struct task *heir = NULL;
	for (struct task *u = task_next_thread(g, NULL); u && !heir; u = task_next_thread(g, u))
		if (u != t && u->state != TASK_ZOMBIE)
			heir = u;
	struct list_node *n;
	list_for_each(n, &g->children)
	{
		struct thread_group *c = list_entry(n, struct thread_group, sibling);
		if (c->creator == t)
			c->creator = heir;
	}
}

void task_release_zombie(struct thread_group *c)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	int reaped = 0;
	if (c->state == GROUP_ZOMBIE) {
		struct task *l = c->leader;
		reaped = c->tgid;
		c->state = GROUP_DEAD;
		list_del(&c->sibling);
		list_del(&l->thread_link);
		l->state = TASK_DEAD;
		if (!l->on_cpu)
			task_free(l);
	}
	spin_unlock_irqrestore(&sched_lock, f);
	if (reaped)
		vfs_proc_flush(reaped);
}

/* The reaper of adopted zombies hears of each (and may reap it at once). */
static void tell_new_parent(struct thread_group *reaper)
{
	for (;;) {
		struct thread_group *z = NULL;
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		struct list_node *n;
		list_for_each(n, &reaper->children)
		{
			struct thread_group *c = list_entry(n, struct thread_group, sibling);
			if (c->tell_new_parent && !z)
				z = c;
		}
		struct task *p = z ? reaper->leader : NULL;
		if (z) {
			z->tell_new_parent = false;
			z->leader->refs++;
			p->refs++;
		}
		spin_unlock_irqrestore(&sched_lock, f);
		if (!z)
			return;
		if (sig_notify_parent_exit(p, z, z->exit_status))
			task_release_zombie(z);
		task_put(z->leader);
		task_put(p);
	}
}

/* What the last thread of a process leaves to do once the locks are dropped. */
struct process_end {
	struct task *parent;	      /* referenced */
	struct thread_group *reaper;  /* got our children */
	struct orphans orphans;
};

/* The process g ends with its last thread t: zombie, children to the reaper. Both locks. */
static void end_process(struct thread_group *g, struct process_end *pe)
{
	g->exit_status = g->group_exit ? g->group_exit_code : g->leader->exit_code;
	g->exit_uid = g->leader->cred.uid;
	g->state = GROUP_ZOMBIE;
	note_orphaned(&pe->orphans, g, g->parent, g);
	reparent_children(g, &pe->orphans);
	pe->reaper = find_reaper(g);
	pe->parent = g->parent ? g->parent->leader : NULL;
	if (pe->parent)
		pe->parent->refs++;
}

static long send_orphan_signal(struct task *leader, void *arg)
{
	return sig_send(leader, arg);
}

static void finish_process(struct thread_group *g, struct process_end *pe)
{
	itimer_exit(g); /* g lives on while this, its last thread, runs */
	if (g->tgid == INIT_PID)
		printk(KERN_WARNING "init exited with status %#x\n", g->exit_status);
	if (pe->parent) {
		if (sig_notify_parent_exit(pe->parent, g, g->exit_status))
			task_release_zombie(g);
		task_put(pe->parent);
	}
	for (unsigned i = 0; i < pe->orphans.n; i++) {
		struct ksiginfo hup = {.si_signo = SIGHUP, .si_code = SI_KERNEL};
		struct ksiginfo cont = {.si_signo = SIGCONT, .si_code = SI_KERNEL};
		task_for_each_in_pgrp(pe->orphans.pgid[i], send_orphan_signal, &hup);
		task_for_each_in_pgrp(pe->orphans.pgid[i], send_orphan_signal, &cont);
	}
	if (pe->reaper) {
		tell_new_parent(pe->reaper);
		wake_up(&pe->reaper->child_wait);
	}
}

__noreturn void task_exit(int wait_status)
{
	struct task *t = current_task();
	struct thread_group *g = t->group;
	t->exit_code = wait_status;
	sig_thread_exiting(t);
	task_mm_release(t);
	exit_mm(t);
	if (t->fdt) {
		vfs_fdt_put(t->fdt);
		t->fdt = NULL;
	}
	if (t->fs) {
		vfs_fs_put(t->fs);
		t->fs = NULL;
	}
	struct process_end pe = {0};
	bool last = false;
	irqflags_t f = sig_tree_lock();
	spin_lock(&sched_lock);
	if (g) {
		account_dead(g, t);
		last = --g->nr_threads == 0;
		if (t == g->leader) {
			t->state = TASK_ZOMBIE; /* its pid is the process's until it is reaped */
		} else {
			list_del(&t->thread_link);
			t->state = TASK_DEAD; /* nobody waits for a thread: freed once off the CPU */
		}
		pass_on_children(g, t);
		if (g->exec_task && g->nr_threads == 1)
			wake_up_locked(&g->thread_exit);
		if (last)
			end_process(g, &pe);
	} else {
		t->state = TASK_DEAD;
	}
	spin_unlock(&sched_lock);
	sig_tree_unlock(f);
	if (last) {
		sem_exit(g->tgid);
		finish_process(g, &pe);
	}
	schedule(); /* never returns: neither ZOMBIE nor DEAD is runnable */
	panic("exited task %d was scheduled", t->pid);
}

__noreturn void task_exit_group(int wait_status)
{
	struct task *t = current_task();
	struct thread_group *g = t->group;
	if (g && !sig_zap_threads(t, wait_status, false))
		wait_status = g->group_exit ? READ_ONCE(g->group_exit_code) : 0; /* killed, or exec */
	task_exit(wait_status);
}

/* execve's de_thread, the swap: t, no longer alone with a zombie leader, takes its pid and
 * place; the old leader is released. Both locks held. */
static void take_leadership(struct thread_group *g, struct task *t)
{
	struct task *old = g->leader;
	int tid = t->pid;
	t->pid = old->pid;
	old->pid = tid;
	g->leader = t;
	list_del(&t->thread_link);
	list_add(&t->thread_link, &g->threads);
	list_del(&old->thread_link);
	old->state = TASK_DEAD;
	if (!old->on_cpu)
		task_free(old);
}

int task_exec_dethread(void)
{
	struct task *t = current_task();
	struct thread_group *g = t->group;
	if (READ_ONCE(g->nr_threads) == 1 && g->leader == t)
		return 0;
	if (!sig_zap_threads(t, 0, true))
		return -EINTR;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	while (g->nr_threads > 1 && !sig_fatal_pending(t))
		sleep_on_locked(&g->thread_exit);
	/* The old leader may still be switching away from its CPU. */
	while (g->leader != t && g->leader->on_cpu && !sig_fatal_pending(t)) {
		spin_unlock_irqrestore(&sched_lock, f);
		arch_cpu_relax();
		f = spin_lock_irqsave(&sched_lock);
	}
	bool killed = sig_fatal_pending(t);
	spin_unlock_irqrestore(&sched_lock, f);
	f = sig_tree_lock();
	spin_lock(&sched_lock);
	if (!killed && g->leader != t)
		take_leadership(g, t);
	g->exec_task = NULL;
	spin_unlock(&sched_lock);
	sig_tree_unlock(f);
	return killed ? -EINTR : 0;
}
