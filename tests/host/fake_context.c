/* Fakes of include/arch/context.h, uregs.h and sigframe.h for host tests (see
 * fake_context.h): the fake CPU's current task and kernel stack, context switches that come
 * back to fake_run, the fake register layout and signal frame, and user copies on host
 * memory. */
#include "fake_context.h"
#include "fake_sigframe.h"
#include "fake_arch.h"
#include "../../include/arch/context.h"
#include "../../include/arch/uregs.h"
#include "../../include/entry.h"
#include "../../include/kerrno.h"
#include "../../include/task.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arch_sigframe fake_sigframe_req;
struct fake_sigframe *fake_sigframe_at;
unsigned fake_sigframes;
static void *kstack; /* the running task's kernel stack (arch_set_kernel_stack) */
static uint64_t ustack[2048]; /* the user stack fake_syscall_regs gives a task without one */
static jmp_buf *switch_jmp;

/* ---- user memory ---- */

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

long arch_strncpy_from_user(char *dst, const char *usrc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!user_ok(usrc + i, 1))
			return -EFAULT;
		if (!(dst[i] = usrc[i]))
			return (long)i;
	}
	return -ENAMETOOLONG;
}

int arch_clear_user(void *udst, size_t n)
{
	if (!user_ok(udst, n))
		return -EFAULT;
	memset(udst, 0, n);
	return 0;
}

int arch_user_load_u32(const uint32_t *uaddr, uint32_t *val)
{
	if (!user_ok(uaddr, 4) || ((uintptr_t)uaddr & 3))
		return -EFAULT;
	*val = __atomic_load_n(uaddr, __ATOMIC_SEQ_CST);
	return 0;
}

int arch_user_cmpxchg_u32(uint32_t *uaddr, uint32_t old, uint32_t new, uint32_t *cur)
{
	if (!user_ok(uaddr, 4) || ((uintptr_t)uaddr & 3))
		return -EFAULT;
	__atomic_compare_exchange_n(uaddr, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	*cur = old;
	return 0;
}

/* ---- the fake CPU ---- */

struct task *arch_current_task(void) { return fake_current; }
void arch_set_current_task(struct task *t) { fake_current = t; }
void arch_set_kernel_stack(void *stack_base) { kstack = stack_base; }

struct user_regs *arch_current_user_regs(void)
{
	return kstack ? (struct user_regs *)((char *)kstack + KSTACK_SIZE) - 1 : NULL;
}

void arch_context_switch(struct arch_context *prev, struct arch_context *next)
{
	(void)prev, (void)next;
	if (!switch_jmp) {
		fprintf(stderr, "fake arch: a task switched away outside fake_run\n");
		abort();
	}
	longjmp(*switch_jmp, 1);
}

bool fake_run(void (*fn)(void *), void *arg)
{
	jmp_buf jb, *outer = switch_jmp;
	switch_jmp = &jb;
	if (setjmp(jb)) {
		switch_jmp = outer;
		task_schedule_tail(); /* what the task switched to does first */
		arch_irq_enable();
		return true;
	}
	fn(arg);
	switch_jmp = outer;
	return false;
}

void arch_context_init_kernel(struct arch_context *ctx, void *stack_base, void (*fn)(void *),
			      void *arg)
{
	(void)fn, (void)arg; /* the fake CPU never starts a kernel task's function */
	memset(ctx, 0, sizeof(*ctx));
	memset((struct user_regs *)((char *)stack_base + KSTACK_SIZE) - 1, 0,
	       sizeof(struct user_regs));
}

struct user_regs *arch_context_init_user(struct arch_context *ctx, void *stack_base,
					 const struct user_regs *regs)
{
	struct user_regs *copy = (struct user_regs *)((char *)stack_base + KSTACK_SIZE) - 1;
	memset(ctx, 0, sizeof(*ctx));
	*copy = *regs;
	return copy;
}

void arch_regs_init_user(struct user_regs *r, uint64_t entry, uint64_t sp)
{
	memset(r, 0, sizeof(*r));
	r->ip = entry;
	r->sp = sp;
}

void arch_set_fs_base(struct arch_context *ctx, uint64_t base) { ctx->fs_base = base; }
void arch_context_set_tls(struct arch_context *ctx, uint64_t base) { ctx->fs_base = base; }

__noreturn void arch_enter_user(const struct user_regs *regs)
{
	(void)regs;
	fprintf(stderr, "fake arch: there is no user mode to enter\n");
	abort();
}

struct user_regs *fake_syscall_regs(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
				    uint64_t a3)
{
	struct user_regs *r = arch_current_user_regs();
	if (!r) {
		fprintf(stderr, "fake arch: the current task has no kernel stack\n");
		abort();
	}
	uint64_t ip = r->ip ? r->ip : 0x1000, sp = r->sp ? r->sp : (uint64_t)(ustack + 2048);
	*r = (struct user_regs){.ip = ip, .sp = sp, .args = {a0, a1, a2, a3}, .nr = nr,
				.ret = (long)nr, .in_syscall = true};
	return r;
}

/* ---- registers ---- */

uint64_t arch_uregs_ip(const struct user_regs *r) { return r->ip; }
uint64_t arch_uregs_sp(const struct user_regs *r) { return r->sp; }
bool arch_uregs_in_syscall(const struct user_regs *r) { return r->in_syscall; }
uint64_t arch_syscall_nr(const struct user_regs *r) { return r->nr; }
void arch_syscall_args(const struct user_regs *r, uint64_t args[ARCH_SYSCALL_ARGS])
{
	memcpy(args, r->args, sizeof(r->args));
}
long arch_syscall_retval(const struct user_regs *r) { return r->ret; }
void arch_syscall_set_retval(struct user_regs *r, long value) { r->ret = value; }

void arch_syscall_restart(struct user_regs *r)
{
	r->ret = (long)r->nr;
	r->ip -= FAKE_SYSCALL_INSN_LEN;
}

void arch_syscall_restart_block(struct user_regs *r)
{
	r->ret = FAKE_NR_RESTART_SYSCALL;
	r->ip -= FAKE_SYSCALL_INSN_LEN;
}

void arch_uregs_set_sp(struct user_regs *r, uint64_t sp) { r->sp = sp; }

/* ---- the signal frame ---- */

int arch_sigframe_setup(struct user_regs *r, const struct arch_sigframe *f)
{
	uint64_t sp = f->stack_top ? f->stack_top : r->sp - FAKE_RED_ZONE;
	struct fake_sigframe fr = {.restorer = f->restorer, .info = *f->info,
				   .uc_stack = f->uc_stack, .uc_sigmask = f->uc_sigmask,
				   .fault_addr = f->fault_addr, .saved = *r};
	struct fake_sigframe *uf = (struct fake_sigframe *)((sp - sizeof(fr)) & ~15ull);
	if (arch_copy_to_user(uf, &fr, sizeof(fr)))
		return -EFAULT;
	fake_sigframe_req = *f;
	fake_sigframe_at = uf;
	fake_sigframes++;
	*r = (struct user_regs){.ip = f->handler, .sp = (uint64_t)uf,
				.args = {(uint64_t)f->sig, (uint64_t)&uf->info, (uint64_t)uf}};
	return 0;
}

int arch_sigframe_restore(struct user_regs *r, struct arch_sigreturn *out)
{
	struct fake_sigframe fr;
	if (arch_copy_from_user(&fr, (const void *)r->sp, sizeof(fr)))
		return -EFAULT;
	*r = fr.saved;
	r->in_syscall = false;
	out->uc_sigmask = fr.uc_sigmask;
	out->fpu_refused = fr.fpu_bad;
	out->regs_refused = r->ip >= USER_VA_END_FAKE;
	return 0;
}
