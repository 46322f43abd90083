/* Delivery on the way back to user mode (Linux's get_signal and handle_signal): join a group
 * stop, take the next signal (the thread's own first, then its process's; SIGKILL first,
 * then the lowest number), carry out its default action or build the handler's frame (the
 * arch writes it, include/arch/sigframe.h), restart or fail an interrupted syscall; and the
 * calls that change what is blocked or wait for a signal: rt_sigprocmask, rt_sigsuspend,
 * pause, sigaltstack, rt_sigaction, rt_sigreturn. */
#include "arch/context.h"
#include "arch/uregs.h"
#include "kerrno.h"
#include "kstring.h"
#include "printk.h"
#include "sig_priv.h"

#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048

static bool on_altstack(const struct sig_state *s, uint64_t sp)
{
	return !(s->altstack.ss_flags & SS_DISABLE) && sp > s->altstack.ss_sp &&
	       sp <= s->altstack.ss_sp + s->altstack.ss_size;
}

/* Build the frame for sig (on the alternate stack with SA_ONSTACK when one is set up and not
 * already in use) and point regs at the handler. false when it could not be written (the
 * task then dies of SIGSEGV). */
static bool setup_frame(struct sig_state *s, int sig, const struct ksigaction *ka,
			const struct ksiginfo *info, uint64_t old_blocked, struct user_regs *regs)
{
	uint64_t sp = arch_uregs_sp(regs);
	bool alt_off = s->altstack.ss_flags & SS_DISABLE;
	struct arch_sigframe f = {.sig = sig, .info = info, .handler = ka->handler,
				  .restorer = ka->restorer, .uc_stack = s->altstack,
				  .uc_sigmask = old_blocked, /* restored by rt_sigreturn */
				  .fault_addr = info->u.fault.addr};
	if ((ka->flags & SA_ONSTACK) && !alt_off && !on_altstack(s, sp))
		f.stack_top = s->altstack.ss_sp + s->altstack.ss_size;
	f.uc_stack.ss_flags = alt_off ? SS_DISABLE : on_altstack(s, sp) ? SS_ONSTACK : 0;
	return (ka->flags & SA_RESTORER) && arch_sigframe_setup(regs, &f) == 0;
}

/* The lowest deliverable signal of set, SIGKILL first; 0 when none. */
static int next_signal(uint64_t set)
{
	if (!set)
		return 0;
	return (set & sigbit(SIGKILL)) ? SIGKILL : __builtin_ctzll(set) + 1;
}

/* Take the next deliverable signal (the thread's own first, then its process's) and block
 * what its handler asks for; *old_blocked gets the mask the frame restores. 0 when none.
 * Signal lock held. */
static int dequeue(struct task *t, struct ksiginfo *info, struct ksigaction *ka,
		   uint64_t *old_blocked)
{
	struct sig_state *s = t->sig;
	struct sig_pending *p = &s->pending;
	*old_blocked = s->restore_blocked ? s->saved_blocked : s->blocked;
	int sig = next_signal(p->set & ~s->blocked);
	if (!sig) {
		p = &t->group->shared_pending;
		sig = next_signal(p->set & ~s->blocked);
	}
	if (!sig)
		return 0;
	p->set &= ~sigbit(sig);
	*info = p->info[sig - 1];
	*ka = s->hand->action[sig - 1];
	if (ka->handler > SIG_IGN) {
		s->blocked |= ka->mask & ~UNBLOCKABLE;
		if (!(ka->flags & SA_NODEFER))
			s->blocked |= sigbit(sig);
		if (ka->flags & SA_RESETHAND)
			s->hand->action[sig - 1].handler = SIG_DFL;
	}
	return sig;
}

/* An interrupted syscall (an -ERESTART* result) runs again or fails with -EINTR, by Linux's
 * rules (include/kerrno.h), depending on whether a handler runs and has SA_RESTART. */
static void restart_syscall(struct user_regs *regs, bool handler, uint64_t sa_flags)
{
	if (!arch_uregs_in_syscall(regs))
		return;
	switch (arch_syscall_retval(regs)) {
	case -ERESTART_RESTARTBLOCK:
		if (handler)
			arch_syscall_set_retval(regs, -EINTR);
		else
			arch_syscall_restart_block(regs);
		break;
	case -ERESTARTNOHAND:
		if (handler)
			arch_syscall_set_retval(regs, -EINTR);
		else
			arch_syscall_restart(regs);
		break;
	case -ERESTARTSYS:
		if (handler && !(sa_flags & SA_RESTART))
			arch_syscall_set_retval(regs, -EINTR);
		else
			arch_syscall_restart(regs);
		break;
	case -ERESTARTNOINTR:
		arch_syscall_restart(regs);
		break;
	}
}

/* The default action of sig for the current task: ignore, stop, or end the process. */
static void default_action(struct task *t, int sig)
{
	switch (sig_default_action(sig)) {
	case SIG_DFL_IGNORE:
		return;
	case SIG_DFL_STOP:
		if (sig != SIGSTOP && sig_pgrp_orphaned(t))
			return; /* POSIX: an orphaned process group does not stop from the terminal */
		sig_do_stop(t, sig, sig_lock(t));
		return;
	default:
		task_exit_group(sig);
	}
}

void sig_deliver(struct user_regs *regs)
{
	struct task *t = current_task();
	struct sig_state *s = t->sig;
	task_test_and_clear_flag(t, TIF_SIGPENDING);
	for (;;) {
		struct ksiginfo info;
		struct ksigaction ka;
		uint64_t old_blocked;
		irqflags_t f = sig_lock(t);
		if ((s->stop_pending || s->stopped) && !(s->pending.set & sigbit(SIGKILL))) {
			sig_do_stop(t, 0, f); /* sleeps until continued or killed */
			continue;
		}
		int sig = dequeue(t, &info, &ka, &old_blocked);
		sig_unlock(t, f);
		if (!sig)
			break;
		if (sig == SIGKILL)
			task_exit_group(SIGKILL);
		if (ka.handler == SIG_IGN)
			continue;
		if (ka.handler == SIG_DFL) {
			default_action(t, sig);
			continue;
		}
		restart_syscall(regs, true, ka.flags);
		if (!setup_frame(s, sig, &ka, &info, old_blocked, regs)) {
			printk(KERN_INFO "sig: task %d cannot take signal %d (bad stack or no "
					 "restorer): killed by SIGSEGV\n", t->pid, sig);
			task_exit_group(SIGSEGV);
		}
		s->restore_blocked = false; /* the frame holds the mask to go back to */
		return; /* one frame at a time; the rest stay pending for the next return */
	}
	restart_syscall(regs, false, 0);
	if (s->restore_blocked) { /* rt_sigsuspend woken by a signal that ran no handler */
		irqflags_t f = sig_lock(t);
		s->blocked = s->saved_blocked;
		s->restore_blocked = false;
		sig_unlock(t, f);
		if (sig_pending(t))
			task_set_flag(t, TIF_SIGPENDING);
	}
}

/* Set the current thread's mask; process-directed signals it now blocks go to a thread
 * that does not (Linux's retarget_shared_pending). Signal lock held; adds the CPUs to kick
 * to *kick. */
static void set_blocked_locked(struct task *t, uint64_t mask, struct cpumask *kick)
{
	struct sig_state *s = t->sig;
	uint64_t newly = mask & ~s->blocked & t->group->shared_pending.set;
	s->blocked = mask & ~UNBLOCKABLE;
	for (int sig = 1; newly && sig <= NSIG; sig++)
		if (newly & sigbit(sig)) {
			newly &= ~sigbit(sig);
			struct task *u = task_next_thread(t->group, NULL);
			for (; u; u = task_next_thread(t->group, u))
				if (u != t && u->sig && !u->exiting && !(u->sig->blocked & sigbit(sig)))
					sig_wake_locked(u, kick);
		}
}

long sys_rt_sigreturn(struct user_regs *regs)
{
	struct task *t = current_task();
	struct arch_sigreturn ret;
	t->restart.fn = NULL; /* a restart block from before the handler is stale now */
	if (arch_sigframe_restore(regs, &ret)) {
		sig_force(t, &(struct ksiginfo){.si_signo = SIGSEGV, .si_code = SI_KERNEL});
		return -EFAULT;
	}
	if (ret.fpu_refused) {
		printk(KERN_INFO "sig: task %d: signal frame's FPU state unreadable: SIGSEGV\n",
		       t->pid);
		sig_force(t, &(struct ksiginfo){.si_signo = SIGSEGV, .si_code = SI_KERNEL});
	}
	if (ret.regs_refused) {
		printk(KERN_INFO "sig: task %d returned a forged signal frame: SIGSEGV\n", t->pid);
		sig_force(t, &(struct ksiginfo){.si_signo = SIGSEGV, .si_code = SI_KERNEL});
	}
	struct cpumask kick = {0};
	irqflags_t f = sig_lock(t);
	set_blocked_locked(t, ret.uc_sigmask, &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	if (sig_pending(t))
		task_set_flag(t, TIF_SIGPENDING);
	return arch_syscall_retval(regs); /* the restored register, not a result */
}

/* ---- syscalls on the current thread's state ---- */

long sys_rt_sigaction(int sig, const void *uact, void *uoact, size_t sigsetsize)
{
	struct task *t = current_task();
	struct ksigaction ka, old;
	if (sigsetsize != 8 || !valid_sig(sig))
		return -EINVAL;
	if (uact && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (uact && arch_copy_from_user(&ka, uact, sizeof(ka)))
		return -EFAULT;
	irqflags_t f = sig_lock(t);
	struct sighand *h = t->sig->hand;
	old = h->action[sig - 1];
	if (uact) {
		h->action[sig - 1] = ka;
		h->action[sig - 1].mask &= ~UNBLOCKABLE;
		if (sig_handler_ignores(h, sig))
			sig_flush_group(t, sigbit(sig)); /* setting SIG_IGN discards a pending one */
	}
	sig_unlock(t, f);
	if (uoact && arch_copy_to_user(uoact, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

long sys_rt_sigprocmask(int how, const uint64_t *uset, uint64_t *uoset, size_t sigsetsize)
{
	struct task *t = current_task();
	struct sig_state *s = t->sig;
	uint64_t set = 0, old;
	struct cpumask kick = {0};
	if (sigsetsize != 8)
		return -EINVAL;
	if (uset && arch_copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	if (uset && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
		return -EINVAL;
	irqflags_t f = sig_lock(t);
	old = s->blocked;
	if (uset)
		set_blocked_locked(t, how == SIG_BLOCK ? old | set : how == SIG_UNBLOCK ? old & ~set : set,
				   &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	if (sig_pending(t))
		task_set_flag(t, TIF_SIGPENDING);
	if (uoset && arch_copy_to_user(uoset, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

long sys_rt_sigpending(uint64_t *uset, size_t sigsetsize)
{
	struct task *t = current_task();
	if (sigsetsize > 8)
		return -EINVAL;
	irqflags_t f = sig_lock(t);
	uint64_t p = (t->sig->pending.set | t->group->shared_pending.set) & t->sig->blocked;
	sig_unlock(t, f);
	return arch_copy_to_user(uset, &p, sigsetsize) ? -EFAULT : 0;
}

/* Sleep until the current thread has a signal to see. */
static void sleep_until_signal(struct task *t)
{
	for (;;) {
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		bool ready = sig_pending(t) || (READ_ONCE(t->flags) & TIF_SIGPENDING);
		if (!ready)
			sleep_until_locked(0);
		spin_unlock_irqrestore(&sched_lock, f);
		if (ready)
			return;
	}
}

/* The temporary mask of rt_sigsuspend, ppoll and pselect6; see sig.h. */
void sig_set_temp_mask(uint64_t mask)
{
	struct task *t = current_task();
	irqflags_t f = sig_lock(t);
	if (!t->sig->restore_blocked)
		t->sig->saved_blocked = t->sig->blocked;
	t->sig->restore_blocked = true;
	struct cpumask kick = {0};
	set_blocked_locked(t, mask, &kick);
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
}

/* Put the mask sig_set_temp_mask saved back (a call that ends without a signal). */
void sig_restore_temp_mask(void)
{
	struct task *t = current_task();
	irqflags_t f = sig_lock(t);
	struct cpumask kick = {0};
	if (t->sig->restore_blocked) {
		t->sig->restore_blocked = false;
		set_blocked_locked(t, t->sig->saved_blocked, &kick);
	}
	sig_unlock(t, f);
	sched_kick_cpus(&kick);
	if (sig_pending(t))
		task_set_flag(t, TIF_SIGPENDING);
}

long sys_rt_sigsuspend(const uint64_t *uset, size_t sigsetsize)
{
	uint64_t set;
	if (sigsetsize != 8)
		return -EINVAL;
	if (arch_copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	sig_set_temp_mask(set);
	sleep_until_signal(current_task());
	return -ERESTARTNOHAND;
}

long sys_pause(void)
{
	sleep_until_signal(current_task());
	return -ERESTARTNOHAND;
}

long sys_sigaltstack(const void *uss, void *uoss, uint64_t user_sp)
{
	struct sig_state *s = current_task()->sig;
	struct ksigaltstack ss, old = s->altstack;
	old.ss_flags = on_altstack(s, user_sp) ? SS_ONSTACK : (old.ss_flags & SS_DISABLE);
	if (uss) {
		if (arch_copy_from_user(&ss, uss, sizeof(ss)))
			return -EFAULT;
		if (on_altstack(s, user_sp))
			return -EPERM;
		if (ss.ss_flags != 0 && ss.ss_flags != SS_ONSTACK && ss.ss_flags != SS_DISABLE)
			return -EINVAL; /* SS_AUTODISARM is not implemented */
		if (ss.ss_flags & SS_DISABLE) {
			ss.ss_sp = ss.ss_size = 0;
		} else if (ss.ss_size < MINSIGSTKSZ) {
			return -ENOMEM;
		}
		ss.ss_flags &= SS_DISABLE; /* SS_ONSTACK is accepted and ignored, as on Linux */
		s->altstack = ss;
	}
	if (uoss && arch_copy_to_user(uoss, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}
