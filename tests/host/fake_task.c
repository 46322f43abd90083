/* Fake user tasks for the host build of kernel/mm/memory_failure.c and kernel/sig, on the
 * real scheduler and process code (kernel/proc) and the fake CPU of fake_context.c; and the
 * registration of pseudo-file-system nodes, which the host build keeps for tests to call. */
#include "fake_task.h"
#include "kerrno.h"
#include "task.h"
#include "sig.h"
#include "vm.h"
#include "kmalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct task fake_task_obj = {.pid = 1, .name = "fake"};
struct task *fake_current = &fake_task_obj;

/* The pseudo file systems are not in the host build: remember registered nodes so tests can
 * call them. */
#include "vfs.h"
const struct vfs_node_ops *fake_node_ops[FAKE_NODES_MAX];
void *fake_node_priv[FAKE_NODES_MAX];
const char *fake_node_path[FAKE_NODES_MAX];
int fake_nodes;

/* procfs is not in the host build: there is no /proc/PID directory to drop. */
void vfs_proc_flush(int tgid)
{
	(void)tgid;
}

int vfs_register_node(const char *path, const struct vfs_node_ops *ops, void *priv)
{
	if (fake_nodes == FAKE_NODES_MAX)
		return -ENOMEM;
	fake_node_path[fake_nodes] = path;
	fake_node_ops[fake_nodes] = ops;
	fake_node_priv[fake_nodes++] = priv;
	return 0;
}


/* ---- several fake tasks (memory_failure tests) ---- */

/* The kernel layout of struct sigaction (rt_sigaction), as kernel/sig/signal.c reads it. */
struct fake_sigaction {
	uint64_t handler, flags, restorer, mask;
};
#define FAKE_SA_SIGINFO 0x4
#define FAKE_SA_RESTORER 0x04000000
#define FAKE_SA_NODEFER 0x40000000 /* the fake handler never returns: do not block SIGBUS */
#define FAKE_HANDLER 0x400000ull   /* "user" addresses: never run, only compared */
#define FAKE_RESTORER 0x401000ull
#define FAKE_USTACK 8192

/* A zeroed task with its lists ready, its name and kill policy set. */
static struct task *fake_alloc(int pid, const char *kind, int kill_policy)
{
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pid = pid;
	list_init(&t->run_link);
	list_init(&t->mm_link);
	list_init(&t->thread_link);
	snprintf(t->name, sizeof(t->name), "%s%d", kind, pid);
	t->mf_kill = (enum mf_kill_policy)kill_policy;
	t->mf_pfn = ~(pfn_t)0;
	return t;
}

struct task *fake_task_new(int pid, struct mm *mm, int kill_policy, bool catch_sigbus)
{
	struct task *t = fake_alloc(pid, "task", kill_policy);
	if (!t)
		return NULL;
	if (sig_task_init(t) || task_group_init(t)) {
		sig_exit(t);
		free(t);
		return NULL;
	}
	if (mm) {
		mm_get(mm);
		task_set_mm(t, mm);
	}
	if (catch_sigbus) {
		struct fake_sigaction sa = {FAKE_HANDLER,
					    FAKE_SA_SIGINFO | FAKE_SA_RESTORER | FAKE_SA_NODEFER,
					    FAKE_RESTORER, 0};
		struct task *was = fake_current;
		fake_current = t;
		sys_rt_sigaction(SIGBUS, &sa, NULL, 8);
		fake_current = was;
	}
	return t;
}

struct task *fake_thread_new(struct task *leader, int pid, int kill_policy, bool catch_sigbus)
{
	(void)catch_sigbus; /* the actions are the process's */
	struct task *t = fake_alloc(pid, "thread", kill_policy);
	if (!t)
		return NULL;
	if (sig_clone(t, leader, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)) {
		free(t);
		return NULL;
	}
	t->group = leader->group;
	t->group->refs++;
	list_add_tail(&t->thread_link, &t->group->threads);
	t->group->nr_threads++;
	if (leader->mm) {
		mm_get(leader->mm);
		task_set_mm(t, leader->mm);
	}
	return t;
}

void fake_task_free(struct task *t)
{
	struct mm *mm = t->mm;
	if (mm) {
		task_set_mm(t, NULL);
		mm_put(mm);
	}
	struct thread_group *g = t->group;
	list_del(&t->thread_link);
	sig_exit(t);
	if (g && --g->refs == 0)
		kfree(g);
	free(t);
}

static void deliver(void *regs) { sig_deliver(regs); }

int fake_task_take_signal(struct task *t, struct ksiginfo *info)
{
	static uint8_t ustack[FAKE_USTACK] __attribute__((aligned(16)));
	struct user_regs regs = {.ip = 0x1234, .sp = (uint64_t)(ustack + FAKE_USTACK)};
	struct task *was = fake_current;
	int ret = 0;

	memset(info, 0, sizeof(*info));
	fake_current = t;
	if (fake_run(deliver, &regs)) {
		ret = -(t->exit_code & 0x7f); /* task_exit switched away from it for good */
	} else if (regs.ip == FAKE_HANDLER) {
		memcpy(info, (const void *)regs.args[1], sizeof(*info));
		ret = (int)regs.args[0];
	}
	fake_current = was;
	return ret;
}

/* The boot information arch/x86_64/setup.c fills in; the host has an empty command line
 * (memory_failure_init reads mf.trace from it). */
#include "boot_info.h"
struct boot_info boot_info;
