/* The identity syscalls, with Linux x86-64 numbers: the getters of real, effective, saved
 * and filesystem user and group ids, the set*id family on the calling thread's own
 * credentials (the rules are cred.c's; a change of the effective or filesystem ids makes the
 * process non-dumpable), and getgroups/setgroups. */
#include "arch/context.h"
#include "cred.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "syscall.h"
#include "task.h"
#include "vm.h"

static struct cred *my_cred(void)
{
	return &current_task()->cred;
}

static long sys_getuid(const struct syscall_args *a)
{
	(void)a;
	return my_cred()->uid;
}
SYSCALL_DEFINE(102, sys_getuid);
static long sys_getgid(const struct syscall_args *a)
{
	(void)a;
	return my_cred()->gid;
}
SYSCALL_DEFINE(104, sys_getgid);
static long sys_geteuid(const struct syscall_args *a)
{
	(void)a;
	return my_cred()->euid;
}
SYSCALL_DEFINE(107, sys_geteuid);
static long sys_getegid(const struct syscall_args *a)
{
	(void)a;
	return my_cred()->egid;
}
SYSCALL_DEFINE(108, sys_getegid);

static uint32_t id_arg(const struct syscall_args *a, int i)
{
	return (uint32_t)a->arg[i];
}

/* After a set*id call (its result r, passed through): when the effective or filesystem ids
 * moved from old, the process's memory stops being dumpable, as Linux's commit_creds makes
 * it (fs.suid_dumpable 0), so that other users no longer look into it through /proc. */
static long committed(const struct cred *old, long r)
{
	const struct cred *c = my_cred();
	struct mm *mm = current_task()->mm;
	if (mm && (old->euid != c->euid || old->fsuid != c->fsuid || old->egid != c->egid ||
		   old->fsgid != c->fsgid))
		mm->dumpable = 0;
	return r;
}

static long sys_setuid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old, cred_setuid(my_cred(), id_arg(a, 0), capable(CAP_SETUID)));
}
SYSCALL_DEFINE(105, sys_setuid);

static long sys_setgid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old, cred_setgid(my_cred(), id_arg(a, 0), capable(CAP_SETGID)));
}
SYSCALL_DEFINE(106, sys_setgid);

static long sys_setreuid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old,
			 cred_setreuid(my_cred(), id_arg(a, 0), id_arg(a, 1), capable(CAP_SETUID)));
}
SYSCALL_DEFINE(113, sys_setreuid);

static long sys_setregid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old,
			 cred_setregid(my_cred(), id_arg(a, 0), id_arg(a, 1), capable(CAP_SETGID)));
}
SYSCALL_DEFINE(114, sys_setregid);

static long sys_setresuid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old, cred_setresuid(my_cred(), id_arg(a, 0), id_arg(a, 1), id_arg(a, 2),
					      capable(CAP_SETUID)));
}
SYSCALL_DEFINE(117, sys_setresuid);

static long sys_setresgid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old, cred_setresgid(my_cred(), id_arg(a, 0), id_arg(a, 1), id_arg(a, 2),
					      capable(CAP_SETGID)));
}
SYSCALL_DEFINE(119, sys_setresgid);

/* getresuid/getresgid: real, effective and saved to three user pointers, all or -EFAULT. */
static long put_three(const struct syscall_args *a, const struct cred_ids *x)
{
	const uint32_t v[3] = {x->real, x->eff, x->saved};
	for (int i = 0; i < 3; i++)
		if (arch_copy_to_user((void *)a->arg[i], &v[i], sizeof(v[i])))
			return -EFAULT;
	return 0;
}

static long sys_getresuid(const struct syscall_args *a)
{
	return put_three(a, &my_cred()->user);
}
SYSCALL_DEFINE(118, sys_getresuid);
static long sys_getresgid(const struct syscall_args *a)
{
	return put_three(a, &my_cred()->group);
}
SYSCALL_DEFINE(120, sys_getresgid);

static long sys_setfsuid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old, cred_setfsuid(my_cred(), id_arg(a, 0), capable(CAP_SETUID)));
}
SYSCALL_DEFINE(122, sys_setfsuid);

static long sys_setfsgid(const struct syscall_args *a)
{
	const struct cred old = *my_cred();
	return committed(&old, cred_setfsgid(my_cred(), id_arg(a, 0), capable(CAP_SETGID)));
}
SYSCALL_DEFINE(123, sys_setfsgid);

/* getgroups(size, list): the count when size is 0, -EINVAL when size is too small. */
static long sys_getgroups(const struct syscall_args *a)
{
	int size = (int)a->arg[0];
	const struct group_info *g = my_cred()->groups;
	uint32_t n = g ? g->n : 0;
	if (size < 0)
		return -EINVAL;
	if (size && (uint32_t)size < n)
		return -EINVAL;
	if (size && n && arch_copy_to_user((void *)a->arg[1], g->gid, n * sizeof(g->gid[0])))
		return -EFAULT;
	return n;
}
SYSCALL_DEFINE(115, sys_getgroups);

/* setgroups(size, list): CAP_SETGID first, then the size, then the list, as Linux checks. */
static long sys_setgroups(const struct syscall_args *a)
{
	int size = (int)a->arg[0];
	if (!capable(CAP_SETGID))
		return -EPERM;
	if (size < 0 || size > NGROUPS_MAX)
		return -EINVAL;
	uint32_t *v = size ? kmalloc((size_t)size * sizeof(*v)) : NULL;
	if (size && !v)
		return -ENOMEM;
	long err = 0;
	if (size && arch_copy_from_user(v, (const void *)a->arg[1], (size_t)size * sizeof(*v)))
		err = -EFAULT;
	if (!err)
		err = cred_set_groups(my_cred(), v, (size_t)size);
	kfree(v);
	return err;
}
SYSCALL_DEFINE(116, sys_setgroups);
