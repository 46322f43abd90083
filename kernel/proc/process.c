/* Processes: creation (kernel tasks, fork), exit, and wait4 with Linux's status encoding.
 * Children of an exiting task are handed to init (pid 1). A zombie keeps its pid until its
 * parent reaps it; the task structure and kernel stack are freed once it is also off its CPU. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/uregs.h"
#include "entry.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "panic.h"
#include "printk.h"
#include "sig.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

#define WNOHANG 1
#define INIT_PID 1

static struct list_node all_tasks = LIST_HEAD_INIT(all_tasks);
static int next_pid = 1;
static unsigned n_tasks;

/* A new task, not yet runnable; with a pid (and counted, findable by task_find) unless it is a
 * kernel worker. */
static struct task *task_alloc(const char *name, bool with_pid)
{
	struct task *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	struct page *stack = frame_alloc(KSTACK_ORDER, PG_KSTACK);
	if (!stack) {
		kfree(t);
		return NULL;
	}
	t->kstack = page_to_virt(stack);
	strlcpy(t->name, name, sizeof(t->name));
	list_init(&t->children);
	list_init(&t->sibling);
	list_init(&t->run_link);
	list_init(&t->all_link);
	wait_queue_init(&t->child_exit);
	t->state = TASK_SLEEPING; /* not runnable until sched_start_task */
	if (!with_pid)
		return t;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	t->pid = next_pid++;
	list_add_tail(&t->all_link, &all_tasks);
	n_tasks++;
	spin_unlock_irqrestore(&sched_lock, f);
	return t;
}

/* Free a dead task that is off every CPU, unless someone still holds a reference (then the
 * last task_put frees it). sched_lock held. */
void task_free(struct task *t);
void task_free(struct task *t)
{
	if (t->refs > 0)
		return;
	sig_exit(t); /* only now: a concurrent sig_send may have been using the state */
	list_del(&t->all_link);
	n_tasks--;
	frame_free(virt_to_page(t->kstack), KSTACK_ORDER);
	kfree(t);
}

unsigned task_count(void) { return n_tasks; }

struct task *task_find(int pid)
{
	struct task *found = NULL;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct list_node *n;
	list_for_each(n, &all_tasks)
	{
		struct task *t = list_entry(n, struct task, all_link);
		if (t->pid == pid && t->state != TASK_DEAD)
			found = t;
	}
	if (found)
		found->refs++;
	spin_unlock_irqrestore(&sched_lock, f);
	return found;
}

struct task *task_get_mm_owner(struct mm *mm)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *t = mm->owner;
	if (t && (t->mm != mm || t->state == TASK_ZOMBIE || t->state == TASK_DEAD))
		t = NULL;
	if (t)
		t->refs++;
	spin_unlock_irqrestore(&sched_lock, f);
	return t;
}

void task_put(struct task *t)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (--t->refs == 0 && t->state == TASK_DEAD && !t->on_cpu)
		task_free(t);
	spin_unlock_irqrestore(&sched_lock, f);
}

static void adopt(struct task *child, struct task *parent)
{
	child->parent = parent;
	if (parent)
		list_add_tail(&child->sibling, &parent->children);
}

struct task *task_create_kernel(const char *name, void (*fn)(void *), void *arg)
{
	struct task *t = task_alloc(name, true);
	if (!t)
		return NULL;
	arch_context_init_kernel(&t->ctx, t->kstack, fn, arg);
	return t;
}

struct task *task_create_worker(const char *name, void (*fn)(void *), void *arg)
{
	struct task *t = task_alloc(name, false);
	if (!t)
		return NULL;
	t->is_worker = true;
	arch_context_init_kernel(&t->ctx, t->kstack, fn, arg);
	return t;
}

/* fork/vfork/clone(SIGCHLD): a copy of the current task with a copy-on-write address space.
 * Returns the child's pid to the parent; the child returns 0 from the same syscall. */
long task_fork(struct user_regs *regs)
{
	struct task *parent = current_task();
	struct task *child = task_alloc(parent->name, true);
	if (!child)
		return -ENOMEM;
	child->mm = mm_fork(parent->mm);
	int err = child->mm ? sig_fork(child, parent) : -ENOMEM;
	if (err) {
		if (child->mm)
			mm_put(child->mm);
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		task_free(child);
		spin_unlock_irqrestore(&sched_lock, f);
		return err;
	}
	child->mf_kill = parent->mf_kill; /* PR_MCE_KILL is inherited, as on Linux */
	child->mm->owner = child;
	if (vfs_fork_files(child, parent, false) || vfs_fork_fs(child, parent, false)) {
		vfs_close_all(child);
		mm_put(child->mm);
		child->mm = NULL;
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		task_free(child);
		spin_unlock_irqrestore(&sched_lock, f);
		return -ENOMEM;
	}
	/* The child inherits the FS base and FPU state, and returns 0 from the same syscall. */
	arch_syscall_set_retval(arch_context_init_user(&child->ctx, child->kstack, regs), 0);
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	adopt(child, parent);
	spin_unlock_irqrestore(&sched_lock, f);
	int pid = child->pid;
	sched_start_task(child);
	return pid;
}

static struct task *init_task(void)
{
	struct list_node *n;
	list_for_each(n, &all_tasks)
	{
		struct task *t = list_entry(n, struct task, all_link);
		if (t->pid == INIT_PID)
			return t;
	}
	return NULL;
}

__noreturn void task_exit(int wait_status)
{
	struct task *t = current_task();
	if (t->pid == INIT_PID)
		printk(KERN_WARNING "init exited with status %#x\n", wait_status);
	vfs_close_all(t);
	struct mm *mm = t->mm;
	if (mm) {
		arch_pt_activate(NULL);
		irqflags_t g = spin_lock_irqsave(&sched_lock);
		mm->owner = NULL; /* task_get_mm_owner no longer finds us */
		t->mm = NULL;
		spin_unlock_irqrestore(&sched_lock, g);
		mm_put(mm);
	}
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *reaper = init_task();
	struct list_node *n, *tmp;
	bool reaper_has_zombie = false;
	list_for_each_safe(n, tmp, &t->children)
	{
		struct task *c = list_entry(n, struct task, sibling);
		list_del(&c->sibling);
		adopt(c, reaper != t ? reaper : NULL);
		reaper_has_zombie |= c->state == TASK_ZOMBIE;
	}
	t->exit_status = wait_status;
	t->state = TASK_ZOMBIE;
	struct task *parent = t->parent;
	spin_unlock_irqrestore(&sched_lock, f);
	if (parent) {
		sig_send_chld(parent, t->pid, wait_status);
		wake_up(&parent->child_exit);
	}
	if (reaper_has_zombie && reaper)
		wake_up(&reaper->child_exit);
	schedule(); /* never returns: ZOMBIE is not runnable */
	panic("zombie task %d was scheduled", t->pid);
}

/* Find a zombie child matching pid (-1: any); unlink and return it. sched_lock held. */
static struct task *reapable(struct task *parent, int pid, bool *have_child)
{
	struct list_node *n;
	*have_child = false;
	list_for_each(n, &parent->children)
	{
		struct task *c = list_entry(n, struct task, sibling);
		if (pid != -1 && c->pid != pid)
			continue;
		*have_child = true;
		if (c->state == TASK_ZOMBIE) {
			list_del(&c->sibling);
			return c;
		}
	}
	return NULL;
}

/* Free a zombie unlinked from its parent. The CPU it ran on may still be switching away
 * from it (on_cpu): wait for that, with sched_lock dropped so that CPU can finish (a few
 * instructions), so that when wait4 returns every frame of the child, its kernel stack
 * included, is back in the allocator (user/leakcheck relies on it). Called with sched_lock
 * held (flags f); returns with it released. */
static void reap_zombie(struct task *z, irqflags_t f)
{
	while (__atomic_load_n(&z->on_cpu, __ATOMIC_ACQUIRE)) {
		spin_unlock_irqrestore(&sched_lock, f);
		arch_cpu_relax();
		f = spin_lock_irqsave(&sched_lock);
	}
	z->state = TASK_DEAD; /* off every CPU: release_prev no longer looks at it */
	task_free(z);
	spin_unlock_irqrestore(&sched_lock, f);
}

long task_wait4(int pid, int *ustatus, int options)
{
	struct task *self = current_task();
	if (pid < -1 || pid == 0)
		pid = -1; /* process groups: every child is in ours */
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	for (;;) {
		bool have_child;
		struct task *z = reapable(self, pid, &have_child);
		if (z) {
			int status = z->exit_status, zpid = z->pid;
			reap_zombie(z, f);
			if (ustatus && arch_copy_to_user(ustatus, &status, sizeof(status)))
				return -EFAULT;
			return zpid;
		}
		long r = !have_child ? -ECHILD : (options & WNOHANG) ? 0 : sig_pending(self) ? -ERESTARTSYS : 1;
		if (r != 1) {
			spin_unlock_irqrestore(&sched_lock, f);
			return r;
		}
		/* Still under sched_lock: a child exiting now cannot slip its wake-up past us. */
		sleep_on_locked(&self->child_exit);
	}
}
