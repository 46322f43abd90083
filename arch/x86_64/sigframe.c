/* The x86-64 signal frame (include/arch/sigframe.h): Linux's struct rt_sigframe with its
 * ucontext and sigcontext, the x87/SSE state above it, and reading it back at rt_sigreturn.
 * kernel/sig decides the handler, mask, siginfo and stack; this file only lays them out.
 *
 * On the user stack, from high to low addresses: the 128-byte red zone below the interrupted
 * RSP (skipped unless the frame goes on an alternate stack), the 512-byte FXSAVE image
 * (64-byte aligned; uc_mcontext.fpstate points at it), then the frame, placed so that RSP is
 * 8 below a 16-byte boundary, as right after a call. The handler's `ret` pops pretcode and
 * lands in sa_restorer, which calls rt_sigreturn with RSP at uc. */
#include "arch/context.h"
#include "arch/sigframe.h"
#include "entry_priv.h"
#include "kerrno.h"
#include "kstring.h"
#include "sig.h"

#define RED_ZONE 128 /* the System V ABI's scratch area below RSP */

struct ksigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* the x87/SSE state, saved above the frame (arch_fpu_to_user) */
	uint64_t reserved1[8];
};

struct kucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct ksigaltstack uc_stack;
	struct ksigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode; /* the handler returns here: sa_restorer */
	struct kucontext uc;
	struct ksiginfo info;
};

_Static_assert(sizeof(struct rt_sigframe) == 440, "Linux's x86-64 rt_sigframe");
_Static_assert(offsetof(struct rt_sigframe, info) == 312, "rt_sigframe.info");
_Static_assert(sizeof(struct ksiginfo) == 128, "siginfo");

static void regs_to_mcontext(const struct user_regs *r, struct ksigcontext *m, uint64_t cr2)
{
	*m = (struct ksigcontext){r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
				  r->rdi, r->rsi, r->rbp, r->rbx, r->rdx, r->rax, r->rcx, r->rsp,
				  r->rip, r->rflags, (uint16_t)r->cs, 0, 0, (uint16_t)r->ss,
				  r->error_code, r->vector, 0, cr2, 0, {0}};
}

static void mcontext_to_regs(const struct ksigcontext *m, struct user_regs *r)
{
	r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11;
	r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14, r->r15 = m->r15;
	r->rdi = m->rdi, r->rsi = m->rsi, r->rbp = m->rbp, r->rbx = m->rbx;
	r->rdx = m->rdx, r->rax = m->rax, r->rcx = m->rcx, r->rsp = m->rsp;
	r->rip = m->rip, r->rflags = m->eflags, r->cs = m->cs, r->ss = m->ss;
	r->vector = 0; /* not a syscall any more: no restart, IRET path */
}

int arch_sigframe_setup(struct user_regs *r, const struct arch_sigframe *f)
{
	uint64_t sp = f->stack_top ? f->stack_top : r->rsp - RED_ZONE;
	uint64_t fpstate = ALIGN_DOWN(sp - ARCH_FPSTATE_SIZE, ARCH_FPSTATE_ALIGN);
	sp = ALIGN_DOWN(fpstate - sizeof(struct rt_sigframe), 16) - 8; /* as after a call */
	struct rt_sigframe fr;
	memset(&fr, 0, sizeof(fr));
	fr.pretcode = f->restorer;
	fr.uc.uc_stack = f->uc_stack;
	regs_to_mcontext(r, &fr.uc.uc_mcontext, f->fault_addr);
	fr.uc.uc_mcontext.fpstate = fpstate;
	fr.uc.uc_sigmask = f->uc_sigmask;
	fr.info = *f->info;
	struct rt_sigframe *uf = (struct rt_sigframe *)sp;
	if (arch_copy_to_user(uf, &fr, sizeof(fr)) || arch_fpu_to_user((void *)fpstate))
		return -EFAULT;
	r->rsp = sp;
	r->rip = f->handler;
	r->rdi = (uint64_t)f->sig;
	r->rsi = (uint64_t)&uf->info;
	r->rdx = (uint64_t)&uf->uc;
	r->rax = 0;
	r->rflags &= ~(RFLAGS_TF | RFLAGS_DF);
	r->vector = 0;
	return 0;
}

int arch_sigframe_restore(struct user_regs *r, struct arch_sigreturn *out)
{
	struct kucontext uc;
	if (arch_copy_from_user(&uc, (void *)r->rsp, sizeof(uc)))
		return -EFAULT;
	mcontext_to_regs(&uc.uc_mcontext, r);
	out->uc_sigmask = uc.uc_sigmask;
	out->fpu_refused = arch_fpu_from_user((const void *)uc.uc_mcontext.fpstate) != 0;
	out->regs_refused = !arch_regs_sanitize_user(r);
	return 0;
}
