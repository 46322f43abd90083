/* Weak stand-ins for the portable entry hooks (include/entry.h) so the kernel links and boots
 * before kernel/proc, kernel/mm and kernel/sig provide the real ones; a strong definition
 * anywhere replaces each of them. Delete this file once all of them exist. */
#include "entry.h"
#include "kerrno.h"
#include "panic.h"
#include "printk.h"

/* No address spaces yet: every user address is unmapped. */
__attribute__((weak)) int mm_handle_user_fault(vaddr_t addr, unsigned access)
{
	(void)addr;
	(void)access;
	return -EFAULT;
}

/* No tasks to signal: a user trap cannot be handled. */
__attribute__((weak)) void task_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr,
					  int err)
{
	panic("user trap %d at rip %#lx (addr %#lx, err %d) and no task code to handle it", trap,
	      r->rip, addr, err);
}

/* No syscalls yet: everything is -ENOSYS. */
__attribute__((weak)) void syscall_dispatch(struct user_regs *r)
{
	r->rax = (uint64_t)-ENOSYS;
}

__attribute__((weak)) void task_exit_to_user(struct user_regs *r)
{
	(void)r;
}

__attribute__((weak)) void sched_tick(void) {}

__attribute__((weak)) void task_schedule_tail(void) {}
