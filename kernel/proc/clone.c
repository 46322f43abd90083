/* Creating tasks: clone, clone3, fork and vfork with Linux's flags and checks (kernel/fork.c:
 * copy_process, kernel_clone, clone3_args_valid). A thread (CLONE_THREAD) joins the caller's
 * process; a process gets a thread group of its own whose parent is the caller's process (or
 * the caller's parent with CLONE_PARENT). What the child shares or copies:
 *   CLONE_VM      the address space (else a copy-on-write copy, mm_fork)
 *   CLONE_FILES   the fd table (else a copy of it)
 *   CLONE_SIGHAND the table of signal actions (else a copy)
 *   CLONE_FS      the fs context: root, working directory and umask (else a copy)
 *   CLONE_SYSVSEM SysV semaphore undo lists: MCRK has no SysV semaphores, so nothing
 * CLONE_SETTLS sets the child's FS base, CLONE_PARENT_SETTID / CLONE_CHILD_SETTID store its
 * tid, CLONE_CHILD_CLEARTID makes its exit clear that word and wake its futex, CLONE_VFORK
 * makes the caller wait until the child execs or exits. Namespaces, pidfds and cgroups are
 * not implemented: those flags give -EINVAL, as Linux does for namespaces it was built
 * without. */
#include "arch/context.h"
#include "arch/mmu.h"
#include "arch/uregs.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "proc_priv.h"
#include "sig.h"
#include "syscall.h"
#include "vfs.h"
#include "vm.h"

#define CLONE_NEWTIME 0x00000080
#define CLONE_INTO_CGROUP 0x200000000ull
#define CLONE_NAMESPACES (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)
#define CLONE_ARGS_SIZE_VER0 64
#define MAX_PID_NS_LEVEL 32

/* Linux's copy_process checks, in its order. */
static long check_flags(uint64_t flags)
{
	struct task *self = current_task();
	if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS))
		return -EINVAL;
	if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL; /* threads share their signal actions */
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL; /* shared actions need the shared memory their handlers are in */
	if ((flags & CLONE_PARENT) && self->group->tgid == INIT_PID)
		return -EINVAL; /* init's siblings would have nobody to reap them */
	if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
		return -EINVAL;
	if ((flags & CLONE_PIDFD) && (flags & (CLONE_DETACHED | CLONE_THREAD)))
		return -EINVAL;
	if (flags & (CLONE_NAMESPACES | CLONE_PIDFD | CLONE_INTO_CGROUP))
		return -EINVAL; /* not implemented */
	return 0;
}

/* The child's place in the process tree, or in the caller's thread group. Both locks. */
static long link_child(struct task *child, struct task *self, uint64_t flags, int exit_signal)
{
	struct thread_group *g = self->group;
	if (g->group_exit || (g->exec_task && g->exec_task != self))
		return -EINTR; /* the caller is being killed: it will not see the child */
	if (flags & CLONE_THREAD) {
		child->group = g;
		g->refs++;
		list_add_tail(&child->thread_link, &g->threads);
		g->nr_threads++;
		return 0;
	}
	struct thread_group *cg = child->group, *pg = (flags & CLONE_PARENT) ? g->parent : g;
	cg->exit_signal = (flags & CLONE_PARENT) ? g->exit_signal : exit_signal;
	cg->pgid = g->pgid;
	cg->sid = g->sid;
	cg->no_ctty = g->no_ctty;
	memcpy(cg->rlim, g->rlim, sizeof(cg->rlim));
	cg->parent = pg;
	cg->creator = (flags & CLONE_PARENT) ? g->creator : self;
	if (pg)
		list_add_tail(&cg->sibling, &pg->children);
	return 0;
}

/* Undo a child that never ran. */
static void drop_child(struct task *child)
{
	if (child->mm) {
		struct mm *mm = child->mm;
		task_set_mm(child, NULL);
		mm_put(mm);
	}
	if (child->fdt)
		vfs_fdt_put(child->fdt);
	if (child->fs)
		vfs_fs_put(child->fs);
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	child->state = TASK_DEAD;
	task_free(child);
	spin_unlock_irqrestore(&sched_lock, f);
}

/* Copy or share what the flags say: memory, files, signal state, and a group. */
static long copy_resources(struct task *child, struct task *self, uint64_t flags)
{
	struct mm *mm = self->mm;
	if (mm && (flags & CLONE_VM))
		mm_get(mm);
	else if (mm)
		mm = mm_fork(mm);
	if (self->mm && !mm)
		return -ENOMEM;
	task_set_mm(child, mm);
	if (self->fdt) {
		child->fdt = (flags & CLONE_FILES) ? vfs_fdt_get(self->fdt) : vfs_fdt_dup(self->fdt);
		if (!child->fdt)
			return -ENOMEM;
	}
	if (self->fs) {
		child->fs = (flags & CLONE_FS) ? vfs_fs_get(self->fs) : vfs_fs_dup(self->fs);
		if (!child->fs)
			return -ENOMEM;
	}
	if (sig_clone(child, self, flags))
		return -ENOMEM;
	if (!(flags & CLONE_THREAD) && !group_alloc(child))
		return -ENOMEM;
	return 0;
}

/* CLONE_VFORK: sleep until the child has exec'd or exited, or this task is killed. */
static void wait_vfork(struct task *child)
{
	struct task *self = current_task();
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	while (!child->vfork_done && !sig_fatal_pending(self))
		sleep_on_locked(&child->vfork_wait);
	child->vfork_parent = NULL;
	spin_unlock_irqrestore(&sched_lock, f);
}

long task_clone(const struct clone_args *ca, struct user_regs *regs)
{
	struct task *self = current_task();
	uint64_t flags = ca->flags;
	long err = check_flags(flags);
	if (!err && (flags & CLONE_SETTLS) && ca->tls >= USER_VA_END)
		err = -EPERM; /* as arch_prctl(ARCH_SET_FS) refuses it */
	if (err)
		return err;
	struct task *child = task_alloc(self->name, true);
	if (!child)
		return -ENOMEM;
	child->mf_kill = self->mf_kill; /* PR_MCE_KILL is inherited, as on Linux */
	child->no_new_privs = self->no_new_privs;
	cred_copy(&child->cred, &self->cred);
	child->cpus_allowed = self->cpus_allowed;
	err = copy_resources(child, self, flags);
	if (err) {
		drop_child(child);
		return err;
	}
	struct user_regs *cr = arch_context_init_user(&child->ctx, child->kstack, regs);
	arch_syscall_set_retval(cr, 0); /* the child returns 0 from the same syscall */
	if (ca->stack)
		arch_uregs_set_sp(cr, ca->stack);
	if (flags & CLONE_SETTLS)
		arch_context_set_tls(&child->ctx, ca->tls);
	if (flags & CLONE_CHILD_SETTID)
		child->set_child_tid = ca->child_tid; /* stored by the child, in its own memory */
	if (flags & CLONE_CHILD_CLEARTID)
		child->clear_child_tid = ca->child_tid;
	irqflags_t f = sig_tree_lock();
	spin_lock(&sched_lock);
	err = link_child(child, self, flags, ca->exit_signal);
	spin_unlock(&sched_lock);
	if (!err && (flags & CLONE_THREAD))
		sig_join_group_stop(child, self);
	sig_tree_unlock(f);
	if (err) {
		drop_child(child);
		return err;
	}
	int tid = child->pid;
	if (flags & CLONE_PARENT_SETTID)
		arch_copy_to_user((void *)ca->parent_tid, &tid, sizeof(tid)); /* Linux ignores a fault */
	if (flags & CLONE_VFORK) {
		child->vfork_parent = self;
		task_get(child);
	}
	sched_start_task(child);
	if (flags & CLONE_VFORK) {
		wait_vfork(child);
		task_put(child);
	}
	return tid;
}

long task_fork(struct user_regs *regs)
{
	struct clone_args ca = {.exit_signal = SIGCHLD};
	return task_clone(&ca, regs);
}

/* ---- the syscalls ---- */

static long sys_fork(const struct syscall_args *a) { return task_fork(a->regs); }
SYSCALL_DEFINE(57, sys_fork);

static long sys_vfork(const struct syscall_args *a)
{
	struct clone_args ca = {.flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD};
	return task_clone(&ca, a->regs);
}
SYSCALL_DEFINE(58, sys_vfork);

/* clone(flags, newsp, parent_tid, child_tid, tls): the exit signal is the low byte of flags;
 * the upper 32 bits are ignored, as Linux does. */
static long sys_clone(const struct syscall_args *a)
{
	uint32_t f = (uint32_t)a->arg[0];
	struct clone_args ca = {.flags = f & ~(uint32_t)CSIGNAL, .exit_signal = (int)(f & CSIGNAL),
				.stack = a->arg[1], .parent_tid = a->arg[2], .child_tid = a->arg[3],
				.tls = a->arg[4]};
	return task_clone(&ca, a->regs);
}
SYSCALL_DEFINE(56, sys_clone);

/* struct clone_args of clone3, version 2 (88 bytes). */
struct uclone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* Linux's copy_struct_from_user: a larger struct is fine if its extra bytes are zero. */
static long copy_clone3_args(struct uclone_args *k, const void *u, uint64_t size)
{
	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (size > PAGE_SIZE)
		return -E2BIG;
	memset(k, 0, sizeof(*k));
	for (uint64_t off = sizeof(*k); off < size; off++) {
		uint8_t b;
		if (arch_copy_from_user(&b, (const uint8_t *)u + off, 1))
			return -EFAULT;
		if (b)
			return -E2BIG;
	}
	return arch_copy_from_user(k, u, MIN(size, sizeof(*k))) ? -EFAULT : 0;
}

/* clone3_args_valid and the checks of copy_clone_args_from_user. */
static bool clone3_valid(const struct uclone_args *k)
{
	if (k->exit_signal & ~(uint64_t)CSIGNAL || k->exit_signal > NSIG)
		return false;
	if (k->set_tid_size > MAX_PID_NS_LEVEL || (!k->set_tid && k->set_tid_size) ||
	    (k->set_tid && !k->set_tid_size))
		return false;
	if (k->flags & ~(0xffffffffull | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP))
		return false;
	if (k->flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME)))
		return false;
	if ((k->flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return false;
	if ((k->flags & (CLONE_THREAD | CLONE_PARENT)) && k->exit_signal)
		return false;
	if (!k->stack)
		return k->stack_size == 0;
	return k->stack_size && k->stack < USER_VA_END && k->stack_size <= USER_VA_END - k->stack;
}

static long sys_clone3(const struct syscall_args *a)
{
	struct uclone_args k;
	long err = copy_clone3_args(&k, (const void *)a->arg[0], a->arg[1]);
	if (err)
		return err;
	if (!clone3_valid(&k) || k.set_tid_size)
		return -EINVAL; /* choosing the pid (set_tid) is not implemented */
	struct clone_args ca = {.flags = k.flags, .exit_signal = (int)k.exit_signal,
				.stack = k.stack ? k.stack + k.stack_size : 0, .tls = k.tls,
				.parent_tid = k.parent_tid, .child_tid = k.child_tid};
	return task_clone(&ca, a->regs);
}
SYSCALL_DEFINE(435, sys_clone3);

static long sys_set_tid_address(const struct syscall_args *a)
{
	struct task *t = current_task();
	t->clear_child_tid = a->arg[0];
	return t->pid;
}
SYSCALL_DEFINE(218, sys_set_tid_address);
