/* The test build's entry functions: the same as arch/x86_64/context.c's weak ones, except
 * that a CPU with test hooks installed (entry_set_test_hooks) goes to the hooks instead. The
 * check on every syscall and trap exists only in this build of the kernel. */
#include "arch/cpu.h"
#include "entry_hooks.h"

static const struct entry_test_hooks *test_hooks[MAX_CPUS];

static const struct entry_test_hooks *hooks(void)
{
	return test_hooks[arch_cpu_id()];
}

void entry_set_test_hooks(const struct entry_test_hooks *h)
{
	test_hooks[arch_cpu_id()] = h;
}

void entry_syscall(struct user_regs *r)
{
	const struct entry_test_hooks *h = hooks();
	if (h && h->syscall)
		h->syscall(r);
	else
		syscall_dispatch(r);
}

void entry_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr, int err)
{
	const struct entry_test_hooks *h = hooks();
	if (h && h->user_trap)
		h->user_trap(r, trap, addr, err);
	else
		task_user_trap(r, trap, addr, err);
}

int entry_mm_fault(vaddr_t addr, unsigned access)
{
	const struct entry_test_hooks *h = hooks();
	if (h && h->mm_fault)
		return h->mm_fault(addr, access);
	return mm_handle_user_fault(addr, access);
}

void entry_schedule_tail(void)
{
	const struct entry_test_hooks *h = hooks();
	if (h && h->schedule_tail)
		h->schedule_tail();
	else if (!h)
		task_schedule_tail();
}

void entry_exit_work(struct user_regs *r)
{
	const struct entry_test_hooks *h = hooks();
	if (h && h->exit_to_user)
		h->exit_to_user(r);
	else if (!h)
		task_exit_to_user(r);
}
