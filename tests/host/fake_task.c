/* Fakes for the host build of kernel/sig and kernel/mm/memory_failure.c: one current task,
 * user memory that is host memory (a NULL or "kernel" pointer faults), and an exit that
 * records the status instead of leaving. */
#include "fake_task.h"
#include "arch/context.h"
#include "kerrno.h"
#include "task.h"
#include <stdlib.h>
#include <string.h>

struct task fake_task_obj = {.pid = 1, .name = "fake"};
struct task *fake_current = &fake_task_obj;
int fake_exit_status = -1;

struct task *current_task(void) { return fake_current; }

void task_set_flag(struct task *t, uint64_t flag) { t->flags |= flag; }

bool task_test_and_clear_flag(struct task *t, uint64_t flag)
{
	bool was = t->flags & flag;
	t->flags &= ~flag;
	return was;
}

void task_wake(struct task *t) { (void)t; }
struct task *task_find(int pid) { return pid == fake_current->pid ? fake_current : NULL; }

__noreturn void task_exit(int wait_status)
{
	fake_exit_status = wait_status;
	exit(100); /* tests that expect an exit run it in a forked child */
}

static bool user_ok(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	return a >= 4096 && a + n >= a && a + n < USER_VA_END_FAKE;
}

int arch_copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (!user_ok(usrc, n))
		return -EFAULT;
	memcpy(dst, usrc, n);
	return 0;
}

int arch_copy_to_user(void *udst, const void *src, size_t n)
{
	if (!user_ok(udst, n))
		return -EFAULT;
	memcpy(udst, src, n);
	return 0;
}

bool arch_regs_sanitize_user(struct user_regs *r)
{
	r->cs = 0x33;
	r->ss = 0x2b;
	r->rflags = (r->rflags & 0xdd5) | 0x202;
	return r->rip < USER_VA_END_FAKE;
}

/* The VFS is not in the host build: remember registered nodes so tests can call them. */
#include "vfs.h"
const struct vfs_node_ops *fake_node_ops[32];
void *fake_node_priv[32];
const char *fake_node_path[32];
int fake_nodes;

int vfs_register_node(const char *path, const struct vfs_node_ops *ops, void *priv)
{
	if (fake_nodes == 32)
		return -ENOMEM;
	fake_node_path[fake_nodes] = path;
	fake_node_ops[fake_nodes] = ops;
	fake_node_priv[fake_nodes++] = priv;
	return 0;
}
