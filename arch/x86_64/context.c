/* Tasks on x86-64: kernel-stack layout, context switch (callee-saved registers, FS base and
 * the FXSAVE image of x87/SSE state), the first run of new tasks, user register set-up and
 * sanitising, the SYSCALL MSRs, and the C half of the return-to-user path.
 *
 * Kernel stack layout. Every task's kernel stack [base, base + KSTACK_SIZE) keeps its top
 * UREGS_SIZE bytes for a struct user_regs: SYSCALL entry builds it there, and so does the
 * CPU (TSS.RSP0 = top) for an interrupt or exception from user mode, because the frame is
 * exactly that size. arch_current_user_regs() is therefore gs:kernel_rsp - UREGS_SIZE. The
 * kernel call chain grows below it. A task switched out keeps six callee-saved registers
 * and a return address on its stack; ctx->rsp points at them.
 *
 * FPU/SSE state is saved on every switch out and restored on every switch in (no lazy
 * switching). The kernel is built with -mgeneral-regs-only and never touches these
 * registers, so the live state always belongs to the task that runs. */
#include "arch/context.h"
#include "arch/cpu.h"
#include "arch/mmu.h"
#include "asm_macros.h"
#include "entry_priv.h"
#include "kerrno.h"
#include "kstring.h"
#include "panic.h"
#include "printk.h"
#include "x86.h"

/* What a signal frame may set: the arithmetic flags, TF, DF. */
#define RFLAGS_USER_SIGFRAME                                                                       \
	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_TF | RFLAGS_DF |       \
	 RFLAGS_OF)
/* What user mode can never have, whatever the path back (AC and ID it may set itself). */
#define RFLAGS_PRIVILEGED (RFLAGS_IOPL | RFLAGS_NT | RFLAGS_VM | RFLAGS_VIF | RFLAGS_VIP)
/* Cleared on SYSCALL entry. */
#define SYSCALL_FMASK (RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT | RFLAGS_IOPL)

#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_NE BIT(5)

#define FXSAVE_FCW 0	/* x87 control word */
#define FXSAVE_MXCSR 24 /* SSE control and status */
#define FCW_DEFAULT 0x037f
#define MXCSR_DEFAULT 0x1f80
#define BAD_RETURN_LIMIT 64 /* the portable code failed to fix a task this often in a row */

/* SYSRET loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8 (RPL 3 forced);
 * SYSCALL loads CS from STAR[47:32] and SS from it + 8. */
#define STAR_VALUE (((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_KCODE << 32))

_Static_assert(sizeof(struct user_regs) == UREGS_SIZE, "user_regs size");
_Static_assert(sizeof(struct trap_frame) == UREGS_SIZE, "trap_frame size");
_Static_assert(offsetof(struct user_regs, rcx) == UREGS_RCX, "rcx");
_Static_assert(offsetof(struct user_regs, r11) == UREGS_R11, "r11");
_Static_assert(offsetof(struct user_regs, vector) == UREGS_VECTOR, "vector");
_Static_assert(offsetof(struct user_regs, rip) == UREGS_RIP, "rip");
_Static_assert(offsetof(struct user_regs, cs) == UREGS_CS, "cs");
_Static_assert(offsetof(struct user_regs, rflags) == UREGS_RFLAGS, "rflags");
_Static_assert(offsetof(struct user_regs, rsp) == UREGS_RSP, "rsp");
_Static_assert(offsetof(struct user_regs, ss) == UREGS_SS, "ss");
_Static_assert(offsetof(struct trap_frame, rip) == UREGS_RIP, "trap_frame rip");
_Static_assert(offsetof(struct trap_frame, ss) == UREGS_SS, "trap_frame ss");
_Static_assert(ASM_SEL_UCODE == SEL_UCODE && ASM_SEL_UDATA == SEL_UDATA, "selectors");
_Static_assert(SEL_UCODE32 + 16 == SEL_UCODE && SEL_UCODE32 + 8 == SEL_UDATA, "SYSRET order");
_Static_assert(ASM_CPU_LOCAL_KERNEL_RSP == CPU_LOCAL_KERNEL_RSP, "kernel_rsp");
_Static_assert(ASM_CPU_LOCAL_USER_RSP == CPU_LOCAL_USER_RSP, "user_rsp");
_Static_assert(ASM_SYSCALL_VECTOR == SYSCALL_VECTOR, "syscall vector");
_Static_assert(ASM_VEC_NMI == VEC_NMI && ASM_VEC_DF == VEC_DF && ASM_VEC_MC == VEC_MC, "vectors");
_Static_assert(offsetof(struct cpu_local, kernel_rsp) == CPU_LOCAL_KERNEL_RSP, "cpu_local");
_Static_assert(offsetof(struct cpu_local, user_rsp_scratch) == CPU_LOCAL_USER_RSP, "cpu_local");
_Static_assert(offsetof(struct cpu_local, current) == CPU_LOCAL_CURRENT, "cpu_local");
_Static_assert(offsetof(struct arch_context, fpu) % 16 == 0, "FXSAVE area alignment");

extern char syscall_entry[], kernel_task_start[], user_task_start[];
void arch_switch_stacks(uint64_t *save_rsp, uint64_t new_rsp);
__noreturn void enter_user_frame(struct user_regs *top);

struct entry_stats entry_stats;
uint8_t entry_smap_enabled;

/* ---- FPU/SSE state ---- */

static void fxsave(uint8_t *area)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])area));
}
static void fxrstor(const uint8_t *area)
{
	__asm__ volatile("fxrstor64 %0" ::"m"(*(const uint8_t(*)[512])area));
}

/* The state FNINIT leaves, with SSE exceptions masked (MXCSR 0x1f80). */
static void fpu_default_image(uint8_t *area)
{
	memset(area, 0, sizeof(((struct arch_context *)0)->fpu));
	uint16_t fcw = FCW_DEFAULT;
	uint32_t mxcsr = MXCSR_DEFAULT;
	memcpy(area + FXSAVE_FCW, &fcw, sizeof(fcw));
	memcpy(area + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
}

/* The default state's image, made once (every CPU loads the same). */
static uint8_t default_image[512] __attribute__((aligned(16)));
static bool default_image_ready;

/* Load the default state into this CPU's registers (a fresh program, a signal handler). */
static void fpu_load_default(void)
{
	if (!__atomic_load_n(&default_image_ready, __ATOMIC_ACQUIRE)) {
		fpu_default_image(default_image); /* every CPU writes the same bytes */
		__atomic_store_n(&default_image_ready, true, __ATOMIC_RELEASE);
	}
	fxrstor(default_image);
}

/* MXCSR bits this CPU accepts (FXSAVE's MXCSR_MASK; 0 there means the SDM's default
 * 0xffbf). FXRSTOR of an image with any other bit set raises #GP. */
#define FXSAVE_MXCSR_MASK 28
static uint32_t mxcsr_mask;

static void fpu_learn_mxcsr_mask(void)
{
	uint8_t image[512] __attribute__((aligned(16)));
	uint32_t m;
	fxsave(image);
	memcpy(&m, image + FXSAVE_MXCSR_MASK, sizeof(m));
	mxcsr_mask = m ? m : 0xffbf;
}

/* ---- FPU state in signal frames (see entry_priv.h) ---- */

/* FXSAVE straight into user memory (64-byte aligned), with a fixup: 0 or -EFAULT. Saves a
 * 512-byte copy through the kernel stack, as Linux's signal frames do. */
static int fxsave_to_user(void *ufp)
{
	int err = 0;
	if ((uint64_t)ufp >= USER_VA_END - ARCH_FPSTATE_SIZE)
		return -EFAULT;
	user_access_begin();
	__asm__ volatile("1: fxsave64 (%1)\n"
			 ASM_FAULT_TO("%0", "%2")
			 : "+r"(err)
			 : "r"(ufp), "i"(-EFAULT)
			 : "memory");
	user_access_end();
	return err;
}

int arch_fpu_to_user(void *ufp)
{
	/* The live state is the task's own: the kernel never uses the FPU. */
	if (fxsave_to_user(ufp))
		return -EFAULT;
	fpu_load_default(); /* the handler starts clean, as on Linux */
	return 0;
}

int arch_fpu_from_user(const void *ufp)
{
	uint8_t image[ARCH_FPSTATE_SIZE] __attribute__((aligned(16)));
	uint32_t mxcsr;
	if (!ufp) {
		fpu_load_default();
		return 0;
	}
	if (arch_copy_from_user(image, ufp, sizeof(image)))
		return -EFAULT;
	memcpy(&mxcsr, image + FXSAVE_MXCSR, sizeof(mxcsr));
	mxcsr &= mxcsr_mask; /* a forged reserved bit would make FXRSTOR fault in the kernel */
	memcpy(image + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
	fxrstor(image);
	return 0;
}

/* ---- per-CPU set-up ---- */

/* SYSCALL MSRs, FPU and SSE on this CPU. Every CPU, at start-up, interrupts off. */
void entry_init_cpu(void)
{
	wrmsr(MSR_STAR, STAR_VALUE);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, SYSCALL_FMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	write_cr0((read_cr0() & ~(CR0_TS | CR0_EM)) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	__asm__ volatile("fninit");
	fpu_load_default();
	fpu_learn_mxcsr_mask();
	wrmsr(MSR_FS_BASE, 0);
	entry_smap_enabled = cpu_features.smap;
}

/* ---- where the entry code goes: the portable functions ----
 * Weak, so that the test build of the kernel (tests/ktest/x86_64/entry_hooks.c) can replace
 * them with versions that route a CPU to an in-kernel test's hooks. The production kernel
 * calls straight through, with no check on the way. */

__attribute__((weak)) void entry_syscall(struct user_regs *r)
{
	syscall_dispatch(r);
}

__attribute__((weak)) void entry_user_trap(struct user_regs *r, enum user_trap trap,
					   uint64_t addr, int err)
{
	task_user_trap(r, trap, addr, err);
}

__attribute__((weak)) int entry_mm_fault(vaddr_t addr, unsigned access)
{
	return mm_handle_user_fault(addr, access);
}

__attribute__((weak)) void entry_schedule_tail(void)
{
	task_schedule_tail();
}

__attribute__((weak)) void entry_exit_work(struct user_regs *r)
{
	task_exit_to_user(r);
}

/* Make the frame safe to return to user mode with: user selectors, no privileged flags,
 * interrupts on. False when RIP is not a user address (the task must be told instead). */
static bool regs_return_ok(struct user_regs *r)
{
	r->cs = SEL_UCODE;
	r->ss = SEL_UDATA;
	r->rflags = (r->rflags & ~RFLAGS_PRIVILEGED) | RFLAGS_IF | RFLAGS_FIXED;
	return r->rip < USER_VA_END;
}

/* The return-to-user work: entry_exit_work (task_exit_to_user), then the
 * safety check; a RIP that user mode cannot run (e.g. a signal handler address past the
 * user half) becomes a #GP for the task, as a faulting IRET would. Interrupts off on entry
 * and return. */
void entry_exit_to_user(struct user_regs *r)
{
	for (unsigned tries = 0;; tries++) {
		entry_exit_work(r);
		arch_irq_disable();
		if (regs_return_ok(r)) {
			poison_trap_exit_to_user(r);
			return;
		}
		entry_stats.bad_return++;
		if (tries >= BAD_RETURN_LIMIT)
			fault_report_and_panic((struct trap_frame *)r, "task keeps a non-user RIP");
		arch_irq_enable();
		entry_user_trap(r, UTRAP_GENERAL_PROT, r->rip, 0);
		arch_irq_disable();
	}
}

/* The syscall's return work; 1 when SYSRETQ can return (see syscall.S), 0 for IRETQ. */
int entry_syscall_exit(struct user_regs *r)
{
	entry_exit_to_user(r);
	bool ok = r->rcx == r->rip && r->r11 == r->rflags && r->cs == SEL_UCODE &&
		  r->ss == SEL_UDATA && r->rip < USER_VA_END &&
		  !(r->rflags & (RFLAGS_TF | RFLAGS_RF));
	if (ok)
		entry_stats.sysret++;
	else
		entry_stats.syscall_iret++;
	return ok;
}

__noreturn void kernel_task_returned(void)
{
	panic("a kernel task's function returned (it must call task_exit)");
}

/* ---- the arch/context.h interface ---- */

void arch_context_switch(struct arch_context *prev, struct arch_context *next)
{
	fxsave(prev->fpu);
	fxrstor(next->fpu);
	wrmsr(MSR_FS_BASE, next->fs_base);
	arch_switch_stacks(&prev->rsp, next->rsp);
}

/* A stack that looks switched out just before start; returns the saved RSP. */
static uint64_t build_stack(void *stack_base, void *start, uint64_t r12, uint64_t r13)
{
	uint64_t top = (uint64_t)stack_base + KSTACK_SIZE;
	uint64_t *sp = (uint64_t *)(top - UREGS_SIZE);
	*--sp = (uint64_t)start; /* return address of arch_switch_stacks */
	*--sp = 0;		 /* rbp: ends backtraces */
	*--sp = 0;		 /* rbx */
	*--sp = r12;
	*--sp = r13;
	*--sp = 0; /* r14 */
	*--sp = 0; /* r15 */
	return (uint64_t)sp;
}

void arch_context_init_kernel(struct arch_context *ctx, void *stack_base, void (*fn)(void *),
			      void *arg)
{
	memset((char *)stack_base + KSTACK_SIZE - UREGS_SIZE, 0, UREGS_SIZE);
	ctx->rsp = build_stack(stack_base, kernel_task_start, (uint64_t)fn, (uint64_t)arg);
	ctx->fs_base = 0;
	fpu_default_image(ctx->fpu);
}

/* The new task inherits the caller's live FPU/SSE state and FS base (fork semantics); a
 * fresh program gets defaults from arch_regs_init_user / arch_enter_user / arch_set_fs_base. */
struct user_regs *arch_context_init_user(struct arch_context *ctx, void *stack_base,
					 const struct user_regs *regs)
{
	struct user_regs *copy = (struct user_regs *)((char *)stack_base + KSTACK_SIZE - UREGS_SIZE);
	memcpy(copy, regs, UREGS_SIZE);
	ctx->rsp = build_stack(stack_base, user_task_start, 0, 0);
	ctx->fs_base = rdmsr(MSR_FS_BASE);
	fxsave(ctx->fpu);
	return copy;
}

struct user_regs *arch_current_user_regs(void)
{
	return (struct user_regs *)(this_cpu()->kernel_rsp - UREGS_SIZE);
}

/* Also resets the live FPU/SSE state when r is the running task's own frame (execve). */
void arch_regs_init_user(struct user_regs *r, uint64_t entry, uint64_t sp)
{
	memset(r, 0, sizeof(*r));
	r->rip = entry;
	r->rsp = sp;
	r->cs = SEL_UCODE;
	r->ss = SEL_UDATA;
	r->rflags = RFLAGS_IF | RFLAGS_FIXED;
	if (this_cpu()->kernel_rsp && r == arch_current_user_regs())
		fpu_load_default();
}

bool arch_regs_sanitize_user(struct user_regs *r)
{
	r->rflags = (r->rflags & RFLAGS_USER_SIGFRAME) | RFLAGS_IF | RFLAGS_FIXED;
	r->cs = SEL_UCODE;
	r->ss = SEL_UDATA;
	return r->rip < USER_VA_END;
}

struct task *arch_current_task(void)
{
	struct task *t;
	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(t) : "i"(CPU_LOCAL_CURRENT));
	return t;
}

void arch_set_current_task(struct task *t) { this_cpu()->current = t; }

void arch_set_kernel_stack(void *stack_base)
{
	cpu_set_kernel_stack((uint64_t)stack_base + KSTACK_SIZE);
}

/* A non-canonical base would make WRMSR #GP: such a value is refused (kept unchanged);
 * callers check base < USER_VA_END first (Linux's arch_prctl returns -EPERM). */
void arch_set_fs_base(struct arch_context *ctx, uint64_t base)
{
	if (base >= USER_VA_END) {
		printk(KERN_WARNING "arch_set_fs_base: %#lx is not a user address\n", base);
		return;
	}
	ctx->fs_base = base;
	wrmsr(MSR_FS_BASE, base);
}

void arch_context_set_tls(struct arch_context *ctx, uint64_t base)
{
	if (base < USER_VA_END)
		ctx->fs_base = base;
}

__noreturn void arch_enter_user(const struct user_regs *regs)
{
	arch_irq_disable();
	if (!this_cpu()->kernel_rsp)
		panic("arch_enter_user: no kernel stack set on CPU %u", arch_cpu_id());
	struct user_regs *top = arch_current_user_regs();
	if (top != regs)
		memmove(top, regs, sizeof(*top));
	fpu_load_default();
	enter_user_frame(top);
}
