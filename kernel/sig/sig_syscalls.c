/* The signal syscalls, with Linux x86-64 numbers: arguments to the typed sys_* functions of
 * signal.c (include/sig.h), which the host tests also call directly. */
#include "arch/uregs.h"
#include "sig.h"
#include "syscall.h"

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

static long sys_rt_sigpending_(const struct syscall_args *a)
{
	return sys_rt_sigpending((uint64_t *)a->arg[0], a->arg[1]);
}
SYSCALL_DEFINE(127, sys_rt_sigpending_);

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

/* tkill(tid, sig): tgkill within the caller's own single-threaded process. */
static long sys_tkill(const struct syscall_args *a)
{
	return sys_tgkill((int)a->arg[0], (int)a->arg[0], (int)a->arg[1]);
}
SYSCALL_DEFINE(200, sys_tkill);

static long sys_rt_sigqueueinfo_(const struct syscall_args *a)
{
	return sys_rt_sigqueueinfo((int)a->arg[0], (int)a->arg[1], (const void *)a->arg[2]);
}
SYSCALL_DEFINE(129, sys_rt_sigqueueinfo_);
