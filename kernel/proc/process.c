/* Tasks and processes: allocation and freeing, pids, the thread group a task belongs to, the
 * lists that find them (by pid, by address space) and the process tree's lookups. A task is
 * freed once it is released (DEAD: a thread that exited, or a reaped zombie leader), off its
 * CPU and unreferenced; its thread group goes with the last task that points at it. Creation
 * is clone.c, the end exit.c, reaping wait.c. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "frame.h"
#include "kerrno.h"
#include "kmalloc.h"
#include "kstring.h"
#include "memory_failure.h"
#include "proc_priv.h"
#include "sig.h"
#include "vm.h"

static struct list_node all_tasks = LIST_HEAD_INIT(all_tasks);
static int next_pid = 1;
static unsigned n_tasks, n_groups;

struct task *task_alloc(const char *name, bool with_pid)
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
	list_init(&t->run_link);
	list_init(&t->all_link);
	list_init(&t->mm_link);
	list_init(&t->thread_link);
	wait_queue_init(&t->vfork_wait);
	for (unsigned c = 0; c < MAX_CPUS; c++)
		cpumask_set(&t->cpus_allowed, c);
	t->mf_pfn = MF_NO_PFN;
	t->start_ns = arch_time_ns();
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

/* Linux's boot-time limits (INIT_RLIMITS); the open-file limit is the size of the table. */
static void default_limits(struct rlimit64 *r)
{
	for (unsigned i = 0; i < RLIM_NLIMITS; i++)
		r[i] = (struct rlimit64){RLIM_INFINITY, RLIM_INFINITY};
	r[RLIMIT_STACK].cur = 8ull << 20;
	r[RLIMIT_CORE].cur = 0;
	r[RLIMIT_NPROC] = (struct rlimit64){TASK_NPROC_MAX, TASK_NPROC_MAX};
	r[RLIMIT_NOFILE] = (struct rlimit64){TASK_NOFILE_DEFAULT, TASK_MAX_FILES};
	r[RLIMIT_MEMLOCK] = (struct rlimit64){8ull << 20, 8ull << 20};
	r[11] = (struct rlimit64){TASK_NPROC_MAX, TASK_NPROC_MAX}; /* RLIMIT_SIGPENDING */
	r[12] = (struct rlimit64){819200, 819200};		      /* RLIMIT_MSGQUEUE */
	r[13] = r[14] = (struct rlimit64){0, 0};		      /* RLIMIT_NICE, RTPRIO */
}

struct thread_group *group_alloc(struct task *leader)
{
	struct thread_group *g = kzalloc(sizeof(*g));
	if (!g)
		return NULL;
	g->refs = 1;
	g->tgid = leader->pid;
	g->leader = leader;
	list_init(&g->threads);
	list_add_tail(&leader->thread_link, &g->threads);
	g->nr_threads = 1;
	list_init(&g->children);
	list_init(&g->sibling);
	wait_queue_init(&g->child_wait);
	wait_queue_init(&g->thread_exit);
	wait_queue_init(&g->stop_wait);
	g->exit_signal = SIGCHLD;
	default_limits(g->rlim);
	leader->group = g;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	n_groups++;
	spin_unlock_irqrestore(&sched_lock, f);
	return g;
}

int task_group_init(struct task *t) { return group_alloc(t) ? 0 : -ENOMEM; }

/* Free a released task that is off every CPU, unless someone still holds a reference (then
 * the last task_put frees it). sched_lock held. */
void task_free(struct task *t)
{
	if (t->refs > 0)
		return;
	sig_exit(t); /* only now: a concurrent sig_send may have been using the state */
	cred_release(&t->cred);
	if (t->pid) { /* not a worker */
		list_del(&t->all_link);
		n_tasks--;
	}
	struct thread_group *g = t->group;
	if (g && --g->refs == 0) {
		n_groups--;
		kfree(g);
	}
	frame_free(virt_to_page(t->kstack), KSTACK_ORDER);
	kfree(t);
}

unsigned task_count(void) { return n_tasks; }
unsigned task_count_processes(void) { return n_groups; }
int task_last_pid(void) { return READ_ONCE(next_pid) - 1; }

struct task *task_find_locked(int pid)
{
	struct list_node *n;
	list_for_each(n, &all_tasks)
	{
		struct task *t = list_entry(n, struct task, all_link);
		if (t->pid == pid && t->state != TASK_DEAD)
			return t;
	}
	return NULL;
}

struct task *task_find(int pid)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *found = task_find_locked(pid);
	if (found)
		found->refs++;
	spin_unlock_irqrestore(&sched_lock, f);
	return found;
}

void task_get(struct task *t)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	t->refs++;
	spin_unlock_irqrestore(&sched_lock, f);
}

void task_put(struct task *t)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (--t->refs == 0 && t->state == TASK_DEAD && !t->on_cpu)
		task_free(t);
	spin_unlock_irqrestore(&sched_lock, f);
}

struct task *task_get_parent(struct thread_group *g)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct task *p = g->parent ? g->parent->leader : NULL;
	if (p)
		p->refs++;
	spin_unlock_irqrestore(&sched_lock, f);
	return p;
}

struct task *task_next_thread(struct thread_group *g, struct task *t)
{
	struct list_node *n = t ? t->thread_link.next : g->threads.next;
	return n == &g->threads ? NULL : list_entry(n, struct task, thread_link);
}

/* Every process (its leader), for the process-group walks. sched_lock held. */
struct task *task_next_process(struct task *t)
{
	struct list_node *n = t ? t->all_link.next : all_tasks.next;
	for (; n != &all_tasks; n = n->next) {
		struct task *u = list_entry(n, struct task, all_link);
		if (u->group && u->group->leader == u && u->group->state != GROUP_DEAD)
			return u;
	}
	return NULL;
}

void task_set_mm(struct task *t, struct mm *mm)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	if (t->mm)
		list_del(&t->mm_link);
	t->mm = mm;
	if (mm)
		list_add_tail(&t->mm_link, &mm->users);
	spin_unlock_irqrestore(&sched_lock, f);
}

/* Whether an earlier user of the list (before node `upto`) belongs to group g. */
static bool group_seen_before(struct list_node *head, struct list_node *upto,
			      const struct thread_group *g)
{
	for (struct list_node *n = head->next; n != upto; n = n->next)
		if (list_entry(n, struct task, mm_link)->group == g)
			return true;
	return false;
}

unsigned task_mm_pick(struct mm *mm, struct task *(*pick)(struct thread_group *g, void *arg),
		      void *arg, struct task **out, unsigned max)
{
	unsigned n = 0;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct list_node *node;
	list_for_each(node, &mm->users)
	{
		struct task *u = list_entry(node, struct task, mm_link);
		if (n == max || !u->group || group_seen_before(&mm->users, node, u->group))
			continue;
		struct task *t = pick(u->group, arg);
		if (t) {
			t->refs++;
			out[n++] = t;
		}
	}
	spin_unlock_irqrestore(&sched_lock, f);
	return n;
}

bool task_mm_shared(const struct task *t)
{
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	bool shared = t->mm && (t->mm->users.next != &t->mm_link || t->mm_link.next != &t->mm->users);
	spin_unlock_irqrestore(&sched_lock, f);
	return shared;
}

struct task *task_create_kernel(const char *name, void (*fn)(void *), void *arg)
{
	struct task *t = task_alloc(name, true);
	if (!t)
		return NULL;
	if (!group_alloc(t)) {
		irqflags_t f = spin_lock_irqsave(&sched_lock);
		task_free(t);
		spin_unlock_irqrestore(&sched_lock, f);
		return NULL;
	}
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

uint64_t task_rlimit(unsigned r)
{
	struct task *t = current_task();
	return t->group && r < RLIM_NLIMITS ? READ_ONCE(t->group->rlim[r].cur) : RLIM_INFINITY;
}

unsigned task_list_tgids(int *out, unsigned max)
{
	unsigned n = 0;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	for (struct task *l = task_next_process(NULL); l; l = task_next_process(l), n++)
		if (n < max)
			out[n] = l->group->tgid;
	spin_unlock_irqrestore(&sched_lock, f);
	return n;
}

unsigned task_list_tids(int tgid, int *out, unsigned max)
{
	unsigned n = 0;
	irqflags_t f = spin_lock_irqsave(&sched_lock);
	struct thread_group *g = group_by_tgid(tgid);
	for (struct task *t = g ? task_next_thread(g, NULL) : NULL; t; t = task_next_thread(g, t))
		if (n++ < max)
			out[n - 1] = t->pid;
	spin_unlock_irqrestore(&sched_lock, f);
	return n;
}
