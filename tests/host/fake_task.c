/* Fakes for the host build of kernel/sig and kernel/mm/memory_failure.c: a current task
 * (switchable among several fake tasks that own address spaces), user memory that is host
 * memory (a NULL or "kernel" pointer faults), and an exit that records the status instead of
 * leaving (or jumps back into fake_task_take_signal while it runs a delivery). */
#include "fake_task.h"
#include "arch/context.h"
#include "kerrno.h"
#include "task.h"
#include "sig.h"
#include "vm.h"
#include <setjmp.h>
#include <stdio.h>
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
void task_put(struct task *t) { (void)t; }

/* The fake tasks own their mms through mm->owner, as exec/fork set it in the kernel. */
struct task *task_get_mm_owner(struct mm *mm)
{
	struct task *t = mm->owner;
	return t && t->mm == mm ? t : NULL;
}

static jmp_buf *exit_jmp; /* set while fake_task_take_signal runs a delivery */

__noreturn void task_exit(int wait_status)
{
	fake_exit_status = wait_status;
	if (exit_jmp)
		longjmp(*exit_jmp, 1);
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

/* The host has no task FPU state: the frame gets a recognisable image, and sigreturn reads
 * it back (a bad pointer is -EFAULT, as in the kernel). */
int arch_fpu_to_user(void *ufp)
{
	unsigned char image[ARCH_FPSTATE_SIZE];
	memset(image, 0xf5, sizeof(image));
	return arch_copy_to_user(ufp, image, sizeof(image));
}

int arch_fpu_from_user(const void *ufp)
{
	unsigned char image[ARCH_FPSTATE_SIZE];
	return ufp ? arch_copy_from_user(image, ufp, sizeof(image)) : 0;
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
const struct vfs_node_ops *fake_node_ops[FAKE_NODES_MAX];
void *fake_node_priv[FAKE_NODES_MAX];
const char *fake_node_path[FAKE_NODES_MAX];
int fake_nodes;

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

struct task *fake_task_new(int pid, struct mm *mm, int kill_policy, bool catch_sigbus)
{
	struct task *t = calloc(1, sizeof(*t));
	if (!t || sig_task_init(t)) {
		free(t);
		return NULL;
	}
	t->pid = pid;
	snprintf(t->name, sizeof(t->name), "task%d", pid);
	t->mm = mm;
	t->mf_kill = (enum mf_kill_policy)kill_policy;
	t->mf_pfn = ~(pfn_t)0;
	if (mm)
		mm->owner = t;
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

void fake_task_free(struct task *t)
{
	if (t->mm && t->mm->owner == t)
		t->mm->owner = NULL;
	sig_exit(t);
	free(t);
}

int fake_task_take_signal(struct task *t, struct ksiginfo *info)
{
	static uint8_t ustack[FAKE_USTACK] __attribute__((aligned(16)));
	struct user_regs regs = {.rip = 0x1234, .rsp = (uint64_t)(ustack + FAKE_USTACK)};
	struct task *was = fake_current;
	jmp_buf jb;
	volatile int ret = 0;

	memset(info, 0, sizeof(*info));
	fake_current = t;
	exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		sig_deliver(&regs);
		if (regs.rip == FAKE_HANDLER) {
			memcpy(info, (const void *)regs.rsi, sizeof(*info));
			ret = (int)regs.rdi;
		}
	} else {
		ret = -(fake_exit_status & 0x7f);
	}
	exit_jmp = NULL;
	fake_current = was;
	return ret;
}

/* The boot information arch/x86_64/setup.c fills in; the host has an empty command line
 * (memory_failure_init reads mf.trace from it). */
#include "boot_info.h"
struct boot_info boot_info;
