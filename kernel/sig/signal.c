/* Signals (see include/sig.h): per-task actions, blocked mask, pending set with one siginfo
 * per standard signal, the alternate stack, and delivery on the way back to user mode: this
 * file decides which handler runs, with which mask, siginfo and stack, and whether an
 * interrupted syscall restarts; the arch writes the frame and reads it back at rt_sigreturn
 * (include/arch/sigframe.h), refusing privileged state from it.
 * Locking: each task's sig_state has its own spinlock (taken with interrupts off); it nests
 * inside nothing and nothing nests inside it. */
#include "arch/cpu.h"
#include "arch/sigframe.h"
#include "arch/uregs.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "printk.h"
#include "sig.h"
#include "spinlock.h"
#include "task.h"

#define SIG_DFL 0
#define SIG_IGN 1
#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTORER 0x04000000
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define UNBLOCKABLE (BIT(SIGKILL - 1) | BIT(SIGSTOP - 1))

/* struct sigaction as the rt_sigaction syscall takes it (kernel layout, not libc's). */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct sig_state {
	spinlock_t lock;
	struct ksigaction action[NSIG];
	uint64_t blocked;
	uint64_t pending;
	struct ksiginfo info[NSIG];
	struct ksigaltstack altstack;
	uint64_t saved_blocked; /* the mask to restore, when restore_saved (sig_set_temp_mask) */
	bool restore_saved;
};

static uint64_t sigbit(int sig) { return BIT(sig - 1); }
static bool valid_sig(int sig) { return sig >= 1 && sig <= NSIG; }

int sig_task_init(struct task *t)
{
	t->sig = kzalloc(sizeof(*t->sig));
	if (!t->sig)
		return -ENOMEM;
	spin_init(&t->sig->lock);
	t->sig->altstack.ss_flags = SS_DISABLE;
	return 0;
}

int sig_fork(struct task *child, const struct task *parent)
{
	int err = sig_task_init(child);
	if (err || !parent->sig)
		return err;
	struct sig_state *c = child->sig, *p = parent->sig;
	memcpy(c->action, p->action, sizeof(c->action));
	c->blocked = p->blocked;
	c->altstack = p->altstack; /* pending signals are not inherited */
	return 0;
}

void sig_exit(struct task *t)
{
	kfree(t->sig);
	t->sig = NULL;
}

void sig_exec(struct task *t)
{
	for (int i = 0; i < NSIG; i++)
		if (t->sig->action[i].handler != SIG_IGN)
			memset(&t->sig->action[i], 0, sizeof(t->sig->action[i]));
	t->sig->altstack.ss_flags = SS_DISABLE;
}

/* Default action: 0 ignore, 1 terminate, 2 "core". MCRK writes no core file, so a "core"
 * signal terminates exactly like 1 and the wait status does not claim a dump (no WCOREDUMP
 * bit, SIGCHLD says CLD_KILLED), as Linux reports it with RLIMIT_CORE = 0. */
static int default_action(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case 23: /* SIGURG */
	case 28: /* SIGWINCH */
		return 0;
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
	case SIGSEGV: case SIGSYS: case 24: case 25:
		return 2;
	default:
		return 1;
	}
}

static bool ignored(const struct sig_state *s, int sig)
{
	uint64_t h = s->action[sig - 1].handler;
	return h == SIG_IGN || (h == SIG_DFL && default_action(sig) == 0);
}

bool sig_pending(const struct task *t)
{
	return t->sig && (READ_ONCE(t->sig->pending) & ~t->sig->blocked);
}

static void notify(struct task *t)
{
	task_set_flag(t, TIF_SIGPENDING);
	task_wake(t);
}

int sig_send(struct task *t, const struct ksiginfo *info)
{
	int sig = info->si_signo;
	if (!valid_sig(sig))
		return -EINVAL;
	if (!t->sig)
		return 0; /* exiting */
	struct sig_state *s = t->sig;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	bool queue = sig == SIGKILL || !ignored(s, sig) || (s->blocked & sigbit(sig));
	if (queue && !(s->pending & sigbit(sig))) { /* standard signals do not queue twice */
		s->pending |= sigbit(sig);
		s->info[sig - 1] = *info;
	}
	bool wake = queue && !(s->blocked & sigbit(sig));
	spin_unlock_irqrestore(&s->lock, f);
	if (wake)
		notify(t);
	return 0;
}

void sig_force(struct task *t, const struct ksiginfo *info)
{
	int sig = info->si_signo;
	struct sig_state *s = t->sig;
	if (!s)
		return;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	if ((s->blocked & sigbit(sig)) || s->action[sig - 1].handler == SIG_IGN) {
		/* A fault the task refuses to see: it dies of it, as on Linux. */
		s->blocked &= ~sigbit(sig);
		s->action[sig - 1].handler = SIG_DFL;
	}
	if (!(s->pending & sigbit(sig))) { /* one pending instance; the first one's info stays */
		s->pending |= sigbit(sig);
		s->info[sig - 1] = *info;
	}
	spin_unlock_irqrestore(&s->lock, f);
	notify(t);
}

void sig_kill_with(struct task *t, const struct ksiginfo *info)
{
	int sig = info->si_signo;
	struct sig_state *s = t->sig;
	if (!s || !valid_sig(sig))
		return;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	s->blocked &= ~sigbit(sig);
	s->action[sig - 1].handler = SIG_DFL; /* no handler may run: the task cannot resume */
	s->pending |= sigbit(sig);
	s->info[sig - 1] = *info;
	spin_unlock_irqrestore(&s->lock, f);
	notify(t);
}

void sig_send_chld(struct task *parent, int pid, int wait_status)
{
	struct ksiginfo i = {.si_signo = SIGCHLD};
	int termsig = wait_status & 0x7f;
	i.si_code = termsig ? ((wait_status & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
	i.u.chld.pid = pid;
	i.u.chld.status = termsig ? termsig : (wait_status >> 8) & 0xff;
	sig_send(parent, &i);
}

void sig_send_hwpoison(struct task *t, int code, uint64_t addr, int lsb)
{
	struct ksiginfo i = {.si_signo = SIGBUS, .si_code = code};
	i.u.fault.addr = addr;
	i.u.fault.addr_lsb = (int16_t)lsb;
	if (code == BUS_MCEERR_AR)
		sig_force(t, &i);
	else
		sig_send(t, &i);
}

/* ---- Delivery ---- */

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

/* Take the next deliverable signal (SIGKILL first, then lowest number) and block what its
 * handler asks for; *old_blocked gets the mask from before. 0 when none. */
static int dequeue(struct sig_state *s, struct ksiginfo *info, struct ksigaction *ka,
		   uint64_t *old_blocked)
{
	uint64_t ready = s->pending & ~s->blocked;
	*old_blocked = s->blocked;
	if (!ready)
		return 0;
	int sig = (ready & sigbit(SIGKILL)) ? SIGKILL : __builtin_ctzll(ready) + 1;
	s->pending &= ~sigbit(sig);
	*info = s->info[sig - 1];
	*ka = s->action[sig - 1];
	if (ka->handler > SIG_IGN) {
		s->blocked |= ka->mask & ~UNBLOCKABLE;
		if (!(ka->flags & SA_NODEFER))
			s->blocked |= sigbit(sig);
		if (ka->flags & SA_RESETHAND)
			s->action[sig - 1].handler = SIG_DFL;
	}
	return sig;
}

/* A syscall a signal interrupted (-ERESTARTSYS) runs again, unless a handler without
 * SA_RESTART runs first: then it fails with -EINTR. */
static void restart_syscall(struct user_regs *regs, bool handler_without_restart)
{
	if (!arch_uregs_in_syscall(regs) || arch_syscall_retval(regs) != -ERESTARTSYS)
		return;
	if (handler_without_restart)
		arch_syscall_set_retval(regs, -EINTR);
	else
		arch_syscall_restart(regs);
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
		irqflags_t f = spin_lock_irqsave(&s->lock);
		int sig = dequeue(s, &info, &ka, &old_blocked);
		spin_unlock_irqrestore(&s->lock, f);
		if (!sig)
			break;
		if (ka.handler == SIG_IGN || (ka.handler == SIG_DFL && default_action(sig) == 0))
			continue;
		if (ka.handler == SIG_DFL || sig == SIGKILL)
			task_exit(sig);
		restart_syscall(regs, !(ka.flags & SA_RESTART));
		f = spin_lock_irqsave(&s->lock);
		if (s->restore_saved) { /* ppoll/pselect6: the frame restores the caller's mask */
			old_blocked = s->saved_blocked;
			s->restore_saved = false;
		}
		spin_unlock_irqrestore(&s->lock, f);
		if (!setup_frame(s, sig, &ka, &info, old_blocked, regs)) {
			printk(KERN_INFO "sig: task %d cannot take signal %d (bad stack or no "
					 "restorer): killed by SIGSEGV\n", t->pid, sig);
			task_exit(SIGSEGV);
		}
		return; /* one frame at a time; the rest stay pending for the next return */
	}
	restart_syscall(regs, false);
	sig_restore_temp_mask();
}

void sig_set_temp_mask(uint64_t mask)
{
	struct sig_state *s = current_task()->sig;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	if (!s->restore_saved)
		s->saved_blocked = s->blocked;
	s->restore_saved = true;
	s->blocked = mask & ~UNBLOCKABLE;
	spin_unlock_irqrestore(&s->lock, f);
}

void sig_restore_temp_mask(void)
{
	struct task *t = current_task();
	struct sig_state *s = t->sig;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	if (s->restore_saved) {
		s->blocked = s->saved_blocked;
		s->restore_saved = false;
	}
	spin_unlock_irqrestore(&s->lock, f);
	if (sig_pending(t))
		task_set_flag(t, TIF_SIGPENDING);
}

long sys_rt_sigreturn(struct user_regs *regs)
{
	struct task *t = current_task();
	struct arch_sigreturn ret;
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
	irqflags_t f = spin_lock_irqsave(&t->sig->lock);
	t->sig->blocked = ret.uc_sigmask & ~UNBLOCKABLE;
	spin_unlock_irqrestore(&t->sig->lock, f);
	if (sig_pending(t))
		task_set_flag(t, TIF_SIGPENDING);
	return arch_syscall_retval(regs); /* the restored register, not a result */
}

/* ---- Syscalls ---- */

long sys_rt_sigaction(int sig, const void *uact, void *uoact, size_t sigsetsize)
{
	struct sig_state *s = current_task()->sig;
	struct ksigaction ka, old;
	if (sigsetsize != 8 || !valid_sig(sig))
		return -EINVAL;
	if (uact && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (uact && arch_copy_from_user(&ka, uact, sizeof(ka)))
		return -EFAULT;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	old = s->action[sig - 1];
	if (uact) {
		s->action[sig - 1] = ka;
		if (ignored(s, sig))
			s->pending &= ~sigbit(sig); /* setting SIG_IGN discards a pending one */
	}
	spin_unlock_irqrestore(&s->lock, f);
	if (uoact && arch_copy_to_user(uoact, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

long sys_rt_sigprocmask(int how, const uint64_t *uset, uint64_t *uoset, size_t sigsetsize)
{
	struct task *t = current_task();
	struct sig_state *s = t->sig;
	uint64_t set = 0, old;
	if (sigsetsize != 8)
		return -EINVAL;
	if (uset && arch_copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	old = s->blocked;
	if (uset) {
		if (how == SIG_BLOCK)
			s->blocked |= set;
		else if (how == SIG_UNBLOCK)
			s->blocked &= ~set;
		else if (how == SIG_SETMASK)
			s->blocked = set;
		else
			how = -1;
		s->blocked &= ~UNBLOCKABLE;
	}
	spin_unlock_irqrestore(&s->lock, f);
	if (how == -1)
		return -EINVAL;
	if (sig_pending(t))
		task_set_flag(t, TIF_SIGPENDING);
	if (uoset && arch_copy_to_user(uoset, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

long sys_rt_sigpending(uint64_t *uset, size_t sigsetsize)
{
	struct sig_state *s = current_task()->sig;
	if (sigsetsize != 8)
		return -EINVAL;
	uint64_t p = s->pending & s->blocked;
	return arch_copy_to_user(uset, &p, sizeof(p)) ? -EFAULT : 0;
}

long sys_sigaltstack(const void *uss, void *uoss, uint64_t user_sp)
{
	struct sig_state *s = current_task()->sig;
	struct ksigaltstack ss, old = s->altstack;
	if (on_altstack(s, user_sp))
		old.ss_flags = SS_ONSTACK;
	if (uss) {
		if (arch_copy_from_user(&ss, uss, sizeof(ss)))
			return -EFAULT;
		if (on_altstack(s, user_sp))
			return -EPERM;
		if (ss.ss_flags & ~SS_DISABLE)
			return -EINVAL;
		if (!(ss.ss_flags & SS_DISABLE) && ss.ss_size < MINSIGSTKSZ)
			return -ENOMEM;
		s->altstack = ss;
	}
	if (uoss && arch_copy_to_user(uoss, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

/* Whether init (pid 1) refuses a signal from user space: one it has no handler for, SIGKILL
 * and SIGSTOP included, as Linux protects its init (the machine cannot run without it). */
static bool init_refuses(struct task *t, int sig)
{
	if (t->pid != 1 || !t->sig)
		return false;
	irqflags_t f = spin_lock_irqsave(&t->sig->lock);
	bool dfl = t->sig->action[sig - 1].handler == SIG_DFL;
	spin_unlock_irqrestore(&t->sig->lock, f);
	return dfl || sig == SIGKILL || sig == SIGSTOP;
}

static long send_user_signal(int pid, int sig, int code, const struct ksiginfo *given)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	struct task *t = task_find(pid);
	if (!t)
		return -ESRCH;
	long err = 0;
	if (sig != 0 && !init_refuses(t, sig)) {
		struct ksiginfo i = {.si_signo = sig, .si_code = code};
		if (given)
			i = *given, i.si_signo = sig;
		else
			i.u.kill.pid = current_task()->pid;
		err = sig_send(t, &i);
	}
	task_put(t);
	return err;
}

long sys_kill(int pid, int sig)
{
	if (pid <= 0)
		return -ESRCH; /* process groups are not supported */
	return send_user_signal(pid, sig, SI_USER, NULL);
}

long sys_tgkill(int tgid, int tid, int sig)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	if (tgid != tid)
		return -ESRCH; /* single-threaded processes */
	return send_user_signal(tid, sig, SI_TKILL, NULL);
}

long sys_rt_sigqueueinfo(int pid, int sig, const void *uinfo)
{
	struct ksiginfo i;
	if (arch_copy_from_user(&i, uinfo, sizeof(i)))
		return -EFAULT;
	if ((i.si_code >= 0 || i.si_code == SI_TKILL) && pid != current_task()->pid)
		return -EPERM; /* only to itself may user space pretend to be the kernel */
	return send_user_signal(pid, sig, i.si_code, &i);
}
