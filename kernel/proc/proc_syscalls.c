/* The process syscalls, with Linux x86-64 numbers: execve and exit, identity (pid is the
 * process's tgid, tid the thread's; user and group ids are cred_syscalls.c's), prctl (names,
 * PR_MCE_KILL, the memory error kill policy of the calling thread, child subreapers, the
 * process's dumpable flag and the thread's no_new_privs),
 * yielding, CPU affinity and getcpu, and the resource limits, with Linux's permission
 * checks (another user's thread, a raised hard limit). */
#include "arch/context.h"
#include "arch/cpu.h"
#include "cred.h"
#include "kerrno.h"
#include "kstring.h"
#include "proc.h"
#include "proc_priv.h"
#include "syscall.h"
#include "vm.h"

#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_MCE_KILL 33
#define PR_MCE_KILL_GET 34
#define PR_SET_CHILD_SUBREAPER 36
#define PR_GET_CHILD_SUBREAPER 37
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39
#define PR_MCE_KILL_CLEAR 0
#define PR_MCE_KILL_SET 1
#define PR_MCE_KILL_LATE 0
#define PR_MCE_KILL_EARLY 1
#define PR_MCE_KILL_DEFAULT 2

static long sys_sched_yield(const struct syscall_args *a)
{
	(void)a;
	schedule();
	return 0;
}
SYSCALL_DEFINE(24, sys_sched_yield);

static long sys_getpid(const struct syscall_args *a)
{
	(void)a;
	return current_task()->group->tgid;
}
SYSCALL_DEFINE(39, sys_getpid);

static long sys_gettid(const struct syscall_args *a)
{
	(void)a;
	return current_task()->pid;
}
SYSCALL_DEFINE(186, sys_gettid);

static long sys_execve(const struct syscall_args *a)
{
	return task_execve((const char *)a->arg[0], (const char *const *)a->arg[1],
			   (const char *const *)a->arg[2], a->regs, true);
}
SYSCALL_DEFINE(59, sys_execve);

/* exit ends the calling thread, exit_group the process: the low 8 bits of the code. */
static long sys_exit(const struct syscall_args *a) { task_exit((int)((a->arg[0] & 0xff) << 8)); }
SYSCALL_DEFINE(60, sys_exit);
static long sys_exit_group(const struct syscall_args *a)
{
	task_exit_group((int)((a->arg[0] & 0xff) << 8));
}
SYSCALL_DEFINE(231, sys_exit_group);

/* ---- prctl ---- */

static long prctl_mf_kill(uint64_t op, uint64_t policy)
{
	struct task *t = current_task();
	if (op == PR_MCE_KILL_CLEAR) {
		if (policy)
			return -EINVAL;
		t->mf_kill = MF_KILL_DEFAULT;
		return 0;
	}
	if (op != PR_MCE_KILL_SET)
		return -EINVAL;
	if (policy == PR_MCE_KILL_EARLY)
		t->mf_kill = MF_KILL_EARLY;
	else if (policy == PR_MCE_KILL_LATE)
		t->mf_kill = MF_KILL_LATE;
	else if (policy == PR_MCE_KILL_DEFAULT)
		t->mf_kill = MF_KILL_DEFAULT;
	else
		return -EINVAL;
	return 0;
}

static long prctl_name(struct task *t, bool set, void *uname)
{
	char name[16] = {0};
	if (!set) {
		strlcpy(name, t->name, sizeof(name));
		return arch_copy_to_user(uname, name, sizeof(name)) ? -EFAULT : 0;
	}
	if (arch_strncpy_from_user(name, uname, sizeof(name)) == -EFAULT)
		return -EFAULT;
	name[15] = 0;
	strlcpy(t->name, name, sizeof(t->name));
	return 0;
}

static long sys_prctl(const struct syscall_args *a)
{
	struct task *t = current_task();
	const uint64_t *x = a->arg;
	int v;
	switch (x[0]) {
	case PR_MCE_KILL:
		return x[3] || x[4] ? -EINVAL : prctl_mf_kill(x[1], x[2]);
	case PR_MCE_KILL_GET:
		if (x[1] || x[2] || x[3] || x[4])
			return -EINVAL;
		return t->mf_kill == MF_KILL_EARLY  ? PR_MCE_KILL_EARLY
		       : t->mf_kill == MF_KILL_LATE ? PR_MCE_KILL_LATE
						      : PR_MCE_KILL_DEFAULT;
	case PR_SET_NAME:
	case PR_GET_NAME:
		return prctl_name(t, x[0] == PR_SET_NAME, (void *)x[1]);
	case PR_SET_CHILD_SUBREAPER:
		t->group->subreaper = x[1] != 0;
		return 0;
	case PR_GET_CHILD_SUBREAPER:
		v = t->group->subreaper;
		return arch_copy_to_user((void *)x[1], &v, sizeof(v)) ? -EFAULT : 0;
	case PR_GET_DUMPABLE:
		return t->mm->dumpable;
	case PR_SET_DUMPABLE: /* SUID_DUMP_DISABLE or SUID_DUMP_USER; 2 is for the sysctl */
		if (x[1] > 1)
			return -EINVAL;
		t->mm->dumpable = (uint8_t)x[1];
		return 0;
	case PR_SET_NO_NEW_PRIVS: /* one way: nothing clears it */
		if (x[1] != 1 || x[2] || x[3] || x[4])
			return -EINVAL;
		t->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		return x[1] || x[2] || x[3] || x[4] ? -EINVAL : t->no_new_privs;
	default:
		return -EINVAL;
	}
}
SYSCALL_DEFINE(157, sys_prctl);

/* ---- CPUs ---- */

/* The thread pid names (0: the caller), referenced. */
static struct task *thread_by_pid(int pid)
{
	struct task *t = pid ? task_find(pid) : current_task();
	if (t && !pid)
		task_get(t);
	return t;
}

/* Bytes of a CPU mask as user space sees it (Linux's cpumask_size with nr_cpu_ids bits). */
static size_t user_cpumask_size(void) { return (arch_cpu_count() + 63) / 64 * 8; }

/* sched_setaffinity(pid, len, mask): a shorter mask is zero-extended, a longer one cut (at
 * MAX_CPUS bits: bits past the last CPU are dropped with the offline ones). */
static long sys_sched_setaffinity(const struct syscall_args *a)
{
	struct cpumask mask = {0};
	size_t len = MIN(a->arg[1], sizeof(mask));
	if (arch_copy_from_user(&mask, (const void *)a->arg[2], len))
		return -EFAULT;
	struct task *t = thread_by_pid((int)a->arg[0]);
	if (!t)
		return -ESRCH;
	long err = -EPERM; /* another user's thread needs CAP_SYS_NICE (check_same_owner) */
	if (cred_same_owner(&current_task()->cred, &t->cred) || capable(CAP_SYS_NICE))
		err = sched_set_affinity(t, &mask);
	task_put(t);
	return err;
}
SYSCALL_DEFINE(203, sys_sched_setaffinity);

/* sched_getaffinity(pid, len, mask): the mask's size in bytes, as Linux returns. */
static long sys_sched_getaffinity(const struct syscall_args *a)
{
	uint64_t len = a->arg[1];
	if (len * 8 < arch_cpu_count() || (len & 7))
		return -EINVAL;
	struct task *t = thread_by_pid((int)a->arg[0]);
	if (!t)
		return -ESRCH;
	struct cpumask mask;
	sched_online_mask(&mask);
	for (unsigned w = 0; w < CPUMASK_WORDS; w++)
		mask.bits[w] &= READ_ONCE(t->cpus_allowed.bits[w]);
	task_put(t);
	size_t size = MIN(len, user_cpumask_size());
	return arch_copy_to_user((void *)a->arg[2], &mask, size) ? -EFAULT : (long)size;
}
SYSCALL_DEFINE(204, sys_sched_getaffinity);

/* getcpu(cpu, node, cache): the CPU running the caller now, node 0. */
static long sys_getcpu(const struct syscall_args *a)
{
	unsigned cpu = arch_cpu_id(), node = 0;
	long err = 0;
	if (a->arg[0] && arch_copy_to_user((void *)a->arg[0], &cpu, sizeof(cpu)))
		err = -EFAULT;
	if (a->arg[1] && arch_copy_to_user((void *)a->arg[1], &node, sizeof(node)))
		err = -EFAULT;
	return err;
}
SYSCALL_DEFINE(309, sys_getcpu);

/* ---- resource limits ---- */

/* Linux's do_prlimit on the process of thread t: read *old, set *new. */
static long do_prlimit(struct task *t, unsigned res, const struct rlimit64 *new,
		       struct rlimit64 *old)
{
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (new && new->cur > new->max)
		return -EINVAL;
	if (new && res == RLIMIT_NOFILE && new->max > TASK_MAX_FILES)
		return -EPERM; /* past the size of the fd table, Linux's nr_open */
	bool may_raise = capable(CAP_SYS_RESOURCE);
	long err = 0;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (old)
		*old = t->group->rlim[res];
	if (new && new->max > t->group->rlim[res].max && !may_raise)
		err = -EPERM; /* only CAP_SYS_RESOURCE raises a hard limit */
	else if (new)
		t->group->rlim[res] = *new;
	spin_unlock_irqrestore(&sched_lock, f);
	return err;
}

/* Linux's check_prlimit_permission: the limits of another process need the same real,
 * effective and saved ids (user and group) as the caller's real ones, or CAP_SYS_RESOURCE. */
static bool may_prlimit(const struct task *t)
{
	const struct cred *c = &current_task()->cred, *tc = &t->cred;
	if (t->group == current_task()->group || capable(CAP_SYS_RESOURCE))
		return true;
	return c->uid == tc->euid && c->uid == tc->suid && c->uid == tc->uid &&
	       c->gid == tc->egid && c->gid == tc->sgid && c->gid == tc->gid;
}

static long sys_getrlimit(const struct syscall_args *a)
{
	struct rlimit64 r;
	long err = do_prlimit(current_task(), (unsigned)a->arg[0], NULL, &r);
	if (err)
		return err;
	return arch_copy_to_user((void *)a->arg[1], &r, sizeof(r)) ? -EFAULT : 0;
}
SYSCALL_DEFINE(97, sys_getrlimit);

static long sys_setrlimit(const struct syscall_args *a)
{
	struct rlimit64 r;
	if (arch_copy_from_user(&r, (const void *)a->arg[1], sizeof(r)))
		return -EFAULT;
	return do_prlimit(current_task(), (unsigned)a->arg[0], &r, NULL);
}
SYSCALL_DEFINE(160, sys_setrlimit);

/* prlimit64(pid, resource, new, old). */
static long sys_prlimit64(const struct syscall_args *a)
{
	struct rlimit64 new, old;
	if (a->arg[2] && arch_copy_from_user(&new, (const void *)a->arg[2], sizeof(new)))
		return -EFAULT;
	struct task *t = thread_by_pid((int)a->arg[0]);
	if (!t)
		return -ESRCH;
	long err = may_prlimit(t) ? do_prlimit(t, (unsigned)a->arg[1], a->arg[2] ? &new : NULL,
					       a->arg[3] ? &old : NULL)
				  : -EPERM;
	task_put(t);
	if (!err && a->arg[3] && arch_copy_to_user((void *)a->arg[3], &old, sizeof(old)))
		err = -EFAULT;
	return err;
}
SYSCALL_DEFINE(302, sys_prlimit64);
