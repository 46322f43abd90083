/* The portable ends of the arch entry paths: user page faults, user traps that become
 * signals, the work done on every return to user mode, and the start of the first user
 * program (/init). */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/uregs.h"
#include "boot_info.h"
#include "entry.h"
#include "initrd.h"
#include "kerrno.h"
#include "kstring.h"
#include "memory_failure.h"
#include "panic.h"
#include "printk.h"
#include "proc.h"
#include "sig.h"
#include "task.h"
#include "vfs.h"
#include "vm.h"

#define INIT_ARGS_MAX 32 /* as Linux's MAX_INIT_ARGS */

int mm_handle_user_fault(vaddr_t addr, unsigned access)
{
	struct task *t = current_task();
	if (!t || !t->mm)
		return -EFAULT;
	if (access & FAULT_USER)
		t->in_user = false;
	t->min_flt++;
	return vm_fault(t->mm, addr, access, access & FAULT_USER);
}

void task_user_trap(struct user_regs *r, enum user_trap trap, uint64_t addr, int err)
{
	struct task *t = current_task();
	struct ksiginfo i = {0};
	t->in_user = false;
	i.u.fault.addr = addr;
	switch (trap) {
	case UTRAP_PAGE_FAULT:
		if (err == -EHWPOISON) {
			mf_poison_touched(t, addr);
			return;
		}
		if (err == -ENXIO) { /* past the end of the object or file mapped there */
			i.si_signo = SIGBUS, i.si_code = BUS_ADRERR;
			break;
		}
		i.si_signo = err == -ENOMEM ? SIGKILL : SIGSEGV;
		i.si_code = err == -EACCES ? SEGV_ACCERR : SEGV_MAPERR;
		break;
	case UTRAP_DIVIDE:
		i = (struct ksiginfo){.si_signo = SIGFPE, .si_code = FPE_INTDIV};
		i.u.fault.addr = arch_uregs_ip(r);
		break;
	case UTRAP_INVALID_OP:
		i = (struct ksiginfo){.si_signo = SIGILL, .si_code = ILL_ILLOPN};
		i.u.fault.addr = arch_uregs_ip(r);
		break;
	case UTRAP_BREAKPOINT:
		i = (struct ksiginfo){.si_signo = SIGTRAP, .si_code = TRAP_BRKPT};
		break;
	case UTRAP_ALIGNMENT:
		i.si_signo = SIGBUS, i.si_code = BUS_ADRALN;
		break;
	case UTRAP_FPU:
		i.si_signo = SIGFPE, i.si_code = 0;
		break;
	case UTRAP_GENERAL_PROT:
	case UTRAP_OTHER:
		i = (struct ksiginfo){.si_signo = SIGSEGV, .si_code = SI_KERNEL};
		break;
	}
	sig_force(t, &i);
}

/* Whether r holds a syscall's -ERESTART* result (include/kerrno.h) for sig_deliver to turn
 * into a restart or -EINTR. */
static bool restart_pending(const struct user_regs *r)
{
	long ret = arch_syscall_retval(r);
	return arch_uregs_in_syscall(r) && ret >= -ERESTART_RESTARTBLOCK && ret <= -ERESTARTSYS;
}

void task_exit_to_user(struct user_regs *r)
{
	struct task *t = current_task();
	t->in_user = false;
	for (;;) {
		arch_irq_enable();
		if (t->set_child_tid) { /* clone's CLONE_CHILD_SETTID, in the child's own memory */
			int tid = t->pid;
			arch_copy_to_user((void *)t->set_child_tid, &tid, sizeof(tid));
			t->set_child_tid = 0;
		}
		if (task_test_and_clear_flag(t, TIF_MF_NOTIFY))
			mf_task_work(t);
		if (t->flags & TIF_NEED_RESCHED)
			schedule();
		if (sig_pending(t) || (READ_ONCE(t->flags) & TIF_SIGPENDING) || restart_pending(r))
			sig_deliver(r);
		arch_irq_disable();
		if (!(READ_ONCE(t->flags) & (TIF_NEED_RESCHED | TIF_MF_NOTIFY)) && !sig_pending(t)) {
			t->in_user = true;
			return;
		}
	}
}

/* Split "a,b,c" into argv entries (in place); says so when more than max are given. */
static unsigned split_list(char *s, const char **argv, unsigned max)
{
	unsigned n = 0;
	while (*s) {
		if (n == max) {
			printk(KERN_WARNING "init: more than %u run= entries; from \"%s\" on they "
			       "are dropped\n", max, s);
			break;
		}
		argv[n++] = s;
		char *comma = strchr(s, ',');
		if (!comma)
			break;
		*comma = 0;
		s = comma + 1;
	}
	return n;
}

static char init_path[128] = "/init";
static char run_list[512];

/* The first user task: exec /init (or init=PATH) with the run= list as arguments. */
static void init_main(void *unused)
{
	(void)unused;
	const char *argv[INIT_ARGS_MAX + 2] = {init_path};
	unsigned argc = 1 + split_list(run_list, argv + 1, INIT_ARGS_MAX);
	argv[argc] = NULL;
	const char *envp[] = {"HOME=/", "PATH=/bin:/", NULL};
	struct user_regs *regs = arch_current_user_regs(); /* the slot on our kernel stack */
	long err = task_execve(init_path, argv, envp, regs, false);
	if (err)
		panic("cannot run %s: error %ld", init_path, err);
	arch_enter_user(regs);
}

void proc_start_init(void)
{
	if (!initrd_present()) {
		printk(KERN_INFO "proc: no initrd, no user programs to run\n");
		return;
	}
	cmdline_get(boot_info.cmdline, "init", init_path, sizeof(init_path));
	cmdline_get(boot_info.cmdline, "run", run_list, sizeof(run_list));
	struct task *t = task_create_kernel("init", init_main, NULL);
	if (!t || sig_task_init(t) || vfs_init_task_console(t))
		panic("cannot create the init task: out of memory");
	t->group->exit_signal = 0; /* nobody above init to tell */
	sched_start_task(t);
}
