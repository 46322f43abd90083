/* The signal syscalls, with Linux x86-64 numbers: arguments to the typed sys_* functions of
 * deliver.c (include/sig.h), which the host tests also call directly; and the senders from
 * user space: kill (a pid, a process group with 0 or -pgid, everything with -1), tkill,
 * tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo, with Linux's order of checks. */
#include "arch/context.h"
#include "arch/uregs.h"
#include "cred.h"
#include "kerrno.h"
#include "sig_priv.h"
#include "syscall.h"

#define INT_MIN_ (-2147483647 - 1)

/* Whether init (pid 1) refuses a signal from user space: one it has no handler for, SIGKILL
 * and SIGSTOP included, as Linux protects its init (the machine cannot run without it). */
static bool init_refuses(struct task *t, int sig)
{
	if (t->group->tgid != 1 || !t->sig)
		return false;
	irqflags_t f = sig_lock(t);
	bool dfl = t->sig->hand->action[sig - 1].handler == SIG_DFL;
	sig_unlock(t, f);
	return dfl || sig == SIGKILL || sig == SIGSTOP;
}

struct user_send {
	int sig;
	const struct ksiginfo *info;
	bool group; /* process-directed */
};

/* Linux's check_kill_permission for a send from user space: a thread of the caller's own
 * process, the uid rule (cred_may_signal, CAP_KILL), or SIGCONT within the session. */
static bool may_signal(struct task *t, int sig)
{
	struct task *self = current_task();
	if (t->group == self->group || cred_may_signal(&self->cred, &t->cred))
		return true;
	return sig == SIGCONT && t->group->sid == self->group->sid;
}

/* One user-space send to t (after the target was found): -EINVAL for a bad signal, -EPERM
 * without permission (signal 0 included), signal 0 only checks, init keeps what it does not
 * handle. */
static long send_one(struct task *t, void *arg)
{
	const struct user_send *u = arg;
	if (u->sig < 0 || u->sig > NSIG)
		return -EINVAL;
	if (t->group && !may_signal(t, u->sig))
		return -EPERM;
	if (u->sig == 0 || !t->group || init_refuses(t, u->sig))
		return 0;
	return u->group ? sig_send(t, u->info) : sig_send_thread(t, u->info);
}

static long send_to_pid(int pid, const struct user_send *u)
{
	struct task *t = task_find(pid);
	if (!t)
		return -ESRCH;
	long err = send_one(t, (void *)u);
	task_put(t);
	return err;
}

static struct ksiginfo user_info(int sig, int code)
{
	struct ksiginfo i = {.si_signo = sig, .si_code = code};
	i.u.kill.pid = current_task()->group->tgid;
	i.u.kill.uid = current_task()->cred.uid; /* the sender's real uid, as Linux */
	return i;
}

/* kill(-1): every process but init and the caller's. As Linux, the processes the caller
 * may not signal do not count as a failure: 0 once any was tried, unless another error. */
static long send_one_of_all(struct task *t, void *arg)
{
	long err = send_one(t, arg);
	return err == -EPERM ? 0 : err;
}

static long send_to_all(const struct user_send *u)
{
	return task_for_each_in_pgrp(-1, send_one_of_all, (void *)u);
}

long sys_kill(int pid, int sig)
{
	struct ksiginfo i = user_info(sig, SI_USER);
	struct user_send u = {sig, &i, true};
	if (pid > 0)
		return send_to_pid(pid, &u);
	if (pid == INT_MIN_)
		return -ESRCH; /* -INT_MIN does not exist */
	if (pid == -1)
		return send_to_all(&u);
	return task_for_each_in_pgrp(pid ? -pid : current_task()->group->pgid, send_one, &u);
}

/* Linux's do_send_specific: thread tid, which must belong to process tgid (tgid 0: any). */
static long send_specific(int tgid, int tid, int sig, const struct ksiginfo *info)
{
	struct task *t = task_find(tid);
	if (!t)
		return -ESRCH;
	long err = -ESRCH;
	if (t->group && (tgid <= 0 || t->group->tgid == tgid)) {
		struct user_send u = {sig, info, false};
		err = send_one(t, &u);
	}
	task_put(t);
	return err;
}

long sys_tgkill(int tgid, int tid, int sig)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	struct ksiginfo i = user_info(sig, SI_TKILL);
	return send_specific(tgid, tid, sig, &i);
}

/* Only to itself (its own tid) may user space pretend to be the kernel or tkill. */
static long copy_queued_info(struct ksiginfo *i, int sig, int tid, const void *uinfo)
{
	if (arch_copy_from_user(i, uinfo, sizeof(*i)))
		return -EFAULT;
	if ((i->si_code >= 0 || i->si_code == SI_TKILL) && tid != current_task()->pid)
		return -EPERM;
	i->si_signo = sig;
	return 0;
}

long sys_rt_sigqueueinfo(int pid, int sig, const void *uinfo)
{
	struct ksiginfo i;
	long err = copy_queued_info(&i, sig, pid, uinfo);
	if (err)
		return err;
	struct user_send u = {sig, &i, true};
	return pid > 0 ? send_to_pid(pid, &u) : -ESRCH;
}

long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, const void *uinfo)
{
	struct ksiginfo i;
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	long err = copy_queued_info(&i, sig, tid, uinfo);
	return err ? err : send_specific(tgid, tid, sig, &i);
}

/* ---- the registrations ---- */

static long sys_rt_sigaction_(const struct syscall_args *a)
{
	return sys_rt_sigaction((int)a->arg[0], (const void *)a->arg[1], (void *)a->arg[2],
				a->arg[3]);
}
SYSCALL_DEFINE(13, sys_rt_sigaction_);

static long sys_rt_sigprocmask_(const struct syscall_args *a)
{
	return sys_rt_sigprocmask((int)a->arg[0], (const uint64_t *)a->arg[1],
				  (uint64_t *)a->arg[2], a->arg[3]);
}
SYSCALL_DEFINE(14, sys_rt_sigprocmask_);

static long sys_rt_sigreturn_(const struct syscall_args *a) { return sys_rt_sigreturn(a->regs); }
SYSCALL_DEFINE(15, sys_rt_sigreturn_);

static long sys_pause_(const struct syscall_args *a)
{
	(void)a;
	return sys_pause();
}
SYSCALL_DEFINE(34, sys_pause_);

static long sys_rt_sigpending_(const struct syscall_args *a)
{
	return sys_rt_sigpending((uint64_t *)a->arg[0], a->arg[1]);
}
SYSCALL_DEFINE(127, sys_rt_sigpending_);

static long sys_rt_sigsuspend_(const struct syscall_args *a)
{
	return sys_rt_sigsuspend((const uint64_t *)a->arg[0], a->arg[1]);
}
SYSCALL_DEFINE(130, sys_rt_sigsuspend_);

static long sys_sigaltstack_(const struct syscall_args *a)
{
	return sys_sigaltstack((const void *)a->arg[0], (void *)a->arg[1], arch_uregs_sp(a->regs));
}
SYSCALL_DEFINE(131, sys_sigaltstack_);

static long sys_kill_(const struct syscall_args *a) { return sys_kill((int)a->arg[0], (int)a->arg[1]); }
SYSCALL_DEFINE(62, sys_kill_);

static long sys_tgkill_(const struct syscall_args *a)
{
	return sys_tgkill((int)a->arg[0], (int)a->arg[1], (int)a->arg[2]);
}
SYSCALL_DEFINE(234, sys_tgkill_);

/* tkill(tid, sig): tgkill to a thread of any process. */
static long sys_tkill(const struct syscall_args *a)
{
	int tid = (int)a->arg[0], sig = (int)a->arg[1];
	if (tid <= 0)
		return -EINVAL;
	struct ksiginfo i = user_info(sig, SI_TKILL);
	return send_specific(0, tid, sig, &i);
}
SYSCALL_DEFINE(200, sys_tkill);

static long sys_rt_sigqueueinfo_(const struct syscall_args *a)
{
	return sys_rt_sigqueueinfo((int)a->arg[0], (int)a->arg[1], (const void *)a->arg[2]);
}
SYSCALL_DEFINE(129, sys_rt_sigqueueinfo_);

static long sys_rt_tgsigqueueinfo_(const struct syscall_args *a)
{
	return sys_rt_tgsigqueueinfo((int)a->arg[0], (int)a->arg[1], (int)a->arg[2],
				     (const void *)a->arg[3]);
}
SYSCALL_DEFINE(297, sys_rt_tgsigqueueinfo_);
