/* The x86-64 user ABI for portable code (include/arch/uregs.h): Linux's syscall convention
 * (number in rax; arguments in rdi, rsi, rdx, r10, r8, r9; result in rax), syscall restart,
 * and arch_prctl, the one syscall that only x86-64 has (the FS base that TLS uses). */
#include "arch/context.h"
#include "arch/mmu.h"
#include "arch/uregs.h"
#include "kerrno.h"
#include "syscall.h"
#include "task.h"
#include "uregs.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

uint64_t arch_uregs_ip(const struct user_regs *r) { return r->rip; }
uint64_t arch_uregs_sp(const struct user_regs *r) { return r->rsp; }
bool arch_uregs_in_syscall(const struct user_regs *r) { return r->vector == SYSCALL_VECTOR; }

/* syscall.S keeps the number in the error-code slot, as Linux keeps orig_ax. */
uint64_t arch_syscall_nr(const struct user_regs *r) { return r->error_code; }

void arch_syscall_args(const struct user_regs *r, uint64_t args[ARCH_SYSCALL_ARGS])
{
	args[0] = r->rdi;
	args[1] = r->rsi;
	args[2] = r->rdx;
	args[3] = r->r10; /* rcx holds the return RIP after SYSCALL */
	args[4] = r->r8;
	args[5] = r->r9;
}

long arch_syscall_retval(const struct user_regs *r) { return (long)r->rax; }
void arch_syscall_set_retval(struct user_regs *r, long value) { r->rax = (uint64_t)value; }

void arch_syscall_restart(struct user_regs *r)
{
	r->rax = r->error_code;
	r->rip -= SYSCALL_INSN_LEN;
}

#define NR_RESTART_SYSCALL 219

void arch_syscall_restart_block(struct user_regs *r)
{
	r->rax = NR_RESTART_SYSCALL;
	r->rip -= SYSCALL_INSN_LEN;
}

void arch_uregs_set_sp(struct user_regs *r, uint64_t sp) { r->rsp = sp; }

/* arch_prctl(code, addr): set or read the FS base. A base outside user space is -EPERM, as on
 * Linux (WRMSR would #GP on a non-canonical one). */
static long sys_arch_prctl(const struct syscall_args *a)
{
	struct task *t = current_task();
	uint64_t code = a->arg[0], addr = a->arg[1];
	if (code == ARCH_SET_FS) {
		if (addr >= USER_VA_END)
			return -EPERM;
		arch_set_fs_base(&t->ctx, addr);
		return 0;
	}
	if (code == ARCH_GET_FS)
		return arch_copy_to_user((void *)addr, &t->ctx.fs_base, 8) ? -EFAULT : 0;
	return -EINVAL;
}
SYSCALL_DEFINE(158, sys_arch_prctl);
