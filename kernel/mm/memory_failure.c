/* Machine-check recovery meets tasks here (include/mce_hooks.h). This file grows into the
 * portable memory_failure() of issue 6; what exists now is the late-kill path: a task that
 * touches a page whose PTE holds a poison marker gets SIGBUS BUS_MCEERR_AR at that page. */
#include "kerrno.h"
#include "mce_hooks.h"
#include "printk.h"
#include "sig.h"
#include "task.h"

#define POISON_LSB PAGE_SHIFT /* a 4 KiB frame is lost */

void mce_poison_touched(struct task *t, uint64_t addr)
{
	printk(KERN_INFO "memory_failure: task %d (%s) touched poisoned page %#lx: SIGBUS "
			 "BUS_MCEERR_AR\n", t->pid, t->name, addr & PAGE_MASK);
	sig_send_mceerr(t, BUS_MCEERR_AR, addr & PAGE_MASK, POISON_LSB);
}

void mce_task_work(struct task *t, struct user_regs *regs)
{
	(void)regs;
	printk(KERN_WARNING "memory_failure: task %d: action-required recovery is not wired yet\n",
	       t->pid);
}

long madvise_special(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
	(void)mm, (void)addr, (void)len, (void)advice;
	return -EINVAL; /* MADV_HWPOISON / MADV_SOFT_OFFLINE arrive with memory_failure */
}
